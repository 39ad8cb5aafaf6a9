"""Benchmark: the stance step alone, on a study that has already run, split into its parts.

Reruns only the stance step of ``netsupport run`` (the pandas engine's ``compute_stance``)
against the store and the stance model of an earlier run (``<output dir>.netsupport/``),
whatever netsupport's code fingerprint says. As in a ``netsupport run --force`` after the import
step, the tables are read from the store inside the step and the stance model is the one the
earlier run saved (copied to a temporary folder with the step's other outputs, so nothing in
the study's folders changes), with its predictions and figures when the run kept them (then
read back: ``netsupport.stance.predictions``; remove them from the work folder to time a
miss). It times the step and each of its parts in wall and CPU seconds
(user + system of this process and of the child processes it waited for, e.g. the VADER
workers; a part's figure includes the parts called inside it, and a part running in a thread
beside others counts their CPU too), prints the load average, and the sha256 of the files the
step wrote next to those of the earlier run (they must not change with the code's speed).

Usage::

    python bench/stance_step.py STUDY.toml                 # the step and its parts
    python bench/stance_step.py STUDY.toml --profile P     # plus cProfile stats in P (text)
                                                           # and P.prof (binary, for pstats)
    python bench/stance_step.py STUDY.toml --child-file    # first the Arrow file of the
                                                           # communities child, as in a run

With ``--child-file`` the step starts as it does in a run whose stance and communities steps
overlap (the step table's stance line): ``RunContext.start_communities`` reads the tables, makes
the study's interactions and writes their Arrow file for the child
(``RunContext.write_interactions_arrow``, into the temporary folder) before ``compute_stance``;
no child is started.

Run ``netsupport run STUDY.toml`` once first. Nothing is written to RESULTS.md: the figures
depend on the case, which this script does not generate.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _parts import Parts, cpu, run_context, write_profile

#: (module, attribute) of each part timed; nested parts are included in their callers' figures.
#: Several modules import a function by name: each name it is called by is wrapped.
PARTS = (
    ("netsupport.study", "RunContext.write_interactions_arrow"),
    ("netsupport.study", "RunContext.tables"),
    ("netsupport.stance.tables", "interactions_arrow"),
    ("netsupport.study", "write_arrow"),
    ("netsupport.stance.tables", "read_tables"),
    ("netsupport.stance.tables", "object_strings"),
    ("netsupport.stance.tables", "stance_interactions"),
    ("netsupport.stance", "stance_interactions"),  # (RunContext.interactions calls this one)
    ("netsupport.stance.tables", "_texts_by_post"),
    ("netsupport.stance.rules", "Classifier.classify"),
    ("netsupport.stance.rules", "Classifier.score_texts"),
    ("netsupport.stance.rules", "Classifier.side_of"),
    ("netsupport.stance.rules", "_sorted_stance"),
    ("netsupport.stance.model", "import_model_libraries"),
    ("netsupport.stance.tables", "read_labels"),
    ("netsupport.stance.tables", "match_labels"),
    ("netsupport.stance.tables", "_label_lookup"),
    ("netsupport.stance.tables", "agreement"),
    ("netsupport.stance.supervised", "supervise"),
    ("netsupport.stance.supervised", "rule_profile"),
    ("netsupport.stance.supervised", "unit_rows"),
    ("netsupport.stance.supervised", "row_features"),
    ("netsupport.stance.model", "_vader_scores"),
    ("netsupport.stance.supervised", "_predicted"),
    ("netsupport.stance.supervised", "read_predictions"),
    ("netsupport.stance.supervised", "kept_figures"),
    ("netsupport.stance.tables", "kept_figures"),
    ("netsupport.stance.supervised", "_fitted"),
    ("netsupport.stance.supervised", "model_key"),
    ("netsupport.stance.supervised", "load_model"),
    ("netsupport.stance.supervised", "_cross_fitted"),
    ("netsupport.stance.supervised", "cv_key"),
    ("netsupport.stance.supervised", "apply_model"),
    ("netsupport.stance.model", "StanceModel.predict"),
    ("netsupport.stance.supervised", "labelled_rows"),
    ("netsupport.stance.supervised", "apply_labels"),
    ("netsupport.stance.supervised", "error_figures"),
    ("netsupport.stance.supervised", "corrected_shares"),
    ("netsupport.engine", "write_parquet"),
    ("netsupport.engine", "write_json"),
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the step here")
    parser.add_argument(
        "--child-file", action="store_true", help="write the communities child's file first"
    )
    args = parser.parse_args(argv)

    import netsupport.ingest  # (the import step loads it in a run)
    import netsupport.store  # noqa: F401

    parts = Parts()
    parts.names.append("stance step")
    parts.instrument(PARTS)
    with tempfile.TemporaryDirectory(prefix="stance-step-") as tmp:
        tmp_cache = Path(tmp)
        ctx, cache = run_context(args.study, tmp_cache)
        if not (cache / "stance.parquet").is_file():
            print(f"{cache}: no cached stance step; run `netsupport run {args.study}` first")
            return 1
        if (cache / "models").is_dir():
            shutil.copytree(cache / "models", tmp_cache / "models")
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        load_before = os.getloadavg()
        w0, c0 = time.perf_counter(), cpu()
        if profiler is not None:
            profiler.enable()
        if args.child_file:
            ctx.write_interactions_arrow()
        detail = ctx.engine.compute_stance(ctx)
        if profiler is not None:
            profiler.disable()
        wall, step_cpu = time.perf_counter() - w0, cpu() - c0
        load_after = os.getloadavg()
        files = sorted(
            p.relative_to(tmp_cache)
            for p in tmp_cache.rglob("*")
            if p.is_file() and p.parent != ctx.temp_dir  # (not the child's file)
        )
        same = {str(p): _sha(tmp_cache / p) == _sha(cache / p) for p in files}
    print(f"stance step: {detail}")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}"
    )
    parts.totals["stance step"] = [wall, step_cpu, 1]
    parts.print()
    print("outputs as the earlier run's: " + ", ".join(f"{k} {v}" for k, v in same.items()))
    if profiler is not None:
        write_profile(profiler, args.profile, cumulative=70, binary=True)
        print(f"profile: {args.profile} (and .prof)")
    return 0 if all(same.values()) else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
