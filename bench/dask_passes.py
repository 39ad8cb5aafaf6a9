"""Benchmark: the Dask engine's stance step (``scale.aggregate_study``) pass by pass.

Runs ``aggregate_study`` on a local cluster (two worker processes, as ``--engine dask``) and
times every ``dask.compute`` it makes: wall, the driver's CPU and the workers' CPU (each worker's
``getrusage``, read with ``client.run``), and prints when each pass starts. The store must exist
(``netsupport run STUDY --force --engine dask`` once). Nothing is written to RESULTS.md.

Usage: ``PYTHONPATH=CODE python bench/dask_passes.py STUDY`` (CODE: the checkout to measure, e.g.
a ``git archive`` of main, or this worktree).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from typing import Any

import dask

from netsupport import scale
from netsupport.studyfile import load_study


def cpu() -> float:
    """User + system CPU seconds of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str]) -> int:
    study = load_study(argv[0])
    rows: list[tuple[Any, ...]] = []
    compute = dask.compute
    client: Any = None

    def workers() -> float:
        return sum(client.run(cpu).values())

    def timed(*args: Any, **kwargs: Any) -> Any:
        w0, d0, t0 = workers(), cpu(), time.perf_counter()
        out = compute(*args, **kwargs)
        rows.append(("compute", t0, time.perf_counter(), cpu() - d0, workers() - w0))
        return out

    dask.compute = timed
    try:
        with scale.dask_client() as client:
            t0, d0, w0 = time.perf_counter(), cpu(), workers()
            scale.aggregate_study(
                study,
                client,
                freq=scale.unit_bins(study.windows),  # (the engine's bins, as the run's)
                parts_dir=tempfile.mkdtemp() + "/parts",
                scratch_dir=tempfile.mkdtemp(),
                progress=lambda m: rows.append((m, time.perf_counter(), None, None, None)),
            )
            t1, d1, w1 = time.perf_counter(), cpu(), workers()
    finally:
        dask.compute = compute
    for what, start, end, driver, work in rows:
        if end is None:
            print(f"{start - t0:7.2f}  {what}")
        else:
            print(
                f"{start - t0:7.2f} -> {end - t0:7.2f}  compute wall {end - start:6.2f}  "
                f"driver cpu {driver:6.2f}  workers cpu {work:6.2f}"
            )
    print(f"total wall {t1 - t0:.2f} driver cpu {d1 - d0:.2f} workers cpu {w1 - w0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
