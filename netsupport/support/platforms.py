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

from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

from ..io.platforms import PLATFORM_TWITTER, platform_of
from ..schema import IKind, InteractionCol, PostCol, PostKind

__all__ = ["DELETED_COLUMN", "PLATFORM_COLUMNS", "platform_counts"]

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
    """
    if posts is None or not len(posts) or PostCol.PLATFORM not in posts:
        return None
    platform = posts[PostCol.PLATFORM].fillna(PLATFORM_TWITTER).astype(object)
    if (platform == PLATFORM_TWITTER).all():
        return None
    p = pd.DataFrame(
        {
            "platform": platform.to_numpy(),
            "author": posts[PostCol.AUTHOR].to_numpy(dtype=object),
            "kind": posts[PostCol.KIND].to_numpy(dtype=object),
        }
    )
    g = p.groupby("platform", sort=True)
    out = pd.DataFrame(
        {
            "posts": g.size(),
            "accounts": g["author"].nunique(),
            "replies": g["kind"].apply(lambda k: int((k == PostKind.REPLY.value).sum())),
            "reposts": g["kind"].apply(lambda k: int((k == PostKind.REPOST.value).sum())),
            "quotes": g["kind"].apply(lambda k: int((k == PostKind.QUOTE.value).sum())),
        }
    )
    inter_platform = _interaction_platforms(posts, platform, interactions)
    extra = {"likes": {}, "with_focal": {}, "with_focal_crisis": {}}
    if interactions is not None and len(interactions):
        kind = interactions[InteractionCol.KIND].to_numpy(dtype=object)
        target = interactions[InteractionCol.TARGET].to_numpy(dtype=object)
        created = pd.to_datetime(interactions[InteractionCol.CREATED_AT], utc=True)
        at_focal = np.isin(target, list(focal))
        in_crisis = ((created >= crisis_start) & (created < crisis_end)).to_numpy(dtype=bool)
        frame = pd.DataFrame(
            {
                "platform": inter_platform,
                "likes": kind == IKind.LIKE.value,
                "with_focal": at_focal,
                "with_focal_crisis": at_focal & in_crisis,
            }
        )
        sums = frame.groupby("platform", sort=True).sum()
        extra = {c: sums[c].to_dict() for c in extra}
    index = sorted(set(out.index) | set(extra["likes"]))
    out = out.reindex(index, fill_value=0)
    for col, values in extra.items():
        out[col] = [int(values.get(pl, 0)) for pl in index]
    out = out.reset_index(names="platform")
    for col in PLATFORM_COLUMNS[1:]:
        out[col] = out[col].astype("int64")
    if not deleted:
        return out[PLATFORM_COLUMNS]
    gone = pd.Index(list(deleted))
    marked = pd.concat(
        [
            pd.Series(platform.to_numpy()[posts[PostCol.POST_ID].isin(gone).to_numpy()]),
            pd.Series(inter_platform[_likes_in(interactions, gone)]),
        ]
    ).value_counts()
    out[DELETED_COLUMN] = [int(marked.get(pl, 0)) for pl in out["platform"]]
    return out[[*PLATFORM_COLUMNS, DELETED_COLUMN]]


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
