"""The case-study report: findings in plain sentences, six charts, tables, methods, and files.

:func:`write_report` turns a study's metrics (:func:`netsupport.support.analyse`) and the tables
behind them into ``<output dir>/``:

``index.html``
    self-contained (CSS inline, charts embedded as ``data:`` PNGs, a Content-Security-Policy that
    forbids every network request), rendered with jinja2 and autoescaping on;
``report.md``
    the same content in Markdown, charts referenced relatively (``charts/*.png``); every
    untrusted string (handles, post text) is escaped for Markdown and HTML;
``metrics.json``, ``tables/*.csv``, ``charts/*.png|svg``, ``graph.gexf``
    byte-stable: the same inputs give the same bytes;
``manifest.json``
    (:func:`write_manifest`) input hashes, parameters, seeds, package versions and the only
    wall-clock timestamp of the run.

The headline findings are generated from the numbers (:func:`findings`), e.g. "Attention to
@x rose 7.4x in the crisis (95% CI 6.1-9.0)". A metric the data cannot support is listed under
"Not measured" with its reason, never shown as a zero.

Examples
--------
>>> md_escape("**@a_b** <script>")
'\\\\*\\\\*@a\\\\_b\\\\*\\\\* &lt;script&gt;'
>>> fmt_points(-0.553), fmt_ratio(7.44), fmt_pct(0.684)
('−55', '7.4×', '68%')
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import math
import platform
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from . import __version__, charts
from .graph import (  # (the network map's graph: made from the arrays, in graph.py)
    NETWORK_KINDS,  # noqa: F401
    GraphArrays,
    crisis_graph,  # noqa: F401
    crisis_map_of,
    neighbourhood,
)
from .report_stance import (
    add_stance_chart,
    corrected_findings,
    headline_label,
    stance_context,
    without_text_relabelled,
)
from .schema import IKind, PostCol, Role, Stance, Table, Target, Window
from .textsafe import atomic_write_text, jsonable, neutralise_bidi, write_csv, write_json
from .timebins import TimeBins
from .windows import Windows

__all__ = [
    "CHART_KEYS",
    "Chart",
    "ReportInputs",
    "Sentence",
    "attention_counts",
    "build_inputs",
    "composition_frame",
    "findings",
    "fmt_pct",
    "fmt_points",
    "fmt_ratio",
    "md_escape",
    "mobilisation_frame",
    "net_support_frame",
    "package_versions",
    "render_html",
    "render_markdown",
    "roles_counts",
    "write_manifest",
    "write_report",
]

_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_B, _C, _A = Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value
_SUP, _CRI, _NEU = Stance.SUPPORTIVE.value, Stance.CRITICAL.value, Stance.NEUTRAL.value

#: Charts in the order the report shows them (file stems under charts/).
CHART_KEYS = (
    "attention",
    "net_support",
    "composition",
    "mobilisation",
    "network",
    "roles",
    "coverage",  # the evidence checks' charts (evidence_report.EVIDENCE_CHART_KEYS)
    "attention_model",
    "sensitivity",
)
#: Packages whose versions the manifest records.
MANIFEST_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "networkx",
    "python-louvain",
    "igraph",
    "scipy",
    "scikit-learn",
    "vaderSentiment",
    "matplotlib",
    "jinja2",
    "typer",
)
#: Characters of a post's text shown in the report.
POST_TEXT_LIMIT = 280
#: Forbid every network request and every script: the report is a document, not an app.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


# ---- formatting ---------------------------------------------------------------------------------


def _is_nm(x: Any) -> bool:
    """True for a missing value or a ``{"status": "not measured"}`` block."""
    return x is None or (isinstance(x, Mapping) and x.get("status") == "not measured")


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, Mapping):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def fmt_ratio(x: Any) -> str:
    """Return a rate ratio as ``7.4×`` (two significant places below 10, none above).

    Examples
    --------
    >>> fmt_ratio(0.456), fmt_ratio(12.3), fmt_ratio(float("inf"))
    ('0.46×', '12×', 'unbounded')
    """
    v = _num(x)
    if v is None:
        return "n/a"
    if math.isinf(v):
        return "unbounded"
    if v < 1:
        return f"{v:.2f}×"
    return f"{v:.1f}×" if v < 10 else f"{v:.0f}×"


def fmt_points(x: Any, signed: bool = True) -> str:
    """Return a share difference (-1..1) as signed percentage points with a typographic minus."""
    v = _num(x)
    if v is None:
        return "n/a"
    r = round(v * 100)
    if r == 0:
        return "0"
    if r < 0:
        return f"−{-r}"
    return f"+{r}" if signed else f"{r}"


def fmt_pct(x: Any) -> str:
    """Return a share (0..1) as a whole percentage."""
    v = _num(x)
    return "n/a" if v is None else f"{v * 100:.0f}%"


def fmt_count(x: Any) -> str:
    """Return an integer with thousands separators.

    Examples
    --------
    >>> fmt_count(12345)
    '12,345'
    """
    v = _num(x)
    return "n/a" if v is None else f"{round(v):,}"


def fmt_rate(x: Any) -> str:
    """Return a rate per day with sensible precision."""
    v = _num(x)
    if v is None:
        return "n/a"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def fmt_time(x: Any) -> str:
    """Return an instant as ``14 Feb 2014 09:00 UTC``.

    Examples
    --------
    >>> fmt_time("2014-02-14T09:00:00Z")
    '14 Feb 2014 09:00 UTC'
    """
    if x is None:
        return "n/a"
    ts = pd.Timestamp(x)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return f"{ts.day} {ts.strftime('%b %Y %H:%M')} UTC"


def fmt_day(x: Any) -> str:
    """Return an instant's date as ``14 Feb 2014``."""
    ts = pd.Timestamp(x)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return f"{ts.day} {ts.strftime('%b %Y')}"


def fmt_hours(h: Any) -> str:
    """Return a duration in hours as plain words.

    Examples
    --------
    >>> fmt_hours(0.5), fmt_hours(3.04), fmt_hours(50), fmt_hours(24.3), fmt_hours(47.9)
    ('30 min', '3.0 h', '2 d 2 h', '1 d', '2 d')
    """
    v = _num(h)
    if v is None:
        return "n/a"
    if v < 1:
        return f"{v * 60:.0f} min"
    if v < 24:
        return f"{v:.1f} h"
    days, hours = divmod(round(v), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _ci(block: Any, fmt: Any, sep: str = "–") -> str:
    lo, hi = _num(block.get("low")), _num(block.get("high"))
    if lo is None or hi is None:
        return ""
    if fmt is fmt_points:
        return f"{fmt(lo)} to {fmt(hi)}"
    return f"{fmt(lo).rstrip('×%')}{sep}{fmt(hi)}"


def _boot_ci(lift: Mapping[str, Any]) -> str:
    """Return "; a–b× resampling accounts" when the lift carries an account-bootstrap interval
    that is wider than the Poisson one (bursty posting), else "".

    Examples
    --------
    >>> _boot_ci({"low": 6.1, "high": 9.0, "account_bootstrap": {"low": 4.2, "high": 12.5}})
    '; 4.2–12× resampling accounts'
    >>> _boot_ci({"low": 6.1, "high": 9.0, "account_bootstrap": {"low": 6.5, "high": 8.0}})
    ''
    >>> _boot_ci({"low": 1.21, "high": 1.7, "account_bootstrap": {"low": 1.19, "high": 1.71}})
    ''
    """
    b = lift.get("account_bootstrap")
    if not isinstance(b, Mapping) or _is_nm(b):
        return ""
    lo, hi, plo, phi = (
        _num(b.get("low")),
        _num(b.get("high")),
        _num(lift.get("low")),
        _num(lift.get("high")),
    )
    if None in (lo, hi, plo, phi) or (lo >= plo and hi <= phi):
        return ""
    if _ci(b, fmt_ratio) == _ci(lift, fmt_ratio):  # wider, but not at the precision shown
        return ""
    return f"; {_ci(b, fmt_ratio)} resampling accounts"


def _conf(metrics: Mapping[str, Any]) -> str:
    c = _num(metrics.get("parameters", {}).get("confidence")) or 0.95
    return f"{c * 100:.0f}%"


#: Store key -> the handle shown beside it (Bluesky: a DID's ``@alice.bsky.social``), for the
#: report being rendered (:func:`showing`); empty outside a render.
_SHOWN: ContextVar[Mapping[str, str] | None] = ContextVar("shown_handles", default=None)


def shown_handles(accounts: pd.DataFrame | None) -> dict[str, str]:
    """Return ``{store key: handle}`` for the accounts whose key is not the handle people know.

    A Bluesky account is keyed by its DID, which never changes (``bluesky:did:plc:...``); the
    importer keeps the handle an input gave (an ``identity`` event, a ``--handles`` CSV) as the
    account's ``name``, ``@alice.bsky.social`` (:mod:`netsupport.io.bluesky`).

    Examples
    --------
    >>> shown_handles(pd.DataFrame({"handle": ["bluesky:did:plc:a1", "bluesky:did:plc:b2", "amy"],
    ...     "name": ["@alice.bsky.social", None, "@amy"]}))
    {'bluesky:did:plc:a1': '@alice.bsky.social'}
    """
    if accounts is None or accounts.empty or "name" not in accounts:
        return {}
    out = {}
    for key, name in zip(accounts["handle"], accounts["name"], strict=True):
        if (
            isinstance(key, str)
            and key.startswith("bluesky:did:")
            and isinstance(name, str)
            and name.startswith("@")
            and len(name) > 1
        ):
            out[key] = name
    return out


@contextmanager
def showing(shown: Mapping[str, str]) -> Iterator[None]:
    """Within the block, :func:`handle` shows each key of ``shown`` with its handle.

    Examples
    --------
    >>> with showing({"bluesky:did:plc:a1": "@alice.bsky.social"}):
    ...     handle("bluesky:did:plc:a1")
    '@alice.bsky.social (bluesky:did:plc:a1)'
    >>> handle("bluesky:did:plc:a1")
    'bluesky:did:plc:a1'
    """
    token = _SHOWN.set(shown)
    try:
        yield
    finally:
        _SHOWN.reset(token)


def handle(h: str) -> str:
    """Return ``@h``; an account of another platform as its key (``mastodon:lane@host``), with
    the handle beside a Bluesky DID where one is known (:func:`showing`)."""
    from .io.platforms import PLATFORM_TWITTER, platform_of

    if platform_of(h) == PLATFORM_TWITTER:
        return f"@{h}"
    shown = (_SHOWN.get() or {}).get(h)
    return f"{shown} ({h})" if shown else h


def handles(hs: Iterable[str]) -> str:
    """Return handles as ``@a``, ``@a and @b`` or ``@a, @b and @c``."""
    hs = [handle(h) for h in hs]
    if len(hs) <= 1:
        return "".join(hs)
    return ", ".join(hs[:-1]) + " and " + hs[-1]


# ---- escaping -----------------------------------------------------------------------------------

# Inline Markdown syntax. Parentheses and "!" need no escape: a link or image needs an
# unescaped "]" before "(", and every bracket is escaped.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]|~])")
# Block syntax that only counts at the start of a line and before a space (or the end).
_MD_LEADING = re.compile(r"^(#|[+\-=](?=\s|$)|\d+(?=[.)](?:\s|$)))")


class MdSafe(str):
    """A string already safe for Markdown (written by us, or escaped)."""


def md_escape(text: Any) -> str:
    """Return untrusted text safe to put inline in Markdown (and in HTML it may contain).

    Line breaks become spaces (a post's line breaks would end a list item or a table row);
    Markdown control characters get a backslash; ``& < >`` and ``"`` become HTML entities, so raw
    HTML in a post cannot become markup when the Markdown is rendered. An apostrophe stays as it is:
    without ``<`` it cannot open a tag or an attribute, and our own clauses use it ("the study's").

    Examples
    --------
    >>> md_escape('{{ 7*7 }} "><img src=x onerror=alert(1)>')
    '\\\\{\\\\{ 7\\\\*7 \\\\}\\\\} &quot;&gt;&lt;img src=x onerror=alert(1)&gt;'
    >>> md_escape("1. not a list"), md_escape("- not a bullet"), md_escape("+53 (+45 to +60)")
    ('1\\\\. not a list', '\\\\- not a bullet', '+53 (+45 to +60)')
    >>> md_escape("# not a heading"), md_escape("[x](javascript:alert(1))")
    ('\\\\# not a heading', '\\\\[x\\\\](javascript:alert(1))')
    >>> md_escape("the study's own setting")
    "the study's own setting"
    """
    if isinstance(text, MdSafe):
        return text
    s = " ".join(neutralise_bidi(str(text)).split())
    s = _MD_INLINE.sub(r"\\\1", s)
    m = _MD_LEADING.match(s)
    if m:
        lead = m.group(1)
        s = (lead + "\\" + s[len(lead) :]) if lead[0].isdigit() else "\\" + s
    return html.escape(s, quote=False).replace('"', "&quot;")


@dataclass(frozen=True)
class Sentence:
    """A finding: our own wording with untrusted or numeric values filled in safely.

    ``template`` is a :meth:`str.format` string written by netsupport (trusted); ``values`` are
    escaped for the output format; the names in ``strong`` are emphasised.

    Examples
    --------
    >>> s = Sentence("Support for {who} rose {x}.", {"who": "@<b>", "x": "7.4×"}, ("x",))
    >>> str(s.html())
    'Support for @&lt;b&gt; rose <strong>7.4×</strong>.'
    >>> s.markdown()
    'Support for @&lt;b&gt; rose **7.4×**.'
    >>> s.text()
    'Support for @<b> rose 7.4×.'
    >>> Sentence("It rose.{more}", {"more": " It held."}).markdown()  # a leading space stays
    'It rose. It held.'
    """

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)
    strong: tuple[str, ...] = ()

    def html(self) -> Markup:
        args = {
            k: Markup("<strong>{}</strong>").format(v) if k in self.strong else escape(v)
            for k, v in self.values.items()
        }
        return Markup(str(escape(self.template))).format(**args)

    def markdown(self) -> MdSafe:
        def md(v: Any) -> str:
            # md_escape collapses white space at the ends too: keep the one that joins a
            # clause (" The direction holds ...") to the sentence before it
            s = md_escape(v)
            return " " + s if isinstance(v, str) and v[:1].isspace() and s else s

        args = {k: f"**{md(v)}**" if k in self.strong else md(v) for k, v in self.values.items()}
        return MdSafe(self.template.format(**args))

    def text(self) -> str:
        return self.template.format(**{k: str(v) for k, v in self.values.items()})


# ---- findings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """Headline sentences and the measures the data could not support."""

    sentences: list[Sentence]
    not_measured: list[tuple[str, str]]  # (measure, reason)


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if _is_nm(d) or not isinstance(d, Mapping):
            return d if _is_nm(d) else None
        d = d.get(p)
    return d


def _reason(block: Any) -> str:
    if isinstance(block, Mapping) and block.get("reason"):
        return str(block["reason"])
    return "not in the metrics"


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
                "Attention to {who} {verb} {x} in the crisis ({conf} CI {ci}{boot}): {c} posts "
                "a day addressed the account, against {b} a day before.{grid}",
                {
                    "who": focal,
                    "verb": verb,
                    "x": fmt_ratio(lift_f["value"]),
                    "conf": conf,
                    "ci": _ci(lift_f, fmt_ratio),
                    "boot": _boot_ci(lift_f),
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
            "n": fmt_count(sh.get("n")),
            "who": focal,
            "sup": fmt_pct(_get(sh, _SUP, "value")),
            "cri": fmt_pct(_get(sh, _CRI, "value")),
            "net": fmt_points(_get(sh, "net_support", "value")),
            "conf": conf,
            "ci": _ci(sh["net_support"], fmt_points),
        }
        text = (
            "In the crisis, {sup} of the {n} accounts that addressed {who} were supportive and "
            "{cri} critical: net support {net} points ({conf} CI {ci})"
        )
        if not _is_nm(rep_f) and rep_f is not None and not _is_nm(base_net):
            text += ", {change} points on the period before ({conf} CI {rci})"
            values["change"] = fmt_points(rep_f["value"])
            values["rci"] = _ci(rep_f, fmt_points)
        elif _is_nm(rep_f):
            nm.append((f"Reputational change of {focal}", _reason(rep_f)))
        text += "." + _grid_text(values, metrics, "net_support_crisis", "Net support's direction")
        if "change" in values:
            text += _grid_text(values, metrics, "reputational_change", "The change's direction")
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
            verb = "fell" if rep_i["value"] < 0 else "rose"
            values = {
                "who": inst,
                "verb": verb,
                "change": fmt_points(abs(rep_i["value"]), signed=False),
                "conf": conf,
                "ci": _ci(rep_i, fmt_points),
                "b": fmt_points(_get(sh_ib, "value")),
                "c": fmt_points(_get(sh_i, "value")),
            }
            text = (
                "Net support for {who} {verb} by {change} points ({conf} CI {ci}), from {b} "
                "before the crisis to {c} during it"
            )
            gap = _get(metrics, "reputation", "gap", "account_level")
            if not _is_nm(gap) and gap is not None and not _is_nm(rep_f) and rep_f is not None:
                text += "; the two sides moved {gap} points apart ({conf} CI {gci})"
                values["gap"] = fmt_points(abs(gap["value"]), signed=False)
                values["gci"] = _ci(gap, fmt_points)
            text += "." + _grid_text(values, metrics, "reputational_change", side=_INST)
            out.append(Sentence(text, values, ("change",)))

    # 4. prior ties
    comp = metrics.get("composition")
    if _is_nm(comp) or comp is None:
        nm.append((f"Supporters' prior ties to {focal}", _reason(comp)))
    else:
        share = comp["prior_tie_share"]
        out.append(
            Sentence(
                "{pct} of the {n} accounts that supported {who} in the crisis had a prior tie "
                "({conf} CI {ci}): they followed the account or had interacted with it before; "
                "{new} were newcomers.",
                {
                    "pct": fmt_pct(share["value"]),
                    "n": fmt_count(comp["supporters"]),
                    "who": focal,
                    "conf": conf,
                    "ci": _ci(share, fmt_pct),
                    "new": fmt_count(comp["newcomers"]),
                },
                ("pct",),
            )
        )
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
            "min": fmt_count(br["k"]),
            "even": f"{br['normalised_entropy']:.2f}",
        }
        text = (
            "Support came from {k} communities with at least {min} supporters each (of the {of} "
            "found before the crisis; evenness {even} on a 0–1 scale)"
        )
        best = _most_supporters(mob)
        if best is not None:
            text += (
                "; the most supporters, {s}, came from community {c}, where {pct} of the {m} "
                "members addressed {who}"
            )
            values.update(
                {
                    "s": fmt_count(best["supporters"]),
                    "c": str(int(best["community"])),
                    "pct": fmt_pct(best["share_active"]),
                    "m": fmt_count(best["members"]),
                    "who": focal,
                }
            )
        values["grid"] = _grid_clause(metrics, "breadth")
        out.append(Sentence(text + ".{grid}", values, ("k",)))

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
            "r1": fmt_count(top[0]["reach"]),
        }
        text = (
            "While {who} was silent ({start} to {end}, {hours}), {p1} carried the most support: "
            "its supportive posts reached {r1} accounts"
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
        parts = [f"{_role_plural(r)} ({fmt_hours(h)})" for r, h in firsts]
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
        }
        text = (
            "After the crisis, attention to {who} stood at {x} its level before "
            "({conf} CI {ci}{boot})"
        )
        if not _is_nm(pn) and pn is not None:
            text += " and net support at {n} points on the period before ({conf} CI {nci})"
            values.update({"n": fmt_points(pn["value"]), "nci": _ci(pn, fmt_points)})
        text += "." + _grid_text(values, metrics, "persistence_attention")
        out.append(Sentence(text, values, ("x",)))
    return Findings(without_text_relabelled(metrics, out), nm)


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
        text = report_evidence.breadth_clause(metrics)
    else:
        text = report_evidence.grid_clause(metrics, key, side, **kw)
    return " " + text if text else ""


def _grid_text(
    values: dict[str, Any],
    metrics: Mapping[str, Any],
    key: str,
    subject: str = "The direction",
    side: str = _FOCAL,
) -> str:
    """Put the grid sentence of ``key`` in ``values`` and return its placeholder."""
    name = f"grid_{key}_{side}"
    values[name] = _grid_clause(metrics, key, side, subject=subject)
    return "{" + name + "}"


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


# ---- chart data ---------------------------------------------------------------------------------


def time_bin(windows: Windows) -> str:
    """Return ``"h"`` (hourly bins) for studies spanning at most 4 days, else ``"D"``."""
    return "h" if (windows.after_end - windows.baseline_start) <= pd.Timedelta(days=4) else "D"


def attention_counts(units: pd.DataFrame, windows: Windows, freq: str = "D") -> pd.DataFrame:
    """Return posts addressing each side per time bin and stance (chart 1).

    Bins are :class:`~netsupport.timebins.TimeBins`: days (or hours) counted from the crisis
    start and cut at the window boundaries, so no bin mixes two windows.

    Parameters
    ----------
    units : DataFrame
        :func:`netsupport.support.post_units` (post_id, target_side, source, created_at,
        window, stance, ...).

    Returns
    -------
    DataFrame
        Columns ``time`` (bin start, UTC), ``target``, ``stance``, ``count``, sorted; only rows
        inside the study period.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T00:00Z", "2014-02-15T00:00Z", 1, 1)
    >>> u = pd.DataFrame({"target_side": ["focal", "focal", "institution"],
    ...     "stance": ["supportive", "supportive", "critical"],
    ...     "created_at": pd.to_datetime(["2014-02-14T01:00Z", "2014-02-14T05:00Z",
    ...                                   "2014-02-20T00:00Z"], utc=True)})
    >>> attention_counts(u, w).values.tolist()
    [[Timestamp('2014-02-14 00:00:00+0000', tz='UTC'), 'focal', 'supportive', 2]]
    """
    cols = ["time", "target", "stance", "count"]
    if units.empty:
        return pd.DataFrame(columns=cols)
    ts = pd.to_datetime(units["created_at"], utc=True)
    inside = ((ts >= windows.baseline_start) & (ts < windows.after_end)).to_numpy(dtype=bool)
    u = pd.DataFrame(
        {
            # bins counted from the crisis start, cut at the window boundaries (issue 14 item 24)
            "time": TimeBins(windows, freq).starts(ts[inside]),
            "target": units["target_side"].astype(object)[inside],
            "stance": units["stance"].astype(object)[inside],
        }
    )
    if u.empty:
        return pd.DataFrame(columns=cols)
    out = _sizes(u, units, inside, ["time", "target", "stance"]).rename("count").reset_index()
    return out[cols]


def _sizes(
    frame: pd.DataFrame, units: pd.DataFrame, rows: np.ndarray, keys: list[str]
) -> pd.Series:
    """Group sizes of ``frame`` by ``keys``, counting each unit's weight when the units are
    compressed (:func:`netsupport.support.compress_units`, as the Dask engine hands them over)."""
    from .support import UNIT_WEIGHT

    if UNIT_WEIGHT not in units.columns:
        return frame.groupby(keys, sort=True).size()
    w = units[UNIT_WEIGHT].to_numpy(dtype=np.int64)[rows]
    return frame.assign(_w=w).groupby(keys, sort=True)["_w"].sum()


def roles_counts(
    units: pd.DataFrame, roles: pd.Series, windows: Windows, freq: str = "D"
) -> pd.DataFrame:
    """Return posts addressing the focal account per time bin and sender role (chart 6)."""
    cols = ["time", "role", "count"]
    if units.empty:
        return pd.DataFrame(columns=cols)
    u = units[units["target_side"].astype(object).to_numpy() == _FOCAL]
    ts = pd.to_datetime(u["created_at"], utc=True)
    inside = ((ts >= windows.baseline_start) & (ts < windows.after_end)).to_numpy(dtype=bool)
    role = u["source"].map(roles).fillna(Role.UNKNOWN.value).astype(object)
    bins = TimeBins(windows, freq)
    frame = pd.DataFrame({"time": bins.starts(ts[inside]), "role": role[inside]})
    if frame.empty:
        return pd.DataFrame(columns=cols)
    out = _sizes(frame, u, inside, ["time", "role"]).rename("count").reset_index()
    return out[cols]


def first_mentions(metrics: Mapping[str, Any]) -> dict[str, pd.Timestamp]:
    """Return each role's first crisis post addressing the focal account (from metrics)."""
    roles = _get(metrics, "roles", _FOCAL)
    out: dict[str, pd.Timestamp] = {}
    if _is_nm(roles) or not isinstance(roles, Mapping):
        return out
    for r in Role:
        fm = _get(roles, r.value, "first_mention")
        if fm is not None and not _is_nm(fm) and r is not Role.UNKNOWN:
            out[r.value] = pd.Timestamp(fm["at"])
    return out


def mobilisation_frame(
    metrics: Mapping[str, Any], confidence: float = 0.95, top: int = 12
) -> pd.DataFrame:
    """Return per-community shares with exact binomial intervals (chart 3).

    ``share_active`` = active / members and ``supportive_share`` = supporters / active come from
    metrics.json; their intervals are Clopper-Pearson intervals on those counts
    (:func:`netsupport.support.proportion_ci`). The ``top`` largest communities are kept.
    """
    from .support import proportion_ci

    cols = [
        "community",
        "label",
        "members",
        "active_share",
        "active_lo",
        "active_hi",
        "supportive_share",
        "supportive_lo",
        "supportive_hi",
    ]
    mob = metrics.get("mobilisation")
    if _is_nm(mob) or not mob:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in sorted(mob.get("communities", []), key=lambda r: int(r["community"]))[:top]:
        members, active, sup = int(r["members"]), int(r["active"]), int(r["supporters"])
        a = proportion_ci(active, members, confidence)
        s = proportion_ci(sup, active, confidence)
        rows.append(
            {
                "community": int(r["community"]),
                "label": f"Community {int(r['community'])}",
                "members": members,
                "active_share": np.nan if _is_nm(a) else a["value"],
                "active_lo": np.nan if _is_nm(a) else a["low"],
                "active_hi": np.nan if _is_nm(a) else a["high"],
                "supportive_share": np.nan if _is_nm(s) else s["value"],
                "supportive_lo": np.nan if _is_nm(s) else s["low"],
                "supportive_hi": np.nan if _is_nm(s) else s["high"],
            }
        )
    return pd.DataFrame(rows, columns=cols)


def net_support_frame(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Return account-level net support per window and side, with intervals (chart 5)."""
    rows = []
    for side in (_FOCAL, _INST):
        for w in (_B, _C, _A):
            ns = _get(metrics, "stance_shares", side, w, "account_level", "net_support")
            if ns is None or _is_nm(ns):
                continue
            rows.append(
                {"window": w, "target": side, "net": ns["value"], "lo": ns["low"], "hi": ns["high"]}
            )
    return pd.DataFrame(rows, columns=["window", "target", "net", "lo", "hi"])


def composition_frame(
    units: pd.DataFrame,
    focal: Sequence[str],
    follows: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    windows: Windows,
) -> pd.DataFrame:
    """Return supporters with and without a prior tie in the crisis and after windows (chart 4).

    A prior tie is one that existed before the crisis began (:func:`netsupport.support.prior_ties`),
    so the crisis row equals metrics.json's ``composition``. The baseline is left out: its
    supporters addressed the account before the crisis, so all have a prior tie by definition.
    """
    from .support import prior_ties, supporters
    from .support.ties import touching

    rows = []
    touched = None  # the rows touching the focal account, selected once for both windows
    for w in (_C, _A):
        sup = supporters(units, _FOCAL, w) if not units.empty else pd.Index([])
        if len(sup) == 0:
            rows.append({"window": w, "prior_tie": 0, "newcomer": 0})
            continue
        if touched is None:
            touched = touching(interactions, focal)
        ties = prior_ties(sup, focal, follows, touched, windows)
        k = int(ties["prior_tie"].sum())
        rows.append({"window": w, "prior_tie": k, "newcomer": len(ties) - k})
    return pd.DataFrame(rows, columns=["window", "prior_tie", "newcomer"])


def labelled_proxies(metrics: Mapping[str, Any], n: int = 3, share: float = 0.1) -> list[str]:
    """Return the proxies worth a label on the network map: the top ``n`` whose reach is at least
    ``share`` of the top proxy's (and at least 2 accounts), so a proxy that reached one account is
    not drawn as if it mattered.

    Examples
    --------
    >>> labelled_proxies({"proxies": {"top": [{"handle": "a", "reach": 88},
    ...     {"handle": "b", "reach": 49}, {"handle": "c", "reach": 1}]}})
    ['a', 'b']
    """
    px = metrics.get("proxies")
    if _is_nm(px) or not px or not px.get("top"):
        return []
    top = px["top"]
    floor = max(2.0, share * float(top[0]["reach"]))
    return [r["handle"] for r in top[:n] if float(r["reach"]) >= floor]


# ---- charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """One rendered chart: file stem, title, caption (a :class:`Sentence`), alt text, bytes."""

    key: str
    title: str
    caption: Sentence
    alt: str
    png: bytes
    svg: bytes

    @property
    def size(self) -> tuple[int, int]:
        """Pixel width and height of the PNG (from its IHDR chunk)."""
        return struct.unpack(">II", self.png[16:24])

    def data_uri(self) -> str:
        """Return the PNG as a ``data:`` URI (embedded in index.html)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _layout_cache(study: Any) -> Path | None:
    """The folder the network map's layouts are cached in: ``layouts/`` in the run's work
    folder (:func:`netsupport.outdir.work_dir`, beside the other steps' cached results), or None
    when that folder does not exist (a report written outside ``netsupport run``)."""
    from .outdir import work_dir

    out = getattr(study, "output_dir", None)
    if out is None:
        return None
    work = work_dir(Path(out))
    return work / "layouts" if work.is_dir() else None


@dataclass(frozen=True)
class DrawnChart:
    """A chart drawn but not yet rendered: its :class:`Chart` fields and the figure."""

    key: str
    title: str
    caption: Sentence
    alt: str
    figure: Any  # matplotlib Figure


def build_charts(inp: ReportInputs) -> list[Chart]:
    """Draw the charts of the report from the metrics and tables, and render them."""
    return _make_charts(lambda: draw_charts(inp))


def draw_charts(inp: ReportInputs) -> list[DrawnChart]:
    """Draw the charts of the report from the metrics and tables (figures, not yet rendered:
    :func:`build_charts` also turns them into PNG and SVG bytes)."""
    return chart_plan(inp)()


def chart_plan(
    inp: ReportInputs, coded: Any = None, crisis_map: GraphArrays | None = None
) -> Callable[[], list[DrawnChart]]:
    """Compute the charts' data from the report's tables, and return a function that draws
    the charts from it (small frames: counts per bin, shares). Two data steps are left to the
    function: the supporters' prior ties (chart 4) and the crisis neighbourhood (the network
    map). ``coded``: the :class:`~netsupport.gexfout.CodedInteractions` of the interactions,
    when the caller has them. ``crisis_map``: the network map's crisis neighbourhood on the
    study's windows (:func:`crisis_map_of`) when made already (by the report's child process);
    used when the metrics did not cut the windows, else made here."""
    from . import evidence_report as _evidence

    study, m = inp.study, inp.metrics
    w = _evidence.used_windows(study, m)  # cut to the data where the coverage check cut them
    freq = time_bin(w)
    conf = float(study.support.confidence)
    focal = handles(study.focal)
    inst = handles(study.institution) if study.institution else None
    sil = m.get("silence")
    silence = None if _is_nm(sil) or sil is None else (sil["start"], sil["end"])
    makers: list[Callable[[], list[DrawnChart]]] = []

    def add(key: str, fig: Any, title: str, caption: Sentence, alt: str) -> None:
        """``fig``: a figure, or a function drawing it (called by the plan's function)."""
        makers.append(
            lambda: [DrawnChart(key, title, caption, alt, fig() if callable(fig) else fig)]
        )

    unit = "day" if freq == "D" else "hour"
    crisis_text = f"{fmt_time(w.crisis_start)} to {fmt_time(w.crisis_end)}"
    counts = attention_counts(inp.units, w, freq)
    cap = (
        "Posts addressing {who}"
        + (" (top) and {inst} (bottom)" if inst else "")
        + " per {unit}, coloured by their stance towards that account. The yellow band is the "
        "crisis ({crisis}). Each {unit} is counted from the crisis start, so no bar mixes two "
        "windows; a bar a window's edge cuts short is drawn narrower and scaled to a full {unit}."
    )
    values = {"who": focal, "inst": inst or "", "unit": unit, "crisis": crisis_text}
    if silence is not None:
        cap += " The hatched strip marks {who}'s longest silence: {hours} without a post."
        values["hours"] = fmt_hours(sil["hours"])
    add(
        "attention",
        lambda: charts.attention_timeline(
            counts, w, focal_label=focal, institution_label=inst, silence=silence, freq=freq
        ),
        "Attention before, during and after the crisis",
        Sentence(cap, values),
        f"Stacked bar chart of posts per {unit} addressing {focal}"
        + (f" and {inst}" if inst else "")
        + ", by stance, with the crisis window shaded.",
    )

    net = net_support_frame(m)
    add(
        "net_support",
        lambda: charts.net_support_chart(
            net, focal_label=focal, institution_label=inst, confidence=conf
        ),
        "Net support before, during and after the crisis",
        Sentence(
            "Net support is the share of accounts whose posts were mostly supportive minus the "
            "share mostly critical, in percentage points, for each window"
            + (" and for both sides" if inst else "")
            + ". Vertical lines are {conf} bootstrap intervals over accounts.",
            {"conf": f"{conf * 100:.0f}%"},
        ),
        "Dot plot of net support per window"
        + (f" for {focal} and {inst}" if inst else f" for {focal}")
        + ", with intervals.",
    )

    def comp() -> pd.DataFrame:
        return composition_frame(inp.units, study.focal, inp.follows, inp.interactions, w)

    add(
        "composition",
        lambda: charts.supporter_composition(comp(), focal_label=focal),
        "Prior ties and newcomers among supporters",
        Sentence(
            "Accounts whose posts about {who} were mostly supportive, split by whether they had "
            "a tie to the account before the crisis began (they followed it, or interacted with "
            "it in the baseline window) or were newcomers.",
            {"who": focal},
        ),
        f"Stacked bars of supporters of {focal} with and without a prior tie, per window.",
    )

    mob = mobilisation_frame(m, conf)
    add(
        "mobilisation",
        lambda: charts.community_mobilisation(mob, focal_label=focal, confidence=conf),
        "Community mobilisation",
        Sentence(
            "Communities are found on the interaction graph before the crisis. Left: the share of "
            "each community's members who addressed {who} in the crisis. Right: of those, the "
            "share who were mostly supportive. Lines are {conf} exact binomial intervals.",
            {"who": focal, "conf": f"{conf * 100:.0f}%"},
        ),
        f"Dot plot per community of the share of members addressing {focal} and the share "
        "supportive, with intervals.",
    )

    def g() -> GraphArrays:
        if crisis_map is not None and w == study.windows:  # made by the report's child
            return crisis_map
        if inp.edges is None:
            return crisis_map_of(inp.interactions, study, w, coded=coded)
        # aggregated by the Dask engine (the same kinds of edges)
        from .graph import SOURCE, TARGET

        edges = inp.edges.get("amplifiers")
        if edges is None:
            edges = pd.DataFrame({SOURCE: pd.Series([], dtype=object), TARGET: []})
        return neighbourhood(GraphArrays.from_edges(edges), (*study.focal, *study.institution))

    membership = {} if inp.membership is None else _int_dict(inp.membership)
    proxies_top = labelled_proxies(m)

    declared = [h for h in study.proxies if h not in proxies_top]
    add(
        "network",
        lambda: charts.network_map(
            g(),
            membership=membership,
            pagerank=inp.pagerank if inp.pagerank is not None else {},
            focal=list(study.focal),
            institution=list(study.institution),
            proxies=[*proxies_top, *declared],
            seed=int(study.communities.seed),
            layout_cache=_layout_cache(study),
        ),
        "Who talked to whom during the crisis",
        Sentence(
            "Reposts, quotes and mentions in the crisis among accounts within two steps of {who}. "
            "Node size is PageRank on this graph; colour is the community the account belonged "
            "to before the crisis; labelled proxies are the accounts whose supportive posts "
            "reached most others while {who} was silent. Layout: spring layout, seed {seed}.",
            {"who": focal, "seed": str(study.communities.seed)},
        ),
        f"Network map of the crisis interactions around {focal}, coloured by community.",
    )

    rc = roles_counts(inp.units, inp.roles, w, freq)
    add(
        "roles",
        lambda: charts.roles_timeline(
            rc, w, focal_label=focal, first_mentions=first_mentions(m), freq=freq
        ),
        "Who carried the story",
        Sentence(
            "Posts addressing {who} per {unit} by the sender's role (from the accounts file, or "
            "keywords in the profile), {unit}s counted from the crisis start. Below: how long "
            "after the crisis began each role first addressed the account.",
            {"who": focal, "unit": unit},
        ),
        f"Line chart of posts addressing {focal} by role over time, and first mention per role.",
    )

    def evidence() -> list[DrawnChart]:  # coverage, time-series model (issue 15): metrics only
        return [
            DrawnChart(key, title, caption, alt, fig)
            for key, fig, title, caption, alt in _evidence.evidence_figures(inp)
        ]

    def sensitivity() -> list[DrawnChart]:
        from . import report_evidence

        spec = report_evidence.sensitivity_chart(m, focal, inst)
        return [] if spec is None else [DrawnChart(spec[0], spec[2], spec[3], spec[4], spec[1])]

    makers += [evidence, sensitivity]
    add_stance_chart(m, add)  # shown in the "How good is the stance?" section
    order = {k: i for i, k in enumerate(CHART_KEYS)}

    def draw() -> list[DrawnChart]:
        out = [d for make in makers for d in make()]
        return sorted(out, key=lambda c: order.get(c.key, len(order)))

    return draw


def _int_dict(values: pd.Series) -> dict[str, int]:
    """Return ``{str(k): int(v)}`` over the non-missing ``values``, built from whole columns
    (the items of 10^5 accounts one by one, from an Arrow-backed index: 0.3 CPU s)."""
    v = values.dropna()
    keys = np.asarray(v.index.astype(str), dtype=object).tolist()
    return dict(zip(keys, v.to_numpy().astype(np.int64).tolist(), strict=True))


def _render(drawn: Sequence[DrawnChart]) -> list[Chart]:
    """Render drawn charts as PNG and SVG."""
    return [
        Chart(d.key, d.title, d.caption, d.alt, *charts.figure_png_svg(d.figure, d.title))
        for d in drawn
    ]


def _make_charts(draw: Callable[[], Sequence[DrawnChart]]) -> list[Chart]:
    return _render(draw())


# ---- tables -------------------------------------------------------------------------------------


def top_posts(
    units: pd.DataFrame,
    posts: pd.DataFrame | None,
    side: str,
    window: str = _C,
    n: int = 5,
) -> pd.DataFrame:
    """Return the posts addressing ``side`` in ``window`` that most accounts replied to, reposted
    or quoted (reach), with their text (untrusted: escaped by the templates).
    """
    return top_posts_of_sides(units, posts, [side], window, n)[side]


def top_posts_of_sides(
    units: pd.DataFrame,
    posts: pd.DataFrame | None,
    sides: Sequence[str],
    window: str = _C,
    n: int = 5,
) -> dict[str, pd.DataFrame]:
    """Return :func:`top_posts` of each of ``sides`` (side -> table), reading the posts once:
    a post's reach and text do not depend on the side asking for it."""
    cols = ["post_id", "author", "created_at", "stance", "reach", "text"]
    empty = {side: pd.DataFrame(columns=cols) for side in sides}
    if posts is None or posts.empty or units.empty:
        return empty
    sel = units[
        np.isin(units["target_side"].astype(object).to_numpy(), list(sides))
        & (units["window"].astype(object).to_numpy() == window)
        & (units["kind"].astype(object).to_numpy() != IKind.REPOST.value)
    ]
    # reach of these posts only: the answers to them, not a groupby over every stored post
    answers = posts[PostCol.TARGET_POST_ID].isin(sel["post_id"]).to_numpy(dtype=bool)
    ref = posts.loc[answers, [PostCol.AUTHOR, PostCol.TARGET_POST_ID]].dropna()
    reach = ref.groupby(PostCol.TARGET_POST_ID)[PostCol.AUTHOR].nunique()
    side_of = sel["target_side"].astype(object).to_numpy()
    top: dict[str, pd.DataFrame] = {}
    for side in sides:
        u = sel[side_of == side]
        u = u.assign(reach=u["post_id"].map(reach).fillna(0).astype(np.int64))
        u = u[u["reach"] > 0]
        if not u.empty:
            top[side] = u.sort_values(
                ["reach", "created_at", "post_id"], ascending=[False, True, True], kind="mergesort"
            ).head(n)
    if not top:
        return empty
    wanted = pd.concat([u["post_id"] for u in top.values()], ignore_index=True)
    shown = posts.loc[posts[PostCol.POST_ID].isin(wanted).to_numpy(dtype=bool)]
    # the first stored row of each post id, as drop_duplicates over all posts would keep
    text = shown.drop_duplicates(PostCol.POST_ID).set_index(PostCol.POST_ID)[PostCol.TEXT]
    out = dict(empty)
    for side, u in top.items():
        t = pd.DataFrame(
            {
                "post_id": u["post_id"].to_numpy(dtype=object),
                "author": u["source"].to_numpy(dtype=object),
                "created_at": pd.to_datetime(u["created_at"], utc=True).to_numpy(),
                "stance": u["stance"].to_numpy(dtype=object),
                "reach": u["reach"].to_numpy(),
                "text": [_clip(x) for x in u["post_id"].map(text).to_numpy(dtype=object)],
            }
        )
        t["created_at"] = pd.to_datetime(t["created_at"], utc=True)
        out[side] = t
    return out


def _clip(text: Any) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    s = " ".join(str(text).split())
    return s if len(s) <= POST_TEXT_LIMIT else s[: POST_TEXT_LIMIT - 1] + "…"


_HEADLINE = (
    # (key, measure, path under a side or None, formatter)
    ("attention_lift", "Attention, crisis / before", ("attention", "{side}", "lift"), fmt_ratio),
    (
        "net_support_crisis",
        "Net support in the crisis, points",
        ("headline", "net_support_crisis", "{side}"),  # error-corrected when hand codes exist
        fmt_points,
    ),
    (
        "reputational_change",
        "Change in net support, crisis − before",
        ("headline", "reputational_change", "{side}"),  # error-corrected when hand codes exist
        fmt_points,
    ),
    (
        "persistence_attention",
        "Attention, after / before",
        ("persistence", "{side}", "attention_ratio"),
        fmt_ratio,
    ),
    (
        "persistence_net_support",
        "Change in net support, after − before",
        ("headline", "persistence_net_support", "{side}"),  # error-corrected with hand codes
        fmt_points,
    ),
)


def headline_table(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Return the headline measures as numbers: one row per measure and side (headline.csv).

    Columns ``measure, side, value, low, high, status`` (status ``measured`` or the reason it
    is not measured).
    """
    rows = []
    sides = [_FOCAL] + ([_INST] if metrics.get("study", {}).get("institution") else [])
    for key, _, path, _ in _HEADLINE:
        for side in sides:
            rows.append(
                _headline_row(key, side, _get(metrics, *(p.format(side=side) for p in path)))
            )
    rows.append(
        _headline_row("prior_tie_share", _FOCAL, _get(metrics, "composition", "prior_tie_share"))
    )
    br = metrics.get("breadth")
    rows.append(
        _headline_row(
            "communities_with_k_supporters",
            _FOCAL,
            br if _is_nm(br) or br is None else {"value": br["communities_with_k_supporters"]},
        )
    )
    return pd.DataFrame(rows, columns=["measure", "side", "value", "low", "high", "status"])


def _headline_row(key: str, side: str, block: Any) -> dict[str, Any]:
    if _is_nm(block) or block is None:
        return {
            "measure": key,
            "side": side,
            "value": np.nan,
            "low": np.nan,
            "high": np.nan,
            "status": _reason(block),
        }
    return {
        "measure": key,
        "side": side,
        "value": _num(block.get("value")),
        "low": _num(block.get("low")),
        "high": _num(block.get("high")),
        "status": "measured",
    }


def headline_display(metrics: Mapping[str, Any]) -> list[list[str]]:
    """Return the headline measures as formatted text rows (measure, focal[, institution])."""
    sides = [_FOCAL] + ([_INST] if metrics.get("study", {}).get("institution") else [])

    def show(block: Any, fmt: Any) -> str:
        if _is_nm(block) or block is None:
            return "not measured"
        ci = _ci(block, fmt)
        return f"{fmt(block.get('value'))} ({ci})" if ci else fmt(block.get("value"))

    rows = []
    for key, label, path, fmt in _HEADLINE:
        rows.append(
            [headline_label(metrics, key, label)]
            + [show(_get(metrics, *(p.format(side=side) for p in path)), fmt) for side in sides]
        )
    blank = [""] * (len(sides) - 1)
    rows.append(
        [
            "Supporters with a prior tie",
            show(_get(metrics, "composition", "prior_tie_share"), fmt_pct),
            *blank,
        ]
    )
    br = metrics.get("breadth")
    rows.append(
        [
            "Communities with enough supporters",
            "not measured"
            if _is_nm(br) or br is None
            else f"{br['communities_with_k_supporters']} with ≥ {br['k']} "
            f"(evenness {br['normalised_entropy']:.2f})",
            *blank,
        ]
    )
    px = _get(metrics, "proxies", "top")
    rows.append(
        [
            "Top proxy during the silence",
            f"{handle(px[0]['handle'])} (reached {fmt_count(px[0]['reach'])})"
            if isinstance(px, list) and px
            else "not measured",
            *blank,
        ]
    )
    return rows


def report_tables(inp: ReportInputs) -> dict[str, pd.DataFrame]:
    """Return the CSV tables of the report (file stem -> table)."""
    out: dict[str, pd.DataFrame] = {"headline": headline_table(inp.metrics)}
    if inp.write_stance is None:
        stance_cols = [c for c in inp.stance.columns]
        out["stance"] = inp.stance[stance_cols]
    for name in ("supporters", "communities", "amplifiers", "proxies", "roles"):
        t = inp.tables.get(name)
        if t is not None:
            out[name] = t
    if inp.top is not None:  # computed by the Dask engine with report.top_posts
        out["top_posts_focal"] = inp.top[_FOCAL]
        if inp.study.institution:
            out["top_posts_institution"] = inp.top[_INST]
        return out
    sides = [_FOCAL, _INST] if inp.study.institution else [_FOCAL]
    top = top_posts_of_sides(inp.units, inp.posts, sides)
    out["top_posts_focal"] = top[_FOCAL]
    if inp.study.institution:
        out["top_posts_institution"] = top[_INST]
    out.update(_platform_table(inp))
    return out


def _platform_table(inp: ReportInputs) -> dict[str, pd.DataFrame]:
    """``{"platforms": counts per platform}`` when any post is not from Twitter, else empty."""
    from .support.platforms import platform_counts

    w = inp.study.windows
    t = platform_counts(inp.posts, inp.interactions, inp.study.focal, w.crisis_start, w.crisis_end)
    return {} if t is None else {"platforms": t}


# ---- rendering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report is made from (see :func:`netsupport.study.run_study`)."""

    study: Any  # Study
    metrics: Mapping[str, Any]
    units: pd.DataFrame
    stance: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    interactions: pd.DataFrame
    posts: pd.DataFrame | None = None
    follows: pd.DataFrame | None = None
    membership: pd.Series | None = None
    pagerank: pd.Series | None = None
    roles: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    inputs: Sequence[Mapping[str, Any]] = ()
    counts: Mapping[str, int] = field(default_factory=dict)  # rows per store table
    # Given by the Dask engine (netsupport.scale), which never holds the rows in one process:
    # edges aggregated per window (baseline/crisis/after, all kinds) and "amplifiers" (crisis
    # repost/quote/mention), used instead of `interactions`; the most-answered posts per side
    # (top_posts); and a writer of tables/stance.csv used instead of `stance`.
    edges: Mapping[str, pd.DataFrame] | None = None
    top: Mapping[str, pd.DataFrame] | None = None
    write_stance: Callable[[Path], Path] | None = None
    # With pseudonymised outputs (netsupport.pseudonym): post ids in the tables are replaced
    # and texts withheld (handles are pseudonyms in the data already)
    pseudonymiser: Any = None
    # store key -> handle shown beside it (Bluesky DIDs: shown_handles); none when pseudonymised
    shown: Mapping[str, str] = field(default_factory=dict)

    def shown_handles(self) -> Mapping[str, str]:
        """The handles to show beside account keys (none in pseudonymised outputs)."""
        return self.shown if self.pseudonymiser is None else {}


def build_inputs(
    study: Any,
    tables: Mapping[str, pd.DataFrame],
    analysis: Any,
    *,
    membership: pd.Series | None = None,
    pagerank: pd.Series | None = None,
    inputs: Sequence[Mapping[str, Any]] = (),
    counts: Mapping[str, int] | None = None,
    interactions: pd.DataFrame | None = None,
) -> ReportInputs:
    """Return the :class:`ReportInputs` of a study from its tables and its analysis.

    Parameters
    ----------
    tables : mapping
        The canonical tables (``posts``, ``interactions``, ``follows``, ``accounts``).
    analysis : netsupport.support.Analysis
        Metrics, stance table, units and the per-metric tables.
    membership, pagerank : Series, optional
        Baseline communities and crisis PageRank (as given to, or computed by, the analysis).
    inputs : sequence of dict
        ``{path, format, bytes, sha256}`` per input file (for the methods section).
    counts : mapping, optional
        Rows per store table (default: the lengths of ``tables``).
    interactions : DataFrame, optional
        The study's interactions (:func:`netsupport.stance.stance_interactions`) when already
        computed (e.g. by the stance step): saves computing, and holding, a second copy.
    """
    from .stance import stance_interactions

    roles_t = analysis.tables.get("roles")
    roles = (
        roles_t.set_index("handle")["role"]
        if roles_t is not None and not roles_t.empty
        else pd.Series(dtype=object)
    )
    if counts is None:
        counts = {str(k): len(v) for k, v in tables.items() if v is not None}
    return ReportInputs(
        study=study,
        metrics=analysis.metrics,
        units=analysis.units,
        stance=analysis.stance,
        tables=dict(analysis.tables),
        interactions=(
            interactions if interactions is not None else stance_interactions(tables, study)
        ),
        posts=tables.get(Table.POSTS),
        follows=tables.get(Table.FOLLOWS),
        membership=membership if membership is not None and len(membership) else None,
        pagerank=pagerank if pagerank is not None and len(pagerank) else None,
        roles=roles,
        inputs=list(inputs),
        counts=dict(counts),
        shown=shown_handles(tables.get(Table.ACCOUNTS)),
    )


def _env(markdown: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("netsupport", "templates")
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            # every {{ value }} is escaped unless it is MdSafe; bidi controls go in both cases
            finalize=lambda v: md_escape(neutralise_bidi(v)),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["md"] = MdSafe
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            finalize=neutralise_bidi,  # every {{ value }}, escaped or Markup (textsafe.py)
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    env.filters.update(
        {
            "count": fmt_count,
            "pct": fmt_pct,
            "points": fmt_points,
            "ratio": fmt_ratio,
            "time": fmt_time,
            "hours": fmt_hours,
            "clip": _clip,
        }
    )
    return env


def _table_rows(df: pd.DataFrame | None, columns: Sequence[tuple[str, str, Any]]) -> dict:
    """Return ``{"head": [...], "rows": [[...]]}`` of formatted cells for a template table."""
    head = [label for _, label, _ in columns]
    rows: list[list[str]] = []
    if df is not None and not df.empty:
        for rec in df.to_dict("records"):
            rows.append([f(rec.get(col)) if f else _cell(rec.get(col)) for col, _, f in columns])
    return {"head": head, "rows": rows}


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, pd.Timestamp):
        return fmt_time(v)
    return str(v)


def _community_label(v: Any) -> str:
    n = _num(v)
    return "" if n is None else f"Community {int(n)}"


def _context(inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping[str, pd.DataFrame]):
    from .evidence_report import evidence_context, used_windows

    study, m = inp.study, inp.metrics
    inst = handles(study.institution) if study.institution else "institution"
    w = used_windows(study, m)  # cut to the data where the coverage check cut them
    f = findings(m)
    conf = _conf(m)
    agreement = _get(m, "stance", "agreement")
    params = study.parameters()
    windows_rows = [
        (
            "Before (baseline)",
            fmt_time(w.baseline_start),
            fmt_time(w.crisis_start),
            f"{w.days(Window.BASELINE):.1f}",
        ),
        (
            "Crisis",
            fmt_time(w.crisis_start),
            fmt_time(w.crisis_end),
            f"{w.days(Window.CRISIS):.1f}",
        ),
        ("After", fmt_time(w.crisis_end), fmt_time(w.after_end), f"{w.days(Window.AFTER):.1f}"),
    ]
    tbl = {
        "amplifiers": _table_rows(
            tables.get("amplifiers"),
            [
                ("rank", "Rank", None),
                ("handle", "Account", handle),
                ("role", "Role", None),
                ("community", "Community before", _community_label),
                ("pagerank", "PageRank", lambda v: f"{float(v):.4f}"),
                ("crisis_posts_about_focal", f"Posts about {handles(study.focal)}", fmt_count),
                ("stance", "Mostly", None),
            ],
        ),
        "proxies": _table_rows(
            tables.get("proxies"),
            [
                ("rank", "Rank", None),
                ("handle", "Account", handle),
                ("reach", "Accounts reached", fmt_count),
                ("supportive_posts", "Supportive posts", fmt_count),
                ("declared", "Named in the study", lambda v: "yes" if v else ""),
            ],
        ),
        "top_focal": _table_rows(
            tables.get("top_posts_focal"),
            [
                ("author", "Account", handle),
                ("created_at", "Posted", fmt_time),
                ("stance", "Stance", None),
                ("reach", "Accounts reached", fmt_count),
                ("text", "Text", None),
            ],
        ),
        "top_institution": _table_rows(
            tables.get("top_posts_institution"),
            [
                ("author", "Account", handle),
                ("created_at", "Posted", fmt_time),
                ("stance", "Stance", None),
                ("reach", "Accounts reached", fmt_count),
                ("text", "Text", None),
            ],
        ),
        "platforms": _table_rows(
            tables.get("platforms"),
            [
                ("platform", "Platform", None),
                ("posts", "Posts", fmt_count),
                ("accounts", "Accounts posting", fmt_count),
                ("replies", "Replies", fmt_count),
                ("reposts", "Reposts", fmt_count),
                ("quotes", "Quotes", fmt_count),
                ("likes", "Likes", fmt_count),
                ("with_focal", f"Interactions with {handles(study.focal)}", fmt_count),
                ("with_focal_crisis", "of them in the crisis", fmt_count),
            ],
        ),
        "headline": {
            "head": ["Measure", handles(study.focal)]
            + ([handles(study.institution)] if study.institution else []),
            "rows": headline_display(m),
        },
    }
    agree = None
    if isinstance(agreement, Mapping) and not _is_nm(agreement):
        agree = {
            "n": fmt_count(agreement.get("n")),
            "accuracy": fmt_pct(agreement.get("accuracy")),
            "kappa": f"{float(agreement.get('kappa', float('nan'))):.2f}",
            "macro_f1": f"{float(agreement.get('macro_f1', float('nan'))):.2f}",
        }
    return {
        "title": f"Who stood by {handles(study.focal)}",
        "study": study,
        "name": study.name,
        "focal": handles(study.focal),
        "institution": handles(study.institution) if study.institution else "",
        "crisis": f"{fmt_time(w.crisis_start)} to {fmt_time(w.crisis_end)}",
        "crisis_days": f"{w.days(Window.CRISIS):.1f}",
        "baseline_days": f"{w.days(Window.BASELINE):.0f}",
        "after_days": f"{w.days(Window.AFTER):.0f}",
        "counts": {k: fmt_count(v) for k, v in inp.counts.items()},
        "n_inputs": len(inp.inputs),
        "findings": f.sentences,
        "not_measured": f.not_measured,
        "charts": list(charts_),
        "tables": tbl,
        "windows": windows_rows,
        "inputs": [
            {
                "name": Path(str(i.get("path", ""))).name,
                "format": i.get("format", ""),
                "bytes": fmt_count(i.get("bytes")),
                "sha256": str(i.get("sha256", "")),
            }
            for i in inp.inputs
        ],
        "parameters": _flat_parameters(params),
        "agreement": agree,
        "agreement_reason": _reason(agreement) if _is_nm(agreement) else "",
        "stance_rules": sorted((_get(m, "stance", "by_rule") or {}).items()),
        "conf": conf,
        "version": __version__,
        "csp": CSP,
        "table_files": sorted(f"tables/{k}.csv" for k in tables),
        **evidence_context(m, study),  # the evidence partials' values (issue 15)
        "sensitivity": _sensitivity_context(m, bool(study.institution)),
        **stance_context(m, charts_, {"focal": handles(study.focal), "institution": inst}),
    }


def _sensitivity_context(m: Mapping[str, Any], institution: bool) -> Any:
    from . import report_evidence

    return report_evidence.sensitivity_context(m, institution)


def _flat_parameters(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k in sorted(params):
        v = params[k]
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _flat_parameters(v, f"{key}.")
        elif isinstance(v, list | tuple):
            out.append((key, ", ".join(str(x) for x in v) or "(none)"))
        else:
            out.append((key, "(none)" if v is None else str(v)))
    return out


def render_html(
    inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping, gexf_note: str | None = None
) -> str:
    """Return the self-contained index.html (autoescaped; charts as data URIs).

    ``gexf_note`` says what graph.gexf leaves out (see :mod:`netsupport.gexfout`), if anything.
    """
    with showing(inp.shown_handles()):
        ctx = _context(inp, charts_, tables)
        return _env(False).get_template("report.html.j2").render(**ctx, gexf_note=gexf_note)


def render_markdown(
    inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping, gexf_note: str | None = None
) -> str:
    """Return report.md (untrusted strings escaped for Markdown; charts linked relatively)."""
    with showing(inp.shown_handles()):
        ctx = _context(inp, charts_, tables)
        return _env(True).get_template("report.md.j2").render(**ctx, gexf_note=gexf_note)


def _clean(folder: Path, keep: set[str], suffixes: tuple[str, ...]) -> None:
    """Remove files a previous run wrote in ``folder`` that this run does not write."""
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix in suffixes and p.name not in keep:
            p.unlink()


@contextmanager
def _gc_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's passes until the end
    (:func:`gc.freeze`): the report makes many small objects (figures, XML and CSV pieces), so
    the collector runs often, and each full pass would walk the study's tables of Python
    strings (millions of objects at 10^6 interactions) that the report only reads."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class EarlyReport(Protocol):
    """What :func:`write_report` is given when a child process made part of the report."""

    #: the parts the child made beside the metrics step (:class:`netsupport.engine.
    #: ReportParts`: the GEXF's scope, the network map's graph, tables/stance.csv or None)
    parts: Any

    def start_gexf(self, node_attrs: pd.DataFrame) -> Callable[[], Path | None]:
        """Have the child write graph.gexf with these node attributes; return a function that
        waits for it and returns its path (None when no window holds an edge)."""
        ...


def write_report(
    inp: ReportInputs, out_dir: str | Path, early: EarlyReport | None = None
) -> list[Path]:
    """Write the report files into ``out_dir`` and return their paths (manifest excluded).

    Writes metrics.json, tables/*.csv, charts/*.png|svg, graph.gexf (dynamic: one spell per
    window), report.md and index.html, each atomically; files a previous run left in charts/ and
    tables/ that this run does not produce are removed.

    ``early``: the parts a child process made while the metrics step ran (the GEXF's scope, the
    network map's graph, tables/stance.csv); the child then writes graph.gexf while this
    process draws the charts. The same files either way (tests/test_engine.py).
    """
    with _gc_frozen():
        return _write_report(inp, out_dir, early)


def _write_report(
    inp: ReportInputs, out_dir: str | Path, early: EarlyReport | None = None
) -> list[Path]:
    from . import gexfout

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    coded = window_edges = None
    if early is not None:
        draw = chart_plan(inp, crisis_map=early.parts.crisis_map)
        scope = early.parts.scope
    else:
        # the handles factorised once, for the GEXF's windows, its scope and the network map
        coded = None if inp.edges is not None else gexfout.CodedInteractions(inp.interactions)
        draw = chart_plan(inp, coded)
        window_edges = (
            inp.edges
            if inp.edges is not None
            else gexfout.window_edges_of(inp.interactions, inp.study.windows, coded=coded)
        )
        max_edges = getattr(inp.study, "gexf_max_edges", gexfout.DEFAULT_GEXF_MAX_EDGES)
        scope = gexfout.gexf_scope(window_edges, max_edges)
    metrics = inp.metrics
    if scope.crisis_only:  # (only then: complete studies' metrics.json unchanged)
        metrics = {**inp.metrics, "gexf": scope.as_dict()}
    written: list[Path] = [write_json(metrics, out / "metrics.json")]
    # the child writes graph.gexf while this process writes the rest
    wait_gexf = early.start_gexf(_node_attrs(inp)) if early is not None else None
    early_stance = early.parts.stance_csv if early is not None else None

    tables = report_tables(inp)
    if inp.pseudonymiser is not None:
        tables = inp.pseudonymiser.output_tables(tables)
    if inp.write_stance is not None:
        tables["stance"] = pd.DataFrame()  # listed with the others; written by write_stance
    for name, df in sorted(tables.items()):
        path = out / "tables" / f"{name}.csv"
        if name == "stance" and early_stance is not None:
            written.append(early_stance)  # (written by the child)
        elif name == "stance" and inp.write_stance is not None:
            written.append(inp.write_stance(path))
        else:
            written.append(write_csv(df, path))
    _clean(out / "tables", {f"{k}.csv" for k in tables}, (".csv",))

    if window_edges is not None:
        written += gexfout.write_report_gexf(
            window_edges, inp.study.windows, out, _node_attrs(inp), scope
        )

    chart_list = _make_charts(draw)
    for c in chart_list:
        written.append(_write_bytes(out / "charts" / f"{c.key}.png", c.png))
        written.append(_write_bytes(out / "charts" / f"{c.key}.svg", c.svg))
    _clean(
        out / "charts",
        {f"{c.key}.{x}" for c in chart_list for x in ("png", "svg")},
        (".png", ".svg"),
    )

    note = scope.note()
    written.append(
        atomic_write_text(
            out / "report.md", render_markdown(inp, chart_list, tables, gexf_note=note)
        )
    )
    written.append(
        atomic_write_text(out / "index.html", render_html(inp, chart_list, tables, gexf_note=note))
    )
    if wait_gexf is not None:
        gexf = wait_gexf()
        written += [gexf] if gexf is not None else []
    return written


def _write_bytes(path: Path, data: bytes) -> Path:
    from .textsafe import atomic_write_bytes

    return atomic_write_bytes(path, data)


def _node_attrs(inp: ReportInputs) -> pd.DataFrame:
    """Static node attributes for the GEXF: baseline community, role, crisis PageRank."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [inp.roles, inp.membership, inp.pagerank]
    # the handles of all three, distinct and sorted in Arrow (UTF-8 byte order is code point
    # order: Python's sorted()); a Python set of ~10^5 handles cost 0.3 CPU s at 10^6
    handles = pa.chunked_array(
        [np.asarray(s.index.astype(str), dtype=object) for s in parts if s is not None],
        type=pa.string(),
    )
    uniq = pc.unique(handles)
    uniq = uniq.take(pc.sort_indices(uniq)).to_numpy(zero_copy_only=False)
    index = pd.Index(uniq, dtype=object, name="handle")
    df = pd.DataFrame(index=index)
    df["community"] = (
        inp.membership.reindex(index).astype("Int64")
        if inp.membership is not None
        else pd.array([pd.NA] * len(index), dtype="Int64")
    )
    df["role"] = inp.roles.reindex(index).fillna(Role.UNKNOWN.value).astype(object)
    df["crisis_pagerank"] = (
        inp.pagerank.reindex(index).astype(float) if inp.pagerank is not None else np.nan
    )
    return df.reset_index()


# ---- manifest -----------------------------------------------------------------------------------


def package_versions(names: Iterable[str] = MANIFEST_PACKAGES) -> dict[str, str | None]:
    """Return the installed version of each package (``None`` when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks (graph.gexf of a big study is hundreds of MB)."""
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_manifest(
    out_dir: str | Path,
    study: Any,
    inputs: Sequence[Mapping[str, Any]],
    *,
    steps: Mapping[str, Any] | None = None,
    files: Sequence[Path] = (),
    created_at: str | None = None,
) -> Path:
    """Write manifest.json: how the report was made (the only file with a wall-clock time).

    Records the inputs with their sha256, every parameter and seed, the package and Python
    versions, the netsupport version, the steps run or reused, and the sha256 of every output
    file, so a reader can check that a rerun reproduced the report byte for byte.
    """
    out = Path(out_dir)
    digests = {
        str(p.relative_to(out)): _file_sha256(p)
        for p in sorted(set(files))
        if p.exists() and p.is_relative_to(out)
    }
    manifest = {
        "netsupport": __version__,
        "created_at": created_at
        if created_at is not None
        else pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "study": str(study.path) if study.path else None,
        "parameters": study.parameters(),
        "seeds": {
            "communities": study.communities.seed,
            "support_bootstrap": study.support.seed,
            "layout": study.communities.seed,
        },
        "inputs": [dict(i) for i in inputs],
        "python": platform.python_version(),
        "packages": package_versions(),
        "steps": dict(steps or {}),
        "outputs": digests,
    }
    return write_json(jsonable(manifest), out / "manifest.json")
