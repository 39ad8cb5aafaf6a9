"""The Dask engine's partition plan and its tasks: the store cut into day partitions, one task each.

:func:`plan_partitions` cuts the posts and interactions part files into one partition per UTC
day of ``created_at``, from the row groups' statistics (busy days are cut into equal parts of a
day, rows with no time form one partition of their own). :func:`read_partition` reads one
table's rows of a partition: only the row groups whose statistics overlap its interval, decoded
once per worker process and kept for the next partitions. :func:`partition_tasks` makes one
delayed task per partition, which reads its rows where it runs and works on them, so no frame
moves between workers; :func:`_tree` reduces the tasks' results in a tree, and
:func:`_release_memory` hands a task's memory back to the OS. The passes that run as these
tasks are in :mod:`netsupport.scale.aggregate`.

Examples
--------
>>> ceil_div(7, 2), ceil_div(8, 2)
(4, 4)
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..schema import SCHEMAS, InteractionCol, Table
from ..stance import POST_COLUMNS
from ..store import Store, to_pandas

#: A day holding more rows than this (posts or interactions, estimated from row-group
#: statistics) is cut into equal parts of a day.
DEFAULT_PARTITION_ROWS = 200_000

_DAY_NS = 86_400 * 10**9

_POST_COLUMNS = POST_COLUMNS  # the columns the pandas engine reads, too

_SEQ = "_seq"


def ceil_div(a: int, b: int) -> int:
    """Return ``ceil(a / b)`` for non-negative integers."""
    return -(-a // b)


@dataclass(frozen=True)
class Piece:
    """One Parquet row group of a table's part file, with its ``created_at`` statistics."""

    path: str
    row_group: int
    part: int  # index of the part file in commit order
    offset: int  # row offset of the row group inside its part file
    rows: int
    lo: int | None  # min created_at, ns since the epoch (None: no statistics)
    hi: int | None
    nulls: bool  # the row group may hold rows without created_at

    def overlaps(self, start: int, end: int) -> bool:
        if self.lo is None or self.hi is None:
            return self.rows > 0
        return self.lo < end and self.hi >= start

    def share(self, start: int, end: int) -> float:
        """Estimated rows inside ``[start, end)`` (rows spread evenly between min and max)."""
        if not self.overlaps(start, end):
            return 0.0
        if self.lo is None or self.hi is None or self.hi <= self.lo:
            return float(self.rows)
        inside = min(end, self.hi + 1) - max(start, self.lo)
        return self.rows * max(0, inside) / (self.hi + 1 - self.lo)


@dataclass(frozen=True)
class Partition:
    """A time interval ``[start, end)`` (ns, UTC) and the row groups that may hold its rows.

    ``start is None``: the rows without a ``created_at``.
    """

    start: int | None
    end: int | None
    posts: tuple[Piece, ...]
    interactions: tuple[Piece, ...]

    @property
    def label(self) -> str:
        if self.start is None:
            return "no time"
        s = pd.Timestamp(self.start, tz="UTC")
        if self.end is not None and self.end - self.start == _DAY_NS:
            return s.strftime("%Y-%m-%d")
        return s.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Plan:
    """The partitions of a store, and how many rows they read (row groups spanning several
    partitions are read once per partition)."""

    partitions: tuple[Partition, ...]
    rows: dict[str, int]
    reads: dict[str, int]

    @property
    def overread(self) -> float:
        """Rows read / rows stored (1.0 when the store is in time order)."""
        total = sum(self.rows.values())
        return sum(self.reads.values()) / total if total else 1.0


def _pieces(store: Store, table: Table) -> list[Piece]:
    out = []
    for k, path in enumerate(store.part_paths(table)):
        meta = pq.ParquetFile(path).metadata
        col = meta.schema.to_arrow_schema().get_field_index(InteractionCol.CREATED_AT.value)
        offset = 0
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            lo = hi = None
            nulls = True
            st = rg.column(col).statistics if col >= 0 else None
            if st is not None and st.has_min_max:
                lo, hi = int(pd.Timestamp(st.min).value), int(pd.Timestamp(st.max).value)
            if st is not None and st.has_null_count:
                nulls = st.null_count > 0
            out.append(Piece(str(path), g, k, offset, rg.num_rows, lo, hi, nulls))
            offset += rg.num_rows
    return out


def plan_partitions(store: Store, max_rows: int = DEFAULT_PARTITION_ROWS) -> Plan:
    """Return the day partitions of a store's posts and interactions (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> plan_partitions(Store(tempfile.mkdtemp())).partitions
    ()
    """
    pieces = {t: _pieces(store, t) for t in (Table.POSTS, Table.INTERACTIONS)}
    allp = [p for ps in pieces.values() for p in ps if p.rows]
    timed = [p for p in allp if p.lo is not None]
    intervals: list[tuple[int | None, int | None]] = []
    if any(p.nulls for p in allp):
        intervals.append((None, None))
    if timed:
        first = min(p.lo for p in timed) // _DAY_NS * _DAY_NS  # type: ignore[operator]
        last = max(p.hi for p in timed)  # type: ignore[type-var]
        day = first
        while day <= last:  # type: ignore[operator]
            est = max(sum(p.share(day, day + _DAY_NS) for p in ps) for ps in pieces.values())
            k = min(24, max(1, math.ceil(est / max_rows)))
            step = _DAY_NS // k
            for j in range(k):
                end = day + _DAY_NS if j == k - 1 else day + (j + 1) * step
                intervals.append((day + j * step, end))
            day += _DAY_NS
    parts = []
    reads = {t.value: 0 for t in pieces}
    for start, end in intervals:
        sel = {}
        for t, ps in pieces.items():
            if start is None:
                chosen = tuple(p for p in ps if p.rows and p.nulls)
            else:
                chosen = tuple(p for p in ps if p.overlaps(start, end))  # type: ignore[arg-type]
            sel[t] = chosen
            reads[t.value] += sum(p.rows for p in chosen)
        if sel[Table.POSTS] or sel[Table.INTERACTIONS]:
            parts.append(Partition(start, end, sel[Table.POSTS], sel[Table.INTERACTIONS]))
    rows = {t.value: sum(p.rows for p in ps) for t, ps in pieces.items()}
    return Plan(tuple(parts), rows, reads)


_FILES: dict[str, pq.ParquetFile] = {}


def _parquet(path: str) -> pq.ParquetFile:
    f = _FILES.get(path)
    if f is None:
        if len(_FILES) > 64:
            _FILES.clear()
        f = _FILES[path] = pq.ParquetFile(path)
    return f


#: Decoded row groups kept per worker process: consecutive day partitions read the same row
#: groups (a row group spans several days in a small store), so each is decoded about once.
ROW_GROUP_CACHE_BYTES = 128 * 2**20

_ROW_GROUPS: dict[tuple, pa.Table] = {}


def _row_group(piece: Piece, columns: list[str]) -> pa.Table:
    key = (piece.path, piece.row_group, tuple(columns))
    t = _ROW_GROUPS.pop(key, None)
    if t is None:
        t = _parquet(piece.path).read_row_group(piece.row_group, columns=columns)
    _ROW_GROUPS[key] = t  # most recently used last
    while len(_ROW_GROUPS) > 1 and sum(x.nbytes for x in _ROW_GROUPS.values()) > (
        ROW_GROUP_CACHE_BYTES
    ):
        del _ROW_GROUPS[next(iter(_ROW_GROUPS))]
    return t


def _schema(table: Table, columns: Sequence[str]) -> pa.Schema:
    full = SCHEMAS[table]
    return pa.schema([full.field(str(c)) for c in columns])


def read_partition(
    part: Partition, table: Table | str, columns: Sequence[str], seq: bool = False
) -> pd.DataFrame:
    """Return the rows of one table inside a partition, canonical dtypes (as ``Store.read``).

    With ``seq``, a column ``_seq`` gives each row's position in the store (part file, row), so
    rows from several partitions can be put back in store order.
    """
    table = Table(table)
    columns = [str(c) for c in columns]
    schema = _schema(table, columns)
    pieces = part.posts if table is Table.POSTS else part.interactions
    read_cols = list(dict.fromkeys([*columns, InteractionCol.CREATED_AT.value]))
    chunks = []
    for p in pieces:
        t = _row_group(p, read_cols)
        ts = t.column(InteractionCol.CREATED_AT.value)
        if part.start is None:
            mask = pc.is_null(ts)
        else:
            lo = pa.scalar(pd.Timestamp(part.start, tz="UTC"), type=ts.type)
            hi = pa.scalar(pd.Timestamp(part.end, tz="UTC"), type=ts.type)
            mask = pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi))
            mask = pc.fill_null(mask, False)
        if seq:
            pos = np.arange(p.offset, p.offset + t.num_rows, dtype=np.int64) + (p.part << 40)
            t = t.append_column(_SEQ, pa.array(pos))
        t = t.filter(mask)
        if t.num_rows:
            chunks.append(t)
    if not chunks:
        out = to_pandas(schema.empty_table())
        if seq:
            out[_SEQ] = pd.Series([], dtype="int64")
        return out
    t = pa.concat_tables(chunks)
    arrays = [t.column(c).cast(schema.field(c).type) for c in columns]
    out = to_pandas(pa.Table.from_arrays(arrays, schema=schema))
    if seq:
        out[_SEQ] = t.column(_SEQ).to_numpy()
    return out


def _on_partition(
    fn: Callable[..., Any],
    part: Partition,
    posts: Sequence[str] | None,
    inter: Sequence[str] | None,
    seq: bool,
    account_map: Mapping[str, str] | None,
    *args: Any,
) -> Any:
    """Run ``fn(posts, inter, *args)`` (or ``fn(posts, *args)`` without ``inter``) on the rows
    of one partition, read here: one task per partition, so the worker that reads a partition's
    rows is the one that uses them (no frame is moved between workers), and the memory they
    take is handed back once the task is done. With an ``account_map`` (the study's), the rows
    are first mapped as the pandas engine maps its tables
    (:func:`netsupport.accountmap.apply_account_map`)."""
    try:
        tables = [Table.POSTS] if posts is not None else []
        frames = [read_partition(part, Table.POSTS, posts, seq)] if posts is not None else []
        if inter is not None:
            tables.append(Table.INTERACTIONS)
            frames.append(read_partition(part, Table.INTERACTIONS, inter, seq))
        if account_map:
            from ..accountmap import apply_account_map

            mapped = apply_account_map(dict(zip(tables, frames, strict=True)), account_map)
            frames = [mapped[t] for t in tables]
        return fn(*frames, *args)
    finally:
        _release_memory()


def partition_tasks(
    plan: Plan,
    fn: Callable[..., Any],
    posts: Sequence[str] | None,
    inter: Sequence[str] | None,
    *args: Any,
    seq: bool = False,
    named: bool = False,
    account_map: Mapping[str, str] | None = None,
) -> list[Any]:
    """One delayed ``fn`` per partition of ``plan`` (see :func:`_on_partition`); ``named``:
    the partition's name (``00007``) is passed last; ``account_map``: the study's, applied to
    the rows read (shipped to the cluster once)."""
    import dask

    pc_ = [str(c) for c in posts] if posts is not None else None
    ic_ = [str(c) for c in inter] if inter is not None else None
    amap = dask.delayed(dict(account_map), pure=True) if account_map else None
    return [
        dask.delayed(_on_partition, pure=True)(
            fn, part, pc_, ic_, seq, amap, *args, *([f"{k:05d}"] if named else [])
        )
        for k, part in enumerate(plan.partitions)
    ]


def _tree(items: list[Any], combine: Callable[[list[Any]], Any], width: int = 8) -> Any:
    """Reduce delayed ``items`` with ``combine`` in a tree of fan-in ``width``."""
    import dask

    level = list(items)
    while len(level) > 1:
        level = [
            dask.delayed(combine, pure=True)(level[i : i + width])
            for i in range(0, len(level), width)
        ]
    return level[0]


def _release_memory() -> None:
    """Hand memory freed by a partition back to the OS. A worker process otherwise keeps the
    peak of every partition it ran (glibc's and Arrow's allocators hold on to freed pages), and
    Dask restarts a worker whose process memory passes 95% of its limit, losing its results."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _released(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn``, then :func:`_release_memory` (a partition task)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            _release_memory()

    run.__name__ = fn.__name__
    return run
