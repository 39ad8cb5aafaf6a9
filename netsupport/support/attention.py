"""Attention towards a side per window, the crisis lift, and persistence after the crisis."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..schema import (
    Window,
)
from ..windows import Windows
from .common import (
    _A,
    _B,
    _C,
    _WINDOWS,
    BOOTSTRAP_METHOD,
    _interval,
    _measured,
    _rng,
    not_measured,
    rate_ratio,
)
from .shares import _cell, _Cells, _count, reputational_change

# ---- attention -----------------------------------------------------------------------------------


def attention(units: pd.DataFrame, side: str, windows: Windows) -> dict[str, dict[str, Any]]:
    """Return interactions (posts addressing the side) and distinct accounts, per window and day.

    Returns
    -------
    dict
        ``{window: {"interactions", "accounts", "days", "interactions_per_day",
        "accounts_per_day"}}`` for baseline, crisis, after (a zero-length window is not
        measured).
    """
    out: dict[str, dict[str, Any]] = {}
    for w in _WINDOWS:
        days = windows.days(Window(w))
        cell = _cell(units, side, w)
        if days <= 0:
            out[w] = not_measured(f"the {w} window has zero length")
            continue
        n, a = _count(cell), int(cell["source"].nunique())
        out[w] = {
            "interactions": n,
            "accounts": a,
            "days": days,
            "interactions_per_day": n / days,
            "accounts_per_day": a / days,
        }
    return out


def lift(
    units: pd.DataFrame,
    side: str,
    windows: Windows,
    *,
    numerator: str = _C,
    denominator: str = _B,
    confidence: float = 0.95,
    n_boot: int | None = None,
    seed: int = 42,
) -> dict[str, Any]:
    """Return the attention rate ratio numerator/denominator window (crisis/baseline by default).

    The interval is the exact Poisson rate-ratio interval (:func:`rate_ratio`). With ``n_boot``,
    ``account_bootstrap`` adds a percentile interval from resampling the accounts active in either
    window with all their posts: it keeps the burstiness the Poisson interval ignores (a few
    accounts posting a lot, cascades), so it is the wider and safer of the two when they differ.
    """
    n1 = _count(_cell(units, side, numerator))
    n0 = _count(_cell(units, side, denominator))
    t1, t0 = windows.days(Window(numerator)), windows.days(Window(denominator))
    r = rate_ratio(n1, t1, n0, t0, confidence)
    if not _measured(r) and n0 == 0:
        return not_measured(
            f"nobody addressed the {side} side in the {denominator} window ({n1} posts in the "
            f"{numerator} window): the rate ratio is unbounded"
        )
    if _measured(r) and n_boot:
        r["account_bootstrap"] = _lift_bootstrap(
            units, side, (denominator, t0), (numerator, t1), n_boot, seed, confidence
        )
    return r


def _lift_bootstrap(
    units: pd.DataFrame,
    side: str,
    den: tuple[str, float],
    num: tuple[str, float],
    n_boot: int,
    seed: int,
    confidence: float,
) -> dict[str, Any]:
    cells = _Cells.build(units, [(side, den[0]), (side, num[0])])
    w = cells.replicate_weights(n_boot, _rng(seed, f"lift/{side}/{num[0]}/{den[0]}"))
    n0 = w @ cells.counts(0).sum(axis=1)
    n1 = w @ cells.counts(1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (n1 / num[1]) / (n0 / den[1])
    ci = _interval(0.0, np.where(n0 > 0, ratio, np.nan), confidence)
    return {
        "low": ci["low"],
        "high": ci["high"],
        "accounts": cells.n_accounts,
        "bootstrap": n_boot,
        "undefined_resamples": int((n0 == 0).sum()),
        "method": BOOTSTRAP_METHOD,
    }


# ---- persistence ---------------------------------------------------------------------------------


def persistence(
    units: pd.DataFrame,
    side: str,
    windows: Windows,
    *,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return after-window attention and net support relative to the baseline.

    ``attention_ratio``: after / baseline rate ratio (exact interval); ``net_support_change``:
    net support(after) - net support(baseline), bootstrap intervals at post and account level.
    """
    return {
        "attention_ratio": lift(
            units,
            side,
            windows,
            numerator=_A,
            denominator=_B,
            confidence=confidence,
            n_boot=n_boot,
            seed=seed,
        ),
        "net_support_change": reputational_change(
            units, side, later=_A, earlier=_B, n_boot=n_boot, seed=seed, confidence=confidence
        ),
    }


# ---- the lift's intervals beside the exact one ---------------------------------------------------


def overdispersed_interval(
    rr: dict[str, Any], phi: float | None, confidence: float = 0.95
) -> dict[str, Any]:
    """Return the rate ratio's quasi-Poisson interval: the log ratio's standard error scaled by
    ``sqrt(phi)`` (METHODS.md, "Attention and lift").

    The two windows' counts as a Poisson log-linear model with exposure, ``log E[n_w] = log d_w
    + b0 + b1 [w = numerator]``, give ``b1 = log RR`` with ``SE = sqrt(1/n1 + 1/n0)``; with
    day-to-day variance ``phi`` times the Poisson one (quasi-Poisson), the SE is multiplied by
    ``sqrt(phi)``, ``phi`` floored at 1 (never narrower than Poisson): ``exp(log RR +- z sqrt(phi)
    SE)``. ``phi`` is the Pearson dispersion of the attention time-series fit on the same
    daily counts (``attention_model.<side>.dispersion``).

    Examples
    --------
    >>> r = overdispersed_interval({"value": 8.188865, "numerator": 415, "denominator": 132},
    ...     1.459093)
    >>> round(r["low"], 4), round(r["high"], 4), r["phi"]
    (6.4637, 10.3745, 1.459093)
    """
    n1, n0, value = rr.get("numerator"), rr.get("denominator"), rr.get("value")
    if phi is None or not np.isfinite(phi):
        return not_measured("the attention time-series fit gives no dispersion")
    if not n1 or not n0 or not value:
        return not_measured("no posts in a window: the log ratio has no standard error")
    from scipy.stats import norm

    used = max(float(phi), 1.0)
    se = float(np.sqrt(used * (1.0 / n1 + 1.0 / n0)))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    log_rr = float(np.log(value))
    return {
        "low": float(np.exp(log_rr - z * se)),
        "high": float(np.exp(log_rr + z * se)),
        "phi": float(phi),
        "phi_used": used,
        "se_log": se,
        "method": (
            "quasi-Poisson: the log rate ratio's standard error sqrt(1/n1 + 1/n0) times "
            "sqrt(phi), phi the Pearson dispersion of the attention time-series fit, floored at 1"
        ),
    }


def without_marker_only(
    rr: dict[str, Any],
    marker_only: dict[str, int] | None,
    side: str,
    windows: Windows,
    *,
    numerator: str = _C,
    denominator: str = _B,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return the rate ratio without the posts that count only through a study marker
    (:func:`netsupport.support.shares.marker_only_counts`): the campaign hashtag cannot occur
    before the campaign, so counting it makes the windows' measures unequal (METHODS.md,
    "Attention and lift"). ``marker_only_units``: those posts per window.

    Examples
    --------
    >>> from netsupport.windows import Windows
    >>> w = Windows.from_crisis("2014-02-14T00:00Z", "2014-02-16T00:00Z", 4, 4)
    >>> r = without_marker_only({"numerator": 11, "denominator": 4}, {"focal/crisis": 3},
    ...     "focal", w)
    >>> r["value"], r["marker_only_units"]
    (4.0, {'crisis': 3, 'baseline': 0})
    """
    if marker_only is None:
        return not_measured("marker-only posts were not counted")
    m1 = int(marker_only.get(f"{side}/{numerator}", 0))
    m0 = int(marker_only.get(f"{side}/{denominator}", 0))
    n1, n0 = int(rr["numerator"]), int(rr["denominator"])
    t1, t0 = windows.days(Window(numerator)), windows.days(Window(denominator))
    out = rate_ratio(n1 - m1, t1, n0 - m0, t0, confidence)
    if _measured(out):
        out["marker_only_units"] = {numerator: m1, denominator: m0}
    return out
