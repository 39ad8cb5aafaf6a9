"""Comparisons that test the claims: prior ties of supporters vs critics vs neutrals, and where
the change in net support came from (accounts changing their minds vs accounts joining/leaving).

METHODS.md, "Comparisons". Pure functions of the post units and tie tables.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..graph import count_column, count_columns
from ..schema import FollowCol, IKind, InteractionCol
from ..stance.validation import corrected_odds_ratio
from ..windows import Windows
from .common import _B, _C, _CRI, _NEU, _SUP, _interval, _obj, not_measured, proportion_ci
from .shares import _cell, account_stance_counts, change_draws, majority_stance
from .ties import prior_ties, touching

__all__ = [
    "LOGIT_METHOD",
    "baseline_activity",
    "net_change_split",
    "tie_comparison",
    "tie_odds_ratio",
]

LOGIT_METHOD = (
    "logistic regression (statsmodels Logit, maximum likelihood): prior tie ~ supporter + "
    "log(1 + baseline activity with accounts other than the focal ones); Wald interval of the "
    "supporter coefficient, exponentiated"
)
#: A fitted |coefficient| above this (odds ratio beyond e^15) is taken as (quasi-)separation:
#: the likelihood has no finite maximum and the estimate is the optimiser's stopping point.
_SEPARATION_COEF = 15.0


def crisis_stances(units: pd.DataFrame, side: str, window: str = _C) -> pd.Series:
    """Return each account's majority stance towards ``side`` in ``window`` (index: handle)."""
    counts = account_stance_counts(_cell(units, side, window))
    return majority_stance(counts).sort_index()


def baseline_activity(
    accounts: pd.Index, baseline_edges: pd.DataFrame | None, exclude: tuple[str, ...] = ()
) -> pd.Series | None:
    """Return each account's baseline activity: its interactions other than follows, with any
    account but itself and those of ``exclude``, in the baseline window (from the aggregated
    baseline edges).

    ``exclude`` is the focal side's accounts when the activity adjusts the odds of a prior tie
    with them: a baseline interaction with a focal account *is* a prior tie, and counting it in
    the covariate too would adjust the tie for part of itself. None when the edges are not
    available.

    Examples
    --------
    >>> e = pd.DataFrame({"source": ["a", "a", "b"], "target": ["b", "c", "a"],
    ...     "n_reply": [2, 0, 1], "n_follow": [1, 1, 0], "weight": [3.0, 1.0, 1.0]})
    >>> baseline_activity(pd.Index(["a", "b", "z"]), e).tolist()
    [2, 1, 0]
    >>> baseline_activity(pd.Index(["a", "b", "z"]), e, exclude=("b",)).tolist()
    [0, 1, 0]
    """
    if baseline_edges is None:
        return None
    cols = [c for c in count_columns(baseline_edges) if c != count_column(IKind.FOLLOW)]
    if baseline_edges.empty or not cols:
        return pd.Series(0, index=accounts, dtype=np.int64)
    if exclude:
        keep = ~pd.Index(_obj(baseline_edges["target"]), dtype=object).isin(list(exclude))
        baseline_edges = baseline_edges[keep]
    per = baseline_edges[cols].sum(axis=1).groupby(baseline_edges["source"].to_numpy()).sum()
    return per.reindex(accounts, fill_value=0).astype(np.int64)


def _dated_only(
    follows: pd.DataFrame | None, interactions: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Return the follow evidence with undated follows removed (the variant without them)."""
    if follows is not None and not follows.empty:
        follows = follows[follows[FollowCol.OBSERVED_AT].notna().to_numpy(dtype=bool)]
    if interactions is not None and not interactions.empty:
        undated_follow = (_obj(interactions[InteractionCol.KIND]) == IKind.FOLLOW.value) & (
            interactions[InteractionCol.CREATED_AT].isna().to_numpy(dtype=bool)
        )
        interactions = interactions[~undated_follow]
    return follows, interactions


def tie_odds_ratio(
    tie: np.ndarray, supporter: np.ndarray, activity: np.ndarray | None, confidence: float = 0.95
) -> dict[str, Any]:
    """Return the odds ratio of a prior tie for supporters vs other accounts, adjusted.

    Fits ``logit P(tie) = b0 + b1 supporter + b2 log(1 + activity)`` by maximum likelihood
    (statsmodels ``Logit``); the odds ratio is ``exp(b1)`` with the Wald interval
    ``exp(b1 +- z se(b1))``. Without ``activity`` the model has no covariate (the unadjusted
    odds ratio). Separation (a group in which every account, or none, has a tie) leaves the
    likelihood without a finite maximum: not measured, saying so.

    Examples
    --------
    >>> tie = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1, 0])
    >>> sup = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    >>> r = tie_odds_ratio(tie, sup, None)
    >>> round(r["value"], 4)  # (3/2) / (2/3): the 2x2 table's odds ratio
    2.25
    """
    from statsmodels.discrete.discrete_model import Logit  # (not statsmodels.api: ~0.3 s)
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    tie = np.asarray(tie, dtype=float)
    supporter = np.asarray(supporter, dtype=float)
    n = len(tie)
    groups = {"supporters": supporter == 1, "others": supporter == 0}
    for name, g in groups.items():
        if not g.any():
            return not_measured(f"no {name} among the accounts compared")
        k = tie[g].sum()
        if k in (0, g.sum()):
            every = "every one" if k else "none"
            return not_measured(
                f"{every} of the {int(g.sum())} {name} had a prior tie: the odds ratio is "
                "infinite or zero (separation), not estimable by logistic regression"
            )
    cols = [np.ones(n), supporter]
    names = ["const", "supporter"]
    if activity is not None:
        cols.append(np.log1p(np.asarray(activity, dtype=float)))
        names.append("log1p_baseline_activity")
    x = np.column_stack(cols)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = Logit(tie, x).fit(disp=0, method="newton", maxiter=100)
    except (PerfectSeparationError, PerfectSeparationWarning, ConvergenceWarning) as exc:
        return not_measured(f"the logistic regression did not converge ({_first_line(exc)})")
    except np.linalg.LinAlgError:
        return not_measured("the logistic regression's covariates are collinear")
    b = np.asarray(fit.params, dtype=float)
    if not np.all(np.isfinite(b)) or np.any(np.abs(b) > _SEPARATION_COEF):
        return not_measured(
            "quasi-complete separation: the baseline activity predicts the tie (almost) "
            "perfectly, so the odds ratio is not estimable"
        )
    ci = np.asarray(fit.conf_int(alpha=1 - confidence), dtype=float)
    se = np.asarray(fit.bse, dtype=float)
    out = {
        "value": math.exp(b[1]),
        "low": math.exp(ci[1, 0]),
        "high": math.exp(ci[1, 1]),
        "confidence": confidence,
        "method": LOGIT_METHOD if activity is not None else LOGIT_METHOD.split(" + log")[0],
        "n": int(n),
        "coefficients": {
            nm: {"estimate": float(b[i]), "se": float(se[i])} for i, nm in enumerate(names)
        },
    }
    return out


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _group_shares(stance: pd.Series, tie: pd.Series, confidence: float) -> dict[str, Any]:
    out = {}
    for s in (_SUP, _CRI, _NEU):
        members = stance.index[stance == s]
        k = int(tie.reindex(members).sum())
        out[s] = {"accounts": len(members), "prior_tie": k, **_share(k, len(members), confidence)}
    return out


def _share(k: int, n: int, confidence: float) -> dict[str, Any]:
    p = proportion_ci(k, n, confidence)
    if "status" in p:
        return {"share": p}
    return {"share": {x: p[x] for x in ("value", "low", "high")}}


def tie_comparison(
    units: pd.DataFrame,
    focal: tuple[str, ...],
    follows: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    windows: Windows,
    *,
    baseline_edges: pd.DataFrame | None = None,
    confidence: float = 0.95,
    validation_units: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 42,
) -> dict[str, Any]:
    """Return prior-tie shares of crisis supporters, critics and neutrals, and the odds ratio.

    The accounts compared are those that addressed the focal account in the crisis, grouped by
    their majority stance. A prior tie is as in :func:`netsupport.support.prior_ties`. Two
    variants: ``all_ties`` (follows with unknown dates count as prior, as in the composition
    measure) and ``dated_ties`` (only follows observed before the crisis, and baseline
    interactions). Each variant gives shares per group (Clopper-Pearson) and the supporter vs
    others odds ratio from :func:`tie_odds_ratio`, adjusted for baseline activity
    (:func:`baseline_activity` of ``baseline_edges``, leaving out interactions with the focal
    accounts, which are ties themselves) and unadjusted. With ``validation_units`` (the units
    the error-corrected shares come from, :func:`netsupport.stance.validation.corrected_shares`)
    each variant also gives ``error_corrected``: the unadjusted odds ratio and the supporters'
    prior-tie share with the stance decisions' error carried in
    (:func:`netsupport.stance.validation.corrected_odds_ratio`; ``n_boot`` resamples, ``seed``).

    Returns
    -------
    dict
        ``{accounts, undated_follow_only, variants: {all_ties|dated_ties: {groups:
        {stance: {accounts, prior_tie, share}}, odds_ratio, odds_ratio_unadjusted[,
        error_corrected]}}}`` or not measured.
    """
    stance = crisis_stances(units, "focal")
    if stance.empty:
        return not_measured("nobody addressed the focal account in the crisis")
    accounts = pd.Index(stance.index, name="handle")
    activity = baseline_activity(accounts, baseline_edges, exclude=tuple(focal))
    sup = (stance == _SUP).to_numpy(dtype=float)
    variants: dict[str, Any] = {}
    interactions = touching(interactions, focal)  # once, not in each prior_ties
    ties_all = prior_ties(accounts, focal, follows, interactions, windows)
    f2, i2 = _dated_only(follows, interactions)
    ties_dated = prior_ties(accounts, focal, f2, i2, windows)
    for name, ties in (("all_ties", ties_all), ("dated_ties", ties_dated)):
        tie = ties["prior_tie"].reindex(accounts, fill_value=False)
        t = tie.to_numpy(dtype=float)
        variants[name] = {
            "groups": _group_shares(stance, tie, confidence),
            "odds_ratio": tie_odds_ratio(
                t, sup, None if activity is None else activity.to_numpy(), confidence
            )
            if activity is not None
            else not_measured("baseline activity is not available with this engine"),
            "odds_ratio_unadjusted": tie_odds_ratio(t, sup, None, confidence),
        }
        if validation_units is not None:
            ec = corrected_odds_ratio(
                validation_units, tie, n_boot=n_boot, seed=seed, confidence=confidence
            )
            variants[name]["error_corrected"] = (
                ec
                if ec is not None
                else not_measured(
                    "no wholly coded account among the accounts with a prior tie or among "
                    "those without: nothing to correct the stance decisions with"
                )
            )
    undated_only = ties_all["prior_tie"] & ~ties_dated["prior_tie"]
    return {
        "accounts": len(accounts),
        "undated_follow_only": int(undated_only.sum()),
        "variants": variants,
    }


# ---- where the change in net support came from --------------------------------------------------

_VALUE = {_SUP: 1.0, _CRI: -1.0, _NEU: 0.0}


def net_change_split(
    units: pd.DataFrame,
    side: str,
    *,
    earlier: str = _B,
    later: str = _C,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Split the account-level change in net support into changed minds and turnover.

    With ``S`` the accounts active towards the side in both windows (stayers), ``J`` those
    active only later (joiners) and ``L`` only earlier (leavers), and ``v`` = +1, -1, 0 for an
    account's supportive, critical, neutral majority stance:
    ``net_later = (sum_S v_later + sum_J v) / (|S| + |J|)``,
    ``net_earlier = (sum_S v_earlier + sum_L v) / (|S| + |L|)``. The change is
    ``within + turnover`` with ``within = |S| / (|S| + |J|) * (mean_S v_later - mean_S
    v_earlier)`` (stayers changing their minds, weighted by their share of the later window)
    and ``turnover`` the rest (who joined and who left). Intervals: percentile bootstrap over
    the union of accounts (each keeps its pair of stances), on the very resamples of
    :func:`netsupport.support.shares.reputational_change` (same seed key): ``change`` is its
    ``account_level`` interval to the bit, so metrics.json gives one interval for one quantity,
    and ``within`` and ``turnover`` split each of those resamples.

    Returns
    -------
    dict
        ``{change: CI, within: CI, turnover: CI, stayers: {accounts, net_earlier, net_later},
        joiners: {accounts, net}, leavers: {accounts, net}, confidence, method, bootstrap}``.
    """
    for w in (earlier, later):
        if _cell(units, side, w).empty:
            why = f"nobody addressed the {side} side in the {earlier} or {later} window"
            return not_measured(why)
    draws = change_draws(units, side, earlier=earlier, later=later, n_boot=n_boot, seed=seed)
    va, vb, freq = draws.profile_values()  # one row per distinct profile of counts
    point_w = draws.cells.point_weights()
    point_within = _within(point_w, va, vb)[0]
    boot_within = _within(draws.weights, va, vb)
    stay = ~np.isnan(va) & ~np.isnan(vb)
    join = np.isnan(va) & ~np.isnan(vb)
    leave = ~np.isnan(va) & np.isnan(vb)

    def mean(v: np.ndarray, sel: np.ndarray) -> float | None:
        k = int(freq[sel].sum())
        return float((freq[sel] * v[sel]).sum() / k) if k else None

    out: dict[str, Any] = {
        "change": _interval(draws.point, draws.draws, confidence),
        "within": _interval(point_within, boot_within, confidence),
        "turnover": _interval(draws.point - point_within, draws.draws - boot_within, confidence),
        "stayers": {
            "accounts": int(freq[stay].sum()),
            "net_earlier": mean(va, stay),
            "net_later": mean(vb, stay),
        },
        "joiners": {"accounts": int(freq[join].sum()), "net": mean(vb, join)},
        "leavers": {"accounts": int(freq[leave].sum()), "net": mean(va, leave)},
        "windows": [earlier, later],
        "confidence": confidence,
        "method": (
            "percentile bootstrap over accounts (union of both windows), on the resamples of "
            f"reputation.{side}: change is its account_level interval"
        ),
        "bootstrap": n_boot,
    }
    return out


def _within(weights: np.ndarray, va: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """Return ``within`` for each row of account ``weights`` over profiles valued ``va``/``vb``
    (NaN: not active in that window); NaN where a resample has nobody in the later window."""
    stay = ~np.isnan(va) & ~np.isnan(vb)
    in_b = ~np.isnan(vb)
    n_b = weights @ in_b.astype(float)
    n_s = weights @ stay.astype(float)
    sum_sa = weights @ np.where(stay, va, 0.0)
    sum_sb = weights @ np.where(stay, vb, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(n_s > 0, n_s / n_b * (sum_sb / n_s - sum_sa / n_s), 0.0)
    within[(n_b == 0) | (weights @ (~np.isnan(va)).astype(float) == 0)] = np.nan
    return within
