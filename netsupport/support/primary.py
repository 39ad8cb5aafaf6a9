"""Declared primary measures (``[study] primary``) and the exploratory rest.

METHODS.md, "Primary and exploratory measures". The study declares, before looking, which
headline measures answer its question; those are reported first as the confirmatory result.
Every other interval in the report is exploratory and unadjusted for multiple comparisons: the
record says how many there are, so a reader can judge how many would exclude no change by chance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..measures import SIDED
from .common import _measured, not_measured

__all__ = ["ADJUSTMENT", "headline_value", "primary_measures"]

ADJUSTMENT = (
    "unadjusted for multiple comparisons (of k such 95% intervals, about 0.05 k exclude no "
    "change by chance alone)"
)


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
    total = _intervals({k: v for k, v in metrics.items() if k not in ("headline", "primary")})
    return {
        "declared": declared,
        "measures": rows,
        "exploratory_intervals": max(0, total - sum(_intervals(r["result"]) for r in rows)),
        "adjustment": ADJUSTMENT,
    }
