"""The Dask engine's passes over the partitions, and the merging of their results.

Each pass is one task per partition (:func:`netsupport.scale.plan.partition_tasks`), told what it
needs of the study by a :class:`_Ctx`:

* **Pass 0, scan** (:func:`_scan`, merged by :func:`_combine_scan`): hashes of the post ids seen,
  marker hits, the focal and institution accounts' own posts, posts per window, and with hand
  codes every row of the coded posts. :func:`_conflicts` finds the ids seen in more than one
  partition.
* **Pass 1, aggregate** (:func:`_aggregate`): the conflict rows are set aside for the driver, the
  others aggregated (:func:`_aggregates_of`: stance, units, edges per window, ties, platform
  counts). Edges go to disk in buckets by source (:func:`_write_buckets`), each bucket summed by
  one task (:func:`_sum_bucket`) and read back sorted (:func:`_read_sums`); the rest goes to
  the driver, merged by :func:`_combine` (counts add up, frames are concatenated) and reduced
  once by :func:`_finish` (units compressed, first times the minimum).
* **Pass 2, reach** (:func:`_pairs`, :func:`_texts`): the distinct accounts that answered,
  reposted or quoted the candidate posts, and the texts of the report's most-answered posts.

The driver that runs the passes is :mod:`netsupport.scale.driver`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..schema import IKind, InteractionCol, PostCol, Table, Target, Window
from ..support.platforms import combine_platform_parts, platform_parts
from ..windows import Windows
from .frames import _add_counts, _concat, _empty, _hash, _isin, _key_hash, _objects, _write
from .plan import _SEQ
from .stance_model import _decided, _rules_table

_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value

_WINDOWS = tuple(w.value for w in Window)


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
    # whether the partitions collect their posts' distinct authors (the accounts per platform):
    # not when every post is Twitter's (the scan), which leaves the study no platform table
    platform_authors: bool = True

    @property
    def spec(self) -> Any:
        from ..stance import StanceSpec

        return StanceSpec(self.focal, self.institution, self.markers, self.windows, self.stance)


def _window_counts(ts: pd.Series, windows: Windows) -> dict[str, int]:
    ts = pd.to_datetime(ts, utc=True)
    out = {}
    for w in Window:
        s, e = windows.bounds(w)
        out[w.value] = int(((ts >= s) & (ts < e)).sum())
    return out


def _scan(posts: pd.DataFrame, inter: pd.DataFrame, ctx: _Ctx) -> dict[str, Any]:
    from ..stance.tables import _marker_candidates

    pid = posts[PostCol.POST_ID]
    iid = inter[InteractionCol.POST_ID]
    ids = np.unique(np.concatenate([_hash(pid[pid.notna()]), _hash(iid[iid.notna()])]))
    null_keys = np.unique(_key_hash(inter[iid.isna().to_numpy()]))
    markers = 0
    if ctx.markers and ctx.focal and len(posts):
        from ..interactions import marker_interactions

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
        "platforms": _post_platforms(posts),
        "references": int(posts[PostCol.TARGET_POST_ID].notna().sum()),
        "posts": len(posts),
        "interactions": len(inter),
    }


def _post_platforms(posts: pd.DataFrame) -> frozenset[str]:
    """The platforms of these posts (a missing one is Twitter's, as :mod:`..support.platforms`
    counts it)."""
    from ..io.platforms import PLATFORM_TWITTER

    if not len(posts):
        return frozenset()
    platform = posts[PostCol.PLATFORM].astype(object).fillna(PLATFORM_TWITTER)
    return frozenset(str(p) for p in platform.unique())


def _combine_scan(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out = {
        "markers": sum(r["markers"] for r in results),
        "platforms": frozenset().union(*(r["platforms"] for r in results)),
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
        "platforms": frozenset(),
        "references": 0,
        "posts": 0,
        "interactions": 0,
    }


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
    from ..support import UNIT_COLUMNS

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
    from .. import graph
    from ..stance import object_strings, rule_counts, stance_interactions
    from ..stance.supervised import rule_profile
    from ..support import AMPLIFIER_KINDS, compress_units, post_units
    from ..support.proxies import conversation_rows
    from ..support.shares import marker_only_counts

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
            posts,
            sint,
            ctx.focal,
            ctx.windows.bounds(Window.CRISIS),
            ctx.deleted,
            authors=ctx.platform_authors,
        ),
        "conflict_posts": None,
        "conflict_inter": None,
        "marker_only": marker_only_counts(table),
    }


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
    if ctx.edges_dir is not None:  # the edges go to disk, in buckets; the rest to the driver
        _write_buckets(res.pop("edges"), Path(ctx.edges_dir), ctx.n_buckets, name)
        res["edges"] = {}
    return res


#: The edge tables the Dask engine aggregates: each window (all kinds) and the crisis
#: repost/quote/mention graph (amplifiers, the report's network map).
EDGE_KEYS = (*_WINDOWS, "amplifiers")


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
    from ..graph import count_column

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


def _uniform_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """Edges with a count column for every kind (0 where absent): one schema for all parts."""
    from ..graph import count_column

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
    from ..graph import count_column

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
    """Merge pass-1 results (associative: the partitions' results, then the conflicts').

    Units and ties are concatenated, not reduced: partitions are days, so the units of two
    partitions hardly ever share a key. :func:`_finish` reduces them once, at the end (was: a
    tree of these merges compressed all units again at each of its levels, and the driver once
    more).
    """
    results = [r for r in results if r is not None]
    if len(results) == 1:
        return results[0]
    keys = {k for r in results for k in r["edges"]}
    return {
        "freq": results[0]["freq"],  # the same in every result
        "units": _concat([r["units"] for r in results]),
        "rows": sum(r["rows"] for r in results),
        "by_rule": _add_counts([r["by_rule"] for r in results]),
        "profile": _add_counts([r["profile"] for r in results]),
        "proxy_units": _concat([r["proxy_units"] for r in results]),
        "candidates": _concat([r["candidates"] for r in results]),
        "edges": {k: _sum_edges([r["edges"].get(k) for r in results]) for k in sorted(keys)},
        "inter_windows": _add_counts([r["inter_windows"] for r in results]),
        "ties": _concat([r["ties"] for r in results]),
        "platforms": combine_platform_parts([r["platforms"] for r in results]),
        "conflict_posts": _concat([r.get("conflict_posts") for r in results]),
        "conflict_inter": _concat([r.get("conflict_inter") for r in results]),
        "marker_only": _add_counts([r.get("marker_only") or {} for r in results]),
    }


def _finish(res: dict[str, Any]) -> dict[str, Any]:
    """The merged pass-1 result with its units compressed and its ties reduced, once: the same
    frames as reducing them at every merge (compressed units compressed again add their
    weights and keep the earliest time, whose bins are theirs; ties keep the earliest)."""
    from ..support import compress_units

    return {
        **res,
        "units": compress_units(res["units"], res["freq"]),
        "ties": _reduce_ties(res["ties"]),
    }


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
