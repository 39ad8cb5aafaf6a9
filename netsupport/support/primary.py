"""Declared primary measures (``[study] primary``) and the exploratory rest.

METHODS.md, "Primary and exploratory measures". The study declares, before looking, which
headline measures answer its question; those are reported first as the confirmatory result.
Every other interval in the report is exploratory and unadjusted for multiple comparisons: the
record says how many there are, so a reader can judge how many would exclude no change by chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..measures import SIDED
from .common import _measured, not_measured

__all__ = [
    "ADJUSTMENT",
    "NULLS",
    "bonferroni",
    "headline_value",
    "interval_kinds",
    "primary_measures",
]

ADJUSTMENT = (
    "unadjusted for multiple comparisons (of k 95% intervals that compare windows, groups or "
    "sides, about 0.05 k would leave out the no-change value by chance if none of those "
    "differences were real, fewer if some are; an interval of a level, a share or net support "
    "in one window, tests no change)"
)

#: The no-change value of each primary measure with an interval (1 for a ratio, 0 for a
#: difference); a measure not here (a share, breadth) is a level and has none.
NULLS = {
    "attention_lift": 1.0,
    "attention_level_change": 1.0,
    "persistence_attention": 1.0,
    "prior_tie_odds_ratio": 1.0,
    "reputational_change": 0.0,
}

#: Interval paths of metrics.json that are *levels* (a share or net support in one window or
#: group: no no-change value to leave out), not comparisons: a top-level block, a
#: (block, sub-block) pair, or the last key. Every other interval compares windows, groups or
#: sides (a ratio, a difference, an odds ratio, a change).
_LEVEL_BLOCKS = frozenset({"stance_shares", "block_bootstrap"})
_LEVEL_PAIRS = frozenset({("stance_validation", "shares"), ("stance_validation", "net_support")})
_LEVEL_KEYS = frozenset({"share", "prior_tie_share"})


def headline_value(metrics: Mapping[str, Any], name: str, side: str | None) -> Any:
    """Return the headline block of measure ``name`` (for ``side`` when it has sides)."""
    block = metrics.get("headline", {}).get(name)
    if block is None:
        return not_measured("not in the headline")
    if name in SIDED:
        return block.get(side or "focal", not_measured("no such side"))
    return block


def _is_interval(obj: Mapping[str, Any]) -> bool:
    """Whether a metrics mapping is one measured interval: both ends given, as ``low`` and
    ``high`` (a CI, or an account bootstrap's ends beside its lift) or as ``ci_low`` and
    ``ci_high`` (an error-corrected share, net support or change of ``stance_validation``)."""
    if not _measured(obj):
        return False
    return any(
        lo in obj and hi in obj and obj[lo] is not None and obj[hi] is not None
        for lo, hi in (("low", "high"), ("ci_low", "ci_high"))
    )


def _intervals(obj: Any) -> int:
    """Count the measured intervals in a metrics subtree (:func:`_is_interval`)."""
    if isinstance(obj, Mapping):
        here = int(_is_interval(obj))
        return here + sum(_intervals(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_intervals(v) for v in obj)
    return 0


def _is_level(path: tuple[str, ...]) -> bool:
    """Whether the interval at ``path`` (keys from the top of metrics.json, list positions left
    out) is a level, not a comparison (:data:`_LEVEL_BLOCKS`, :data:`_LEVEL_PAIRS`,
    :data:`_LEVEL_KEYS`).

    >>> _is_level(("stance_shares", "focal", "crisis", "account_level", "supportive"))
    True
    >>> _is_level(("comparisons", "prior_ties", "variants", "all_ties", "odds_ratio"))
    False
    """
    return bool(path) and (
        path[0] in _LEVEL_BLOCKS or tuple(path[:2]) in _LEVEL_PAIRS or path[-1] in _LEVEL_KEYS
    )


def interval_kinds(obj: Any, path: tuple[str, ...] = ()) -> dict[str, int]:
    """Count the measured intervals of a metrics subtree as ``{"comparison": n, "level": m}``
    (:func:`_is_interval`, :func:`_is_level`; ``path``: where ``obj`` sits in metrics.json)."""
    out = {"comparison": 0, "level": 0}
    if isinstance(obj, Mapping):
        if _is_interval(obj):
            out["level" if _is_level(path) else "comparison"] += 1
        for k, v in obj.items():
            sub = interval_kinds(v, (*path, str(k)))
            out = {x: out[x] + sub[x] for x in out}
    elif isinstance(obj, list):
        for v in obj:
            sub = interval_kinds(v, path)
            out = {x: out[x] + sub[x] for x in out}
    return out


def bonferroni(rows: list[dict[str, Any]], confidence: float = 0.95) -> dict[str, Any] | None:
    """Return each primary measure's interval adjusted for their number (Bonferroni), or None
    when fewer than two have an interval with a no-change value. Each adjusted row gives
    ``row``, its position in ``rows``.

    With k such measures each is tested at (1 - confidence) / k: its interval at level
    1 - (1 - confidence) / k, approximated as normal from the reported one (on the log scale for
    a ratio): se = (g(high) - g(low)) / (2 z), z the normal quantile of the reported level, and
    g(value) +- z_k se (METHODS.md, "Primary and exploratory measures").

    >>> r = [{"name": "a", "measure": "reputational_change", "result": {"value": 0.1,
    ...     "low": -0.1, "high": 0.3}}, {"name": "b", "measure": "attention_lift",
    ...     "result": {"value": 4.0, "low": 2.0, "high": 8.0}}]
    >>> b = bonferroni(r)
    >>> b["k"], round(b["confidence"], 4), [round(x["low"], 3) for x in b["measures"]]
    (2, 0.975, [-0.129, 1.811])
    """
    from scipy.stats import norm

    z = float(norm.ppf(1 - (1 - confidence) / 2))
    tested = []
    for i, r in enumerate(rows):
        res, null = r.get("result"), NULLS.get(r.get("measure", ""))
        if null is None or not _is_interval(res) or res.get("value") is None:
            continue
        if null == 1.0 and min(res["low"], res["value"]) <= 0:
            continue
        tested.append((i, r, res, null))
    k = len(tested)
    if k < 2:
        return None
    level = 1 - (1 - confidence) / k
    zk = float(norm.ppf(1 - (1 - confidence) / (2 * k)))
    out = []
    for i, r, res, null in tested:
        g, back = (math.log, math.exp) if null == 1.0 else (float, float)
        se = (g(res["high"]) - g(res["low"])) / (2 * z)
        lo, hi = back(g(res["value"]) - zk * se), back(g(res["value"]) + zk * se)
        out.append(
            {
                "name": r["name"],
                "side": r.get("side"),
                "row": i,
                "low": lo,
                "high": hi,
                "excludes_null": bool(lo > null or hi < null),
                "unadjusted_excludes_null": bool(res["low"] > null or res["high"] < null),
            }
        )
    return {
        "k": k,
        "confidence": level,
        "method": "Bonferroni; each interval normal from the reported one (log scale for ratios)",
        "measures": out,
    }


def primary_measures(metrics: Mapping[str, Any], declared: Iterable[str]) -> dict[str, Any]:
    """Return the declared primary measures with their values, and the exploratory count.

    Returns
    -------
    dict
        ``{declared: [name], measures: [{name, measure, side, result}], exploratory_intervals:
        int, adjustment: str}``; ``declared`` is empty when the study declares none (then
        every interval is exploratory).

    Examples
    --------
    >>> m = {"headline": {"attention_lift": {"focal": {"value": 2.0, "low": 1.5, "high": 3.0},
    ...     "institution": {"value": 1.0, "low": 0.5, "high": 2.0}}},
    ...     "attention": {"focal": {"lift": {"value": 2.0, "low": 1.5, "high": 3.0}},
    ...                   "institution": {"lift": {"value": 1.0, "low": 0.5, "high": 2.0}}}}
    >>> p = primary_measures(m, ["attention_lift.focal"])
    >>> p["measures"][0]["result"]["value"], p["exploratory_intervals"]
    (2.0, 1)
    """
    declared = list(declared)
    rows = []
    for name in declared:
        base, _, side = name.partition(".")
        sides = [side] if side else (["focal", "institution"] if base in SIDED else [None])
        for s in sides:
            rows.append(
                {
                    "name": name,
                    "measure": base,
                    "side": s,
                    "result": headline_value(metrics, base, s),
                }
            )
    rest = {k: v for k, v in metrics.items() if k not in ("headline", "primary")}
    total = _intervals(rest)
    kinds = interval_kinds(rest)
    for r in rows:  # the primary ones, counted where they also sit outside the headline
        n = _intervals(r["result"])
        kind = "comparison" if r["measure"] in NULLS else "level"
        kinds[kind] = max(0, kinds[kind] - n)
    conf = float((metrics.get("parameters") or {}).get("confidence") or 0.95)
    out = {
        "declared": declared,
        "measures": rows,
        "exploratory_intervals": max(0, total - sum(_intervals(r["result"]) for r in rows)),
        "exploratory_comparisons": kinds["comparison"],
        "exploratory_levels": kinds["level"],
        "adjustment": ADJUSTMENT,
    }
    adjusted = bonferroni(rows, conf)
    if adjusted is not None:
        out["bonferroni"] = adjusted
    return out
