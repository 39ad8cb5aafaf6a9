"""The store: the canonical tables as Parquet part files under one folder, and a manifest.

Layout::

    STORE/
      manifest.json                      # the commit point: parts and imported files
      posts/part-000001-3f2a9c1e.parquet
      interactions/part-000001-....parquet
      follows/  accounts/  rejects/
      .lock                              # held by the one writing transaction
      .scratch-<id>/                     # the writing transaction's temporary files

``manifest.json`` lists, per table, the committed part files (with row count and sha256) and every
imported file (sha256, path, format, row counts). Readers read only the parts the manifest lists.
A write (:class:`Transaction`) writes new parts under temporary names, renames them to their final
names, and then replaces the manifest atomically (temp file + ``os.replace``); files that no
manifest lists are removed by the next transaction. So an import killed at any moment leaves the
store exactly as it was, and a finished import appears all at once.

Semantics of a transaction:

* posts are de-duplicated by ``(platform, post_id)`` against the store and within the transaction
  (the first row seen wins); a duplicate whose author or text differs from the kept version is
  counted at commit (:attr:`Transaction.changed_duplicates`), and the account rows of such a
  changed author are dropped unless a kept post or interaction of the transaction names it;
* follows are de-duplicated by ``(follower, followee)``;
* accounts are merged by handle: for each field the first non-null value wins (existing values
  first, then rows in the order they arrive), so later imports fill gaps but never overwrite;
  the merged accounts table is rewritten as one part at commit;
* rejects are de-duplicated by ``(source_file, reason, raw)`` and occurrence: the k-th reject
  of a file with a given reason and raw text is new only if the store holds fewer than k of them
  (so re-importing a file that grew adds only the rejects of its new lines, even if lines
  moved; two identical bad lines stay two rejects);
* interactions are appended as given;
* a file whose sha256 the manifest records (read in the same format) is not imported again.

Examples
--------
>>> import tempfile
>>> store = Store(tempfile.mkdtemp())
>>> store.exists(), len(store.read("posts"))
(False, 0)
>>> posts = pa.table({"platform": ["twitter"] * 2, "post_id": ["1", "1"], "author": ["amy", "bob"]})
>>> with store.transaction() as tx:
...     kept, duplicates = tx.add_posts(conform_arrow(posts, Table.POSTS))
>>> kept.num_rows, duplicates, store.read("posts")["author"].tolist()
(1, 1, ['amy'])
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import NetsupportError
from .schema import (
    SCHEMAS,
    AccountCol,
    DeletionCol,
    FollowCol,
    InteractionCol,
    PostCol,
    RejectCol,
    Table,
    _types_mapper,
)

__all__ = [
    "MANIFEST",
    "IdSet",
    "Store",
    "StoreError",
    "Transaction",
    "conform_arrow",
    "id_keys",
    "merge_accounts",
    "to_pandas",
]

MANIFEST = "manifest.json"
_SCRATCH = ".scratch-"
FORMAT_VERSION = 1
#: Rows buffered before a Parquet row group is written, and rows per part file.
ROW_GROUP_ROWS = 131_072
PART_ROWS = 2_000_000
#: Account rows queued in a transaction before they are merged (memory stays flat). The queue
#: is merged when its new rows exceed this and also the rows of the last merge, so the merges
#: cost O(total rows) however many distinct accounts there are.
ACCOUNT_COMPACT_ROWS = 250_000


#: Columns with few distinct values, dictionary-encoded in Parquet (ids, texts, times and handles
#: are not: encoding them as dictionaries costs time and, under zstd, saves next to nothing:
#: on a million generated tweets, 10% more write time for 3% smaller posts parts).
_DICTIONARY = {
    Table.POSTS: [
        PostCol.PLATFORM,
        PostCol.KIND,
        PostCol.HASHTAGS,
        PostCol.LANG,
        PostCol.SOURCE_FILE,
    ],
    Table.INTERACTIONS: [InteractionCol.KIND],
    Table.FOLLOWS: [FollowCol.FOLLOWER, FollowCol.FOLLOWEE],
    Table.ACCOUNTS: [AccountCol.ROLE],
    Table.REJECTS: [RejectCol.SOURCE_FILE, RejectCol.REASON],
    Table.DELETIONS: [DeletionCol.PLATFORM, DeletionCol.COLLECTION, DeletionCol.SOURCE_FILE],
}


#: Columns with min/max statistics (for filtering by time; statistics on texts cost and help not).
_STATISTICS = {
    Table.POSTS: [PostCol.CREATED_AT, PostCol.SOURCE_LINE],
    Table.INTERACTIONS: [InteractionCol.CREATED_AT],
    Table.FOLLOWS: [FollowCol.OBSERVED_AT],
    Table.ACCOUNTS: [],
    Table.REJECTS: [RejectCol.SOURCE_LINE],
    Table.DELETIONS: [DeletionCol.DELETED_AT],
}


class StoreError(NetsupportError):
    """The store folder is not a netsupport store, or its manifest is damaged."""


def _why(root: Path, exc: OSError) -> str:
    """What stops a store folder being made or written, in words: ``/tmp/f is a file``,
    ``permission denied``, ``read-only file system``, ``/proc does not accept new folders``."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        blocker = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()), None)
        if blocker == root:
            return "it is a file, not a folder" if root.is_file() else "it is not a folder"
        if blocker is not None:
            return f"{blocker} is a file" if blocker.is_file() else f"{blocker} is not a folder"
    if isinstance(exc, FileNotFoundError):  # /proc/x: the folder above takes no new folders
        above = next((p for p in root.parents if p.is_dir()), None)
        if above is not None:
            return f"{above} does not accept new folders"
    reason = exc.strerror or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def conform_arrow(table: pa.Table, name: Table) -> pa.Table:
    """Return ``table`` with exactly the canonical columns of ``name`` (missing ones null).

    Examples
    --------
    >>> conform_arrow(pa.table({"handle": ["a"]}), Table.ACCOUNTS).column_names[:3]
    ['handle', 'account_id', 'name']
    """
    schema = SCHEMAS[Table(name)]
    if table.schema.equals(schema):
        return table
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            col = table.column(f.name)
            arrays.append(col if col.type == f.type else col.cast(f.type))
        else:
            arrays.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def merge_accounts(tables: list[pa.Table]) -> pa.Table:
    """Merge account rows by handle: for each field the first non-null value, in table order.

    Returns one row per handle, sorted by handle.

    Examples
    --------
    >>> a = conform_arrow(pa.table({"handle": ["amy", "bob"], "name": [None, "Bob"]}),
    ...                   Table.ACCOUNTS)
    >>> b = conform_arrow(pa.table({"handle": ["amy"], "name": ["Amy"], "role": ["media"]}),
    ...                   Table.ACCOUNTS)
    >>> [(r["handle"], r["name"], r["role"]) for r in merge_accounts([a, b]).to_pylist()]
    [('amy', 'Amy', 'media'), ('bob', 'Bob', None)]
    """
    schema = SCHEMAS[Table.ACCOUNTS]
    rows = pa.concat_tables([conform_arrow(t, Table.ACCOUNTS) for t in tables])
    rows = rows.filter(pc.is_valid(rows.column(AccountCol.HANDLE)))
    if rows.num_rows == 0:
        return schema.empty_table()
    fields = [f.name for f in schema if f.name != AccountCol.HANDLE]
    # "first" skips nulls and follows input order when not threaded
    merged = rows.group_by(AccountCol.HANDLE.value, use_threads=False).aggregate(
        [(f, "first") for f in fields]
    )
    merged = merged.take(pc.sort_indices(merged, [(AccountCol.HANDLE.value, "ascending")]))
    return pa.Table.from_arrays(
        [merged.column(AccountCol.HANDLE.value)] + [merged.column(f"{f}_first") for f in fields],
        schema=schema,
    )


try:  # an exclusive, non-blocking lock on STORE/.lock, released when the process ends
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


_DECIMAL = r"^[1-9][0-9]{0,18}$"
#: The same ids as Arrow's ``_DECIMAL`` (RE2's ``$`` is the end of the text; Python's ``$``
#: also matches before a final newline, which made "12\n" the key of "12")
_DECIMAL_RE = re.compile(r"[1-9][0-9]{0,18}")
#: A Reddit full name (t1_ comment, t3_ submission...) of a canonical base-36 id (issue #16)
_FULLNAME_RE = re.compile(r"t([1-6])_([1-9a-z][0-9a-z]{0,10})")


#: Ids that :func:`id_keys` might turn into ints (a superset); an array with none of them has
#: its ids as keys, as they are.
_MAYBE_INT_KEY = r"^[1-9][0-9]*$|^t[1-6]_"

_B36 = np.zeros(256, dtype=np.int64)
_B36[np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", np.uint8)] = np.arange(36)


def _fullname_ints(ids: pa.Array) -> np.ndarray | None:
    """Every id a Reddit full name: their :func:`_fullname_key` values, vectorised; else None.

    Examples
    --------
    >>> _fullname_ints(pa.array(["t1_a", "t3_zz"])).tolist() == [
    ...     _fullname_key("t1_a"), _fullname_key("t3_zz")]
    True
    """
    if ids.null_count or not len(ids):
        return None
    if not pc.all(pc.match_substring_regex(ids, "^" + _FULLNAME_RE.pattern + "$")).as_py():
        return None
    kind = pc.cast(pc.utf8_slice_codeunits(ids, 1, 2), pa.int64()).to_numpy()
    digits = pc.utf8_lpad(pc.utf8_slice_codeunits(ids, 3), width=11, padding="0")
    digits = pa.array(digits.to_pylist() if digits.offset else digits, pa.string())
    raw = np.frombuffer(digits.buffers()[2], dtype=np.uint8)[: 11 * len(ids)]
    values = _B36[raw.reshape(len(ids), 11)]
    number = values @ (36 ** np.arange(10, -1, -1, dtype=np.int64))
    return -(number * 8 + kind) - 1


def _fullname_key(x: str) -> int:
    """A Reddit full name as a negative int, one to one (decimal ids map to positive ones)."""
    m = _FULLNAME_RE.fullmatch(x)
    return -(int(m.group(2), 36) * 8 + int(m.group(1))) - 1  # type: ignore[union-attr]


def id_keys(ids: pa.Array | pa.ChunkedArray) -> list[int | str]:
    """Return post ids as set keys: a canonical decimal id below 2**63 as an int, else the text.

    Twitter ids are decimal numbers; as ints they take less memory and hash faster than
    strings. The mapping is one to one ("007" stays a string, so it never meets 7).

    Examples
    --------
    >>> id_keys(pa.array(["1430000000000000000", "007", "row-ab12", None]))
    [1430000000000000000, '007', 'row-ab12', None]
    >>> id_keys(pa.array(["12", "12\\n", None]))  # a final newline is part of the id
    [12, '12\\n', None]
    >>> id_keys(pa.array(["t1_a", "t3_a", "t1_0a"]))  # Reddit full names: ints below zero
    [-82, -84, 't1_0a']
    """
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if ids.null_count == 0 and pc.all(pc.match_substring_regex(ids, _DECIMAL)).as_py():
        try:
            return pc.cast(ids, pa.int64()).to_numpy().tolist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # one is 2**63 or more
    return [
        int(x)
        if x is not None and _DECIMAL_RE.fullmatch(x) and int(x) < 2**63
        else _fullname_key(x)
        if x is not None and _FULLNAME_RE.fullmatch(x)
        else x
        for x in ids.to_pylist()
    ]


def _int_ids(ids: pa.Array) -> np.ndarray | None:
    """Post ids as int64 when every one is a canonical decimal below 2**63 (else None)."""
    if ids.null_count or not len(ids):
        return None
    if not pc.all(pc.match_substring_regex(ids, _DECIMAL)).as_py():
        return None
    try:
        return pc.cast(ids, pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # one is 2**63 or more


class IdSet:
    """The post ids of one platform seen so far, first occurrence wins.

    Twitter ids (canonical decimals below 2**63) live in an open-addressing hash table of int64
    (numpy, probed in vectorised rounds): 8 to 16 bytes an id, against about 60 for a Python
    set of ints, and no per-id Python work. Any other id (``"007"``, ``"row-ab12"``, 2**64) goes
    to a Python set; :func:`id_keys` maps one to one, so the two never meet.

    Examples
    --------
    >>> seen = IdSet()
    >>> seen.first_seen(pa.array(["5", "7", "5"])).tolist()
    [True, True, False]
    >>> seen.first_seen(pa.array(["7", "007", "9"])).tolist()
    [False, True, True]
    >>> len(seen)
    4
    """

    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self) -> None:
        self.table = np.zeros(1 << 14, dtype=np.int64)  # 0: empty (ids are >= 1)
        self.used = 0
        self.other: set[int | str | None] = set()

    def __len__(self) -> int:
        return self.used + len(self.other)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        bits = len(self.table).bit_length() - 1
        mixed = keys.view(np.uint64) * self._GOLDEN  # (wraps: multiplicative hashing)
        return (mixed >> np.uint64(64 - bits)).astype(np.int64)

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key is in the table."""
        table, mask = self.table, len(self.table) - 1
        found = np.zeros(len(keys), dtype=bool)
        slot = self._slots(keys)
        todo = np.arange(len(keys))
        while len(todo):
            held = table[slot[todo]]
            hit = held == keys[todo]
            found[todo[hit]] = True
            todo = todo[~hit & (held != 0)]  # occupied by another id: probe the next slot
            slot[todo] = (slot[todo] + 1) & mask
        return found

    def _insert(self, keys: np.ndarray) -> None:
        """Insert distinct keys that are not in the table."""
        if 5 * (self.used + len(keys)) > 3 * len(self.table):  # keep the load under 60%
            old = self.table[self.table != 0]
            size = len(self.table)
            while 5 * (self.used + len(keys)) > 3 * size:
                size *= 2
            self.table = np.zeros(size, dtype=np.int64)
            self.used = 0
            self._insert(old)
        table, mask = self.table, len(self.table) - 1
        slot = self._slots(keys)
        todo = np.arange(len(keys))
        while len(todo):
            free = table[slot[todo]] == 0
            cand = todo[free]
            table[slot[cand]] = keys[cand]  # (keys aiming at one slot: one of them lands)
            landed = table[slot[cand]] == keys[cand]
            todo = np.concatenate([todo[~free], cand[~landed]])
            slot[todo] = (slot[todo] + 1) & mask
        self.used += len(keys)

    def _first_ints(self, keys: np.ndarray) -> np.ndarray:
        unique, first = np.unique(keys, return_index=True)
        new = ~self._find(unique)
        self._insert(unique[new])
        keep = np.zeros(len(keys), dtype=bool)
        keep[first[new]] = True
        return keep

    def _first_strings(self, ids: pa.Array) -> np.ndarray:
        """``first_seen`` of ids that are all their own keys: each distinct id is looked up
        once (Arrow's dictionary holds them in order of first occurrence)."""
        encoded = ids.dictionary_encode()
        _, first = np.unique(encoded.indices.to_numpy(), return_index=True)
        distinct = encoded.dictionary.to_pylist()
        other = self.other
        keep = np.zeros(len(ids), dtype=bool)
        if other.isdisjoint(distinct):  # (the usual case: no id of an earlier batch again)
            other.update(distinct)
            keep[first] = True
            return keep
        new = [i for i, key in enumerate(distinct) if key not in other]
        other.update([distinct[i] for i in new])
        keep[first[new]] = True
        return keep

    def first_seen(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Return, per id, whether it is new (not seen before, not earlier in ``ids``); add them."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ints = _int_ids(ids)
        if ints is None:
            ints = _fullname_ints(ids)  # (Reddit: the same keys as id_keys gives, vectorised)
        if ints is not None:
            return self._first_ints(ints)
        if (
            ids.null_count == 0
            and not pc.any(pc.match_substring_regex(ids, _MAYBE_INT_KEY)).as_py()
        ):
            return self._first_strings(ids)
        keys = id_keys(ids)
        keep = np.zeros(len(keys), dtype=bool)
        is_int = np.fromiter((type(k) is int for k in keys), dtype=bool, count=len(keys))
        if is_int.any():
            ints = np.fromiter((k for k in keys if type(k) is int), dtype=np.int64)
            keep[is_int] = self._first_ints(ints)
        other, add = self.other, self.other.add
        for i in np.flatnonzero(~is_int):
            k = keys[i]
            if k not in other:
                add(k)
                keep[i] = True
        return keep


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Return an Arrow table as pandas with the canonical dtypes (as :func:`schema.empty_frame`)."""
    return table.to_pandas(types_mapper=_types_mapper)


def _empty_manifest() -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "tables": {t.value: [] for t in Table},
        "imports": [],
        "next_part": 1,
    }


#: The name of a committed part file (written by Transaction.commit): ``part-<seq>-<sha>.parquet``.
_PART_NAME = re.compile(r"part-\d{6,}-[0-9a-f]{8}\.parquet")
#: The names of the files a transaction writes into a table folder: its parts, and their
#: temporary names while it runs (``.tmp-<tx id>-<n>.parquet``).
_STORE_FILE = re.compile(rf"{_PART_NAME.pattern}|\.tmp-[0-9a-f]{{12}}-\d{{4,}}\.parquet")


def _manifest_problem(data: dict[str, Any]) -> str | None:
    """Return what is wrong with a parsed manifest's structure, or None."""
    tables = data.get("tables")
    if not isinstance(tables, dict):
        return "'tables' is not an object"
    for name, parts in tables.items():
        if not isinstance(parts, list):
            return f"tables.{name} is not a list"
        for i, part in enumerate(parts):
            ok = (
                isinstance(part, dict)
                and isinstance(part.get("path"), str)
                and isinstance(part.get("rows"), int)
                and not isinstance(part.get("rows"), bool)
            )
            if not ok:
                return f"tables.{name}[{i}] needs a path and a row count"
            # (a part is read, and replaced accounts parts deleted, by this path: never outside)
            folder, _, file = part["path"].partition("/")
            if folder != name or not _PART_NAME.fullmatch(file):
                return f"tables.{name}[{i}] path {part['path']!r} is not a part of this store"
    imports = data.get("imports")
    if not isinstance(imports, list) or not all(isinstance(r, dict) for r in imports):
        return "'imports' is not a list of objects"
    for i, rec in enumerate(imports):  # what has_file and `netsupport info` read of each record
        if not all(isinstance(rec.get(k), str) for k in ("path", "format", "sha256")):
            return f"imports[{i}] needs a path, a format and a sha256 (strings)"
        if not isinstance(rec.get("rows", {}), dict):
            return f"imports[{i}].rows is not an object"
    seq = data.get("next_part", 1)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"'next_part' is {seq!r}, not a positive integer"
    return None


class Store:
    """A netsupport store folder (see the module docstring for its layout and guarantees).

    Parameters
    ----------
    root : path
        The store folder; created by the first transaction.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading ----------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Return True if a committed store is at ``root``."""
        return (self.root / MANIFEST).is_file()

    def manifest(self) -> dict[str, Any]:
        """Return the committed manifest (an empty one if nothing was committed)."""
        path = self.root / MANIFEST
        if not path.is_file():
            if self.root.exists() and not self.root.is_dir():
                raise StoreError(f"{self.root}: not a folder")
            return _empty_manifest()
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise StoreError(f"{path}: damaged manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            raise StoreError(f"{path}: not a netsupport store manifest (version 1)")
        problem = _manifest_problem(data)
        if problem:
            raise StoreError(f"{path}: damaged manifest ({problem})")
        return data

    def part_paths(self, table: Table | str) -> list[Path]:
        """Return the committed Parquet part files of ``table``, in commit order."""
        parts = self.manifest()["tables"].get(Table(table).value, [])
        return [self.root / p["path"] for p in parts]

    def counts(self) -> dict[str, int]:
        """Return the number of rows per table (from the manifest; reads no data)."""
        tables = self.manifest()["tables"]
        return {t.value: sum(p["rows"] for p in tables.get(t.value, [])) for t in Table}

    def imported_files(self) -> list[dict[str, Any]]:
        """Return one record per imported file: path, sha256, format, size and row counts."""
        return list(self.manifest()["imports"])

    def read_arrow(self, table: Table | str, columns: list[str] | None = None) -> pa.Table:
        """Return a table as Arrow, canonical schema, rows in commit order."""
        pieces = list(self.iter_parts(table, columns))
        if not pieces:
            return self._schema(table, columns).empty_table()
        return pa.concat_tables(pieces).combine_chunks() if len(pieces) > 1 else pieces[0]

    def iter_parts(
        self, table: Table | str, columns: list[str] | None = None
    ) -> Iterator[pa.Table]:
        """Yield a table's committed parts one at a time as Arrow (canonical schema, commit
        order): a scan that can stop early, or that must not hold the whole table at once."""
        schema = self._schema(table, columns)
        for path in self.part_paths(table):
            try:
                yield pq.read_table(path, columns=schema.names, schema=schema)
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"{path}: cannot read committed part ({exc})") from None

    @staticmethod
    def _schema(table: Table | str, columns: list[str] | None) -> pa.Schema:
        name = Table(table)
        schema = SCHEMAS[name]
        if columns is None:
            return schema
        unknown = [c for c in columns if c not in schema.names]
        if unknown:
            raise StoreError(f"{name.value}: no column(s) {', '.join(map(str, unknown))}")
        return pa.schema([schema.field(str(c)) for c in columns])

    def read(self, table: Table | str, columns: list[str] | None = None) -> pd.DataFrame:
        """Return a table as pandas: canonical columns and dtypes, ``created_at`` UTC.

        An empty store gives an empty frame with the right columns.
        """
        return to_pandas(self.read_arrow(table, columns))

    def time_span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Return the first and last ``created_at`` over posts and interactions (None, None
        when no row has a time)."""
        lows, highs = [], []
        for table, col in (
            (Table.POSTS, PostCol.CREATED_AT),
            (Table.INTERACTIONS, InteractionCol.CREATED_AT),
        ):
            arr = self.read_arrow(table, columns=[col.value]).column(0)
            if len(arr) and arr.null_count < len(arr):
                mm = pc.min_max(arr)
                lows.append(pd.Timestamp(mm["min"].as_py()))
                highs.append(pd.Timestamp(mm["max"].as_py()))
        if not lows:
            return None, None
        return min(lows), max(highs)

    def summary(self, top: int = 10) -> dict[str, Any]:
        """Return what the store holds: rows per table, posts' time span, top authors,
        the most common reject reasons and the imported files (JSON-able).

        Raises
        ------
        StoreError
            If there is no store at ``root``.
        """
        if not self.exists():
            raise StoreError(f"{self.root}: no store here (import files into it first)")
        posts = self.read_arrow(Table.POSTS, [PostCol.AUTHOR, PostCol.CREATED_AT])
        first = last = None
        if posts.num_rows:
            bounds = pc.min_max(posts.column(PostCol.CREATED_AT))
            fmt = "%Y-%m-%dT%H:%M:%SZ"
            if bounds["min"].is_valid:
                first = bounds["min"].as_py().strftime(fmt)
                last = bounds["max"].as_py().strftime(fmt)
        return {
            "root": str(self.root),
            "counts": self.counts(),
            "time_span": {"first": first, "last": last},
            "top_authors": _top(posts.column(PostCol.AUTHOR), top, "author", "posts"),
            "reject_reasons": _top(
                self.read_arrow(Table.REJECTS, [RejectCol.REASON]).column(0),
                top,
                "reason",
                "count",
            ),
            "imports": self.imported_files(),
            "deletions": self.deleted(),
        }

    def deleted(self) -> list[dict[str, Any]]:
        """Return, per collection, the delete events the store holds and how many of them name a
        record the store keeps (a post, or a like's interaction): the records they mark.

        Examples
        --------
        >>> import tempfile
        >>> Store(tempfile.mkdtemp()).deleted()
        []
        """
        rows = self.read_arrow(
            Table.DELETIONS, [DeletionCol.PLATFORM, DeletionCol.RECORD_ID, DeletionCol.COLLECTION]
        )
        if not rows.num_rows:
            return []
        kept = pa.chunked_array(
            [
                *self.read_arrow(Table.POSTS, [PostCol.POST_ID]).column(0).chunks,
                *self.read_arrow(Table.INTERACTIONS, [InteractionCol.POST_ID]).column(0).chunks,
            ],
            pa.string(),
        )
        # (record ids are at:// URIs naming their platform's author: one platform's ids
        # never equal another's, so no platform key is needed for the match)
        found = pc.is_in(rows.column(DeletionCol.RECORD_ID), value_set=kept.unique())
        table = (
            pa.table(
                {
                    "collection": rows.column(DeletionCol.COLLECTION),
                    "found": pc.cast(found, pa.int64()),
                }
            )
            .group_by("collection")
            .aggregate([("found", "count"), ("found", "sum")])
        )
        out = [
            {"collection": c, "deletes": int(n), "kept_records": int(k)}
            for c, n, k in zip(
                *(table.column(i).to_pylist() for i in ("collection", "found_count", "found_sum")),
                strict=True,
            )
        ]
        return sorted(out, key=lambda r: r["collection"])

    # -- writing ----------------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        """Return a new write transaction (use as a context manager: commit on success)."""
        return Transaction(self)


def _top(column: pa.ChunkedArray, n: int, key: str, count: str) -> list[dict[str, Any]]:
    """Most frequent values, ties broken by value (deterministic)."""
    if len(column) == 0 or n <= 0:
        return []
    counts = pc.value_counts(column.drop_null()).to_pylist()
    counts.sort(key=lambda r: (-r["counts"], r["values"]))
    return [{key: r["values"], count: r["counts"]} for r in counts[:n]]


class _PartWriter:
    """Stream one table into temporary Parquet files, row group by row group."""

    def __init__(self, folder: Path, table: Table, tx_id: str):
        self.folder = folder
        self.table = table
        self.schema = SCHEMAS[table]
        self.tx_id = tx_id
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.writer: pq.ParquetWriter | None = None
        self.current: Path | None = None
        self.current_rows = 0
        self.done: list[tuple[Path, int]] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        self.rows += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.buffered:
            return
        data = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        if self.writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.current = self.folder / f".tmp-{self.tx_id}-{len(self.done):04d}.parquet"
            self.writer = pq.ParquetWriter(
                self.current,
                self.schema,
                compression="zstd",
                compression_level=1,
                use_dictionary=[str(c) for c in _DICTIONARY[self.table]],
                write_statistics=[str(c) for c in _STATISTICS[self.table]] or False,
            )
            self.current_rows = 0
        self.writer.write_table(data, row_group_size=ROW_GROUP_ROWS)
        self.current_rows += data.num_rows
        if self.current_rows >= PART_ROWS:
            self._close_part()

    def _close_part(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.done.append((self.current, self.current_rows))
            self.writer, self.current = None, None

    def finish(self) -> list[tuple[Path, int]]:
        self._flush()
        self._close_part()
        return self.done

    def abort(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
        for path in [p for p, _ in self.done] + ([self.current] if self.current else []):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then rename."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Transaction:
    """One write to a store: add batches, then commit once (or abort: nothing changes).

    Only one transaction writes at a time (an exclusive lock on ``STORE/.lock``); readers are
    never blocked and see the previous commit until this one's manifest replaces it.
    """

    def __init__(self, store: Store):
        self.store = store
        self.root = store.root
        self._lock_fd: int | None = None
        self.manifest: dict[str, Any] = {}
        self.tx_id = uuid.uuid4().hex[:12]
        self._writers: dict[Table, _PartWriter] = {}
        self._seen_posts: dict[str | None, IdSet] | None = None
        self._seen_follows: set[tuple[str, str]] | None = None
        self._seen_edges: dict[str, IdSet] = {}  # kind -> ids of post-less interactions
        self._accounts: pa.Table | None = None
        self._new_accounts: list[pa.Table] = []
        self._new_account_rows = 0
        self._merged_account_rows = 0  # rows of the last merge, at the head of _new_accounts
        self.account_merges = 0
        self._account_ids: dict[str, str] | None = None
        self._imports: list[dict[str, Any]] = []
        self._dups: list[pa.Table] = []  # duplicate posts: key, author, text hash, file tag
        #: Set by the importer before each file: duplicates are counted per tag.
        self.file_tag = ""
        #: After commit: file tag -> duplicates whose author or text differs from the kept post.
        self.changed_duplicates: dict[str, int] = {}
        self._stored_rejects: dict[tuple[str, str, str], int] | None = None
        self._seen_deletions: set[tuple[str, str]] | None = None
        self._seen_rejects: dict[tuple[str, str, str], int] = {}
        self._scratch: Path | None = None
        self._open = False

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> Transaction:
        self.begin()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def begin(self) -> None:
        """Take the store lock, read the manifest and remove files no manifest lists."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, a read-only folder, /proc
            raise StoreError(
                f"cannot create the store {self.root}: {_why(self.root, exc)}"
            ) from None
        try:
            self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a store folder the user may read but not write
            raise StoreError(
                f"cannot write to the store {self.root}: {_why(self.root, exc)}"
            ) from None
        if not _lock(self._lock_fd):
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StoreError(f"{self.root}: another import is writing to this store") from None
        self.manifest = self.store.manifest()
        self._collect_garbage()
        self._open = True

    def _collect_garbage(self) -> None:
        listed = {p["path"] for parts in self.manifest["tables"].values() for p in parts}
        for t in Table:
            folder = self.root / t.value
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                rel = f"{t.value}/{path.name}"
                # (only files named as this store names its parts: never a user's own Parquet)
                if _STORE_FILE.fullmatch(path.name) and path.is_file() and rel not in listed:
                    path.unlink()
        for path in self.root.glob(f".{MANIFEST}.*.tmp"):
            path.unlink()
        for path in self.root.glob(f"{_SCRATCH}*"):  # left by an import that was killed
            shutil.rmtree(path, ignore_errors=True)

    def scratch(self) -> Path:
        """Return a folder for this transaction's temporary files (worker results).

        It is removed when the transaction ends (commit or abort), or by the next transaction
        if this process is killed.
        """
        if self._scratch is None:
            self._scratch = self.root / f"{_SCRATCH}{self.tx_id}"
            self._scratch.mkdir()
        return self._scratch

    def _release(self) -> None:
        self._open = False
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            os.close(self._lock_fd)
            self._lock_fd = None

    def abort(self) -> None:
        """Discard everything written by this transaction."""
        for writer in self._writers.values():
            writer.abort()
        self._writers.clear()
        self._release()

    # -- adding rows ------------------------------------------------------------------------------
    def _writer(self, table: Table) -> _PartWriter:
        w = self._writers.get(table)
        if w is None:
            w = self._writers[table] = _PartWriter(self.root / table.value, table, self.tx_id)
        return w

    def append(self, table: Table, rows: pa.Table | None) -> int:
        """Append rows to ``table`` as given (interactions, rejects); return the count."""
        if rows is None or rows.num_rows == 0:
            return 0
        table = Table(table)
        self._writer(table).write(conform_arrow(rows, table))
        return rows.num_rows

    def _post_keys(self) -> dict[str | None, IdSet]:
        if self._seen_posts is None:
            seen: dict[str | None, IdSet] = {}
            existing = self.store.read_arrow(Table.POSTS, [PostCol.PLATFORM, PostCol.POST_ID])
            self._seen_posts = seen
            self._first_seen(existing.column(0), existing.column(1))
        return self._seen_posts

    def _first_seen(self, platforms: pa.ChunkedArray, ids: pa.ChunkedArray) -> np.ndarray:
        """Per row, whether its (platform, post_id) is new; record the new ones."""
        seen = self._seen_posts
        assert seen is not None
        platforms = platforms.combine_chunks() if len(platforms) else pa.array([], pa.string())
        ids = ids.combine_chunks() if len(ids) else pa.array([], pa.string())
        values = pc.unique(platforms).to_pylist()
        if len(values) == 1:
            return seen.setdefault(values[0], IdSet()).first_seen(ids)
        keep = np.zeros(len(ids), dtype=bool)
        for value in values:
            rows = pc.is_null(platforms) if value is None else pc.equal(platforms, value)
            rows = pc.indices_nonzero(pc.fill_null(rows, False))
            keep[rows.to_numpy()] = seen.setdefault(value, IdSet()).first_seen(ids.take(rows))
        return keep

    def add_posts(self, posts: pa.Table | None) -> tuple[pa.Table, int]:
        """Append the posts not seen before; return ``(kept posts, number of duplicates)``.

        The first row seen with a given ``(platform, post_id)`` wins, in the store or earlier in
        this transaction or earlier in ``posts``.
        """
        if posts is None or posts.num_rows == 0:
            return SCHEMAS[Table.POSTS].empty_table(), 0
        posts = self._resolve_post_ids(conform_arrow(posts, Table.POSTS))
        self._post_keys()
        keep = self._first_seen(posts.column(PostCol.PLATFORM), posts.column(PostCol.POST_ID))
        duplicates = posts.num_rows - int(keep.sum())
        if duplicates:
            self._dups.append(_duplicate_rows(posts.filter(pa.array(~keep)), self.file_tag))
            posts = posts.filter(pa.array(keep))
        self._writer(Table.POSTS).write(posts)
        _test_point("rows-written", self)
        return posts, duplicates

    def add_rejects(self, rejects: pa.Table | None) -> tuple[pa.Table, int]:
        """Append the rejects not already in the store; return ``(kept, number of duplicates)``.

        The same reject is the same ``(source_file, reason, raw)`` seen as often: the k-th row
        with that key in this transaction is kept only if the store holds fewer than k
        (the module docstring says why).
        """
        if rejects is None or rejects.num_rows == 0:
            return SCHEMAS[Table.REJECTS].empty_table(), 0
        rejects = conform_arrow(rejects, Table.REJECTS)
        if self._stored_rejects is None:
            stored: dict[tuple[str, str, str], int] = {}
            old = self.store.read_arrow(
                Table.REJECTS, [RejectCol.SOURCE_FILE, RejectCol.REASON, RejectCol.RAW]
            )
            for key in zip(*(c.to_pylist() for c in old.columns), strict=True):
                stored[key] = stored.get(key, 0) + 1
            self._stored_rejects = stored
        stored, seen = self._stored_rejects, self._seen_rejects
        keep = []
        columns = (RejectCol.SOURCE_FILE, RejectCol.REASON, RejectCol.RAW)
        for key in zip(*(rejects.column(c).to_pylist() for c in columns), strict=True):
            n = seen[key] = seen.get(key, 0) + 1
            keep.append(n > stored.get(key, 0))
        duplicates = len(keep) - sum(keep)
        if duplicates:
            rejects = rejects.filter(pa.array(keep))
        self._writer(Table.REJECTS).write(rejects)
        return rejects, duplicates

    def add_deletions(self, rows: pa.Table | None) -> tuple[pa.Table, int]:
        """Append delete events not seen before (by platform and the deleted record's id);
        return ``(kept, duplicates)``. The deleted records stay where they are: the table marks
        them (a re-imported file's deletes are kept once)."""
        if rows is None or rows.num_rows == 0:
            return SCHEMAS[Table.DELETIONS].empty_table(), 0
        rows = conform_arrow(rows, Table.DELETIONS)
        if self._seen_deletions is None:
            old = self.store.read_arrow(
                Table.DELETIONS, [DeletionCol.PLATFORM, DeletionCol.RECORD_ID]
            )
            self._seen_deletions = set(zip(*(c.to_pylist() for c in old.columns), strict=True))
        seen = self._seen_deletions
        add = seen.add
        keys = zip(
            rows.column(DeletionCol.PLATFORM).to_pylist(),
            rows.column(DeletionCol.RECORD_ID).to_pylist(),
            strict=True,
        )
        keep = [not (k in seen or add(k)) for k in keys]
        duplicates = len(keep) - sum(keep)
        if duplicates:
            rows = rows.filter(pa.array(keep))
        self._writer(Table.DELETIONS).write(rows)
        return rows, duplicates

    def _follow_keys(self) -> set[tuple[str, str]]:
        if self._seen_follows is None:
            existing = self.store.read_arrow(
                Table.FOLLOWS, [FollowCol.FOLLOWER, FollowCol.FOLLOWEE]
            )
            self._seen_follows = set(
                zip(existing.column(0).to_pylist(), existing.column(1).to_pylist(), strict=True)
            )
        return self._seen_follows

    def add_follows(self, follows: pa.Table | None) -> tuple[pa.Table, int]:
        """Append follows not seen before (by follower, followee); return (kept, duplicates).

        A follower or followee written ``id:NNN`` (only the account id was known) is replaced by
        the handle when the store's or this transaction's accounts know that id.
        """
        if follows is None or follows.num_rows == 0:
            return SCHEMAS[Table.FOLLOWS].empty_table(), 0
        follows = self._resolve_ids(conform_arrow(follows, Table.FOLLOWS))
        seen = self._follow_keys()
        pairs = zip(
            follows.column(FollowCol.FOLLOWER).to_pylist(),
            follows.column(FollowCol.FOLLOWEE).to_pylist(),
            strict=True,
        )
        add = seen.add
        keep = [i for i, p in enumerate(pairs) if not (p in seen or add(p))]
        duplicates = follows.num_rows - len(keep)
        if duplicates:
            follows = follows.take(pa.array(keep, type=pa.int64()))
        self._writer(Table.FOLLOWS).write(follows)
        return follows, duplicates

    def add_interactions(self, rows: pa.Table | None) -> tuple[pa.Table, int]:
        """Append interactions that come from no post (likes); return ``(kept, duplicates)``.

        A row with a ``post_id`` (the like's own id, e.g. its ``at://`` URI) is kept once per
        ``(kind, post_id)``, in the store, earlier in this transaction or earlier in ``rows``;
        a row without one is always kept.
        """
        if rows is None or rows.num_rows == 0:
            return SCHEMAS[Table.INTERACTIONS].empty_table(), 0
        rows = conform_arrow(rows, Table.INTERACTIONS)
        kinds = rows.column(InteractionCol.KIND).combine_chunks()
        ids = rows.column(InteractionCol.POST_ID).combine_chunks()
        keep = np.ones(rows.num_rows, dtype=bool)
        for kind in pc.unique(kinds).to_pylist():
            sel = pc.fill_null(pc.and_(pc.equal(kinds, kind), pc.is_valid(ids)), False)
            idx = pc.indices_nonzero(sel)
            if len(idx):
                keep[idx.to_numpy()] = self._edge_ids(kind).first_seen(ids.take(idx))
        duplicates = rows.num_rows - int(keep.sum())
        if duplicates:
            rows = rows.filter(pa.array(keep))
        self._writer(Table.INTERACTIONS).write(rows)
        return rows, duplicates

    def _edge_ids(self, kind: str) -> IdSet:
        """The post ids of the store's interactions of ``kind`` (loaded once per kind)."""
        if kind not in self._seen_edges:
            seen = self._seen_edges[kind] = IdSet()
            for part in self.store.iter_parts(
                Table.INTERACTIONS, [InteractionCol.KIND, InteractionCol.POST_ID]
            ):
                ids = part.column(1).filter(pc.fill_null(pc.equal(part.column(0), kind), False))
                seen.first_seen(ids.drop_null())
        return self._seen_edges[kind]

    def _ids(self) -> dict[str, str]:
        """Account id -> handle, from the store's accounts and those added so far."""
        if self._account_ids is None:
            ids: dict[str, str] = {}
            for acc in [self._existing_accounts(), *self._new_accounts]:
                handles = acc.column(AccountCol.HANDLE).to_pylist()
                account_ids = acc.column(AccountCol.ACCOUNT_ID).to_pylist()
                for h, i in zip(handles, account_ids, strict=True):
                    if i is not None and h is not None:
                        ids.setdefault(i, h)
            self._account_ids = ids
        return self._account_ids

    def _resolve_ids(self, follows: pa.Table) -> pa.Table:
        for col in (FollowCol.FOLLOWER, FollowCol.FOLLOWEE):
            values = follows.column(col).to_pylist()
            if not any(v.startswith("id:") for v in values if v):
                continue
            ids = self._ids()
            fixed = [ids.get(v[3:], v) if v and v.startswith("id:") else v for v in values]
            idx = follows.schema.get_field_index(col)
            follows = follows.set_column(idx, col, pa.array(fixed, pa.string()))
        return follows

    def _resolve_post_ids(self, posts: pa.Table) -> pa.Table:
        """Posts with an author or target written ``id:NNN`` (a suspended author missing from
        ``includes.users``, an archive reply known only by the replied-to account's id) by
        handle where the store's or this transaction's accounts know that id."""
        for col in (PostCol.AUTHOR, PostCol.TARGET_AUTHOR):
            values = posts.column(col)
            by_id = pc.fill_null(pc.starts_with(values, "id:"), False)
            if not pc.any(by_id).as_py():
                continue
            ids = self._ids()
            fixed = [
                ids.get(v[3:], v) if flag else v
                for v, flag in zip(values.to_pylist(), by_id.to_pylist(), strict=True)
            ]
            idx = posts.schema.get_field_index(col)
            posts = posts.set_column(idx, col, pa.array(fixed, pa.string()))
        return posts

    def _existing_accounts(self) -> pa.Table:
        if self._accounts is None:
            self._accounts = self.store.read_arrow(Table.ACCOUNTS)
        return self._accounts

    def add_accounts(self, accounts: pa.Table | None) -> int:
        """Queue accounts for the merge at commit; return the number of rows given."""
        if accounts is None or accounts.num_rows == 0:
            return 0
        accounts = conform_arrow(accounts, Table.ACCOUNTS)
        self._new_accounts.append(accounts)
        self._new_account_rows += accounts.num_rows
        # keep memory flat: merge as we go, but only once the rows queued since the last merge
        # outnumber its result (merging a million accounts for every batch made 10^7 tweets
        # import ten times slower than 10^6)
        queued = self._new_account_rows - self._merged_account_rows
        if queued > max(ACCOUNT_COMPACT_ROWS, self._merged_account_rows):
            self._new_accounts = [merge_accounts(self._new_accounts)]
            self._new_account_rows = self._merged_account_rows = self._new_accounts[0].num_rows
            self.account_merges += 1
        if self._account_ids is not None:
            for h, i in zip(
                accounts.column(AccountCol.HANDLE).to_pylist(),
                accounts.column(AccountCol.ACCOUNT_ID).to_pylist(),
                strict=True,
            ):
                if i is not None:
                    self._account_ids.setdefault(i, h)
        return accounts.num_rows

    # -- imported files ---------------------------------------------------------------------------
    def has_file(self, sha256: str, fmt: str | None = None) -> bool:
        """Return True if a file with this sha256 (read as format ``fmt``, if given) is in the
        store or in this transaction: a file read in another format (a wrong ``--format``, its
        rows all rejects) is not the same import."""
        return any(
            r["sha256"] == sha256 and fmt in (None, r["format"])
            for r in self.manifest["imports"] + self._imports
        )

    def file_imports(self, sha256: str, fmt: str) -> list[dict[str, Any]]:
        """Return the records of the imports of a file with this sha256 read as format ``fmt``,
        in the store and in this transaction (their ``options``, where recorded, and ``rows``)."""
        return [
            r
            for r in self.manifest["imports"] + self._imports
            if r["sha256"] == sha256 and r["format"] == fmt
        ]

    def has_size(self, size: int) -> bool:
        """Return True if a file of this byte size was imported (only then can a hash match)."""
        return any(r.get("size") == size for r in self.manifest["imports"] + self._imports)

    def record_import(self, record: dict[str, Any]) -> None:
        """Record an imported file (path, sha256, format, size, row counts) in the manifest."""
        self._imports.append(dict(record))

    # -- commit -----------------------------------------------------------------------------------
    def _compare_duplicates(self) -> None:
        """Count the duplicate posts whose author or text differs from the kept version, per
        file tag, and drop the queued account rows of their authors that nothing else names.

        Costs nothing without duplicates; with them, one read of the posts' ids, authors and
        texts (the store's parts and this transaction's), at commit.
        """
        if not self._dups:
            self._count_shared_posts(None, None)
            return
        dups = pa.concat_tables(self._dups).combine_chunks()
        self._dups = []
        keys = dups["key"].chunk(0)
        paths = self.store.part_paths(Table.POSTS) + self._new_parts(Table.POSTS)
        parts = list(_posts_with_keys(paths, keys))
        found = [_duplicate_rows(part, "") for part in parts]
        if not found:  # (cannot happen: a duplicate's first version is stored)
            self._count_shared_posts(None, None)
            return
        first = pa.concat_tables(found).combine_chunks()  # (one row per key, as stored)
        at = pc.index_in(keys, value_set=first["key"].combine_chunks())
        sources = pa.chunked_array([p.column(PostCol.SOURCE_FILE) for p in parts], pa.string())
        self._count_shared_posts(dups.select(["key", "tag"]), sources.take(at))
        author_changed = pc.fill_null(
            pc.not_equal(dups[PostCol.AUTHOR], first[PostCol.AUTHOR].take(at)), True
        )
        text_changed = pc.not_equal(dups["text_hash"], first["text_hash"].take(at))
        changed = pc.fill_null(pc.or_(author_changed, text_changed), False)
        counts = pc.value_counts(dups["tag"].filter(changed)).to_pylist()
        self.changed_duplicates = {c["values"]: c["counts"] for c in counts}
        new_authors = set(dups[PostCol.AUTHOR].filter(author_changed).to_pylist()) - {None}
        stray = new_authors - set(_handles(self._existing_accounts()))
        if stray and self._new_accounts:
            stray -= self._named_here(stray)
            value_set = pa.array(sorted(h for h in stray if h is not None), pa.string())
            self._new_accounts = [
                t.filter(pc.invert(pc.fill_null(pc.is_in(t[AccountCol.HANDLE], value_set), False)))
                for t in self._new_accounts
            ]

    def _count_shared_posts(
        self, dups: pa.Table | None, first_sources: pa.ChunkedArray | None
    ) -> None:
        """Record, in this transaction's import records, each file's distinct posts and how many
        of them no other imported file holds (``posts: {distinct, only_here}``).

        ``dups`` holds the key and file tag of each duplicate post row of this transaction,
        ``first_sources`` the ``source_file`` of the stored (first) version of each. A post is
        in another file when a file other than its own holds it: its first version came from
        another file, or another file repeated it. Counted against the files imported before
        and with this one: a file imported in an earlier transaction keeps its own counts (a
        later file repeating its posts does not lower them). No read of the data beyond the one
        that :meth:`_compare_duplicates` makes of the duplicates' first versions.
        """
        posts = [r for r in self._imports if "rows" in r]
        if not posts:
            return
        tags = {str(r["path"]) for r in self.manifest.get("imports", [])} | {
            str(r["path"]) for r in posts
        }
        also: dict[str, int] = {}  # file -> its distinct posts first stored from another file
        repeated: dict[str, int] = {}  # file -> its first-stored posts another file repeats
        if dups is not None and first_sources is not None and dups.num_rows:
            frame = pd.DataFrame(
                {
                    "key": dups["key"].to_pylist(),
                    "file": dups["tag"].to_pylist(),
                    "first": [_file_of(s, tags) for s in first_sources.to_pylist()],
                }
            ).drop_duplicates(["key", "file"])
            other = frame[frame["file"] != frame["first"]]
            also = other.groupby("file")["key"].nunique().to_dict()
            repeated = other.groupby("first")["key"].nunique().to_dict()
        for r in posts:
            tag = str(r["path"])
            kept = int(r["rows"].get("posts", 0))
            r["posts"] = {
                "distinct": kept + int(also.get(tag, 0)),
                "only_here": kept - int(repeated.get(tag, 0)),
            }

    def _new_parts(self, table: Table) -> list[Path]:
        """This transaction's (temporary) part files of ``table``, closed so they can be read."""
        writer = self._writers.get(table)
        return [p for p, _ in writer.finish()] if writer is not None else []

    def _named_here(self, handles: set[str]) -> set[str]:
        """Those of ``handles`` that a post or interaction added in this transaction names."""
        value_set = pa.array(sorted(handles), pa.string())
        named: set[str] = set()
        for table, cols in (
            (Table.POSTS, [PostCol.AUTHOR]),
            (Table.INTERACTIONS, [InteractionCol.SOURCE, InteractionCol.TARGET]),
        ):
            for part in _read_parts(self._new_parts(table), table, cols):
                for col in part.columns:
                    named.update(col.filter(pc.is_in(col, value_set)).to_pylist())
        return named

    def _merged_accounts(self) -> pa.Table | None:
        if not self._new_accounts:
            return None
        return merge_accounts([self._existing_accounts(), *self._new_accounts])

    def commit(self) -> None:
        """Make everything added visible at once (parts renamed, then the manifest replaced)."""
        if not self._open:
            raise StoreError(f"{self.root}: transaction is not open")
        try:
            self._compare_duplicates()
            accounts = self._merged_accounts()
            if accounts is not None:
                writer = self._writer(Table.ACCOUNTS)
                writer.write(accounts)
            manifest = self.manifest
            seq = int(manifest.get("next_part", 1))
            replaced: list[str] = []
            for table in Table:
                writer = self._writers.get(table)
                if writer is None:
                    continue
                parts = []
                for tmp, rows in writer.finish():
                    sha = _sha256(tmp)
                    _fsync(tmp)
                    final = tmp.with_name(f"part-{seq:06d}-{sha[:8]}.parquet")
                    seq += 1
                    os.replace(tmp, final)
                    parts.append(
                        {"path": f"{table.value}/{final.name}", "rows": rows, "sha256": sha}
                    )
                if table is Table.ACCOUNTS and accounts is not None:
                    replaced += [p["path"] for p in manifest["tables"][table.value]]
                    manifest["tables"][table.value] = parts
                else:  # (a store written before a table existed lacks its key)
                    manifest["tables"].setdefault(table.value, []).extend(parts)
            manifest["imports"] = manifest["imports"] + self._imports
            manifest["next_part"] = seq
            body = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            _test_point("before-manifest")
            _write_atomic(self.root / MANIFEST, body + b"\n")
        except BaseException:
            self.abort()
            raise
        self._writers.clear()
        for rel in replaced:
            with contextlib.suppress(FileNotFoundError):
                (self.root / rel).unlink()
        self._release()


def _post_key(posts: pa.Table) -> pa.Array:
    """``platform`` + U+001F + ``post_id`` of each post (the de-duplication key)."""
    platform = pc.fill_null(posts.column(PostCol.PLATFORM), "")
    return pc.binary_join_element_wise(platform, posts.column(PostCol.POST_ID), "\x1f")


def _duplicate_rows(posts: pa.Table, tag: str) -> pa.Table:
    """Key, author and a 64-bit hash of the text of posts (what a re-collection may change)."""
    # (an Arrow-backed Series: no Python strings; the same hashes as for object strings)
    texts = pd.Series(posts.column(PostCol.TEXT), dtype=pd.ArrowDtype(pa.string()))
    text_hash = pd.util.hash_pandas_object(texts, index=False).to_numpy()
    return pa.table(
        {
            "key": _post_key(posts),
            PostCol.AUTHOR.value: posts.column(PostCol.AUTHOR),
            "text_hash": pa.array(text_hash, pa.uint64()),
            "tag": pa.repeat(pa.scalar(tag, pa.string()), posts.num_rows),
        }
    )


def _file_of(source: str | None, files: set[str]) -> str | None:
    """The imported file a post's ``source_file`` names: itself, or the archive before a ``!``.

    Examples
    --------
    >>> _file_of("/d/a.zip!data/tweets.js", {"/d/a.zip", "/d/b.csv"})
    '/d/a.zip'
    """
    if source is None or source in files:
        return source
    for i, c in enumerate(source):
        if c == "!" and source[:i] in files:
            return source[:i]
    return source


def _read_parts(paths: list[Path], table: Table, columns: list[str]) -> Iterator[pa.Table]:
    schema = pa.schema([SCHEMAS[table].field(str(c)) for c in columns])
    for path in paths:
        yield pq.read_table(path, columns=schema.names, schema=schema)


def _posts_with_keys(paths: list[Path], keys: pa.Array) -> Iterator[pa.Table]:
    """The posts (platform, post_id, author, text, source_file) of the part files whose key is
    in ``keys``; texts are read only from the row groups that hold one."""
    ids = [PostCol.PLATFORM.value, PostCol.POST_ID.value]
    cols = [*ids, PostCol.AUTHOR.value, PostCol.TEXT.value, PostCol.SOURCE_FILE.value]
    for path in paths:
        try:
            pf = pq.ParquetFile(path)
            for rg in range(pf.num_row_groups):
                hit = pc.is_in(_post_key(pf.read_row_group(rg, columns=ids)), keys)
                if pc.any(hit).as_py():
                    yield pf.read_row_group(rg, columns=cols).filter(hit)
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path}: cannot read committed part ({exc})") from None


def _handles(accounts: pa.Table) -> list[str]:
    return accounts.column(AccountCol.HANDLE).to_pylist()


def _test_point(name: str, tx: Transaction | None = None) -> None:
    """Crash-test hook: ``NETSUPPORT_TEST_KILL=<name>`` kills this process with SIGKILL there
    (``<name>:TERM``: sends it SIGTERM, as ``kill PID`` or a service manager would).

    Points: ``rows-written`` (after the first rows reach a temporary part file on disk) and
    ``before-manifest`` (every part renamed to its final name, manifest not yet replaced); a run
    adds its own (:func:`netsupport.study._test_point`). The recovery tests use it to interrupt
    an import or a run at the worst moments; it costs one dict lookup.
    """
    point, _, how = os.environ.get("NETSUPPORT_TEST_KILL", "").partition(":")
    if point != name:
        return
    if how == "TERM":
        os.kill(os.getpid(), signal.SIGTERM)
        return
    if tx is not None:
        for writer in tx._writers.values():
            writer._flush()
            if writer.writer is not None:
                writer.writer.close()  # make sure the partial part is really on disk
                writer.writer = None
    os.kill(os.getpid(), signal.SIGKILL)
