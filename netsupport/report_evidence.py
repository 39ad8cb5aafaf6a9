"""Report parts for the evidence checks of issue 15: the sensitivity grid (chart, table, the
clause each headline sentence gets) and role timing. Kept apart from report.py and
report_findings.py, which include them with one line each (templates ``sensitivity.*.j2``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import charts
from .report_format import (
    Sentence,
    _is_nm,
    fmt_count,
    fmt_counted,
    fmt_counted_range,
    fmt_hours_1,
    fmt_pct,
    fmt_points,
    fmt_ratio,
    fmt_span,
    is_one,
)

__all__ = ["grid_clause", "sensitivity_chart", "sensitivity_context"]

_FOCAL, _INST = "focal", "institution"
#: measure key -> (label, formatter, is a ratio; None: a level, a share with no "no change")
_MEASURES = {
    "attention_lift": ("Attention lift, crisis / baseline", fmt_ratio, True),
    "net_support_crisis": ("Net support in the crisis", fmt_points, False),
    "reputational_change": ("Change in net support, crisis − baseline", fmt_points, False),
    "persistence_attention": ("Attention after / baseline", fmt_ratio, True),
    "attention_level_change": (
        "Attention level change at the crisis start (time-series model)",
        fmt_ratio,
        True,
    ),
    "prior_tie_share": ("Supporters with a prior tie", fmt_pct, None),
    "prior_tie_odds_ratio": (
        "Odds ratio of a prior tie, supporters vs others (adjusted)",
        lambda x: fmt_ratio(x).replace("×", ""),
        True,
    ),
}
#: Measures the table gives but Figure 9 (four panels) does not draw.
_TABLE_ONLY = ("attention_level_change", "prior_tie_share", "prior_tie_odds_ratio")
#: Measures of the focal side only (ties to the focal account): no institution row.
_FOCAL_ONLY = ("prior_tie_share", "prior_tie_odds_ratio")
#: Measures with no "no change" value (a share): the table gives no direction for them.
_LEVELS = tuple(k for k, (_l, _f, ratio) in _MEASURES.items() if ratio is None)


#: Label suffix of a grid measure whose headline figure is error-corrected (the grid's is not).
UNCORRECTED = " (uncorrected)"


def uncorrected_measures(metrics: Mapping[str, Any]) -> set[str]:
    """Return the grid measures the report gives error-corrected elsewhere: the grid re-runs
    them as the stance decided them (its summary says ``basis: uncorrected``, or the headline
    value carries the ``naive`` one beside it), so the section labels them "(uncorrected)".

    Examples
    --------
    >>> m = {"headline": {"net_support_crisis": {"focal": {"value": 0.43, "naive": 0.56}},
    ...                   "reputational_change": {"focal": {"value": 0.19}}}}
    >>> sorted(uncorrected_measures(m))
    ['net_support_crisis']
    """
    out = set()
    headline = metrics.get("headline") or {}
    sens = metrics.get("sensitivity")
    summary = sens.get("summary", {}) if isinstance(sens, Mapping) else {}
    for key in _MEASURES:
        entries = (summary.get(key) or {}).values() if isinstance(summary, Mapping) else ()
        sides = (headline.get(key) or {}).values()
        if any(isinstance(e, Mapping) and e.get("basis") == "uncorrected" for e in entries) or any(
            isinstance(h, Mapping) and "naive" in h for h in sides
        ):
            out.add(key)
    return out


def _summary(metrics: Mapping[str, Any], key: str, side: str) -> Mapping[str, Any] | None:
    sens = metrics.get("sensitivity")
    if not isinstance(sens, Mapping) or _is_nm(sens):
        return None
    s = sens.get("summary", {}).get(key, {}).get(side)
    return None if s is None or _is_nm(s) else s


def grid_clause(
    metrics: Mapping[str, Any], key: str, side: str = _FOCAL, subject: str = "The direction"
) -> str:
    """Return the sentence that says whether a headline measure's sign holds across the grid.

    Examples
    --------
    >>> m = {"sensitivity": {"summary": {"attention_lift": {"focal": {"null": 1.0,
    ...     "study": 3.0, "min": 0.9, "max": 4.0, "specs": 10, "same_sign": 9,
    ...     "holds": False}}}}}
    >>> grid_clause(m, "attention_lift")[:60]
    'The direction does not hold over the sensitivity grid: above'
    >>> grid_clause(m, "attention_lift")[60:]
    ' 1 in 9 of 10 specifications (0.90× to 4.0×).'
    """
    s = _summary(metrics, key, side)
    if s is None:
        return ""
    _label, fmt, ratio = _MEASURES[key]
    null = "1" if ratio else "0"
    where = "above" if s["study"] > s["null"] else "below"
    lo, hi = fmt(s["min"]), fmt(s["max"])
    if is_one(s["specs"]):  # a grid of one: "in all 1 specification" says nothing
        return (
            f"{subject} {'holds' if s['holds'] else 'does not hold'} over the sensitivity "
            f"grid: {'' if s['holds'] else 'not '}{where} {null} in its only specification "
            f"({fmt_span(lo, hi)})."
        )
    by = classifier_ranges(s, fmt)
    if s["holds"]:
        span = f"{lo} to {hi}" if lo != hi else f"{lo} in each"
        return (
            f"{subject} holds over the sensitivity grid: {where} {null} in all "
            f"{fmt_counted(s['specs'], 'specification', 'specifications')} ({by or span})."
        )
    return (
        f"{subject} does not hold over the sensitivity grid: {where} {null} in "
        f"{fmt_count(s['same_sign'])} of "
        f"{fmt_counted(s['specs'], 'specification', 'specifications')} "
        f"({by or fmt_span(lo, hi)})."
    )


#: How the report names the grid's classifiers (``sensitivity.classifiers``).
_CLASSIFIER_WORDS = {"study": "the stance model", "rules": "the rules alone"}


def classifier_ranges(s: Mapping[str, Any], fmt: Any) -> str:
    """Return the ranges of a grid summary entry per classifier, when the grid varied it:
    "+55 to +60 with the stance model; +58 to +66 in the 9 with the rules alone" (the rules'
    figure is the uncorrected zero-shot one the model replaced), or "".

    Examples
    --------
    >>> s = {"specs": 4, "same_sign": 3, "by_classifier": {
    ...     "study": {"min": 0.5, "max": 0.6, "specs": 2, "same_sign": 2},
    ...     "rules": {"min": -0.1, "max": 0.3, "specs": 2, "same_sign": 1}}}
    >>> for part in classifier_ranges(s, lambda v: f"{v:+.1f}").split("; "):
    ...     print(part)
    +0.5 to +0.6 in the 2 with the stance model
    -0.1 to +0.3 in the 2 with the rules alone, 1 of them in the same direction
    """
    by = s.get("by_classifier")
    if not isinstance(by, Mapping) or len(by) < 2:
        return ""
    parts = []
    for name in ("study", "rules"):
        e = by.get(name)
        if not isinstance(e, Mapping):
            continue
        lo, hi = fmt(e["min"]), fmt(e["max"])
        text = f"{fmt_span(lo, hi)} in the {fmt_count(e['specs'])} with {_CLASSIFIER_WORDS[name]}"
        if e["same_sign"] != e["specs"]:
            text += f", {fmt_count(e['same_sign'])} of them in the same direction"
        parts.append(text)
    return "; ".join(parts)


def _supporters(k: Any) -> str:
    return fmt_counted(k, "supporter", "supporters")


def breadth_range_text(metrics: Mapping[str, Any]) -> str:
    """Return breadth's range over the grid's community runs, for the breadth sentence's
    parenthesis ("5 to 15 across the 30 community runs of the sensitivity grid"), or "".

    Examples
    --------
    >>> m = {"sensitivity": {"communities": {"breadth_range": [5, 15], "runs": [{}] * 30}}}
    >>> breadth_range_text(m)
    '5 to 15 across the 30 community runs of the sensitivity grid'
    """
    c = _communities_grid(metrics)
    if c is None:
        return ""
    lo, hi = c["breadth_range"]
    runs = fmt_counted(len(c.get("runs") or ()), "community run", "community runs")
    what = "of the study's own setting" if c.get("reduced") else "of the sensitivity grid"
    if fmt_count(lo) == fmt_count(hi):
        return f"the same in the {runs} {what}"
    return f"{fmt_count(lo)} to {fmt_count(hi)} across the {runs} {what}"


def _communities_grid(metrics: Mapping[str, Any]) -> Mapping[str, Any] | None:
    sens = metrics.get("sensitivity")
    if not isinstance(sens, Mapping) or _is_nm(sens):
        return None
    c = sens.get("communities")
    if not isinstance(c, Mapping) or _is_nm(c) or "breadth_range" not in c:
        return None
    return c


def sparse_caveat(metrics: Mapping[str, Any]) -> str:
    """Return the caveat for a sparse baseline graph, or "" (METHODS.md, "Breadth").

    Sparse: the mean degree (``mobilisation.mean_degree``, distinct accounts each account
    interacted with) is below ``ln N`` (``N`` accounts), the mean degree below which a random
    graph of that size falls apart into pieces (Erdős and Rényi): communities found on it are
    partly those pieces, and how many there are depends on the resolution.

    Examples
    --------
    >>> m = {"mobilisation": {"nodes": 1026, "mean_degree": 3.2}}
    >>> sparse_caveat(m)[:80]
    'The graph before the crisis is sparse (1,026 accounts, each interacting with 3.2'
    >>> sparse_caveat({"mobilisation": {"nodes": 1026, "mean_degree": 7.0}})
    ''
    """
    import math

    mob = metrics.get("mobilisation")
    if not isinstance(mob, Mapping) or _is_nm(mob):
        return ""
    n, d = mob.get("nodes"), mob.get("mean_degree")
    if not isinstance(n, int) or n < 2 or not isinstance(d, int | float):
        return ""
    if d >= math.log(n):
        return ""
    text = (
        f"The graph before the crisis is sparse ({fmt_count(n)} accounts, each interacting with "
        f"{d:.1f} others on average, below ln {fmt_count(n)} = {math.log(n):.1f}, where a random "
        "graph of that size falls apart into pieces): on such a graph the number of communities "
        "depends on the resolution"
    )
    c = _communities_grid(metrics)
    by_res = (c or {}).get("by_resolution") or {}
    counts = [v["communities"] for v in by_res.values() if isinstance(v, Mapping)]
    if len(by_res) > 1 and counts:
        lo, hi = min(x[0] for x in counts), max(x[1] for x in counts)
        res = sorted(by_res, key=float)
        text += (
            f" (the sensitivity grid found {fmt_count(lo)} to {fmt_count(hi)} at resolutions "
            f"{res[0]} to {res[-1]})"
        )
    return text + ", so breadth is a rough count, not a finding on its own."


def breadth_clause(metrics: Mapping[str, Any], with_breadth: bool = True) -> str:
    """Return the sentence giving breadth over community settings and seeds, with stability
    (``with_breadth=False``: without breadth's range, which the breadth sentence gives)."""
    sens = metrics.get("sensitivity")
    if not isinstance(sens, Mapping) or _is_nm(sens):
        return ""
    c = sens.get("communities")
    if not isinstance(c, Mapping) or _is_nm(c) or "breadth_range" not in c:
        return ""
    lo, hi = c["breadth_range"]
    st, cons = c["stability"], c["consensus"]
    what = (
        "seeds of the study's own setting only: the graph is too big for the whole grid"
        if c.get("reduced")
        else "algorithms, resolutions and seeds"
    )
    runs = len(c["runs"])
    breadth = fmt_counted_range(lo, hi, "community", "communities")
    if fmt_count(lo) == fmt_count(hi):  # "ranged from 5 to 5" says it was the same each time
        breadth = f"was {breadth} with at least {_supporters(c['k'])}" + (
            " in every run" if runs > 1 else ""
        )
    else:
        breadth = f"ranged from {breadth} with at least {_supporters(c['k'])}"
    even = fmt_span(f"{c['evenness_range'][0]:.2f}", f"{c['evenness_range'][1]:.2f}")
    text = (
        f"Over {fmt_counted(runs, 'community run', 'community runs')} ({what}) breadth "
        f"{breadth}, evenness {even}"
        if with_breadth
        else f"Over these {fmt_counted(runs, 'community run', 'community runs')} ({what}) "
        f"evenness ranged {even}"
    ) + f"; runs with other seeds agreed with NMI {st['mean_pairwise_nmi']:.2f} on average"
    if cons.get("breadth") is not None:
        if is_one(cons["communities"]):
            text += ", and their consensus partition has a single community" + (
                f" with at least {_supporters(c['k'])}"
                if is_one(cons["breadth"])
                else f" with fewer than {_supporters(c['k'])}"
            )
        else:
            text += (
                f", and in their consensus partition {cons['breadth']} of its "
                f"{fmt_counted(cons['communities'], 'community', 'communities')} "
                f"{'has' if is_one(cons['breadth']) else 'have'} at least {_supporters(c['k'])}"
            )
    return text + "."


def _panels(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The chart's panels: per measure, one dot per distinct specification it counts
    (:func:`~netsupport.support.sensitivity.distinct_specs`: the specifications that differ only
    in a choice the measure does not read give the same value, drawn once)."""
    from .support.sensitivity import distinct_specs

    sens = metrics["sensitivity"]
    uncorrected = uncorrected_measures(metrics)
    panels = []
    for key, (label, _fmt, ratio) in _MEASURES.items():
        if key in _TABLE_ONLY:
            continue
        values: dict[str, list[tuple[float, bool, bool]]] = {_FOCAL: [], _INST: []}
        for r in distinct_specs(sens["specs"], key):
            for side in values:
                v = r["values"].get(key, {}).get(side)
                if v is not None and (not ratio or v > 0):
                    rules = r.get("classifier") == "rules"
                    values[side].append((float(v), bool(r["study"]), rules))
        panels.append(
            {
                "title": label + (UNCORRECTED if key in uncorrected else ""),
                "null": 1.0 if ratio else 0.0,
                "log": ratio,
                "pct": not ratio,
                "values": values,
            }
        )
    return panels


def sensitivity_chart(
    metrics: Mapping[str, Any], focal: str, institution: str | None
) -> tuple[str, Any, str, Sentence, str] | None:
    """Return ``(key, figure, title, caption, alt)`` of the specification-curve chart."""
    sens = metrics.get("sensitivity")
    if not isinstance(sens, Mapping) or _is_nm(sens):
        return None
    fig = charts.specification_curve(
        _panels(metrics), focal_label=focal, institution_label=institution
    )
    n = len(sens["specs"])
    cut = _cutoffs(sens)
    text = (
        "Each dot is one specification of the grid ({n}: crisis start and end each moved, "
        "baseline length{cut}{clf}), sorted by its estimate; the ringed dot is the study's own. "
        "Specifications that differ only in a choice a measure does not read are one dot "
        "(net support in the crisis does not read the baseline length{attention}). The dashed "
        "line is no change (1× for ratios, 0 for net support). Specifications whose windows "
        "reach beyond the data are left out."
    )
    if uncorrected_measures(metrics):
        text += (
            " Net support is the uncorrected figure: the grid does not re-run the error correction."
        )
    n_rules = _rules_specs(sens)
    if n_rules:
        text += (
            " Crosses: the {n_rules} specifications of net support and its change that use the"
            " rules' own decisions (lexicon and VADER) on the posts the stance model decided."
        )
    return (
        "sensitivity",
        fig,
        "Sensitivity of the headline to the study's choices",
        Sentence(
            text,
            {
                "n": "its only one" if n == 1 else f"{fmt_count(n)} in all",
                "cut": ", stance cut-offs" if cut["varies"] else "; stance cut-offs not varied",
                "attention": ", attention not the stance" if cut["varies"] else "",
                "n_rules": fmt_count(n_rules),
                "clf": "; the stance model's decisions or the rules'" if n_rules else "",
            },
        ),
        "Specification curves: sorted point estimates of four headline measures over the "
        "sensitivity grid, with the study's own specification ringed.",
    )


def _rules_study(sens: Mapping[str, Any], key: str, side: str, fmt: Any) -> str:
    """The study's own specification (no shift, its baseline and cut-offs) with the rules'
    decisions: the Study cell of a rules row of the grid table (review t8 m5), "" when the grid
    has no such specification or it did not measure ``key``.

    >>> sens = {"specs": [
    ...     {"study": True, "classifier": "study", "start_shift_days": 0.0, "end_shift_days": 0.0,
    ...      "baseline_days": 14.0, "positive_threshold": 0.05, "negative_threshold": -0.05,
    ...      "values": {"net_support_crisis": {"focal": 0.56}}},
    ...     {"study": False, "classifier": "rules", "start_shift_days": 0.0, "end_shift_days": 0.0,
    ...      "baseline_days": 14.0, "positive_threshold": 0.05, "negative_threshold": -0.05,
    ...      "values": {"net_support_crisis": {"focal": 0.59}}}]}
    >>> _rules_study(sens, "net_support_crisis", "focal", lambda v: f"{v:+.2f}")
    '+0.59'
    """
    specs = [x for x in sens.get("specs") or () if isinstance(x, Mapping)]
    own = next((x for x in specs if x.get("study")), None)
    if own is None:
        return ""
    same = ("start_shift_days", "end_shift_days", "baseline_days")
    same += ("positive_threshold", "negative_threshold")
    for x in specs:
        if x.get("classifier") == "rules" and all(x.get(k) == own.get(k) for k in same):
            v = (x.get("values") or {}).get(key)
            v = v.get(side) if isinstance(v, Mapping) else None
            return fmt(v) if isinstance(v, (int, float)) else ""
    return ""


def sensitivity_context(metrics: Mapping[str, Any], institution: bool) -> dict[str, Any] | None:
    """Return what the sensitivity partial shows: the grid, a row per measure, communities."""
    sens = metrics.get("sensitivity")
    if not isinstance(sens, Mapping) or _is_nm(sens):
        return None
    sides = [_FOCAL] + ([_INST] if institution else [])
    uncorrected = uncorrected_measures(metrics)
    rows = []
    for key, (label, fmt, _ratio) in _MEASURES.items():
        label += UNCORRECTED if key in uncorrected else ""
        for side in [x for x in sides if x == _FOCAL or key not in _FOCAL_ONLY]:
            s = _summary(metrics, key, side)
            if s is None:
                if key not in _FOCAL_ONLY:  # (a grid from before they were in it: no row)
                    rows.append([label, side, "not measured", "", "", ""])
                continue
            by = s.get("by_classifier")
            if isinstance(by, Mapping) and len(by) > 1:
                # one row per classifier: the rules' range beside the model's, never merged
                for name in ("study", "rules"):
                    e = by.get(name)
                    if not isinstance(e, Mapping):
                        continue
                    rows.append(
                        [
                            f"{label}, with {_CLASSIFIER_WORDS[name]}",
                            side,
                            fmt(s["study"])
                            if name == "study"
                            else _rules_study(sens, key, side, fmt),
                            fmt_span(fmt(e["min"]), fmt(e["max"])),
                            *(
                                (f"{e['specs']} specifications", "—")
                                if key in _LEVELS
                                else (
                                    f"{e['same_sign']} of {e['specs']}",
                                    "yes" if e["same_sign"] == e["specs"] else "no",
                                )
                            ),
                        ]
                    )
                continue
            rows.append(
                [
                    label,
                    side,
                    fmt(s["study"]),
                    fmt_span(fmt(s["min"]), fmt(s["max"])),
                    *(
                        (f"{s['specs']} specifications", "—")
                        if key in _LEVELS
                        else (f"{s['same_sign']} of {s['specs']}", "yes" if s["holds"] else "no")
                    ),
                ]
            )
    g = sens["grid"]
    grid = (
        "crisis start and end each moved by "
        + ", ".join(f"{d:+g}".replace("-", "−") if d else "0" for d in g["window_shift_days"])
        + " days; baseline "
        + ", ".join(f"{d:g}" for d in g["baseline_days"])
        + " days"
        + _cutoff_text(_cutoffs(sens))
        + ("; the stance model's decisions or the rules' alone" if _rules_specs(sens) else "")
        + "; apart from these, the communities were found again by "
        + " and ".join(g["algorithms"])
        + " at resolution "
        + ", ".join(f"{r:g}" for r in g["resolutions"])
        + f" with {fmt_counted(g['seeds'], 'seed', 'seeds')} each"
    )
    comm_rows = []
    c = sens.get("communities")
    comm_note = ""
    if isinstance(c, Mapping) and not _is_nm(c):
        for res, v in sorted(c.get("by_resolution", {}).items(), key=lambda t: float(t[0])):
            comm_rows.append(
                [
                    res,
                    fmt_span(str(v["communities"][0]), str(v["communities"][1])),
                    fmt_span(str(v["breadth"][0]), str(v["breadth"][1])),
                    fmt_span(f"{v['evenness'][0]:.2f}", f"{v['evenness'][1]:.2f}"),
                ]
            )
        st, cons = c["stability"], c["consensus"]
        red = c.get("reduced")
        comm_note = (
            (f"Reduced grid: {red['note']}. " if isinstance(red, Mapping) else "")
            + f"Breadth counts communities with at least {_supporters(c['k'])}. Seed stability "
            f"({st['algorithm']}, resolution {st['resolution']:g}, "
            f"{fmt_counted(cons['runs'], 'seed', 'seeds')}): mean "
            f"pairwise NMI {st['mean_pairwise_nmi']:.2f}, lowest {st['min_pairwise_nmi']:.2f}. "
            + _consensus_how(cons)
            + f": {fmt_counted(cons['communities'], 'community', 'communities')}, "
            + (
                f"{cons['breadth']} with at least {_supporters(c['k'])} "
                f"(evenness {cons['evenness']:.2f})."
                if cons.get("breadth") is not None
                else "no supporter in them."
            )
        )
    unc = sens.get("uncovered_specs", {})
    cut = _cutoffs(sens)
    return {
        "grid": grid,
        "classifiers": _classifier_text(sens),
        "uncorrected": bool(uncorrected),
        "distinct": (
            "Each measure counts its distinct specifications: net support in the crisis does "
            "not depend on the baseline length"
            + (", the attention measures not on the classifier" if _rules_specs(sens) else "")
            + (", nor the attention ratios on the stance cut-offs." if cut["varies"] else ".")
        ),
        "n_specs": len(sens["specs"]),
        "uncovered": fmt_counted(unc.get("baseline", 0), "reaches", "reach") + " before the data, "
        f"{unc.get('after', 0)} after them",
        "rows": rows,
        "communities": comm_rows,
        "communities_note": comm_note,
    }


def _rules_specs(sens: Mapping[str, Any]) -> int:
    """The grid's specifications run with the rules' stance (the classifier axis), or 0."""
    return sum(1 for r in sens.get("specs") or () if r.get("classifier") == "rules")


def _classifier_text(sens: Mapping[str, Any]) -> str:
    """The sentence on the grid's classifier axis (``sensitivity.classifiers``), or "" when the
    study has neither hand codes nor a stance model.

    Examples
    --------
    >>> _classifier_text({"classifiers": {"varied": ["study", "rules"], "varies": True,
    ...     "model_units": 866, "changed_units": 45}, "specs": [{"classifier": "rules"}] * 9})[:72]
    'The stance measures were run again with the rules alone: in 9 of the spe'
    >>> _classifier_text({"classifiers": {"varied": ["study"], "varies": False,
    ...     "reason": "the hand codes decide every post"}})
    'The classifier is not varied: the hand codes decide every post.'
    """
    c = sens.get("classifiers")
    if not isinstance(c, Mapping):
        return ""
    if not c.get("varies"):
        return f"The classifier is not varied: {c.get('reason', '')}."
    n = _rules_specs(sens)
    return (
        f"The stance measures were run again with the rules alone: in {fmt_count(n)} of the "
        f"specifications each of the {fmt_count(c['model_units'])} posts the stance model "
        "decided takes instead the decision of the lexicon and VADER rules, the one the model "
        f"replaced ({fmt_count(c['changed_units'])} of them change stance; hand-coded posts keep "
        "their codes). Those figures are what the zero-shot rules would have said: uncorrected, "
        "never the study's decisions; the table gives their ranges on rows of their own."
    )


def _cutoffs(sens: Mapping[str, Any]) -> Mapping[str, Any]:
    """The grid's ``cutoffs`` block (a metrics.json without it varied every declared one)."""
    declared = [[t, -t] for t in sens["grid"]["thresholds"]]
    return sens.get("cutoffs") or {"declared": declared, "varied": declared, "varies": True}


def _cutoff_text(cut: Mapping[str, Any]) -> str:
    """ "; VADER cut-offs ±0.05, ±0.1" (with those left out and why), or the reason they are
    not varied at all.

    Examples
    --------
    >>> _cutoff_text({"declared": [[0.05, -0.05], [0.1, -0.1]], "varied": [[0.05, -0.05]],
    ...     "varies": False, "reason": "a hand code decides every post"})
    ' (the stance cut-offs are not varied: a hand code decides every post)'
    >>> _cutoff_text({"declared": [[0.05, -0.05], [0.1, -0.1], [0.25, -0.25]],
    ...     "varied": [[0.05, -0.05], [0.25, -0.25]], "varies": True, "reason": "x"})
    '; VADER cut-offs ±0.05, ±0.25 (±0.1 left out: it gives the stances of another)'
    """
    if not cut["varies"]:
        return f" (the stance cut-offs are not varied: {cut.get('reason', '')})"
    varied = sorted(t for t, _ in cut["varied"])
    left = [t for t, _ in cut["declared"] if t not in varied]
    text = "; VADER cut-offs ±" + ", ±".join(f"{t:g}" for t in varied)
    if left:
        it = "it gives" if len(left) == 1 else "each gives"
        text += (
            " (±" + ", ±".join(f"{t:g}" for t in left) + f" left out: {it} the stances of another)"
        )
    return text


_PLURAL = {
    "media": "media accounts",
    "journalist": "journalists",
    "professional": "professionals",
    "institution": "institutions",
    "citizen": "citizens",
}


def role_timing_sentence(metrics: Mapping[str, Any], focal: str) -> Sentence | None:
    """Return the sentence on who addressed the focal account first, saying what the
    permutation test supports (METHODS.md, "Role timing"); None when not measured."""
    rt = metrics.get("role_timing", {})
    rt = rt.get(_FOCAL) if isinstance(rt, Mapping) else None
    if not isinstance(rt, Mapping) or _is_nm(rt) or not rt.get("roles"):
        return None
    roles = rt["roles"]
    order = rt.get("order") or []
    parts: list[str] = []
    for r in order:
        if roles[r].get("median_first_hours_new") is None and not _not_reached(roles[r]):
            continue
        parts.append(_role_median(r, roles[r], first=not any("only after" in p for p in parts)))
    censored = sum(int(roles[r].get("censored_new_accounts") or 0) for r in order)
    values: dict[str, Any] = {"who": focal}
    if _is_nm(rt.get("test")) or len(parts) < 2:
        text = (
            "No order of roles in addressing {who} can be tested: {why}."
            if _is_nm(rt.get("test"))
            else "No order of roles in addressing {who} can be tested."
        )
        values["why"] = rt["test"]["reason"] if _is_nm(rt.get("test")) else ""
    else:
        text = (
            "Among accounts new to the conversation, the median time from the crisis start to "
            "the first post addressing {who} was: {order}. "
        )
        if censored:
            text = (
                "Among accounts new to the conversation, the median time from the crisis start "
                "to the first post addressing {who} (Kaplan–Meier: an account whose first post "
                "came only after the crisis counts as not yet posted at its end) was: {order}. "
            )
        values["order"] = ", ".join(parts)
        background = _background(roles, order) if censored else ""
        if background:  # review t8 M2: the censored may be ordinary chatter, not late reactions
            text += "{background} "
            values["background"] = background
        surviving = rt.get("surviving") or []
        values["perm"] = fmt_count(rt["permutations"])
        values["few"] = _few_accounts(rt)
        if surviving:
            text += (
                "A permutation test ({perm} shuffles of the roles, Holm-adjusted) supports only "
                "{pairs}; the rest of this order is within chance{few}."
            )
            values["pairs"] = _orderings(surviving)
        else:
            text += (
                "A permutation test ({perm} shuffles of the roles, Holm-adjusted) finds no "
                "difference in timing between roles beyond chance{few}."
            )
    ratios = []
    for r in sorted(roles, key=lambda r: -roles[r]["size"]):
        last = roles[r]["curve"][-1] if roles[r]["curve"] else None
        if last is None or (last.get("ratio") is None and not last["share"] > 0):
            continue
        part = _role_share(r, int(roles[r]["size"]), float(last["share"]))
        if not ratios:
            part += " in the conversation"
        if last.get("ratio") is not None:  # observed share / the share the rate predicts
            days = f" for {float(last['hours']) / 24:.1f} days" if last.get("hours") else ""
            part += f" ({fmt_ratio(last['ratio'])} the share their baseline rate predicts{days})"
        else:
            part += " (none in the baseline)"
        ratios.append(part)
    if ratios:
        text += (
            " By the crisis end {ratios} had addressed the account; the conversation is the "
            "accounts that addressed either side in any window or took part in the crisis "
            'graph (METHODS.md, "Role timing").'
        )
        values["ratios"] = ", ".join(ratios)
    return Sentence(text, values, ())


def _not_reached(entry: Mapping[str, Any]) -> bool:
    return entry.get("median_reached") is False


def _background(roles: Mapping[str, Any], order: list[str]) -> str:
    """Say how many of the newcomers counted as posting only after the crisis the baseline rate
    alone predicts (``censored_background_expected``, METHODS.md, "Role timing"): those may be
    ordinary chatter, not late reactions, and then the Kaplan-Meier medians are late; "" when no
    role with censored accounts has the figure.

    Examples
    --------
    >>> r = {"professional": {"censored_new_accounts": 18, "censored_background_expected": 20.2},
    ...     "media": {"censored_new_accounts": 5, "censored_background_expected": 0.0}}
    >>> print(_background(r, ["professional", "media"]))  # doctest: +NORMALIZE_WHITESPACE
    The baseline rate alone, with no crisis, predicts about 20 professionals and no media
    accounts among these newcomers after the crisis: where it predicts most of them, they may be
    ordinary chatter, not late reactions, and the median is a late bound.
    """
    parts = []
    for r in order:
        e = roles.get(r) or {}
        exp = e.get("censored_background_expected")
        if not e.get("censored_new_accounts") or not isinstance(exp, (int, float)):
            continue
        n = round(float(exp))
        plural = _PLURAL.get(r, r)
        one = "media account" if r == "media" else r
        parts.append(f"about {fmt_count(n)} {one if n == 1 else plural}" if n else f"no {plural}")
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"The baseline rate alone, with no crisis, predicts {listed} among these newcomers "
        "after the crisis: where it predicts most of them, they may be ordinary chatter, not "
        "late reactions, and the median is a late bound."
    )


def _role_median(role: str, entry: Mapping[str, Any], first: bool = True) -> str:
    """ "citizens 47.0 h (24 of 76 only after the crisis)": a role's Kaplan-Meier median of new
    accounts and how many of them were censored at the crisis end ("(24 of 76)" when not
    ``first``: the sentence says it once); "not reached" when fewer than half had posted by then.

    Examples
    --------
    >>> _role_median("media", {"median_first_hours_new": 81.1, "new_accounts": 17,
    ...     "censored_new_accounts": 5})
    'media accounts 81.1 h (5 of 17 only after the crisis)'
    >>> _role_median("media", {"median_first_hours_new": None, "median_reached": False,
    ...     "new_accounts": 9, "censored_new_accounts": 5})
    'media accounts not reached by the crisis end (5 of 9 only after the crisis)'
    >>> _role_median("citizen", {"median_first_hours_new": 24.6, "new_accounts": 52})
    'citizens 24.6 h'
    >>> _role_median("citizen", {"median_first_hours_new": 47.0, "new_accounts": 76,
    ...     "censored_new_accounts": 24}, first=False)
    'citizens 47.0 h (24 of 76)'
    """
    m = entry.get("median_first_hours_new")
    head = f"{_PLURAL.get(role, role)} " + (
        "not reached by the crisis end" if m is None else fmt_hours_1(m)
    )
    late = int(entry.get("censored_new_accounts") or 0)
    if late:
        head += f" ({fmt_count(late)} of {fmt_count(int(entry['new_accounts']))}"
        head += " only after the crisis)" if first else ")"
    return head


_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _orderings(pairs: list[list[str]]) -> str:
    """ "one ordering: a before b", "two orderings: a before b, and c before d".

    Examples
    --------
    >>> _orderings([["professional", "journalist"], ["citizen", "journalist"]])
    'two orderings: professionals before journalists, and citizens before journalists'
    >>> _orderings([["a", "b"], ["c", "d"], ["e", "f"]])
    'three orderings: a before b, c before d, and e before f'
    >>> _orderings([["media", "citizen"]])
    'one ordering: media accounts before citizens'
    """
    n = len(pairs)
    count = _NUMBER_WORDS[n - 1] if n <= len(_NUMBER_WORDS) else fmt_count(n)
    each = [f"{_PLURAL.get(a, a)} before {_PLURAL.get(b, b)}" for a, b in pairs]
    listed = each[0] if n == 1 else ", ".join(each[:-1]) + ", and " + each[-1]
    return f"{count} ordering{'' if n == 1 else 's'}: {listed}"


#: A tested role with fewer new accounts than this is named as too few to confirm an order.
FEW_NEW_ACCOUNTS = 20


def _few_accounts(rt: Mapping[str, Any]) -> str:
    """ " (media accounts: 12 new accounts, too few to confirm an order)" for each role of a
    pair the test does not confirm that has fewer than :data:`FEW_NEW_ACCOUNTS` new accounts:
    with so few the test has little power, so "within chance" is not "no order"."""
    roles = rt.get("roles") or {}
    unconfirmed = {
        r
        for p in rt.get("pairs") or ()
        if not p.get("survives")
        for r in (p["earlier"], p["later"])
    }
    order = list(rt.get("order") or ())
    few = [
        f"{_PLURAL.get(r, r)}: "
        + fmt_counted(int(roles[r]["new_accounts"]), "new account", "new accounts")
        for r in [*order, *sorted(unconfirmed - set(order))]
        if r in unconfirmed
        and isinstance(roles.get(r), Mapping)
        and roles[r].get("new_accounts") is not None
        and int(roles[r]["new_accounts"]) < FEW_NEW_ACCOUNTS
    ]
    if not few:
        return ""
    each = "each too few" if len(few) > 1 else "too few"
    return " (" + "; ".join(few) + f", {each} to confirm an order)"


#: Below this many accounts a role's share is given as a count ("2 of 6 institutions").
SMALL_ROLE = 10
_SINGULAR = {"media": "media account"}


def _role_share(role: str, size: int, share: float) -> str:
    """ "34% of the 229 citizens", or for a role of fewer than :data:`SMALL_ROLE` accounts the
    count itself, "2 of 6 institutions": a percentage of six accounts hides how few they are.

    Examples
    --------
    >>> _role_share("citizen", 229, 77 / 229), _role_share("institution", 6, 2 / 6)
    ('34% of the 229 citizens', '2 of 6 institutions')
    >>> _role_share("media", 1, 1.0)
    '1 of 1 media account'
    """
    name = _PLURAL.get(role, role) if size != 1 else _SINGULAR.get(role, role)
    if size < SMALL_ROLE:
        return f"{round(share * size)} of {size} {name}"
    return f"{fmt_pct(share)} of the {fmt_count(size)} {name}"


def _consensus_how(cons: Mapping[str, Any]) -> str:
    """How the consensus partition was made, for the sensitivity note."""
    if "rounds" not in cons and cons["threshold"] >= 1:  # (a graph too big for the rounds)
        return (
            "Consensus partition (account pairs that every one of those runs joins; no "
            "re-detection rounds above sensitivity.community_max_edges)"
        )
    if "rounds" not in cons:  # (metrics.json of the one-step consensus, before its rounds)
        thr = f"{cons['threshold']:.0%}"
        return f"Consensus partition (account pairs joined in at least {thr} of those runs)"
    rounds = int(cons["rounds"])
    return (
        f"Consensus partition (Lancichinetti and Fortunato: the edges whose ends at least "
        f"{cons['threshold']:.0%} of those runs join, weighted by that share and partitioned "
        f"again until every run agrees; {rounds} round{'' if rounds == 1 else 's'}"
        + ("" if cons.get("converged", True) else ", not converged: edges all runs join")
        + ")"
    )
