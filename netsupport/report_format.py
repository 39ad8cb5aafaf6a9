"""Formatting for the report: numbers, intervals, handles and Markdown escaping, and the
pieces every report module builds: a :class:`Sentence` (our wording, with untrusted or numeric
values escaped for each output format) and a chart drawn (:class:`DrawnChart`) or rendered
(:class:`Chart`). It re-exports :func:`~netsupport.support.ties.undated_ties`, a reading of the
metrics that more than one part shows (and ``netsupport support`` too).

It imports no other report module, so :mod:`netsupport.report` and the modules of its parts
(:mod:`~netsupport.report_findings`, :mod:`~netsupport.report_charts`,
:mod:`~netsupport.report_tables`, :mod:`~netsupport.report_stance`,
:mod:`~netsupport.report_evidence`, :mod:`~netsupport.evidence_report`) import from it
without a cycle.

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
import math
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from .support.ties import UndatedTies, corrected_tie_share, undated_ties
from .textsafe import neutralise_bidi

__all__ = [
    "Chart",
    "DrawnChart",
    "MdSafe",
    "Sentence",
    "UndatedTies",
    "corrected_tie_share",
    "fmt_count",
    "fmt_counted",
    "fmt_counted_range",
    "fmt_day",
    "fmt_hours",
    "fmt_hours_1",
    "fmt_pct",
    "fmt_points",
    "fmt_rate",
    "fmt_ratio",
    "fmt_span",
    "fmt_time",
    "handle",
    "handles",
    "is_one",
    "md_escape",
    "points_noun",
    "showing",
    "shown_handles",
    "undated_ties",
]


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


def points_noun(x: Any) -> str:
    """Return ``point`` or ``points``, agreeing with :func:`fmt_points` of ``x`` ("+1 point").

    Examples
    --------
    >>> points_noun(0.01), points_noun(-0.012), points_noun(0.25), points_noun(None)
    ('point', 'point', 'points', 'points')
    """
    v = _num(x)
    return "point" if v is not None and abs(round(v * 100)) == 1 else "points"


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


def is_one(x: Any) -> bool:
    """True when ``x`` is a count that shows as exactly 1 (so its noun and verb are singular).

    Examples
    --------
    >>> is_one(1), is_one(1.0), is_one(2), is_one(0), is_one(None)
    (True, True, False, False, False)
    """
    v = _num(x)
    return v is not None and round(v) == 1


def fmt_counted(x: Any, one: str, many: str) -> str:
    """Return a count with its noun in the number it agrees with: ``1 account``, ``2 accounts``.

    ``one`` and ``many`` are the singular and plural wording after the number (a noun, or a noun
    and its verb: ``"account has"``, ``"accounts have"``). ``x`` may be a number or a count
    :func:`fmt_count` formatted (templates get those); a missing count shows as ``n/a`` followed
    by the plural.

    Examples
    --------
    >>> fmt_counted(1, "account", "accounts"), fmt_counted(1234, "account", "accounts")
    ('1 account', '1,234 accounts')
    >>> fmt_counted(0, "critic", "critics"), fmt_counted(1, "was a newcomer", "were newcomers")
    ('0 critics', '1 was a newcomer')
    >>> fmt_counted("1,234", "post", "posts")  # a count fmt_count already formatted
    '1,234 posts'
    """
    if isinstance(x, str):
        x = x.replace(",", "")
    return f"{fmt_count(x)} {one if is_one(x) else many}"


def fmt_counted_range(lo: Any, hi: Any, one: str, many: str) -> str:
    """Return a range of counts with its noun: ``1 to 3 communities``; one count when the ends
    are equal (``5 communities``, ``1 community``), so no sentence reads "from 5 to 5".

    Examples
    --------
    >>> fmt_counted_range(1, 3, "community", "communities")
    '1 to 3 communities'
    >>> fmt_counted_range(1, 1, "community", "communities")
    '1 community'
    >>> fmt_counted_range(5, 5, "community", "communities")
    '5 communities'
    """
    if fmt_count(lo) == fmt_count(hi):
        return fmt_counted(hi, one, many)
    return f"{fmt_count(lo)} to {fmt_counted(hi, one, many)}"


def fmt_span(lo: str, hi: str) -> str:
    """Return the range between two formatted values, ``lo to hi``, or the one value when both
    read the same (``0.90× to 0.90×`` says nothing a reader needs twice).

    Examples
    --------
    >>> fmt_span("0.90×", "4.0×"), fmt_span("0.50", "0.50")
    ('0.90× to 4.0×', '0.50')
    """
    return lo if lo == hi else f"{lo} to {hi}"


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


def fmt_hours_1(h: Any) -> str:
    """Return a duration in hours with one decimal, the unit of a chart axis or a sentence that
    compares durations (role timing): ``33.2 h``, never days and hours mixed.

    Examples
    --------
    >>> fmt_hours_1(22.02), fmt_hours_1(81.13), fmt_hours_1(0.25), fmt_hours_1(0.01)
    ('22.0 h', '81.1 h', '0.2 h', '<0.1 h')
    """
    v = _num(h)
    if v is None:
        return "n/a"
    return "<0.1 h" if 0 < v < 0.05 else f"{v:.1f} h"


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


def overdispersed_ci(lift: Mapping[str, Any]) -> str:
    """Return the lift's quasi-Poisson interval ("a–b×") when it is measured and wider than the
    exact one at the precision shown, else "" (METHODS.md, "Attention and lift").

    Examples
    --------
    >>> overdispersed_ci({"low": 6.72, "high": 10.04,
    ...     "overdispersed": {"low": 6.46, "high": 10.37}})
    '6.5–10×'
    >>> overdispersed_ci({"low": 6.72, "high": 10.04,
    ...     "overdispersed": {"low": 6.72, "high": 10.04}})
    ''
    """
    od = lift.get("overdispersed")
    if not isinstance(od, Mapping) or _is_nm(od):
        return ""
    shown = _ci(od, fmt_ratio)
    return "" if not shown or shown == _ci(lift, fmt_ratio) else shown


def marker_only_clause(lift: Mapping[str, Any], conf: str) -> str:
    """Return "; without the 23 crisis posts (6%) that count only through a campaign marker
    (none before the crisis), 7.7× (95% CI 6.3–9.4×)" when the crisis had marker-only posts
    and the period before none, else "" (METHODS.md, "Attention and lift").

    Examples
    --------
    >>> c = marker_only_clause({"numerator": 415, "without_marker_only": {"value": 7.74,
    ...     "low": 6.33, "high": 9.5, "marker_only_units": {"crisis": 23, "baseline": 0}}}, "95%")
    >>> c.startswith("; without the 23 crisis posts (6%) that count only through a campaign")
    True
    >>> c.endswith(" marker (none before the crisis), 7.7× (95% CI 6.3–9.5×)")
    True
    """
    w = lift.get("without_marker_only")
    if not isinstance(w, Mapping) or _is_nm(w):
        return ""
    counts = w.get("marker_only_units") or {}
    m1, m0, n1 = int(counts.get("crisis", 0)), int(counts.get("baseline", 0)), lift.get("numerator")
    if m1 <= 0 or m0 > 0 or not n1:
        return ""
    posts = fmt_counted(m1, "crisis post", "crisis posts")
    verb = "counts" if m1 == 1 else "count"
    return (
        f"; without the {posts} ({fmt_pct(m1 / n1)}) that {verb} only through a campaign marker "
        f"(none before the crisis), {fmt_ratio(w['value'])} ({conf} CI {_ci(w, fmt_ratio)})"
    )


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
    from .io.platforms import bluesky_handles

    return bluesky_handles(accounts)


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


@dataclass(frozen=True)
class DrawnChart:
    """A chart drawn but not yet rendered: its :class:`Chart` fields and the figure."""

    key: str
    title: str
    caption: Sentence
    alt: str
    figure: Any  # matplotlib Figure
