"""The report's evidence sections (issue 15): coverage, the tests of the claims, the time-series
model, primary measures, provenance and the automatic limitations.

:func:`evidence_context` gives the templates ``_evidence_*.j2`` their values (plain strings,
escaped by the templates); :func:`evidence_charts` draws the coverage and time-series charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import evidence_charts as ech
from .charts import figure_png_svg
from .report_format import (
    Chart,
    Sentence,
    _ci,
    _get,
    _is_nm,
    _reason,
    corrected_tie_share,
    fmt_count,
    fmt_counted,
    fmt_day,
    fmt_pct,
    fmt_points,
    fmt_ratio,
    fmt_time,
    handles,
    is_one,
)
from .report_stance import corrected_findings

__all__ = [
    "EVIDENCE_CHART_KEYS",
    "evidence_charts",
    "evidence_context",
    "evidence_figures",
    "follows_date_note",
    "limitations",
    "tie_contrast",
    "used_windows",
]

#: Charts this module adds to the report, in order.
EVIDENCE_CHART_KEYS = ("coverage", "attention_model")

_MEASURE_LABELS = {
    "attention_lift": "Attention lift, crisis / baseline",
    "attention_level_change": "Attention level change at the crisis start (time-series model)",
    "net_support_crisis": "Net support in the crisis (accounts)",
    "reputational_change": "Reputational change, crisis − baseline",
    "persistence_attention": "Attention after / baseline",
    "prior_tie_share": "Supporters with a prior tie",
    "prior_tie_odds_ratio": "Odds ratio of a prior tie, supporters vs others (adjusted)",
    "breadth": "Communities with enough supporters",
    "top_proxy": "Top proxy during the silence",
}
_RATIOS = {"attention_lift", "attention_level_change", "persistence_attention"}
_POINTS = {"net_support_crisis", "reputational_change"}


def _show(block: Any, fmt: Any) -> str:
    if _is_nm(block):
        return "not measured" + (f" ({_reason(block)})" if isinstance(block, Mapping) else "")
    ci = _ci(block, fmt)
    return f"{fmt(block.get('value'))} ({ci})" if ci else fmt(block.get("value"))


def _odds(x: Any) -> str:
    return fmt_ratio(x).replace("×", "")


def _measure_text(name: str, block: Any) -> str:
    if _is_nm(block):
        return _show(block, fmt_pct)
    if name in _RATIOS:
        return _show(block, fmt_ratio)
    if name in _POINTS:
        return _show(block, fmt_points)
    if name == "prior_tie_share":
        return _show(block, fmt_pct)
    if name == "prior_tie_odds_ratio":
        return _show(block, _odds)
    if name == "breadth":
        return (
            f"{block['communities_with_k_supporters']} with ≥ {block['k']} "
            f"(evenness {block['normalised_entropy']:.2f})"
        )
    if name == "top_proxy":
        return f"@{block['handle']} (reached {fmt_count(block['reach'])})"
    return str(block)


# ---- coverage ------------------------------------------------------------------------------------


def _coverage(m: Mapping[str, Any]) -> dict[str, Any]:
    rec = m.get("coverage_check")
    if not isinstance(rec, Mapping):
        return {"warnings": [], "notes": [], "rows": [], "cut": []}
    rows = []
    for i in rec.get("inputs") or []:
        fr = i.get("windows")
        only = (
            f"{fmt_count(i['posts_only_here'])} of {fmt_count(i['posts'])}"
            if i.get("posts") and i.get("posts_only_here") is not None
            else ""
        )
        rows.append(
            [
                i["file"],
                i.get("format") or "",
                fmt_time(i["first"]) if i.get("first") else "no times",
                fmt_time(i["last"]) if i.get("last") else "",
                *(
                    [fmt_pct(fr[w]) for w in ("baseline", "crisis", "after")]
                    if fr
                    else ["", "", ""]
                ),
                only,
            ]
        )
    cut = [[c["key"], fmt_time(c["declared"]), fmt_time(c["used"])] for c in rec.get("cut") or []]
    return {
        "warnings": list(rec.get("warnings") or []),
        "notes": list(rec.get("notes") or []),
        "rows": rows,
        "head": [
            "Input",
            "Format",
            "First row",
            "Last row",
            "Baseline",
            "Crisis",
            "After",
            "Posts only in it",
        ],
        "cut": cut,
        "policy": rec.get("policy", "cut"),
        "data": rec.get("data"),
    }


# ---- when the follower lists were collected ------------------------------------------------------


def _collected_on(collected: str) -> str:
    return fmt_day(collected) if len(collected) == 10 else fmt_time(collected)


def follows_date_note(m: Mapping[str, Any], short: bool = False) -> str:
    """Return what the follower lists' collection date (``follow_lists`` in metrics.json) means
    for the prior ties, or "" when no follow of the focal account lacks a date (then the date
    changes nothing). ``short``: the clause the prior-tie finding adds.

    Examples
    --------
    >>> m = {"follow_lists": {"collected": None, "relative_to_crisis": None, "undated_follows": 3}}
    >>> follows_date_note(m, short=True)[:62]
    " The follower lists' collection date is not given: if they wer"
    >>> m["follow_lists"].update(collected="2014-02-01", relative_to_crisis="before")
    >>> follows_date_note(m)
    'The follower lists were collected on 1 Feb 2014, before the crisis: their follows predate it.'
    >>> m["follow_lists"]["undated_follows"] = 0
    >>> follows_date_note(m)
    ''
    """
    fl = m.get("follow_lists")
    if not isinstance(fl, Mapping) or not fl.get("undated_follows"):
        return ""
    where, collected = fl.get("relative_to_crisis"), fl.get("collected")
    if collected is None or where is None:
        if short:
            return (
                " The follower lists' collection date is not given: if they were taken after "
                "the crisis began, these follows may include ties made during or after it."
            )
        return (
            "The follower lists' collection date is not given ([provenance] follows_collected): "
            "if they were collected after the crisis began, a follow without a date may be a tie "
            "made during or after it, and the figures that count such follows as prior may "
            "overstate prior ties (the dated-ties figures do not rest on them)."
        )
    on = _collected_on(collected)
    if where == "before":
        text = f"The follower lists were collected on {on}, before the crisis: "
        text += "their follows predate it."
        return " " + text if short else text
    made = "in the crisis" if where == "during" else "during or after the crisis"
    if short:
        return (
            f" The follower lists were collected on {on}, {where} the crisis: these follows "
            f"may include ties made {made}."
        )
    return (
        f"The follower lists were collected on {on}, {where} the crisis: a follow without a date "
        f"may be a tie made {made}, and the figures that count such follows as prior may "
        "overstate prior ties (the dated-ties figures do not rest on them)."
    )


# ---- comparisons ---------------------------------------------------------------------------------


def _ties(m: Mapping[str, Any], conf: str) -> dict[str, Any]:
    pt = _get(m, "comparisons", "prior_ties")
    if _is_nm(pt):
        return {"measured": False, "reason": _reason(pt)}
    variants = []
    for key, label in (
        ("all_ties", "Follows without a date counted as prior"),
        ("dated_ties", "Only dated follows and baseline interactions"),
    ):
        v = pt["variants"][key]
        rows = []
        for s, name in (
            ("supportive", "Supporters"),
            ("critical", "Critics"),
            ("neutral", "Neutral"),
        ):
            g = v["groups"][s]
            rows.append(
                [
                    name,
                    fmt_count(g["accounts"]),
                    fmt_count(g["prior_tie"]),
                    _show(g["share"], fmt_pct),
                ]
            )
        variants.append(
            {
                "label": label,
                "rows": rows,
                "odds": _show(v["odds_ratio"], _odds),
                "odds_raw": _show(v["odds_ratio_unadjusted"], _odds),
            }
        )
    return {
        "measured": True,
        "accounts": fmt_count(pt["accounts"]),
        "undated": fmt_count(pt["undated_follow_only"]),
        "follows_note": follows_date_note(m),
        "variants": variants,
        "head": ["Accounts in the crisis", "Accounts", "With a prior tie", f"Share ({conf} CI)"],
    }


def _split(m: Mapping[str, Any], labels: Mapping[str, str]) -> list[list[str]]:
    rows = []
    for side, who in labels.items():
        s = _get(m, "comparisons", "net_support_change", side)
        if _is_nm(s):
            rows.append([who, _show(s, fmt_points), "", ""])
            continue
        rep = _get(m, "reputation", side, "account_level")  # the same change, as headlined
        rows.append(
            [
                who,
                _show(rep if not _is_nm(rep) and rep is not None else s["change"], fmt_points),
                f"{_show(s['within'], fmt_points)}: "
                f"{fmt_counted(s['stayers']['accounts'], 'account', 'accounts')} "
                f"in both windows, net {fmt_points(s['stayers']['net_earlier'])} → "
                f"{fmt_points(s['stayers']['net_later'])}",
                f"{_show(s['turnover'], fmt_points)}: {fmt_count(s['joiners']['accounts'])} "
                f"joined (net {fmt_points(s['joiners']['net'])}), "
                f"{fmt_count(s['leavers']['accounts'])} left (net "
                f"{fmt_points(s['leavers']['net'])})",
            ]
        )
    return rows


def _model(m: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    from .support.timeseries import QUASI_POISSON_METHOD

    rows, method, scaled = [], "", []
    for side, who in labels.items():
        t = _get(m, "attention_model", side)
        if _is_nm(t):
            rows.append([who, _show(t, fmt_ratio), "", "", "", ""])
            continue
        base = t["method"].removesuffix(QUASI_POISSON_METHOD)  # said per side, below
        method = base[:1].upper() + base[1:]
        if t.get("scale") == "pearson":
            scaled.append(
                f"For {who} the dispersion's maximum-likelihood estimate is 0 (a Poisson fit) "
                f"while the Pearson dispersion is {t['dispersion']:.2f}: its model-based "
                f"standard errors are scaled by √{t['dispersion']:.2f} (quasi-Poisson)"
            )
        hl = t["half_life_days"]
        rows.append(
            [
                who,
                _show(t["level_change"], fmt_ratio),
                _show(t["crisis_trend"], fmt_ratio),
                f"{hl:.1f} days" if isinstance(hl, (int, float)) else "no decay",
                _show(t["after_level"], fmt_ratio) if "after_level" in t else "not fitted",
                f"{t['bins']} {'day' if t['freq'] == 'D' else 'hour'}"
                f"{'' if t['bins'] == 1 else 's'}, HAC lag {t['hac_lags']}",
            ]
        )
    return {
        "rows": rows,
        "head": [
            "Side",
            "Level change at the crisis start",
            "Daily multiplier in the crisis",
            "Half-life",
            "Level after / baseline trend",
            "Bins",
        ],
        "method": ". ".join([method, *scaled]),
    }


def _blocks(m: Mapping[str, Any], labels: Mapping[str, str]) -> list[list[str]]:
    rows = []
    for side, who in labels.items():
        acc = _get(m, "stance_shares", side, "crisis", "post_level", "net_support")
        blk = _get(m, "block_bootstrap", side, "crisis")
        rows.append(
            [
                who,
                _show(acc, fmt_points),
                _show(blk if _is_nm(blk) else blk["net_support"], fmt_points)
                + ("" if _is_nm(blk) else f" ({_blocks_note(int(blk['blocks']))})"),
            ]
        )
    return rows


#: Fewer day (or hour) blocks than this give a percentile interval too narrow by construction.
FEW_BLOCKS = 20


def _blocks_note(n: int) -> str:
    """What a block-bootstrap interval of ``n`` blocks is: with few blocks its percentile
    interval is discrete and short (METHODS.md, "Intervals that respect cascades").

    Examples
    --------
    >>> _blocks_note(6)
    '6 blocks: this interval is too narrow by construction; it is a check, not an estimate'
    >>> _blocks_note(1)
    '1 block: this interval is too narrow by construction; it is a check, not an estimate'
    >>> _blocks_note(48)
    '48 blocks: a check, not an estimate'
    """
    what = fmt_counted(n, "block", "blocks")
    if n < FEW_BLOCKS:
        return (
            f"{what}: this interval is too narrow by construction; it is a check, not an estimate"
        )
    return f"{what}: a check, not an estimate"


def _primary(
    m: Mapping[str, Any], labels: Mapping[str, str], prereg: str | None = None
) -> dict[str, Any]:
    p = m.get("primary")
    if not isinstance(p, Mapping):
        return {
            "declared": False,
            "rows": [],
            "head": [],
            "exploratory": "",
            "exploratory_text": "",
            "adjustment": "",
            "declared_where": "",
        }
    adj = p.get("bonferroni") if isinstance(p.get("bonferroni"), Mapping) else None
    by_row = {int(x["row"]): x for x in (adj or {}).get("measures", ())}
    rows = []
    for i, r in enumerate(p.get("measures", [])):
        label = _MEASURE_LABELS.get(r["measure"], r["measure"])
        side = r.get("side")
        who = labels.get(side, "") if side else ""
        row = [label + (f" — {who}" if who else ""), _measure_text(r["measure"], r["result"])]
        if adj is not None:
            b = by_row.get(i)
            fmt = _odds if r["measure"] == "prior_tie_odds_ratio" else _fmt_of(r["measure"])
            row.append(_ci(b, fmt) if b is not None else "")
        rows.append(row)
    return {
        "declared": bool(p.get("declared")),
        "rows": rows,
        "head": ["Measure", "Value"]
        + ([f"Bonferroni, {_pct_level(adj['confidence'])} interval"] if adj else []),
        "statements": primary_statements(m, labels) + _bonferroni_statement(m, adj),
        "exploratory": fmt_count(p.get("exploratory_intervals", 0)),
        "exploratory_text": _exploratory_text(m, p),
        "adjustment": p.get("adjustment", ""),
        "declared_where": "declared as primary in the study file"
        + (f"; preregistration: {prereg}" if prereg else ", which names no preregistration"),
    }


def _fmt_of(name: str) -> Any:
    return fmt_ratio if name in _RATIOS else fmt_points if name in _POINTS else fmt_pct


def _pct_level(x: float) -> str:
    """ "98.75%" for 0.9875, "97.5%" for 0.975, "95%" for 0.95."""
    return f"{100 * float(x):.2f}".rstrip("0").rstrip(".") + "%"


def _bonferroni_statement(m: Mapping[str, Any], adj: Mapping[str, Any] | None) -> list[str]:
    """The sentence under the primary table on the Bonferroni column ([] without one)."""
    if not adj:
        return []
    conf = float(_get(m, "parameters", "confidence") or 0.95)
    k = int(adj["k"])
    rows = adj.get("measures") or []
    n = sum(1 for x in rows if x.get("excludes_null"))
    n0 = sum(1 for x in rows if x.get("unadjusted_excludes_null"))
    each = _pct_level((1 - conf) / k)
    same = "the same" if n == n0 else f"{n0} unadjusted, against"
    return [
        f"The intervals above are unadjusted for the {k} primary measures; the last column "
        f"adjusts them (Bonferroni: each tested at {_pct_level(1 - conf)} / {k} = {each}, "
        f"{_pct_level(adj['confidence'])} intervals, approximated as normal from the "
        f"{_pct_level(conf)} ones, on the log scale for ratios): {same} {n} of {k} do not "
        "include the no-change value."
    ]


def _exploratory_text(m: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    """What the exploratory intervals are: how many compare (and how many of those would leave
    out the no-change value by chance if no difference were real) and how many are levels."""
    comp, lev = p.get("exploratory_comparisons"), p.get("exploratory_levels")
    if comp is None or lev is None:  # (a metrics.json from before they were counted)
        return ""
    conf = float(_get(m, "parameters", "confidence") or 0.95)
    expected = (1 - conf) * int(comp)
    about = f"about {expected:.0f}" if expected >= 0.5 else "fewer than one"
    return (
        f"{fmt_counted(int(comp), 'interval compares', 'intervals compare')} windows, groups or "
        f"sides (if none of those differences were real, {about} of them would leave out the "
        "no-change value by chance; fewer if some are real), and "
        f"{fmt_counted(int(lev), 'interval is of a level', 'intervals are of levels')} (a share "
        "or net support in one window or group): "
        + ("it tests" if is_one(lev) else "they test")
        + " no change"
    )


#: What each primary measure is about, for its plain statement: (subject, what "no change" is).
_SUBJECTS = {
    "attention_lift": ("attention to {who} in the crisis, against its level before", "1×"),
    "persistence_attention": (
        "attention to {who} after the crisis, against its level before",
        "1×",
    ),
    "net_support_crisis": ("net support for {who} in the crisis", "0"),
    "prior_tie_share": ("the share of {who}'s supporters with a prior tie", ""),
}


def _excludes(block: Mapping[str, Any], null: float) -> bool | None:
    """Whether ``block``'s interval lies wholly on one side of ``null`` (None: no interval)."""
    lo, hi = block.get("low"), block.get("high")
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return None
    return lo > null or hi < null


def _statement(name: str, block: Any, who: str, conf: str) -> str:
    """One primary measure in words: the estimate, its interval, whether it includes the
    no-change value."""
    if not isinstance(block, Mapping) or _is_nm(block) or block.get("value") is None:
        return ""
    v = block["value"]
    if name == "reputational_change":
        est = f"{fmt_points(v)} points, {conf} CI {_ci(block, fmt_points)}"
        if _excludes(block, 0.0) is False:
            return f"{who}'s net support did not change detectably: {est}."
        if _excludes(block, 0.0) is None:
            return f"{who}'s net support changed by {fmt_points(v)} points (no interval)."
        return (
            f"{who}'s net support changed by {fmt_points(v)} points ({conf} CI "
            f"{_ci(block, fmt_points)}): the interval does not include 0 (no change)."
        )
    if name == "attention_level_change":
        ci = _ci(block, fmt_ratio)
        ex = _excludes(block, 1.0)
        if ex is False:
            return (
                f"Attention to {who} at the crisis start did not change detectably: "
                f"{fmt_ratio(v)} the baseline trend, {conf} CI {ci}."
            )
        return (
            f"Attention to {who} at the crisis start {'rose' if v >= 1 else 'fell'} to "
            f"{fmt_ratio(v)} the baseline trend"
            + (
                f" ({conf} CI {ci}): the interval does not include 1× (no change)."
                if ex
                else " (no interval)."
            )
        )
    if name == "prior_tie_odds_ratio":
        est = f"{_odds(v)}, {conf} CI {_ci(block, _odds)}"
        ex = _excludes(block, 1.0)
        if ex is False:
            return (
                "Supporters' odds of a prior tie did not differ detectably from the other "
                f"accounts' (odds ratio {est})."
            )
        return (
            f"Supporters had {_odds(v)} times the other accounts' odds of a prior tie "
            f"({conf} CI {_ci(block, _odds)})"
            + (": the interval does not include 1 (no difference)." if ex else ".")
        )
    if name in _SUBJECTS:
        subject, null = _SUBJECTS[name]
        subject = subject.format(who=who)
        fmt = fmt_ratio if name in _RATIOS else fmt_points if name in _POINTS else fmt_pct
        text = f"{subject[:1].upper()}{subject[1:]}: {fmt(v)}" + (
            " points" if name in _POINTS else ""
        )
        ci = _ci(block, fmt)
        text += f" ({conf} CI {ci})" if ci else " (no interval)"
        if null and ci:
            ex = _excludes(block, 1.0 if null == "1×" else 0.0)
            text += (
                f": the interval does not include {null} (no change)"
                if ex
                else f": not distinguishable from {null}"
            )
        return text + "."
    return ""  # (breadth, the top proxy: no interval; the table gives them)


#: Primary measures that count supporters by the stance decisions as made (no error correction).
_BY_SUPPORTERS = frozenset({"prior_tie_odds_ratio", "prior_tie_share"})
_SUPPORTERS_AS_DECIDED = (
    "Supporters here are the accounts whose stance decisions (hand codes where coded, the "
    "model or the rules elsewhere) are mostly supportive: the interval leaves out the "
    "decisions' error."
)


def corrected_ties(m: Mapping[str, Any], name: str, conf: str) -> str:
    """Return the error-corrected prior-tie figure (``name``: ``prior_tie_odds_ratio`` or
    ``prior_tie_share``) in one sentence, "" when metrics.json has none (no hand codes, the Dask
    engine; METHODS.md, "Supporter composition").

    Examples
    --------
    >>> ec = {"value": 2.3, "low": 0.8, "high": 7.7, "coded_accounts": 23,
    ...     "coded_accounts_disagree": 2, "leave_one_out": {"smallest": 3.3, "largest": 3.3},
    ...     "prior_tie_share": {"value": 0.62, "low": 0.5, "high": 0.72}}
    >>> m = {"comparisons": {"prior_ties": {"variants": {"all_ties": {"error_corrected": ec}}}}}
    >>> print(corrected_ties(m, "prior_tie_odds_ratio", "95%"))  # doctest: +NORMALIZE_WHITESPACE
    With the stance decisions' error carried in (error-corrected with the hand codes, not
    adjusted for baseline activity): 2.3 (95% CI 0.80–7.7), an interval that includes 1 (no
    difference); the correction rests on the 2 of the 23 wholly coded accounts whose codes and
    decisions disagree (leaving one of them out: 3.3).
    """
    ec = _get(m, "comparisons", "prior_ties", "variants", "all_ties", "error_corrected")
    if not isinstance(ec, Mapping) or _is_nm(ec) or ec.get("value") is None:
        return ""
    head = "With the stance decisions' error carried in (error-corrected with the hand codes" + (
        ", not adjusted for baseline activity): " if name == "prior_tie_odds_ratio" else "): "
    )
    if name == "prior_tie_share":
        sh = corrected_tie_share(m)
        return (
            "" if sh is None else head + f"{fmt_pct(sh['value'])} ({conf} CI {_ci(sh, fmt_pct)})."
        )
    text = head + f"{_odds(ec['value'])} ({conf} CI {_ci(ec, _odds)})"
    ex = _excludes(ec, 1.0)
    if ex is not None:
        text += (
            ", an interval that does not include 1 (no difference)"
            if ex
            else ", an interval that includes 1 (no difference)"
        )
    loo = ec.get("leave_one_out")
    dis, coded = ec.get("coded_accounts_disagree"), ec.get("coded_accounts")
    if isinstance(dis, int) and isinstance(coded, int):
        text += (
            f"; the correction rests on the {fmt_count(dis)} of the {fmt_count(coded)} wholly "
            "coded accounts whose codes and decisions disagree"
        )
        if isinstance(loo, Mapping):
            lo, hi = _odds(loo["smallest"]), _odds(loo["largest"])
            one = "leaving one of them out: " + (lo if lo == hi else f"{lo} to {hi}")
            text += f" ({one})"
    return text + "."


#: The time-series interval's measured coverage (METHODS.md, "Attention as a time series").
_TS_COVERAGE = (
    "Its interval is the time-series model's: on planted overdispersed series its 95% "
    "intervals covered the level change in 88.5–94.6% of cases, and fewer with strongly "
    'autocorrelated days (METHODS.md, "Attention as a time series").'
)


def _level_against_lift(m: Mapping[str, Any], side: str, who: str) -> str:
    """Say what the model's level change at the crisis start is, beside the window-average lift
    of the findings (METHODS.md, "Attention as a time series")."""
    t = _get(m, "attention_model", side)
    lift = _get(m, "attention", side, "lift")
    if _is_nm(t) or not isinstance(t, Mapping) or _is_nm(t.get("level_change")):
        return ""
    trend = t.get("crisis_trend")
    text = (
        f"The {fmt_ratio(t['level_change']['value'])} is the time-series model's rate at the "
        f"moment the crisis began, relative to the baseline trend carried on"
    )
    if isinstance(trend, Mapping) and not _is_nm(trend) and trend.get("value") is not None:
        hl = t.get("half_life_days")
        text += f"; in the crisis it was multiplied by {fmt_ratio(trend['value'])} a day" + (
            f" (half-life {hl:.1f} days)"
            if isinstance(hl, (int, float)) and trend["value"] < 1
            else ""
        )
    if isinstance(lift, Mapping) and not _is_nm(lift) and lift.get("value") is not None:
        text += (
            f". The {fmt_ratio(lift['value'])} of the findings above is the average over the "
            f"whole crisis window: posts a day addressing {who} in the crisis against the days "
            "before"
        )
    return text + "."


def primary_statements(m: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    """Return each declared primary measure in plain words (METHODS.md, "Primary and exploratory
    measures"): the estimate, its interval and whether the interval includes the no-change
    value; for the
    attention level change, what it is beside the window-average lift; and, when the
    error-corrected account-level intervals are too narrow (accounts of several posts), a
    pointer to that caveat.

    Examples
    --------
    >>> m = {"primary": {"measures": [{"measure": "reputational_change", "side": "focal",
    ...     "result": {"value": 0.11, "low": -0.19, "high": 0.41, "naive": 0.19}}]}}
    >>> primary_statements(m, {"focal": "@lane"})
    ["@lane's net support did not change detectably: +11 points, 95% CI −19 to +41."]
    """
    from .report_stance import several_posts

    p = m.get("primary")
    if not isinstance(p, Mapping):
        return []
    conf = f"{float(_get(m, 'parameters', 'confidence') or 0.95):.0%}"
    out, corrected = [], False
    for r in p.get("measures", []):
        side = r.get("side")
        who = labels.get(side or "focal", "")
        text = _statement(r["measure"], r["result"], who, conf)
        if r["measure"] == "attention_level_change" and text:
            text += " " + _level_against_lift(m, side or "focal", who) + " " + _TS_COVERAGE
        if r["measure"] in _BY_SUPPORTERS and text:
            text += " " + _SUPPORTERS_AS_DECIDED
            corr = corrected_ties(m, r["measure"], conf)
            text += " " + corr if corr else ""
        if text:
            out.append(text.strip())
        res = r["result"]
        corrected |= isinstance(res, Mapping) and not _is_nm(res) and "naive" in res
    grid = grid_coverage(m, labels)
    if grid:
        out.append(grid)
    where = several_posts(m) if corrected else ""
    if where:
        out.append(
            "The error-corrected intervals here are too narrow: some accounts posted more than "
            f"once {where} (the error-corrected finding above says by how much)."
        )
    return out


def grid_coverage(m: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """Return which declared primary measures the sensitivity grid re-runs (review t7 X1): as
    declared, only uncorrected (the primary is the error-corrected figure; the grid re-runs the
    decisions as made), or not at all; "" without a grid or a primary.

    Examples
    --------
    >>> m = {"sensitivity": {"specs": []}, "primary": {"measures": [
    ...     {"measure": "reputational_change", "side": "focal", "result": {"naive": 0.2}},
    ...     {"measure": "breadth", "result": {"value": 10}}]}}
    >>> print(grid_coverage(m, {"focal": "@lane"}))  # doctest: +NORMALIZE_WHITESPACE
    Of these, the sensitivity grid re-runs none as declared: reputational change (@lane) only
    uncorrected, without the error correction; communities with enough supporters not at all.
    >>> m["primary"]["measures"].append({"measure": "prior_tie_odds_ratio", "result": {"value": 5}})
    >>> print(grid_coverage(m, {"focal": "@lane"}))  # doctest: +NORMALIZE_WHITESPACE
    Of these, the sensitivity grid re-runs odds ratio of a prior tie as declared; reputational
    change (@lane) only uncorrected, without the error correction; communities with enough
    supporters not at all.
    """
    from .support.sensitivity import MEASURES

    sens, p = m.get("sensitivity"), m.get("primary")
    if not isinstance(sens, Mapping) or _is_nm(sens) or not isinstance(p, Mapping):
        return ""
    in_grid = {k for k, _, _ in MEASURES}
    groups: dict[str, dict[str, list[str]]] = {"declared": {}, "uncorrected": {}, "none": {}}
    for r in p.get("measures", []):
        name, res = r["measure"], r.get("result")
        corrected = isinstance(res, Mapping) and "naive" in res
        how = "none" if name not in in_grid else "uncorrected" if corrected else "declared"
        label = _MEASURE_LABELS.get(name, name).split(",")[0].split(" (")[0]
        label = label[0].lower() + label[1:]
        who = labels.get(r["side"], "") if r.get("side") else ""
        groups[how].setdefault(label, [])
        if who:
            groups[how][label].append(who)

    def named(g: dict[str, list[str]]) -> str:
        return ", ".join(k + (f" ({' and '.join(v)})" if v else "") for k, v in g.items())

    if not any(groups.values()):
        return ""
    parts = []
    if groups["uncorrected"]:
        parts.append(
            named(groups["uncorrected"]) + " only uncorrected, without the error correction"
        )
    if groups["none"]:
        parts.append(named(groups["none"]) + " not at all")
    head = (
        f"the sensitivity grid re-runs {named(groups['declared'])} as declared"
        if groups["declared"]
        else "the sensitivity grid re-runs none as declared"
    )
    sep = ": " if not groups["declared"] else "; "
    return "Of these, " + head + (sep + "; ".join(parts) if parts else "") + "."


def tie_contrast(metrics: Mapping[str, Any], focal: str, conf: str) -> list[Sentence]:
    """Return the finding that tests "reputation paid off": the prior-tie shares of critics and
    neutral accounts beside the supporters', and the adjusted odds ratio (none when the
    comparison is not in the metrics)."""
    pt = _get(metrics, "comparisons", "prior_ties")
    if pt is None or _is_nm(pt):
        return []
    v, d = pt["variants"]["all_ties"], pt["variants"]["dated_ties"]
    g = v["groups"]

    def share(s: str) -> str:
        sh = g[s]["share"]
        return "n/a" if _is_nm(sh) else fmt_pct(sh["value"])

    values = {
        "crit": share("critical"),
        "nc": fmt_counted(g["critical"]["accounts"], "critic", "critics"),
        "neu": share("neutral"),
        "nn": fmt_counted(g["neutral"]["accounts"], "neutral account", "neutral accounts"),
    }
    text = "Of the {nc} of {who} in the crisis, {crit} had such a tie; of the {nn}, {neu}"
    values["who"] = focal
    o = v["odds_ratio"]
    if _is_nm(o):
        text += "; the odds ratio is not measured ({why})."
        values["why"] = _reason(o)
        return [Sentence(text, values)]
    text += (
        ": supporters had {odds} times the odds of a prior tie ({conf} CI {ci}), adjusted for "
        "baseline activity; {dodds} ({conf} CI {dci}) counting only dated follows."
    )
    values.update(
        {
            "odds": _odds(o["value"]),
            "conf": conf,
            "ci": _ci(o, _odds),
            "dodds": _odds(d["odds_ratio"]["value"]) if not _is_nm(d["odds_ratio"]) else "n/a",
            "dci": _ci(d["odds_ratio"], _odds) if not _is_nm(d["odds_ratio"]) else "n/a",
        }
    )
    corr = corrected_ties(metrics, "prior_tie_odds_ratio", conf)
    if corr:  # the stance decisions' error carried in (review t8 B1)
        text += "{corr}"
        values["corr"] = " " + corr
    return [Sentence(text, values, ("odds",))]


# ---- limitations ---------------------------------------------------------------------------------


def _sensitivity_text(summary: Any) -> str:
    """Say which headline directions do not hold over the sensitivity grid (``summary``:
    ``{measure: {side: {holds, same_sign, specs}}}``, or a sentence), and what it does not
    re-run.

    >>> _sensitivity_text({"attention_lift": {"focal": {"holds": True}}})
    ... # doctest: +NORMALIZE_WHITESPACE
    'the direction of the one figure the grid re-runs holds across it (the grid re-runs the
    stance figures uncorrected; it does not re-run the error-corrected figures or the prior-tie
    odds ratio)'
    """
    if isinstance(summary, str):
        return summary
    if not isinstance(summary, Mapping) or not summary:
        return "see the sensitivity section"
    fails, n = [], 0
    for measure in sorted(summary):
        sides = summary[measure]
        if not isinstance(sides, Mapping):
            continue
        for side in sorted(sides):
            r = sides[side]
            if not isinstance(r, Mapping) or "holds" not in r:
                continue
            n += 1
            if not r["holds"]:
                fails.append(
                    f"{_MEASURE_LABELS.get(measure, measure).lower()} ({side}: the same direction "
                    f"in {r.get('same_sign', '?')} of "
                    f"{fmt_counted(r.get('specs'), 'specification', 'specifications')})"
                )
    if not n:
        return "see the sensitivity section"
    # the grid re-runs its own measures, not the error-corrected figures or the prior-tie odds
    # ratio: "all 10 headline figures" read as the primaries too (review t8 m4)
    rerun = (
        " (the grid re-runs the stance figures uncorrected; it does not re-run the "
        "error-corrected figures or the prior-tie odds ratio)"
    )
    if not fails:
        if n == 1:
            return "the direction of the one figure the grid re-runs holds across it" + rerun
        return f"the direction of all {n} figures the grid re-runs holds across it" + rerun
    return "the direction does not hold across the grid for " + "; ".join(fails) + rerun


def limitations(m: Mapping[str, Any], study: Any) -> list[str]:
    """Return the report's automatic limitations, one plain sentence each, in a fixed order:
    coverage, stance validation, sensitivity, ties, the time-series intervals, and what the
    design cannot conclude."""
    out: list[str] = []
    cov = m.get("coverage_check")
    warnings = list(cov.get("warnings") or []) if isinstance(cov, Mapping) else []
    notes = list(cov.get("notes") or []) if isinstance(cov, Mapping) else []
    if warnings or notes:
        out += [f"Coverage: {w}." for w in warnings + notes]
    else:
        out.append("Coverage: the data span every window, and every timed input covers each.")
    sv = m.get("stance_validation")
    if isinstance(sv, Mapping) and not _is_nm(sv):
        state = sv.get("state") or sv.get("status") or sv.get("summary")
        if not state and sv.get("labels"):
            state = fmt_counted(sv["labels"], "hand label", "hand labels") + (
                f", {sv['cross_validation']}; the error-corrected shares are in metrics.json "
                "(stance_validation)"
                if sv.get("cross_validation")
                else ""
            )
        from .report_stance import coders_text

        out.append(
            "Stance validation: "
            + (str(state) if state else "see metrics.json, stance_validation")
            + "; "
            + coders_text(m)
            + "."
        )
    else:
        ag = _get(m, "stance", "agreement")
        extra = (
            f" (the classifier agrees with {fmt_counted(ag['n'], 'hand label', 'hand labels')} "
            f"{fmt_pct(ag['accuracy'])} of the time; a validation needs labels coded blind on "
            "a random sample)"
            if isinstance(ag, Mapping) and not _is_nm(ag) and "n" in ag
            else ""
        )
        out.append(
            "Stance validation: no hand-code validation"
            + extra
            + "; stance shares carry the classifier's error, which their intervals leave out."
        )
    sens = m.get("sensitivity")
    if isinstance(sens, Mapping) and not _is_nm(sens):
        out.append("Sensitivity: " + _sensitivity_text(sens.get("summary")) + ".")
    else:
        out.append(
            "Sensitivity: not run; every figure is for one choice of windows, stance thresholds "
            "and community settings."
        )
    pt = _get(m, "comparisons", "prior_ties")
    ties_text = []
    if not _is_nm(pt) and pt.get("undated_follow_only"):
        one = is_one(pt["undated_follow_only"])
        ties_text.append(
            f"{fmt_count(pt['undated_follow_only'])} of the crisis accounts "
            f"{'has' if one else 'have'} a prior tie only through a follow without a date, "
            "taken to predate the crisis; the comparison is shown without "
            f"{'it' if one else 'them'} too."
        )
    if follows_date_note(m):  # (the date matters only for follows without one)
        ties_text.append(follows_date_note(m))
    if ties_text:
        out.append("Prior ties: " + " ".join(ties_text))
    out.append(
        "Time-series intervals: with daily bins and strongly autocorrelated counts they are "
        "too narrow (METHODS.md measures their coverage)."
    )
    p = m.get("primary")
    n_expl = p.get("exploratory_intervals", 0) if isinstance(p, Mapping) else 0
    n_comp = p.get("exploratory_comparisons") if isinstance(p, Mapping) else None
    of_them = f" ({fmt_count(n_comp)} of them comparisons)" if n_comp is not None else ""
    one = is_one(n_expl)
    out.append(
        "What cannot be concluded: the data are observational, so a lift or a change is not "
        "the effect of the crisis on anyone's views; a collection by keyword or mention "
        "over-represents the conversation about the case; and the "
        + fmt_counted(n_expl, "exploratory interval", "exploratory intervals")
        + of_them
        + (" is" if one else " are")
        + " not adjusted for multiple comparisons."
    )
    if getattr(getattr(study, "provenance", None), "synthetic", False):
        out.append(
            "The data are synthetic: the figures show what the method does, not what happened "
            "to anyone."
        )
    return out


# ---- context and charts -------------------------------------------------------------------------


def used_windows(study: Any, m: Mapping[str, Any]) -> Any:
    """Return the windows the metrics were measured on: the study's, cut to the data where the
    coverage check cut them (metrics.json ``study.windows``)."""
    from .windows import Windows

    w = _get(m, "study", "windows")
    if not isinstance(w, Mapping) or not _get(m, "coverage_check", "cut"):
        return study.windows
    try:
        return Windows(
            *(
                pd.Timestamp(w[k])
                for k in ("baseline_start", "crisis_start", "crisis_end", "after_end")
            )
        )
    except (KeyError, ValueError):
        return study.windows


def _labels(study: Any) -> dict[str, str]:
    out = {"focal": handles(study.focal)}
    if study.institution:
        out["institution"] = handles(study.institution)
    return out


def evidence_context(m: Mapping[str, Any], study: Any) -> dict[str, Any]:
    """Return the values of the evidence partials, under one key ``evidence``."""
    conf = f"{float(_get(m, 'parameters', 'confidence') or 0.95):.0%}"
    labels = _labels(study)
    prov = getattr(study, "provenance", None)
    return {
        "evidence": {
            "coverage": _coverage(m),
            "ties": _ties(m, conf),
            "split": _split(m, labels),
            "model": _model(m, labels),
            "blocks": _blocks(m, labels),
            # the posts' net support as the stance decided it, beside error-corrected figures
            "blocks_uncorrected": bool(corrected_findings(m)),
            "primary": _primary(m, labels, getattr(prov, "preregistration", None)),
            "limitations": limitations(m, study),
            "provenance": list(prov.fields()) if prov is not None else [],
            "synthetic": bool(getattr(prov, "synthetic", False)),
            "pseudonymised": bool(getattr(study, "pseudonymise", False)),
            "conf": conf,
        }
    }


def evidence_charts(inp: Any) -> list[Chart]:
    """Return the coverage chart and the time-series chart of a report's inputs."""
    return [
        Chart(key, title, caption, alt, *figure_png_svg(fig, title))
        for key, fig, title, caption, alt in evidence_figures(inp)
    ]


def _model_bins(models: Mapping[str, Any]) -> str:
    """ "calendar days" or "clock hours": the time-series model's bins (its ``freq``, the same
    for both sides), for the chart's caption."""
    freqs = {str(t.get("freq")) for t in models.values() if isinstance(t, Mapping) and "freq" in t}
    return "clock hours" if freqs == {"h"} else "calendar days"


def evidence_figures(inp: Any) -> list[tuple[str, Any, str, Sentence, str]]:
    """Return the coverage and time-series figures, not yet rendered, as
    ``(key, figure, title, caption, alt)`` (:func:`netsupport.report_charts.draw_charts`)."""
    study, m = inp.study, inp.metrics
    w = used_windows(study, m)
    labels = _labels(study)
    out: list[tuple[str, Any, str, Sentence, str]] = []
    rec = m.get("coverage_check") or {}
    fig = ech.coverage_timeline(rec, w)
    title = "What the inputs cover"
    out.append(
        (
            "coverage",
            fig,
            title,
            Sentence(
                "Each input file from its first to its last row (orange: it covers only part "
                "of a window), over the baseline, crisis and after windows. Follower lists and "
                "account files carry no times. Windows the data do not span are {what}.",
                {"what": "refused" if rec.get("policy") == "refuse" else "cut to the data"},
            ),
            "Horizontal bars, one per input file, spanning the time its rows cover, over the "
            "shaded study windows.",
        )
    )
    title = "Attention as a time series"
    fig = ech.attention_model_chart(m.get("attention_model") or {}, labels, w)
    out.append(
        (
            "attention_model",
            fig,
            title,
            Sentence(
                "Posts addressing {who} per day of exposure, the fitted segmented "
                "negative-binomial regression (level and slope change at the crisis start, "
                "and again after it) and the baseline trend carried on. The crisis is shaded "
                "({crisis}). The model's bins are {bins} (UTC), cut at the windows' bounds, "
                "each count divided by the part of its bin inside its window (exposure)"
                + (
                    ": the attention chart's bars count days from the crisis start instead, so "
                    "the two charts' peaks differ."
                    if _model_bins(m.get("attention_model") or {}) == "calendar days"
                    else "."
                ),
                {
                    "who": " and ".join(labels.values()),
                    "crisis": f"{fmt_time(w.crisis_start)} to {fmt_time(w.crisis_end)}",
                    "bins": _model_bins(m.get("attention_model") or {}),
                },
            ),
            "Dot and line chart of posts per day with the fitted segmented regression and the "
            "counterfactual baseline trend.",
        )
    )
    return out
