"""Generate synthetic case studies with planted truth, written in every import format.

The case is fictional and modelled on the February 2014 timeline that netsupport was built
for: a police inspector (``@inspector_lane``) whose account is suspended by his force
(``@northshire_police``) for five days. Around him the generator plants

- a follow graph with six communities (police colleagues, mental-health clinicians, service
  users and carers, journalists and media, the general public and a small hostile cluster),
  heavy-tailed follower counts, roles and bios;
- a baseline of ordinary activity; a crisis in which the focal account posts nothing while
  mentions and the campaign hashtag ``#standwithlane`` surge, support comes mostly from prior
  ties and travels through two proxy accounts whose posts are widely reposted, the institution
  receives mostly critical replies and media pick the story up a day after citizens; an after
  window in which attention decays but stays above baseline;
- texts from varied templates (support, critique, neutral news, questions, negations such as
  "not a disgrace", two-target posts and noise), so that stance is not trivial.

Everything the generator planted is written to ``truth.json`` beside the inputs: the community
of every account, the stance of every post towards the focal account and the institution, the
proxies, the windows, the attention lift, the account-level stance shares and the first
mentions by role. The inputs are written as twarc2 Twitter API v2 JSONL pages, a personal
archive zip of the focal account, a NodeXL edge CSV for a subset, follower lists and an accounts
CSV, with a ready-to-run ``study.toml``, ``lexicon.toml`` and ``labels.csv``.

The output is a pure function of :class:`SynthConfig`: the same configuration gives the same
bytes (numpy ``default_rng(seed)``, fixed zip timestamps, sorted keys, no wall clock).

Examples
--------
>>> case = generate(SynthConfig(seed=1, accounts=400, interactions=2000, days=7))
>>> len(case.posts["author"]), case.handles[0], case.handles[1]
(2000, 'inspector_lane', 'northshire_police')
>>> case.truth["attention"]["focal"]["lift"] > 1
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..schema import Target
from ..windows import Windows
from . import config, texts, truth, twitter, world
from .config import COMMUNITIES, FOCAL, INSTITUTION, MARKER, Case, SynthConfig, SynthResult
from .truth import _truth, canonical_posts, planted_parameters
from .twitter import (
    ACCOUNTS_NAME,
    ARCHIVE_NAME,
    FOCAL_FOLLOWERS_NAME,
    INSTITUTION_FOLLOWERS_NAME,
    JSONL_NAME,
    NODEXL_NAME,
    PAGE_SIZE,
    _atomic,
    _TweetData,
    _write_accounts,
    _write_archive,
    _write_followers,
    _write_jsonl,
    _write_nodexl,
)
from .world import _Gen

__all__ = [
    "ACCOUNTS_NAME",
    "ARCHIVE_NAME",
    "COMMUNITIES",
    "FOCAL",
    "FOCAL_FOLLOWERS_NAME",
    "INSTITUTION",
    "INSTITUTION_FOLLOWERS_NAME",
    "JSONL_NAME",
    "LABELS_N",
    "LEXICON_TOML",
    "MARKER",
    "NODEXL_NAME",
    "PAGE_SIZE",
    "Case",
    "SynthConfig",
    "SynthResult",
    "canonical_posts",
    "config",
    "generate",
    "planted_parameters",
    "synthesize",
    "texts",
    "truth",
    "twitter",
    "world",
    "write_case",
]


def generate(config: SynthConfig) -> Case:
    """Generate a synthetic case in memory (no files written).

    Parameters
    ----------
    config
        The parameters; the result is a pure function of them.

    Returns
    -------
    Case
        Accounts, follows, posts as column arrays sorted by time, and the planted truth.

    Raises
    ------
    NetsupportError
        If a parameter is out of range.
    """
    config.check()
    case = _Gen(config).run()
    case.truth = _truth(case)
    return case


# ------------------------------------------------------------------------------------------------
# Study file, lexicon, labels, truth; the whole case on disk
# ------------------------------------------------------------------------------------------------

LEXICON_TOML = """\
# Study lexicon for the synthetic #standwithlane case (extends netsupport's default lexicon).
# Written the way a researcher would after reading a sample of the posts: the campaign hashtag,
# the recurring expressions of support and critique in this case that the general default
# lexicon does not know, and the question forms that make a post neutral. Phrases are whole
# lower-case words; "stem*" matches a prefix.

[support]
phrases = [
  "miss you", "miss him", "missing", "we are with you", "let him tweet", "best thing about",
  "more sense", "worth a follow", "worth following", "good to have you back", "glad",
  "keep talking", "honest voices",
]

[critique]
phrases = [
  "good riddance", "about time someone", "lost all respect", "own goal", "above the rules",
  "bigger than the job", "should not be on twitter", "tweet less", "lecturing", "shambles",
  "nobody believes", "lost my trust", "lost a lot of goodwill", "not good enough",
  "stick to policing", "still waiting", "never should have", "too little too late",
]

# Questions and requests for information: neutral unless a support or critique phrase applies.
[neutral]
phrases = [
  "anyone know", "does anyone", "what happened", "is it true", "any update", "any idea",
  "any news", "how do i", "what number", "is there", "when will",
]

[markers]
supportive = ["standwithlane"]
critical = []
"""


def _study_toml(cfg: SynthConfig, windows: Windows) -> str:
    report_dir = cfg.report_dir or f"reports/{cfg.name}"
    w = windows.as_dict()
    inputs = [
        (JSONL_NAME, "twitter-v2", None),
        (ARCHIVE_NAME, "twitter-archive", None),
        (NODEXL_NAME, "nodexl", None),
        (FOCAL_FOLLOWERS_NAME, "followers", FOCAL),
        (INSTITUTION_FOLLOWERS_NAME, "followers", INSTITUTION),
    ]
    lines = [
        "# Synthetic case study written by `netsupport synth` (fictional accounts and posts).",
        f"# Regenerate: netsupport synth --out DIR --seed {cfg.seed} --accounts {cfg.accounts} "
        f"--interactions {cfg.interactions} --days {cfg.days} --focal-share {cfg.focal_share:g}",
        "# What was planted (communities, stance of every post, proxies, lift) is in truth.json.",
        "",
        "[study]",
        f'name = "{cfg.name}"',
        f'focal = ["{FOCAL}"]',
        f'institution = ["{INSTITUTION}"]',
        f'markers = ["#{MARKER}"]',
        f'accounts = "{ACCOUNTS_NAME}"',
        '# declared before the analysis: the questions the case asks (METHODS.md, "Primary and',
        '# exploratory measures"); every other figure in the report is exploratory',
        "primary = [",
        '    "attention_level_change.focal",',
        '    "reputational_change.focal",',
        '    "reputational_change.institution",',
        '    "prior_tie_odds_ratio",',
        "]",
        "",
        "[windows]",
        f'crisis_start = "{w["crisis_start"]}"',
        f'crisis_end = "{w["crisis_end"]}"',
        f"baseline_days = {cfg.days}",
        f"after_days = {cfg.days}",
    ]
    for path, fmt, account in inputs:
        lines += ["", "[[inputs]]", f'path = "{path}"', f'format = "{fmt}"']
        if account:
            lines += [f'account = "{account}"', 'direction = "followers"']
    lines += [
        "",
        "[communities]",
        "# leiden: python-louvain's greedy moves can merge two planted communities around the",
        "# focal account (see docs/case-study.md); leiden refines them and is deterministic too",
        'algorithm = "leiden"',
        "resolution = 1.0",
        "seed = 42",
        "",
        "[stance]",
        'lexicon = "lexicon.toml"',
        'labels = "labels.csv"',
        "",
        "[support]",
        "bootstrap = 1000",
        "seed = 42",
        "",
        "[provenance]",
        "synthetic = true",
        f'method = "generated by netsupport synth (seed {cfg.seed}): fictional accounts and '
        'posts written in each export format"',
        f'collected_from = "{w["baseline_start"][:10]}"',
        f'collected_to = "{w["after_end"][:10]}"',
        'notes = "planted truth in truth.json; no real person is described"',
        "",
        "[output]",
        f'dir = "{report_dir}"',
        "",
    ]
    return "\n".join(lines)


#: Hand codes written with a generated case (a probability sample of its (post, side) units).
LABELS_N = 420


def _labels(case: Case, n: int = LABELS_N) -> Any:
    """Planted stance codes for ``n`` (post, side) units: a probability sample stratified by
    side x window (equal allocation, a simple random sample in each stratum), as a coding
    sheet would draw it; ``inclusion_probability`` = n_h / N_h is written for every code so the
    codes can weight figures back to the data. Units outside the three windows are not drawn."""
    import pandas as pd

    from ..windows import assign_windows

    rng = np.random.default_rng([case.config.seed, 7])
    when = pd.Series(
        pd.to_datetime(case.posts["ts"], unit="s", utc=True), index=case.posts["id"].astype(str)
    )
    rows = []
    for side in (Target.FOCAL.value, Target.INSTITUTION.value):
        for pid, st in case.truth["post_stance"][side].items():
            rows.append((pid, side, st))
    df = pd.DataFrame(rows, columns=["post_id", "target_side", "stance"])
    df["window"] = assign_windows(
        pd.Series(when.reindex(df["post_id"]).to_numpy()), case.windows
    ).to_numpy()
    df = df[df["window"].notna()].astype({"window": object})
    strata = [g for _, g in df.groupby(["target_side", "window"], sort=True)]
    sizes = np.array([len(g) for g in strata])
    take = np.zeros(len(strata), dtype=int)
    left = min(n, len(df))
    while left > 0:  # equal shares; a small stratum gives its remainder to the others
        open_ = np.flatnonzero(take < sizes)
        share = max(left // len(open_), 1)
        for j in open_:
            k = min(share, sizes[j] - take[j], left)
            take[j] += k
            left -= k
            if left == 0:
                break
    picked = []
    for g, k in zip(strata, take, strict=True):
        if k:
            part = g.iloc[np.sort(rng.choice(len(g), size=k, replace=False))].copy()
            part["inclusion_probability"] = round(k / len(g), 6)
            picked.append(part)
    out = pd.concat(picked, ignore_index=True)
    out["sample"] = "probability"
    text = pd.Series(case.posts["text"], index=case.posts["id"].astype(str))
    out["text"] = text.reindex(out["post_id"]).to_numpy()
    out = out.sort_values(["post_id", "target_side"], kind="mergesort").reset_index(drop=True)
    return out[["post_id", "target_side", "stance", "inclusion_probability", "sample", "text"]]


def write_case(case: Case, out_dir: str | Path, *, platforms: bool = False) -> SynthResult:
    """Write a generated case to ``out_dir`` in every import format, with study, lexicon, labels.

    Files: ``tweets.jsonl`` (twarc2 API v2 pages), ``twitter-archive-inspector_lane.zip``
    (personal archive), ``nodexl-standwithlane.csv`` (NodeXL edges), two follower lists,
    ``accounts.csv``, ``study.toml``, ``lexicon.toml``, ``labels.csv`` and ``truth.json``; then
    with ``platforms``, the Mastodon and Telegram files, their studies and a cross-platform study
    (:mod:`netsupport.synth_platforms`), and the Bluesky and Reddit files with a study each
    (:mod:`netsupport.synth_bsky_reddit`).
    """
    from ..textsafe import write_csv, write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = _TweetData(case)
    _write_jsonl(case, data, out / JSONL_NAME)
    _write_archive(case, data, out / ARCHIVE_NAME)
    _write_nodexl(case, data, out / NODEXL_NAME)
    _write_followers(case, case.focal_followers, out / FOCAL_FOLLOWERS_NAME)
    _write_followers(case, case.institution_followers, out / INSTITUTION_FOLLOWERS_NAME)
    _write_accounts(case, out / ACCOUNTS_NAME)
    _atomic(out / "lexicon.toml", LEXICON_TOML.encode("utf-8"))
    write_csv(_labels(case), out / "labels.csv")
    write_json(case.truth, out / "truth.json")
    study_text = _study_toml(case.config, case.windows)
    _atomic(out / "study.toml", study_text.encode("utf-8"))
    platform_files = []
    if platforms:  # Mastodon, Telegram, a cross-platform study; Bluesky, Reddit (issue #16)
        from ..synth_bsky_reddit import write_platforms as write_bluesky_reddit
        from ..synth_platforms import write_platforms

        platform_files = write_platforms(case, out, study_text)
        platform_files += list(write_bluesky_reddit(case, out))
    names = [
        JSONL_NAME,
        ARCHIVE_NAME,
        NODEXL_NAME,
        FOCAL_FOLLOWERS_NAME,
        INSTITUTION_FOLLOWERS_NAME,
        ACCOUNTS_NAME,
        "study.toml",
        "lexicon.toml",
        "labels.csv",
        "truth.json",
        *platform_files,
    ]
    return SynthResult(
        out_dir=out,
        study=out / "study.toml",
        files=tuple((n, (out / n).stat().st_size) for n in names),
        posts=len(case.posts["id"]),
        accounts=len(case.handles),
    )


def synthesize(out_dir: str | Path, config: SynthConfig, *, platforms: bool = False) -> SynthResult:
    """Generate a case from ``config`` and write it to ``out_dir`` (see :func:`write_case`).

    Examples
    --------
    >>> import tempfile
    >>> r = synthesize(tempfile.mkdtemp(), SynthConfig(seed=2, accounts=300, interactions=1000))
    >>> [name for name, size in r.files][:3]
    ['tweets.jsonl', 'twitter-archive-inspector_lane.zip', 'nodexl-standwithlane.csv']
    """
    return write_case(generate(config), out_dir, platforms=platforms)
