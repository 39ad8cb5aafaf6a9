"""Benchmark: the communities step alone, as ``netsupport run`` runs it, split into its parts.

Writes the study's interactions as the Arrow file the run hands to its child (in a temporary
folder), then runs the pandas engine's communities step (:func:`netsupport.engine.
graph_measures_child`) in a fresh ``spawn`` child process, as the run does, writing the step's
files to the temporary folder. Prints the child's wall and CPU seconds of the step (user +
system of the child, from its own ``resource.getrusage``), each part's (a part's figure includes
the parts called inside it), the load average before and after, and the sha256 of every file the
step wrote next to those of the earlier run (they must not change with the code's speed).

Usage::

    python bench/communities_step.py STUDY.toml                 # the step (as in a run)
    python bench/communities_step.py STUDY.toml --parts         # and its parts
    python bench/communities_step.py STUDY.toml --profile P     # plus cProfile stats in P (text)
                                                                # and P.prof (binary)

Run ``netsupport run STUDY.toml`` once first. Nothing is written to the study's folders or to
RESULTS.md: the figures depend on the case, which this script does not generate.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

#: (module, attribute) of each part timed; nested parts are included in their callers' figures.
#: Parts this version of netsupport lacks are left out.
PARTS = (
    ("netsupport.engine", "read_graph_interactions"),
    ("netsupport.graph_measures", "InteractionCodes.from_arrow"),
    ("netsupport.graph_measures", "InteractionCodes.from_frame"),
    ("netsupport.graph_measures", "graph_measures"),
    ("netsupport.graph_measures", "InteractionCodes.window"),
    ("netsupport.graph_measures", "InteractionCodes.conversation"),
    ("netsupport.graph_measures", "_aggregate"),
    ("netsupport.graph_measures", "graph_arrays"),
    ("netsupport.graph_measures", "communities_from_edges"),
    ("netsupport.graph_measures", "pagerank_from_edges"),
    ("netsupport.graph_measures", "community_runs"),
    ("netsupport.graph_measures", "nmi"),
    ("netsupport.graph_measures", "consensus_partition"),
    ("netsupport.engine", "pandas_graph_measures"),
    ("netsupport.graph", "baseline_edges"),
    ("netsupport.graph", "window_interactions"),
    ("netsupport.graph", "aggregate_edges"),
    ("netsupport.support", "communities_from_edges"),
    ("netsupport.support.communities", "communities_from_edges"),
    ("netsupport.communities", "_prepare"),
    ("netsupport.communities", "_detect_prepared"),
    ("netsupport.communities", "_run_engine"),
    ("netsupport.communities", "_run_leiden"),
    ("netsupport.communities", "_run_multilevel"),
    ("netsupport.graph", "GraphArrays.to_igraph"),
    ("netsupport.communities", "_per_community_modularity"),
    ("netsupport.support", "crisis_pagerank"),
    ("netsupport.support.proxies", "crisis_pagerank"),
    ("netsupport.support.proxies", "conversation_rows"),
    ("netsupport.graph", "pagerank"),
    ("netsupport.support.sensitivity", "community_runs"),
    ("netsupport.support.sensitivity", "normalized_mutual_info_score"),
    ("netsupport.support.sensitivity", "consensus_partition"),
    ("netsupport.engine", "write_graph_measures"),
    ("netsupport.engine", "_write_community_runs"),
    ("netsupport.engine", "write_parquet"),
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def _child(
    study: Any, arrow: str, folder: str, profile: str | None, with_parts: bool
) -> tuple[float, float, str]:
    """The step in this (spawned) process: (wall s, CPU s, the parts' table)."""
    import contextlib
    import io
    import resource

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _parts import Parts, write_profile

    from netsupport.engine import GraphFiles, graph_measures_child

    parts = Parts()
    if with_parts:  # (imports the parts' modules first: their import time is not in the step)
        import importlib.util

        parts.instrument([p for p in PARTS if importlib.util.find_spec(p[0]) is not None])

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    files = GraphFiles.in_folder(Path(folder))
    w0, c0 = time.perf_counter(), cpu()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.runcall(graph_measures_child, study, arrow, files)
    else:
        graph_measures_child(study, arrow, files)
    wall, used = time.perf_counter() - w0, cpu() - c0
    if profile:
        write_profile(prof, Path(profile), binary=True)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        parts.print()
    return wall, used, buf.getvalue()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the step here")
    parser.add_argument(
        "--parts",
        action="store_true",
        help="time each part too (their modules imported before the clock starts)",
    )
    args = parser.parse_args(argv)

    from _parts import run_context

    from netsupport.engine import GraphFiles, write_arrow

    ctx, cache = run_context(args.study)
    with tempfile.TemporaryDirectory(prefix="communities-step-") as tmp:
        arrow = write_arrow(ctx.interactions(), Path(tmp) / "interactions.arrow")
        load_before = os.getloadavg()
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            profile = str(args.profile.resolve()) if args.profile else None
            wall, used, table = pool.submit(
                _child, ctx.study, str(arrow), tmp, profile, args.parts
            ).result()
        load_after = os.getloadavg()
        print(table, end="")
        print(f"step: {wall:.2f} s wall, {used:.2f} s CPU (the child's)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
        same = True
        for new, old in zip(
            GraphFiles.in_folder(Path(tmp)).all(), GraphFiles.in_folder(cache).all(), strict=True
        ):
            a, b = _sha(new), _sha(old)
            same &= a == b
            print(f"{new.name:<26} {a[:16]} {'same' if a == b else 'DIFFERS from ' + b[:16]}")
    print("files: same as the earlier run" if same else "files: DIFFER from the earlier run")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
