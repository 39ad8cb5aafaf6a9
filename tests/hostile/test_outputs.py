"""Hostile cases of issue 14 for what netsupport writes: output folder, report, CLI (items 1, 3,
4, 14, 16, 18, 20-24). Each test names the item it guards; every item has a test that failed
before its fix (the others guard what the fix must keep: stale files of a run still removed, an
empty folder still fine).

The study is a small synthetic case (netsupport.synth: 300 accounts, 1,500 posts).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.errors import StudyError, StudyKeyError
from netsupport.outdir import work_dir
from netsupport.study import run_study
from netsupport.studyfile import load_study
from netsupport.synth import SynthConfig, synthesize

INPUTS = ("tweets.jsonl", "twitter-archive-inspector_lane.zip")
CRISIS = ("--crisis", "2014-02-14T09:00Z", "2014-02-19T18:00Z")

STUDY = """\
[study]
name = "t"
focal = ["inspector_lane"]
institution = ["northshire_police"]
markers = ["#standwithlane"]

[windows]
crisis_start = "2014-02-14T09:00:00Z"
crisis_end = "2014-02-19T18:00:00Z"
{windows}

[[inputs]]
path = "tweets.jsonl"
format = "twitter-v2"

[[inputs]]
path = "twitter-archive-inspector_lane.zip"

[support]
bootstrap = {bootstrap}

[output]
{output}
"""


def write_study(
    d: Path, *, output: str = 'dir = "out"', bootstrap: int = 200, windows: str = ""
) -> Path:
    path = d / "study.toml"
    text = STUDY.format(
        output=output, bootstrap=bootstrap, windows=windows or "baseline_days = 7\nafter_days = 7"
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def out_case(tmp_path_factory) -> Path:
    """The synthetic case's input files (each test copies them)."""
    d = tmp_path_factory.mktemp("out_case")
    synthesize(d, SynthConfig(seed=5, accounts=300, interactions=1500, days=7, name="t"))
    return d


@pytest.fixture
def out_study(out_case, tmp_path) -> Path:
    """A fresh folder with the case's inputs and a study.toml (report into ``out/``)."""
    for name in INPUTS:
        shutil.copyfile(out_case / name, tmp_path / name)
    write_study(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def out_ran(out_case, tmp_path_factory) -> Path:
    """The case run once; tests work on copies (``out_ran_copy``)."""
    d = tmp_path_factory.mktemp("out_ran")
    for name in INPUTS:
        shutil.copyfile(out_case / name, d / name)
    write_study(d)
    run_study(d / "study.toml", clock=lambda: "2024-01-01T00:00:00Z")
    return d


@pytest.fixture
def out_ran_copy(out_ran, tmp_path) -> Path:
    dst = tmp_path / "study"
    shutil.copytree(out_ran, dst)
    return dst


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output  # one line, no traceback, no usage box
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


# ---- item 1: a run never deletes the user's files ------------------------------------------------


def test_item1_run_refuses_a_folder_of_the_users_files(out_study):
    # the repro: [output] dir = "." over the user's folder; tables/my_survey.csv and
    # charts/holiday.png were deleted by the report step's clean-up
    (out_study / "tables").mkdir()
    (out_study / "tables" / "my_survey.csv").write_text("q,a\n1,2\n")
    (out_study / "charts").mkdir()
    (out_study / "charts" / "holiday.png").write_bytes(b"\x89PNG holiday")
    write_study(out_study, output='dir = "."\nstore = "../store"')
    before = digests(out_study)
    line = one_error_line(cli("run", out_study / "study.toml"))
    assert "output.dir" in line and "no netsupport run made it" in line
    assert digests(out_study) == before  # nothing written, nothing removed


def test_item1_run_refuses_a_report_folder_where_the_user_added_a_file(out_ran_copy):
    survey = out_ran_copy / "out" / "tables" / "my_survey.csv"
    survey.write_text("q,a\n1,2\n")
    line = one_error_line(cli("run", "--force", out_ran_copy / "study.toml"))
    assert "tables/my_survey.csv" in line and "manifest.json does not list it" in line
    assert survey.read_text() == "q,a\n1,2\n"


def test_item1_files_of_the_previous_run_are_replaced_and_stale_ones_removed(out_ran_copy):
    # a file the last run recorded (manifest "outputs") but this run does not write goes away
    out = out_ran_copy / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "charts" / "old.svg").write_text("<svg/>")
    manifest["outputs"]["charts/old.svg"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = cli("run", "--force", out_ran_copy / "study.toml")
    assert result.exit_code == 0, result.output
    assert not (out / "charts" / "old.svg").exists()
    assert (out / "index.html").is_file()


def test_item1_an_empty_or_missing_folder_is_fine(out_study):
    (out_study / "out" / "charts").mkdir(parents=True)  # folders without files count as empty
    result = cli("run", out_study / "study.toml")
    assert result.exit_code == 0, result.output


# ---- item 3: the store and the report folder cannot collide --------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('dir = "out"\nstore = "out"', "'output.store' and 'output.dir' are the same folder"),
        ('dir = "out"\nstore = "out/store"', "'output.store' (.*) is inside 'output.dir'"),
        ('dir = "s/out"\nstore = "s"', "'output.dir' (.*) is inside 'output.store'"),
        ('dir = "out"\nstore = "out.netsupport"', "collides with the run's work folder"),
    ],
)
def test_item3_store_and_report_folder_that_collide_are_refused_at_load(
    out_study, output, expected
):
    path = write_study(out_study, output=output)
    with pytest.raises(StudyKeyError, match=expected):
        load_study(path)
    line = one_error_line(cli("run", path))
    assert "study.toml:" in line  # the key's line


def test_item3_the_default_store_is_beside_the_report(out_study):
    s = load_study(out_study / "study.toml")
    assert s.store_dir == out_study / "out.netsupport" / "store"
    assert not s.store_dir.is_relative_to(s.output_dir)


# ---- item 4: the report is swapped in whole ------------------------------------------------------


def test_item4_a_report_step_stopped_midway_leaves_the_old_report_whole(out_ran_copy, monkeypatch):
    from netsupport import report

    out = out_ran_copy / "out"
    before = digests(out)
    write_study(out_ran_copy, bootstrap=300)  # new metrics, so a mix would show

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # killed after metrics.json, the tables and charts were written

    monkeypatch.setattr(report, "render_html", killed)
    with pytest.raises(KeyboardInterrupt):
        run_study(out_ran_copy / "study.toml")
    assert digests(out) == before  # the old report, not a mix
    monkeypatch.undo()
    r = run_study(out_ran_copy / "study.toml")
    assert json.loads((out / "metrics.json").read_text())["parameters"]["bootstrap"] == 300
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["outputs"]) | {"manifest.json"} == set(digests(out))
    assert all(digests(out)[k] == v for k, v in manifest["outputs"].items())
    assert {p.name for p in work_dir(out).iterdir()} >= {"store", "state.json"}
    assert not (work_dir(out) / "next").exists()  # the old report went with the swap
    assert r.index_html == out / "index.html"


def test_item4_the_store_and_cache_survive_the_swap(out_ran_copy):
    from netsupport.store import Store

    store = load_study(out_ran_copy / "study.toml").store_dir
    counts = Store(store).counts()
    r = run_study(out_ran_copy / "study.toml", force=True)
    assert [s.status for s in r.steps] == ["ran"] * 5
    assert Store(store).counts() == counts and counts["posts"] > 0
    r2 = run_study(out_ran_copy / "study.toml")
    assert [s.status for s in r2.steps] == ["reused"] * 5


def test_item4_an_old_layout_report_folder_is_taken_over(out_ran_copy):
    # reports written before the swap kept the cache and a run-made store inside the folder
    out = out_ran_copy / "out"
    shutil.copytree(work_dir(out) / "store", out / "store")
    (out / ".netsupport").mkdir()
    (out / ".netsupport" / "state.json").write_text("{}")
    result = cli("run", out_ran_copy / "study.toml")
    assert result.exit_code == 0, result.output
    assert not (out / "store").exists() and not (out / ".netsupport").exists()


# ---- item 16: limits instead of tracebacks ------------------------------------------------------


def test_item16_a_huge_bootstrap_is_refused_naming_the_key(out_study):
    path = write_study(out_study, bootstrap=10**12)
    line = one_error_line(cli("run", path))
    assert "'support.bootstrap' must be from 1 to 10,000" in line and "memory" in line


# ---- item 18: a window given twice -------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "keys"),
    [
        (
            'baseline_days = 7\nbaseline_start = "2014-02-01T00:00:00Z"',
            ("windows.baseline_days", "windows.baseline_start"),
        ),
        (
            'after_days = 7\nafter_end = "2014-03-01T00:00:00Z"',
            ("windows.after_days", "windows.after_end"),
        ),
    ],
)
def test_item18_a_window_length_and_instant_together_are_refused(out_study, windows, keys):
    path = write_study(out_study, windows=windows)
    with pytest.raises(StudyError) as exc:
        load_study(path)
    assert all(k in str(exc.value) for k in keys), exc.value
    assert "study.toml:" in one_error_line(cli("run", path))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"imports": [{}]}, "imports[0] needs a path, a format and a sha256"),
        ({"next_part": "x"}, "'next_part' is 'x', not a positive integer"),
        ({"imports": [{"path": "a", "format": "csv", "sha256": "0", "rows": 3}]}, "rows"),
    ],
)
@pytest.mark.parametrize("command", ["info", "import"])
def test_item16_a_damaged_store_manifest_is_one_line(tmp_path, change, expected, command):
    # `netsupport info` died with KeyError on "imports": [{}], an import with ValueError in
    # commit on "next_part": "x"
    src = tmp_path / "a.csv"
    src.write_text("source,target,kind,created_at,text\namy,lane,mention,2014-02-14T10:00Z,hi\n")
    store = tmp_path / "store"
    assert cli("import", src, "--store", store).exit_code == 0
    manifest = json.loads((store / "manifest.json").read_text())
    (store / "manifest.json").write_text(json.dumps({**manifest, **change}))
    other = tmp_path / "b.csv"
    other.write_text(src.read_text().replace("amy", "bob"))
    args = ("info", "--store", store) if command == "info" else ("import", other, "--store", store)
    line = one_error_line(cli(*args))
    assert "manifest.json: damaged manifest" in line and expected in line


# ---- item 22: a file where a folder option wants a folder ---------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("info", "--store", "{f}"),
        ("import", "{f}", "--store", "{f}"),
        ("graph", "--store", "{f}", "--out", "{d}/g.gexf"),
        ("communities", "--store", "{f}"),
        ("stance", "--store", "{f}", "--focal", "lane"),
        (
            "support",
            "--store",
            "{f}",
            "--focal",
            "lane",
            "--crisis",
            "2014-02-14T09:00Z",
            "2014-02-19T18:00Z",
        ),
        ("communities", "--study", "{d}/study.toml", "--out", "{f}"),
        ("synth", "--out", "{f}"),
    ],
)
def test_item22_a_file_given_as_a_folder_is_one_line(out_study, args):
    # --store FILE printed click's usage box (the README promises `error: PATH: ...`, exit 2)
    f = out_study / "tweets.jsonl"
    line = one_error_line(cli(*(a.format(f=f, d=out_study) for a in args)))
    assert line.startswith(f"error: {f}: ") and "needs a folder, not a file" in line


# ---- item 21: a focal handle found nowhere, in every command -------------------------------------


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("stance", "--store", "{s}", "--focal", "nosuchuser", "--out", "{d}/x.csv"), "--focal"),
        (
            ("stance", "--store", "{s}", "--focal", "inspector_lane", "--institution", "nosuch"),
            "--institution",
        ),
        (
            ("support", "--store", "{s}", "--focal", "nosuchuser", "--out", "{d}/m.json", *CRISIS),
            "--focal",
        ),
        (("stance", "--study", "{t}"), "focal"),
        (("support", "--study", "{t}"), "focal"),
        (("graph", "--study", "{t}", "--out", "{d}/g.gexf"), "focal"),
        (("communities", "--study", "{t}"), "focal"),
        (("report", "--study", "{t}"), "focal"),
        (("run", "{t}"), "focal"),
    ],
)
def test_item21_every_command_refuses_a_focal_handle_found_nowhere(out_ran_copy, args, key):
    # `netsupport stance --focal nosuchuser` exited 0 with "wrote 0 interactions"
    study = out_ran_copy / "study.toml"
    store = load_study(study).store_dir
    study.write_text(
        study.read_text().replace('focal = ["inspector_lane"]', 'focal = ["nosuchuser"]')
    )
    d = out_ran_copy
    line = one_error_line(cli(*(a.format(s=store, t=study, d=d) for a in args)))
    assert f"{key}: @nosuch" in line and "appears in no post, interaction, follow" in line
    assert (
        not (d / "x.csv").exists() and not (d / "m.json").exists() and not (d / "g.gexf").exists()
    )


# ---- item 23: --help shows help texts and defaults as written ------------------------------------


def _help_cases():
    from typer.main import get_command

    group = get_command(app)
    return [(name, cmd) for name, cmd in sorted(group.commands.items())]


@pytest.mark.parametrize(("name", "cmd"), _help_cases(), ids=[n for n, _ in _help_cases()])
def test_item23_help_renders_every_help_text_and_default(name, cmd):
    # rich_markup_mode="markdown" ate '<output dir>' ("default: /stance.csv") and
    # '<out>' ("default: .coding.csv") and 'lexicon:<phrase>' in the command's own help
    import enum

    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "3000"})
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.replace("│", " ").split())

    def plain(text: str) -> str:  # the help as written in cli.py
        return " ".join(text.replace("\\", "").split())

    assert plain(cmd.help).split("\n")[0][:60] in shown
    for special in ("<", "[", "]"):
        assert plain(cmd.help).count(special) <= shown.count(special)
    for param in cmd.params:
        help_text = getattr(param, "help", None)
        if help_text and param.name != "help":
            assert plain(help_text) in shown, (name, param.name)
        default = param.default
        if getattr(param, "show_default", True) is False or default is None:
            continue
        if isinstance(default, bool) or getattr(param, "is_flag", False):
            continue
        value = default.value if isinstance(default, enum.Enum) else default
        assert f"[default: {value}]" in shown, (name, param.name, value)


# ---- item 20: bidi controls never reach an output raw --------------------------------------------

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_item20_bidi_controls_are_neutralised_in_every_output(out_study):
    # a handle with U+202E and texts with isolates passed raw into tables/*.csv, index.html,
    # report.md, metrics.json and graph.gexf, where they make one name look like another
    tweets = out_study / "tweets.jsonl"
    text = tweets.read_text(encoding="utf-8")
    assert text.count("sgt_ana_corbel") > 10  # a proxy of the synthetic case, in every table
    text = text.replace("sgt_ana_corbel", "sgt_ana\\u202ecorbel")
    text = text.replace("Thank you", "Thank\\u2067 you\\u200f").replace(" the ", " the\\u202a ")
    tweets.write_text(text, encoding="utf-8")
    result = cli("run", out_study / "study.toml")
    assert result.exit_code == 0, result.output
    assert not any(c in result.output for c in BIDI)  # the findings printed
    assert "sgt_ana[U+202E]corbel" in result.output
    store = str(load_study(out_study / "study.toml").store_dir)
    for args in (("info", "--store", store), ("communities", "--study", out_study / "study.toml")):
        printed = cli(*args)
        assert printed.exit_code == 0 and not any(c in printed.output for c in BIDI), args
    out = out_study / "out"
    files = sorted(
        p for p in out.rglob("*") if p.suffix in {".csv", ".html", ".md", ".json", ".gexf"}
    )
    assert {"index.html", "report.md", "metrics.json", "graph.gexf"} <= {p.name for p in files}
    marked = set()
    for p in files:
        content = p.read_text(encoding="utf-8")
        assert not any(c in content for c in BIDI), p.relative_to(out)
        if "sgt_ana[U+202E]corbel" in content.replace("\\", ""):  # report.md escapes _ [ ]
            marked.add(p.relative_to(out).as_posix())
    # the handle is still told apart, and shown with the mark, wherever it is written
    assert {"index.html", "report.md", "metrics.json", "graph.gexf"} <= marked, marked
    assert any(m.startswith("tables/") for m in marked)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "[U+202A]" in html  # post texts too (the top posts)


def test_item20_graph_exports_neutralise_bidi(graph_interactions, tmp_path):
    from netsupport.gexfout import export_graph
    from netsupport.graph import aggregate_edges, build_graph

    df = graph_interactions.dropna(subset=["source"]).copy()
    df["source"] = df["source"].str.replace("amy", "a\u202emy", regex=False)
    g = build_graph(aggregate_edges(df))
    for name in ("g.gexf", "g.graphml", "g.csv"):
        export_graph(g, tmp_path / name)
    for p in tmp_path.iterdir():
        content = p.read_text(encoding="utf-8")
        assert not any(c in content for c in BIDI), p.name
        assert "a[U+202E]my" in content, p.name


# ---- item 24: timeline bins never mix two windows ----------------------------------------------


def _windows_at(start: str, end: str, days: float = 14):
    from netsupport.windows import Windows

    return Windows.from_crisis(start, end, days, days)


@pytest.mark.parametrize(
    ("start", "end", "days", "freq"),
    [
        ("2014-02-14T09:00Z", "2014-02-19T18:00Z", 14, "D"),  # the example's crisis
        ("2014-02-14T09:30Z", "2014-02-15T02:15Z", 1, "h"),
        ("2014-02-14T23:59Z", "2014-02-20T00:01Z", 3.5, "D"),
    ],
)
def test_item24_every_bin_lies_in_one_window(start, end, days, freq):
    from netsupport.timebins import TimeBins

    w = _windows_at(start, end, days)
    bins = TimeBins(w, freq)
    edges = bins.edges
    assert edges[0] == w.baseline_start and edges[-1] == w.after_end
    assert w.crisis_start in edges and w.crisis_end in edges  # a boundary is always an edge
    assert max(bins.hours()) == bins.width / pd.Timedelta(hours=1)
    # every whole bin of the crisis starts a whole number of bins after the crisis start
    crisis = edges[(edges >= w.crisis_start) & (edges < w.crisis_end)]
    assert all((t - w.crisis_start) % bins.width == pd.Timedelta(0) for t in crisis)


def test_item24_posts_either_side_of_the_crisis_start_fall_in_different_bars():
    # the crisis starts at 09:00: posts at 08:00 (baseline) and 10:00 (crisis) shared one
    # calendar-day bar; so did 17:00 (crisis) and 19:00 (after) on the last day
    from netsupport.report_charts import attention_counts

    w = _windows_at("2014-02-14T09:00Z", "2014-02-19T18:00Z")
    times = ["2014-02-14T08:00Z", "2014-02-14T10:00Z", "2014-02-19T17:00Z", "2014-02-19T19:00Z"]
    units = pd.DataFrame(
        {
            "target_side": ["focal"] * 4,
            "stance": ["supportive"] * 4,
            "created_at": pd.to_datetime(times, utc=True),
        }
    )
    got = attention_counts(units, w, "D")
    assert [str(t) for t in got["time"]] == [
        "2014-02-13 09:00:00+00:00",
        "2014-02-14 09:00:00+00:00",
        "2014-02-19 09:00:00+00:00",
        "2014-02-19 18:00:00+00:00",
    ]
    assert got["count"].tolist() == [1, 1, 1, 1]


def test_item24_no_bar_of_the_attention_chart_crosses_a_window_boundary():
    import matplotlib.dates as mdates
    from matplotlib.patches import Rectangle

    from netsupport import charts
    from netsupport.report_charts import attention_counts

    w = _windows_at("2014-02-14T09:00Z", "2014-02-19T18:00Z")
    hours = pd.date_range(w.baseline_start, w.after_end, freq="3h", inclusive="left")
    units = pd.DataFrame(
        {"target_side": "focal", "stance": "supportive", "created_at": hours.tz_convert("UTC")}
    )
    fig = charts.attention_timeline(attention_counts(units, w, "D"), w, focal_label="@x")
    cuts = [mdates.date2num(t.tz_localize(None)) for t in (w.crisis_start, w.crisis_end)]
    bars = [
        p
        for p in fig.axes[0].patches
        if isinstance(p, Rectangle) and p.get_height() > 0 and p.get_width() < 1.01
    ]
    assert len(bars) >= 33  # 14 + 6 + 14 days: one bar per bin (the crisis's last one is 9 h)
    for bar in bars:
        x0, x1 = bar.get_x(), bar.get_x() + bar.get_width()
        assert not any(x0 < c < x1 - 1e-9 for c in cuts), (x0, x1)
    # the 9-hour bin's count (3 posts) is drawn as a rate per day: 3 * 24 / 9 = 8 posts
    last = max((b for b in bars if b.get_x() < cuts[1]), key=lambda b: b.get_x())
    assert last.get_height() == pytest.approx(8.0)


# ---- item 14: byte-identical floats at scale -------------------------------------------------


def test_item14_pagerank_and_the_gexf_are_bit_identical_above_the_fast_threshold(tmp_path):
    # on a 563k-interaction case graph.gexf differed between two --force runs in ~190k PageRank
    # values at the 16th digit: above 50k edges PageRank ran on igraph, whose PRPACK (and
    # ARPACK) give different last digits on every call
    import re

    import numpy as np

    from netsupport import gexfout, graph

    rng = np.random.default_rng(14)
    m = graph.PAGERANK_SPARSE_MIN_EDGES + 5_000
    w = _windows_at("2014-02-14T09:00Z", "2014-02-19T18:00Z")
    inter = pd.DataFrame(
        {
            "source": [f"u{i:05d}" for i in rng.integers(0, 20_000, m)],
            "target": [f"u{i:05d}" for i in rng.integers(0, 20_000, m)],
            "kind": rng.choice(["mention", "repost", "reply"], m),
            "post_id": [str(i) for i in range(m)],
            "created_at": w.crisis_start + pd.to_timedelta(rng.integers(0, 400_000, m), unit="s"),
            "weight": 1.0,
        }
    )
    inter = inter[inter["source"] != inter["target"]]
    edges = graph.aggregate_edges(inter)
    assert len(edges) >= graph.PAGERANK_SPARSE_MIN_EDGES  # the path the big case took

    def write(frame: pd.DataFrame, name: str) -> bytes:
        pr = graph.pagerank(graph.aggregate_edges(frame))
        attrs = pd.DataFrame({"handle": pr.index, "crisis_pagerank": pr.to_numpy()})
        return gexfout.write_dynamic_gexf(frame, w, tmp_path / name, node_attrs=attrs).read_bytes()

    a = write(inter, "a.gexf")
    b = write(inter.sample(frac=1.0, random_state=7), "b.gexf")  # another order, another call
    assert a == b
    doubles = re.findall(rb'value="(-?[0-9.]+(?:e-?[0-9]+)?)"', a)
    assert len(doubles) > 20_000
    assert all(len(d.split(b"e")[0].replace(b".", b"").lstrip(b"-0")) <= 10 for d in doubles)


def test_item4_without_an_atomic_exchange_the_swap_renames_twice(out_ran_copy, monkeypatch):
    # renameat2(RENAME_EXCHANGE) is Linux-only (and not on every file system): the fallback
    # moves the old report aside, the new one in, and deletes the old one
    from netsupport import outdir

    out = out_ran_copy / "out"
    before = digests(out)
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    from netsupport.study import report_study

    r = report_study(out_ran_copy / "study.toml")
    assert [s.status for s in r.steps] == ["reused"] * 4 + ["ran"]
    after = digests(out)
    assert after.keys() == before.keys()  # the manifest differs only in the steps' seconds
    assert {k: v for k, v in after.items() if k != "manifest.json"} == {
        k: v for k, v in before.items() if k != "manifest.json"
    }
    assert sorted(p.name for p in work_dir(out).iterdir() if p.name.startswith("next")) == []


def test_item4_a_leftover_staging_folder_is_cleared(out_ran_copy):
    staging = work_dir(out_ran_copy / "out") / "next"
    (staging / "tables").mkdir(parents=True)
    (staging / "tables" / "half.csv").write_text("a\n")
    r = run_study(out_ran_copy / "study.toml")
    assert [s.status for s in r.steps] == ["reused"] * 5
    assert not staging.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("report", "--study", "{d}/nope.toml"), "{d}/nope.toml: --study: does not exist"),
        (("run", "{d}"), "{d}: is a directory"),
        (("graph", "--study", "{d}/study.toml", "--out", "{d}"), "{d}: --out: is a directory"),
        (("stance", "--study", "{d}/study.toml", "--lexicon", "{d}"), "--lexicon: is a directory"),
    ],
)
def test_item22_a_missing_file_or_a_folder_for_a_file_is_one_line(out_study, args, expected):
    # the same usage box for --study nope.toml, --out FOLDER, a folder as the study
    line = one_error_line(cli(*(a.format(d=out_study) for a in args)))
    assert line == f"error: {expected.format(d=out_study)}" or expected.format(d=out_study) in line


def test_item22_a_bad_option_value_still_shows_the_usage():
    result = cli("graph", "--store", ".", "--out", "x.gexf", "--resolution", "abc")
    assert result.exit_code == 2 and "Usage" in result.output  # README: usage and the problem
