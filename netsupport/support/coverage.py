"""Coverage: the time span each input covers, per window, and windows cut to the data or refused.

A window counts as covered only when the data *span* it: the study's data (every input with
times) run from before its start to after its end. A window that the data do not span is cut to
the data (``[windows] uncovered = "cut"``, the default, with a warning in metrics.json and the
report) or refused (``"refuse"``: a one-line error naming the window's key). Spans are rounded
outwards to the hour (the first post at 09:00:51 covers from 09:00), so a window that starts
with the collection is not reported as cut by seconds. See METHODS.md, "Coverage".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import StudyError
from ..schema import PostCol, Table, Window
from ..windows import Windows
from .common import _WINDOWS

__all__ = [
    "UNCOVERED_POLICIES",
    "InputSpan",
    "coverage_check",
    "cut_windows",
    "input_spans",
    "spans_from_posts",
]

#: Values of ``[windows] uncovered``.
UNCOVERED_POLICIES = ("cut", "refuse")
#: The study key each window bound comes from (named in warnings and refusals).
_BOUND_KEYS = {
    "baseline_start": "windows.baseline_days",
    "crisis_start": "windows.crisis_start",
    "crisis_end": "windows.crisis_end",
    "after_end": "windows.after_days",
}
_ISO = "%Y-%m-%dT%H:%M:%SZ"
#: A gap between a window's edge and the data's first (or last) row counts as uncovered when a
#: Poisson process at the data's own rate would leave a gap that long empty with probability
#: below this: sparse data (one account's archive) start some hours inside the period collected.
GAP_PROBABILITY = 0.001
#: A file covering part of a window is only noted, not warned about, when the posts no other input
#: holds are under this share of the study's posts in each window it reaches: they move that
#: window's counts by under 1%, far inside any interval the report gives a count or a rate.
NEGLIGIBLE_SHARE = 0.01


@dataclass(frozen=True)
class InputSpan:
    """The first and last time of one input file's rows (None when its rows carry no time)."""

    file: str
    format: str
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    rows: int = 0  # rows read from the file (its rate sets the tolerated gap)
    posts: int | None = None  # its distinct posts (None: the store did not count them)
    only_here: int | None = None  # of those, the posts no other imported file holds

    def slack(self) -> pd.Timedelta:
        """Return the longest gap at the span's edges that the file's rate makes unsurprising.

        A Poisson process at rate ``r = (rows - 1) / span`` leaves a gap of length ``g`` empty
        with probability ``exp(-r g)``; the slack is the ``g`` where that is
        :data:`GAP_PROBABILITY` (zero for fewer than two rows).

        Examples
        --------
        >>> s = InputSpan("a", "", pd.Timestamp("2014-01-01", tz="UTC"),
        ...     pd.Timestamp("2014-01-11", tz="UTC"), 11)
        >>> round(s.slack() / pd.Timedelta(days=1), 3)  # 1 row a day: 6.9 days
        6.908
        """
        if self.first is None or self.last is None or self.rows < 2 or self.last <= self.first:
            return pd.Timedelta(0)
        rate = (self.rows - 1) / _days(self.last - self.first)
        return pd.Timedelta(days=-math.log(GAP_PROBABILITY) / rate)


def _ts(x: Any) -> pd.Timestamp | None:
    if x is None:
        return None
    t = pd.Timestamp(x)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def input_spans(imports: Iterable[Mapping[str, Any]]) -> list[InputSpan]:
    """Return the time span of each imported file from a store manifest's ``imports`` records.

    Files are named by their base name (a path would change the bytes of metrics.json from one
    folder to another). A record without ``span`` (a follower list without dates, or a store
    imported before spans were recorded) has no times.

    Examples
    --------
    >>> s = input_spans([{"path": "/x/a.csv", "format": "nodexl",
    ...     "span": {"first": "2014-02-14T09:00:50Z", "last": "2014-02-18T07:35:06Z"}}])
    >>> s[0].file, str(s[0].first), str(s[0].last)
    ('a.csv', '2014-02-14 09:00:50+00:00', '2014-02-18 07:35:06+00:00')
    """
    out = []
    for rec in imports:
        span = rec.get("span") or {}
        posts = rec.get("posts") or {}
        out.append(
            InputSpan(
                Path(str(rec.get("path", ""))).name,
                str(rec.get("format", "")),
                _ts(span.get("first")),
                _ts(span.get("last")),
                int(span.get("rows", (rec.get("rows") or {}).get("rows_read", 0)) or 0),
                _count(posts.get("distinct")),
                _count(posts.get("only_here")),
            )
        )
    return out


def _count(x: Any) -> int | None:
    return None if x is None else int(x)


def spans_from_posts(posts: pd.DataFrame | None) -> list[InputSpan]:
    """Return spans per ``source_file`` of a posts table (for stores without recorded spans).

    Posts are de-duplicated across files, so a file whose posts were mostly stored from another
    file first looks shorter than it is; the store's recorded spans do not have that bias.
    """
    if posts is None or posts.empty or PostCol.SOURCE_FILE not in posts.columns:
        return []
    ts = pd.to_datetime(posts[PostCol.CREATED_AT], utc=True)
    g = ts.groupby(posts[PostCol.SOURCE_FILE].astype(str), sort=True).agg(["min", "max", "size"])
    return [
        InputSpan(Path(f).name, "", _ts(r["min"]), _ts(r["max"]), int(r["size"]))
        for f, r in g.iterrows()
    ]


def _outward(first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Round a span outwards to whole hours (a last post at 07:35 covers until 08:00)."""
    return first.floor("h"), last.ceil("h") if last.ceil("h") > last else last + pd.Timedelta("1h")


def _fraction(span: tuple[pd.Timestamp, pd.Timestamp], s: pd.Timestamp, e: pd.Timestamp) -> float:
    if e <= s:
        return 1.0
    lo, hi = max(span[0], s), min(span[1], e)
    return max(0.0, (hi - lo) / (e - s))


def _days(td: pd.Timedelta) -> float:
    return td.total_seconds() / 86400


def cut_windows(
    windows: Windows,
    first: pd.Timestamp,
    last: pd.Timestamp,
    slack: Mapping[str, pd.Timedelta] | None = None,
) -> Windows:
    """Return the windows with every bound that lies beyond the data moved to the data's edge.

    A bound more than its ``slack`` (by bound name: ``baseline_start``, ``crisis_start``,
    ``crisis_end``, ``after_end``; default none) before ``first`` or after ``last`` moves to the
    data's span rounded outwards to the hour; a bound within its slack stays. A window wholly
    outside the data gets zero length (its measures are then not measured, saying so).

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T18:00Z", 28, 14)
    >>> c = cut_windows(w, pd.Timestamp("2014-01-31T09:00:51Z"), pd.Timestamp("2014-03-05T17:55Z"))
    >>> str(c.baseline_start), c.days(Window.BASELINE)
    ('2014-01-31 09:00:00+00:00', 14.0)
    """
    lo, hi = _outward(first, last)
    slack = slack or {}

    def clamp(bound: str, t: pd.Timestamp) -> pd.Timestamp:
        g = slack.get(bound, pd.Timedelta(0))
        if t < first - g:
            return lo
        if t > last + g:
            return hi
        return t

    return Windows(*(clamp(b, t) for b, t in _bounds(windows).items()))


def _bounds(windows: Windows) -> dict[str, pd.Timestamp]:
    return {
        "baseline_start": windows.baseline_start,
        "crisis_start": windows.crisis_start,
        "crisis_end": windows.crisis_end,
        "after_end": windows.after_end,
    }


def window_slack(rows: int, days: float) -> pd.Timedelta:
    """Return the gap a Poisson process of ``rows`` in ``days`` leaves empty with probability
    :data:`GAP_PROBABILITY` (zero without rows).

    Examples
    --------
    >>> round(window_slack(10, 10.0) / pd.Timedelta(days=1), 3)
    6.908
    """
    if rows <= 0 or days <= 0:
        return pd.Timedelta(0)
    return pd.Timedelta(days=-math.log(GAP_PROBABILITY) * days / rows)


def coverage_check(
    spans: Sequence[InputSpan],
    windows: Windows,
    policy: str = "cut",
    *,
    rows: Mapping[str, Any] | None = None,
    study_path: str | Path | None = None,
    posts: Mapping[str, int] | None = None,
) -> tuple[Windows, dict[str, Any]]:
    """Return the windows to measure with, and the coverage record for metrics.json.

    Parameters
    ----------
    spans : sequence of InputSpan
        One per input file (:func:`input_spans`); files without times are listed but do not
        count towards the data's span.
    windows : Windows
        The study's declared windows.
    policy : {"cut", "refuse"}
        What to do with a window the data do not span (``[windows] uncovered``).
    rows : mapping, optional
        Rows of data (posts and interactions) per declared window (``{window: {"rows": n}}``,
        metrics.json's ``coverage``): a gap between a window's outer edge and the data is
        tolerated up to :func:`window_slack` of that window's rate (none without ``rows``).
    study_path : path, optional
        Named at the start of a refusal.
    posts : mapping, optional
        The study's posts per declared window (``{window: n}``): a file covering part of a
        window whose posts found in no other input are under :data:`NEGLIGIBLE_SHARE` of each
        window it reaches gets a note instead of a warning (without ``posts``: only when none
        of its posts is only in it).

    Returns
    -------
    (Windows, dict)
        The windows cut to the data (unchanged when the data span them, or when no input has
        times), and ``{policy, data: {first, last} | None, inputs: [{file, format, first,
        last, windows: {window: fraction}, posts, posts_only_here}], declared: {bound: time},
        cut: [{bound, key, declared, used}], windows: {window: {declared_days, used_days,
        spanned}}, warnings: [str], notes: [str]}``. Fractions are the share of each window
        (as measured) an input's span covers, the span counted in whole hours (from the hour
        of its first row to the end of the hour of its last: 0 to 1). ``posts`` and
        ``posts_only_here`` (its distinct posts, and those no other input holds) are there when
        the store counted them (:func:`input_spans`).

    Raises
    ------
    StudyError
        With ``policy="refuse"``, when the data do not span a window; with either policy, when
        the crisis window lies wholly outside the data. The message names the window's study
        key and the data's span.
    """
    if policy not in UNCOVERED_POLICIES:
        raise StudyError(f"windows.uncovered: expected cut or refuse, got {policy!r}")
    timed = [s for s in spans if s.first is not None and s.last is not None]
    declared = _bounds(windows)
    record: dict[str, Any] = {
        "policy": policy,
        "declared": {k: v.strftime(_ISO) for k, v in declared.items()},
        "data": None,
        "inputs": [],
        "cut": [],
        "windows": {},
        "warnings": [],
        "notes": [],
    }
    win_bounds = {w: windows.bounds(Window(w)) for w in _WINDOWS}
    if not timed:
        record["inputs"] = [
            {"file": s.file, "format": s.format, "first": None, "last": None, "windows": None}
            for s in spans
        ]
        for w in _WINDOWS:
            d = _days(win_bounds[w][1] - win_bounds[w][0])
            record["windows"][w] = {"declared_days": d, "used_days": d, "spanned": None}
        record["warnings"].append(
            "no input records the time span it covers: windows are taken as declared"
        )
        return windows, record

    first = min(s.first for s in timed)  # type: ignore[type-var]
    last = max(s.last for s in timed)  # type: ignore[type-var]
    record["data"] = {"first": first.strftime(_ISO), "last": last.strftime(_ISO)}
    cs, ce = windows.crisis_start, windows.crisis_end
    if last < cs or first >= ce:  # (as study.check_data_range: nothing to cut the crisis to)
        where = f"{study_path}: " if study_path else ""
        raise StudyError(
            f"{where}windows.crisis_start..windows.crisis_end: the crisis window "
            f"{cs.strftime(_ISO)} to {ce.strftime(_ISO)} lies outside the data, which run from "
            f"{record['data']['first']} to {record['data']['last']}"
        )
    rate_of = {
        w: window_slack(int((rows or {}).get(w, {}).get("rows", 0)), windows.days(Window(w)))
        for w in _WINDOWS
    }
    slack = {
        "baseline_start": rate_of[_WINDOWS[0]],
        "crisis_start": rate_of[_WINDOWS[1]],
        "crisis_end": rate_of[_WINDOWS[1]],
        "after_end": rate_of[_WINDOWS[2]],
    }
    used = cut_windows(windows, first, last, slack)
    used_bounds = {w: used.bounds(Window(w)) for w in _WINDOWS}
    short: dict[str, set[str]] = {}
    for s in spans:
        row: dict[str, Any] = {
            "file": s.file,
            "format": s.format,
            "first": s.first.strftime(_ISO) if s.first is not None else None,
            "last": s.last.strftime(_ISO) if s.last is not None else None,
        }
        if s.posts is not None and s.only_here is not None:
            row["posts"], row["posts_only_here"] = s.posts, s.only_here
        if s.first is not None and s.last is not None:
            span = _outward(s.first, s.last)
            row["windows"] = {w: _fraction(span, *b) for w, b in used_bounds.items()}
            wide = _outward(s.first - s.slack(), s.last + s.slack())  # within the file's rate
            short[s.file] = {w for w, b in used_bounds.items() if _fraction(wide, *b) < 1}
        else:
            row["windows"] = None
        record["inputs"].append(row)
    for bound, t in _bounds(used).items():
        if t != declared[bound]:
            record["cut"].append(
                {
                    "bound": bound,
                    "key": _BOUND_KEYS[bound],
                    "declared": declared[bound].strftime(_ISO),
                    "used": t.strftime(_ISO),
                }
            )
    for w in _WINDOWS:
        d0 = _days(win_bounds[w][1] - win_bounds[w][0])
        d1 = used.days(Window(w))
        record["windows"][w] = {
            "declared_days": d0,
            "used_days": d1,
            "spanned": math.isclose(d0, d1),
        }
    span_text = f"the data run from {first.strftime(_ISO)} to {last.strftime(_ISO)}"
    for w in _WINDOWS:
        info = record["windows"][w]
        if info["spanned"]:
            continue
        s, e = win_bounds[w]
        what = (
            f"the {w} window {s.strftime(_ISO)} to {e.strftime(_ISO)} "
            f"({info['declared_days']:.1f} days)"
        )
        if policy == "refuse":
            keys = [c["key"] for c in record["cut"] if c["bound"] in _window_bounds(w)]
            key = keys[0] if keys else f"windows.{w}"
            where = f"{study_path}: " if study_path else ""
            raise StudyError(
                f"{where}{key}: {what} is not spanned by the data ({span_text}); shorten the "
                'window, or set [windows] uncovered = "cut" to measure it on the covered part'
            )
        record["warnings"].append(
            f"{what} is not spanned by the data ({span_text}): it is cut to "
            f"{info['used_days']:.1f} days"
        )
    for row in record["inputs"]:
        fr = row["windows"]
        if fr is None:
            continue
        partial = [w for w in _WINDOWS if 0 < fr[w] < 1 and w in short[row["file"]]]
        missing = [w for w in _WINDOWS if fr[w] == 0 and w in short[row["file"]]]
        row["partial"] = bool(partial or missing)
        if not partial and not missing:
            continue
        parts = [
            f"{100 * fr[w]:.0f}% of the {w} window ("
            + _hours(24 * fr[w] * record["windows"][w]["used_days"])
            + f" of its {_hours(24 * record['windows'][w]['used_days'])} hours"
            + (", the span rounded out to whole hours" if i == 0 else "")
            + ")"
            for i, w in enumerate(partial)
        ]
        if missing:
            plural = "s" * (len(missing) > 1)
            parts.append("none of the " + " or ".join(missing) + " window" + plural)
        head = f"{row['file']} ({row['first']} to {row['last']}) covers only " + ", ".join(parts)
        reached = [w for w in _WINDOWS if fr[w] > 0]
        kind, text = _partial_text(row.get("posts"), row.get("posts_only_here"), reached, posts)
        record[kind].append(head + text)
    return used, record


def _hours(h: float) -> str:
    """Hours as a whole number when they are one (a window of 129 h), else to 0.1 h."""
    return f"{h:.0f}" if abs(h - round(h)) < 0.05 else f"{h:.1f}"


def _partial_text(
    n_posts: int | None,
    only: int | None,
    reached: Sequence[str],
    posts: Mapping[str, int] | None,
) -> tuple[str, str]:
    """Return ``("warnings" | "notes", the end of the sentence)`` for a file covering part of a
    window, from its posts that no other input holds (``only`` of ``n_posts``).

    A note when none is only in this file, or when they are under :data:`NEGLIGIBLE_SHARE` of
    the study's posts in each window the file reaches (``posts``); else a warning with the count
    (without counts, the warning as before).

    Examples
    --------
    >>> _partial_text(195, 1, ["crisis"], {"crisis": 1000})[0]
    'notes'
    >>> _partial_text(195, 40, ["crisis"], {"crisis": 1000})[1]
    '; 40 of its 195 posts are only in this file: counts from it are not comparable across windows'
    """
    plain = ": counts from it are not comparable across windows"
    if n_posts is None or only is None:
        return "warnings", plain
    of = f"{only:,} of its {n_posts:,} posts"
    if only == 0:
        return "notes", (
            f"; none of its {n_posts:,} posts is only in this file: the other inputs hold them, "
            "so its partial span does not change counts across windows"
        )
    counts = {w: int(posts[w]) for w in reached if posts and w in posts}
    where = min(counts, key=lambda w: counts[w], default=None)
    if where is not None and only < NEGLIGIBLE_SHARE * counts[where]:
        return "notes", (
            f"; {of} {'is' if only == 1 else 'are'} only in this file, under "
            f"{100 * NEGLIGIBLE_SHARE:.0f}% of the {counts[where]:,} posts of the {where} "
            "window: the other inputs hold the rest, so its partial span barely changes counts "
            "across windows"
        )
    verb = "is" if only == 1 else "are"
    return "warnings", f"; {of} {verb} only in this file" + plain


def _window_bounds(w: str) -> tuple[str, ...]:
    return {
        "baseline": ("baseline_start", "crisis_start"),
        "crisis": ("crisis_start", "crisis_end"),
        "after": ("crisis_end", "after_end"),
    }[w]


def spans_of_tables(tables: Mapping[str, pd.DataFrame]) -> list[InputSpan]:
    """Return :func:`spans_from_posts` of a tables mapping (empty when posts lack the column)."""
    return spans_from_posts(tables.get(Table.POSTS))
