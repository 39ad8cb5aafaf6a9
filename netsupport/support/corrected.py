"""Error-corrected stance figures in metrics.json: the validation block and the headline.

The corrected shares themselves are computed with the stance (:mod:`netsupport.stance.validation`,
prediction-powered inference over the hand codes); this module places them in metrics.json,
says when the stance figures cannot be trusted, and makes the headline use the corrected net
support and reputational change when hand codes exist (METHODS.md, "Error-corrected shares").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import _SIDES, not_measured

__all__ = ["CORRECTED_METHOD", "corrected_headline", "stance_validation_metrics", "stance_warnings"]

CORRECTED_METHOD = "error-corrected with the hand codes (prediction-powered inference)"


def stance_warnings(model: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """Return the warnings the stance figures need: no hand codes, VADER alone decided most
    units, or most units carry no text of their own (then "supportive" is "reposted").

    Examples
    --------
    >>> [w["kind"] for w in stance_warnings({"status": "rules", "units": 10,
    ...     "vader_units": 6, "no_text_units": 0})]
    ['unvalidated', 'vader']
    """
    if not model:
        return []
    out = []
    status = model.get("status")
    units = int(model.get("units") or 0)
    if status != "model" and not model.get("validated"):
        out.append(
            {
                "kind": "unvalidated",
                "text": "No hand codes: the stance figures are unvalidated. Code a sample "
                "(netsupport stance --sample) and give it as the study's labels.",
            }
        )
    vader = int(model.get("vader_units") or 0)
    if status != "model" and units and vader > units / 2:
        out.append(
            {
                "kind": "vader",
                "text": f"{vader:,} of {units:,} posts ({100 * vader / units:.0f}%) were "
                "decided by VADER's general sentiment alone, not by a phrase about the account.",
            }
        )
    no_text = int(model.get("no_text_units") or 0)
    if units and no_text > units / 2:
        out.append(
            {
                "kind": "no_text",
                "text": f"{no_text:,} of {units:,} posts ({100 * no_text / units:.0f}%) carry no "
                "text of their own (reposts, bare mentions): a repost counts as supportive and "
                "nothing without text can be critical, so the 'supportive' share is mostly the "
                "share who reposted, and 'net support' is not a measure of support.",
            }
        )
    return out


def stance_validation_metrics(
    model: Mapping[str, Any] | None, validation: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return the ``stance_model``, ``stance_validation`` and ``stance_warnings`` blocks."""
    out: dict[str, Any] = {"stance_model": dict(model) if model else None}
    if model is None:  # (no caller gives none: both engines say how stance was decided)
        out["stance_validation"] = not_measured("how stance was decided was not recorded")
    elif validation is None:
        reason = model.get("reason") or "no hand codes: stance figures are unvalidated"
        out["stance_validation"] = not_measured(str(reason))
    else:
        out["stance_validation"] = dict(validation)
    out["stance_warnings"] = stance_warnings(model)
    return out


def _row(rows: Any, **match: str) -> Mapping[str, Any] | None:
    for r in rows or ():
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _naive_persistence(m: Mapping[str, Any], side: str) -> Any:
    block: Any = (m.get("persistence") or {}).get(side)
    for key in ("net_support_change", "account_level"):
        if not isinstance(block, Mapping) or block.get("status") == "not measured":
            return block
        block = block.get(key)
    return block if block is not None else not_measured("missing")


def corrected_headline(out: dict[str, Any], metrics: Mapping[str, Any]) -> None:
    """Add the net support change after - baseline (account level) to the headline, and replace
    the net support in the crisis, the reputational change and that change by their
    error-corrected values where the hand codes give them (the naive value is kept beside it as
    ``naive``)."""
    out["persistence_net_support"] = {side: _naive_persistence(metrics, side) for side in _SIDES}
    validation = metrics.get("stance_validation")
    if not isinstance(validation, Mapping) or validation.get("status") == "not measured":
        return
    for side in _SIDES:
        net = _row(validation.get("net_support"), target_side=side, window="crisis", unit="account")
        change = _row(
            validation.get("changes"), target_side=side, change="crisis - baseline", unit="account"
        )
        after = _row(
            validation.get("changes"), target_side=side, change="after - baseline", unit="account"
        )
        for key, row in (
            ("net_support_crisis", net),
            ("reputational_change", change),
            ("persistence_net_support", after),
        ):
            if row is None or row.get("corrected") is None or key not in out:
                continue
            out[key][side] = {
                "value": row["corrected"],
                "low": row["ci_low"],
                "high": row["ci_high"],
                "naive": row["naive"],
                "method": CORRECTED_METHOD,
            }
