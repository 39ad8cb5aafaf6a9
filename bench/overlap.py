"""Benchmark: steps in turn against overlapped, or this code against another checkout's,
alternating run by run.

Runs ``netsupport run STUDY --force --jobs 1`` then ``--jobs 2`` on a study folder, ``ROUNDS``
times, each in a fresh process measured as bench/scale.py measures the user's command (wall, CPU
of the process and its children, the process tree's peak PSS, load average before and after),
and prints every run and the medians. With ``--against DIR`` (e.g. a ``git archive`` of main
unpacked there) each round runs DIR's code, then this checkout's, both with ``--jobs JOBS``
(default 2). Nothing is written to RESULTS.md.

Usage: ``python bench/overlap.py CASE [ROUNDS] [--against DIR] [--jobs JOBS] [--engine dask]``
where CASE holds a study.toml, e.g. the 10^6 case of ``python bench/scale.py``
(bench/out/scale/case-1000000), or its 10^7 case with ``--engine dask``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    parser.add_argument("--against", type=Path, help="another checkout, run alternately")
    parser.add_argument("--jobs", default="2", help="--jobs of both runs with --against")
    parser.add_argument("--engine", help="--engine of every run (default: the study's)")
    args = parser.parse_args(argv)
    case = args.case.resolve()
    if args.against is not None:
        # label -> (--jobs, the folder the command runs in: whose netsupport it imports)
        ways = {"against": (args.jobs, args.against.resolve()), "this": (args.jobs, None)}
    else:
        ways = {"jobs 1": ("1", None), "jobs 2": ("2", None)}
    runs: dict[str, list[dict]] = {k: [] for k in ways}
    for r in range(args.rounds):
        for label, (jobs, cwd) in ways.items():
            cmd = [*scale.NETSUPPORT, "run", str(case / "study.toml"), "--force", "--jobs", jobs]
            if args.engine:
                cmd += ["--engine", args.engine]
            m = scale.measure(cmd, cwd=cwd)
            steps = scale.step_table(m.pop("stderr"))
            runs[label].append(m)
            print(
                f"round {r + 1} {label} (--jobs {jobs}): {m['seconds']:.1f} s wall, "
                f"{m['cpu_s']:.1f} s CPU, {m['tree_pss_mb']:,.0f} MB tree PSS, load "
                f"{m['load_before']} -> {m['load_after']}; steps "
                + ", ".join(f"{k} {v['seconds']}" for k, v in steps.items()),
                flush=True,
            )
            if "report" in steps:
                print(f"  report: {steps['report']['detail']}", flush=True)
    for label, ms in runs.items():
        print(
            f"{label}: median {statistics.median(m['seconds'] for m in ms):.1f} s wall, "
            f"{statistics.median(m['cpu_s'] for m in ms):.1f} s CPU, "
            f"{statistics.median(m['tree_pss_mb'] for m in ms):,.0f} MB tree PSS"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
