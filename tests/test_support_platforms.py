"""The counts per platform (support/platforms.py): the Twitter-only shortcut gives what the
general computation gives."""

from __future__ import annotations

import pandas as pd
import pytest

from netsupport.support import platforms as plat

CRISIS = (pd.Timestamp("2014-02-14", tz="UTC"), pd.Timestamp("2014-02-16", tz="UTC"))


def _rows(source_c: str = "carol"):
    posts = pd.DataFrame(
        {
            "platform": ["twitter", None, "twitter", "twitter"],
            "post_id": ["1", "2", "3", "4"],
            "author": ["amy", "bob", "amy", None],
            "kind": ["reply", "original", "repost", "quote"],
        }
    )
    interactions = pd.DataFrame(
        {
            "post_id": ["1", "3", "4", "99", "98"],  # 99, 98: posts not among these rows
            "source": ["amy", "amy", "dan", source_c, "eve"],
            "target": ["lane", "force", "lane", "lane", "lane"],
            "kind": ["reply", "repost", "quote", "like", "mention"],
            "created_at": pd.to_datetime(
                [
                    "2014-02-14T10:00Z",
                    "2014-02-13T10:00Z",
                    "2014-02-15T10:00Z",
                    None,
                    "2014-02-17T10:00Z",
                ],
                utc=True,
            ),
        }
    )
    return posts, interactions


@pytest.mark.parametrize("deleted", [(), ("3", "99")])
def test_the_twitter_only_shortcut_gives_the_general_parts(monkeypatch, deleted):
    # The shortcut (a 10^6 report spent 4.6 s mapping every interaction to its post to find a
    # table it then left out) must give the very parts the general path gives, so a Dask
    # partition of Twitter rows adds up the same in a store of several platforms.
    posts, inter = _rows()
    assert plat._twitter_only(posts["platform"].fillna("twitter"), inter)
    fast = plat.platform_parts(posts, inter, ["lane"], CRISIS, deleted)
    monkeypatch.setattr(plat, "_twitter_only", lambda *a: False)
    slow = plat.platform_parts(posts, inter, ["lane"], CRISIS, deleted)
    pd.testing.assert_frame_equal(fast.sums, slow.sums)
    pd.testing.assert_frame_equal(fast.authors, slow.authors)
    # by hand: 4 posts (1 reply, 1 repost, 1 quote), 5 interactions, 1 like, 4 towards lane,
    # 2 of them in the crisis (the like has no time)
    row = fast.sums.loc["twitter"]
    assert row[["posts", "replies", "reposts", "quotes", "interactions"]].tolist() == [
        4,
        1,
        1,
        1,
        5,
    ]
    assert row[["likes", "with_focal", "with_focal_crisis"]].tolist() == [1, 4, 2]
    assert row["deleted_later"] == (2 if deleted else 0)
    assert fast.authors["author"].tolist() == ["amy", "bob"]


def test_an_interaction_from_another_platform_takes_the_general_path():
    posts, inter = _rows(source_c="bluesky:did:plc:c1")
    assert not plat._twitter_only(posts["platform"].fillna("twitter"), inter)
    parts = plat.platform_parts(posts, inter, ["lane"], CRISIS)
    assert parts.sums.index.tolist() == ["bluesky", "twitter"]
    assert parts.sums.loc["bluesky", "likes"] == 1
    # every post is Twitter's: the pandas engine's table is None without making the parts
    assert plat.platform_counts(posts, inter, ["lane"], *CRISIS) is None


@pytest.mark.parametrize("source_c", ["carol", "bluesky:did:plc:c1"])
def test_parts_without_authors_have_the_same_sums_and_no_authors(source_c):
    # (the Dask engine's partitions of a study whose posts are all Twitter's: its table is
    # None whatever the authors, so they are not collected and merged)
    posts, inter = _rows(source_c)
    full = plat.platform_parts(posts, inter, ["lane"], CRISIS)
    bare = plat.platform_parts(posts, inter, ["lane"], CRISIS, authors=False)
    pd.testing.assert_frame_equal(bare.sums, full.sums)
    assert len(full.authors) == 2 and len(bare.authors) == 0
    assert list(bare.authors.columns) == ["platform", "author"]
    merged = plat.combine_platform_parts([bare, bare])
    assert plat.platform_table(merged) is None and len(merged.authors) == 0
