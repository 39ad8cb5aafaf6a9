"""Baseline / crisis / after windows: half-open UTC intervals ``[start, end)``.

Examples
--------
>>> w = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 14)
>>> w.baseline_start.isoformat(), w.after_end.isoformat()
('2014-01-31T09:00:00+00:00', '2014-03-05T18:00:00+00:00')
>>> round(w.days(Window.CRISIS), 4)
5.375
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .errors import StudyError
from .schema import Window

__all__ = ["Windows", "assign_windows", "parse_instant"]


def parse_instant(value: object, name: str = "instant") -> pd.Timestamp:
    """Return ``value`` as a UTC Timestamp; a value without a time zone is an error naming ``name``.

    Examples
    --------
    >>> parse_instant("2014-02-14T10:00:00+01:00").isoformat()
    '2014-02-14T09:00:00+00:00'
    """
    if not isinstance(value, str | date):  # pd.Timestamp(5) would be 5 ns after 1970
        raise StudyError(
            f"{name}: {value!r} is not a date and time; write it as e.g. 2014-02-14T09:00:00Z"
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise StudyError(f"{name}: cannot read {value!r} as a date and time ({exc})") from None
    if ts is pd.NaT:
        raise StudyError(f"{name}: {value!r} is not a date and time")
    if ts.tzinfo is None:
        raise StudyError(
            f"{name}: {value!r} has no time zone; write it as e.g. 2014-02-14T09:00:00Z or +01:00"
        )
    return ts.tz_convert("UTC")


@dataclass(frozen=True)
class Windows:
    """Three consecutive half-open windows: baseline, crisis, after."""

    baseline_start: pd.Timestamp
    crisis_start: pd.Timestamp
    crisis_end: pd.Timestamp
    after_end: pd.Timestamp

    def __post_init__(self) -> None:
        for ts in (self.baseline_start, self.crisis_start, self.crisis_end, self.after_end):
            try:
                ts.as_unit("ns")  # window edges are compared as int64 nanoseconds
            except (OverflowError, ValueError):
                raise StudyError(
                    f"windows: {ts.isoformat()} is outside the dates supported "
                    f"({pd.Timestamp.min.year + 1} to {pd.Timestamp.max.year - 1})"
                ) from None
        if not (self.baseline_start <= self.crisis_start < self.crisis_end <= self.after_end):
            raise StudyError(
                "windows: expected baseline_start <= crisis_start < crisis_end <= after_end, got "
                f"{self.baseline_start.isoformat()}, {self.crisis_start.isoformat()}, "
                f"{self.crisis_end.isoformat()}, {self.after_end.isoformat()}"
            )

    @classmethod
    def from_crisis(
        cls, crisis_start: object, crisis_end: object, baseline_days: float, after_days: float
    ) -> Windows:
        """Build windows from the crisis instants and the baseline/after lengths in days."""
        cs = parse_instant(crisis_start, "crisis_start")
        ce = parse_instant(crisis_end, "crisis_end")
        if ce <= cs:  # (said with the two instants the user wrote, not the four derived ones)
            raise StudyError(
                f"windows: crisis_end {ce.isoformat()} is not after crisis_start "
                f"{cs.isoformat()} (expected crisis_start < crisis_end)"
            )
        if not all(math.isfinite(d) and d >= 0 for d in (baseline_days, after_days)):
            raise StudyError(
                "windows: baseline_days and after_days must be finite numbers >= 0, got "
                f"{baseline_days!r} and {after_days!r}"
            )
        try:
            start, end = cs - timedelta(days=baseline_days), ce + timedelta(days=after_days)
        except (OverflowError, ValueError):
            raise StudyError(
                f"windows: baseline_days {baseline_days!r} or after_days {after_days!r} reaches "
                "beyond the dates supported"
            ) from None
        return cls(start, cs, ce, end)

    def bounds(self, window: Window) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Return ``(start, end)`` of a window."""
        return {
            Window.BASELINE: (self.baseline_start, self.crisis_start),
            Window.CRISIS: (self.crisis_start, self.crisis_end),
            Window.AFTER: (self.crisis_end, self.after_end),
        }[Window(window)]

    def days(self, window: Window) -> float:
        """Return the length of a window in days (float)."""
        start, end = self.bounds(window)
        return (end - start).total_seconds() / 86400.0

    def as_dict(self) -> dict[str, str]:
        """Return the four instants as ISO-8601 strings (for metrics and manifests)."""
        return {
            "baseline_start": _iso(self.baseline_start),
            "crisis_start": _iso(self.crisis_start),
            "crisis_end": _iso(self.crisis_end),
            "after_end": _iso(self.after_end),
        }


def _iso(ts: pd.Timestamp) -> str:
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def assign_windows(created_at: pd.Series, windows: Windows) -> pd.Series:
    """Return the window name for each timestamp, or <NA> outside all three windows.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    >>> t = ["2014-02-13T12:00Z", "2014-02-14T00:00Z", "2014-02-20T00:00Z"]
    >>> s = pd.Series(pd.to_datetime(t))
    >>> assign_windows(s, w).tolist()
    ['baseline', 'crisis', <NA>]
    """
    ts = pd.to_datetime(created_at, utc=True)
    edges = np.array(
        [
            w.value
            for w in (
                windows.baseline_start,
                windows.crisis_start,
                windows.crisis_end,
                windows.after_end,
            )
        ],
        dtype="int64",
    )
    values = ts.astype("datetime64[ns, UTC]").array.asi8 if len(ts) else np.array([], "int64")
    idx = np.searchsorted(edges, values, side="right") - 1  # 0,1,2 inside; -1 or 3 outside
    labels = np.array(
        [Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value], dtype=object
    )
    out = np.full(len(values), None, dtype=object)
    inside = (idx >= 0) & (idx <= 2)
    if ts.isna().any():
        inside &= ~ts.isna().to_numpy()
    out[inside] = labels[idx[inside]]
    return pd.Series(out, index=created_at.index, dtype="string")
