"""Time ``netsupport import`` of one file with two or more code trees, alternating run by run.

Usage: ``python bench/import_alternate.py --runs 3 --records N DATA TREE [TREE ...]``, each
TREE a checkout of the package (a ``git archive`` of a commit in a temporary folder: it is run
with ``PYTHONPATH=TREE`` from that folder). ``DATA`` is any input; for the Mastodon rows of
bench/RESULTS.md it is written by ``--generate mastodon_statuses|mastodon_archive --records N``
(bench/_platforms.py). Each run imports into a fresh store; wall time, and CPU seconds of the
command and the worker processes it waited for (``os.wait4``), are printed per run with the
1-minute load average, then min / median per tree and records per second (wall, median) and
per CPU-second (best and median). Alternating the trees spreads the load of other jobs on the
machine over all of them alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(tree: Path, data: Path, store: Path, extra: list[str]) -> tuple[float, float]:
    """Import ``data`` with the package in ``tree``; return (wall, CPU seconds)."""
    shutil.rmtree(store, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "netsupport", "import", str(data), "--store", str(store), *extra]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"{tree}: import failed ({status})")
    shutil.rmtree(store, ignore_errors=True)
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("trees", type=Path, nargs="*")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=0, help="records in DATA (for the rates)")
    ap.add_argument("--generate", choices=["mastodon_statuses", "mastodon_archive"])
    ap.add_argument("--workers", type=int, default=0, help="passed to the import (0: auto)")
    args = ap.parse_args(argv)
    if args.generate:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _platforms

        getattr(_platforms, args.generate)(args.data, args.records)
        print(f"wrote {args.data}")
        return 0
    n = args.records
    results: dict[Path, list[tuple[float, float]]] = {t: [] for t in args.trees}
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.runs):
            for tree in args.trees:
                extra = ["--workers", str(args.workers)] if args.workers else []
                wall, cpu = run(tree.resolve(), args.data.resolve(), Path(tmp) / "store", extra)
                results[tree].append((wall, cpu))
                print(
                    f"{tree.name} run {k + 1}: {wall:.2f} s wall, {cpu:.2f} CPU-s "
                    f"(load {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for tree, rs in results.items():
        walls, cpus = [w for w, _ in rs], [c for _, c in rs]
        line = (
            f"{tree.name}: wall min / median {min(walls):.2f} / {statistics.median(walls):.2f} s, "
            f"CPU min / median {min(cpus):.2f} / {statistics.median(cpus):.2f} s"
        )
        if n:
            line += (
                f"; records/s (wall, median) {n / statistics.median(walls):,.0f}; records per "
                f"CPU-s best {n / min(cpus):,.0f}, median {n / statistics.median(cpus):,.0f}"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
