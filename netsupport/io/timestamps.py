"""Read the timestamps found in social-media exports as UTC instants, or say why not.

Accepted forms (all converted to UTC):

* ISO-8601 with ``Z`` or an offset: ``2014-02-12T10:00:00.000Z``, ``2014-02-12 11:00:00+01:00``;
* Twitter's classic form: ``Wed Feb 12 10:00:00 +0000 2014``;
* RFC 2822 (e-mail) form: ``Wed, 12 Feb 2014 10:00:00 +0000``;
* epoch numbers: seconds, or milliseconds when the absolute value is at least 10**11
  (10**11 seconds is the year 5138, so the two cannot be confused for real data).

A time without a zone (``2014-02-12 10:00:00``) is refused: its instant is unknown. Importers whose
format documents its zone (NodeXL's ``Relationship Date (UTC)`` column) pass ``naive_utc=True``.

Examples
--------
>>> to_micros("Wed Feb 12 10:00:00 +0000 2014") == to_micros("2014-02-12T11:00:00+01:00")
True
>>> to_micros(1392199200000) == to_micros("2014-02-12T10:00:00Z")
True
>>> to_micros("2014-02-12 10:00:00")
Traceback (most recent call last):
...
ValueError: timestamp '2014-02-12 10:00:00' has no time zone
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "EARLIEST",
    "LATEST",
    "TIMESTAMP",
    "all_in_range",
    "parse_column",
    "spreadsheet_dates",
    "to_micros",
    "twitter_time_to_iso",
]

#: The canonical timestamp type of every table (UTC, microseconds).
TIMESTAMP = pa.timestamp("us", tz="UTC")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_EPOCH_RE = re.compile(r"-?\d+(\.\d+)?")
_FRACTION_RE = re.compile(r"(\.\d{6})\d+")  # Python reads at most microseconds
_TWITTER_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_MS_THRESHOLD = 10**11
#: Instants outside [EARLIEST, LATEST) are refused: no social-media post is from year 1 or 9999,
#: and Python's datetime (used downstream) cannot represent the extremes.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_EARLIEST_US = (EARLIEST - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
_LATEST_US = (LATEST - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
MISSING = "missing timestamp"


def twitter_time_to_iso(value: str) -> str:
    """Return Twitter's ``Wed Feb 12 10:00:00 +0000 2014`` as ISO-8601; other input unchanged.

    Cheap string surgery for the hot loop of the v1.1 importer (``strptime`` is ten times slower).

    Examples
    --------
    >>> twitter_time_to_iso("Wed Feb 12 10:00:00 +0000 2014")
    '2014-02-12T10:00:00+0000'
    >>> twitter_time_to_iso("2014-02-12T10:00:00Z")
    '2014-02-12T10:00:00Z'
    """
    parts = value.split(" ")
    if len(parts) == 6:
        month = _MONTHS.get(parts[1])
        day = parts[2]
        if month is not None and len(day) <= 2 and day.isdigit():
            return f"{parts[5]}-{month}-{day.zfill(2)}T{parts[3]}{parts[4]}"
    return value


def to_micros(value: object, *, naive_utc: bool = False) -> int:
    """Return microseconds since the epoch (UTC) for one timestamp value.

    Parameters
    ----------
    value : str, int or float
        A timestamp in one of the accepted forms (module docstring).
    naive_utc : bool
        Read a time without a zone as UTC (only for formats that document it).

    Raises
    ------
    ValueError
        With a message naming the value and what is wrong with it.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"timestamp {value!r} is not a date and time")
    if isinstance(value, int | float):
        return _epoch_micros(value)
    if not isinstance(value, str):
        raise ValueError(f"timestamp {_short(value)} is not a date and time")
    text = value.strip()
    if not text:
        raise ValueError("timestamp is empty")
    if _EPOCH_RE.fullmatch(text):
        return _epoch_micros(float(text) if "." in text else int(text))
    if text[0].isalpha():
        return _named_form(text)
    try:
        dt = datetime.fromisoformat(_FRACTION_RE.sub(r"\1", text))
    except ValueError:
        raise ValueError(
            f"cannot read timestamp {_short(text)} (expected ISO-8601 with a zone, "
            "Twitter's 'Wed Feb 12 10:00:00 +0000 2014' or epoch milliseconds)"
        ) from None
    if dt.tzinfo is None:
        if not naive_utc:
            raise ValueError(f"timestamp {_short(text)} has no time zone")
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _US


def _named_form(text: str) -> int:
    """Twitter's classic form, or RFC 2822; both start with a day name."""
    iso = twitter_time_to_iso(text)
    try:
        if iso is not text:
            dt = datetime.fromisoformat(iso)
        elif "," in text:
            dt = parsedate_to_datetime(text)
        else:
            dt = datetime.strptime(text, _TWITTER_FORMAT)
    except (ValueError, TypeError, IndexError):
        raise ValueError(f"cannot read timestamp {_short(text)}") from None
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {_short(text)} has no time zone")
    return (dt - _EPOCH) // _US


def _epoch_micros(number: float) -> int:
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"timestamp {number!r} is not a number of seconds")
    micros = number * 1_000 if abs(number) >= _MS_THRESHOLD else number * 1_000_000
    micros = int(micros)
    if not -(2**62) < micros < 2**62:
        raise ValueError(f"timestamp {number!r} is out of range")
    return micros


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_column(values: list, *, naive_utc: bool = False) -> tuple[pa.Array, dict[int, str]]:
    """Return a UTC timestamp array for ``values`` and ``{index: reason}`` for unreadable ones.

    Vectorised: Arrow reads the usual ISO-8601 strings in one pass; only a batch that contains
    other forms falls back to :func:`to_micros` element by element. Unreadable values (and
    ``None``) become null and get a reason.

    Examples
    --------
    >>> arr, bad = parse_column(["2014-02-12T10:00:00Z", "Wed Feb 12 10:00:00 +0000 2014", "soon"])
    >>> arr.to_pylist()[0] == arr.to_pylist()[1], arr[2].is_valid, sorted(bad)
    (True, False, [2])
    """
    seconds = _epoch_ints(values)
    if seconds is not None:
        return seconds
    try:
        strings = pa.array(values, type=pa.string())
        stamps = strings.cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    else:
        bad = {}
        if strings.null_count:
            bad = dict.fromkeys(pc.indices_nonzero(pc.is_null(strings)).to_pylist(), MISSING)
        return _in_range(stamps, values, bad)
    out: list[int | None] = [None] * len(values)
    bad: dict[int, str] = {}
    rest = range(len(values))
    standard = _standard_iso(values)
    if standard is not None:  # most values are plain ISO-8601: cast those in one go
        stamps, picked = standard
        for i, v in zip(picked, stamps.cast(pa.int64()).to_pylist(), strict=True):
            out[i] = v
        done = set(picked)
        rest = [i for i in range(len(values)) if i not in done]
    for i in rest:
        value = values[i]
        if value is None:
            bad[i] = MISSING
            continue
        try:
            out[i] = to_micros(value, naive_utc=naive_utc)
        except ValueError as exc:
            bad[i] = str(exc)
    return _in_range(pa.array(out, type=pa.int64()).cast(TIMESTAMP), values, bad)


#: Epoch numbers below this (in absolute value) give microseconds well inside int64 either way.
_INT_FAST_MAX = 2**62 // 1000


def _epoch_ints(values: list) -> tuple[pa.Array, dict[int, str]] | None:
    """Read a batch of epoch seconds (or milliseconds) given as ints in one pass, as
    :func:`to_micros` reads each; None when the values are not all ints (or None).

    Examples
    --------
    >>> arr, bad = _epoch_ints([1392372000, None, 1392372000000])
    >>> arr.to_pylist()[0] == arr.to_pylist()[2], bad
    (True, {1: 'missing timestamp'})
    >>> _epoch_ints([1392372000, "1392372000"]) is None, _epoch_ints([True, 1]) is None
    (True, True)
    """
    if not values or (type(values[0]) is not int and values[0] is not None):
        return None
    try:
        ints = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if ints.type != pa.int64() or ints.null_count == len(ints):
        return None
    bounds = pc.min_max(pc.abs(ints))
    if bounds["max"].as_py() >= _INT_FAST_MAX:
        return None  # (element by element: to_micros says which is out of range)
    millis = pc.greater_equal(pc.abs(ints), _MS_THRESHOLD)
    micros = pc.if_else(millis, pc.multiply(ints, 1_000), pc.multiply(ints, 1_000_000))
    bad: dict[int, str] = {}
    if ints.null_count:
        bad = dict.fromkeys(pc.indices_nonzero(pc.is_null(ints)).to_pylist(), MISSING)
    return _in_range(micros.cast(TIMESTAMP), values, bad)


_ISO = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)$"


def _standard_iso(values: list) -> tuple[pa.Array, list[int]] | None:
    """Cast the values that are ISO-8601 with a zone in one go; (stamps, their indices)."""
    try:
        strings = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        strings = pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
    picked = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(strings, _ISO), False))
    if len(picked) == 0:
        return None
    try:
        return strings.take(picked).cast(TIMESTAMP), picked.to_pylist()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # e.g. 2014-02-31: element by element, with the reason


def all_in_range(stamps: pa.Array) -> bool:
    """Return True if every (non-null) instant is within :data:`EARLIEST` .. :data:`LATEST`.

    Examples
    --------
    >>> all_in_range(pa.array(["2014-02-12T10:00:00Z"]).cast(TIMESTAMP))
    True
    >>> all_in_range(pa.array(["1850-02-12T10:00:00Z"]).cast(TIMESTAMP))
    False
    """
    bounds = pc.min_max(stamps.cast(pa.int64()))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low is None or (low >= _EARLIEST_US and high < _LATEST_US)


def _in_range(
    stamps: pa.Array, values: list, bad: dict[int, str]
) -> tuple[pa.Array, dict[int, str]]:
    """Null out (and explain) instants outside :data:`EARLIEST` .. :data:`LATEST`."""
    ints = stamps.cast(pa.int64())
    outside = pc.or_(pc.less(ints, _EARLIEST_US), pc.greater_equal(ints, _LATEST_US))
    if not pc.any(outside).as_py():
        return stamps, bad
    idx = pc.indices_nonzero(pc.fill_null(outside, False)).to_pylist()
    for i in idx:
        bad[i] = f"timestamp {_short(values[i])} is outside {EARLIEST.year}-{LATEST.year - 1}"
    keep = pc.invert(pc.fill_null(outside, False))
    return pc.if_else(keep, stamps, pa.nulls(len(stamps), TIMESTAMP)), bad


# ---- dates as a spreadsheet writes them ---------------------------------------------------------

#: ``14/02/2014 10:00``, ``2/14/2014 10:00:00 PM``, ``14.02.2014``: day and month in an order the
#: text does not say (Excel writes the locale's), a four-digit year, an optional time.
_SHEET_DATE = re.compile(
    r"\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*"
)


def _sheet_parts(m: re.Match, day_first: bool) -> str | None:
    a, _, b, year, hour, minute, second, ampm = m.groups()
    day, month = (int(a), int(b)) if day_first else (int(b), int(a))
    h = int(hour or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        t = datetime(int(year), month, day, h, int(minute or 0), int(second or 0))
    except ValueError:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def spreadsheet_dates(values: list[str | None]) -> tuple[dict[str, str], dict[str, str]]:
    """Read the day/month/year dates of one file, deciding the day/month order from the file.

    A spreadsheet saved as CSV writes dates in its locale's order (``14/02/2014 10:00`` in the
    UK, ``2/14/2014 10:00 AM`` in the US), and a single date such as ``03/02/2014`` does not say
    which. The order is the one every such date of the file fits; in a file where each date fits
    both (no day after the 12th) or neither, they are left unread, with the reason. ISO dates and
    other values are left alone.

    Returns
    -------
    (dict, dict)
        ISO-8601 text without a zone (the caller knows the zone) for each day/month/year value
        read; the reason for each one left unread.

    Examples
    --------
    >>> iso, unread = spreadsheet_dates(["14/02/2014 10:00", "03/02/2014 9:05:07 PM", None, "x"])
    >>> iso["14/02/2014 10:00"], iso["03/02/2014 9:05:07 PM"], len(iso), unread
    ('2014-02-14T10:00:00', '2014-02-03T21:05:07', 2, {})
    >>> spreadsheet_dates(["03/02/2014 10:00", "04/02/2014"])[1]["04/02/2014"]  # doctest: +ELLIPSIS
    'day/month order unknown: every d/m/y date of the file fits both orders...'
    """
    matches = {v: m for v in set(values) if v and (m := _SHEET_DATE.fullmatch(v))}
    orders = {}
    for day_first in (True, False):
        read = {v: _sheet_parts(m, day_first) for v, m in matches.items()}
        if all(read.values()):
            orders[day_first] = read
    # one order reads them all; or both do, alike (every date has day == month)
    if len(orders) == 1 or (orders and orders[True] == orders[False]):
        return next(iter(orders.values())), {}
    why = (
        "day/month order unknown: every d/m/y date of the file fits both orders (no day after "
        "the 12th); save the sheet with ISO dates (yyyy-mm-dd hh:mm:ss)"
        if orders
        else "the d/m/y dates of the file fit neither day/month order"
    )
    return {}, dict.fromkeys(matches, why)
