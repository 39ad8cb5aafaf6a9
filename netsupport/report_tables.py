"""The report's tables: the headline measures (tables/headline.csv, and the headline table
the report shows), the most-answered posts per side, and the CSV tables the report writes
(:func:`report_tables`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .report_format import (
    _ci,
    _get,
    _is_nm,
    _num,
    _reason,
    corrected_tie_share,
    fmt_count,
    fmt_pct,
    fmt_points,
    fmt_ratio,
    handle,
    overdispersed_ci,
    undated_ties,
)
from .report_stance import (
    CORRECTED_WINDOWS,
    headline_label,
    several_posts,
    several_posts_windows,
)
from .schema import IKind, PostCol, Target, Window

if TYPE_CHECKING:
    from .report import ReportInputs

__all__ = [
    "POST_TEXT_LIMIT",
    "headline_display",
    "headline_note",
    "headline_table",
    "report_tables",
    "top_posts",
    "top_posts_of_sides",
]

_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_C = Window.CRISIS.value

#: Characters of a post's text shown in the report.
POST_TEXT_LIMIT = 280


def top_posts(
    units: pd.DataFrame,
    posts: pd.DataFrame | None,
    side: str,
    window: str = _C,
    n: int = 5,
) -> pd.DataFrame:
    """Return the posts addressing ``side`` in ``window`` that most accounts replied to, reposted
    or quoted (reach), with their text (untrusted: escaped by the templates).
    """
    return top_posts_of_sides(units, posts, [side], window, n)[side]


def top_posts_of_sides(
    units: pd.DataFrame,
    posts: pd.DataFrame | None,
    sides: Sequence[str],
    window: str = _C,
    n: int = 5,
) -> dict[str, pd.DataFrame]:
    """Return :func:`top_posts` of each of ``sides`` (side -> table), reading the posts once:
    a post's reach and text do not depend on the side asking for it."""
    cols = ["post_id", "author", "created_at", "stance", "reach", "text"]
    empty = {side: pd.DataFrame(columns=cols) for side in sides}
    if posts is None or posts.empty or units.empty:
        return empty
    sel = units[
        np.isin(units["target_side"].astype(object).to_numpy(), list(sides))
        & (units["window"].astype(object).to_numpy() == window)
        & (units["kind"].astype(object).to_numpy() != IKind.REPOST.value)
    ]
    # reach of these posts only: the answers to them, not a groupby over every stored post
    answers = posts[PostCol.TARGET_POST_ID].isin(sel["post_id"]).to_numpy(dtype=bool)
    ref = posts.loc[answers, [PostCol.AUTHOR, PostCol.TARGET_POST_ID]].dropna()
    reach = ref.groupby(PostCol.TARGET_POST_ID)[PostCol.AUTHOR].nunique()
    side_of = sel["target_side"].astype(object).to_numpy()
    top: dict[str, pd.DataFrame] = {}
    for side in sides:
        u = sel[side_of == side]
        u = u.assign(reach=u["post_id"].map(reach).fillna(0).astype(np.int64))
        u = u[u["reach"] > 0]
        if not u.empty:
            top[side] = u.sort_values(
                ["reach", "created_at", "post_id"], ascending=[False, True, True], kind="mergesort"
            ).head(n)
    if not top:
        return empty
    wanted = pd.concat([u["post_id"] for u in top.values()], ignore_index=True)
    shown = posts.loc[posts[PostCol.POST_ID].isin(wanted).to_numpy(dtype=bool)]
    # the first stored row of each post id, as drop_duplicates over all posts would keep
    text = shown.drop_duplicates(PostCol.POST_ID).set_index(PostCol.POST_ID)[PostCol.TEXT]
    out = dict(empty)
    for side, u in top.items():
        t = pd.DataFrame(
            {
                "post_id": u["post_id"].to_numpy(dtype=object),
                "author": u["source"].to_numpy(dtype=object),
                "created_at": pd.to_datetime(u["created_at"], utc=True).to_numpy(),
                "stance": u["stance"].to_numpy(dtype=object),
                "reach": u["reach"].to_numpy(),
                "text": [_clip(x) for x in u["post_id"].map(text).to_numpy(dtype=object)],
            }
        )
        t["created_at"] = pd.to_datetime(t["created_at"], utc=True)
        out[side] = t
    return out


def _clip(text: Any) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    s = " ".join(str(text).split())
    return s if len(s) <= POST_TEXT_LIMIT else s[: POST_TEXT_LIMIT - 1] + "…"


_HEADLINE = (
    # (key, measure, path under a side or None, formatter)
    ("attention_lift", "Attention, crisis / baseline", ("attention", "{side}", "lift"), fmt_ratio),
    (
        "net_support_crisis",
        "Net support in the crisis, points",
        ("headline", "net_support_crisis", "{side}"),  # error-corrected when hand codes exist
        fmt_points,
    ),
    (
        "reputational_change",
        "Change in net support, crisis − baseline",
        ("headline", "reputational_change", "{side}"),  # error-corrected when hand codes exist
        fmt_points,
    ),
    (
        "persistence_attention",
        "Attention, after / baseline",
        ("persistence", "{side}", "attention_ratio"),
        fmt_ratio,
    ),
    (
        "persistence_net_support",
        "Change in net support, after − baseline",
        ("headline", "persistence_net_support", "{side}"),  # error-corrected with hand codes
        fmt_points,
    ),
)


def headline_table(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Return the headline measures as numbers: one row per measure and side (headline.csv).

    Columns ``measure, side, value, low, high, status, method, naive``: status ``measured`` or
    the reason it is not measured; ``method`` says which figure ``value`` is (:data:`METHODS`):
    ``error-corrected`` (for the stance decisions' measured error: ``naive`` holds the
    uncorrected figure beside it), ``uncorrected`` (it counts the stance decisions as made) or
    ``no stance`` (it counts posts whatever their stance); empty when not measured; ``primary``
    says whether the study declared the row a primary measure (``[study] primary``): the
    primaries that are not headline rows (the attention level change, the prior-tie odds ratio)
    follow the others. When some
    supporters' prior tie rests only on a follow without a date
    (:func:`~netsupport.report_format.undated_ties`), ``prior_tie_share`` is followed by
    ``prior_tie_share_dated_ties``, the share counting dated ties only; with hand codes
    (:func:`~netsupport.report_format.corrected_tie_share`) then by
    ``prior_tie_share_error_corrected``, the share with the stance decisions' error carried in
    (``naive``: the share of the decisions as made).
    """
    rows = []
    sides = [_FOCAL] + ([_INST] if metrics.get("study", {}).get("institution") else [])
    for key, _, path, _ in _HEADLINE:
        for side in sides:
            rows.append(
                _headline_row(key, side, _get(metrics, *(p.format(side=side) for p in path)))
            )
    rows.append(
        _headline_row("prior_tie_share", _FOCAL, _get(metrics, "composition", "prior_tie_share"))
    )
    undated = undated_ties(metrics)
    if undated is not None:  # the share rests partly on undated follows: the share without them
        rows.append(_headline_row("prior_tie_share_dated_ties", _FOCAL, undated.dated_share))
    corrected = corrected_tie_share(metrics)
    if corrected is not None:  # the stance decisions' error carried in; naive: as made
        naive = _get(metrics, "composition", "prior_tie_share", "value")
        block = {**corrected, "naive": naive}
        rows.append(_headline_row("prior_tie_share_error_corrected", _FOCAL, block))
    br = metrics.get("breadth")
    rows.append(
        _headline_row(
            "communities_with_k_supporters",
            _FOCAL,
            br if _is_nm(br) or br is None else {"value": br["communities_with_k_supporters"]},
        )
    )
    # the primary measures that are not headline rows above (review t7 X3)
    head = metrics.get("headline") or {}
    if "attention_level_change" in head:
        for side in sides:
            rows.append(
                _headline_row(
                    "attention_level_change",
                    side,
                    _get(metrics, "headline", "attention_level_change", side),
                )
            )
    if "prior_tie_odds_ratio" in head:
        rows.append(_headline_row("prior_tie_odds_ratio", _FOCAL, head["prior_tie_odds_ratio"]))
    declared = _declared(metrics)
    for r in rows:
        r["primary"] = (r["measure"], r["side"]) in declared
    return pd.DataFrame(
        rows,
        columns=["measure", "side", "value", "low", "high", "status", "method", "naive", "primary"],
    )


def _declared(metrics: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(measure, side) of each declared primary measure (a measure without sides: focal)."""
    p = metrics.get("primary")
    rows = p.get("measures") if isinstance(p, Mapping) else None
    return {(str(r.get("measure")), str(r.get("side") or _FOCAL)) for r in rows or ()}


#: headline.csv ``method``: which figure a row's value is.
METHODS = ("error-corrected", "uncorrected", "no stance")
#: The headline rows that count posts or accounts whatever their stance.
_NO_STANCE = ("attention_lift", "persistence_attention", "attention_level_change")


def _headline_row(key: str, side: str, block: Any) -> dict[str, Any]:
    if _is_nm(block) or block is None:
        return {
            "measure": key,
            "side": side,
            "value": np.nan,
            "low": np.nan,
            "high": np.nan,
            "status": _reason(block),
            "method": "",
            "naive": np.nan,
        }
    corrected = "naive" in block
    return {
        "measure": key,
        "side": side,
        "value": _num(block.get("value")),
        "low": _num(block.get("low")),
        "high": _num(block.get("high")),
        "status": "measured",
        "method": METHODS[0] if corrected else METHODS[2] if key in _NO_STANCE else METHODS[1],
        "naive": _num(block.get("naive")) if corrected else np.nan,
    }


def _evenness(br: Mapping[str, Any]) -> str:
    """The headline cell's evenness, saying over which communities it is taken.

    Examples
    --------
    >>> _evenness({"normalised_entropy": 0.7228, "communities_with_supporters": 18})
    'evenness 0.72 over the 18 with any supporter'
    >>> _evenness({"normalised_entropy": 0.0, "communities_with_supporters": 1})
    'every supporter in one community'
    """
    c = br.get("communities_with_supporters")
    even = f"evenness {float(br['normalised_entropy']):.2f}"
    if c is None:
        return even
    if int(c) <= 1:
        return "every supporter in one community" if int(c) == 1 else "no supporter in a community"
    return f"{even} over the {fmt_count(c)} with any supporter"


def headline_display(metrics: Mapping[str, Any]) -> list[list[str]]:
    """Return the headline measures as formatted text rows (measure, focal[, institution])."""
    sides = [_FOCAL] + ([_INST] if metrics.get("study", {}).get("institution") else [])

    def show(block: Any, fmt: Any) -> str:
        if _is_nm(block) or block is None:
            return "not measured"
        ci = _ci(block, fmt)
        return f"{fmt(block.get('value'))} ({ci})" if ci else fmt(block.get("value"))

    def show_ratio(block: Any, fmt: Any) -> str:  # the lifts: the overdispersed interval too
        text = show(block, fmt)
        od = overdispersed_ci(block) if isinstance(block, Mapping) else ""
        return text[:-1] + f"; {od} overdispersed)" if od and text.endswith(")") else text

    rows = []
    narrow = _too_narrow(metrics)
    for key, label, path, fmt in _HEADLINE:
        cell = show_ratio if key in _NO_STANCE else show
        rows.append(
            [headline_label(metrics, key, label) + (f" {NARROW_MARK}" if key in narrow else "")]
            + [cell(_get(metrics, *(p.format(side=side) for p in path)), fmt) for side in sides]
        )
    blank = [""] * (len(sides) - 1)
    ties = show(_get(metrics, "composition", "prior_tie_share"), fmt_pct)
    undated = undated_ties(metrics)
    if undated is not None:  # the share rests partly on undated follows (as the finding says)
        ties += f"; {show(undated.dated_share, fmt_pct)} counting dated ties only"
    corrected = corrected_tie_share(metrics)
    if corrected is not None:  # the stance decisions' error carried in, as the finding says
        ties += f"; {show(corrected, fmt_pct)} error-corrected"
    rows.append(["Supporters with a prior tie", ties, *blank])
    br = metrics.get("breadth")
    rows.append(
        [
            "Communities with enough supporters",
            "not measured"
            if _is_nm(br) or br is None
            else f"{br['communities_with_k_supporters']} with ≥ {br['k']} ({_evenness(br)})",
            *blank,
        ]
    )
    px = _get(metrics, "proxies", "top")
    rows.append(
        [
            "Top proxy during the silence",
            f"{handle(px[0]['handle'])} (reached {fmt_count(px[0]['reach'])})"
            if isinstance(px, list) and px
            else "not measured",
            *blank,
        ]
    )
    return rows


#: The mark of a headline row whose error-corrected interval is too narrow (accounts of several
#: posts in a window it reads); :func:`headline_note` says why.
NARROW_MARK = "†"


def _too_narrow(metrics: Mapping[str, Any]) -> list[str]:
    """The headline measures whose error-corrected account-level intervals are too narrow:
    accounts posted more than once in a window they read (:data:`CORRECTED_WINDOWS`)."""
    windows = several_posts_windows(metrics)
    out = []
    for key, read in CORRECTED_WINDOWS.items():
        side = (metrics.get("headline") or {}).get(key) or {}
        corrected = any(isinstance(v, Mapping) and "naive" in v for v in side.values())
        if corrected and windows & set(read):
            out.append(key)
    return out


def headline_note(metrics: Mapping[str, Any]) -> str:
    """Return the note under the headline table for the rows :data:`NARROW_MARK` marks, or ""."""
    if not _too_narrow(metrics):
        return ""
    where = several_posts(metrics, ("crisis", "baseline", "after"))
    return (
        f"{NARROW_MARK} Error-corrected at account level, with intervals too narrow: some "
        f"accounts posted more than once {where} (the error-corrected finding says by how much)."
    )


def report_tables(inp: ReportInputs) -> dict[str, pd.DataFrame]:
    """Return the CSV tables of the report (file stem -> table)."""
    out: dict[str, pd.DataFrame] = {"headline": headline_table(inp.metrics)}
    if inp.write_stance is None:
        stance_cols = [c for c in inp.stance.columns]
        out["stance"] = inp.stance[stance_cols]
    for name in ("supporters", "communities", "amplifiers", "proxies", "roles"):
        t = inp.tables.get(name)
        if t is not None:
            out[name] = t
    if inp.top is not None:  # computed by the Dask engine with top_posts
        out["top_posts_focal"] = inp.top[_FOCAL]
        if inp.study.institution:
            out["top_posts_institution"] = inp.top[_INST]
        if inp.platforms is not None:  # (summed over the store's partitions)
            out["platforms"] = inp.platforms
        return out
    sides = [_FOCAL, _INST] if inp.study.institution else [_FOCAL]
    top = top_posts_of_sides(inp.units, inp.posts, sides)
    out["top_posts_focal"] = top[_FOCAL]
    if inp.study.institution:
        out["top_posts_institution"] = top[_INST]
    out.update(_platform_table(inp))
    return out


def _platform_table(inp: ReportInputs) -> dict[str, pd.DataFrame]:
    """``{"platforms": counts per platform}`` when any post is not from Twitter, else empty."""
    from .support.platforms import platform_counts

    w = inp.study.windows
    t = platform_counts(
        inp.posts, inp.interactions, inp.study.focal, w.crisis_start, w.crisis_end, inp.deleted
    )
    return {} if t is None else {"platforms": t}
