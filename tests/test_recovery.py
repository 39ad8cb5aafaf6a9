"""Recovery of a planted synthetic case by the whole pipeline (issue 7 acceptance).

One generated case (5,000 accounts, 100,000 posts, seed 7) goes through ``run_study`` exactly as
``netsupport run`` would: every input file imported with its importer (JSONL pages, archive zip,
NodeXL CSV, follower lists, accounts), stance classified, communities detected, metrics
computed, report written. The tests then compare what netsupport reports with what the
generator planted (``truth.json``); see docs/case-study.md for the same comparison on the
shipped example.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from netsupport import synth
from netsupport.schema import Table

CONFIG = synth.SynthConfig(seed=7, accounts=5000, interactions=100_000, name="recovery")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recovered(tmp_path_factory):
    """Generate the case, run the study, return (truth, metrics, membership, store)."""
    from netsupport.outdir import work_dir
    from netsupport.store import Store
    from netsupport.study import run_study

    folder = tmp_path_factory.mktemp("recovery")
    result = synth.synthesize(folder / "case", CONFIG)
    run = run_study(result.study, clock=lambda: "2014-03-06T00:00:00Z")
    truth = json.loads((folder / "case" / "truth.json").read_text())
    membership = pd.read_parquet(work_dir(run.out_dir) / "membership.parquet")
    return (
        truth,
        run.metrics,
        membership.set_index("handle")["community"],
        Store(run.study.store_dir),
    )


def test_every_post_imported_once(recovered):
    truth, _, _, store = recovered
    posts = store.read(Table.POSTS, columns=["post_id"])
    # the JSONL, the archive and the NodeXL file overlap; de-duplication keeps one of each
    assert len(posts) == posts["post_id"].nunique() == truth["files"]["unique_posts"]


def test_baseline_communities_match_the_planted_ones(recovered):
    truth, _, membership, _ = recovered
    planted = pd.Series(truth["community"])
    common = membership.index.intersection(planted.index)
    assert len(common) >= 0.95 * CONFIG.accounts  # nearly everyone is in the baseline graph
    nmi = normalized_mutual_info_score(planted[common], membership[common])
    assert nmi >= 0.9, f"NMI {nmi:.3f}"


def test_account_level_supportive_share_is_recovered(recovered):
    truth, metrics, _, _ = recovered
    est = metrics["stance_shares"]["focal"]["crisis"]["account_level"]["supportive"]["value"]
    planted = truth["stance"]["focal"]["crisis"]["account_level"]["supportive"]
    assert abs(est - planted) <= 0.05, (est, planted)


def test_planted_lift_is_inside_the_reported_interval(recovered):
    truth, metrics, _, _ = recovered
    lift = metrics["attention"]["focal"]["lift"]
    planted = truth["attention"]["focal"]["lift"]
    assert lift["low"] <= planted <= lift["high"], (lift, planted)
    assert planted > 4


def test_both_proxies_are_among_the_top_three(recovered):
    truth, metrics, _, _ = recovered
    top3 = [row["handle"] for row in metrics["proxies"]["top"][:3]]
    for proxy in truth["proxies"]["handles"]:
        assert proxy in top3, (proxy, top3)


def test_reputation_falls_for_the_institution_and_rises_for_the_focal_account(recovered):
    _, metrics, _, _ = recovered
    institution = metrics["reputation"]["institution"]["account_level"]
    focal = metrics["reputation"]["focal"]["account_level"]
    assert institution["value"] < 0 and institution["high"] < 0
    assert focal["value"] > 0


def test_media_mention_the_focal_account_after_citizens(recovered):
    truth, metrics, _, _ = recovered
    roles = metrics["roles"]["focal"]
    citizen = roles["citizen"]["first_mention"]["hours_after_crisis_start"]
    media = min(
        roles[r]["first_mention"]["hours_after_crisis_start"] for r in ("media", "journalist")
    )
    assert citizen < media
    assert media == pytest.approx(truth["first_mention"]["media_or_journalist_hours"], abs=0.01)


def test_support_came_mostly_from_prior_ties(recovered):
    truth, metrics, _, _ = recovered
    share = metrics["composition"]["prior_tie_share"]
    assert share["value"] > 0.5
    assert abs(share["value"] - truth["composition"]["prior_tie_share"]) <= 0.05


def test_attention_stays_above_baseline_after_the_crisis(recovered):
    truth, metrics, _, _ = recovered
    ratio = metrics["persistence"]["focal"]["attention_ratio"]
    assert ratio["low"] > 1
    assert ratio["low"] <= truth["attention"]["focal"]["after_ratio"] <= ratio["high"]


def test_report_written(recovered):
    store = recovered[3]
    out = Path(store.root).parent  # the work folder <out>.netsupport beside the report
    out = out.with_name(out.name.removesuffix(".netsupport"))
    assert (out / "index.html").exists() and (out / "metrics.json").exists()
