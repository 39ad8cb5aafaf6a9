"""The common reader interface: every importer turns one input into batches of canonical rows.

A reader is a function ``read(path, source, options) -> Iterator[Batch]``. ``source`` is the label
stored in the ``source_file`` column (the path as given, or ``archive.zip!data/tweets.js`` for an
archive member). Each :class:`Batch` holds Arrow tables with the canonical schemas of
:mod:`netsupport.schema` (any of them may be ``None``) and the number of input rows it covers.
Readers stream: memory depends on the batch size, not the file size.

``source_line`` is the 1-based line of the input for line-oriented formats (JSON lines, CSV, text);
for JSON documents (a JSON array, a pretty-printed object, an archive's ``tweets.js``) it is the
1-based position of the record in the document.

Examples
--------
>>> rows = PostRows("t.csv")
>>> rows.add(("twitter", "1", "amy", None, "2014-02-12T10:00:00Z", "hi", "post",
...           None, None, None, None, None, 2, b"raw"))
>>> rows.add(("twitter", "2", "bob", None, "yesterday", "hi", "post",
...           None, None, None, None, None, 3, b"raw2"))
>>> posts, rejects = rows.take()
>>> posts.column("post_id").to_pylist(), rejects.column("source_line").to_pylist()
(['1'], [3])
>>> rejects.column("reason")[0].as_py()[:33]
"cannot read timestamp 'yesterday'"
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import SCHEMAS, PostCol, Table
from .timestamps import parse_column

__all__ = [
    "PLATFORM_TWITTER",
    "QUOTES_SCHEMA",
    "RAW_LIMIT",
    "AccountRows",
    "Batch",
    "PostRows",
    "ReadOptions",
    "Reader",
    "RejectRows",
    "as_id",
    "gc_paused",
    "loads",
    "raw_text",
    "reread",
    "shift_lines",
]

#: Platform label of everything Twitter/X exports (posts are de-duplicated per platform).
PLATFORM_TWITTER = "twitter"

#: Characters of the raw input kept in a reject row.
RAW_LIMIT = 500

#: A batch's second targets: the quoted tweet of a post that replies and also quotes (the posts
#: table holds one target, the reply's); the importer turns each into a ``quote`` interaction of
#: the post with that ``post_id`` and ``source_line``, if that post is kept.
QUOTES_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("source_line", pa.int64()),
        ("target_post_id", pa.string()),
        ("target_author", pa.string()),
    ]
)


@dataclass(frozen=True)
class ReadOptions:
    """Options every reader receives (each uses the ones that concern its format).

    Attributes
    ----------
    mapping : tuple of (column, field)
        CSV column -> canonical field (``--map COL=FIELD``).
    header : bool
        False for a CSV whose first row is data: its columns are named ``0``, ``1``... (so
        ``--map 0=source``), or by ``columns``; lines starting with ``#`` are comments.
    columns : tuple of str
        The column names of a CSV without a header (implies ``header=False``).
    account, direction : str
        Whose follower list a followers file is, and whether it lists the account's
        ``followers`` or the accounts it is ``following``.
    batch_rows : int
        Rows per batch for readers that batch by count.
    workers : int
        Processes for large JSON-lines files; 0 picks ``min(2, cpu count)``, 1 parses in-process.
    max_archive_bytes : int
        Cap on the bytes decompressed from one archive (zip-bomb guard).
    max_compression_ratio : float
        Cap on the ratio of decompressed to compressed size of one archive member that inflates
        past ``archive.RATIO_MIN_BYTES`` (zip-bomb guard); 0 turns it off.
    progress : callable or None
        Called with the number of input bytes consumed since the last call.
    pool : WorkerPool or None
        Worker processes to use instead of starting new ones.
    instance : str or None
        Mastodon: the host of the instance whose API wrote the statuses (for local ``acct``
        names without a host, when the account ``url`` does not give it).
    spool : str or None
        A folder where the worker processes leave their results as files (the importer reads
        them memory-mapped, then deletes them); None sends results back through pipes.
    """

    mapping: tuple[tuple[str, str], ...] = ()
    header: bool = True
    columns: tuple[str, ...] = ()
    account: str | None = None
    direction: str = "followers"
    batch_rows: int = 50_000
    workers: int = 0
    max_archive_bytes: int = 2 * 1024**3
    max_compression_ratio: float = 100.0
    progress: Callable[[int], None] | None = field(default=None, compare=False)
    pool: Any = field(default=None, compare=False)  # a running WorkerPool to share
    spool: str | None = None
    instance: str | None = None

    def advance(self, nbytes: int) -> None:
        """Report ``nbytes`` more input bytes consumed."""
        if self.progress is not None and nbytes:
            self.progress(nbytes)


@dataclass
class Batch:
    """Canonical rows from one stretch of input; tables that a format never yields are ``None``."""

    posts: pa.Table | None = None
    follows: pa.Table | None = None
    accounts: pa.Table | None = None  # may hold a handle more than once: merged in order
    rejects: pa.Table | None = None
    rows_read: int = 0
    # interactions that come from no post (likes); created_at may be null
    interactions: pa.Table | None = None
    # said once in the import summary (e.g. likes without a time, deletes read)
    notes: tuple[str, ...] = ()
    quotes: pa.Table | None = None  # QUOTES_SCHEMA: quotes of posts that also reply
    # delete events (Bluesky): rows of the deletions table, marking records that stay
    deletions: pa.Table | None = None


class Reader(Protocol):
    """What every importer module exposes as ``read``."""

    def __call__(self, path: Path, source: str, options: ReadOptions) -> Iterator[Batch]: ...


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector within the block (restored after it).

    A reader allocates millions of short-lived containers (decoded records, row tuples) and no
    reference cycles; with the collector on, every 700 allocations start a collection that walks
    the batch's live rows again (measured: a quarter to half of a Mastodon archive import's CPU
    time). Reference counting still frees everything as usual; a caller that holds the pause
    over a whole file collects the young generations between batches (``gc.collect(1)``), so
    cyclic garbage, if any, cannot pile up.

    Examples
    --------
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def as_id(value: object) -> str | None:
    """Return an id as a string (ints are exact with orjson), or None for anything else.

    Examples
    --------
    >>> as_id(10765432100123456789), as_id("12"), as_id(""), as_id(True), as_id({"a": 1})
    ('10765432100123456789', '12', None, None, None)
    """
    t = type(value)
    if t is str:
        return value or None  # type: ignore[return-value]
    if t is int:
        return str(value)
    return None


def raw_text(raw: object, limit: int = RAW_LIMIT) -> str:
    """Return the raw input of a rejected row as text, at most ``limit`` characters.

    Examples
    --------
    >>> raw_text(b'{"id": 1, "te\\xff', limit=10)
    '{"id": 1, '
    >>> raw_text({"id": 1})
    '{"id":1}'
    """
    if isinstance(raw, bytes | bytearray | memoryview):
        text = bytes(raw[: limit * 4]).decode("utf-8", errors="replace").rstrip("\r\n")
    elif isinstance(raw, str):
        text = raw
    elif isinstance(raw, list | tuple) and all(isinstance(c, str) for c in raw):
        text = ",".join(raw)
    else:
        try:
            text = orjson.dumps(raw, default=str).decode("utf-8")
        except (TypeError, orjson.JSONEncodeError):
            text = repr(raw)
    return text[:limit]


class RejectRows:
    """Collect reject rows (source_file, source_line, reason, raw) for one source."""

    __slots__ = ("rows", "source")

    def __init__(self, source: str):
        self.source = source
        self.rows: list[tuple[str, int | None, str, str]] = []

    def add(self, line: int | None, reason: str, raw: object) -> None:
        """Record one rejected row."""
        self.rows.append((self.source, line, reason[:RAW_LIMIT], raw_text(raw)))

    def __len__(self) -> int:
        return len(self.rows)

    def take(self) -> pa.Table | None:
        """Return the collected rejects as a table (None when there are none) and reset."""
        if not self.rows:
            return None
        self.rows.sort(key=lambda r: -1 if r[1] is None else r[1])  # stable: input order
        table = _table(Table.REJECTS, list(zip(*self.rows, strict=True)))
        self.rows = []
        return table


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


def _orjson_int(text: str) -> int | float:
    """An integer as orjson reads it: a float beyond the 64-bit range, an error beyond a double."""
    value = int(text)
    return value if _INT64_MIN <= value <= _UINT64_MAX else _orjson_float(text)


def _orjson_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number is infinity when parsed as double: {text[:20]}")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _without_surrogates(value: object) -> object:
    if type(value) is str:
        return _LONE_SURROGATE.sub("\ufffd", value)
    if type(value) is list:
        return [_without_surrogates(v) for v in value]
    if type(value) is dict:
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def loads(data: bytes | str) -> Any:
    """``orjson.loads``, except that a string holding half a surrogate pair as an escape
    (``"\\ud83d"``: valid JSON, left where a text was cut inside an emoji) is read, each
    half replaced by U+FFFD (see :func:`reread`).

    Examples
    --------
    >>> loads(b'{"text": "cut \\\\ud83d", "n": 1}')
    {'text': 'cut \ufffd', 'n': 1}
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return reread(data, exc)


def reread(data: bytes | str, exc: orjson.JSONDecodeError) -> Any:
    """``data``, which orjson refused with ``exc``, read again if half a surrogate pair
    written as an escape was the reason (orjson refuses it; one such text would lose its whole
    line, page of tweets or archive); else raise ``exc``. Numbers are read as orjson reads
    them; a surrogate written as raw bytes (not UTF-8) is still orjson's error. (Readers call
    this after orjson fails, so a line that decodes costs nothing more.)"""
    if "surrogate" not in str(exc):
        raise exc
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        value = json.loads(
            text, parse_int=_orjson_int, parse_float=_orjson_float, parse_constant=_no_constant
        )
    except (ValueError, RecursionError):  # (UnicodeDecodeError, JSONDecodeError included)
        raise exc from None
    return _without_surrogates(value)


class JsonLinesParser:
    """A parser of JSON lines: decodes each line and hands the value to ``value(obj, n, raw)``.

    Subclasses set ``rejects`` (:class:`RejectRows`) and ``records`` (records read) and define
    ``value``; a line that is not JSON is one reject and one record read.
    """

    rejects: RejectRows
    records: int

    def value(self, obj: object, n: int, raw: object) -> None:
        raise NotImplementedError

    def line(self, line: bytes, n: int) -> None:
        """Parse one line of JSON lines input (line number ``n``)."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            try:
                obj = reread(line, exc)
            except orjson.JSONDecodeError:
                self.records += 1
                self.rejects.add(n, f"malformed JSON: {exc}", line)
                return
        self.value(obj, n, line)


#: Position of each field in a post row tuple: the canonical columns except source_file, with
#: created_at still raw, then the raw input (for the reject row if the timestamp is unreadable).
_POST_FIELDS = [c for c in SCHEMAS[Table.POSTS].names if c != PostCol.SOURCE_FILE]
_CREATED = _POST_FIELDS.index(PostCol.CREATED_AT)
_LINE = _POST_FIELDS.index(PostCol.SOURCE_LINE)
_TEXT = _POST_FIELDS.index(PostCol.TEXT)


class PostRows:
    """Collect post rows as tuples and turn them into a canonical posts table per batch.

    A row is ``(platform, post_id, author, author_id, created_at, text, kind, target_post_id,
    target_author, mentions, hashtags, lang, source_line, raw)`` with every text field a ``str``
    or ``None``; ``created_at`` is the raw timestamp, read in one vectorised pass by :meth:`take`.
    """

    __slots__ = ("naive_utc", "rejects", "rows", "source")

    def __init__(self, source: str, rejects: RejectRows | None = None, *, naive_utc: bool = False):
        self.source = source
        self.rows: list[tuple] = []
        self.rejects = rejects if rejects is not None else RejectRows(source)
        self.naive_utc = naive_utc

    def add(self, row: tuple) -> None:
        """Append one row tuple."""
        self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, texts: list | None = None) -> tuple[pa.Table | None, pa.Table | None]:
        """Return ``(posts, rejects)`` for the rows collected so far, and reset.

        Rows whose timestamp cannot be read move to the rejects with the reason. ``texts``, if
        given, replaces the rows' text (one value per row: e.g. the plain text of HTML).
        """
        rows, self.rows = self.rows, []
        posts = None
        if rows:
            cols = list(zip(*rows, strict=True))
            if texts is not None:
                cols[_TEXT] = texts
            created, bad = parse_column(list(cols[_CREATED]), naive_utc=self.naive_utc)
            arrays = []
            for i, name in enumerate(_POST_FIELDS):
                if i == _CREATED:
                    arrays.append(created)
                elif i == _LINE:
                    arrays.append(pa.array(cols[i], type=pa.int64()))
                else:
                    arrays.append(pa.array(cols[i], type=pa.string()))
                if name == PostCol.LANG:  # source_file sits between lang and source_line
                    arrays.append(pa.repeat(pa.scalar(self.source, pa.string()), len(rows)))
            posts = pa.Table.from_arrays(arrays, schema=SCHEMAS[Table.POSTS])
            if bad:
                for i in sorted(bad):
                    self.rejects.add(rows[i][_LINE], bad[i], rows[i][-1])
                keep = pa.array([i not in bad for i in range(len(rows))])
                posts = posts.filter(keep)
        return posts, self.rejects.take()


class AccountRows:
    """Collect accounts by handle; for each field the first non-null value seen wins.

    Examples
    --------
    >>> acc = AccountRows()
    >>> acc.add("amy", "1", None, None, None)
    >>> acc.add("amy", "9", "Amy", None, 5)
    >>> sorted(acc.take().to_pylist()[0].items())  # doctest: +NORMALIZE_WHITESPACE
    [('account_id', '1'), ('description', None), ('followers_count', 5), ('handle', 'amy'),
     ('name', 'Amy'), ('role', None)]
    """

    __slots__ = ("by_handle", "complete")

    def __init__(self) -> None:
        self.by_handle: dict[str, list] = {}
        self.complete: set[str] = set()  # handles whose id, name, bio and followers are known

    def add(
        self,
        handle: str,
        account_id: object = None,
        name: object = None,
        description: object = None,
        followers_count: object = None,
        role: object = None,
    ) -> None:
        """Record what is known of an account; values of the wrong type are ignored."""
        new = [
            handle,
            as_id(account_id),
            name if type(name) is str else None,
            description if type(description) is str else None,
            followers_count
            if type(followers_count) is int and 0 <= followers_count < 2**63
            else None,
            role if type(role) is str else None,
        ]
        rec = self.by_handle.get(handle)
        if rec is None:
            self.by_handle[handle] = rec = new
        else:
            for i, value in enumerate(new):
                if rec[i] is None and value is not None:
                    rec[i] = value
        if rec[1] is not None and rec[2] is not None and rec[3] is not None and rec[4] is not None:
            self.complete.add(handle)  # a user object can add nothing more (it has no role)

    def add_user_v2(self, user: dict) -> None:
        """Record an API v2 user object (``includes.users`` or a flattened ``author``)."""
        handle = user.get("username")
        if type(handle) is not str or not handle:
            return
        handle = handle.lower()
        if handle in self.complete:
            return
        metrics = user.get("public_metrics")
        followers = metrics.get("followers_count") if type(metrics) is dict else None
        self.add(handle, user.get("id"), user.get("name"), user.get("description"), followers)

    def add_user_v1(self, user: dict) -> None:
        """Record an API v1.1 user object."""
        handle = user.get("screen_name")
        if type(handle) is not str or not handle:
            return
        handle = handle.lower()
        if handle in self.complete:
            return
        self.add(
            handle,
            user.get("id_str") or user.get("id"),
            user.get("name"),
            user.get("description"),
            user.get("followers_count"),
        )

    def __len__(self) -> int:
        return len(self.by_handle)

    def take(self) -> pa.Table | None:
        """Return the accounts as a table (None when empty) and reset."""
        if not self.by_handle:
            return None
        recs = list(self.by_handle.values())
        self.by_handle = {}
        self.complete = set()
        return _table(Table.ACCOUNTS, list(zip(*recs, strict=True)))


def _table(table: Table, columns: list) -> pa.Table:
    schema = SCHEMAS[table]
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def shift_lines(table: pa.Table | None, offset: int) -> pa.Table | None:
    """Return ``table`` with ``offset`` added to its ``source_line`` column."""
    if table is None or offset == 0 or table.num_rows == 0:
        return table
    idx = table.schema.get_field_index(PostCol.SOURCE_LINE)
    return table.set_column(idx, PostCol.SOURCE_LINE, pc.add(table.column(idx), offset))
