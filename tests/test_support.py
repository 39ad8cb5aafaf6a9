"""Support metrics on the hand fixture (tests/data/support_fixture), every value worked out by hand.

The case (focal @lane, institution @force; windows: baseline 2014-02-10..14 = 4 days, crisis
02-14..16 = 2 days, after 02-16..20 = 4 days). Stance of each post addressing a side (rule):

focal, baseline (4 posts, 4 accounts)       focal, crisis (11 posts, 9 accounts)
  P05 a  supportive (thank you for)            C01 j  neutral (statement)     C07 e  supportive
  P06 b  supportive (great work)               C02 m  neutral (breaking)      C08 n1 supportive
  P07 c  critical   (should resign)            C03 a  supportive (victim)     C09 n2 supportive
  P08 d  neutral    (statement)                C04 a  supportive              C10 n2 critical
                                               C05 b  supportive              C11 c  critical
focal, after (3 posts): A02 a sup, A03 n1 sup, C12 f  supportive (repost of @lane's L1)
  A04 c critical
institution, baseline: P04 d neutral, P09 h supportive
institution, crisis:   C03 a critical, C06 b critical, C19 h critical, C20 c supportive
institution, after:    A05 d neutral

Account majorities in the crisis (focal): a, b, e, n1, f supportive; n2 tie (1 sup, 1 crit) ->
neutral; c critical; j, m neutral  => 5 supportive, 1 critical, 3 neutral of 9.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import load_support_fixture, support_fixture_study
from scipy.stats import beta, binom

from netsupport.interactions import interactions_from_posts
from netsupport.stance import stance_table
from netsupport.support import (
    account_roles,
    amplifiers,
    analyse,
    attention,
    breadth,
    community_mobilisation,
    compute_metrics,
    focal_silence,
    headline_rows,
    majority_stance,
    post_units,
    prior_ties,
    proportion_ci,
    proxies,
    rate_ratio,
    stance_shares,
    supporter_composition,
    supporters,
)
from netsupport.support.shares import _Cells
from netsupport.textsafe import dumps_json
from netsupport.windows import Windows

# Baseline communities, as if detected (the metric functions take membership as an argument).
MEMBERSHIP = pd.Series(
    {"a": 0, "b": 0, "f": 0, "g": 0, "lane": 0, "c": 1, "d": 1, "force": 1, "h": 1, "e": 2, "x1": 2}
)
# A hand-made PageRank on the crisis graph (amplifiers only rank and annotate it).
PAGERANK = pd.Series(
    {"lane": 0.30, "a": 0.20, "force": 0.15, "e": 0.10, "b": 0.10, "n1": 0.05, "j": 0.05}
)
NM = "not measured"


@pytest.fixture(scope="module")
def analysis():
    return analyse(
        load_support_fixture(), support_fixture_study(), membership=MEMBERSHIP, pagerank=PAGERANK
    )


@pytest.fixture(scope="module")
def m(analysis):
    return analysis.metrics


def test_fixture_interactions_are_what_the_posts_imply():
    # guards the fixture itself: interactions.csv is exactly what interactions_from_posts derives
    t = load_support_fixture()
    derived = interactions_from_posts(t["posts"])
    key = ["post_id", "source", "target", "kind"]
    a = derived[key].sort_values(key).reset_index(drop=True)
    b = t["interactions"][key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.astype(object), b.astype(object))
    assert len(b) == 36


def test_units_one_per_post_and_side(analysis):
    u = analysis.units
    # 4 + 11 + 3 focal and 2 + 4 + 1 institution posts (C03 counts once for each side)
    assert (u["target_side"] == "focal").sum() == 18
    assert (u["target_side"] == "institution").sum() == 7
    c03 = u[u["post_id"] == "C03"].set_index("target_side")["stance"].to_dict()
    assert c03 == {"focal": "supportive", "institution": "critical"}


def test_attention_and_lift(m):
    f = m["attention"]["focal"]
    # baseline 4 posts / 4 days; crisis 11 / 2; after 3 / 4
    assert f["baseline"]["interactions_per_day"] == 1.0
    assert f["crisis"]["interactions"] == 11 and f["crisis"]["interactions_per_day"] == 5.5
    assert f["crisis"]["accounts"] == 9 and f["crisis"]["accounts_per_day"] == 4.5
    assert f["after"]["interactions_per_day"] == 0.75
    # lift = (11/2)/(4/4) = 5.5. Exact interval: given 15 posts, crisis count ~ Bin(15, p) with
    # RR = p/(1-p) * t0/t1 = 2p/(1-p). Clopper-Pearson: pL = Beta(0.025; 11, 5) = 0.448997,
    # pU = Beta(0.975; 12, 4) = 0.922128  =>  RR in [2*0.448997/0.551003, 2*0.922128/0.077872]
    # = [1.629743, 23.683322]
    lift = f["lift"]
    assert lift["value"] == 5.5
    assert lift["low"] == pytest.approx(1.629743, abs=1e-6)
    assert lift["high"] == pytest.approx(23.683322, abs=1e-6)
    pl, pu = beta.ppf(0.025, 11, 5), beta.ppf(0.975, 12, 4)
    assert lift["low"] == pytest.approx(2 * pl / (1 - pl), abs=1e-6)
    assert lift["high"] == pytest.approx(2 * pu / (1 - pu), abs=1e-6)
    # institution: (4/2)/(2/4) = 4.0, pL = Beta(0.025; 4, 3), pU = Beta(0.975; 5, 2)
    li = m["attention"]["institution"]["lift"]
    assert li["value"] == 4.0
    pl, pu = beta.ppf(0.025, 4, 3), beta.ppf(0.975, 5, 2)
    assert li["low"] == pytest.approx(2 * pl / (1 - pl), abs=1e-6)
    assert li["high"] == pytest.approx(2 * pu / (1 - pu), abs=1e-6)


def test_rate_ratio_edge_cases():
    # zero in the numerator is a finding (RR 0, upper bound finite); zero in the reference is not
    r = rate_ratio(0, 2.0, 5, 4.0)
    assert r["value"] == 0.0 and r["low"] == 0.0 and 0 < r["high"] < math.inf
    assert rate_ratio(3, 2.0, 0, 4.0)["status"] == NM
    assert rate_ratio(3, 0.0, 1, 4.0)["status"] == NM


def test_stance_shares_post_and_account_level(m):
    c = m["stance_shares"]["focal"]["crisis"]
    # post level: 7 supportive, 2 critical, 2 neutral of 11 -> net (7-2)/11 = 0.454545
    p = c["post_level"]
    assert p["n"] == 11
    assert p["supportive"]["value"] == pytest.approx(7 / 11, abs=1e-6)
    assert p["critical"]["value"] == pytest.approx(2 / 11, abs=1e-6)
    assert p["net_support"]["value"] == pytest.approx(5 / 11, abs=1e-6)
    # account level: 5 supportive, 1 critical, 3 neutral of 9 -> net 4/9 = 0.444444
    a = c["account_level"]
    assert a["n"] == 9
    assert a["supportive"]["value"] == pytest.approx(5 / 9, abs=1e-6)
    assert a["neutral"]["value"] == pytest.approx(3 / 9, abs=1e-6)
    assert a["net_support"]["value"] == pytest.approx(4 / 9, abs=1e-6)
    # Resampling 9 accounts with replacement, the supportive count is Bin(9, 5/9), so the 95%
    # percentile interval of the account-level share is [F^-1(0.025), F^-1(0.975)] / 9
    # = [2/9, 8/9] = [0.222222, 0.888889]; for critical Bin(9, 1/9): [0, 3/9].
    assert a["supportive"]["low"] == pytest.approx(binom.ppf(0.025, 9, 5 / 9) / 9, abs=1 / 18)
    assert a["supportive"]["high"] == pytest.approx(binom.ppf(0.975, 9, 5 / 9) / 9, abs=1 / 18)
    assert a["critical"]["low"] == pytest.approx(0.0, abs=1 / 18)
    assert a["critical"]["high"] == pytest.approx(3 / 9, abs=1 / 18)
    # baseline: 2 sup, 1 crit, 1 neutral of 4 posts (= 4 accounts): net 0.25 at both levels
    b = m["stance_shares"]["focal"]["baseline"]
    assert b["post_level"]["net_support"]["value"] == 0.25
    assert b["account_level"]["net_support"]["value"] == 0.25


def test_bootstrap_over_profiles_equals_plain_resampling_of_accounts(analysis):
    # The bootstrap draws multinomial counts of identical account profiles; that must match
    # resampling account rows with replacement. Brute force, 4000 resamples, different seed.
    units = analysis.units
    crisis = units[(units["target_side"] == "focal") & (units["window"] == "crisis")]
    counts = (
        crisis.groupby(["source", "stance"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=["supportive", "critical", "neutral"], fill_value=0)
        .to_numpy()
    )
    rng = np.random.default_rng(123)
    idx = rng.integers(0, len(counts), size=(4000, len(counts)))
    totals = counts[idx].sum(axis=1)
    net = (totals[:, 0] - totals[:, 1]) / totals.sum(axis=1)
    lo, hi = np.percentile(net, [2.5, 97.5])
    got = stance_shares(units, "focal", "crisis", n_boot=4000, seed=7)["post_level"]["net_support"]
    assert got["low"] == pytest.approx(lo, abs=0.05)
    assert got["high"] == pytest.approx(hi, abs=0.05)


def test_profiles_compress_accounts():
    units = pd.DataFrame(
        {
            "source": ["a", "b", "c", "c"],
            "target_side": ["focal"] * 4,
            "window": ["crisis"] * 4,
            "stance": ["supportive", "supportive", "critical", "critical"],
        }
    )
    cells = _Cells.build(units, [("focal", "crisis")])
    # a and b share the profile (1, 0, 0); c is (0, 2, 0)
    assert cells.n_accounts == 3
    assert sorted(cells.freq.tolist()) == [1, 2]


def test_majority_tie_is_neutral():
    c = pd.DataFrame(
        {"supportive": [1, 2, 0], "critical": [1, 0, 0], "neutral": [0, 2, 1]},
        index=["x", "y", "z"],
    )
    assert majority_stance(c).tolist() == ["neutral", "neutral", "neutral"]


def test_reputational_change_focal_beside_institution(m):
    rep = m["reputation"]
    # focal: account-level net 4/9 (crisis) - 1/4 (baseline) = 7/36 = 0.194444;
    #        post-level 5/11 - 1/4 = 9/44 = 0.204545
    assert rep["focal"]["account_level"]["value"] == pytest.approx(7 / 36, abs=1e-6)
    assert rep["focal"]["post_level"]["value"] == pytest.approx(9 / 44, abs=1e-6)
    # accounts resampled: baseline {a,b,c,d} U crisis {a,b,c,e,f,j,m,n1,n2} = 10
    assert rep["focal"]["accounts"] == 10
    # institution: net crisis (1-3)/4 = -0.5, baseline (1-0)/2 = 0.5 -> change -1.0
    assert rep["institution"]["account_level"]["value"] == -1.0
    # gap = focal change - institution change = 7/36 + 1 = 1.194444
    assert rep["gap"]["account_level"]["value"] == pytest.approx(1 + 7 / 36, abs=1e-6)
    for block in (rep["focal"], rep["institution"], rep["gap"]):
        for level in ("post_level", "account_level"):
            ci = block[level]
            assert ci["low"] <= ci["value"] <= ci["high"]


def test_reputational_change_degenerate_interval_is_a_point():
    # every account supportive in both windows: every resample has net 1 - 1 = 0
    units = pd.DataFrame(
        {
            "post_id": list("123456"),
            "source": list("abcabc"),
            "target_side": ["focal"] * 6,
            "window": ["baseline"] * 3 + ["crisis"] * 3,
            "stance": ["supportive"] * 6,
        }
    )
    from netsupport.support import reputational_change

    r = reputational_change(units, "focal", n_boot=200, seed=1)
    assert r["account_level"] == {"value": 0.0, "low": 0.0, "high": 0.0}


def test_supporter_composition_prior_ties(m, analysis):
    comp = m["composition"]
    # supporters (majority supportive in the crisis): a, b, e, f, n1
    # prior ties: a follows @lane (no observation time) AND replied in baseline -> both;
    #             b mentioned @lane in baseline -> interaction only; e follows -> follow only;
    #             n1's follow was observed 2014-02-15, after the crisis start -> not prior;
    #             f interacted with a, never with @lane -> newcomer.
    assert comp["supporters"] == 5
    assert comp["prior_tie"] == 3 and comp["newcomers"] == 2
    assert comp["tie_kind"] == {"both": 1, "follow_only": 1, "interaction_only": 1}
    assert comp["follow_observed_later"] == 1
    # prior-tie share 3/5 = 0.6, Clopper-Pearson [Beta(0.025; 3, 3), Beta(0.975; 4, 2)]
    # = [0.146633, 0.947255]
    share = comp["prior_tie_share"]
    assert share["value"] == 0.6
    assert share["low"] == pytest.approx(beta.ppf(0.025, 3, 3), abs=1e-6)
    assert share["high"] == pytest.approx(beta.ppf(0.975, 4, 2), abs=1e-6)
    assert share["low"] == pytest.approx(0.146633, abs=1e-6)
    sup = analysis.tables["supporters"].set_index("handle")
    assert sup.loc["n1", "follow_later"] and not sup.loc["n1", "prior_tie"]


def test_prior_ties_see_the_focal_replying_to_an_account():
    # @lane replied to g in the baseline (L2): g has an interaction tie though g never wrote
    t = load_support_fixture()
    s = support_fixture_study()
    ties = prior_ties(["g", "f"], s.focal, t["follows"], t["interactions"], s.windows)
    assert ties.loc["g", "interaction"] and not ties.loc["f", "prior_tie"]


def test_community_mobilisation_per_community(m, analysis):
    rows = {r["community"]: r for r in m["mobilisation"]["communities"]}
    # community 0 = {a, b, f, g, lane}: crisis active a, b, f (3 of 5 = 0.6), all supporters
    # (supportive share 3/3); crisis posts a 2 + b 1 + f 1 = 4, baseline a 1 + b 1 = 2
    # lift (4/2)/(2/4) = 4.0
    c0 = rows[0]
    assert (c0["members"], c0["active"], c0["supporters"]) == (5, 3, 3)
    assert c0["share_active"] == 0.6 and c0["supportive_share"] == 1.0
    assert (c0["crisis_interactions"], c0["baseline_interactions"]) == (4, 2)
    assert c0["lift"]["value"] == 4.0
    # community 1 = {c, d, force, h}: only c active (1/4 = 0.25), critical (supportive share 0);
    # crisis 1 post, baseline c 1 + d 1 = 2 -> lift (1/2)/(2/4) = 1.0
    c1 = rows[1]
    assert (c1["members"], c1["active"], c1["supporters"]) == (4, 1, 0)
    assert c1["share_active"] == 0.25 and c1["supportive_share"] == 0.0
    assert c1["lift"]["value"] == 1.0
    # community 2 = {e, x1}: e active and supportive (1/2); no baseline post -> lift unbounded
    c2 = rows[2]
    assert c2["share_active"] == 0.5 and c2["supportive_share"] == 1.0
    assert c2["lift"]["status"] == NM
    # outside the baseline graph: j, m, n1, n2 active; n1 a supporter
    assert m["mobilisation"]["outside_baseline_graph"] == {"active": 4, "supporters": 1}
    assert m["mobilisation"]["n_communities"] == 3
    table = analysis.tables["communities"]
    assert table["lift"].isna().tolist() == [False, False, True]


def test_breadth(m):
    b = m["breadth"]
    # supporters by community: 0 -> a, b, f (3); 2 -> e (1); n1 outside.  k = 2
    # entropy = -(3/4 ln 3/4 + 1/4 ln 1/4) = 0.562335; normalised by ln 2 -> 0.811278
    assert b["k"] == 2
    assert b["communities_with_k_supporters"] == 1
    assert b["communities_with_supporters"] == 2
    assert b["entropy"] == pytest.approx(0.562335, abs=1e-6)
    assert b["normalised_entropy"] == pytest.approx(0.811278, abs=1e-6)
    assert (b["supporters_in_communities"], b["supporters_outside"]) == (4, 1)


def test_breadth_one_community_is_zero_evenness_and_none_is_not_measured():
    mem = pd.Series({"a": 0, "b": 0})
    assert breadth(mem, pd.Index(["a", "b"]), k=1)["normalised_entropy"] == 0.0
    assert breadth(mem, pd.Index([]), k=1)["status"] == NM
    assert breadth(mem, pd.Index(["zz"]), k=1)["status"] == NM


def test_amplifiers(m):
    top = m["amplifiers"]["top"]
    # @lane and @force are excluded; a (0.20) first, then b and e tie at 0.10 -> by handle
    assert [r["handle"] for r in top] == ["a", "b", "e", "j", "n1"]
    assert [r["rank"] for r in top] == [1, 2, 3, 4, 5]
    a = top[0]
    assert (a["role"], a["community"], a["crisis_posts_about_focal"], a["stance"]) == (
        "citizen",
        0,
        2,
        "supportive",
    )
    assert top[3]["role"] == "journalist" and top[3]["community"] is None
    assert m["amplifiers"]["focal_pagerank"] == 0.3


def test_focal_silence(m):
    s = m["silence"]
    # @lane posts 02-12 10:00, 02-13 12:00, 02-17 12:00: the gap overlapping the crisis is
    # 02-13 12:00 -> 02-17 12:00 = 96 h, covering all 48 h of the crisis
    assert (s["start"], s["end"]) == ("2014-02-13T12:00:00Z", "2014-02-17T12:00:00Z")
    assert s["hours"] == 96.0 and s["crisis_overlap_hours"] == 48.0
    assert not s["censored_start"] and not s["censored_end"]
    assert s["focal_posts"] == 3


def test_proxies(m):
    p = m["proxies"]
    # supportive posts about @lane in the silence: a 2, b 1, e 1, n1 1, n2 1, f 1 = 7.
    # reach: a's C04 reposted by p1, p2 and replied to by p3 -> 3; b's C05 reposted by p1 (b's
    # own reply does not count) -> 1; e's C07 reposted by p4 -> 1; n1, n2, f: 0 (not proxies).
    # b and e tie on reach and posts -> by handle.
    assert p["supportive_posts"] == 7
    assert [(r["handle"], r["reach"], r["supportive_posts"]) for r in p["top"]] == [
        ("a", 3, 2),
        ("b", 1, 1),
        ("e", 1, 1),
    ]
    assert p["candidates"] == 3
    assert [r["declared"] for r in p["top"]] == [False, True, False]  # study declares b
    assert p["declared"] == [{"handle": "b", "reach": 1, "supportive_posts": 1}]
    assert m["headline"]["top_proxy"] == {"handle": "a", "reach": 3}


def test_proxies_not_measured_without_post_references(analysis):
    t = load_support_fixture()
    posts = t["posts"].assign(target_post_id=None)
    s = support_fixture_study()
    silence = focal_silence(posts, s.focal, s.windows)
    assert proxies(analysis.units, posts, silence, focal=s.focal)["status"] == NM


def test_roles_attention_and_first_mention(m):
    r = m["roles"]["focal"]
    # roles: j journalist (accounts CSV), m media ("news"), b professional ("nurse"),
    # d professional ("retired police sergeant"), a and e citizens (bios without keywords),
    # c, f, n1, n2 unknown (no bio).  Crisis posts: journalist 1 (01:00), media 1 (02:00),
    # citizen 3 (a 03:00, 05:00; e 08:00), professional 1 (b 06:00), unknown 5 (first n1 10:00)
    assert r["journalist"]["first_mention"]["hours_after_crisis_start"] == 1.0
    assert r["media"]["first_mention"]["at"] == "2014-02-14T02:00:00Z"
    assert r["citizen"]["first_mention"]["hours_after_crisis_start"] == 3.0
    assert r["professional"]["first_mention"]["hours_after_crisis_start"] == 6.0
    assert r["unknown"]["first_mention"]["hours_after_crisis_start"] == 10.0
    assert r["citizen"]["crisis"] == {"interactions": 3, "accounts": 2}
    assert r["citizen"]["crisis_share"] == pytest.approx(3 / 11, abs=1e-6)
    assert r["professional"]["baseline"] == {"interactions": 2, "accounts": 2}
    # unknown crisis accounts c (critical), f (sup), n1 (sup), n2 (tie -> neutral): 2/4
    assert r["unknown"]["supportive_account_share"] == 0.5
    assert "institution" not in r  # the force never addresses @lane


def test_account_roles_order_and_given_role():
    acc = pd.DataFrame(
        {
            "handle": ["x", "y", "z", "w"],
            "description": ["BBC news reporter", "Official account of Northshire Police", "", None],
            "role": [None, None, None, "journalist"],
        }
    )
    from netsupport.stance import load_lexicon

    roles = account_roles(acc, load_lexicon(), institution=["q"], handles=["q"])
    # institution keywords are checked first, then media ("news") before journalist
    assert roles.to_dict() == {
        "q": "institution",
        "w": "journalist",
        "x": "media",
        "y": "institution",
        "z": "unknown",
    }


def test_persistence(m):
    p = m["persistence"]["focal"]
    # after 3 posts / 4 days vs baseline 4 / 4 -> 0.75; net after (2-1)/3 - 0.25 = 1/12
    assert p["attention_ratio"]["value"] == 0.75
    assert p["net_support_change"]["account_level"]["value"] == pytest.approx(1 / 12, abs=1e-6)
    pi = m["persistence"]["institution"]
    # institution: after 1 / 4 vs 2 / 4 -> 0.5; net after 0 - baseline 0.5 = -0.5
    assert pi["attention_ratio"]["value"] == 0.5
    assert pi["net_support_change"]["post_level"]["value"] == -0.5


def test_headline_and_rows(m):
    h = m["headline"]
    assert h["attention_lift"]["focal"]["value"] == 5.5
    assert h["reputational_change"]["institution"]["value"] == -1.0
    rows = headline_rows(m)
    assert rows[0][0].startswith("Attention lift") and rows[0][1].startswith("5.50 [1.63, 23.68]")
    assert any(r[0] == "Top proxy during the silence" and "@a" in r[1] for r in rows)


def _tie_metrics(dated_prior_tie: int) -> dict:
    """Hand metrics: 58 of 87 supporters with a prior tie (67%), ``dated_prior_tie`` dated."""
    share = {"value": 58 / 87, "low": 0.58, "high": 0.75}
    dated = {"value": 34 / 87, "low": 0.31, "high": 0.48}
    groups = {"supportive": {"accounts": 87, "prior_tie": dated_prior_tie, "share": dated}}
    return {
        "headline": {"prior_tie_share": share},
        "composition": {"supporters": 87, "prior_tie": 58, "prior_tie_share": share},
        "comparisons": {"prior_ties": {"variants": {"dated_ties": {"groups": groups}}}},
    }


def test_headline_rows_prior_tie_carries_the_undated_follow_caveat():
    # 24 of the 58 ties rest only on a follow without a date: `netsupport support` printed
    # "67% [58%, 75%]" alone while the report's headline said 39% counting dated ties only
    rows = dict((r[0], r[1:]) for r in headline_rows(_tie_metrics(34)))
    assert rows["Supporters with a prior tie"] == (
        "67% [58%, 75%]; 39% [31%, 48%] counting dated ties only",
        "",
    )


def test_headline_rows_prior_tie_without_undated_ties_is_unchanged():
    # every tie dated (58 of 58): no caveat, the row as before
    rows = dict((r[0], r[1:]) for r in headline_rows(_tie_metrics(58)))
    assert rows["Supporters with a prior tie"] == ("67% [58%, 75%]", "")


def test_metrics_are_deterministic_and_json_stable():
    t, s = load_support_fixture(), support_fixture_study()
    one = compute_metrics(t, s, membership=MEMBERSHIP, pagerank=PAGERANK)
    two = compute_metrics(t, s, membership=MEMBERSHIP, pagerank=PAGERANK)
    assert dumps_json(one) == dumps_json(two)
    text = dumps_json(one)
    assert "NaN" not in text and "Infinity" not in text
    # the seed matters: another seed moves some bootstrap bound
    other = compute_metrics(
        t,
        support_fixture_study(
            support=s.support.__class__(bootstrap=4000, seed=8, breadth_min_supporters=2)
        ),
        membership=MEMBERSHIP,
        pagerank=PAGERANK,
    )
    assert dumps_json(other["reputation"]) != dumps_json(one["reputation"])


def test_all_floats_are_rounded_to_six_places(m):
    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from walk(v)
        elif isinstance(x, list):
            for v in x:
                yield from walk(v)
        elif isinstance(x, float):
            yield x

    assert all(round(v, 6) == v for v in walk(m))


# ---- not measured --------------------------------------------------------------------------------


def test_no_institution_given():
    t = load_support_fixture()
    m = compute_metrics(
        t, support_fixture_study(institution=()), membership=MEMBERSHIP, pagerank=PAGERANK
    )
    for section in ("attention", "stance_shares", "persistence", "roles"):
        assert m[section]["institution"]["status"] == NM
        assert "no institution account given" in m[section]["institution"]["reason"]
    assert m["reputation"]["institution"]["status"] == NM
    assert m["reputation"]["gap"]["status"] == NM
    assert m["attention"]["focal"]["lift"]["value"] == 5.5  # the focal side is unaffected
    # without an institution, "Shame on @force ..." is no longer two-target: @force is a third
    # party, and the victim rule still makes C03 supportive of @lane
    assert m["stance_shares"]["focal"]["crisis"]["post_level"]["n"] == 11


def test_focal_never_appears():
    t = load_support_fixture()
    m = compute_metrics(
        t, support_fixture_study(focal=("ghost",)), membership=MEMBERSHIP, pagerank=PAGERANK
    )
    reason = m["attention"]["focal"]["reason"]
    assert m["attention"]["focal"]["status"] == NM and "@ghost never appear" in reason
    for key in ("composition", "mobilisation", "breadth", "amplifiers", "silence", "proxies"):
        assert m[key]["status"] == NM, key
    assert m["headline"]["attention_lift"]["focal"]["status"] == NM
    assert m["attention"]["institution"]["lift"]["value"] == 4.0


def test_empty_window_is_not_measured_not_zero():
    t = load_support_fixture()
    # the after window moved to 2014-03-01..05, where the data hold nothing at all
    w = Windows(
        pd.Timestamp("2014-02-10", tz="UTC"),
        pd.Timestamp("2014-02-14", tz="UTC"),
        pd.Timestamp("2014-03-01", tz="UTC"),
        pd.Timestamp("2014-03-05", tz="UTC"),
    )
    m = compute_metrics(
        t, support_fixture_study(windows=w), membership=MEMBERSHIP, pagerank=PAGERANK
    )
    assert m["coverage"]["after"] == {"covered": False, "rows": 0}
    after = m["attention"]["focal"]["after"]
    assert after["status"] == NM and "does not cover it" in after["reason"]
    assert m["persistence"]["focal"]["status"] == NM
    assert m["stance_shares"]["focal"]["after"]["status"] == NM


def test_zero_length_baseline_is_not_measured():
    t = load_support_fixture()
    s = support_fixture_study(
        windows=Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 0, 4)
    )
    m = compute_metrics(t, s, membership=MEMBERSHIP, pagerank=PAGERANK)
    assert "zero length" in m["attention"]["focal"]["baseline"]["reason"]
    assert m["attention"]["focal"]["lift"]["status"] == NM
    assert m["reputation"]["focal"]["status"] == NM


def test_window_with_data_but_no_posts_about_the_side_is_a_measured_zero():
    # data cover the after window, but nobody addresses the institution there except d; drop A05
    t = load_support_fixture()
    t["posts"] = t["posts"][t["posts"]["post_id"] != "A05"]
    t["interactions"] = t["interactions"][t["interactions"]["post_id"] != "A05"]
    m = compute_metrics(t, support_fixture_study(), membership=MEMBERSHIP, pagerank=PAGERANK)
    after = m["attention"]["institution"]["after"]
    assert after["interactions"] == 0 and after["interactions_per_day"] == 0.0
    assert m["stance_shares"]["institution"]["after"]["status"] == NM  # no accounts to share
    assert m["persistence"]["institution"]["attention_ratio"]["value"] == 0.0


# ---- orchestration with the real graph and community modules ------------------------------------


def test_analyse_detects_communities_and_pagerank():
    import networkx as nx

    from netsupport import graph

    t, s = load_support_fixture(), support_fixture_study()
    a = analyse(t, s)
    mob = a.metrics["mobilisation"]
    # the study default is auto, which takes python-louvain on a graph this small
    assert mob["algorithm"] == "auto" and mob["engine"] == "louvain"
    assert mob["n_communities"] >= 2
    members = sum(c["members"] for c in mob["communities"])
    # baseline graph: the 12 baseline interactions plus the two structural follows (a, e -> lane;
    # x1 -> e): nodes a b c d e f force g h lane x1
    assert members == 11
    # PageRank equals networkx on the same aggregated crisis repost/quote/mention edges of the
    # posts that address @lane or @force (the conversation about the sides)
    crisis = graph.window_interactions(t["interactions"], s.windows, "crisis")
    about = crisis["post_id"].isin(crisis.loc[crisis["target"].isin(["lane", "force"]), "post_id"])
    edges = graph.aggregate_edges(crisis[about], kinds=["repost", "quote", "mention"])
    G = nx.DiGraph()
    for r in edges.itertuples():
        G.add_edge(r.source, r.target, weight=r.weight)
    pr = nx.pagerank(G, weight="weight", tol=1e-12)
    top = a.metrics["amplifiers"]["top"][0]
    assert top["pagerank"] == pytest.approx(pr[top["handle"]], abs=1e-6)
    expected = sorted((h for h in pr if h not in ("lane", "force")), key=lambda h: (-pr[h], h))
    assert [r["handle"] for r in a.metrics["amplifiers"]["top"]] == expected[:10]


def test_stance_override_by_labels_and_agreement(tmp_path):
    t = load_support_fixture()
    labels = tmp_path / "labels.csv"
    # hand codes: C10 (auto critical) is really supportive; C01 agrees (neutral); C03 focal agrees
    labels.write_text(
        "post_id,target_side,stance\nC10,focal,supportive\nC01,,neutral\nC03,focal,supportive\n"
    )
    s = support_fixture_study()
    s = support_fixture_study(stance=s.stance.__class__(labels=labels))
    res = stance_table(t, s)
    row = res.table[res.table["post_id"] == "C10"].iloc[0]
    assert (row["stance"], row["rule"]) == ("supportive", "label")
    # agreement before the override: 2 of 3 units agree
    assert res.agreement["n"] == 3 and res.agreement["accuracy"] == pytest.approx(2 / 3)
    m = compute_metrics(t, s, stance=res, membership=MEMBERSHIP, pagerank=PAGERANK)
    # n2 now has 2 supportive posts -> 6 supportive accounts of 9
    assert m["stance_shares"]["focal"]["crisis"]["account_level"]["supportive"]["value"] == (
        pytest.approx(6 / 9, abs=1e-6)
    )
    assert m["stance"]["by_rule"]["label"] == 3


def test_proportion_ci_zero_cases():
    assert proportion_ci(0, 0)["status"] == NM
    p = proportion_ci(0, 5)
    assert (
        p["value"] == 0.0 and p["low"] == 0.0 and p["high"] == pytest.approx(1 - 0.025 ** (1 / 5))
    )


def test_units_prefer_label_then_repost():
    st = pd.DataFrame(
        {
            "post_id": ["1", "1", "1"],
            "target_side": ["focal"] * 3,
            "source": ["a"] * 3,
            "target": ["x"] * 3,
            "created_at": pd.to_datetime(["2014-01-01"] * 3, utc=True),
            "window": ["baseline"] * 3,
            "stance": ["neutral", "supportive", "critical"],
            "kind": ["mention", "repost", "reply"],
            "rule": ["vader", "repost", "label"],
        }
    )
    assert post_units(st)["stance"].tolist() == ["critical"]


def test_supporters_and_composition_helpers_directly():
    units = pd.DataFrame(
        {
            "source": ["a", "a", "b"],
            "target_side": ["focal"] * 3,
            "window": ["crisis"] * 3,
            "stance": ["supportive", "critical", "supportive"],
        }
    )
    assert supporters(units).tolist() == ["b"]
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4)
    ties = prior_ties(["b"], ["lane"], None, None, w)
    comp = supporter_composition(ties)
    assert comp["prior_tie"] == 0 and comp["newcomers"] == 1
    assert supporter_composition(ties.iloc[:0])["status"] == NM
    assert attention(units.assign(window="crisis"), "focal", w)["crisis"]["interactions"] == 3


def test_community_mobilisation_function_directly():
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4)
    units = pd.DataFrame(
        {
            "source": ["a", "a", "c"],
            "target_side": ["focal"] * 3,
            "window": ["crisis", "baseline", "crisis"],
            "stance": ["supportive", "neutral", "critical"],
        }
    )
    mem = pd.Series({"a": 0, "b": 0, "c": 1})
    t = community_mobilisation(mem, units, pd.Index(["a"]), w)
    assert t["share_active"].tolist() == [0.5, 1.0]
    assert t["supportive_share"].tolist() == [1.0, 0.0]
    # community 0: crisis 1 / 2 days vs baseline 1 / 4 days -> 2.0; community 1: no baseline
    assert t["lift"].iloc[0] == 2.0 and np.isnan(t["lift"].iloc[1])


def test_amplifiers_function_directly():
    units = pd.DataFrame(
        {"source": ["z"], "target_side": ["focal"], "window": ["crisis"], "stance": ["critical"]}
    )
    pr = pd.Series({"lane": 0.5, "z": 0.25, "y": 0.25})
    t = amplifiers(pr, units, exclude=["lane"], top_n=1)
    assert t["handle"].tolist() == ["y"]  # tie 0.25 broken by handle
    assert t["stance"].isna().all() and t["role"].tolist() == ["unknown"]


def _units(rows):
    return pd.DataFrame(rows, columns=["source", "target_side", "window", "stance"]).assign(
        post_id=lambda d: [str(i) for i in range(len(d))]
    )


def test_lift_account_bootstrap_constant_ratio():
    # a and b each post once in the baseline (4 days) and twice in the crisis (2 days): every
    # resample of accounts has crisis/baseline posts = 2, so the ratio is (2/2)/(1/4) = 4 always
    from netsupport.support import lift

    rows = [[h, "focal", "baseline", "neutral"] for h in "ab"]
    rows += [[h, "focal", "crisis", "neutral"] for h in "aabb"]
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4)
    r = lift(_units(rows), "focal", w, n_boot=500, seed=3)
    assert r["value"] == 4.0
    assert (r["account_bootstrap"]["low"], r["account_bootstrap"]["high"]) == (4.0, 4.0)


def test_lift_account_bootstrap_sees_burstiness():
    # 20 accounts post once in each window, one account posts 60 times in the crisis: the
    # Poisson interval treats 80 crisis posts as independent; resampling accounts does not
    from netsupport.support import lift

    rows = [[f"u{i}", "focal", "baseline", "neutral"] for i in range(20)]
    rows += [[f"u{i}", "focal", "crisis", "neutral"] for i in range(20)]
    rows += [["loud", "focal", "crisis", "supportive"]] * 60
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4)
    r = lift(_units(rows), "focal", w, n_boot=2000, seed=3)
    boot = r["account_bootstrap"]
    assert boot["high"] - boot["low"] > 2 * (r["high"] - r["low"])


def test_row_order_does_not_change_the_metrics():
    # same rows, shuffled: byte-identical metrics (bootstrap draws are tied to sorted profiles)
    t, s = load_support_fixture(), support_fixture_study()
    base = dumps_json(compute_metrics(t, s, membership=MEMBERSHIP, pagerank=PAGERANK))
    rng = np.random.default_rng(0)
    shuffled = {k: v.iloc[rng.permutation(len(v))].reset_index(drop=True) for k, v in t.items()}
    again = dumps_json(compute_metrics(shuffled, s, membership=MEMBERSHIP, pagerank=PAGERANK))
    assert again == base


def test_posts_alone_are_enough():
    # no interactions table (derived from posts), no follows, no accounts
    t = load_support_fixture()
    m = compute_metrics(
        {"posts": t["posts"]}, support_fixture_study(), membership=MEMBERSHIP, pagerank=PAGERANK
    )
    assert m["attention"]["focal"]["lift"]["value"] == 5.5
    # without the follows table, a and e lose their follow ties: a keeps its baseline reply
    assert m["composition"]["prior_tie"] == 2  # a and b
    assert set(m["roles"]["focal"]) == {"unknown"}


def test_headline_rows_breadth_of_one_community_and_one_supporter():
    """`netsupport support` printed "1 communities with >= 1 supporters" for a breadth of one."""
    b = {"communities_with_k_supporters": 1, "k": 1, "normalised_entropy": 0.0}
    rows = dict((r[0], r[1:]) for r in headline_rows({"headline": {"breadth": b}}))
    assert rows["Breadth"] == ("1 community with >= 1 supporter, evenness 0.00", "")
    b.update(communities_with_k_supporters=4, k=3, normalised_entropy=0.94)
    rows = dict((r[0], r[1:]) for r in headline_rows({"headline": {"breadth": b}}))
    assert rows["Breadth"] == ("4 communities with >= 3 supporters, evenness 0.94", "")


# ---- the lift's overdispersed interval and the lift without marker-only posts (review t7) ------


def test_overdispersed_lift_interval_by_hand():
    """X6: the exact interval ignores day-to-day overdispersion. By hand for the fixture's lift
    (11 crisis posts in 2 days, 4 baseline posts in 4 days, 5.5x) with phi = 2:
    SE = sqrt(2 (1/11 + 1/4)) = 0.825723, z = 1.959964, exp(ln 5.5 -+ z SE) = [1.090200,
    27.747204]; phi below 1 is floored: SE = sqrt(1/11 + 1/4) = 0.583874, [1.751330, 17.272584]."""
    from netsupport.support.attention import overdispersed_interval

    rr = {"value": 5.5, "numerator": 11, "denominator": 4}
    od = overdispersed_interval(rr, 2.0)
    assert od["se_log"] == pytest.approx(0.825723, abs=1e-6)
    assert (od["low"], od["high"]) == (
        pytest.approx(1.090200, abs=1e-6),
        pytest.approx(27.747204, abs=1e-6),
    )
    od = overdispersed_interval(rr, 0.5)
    assert od["phi"] == 0.5 and od["phi_used"] == 1.0
    assert (od["low"], od["high"]) == (
        pytest.approx(1.751330, abs=1e-6),
        pytest.approx(17.272584, abs=1e-6),
    )
    assert overdispersed_interval(rr, None)["status"] == NM


def test_metrics_carry_the_overdispersed_interval_with_the_model_dispersion(m):
    for side in ("focal", "institution"):
        lift = m["attention"][side]["lift"]
        model = m["attention_model"][side]
        if model.get("status") == NM:
            assert lift["overdispersed"]["status"] == NM
            continue
        phi = max(model["dispersion"], 1.0)
        se = math.sqrt(phi * (1 / lift["numerator"] + 1 / lift["denominator"]))
        assert lift["overdispersed"]["low"] == pytest.approx(
            lift["value"] * math.exp(-1.959964 * se), rel=1e-5
        )


def test_marker_only_units_and_the_lift_without_them():
    """M11: a post that names the focal account only through the campaign marker cannot occur
    before the campaign. Fixture: post 1 mentions and carries the marker (not marker-only),
    posts 2-4 carry only the marker (crisis), post 5 replies (baseline), post 6 carries the
    marker towards the focal side and mentions the institution (marker-only for the focal side
    only). By hand: 11 crisis posts in 2 days, 4 baseline posts in 4 days, 3 marker-only in the
    crisis: (8/2)/(4/4) = 4.0; exact interval with pL = Beta(0.025; 8, 5), pU = Beta(0.975; 9, 4),
    RR = 2p/(1-p): [1.071609, 18.151927]."""
    from netsupport.support.attention import without_marker_only
    from netsupport.support.shares import marker_only_counts
    from netsupport.windows import Windows

    st = pd.DataFrame(
        {
            "post_id": ["1", "1", "2", "3", "4", "5", "6", "6"],
            "target_side": ["focal"] * 7 + ["institution"],
            "window": ["crisis"] * 5 + ["baseline", "crisis", "crisis"],
            "kind": ["mention", *["marker"] * 4, "reply", "marker", "mention"],
        }
    )
    assert marker_only_counts(st) == {"focal/crisis": 4}
    assert marker_only_counts(st.iloc[:6]) == {"focal/crisis": 3}
    w = Windows.from_crisis("2014-02-14T00:00Z", "2014-02-16T00:00Z", 4, 4)
    out = without_marker_only({"numerator": 11, "denominator": 4}, {"focal/crisis": 3}, "focal", w)
    assert out["value"] == pytest.approx(4.0)
    assert out["marker_only_units"] == {"crisis": 3, "baseline": 0}
    assert out["low"] == pytest.approx(1.071609, abs=1e-6)
    assert out["high"] == pytest.approx(18.151927, abs=1e-6)
    pl, pu = beta.ppf(0.025, 8, 5), beta.ppf(0.975, 9, 4)
    assert out["low"] == pytest.approx(2 * pl / (1 - pl), abs=1e-9)
    assert out["high"] == pytest.approx(2 * pu / (1 - pu), abs=1e-9)
    assert without_marker_only({"numerator": 1, "denominator": 1}, None, "focal", w)["status"] == NM


def test_the_lift_finding_says_how_many_crisis_posts_stand_only_on_the_marker():
    from netsupport.report_format import marker_only_clause

    lift = {
        "numerator": 415,
        "without_marker_only": {
            "value": 7.735,
            "low": 6.3347,
            "high": 9.4946,
            "marker_only_units": {"crisis": 23, "baseline": 0},
        },
    }
    assert marker_only_clause(lift, "95%") == (
        "; without the 23 crisis posts (6%) that count only through a campaign marker (none "
        "before the crisis), 7.7× (95% CI 6.3–9.5×)"
    )
    lift["without_marker_only"]["marker_only_units"]["baseline"] = 2  # in both: no clause
    assert marker_only_clause(lift, "95%") == ""
