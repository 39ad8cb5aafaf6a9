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
from .schema import IKind, Window
from .windows import Windows

__all__ = [
    "DEFAULT_GEXF_MAX_EDGES",
    "GexfScope",
    "check_max_edges",
    "count_pairs",
    "edge_columns",
    "gexf_scope",
    "window_edges_of",
    "write_graph_gexf",
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
    return GexfScope(count_pairs(window_edges), check_max_edges(max_edges, "gexf_max_edges"))


def window_edges_of(
    interactions: pd.DataFrame,
    windows: Windows,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """Aggregate the interactions of each window into edges (as the dynamic GEXF needs)."""
    from .graph import aggregate_edges, edge_columns, window_interactions

    rows = edge_columns(interactions)
    return {
        w.value: aggregate_edges(window_interactions(rows, windows, w), kinds, kind_weights)
        for w in Window
    }


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
