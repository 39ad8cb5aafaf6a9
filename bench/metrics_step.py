"""Benchmark: the metrics step alone, on a study that has already run.

Reruns only the metrics step of ``netsupport run`` (the pandas engine's ``analyse``) against the
cached results of an earlier run (``<output dir>.netsupport/``): the stance table and the
communities are read from the cache without checking their keys, so the step can be timed with
changed netsupport code (a changed code fingerprint would otherwise rerun every step). As after a
``netsupport run --force``, the stance result carries the study's interactions and the modules
the earlier steps import (igraph, scikit-learn) are loaded before the clock starts.

Prints CPU seconds (user + system of this process and its children) and wall seconds of the
step, the load average, and the sha256 of the metrics as the run writes them (run-metrics.json),
which must not change with the code's speed. Nothing is written to the study's folders.

Usage::

    python bench/metrics_step.py STUDY.toml                 # time the step
    python bench/metrics_step.py STUDY.toml --profile P     # plus cProfile stats in P (binary)

Run ``netsupport run STUDY.toml`` once first.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import time
from pathlib import Path

from _parts import cpu, run_context


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the step here")
    args = parser.parse_args(argv)

    from netsupport import study as S
    from netsupport.textsafe import dumps_json

    ctx, _ = run_context(args.study)
    ctx.engine.load_stance(ctx)
    graph = S.read_graph_measures(ctx.graph_files)
    ctx.membership, ctx.pagerank, ctx.graph_info, ctx.community_runs, ctx.baseline_edges = graph
    ctx.stance = dataclasses.replace(ctx.stance, interactions=ctx.interactions())
    import igraph  # noqa: F401  (the communities step imports these in a run)
    import sklearn.metrics  # noqa: F401

    load_before = os.getloadavg()
    w0, c0 = time.perf_counter(), cpu()
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        metrics, _, _ = prof.runcall(ctx.engine.analyse, ctx)
        prof.dump_stats(args.profile)
    else:
        metrics, _, _ = ctx.engine.analyse(ctx)
    wall, step_cpu = time.perf_counter() - w0, cpu() - c0
    text = dumps_json(S._with_graph_info(metrics, ctx.graph_info)) + "\n"  # as write_json
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    print(
        f"metrics step: {step_cpu:.2f} CPU s, {wall:.2f} wall s; load average {load_before[0]:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after; run-metrics.json sha256 {sha}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
