"""The Dask engine's driver: :func:`aggregate_study` runs the passes on a cluster and returns a
study's :class:`StudyAggregates`.

It plans the partitions (:mod:`netsupport.scale.plan`), runs the scan, finds the conflicts,
trains the study's stance model on the hand codes (:mod:`netsupport.scale.stance_model`), runs
the aggregate pass (edges summed in buckets, the rest merged here), processes the rows of posts
spread over partitions together, measures the decisions' error, runs the reach pass and picks
the report's most-answered posts (:func:`_top_posts`); :func:`unit_bins` gives the time bins the
units are compressed with. The passes themselves are in :mod:`netsupport.scale.aggregate`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..accountmap import apply_account_map, study_account_map
from ..errors import NetsupportError
from ..schema import SCHEMAS, InteractionCol, PostCol, Table
from ..store import Store
from ..support.platforms import deleted_ids, platform_table
from ..windows import Windows
from .aggregate import (
    _FOCAL,
    _INST,
    _WINDOWS,
    _aggregate,
    _aggregates_of,
    _combine,
    _combine_pairs,
    _combine_scan,
    _conflicts,
    _Ctx,
    _empty_edges,
    _finish,
    _pairs,
    _read_sums,
    _scan,
    _scan_empty,
    _sum_bucket,
    _sum_edges,
    _texts,
    finish_edges,
)
from .frames import _by_seq, _concat, _empty, _hash
from .plan import (
    _POST_COLUMNS,
    _SEQ,
    DEFAULT_PARTITION_ROWS,
    Plan,
    _released,
    _tree,
    partition_tasks,
    plan_partitions,
)
from .stance_model import _agreement, _coded_rules, _validation

_KEY = [InteractionCol.POST_ID, InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND]

#: Rows of the largest partition per edge bucket: edges are summed in min(64, rows / this)
#: buckets by source (:func:`_write_buckets`).
ROWS_PER_EDGE_BUCKET = 1_000_000


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
    # post units standing only on a study marker, per "side/window" (marker_only_counts)
    marker_only: dict[str, int] | None = None


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
    from ..report_charts import time_bin
    from ..support.timeseries import timeline_freq
    from ..timebins import TimeBins

    return (TimeBins(windows, time_bin(windows)), timeline_freq(windows))


def _study_ctx(study: Any, freq: Any) -> _Ctx:
    from ..stance import read_labels

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
    # the study's account map, applied to every row read, as the pandas engine applies it
    account_map = study_account_map(study)
    posts_cols = [
        PostCol.POST_ID,
        PostCol.AUTHOR,
        PostCol.CREATED_AT,
        PostCol.TARGET_POST_ID,
        PostCol.PLATFORM,
    ]
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
    scans = dask.compute(
        *partition_tasks(
            plan, _scan, posts_cols, inter_cols, cdel, seq=coded, account_map=account_map
        )
    )
    scan = _combine_scan(scans) if scans else _combine_scan([_scan_empty(coded)])
    conflict_posts = _conflicts([s["ids"] for s in scans])
    conflict_keys = _conflicts([s["null_keys"] for s in scans])
    del scans

    from ..io.platforms import PLATFORM_TWITTER, bluesky_handles
    from ..stance.model import describe
    from ..stance.supervised import UNVALIDATED
    from ..support import focal_silence
    from ..support import proxy_reach as reach_of

    sides, own = ctx.focal + ctx.institution, scan["own_posts"]
    accounts = apply_account_map({Table.ACCOUNTS: store.read(Table.ACCOUNTS)}, account_map)
    accounts = accounts[Table.ACCOUNTS]
    silence = focal_silence(own if len(own) else None, ctx.focal, ctx.windows)
    if isinstance(silence, Mapping) and "start" in silence:
        span = (pd.Timestamp(silence["start"]).value, pd.Timestamp(silence["end"]).value)
    else:
        span = None
    ctx = replace(
        ctx,
        # (the interactions the map leaves: the pandas engine looks at its mapped table)
        derive=scan["interactions"] == 0 and scan["posts"] > 0,
        dedup=scan["markers"] > 0,
        silence=span,
        conflict_posts=conflict_posts,
        conflict_keys=conflict_keys,
        parts_dir=str(parts_dir) if parts_dir is not None else None,
        deleted=deleted_ids(store),
        handles=tuple(bluesky_handles(accounts, sides).items()),
        # (a study whose posts are all Twitter's has no platform table: no authors to count)
        platform_authors=bool(scan["platforms"] - {PLATFORM_TWITTER}),
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
                plan,
                _aggregate,
                _POST_COLUMNS,
                all_inter,
                cdel,
                seq=True,
                named=True,
                account_map=account_map,
            )
            edge_sums: dict[str, pd.DataFrame] = {}
            if tasks:
                # The partitions write their edges (the biggest result) to disk in buckets by
                # source; then each bucket is summed by one task. Workers so hold one
                # partition, or one bucket, at a time. The rest comes here, each partition's
                # result once, concatenated (_combine) and reduced once (_finish). Was: a tree
                # of merge tasks, whose top one, on one worker while the other idled, merged
                # every partition's units again after the levels below it had.
                res = _combine(dask.compute(*tasks))
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
        res = _finish(res)  # the units compressed and the ties reduced, once
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
            _tree(
                partition_tasks(plan, _pairs, cols, None, idel, account_map=account_map),
                _combine_pairs,
            )
        )
    proxy_reach = reach_of(pairs, proxy_units)
    top = _top_posts(study, candidates, pairs, plan)

    coverage = {}
    for w in _WINDOWS:
        n = int(scan["post_windows"].get(w, 0)) + int(res["inter_windows"].get(w, 0))
        coverage[w] = {"rows": n, "covered": n > 0}
    # posts per window, popped by analyse_inputs (a partial file's posts are weighed by them)
    coverage["_posts"] = {w: int(scan["post_windows"].get(w, 0)) for w in _WINDOWS}
    from ..stance import load_lexicon

    edges = {}
    for k in sorted(set(edge_sums) | set(res["edges"])):
        if k in edge_sums and not len(res["edges"].get(k, ())):
            edges[k] = edge_sums.pop(k)  # already in finish_edges' form
        else:
            edges[k] = finish_edges(_sum_edges([edge_sums.pop(k, None), res["edges"].get(k)]))
    for w in (*_WINDOWS, "amplifiers"):
        edges.setdefault(w, _empty_edges())
    return StudyAggregates(
        units=res["units"],
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
        marker_only=dict(res.get("marker_only") or {}),
    )


def _top_posts(
    study: Any, candidates: pd.DataFrame, pairs: pd.DataFrame, plan: Plan
) -> dict[str, pd.DataFrame]:
    """The report's most-answered crisis posts per side (report_tables.top_posts on reduced
    inputs)."""
    import dask

    from ..report_tables import top_posts

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
