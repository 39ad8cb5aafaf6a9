"""Hostile inputs to the importers (issue #14, the import items): nothing lost, nothing refused
whole for a few bad lines. Each test names the item it guards and fails without its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport.ingest import import_paths
from netsupport.io import ReadOptions, detect_format, reader_for
from netsupport.store import Store


def read_all(fmt: str, path: Path, **opts) -> dict[str, list[dict]]:
    """Every table a reader yields for ``path``, as lists of row dicts."""
    batches = list(reader_for(fmt)(path, str(path), ReadOptions(**opts)))
    out = {}
    for name in ("posts", "follows", "accounts", "rejects"):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        out[name] = pa.concat_tables(tables).to_pylist() if tables else []
    out["rows_read"] = sum(b.rows_read for b in batches)
    return out


def tweet(i: int, **extra) -> dict:
    """A flattened v2 tweet (twarc2 flatten) by @amy."""
    return {
        "id": f"{1000 + i}",
        "text": f"good tweet {i}",
        "created_at": "2014-02-14T10:00:00.000Z",
        "author_id": "7",
        "author": {"id": "7", "username": "Amy"},
        **extra,
    }


def jsonl(path: Path, lines: list) -> Path:
    path.write_bytes(
        b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)
    )
    return path


# ---- item 2: an unterminated quote swallows the rest of a CSV file ---------------------------

EDGE_HEADER = "source,target,kind,created_at,text\n"


def _edge(i: int) -> str:
    return f"amy,lane,mention,2014-02-14T10:{i % 60:02d}:00Z,row {i}\n"


@pytest.mark.parametrize("bad_at", [0, 500, 998])
@pytest.mark.parametrize(
    "bad",
    [
        'bob,lane,mention,2014-02-14T10:00:00Z,"an open quote\n',  # text: runs to the end
        'bob,"lane,mention,2014-02-14T10:00:00Z,x\n',  # a middle cell
    ],
)
def test_csv_unterminated_quote_is_one_reject_not_the_rest_of_the_file(tmp_path, bad, bad_at):
    rows = [_edge(i) for i in range(999)]
    rows.insert(bad_at, bad)
    path = tmp_path / "edges.csv"
    path.write_text(EDGE_HEADER + "".join(rows))
    got = read_all("csv", path)
    assert len(got["posts"]) == 999
    assert sorted(p["text"] for p in got["posts"]) == sorted(f"row {i}" for i in range(999))
    assert [r["source_line"] for r in got["rejects"]] == [bad_at + 2]
    assert got["rows_read"] == 1000
    if bad_at < 998:  # (on the last line the quote swallows nothing)
        assert "an unterminated quote?" in got["rejects"][0]["reason"]


def test_csv_quoted_field_over_lines_still_reads(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text(
        EDGE_HEADER + 'amy,lane,mention,2014-02-14T10:00:00Z,"two\nlines, ""quoted"""\n' + _edge(1)
    )
    got = read_all("csv", path)
    assert [p["text"] for p in got["posts"]] == ['two\nlines, "quoted"', "row 1"]
    assert [p["source_line"] for p in got["posts"]] == [2, 4]
    assert got["rejects"] == []


def test_csv_bad_row_inside_a_row_read_again_loses_nothing(tmp_path):
    # the second open quote sits in the lines swallowed by the first: both are rejects, and
    # every other line is read once, in order
    rows = [_edge(i) for i in range(20)]
    rows[3] = 'bob,lane,mention,2014-02-14T10:00:00Z,"open\n'
    rows[5] = 'cy,"lane,mention,2014-02-14T10:00:00Z,x\n'
    path = tmp_path / "edges.csv"
    path.write_text(EDGE_HEADER + "".join(rows))
    got = read_all("csv", path)
    assert [p["text"] for p in got["posts"]] == [f"row {i}" for i in range(20) if i not in (3, 5)]
    assert [r["source_line"] for r in got["rejects"]] == [5, 7]


def test_nodexl_unterminated_quote_is_one_reject(tmp_path):
    head = "Vertex 1,Vertex 2,Relationship,Relationship Date (UTC),Tweet,Imported ID\n"
    rows = [f"amy,lane,Replies to,2014-02-14 10:00:00,t{i},{7000 + i}\n" for i in range(999)]
    rows.insert(10, 'bob,lane,Replies to,2014-02-14 10:00:00,"open,1\n')
    path = tmp_path / "nodexl.csv"
    path.write_text(head + "".join(rows))
    got = read_all("nodexl", path)
    assert len(got["posts"]) == 999
    assert [r["source_line"] for r in got["rejects"]] == [12]


def test_accounts_and_follower_csv_unterminated_quote_is_one_reject(tmp_path):
    rows = [f"user{i},{i},Name {i}\n" for i in range(999)]
    rows.insert(7, 'bad,1,"Open quote\n')
    path = tmp_path / "accounts.csv"
    path.write_text("handle,account_id,name\n" + "".join(rows))
    got = read_all("accounts", path)
    assert len(got["accounts"]) == 999 and [r["source_line"] for r in got["rejects"]] == [9]

    rows = [f"user{i},2014-02-14T10:00:00Z\n" for i in range(999)]
    rows.insert(7, '"user_x,2014-02-14T10:00:00Z\n')
    path = tmp_path / "followers.csv"
    path.write_text("username,observed_at\n" + "".join(rows))
    got = read_all("followers", path, account="lane")
    assert len(got["follows"]) == 999 and [r["source_line"] for r in got["rejects"]] == [9]


# ---- item 5: JSON-lines layout decided from the first 5 lines -------------------------------


@pytest.mark.parametrize("fmt", ["auto", "twitter-v2"])
def test_broken_lines_before_good_tweets_are_rejects(tmp_path, fmt):
    path = jsonl(tmp_path / "t.jsonl", [b"{broken"] * 5 + [tweet(i) for i in range(1000)])
    summary = import_paths(Store(tmp_path / "s"), [path], format=fmt)
    assert summary.total("posts") == 1000 and summary.total("rejects") == 5
    rejects = Store(tmp_path / "s").read("rejects")
    assert rejects["source_line"].tolist() == [1, 2, 3, 4, 5]


def test_latin1_byte_in_line_one_is_one_reject(tmp_path):
    first = json.dumps(tweet(0)).replace("good", "caf\\u00e9").encode().replace(b"\\u00e9", b"\xe9")
    assert b"\xe9" in first
    # (two lines: the old detection also dropped the last line it read as possibly cut)
    path = jsonl(tmp_path / "t.jsonl", [first, tweet(1)])
    summary = import_paths(Store(tmp_path / "s"), [path])
    assert summary.total("posts") == 1 and summary.total("rejects") == 1
    one = jsonl(tmp_path / "one.jsonl", [first, b"{also broken"])  # no line parses: refused
    with pytest.raises(Exception, match="not valid JSON"):
        import_paths(Store(tmp_path / "s2"), [one], format="twitter-v2")


def test_pretty_printed_array_of_one_line_objects_is_still_one_document(tmp_path):
    path = tmp_path / "arr.json"
    path.write_text("[\n" + ",\n".join(json.dumps(tweet(i)) for i in range(3)) + "\n]\n")
    got = read_all("twitter-v2", path)
    assert [p["source_line"] for p in got["posts"]] == [1, 2, 3] and got["rejects"] == []


# ---- item 6: NUL bytes in one line or cell are not "binary content" -------------------------


def test_nul_byte_in_one_json_line_is_a_reject_with_auto(tmp_path):
    bad = json.dumps(tweet(0)).encode().replace(b"good", b"go\x00od")
    path = jsonl(tmp_path / "t.jsonl", [bad, *[tweet(i) for i in range(1, 6)]])
    assert detect_format(path) == "twitter-v2"
    summary = import_paths(Store(tmp_path / "s"), [path])
    assert summary.total("posts") == 5 and summary.total("rejects") == 1


def test_nul_byte_in_one_csv_cell_is_a_reject_with_auto(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(
        EDGE_HEADER.encode()
        + b"amy,lane,mention,2014-02-14T10:00:00Z,nul \x00 here\n"
        + "".join(_edge(i) for i in range(1, 4)).encode()
    )
    assert detect_format(path) == "csv"
    summary = import_paths(Store(tmp_path / "s"), [path])
    assert summary.total("posts") == 3 and summary.total("rejects") == 1
    assert Store(tmp_path / "s").read("rejects")["reason"].tolist() == ["NUL byte in a cell"]


def test_binary_files_are_still_binary(tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(Exception, match="binary content"):
        detect_format(blob)


# ---- item 8: twarc2 user lookups become accounts ---------------------------------------------


def _user(i: int) -> dict:
    return {
        "id": f"{50 + i}",
        "username": f"User{i}",
        "name": f"User {i}",
        "description": "a bio",
        "created_at": "2009-01-01T00:00:00.000Z",
        "public_metrics": {"followers_count": 10 * i, "following_count": 1, "tweet_count": 3},
    }


@pytest.mark.parametrize("layout", ["pages", "lines"])
def test_twarc2_users_become_accounts(tmp_path, layout):
    users = [_user(i) for i in range(6)]
    if layout == "pages":  # twarc2 users: response pages of user objects
        lines = [{"data": users[:3]}, {"data": users[3:], "includes": {"tweets": []}}]
    else:
        lines = users
    path = jsonl(tmp_path / "users.jsonl", lines)
    assert detect_format(path) == "twitter-v2"
    summary = import_paths(Store(tmp_path / "s"), [path])
    assert summary.total("rejects") == 0 and summary.total("posts") == 0
    accounts = Store(tmp_path / "s").read("accounts")
    assert accounts["handle"].tolist() == [f"user{i}" for i in range(6)]
    assert accounts["followers_count"].tolist() == [10 * i for i in range(6)]
    assert accounts["account_id"].tolist() == [f"{50 + i}" for i in range(6)]


# ---- item 11: a v2 author missing from includes.users (suspended) ----------------------------


def _page_missing_author() -> dict:
    return {
        "data": [
            {
                "id": "2001",
                "text": "@lane hi",
                "created_at": "2014-02-14T10:00:00.000Z",
                "author_id": "999",  # suspended: not in includes.users
                "in_reply_to_user_id": "9",
                "referenced_tweets": [{"type": "replied_to", "id": "1"}],
                "entities": {"mentions": [{"username": "Lane", "id": "9"}]},
            },
            {
                "id": "2002",
                "text": "hi",
                "created_at": "2014-02-14T10:00:00.000Z",
                "author_id": "7",
            },
        ],
        "includes": {"users": [{"id": "7", "username": "Amy"}, {"id": "9", "username": "Lane"}]},
    }


def test_v2_author_missing_from_includes_falls_back_to_its_id(tmp_path):
    path = jsonl(tmp_path / "p.jsonl", [_page_missing_author()])
    got = read_all("twitter-v2", path)
    assert [(p["author"], p["author_id"], p["target_author"]) for p in got["posts"]] == [
        ("id:999", "999", "lane"),
        ("amy", "7", None),
    ]
    assert got["rejects"] == []
    import_paths(Store(tmp_path / "s"), [path])
    inter = Store(tmp_path / "s").read("interactions")
    assert ("id:999", "lane", "reply") in set(
        zip(inter.source, inter.target, inter.kind, strict=True)
    )
    # an accounts file imported earlier that knows the id gives the handle
    acc = tmp_path / "accounts.csv"
    acc.write_text("handle,account_id\nghost,999\n")
    import_paths(Store(tmp_path / "s2"), [acc, path])
    posts = Store(tmp_path / "s2").read("posts")
    assert sorted(posts.author) == ["amy", "ghost"]


def test_v2_fast_path_agrees_on_authors_known_by_id(tmp_path):
    from netsupport.io.twitter_json import parse_lines
    from netsupport.io.v2_arrow import parse_v2_block

    flat = [
        tweet(1, author={"id": "7"}),  # no username
        tweet(2, author_id="8", author={"username": ""}),
        tweet(3, author_id="", author={"username": ""}),  # nothing: a reject
    ]
    for lines in ([_page_missing_author()], flat):
        raw = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
        slow, _ = parse_lines(raw, "x", fast=False)
        fast, _ = parse_lines(raw, "x")
        assert fast.posts.to_pylist() == slow.posts.to_pylist()
        assert (fast.rejects is None) == (slow.rejects is None)
    assert parse_v2_block(b"".join(json.dumps(x).encode() + b"\n" for x in flat[:2]), "x")
    assert [p["author"] for p in slow.posts.to_pylist()] == ["id:7", "id:8"]
    assert slow.rejects.to_pylist()[0]["reason"].startswith("missing author handle and author_id")


# ---- item 19: values of the wrong type or range are rejects, not nulls -----------------------


def test_v2_text_that_is_not_a_string_is_a_reject(tmp_path):
    path = jsonl(tmp_path / "t.jsonl", [tweet(0, text=12345), tweet(1)])
    got = read_all("twitter-v2", path)
    assert [p["post_id"] for p in got["posts"]] == ["1001"]
    assert [(r["source_line"], r["reason"]) for r in got["rejects"]] == [
        (1, "text is a JSON int, not a string")
    ]


def test_accounts_followers_count_beyond_int64_is_a_reject(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        "handle,followers_count\namy,9223372036854775808\nbob,1e30\ncy,9223372036854775807\n"
    )
    got = read_all("accounts", path)
    assert [(a["handle"], a["followers_count"]) for a in got["accounts"]] == [("cy", 2**63 - 1)]
    assert [r["source_line"] for r in got["rejects"]] == [2, 3]
    assert "too large" in got["rejects"][0]["reason"]


# ---- item 9: archive replies known only by the replied-to account's id -----------------------


def _archive(path: Path, tweets: list[dict]) -> Path:
    import zipfile

    def js(name: str, value) -> str:
        return f"window.YTD.{name}.part0 = {json.dumps(value)}"

    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "data/account.js",
            js("account", [{"account": {"username": "Inspector_Lane", "accountId": "111"}}]),
        )
        z.writestr("data/tweets.js", js("tweets", [{"tweet": t} for t in tweets]))
        z.writestr("data/follower.js", js("follower", [{"follower": {"accountId": "43"}}]))
    return path


def _archive_reply(i: int, uid: str, mentions: list | None = None, **extra) -> dict:
    return {
        "id_str": f"{500 + i}",
        "created_at": "Fri Feb 14 10:00:00 +0000 2014",
        "full_text": f"reply {i}",
        "in_reply_to_status_id_str": f"{400 + i}",
        "in_reply_to_user_id_str": uid,
        "in_reply_to_screen_name": None,
        "entities": {"user_mentions": mentions or [], "urls": []},
        **extra,
    }


def test_archive_reply_without_screen_name_resolves_the_target_by_id(tmp_path):
    path = _archive(
        tmp_path / "archive.zip",
        [
            _archive_reply(1, "42", [{"screen_name": "AmyExample", "id_str": "42"}]),
            _archive_reply(2, "43"),  # only its id: a follower, named by an accounts file
            _archive_reply(3, "44"),  # named nowhere: kept as id:44
            _archive_reply(4, "111"),  # the owner's own thread: no edge to itself
        ],
    )
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("handle,account_id\nbob,43\n")
    import_paths(Store(tmp_path / "s"), [accounts, path])
    store = Store(tmp_path / "s")
    posts = store.read("posts")
    assert posts["target_author"].tolist() == ["amyexample", "bob", "id:44", "inspector_lane"]
    inter = store.read("interactions")
    replies = inter[inter.kind == "reply"]
    assert sorted(zip(replies.source, replies.target, strict=True)) == [
        ("inspector_lane", "amyexample"),
        ("inspector_lane", "bob"),
        ("inspector_lane", "id:44"),
    ]
    follows = store.read("follows")
    assert follows["follower"].tolist() == ["bob"]  # the same id, the same name


# ---- item 10: a tweet that replies and quotes gets both edges --------------------------------


def _edges(store: Store) -> set[tuple[str, str, str, str]]:
    i = store.read("interactions")
    return set(zip(i.post_id, i.source, i.target, i.kind, strict=True))


def test_v2_reply_that_quotes_gets_a_reply_and_a_quote_edge(tmp_path):
    refs = [
        {"type": "quoted", "id": "300", "author": {"id": "8", "username": "Force"}},
        {"type": "replied_to", "id": "200", "author": {"id": "9", "username": "Lane"}},
    ]
    flat = tweet(1, referenced_tweets=refs)
    page = {
        "data": [
            {
                "id": "2002",
                "text": "x",
                "created_at": "2014-02-14T10:00:00.000Z",
                "author_id": "7",
                "referenced_tweets": [
                    {"type": "replied_to", "id": "200"},
                    {"type": "quoted", "id": "300"},
                ],
            }
        ],
        "includes": {
            "users": [
                {"id": "7", "username": "Amy"},
                {"id": "9", "username": "Lane"},
                {"id": "8", "username": "Force"},
            ],
            "tweets": [{"id": "200", "author_id": "9"}, {"id": "300", "author_id": "8"}],
        },
    }
    path = jsonl(tmp_path / "t.jsonl", [flat])
    pages = jsonl(tmp_path / "p.jsonl", [page])
    import_paths(Store(tmp_path / "s"), [path, pages])
    assert _edges(Store(tmp_path / "s")) >= {
        ("1001", "amy", "lane", "reply"),
        ("1001", "amy", "force", "quote"),
        ("2002", "amy", "lane", "reply"),
        ("2002", "amy", "force", "quote"),
    }
    posts = Store(tmp_path / "s").read("posts")
    assert posts["kind"].tolist() == ["reply", "reply"]  # the post keeps one kind


def test_v2_reply_quote_fast_path_equals_line_parser():
    from netsupport.io.twitter_json import parse_lines
    from netsupport.io.v2_arrow import parse_v2_block

    refs = [
        {"type": "replied_to", "id": "200", "author": {"id": "9", "username": "Lane"}},
        {"type": "quoted", "id": "300", "author": {"id": "8", "username": "Force"}},
        {"type": "quoted", "id": "301"},
    ]
    raw = b"".join(
        json.dumps(t).encode() + b"\n"
        for t in [tweet(1, referenced_tweets=refs), tweet(2), tweet(3, referenced_tweets=refs[1:])]
    )
    fast = parse_v2_block(raw, "x")
    assert isinstance(fast, tuple)
    slow, _ = parse_lines(raw, "x", fast=False)
    assert (
        fast[0].quotes.to_pylist()
        == slow.quotes.to_pylist()
        == [
            {"post_id": "1001", "source_line": 1, "target_post_id": "300", "target_author": "force"}
        ]
    )


def test_v1_and_archive_reply_that_quotes_gets_both_edges(tmp_path):
    v1 = {
        "id_str": "3001",
        "created_at": "Fri Feb 14 10:00:00 +0000 2014",
        "text": "x",
        "user": {"id_str": "7", "screen_name": "Amy"},
        "in_reply_to_status_id_str": "200",
        "in_reply_to_screen_name": "Lane",
        "quoted_status": {"id_str": "300", "user": {"id_str": "8", "screen_name": "Force"}},
    }
    archived = _archive_reply(
        9,
        "42",
        [{"screen_name": "AmyExample", "id_str": "42"}],
    )
    archived["entities"]["urls"] = [{"expanded_url": "https://twitter.com/Force/status/301"}]
    path = jsonl(tmp_path / "v1.jsonl", [v1])
    zpath = _archive(tmp_path / "a.zip", [archived])
    import_paths(Store(tmp_path / "s"), [path, zpath])
    assert _edges(Store(tmp_path / "s")) >= {
        ("3001", "amy", "lane", "reply"),
        ("3001", "amy", "force", "quote"),
        ("509", "inspector_lane", "amyexample", "reply"),
        ("509", "inspector_lane", "force", "quote"),
    }


# ---- item 15: a compression-ratio limit per archive member -----------------------------------


def test_zip_member_inflating_past_the_ratio_is_refused_with_one_line(tmp_path):
    import zipfile

    from typer.testing import CliRunner

    from netsupport.cli import app
    from netsupport.errors import UnsafeArchive

    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "data/account.js",
            'window.YTD.account.part0 = [{"account": {"username": "x", "accountId": "1"}}]',
        )
        z.writestr("data/tweets.js", "window.YTD.tweets.part0 = [" + " " * 20 * 1024**2 + "]")
    assert path.stat().st_size < 200_000  # about 1000:1
    with pytest.raises(UnsafeArchive, match=r"over 100:1"):
        import_paths(Store(tmp_path / "s"), [path])
    assert not Store(tmp_path / "s").exists()
    result = CliRunner().invoke(app, ["import", str(path), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert (
        len(result.stderr.strip().splitlines()) == 1 and "--max-compression-ratio" in result.stderr
    )
    # genuine archives may say so: 0 lifts the limit (the 2 GiB cap still holds)
    summary = import_paths(Store(tmp_path / "s"), [path], max_compression_ratio=0)
    assert summary.files[0].status == "imported"


# ---- item 12: headerless (SNAP-style) edge lists ---------------------------------------------

SNAP = (
    "# Directed graph: higgs-activity_time.txt\n"
    "# source target time kind\n"
    "amy lane 1392372000 RT\n"
    "bob  lane 1392372060 MT\n"
    "cy amy 1392372120 RE\n"
)


def _cli(*args):
    from typer.testing import CliRunner

    from netsupport.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    "how",
    [
        [
            "--no-header",
            "--map",
            "0=source",
            "--map",
            "1=target",
            "--map",
            "2=created_at",
            "--map",
            "3=kind",
        ],
        ["--columns", "source,target,created_at,kind"],
    ],
)
@pytest.mark.parametrize("sep", [" ", "\t"])
def test_headerless_edge_list_by_position_or_columns(tmp_path, how, sep):
    path = tmp_path / "higgs.txt"
    path.write_text(SNAP if sep == " " else SNAP.replace("  ", " ").replace(" ", "\t"))
    result = _cli("import", path, "--store", tmp_path / "s", *how)
    assert result.exit_code == 0, result.stderr
    store = Store(tmp_path / "s")
    posts = store.read("posts")
    assert posts["author"].tolist() == ["amy", "bob", "cy"]
    assert posts["kind"].tolist() == ["repost", "post", "reply"]
    assert posts["source_line"].tolist() == [3, 4, 5]
    assert str(posts["created_at"].iloc[0]) == "2014-02-14 10:00:00+00:00"
    inter = store.read("interactions")
    assert sorted(zip(inter.source, inter.target, inter.kind, strict=True)) == [
        ("amy", "lane", "repost"),
        ("bob", "lane", "mention"),
        ("cy", "amy", "reply"),
    ]
    assert store.counts()["rejects"] == 0


def test_headerless_without_a_mapping_names_the_positions(tmp_path):
    path = tmp_path / "higgs.txt"
    path.write_text(SNAP)
    result = _cli("import", path, "--store", tmp_path / "s", "--no-header")
    assert result.exit_code == 2
    assert "no column for author" in result.stderr and "columns: 0, 1, 2, 3" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_space_separated_edge_list_with_a_header_is_detected(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("source target created_at kind\namy lane 1392372000 RT\n")
    assert detect_format(path) == "csv"
    assert read_all("csv", path)["posts"][0]["target_author"] == "lane"


# ---- item 17: re-importing a grown file counts its old bad lines once ------------------------


def test_reimporting_a_grown_file_adds_only_the_new_rejects(tmp_path):
    path = jsonl(tmp_path / "t.jsonl", [tweet(0), b"{broken", tweet(1), b"{broken", b"[1"])
    store = Store(tmp_path / "s")
    assert import_paths(store, [path]).total("rejects") == 3
    with open(path, "ab") as fh:  # the collection grew: two new tweets, two new bad lines
        fh.write(json.dumps(tweet(2)).encode() + b"\n{broken\n{other\n")
    summary = import_paths(store, [path])
    assert summary.total("rejects") == 2 and summary.total("posts") == 1
    rejects = store.read("rejects")
    assert rejects["source_line"].tolist() == [2, 4, 5, 7, 8]  # a third {broken is new
    assert store.counts()["rejects"] == 5


def test_reimporting_a_grown_csv_adds_only_the_new_rejects(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(EDGE_HEADER + _edge(0) + ",lane,mention,2014-02-14T10:00:00Z,x\n")
    store = Store(tmp_path / "s")
    import_paths(store, [path])
    with open(path, "a") as fh:
        fh.write(_edge(1) + "amy,lane,like,2014-02-14T10:00:00Z,x\n")
    assert import_paths(store, [path]).total("rejects") == 1
    assert store.read("rejects")["reason"].tolist() == ["missing author", "unknown kind 'like'"]


# ---- item 13: a re-collected tweet with a changed author or text -----------------------------


def test_recollected_tweet_with_changed_author_or_text_keeps_the_first(tmp_path):
    from netsupport.ingest import format_summary

    first = jsonl(tmp_path / "a.jsonl", [tweet(0), tweet(1), tweet(2)])
    again = jsonl(
        tmp_path / "b.jsonl",
        [
            tweet(0),  # the same: a plain duplicate
            tweet(1, author={"id": "66", "username": "Mallory"}, author_id="66"),  # new author
            tweet(2, text="edited"),  # new text
            tweet(3, author={"id": "67", "username": "Bob"}, author_id="67"),  # a new tweet
        ],
    )
    store = Store(tmp_path / "s")
    import_paths(store, [first])
    summary = import_paths(store, [again])
    f = summary.files[0]
    assert (f.posts, f.duplicates, f.changed_duplicates) == (1, 3, 2)
    assert "b.jsonl: 2 duplicate posts differ from the version already kept" in format_summary(
        summary
    )
    posts = store.read("posts").set_index("post_id")
    assert posts.loc["1001", "author"] == "amy" and posts.loc["1002", "text"] == "good tweet 2"
    assert sorted(store.read("accounts")["handle"]) == ["amy", "bob"]  # no stray mallory


def test_changed_author_named_elsewhere_keeps_its_account(tmp_path):
    first = jsonl(tmp_path / "a.jsonl", [tweet(1)])
    mention = {"mentions": [{"username": "Mallory", "id": "66"}]}
    again = jsonl(
        tmp_path / "b.jsonl",
        [
            tweet(1, author={"id": "66", "username": "Mallory"}, author_id="66"),
            tweet(4, entities=mention),  # a kept tweet mentions her
        ],
    )
    store = Store(tmp_path / "s")
    summary = import_paths(store, [first, again])  # (one transaction: the same rules)
    assert [f.changed_duplicates for f in summary.files] == [0, 1]
    assert sorted(store.read("accounts")["handle"]) == ["amy", "mallory"]


@pytest.mark.parametrize("fmt", ["auto", "twitter-v2"])
def test_broken_lines_before_good_tweets_in_a_gzip_file_are_rejects(tmp_path, fmt):
    import gzip

    plain = jsonl(tmp_path / "t.jsonl", [b"{broken"] * 5 + [tweet(i) for i in range(1000)])
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    summary = import_paths(Store(tmp_path / "s"), [path], format=fmt)
    assert summary.total("posts") == 1000 and summary.total("rejects") == 5


def test_gzip_csv_with_an_unterminated_quote_reads_the_lines_again(tmp_path):
    import gzip

    rows = [_edge(i) for i in range(50)]
    rows.insert(3, 'bob,lane,mention,2014-02-14T10:00:00Z,"an open quote\n')
    path = tmp_path / "edges.csv.gz"
    path.write_bytes(gzip.compress((EDGE_HEADER + "".join(rows)).encode()))
    got = read_all("csv", path)
    assert len(got["posts"]) == 50 and [r["source_line"] for r in got["rejects"]] == [5]


def test_csv_two_stray_quotes_that_make_a_row_of_the_right_shape_lose_nothing(tmp_path):
    # one quote opens in the last cell of line 3, another closes on line 7: the parser sees one
    # row of 5 cells holding lines 4-6, which are rows of their own
    rows = [_edge(i) for i in range(10)]
    rows[1] = 'bob,lane,mention,2014-02-14T10:00:00Z,"opens\n'
    rows[5] = 'closes"\n'
    path = tmp_path / "edges.csv"
    path.write_text(EDGE_HEADER + "".join(rows))
    got = read_all("csv", path)
    assert [p["text"] for p in got["posts"]] == [f"row {i}" for i in range(10) if i not in (1, 5)]
    assert [r["source_line"] for r in got["rejects"]] == [3, 7]
    assert "rows of their own" in got["rejects"][0]["reason"]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    junk=st.lists(st.text(alphabet='ab,"; x', max_size=25), max_size=6),
    at=st.lists(st.integers(0, 12), min_size=6, max_size=6),
)
def test_csv_stray_quotes_anywhere_never_lose_a_good_row(tmp_path_factory, junk, at):
    rows = [_edge(i) for i in range(12)]
    for line, pos in zip(reversed(junk), at, strict=False):
        rows.insert(pos, line + "\n")
    path = tmp_path_factory.mktemp("q") / "edges.csv"
    path.write_text(EDGE_HEADER + "".join(rows))
    got = read_all("csv", path)
    texts = [p["text"] for p in got["posts"] if p["author"] == "amy" and p["mentions"] == "lane"]
    assert [t for t in texts if t.startswith("row ")] == [f"row {i}" for i in range(12)]


def test_v2_reply_to_a_user_missing_from_includes_keeps_its_edge_by_id():
    from netsupport.io.twitter_json import parse_lines
    from netsupport.io.v2_arrow import parse_v2_block

    reply = tweet(
        1, in_reply_to_user_id="404", referenced_tweets=[{"type": "replied_to", "id": "9"}]
    )
    raw = json.dumps(reply).encode() + b"\n"
    fast = parse_v2_block(raw, "x")
    slow, _ = parse_lines(raw, "x", fast=False)
    assert isinstance(fast, tuple)
    assert fast[0].posts.to_pylist() == slow.posts.to_pylist()
    assert slow.posts.to_pylist()[0]["target_author"] == "id:404"


def test_study_file_inputs_take_columns_for_a_headerless_list(tmp_path):
    from netsupport.errors import StudyKeyError
    from netsupport.ingest import import_inputs
    from netsupport.studyfile import load_study

    (tmp_path / "higgs.txt").write_text(SNAP)
    study = tmp_path / "study.toml"
    text = (
        '[study]\nname = "x"\nfocal = ["lane"]\n[windows]\n'
        'crisis_start = "2014-02-14T09:00:00Z"\ncrisis_end = "2014-02-15T09:00:00Z"\n'
        '[[inputs]]\npath = "higgs.txt"\nformat = "csv"\n'
        'columns = ["source", "target", "created_at", "kind"]\n'
    )
    study.write_text(text)
    spec = load_study(study).inputs[0]
    assert (spec.header, spec.columns) == (False, ("source", "target", "created_at", "kind"))
    summary = import_inputs(Store(tmp_path / "s"), [spec])
    assert summary.total("posts") == 3 and summary.total("rejects") == 0
    study.write_text(text.replace('"kind"]', "7]"))
    with pytest.raises(StudyKeyError, match="columns' must list column names"):
        load_study(study)
