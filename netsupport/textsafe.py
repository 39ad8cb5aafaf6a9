"""Safe, byte-stable writing of the files netsupport produces (CSV, JSON, any bytes).

* CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return) are neutralised by prefixing a single quote (OWASP "CSV injection").
* JSON is written with sorted keys, indent 2, floats rounded to 6 places, NaN/inf as ``null``.
* Bidirectional control characters (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C) in any
  string written, CSV, JSON, and (through :func:`neutralise_bidi`) HTML, Markdown and GEXF, are
  replaced by their visible code point ``[U+202E]``: they would reorder how a handle or a post is
  shown, so that one name passes for another ("Trojan Source", CVE-2021-42574).
* Every write is atomic: a temporary file in the same directory, then :func:`os.replace`, so a
  reader never sees a half-written file and an interrupted run leaves the old file intact.

Examples
--------
>>> safe_csv_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> safe_csv_cell("fine"), safe_csv_cell(-3)
('fine', -3)
>>> print(dumps_json({"b": 1 / 3, "a": [float("nan"), 2]}))
{
  "a": [
    null,
    2
  ],
  "b": 0.333333
}
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIDI_CONTROLS",
    "FORMULA_PREFIXES",
    "atomic_write_bytes",
    "atomic_write_chunks",
    "atomic_write_text",
    "dumps_json",
    "jsonable",
    "neutralise_bidi",
    "safe_csv_cell",
    "write_csv",
    "write_csv_parts",
    "write_json",
]

#: Leading characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

FLOAT_DIGITS = 6

#: Unicode bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates
#: (U+2066-U+2069), the marks LRM, RLM (U+200E, U+200F) and ALM (U+061C).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def _visible(m: re.Match[str]) -> str:
    return f"[U+{ord(m.group(0)):04X}]"


def neutralise_bidi(text: Any) -> Any:
    """Return ``text`` with every bidi control character replaced by ``[U+XXXX]``; non-strings
    are returned as they are (a ``markupsafe.Markup`` stays Markup: the marker is plain text).

    The one place netsupport's outputs neutralise them (CSV cells, JSON strings, the report's
    HTML and Markdown, GEXF and GraphML): shown raw, ``abc\u202egnp.exe`` reads as
    ``abcexe.png``. Replacing rather than deleting keeps two handles that differ only in such
    characters apart, and shows the reader that something was there.

    Examples
    --------
    >>> neutralise_bidi("lane\u202eenal"), neutralise_bidi(3)
    ('lane[U+202E]enal', 3)
    """
    if not isinstance(text, str) or _BIDI.search(text) is None:
        return text
    out = _BIDI.sub(_visible, str(text))
    return out if type(text) is str else type(text)(out)


def _current_umask() -> int:
    mask = os.umask(0o022)  # read the umask (there is no getter) and put it back at once
    os.umask(mask)
    return mask


#: Mode of the files written: what ``open()`` would give (0o666 minus the umask), not the
#: 0o600 of :func:`tempfile.mkstemp`.
FILE_MODE = 0o666 & ~_current_umask()


def safe_csv_cell(value: Any) -> Any:
    """Return ``value`` with a leading single quote if it is a string a spreadsheet would execute.

    Only strings are changed; numbers (including negative numbers) are data, not formulas.

    Examples
    --------
    >>> [safe_csv_cell(v) for v in ["@alice", "+1", "-x", "\\tcmd", "ok", None]]
    ["'@alice", "'+1", "'-x", "'\\tcmd", 'ok', None]
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _atomic_write(
    path: str | os.PathLike[str], chunks: Iterable[bytes] | Iterable[str], *, binary: bool
) -> Path:
    """Write ``chunks`` to a temp file beside ``path`` (fsynced, mode FILE_MODE), then rename it
    over ``path``; on any error the temp file is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # (name the file asked for, not the temp file: /proc/x refuses both)
        raise OSError(exc.errno, f"cannot write a file here ({exc.strerror})", str(path)) from None
    try:
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, **mode) as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename).

    Parent folders are created. Returns the path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "x.bin"
    >>> atomic_write_bytes(p, b"abc").read_bytes()
    b'abc'
    """
    return _atomic_write(path, [data], binary=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 with ``\\n`` line endings to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _round_float(x: float) -> float | None:
    if math.isnan(x) or math.isinf(x):
        return None
    r = round(x, FLOAT_DIGITS)
    return 0.0 if r == 0 else r  # no "-0.0"


def jsonable(obj: Any) -> Any:
    """Return ``obj`` as plain JSON values: floats rounded to 6 places, NaN/inf/NA as ``None``.

    Handles dicts, lists, tuples, sets (sorted), numpy scalars and arrays, pandas Timestamps
    (ISO-8601 UTC with ``Z``), ``datetime``, ``Path`` and ``Enum`` (its value). Dict keys become
    strings.

    Examples
    --------
    >>> t = pd.Timestamp("2014-02-14", tz="UTC")
    >>> jsonable({"x": np.float64(0.1234567), "n": np.int64(3), "t": t})
    {'x': 0.123457, 'n': 3, 't': '2014-02-14T00:00:00Z'}
    """
    if obj is None or isinstance(obj, bool | str):
        return obj.value if isinstance(obj, Enum) else neutralise_bidi(obj)
    if isinstance(obj, Enum):
        return jsonable(obj.value)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _round_float(float(obj))
    if isinstance(obj, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, set | frozenset):
        return sorted((jsonable(v) for v in obj), key=lambda v: (str(type(v)), str(v)))
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.Timestamp | _dt.datetime):
        ts = pd.Timestamp(obj)
        if ts is pd.NaT:
            return None
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(obj, _dt.date):
        return obj.isoformat()
    if isinstance(obj, pd.Timedelta | _dt.timedelta):
        return _round_float(pd.Timedelta(obj).total_seconds())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def dumps_json(obj: Any) -> str:
    """Return ``obj`` as stable JSON text: sorted keys, indent 2, 6-place floats, no newline."""
    return json.dumps(jsonable(obj), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` to ``path`` as byte-stable JSON (see :func:`dumps_json`) with a final newline.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_json({"b": 2, "a": 0.1 + 0.2}, pathlib.Path(tempfile.mkdtemp()) / "m.json")
    >>> p.read_text()
    '{\\n  "a": 0.3,\\n  "b": 2\\n}\\n'
    """
    return atomic_write_text(path, dumps_json(obj) + "\n")


def _safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [safe_csv_cell(neutralise_bidi(str(c))) for c in out.columns]
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s.dtype):
            out[col] = s.round(FLOAT_DIGITS).mask(s.round(FLOAT_DIGITS) == 0, 0.0)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            ts = s if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize("UTC")
            out[col] = _iso_seconds(ts.dt.tz_convert("UTC"))
        elif not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
            out[col] = _safe_text_column(s)
    return out


def _iso_seconds(ts: pd.Series) -> pd.Series:
    """``ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")`` (missing stays missing) of UTC date-times, by
    numpy's ISO formatting where it gives the same text (years 1000-9999: always, for data)."""
    naive = ts.dt.tz_localize(None)
    values = naive.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(values)
    years = naive.dt.year.to_numpy(dtype="float64")[~missing]
    if len(years) and not ((years >= 1000) & (years <= 9999)).all():
        return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = np.char.add(np.datetime_as_string(values, unit="s"), "Z").astype(object)
    text[missing] = np.nan
    return pd.Series(text, index=ts.index, dtype=object)


#: Regular expressions (RE2, for pyarrow.compute) of a formula cell and of a bidi control.
_RISKY_RE2 = "^[=+\\-@\\t\\r]"
_BIDI_RE2 = f"[{BIDI_CONTROLS}]"


def _strings(values: np.ndarray) -> Any:
    """``values`` (an object array) as an Arrow string array, or None when some value is not a
    string or missing (None, NaN)."""
    import pyarrow as pa

    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None  # (bytes would pass as strings in Arrow; pandas writes "b'...'")
    return pa.array(values, type=pa.large_string(), from_pandas=True)


def _arrow_strings(s: pd.Series) -> Any:
    """Column ``s`` as an Arrow large_string array when it holds only strings and missing
    values, else None: an Arrow-backed ``str`` column as it is stored (no Python string per
    cell), an object column converted (:func:`_strings`)."""
    import pyarrow as pa

    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = pa.array(s.array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return arr.cast(pa.large_string())
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return _strings(s.to_numpy())
    return None


def _safe_text_column(s: pd.Series) -> pd.Series:
    """Vectorised :func:`safe_csv_cell` over a column (non-strings are left as they are).

    An Arrow-backed ``str`` column with no cell to change is returned as it is (pandas writes
    it as the object column it would otherwise become, and :func:`_csv_column` reads its
    Arrow array without converting every cell to a Python string and back)."""
    arr = _arrow_strings(s)
    if arr is not None:  # strings only: both checks in Arrow, no Python call per cell
        import pyarrow.compute as pc

        risky = pc.match_substring_regex(arr, _RISKY_RE2).fill_null(False).to_numpy(False)
        bidi = pc.match_substring_regex(arr, _BIDI_RE2).fill_null(False).to_numpy(False)
        if isinstance(s.dtype, pd.StringDtype) and not risky.any() and not bidi.any():
            return s
        obj = s.astype(object)
        risky, bidi = pd.Series(risky, index=obj.index), pd.Series(bidi, index=obj.index)
    else:
        obj = s.astype(object)
        try:
            risky = obj.str.startswith(FORMULA_PREFIXES, na=False).astype(bool)
        except AttributeError:  # no strings in the column at all
            return obj
        bidi = obj.str.contains(_BIDI, na=False).astype(bool)
    if bidi.any():
        obj = obj.copy()
        obj[bidi] = obj[bidi].map(neutralise_bidi)
    if risky.any():
        obj = obj.copy()
        obj[risky] = "'" + obj[risky].astype(str)
    return obj


#: Rows from which :func:`write_csv` joins the cells in Arrow rather than through pandas' CSV
#: writer (same bytes; a small table is not worth the checks).
FAST_CSV_ROWS = 10_000

#: Characters that make Python's csv writer quote a cell (QUOTE_MINIMAL, "," and "\n" lines).
_QUOTED_RE2 = '[,"\\r\\n]'


def _csv_column(s: pd.Series) -> Any:
    """Column ``s`` as the text pandas' ``to_csv`` writes for it (Arrow strings, missing as
    ''), or None when it would need pandas' general path (quoting, other dtypes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = s.dtype
    if (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype):
        arr = _arrow_strings(s)
        if arr is None or pc.any(pc.match_substring_regex(arr, _QUOTED_RE2)).as_py():
            return None
        return arr.fill_null("")
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = s.to_numpy()
        text = values.astype(str)  # what pandas writes: numpy's shortest repr
        text[np.isnan(values)] = ""
        return pa.array(text, type=pa.large_string())
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pa.array(s.to_numpy()).cast(pa.large_string())
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pa.array(np.where(s.to_numpy(), "True", "False"), type=pa.large_string())
    return None


def _csv_bytes(safe: pd.DataFrame) -> bytes | None:
    """The bytes of ``safe.to_csv(index=False, lineterminator="\\n")`` (UTF-8) joined in Arrow,
    or None where pandas must write them (few rows or columns, a cell to quote, a dtype
    other than strings, floats, integers, booleans)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(safe) < FAST_CSV_ROWS or safe.shape[1] < 2:  # (a one-cell row of '' is quoted)
        return None
    columns = []
    for i in range(safe.shape[1]):
        col = _csv_column(safe.iloc[:, i])
        if col is None:
            return None
        columns.append(col)
    text = pa.large_string()
    rows = pc.binary_join_element_wise(*columns, pa.scalar(",", text))
    lines = pc.binary_join_element_wise(rows, pa.scalar("", text), pa.scalar("\n", text))
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    body = memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
    header = safe.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8")
    return header + bytes(body)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to ``path`` as UTF-8 CSV, formula-safe, byte-stable and atomic.

    Text cells (and column names) starting with ``= + - @``, tab or CR get a leading ``'``;
    floats are rounded to 6 places; datetimes are written as ISO-8601 UTC (``...Z``); no index;
    ``\\n`` line endings. Row order is kept: sort before calling.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> df = pd.DataFrame({"handle": ["@a", "b"], "share": [1 / 3, -0.5]})
    >>> print(write_csv(df, pathlib.Path(tempfile.mkdtemp()) / "t.csv").read_text(), end="")
    handle,share
    '@a,0.333333
    b,-0.5
    """
    safe = _safe_frame(df)
    data = _csv_bytes(safe)  # big tables (the stance table: 10^6 rows) joined in Arrow
    if data is None:
        data = safe.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return atomic_write_bytes(path, data)


def atomic_write_chunks(path: str | os.PathLike[str], chunks: Iterable[str]) -> Path:
    """Write text chunks one after another to ``path`` (UTF-8), atomically, without ever holding
    the whole text: for big files (the GEXF of a large graph, a long CSV).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_chunks(pathlib.Path(tempfile.mkdtemp()) / "x.txt", ["a\\n", "b\\n"])
    >>> p.read_text()
    'a\\nb\\n'
    """
    return _atomic_write(path, chunks, binary=False)


def write_csv_parts(
    frames: Iterable[pd.DataFrame], path: str | os.PathLike[str], columns: Sequence[str]
) -> Path:
    """Write frames one after another as one CSV: the bytes of ``write_csv(pd.concat(frames))``.

    For tables too big to hold at once (the Dask engine streams the stance table this way).
    Every frame must have ``columns``; with no frames (or only empty ones) the file holds the
    header. Atomic, like :func:`write_csv`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> parts = [pd.DataFrame({"a": ["=1"]}), pd.DataFrame({"a": ["b"]})]
    >>> p = write_csv_parts(parts, pathlib.Path(tempfile.mkdtemp()) / "t.csv", ["a"])
    >>> p.read_text().splitlines()
    ['a', "'=1", 'b']
    """
    cols = list(columns)

    def chunks() -> Iterable[str]:
        header = True
        for df in frames:
            if df.empty:
                continue
            yield _safe_frame(df[cols]).to_csv(index=False, header=header, lineterminator="\n")
            header = False
        if header:
            yield _safe_frame(pd.DataFrame(columns=cols)).to_csv(index=False, lineterminator="\n")

    return atomic_write_chunks(path, chunks())
