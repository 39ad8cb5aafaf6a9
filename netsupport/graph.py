"""Interaction graphs: aggregate interactions into weighted edges, build graphs, rank them.

Interactions are first aggregated (one row per ``source -> target`` pair with a count per kind
and a total weight; :func:`aggregate_coded` on the rows as integer codes, the one implementation
every caller's edges come from); graphs are built from those aggregated edges with nodes and edges
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

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import networkx as nx
import numpy as np
import pandas as pd

from .errors import EmptyWindow, NetsupportError
from .schema import AccountCol, IKind, InteractionCol, Role, Window
from .windows import Windows

__all__ = [
    "COUNT_PREFIX",
    "KIND_CODES",
    "NETWORK_KINDS",
    "CodedEdges",
    "CodedRows",
    "EmptyGraph",
    "GraphArrays",
    "GraphLike",
    "UnknownKind",
    "aggregate_coded",
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
    "kind_codes",
    "kind_index",
    "neighbourhood",
    "node_table",
    "pagerank",
    "parse_kinds",
    "row_weights",
    "select_edges",
    "undirected",
    "undirected_edges",
    "window_interactions",
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

    Vectorised: the rows are encoded as integers (:meth:`CodedRows.from_frame`) and aggregated
    by :func:`aggregate_coded`, the one implementation every edge table is made by. Rows with a
    missing source or target, rows of kinds not asked for and (unless ``self_loops``) rows from
    an account to itself are left out.

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
    wanted = parse_kinds(kinds)  # (unknown kinds and bad weights raise before any work)
    weights = _kind_weight_map(kind_weights)
    rows = CodedRows.from_frame(interactions)
    return aggregate_coded(rows, None, wanted, weights, self_loops=self_loops).frame()


#: the kinds in :class:`IKind` order: a kind's code is its index here (-1: null or another)
KIND_CODES = tuple(k.value for k in IKind)


@dataclass(frozen=True, eq=False)
class CodedRows:
    """Interaction rows as integers, the form :func:`aggregate_coded` aggregates.

    ``handles`` holds every source and target handle, sorted (Python's str order), as an
    object array; ``source``/``target`` (int64) index into it (-1: null). ``kind`` is the
    kind's index in :class:`IKind` (:data:`KIND_CODES`; -1: null or not a kind), ``weight``
    the row weight (float64; null or not a number: 1).

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["b", None], "target": ["a", "b"],
    ...                    "kind": ["mention", "likes"]})
    >>> rows = CodedRows.from_frame(df)
    >>> rows.handles.tolist(), rows.source.tolist(), rows.target.tolist(), rows.kind.tolist()
    (['a', 'b'], [1, -1], [0, 1], [1, -1])
    """

    handles: np.ndarray
    source: np.ndarray
    target: np.ndarray
    kind: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    @classmethod
    def from_frame(cls, interactions: pd.DataFrame) -> CodedRows:
        """Encode a frame of interactions (source, target, kind; an optional weight)."""
        n = len(interactions)
        both = pd.concat([interactions[SOURCE], interactions[TARGET]], ignore_index=True)
        codes, uniq = pd.factorize(both, sort=True)
        weight = interactions[WEIGHT] if WEIGHT in interactions.columns else None
        return cls(
            handles=np.asarray(uniq, dtype=object),
            source=codes[:n].astype(np.int64),
            target=codes[n:].astype(np.int64),
            kind=kind_codes(interactions[InteractionCol.KIND]),
            weight=row_weights(weight, n),
        )


def kind_codes(kind: pd.Series | np.ndarray) -> np.ndarray:
    """Return each value's index in :data:`KIND_CODES` (int64; -1: null or not a kind)."""
    codes, uniq = pd.factorize(kind)
    return kind_index(codes, uniq)


def kind_index(codes: np.ndarray, uniq: Iterable[Any]) -> np.ndarray:
    """Map factorized kinds (codes into ``uniq``, -1: null) to their :data:`KIND_CODES`
    index (-1: null or not a kind)."""
    table = [KIND_CODES.index(str(k)) if str(k) in KIND_CODES else -1 for k in uniq]
    table = np.asarray([*table, -1], dtype=np.int64)
    codes = np.asarray(codes)
    return table[np.where(codes < 0, len(table) - 1, codes)]


def row_weights(weight: pd.Series | None, n: int) -> np.ndarray:
    """Return the rows' weights as float64: a missing column, a null or a value that is not a
    number counts 1."""
    if weight is None:
        return np.ones(n)
    return pd.to_numeric(weight, errors="coerce").fillna(1.0).to_numpy(float)


@dataclass(frozen=True, eq=False)
class CodedEdges:
    """Aggregated edges as integers (:func:`aggregate_coded`): ``pairs`` are the keys
    ``source code * n + target code`` (``n``: the number of handles, at least 1), sorted,
    hence in ``(source, target)`` order; ``counts`` one row per pair and one column per kind
    (:data:`KIND_CODES` order); ``weight`` the summed weights (float64)."""

    handles: np.ndarray
    pairs: np.ndarray
    counts: np.ndarray
    weight: np.ndarray

    @property
    def n(self) -> np.int64:
        """The base of the pair keys."""
        return np.int64(max(len(self.handles), 1))

    def frame(self) -> pd.DataFrame:
        """Return the edges as :func:`aggregate_edges` returns them."""
        if not len(self.pairs):
            return pd.DataFrame(
                {
                    SOURCE: pd.Series([], dtype=object),
                    TARGET: pd.Series([], dtype=object),
                    WEIGHT: pd.Series([], dtype="float64"),
                }
            )
        out = pd.DataFrame(
            {
                SOURCE: pd.Series(self.handles[self.pairs // self.n], dtype=object),
                TARGET: pd.Series(self.handles[self.pairs % self.n], dtype=object),
            }
        )
        for j, k in enumerate(KIND_CODES):
            if self.counts[:, j].any():
                out[count_column(k)] = self.counts[:, j].astype("int64")
        out[WEIGHT] = self.weight
        return out

    def arrays(self) -> GraphArrays:
        """Return the edges as the directed :class:`GraphArrays` ``GraphArrays.from_edges``
        makes of :meth:`frame` (no nodes and no edges when there are none)."""
        # the nodes: the handles of the edges, sorted (codes are in sorted order), numbered in
        # that order; the pairs stay sorted by (source, target), as GraphArrays keeps them
        s, t = self.pairs // self.n, self.pairs % self.n
        used = np.zeros(len(self.handles), dtype=bool)
        used[s] = used[t] = True
        at = np.cumsum(used, dtype=np.int64) - 1
        weight = np.asarray(self.weight, dtype=float)
        return GraphArrays(self.handles[used], at[s], at[t], weight, directed=True)


def aggregate_coded(
    rows: CodedRows,
    keep: np.ndarray | None = None,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    *,
    self_loops: bool = False,
) -> CodedEdges:
    """Aggregate the ``rows`` in ``keep`` (a mask; default all) into edges: what
    :func:`aggregate_edges` computes (its parameters), on codes.

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["b", "a", "a"], "target": ["a", "b", "b"],
    ...                    "kind": ["mention", "reply", "reply"]})
    >>> e = aggregate_coded(CodedRows.from_frame(df), np.array([True, True, False]))
    >>> e.pairs.tolist(), e.counts[:, :2].tolist(), e.weight.tolist()
    ([1, 2], [[1, 0], [0, 1]], [1.0, 1.0])
    """
    wanted = parse_kinds(kinds) or tuple(IKind)
    weights = _kind_weight_map(kind_weights)
    kind_ok = np.zeros(len(KIND_CODES) + 1, dtype=bool)  # (the last: -1, not a kind)
    kind_ok[[KIND_CODES.index(k.value) for k in wanted]] = True
    mask = (rows.source >= 0) & (rows.target >= 0) & kind_ok[rows.kind]
    if not self_loops:
        mask &= rows.source != rows.target
    if keep is not None:
        mask &= keep
    k_code = rows.kind[mask]
    w = rows.weight[mask] * np.asarray([weights[k] for k in KIND_CODES], dtype=float)[k_code]
    n = np.int64(max(len(rows.handles), 1))
    pairs, edge = np.unique(rows.source[mask] * n + rows.target[mask], return_inverse=True)
    n_k = len(KIND_CODES)
    counts = np.bincount(edge * n_k + k_code, minlength=len(pairs) * n_k).reshape(-1, n_k)
    # pandas' groupby sum over each edge's rows in row order (the bits grouping by names gave)
    total = (
        pd.Series(w).groupby(edge, sort=True).sum().to_numpy(dtype=np.float64)
        if len(pairs)
        else np.zeros(0)
    )
    return CodedEdges(rows.handles, pairs, counts, total)


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
        """Return an igraph Graph (vertex i = ``nodes[i]``, edge attribute ``weight``).

        Built once per GraphArrays and kept (the arrays are frozen): the seeds of a stability
        or sensitivity grid detect on the same Graph. Callers must not change it (igraph's
        community detections and PageRank do not)."""
        g = self.__dict__.get("_igraph")
        if g is None:
            import igraph as ig

            g = ig.Graph(n=self.n_nodes, directed=self.directed)
            # (the edges in their order from one (m, 2) array: a third faster than a list of
            # pairs, the same Graph)
            g.add_edges(np.column_stack([self.src, self.dst]))
            g.es[WEIGHT] = self.weight.tolist()
            object.__setattr__(self, "_igraph", g)  # (a frozen dataclass: a cache, not a field)
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
    elif engine == "networkx" and _one_edge_per_pair(arrays):
        values = _pagerank_networkx_arrays(arrays, alpha=alpha, tol=tol)
    elif engine == "networkx":
        G = arrays.to_networkx()
        pr = nx.pagerank(G, alpha=alpha, weight=WEIGHT, tol=tol, max_iter=10_000)
        values = np.asarray([pr[n] for n in arrays.nodes.tolist()], dtype=float)
    else:
        raise ValueError(
            f"pagerank engine must be auto, networkx, sparse or igraph, got {engine!r}"
        )
    return pd.Series(values, index=pd.Index(arrays.nodes, name=HANDLE), name="pagerank")


def _one_edge_per_pair(arrays: GraphArrays) -> bool:
    """Whether ``arrays`` is directed with one edge per (source, target) pair (aggregated edges
    are): then it is the networkx DiGraph :meth:`GraphArrays.to_networkx` builds, edge for edge
    in the same order."""
    if not arrays.directed:
        return False
    key = arrays.src * np.int64(max(arrays.n_nodes, 1)) + arrays.dst
    return bool((np.diff(key) > 0).all())


def _pagerank_networkx_arrays(
    arrays: GraphArrays, *, alpha: float, tol: float, max_iter: int = 10_000
) -> np.ndarray:
    """``networkx.pagerank(arrays.to_networkx(), alpha, weight="weight", tol, max_iter)`` in
    node order, the same floats, without building the networkx graph (~0.2 s for the 10^6
    case's crisis graph, and as long again for networkx to read it back into a matrix).

    networkx 3.6's ``_pagerank_scipy`` with its defaults (uniform personalisation and dangling
    weights) line for line, on the matrix its ``to_scipy_sparse_array`` builds: a COO array of
    the edges in the DiGraph's order (nodes in insertion order, each node's successors in
    insertion order: the arrays' order), made CSR. Tested equal to networkx's to the bit
    (tests/test_graph_measures.py). ``arrays``: directed, one edge per pair
    (:func:`_one_edge_per_pair`)."""
    import scipy as sp
    import scipy.sparse  # (loads sp.sparse)

    N = arrays.n_nodes
    if N == 0:
        return np.zeros(0)
    A = sp.sparse.coo_array(
        (arrays.weight.tolist(), (arrays.src.tolist(), arrays.dst.tolist())),
        shape=(N, N),
        dtype=float,
    ).asformat("csr")
    S = A.sum(axis=1)
    S[S != 0] = 1.0 / S[S != 0]
    Q = sp.sparse.dia_array((S.T, 0), shape=A.shape).tocsr()
    A = Q @ A
    x = np.repeat(1.0 / N, N)
    p = np.repeat(1.0 / N, N)
    dangling_weights = p
    is_dangling = np.where(S == 0)[0]
    for _ in range(max_iter):
        xlast = x
        x = alpha * (x @ A + sum(x[is_dangling]) * dangling_weights) + (1 - alpha) * p
        err = np.absolute(x - xlast).sum()
        if err < N * tol:
            return np.asarray(list(map(float, x)), dtype=float)
    raise nx.PowerIterationFailedConvergence(max_iter)


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
