"""Benchmark: the report step alone, on a study that has already run, split into its parts.

Reruns only the report step of ``netsupport run`` against the cached results of an earlier run
(``<output dir>.netsupport/``), even when netsupport's code changed since (a changed code
fingerprint would otherwise rerun every step: this harness reuses the cached import, stance,
communities and metrics results as they are). It times the step as the runner does and each of
its parts (wall and CPU seconds of this process, inclusive: a part's figure includes the parts
called inside it), and optionally writes a cProfile of the step.

Usage::

    python bench/report_step.py STUDY.toml                 # the step and its parts
    python bench/report_step.py STUDY.toml --profile P     # plus cProfile stats in P (text)

Run ``netsupport run STUDY.toml`` once first. Nothing is written to RESULTS.md: the figures
depend on the case, which this script does not generate.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from _parts import Parts, write_profile

#: (module, attribute) of each part timed; nested parts are included in their callers' figures.
PARTS = (
    ("netsupport.study", "RunContext.tables"),  # reading the store (when no earlier step did)
    ("netsupport.stance", "stance_interactions"),
    ("netsupport.report", "build_inputs"),
    ("netsupport.report", "write_report"),
    ("netsupport.report", "report_tables"),  # (imported by name: wrapped where it is called)
    ("netsupport.report_tables", "top_posts_of_sides"),
    ("netsupport.report", "write_csv"),
    ("netsupport.report", "write_json"),
    ("netsupport.report", "_node_attrs"),
    ("netsupport.report_charts", "build_charts"),
    ("netsupport.report_charts", "draw_charts"),
    ("netsupport.report", "_make_charts"),
    ("netsupport.report_charts", "_make_charts"),
    ("netsupport.report_charts", "attention_counts"),
    ("netsupport.report_charts", "roles_counts"),
    ("netsupport.report_charts", "composition_frame"),
    ("netsupport.graph", "crisis_graph"),
    ("netsupport.graph", "neighbourhood"),
    ("netsupport.charts", "attention_timeline"),
    ("netsupport.charts", "network_map"),
    ("netsupport.charts", "_layout"),
    ("netsupport.charts", "roles_timeline"),
    ("netsupport.charts", "figure_png_svg"),
    ("netsupport.charts", "figure_bytes"),
    ("netsupport.evidence_report", "evidence_charts"),
    ("netsupport.gexfout", "CodedInteractions.__init__"),
    ("netsupport.gexfout", "window_edges_of"),
    ("netsupport.gexfout", "gexf_scope"),
    ("netsupport.gexfout", "write_graph_gexf"),
    ("netsupport.report", "render_markdown"),
    ("netsupport.report", "render_html"),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the step here")
    args = parser.parse_args(argv)

    from netsupport import study as study_mod

    parts = Parts()
    parts.names.append("report step")
    parts.instrument(PARTS)
    # reuse every cached step but the report, whatever the code fingerprint says
    original_fresh = study_mod._State.fresh

    def fresh(self: Any, step: str, key: str, outputs: Any) -> bool:
        if step == "report":
            return False
        return all(Path(p).exists() for p in outputs) or original_fresh(self, step, key, outputs)

    study_mod._State.fresh = fresh  # type: ignore[method-assign]
    step_fn = study_mod.RunContext.step_report
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()

    def step_report(self: Any, force: bool) -> Any:
        if profiler is not None:
            profiler.enable()
        try:
            return step_fn(self, force)
        finally:
            if profiler is not None:
                profiler.disable()

    study_mod.RunContext.step_report = parts.wrap("report step", step_report)  # type: ignore
    load_before = os.getloadavg()
    result = study_mod.run_study(args.study)
    load_after = os.getloadavg()
    statuses = {s.name: s.status for s in result.steps}
    print(f"steps: {statuses}")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f}"
    )
    parts.print(width=28)
    if profiler is not None:
        write_profile(profiler, args.profile)
        print(f"profile: {args.profile}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
