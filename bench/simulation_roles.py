"""Role-order detection of the simulation study alone (bench/simulation.py's ``replicate``).

Runs the planted (or null) world's replicates for seeds 1000 .. 1000 + N - 1 and prints in how
many the role-order test finds the planted order (planted world: media or journalists after a
role that is neither) or any order (null world). Run it from a checkout of another commit (with
that checkout's bench/ and package) to compare two versions of role timing on the same seeds.

Usage: ``PYTHONPATH=<package> python bench/simulation_roles.py [--seeds N] [--world planted|null]``
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simulation as sim


def _one(job: tuple[str, int]) -> tuple[bool, bool]:
    r = sim.replicate(job)
    return bool(r["role_order_detected"]), bool(r["any_role_pair"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--world", choices=tuple(sim.WORLDS), default="planted")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    jobs = [(a.world, 1000 + i) for i in range(a.seeds)]
    with ProcessPoolExecutor(a.workers) as pool:
        res = list(pool.map(_one, jobs, chunksize=2))
    k = sum(r[0] if a.world == "planted" else r[1] for r in res)
    what = "planted order detected" if a.world == "planted" else "some order detected"
    print(f"{a.world}: {what} in {k} of {a.seeds} replicates (seeds 1000-{999 + a.seeds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
