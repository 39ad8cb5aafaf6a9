"""Timestamps of every export format, read as UTC instants; unreadable ones with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from netsupport.io.timestamps import parse_column, to_micros, twitter_time_to_iso

T0 = int(datetime(2014, 2, 12, 10, tzinfo=UTC).timestamp()) * 1_000_000


@pytest.mark.parametrize(
    "value",
    [
        "2014-02-12T10:00:00Z",
        "2014-02-12T10:00:00.000Z",
        "2014-02-12T10:00:00.000000000Z",  # nanoseconds: cut to microseconds
        "2014-02-12 10:00:00+00:00",
        "2014-02-12T11:00:00+01:00",
        "2014-02-12T05:00:00-0500",
        "Wed Feb 12 10:00:00 +0000 2014",
        "Wed Feb 12 12:00:00 +0200 2014",
        "Wed, 12 Feb 2014 10:00:00 +0000",
        "Wed, 12 Feb 2014 10:00:00 GMT",
        1392199200000,
        "1392199200000",
        1392199200,
        "1392199200",
        1392199200.0,
    ],
)
def test_every_accepted_form_gives_the_same_instant(value):
    assert to_micros(value) == T0
    arr, bad = parse_column([value])
    assert bad == {} and arr.cast(pa.int64()).to_pylist() == [T0]


@pytest.mark.parametrize(
    "value, reason",
    [
        ("2014-02-12 10:00:00", "has no time zone"),
        ("2014-02-12T10:00:00", "has no time zone"),
        ("12/02/2014 10:00", "cannot read timestamp"),
        ("Wed Feb 31 10:00:00 +0000 2014", "cannot read timestamp"),
        ("Someday", "cannot read timestamp"),
        ("", "timestamp is empty"),
        (None, "is not a date and time"),
        (True, "is not a date and time"),
        ({"a": 1}, "is not a date and time"),
        (float("nan"), "is not a number"),
        (10**30, "out of range"),
    ],
)
def test_unreadable_timestamps_say_why(value, reason):
    with pytest.raises(ValueError, match=reason):
        to_micros(value)


def test_naive_utc_only_when_the_format_documents_it():
    assert to_micros("2014-02-12 10:00:00", naive_utc=True) == T0
    arr, bad = parse_column(["2014-02-12 10:00:00"], naive_utc=True)
    assert bad == {} and arr.cast(pa.int64()).to_pylist() == [T0]


def test_parse_column_marks_bad_and_missing_values():
    arr, bad = parse_column(["2014-02-12T10:00:00Z", None, "nope", 1392199200000])
    assert arr.null_count == 2
    assert sorted(bad) == [1, 2] and bad[1] == "missing timestamp"
    arr, bad = parse_column(["2014-02-12T10:00:00Z", None])  # fast path with a null
    assert bad == {1: "missing timestamp"}


def test_twitter_time_to_iso_leaves_other_text_alone():
    assert twitter_time_to_iso("Thu Feb 6 01:02:03 +0000 2014") == "2014-02-06T01:02:03+0000"
    assert twitter_time_to_iso("Wed Xyz 12 10:00:00 +0000 2014") == "Wed Xyz 12 10:00:00 +0000 2014"


def test_instants_outside_1900_2200_are_refused():
    arr, bad = parse_column(["0001-01-01T00:00:00Z", "2014-02-12T10:00:00Z", -62_135_596_800_001])
    assert arr.null_count == 2 and sorted(bad) == [0, 2]
    assert bad[0] == "timestamp '0001-01-01T00:00:00Z' is outside 1900-2199"
    assert arr.to_pylist()[1] is not None


def test_epoch_ints_read_in_one_pass_as_one_by_one():
    # the vectorised path for ints (Telegram's date_unixtime) must give what to_micros gives
    # each value: seconds and milliseconds, nulls, and instants outside 1900-2199 refused
    import random

    rng = random.Random(16)
    values = [
        rng.choice(
            [
                None,
                rng.randrange(0, 2_000_000_000),  # seconds
                rng.randrange(10**11, 2 * 10**12),  # milliseconds
                rng.randrange(-(10**10), 10**10),  # some before 1900 (refused)
                rng.randrange(10**14, 10**15),  # milliseconds after 2200 (refused)
            ]
        )
        for _ in range(2000)
    ]
    stamps, bad = parse_column(values)
    got = stamps.cast("int64").to_pylist()
    for i, v in enumerate(values):
        if v is None:
            assert bad[i] == "missing timestamp"
            continue
        micros = to_micros(v)
        if -2208988800 * 10**6 <= micros < 7258118400 * 10**6:
            assert got[i] == micros and i not in bad, (v, got[i])
        else:
            assert got[i] is None and "outside" in bad[i], (v, bad.get(i))
