"""Stance shares: the post units, account majority stances, bootstrap shares and net support."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..stance import (
    STANCE_ORDER,
)
from .common import (
    _B,
    _C,
    _FOCAL,
    _INST,
    _WINDOWS,
    BOOTSTRAP_METHOD,
    _interval,
    _obj,
    _rng,
    not_measured,
)

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


def post_units(stance: pd.DataFrame, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Return one row per (post, side) from the per-interaction stance table.

    ``rows``: :func:`unit_rows` of the table (or of one with the same posts, sides and rules),
    when found already.

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
    units = stance.iloc[unit_rows(stance) if rows is None else rows]
    return _with_codes(units[UNIT_COLUMNS].reset_index(drop=True))


def unit_rows(stance: pd.DataFrame) -> np.ndarray:
    """Return the positions of the rows :func:`post_units` keeps, in table order.

    They depend on the post, the side and the rule of each row, not on its stance: a table
    re-labelled (:func:`netsupport.support.sensitivity.restance`) keeps the same rows.
    """
    rule = _obj(stance["rule"])
    rank = np.where(rule == "label", 0, np.where(rule == "repost", 1, 2))
    post_code, _ = pd.factorize(stance["post_id"], sort=False)
    side_code = (_obj(stance["target_side"]) == _INST).astype(np.int64)
    key = post_code.astype(np.int64) * 2 + side_code
    order = np.lexsort((np.arange(len(stance)), rank, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first])


def marker_only_counts(stance: pd.DataFrame) -> dict[str, int]:
    """Return how many post units (:func:`post_units`) stand only on a study marker, per side and
    window: ``{"focal/crisis": n, ...}`` (only counts above 0).

    A unit is *marker-only* when every interaction row of its post towards the side is a
    ``marker`` edge (a campaign hashtag or phrase, no reply, mention, repost or quote of the
    side's handles). Such posts cannot occur before the campaign began (METHODS.md, "Attention
    and lift": the lift without them). Counts of disjoint sets of posts add up.

    Examples
    --------
    >>> st = pd.DataFrame({"post_id": ["1", "1", "2", "3"], "target_side": ["focal"] * 4,
    ...     "window": ["crisis"] * 3 + ["baseline"], "kind": ["marker", "mention", "marker",
    ...     "reply"]})
    >>> marker_only_counts(st)
    {'focal/crisis': 1}
    """
    from ..schema import IKind

    if stance.empty:
        return {}
    post_code, _ = pd.factorize(stance["post_id"], sort=False)
    side_code = (_obj(stance["target_side"]) == _INST).astype(np.int64)
    key = (post_code.astype(np.int64) + 1) * 2 + side_code  # (a missing id: code -1 -> 0)
    other = _obj(stance["kind"]) != IKind.MARKER.value
    others = np.bincount(key, weights=other.astype(np.float64))
    keys, first = np.unique(key, return_index=True)
    only = first[others[keys] == 0]
    if not len(only):
        return {}
    cells = pd.Series(
        _obj(stance["target_side"])[only].astype(str)
        + "/"
        + pd.Series(_obj(stance["window"])[only]).fillna("none").astype(str).to_numpy()
    )
    return {str(k): int(v) for k, v in sorted(cells.value_counts().items())}


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


def compress_units(units: pd.DataFrame, freq: Any = None) -> pd.DataFrame:
    """Return units counted per account, side, window and stance (and time bin, with ``freq``).

    Every measure computed from units gives the same result on the compressed table: a row
    stands for :data:`UNIT_WEIGHT` units, and ``created_at`` is the earliest of them (the bin of
    ``freq``, e.g. ``"D"``, keeps the counts per bin of that width exact). ``freq`` may be a
    tuple of bins (pandas frequencies or :class:`~netsupport.timebins.TimeBins`): a row then
    lies in one bin of each, so the counts in bins of any of them are exact (the Dask engine
    keeps the report's chart bins, aligned to the crisis start, and the time-series model's
    calendar days: :func:`netsupport.scale.unit_bins`). Compressing compressed units again
    (their concatenation, say) adds the weights. The Dask engine (:mod:`netsupport.scale`)
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
    frame["created_at"] = ts.array  # (to_numpy() makes an object array of Timestamps)
    w = _weight(units)
    frame[UNIT_WEIGHT] = np.ones(len(units), dtype=np.int64) if w is None else w
    keys = list(_UNIT_KEY)
    bins = () if freq is None else freq if isinstance(freq, tuple) else (freq,)
    for i, f in enumerate(bins):  # pandas frequencies, or the report's TimeBins (timebins)
        starts = f.starts(ts) if hasattr(f, "starts") else ts.dt.floor(f)
        # (UTC instants as datetime64, a key only: to_numpy() of a UTC series makes an object
        # array of Timestamps, one at a time: ~1 s per 10^5 units)
        frame[f"_bin{i}"] = starts.to_numpy(dtype="datetime64[ns]")
        keys.append(f"_bin{i}")
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
    index = [(cells_list.index(a), cells_list.index(b)) for a, b in pairs]
    out: dict[str, Any] = {}
    for level in ("post_level", "account_level"):
        out[level] = _interval(*_summed_change(cells, point_w, weights, index, level), confidence)
    out.update(
        {
            "confidence": confidence,
            "method": BOOTSTRAP_METHOD,
            "bootstrap": n_boot,
            "accounts": cells.n_accounts,
        }
    )
    return out


def _summed_change(
    cells: _Cells,
    point_w: np.ndarray,
    weights: np.ndarray,
    index: Sequence[tuple[int, int]],
    level: str,
) -> tuple[float, np.ndarray]:
    """Return the point and the resamples of the sum of +-(net(later) - net(earlier)) over the
    ``(earlier, later)`` cell ``index`` pairs (+ for the first, - for the second) at ``level``."""
    p_total = 0.0
    b_total = np.zeros(len(weights))
    for sign, (ia, ib) in zip((1.0, -1.0), index, strict=False):
        p_total += sign * float(
            _net(cells.stats(point_w, ib), level)[0] - _net(cells.stats(point_w, ia), level)[0]
        )
        b_total = b_total + sign * (
            _net(cells.stats(weights, ib), level) - _net(cells.stats(weights, ia), level)
        )
    return p_total, b_total


def _change_key(side: str, earlier: str, later: str) -> str:
    """The seed key of the resamples of a side's change (:func:`reputational_change`)."""
    return f"change/{side}/{earlier}/{later}"


@dataclass(frozen=True)
class ChangeDraws:
    """The account-level change in net support of one side and the resamples behind its interval.

    ``weights`` are the bootstrap's account weights over the distinct profiles of ``cells``
    (earlier window first), ``point`` and ``draws`` the change and its value in each resample:
    the very floats of :func:`reputational_change`'s ``account_level``.
    """

    cells: _Cells
    weights: np.ndarray
    point: float
    draws: np.ndarray

    def profile_values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return per distinct profile the earlier and later value of its majority stance
        (+1 supportive, -1 critical, 0 neutral, NaN not active) and how many accounts have it."""
        value = np.array([1.0, -1.0, 0.0])  # STANCE_ORDER: supportive, critical, neutral
        out = []
        for i in (0, 1):
            c = self.cells.counts(i)
            v = value[_majority_codes(c)] if len(c) else np.zeros(0)
            out.append(np.where(c.sum(axis=1) > 0, v, np.nan))
        return out[0], out[1], self.cells.freq


def change_draws(
    units: pd.DataFrame,
    side: str,
    *,
    earlier: str = _B,
    later: str = _C,
    n_boot: int = 1000,
    seed: int = 42,
) -> ChangeDraws:
    """Return the account-level change of :func:`reputational_change` with its resamples.

    The same cells, seed key and arithmetic, so a measure that splits the change (the
    comparisons' :func:`netsupport.support.comparisons.net_change_split`) reports the
    reputation's interval, not a second bootstrap of the same estimate.
    """
    cells = _Cells.build(units, [(side, earlier), (side, later)])
    weights = cells.replicate_weights(n_boot, _rng(seed, _change_key(side, earlier, later)))
    point, draws = _summed_change(cells, cells.point_weights(), weights, [(0, 1)], "account_level")
    return ChangeDraws(cells, weights, point, draws)


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
        _change_key(side, earlier, later),
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )
    return out
