"""The communities step's measures on integer arrays: baseline communities, crisis PageRank, the
sensitivity grid's community detections and the baseline edges.

What ``netsupport run``'s communities step computes (:func:`netsupport.engine.
pandas_graph_measures`, in the runner's process or in a child beside the stance step) reads no
stance, only the interaction graph. This module computes it from the interactions held as
integer codes (:class:`InteractionCodes`: handles numbered in sorted order, kinds, timestamps and
post ids as numbers), without a networkx graph and without importing :mod:`netsupport.support`
(scipy.stats and the rest of the metrics: ~0.7 s of the child's imports at 10^6). The results are
the same values, to the bit, as the table functions the metrics step falls back on
(:func:`netsupport.graph.baseline_edges`, :func:`netsupport.support.crisis_pagerank`; tested in
tests/test_graph_measures.py):

* the windows' rows are masks over the codes, not copied frames;
* edges are aggregated from the codes (:func:`aggregate_codes`) by
  :func:`netsupport.graph.aggregate_coded`, the one implementation
  :func:`netsupport.graph.aggregate_edges` calls too (on the frame's rows encoded);
* one undirected graph (:class:`netsupport.graph.GraphArrays`, its igraph Graph built once) serves
  the study's detection and every seed of the grid (:func:`community_runs`).

The grid's detections (:func:`community_runs`, :func:`consensus_partition`) live here, not in
:mod:`netsupport.support.sensitivity` (which re-exports them), for the same reason.

Examples
--------
>>> df = pd.DataFrame({"source": ["b", "a", "a", None], "target": ["a", "b", "b", "a"],
...     "kind": ["mention", "reply", "reply", "reply"]})
>>> aggregate_codes(InteractionCodes.from_frame(df)).values.tolist()
[['a', 'b', 2, 0, 2.0], ['b', 'a', 0, 1, 1.0]]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .graph import (
    KIND_CODES,
    CodedRows,
    GraphArrays,
    aggregate_coded,
    kind_index,
    row_weights,
)
from .schema import IKind, InteractionCol, Window
from .windows import Windows

__all__ = [
    "AMPLIFIER_KINDS",
    "CommunityRuns",
    "InteractionCodes",
    "aggregate_codes",
    "communities_from_edges",
    "community_runs",
    "consensus_partition",
    "graph_arrays",
    "graph_measures",
    "nmi",
    "pagerank_from_edges",
]

#: Kinds of the crisis graph PageRank runs on (amplifiers).
AMPLIFIER_KINDS = (IKind.REPOST, IKind.QUOTE, IKind.MENTION)

SOURCE, TARGET, KIND = InteractionCol.SOURCE.value, InteractionCol.TARGET.value, "kind"
CREATED_AT, WEIGHT, POST_ID = "created_at", "weight", "post_id"
_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


# ---- the interactions as codes ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class InteractionCodes(CodedRows):
    """The study's interactions as the communities step reads them: one integer (or float) per
    row and column.

    The :class:`netsupport.graph.CodedRows` edges are aggregated from (``handles`` sorted,
    ``source``/``target`` indices into them, ``kind`` the index in :class:`IKind`, ``weight``
    the row weight, as :func:`netsupport.graph.aggregate_edges` reads them), and ``time``
    nanoseconds since the epoch (UTC) where ``has_time``. ``post_ids`` holds the post ids as
    read (a pyarrow ChunkedArray, a pandas Series or None): only the crisis rows' are compared
    (:meth:`conversation`), so they are encoded then, for those rows alone.
    """

    time: np.ndarray
    has_time: np.ndarray
    post_ids: Any

    @classmethod
    def from_frame(cls, inter: pd.DataFrame) -> InteractionCodes:
        """Encode a frame of canonical interactions (source, target, kind; optional
        created_at, weight and post_id: with no created_at no row is in a window)."""
        n = len(inter)
        rows = CodedRows.from_frame(inter)
        stamps = inter[CREATED_AT] if CREATED_AT in inter.columns else pd.Series([None] * n)
        ts = pd.to_datetime(stamps, utc=True)
        has_time = ts.notna().to_numpy(dtype=bool)
        time = (
            ts.dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)
            if n
            else np.zeros(0, dtype=np.int64)
        )
        return cls(
            **{f.name: getattr(rows, f.name) for f in fields(CodedRows)},
            time=np.where(has_time, time, 0),
            has_time=has_time,
            post_ids=inter[POST_ID] if POST_ID in inter.columns else None,
        )

    @classmethod
    def from_arrow(cls, path: str | Path, windows: Windows | None = None) -> InteractionCodes:
        """Read the Arrow IPC file :func:`netsupport.engine.write_arrow` wrote (memory-mapped),
        encoding each column in Arrow; with ``windows``, only the rows the step reads (from the
        baseline's start to the crisis's end, and those with no timestamp)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        with pa.memory_map(str(path), "r") as source:
            table = pa.ipc.open_file(source).read_all()
            wanted = (SOURCE, TARGET, KIND, CREATED_AT, WEIGHT, POST_ID)
            table = table.select([c for c in table.column_names if c in wanted])
            ts = table.column(CREATED_AT)
            if windows is None:
                table = table.filter(pa.array(np.ones(table.num_rows, dtype=bool)))  # (a copy)
            else:
                # (a superset of the rows, bounds rounded outwards to the column's unit: the
                # windows themselves are masks over the nanoseconds, :meth:`window`)
                unit = _NS[ts.type.unit]
                lo = _ns(windows.bounds(Window.BASELINE)[0]) // unit
                hi = -(-_ns(windows.bounds(Window.CRISIS)[1]) // unit)
                lo, hi = (pa.scalar(t, pa.int64()).cast(ts.type) for t in (lo, hi))
                keep = pc.or_kleene(
                    pc.is_null(ts), pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi))
                )
                table = table.filter(keep)
                ts = table.column(CREATED_AT)
            n = table.num_rows
            s_col, t_col = table.column(SOURCE), table.column(TARGET)
            same = s_col.type == t_col.type and pa.types.is_string(s_col.type)
            typ = s_col.type if same else pa.large_string()  # (e.g. pandas' str columns)
            ends = pa.chunked_array([*s_col.cast(typ).chunks, *t_col.cast(typ).chunks], typ)
            enc = ends.combine_chunks().dictionary_encode()
            # sorted handles: Arrow orders strings by their UTF-8 bytes, which is the order of
            # their code points, Python's str order
            order = pc.array_sort_indices(enc.dictionary).to_numpy()
            # a handle's code is its rank; a null end takes the last entry, -1 (so an empty
            # dictionary, every end null, needs no case of its own)
            rank = np.full(len(order) + 1, -1, dtype=np.int64)
            rank[order] = np.arange(len(order), dtype=np.int64)
            codes = rank[enc.indices.fill_null(len(order)).to_numpy().astype(np.int64)]
            handles = np.asarray(enc.dictionary.take(pa.array(order)).to_pylist(), dtype=object)
            kinds = table.column(KIND).combine_chunks().dictionary_encode()
            k_codes = kinds.indices.fill_null(-1).to_numpy().astype(np.int64)
            has_time = ts.is_valid().to_numpy()
            time = ts.cast(pa.int64()).fill_null(0).to_numpy() * _NS[ts.type.unit]
            weight = table.column(WEIGHT).to_pandas() if WEIGHT in table.column_names else None
            out = cls(
                handles=handles,
                source=codes[:n],
                target=codes[n:],
                kind=kind_index(k_codes, kinds.dictionary.to_pylist()),
                weight=row_weights(weight, n),
                time=time.astype(np.int64),
                has_time=has_time,
                post_ids=table.column(POST_ID) if POST_ID in table.column_names else None,
            )
            del table, ts, ends, enc, kinds, s_col, t_col
        return out

    def window(self, windows: Windows, window: Window | str) -> np.ndarray:
        """Return the rows of ``window`` as a mask, as :func:`netsupport.graph.
        window_interactions` selects them (``[start, end)``; follows with no timestamp are in
        the baseline)."""
        window = Window(window)
        start, end = (_ns(t) for t in windows.bounds(window))
        inside = self.has_time & (self.time >= start) & (self.time < end)
        if window is Window.BASELINE:
            inside |= ~self.has_time & (self.kind == KIND_CODES.index(IKind.FOLLOW.value))
        return inside

    def conversation(self, rows: np.ndarray, sides: Iterable[str]) -> np.ndarray:
        """Return, of the ``rows`` mask, those of posts in the conversation about ``sides`` (as
        :func:`netsupport.support.proxies.conversation_rows` of those rows)."""
        names = sorted({str(s) for s in sides})
        at = self.handles.searchsorted(np.asarray(names, dtype=object)) if names else []
        found = [int(i) for i, h in zip(at, names, strict=True) if self._code_of(int(i), h)]
        about = rows & np.isin(self.target, np.asarray(found, dtype=np.int64))
        post = self.post_codes(rows)  # (of the rows only)
        posts = np.unique(post[about[rows] & (post >= 0)])
        out = about.copy()
        out[rows] |= np.isin(post, posts) & (post >= 0)
        return out

    def post_codes(self, rows: np.ndarray) -> np.ndarray:
        """Return a code per post id of the ``rows`` (a mask), equal where the ids are equal
        (-1: null)."""
        ids = self.post_ids
        if ids is None:
            return np.full(int(rows.sum()), -1, dtype=np.int64)
        if isinstance(ids, pd.Series):
            return pd.factorize(ids[rows])[0].astype(np.int64)
        import pyarrow as pa

        enc = ids.filter(pa.array(rows)).combine_chunks().dictionary_encode()
        return enc.indices.fill_null(-1).to_numpy().astype(np.int64)

    def _code_of(self, i: int, handle: str) -> bool:
        return i < len(self.handles) and self.handles[i] == handle


def _ns(t: pd.Timestamp) -> int:
    return int(pd.Timestamp(t).as_unit("ns").value)


def aggregate_codes(
    codes: InteractionCodes,
    rows: np.ndarray | None = None,
    kinds: Iterable[IKind | str] | None = None,
) -> pd.DataFrame:
    """Return the edges of the ``rows`` (a mask; default all) of the kinds asked (default all):
    :func:`netsupport.graph.aggregate_edges` of those rows (no self-loops, unit kind weights),
    the same frame to the bit (both are :func:`netsupport.graph.aggregate_coded`)."""
    return _aggregate(codes, rows, kinds)[0]


def _aggregate(
    codes: InteractionCodes,
    rows: np.ndarray | None = None,
    kinds: Iterable[IKind | str] | None = None,
) -> tuple[pd.DataFrame, GraphArrays | None]:
    """:func:`aggregate_codes`, and the edges as the directed GraphArrays
    ``GraphArrays.from_edges`` makes of them (None when there are none), from their codes."""
    edges = aggregate_coded(codes, rows, kinds)
    return edges.frame(), (edges.arrays() if len(edges.pairs) else None)


def graph_arrays(edges: pd.DataFrame, directed: GraphArrays | None = None) -> GraphArrays:
    """Return the undirected graph :func:`netsupport.communities.detect` builds from ``edges``
    (its ``_prepare``), checked the same way; ``directed``: ``GraphArrays.from_edges(edges)``,
    when made already."""
    from . import communities as comm

    return comm._prepare(directed if directed is not None else edges)


# ---- the step -----------------------------------------------------------------------------------


def graph_measures(codes: InteractionCodes, study: Any) -> tuple[Any, ...]:
    """Return the communities step's results from the study's interactions as codes:
    (membership, its info, PageRank, its info, the grid's :class:`CommunityRuns`, the baseline
    edges), as :func:`netsupport.engine.pandas_graph_measures` returns them."""
    edges, directed = _aggregate(codes, codes.window(study.windows, Window.BASELINE))
    ug = graph_arrays(edges, directed) if directed is not None else None
    membership, m_info = communities_from_edges(edges, study, ug)
    crisis = codes.window(study.windows, Window.CRISIS)
    talk = codes.conversation(crisis, {*study.focal, *study.institution})
    pagerank, p_info = pagerank_from_edges(*_aggregate(codes, talk, AMPLIFIER_KINDS))
    runs = community_runs(edges, study, membership, ug)
    return membership, m_info, pagerank, p_info, runs, edges


def communities_from_edges(
    edges: pd.DataFrame, study: Any, graph: GraphArrays | None = None
) -> tuple[pd.Series | None, dict[str, Any]]:
    """Detect communities on the aggregated baseline edges (:func:`graph.aggregate_edges`);
    ``graph``: their :func:`graph_arrays`, when made already."""
    info: dict[str, Any] = {
        "algorithm": study.communities.algorithm,
        "resolution": study.communities.resolution,
        "seed": study.communities.seed,
    }
    if edges.empty:
        return None, info
    ug = graph if graph is not None else graph_arrays(edges)
    part = _detect(
        ug, study.communities.algorithm, study.communities.resolution, study.communities.seed
    )
    membership = part.membership
    info.update(
        {
            "engine": part.algorithm,
            "modularity": part.modularity,
            "nodes": len(membership),
            "edges": len(edges),  # directed (source, target) pairs
            "undirected_edges": int(ug.n_edges),  # the E of mean_degree
            # distinct accounts each account interacted with, either way (2 E / N of the
            # undirected graph communities are found on): the report's sparse-graph caveat
            "mean_degree": 2 * int(ug.n_edges) / max(int(ug.n_nodes), 1),
        }
    )
    return membership, info


def _detect(ug: GraphArrays, algorithm: str, resolution: float, seed: int) -> Any:
    """:func:`netsupport.communities.detect` of a prepared graph (the same call without
    preparing it again, so its igraph Graph is built once for every detection)."""
    from . import communities as comm

    return comm._detect_prepared(ug, algorithm, resolution, seed, comm.LEIDEN_ITERATIONS, None)


def pagerank_from_edges(
    edges: pd.DataFrame, arrays: GraphArrays | None = None
) -> tuple[pd.Series | None, dict[str, Any]]:
    """PageRank on the aggregated crisis repost/quote/mention edges (amplifiers); ``arrays``:
    ``GraphArrays.from_edges(edges)``, when made already."""
    from .graph import pagerank

    info = {
        "kinds": [k.value for k in AMPLIFIER_KINDS],
        "edges": len(edges),
        "scope": "posts addressing the focal account or the institution",
    }
    if edges.empty:
        return None, info
    pr = pagerank(edges if arrays is None else arrays)  # (the same arrays)
    info["nodes"] = len(pr)
    return pr, info


# ---- the sensitivity grid's detections -----------------------------------------------------------


#: How :func:`community_runs` made its consensus partition (metrics.json records which).
CONSENSUS_METHOD = "Lancichinetti & Fortunato (2012) consensus clustering on the graph's edges"
CONSENSUS_STRICT = (
    "the account pairs every run joins (above sensitivity.community_max_edges: no re-detection)"
)
#: Most rounds of re-detection on the consensus graph (Lancichinetti & Fortunato 2012 iterate
#: until the runs agree; on the example they agree after 1).
CONSENSUS_ROUNDS = 20


def consensus_partition(
    edges: pd.DataFrame,
    runs: Sequence[pd.Series],
    threshold: float = 0.5,
    graph: GraphArrays | None = None,
    detect: Any = None,
    seeds: Sequence[int] = (),
    report: dict[str, Any] | None = None,
) -> pd.Series:
    """Return the consensus of several partitions of one graph.

    Without ``detect``, one thresholding step: keep each edge whose two ends share a community
    in at least ``threshold`` of the runs; the connected components of the kept edges (nodes
    left alone: their own) are the communities, numbered by size then smallest member. Below a
    threshold of 1 the components can chain: a-b kept in 3 runs of 5, b-c in 3 others, and a
    and c are one community though no run put them together (on the example's baseline graph
    one component held 860 of 1,026 accounts while every run found 37-42 communities).

    With ``detect(graph, seed) -> labels`` (labels of the graph's nodes in their order), the
    consensus clustering of Lancichinetti & Fortunato (2012), restricted to the graph's edges
    (as in Tandon et al. 2019's fast consensus, without its added triangles): weight each edge
    by the share of runs that put its ends together, drop the edges below ``threshold``,
    detect again on that weighted graph once per seed of ``seeds``, and repeat with those runs
    until every edge's ends are together in all of them or in none (at most
    :data:`CONSENSUS_ROUNDS` rounds); the communities are then the connected components of the
    edges whose ends every run put together, so no component joins accounts that any last run
    separated. ``report`` (a dict) receives ``rounds`` and ``converged``.

    Examples
    --------
    >>> e = pd.DataFrame({"source": ["a", "b", "c"], "target": ["b", "c", "d"]})
    >>> r1 = pd.Series({"a": 0, "b": 0, "c": 1, "d": 1})
    >>> r2 = pd.Series({"a": 0, "b": 0, "c": 0, "d": 1})
    >>> consensus_partition(e, [r1, r2], 0.6).to_dict()  # only a-b is together in both
    {'a': 0, 'b': 0, 'c': 1, 'd': 2}
    >>> consensus_partition(e, [r1, r2], 0.5).to_dict()  # b-c and c-d in one run of two
    {'a': 0, 'b': 0, 'c': 0, 'd': 0}

    ``graph``: the edges' :func:`graph_arrays`, when made already. When every run partitions
    its nodes (the grid's detections on it do), its integer pairs are read instead of matching
    the handles of ``edges``: the same pairs of accounts (each direction of an edge keeps or
    drops the same pair), so the same components.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    if graph is not None and all(_partitions(r, graph.nodes) for r in runs):
        nodes = graph.nodes.tolist()
        a, b = graph.src, graph.dst
        labels = [r.to_numpy() for r in runs]
    else:
        # (object arrays: iterating pandas 3's Arrow-backed str index is slower)
        nodes = sorted(set().union(*(set(r.index.to_numpy(dtype=object)) for r in runs)))
        index = pd.Index(nodes, dtype=object)
        a = index.get_indexer(edges["source"].to_numpy(dtype=object))
        b = index.get_indexer(edges["target"].to_numpy(dtype=object))
        both = (a >= 0) & (b >= 0)
        a, b = a[both].astype(np.int64), b[both].astype(np.int64)
        labels = [r.reindex(index).to_numpy() for r in runs]
    n = len(nodes)
    if detect is None:
        together = np.zeros(len(a))
        for lab in labels:
            together += lab[a] == lab[b]
        keep = together / len(runs) >= threshold
    else:
        a, b, keep = _consensus_rounds(nodes, a, b, labels, threshold, detect, seeds, report)
    g = sp.coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    # number by size (desc), then by smallest member (nodes are sorted: first index)
    sizes = np.bincount(labels)
    first = np.full(len(sizes), n)
    np.minimum.at(first, labels, np.arange(n))
    order = np.lexsort((first, -sizes))
    remap = np.empty(len(sizes), dtype=np.int64)
    remap[order] = np.arange(len(sizes))
    return pd.Series(remap[labels], index=pd.Index(nodes, name="handle"), name="community")


def _consensus_rounds(
    nodes: Sequence[Any],
    a: np.ndarray,
    b: np.ndarray,
    labels: list[np.ndarray],
    threshold: float,
    detect: Any,
    seeds: Sequence[int],
    report: dict[str, Any] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rounds of :func:`consensus_partition` with ``detect``: return the graph's distinct
    undirected pairs (a, b) and which of them every last run keeps together."""
    n = len(nodes)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = np.unique(lo[lo != hi] * np.int64(max(n, 1)) + hi[lo != hi])  # (self-loops: no pair)
    a, b = key // max(n, 1), key % max(n, 1)
    names = np.asarray(nodes, dtype=object)
    rounds, converged = 0, False
    while True:
        share = np.zeros(len(a))
        for lab in labels:
            share += lab[a] == lab[b]
        share /= len(labels)
        if bool(((share == 0) | (share == 1)).all()):
            converged = True
            break
        if rounds >= CONSENSUS_ROUNDS:
            break
        keep = share >= threshold
        if not keep.any():  # nothing kept: every node alone, in every run
            labels = [np.arange(n)]
            continue
        g = GraphArrays(names, a[keep], b[keep], share[keep], directed=False)
        labels = [np.asarray(detect(g, int(seed))) for seed in seeds]
        rounds += 1
    if report is not None:
        report.update({"rounds": rounds, "converged": converged})
    return a, b, share == 1


def nmi(labels_true: Any, labels_pred: Any) -> float:
    """Return the normalised mutual information of two labellings of the same items:
    ``sklearn.metrics.normalized_mutual_info_score(labels_true, labels_pred)`` (arithmetic mean
    of the entropies), the same float.

    Written out (scikit-learn 1.9's arithmetic, from its ``contingency_matrix``,
    ``mutual_info_score`` and ``_entropy``, in the same order of operations; tested equal to
    it bit for bit in tests/test_graph_measures.py) so that the communities step's child need
    not import scikit-learn, whose import (with scipy.stats) is ~0.5 CPU-s, for 5 NMIs of
    ~0.02 s each. Labels with a missing value are handed to scikit-learn itself (it refuses
    them).

    Examples
    --------
    >>> nmi([0, 0, 1, 1], [1, 1, 0, 0]), nmi([0, 0, 1, 1], [0, 1, 0, 1])
    (1.0, 0.0)
    """
    from math import log

    a, b = np.asarray(labels_true), np.asarray(labels_pred)
    if a.ndim != 1 or b.ndim != 1 or len(a) != len(b) or pd.isna(a).any() or pd.isna(b).any():
        from sklearn.metrics import normalized_mutual_info_score

        return float(normalized_mutual_info_score(labels_true, labels_pred))
    classes, class_idx = np.unique(a, return_inverse=True)
    clusters, cluster_idx = np.unique(b, return_inverse=True)
    if len(classes) == len(clusters) == 1 or len(classes) == len(clusters) == 0:
        return 1.0
    # the contingency table's non-zero cells in row-major order, counts as int64
    cells, nz_val = np.unique(
        class_idx.astype(np.int64) * len(clusters) + cluster_idx, return_counts=True
    )
    nz_val = nz_val.astype(np.int64)
    nzx, nzy = cells // len(clusters), cells % len(clusters)
    pi = np.bincount(class_idx, minlength=len(classes)).astype(np.int64)
    pj = np.bincount(cluster_idx, minlength=len(clusters)).astype(np.int64)
    if pi.size == 1 or pj.size == 1:
        return 0.0  # (mutual information 0)
    contingency_sum = nz_val.sum()
    log_contingency_nm = np.log(nz_val)
    contingency_nm = nz_val / contingency_sum
    outer = pi.take(nzx) * pj.take(nzy)
    log_outer = -np.log(outer) + log(pi.sum()) + log(pj.sum())
    mi = contingency_nm * (log_contingency_nm - log(contingency_sum)) + contingency_nm * log_outer
    mi = np.where(np.abs(mi) < np.finfo(mi.dtype).eps, 0.0, mi)
    mi = float(np.clip(mi.sum(), 0.0, None))
    if mi == 0:
        return 0.0
    normalizer = np.mean([_entropy(pi), _entropy(pj)])
    return float(mi / normalizer)


def _entropy(counts: np.ndarray) -> float:
    """scikit-learn's ``_entropy`` of a labelling, from its counts per label (in label order)."""
    from math import log

    pi = counts.astype(np.float64)
    if pi.size == 1:
        return 0.0
    pi_sum = np.sum(pi)
    return float(-np.sum((pi / pi_sum) * (np.log(pi) - log(pi_sum))))


def _partitions(run: pd.Series, nodes: np.ndarray) -> bool:
    """Whether ``run`` is indexed by exactly ``nodes``, in their order."""
    return len(run) == len(nodes) and bool((run.index.to_numpy(dtype=object) == nodes).all())


@dataclass
class CommunityRuns:
    """The community detections of :func:`netsupport.support.sensitivity.community_grid`:
    everything of it that reads no stance.

    Computed from the baseline edges, the study's communities and sensitivity settings and the
    communities step's partition alone (:func:`community_runs`), so a run can compute them in
    the communities step (in a child process while the stance step runs) and the metrics step
    adds only the supporters (``community_grid`` with ``runs``).

    Attributes
    ----------
    info : dict
        JSON values: ``seeds``, ``resolutions``, ``reduced`` (or None), ``runs`` (per grid
        point: algorithm, resolution, seed, communities, nmi_with_study, and ``partition``: its
        index in ``partitions``), ``own`` (the partitions of the study's setting over the seeds),
        ``stability`` and ``consensus`` (without breadth).
    partitions : list of Series
        The distinct detections (handle -> community).
    consensus : Series
        :func:`consensus_partition` of the ``own`` partitions.
    """

    info: dict[str, Any]
    partitions: list[pd.Series]
    consensus: pd.Series


def community_runs(
    edges: pd.DataFrame,
    study: Any,
    membership: pd.Series | None = None,
    graph: GraphArrays | None = None,
) -> CommunityRuns | None:
    """Detect the community grid's partitions on the baseline ``edges`` (None when empty).

    Algorithms x resolutions x seeds (``[sensitivity]``; reduced to the study's own setting over
    three seeds above ``community_max_edges``); per run the number of communities and the NMI
    with the study's partition (``membership``, the communities step's, when given: it is
    not detected again); the seed stability and the consensus partition of the study's own
    setting. Reads no stance: ``community_grid`` adds the supporters' breadth. ``graph``: the
    edges' :func:`graph_arrays`, when made already.
    """
    from . import communities as comm

    g = study.sensitivity
    c = study.communities
    if edges.empty:
        return None
    ug = graph if graph is not None else graph_arrays(edges)  # once: every run reads it
    seeds = [c.seed + i for i in range(g.seeds)]
    algs = list(g.algorithms)
    resolutions = sorted(set(g.resolutions) | {float(c.resolution)})
    reduced = None
    if g.community_max_edges and ug.n_edges > g.community_max_edges:
        # a big graph: the study's own setting over three seeds (stability; a consensus of
        # two runs at the default threshold would be their union, of three their majority)
        requested = len(algs) * len(resolutions) * len(seeds)
        algs, resolutions, seeds = [c.algorithm], [float(c.resolution)], seeds[:3]
        reduced = {
            "edges": int(ug.n_edges),
            "community_max_edges": int(g.community_max_edges),
            "runs_requested": requested,
            "runs": len(seeds),
            "note": (
                f"the baseline graph has {ug.n_edges:,} edges, above "
                f"sensitivity.community_max_edges ({g.community_max_edges:,}): only the study's "
                f"own algorithm ({c.algorithm}) and resolution ({float(c.resolution):g}) were run, "
                f"over {len(seeds)} seeds, not the {requested} runs of the grid; raise the limit "
                "(or set it to 0) to run the whole grid"
            ),
        }
    given = membership is not None and len(membership) > 0
    done: dict[tuple[str, float, int], int] = {}
    partitions: list[pd.Series] = []

    def key(alg: str, res: float, seed: int) -> tuple[str, float, int]:
        # by the engine that runs (``auto`` is one of them): the same engine, resolution and
        # seed on the same graph give the same partition, so each is detected once
        return comm._choose_engine(alg, ug.n_nodes, ug.n_edges)[0], float(res), int(seed)

    own_key = key(c.algorithm, c.resolution, c.seed)

    def run(alg: str, res: float, seed: int) -> int:
        k = key(alg, res, seed)
        if k not in done:
            done[k] = len(partitions)
            partitions.append(
                membership  # the communities step ran this very detection on these edges
                if given and k == own_key
                else _detect(ug, alg, res, seed).membership
            )
        return done[k]

    parts = {
        (alg, res, seed): run(alg, res, seed)
        for alg, res, seed in itertools.product(algs, resolutions, seeds)
    }
    own = [run(c.algorithm, c.resolution, sd) for sd in seeds]
    # the study's partition: the communities step's (given) or the same detection done here
    ref = membership if given else partitions[own[0]]
    runs: list[dict[str, Any]] = []
    for (alg, res, seed), i in parts.items():
        p = partitions[i]
        common = ref.index.intersection(p.index)
        runs.append(
            {
                "algorithm": alg,
                "resolution": res,
                "seed": seed,
                "communities": int(p.nunique()),
                "nmi_with_study": nmi(ref.reindex(common), p.reindex(common)),
                "partition": i,
            }
        )
    own_parts = [partitions[i] for i in own]
    nmis = [nmi(a.reindex(b.index), b) for a, b in itertools.combinations(own_parts, 2)]
    rounds: dict[str, Any] = {}
    if reduced is None:
        threshold, method = g.consensus_threshold, CONSENSUS_METHOD
        cons = consensus_partition(
            edges,
            own_parts,
            threshold,
            ug,
            detect=lambda cg, sd: _detect(cg, c.algorithm, c.resolution, sd).membership.to_numpy(),
            seeds=seeds,
            report=rounds,
        )
    else:  # a big graph: no re-detection rounds (each costs a detection per seed; 4 rounds of
        # 3 took 18 CPU-s against 4 for the three runs at 10^6), but the pairs every run joins,
        # which cannot chain: runs that all join a-b and b-c all join a-c
        threshold, method = 1.0, CONSENSUS_STRICT
        cons = consensus_partition(edges, own_parts, threshold, ug)
    info = {
        "seeds": seeds,
        "resolutions": resolutions,
        "reduced": reduced,
        "runs": runs,
        "own": own,
        "stability": {
            "algorithm": c.algorithm,
            "resolution": float(c.resolution),
            "mean_pairwise_nmi": float(np.mean(nmis)),
            "min_pairwise_nmi": float(np.min(nmis)),
        },
        "consensus": {
            "threshold": threshold,
            "runs": len(own),
            "communities": int(cons.nunique()),
            "method": method,
            **rounds,
        },
    }
    return CommunityRuns(info, partitions, cons)
