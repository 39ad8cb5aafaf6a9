"""Simulation: do the error-corrected stance shares cover a planted share when the naive ones miss?

A population of N posts (one per account) has planted stance shares; a deliberately noisy
classifier with a known confusion matrix predicts every post; a hand-coded sample is drawn
(a simple random sample, or a sample stratified by the predicted class with unequal inclusion
probabilities, as ``netsupport stance --sample`` draws it); netsupport's
:func:`netsupport.stance.validation.corrected_shares` gives the corrected share and its 95%
interval. Over many seeds we count how often the interval covers the planted share, and compare
the naive share (the classifier's) with the planted one.

Usage: ``python bench/stance_simulation.py [--seeds 200] [--check-seeds 1000] [--workers 1]``
appends/replaces its section of bench/RESULTS.md: the coverage over the first ``--seeds`` seeds
(the acceptance figure), and over ``--check-seeds`` seeds with its binomial interval, because a
coverage counted on 200 seeds has a standard error of about 1.5 points. ``simulate`` is imported
by tests/test_stance_validation.py (fewer seeds).

``--posts several`` runs the ``multi`` designs instead, in their own section: 2,000 accounts
of 1 + Poisson(1.2) posts (the rev1 audit's 2.2 posts per account) and the coverage of the
*account-level* corrected shares, whose rectifier uses only the accounts whose every post is
coded: ``multi`` codes 300 posts stratified by predicted class (``--sample 300``);
``multi-account`` codes every post of 136 accounts (about 300 posts) drawn by
``netsupport.stance.coding_sheet(by="account")`` (``--sample 136 --sample-by account``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Planted shares (supportive, critical, neutral).
PLANTED = np.array([0.4, 0.2, 0.4])
#: The noisy classifier: P(predicted | true), rows true, columns predicted (sup, crit, neu).
CONFUSION = np.array(
    [
        [0.70, 0.10, 0.20],
        [0.25, 0.55, 0.20],
        [0.30, 0.10, 0.60],
    ]
)
STANCES = ("supportive", "critical", "neutral")
_PLANTED_Q = {
    "supportive": float(PLANTED[0]),
    "critical": float(PLANTED[1]),
    "net_support": float(PLANTED[0] - PLANTED[1]),
}


#: Mean posts per account of the ``multi`` design (1 + Poisson(1.2)): the rev1 audit's seed-7
#: case had 2.2 posts per account in the focal crisis cell.
MEAN_POSTS = 2.2


#: Accounts the ``multi-account`` design draws: about 300 posts at MEAN_POSTS posts each.
N_LAB_ACCOUNTS = 136


def _classified(rng: np.random.Generator, true: np.ndarray) -> np.ndarray:
    """The noisy classifier's prediction of each post (CONFUSION), independently per post."""
    u = rng.random(len(true))
    cum = CONFUSION.cumsum(axis=1)[true]
    return (u[:, None] > cum).sum(axis=1)


def _classified_and_sampled(
    rng: np.random.Generator, true: np.ndarray, n_lab: int, design: str
) -> tuple[np.ndarray, np.ndarray]:
    """The noisy classifier's prediction of each post (CONFUSION) and the hand-coded sample's
    weights (1 / pi, 0 = not coded): a simple random sample of ``n_lab`` posts (``srs``), or
    ``n_lab`` stratified by the predicted class, equally allocated (unequal probabilities)."""
    n_pop = len(true)
    pred = _classified(rng, true)
    weight = np.zeros(n_pop)
    if design == "srs":
        picked = rng.choice(n_pop, size=n_lab, replace=False)
        weight[picked] = n_pop / n_lab
    else:
        per = n_lab // 3
        for k in range(3):
            stratum = np.flatnonzero(pred == k)
            take = min(per, len(stratum))
            picked = rng.choice(stratum, size=take, replace=False)
            weight[picked] = len(stratum) / take
    return pred, weight


def _units(
    owner: np.ndarray,
    true: np.ndarray,
    pred: np.ndarray,
    weight: np.ndarray,
    by_account: bool = False,
) -> pd.DataFrame:
    """The units frame ``corrected_shares`` gets, one row per post of account ``owner``: the
    classifier's stance, the planted one where the post is coded (``weight`` > 0);
    ``by_account``: the codes were drawn with their accounts (a sheet ``--sample-by account``)."""
    coded = weight > 0
    names = np.array(STANCES, dtype=object)
    return pd.DataFrame(
        {
            "side": "focal",
            "window": "crisis",
            "account": [f"a{i:06d}" for i in owner],
            "pred": names[pred],
            "final": names[np.where(coded, true, pred)],
            "label": np.where(coded, names[true], None),
            "cross": names[pred],
            "weight": weight,
            "by_account": coded & by_account,
        }
    )


def _drawn_by_account(
    owner: np.ndarray, pred: np.ndarray, n_accounts: int, seed: int
) -> np.ndarray:
    """The weights (1 / pi, 0 = not coded) of a coding sheet drawn by account with netsupport's
    own :func:`~netsupport.stance.coding_sheet` (``by="account"``): ``n_accounts`` accounts,
    stratified by the majority of their predicted stances, every post of each coded."""
    from netsupport.stance import coding_sheet

    ids = np.array([f"p{i:07d}" for i in range(len(owner))], dtype=object)
    table = _stance_table(ids, owner, pred)
    posts = pd.DataFrame({"post_id": ids, "text": "t"})
    sheet = coding_sheet(table, posts, n_accounts, seed, by="account")
    pi = pd.Series(sheet["inclusion_probability"].astype(float).to_numpy(), index=sheet["post_id"])
    return 1.0 / pd.Series(ids).map(pi).fillna(np.inf).to_numpy()


def _one_multi(
    seed: int, *, n_acc: int, n_lab: int, n_boot: int, by: str = "post"
) -> dict[str, Any]:
    """One seed of a ``multi`` design: ``n_acc`` accounts of 1 + Poisson(MEAN_POSTS - 1)
    posts; an account's planted stance is drawn from PLANTED and all its posts have it (so its
    majority stance is the planted one, and the account-level truth is PLANTED); the
    classifier errs on each post independently (CONFUSION). ``by`` = ``post``: ``n_lab`` posts
    are drawn stratified by predicted class, equally allocated, as ``netsupport stance
    --sample`` draws them (one window: strata = predicted stance); ``account``: every post of
    :data:`N_LAB_ACCOUNTS` accounts drawn as ``--sample-by account`` draws them. Quantities
    are the account-level rows."""
    from netsupport.stance.validation import corrected_shares

    rng = np.random.default_rng([seed, 2023, 2])
    acc_true = rng.choice(3, size=n_acc, p=PLANTED)
    n_posts = 1 + rng.poisson(MEAN_POSTS - 1, size=n_acc)
    owner = np.repeat(np.arange(n_acc), n_posts)
    true = acc_true[owner]
    if by == "account":
        pred = _classified(rng, true)
        weight = _drawn_by_account(owner, pred, N_LAB_ACCOUNTS, int(rng.integers(2**31)))
    else:
        pred, weight = _classified_and_sampled(rng, true, n_lab, "stratified")
    units = _units(owner, true, pred, weight, by_account=by == "account")
    out = corrected_shares(units, n_boot=n_boot, seed=seed)
    rows = {r["stance"]: r for r in out["shares"] if r["unit"] == "account"}
    net = next(r for r in out["net_support"] if r["unit"] == "account")
    res: dict[str, Any] = {
        "coded_accounts": net["coded_accounts"],
        "coded_accounts_one_post": net["coded_accounts_one_post"],
        "coded_accounts_drawn": net["coded_accounts_drawn"],
        "codes": int((weight > 0).sum()),
    }
    for k, s in enumerate(STANCES[:2]):
        r = rows[s]
        naive = r["naive"]
        se = np.sqrt(naive * (1 - naive) / n_acc)
        res[s] = {
            "naive": float(naive),
            "naive_covers": abs(naive - PLANTED[k]) <= 1.96 * se,
            "corrected": r["corrected"],
            "covers": r["ci_low"] <= PLANTED[k] <= r["ci_high"],
            "width": r["ci_high"] - r["ci_low"],
        }
    planted_net = PLANTED[0] - PLANTED[1]
    res["net_support"] = {
        "naive": float(net["naive"]),
        "naive_covers": None,
        "corrected": net["corrected"],
        "covers": net["ci_low"] <= planted_net <= net["ci_high"],
        "width": net["ci_high"] - net["ci_low"],
    }
    return res


#: The second sheet's classifier: the model retrained on the first sheet's codes, better than
#: CONFUSION, so the second draw's strata (its predicted classes) differ from the first's.
CONFUSION_2 = np.array(
    [
        [0.80, 0.05, 0.15],
        [0.15, 0.70, 0.15],
        [0.20, 0.05, 0.75],
    ]
)
#: Codes of the two sheets of the ``sheets`` designs (stratified by predicted class each).
N_SHEET_1, N_SHEET_2 = 300, 150
#: Accounts of the two sheets of ``sheets-several`` (drawn by account; ~300 and ~150 posts).
N_SHEET_ACCOUNTS = (136, 68)


def _stance_table(ids: np.ndarray, owner: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """A rules' stance table of one window and side: post ``ids`` of accounts ``owner``, the
    classifier's stance ``pred``."""
    names = np.array(STANCES, dtype=object)
    return pd.DataFrame(
        {
            "post_id": ids,
            "source": [f"a{i:06d}" for i in owner],
            "target": "focal",
            "kind": "reply",
            "created_at": pd.Timestamp("2014-02-14", tz="UTC"),
            "window": "crisis",
            "target_side": "focal",
            "stance": names[pred],
            "score": 0.0,
            "rule": "vader",
        }
    )


def _two_sheets(
    rng: np.random.Generator,
    owner: np.ndarray,
    true: np.ndarray,
    pooled: bool,
    tmp: Path,
    by: str = "post",
) -> pd.DataFrame:
    """Two coding sheets as a researcher draws them, joined into one labels file and read back:
    sheet 1 (:data:`N_SHEET_1` units) stratified by the first classifier's predictions
    (CONFUSION); the model retrained on its codes predicts anew (CONFUSION_2, the coded units
    keeping their code, as ``netsupport stance --labels sheet1.csv --sample 150`` sees them);
    sheet 2 (:data:`N_SHEET_2`) stratified by those new predictions. Both are netsupport's own
    ``coding_sheet``; the coder fills in the planted stance (a unit on both sheets comes with
    its code written in). ``by`` = ``account``: both sheets drawn by account
    (:data:`N_SHEET_ACCOUNTS` accounts each, every post of a drawn account on the sheet).
    Returns the units frame ``corrected_shares`` gets, built as ``supervise`` builds it
    (``pooled``: the sheets pooled, as now; False: every row read as one design, as before
    the ``sheet`` column, by dropping it).
    """
    from netsupport.stance import coding_sheet, read_labels
    from netsupport.stance.supervised import coded_units, sheet_columns
    from netsupport.stance.validation import design_weights

    names = np.array(STANCES, dtype=object)
    ids = np.array([f"p{i:07d}" for i in range(len(owner))], dtype=object)
    posts = pd.DataFrame({"post_id": ids, "text": "t"})
    truth = pd.Series(names[true], index=ids)
    first = _classified_with(rng, true, CONFUSION)
    n1, n2 = N_SHEET_ACCOUNTS if by == "account" else (N_SHEET_1, N_SHEET_2)
    table = _stance_table(ids, owner, first)
    s1 = coding_sheet(table, posts, n1, int(rng.integers(2**31)), by=by)
    s1["stance"] = s1["post_id"].map(truth)
    pred = _classified_with(rng, true, CONFUSION_2)
    again = _stance_table(ids, owner, pred)
    coded1 = again["post_id"].isin(s1["post_id"]).to_numpy()
    again.loc[coded1, "stance"] = again.loc[coded1, "post_id"].map(truth)
    again.loc[coded1, "rule"] = "label"
    s2 = coding_sheet(again, posts, n2, int(rng.integers(2**31)), by=by)
    s2["stance"] = np.where(s2["stance"] != "", s2["stance"], s2["post_id"].map(truth))
    joined = pd.concat([s1, s2] if pooled else [s1.drop(columns="sheet"), s2.drop(columns="sheet")])
    path = tmp / f"labels_{os.getpid()}.csv"
    joined.to_csv(path, index=False)
    labels = read_labels(path).labels
    path.unlink()
    c = coded_units(_stance_table(ids, owner, pred), labels)
    weight = np.zeros(len(ids))
    w = np.zeros(int(c.coded.sum()))
    w[c.estimate] = design_weights(c.prob[c.coded][c.estimate], len(ids))
    weight[c.coded] = w
    frame = _units(owner, true, pred, np.zeros(len(ids)))
    label = np.full(len(ids), None, dtype=object)
    label[c.coded] = c.y
    frame["label"] = label
    frame["final"] = np.where(c.coded, label, frame["pred"])
    frame["weight"] = weight
    frame["by_account"] = c.coded & (c.sample_unit == "account") & (weight > 0)
    for col, v in sheet_columns(c).items():
        frame[col] = v
    return frame


def _classified_with(
    rng: np.random.Generator, true: np.ndarray, confusion: np.ndarray
) -> np.ndarray:
    """A noisy classifier's prediction of each post (``confusion``), independently per post."""
    u = rng.random(len(true))
    cum = confusion.cumsum(axis=1)[true]
    return (u[:, None] > cum).sum(axis=1)


def _one_sheets(
    seed: int, *, n_pop: int, n_boot: int, pooled: bool, several: bool
) -> dict[str, Any]:
    """One seed of a ``sheets`` design: two coding sheets (:func:`_two_sheets`); ``several``:
    2,000 accounts of 1 + Poisson(1.2) posts, account-level figures (as ``multi``); else
    ``n_pop`` posts, one per account, post-level figures."""
    import tempfile

    from netsupport.stance.validation import corrected_shares

    rng = np.random.default_rng([seed, 2023, 3])
    if several:
        acc_true = rng.choice(3, size=n_pop, p=PLANTED)
        owner = np.repeat(np.arange(n_pop), 1 + rng.poisson(MEAN_POSTS - 1, size=n_pop))
        true = acc_true[owner]
        unit = "account"
    else:
        true = rng.choice(3, size=n_pop, p=PLANTED)
        owner = np.arange(n_pop)
        unit = "post"
    with tempfile.TemporaryDirectory(prefix="smp_sheets_") as tmp:
        frame = _two_sheets(rng, owner, true, pooled, Path(tmp), by=unit)
    out = corrected_shares(frame, n_boot=n_boot, seed=seed)
    rows = {r["stance"]: r for r in out["shares"] if r["unit"] == unit}
    net = next(r for r in out["net_support"] if r["unit"] == unit)
    res: dict[str, Any] = {"codes": int((frame["weight"] > 0).sum())}
    for k, s in enumerate(STANCES[:2]):
        r = rows[s]
        res[s] = {
            "naive": float(r["naive"]),
            "naive_covers": None,
            "corrected": r["corrected"],
            "covers": r["ci_low"] <= PLANTED[k] <= r["ci_high"],
            "width": r["ci_high"] - r["ci_low"],
        }
    res["net_support"] = {
        "naive": float(net["naive"]),
        "naive_covers": None,
        "corrected": net["corrected"],
        "covers": net["ci_low"] <= PLANTED[0] - PLANTED[1] <= net["ci_high"],
        "width": net["ci_high"] - net["ci_low"],
    }
    return res


def _one(seed: int, *, n_pop: int, n_lab: int, design: str, n_boot: int) -> dict[str, Any]:
    from netsupport.stance.validation import corrected_shares

    if design.startswith("sheets"):
        return _one_sheets(
            seed,
            n_pop=n_pop,
            n_boot=n_boot,
            pooled="as-one" not in design,
            several="several" in design,
        )
    if design in ("multi", "multi-account"):  # n_pop is the number of accounts
        by = "account" if design == "multi-account" else "post"
        return _one_multi(seed, n_acc=n_pop, n_lab=n_lab, n_boot=n_boot, by=by)
    rng = np.random.default_rng([seed, 2023])
    true = rng.choice(3, size=n_pop, p=PLANTED)
    pred, weight = _classified_and_sampled(rng, true, n_lab, design)
    out = corrected_shares(_units(np.arange(n_pop), true, pred, weight), n_boot=n_boot, seed=seed)
    rows = {r["stance"]: r for r in out["shares"] if r["unit"] == "post"}
    net = next(r for r in out["net_support"] if r["unit"] == "post")
    naive_pred = np.bincount(pred, minlength=3) / n_pop
    res: dict[str, Any] = {}
    for k, s in enumerate(STANCES[:2]):
        r = rows[s]
        se = np.sqrt(naive_pred[k] * (1 - naive_pred[k]) / n_pop)
        res[s] = {
            "naive": float(naive_pred[k]),
            "naive_covers": abs(naive_pred[k] - PLANTED[k]) <= 1.96 * se,
            "corrected": r["corrected"],
            "covers": r["ci_low"] <= PLANTED[k] <= r["ci_high"],
            "width": r["ci_high"] - r["ci_low"],
        }
    planted_net = PLANTED[0] - PLANTED[1]
    res["net_support"] = {
        "naive": float(naive_pred[0] - naive_pred[1]),
        "naive_covers": None,
        "corrected": net["corrected"],
        "covers": net["ci_low"] <= planted_net <= net["ci_high"],
        "width": net["ci_high"] - net["ci_low"],
    }
    return res


def runs(
    seeds: Sequence[int],
    *,
    n_pop: int = 5000,
    n_lab: int = 300,
    design: str = "srs",
    n_boot: int = 1000,
    workers: int = 1,
) -> list[dict[str, Any]]:
    """Return the result of each seed (in the order given); the same with any ``workers``."""
    job = partial(_one, n_pop=n_pop, n_lab=n_lab, design=design, n_boot=n_boot)
    if workers <= 1:
        return [job(s) for s in seeds]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(job, seeds, chunksize=8))


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return, per quantity (supportive, critical, net_support): coverage of the corrected
    95% interval (and how many seeds it covered), mean corrected and naive estimates, their
    bias, and mean interval width."""
    out = {}
    for q, truth in _PLANTED_Q.items():
        corr = np.array([r[q]["corrected"] for r in results])
        naive = np.array([r[q]["naive"] for r in results])
        covers = np.array([r[q]["covers"] for r in results])
        naive_cov = [r[q]["naive_covers"] for r in results]
        out[q] = {
            "planted": float(truth),
            "seeds": len(results),
            "covered": int(covers.sum()),
            "coverage": float(covers.mean()),
            "corrected_mean": float(corr.mean()),
            "corrected_bias": float(corr.mean() - truth),
            "corrected_sd": float(corr.std(ddof=1)) if len(corr) > 1 else float("nan"),
            "naive_mean": float(naive.mean()),
            "naive_bias": float(naive.mean() - truth),
            "naive_coverage": (
                float(np.mean(naive_cov)) if all(v is not None for v in naive_cov) else None
            ),
            "width": float(np.mean([r[q]["width"] for r in results])),
        }
    return out


def simulate(
    seeds: int = 200,
    *,
    n_pop: int = 5000,
    n_lab: int = 300,
    design: str = "srs",
    n_boot: int = 1000,
    workers: int = 1,
) -> dict[str, dict[str, Any]]:
    """Return :func:`summarise` of seeds ``0 .. seeds - 1``."""
    return summarise(
        runs(range(seeds), n_pop=n_pop, n_lab=n_lab, design=design, n_boot=n_boot, workers=workers)
    )


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Return the Wilson 95% interval of a proportion k / n.

    Examples
    --------
    >>> [round(v, 3) for v in wilson(182, 200)]
    [0.862, 0.942]
    """
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return float(c - h), float(c + h)


def exact_width_coverage(results: Sequence[dict[str, Any]], q: str, sd: float) -> float:
    """Coverage of ``corrected +- 1.96 sd`` (an interval of the estimator's true width)."""
    truth = _PLANTED_Q[q]
    return float(np.mean([abs(r[q]["corrected"] - truth) <= 1.959964 * sd for r in results]))


_READING = (
    "A coverage counted on 200 seeds has a binomial standard error of about 1.5 points: with a "
    "true coverage of exactly 95%, the count falls within 93-97% with probability 0.86. The "
    "check columns tell an unlucky sample of seeds (the exact-width interval misses as often) "
    "from a too-narrow interval (bootstrap SE below the true SD): METHODS.md, 'Error-corrected "
    "shares', 'Coverage, and why the interval stays a percentile bootstrap'."
)

_DESIGNS = (
    ("srs", "simple random sample of 300 codes"),
    ("stratified", "300 codes stratified by predicted class (100 each; unequal pi)"),
)
#: ``--posts several``: accounts of several posts, account-level figures (its own section).
_DESIGNS_MULTI = (
    (
        "multi",
        "2,000 accounts, 1 + Poisson(1.2) posts each; 300 post codes stratified by predicted "
        "class (100 each); account level",
    ),
    (
        "multi-account",
        f"the same accounts; every post of {N_LAB_ACCOUNTS} accounts drawn by account "
        "(`--sample-by account`), stratified by majority predicted class; account level",
    ),
)
#: ``--posts sheets``: two coding sheets joined into one labels file (its own section).
_DESIGNS_SHEETS = (
    (
        "sheets",
        f"5,000 posts; sheets of {N_SHEET_1} and {N_SHEET_2} posts, pooled; post level",
    ),
    (
        "sheets-as-one",
        "the same, read as one design (as before); post level",
    ),
    (
        "sheets-several",
        f"2,000 accounts of 1 + Poisson(1.2) posts; sheets of {N_SHEET_ACCOUNTS[0]} and "
        f"{N_SHEET_ACCOUNTS[1]} accounts drawn by account, pooled; account level",
    ),
    (
        "sheets-several-as-one",
        "the same, read as one design (as before); account level",
    ),
)
_TITLE_SHEETS = "Stance error correction (simulation): two coding sheets"
_TITLE = "Stance error correction (simulation)"
_TITLE_MULTI = "Stance error correction (simulation): several posts per account"
_N_ACC = 2000


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the pool's workers)."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str]) -> int:
    import argparse

    from scipy.stats import binomtest

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import machine, update_section

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=200, help="seeds of the main table (0 .. N-1)")
    ap.add_argument(
        "--check-seeds",
        type=int,
        default=1000,
        help="seeds of the check column (0 .. M-1, the main seeds included; 0: none)",
    )
    ap.add_argument("--workers", type=int, default=1, help="processes (results do not change)")
    ap.add_argument(
        "--posts",
        choices=("one", "several", "sheets"),
        default="one",
        help="one post per account (srs and stratified designs, post level) or several "
        "(the multi design, account level; its own section of RESULTS.md), or two coding "
        "sheets joined into one labels file (the sheets designs; their own section)",
    )
    ap.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = ap.parse_args(argv)
    n_all = max(args.seeds, args.check_seeds)
    lines = []
    multi = args.posts == "several"
    sheets = args.posts == "sheets"
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = _cpu()
    coded: list[str] = []
    designs = _DESIGNS_MULTI if multi else _DESIGNS_SHEETS if sheets else _DESIGNS
    for design, label in designs:
        if sheets:
            n_pop = _N_ACC if "several" in design else 5000
            every = runs(range(n_all), n_pop=n_pop, design=design, workers=args.workers)
            n_codes = np.array([r["codes"] for r in every[: args.seeds]])
            coded.append(
                f"Design {design}: estimation codes per seed (a unit on both sheets once), "
                f"seeds 0-{args.seeds - 1}: mean {n_codes.mean():.1f} (range "
                f"{n_codes.min()}-{n_codes.max()})."
            )
        elif multi:
            every = runs(range(n_all), n_pop=_N_ACC, design=design, workers=args.workers)
            ca = np.array([r["coded_accounts"] for r in every[: args.seeds]])
            one = np.array([r["coded_accounts_one_post"] for r in every[: args.seeds]])
            n_codes = np.array([r["codes"] for r in every[: args.seeds]])
            coded.append(
                f"Design {design}: wholly coded accounts (the account-level rectifier's "
                f"sample), seeds 0-{args.seeds - 1}: mean {ca.mean():.1f} of {_N_ACC} (range "
                f"{ca.min()}-{ca.max()}), {one.mean():.1f} of them with one post; hand codes "
                f"per seed: mean {n_codes.mean():.1f} (range {n_codes.min()}-{n_codes.max()})."
            )
        else:
            every = runs(range(n_all), design=design, workers=args.workers)
        main_res = summarise(every[: args.seeds])
        check = summarise(every) if args.check_seeds > args.seeds else None
        for q, r in main_res.items():
            naive_cov = "-" if r["naive_coverage"] is None else f"{100 * r['naive_coverage']:.1f}%"
            p = binomtest(r["covered"], r["seeds"], 0.95).pvalue
            cells = [
                label,
                q,
                f"{r['planted']:.2f}",
                f"{r['naive_mean']:.3f} ({r['naive_bias']:+.3f})",
                naive_cov,
                f"{r['corrected_mean']:.3f} ({r['corrected_bias']:+.3f})",
                f"**{100 * r['coverage']:.1f}%** (p = {p:.2f})",
            ]
            if check is not None:
                c = check[q]
                lo, hi = wilson(c["covered"], c["seeds"])
                exact = exact_width_coverage(every[: args.seeds], q, c["corrected_sd"])
                cells += [
                    f"{100 * c['coverage']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]",
                    f"{100 * exact:.1f}%",
                    f"{c['width'] / 3.919928:.4f} / {c['corrected_sd']:.4f}",
                ]
            cells.append(f"{r['width']:.3f}")
            lines.append("| " + " | ".join(cells) + " |")
    secs = time.perf_counter() - t0
    cpu = _cpu() - c0
    load_after = os.getloadavg()[0]
    head = [
        "design",
        "quantity",
        "planted",
        "naive mean (bias)",
        "naive coverage",
        "corrected mean (bias)",
        f"corrected 95% coverage, seeds 0-{args.seeds - 1} (binomial p vs 95%)",
    ]
    if n_all > args.seeds:
        head += [
            f"coverage, seeds 0-{n_all - 1} [Wilson 95%]",
            f"exact-width interval, seeds 0-{args.seeds - 1}",
            f"bootstrap SE / true SD ({n_all} seeds)",
        ]
    head.append("mean width")
    check_text = (
        f" The check columns run seeds 0-{n_all - 1} (the main seeds among them): the coverage "
        "over them with its Wilson interval; the coverage on the main seeds of an interval of "
        "the estimator's true width (estimate ± 1.96 × the standard deviation of the "
        f"estimates over the {n_all} seeds: what any correct interval would give on these "
        "seeds); and the bootstrap's mean standard error (mean width / 3.92) against that "
        "true standard deviation."
        if n_all > args.seeds
        else ""
    )
    if sheets:
        cmd = (
            f"Machine: {machine()}. Command: `python bench/stance_simulation.py --posts sheets "
            f"--seeds {args.seeds} --check-seeds {args.check_seeds} --workers {args.workers}` "
            f"({n_all} seeds per design, {secs:.0f} s wall, {cpu:.0f} CPU-s, 1-minute load "
            f"average {load:.1f} before, {load_after:.1f} after). Truth: the generator's planted "
            f"shares, supportive {PLANTED[0]}, critical {PLANTED[1]}, neutral {PLANTED[2]} (per "
            "post, or per account with all its posts sharing the account's stance). A researcher "
            f"codes sheet 1, {N_SHEET_1} units drawn by netsupport's `coding_sheet` stratified "
            f"by a noisy classifier's classes (confusion {CONFUSION.tolist()}); the model "
            "retrained on those codes predicts anew (confusion "
            f"{CONFUSION_2.tolist()}; coded units in the stratum of their code), and sheet 2, "
            f"{N_SHEET_2} units, is drawn stratified by those new classes, from all units (a "
            "unit sheet 1 coded comes with its code written in). The two filled sheets are "
            "joined into one CSV and read by `read_labels`; the units frame is built as "
            "`supervise` builds it and `corrected_shares` (1,000 bootstrap resamples) gives "
            "the corrected figure of the retrained model's predictions. Pooled: the sheets' "
            "`sheet` column pools them (weights sum_k share_k / pi_ik; METHODS.md, 'Several "
            "coding sheets'). As one: the same rows without the `sheet` column, every row with "
            "its own sheet's pi as if one draw made them all, and a unit on both sheets keeping "
            "its first row only (what happened before). Naive = the retrained model's share."
        )
    elif multi:
        cmd = (
            f"Machine: {machine()}. Command: `python bench/stance_simulation.py --posts several "
            f"--seeds {args.seeds} --check-seeds {args.check_seeds} --workers {args.workers}` "
            f"({n_all} seeds, {secs:.0f} s wall, {cpu:.0f} CPU-s with the workers', 1-minute "
            f"load average {load:.1f} before, {load_after:.1f} after). "
            f"Population: {_N_ACC:,} accounts, each with 1 + Poisson(1.2) posts (mean "
            f"{MEAN_POSTS}, as in the rev1 audit's seed-7 case), one window. Each account's "
            f"planted stance is drawn from supportive {PLANTED[0]}, critical {PLANTED[1]}, "
            f"neutral {PLANTED[2]} and all its posts have it, so its majority stance is the "
            "planted one and the account-level truth is the planted shares. The same noisy "
            f"classifier (confusion {CONFUSION.tolist()}) predicts each post independently; "
            "in design multi 300 posts are hand-coded, drawn stratified by predicted class "
            "(100 each, pi = 100 / posts of the class) as `netsupport stance --sample 300` "
            f"draws them; in design multi-account every post of {N_LAB_ACCOUNTS} accounts, "
            'drawn by netsupport\'s own `coding_sheet(by="account")` (`netsupport stance '
            f"--sample {N_LAB_ACCOUNTS} --sample-by account`: strata = the majority of the "
            "account's predicted stances, allocated equally, pi = accounts drawn / accounts "
            "of the stratum). `corrected_shares` gets one row per post, as the pipeline gives "
            "it, and the figures are its account-level rows (account = majority of its posts, "
            "ties neutral; coded = every post coded, weight the product of its posts' 1/pi, "
            "or the draw's 1/pi for an account drawn whole). Naive = the account-level share "
            "of the classifier's majorities."
        )
    else:
        cmd = (
            f"Machine: {machine()}. Command: `python bench/stance_simulation.py --seeds "
            f"{args.seeds} --check-seeds {args.check_seeds} --workers {args.workers}` ("
            f"{n_all} seeds per design, {secs:.0f} s wall at load average {load:.1f}). "
            f"Population: 5,000 posts, one per account, planted "
            f"shares supportive {PLANTED[0]}, critical {PLANTED[1]}, neutral {PLANTED[2]}. A "
            "deliberately noisy classifier with a known confusion matrix (rows true, columns "
            f"predicted: {CONFUSION.tolist()}) predicts every post; 300 posts are hand-coded "
            "with their planted stance; netsupport's `corrected_shares` (prediction-powered "
            "inference, Horvitz-Thompson weights, 1,000 bootstrap resamples over accounts) gives "
            "the corrected share and its 95% interval. Naive = the classifier's share (its "
            "coverage: a binomial 95% interval around it). The binomial p is the two-sided exact "
            "test of the main seeds' coverage against 95%."
        )
    body = "\n".join(
        [
            cmd + check_text,
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * 2 + "---:|" * (len(head) - 2),
            *lines,
            "",
            *([" ".join(coded), ""] if coded else []),
            _READING,
        ]
    )
    if not args.no_write:
        update_section(_TITLE_MULTI if multi else _TITLE_SHEETS if sheets else _TITLE, body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
