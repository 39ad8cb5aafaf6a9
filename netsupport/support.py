"""The support measures: attention, stance shares, reputational change, who supported and how.

Every metric is a pure function of tables (pandas DataFrames) and returns plain values; the
top-level :func:`compute_metrics` assembles them into the ``metrics.json`` structure documented
in its docstring and in METHODS.md. A metric that the data cannot support is reported as
``{"status": "not measured", "reason": "..."}``, never as NaN or as a zero passed off as a finding.

The unit of analysis is a *post addressing a side*: one row per (post, side) where side is the
focal account or the institution (a reply that also mentions the account counts once). Its stance
comes from :mod:`netsupport.stance`; a hand label or a repost decides over the text.

Examples
--------
>>> r = rate_ratio(30, 5.0, 20, 10.0)
>>> r["value"], r["low"] < 3.0 < r["high"]
(3.0, True)
>>> counts = pd.DataFrame({"supportive": [2, 1], "critical": [1, 1], "neutral": [0, 0]})
>>> majority_stance(counts).tolist()
['supportive', 'neutral']
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .schema import (
    AccountCol,
    FollowCol,
    IKind,
    InteractionCol,
    PostCol,
    Role,
    Table,
    Target,
    Window,
    normalise_handle,
)
from .stance import (
    STANCE_ORDER,
    Lexicon,
    StanceResult,
    load_lexicon,
    object_strings,
    rule_counts,
    stance_interactions,
)
from .textsafe import jsonable
from .windows import Windows

__all__ = [
    "METRICS_VERSION",
    "UNIT_WEIGHT",
    "Analysis",
    "MetricInputs",
    "account_roles",
    "amplifiers",
    "analyse",
    "analyse_inputs",
    "attention",
    "baseline_communities",
    "breadth",
    "communities_from_edges",
    "community_mobilisation",
    "compress_units",
    "compute_metrics",
    "crisis_pagerank",
    "focal_silence",
    "headline_rows",
    "majority_stance",
    "metric_inputs",
    "not_measured",
    "pagerank_from_edges",
    "persistence",
    "post_units",
    "prior_ties",
    "proportion_ci",
    "proxies",
    "proxy_reach",
    "rate_ratio",
    "reputational_change",
    "roles_attention",
    "run_support",
    "stance_shares",
    "supporter_composition",
    "supporters",
]

#: Version of the metrics.json structure (bumped when keys change meaning).
METRICS_VERSION = 1

_SUP, _CRI, _NEU = STANCE_ORDER
_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_SIDES = (_FOCAL, _INST)
_WINDOWS = (Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value)
_B, _C, _A = _WINDOWS
#: Kinds of the crisis graph PageRank runs on (amplifiers).
AMPLIFIER_KINDS = (IKind.REPOST, IKind.QUOTE, IKind.MENTION)
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


# ---- units ---------------------------------------------------------------------------------------

UNIT_COLUMNS = [
    "post_id",
    "target_side",
    "source",
    "created_at",
    "window",
    "stance",
    "kind",
    "rule",
]


def post_units(stance: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (post, side) from the per-interaction stance table.

    Where one post gives several interactions towards the same side (a reply that also mentions
    the account; a repost that names it), the row that decides is a hand label, else a repost,
    else the first in table order (all text-scored rows of a post agree for a side).

    Examples
    --------
    >>> st = pd.DataFrame({"post_id": ["1", "1"], "target_side": ["focal"] * 2,
    ...     "source": ["a", "a"], "created_at": pd.to_datetime(["2014-01-01"] * 2, utc=True),
    ...     "window": ["baseline"] * 2, "stance": ["neutral", "supportive"],
    ...     "kind": ["mention", "repost"], "rule": ["vader", "repost"], "target": ["x", "x"]})
    >>> post_units(st)[["post_id", "stance", "rule"]].values.tolist()
    [['1', 'supportive', 'repost']]
    """
    if stance.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in UNIT_COLUMNS}).assign(
            created_at=pd.Series([], dtype="datetime64[us, UTC]")
        )
    rule = _obj(stance["rule"])
    rank = np.where(rule == "label", 0, np.where(rule == "repost", 1, 2))
    post_code, _ = pd.factorize(stance["post_id"], sort=False)
    side_code = (_obj(stance["target_side"]) == _INST).astype(np.int64)
    key = post_code.astype(np.int64) * 2 + side_code
    order = np.lexsort((np.arange(len(stance)), rank, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    units = stance.iloc[np.sort(order[first])]
    return _with_codes(units[UNIT_COLUMNS].reset_index(drop=True))


_SIDE_CODE = {_FOCAL: 0, _INST: 1}
_WINDOW_CODE = {w: i for i, w in enumerate(_WINDOWS)}
_STANCE_CODE = {s: i for i, s in enumerate(STANCE_ORDER)}
_CODE_COLUMNS = ("_side", "_window", "_stance", "_account")


def _with_codes(units: pd.DataFrame) -> pd.DataFrame:
    """Return ``units`` with integer code columns for side, window, stance and account.

    The metrics select cells of a million rows many times; integer columns make that cheap.
    Missing or unknown values get -1.
    """
    out = units.copy()
    for col, name, mapping in (
        ("_side", "target_side", _SIDE_CODE),
        ("_window", "window", _WINDOW_CODE),
        ("_stance", "stance", _STANCE_CODE),
    ):
        codes, uniques = pd.factorize(units[name], use_na_sentinel=True)
        lookup = np.array([mapping.get(str(u), -1) for u in uniques] + [-1], dtype=np.int8)
        out[col] = lookup[codes]  # code -1 (missing) picks the trailing -1
    out["_account"] = pd.factorize(units["source"])[0].astype(np.int64)
    return out


def _codes(units: pd.DataFrame) -> pd.DataFrame:
    return units if "_window" in units.columns else _with_codes(units)


def _cell(units: pd.DataFrame, side: str, window: str) -> pd.DataFrame:
    u = _codes(units)
    m = (u["_side"].to_numpy() == _SIDE_CODE[side]) & (
        u["_window"].to_numpy() == _WINDOW_CODE[window]
    )
    return u[m]


def _side_rows(units: pd.DataFrame, side: str) -> pd.DataFrame:
    u = _codes(units)
    return u[u["_side"].to_numpy() == _SIDE_CODE[side]]


#: Column of compressed units (:func:`compress_units`): how many post-level units a row stands for.
UNIT_WEIGHT = "_n"
_UNIT_KEY = ["source", "target_side", "window", "stance"]


def _weight(units: pd.DataFrame) -> np.ndarray | None:
    """Return the units' weights (None: every row is one unit)."""
    return units[UNIT_WEIGHT].to_numpy(dtype=np.int64) if UNIT_WEIGHT in units.columns else None


def _count(units: pd.DataFrame) -> int:
    """Return how many post-level units ``units`` stands for."""
    w = _weight(units)
    return len(units) if w is None else int(w.sum())


def compress_units(units: pd.DataFrame, freq: str | None = None) -> pd.DataFrame:
    """Return units counted per account, side, window and stance (and time bin, with ``freq``).

    Every measure computed from units gives the same result on the compressed table: a row
    stands for :data:`UNIT_WEIGHT` units, and ``created_at`` is the earliest of them (the bin of
    ``freq``, e.g. ``"D"``, keeps the report's timelines exact). Compressing compressed units
    again (their concatenation, say) adds the weights. The Dask engine (:mod:`netsupport.scale`)
    computes it per partition; :func:`analyse` computes the measures from it.

    Examples
    --------
    >>> u = pd.DataFrame({"source": ["a", "a", "b"], "target_side": ["focal"] * 3,
    ...     "window": ["crisis"] * 3, "stance": ["supportive"] * 3,
    ...     "created_at": pd.to_datetime(["2014-02-15", "2014-02-14", "2014-02-14"], utc=True)})
    >>> c = compress_units(u)
    >>> c[["source", UNIT_WEIGHT]].values.tolist(), str(c["created_at"].iloc[0].date())
    ([['a', 2], ['b', 1]], '2014-02-14')
    """
    cols = [*_UNIT_KEY, "created_at", UNIT_WEIGHT]
    if units.empty:
        out = pd.DataFrame({c: pd.Series([], dtype=object) for c in _UNIT_KEY})
        out["created_at"] = pd.Series([], dtype="datetime64[us, UTC]")
        out[UNIT_WEIGHT] = pd.Series([], dtype="int64")
        return _with_codes(out[cols])
    ts = pd.to_datetime(units["created_at"], utc=True)
    frame = pd.DataFrame({c: _obj(units[c]) for c in _UNIT_KEY})
    frame["created_at"] = ts.to_numpy()
    w = _weight(units)
    frame[UNIT_WEIGHT] = np.ones(len(units), dtype=np.int64) if w is None else w
    keys = list(_UNIT_KEY)
    if freq is not None:
        frame["_bin"] = ts.dt.floor(freq).to_numpy()
        keys.append("_bin")
    g = frame.groupby(keys, sort=True, dropna=False)
    out = g.agg(created_at=("created_at", "min"), **{UNIT_WEIGHT: (UNIT_WEIGHT, "sum")})
    out = out.reset_index()[cols]
    for c in _UNIT_KEY:
        out[c] = _obj(out[c])
    out[UNIT_WEIGHT] = out[UNIT_WEIGHT].astype(np.int64)
    return _with_codes(out)


def account_stance_counts(units: pd.DataFrame) -> pd.DataFrame:
    """Return posts per account and stance (index: account; columns: the three stances)."""
    if units.empty:
        return pd.DataFrame(columns=list(STANCE_ORDER), dtype="int64")
    if UNIT_WEIGHT in units.columns:
        sizes = units.groupby(["source", "stance"], sort=True)[UNIT_WEIGHT].sum()
    else:
        sizes = units.groupby(["source", "stance"], sort=True).size()
    counts = sizes.unstack(fill_value=0)
    return counts.reindex(columns=list(STANCE_ORDER), fill_value=0).astype("int64")


def majority_stance(counts: pd.DataFrame) -> pd.Series:
    """Return each account's majority stance; a tie for the most posts is neutral.

    Examples
    --------
    >>> c = pd.DataFrame({"supportive": [3, 1, 1], "critical": [1, 1, 0], "neutral": [0, 0, 1]})
    >>> majority_stance(c).tolist()
    ['supportive', 'neutral', 'neutral']
    """
    m = counts[list(STANCE_ORDER)].to_numpy()
    return pd.Series(_majority_codes(m), index=counts.index).map(dict(enumerate(STANCE_ORDER)))


def _majority_codes(m: np.ndarray) -> np.ndarray:
    """Return 0/1/2 (supportive/critical/neutral) per row; ties for the maximum -> neutral (2)."""
    if len(m) == 0:
        return np.zeros(0, dtype=np.int64)
    top = m.max(axis=1, keepdims=True)
    n_top = (m == top).sum(axis=1)
    return np.where(n_top == 1, m.argmax(axis=1), 2)


# ---- bootstrap over accounts ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """Per-account stance counts in several (side, window) cells, compressed to unique profiles.

    Resampling n accounts with replacement draws each distinct count profile a multinomial number
    of times, so the bootstrap runs on profiles (exact, and fast when many accounts look alike).
    """

    cells: tuple[tuple[str, str], ...]
    profiles: np.ndarray  # K x (3 * len(cells)) post counts per stance
    freq: np.ndarray  # K accounts per profile

    @property
    def n_accounts(self) -> int:
        return int(self.freq.sum())

    @classmethod
    def build(cls, units: pd.DataFrame, cells: Sequence[tuple[str, str]]) -> _Cells:
        u = _codes(units)
        side = u["_side"].to_numpy()
        window = u["_window"].to_numpy()
        cell_idx = np.full(len(u), -1, dtype=np.int64)
        for i, (s, w) in enumerate(cells):
            cell_idx[(side == _SIDE_CODE[s]) & (window == _WINDOW_CODE[w])] = i
        sel = (cell_idx >= 0) & (u["_stance"].to_numpy() >= 0)
        d = 3 * len(cells)
        if not sel.any():
            return cls(tuple(cells), np.zeros((0, d), dtype=np.int64), np.zeros(0, dtype=np.int64))
        _, acc = np.unique(u["_account"].to_numpy()[sel], return_inverse=True)
        col = cell_idx[sel] * 3 + u["_stance"].to_numpy()[sel].astype(np.int64)
        n_acc = int(acc.max()) + 1
        w = _weight(u)
        flat = np.bincount(
            acc * d + col, weights=None if w is None else w[sel], minlength=n_acc * d
        )
        flat = flat.astype(np.int64).reshape(n_acc, d)
        profiles, freq = _unique_rows(flat)
        return cls(tuple(cells), profiles, freq)

    def counts(self, i: int) -> np.ndarray:
        return self.profiles[:, 3 * i : 3 * i + 3]

    def stats(self, weights: np.ndarray, i: int) -> dict[str, np.ndarray]:
        """Return shares and net support of cell ``i`` for each row of account ``weights``."""
        c = self.counts(i)
        active = c.sum(axis=1) > 0
        maj = np.zeros_like(c)
        codes = _majority_codes(c)
        maj[np.arange(len(c)), codes] = 1
        maj[~active] = 0
        with np.errstate(invalid="ignore", divide="ignore"):
            posts = weights @ c
            n_posts = posts.sum(axis=1, keepdims=True)
            post_share = posts / n_posts
            accs = weights @ maj
            n_accs = accs.sum(axis=1, keepdims=True)
            acc_share = accs / n_accs
        return {
            "post_level": post_share,
            "account_level": acc_share,
        }

    def replicate_weights(self, n_boot: int, rng: np.random.Generator) -> np.ndarray:
        n = self.n_accounts
        return rng.multinomial(n, self.freq / n, size=n_boot).astype(np.float64)

    def point_weights(self) -> np.ndarray:
        return self.freq[None, :].astype(np.float64)


def _unique_rows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct rows of an int matrix (in a fixed order) and how often each occurs."""
    m = np.ascontiguousarray(m, dtype=np.int64)
    void = m.view(np.dtype((np.void, m.dtype.itemsize * m.shape[1]))).ravel()
    _, first, counts = np.unique(void, return_index=True, return_counts=True)
    return m[first], counts


def _interval(point: float, draws: np.ndarray, confidence: float) -> dict[str, Any]:
    alpha = (1 - confidence) / 2
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        low = high = point
    else:
        low, high = np.percentile(finite, [100 * alpha, 100 * (1 - alpha)])
    return {"value": point, "low": float(low), "high": float(high)}


def _level_block(
    point: dict[str, np.ndarray],
    boot: dict[str, np.ndarray],
    level: str,
    n: int,
    confidence: float,
) -> dict[str, Any]:
    p, b = point[level][0], boot[level]
    out: dict[str, Any] = {"n": n}
    for j, s in enumerate(STANCE_ORDER):
        out[s] = _interval(float(p[j]), b[:, j], confidence)
    out["net_support"] = _interval(float(p[0] - p[1]), b[:, 0] - b[:, 1], confidence)
    return out


def stance_shares(
    units: pd.DataFrame,
    side: str,
    window: str,
    *,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return supportive/critical/neutral shares and net support for one side and window.

    Post level: share of posts addressing the side. Account level: share of accounts whose
    majority stance (ties neutral) is each stance. Net support = supportive - critical share.
    Intervals: percentile bootstrap over the accounts active in the cell (``n_boot``
    resamples, seeded per side and window).

    Returns
    -------
    dict
        ``{"post_level": {"n": posts, "supportive": {value, low, high}, "critical": ...,
        "neutral": ..., "net_support": ...}, "account_level": {"n": accounts, ...},
        "confidence", "method", "bootstrap"}`` or not measured when nobody addressed the side.
    """
    cells = _Cells.build(units, [(side, window)])
    if cells.n_accounts == 0:
        return not_measured(f"no posts addressed the {side} side in the {window} window")
    weights = cells.replicate_weights(n_boot, _rng(seed, f"shares/{side}/{window}"))
    boot = cells.stats(weights, 0)
    point = cells.stats(cells.point_weights(), 0)
    n_posts = int((cells.counts(0).sum(axis=1) * cells.freq).sum())
    return {
        "post_level": _level_block(point, boot, "post_level", n_posts, confidence),
        "account_level": _level_block(point, boot, "account_level", cells.n_accounts, confidence),
        "confidence": confidence,
        "method": BOOTSTRAP_METHOD,
        "bootstrap": n_boot,
    }


def _net(stat: dict[str, np.ndarray], level: str) -> np.ndarray:
    s = stat[level]
    return s[:, 0] - s[:, 1]


def _net_change(
    units: pd.DataFrame,
    pairs: Sequence[tuple[tuple[str, str], tuple[str, str]]],
    key: str,
    *,
    n_boot: int,
    seed: int,
    confidence: float,
) -> dict[str, Any]:
    """Bootstrap (over the union of accounts of all cells) sum of +-(net(later) - net(earlier)).

    ``pairs`` is a list of ((side, earlier), (side, later)); with two pairs the result is the
    first change minus the second (the focal-institution gap).
    """
    cells_list: list[tuple[str, str]] = []
    for a, b in pairs:
        for c in (a, b):
            if c not in cells_list:
                cells_list.append(c)
    cells = _Cells.build(units, cells_list)
    weights = cells.replicate_weights(n_boot, _rng(seed, key))
    point_w = cells.point_weights()
    out: dict[str, Any] = {}
    for level in ("post_level", "account_level"):
        p_total = 0.0
        b_total = np.zeros(n_boot)
        for sign, (a, b) in zip((1.0, -1.0), pairs, strict=False):
            ia, ib = cells_list.index(a), cells_list.index(b)
            p_total += sign * float(
                _net(cells.stats(point_w, ib), level)[0] - _net(cells.stats(point_w, ia), level)[0]
            )
            b_total = b_total + sign * (
                _net(cells.stats(weights, ib), level) - _net(cells.stats(weights, ia), level)
            )
        out[level] = _interval(p_total, b_total, confidence)
    out.update(
        {
            "confidence": confidence,
            "method": BOOTSTRAP_METHOD,
            "bootstrap": n_boot,
            "accounts": cells.n_accounts,
        }
    )
    return out


def reputational_change(
    units: pd.DataFrame,
    side: str,
    *,
    later: str = _C,
    earlier: str = _B,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return net support(later) - net support(earlier) for one side, with bootstrap intervals.

    Accounts active in either window are resampled together (an account active in both keeps its
    pair of stances), at post and at account level.

    Returns
    -------
    dict
        ``{"post_level": {value, low, high}, "account_level": {...}, "accounts",
        "confidence", "method", "bootstrap"}``; not measured if either window has no posts.
    """
    for w in (earlier, later):
        if _cell(units, side, w).empty:
            return not_measured(f"no posts addressed the {side} side in the {w} window")
    out = _net_change(
        units,
        [((side, earlier), (side, later))],
        f"change/{side}/{earlier}/{later}",
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )
    return out


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


# ---- supporters and prior ties -------------------------------------------------------------------


def supporters(units: pd.DataFrame, side: str = _FOCAL, window: str = _C) -> pd.Index:
    """Return the accounts whose majority stance towards ``side`` in ``window`` is supportive."""
    counts = account_stance_counts(_cell(units, side, window))
    maj = majority_stance(counts)
    return pd.Index(sorted(maj.index[maj == _SUP]), name="handle")


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
    focal = set(focal)
    start_c = windows.crisis_start
    follow = pd.Series(False, index=accs)
    later = pd.Series(False, index=accs)
    if follows is not None and not follows.empty:
        f = follows[follows[FollowCol.FOLLOWEE].isin(focal)]
        obs = pd.to_datetime(f[FollowCol.OBSERVED_AT], utc=True)
        prior = (obs.isna() | (obs < start_c)).to_numpy(dtype=bool)
        follow |= accs.isin(f[FollowCol.FOLLOWER][prior].to_numpy())
        later |= accs.isin(f[FollowCol.FOLLOWER][~prior].to_numpy())
    inter = pd.Series(False, index=accs)
    if interactions is not None and not interactions.empty:
        touch = interactions[InteractionCol.SOURCE].isin(focal) | interactions[
            InteractionCol.TARGET
        ].isin(focal)
        interactions = interactions[touch.to_numpy(dtype=bool)]
        kind = _obj(interactions[InteractionCol.KIND])
        ts = pd.to_datetime(interactions[InteractionCol.CREATED_AT], utc=True)
        src = _obj(interactions[InteractionCol.SOURCE])
        dst = _obj(interactions[InteractionCol.TARGET])
        is_follow = kind == IKind.FOLLOW.value
        to_focal = pd.Series(dst).isin(focal).to_numpy()
        f_prior = is_follow & to_focal & (ts.isna() | (ts < start_c)).to_numpy(dtype=bool)
        follow |= accs.isin(src[f_prior])
        later |= accs.isin(src[is_follow & to_focal & ~f_prior])
        base = (~is_follow) & ((ts >= windows.baseline_start) & (ts < start_c)).to_numpy(
            dtype=bool, na_value=False
        )
        from_focal = pd.Series(src).isin(focal).to_numpy()
        inter |= accs.isin(src[base & to_focal])
        inter |= accs.isin(dst[base & from_focal])
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


# ---- communities ---------------------------------------------------------------------------------


def community_mobilisation(
    membership: pd.Series,
    units: pd.DataFrame,
    supporters_idx: pd.Index,
    windows: Windows,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Return mobilisation towards the focal account per baseline community.

    Columns: community, members, active (members addressing the focal account in the crisis),
    share_active, supporters, supportive_share (supporters / active; NaN when none active),
    crisis_interactions, baseline_interactions, lift, lift_low, lift_high (NaN when the
    community never addressed the focal account in the baseline). One row per community, in
    community id order.
    """
    mem = membership.dropna()
    comm_ids = np.sort(mem.unique())
    members = mem.groupby(mem).size().reindex(comm_ids, fill_value=0)
    crisis = _cell(units, _FOCAL, _C)
    base = _cell(units, _FOCAL, _B)
    c_comm = crisis["source"].map(mem)
    b_comm = base["source"].map(mem)
    active = crisis.assign(c=c_comm).dropna(subset=["c"]).groupby("c")["source"].nunique()
    crisis_n = _weighted_counts(c_comm, crisis)
    base_n = _weighted_counts(b_comm, base)
    sup = pd.Series(supporters_idx.to_numpy(dtype=object)).map(mem).dropna().value_counts()
    df = pd.DataFrame({"community": comm_ids, "members": members.to_numpy()})
    for name, s in (
        ("active", active),
        ("supporters", sup),
        ("crisis_interactions", crisis_n),
        ("baseline_interactions", base_n),
    ):
        df[name] = s.reindex(comm_ids, fill_value=0).to_numpy().astype(np.int64)
    df["share_active"] = df["active"] / df["members"]
    df["supportive_share"] = np.where(
        df["active"] > 0, df["supporters"] / df["active"].clip(1), np.nan
    )
    dc, db = windows.days(Window.CRISIS), windows.days(Window.BASELINE)
    lifts = [
        rate_ratio(int(c), dc, int(b), db, confidence)
        for c, b in zip(df["crisis_interactions"], df["baseline_interactions"], strict=True)
    ]
    df["lift"] = [r["value"] if _measured(r) else np.nan for r in lifts]
    df["lift_low"] = [r["low"] if _measured(r) else np.nan for r in lifts]
    df["lift_high"] = [r["high"] if _measured(r) else np.nan for r in lifts]
    return df


def _weighted_counts(labels: pd.Series, units: pd.DataFrame) -> pd.Series:
    """Units per label (NaN labels left out), counting each row's weight."""
    w = _weight(units)
    if w is None:
        return labels.dropna().value_counts()
    return pd.Series(w, index=labels.index).groupby(labels.to_numpy()).sum()


def breadth(membership: pd.Series, supporters_idx: pd.Index, k: int = 3) -> dict[str, Any]:
    """Return how widely crisis supporters spread over the baseline communities.

    ``communities_with_k_supporters``: communities holding at least ``k`` supporters.
    ``normalised_entropy``: Shannon entropy of supporters over the communities holding any,
    divided by its maximum ``log(C)`` (Pielou's evenness; 0 when all are in one community).
    Supporters outside the baseline graph are counted apart (``supporters_outside``).

    Examples
    --------
    >>> m = pd.Series({"a": 0, "b": 0, "c": 1, "d": 1})
    >>> b = breadth(m, pd.Index(["a", "b", "c", "z"]), k=2)
    >>> b["communities_with_k_supporters"], round(b["normalised_entropy"], 4)
    (1, 0.9183)
    """
    if len(supporters_idx) == 0:
        return not_measured("no account was supportive of the focal account in the crisis")
    comm = pd.Series(supporters_idx.to_numpy(dtype=object)).map(membership.dropna())
    inside = comm.dropna()
    counts = inside.value_counts().sort_index()
    if counts.empty:
        return not_measured("no crisis supporter belongs to a baseline community")
    p = counts.to_numpy(dtype=float) / counts.sum()
    h = float(-(p * np.log(p)).sum())
    c = len(counts)
    return {
        "k": int(k),
        "communities_with_k_supporters": int((counts >= k).sum()),
        "communities_with_supporters": c,
        "entropy": h,
        "normalised_entropy": h / math.log(c) if c > 1 else 0.0,
        "supporters_in_communities": int(counts.sum()),
        "supporters_outside": int(comm.isna().sum()),
    }


# ---- amplifiers and proxies ----------------------------------------------------------------------


def amplifiers(
    pagerank: pd.Series,
    units: pd.DataFrame,
    *,
    exclude: Iterable[str] = (),
    roles: pd.Series | None = None,
    membership: pd.Series | None = None,
    top_n: int = 10,
) -> pd.DataFrame:
    """Return the top accounts by PageRank on the crisis repost/quote/mention graph.

    The focal and institution handles (``exclude``) are left out of the list: they are the
    subjects, not the amplifiers. Ties in PageRank are broken by handle.

    Returns
    -------
    DataFrame
        Columns rank, handle, pagerank, role, community, crisis_posts_about_focal, stance
        (majority stance towards the focal account in the crisis, or empty).
    """
    pr = pagerank.drop(labels=[h for h in exclude if h in pagerank.index])
    df = pd.DataFrame({"handle": pr.index.astype(object), "pagerank": pr.to_numpy(dtype=float)})
    df = df.sort_values(["pagerank", "handle"], ascending=[False, True], kind="mergesort")
    df = df.head(top_n).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    crisis = _cell(units, _FOCAL, _C)
    counts = account_stance_counts(crisis)
    maj = majority_stance(counts)
    df["role"] = df["handle"].map(roles) if roles is not None else Role.UNKNOWN.value
    df["role"] = df["role"].fillna(Role.UNKNOWN.value)
    comm = df["handle"].map(membership) if membership is not None else pd.Series(np.nan, df.index)
    df["community"] = pd.array(comm.to_numpy(dtype=float, na_value=np.nan), dtype="Int64")
    df["crisis_posts_about_focal"] = df["handle"].map(counts.sum(axis=1)).fillna(0).astype(np.int64)
    df["stance"] = df["handle"].map(maj).astype(object)
    return df


def focal_silence(
    posts: pd.DataFrame | None,
    focal: Iterable[str],
    windows: Windows,
    *,
    any_posts: bool | None = None,
) -> dict[str, Any]:
    """Return the focal account's longest posting gap overlapping the crisis.

    Gaps are between consecutive posts by any focal handle inside the study period
    ``[baseline_start, after_end)``, whose ends also bound the first and last gap (a gap reaching
    them is *censored*: the silence may be longer than the data show).

    Returns
    -------
    dict
        ``start, end, hours, crisis_overlap_hours, censored_start, censored_end, focal_posts``;
        not measured when the data hold no post by the focal account.

    ``posts`` may hold only the focal account's posts when ``any_posts`` says whether the data
    hold any post at all (the Dask engine passes just those).
    """
    focal = set(focal)
    if any_posts is None:
        any_posts = posts is not None and not posts.empty
    if not any_posts:
        return not_measured("the data hold no posts")
    mine = posts[posts[PostCol.AUTHOR].isin(focal)] if posts is not None else posts
    if mine is None:
        mine = pd.DataFrame(columns=[PostCol.AUTHOR, PostCol.CREATED_AT])
    if mine.empty:
        return not_measured(
            "the data hold no post by the focal account, so its silence cannot be located"
        )
    ts = pd.to_datetime(mine[PostCol.CREATED_AT], utc=True)
    ts = ts[(ts >= windows.baseline_start) & (ts < windows.after_end)]
    points = np.unique(
        np.concatenate(
            [
                np.array([windows.baseline_start.value, windows.after_end.value], dtype=np.int64),
                ts.astype("datetime64[ns, UTC]").array.asi8,
            ]
        )
    )
    starts, ends = points[:-1], points[1:]
    cs, ce = windows.crisis_start.value, windows.crisis_end.value
    overlap = (starts < ce) & (ends > cs)
    if not overlap.any():  # pragma: no cover - the points span the whole period
        return not_measured("no posting gap overlaps the crisis")
    lengths = np.where(overlap, ends - starts, -1)
    i = int(np.argmax(lengths))  # first (earliest) of the longest
    start, end = pd.Timestamp(starts[i], tz="UTC"), pd.Timestamp(ends[i], tz="UTC")
    ov = min(end.value, ce) - max(start.value, cs)
    return {
        "start": start,
        "end": end,
        "hours": (end - start).total_seconds() / 3600.0,
        "crisis_overlap_hours": ov / 3.6e12,
        "censored_start": bool(starts[i] == windows.baseline_start.value),
        "censored_end": bool(ends[i] == windows.after_end.value),
        "focal_posts": len(ts),
    }


def proxy_reach(pairs: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """Distinct accounts (not the author) that answered each account's supportive posts.

    ``pairs`` holds the answering posts' ``author`` and ``target_post_id``; ``units`` the
    supportive posts' ``post_id`` and ``source``. Returns the count per source (sources nobody
    answered are absent).

    Examples
    --------
    >>> pairs = pd.DataFrame({"author": ["b", "c", "c", "a"], "target_post_id": ["1"] * 4})
    >>> proxy_reach(pairs, pd.DataFrame({"post_id": ["1"], "source": ["a"]})).to_dict()
    {'a': 2}
    """
    if units.empty or pairs.empty:
        return pd.Series(dtype="int64", name=PostCol.AUTHOR.value)
    hits = pairs.merge(
        units[["post_id", "source"]],
        left_on=PostCol.TARGET_POST_ID,
        right_on="post_id",
        how="inner",
    )
    hits = hits[hits[PostCol.AUTHOR] != hits["source"]]
    return hits.groupby("source")[PostCol.AUTHOR].nunique()


def proxies(
    units: pd.DataFrame,
    posts: pd.DataFrame,
    silence: Mapping[str, Any],
    *,
    focal: Iterable[str] = (),
    declared: Iterable[str] = (),
    top_n: int = 10,
    references: bool | None = None,
    reach: pd.Series | None = None,
) -> dict[str, Any]:
    """Return the accounts whose supportive posts about the focal account reached most accounts
    while the focal account was silent.

    Reach of an account: the distinct other accounts that replied to, reposted or quoted (any
    post whose ``target_post_id`` is) one of its supportive posts about the focal account made
    during the silence ``[start, end)``. Ranked by reach, then supportive posts, then handle;
    accounts with no reach are not proxies.

    Returns
    -------
    dict
        ``{"top": [{rank, handle, reach, supportive_posts, declared}], "candidates",
        "supportive_posts", "declared": [{handle, reach, supportive_posts}]}``; not measured
        when the silence is unknown or no post in the data refers to another post by id.

    ``references`` (whether any post refers to another by id) and ``reach`` (per account) may be
    given instead of being computed from ``posts``: the Dask engine computes them in parallel.
    """
    if not _measured(silence):
        return not_measured(silence["reason"])
    if references is None:
        references = (
            posts is not None and not posts.empty and posts[PostCol.TARGET_POST_ID].notna().any()
        )
    if not references:
        return not_measured(
            "no post in the data refers to another post by id (target_post_id), so reach "
            "cannot be measured"
        )
    focal = set(focal)
    start, end = pd.Timestamp(silence["start"]), pd.Timestamp(silence["end"])
    u = _side_rows(units, _FOCAL)
    u = u[(u["_stance"].to_numpy() == _STANCE_CODE[_SUP]) & ~u["source"].isin(focal).to_numpy()]
    ts = pd.to_datetime(u["created_at"], utc=True)
    u = u[((ts >= start) & (ts < end)).to_numpy(dtype=bool)]
    n_posts = u.groupby("source").size()
    if reach is None:
        reach = proxy_reach(posts[[PostCol.AUTHOR, PostCol.TARGET_POST_ID]].dropna(), u)
    declared = [h for h in (normalise_handle(d) for d in declared) if h]
    table = pd.DataFrame({"supportive_posts": n_posts})
    table["reach"] = reach.reindex(table.index, fill_value=0).astype(np.int64)
    table.index.name = "handle"
    table = table.reset_index()
    ranked = table[table["reach"] > 0].sort_values(
        ["reach", "supportive_posts", "handle"], ascending=[False, False, True], kind="mergesort"
    )
    top = ranked.head(top_n).reset_index(drop=True)
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    top["declared"] = top["handle"].isin(declared)
    decl = [
        {
            "handle": h,
            "reach": int(reach.get(h, 0)),
            "supportive_posts": int(n_posts.get(h, 0)),
        }
        for h in declared
    ]
    return {
        "top": top[["rank", "handle", "reach", "supportive_posts", "declared"]].to_dict("records"),
        "candidates": len(ranked),
        "supportive_posts": len(u),
        "declared": decl,
        "method": "reach = distinct accounts replying to, reposting or quoting the supportive "
        "posts made during the silence",
    }


# ---- roles ---------------------------------------------------------------------------------------


def account_roles(
    accounts: pd.DataFrame | None,
    lexicon: Lexicon,
    handles: Iterable[str] = (),
    institution: Iterable[str] = (),
) -> pd.Series:
    """Return each account's role: the accounts table's role first, then bio keywords.

    Keywords come from the lexicon's ``[roles]`` section, checked in order (institution,
    media, journalist, professional); a bio with none of them is a citizen; an account with no
    bio (or not in the accounts table) is unknown, except the study's institution handles.

    Examples
    --------
    >>> acc = pd.DataFrame({"handle": ["a", "b", "c"], "role": [None, None, "media"],
    ...     "description": ["Crime reporter at the Echo", "dad, runner", None]})
    >>> account_roles(acc, load_lexicon()).tolist()
    ['journalist', 'citizen', 'media']
    """
    handles = set(handles)
    if accounts is not None and not accounts.empty:
        acc = accounts.drop_duplicates(AccountCol.HANDLE, keep="last").set_index(AccountCol.HANDLE)
        handles |= set(acc.index)
    else:
        acc = pd.DataFrame(columns=[AccountCol.ROLE, AccountCol.DESCRIPTION])
    idx = pd.Index(sorted(h for h in handles if isinstance(h, str)), name="handle")
    valid = {r.value for r in Role} - {Role.UNKNOWN.value}
    given = acc[AccountCol.ROLE].reindex(idx) if AccountCol.ROLE in acc else pd.Series(index=idx)
    given = given.astype(object).where(given.astype(object).isin(valid))
    bio = (
        acc[AccountCol.DESCRIPTION].reindex(idx).astype(object)
        if AccountCol.DESCRIPTION in acc
        else pd.Series(None, index=idx, dtype=object)
    )
    out = pd.Series(Role.UNKNOWN.value, index=idx, dtype=object)
    has_bio = bio.notna() & (bio.astype(str).str.strip() != "")
    out[has_bio.to_numpy(dtype=bool)] = Role.CITIZEN.value
    low = bio.fillna("").astype(str).str.lower()
    decided = pd.Series(False, index=idx)
    for role, words in lexicon.roles:
        if not words:
            continue
        pat = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
        hit = (low.str.contains(pat, regex=True) & has_bio & ~decided).to_numpy(dtype=bool)
        out[hit] = role
        decided |= hit
    out[out.index.isin(list(institution)) & (out == Role.UNKNOWN.value)] = Role.INSTITUTION.value
    have_given = given.notna().to_numpy(dtype=bool)
    out[have_given] = given[have_given]
    return out.rename("role")


def roles_attention(
    units: pd.DataFrame, roles: pd.Series, side: str, windows: Windows
) -> dict[str, Any]:
    """Return attention to ``side`` by account role, and when each role first addressed it.

    Per role (in :class:`Role` order): accounts and interactions per window, the role's share of
    crisis interactions, its first crisis post (``first_mention``, ISO time, and
    ``hours_after_crisis_start``) and the share of its crisis accounts that were supportive.
    """
    cell = _side_rows(units, side)
    if cell.empty:
        return not_measured(f"no posts addressed the {side} side")
    codes, uniq = pd.factorize(_obj(cell["source"]))
    role = roles.reindex(uniq).fillna(Role.UNKNOWN.value).to_numpy(dtype=object)[codes]
    window = cell["_window"].to_numpy()
    wt = _weight(cell)
    wt = np.ones(len(cell), dtype=np.int64) if wt is None else wt
    in_crisis = window == _WINDOW_CODE[_C]
    n_crisis = int(wt[in_crisis].sum())
    maj = majority_stance(account_stance_counts(cell[in_crisis]))
    out: dict[str, Any] = {}
    for r in Role:
        is_r = role == r.value
        if not is_r.any():
            continue
        entry: dict[str, Any] = {}
        for w in _WINDOWS:
            x = is_r & (window == _WINDOW_CODE[w])
            entry[w] = {"interactions": int(wt[x].sum()), "accounts": len(np.unique(codes[x]))}
        rcc = cell[is_r & in_crisis]
        if rcc.empty:
            entry["first_mention"] = not_measured(f"no {r.value} account in the crisis window")
            entry["crisis_share"] = 0.0 if n_crisis else not_measured("no crisis posts")
            entry["supportive_account_share"] = not_measured(
                f"no {r.value} account in the crisis window"
            )
        else:
            first = pd.to_datetime(rcc["created_at"], utc=True).min()
            entry["first_mention"] = {
                "at": first,
                "hours_after_crisis_start": (first - windows.crisis_start).total_seconds() / 3600,
            }
            entry["crisis_share"] = _count(rcc) / n_crisis
            accs = rcc["source"].unique()
            entry["supportive_account_share"] = float((maj.reindex(accs) == _SUP).mean())
        out[r.value] = entry
    return out


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
    out = {}
    for w in _WINDOWS:
        s, e = windows.bounds(Window(w))
        n = int(((ts >= s) & (ts < e)).sum())
        out[w] = {"rows": n, "covered": n > 0}
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


def baseline_communities(
    inter: pd.DataFrame, study: Any
) -> tuple[pd.Series | None, dict[str, Any]]:
    """Detect communities on the baseline graph (graph + communities modules)."""
    from . import graph

    base = graph.window_interactions(inter, study.windows, Window.BASELINE)
    return communities_from_edges(graph.aggregate_edges(base), study)


def communities_from_edges(
    edges: pd.DataFrame, study: Any
) -> tuple[pd.Series | None, dict[str, Any]]:
    """Detect communities on the aggregated baseline edges (:func:`graph.aggregate_edges`)."""
    from . import communities as comm

    info: dict[str, Any] = {
        "algorithm": study.communities.algorithm,
        "resolution": study.communities.resolution,
        "seed": study.communities.seed,
    }
    if edges.empty:
        return None, info
    part = comm.detect(
        edges,
        algorithm=study.communities.algorithm,
        resolution=study.communities.resolution,
        seed=study.communities.seed,
    )
    membership = part.membership
    info.update(
        {
            "engine": part.algorithm,
            "modularity": part.modularity,
            "nodes": len(membership),
            "edges": len(edges),
        }
    )
    return membership, info


def crisis_pagerank(inter: pd.DataFrame, study: Any) -> tuple[pd.Series | None, dict[str, Any]]:
    """PageRank on the crisis repost/quote/mention graph, with the record of how it was made."""
    from . import graph

    crisis = graph.window_interactions(inter, study.windows, Window.CRISIS)
    return pagerank_from_edges(graph.aggregate_edges(crisis, kinds=AMPLIFIER_KINDS))


def pagerank_from_edges(edges: pd.DataFrame) -> tuple[pd.Series | None, dict[str, Any]]:
    """PageRank on the aggregated crisis repost/quote/mention edges (amplifiers)."""
    from . import graph

    info = {"kinds": [k.value for k in AMPLIFIER_KINDS], "edges": len(edges)}
    if edges.empty:
        return None, info
    pr = graph.pagerank(edges)
    info["nodes"] = len(pr)
    return pr, info


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

    Returns
    -------
    Analysis
        ``metrics`` (see :func:`compute_metrics`), ``stance`` (per interaction), ``units`` (per
        post and side) and ``tables`` (``communities``, ``amplifiers``, ``proxies``, ``roles``,
        ``supporters``) for the report's CSV files.
    """
    from .stance import stance_table

    tables = object_strings(tables)
    if stance is None:
        stance = stance_table(tables, study, workers=workers)
    inputs, units = metric_inputs(tables, study, stance)
    metrics, out_tables = analyse_inputs(inputs, study, membership=membership, pagerank=pagerank)
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


def metric_inputs(
    tables: Mapping[str, pd.DataFrame], study: Any, stance: StanceResult
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
    )
    return inputs, units


def analyse_inputs(
    inputs: MetricInputs,
    study: Any,
    *,
    membership: pd.Series | None = None,
    pagerank: pd.Series | None = None,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Return every support metric (see :func:`compute_metrics`) and the tables behind them.

    ``membership`` and ``pagerank`` are detected from ``inputs.interactions`` when not given
    (and are not measured when neither is there).
    """
    sp = study.support
    windows: Windows = study.windows
    units = inputs.units
    posts = inputs.posts
    handles = {_FOCAL: tuple(study.focal), _INST: tuple(study.institution)}
    absent = {s: _side_presence(s, handles[s], units, posts) for s in _SIDES}
    coverage = inputs.coverage
    boot = {"n_boot": sp.bootstrap, "seed": sp.seed, "confidence": sp.confidence}

    def window_ok(w: str) -> str | None:
        if windows.days(Window(w)) <= 0:
            return f"the {w} window has zero length"
        if not coverage[w]["covered"]:
            s, e = windows.bounds(Window(w))
            return (
                f"the data hold nothing in the {w} window [{s.isoformat()}, {e.isoformat()}): "
                "the input does not cover it"
            )
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
    }
    m["stance"] = {
        "interactions": inputs.stance_rows,
        "units": _count(units),
        "by_rule": dict(inputs.by_rule),
        "by_stance": {side: _stance_counts(_side_rows(units, side)) for side in _SIDES},
        "agreement": inputs.agreement,
    }

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
    if focal_why:
        m["composition"] = not_measured(focal_why)
    else:
        ties = prior_ties(sup_idx, study.focal, inputs.follows, inputs.tie_interactions, windows)
        out_tables["supporters"] = ties.reset_index()
        m["composition"] = supporter_composition(ties, sp.confidence)

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
                & ~units["source"].isin(membership.index)
            ]
            m["mobilisation"] = {
                **info,
                "n_communities": len(table),
                "communities": [_community_record(r) for r in _records(shown)],
                "outside_baseline_graph": {
                    "active": int(outside["source"].nunique()),
                    "supporters": int((~sup_idx.isin(membership.index)).sum()),
                },
            }
            m["breadth"] = breadth(membership, sup_idx, sp.breadth_min_supporters)

    active = units["source"].unique()
    accounts = inputs.accounts
    if accounts is not None and not accounts.empty:  # roles are needed for active accounts only
        accounts = accounts[accounts[AccountCol.HANDLE].isin(active)]
    roles = account_roles(
        accounts,
        load_lexicon(study.stance.lexicon),
        active,
        study.institution,
    )
    if focal_why:
        m["amplifiers"] = not_measured(focal_why)
    else:
        pr_info: dict[str, Any] = {"kinds": [k.value for k in AMPLIFIER_KINDS]}
        if pagerank is None and inputs.interactions is not None:
            pagerank, pr_info = crisis_pagerank(inputs.interactions, study)
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

    m["roles"] = {
        side: (
            not_measured(absent[side])
            if absent[side]
            else roles_attention(units, roles, side, windows)
        )
        for side in _SIDES
    }
    out_tables["roles"] = roles.reset_index()
    m["headline"] = _headline(m)
    return jsonable(m), out_tables


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
    out["prior_tie_share"] = _pick(m["composition"], "prior_tie_share")
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


def headline_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return the headline as (measure, focal, institution) text rows for tables.

    Examples
    --------
    >>> rows = headline_rows({"headline": {"attention_lift": {"focal": {"value": 3.0,
    ...     "low": 2.0, "high": 4.5}, "institution": not_measured("x")}}})
    >>> rows[0]
    ('Attention lift, crisis / baseline', '3.00 [2.00, 4.50]', 'not measured')
    """
    h = metrics.get("headline", {})
    rows: list[tuple[str, str, str]] = []
    labels = [
        ("attention_lift", "Attention lift, crisis / baseline", False),
        ("net_support_crisis", "Net support in the crisis (accounts)", False),
        ("reputational_change", "Reputational change, crisis - baseline", False),
        ("persistence_attention", "Attention after / baseline", False),
    ]
    for key, label, pct in labels:
        if key in h:
            side = h[key]
            rows.append((label, _fmt(side.get(_FOCAL), pct=pct), _fmt(side.get(_INST), pct=pct)))
    if "prior_tie_share" in h:
        rows.append(("Supporters with a prior tie", _fmt(h["prior_tie_share"], pct=True), ""))
    if "breadth" in h:
        b = h["breadth"]
        text = (
            f"{b['communities_with_k_supporters']} communities with >= {b['k']} supporters, "
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
    from .textsafe import write_json

    metrics = compute_metrics(tables, study, **kwargs)
    write_json(metrics, out)
    return metrics
