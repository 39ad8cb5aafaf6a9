"""Hostile inputs of the second fuzzing round (branch fz2): what the first round (fz1) left.

Each test names the input that failed before its fix.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.io.compressed import iter_lines
from netsupport.store import Store

runner = CliRunner()


def _import(path: Path, fmt: str, store: Path, *extra: str):
    result = runner.invoke(
        app, ["import", str(path), "--format", fmt, "--store", str(store), *extra]
    )
    assert "Traceback" not in result.output
    return result


def _rows(store: Path) -> tuple[int, list[tuple[int, str]]]:
    s = Store(store)
    rejects = s.read("rejects")
    return len(s.read("posts")), sorted(zip(rejects["source_line"], rejects["reason"], strict=True))


# ---- --format auto decided by a first line that is not an object ---------------------------
# A JSON lines file whose first line was [] or 1 or a broken line, or (Mastodon) blank, was
# refused under --format auto ("JSON, but not tweets", "cannot tell the format"), and Mastodon
# statuses after a first [] or blank line were refused even with --format mastodon
# ("malformed JSON document"): the first line decided alone.

JSON_LINES = [
    ("twarc2_page.jsonl", "twitter-v2"),
    ("v1_tweets.jsonl", "twitter-v2"),
    ("mastodon_statuses.jsonl", "mastodon"),
    ("bluesky_jetstream.ndjson", "bluesky"),
    ("reddit_comments.ndjson", "reddit"),
    ("reddit_submissions.ndjson", "reddit"),
]
FIRST_LINES = {"empty-array": b"[]\n", "number": b"1\n", "blank": b"\n \n", "garbage": b"oops\n"}


@pytest.mark.parametrize("first", list(FIRST_LINES))
@pytest.mark.parametrize(("fixture", "fmt"), JSON_LINES, ids=[f for f, _ in JSON_LINES])
def test_a_first_line_that_is_not_an_object_does_not_decide(
    tmp_path, data_dir, fixture, fmt, first
):
    src = data_dir / "io" / fixture
    copy = tmp_path / "in" / src.name
    copy.parent.mkdir()
    copy.write_bytes(FIRST_LINES[first] + src.read_bytes())
    assert _import(src, fmt, tmp_path / "orig").exit_code == 0
    named = _import(copy, fmt, tmp_path / "named")
    assert named.exit_code == 0, named.output
    auto = _import(copy, "auto", tmp_path / "auto")
    assert auto.exit_code == 0, auto.output
    assert _rows(tmp_path / "auto") == _rows(tmp_path / "named")
    assert _rows(tmp_path / "named")[0] == _rows(tmp_path / "orig")[0]  # every record kept


# ---- lines ended by CR alone ---------------------------------------------------------------
# A Reddit or Bluesky file saved with classic Mac OS line ends was one malformed line: with
# --format X, no post and one reject of the whole file; under auto, refused. Mastodon statuses
# and Twitter JSON lines were refused whole ("malformed JSON document", "not valid JSON").
# Every JSON lines reader now splits such a file at CR (CSV files: the csv module always did).

CR_CASES = JSON_LINES


@pytest.mark.parametrize("fmt_used", ["named", "auto"])
@pytest.mark.parametrize(("fixture", "fmt"), CR_CASES, ids=[f for f, _ in CR_CASES])
def test_lines_ended_by_cr_alone_read_as_lines(tmp_path, data_dir, fixture, fmt, fmt_used):
    src = data_dir / "io" / fixture
    data = src.read_bytes().replace(b"\r\n", b"\n")
    lf, cr = tmp_path / "lf" / src.name, tmp_path / "cr" / src.name
    for p, body in ((lf, data), (cr, data.replace(b"\n", b"\r"))):
        p.parent.mkdir()
        p.write_bytes(body)
    assert _import(lf, fmt, tmp_path / "s-lf").exit_code == 0
    result = _import(cr, fmt if fmt_used == "named" else "auto", tmp_path / "s-cr")
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path / "s-cr") == _rows(tmp_path / "s-lf")  # same rejects, same lines


_line = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(_line, max_size=12), block=st.integers(1, 9))
def test_iter_lines_splits_cr_only_text_as_lf_text(lines, block):
    lf = b"".join(line + b"\n" for line in lines)
    cr = lf.replace(b"\n", b"\r")
    assert list(iter_lines(io.BytesIO(lf), block)) == list(io.BytesIO(lf))
    if b"\r" in cr:
        assert list(iter_lines(io.BytesIO(cr), block)) == list(io.BytesIO(lf))


def test_iter_lines_leaves_crlf_and_lf_files_alone():
    data = b'{"a": 1}\r\n{"a": 2}\n\r\n'
    assert list(iter_lines(io.BytesIO(data))) == list(io.BytesIO(data))


# ---- messages that named the wrong thing ---------------------------------------------------
# `import --max-archive-bytes -1` was taken (and an archive then refused as "more than -1
# bytes"); `graph --out /dev/null/x.gexf` said "/dev/null: File exists"; an --out where no file
# can be made (/proc) named the temp file ("/proc/.x.gexf.p7mog5e8.tmp: No such file ...").


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory, data_dir_module) -> Path:
    store = tmp_path_factory.mktemp("tiny") / "store"
    assert _import(data_dir_module / "io" / "twarc2_page.jsonl", "auto", store).exit_code == 0
    return store


@pytest.fixture(scope="module")
def data_dir_module() -> Path:
    return Path(__file__).parent.parent / "data"


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("value", ["0", "-1"])
def test_max_archive_bytes_below_one_is_refused(tmp_path, data_dir, value):
    src = data_dir / "io" / "twarc2_page.jsonl"
    result = runner.invoke(
        app, ["import", str(src), "--store", str(tmp_path / "s"), "--max-archive-bytes", value]
    )
    assert result.exit_code == 2
    assert "--max-archive-bytes" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("command", ["graph", "communities"])
def test_an_out_under_a_device_says_it_is_not_a_folder(tiny_store, command):
    out = "/dev/null/x.gexf" if command == "graph" else "/dev/null/x"
    result = runner.invoke(app, [command, "--store", str(tiny_store), "--out", out])
    line = _one_line_error(result)
    assert "/dev/null" in line and "not a folder" in line and "File exists" not in line


def test_an_out_where_no_file_can_be_made_names_the_out(tiny_store):
    result = runner.invoke(app, ["graph", "--store", str(tiny_store), "--out", "/proc/x.gexf"])
    line = _one_line_error(result)
    assert "/proc/x.gexf" in line and ".tmp" not in line


# ---- one JSON node replaced -------------------------------------------------------------------
# Every node of a twarc2 page line, a v1 tweet, and a line after the first of Mastodon statuses,
# Jetstream events and Reddit comments and submissions, replaced one at a time by a wrong type,
# null, a huge or negative number, NaN-like strings, a surrogate half, NUL, a very long string or
# deep nesting (fz2: 4,300 imports, none a traceback, a refused file or a lost record). Bounded
# here: a few random ones per run.

NODE_FILES = [
    ("twarc2_page.jsonl", "twitter-v2", 0),
    ("v1_tweets.jsonl", "twitter-v2", 1),
    ("mastodon_statuses.jsonl", "mastodon", 1),
    ("bluesky_jetstream.ndjson", "bluesky", 2),
    ("reddit_comments.ndjson", "reddit", 1),
    ("reddit_submissions.ndjson", "reddit", 1),
]
_DEEP = b"[" * 3000 + b"]" * 3000
NODE_VALUES = [
    None,
    "x",
    -(2**63) - 1,
    10**30,
    1.5,
    True,
    [],
    {},
    "NaN",
    "-Infinity",
    "\ud83d",
    "a\x00b",
    "y" * 100_000,
    "__DEEP__",
]


def _node_paths(value, path=()):
    yield path
    if isinstance(value, dict | list):
        for k, v in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _node_paths(v, (*path, k))


def _replaced(value, path, new):
    if not path:
        return new
    value = json.loads(json.dumps(value))
    at = value
    for k in path[:-1]:
        at = at[k]
    at[path[-1]] = new
    return value


_KEPT: dict[tuple[str, int], set[str]] = {}


def _kept_ids(data_dir: Path, tmp: Path, fixture: str, fmt: str, line: int) -> set[str]:
    """The post ids imported from the fixture's other lines."""
    if (fixture, line) not in _KEPT:
        lines = (data_dir / "io" / fixture).read_bytes().split(b"\n")
        path = tmp / "others" / fixture
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join([*lines[:line], b"", *lines[line + 1 :]]))
        assert _import(path, fmt, tmp / "others-store").exit_code == 0
        _KEPT[fixture, line] = set(Store(tmp / "others-store").read("posts")["post_id"])
    return _KEPT[fixture, line]


@settings(max_examples=30, deadline=None)
@given(
    which=st.sampled_from(NODE_FILES),
    node=st.integers(0, 10_000),
    new=st.sampled_from(NODE_VALUES),
)
def test_one_json_node_replaced_loses_no_other_record(tmp_path_factory, which, node, new):
    fixture, fmt, line = which
    data_dir = Path(__file__).parent.parent / "data"
    tmp = tmp_path_factory.mktemp("node")
    lines = (data_dir / "io" / fixture).read_bytes().split(b"\n")
    record = json.loads(lines[line])
    paths = list(_node_paths(record))
    text = json.dumps(_replaced(record, paths[node % len(paths)], new), ensure_ascii=False)
    text = text.replace('"__DEEP__"', _DEEP.decode())
    path = tmp / "in" / fixture
    path.parent.mkdir()
    damaged = text.encode("utf-8", "surrogatepass")
    path.write_bytes(b"\n".join([*lines[:line], damaged, *lines[line + 1 :]]))
    result = _import(path, fmt, tmp / "store")
    assert result.exit_code == 0, result.output  # (one bad record never refuses the file)
    store = Store(tmp / "store")
    assert _kept_ids(data_dir, tmp_path_factory.mktemp("kept"), fixture, fmt, line) <= set(
        store.read("posts")["post_id"]
    )
    rejects = store.read("rejects")
    assert rejects["source_file"].notna().all() and rejects["reason"].str.len().gt(0).all()
    assert rejects["source_line"].notna().all()


@pytest.mark.parametrize(
    "path", [("account", "username"), ("reblog", "created_at"), ("reblog", "account", "username")]
)
def test_a_deeply_nested_value_in_a_status_is_a_reject(tmp_path, data_dir, path):
    # (fz2: 3,000 nested arrays where a status has a string: msgspec's typed decoder raised
    # RecursionError, a traceback, the whole file lost)
    src = data_dir / "io" / "mastodon_statuses.jsonl"
    lines = src.read_bytes().split(b"\n")
    text = json.dumps(_replaced(json.loads(lines[2]), path, "__DEEP__"))
    copy = tmp_path / "in" / src.name
    copy.parent.mkdir()
    damaged = text.replace('"__DEEP__"', _DEEP.decode()).encode()
    copy.write_bytes(b"\n".join([*lines[:2], damaged, *lines[3:]]))
    result = _import(copy, "mastodon", tmp_path / "store")
    assert result.exit_code == 0, result.output
    kept = _kept_ids(data_dir, tmp_path, "mastodon_statuses.jsonl", "mastodon", 2)
    assert kept <= set(Store(tmp_path / "store").read("posts")["post_id"])
    assert 3 in set(Store(tmp_path / "store").read("rejects")["source_line"])
