"""Import orchestration: interactions at import time, the importer contract, study inputs."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport.ingest import (
    ImportSummary,
    format_summary,
    import_inputs,
    import_paths,
)
from netsupport.interactions import interactions_arrow, interactions_from_posts, sort_interactions
from netsupport.io import FORMATS, reader_for
from netsupport.io.base import ReadOptions
from netsupport.schema import SCHEMAS, Table
from netsupport.store import Store, conform_arrow, to_pandas
from netsupport.studyfile import InputSpec

handles = st.sampled_from(["amy", "bob", "lane", "force", "cy"])
post_rows = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "3", "4", "5", "6"]),  # repeated ids allowed
        handles,
        st.sampled_from(["post", "reply", "repost", "quote", "other"]),
        st.none() | handles,
        st.none()
        | st.lists(handles | st.just(""), max_size=4).map(" ".join)
        | st.just("  lane   amy "),
        st.none() | st.integers(1_392_000_000, 1_392_400_000),
    ),
    max_size=25,
)


def _reference_interactions(rows):
    """A plain-Python oracle of the documented rule, one post at a time.

    reply/repost/quote -> one edge of that kind to target_author (not to oneself); each mentioned
    handle -> a mention edge, except the author, the direct target, and a (post id, handle) pair
    already given (first occurrence wins). Sorted by time (nulls first), post id, kind, source,
    target.
    """
    out, seen = [], set()
    for post_id, author, kind, target, mentions, created in rows:
        direct = kind in ("reply", "repost", "quote") and target is not None and target != author
        if direct:
            out.append((author, target, kind, post_id, created))
        for h in (mentions or "").split():
            if h == author or (direct and h == target) or (post_id, h) in seen:
                continue
            seen.add((post_id, h))
            out.append((author, h, "mention", post_id, created))
    return sorted(out, key=lambda r: (r[4] is not None, r[4] or 0, r[3], r[2], r[0], r[1]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=post_rows)
def test_interactions_arrow_follows_the_documented_rule(rows):
    """The import-time Arrow derivation gives exactly the oracle's rows, in canonical order."""
    df = pd.DataFrame(
        rows, columns=["post_id", "author", "kind", "target_author", "mentions", "created_at"]
    )
    df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
    df["hashtags"] = None
    df["text"] = None
    posts = conform_arrow(pa.Table.from_pandas(df), Table.POSTS)
    got = to_pandas(interactions_arrow(posts))

    def plain(frame):
        frame = frame[["source", "target", "kind", "post_id", "created_at"]].astype(object)
        frame["created_at"] = [None if pd.isna(t) else int(t.timestamp()) for t in frame.created_at]
        return [tuple(None if pd.isna(v) else v for v in r) for r in frame.values.tolist()]

    assert list(got.columns) == list(SCHEMAS[Table.INTERACTIONS].names)
    assert plain(got) == _reference_interactions(rows)  # same rows, same canonical order
    assert (got["weight"] == 1.0).all()
    unsorted = to_pandas(interactions_arrow(posts, sort=False))
    assert plain(sort_interactions(unsorted)) == plain(got)  # same rows, any order
    assert plain(interactions_from_posts(df)) == plain(got)  # the pandas entry point agrees
    # what the importer passes for de-duplicated posts of one platform: nothing re-checked
    ids = [r[0] for r in rows]
    ment = [(r[4] or "").split() for r in rows]
    if len(set(ids)) == len(ids) and all(len(set(m)) == len(m) for m in ment):
        fast = interactions_arrow(posts, sort=False, mentions_unique=True, ids_unique=True)
        assert plain(sort_interactions(to_pandas(fast))) == plain(got)


def test_every_importer_yields_canonical_tables(data_dir, tmp_path):
    """One contract for all formats: batches of canonical Arrow tables and a row count."""
    followers = tmp_path / "f.txt"
    followers.write_text("amy\nbob\n")
    accounts = tmp_path / "a.csv"
    accounts.write_text("handle,role\namy,citizen\n")
    edges = tmp_path / "e.csv"
    edges.write_text("source,target,kind,created_at\namy,lane,mention,2014-02-14T10:00:00Z\n")
    fixtures = {
        "twitter-v2": data_dir / "io" / "twarc2_page.jsonl",
        "twitter-archive": data_dir / "io" / "archive.zip",
        "csv": edges,
        "nodexl": data_dir / "io" / "nodexl_edges.csv",
        "followers": followers,
        "accounts": accounts,
        "mastodon": data_dir / "io" / "mastodon_statuses.jsonl",
        "telegram": data_dir / "io" / "telegram" / "result_chat.json",
        "bluesky": data_dir / "io" / "bluesky_jetstream.ndjson",
        "reddit": data_dir / "io" / "reddit_comments.ndjson",
    }
    assert set(fixtures) == set(FORMATS)
    for fmt, path in fixtures.items():
        batches = list(reader_for(fmt)(path, str(path), ReadOptions(account="lane")))
        assert batches, fmt
        assert sum(b.rows_read for b in batches) > 0, fmt
        for b in batches:
            for table in Table:
                t = getattr(b, table.value, None)
                if t is not None:
                    assert t.schema.equals(SCHEMAS[table]), (fmt, table)


def test_import_inputs_takes_study_input_specs(tmp_path, data_dir):
    lst = tmp_path / "lane_followers.txt"
    lst.write_text("amyexample\n")
    specs = [
        InputSpec(path=data_dir / "io" / "twarc2_page.jsonl"),
        InputSpec(path=lst, format="followers", account="inspector_lane", direction="followers"),
    ]
    summary = import_inputs(Store(tmp_path / "s"), specs)
    assert [(f.format, f.status) for f in summary.files] == [
        ("twitter-v2", "imported"),
        ("followers", "imported"),
    ]
    assert summary.store_counts["follows"] == 1
    assert summary.as_dict()["totals"]["posts"] == 4


def test_summary_counts_duplicates_across_files_and_accounts_once(tmp_path, data_dir):
    page = data_dir / "io" / "twarc2_page.jsonl"
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(page.read_bytes() + b"\n")  # different bytes, same tweets
    summary = import_paths(Store(tmp_path / "s"), [page, copy])
    second = summary.files[1]
    assert (second.rows_read, second.posts, second.duplicates, second.interactions) == (4, 0, 4, 0)
    text = format_summary(summary)
    assert "total" in text and "store now holds: posts 4" in text


def test_one_changed_duplicate_is_counted_in_the_singular(tmp_path, data_dir):
    """The Mastodon statuses fixture repeats one status's id with another text: the summary
    said "1 duplicate posts differ" (docs/platform-mastodon.md shows this summary)."""
    statuses = data_dir / "io" / "mastodon_statuses.jsonl"
    text = format_summary(import_paths(Store(tmp_path / "s"), [statuses], instance="town.example"))
    assert (
        f"{statuses}: 1 duplicate post differs from the version already kept (author or text); "
        "the first version is kept"
    ) in text.splitlines()


def test_an_empty_folder_is_an_error_not_an_empty_import(tmp_path):
    """`netsupport import adir --store s` with nothing in adir printed a summary of 0 rows and
    exited 0, as if a mistyped folder were a successful import."""
    from netsupport.errors import InputFileError

    (tmp_path / "adir" / ".hidden").mkdir(parents=True)
    with pytest.raises(InputFileError) as err:
        import_paths(Store(tmp_path / "s"), [tmp_path / "adir"])
    assert str(err.value) == f"{tmp_path / 'adir'}: an empty folder: no files to import"
    assert not (tmp_path / "s").exists()  # the store is left as it was: not even created


def test_unknown_format_name_is_an_error(tmp_path, data_dir):
    from netsupport.errors import UnknownFormat

    with pytest.raises(UnknownFormat, match="unknown format"):
        import_paths(Store(tmp_path / "s"), [data_dir / "io" / "twarc2_page.jsonl"], "tsv")
    assert isinstance(ImportSummary().as_dict(), dict)


def test_mention_separators_are_exactly_python_whitespace():
    from netsupport.interactions import _WHITESPACE

    expected = "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace())
    assert f"[{expected}]+" == _WHITESPACE


def test_worker_results_pass_through_files_that_are_removed(tmp_path, monkeypatch, data_dir):
    """A big file is parsed by worker processes that leave their results in the transaction's
    scratch folder; the rows equal a serial import's, and no scratch folder is left behind
    (one left by a killed import is removed by the next)."""
    from netsupport import ingest
    from netsupport.io import twitter_json

    lines = (data_dir / "io" / "twarc2_page.jsonl").read_bytes().splitlines()
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"\n".join(lines * 40) + b"\n{broken\n")
    serial = Store(tmp_path / "serial")
    import_paths(serial, [big], workers=1)
    store = Store(tmp_path / "s")
    (tmp_path / "s" / ".scratch-killed").mkdir(parents=True)
    (tmp_path / "s" / ".scratch-killed" / "0.arrow").write_bytes(b"x")
    loaded = []
    real = twitter_json._load_file
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(twitter_json, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(twitter_json, "CHUNK_BYTES", 4000)
    monkeypatch.setattr(twitter_json, "_load_file", lambda *a: loaded.append(a) or real(*a))
    import_paths(store, [big], workers=2)
    assert len(loaded) > 3  # every chunk came back as a file
    for table in Table:
        assert store.read_arrow(table).equals(serial.read_arrow(table)), table
    assert store.counts()["rejects"] == 1
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.name.startswith(".")) == [".lock"]


def test_workers_drop_only_account_rows_that_change_nothing(tmp_path, monkeypatch):
    """Workers leave out account rows of handles they already sent complete: the merged
    accounts (first non-null value per field, file order) equal a serial import's."""
    import json
    import random

    from netsupport import ingest
    from netsupport.io import twitter_json

    rng = random.Random(5)
    lines = []
    for i in range(3000):
        user = {"id": str(rng.randrange(1, 40)), "username": f"U{rng.randrange(30)}"}
        if rng.random() < 0.7:
            user["name"] = rng.choice(["A", "B", None])
        if rng.random() < 0.7:
            user["description"] = rng.choice(["x", "y"])
        if rng.random() < 0.7:
            user["public_metrics"] = {"followers_count": rng.randrange(-1, 9)}
        tweet = {
            "id": str(10_000 + i),
            "text": "hi",
            "created_at": "2014-02-14T10:00:00Z",
            "author": user,
        }
        if rng.random() < 0.3:
            tweet["referenced_tweets"] = [
                {"type": "retweeted", "id": "1", "author": {"username": f"U{rng.randrange(30)}"}}
            ]
        lines.append(json.dumps(tweet))
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(lines) + "\n")
    serial = Store(tmp_path / "serial")
    import_paths(serial, [big], workers=1)
    monkeypatch.setattr(ingest, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(twitter_json, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(twitter_json, "CHUNK_BYTES", 20_000)
    sent = []
    real = twitter_json._load_file

    def counting(*args):
        batch = real(*args)
        sent.append(0 if batch.accounts is None else batch.accounts.num_rows)
        return batch

    monkeypatch.setattr(twitter_json, "_load_file", counting)
    parallel = Store(tmp_path / "parallel")
    summary = import_paths(parallel, [big], workers=2)
    assert sum(sent) < 3000  # rows were left out...
    assert parallel.read_arrow("accounts").equals(serial.read_arrow("accounts"))  # ...harmlessly
    assert summary.files[0].accounts == serial.counts()["accounts"]
