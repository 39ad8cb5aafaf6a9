"""Sensitivity of the headline measures to the study's choices (METHODS.md, "Sensitivity").

The headline measures are re-computed, as point estimates, for every specification of a declared
grid (``[sensitivity]`` in study.toml): the crisis start and end each moved by a few days, the
baseline length, the VADER cut-offs of the stance rules. The stance table is re-thresholded (only
rows the VADER score decided change) and re-windowed; nothing is re-imported or re-scored. A
cut-off that gives the post units the stances of a cut-off already in the grid is left out (when a
stance model or the hand codes decide every post, every cut-off but the study's): it would repeat
its specifications. When a stance model decided some rows, a classifier axis re-runs the
stance measures with the rules' own decisions on those rows (kept by the stance step, not
re-scored), hand codes kept. Each measure's summary counts its distinct specifications, those
that differ in a choice the measure reads (net support in the crisis does not read the baseline
length, the attention ratios not the stance). The community measures (breadth, evenness) are
re-computed over community algorithms x resolutions x seeds on the baseline graph, with the
stability (NMI) of the partitions and a consensus partition.

A specification whose windows reach outside the data's time span is listed but left out of the
sign check: a window the data do not cover would give a number about nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..graph_measures import CommunityRuns, community_runs, consensus_partition
from ..schema import Window
from ..stance.model import RULE_MODEL
from ..stance.rules import RULE_ELSEWHERE, RULE_LABEL, RULE_VADER, STANCE_ORDER
from ..windows import Windows
from .common import _INST, _SIDES, not_measured
from .shares import post_units, unit_rows

__all__ = [
    "FOCAL_ONLY",
    "MEASURES",
    "READS",
    "CommunityRuns",
    "TieInputs",
    "community_grid",
    "community_runs",
    "consensus_partition",
    "grid_communities",
    "grid_graph",
    "grid_sensitivity",
    "mark_uncorrected",
    "restance",
    "sensitivity",
    "spec_measures",
    "stance_classifiers",
    "stance_cutoffs",
    "summarise_grid",
    "window_grid",
]

_DAY = pd.Timedelta(days=1)
_SUP_CODE, _CRI_CODE, _NEU_CODE = 0, 1, 2

#: Headline measures the window/threshold grid re-computes: (key, null value, label). A null
#: of None: a level with no "no change" value (a share), whose summary gives no sign check.
MEASURES: tuple[tuple[str, float | None, str], ...] = (
    ("attention_lift", 1.0, "Attention lift, crisis / baseline"),
    ("net_support_crisis", 0.0, "Net support in the crisis (accounts)"),
    ("reputational_change", 0.0, "Reputational change, crisis - baseline"),
    ("persistence_attention", 1.0, "Attention after / baseline"),
    ("attention_level_change", 1.0, "Attention level change at the crisis start"),
    ("prior_tie_share", None, "Supporters with a prior tie (focal)"),
    ("prior_tie_odds_ratio", 1.0, "Odds ratio of a prior tie, supporters vs others (adjusted)"),
)

#: Measures of the focal side only (the prior ties are ties to the focal account).
FOCAL_ONLY = ("prior_tie_share", "prior_tie_odds_ratio")

#: Measures :func:`spec_measures` gives only with the time bins (``freq``): the time-series
#: model's level change, a point estimate per specification (METHODS.md, "Sensitivity").
_MODELLED = ("attention_level_change",)


def restance(stance: pd.DataFrame, positive: float, negative: float) -> pd.DataFrame:
    """Return the stance table with the VADER-decided rows re-labelled at other cut-offs.

    Rows decided by a lexicon phrase, a repost, a marker or a hand label keep their stance;
    rows whose ``rule`` is ``vader`` or ``aimed-elsewhere`` (their ``score`` is a VADER compound)
    become supportive at ``score >= positive``, critical at ``score <= negative``.

    Examples
    --------
    >>> st = pd.DataFrame({"stance": ["neutral", "neutral", "supportive"],
    ...     "score": [0.07, 0.3, 0.0], "rule": ["vader", "vader", "repost"]})
    >>> restance(st, 0.1, -0.1)["stance"].tolist()
    ['neutral', 'supportive', 'supportive']
    >>> restance(st, 0.05, -0.05)["stance"].tolist()
    ['supportive', 'supportive', 'supportive']
    """
    out = stance.copy()
    out["stance"] = _relabelled(stance, positive, negative)
    return out


def _relabelled(stance: pd.DataFrame, positive: float, negative: float) -> np.ndarray:
    """Return the ``stance`` column :func:`restance` gives, as an object array."""
    rule = stance["rule"].to_numpy(dtype=object)
    by_score = (rule == RULE_VADER) | (rule == RULE_ELSEWHERE)
    score = stance["score"].to_numpy(dtype=float)
    sup, cri, neu = STANCE_ORDER
    relabel = np.where(score >= positive, sup, np.where(score <= negative, cri, neu))
    st = stance["stance"].to_numpy(dtype=object).copy()
    st[by_score] = relabel[by_score]
    return st


@dataclass(frozen=True)
class SpecWindows(Windows):
    """The windows of a grid specification: the baseline may end before the (moved) crisis
    starts (``baseline_end``; None: at the crisis start), the days between in no window."""

    baseline_end: pd.Timestamp | None = None

    def bounds(self, window: Window) -> tuple[pd.Timestamp, pd.Timestamp]:
        if Window(window) is Window.BASELINE and self.baseline_end is not None:
            return (self.baseline_start, self.baseline_end)
        return super().bounds(window)

    def as_dict(self) -> dict[str, str]:
        out = super().as_dict()
        if self.baseline_end is not None:
            out["baseline_end"] = pd.Timestamp(self.baseline_end).strftime("%Y-%m-%dT%H:%M:%SZ")
        return out


def variant_windows(
    windows: Windows, start_shift: float, end_shift: float, baseline_days: float
) -> SpecWindows | None:
    """Return the study windows with the crisis bounds moved and another baseline length.

    The baseline is the ``baseline_days`` before the (moved) crisis start, or before the
    declared crisis start when the start is moved later: declared crisis time is never counted
    as baseline (the days from the declared to the moved start are then in no window). The after
    window keeps its length after the (moved) crisis end. None when the moved crisis is empty.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-01-10T00:00Z", "2014-01-12T00:00Z", 7, 4)
    >>> later = variant_windows(w, 1.0, 0.0, 7.0)
    >>> later.as_dict()["baseline_end"], later.as_dict()["crisis_start"], later.days("baseline")
    ('2014-01-10T00:00:00Z', '2014-01-11T00:00:00Z', 7.0)
    >>> "baseline_end" in variant_windows(w, -1.0, 0.0, 7.0).as_dict()
    False
    """
    cs = windows.crisis_start + start_shift * _DAY
    ce = windows.crisis_end + end_shift * _DAY
    if ce <= cs:
        return None
    after = windows.after_end - windows.crisis_end
    be = min(cs, windows.crisis_start)
    return SpecWindows(
        be - baseline_days * _DAY, cs, ce, ce + after, baseline_end=be if be < cs else None
    )


@dataclass(frozen=True)
class _Units:
    """Post-level units as arrays: side (0 focal, 1 institution), stance code, account, time."""

    side: np.ndarray
    stance: np.ndarray
    account: np.ndarray
    n_accounts: int
    time: np.ndarray  # int64 ns UTC
    handles: np.ndarray | None = None  # the account codes' handles (sorted)

    @classmethod
    def of(cls, units: pd.DataFrame) -> _Units:
        side = (units["target_side"].to_numpy(dtype=object) == _INST).astype(np.int64)
        stance = _stance_codes(units["stance"])
        account, uniq = pd.factorize(units["source"].to_numpy(dtype=object), sort=True)
        t = pd.to_datetime(units["created_at"], utc=True)
        time = t.astype("datetime64[ns, UTC]").array.asi8 if len(t) else np.zeros(0, np.int64)
        return cls(side, stance, account.astype(np.int64), len(uniq), time, np.asarray(uniq))


def _stance_codes(stance: pd.Series) -> np.ndarray:
    """Return the position of each stance in STANCE_ORDER (-1: missing or another value).

    Factorised: the positions are looked up once per distinct value, not once per row.

    Examples
    --------
    >>> _stance_codes(pd.Series(["critical", None, "neutral", "other", "supportive"])).tolist()
    [1, -1, 2, -1, 0]
    """
    code = {s: i for i, s in enumerate(STANCE_ORDER)}
    at, uniques = pd.factorize(stance)
    lookup = np.array([code.get(v, -1) for v in uniques] + [-1], dtype=np.int64)
    return lookup[at]  # (-1, a missing value, takes the last: -1)


def _window_codes(u: _Units, w: Windows) -> np.ndarray:
    """Return each unit's window: 0 baseline, 1 crisis, 2 after, -1 none (before, after, or
    between a baseline that ends early and the crisis: :class:`SpecWindows`)."""
    b_end = w.bounds(Window.BASELINE)[1]
    edges = np.array(
        [pd.Timestamp(x).value for x in (w.baseline_start, b_end, w.crisis_start, w.crisis_end)]
        + [pd.Timestamp(w.after_end).value],
        dtype=np.int64,
    )
    idx = np.searchsorted(edges, u.time, side="right") - 1
    return np.array([-1, 0, -1, 1, 2, -1], dtype=np.int64)[idx + 1]  # (idx -1 to 4)


def _account_counts(u: _Units, mask: np.ndarray) -> np.ndarray:
    """Return the units in ``mask`` counted per account and stance (n_accounts x 3)."""
    ok = mask & (u.stance >= 0)
    cell = u.account[ok] * 3 + u.stance[ok]
    return np.bincount(cell, minlength=u.n_accounts * 3).reshape(u.n_accounts, 3)


def _cell_counts(u: _Units, wc: np.ndarray) -> np.ndarray:
    """Return the units counted per side, window (baseline, crisis), account and stance
    (2 x 2 x n_accounts x 3): :func:`_account_counts` of the four cells, in one pass."""
    ok = (wc >= 0) & (wc <= 1) & (u.stance >= 0)
    key = ((u.side[ok] * 2 + wc[ok]) * u.n_accounts + u.account[ok]) * 3 + u.stance[ok]
    n = u.n_accounts
    return np.bincount(key, minlength=4 * n * 3).reshape(2, 2, n, 3)


def _net(u: _Units, mask: np.ndarray) -> float | None:
    """Account-level net support of the units in ``mask``: majority supportive - critical."""
    if not (mask & (u.stance >= 0)).any():
        return None
    return _net_of(_account_counts(u, mask))


def _net_of(counts: np.ndarray) -> float | None:
    """:func:`_net` of the units counted per account and stance (:func:`_account_counts`);
    None when there are none."""
    sup, cri, neu = counts[:, _SUP_CODE], counts[:, _CRI_CODE], counts[:, _NEU_CODE]
    # the accounts in the mask, and those whose majority (_majority_codes: the only maximum;
    # a tie is neutral) is supportive or critical: counted, not selected and argmax-ed
    n = np.count_nonzero(sup + cri + neu)
    if n == 0:
        return None
    n_sup = np.count_nonzero((sup > cri) & (sup > neu))
    n_cri = np.count_nonzero((cri > sup) & (cri > neu))
    return float(n_sup / n - n_cri / n)  # (the same floats as the means of 0/1 arrays)


def _level_changes(u: _Units, windows: Windows, wc: np.ndarray, freq: str) -> dict[str, Any]:
    """Return the time-series model's level change at the crisis start per side
    (:func:`netsupport.support.timeseries.its_lift`, point estimate) for one specification:
    the units binned by ``freq`` (UTC day or hour) within the specification's windows, with
    array counts (no per-unit frame, no timeline table), then the model fitted on the few
    hundred bins."""
    from .timeseries import _bins, its_fit

    step = 86_400 * 10**9 if freq == "D" else 3_600 * 10**9
    keep = wc >= 0
    if not keep.any():
        return {side: None for side in _SIDES}
    t = u.time[keep]
    b = t - np.mod(t, step)  # the bin's start (UTC day or hour), as timeline_counts floors
    b0 = int(b.min())
    n_bins = int((int(b.max()) - b0) // step) + 1
    # one integer per (side, window, bin), counted: no sort of a million keys per specification
    key = (u.side[keep] * 3 + wc[keep]) * n_bins + (b - b0) // step
    counts = np.bincount(key, minlength=6 * n_bins).reshape(len(_SIDES), 3, n_bins)
    # the model's bins (both sides'), each with its window's count of that bin: 0 outside the
    # bins counted
    bins = _bins(windows, freq)
    names = [Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value]
    win = bins["window"].map({w: i for i, w in enumerate(names)}).to_numpy(dtype=np.int64)
    at = (pd.DatetimeIndex(bins["bin"]).as_unit("ns").asi8 - b0) // step
    inside = (at >= 0) & (at < n_bins)
    out: dict[str, Any] = {}
    for s, side_name in enumerate(_SIDES):
        y = np.where(inside, counts[s, win, np.clip(at, 0, n_bins - 1)], 0)
        r = its_fit(bins.assign(y=y), side_name, windows, freq)  # degenerate: not measured
        lc = r.get("level_change") if isinstance(r, Mapping) else None
        out[side_name] = lc.get("value") if isinstance(lc, Mapping) else None
    return out


_NEVER, _UNDATED = np.iinfo(np.int64).max, np.iinfo(np.int64).min


@dataclass(frozen=True)
class TieInputs:
    """What the prior-tie measures read, as arrays over the grid's account codes
    (:class:`_Units`; -1: an account that addressed neither side, never counted).

    ``follow_time``: per account, the earliest time (int64 ns) it was seen following a focal
    handle (follows table or ``follow`` interaction); an undated follow is the smallest int64
    (it counts as prior, as in :func:`netsupport.support.prior_ties`), no follow the largest.
    ``tie_account``/``tie_time``: the non-follow interactions between an account and a focal
    handle, either direction. ``act_account``/``act_time``: the non-follow interactions an
    account sent to another account that is not a focal handle (the odds ratio's covariate,
    :func:`netsupport.support.comparisons.baseline_activity`). ``activity``: False when the
    interactions are not available (the odds ratio is then not measured, as in the headline).
    """

    follow_time: np.ndarray
    tie_account: np.ndarray
    tie_time: np.ndarray
    act_account: np.ndarray
    act_time: np.ndarray
    activity: bool = True

    @classmethod
    def of(
        cls,
        handles: np.ndarray,
        focal: Sequence[str],
        follows: pd.DataFrame | None,
        tie_interactions: pd.DataFrame | None,
        interactions: pd.DataFrame | None,
    ) -> TieInputs:
        """Return the tie arrays of the accounts ``handles`` (the grid's account codes)."""
        from ..schema import FollowCol, IKind, InteractionCol
        from .common import _obj
        from .ties import touching

        index = pd.Index(np.asarray(handles, dtype=object), dtype=object)
        focal_set = set(focal)

        def code(values: pd.Series | np.ndarray) -> np.ndarray:
            # (a column converted to objects already is not converted again)
            obj = values if isinstance(values, np.ndarray) else _obj(values)
            return index.get_indexer(pd.Index(obj, dtype=object)).astype(np.int64)

        def times(values: pd.Series) -> np.ndarray:
            t = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
            return np.where(t.isna().to_numpy(), _UNDATED, t.array.asi8)

        follow_time = np.full(len(index), _NEVER, dtype=np.int64)

        def add_follows(acc: np.ndarray, t: np.ndarray) -> None:
            ok = acc >= 0
            np.minimum.at(follow_time, acc[ok], t[ok])

        if follows is not None and not follows.empty:
            f = follows[pd.Series(_obj(follows[FollowCol.FOLLOWEE])).isin(focal_set).to_numpy()]
            add_follows(code(f[FollowCol.FOLLOWER]), times(f[FollowCol.OBSERVED_AT]))
        empty = np.zeros(0, dtype=np.int64)
        tie_acc, tie_t = [empty], [empty]
        ti = touching(tie_interactions, focal_set)
        if ti is not None and not ti.empty:
            kind = _obj(ti[InteractionCol.KIND])
            src, dst = _obj(ti[InteractionCol.SOURCE]), _obj(ti[InteractionCol.TARGET])
            to_focal = pd.Series(dst, dtype=object).isin(focal_set).to_numpy()
            from_focal = pd.Series(src, dtype=object).isin(focal_set).to_numpy()
            t = times(ti[InteractionCol.CREATED_AT])
            is_follow = kind == IKind.FOLLOW.value
            src_code = code(src)
            fr = is_follow & to_focal
            add_follows(src_code[fr], t[fr])
            tie_rows = ~is_follow & (t != _UNDATED)
            sel = tie_rows & to_focal
            tie_acc.append(src_code[sel])
            tie_t.append(t[sel])
            sel = tie_rows & from_focal
            tie_acc.append(code(dst[sel]))
            tie_t.append(t[sel])
        act_acc, act_t = [empty], [empty]
        has_activity = interactions is not None
        if interactions is not None and not interactions.empty:
            src = _obj(interactions[InteractionCol.SOURCE])
            dst = _obj(interactions[InteractionCol.TARGET])
            kind = _obj(interactions[InteractionCol.KIND])
            keep = (kind != IKind.FOLLOW.value) & (src != None) & (dst != None)  # noqa: E711
            keep &= src != dst
            keep &= ~pd.Series(dst, dtype=object).isin(focal_set).to_numpy()
            t = times(interactions[InteractionCol.CREATED_AT])
            keep &= t != _UNDATED
            act_acc.append(code(src[keep]))
            act_t.append(t[keep])

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts).astype(np.int64)

        ta, tt, aa, at = cat(tie_acc), cat(tie_t), cat(act_acc), cat(act_t)
        return cls(
            follow_time,
            ta[ta >= 0],
            tt[ta >= 0],
            aa[aa >= 0],
            at[aa >= 0],
            activity=has_activity,
        )


def _tie_measures(
    u: _Units,
    counts: np.ndarray,
    windows: Windows,
    ties: TieInputs,
    cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] | None = None,
) -> tuple[float | None, float | None]:
    """Return the prior-tie share of the focal account's crisis supporters and the adjusted
    odds ratio of a prior tie (supporters vs the other accounts that addressed it in the
    crisis), point estimates, for one specification (``counts``: its focal crisis units
    counted per account and stance, :func:`_account_counts`).

    The definitions are the headline's (:func:`netsupport.support.prior_ties`,
    :func:`netsupport.support.comparisons.tie_comparison`, variant ``all_ties``), with the
    specification's windows: a tie is prior when it was made before the specification's
    baseline ends (its crisis start, or the declared one when the start is moved later), an
    interaction tie and the activity count within its baseline.

    ``cache``: the prior ties and baseline activity per account by the baseline's bounds, which
    they alone read (the grid's specifications share a few baselines over their crisis ends
    and cut-offs): made once per baseline, not once per specification. Read-only arrays.
    """
    from .comparisons import tie_odds_ratio

    sup_n, cri_n, neu_n = counts[:, _SUP_CODE], counts[:, _CRI_CODE], counts[:, _NEU_CODE]
    active = (sup_n + cri_n + neu_n) > 0
    sup = (sup_n > cri_n) & (sup_n > neu_n)
    if not sup.any():
        return None, None
    b0, b1 = (pd.Timestamp(x).value for x in windows.bounds(Window.BASELINE))
    made = None if cache is None else cache.get((b0, b1))
    if made is None:
        tie = ties.follow_time < b1
        inside = (ties.tie_time >= b0) & (ties.tie_time < b1)
        tie[ties.tie_account[inside]] = True
        activity = None
        if ties.activity:
            busy = (ties.act_time >= b0) & (ties.act_time < b1)
            activity = np.bincount(ties.act_account[busy], minlength=u.n_accounts)
        made = (tie, activity)
        if cache is not None:
            cache[(b0, b1)] = made
    tie, activity = made
    share = float(np.count_nonzero(tie & sup) / np.count_nonzero(sup))
    if activity is None:
        return share, None
    r = tie_odds_ratio(tie[active], sup[active], activity[active])
    return share, r.get("value") if isinstance(r, Mapping) else None


def spec_measures(
    units: pd.DataFrame | _Units, windows: Windows, freq: str | None = None
) -> dict[str, dict[str, Any]]:
    """Return the headline point estimates of one specification: ``{measure: {side: value}}``.

    ``attention_lift`` and ``persistence_attention`` are rate ratios (posts a day, crisis or
    after / baseline); ``net_support_crisis`` is the account-level net support in the crisis;
    ``reputational_change`` its change on the baseline. None where a denominator is empty.
    With ``freq`` (the study's time bins), also ``attention_level_change``
    (:func:`_level_changes`).

    Examples
    --------
    >>> u = pd.DataFrame({"target_side": ["focal"] * 3, "source": ["a", "b", "c"],
    ...     "stance": ["supportive", "supportive", "critical"],
    ...     "created_at": pd.to_datetime(["2014-01-01", "2014-01-03", "2014-01-03"], utc=True)})
    >>> w = Windows.from_crisis("2014-01-02T00:00Z", "2014-01-04T00:00Z", 2, 2)
    >>> m = spec_measures(u, w)
    >>> m["attention_lift"]["focal"], round(m["reputational_change"]["focal"], 4)
    (2.0, -1.0)
    """
    return _spec_measures(units, windows, freq)[0]


def _spec_measures(
    units: pd.DataFrame | _Units,
    windows: Windows,
    freq: str | None = None,
    other_stances: Sequence[np.ndarray] = (),
    ties: TieInputs | None = None,
    tie_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] | None = None,
) -> list[dict[str, dict[str, Any]]]:
    """:func:`spec_measures`, and for each of ``other_stances`` (the units' stance codes under
    another classifier) the same measures with those stances: the windows and cells are made
    once (attention reads no stance: its values are the first's). With ``ties``, also the
    focal side's ``prior_tie_share`` and ``prior_tie_odds_ratio`` (:func:`_tie_measures`, with
    ``tie_cache``)."""
    u = units if isinstance(units, _Units) else _Units.of(units)
    wc = _window_codes(u, windows)
    days = [windows.days(Window(x)) for x in (Window.BASELINE, Window.CRISIS, Window.AFTER)]
    skip = _MODELLED + (() if ties is not None else FOCAL_ONLY)
    out: dict[str, dict[str, Any]] = {k: {} for k, _, _ in MEASURES if k not in skip}
    others = [replace(u, stance=np.asarray(c, dtype=np.int64)) for c in other_stances]
    stance_keys = ("net_support_crisis", "reputational_change") + (
        FOCAL_ONLY if ties is not None else ()
    )
    alt: list[dict[str, dict[str, Any]]] = [{k: {} for k in stance_keys} for _ in others]
    # the units per side and window, and per side, window, account and stance (one count of
    # the units each, not a mask per cell)
    inw = wc >= 0
    n_cells = np.bincount(u.side[inw] * 3 + wc[inw], minlength=6)
    counts = [_cell_counts(uu, wc) for uu in [u, *others]]
    for s, side in enumerate(_SIDES):
        n = [int(n_cells[s * 3 + i]) for i in range(3)]
        rate = [n[i] / days[i] if days[i] > 0 else None for i in range(3)]
        base_ok = rate[0] is not None and n[0] > 0
        out["attention_lift"][side] = rate[1] / rate[0] if base_ok and rate[1] is not None else None
        out["persistence_attention"][side] = (
            rate[2] / rate[0] if base_ok and rate[2] is not None else None
        )
        for uu, o, c in zip([u, *others], [out, *alt], counts, strict=True):
            net_b, net_c = _net_of(c[s, 0]), _net_of(c[s, 1])
            o["net_support_crisis"][side] = net_c
            o["reputational_change"][side] = (
                net_c - net_b if net_c is not None and net_b is not None else None
            )
            if ties is not None and side != _INST:
                share, odds = _tie_measures(uu, c[s, 1], windows, ties, tie_cache)
                o["prior_tie_share"][side], o["prior_tie_odds_ratio"][side] = share, odds
    if freq is not None:
        out["attention_level_change"] = _level_changes(u, windows, wc, freq)
    return [out] + [{**out, **o} for o in alt]


def _covered(
    w: Windows, span: tuple[pd.Timestamp, pd.Timestamp] | None, own: Windows
) -> dict[str, bool]:
    """Whether a specification's baseline start and after end lie within the data.

    A specification reaching earlier (later) than both the study's own period and the data's
    first (last) timestamp would count days the data cannot hold. (Whether the study's own
    windows are covered is the coverage check's business: here they are the reference.)
    """
    if span is None:
        return {"baseline": True, "after": True}
    first, last = span
    return {
        "baseline": bool(w.baseline_start >= min(own.baseline_start, first)),
        "after": bool(w.after_end <= max(own.after_end, last)),
    }


#: The windows each measure needs besides the crisis (a spec counts only where they are covered).
NEEDS: dict[str, tuple[str, ...]] = {
    "attention_lift": ("baseline",),
    "net_support_crisis": (),
    "reputational_change": ("baseline",),
    "persistence_attention": ("baseline", "after"),
    "attention_level_change": ("baseline", "after"),
    "prior_tie_share": ("baseline",),
    "prior_tie_odds_ratio": ("baseline",),
}


def _counts(record: Mapping[str, Any], key: str) -> bool:
    cov = record["covered"]
    if isinstance(cov, bool):
        return cov
    return all(cov.get(w, True) for w in NEEDS.get(key, ()))


def _why_fixed(rules: np.ndarray) -> str:
    """Why moving the VADER cut-offs changes no post unit's stance, from the rows' rules."""
    present = set(rules.tolist())
    if present and present <= {RULE_MODEL, RULE_LABEL}:
        return (
            "a stance model decides every post that has no hand code"
            if RULE_MODEL in present
            else "a hand code decides every post"
        )
    if not present & {RULE_VADER, RULE_ELSEWHERE}:
        return "no post's stance rests on its VADER score"
    return "moving them changes no post's stance"


def stance_cutoffs(
    stance: pd.DataFrame, study: Any, rows: np.ndarray | None = None
) -> tuple[list[tuple[float, float]], dict]:
    """Return the VADER cut-offs the grid varies, and the ``cutoffs`` block of the grid.

    The study's own cut-off comes first; another declared cut-off is left out when it gives the
    post units the same stances as one already kept (its specifications would repeat those of
    that cut-off, value for value): with no row decided by the VADER score (a stance model or
    the hand codes decide every post) only the study's own is kept, and the block's ``reason``
    says why. Block: ``declared`` and ``varied`` (``[positive, negative]`` pairs), ``varies``
    (more than one kept), ``reason`` (when some were left out). Cheap: one comparison of the
    units' stance codes per declared cut-off, and none without a VADER-decided row. ``rows``:
    :func:`unit_rows` of ``stance``, when found already.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> study = NS(stance=NS(positive_threshold=0.05, negative_threshold=-0.05),
    ...     sensitivity=NS(thresholds=(0.05, 0.1, 0.25)))
    >>> st = pd.DataFrame({"post_id": ["1", "2"], "target_side": ["focal", "focal"],
    ...     "stance": ["supportive", "neutral"], "score": [0.5, 0.0], "rule": ["model", "label"],
    ...     "source": ["a", "b"], "kind": ["reply", "reply"],
    ...     "created_at": pd.to_datetime(["2014-01-01", "2014-01-02"], utc=True)})
    >>> kept, block = stance_cutoffs(st, study)
    >>> kept, block["reason"]
    ([(0.05, -0.05)], 'a stance model decides every post that has no hand code')
    >>> st["rule"] = "vader"  # 0.5 is supportive at every cut-off, 0.0 neutral: still one
    >>> stance_cutoffs(st, study)[1]["reason"]
    "moving them changes no post's stance"
    >>> st["score"] = [0.07, -0.2]  # supportive at 0.05 only; critical at 0.05 and 0.1
    >>> stance_cutoffs(st, study)[0]
    [(0.05, -0.05), (0.1, -0.1), (0.25, -0.25)]
    """
    own = (study.stance.positive_threshold, study.stance.negative_threshold)
    declared = [own] + [(t, -t) for t in study.sensitivity.thresholds if (t, -t) != own]
    kept = [own]
    rules = stance["rule"].to_numpy(dtype=object) if len(stance) else np.zeros(0, dtype=object)
    by_score = (rules == RULE_VADER) | (rules == RULE_ELSEWHERE)
    if by_score.any() and len(declared) > 1:
        # only the units' VADER-decided rows can differ between cut-offs: their stance codes
        # (as _relabelled gives them) are compared, as small integers
        if rows is None:
            rows = unit_rows(stance)
        score = stance["score"].to_numpy(dtype=float)[rows[by_score[rows]]]

        def codes(pos: float, neg: float) -> np.ndarray:
            return np.where(score >= pos, 0, np.where(score <= neg, 1, 2)).astype(np.int8)

        seen = [codes(*own)]
        for cut in declared[1:]:
            labels = codes(*cut)
            if not any(np.array_equal(labels, x) for x in seen):
                kept.append(cut)
                seen.append(labels)
    block: dict[str, Any] = {
        "declared": [list(c) for c in declared],
        "varied": [list(c) for c in kept],
        "varies": len(kept) > 1,
    }
    if len(kept) < len(declared):
        block["reason"] = _why_fixed(np.unique(rules.astype(str)))
    return kept, block


#: The grid's classifiers: the study's decisions, and the rules' own on the model-decided rows.
CLASSIFIER_STUDY, CLASSIFIER_RULES = "study", "rules"


def stance_classifiers(
    stance: pd.DataFrame, rules: np.ndarray | None, rows: np.ndarray | None = None
) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    """Return the rules' stance codes of the units (None: no classifier axis) and the grid's
    ``classifiers`` block (None when no hand code and no model: then the rules are the only
    classifier and there is nothing to compare).

    ``rules``: the rules' own stance code (position in STANCE_ORDER) of every row of ``stance``,
    kept by the stance step when a model decided some rows
    (:attr:`netsupport.stance.StanceResult.rules`). The "rules" classifier gives each unit whose
    row the model decided the rules' decision for that row; hand-coded units keep their codes.
    The units are those of the study's table (:func:`unit_rows`), so the two classifiers differ
    only in the stance of the model-decided ones. The axis is left out (with a ``reason``) when
    no unit was decided by the model, or when the rules give every one the model's stance.
    Block: ``varied`` (names), ``varies``, ``model_units`` (units the model decided),
    ``changed_units`` (of those, the ones whose stance the rules change), ``reason``.
    ``rows``: :func:`unit_rows` of ``stance``, when found already.

    Examples
    --------
    >>> st = pd.DataFrame({"post_id": ["1", "2", "3"], "target_side": ["focal"] * 3,
    ...     "stance": ["supportive", "critical", "neutral"], "rule": ["model", "model", "label"]})
    >>> codes, block = stance_classifiers(st, np.array([0, 2, 0], dtype=np.int8))
    >>> codes.tolist(), block["varied"], block["changed_units"]
    ([0, 2, 2], ['study', 'rules'], 1)
    >>> stance_classifiers(st.assign(rule="vader"), None)
    (None, None)
    """
    rule = stance["rule"].to_numpy(dtype=object) if len(stance) else np.zeros(0, dtype=object)
    if rules is None and not (rule == RULE_LABEL).any():
        return None, None
    block: dict[str, Any] = {"varied": [CLASSIFIER_STUDY], "varies": False}
    by_model_rows = rule == RULE_MODEL
    if not by_model_rows.any():
        block["reason"] = (
            "no stance model decided any post: the rules and the hand codes decide them"
            if rules is None
            else "the hand codes decide every post"
        )
        return None, block
    if rules is None or len(rules) != len(stance):
        block["reason"] = "the rules' decisions of the posts the model decided were not kept"
        return None, block
    if rows is None:
        rows = unit_rows(stance)
    codes = _stance_codes(stance["stance"].iloc[rows])
    by_model = rule[rows] == RULE_MODEL
    alt = codes.copy()
    alt[by_model] = np.asarray(rules, dtype=np.int64)[rows][by_model]
    changed = int(np.count_nonzero(alt != codes))
    block["model_units"] = int(np.count_nonzero(by_model))
    block["changed_units"] = changed
    if not changed:
        block["reason"] = "the rules give every post the model decided the model's stance"
        return None, block
    block["varied"].append(CLASSIFIER_RULES)
    block["varies"] = True
    return alt, block


def window_grid(
    stance: pd.DataFrame,
    study: Any,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    cutoffs: Sequence[tuple[float, float]] | None = None,
    rules_units: np.ndarray | None = None,
    freq: str | None = None,
    tie_tables: Mapping[str, pd.DataFrame | None] | None = None,
    rows: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Return one record per window/threshold specification with its headline point estimates.

    Records: ``spec`` (id), ``start_shift_days``, ``end_shift_days``, ``baseline_days``,
    ``positive_threshold``, ``negative_threshold``, ``classifier`` (only with ``rules_units``:
    ``study`` or ``rules``), ``study`` (the study's own specification),
    ``covered`` (``{baseline, after}``: whether the data reach the start of the baseline and the
    end of the after window), ``windows`` and ``values`` (:func:`spec_measures`).
    The study's own specification is always included, first. ``cutoffs``: the VADER cut-offs
    to vary, the study's own first (default: those :func:`stance_cutoffs` keeps).
    ``rules_units``: the units' stance codes under the rules (:func:`stance_classifiers`): the
    window specifications are then run again with them, at the study's own cut-offs.
    ``freq``: the study's time bins; the time-series level change (which reads no stance) is
    then computed for each window specification of the first run (the study's own stance).
    ``tie_tables``: ``follows``, ``tie_interactions`` (those touching the focal account, at
    least) and ``interactions`` (all, for the baseline activity; None: not available): the
    prior-tie measures (:func:`_tie_measures`) are then computed for every specification.
    ``rows``: :func:`unit_rows` of ``stance``, when found already.
    """
    g = study.sensitivity
    base = study.windows
    own_baseline = base.days(Window.BASELINE)
    own_t = (study.stance.positive_threshold, study.stance.negative_threshold)
    if cutoffs is None:
        cutoffs = stance_cutoffs(stance, study)[0]
    windows_specs = [(0.0, 0.0, own_baseline)] + [
        (s, e, b)
        for s, e, b in itertools.product(g.window_shift_days, g.window_shift_days, g.baseline_days)
        if (s, e, b) != (0.0, 0.0, own_baseline)
    ]
    records = []
    # the units of every cut-off are the same rows (post_units picks them by post, side and rule)
    # with other stances: made once, then only their stance codes change
    if rows is None and len(stance):
        rows = unit_rows(stance)
    first: _Units | None = None
    clf = None if rules_units is None else CLASSIFIER_STUDY
    # the rules' specifications (own cut-off) are computed with the study's first run, sharing
    # its windows and cells, and listed after every study specification
    later: list[dict[str, Any]] = []
    ties: TieInputs | None = None
    tie_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}
    for n_run, (pos, neg) in enumerate(cutoffs):
        if first is None or rows is None:
            u = first = _Units.of(post_units(restance(stance, pos, neg), rows))
            if tie_tables is not None and u.handles is not None:
                ties = TieInputs.of(
                    u.handles,
                    tuple(study.focal),
                    tie_tables.get("follows"),
                    tie_tables.get("tie_interactions"),
                    tie_tables.get("interactions"),
                )
        else:
            labels = pd.Series(_relabelled(stance, pos, neg)[rows], dtype=object)
            u = replace(first, stance=_stance_codes(labels))
        with_rules = n_run == 0 and rules_units is not None
        for s, e, b in windows_specs:
            w = variant_windows(base, s, e, b)
            if w is None:
                continue
            vals = _spec_measures(
                u,
                w,
                freq if n_run == 0 else None,
                [rules_units] if with_rules and rules_units is not None else (),
                ties,
                tie_cache,
            )

            def record(
                classifier: str | None, values: dict[str, Any], *, p=pos, n=neg, w=w, x=(s, e, b)
            ) -> dict[str, Any]:
                rec: dict[str, Any] = {
                    "spec": 0,
                    "start_shift_days": x[0],
                    "end_shift_days": x[1],
                    "baseline_days": x[2],
                    "positive_threshold": p,
                    "negative_threshold": n,
                }
                if classifier is not None:
                    rec["classifier"] = classifier
                own = (p, n) == own_t and x == (0.0, 0.0, own_baseline)
                rec["study"] = own and classifier != CLASSIFIER_RULES
                rec["covered"] = _covered(w, span, base)
                rec["windows"] = w.as_dict()
                rec["values"] = values
                return rec

            records.append(record(clf, vals[0]))
            if with_rules:
                later.append(record(CLASSIFIER_RULES, vals[1]))
    records += later
    for i, r in enumerate(records):
        r["spec"] = i
    return records


#: The choices of a specification each measure reads: specifications that agree on these give
#: the measure the same value, and count once (the attention ratios count posts whatever their
#: stance; net support in the crisis has no baseline).
_WINDOW = ("start_shift_days", "end_shift_days")
_CUTOFF = ("positive_threshold", "negative_threshold")
#: (A record without a ``classifier`` is the study's: a grid without the classifier axis.)
_CLASSIFIER = "classifier"
READS: dict[str, tuple[str, ...]] = {
    "attention_lift": (*_WINDOW, "baseline_days"),
    "net_support_crisis": (*_WINDOW, *_CUTOFF, _CLASSIFIER),
    "reputational_change": (*_WINDOW, "baseline_days", *_CUTOFF, _CLASSIFIER),
    "persistence_attention": (*_WINDOW, "baseline_days"),
    "attention_level_change": (*_WINDOW, "baseline_days"),
    # who supported in the crisis (its bounds, the stance) and which ties were made before it
    # (the baseline's end and length)
    "prior_tie_share": (*_WINDOW, "baseline_days", *_CUTOFF, _CLASSIFIER),
    "prior_tie_odds_ratio": (*_WINDOW, "baseline_days", *_CUTOFF, _CLASSIFIER),
}


def distinct_specs(records: Sequence[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    """Return the records that count for measure ``key``: covered where it needs
    (:data:`NEEDS`), one per distinct combination of the choices it reads (:data:`READS`; the
    first of each, so the study's own stays); a record without those choices counts alone.

    Examples
    --------
    >>> recs = [{"start_shift_days": 0, "end_shift_days": 0, "baseline_days": b,
    ...          "positive_threshold": 0.05, "negative_threshold": -0.05, "covered": True}
    ...         for b in (7, 14, 28)]
    >>> len(distinct_specs(recs, "net_support_crisis")), len(distinct_specs(recs, "attention_lift"))
    (1, 3)
    """
    axes = READS.get(key, ())
    out, seen = [], set()
    for i, r in enumerate(records):
        if not _counts(r, key):
            continue
        has = axes and all(a in r for a in axes if a != _CLASSIFIER)
        ident = tuple(r.get(a, CLASSIFIER_STUDY) for a in axes) if has else ("#", i)
        if ident not in seen:
            seen.add(ident)
            out.append(r)
    return out


def summarise_grid(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return per measure and side: the study's value, the range over covered specifications,
    and whether the sign (side of the null value: 1 for ratios, 0 for net support) holds (a
    level, whose null is None, gives no ``null`` side: no ``same_sign``, no ``holds``).

    A specification counts for a measure when the data cover the windows the measure needs
    (:data:`NEEDS`), and once among those that agree on the choices it reads
    (:func:`distinct_specs`): ``specs`` counts distinct specifications.

    Examples
    --------
    >>> recs = [{"study": True, "covered": True, "values": {"attention_lift": {"focal": 3.0}}},
    ...         {"study": False, "covered": True, "values": {"attention_lift": {"focal": 0.9}}},
    ...         {"study": False, "covered": False, "values": {"attention_lift": {"focal": 0.1}}}]
    >>> s = summarise_grid(recs)["attention_lift"]["focal"]
    >>> s["holds"], s["same_sign"], s["specs"], s["min"]
    (False, 1, 2, 0.9)
    """
    out: dict[str, Any] = {}
    own = next((r for r in records if r["study"]), None)
    for key, null, _label in MEASURES:
        out[key] = {}
        for side in _SIDES:
            if key in FOCAL_ONLY and side == _INST:
                continue
            vals = [
                r["values"].get(key, {}).get(side)
                for r in distinct_specs(records, key)
                if r["values"].get(key, {}).get(side) is not None
            ]
            v0 = own["values"].get(key, {}).get(side) if own else None
            if v0 is None or not vals:
                out[key][side] = not_measured("not measured in the study's own specification")
                continue
            if null is None:  # a level (a share): its range, no sign to hold
                out[key][side] = {
                    "null": None,
                    "study": v0,
                    "min": float(min(vals)),
                    "max": float(max(vals)),
                    "specs": len(vals),
                }
                if _CLASSIFIER in READS.get(key, ()) and any(_CLASSIFIER in r for r in records):
                    out[key][side]["by_classifier"] = _by_classifier(records, key, side, None, 0)
                continue
            sign = np.sign(v0 - null)
            same = int(sum(1 for v in vals if np.sign(v - null) == sign and sign != 0))
            out[key][side] = {
                "null": null,
                "study": v0,
                "min": float(min(vals)),
                "max": float(max(vals)),
                "specs": len(vals),
                "same_sign": same,
                "holds": bool(same == len(vals)),
            }
            if _CLASSIFIER in READS.get(key, ()) and any(_CLASSIFIER in r for r in records):
                out[key][side]["by_classifier"] = _by_classifier(records, key, side, null, sign)
    return out


def _by_classifier(
    records: Sequence[Mapping[str, Any]], key: str, side: str, null: float | None, sign: float
) -> dict[str, Any]:
    """Per classifier: the range, the distinct specifications and those in the study's
    direction (``sign``; none for a level, whose ``null`` is None), of measure ``key`` for
    ``side``."""
    out: dict[str, Any] = {}
    for r in distinct_specs(records, key):
        v = r["values"].get(key, {}).get(side)
        if v is None:
            continue
        e = out.setdefault(
            r.get(_CLASSIFIER, CLASSIFIER_STUDY),
            {"min": v, "max": v, "specs": 0, **({} if null is None else {"same_sign": 0})},
        )
        e["min"], e["max"] = float(min(e["min"], v)), float(max(e["max"], v))
        e["specs"] += 1
        if null is not None:
            e["same_sign"] += int(np.sign(v - null) == sign and sign != 0)
    return out


# ---- communities --------------------------------------------------------------------------------


def community_grid(
    edges: pd.DataFrame,
    study: Any,
    supporters_idx: pd.Index,
    membership: pd.Series | None = None,
    runs: CommunityRuns | None = None,
) -> dict[str, Any]:
    """Return breadth and evenness over community algorithms x resolutions x seeds.

    Each run detects communities on the aggregated baseline edges; per run: the number of
    communities, breadth (communities with at least k supporters) and evenness
    (:func:`netsupport.support.breadth`), and the NMI with the study's partition. The study's
    algorithm and resolution over the seeds give the seed stability (mean and minimum pairwise
    NMI) and a :func:`consensus_partition` whose breadth is reported beside the study's.

    ``runs``: :func:`community_runs` of the same edges, study and ``membership``, when computed
    already (by the communities step); else computed here.
    """
    from .communities import breadth_at, supporter_positions

    k = study.support.breadth_min_supporters
    if runs is None and not edges.empty:
        runs = community_runs(edges, study, membership)
    if edges.empty or runs is None:
        return not_measured("the baseline graph is empty: no communities to compare")
    info = runs.info
    # the supporters' positions in a partition's accounts, made once per distinct index (the
    # partitions of one graph share their accounts): no hash table per run
    found: list[tuple[pd.Index, np.ndarray]] = []

    def breadth(p: pd.Series) -> dict[str, Any]:
        for index, pos in found:
            if p.index is index or p.index.equals(index):
                return breadth_at(p, pos, k)
        found.append((p.index, supporter_positions(p.index, supporters_idx)))
        return breadth_at(p, found[-1][1], k)

    records: list[dict[str, Any]] = []
    for r in info["runs"]:
        b = breadth(runs.partitions[r["partition"]])
        records.append(
            {
                "algorithm": r["algorithm"],
                "resolution": r["resolution"],
                "seed": r["seed"],
                "communities": r["communities"],
                "breadth": b["communities_with_k_supporters"] if "k" in b else None,
                "evenness": b["normalised_entropy"] if "k" in b else None,
                "nmi_with_study": r["nmi_with_study"],
            }
        )
    out: dict[str, Any] = {"k": int(k), "seeds": list(info["seeds"]), "runs": records}
    if info["reduced"] is not None:
        out["reduced"] = dict(info["reduced"])
    vals = [r["breadth"] for r in records if r["breadth"] is not None]
    even = [r["evenness"] for r in records if r["evenness"] is not None]
    if vals:
        out["breadth_range"] = [int(min(vals)), int(max(vals))]
        out["evenness_range"] = [float(min(even)), float(max(even))]
    cb = breadth(runs.consensus)
    out["stability"] = dict(info["stability"])
    out["consensus"] = {
        **info["consensus"],
        "breadth": cb["communities_with_k_supporters"] if "k" in cb else None,
        "evenness": cb["normalised_entropy"] if "k" in cb else None,
    }
    by_res: dict[str, Any] = {}
    for res in info["resolutions"]:
        rr = [r for r in records if r["resolution"] == res and r["breadth"] is not None]
        if rr:
            by_res[f"{res:g}"] = {
                "breadth": [min(r["breadth"] for r in rr), max(r["breadth"] for r in rr)],
                "evenness": [min(r["evenness"] for r in rr), max(r["evenness"] for r in rr)],
                "communities": [
                    min(r["communities"] for r in rr),
                    max(r["communities"] for r in rr),
                ],
            }
    out["by_resolution"] = by_res
    return out


def sensitivity(
    stance: pd.DataFrame,
    study: Any,
    *,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    baseline_edges: pd.DataFrame | None = None,
    supporters_idx: pd.Index | None = None,
    membership: pd.Series | None = None,
    communities: dict[str, Any] | None = None,
    rules: np.ndarray | None = None,
    tie_tables: Mapping[str, pd.DataFrame | None] | None = None,
) -> dict[str, Any]:
    """Return the ``sensitivity`` block of metrics.json: the grid, its specs and summaries.

    ``communities``: the block's :func:`community_grid` part when computed already (then
    ``baseline_edges``, ``supporters_idx`` and ``membership`` are not read). ``rules``: the
    rules' stance codes of the rows a model decided (:func:`stance_classifiers`).
    ``tie_tables``: the tables the prior-tie measures read (:func:`window_grid`); without them
    the grid has no prior-tie measure.
    """
    if stance is None or stance.empty:
        return not_measured("no interaction addressed either side")
    # the rows of the post units, found once for the cut-offs, the classifiers and the grid
    rows = unit_rows(stance)
    cutoffs, cut_block = stance_cutoffs(stance, study, rows)
    rules_units, clf_block = stance_classifiers(stance, rules, rows)
    from .timeseries import timeline_freq

    records = window_grid(
        stance,
        study,
        span,
        cutoffs,
        rules_units,
        timeline_freq(study.windows),
        tie_tables,
        rows,
    )
    out: dict[str, Any] = {
        "grid": study.sensitivity.as_dict(),
        "cutoffs": cut_block,
        **({} if clf_block is None else {"classifiers": clf_block}),
        "specs": records,
        "uncovered_specs": {
            w: int(sum(1 for r in records if not r["covered"][w])) for w in ("baseline", "after")
        },
        "summary": summarise_grid(records),
    }
    if communities is None:
        communities = _community_block(baseline_edges, study, supporters_idx, membership)
    out["communities"] = communities
    return out


#: The grid's measures that read the stance (the cut-offs, :data:`READS`): their headline may be
#: error-corrected.
_STANCE_MEASURES = tuple(k for k, axes in READS.items() if set(_CUTOFF) <= set(axes))


def mark_uncorrected(metrics: dict[str, Any]) -> None:
    """Add ``basis: "uncorrected"`` to each ``sensitivity.summary`` entry whose headline value
    (``headline.<measure>.<side>``) is the error-corrected one (it carries ``naive``): the grid
    re-runs the stance decisions as made, not the error correction, so its ``study`` value is
    the headline's ``naive``, not its ``value``.

    Examples
    --------
    >>> m = {"headline": {"net_support_crisis": {"focal": {"value": 0.43, "naive": 0.56}}},
    ...      "sensitivity": {"summary": {"net_support_crisis": {"focal": {"study": 0.56}}}}}
    >>> mark_uncorrected(m)
    >>> m["sensitivity"]["summary"]["net_support_crisis"]["focal"]["basis"]
    'uncorrected'
    """
    summary = (metrics.get("sensitivity") or {}).get("summary")
    headline = metrics.get("headline") or {}
    if not isinstance(summary, Mapping):
        return
    for key in _STANCE_MEASURES:
        for side, entry in (summary.get(key) or {}).items():
            h = (headline.get(key) or {}).get(side)
            if isinstance(h, Mapping) and "naive" in h and "study" in entry:
                entry["basis"] = "uncorrected"


def _community_block(
    edges: pd.DataFrame | None,
    study: Any,
    supporters_idx: pd.Index | None,
    membership: pd.Series | None,
    runs: CommunityRuns | None = None,
) -> dict[str, Any]:
    if edges is not None and supporters_idx is not None and len(supporters_idx):
        return community_grid(edges, study, supporters_idx, membership, runs)
    return not_measured("no baseline graph or no crisis supporter")


def data_span(tables: Mapping[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """Return the first and last timestamp of the posts and interactions, or None."""
    lo, hi = [], []
    for name, col in (("posts", "created_at"), ("interactions", "created_at")):
        df = tables.get(name)
        if df is None or df.empty or col not in df:
            continue
        t = pd.to_datetime(df[col], utc=True).dropna()
        if len(t):
            lo.append(t.min())
            hi.append(t.max())
    return (min(lo), max(hi)) if lo else None


def grid_graph(inputs: Any, study: Any) -> pd.DataFrame | None:
    """Return the baseline edges the community grid detects on (None without interactions).

    The study's declared windows, as the communities step uses: ``inputs.baseline_edges`` when
    they were aggregated for that baseline (``inputs.baseline_windows``), else made here.
    """
    from .. import graph

    inter = inputs.interactions
    if inter is None or inter.empty:
        return None
    made_for = getattr(inputs, "baseline_windows", None)
    edges = getattr(inputs, "baseline_edges", None)
    base = study.windows.bounds(Window.BASELINE)
    if edges is not None and made_for is not None and made_for.bounds(Window.BASELINE) == base:
        return edges
    return graph.baseline_edges(inter, study.windows)


def grid_communities(
    edges: pd.DataFrame | None,
    inputs: Any,
    study: Any,
    membership: pd.Series | None,
    runs: CommunityRuns | None = None,
) -> dict[str, Any]:
    """Return the ``communities`` part of the sensitivity block: :func:`community_grid` of the
    :func:`grid_graph` edges and the crisis supporters of ``inputs``, or not measured
    (``runs``: :func:`community_runs` of those edges, when the communities step made them)."""
    from .ties import supporters

    return _community_block(edges, study, supporters(inputs.proxy_units), membership, runs)


def grid_sensitivity(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    stance: Any,
    inputs: Any,
    membership: pd.Series | None,
    *,
    communities: dict[str, Any] | None = None,
    runs: CommunityRuns | None = None,
) -> dict[str, Any]:
    """Return :func:`sensitivity` for the tables, stance result and metric inputs of a study.

    ``communities``: :func:`grid_communities` of the same inputs, when computed already;
    ``runs``: its :func:`community_runs`, when the communities step made them.
    """
    if communities is None and stance.table is not None and not stance.table.empty:
        communities = grid_communities(grid_graph(inputs, study), inputs, study, membership, runs)
    return sensitivity(
        stance.table,
        study,
        # the study's interactions, not tables["interactions"]: a run drops that table once the
        # stance step has derived them (and they add the marker rows)
        span=data_span({"posts": tables.get("posts"), "interactions": inputs.interactions}),
        communities=communities,
        rules=getattr(stance, "rules", None),
        tie_tables={
            "follows": inputs.follows,
            "tie_interactions": inputs.tie_interactions,
            "interactions": inputs.interactions,
        },
    )
