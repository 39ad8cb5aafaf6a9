"""The dynamic graph.gexf a Gephi user can open: its size limit and its scope.

The report writes the interaction graph as one dynamic GEXF 1.3: one ``<edge>`` per
source-target pair, with a ``<spell>`` and a ``window_weight`` value per window in which the
pair interacted (:func:`netsupport.graph.write_dynamic_gexf_edges`). Its edges carry what the
report uses (``weight``, ``kind``, ``window_weight``), not the per-kind counts
(``netsupport graph`` still writes those).

A study of 10^6 interactions has several hundred thousand pairs, more than Gephi opens
comfortably with its default memory. Above ``max_edges`` pairs over the three windows
(``[output] gexf_max_edges`` in the study, ``--gexf-max-edges`` on ``netsupport graph``;
default :data:`DEFAULT_GEXF_MAX_EDGES`) the file holds the crisis window only, and says so in
its ``<meta><description>``; the report's list of outputs and metrics.json (key ``gexf``) say
so too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import NetsupportError
from .schema import IKind, InteractionCol, Window
from .windows import Windows

__all__ = [
    "DEFAULT_GEXF_MAX_EDGES",
    "CodedInteractions",
    "GexfScope",
    "WindowEdges",
    "check_max_edges",
    "count_pairs",
    "edge_columns",
    "gexf_scope",
    "window_edges_of",
    "write_graph_gexf",
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
        from .graph import SOURCE, TARGET, WEIGHT

        rows = edge_columns(interactions)
        m = len(rows)
        codes, uniq = pd.factorize(
            pd.concat([rows[SOURCE], rows[TARGET]], ignore_index=True), sort=True
        )
        self.handles = np.asarray(uniq, dtype=object)
        self.src, self.dst = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
        kinds_all = pd.Index([k.value for k in IKind], dtype=object)
        self.kind = kinds_all.get_indexer(rows[InteractionCol.KIND].astype(object))
        self.created_at = pd.to_datetime(rows[InteractionCol.CREATED_AT], utc=True)
        self.row_weight = (
            pd.to_numeric(rows[WEIGHT], errors="coerce").fillna(1.0).to_numpy(float)
            if WEIGHT in rows.columns
            else np.ones(m)
        )
        # rows aggregate_edges keeps whatever the kinds: both accounts known, no self-loop
        self.valid = (self.src >= 0) & (self.dst >= 0) & (self.src != self.dst)

    def _in_window(self, windows: Windows, window: Window) -> np.ndarray:
        """:func:`~netsupport.graph.window_interactions`' row selection."""
        start, end = windows.bounds(window)
        ts = self.created_at
        inside = ((ts >= start) & (ts < end)).fillna(False).to_numpy(dtype=bool)
        if window is Window.BASELINE:
            follow = [k.value for k in IKind].index(IKind.FOLLOW.value)
            inside = inside | (ts.isna().to_numpy() & (self.kind == follow))
        return inside

    def _aggregate(
        self,
        keep: np.ndarray,
        kinds: Iterable[IKind | str] | None,
        kind_weights: Mapping[str, float] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return (pair keys src*n+dst sorted, per-kind count table, weights) of the rows in
        ``keep``, as :func:`~netsupport.graph.aggregate_edges` computes them, and the kinds."""
        from .graph import _kind_weight_map, parse_kinds

        wanted = parse_kinds(kinds) or tuple(IKind)
        kinds_all = [k.value for k in IKind]
        kind_ok = np.zeros(len(kinds_all) + 1, dtype=bool)  # (last: -1, an unknown kind)
        kind_ok[[kinds_all.index(k.value) for k in wanted]] = True
        keep = keep & self.valid & kind_ok[self.kind]
        weights = _kind_weight_map(kind_weights)
        k_code = self.kind[keep]
        w = self.row_weight[keep] * np.asarray([weights.get(k, 0.0) for k in kinds_all])[k_code]
        n = np.int64(max(len(self.handles), 1))
        key = self.src[keep] * n + self.dst[keep]
        pairs, edge = np.unique(key, return_inverse=True)
        n_k = len(kinds_all)
        table = np.bincount(edge * n_k + k_code, minlength=len(pairs) * n_k).reshape(-1, n_k)
        # pandas' groupby sum over each edge's rows in row order (as aggregate_edges)
        total = pd.Series(w).groupby(edge, sort=True).sum().to_numpy(dtype=np.float64)
        return pairs, table, total, np.asarray(kinds_all, dtype=object)

    def edges(
        self,
        windows: Windows,
        window: Window | str,
        kinds: Iterable[IKind | str] | None = None,
        kind_weights: Mapping[str, float] | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Return ``aggregate_edges(window_interactions(rows, windows, window), kinds,
        kind_weights)`` and the edges' pair keys (``source code * n + target code``)."""
        from .graph import SOURCE, TARGET, WEIGHT, count_column

        keep = self._in_window(windows, Window(window))
        pairs, table, total, kinds_all = self._aggregate(keep, kinds, kind_weights)
        if not len(pairs):
            empty = pd.DataFrame(
                {
                    SOURCE: pd.Series([], dtype=object),
                    TARGET: pd.Series([], dtype=object),
                    WEIGHT: pd.Series([], dtype="float64"),
                }
            )
            return empty, pairs
        n = np.int64(max(len(self.handles), 1))
        out = pd.DataFrame(
            {
                SOURCE: pd.Series(self.handles[pairs // n], dtype=object),
                TARGET: pd.Series(self.handles[pairs % n], dtype=object),
            }
        )
        for j, k in enumerate(kinds_all):
            if table[:, j].any():
                out[count_column(k)] = table[:, j].astype("int64")
        out[WEIGHT] = total
        return out, pairs

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
        from .graph import GraphArrays

        keep = self._in_window(windows, Window(window))
        pairs, _, total, _ = self._aggregate(keep, kinds, None)
        n = np.int64(max(len(self.handles), 1))
        src, dst = pairs // n, pairs % n
        used, codes = np.unique(np.concatenate([src, dst]), return_inverse=True)
        m = len(pairs)
        return GraphArrays._make(self.handles[used], codes[:m], codes[m:], total, True)


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
    from .graph import write_dynamic_gexf_edges

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
