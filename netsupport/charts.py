"""The six charts of a netsupport report: matplotlib (Agg), one style, colour-blind-safe colours.

Every chart is a pure function from small, documented data frames (built by
:mod:`netsupport.report_charts` from the metrics and tables) to a :class:`matplotlib.figure.Figure`;
:func:`save_figure` writes it as PNG and SVG with pinned metadata (no date, fixed SVG id salt),
so the same data give the same bytes.

The palette is Okabe & Ito's (2008) eight colours, chosen to stay distinct under the common forms
of colour blindness; stance uses blue (supportive) against vermillion (critical) with grey for
neutral, never red against green. Titles and axis labels are plain words. Nothing reads the clock.

Charts
------
1. :func:`attention_timeline` - posts addressing the focal account and the institution
   per day (or hour), stacked by stance, crisis shaded, the focal account's silence marked.
2. :func:`network_map` - the crisis graph around the focal account, coloured by baseline community,
   sized by PageRank, proxies labelled (spring layout with a fixed seed; a sample when large).
3. :func:`community_mobilisation` - per community: share active and supportive share, with
   intervals.
4. :func:`supporter_composition` - supporters with a prior tie vs newcomers, per window.
5. :func:`net_support_chart` - net support per window for the focal account and the institution.
6. :func:`roles_timeline` - attention by role over time, with each role's first mention.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> df = pd.DataFrame({"window": ["baseline", "crisis", "baseline", "crisis"],
...                    "target": ["focal", "focal", "institution", "institution"],
...                    "net": [0.1, 0.5, 0.0, -0.4], "lo": [0.0, 0.4, -0.1, -0.5],
...                    "hi": [0.2, 0.6, 0.1, -0.3]})
>>> fig = net_support_chart(df, focal_label="@lane", institution_label="@force")
>>> paths = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "net_support")
>>> sorted(p.suffix for p in paths.values())
['.png', '.svg']
"""

from __future__ import annotations

import math
import os
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import matplotlib.patheffects as pe
import matplotlib.transforms as mtransforms
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)

from .graph import GraphArrays, GraphLike
from .report_format import fmt_hours_1
from .schema import Role, Stance, Target, Window
from .textsafe import atomic_write_bytes
from .timebins import TimeBins

__all__ = [
    "COMMUNITY_COLOURS",
    "OKABE_ITO",
    "ROLE_COLOURS",
    "STANCE_COLOURS",
    "STYLE",
    "TARGET_COLOURS",
    "attention_timeline",
    "community_colour",
    "community_mobilisation",
    "confusion_matrix_chart",
    "figure_bytes",
    "figure_png_svg",
    "net_support_chart",
    "network_map",
    "roles_timeline",
    "sample_nodes",
    "save_figure",
    "supporter_composition",
]

#: Okabe & Ito (2008), "Color Universal Design": distinct under protan, deutan and tritan vision.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#BBBBBB"
DARK = "#333333"
CRISIS_SHADE = "#F0E442"  # Okabe-Ito yellow, drawn pale behind the data

STANCE_COLOURS = {
    Stance.SUPPORTIVE: OKABE_ITO["blue"],
    Stance.NEUTRAL: "#C8C8C8",
    Stance.CRITICAL: OKABE_ITO["vermillion"],
}
STANCE_ORDER = (Stance.SUPPORTIVE, Stance.NEUTRAL, Stance.CRITICAL)
TARGET_COLOURS = {Target.FOCAL: OKABE_ITO["bluish_green"], Target.INSTITUTION: OKABE_ITO["orange"]}
ROLE_COLOURS = {
    Role.MEDIA: OKABE_ITO["orange"],
    Role.JOURNALIST: OKABE_ITO["reddish_purple"],
    Role.PROFESSIONAL: OKABE_ITO["blue"],
    Role.INSTITUTION: OKABE_ITO["vermillion"],
    Role.CITIZEN: OKABE_ITO["bluish_green"],
    Role.UNKNOWN: "#999999",
}
ROLE_MARKERS = {
    Role.MEDIA: "s",
    Role.JOURNALIST: "D",
    Role.PROFESSIONAL: "^",
    Role.INSTITUTION: "v",
    Role.CITIZEN: "o",
    Role.UNKNOWN: "x",
}
#: Community colours by rank (community 0 is the largest); later communities are grey.
COMMUNITY_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["yellow"],
)
WINDOW_LABELS = {Window.BASELINE: "Before", Window.CRISIS: "Crisis", Window.AFTER: "After"}

#: The one style of every chart (applied with ``matplotlib.rc_context``, never globally).
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: same glyphs on every machine
    "font.size": 10.5,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 10.5,
    "axes.labelcolor": DARK,
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.8,
    "xtick.color": DARK,
    "ytick.color": DARK,
    "legend.frameon": False,
    "legend.fontsize": 9.5,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.facecolor": "white",
    "svg.hashsalt": "netsupport",  # stable SVG ids
    "svg.fonttype": "path",  # text as paths: renders the same without the font installed
    "text.parse_math": False,  # handles and hashtags are data: "$" must not start mathtext
    "path.simplify": True,
}
FIGSIZE = (10.0, 5.2)


@contextmanager
def _style():
    with matplotlib.rc_context(STYLE):
        yield


def _figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """Return a new figure on the Agg canvas (no pyplot: no global figure state, no display)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def community_colour(rank: int | None) -> str:
    """Return the colour of the community with this rank (0 = largest); grey beyond the palette.

    Examples
    --------
    >>> community_colour(0), community_colour(99), community_colour(None)
    ('#0072B2', '#BBBBBB', '#FFFFFF')
    """
    if rank is None or (isinstance(rank, float) and math.isnan(rank)):
        return "#FFFFFF"
    rank = int(rank)
    return COMMUNITY_COLOURS[rank] if 0 <= rank < len(COMMUNITY_COLOURS) else GREY


# ---- saving -------------------------------------------------------------------------------------


def figure_bytes(fig: Figure, fmt: str, title: str | None = None) -> bytes:
    """Return ``fig`` rendered as ``"png"`` or ``"svg"`` bytes with no date or version in them.

    PNG: the ``Software`` tag is dropped; SVG: no ``Date``, creator ``netsupport``, and the
    ``svg.hashsalt`` of :data:`STYLE` so clip-path ids are the same on every run.
    """
    import io

    title = title or (fig.get_suptitle() or None)
    if fmt == "png":
        metadata: dict[str, Any] = {"Software": None}
        if title:
            metadata["Title"] = title
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": "netsupport"}
        if title:
            metadata["Title"] = title
    else:
        raise ValueError(f"unsupported chart format {fmt!r} (png or svg)")
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format=fmt, metadata=metadata)
    return buf.getvalue()


def figure_png_svg(fig: Figure, title: str | None = None) -> tuple[bytes, bytes]:
    """Return ``fig`` rendered as PNG and as SVG bytes (:func:`figure_bytes`), laid out once.

    The PNG's bytes are exactly those of ``figure_bytes(fig, "png")``. Saving a figure with a
    layout engine lays it out (constrained layout: a pass over every text's extent) and then
    draws it twice: once with drawing disabled, to lay out and find the renderer, and once for
    the pixels. Here the layout engine runs once, as that first pass runs it (the PNG's dpi,
    the canvas' Agg renderer), and is then switched off, so the PNG is drawn once (the pass
    with drawing disabled was 10-15% of a chart's rendering time) and the SVG is drawn from
    the same positions (the layout is about a third of it). The SVG's bytes are as stable as
    the PNG's, but not those of ``figure_bytes(fig, "svg")`` (which lays out again, for the
    SVG renderer's 72 dpi).
    """
    engine = fig.get_layout_engine()
    with _style():
        if engine is not None:
            _lay_out(fig, engine, matplotlib.rcParams["savefig.dpi"])
        # (no figure.autolayout or constrained_layout.use: None means no engine)
        fig.set_layout_engine(None)
    try:
        png = figure_bytes(fig, "png", title)
        svg = figure_bytes(fig, "svg", title)
    finally:
        fig.set_layout_engine(engine)
    return png, svg


def _lay_out(fig: Figure, engine: Any, dpi: float | str) -> None:
    """Run ``engine`` on ``fig`` as ``savefig(dpi=dpi)`` runs it before drawing (Agg canvas)."""
    old = fig.dpi
    fig.dpi = old if dpi == "figure" else dpi
    try:
        engine.execute(fig)
    finally:
        fig.dpi = old


def save_figure(
    fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), title: str | None = None
) -> dict[str, Path]:
    """Write ``fig`` to ``stem.png`` and ``stem.svg`` atomically; return ``{format: path}``."""
    stem = Path(stem)
    return {
        fmt: atomic_write_bytes(stem.with_suffix(f".{fmt}"), figure_bytes(fig, fmt, title))
        for fmt in formats
    }


# ---- helpers ------------------------------------------------------------------------------------


def _utc(ts: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _naive(ts: Any) -> np.datetime64:
    """Matplotlib date axes want naive datetimes; all ours are UTC."""
    return _utc(ts).tz_localize(None).to_datetime64()


def _titles(
    fig: Figure, title: str, subtitle: str | None = None, ax: Any = None, width: int = 120
) -> None:
    """Put the bold title at the top left of the figure and a grey subtitle above ``ax``,
    wrapped at ``width`` characters (less where long tick labels push the axes right)."""
    fig.suptitle(title, x=0.01, ha="left", fontsize=13.5, fontweight="bold")
    if subtitle and ax is not None:
        # wrap=True: wrapped again at the canvas' right edge if a line still reaches it (the
        # coverage chart's file names pushed its subtitle off the canvas, review t5 #17)
        ax.set_title(
            textwrap.fill(subtitle, width),
            fontsize=9.5,
            fontweight="normal",
            color="#555555",
            loc="left",
            wrap=True,
        )


def _date_axis(ax) -> None:
    """Concise date ticks; the year is on the first tick of each month ("Mar 2014"), not in an
    offset label under the axis, which repeated the last tick's month ("2014-Mar", review t5
    #17)."""
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    zero = ["", "%Y", "%b %Y", "%d %b", "%H:%M", "%H:%M"]
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator, zero_formats=zero, show_offset=False)
    )


def _shade_crisis(ax, windows: Any, label: bool = True) -> None:
    ax.axvspan(
        _naive(windows.crisis_start),
        _naive(windows.crisis_end),
        color=CRISIS_SHADE,
        alpha=0.28,
        lw=0,
        zorder=0,
        label="Crisis window" if label else None,
    )


def _no_data(ax, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color="#666666",
        fontsize=11,
    )
    ax.set_yticks([])


def _pct_axis(ax, axis: str = "x") -> None:
    fmt = PercentFormatter(xmax=1.0, decimals=0)
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _interval_note(confidence: float) -> str:
    return f"Lines: {confidence:.0%} intervals"


def bin_width(freq: str) -> pd.Timedelta:
    """Return the width of a time bin ``"D"`` (day) or ``"h"`` (hour).

    Examples
    --------
    >>> bin_width("h")
    Timedelta('0 days 01:00:00')
    """
    if freq not in ("D", "h"):
        raise ValueError(f"time bin must be 'D' or 'h', got {freq!r}")
    return pd.Timedelta(days=1) if freq == "D" else pd.Timedelta(hours=1)


# ---- 1. attention timeline ----------------------------------------------------------------------


def attention_timeline(
    counts: pd.DataFrame,
    windows: Any,
    *,
    focal_label: str,
    institution_label: str | None = None,
    silence: tuple[Any, Any] | None = None,
    freq: str = "D",
) -> Figure:
    """Draw posts addressing the focal account (and the institution) over time, by stance.

    Parameters
    ----------
    counts : DataFrame
        Columns ``time`` (bin start, UTC), ``target`` (:class:`Target`), ``stance``
        (:class:`Stance`), ``count``.
    windows : Windows
        The study windows; the crisis is shaded and the x axis spans baseline to after.
    focal_label, institution_label : str
        How the two sides are named (e.g. ``"@inspector_lane"``); without an institution label the
        chart has one panel.
    silence : (start, end), optional
        The focal account's longest silence overlapping the crisis; drawn as a hatched strip
        along the top of the focal panel.
    freq : {"D", "h"}
        Bin width: day or hour.
    """
    targets = [Target.FOCAL] + ([Target.INSTITUTION] if institution_label else [])
    labels = {Target.FOCAL: focal_label, Target.INSTITUTION: institution_label}
    width = bin_width(freq)
    bins = TimeBins(windows, freq)
    unit = "day" if freq == "D" else "hour"
    with _style():
        fig = _figure((10.0, 2.9 * len(targets) + 1.2))
        axes = fig.subplots(len(targets), 1, sharex=True, squeeze=False)[:, 0]
        x0, x1 = _naive(windows.baseline_start), _naive(windows.after_end)
        for ax, target in zip(axes, targets, strict=True):
            _shade_crisis(ax, windows)
            sub = counts[counts["target"].astype(str) == target.value]
            sub = sub.assign(time=bins.starts(sub["time"]).to_numpy()).dropna(subset=["time"])
            table = (
                sub.pivot_table(index="time", columns="stance", values="count", aggfunc="sum")
                .fillna(0)
                .sort_index()
                if len(sub)
                else pd.DataFrame()
            )
            if table.empty or float(table.to_numpy().sum()) == 0:
                _no_data(ax, f"No posts addressing {labels[target]} in the data")
            else:
                # bins from TimeBins: a bin cut short by a window boundary is drawn narrower,
                # its count scaled to a full bin (the axis is a rate per day or hour)
                starts = pd.Series(pd.to_datetime(table.index, utc=True))
                factor = bins.scale(starts)
                xs = [_naive(t) for t in table.index]
                widths = [width / f * 0.86 for f in factor]
                bottom = np.zeros(len(table))
                for stance in STANCE_ORDER:
                    vals = (
                        table[stance.value].to_numpy(float) * factor
                        if stance.value in table
                        else np.zeros(len(table))
                    )
                    ax.bar(
                        xs,
                        vals,
                        bottom=bottom,
                        width=widths,
                        align="edge",
                        color=STANCE_COLOURS[stance],
                        label=stance.value.capitalize(),
                        lw=0,
                        zorder=2,
                    )
                    bottom += vals
                ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
                ax.set_ylim(0, float(bottom.max()) * (1.18 if target == Target.FOCAL else 1.05))
            if target == Target.FOCAL and silence is not None:
                # a hatched strip along the top of the panel, clear of the bars
                strip = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
                s0, s1 = _naive(silence[0]), _naive(silence[1])
                ax.add_patch(
                    Rectangle(
                        (mdates.date2num(s0), 0.93),
                        mdates.date2num(s1) - mdates.date2num(s0),
                        0.07,
                        transform=strip,
                        facecolor="white",
                        edgecolor="#444444",
                        hatch="////",
                        lw=0.8,
                        zorder=3,
                        label=f"{focal_label} silent",
                    )
                )
            ax.set_xlim(x0, x1)
            ax.set_title(f"Towards {labels[target]}")
            # (units: posts addressing the side, not interaction rows; review t5 #15)
            ax.set_ylabel(f"Posts addressing it per {unit}")
        handles, names = axes[0].get_legend_handles_labels()
        order = sorted(range(len(names)), key=lambda j: (_legend_rank(names[j]), names[j]))
        fig.legend(
            [handles[j] for j in order],
            [names[j] for j in order],
            loc="outside lower center",
            ncols=len(order),
        )
        _date_axis(axes[-1])
        axes[-1].set_xlabel("Date (UTC)")
        _titles(fig, "Attention before, during and after the crisis, by stance")
    return fig


def _legend_rank(name: str) -> int:
    order = ["Supportive", "Neutral", "Critical", "Crisis window"]
    return order.index(name) if name in order else len(order)


# ---- 2. network map -----------------------------------------------------------------------------


def _str_rank(g: GraphArrays) -> np.ndarray:
    """Each node's position in ``str`` order of the names (ties in the sample go by name)."""
    names = [str(n) for n in g.nodes.tolist()]
    if names == sorted(names):  # handles: GraphArrays sorts them already
        return np.arange(len(names), dtype=np.int64)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
    return rank


def _neighbours(g: GraphArrays) -> tuple[np.ndarray, np.ndarray]:
    """Return the undirected adjacency (direction and self-loops ignored) as CSR arrays
    ``(indptr, indices)``: node ``i``'s neighbours are ``indices[indptr[i]:indptr[i + 1]]``."""
    a = np.concatenate([g.src, g.dst])
    b = np.concatenate([g.dst, g.src])
    loop = a == b
    a, b = a[~loop], b[~loop]
    order = np.argsort(a, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(a, minlength=g.n_nodes))].astype(np.int64)
    return indptr, b[order]


def _sample_codes(
    g: GraphArrays, pr: np.ndarray, keep: Iterable[Any], max_nodes: int
) -> np.ndarray:
    """:func:`sample_nodes` on arrays: the node codes chosen, in ``str`` order of their names.

    ``pr`` is each node's PageRank (0 when unknown). The heap holds ``(-PageRank, name rank)``
    per candidate, so ties are broken by name as in :func:`sample_nodes`.
    """
    import heapq

    if g.n_nodes == 0:
        return np.array([], dtype=np.int64)
    rank = _str_rank(g)
    index = {n: i for i, n in enumerate(g.nodes.tolist())}
    seeds = [index[n] for n in dict.fromkeys(keep) if n in index]
    if not seeds:
        seeds = [int(np.lexsort((rank, -pr))[0])]
    indptr, indices = _neighbours(g)
    chosen = np.zeros(g.n_nodes, dtype=bool)
    chosen[seeds] = True
    n_chosen = int(chosen.sum())
    neg_pr = (-pr).tolist()
    rank_l = rank.tolist()
    heap: list[tuple[float, int, int]] = []

    def push(n: int) -> None:
        nb = indices[indptr[n] : indptr[n + 1]]
        nb = nb[~chosen[nb]].tolist()
        items = [(neg_pr[m], rank_l[m], m) for m in nb]
        if len(items) > len(heap):  # a hub: one heapify is cheaper than many pushes
            heap.extend(items)
            heapq.heapify(heap)
        else:
            for it in items:
                heapq.heappush(heap, it)

    for n in sorted(seeds, key=lambda c: rank_l[c]):
        push(n)
    while heap and n_chosen < max_nodes:
        _, _, n = heapq.heappop(heap)
        if chosen[n]:
            continue
        chosen[n] = True
        n_chosen += 1
        push(n)
    codes = np.flatnonzero(chosen)
    return codes[np.argsort(rank[codes], kind="stable")]


def _pagerank_array(g: GraphArrays, pagerank: Mapping[str, float] | pd.Series) -> np.ndarray:
    """Each node's PageRank (0.0 when not given), in node order."""
    if isinstance(pagerank, pd.Series):
        s = pagerank.copy()
        s.index = s.index.astype(object)
        return s.reindex(pd.Index(g.nodes, dtype=object)).fillna(0.0).to_numpy(dtype=float)
    return np.array([float(pagerank.get(n, 0.0)) for n in g.nodes.tolist()], dtype=float)


#: Most accounts the network map draws (the named ones, then by PageRank); its caption says so.
NETWORK_MAX_NODES = 250


def sample_nodes(
    graph: GraphLike,
    pagerank: Mapping[str, float] | pd.Series,
    keep: Iterable[str] = (),
    max_nodes: int = NETWORK_MAX_NODES,
) -> list[str]:
    """Return up to ``max_nodes`` connected nodes grown from ``keep`` by PageRank, sorted.

    Starts from the ``keep`` nodes present in the graph (or the top PageRank node) and adds, one
    at a time, the neighbour of the chosen set with the highest PageRank (ties by name), so the
    sample is one readable piece around the named accounts rather than scattered fragments, and
    the same on every run. Nodes in other components are not drawn. ``graph`` is a networkx
    graph, an edge table or :class:`~netsupport.graph.GraphArrays` (direction is ignored).

    Examples
    --------
    >>> g = nx.path_graph(["a", "b", "c", "d"])
    >>> sample_nodes(g, {"a": 0.1, "b": 0.4, "c": 0.4, "d": 0.1}, keep=["d"], max_nodes=2)
    ['c', 'd']
    """
    g = GraphArrays.coerce(graph)
    codes = _sample_codes(g, _pagerank_array(g, pagerank), keep, max_nodes)
    return g.nodes[codes].tolist()


def _sample_edges(g: GraphArrays, codes: np.ndarray) -> dict[tuple[Any, Any], float]:
    """Return the undirected edges among the sampled nodes ``codes`` (self-loops left out):
    ``{(u, v): weight}`` with ``u`` before ``v`` by name, the weights of ``u -> v`` and
    ``v -> u`` summed."""
    inside = np.zeros(g.n_nodes, dtype=bool)
    inside[codes] = True
    keep = inside[g.src] & inside[g.dst] & (g.src != g.dst)
    names = g.nodes.tolist()
    und: dict[tuple[Any, Any], float] = {}
    for a, b, w in zip(
        g.src[keep].tolist(), g.dst[keep].tolist(), g.weight[keep].tolist(), strict=True
    ):
        u, v = names[a], names[b]
        key = (u, v) if str(u) <= str(v) else (v, u)
        und[key] = und.get(key, 0.0) + float(w)
    return und


def _spread_labels(
    anchors: Mapping[str, tuple[float, float]],
    widths: Mapping[str, float],
    height: float = 15.0,
) -> dict[str, tuple[float, float]]:
    """Return label positions (points) pushed up until no two label boxes overlap.

    ``anchors`` are the bottom centres wanted for each label (just above its node), ``widths``
    their widths; of two boxes that overlap, the upper one moves up (so no label slides down
    over its own node), in a fixed order, so the result is the same on every run.

    Examples
    --------
    >>> out = _spread_labels({"a": (0.0, 0.0), "b": (10.0, 5.0)}, {"a": 60.0, "b": 60.0})
    >>> round(out["b"][1] - out["a"][1], 3)
    15.0
    """
    pos = {n: [float(x), float(y)] for n, (x, y) in anchors.items()}
    names = sorted(pos)
    for _ in range(200):
        moved = False
        ordered = sorted(names, key=lambda n: (pos[n][1], n))
        for k, a in enumerate(ordered):
            for b in ordered[k + 1 :]:
                pa_, pb = pos[a], pos[b]
                if abs(pa_[0] - pb[0]) >= (widths[a] + widths[b]) / 2:
                    continue
                gap = pb[1] - pa_[1]
                if gap < height:
                    pb[1] += height - gap + 1e-6  # only upwards: a label never covers its node
                    moved = True
        if not moved:
            break
    return {n: (p[0], p[1]) for n, p in pos.items()}


def _layout(
    nodes: list[str],
    edges: Mapping[tuple[str, str], float],
    seed: int,
    anchors: Mapping[str, tuple[float, float]],
    cache: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """Spring layout with nodes/edges inserted sorted and the ``anchors`` pinned in place.

    With ``cache`` (a folder), the positions are read from ``<cache>/<key>.json`` when that
    file exists, else computed and written there; ``key`` is the sha256 of everything the
    layout depends on (nodes, edges, seed, anchors, its parameters, and the networkx and numpy
    versions), so a cached layout is the one the same call would compute, to the bit (floats
    are written with ``repr``, which reads back exactly).
    """
    k = 1.8 / math.sqrt(max(len(nodes), 1))
    fixed = [n for n in nodes if n in anchors]
    path = None
    if cache is not None:
        path = Path(cache) / f"{_layout_key(nodes, edges, seed, anchors, k)}.json"
        cached = _read_layout(path, nodes)
        if cached is not None:
            _touch(path)
            return cached
    h = nx.Graph()
    h.add_nodes_from(nodes)
    h.add_edges_from(sorted(edges))
    pos = nx.spring_layout(
        h,
        seed=seed,
        k=k,
        iterations=LAYOUT_ITERATIONS,
        weight=None,
        pos={n: anchors[n] for n in fixed} or None,
        fixed=fixed or None,
    )
    out = {n: np.asarray(p, dtype=float) for n, p in pos.items()}
    if path is not None:
        import json

        body = {str(n): [float(v) for v in out[n]] for n in nodes}
        atomic_write_bytes(path, json.dumps(body, sort_keys=True).encode("utf-8"))
        prune_layouts(path.parent)
    return out


#: Iterations of the network map's spring layout.
LAYOUT_ITERATIONS = 150

#: Layouts kept in a cache folder; the least recently used beyond this are removed.
LAYOUT_CACHE_KEEP = 32

_LAYOUT_FILE = re.compile(r"[0-9a-f]{64}\.json")


def _touch(path: Path) -> None:
    """Mark a cached layout as just used (its modification time), for :func:`prune_layouts`."""
    with suppress(OSError):
        os.utime(path)


def prune_layouts(folder: Path, keep: int | None = None) -> list[Path]:
    """Remove all but the ``keep`` (default :data:`LAYOUT_CACHE_KEEP`) most recently used
    layouts in ``folder``; return the removed.

    Only files named as :func:`_layout` names them (a sha256 and ``.json``) are counted or
    removed, so nothing else a user put in the folder is touched. Recency is the modification
    time (written, or read back through :func:`_touch`), ties broken by name.
    """
    keep = LAYOUT_CACHE_KEEP if keep is None else keep
    try:
        entries = [p for p in Path(folder).iterdir() if _LAYOUT_FILE.fullmatch(p.name)]
    except OSError:
        return []
    dated = []
    for p in entries:
        try:
            dated.append((p.stat().st_mtime_ns, p.name, p))
        except OSError:
            continue
    dated.sort(reverse=True)
    removed = []
    for _, _, p in dated[keep:]:
        with suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


def _layout_key(
    nodes: Sequence[str],
    edges: Mapping[tuple[str, str], float],
    seed: int,
    anchors: Mapping[str, tuple[float, float]],
    k: float,
) -> str:
    """Return the cache key of a layout: the sha256 of its inputs as canonical JSON."""
    import hashlib
    import json

    blob = {
        "nodes": [str(n) for n in nodes],
        "edges": [[str(u), str(v)] for u, v in sorted(edges)],  # weights: the layout ignores them
        "seed": int(seed),
        "anchors": {str(n): [float(x), float(y)] for n, (x, y) in sorted(anchors.items())},
        "k": float(k),
        "iterations": LAYOUT_ITERATIONS,
        "versions": [nx.__version__, np.__version__],
    }
    text = json.dumps(blob, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_layout(path: Path, nodes: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Return the cached positions in ``path``, or None when missing or not for ``nodes``."""
    import json

    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or sorted(body) != sorted(str(n) for n in nodes):
        return None
    return {n: np.asarray(body[str(n)], dtype=float) for n in nodes}


def _anchor_positions(focal: Sequence[str], institution: Sequence[str]) -> dict:
    """Pin the focal account(s) left of centre and the institution right of it."""
    out: dict[str, tuple[float, float]] = {}
    for side, names in ((-0.4, focal), (0.4, institution)):
        if not names:
            continue
        for i, n in enumerate(names):
            out[n] = (side if institution else 0.0, 0.25 * (i - (len(names) - 1) / 2))
    return out


def network_map(
    graph: GraphLike,
    *,
    membership: Mapping[str, int],
    pagerank: Mapping[str, float] | pd.Series,
    focal: Sequence[str],
    institution: Sequence[str] = (),
    proxies: Sequence[str] = (),
    seed: int = 42,
    max_nodes: int = NETWORK_MAX_NODES,
    community_names: Mapping[int, str] | None = None,
    layout_cache: str | Path | None = None,
) -> Figure:
    """Draw the crisis interaction graph around the focal account.

    Nodes are coloured by their baseline community (:func:`community_colour`; white when the
    account was not in the baseline graph), sized by PageRank in the crisis graph; the focal
    account, the institution and the proxies are labelled. When the graph has more than
    ``max_nodes`` nodes, the labelled accounts plus the highest-PageRank accounts are drawn
    (:func:`sample_nodes`) and the subtitle says so. Layout: ``networkx.spring_layout`` with
    ``seed`` on the undirected sample, nodes and edges inserted in sorted order; with
    ``layout_cache`` (a folder) the positions are kept there by a hash of the layout's inputs
    and reused when the same sample is drawn again (:func:`_layout`).

    ``graph`` is a networkx graph, an edge table (``source``, ``target``, ``weight``) or
    :class:`~netsupport.graph.GraphArrays`: the report hands the crisis edges as arrays, so no
    networkx graph of the whole crisis is built (10^6 interactions give ~10^5 edges).
    """
    focal = [n for n in focal]
    labelled = list(dict.fromkeys([*focal, *institution, *proxies]))
    with _style():
        fig = _figure((10.0, 8.4))
        ax = fig.add_subplot()
        ax.set_axis_off()
        g = GraphArrays.coerce(graph)
        n_total = g.n_nodes
        title = "Who talked to whom during the crisis"
        if n_total == 0:
            _no_data(ax, "No interactions in the crisis window")
            _titles(fig, title)
            return fig
        codes = _sample_codes(g, _pagerank_array(g, pagerank), labelled, max_nodes)
        nodes = g.nodes[codes].tolist()
        und = _sample_edges(g, codes)
        pos = _layout(nodes, und, seed, _anchor_positions(focal, institution), cache=layout_cache)
        if und:
            keys = sorted(und)
            ws = np.log1p(np.array([und[e] for e in keys]))
            lw = 0.4 + 1.4 * ws / max(float(ws.max()), 1e-9)
            ax.add_collection(
                LineCollection(
                    [(pos[u], pos[v]) for (u, v) in keys],
                    colors="#9A9A9A",
                    linewidths=lw,
                    alpha=0.35,
                    zorder=1,
                )
            )
        pr = np.array([float(pagerank.get(n, 0.0)) for n in nodes])
        pr_max = float(pr.max()) if pr.max() > 0 else 1.0
        sizes = 16 + 1100 * np.sqrt(pr / pr_max)
        ranks = [membership.get(n) for n in nodes]
        order = np.argsort(sizes, kind="stable")  # big nodes drawn last, on top
        xy = np.array([pos[n] for n in nodes])
        ax.scatter(
            xy[order, 0],
            xy[order, 1],
            s=sizes[order],
            c=[community_colour(ranks[i]) for i in order],
            edgecolors="#444444",
            linewidths=0.5,
            zorder=2,
        )
        index = {n: i for i, n in enumerate(nodes)}
        rings = {n: TARGET_COLOURS[Target.INSTITUTION] for n in institution}
        rings.update({n: TARGET_COLOURS[Target.FOCAL] for n in focal})
        for n, colour in sorted(rings.items()):
            if n in pos:
                ax.scatter(
                    [pos[n][0]],
                    [pos[n][1]],
                    s=sizes[index[n]] * 1.8 + 120,
                    facecolors="none",
                    edgecolors=colour,
                    linewidths=2.4,
                    zorder=3,
                )
        # proxies on top of everything, with a dark outline, so a label always finds its node
        for n in dict.fromkeys(proxies):
            if n in pos and n not in rings:
                ax.scatter(
                    [pos[n][0]],
                    [pos[n][1]],
                    s=max(sizes[index[n]], 90),
                    c=[community_colour(ranks[index[n]])],
                    edgecolors="#111111",
                    linewidths=1.8,
                    zorder=4,
                )
        xs, ys = xy[:, 0], xy[:, 1]
        span_x = float(xs.max() - xs.min()) or 1.0
        span_y = float(ys.max() - ys.min()) or 1.0
        x0, x1 = xs.min() - 0.08 * span_x, xs.max() + 0.08 * span_x
        y0, y1 = ys.min() - 0.04 * span_y, ys.max() + 0.12 * span_y
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        # labels are placed in points (approximate axes size: the figure minus title and legend)
        w_in, h_in = fig.get_size_inches()
        sx, sy = w_in * 72 * 0.95 / (x1 - x0), h_in * 72 * 0.78 / (y1 - y0)
        present = [n for n in labelled if n in pos]
        texts = {n: f"@{n}" if n in focal or n in institution else f"@{n} (proxy)" for n in present}
        radius = {
            n: math.sqrt(sizes[index[n]] * 1.8 + 120 if n in rings else max(sizes[index[n]], 90))
            / 2
            for n in present
        }
        wanted = {n: (pos[n][0] * sx, pos[n][1] * sy + radius[n] + 3) for n in present}
        placed = _spread_labels(wanted, {n: 6.4 * len(texts[n]) + 6 for n in present})
        for n in present:
            is_proxy = n not in focal and n not in institution
            dx, dy = placed[n][0] - pos[n][0] * sx, placed[n][1] - pos[n][1] * sy
            ax.annotate(
                texts[n],
                xy=pos[n],
                xytext=(dx, dy),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=10.5,
                fontweight="normal" if is_proxy else "bold",
                color="#111111",
                zorder=5,
                arrowprops={
                    "arrowstyle": "-",
                    "color": "#555555",
                    "lw": 0.7,
                    "shrinkA": 0,
                    "shrinkB": radius[n],
                }
                if is_proxy or dy > radius[n] + 8
                else None,
                path_effects=[pe.withStroke(linewidth=3.5, foreground="white")],
            )
        shown = (
            f"all {n_total:,} accounts shown"
            if len(nodes) == n_total
            else f"{len(nodes):,} of {n_total:,} accounts shown, grown from the named accounts "
            "by PageRank"
        )
        _titles(
            fig,
            title,
            f"Node size: PageRank in the crisis graph. Colour: community before the crisis. "
            f"Ringed: {_ringed(focal, institution)}; outlined: the labelled proxies; "
            f"{shown}.",
            ax,
        )
        fig.legend(
            handles=_community_handles(ranks, community_names), loc="outside lower center", ncols=4
        )
    return fig


def _ringed(focal: Sequence[str], institution: Sequence[str]) -> str:
    text = " ".join(f"@{n}" for n in focal) + " (green)"
    if institution:
        text += " and " + " ".join(f"@{n}" for n in institution) + " (orange)"
    return text


def _community_handles(ranks: list, names: Mapping[int, str] | None) -> list[Line2D]:
    def dot(colour: str, label: str) -> Line2D:
        return Line2D([], [], ls="", marker="o", ms=9, mfc=colour, mec="#444444", label=label)

    present = sorted({int(r) for r in ranks if r is not None and not pd.isna(r)})
    handles = [
        dot(community_colour(r), (names or {}).get(r, f"Community {r}"))
        for r in present
        if r < len(COMMUNITY_COLOURS)
    ]
    if any(r >= len(COMMUNITY_COLOURS) for r in present):
        handles.append(dot(GREY, "Smaller communities"))
    if any(r is None or pd.isna(r) for r in ranks):
        handles.append(dot("#FFFFFF", "Not in the graph before the crisis"))
    return handles


# ---- 3. community mobilisation ------------------------------------------------------------------


def community_mobilisation(
    mob: pd.DataFrame, *, focal_label: str, confidence: float = 0.95
) -> Figure:
    """Draw, per baseline community, the share of members active and the supportive share.

    Parameters
    ----------
    mob : DataFrame
        One row per community, in display order: ``community`` (rank, 0 = largest), ``label``,
        ``members``, ``active_share``, ``active_lo``, ``active_hi``, ``supportive_share``,
        ``supportive_lo``, ``supportive_hi`` (shares in 0..1; NaN when not measured).
    """
    title = f"Which communities turned out for {focal_label}"
    with _style():
        n = max(len(mob), 1)
        fig = _figure((10.0, 1.9 + 0.45 * n))
        ax1, ax2 = fig.subplots(1, 2, sharey=True)
        if mob.empty:
            for ax in (ax1, ax2):
                _no_data(ax, "No communities")
            _titles(fig, title)
            return fig
        ys = np.arange(len(mob))[::-1]
        colours = [community_colour(r) for r in mob["community"]]
        panels = (
            (
                ax1,
                "active",
                f"Share of members who interacted with\n{focal_label} during the crisis",
            ),
            (ax2, "supportive", "Share of those active who were supportive"),
        )
        for ax, key, xlabel in panels:
            val = mob[f"{key}_share"].to_numpy(float)
            lo = mob[f"{key}_lo"].to_numpy(float)
            hi = mob[f"{key}_hi"].to_numpy(float)
            for y, v, a, b, c in zip(ys, val, lo, hi, colours, strict=True):
                if np.isnan(v):
                    ax.text(
                        0.01,
                        y,
                        "not measured (no one active)",
                        va="center",
                        fontsize=9,
                        color="#777777",
                    )
                    continue
                if not (np.isnan(a) or np.isnan(b)):
                    ax.plot([a, b], [y, y], color=DARK, lw=1.6, solid_capstyle="butt", zorder=2)
                ax.plot([v], [y], "o", ms=9, mfc=c, mec=DARK, mew=0.8, zorder=3)
                ax.annotate(
                    f"{v:.0%}",
                    (v, y),
                    xytext=(0, 8),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=8.5,
                    color="#444444",
                )
            ax.set_xlim(-0.03, 1.03)  # room for a dot at 0% or 100%
            _pct_axis(ax, "x")
            ax.set_xlabel(xlabel)
            ax.grid(axis="x", color="#E6E6E6")
            ax.grid(axis="y", visible=False)
        ax1.set_yticks(ys)
        ax1.set_yticklabels(
            [
                f"{lab} ({int(m):,} members)"
                for lab, m in zip(mob["label"], mob["members"], strict=True)
            ]
        )
        ax1.set_ylim(-0.7, len(mob) - 0.2)
        _titles(
            fig,
            title,
            f"Communities as found before the crisis. {_interval_note(confidence)}.",
            ax1,
        )
    return fig


# ---- 4. supporter composition -------------------------------------------------------------------


def supporter_composition(comp: pd.DataFrame, *, focal_label: str) -> Figure:
    """Draw supporters with a prior tie vs newcomers in each window (100% stacked bars).

    Parameters
    ----------
    comp : DataFrame
        Columns ``window`` (:class:`Window`), ``prior_tie`` and ``newcomer`` (account counts).
    """
    title = f"Were {focal_label}'s supporters old ties or newcomers?"
    with _style():
        fig = _figure((10.0, 2.0 + 0.62 * max(len(comp), 1)))
        ax = fig.add_subplot()
        if comp.empty or float(comp[["prior_tie", "newcomer"]].to_numpy().sum()) == 0:
            _no_data(ax, "No supporters in any window")
            _titles(fig, title)
            return fig
        rank = {w.value: i for i, w in enumerate(Window)}
        comp = comp.assign(_o=comp["window"].astype(str).map(rank)).sort_values("_o")
        ys = np.arange(len(comp))[::-1]
        totals = (comp["prior_tie"] + comp["newcomer"]).to_numpy(float)
        parts = (
            (
                "prior_tie",
                "Had a prior tie (followed or interacted before the crisis)",
                OKABE_ITO["blue"],
                "white",
            ),
            ("newcomer", "Newcomer (no tie before the crisis)", OKABE_ITO["sky_blue"], "#111111"),
        )
        left = np.zeros(len(comp))
        for col, label, colour, ink in parts:
            counts = comp[col].to_numpy(float)
            share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
            ax.barh(ys, share, left=left, color=colour, label=label, height=0.62, lw=0)
            for y, s, c, lft in zip(ys, share, counts, left, strict=True):
                if s >= 0.09:
                    ax.text(
                        lft + s / 2,
                        y,
                        f"{s:.0%} ({int(c):,})",
                        ha="center",
                        va="center",
                        color=ink,
                        fontsize=10,
                    )
            left += share
        ax.set_yticks(ys)
        ax.set_yticklabels(
            [
                f"{WINDOW_LABELS.get(Window(w), w)}\n{int(t):,} supporters"
                for w, t in zip(comp["window"].astype(str), totals, strict=True)
            ]
        )
        ax.set_xlim(0, 1)
        _pct_axis(ax, "x")
        ax.set_xlabel("Share of supporting accounts")
        ax.grid(axis="y", visible=False)
        ax.grid(axis="x", color="#E6E6E6")
        fig.legend(loc="outside lower center", ncols=2)
        _titles(fig, title, "Accounts that addressed them supportively, by window.", ax)
    return fig


# ---- 5. focal vs institution --------------------------------------------------------------------


def net_support_chart(
    net: pd.DataFrame,
    *,
    focal_label: str,
    institution_label: str | None = None,
    confidence: float = 0.95,
) -> Figure:
    """Draw account-level net support (the share of accounts mostly supportive minus the share
    mostly critical) per window for both sides.

    Parameters
    ----------
    net : DataFrame
        Columns ``window``, ``target`` (:class:`Target`), ``net``, ``lo``, ``hi`` (in -1..1; NaN
        when not measured): account-level values
        (:func:`netsupport.report_charts.net_support_frame`).
    """
    labels = {Target.FOCAL: focal_label, Target.INSTITUTION: institution_label}
    title = f"Net support for {focal_label}" + (
        f" and {institution_label}" if institution_label else ""
    )
    with _style():
        fig = _figure((10.0, 5.0))
        ax = fig.add_subplot()
        ax.axhline(0, color="#777777", lw=1, zorder=1)
        windows = list(Window)
        xs = np.arange(len(windows), dtype=float)
        targets = [t for t in Target if labels[t]]
        offsets = [-0.1, 0.1] if len(targets) > 1 else [0.0]
        missing = False
        for off, target in zip(offsets, targets, strict=True):
            sub = net[net["target"].astype(str) == target.value]
            sub = sub.set_index(sub["window"].astype(str))
            colour = TARGET_COLOURS[target]
            vals = np.array(
                [
                    [
                        float(sub.loc[w.value, c]) if w.value in sub.index else np.nan
                        for c in ("net", "lo", "hi")
                    ]
                    for w in windows
                ]
            )
            ok = ~np.isnan(vals[:, 0])
            missing |= not ok.all()
            ax.plot(xs[ok] + off, vals[ok, 0], "-", color=colour, lw=1.4, alpha=0.55, zorder=2)
            for x, (y, a, b) in zip(xs + off, vals, strict=True):
                if np.isnan(y):
                    continue
                if not (np.isnan(a) or np.isnan(b)):
                    ax.plot([x, x], [a, b], color=colour, lw=2.4, solid_capstyle="butt", zorder=3)
                ax.plot([x], [y], "o", ms=9, color=colour, mec="white", mew=1.2, zorder=4)
                right = off >= 0
                ax.annotate(
                    _signed(y * 100),
                    (x, y),
                    xytext=(9 if right else -9, 0),
                    textcoords="offset points",
                    va="center",
                    ha="left" if right else "right",
                    fontsize=10,
                    color=colour,
                    fontweight="bold",
                    path_effects=[pe.withStroke(linewidth=3, foreground="white")],
                )
            ax.plot([], [], "o-", color=colour, label=labels[target])
        ax.set_xticks(xs)
        ax.set_xticklabels([WINDOW_LABELS[w] for w in windows])
        ax.set_xlim(-0.5, len(windows) - 0.5)
        ax.set_ylim(-1.05, 1.05)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _signed(v * 100)))
        ax.set_ylabel("Net support, points\n(supportive minus critical, % of accounts)")
        ax.legend(loc="upper left", ncols=2)
        note = (
            "Above zero: more accounts mostly supportive than mostly critical (each account "
            f"counts once). {_interval_note(confidence)} (bootstrap over accounts)."
        )
        if missing:
            note += " A missing point: not measured (no account addressed the side)."
        _titles(fig, f"{title}, before, during and after the crisis", note, ax)
    return fig


# ---- 6. roles over time -------------------------------------------------------------------------


def roles_timeline(
    counts: pd.DataFrame,
    windows: Any,
    *,
    focal_label: str,
    first_mentions: Mapping[str, Any] | None = None,
    medians: Mapping[str, tuple[float, int]] | None = None,
    too_few: Mapping[str, int] | None = None,
    freq: str = "D",
) -> Figure:
    """Draw attention towards the focal account by the sender's role over time.

    Parameters
    ----------
    counts : DataFrame
        Columns ``time`` (bin start, UTC), ``role`` (:class:`Role`), ``count``.
    medians : mapping role -> (hours, accounts), optional
        Role timing's median hours from the crisis start to the first post of the role's
        accounts new to the conversation, and their number (METHODS.md, "Role timing"): drawn in
        a second panel, so the reader sees who carried the story first. ``too_few``: the roles
        left out of the order test, with their numbers of new accounts (named under the panel).
    first_mentions : mapping role -> instant, optional
        Each role's first interaction with the focal account in the crisis, drawn in the second
        panel when there are no ``medians`` (the Dask engine does not measure role timing), as
        the earliest single post: an order statistic that comes sooner the bigger the role.
    """
    unit = "day" if freq == "D" else "hour"
    if medians:
        lower = {Role(r): (float(h), n) for r, (h, n) in medians.items()}
    else:
        lower = {
            Role(r): ((_utc(t) - _utc(windows.crisis_start)).total_seconds() / 3600, None)
            for r, t in (first_mentions or {}).items()
            if t is not None and not pd.isna(t) and r in Role.__members__.values()
        }
    title = f"Who carried the story: posts addressing {focal_label} by role"
    with _style():
        fig = _figure((10.0, 6.6 if lower else 4.8))
        if lower:
            ax, ax2 = fig.subplots(2, 1, height_ratios=[3, 1.35])
        else:
            ax, ax2 = fig.add_subplot(), None
        _shade_crisis(ax, windows)
        present = set(counts["role"].astype(str)) if len(counts) else set()
        roles = [r for r in Role if r.value in present]
        if not roles:
            _no_data(ax, "No posts addressing the focal account")
        bins = TimeBins(windows, freq)  # aligned to the crisis start (issue 14 item 24)
        full = bins.edges[:-1]
        factor = bins.scale(pd.Series(full))
        ends = bins.edges[1:]
        mids = [_naive(a + (b - a) / 2) for a, b in zip(full, ends, strict=True)]
        for role in roles:
            sub = counts[counts["role"].astype(str) == role.value]
            sub = sub.assign(time=bins.starts(sub["time"]).to_numpy()).dropna(subset=["time"])
            series = sub.groupby("time")["count"].sum()
            series.index = pd.DatetimeIndex(pd.to_datetime(series.index, utc=True))
            series = series.reindex(full, fill_value=0)
            xs = mids
            ax.plot(
                xs,
                series.to_numpy(float) * factor,
                color=ROLE_COLOURS[role],
                lw=1.9,
                marker=ROLE_MARKERS[role],
                ms=4,
                markevery=max(1, len(xs) // 30),
                label=role.value.capitalize(),
            )
        ax.set_xlim(_naive(windows.baseline_start), _naive(windows.after_end))
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        _date_axis(ax)
        ax.set_xlabel("Date (UTC)")
        ax.set_ylabel(f"Posts addressing it per {unit}")  # (units, not interaction rows)
        # beside the axes, not over the lines (the peak of a role can be anywhere)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncols=1)
        _titles(fig, title, "Accounts' roles from the accounts file or their profile text.", ax)
        if ax2 is not None:
            _role_times(ax2, lower, medians=bool(medians), too_few=too_few or {})
    return fig


def _role_times(
    ax: Any, times: Mapping[Role, tuple[float, int | None]], *, medians: bool, too_few: Mapping
) -> None:
    """Draw one bar per role from the crisis start to ``times[role]`` hours: role timing's
    median of new accounts (``medians``, with their number) or the earliest single post."""
    ordered = sorted(times, key=lambda r: (times[r][0], list(Role).index(r)))
    ys = np.arange(len(ordered))[::-1]
    for y, r in zip(ys, ordered, strict=True):
        h, n = times[r]
        ax.plot([0, h], [y, y], color=ROLE_COLOURS[r], lw=2, zorder=2)
        ax.plot([h], [y], marker=ROLE_MARKERS[r], ms=8, color=ROLE_COLOURS[r], zorder=3)
        ax.annotate(
            fmt_hours_1(h) + ("" if n is None else f" ({n:,} new account{'s' * (n != 1)})"),
            (h, y),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=9.5,
            color="#333333",
        )
    hours = [times[r][0] for r in ordered]
    ax.set_yticks(ys)
    ax.set_yticklabels([r.value.capitalize() for r in ordered])
    # room on the right for the label of the longest bar
    ax.set_xlim(0, max(max(hours, default=1.0) * (1.45 if medians else 1.18), 1.0))
    ax.set_ylim(-0.6, len(ordered) - 0.4)
    ax.set_xlabel("Hours after the crisis began")
    if medians:
        head = "Median time to the first post, accounts new to the conversation"
        if too_few:
            left = "; ".join(f"{r}, {n:,} new account{'s' * (n != 1)}" for r, n in too_few.items())
            head += f" (left out: {left})"
    else:
        head = "Earliest single post of each role (comes sooner the bigger the role)"
    ax.set_title(head, fontsize=10.5)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#E6E6E6")


def _signed(v: float) -> str:
    """Return ``v`` rounded, with a sign and a typographic minus.

    Examples
    --------
    >>> _signed(-55.2), _signed(4.6), _signed(0.0)
    ('−55', '+5', '0')
    """
    r = round(v)
    return "0" if r == 0 else f"+{r}" if r > 0 else f"−{-r}"


# ---- sensitivity: specification curves ---------------------------------------------------------


def specification_curve(
    panels: Sequence[Mapping[str, Any]],
    *,
    focal_label: str,
    institution_label: str | None = None,
) -> Figure:
    """Draw one specification curve per headline measure (METHODS.md, "Sensitivity").

    Parameters
    ----------
    panels : sequence of dict
        ``title``, ``null`` (the value of no effect: 1 for ratios, 0 for net support), ``log``
        (ratio axis), ``pct`` (points axis) and ``values``: ``{side: [(value, is_study), ...]}``
        over the specifications the data cover; a third item, True, marks a specification run
        with the rules' stance instead of the stance model's (drawn as a cross). Each side's
        values are drawn sorted, the study's own specification ringed.
    """
    labels = {Target.FOCAL: focal_label, Target.INSTITUTION: institution_label}
    with _style():
        fig = _figure((10.0, 6.4))
        axes = fig.subplots(2, 2).ravel()
        for ax, panel in zip(axes, panels, strict=False):
            ax.axhline(panel["null"], color="#777777", lw=1, ls="--", zorder=1)
            drawn = False
            for target in Target:
                pts = panel["values"].get(target.value) or []
                if not labels[target] or not pts:
                    continue
                pts = sorted(pts, key=lambda p: (p[0], not p[1]))
                ys = np.array([p[0] for p in pts], dtype=float)
                xs = np.linspace(0, 1, len(ys)) if len(ys) > 1 else np.array([0.5])
                colour = TARGET_COLOURS[target]
                rules = np.array([len(p) > 2 and bool(p[2]) for p in pts], dtype=bool)
                ax.plot(xs[~rules], ys[~rules], "o", ms=3.2, color=colour, zorder=3,
                        label=labels[target])  # fmt: skip
                if rules.any():
                    ax.plot(xs[rules], ys[rules], "x", ms=4.5, mew=1.2, color=colour, zorder=3,
                            label=f"{labels[target]}, rules alone")  # fmt: skip
                own = [i for i, p in enumerate(pts) if p[1]]
                if own:
                    i = own[0]
                    ax.plot(xs[i], ys[i], "o", ms=9, mfc="none", mec=DARK, mew=1.4, zorder=4)
                drawn = True
            if panel.get("log"):
                ax.set_yscale("log")
                ys_all = [p[0] for v in panel["values"].values() for p in v or () if p[0] > 0]
                ys_all.append(float(panel["null"]))  # (the no-change line is drawn too)
                # within a decade, 1, 2 and 5 leave one or two ticks: denser steps read it
                span = max(ys_all) / min(ys_all)
                subs = (
                    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
                    if span < 3
                    else (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
                    if span < 10
                    else (1.0, 2.0, 5.0)
                )
                ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
                ax.yaxis.set_minor_formatter(NullFormatter())
            if panel.get("pct"):
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _signed(v * 100)))
            ax.set_xticks([])
            ax.set_xlabel("specifications, sorted by estimate")
            ax.set_title(panel["title"], fontsize=10.5, loc="left")
            if not drawn:
                _no_data(ax, "not measured")
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles: dict[str, Any] = {}
        for ax in axes:  # (the rules' crosses appear only in the stance panels)
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, h)
        if handles:
            axes[0].legend(list(handles.values()), list(handles), loc="best", fontsize=8.5)
        fig.suptitle(
            "How the headline moves over the sensitivity grid",
            x=0.01,
            ha="left",
            fontsize=13.5,
            fontweight="bold",
        )
    return fig


# ---- stance quality: the confusion matrix -------------------------------------------------------


def confusion_matrix_chart(
    matrix: Sequence[Sequence[float]], labels: Sequence[str], *, subtitle: str
) -> Figure:
    """Draw the cross-validated confusion matrix: hand code (rows) by decision (columns).

    Each cell shows the number of codes and its share of the row (the recall of that class on
    the diagonal); the shade is the row share, so a good classifier is a dark diagonal.
    """
    m = np.asarray(matrix, dtype=float)
    title = "How good is the stance? Hand codes against the decisions"
    with _style():
        fig = _figure((7.2, 5.0))
        ax = fig.add_subplot()
        if m.size == 0 or m.sum() == 0:
            _no_data(ax, "No hand codes")
            _titles(fig, title, subtitle)
            return fig
        rows = m.sum(axis=1, keepdims=True)
        share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ink = "white" if share[i, j] >= 0.6 else DARK
                ax.text(
                    j,
                    i,
                    f"{int(m[i, j]):,}\n{share[i, j]:.0%}",
                    ha="center",
                    va="center",
                    color=ink,
                    fontsize=11,
                )
        names = [str(s).capitalize() for s in labels]
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names)
        ax.set_xlabel("Decided by netsupport (cross-validated)")
        ax.set_ylabel("Hand code")
        ax.grid(False)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        _titles(fig, title, subtitle, ax)
    return fig
