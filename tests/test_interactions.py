"""Interactions derived from posts and from study markers."""

import pandas as pd

from netsupport.interactions import interactions_from_posts, marker_interactions
from netsupport.schema import INTERACTION_COLUMNS, Table, empty_frame


def _posts(rows):
    cols = [
        "post_id",
        "author",
        "created_at",
        "kind",
        "target_author",
        "mentions",
        "hashtags",
        "text",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def test_each_kind_gives_one_edge_and_mentions_are_not_double_counted():
    posts = _posts(
        [
            ("1", "amy", "2014-02-14T10:00Z", "reply", "lane", "lane", "", "@lane ok"),
            ("2", "bob", "2014-02-14T11:00Z", "repost", "lane", "lane", "", "RT @lane: hi"),
            (
                "3",
                "cat",
                "2014-02-14T12:00Z",
                "quote",
                "force",
                "lane force",
                "",
                "@lane vs @force",
            ),
            ("4", "dan", "2014-02-14T13:00Z", "post", None, "dan lane lane", "", "me @lane @lane"),
        ]
    )
    got = interactions_from_posts(posts)
    assert list(got.columns) == INTERACTION_COLUMNS
    triples = sorted(got[["source", "target", "kind"]].itertuples(index=False, name=None))
    assert triples == [
        ("amy", "lane", "reply"),  # the reply's own mention of lane is not a second edge
        ("bob", "lane", "repost"),
        ("cat", "force", "quote"),
        ("cat", "lane", "mention"),
        ("dan", "lane", "mention"),  # self-mention dropped, duplicate mention collapsed
    ]
    assert (got["weight"] == 1.0).all()
    assert str(got["created_at"].dt.tz) == "UTC"


def test_self_reply_gives_no_edge():
    posts = _posts([("1", "amy", "2014-02-14T10:00Z", "reply", "amy", "", "", "thread")])
    assert interactions_from_posts(posts).empty


def test_empty_posts_give_empty_canonical_frame():
    got = interactions_from_posts(empty_frame(Table.POSTS))
    assert list(got.columns) == INTERACTION_COLUMNS and got.empty


def test_markers_match_hashtags_and_phrases_but_not_the_focal_account():
    posts = _posts(
        [
            ("1", "amy", "2014-02-14T10:00Z", "post", None, "", "standwithlane", "#StandWithLane"),
            ("2", "bob", "2014-02-14T11:00Z", "post", None, "", "", "Bring Back Lane now"),
            ("3", "lane", "2014-02-14T12:00Z", "post", None, "", "standwithlane", "#standwithlane"),
            ("4", "cat", "2014-02-14T13:00Z", "post", None, "", "standwithlanes", "other tag"),
        ]
    )
    got = marker_interactions(posts, ["#standwithlane", "bring back lane"], ["lane", "lane_alias"])
    assert got[["source", "target", "kind", "post_id"]].values.tolist() == [
        ["amy", "lane", "marker", "1"],
        ["bob", "lane", "marker", "2"],
    ]


def test_no_markers_gives_empty():
    posts = _posts([("1", "amy", "2014-02-14T10:00Z", "post", None, "", "x", "x")])
    assert marker_interactions(posts, [], ["lane"]).empty
