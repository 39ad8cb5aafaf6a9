"""Interaction graphs: aggregate interactions into weighted edges, build graphs, rank, export.

Interactions are first aggregated in pandas (one row per ``source -> target`` pair with a count
per kind and a total weight); graphs are built from those aggregated edges with nodes and edges
inserted in sorted order, so the same interactions in any row order give the same graph, the same
iteration order and therefore the same results downstream.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({
...     "source": ["amy", "amy", "bob", "amy"], "target": ["lane", "lane", "lane", "bob"],
...     "kind": ["reply", "mention", "reply", "repost"]})
>>> edges = aggregate_edges(rows, kind_weights={"repost": 2.0})
>>> edges.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
{'source': ['amy', 'amy', 'bob'], 'target': ['bob', 'lane', 'lane'], 'n_reply': [0, 1, 1],
 'n_mention': [0, 1, 0], 'n_repost': [1, 0, 0], 'weight': [2.0, 2.0, 1.0]}
>>> G = build_graph(edges)
>>> list(G.nodes), G["amy"]["lane"]["weight"]
(['amy', 'bob', 'lane'], 2.0)
>>> round(float(pagerank(G)["lane"]), 4)
0.5209
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias
from xml.sax.saxutils import escape, quoteattr

import networkx as nx
import numpy as np
import pandas as pd

from . import __version__
from .errors import EmptyWindow, NetsupportError
from .schema import AccountCol, IKind, InteractionCol, Role, Window
from .textsafe import (
    BIDI_CONTROLS,
    atomic_write_bytes,
    atomic_write_chunks,
    neutralise_bidi,
    write_csv,
)
from .windows import Windows

__all__ = [
    "COUNT_PREFIX",
    "NETWORK_KINDS",
    "EmptyGraph",
    "GraphArrays",
    "GraphLike",
    "UnknownKind",
    "aggregate_edges",
    "baseline_edges",
    "build_graph",
    "count_column",
    "count_columns",
    "crisis_graph",
    "crisis_map_of",
    "dominant_kind",
    "edge_columns",
    "edges_from_graph",
    "export_graph",
    "neighbourhood",
    "node_table",
    "pagerank",
    "parse_kinds",
    "select_edges",
    "undirected",
    "undirected_edges",
    "window_interactions",
    "write_dynamic_gexf",
    "write_dynamic_gexf_edges",
    "write_edge_node_csv",
    "write_gexf",
    "write_graphml",
]

COUNT_PREFIX = "n_"
# plain str column names (enum members as dict keys would leak into edge-attribute names)
SOURCE = InteractionCol.SOURCE.value
TARGET = InteractionCol.TARGET.value
WEIGHT = InteractionCol.WEIGHT.value
HANDLE = AccountCol.HANDLE.value

#: Above this many edges ``pagerank(engine="auto")`` runs the power iteration on a scipy sparse
#: matrix built from the edge arrays (networkx PageRank on 1M edges takes ~3 s here, most of it
#: building the networkx graph); below 50k edges networkx is instant. (It was igraph's PRPACK,
#: whose results differ in the last digits from one call to the next: issue 14 item 14.)
PAGERANK_SPARSE_MIN_EDGES = 50_000

#: GEXF version written (Gephi 0.9+ reads it; networkx.read_gexf reads it).
GEXF_VERSION = "1.3"
_GEXF_NS = "http://gexf.net/1.3"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


class EmptyGraph(EmptyWindow):
    """There are no edges to build or analyse a graph from (for the window and kinds asked)."""


class UnknownKind(NetsupportError):
    """An interaction kind that does not exist was asked for."""


GraphLike: TypeAlias = "nx.Graph | pd.DataFrame | GraphArrays"


# ---- kinds --------------------------------------------------------------------------------------


def count_column(kind: IKind | str) -> str:
    """Return the name of the per-kind count column of aggregated edges.

    Examples
    --------
    >>> count_column(IKind.MENTION)
    'n_mention'
    """
    return f"{COUNT_PREFIX}{IKind(kind).value}"


def count_columns(edges: pd.DataFrame) -> list[str]:
    """Return the per-kind count columns present in ``edges``, in :class:`IKind` order."""
    return [count_column(k) for k in IKind if count_column(k) in edges.columns]


def parse_kinds(kinds: str | Iterable[IKind | str] | None) -> tuple[IKind, ...] | None:
    """Return kinds as a tuple of :class:`IKind` in enum order (``None`` stays ``None``: all kinds).

    Accepts a comma-separated string (``"reply,mention"``) or an iterable. Unknown kinds raise
    :class:`UnknownKind` naming the valid ones.

    Examples
    --------
    >>> parse_kinds("mention, reply,mention")
    (<IKind.REPLY: 'reply'>, <IKind.MENTION: 'mention'>)
    >>> parse_kinds("likes")
    Traceback (most recent call last):
    ...
    netsupport.graph.UnknownKind: unknown interaction kind 'likes'; expected some of: reply, \
mention, repost, quote, follow, marker, like
    """
    if kinds is None:
        return None
    items = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else list(kinds)
    wanted = set()
    for item in items:
        if item == "":
            continue
        try:
            wanted.add(IKind(str(item).lower()))
        except ValueError:
            valid = ", ".join(k.value for k in IKind)
            raise UnknownKind(
                f"unknown interaction kind {item!r}; expected some of: {valid}"
            ) from None
    if not wanted:
        raise UnknownKind("no interaction kinds given; expected some of: " + _kind_list())
    return tuple(k for k in IKind if k in wanted)


def _kind_list() -> str:
    return ", ".join(k.value for k in IKind)


def _kind_weight_map(kind_weights: Mapping[str, float] | None) -> dict[str, float]:
    out = {k.value: 1.0 for k in IKind}
    for key, value in (kind_weights or {}).items():
        try:
            kind = IKind(str(key).lower())
        except ValueError:
            raise UnknownKind(
                f"kind_weights: unknown interaction kind {key!r}; expected some of: " + _kind_list()
            ) from None
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise NetsupportError(
                f"kind_weights: weight for {kind.value!r} must be a finite number >= 0, got {value}"
            )
        out[kind.value] = value
    return out


# ---- windows and aggregation --------------------------------------------------------------------


def window_interactions(
    interactions: pd.DataFrame, windows: Windows, window: Window | str
) -> pd.DataFrame:
    """Return the interactions whose ``created_at`` falls inside ``window`` (``[start, end)``).

    Follow rows with a null ``created_at`` (a follower list says who follows whom, not since
    when) are *structural*: they describe the standing network before the crisis, so they are
    included in the baseline window and in no other. Every other row with a null ``created_at``
    is in no window.

    Parameters
    ----------
    interactions : DataFrame
        Canonical interactions (columns source, target, kind, created_at, ...).
    windows : Windows
        The study's baseline / crisis / after windows.
    window : Window or str
        Which window.

    Returns
    -------
    DataFrame
        The selected rows (same columns), index reset; may be empty.

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    >>> df = pd.DataFrame({"source": ["a", "b", "c"], "target": ["x", "x", "x"],
    ...     "kind": ["reply", "follow", "reply"],
    ...     "created_at": pd.to_datetime(["2014-02-14T10:00Z", None, "2014-02-13T10:00Z"],
    ...                                  utc=True)})
    >>> window_interactions(df, w, "baseline")["source"].tolist()
    ['b', 'c']
    >>> window_interactions(df, w, Window.CRISIS)["source"].tolist()
    ['a']
    """
    window = Window(window)
    start, end = windows.bounds(window)
    ts = pd.to_datetime(interactions[InteractionCol.CREATED_AT], utc=True)
    inside = ((ts >= start) & (ts < end)).fillna(False).to_numpy(dtype=bool)
    if window is Window.BASELINE:
        structural = ts.isna().to_numpy() & (
            interactions[InteractionCol.KIND].astype(object).to_numpy() == IKind.FOLLOW.value
        )
        inside = inside | structural
    return interactions.loc[inside].reset_index(drop=True)


def edge_columns(interactions: pd.DataFrame) -> pd.DataFrame:
    """Return the columns of ``interactions`` that windows and edges are made from (source,
    target, kind, created_at, weight): selecting a window copies these, not the post ids and
    whatever else the study's interactions carry."""
    cols = [c.value for c in InteractionCol if c is not InteractionCol.POST_ID]
    return interactions[[c for c in cols if c in interactions.columns]]


def baseline_edges(interactions: pd.DataFrame, windows: Windows) -> pd.DataFrame:
    """Return the baseline window's interactions aggregated into edges.

    The same edges as ``aggregate_edges(window_interactions(interactions, windows,
    "baseline"))``, windowing only the :func:`edge_columns` (not copying the post ids and
    texts of every baseline row).

    Examples
    --------
    >>> w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-15T00:00:00Z", 1, 1)
    >>> df = pd.DataFrame({"source": ["a", "b", "a"], "target": ["x", "x", "x"],
    ...     "kind": ["reply", "follow", "reply"], "post_id": ["1", None, "3"],
    ...     "created_at": pd.to_datetime(["2014-02-13T10:00Z", None, "2014-02-14T10:00Z"],
    ...                                  utc=True)})
    >>> baseline_edges(df, w).values.tolist()
    [['a', 'x', 1, 0, 1.0], ['b', 'x', 0, 1, 1.0]]
    """
    rows = window_interactions(edge_columns(interactions), windows, Window.BASELINE)
    return aggregate_edges(rows)


def aggregate_edges(
    interactions: pd.DataFrame,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    *,
    self_loops: bool = False,
) -> pd.DataFrame:
    """Return one row per ``source -> target`` pair with a count per kind and a total weight.

    Vectorised (one pandas groupby). Rows with a missing source or target, rows of kinds not
    asked for and (unless ``self_loops``) rows from an account to itself are left out.

    Parameters
    ----------
    interactions : DataFrame
        Canonical interactions (source, target, kind; an optional ``weight`` column, null = 1).
    kinds : iterable of IKind, optional
        Kinds to keep; default all kinds.
    kind_weights : mapping kind -> float, optional
        Multiplier per kind (default 1 for every kind), e.g. ``{"repost": 2.0}``.
    self_loops : bool
        Keep ``a -> a`` rows (default False: replying to one's own thread is not an interaction
        between accounts).

    Returns
    -------
    DataFrame
        Columns ``source``, ``target``, ``n_<kind>`` (int64, one per kind present, in
        :class:`IKind` order) and ``weight`` (float64: sum over rows of row weight x kind
        weight; with unit row weights this is ``sum(count * kind weight)``), sorted by
        ``(source, target)``, index 0..n-1.

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["b", "a", "a"], "target": ["a", "b", "b"],
    ...                    "kind": ["mention", "reply", "reply"]})
    >>> aggregate_edges(df).values.tolist()
    [['a', 'b', 2, 0, 2.0], ['b', 'a', 0, 1, 1.0]]
    """
    wanted = parse_kinds(kinds) or tuple(IKind)
    weights = _kind_weight_map(kind_weights)
    src = interactions[SOURCE]
    dst = interactions[TARGET]
    kind = interactions[InteractionCol.KIND]
    keep = src.notna() & dst.notna() & kind.isin([k.value for k in wanted])
    if not self_loops:
        keep &= src != dst
    keep = keep.to_numpy(dtype=bool)
    if not keep.any():
        return pd.DataFrame(
            {
                SOURCE: pd.Series([], dtype=object),
                TARGET: pd.Series([], dtype=object),
                WEIGHT: pd.Series([], dtype="float64"),
            }
        )
    if WEIGHT in interactions.columns:
        row_w = pd.to_numeric(interactions[WEIGHT], errors="coerce").fillna(1.0).to_numpy(float)
    else:
        row_w = np.ones(len(interactions))
    kinds_all = [k.value for k in IKind]
    k_codes, k_uniq = pd.factorize(kind[keep])
    k_code = np.asarray([kinds_all.index(str(k)) for k in k_uniq], dtype=np.int64)[k_codes]
    w = row_w[keep] * np.asarray([weights.get(k, 0.0) for k in kinds_all], dtype=float)[k_code]
    # handles as codes in sorted order (Python's str order), one integer key per (source,
    # target): the key's order is the (source, target) order, and groups are found by np.unique
    s_keep, t_keep = src[keep], dst[keep]
    codes, uniq = pd.factorize(pd.concat([s_keep, t_keep], ignore_index=True), sort=True)
    m, n = len(s_keep), len(uniq)
    key = codes[:m].astype(np.int64) * n + codes[m:]
    pairs, edge = np.unique(key, return_inverse=True)
    n_k = len(kinds_all)
    table = np.bincount(edge * n_k + k_code, minlength=len(pairs) * n_k).reshape(-1, n_k)
    handles = np.asarray(uniq, dtype=object)
    out = pd.DataFrame(
        {
            SOURCE: pd.Series(handles[pairs // n], dtype=object),
            TARGET: pd.Series(handles[pairs % n], dtype=object),
        }
    )
    for j, k in enumerate(kinds_all):
        if table[:, j].any():
            out[count_column(k)] = table[:, j].astype("int64")
    # pandas' groupby sum over each edge's rows in row order (same bits as grouping by names)
    out[WEIGHT] = pd.Series(w).groupby(edge, sort=True).sum().to_numpy(dtype=np.float64)
    return out


def select_edges(
    interactions: pd.DataFrame,
    *,
    windows: Windows | None = None,
    window: Window | str | None = None,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return the aggregated edges of one window (or of all interactions), refusing an empty one.

    Raises
    ------
    EmptyWindow
        If the window (with the kinds asked) holds no interaction between two accounts; the
        message names the window, its bounds and the kinds.
    ValueError
        If ``window`` is given without ``windows``.
    """
    kinds = parse_kinds(kinds)
    if window is not None:
        if windows is None:
            raise ValueError("select_edges: a window needs windows")
        rows = window_interactions(interactions, windows, window)
        start, end = windows.bounds(Window(window))
        where = f"window {Window(window).value} [{start.isoformat()}, {end.isoformat()})"
    else:
        rows = interactions
        where = "the store"
    edges = aggregate_edges(rows, kinds, kind_weights)
    if edges.empty:
        what = ", ".join(k.value for k in kinds) if kinds else "any kind"
        raise EmptyWindow(
            f"{where} has no interactions between two accounts of kind {what} "
            f"({len(interactions)} interactions in total, {len(rows)} selected); "
            "choose another window or more kinds"
        )
    return edges


# ---- graphs -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GraphArrays:
    """A graph as sorted node names and integer edge arrays: the form the fast engines consume.

    ``nodes`` is sorted; ``src``/``dst`` index into it; edges are sorted by ``(src, dst)``.
    For an undirected graph ``src <= dst``.
    """

    nodes: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    directed: bool

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.src)

    @classmethod
    def from_edges(
        cls, edges: pd.DataFrame, *, directed: bool = True, nodes: Iterable[Any] | None = None
    ) -> GraphArrays:
        """Build from an edge table (``source``, ``target``, optional ``weight``)."""
        s = edges[SOURCE].to_numpy(dtype=object)
        t = edges[TARGET].to_numpy(dtype=object)
        extra = np.asarray(list(nodes), dtype=object) if nodes is not None else np.array([], object)
        codes, uniq = pd.factorize(np.concatenate([s, t, extra]), sort=True)
        w = (
            pd.to_numeric(edges[WEIGHT], errors="coerce").fillna(1.0).to_numpy(dtype=float)
            if WEIGHT in edges.columns
            else np.ones(len(edges))
        )
        n = len(s)
        return cls._make(np.asarray(uniq, dtype=object), codes[:n], codes[n : 2 * n], w, directed)

    @classmethod
    def from_graph(cls, G: nx.Graph) -> GraphArrays:
        """Build from a networkx graph (edge attribute ``weight``, default 1)."""
        nodes = np.asarray(sorted(G.nodes()), dtype=object)
        index = {node: i for i, node in enumerate(nodes.tolist())}
        m = G.number_of_edges()
        src = np.empty(m, dtype=np.int64)
        dst = np.empty(m, dtype=np.int64)
        w = np.empty(m, dtype=float)
        for i, (u, v, d) in enumerate(G.edges(data=WEIGHT, default=1.0)):
            src[i], dst[i], w[i] = index[u], index[v], d
        return cls._make(nodes, src, dst, w, G.is_directed())

    @classmethod
    def coerce(cls, obj: GraphLike) -> GraphArrays:
        """Return ``obj`` (networkx graph, edge DataFrame or GraphArrays) as GraphArrays."""
        if isinstance(obj, GraphArrays):
            return obj
        if isinstance(obj, pd.DataFrame):
            return cls.from_edges(obj)
        if isinstance(obj, nx.Graph):
            if obj.is_multigraph():
                raise TypeError("multigraphs are not supported: aggregate edges first")
            return cls.from_graph(obj)
        raise TypeError(f"expected a networkx graph or an edge DataFrame, got {type(obj).__name__}")

    @classmethod
    def _make(cls, nodes, src, dst, w, directed: bool) -> GraphArrays:
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        if not directed:
            src, dst = np.minimum(src, dst), np.maximum(src, dst)
        order = np.lexsort((dst, src))
        return cls(nodes, src[order], dst[order], np.asarray(w, dtype=float)[order], directed)

    def to_undirected(self) -> GraphArrays:
        """Return the undirected projection: weights of ``u -> v`` and ``v -> u`` summed."""
        a = np.minimum(self.src, self.dst)
        b = np.maximum(self.src, self.dst)
        key = a * np.int64(max(self.n_nodes, 1)) + b
        uniq, inverse = np.unique(key, return_inverse=True)
        w = np.bincount(inverse, weights=self.weight, minlength=len(uniq))
        n = np.int64(max(self.n_nodes, 1))
        return GraphArrays(self.nodes, uniq // n, uniq % n, w, directed=False)

    def strength(self) -> np.ndarray:
        """Return the weighted degree of each node (in + out; a self-loop counts twice)."""
        n = self.n_nodes
        return np.bincount(self.src, self.weight, minlength=n) + np.bincount(
            self.dst, self.weight, minlength=n
        )

    def to_networkx(self) -> nx.Graph:
        """Return a networkx (Di)Graph with nodes and edges inserted in sorted order."""
        G = nx.DiGraph() if self.directed else nx.Graph()
        names = self.nodes.tolist()
        G.add_nodes_from(names)
        G.add_weighted_edges_from(
            zip(
                self.nodes[self.src].tolist(),
                self.nodes[self.dst].tolist(),
                self.weight.tolist(),
                strict=True,
            )
        )
        return G

    def to_igraph(self):  # -> igraph.Graph (optional dependency)
        """Return an igraph Graph (vertex i = ``nodes[i]``, edge attribute ``weight``)."""
        import igraph as ig

        g = ig.Graph(
            n=self.n_nodes,
            edges=list(zip(self.src.tolist(), self.dst.tolist(), strict=True)),
            directed=self.directed,
        )
        g.es[WEIGHT] = self.weight.tolist()
        return g


def build_graph(edges: pd.DataFrame, nodes: Iterable[Any] | None = None) -> nx.DiGraph:
    """Return a directed graph of aggregated edges, nodes and edges inserted in sorted order.

    Edge attributes are the per-kind counts (``n_reply``, ...) and ``weight``. Sorted insertion
    makes everything that iterates the graph (python-louvain, layouts, exports) independent of
    the order the interactions came in.

    Parameters
    ----------
    edges : DataFrame
        Output of :func:`aggregate_edges`.
    nodes : iterable, optional
        Extra nodes to include even without edges.

    Raises
    ------
    EmptyGraph
        If there are no edges and no nodes.

    Examples
    --------
    >>> e = pd.DataFrame({"source": ["b", "a"], "target": ["a", "c"], "n_reply": [1, 2],
    ...                   "weight": [1.0, 2.0]})
    >>> G = build_graph(e)
    >>> list(G.edges(data=True))
    [('a', 'c', {'n_reply': 2, 'weight': 2.0}), ('b', 'a', {'n_reply': 1, 'weight': 1.0})]
    """
    extra = sorted(nodes) if nodes is not None else []
    if edges.empty and not extra:
        raise EmptyGraph("no edges to build a graph from")
    edges = edges.sort_values([SOURCE, TARGET], kind="mergesort")
    attr_cols = [*count_columns(edges), WEIGHT] if WEIGHT in edges.columns else count_columns(edges)
    all_nodes = sorted(
        set(edges[SOURCE].astype(object)).union(edges[TARGET].astype(object)).union(extra)
    )
    G = nx.DiGraph()
    G.add_nodes_from(all_nodes)
    columns = [edges[c].tolist() for c in attr_cols]
    G.add_edges_from(
        (u, v, dict(zip(attr_cols, vals, strict=True)))
        for u, v, *vals in zip(
            edges[SOURCE].astype(object).tolist(),
            edges[TARGET].astype(object).tolist(),
            *columns,
            strict=True,
        )
    )
    return G


def edges_from_graph(G: nx.Graph) -> pd.DataFrame:
    """Return the edges of ``G`` as an edge table (source, target, numeric attributes), sorted.

    For an undirected graph each edge appears once with ``source <= target``.
    """
    rows = []
    keys: dict[str, None] = {}
    directed = G.is_directed()
    for u, v, d in G.edges(data=True):
        if not directed and v < u:
            u, v = v, u
        rows.append((u, v, d))
        for k, val in d.items():
            if isinstance(val, int | float | np.number) and not isinstance(val, bool):
                keys.setdefault(k, None)
    cols = [k for k in keys if k != WEIGHT]
    ordered = [c for c in (count_column(k) for k in IKind) if c in cols]
    ordered += sorted(c for c in cols if c not in ordered)
    data: dict[str, list] = {SOURCE: [r[0] for r in rows], TARGET: [r[1] for r in rows]}
    for c in ordered:
        data[c] = [r[2].get(c, 0) for r in rows]
    data[WEIGHT] = [float(r[2].get(WEIGHT, 1.0)) for r in rows]
    out = pd.DataFrame(data)
    out[SOURCE] = out[SOURCE].astype(object)
    out[TARGET] = out[TARGET].astype(object)
    return out.sort_values([SOURCE, TARGET], kind="mergesort").reset_index(drop=True)


def undirected_edges(edges: pd.DataFrame) -> pd.DataFrame:
    """Return the undirected projection of an edge table: ``a -> b`` and ``b -> a`` summed.

    Every numeric column (counts, weight) is summed; ``source <= target`` on each row; sorted.

    Examples
    --------
    >>> e = pd.DataFrame({"source": ["b", "a", "a"], "target": ["a", "b", "c"],
    ...                   "weight": [1.0, 2.0, 0.5]})
    >>> undirected_edges(e).values.tolist()
    [['a', 'b', 3.0], ['a', 'c', 0.5]]
    """
    s = edges[SOURCE].astype(object)
    t = edges[TARGET].astype(object)
    swap = (t < s).to_numpy(dtype=bool)
    a = np.where(swap, t.to_numpy(), s.to_numpy())
    b = np.where(swap, s.to_numpy(), t.to_numpy())
    numeric = [c for c in edges.columns if c not in (SOURCE, TARGET)]
    frame = edges[numeric].copy()
    frame.insert(0, SOURCE, a)
    frame.insert(1, TARGET, b)
    out = frame.groupby([SOURCE, TARGET], sort=True)[numeric].sum().reset_index()
    out[SOURCE] = out[SOURCE].astype(object)
    out[TARGET] = out[TARGET].astype(object)
    return out


def undirected(G: nx.Graph) -> nx.Graph:
    """Return the undirected projection of ``G`` (weights summed over both directions).

    Nodes (isolated ones included) and edges are inserted in sorted order; per-kind counts are
    summed like the weight.

    Examples
    --------
    >>> D = nx.DiGraph([("b", "a", {"weight": 1.0}), ("a", "b", {"weight": 2.0})])
    >>> U = undirected(D)
    >>> list(U.nodes), U["a"]["b"]["weight"]
    (['a', 'b'], 3.0)
    """
    edges = edges_from_graph(G)
    if not edges.empty:
        edges = undirected_edges(edges)
    U = nx.Graph()
    U.add_nodes_from(sorted(G.nodes()))
    attr_cols = [c for c in edges.columns if c not in (SOURCE, TARGET)]
    U.add_edges_from(
        (u, v, dict(zip(attr_cols, vals, strict=True)))
        for u, v, *vals in zip(
            edges[SOURCE].tolist(),
            edges[TARGET].tolist(),
            *[edges[c].tolist() for c in attr_cols],
            strict=True,
        )
    )
    return U


def _igraph_available() -> bool:
    try:
        import igraph  # noqa: F401
    except ImportError:
        return False
    return True


def pagerank(
    graph: GraphLike, *, alpha: float = 0.85, engine: str = "auto", tol: float = 1e-12
) -> pd.Series:
    """Return PageRank of every node (weighted, directed if the graph is), summing to 1.

    Deterministic and seed-free (power iteration): the same graph gives the same bits.
    ``engine="auto"`` uses ``"sparse"`` (networkx's scipy power iteration run on the edge arrays,
    no networkx graph built) when the graph has at least :data:`PAGERANK_SPARSE_MIN_EDGES` edges,
    networkx otherwise; they agree to 1e-9 (tested). ``"igraph"`` (PRPACK) is fast but not
    bit-reproducible: two calls on one graph differ in the last digits (measured on a 60k-edge
    graph: 19,950 of 20,000 values), so nothing written uses it. Dangling nodes spread their
    rank uniformly in every engine.

    Parameters
    ----------
    graph : networkx graph, edge DataFrame or GraphArrays
    alpha : float
        Damping factor.
    engine : {"auto", "networkx", "sparse", "igraph"}
    tol : float
        Convergence tolerance of the power iteration (per node; networkx and sparse).

    Returns
    -------
    Series
        Index: node (sorted), values: PageRank; name ``"pagerank"``.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")])
    >>> pagerank(G).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """
    arrays = GraphArrays.coerce(graph)
    if arrays.n_nodes == 0:
        raise EmptyGraph("PageRank of an empty graph is undefined")
    if engine == "auto":
        engine = "sparse" if arrays.n_edges >= PAGERANK_SPARSE_MIN_EDGES else "networkx"
    if engine == "sparse":
        values = _pagerank_sparse(arrays, alpha=alpha, tol=tol)
    elif engine == "igraph":
        g = arrays.to_igraph()
        values = np.asarray(
            g.pagerank(weights=WEIGHT, damping=alpha, directed=arrays.directed), dtype=float
        )
    elif engine == "networkx":
        G = arrays.to_networkx()
        pr = nx.pagerank(G, alpha=alpha, weight=WEIGHT, tol=tol, max_iter=10_000)
        values = np.asarray([pr[n] for n in arrays.nodes.tolist()], dtype=float)
    else:
        raise ValueError(
            f"pagerank engine must be auto, networkx, sparse or igraph, got {engine!r}"
        )
    return pd.Series(values, index=pd.Index(arrays.nodes, name=HANDLE), name="pagerank")


def _pagerank_sparse(
    arrays: GraphArrays, *, alpha: float, tol: float, max_iter: int = 10_000
) -> np.ndarray:
    """PageRank by power iteration on a scipy sparse matrix: networkx's own algorithm
    (``networkx.algorithms.link_analysis.pagerank_alg._pagerank_scipy``, uniform
    personalisation and dangling weights) on the edge arrays. Written out because networkx
    wants a networkx graph (seconds to build for 1M edges) and igraph is not bit-reproducible;
    every operation here is sequential, so the same arrays give the same bits."""
    import scipy.sparse as sp

    n = arrays.n_nodes
    src, dst, w = arrays.src, arrays.dst, arrays.weight.astype(float)
    if not arrays.directed:  # both directions, a self-loop once (as Graph.to_directed)
        loop = src == dst
        src, dst = np.r_[src, dst[~loop]], np.r_[dst, src[~loop]]
        w = np.r_[w, w[~loop]]
    m = sp.csr_array((w, (src, dst)), shape=(n, n))  # duplicate edges summed
    out = np.asarray(m.sum(axis=1), dtype=float).ravel()
    inv = np.zeros(n)
    nz = out != 0
    inv[nz] = 1.0 / out[nz]
    q = sp.csr_array(sp.diags_array(inv) @ m)
    p = np.full(n, 1.0 / n)
    x = p.copy()
    dangling = ~nz
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ q + x[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            return x
    raise NetsupportError(f"PageRank did not converge in {max_iter} iterations")


# ---- node attributes ----------------------------------------------------------------------------


def _frame_by_handle(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` indexed by handle (from a ``handle`` column if there is one)."""
    if HANDLE in df.columns:
        df = df.set_index(HANDLE)
    df = df[~df.index.duplicated(keep="first")]
    df.index = df.index.astype(object)
    df.index.name = HANDLE
    return df


def node_table(
    graph: GraphLike,
    membership: pd.Series | None = None,
    accounts: pd.DataFrame | None = None,
    stance_counts: pd.DataFrame | None = None,
    *,
    pagerank_scores: pd.Series | None = None,
) -> pd.DataFrame:
    """Return one row per node: degrees, PageRank, community, role and stance counts.

    Parameters
    ----------
    graph : networkx graph, edge DataFrame or GraphArrays
        The (directed) interaction graph.
    membership : Series, optional
        handle -> community id (e.g. ``Partition.membership``).
    accounts : DataFrame, optional
        Canonical accounts (``handle``, ``role``); missing handles get role ``unknown``.
    stance_counts : DataFrame, optional
        Indexed by handle (or with a ``handle`` column); its numeric columns (e.g.
        ``n_supportive``, ``n_critical``, ``n_neutral``) are added, 0 for handles not in it.
    pagerank_scores : Series, optional
        Precomputed PageRank (computed with :func:`pagerank` otherwise).

    Returns
    -------
    DataFrame
        Columns ``handle, community, role, in_degree, out_degree, weighted_in_degree,
        weighted_out_degree, pagerank`` (+ stance columns), sorted by handle. ``in_degree`` and
        ``out_degree`` count distinct neighbours; on an undirected graph both are the degree.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b", {"weight": 2.0}), ("c", "b", {"weight": 1.0})])
    >>> t = node_table(G, membership=pd.Series({"a": 0, "b": 0, "c": 1}))
    >>> t[["handle", "community", "role", "in_degree", "weighted_in_degree"]].values.tolist()
    [['a', 0, 'unknown', 0, 0.0], ['b', 0, 'unknown', 2, 3.0], ['c', 1, 'unknown', 0, 0.0]]
    """
    arrays = GraphArrays.coerce(graph)
    n = arrays.n_nodes
    handles = pd.Index(arrays.nodes, name=HANDLE)
    if arrays.directed:
        in_deg = np.bincount(arrays.dst, minlength=n)
        out_deg = np.bincount(arrays.src, minlength=n)
        w_in = np.bincount(arrays.dst, arrays.weight, minlength=n)
        w_out = np.bincount(arrays.src, arrays.weight, minlength=n)
    else:
        in_deg = out_deg = np.bincount(arrays.src, minlength=n) + np.bincount(
            arrays.dst, minlength=n
        )
        w_in = w_out = arrays.strength()
    pr = pagerank_scores if pagerank_scores is not None else pagerank(arrays)
    out = pd.DataFrame(index=handles)
    if membership is not None:
        out["community"] = membership.reindex(handles).astype("Int64")
    else:
        out["community"] = pd.array([pd.NA] * n, dtype="Int64")
    role = pd.Series(Role.UNKNOWN.value, index=handles, dtype=object)
    if accounts is not None and not accounts.empty and AccountCol.ROLE in accounts.columns:
        known = _frame_by_handle(accounts)[AccountCol.ROLE].reindex(handles)
        role = known.astype(object).where(known.notna(), Role.UNKNOWN.value)
    out["role"] = role.astype(object)
    out["in_degree"] = in_deg.astype("int64")
    out["out_degree"] = out_deg.astype("int64")
    out["weighted_in_degree"] = w_in.astype(float)
    out["weighted_out_degree"] = w_out.astype(float)
    out["pagerank"] = pr.reindex(handles).to_numpy(dtype=float)
    if stance_counts is not None:
        sc = _frame_by_handle(stance_counts)
        for col in sc.columns:
            if pd.api.types.is_numeric_dtype(sc[col]) and col not in out.columns:
                vals = sc[col].reindex(handles)
                if pd.api.types.is_integer_dtype(sc[col]):
                    out[col] = vals.fillna(0).astype("int64")
                else:
                    out[col] = vals.fillna(0.0).astype(float)
    return out.reset_index()


def dominant_kind(edges: pd.DataFrame) -> pd.Series:
    """Return, per edge, the kind with the largest count (ties: the first in :class:`IKind` order).

    Examples
    --------
    >>> e = pd.DataFrame({"n_reply": [1, 2], "n_mention": [3, 2]})
    >>> dominant_kind(e).tolist()
    ['mention', 'reply']
    """
    cols = count_columns(edges)
    if not cols:
        return pd.Series([""] * len(edges), index=edges.index, dtype=object)
    # column by column (no rows x kinds matrix): strictly larger counts win, as np.argmax
    best = edges[cols[0]].to_numpy()
    idx = np.zeros(len(edges), dtype=np.int8)
    for j, col in enumerate(cols[1:], start=1):
        values = edges[col].to_numpy()
        larger = values > best
        idx[larger] = j
        best = np.where(larger, values, best)
    names = np.asarray([c[len(COUNT_PREFIX) :] for c in cols], dtype=object)
    return pd.Series(names[idx], index=edges.index, dtype=object)


# ---- exports ------------------------------------------------------------------------------------

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
    return _reindex_attrs(node_table(graph) if node_attrs is None else node_attrs, nodes)


def _edge_attr_frame(edges: pd.DataFrame) -> pd.DataFrame:
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

    Nodes carry every column of ``node_attrs`` (default :func:`node_table`: community, role,
    in/out degree, weighted degrees, PageRank; add stance counts through ``node_table``); edges
    carry ``weight`` (GEXF's own edge weight), ``kind`` (the kind with most interactions on the
    edge) and the per-kind counts. Missing values are left out (GEXF: absent attvalue). Nodes and
    edges are written in sorted order, so the same graph gives the same bytes.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> G = nx.DiGraph([("a", "b", {"n_reply": 2, "weight": 2.0})])
    >>> p = write_gexf(G, Path(tempfile.mkdtemp()) / "g.gexf")
    >>> H = nx.read_gexf(p)
    >>> H.edges["a", "b"]["kind"], H.edges["a", "b"]["weight"], H.nodes["b"]["in_degree"]
    ('reply', 2.0, 1)
    """
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
    community, role, PageRank), and on edges the total ``weight`` over the three windows,
    ``kind`` and per-kind counts. Interactions outside all windows are left out; structural
    follows (null ``created_at``) belong to the baseline (see :func:`window_interactions`).

    The graph uses ``timeformat="date"`` with ISO-8601 UTC date-times (``2014-02-14T09:00:00Z``):
    Gephi parses date-times in that mode, and networkx.read_gexf (which rejects ``dateTime``)
    reads the file too. Spell ends are one second before the next window's start.

    Raises
    ------
    EmptyWindow
        If no window holds any edge.
    """
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

    ``window_edges`` maps a window name to :func:`aggregate_edges` of that window's interactions
    (windows missing or empty have no edges). The Dask engine (:mod:`netsupport.scale`)
    aggregates them in parallel and writes the same file.

    With ``kind_counts=False`` edges carry ``kind`` and the weights only, not the per-kind counts
    (the report's graph.gexf: a third smaller, see :mod:`netsupport.gexfout`). ``note`` is
    appended to the file's ``<meta><description>``.

    Raises
    ------
    EmptyWindow
        If no window holds any edge.
    """
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

    def chunks() -> Iterator[str]:
        yield "\n".join(head) + "\n"
        yield "<nodes>\n"
        for a in range(0, len(nodes), batch):
            b = min(a + batch, len(nodes))
            lo, hi = bounds_n[a], bounds_n[b]
            yield _join_elements(
                ["<node id=", ids[a:b], " label=", ids[a:b], ">\n<attvalues>\n"],
                n_static.pieces(a, b),
                [f'<attvalue for="{ndyn.id}" value="', s_text[s_codes[lo:hi]], tail[s_wins[lo:hi]]],
                spell[s_wins[lo:hi]],
                np.diff(bounds_n[a : b + 1]),
                "</node>\n",
            )
        yield "</nodes>\n<edges>\n"
        for a in range(0, n_edges, batch):
            b = min(a + batch, n_edges)
            lo, hi = offsets[a], offsets[b]
            yield _join_elements(
                [
                    '<edge id="',
                    np.arange(a, b).astype(str).astype(object),
                    '" source=',
                    ids[src_code[a:b]],
                    " target=",
                    ids[dst_code[a:b]],
                    ' weight="',
                    wtext[wcodes[a:b]],
                    '">\n<attvalues>\n',
                ],
                e_static.pieces(a, b),
                [f'<attvalue for="{edyn.id}" value="', w_text[w_codes[lo:hi]], tail[w_arr[lo:hi]]],
                spell[w_arr[lo:hi]],
                np.diff(offsets[a : b + 1]),
                "</edge>\n",
            )
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


# ---- the report's network map: the crisis graph around the study's accounts, as arrays ----------

#: Kinds of the crisis graph drawn in the network map (the graph PageRank runs on).
NETWORK_KINDS = (IKind.REPOST, IKind.QUOTE, IKind.MENTION)


def crisis_graph(interactions: pd.DataFrame, windows: Windows, *, coded: Any = None) -> GraphArrays:
    """Return the crisis repost/quote/mention graph (the kinds PageRank ranks amplifiers on)
    as arrays (:class:`~netsupport.graph.GraphArrays`): the network map needs its edges and
    a two-step neighbourhood, not a networkx graph of ~10^5 edges at 10^6 interactions.
    ``coded``: the :class:`~netsupport.gexfout.CodedInteractions` of ``interactions`` when the
    caller has them (the report shares them with the GEXF)."""
    from .gexfout import CodedInteractions

    coded = coded if coded is not None else CodedInteractions(interactions)
    return coded.graph(windows, Window.CRISIS, NETWORK_KINDS)


def crisis_map_of(
    interactions: pd.DataFrame, study: Any, windows: Windows, *, coded: Any = None
) -> GraphArrays:
    """Return the network map's graph: the crisis graph (:func:`crisis_graph`) within two
    steps of the study's focal and institution accounts (:func:`neighbourhood`)."""
    crisis = crisis_graph(interactions, windows, coded=coded)
    return neighbourhood(crisis, (*study.focal, *study.institution))


def neighbourhood(g: GraphLike, centre: Iterable[str], hops: int = 2) -> GraphArrays:
    """Return the subgraph within ``hops`` (ignoring direction) of the ``centre`` accounts.

    The whole graph when none of the centre accounts is in it. Computed on the edge arrays:
    one pass over the edges per step.

    Examples
    --------
    >>> g = neighbourhood(pd.DataFrame({"source": ["a", "b", "c", "x"],
    ...     "target": ["b", "c", "d", "y"], "weight": 1.0}), ["a"])
    >>> g.nodes.tolist(), g.n_edges
    (['a', 'b', 'c'], 2)
    """
    g = GraphArrays.coerce(g)
    index = pd.Index(g.nodes, dtype=object)
    seeds = index.get_indexer(pd.Index(sorted(set(centre)), dtype=object))
    seeds = seeds[seeds >= 0]
    if not len(seeds):
        return g
    keep = np.zeros(g.n_nodes, dtype=bool)
    keep[seeds] = True
    frontier = keep.copy()
    for _ in range(hops):
        nxt = np.zeros(g.n_nodes, dtype=bool)
        nxt[g.dst[frontier[g.src]]] = True
        nxt[g.src[frontier[g.dst]]] = True
        frontier = nxt & ~keep
        keep |= nxt
    code = np.cumsum(keep) - 1  # old code -> new code, for the nodes kept
    edge = keep[g.src] & keep[g.dst]
    return GraphArrays(
        g.nodes[keep],
        code[g.src[edge]],
        code[g.dst[edge]],
        g.weight[edge],
        g.directed,
    )
