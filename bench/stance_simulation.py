"""Simulation: do the error-corrected stance shares cover a planted share when the naive ones miss?

A population of N posts (one per account) has planted stance shares; a deliberately noisy
classifier with a known confusion matrix predicts every post; a hand-coded sample is drawn
(a simple random sample, or a sample stratified by the predicted class with unequal inclusion
probabilities, as ``netsupport stance --sample`` draws it); netsupport's
:func:`netsupport.stance.validation.corrected_shares` gives the corrected share and its 95%
interval. Over many seeds we count how often the interval covers the planted share, and compare
the naive share (the classifier's) with the planted one.

Usage: ``python bench/stance_simulation.py [seeds]`` (default 200) appends/replaces its section
of bench/RESULTS.md. ``simulate`` is imported by tests/test_stance_validation.py (fewer seeds).
"""

from __future__ import annotations

import sys
import time
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


def _one(seed: int, n_pop: int, n_lab: int, design: str, n_boot: int) -> dict[str, Any]:
    from netsupport.stance.validation import corrected_shares

    rng = np.random.default_rng([seed, 2023])
    true = rng.choice(3, size=n_pop, p=PLANTED)
    u = rng.random(n_pop)
    cum = CONFUSION.cumsum(axis=1)[true]
    pred = (u[:, None] > cum).sum(axis=1)
    weight = np.zeros(n_pop)
    if design == "srs":
        picked = rng.choice(n_pop, size=n_lab, replace=False)
        weight[picked] = n_pop / n_lab
    else:  # stratified by the predicted class, equal allocation (unequal probabilities)
        per = n_lab // 3
        for k in range(3):
            stratum = np.flatnonzero(pred == k)
            take = min(per, len(stratum))
            picked = rng.choice(stratum, size=take, replace=False)
            weight[picked] = len(stratum) / take
    coded = weight > 0
    names = np.array(STANCES, dtype=object)
    final = np.where(coded, true, pred)
    units = pd.DataFrame(
        {
            "side": "focal",
            "window": "crisis",
            "account": [f"a{i:06d}" for i in range(n_pop)],
            "pred": names[pred],
            "final": names[final],
            "label": np.where(coded, names[true], None),
            "cross": names[pred],
            "weight": weight,
        }
    )
    out = corrected_shares(units, n_boot=n_boot, seed=seed)
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


def simulate(
    seeds: int = 200,
    *,
    n_pop: int = 5000,
    n_lab: int = 300,
    design: str = "srs",
    n_boot: int = 1000,
) -> dict[str, dict[str, float]]:
    """Return, per quantity (supportive, critical, net_support): coverage of the corrected
    95% interval, mean corrected and naive estimates, their bias, and mean interval width."""
    runs = [_one(s, n_pop, n_lab, design, n_boot) for s in range(seeds)]
    planted = {
        "supportive": PLANTED[0],
        "critical": PLANTED[1],
        "net_support": PLANTED[0] - PLANTED[1],
    }
    out = {}
    for q, truth in planted.items():
        corr = np.array([r[q]["corrected"] for r in runs])
        naive = np.array([r[q]["naive"] for r in runs])
        covers = np.array([r[q]["covers"] for r in runs])
        naive_cov = [r[q]["naive_covers"] for r in runs]
        out[q] = {
            "planted": float(truth),
            "coverage": float(covers.mean()),
            "corrected_mean": float(corr.mean()),
            "corrected_bias": float(corr.mean() - truth),
            "naive_mean": float(naive.mean()),
            "naive_bias": float(naive.mean() - truth),
            "naive_coverage": (
                float(np.mean(naive_cov)) if all(v is not None for v in naive_cov) else None
            ),
            "width": float(np.mean([r[q]["width"] for r in runs])),
        }
    return out


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import machine, update_section

    seeds = int(argv[0]) if argv else 200
    lines = []
    t0 = time.perf_counter()
    for design, label in (
        ("srs", "simple random sample of 300 codes"),
        ("stratified", "300 codes stratified by predicted class (100 each; unequal pi)"),
    ):
        res = simulate(seeds, design=design)
        for q, r in res.items():
            naive_cov = "-" if r["naive_coverage"] is None else f"{100 * r['naive_coverage']:.1f}%"
            lines.append(
                f"| {label} | {q} | {r['planted']:.2f} | {r['naive_mean']:.3f} "
                f"({r['naive_bias']:+.3f}) | {naive_cov} | {r['corrected_mean']:.3f} "
                f"({r['corrected_bias']:+.3f}) | **{100 * r['coverage']:.1f}%** | "
                f"{r['width']:.3f} |"
            )
    secs = time.perf_counter() - t0
    body = "\n".join(
        [
            f"Machine: {machine()}. Command: `python bench/stance_simulation.py` ({seeds} seeds "
            f"per design, {secs:.0f} s). Population: 5,000 posts, one per account, planted "
            f"shares supportive {PLANTED[0]}, critical {PLANTED[1]}, neutral {PLANTED[2]}. A "
            "deliberately noisy classifier with a known confusion matrix (rows true, columns "
            f"predicted: {CONFUSION.tolist()}) predicts every post; 300 posts are hand-coded "
            "with their planted stance; netsupport's `corrected_shares` (prediction-powered "
            "inference, Horvitz-Thompson weights, 1,000 bootstrap resamples over accounts) gives "
            "the corrected share and its 95% interval. Naive = the classifier's share (its "
            "coverage: a binomial 95% interval around it).",
            "",
            "| design | quantity | planted | naive mean (bias) | naive coverage | corrected "
            "mean (bias) | corrected 95% coverage | mean width |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *lines,
        ]
    )
    update_section("Stance error correction (simulation)", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
