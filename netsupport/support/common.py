"""Shared pieces of the support measures: constants, the not-measured marker, exact intervals."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..graph_measures import AMPLIFIER_KINDS as AMPLIFIER_KINDS  # (the communities step's)
from ..schema import (
    Target,
    Window,
)
from ..stance import (
    STANCE_ORDER,
)

#: Version of the metrics.json structure (bumped when keys change meaning).
METRICS_VERSION = 1

_SUP, _CRI, _NEU = STANCE_ORDER
_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_SIDES = (_FOCAL, _INST)
_WINDOWS = (Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value)
_B, _C, _A = _WINDOWS
RATE_RATIO_METHOD = "exact conditional binomial (Clopper-Pearson), Poisson rate ratio"
PROPORTION_METHOD = "Clopper-Pearson exact binomial"
BOOTSTRAP_METHOD = "percentile bootstrap over accounts"


def not_measured(reason: str) -> dict[str, str]:
    """Return the marker of a metric the data cannot support.

    Examples
    --------
    >>> not_measured("no institution given in the study")
    {'status': 'not measured', 'reason': 'no institution given in the study'}
    """
    return {"status": "not measured", "reason": reason}


def _obj(values: pd.Series | pd.Index) -> np.ndarray:
    """Return values as an object array with None for missing (safe to compare with ==)."""
    return values.to_numpy(dtype=object, na_value=None)


def _isin(values: pd.Series | pd.Index, among: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Return ``values.isin(among)`` as a bool array, matching the values as Python objects.

    pandas 3 stores strings as Arrow-backed ``str``, whose ``isin`` makes a pyarrow scalar of
    every value of ``among`` (about half a second for the 10^5 handles of a 10^6 study);
    object arrays are matched by hashing. Same result for handles (strings, no missing ones).

    Examples
    --------
    >>> _isin(pd.Index(["a", "b", "c"]), pd.Index(["c", "a", "z"])).tolist()
    [True, False, True]
    """
    if isinstance(among, pd.Series | pd.Index):
        among = _obj(among)
    return pd.Index(_obj(values), dtype=object).isin(np.asarray(among, dtype=object))


def _measured(x: Any) -> bool:
    return not (isinstance(x, Mapping) and x.get("status") == "not measured")


def _rng(seed: int, key: str) -> np.random.Generator:
    """Return a generator for one quantity: the same seed and key give the same draws."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


# ---- intervals -----------------------------------------------------------------------------------


def rate_ratio(n1: int, t1: float, n0: int, t0: float, confidence: float = 0.95) -> dict[str, Any]:
    """Return the Poisson rate ratio ``(n1/t1) / (n0/t0)`` with its exact conditional interval.

    Given ``n = n1 + n0`` events, ``n1`` is binomial with ``p = t1*RR / (t1*RR + t0)``; the
    Clopper-Pearson interval ``[pL, pU]`` for ``p`` maps to ``RR = p/(1-p) * t0/t1``.

    Parameters
    ----------
    n1, t1 : events and exposure (days) of the numerator window (e.g. crisis)
    n0, t0 : events and exposure of the denominator window (e.g. baseline)
    confidence : float

    Returns
    -------
    dict
        ``value, low, high, confidence, method, numerator, denominator`` or not measured (no
        events in the denominator window, or a window of zero length).

    References
    ----------
    Breslow & Day (1987), Statistical Methods in Cancer Research II, ch. 2; Fay (2010), "Two-sided
    exact tests and matching confidence intervals for discrete data", R Journal 2(1);
    METHODS.md "Attention and lift".

    Examples
    --------
    >>> r = rate_ratio(12, 2.0, 14, 14.0)
    >>> r["value"], round(r["low"], 4), round(r["high"], 4)
    (6.0, 2.5351, 13.9764)
    """
    if t1 <= 0 or t0 <= 0:
        return not_measured("a window has zero length")
    if n0 == 0:
        return not_measured(
            f"no events in the reference window ({n1} in the other): the ratio is unbounded"
        )
    ci = stats.binomtest(int(n1), int(n1 + n0)).proportion_ci(
        confidence_level=confidence, method="exact"
    )

    def to_rr(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * t0 / t1

    return {
        "value": (n1 / t1) / (n0 / t0),
        "low": to_rr(ci.low),
        "high": to_rr(ci.high),
        "confidence": confidence,
        "method": RATE_RATIO_METHOD,
        "numerator": int(n1),
        "denominator": int(n0),
    }


def proportion_ci(k: int, n: int, confidence: float = 0.95) -> dict[str, Any]:
    """Return ``k/n`` with its Clopper-Pearson exact interval (not measured when ``n == 0``).

    Examples
    --------
    >>> p = proportion_ci(3, 4)
    >>> p["value"], round(p["low"], 4), round(p["high"], 4)
    (0.75, 0.1941, 0.9937)
    """
    if n == 0:
        return not_measured("no cases")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return {
        "value": k / n,
        "low": float(ci.low),
        "high": float(ci.high),
        "confidence": confidence,
        "method": PROPORTION_METHOD,
        "k": int(k),
        "n": int(n),
    }


def _interval(point: float, draws: np.ndarray, confidence: float) -> dict[str, Any]:
    alpha = (1 - confidence) / 2
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        low = high = point
    else:
        low, high = np.percentile(finite, [100 * alpha, 100 * (1 - alpha)])
    return {"value": point, "low": float(low), "high": float(high)}
