"""CSV importers: generic CSV with --map, the plain edge list, NodeXL edge exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from netsupport.errors import InputFileError
from netsupport.ingest import import_paths
from netsupport.io.base import ReadOptions
from netsupport.io.csvfile import kind_of, read, read_nodexl
from netsupport.io.detect import detect_format
from netsupport.store import Store


def _collect(batches):
    batches = list(batches)

    def rows(name):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        return pa.concat_tables(tables).to_pylist() if tables else []

    return rows("posts"), rows("follows"), rows("rejects"), sum(b.rows_read for b in batches)


def _csv(tmp_path, text, name="x.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_edge_list_one_interaction_per_row(tmp_path):
    path = _csv(
        tmp_path,
        "source,target,kind,created_at,text\n"
        "@Amy,Lane,mention,2014-02-14T10:00:00Z,go @lane\n"
        "amy,lane,Replies to,2014-02-14T11:00:00+01:00,@lane yes\n"
        "bob,lane,RT,1392375600000,RT @lane: x\n"
        "cy,lane,follow,,\n"
        "dee,,,2014-02-14T12:00:00Z,just a post\n",
    )
    assert detect_format(path) == "csv"
    posts, follows, rejects, n = _collect(read(path, "x.csv", ReadOptions()))
    assert n == 5 and rejects == []
    assert [(p["author"], p["kind"], p["target_author"], p["mentions"]) for p in posts] == [
        ("amy", "post", None, "lane"),
        ("amy", "reply", "lane", None),
        ("bob", "repost", "lane", None),
        ("dee", "post", None, None),
    ]
    assert [p["created_at"] for p in posts[1:3]] == [
        datetime(2014, 2, 14, 10, tzinfo=UTC),
        datetime(2014, 2, 14, 11, tzinfo=UTC),  # epoch milliseconds
    ]
    assert posts[0]["text"] == "go @lane" and posts[0]["platform"] == "twitter"
    assert all(p["post_id"].startswith("row-") and len(p["post_id"]) == 20 for p in posts)
    assert [p["source_line"] for p in posts] == [2, 3, 4, 6]
    assert follows == [{"follower": "cy", "followee": "lane", "observed_at": None}]


def test_synthetic_ids_make_reimport_and_overlapping_files_deduplicate(tmp_path):
    rows = "source,target,kind,created_at,text\namy,lane,mention,2014-02-14T10:00:00Z,hi\n"
    a = _csv(tmp_path, rows, "a.csv")
    b = _csv(tmp_path, rows + "bob,lane,mention,2014-02-14T10:00:00Z,hi\n", "b.csv")
    store = Store(tmp_path / "s")
    import_paths(store, [a])
    summary = import_paths(store, [b])
    assert (summary.files[0].posts, summary.files[0].duplicates) == (1, 1)
    assert store.counts()["posts"] == 2 and store.counts()["interactions"] == 2


def test_map_columns_to_fields(tmp_path):
    path = _csv(
        tmp_path,
        "Screen Name;Tweet ID;When;Body;Tags;Reply To\n"
        "Amy;99;2014-02-14T10:00:00Z;hello #A #b;#A,#b;Lane\n",
    )
    opts = ReadOptions(
        mapping=(
            ("Screen Name", "author"),
            ("tweet id", "post_id"),
            ("When", "created_at"),
            ("Body", "text"),
            ("Tags", "hashtags"),
            ("Reply To", "target"),
        )
    )
    posts, _, rejects, _ = _collect(read(path, "x", opts))
    assert rejects == []
    (p,) = posts
    assert (p["post_id"], p["author"], p["text"], p["hashtags"]) == (
        "99",
        "amy",
        "hello #A #b",
        "a b",
    )
    assert (p["kind"], p["target_author"], p["mentions"]) == ("post", None, "lane")


def test_mapping_errors_name_the_column_and_field(tmp_path):
    path = _csv(tmp_path, "who,when\namy,2014-02-14T10:00:00Z\n")
    with pytest.raises(InputFileError, match="no column for author"):
        list(read(path, "x", ReadOptions()))
    with pytest.raises(InputFileError, match="unknown field 'writer'"):
        list(read(path, "x", ReadOptions(mapping=(("who", "writer"),))))
    with pytest.raises(InputFileError, match="no column 'nobody'"):
        list(read(path, "x", ReadOptions(mapping=(("nobody", "author"),))))


def test_bad_rows_become_rejects_with_line_numbers(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"source,target,kind,created_at,text\n"
        b"amy,lane,mention,2014-02-14T10:00:00Z,ok\n"
        b",lane,mention,2014-02-14T10:00:00Z,no author\n"
        b"amy,lane,like,2014-02-14T10:00:00Z,unknown kind\n"
        b"amy,lane,mention,2014-02-14 10:00:00,naive time\n"
        b"amy,lane,mention,yesterday,unreadable time\n"
        b"amy,lane,mention,,missing time\n"
        b"amy,lane,mention,2014-02-14T10:00:00Z,caf\xe9 latin-1\n"
        b'amy,lane,mention,2014-02-14T10:00:00Z,"multi\nline",extra\n'
        b'amy,lane,reply,2014-02-14T10:00:00Z,"multi\nline ok"\n'
        b"amy,lane,mention,2014-02-15T10:00:00-05:00,ok again\n"
    )
    posts, _, rejects, n = _collect(read(path, "bad.csv", ReadOptions()))
    assert n == 11  # (the second line of the multi-line row of 6 cells is read again: issue #14)
    assert [(p["source_line"], p["text"]) for p in posts] == [
        (2, "ok"),
        (11, "multi\nline ok"),
        (13, "ok again"),
    ]
    assert posts[2]["created_at"] == datetime(2014, 2, 15, 15, tzinfo=UTC)
    got = {r["source_line"]: r["reason"] for r in rejects}
    assert got[3] == "missing author"
    assert got[4] == "unknown kind 'like'"
    assert got[5] == "timestamp '2014-02-14 10:00:00' has no time zone"
    assert got[6].startswith("cannot read timestamp 'yesterday'")
    assert got[7] == "missing timestamp"
    assert got[8] == "not valid UTF-8"
    assert got[9].startswith("a quoted field runs over 2 lines and leaves the row with 6 cells")
    assert got[10] == "missing timestamp"  # 'line",extra' read again as a row (author line")
    assert rejects[0]["source_file"] == "bad.csv"
    raw = {r["source_line"]: r["raw"] for r in rejects}
    assert raw[3] == ",lane,mention,2014-02-14T10:00:00Z,no author"


@pytest.mark.parametrize("batch_rows", [50_000, 1])
def test_follow_rows_with_unreadable_times_are_rejects(tmp_path, batch_rows):
    """A follow row whose observed time cannot be read is a reject (it used to vanish: the
    batch's rejects were taken before the follows' were added), in CSV and NodeXL alike."""
    path = _csv(
        tmp_path,
        "source,target,kind,created_at,text\n"
        "amy,lane,follow,,\n"
        "bob,lane,follow,2014-02-14 10:00:00,\n"
        "cy,lane,mention,2014-02-14T10:00:00Z,hi\n"
        "dan,lane,follow,soon,\n",
    )
    options = ReadOptions(batch_rows=batch_rows)
    posts, follows, rejects, n = _collect(read(path, "x.csv", options))
    assert n == 4 and len(posts) == 1
    assert [(f["follower"], f["followee"]) for f in follows] == [("amy", "lane")]
    assert [(r["source_line"], r["reason"][:28]) for r in rejects] == [
        (3, "timestamp '2014-02-14 10:00:"),
        (5, "cannot read timestamp 'soon'"),
    ]
    nodexl = _csv(
        tmp_path,
        "Vertex 1,Vertex 2,Relationship,Relationship Date (UTC)\n"
        "amy,lane,Followed,2014-02-14 10:00:00\n"
        "bob,lane,Followed,soon\n",
        "n.csv",
    )
    _, follows, rejects, n = _collect(read_nodexl(nodexl, "n.csv", options))
    assert n == 2 and [f["follower"] for f in follows] == ["amy"]
    assert [(r["source_line"], r["reason"][:28]) for r in rejects] == [
        (3, "cannot read timestamp 'soon'")
    ]


def test_kind_synonyms():
    assert [
        kind_of(k) for k in ("Tweet", "replied_to", "Retweeted", "QUOTE", "MentionsInQuote")
    ] == [
        "post",
        "reply",
        "repost",
        "quote",
        "mention",
    ]


def test_nodexl_rows_grouped_into_tweets_field_by_field(tmp_path, data_dir):
    path = data_dir / "io" / "nodexl_edges.csv"
    assert detect_format(path) == "nodexl"
    posts, follows, rejects, n = _collect(read_nodexl(path, "n.csv", ReadOptions()))
    assert n == 8
    by_id = {p["post_id"]: p for p in posts}
    assert list(by_id) == [
        "433912350000000001",
        "433912350000000005",
        "433912350000000006",
        "434200000000000003",
        "434200000000000009",
    ]
    reply = by_id["433912350000000001"]
    assert reply == {
        "platform": "twitter",
        "post_id": "433912350000000001",
        "author": "amyexample",
        "author_id": None,
        "created_at": datetime(2014, 2, 14, 10, tzinfo=UTC),  # "(UTC)" column: naive is UTC
        "text": "@inspector_lane @NorthshirePolice we are with you #StandWithLane",
        "kind": "reply",
        "target_post_id": "433900000000000000",
        "target_author": "inspector_lane",
        "mentions": "northshirepolice",
        "hashtags": "standwithlane",
        "lang": "en",
        "source_file": "n.csv",
        "source_line": 3,  # line 1 holds NodeXL's section titles, line 2 the header
    }
    assert (by_id["433912350000000005"]["kind"], by_id["433912350000000005"]["target_author"]) == (
        "post",
        None,
    )
    rt = by_id["433912350000000006"]
    assert (rt["kind"], rt["target_author"], rt["mentions"]) == (
        "repost",
        "inspector_lane",
        "polfed",
    )
    quote = by_id["434200000000000003"]
    assert (quote["kind"], quote["target_author"], quote["target_post_id"]) == (
        "quote",
        "northshirepolice",
        "433800000000000000",
    )
    # Excel's UK-locale date (the 15th: day first) is read, as the sheet's other dates would be
    late = by_id["434200000000000009"]
    assert (late["created_at"], late["kind"], late["mentions"]) == (
        datetime(2014, 2, 15, 9, 30, tzinfo=UTC),
        "post",
        "northshirepolice",
    )
    assert follows == [{"follower": "citizen_c", "followee": "inspector_lane", "observed_at": None}]
    assert rejects == []


def test_nodexl_import_gives_the_same_edges_as_the_api_would(tmp_path, data_dir):
    store = Store(tmp_path / "s")
    import_paths(store, [data_dir / "io" / "nodexl_edges.csv"])
    df = store.read("interactions")[["source", "target", "kind", "post_id"]].astype(object)
    edges = df.where(df.notna(), None).values.tolist()
    assert sorted(map(tuple, edges)) == sorted(
        [
            ("amyexample", "inspector_lane", "reply", "433912350000000001"),
            ("amyexample", "northshirepolice", "mention", "433912350000000001"),
            ("dee_supporter", "inspector_lane", "repost", "433912350000000006"),
            ("dee_supporter", "polfed", "mention", "433912350000000006"),
            ("edtheeditor", "northshirepolice", "quote", "434200000000000003"),
            ("citizen_c", "northshirepolice", "mention", "434200000000000009"),
            ("citizen_c", "inspector_lane", "follow", None),
        ]
    )


def test_nodexl_without_ids_groups_by_author_time_and_text(tmp_path):
    path = _csv(
        tmp_path,
        "Vertex 1,Vertex 2,Relationship,Relationship Date (UTC),Tweet\n"
        "amy,lane,Mentions,2014-02-14 10:00:00,@lane @bob hi\n"
        "amy,bob,Mentions,2014-02-14 10:00:00,@lane @bob hi\n"
        "amy,lane,Likes,2014-02-14 10:00:00,x\n",
    )
    posts, _, rejects, _ = _collect(read_nodexl(path, "n", ReadOptions()))
    assert [(p["mentions"], p["post_id"][:4]) for p in posts] == [("lane bob", "row-")]
    assert rejects[0]["reason"] == "unknown relationship 'Likes'"


_SHEET = "Vertex 1,Vertex 2,Relationship,Relationship Date (UTC),Tweet,Imported ID\n"


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_nodexl_dates_in_a_uk_sheets_day_first_order(tmp_path):
    # Excel in a UK locale saves 14 Feb as 14/02/2014; the 14th tells the order for the file,
    # so 03/02/2014 is 3 February (not 2 March); follows and ISO dates in the same file too
    path = _csv(
        tmp_path,
        _SHEET + "amy,lane,Replies to,14/02/2014 10:00,@lane hi,1\n"
        "bob,lane,Mentions,03/02/2014 09:05:07,@lane yo,2\n"
        "cy,lane,Tweet,2014-02-15 08:00:00,plain,3\n"
        "dan,lane,Followed,01/02/2014,,\n",
    )
    posts, follows, rejects, n = _collect(read_nodexl(path, "n.csv", ReadOptions()))
    assert rejects == [] and n == 4
    assert [(p["post_id"], p["created_at"]) for p in posts] == [
        ("1", _utc(2014, 2, 14, 10, 0)),
        ("2", _utc(2014, 2, 3, 9, 5, 7)),
        ("3", _utc(2014, 2, 15, 8, 0)),
    ]
    assert [(f["follower"], f["observed_at"]) for f in follows] == [("dan", _utc(2014, 2, 1))]


def test_nodexl_dates_in_a_us_sheets_month_first_order_with_am_pm(tmp_path):
    path = _csv(
        tmp_path,
        _SHEET + "amy,lane,Tweet,2/14/2014 12:30 AM,a,1\n"
        "bob,lane,Tweet,3/2/2014 12:00:59 PM,b,2\n"
        "cy,lane,Tweet,3/2/2014 1:00 pm,c,3\n",
    )
    posts, _, rejects, _ = _collect(read_nodexl(path, "n.csv", ReadOptions()))
    assert rejects == []
    assert [p["created_at"] for p in posts] == [
        _utc(2014, 2, 14, 0, 30),
        _utc(2014, 3, 2, 12, 0, 59),
        _utc(2014, 3, 2, 13, 0),
    ]


def test_nodexl_dates_whose_order_the_file_cannot_tell_are_rejects_saying_why(tmp_path):
    # every date fits both orders: 03/02 could be 3 February or 2 March, so no row is guessed
    path = _csv(
        tmp_path,
        _SHEET + "amy,lane,Tweet,03/02/2014 10:00,a,1\n"
        "bob,lane,Tweet,2014-02-14T10:00:00Z,b,2\n"
        "cy,lane,Followed,04/02/2014 10:00,,\n",
    )
    posts, follows, rejects, _ = _collect(read_nodexl(path, "n.csv", ReadOptions()))
    assert [p["post_id"] for p in posts] == ["2"] and follows == []
    assert sorted(r["source_line"] for r in rejects) == [2, 4]
    assert all("day/month order unknown" in r["reason"] for r in rejects)
    # 13/02 fits only day first and 2/13 only month first: no one order reads the file
    path = _csv(tmp_path, _SHEET + "a,b,Tweet,13/02/2014,x,1\nb,c,Tweet,2/13/2014,y,2\n", "m.csv")
    _, _, rejects, _ = _collect(read_nodexl(path, "m.csv", ReadOptions()))
    assert [r["reason"].endswith("fit neither day/month order") for r in rejects] == [True] * 2


def test_nodexl_without_header_is_an_error(tmp_path):
    path = _csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(InputFileError, match="no NodeXL header"):
        list(read_nodexl(path, "n", ReadOptions()))


@pytest.mark.parametrize("fmt", ["csv", "nodexl", "accounts"])
def test_a_last_row_cut_short_without_a_line_end_is_a_reject(tmp_path, data_dir, fmt):
    # usr7/usr8: a truncated copy (last row cut mid-row, no final newline) was imported
    # silently: an account "liamloraridge42" that may be a cut handle, an edge without its text
    if fmt == "nodexl":
        whole = (data_dir.parent.parent / "data/example/nodexl-standwithlane.csv").read_text()
        text = "\n".join(whole.splitlines()[:4]) + "\nsgt_x,inspector_lane,,,,,,,Mentions,201"
        good, width = 3, 22
    elif fmt == "accounts":
        text = (
            "handle,account_id,name,description,followers_count,role\n"
            "amy,1,Amy,desc,10,citizen\nliamloraridge42,2,Li"
        )
        good, width = 1, 6
    else:
        text = (
            "source,target,kind,created_at,text\namy,lane,mention,2014-02-14T10:00:00Z,hi\nben,la"
        )
        good, width = 1, 5
    cut = _csv(tmp_path, text, "cut.csv")
    summary = import_paths(Store(tmp_path / "store"), [cut], format=fmt)
    (f,) = summary.files
    assert f.rejects == 1 and (f.posts or f.accounts) == good
    path, line, reason = f.reject_samples[0]
    assert path == str(cut) and line == text.count("\n") + 1
    assert f"of the header's {width} cells" in reason and "without a line end" in reason
    # the same rows with a final line end, or a last row of full width without one: no reject
    for i, whole in enumerate((text + "\n", text.rsplit("\n", 1)[0])):
        ok = _csv(tmp_path, whole, f"ok{i}.csv")
        (f,) = import_paths(Store(tmp_path / f"s{i}"), [ok], format=fmt).files
        assert not [r for r in f.reject_samples if "line end" in r[2]]
        assert i == 0 or f.rejects == 0
