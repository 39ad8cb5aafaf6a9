"""Benchmark: ``netsupport.graph.aggregate_edges`` on a study's interactions, as its callers
call it, against the frame-only implementation it replaced (f06ec9b, kept as the oracle in
tests/test_graph_aggregate.py), alternating the two call by call in one process.

Reads the study's interactions from its store (run ``netsupport run STUDY.toml`` once first),
then times each case ``--repeat`` times for each implementation, old and new alternating: CPU
seconds (``time.process_time``) and wall seconds, the median of the repeats. The cases: all
rows; the baseline window (as :func:`netsupport.graph.baseline_edges`); the crisis window with
the amplifier kinds (as :mod:`netsupport.support.proxies` and the communities step); all rows
with kind weights and self-loops. Prints one JSON line: the figures, the load average before
and after, and whether every case's frames are the same (columns, dtypes, values, float bits).

Usage::

    PYTHONPATH=. python bench/aggregate_edges.py STUDY.toml [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def same_bits(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if a.columns.tolist() != b.columns.tolist() or a.dtypes.tolist() != b.dtypes.tolist():
        return False
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype == object:
            if x.tolist() != y.tolist():
                return False
        elif x.tobytes() != y.tobytes():
            return False
    return a.index.equals(b.index)


def main() -> None:
    from netsupport import graph
    from netsupport.schema import IKind, Table, Window
    from netsupport.store import Store
    from netsupport.studyfile import load_study

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_graph_aggregate import old_aggregate_edges

    ap = argparse.ArgumentParser()
    ap.add_argument("study")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    study = load_study(args.study)
    rows = graph.edge_columns(Store(study.store_dir).read(Table.INTERACTIONS))
    base = graph.window_interactions(rows, study.windows, Window.BASELINE)
    crisis = graph.window_interactions(rows, study.windows, Window.CRISIS)
    cases = {
        "all rows": ((rows,), {}),
        "baseline": ((base,), {}),
        "crisis, amplifier kinds": ((crisis, (IKind.REPOST, IKind.QUOTE, IKind.MENTION)), {}),
        "all rows, kind weights, self-loops": (
            (rows, None, {"repost": 2.0, "like": 0.5}),
            {"self_loops": True},
        ),
    }
    impls = {"old": old_aggregate_edges, "new": graph.aggregate_edges}
    out: dict = {"rows": len(rows), "load_before": os.getloadavg()}
    for name, (a, kw) in cases.items():
        times: dict = {k: ([], []) for k in impls}
        frames = {}
        for _ in range(args.repeat):
            for key, fn in impls.items():
                c0, w0 = time.process_time(), time.perf_counter()
                frames[key] = fn(*a, **kw)
                times[key][0].append(time.process_time() - c0)
                times[key][1].append(time.perf_counter() - w0)
        out[name] = {
            key: {
                "cpu": round(statistics.median(cpu), 3),
                "wall": round(statistics.median(wall), 3),
            }
            for key, (cpu, wall) in times.items()
        }
        out[name]["edges"] = len(frames["new"])
        out[name]["same"] = same_bits(frames["old"], frames["new"])
    out["load_after"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
