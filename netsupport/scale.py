"""Scale-out with Dask: a study's aggregates computed in parallel over the Parquet store.

``netsupport run study.toml --engine dask [--scheduler ADDRESS]`` runs the same study as the
default (pandas) engine, with the heavy steps moved to a Dask cluster: a local one (two worker
processes) when no scheduler is given, an existing one with ``--scheduler``. The cluster reads
the store and returns only aggregates, which are small (per account, per edge, per window); the
single-machine code takes them from there (communities, PageRank, the metrics, the report). The
stance decisions equal the pandas engine's exactly, the study's stance model included
(tests/test_scale.py compares the stance table byte for byte, and the metrics), and so is the
decisions' cross-validated error (measured on the driver); the error-corrected shares, the
sensitivity grid and role timing are left to the pandas engine (metrics.json says so). The run
reaches this module only through :class:`netsupport.engine.DaskEngine`, which computes the
steps the runner (:mod:`netsupport.study`) wires; this module knows nothing of the steps or
their cache. docs/scale.md explains the design; in short:

1. **Plan** (:func:`plan_partitions`). The posts and interactions part files are cut into one
   partition per UTC day of ``created_at`` (busy days are cut into equal parts of a day, rows
   with no time form one partition of their own). Each pass is one task per partition
   (:func:`partition_tasks`), which reads only the Parquet row groups whose statistics overlap
   its interval, keeps the rows inside it and works on them, so no rows move between workers; a
   post and the interactions it gave (which carry its time) meet in the same partition.
2. **Scan** (pass 0). Per partition: hashes of the post ids seen, marker hits, the focal and
   institution accounts' own posts, posts per window. The driver finds the *conflicts*: post ids
   (and, for rows without a post id, interaction keys) that occur in more than one partition, as
   when an edge list gives a post another time than the post itself. Their rows are not
   aggregated in the partitions but collected and processed together on the driver, so
   de-duplication, the text lookup and the one-unit-per-post rule see all of a post's rows, as
   the pandas engine does. Usually there are none. With hand codes the scan also collects every
   row of the coded posts: the driver classifies them and trains the study's stance model on
   them (:func:`netsupport.stance.supervised.study_model`, as the pandas engine trains it; its
   skops file in the run's ``models/`` folder), which each worker loads once.
3. **Aggregate** (pass 1). Per partition, with the very functions the pandas engine uses: the
   study's interactions (:func:`netsupport.stance.stance_interactions`, marker edges included),
   their stance (:meth:`netsupport.stance.Classifier.classify`: each distinct text scored once
   per worker, which keeps the scores between its partitions; then the stance model's decision
   on every row not hand-coded, :func:`netsupport.stance.model.apply_model`), hand labels, one
   unit per post
   and side (:func:`netsupport.support.post_units`), then the reductions: units counted per
   account, side, window, stance and time bins (:func:`unit_bins`,
   :func:`netsupport.support.compress_units`), edges per window
   (:func:`netsupport.graph.aggregate_edges`), rows per window, the ties with the focal
   account, rule counts, and the few post-level rows some measures need (supportive posts
   in the focal account's silence, crisis posts that may be the most answered). Partition
   results are merged in a tree of sums (counts add up; first times take the minimum).
4. **Reach** (pass 2). Which accounts answered, reposted or quoted the candidate posts: distinct
   (post, account) pairs, for the proxies and the report's most-answered posts.

Everything that is added up is an integer, so the order of partitions does not change a result;
edge weights are sums of the interactions' weights (1.0 from every importer), exact as long as
those are whole numbers.

Examples
--------
>>> ceil_div(7, 2), ceil_div(8, 2)
(4, 4)
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import NetsupportError
from .schema import SCHEMAS, IKind, InteractionCol, PostCol, Table, Target, Window
from .stance import POST_COLUMNS
from .store import Store, to_pandas
from .support.platforms import combine_platform_parts, deleted_ids, platform_parts, platform_table
from .windows import Windows

__all__ = [
    "DEFAULT_PARTITION_ROWS",
    "Partition",
    "Piece",
    "Plan",
    "StudyAggregates",
    "aggregate_study",
    "ceil_div",
    "dask_client",
    "plan_partitions",
]

#: A day holding more rows than this (posts or interactions, estimated from row-group
#: statistics) is cut into equal parts of a day.
DEFAULT_PARTITION_ROWS = 200_000
#: Worker processes of the local cluster, and the share of memory each may use at most.
LOCAL_WORKERS = 2
LOCAL_WORKER_MEMORY = 3 * 2**30
_DAY_NS = 86_400 * 10**9
_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_WINDOWS = tuple(w.value for w in Window)
_POST_COLUMNS = POST_COLUMNS  # the columns the pandas engine reads, too
_KEY = [InteractionCol.POST_ID, InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND]
_SEQ = "_seq"


def ceil_div(a: int, b: int) -> int:
    """Return ``ceil(a / b)`` for non-negative integers."""
    return -(-a // b)


# ---- plan: partitions by day ---------------------------------------------------------------------


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
    *args: Any,
) -> Any:
    """Run ``fn(posts, inter, *args)`` (or ``fn(posts, *args)`` without ``inter``) on the rows
    of one partition, read here: one task per partition, so the worker that reads a partition's
    rows is the one that uses them (no frame is moved between workers), and the memory they
    take is handed back once the task is done."""
    try:
        frames = [read_partition(part, Table.POSTS, posts, seq)] if posts is not None else []
        if inter is not None:
            frames.append(read_partition(part, Table.INTERACTIONS, inter, seq))
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
) -> list[Any]:
    """One delayed ``fn`` per partition of ``plan`` (see :func:`_on_partition`); ``named``:
    the partition's name (``00007``) is passed last."""
    import dask

    pc_ = [str(c) for c in posts] if posts is not None else None
    ic_ = [str(c) for c in inter] if inter is not None else None
    return [
        dask.delayed(_on_partition, pure=True)(
            fn, part, pc_, ic_, seq, *args, *([f"{k:05d}"] if named else [])
        )
        for k, part in enumerate(plan.partitions)
    ]


# ---- hashing -----------------------------------------------------------------------------------


def _hash(values: pd.Series) -> np.ndarray:
    """64-bit hashes of strings (stable across processes)."""
    return pd.util.hash_array(values.to_numpy(dtype=object, na_value=None))


def _key_hash(df: pd.DataFrame) -> np.ndarray:
    cols = [InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND]
    return pd.util.hash_pandas_object(
        df[cols].astype(object).where(df[cols].notna(), None), index=False
    ).to_numpy()


def _isin(hashes: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    if len(sorted_set) == 0 or len(hashes) == 0:
        return np.zeros(len(hashes), dtype=bool)
    i = np.searchsorted(sorted_set, hashes)
    i[i == len(sorted_set)] = 0
    return sorted_set[i] == hashes


# ---- the context shipped to the workers ---------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """What a partition task needs to know about the study (picklable)."""

    focal: tuple[str, ...]
    institution: tuple[str, ...]
    markers: tuple[str, ...]
    windows: Windows
    stance: Any  # StanceParams
    freq: Any = None  # the time bins of compress_units (unit_bins)
    derive: bool = False
    dedup: bool = False
    labels: pd.DataFrame | None = None
    labels_file: Any = None  # netsupport.stance.LabelsFile: its path and the coders' agreement
    silence: tuple[int, int] | None = None
    conflict_posts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    conflict_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    parts_dir: str | None = None
    edges_dir: str | None = None  # partitions write their edges here, in buckets by source
    n_buckets: int = 1
    deleted: frozenset[str] = frozenset()  # ids delete events name (the counts per platform)
    handles: tuple[tuple[str, str], ...] = ()  # the sides' Bluesky DIDs' handles (texts show)
    model_path: str | None = None  # the study's stance model (skops), when it has one

    @property
    def spec(self) -> Any:
        from .stance import StanceSpec

        return StanceSpec(self.focal, self.institution, self.markers, self.windows, self.stance)


_CLASSIFIERS: dict[tuple, Any] = {}

#: Distinct texts whose scores a worker keeps between its partitions (past it, it forgets all but
#: the texts of the partition at hand).
SCORE_MEMO_TEXTS = 200_000


def _memo_classifier(*args: Any, **kwargs: Any) -> Any:
    """A :class:`netsupport.stance.Classifier` that keeps the scores of the texts it scored, so
    a worker scores a text once however many of its partitions hold it (a text's scores depend
    on the text and the classifier alone: the same rows as scoring it again)."""
    from .stance import Classifier

    class MemoClassifier(Classifier):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            self.memo: dict[str, tuple] = {}
            self.columns: list[str] | None = None
            self.vader = False  # whether the memo's rows carry VADER's compound (the model's)

        def score_texts(self, texts: Sequence[str], workers: int | None = None, **kw: Any) -> Any:
            if kw.get("keep_dir") is not None or kw.get("meanwhile"):
                return super().score_texts(texts, workers, **kw)
            vader = bool(kw.get("vader"))
            if vader != self.vader:  # (rows of the other kind: forgotten)
                self.memo, self.columns, self.vader = {}, None, vader
            texts = list(texts)
            distinct = list(dict.fromkeys(texts))
            missing = [t for t in distinct if t not in self.memo]
            if self.columns is None or missing:
                scored = super().score_texts(missing, workers=1, vader=vader)
                self.columns = list(scored.columns)
                if len(self.memo) + len(missing) > SCORE_MEMO_TEXTS:  # keep this call's only
                    self.memo = {t: self.memo[t] for t in distinct if t in self.memo}
                self.memo.update(
                    zip(missing, scored.itertuples(index=False, name=None), strict=True)
                )
            return self._scored_frame([self.memo[t] for t in texts], self.columns, vader)

    return MemoClassifier(*args, **kwargs)


def _classifier(ctx: _Ctx) -> Any:
    from .stance import load_lexicon

    p = ctx.stance
    key = (
        ctx.focal,
        ctx.institution,
        str(p.lexicon),
        p.positive_threshold,
        p.negative_threshold,
        p.likes_count,
        ctx.handles,
    )
    clf = _CLASSIFIERS.get(key)
    if clf is None:
        clf = _CLASSIFIERS[key] = _memo_classifier(
            ctx.focal,
            ctx.institution,
            load_lexicon(p.lexicon),
            p.positive_threshold,
            p.negative_threshold,
            likes_count=p.likes_count,
            handles=dict(ctx.handles),
        )
    return clf


_MODELS: dict[str, Any] = {}


def _stance_model(path: str | None) -> Any:
    """The study's stance model (:class:`netsupport.stance.model.StanceModel`) from its skops
    file, loaded once per worker process and kept for its partitions; None without one."""
    if path is None:
        return None
    model = _MODELS.get(path)
    if model is None:
        from .stance.model import load_model

        model = load_model(path)
        if model is None:
            raise NetsupportError(
                f"{path}: the study's stance model cannot be read here (the workers of a "
                "cluster must see the run's folder: a shared file system)"
            )
        _MODELS.clear()  # (one study's model at a time)
        _MODELS[path] = model
    return model


# ---- pass 0: scan --------------------------------------------------------------------------------


def _window_counts(ts: pd.Series, windows: Windows) -> dict[str, int]:
    ts = pd.to_datetime(ts, utc=True)
    out = {}
    for w in Window:
        s, e = windows.bounds(w)
        out[w.value] = int(((ts >= s) & (ts < e)).sum())
    return out


def _scan(posts: pd.DataFrame, inter: pd.DataFrame, ctx: _Ctx) -> dict[str, Any]:
    from .stance.tables import _marker_candidates

    pid = posts[PostCol.POST_ID]
    iid = inter[InteractionCol.POST_ID]
    ids = np.unique(np.concatenate([_hash(pid[pid.notna()]), _hash(iid[iid.notna()])]))
    null_keys = np.unique(_key_hash(inter[iid.isna().to_numpy()]))
    markers = 0
    if ctx.markers and ctx.focal and len(posts):
        from .interactions import marker_interactions

        p = posts.astype({c: object for c in (PostCol.HASHTAGS, PostCol.TEXT) if c in posts})
        cand = _marker_candidates(p, ctx.markers)
        markers = len(marker_interactions(p[cand], ctx.markers, ctx.focal))
    own = posts[posts[PostCol.AUTHOR].isin([*ctx.focal, *ctx.institution]).to_numpy(dtype=bool)]
    coded: dict[str, pd.DataFrame] = {}
    if ctx.labels is not None:  # every row of the hand-coded posts: the model is trained on them
        labelled = ctx.labels["post_id"]
        coded["coded_posts"] = posts[pid.isin(labelled).to_numpy(dtype=bool)]
        coded["coded_inter"] = inter[iid.isin(labelled).to_numpy(dtype=bool)]
    return {
        **coded,
        "ids": ids,
        "null_keys": null_keys,
        "markers": markers,
        "own_posts": own[[PostCol.POST_ID, PostCol.AUTHOR, PostCol.CREATED_AT]],
        "post_windows": _window_counts(posts[PostCol.CREATED_AT], ctx.windows),
        "references": int(posts[PostCol.TARGET_POST_ID].notna().sum()),
        "posts": len(posts),
        "interactions": len(inter),
    }


def _combine_scan(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out = {
        "markers": sum(r["markers"] for r in results),
        "own_posts": _concat([r["own_posts"] for r in results]),
        "post_windows": _add_counts([r["post_windows"] for r in results]),
        "references": sum(r["references"] for r in results),
        "posts": sum(r["posts"] for r in results),
        "interactions": sum(r["interactions"] for r in results),
    }
    for key in ("coded_posts", "coded_inter"):
        if key in results[0]:
            out[key] = _concat([r[key] for r in results])
    return out


def _conflicts(sets: Sequence[np.ndarray]) -> np.ndarray:
    """Hashes present in more than one of ``sets`` (each already unique), sorted."""
    if not sets:
        return np.zeros(0, dtype=np.uint64)
    allh = np.concatenate(sets)
    values, counts = np.unique(allh, return_counts=True)
    return values[counts > 1].astype(np.uint64)


# ---- pass 1: aggregate ---------------------------------------------------------------------------


def _concat(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    nonempty = [f for f in frames if len(f)]
    if not nonempty:
        return frames[0].iloc[:0] if frames else pd.DataFrame()
    return pd.concat(nonempty, ignore_index=True) if len(nonempty) > 1 else nonempty[0]


def _add_counts(dicts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


_TIE_CLASS = "_class"


def tie_rows(inter: pd.DataFrame, focal: Sequence[str], windows: Windows) -> pd.DataFrame:
    """Return the interactions touching the focal account, reduced to what
    :func:`netsupport.support.prior_ties` looks at: one row per source, target, kind and time
    class (no time / before the baseline / baseline / from the crisis on), with the earliest time.

    ``prior_ties`` gives the same answer on these rows as on the interactions they came from.
    """
    cols = [InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND]
    empty = pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in cols}
        | {InteractionCol.CREATED_AT: pd.Series([], dtype="datetime64[us, UTC]")}
    )
    if inter is None or inter.empty:
        return empty
    focal = list(focal)
    touch = (
        inter[InteractionCol.SOURCE].isin(focal) | inter[InteractionCol.TARGET].isin(focal)
    ).to_numpy(dtype=bool)
    t = inter.loc[touch, [*cols, InteractionCol.CREATED_AT]]
    if t.empty:
        return empty
    ts = pd.to_datetime(t[InteractionCol.CREATED_AT], utc=True)
    klass = np.select(
        [
            ts.isna().to_numpy(),
            (ts < windows.baseline_start).to_numpy(dtype=bool, na_value=False),
            (ts < windows.crisis_start).to_numpy(dtype=bool, na_value=False),
        ],
        [0, 1, 2],
        3,
    )
    t = t.assign(**{InteractionCol.CREATED_AT.value: ts, _TIE_CLASS: klass})
    for c in cols:
        t[c] = t[c].astype(object).where(t[c].notna(), None)
    return _reduce_ties(t)


def _reduce_ties(t: pd.DataFrame) -> pd.DataFrame:
    cols = [InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND, _TIE_CLASS]
    if t.empty:
        return t
    g = t.groupby(cols, sort=True, dropna=False)[InteractionCol.CREATED_AT].min()
    return g.reset_index()


def _unit_frames(units: pd.DataFrame, ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Post-level units some measures need: supportive posts about the focal account during its
    silence (proxies) and crisis posts that are not reposts (the report's most-answered posts)."""
    from .support import UNIT_COLUMNS

    cols = list(UNIT_COLUMNS)
    if units.empty:
        e = units[cols]
        return e, e
    ts = pd.to_datetime(units["created_at"], utc=True)
    side = units["target_side"].to_numpy(dtype=object)
    stance = units["stance"].to_numpy(dtype=object)
    proxy = np.zeros(len(units), dtype=bool)
    if ctx.silence is not None:
        s, e = (pd.Timestamp(x, tz="UTC") for x in ctx.silence)
        proxy = (
            (side == _FOCAL)
            & (stance == "supportive")
            & ~units["source"].isin(list(ctx.focal)).to_numpy(dtype=bool)
            & ((ts >= s) & (ts < e)).to_numpy(dtype=bool, na_value=False)
        )
    cand = (units["window"].to_numpy(dtype=object) == Window.CRISIS.value) & (
        units["kind"].to_numpy(dtype=object) != IKind.REPOST.value
    )
    return units.loc[proxy, cols].reset_index(drop=True), units.loc[cand, cols].reset_index(
        drop=True
    )


def _aggregates_of(
    posts: pd.DataFrame, inter: pd.DataFrame, ctx: _Ctx, name: str
) -> dict[str, Any]:
    """The aggregates of one set of rows (a partition, or the conflicts): see the module doc."""
    from . import graph
    from .stance import object_strings, rule_counts, stance_interactions
    from .stance.supervised import rule_profile
    from .support import AMPLIFIER_KINDS, compress_units, post_units
    from .support.proxies import conversation_rows

    tables = object_strings({Table.POSTS.value: posts, Table.INTERACTIONS.value: inter})
    sint = stance_interactions(tables, ctx.spec, derive=ctx.derive, dedup=ctx.dedup)
    auto, texts, vader_of = _rules_table(
        sint, tables[Table.POSTS.value], ctx, features=ctx.model_path is not None
    )
    profile = rule_profile(auto)  # (of the rules' decisions, as the pandas engine counts them)
    table = _decided(auto, texts, vader_of, ctx)
    units = post_units(table)
    proxy_units, candidates = _unit_frames(units, ctx)
    edges = {}
    for w in Window:
        rows = graph.window_interactions(sint, ctx.windows, w)
        edges[w.value] = graph.aggregate_edges(rows)
        if w is Window.CRISIS:
            edges["amplifiers"] = graph.aggregate_edges(
                conversation_rows(rows, ctx.spec), kinds=AMPLIFIER_KINDS
            )
    if ctx.parts_dir is not None and len(table):
        path = Path(ctx.parts_dir) / f"part-{name}.parquet"
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)
    return {
        "freq": ctx.freq,
        "units": compress_units(units, ctx.freq),
        "rows": len(table),
        "by_rule": rule_counts(table["rule"]) if len(table) else {},
        "profile": profile,
        "proxy_units": proxy_units,
        "candidates": candidates,
        "edges": edges,
        "inter_windows": _window_counts(sint[InteractionCol.CREATED_AT], ctx.windows),
        "ties": tie_rows(sint, ctx.focal, ctx.windows),
        "platforms": platform_parts(
            posts, sint, ctx.focal, ctx.windows.bounds(Window.CRISIS), ctx.deleted
        ),
        "conflict_posts": None,
        "conflict_inter": None,
    }


def _rules_table(
    sint: pd.DataFrame, posts: pd.DataFrame, ctx: _Ctx, features: bool
) -> tuple[pd.DataFrame, pd.Series | None, pd.Series | None]:
    """The rules' stance table of the study's interactions ``sint``
    (:meth:`netsupport.stance.Classifier.classify`, the worker's classifier); with
    ``features``, also the texts by post id and VADER's compound of each text, for the stance
    model's features (scored with the texts, as the pandas engine does); else None, None."""
    from .stance.rules import _texts_by_post

    clf = _classifier(ctx)
    if not features:
        return clf.classify(sint, posts, ctx.windows, workers=1), None, None
    aimed = sint[clf.targeted(sint)]
    texts = _texts_by_post(posts, aimed[InteractionCol.POST_ID])
    auto = clf.classify(sint, posts, ctx.windows, workers=1, texts=texts, vader=True)
    return auto, texts, clf.text_vader


def _decided(
    auto: pd.DataFrame, texts: pd.Series | None, vader_of: pd.Series | None, ctx: _Ctx
) -> pd.DataFrame:
    """The study's stance table from the rules' ``auto``: the study's stance model decides every
    row no hand code decides (rule ``model``, its probability as ``score``), then the hand codes
    decide theirs: what :func:`netsupport.stance.supervised.supervise` makes of the same rows,
    with the same functions."""
    from .stance import apply_labels
    from .stance.model import apply_model, labelled_rows, row_features

    labels = ctx.labels if ctx.labels is not None and not ctx.labels.empty else None
    model = _stance_model(ctx.model_path)
    if model is not None and len(auto):
        labelled = labelled_rows(auto, labels) if labels is not None else np.zeros(len(auto), bool)
        features = row_features(auto, texts, vader_of=vader_of)
        auto = apply_model(auto, features, model, labelled, parallel=False)
    return apply_labels(auto, labels)


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


def _aggregate(posts: pd.DataFrame, inter: pd.DataFrame, ctx: _Ctx, name: str) -> dict[str, Any]:
    """Pass 1 on one partition: set the conflict rows aside, aggregate the others."""
    cp = np.zeros(len(posts), dtype=bool)
    ci = np.zeros(len(inter), dtype=bool)
    if len(ctx.conflict_posts):
        pid = posts[PostCol.POST_ID]
        cp = pid.notna().to_numpy() & _isin(_hash(pid), ctx.conflict_posts)
        iid = inter[InteractionCol.POST_ID]
        ci = iid.notna().to_numpy() & _isin(_hash(iid), ctx.conflict_posts)
    if len(ctx.conflict_keys):
        null = inter[InteractionCol.POST_ID].isna().to_numpy()
        ci |= null & _isin(_key_hash(inter), ctx.conflict_keys)
    res = _aggregates_of(
        posts.loc[~cp].drop(columns=_SEQ, errors="ignore").reset_index(drop=True),
        inter.loc[~ci].drop(columns=_SEQ, errors="ignore").reset_index(drop=True),
        ctx,
        name,
    )
    res["conflict_posts"] = posts.loc[cp]
    res["conflict_inter"] = inter.loc[ci]
    if ctx.edges_dir is not None:  # the edges go to disk, in buckets; the rest to the tree
        _write_buckets(res.pop("edges"), Path(ctx.edges_dir), ctx.n_buckets, name)
        res["edges"] = {}
    return res


def _write_buckets(edges: Mapping[str, pd.DataFrame], folder: Path, n: int, name: str) -> None:
    """Write one partition's edges as Parquet, split into ``n`` buckets by a hash of source:
    ``folder/<table>/<bucket>/part-<name>.parquet``. A bucket is then summed by one task
    (:func:`_sum_bucket`), so no process ever holds every partition's edges."""
    for key in EDGE_KEYS:
        e = edges.get(key)
        if e is None or e.empty:
            continue
        e = _uniform_edges(e)
        bucket = _hash(e["source"]) % np.uint64(n)
        for i in np.unique(bucket):
            d = folder / key / f"{int(i):03d}"
            d.mkdir(parents=True, exist_ok=True)
            _write(e[bucket == i].reset_index(drop=True), d / f"part-{name}.parquet")


def _sum_bucket(folder: str) -> str:
    """Sum the partitions' edges of one bucket (see :func:`_write_buckets`) into
    ``folder/sum.parquet``; return its path (the driver reads every bucket's sum as one Arrow
    table: nothing edge-sized is pickled, and its handles become shared objects once)."""
    paths = sorted(Path(folder).glob("part-*.parquet"))
    frames = [_objects(pq.read_table(p)) for p in paths]
    out = _sum_edges(frames) if len(frames) != 1 else frames[0]
    del frames
    dst = Path(folder) / "sum.parquet"
    _write(_uniform_edges(out), dst)
    return str(dst)


def _read_sums(paths: Sequence[str]) -> pd.DataFrame:
    """The bucket sums of one edge table, in :func:`finish_edges`' form. Buckets split the
    edges by source, so their rows are disjoint: they are concatenated, sorted by source and
    target in Arrow (UTF-8 byte order is code point order, Python's str order) and converted
    once, strings as shared objects."""
    from .graph import count_column

    table = pa.concat_tables([pq.read_table(p) for p in paths])
    present = [
        count_column(k)
        for k in IKind
        if count_column(k) in table.column_names
        and (pc.sum(table.column(count_column(k))).as_py() or 0) > 0
    ]
    table = table.select(["source", "target", *present, "weight"])
    table = table.sort_by([("source", "ascending"), ("target", "ascending")])
    return _objects(table)


#: Rows of the largest partition per edge bucket: edges are summed in min(64, rows / this)
#: buckets by source (:func:`_write_buckets`).
ROWS_PER_EDGE_BUCKET = 1_000_000

#: The edge tables the Dask engine aggregates: each window (all kinds) and the crisis
#: repost/quote/mention graph (amplifiers, the report's network map).
EDGE_KEYS = (*_WINDOWS, "amplifiers")


def _uniform_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """Edges with a count column for every kind (0 where absent): one schema for all parts."""
    from .graph import count_column

    out = pd.DataFrame(
        {
            "source": edges["source"].astype(object).to_numpy(),
            "target": edges["target"].astype(object).to_numpy(),
        }
    )
    for k in IKind:
        c = count_column(k)
        out[c] = edges[c].to_numpy(dtype=np.int64) if c in edges else np.zeros(len(edges), np.int64)
    out["weight"] = edges["weight"].to_numpy(dtype=np.float64)
    return out


def _sum_edges(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return _empty_edges()
    if len(frames) == 1:
        return frames[0]
    allf = pd.concat(frames, ignore_index=True)
    counts = [c for c in allf.columns if c.startswith("n_")]
    allf[counts] = allf[counts].fillna(0).astype("int64")
    return allf.groupby(["source", "target"], sort=False, as_index=False)[[*counts, "weight"]].sum()


def _empty_edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": pd.Series([], dtype=object),
            "target": pd.Series([], dtype=object),
            "weight": pd.Series([], dtype="float64"),
        }
    )


def finish_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """Return summed partition edges in :func:`netsupport.graph.aggregate_edges`' form: count
    columns of the kinds present in :class:`IKind` order, sorted by source and target."""
    from .graph import count_column

    if edges.empty:
        return _empty_edges()
    present = [
        count_column(k)
        for k in IKind
        if count_column(k) in edges.columns and edges[count_column(k)].sum() > 0
    ]
    out = edges[["source", "target", *present, "weight"]].copy()
    out[present] = out[present].astype("int64")
    out["source"] = out["source"].astype(object)
    out["target"] = out["target"].astype(object)
    out["weight"] = out["weight"].astype("float64")
    return out.sort_values(["source", "target"], kind="mergesort").reset_index(drop=True)


def _combine(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge pass-1 results (associative: used at every level of the reduction tree)."""
    from .support import compress_units

    results = [r for r in results if r is not None]
    if len(results) == 1:
        return results[0]
    keys = {k for r in results for k in r["edges"]}
    freq = results[0]["freq"]  # the same in every result; bins survive (created_at is their min)
    return {
        "freq": freq,
        "units": compress_units(_concat([r["units"] for r in results]), freq),
        "rows": sum(r["rows"] for r in results),
        "by_rule": _add_counts([r["by_rule"] for r in results]),
        "profile": _add_counts([r["profile"] for r in results]),
        "proxy_units": _concat([r["proxy_units"] for r in results]),
        "candidates": _concat([r["candidates"] for r in results]),
        "edges": {k: _sum_edges([r["edges"].get(k) for r in results]) for k in sorted(keys)},
        "inter_windows": _add_counts([r["inter_windows"] for r in results]),
        "ties": _reduce_ties(_concat([r["ties"] for r in results])),
        "platforms": combine_platform_parts([r["platforms"] for r in results]),
        "conflict_posts": _concat([r.get("conflict_posts") for r in results]),
        "conflict_inter": _concat([r.get("conflict_inter") for r in results]),
    }


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


# ---- pass 2: reach -------------------------------------------------------------------------------


def _pairs(posts: pd.DataFrame, candidates: np.ndarray) -> pd.DataFrame:
    """Distinct (target_post_id, author) of posts answering, reposting or quoting a candidate."""
    ref = posts[[PostCol.AUTHOR, PostCol.TARGET_POST_ID]].dropna()
    if ref.empty or len(candidates) == 0:
        return pd.DataFrame({PostCol.TARGET_POST_ID: [], PostCol.AUTHOR: []}, dtype=object)
    hit = _isin(_hash(ref[PostCol.TARGET_POST_ID]), candidates)
    out = ref.loc[hit, [PostCol.TARGET_POST_ID, PostCol.AUTHOR]].astype(object)
    return out.drop_duplicates().reset_index(drop=True)


def _combine_pairs(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return _concat(frames).drop_duplicates().reset_index(drop=True)


def _texts(posts: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    hit = posts[PostCol.POST_ID].notna().to_numpy() & _isin(_hash(posts[PostCol.POST_ID]), ids)
    return posts.loc[hit].astype(object)


# ---- the driver ----------------------------------------------------------------------------------


@dataclass
class StudyAggregates:
    """Everything the dask engine computes from the store for one study (see module docs)."""

    units: pd.DataFrame  # compressed units (support.compress_units, with time bins)
    rows: int  # interactions classified
    by_rule: dict[str, int]
    agreement: dict[str, Any]
    lexicon: dict[str, Any]
    edges: dict[str, pd.DataFrame]  # baseline / crisis / after (all kinds) and amplifiers
    coverage: dict[str, dict[str, Any]]
    ties: pd.DataFrame  # tie_rows
    own_posts: pd.DataFrame  # posts by the focal and institution accounts
    any_posts: bool
    any_references: bool
    proxy_units: pd.DataFrame
    proxy_reach: pd.Series
    top_posts: dict[str, pd.DataFrame]  # side -> report_tables.top_posts table
    platforms: pd.DataFrame | None = None  # support.platforms.platform_counts' table
    info: dict[str, Any] = field(default_factory=dict)
    stance_profile: dict[str, int] = field(default_factory=dict)  # rule_profile of all rows
    # how stance was decided (StudyModel.info: the model, or why the rules decide)
    stance_model: dict[str, Any] = field(default_factory=dict)
    # the decisions' cross-validated error (stance.supervised.study_validation), no shares
    validation: dict[str, Any] | None = None


def unit_bins(windows: Windows) -> tuple[Any, str]:
    """Return the time bins the Dask engine compresses units with: the report's chart bins
    (:class:`~netsupport.timebins.TimeBins`, aligned to the crisis start) and the time-series
    model's calendar bins (:func:`netsupport.support.timeseries.timeline_freq`, floored UTC).

    Each compressed unit then lies in one bin of each, so the charts' counts and those of the
    attention model and the day-block bootstrap are the pandas engine's. Was: the chart bins
    alone, whose earliest time put a crisis day's hours before the crisis start's hour of day
    in the calendar day before (26x the baseline trend on the example became 27x).

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-16T09:00Z", 3, 3)
    >>> bins, freq = unit_bins(w)
    >>> bins.freq, bins.edges[0].hour, freq
    ('D', 9, 'D')
    """
    from .report_charts import time_bin
    from .support.timeseries import timeline_freq
    from .timebins import TimeBins

    return (TimeBins(windows, time_bin(windows)), timeline_freq(windows))


def _study_ctx(study: Any, freq: Any) -> _Ctx:
    from .stance import read_labels

    labels_file = read_labels(study.stance.labels) if study.stance.labels else None
    labels = labels_file.labels if labels_file is not None else None
    return _Ctx(
        focal=tuple(study.focal),
        institution=tuple(study.institution),
        markers=tuple(study.markers),
        windows=study.windows,
        stance=study.stance,
        freq=freq,
        labels=labels,
        labels_file=labels_file,
    )


def _agreement(label_rows: pd.DataFrame, labels_file: Any) -> dict[str, Any]:
    """The classifier's agreement with the hand labels, as :func:`stance_table` measures it
    (``label_rows``: the rules' rows of every labelled post, :func:`_coded_rules`)."""
    from .stance import RULE_LABEL, agreement, apply_labels, match_labels

    if labels_file is None:
        return {"status": "not measured", "reason": "no labels CSV in the study"}
    labels = labels_file.labels
    units = _sort_stance(label_rows).drop_duplicates(["post_id", "target_side"])
    matched = match_labels(labels, units, labels_file.path)
    lab = apply_labels(units, labels)
    have = (lab["rule"] == RULE_LABEL).to_numpy(dtype=bool) if len(lab) else np.zeros(0, bool)
    out = agreement(units["stance"][have].tolist(), lab["stance"][have].tolist())
    out["labels_matched"] = matched
    if labels_file.coders is not None:
        out["coders"] = labels_file.coders
    return out


def _sort_stance(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in the stance table's order (created_at, post_id, target_side, kind, source, target)."""
    keys = ["created_at", "post_id", "target_side", "kind", "source", "target"]
    return df.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)


def aggregate_study(
    study: Any,
    client: Any,
    *,
    freq: Any = None,
    parts_dir: str | os.PathLike[str] | None = None,
    max_rows: int = DEFAULT_PARTITION_ROWS,
    progress: Callable[[str], None] | None = None,
    scratch_dir: str | os.PathLike[str] | None = None,
    model_dir: str | os.PathLike[str] | None = None,
) -> StudyAggregates:
    """Compute a study's aggregates on a Dask cluster (``client``) from its store.

    Parameters
    ----------
    study : Study
    client : distributed.Client
    freq : str, TimeBins or tuple of them, optional
        Time bins of the compressed units (:func:`netsupport.support.compress_units`); the
        engine's are :func:`unit_bins`.
    parts_dir : path, optional
        Folder where each partition writes its rows of the stance audit table (Parquet).
    max_rows : int
        Busy days are cut into parts of at most about this many rows.
    progress : callable, optional
        Called with a short message as each pass starts.
    scratch_dir : path, optional
        Where the partitions write their edges for the summing tasks (a temporary folder by
        default; with a remote cluster it must be on a file system the workers share).
    model_dir : path, optional
        Where the study's stance model is kept (skops), as the pandas engine keeps it
        (:func:`netsupport.stance.supervised.study_model`): the workers load it from there
        (default: a folder in ``scratch_dir``, or a temporary one).
    """
    import dask

    say = progress or (lambda _msg: None)
    store = Store(study.store_dir)
    if not store.exists():
        raise NetsupportError(f"{study.store_dir}: no store here; import the inputs first")
    plan = plan_partitions(store, max_rows)
    ctx = _study_ctx(study, freq)
    counts = store.counts()
    posts_cols = [PostCol.POST_ID, PostCol.AUTHOR, PostCol.CREATED_AT, PostCol.TARGET_POST_ID]
    if ctx.markers:
        posts_cols += [PostCol.HASHTAGS, PostCol.TEXT]
    inter_cols = [*_KEY, InteractionCol.CREATED_AT]
    all_inter = list(SCHEMAS[Table.INTERACTIONS].names)
    coded = ctx.labels is not None
    if coded:  # the scan also collects the hand-coded posts' rows, whole and in store order
        posts_cols, inter_cols = _POST_COLUMNS, all_inter

    # pass 0: scan
    say(f"scanning {len(plan.partitions)} partitions")
    cdel = dask.delayed(ctx, pure=True)
    scans = dask.compute(*partition_tasks(plan, _scan, posts_cols, inter_cols, cdel, seq=coded))
    scan = _combine_scan(scans) if scans else _combine_scan([_scan_empty(coded)])
    conflict_posts = _conflicts([s["ids"] for s in scans])
    conflict_keys = _conflicts([s["null_keys"] for s in scans])
    del scans

    from .io.platforms import bluesky_handles
    from .stance.model import describe
    from .stance.supervised import UNVALIDATED
    from .support import focal_silence
    from .support import proxy_reach as reach_of

    sides, own = ctx.focal + ctx.institution, scan["own_posts"]
    silence = focal_silence(own if len(own) else None, ctx.focal, ctx.windows)
    if isinstance(silence, Mapping) and "start" in silence:
        span = (pd.Timestamp(silence["start"]).value, pd.Timestamp(silence["end"]).value)
    else:
        span = None
    ctx = replace(
        ctx,
        derive=counts.get(Table.INTERACTIONS.value, 0) == 0 and scan["posts"] > 0,
        dedup=scan["markers"] > 0,
        silence=span,
        conflict_posts=conflict_posts,
        conflict_keys=conflict_keys,
        parts_dir=str(parts_dir) if parts_dir is not None else None,
        deleted=deleted_ids(store),
        handles=tuple(bluesky_handles(store.read(Table.ACCOUNTS), sides).items()),
    )
    tmp_root = None if scratch_dir else tempfile.mkdtemp(prefix="netsupport-")
    try:  # (the temporary folder goes at the end, also when a step fails)
        scratch = Path(scratch_dir or tmp_root)
        stance_model: dict[str, Any] = describe(None, UNVALIDATED)
        label_rows = found = None
        models = model_dir or scratch / "models"
        if coded:  # the study's stance model, trained here once; the workers load its file
            say("the stance model: classifying the hand-coded posts")
            label_rows, found = _coded_rules(scan, ctx, study, models, say)
            stance_model = found.info
            ctx = replace(ctx, model_path=str(found.path) if found.path is not None else None)
        if parts_dir is not None:
            Path(parts_dir).mkdir(parents=True, exist_ok=True)
            for old in Path(parts_dir).glob("part-*.parquet"):
                old.unlink()
            index = [[f"{k:05d}", p.start, p.end] for k, p in enumerate(plan.partitions)]
            (Path(parts_dir) / "index.json").write_text(json.dumps(index), encoding="utf-8")

        # pass 1: aggregate
        say(f"classifying and aggregating {len(plan.partitions)} partitions")
        edges_dir = scratch / "edges"
        try:  # the edges on disk go at the end, also when a task fails or there is none
            shutil.rmtree(edges_dir, ignore_errors=True)
            edges_dir.mkdir(parents=True)
            n_rows = max(plan.rows.values(), default=0)
            n_buckets = min(64, max(1, n_rows // ROWS_PER_EDGE_BUCKET))
            ctx = replace(ctx, edges_dir=str(edges_dir), n_buckets=n_buckets)
            cdel = dask.delayed(ctx, pure=True)
            tasks = partition_tasks(
                plan, _aggregate, _POST_COLUMNS, all_inter, cdel, seq=True, named=True
            )
            edge_sums: dict[str, pd.DataFrame] = {}
            if tasks:
                # The partitions write their edges (the biggest result) to disk in buckets by
                # source; then each bucket is summed by one task. The rest is summed in a tree.
                # Workers so hold one partition, or one bucket, at a time.
                (res,) = dask.compute(_tree(tasks, _released(_combine)))
                folders = sorted(str(d) for d in edges_dir.glob("*/*") if d.is_dir())
                sums = dask.compute(*[dask.delayed(_released(_sum_bucket))(d) for d in folders])
                by_key: dict[str, list[str]] = {}
                for folder, path in zip(folders, sums, strict=True):
                    by_key.setdefault(Path(folder).parent.name, []).append(path)
                edge_sums = {k: _read_sums(v) for k, v in sorted(by_key.items())}
            else:
                res = _aggregates_of(_empty(Table.POSTS), _empty(Table.INTERACTIONS), ctx, "empty")
        finally:
            shutil.rmtree(edges_dir, ignore_errors=True)
        cposts, cinter = res.pop("conflict_posts"), res.pop("conflict_inter")
        if len(cposts) or len(cinter):  # rows of posts seen in several partitions, in store order
            say(f"resolving {len(cposts) + len(cinter):,} rows of posts spread over partitions")
            cposts = _by_seq(cposts, Table.POSTS, _POST_COLUMNS)
            cinter = _by_seq(cinter, Table.INTERACTIONS, list(SCHEMAS[Table.INTERACTIONS].names))
            res = _combine([res, _aggregates_of(cposts, cinter, ctx, "conflicts")])
        validation = None
        # the decisions' error, measured on the codes as the pandas engine does
        if found is not None:
            validation = _validation(found, dict(res["profile"]), study, ctx, models)
    finally:
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)

    # pass 2: reach of the candidate posts
    proxy_units, candidates = res["proxy_units"], res["candidates"]
    ids = pd.concat([proxy_units["post_id"], candidates["post_id"]], ignore_index=True)
    ids = np.unique(_hash(ids.dropna()))
    pairs = pd.DataFrame({PostCol.TARGET_POST_ID: [], PostCol.AUTHOR: []}, dtype=object)
    if len(ids):
        say("measuring the reach of candidate posts")
        cols = [PostCol.AUTHOR, PostCol.CREATED_AT, PostCol.TARGET_POST_ID]
        idel = dask.delayed(ids, pure=True)
        (pairs,) = dask.compute(
            _tree(partition_tasks(plan, _pairs, cols, None, idel), _combine_pairs)
        )
    proxy_reach = reach_of(pairs, proxy_units)
    top = _top_posts(study, candidates, pairs, plan)

    from .support import compress_units

    coverage = {}
    for w in _WINDOWS:
        n = int(scan["post_windows"].get(w, 0)) + int(res["inter_windows"].get(w, 0))
        coverage[w] = {"rows": n, "covered": n > 0}
    # posts per window, popped by analyse_inputs (a partial file's posts are weighed by them)
    coverage["_posts"] = {w: int(scan["post_windows"].get(w, 0)) for w in _WINDOWS}
    from .stance import load_lexicon

    edges = {}
    for k in sorted(set(edge_sums) | set(res["edges"])):
        if k in edge_sums and not len(res["edges"].get(k, ())):
            edges[k] = edge_sums.pop(k)  # already in finish_edges' form
        else:
            edges[k] = finish_edges(_sum_edges([edge_sums.pop(k, None), res["edges"].get(k)]))
    for w in (*_WINDOWS, "amplifiers"):
        edges.setdefault(w, _empty_edges())
    return StudyAggregates(
        units=compress_units(res["units"], freq),
        rows=int(res["rows"]),
        by_rule=dict(res["by_rule"]),
        agreement=_agreement(label_rows, ctx.labels_file),
        lexicon=load_lexicon(study.stance.lexicon).describe(),
        edges=edges,
        coverage=coverage,
        ties=res["ties"],
        own_posts=own.reset_index(drop=True),
        any_posts=scan["posts"] > 0,
        any_references=scan["references"] > 0,
        proxy_units=proxy_units,
        proxy_reach=proxy_reach,
        top_posts=top,
        platforms=platform_table(res["platforms"], deleted=bool(ctx.deleted)),
        info={
            "partitions": len(plan.partitions),
            "overread": round(plan.overread, 3),
            "conflict_post_ids": len(conflict_posts),
            "conflict_keys": len(conflict_keys),
            "markers": bool(ctx.dedup),
        },
        stance_profile=dict(res["profile"]),
        stance_model=stance_model,
        validation=validation,
    )


def _coded_rules(
    scan: Mapping[str, Any],
    ctx: _Ctx,
    study: Any,
    model_dir: str | os.PathLike[str],
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, Any]:
    """The rules' stance table of the hand-coded posts' rows (collected by the scan) and the
    study's stance model trained on them here, on the driver, as the pandas engine trains it
    (:func:`netsupport.stance.supervised.study_model`: the same features, codes and seed, the
    same file in ``model_dir``)."""
    from .stance import object_strings, stance_interactions
    from .stance.supervised import study_model

    posts = _by_seq(scan["coded_posts"], Table.POSTS, _POST_COLUMNS)
    all_inter = list(SCHEMAS[Table.INTERACTIONS].names)
    inter = _by_seq(scan["coded_inter"], Table.INTERACTIONS, all_inter)
    tables = object_strings({Table.POSTS.value: posts, Table.INTERACTIONS.value: inter})
    sint = stance_interactions(tables, ctx.spec, derive=ctx.derive, dedup=ctx.dedup)
    auto, texts, vader_of = _rules_table(sint, tables[Table.POSTS.value], ctx, features=True)
    found = study_model(
        auto,
        texts,
        ctx.labels,
        labels_path=ctx.labels_file.path,
        seed=_seed(study),
        model_dir=model_dir,
        vader_of=vader_of,
    )
    return auto, found


def _seed(study: Any) -> int:
    return int(getattr(getattr(study, "support", None), "seed", 42))


def _validation(
    found: Any, profile: dict[str, int], study: Any, ctx: _Ctx, model_dir: str | os.PathLike[str]
) -> dict[str, Any] | None:
    """The validation of the stance decisions against the hand codes, as the pandas engine
    measures it (:func:`netsupport.stance.supervised.study_validation`), saying that the shares
    are not corrected here (:data:`DASK_SHARES`)."""
    from .stance.supervised import study_validation

    validation = study_validation(
        found,
        int(profile.get("units", 0)),
        profile,
        seed=_seed(study),
        model_dir=model_dir,
        drawn_not_whole=ctx.labels_file.drawn_not_whole,
    )
    if validation is not None:
        validation["shares_status"] = DASK_SHARES
    return validation


def _scan_empty(coded: bool = False) -> dict[str, Any]:
    rows = (
        {"coded_posts": _empty(Table.POSTS), "coded_inter": _empty(Table.INTERACTIONS)}
        if coded
        else {}
    )
    return {
        **rows,
        "markers": 0,
        "own_posts": pd.DataFrame(
            {
                PostCol.POST_ID: pd.Series([], dtype=object),
                PostCol.AUTHOR: pd.Series([], dtype=object),
                PostCol.CREATED_AT: pd.Series([], dtype="datetime64[us, UTC]"),
            }
        ),
        "post_windows": {},
        "references": 0,
        "posts": 0,
        "interactions": 0,
    }


def _empty(table: Table) -> pd.DataFrame:
    return to_pandas(SCHEMAS[table].empty_table())


def _by_seq(df: pd.DataFrame, table: Table, columns: Sequence[str]) -> pd.DataFrame:
    if df is None or df.empty:
        return read_partition(Partition(0, 0, (), ()), table, columns)
    df = df.sort_values(_SEQ, kind="mergesort")
    return df.drop(columns=_SEQ).reset_index(drop=True)


def _top_posts(
    study: Any, candidates: pd.DataFrame, pairs: pd.DataFrame, plan: Plan
) -> dict[str, pd.DataFrame]:
    """The report's most-answered crisis posts per side (report_tables.top_posts on reduced
    inputs)."""
    import dask

    from .report_tables import top_posts

    sides = [_FOCAL] + ([_INST] if study.institution else [])
    reach_ids = set(pairs[PostCol.TARGET_POST_ID]) if len(pairs) else set()
    cand = candidates[candidates["post_id"].isin(reach_ids).to_numpy(dtype=bool)]
    # the top posts are among the candidates with the most distinct answering accounts
    reach = pairs.groupby(PostCol.TARGET_POST_ID)[PostCol.AUTHOR].nunique()
    need: set[str] = set()
    for side in sides:
        c = cand[cand["target_side"].to_numpy(dtype=object) == side]
        r = c.assign(reach=c["post_id"].map(reach).to_numpy())
        r = r.sort_values(["reach", "created_at", "post_id"], ascending=[False, True, True])
        need |= set(r["post_id"].head(5))
    texts = pd.DataFrame({PostCol.POST_ID: [], PostCol.TEXT: []}, dtype=object)
    if need:
        ids = np.unique(_hash(pd.Series(sorted(need), dtype=object)))
        cols = [PostCol.POST_ID, PostCol.TEXT]
        idel = dask.delayed(ids, pure=True)
        (texts,) = dask.compute(
            _tree(partition_tasks(plan, _texts, cols, None, idel, seq=True), _concat)
        )
        texts = texts.sort_values(_SEQ, kind="mergesort").drop_duplicates(PostCol.POST_ID)
        texts = texts.drop(columns=_SEQ)  # the first of a post id in store order, as pandas does
    posts = pd.concat(
        [
            pairs.assign(**{PostCol.POST_ID.value: None, PostCol.TEXT.value: None}),
            texts.assign(**{PostCol.AUTHOR.value: None, PostCol.TARGET_POST_ID.value: None}),
        ],
        ignore_index=True,
    )
    return {side: top_posts(cand, posts, side) for side in sides}


# ---- the cluster ---------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, timeout: str = "20s"
) -> Iterator[Any]:
    """Yield a ``distributed.Client``: on ``scheduler`` if given, else on a local cluster.

    The local cluster has ``workers`` (default 2) single-threaded worker processes, each allowed
    at most a quarter of this machine's memory and never more than 3 GiB; its logs are silenced
    and it is closed on exit. ``timeout``: how long to try to reach ``scheduler``.

    Raises
    ------
    NetsupportError
        Dask's ``distributed`` is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the scale extra is a dependency of the CLI option
        raise NetsupportError(
            "--engine dask needs dask[dataframe] and distributed: pip install 'netsupport[scale]'"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise NetsupportError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or LOCAL_WORKERS
    limit = min(LOCAL_WORKER_MEMORY, _total_memory() // 4)
    with _quiet_dask():
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=limit,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover
        return 8 * 2**30


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    names = ["distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"]
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, lvl in levels.items():
            logging.getLogger(n).setLevel(lvl)


def metric_inputs_of(agg: StudyAggregates, study: Any) -> Any:
    """Return the :class:`netsupport.support.MetricInputs` of a study's Dask aggregates."""
    from .stance import object_strings
    from .support import MetricInputs
    from .support.timeseries import timeline_counts, timeline_freq

    store = Store(study.store_dir)
    tables = object_strings(
        {
            Table.FOLLOWS.value: store.read(Table.FOLLOWS),
            Table.ACCOUNTS.value: store.read(Table.ACCOUNTS),
        }
    )
    return MetricInputs(
        units=agg.units,
        stance_rows=agg.rows,
        by_rule=agg.by_rule,
        agreement=agg.agreement,
        lexicon=agg.lexicon,
        coverage={**agg.coverage, "_span": store.time_span()},  # for the coverage check
        tie_interactions=agg.ties,
        follows=tables[Table.FOLLOWS.value],
        accounts=tables[Table.ACCOUNTS.value],
        posts=agg.own_posts,
        any_posts=agg.any_posts,
        any_references=agg.any_references,
        proxy_units=agg.proxy_units,
        proxy_reach=agg.proxy_reach,
        # the units are compressed with the model's calendar bins too (unit_bins), so the
        # counts per bin are exact; the baseline edges give each account's activity
        timeline=timeline_counts(agg.units, freq := timeline_freq(study.windows)),
        timeline_freq=freq,
        baseline_edges=agg.edges.get("baseline"),
        stance_model={**agg.stance_model, **agg.stance_profile},
        validation=agg.validation,
    )


#: What the Dask engine's ``stance_validation`` says of the shares it leaves uncorrected.
DASK_SHARES = (
    "the Dask engine measures the stance decisions' error but does not correct the shares for "
    "it (that needs every post's decision in one place): run with the pandas engine for the "
    "error-corrected shares and net support"
)


# ---- the stance audit table, from the partitions' parts -----------------------------------------


def stance_writer(parts_dir: str | os.PathLike[str]) -> Callable[[Path], Path]:
    """Return a function writing the stance table (stance.csv) from the parts of
    :func:`aggregate_study` (``parts_dir``), in the pandas engine's row order, part by part.

    Each partition wrote its rows sorted; partitions are disjoint intervals of time in order, so
    the parts follow each other; the rows of posts spread over partitions (processed on the
    driver) are merged into the part of their time.
    """
    from .stance import STANCE_COLUMNS
    from .textsafe import write_csv_parts

    folder = Path(parts_dir)

    def read(path: Path) -> pd.DataFrame:
        from .stance import object_strings

        df = pq.read_table(path).to_pandas()
        return object_strings({"t": df})["t"]

    def frames() -> Iterator[pd.DataFrame]:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        cpath = folder / "part-conflicts.parquet"
        conflicts = read(cpath) if cpath.is_file() else None
        for name, start, end in index:
            path = folder / f"part-{name}.parquet"
            df = read(path) if path.is_file() else None
            if conflicts is not None and len(conflicts):
                ts = pd.to_datetime(conflicts["created_at"], utc=True)
                if start is None:
                    here = ts.isna().to_numpy()
                else:
                    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
                    here = ((ts >= lo) & (ts < hi)).to_numpy(dtype=bool, na_value=False)
                if here.any():
                    df = _sort_stance(_concat([df, conflicts[here]]))
            if df is not None:
                yield df

    def write(path: Path) -> Path:
        return write_csv_parts(frames(), path, STANCE_COLUMNS)

    return write


# ---- keeping the aggregates between runs ---------------------------------------------------------


def save_aggregates(agg: StudyAggregates, folder: str | os.PathLike[str]) -> Path:
    """Write the aggregates to ``folder`` (Parquet frames and one JSON); return the JSON's path."""
    from .textsafe import write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "units": agg.units,
        "ties": agg.ties,
        "own_posts": agg.own_posts,
        "proxy_units": agg.proxy_units,
        "proxy_reach": agg.proxy_reach.rename("reach").rename_axis("source").reset_index(),
        **{f"edges-{k}": v for k, v in agg.edges.items()},
        **{f"top-{k}": v for k, v in agg.top_posts.items()},
        **({"platforms": agg.platforms} if agg.platforms is not None else {}),
    }
    for name, df in frames.items():
        _write(df, folder / f"{name}.parquet")
    meta = {
        "rows": agg.rows,
        "by_rule": agg.by_rule,
        "agreement": agg.agreement,
        "lexicon": agg.lexicon,
        "coverage": agg.coverage,
        "any_posts": agg.any_posts,
        "any_references": agg.any_references,
        "info": agg.info,
        "edges": sorted(agg.edges),
        "top": sorted(agg.top_posts),
        "stance_profile": agg.stance_profile,
        "stance_model": agg.stance_model,
        "validation": agg.validation,
    }
    return write_json(meta, folder / "aggregates.json")


def _write(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


def _objects(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, strings as object columns (None for missing) whose repeated
    values share one Python object: 10^7 edges name 10^6 accounts, not 2 x 10^7 strings."""
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            out[name] = col.to_pandas()
            continue
        enc = pc.dictionary_encode(col).combine_chunks()
        uniques = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
        values = uniques[enc.indices.fill_null(len(uniques) - 1).to_numpy()]
        out[name] = pd.Series(values, dtype=object, name=name)
    return pd.DataFrame(out, columns=table.column_names)


def load_aggregates(folder: str | os.PathLike[str]) -> StudyAggregates:
    """Read the aggregates :func:`save_aggregates` wrote (strings as object, as computed)."""
    folder = Path(folder)
    meta = json.loads((folder / "aggregates.json").read_text(encoding="utf-8"))

    def read(name: str) -> pd.DataFrame:
        return _objects(pq.read_table(folder / f"{name}.parquet"))

    reach = read("proxy_reach")
    return StudyAggregates(
        units=read("units"),
        rows=int(meta["rows"]),
        by_rule=dict(meta["by_rule"]),
        agreement=meta["agreement"],
        lexicon=meta["lexicon"],
        edges={k: read(f"edges-{k}") for k in meta["edges"]},
        coverage=meta["coverage"],
        ties=read("ties"),
        own_posts=read("own_posts"),
        any_posts=bool(meta["any_posts"]),
        any_references=bool(meta["any_references"]),
        proxy_units=read("proxy_units"),
        proxy_reach=pd.Series(
            reach["reach"].to_numpy(dtype=np.int64),
            index=pd.Index(reach["source"].to_numpy(dtype=object), name="source"),
            name=PostCol.AUTHOR.value,
        ),
        top_posts={k: read(f"top-{k}") for k in meta["top"]},
        platforms=read("platforms") if (folder / "platforms.parquet").is_file() else None,
        info=meta.get("info", {}),
        stance_profile=dict(meta.get("stance_profile", {})),
        stance_model=dict(meta.get("stance_model", {})),
        validation=meta.get("validation"),
    )
