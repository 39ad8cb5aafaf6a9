"""Supporters and their prior ties to the focal account (the 'reputation paid off' measure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..schema import (
    FollowCol,
    IKind,
    InteractionCol,
)
from ..windows import Windows
from .common import _C, _FOCAL, _SUP, _measured, _obj, not_measured, proportion_ci
from .shares import _cell, account_stance_counts, majority_stance

# ---- supporters and prior ties -------------------------------------------------------------------


def supporters(units: pd.DataFrame, side: str = _FOCAL, window: str = _C) -> pd.Index:
    """Return the accounts whose majority stance towards ``side`` in ``window`` is supportive."""
    counts = account_stance_counts(_cell(units, side, window))
    maj = majority_stance(counts)
    return pd.Index(sorted(maj.index[maj == _SUP]), name="handle")


def touching(interactions: pd.DataFrame | None, handles: Iterable[str]) -> pd.DataFrame | None:
    """Return the interactions from or to any of ``handles``: the rows :func:`prior_ties` reads
    (select them once to call it several times on a big table)."""
    if interactions is None or interactions.empty:
        return interactions
    handles = set(handles)
    touch = interactions[InteractionCol.SOURCE].isin(handles) | interactions[
        InteractionCol.TARGET
    ].isin(handles)
    return interactions[touch.to_numpy(dtype=bool)]


def prior_ties(
    accounts: Iterable[str],
    focal: Iterable[str],
    follows: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    windows: Windows,
) -> pd.DataFrame:
    """Return, per account, whether it had a tie to the focal account before the crisis.

    A *follow* tie: the account follows a focal handle in the follows table (or a ``follow``
    interaction), observed before the crisis started or at an unknown time. An *interaction*
    tie: any non-follow interaction between the account and a focal handle, in either
    direction, in the baseline window. A follow observed only after the crisis start is not
    evidence of a prior tie (``follow_later`` flags it).

    Returns
    -------
    DataFrame
        Index handle (sorted); bool columns ``follow``, ``interaction``, ``prior_tie``,
        ``follow_later``.
    """
    accs = pd.Index(sorted(set(accounts)), name="handle")
    handles = pd.Index(_obj(accs), dtype=object)  # (isin on objects: see common._isin)
    focal = set(focal)
    start_c = windows.crisis_start
    follow = pd.Series(False, index=accs)
    later = pd.Series(False, index=accs)
    if follows is not None and not follows.empty:
        f = follows[follows[FollowCol.FOLLOWEE].isin(focal)]
        obs = pd.to_datetime(f[FollowCol.OBSERVED_AT], utc=True)
        prior = (obs.isna() | (obs < start_c)).to_numpy(dtype=bool)
        followers = _obj(f[FollowCol.FOLLOWER])
        follow |= handles.isin(followers[prior])
        later |= handles.isin(followers[~prior])
    inter = pd.Series(False, index=accs)
    interactions = touching(interactions, focal)
    if interactions is not None and not interactions.empty:
        kind = _obj(interactions[InteractionCol.KIND])
        ts = pd.to_datetime(interactions[InteractionCol.CREATED_AT], utc=True)
        src = _obj(interactions[InteractionCol.SOURCE])
        dst = _obj(interactions[InteractionCol.TARGET])
        is_follow = kind == IKind.FOLLOW.value
        to_focal = pd.Series(dst, dtype=object).isin(focal).to_numpy()
        f_prior = is_follow & to_focal & (ts.isna() | (ts < start_c)).to_numpy(dtype=bool)
        follow |= handles.isin(src[f_prior])
        later |= handles.isin(src[is_follow & to_focal & ~f_prior])
        base = (~is_follow) & ((ts >= windows.baseline_start) & (ts < start_c)).to_numpy(
            dtype=bool, na_value=False
        )
        from_focal = pd.Series(src, dtype=object).isin(focal).to_numpy()
        inter |= handles.isin(src[base & to_focal])
        inter |= handles.isin(dst[base & from_focal])
    out = pd.DataFrame({"follow": follow, "interaction": inter}, index=accs)
    out["prior_tie"] = out["follow"] | out["interaction"]
    out["follow_later"] = later & ~out["prior_tie"]
    return out


def supporter_composition(ties: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Return prior-tie supporters vs newcomers among crisis supporters (``ties`` from prior_ties).

    ``prior_tie_share`` (the "reputation paid off" measure) has a Clopper-Pearson interval.
    """
    n = len(ties)
    if n == 0:
        return not_measured("no account was supportive of the focal account in the crisis")
    k = int(ties["prior_tie"].sum())
    return {
        "supporters": n,
        "prior_tie": k,
        "newcomers": n - k,
        "prior_tie_share": proportion_ci(k, n, confidence),
        "tie_kind": {
            "follow_only": int((ties["follow"] & ~ties["interaction"]).sum()),
            "interaction_only": int((ties["interaction"] & ~ties["follow"]).sum()),
            "both": int((ties["follow"] & ties["interaction"]).sum()),
        },
        "follow_observed_later": int(ties["follow_later"].sum()),
    }


# ---- when the follower lists were collected ------------------------------------------------------


def follow_lists(
    collected: str | None,
    focal: Iterable[str],
    follows: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    windows: Windows,
) -> dict[str, Any]:
    """Return the ``follow_lists`` block of metrics.json: when the follower lists were collected
    (``[provenance] follows_collected``, ISO text, or None) and how that date stands to the
    crisis, with the number of accounts whose follow of a focal handle has no date.

    A follow from a follower list carries no time: it is taken to predate the crisis
    (:func:`prior_ties`). Whether it can is a matter of when the list was taken:
    ``relative_to_crisis`` is ``before`` when the collection ended before the crisis started
    (a date alone is the whole of that day), ``after`` when it started at or after the crisis
    end, ``during`` otherwise, None when the date is not given.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T18:00Z", 14, 14)
    >>> f = pd.DataFrame({"follower": ["a", "b", "c"], "followee": ["lane", "lane", "x"],
    ...     "observed_at": pd.to_datetime([None, "2014-02-01", None], utc=True)})
    >>> follow_lists("2014-03-05", ["lane"], f, None, w)
    {'collected': '2014-03-05', 'relative_to_crisis': 'after', 'undated_follows': 1}
    >>> follow_lists("2014-02-14", ["lane"], f, None, w)["relative_to_crisis"]
    'during'
    >>> follow_lists(None, ["lane"], f, None, w)["relative_to_crisis"] is None
    True
    """
    focal = set(focal)
    undated: set[str] = set()
    if follows is not None and not follows.empty:
        to_focal = pd.Series(_obj(follows[FollowCol.FOLLOWEE]), dtype=object).isin(focal)
        no_time = follows[FollowCol.OBSERVED_AT].isna().to_numpy(dtype=bool)
        undated.update(x for x in _obj(follows[FollowCol.FOLLOWER])[to_focal.to_numpy() & no_time])
    if interactions is not None and not interactions.empty:
        kind = _obj(interactions[InteractionCol.KIND])
        dst = pd.Series(_obj(interactions[InteractionCol.TARGET]), dtype=object)
        no_time = interactions[InteractionCol.CREATED_AT].isna().to_numpy(dtype=bool)
        sel = (kind == IKind.FOLLOW.value) & dst.isin(focal).to_numpy() & no_time
        undated.update(x for x in _obj(interactions[InteractionCol.SOURCE])[sel])
    undated.discard(None)
    where = None
    if collected is not None:
        ts = pd.Timestamp(collected)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        end = ts + pd.Timedelta(days=1) if len(collected) == 10 else ts  # a date: its whole day
        if end <= windows.crisis_start:
            where = "before"
        elif ts >= windows.crisis_end:
            where = "after"
        else:
            where = "during"
    return {"collected": collected, "relative_to_crisis": where, "undated_follows": len(undated)}


# ---- prior ties resting only on an undated follow ------------------------------------------------


@dataclass(frozen=True)
class UndatedTies:
    """Crisis supporters whose prior tie rests only on a follow without a date.

    ``undated`` of the ``ties`` supporters with a prior tie (composition) have no tie but a
    follow whose date nobody knows, taken to predate the crisis; ``dated_share`` is the share of
    supporters with a prior tie counting dated ties only (``{value, low, high}``).
    """

    undated: int
    ties: int
    dated_share: Mapping[str, Any]


def _block(d: Any, *path: str) -> Any:
    """Return the measured mapping at ``path`` in ``d``, or None (missing or not measured)."""
    for p in path:
        if not isinstance(d, Mapping) or not _measured(d):
            return None
        d = d.get(p)
    return d if isinstance(d, Mapping) and _measured(d) else None


def corrected_tie_share(metrics: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the error-corrected prior-tie share of supporters (``{value, low, high}``), or
    None when metrics.json has none (no hand codes, the Dask engine; METHODS.md, "Supporter
    composition").

    The report's headline table and the headline rows of ``netsupport support`` both give it
    beside the share of the decisions as made, as the finding does (review t8 B1).

    Examples
    --------
    >>> ec = {"value": 2.3, "prior_tie_share": {"value": 0.62, "low": 0.5, "high": 0.72}}
    >>> m = {"comparisons": {"prior_ties": {"variants": {"all_ties": {"error_corrected": ec}}}}}
    >>> corrected_tie_share(m)["value"]
    0.62
    >>> corrected_tie_share({"comparisons": {}}) is None
    True
    """
    path = ("comparisons", "prior_ties", "variants", "all_ties", "error_corrected")
    share = _block(_block(metrics, *path), "prior_tie_share")
    return share if share is not None and share.get("value") is not None else None


def undated_ties(metrics: Mapping[str, Any]) -> UndatedTies | None:
    """Return the supporters' ties that rest only on an undated follow, or None when there are
    none (or the share counting dated ties only is not measured).

    The report's finding on prior ties, the report's headline table and the headline rows of
    ``netsupport support`` (:func:`~netsupport.support.headline_rows`) all carry this caveat
    when it is not None, so they cannot disagree on when to show it.

    Examples
    --------
    >>> share = {"value": 0.39, "low": 0.31, "high": 0.48}
    >>> dated = {"supportive": {"accounts": 133, "prior_tie": 52, "share": share}}
    >>> m = {"composition": {"supporters": 133, "prior_tie": 89},
    ...      "comparisons": {"prior_ties": {"variants": {"dated_ties": {"groups": dated}}}}}
    >>> u = undated_ties(m)
    >>> u.undated, u.ties, u.dated_share["value"]
    (37, 89, 0.39)
    >>> dated["supportive"]["prior_tie"] = 89  # every tie dated: nothing to say
    >>> undated_ties(m) is None
    True
    """
    comp = _block(metrics, "composition")
    if comp is None or "prior_tie" not in comp:
        return None
    path = ("comparisons", "prior_ties", "variants", "dated_ties", "groups", _SUP)
    dated = _block(metrics, *path)
    if dated is None or "prior_tie" not in dated:
        return None
    share = _block(dated, "share")
    if share is None:
        return None
    undated = int(comp["prior_tie"]) - int(dated["prior_tie"])
    return UndatedTies(undated, int(comp["prior_tie"]), share) if undated > 0 else None
