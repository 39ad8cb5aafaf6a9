"""Community detection you can trust: deterministic engines, stability over seeds, tables.

Engines (``algorithm``):

``louvain``
    python-louvain (the default). Deterministic: the graph is rebuilt with nodes and edges
    inserted in sorted order and the seed is passed as ``random_state``. python-louvain visits
    nodes in a random permutation of ``graph.nodes()`` and neighbours in adjacency order, so
    without sorted insertion the *same* seed gives a different partition when the same edges
    arrive in another order (measured here: NMI 0.91 between two orders of a 1M-edge graph).
    With a resolution other than 1, networkx's ``louvain_communities`` (same method, same
    sorted graph and seed) is used instead, because python-louvain 0.16 applies the resolution
    inconsistently (see ``_run_louvain``); ``Partition.note`` says so.
``leiden``
    igraph's built-in ``community_leiden`` with the modularity objective and a resolution (the
    quality leidenalg's ``RBConfigurationVertexPartition`` optimises), a bounded number of
    iterations (never ``-1``: run-until-stable can take 5x longer on big graphs) and igraph's RNG
    set from the seed as for ``multilevel``. On the 10^6 synthetic case's baseline graph (341,566
    edges) it takes 0.7 CPU-s against leidenalg's 7.4 for the same modularity (0.673 vs 0.671).
``multilevel``
    igraph's ``community_multilevel`` (the Louvain method in C): the fast engine, ~13x faster
    than python-louvain on 1M edges. Its randomness comes from igraph's RNG, which is set to a
    private ``random.Random(seed)`` for the call and restored afterwards.
``auto``
    ``multilevel`` when igraph is installed and the graph has more than :data:`AUTO_MAX_EDGES`
    edges or :data:`AUTO_MAX_NODES` nodes, ``louvain`` otherwise; the choice is reported in
    ``Partition.note``.

Community ids are numbered by size (largest first), ties broken by the smallest member, so the
ids themselves are reproducible. ``Partition.modularity`` is Newman's modularity (resolution 1)
of the partition on the undirected weighted graph, whatever resolution was used to find it, so
engines and resolutions can be compared on one scale.

Examples
--------
>>> import networkx as nx
>>> G = nx.barbell_graph(4, 0)  # two 4-cliques joined by one edge
>>> p = detect(G, seed=1)
>>> p.membership.tolist(), p.algorithm, round(p.modularity, 4)
([0, 0, 0, 0, 1, 1, 1, 1], 'louvain', 0.4231)
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import EmptyWindow, NetsupportError, ResourceLimit
from .gexfout import DEFAULT_GEXF_MAX_EDGES, export_graph, window_edges_of, write_graph_gexf
from .graph import (
    HANDLE,
    EmptyGraph,
    GraphArrays,
    GraphLike,
    aggregate_edges,
    node_table,
    pagerank,
    parse_kinds,
    select_edges,
    window_interactions,
)
from .schema import AccountCol, IKind, PostCol, Role, Window
from .textsafe import write_csv, write_json
from .windows import Windows
from .wording import counted

__all__ = [
    "AUTO_MAX_EDGES",
    "AUTO_MAX_NODES",
    "DEFAULT_KINDS",
    "LEIDEN_ITERATIONS",
    "Algorithm",
    "CommunityAnalysis",
    "EngineUnavailable",
    "GraphExport",
    "Partition",
    "analyse_communities",
    "community_table",
    "detect",
    "estimate_memory",
    "export_window_graph",
    "modularity",
    "stability",
    "write_community_outputs",
]

#: ``auto`` switches to the fast engine above these sizes (python-louvain: ~24 s at 1M edges).
AUTO_MAX_EDGES = 200_000
AUTO_MAX_NODES = 100_000

#: Leiden iterations (bounded; leidenalg's and igraph's own default is 2).
LEIDEN_ITERATIONS = 2

#: Kinds used for the standing community by default: every interaction between accounts except
#: ``marker`` (a campaign hashtag is drawn as an edge to the focal account and would pull every
#: campaigner into the focal account's community).
DEFAULT_KINDS: tuple[IKind, ...] = tuple(k for k in IKind if k is not IKind.MARKER)

#: Memory model (bytes) per engine: (per node, per edge) for the undirected graph the engine
#: holds, its working copies and the induced graphs of each level. python-louvain on networkx:
#: measured ~250 B/edge for the networkx graph plus ~570 B/edge peak inside best_partition
#: (tracemalloc, 200k edges); igraph holds ~12-14 B/edge (RSS), the Python edge list handed to
#: it ~100 B/edge while building.
_MEMORY_MODEL: dict[str, tuple[float, float]] = {
    "louvain": (1_500.0, 1_000.0),
    "leiden": (400.0, 200.0),
    "multilevel": (300.0, 160.0),
}


class Algorithm(StrEnum):
    """Community detection engines (``--algorithm``)."""

    LOUVAIN = "louvain"
    LEIDEN = "leiden"
    MULTILEVEL = "multilevel"
    AUTO = "auto"


class EngineUnavailable(NetsupportError):
    """The engine asked for needs a package that is not installed."""


@dataclass(frozen=True, eq=False)
class Partition:
    """A partition of the nodes into communities, with how it was made.

    Attributes
    ----------
    membership : Series
        Index: node (sorted), values: community id (int64). Id 0 is the largest community; ties
        are broken by the smallest member.
    algorithm : str
        The engine actually used (``louvain``, ``leiden``, ``multilevel``).
    parameters : dict
        Requested algorithm, resolution, seed, engine library and version, iterations.
    modularity : float
        Newman modularity (resolution 1) on the undirected weighted graph.
    note : str or None
        What ``auto`` chose, or a fallback taken; the CLI prints it to stderr.
    """

    membership: pd.Series
    algorithm: str
    parameters: Mapping[str, Any]
    modularity: float
    note: str | None = None

    @property
    def n_communities(self) -> int:
        """Number of communities."""
        return int(self.membership.max()) + 1 if len(self.membership) else 0

    def sizes(self) -> pd.Series:
        """Return the size of each community, indexed by id (non-increasing)."""
        return self.membership.value_counts().sort_index().rename("size")

    def communities(self) -> list[list[Any]]:
        """Return the members of each community (sorted), in id order."""
        groups = self.membership.groupby(self.membership.to_numpy(), sort=True)
        return [sorted(g.index.tolist()) for _, g in groups]

    def summary(self) -> dict[str, Any]:
        """Return a JSON-able description (no membership) for manifests and reports."""
        return {
            "algorithm": self.algorithm,
            "parameters": dict(self.parameters),
            "modularity": self.modularity,
            "n_nodes": len(self.membership),
            "n_communities": self.n_communities,
            "largest_sizes": self.sizes().head(10).tolist(),
            "note": self.note,
        }


# ---- engines ------------------------------------------------------------------------------------


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _igraph_rng(seed: int) -> Iterator[None]:
    """Seed igraph's RNG with a private ``random.Random(seed)`` and restore the default after.

    python-igraph draws from the ``random`` module unless told otherwise; giving it a private
    generator makes multilevel/leiden reproducible without touching the global RNG.
    """
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def _run_louvain(
    ug: GraphArrays, resolution: float, seed: int
) -> tuple[np.ndarray, dict, str | None]:
    G = ug.to_networkx()  # nodes and edges inserted in sorted order: see the module docstring
    if resolution != 1.0:
        # python-louvain 0.16 finds moves with the resolution on the null-model term but stops
        # on a "modularity" with the resolution on the internal term (taynaud/python-louvain
        # #94): below 1 it stops after the first pass (hundreds of fragments where there are 4
        # communities), above 1 it over-merges. networkx's Louvain is consistent.
        import networkx as nx

        found = nx.community.louvain_communities(
            G, weight="weight", resolution=resolution, seed=seed
        )
        index = {node: i for i, node in enumerate(ug.nodes.tolist())}
        labels = np.empty(ug.n_nodes, dtype=np.int64)
        for c, members in enumerate(found):
            labels[[index[n] for n in members]] = c
        note = (
            f"resolution {resolution:g}: used networkx louvain_communities (python-louvain "
            "applies the resolution inconsistently unless it is 1)"
        )
        return labels, {"library": "networkx", "library_version": nx.__version__}, note
    import community as community_louvain  # python-louvain

    part = community_louvain.best_partition(G, weight="weight", resolution=1.0, random_state=seed)
    labels = np.asarray([part[n] for n in ug.nodes.tolist()], dtype=np.int64)
    version = getattr(community_louvain, "__version__", None)
    return labels, {"library": "python-louvain", "library_version": version}, None


def _run_multilevel(ug: GraphArrays, resolution: float, seed: int) -> tuple[np.ndarray, dict]:
    import igraph as ig

    g = ug.to_igraph()
    with _igraph_rng(seed):
        membership = g.community_multilevel(weights="weight", resolution=resolution).membership
    return np.asarray(membership, dtype=np.int64), {
        "library": "igraph",
        "library_version": ig.__version__,
    }


def _run_leiden(
    ug: GraphArrays, resolution: float, seed: int, n_iterations: int
) -> tuple[np.ndarray, dict, str | None]:
    import igraph as ig

    g = ug.to_igraph()
    with _igraph_rng(seed):
        membership = g.community_leiden(
            objective_function="modularity",
            weights="weight",
            resolution=resolution,
            n_iterations=n_iterations,
        ).membership
    info = {"library": "igraph", "library_version": ig.__version__}
    return np.asarray(membership, dtype=np.int64), info, None


def _choose_engine(algorithm: str, n_nodes: int, n_edges: int) -> tuple[str, str | None]:
    try:
        algo = Algorithm(str(algorithm).lower())
    except ValueError:
        valid = ", ".join(a.value for a in Algorithm)
        raise NetsupportError(
            f"unknown community algorithm {algorithm!r}; expected one of: {valid}"
        ) from None
    has_igraph = _has("igraph")
    if algo in (Algorithm.LEIDEN, Algorithm.MULTILEVEL) and not has_igraph:
        raise EngineUnavailable(
            f"--algorithm {algo.value} needs igraph: "
            "pip install 'netsupport[fast]', or use --algorithm louvain"
        )
    if algo is not Algorithm.AUTO:
        return algo.value, None
    big = n_edges > AUTO_MAX_EDGES or n_nodes > AUTO_MAX_NODES
    size = f"{counted(n_nodes, 'node', 'nodes')}, {counted(n_edges, 'edge', 'edges')}"
    if big and has_igraph:
        return Algorithm.MULTILEVEL.value, (
            f"auto: {size} is above the python-louvain threshold ({AUTO_MAX_NODES:,} nodes or "
            f"{AUTO_MAX_EDGES:,} edges): using the fast engine, igraph multilevel"
        )
    if big:
        return Algorithm.LOUVAIN.value, (
            f"auto: {size}; igraph is not installed, so using python-louvain (slow at this "
            "size: pip install 'netsupport[fast]' for the fast engine)"
        )
    return Algorithm.LOUVAIN.value, f"auto: {size}: using python-louvain"


def estimate_memory(engine: str, n_nodes: int, n_edges: int) -> int:
    """Return a rough upper estimate (bytes) of the memory ``engine`` needs for a graph.

    Examples
    --------
    >>> estimate_memory("louvain", 100_000, 1_000_000) / 1e9
    1.15
    """
    per_node, per_edge = _MEMORY_MODEL[engine]
    return int(per_node * n_nodes + per_edge * n_edges)


def _available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def _check_memory(engine: str, ug: GraphArrays, memory_limit: int | None) -> None:
    need = estimate_memory(engine, ug.n_nodes, ug.n_edges)
    limit = memory_limit if memory_limit is not None else int(0.8 * _available_memory())
    if need <= limit:
        return
    hint = (
        "use --algorithm multilevel (igraph, ~10x less memory and time)"
        if engine == Algorithm.LOUVAIN.value
        else "aggregate fewer kinds or a shorter window, or run on a machine with more memory"
    )
    raise ResourceLimit(
        f"a graph of {ug.n_nodes:,} nodes and {ug.n_edges:,} edges needs about "
        f"{need / 2**30:.1f} GiB for {engine}, more than the {limit / 2**30:.1f} GiB available; "
        f"{hint}"
    )


def _ordered_labels(labels: np.ndarray) -> np.ndarray:
    """Renumber communities: largest first, ties by smallest member (nodes are sorted)."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    sizes = np.bincount(inverse)
    first = np.full(len(uniq), len(labels), dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(len(labels)))
    order = np.lexsort((first, -sizes))  # primary: size desc; secondary: smallest member
    new_id = np.empty(len(uniq), dtype=np.int64)
    new_id[order] = np.arange(len(uniq))
    return new_id[inverse]


def modularity(graph: GraphLike, membership: pd.Series, resolution: float = 1.0) -> float:
    """Return the modularity of a partition on the undirected weighted graph (vectorised).

    Same definition as ``networkx.community.modularity``: directed edges are summed over both
    directions first. Nodes missing from ``membership`` raise ``KeyError``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.barbell_graph(3, 0)
    >>> round(modularity(G, pd.Series({0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1})), 4)
    0.3571
    """
    ug = GraphArrays.coerce(graph).to_undirected()
    labels = _labels_for(ug, membership)
    return float(_per_community_modularity(ug, labels, resolution).sum())


def _labels_for(ug: GraphArrays, membership: pd.Series) -> np.ndarray:
    labels = membership.reindex(pd.Index(ug.nodes, dtype=object))
    if labels.isna().any():
        missing = labels.index[labels.isna()][:5].tolist()
        raise KeyError(f"nodes without a community: {missing}")
    return labels.to_numpy(dtype=np.int64)


def _community_weights(ug: GraphArrays, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (internal weight, external weight) per community id 0..k-1 on an undirected graph."""
    k = int(labels.max()) + 1 if len(labels) else 0
    cu, cv = labels[ug.src], labels[ug.dst]
    same = cu == cv
    internal = np.bincount(cu[same], ug.weight[same], minlength=k)
    cut = ~same
    external = np.bincount(cu[cut], ug.weight[cut], minlength=k) + np.bincount(
        cv[cut], ug.weight[cut], minlength=k
    )
    return internal.astype(float), external.astype(float)  # bincount of nothing gives ints


def _per_community_modularity(
    ug: GraphArrays, labels: np.ndarray, resolution: float = 1.0
) -> np.ndarray:
    m = float(ug.weight.sum())
    internal, external = _community_weights(ug, labels)
    if m == 0:
        return np.zeros_like(internal)
    degree = 2 * internal + external  # a self-loop counts twice in the degree, once internally
    return internal / m - resolution * (degree / (2 * m)) ** 2


def _prepare(graph: GraphLike) -> GraphArrays:
    ug = GraphArrays.coerce(graph).to_undirected()
    if ug.n_nodes == 0:
        raise EmptyGraph("the graph has no nodes: there is nothing to partition")
    if ug.n_edges == 0 or float(ug.weight.sum()) <= 0:
        raise EmptyGraph(
            f"the graph has {ug.n_nodes} nodes but no weighted edges: communities are undefined"
        )
    return ug


def _validate(resolution: float, seed: int, n_iterations: int) -> None:
    if not (isinstance(resolution, int | float) and math.isfinite(resolution) and resolution > 0):
        raise NetsupportError(f"resolution must be a number > 0, got {resolution!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
        # python-louvain (numpy RandomState) takes seeds below 2**32; the same range for all
        raise NetsupportError(f"seed must be an integer from 0 to {2**32 - 1}, got {seed!r}")
    if not 1 <= int(n_iterations) <= 100:
        raise NetsupportError(
            f"n_iterations must be between 1 and 100 (never -1: unbounded), got {n_iterations}"
        )


def _run_engine(
    ug: GraphArrays, engine: str, resolution: float, seed: int, n_iterations: int
) -> tuple[np.ndarray, dict, str | None]:
    if engine == Algorithm.LOUVAIN.value:
        return _run_louvain(ug, resolution, seed)
    if engine == Algorithm.MULTILEVEL.value:
        labels, info = _run_multilevel(ug, resolution, seed)
        return labels, info, None
    labels, info, note = _run_leiden(ug, resolution, seed, n_iterations)
    info["n_iterations"] = int(n_iterations)
    return labels, info, note


def _join_notes(*notes: str | None) -> str | None:
    kept = [n for n in notes if n]
    return "; ".join(kept) if kept else None


def _detect_prepared(
    ug: GraphArrays,
    algorithm: str,
    resolution: float,
    seed: int,
    n_iterations: int,
    memory_limit: int | None,
) -> Partition:
    _validate(resolution, seed, n_iterations)
    engine, auto_note = _choose_engine(algorithm, ug.n_nodes, ug.n_edges)
    _check_memory(engine, ug, memory_limit)
    labels, info, fallback = _run_engine(ug, engine, float(resolution), int(seed), n_iterations)
    labels = _ordered_labels(labels)
    membership = pd.Series(
        labels, index=pd.Index(ug.nodes, dtype=object, name=HANDLE), name="community"
    )
    parameters = {
        "algorithm": str(Algorithm(str(algorithm).lower()).value),
        "engine": engine,
        "resolution": float(resolution),
        "seed": int(seed),
        **info,
    }
    q = float(_per_community_modularity(ug, labels, 1.0).sum())
    return Partition(membership, engine, parameters, q, _join_notes(auto_note, fallback))


def detect(
    graph: GraphLike,
    algorithm: str = "louvain",
    resolution: float = 1.0,
    seed: int = 42,
    *,
    n_iterations: int = LEIDEN_ITERATIONS,
    memory_limit: int | None = None,
) -> Partition:
    """Return the communities of a graph (directed graphs are summed into undirected weights).

    Parameters
    ----------
    graph : networkx graph, edge DataFrame or GraphArrays
        Edges with a ``weight`` (default 1). Isolated nodes become singleton communities.
    algorithm : {"louvain", "leiden", "multilevel", "auto"}
        See the module docstring.
    resolution : float
        Modularity resolution (> 0); larger gives more, smaller communities.
    seed : int
        Random seed passed to the engine. Same graph (in any row order) + same seed = same
        partition.
    n_iterations : int
        Leiden iterations (1-100; never unbounded).
    memory_limit : int, optional
        Bytes the engine may use; default 80% of the memory available now.

    Returns
    -------
    Partition

    Raises
    ------
    EmptyGraph
        No nodes, or no weighted edges.
    ResourceLimit
        The estimated memory for the engine exceeds ``memory_limit``; the message suggests the
        fast engine.
    EngineUnavailable
        leiden/multilevel without igraph installed.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.relabel_nodes(nx.barbell_graph(3, 0), dict(enumerate("abcdef")))
    >>> [detect(G, a, seed=3).membership.tolist() for a in ("louvain", "multilevel", "leiden")]
    [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]]
    """
    ug = _prepare(graph)
    return _detect_prepared(ug, algorithm, resolution, seed, n_iterations, memory_limit)


# ---- stability ----------------------------------------------------------------------------------


def _matched_same(ref: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Return, per node, whether ``other`` keeps it in the community matched to its ``ref`` one.

    Communities of the two runs are matched one-to-one greedily by overlap (largest overlap
    first, ties by ids): a node is "the same" if its community in ``other`` is the one matched
    to its community in ``ref``. Tolerates renumbering and a few nodes moving.
    """
    cells = (
        pd.DataFrame({"r": ref, "o": other})
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["n", "r", "o"], ascending=[False, True, True], kind="mergesort")
    )
    match: dict[int, int] = {}
    used: set[int] = set()
    for r, o in zip(cells["r"].tolist(), cells["o"].tolist(), strict=True):
        if r not in match and o not in used:
            match[r] = o
            used.add(o)
    mapped = pd.Series(ref).map(match).to_numpy(dtype=float)
    return mapped == other


def _stability_from_labels(runs: Sequence[np.ndarray]) -> tuple[list[float], np.ndarray]:
    from sklearn.metrics import normalized_mutual_info_score  # (a slow import: when needed)

    nmis = [float(normalized_mutual_info_score(a, b)) for a, b in itertools.combinations(runs, 2)]
    stable = np.ones(len(runs[0]), dtype=bool)
    for other in runs[1:]:
        stable &= _matched_same(runs[0], other)
    return nmis, stable


def _seeds(seeds: Iterable[int] | int, seed: int = 42) -> list[int]:
    if isinstance(seeds, int | np.integer):
        return [int(seed) + i for i in range(int(seeds))]
    return [int(s) for s in seeds]


def stability(
    graph: GraphLike,
    algorithm: str = "louvain",
    resolution: float = 1.0,
    seeds: Iterable[int] | int = 5,
    *,
    n_iterations: int = LEIDEN_ITERATIONS,
    memory_limit: int | None = None,
) -> dict[str, Any]:
    """Run the detection once per seed and measure how much the partitions agree.

    Parameters
    ----------
    graph, algorithm, resolution, n_iterations, memory_limit
        As for :func:`detect`.
    seeds : iterable of int, or int
        The seeds, or a number of runs N (seeds 42 .. 42+N-1). At least two.

    Returns
    -------
    dict
        ``runs`` (number of runs), ``seeds``, ``algorithm`` (engine used), ``resolution``,
        ``mean_pairwise_nmi`` and ``min_pairwise_nmi`` (sklearn ``normalized_mutual_info_score``
        over every pair of runs), ``share_stable_nodes`` (share of nodes whose community is the
        same in every run: communities of each run are matched one-to-one to the first run's by
        largest overlap), ``n_communities`` per run.

    Examples
    --------
    >>> import networkx as nx
    >>> s = stability(nx.barbell_graph(5, 0), seeds=[1, 2, 3])
    >>> s["mean_pairwise_nmi"], s["share_stable_nodes"], s["runs"]
    (1.0, 1.0, 3)
    """
    ug = _prepare(graph)
    result, _ = _stability_prepared(
        ug, algorithm, resolution, _seeds(seeds), n_iterations, memory_limit
    )
    return result


def _stability_prepared(
    ug: GraphArrays,
    algorithm: str,
    resolution: float,
    seeds: list[int],
    n_iterations: int,
    memory_limit: int | None,
    first: Partition | None = None,
) -> tuple[dict[str, Any], pd.Series]:
    if len(seeds) < 2:
        raise NetsupportError(f"stability needs at least 2 runs (seeds), got {len(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise NetsupportError(f"stability seeds must differ, got {seeds}")
    parts = [first] if first is not None else []
    for s in seeds[len(parts) :]:
        parts.append(_detect_prepared(ug, algorithm, resolution, s, n_iterations, memory_limit))
    runs = [p.membership.to_numpy() for p in parts]
    nmis, stable = _stability_from_labels(runs)
    result = {
        "algorithm": parts[0].algorithm,
        "resolution": float(resolution),
        "seeds": list(seeds),
        "runs": len(seeds),
        "mean_pairwise_nmi": round(float(np.mean(nmis)), 6),
        "min_pairwise_nmi": round(float(np.min(nmis)), 6),
        "share_stable_nodes": round(float(stable.mean()), 6),
        "n_communities": [p.n_communities for p in parts],
    }
    return result, pd.Series(stable, index=parts[0].membership.index, name="stable")


# ---- tables -------------------------------------------------------------------------------------


def _top_by(frame: pd.DataFrame, value: str, top_n: int) -> pd.Series:
    """Return, per community, the top members by ``value`` (ties by handle), space-separated."""
    ordered = frame.sort_values(
        ["community", value, HANDLE], ascending=[True, False, True], kind="mergesort"
    )
    top = ordered.groupby("community", sort=True).head(top_n)
    return top.groupby("community", sort=True)[HANDLE].agg(" ".join)


def _top_hashtags(posts: pd.DataFrame, membership: pd.Series, top_n: int) -> pd.Series:
    author = posts[PostCol.AUTHOR.value].astype(object)
    tags = posts[PostCol.HASHTAGS.value].astype(object)
    keep = author.isin(membership.index) & tags.notna() & (tags != "")
    if not keep.any():
        return pd.Series(dtype=object)
    frame = pd.DataFrame(
        {
            "community": membership.reindex(author[keep].to_numpy()).to_numpy(),
            "tag": tags[keep].str.split().to_numpy(),
        }
    ).explode("tag")
    frame = frame[frame["tag"].notna() & (frame["tag"] != "")]
    counts = frame.groupby(["community", "tag"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(
        ["community", "n", "tag"], ascending=[True, False, True], kind="mergesort"
    )
    top = counts.groupby("community", sort=True).head(top_n)
    labels = top["tag"].astype(str) + ":" + top["n"].astype(str)
    return labels.groupby(top["community"].to_numpy(), sort=True).agg(" ".join)


def community_table(
    graph: GraphLike,
    partition: Partition | pd.Series,
    accounts: pd.DataFrame | None = None,
    posts: pd.DataFrame | None = None,
    *,
    top_n: int = 5,
    pagerank_scores: pd.Series | None = None,
) -> pd.DataFrame:
    """Return one row per community: size, weights, modularity share, top members and hashtags.

    Parameters
    ----------
    graph : networkx graph, edge DataFrame or GraphArrays
        The graph the partition was found on (directed: PageRank follows direction, weights
        are summed over both directions for the rest).
    partition : Partition or Series
        handle -> community id.
    accounts : DataFrame, optional
        Canonical accounts; gives ``known_role_share`` (members whose role is not unknown).
    posts : DataFrame, optional
        Canonical posts (author, hashtags); gives ``top_hashtags`` of the members' posts.
    top_n : int
        How many members / hashtags to list.

    Returns
    -------
    DataFrame
        ``community, size, internal_weight, external_weight, modularity_contribution,
        top_weighted_degree, top_pagerank, top_hashtags, known_role_share``, by community id.
        ``internal_weight`` sums the edges inside, ``external_weight`` the edges with one end
        inside; ``modularity_contribution`` (resolution 1) sums to ``Partition.modularity``.
        ``top_hashtags`` is ``tag:count`` space-separated; ``known_role_share`` and
        ``top_hashtags`` are missing (NA) when ``accounts`` / ``posts`` are not given.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.relabel_nodes(nx.barbell_graph(3, 0), dict(enumerate("abcdef")))
    >>> t = community_table(G, detect(G, seed=1), top_n=2)
    >>> t[["community", "size", "internal_weight", "external_weight", "top_weighted_degree"]]
       community  size  internal_weight  external_weight top_weighted_degree
    0          0     3              3.0              1.0                 c a
    1          1     3              3.0              1.0                 d e
    """
    membership = partition.membership if isinstance(partition, Partition) else partition
    arrays = GraphArrays.coerce(graph)
    ug = arrays.to_undirected()
    labels = _labels_for(ug, membership)
    k = int(labels.max()) + 1
    internal, external = _community_weights(ug, labels)
    contribution = _per_community_modularity(ug, labels, 1.0)
    pr = pagerank_scores if pagerank_scores is not None else pagerank(arrays)
    members = pd.DataFrame(
        {
            HANDLE: ug.nodes,
            "community": labels,
            "strength": ug.strength(),
            "pagerank": pr.reindex(pd.Index(ug.nodes, dtype=object)).to_numpy(dtype=float),
        }
    )
    ids = pd.RangeIndex(k, name="community")
    out = pd.DataFrame(index=ids)
    out["size"] = np.bincount(labels, minlength=k).astype("int64")
    out["internal_weight"] = internal
    out["external_weight"] = external
    out["modularity_contribution"] = contribution
    out["top_weighted_degree"] = _top_by(members, "strength", top_n).reindex(ids)
    out["top_pagerank"] = _top_by(members, "pagerank", top_n).reindex(ids)
    if posts is not None and PostCol.HASHTAGS.value in posts.columns:
        tags = _top_hashtags(posts, pd.Series(labels, index=ug.nodes), top_n)
        out["top_hashtags"] = tags.reindex(ids).fillna("").astype(object)
    else:
        out["top_hashtags"] = pd.Series(pd.NA, index=ids, dtype=object)
    if accounts is not None and AccountCol.ROLE.value in accounts.columns:
        roles = (
            accounts.drop_duplicates(AccountCol.HANDLE.value)
            .set_index(AccountCol.HANDLE.value)[AccountCol.ROLE.value]
            .astype(object)
        )
        role = roles.reindex(members[HANDLE].to_numpy()).to_numpy()
        known = pd.notna(role) & (role != Role.UNKNOWN.value)
        out["known_role_share"] = np.bincount(labels, known.astype(float), minlength=k) / out[
            "size"
        ].to_numpy(dtype=float)
    else:
        out["known_role_share"] = np.nan
    return out.reset_index()


# ---- the analysis the CLI and the report run ----------------------------------------------------


@dataclass(frozen=True, eq=False)
class CommunityAnalysis:
    """Everything ``netsupport communities`` produces for one window."""

    partition: Partition
    nodes: pd.DataFrame
    table: pd.DataFrame
    stability: dict[str, Any] | None
    info: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """Return a JSON-able record of the analysis (method, parameters, sizes, stability)."""
        return {
            **self.info,
            "partition": self.partition.summary(),
            "stability": self.stability,
        }


def analyse_communities(
    interactions: pd.DataFrame,
    *,
    windows: Windows | None = None,
    window: Window | str | None = None,
    kinds: Iterable[IKind | str] | None = DEFAULT_KINDS,
    kind_weights: Mapping[str, float] | None = None,
    algorithm: str = "louvain",
    resolution: float = 1.0,
    seed: int = 42,
    runs: int = 1,
    accounts: pd.DataFrame | None = None,
    posts: pd.DataFrame | None = None,
    top_n: int = 5,
    n_iterations: int = LEIDEN_ITERATIONS,
    memory_limit: int | None = None,
) -> CommunityAnalysis:
    """Detect communities on the graph of one window and tabulate them (nodes and communities).

    Aggregates the window's interactions into weighted edges (default kinds: all but
    ``marker``), detects communities with the given engine and seed, runs the stability check
    when ``runs > 1`` (seeds ``seed .. seed+runs-1``; the reported partition is the first),
    and builds the node table (degrees, PageRank, community, role, ``stable`` when measured)
    and the community table. Without ``window`` every interaction is used.

    Raises
    ------
    EmptyWindow
        The window has no interactions of those kinds.
    ResourceLimit, EngineUnavailable
        See :func:`detect`.
    """
    kinds = parse_kinds(kinds)
    edges = select_edges(
        interactions, windows=windows, window=window, kinds=kinds, kind_weights=kind_weights
    )
    directed = GraphArrays.from_edges(edges)
    ug = directed.to_undirected()
    part = _detect_prepared(ug, algorithm, resolution, seed, n_iterations, memory_limit)
    stab, stable = None, None
    if runs > 1:
        seeds = [int(seed) + i for i in range(int(runs))]
        stab, stable = _stability_prepared(
            ug, algorithm, resolution, seeds, n_iterations, memory_limit, first=part
        )
    pr = pagerank(directed)
    nodes = node_table(directed, part.membership, accounts, pagerank_scores=pr)
    if stable is not None:
        nodes["stable"] = stable.reindex(nodes[HANDLE]).to_numpy(dtype=bool)
    table = community_table(directed, part, accounts, posts, top_n=top_n, pagerank_scores=pr)
    info = {
        "window": Window(window).value if window is not None else None,
        "windows": windows.as_dict() if windows is not None and window is not None else None,
        "kinds": [k.value for k in kinds] if kinds else [k.value for k in IKind],
        "kind_weights": dict(kind_weights or {}),
        "n_nodes": directed.n_nodes,
        "n_edges": directed.n_edges,
        "n_undirected_edges": ug.n_edges,
        "total_weight": float(directed.weight.sum()),
    }
    notes = tuple(n for n in (part.note,) if n)
    return CommunityAnalysis(part, nodes, table, stab, info, notes)


def write_community_outputs(analysis: CommunityAnalysis, out_dir: str | Path) -> list[Path]:
    """Write ``nodes.csv``, ``communities.csv`` and ``communities.json`` into ``out_dir``.

    CSVs are formula-safe and atomic; the JSON (method, parameters, modularity, stability,
    window) has sorted keys and 6-place floats.
    """
    out = Path(out_dir)
    return [
        write_csv(analysis.nodes, out / "nodes.csv"),
        write_csv(analysis.table, out / "communities.csv"),
        write_json(analysis.summary(), out / "communities.json"),
    ]


@dataclass(frozen=True, eq=False)
class GraphExport:
    """What :func:`export_window_graph` wrote."""

    paths: list[Path]
    n_nodes: int
    n_edges: int
    partition: Partition | None
    notes: tuple[str, ...] = ()


def export_window_graph(
    interactions: pd.DataFrame,
    out: str | Path,
    *,
    windows: Windows | None = None,
    window: Window | str | None = None,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    accounts: pd.DataFrame | None = None,
    stance_counts: pd.DataFrame | None = None,
    dynamic: bool = False,
    algorithm: str | None = "louvain",
    resolution: float = 1.0,
    seed: int = 42,
    gexf_max_edges: int = DEFAULT_GEXF_MAX_EDGES,
) -> GraphExport:
    """Build the interaction graph of a window and write it for Gephi (GEXF), GraphML or CSV.

    (It lives here rather than in graph.py because it attaches communities, and graph.py sits
    upstream of this module.)

    Nodes carry community (unless ``algorithm`` is None), role, in/out degree, weighted
    degrees, PageRank and any ``stance_counts`` columns; edges carry kind, per-kind counts and
    weight. With ``dynamic`` one GEXF holds the three windows as spells (``out`` must end in
    ``.gexf``; ``windows`` required); node attributes and communities then come from the graph of
    ``window`` if given, else of all three windows together; above ``gexf_max_edges``
    source-target pairs over the three windows it holds the crisis window only, and a note says
    so (:mod:`netsupport.gexfout`).

    Raises
    ------
    EmptyWindow
        No interactions of those kinds in the window.
    NetsupportError
        Unknown output suffix, or ``dynamic`` without windows / GEXF.
    """
    out = Path(out)
    kinds = parse_kinds(kinds)
    if dynamic:
        if windows is None:
            raise NetsupportError("a dynamic GEXF needs windows: give --study or --crisis")
        if out.suffix.lower() != ".gexf":
            raise NetsupportError(f"{out}: a dynamic graph is written as GEXF; use a .gexf name")
        if window is None:
            rows = pd.concat(
                [window_interactions(interactions, windows, w) for w in Window], ignore_index=True
            )
            edges = aggregate_edges(rows, kinds, kind_weights)
            if edges.empty:
                raise EmptyWindow(
                    "no window (baseline, crisis, after) holds an interaction between two "
                    f"accounts; windows are {windows.as_dict()}"
                )
        else:
            edges = select_edges(
                interactions,
                windows=windows,
                window=window,
                kinds=kinds,
                kind_weights=kind_weights,
            )
    else:
        edges = select_edges(
            interactions, windows=windows, window=window, kinds=kinds, kind_weights=kind_weights
        )
    arrays = GraphArrays.from_edges(edges)
    part = None
    if algorithm is not None:
        part = _detect_prepared(
            arrays.to_undirected(), algorithm, resolution, seed, LEIDEN_ITERATIONS, None
        )
    attrs = node_table(
        arrays, part.membership if part is not None else None, accounts, stance_counts
    )
    gexf_note = None
    if dynamic:
        path, scope = write_graph_gexf(
            window_edges_of(interactions, windows, kinds, kind_weights),
            windows,
            out,
            max_edges=gexf_max_edges,
            node_attrs=attrs,
            kind_counts=True,
        )
        paths = [path]
        gexf_note = f"{path.name} holds the {scope.note()}" if scope.crisis_only else None
    else:
        paths = export_graph(edges, out, attrs)
    notes = tuple(n for n in ((part.note if part is not None else None), gexf_note) if n)
    return GraphExport(paths, arrays.n_nodes, arrays.n_edges, part, notes)
