"""Derive interaction edges from posts: replies, mentions, reposts, quotes, and study markers.

One row per (post, target, kind). Vectorised: no Python loop over posts.

Examples
--------
>>> import pandas as pd
>>> posts = pd.DataFrame({
...     "post_id": ["1", "2"], "author": ["amy", "bob"],
...     "created_at": pd.to_datetime(["2014-02-14T10:00Z", "2014-02-14T11:00Z"]),
...     "kind": ["reply", "post"], "target_author": ["lane", None],
...     "mentions": ["lane force", "lane"], "hashtags": ["", "standwithlane"],
...     "text": ["@lane @force hi", "go @lane #StandWithLane"]})
>>> interactions_from_posts(posts)[["source", "target", "kind", "post_id"]].values.tolist()
[['amy', 'force', 'mention', '1'], ['amy', 'lane', 'reply', '1'], ['bob', 'lane', 'mention', '2']]
>>> m = marker_interactions(posts, ["#standwithlane"], ["lane"])
>>> m[["source", "target", "kind"]].values.tolist()
[['bob', 'lane', 'marker']]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .schema import (
    INTERACTION_COLUMNS,
    IKind,
    InteractionCol,
    PostCol,
    PostKind,
    Table,
    empty_frame,
)

__all__ = ["interactions_from_posts", "marker_interactions", "sort_interactions"]

_KIND_OF_POST = {
    PostKind.REPLY.value: IKind.REPLY.value,
    PostKind.REPOST.value: IKind.REPOST.value,
    PostKind.QUOTE.value: IKind.QUOTE.value,
}


def sort_interactions(df: pd.DataFrame) -> pd.DataFrame:
    """Return interactions in the canonical order (created_at, post_id, kind, source, target)."""
    keys = [
        InteractionCol.CREATED_AT,
        InteractionCol.POST_ID,
        InteractionCol.KIND,
        InteractionCol.SOURCE,
        InteractionCol.TARGET,
    ]
    return df.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)


def _utc_values(created_at: pd.Series) -> np.ndarray:
    """Return timestamps as naive datetime64 values in UTC (fast to index; no Timestamp objects)."""
    return pd.to_datetime(created_at, utc=True).dt.tz_localize(None).to_numpy()


def _frame(source, target, kind, post_id, created_at) -> pd.DataFrame:
    return pd.DataFrame(
        {
            InteractionCol.SOURCE: np.asarray(source, dtype=object),
            InteractionCol.TARGET: np.asarray(target, dtype=object),
            InteractionCol.KIND: np.asarray(kind, dtype=object),
            InteractionCol.POST_ID: np.asarray(post_id, dtype=object),
            InteractionCol.CREATED_AT: pd.DatetimeIndex(created_at).tz_localize("UTC"),
            InteractionCol.WEIGHT: np.ones(len(source), dtype="float64"),
        }
    )


def interactions_from_posts(posts: pd.DataFrame) -> pd.DataFrame:
    """Return the interaction edges that posts imply.

    A reply, repost or quote gives one edge author -> target_author of that kind. Each handle in
    ``mentions`` gives a ``mention`` edge, except the target_author of a reply/repost/quote (already
    counted) and self-mentions. Self-edges are dropped. Rows are sorted canonically.

    Parameters
    ----------
    posts : DataFrame
        Canonical posts (columns post_id, author, created_at, kind, target_author, mentions).

    Returns
    -------
    DataFrame
        Canonical interactions, weight 1.0 per row.
    """
    if posts.empty:
        return empty_frame(Table.INTERACTIONS)
    author = posts[PostCol.AUTHOR].astype(object).to_numpy()
    kind = posts[PostCol.KIND].astype(object).to_numpy()
    target = posts[PostCol.TARGET_AUTHOR].astype(object).to_numpy()
    post_id = posts[PostCol.POST_ID].astype(object).to_numpy()
    created = _utc_values(posts[PostCol.CREATED_AT])

    ikind = pd.Series(kind).map(_KIND_OF_POST).to_numpy()
    has_target = pd.notna(ikind) & pd.notna(target) & (target != author)
    direct = _frame(
        author[has_target],
        target[has_target],
        ikind[has_target],
        post_id[has_target],
        created[has_target],
    )

    mentions = posts[PostCol.MENTIONS].fillna("").astype(str)
    split = mentions.str.split()
    lengths = split.str.len().to_numpy()
    if lengths.sum():
        rep = np.repeat(np.arange(len(posts)), lengths)
        handles = np.asarray([h for lst in split if lst for h in lst], dtype=object)
        keep = (handles != author[rep]) & ~(has_target[rep] & (handles == target[rep]))
        rep, handles = rep[keep], handles[keep]
        men = _frame(
            author[rep],
            handles,
            np.full(len(rep), IKind.MENTION.value, dtype=object),
            post_id[rep],
            created[rep],
        )
        men = men.drop_duplicates([InteractionCol.POST_ID, InteractionCol.TARGET])
        out = pd.concat([direct, men], ignore_index=True)
    else:
        out = direct
    return sort_interactions(out[INTERACTION_COLUMNS])


def marker_interactions(
    posts: pd.DataFrame, markers: Iterable[str], focal: Iterable[str]
) -> pd.DataFrame:
    """Return one ``marker`` edge author -> focal account for each post carrying a study marker.

    A marker starting with ``#`` matches the post's hashtags; any other marker matches the post text
    case-insensitively as a phrase. The edge points at the first focal handle (aliases are the same
    person). Posts by the focal account itself give no edge.
    """
    markers = [m.strip().lower() for m in markers if m and m.strip()]
    focal = [f for f in focal if f]
    if posts.empty or not markers or not focal:
        return empty_frame(Table.INTERACTIONS)
    tags = {m[1:] for m in markers if m.startswith("#")}
    phrases = [m for m in markers if not m.startswith("#")]
    hit = np.zeros(len(posts), dtype=bool)
    if tags:  # whole-tag match inside the space-separated hashtags column
        pattern = r"(?:^| )(?:" + "|".join(re.escape(t) for t in sorted(tags)) + r")(?: |$)"
        hashtags = posts[PostCol.HASHTAGS].fillna("").astype(str)
        hit |= hashtags.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    if phrases:
        text = posts[PostCol.TEXT].fillna("").astype(str).str.lower()
        for phrase in phrases:
            hit |= text.str.contains(phrase, regex=False).to_numpy(dtype=bool)
    author = posts[PostCol.AUTHOR].astype(object).to_numpy()
    hit &= ~np.isin(author, focal)
    sel = posts[hit]
    n = len(sel)
    out = _frame(
        sel[PostCol.AUTHOR].to_numpy(dtype=object),
        np.full(n, focal[0], dtype=object),
        np.full(n, IKind.MARKER.value, dtype=object),
        sel[PostCol.POST_ID].to_numpy(dtype=object),
        _utc_values(sel[PostCol.CREATED_AT]),
    )
    return sort_interactions(out[INTERACTION_COLUMNS])
