"""Coverage of the time-series model's intervals when its negative binomial collapses to Poisson.

Methods review #12: on the example the dispersion's ML estimate sits on its boundary (alpha = 0)
while the Pearson dispersion is 1.46; the model then scales its model-based standard errors by
the square root of that dispersion (quasi-Poisson, ``scale: "pearson"``). This bench plants the
truth and measures whether that helps: daily counts on the example's design (14 baseline days,
a crisis from 09:00 for 5.375 days, 14 after days; 9.5 posts a day before, a level change of 13
at the crisis start, a daily multiplier of exp(-0.5) in the crisis, 2x the baseline after it),
overdispersed by a parameter of the generator:

- ``nb1``: every day's count is gamma-Poisson with variance ``phi * mean``;
- ``fixed-crisis``: as the synthetic generator draws them, the crisis has a fixed number of
  posts spread over its days (multinomial: less variable than Poisson at the peak), and the
  other days are gamma-Poisson with variance ``phi * mean``. The negative binomial's variance
  ``mean + alpha mean^2`` is driven by the big crisis days, so its alpha often sits at 0 while
  the small days are overdispersed: the case of the example.

For each seed the model is fitted twice, scaling (the rule now) and not (the rule before), and
the 95% intervals of the level change, the slope change and the baseline trend are scored
against the planted values, over all seeds and over those where the branch was taken (the other
seeds' intervals are the same either way). Writes the section "Time-series model: quasi-Poisson
scale when alpha = 0" of bench/RESULTS.md.

Usage: ``python bench/its_quasi_poisson.py [--seeds N]`` (default 400 per generator and phi).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

TITLE = "Time-series model: quasi-Poisson scale when alpha = 0"
BASE_PER_DAY = 9.5
LEVEL = 13.0
SLOPE = -0.5
AFTER = 2.0
#: The measures scored, with their planted values.
TRUTH = {"level_change": LEVEL, "slope_change": math.exp(SLOPE), "baseline_trend": 1.0}
CASES = [("nb1", 1.3), ("nb1", 1.6), ("fixed-crisis", 1.3), ("fixed-crisis", 1.6)]


def windows():
    from netsupport.windows import Windows

    return Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T18:00Z", 14, 14)


def planted_counts(kind: str, phi: float, seed: int) -> pd.DataFrame:
    """Return a timeline (:func:`netsupport.support.timeseries.timeline_counts` columns) of
    daily counts drawn from the planted model, overdispersed by ``phi`` as ``kind`` says."""
    from netsupport.support.timeseries import _bins

    w = windows()
    b = _bins(w, "D")
    t = ((b["mid"] - w.crisis_start) / pd.Timedelta(days=1)).to_numpy()
    crisis = (b["window"] == "crisis").to_numpy()
    after = (b["window"] == "after").to_numpy()
    rate = np.where(crisis, LEVEL * np.exp(SLOPE * t), np.where(after, AFTER, 1.0))
    mu = BASE_PER_DAY * b["exposure"].to_numpy() * rate
    g = np.random.default_rng([seed, int(phi * 1000), kind == "nb1"])

    def gamma_poisson(m: np.ndarray) -> np.ndarray:  # variance phi * m
        return g.poisson(g.gamma(m / (phi - 1), phi - 1))

    if kind == "nb1":
        y = gamma_poisson(mu)
    else:
        y = np.zeros(len(mu), dtype=np.int64)
        y[crisis] = g.multinomial(round(mu[crisis].sum()), mu[crisis] / mu[crisis].sum())
        y[~crisis] = gamma_poisson(mu[~crisis])
    return pd.DataFrame(
        {"target_side": "focal", "window": b["window"], "bin": b["bin"], "stance": "neutral"}
    ).assign(n=y)


def run_case(kind: str, phi: float, seeds: int) -> dict[str, object]:
    from netsupport.support.timeseries import its_lift

    w = windows()
    rows = []
    for seed in range(seeds):
        tl = planted_counts(kind, phi, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new = its_lift(tl, "focal", w, "D")
            old = its_lift(tl, "focal", w, "D", quasi_poisson=False)
        row = {"branch": new["scale"] == "pearson", "dispersion": new["dispersion"]}
        for key, truth in TRUTH.items():
            row[f"old_{key}"] = old[key]["low"] <= truth <= old[key]["high"]
            row[f"new_{key}"] = new[key]["low"] <= truth <= new[key]["high"]
        rows.append(row)
    return {"kind": kind, "phi": phi, "rows": pd.DataFrame(rows)}


def _pct(x: pd.Series) -> str:
    return f"{100 * x.mean():.1f}%" if len(x) else "-"


def table(results: list[dict[str, object]], seeds: int) -> str:
    head = (
        "| generator | phi | seeds with alpha = 0 and Pearson > 1 | their median Pearson "
        "dispersion | "
        + " | ".join(f"{k}: before -> after (branch)" for k in TRUTH)
        + " | "
        + " | ".join(f"{k}: before -> after (all {seeds})" for k in TRUTH)
        + " |"
    )
    lines = [head, "|" + "---|" * (4 + 2 * len(TRUTH))]
    for r in results:
        df = r["rows"]
        br = df[df["branch"]]
        cells = [
            str(r["kind"]),
            f"{r['phi']:g}",
            f"{len(br)} of {len(df)}",
            f"{br['dispersion'].median():.2f}" if len(br) else "-",
        ]
        cells += [f"{_pct(br[f'old_{k}'])} -> {_pct(br[f'new_{k}'])}" for k in TRUTH]
        cells += [f"{_pct(df[f'old_{k}'])} -> {_pct(df[f'new_{k}'])}" for k in TRUTH]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--no-write", action="store_true", help="print, do not touch RESULTS.md")
    args = ap.parse_args(argv)
    from _common import machine, update_section

    t0 = time.perf_counter()
    results = [run_case(kind, phi, args.seeds) for kind, phi in CASES]
    body = (
        f"`python bench/its_quasi_poisson.py --seeds {args.seeds}` ({machine()}; "
        f"{time.perf_counter() - t0:.0f} s). Coverage of the 95% intervals of the planted level "
        f"change ({LEVEL:g}), slope change (exp({SLOPE:g})) and baseline trend (1) by the "
        "segmented regression, before (no scale) and after (model-based standard errors times "
        "sqrt(Pearson dispersion) when alpha's ML estimate is 0 and the dispersion exceeds 1); "
        "each interval is the wider of that and the HAC one. 'branch': the seeds where the "
        "scale was applied (elsewhere the intervals are the same).\n\n" + table(results, args.seeds)
    )
    print(body)
    if not args.no_write:
        update_section(TITLE, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
