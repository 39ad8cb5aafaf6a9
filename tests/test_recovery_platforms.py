"""The planted synthetic case imported from Mastodon, from Telegram, and split across Twitter
and Mastodon (linked by an account map): each run recovers what the Twitter run recovers.

The figures compared (the attention lift, account-level stance shares, reputation, proxies)
depend on who addressed whom, when, and with which text; the platforms carry all of that
(Telegram's sender ids are linked to the usernames texts use by the case's account map). The
prior-tie composition is left out: the follower lists are Twitter files.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from netsupport import synth
from netsupport.schema import Table
from netsupport.store import Store

CONFIG = synth.SynthConfig(seed=5, accounts=1000, interactions=10_000, name="plat")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from netsupport.study import run_study

    folder = tmp_path_factory.mktemp("platforms")
    result = synth.synthesize(folder / "case", CONFIG, platforms=True)
    out = {}
    for name in ("study", "study-mastodon", "study-telegram", "study-cross"):
        run = run_study(result.out_dir / f"{name}.toml", clock=lambda: "2014-03-06T00:00:00Z")
        out[name] = (run.metrics, Store(run.study.store_dir), run.out_dir)
    truth = json.loads((result.out_dir / "truth.json").read_text())
    return truth, out


def _figures(m):
    return {
        "lift": m["attention"]["focal"]["lift"],
        "shares": m["stance_shares"]["focal"]["crisis"]["account_level"],
        "institution_shares": m["stance_shares"]["institution"]["crisis"]["account_level"],
        "reputation": m["reputation"],
    }


@pytest.mark.parametrize("name", ["study-mastodon", "study-telegram", "study-cross"])
def test_each_platform_recovers_what_twitter_recovers(runs, name):
    truth, out = runs
    twitter = _figures(out["study"][0])
    other = _figures(out[name][0])
    assert other == twitter
    lift = other["lift"]
    assert lift["low"] <= truth["attention"]["focal"]["lift"] <= lift["high"]


@pytest.mark.parametrize(
    ("name", "platform"), [("study-mastodon", "mastodon"), ("study-telegram", "telegram")]
)
def test_every_post_imported_once_with_its_platform(runs, name, platform):
    truth, out = runs
    posts = out[name][1].read(Table.POSTS, columns=["platform", "post_id"])
    assert len(posts) == posts["post_id"].nunique() == truth["files"]["unique_posts"]
    assert set(posts["platform"]) == {platform}


def test_proxies_are_the_planted_ones_under_each_platforms_keys(runs):
    truth, out = runs
    planted = truth["proxies"]["handles"]
    for name in ("study-mastodon", "study-cross"):
        top = [r["handle"] for r in out[name][0]["proxies"]["top"][:3]]
        keys = [t.removeprefix("mastodon:").split("@")[0] for t in top]
        assert set(planted) <= set(keys), (name, top)


def test_cross_platform_report_counts_each_platform(runs):
    truth, out = runs
    report = out["study-cross"][2]
    table = pd.read_csv(report / "tables" / "platforms.csv")
    assert table["platform"].tolist() == ["mastodon", "twitter"]
    assert table["posts"].sum() == truth["files"]["unique_posts"]
    assert min(table["posts"]) > 0.4 * truth["files"]["unique_posts"]  # the seeded coin
    html = (report / "index.html").read_text()
    assert "Posts and interactions per platform" in html
    assert "Posts and interactions per platform" not in (out["study"][2] / "index.html").read_text()


def test_without_the_account_map_the_platforms_stay_apart(runs, tmp_path):
    from netsupport.study import run_study

    case = runs[1]["study-cross"][2].parent.parent  # reports/<name> -> the case folder
    text = (case / "study-cross.toml").read_text().replace('account_map = "account-map.csv"\n', "")
    text = text.replace('dir = "reports/', f'dir = "{tmp_path.as_posix()}/')
    study = case / "study-cross-nomap.toml"
    study.write_text(text)
    run = run_study(study, clock=lambda: "2014-03-06T00:00:00Z")
    with_map = runs[1]["study-cross"][0]["attention"]["focal"]["lift"]["value"]
    # the focal account's Mastodon half is another account: its attention is not counted
    assert run.metrics["attention"]["focal"]["lift"]["value"] != with_map
