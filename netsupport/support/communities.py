"""Community mobilisation: the standing communities, who mobilised, and breadth."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..graph_measures import communities_from_edges as communities_from_edges  # (re-exported)
from ..schema import (
    Window,
)
from ..windows import Windows
from .common import _B, _C, _FOCAL, _measured, not_measured, rate_ratio
from .shares import _cell, _weight

# ---- communities ---------------------------------------------------------------------------------


def community_mobilisation(
    membership: pd.Series,
    units: pd.DataFrame,
    supporters_idx: pd.Index,
    windows: Windows,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Return mobilisation towards the focal account per baseline community.

    Columns: community, members, active (members addressing the focal account in the crisis),
    share_active, supporters, supportive_share (supporters / active; NaN when none active),
    crisis_interactions, baseline_interactions, lift, lift_low, lift_high (NaN when the
    community never addressed the focal account in the baseline). One row per community, in
    community id order.
    """
    mem = membership.dropna()
    comm_ids = np.sort(mem.unique())
    members = mem.groupby(mem).size().reindex(comm_ids, fill_value=0)
    crisis = _cell(units, _FOCAL, _C)
    base = _cell(units, _FOCAL, _B)
    c_comm = crisis["source"].map(mem)
    b_comm = base["source"].map(mem)
    active = crisis.assign(c=c_comm).dropna(subset=["c"]).groupby("c")["source"].nunique()
    crisis_n = _weighted_counts(c_comm, crisis)
    base_n = _weighted_counts(b_comm, base)
    sup = pd.Series(supporters_idx.to_numpy(dtype=object)).map(mem).dropna().value_counts()
    df = pd.DataFrame({"community": comm_ids, "members": members.to_numpy()})
    for name, s in (
        ("active", active),
        ("supporters", sup),
        ("crisis_interactions", crisis_n),
        ("baseline_interactions", base_n),
    ):
        df[name] = s.reindex(comm_ids, fill_value=0).to_numpy().astype(np.int64)
    df["share_active"] = df["active"] / df["members"]
    df["supportive_share"] = np.where(
        df["active"] > 0, df["supporters"] / df["active"].clip(1), np.nan
    )
    dc, db = windows.days(Window.CRISIS), windows.days(Window.BASELINE)
    lifts = [
        rate_ratio(int(c), dc, int(b), db, confidence)
        for c, b in zip(df["crisis_interactions"], df["baseline_interactions"], strict=True)
    ]
    df["lift"] = [r["value"] if _measured(r) else np.nan for r in lifts]
    df["lift_low"] = [r["low"] if _measured(r) else np.nan for r in lifts]
    df["lift_high"] = [r["high"] if _measured(r) else np.nan for r in lifts]
    return df


def _weighted_counts(labels: pd.Series, units: pd.DataFrame) -> pd.Series:
    """Units per label (NaN labels left out), counting each row's weight."""
    w = _weight(units)
    if w is None:
        return labels.dropna().value_counts()
    return pd.Series(w, index=labels.index).groupby(labels.to_numpy()).sum()


def breadth(membership: pd.Series, supporters_idx: pd.Index, k: int = 3) -> dict[str, Any]:
    """Return how widely crisis supporters spread over the baseline communities.

    ``communities_with_k_supporters``: communities holding at least ``k`` supporters.
    ``normalised_entropy``: Shannon entropy of supporters over the communities holding any,
    divided by its maximum ``log(C)`` (Pielou's evenness; 0 when all are in one community).
    Supporters outside the baseline graph are counted apart (``supporters_outside``).

    Examples
    --------
    >>> m = pd.Series({"a": 0, "b": 0, "c": 1, "d": 1})
    >>> b = breadth(m, pd.Index(["a", "b", "c", "z"]), k=2)
    >>> b["communities_with_k_supporters"], round(b["normalised_entropy"], 4)
    (1, 0.9183)
    """
    return breadth_at(membership, supporter_positions(membership.index, supporters_idx), k)


def supporter_positions(index: pd.Index, supporters_idx: pd.Index) -> np.ndarray:
    """Return each supporter's position in a partition's ``index`` (-1: not in it), for
    :func:`breadth_at`: made once for partitions of the same accounts (the hash table of the
    supporters is built once, not once per partition)."""
    return index.get_indexer(pd.Index(supporters_idx.to_numpy(dtype=object), dtype=object))


def breadth_at(membership: pd.Series, positions: np.ndarray, k: int = 3) -> dict[str, Any]:
    """:func:`breadth` with the supporters given by their :func:`supporter_positions` in
    ``membership.index`` (not measured without a supporter)."""
    if len(positions) == 0:
        return not_measured("no account was supportive of the focal account in the crisis")
    labels = membership.to_numpy()[positions[positions >= 0]]
    missing = pd.isna(labels)
    _, counts = np.unique(labels[~missing], return_counts=True)
    if not len(counts):
        return not_measured("no crisis supporter belongs to a baseline community")
    total = int(counts.sum())
    p = counts.astype(float) / total
    h = float(-(p * np.log(p)).sum())
    c = len(counts)
    return {
        "k": int(k),
        "communities_with_k_supporters": int((counts >= k).sum()),
        "communities_with_supporters": c,
        "entropy": h,
        "normalised_entropy": h / math.log(c) if c > 1 else 0.0,
        "supporters_in_communities": total,
        "supporters_outside": int(len(positions) - total),
    }


def baseline_communities(
    inter: pd.DataFrame, study: Any
) -> tuple[pd.Series | None, dict[str, Any]]:
    """Detect communities on the baseline graph (graph + communities modules)."""
    from .. import graph

    base = graph.window_interactions(inter, study.windows, Window.BASELINE)
    return communities_from_edges(graph.aggregate_edges(base), study)
