"""Benchmark: the sensitivity grid's window/cut-off loop (``window_grid``) on a large stance table.

A seeded stance table of N post units (default 1,000,000; 30% hand-labelled) over a 4 + 2 + 4 day
study, decided either by a stance model (``--rules model``: no row the VADER cut-offs act on, so
the grid keeps only the study's own cut-off) or by the VADER score (``--rules vader``: every
declared cut-off moves some stance and is kept). Prints the specifications made and the CPU and
wall seconds of ``window_grid`` (with the cut-off check of ``stance_cutoffs``). With ``--rules
model`` the grid also has the classifier axis (``stance_classifiers``: the rules' own stance of
each row, seeded, kept as the stance step keeps it; ``--no-classifier`` leaves it out), and the
peak memory the grid allocates (tracemalloc) and the peak resident memory before and after it are
printed. The time-series level change is
refitted per window choice unless ``--no-level``. ``--ties`` adds the prior-tie measures (share
of supporters with a prior tie, adjusted odds ratio) with a seeded follower list (a tenth of the
accounts follow @lane, 40% of them undated) and as many interactions as units (30% with @lane).

Usage::

    python bench/sensitivity_grid.py --rules model
    python bench/sensitivity_grid.py --rules model --no-classifier
    python bench/sensitivity_grid.py --rules vader --n 200000
    python bench/sensitivity_grid.py --rules model --ties
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

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


def _tie_tables(n: int, seed: int = 2) -> dict[str, pd.DataFrame]:
    """A follower list and n interactions among the bench table's accounts (``_table``)."""
    g = np.random.default_rng(seed)
    t0, t1 = (pd.Timestamp(x).value for x in ("2014-02-10T00:00Z", "2014-02-20T00:00Z"))
    n_acc = n // 5 + 1
    fw = g.choice(n_acc, n_acc // 10, replace=False).astype(str)
    obs = pd.Series(pd.to_datetime(g.integers(t0, t1, len(fw)), utc=True))
    obs[g.random(len(fw)) < 0.4] = pd.NaT
    src = g.integers(0, n_acc, n).astype(str)
    dst = np.where(g.random(n) < 0.3, "lane", g.integers(0, n_acc, n).astype(str))
    inter = pd.DataFrame(
        {
            "source": src,
            "target": dst,
            "kind": g.choice(["reply", "mention", "repost", "follow"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "created_at": pd.to_datetime(g.integers(t0, t1, n), utc=True),
        }
    )
    return {
        "follows": pd.DataFrame({"follower": fw, "followee": "lane", "observed_at": obs}),
        "tie_interactions": inter,
        "interactions": inter,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rules", choices=("model", "vader"), default="model")
    parser.add_argument("--no-classifier", action="store_true")
    parser.add_argument("--no-level", action="store_true", help="leave the level change out")
    parser.add_argument("--ties", action="store_true", help="add the prior-tie measures")
    parser.add_argument(
        "--trace-memory", action="store_true", help="the grid's peak allocation (tracemalloc: slow)"
    )
    args = parser.parse_args(argv)
    from netsupport.support.sensitivity import stance_classifiers, window_grid
    from netsupport.support.timeseries import timeline_freq

    table, study = _table(args.n, args.rules), _study()
    tie_tables = _tie_tables(args.n) if args.ties else None
    rules = None
    if args.rules == "model" and not args.no_classifier:
        rules = np.random.default_rng(1).integers(0, 3, len(table)).astype(np.int8)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.trace_memory:
        tracemalloc.start()  # (numpy's allocations are traced too; the CPU time is then not)
    c0, w0 = time.process_time(), time.perf_counter()
    units, _block = stance_classifiers(table, rules)
    freq = None if args.no_level else timeline_freq(study.windows)
    records = window_grid(table, study, rules_units=units, freq=freq, tie_tables=tie_tables)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.trace_memory else float("nan")
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cuts = len({(r["positive_threshold"], r["negative_threshold"]) for r in records})
    n_rules = sum(1 for r in records if r.get("classifier") == "rules")
    print(
        f"window_grid, {args.n:,} units ({args.rules}): {len(records)} specifications "
        f"({n_rules} with the rules' stance), {cuts} cut-off(s), level change "
        f"{'no' if freq is None else 'yes'}, prior ties {'yes' if args.ties else 'no'}; "
        f"{cpu:.1f} CPU s, "
        f"{wall:.1f} wall s; grid's peak allocation {peak:,.0f} MB (tracemalloc); peak RSS "
        f"{rss0:,.0f} MB before the grid, {rss1:,.0f} MB after"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
