"""Amplifiers and community numbering (issue 15, item 7), on the hand fixture of test_support."""

from __future__ import annotations

import pandas as pd
from conftest import load_support_fixture, support_fixture_study

from netsupport.graph import baseline_edges
from netsupport.report import _community_label
from netsupport.report_charts import mobilisation_frame
from netsupport.report_findings import findings
from netsupport.stance import object_strings, stance_table
from netsupport.support import analyse
from netsupport.support.metrics import analyse_inputs, metric_inputs
from netsupport.support.proxies import conversation_rows, crisis_pagerank
from netsupport.windows import Windows

MEMBERSHIP = pd.Series(
    {"a": 0, "b": 0, "f": 0, "g": 0, "lane": 0, "c": 1, "d": 1, "force": 1, "h": 1, "e": 2, "x1": 2}
)


def test_amplifier_the_accounts_file_describes_has_its_role():
    """Bug: roles were computed only for accounts that addressed a side, so an amplifier that
    never did (here @zz, a media account in accounts.csv) was listed as 'unknown'."""
    tables = load_support_fixture()
    acc = tables["accounts"]
    extra = pd.DataFrame([{c: None for c in acc.columns}])
    extra.loc[0, ["handle", "name", "description", "role"]] = ["zz", "ZZ", "", "media"]
    tables["accounts"] = pd.concat([acc, extra], ignore_index=True)
    study = support_fixture_study()
    pr = pd.Series({"lane": 0.4, "zz": 0.35, "a": 0.25})
    m = analyse(tables, study, membership=MEMBERSHIP, pagerank=pr).metrics
    top = {r["handle"]: r for r in m["amplifiers"]["top"]}
    assert top["zz"]["role"] == "media" and top["zz"]["crisis_posts_about_focal"] == 0


def test_pagerank_ranks_only_the_conversation_about_the_sides():
    """Bug: amplifiers were ranked on every crisis repost/quote/mention, so accounts central in
    unrelated crisis chatter outranked those who spread posts about the focal account."""
    study = support_fixture_study()
    t = pd.Timestamp("2014-02-14T12:00Z")
    rows = [  # a hub @hub mentioned by five posts about nothing; @a's post names @lane and @b
        *[(f"u{i}", "hub", "mention", f"X{i}", t) for i in range(5)],
        ("a", "lane", "mention", "P1", t),
        ("a", "b", "mention", "P1", t),
        ("c", "a", "repost", "P2", t),
        ("c", "lane", "mention", "P2", t),
    ]
    inter = pd.DataFrame(rows, columns=["source", "target", "kind", "post_id", "created_at"])
    inter["weight"] = 1.0
    conv = conversation_rows(inter, study)
    assert sorted(conv["post_id"].unique()) == ["P1", "P2"]
    pr, info = crisis_pagerank(inter, study)
    assert "hub" not in pr.index and {"a", "b", "lane"} <= set(pr.index)
    assert info["edges"] == 4


def test_community_numbers_are_the_same_in_metrics_tables_and_report():
    """Bug: the report said 'Community 1' for what metrics.json, the tables and the CLI call
    community 0. One numbering now: the ids as detected (0 = largest)."""
    tables = load_support_fixture()
    study = support_fixture_study()
    st = stance_table(tables, study)
    a = analyse(tables, study, stance=st, membership=MEMBERSHIP)
    m = a.metrics
    best = max(m["mobilisation"]["communities"], key=lambda r: (r["supporters"], -r["community"]))
    breadth_sentence = next(s.text() for s in findings(m).sentences if "communities" in s.text())
    assert f"came from community {best['community']}," in breadth_sentence
    frame = mobilisation_frame(m, 0.95)
    assert frame["label"].tolist() == [f"Community {c}" for c in frame["community"]]
    assert _community_label(0) == "Community 0"
    assert set(a.tables["communities"]["community"]) == set(MEMBERSHIP.unique())


def test_baseline_edges_shared_by_the_metrics_are_made_again_when_the_windows_are_cut():
    # analyse aggregates the declared baseline's edges once, for the tie comparison and the
    # community grid; once the windows are cut to the data the tie comparison must not read them
    # (bug guarded against: the cut baseline's activity covariate taken from the declared one)
    tables = object_strings(load_support_fixture())
    long_baseline = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 10, 4)
    study = support_fixture_study(windows=long_baseline)
    inputs, _ = metric_inputs(tables, study, stance_table(tables, study, correct=False))
    plain, _ = analyse_inputs(inputs, study)
    assert plain["coverage_check"]["cut"]  # the baseline starts before the data
    # edges that differ from the cut baseline's (none at all), said to be the declared ones
    inputs.baseline_edges = baseline_edges(inputs.interactions.iloc[:0], study.windows)
    inputs.baseline_windows = study.windows
    shared, _ = analyse_inputs(inputs, study)
    assert shared["comparisons"] == plain["comparisons"]
    inputs.baseline_windows = None  # taken as given (the Dask engine's): they are read
    given, _ = analyse_inputs(inputs, study)
    assert given["comparisons"] != plain["comparisons"]
