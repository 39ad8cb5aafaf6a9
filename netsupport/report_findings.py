"""The report's headline findings: plain sentences generated from the metrics.

:func:`findings` states each measure as a number with its interval and what it means, e.g.
"Attention to @x rose 7.4× in the crisis (95% CI 6.1–9.0)"; a metric the data cannot support
is listed under "Not measured" with its reason, never shown as a zero. The sentences are
:class:`~netsupport.report_format.Sentence` objects, escaped for each output format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .report_format import (
    Sentence,
    _boot_ci,
    _ci,
    _conf,
    _get,
    _is_nm,
    _reason,
    fmt_count,
    fmt_counted,
    fmt_hours,
    fmt_hours_1,
    fmt_pct,
    fmt_points,
    fmt_rate,
    fmt_ratio,
    fmt_time,
    handle,
    handles,
    is_one,
    marker_only_clause,
    overdispersed_ci,
    points_noun,
    undated_ties,
)
from .report_stance import (
    corrected_findings,
    corrected_persistence,
    uncorrected_note,
    without_text_relabelled,
)
from .schema import Role, Stance, Target, Window

__all__ = ["Findings", "findings"]

_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_B, _C = Window.BASELINE.value, Window.CRISIS.value
_SUP, _CRI = Stance.SUPPORTIVE.value, Stance.CRITICAL.value


@dataclass(frozen=True)
class Findings:
    """Headline sentences and the measures the data could not support."""

    sentences: list[Sentence]
    not_measured: list[tuple[str, str]]  # (measure, reason)


def _od_clause(lift: Mapping[str, Any]) -> str:
    """ "; a–b× allowing for day-to-day overdispersion" (:func:`overdispersed_ci`), or ""."""
    od = overdispersed_ci(lift)
    return f"; {od} allowing for day-to-day overdispersion" if od else ""


def findings(metrics: Mapping[str, Any]) -> Findings:
    """Return the headline findings as plain sentences generated from ``metrics``.

    Each sentence states a number with its interval and what it means; a measure that is not
    measured goes to :attr:`Findings.not_measured` with its reason instead.
    """
    st = metrics.get("study", {})
    focal = handles(st.get("focal", []))
    inst = handles(st.get("institution", []))
    conf = _conf(metrics)
    out: list[Sentence] = []
    nm: list[tuple[str, str]] = []

    # 1. attention lift, focal
    lift_f = _get(metrics, "attention", _FOCAL, "lift")
    if _is_nm(lift_f):
        nm.append((f"Attention lift for {focal}", _reason(lift_f)))
    else:
        per_c = _get(metrics, "attention", _FOCAL, _C, "interactions_per_day")
        per_b = _get(metrics, "attention", _FOCAL, _B, "interactions_per_day")
        verb = "rose" if lift_f["value"] >= 1 else "fell"
        out.append(
            Sentence(
                "Attention to {who} {verb} {x} in the crisis ({conf} CI {ci}{boot}{od}): {c} "
                "posts a day addressed the account, against {b} a day before{marker}.{grid}",
                {
                    "who": focal,
                    "verb": verb,
                    "x": fmt_ratio(lift_f["value"]),
                    "conf": conf,
                    "ci": _ci(lift_f, fmt_ratio),
                    "boot": _boot_ci(lift_f),
                    "od": _od_clause(lift_f),
                    "marker": marker_only_clause(lift_f, conf),
                    "c": fmt_rate(per_c),
                    "b": fmt_rate(per_b),
                    "grid": _grid_clause(metrics, "attention_lift"),
                },
                ("x",),
            )
        )

    # 2. stance in the crisis and reputational change, focal
    sh = _get(metrics, "stance_shares", _FOCAL, _C, "account_level")
    rep_f = _get(metrics, "reputation", _FOCAL, "account_level")
    base_net = _get(metrics, "stance_shares", _FOCAL, _B, "account_level", "net_support")
    if _is_nm(sh) or sh is None:
        nm.append((f"Stance towards {focal} in the crisis", _reason(sh)))
    else:
        values = {
            "n": fmt_counted(sh.get("n"), "account", "accounts"),
            "who": focal,
            "sup": fmt_pct(_get(sh, _SUP, "value")),
            "cri": fmt_pct(_get(sh, _CRI, "value")),
            "net": fmt_points(_get(sh, "net_support", "value")),
            "conf": conf,
            "ci": _ci(sh["net_support"], fmt_points),
        }
        text = (
            "In the crisis, {sup} of the {n} that addressed {who} "
            + ("was" if is_one(sh.get("n")) else "were")
            + " supportive and {cri} critical: net support {net} "
            + points_noun(_get(sh, "net_support", "value"))
            + " ({conf} CI {ci})"
        )
        if not _is_nm(rep_f) and rep_f is not None and not _is_nm(base_net):
            text += ", {change} " + points_noun(rep_f["value"])
            text += " compared with the period before ({conf} CI {rci})"
            values["change"] = fmt_points(rep_f["value"])
            values["rci"] = _ci(rep_f, fmt_points)
        elif _is_nm(rep_f):
            nm.append((f"Reputational change of {focal}", _reason(rep_f)))
        prim_net = _primary_corrected(metrics, "net_support_crisis", _FOCAL)
        prim_chg = (
            _primary_corrected(metrics, "reputational_change", _FOCAL)
            if "change" in values
            else None
        )
        text += uncorrected_note(
            metrics, "the next finding includes it" + _primary_note(prim_net, prim_chg)
        )
        text += "." + _grid_text(
            values,
            metrics,
            "net_support_crisis",
            "Net support's direction",
            suffix=_rerun(prim_net),
        )
        if "change" in values:
            text += _grid_text(
                values,
                metrics,
                "reputational_change",
                "The change's direction",
                suffix=_rerun(prim_chg),
            )
        out.append(Sentence(text, values, ("sup", "net")))
    out.extend(corrected_findings(metrics))  # the same, corrected for the stance's error

    # 3. the institution, side by side
    if inst:
        rep_i = _get(metrics, "reputation", _INST, "account_level")
        sh_i = _get(metrics, "stance_shares", _INST, _C, "account_level", "net_support")
        sh_ib = _get(metrics, "stance_shares", _INST, _B, "account_level", "net_support")
        if _is_nm(rep_i) or rep_i is None:
            nm.append((f"Reputational change of {inst}", _reason(rep_i)))
        else:
            values = {
                "who": inst,
                "change": fmt_points(rep_i["value"]),
                "conf": conf,
                "ci": _ci(rep_i, fmt_points),
                "b": fmt_points(_get(sh_ib, "value")),
                "c": fmt_points(_get(sh_i, "value")),
            }
            text = (
                "Net support for {who} changed by {change} "
                + points_noun(rep_i["value"])
                + " ({conf} CI {ci}), from {b} before the crisis to {c} during it"
            )
            gap = _get(metrics, "reputation", "gap", "account_level")
            if not _is_nm(gap) and gap is not None and not _is_nm(rep_f) and rep_f is not None:
                text += "; the two sides moved {gap} " + points_noun(gap["value"])
                text += " apart ({conf} CI {gci})"
                values["gap"] = fmt_points(abs(gap["value"]), signed=False)
                values["gci"] = _ci(gap, fmt_points)
            prim = _primary_corrected(metrics, "reputational_change", _INST)
            text += uncorrected_note(metrics, "corrected above" + _primary_note(None, prim))
            text += "." + _grid_text(
                values, metrics, "reputational_change", side=_INST, suffix=_rerun(prim)
            )
            out.append(Sentence(text, values, ("change",)))

    # 4. prior ties
    comp = metrics.get("composition")
    if _is_nm(comp) or comp is None:
        nm.append((f"Supporters' prior ties to {focal}", _reason(comp)))
    else:
        share = comp["prior_tie_share"]
        values = {
            "pct": fmt_pct(share["value"]),
            "n": fmt_counted(comp["supporters"], "account", "accounts"),
            "who": focal,
            "conf": conf,
            "ci": _ci(share, fmt_pct),
            "new": fmt_counted(comp["newcomers"], "was a newcomer", "were newcomers"),
        }
        text = (
            "{pct} of the {n} that supported {who} in the crisis had a prior tie "
            "({conf} CI {ci}): they followed the account or had interacted with it before; "
            "{new}."
        )
        undated = undated_ties(metrics)
        if undated is not None:  # the share rests on follows whose date nobody knows: say so
            text += (
                _undated_subject(undated.undated, undated.ties)
                + " only on a follow without a date, taken to predate the crisis; counting dated "
                "ties only, {dpct} ({conf} CI {dci})."
            )
            values.update(
                {
                    "undated": fmt_count(undated.undated),
                    "ties": fmt_count(undated.ties),
                    "dpct": fmt_pct(undated.dated_share["value"]),
                    "dci": _ci(undated.dated_share, fmt_pct),
                }
            )
            # when the lists were taken decides whether those follows can predate the crisis
            from .evidence_report import follows_date_note

            text += "{fdate}"
            values["fdate"] = follows_date_note(metrics, short=True)
        corr = _corrected_ties(metrics, "prior_tie_share", conf)
        if corr:  # the stance decisions' error carried in (review t8 B1)
            text += "{corr}"
            values["corr"] = " " + corr
        out.append(Sentence(text, values, ("pct",)))
        out += _evidence_tie_contrast(metrics, focal, conf)  # the test of it (issue 15)

    # 5. breadth and the most mobilised community
    br = metrics.get("breadth")
    mob = metrics.get("mobilisation")
    if _is_nm(br) or br is None:
        nm.append(("Breadth of support across communities", _reason(br)))
    else:
        values = {
            "k": fmt_count(br["communities_with_k_supporters"]),
            "of": fmt_count(_get(mob, "n_communities")),
            "min": fmt_counted(br["k"], "supporter", "supporters"),
            "even": evenness_text(br),
        }
        from .report_evidence import breadth_range_text, sparse_caveat

        # its uncertainty over the grid's community runs, in the same sentence (review t5 #4)
        values["range"] = breadth_range_text(metrics)
        text = (
            "Support came from {k} "
            + ("community" if is_one(br["communities_with_k_supporters"]) else "communities")
            + (" ({range})" if values["range"] else "")
            + " with at least {min} each (of the {of} found before the crisis; {even})"
        )
        best = _most_supporters(mob)
        if best is not None:
            text += (
                "; the most supporters, {s}, came from community {c}, where {pct} of the {m} "
                "addressed {who}"
            )
            values.update(
                {
                    "s": fmt_count(best["supporters"]),
                    "c": str(int(best["community"])),
                    "pct": fmt_pct(best["share_active"]),
                    "m": fmt_counted(best["members"], "member", "members"),
                    "who": focal,
                }
            )
        values["grid"] = _grid_clause(metrics, "breadth", with_breadth=not values["range"])
        values["sparse"] = sparse_caveat(metrics)
        values["sparse"] = " " + values["sparse"] if values["sparse"] else ""
        out.append(Sentence(text + ".{grid}{sparse}", values, ("k",)))

    # 6. proxies during the silence
    sil = metrics.get("silence")
    px = metrics.get("proxies")
    if _is_nm(sil) or sil is None:
        nm.append((f"{focal}'s silence", _reason(sil)))
    elif _is_nm(px) or px is None:
        nm.append(("Proxies during the silence", _reason(px)))
    elif not px.get("top"):
        nm.append(
            (
                "Proxies during the silence",
                "no supportive post about the focal account made during its silence reached "
                "another account",
            )
        )
    else:
        top = px["top"]
        values = {
            "who": focal,
            "start": fmt_time(sil["start"]),
            "end": fmt_time(sil["end"]),
            "hours": fmt_hours(sil["hours"]),
            "p1": handle(top[0]["handle"]),
            "r1": fmt_counted(top[0]["reach"], "account", "accounts"),
        }
        text = (
            "While {who} was silent ({start} to {end}, {hours}), {p1} was the most-reached "
            "supportive voice: its supportive posts drew replies, reposts or quotes from {r1}"
        )
        if len(top) > 1:
            text += ", followed by {p2} ({r2})"
            values.update({"p2": handle(top[1]["handle"]), "r2": fmt_count(top[1]["reach"])})
        out.append(Sentence(text + ".", values, ("p1",)))

    # 7. who carried the story first
    roles = _get(metrics, "roles", _FOCAL)
    firsts = _first_mention_hours(roles)
    timed = _role_timing_sentence(metrics, focal)
    if timed is not None:  # the tested order (report_evidence), not one order statistic
        out.append(timed)
    elif _is_nm(roles) or not firsts:
        why = (
            _reason(roles)
            if _is_nm(roles)
            else "no account with a known role addressed the focal account in the crisis "
            "(roles come from an accounts file or profile texts)"
        )
        nm.append(("First mentions by role", why))
    else:
        parts = [f"{_role_plural(r)} ({fmt_hours_1(h)})" for r, h in firsts]
        out.append(
            Sentence(
                "First to address {who} after the crisis began: {order}.",
                {"who": focal, "order": ", then ".join(parts)},
                (),
            )
        )

    # 8. persistence
    pa = _get(metrics, "persistence", _FOCAL, "attention_ratio")
    pn = _get(metrics, "persistence", _FOCAL, "net_support_change", "account_level")
    if _is_nm(pa) or pa is None:
        nm.append((f"Persistence of attention to {focal}", _reason(pa)))
    else:
        values = {
            "who": focal,
            "x": fmt_ratio(pa["value"]),
            "conf": conf,
            "ci": _ci(pa, fmt_ratio),
            "boot": _boot_ci(pa),
            "od": _od_clause(pa),
        }
        text = (
            "After the crisis, attention to {who} stood at {x} its level before "
            "({conf} CI {ci}{boot}{od})"
        )
        if not _is_nm(pn) and pn is not None:
            text += " and net support at {n} " + points_noun(pn["value"])
            text += " compared with the period before ({conf} CI {nci}"
            text += corrected_persistence(metrics, _FOCAL) + ")"
            values.update({"n": fmt_points(pn["value"]), "nci": _ci(pn, fmt_points)})
        text += "."
        if "n" in values and _grid_clause(metrics, "persistence_attention"):
            # the grid re-runs attention after the crisis, not net support: say which it tests
            if not _grid_clause(metrics, "persistence_net_support"):
                text += " The sensitivity grid does not re-run net support after the crisis."
            text += _grid_text(values, metrics, "persistence_attention", "Attention's direction")
        else:
            text += _grid_text(values, metrics, "persistence_attention")
        out.append(Sentence(text, values, ("x",)))
    return Findings(without_text_relabelled(metrics, out), nm)


def evenness_text(br: Mapping[str, Any]) -> str:
    """ "evenness 0.72 over the 18 communities with any supporter, on a 0–1 scale": the
    normalised entropy is taken over every community holding a supporter, not only those with
    at least k (METHODS.md, "Breadth").

    Examples
    --------
    >>> evenness_text({"normalised_entropy": 0.722775, "communities_with_supporters": 18})
    'evenness 0.72 over the 18 communities with any supporter, on a 0–1 scale'
    >>> evenness_text({"normalised_entropy": 0.0, "communities_with_supporters": 1})
    'every supporter in one community, so no evenness'
    >>> evenness_text({"normalised_entropy": 0.5})
    'evenness 0.50 on a 0–1 scale'
    """
    c = br.get("communities_with_supporters")
    even = f"evenness {float(br['normalised_entropy']):.2f}"
    if c is None:  # (a metrics.json from before the count was written)
        return even + " on a 0–1 scale"
    if int(c) == 0:
        return "no supporter in any community, so no evenness"
    if int(c) == 1:
        return "every supporter in one community, so no evenness"
    return f"{even} over the {fmt_count(c)} communities with any supporter, on a 0–1 scale"


def _undated_subject(undated: int, ties: int) -> str:
    """The subject and verb of the undated-follow clause, agreeing with the counts.

    Examples
    --------
    >>> _undated_subject(37, 89), _undated_subject(1, 2), _undated_subject(1, 1)
    (' {undated} of these {ties} rest', ' {undated} of these {ties} rests', ' The one tie rests')
    """
    if ties == 1:  # (then undated is 1 too: "1 of these 1" says nothing)
        return " The one tie rests"
    return " {undated} of these {ties} " + ("rests" if undated == 1 else "rest")


def _corrected_ties(metrics: Mapping[str, Any], name: str, conf: str) -> str:
    from .evidence_report import corrected_ties

    return corrected_ties(metrics, name, conf)


def _evidence_tie_contrast(metrics: Mapping[str, Any], focal: str, conf: str) -> list[Sentence]:
    from .evidence_report import tie_contrast

    return tie_contrast(metrics, focal, conf)


def _role_timing_sentence(metrics: Mapping[str, Any], focal: str) -> Sentence | None:
    from . import report_evidence

    return report_evidence.role_timing_sentence(metrics, focal)


def _grid_clause(metrics: Mapping[str, Any], key: str, side: str = _FOCAL, **kw: Any) -> str:
    """ " " + the sentence on a measure's sensitivity over the grid (report_evidence), or ""."""
    from . import report_evidence

    if key == "breadth":
        text = report_evidence.breadth_clause(metrics, **kw)
    else:
        text = report_evidence.grid_clause(metrics, key, side, **kw)
    return " " + text if text else ""


def _grid_text(
    values: dict[str, Any],
    metrics: Mapping[str, Any],
    key: str,
    subject: str = "The direction",
    side: str = _FOCAL,
    suffix: str = "",
) -> str:
    """Put the grid sentence of ``key`` in ``values`` and return its placeholder (``suffix``:
    a clause added before its full stop)."""
    name = f"grid_{key}_{side}"
    clause = _grid_clause(metrics, key, side, subject=subject)
    values[name] = clause[:-1] + suffix + "." if clause and suffix else clause
    return "{" + name + "}"


def _primary_corrected(metrics: Mapping[str, Any], key: str, side: str) -> Mapping[str, Any] | None:
    """Return the declared primary result of ``key`` for ``side`` when it is error-corrected
    (it carries the uncorrected figure as ``naive``), else None."""
    p = metrics.get("primary")
    if not isinstance(p, Mapping):
        return None
    for r in p.get("measures") or ():
        res = r.get("result")
        if (
            r.get("measure") == key
            and (r.get("side") or _FOCAL) == side
            and isinstance(res, Mapping)
            and not _is_nm(res)
            and "naive" in res
            and res.get("value") is not None
        ):
            return res
    return None


def _primary_note(net: Mapping[str, Any] | None, change: Mapping[str, Any] | None) -> str:
    """ "; the primary figure ... is the error-corrected one, +N" for a finding that gives the
    uncorrected figure of a declared primary measure that the hand codes corrected.

    Examples
    --------
    >>> _primary_note(None, {"value": 0.11, "naive": 0.19})
    '; the primary figure of the change is the error-corrected one, +11'
    >>> _primary_note({"value": 0.43, "naive": 0.56}, None)
    '; the primary figure of net support is the error-corrected one, +43'
    """
    parts = [
        f"the primary figure of {what} is the error-corrected one, {fmt_points(r['value'])}"
        for what, r in (("net support", net), ("the change", change))
        if r is not None
    ]
    return "; " + "; ".join(parts) if parts else ""


def _rerun(primary: Mapping[str, Any] | None) -> str:
    """ "; the grid re-runs the uncorrected figure, ..." when the measure's primary figure is
    error-corrected: the sensitivity grid recomputes only the figure as the stance decided it."""
    if primary is None:
        return ""
    return (
        "; the grid re-runs the uncorrected figure, not the primary error-corrected "
        + fmt_points(primary["value"])
    )


def _most_supporters(mob: Any) -> Mapping[str, Any] | None:
    """Return the community that gave the most crisis supporters (ties: the larger, lower id)."""
    if _is_nm(mob) or not mob:
        return None
    rows = [r for r in mob.get("communities", []) if int(r.get("supporters", 0)) > 0]
    if not rows:
        return None
    return sorted(rows, key=lambda r: (-int(r["supporters"]), int(r["community"])))[0]


def _first_mention_hours(roles: Any) -> list[tuple[str, float]]:
    if _is_nm(roles) or not isinstance(roles, Mapping):
        return []
    out = []
    for r in Role:
        entry = roles.get(r.value)
        fm = entry.get("first_mention") if isinstance(entry, Mapping) else None
        if fm is None or _is_nm(fm) or r is Role.UNKNOWN:
            continue
        out.append((r.value, float(fm["hours_after_crisis_start"])))
    return sorted(out, key=lambda t: (t[1], t[0]))


def _role_plural(role: str) -> str:
    return {
        Role.MEDIA.value: "media accounts",
        Role.JOURNALIST.value: "journalists",
        Role.PROFESSIONAL.value: "professionals",
        Role.INSTITUTION.value: "institutions",
        Role.CITIZEN.value: "citizens",
    }.get(role, f"{role} accounts")
