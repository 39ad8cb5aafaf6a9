"""Benchmark: the stance and communities steps in turn against overlapped, alternating run by run.

Runs ``netsupport run STUDY --force --jobs 1`` then ``--jobs 2`` on a study folder, ``ROUNDS``
times, each in a fresh process measured as bench/scale.py measures the user's command (wall, CPU
of the process and its children, the process tree's peak PSS, load average before and after),
and prints every run and the medians. Nothing is written to RESULTS.md.

Usage: ``python bench/overlap.py CASE [ROUNDS]`` where CASE holds a study.toml, e.g. the 10^6
case of ``python bench/scale.py`` (bench/out/scale/case-1000000).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale


def main(argv: list[str]) -> int:
    case, rounds = Path(argv[0]).resolve(), int(argv[1]) if len(argv) > 1 else 3
    runs: dict[str, list[dict]] = {"1": [], "2": []}
    for r in range(rounds):
        for jobs in runs:
            cmd = [*scale.NETSUPPORT, "run", str(case / "study.toml"), "--force", "--jobs", jobs]
            m = scale.measure(cmd)
            steps = scale.step_table(m.pop("stderr"))
            runs[jobs].append(m)
            print(
                f"round {r + 1} --jobs {jobs}: {m['seconds']:.1f} s wall, {m['cpu_s']:.1f} s CPU, "
                f"{m['tree_pss_mb']:,.0f} MB tree PSS, load {m['load_before']} -> "
                f"{m['load_after']}; steps "
                + ", ".join(f"{k} {v['seconds']}" for k, v in steps.items()),
                flush=True,
            )
    for jobs, ms in runs.items():
        print(
            f"--jobs {jobs}: median {statistics.median(m['seconds'] for m in ms):.1f} s wall, "
            f"{statistics.median(m['cpu_s'] for m in ms):.1f} s CPU, "
            f"{statistics.median(m['tree_pss_mb'] for m in ms):,.0f} MB tree PSS"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
