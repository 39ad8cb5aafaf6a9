"""Benchmark: stance classification + every support metric on 1,000,000 interactions.

The input is generated here with numpy (seeded): a crisis-centred collection like one made by a
keyword/mention search. ~200k accounts, posts over 14 + 5 + 14 days with a crisis peak, ~30k
distinct texts drawn with Zipf-like frequencies from templates (support, critique, neutral news,
two-target, negation, chatter), replies/mentions/reposts/quotes with ``target_post_id`` links,
follower lists, account bios. The focal account is silent during the crisis.

Usage::

    python bench/support.py                 # 1,000,000 interactions; updates bench/RESULTS.md
    python bench/support.py --n 200000      # a quicker run (RESULTS.md untouched)
    python bench/support.py --child N SEED  # (internal) run one measured child
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

FOCAL, INST = "inspector_lane", "northshire_police"
CRISIS = ("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z")
N_DEFAULT = 1_000_000
SEED = 20140214
TITLE = "Stance and support"

SUPPORT = [
    "I stand with @{f}",
    "Bring back @{f}",
    "Thank you for everything @{f}",
    "Great work @{f}",
    "@{f} stay strong mate",
    "We need more officers like @{f}",
    "@{f} did nothing wrong",
    "Solidarity with @{f}",
    "@{f} you are a credit to the service",
    "Respect to @{f}",
]
CRITIQUE = [
    "@{f} should resign",
    "@{f} is a disgrace to the uniform",
    "Good riddance @{f}",
    "@{f} unprofessional as ever",
    "Sack @{f} now",
    "@{f} arrogant attention seeker",
]
INSTITUTION = [
    "Shame on @{i} for silencing @{f}",
    "@{i} suspending @{f} is a disgrace",
    "@{i} you should be ashamed",
    "No confidence in @{i}",
    "Well done @{i}",
    "@{i} thank you for your hard work",
    "@{f} ignore them, @{i} should be ashamed",
    "I stand with @{f} against @{i}",
]
NEUTRAL = [
    "BREAKING: @{i} confirm an officer's account is suspended",
    "Statement from @{i} on @{f}",
    "@{f} account offline according to a spokesperson",
    "Latest on @{f} and @{i}",
    "@{i} press conference at {h}pm",
    "Report on radio about @{f} this morning",
]
NEGATION = [
    "@{f} is not a disgrace",
    "I do not stand with @{f}",
    "@{f} shouldn't resign",
    "Not a good look for @{i}",
]
CHATTER = [
    "@{u} see you at the match",
    "@{u} agreed",
    "@{u} what a lovely day",
    "@{u} coffee later?",
    "@{u} nice one",
    "@{u} that is awful news",
    "@{u} happy birthday!",
]
FILLERS = [
    "",
    "",
    "!",
    " #policing",
    " #mentalhealth",
    " https://t.co/x{n}",
    " today",
    " \U0001f44f",
    " honestly",
    " - well said",
    " #standwithlane",
    " {n}",
]
_WORDS = """
again really so honestly today tonight now this that here please everyone folks mate all week
morning news story thread account force police officer inspector public service community people
town city colleagues friends family job work law health patients care twitter online statement
decision rules policy question answer time long short
"""
VOCAB = np.array(_WORDS.split(), dtype=object)
BIOS = [
    "Crime reporter at the Echo",
    "Local news and radio",
    "Retired police sergeant",
    "Nurse, views my own",
    "dad, runner",
    "Mum of two",
    "",
    "Official account of a council",
    "Mental health nurse",
    "Freelance journalist",
    "Football, beer, dogs",
]


def generate(n: int, seed: int) -> dict[str, pd.DataFrame]:
    """Return canonical posts, interactions, follows and accounts with about ``n`` interactions."""
    from netsupport.interactions import interactions_from_posts
    from netsupport.windows import Windows

    rng = np.random.default_rng(seed)
    w = Windows.from_crisis(*CRISIS, 14, 14)
    n_acc = max(2000, n // 5)
    handles = np.array([f"u{i:06d}" for i in range(n_acc)], dtype=object)

    # a pool of ~30k distinct texts (fewer for small runs), Zipf-like use frequencies
    n_texts = min(60_000, max(3000, n // 16))
    families = [SUPPORT, CRITIQUE, INSTITUTION, NEUTRAL, NEGATION, CHATTER]
    fam_p = np.array([0.30, 0.12, 0.18, 0.12, 0.03, 0.25])
    fam = rng.choice(len(families), size=n_texts, p=fam_p)
    pool = []
    for i, k in enumerate(fam):
        tpl = families[k][rng.integers(len(families[k]))]
        filler = FILLERS[rng.integers(len(FILLERS))]
        text = tpl.format(f=FOCAL, i=INST, u="{u}", h=rng.integers(1, 12)) + filler.format(n=i)
        words = VOCAB[rng.integers(0, len(VOCAB), size=rng.integers(0, 4))]
        pool.append(" ".join([text, *words]))
    pool_arr = np.array(pool, dtype=object)
    weights = 1.0 / np.arange(1, n_texts + 1) ** 0.5
    weights /= weights.sum()

    # posts: about 1.29 interactions per post (mentions, two-target posts)
    n_posts = int(n * 0.775)
    text_idx = rng.choice(n_texts, size=n_posts, p=weights)
    text = pool_arr[text_idx]
    authors = handles[rng.zipf(1.6, size=n_posts) % n_acc]
    # time: baseline 14 d (30%), crisis 5.4 d (55%), after 14 d (15%)
    span = [
        (w.baseline_start, w.crisis_start),
        (w.crisis_start, w.crisis_end),
        (w.crisis_end, w.after_end),
    ]
    which = rng.choice(3, size=n_posts, p=[0.30, 0.55, 0.15])
    starts = np.array([s.value for s, _ in span])[which]
    lens = np.array([(e - s).value for s, e in span])[which]
    # to the second, as the platforms date posts (the store keeps microseconds: nanoseconds
    # would not fit)
    created = pd.to_datetime(
        starts + (rng.random(n_posts) * lens).astype(np.int64), utc=True
    ).floor("s")
    kind = rng.choice(
        np.array(["post", "reply", "repost", "quote"], dtype=object),
        size=n_posts,
        p=[0.50, 0.25, 0.20, 0.05],
    )
    chatter = np.char.find(text.astype(str), "{u}") >= 0
    other = handles[rng.integers(0, n_acc, size=n_posts)]
    text = np.where(chatter, np.char.replace(text.astype(str), "{u}", other.astype(str)), text)
    text = text.astype(object)
    # targets: reposts/quotes/replies point at an earlier post (its author is the target)
    order = np.argsort(created.asi8, kind="stable")
    post_id = np.empty(n_posts, dtype=object)
    post_id[order] = np.array([f"p{i:08d}" for i in range(n_posts)], dtype=object)
    ref = kind != "post"
    rank = np.empty(n_posts, dtype=np.int64)
    rank[order] = np.arange(n_posts)
    back = np.maximum(0, rank - 1 - rng.integers(0, 5000, size=n_posts))
    target_idx = order[back]
    target_post = np.where(ref & (rank > 0), post_id[target_idx], None)
    target_author = np.where(ref & (rank > 0), authors[target_idx], None)
    # a repost of a post carries its text; a repost of the focal account endorses it
    text = np.where(kind == "repost", "", text).astype(object)
    mentions = pd.Series(text).str.findall(r"@(\w+)").str.join(" ").to_numpy(dtype=object)
    posts = pd.DataFrame(
        {
            "platform": "twitter",
            "post_id": post_id,
            "author": authors,
            "author_id": None,
            "created_at": created,
            "text": text,
            "kind": kind,
            "target_post_id": target_post,
            "target_author": target_author,
            "mentions": mentions,
            "hashtags": "",
            "lang": "en",
            "source_file": "bench",
            "source_line": pd.array(np.arange(n_posts), dtype="Int64"),
        }
    )
    # the focal account posts in the baseline and after, silent in the crisis
    fp = 300
    f_time = pd.to_datetime(
        np.concatenate(
            [
                rng.integers(w.baseline_start.value, w.crisis_start.value - 3600 * 10**9, fp // 2),
                rng.integers(w.crisis_end.value + 30 * 3600 * 10**9, w.after_end.value, fp // 2),
            ]
        ),
        utc=True,
    ).floor("s")
    focal_posts = pd.DataFrame(
        {
            "platform": "twitter",
            "post_id": [f"f{i:05d}" for i in range(fp)],
            "author": FOCAL,
            "author_id": None,
            "created_at": f_time,
            "text": "Thoughts on section 136 today",
            "kind": "post",
            "target_post_id": None,
            "target_author": None,
            "mentions": "",
            "hashtags": "",
            "lang": "en",
            "source_file": "bench",
            "source_line": pd.array(np.zeros(fp, dtype=np.int64), dtype="Int64"),
        }
    )
    posts = pd.concat([posts, focal_posts], ignore_index=True)
    inter = interactions_from_posts(posts)
    n_f = n_acc // 3
    follows = pd.DataFrame(
        {
            "follower": handles[rng.choice(n_acc, size=n_f, replace=False)],
            "followee": FOCAL,
            "observed_at": pd.Series([pd.NaT] * n_f, dtype="datetime64[us, UTC]"),
        }
    )
    accounts = pd.DataFrame(
        {
            "handle": handles,
            "account_id": None,
            "name": None,
            "description": np.array(BIOS, dtype=object)[rng.integers(0, len(BIOS), size=n_acc)],
            "followers_count": pd.array(rng.integers(0, 5000, size=n_acc), dtype="Int64"),
            "role": None,
        }
    )
    return {"posts": posts, "interactions": inter, "follows": follows, "accounts": accounts}


def _cpu() -> float:
    """Return CPU seconds used so far by this process and its finished children (workers)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child(n: int, seed: int) -> None:
    """Generate, then time stance and metrics; print one JSON line of figures."""
    from netsupport.stance import stance_table
    from netsupport.studyfile import CommunityParams, Study, SupportParams
    from netsupport.support import analyse
    from netsupport.windows import Windows

    t0 = time.perf_counter()
    tables = generate(n, seed)
    gen = time.perf_counter() - t0
    study = Study(
        name="bench",
        focal=(FOCAL,),
        institution=(INST,),
        windows=Windows.from_crisis(*CRISIS, 14, 14),
        inputs=(),
        proxies=(),
        markers=("#standwithlane",),
        communities=CommunityParams(algorithm="leiden", seed=42),
        support=SupportParams(bootstrap=1000, seed=42),
    )
    c1, t1 = _cpu(), time.perf_counter()
    st = stance_table(tables, study)
    c2, t2 = _cpu(), time.perf_counter()
    a = analyse(tables, study, stance=st)
    c3, t3 = _cpu(), time.perf_counter()
    posts = tables["posts"]
    texts = posts.loc[posts["post_id"].isin(st.table["post_id"]), "text"].nunique()
    print(
        json.dumps(
            {
                "interactions": len(tables["interactions"]),
                "posts": len(posts),
                "accounts": len(tables["accounts"]),
                "classified": len(st.table),
                "distinct_texts": int(texts),
                "generate_s": gen,
                "stance_s": t2 - t1,
                "metrics_s": t3 - t2,
                "total_s": t3 - t1,
                "stance_cpu_s": c2 - c1,
                "metrics_cpu_s": c3 - c2,
                "communities": a.metrics["mobilisation"].get("n_communities"),
                "engine": a.metrics["mobilisation"].get("engine"),
                "lift": a.metrics["attention"]["focal"]["lift"]["value"],
            }
        )
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(int(argv[1]), int(argv[2]))
        return 0
    from _common import machine, run_measured, update_section

    n = int(argv[argv.index("--n") + 1]) if "--n" in argv else N_DEFAULT
    load_before = os.getloadavg()[0]
    wall, rss, res = run_measured([sys.executable, __file__, "--child", str(n), str(SEED)])
    load_after = os.getloadavg()[0]
    fig = json.loads(res.stdout.strip().splitlines()[-1])
    verdict = "under" if fig["total_s"] < 40 else "OVER"
    cpu = fig["stance_cpu_s"] + fig["metrics_cpu_s"]
    print(
        f"stance + metrics on {fig['interactions']:,} interactions ({fig['classified']:,} towards "
        f"the focal account or institution, {fig['distinct_texts']:,} distinct texts): "
        f"stance {fig['stance_s']:.1f} s, metrics {fig['metrics_s']:.1f} s, total "
        f"{fig['total_s']:.1f} s wall ({verdict} the 40 s target), {cpu:.1f} s CPU; peak RSS "
        f"{rss:.0f} MB; load average {load_before:.1f} -> {load_after:.1f}; input generation "
        f"{fig['generate_s']:.1f} s (not counted)"
    )
    if n != N_DEFAULT:
        return 0
    rows = [
        (
            "stance: classify every interaction (each distinct text once, 2 processes)",
            fig["stance_s"],
            fig["stance_cpu_s"],
        ),
        (
            f"all metrics: units, attention/lift, bootstrap shares (1000 resamples), reputation, "
            f"composition, baseline communities ({fig['engine']}, {fig['communities']:,} "
            f"communities), PageRank, proxies, roles, persistence",
            fig["metrics_s"],
            fig["metrics_cpu_s"],
        ),
    ]
    table = "\n".join(f"| {label} | {w:.1f} | {c:.1f} |" for label, w, c in rows)
    body = f"""
Machine: {machine()}. Command: `python bench/support.py` (seed {SEED}). Load average
{load_before:.1f} before and {load_after:.1f} after the run (other jobs share the 2 cores; CPU
seconds show the work itself).

Input generated in the benchmark (numpy, seeded): {fig["interactions"]:,} interactions from
{fig["posts"]:,} posts by {fig["accounts"]:,} accounts over 14 + 5.4 + 14 days (crisis peak), of
which {fig["classified"]:,} address the focal account or the institution, with
{fig["distinct_texts"]:,} distinct texts among them (support, critique, two-target, negation, news
and chatter templates with fillers and words); a follower list of {fig["accounts"] // 3:,}
accounts; bios for roles.

| stage | wall s | CPU s |
| --- | ---: | ---: |
{table}
| **total (target < 40 s wall)** | **{fig["total_s"]:.1f}** | **{cpu:.1f}** |

Peak RSS of the run (input generation included): {rss:,.0f} MB. Input generation (not counted):
{fig["generate_s"]:.1f} s. Wall time of the child process: {wall:.1f} s.
"""
    update_section(TITLE, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
