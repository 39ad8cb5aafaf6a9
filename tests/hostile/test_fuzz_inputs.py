"""Tracebacks and lost records found by mutating the fixtures of tests/data/io the way real
exports go wrong (branch fz1): each case is the smallest input that showed the fault."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.io.base import loads
from netsupport.store import Store

runner = CliRunner()

# ---- a text cut inside an emoji: half a surrogate pair as a JSON escape -----------------------
# "\ud83d" alone is valid JSON (RFC 8259, 7: the grammar allows it); orjson refuses it, so one
# such text made its JSON line a reject, lost a twarc2 page of tweets, and refused a whole
# Twitter or Mastodon archive. It is read now, the half replaced by U+FFFD.

TEXT = re.compile(rb'"(text|full_text|content|body)" ?: ?"')

CASES = [  # (fixture, the file inside it to damage, --format)
    ("twarc2_page.jsonl", None, "auto"),
    ("v1_tweets.jsonl", None, "auto"),
    ("mastodon_statuses.jsonl", None, "auto"),
    ("bluesky_jetstream.ndjson", None, "auto"),
    ("reddit_comments.ndjson", None, "auto"),
    ("telegram/result_chat.json", None, "auto"),
    ("archive", "data/tweets.js", "auto"),
    ("mastodon-archive", "outbox.json", "mastodon"),
]


def _store_counts(store: Path) -> tuple[int, int, list[str]]:
    s = Store(store)
    posts = s.read("posts")
    return len(posts), len(s.read("rejects")), [t for t in posts["text"] if isinstance(t, str)]


def _import(path: Path, fmt: str, store: Path):
    result = runner.invoke(app, ["import", str(path), "--format", fmt, "--store", str(store)])
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize(("fixture", "member", "fmt"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("which", [0, -1], ids=["first", "last"])
def test_half_a_surrogate_pair_in_a_text_loses_nothing(
    tmp_path, data_dir, fixture, member, fmt, which
):
    src = data_dir / "io" / fixture
    copy = tmp_path / "in" / src.name
    if src.is_dir():
        shutil.copytree(src, copy)
    else:
        copy.parent.mkdir()
        shutil.copy(src, copy)
    damaged = copy / member if member else copy
    data = damaged.read_bytes()
    at = [m.end() for m in TEXT.finditer(data)][which]
    damaged.write_bytes(data[:at] + rb"\ud83d" + data[at:])

    assert _import(src, fmt, tmp_path / "before").exit_code == 0
    result = _import(copy, fmt, tmp_path / "after")
    assert result.exit_code == 0, result.output
    before, after = _store_counts(tmp_path / "before"), _store_counts(tmp_path / "after")
    assert after[:2] == before[:2]  # every post kept, no new reject
    if after[0]:
        assert sum("\ufffd" in t for t in after[2]) <= 1


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(), max_size=8),  # (lone surrogates included)
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=4),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(value=_json, ascii_only=st.booleans())
def test_loads_is_orjson_except_for_escaped_surrogate_halves(value, ascii_only):
    try:
        text = json.dumps(value, ensure_ascii=ascii_only)
        data = text.encode("utf-8", "surrogatepass")
    except ValueError:
        return
    try:
        want = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if not (ascii_only and "surrogate" in str(exc)):  # (raw surrogate bytes: not UTF-8)
            with pytest.raises(orjson.JSONDecodeError):
                loads(data)
            return
        # orjson refuses the escape: the value, each surrogate half as U+FFFD, numbers as
        # orjson reads them (a float beyond the 64-bit integers)
        want = orjson.loads(orjson.dumps(_cleaned(value)))
    assert loads(data) == want
    assert loads(text) == want


def _cleaned(value):
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return float(value)
    return value


@pytest.mark.parametrize("doc", [b'["\\ud800", NaN]', b'["\\ud800", 1e400]', b'["\\ud800"'])
def test_loads_keeps_orjson_s_error_for_what_else_is_wrong(doc):
    with pytest.raises(orjson.JSONDecodeError, match="surrogate"):
        loads(doc)


# ---- a byte order mark at the start of a Mastodon archive's JSON files -----------------------
# (a file opened and saved again in an editor on Windows). The Twitter archive, Telegram's
# result.json and every JSON lines reader skip it; the Mastodon archive refused itself whole
# ("malformed JSON (UTF-8 byte order mark (BOM) is not supported)").


@pytest.mark.parametrize(
    "member", ["outbox.json", "actor.json", "likes.json", "following_accounts.csv", "*"]
)
@pytest.mark.parametrize("packed", ["folder", "zip"])
def test_mastodon_archive_member_with_a_bom_is_read(tmp_path, data_dir, member, packed):
    import zipfile

    src = data_dir / "io" / "mastodon-archive"
    copy = tmp_path / "archive"
    shutil.copytree(src, copy)
    for p in copy.iterdir():
        if member in (p.name, "*"):
            p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    if packed == "zip":
        with zipfile.ZipFile(tmp_path / "archive.zip", "w") as zf:
            for p in sorted(copy.iterdir()):
                zf.write(p, p.name)
        copy = tmp_path / "archive.zip"
    assert _import(src, "mastodon", tmp_path / "before").exit_code == 0
    result = _import(copy, "auto", tmp_path / "after")
    assert result.exit_code == 0, result.output
    for table in ("posts", "follows", "accounts", "rejects"):
        want = Store(tmp_path / "before").read(table).drop(columns=["source_file"], errors="ignore")
        got = Store(tmp_path / "after").read(table).drop(columns=["source_file"], errors="ignore")
        assert len(got) == len(want), table


BOM_CASES = [
    "twarc2_page.jsonl",
    "v1_tweets.jsonl",
    "mastodon_statuses.jsonl",
    "bluesky_jetstream.ndjson",
    "reddit_comments.ndjson",
    "reddit_submissions.ndjson",
    "nodexl_edges.csv",
    "telegram/result_chat.json",
    "telegram/result_full.json",
]


@pytest.mark.parametrize("fixture", BOM_CASES)
def test_a_byte_order_mark_changes_no_row(tmp_path, data_dir, fixture):
    # (fz1: Mastodon API statuses as JSON lines with a BOM were taken for one JSON document
    # and refused whole: "malformed JSON document (unexpected content after document)")
    src = data_dir / "io" / fixture
    copy = tmp_path / "in" / src.name
    copy.parent.mkdir()
    copy.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    assert _import(src, "auto", tmp_path / "before").exit_code == 0
    result = _import(copy, "auto", tmp_path / "after")
    assert result.exit_code == 0, result.output
    for table in ("posts", "follows", "accounts", "rejects"):
        want = Store(tmp_path / "before").read(table)
        got = Store(tmp_path / "after").read(table)
        assert len(got) == len(want), table


# ---- auto-detection decided by the first record alone ------------------------------------------
# A first status whose ``account`` was not an object (or a first Jetstream event or Reddit
# comment missing a key) sent the whole file to the Twitter reader: every line a reject
# ("missing author handle"), every good record lost. The first few records decide now.

FIRST_BROKEN = [
    ("mastodon_statuses.jsonl", "mastodon", lambda o: {**o, "account": []}),
    (
        "mastodon_statuses.jsonl",
        "mastodon",
        lambda o: {k: v for k, v in o.items() if k != "account"},
    ),
    ("bluesky_jetstream.ndjson", "bluesky", lambda o: {**o, "kind": ["commit"]}),
    ("bluesky_jetstream.ndjson", "bluesky", lambda o: {k: v for k, v in o.items() if k != "did"}),
    ("reddit_comments.ndjson", "reddit", lambda o: {k: v for k, v in o.items() if k != "id"}),
    ("reddit_submissions.ndjson", "reddit", lambda o: {**o, "created_utc": None} | {"id": None}),
]


@pytest.mark.parametrize(
    ("fixture", "fmt", "damage"),
    FIRST_BROKEN,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(FIRST_BROKEN)],
)
def test_a_broken_first_record_does_not_decide_the_format(tmp_path, data_dir, fixture, fmt, damage):
    src = data_dir / "io" / fixture
    lines = src.read_bytes().splitlines()
    lines[0] = json.dumps(damage(json.loads(lines[0]))).encode()
    copy = tmp_path / "in" / src.name
    copy.parent.mkdir()
    copy.write_bytes(b"\n".join(lines) + b"\n")
    assert _import(copy, fmt, tmp_path / "named").exit_code == 0
    result = _import(copy, "auto", tmp_path / "auto")
    assert result.exit_code == 0, result.output
    named, auto = _store_counts(tmp_path / "named"), _store_counts(tmp_path / "auto")
    assert auto[:2] == named[:2]
    assert named[0] >= _store_counts_of(src, fmt, tmp_path / "orig") - 1  # (only line 1 lost)


def _store_counts_of(src: Path, fmt: str, store: Path) -> int:
    assert _import(src, fmt, store).exit_code == 0
    return _store_counts(store)[0]


@pytest.mark.parametrize("fmt", ["mastodon", "auto"])
def test_statuses_whose_first_line_was_cut_keep_every_other_status(tmp_path, data_dir, fmt):
    # (fz1: a first line cut short, '{"id": "1", "acc', made the file one malformed JSON
    # document, refused whole even with --format mastodon)
    src = data_dir / "io" / "mastodon_statuses.jsonl"
    copy = tmp_path / "in" / src.name
    copy.parent.mkdir()
    copy.write_bytes(b'{"id": "1", "acc\n' + src.read_bytes())
    assert _import(src, "mastodon", tmp_path / "before").exit_code == 0
    result = _import(copy, fmt, tmp_path / "after")
    assert result.exit_code == 0, result.output
    before, after = _store_counts(tmp_path / "before"), _store_counts(tmp_path / "after")
    assert after[:2] == (before[0], before[1] + 1)  # every status kept, the cut line a reject
