"""Follower/following lists and the accounts CSV."""

from __future__ import annotations

import pyarrow as pa
import pytest

from netsupport.errors import InputFileError, UnknownFormat
from netsupport.ingest import import_paths
from netsupport.io import accounts, followers
from netsupport.io.base import ReadOptions
from netsupport.io.detect import detect_format
from netsupport.store import Store


def _rows(batches, name):
    tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
    return pa.concat_tables(tables).to_pylist() if tables else []


def test_text_follower_list_both_directions(tmp_path):
    path = tmp_path / "lane_followers.txt"
    path.write_text("@Amy\n\nbob_b\n2244994945\n@1234\nnot a handle!\nx" * 1 + "\n")
    opts = ReadOptions(account="@Inspector_Lane", direction="followers")
    assert detect_format(path, opts) == "followers"
    batches = list(followers.read(path, "f.txt", opts))
    pairs = [(f["follower"], f["followee"]) for f in _rows(batches, "follows")]
    assert pairs == [
        ("amy", "inspector_lane"),
        ("bob_b", "inspector_lane"),
        ("id:2244994945", "inspector_lane"),
        ("1234", "inspector_lane"),  # a numeric handle written with its @
        ("x", "inspector_lane"),
    ]
    rejects = _rows(batches, "rejects")
    assert [(r["source_line"], r["reason"]) for r in rejects] == [
        (6, "not a handle or a numeric account id")
    ]
    assert sum(b.rows_read for b in batches) == 6
    batches = list(followers.read(path, "f", ReadOptions(account="lane", direction="following")))
    assert _rows(batches, "follows")[0] == {
        "follower": "lane",
        "followee": "amy",
        "observed_at": None,
    }


def test_csv_follower_list_from_twarc(tmp_path):
    path = tmp_path / "following.csv"
    path.write_text(
        "id,username,name,observed_at\n"
        "111,Inspector_Lane,Lane,2014-02-01T00:00:00Z\n"
        "222,,No handle,\n"
        "333,x,bad time,soon\n"
    )
    batches = list(followers.read(path, "f", ReadOptions(account="amy", direction="following")))
    follows = _rows(batches, "follows")
    assert [(f["follower"], f["followee"]) for f in follows] == [
        ("amy", "inspector_lane"),
        ("amy", "id:222"),
    ]
    assert str(follows[0]["observed_at"]) == "2014-02-01 00:00:00+00:00"
    assert _rows(batches, "rejects")[0]["reason"].startswith("cannot read timestamp 'soon'")


def test_follower_list_needs_an_account_and_a_direction(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("amy\nbob\n")
    with pytest.raises(InputFileError, match="needs --account"):
        list(followers.read(path, "f", ReadOptions()))
    with pytest.raises(InputFileError, match="--direction must be"):
        list(followers.read(path, "f", ReadOptions(account="x", direction="friends")))
    with pytest.raises(UnknownFormat, match="list of handles"):
        detect_format(path)


def test_follows_and_follow_interactions_in_the_store_ids_resolved(tmp_path, data_dir):
    store = Store(tmp_path / "s")
    acc = tmp_path / "accounts.csv"
    acc.write_text("handle,account_id,role\nAmyExample,2244994945,citizen\n")
    lst = tmp_path / "lane.txt"
    lst.write_text("2244994945\nbob_b\nbob_b\n")
    summary = import_paths(store, [acc, lst], account="inspector_lane")
    assert [f.format for f in summary.files] == ["accounts", "followers"]
    assert (summary.files[1].follows, summary.files[1].follow_duplicates) == (2, 1)
    df = store.read("interactions")
    assert df[["source", "target", "kind"]].values.tolist() == [
        ["amyexample", "inspector_lane", "follow"],
        ["bob_b", "inspector_lane", "follow"],
    ]
    assert df["created_at"].isna().all()


def test_accounts_csv_field_by_field_and_rejects(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        "handle,account_id,name,description,followers_count,role\n"
        '@Inspector_Lane,111,Inspector Lane,"Police inspector, views my own",5400,Professional\n'
        "gazette,,Northshire Gazette,,12,media\n"
        ",1,no handle,,,\n"
        "x,,,,many,citizen\n"
        "y,,,,,alien\n"
    )
    assert detect_format(path) == "accounts"
    batches = list(accounts.read(path, "a.csv", ReadOptions()))
    rows = _rows(batches, "accounts")
    assert rows == [
        {
            "handle": "inspector_lane",
            "account_id": "111",
            "name": "Inspector Lane",
            "description": "Police inspector, views my own",
            "followers_count": 5400,
            "role": "professional",
        },
        {
            "handle": "gazette",
            "account_id": None,
            "name": "Northshire Gazette",
            "description": None,
            "followers_count": 12,
            "role": "media",
        },
    ]
    reasons = [(r["source_line"], r["reason"][:28]) for r in _rows(batches, "rejects")]
    assert reasons == [
        (4, "missing handle"),
        (5, "followers_count 'many' is no"),
        (6, "unknown role 'alien' (expect"),
    ]
    assert sum(b.rows_read for b in batches) == 5


def test_accounts_csv_without_handle_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,role\nx,media\n")
    with pytest.raises(InputFileError, match="without a handle column"):
        list(accounts.read(path, "a", ReadOptions()))


def test_accounts_followers_count_of_digit_signs_that_are_not_numbers(tmp_path):
    """'²' passes str.isdigit() but int() refuses it: a reject, not a traceback."""
    path = tmp_path / "a.csv"
    path.write_text("handle,followers_count\namy,²\nbob,1①\ncy,1_000\n", encoding="utf-8")
    batches = list(accounts.read(path, "a.csv", ReadOptions()))
    assert [(r["handle"], r["followers_count"]) for r in _rows(batches, "accounts")] == [
        ("cy", 1000)
    ]
    assert [(r["source_line"], r["reason"]) for r in _rows(batches, "rejects")] == [
        (2, "followers_count '²' is not a whole number"),
        (3, "followers_count '1①' is not a whole number"),
    ]
