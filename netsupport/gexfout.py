"""The interaction graph's files: GEXF (static and dynamic), GraphML and CSV.

:func:`export_graph` writes a graph (networkx, edge table or
:class:`~netsupport.graph.GraphArrays`) in the format its suffix names: :func:`write_gexf`,
:func:`write_graphml` or :func:`write_edge_node_csv`; :func:`write_dynamic_gexf` writes the
three windows as spells in one GEXF. Nodes and edges are written in sorted order and doubles
rounded to :data:`DOUBLE_DIGITS`, so the same graph gives the same bytes. This module is
imported with the study file (:data:`DEFAULT_GEXF_MAX_EDGES`), so it imports
:mod:`netsupport.graph` (and networkx) only inside the functions that need it.

The report writes the interaction graph as one dynamic GEXF 1.3: one ``<edge>`` per
source-target pair, with a ``<spell>`` and a ``window_weight`` value per window in which the
pair interacted (:func:`write_dynamic_gexf_edges`). Its edges carry what the report uses
(``weight``, ``kind``, ``window_weight``), not the per-kind counts (``netsupport graph`` still
writes those).

A study of 10^6 interactions has several hundred thousand pairs, more than Gephi opens
comfortably with its default memory. Above ``max_edges`` pairs over the three windows
(``[output] gexf_max_edges`` in the study, ``--gexf-max-edges`` on ``netsupport graph``;
default :data:`DEFAULT_GEXF_MAX_EDGES`) the file holds the crisis window only, and says so in
its ``<meta><description>``; the report's list of outputs and metrics.json (key ``gexf``) say
so too.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from . import __version__
from .errors import EmptyWindow, NetsupportError
from .schema import IKind, InteractionCol, Window
from .textsafe import (
    BIDI_CONTROLS,
    atomic_write_bytes,
    atomic_write_chunks,
    neutralise_bidi,
    write_csv,
)
from .windows import Windows

if TYPE_CHECKING:
    from .graph import GraphLike

__all__ = [
    "DEFAULT_GEXF_MAX_EDGES",
    "CodedInteractions",
    "GexfScope",
    "WindowEdges",
    "check_max_edges",
    "count_pairs",
    "edge_columns",
    "export_graph",
    "gexf_scope",
    "window_edges_of",
    "write_dynamic_gexf",
    "write_dynamic_gexf_edges",
    "write_edge_node_csv",
    "write_gexf",
    "write_graph_gexf",
    "write_graphml",
    "write_report_gexf",
]

#: Default limit on the edges (source-target pairs over the three windows) of the dynamic GEXF
#: before it is cut to the crisis window. A judgement, not a measurement of Gephi: a graph of a
#: quarter of a million edges with spells is already slow to lay out on a laptop.
DEFAULT_GEXF_MAX_EDGES = 250_000


@dataclass(frozen=True)
class GexfScope:
    """What the dynamic GEXF holds: all three windows, or the crisis window only."""

    edges: int  # distinct source-target pairs over the three windows
    max_edges: int

    @property
    def crisis_only(self) -> bool:
        return self.edges > self.max_edges

    def note(self) -> str | None:
        """One sentence for the file's description and the report, or None when complete."""
        if not self.crisis_only:
            return None
        return (
            f"crisis window only: the three windows have {self.edges:,} edges, more than "
            f"gexf_max_edges = {self.max_edges:,}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "windows": ["crisis"] if self.crisis_only else [w.value for w in Window],
            "edges_all_windows": self.edges,
            "max_edges": self.max_edges,
        }


def check_max_edges(value: object, where: str) -> int:
    """Return ``value`` as a positive int, or raise NetsupportError naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise NetsupportError(f"{where}: gexf_max_edges must be a positive integer, got {value!r}")
    return int(value)


def count_pairs(window_edges: Mapping[str, pd.DataFrame]) -> int:
    """Return the number of distinct (source, target) pairs over the windows' edge tables."""
    from .graph import SOURCE, TARGET

    frames = [e[[SOURCE, TARGET]] for e in window_edges.values() if e is not None and len(e)]
    if not frames:
        return 0
    both = pd.concat(frames, ignore_index=True)
    return int((~both.duplicated()).sum())


def gexf_scope(window_edges: Mapping[str, pd.DataFrame], max_edges: int) -> GexfScope:
    """Return the scope of the dynamic GEXF of ``window_edges`` under ``max_edges``."""
    pairs = getattr(window_edges, "pairs", None)  # counted already (WindowEdges)
    return GexfScope(
        count_pairs(window_edges) if pairs is None else int(pairs),
        check_max_edges(max_edges, "gexf_max_edges"),
    )


class WindowEdges(dict):
    """Edges per window (window name -> :func:`~netsupport.graph.aggregate_edges` table), and
    ``pairs``: the distinct source-target pairs over them (:func:`count_pairs`)."""

    pairs: int | None = None


class CodedInteractions:
    """The interaction rows windows and edges are made from (:func:`edge_columns`), with the
    account handles factorised once, in sorted order, for every use in a report: the edges of
    each window (the GEXF), their distinct pairs (its scope) and the crisis graph of the
    network map. Each used to factorise the handles of its own copy of the rows again (about a
    second at 10^6 interactions); the results are the same tables, bit for bit.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    >>> df = pd.DataFrame({"source": ["b", "a", "a"], "target": ["a", "b", "b"],
    ...     "kind": ["mention", "reply", "reply"],
    ...     "created_at": pd.to_datetime(["2014-02-14T10:00Z"] * 3, utc=True)})
    >>> edges = CodedInteractions(df).window_edges(w)
    >>> edges["crisis"].values.tolist(), edges.pairs
    ([['a', 'b', 2, 0, 2.0], ['b', 'a', 0, 1, 1.0]], 2)
    """

    def __init__(self, interactions: pd.DataFrame):
        from .graph import CodedRows

        rows = edge_columns(interactions)
        self.codes = CodedRows.from_frame(rows)
        self.created_at = pd.to_datetime(rows[InteractionCol.CREATED_AT], utc=True)

    def _in_window(self, windows: Windows, window: Window) -> np.ndarray:
        """:func:`~netsupport.graph.window_interactions`' row selection."""
        start, end = windows.bounds(window)
        ts = self.created_at
        inside = ((ts >= start) & (ts < end)).fillna(False).to_numpy(dtype=bool)
        if window is Window.BASELINE:
            follow = [k.value for k in IKind].index(IKind.FOLLOW.value)
            inside = inside | (ts.isna().to_numpy() & (self.codes.kind == follow))
        return inside

    def _aggregate(
        self,
        windows: Windows,
        window: Window | str,
        kinds: Iterable[IKind | str] | None,
        kind_weights: Mapping[str, float] | None = None,
    ) -> Any:
        """Return :func:`~netsupport.graph.aggregate_coded` of one window's rows."""
        from .graph import aggregate_coded

        keep = self._in_window(windows, Window(window))
        return aggregate_coded(self.codes, keep, kinds, kind_weights)

    def edges(
        self,
        windows: Windows,
        window: Window | str,
        kinds: Iterable[IKind | str] | None = None,
        kind_weights: Mapping[str, float] | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Return ``aggregate_edges(window_interactions(rows, windows, window), kinds,
        kind_weights)`` and the edges' pair keys (``source code * n + target code``)."""
        edges = self._aggregate(windows, window, kinds, kind_weights)
        return edges.frame(), edges.pairs

    def window_edges(
        self,
        windows: Windows,
        kinds: Iterable[IKind | str] | None = None,
        kind_weights: Mapping[str, float] | None = None,
    ) -> WindowEdges:
        """Return :func:`window_edges_of` the rows, with their distinct pairs counted."""
        out, keys = WindowEdges(), []
        for w in Window:
            out[w.value], k = self.edges(windows, w, kinds, kind_weights)
            keys.append(k)
        out.pairs = _count_distinct(np.concatenate(keys))
        return out

    def graph(
        self, windows: Windows, window: Window | str, kinds: Iterable[IKind | str] | None = None
    ) -> Any:
        """Return ``GraphArrays.from_edges(aggregate_edges(...))`` of one window's rows."""
        return self._aggregate(windows, window, kinds).arrays()


def _count_distinct(keys: np.ndarray) -> int:
    """Return ``len(np.unique(keys))`` of integer keys, by sorting.

    numpy 2.3+ answers ``np.unique`` without ``return_*`` from a hash table: at 10^6 pair keys
    (three sorted windows' keys, concatenated) that took 0.4-0.6 CPU s, a stable sort (which
    merges the sorted runs) 0.01 s.
    """
    if not len(keys):
        return 0
    s = np.sort(keys, kind="stable")
    return int(1 + np.count_nonzero(s[1:] != s[:-1]))


def window_edges_of(
    interactions: pd.DataFrame,
    windows: Windows,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    *,
    coded: CodedInteractions | None = None,
) -> WindowEdges:
    """Aggregate the interactions of each window into edges (as the dynamic GEXF needs);
    ``coded``: the :class:`CodedInteractions` of ``interactions``, when the caller has them."""
    coded = coded if coded is not None else CodedInteractions(interactions)
    return coded.window_edges(windows, kinds, kind_weights)


def edge_columns(interactions: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`netsupport.graph.edge_columns` (moved there; kept here for compatibility,
    imported lazily: this module is imported with the study file, without networkx)."""
    from .graph import edge_columns as columns

    return columns(interactions)


def write_graph_gexf(
    window_edges: Mapping[str, pd.DataFrame],
    windows: Windows,
    path: str | Path,
    *,
    max_edges: int = DEFAULT_GEXF_MAX_EDGES,
    node_attrs: pd.DataFrame | None = None,
    kind_counts: bool = False,
    scope: GexfScope | None = None,
) -> tuple[Path, GexfScope]:
    """Write the dynamic GEXF, cut to the crisis window above ``max_edges`` pairs.

    Returns the path written and the :class:`GexfScope`. ``scope``: the
    :func:`gexf_scope` of these edges when the caller has it already (counting the pairs of a
    10^6 study takes about half a second).

    Raises
    ------
    EmptyWindow
        If no window written holds any edge.
    """
    if scope is None or scope.max_edges != max_edges:
        scope = gexf_scope(window_edges, max_edges)
    if scope.crisis_only:
        window_edges = {k: v for k, v in window_edges.items() if k == Window.CRISIS.value}
    out = write_dynamic_gexf_edges(
        window_edges,
        windows,
        path,
        node_attrs=node_attrs,
        kind_counts=kind_counts,
        note=scope.note(),
    )
    return out, scope


def write_report_gexf(
    window_edges: Mapping[str, pd.DataFrame],
    windows: Windows,
    out_dir: Path,
    node_attrs: pd.DataFrame,
    scope: GexfScope,
) -> list[Path]:
    """Write the report's graph.gexf in ``out_dir`` (:func:`write_graph_gexf` of the windows'
    edges, cut to ``scope``); return ``[its path]``, or ``[]`` (and no file) when no window
    holds an edge."""
    from .errors import EmptyWindow

    gexf = Path(out_dir) / "graph.gexf"
    try:
        path, _ = write_graph_gexf(
            window_edges,
            windows,
            gexf,
            max_edges=scope.max_edges,
            node_attrs=node_attrs,
            scope=scope,
        )
    except EmptyWindow:
        if gexf.exists():
            gexf.unlink()
        return []
    return [path]


# ---- file writers: GEXF (static and dynamic), GraphML, CSV ---------------------------------------

#: GEXF version written (Gephi 0.9+ reads it; networkx.read_gexf reads it).
GEXF_VERSION = "1.3"
_GEXF_NS = "http://gexf.net/1.3"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


#: Significant digits of the doubles written to GEXF and GraphML: far beyond what a layout or a
#: reader needs, and short of the last digits that summation order moves (issue 14 item 14).
DOUBLE_DIGITS = 10


def _double(x: float) -> str:
    """Return a finite float as GEXF/GraphML text, rounded to DOUBLE_DIGITS significant digits.

    Examples
    --------
    >>> _double(0.1 + 0.2), _double(3.0), _double(1 / 3 * 1e-7)
    ('0.3', '3.0', '3.333333333e-08')
    """
    return repr(float(f"{x:.{DOUBLE_DIGITS}g}"))


def _xml_text(value: object) -> str:
    return neutralise_bidi(_XML_INVALID.sub("", str(value)))


def _attr(value: object) -> str:
    return quoteattr(_xml_text(value))


def _gexf_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "long"
    if pd.api.types.is_float_dtype(series):
        return "double"
    return "string"


def _gexf_value(value: object, gtype: str) -> str | None:
    """Return the GEXF text of a value, or None for a missing one (no attvalue is written)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None  # pandas' missing value for floats: left out like any other
    if gtype == "boolean":
        return "true" if bool(value) else "false"
    if gtype == "long":
        return str(int(value))
    if gtype == "double":
        x = float(value)
        if math.isinf(x):
            return "INF" if x > 0 else "-INF"
        return _double(x)
    return str(value)


@dataclass(frozen=True)
class _AttrSpec:
    id: str
    title: str
    gtype: str


def _attr_specs(df: pd.DataFrame, columns: Sequence[str], prefix: str) -> list[_AttrSpec]:
    return [_AttrSpec(f"{prefix}{i}", str(c), _gexf_type(df[c])) for i, c in enumerate(columns)]


def _attributes_block(cls: str, mode: str, specs: Sequence[_AttrSpec]) -> list[str]:
    if not specs:
        return []
    lines = [f'    <attributes class="{cls}" mode="{mode}">']
    lines += [
        f'      <attribute id="{s.id}" title={_attr(s.title)} type="{s.gtype}"/>' for s in specs
    ]
    lines.append("    </attributes>")
    return lines


def _attvalue_cells(specs: Sequence[_AttrSpec], values: Sequence[object], indent: str) -> list[str]:
    cells = []
    for spec, value in zip(specs, values, strict=True):
        text = _gexf_value(value, spec.gtype)
        if text is not None:
            cells.append(f'{indent}  <attvalue for="{spec.id}" value={_attr(text)}/>')
    return cells


def _attvalues(specs: Sequence[_AttrSpec], values: Sequence[object], indent: str) -> list[str]:
    cells = _attvalue_cells(specs, values, indent)
    return [f"{indent}<attvalues>", *cells, f"{indent}</attvalues>"] if cells else []


def _graph_edges_and_nodes(graph: GraphLike) -> tuple[pd.DataFrame, list[Any], bool]:
    """Return (edge table with counts and weight, sorted node list, directed)."""
    import networkx as nx

    from .graph import SOURCE, TARGET, WEIGHT, GraphArrays, edges_from_graph

    if isinstance(graph, nx.Graph):
        return edges_from_graph(graph), sorted(graph.nodes()), graph.is_directed()
    if isinstance(graph, pd.DataFrame):
        edges = graph.sort_values([SOURCE, TARGET], kind="mergesort").reset_index(drop=True)
        nodes = sorted(set(edges[SOURCE].astype(object)).union(edges[TARGET].astype(object)))
        return edges, nodes, True
    if isinstance(graph, GraphArrays):
        edges = pd.DataFrame(
            {
                SOURCE: graph.nodes[graph.src],
                TARGET: graph.nodes[graph.dst],
                WEIGHT: graph.weight,
            }
        )
        return edges, graph.nodes.tolist(), graph.directed
    raise TypeError(f"expected a networkx graph or an edge DataFrame, got {type(graph).__name__}")


def _reindex_attrs(attrs: pd.DataFrame, nodes: list[Any]) -> pd.DataFrame:
    """Return node attributes for exactly ``nodes`` (missing = NA), int/bool columns kept so."""
    from .graph import HANDLE, _frame_by_handle

    frame = _frame_by_handle(attrs).copy()
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[col] = frame[col].astype("boolean")
        elif pd.api.types.is_integer_dtype(dtype):
            frame[col] = frame[col].astype("Int64")
    return frame.reindex(pd.Index(nodes, dtype=object, name=HANDLE))


def _node_attr_frame(
    graph: GraphLike, nodes: list[Any], node_attrs: pd.DataFrame | None
) -> pd.DataFrame:
    from .graph import node_table

    return _reindex_attrs(node_table(graph) if node_attrs is None else node_attrs, nodes)


def _edge_attr_frame(edges: pd.DataFrame) -> pd.DataFrame:
    from .graph import SOURCE, TARGET, WEIGHT, count_columns, dominant_kind

    out = pd.DataFrame(index=edges.index)
    out["kind"] = dominant_kind(edges)
    for c in count_columns(edges):
        out[c] = edges[c].astype("int64")
    extra = [c for c in edges.columns if c not in (SOURCE, TARGET, WEIGHT) and c not in out.columns]
    for c in extra:
        out[c] = edges[c]
    return out


def _gexf_head(
    mode: str, directed: bool, extra_graph_attrs: str = "", note: str | None = None
) -> list[str]:
    extra = f" {escape(_xml_text(note))}" if note else ""
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gexf xmlns="{_GEXF_NS}" xmlns:xsi="{_XSI_NS}" '
        f'xsi:schemaLocation="{_GEXF_NS} {_GEXF_NS}/gexf.xsd" version="{GEXF_VERSION}">',
        "  <meta>",
        f"    <creator>netsupport {escape(__version__)}</creator>",
        "    <description>interaction graph (aggregated edges; weight = kind-weighted "
        f"interaction count){extra}</description>",
        "  </meta>",
        f'  <graph defaultedgetype="{"directed" if directed else "undirected"}" '
        f'mode="{mode}"{extra_graph_attrs}>',
    ]


def write_gexf(graph: GraphLike, path: str | Path, node_attrs: pd.DataFrame | None = None) -> Path:
    """Write a static GEXF 1.3 file for Gephi, atomically (temp file + rename).

    Nodes carry every column of ``node_attrs`` (default :func:`~netsupport.graph.node_table`:
    community, role, in/out degree, weighted degrees, PageRank; add stance counts through
    ``node_table``); edges carry ``weight`` (GEXF's own edge weight), ``kind`` (the kind with most
    interactions on the edge) and the per-kind counts. Missing values are left out (GEXF: absent
    attvalue). Nodes and edges are written in sorted order, so the same graph gives the same bytes.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b", {"n_reply": 2, "weight": 2.0})])
    >>> p = write_gexf(G, Path(tempfile.mkdtemp()) / "g.gexf")
    >>> H = nx.read_gexf(p)
    >>> H.edges["a", "b"]["kind"], H.edges["a", "b"]["weight"], H.nodes["b"]["in_degree"]
    ('reply', 2.0, 1)
    """
    from .graph import SOURCE, TARGET, WEIGHT

    edges, nodes, directed = _graph_edges_and_nodes(graph)
    nattr = _node_attr_frame(graph, nodes, node_attrs)
    eattr = _edge_attr_frame(edges)
    nspecs = _attr_specs(nattr, list(nattr.columns), "n")
    especs = _attr_specs(eattr, list(eattr.columns), "e")
    lines = _gexf_head("static", directed)
    lines += _attributes_block("node", "static", nspecs)
    lines += _attributes_block("edge", "static", especs)
    lines.append("    <nodes>")
    for node, row in zip(nodes, nattr.itertuples(index=False, name=None), strict=True):
        body = _attvalues(nspecs, row, "        ")
        if body:
            lines.append(f"      <node id={_attr(node)} label={_attr(node)}>")
            lines += body
            lines.append("      </node>")
        else:
            lines.append(f"      <node id={_attr(node)} label={_attr(node)}/>")
    lines.append("    </nodes>")
    lines.append("    <edges>")
    weights = edges[WEIGHT].to_numpy(dtype=float) if WEIGHT in edges else np.ones(len(edges))
    for i, (s, t, w, row) in enumerate(
        zip(
            edges[SOURCE].tolist(),
            edges[TARGET].tolist(),
            weights.tolist(),
            eattr.itertuples(index=False, name=None),
            strict=True,
        )
    ):
        weight = _double(float(w))
        lines.append(f'      <edge id="{i}" source={_attr(s)} target={_attr(t)} weight="{weight}">')
        lines += _attvalues(especs, row, "        ")
        lines.append("      </edge>")
    lines.append("    </edges>")
    lines += ["  </graph>", "</gexf>", ""]
    return atomic_write_bytes(path, "\n".join(lines).encode("utf-8"))


def _spell_bounds(windows: Windows, window: Window) -> tuple[str, str]:
    """Return a window as closed GEXF spell bounds (end one second before the next window).

    Windows are half-open ``[start, end)``; GEXF spells are closed, so the end is written one
    second early to keep consecutive spells from sharing an instant (Gephi rejects overlaps).
    """
    start, end = windows.bounds(window)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return start.strftime(fmt), (end - pd.Timedelta(seconds=1)).strftime(fmt)


def write_dynamic_gexf(
    interactions: pd.DataFrame,
    windows: Windows,
    path: str | Path,
    *,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    node_attrs: pd.DataFrame | None = None,
) -> Path:
    """Write one dynamic GEXF 1.3 with a spell per window, so Gephi's timeline plays the crisis.

    Each node and edge has one ``<spell>`` per window (baseline, crisis, after) in which it is
    active, and dynamic attributes per window: ``window_weight`` on edges and
    ``window_weighted_degree`` on nodes. Static attributes: ``node_attrs`` columns on nodes (e.g.
    community, role, PageRank), and on edges the total ``weight`` over the three windows, ``kind``
    and per-kind counts. Interactions outside all windows are left out; structural follows (null
    ``created_at``) belong to the baseline (see :func:`~netsupport.graph.window_interactions`).

    The graph uses ``timeformat="date"`` with ISO-8601 UTC date-times (``2014-02-14T09:00:00Z``):
    Gephi parses date-times in that mode, and networkx.read_gexf (which rejects ``dateTime``)
    reads the file too. Spell ends are one second before the next window's start.

    Raises
    ------
    EmptyWindow
        If no window holds any edge.
    """
    from .graph import aggregate_edges, window_interactions

    window_edges = {
        window.value: aggregate_edges(
            window_interactions(interactions, windows, window), kinds, kind_weights
        )
        for window in Window
    }
    return write_dynamic_gexf_edges(window_edges, windows, path, node_attrs=node_attrs)


def write_dynamic_gexf_edges(
    window_edges: Mapping[str, pd.DataFrame],
    windows: Windows,
    path: str | Path,
    *,
    node_attrs: pd.DataFrame | None = None,
    kind_counts: bool = True,
    note: str | None = None,
) -> Path:
    """Write the dynamic GEXF of :func:`write_dynamic_gexf` from edges aggregated per window.

    ``window_edges`` maps a window name to :func:`~netsupport.graph.aggregate_edges` of that
    window's interactions (windows missing or empty have no edges). The Dask engine
    (:mod:`netsupport.scale`) aggregates them in parallel and writes the same file.

    With ``kind_counts=False`` edges carry ``kind`` and the weights only, not the per-kind counts
    (the report's graph.gexf: a third smaller, see the module's docstring). ``note`` is appended to
    the file's ``<meta><description>``.

    Raises
    ------
    EmptyWindow
        If no window holds any edge.
    """
    from .graph import HANDLE, SOURCE, TARGET, WEIGHT, count_column

    per_window, wins = [], []
    for i, window in enumerate(Window):
        edges = window_edges.get(window.value)
        if edges is not None and not edges.empty:
            per_window.append(edges)
            wins.append(np.full(len(edges), i, dtype=np.int64))
    if not per_window:
        raise EmptyWindow(
            "no window (baseline, crisis, after) holds an interaction between two accounts; "
            f"windows are {windows.as_dict()}"
        )
    # The windows' edges as plain arrays, one row per (edge, window), sorted by source, target
    # and window through one integer key (handles as codes in sorted order); sums per edge and
    # per node over sorted runs, never a DataFrame groupby: a study of 10^7 interactions has
    # ~10^7 such rows, and this keeps the transient memory to a few arrays of them.
    counts = [
        c for c in (count_column(k) for k in IKind) if any(c in e.columns for e in per_window)
    ]
    # handles factorised once (one hash pass), their codes renumbered in sorted order
    codes, uniques = pd.factorize(
        np.concatenate(
            [e[col].to_numpy(dtype=object) for e in per_window for col in (SOURCE, TARGET)]
        ),
        use_na_sentinel=False,  # (a missing handle is a node, and fails sorting as it did)
    )
    order = np.array(sorted(range(len(uniques)), key=uniques.__getitem__), dtype=np.int64)
    nodes = uniques[order].tolist()  # sorted(nodes), as sorted() orders them
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[codes]
    del rank, order, uniques
    n_w, n_nodes = len(Window), len(nodes)
    ends = np.cumsum([2 * len(e) for e in per_window])
    key = np.concatenate(
        [
            codes[end - 2 * len(e) : end - len(e)] * n_nodes + codes[end - len(e) : end]
            for e, end in zip(per_window, ends, strict=True)
        ]
    )
    del codes
    key = key * n_w + np.concatenate(wins)
    del wins
    perm = np.argsort(key, kind="stable")  # keys are distinct: (source, target, window) order
    key = key[perm]
    w_arr = (key % n_w).astype(np.int8)
    pair = key // n_w
    del key
    starts_e = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    pair = pair[starts_e]
    src_code, dst_code = pair // n_nodes, pair % n_nodes
    del pair

    def column(name: str, dtype: Any, perm: np.ndarray) -> np.ndarray:
        parts = [
            (e[name].fillna(0) if name != WEIGHT else e[name]).to_numpy(dtype=dtype)
            if name in e.columns
            else np.zeros(len(e), dtype=dtype)
            for e in per_window
        ]
        return np.concatenate(parts)[perm]

    w_values = column(WEIGHT, np.float64, perm)
    total = pd.DataFrame({c: np.add.reduceat(column(c, np.int64, perm), starts_e) for c in counts})
    total[WEIGHT] = np.add.reduceat(w_values, starts_e)
    del perm
    eattr = _edge_attr_frame(total)
    if not kind_counts:
        eattr = eattr[["kind"]]
    total_weight = total[WEIGHT]
    del total

    # per-node weighted degree in each window: sources' sums plus targets' sums
    offsets = np.r_[starts_e, len(w_arr)]  # edge i's rows (one per window): offsets[i:i+2]
    rows_src = np.repeat(src_code, np.diff(offsets))
    rows_dst = np.repeat(dst_code, np.diff(offsets))
    size = n_nodes * n_w
    s_keys = rows_src * n_w + w_arr
    t_keys = rows_dst * n_w + w_arr
    del rows_src, rows_dst
    present = np.bincount(s_keys, minlength=size) + np.bincount(t_keys, minlength=size)
    sums = np.bincount(s_keys, w_values, minlength=size) + np.bincount(
        t_keys, w_values, minlength=size
    )
    del s_keys, t_keys
    s_key = np.flatnonzero(present)
    strength = pd.Series(sums[s_key], index=s_key)
    del present, sums

    if node_attrs is None:
        nattr = pd.DataFrame(index=pd.Index(nodes, dtype=object, name=HANDLE))
    else:
        nattr = _reindex_attrs(node_attrs, nodes)
    nspecs = _attr_specs(nattr, list(nattr.columns), "n")
    especs = _attr_specs(eattr, list(eattr.columns), "e")
    ndyn = _AttrSpec("nd0", "window_weighted_degree", "double")
    edyn = _AttrSpec("ed0", "window_weight", "double")
    bounds = [_spell_bounds(windows, w) for w in Window]

    head = _gexf_head(
        "dynamic",
        True,
        ' timeformat="date" timerepresentation="interval" timezone="UTC"',
        note,
    )
    head += _attributes_block("node", "static", nspecs)
    head += _attributes_block("node", "dynamic", [ndyn])
    head += _attributes_block("edge", "static", especs)
    head += _attributes_block("edge", "dynamic", [edyn])
    # The text is assembled from object arrays of pieces, each value formatted and escaped once
    # per distinct value (handles in one pass), laid out in file order by integer arithmetic and
    # joined once per batch of elements: no Python call per node or edge, and a graph of
    # millions of edges never exists as one string. Every element ends with a newline.
    ids = _attr_texts(nodes)
    spell = np.array([f'<spell start="{b0}" end="{b1}"/>\n' for b0, b1 in bounds], dtype=object)
    tail = np.array([f'" start="{b0}" end="{b1}"/>\n' for b0, b1 in bounds], dtype=object)

    def dyn_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        codes, uniques = pd.factorize(values.astype("float64"), use_na_sentinel=False)
        return codes, np.array([_double(float(v)) for v in uniques], dtype=object)

    # nodes: strength rows are sorted by node (every node has one at least), then window
    s_node, s_wins = s_key // n_w, s_key % n_w
    s_codes, s_text = dyn_codes(strength.to_numpy())
    bounds_n = np.r_[np.flatnonzero(np.r_[True, s_node[1:] != s_node[:-1]]), len(s_key)]
    n_static = _AttvalueColumns(nspecs, nattr, "")

    w_codes, w_text = dyn_codes(w_values)
    del w_values
    e_static = _AttvalueColumns(especs, eattr, "")
    n_edges = len(eattr)
    del eattr
    wcodes, wtext = dyn_codes(total_weight.to_numpy())
    batch = _GEXF_BATCH

    def elements(
        count: int,
        rows: np.ndarray,
        opening: Callable[[int, int], list[Any]],
        static: _AttvalueColumns,
        dyn: tuple[_AttrSpec, np.ndarray, np.ndarray, np.ndarray],
        close: str,
    ) -> Iterator[str]:
        """The text of ``count`` nodes or edges, a batch at a time: element i's ``opening``
        pieces, its ``static`` attvalues, its rows ``rows[i]:rows[i+1]`` (one per window it is
        in) of the dynamic attribute ``dyn`` (spec, value texts, their codes, the windows), its
        spells and ``close``."""
        spec, texts, codes, wins = dyn
        for a in range(0, count, batch):
            b = min(a + batch, count)
            lo, hi = rows[a], rows[b]
            yield _join_elements(
                opening(a, b),
                static.pieces(a, b),
                [f'<attvalue for="{spec.id}" value="', texts[codes[lo:hi]], tail[wins[lo:hi]]],
                spell[wins[lo:hi]],
                np.diff(rows[a : b + 1]),
                close,
            )

    def node_opening(a: int, b: int) -> list[Any]:
        return ["<node id=", ids[a:b], " label=", ids[a:b], ">\n<attvalues>\n"]

    def edge_opening(a: int, b: int) -> list[Any]:
        return [
            '<edge id="',
            np.arange(a, b).astype(str).astype(object),
            '" source=',
            ids[src_code[a:b]],
            " target=",
            ids[dst_code[a:b]],
            ' weight="',
            wtext[wcodes[a:b]],
            '">\n<attvalues>\n',
        ]

    def chunks() -> Iterator[str]:
        yield "\n".join(head) + "\n"
        yield "<nodes>\n"
        node_dyn = (ndyn, s_text, s_codes, s_wins)
        yield from elements(len(nodes), bounds_n, node_opening, n_static, node_dyn, "</node>\n")
        yield "</nodes>\n<edges>\n"
        edge_dyn = (edyn, w_text, w_codes, w_arr)
        yield from elements(n_edges, offsets, edge_opening, e_static, edge_dyn, "</edge>\n")
        yield "</edges>\n  </graph>\n</gexf>\n"

    return atomic_write_chunks(path, chunks())


#: Elements (nodes or edges) of the dynamic GEXF assembled and written at a time.
_GEXF_BATCH = 100_000

#: Characters that make :func:`_attr` more than quoting: XML escapes (quoteattr's ``&<>"`` and
#: whitespace), characters XML forbids and bidi controls.
_ATTR_SPECIAL = re.compile(f'[&<>"\n\r\t{_XML_INVALID.pattern[1:-1]}{BIDI_CONTROLS}]')


def _attr_texts(values: Sequence[object]) -> np.ndarray:
    """Return ``[_attr(v) for v in values]`` as an object array; strings are scanned in one
    regex pass over their join, and only those it flags go through :func:`_attr`.

    Examples
    --------
    >>> _attr_texts(["lane", 'a"b', "x&y", "\u202e"]).tolist()
    ['"lane"', '\\'a"b\\'', '"x&amp;y"', '"[U+202E]"']
    """
    values = list(values)
    if not all(type(v) is str for v in values):
        return np.array([_attr(v) for v in values] or [], dtype=object)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    out = '"' + out + '"'
    # one separator (not special) between values: a match at position p lies in value i where
    # starts[i] <= p < starts[i + 1]
    joined = " ".join(values)
    hits = [m.start() for m in _ATTR_SPECIAL.finditer(joined)]
    if hits:
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        starts = np.r_[0, np.cumsum(lengths + 1)[:-1]]
        for i in np.unique(np.searchsorted(starts, hits, side="right") - 1):
            out[i] = _attr(values[i])
    return out


def _join_elements(
    head: Sequence[np.ndarray | str],
    static: Sequence[np.ndarray],
    dyn: Sequence[np.ndarray | str],
    spells: np.ndarray,
    counts: np.ndarray,
    close: str,
) -> str:
    """Return the text of consecutive elements, element i being: its ``head`` pieces, its
    ``static`` pieces, the ``dyn`` pieces of each of its ``counts[i]`` rows (rows grouped by
    element, in order), the end of its attvalues, its ``counts[i]`` ``spells`` rows and
    ``close``. Pieces are strings or object arrays of strings (one per element, or per row for
    ``dyn`` and ``spells``); every element has one row at least.

    Examples
    --------
    >>> rows = np.array(["1", "2", "3"], object)
    >>> text = _join_elements(["<n ", np.array(["a", "b"], object), ">"], [], ["d", rows],
    ...     np.array(["s1", "s2", "s3"], object), np.array([1, 2]), "!")
    >>> for element in text.split("!")[:-1]:
    ...     print(element.replace("\\n", "|"))
    <n a>d1</attvalues>|<spells>|s1</spells>|
    <n b>d2d3</attvalues>|<spells>|s2s3</spells>|
    """
    n = len(counts)
    if not n:
        return ""
    counts = counts.astype(np.int64)
    fixed, d = len(head) + len(static), len(dyn)
    size = fixed + (d + 1) * counts + 2
    start = np.zeros(n, dtype=np.int64)
    np.cumsum(size[:-1], out=start[1:])
    out = np.empty(int(start[-1] + size[-1]), dtype=object)
    for j, piece in enumerate([*head, *static]):
        out[start + j] = piece
    elem = np.repeat(np.arange(n), counts)
    rank = np.arange(len(elem)) - np.repeat(np.cumsum(counts) - counts, counts)
    at = start[elem] + fixed + rank * d
    for j, piece in enumerate(dyn):
        out[at + j] = piece
    mid = start + fixed + d * counts
    out[mid] = "</attvalues>\n<spells>\n"
    out[mid[elem] + 1 + rank] = spells
    out[start + size - 1] = "</spells>\n" + close
    return "".join(out.tolist())


class _AttvalueColumns:
    """The ``<attvalue>`` lines of a frame's rows (as :func:`_attvalue_cells`), each value
    formatted and escaped once; :meth:`pieces` gives a slice of rows' lines, column by column."""

    def __init__(self, specs: Sequence[_AttrSpec], frame: pd.DataFrame, indent: str):
        self.n = len(frame)
        self.columns: list[tuple[np.ndarray, np.ndarray]] = []
        for spec, col in zip(specs, frame.columns, strict=True):
            codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
            codes = codes.astype(np.int32 if len(uniques) >= 2**15 else np.int16)
            lines = []
            for value in list(uniques):
                text = _gexf_value(value, spec.gtype)
                lines.append(
                    ""
                    if text is None
                    else f'{indent}<attvalue for="{spec.id}" value={_attr(text)}/>\n'
                )
            self.columns.append((codes, np.array([*lines, ""], dtype=object)))

    def pieces(self, start: int, stop: int) -> list[np.ndarray]:
        """Each column's line of rows ``start:stop`` (ending with a newline; '' for none)."""
        return [lines[codes[start:stop]] for codes, lines in self.columns]


def _native(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value):
        return float(_double(value))  # GraphML: the same digits as GEXF
    return value


def write_graphml(
    graph: GraphLike, path: str | Path, node_attrs: pd.DataFrame | None = None
) -> Path:
    """Write GraphML: nodes with ``node_attrs`` columns, edges with kind, counts, weight (atomic).

    Missing values are left out. Nodes and edges are written in sorted order.
    """
    import networkx as nx

    from .graph import SOURCE, TARGET, WEIGHT

    edges, nodes, directed = _graph_edges_and_nodes(graph)
    nattr = _node_attr_frame(graph, nodes, node_attrs)
    eattr = _edge_attr_frame(edges)
    H = nx.DiGraph() if directed else nx.Graph()
    for node, row in zip(nodes, nattr.to_dict("records"), strict=True):
        H.add_node(
            neutralise_bidi(node),
            **{k: neutralise_bidi(_native(v)) for k, v in row.items() if not _missing(v)},
        )
    weights = edges[WEIGHT].tolist() if WEIGHT in edges else [1.0] * len(edges)
    for s, t, w, row in zip(
        edges[SOURCE].tolist(),
        edges[TARGET].tolist(),
        weights,
        eattr.to_dict("records"),
        strict=True,
    ):
        data = {k: neutralise_bidi(_native(v)) for k, v in row.items() if not _missing(v)}
        H.add_edge(neutralise_bidi(s), neutralise_bidi(t), weight=_native(float(w)), **data)
    buf = io.BytesIO()
    nx.write_graphml(H, buf, encoding="utf-8", prettyprint=True)
    return atomic_write_bytes(path, buf.getvalue())


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def write_edge_node_csv(
    graph: GraphLike,
    edges_path: str | Path,
    nodes_path: str | Path,
    node_attrs: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write the edges and the nodes as two CSV files (formula-safe, atomic, sorted)."""
    from .graph import SOURCE, TARGET, WEIGHT

    edges, nodes, _ = _graph_edges_and_nodes(graph)
    nattr = _node_attr_frame(graph, nodes, node_attrs).reset_index()
    eattr = _edge_attr_frame(edges)
    table = pd.concat([edges[[SOURCE, TARGET]], eattr], axis=1)
    table[WEIGHT] = edges[WEIGHT] if WEIGHT in edges.columns else 1.0
    return write_csv(table, edges_path), write_csv(nattr, nodes_path)


def export_graph(
    graph: GraphLike, path: str | Path, node_attrs: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``graph`` in the format its suffix names: ``.gexf``, ``.graphml`` or ``.csv``.

    For ``.csv`` the edges go to ``path`` and the nodes to ``<stem>.nodes.csv`` beside it.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    NetsupportError
        For any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gexf":
        return [write_gexf(graph, path, node_attrs)]
    if suffix == ".graphml":
        return [write_graphml(graph, path, node_attrs)]
    if suffix == ".csv":
        nodes_path = path.with_name(f"{path.stem}.nodes.csv")
        return list(write_edge_node_csv(graph, path, nodes_path, node_attrs))
    raise NetsupportError(
        f"{path}: unknown graph format {suffix or '(no suffix)'!r}; use .gexf, .graphml or .csv"
    )
