"""The one place that assembles metrics.json from the measures, and the headline rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import graph
from ..schema import (
    InteractionCol,
    PostCol,
    Table,
    Window,
)
from ..stance import (
    STANCE_ORDER,
    StanceResult,
    load_lexicon,
    object_strings,
    rule_counts,
    stance_interactions,
)
from ..stance.supervised import correct_validation
from ..textsafe import jsonable
from ..windows import Windows
from ..wording import counted
from .attention import (
    attention,
    lift,
    overdispersed_interval,
    persistence,
    without_marker_only,
)
from .common import (
    _A,
    _B,
    _C,
    _FOCAL,
    _INST,
    _SIDES,
    _WINDOWS,
    AMPLIFIER_KINDS,
    METRICS_VERSION,
    _isin,
    _measured,
    not_measured,
)
from .communities import baseline_communities, breadth, community_mobilisation
from .comparisons import net_change_split, tie_comparison
from .corrected import corrected_headline, stance_validation_metrics
from .coverage import InputSpan, coverage_check
from .primary import primary_measures
from .proxies import amplifiers, crisis_pagerank, focal_silence, proxies
from .role_timing import timing_by_side
from .roles import account_roles, roles_attention
from .sensitivity import CommunityRuns, grid_sensitivity, mark_uncorrected
from .shares import (
    _count,
    _net_change,
    _side_rows,
    _weight,
    compress_units,
    marker_only_counts,
    post_units,
    reputational_change,
    stance_shares,
)
from .ties import (
    corrected_tie_share,
    follow_lists,
    prior_ties,
    supporter_composition,
    supporters,
    touching,
    undated_ties,
)
from .timeseries import block_shares, its_lift, timeline_counts, timeline_freq

# ---- orchestration -------------------------------------------------------------------------------


@dataclass
class Analysis:
    """Everything :func:`analyse` computes: the metrics dict and the tables behind it."""

    metrics: dict[str, Any]
    stance: pd.DataFrame
    units: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _coverage(tables: Mapping[str, pd.DataFrame], inter: pd.DataFrame, windows: Windows) -> dict:
    posts = tables.get(Table.POSTS)
    stamps = []
    if posts is not None and not posts.empty:
        stamps.append(pd.to_datetime(posts[PostCol.CREATED_AT], utc=True))
    if inter is not None and not inter.empty:
        stamps.append(pd.to_datetime(inter[InteractionCol.CREATED_AT], utc=True))
    ts = (
        pd.concat(stamps, ignore_index=True)
        if stamps
        else pd.Series([], dtype="datetime64[us, UTC]")
    )
    out: dict[str, Any] = {}
    post_ts = stamps[0] if posts is not None and not posts.empty else ts.iloc[:0]
    for w in _WINDOWS:
        s, e = windows.bounds(Window(w))
        n = int(((ts >= s) & (ts < e)).sum())
        out[w] = {"rows": n, "covered": n > 0}
    # posts per window, popped by analyse_inputs (a partial file's posts are weighed by them)
    out["_posts"] = {
        w: int(((post_ts >= s) & (post_ts < e)).sum())
        for w, (s, e) in ((w, windows.bounds(Window(w))) for w in _WINDOWS)
    }
    if len(ts) and ts.notna().any():
        out["_span"] = (ts.min(), ts.max())  # popped by analyse_inputs (coverage check)
    return out


def _side_presence(
    side: str, handles: Sequence[str], units: pd.DataFrame, posts: pd.DataFrame | None
) -> str | None:
    """Return a reason the side cannot be measured, or None."""
    if not handles:
        return f"no {side} account given in the study"
    addressed = len(_side_rows(units, side)) > 0
    posted = posts is not None and not posts.empty and posts[PostCol.AUTHOR].isin(handles).any()
    if not addressed and not posted:
        names = ", ".join("@" + h for h in handles)
        return f"the {side} account(s) {names} never appear in the data"
    return None


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if _missing(v) else v) for k, v in row.items()} for row in df.to_dict("records")
    ]


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def analyse(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    *,
    stance: StanceResult | None = None,
    membership: pd.Series | None = None,
    pagerank: pd.Series | None = None,
    workers: int | None = None,
    spans: Sequence[InputSpan] | None = None,
    community_runs: CommunityRuns | None = None,
    baseline_edges: pd.DataFrame | None = None,
) -> Analysis:
    """Run stance classification and every support metric for a study.

    Parameters
    ----------
    tables : mapping
        Canonical DataFrames ``posts``, ``interactions``, ``follows``, ``accounts`` (missing ones
        are treated as empty).
    study : Study
    stance : StanceResult, optional
        A precomputed :func:`netsupport.stance.stance_table` result.
    membership : Series, optional
        Baseline communities (handle -> community id); detected on the baseline graph if omitted.
    pagerank : Series, optional
        PageRank on the crisis repost/quote/mention graph; computed if omitted.
    workers : int, optional
        Processes for stance scoring.
    spans : sequence of InputSpan, optional
        The time span of each input file (:func:`netsupport.support.coverage.input_spans` of the
        store's manifest); by default the span of all posts and interactions together.
    community_runs : CommunityRuns, optional
        The sensitivity grid's community detections on the baseline graph
        (:func:`netsupport.support.sensitivity.community_runs` of the study's baseline edges
        and ``membership``), when the communities step made them; detected here if omitted.
    baseline_edges : DataFrame, optional
        :func:`netsupport.graph.baseline_edges` of the study's interactions and declared
        windows, when the communities step made them; made here if omitted.

    Returns
    -------
    Analysis
        ``metrics`` (see :func:`compute_metrics`), ``stance`` (per interaction), ``units`` (per
        post and side) and ``tables`` (``communities``, ``amplifiers``, ``proxies``, ``roles``,
        ``supporters``) for the report's CSV files.
    """
    from ..stance import stance_table

    tables = object_strings(tables)
    if stance is None:  # the shares are corrected below, with the study's bootstrap
        stance = stance_table(tables, study, workers=workers, correct=False)
    inputs, units = metric_inputs(tables, study, stance, spans=spans)
    inter = inputs.interactions
    if inter is not None and not inter.empty:
        # once, for the tie comparison's covariate and the community grid (both re-made them)
        inputs.baseline_edges = (
            baseline_edges
            if baseline_edges is not None
            else graph.baseline_edges(inter, study.windows)
        )
        inputs.baseline_windows = study.windows
    metrics, out_tables = analyse_inputs(inputs, study, membership=membership, pagerank=pagerank)
    metrics["sensitivity"] = jsonable(
        grid_sensitivity(tables, study, stance, inputs, membership, runs=community_runs)
    )
    mark_uncorrected(metrics)  # the grid re-runs the stance as decided, not the correction
    metrics["role_timing"] = jsonable(timing_by_side(inputs.proxy_units, out_tables, study))
    return Analysis(metrics, stance.table, units, out_tables)


@dataclass
class MetricInputs:
    """What the measures are computed from: the boundary between the data and the metrics.

    :func:`metric_inputs` builds it from the tables (pandas engine); :mod:`netsupport.scale`
    builds the same from a store with Dask, partition by partition. Either way
    :func:`analyse_inputs` gives the same metrics.

    Attributes
    ----------
    units : DataFrame
        :func:`compress_units` of the post-level units (compressed or not, same metrics).
    stance_rows, by_rule, agreement, lexicon
        Interactions classified, their count per rule family, the agreement with hand labels and
        the lexicon's description (:class:`netsupport.stance.StanceResult`).
    coverage : dict
        Rows of data (posts and interactions) per window (``{window: {rows, covered}}``).
    tie_interactions : DataFrame or None
        Interactions touching the focal account (at least): :func:`prior_ties` reads these.
    follows, accounts : DataFrame or None
        The canonical tables (accounts may be limited to the accounts in ``units``).
    posts : DataFrame or None
        Posts: at least those by the focal and institution accounts (author, created_at).
    any_posts, any_references : bool
        Whether the data hold any post; whether any post refers to another by id.
    proxy_units : DataFrame
        Post-level units: at least the supportive ones about the focal account during its
        silence (:func:`proxies`).
    proxy_reach : Series, optional
        Reach per account of those posts, if computed elsewhere (else from ``posts``).
    interactions : DataFrame, optional
        All interactions: only needed to detect communities or PageRank not given.
    spans : sequence of InputSpan, optional
        The time span of each input file, for the coverage check (default: the span of the
        rows in ``coverage``, as one input).
    timeline, timeline_freq : DataFrame and str, optional
        Posts per side, window, stance and time bin (:func:`timeseries.timeline_counts`) and the
        bin width: the time-series model and the day-block intervals read them (not measured
        without).
    baseline_edges : DataFrame, optional
        Baseline interactions aggregated into edges (:func:`netsupport.graph.aggregate_edges`):
        each account's baseline activity, the tie comparison's covariate (computed from
        ``interactions`` when not given).
    baseline_windows : Windows, optional
        The windows ``baseline_edges`` were aggregated for. When given and the measures' windows
        (cut to the data's span) have another baseline, the edges are made again for those.
    """

    units: pd.DataFrame
    stance_rows: int
    by_rule: dict[str, int]
    agreement: dict[str, Any]
    lexicon: dict[str, Any]
    coverage: dict[str, dict[str, Any]]
    tie_interactions: pd.DataFrame | None
    follows: pd.DataFrame | None
    accounts: pd.DataFrame | None
    posts: pd.DataFrame | None
    any_posts: bool
    any_references: bool
    proxy_units: pd.DataFrame
    proxy_reach: pd.Series | None = None
    interactions: pd.DataFrame | None = None
    spans: Sequence[InputSpan] | None = None
    timeline: pd.DataFrame | None = None
    timeline_freq: str | None = None
    baseline_edges: pd.DataFrame | None = None
    baseline_windows: Windows | None = None
    stance_model: dict[str, Any] | None = None  # how stance was decided (StanceResult.model)
    validation: dict[str, Any] | None = None  # cross-validated error, corrected shares
    validation_units: pd.DataFrame | None = None  # units the corrected shares come from
    # post units standing only on a study marker, per "side/window" (shares.marker_only_counts)
    marker_only: dict[str, int] | None = None


def metric_inputs(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    stance: StanceResult,
    spans: Sequence[InputSpan] | None = None,
) -> tuple[MetricInputs, pd.DataFrame]:
    """Return the :class:`MetricInputs` of a study's tables and stance, and the post-level units."""
    tables = object_strings(tables)
    posts = tables.get(Table.POSTS)
    inter = (
        stance.interactions
        if stance.interactions is not None
        else stance_interactions(tables, study)
    )
    units = post_units(stance.table)
    has_posts = posts is not None and not posts.empty
    inputs = MetricInputs(
        units=compress_units(units),
        stance_rows=len(stance.table),
        by_rule=rule_counts(stance.table["rule"]),
        agreement=stance.agreement,
        lexicon=stance.lexicon,
        coverage=_coverage(tables, inter, study.windows),
        tie_interactions=inter,
        follows=tables.get(Table.FOLLOWS),
        accounts=tables.get(Table.ACCOUNTS),
        posts=posts,
        any_posts=has_posts,
        any_references=bool(has_posts and posts[PostCol.TARGET_POST_ID].notna().any()),
        proxy_units=units,
        interactions=inter,
        spans=spans,
        timeline=timeline_counts(units, freq := timeline_freq(study.windows)),
        timeline_freq=freq,
        stance_model=stance.model,
        validation=stance.validation,
        validation_units=stance.validation_units,
        marker_only=marker_only_counts(stance.table),
    )
    return inputs, units


def analyse_inputs(
    inputs: MetricInputs,
    study: Any,
    *,
    membership: pd.Series | None = None,
    pagerank: pd.Series | None = None,
    roles: pd.Series | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Return every support metric (see :func:`compute_metrics`) and the tables behind them.

    ``membership`` and ``pagerank`` are detected from ``inputs.interactions`` when not given
    (and are not measured when neither is there); ``roles`` (:func:`_roles` of the same inputs
    and PageRank) are derived when not given.
    """
    coverage = dict(inputs.coverage)
    declared: Windows = study.windows
    study, coverage_record = _checked_windows(
        study, inputs, coverage.pop("_span", None), coverage.pop("_posts", None)
    )
    sp = study.support
    windows: Windows = study.windows
    units = inputs.units
    posts = inputs.posts
    handles = {_FOCAL: tuple(study.focal), _INST: tuple(study.institution)}
    absent = {s: _side_presence(s, handles[s], units, posts) for s in _SIDES}
    boot = {"n_boot": sp.bootstrap, "seed": sp.seed, "confidence": sp.confidence}

    def window_ok(w: str) -> str | None:
        if declared.days(Window(w)) <= 0:
            return f"the {w} window has zero length"
        if not coverage[w]["covered"]:  # (before a cut to the data leaves it zero length)
            s, e = declared.bounds(Window(w))
            return (
                f"the data hold nothing in the {w} window [{s.isoformat()}, {e.isoformat()}): "
                "the input does not cover it"
            )
        if windows.days(Window(w)) <= 0:
            return f"the {w} window lies outside the data's time span: cut to zero length"
        return None

    m: dict[str, Any] = {
        "version": METRICS_VERSION,
        "study": {
            "name": study.name,
            "focal": list(study.focal),
            "institution": list(study.institution),
            "windows": windows.as_dict(),
            "window_days": {w: windows.days(Window(w)) for w in _WINDOWS},
        },
        "parameters": {
            "bootstrap": sp.bootstrap,
            "seed": sp.seed,
            "confidence": sp.confidence,
            "breadth_min_supporters": sp.breadth_min_supporters,
            "top_n": sp.top_n,
            "positive_threshold": study.stance.positive_threshold,
            "negative_threshold": study.stance.negative_threshold,
            "lexicon": inputs.lexicon,
        },
        "coverage": coverage,
        "coverage_check": coverage_record,
    }
    m["stance"] = {
        "interactions": inputs.stance_rows,
        "units": _count(units),
        "by_rule": dict(inputs.by_rule),
        "by_stance": {side: _stance_counts(_side_rows(units, side)) for side in _SIDES},
        "agreement": inputs.agreement,
    }
    validation = inputs.validation
    if validation is not None and inputs.validation_units is not None:
        validation = correct_validation(
            validation, inputs.validation_units, sp.bootstrap, sp.seed, sp.confidence
        )
    m.update(stance_validation_metrics(inputs.stance_model, validation))

    # attention, shares, reputation, persistence: per side
    att, shares, rep, pers = {}, {}, {}, {}
    for side in _SIDES:
        if absent[side]:
            att[side] = shares[side] = rep[side] = pers[side] = not_measured(absent[side])
            continue
        a = attention(units, side, windows)
        sh = {}
        for w in _WINDOWS:
            why = window_ok(w)
            if why:
                a[w] = not_measured(why)
                sh[w] = not_measured(why)
            else:
                sh[w] = stance_shares(units, side, w, **boot)
        why = window_ok(_C) or window_ok(_B)
        a["lift"] = (
            not_measured(why)
            if why
            else lift(
                units, side, windows, confidence=sp.confidence, n_boot=sp.bootstrap, seed=sp.seed
            )
        )
        att[side], shares[side] = a, sh
        rep[side] = not_measured(why) if why else reputational_change(units, side, **boot)
        why_a = window_ok(_A) or window_ok(_B)
        pers[side] = not_measured(why_a) if why_a else persistence(units, side, windows, **boot)
    m["attention"], m["stance_shares"], m["persistence"] = att, shares, pers
    gap: dict[str, Any]
    if absent[_FOCAL] or absent[_INST]:
        gap = not_measured(absent[_FOCAL] or absent[_INST] or "")
    elif not (_measured(rep[_FOCAL]) and _measured(rep[_INST])):
        gap = not_measured("the change of one side is not measured")
    else:
        gap = _net_change(
            units,
            [((_FOCAL, _B), (_FOCAL, _C)), ((_INST, _B), (_INST, _C))],
            "gap",
            n_boot=sp.bootstrap,
            seed=sp.seed,
            confidence=sp.confidence,
        )
    m["reputation"] = {_FOCAL: rep[_FOCAL], _INST: rep[_INST], "gap": gap}

    # who supported: composition, communities, amplifiers, proxies, roles
    out_tables: dict[str, pd.DataFrame] = {}
    focal_why = absent[_FOCAL] or window_ok(_C)
    sup_idx = supporters(units) if not focal_why else pd.Index([], name="handle")
    # the interactions of the focal account: prior_ties reads only these (here and 2x below)
    tie_rows = touching(inputs.tie_interactions, study.focal)
    if focal_why:
        m["composition"] = not_measured(focal_why)
    else:
        ties = prior_ties(sup_idx, study.focal, inputs.follows, tie_rows, windows)
        out_tables["supporters"] = ties.reset_index()
        m["composition"] = supporter_composition(ties, sp.confidence)
    prov = getattr(study, "provenance", None)
    m["follow_lists"] = follow_lists(
        getattr(prov, "follows_collected", None), study.focal, inputs.follows, tie_rows, windows
    )

    if focal_why:
        m["mobilisation"] = m["breadth"] = not_measured(focal_why)
    else:
        info: dict[str, Any] = {
            "algorithm": study.communities.algorithm,
            "resolution": study.communities.resolution,
            "seed": study.communities.seed,
        }
        if membership is None and inputs.interactions is not None:
            membership, info = baseline_communities(inputs.interactions, study)
        if membership is None or len(membership) == 0:
            m["mobilisation"] = m["breadth"] = not_measured(
                "the baseline graph is empty: no standing community to compare with"
            )
        else:
            table = community_mobilisation(membership, units, sup_idx, windows, sp.confidence)
            out_tables["communities"] = table
            shown = table.sort_values(
                ["members", "community"], ascending=[False, True], kind="mergesort"
            ).head(max(sp.top_n, 20))
            outside = units[
                (units["target_side"] == _FOCAL)
                & (units["window"] == _C)
                & ~_isin(units["source"], membership.index)
            ]
            m["mobilisation"] = {
                **info,
                "n_communities": len(table),
                "communities": [_community_record(r) for r in _records(shown)],
                "outside_baseline_graph": {
                    "active": int(outside["source"].nunique()),
                    "supporters": int((~_isin(sup_idx, membership.index)).sum()),
                },
            }
            m["breadth"] = breadth(membership, sup_idx, sp.breadth_min_supporters)

    pr_info: dict[str, Any] = {"kinds": [k.value for k in AMPLIFIER_KINDS]}
    if not focal_why and pagerank is None and inputs.interactions is not None:
        pagerank, pr_info = crisis_pagerank(inputs.interactions, study)
    roles_table = _roles(inputs, study, pagerank) if roles is None else None
    if roles is None:
        roles = roles_table.set_index("handle")["role"]
    if focal_why:
        m["amplifiers"] = not_measured(focal_why)
    else:
        if pagerank is None or len(pagerank) == 0:
            m["amplifiers"] = not_measured("the crisis repost/quote/mention graph is empty")
        else:
            amp = amplifiers(
                pagerank,
                units,
                exclude=(*study.focal, *study.institution),
                roles=roles,
                membership=membership,
                top_n=sp.top_n,
            )
            out_tables["amplifiers"] = amp
            focal_pr = pagerank.reindex(list(study.focal)).dropna()
            m["amplifiers"] = {
                "graph": pr_info,
                "top": _records(amp),
                "focal_pagerank": float(focal_pr.sum())
                if len(focal_pr)
                else not_measured("the focal account is not in the crisis graph"),
            }

    if absent[_FOCAL]:
        m["silence"] = m["proxies"] = not_measured(absent[_FOCAL])
    else:
        silence = focal_silence(posts, study.focal, windows, any_posts=inputs.any_posts)
        m["silence"] = silence
        m["proxies"] = proxies(
            inputs.proxy_units,
            posts,
            silence,
            focal=study.focal,
            declared=study.proxies,
            top_n=sp.top_n,
            references=inputs.any_references,
            reach=inputs.proxy_reach,
        )
        if _measured(m["proxies"]):
            out_tables["proxies"] = pd.DataFrame(m["proxies"]["top"])

    m.update(_evidence(inputs, study, units, absent, window_ok, tie_rows))
    _lift_intervals(m, inputs.marker_only, windows, sp.confidence)

    m["roles"] = {
        side: (
            not_measured(absent[side])
            if absent[side]
            else roles_attention(units, roles, side, windows)
        )
        for side in _SIDES
    }
    if roles_table is None:  # roles given: every one is in the conversation
        roles_table = roles.rename_axis("handle").rename("role").reset_index()
        roles_table["in_conversation"] = True
    out_tables["roles"] = roles_table
    m["headline"] = _headline(m)
    m["primary"] = primary_measures(m, getattr(study, "primary", ()))
    return jsonable(m), out_tables


def _lift_intervals(
    m: dict[str, Any], marker_only: dict[str, int] | None, windows: Windows, confidence: float
) -> None:
    """Add to each measured lift (crisis / baseline, and after / baseline) its quasi-Poisson
    interval (``overdispersed``, with the attention time-series fit's dispersion) and the lift
    without marker-only posts (``without_marker_only``, the focal side) (METHODS.md, "Attention
    and lift")."""
    for side in _SIDES:
        model = (m.get("attention_model") or {}).get(side)
        phi = model.get("dispersion") if isinstance(model, dict) and _measured(model) else None
        ratios = [(_C, (m["attention"].get(side) or {}).get("lift"))]
        pers = m["persistence"].get(side)
        if isinstance(pers, dict) and _measured(pers):
            ratios.append((_A, pers.get("attention_ratio")))
        for window, rr in ratios:
            if not isinstance(rr, dict) or not _measured(rr):
                continue
            rr["overdispersed"] = (
                overdispersed_interval(rr, phi, confidence)
                if phi is not None
                else not_measured("the attention time-series model is not measured")
            )
            if side == _FOCAL:
                rr["without_marker_only"] = without_marker_only(
                    rr, marker_only, side, windows, numerator=window, confidence=confidence
                )


def _roles(inputs: MetricInputs, study: Any, pagerank: pd.Series | None) -> pd.DataFrame:
    """Return ``handle, role, in_conversation`` for every account the accounts table describes
    and every account the measures may name (:func:`account_roles`).

    ``in_conversation``: the account addressed either side in some window or is in the crisis
    conversation graph (``pagerank``): role timing's population (METHODS.md, "Role timing").
    """
    # the amplifiers name the crisis graph's accounts: not only the senders, or an amplifier the
    # accounts file describes showed "unknown"; and graph.gexf gives every account of the
    # interaction graph the role the accounts table gives it: not only those in the conversation,
    # or 594 of the example's accounts showed "unknown" (review t5 #3)
    conversation = pd.Index(inputs.units["source"].unique())
    if pagerank is not None:
        conversation = conversation.union(pd.Index(pagerank.index.astype(object)))
    roles = account_roles(
        inputs.accounts,
        load_lexicon(study.stance.lexicon),
        conversation.union(pd.Index(list(study.institution), dtype=object)),
        study.institution,
    )
    return pd.DataFrame(
        {
            "handle": roles.index.to_numpy(dtype=object),
            "role": roles.to_numpy(dtype=object),
            "in_conversation": roles.index.isin(conversation),
        }
    )


def _evidence(
    inputs: MetricInputs,
    study: Any,
    units: pd.DataFrame,
    absent: Mapping[str, Any],
    window_ok: Any,
    tie_rows: pd.DataFrame | None,
) -> dict[str, Any]:
    """The measures that test the claims (issue 15): the prior-tie comparison, the split of the
    change in net support, the time-series model of attention and the day-block intervals.
    ``tie_rows``: the :func:`touching` rows of ``inputs.tie_interactions`` (focal account)."""
    sp, windows = study.support, study.windows
    boot = {"n_boot": sp.bootstrap, "seed": sp.seed, "confidence": sp.confidence}
    focal_why = absent[_FOCAL] or window_ok(_C)
    edges = inputs.baseline_edges
    made_for = inputs.baseline_windows
    if made_for is not None and made_for.bounds(Window.BASELINE) != windows.bounds(Window.BASELINE):
        edges = None  # aggregated for the declared windows, and these were cut to the data
    if edges is None and inputs.interactions is not None:
        edges = graph.baseline_edges(inputs.interactions, windows)
    comparisons: dict[str, Any] = {
        "prior_ties": not_measured(focal_why)
        if focal_why
        else tie_comparison(
            units,
            tuple(study.focal),
            inputs.follows,
            tie_rows,
            windows,
            baseline_edges=edges,
            confidence=sp.confidence,
            validation_units=inputs.validation_units,
            n_boot=sp.bootstrap,
            seed=sp.seed,
        ),
    }
    split, model, blocks = {}, {}, {}
    for side in _SIDES:
        why = absent[side] or window_ok(_C) or window_ok(_B)
        split[side] = not_measured(why) if why else net_change_split(units, side, **boot)
        if why:
            model[side] = blocks[side] = not_measured(why)
        elif inputs.timeline is None or inputs.timeline_freq is None:
            model[side] = blocks[side] = not_measured("no per-bin counts were computed")
        else:
            model[side] = its_lift(
                inputs.timeline, side, windows, inputs.timeline_freq, sp.confidence
            )
            blocks[side] = {
                w: block_shares(inputs.timeline, side, w, inputs.timeline_freq, **boot)
                for w in (_B, _C)
            }
    comparisons["net_support_change"] = split
    return {"comparisons": comparisons, "attention_model": model, "block_bootstrap": blocks}


def _checked_windows(
    study: Any, inputs: MetricInputs, span: Any, posts: Any = None
) -> tuple[Any, dict[str, Any]]:
    """Return the study with its windows cut to the data (or raise), and the coverage record."""
    spans = list(inputs.spans) if inputs.spans is not None else []
    if not any(s.first is not None for s in spans) and span is not None:
        rows = sum(
            int(c["rows"])
            for w, c in inputs.coverage.items()
            if isinstance(c, Mapping) and not str(w).startswith("_")
        )
        spans.append(InputSpan("all inputs", "", span[0], span[1], rows))
    used, record = coverage_check(
        spans,
        study.windows,
        getattr(study, "uncovered", "cut"),
        rows=inputs.coverage,
        study_path=getattr(study, "path", None),
        posts=posts,
    )
    if used != study.windows and is_dataclass(study) and not isinstance(study, type):
        study = replace(study, windows=used)
    return study, record


def _stance_counts(units: pd.DataFrame) -> dict[str, int]:
    code = units["_stance"].to_numpy()
    w = _weight(units)
    counts = np.bincount(
        code[code >= 0], weights=None if w is None else w[code >= 0], minlength=3
    ).astype(np.int64)
    return {s: int(counts[i]) for i, s in enumerate(STANCE_ORDER)}


def _community_record(r: Mapping[str, Any]) -> dict[str, Any]:
    lift_v = r["lift"]
    return {
        "community": r["community"],
        "members": r["members"],
        "active": r["active"],
        "share_active": r["share_active"],
        "supporters": r["supporters"],
        "supportive_share": r["supportive_share"]
        if r["supportive_share"] is not None
        else not_measured("no member addressed the focal account in the crisis"),
        "crisis_interactions": r["crisis_interactions"],
        "baseline_interactions": r["baseline_interactions"],
        "lift": {"value": lift_v, "low": r["lift_low"], "high": r["lift_high"]}
        if lift_v is not None
        else not_measured("no member addressed the focal account in the baseline"),
    }


def _pick(d: Any, *path: str) -> Any:
    for p in path:
        if not _measured(d):
            return d
        if not isinstance(d, Mapping) or p not in d:
            return not_measured("missing")
        d = d[p]
    return d


def _headline(m: Mapping[str, Any]) -> dict[str, Any]:
    by_side = {
        "attention_lift": ("attention", "lift"),
        "net_support_crisis": ("stance_shares", "crisis", "account_level", "net_support"),
        "reputational_change": ("reputation",),
        "persistence_attention": ("persistence", "attention_ratio"),
    }
    out: dict[str, Any] = {}
    for key, path in by_side.items():
        out[key] = {}
        for side in _SIDES:
            if path == ("reputation",):
                out[key][side] = _pick(m["reputation"][side], "account_level")
            else:
                out[key][side] = _pick(m[path[0]], side, *path[1:])
    corrected_headline(out, m)
    out["prior_tie_share"] = _pick(m["composition"], "prior_tie_share")
    if "attention_model" in m:  # the measures that test the claims (issue 15)
        out["attention_level_change"] = {
            side: _pick(m["attention_model"], side, "level_change") for side in _SIDES
        }
        out["prior_tie_odds_ratio"] = _pick(
            m["comparisons"], "prior_ties", "variants", "all_ties", "odds_ratio"
        )
    out["breadth"] = (
        {k: m["breadth"][k] for k in ("communities_with_k_supporters", "normalised_entropy", "k")}
        if _measured(m["breadth"])
        else m["breadth"]
    )
    px = m["proxies"]
    if _measured(px) and px["top"]:
        out["top_proxy"] = {"handle": px["top"][0]["handle"], "reach": px["top"][0]["reach"]}
    elif _measured(px):
        out["top_proxy"] = not_measured(
            "no supportive post about the focal account during its silence reached anyone"
        )
    else:
        out["top_proxy"] = px
    return out


def compute_metrics(tables: Mapping[str, pd.DataFrame], study: Any, **kwargs: Any) -> dict:
    """Return every support metric of a study as the ``metrics.json`` structure.

    Every number is a float rounded to 6 places or an int; every interval is a dict
    ``{"value", "low", "high"}`` (with ``confidence`` and ``method`` beside it where the
    interval is computed); anything the data cannot support is ``{"status": "not measured",
    "reason": str}``. Times are ISO-8601 UTC strings. ``side`` is ``focal`` or ``institution``;
    ``window`` is ``baseline``, ``crisis`` or ``after``. Structure (METHODS.md, "metrics.json")::

        version: 1
        study: {name, focal: [h], institution: [h], windows: {baseline_start, crisis_start,
                crisis_end, after_end}, window_days: {window: days}}
        parameters: {bootstrap, seed, confidence, breadth_min_supporters, top_n,
                     positive_threshold, negative_threshold, lexicon: {sources, ...sizes}}
        coverage: {window: {rows, covered}}            # rows of data inside each window
        stance: {interactions, units, by_rule: {rule: n}, by_stance: {side: {stance: n}},
                 agreement: {n, accuracy, macro_f1, kappa, confusion: {labels, matrix}} | NM}
        attention: {side: {window: {interactions, accounts, days, interactions_per_day,
                                    accounts_per_day} | NM,
                           lift: {value, low, high, confidence, method, numerator,
                                  denominator,
                                  account_bootstrap: {low, high, accounts, bootstrap,
                                                      undefined_resamples, method}} | NM} | NM}
        stance_shares: {side: {window: {post_level: {n, supportive: CI, critical: CI,
                                                     neutral: CI, net_support: CI},
                                        account_level: {same, n = accounts},
                                        confidence, method, bootstrap} | NM} | NM}
        reputation: {side: {post_level: CI, account_level: CI, accounts, confidence, method,
                            bootstrap} | NM,          # net(crisis) - net(baseline)
                     gap: {post_level: CI, account_level: CI, ...} | NM}  # focal - institution
        persistence: {side: {attention_ratio: <lift dict> | NM,          # after / baseline
                             net_support_change: <reputation dict> | NM} | NM}
        composition: {supporters, prior_tie, newcomers,
                      prior_tie_share: {value, low, high, confidence, method, k, n},
                      tie_kind: {follow_only, interaction_only, both},
                      follow_observed_later} | NM
        mobilisation: {algorithm, resolution, seed, [engine, modularity, nodes, edges],
                       n_communities,
                       communities: [{community, members, active, share_active, supporters,
                                      supportive_share: float | NM, crisis_interactions,
                                      baseline_interactions, lift: {value, low, high} | NM}],
                       outside_baseline_graph: {active, supporters}} | NM
        breadth: {k, communities_with_k_supporters, communities_with_supporters, entropy,
                  normalised_entropy, supporters_in_communities, supporters_outside} | NM
        amplifiers: {graph: {kinds, edges, nodes},
                     top: [{rank, handle, pagerank, role, community: int | null,
                            crisis_posts_about_focal, stance: str | null}],
                     focal_pagerank: float | NM} | NM
        silence: {start, end, hours, crisis_overlap_hours, censored_start, censored_end,
                  focal_posts} | NM
        proxies: {top: [{rank, handle, reach, supportive_posts, declared}], candidates,
                  supportive_posts, declared: [{handle, reach, supportive_posts}], method} | NM
        roles: {side: {role: {baseline|crisis|after: {interactions, accounts},
                              first_mention: {at, hours_after_crisis_start} | NM,
                              crisis_share: float | NM,
                              supportive_account_share: float | NM}} | NM}
        headline: {attention_lift: {side: lift | NM}, net_support_crisis: {side: CI | NM},
                   reputational_change: {side: CI | NM}, persistence_attention: {side: lift | NM},
                   prior_tie_share: {...} | NM,
                   breadth: {k, communities_with_k_supporters, normalised_entropy} | NM,
                   top_proxy: {handle, reach} | NM}

    where CI is ``{"value", "low", "high"}`` and NM is ``{"status": "not measured", "reason"}``.
    Keyword arguments are passed to :func:`analyse`.
    """
    return analyse(tables, study, **kwargs).metrics


# ---- rendering helpers ---------------------------------------------------------------------------


def _fmt(x: Any, digits: int = 2, pct: bool = False) -> str:
    if isinstance(x, Mapping):
        if not _measured(x):
            return "not measured"
        if "value" in x:
            v, lo, hi = x.get("value"), x.get("low"), x.get("high")
            if lo is None or hi is None:
                return _fmt(v, digits, pct)
            return f"{_fmt(v, digits, pct)} [{_fmt(lo, digits, pct)}, {_fmt(hi, digits, pct)}]"
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isinf(x):
            return "inf"
        return f"{100 * x:.0f}%" if pct else f"{x:.{digits}f}"
    return str(x)


def _stance_label(metrics: Mapping[str, Any], key: str, label: str) -> str:
    """Return a headline label that says what a stance figure is: error-corrected, or (most
    units without text) the share who reposted rather than net support."""
    if key not in ("net_support_crisis", "reputational_change"):
        return label
    kinds = {w.get("kind") for w in metrics.get("stance_warnings") or ()}
    if "no_text" in kinds:
        label = label.replace("Net support", "Reposted minus critical share (not net support)")
        label = label.replace("Reputational change", "Change in reposted minus critical")
    side = metrics.get("headline", {}).get(key, {})
    if any(isinstance(v, Mapping) and "naive" in v for v in side.values()):
        label += ", error-corrected"
    return label


def headline_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return the headline as (measure, focal, institution) text rows for tables.

    Examples
    --------
    >>> rows = headline_rows({"headline": {"attention_lift": {"focal": {"value": 3.0,
    ...     "low": 2.0, "high": 4.5}, "institution": not_measured("x")}}})
    >>> rows[0]
    ('Attention lift, crisis / baseline', '3.00 [2.00, 4.50]', 'not measured')

    When some supporters' prior tie rests only on a follow without a date
    (:func:`~netsupport.support.ties.undated_ties`), the prior-tie row also gives the share
    counting dated ties only, as the report's headline table does.
    """
    h = metrics.get("headline", {})
    rows: list[tuple[str, str, str]] = []
    labels = [
        ("attention_lift", "Attention lift, crisis / baseline", False),
        ("net_support_crisis", "Net support in the crisis (accounts)", False),
        ("reputational_change", "Reputational change, crisis - baseline", False),
        ("persistence_attention", "Attention after / baseline", False),
    ]
    labels = [(k, _stance_label(metrics, k, label), pct) for k, label, pct in labels]
    for key, label, pct in labels:
        if key in h:
            side = h[key]
            rows.append((label, _fmt(side.get(_FOCAL), pct=pct), _fmt(side.get(_INST), pct=pct)))
    if "prior_tie_share" in h:
        ties = _fmt(h["prior_tie_share"], pct=True)
        undated = undated_ties(metrics)
        if undated is not None:  # the share rests partly on undated follows (as the report says)
            ties += f"; {_fmt(undated.dated_share, pct=True)} counting dated ties only"
        corrected = corrected_tie_share(metrics)
        if corrected is not None:  # the stance decisions' error carried in (review t8 B1)
            ties += f"; {_fmt(corrected, pct=True)} error-corrected"
        rows.append(("Supporters with a prior tie", ties, ""))
    if "breadth" in h:
        b = h["breadth"]
        text = (
            f"{counted(b['communities_with_k_supporters'], 'community', 'communities')} with "
            f">= {counted(b['k'], 'supporter', 'supporters')}, "
            f"evenness {b['normalised_entropy']:.2f}"
            if _measured(b)
            else "not measured"
        )
        rows.append(("Breadth", text, ""))
    if "top_proxy" in h:
        p = h["top_proxy"]
        text = f"@{p['handle']} (reached {p['reach']})" if _measured(p) else "not measured"
        rows.append(("Top proxy during the silence", text, ""))
    return rows


def run_support(
    tables: Mapping[str, pd.DataFrame], study: Any, out: str | Path, **kwargs: Any
) -> dict[str, Any]:
    """Compute the metrics of a study, write them to ``out`` as byte-stable JSON, return them."""
    from ..textsafe import write_json

    metrics = compute_metrics(tables, study, **kwargs)
    write_json(metrics, out)
    return metrics
