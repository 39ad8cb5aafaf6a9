"""Reddit importer and the cross-file reply linking (issue #16).

Counts by hand from tests/data/io/reddit_submissions.ndjson (3 submissions: Lane's, a deleted
author's, the force's; line 4 has no created_utc) and reddit_comments.ndjson (cf001-cf009 are
comments; cf003 replies to cf004, which comes later; cf005 replies to the deleted author's
submission, cf007 to the deleted comment cf006; cf009's parent was never collected; lines 10-14
are rejects: a parent_id of the wrong form, not JSON, a list, an unreadable time, not a comment).
"""

from __future__ import annotations

import itertools

import pytest
import zstandard
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.ingest import import_paths
from netsupport.io.detect import detect_format
from netsupport.stance import stance_table
from netsupport.stance.tables import read_tables
from netsupport.store import Store
from netsupport.studyfile import StanceParams

runner = CliRunner()
LANE, AMY, FORCE = "reddit:inspector_lane", "reddit:amy_r", "reddit:northshire_police"

#: Every edge the two files imply, by hand (source, target, kind, post_id).
EXPECTED = sorted(
    [
        (AMY, LANE, "reply", "t1_cf001"),
        (AMY, LANE, "mention", "t1_cf001"),  # (u/ in a reply is a deliberate mention)
        (LANE, AMY, "reply", "t1_cf002"),
        ("reddit:bob_r", "reddit:cat_r", "reply", "t1_cf003"),  # parent later in the file
        ("reddit:cat_r", LANE, "reply", "t1_cf004"),
        ("reddit:cat_r", FORCE, "mention", "t1_cf004"),
        (AMY, FORCE, "reply", "t1_cf008"),
    ]
)


@pytest.fixture
def files(data_dir):
    return data_dir / "io" / "reddit_submissions.ndjson", data_dir / "io" / "reddit_comments.ndjson"


def _edges(store: Store) -> list[tuple]:
    t = store.read_arrow("interactions").to_pylist()
    return sorted((r["source"], r["target"], r["kind"], r["post_id"]) for r in t)


def test_reddit_counts_and_edges_match_the_files(tmp_path, files):
    subs, comments = files
    assert detect_format(subs) == detect_format(comments) == "reddit"
    store = Store(tmp_path / "s")
    s = import_paths(store, [comments, subs])  # comments first: parents arrive after
    assert [(f.rows_read, f.posts, f.rejects) for f in s.files] == [(14, 9, 5), (4, 3, 1)]
    assert _edges(store) == EXPECTED
    posts = {p["post_id"]: p for p in store.read_arrow("posts").to_pylist()}
    assert posts["t3_1xsub1"]["text"] == "Suspended for doing my job\n\nBack soon, thanks all."
    assert posts["t3_1xsub2"]["author"] is None and posts["t3_1xsub2"]["text"] == (
        "Force statement on the inspector"
    )
    assert posts["t1_cf006"]["author"] is None and posts["t1_cf006"]["text"] is None
    assert posts["t1_cf009"]["target_post_id"] == "t1_zzzzzz"  # kept, linked if it arrives
    assert posts["t1_cf003"]["created_at"].isoformat() == "2014-02-14T10:16:40+00:00"
    assert posts["t1_cf001"]["author_id"] == "t2_amy1"
    reasons = [r["reason"] for r in store.read_arrow("rejects").to_pylist()]
    assert any("created_utc 'next tuesday'" in r for r in reasons)
    assert any(r == "missing created_utc" for r in reasons)
    accounts = {a["handle"] for a in store.read_arrow("accounts").to_pylist()}
    assert "[deleted]" not in " ".join(accounts) and LANE in accounts


@pytest.mark.parametrize("order", list(itertools.permutations([0, 1])))
def test_linking_does_not_depend_on_import_order_or_batches(tmp_path, files, order):
    store = Store(tmp_path / "s")
    for i in order:  # one import per file
        import_paths(store, [files[i]])
    assert _edges(store) == EXPECTED
    again = import_paths(store, list(files))  # a re-import links nothing more
    assert again.linked_replies == 0 and _edges(store) == EXPECTED


def test_a_parent_collected_later_links_the_waiting_reply(tmp_path, files):
    store = Store(tmp_path / "s")
    import_paths(store, list(files))
    late = tmp_path / "late.ndjson"
    late.write_text(
        '{"id":"zzzzzz","author":"Gus_R","body":"finally here","created_utc":1392370000,'
        '"parent_id":"t3_1xsub1"}\n'
    )
    s = import_paths(store, [late])
    assert s.linked_replies == 2  # gus -> lane, and the waiting fay -> gus
    assert ("reddit:fay_r", "reddit:gus_r", "reply", "t1_cf009") in _edges(store)


def test_zstd_dump_with_a_long_window_imports(tmp_path, files):
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=29)
    dump = tmp_path / "northshire_comments.zst"
    with (
        open(dump, "wb") as fh,
        zstandard.ZstdCompressor(compression_params=params).stream_writer(fh) as w,
    ):
        w.write(files[1].read_bytes())
    assert detect_format(dump) == "reddit"
    result = runner.invoke(
        app, ["import", str(dump), str(files[0]), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "7 replies linked" not in result.output  # (5 replies, 2 mentions)
    assert "5 replies linked" in result.output
    assert _edges(Store(tmp_path / "s")) == EXPECTED


def test_stance_works_on_an_imported_reddit_thread(tmp_path, files):
    store = Store(tmp_path / "s")
    import_paths(store, list(files))
    from netsupport.stance.tables import StanceSpec

    spec = StanceSpec(focal=(LANE,), institution=(FORCE,), params=StanceParams())
    result = stance_table(read_tables(store.root), spec, workers=1)
    rows = {(r["source"], r["kind"], r["post_id"]): r for r in result.table.to_dict("records")}
    assert rows[(AMY, "reply", "t1_cf001")]["stance"] == "supportive"
    assert rows[(AMY, "reply", "t1_cf008")]["target_side"] == "institution"
    assert len(result.table) == 5  # amy, amy (mention), cat, cat (mention of the force), amy


def test_bucketed_linking_gives_the_same_edges(tmp_path, files, monkeypatch):
    # (the join done bucket by bucket from spilled files, as for a dump too big for memory)
    import netsupport.threads as threads

    monkeypatch.setattr(threads, "BUCKET_ROWS", 4)
    store = Store(tmp_path / "s")
    import_paths(store, [files[1]])
    s = import_paths(store, [files[0]])
    assert s.linked_replies == 3  # the replies to the three submissions
    assert _edges(store) == EXPECTED
