"""The report's "How good is the stance?" section and its warning boxes.

Reads metrics.json's ``stance_model``, ``stance_validation`` and ``stance_warnings`` (see
:mod:`netsupport.support.corrected`) and gives the partial templates ``stance_quality`` and
``stance_warnings`` what they show: how stance was decided, the number of hand codes, the
cross-validated figures, a confusion-matrix figure and naive vs error-corrected shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import charts
from .report_format import (
    Sentence,
    fmt_count,
    fmt_counted,
    fmt_pct,
    handle,
    handles,
    points_noun,
)
from .schema import Stance

__all__ = [
    "CONFUSION_CHART",
    "add_stance_chart",
    "corrected_findings",
    "corrected_persistence",
    "headline_label",
    "rule_counts_sentence",
    "several_posts",
    "several_posts_windows",
    "stance_context",
    "uncorrected_note",
    "without_text_relabelled",
]

#: Key (file stem) of the confusion-matrix chart; the evidence section does not list it.
CONFUSION_CHART = "stance_confusion"
_SIDE_LABEL = {"focal": "focal", "institution": "institution"}
_WINDOW_LABEL = {"baseline": "Before", "crisis": "Crisis", "after": "After"}


def _in_order(d: dict[str, Any], order: Iterable[str]) -> list[tuple[str, Any]]:
    """Return ``d``'s items with the keys of ``order`` first, in that order, then the rest as given.

    metrics.json is written with sorted keys, so a report built from it (``netsupport report
    --study``) would otherwise list stances and windows alphabetically, unlike ``netsupport run``.

    Examples
    --------
    >>> _in_order({"after": 1, "baseline": 2, "other": 3}, ("baseline", "crisis", "after"))
    [('baseline', 2), ('after', 1), ('other', 3)]
    """
    order = list(order)
    first = [(k, d[k]) for k in order if k in d]
    return first + [(k, x) for k, x in d.items() if k not in order]


def _measured(x: Any) -> bool:
    return isinstance(x, Mapping) and x.get("status") != "not measured"


def _sentence(text: Any) -> str:
    """``text`` with a capital first letter ("" for none)."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * float(x):.0f}%"


def _pts(x: Any) -> str:
    if x is None:
        return "n/a"
    r = round(float(x) * 100)
    return "0" if r == 0 else (f"−{-r}" if r < 0 else f"+{r}")


def _two(x: Any) -> str:
    return "undefined" if x is None else f"{float(x):.2f}"


def headline_label(metrics: Mapping[str, Any], key: str, label: str) -> str:
    """Return the headline label of a stance measure saying what it is: error-corrected with
    the hand codes, or (most posts without text) reposted minus critical, not net support."""
    if key not in ("net_support_crisis", "reputational_change", "persistence_net_support"):
        return label
    kinds = {w.get("kind") for w in metrics.get("stance_warnings") or ()}
    if "no_text" in kinds:
        label = label.replace("net support", "reposted minus critical share (not net support)")
        label = label.replace("Net support", "Reposted minus critical share (not net support)")
    side = (metrics.get("headline") or {}).get(key) or {}
    if any(isinstance(v, Mapping) and "naive" in v for v in side.values()):
        label += ", error-corrected"
    return label


def without_text_relabelled(metrics: Mapping[str, Any], sentences: list[Any]) -> list[Any]:
    """Return the findings with "net support" called what it is when most posts carry no text
    of their own: the share who reposted (supportive) minus a critical share that cannot occur."""
    from dataclasses import replace

    kinds = {w.get("kind") for w in metrics.get("stance_warnings") or ()}
    if "no_text" not in kinds:
        return sentences
    return [
        replace(
            s,
            template=s.template.replace(
                "net support", "reposted-minus-critical share (not net support: no text)"
            ).replace("Net support", "The reposted-minus-critical share (not net support)"),
        )
        for s in sentences
    ]


def _rectifier_base(net: Mapping[str, Any]) -> str:
    """ "; the error measured on the N of M accounts ..." for an account-level corrected net
    support whose row says how many accounts were wholly coded ("" when it does not)."""
    if net.get("coded_accounts") is None or net.get("accounts") is None:
        return ""
    k, one = int(net["coded_accounts"]), int(net.get("coded_accounts_one_post") or 0)
    if _drawn_by_account(net):
        return (
            f"; the error measured on the {k:,} of {_accounts(net['accounts'])} drawn for "
            f"coding by account, every post of each coded{_disagree(net)}"
        )
    drawn = int(net.get("coded_accounts_drawn") or 0)
    how = (
        "" if k == 0 else ", each with one post" if one == k else f", {one:,} of them with one post"
    )
    how += f", {drawn:,} of them drawn by account" if drawn else ""
    return (
        f"; the error measured on the {k:,} of {_accounts(net['accounts'])} whose posts "
        f"were all coded{how}{_disagree(net)}"
    )


def _one_out(row: Mapping[str, Any], which: str) -> str:
    """ "; leaving {which} out moves it to +N" (or "between +M and +N" when the accounts left
    out one at a time move it to figures that differ as shown: review t8 M3) for an
    account-level corrected figure resting on few disagreeing wholly coded accounts (its
    ``leave_one_out``; METHODS.md, "Error-corrected shares"), else ""."""
    loo = row.get("leave_one_out")
    if not isinstance(loo, Mapping) or loo.get("value") is None:
        return ""
    if int(loo.get("accounts") or 0) == 1:
        which = "it" if which == "one of them" else "the one disagreeing account"
    lo, hi = loo.get("smallest"), loo.get("largest")
    if lo is not None and hi is not None and _pts(lo) != _pts(hi):
        return f"; leaving {which} out moves it between {_pts(lo)} and {_pts(hi)}"
    return f"; leaving {which} out moves it to {_pts(loo['value'])}"


def _post_change(v: Mapping[str, Any], side: str, change: str) -> str:
    """ "; at post level, where every code enters, +N (95% CI ...)": the same change counted
    over posts (review t7 M2), "" when it is not corrected."""
    r = next(
        (
            r
            for r in v.get("changes") or ()
            if r["target_side"] == side and r["change"] == change and r["unit"] == "post"
        ),
        None,
    )
    if r is None or r.get("corrected") is None or r.get("ci_low") is None:
        return ""
    return (
        f"; at post level, where every code enters, {_pts(r['corrected'])}, 95% CI "
        f"{_pts(r['ci_low'])} to {_pts(r['ci_high'])}"
    )


def _disagree(net: Mapping[str, Any]) -> str:
    """ ": the decisions and the codes disagree on N of them" (what moves the account-level
    correction; "" when the row does not say)."""
    n = net.get("coded_accounts_disagree")
    if n is None or not net.get("coded_accounts"):
        return ""
    if int(n) == 0:
        return ": the decisions and the codes agree on every one of them"
    return f": the decisions and the codes disagree on {int(n):,} of them"


def _accounts(n: Any) -> str:
    return fmt_counted(int(n), "account", "accounts")


def _drawn_by_account(net: Mapping[str, Any]) -> bool:
    """Whether every account the account-level rectifier rests on was drawn whole by a coding
    sheet ``--sample-by account`` (then accounts of several posts enter it by design)."""
    k = int(net.get("coded_accounts") or 0)
    return k > 0 and int(net.get("coded_accounts_drawn") or 0) == k


#: The coverage of the account-level error-corrected 95% intervals in the simulation with several
#: posts per account (bench/stance_simulation.py --posts several: 2,000 accounts of 1 +
#: Poisson(1.2) posts, seeds 0-999; bench/RESULTS.md, METHODS.md "Error-corrected shares"):
#: net support, and the critical share (the worst).
MULTI_POST_COVERAGE = ("91%", "69%")
#: The same simulation's coverage when the coding sheet draws accounts, every post of each coded
#: (``netsupport stance --sample 136 --sample-by account``, design multi-account, seeds 0-999:
#: 93.7% and 94.7%; bench/RESULTS.md): net support, and the critical share.
ACCOUNT_DRAW_COVERAGE = ("94%", "95%")


def _several_posts(nets: Mapping[str, Mapping[str, Any]], who: Mapping[str, str]) -> str:
    """ "N of M for @a, ..." for the sides whose accounts posted more than once in the cell
    ("" when none did, or the rows do not say); a side whose coded accounts were all drawn by
    account is left out: its correction does not rest on accounts of one post."""
    out = []
    for side, net in nets.items():
        n, one = net.get("accounts"), net.get("accounts_one_post")
        if n is None or one is None or int(n) - int(one) <= 0 or _drawn_by_account(net):
            continue
        out.append(f"{int(n) - int(one):,} of {int(n):,} for {who[side]}")
    return ", ".join(out)


def _get_design(v: Mapping[str, Any]) -> Mapping[str, Any]:
    design = v.get("design")
    return design if isinstance(design, Mapping) else {}


def _codes(n: Any) -> str:
    """ "1 hand code", "1,234 hand codes"."""
    return fmt_counted(int(n), "hand code", "hand codes")


def corrected_findings(metrics: Mapping[str, Any]) -> list[Any]:
    """Return the finding that gives net support in the crisis, and its change on the period
    before, corrected for the stance decisions' measured error (none without hand codes)."""
    v = metrics.get("stance_validation")
    if not _measured(v):
        return []
    st = metrics.get("study", {})
    parts, values = [], {"n": _codes(v["labels"])}
    nets, befores, afters, whos = {}, {}, {}, {}
    for side, who in (("focal", st.get("focal", [])), ("institution", st.get("institution", []))):
        net = _account_row(v, side, "crisis")
        if not who or net is None or net.get("corrected") is None:
            continue
        chg = _change_row(v, side, "crisis - baseline")
        text = (
            f"{{net_{side}}} {points_noun(net['corrected'])} for {{who_{side}}} "
            f"(95% CI {{ci_{side}}}{{base_{side}}})"
        )
        values[f"base_{side}"] = _rectifier_base(net) + _one_out(net, "one of them")
        nets[side], whos[side] = net, handles(who)
        values.update(
            {
                f"who_{side}": handles(who),
                f"net_{side}": _pts(net["corrected"]),
                f"ci_{side}": f"{_pts(net['ci_low'])} to {_pts(net['ci_high'])}",
            }
        )
        if chg is not None:
            text += (
                f", {{chg_{side}}} compared with the period before (95% CI {{cci_{side}}}"
                f"{{chg_more_{side}}})"
            )
            values[f"chg_more_{side}"] = _one_out(
                chg, "one disagreeing account of either period"
            ) + _post_change(v, side, "crisis - baseline")
            before = _account_row(v, side, "baseline")
            if before is not None:  # the change rests on the period before's accounts too
                befores[side] = before
            values[f"chg_{side}"] = _pts(chg["corrected"])
            values[f"cci_{side}"] = f"{_pts(chg['ci_low'])} to {_pts(chg['ci_high'])}"
        if _change_row(v, side, "after - baseline") is not None:  # the last finding gives it
            after, before = _account_row(v, side, "after"), _account_row(v, side, "baseline")
            if after is not None:
                afters[side] = after
            if before is not None:
                befores[side] = before
        parts.append(text)
    if not parts:
        return []
    text = (
        "Corrected for the stance decisions' measured error ({n}; intervals "
        "include that error), net support in the crisis is " + "; ".join(parts) + "."
    )
    skipped = int(_get_design(v).get("drawn_accounts_not_wholly_coded") or 0)
    if skipped:  # item non-response in a sheet drawn by account
        text += (
            " {skipped} drawn for coding by account came back with a post left uncoded: "
            f"{'it is' if skipped == 1 else 'they are'} left out of the account-level "
            "correction of a window where not all of "
            f"{'its' if skipped == 1 else 'their'} posts were coded; if coders skipped posts of "
            "one stance more than another, that biases it."
        )
        values["skipped"] = fmt_counted(skipped, "account", "accounts")
    several = {
        "crisis": _several_posts(nets, whos),
        "baseline": _several_posts(befores, whos),
        "after": _several_posts(afters, whos),
    }
    if any(several.values()):  # (the coverage falls short when accounts post several times)
        text += (
            " Some accounts posted more than once "
            + _several_where(
                bool(several["crisis"]),
                bool(several["baseline"]),
                "({several})",
                "({before})",
                bool(several["after"]),
                "({after})",
            )
            + ": then the "
            "account-level correction is unstable (only accounts whose every post was coded "
            "enter it) and its intervals are too narrow: in a simulation with about two posts "
            "per account "
            "they covered the true net support in {coverage} of cases and the true critical "
            "share in {coverage_critical}, not 95% (METHODS.md, "
            '"Error-corrected shares"). A coding sheet drawn by account (netsupport stance '
            "--sample N --sample-by account) codes every post of each account it draws; in the "
            "same simulation its intervals covered the true net support in {coverage_drawn} "
            "of cases and the true critical share in {coverage_drawn_critical}."
        )
        values.update(
            {
                **({"several": several["crisis"]} if several["crisis"] else {}),
                **({"before": several["baseline"]} if several["baseline"] else {}),
                **({"after": several["after"]} if several["after"] else {}),
                "coverage": MULTI_POST_COVERAGE[0],
                "coverage_critical": MULTI_POST_COVERAGE[1],
                "coverage_drawn": ACCOUNT_DRAW_COVERAGE[0],
                "coverage_drawn_critical": ACCOUNT_DRAW_COVERAGE[1],
            }
        )
    return [Sentence(text, values, tuple(k for k in values if k.startswith("net_")))]


#: The windows each error-corrected headline measure reads (its caveat: accounts of several
#: posts in any of them make its account-level interval too narrow).
CORRECTED_WINDOWS = {
    "net_support_crisis": ("crisis",),
    "reputational_change": ("crisis", "baseline"),
    "persistence_net_support": ("after", "baseline"),
}


def several_posts_windows(metrics: Mapping[str, Any]) -> frozenset[str]:
    """Return the windows ("crisis", "baseline", "after") in which the error-corrected finding
    says accounts posted more than once, so that the account-level intervals of the corrected
    figures that read them are too narrow (empty when none, or nothing is corrected)."""
    found = corrected_findings(metrics)
    if not found:
        return frozenset()
    values = found[0].values
    keys = {"several": "crisis", "before": "baseline", "after": "after"}
    return frozenset(w for k, w in keys.items() if k in values)


def several_posts(
    metrics: Mapping[str, Any], windows: Iterable[str] = ("crisis", "baseline")
) -> str:
    """Return where the error-corrected finding says accounts posted more than once, among
    ``windows`` (by default those of the change crisis - baseline: the crisis level rests on the
    crisis window's accounts, the change on the period before's too), so that the account-level
    intervals are too narrow ("in the crisis", "in the period before the crisis", ...), else "".
    """
    on = several_posts_windows(metrics) & set(windows)
    return _several_where("crisis" in on, "baseline" in on, after="after" in on)


def _change_row(v: Mapping[str, Any], side: str, change: str) -> Mapping[str, Any] | None:
    """The account-level error-corrected change row of ``side`` (``change``: "crisis -
    baseline" or "after - baseline"), if the hand codes corrected it."""
    return next(
        (
            r
            for r in v.get("changes") or ()
            if r["target_side"] == side
            and r["change"] == change
            and r["unit"] == "account"
            and r.get("corrected") is not None
        ),
        None,
    )


def _account_row(v: Mapping[str, Any], side: str, window: str) -> Mapping[str, Any] | None:
    """The account-level error-corrected net support row of ``side`` in ``window``, if any."""
    return next(
        (
            r
            for r in v.get("net_support") or ()
            if r["target_side"] == side and r["window"] == window and r["unit"] == "account"
        ),
        None,
    )


def _several_where(
    crisis: bool,
    before: bool,
    in_crisis: str = "",
    in_before: str = "",
    after: bool = False,
    in_after: str = "",
) -> str:
    """ "in the crisis", "in the period before the crisis", "in the period after the crisis",
    or a list of them ("in the crisis, in the period before and in the period after"), each
    followed by its ``in_*`` detail (e.g. "(N of M for @a)"); "" for none.

    >>> _several_where(True, True, "(3 of 9 for @a)", "(1 of 4 for @a)")
    'in the crisis (3 of 9 for @a) and in the period before (1 of 4 for @a)'
    >>> _several_where(False, True)
    'in the period before the crisis'
    >>> _several_where(True, True, after=True)
    'in the crisis, in the period before and in the period after'
    >>> _several_where(False, False, after=True, in_after="(2 of 5 for @a)")
    'in the period after the crisis (2 of 5 for @a)'
    """
    on = [
        (where, detail)
        for where, detail, shown in (
            ("in the crisis", in_crisis, crisis),
            ("in the period before", in_before, before),
            ("in the period after", in_after, after),
        )
        if shown
    ]
    if len(on) == 1:  # alone, a period says which crisis it is before or after
        where, detail = on[0]
        where += "" if where == "in the crisis" else " the crisis"
        return f"{where} {detail}".strip()
    texts = [f"{where} {detail}".strip() for where, detail in on]
    return ", ".join(texts[:-1]) + " and " + texts[-1] if texts else ""


def uncorrected_note(metrics: Mapping[str, Any], where: str) -> str:
    """Return "; uncorrected: ..." for a finding that counts the stance decisions as made, when
    the report also gives it corrected for the decisions' measured error ("" otherwise).

    Its intervals resample accounts only: they leave out the decisions' error, which the
    corrected figures (:func:`corrected_findings`) include; ``where`` says where those are.
    """
    if not corrected_findings(metrics):
        return ""
    return f"; uncorrected: the intervals leave out the stance decisions' error ({where})"


def corrected_persistence(metrics: Mapping[str, Any], side: str) -> str:
    """Return "; corrected for ...: +N (95% CI ...)" for the change in net support after the
    crisis on the period before, when the hand codes corrected it ("" otherwise)."""
    if not corrected_findings(metrics):
        return ""
    x = (metrics.get("headline") or {}).get("persistence_net_support", {}).get(side)
    if not _measured(x) or x is None or "naive" not in x or x.get("value") is None:
        return ""
    narrow = several_posts_windows(metrics) & set(CORRECTED_WINDOWS["persistence_net_support"])
    return (
        f"; uncorrected; corrected for the stance decisions' error: {_pts(x['value'])}, 95% CI "
        f"{_pts(x['low'])} to {_pts(x['high'])}"
        + (
            ", an interval too narrow: some accounts posted more than once "
            + several_posts(metrics, CORRECTED_WINDOWS["persistence_net_support"])
            + ", as the error-corrected finding says"
            if narrow
            else ""
        )
    )


def add_stance_chart(metrics: Mapping[str, Any], add: Callable[..., None]) -> None:
    """Draw the cross-validated confusion matrix with the report's ``add(key, fig, title,
    caption, alt)`` when the stance was validated against hand codes."""
    v = metrics.get("stance_validation")
    if not _measured(v) or not v.get("cross_validated"):
        return
    cv = v["cross_validated"]
    conf = cv["confusion"]
    n = int(sum(sum(r) for r in conf["matrix"]))
    fig = charts.confusion_matrix_chart(
        conf["matrix"],
        conf["labels"],
        subtitle=f"{_codes(n)}; each decided by a model that did not see it.",
    )
    add(
        CONFUSION_CHART,
        fig,
        "Hand codes against the stance decisions (cross-validated)",
        Sentence(
            "Rows: the hand code; columns: netsupport's decision for the same post, made "
            "without that code (cross-validation). Each cell gives the codes and their share "
            "of the row, as coded (unweighted): the diagonal holds each stance's recall among "
            "the codes. Weighted to the data, as in the table above, accuracy is {acc} and "
            "macro-F1 {f1}; a recall there can differ from the diagonal's.",
            {"acc": _pct(cv["accuracy"]), "f1": _two(cv["macro_f1"])},
        ),
        "Confusion matrix of hand codes (rows) against cross-validated stance decisions "
        "(columns) for supportive, critical and neutral.",
    )


def _how(model: Mapping[str, Any] | None) -> str:
    if not model:
        return "The stance rules decided every post."
    if model.get("status") == "model":
        return (
            f"A stance model trained on this study's {_codes(model['labels'])} "
            f"({model['layout']}; {model['features']}; {model['classifier']}) decided every "
            "post that was not hand-coded; hand-coded posts keep their code."
        )
    return f"The stance rules decided every post that was not hand-coded: {model.get('reason')}."


def _rule_meanings() -> dict[str, str]:
    """Return what each rule family of ``stance.by_rule`` means, briefly (METHODS.md, "Stance").

    Built on call: the report imports the stance package only when it shows its rules.
    """
    from .stance import rules as r
    from .stance.model import RULE_MODEL

    return {
        r.RULE_LABEL: "a hand label",
        RULE_MODEL: "the stance model trained on the hand labels",
        r.RULE_REPOST: "a repost of the account's post (support)",
        r.RULE_LIKE: "a like of the account's post (support)",
        r.RULE_LIKE_UNTIMED: "a like with no time (support, in no window)",
        r.RULE_LEXICON: "a phrase of the study's lexicon",
        r.RULE_MARKER: "a marker hashtag",
        r.RULE_SYMPATHY: "a phrase of sympathy (support)",
        r.RULE_VICTIM: "the account as the victim of what the post criticises (support)",
        r.RULE_TWO_TARGET: "a critique of the institution (support for the focal account)",
        r.RULE_ELSEWHERE: "VADER on the words left when every phrase aims at another account",
        r.RULE_NEUTRAL: "reporting language (neutral)",
        r.RULE_QUESTION: "a question without a stance phrase (neutral)",
        r.RULE_EVENT: "news of an event (neutral)",
        r.RULE_VADER: "VADER's sentiment of the text",
        r.RULE_NO_TEXT: "no text (neutral)",
    }


def _share(k: int, n: int) -> str:
    """Return ``k / n`` as a whole percentage, "<1%" for a share that would round to 0."""
    v = k / n
    return "<1%" if 0 < v < 0.005 else fmt_pct(v)


def rule_counts_sentence(metrics: Mapping[str, Any], sides: Sequence[str]) -> Sentence | None:
    """Return the sentence saying which rules decided the stance of how many interaction rows,
    and what each rule means, or None when ``stance.by_rule`` is empty.

    ``stance.by_rule`` counts the rows of the stance table: the interaction rows (replies,
    mentions, quotes, reposts, likes, posts carrying a study marker) with an account of
    ``sides`` (the focal and institution handles), one per row, whatever its window. A post
    that both replies to and mentions an account is two rows and one post addressing it (one
    unit, ``stance.units``; one hand code), so the rows a hand label decided can outnumber the
    codes (``stance.agreement.labels_matched.matched``): the sentence gives both (review t5
    #15: "label 447" beside "420 hand codes").

    Examples
    --------
    >>> s = rule_counts_sentence({"stance": {"by_rule": {"label": 1, "model": 3}}}, ["a", "b"])
    >>> print(s.text())
    Rules that decided the stance of the 4 interaction rows with @a or @b: label 1 (25%), model
    3 (75%). Label: a hand label; model: the stance model trained on the hand labels.
    >>> m = {"stance": {"by_rule": {"label": 3, "model": 3}, "units": 5,
    ...     "agreement": {"labels_matched": {"matched": 2}}}}
    >>> print(rule_counts_sentence(m, ["a"]).text())
    Rules that decided the stance of the 6 interaction rows with @a (5 posts addressing it; a
    post that replies to and mentions an account is one post and two rows): label 3 rows (50%; 2
    of those posts hand-coded), model 3 (50%). Label: a hand label; model: the stance model
    trained on the hand labels.
    """
    by_rule = (metrics.get("stance") or {}).get("by_rule") or {}
    counts = sorted((str(k), int(n)) for k, n in by_rule.items() if int(n) > 0)
    total = sum(n for _, n in counts)
    if not total:
        return None
    shown = [handle(h) for h in sides]
    who = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else "".join(shown)
    values: dict[str, Any] = {
        "n": fmt_counted(total, "interaction row", "interaction rows"),
        "who": who,
    }
    stance = metrics.get("stance") or {}
    units = stance.get("units")
    coded = ((stance.get("agreement") or {}).get("labels_matched") or {}).get("matched")
    units_text = ""
    if isinstance(units, int) and units > 0:
        values["units"] = fmt_counted(units, "post", "posts")
        values["it"] = "it" if len(shown) == 1 else "either"
        units_text = (
            " ({units} addressing {it}; a post that replies to and mentions an account is one "
            "post and two rows)"
        )
    parts = []
    for i, (rule, n) in enumerate(counts):
        if rule == "label" and isinstance(coded, int) and coded > 0 and units_text:
            parts.append(f"{{r{i}}} {{c{i}}} rows ({{p{i}}}; {{coded}} of those posts hand-coded)")
            values["coded"] = fmt_count(coded)
        else:
            parts.append(f"{{r{i}}} {{c{i}}} ({{p{i}}})")
        values.update({f"r{i}": rule, f"c{i}": fmt_count(n), f"p{i}": _share(n, total)})
    meanings = _rule_meanings()
    glossary = []
    for i, (rule, _) in enumerate(c for c in counts if c[0] in meanings):
        name = rule[:1].upper() + rule[1:] if i == 0 else rule
        glossary.append(f"{{g{i}}}: {{m{i}}}")
        values.update({f"g{i}": name, f"m{i}": meanings[rule]})
    text = "Rules that decided the stance of the {n} with {who}" + units_text + ": "
    text += ", ".join(parts)
    text += "." + (" " + "; ".join(glossary) + "." if glossary else "")
    return Sentence(text, values)


def stance_context(
    metrics: Mapping[str, Any],
    charts_: Any,
    names: Mapping[str, str] | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Return the ``stance_quality`` and ``stance_warnings`` entries of the template context
    (``names``: how to show each side, e.g. ``{"focal": "@inspector_lane"}``; ``synthetic``:
    the study declares its data generated, ``[provenance] synthetic``)."""
    names = dict(names or {})
    model = metrics.get("stance_model")
    v = metrics.get("stance_validation")
    warnings = [w["text"] for w in metrics.get("stance_warnings") or ()]
    chart = next((c for c in charts_ if c.key == CONFUSION_CHART), None)
    q: dict[str, Any] = {
        "how": _how(model),
        "validated": _measured(v),
        "reason": "" if _measured(v) else str((v or {}).get("reason", "no hand codes")),
        # advice to code a sample, unless hand codes matched (stance_model says whether they
        # estimate: the Dask engine's, which does not measure the error, then says why not)
        "advise": not _measured(v) and "validated" not in (model or {}),
        # why the shares are not corrected (the Dask engine's), as a sentence
        "shares_status": _sentence((v or {}).get("shares_status")) if _measured(v) else "",
        "chart": chart,
        "codes": 0,
        "cv": None,
        "per_class": [],
        "by_window": [],
        "rows": [],
        "design": "",
        "coders": "",
    }
    if _measured(v):
        q["codes"] = f"{int(v['labels']):,}"
        q["design"] = design_text(int(v["labels"]), v.get("design") or {})
        q["coders"] = coders_text(metrics, synthetic)
        cv = v.get("cross_validated")
        if cv:
            q["cv"] = {
                "accuracy": _pct(cv["accuracy"]),
                "macro_f1": _two(cv["macro_f1"]),
                "kappa": _two(cv["kappa"]),
                "how": v.get("cross_validation", ""),
            }
            q["per_class"] = [
                (
                    s.capitalize(),
                    f"{int(pc['codes']):,}",
                    _two(pc["precision"]),
                    _two(pc["recall"]),
                    _two(pc["f1"]),
                )
                for s, pc in _in_order(cv["per_class"], (str(x) for x in Stance))
            ]
        for w, b in _in_order(v.get("cross_validated_by_window") or {}, _WINDOW_LABEL):
            if _measured(b):
                q["by_window"].append(
                    (
                        _WINDOW_LABEL.get(w, w),
                        f"{int(b['codes']):,}",
                        _pct(b["accuracy"]),
                        _two(b["macro_f1"]),
                        _two(b["kappa"]),
                    )
                )
            else:
                q["by_window"].append((_WINDOW_LABEL.get(w, w), b.get("reason", ""), "", "", ""))
        nets = {(r["unit"], r["target_side"], r["window"]): r for r in v.get("net_support") or ()}
        shares = {
            (r["unit"], r["target_side"], r["window"], r["stance"]): r
            for r in v.get("shares") or ()
        }
        for r in v.get("shares") or ():
            if r["unit"] != "account" or r["stance"] == "neutral":
                continue
            post = shares.get(("post", r["target_side"], r["window"], r["stance"]))
            q["rows"].append(_share_row(r, r["stance"].capitalize(), _pct, names, post))
            if r["stance"] == "critical" and ("account", r["target_side"], r["window"]) in nets:
                net = nets[("account", r["target_side"], r["window"])]
                post = nets.get(("post", r["target_side"], r["window"]))
                q["rows"].append(_share_row(net, "Net support", _pts, names, post))
        changes = {(r["unit"], r["target_side"], r["change"]): r for r in v.get("changes") or ()}
        for r in v.get("changes") or ():
            if r["unit"] == "account":
                post = changes.get(("post", r["target_side"], r["change"]))
                q["rows"].append(
                    _share_row(
                        {**r, "window": r["change"]},
                        "Change in net support",
                        _pts,
                        names,
                        None if post is None else {**post, "window": post["change"]},
                    )
                )
    return {"stance_quality": q, "stance_warnings": warnings}


def coders_text(metrics: Mapping[str, Any], synthetic: bool = False) -> str:
    """Say how far the coders agreed, after the hand codes' design: Krippendorff's alpha when
    the labels file has two or more coder columns (``stance.agreement.coders``,
    :func:`netsupport.stance.labels.coder_agreement`), else that it was not measured; with one
    coder on a synthetic study, that the codes came with the data.

    Examples
    --------
    >>> coders_text({"stance": {"agreement": {"n": 420}}})
    'coder agreement: not measured (one coder)'
    >>> a = {"alpha": 0.8123, "coders": ["ann", "bo"], "items": 120, "disagreements": [1, 2]}
    >>> coders_text({"stance": {"agreement": {"coders": a}}})
    "coder agreement: Krippendorff's alpha 0.81 (coders ann, bo, on 120 codes by two or more)"
    """
    c = ((metrics.get("stance") or {}).get("agreement") or {}).get("coders")
    if isinstance(c, Mapping) and c.get("coders"):
        alpha = "undefined" if c.get("alpha") is None else f"{float(c['alpha']):.2f}"
        return (
            f"coder agreement: Krippendorff's alpha {alpha} (coders "
            f"{', '.join(str(x) for x in c['coders'])}, on "
            f"{fmt_counted(int(c.get('items') or 0), 'code', 'codes')} by two or more)"
        )
    text = "coder agreement: not measured (one coder)"
    if synthetic:
        text += ". The codes come with the synthetic data, not from independent coders"
    return text


def design_text(labels: int, d: Mapping[str, Any]) -> str:
    """What the hand codes are used for, after "N hand codes; " (``d``: the validation's
    ``design``): the codes drawn by the sampling design measure the decisions' error and
    correct the shares, weighted by 1 / inclusion probability; actively chosen codes only train.

    Examples
    --------
    >>> print(design_text(420, {"estimation_codes": 420, "inclusion_probabilities": True}))
    all 420 measure the stance decisions' error and correct the shares, each weighted by 1 / its
    inclusion probability (given in the labels file)
    >>> print(design_text(50, {"estimation_codes": 40, "active_codes": 10}))
    40 of them, drawn at random, measure the stance decisions' error and correct the shares, and
    10 actively chosen codes only train the model; the random ones are each weighted by 1 / its
    inclusion probability (none given: treated as a simple random sample)
    """
    est, act = int(d.get("estimation_codes", 0)), int(d.get("active_codes") or 0)
    if est == labels and labels > 1:
        text = f"all {fmt_count(est)} measure"
    elif est == 1:
        text = "the one code measures" if labels == 1 else "1 of them, drawn at random, measures"
    else:
        text = f"{fmt_count(est)} of them, drawn at random, measure"
    text += " the stance decisions' error and correct the shares"
    if act:
        text += (
            ", and "
            + fmt_counted(
                act, "actively chosen code only trains", "actively chosen codes only train"
            )
            + " the model"
        )
    return (
        text
        + (", each" if act == 0 else "; the random ones are each")
        + " weighted by 1 / its inclusion probability"
        + (
            " (given in the labels file)"
            if d.get("inclusion_probabilities")
            else " (none given: treated as a simple random sample)"
        )
    )


def _corrected_cells(r: Mapping[str, Any] | None, fmt: Callable[[Any], str]) -> tuple:
    """(naive, corrected, interval) of one validation row, as shown; blanks for no row."""
    if r is None:
        return ("", "", "")
    corrected = r.get("corrected")
    interval = (
        f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}"
        if corrected is not None and r.get("ci_low") is not None
        else "no codes in this cell"
    )
    return (fmt(r.get("naive")), fmt(corrected) if corrected is not None else "n/a", interval)


def _share_row(
    r: Mapping[str, Any],
    measure: str,
    fmt: Callable[[Any], str],
    names: Mapping[str, str],
    post: Mapping[str, Any] | None = None,
) -> tuple:
    """One row of the naive vs corrected table: the account-level figures of ``r``, then the
    post-level ones of ``post`` (the same cell counted over posts; blank when none)."""
    window = str(r["window"])
    for key, label in _WINDOW_LABEL.items():
        window = window.replace(key, label)
    window = window.replace(" - ", " − ")
    return (
        names.get(r["target_side"], _SIDE_LABEL.get(r["target_side"], r["target_side"])),
        window,
        measure,
        *_corrected_cells(r, fmt),
        *_corrected_cells(post, fmt),
    )
