"""Bluesky importer: Jetstream events, repository CAR exports, did,handle CSVs (issue #16).

Counts are taken by hand from tests/data/io/bluesky_jetstream.ndjson (one event per line):
line 1 identity (lane's handle), 2 a reply written before its parent (4), 3 a like, 5 a repost,
6 a quote with a mention and a tag facet, 7 a quote with media of the force's post, 8 a follow,
9 a delete, 10 a block (unknown collection), 11 an account event, 12 malformed JSON, 13 no did,
14 a like without a subject, 15 a post with no readable time, 16 a post timed by time_us only,
17 line 4 again, 18 a profile update; line 19 is blank.
"""

from __future__ import annotations

import gzip

import pytest
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.errors import InputFileError
from netsupport.ingest import format_summary, import_paths
from netsupport.io.base import ReadOptions
from netsupport.io.bluesky import read
from netsupport.io.carfile import repo_car
from netsupport.io.detect import detect_format
from netsupport.store import Store

runner = CliRunner()
LANE = "bluesky:did:plc:lanexyz"
POST1 = "at://did:plc:lanexyz/app.bsky.feed.post/3kpost1"


@pytest.fixture
def jetstream(data_dir):
    return data_dir / "io" / "bluesky_jetstream.ndjson"


def _edges(store: Store) -> list[tuple]:
    t = store.read_arrow("interactions").to_pylist()
    return sorted((r["source"], r["target"], r["kind"], r["post_id"]) for r in t)


def test_jetstream_counts_match_the_file(tmp_path, jetstream):
    assert detect_format(jetstream) == "bluesky"
    store = Store(tmp_path / "s")
    s = import_paths(store, [jetstream])
    f = s.files[0]
    assert (f.format, f.rows_read, f.posts, f.duplicates, f.follows, f.rejects) == (
        "bluesky",
        18,
        6,
        1,
        1,
        4,
    )
    rejects = store.read_arrow("rejects").to_pylist()
    assert [(r["source_line"], r["reason"][:20]) for r in rejects] == [
        (12, "malformed JSON"),
        (13, "event without a vali"),
        (14, "like without a reada"),
        (15, "post without a reada"),
    ]
    posts = {r["post_id"]: r for r in store.read_arrow("posts").to_pylist()}
    reply = posts["at://did:plc:amyabc/app.bsky.feed.post/3kreply1"]
    assert (reply["kind"], reply["target_post_id"], reply["target_author"]) == (
        "reply",
        POST1,
        LANE,
    )
    assert reply["author_id"] == "did:plc:amyabc" and reply["lang"] == "en"
    quote = posts["at://did:plc:danjkl/app.bsky.feed.post/3kquote1"]
    assert (quote["kind"], quote["mentions"], quote["hashtags"]) == (
        "quote",
        LANE,
        "standwithlane",
    )
    media = posts["at://did:plc:evemno/app.bsky.feed.post/3kquote2"]
    assert (media["kind"], media["target_author"]) == ("quote", "bluesky:did:plc:forcepqr")
    repost = posts["at://did:plc:catghi/app.bsky.feed.repost/3krepost1"]
    assert (repost["kind"], repost["target_post_id"]) == ("repost", POST1)
    relay = posts["at://did:plc:evemno/app.bsky.feed.post/3krelay"]
    assert relay["created_at"].isoformat() == "2014-02-14T11:06:40+00:00"  # time_us
    assert _edges(store) == [
        ("bluesky:did:plc:amyabc", LANE, "follow", None),
        ("bluesky:did:plc:amyabc", LANE, "reply", "at://did:plc:amyabc/app.bsky.feed.post/3kreply1"),
        ("bluesky:did:plc:bobdef", LANE, "like", "at://did:plc:bobdef/app.bsky.feed.like/3klike1"),
        ("bluesky:did:plc:catghi", LANE, "repost", "at://did:plc:catghi/app.bsky.feed.repost/3krepost1"),
        ("bluesky:did:plc:danjkl", LANE, "quote", "at://did:plc:danjkl/app.bsky.feed.post/3kquote1"),
        (
            "bluesky:did:plc:evemno",
            "bluesky:did:plc:forcepqr",
            "quote",
            "at://did:plc:evemno/app.bsky.feed.post/3kquote2",
        ),
    ]  # fmt: skip
    lane = next(a for a in store.read_arrow("accounts").to_pylist() if a["handle"] == LANE)
    assert lane["name"] == "@inspector-lane.bsky.social"
    assert lane["description"] == "Police inspector, Northshire"
    text = format_summary(s)
    assert "1 delete events read into the store's deletions table" in text
    # the delete marks the post it names (line 9: bob deletes 3kgone at time_us 1392375000 s);
    # nothing is removed
    (gone,) = store.read_arrow("deletions").to_pylist()
    assert gone["record_id"] == "at://did:plc:bobdef/app.bsky.feed.post/3kgone"
    assert (gone["platform"], gone["collection"]) == ("bluesky", "app.bsky.feed.post")
    assert gone["author"] == "bluesky:did:plc:bobdef" and gone["source_line"] == 9
    assert gone["deleted_at"].isoformat() == "2014-02-14T10:50:00+00:00"
    assert gone["source_file"] == str(jetstream)
    assert "1 records of other collections ignored: 1 app.bsky.graph.block" in text


def test_overlapping_captures_store_each_like_and_post_once(tmp_path, jetstream):
    store = Store(tmp_path / "s")
    import_paths(store, [jetstream])
    before = _edges(store)
    copy = tmp_path / "again.ndjson"  # the same events in another file: not a re-import
    copy.write_bytes(jetstream.read_bytes() + b"\n")
    s = import_paths(store, [copy])
    assert s.files[0].status == "imported" and s.total("posts") == 0
    assert _edges(store) == before


def _event(did: str, op: str, collection: str, rkey: str, t: int, record=None) -> bytes:
    import json

    commit = {"operation": op, "collection": collection, "rkey": rkey}
    if record is not None:
        commit["record"] = record
    ev = {"did": did, "time_us": t, "kind": "commit", "commit": commit}
    return json.dumps(ev).encode() + b"\n"


def test_deletes_mark_the_records_they_name_and_remove_nothing(tmp_path):
    # Jetstream: a delete is a commit with operation "delete" and no record. Here amy's post
    # and like are deleted (the post's delete comes in an earlier file than the post), one
    # delete names a record never seen, one has no rkey (a reject), and a later capture
    # repeats a delete: the store holds each delete once and keeps every record.
    amy, t0 = "did:plc:amy", 1_392_372_000_000_000
    post = {"text": "hang in there", "createdAt": "2014-02-14T10:00:00Z"}
    like = {"subject": {"uri": POST1, "cid": "x"}, "createdAt": "2014-02-14T10:01:00Z"}
    first = tmp_path / "first.ndjson"
    first.write_bytes(_event(amy, "delete", "app.bsky.feed.post", "3p", t0 + 7_000_000))
    second = tmp_path / "second.ndjson"
    second.write_bytes(
        _event(amy, "create", "app.bsky.feed.post", "3p", t0, post)
        + _event(amy, "create", "app.bsky.feed.like", "3l", t0 + 1, like)
        + _event(amy, "delete", "app.bsky.feed.like", "3l", t0 + 5_000_000)
        + _event(amy, "delete", "app.bsky.feed.repost", "3never", t0 + 6_000_000)
        + b'{"did": "did:plc:amy", "time_us": 1, "kind": "commit", '
        b'"commit": {"operation": "delete", "collection": "app.bsky.feed.post"}}\n'
    )
    third = tmp_path / "third.ndjson"  # an overlapping capture: the like's delete again
    third.write_bytes(_event(amy, "delete", "app.bsky.feed.like", "3l", t0 + 5_000_000))
    store = Store(tmp_path / "s")
    s = import_paths(store, [first, second, third])
    assert [f.rejects for f in s.files] == [0, 1, 0]
    assert store.read_arrow("rejects").column("reason").to_pylist() == [
        "delete without collection and rkey"
    ]
    assert store.counts()["posts"] == 1 and store.counts()["interactions"] == 1  # all kept
    rows = sorted(
        (r["record_id"], r["source_line"], r["deleted_at"].isoformat())
        for r in store.read_arrow("deletions").to_pylist()
    )
    assert rows == [
        ("at://did:plc:amy/app.bsky.feed.like/3l", 3, "2014-02-14T10:00:05+00:00"),
        ("at://did:plc:amy/app.bsky.feed.post/3p", 1, "2014-02-14T10:00:07+00:00"),
        ("at://did:plc:amy/app.bsky.feed.repost/3never", 4, "2014-02-14T10:00:06+00:00"),
    ]
    # per collection: deletes, and how many name a record the store keeps (the marks)
    assert store.deleted() == [
        {"collection": "app.bsky.feed.like", "deletes": 1, "kept_records": 1},
        {"collection": "app.bsky.feed.post", "deletes": 1, "kept_records": 1},
        {"collection": "app.bsky.feed.repost", "deletes": 1, "kept_records": 0},
    ]
    out = runner.invoke(app, ["info", "--store", str(tmp_path / "s")]).output
    assert "app.bsky.feed.post" in out and "1 deleted, 1 of them in the store" in out
    assert "deletions" in format_summary(s)  # (named in the store counts once it holds some)


def test_a_store_from_before_the_deletions_table_takes_deletes(tmp_path, jetstream):
    import json

    store = Store(tmp_path / "s")
    (tmp_path / "a.ndjson").write_bytes(jetstream.read_bytes().splitlines(keepends=True)[1])
    import_paths(store, [tmp_path / "a.ndjson"])
    manifest = tmp_path / "s" / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["tables"]["deletions"]  # (as the stores written before it)
    manifest.write_text(json.dumps(data))
    assert store.counts()["deletions"] == 0 and store.deleted() == []
    import_paths(store, [jetstream])
    assert store.counts()["deletions"] == 1


def test_compressed_jetstream_reads_the_same(tmp_path, jetstream):
    gz = tmp_path / "jetstream.ndjson.gz"
    gz.write_bytes(gzip.compress(jetstream.read_bytes()))
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    import_paths(a, [jetstream])
    import_paths(b, [gz])
    assert _edges(a) == _edges(b)


def _car_records():
    uri, at = POST1, {"createdAt": "2014-02-14T11:00:00Z"}
    subject = {"subject": {"uri": uri, "cid": "x"}, **at}
    reply = {"parent": {"uri": uri, "cid": "x"}, "root": {"uri": uri, "cid": "x"}}
    posts = [
        (
            "app.bsky.feed.post",
            f"3k{i:03d}",
            {"text": f"post {i}", "createdAt": "2014-02-14T10:00Z"},
        )
        for i in range(30)
    ]
    return [
        *posts,
        ("app.bsky.feed.post", "3kr", {"text": "back soon, lane", "reply": reply, **at}),
        ("app.bsky.feed.like", "3l1", subject),
        ("app.bsky.feed.repost", "3r1", subject),
        ("app.bsky.graph.follow", "3f1", {"subject": "did:plc:lanexyz", **at}),
        ("app.bsky.graph.block", "3b1", {"subject": "did:plc:x", **at}),
        ("app.bsky.actor.profile", "self", {"description": "I support Lane"}),
    ]


def test_repository_car_is_read_with_the_author_from_the_commit(tmp_path):
    car = tmp_path / "repo.car"
    car.write_bytes(repo_car("did:plc:amyabc", _car_records()))
    assert detect_format(car) == "bluesky"
    store = Store(tmp_path / "s")
    s = import_paths(store, [car])
    f = s.files[0]
    assert (f.rows_read, f.posts, f.follows, f.rejects) == (36, 32, 1, 0)
    posts = store.read_arrow("posts").to_pylist()
    assert {p["author"] for p in posts} == {"bluesky:did:plc:amyabc"}
    assert sorted(p["post_id"].rsplit("/", 1)[1] for p in posts)[:3] == ["3k000", "3k001", "3k002"]
    kinds = sorted((e[2], e[1]) for e in _edges(store))
    assert kinds == [("follow", LANE), ("like", LANE), ("reply", LANE), ("repost", LANE)]
    assert "1 app.bsky.graph.block" in format_summary(s)


def test_damaged_car_is_one_line(tmp_path):
    data = repo_car("did:plc:amyabc", _car_records())
    car = tmp_path / "repo.car"
    car.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="repo.car"):
        list(read(car, str(car), ReadOptions()))
    result = runner.invoke(app, ["import", str(car), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_handles_csv_names_the_accounts(tmp_path, jetstream):
    csv_path = tmp_path / "handles.csv"
    csv_path.write_text("did,handle\ndid:plc:amyabc,Amy.bsky.social\nnot-a-did,x\n")
    assert detect_format(csv_path) == "bluesky"
    store = Store(tmp_path / "s")
    s = import_paths(store, [jetstream, csv_path])
    assert s.files[1].rejects == 1
    names = {a["handle"]: a["name"] for a in store.read_arrow("accounts").to_pylist()}
    assert names["bluesky:did:plc:amyabc"] == "@amy.bsky.social"


def test_handles_option_and_explicit_format_on_the_command_line(tmp_path, jetstream):
    csv_path = tmp_path / "handles.csv"
    csv_path.write_text("did,handle\ndid:plc:danjkl,dan.example.org\n")
    store = tmp_path / "s"
    args = ["import", str(jetstream), "--format", "bluesky", "--handles", str(csv_path)]
    result = runner.invoke(app, [*args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    names = {a["handle"]: a["name"] for a in Store(store).read_arrow("accounts").to_pylist()}
    assert names["bluesky:did:plc:danjkl"] == "@dan.example.org"
    wrong = tmp_path / "h.csv"
    wrong.write_text("handle,did\nx,did:plc:x\n")
    result = runner.invoke(
        app, ["import", str(wrong), "--format", "bluesky", "--store", str(store)]
    )
    assert result.exit_code == 2 and "header is did,handle" in result.output
