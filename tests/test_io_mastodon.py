"""Mastodon importer: the archive (zip, tar.gz, folder) and API statuses, against hand-counted
fixtures in tests/data/io/mastodon-archive and tests/data/io/mastodon_statuses.jsonl."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netsupport.errors import InputFileError, NetsupportError, UnsafeArchive
from netsupport.ingest import format_summary, import_paths
from netsupport.io import html_text, mastodon, reader_for
from netsupport.io.base import ReadOptions
from netsupport.io.detect import detect_format
from netsupport.io.mastodon import handle_of_url, html_to_text, html_to_text_many
from netsupport.schema import SCHEMAS, Table
from netsupport.store import Store, merge_accounts

ACCOUNTS = SCHEMAS[Table.ACCOUNTS]

LANE = "mastodon:lane@police.social"
AMY = "mastodon:amy@town.example"
DESK = "mastodon:desk@news.example"


def _read(path: Path, **opts):
    batches = list(reader_for("mastodon")(path, str(path), ReadOptions(**opts)))

    def rows(name):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        return pa.concat_tables(tables).to_pylist() if tables else []

    notes = [n for b in batches for n in b.notes]
    return {k: rows(k) for k in ("posts", "follows", "accounts", "interactions", "rejects")}, notes


def _zip(folder: Path, out: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, prefix + p.name)
    return out


def test_archive_folder_rows_match_the_hand_count(data_dir):
    rows, notes = _read(data_dir / "io" / "mastodon-archive")
    # status URIs end in /statuses/ID; a boost's activity URI in /statuses/ID/activity
    posts = {p["post_id"].removesuffix("/activity").rsplit("/", 1)[1]: p for p in rows["posts"]}
    # 7 activities: 4 Notes (1 post, 2 replies... one of them to an unknown account), 1 quote,
    # 1 boost, 1 Create without an embedded object (reject), 1 Update (ignored)
    assert sorted(posts) == ["1001", "1002", "1003", "1004", "1007"]
    assert [p["kind"] for p in rows["posts"]] == ["post", "reply", "repost", "reply", "quote"]
    assert all(p["author"] == LANE and p["platform"] == "mastodon" for p in rows["posts"])
    first = posts["1001"]
    assert (
        first["text"]
        == "Morning briefing done. Thanks @amy & team!\nStay safe #Northshire\nMore later."
    )
    assert first["mentions"] == AMY and first["hashtags"] == "northshire" and first["lang"] == "en"
    assert (posts["1002"]["target_author"], posts["1002"]["target_post_id"]) == (
        DESK,
        "https://news.example/@Desk/555",
    )
    assert posts["1003"]["target_author"] == AMY  # the boost's status URL names its account
    assert posts["1004"]["target_author"] is None  # /objects/<uuid>: no account in the URL
    assert posts["1007"]["target_author"] == AMY
    assert [(r["source_line"], r["reason"]) for r in rows["rejects"]] == [
        (5, "Create without an embedded object"),
        (3, "liked status whose URI names no account"),
        (4, "not an account address (name@host): 'not-an-address'"),
    ]
    # likes: 3 URIs, one names no account; no time
    assert [
        (i["source"], i["target"], i["kind"], i["created_at"]) for i in rows["interactions"]
    ] == [
        (LANE, AMY, "like", None),
        (LANE, DESK, "like", None),
    ]
    assert [(f["follower"], f["followee"]) for f in rows["follows"]] == [(LANE, AMY), (LANE, DESK)]
    owner = rows["accounts"][0]
    assert owner["handle"] == LANE and owner["name"] == "Inspector Lane"
    assert owner["description"] == "Inspector, Northshire. Views my own & nobody else's."
    assert "activities that are not posts, ignored: 1 (Update 1)" in notes
    assert any(n.startswith("2 likes without a time") for n in notes)


def test_zip_and_tar_gz_give_the_same_rows_as_the_folder(tmp_path, data_dir):
    folder = data_dir / "io" / "mastodon-archive"
    tgz = tmp_path / "archive.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        for p in sorted(folder.iterdir()):
            tf.add(p, f"./{p.name}")
    zipped = _zip(folder, tmp_path / "archive-20140220.zip", prefix="archive/")
    want, _ = _read(folder)
    for path in (zipped, tgz):
        assert detect_format(path) == "mastodon"
        got, _ = _read(path)
        for table in ("posts", "interactions", "follows", "accounts"):
            strip = [{k: v for k, v in r.items() if k != "source_file"} for r in got[table]]
            assert strip == [
                {k: v for k, v in r.items() if k != "source_file"} for r in want[table]
            ]


@pytest.mark.parametrize("name", ["../outbox.json", "/etc/outbox.json"])
def test_tar_member_outside_the_folder_refuses_the_archive(tmp_path, name):
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        data = b'{"type": "OrderedCollection", "orderedItems": []}'
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(UnsafeArchive):
        _read(path)


def test_tar_symlink_member_is_refused_not_followed(tmp_path):
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("outbox.json")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(UnsafeArchive, match="link"):
        _read(path)


def test_zip_slip_member_refuses_the_archive(tmp_path, data_dir):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("outbox.json", '{"type": "OrderedCollection", "orderedItems": []}')
        zf.writestr("../evil.json", "{}")
    with pytest.raises(UnsafeArchive):
        _read(path)


def test_archive_bomb_stops_at_the_cap(tmp_path, data_dir):
    path = _zip(data_dir / "io" / "mastodon-archive", tmp_path / "a.zip")
    with pytest.raises(UnsafeArchive, match="cap"):
        _read(path, max_archive_bytes=1000)


def test_api_statuses_rows_match_the_hand_count(data_dir):
    rows, _ = _read(data_dir / "io" / "mastodon_statuses.jsonl")
    got = [
        (p["post_id"], p["author"], p["kind"], p["target_post_id"], p["target_author"])
        for p in rows["posts"]
    ]
    assert got == [
        ("9001", AMY, "post", None, None),
        ("9002", "mastodon:bob@town.example", "reply", "9001", AMY),
        ("9003", "mastodon:cy@far.example", "repost", "8000", LANE),
        ("9004", "mastodon:bob@town.example", "reply", "7777", None),  # not mentioned: unknown
        ("9005", AMY, "quote", "8000", LANE),
        ("9001", AMY, "post", None, None),  # a duplicate: the store keeps the first
    ]
    assert rows["posts"][0]["text"] == "Stand with @Lane #StandWithLane"
    assert rows["posts"][0]["mentions"] == LANE and rows["posts"][0]["hashtags"] == "standwithlane"
    assert [r["source_line"] for r in rows["rejects"]] == [6, 7, 8]
    assert "--instance" in rows["rejects"][1]["reason"]


def test_instance_option_gives_local_accounts_their_host(data_dir):
    rows, _ = _read(data_dir / "io" / "mastodon_statuses.jsonl", instance="town.example")
    assert "mastodon:dee@town.example" in {p["author"] for p in rows["posts"]}
    assert [r["source_line"] for r in rows["rejects"]] == [6, 8]


def test_api_json_array_as_mastodon_py_writes_it(tmp_path, data_dir):
    lines = (data_dir / "io" / "mastodon_statuses.jsonl").read_text().splitlines()
    statuses = [json.loads(ln) for ln in lines[:5]]
    path = tmp_path / "statuses.json"
    path.write_text(json.dumps(statuses, indent=2))
    assert detect_format(path) == "mastodon"
    rows, _ = _read(path)
    assert [p["post_id"] for p in rows["posts"]] == ["9001", "9002", "9003", "9004", "9005"]


def test_import_dedupes_by_platform_and_post_id_and_counts_likes(tmp_path, data_dir):
    store = Store(tmp_path / "s")
    summary = import_paths(
        store, [data_dir / "io" / "mastodon_statuses.jsonl", data_dir / "io" / "mastodon-archive"]
    )
    statuses, archive = summary.files
    assert (statuses.format, statuses.posts, statuses.duplicates) == ("mastodon", 5, 1)
    assert (archive.format, archive.posts, archive.follows) == ("mastodon", 5, 2)
    text = format_summary(summary)
    assert "2 likes without a time" in text
    kinds = store.read_arrow(Table.INTERACTIONS)
    assert kinds.column("kind").to_pylist().count("like") == 2


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("https://police.social/users/Lane", LANE),
        ("https://police.social/@Lane", LANE),
        ("https://police.social/users/Lane/statuses/1", LANE),
        ("https://police.social/@Lane/1", LANE),
        ("https://mastodon.social/@bob@other.host/42", "mastodon:bob@other.host"),
        ("https://gone.example/objects/5f0c", None),
        ("not a url", None),
        ("https://[::1/", None),
        (None, None),
    ],
)
def test_handle_of_url(url, want):
    assert handle_of_url(url) == want


def test_html_to_text_uses_a_parser_not_a_regex():
    assert html_to_text("<p>a &lt;b&gt; <i>c</i></p><p>d<br/>e</p>") == "a <b> c\nd\ne"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"
    assert html_to_text("plain") == "plain"
    assert html_to_text("<p></p>") == ""
    assert html_to_text(None) is None


#: Pieces of status markup, and of what statuses do not hold but a file may: lexbor (HTML5) and
#: libxml2 read some of these differently (a NUL, a leading byte-order mark, <pre>'s first line
#: break, <frameset>, <svg>, tables, comments...), which the importer must leave to lxml.
_MARKUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<br>",
            "<br/>",
            "<br />",
            '<span class="h-card">',
            "</span>",
            "<a",
            ' href="https://x/@a">',
            "</a>",
            "<b>",
            "</i>",
            "<em>",
            "<strong>",
            "<div>",
            "</div>",
            "<ul><li>",
            "</li>",
            "<blockquote>",
            "<code>",
            "<P>",
            "<A HREF=x>",
            "</p >",
            "<p/>",
            "&amp;",
            "&lt;",
            "&gt;",
            "&quot;",
            "&#39;",
            "&amp",
            "&nbsp;",
            "&#128;",
            "&copy",
            "&noti",
            "&#0;",
            "&#xD800;",
            "&#x1F600;",
            "&#",
            "&",
            "<",
            ">",
            "</",
            "<!",
            "<3",
            "< p>",
            "=",
            '"',
            " ",
            "\n",
            "\r\n",
            "\r",
            "\t",
            "\x0c",
            "\x0b",
            "x",
            "é",
            "\u00a0",
            "\ue000",
            "\x00",
            "\ufeff",
            "<!-- c -->",
            "<!-->",
            "<?pi?>",
            "<!DOCTYPE html>",
            "<pre>",
            "</pre>",
            "<textarea>",
            "<title>",
            "<script>",
            "<style>",
            "<frameset>",
            "<svg>",
            "<math>",
            "<table>",
            "<td>",
            "<select>",
            "<option>",
            "<html>",
            "<head>",
            "<body>",
            "<p\x0bre>",
            "<a title='<pre>'>",
            "<\u212a>",
            "</ h>",
            "<img src=x>",
            "<h1>",
            "<q>",
            "<sub>",
        ]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=st.lists(_MARKUP | st.none(), min_size=1, max_size=40))
def test_status_html_text_is_lxml_s_text(contents):
    # lexbor reads a group only where its text is libxml2's: the same text as lxml alone
    got = html_to_text_many(contents)
    original = html_text._lexbor_safe
    html_text._lexbor_safe = lambda doc: False
    try:
        want = html_to_text_many(contents)
    finally:
        html_text._lexbor_safe = original
    assert got == want


def test_status_html_outside_the_safe_markup_goes_to_lxml():
    assert html_text._lexbor_safe('<p><a href="https://x/@a">@<span>a</span></a> b<br>c</p>')
    for doc in ["<pre>\nx</pre>", "a\x00b", "\ufeffa", "<frameset>x", "<svg>x", "<!-- x", "</ x>"]:
        assert not html_text._lexbor_safe(doc), doc
    # where lexbor and libxml2 differ, the text is lxml's
    assert html_to_text_many(["a<pre><br>x</pre>", "<p>a</p>"]) == ["a\nx", "a"]
    assert html_to_text_many(["<p>a\x00b"]) == ["a\ufffdb"]


_SET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["Create", "Announce", "Note", "https://a.b/users/x/statuses/1"]),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "object",
                    "actor",
                    "account",
                    "acct",
                    "url",
                    "reblog",
                    "created_at",
                    "content",
                    "mentions",
                    "tag",
                    "inReplyTo",
                    "quote",
                ]
            )
            | st.text(max_size=5),
            c,
            max_size=5,
        )
    ),
    max_leaves=15,
)


def _good_status(i: int) -> dict:
    return {
        "id": str(100 + i),
        "created_at": "2014-02-14T10:00:00Z",
        "content": f"<p>ok {i}</p>",
        "account": {"id": "1", "acct": "good", "url": "https://a.social/@good"},
    }


@_SET
@given(junk=st.lists(_junk, max_size=10), n_good=st.integers(1, 4), at=st.integers(0, 50))
def test_random_json_lines_never_lose_a_good_status(tmp_path_factory, junk, n_good, at):
    lines = list(junk)
    goods = [_good_status(i) for i in range(n_good)]
    for g in goods:
        lines.insert(at % (len(lines) + 1), g)
    path = tmp_path_factory.mktemp("m") / "s.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in lines))
    try:
        rows, _ = _read(path)
    except NetsupportError:
        return
    got = {p["post_id"] for p in rows["posts"] if p["author"] == "mastodon:good@a.social"}
    assert {g["id"] for g in goods} <= got


@_SET
@given(items=st.lists(_junk, max_size=10))
def test_random_outbox_items_are_rejects_or_rows(tmp_path_factory, items):
    d = tmp_path_factory.mktemp("o")
    (d / "outbox.json").write_text(json.dumps({"type": "OrderedCollection", "orderedItems": items}))
    (d / "actor.json").write_text(
        json.dumps({"type": "Person", "id": "https://a.b/users/o", "preferredUsername": "o"})
    )
    with contextlib.suppress(NetsupportError):
        _read(d)


@_SET
@given(
    data=st.binary(max_size=1500),
    name=st.sampled_from(["outbox.json", "likes.json", "actor.json", "following_accounts.csv"]),
)
def test_random_bytes_as_an_archive_member_never_a_traceback(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("z") / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        defaults = {
            "actor.json": '{"type": "Person", "id": "https://a.b/users/o"}',
            "outbox.json": '{"type": "OrderedCollection", "orderedItems": []}',
        }
        for member, text in defaults.items():
            if member != name:
                zf.writestr(member, text)
        zf.writestr(name, data)
    with contextlib.suppress(InputFileError, NetsupportError):
        _read(path)


def test_compressed_statuses_and_archive_are_read(tmp_path, data_dir):
    import gzip

    src = (data_dir / "io" / "mastodon_statuses.jsonl").read_bytes()
    path = tmp_path / "statuses.jsonl.gz"
    path.write_bytes(gzip.compress(src))
    assert detect_format(path) == "mastodon"
    rows, _ = _read(path)
    assert [p["post_id"] for p in rows["posts"]][:5] == ["9001", "9002", "9003", "9004", "9005"]
    tar = tmp_path / "archive.tar"  # an uncompressed tar, too
    with tarfile.open(tar, "w") as tf:
        for p in sorted((data_dir / "io" / "mastodon-archive").iterdir()):
            tf.add(p, p.name)
    assert detect_format(tar) == "mastodon"
    assert len(_read(tar)[0]["posts"]) == 5


def test_large_statuses_file_parsed_by_workers_gives_the_same_rows(tmp_path, data_dir, monkeypatch):
    import netsupport.io.mastodon as m

    lines = (data_dir / "io" / "mastodon_statuses.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines * 40))  # 360 lines, 40 copies of each status
    serial, _ = _read(path, workers=1)
    monkeypatch.setattr(m, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(m, "CHUNK_BYTES", 3000)
    parallel, _ = _read(path, workers=2)
    for table in ("posts", "rejects"):
        assert parallel[table] == serial[table]
    assert len(serial["posts"]) == 6 * 40 and len(serial["rejects"]) == 3 * 40
    # (a worker gives an account's complete row once per read: the merged accounts are the same)
    merged = [
        merge_accounts([pa.Table.from_pylist(r["accounts"], schema=ACCOUNTS)]).to_pylist()
        for r in (serial, parallel)
    ]
    assert merged[0] == merged[1] and merged[0]


def test_statuses_left_by_workers_in_the_spool_give_the_store_of_one_process(
    tmp_path, data_dir, monkeypatch
):
    # an import with a pool: the workers leave their batches as files in the transaction's
    # scratch folder (options.spool), which the main process maps; the store is the same
    import netsupport.ingest as ingest
    import netsupport.io.mastodon as m

    lines = (data_dir / "io" / "mastodon_statuses.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines * 40))
    one = Store(tmp_path / "one")
    import_paths(one, [path], workers=1)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(m, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(m, "CHUNK_BYTES", 3000)
    spooled = []
    load = m._load_file
    monkeypatch.setattr(m, "_load_file", lambda *a: spooled.append(a) or load(*a))
    pooled = Store(tmp_path / "pooled")
    import_paths(pooled, [path], workers=2)
    assert len(spooled) > 3
    for table in Table:
        a, b = one.read_arrow(table), pooled.read_arrow(table)
        assert sorted(map(str, a.to_pylist())) == sorted(map(str, b.to_pylist())), table
    assert not list((tmp_path / "pooled").rglob("*.arrow"))


def test_following_csv_with_a_carriage_return_in_a_field_is_a_reject_not_a_traceback(tmp_path):
    # (found by the property test: csv.Error "new-line character seen in unquoted field")
    d = tmp_path / "archive"
    d.mkdir()
    (d / "actor.json").write_text('{"type": "Person", "id": "https://a.b/users/o"}')
    (d / "outbox.json").write_text('{"type": "OrderedCollection", "orderedItems": []}')
    (d / "following_accounts.csv").write_bytes(b"Account address\nx@y.z\na\rb,1\nq@r.s\n")
    rows, _ = _read(d)
    assert [f["followee"] for f in rows["follows"]] == ["mastodon:x@y.z", "mastodon:q@r.s"]
    assert len(rows["rejects"]) >= 1


@pytest.mark.parametrize("damage", ["flip", "cut"])
def test_damaged_tar_gz_is_a_one_line_error(tmp_path, damage):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b'{"type": "OrderedCollection", "orderedItems": []}' * 2000
        info = tarfile.TarInfo("outbox.json")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    import gzip

    gz = gzip.compress(buf.getvalue())
    path = tmp_path / "archive.tar.gz"
    if damage == "flip":
        bad = bytearray(gz)
        bad[len(gz) // 2 : len(gz) // 2 + 8] = b"\0" * 8
        path.write_bytes(bytes(bad))
    else:
        path.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(NetsupportError):
        detect_format(path)
        _read(path)


def _good_note(i: int) -> dict:
    uri = f"https://a.b/users/o/statuses/{100 + i}"
    return {
        "id": uri + "/activity",
        "type": "Create",
        "actor": "https://a.b/users/o",
        "object": {
            "id": uri,
            "type": "Note",
            "published": "2014-02-14T10:00:00Z",
            "attributedTo": "https://a.b/users/o",
            "content": f"<p>ok {i}</p>",
        },
    }


@_SET
@given(junk=st.lists(_junk, max_size=10), n_good=st.integers(1, 4), at=st.integers(0, 50))
def test_random_outbox_items_never_lose_a_good_note(tmp_path_factory, junk, n_good, at):
    items = list(junk)
    goods = [_good_note(i) for i in range(n_good)]
    for g in goods:
        items.insert(at % (len(items) + 1), g)
    d = tmp_path_factory.mktemp("g")
    (d / "outbox.json").write_text(json.dumps({"type": "OrderedCollection", "orderedItems": items}))
    (d / "actor.json").write_text(
        json.dumps({"type": "Person", "id": "https://a.b/users/o", "preferredUsername": "o"})
    )
    rows, _ = _read(d)
    got = {p["post_id"] for p in rows["posts"]}
    assert {g["object"]["id"] for g in goods} <= got


def test_a_reply_that_also_quotes_gives_both_edges(tmp_path):
    status = {
        "id": "3",
        "created_at": "2014-02-14T11:00:00Z",
        "content": "<p>see this</p>",
        "in_reply_to_id": "1",
        "in_reply_to_account_id": "7",
        "mentions": [{"id": "7", "acct": "amy", "url": "https://town.example/@amy"}],
        "quote": {
            "state": "accepted",
            "quoted_status": {
                "id": "2",
                "account": {
                    "id": "8",
                    "acct": "lane@police.social",
                    "url": "https://police.social/@lane",
                },
            },
        },
        "account": {"id": "5", "acct": "bob", "url": "https://town.example/@bob"},
    }
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(status) + "\n")
    store = Store(tmp_path / "st")
    import_paths(store, [path])
    edges = store.read("interactions")[["source", "target", "kind"]].values.tolist()
    assert sorted(edges) == [
        ["mastodon:bob@town.example", "mastodon:amy@town.example", "reply"],
        ["mastodon:bob@town.example", "mastodon:lane@police.social", "quote"],
    ]


def test_outbox_batches_count_each_activity_once(tmp_path):
    # rows_read of a batch was the running total (activities 1..i), so a 200,000-activity
    # outbox read in batches of 50,000 reported 300,000 rows read
    items = [_good_note(i) for i in range(7)] + [{"type": "Like"}]
    doc = {"type": "OrderedCollection", "orderedItems": items}
    (tmp_path / "outbox.json").write_text(json.dumps(doc))
    (tmp_path / "actor.json").write_text(
        json.dumps(
            {
                "type": "Person",
                "id": "https://police.social/users/lane",
                "preferredUsername": "lane",
            }
        )
    )
    for batch_rows in (1, 2, 3, 50_000):
        batches = list(
            reader_for("mastodon")(tmp_path, str(tmp_path), ReadOptions(batch_rows=batch_rows))
        )
        assert sum(b.rows_read for b in batches) == len(items), batch_rows
        assert sum(b.posts.num_rows for b in batches if b.posts is not None) == 7


@pytest.mark.parametrize(
    "url",
    [
        "https://Police.Social/users/Lane/statuses/1099",
        "https://police.social/users/lane/statuses/1099/",
        "https://police.social/users/lane/statuses/1099/activity",
        "https://police.social/users/la@ne/statuses/1",
        "https://police.social/users/lane/statuses/1?x=1",
        "http://h.example/users/a b/statuses/7",
        "https://h.example/foo/users/a/statuses/7",
        "https://h.example/users/a/statuses/",
    ],
)
def test_status_url_shortcut_agrees_with_the_full_parse(url):
    # handle_of_url reads https://host/users/NAME/statuses/ID as its account's URL (cached);
    # the answer must be what parsing the whole URL gives
    from netsupport.io.mastodon_handles import _handle_of_url

    assert handle_of_url(url) == _handle_of_url.__wrapped__(url)


def _archive_zip(path: Path, outbox: bytes) -> Path:
    actor = {"type": "Person", "id": "https://a.b/users/o", "preferredUsername": "o"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("actor.json", json.dumps(actor))
        zf.writestr("outbox.json", outbox)
    return path


def test_outbox_decoded_in_chunks_gives_the_rows_of_the_whole_document(tmp_path, monkeypatch):
    # outbox.json is decoded while the zip member inflates; with 7-byte chunks every item,
    # key and string is split across chunk boundaries
    import netsupport.io.archive as archive

    items = [_good_note(i) for i in range(30)] + [{"type": "Create"}, 7]
    doc = json.dumps({"type": "OrderedCollection", "orderedItems": items}).encode()
    path = _archive_zip(tmp_path / "a.zip", doc)
    whole, _ = _read(path)
    monkeypatch.setattr(archive, "_CHUNK", 7)
    chunked, _ = _read(path)
    assert chunked == whole
    assert len(chunked["posts"]) == 30 and len(chunked["rejects"]) == 2


def test_second_ordered_items_in_the_outbox_is_a_one_line_error(tmp_path):
    from typer.testing import CliRunner

    from netsupport.cli import app

    # decoding the whole document would take the second list; the first one's items have been
    # handed out by then: which list is meant cannot be told, so the archive is refused
    first = json.dumps([_good_note(0)])
    doc = f'{{"type": "OrderedCollection", "orderedItems": {first}, "orderedItems": []}}'
    path = _archive_zip(tmp_path / "a.zip", doc.encode())
    result = CliRunner().invoke(app, ["import", str(path), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    assert "second top-level 'orderedItems'" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "s" / "manifest.json").exists()


def test_malformed_outbox_after_many_items_names_the_position(tmp_path):
    # the error is that of decoding the document whole (with its position), though items
    # before the damage were decoded and handed out already
    items = [_good_note(i) for i in range(2000)]
    doc = json.dumps({"type": "OrderedCollection", "orderedItems": items}).encode()
    at = doc.index(b'"Note"', len(doc) * 3 // 4)
    bad = doc[:at] + b"Note" + doc[at + 6 :]
    path = _archive_zip(tmp_path / "a.zip", bad)
    with pytest.raises(InputFileError) as info:
        _read(path)
    message = str(info.value)
    assert "malformed JSON" in message and f"(char {at})" in message, message
    assert "\n" not in message


_ODD = st.sampled_from(["", "7", "@x", "https://a.social/@x", 0, 7, 2**70, -1, True, None])
_ODD |= st.builds(list) | st.builds(dict)  # (new ones: a status may be changed further)


def _odd(good):
    """Mostly a value of the field's usual type, sometimes of another (the dict path's)."""
    return st.one_of(good, good, good, _ODD)


_ACCOUNT = st.fixed_dictionaries(
    {"acct": st.sampled_from(["amy", "bob@b.social", "@c", " ", "d@", "e@f@g", "amy"])},
    optional={
        "id": st.sampled_from(["1", "2", "3", ""]),
        "url": st.sampled_from(["https://a.social/@amy", "nourl", "https://[x"]),
        "display_name": st.text(max_size=3),
        "note": st.sampled_from(["<p>bio</p>", "plain", "<b>x"]),
        "followers_count": st.integers(-5, 2**64),
        "avatar": st.text(max_size=3),
    },
)
_MENTIONS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["1", "2", "3", ""]),
            "acct": st.sampled_from(["amy", "bob@b.social", "z@z.z"]),
            "url": st.sampled_from(["https://a.social/@amy", "https://b/@z"]),
        },
    ),
    max_size=3,
)
_TAGS = st.lists(
    st.fixed_dictionaries({}, optional={"name": st.sampled_from(["#A", " b", "", "C"])}),
    max_size=3,
)
_REBLOG = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["9", ""]),
        "account": _ACCOUNT,
        "content": st.sampled_from(["<p>a &amp; b</p>", "plain", ""]),
        "mentions": _MENTIONS,
        "tags": _TAGS,
    },
)
_STATUS = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["10", "11", "12", ""]),
        "account": _ACCOUNT,
        "created_at": st.sampled_from(["2014-02-14T10:00:00.000Z", "14/02/2014", ""]),
    },
    optional={
        "in_reply_to_id": st.sampled_from(["5", "6", ""]),
        "in_reply_to_account_id": st.sampled_from(["1", "2", "3", ""]),
        "quote": st.builds(lambda: {"quoted_status": {"id": "9", "account": {"acct": "q@q.q"}}}),
        "content": st.sampled_from(["<p>a &amp; b</p>", "plain", ""]),
        "language": st.just("en"),
        "mentions": _MENTIONS,
        "tags": _TAGS,
        "reblog": _REBLOG,
        "card": st.just({"url": "x"}),
    },
)
_FIELDS = ["id", "account", "created_at", "in_reply_to_id", "in_reply_to_account_id", "quote"]
_FIELDS += ["content", "language", "mentions", "tags", "reblog"]


@st.composite
def _statuses(draw):
    """A status whose fields are of their usual types, but for up to two (anywhere in it)."""
    s = draw(_STATUS)
    for _ in range(draw(st.integers(0, 2))):
        where = s
        nested = [v for v in (s.get("account"), s.get("reblog")) if type(v) is dict]
        if nested and draw(st.booleans()):
            where = draw(st.sampled_from(nested))
        key = draw(st.sampled_from([*_FIELDS, "acct", "url", "note", "followers_count"]))
        where[key] = draw(_ODD)
    return s


def _assert_same_batch(a, b):
    # two parsers' batches: the same posts, accounts, rejects, quotes and rows read
    for name in ("posts", "accounts", "rejects", "quotes"):
        ta, tb = getattr(a, name), getattr(b, name)
        assert (ta is None) == (tb is None), name
        if ta is not None:
            assert ta.to_pylist() == tb.to_pylist(), name
    assert a.rows_read == b.rows_read


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statuses=st.lists(_statuses(), min_size=1, max_size=8), junk=st.binary(max_size=20))
def test_statuses_decoded_into_structs_read_as_dicts_are(statuses, junk):
    # a line decoded into the status structs gives the rows, accounts and rejects that the same
    # line decoded by orjson and read as a dict gives (mastodon.StatusParser.status)
    lines = [json.dumps(s).encode() for s in statuses]
    lines.insert(len(lines) // 2, junk)
    lines.append(json.dumps(statuses[0], ensure_ascii=False).encode() + b"\xff")
    fast, slow = mastodon.StatusParser("s.jsonl"), mastodon.StatusParser("s.jsonl")
    for n, line in enumerate(lines, 1):
        fast.line(line, n)
        mastodon.JsonLinesParser.line(slow, line, n)
    _assert_same_batch(fast.take(), slow.take())
    assert fast.by_account_id == slow.by_account_id


def test_a_huge_number_in_a_field_not_read_leaves_the_status_readable():
    p = mastodon.StatusParser("s.jsonl")
    good = json.dumps(_good_status(1))
    p.line(good[:-1].encode() + b', "replies_count": 1e400}', 1)
    p.line(good[:-1].encode() + b', "display": "\xff"}', 2)  # (not UTF-8: a reject still)
    b = p.take()
    assert b.posts.column("post_id").to_pylist() == ["101"]
    assert b.rejects.column("source_line").to_pylist() == [2]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    statuses=st.lists(_statuses(), min_size=1, max_size=12),
    cuts=st.lists(st.integers(0, 12), max_size=4),
)
def test_accounts_given_once_per_read_merge_as_rows_given_in_every_batch(statuses, cuts):
    # StatusParser.take keeps an account whose row was complete out of the later batches; the
    # reference gives every batch its rows again (as before). Merged in batch order, as the store
    # does, the accounts are the same, and so are the posts and rejects.
    lines = [json.dumps(s).encode() for s in statuses]
    once, every = mastodon.StatusParser("s.jsonl"), mastodon.StatusParser("s.jsonl")
    got: dict[str, list] = {"once": [], "every": []}
    for n, line in enumerate(lines, 1):
        once.line(line, n)
        every.line(line, n)
        if n in cuts:
            for name, parser in (("once", once), ("every", every)):
                got[name].append(parser.take())
            every.accounts.complete = set()
    got["once"].append(once.take())
    got["every"].append(every.take())

    def merged(batches, name):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        if name == "accounts":
            return merge_accounts(tables).to_pylist() if tables else []
        return [r for t in tables for r in t.to_pylist()]

    for name in ("posts", "accounts", "rejects"):
        assert merged(got["once"], name) == merged(got["every"], name), name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    statuses=st.lists(_statuses(), min_size=1, max_size=8),
    junk=st.lists(st.sampled_from([b"", b"  ", b"\r", b"{", b"[]", b"7", b"\xff"]), max_size=4),
)
def test_a_worker_s_line_loop_reads_as_line_by_line(statuses, junk):
    # StatusParser.lines (the workers' loop) against the loop it replaces: blank lines skipped,
    # every other line handed to StatusParser.line
    lines = [json.dumps(s).encode() for s in statuses]
    for k, j in enumerate(junk):
        lines.insert((3 * k) % (len(lines) + 1), j)
    loop, ref = mastodon.StatusParser("s.jsonl"), mastodon.StatusParser("s.jsonl")
    loop.lines(lines, 5)
    for n, line in enumerate(lines, 5):
        if line.strip():
            ref.line(line, n)
    _assert_same_batch(loop.take(), ref.take())


def _reference_mentions_and_tags(tags, author):
    # (mastodon._mentions_and_tags before its cache look-up was inlined)
    mentions: dict[str, None] = {}
    hashtags: dict[str, None] = {}
    if type(tags) is dict:
        tags = [tags]
    for tag in tags if type(tags) is list else ():
        if type(tag) is not dict:
            continue
        kind = tag.get("type")
        if kind == "Mention":
            h = mastodon.handle_of_url(tag.get("href")) or mastodon._handle_of_mention_name(
                tag.get("name")
            )
            if h and h != author:
                mentions[h] = None
        elif kind == "Hashtag":
            name = tag.get("name")
            if type(name) is str and name.strip().lstrip("#"):
                hashtags[name.strip().lstrip("#").lower()] = None
    return (" ".join(mentions) or None, " ".join(hashtags) or None)


class _ReferenceOutbox(mastodon._OutboxParser):
    """The outbox parser's create() before it was trimmed (the reference of the test below)."""

    def create(self, item: dict, n: int) -> None:
        _id_of, handle_of = mastodon._id_of, mastodon.handle_of_url
        note = item.get("object")
        if type(note) is not dict:
            self.rejects.add(n, "Create without an embedded object", item)
            return
        if note.get("type") not in mastodon._NOTE_TYPES:
            self.ignored[f"Create of {str(note.get('type'))[:30]}"] += 1
            return
        post_id = _id_of(note)
        if post_id is None:
            self.rejects.add(n, "Note without an id", item)
            return
        author = self._author(note.get("attributedTo"), item.get("actor"))
        if author is None:
            self.rejects.add(n, "Note whose attributedTo names no account", item)
            return
        content = note.get("content")
        lang = None
        cmap = note.get("contentMap")
        if type(cmap) is dict and cmap:
            lang = next(iter(cmap))
            if type(content) is not str:
                content = cmap[lang]
            lang = lang if type(lang) is str else None
        mentions, hashtags = _reference_mentions_and_tags(note.get("tag"), author)
        kind, target, target_author = "post", None, None
        reply_to = _id_of(note.get("inReplyTo"))
        quoted = None
        for k in mastodon._QUOTE_KEYS:
            v = note.get(k)
            if v is not None:
                quoted = _id_of(v)
                if quoted:
                    break
        if reply_to is not None:
            kind, target = "reply", reply_to
            if quoted is not None:
                self.quotes.append((post_id, n, quoted, handle_of(quoted)))
        elif quoted is not None:
            kind, target = "quote", quoted
        if target is not None:
            target_author = handle_of(target)
        created = note.get("published") or item.get("published")
        self.posts.add(
            (
                "mastodon",
                post_id,
                author,
                None,
                created,
                content if type(content) is str else None,
                kind,
                target,
                target_author,
                mentions,
                hashtags,
                lang,
                n,
                item,
            )
        )


_URLS = st.sampled_from(
    [
        "https://a.social/users/amy",
        "https://a.social/users/amy/statuses/5",
        "https://b.x/@bo/7",
        "nourl",
        "",
        "https://[x",
    ]
)
_LINK = _odd(_URLS | st.fixed_dictionaries({}, optional={"id": _odd(_URLS)}))
_NOTE = st.fixed_dictionaries(
    {"id": _odd(_URLS), "type": st.sampled_from(["Note", "Note", "Question", "Image", 3])},
    optional={
        "attributedTo": _LINK,
        "content": _odd(st.sampled_from(["<p>a &amp; b</p>", "plain"])),
        "contentMap": _odd(st.fixed_dictionaries({}, optional={"en": _odd(st.just("<p>x</p>"))})),
        "tag": _odd(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["Mention", "Hashtag", "Emoji"])},
                    optional={"href": _odd(_URLS), "name": _odd(st.sampled_from(["@c@d.e", "#T"]))},
                ),
                max_size=3,
            )
        ),
        "inReplyTo": _LINK,
        "quoteUrl": _LINK,
        "_misskey_quote": _LINK,
        "published": _odd(st.just("2014-02-14T10:00:00Z")),
    },
)
_CREATE = st.fixed_dictionaries(
    {"type": st.just("Create"), "object": _odd(_NOTE), "published": _odd(st.just("2014-02-15"))},
    optional={"actor": _LINK},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_CREATE, min_size=1, max_size=8), owner=st.sampled_from([None, LANE]))
@example(  # (a self-mention, and an author known from the actor only)
    items=[
        {
            "type": "Create",
            "actor": "https://b.x/@bo/7",
            "object": {
                "id": "https://a.social/users/amy/statuses/5",
                "type": "Note",
                "attributedTo": {"id": "nourl"},
                "tag": [{"type": "Mention", "href": "https://b.x/@bo"}],
            },
        }
    ],
    owner=None,
)
def test_outbox_creates_read_as_the_reference_reads_them(items, owner):
    # the trimmed _OutboxParser.create against its earlier form: same rows, rejects, quotes
    new, ref = mastodon._OutboxParser("o", owner), _ReferenceOutbox("o", owner)
    for n, item in enumerate(items, 1):
        new.activity(item, n)
        ref.activity(item, n)
    assert new.posts.rows == ref.posts.rows
    assert new.ignored == ref.ignored and new.quotes == ref.quotes
    a, b = new.rejects.take(), ref.rejects.take()
    assert (a is None) == (b is None)
    if a is not None:
        assert a.to_pylist() == b.to_pylist()


_ANNOUNCE = st.fixed_dictionaries(
    {"type": st.just("Announce"), "published": _odd(st.just("2014-02-15T10:00:00Z"))},
    optional={"id": _odd(_URLS), "object": _LINK, "actor": _LINK},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(_CREATE | _ANNOUNCE | _ODD | st.just({"type": "Like"}), max_size=10),
    batch_rows=st.integers(1, 4),
)
def test_outbox_read_in_batches_as_the_reference_reads_each_activity(
    tmp_path_factory, items, batch_rows
):
    # _read_outbox's loop (the dispatch and the rows' count inlined) against the reference
    # parser's activity() on each item, all in one batch
    doc = json.dumps({"type": "OrderedCollection", "orderedItems": items}).encode()
    path = _archive_zip(tmp_path_factory.mktemp("o") / "a.zip", doc)
    got, _ = _read(path, batch_rows=batch_rows)
    ref = _ReferenceOutbox(f"{path}!outbox.json", "mastodon:o@a.b")
    for n, item in enumerate(orjson.loads(doc)["orderedItems"], 1):  # (as the reader decodes)
        ref.activity(item, n)
    posts, rejects = mastodon._take_posts(ref.posts)
    assert got["posts"] == (posts.to_pylist() if posts is not None else [])
    assert got["rejects"] == (rejects.to_pylist() if rejects is not None else [])


@pytest.mark.parametrize("odd_type", [["Note", "Thing"], {"name": "Note"}, 7, None])
def test_create_of_an_object_whose_type_is_not_a_string_is_ignored_not_a_traceback(
    tmp_path, odd_type
):
    odd = _good_note(1)
    odd["object"]["type"] = odd_type
    d = tmp_path / "o"
    d.mkdir()
    items = [odd, _good_note(2)]
    (d / "outbox.json").write_text(json.dumps({"type": "OrderedCollection", "orderedItems": items}))
    (d / "actor.json").write_text(
        json.dumps({"type": "Person", "id": "https://a.b/users/o", "preferredUsername": "o"})
    )
    rows, _ = _read(d)
    assert [p["post_id"] for p in rows["posts"]] == [_good_note(2)["object"]["id"]]
    assert rows["rejects"] == []


def test_statuses_saved_as_latin1_are_rejected_line_by_line(tmp_path, data_dir):
    # usr7: JSON lines whose first two lines held latin-1 bytes were taken for one JSON
    # document and the whole file refused as "malformed JSON document (str is not valid
    # UTF-8: surrogates not allowed: line 1 column 1 (char 0))"; a Twitter file with the same
    # lines gives each to the rejects with its line, and the good lines are read
    lines = (data_dir / "io" / "mastodon_statuses.jsonl").read_bytes().splitlines()
    good, _ = _read(data_dir / "io" / "mastodon_statuses.jsonl")
    bad = [ln.replace(b'"content": "', b'"content": "caf\xe9 ', 1) for ln in lines[:2]]
    assert all(b"\xe9" in ln for ln in bad)
    path = tmp_path / "statuses.jsonl"
    path.write_bytes(b"\n".join(bad + lines[2:]) + b"\n")
    rows, _ = _read(path)
    utf8 = [r["source_line"] for r in rows["rejects"] if "not valid UTF-8" in r["reason"]]
    assert utf8 == [1, 2]
    assert len(rows["rejects"]) == len(good["rejects"]) + 2
    assert len(rows["posts"]) >= len(good["posts"]) - 2 > 0
