"""Windows: half-open UTC intervals, time zones converted, naive instants refused."""

import pandas as pd
import pytest

from netsupport.errors import StudyError
from netsupport.schema import Window
from netsupport.windows import Windows, assign_windows, parse_instant


def test_from_crisis_bounds_and_days():
    w = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 7)
    assert w.bounds(Window.BASELINE) == (
        pd.Timestamp("2014-01-31T09:00:00Z"),
        pd.Timestamp("2014-02-14T09:00:00Z"),
    )
    assert w.days(Window.BASELINE) == 14
    assert w.days(Window.CRISIS) == pytest.approx(5 + 9 / 24)
    assert w.days(Window.AFTER) == 7
    assert w.as_dict()["after_end"] == "2014-02-26T18:00:00Z"


def test_offsets_are_converted_to_utc():
    assert parse_instant("2014-02-14T10:00:00+01:00") == pd.Timestamp("2014-02-14T09:00:00Z")


def test_naive_instant_is_an_error_naming_the_value():
    with pytest.raises(StudyError, match="crisis_start.*no time zone"):
        Windows.from_crisis("2014-02-14T09:00:00", "2014-02-19T18:00:00Z", 14, 14)


def test_unreadable_instant_is_an_error():
    with pytest.raises(StudyError, match="crisis_end"):
        Windows.from_crisis("2014-02-14T09:00:00Z", "next tuesday", 14, 14)


def test_crisis_end_before_start_is_an_error():
    with pytest.raises(StudyError, match="crisis_start < crisis_end"):
        Windows.from_crisis("2014-02-19T09:00:00Z", "2014-02-14T18:00:00Z", 14, 14)


def test_crisis_end_before_start_names_the_two_instants_given():
    """--crisis 2014-02-19T18:00Z 2014-02-14T09:00Z used to print four instants, two of them
    derived from --baseline-days/--after-days, instead of the two the user typed."""
    with pytest.raises(StudyError) as err:
        Windows.from_crisis("2014-02-19T18:00Z", "2014-02-14T09:00Z", 14, 14)
    assert str(err.value) == (
        "windows: crisis_end 2014-02-14T09:00:00+00:00 is not after crisis_start "
        "2014-02-19T18:00:00+00:00 (expected crisis_start < crisis_end)"
    )
    with pytest.raises(StudyError, match="crisis_end .* is not after crisis_start"):
        Windows.from_crisis("2014-02-14T09:00Z", "2014-02-14T09:00Z", 14, 14)  # empty crisis


def test_assign_windows_half_open_edges_and_outside():
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    s = pd.Series(
        pd.to_datetime(
            [
                "2014-02-12T23:59:59Z",  # before baseline
                "2014-02-13T00:00:00Z",  # baseline start (inclusive)
                "2014-02-14T00:00:00Z",  # crisis start (inclusive)
                "2014-02-14T23:59:59Z",
                "2014-02-15T00:00:00Z",  # crisis end is exclusive -> after
                "2014-02-16T00:00:00Z",  # after end is exclusive -> outside
                None,
            ],
            utc=True,
        )
    )
    got = assign_windows(s, w).tolist()
    assert got == [pd.NA, "baseline", "crisis", "crisis", "after", pd.NA, pd.NA]


def test_assign_windows_empty():
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    assert assign_windows(pd.Series([], dtype="datetime64[ns, UTC]"), w).empty


def test_a_number_is_not_read_as_nanoseconds_since_1970():
    with pytest.raises(StudyError, match="crisis_end: 5 is not a date and time"):
        parse_instant(5, "crisis_end")


@pytest.mark.parametrize(
    ("baseline_days", "match"),
    [
        (float("nan"), "must be finite numbers >= 0"),
        (float("inf"), "must be finite numbers >= 0"),
        (1e9, "reaches beyond the dates supported"),
        (1e6, "-724-03-19.* is outside the dates supported"),
    ],
)
def test_impossible_baseline_lengths_are_errors(baseline_days, match):
    with pytest.raises(StudyError, match=match):
        Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T18:00Z", baseline_days, 14)


def test_instants_beyond_nanosecond_timestamps_are_errors():
    with pytest.raises(StudyError, match="3000-01-01.* is outside the dates supported"):
        Windows.from_crisis("2014-02-14T09:00Z", "3000-01-01T00:00Z", 14, 14)
    with pytest.raises(StudyError, match="outside the dates supported"):
        Windows.from_crisis("2014-02-14T09:00Z", "2262-04-10T00:00Z", 14, 14)
