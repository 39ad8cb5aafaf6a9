"""The report's charts: the small data frames each chart is drawn from (counts per time bin,
shares with their intervals), the plan that draws the charts (:func:`chart_plan`) and their
rendering as PNG and SVG. The figures themselves are drawn by :mod:`netsupport.charts` (and
:mod:`netsupport.evidence_charts`, :mod:`netsupport.report_evidence`,
:mod:`netsupport.report_stance` for theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import charts
from .graph import GraphArrays, crisis_map_of, neighbourhood
from .report_format import (
    Chart,
    DrawnChart,
    Sentence,
    _get,
    _is_nm,
    fmt_hours,
    fmt_time,
    handles,
)
from .report_stance import add_stance_chart, corrected_findings
from .schema import Role, Target, Window
from .timebins import TimeBins
from .windows import Windows

if TYPE_CHECKING:
    from .report import ReportInputs

__all__ = [
    "CHART_KEYS",
    "attention_counts",
    "build_charts",
    "chart_plan",
    "composition_frame",
    "draw_charts",
    "first_mentions",
    "labelled_proxies",
    "mobilisation_frame",
    "net_support_frame",
    "roles_counts",
    "time_bin",
    "timing_medians",
]

_FOCAL, _INST = Target.FOCAL.value, Target.INSTITUTION.value
_B, _C, _A = Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value

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


def timing_medians(
    metrics: Mapping[str, Any],
) -> tuple[dict[str, tuple[float, int]], dict[str, int]]:
    """Return role timing's median hours to the first post of accounts new to the conversation,
    with their number, for the roles the order test takes (``role_timing.focal.order``, the
    roles the report's sentence names), and the roles left out of it with their numbers of new
    accounts; two empty dicts when role timing is not measured (METHODS.md, "Role timing")."""
    rt = _get(metrics, "role_timing", _FOCAL)
    if _is_nm(rt) or not isinstance(rt, Mapping) or not rt.get("roles"):
        return {}, {}
    roles = rt["roles"]
    tested = [
        r for r in rt.get("order") or [] if roles[r].get("median_first_hours_new") is not None
    ]
    medians = {r: (roles[r]["median_first_hours_new"], roles[r]["new_accounts"]) for r in tested}
    not_reached = {  # tested, but fewer than half had posted by the crisis end: no bar to draw
        f"{r} (median not reached)": roles[r]["new_accounts"]
        for r in rt.get("order") or []
        if r not in medians and roles[r].get("median_reached") is False
    }
    too_few = {
        r.value: roles[r.value]["new_accounts"]
        for r in Role
        if r.value in roles
        and r.value not in medians
        and r.value not in (rt.get("order") or [])
        and roles[r.value]["new_accounts"]
    }
    return medians, {**not_reached, **too_few}


def _drawn(metrics: Mapping[str, Any], mob: pd.DataFrame) -> str:
    """ " Drawn: the N largest of the M communities (all in tables/communities.csv)." when the
    mobilisation chart leaves communities out (:func:`mobilisation_frame`'s ``top``), else ""."""
    block = metrics.get("mobilisation")
    if not isinstance(block, Mapping):
        return ""
    # n_communities: all found (metrics.json lists the largest 20 of them)
    total = int(block.get("n_communities") or len(block.get("communities") or ()))
    if len(mob) >= total:
        return ""
    return (
        f" Drawn: the {len(mob):,} largest of the {total:,} communities (all in "
        "tables/communities.csv)."
    )


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
            + ". Vertical lines are {conf} bootstrap intervals over accounts"
            + (
                ", counting the stance decisions as made: they leave out the decisions' error "
                '(the error-corrected values are in "How good is the stance?").'
                if corrected_findings(m)
                else "."
            ),
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
            "it in the baseline window) or were newcomers. Supporters by their stance decisions "
            "as made: the decisions' error is not in these counts.",
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
            "share who were mostly supportive (stance decisions as made). Lines are {conf} exact "
            "binomial intervals: the stance decisions' error is not in them." + _drawn(m, mob),
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
            "Reposts, quotes and mentions in the crisis among accounts within two steps of {who}; "
            "of a bigger graph, the named accounts and those of highest PageRank are drawn, up to "
            f"{charts.NETWORK_MAX_NODES} (the chart's subtitle says how many of how many). "
            "Node size is PageRank on this graph; colour is the community the account belonged "
            "to before the crisis; labelled proxies are the accounts whose supportive posts "
            "reached most others while {who} was silent. Layout: spring layout, seed {seed}.",
            {"who": focal, "seed": str(study.communities.seed)},
        ),
        f"Network map of the crisis interactions around {focal}, coloured by community.",
    )

    rc = roles_counts(inp.units, inp.roles, w, freq)
    medians, too_few = timing_medians(m)
    below = (
        "Below: among each role's accounts new to the conversation (none of their posts "
        "addressed {who} before the crisis), the median time from the crisis start to their "
        "first post addressing it, as in the text; roles with too few such accounts to test "
        "their order are left out."
        if medians
        else "Below: the earliest single post of each role addressing {who} in the crisis. It "
        "depends on the role's size (the more accounts, the sooner the first), so it is not an "
        "order of the roles."
    )
    add(
        "roles",
        lambda: charts.roles_timeline(
            rc,
            w,
            focal_label=focal,
            first_mentions=first_mentions(m),
            medians=medians,
            too_few=too_few,
            freq=freq,
        ),
        "Who carried the story",
        Sentence(
            "Posts addressing {who} per {unit} by the sender's role (from the accounts file, or "
            "keywords in the profile), {unit}s counted from the crisis start. " + below,
            {"who": focal, "unit": unit},
        ),
        f"Line chart of posts addressing {focal} by role over time, and "
        + ("the median time to a first post per role." if medians else "first post per role."),
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
