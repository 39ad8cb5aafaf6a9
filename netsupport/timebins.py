"""Time bins of the report's timelines, cut at the window boundaries so no bin mixes two windows.

Calendar days (``floor("D")``) put the hours before a crisis starting at 09:00 and the hours
after it into one bar. Here bins are counted from the crisis start: baseline bins backwards from
``crisis_start``, crisis bins forwards from it, after bins forwards from ``crisis_end``; a bin
that would cross a window boundary (or the study's ends) is cut there, so it is shorter. The
charts scale a short bin's count to a full bin, so every bar is a rate per day (or hour).

Examples
--------
>>> from netsupport.windows import Windows
>>> w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-15T18:00Z", 2, 1)
>>> b = TimeBins(w, "D")
>>> [(str(s.strftime("%d %H:%M")), h) for s, h in zip(b.edges[:-1], b.hours())]
[('12 09:00', 24.0), ('13 09:00', 24.0), ('14 09:00', 24.0), ('15 09:00', 9.0), ('15 18:00', 24.0)]
>>> ts = pd.Series(pd.to_datetime(["2014-02-14T08:00Z", "2014-02-14T10:00Z"], utc=True))
>>> [str(t.strftime("%d %H:%M")) for t in b.starts(ts)]
['13 09:00', '14 09:00']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .windows import Windows

__all__ = ["TimeBins"]

_WIDTHS = {"D": pd.Timedelta(days=1), "h": pd.Timedelta(hours=1)}


def _utc(t: object) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class TimeBins:
    """The bins of a study's timelines: width ``freq`` (``"D"`` or ``"h"``), aligned to the
    crisis start and cut at every window boundary."""

    windows: Windows
    freq: str = "D"

    def __post_init__(self) -> None:
        if self.freq not in _WIDTHS:
            raise ValueError(f"time bin must be 'D' or 'h', got {self.freq!r}")

    @property
    def width(self) -> pd.Timedelta:
        return _WIDTHS[self.freq]

    @property
    def unit(self) -> str:
        return "day" if self.freq == "D" else "hour"

    @cached_property
    def edges(self) -> pd.DatetimeIndex:
        """Every bin boundary, sorted, from the baseline start to the after end (UTC)."""
        w, width = self.windows, self.width
        b0, c0 = _utc(w.baseline_start), _utc(w.crisis_start)
        c1, a1 = _utc(w.crisis_end), _utc(w.after_end)
        back = int(np.ceil((c0 - b0) / width))
        baseline = [max(b0, c0 - k * width) for k in range(back, 0, -1)]
        crisis = pd.date_range(c0, c1, freq=width, inclusive="left")
        after = pd.date_range(c1, a1, freq=width, inclusive="left")
        return pd.DatetimeIndex([*baseline, *crisis, *after, a1]).unique().sort_values()

    def hours(self) -> list[float]:
        """Length of each bin in hours (shorter where a window boundary cuts it)."""
        return [float(h) for h in (self.edges[1:] - self.edges[:-1]) / pd.Timedelta(hours=1)]

    def scale(self, starts: pd.Series) -> np.ndarray:
        """Return, for bin starts, the factor that turns a bin's count into a full bin's rate
        (1 for a whole bin; 24/9 for a 9-hour day)."""
        edges = self.edges
        idx = edges.get_indexer(pd.DatetimeIndex(pd.to_datetime(starts, utc=True)))
        if (idx < 0).any() or (idx >= len(edges) - 1).any():
            raise ValueError("not a bin start of these windows")
        length = edges[idx + 1] - edges[idx]
        return (self.width / length).to_numpy(dtype=float)

    def starts(self, ts: pd.Series) -> pd.Series:
        """Return the start of the bin holding each instant (NaT outside the study period)."""
        t = pd.to_datetime(ts, utc=True)
        edges = self.edges
        vals = t.to_numpy(dtype="datetime64[ns]")
        idx = np.searchsorted(edges.to_numpy(dtype="datetime64[ns]"), vals, side="right") - 1
        ok = (idx >= 0) & (idx < len(edges) - 1) & ~pd.isna(vals)
        out = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
        out[ok] = edges.to_numpy(dtype="datetime64[ns]")[idx[ok]]
        return pd.Series(pd.DatetimeIndex(out).tz_localize("UTC"), index=t.index)
