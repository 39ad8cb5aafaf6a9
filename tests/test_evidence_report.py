"""Tests for netsupport.evidence_report: the evidence sections' words (primary measures)."""

from __future__ import annotations

import pandas as pd

from netsupport import evidence_report, report_stance
from netsupport.report_findings import findings

LABELS = {"focal": "@lane", "institution": "@force"}


def _ci(v, lo, hi, **kw):
    return {"value": v, "low": lo, "high": hi, **kw}


def _primary(*rows):
    return {
        "primary": {
            "declared": [f"{m}.{s}" if s else m for m, s, _ in rows],
            "measures": [{"measure": m, "side": s, "result": r} for m, s, r in rows],
            "exploratory_intervals": 3,
            "adjustment": "unadjusted",
        },
        "parameters": {"confidence": 0.95},
    }


def test_each_primary_measure_is_said_in_words_with_whether_it_includes_no_change():
    """Guards review t5 #1 and t6 #5 (the odds ratio counts supporters as decided, its
    interval leaving out the decisions' error, unsaid): the primary table gave "+11 (−19 to
    +41)" for the focal account's change and no sentence said it was indistinguishable from
    no change, while the findings led with the uncorrected +19 whose interval excludes 0. By
    hand: −0.19 < 0 < 0.41 (no detectable change); −0.73 < −0.35 < 0 (a change); odds ratio
    2.9 > 1 (a difference), 0.8 < 1 < 1.3 (none); net support in the crisis +43 with 0.2 > 0."""
    m = _primary(
        ("reputational_change", "focal", _ci(0.112706, -0.187123, 0.411336, naive=0.1865)),
        ("reputational_change", "institution", _ci(-0.536, -0.7305, -0.347, naive=-0.519)),
        ("prior_tie_odds_ratio", None, _ci(5.6354, 2.8998, 10.95)),
        ("net_support_crisis", "focal", _ci(0.43, 0.2, 0.61)),
        ("attention_lift", "institution", _ci(1.1, 0.8, 1.5)),
        ("breadth", None, {"communities_with_k_supporters": 4, "k": 3, "normalised_entropy": 1}),
    )
    assert evidence_report.primary_statements(m, LABELS) == [
        "@lane's net support did not change detectably: +11 points, 95% CI −19 to +41.",
        "@force's net support changed by −54 points (95% CI −73 to −35): the interval "
        "does not include 0 (no change).",
        "Supporters had 5.6 times the other accounts' odds of a prior tie (95% CI 2.9–11): "
        "the interval does not include 1 (no difference). Supporters here are the accounts "
        "whose stance "
        "decisions (hand codes where coded, the model or the rules elsewhere) are mostly "
        "supportive: the interval leaves out the decisions' error.",
        "Net support for @lane in the crisis: +43 points (95% CI +20 to +61): the interval "
        "does not include 0 (no change).",
        "Attention to @force in the crisis, against its level before: 1.1× (95% CI "
        "0.80–1.5×): not distinguishable from 1×.",
    ]  # breadth has no interval: the table gives it, no sentence
    m = _primary(("prior_tie_odds_ratio", None, _ci(1.02, 0.8, 1.3)))
    assert evidence_report.primary_statements(m, LABELS) == [
        "Supporters' odds of a prior tie did not differ detectably from the other accounts' "
        "(odds ratio 1.0, 95% CI 0.80–1.3). " + evidence_report._SUPPORTERS_AS_DECIDED
    ]


def test_the_level_change_at_the_crisis_start_is_set_against_the_window_average_lift():
    """Guards review t5 #2: the primary "26× (18–38×)" stood beside the findings' "rose 8.2×"
    with nothing saying that one is the model's rate at the crisis start against the baseline
    trend, decaying by the crisis trend each day, and the other the average over the window.
    Figures of the example's metrics.json: 26.29 [18.0, 38.4], 0.588 a day, half-life 1.30
    days (ln 0.5 / ln 0.588), lift 8.19."""
    m = _primary(("attention_level_change", "focal", _ci(26.288911, 18.003914, 38.386478)))
    m["attention_model"] = {
        "focal": {
            "level_change": _ci(26.288911, 18.003914, 38.386478),
            "crisis_trend": _ci(0.587815, 0.545068, 0.633916),
            "half_life_days": 1.304521,
        }
    }
    m["attention"] = {"focal": {"lift": _ci(8.188865, 6.716659, 10.03781)}}
    assert evidence_report.primary_statements(m, LABELS) == [
        "Attention to @lane at the crisis start rose to 26× the baseline trend (95% CI "
        "18–38×): the interval does not include 1× (no change). The 26× is the time-series "
        "model's rate at "
        "the moment the crisis began, relative to the baseline trend carried on; in the "
        "crisis it was multiplied by 0.59× a day (half-life 1.3 days). The 8.2× of the "
        "findings above is the average over the whole crisis window: posts a day addressing "
        "@lane in the crisis against the days before. Its interval is the time-series "
        "model's: on planted overdispersed series its 95% intervals covered the level change "
        "in 88.5–94.6% of cases, and fewer with strongly autocorrelated days (METHODS.md, "
        '"Attention as a time series").'
    ]
    m["primary"]["measures"][0]["result"] = _ci(1.2, 0.9, 1.6)
    assert evidence_report.primary_statements(m, LABELS)[0].startswith(
        "Attention to @lane at the crisis start did not change detectably: 1.2× the baseline "
        "trend, 95% CI 0.90–1.6×. The 26× is"
    )


def _validation(accounts: int, one_post: int) -> dict:
    row = {"target_side": "focal", "unit": "account", "naive": 0.56, "corrected": 0.43}
    return {
        "labels": 420,
        "net_support": [
            {**row, "window": "crisis", "ci_low": 0.2, "ci_high": 0.61, "accounts": accounts}
            | {"accounts_one_post": one_post, "coded_accounts": 23}
        ],
        "changes": [{**row, "change": "crisis - baseline", "ci_low": -0.19, "ci_high": 0.41}],
    }


def test_the_primary_table_points_to_the_several_posts_caveat_of_the_corrected_figures():
    """Guards review t5 #1: the findings said the corrected account-level intervals are too
    narrow when accounts post more than once (coverage 91%, not 95%), but the primary table
    showed them as nominal 95% intervals. 79 of 200 accounts posted more than once: the
    caveat; every account one post: none."""
    m = _primary(("reputational_change", "focal", _ci(0.11, -0.19, 0.41, naive=0.19)))
    m["study"] = {"focal": ["lane"]}
    m["stance_validation"] = _validation(200, 121)
    caveat = (
        "The error-corrected intervals here are too narrow: some accounts posted more than "
        "once in the crisis (the error-corrected finding above says by how much)."
    )
    assert evidence_report.primary_statements(m, LABELS)[-1] == caveat
    m["stance_validation"] = _validation(200, 200)
    assert caveat not in evidence_report.primary_statements(m, LABELS)
    ctx = evidence_report._primary(m, LABELS)
    assert ctx["statements"] == evidence_report.primary_statements(m, LABELS)


def test_the_several_posts_caveat_counts_the_period_before_on_which_the_change_rests():
    """Guards the caveat reading the crisis row only: the primary change (crisis - baseline)
    rests on the baseline's accounts too, so 30 of 83 accounts of several posts there make its
    interval too narrow even when every crisis account posted once (the example: 79 of 200 in
    the crisis, 30 of 83 before)."""
    m = _primary(("reputational_change", "focal", _ci(0.11, -0.19, 0.41, naive=0.19)))
    m["study"] = {"focal": ["lane"]}
    v = _validation(200, 200)
    before = dict(v["net_support"][0], window="baseline", accounts=83, accounts_one_post=53)
    v["net_support"].append(before)
    m["stance_validation"] = v
    assert evidence_report.primary_statements(m, LABELS)[-1] == (
        "The error-corrected intervals here are too narrow: some accounts posted more than "
        "once in the period before the crisis (the error-corrected finding above says by how "
        "much)."
    )
    text = report_stance.corrected_findings(m)[0].text()
    assert " Some accounts posted more than once in the period before the crisis (30 of 83 " in text
    v["net_support"][0].update(accounts_one_post=121)
    assert (
        "once in the crisis and in the period before ("
        in evidence_report.primary_statements(m, LABELS)[-1]
    )
    text = report_stance.corrected_findings(m)[0].text()
    assert "once in the crisis (79 of 200 for @lane) and in the period before (30 of 83 for" in text
    v["changes"] = []  # no change given: the period before does not matter
    v["net_support"][0].update(accounts_one_post=200)
    assert "posted more than once" not in " ".join(evidence_report.primary_statements(m, LABELS))


def test_the_several_posts_caveat_covers_the_after_window_and_marks_the_headline_rows():
    """Guards review t7 M1: the caveat named the crisis and the period before only, yet the
    corrected change after - baseline (+25, CI +3 to +49, the only version of it whose interval
    excludes 0) rests on the after window, where 38 of 134 accounts posted more than once; the
    headline rows carried no mark, and the last finding's "the direction does not hold" read
    as if it were about that change (the grid re-runs attention after the crisis only)."""
    from netsupport import report_tables

    m = _primary(("reputational_change", "focal", _ci(0.10, -0.17, 0.35, naive=0.19)))
    m["study"] = {"focal": ["lane"], "institution": []}
    v = _validation(200, 121)
    base = v["net_support"][0]
    v["net_support"] += [
        dict(base, window="baseline", accounts=83, accounts_one_post=83),
        dict(base, window="after", accounts=134, accounts_one_post=96),
    ]
    after = dict(v["changes"][0], change="after - baseline", ci_low=0.03, ci_high=0.49)
    v["changes"].append(after)
    m["stance_validation"] = v
    m["headline"] = {
        "net_support_crisis": {"focal": _ci(0.43, 0.2, 0.61, naive=0.56)},
        "reputational_change": {"focal": _ci(0.10, -0.17, 0.35, naive=0.19)},
        "persistence_net_support": {"focal": _ci(0.25, 0.03, 0.49, naive=0.16)},
    }
    text = report_stance.corrected_findings(m)[0].text()
    assert (
        " Some accounts posted more than once in the crisis (79 of 200 for @lane) and in the "
        "period after (38 of 134 for @lane): then" in text
    )
    # the primary block reads crisis - baseline only: the after window is not its caveat
    assert evidence_report.primary_statements(m, LABELS)[-1] == (
        "The error-corrected intervals here are too narrow: some accounts posted more than "
        "once in the crisis (the error-corrected finding above says by how much)."
    )
    rows = {r[0]: r for r in report_tables.headline_display(m)}
    assert "Net support in the crisis, points, error-corrected †" in rows
    assert "Change in net support, after − baseline, error-corrected †" in rows
    assert report_tables.headline_note(m) == (
        "† Error-corrected at account level, with intervals too narrow: some accounts posted "
        "more than once in the crisis and in the period after (the error-corrected finding "
        "says by how much)."
    )
    assert report_stance.corrected_persistence(m, "focal").endswith(
        "+25, 95% CI +3 to +49, an interval too narrow: some accounts posted more than once in "
        "the period after the crisis, as the error-corrected finding says"
    )
    # every account one post: no caveat, no mark, no note
    for r in v["net_support"]:
        r["accounts_one_post"] = r["accounts"]
    assert "posted more than once" not in report_stance.corrected_findings(m)[0].text()
    assert not any("†" in r[0] for r in report_tables.headline_display(m))
    assert report_tables.headline_note(m) == ""


def test_the_last_finding_says_the_grid_tests_attention_after_the_crisis_not_net_support():
    """Guards review t7 M1: "The direction does not hold over the sensitivity grid" followed
    the corrected net support after the crisis, but the grid re-runs only attention after /
    baseline; the sentence now names attention and says the grid does not re-run net support."""
    from test_report import _metrics

    m = _metrics()
    m["persistence"] = {
        "focal": {
            "attention_ratio": _ci(1.6, 1.2, 1.9),
            "net_support_change": {"account_level": _ci(0.16, -0.01, 0.32)},
        }
    }
    s = {"null": 1.0, "study": 1.6, "min": 0.5, "max": 1.9, "specs": 10, "same_sign": 6}
    m["sensitivity"] = {"summary": {"persistence_attention": {"focal": {**s, "holds": False}}}}
    text = next(t.text() for t in findings(m).sentences if t.text().startswith("After the"))
    assert text.endswith(
        ". The sensitivity grid does not re-run net support after the crisis. Attention's "
        "direction does not hold over the sensitivity grid: above 1 in 6 of 10 specifications "
        "(0.50× to 1.9×)."
    )


def test_the_findings_name_the_corrected_figure_primary_and_the_grid_the_uncorrected_one():
    """Guards review t5 #1: "+19 points on the period before (95% CI +4 to +33)" and "the
    change's direction holds over the sensitivity grid" read as the declared result, yet the
    primary figure is the error-corrected +11 and the grid re-runs only the uncorrected +19."""
    from test_report import _metrics

    m = _metrics()
    m["stance_validation"] = _validation(412, 412)
    m["primary"] = _primary(
        ("reputational_change", "focal", _ci(0.112706, -0.187, 0.411, naive=0.32)),
        ("reputational_change", "institution", _ci(-0.536, -0.73, -0.347, naive=-0.603)),
    )["primary"]
    grid = {"null": 0.0, "min": 0.07, "max": 0.2, "specs": 45, "same_sign": 45, "holds": True}
    m["sensitivity"] = {
        "summary": {
            "reputational_change": {
                "focal": {**grid, "study": 0.32},
                "institution": {**grid, "study": -0.603, "min": -0.6, "max": -0.1},
            }
        }
    }
    text = [s.text() for s in findings(m).sentences]
    focal = next(t for t in text if t.startswith("In the crisis"))
    assert (
        "(the next finding includes it; the primary figure of the change is the "
        "error-corrected one, +11)." in focal
    )
    assert focal.endswith(
        "The change's direction holds over the sensitivity grid: above 0 in all 45 "
        "specifications (+7 to +20); the grid re-runs the uncorrected figure, not the primary "
        "error-corrected +11."
    )
    inst = next(t for t in text if t.startswith("Net support for @force"))
    assert (
        "(corrected above; the primary figure of the change is the error-corrected one, −54)"
        in inst
    )
    assert inst.endswith(
        "the grid re-runs the uncorrected figure, not the primary error-corrected −54."
    )
    del m["primary"]  # nothing declared: no pointer to a primary figure
    assert not any("primary" in s.text() for s in findings(m).sentences)


def test_the_day_block_interval_says_it_is_a_check_too_narrow_with_few_blocks():
    """Guards review t5 #13: "+67 (+62 to +73) (6 blocks)" sat beside the account interval
    with nothing saying that percentile intervals from 6 day-blocks are too narrow by
    construction (METHODS.md), so it read as the more precise estimate."""
    blk = {"blocks": 6, "net_support": _ci(0.672, 0.618, 0.729)}
    m = {
        "stance_shares": {
            "focal": {"crisis": {"post_level": {"net_support": _ci(0.67, 0.57, 0.76)}}}
        },
        "block_bootstrap": {"focal": {"crisis": blk}},
    }
    assert evidence_report._blocks(m, {"focal": "@lane"}) == [
        [
            "@lane",
            "+67 (+57 to +76)",
            "+67 (+62 to +73) (6 blocks: this interval is too narrow by construction; it is a "
            "check, not an estimate)",
        ]
    ]
    blk["blocks"] = 20
    assert evidence_report._blocks(m, {"focal": "@lane"})[0][2].endswith(
        "(20 blocks: a check, not an estimate)"
    )


def test_the_time_series_caption_says_its_bins_and_why_its_peak_differs():
    """Guards review t5 #17: the time-series chart (calendar days cut at the windows' bounds,
    counts divided by exposure) and the attention chart (days from the crisis start) showed
    different "per day" peaks (about 211 against 146 on the example) and neither said why."""
    days = {"focal": {"freq": "D"}, "institution": {"freq": "D"}}
    assert evidence_report._model_bins(days) == "calendar days"
    assert evidence_report._model_bins({"focal": {"freq": "h"}}) == "clock hours"
    assert evidence_report._model_bins({}) == "calendar days"  # (not measured: no freq)


def test_the_posts_net_support_table_is_marked_uncorrected_beside_corrected_figures():
    """Guards review t6 #4: "Net support in the crisis (posts)" (+67, the stance decisions as
    made) sat in a report whose headline gives net support error-corrected, unmarked."""
    from types import SimpleNamespace

    from test_report import _metrics

    study = SimpleNamespace(
        focal=("lane",), institution=("force",), provenance=None, pseudonymise=False
    )
    m = _metrics()
    assert evidence_report.evidence_context(m, study)["evidence"]["blocks_uncorrected"] is False
    m["stance_validation"] = _validation(412, 412)
    assert evidence_report.evidence_context(m, study)["evidence"]["blocks_uncorrected"] is True
    for name in ("_evidence.md.j2", "_evidence.html.j2"):
        text = (evidence_report.__file__.rsplit("/", 1)[0] + "/templates/" + name).strip()
        with open(text, encoding="utf-8") as f:
            assert (
                "Net support in the crisis (posts{% if ev.blocks_uncorrected %}, uncorrected"
                "{% endif %}):" in f.read()
            )


def test_the_primary_block_counts_comparisons_apart_from_levels_and_adjusts_the_primaries():
    """Guards review t7 W1, X2, M5, M6: "of k such 95% intervals, about 0.05 k exclude no change"
    was said of 173 intervals, 119 of them levels (a share has no no-change value); no
    Bonferroni statement for the four primaries; "declared in the study before the analysis",
    which the software cannot know; "excludes no change", a double negative. By hand: 54
    comparisons x 5% = 2.7, about 3; two primaries, 95% -> 97.5% intervals (Bonferroni)."""
    from netsupport.support.primary import bonferroni

    rows = [
        {
            "name": "reputational_change.focal",
            "measure": "reputational_change",
            "side": "focal",
            "result": _ci(0.10, -0.17, 0.35, naive=0.19),
        },
        {
            "name": "prior_tie_odds_ratio",
            "measure": "prior_tie_odds_ratio",
            "side": None,
            "result": _ci(5.0, 2.6, 9.5),
        },
    ]
    m = {
        "primary": {
            "declared": [r["name"] for r in rows],
            "measures": rows,
            "exploratory_intervals": 173,
            "exploratory_comparisons": 54,
            "exploratory_levels": 119,
            "adjustment": "unadjusted",
            "bonferroni": bonferroni(rows),
        },
        "parameters": {"confidence": 0.95},
    }
    ctx = evidence_report._primary(m, LABELS)
    assert ctx["head"] == ["Measure", "Value", "Bonferroni, 97.5% interval"]
    # z = 1.960, z_2 = 2.241: se (0.35 + 0.17) / 3.92 = 0.1327, 0.10 -+ 0.297 = -0.197, 0.397;
    # log scale: se ln(9.5 / 2.6) / 3.92 = 0.3306, 5.0 x/ e^0.741 = 2.38, 10.5
    assert [r[2] for r in ctx["rows"]] == ["−20 to +40", "2.4–10"]
    assert ctx["statements"][-1] == (
        "The intervals above are unadjusted for the 2 primary measures; the last column adjusts "
        "them (Bonferroni: each tested at 5% / 2 = 2.5%, 97.5% intervals, approximated as "
        "normal from the 95% ones, on the log scale for ratios): the same 1 of 2 do not "
        "include the no-change value."
    )
    assert ctx["exploratory_text"] == (
        "54 intervals compare windows, groups or sides (if none of those differences were "
        "real, about 3 of them would leave out the no-change value by chance; fewer if some "
        "are real), and 119 intervals are of levels (a share or net support in one window or "
        "group): they test no change"
    )
    assert ctx["declared_where"] == (
        "declared as primary in the study file, which names no preregistration"
    )
    assert (
        evidence_report._primary(m, LABELS, "OSF 10.17605/x, 2014-02-20")["declared_where"]
        == "declared as primary in the study file; preregistration: OSF 10.17605/x, 2014-02-20"
    )


def _tie_metrics(collected, where, undated=41):
    return {
        "follow_lists": {
            "collected": collected,
            "relative_to_crisis": where,
            "undated_follows": undated,
        },
        "comparisons": {"prior_ties": {"accounts": 200, "undated_follow_only": 12}},
    }


def test_the_follower_lists_date_is_said_where_prior_ties_are_shown():
    """t13 #2: the follower lists' collection date (or that none is given) in Limitations and
    under the prior-tie tables; nothing when every follow has a date."""
    unknown = _tie_metrics(None, None)
    note = evidence_report.follows_date_note(unknown)
    assert note.startswith("The follower lists' collection date is not given")
    assert "may be a tie made during or after it" in note
    lim = [x for x in evidence_report.limitations(unknown, None) if x.startswith("Prior ties:")]
    assert len(lim) == 1 and lim[0].endswith(note)
    after = evidence_report.follows_date_note(_tie_metrics("2014-03-05", "after"))
    assert after.startswith("The follower lists were collected on 5 Mar 2014, after the crisis")
    assert "during or after the crisis" in after
    during = evidence_report.follows_date_note(_tie_metrics("2014-02-15T10:00:00Z", "during"))
    assert "15 Feb 2014 10:00 UTC, during the crisis" in during and "made in the crisis" in during
    before = evidence_report.follows_date_note(_tie_metrics("2014-02-01", "before"))
    assert before == (
        "The follower lists were collected on 1 Feb 2014, before the crisis: their follows "
        "predate it."
    )
    assert evidence_report.follows_date_note(_tie_metrics("2014-03-05", "after", 0)) == ""
    no_undated = _tie_metrics(None, None, 0)
    no_undated["comparisons"]["prior_ties"]["undated_follow_only"] = 0
    lim = evidence_report.limitations(no_undated, None)
    assert not [x for x in lim if x.startswith("Prior ties")]


def test_follow_lists_in_the_metrics_places_the_date_against_the_crisis():
    from netsupport.support.ties import follow_lists
    from netsupport.windows import Windows

    w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T18:00Z", 14, 14)
    f = pd.DataFrame(
        {
            "follower": ["a", "b", "c", "a"],
            "followee": ["lane", "lane", "x", "lane"],
            "observed_at": pd.to_datetime([None, "2014-02-01", None, None], utc=True),
        }
    )
    inter = pd.DataFrame(
        {
            "source": ["d", "e"],
            "target": ["lane", "lane"],
            "kind": ["follow", "reply"],
            "created_at": pd.to_datetime([None, None], utc=True),
        }
    )
    got = {
        day: follow_lists(day, ["lane"], f, inter, w)["relative_to_crisis"]
        for day in ("2014-02-13", "2014-02-14", "2014-02-19", "2014-02-20", "2014-02-14T08:00:00Z")
    }
    assert got == {
        "2014-02-13": "before",
        "2014-02-14": "during",  # the day the crisis began: it may have been taken after 09:00
        "2014-02-19": "during",
        "2014-02-20": "after",
        "2014-02-14T08:00:00Z": "before",
    }
    # a (twice), d: undated follows of @lane; b has a date, c follows another account
    assert follow_lists(None, ["lane"], f, inter, w) == {
        "collected": None,
        "relative_to_crisis": None,
        "undated_follows": 2,
    }
