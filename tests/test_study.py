"""Tests for netsupport.study and the `run` / `report` commands: reproducible, cached runs.

The study is a small synthetic case (netsupport.synth: 300 accounts, 1,500 posts) read from its
twarc2 JSONL and the focal account's archive zip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.study import RUN_STORE_MARKER, run_study
from netsupport.synth import SynthConfig, synthesize

STUDY = """\
[study]
name = "t"
focal = ["inspector_lane"]
institution = ["northshire_police"]
markers = ["#standwithlane"]

[windows]
crisis_start = "{crisis_start}"
crisis_end = "{crisis_end}"
baseline_days = 7
after_days = 7

[[inputs]]
path = "{tweets}"
format = "twitter-v2"

[[inputs]]
path = "twitter-archive-inspector_lane.zip"
format = "auto"

[communities]
seed = 42

[support]
bootstrap = {bootstrap}
seed = 42

[output]
dir = "out"
"""


def _write_study(d: Path, **kw) -> Path:
    values = {
        "crisis_start": "2014-02-14T09:00:00Z",
        "crisis_end": "2014-02-19T18:00:00Z",
        "tweets": "tweets.jsonl",
        "bootstrap": 200,
    }
    values.update(kw)
    path = d / "study.toml"
    path.write_text(STUDY.format(**values), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    """A synthetic case folder (inputs only; each test writes its own study.toml)."""
    d = tmp_path_factory.mktemp("case")
    synthesize(d, SynthConfig(seed=5, accounts=300, interactions=1500, days=7, name="t"))
    return d


@pytest.fixture
def study_dir(case, tmp_path) -> Path:
    """A fresh copy of the case's inputs with a study.toml, so runs do not share outputs."""
    for name in ("tweets.jsonl", "twitter-archive-inspector_lane.zip"):
        (tmp_path / name).write_bytes((case / name).read_bytes())
    _write_study(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def ran(case, tmp_path_factory):
    """A study run once (in this process): ``(folder, RunResult)``; tests work on copies."""
    d = tmp_path_factory.mktemp("ran")
    for name in ("tweets.jsonl", "twitter-archive-inspector_lane.zip"):
        (d / name).write_bytes((case / name).read_bytes())
    _write_study(d)
    return d, run_study(d / "study.toml", clock=lambda: "2024-01-01T00:00:00Z")


@pytest.fixture
def ran_copy(ran, tmp_path) -> Path:
    """A copy of the run study (inputs, outputs, cache and store) in a fresh folder."""
    dst = tmp_path / "study"
    shutil.copytree(ran[0], dst)
    return dst


def _digests(out: Path) -> dict[str, str]:
    """sha256 of every report file (not the cache, the store or the manifest)."""
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
        and p.name != "manifest.json"
        and p.relative_to(out).parts[0] not in (".netsupport", "store")
    }


def _cli(args: list[str], hashseed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run(
        [sys.executable, "-m", "netsupport", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_run_twice_gives_byte_identical_outputs(ran, ran_copy):
    # the second run is another process with another string-hash seed (so set iteration order
    # differs) and --force, and writes over a copy of the first run's folder
    folder, first = ran
    a = _digests(folder / "out")
    second = _cli(["run", "--force", str(ran_copy / "study.toml")], "12345")
    assert second.returncode == 0, second.stderr
    assert " ran " in second.stderr and " reused " not in second.stderr  # --force: every step
    b = _digests(ran_copy / "out")
    expected = {"index.html", "report.md", "metrics.json", "graph.gexf"}
    assert expected <= set(a)
    assert {f"charts/{k}.{x}" for k in ("attention", "network") for x in ("png", "svg")} <= set(a)
    assert any(k.startswith("tables/") for k in a)
    assert a.keys() == b.keys()
    assert sorted(k for k in a if a[k] != b[k]) == []
    assert second.stdout.splitlines()[: len(first.findings)] == [f"- {s}" for s in first.findings]
    assert first.findings[0].startswith("Attention to @inspector_lane")


def test_run_gives_the_same_metrics_as_compute_metrics(ran):
    # run passes the cached communities and PageRank to support.analyse; the result must be what
    # `netsupport support` computes from scratch (guards against the two drifting apart)
    from netsupport.schema import Table
    from netsupport.store import Store
    from netsupport.studyfile import load_study
    from netsupport.support import compute_metrics
    from netsupport.support.coverage import input_spans

    folder, result = ran
    study = load_study(folder / "study.toml")
    store = Store(study.store_dir)
    tables = {
        t: store.read(t) for t in (Table.POSTS, Table.INTERACTIONS, Table.FOLLOWS, Table.ACCOUNTS)
    }
    # the input files' time spans come from the store's manifest, as `netsupport support` reads
    spans = input_spans(store.imported_files())
    expected = compute_metrics(tables, study, spans=spans)
    written = json.loads((folder / "out" / "metrics.json").read_text())
    # the report adds the Data line's counts (`netsupport support` writes none); the rest is equal
    assert set(written.pop("data")) == {
        "posts",
        "interactions",
        "follows",
        "accounts",
        "input_files",
    }
    assert written == expected
    assert result.metrics == expected
    assert "engine" in expected["mobilisation"] and "edges" in expected["amplifiers"]["graph"]


def test_second_run_reuses_every_step_and_changes_nothing(ran, ran_copy):
    _, r1 = ran
    assert [s.status for s in r1.steps] == ["ran"] * 5
    before = _digests(ran_copy / "out")
    r2 = run_study(ran_copy / "study.toml", clock=lambda: "2024-01-02T00:00:00Z")
    assert [s.status for s in r2.steps] == ["reused"] * 5
    assert _digests(ran_copy / "out") == before
    assert r2.metrics == r1.metrics and r2.findings == r1.findings
    manifest = json.loads((ran_copy / "out" / "manifest.json").read_text())
    assert manifest["created_at"] == "2024-01-02T00:00:00Z"  # the only wall-clock time
    assert manifest["steps"]["stance"]["status"] == "reused"
    tweets = ran_copy / "tweets.jsonl"
    assert {
        "path": "tweets.jsonl",
        "format": "twitter-v2",
        "bytes": tweets.stat().st_size,
        "sha256": hashlib.sha256(tweets.read_bytes()).hexdigest(),
    } in manifest["inputs"]
    assert manifest["parameters"]["support"]["bootstrap"] == 200
    assert manifest["seeds"] == {"communities": 42, "layout": 42, "support_bootstrap": 42}
    assert manifest["outputs"]["metrics.json"] == before["metrics.json"]
    # no file of the report says when it was made
    for name in ("index.html", "report.md", "metrics.json"):
        assert "2024-01-0" not in (ran_copy / "out" / name).read_text()


def test_a_changed_parameter_reruns_only_the_steps_that_depend_on_it(ran_copy):
    _write_study(ran_copy, bootstrap=300)
    r = run_study(ran_copy / "study.toml")
    assert {s.name: s.status for s in r.steps} == {
        "import": "reused",
        "stance": "reused",
        "communities": "reused",
        "metrics": "ran",
        "report": "ran",
    }
    assert r.metrics["parameters"]["bootstrap"] == 300


def test_a_changed_input_rebuilds_the_store(ran, ran_copy):
    n1 = ran[1].metrics["stance"]["interactions"]
    # keep the first half of the posts: a re-import into the old store would keep them all
    lines = (ran_copy / "tweets.jsonl").read_bytes().splitlines(keepends=True)
    (ran_copy / "half.jsonl").write_bytes(b"".join(lines[: len(lines) // 2]))
    _write_study(ran_copy, tweets="half.jsonl")
    r2 = run_study(ran_copy / "study.toml")
    assert [s.status for s in r2.steps] == ["ran"] * 5
    assert 0 < r2.metrics["stance"]["interactions"] < n1
    assert (ran_copy / "out.netsupport" / "store" / RUN_STORE_MARKER).exists()


def test_force_will_not_delete_a_store_it_did_not_create(study_dir):
    path = study_dir / "study.toml"
    path.write_text(path.read_text().replace('dir = "out"', 'dir = "out"\nstore = "mine"'))
    (study_dir / "mine").mkdir()
    (study_dir / "mine" / "keep.txt").write_text("my own files")
    result = CliRunner().invoke(app, ["run", "--force", str(path)])
    assert result.exit_code == 2
    assert "output.store" in result.output and "was not created by netsupport run" in result.output
    assert (study_dir / "mine" / "keep.txt").exists()


def test_report_command_rewrites_only_the_report(ran_copy):
    (ran_copy / "out" / "index.html").unlink()
    result = CliRunner().invoke(app, ["report", "--study", str(ran_copy / "study.toml")])
    assert result.exit_code == 0, result.output
    assert (ran_copy / "out" / "index.html").is_file()
    steps = {
        ln.split()[0]: ln.split()[1]
        for ln in result.output.splitlines()
        if ln.split()[:1] and ln.split()[0] in ("import", "stance", "metrics", "report")
    }
    assert steps == {"import": "reused", "stance": "reused", "metrics": "reused", "report": "ran"}


# ---- one-line errors, exit code 2 ---------------------------------------------------------------


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output  # one line, no traceback
    assert lines[0].startswith("error: ")
    return lines[0]


def test_typo_in_a_key_is_one_line_naming_the_key(study_dir):
    path = study_dir / "study.toml"
    path.write_text(path.read_text().replace("focal =", "focall ="))
    line = _error_line(CliRunner().invoke(app, ["run", str(path)]))
    assert "unknown key 'study.focall'" in line and "study.toml:3" in line


def test_missing_input_file_is_one_line_naming_the_path(study_dir):
    _write_study(study_dir, tweets="nope.jsonl")
    line = _error_line(CliRunner().invoke(app, ["run", str(study_dir / "study.toml")]))
    assert "inputs[0].path" in line and "nope.jsonl" in line


def test_crisis_outside_the_data_is_one_line_naming_the_keys(study_dir):
    _write_study(study_dir, crisis_start="2020-01-01T00:00:00Z", crisis_end="2020-01-05T00:00:00Z")
    line = _error_line(CliRunner().invoke(app, ["run", str(study_dir / "study.toml")]))
    assert "windows.crisis_start" in line and "lies outside the data" in line
    assert "2014-02" in line  # says where the data are


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('focal = ["inspector_lane"]', 'focal = ["inspector_lain"]', "focal"),
        (
            'institution = ["northshire_police"]',
            'institution = ["northshire_polce"]',
            "institution",
        ),
    ],
)
def test_a_handle_found_nowhere_in_the_data_is_one_line_naming_the_key(study_dir, old, new, key):
    # a mistyped handle ran to the end with figures about nobody (only marker posts addressed it)
    path = study_dir / "study.toml"
    path.write_text(path.read_text().replace(old, new))
    line = _error_line(CliRunner().invoke(app, ["run", str(path)]))
    assert f"{key}: @{new.split(chr(34))[1]} appears in no post" in line, line
    assert "study.toml" in line


def test_missing_study_file_is_one_line(tmp_path):
    line = _error_line(CliRunner().invoke(app, ["run", str(tmp_path / "none.toml")]))
    assert "none.toml" in line


@pytest.mark.parametrize("command", ["run", "report"])
def test_an_output_folder_under_a_file_is_one_line_naming_the_file(study_dir, command):
    (study_dir / "blocker").write_text("a file, not a folder")
    path = study_dir / "study.toml"
    path.write_text(path.read_text().replace('dir = "out"', 'dir = "blocker/out"'))
    args = ["run", str(path)] if command == "run" else ["report", "--study", str(path)]
    line = _error_line(CliRunner().invoke(app, args))
    assert "blocker is a file" in line, line


def test_a_second_run_of_the_same_study_at_once_is_refused(ran_copy):
    # usr7: two `netsupport run` of one study at the same time (two terminals) both exited 0
    # and left a report folder holding only index.html and manifest.json: each removed the
    # other's staging folder and temporary files
    import fcntl

    from netsupport.outdir import work_dir
    from netsupport.studyfile import load_study

    out = load_study(ran_copy / "study.toml").output_dir
    before = _digests(out)
    lock = work_dir(out) / ".run.lock"
    with open(lock, "a+b") as held:  # (another run holds it)
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        line = _error_line(CliRunner().invoke(app, ["run", str(ran_copy / "study.toml")]))
    assert "another netsupport run of this study is running" in line
    assert _digests(out) == before
    assert CliRunner().invoke(app, ["run", str(ran_copy / "study.toml")]).exit_code == 0
