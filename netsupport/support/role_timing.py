"""Who carried the story first, done properly (METHODS.md, "Role timing").

The first crisis post of each role is one order statistic: the larger the role and the more its
accounts talked about the focal account anyway, the sooner it comes. Here, per role:

- the cumulative **first-mention curve**: the share of the role's accounts (role size) whose first
  crisis post addressing the side came within h hours of the crisis start;
- the same curve **expected from the role's baseline rate** (accounts of the role that addressed the
  side in the baseline, per account and day): ``1 - exp(-rate * h / 24)``, and the ratio of the two;
- the **median first-mention time of accounts new to the conversation** (none of their posts
  addressed the side in the baseline), a Kaplan-Meier median: a new account whose first post
  addressing the side came only after the crisis end is censored at the crisis end, not left out
  (leaving it out would pull a late role's median early); "not reached" when fewer than half of
  a role's new accounts posted by the crisis end;
- a **permutation test of the order**: among those new accounts (censored ones included), the
  difference in Kaplan-Meier median of every pair of roles, against the same difference with the
  roles shuffled over those accounts (seeded), with Holm-adjusted p-values. The order that
  survives: the pairs whose adjusted p is below 1 - confidence.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Role, Window
from ..windows import Windows
from .common import _A, _B, _C, _isin, _rng, not_measured
from .shares import _side_rows

__all__ = ["CURVE_HOURS", "km_median", "role_timing"]

#: Hours after the crisis start at which the curves are read (cut at the crisis end).
CURVE_HOURS = (1, 3, 6, 12, 24, 48, 72, 96, 120, 168, 240, 336)
#: Permutations of the role labels for the order test.
PERMUTATIONS = 2000
_ROLES = [r.value for r in Role if r is not Role.UNKNOWN]


def _first_hours(cell: pd.DataFrame, start: pd.Timestamp) -> pd.Series:
    """Hours from ``start`` to each account's first post in ``cell``."""
    t = pd.to_datetime(cell["created_at"], utc=True)
    first = t.groupby(cell["source"].to_numpy(dtype=object)).min()
    return ((first - start).dt.total_seconds() / 3600.0).sort_index()


def km_median(hours: np.ndarray, observed: np.ndarray) -> float | None:
    """Return the Kaplan-Meier median of right-censored times; None when it is not reached.

    ``observed`` is False for a censored time. The product-limit curve is statsmodels'
    ``SurvfuncRight``; the median is the first time the curve is at or below one half, and where
    the curve is exactly one half up to the next event time, the midpoint of the two (so with
    nothing censored it is the ordinary median; statsmodels' ``quantile`` takes the later time
    there). A curve that stays at or above one half to its last event time is "not reached".

    Examples
    --------
    >>> km_median(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True] * 4))
    2.5
    >>> km_median(np.array([1.0, 2.0, 5.0, 5.0]), np.array([True, True, False, False])) is None
    True
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    hours = np.asarray(hours, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    if not observed.any():
        return None
    sf = SurvfuncRight(hours, observed.astype(float))
    times, surv = np.asarray(sf.surv_times), np.asarray(sf.surv_prob)
    at = np.flatnonzero(surv <= 0.5 + 1e-9)
    if not len(at):
        return None
    i = int(at[0])
    if abs(surv[i] - 0.5) > 1e-9:
        return float(times[i])
    if i + 1 < len(times):  # flat at one half until the next event
        return float((times[i] + times[i + 1]) / 2.0)
    return None  # one half to the end of the follow-up


def _median_gaps(hours: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Median first-mention hour per role code (NaN for roles with no account)."""
    out = np.full(k, np.nan)
    for c in range(k):
        x = hours[codes == c]
        if len(x):
            out[c] = float(np.median(x))
    return out


def _permuted_medians(
    hours: np.ndarray, codes: np.ndarray, k: int, rng: np.random.Generator, permutations: int
) -> np.ndarray:
    """Return :func:`_median_gaps` of ``permutations`` shuffles of ``codes`` (one row each).

    The same shuffles, in the same order, as calling ``_median_gaps(hours, rng.permutation(codes),
    k)`` in a loop, and the same floats: a shuffle keeps each role's size ``m``, so its median
    is the mean of the ``(m - 1) // 2``-th and ``m // 2``-th hours (in ascending order) of the
    accounts the shuffle gave the role; a stable sort of the shuffled codes, in the order of
    the hours, lists those accounts in that order (O(n) per shuffle: no median to partition).
    The shuffles are of pointer-sized integers, which numpy moves without a memcpy per swap
    (the same swaps as of int8: ~20% fewer CPU-s); the shuffled codes are sorted as int8
    (numpy's stable sort of 8-bit integers is a radix sort).
    """
    order = np.argsort(hours, kind="stable")
    hs = hours[order]
    m = np.bincount(codes, minlength=k)[:k]
    start = np.concatenate(([0], np.cumsum(m)[:-1]))
    lo = start + np.maximum(m - 1, 0) // 2
    hi = start + m // 2
    wide = codes.astype(np.intp)
    small = np.int8 if k < 127 else np.intp
    out = np.full((permutations, k), np.nan)
    present = m > 0
    for i in range(permutations):
        idx = np.argsort(rng.permutation(wide)[order].astype(small), kind="stable")
        out[i, present] = (hs[idx[lo[present]]] + hs[idx[hi[present]]]) / 2.0
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Return Holm's step-down adjusted p-values, the floats of statsmodels'
    ``multipletests(p, method="holm")[1]``.

    Written here because statsmodels' Holm branch runs ``gc.collect()`` on every call: a full
    collection of the process's heap, ~0.1 s a call in the metrics step at 10^6 interactions.

    Examples
    --------
    >>> _holm(np.array([0.01, 0.04, 0.03, 0.5])).tolist()
    [0.04, 0.09, 0.09, 0.5]
    """
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(adjusted)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def role_timing(
    units: pd.DataFrame,
    roles: pd.Series,
    side: str,
    windows: Windows,
    *,
    seed: int = 42,
    permutations: int = PERMUTATIONS,
    confidence: float = 0.95,
    min_accounts: int = 3,
) -> dict[str, Any]:
    """Return first-mention curves per role, normalised by role size and baseline rate, and a
    permutation test of the order of roles (module docstring; METHODS.md "Role timing").

    Parameters
    ----------
    units : DataFrame
        Post-level units (source, target_side, window, created_at); weights are not needed (a
        first mention is a time, not a count).
    roles : Series
        Role per handle (:func:`account_roles`); ``unknown`` is left out.
    min_accounts : int
        Roles with fewer new accounts mentioning in the crisis take no part in the test.

    Returns
    -------
    dict
        ``roles: {role: {size, crisis_accounts, baseline_accounts, baseline_rate_per_day,
        new_accounts, censored_new_accounts, median_first_hours_new, median_reached,
        curve: [{hours, share, expected, ratio}]}}`` (``new_accounts``: accounts new to the
        conversation whose first post addressing the side came in the crisis or after it, the
        ``censored_new_accounts`` of them only after it; ``median_first_hours_new``: their
        Kaplan-Meier median, None when not reached), ``order`` (roles by that median, those
        not reached last), ``pairs: [{earlier, later, difference_hours, p, p_holm,
        survives}]``, ``permutations``, ``seed``, ``alpha``, ``censored_at_hours`` (the crisis
        end), ``surviving``: pairs that survive, as [earlier, later].
    """
    # the columns read here only: each selection below copies every column it keeps
    cell = _side_rows(units, side)[["source", "window", "created_at"]]
    if cell.empty:
        return not_measured(f"no posts addressed the {side} side")
    known = roles[roles.isin(_ROLES)]
    size = known.value_counts()
    win = cell["window"].to_numpy(dtype=object)
    crisis, base = cell[win == _C], cell[win == _B]
    if crisis.empty:
        return not_measured(f"no posts addressed the {side} side in the crisis")
    first = _first_hours(crisis, windows.crisis_start)
    base_handles = base["source"].unique()  # accounts that addressed the side in the baseline
    role_of = known.reindex(first.index)
    d_b = windows.days(Window.BASELINE)
    d_c_hours = windows.days(Window.CRISIS) * 24.0
    d_a = windows.days(Window.AFTER)
    # new accounts whose first post addressing the side came only after the crisis: censored
    # at the crisis end (their first post, if any, in the crisis never came)
    after = cell[win == _A]["source"].unique()
    late = pd.Index(
        sorted(set(after.tolist()) - set(first.index) - set(base_handles.tolist())), dtype=object
    )
    late_role = known.reindex(late)
    hours = [h for h in CURVE_HOURS if h < d_c_hours] + [round(d_c_hours, 6)]
    out_roles: dict[str, Any] = {}
    for r in _ROLES:
        n = int(size.get(r, 0))
        if n == 0:
            continue
        in_r = (role_of == r).to_numpy(dtype=bool)
        fh = first.to_numpy()[in_r]
        b_n = int(_isin(known.index[(known == r).to_numpy(dtype=bool)], base_handles).sum())
        # the per-account daily hazard under which b_n of n accounts are active in d_b days:
        # 1 - exp(-rate d_b) = b_n / n (not b_n / (n d_b), its first-order term, which
        # underestimates it as b_n / n grows and inflates the ratio; review t8 m6)
        rate = (-math.log1p(-b_n / n) / d_b if b_n < n else math.inf) if d_b > 0 else float("nan")
        new = first.index[in_r][~_isin(first.index[in_r], base_handles)]
        n_late = int((late_role == r).sum())
        median = km_median(
            np.concatenate([first.reindex(new).to_numpy(dtype=float), np.full(n_late, d_c_hours)]),
            np.concatenate([np.ones(len(new), bool), np.zeros(n_late, bool)]),
        )
        curve = []
        for h in hours:
            share = float((fh <= h).sum()) / n
            expected = 1.0 - math.exp(-rate * h / 24.0) if rate == rate else float("nan")
            curve.append(
                {
                    "hours": h,
                    "share": share,
                    "expected": expected,
                    "ratio": share / expected if expected > 0 else None,
                }
            )
        out_roles[r] = {
            "size": n,
            "crisis_accounts": int(in_r.sum()),
            "baseline_accounts": b_n,
            "baseline_rate_per_day": rate if math.isfinite(rate) else None,
            "new_accounts": len(new) + n_late,
            "censored_new_accounts": n_late,
            # how many newcomers of the after window the baseline rate alone predicts (review t8
            # M2): the role's accounts still at risk at the crisis end (neither in the baseline
            # nor new in the crisis) times 1 - exp(-rate d_after)
            "censored_background_expected": (
                (n - b_n - len(new)) * (1.0 - math.exp(-rate * d_a))
                if d_a > 0 and rate == rate
                else None
            ),
            "median_first_hours_new": median,
            "median_reached": median is not None,
            "curve": curve,
        }
    # the permutation test: new accounts of roles with enough of them
    tested = [r for r in _ROLES if r in out_roles and out_roles[r]["new_accounts"] >= min_accounts]
    alpha = 1.0 - confidence
    result: dict[str, Any] = {
        "roles": out_roles,
        "permutations": int(permutations),
        "seed": int(seed),
        "alpha": alpha,
        "min_accounts": int(min_accounts),
        "tested_roles": tested,
        "censored_at_hours": d_c_hours,
    }
    if len(tested) < 2:
        result["pairs"] = []
        result["order"] = tested
        result["surviving"] = []
        result["test"] = not_measured(
            f"fewer than two roles with {min_accounts} or more accounts new to the conversation"
        )
        return result
    new_mask = ~_isin(first.index, base_handles)
    pool = first[new_mask & role_of.isin(tested).to_numpy(dtype=bool)]
    # censored accounts enter with an infinite time: with one censoring time for all (the
    # crisis end, after every first post in the crisis) the ordinary median of the times so
    # completed is the Kaplan-Meier median (infinite: not reached); the test compares the
    # medians cut at the crisis end, so a median not reached counts as the crisis end
    cens = late_role[late_role.isin(tested).to_numpy(dtype=bool)]
    pool = pd.concat([pool, pd.Series(np.inf, index=cens.index)])
    role_all = pd.concat([role_of, cens])
    codes = role_all.reindex(pool.index).map({r: i for i, r in enumerate(tested)}).to_numpy(int)
    h = pool.to_numpy(dtype=float)
    k = len(tested)
    obs = np.minimum(_median_gaps(h, codes, k), d_c_hours)
    rng = _rng(seed, f"role-order-{side}")
    pairs = list(itertools.combinations(range(k), 2))
    med = np.minimum(_permuted_medians(h, codes, k, rng, permutations), d_c_hours)
    exceed = np.array(
        [
            float(np.sum(np.abs(med[:, a] - med[:, b]) >= abs(obs[a] - obs[b]) - 1e-12))
            for a, b in pairs
        ]
    )
    p = (exceed + 1.0) / (permutations + 1.0)  # Phipson & Smyth 2010: never exactly 0
    p_holm = _holm(p)
    rows = []
    for j, (a, b) in enumerate(pairs):
        early, late = (a, b) if obs[a] <= obs[b] else (b, a)
        rows.append(
            {
                "earlier": tested[early],
                "later": tested[late],
                "difference_hours": float(obs[late] - obs[early]),
                "p": float(p[j]),
                "p_holm": float(p_holm[j]),
                "survives": bool(p_holm[j] < alpha),
            }
        )
    rows.sort(key=lambda r: (r["p_holm"], r["earlier"], r["later"]))
    result["pairs"] = rows
    result["order"] = sorted(tested, key=lambda r: (_median_key(out_roles[r]), r))
    result["surviving"] = [[r["earlier"], r["later"]] for r in rows if r["survives"]]
    result["test"] = {
        "statistic": (
            "difference in Kaplan-Meier median first-mention hour, accounts new to the "
            "conversation, censored at the crisis end (a median not reached counts as the "
            "crisis end)"
        ),
        "method": "permutation of role labels, two-sided, Holm-adjusted over pairs",
    }
    return result


def _median_key(entry: dict[str, Any]) -> float:
    m = entry["median_first_hours_new"]
    return math.inf if m is None else float(m)


def timing_by_side(units: pd.DataFrame, tables: dict[str, pd.DataFrame], study: Any) -> dict:
    """Return :func:`role_timing` for both sides, from the roles table :func:`analyse` made."""
    from .common import _SIDES

    rt = tables.get("roles")
    if rt is not None and "in_conversation" in rt:  # N_r: accounts in the conversation only
        rt = rt[rt["in_conversation"].to_numpy(dtype=bool)]
    if rt is None or rt.empty:
        return {s: not_measured("no account has a role") for s in _SIDES}
    roles = pd.Series(rt["role"].to_numpy(dtype=object), index=rt["handle"].to_numpy(dtype=object))
    sp = study.support
    return {
        s: role_timing(units, roles, s, study.windows, seed=sp.seed, confidence=sp.confidence)
        for s in _SIDES
    }
