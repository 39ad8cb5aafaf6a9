"""The Parquet store: reading, de-duplication, merging, atomic commits, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport import store as store_mod
from netsupport.schema import SCHEMAS, Table, empty_frame
from netsupport.store import Store, StoreError, Transaction, conform_arrow

TS = pa.timestamp("us", tz="UTC")


def _posts(rows):
    """rows: (platform, post_id, author, text, created_at ISO)"""
    cols = list(zip(*rows, strict=True))
    return conform_arrow(
        pa.table(
            {
                "platform": pa.array(cols[0], pa.string()),
                "post_id": pa.array(cols[1], pa.string()),
                "author": pa.array(cols[2], pa.string()),
                "text": pa.array(cols[3], pa.string()),
                "created_at": pa.array(pd.to_datetime(list(cols[4]), utc=True), TS),
            }
        ),
        Table.POSTS,
    )


def _accounts(rows):
    cols = list(zip(*rows, strict=True))
    schema = SCHEMAS[Table.ACCOUNTS]
    return pa.Table.from_arrays(
        [pa.array(c, f.type) for c, f in zip(cols, schema, strict=True)], schema=schema
    )


def test_empty_store_reads_empty_frames_with_canonical_dtypes(tmp_path):
    store = Store(tmp_path / "nothing")
    assert not store.exists()
    for table in Table:
        df = store.read(table)
        expected = empty_frame(table)
        assert list(df.columns) == list(expected.columns)
        assert df.dtypes.to_dict() == expected.dtypes.to_dict()
        assert store.part_paths(table) == []
    assert store.read("posts", columns=["author"]).columns.tolist() == ["author"]
    with pytest.raises(StoreError, match="no column"):
        store.read("posts", columns=["nope"])


def test_posts_deduplicated_across_and_within_transactions_first_seen_wins(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        kept, dups = tx.add_posts(
            _posts(
                [
                    ("twitter", "1", "amy", "first", "2014-02-14T10:00Z"),
                    ("twitter", "1", "amy", "second copy", "2014-02-14T10:00Z"),
                    ("mastodon", "1", "bob", "other platform", "2014-02-14T11:00Z"),
                ]
            )
        )
        assert (kept.num_rows, dups) == (2, 1)
        kept, dups = tx.add_posts(_posts([("twitter", "1", "x", "later", "2014-02-15T00:00Z")]))
        assert (kept.num_rows, dups) == (0, 1)
    with store.transaction() as tx:
        kept, dups = tx.add_posts(
            _posts(
                [
                    ("twitter", "1", "amy", "third", "2014-02-14T10:00Z"),
                    ("twitter", "2", "cy", "new", "2014-02-16T10:00Z"),
                ]
            )
        )
        assert (kept.column("post_id").to_pylist(), dups) == (["2"], 1)
    df = store.read("posts")
    assert df[["platform", "post_id", "text"]].values.tolist() == [
        ["twitter", "1", "first"],
        ["mastodon", "1", "other platform"],
        ["twitter", "2", "new"],
    ]
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert df["created_at"].iloc[2] == pd.Timestamp("2014-02-16T10:00Z")
    assert len(store.part_paths("posts")) == 2
    assert store.counts()["posts"] == 3


def test_follows_deduplicated_and_ids_resolved_from_accounts(tmp_path):
    store = Store(tmp_path / "s")
    follows_schema = SCHEMAS[Table.FOLLOWS]

    def follows(pairs):
        a, b = zip(*pairs, strict=True)
        return pa.Table.from_arrays(
            [pa.array(a, pa.string()), pa.array(b, pa.string()), pa.nulls(len(a), TS)],
            schema=follows_schema,
        )

    with store.transaction() as tx:
        tx.add_accounts(_accounts([("amy", "11", None, None, None, None)]))
        kept, dups = tx.add_follows(
            follows([("id:11", "lane"), ("amy", "lane"), ("id:99", "lane")])
        )
        assert dups == 1  # id:11 is amy
        assert kept.column("follower").to_pylist() == ["amy", "id:99"]
    with store.transaction() as tx:
        kept, dups = tx.add_follows(follows([("amy", "lane"), ("bob", "lane")]))
        assert (kept.num_rows, dups) == (1, 1)
    assert store.read("follows")[["follower", "followee"]].values.tolist() == [
        ["amy", "lane"],
        ["id:99", "lane"],
        ["bob", "lane"],
    ]


def test_accounts_merged_by_handle_gaps_filled_never_overwritten(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        tx.add_accounts(_accounts([("lane", "1", None, "inspector", None, None)]))
        tx.add_accounts(_accounts([("amy", None, "Amy", None, 5, None)]))
    with store.transaction() as tx:
        tx.add_accounts(
            _accounts(
                [
                    ("lane", "999", "Insp. Lane", "changed bio", 5400, "professional"),
                    ("amy", "22", "Amy B", None, 7, None),
                ]
            )
        )
    rows = store.read("accounts").astype(object).where(lambda d: d.notna(), None)
    assert rows.values.tolist() == [  # sorted by handle
        ["amy", "22", "Amy", None, 5, None],
        ["lane", "1", "Insp. Lane", "inspector", 5400, "professional"],
    ]
    assert len(store.part_paths("accounts")) == 1  # rewritten as one part
    assert len(list((tmp_path / "s" / "accounts").glob("*.parquet"))) == 1


def test_account_merges_while_importing_stay_few_as_accounts_grow(tmp_path, monkeypatch):
    # Each merge costs the accounts merged so far: merging on every batch once there are more
    # than ACCOUNT_COMPACT_ROWS distinct accounts made big imports quadratic.
    monkeypatch.setattr(store_mod, "ACCOUNT_COMPACT_ROWS", 10)
    store = Store(tmp_path / "s")
    batches = [
        _accounts([(f"u{b * 5 + k}", str(b), None, None, None, None) for k in range(5)])
        for b in range(200)
    ]
    batches.append(_accounts([("u0", "x", "Zero", None, None, None)]))  # fills a gap only
    with store.transaction() as tx:
        for batch in batches:
            tx.add_accounts(batch)
        merges = tx.account_merges
    assert 3 <= merges <= 10  # doubling: about log2(1000 / 10) merges, not ~200
    rows = store.read("accounts").astype(object).where(lambda d: d.notna(), None)
    assert len(rows) == 1000
    assert rows[rows["handle"] == "u0"].values.tolist() == [["u0", "0", "Zero", None, None, None]]
    assert store_mod.merge_accounts(batches).equals(store.read_arrow("accounts"))


def test_failed_transaction_changes_nothing_and_leaves_no_files(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        tx.add_posts(_posts([("twitter", "1", "amy", "a", "2014-02-14T10:00Z")]))
    before = (tmp_path / "s" / "manifest.json").read_bytes()
    files_before = sorted(p.name for p in (tmp_path / "s").rglob("*"))
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add_posts(_posts([("twitter", "2", "bob", "b", "2014-02-14T10:00Z")] * 3))
        tx._writer(Table.POSTS)._flush()  # bytes on disk in a temporary part
        raise RuntimeError("boom")
    assert (tmp_path / "s" / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "s").rglob("*")) == files_before
    assert store.read("posts")["post_id"].tolist() == ["1"]


def test_files_not_in_the_manifest_are_ignored_then_removed(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        tx.add_posts(_posts([("twitter", "1", "amy", "a", "2014-02-14T10:00Z")]))
    stray = tmp_path / "s" / "posts" / "part-000099-deadbeef.parquet"
    stray.write_bytes(
        (tmp_path / "s" / store.manifest()["tables"]["posts"][0]["path"]).read_bytes()
    )
    assert len(store.read("posts")) == 1
    with store.transaction():
        pass
    assert not stray.exists()


def test_only_the_stores_own_files_are_removed(tmp_path):
    # a store pointed at a folder that already holds the user's own Parquet must not delete it
    root = tmp_path / "s"
    (root / "posts").mkdir(parents=True)
    mine = root / "posts" / "mine.parquet"
    mine.write_bytes(b"the user's own file")
    left = root / "posts" / ".tmp-0123456789ab-0000.parquet"  # a killed transaction's part
    left.write_bytes(b"x")
    with Store(root).transaction() as tx:
        tx.add_posts(_posts([("twitter", "1", "amy", "a", "2014-02-14T10:00Z")]))
    assert mine.read_bytes() == b"the user's own file"
    assert not left.exists()
    assert Store(root).read("posts")["post_id"].tolist() == ["1"]


@pytest.mark.parametrize(
    "path", ["../outside.parquet", "/tmp/outside.parquet", "accounts/part-000001-0badf00d.parquet"]
)
def test_a_manifest_part_outside_the_table_folder_is_refused(tmp_path, path):
    # parts are read, and replaced accounts parts deleted, by their manifest path
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"keep me")
    root = tmp_path / "s"
    root.mkdir()
    rel = path if not path.startswith("/tmp/") else str(outside)
    manifest = {"format_version": 1, "tables": {"posts": [{"path": rel, "rows": 1}]}, "imports": []}
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="is not a part of this store"):
        Store(root).read("posts")
    with pytest.raises(StoreError, match="is not a part of this store"):
        Store(root).transaction().begin()
    assert outside.read_bytes() == b"keep me"


def test_one_writer_at_a_time(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction(), pytest.raises(StoreError, match="another import"):
        store.transaction().begin()


def test_parts_rotate_and_are_read_in_commit_order(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(store_mod, "PART_ROWS", 4)
    store = Store(tmp_path / "s")
    rows = [("twitter", str(i), "amy", "t", "2014-02-14T10:00Z") for i in range(9)]
    with store.transaction() as tx:
        for i in range(0, 9, 2):
            tx.add_posts(_posts(rows[i : i + 2]))
    parts = store.part_paths("posts")
    assert len(parts) == 3
    assert [p.name[:11] for p in parts] == ["part-000001", "part-000002", "part-000003"]
    assert store.read("posts")["post_id"].tolist() == [str(i) for i in range(9)]
    manifest = store.manifest()
    assert [p["rows"] for p in manifest["tables"]["posts"]] == [4, 4, 1]


def test_damaged_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="damaged manifest"):
        Store(tmp_path / "s").read("posts")


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ('{"format_version": 1}', "'tables' is not an object"),
        ('{"format_version": 1, "tables": {"posts": {}}, "imports": []}', "tables.posts is not"),
        (
            '{"format_version": 1, "tables": {"posts": [{"path": "p", "rows": "9"}]}, '
            '"imports": []}',
            r"tables.posts\[0\] needs a path and a row count",
        ),
        ('{"format_version": 1, "tables": {}, "imports": 3}', "'imports' is not a list"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_a_clear_error(tmp_path, manifest, problem):
    # valid JSON of the wrong shape was a KeyError / TypeError traceback in info, graph, stance
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "manifest.json").write_text(manifest)
    with pytest.raises(StoreError, match=f"manifest.json: damaged manifest \\({problem}"):
        Store(tmp_path / "s").summary()
    with pytest.raises(StoreError, match="damaged manifest"):
        Store(tmp_path / "s").read("posts")


def test_summary_counts_span_and_top_authors(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        tx.add_posts(
            _posts(
                [
                    ("twitter", "1", "bob", "a", "2014-02-14T10:00Z"),
                    ("twitter", "2", "amy", "b", "2014-02-13T09:00Z"),
                    ("twitter", "3", "bob", "c", "2014-02-15T11:30Z"),
                    ("twitter", "4", "cy", "d", "2014-02-15T11:00Z"),
                ]
            )
        )
    info = store.summary(top=2)
    assert info["counts"]["posts"] == 4
    assert info["time_span"] == {"first": "2014-02-13T09:00:00Z", "last": "2014-02-15T11:30:00Z"}
    assert info["top_authors"] == [{"author": "bob", "posts": 2}, {"author": "amy", "posts": 1}]
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "none").summary()


# ---- crash recovery ---------------------------------------------------------------------------


def _tweet_lines(n, start=0):
    for i in range(start, start + n):
        yield (
            json.dumps(
                {
                    "id": str(i),
                    "text": f"@lane tweet {i}",
                    "created_at": "2014-02-14T10:00:00.000Z",
                    "author": {"id": str(i % 50), "username": f"user{i % 50}"},
                    "entities": {"mentions": [{"username": "lane", "id": "9"}]},
                }
            )
            + "\n"
        )


def _snapshot(root):
    store = Store(root)
    return (
        (root / "manifest.json").read_bytes(),
        {t.value: store.read(t).to_dict("list") for t in Table},
    )


def _run_import(args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "netsupport", "import", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("point", ["rows-written", "before-manifest"])
def test_kill_9_during_import_leaves_store_as_before(tmp_path, point):
    root = tmp_path / "store"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(_tweet_lines(20)))
    proc = _run_import([str(first), "--store", str(root)])
    assert proc.wait(60) == 0, proc.stderr.read()
    before = _snapshot(root)

    second = tmp_path / "second.jsonl"
    second.write_text("".join(_tweet_lines(300, start=10)))
    proc = _run_import([str(second), "--store", str(root)], {"NETSUPPORT_TEST_KILL": point})
    assert proc.wait(60) == -signal.SIGKILL
    leftovers = [p for p in root.rglob("*.parquet") if "tmp" in p.name or p.name.startswith(".")]
    if point == "rows-written":
        assert leftovers  # a half-written part really is on disk
    else:
        assert len(list((root / "posts").glob("part-*.parquet"))) == 2  # renamed, not committed
    assert _snapshot(root) == before

    proc = _run_import([str(second), "--store", str(root)])  # the retry imports it all
    assert proc.wait(60) == 0, proc.stderr.read()
    store = Store(root)
    assert len(store.read("posts")) == 310
    assert not [p for p in root.rglob("*.parquet") if p.name.startswith(".")]
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("part-*.parquet"))
    listed = sorted(p["path"] for ps in store.manifest()["tables"].values() for p in ps)
    assert on_disk == listed


def test_kill_9_at_a_random_moment_never_leaves_a_partial_import(tmp_path):
    root = tmp_path / "store"
    big = tmp_path / "big.jsonl"
    big.write_text("".join(_tweet_lines(60_000)))
    for delay in (0.5, 1.0, 1.5):
        proc = _run_import([str(big), "--store", str(root), "--workers", "1"])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
        store = Store(root)
        n = len(store.read("posts"))
        assert n in (0, 60_000)
        assert store.counts()["posts"] == n


_ID_POOL = [str(i) for i in range(1, 40)] + [
    "9223372036854775807",  # 2**63 - 1: the largest int id
    "9223372036854775808",  # 2**63: kept as text
    "007",
    "0",
    "-5",
    "row-ab12",
    "",
    None,
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(
        st.lists(
            st.tuples(st.sampled_from(["twitter", "x", None]), st.sampled_from(_ID_POOL)),
            max_size=30,
        ),
        max_size=6,
    )
)
def test_post_ids_seen_first_wins_like_a_set(batches):
    """The id table gives what a plain set of (platform, id) would, batch after batch."""
    tx = Transaction(Store(tempfile.mkdtemp()))
    tx._seen_posts = {}
    oracle: set = set()
    for batch in batches:
        platforms = pa.array([p for p, _ in batch], pa.string())
        ids = pa.array([i for _, i in batch], pa.string())
        keep = tx._first_seen(pa.chunked_array([platforms]), pa.chunked_array([ids]))
        expected = []
        for key in batch:
            expected.append(key not in oracle)
            oracle.add(key)
        assert keep.tolist() == expected


_TEXT_ID_POOL = [
    *("1700000001/2", "1700000001/3", "https://a.b/users/o/statuses/1", "é", "", "x"),
    *("t1_ab", "t7_ab", "12", "12\n", "007", "9" * 20, "row-1", "1\n2"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(
        st.lists(
            st.sampled_from(_TEXT_ID_POOL),
            max_size=30,
        ),
        max_size=5,
    )
)
def test_text_ids_seen_first_wins_like_a_set_of_their_keys(batches):
    """Ids that are their own keys (Mastodon URIs, Telegram chat/message) are looked up once
    per distinct id per batch; mixed with ids that become ints they take the per-id path: the
    answer is a set's over id_keys either way."""
    seen = store_mod.IdSet()
    oracle: set = set()
    for batch in batches:
        keep = seen.first_seen(pa.array(batch, pa.string()))
        expected = []
        for key in store_mod.id_keys(pa.array(batch, pa.string())):
            expected.append(key not in oracle)
            oracle.add(key)
        assert keep.tolist() == expected


def test_id_table_grows_and_keeps_every_id():
    rng = np.random.default_rng(7)
    seen = store_mod.IdSet()
    ids = rng.choice(2**62, size=60_000, replace=False) + 1
    for part in np.array_split(ids, 7):
        assert seen.first_seen(pa.array(part.astype(str))).all()
    assert len(seen) == 60_000 and len(seen.table) >= 100_000
    again = np.concatenate([ids[::3], rng.choice(2**62, size=1000) + 2**62])
    keep = seen.first_seen(pa.array(again.astype(str)))
    assert not keep[: len(ids[::3])].any() and keep[len(ids[::3]) :].all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["12", "12\n", "\n12", "012", "7", "7 ", "t1_a", "t1_a\n", "x", "2"]),
            max_size=12,
        ),
        max_size=4,
    )
)
def test_distinct_ids_are_distinct_keys(batches):
    """Two different ids never count as one: the oracle is a set of the id strings themselves
    (not of id_keys, whose one-to-one mapping is what is tested). "12\\n" and "12" were one key."""
    seen = store_mod.IdSet()
    oracle: set[str] = set()
    for batch in batches:
        keep = seen.first_seen(pa.array(batch, pa.string()))
        expected = []
        for x in batch:
            expected.append(x not in oracle)
            oracle.add(x)
        assert keep.tolist() == expected
    assert len(seen) == len(oracle)


# ---- posts shared between files ---------------------------------------------------------------


def test_each_file_records_its_posts_and_those_no_other_file_holds(tmp_path):
    """Guards review t5 #14: the coverage warning needs, per file, how many of its posts are only
    in it. Hand count: a = ids 0-5; b = ids 4-7 plus 4 again (a repeat within b); c = ids 5, 9.
    a: 6 posts, 4 and 5 also elsewhere -> only 0-3 = 4. b: 4 distinct (4, 5, 6, 7), 4 and 5 in
    a -> 2 only. c: 2 distinct, 5 elsewhere -> 1 only (9). Post 5 is in three files: a counts it
    once."""
    from netsupport.ingest import import_paths

    files = {"a.jsonl": [0, 1, 2, 3, 4, 5], "b.jsonl": [4, 5, 6, 7, 4], "c.jsonl": [5, 9]}
    for name, ids in files.items():
        (tmp_path / name).write_text("".join(next(_tweet_lines(1, i)) for i in ids))
    store = Store(tmp_path / "s")
    import_paths(store, [tmp_path / n for n in files], format="twitter-v2")
    got = {r["path"].rsplit("/", 1)[-1]: r["posts"] for r in store.imported_files()}
    assert got == {
        "a.jsonl": {"distinct": 6, "only_here": 4},
        "b.jsonl": {"distinct": 4, "only_here": 2},
        "c.jsonl": {"distinct": 2, "only_here": 1},
    }
