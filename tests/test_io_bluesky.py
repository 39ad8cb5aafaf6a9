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
    assert "1 delete events counted, not applied" in text
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
