"""Recovery of a planted synthetic case from its Bluesky and Reddit files (issue #16).

``netsupport synth`` writes the case as Jetstream events and as Pushshift-style zstd dumps too,
with a study file each (netsupport.synth_bsky_reddit). The Bluesky files carry every post one to
one, so the whole run is checked against the planted truth; what differs is only what Bluesky
itself does not have: a repost carries no text, so the mentions inside a retweeted text (which
the Twitter files turn into mention edges) are not there, and measures built on those edges
(the attention lift, the proxies) are compared with the Twitter run's instead of truth.json.
Reddit has no reposts at all: the graph of replies (linked across the two files) and mentions
is checked edge by edge, and stance runs on it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from netsupport import synth
from netsupport.interactions import interactions_from_posts
from netsupport.synth_bsky_reddit import (
    DELETE_EVERY,
    bluesky_did,
    bluesky_post_uri,
    reddit_post_id,
    write_platforms,
)

CONFIG = synth.SynthConfig(seed=7, accounts=2000, interactions=20_000, name="platforms")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("platforms")
    generated = synth.generate(CONFIG)
    synth.write_case(generated, folder)
    write_platforms(generated, folder)  # (what synth --platforms adds for Bluesky and Reddit)
    return generated, folder


def _edges(store) -> list[tuple]:
    t = store.read_arrow("interactions").to_pandas()
    t = t[t["kind"] != "follow"]
    return sorted(zip(t["source"], t["target"], t["kind"], t["post_id"], strict=True))


def _expected(df: pd.DataFrame) -> list[tuple]:
    e = interactions_from_posts(df)
    return sorted(zip(e["source"], e["target"], e["kind"], e["post_id"], strict=True))


@pytest.fixture(scope="module")
def bluesky_run(case):
    from netsupport.study import run_study

    _, folder = case
    run = run_study(folder / "study-bluesky.toml", clock=lambda: "2014-03-06T00:00:00Z")
    return run


def test_bluesky_graph_is_the_planted_one(case, bluesky_run):
    from netsupport.store import Store

    generated, _ = case
    store = Store(bluesky_run.study.store_dir)
    truth = json.loads((case[1] / "truth.json").read_text())
    assert store.counts()["posts"] == truth["files"]["unique_posts"]
    df = synth.canonical_posts(generated)
    key = {
        h: f"bluesky:{bluesky_did(i)}"
        for h, i in zip(generated.handles, generated.account_ids, strict=True)
    }
    kinds = {"post": 0, "reply": 1, "repost": 2, "quote": 3}
    did = {h: bluesky_did(i) for h, i in zip(generated.handles, generated.account_ids, strict=True)}
    uri = {
        pid: bluesky_post_uri(did[a], int(pid), kinds[k])
        for pid, a, k in zip(df["post_id"], df["author"], df["kind"], strict=True)
    }
    df["post_id"] = df["post_id"].map(uri)
    df["author"] = df["author"].map(key)
    df["target_author"] = df["target_author"].map(key)
    df["mentions"] = [
        None if k == "repost" else " ".join(key[h] for h in m.split()) or None
        for k, m in zip(df["kind"], df["mentions"], strict=True)
    ]  # (a Bluesky repost has no text, so no mentions)
    assert _edges(store) == _expected(df)
    follows = store.counts()["follows"]
    assert follows == len(generated.focal_followers) + len(generated.institution_followers)


def test_bluesky_stance_and_communities_recover_the_truth(case, bluesky_run):
    generated, folder = case
    truth = json.loads((folder / "truth.json").read_text())
    m = bluesky_run.metrics
    est = m["stance_shares"]["focal"]["crisis"]["account_level"]["supportive"]["value"]
    planted = truth["stance"]["focal"]["crisis"]["account_level"]["supportive"]
    assert abs(est - planted) <= 0.05, (est, planted)
    key = {
        h: f"bluesky:{bluesky_did(i)}"
        for h, i in zip(generated.handles, generated.account_ids, strict=True)
    }
    planted_c = pd.Series({key[h]: c for h, c in truth["community"].items()})
    from netsupport.outdir import work_dir

    membership = pd.read_parquet(work_dir(bluesky_run.out_dir) / "membership.parquet")
    found = membership.set_index("handle")["community"]
    common = found.index.intersection(planted_c.index)
    assert len(common) >= 0.9 * CONFIG.accounts
    assert normalized_mutual_info_score(planted_c[common], found[common]) >= 0.85
    # support rose for the focal account and fell for the institution, as planted
    rep = m["reputation"]
    assert rep["focal"]["account_level"]["value"] > 0 > rep["institution"]["account_level"]["value"]


def test_bluesky_report_shows_the_handles_beside_the_dids(bluesky_run):
    # the identity events give every DID its handle; the report named accounts by DID alone
    md = (bluesky_run.out_dir / "report.md").read_text(encoding="utf-8").replace("\\_", "_")
    assert "@inspector_lane.bsky.social (bluesky:did:plc:" in md
    amplifiers = md.split("Amplifiers:", 1)[1].split("\n\n", 2)[1]  # (the table after it)
    assert amplifiers.count(".bsky.social (bluesky:did:plc:") >= 3
    # and so do the findings printed after the run
    said = [s for s in bluesky_run.findings if "bluesky:did:plc:" in s]
    assert said
    assert all(".bsky.social (bluesky:did:plc:" in s for s in said)


def test_bluesky_deletes_mark_the_planted_posts_and_remove_none(case, bluesky_run):
    # the generator deletes every post whose id is a multiple of DELETE_EVERY a day later; the
    # store keeps every post (test_bluesky_graph_is_the_planted_one) and marks those, and the
    # report's platforms table counts them
    from netsupport.store import Store

    generated, _ = case
    p = generated.posts
    did = [bluesky_did(i) for i in generated.account_ids.tolist()]
    planted = sorted(
        bluesky_post_uri(did[int(p["author"][i])], int(p["id"][i]), int(p["kind"][i]))
        for i in np.flatnonzero(p["id"] % DELETE_EVERY == 0)
    )
    assert 50 < len(planted) < len(p["id"]) / 50
    store = Store(bluesky_run.study.store_dir)
    rows = store.read_arrow("deletions").to_pylist()
    assert sorted(r["record_id"] for r in rows) == planted
    posted = {u: t for u, t in zip(*_post_times(store), strict=True)}
    assert all((r["deleted_at"] - posted[r["record_id"]]).total_seconds() == 86400 for r in rows)
    table = pd.read_csv(bluesky_run.out_dir / "tables" / "platforms.csv")
    assert table["deleted_later"].tolist() == [len(planted)]
    assert "Deleted later (kept)" in (bluesky_run.out_dir / "index.html").read_text()


def _post_times(store):
    posts = store.read_arrow("posts", ["post_id", "created_at"]).to_pylist()
    return [r["post_id"] for r in posts], [r["created_at"] for r in posts]


def test_reddit_reply_graph_is_the_planted_one(case, tmp_path):
    from netsupport.ingest import import_paths
    from netsupport.store import Store

    generated, folder = case
    store = Store(tmp_path / "s")
    s = import_paths(
        store, [folder / "northshire_comments.zst", folder / "northshire_submissions.zst"]
    )
    df = synth.canonical_posts(generated)
    kind = df["kind"].to_numpy()
    assert s.total("posts") == int((kind != "repost").sum()) and s.total("rejects") == 0
    p = generated.posts
    ref, kinds = p["ref"], p["kind"]
    handles = np.array(generated.handles, dtype=object)
    rows = []
    for i in np.flatnonzero(kinds != 2):
        a = f"reddit:{handles[p['author'][i]].lower()}"
        pid = reddit_post_id(int(p["id"][i]), 0 if ref[i] < 0 else 1)
        r = int(ref[i])
        if r >= 0:
            if kinds[r] == 2:
                r = int(ref[r])
            t = f"reddit:{handles[p['author'][r]].lower()}"
            if t != a:
                rows.append((a, t, "reply", pid))
        for _, _, m in p["entities"].mentions(int(i)):
            t = f"reddit:{handles[m].lower()}"
            if t != a:
                rows.append((a, t, "mention", pid))
    assert _edges(store) == sorted(set(rows))


def test_stance_runs_on_the_reddit_thread(case, tmp_path):
    from netsupport.ingest import import_paths
    from netsupport.stance import stance_table
    from netsupport.stance.tables import read_tables
    from netsupport.store import Store
    from netsupport.studyfile import load_study

    _, folder = case
    store = Store(tmp_path / "s")
    import_paths(store, [folder / "northshire_submissions.zst", folder / "northshire_comments.zst"])
    study = load_study(folder / "study-reddit.toml")
    result = stance_table(read_tables(store.root), study, workers=1)
    shares = result.table["stance"].value_counts(normalize=True)
    assert len(result.table) > 500 and shares.get("supportive", 0) > 0.2
