"""Counts per platform, for studies whose inputs come from more than one platform.

A cross-platform study keeps every platform's accounts apart (:mod:`netsupport.io.platforms`);
this table says how much of the data, and of the attention to the focal account, each platform
holds. METHODS.md, "Counts per platform".

Examples
--------
>>> import pandas as pd
>>> posts = pd.DataFrame({"platform": ["twitter", "mastodon", "mastodon"],
...     "post_id": ["1", "https://a/users/b/statuses/2", "https://a/users/c/statuses/3"],
...     "author": ["amy", "mastodon:b@a", "mastodon:c@a"], "kind": ["post", "reply", "repost"]})
>>> inter = pd.DataFrame({"source": ["amy", "mastodon:b@a", "mastodon:c@a"],
...     "target": ["lane", "lane", "mastodon:b@a"], "kind": ["mention", "reply", "like"],
...     "post_id": ["1", "https://a/users/b/statuses/2", "https://a/users/b/statuses/2"],
...     "created_at": pd.to_datetime(["2014-02-15T10:00Z", "2014-02-01T10:00Z", None], utc=True)})
>>> t = platform_counts(posts, inter, ["lane"], pd.Timestamp("2014-02-14T09:00Z"),
...                     pd.Timestamp("2014-02-19T18:00Z"))
>>> t[["platform", "posts", "accounts", "likes", "with_focal", "with_focal_crisis"]].values.tolist()
[['mastodon', 2, 2, 1, 1, 0], ['twitter', 1, 1, 0, 1, 1]]
>>> t = platform_counts(posts, inter, ["lane"], pd.Timestamp("2014-02-14T09:00Z"),
...                     pd.Timestamp("2014-02-19T18:00Z"), deleted={"1", "https://a/users/c/statuses/3"})
>>> t["deleted_later"].tolist()  # twitter's post 1, mastodon's repost 3 (the like's id is post 2's)
[1, 1]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io.platforms import PLATFORM_TWITTER, platform_of
from ..schema import DeletionCol, IKind, InteractionCol, PostCol, PostKind, Table
from ..store import Store

__all__ = [
    "DELETED_COLUMN",
    "PLATFORM_COLUMNS",
    "PlatformParts",
    "combine_platform_parts",
    "deleted_ids",
    "platform_counts",
    "platform_parts",
    "platform_table",
]

#: Columns of the table, in order.
PLATFORM_COLUMNS = [
    "platform",
    "posts",
    "accounts",
    "replies",
    "reposts",
    "quotes",
    "likes",
    "with_focal",
    "with_focal_crisis",
]
#: The column added when delete events mark some records.
DELETED_COLUMN = "deleted_later"
_POST_USED = [PostCol.PLATFORM, PostCol.POST_ID, PostCol.AUTHOR, PostCol.KIND]


def platform_counts(
    posts: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    focal: Iterable[str],
    crisis_start: pd.Timestamp,
    crisis_end: pd.Timestamp,
    deleted: Collection[str] = (),
) -> pd.DataFrame | None:
    """Return one row per platform, or None when every post is from Twitter (the table would
    say nothing, and Twitter-only reports stay as they were).

    Columns: ``posts``; ``accounts`` (distinct authors); ``replies``, ``reposts``, ``quotes``
    (posts of that kind); ``likes`` (like interactions); ``with_focal`` (interactions of any kind
    towards a focal handle, markers included); ``with_focal_crisis`` (those timed within
    [crisis_start, crisis_end): likes without a time are not). An interaction's platform is its
    post's (by post id), else its source account's prefix (follows, likes of posts not
    imported). Rows sorted by platform name.

    ``deleted``: the ids of records a delete event names (the store's ``deletions`` table).
    When any is given, a column ``deleted_later`` counts the platform's posts and likes among
    them: records kept in every count, whose authors deleted them later.

    The table is :func:`platform_table` of :func:`platform_parts`: the Dask engine computes the
    parts per partition of the store and adds them up (:func:`combine_platform_parts`).
    """
    if posts is None or not len(posts) or PostCol.PLATFORM not in posts:
        return None
    if (posts[PostCol.PLATFORM].fillna(PLATFORM_TWITTER) == PLATFORM_TWITTER).all():
        return None  # (what platform_table says of such parts, without making them)
    parts = platform_parts(posts, interactions, focal, (crisis_start, crisis_end), deleted)
    return platform_table(parts, deleted=bool(deleted))


@dataclass
class PlatformParts:
    """What :func:`platform_table` is made of, for some of the rows: sums that add up over
    rows, and the distinct accounts posting (which do not).

    ``sums``: indexed by platform, the columns of the table but ``accounts``, plus
    ``interactions`` (rows per platform: a platform with interactions but no posts still gets a
    row); ``authors``: the distinct (platform, author) pairs of the posts.
    """

    sums: pd.DataFrame
    authors: pd.DataFrame


_SUMS = [c for c in PLATFORM_COLUMNS[1:] if c != "accounts"] + ["interactions", DELETED_COLUMN]


def platform_parts(
    posts: pd.DataFrame | None,
    interactions: pd.DataFrame | None,
    focal: Iterable[str],
    crisis: tuple[pd.Timestamp, pd.Timestamp],
    deleted: Collection[str] = (),
    authors: bool = True,
) -> PlatformParts:
    """Return the :class:`PlatformParts` of some posts and the interactions they gave (see
    :func:`platform_counts` for the arguments; ``crisis``: its start and end). An interaction
    whose post is not among ``posts`` takes its source account's platform.

    ``authors=False`` leaves the distinct authors out (no rows): for a study whose every post
    is Twitter's, whose table is None (:func:`platform_table`) whatever they are. The Dask
    engine's partitions of a 10^7 study name ~10^5 authors each, ~8 million rows to merge.
    """
    if posts is None or PostCol.PLATFORM not in posts:
        posts = pd.DataFrame({c: pd.Series([], dtype=object) for c in _POST_USED})
    platform = posts[PostCol.PLATFORM].fillna(PLATFORM_TWITTER).astype(object)
    if _twitter_only(platform, interactions):
        return _twitter_parts(posts, interactions, focal, crisis, deleted, authors)
    p = pd.DataFrame(
        {
            "platform": platform.to_numpy(dtype=object),
            "author": posts[PostCol.AUTHOR].to_numpy(dtype=object),
            "kind": posts[PostCol.KIND].to_numpy(dtype=object),
        }
    )
    sums = pd.DataFrame(
        {
            "posts": 1,
            "replies": p["kind"] == PostKind.REPLY.value,
            "reposts": p["kind"] == PostKind.REPOST.value,
            "quotes": p["kind"] == PostKind.QUOTE.value,
            "interactions": 0,
            "platform": p["platform"],
        }
    )
    gone = pd.Index(list(deleted))
    sums[DELETED_COLUMN] = posts[PostCol.POST_ID].isin(gone).to_numpy(dtype=bool)
    frames = [sums]
    if interactions is not None and len(interactions):
        kind, at_focal, in_crisis = _interaction_flags(interactions, focal, crisis)
        frames.append(
            pd.DataFrame(
                {
                    "platform": _interaction_platforms(posts, platform, interactions),
                    "interactions": 1,
                    "likes": kind == IKind.LIKE.value,
                    "with_focal": at_focal,
                    "with_focal_crisis": at_focal & in_crisis,
                    DELETED_COLUMN: _likes_in(interactions, gone),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True).reindex(columns=["platform", *_SUMS])
    rows[_SUMS] = rows[_SUMS].fillna(0).astype("int64")
    by = p.loc[p["author"].notna(), ["platform", "author"]]
    by = by.drop_duplicates() if authors else by.iloc[:0]
    return PlatformParts(
        rows.groupby("platform", sort=True)[_SUMS].sum(), by.reset_index(drop=True)
    )


def _interaction_flags(
    interactions: pd.DataFrame, focal: Iterable[str], crisis: tuple[pd.Timestamp, pd.Timestamp]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each interaction's kind, whether it is towards a focal handle, and whether it is timed
    within the crisis [start, end) (an interaction without a time is not)."""
    kind = interactions[InteractionCol.KIND].to_numpy(dtype=object)
    target = interactions[InteractionCol.TARGET].to_numpy(dtype=object)
    created = pd.to_datetime(interactions[InteractionCol.CREATED_AT], utc=True)
    at_focal = np.isin(target, list(focal))
    in_crisis = ((created >= crisis[0]) & (created < crisis[1])).to_numpy(dtype=bool)
    return kind, at_focal, in_crisis


def _twitter_only(platform: pd.Series, interactions: pd.DataFrame | None) -> bool:
    """Whether every post and every interaction of these rows is Twitter's: no post of another
    platform, and no interaction source with a platform prefix (``bluesky:...``), which is
    where an interaction whose post is not among these rows takes its platform from."""
    if not (platform == PLATFORM_TWITTER).all():
        return False
    if interactions is None or not len(interactions):
        return True
    sources = interactions[InteractionCol.SOURCE].astype(object).fillna("").astype(str)
    return not sources.str.contains(":", regex=False).any()


def _twitter_parts(
    posts: pd.DataFrame,
    interactions: pd.DataFrame | None,
    focal: Iterable[str],
    crisis: tuple[pd.Timestamp, pd.Timestamp],
    deleted: Collection[str],
    authors: bool = True,
) -> PlatformParts:
    """:func:`platform_parts` of rows that are all Twitter's (:func:`_twitter_only`): one row of
    sums, counted without mapping each interaction to its post (a 10^6 report spent 4.6 s on
    that, to find a table it then left out)."""
    kind = posts[PostCol.KIND].to_numpy(dtype=object)
    gone = pd.Index(list(deleted))
    row = {
        "posts": len(posts),
        "replies": int((kind == PostKind.REPLY.value).sum()),
        "reposts": int((kind == PostKind.REPOST.value).sum()),
        "quotes": int((kind == PostKind.QUOTE.value).sum()),
        "interactions": 0,
        "likes": 0,
        "with_focal": 0,
        "with_focal_crisis": 0,
        DELETED_COLUMN: int(posts[PostCol.POST_ID].isin(gone).sum()) if len(gone) else 0,
    }
    if interactions is not None and len(interactions):
        ikind, at_focal, in_crisis = _interaction_flags(interactions, focal, crisis)
        row["interactions"] = len(interactions)
        row["likes"] = int((ikind == IKind.LIKE.value).sum())
        row["with_focal"] = int(at_focal.sum())
        row["with_focal_crisis"] = int((at_focal & in_crisis).sum())
        row[DELETED_COLUMN] += int(_likes_in(interactions, gone).sum()) if len(gone) else 0
    sums = pd.DataFrame([row], index=pd.Index([PLATFORM_TWITTER], name="platform"))[_SUMS]
    if not len(posts) and not row["interactions"]:
        sums = sums.iloc[:0]
    author = posts[PostCol.AUTHOR].dropna().to_numpy(dtype=object)
    author = pd.unique(author) if authors else author[:0]
    by = pd.DataFrame({"platform": PLATFORM_TWITTER, "author": author})
    return PlatformParts(sums.astype("int64"), by)


def combine_platform_parts(parts: Sequence[PlatformParts]) -> PlatformParts:
    """Add up the parts of disjoint sets of rows (each post, each interaction in one of them)."""
    sums = pd.concat([p.sums for p in parts]).groupby(level=0, sort=True).sum()
    authors = pd.concat([p.authors for p in parts], ignore_index=True).drop_duplicates()
    return PlatformParts(sums.astype("int64"), authors.reset_index(drop=True))


def platform_table(parts: PlatformParts, deleted: bool = False) -> pd.DataFrame | None:
    """Return the table of :func:`platform_counts` from its parts (``deleted``: whether the
    store holds delete events, which adds the column ``deleted_later``)."""
    sums = parts.sums
    with_posts = sums.index[sums["posts"].to_numpy() > 0]
    if not len(with_posts) or set(with_posts) == {PLATFORM_TWITTER}:
        return None
    sums = sums[(sums["posts"].to_numpy() > 0) | (sums["interactions"].to_numpy() > 0)]
    out = sums.copy()
    out["accounts"] = parts.authors.groupby("platform").size().reindex(out.index, fill_value=0)
    out = out.rename_axis("platform").reset_index()
    out["platform"] = out["platform"].astype(object)
    for col in PLATFORM_COLUMNS[1:]:
        out[col] = out[col].astype("int64")
    columns = [*PLATFORM_COLUMNS, DELETED_COLUMN] if deleted else PLATFORM_COLUMNS
    return out[columns].reset_index(drop=True)


def deleted_ids(store: Store) -> frozenset[str]:
    """Return the ids of the records delete events name (the store's ``deletions`` table,
    Bluesky): the ``deleted`` of :func:`platform_counts`."""
    if not store.counts().get(Table.DELETIONS.value):
        return frozenset()
    ids = store.read_arrow(Table.DELETIONS, [DeletionCol.RECORD_ID]).column(0)
    return frozenset(ids.to_pylist())


def _likes_in(interactions: pd.DataFrame | None, ids: pd.Index) -> np.ndarray:
    """Which interactions are likes whose id is in ``ids`` (a like's id is its record's)."""
    if interactions is None or not len(interactions):
        return np.zeros(0, dtype=bool)
    kind = interactions[InteractionCol.KIND].to_numpy(dtype=object)
    return (kind == IKind.LIKE.value) & interactions[InteractionCol.POST_ID].isin(ids).to_numpy()


def _interaction_platforms(
    posts: pd.DataFrame, platform: pd.Series, interactions: pd.DataFrame | None
) -> np.ndarray:
    if interactions is None or not len(interactions):
        return np.array([], dtype=object)
    by_post = pd.Series(platform.to_numpy(), index=posts[PostCol.POST_ID].to_numpy(dtype=object))
    by_post = by_post[~by_post.index.duplicated(keep="first")]
    found = interactions[InteractionCol.POST_ID].map(by_post).to_numpy(dtype=object)
    sources = interactions[InteractionCol.SOURCE].to_numpy(dtype=object)
    missing = pd.isna(found)
    found[missing] = [
        platform_of(s) if isinstance(s, str) else PLATFORM_TWITTER for s in sources[missing]
    ]
    return found
