"""Attention as an interrupted time series: segmented regression of counts per day (or hour).

METHODS.md, "Attention as a time series". The counts of posts addressing a side per time bin
over the baseline, crisis and after windows are fitted by a negative-binomial GLM with a log link
and an exposure offset (the part of each bin inside its window). Each interval is the wider of
the model-based one and the Newey-West (HAC) one, which allows for autocorrelation between
neighbouring bins (cascades spill over a bin's edge) but is too narrow on its own with the ~50
bins of a study (measured in tests/test_comparisons.py and METHODS.md).
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Window
from ..windows import Windows
from .common import _A, _B, _C, _FOCAL, _INST, _WINDOWS, not_measured
from .shares import UNIT_WEIGHT

__all__ = [
    "ITS_METHOD",
    "block_shares",
    "its_fit",
    "its_lift",
    "timeline_counts",
    "timeline_freq",
]

ITS_METHOD = (
    "segmented negative-binomial regression (statsmodels GLM, log link, exposure offset, "
    "dispersion by maximum likelihood); intervals: the wider of the model-based and the "
    "Newey-West HAC Wald intervals"
)
#: Appended to :data:`ITS_METHOD` when the model-based standard errors were scaled (``scale``
#: ``"pearson"``): the ML dispersion sat on its boundary while the counts were overdispersed.
QUASI_POISSON_METHOD = (
    "; the dispersion's maximum-likelihood estimate is 0 (Poisson) while the Pearson dispersion "
    "exceeds 1: model-based standard errors scaled by its square root (quasi-Poisson)"
)
#: The dispersion :func:`_nb_alpha` returns when the ML estimate is on its boundary (0) or fails.
ALPHA_FLOOR = 1e-8
#: An ML dispersion below this is on its boundary: the optimiser (on log alpha) drifts towards 0
#: and stops anywhere near it (1.6e-8 on the example); with it the negative-binomial variance
#: ``mu (1 + alpha mu)`` differs from the Poisson one by under 0.1% even at 1,000 posts a bin.
ALPHA_BOUNDARY = 1e-6
_SIDE_OF = {_FOCAL: 0, _INST: 1}
#: Fewest bins per window for the model: a level and a slope need at least three points.
MIN_BINS = 3


def timeline_freq(windows: Windows) -> str:
    """Return ``"h"`` for studies spanning at most 4 days, else ``"D"`` (as the report's charts).

    Examples
    --------
    >>> timeline_freq(Windows.from_crisis("2014-02-14T09:00Z", "2014-02-15T09:00Z", 1, 1))
    'h'
    """
    return "h" if (windows.after_end - windows.baseline_start) <= pd.Timedelta(days=4) else "D"


def timeline_counts(units: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Return posts per side, window and time bin (``freq``-floored UTC) from post units.

    Works on plain units and on units compressed with bins of ``freq`` or finer
    (:func:`netsupport.support.compress_units`), whose ``created_at`` lies in their bin.

    Returns
    -------
    DataFrame
        Columns ``target_side``, ``window``, ``bin`` (UTC timestamp), ``stance``, ``n``;
        sorted.
    """
    cols = ["target_side", "window", "bin", "stance", "n"]
    if units.empty:
        return pd.DataFrame({c: [] for c in cols})
    ts = pd.to_datetime(units["created_at"], utc=True)
    w = (
        units[UNIT_WEIGHT].to_numpy(dtype=np.int64)
        if UNIT_WEIGHT in units.columns
        else np.ones(len(units), dtype=np.int64)
    )
    frame = pd.DataFrame(
        {
            "target_side": units["target_side"].astype(object).to_numpy(),
            "window": units["window"].astype(object).to_numpy(),
            "bin": ts.dt.floor(freq).array,  # (to_numpy(): an object array of Timestamps)
            "stance": units["stance"].astype(object).to_numpy(),
            "n": w,
        }
    )
    frame = frame[frame["window"].isin(_WINDOWS).to_numpy()]
    keys = ["target_side", "window", "bin", "stance"]
    out = frame.groupby(keys, sort=True, dropna=False)["n"].sum().reset_index()
    out["n"] = out["n"].astype(np.int64)
    return out[cols]


def _bins(windows: Windows, freq: str) -> pd.DataFrame:
    """Every bin of every window, with its exposure (days of the bin inside the window)."""
    step = pd.Timedelta(1, unit="D" if freq == "D" else "h")
    rows = []
    for w in _WINDOWS:
        s, e = windows.bounds(Window(w))
        if e <= s:
            continue
        b = s.floor(freq)
        while b < e:
            lo, hi = max(b, s), min(b + step, e)
            rows.append((w, b, (hi - lo) / pd.Timedelta(days=1), (lo + (hi - lo) / 2)))
            b += step
    return pd.DataFrame(rows, columns=["window", "bin", "exposure", "mid"])


def _hac_lags(n: int) -> int:
    """Newey-West's rule of thumb for the HAC truncation lag: floor(4 (n/100)^(2/9))."""
    return max(1, math.floor(4 * (n / 100) ** (2 / 9)))


def its_lift(
    timeline: pd.DataFrame,
    side: str,
    windows: Windows,
    freq: str,
    confidence: float = 0.95,
    *,
    quasi_poisson: bool = True,
) -> dict[str, Any]:
    """Return the segmented-regression model of attention towards ``side``.

    Model, with ``t`` the time of a bin's centre in days from the crisis start, ``C`` and
    ``A`` indicators of the crisis and after windows and ``e`` the bin's exposure in days::

        log E[y] = log e + b0 + b1 t + b2 C + b3 C (t - 0) + b4 A + b5 A (t - d_c)

    ``exp(b2)`` is the **level change** at the crisis start (the rate in the crisis's first
    moment over the baseline trend extrapolated there), ``exp(b3)`` the **slope change**: the
    crisis rate's daily multiplier relative to the baseline trend; when the crisis rate falls
    (``b1 + b3 < 0``) its **half-life** is ``ln 2 / -(b1 + b3)`` days. ``exp(b4)`` is the level
    at the start of the after window relative to the baseline trend. The counts are
    negative binomial (``var = mu + alpha mu^2``, ``alpha`` by maximum likelihood). Each
    interval is the wider of the model-based Wald interval and the one with Newey-West HAC
    standard errors (lag ``floor(4 (n/100)^(2/9))``). When ``alpha``'s estimate sits on its
    boundary (below :data:`ALPHA_BOUNDARY`: the fit is Poisson) while the Pearson dispersion
    ``phi`` (chi-square over residual df) exceeds 1, the model-based standard errors are
    multiplied by ``sqrt(phi)`` (quasi-Poisson; ``scale: "pearson"``, else ``"none"``). The
    HAC standard errors are a sandwich, free of the scale, and stay as they are.

    Parameters
    ----------
    timeline : DataFrame
        :func:`timeline_counts` of the study's units.
    side : str
    windows : Windows
    freq : {"D", "h"}
        Bin width.
    confidence : float
    quasi_poisson : bool
        False: never scale the standard errors (the rule before; for the coverage bench).

    Returns
    -------
    dict
        ``{level_change, slope_change, crisis_trend, after_level: CI, half_life_days: float |
        NM, baseline_trend: CI, bins, freq, hac_lags, dispersion, scale, method, confidence,
        nb_alpha, fitted: [{bin, window, observed, fitted, counterfactual, exposure}]}`` or
        not measured.
    """
    bins = _bins(windows, freq)
    own = timeline[(timeline["target_side"] == side).to_numpy(dtype=bool)]
    counts = own.groupby(["window", "bin"], sort=True)["n"].sum()
    keys = zip(bins["window"], bins["bin"], strict=True)
    bins["y"] = [int(counts.get(k, 0)) for k in keys]
    return its_fit(bins, side, windows, freq, confidence, quasi_poisson=quasi_poisson)


def its_fit(
    bins: pd.DataFrame,
    side: str,
    windows: Windows,
    freq: str,
    confidence: float = 0.95,
    *,
    quasi_poisson: bool = True,
) -> dict[str, Any]:
    """Return :func:`its_lift`'s model of the counts ``y`` of the bins of :func:`_bins`.

    ``bins``: ``_bins(windows, freq)`` with a column ``y``, the posts addressing ``side`` per
    bin (the sensitivity grid counts them from arrays, without a timeline table).
    """
    # the modules, not statsmodels.api (which imports all of statsmodels: ~0.3 s)
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    # (arrays, not pandas operations, on the few dozen bins: the grid fits ~50 of these)
    win = bins["window"].to_numpy(dtype=object)
    n_by = {w: int(np.count_nonzero(win == w)) for w in (_B, _C, _A)}
    for w in (_B, _C):
        if n_by[w] < MIN_BINS:
            return not_measured(
                f"the {w} window has fewer than {MIN_BINS} bins of one {_unit(freq)}: no trend "
                "to fit"
            )
    if bins["y"].to_numpy()[win == _B].sum() == 0:
        return not_measured(f"nobody addressed the {side} side in the baseline window")
    day = pd.Timedelta(days=1)
    t = ((bins["mid"] - windows.crisis_start) / day).to_numpy(dtype=float)
    d_c = (windows.crisis_end - windows.crisis_start) / day
    c = (win == _C).astype(float)
    a = (win == _A).astype(float)
    cols = [np.ones(len(bins)), t, c, c * t]
    names = ["intercept", "baseline_trend", "level_change", "slope_change"]
    has_after = n_by[_A] >= MIN_BINS
    if has_after:
        cols += [a, a * (t - d_c)]
        names += ["after_level", "after_slope"]
    else:  # too few after bins for a level and slope: leave them out of the fit
        keep = a == 0
        cols = [x[keep] for x in cols]
        bins = bins[keep].reset_index(drop=True)
        t = t[keep]
    x = np.column_stack(cols)
    y = bins["y"].to_numpy(dtype=float)
    offset = np.log(bins["exposure"].to_numpy(dtype=float))
    lags = _hac_lags(len(y))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            nb_alpha, start = _nb_alpha(y, x, offset)
            model = GLM(y, x, family=families.NegativeBinomial(alpha=nb_alpha), offset=offset)
            # IRLS started at the negative binomial's maximum-likelihood coefficients, the
            # fixed point for that alpha (one or two iterations to confirm it; from scratch it
            # took 15-125 to a change below 1e-13); from scratch when alpha is the floor
            fit = model.fit(start_params=start, **_TIGHT)
            # the same estimates with other covariances: IRLS started at the fixed point (one
            # iteration to confirm it) instead of from scratch
            hac = model.fit(
                start_params=fit.params, cov_type="HAC", cov_kwds={"maxlags": lags}, **_TIGHT
            )
            # Pearson chi2 / residual df under the Poisson variance: how overdispersed (1 =
            # Poisson); it decides the quasi-Poisson scale when alpha sits on its boundary
            dispersion = _pearson_dispersion(y, np.asarray(fit.mu, dtype=float), len(fit.params))
            scaled = quasi_poisson and nb_alpha < ALPHA_BOUNDARY and dispersion > 1
            if scaled:  # the same estimates; model-based covariance times phi
                fit = model.fit(start_params=fit.params, scale=dispersion, **_TIGHT)
    except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as e:
        return not_measured(f"the segmented regression did not converge ({type(e).__name__})")
    b = np.asarray(fit.params, dtype=float)
    ci_model = np.asarray(fit.conf_int(alpha=1 - confidence), dtype=float)
    ci_hac = np.asarray(hac.conf_int(alpha=1 - confidence), dtype=float)
    ci = np.column_stack(
        [np.minimum(ci_model[:, 0], ci_hac[:, 0]), np.maximum(ci_model[:, 1], ci_hac[:, 1])]
    )
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(ci))):
        return not_measured("the segmented regression gave no finite estimate")
    crisis_slope = b[1] + b[3]
    se_cs = max(_se_sum(fit, 1, 3), _se_sum(hac, 1, 3))
    z = float(_z(confidence))
    with np.errstate(over="ignore"):
        cf = np.exp(offset + x[:, :2] @ b[:2])  # the baseline trend carried on: no crisis
        fitted = np.exp(offset + x @ b)
    # a degenerate fit: exp of a huge coefficient (its interval encloses it; the intercept's is
    # never taken), interval bound or fitted value would overflow
    widest = max(float(np.max(np.abs(ci[1:]))), abs(crisis_slope) + z * se_cs)
    if widest > _LOG_MAX or not (np.all(np.isfinite(cf)) and np.all(np.isfinite(fitted))):
        return not_measured("the segmented regression gave no finite estimate (overflow)")

    def ratio(i: int) -> dict[str, Any]:
        return {"value": math.exp(b[i]), "low": math.exp(ci[i, 0]), "high": math.exp(ci[i, 1])}

    out: dict[str, Any] = {}
    for i, nm in enumerate(names):
        if nm != "intercept":
            out[nm] = ratio(i)
    out["crisis_trend"] = {
        "value": math.exp(crisis_slope),
        "low": math.exp(crisis_slope - z * se_cs),
        "high": math.exp(crisis_slope + z * se_cs),
    }
    out["half_life_days"] = (
        math.log(2) / -crisis_slope
        if crisis_slope < 0
        else not_measured("attention did not fall during the crisis: no decay")
    )
    out.update(
        {
            "bins": len(y),
            "freq": freq,
            "hac_lags": lags,
            "nb_alpha": nb_alpha,
            "dispersion": dispersion,
            "scale": "pearson" if scaled else "none",
            "confidence": confidence,
            "method": ITS_METHOD + (QUASI_POISSON_METHOD if scaled else ""),
            "fitted": [
                {
                    "bin": bn.isoformat(),
                    "window": w,
                    "observed": int(o),
                    "fitted": float(f),
                    "counterfactual": float(k),
                    "exposure": float(x_),
                }
                for bn, w, o, f, k, x_ in zip(
                    bins["bin"], bins["window"], y, fitted, cf, bins["exposure"], strict=True
                )
            ],
        }
    )
    return out


#: The largest x whose exp(x) is a finite double (math.exp raises OverflowError above it).
_LOG_MAX = math.log(sys.float_info.max)

#: IRLS run to the fixed point's last digits rather than to statsmodels' default deviance
#: tolerance (1e-8): stopped early, the last iterate depends on the host's floating-point kernels
#: (numpy's SIMD and OpenBLAS's per-CPU code paths), and the fitted values and intervals differed
#: between an AVX-512 and an AVX2 host in their 7th-8th significant digit, enough to change
#: metrics.json's bytes. At the fixed point the hosts agree to rounding error.
_TIGHT: dict[str, Any] = {"tol": 1e-13, "tol_criterion": "params", "maxiter": 500}


def _pearson_dispersion(y: np.ndarray, mu: np.ndarray, n_params: int) -> float:
    """Return Pearson's chi-square under the Poisson variance over the residual df.

    Examples
    --------
    >>> _pearson_dispersion(np.array([2.0, 6.0, 4.0]), np.array([4.0, 4.0, 4.0]), 1)
    1.0
    """
    return float(np.sum((y - mu) ** 2 / mu) / max(1, len(y) - n_params))


def _nb_alpha(y: np.ndarray, x: np.ndarray, offset: np.ndarray) -> tuple[float, np.ndarray | None]:
    """Return the negative-binomial dispersion (var = mu + alpha mu^2) by maximum likelihood
    (statsmodels NegativeBinomial), or a Poisson-like :data:`ALPHA_FLOOR` when the estimate is
    on its boundary (below :data:`ALPHA_BOUNDARY`: the counts are not overdispersed in that
    form) or the fit fails; and the coefficients fitted with that alpha (None with the floor).

    The BFGS estimate is polished by Newton's method to the optimum's last digits: BFGS stops
    at a gradient tolerance, where the estimate still depends on the host's floating-point
    kernels (see :data:`_TIGHT`). On the boundary the optimiser drifts towards 0 and stops
    anywhere near it (3.1e-8 on one host, 1.6e-8 on another for the example), so the floor is
    returned there: the same value on every host."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = NegativeBinomial(y, x, offset=offset)
            res = nb.fit(disp=0, maxiter=200)
            alpha = float(np.asarray(res.params)[-1])
            if not (math.isfinite(alpha) and alpha >= ALPHA_BOUNDARY):
                return ALPHA_FLOOR, None
            polished = nb.fit(
                start_params=res.params, method="newton", tol=1e-14, maxiter=100, disp=0
            )
        better = float(np.asarray(polished.params)[-1])
    except (np.linalg.LinAlgError, ValueError):
        return ALPHA_FLOOR, None
    if math.isfinite(better) and better >= ALPHA_BOUNDARY:
        alpha, params = better, np.asarray(polished.params, dtype=float)
    else:
        params = np.asarray(res.params, dtype=float)
    return alpha, params[:-1] if np.all(np.isfinite(params)) else None


def _se_sum(fit: Any, i: int, j: int) -> float:
    """Standard error of coefficient i + coefficient j."""
    cov = np.asarray(fit.cov_params(), dtype=float)
    return math.sqrt(max(0.0, cov[i, i] + cov[j, j] + 2 * cov[i, j]))


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def _unit(freq: str) -> str:
    return "day" if freq == "D" else "hour"


def block_shares(
    timeline: pd.DataFrame,
    side: str,
    window: str,
    freq: str,
    *,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return post-level stance shares towards ``side`` in ``window`` with a day-block bootstrap.

    The time bins of the window (days, or hours for short studies) are resampled with
    replacement, each bringing all its posts; the percentile interval of the shares and of net
    support (supportive - critical) follows. A cascade (a post and the reposts and quotes of it)
    mostly falls within one day, so this interval keeps the dependence between the posts of one
    cascade that resampling accounts ignores; it ignores the dependence between days.

    Examples
    --------
    >>> tl = pd.DataFrame({"target_side": ["focal"] * 3, "window": ["crisis"] * 3,
    ...     "bin": pd.to_datetime(["2014-02-14", "2014-02-14", "2014-02-15"], utc=True),
    ...     "stance": ["supportive", "critical", "supportive"], "n": [3, 1, 2]})
    >>> r = block_shares(tl, "focal", "crisis", "D", n_boot=50)
    >>> round(r["net_support"]["value"], 6), r["blocks"]
    (0.666667, 2)
    """
    from .common import _interval, _rng

    cell = timeline[
        (timeline["target_side"] == side).to_numpy(dtype=bool)
        & (timeline["window"] == window).to_numpy(dtype=bool)
    ]
    if cell.empty or int(cell["n"].sum()) == 0:
        return not_measured(f"no post addressed the {side} side in the {window} window")
    table = cell.pivot_table(
        index="bin", columns="stance", values="n", aggfunc="sum", fill_value=0
    ).sort_index()
    stances = ("supportive", "critical", "neutral")
    m = table.reindex(columns=list(stances), fill_value=0).to_numpy(dtype=np.int64)
    rng = _rng(seed, f"block_shares/{side}/{window}")
    w = rng.multinomial(len(m), np.full(len(m), 1 / len(m)), size=n_boot)  # blocks drawn
    counts = w @ m  # (n_boot, 3)
    total = counts.sum(axis=1).astype(float)
    point_n = m.sum(axis=0)
    out: dict[str, Any] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, s in enumerate(stances):
            out[s] = _interval(float(point_n[i] / point_n.sum()), counts[:, i] / total, confidence)
        net_point = float((point_n[0] - point_n[1]) / point_n.sum())
        out["net_support"] = _interval(net_point, (counts[:, 0] - counts[:, 1]) / total, confidence)
    out.update(
        {
            "n": int(point_n.sum()),
            "blocks": len(m),
            "freq": freq,
            "confidence": confidence,
            "method": f"percentile bootstrap over {_unit(freq)} blocks",
            "bootstrap": n_boot,
        }
    )
    return out
