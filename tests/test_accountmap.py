"""Account map (cross-platform studies), platform keys, and the counts-per-platform table."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from netsupport.accountmap import apply_account_map, load_account_map
from netsupport.cli import app
from netsupport.errors import InputFileError, StudyKeyError
from netsupport.io.platforms import in_text, platform_of, qualify
from netsupport.report_format import handle
from netsupport.support.platforms import platform_counts


def _map(tmp_path, text):
    p = tmp_path / "map.csv"
    p.write_text(text)
    return p


def test_account_map_links_to_the_first_row_of_each_person(tmp_path):
    p = _map(
        tmp_path,
        "platform,handle,person\nmastodon,lane@police.social,Lane\ntwitter,@Inspector_Lane,Lane\n"
        "telegram,user1001,Lane\ntelegram,user7,amy\n",
    )
    assert load_account_map(p) == {
        "inspector_lane": "mastodon:lane@police.social",
        "telegram:user1001": "mastodon:lane@police.social",
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("platform,handle\ntwitter,a\n", "missing"),
        ("platform,handle,person\nmyspace,a,p\n", "map.csv:2: unknown platform"),
        ("platform,handle,person\ntwitter,,p\n", "map.csv:2: a row needs a handle"),
        ("platform,handle,person\ntwitter,a,p\ntwitter,A,q\n", "map.csv:3: a is listed for 'p'"),
    ],
)
def test_bad_account_maps_name_the_line(tmp_path, text, match):
    with pytest.raises(InputFileError, match=match):
        load_account_map(_map(tmp_path, text))


def test_apply_account_map_merges_accounts_and_drops_new_self_edges():
    mapping = {"mastodon:lane@p.s": "lane"}
    tables = {
        "posts": pd.DataFrame(
            {
                "author": ["mastodon:lane@p.s", "amy"],
                "target_author": [None, "mastodon:lane@p.s"],
                "mentions": ["lane amy", "mastodon:lane@p.s lane bob"],
            }
        ),
        "interactions": pd.DataFrame(
            {
                "source": ["mastodon:lane@p.s", "amy", "amy"],
                "target": ["lane", "mastodon:lane@p.s", "bob"],
                "kind": ["mention", "reply", "mention"],
            }
        ),
        "follows": pd.DataFrame({"follower": ["amy"], "followee": ["mastodon:lane@p.s"]}),
        "accounts": pd.DataFrame(
            {"handle": ["mastodon:lane@p.s", "lane"], "role": ["citizen", "professional"]}
        ),
    }
    out = apply_account_map(tables, mapping)
    assert out["posts"]["author"].tolist() == ["lane", "amy"]
    target = out["posts"]["target_author"]
    assert target.isna().tolist() == [True, False] and target[1] == "lane"
    assert out["posts"]["mentions"].tolist() == ["lane amy", "lane bob"]
    # the Mastodon account mentioning the Twitter one is the person mentioning themself
    assert out["interactions"][["source", "target"]].values.tolist() == [
        ["amy", "lane"],
        ["amy", "bob"],
    ]
    assert out["follows"]["followee"].tolist() == ["lane"]
    # the person's own row (its role) wins over the linked account's
    assert out["accounts"].values.tolist() == [["lane", "professional"]]


def test_platform_keys_and_their_text_forms():
    assert qualify("twitter", "@Amy") == "amy"
    assert qualify("telegram", "@Amy") == "telegram:amy"
    assert platform_of("mastodon:a@b") == "mastodon" and platform_of("notaplatform:x") == "twitter"
    assert in_text(("amy", "force")) == ("amy", "force")  # Twitter studies unchanged
    assert in_text(("mastodon:lane@p.s",)) == ("mastodon:lane@p.s", "lane")
    assert handle("amy") == "@amy" and handle("mastodon:lane@p.s") == "mastodon:lane@p.s"


def test_platform_counts_by_hand():
    posts = pd.DataFrame(
        {
            "platform": ["twitter", "twitter", "mastodon", "telegram"],
            "post_id": ["1", "2", "https://h/users/b/statuses/3", "9/4"],
            "author": ["amy", "bob", "mastodon:b@h", "telegram:user1"],
            "kind": ["post", "repost", "quote", "reply"],
        }
    )
    when = pd.to_datetime(
        ["2014-02-15T00:00Z", "2014-02-01T00:00Z", "2014-02-16T00:00Z", None, None], utc=True
    )
    inter = pd.DataFrame(
        {
            "source": ["amy", "bob", "mastodon:b@h", "mastodon:b@h", "telegram:user1"],
            "target": ["lane", "lane", "lane", "lane", "lane"],
            "kind": ["mention", "repost", "quote", "like", "follow"],
            "post_id": ["1", "2", "https://h/users/b/statuses/3", "https://h/x/1", None],
            "created_at": when,
        }
    )
    t = platform_counts(
        posts, inter, ["lane"], pd.Timestamp("2014-02-14T09:00Z"), pd.Timestamp("2014-02-19T18:00Z")
    )
    assert t.to_dict("records") == [
        {
            "platform": "mastodon",
            "posts": 1,
            "accounts": 1,
            "replies": 0,
            "reposts": 0,
            "quotes": 1,
            "likes": 1,
            "with_focal": 2,
            "with_focal_crisis": 1,
        },
        {
            "platform": "telegram",
            "posts": 1,
            "accounts": 1,
            "replies": 1,
            "reposts": 0,
            "quotes": 0,
            "likes": 0,
            "with_focal": 1,
            "with_focal_crisis": 0,
        },
        {
            "platform": "twitter",
            "posts": 2,
            "accounts": 2,
            "replies": 0,
            "reposts": 1,
            "quotes": 0,
            "likes": 0,
            "with_focal": 2,
            "with_focal_crisis": 1,
        },
    ]
    assert platform_counts(posts[posts.platform == "twitter"], inter, ["lane"], *when[:2]) is None


def test_study_file_account_map_and_instance_keys(tmp_path, data_dir):
    from netsupport.studyfile import load_study

    (tmp_path / "map.csv").write_text("platform,handle,person\ntwitter,lane,lane\n")
    base = (
        '[study]\nname = "x"\nfocal = ["mastodon:lane@police.social"]\n{extra}'
        '[windows]\ncrisis_start = "2014-02-14T09:00:00Z"\ncrisis_end = "2014-02-19T18:00:00Z"\n'
        f'[[inputs]]\npath = "{data_dir / "io" / "mastodon_statuses.jsonl"}"\n'
        'format = "mastodon"\ninstance = "Town.Example"\n'
    )
    p = tmp_path / "s.toml"
    p.write_text(base.format(extra='account_map = "map.csv"\n'))
    study = load_study(p)
    assert study.focal == ("mastodon:lane@police.social",)
    assert study.account_map == (tmp_path / "map.csv").resolve()
    assert study.inputs[0].instance == "town.example"
    assert study.parameters()["account_map"] == "map.csv"
    p.write_text(base.format(extra=""))
    assert "account_map" not in load_study(p).parameters()  # other studies' bytes unchanged
    p.write_text(base.format(extra="account_map = 3\n"))
    with pytest.raises(StudyKeyError, match="account_map"):
        load_study(p)


def test_cli_import_instance_option(tmp_path, data_dir):
    res = CliRunner().invoke(
        app,
        [
            "import",
            str(data_dir / "io" / "mastodon_statuses.jsonl"),
            "--store",
            str(tmp_path / "s"),
            "--instance",
            "town.example",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "mastodon" in res.output and "rejected" in res.output
    from netsupport.store import Store

    posts = Store(tmp_path / "s").read("posts", columns=["author"])
    assert "mastodon:dee@town.example" in set(posts["author"])
