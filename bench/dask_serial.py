"""Benchmark: the Dask engine's stance step (``scale.aggregate_study``) run serially, for CPU-s.

Runs ``aggregate_study`` with Dask's synchronous scheduler (no cluster: every task in this
process), so the CPU seconds of each pass are the work itself, without the cluster's per-task
and per-worker costs; prints when each pass starts (wall s, CPU s since the start). With
``--profile OUT``, under cProfile with a CPU clock (``time.process_time``), and the 60 costliest
netsupport functions. ``--partitions 31,32`` runs only those partitions of the plan (a slice
of a 10^7 store; the stance model is then trained on their coded posts only). ``--no-model``:
the study without its hand codes (the rules decide). The store must exist. Nothing is written
to RESULTS.md.

Usage: ``PYTHONPATH=CODE python bench/dask_serial.py STUDY [--profile OUT] [--partitions I,J]
[--no-model]`` (CODE: the checkout to measure).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import resource
import sys
import tempfile
import time

import dask

from netsupport import scale
from netsupport.scale import driver
from netsupport.studyfile import load_study


def cpu() -> float:
    """User + system CPU seconds of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("study")
    ap.add_argument("--profile")
    ap.add_argument("--partitions")
    ap.add_argument("--no-model", action="store_true")
    a = ap.parse_args(argv)
    study = load_study(a.study)
    if a.no_model:
        study = dataclasses.replace(study, stance=dataclasses.replace(study.stance, labels=None))
    if a.partitions:
        keep = [int(x) for x in a.partitions.split(",")]
        plan = driver.plan_partitions

        def some(store, max_rows):  # (plan_partitions with the partitions kept)
            p = plan(store, max_rows)
            return dataclasses.replace(p, partitions=tuple(p.partitions[i] for i in keep))

        driver.plan_partitions = some
    prof = cProfile.Profile(time.process_time) if a.profile else None
    c0, t0 = cpu(), time.perf_counter()

    def say(msg: str) -> None:
        print(f"{time.perf_counter() - t0:8.2f} {cpu() - c0:8.2f}  {msg}", flush=True)

    with dask.config.set(scheduler="sync"):
        if prof:
            prof.enable()
        agg = scale.aggregate_study(
            study,
            None,
            freq=scale.unit_bins(study.windows),
            parts_dir=tempfile.mkdtemp() + "/parts",
            scratch_dir=tempfile.mkdtemp(),
            progress=say,
        )
        if prof:
            prof.disable()
    print(f"total wall {time.perf_counter() - t0:.2f} cpu {cpu() - c0:.2f} rows {agg.rows:,}")
    if prof:
        prof.dump_stats(a.profile)
        pstats.Stats(a.profile).sort_stats("cumulative").print_stats("netsupport", 60)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
