"""Benchmark: the sensitivity grid's window/cut-off loop (``window_grid``) on a large stance table.

A seeded stance table of N post units (default 1,000,000; 30% hand-labelled) over a 4 + 2 + 4 day
study, decided either by a stance model (``--rules model``: no row the VADER cut-offs act on, so
the grid keeps only the study's own cut-off) or by the VADER score (``--rules vader``: every
declared cut-off moves some stance and is kept). Prints the specifications made and the CPU and
wall seconds of ``window_grid`` (with the cut-off check of ``stance_cutoffs``).

Usage::

    python bench/sensitivity_grid.py --rules model
    python bench/sensitivity_grid.py --rules vader --n 200000
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd


def _study():
    from netsupport.studyfile import Study
    from netsupport.windows import Windows

    return Study(
        name="bench",
        focal=("lane",),
        institution=("force",),
        windows=Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4),
        inputs=(),
    )


def _table(n: int, rules: str, seed: int = 0) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    t0, t1 = (pd.Timestamp(x).value for x in ("2014-02-10T00:00Z", "2014-02-20T00:00Z"))
    other = "model" if rules == "model" else "vader"
    return pd.DataFrame(
        {
            "post_id": np.arange(n).astype(str),
            "target_side": np.where(g.random(n) < 0.5, "focal", "institution"),
            "source": g.integers(0, n // 5 + 1, n).astype(str),
            "kind": "reply",
            "window": "crisis",
            "stance": g.choice(["supportive", "critical", "neutral"], n),
            "score": g.uniform(-1, 1, n),
            "rule": np.where(g.random(n) < 0.3, "label", other),
            "created_at": pd.to_datetime(g.integers(t0, t1, n), utc=True),
        }
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rules", choices=("model", "vader"), default="model")
    args = parser.parse_args(argv)
    from netsupport.support.sensitivity import window_grid

    table, study = _table(args.n, args.rules), _study()
    c0, w0 = time.process_time(), time.perf_counter()
    records = window_grid(table, study)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    cuts = len({(r["positive_threshold"], r["negative_threshold"]) for r in records})
    print(
        f"window_grid, {args.n:,} units ({args.rules}): {len(records)} specifications, "
        f"{cuts} cut-off(s); {cpu:.1f} CPU s, {wall:.1f} wall s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
