"""The engine interface (netsupport.engine): one step wiring for every engine, the stance and
communities steps overlapped in a child process with the same output bytes as one after the
other, when to fall back to running them in turn, and the per-engine memory estimates."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsupport import engine, report
from netsupport.cli import app
from netsupport.errors import NetsupportError, ResourceLimit, StudyError
from netsupport.outdir import work_dir
from netsupport.study import run_study

EXAMPLE = Path(__file__).parent.parent / "data" / "example"
PKG = Path(engine.__file__).parent


def _example_copy(dest: Path) -> Path:
    """The example study copied to ``dest``, writing its report inside the copy."""
    if not (EXAMPLE / "study.toml").is_file():
        pytest.skip("data/example is not there")
    shutil.copytree(EXAMPLE, dest)
    toml = dest / "study.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'dir = "../../reports/example"' in text
    toml.write_text(text.replace('dir = "../../reports/example"', 'dir = "out"'), "utf-8")
    return toml


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    """The example study run with the steps in turn (jobs=1) and overlapped (the default, no
    jobs given: key 2)."""
    mp = pytest.MonkeyPatch()
    # the overlap needs 2 usable CPUs and room for the child: pin both, so the test takes the
    # parallel path on any machine (a 1-CPU runner still runs the child, just not faster)
    mp.setattr(engine, "usable_cpus", lambda: 2)
    mp.setenv(engine.MEMORY_LIMIT_ENV, "64G")
    base = tmp_path_factory.mktemp("jobs")
    runs = {}
    try:
        for key, jobs in ((1, 1), (2, None)):
            toml = _example_copy(base / f"jobs{key}")
            runs[key] = run_study(toml, jobs=jobs, clock=lambda: "2026-01-01T00:00:00Z")
    finally:
        mp.undo()
    return runs


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


# ---- overlapped steps: same bytes ----------------------------------------------------------------


def test_overlapped_run_really_ran_communities_in_a_child(both_ways):
    """Guard against a silent fallback: the default run overlapped the two steps, jobs=1 not."""
    seq = {s.name: s for s in both_ways[1].steps}
    par = {s.name: s for s in both_ways[2].steps}
    assert par["stance"].overlaps == "communities" and par["communities"].overlaps == "stance"
    assert "in a child process" in par["communities"].detail
    assert not any(s.overlaps for s in seq.values())
    assert "communities run after it (--jobs 1)" in seq["stance"].detail
    assert [s.status for s in both_ways[2].steps] == ["ran"] * 5


def test_overlapped_run_really_made_the_report_graph_parts_in_a_child(both_ways):
    """Guard against a silent fallback: the default run made graph.gexf, the network map's
    graph and tables/stance.csv in the report's child beside the metrics step; jobs=1 not."""
    seq = {s.name: s for s in both_ways[1].steps}
    par = {s.name: s for s in both_ways[2].steps}
    assert par["metrics"].overlaps == "report" and par["report"].overlaps == "metrics"
    assert "overlapped with the report's child process for" in par["metrics"].detail
    assert "graph parts in a child process" in par["report"].detail
    assert "its graph.gexf" in par["report"].detail  # (the example has edges: a file)
    assert "the report's graph parts made after it (--jobs 1)" in seq["metrics"].detail
    # the report step's seconds are its own, after the metrics step's (not both together)
    assert par["report"].start >= par["metrics"].start + par["metrics"].seconds


def test_overlapped_run_gives_byte_identical_metrics_and_report(both_ways):
    a = _files(both_ways[1].out_dir)
    b = _files(both_ways[2].out_dir)
    assert "metrics.json" in a and "report.md" in a and "index.html" in a
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert differ == []


def test_overlapped_run_gives_the_metrics_computed_from_scratch(both_ways):
    """The child made the sensitivity grid's community detections and the baseline edges for
    the metrics step (files in the work folder); the metrics are those `netsupport support`
    computes from scratch, detecting and aggregating everything itself."""
    import json

    from netsupport.schema import Table
    from netsupport.store import Store
    from netsupport.studyfile import load_study
    from netsupport.support import compute_metrics
    from netsupport.support.coverage import input_spans

    out = both_ways[2].out_dir
    _, _, _, runs, edges = engine.read_graph_measures(engine.GraphFiles.in_folder(work_dir(out)))
    assert runs is not None and runs.info["runs"] and edges is not None and len(edges)
    study = load_study(out.parent / "study.toml")
    store = Store(study.store_dir)
    tables = {
        t: store.read(t) for t in (Table.POSTS, Table.INTERACTIONS, Table.FOLLOWS, Table.ACCOUNTS)
    }
    expected = compute_metrics(tables, study, spans=input_spans(store.imported_files()))
    assert expected["sensitivity"]["communities"]["runs"]  # (the grid was measured)
    written = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    # the report adds the Data line's counts: the store's rows (methods review #15)
    data = written.pop("data")
    # the example's Data line: 4,600 posts, 4,847 interactions, 304 follow ties, 1,200 profiles
    # from 6 input files (the 5 [[inputs]] and accounts.csv)
    want = {"posts": 4600, "interactions": 4847, "follows": 304, "accounts": 1200}
    assert data == {**want, "input_files": 6}
    assert {Table(t).value: len(v) for t, v in tables.items()} == want
    assert set(want) == set(report.DATA_TABLES)
    assert written == expected


def test_overlapped_run_leaves_no_temporary_files(both_ways):
    cache = work_dir(both_ways[2].out_dir)
    assert not (cache / "tmp").exists()
    assert (cache / "membership.parquet").is_file() and (cache / "communities.json").is_file()


def test_overlapped_step_lines_say_when_they_overlapped(both_ways):
    st = {s.name: s for s in both_ways[2].steps}
    assert "overlapped with communities for" in st["stance"].detail
    assert "overlapped with stance for" in st["communities"].detail
    # the child's interval lies where it must (causally, whatever the machine's load): it
    # starts after the stance step started and ends before the metrics step starts
    c0 = st["communities"].start
    assert st["stance"].start <= c0
    assert c0 + st["communities"].seconds <= st["metrics"].start


def test_cli_jobs_1_runs_the_steps_in_turn(tmp_path):
    toml = _example_copy(tmp_path / "ex")
    res = CliRunner().invoke(app, ["run", str(toml), "--jobs", "1"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())  # (the step lines wrap at the console's width)
    assert "communities run after it (--jobs 1)" in text
    assert "in a child process" not in text


def test_an_error_in_the_report_child_is_one_line_and_leaves_the_old_report(tmp_path, monkeypatch):
    """The report's child fails (here: its interactions file is gone): the run stops with the
    usual one-line error and exit 2, the report of the previous run is left as it was, and no
    half-built report stays in the staging folder."""
    from netsupport import study as study_mod
    from netsupport.outdir import staging_dir

    toml = _example_copy(tmp_path / "ex")
    monkeypatch.setattr(engine, "usable_cpus", lambda: 2)
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "64G")
    first = run_study(toml, jobs=1, clock=lambda: "2026-01-01T00:00:00Z")
    before = _files(first.out_dir)
    start = study_mod.RunContext.start_report_child

    def start_without_interactions(self, pool):
        self.interactions_arrow = self.temp_dir / "gone.arrow"  # (never written)
        return start(self, pool)

    monkeypatch.setattr(study_mod.RunContext, "start_report_child", start_without_interactions)
    res = CliRunner().invoke(app, ["run", str(toml), "--force", "--jobs", "1"])
    assert res.exit_code == 0, res.output  # (in turn: no child, nothing to fail)
    res = CliRunner().invoke(app, ["run", str(toml), "--force", "--jobs", "2"])
    assert res.exit_code == 2, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "gone.arrow" in last
    assert "Traceback" not in res.output
    assert _files(first.out_dir) == before
    assert not staging_dir(first.out_dir).exists()
    assert not (work_dir(first.out_dir) / "tmp").exists()


# ---- when not to overlap -------------------------------------------------------------------------


def test_one_cpu_runs_the_steps_in_turn():
    assert engine.overlap_decision(2, {"interactions": 10**6}, cpus=1) == "1 CPU available"
    assert engine.overlap_decision(4, {"interactions": 10**6}, cpus=1) == "1 CPU available"


def test_jobs_1_runs_the_steps_in_turn():
    assert engine.overlap_decision(1, {"interactions": 10**6}, cpus=2) == "--jobs 1"


def test_steps_overlap_on_two_cpus_when_asked_and_they_fit(monkeypatch):
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "64G")
    assert engine.overlap_decision(2, {"interactions": 10**6}, cpus=2) is None
    assert engine.overlap_decision(2, {"interactions": 10}, cpus=2) is None


def test_by_default_the_steps_overlap_when_two_cpus_are_usable_and_they_fit(monkeypatch):
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "64G")
    for n in (10, 10**6, 10**7):
        assert engine.overlap_decision(None, {"interactions": n}, cpus=2) is None
    assert engine.overlap_decision(None, {"interactions": 10**6}, cpus=1) == "1 CPU available"
    why = engine.overlap_decision(None, {"interactions": 10**9}, cpus=2)
    assert why is not None and "GiB" in why


def test_the_child_reads_the_interactions_the_step_gives_the_same_results_from(tmp_path):
    """What the child computes from its lean copy (shared handle strings, post ids as codes,
    only the rows up to the crisis end: engine.read_graph_interactions) equals what the step
    computes in the runner's process from the study's interactions."""
    import pandas as pd

    from netsupport.stance import read_tables, stance_interactions
    from netsupport.studyfile import load_study

    toml = _example_copy(tmp_path / "ex")
    res = run_study(toml, jobs=1, clock=lambda: "2026-01-01T00:00:00Z")
    study = load_study(toml)
    inter = stance_interactions(read_tables(study.store_dir), study)
    lean = engine.read_graph_interactions(
        engine.write_arrow(inter, tmp_path / "i.arrow"), study.windows
    )
    assert 0 < len(lean) < len(inter)  # (the example has rows after the crisis)
    assert lean["source"].dtype == object and lean["post_id"].dtype == "float64"
    a = engine.pandas_graph_measures(inter, study)
    b = engine.pandas_graph_measures(lean, study)
    pd.testing.assert_series_equal(a[0], b[0])
    pd.testing.assert_series_equal(a[2], b[2])
    assert a[1] == b[1] and a[3] == b[3] and a[4].info == b[4].info
    parts = [*a[4].partitions, a[4].consensus], [*b[4].partitions, b[4].consensus]
    for pa_, pb in zip(*parts, strict=True):
        pd.testing.assert_series_equal(pa_, pb)
    pd.testing.assert_frame_equal(a[5], b[5])
    assert res.steps  # (the run made the store)


def test_steps_that_do_not_fit_together_run_in_turn(monkeypatch):
    counts = {"posts": 10**6, "interactions": 10**6}
    alone = engine.estimate_memory(counts, "pandas")
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, str(alone + 2**20))  # the parent fits, not both
    engine.check_memory(counts)  # (the run itself goes ahead)
    why = engine.overlap_decision(2, counts, cpus=2)
    assert why is not None and "GiB" in why


def test_the_report_child_waits_when_it_does_not_fit_and_says_so(tmp_path, monkeypatch):
    """Room for the run but not for the report's child beside the metrics step: the report's
    graph parts are made after it, in this process, and the step line says why."""
    from netsupport.store import Store
    from netsupport.studyfile import load_study

    toml = _example_copy(tmp_path / "ex")
    monkeypatch.setattr(engine, "usable_cpus", lambda: 2)
    run_study(toml, jobs=1)  # (the store, for its counts)
    counts = Store(load_study(toml).store_dir).counts()
    alone = engine.estimate_memory(counts, "pandas")
    assert engine.estimate_memory(counts, "report") > 2**20
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, str(alone + 2**20))  # the run fits, not both
    why = engine.overlap_decision(2, counts, cpus=2, child="report")
    assert why is not None and "GiB" in why
    res = CliRunner().invoke(app, ["run", str(toml), "--force", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert f"the report's graph parts made after it ({why})" in text
    assert "graph parts in a child process" not in text


def test_the_dask_engine_overlaps_nothing():
    # its communities step reads the aggregates its stance step made
    assert engine.get_engine("dask").concurrent == ()
    assert engine.get_engine("pandas").concurrent == ("stance", "communities")
    assert not engine.get_engine("dask").report_child
    assert engine.get_engine("pandas").report_child


# ---- one interface -------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """The netsupport modules a source file imports (relative imports, anywhere in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("netsupport."):
            names.add(node.module.removeprefix("netsupport."))
    return names


def test_no_import_circle_between_the_runner_and_the_engines():
    """study.py wires the steps once; the engines compute them. Before the engine interface,
    study.py imported scale.py (memory check, Dask context) and scale.py subclassed study.py's
    step context: the step wiring was written twice. scale.py is now the package scale/."""
    assert not any(m.split(".")[0] == "scale" for m in _imports(PKG / "study.py"))
    scale = sorted((PKG / "scale").glob("*.py"))  # the Dask engine's package
    assert len(scale) > 1
    for path in scale:
        assert "study" not in _imports(path), path
    assert "study" not in _imports(PKG / "engine.py")


def test_unknown_engine_is_one_line_naming_it():
    with pytest.raises(StudyError, match="engine: expected pandas or dask, got 'spark'"):
        engine.get_engine("spark")
    with pytest.raises(StudyError, match="--engine dask"):
        engine.get_engine("pandas", scheduler="tcp://127.0.0.1:8786")


# ---- memory estimates ----------------------------------------------------------------------------


def test_memory_estimate_grows_with_the_store():
    small = engine.estimate_memory({"posts": 10**5, "interactions": 10**5})
    big = engine.estimate_memory({"posts": 10**7, "interactions": 10**7})
    base = engine.PANDAS_BASE_BYTES
    assert big - base == 100 * (small - base)  # linear in the rows
    assert engine.estimate_memory({"interactions": 10**7}, "dask") < big / 2


def test_too_big_for_pandas_is_a_clear_message_not_a_crash(tmp_path, monkeypatch):
    toml = _example_copy(tmp_path / "ex")
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "100M")
    res = CliRunner().invoke(app, ["run", str(toml)])
    assert res.exit_code == 2
    msg = res.output.strip().splitlines()[-1]
    assert msg.startswith("error: the store holds ")
    assert "--engine dask" in msg and "GiB" in msg
    assert not (tmp_path / "ex" / "out" / "metrics.json").exists()


def test_memory_limit_env_is_validated(monkeypatch):
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "2G")
    assert engine.memory_limit() == 2 * 2**30
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(NetsupportError, match="NETSUPPORT_MEMORY_LIMIT"):
        engine.memory_limit()


def test_check_memory_passes_when_it_fits(monkeypatch):
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "64G")
    assert engine.check_memory({"posts": 10**6, "interactions": 10**6}) > 0
    monkeypatch.setenv(engine.MEMORY_LIMIT_ENV, "1G")
    with pytest.raises(ResourceLimit, match="driver on a machine with more memory"):
        engine.check_memory({"posts": 10**7, "interactions": 10**7}, engine="dask")
