"""Sensitivity grid (METHODS.md, "Sensitivity"): values worked out by hand on the fixture of
tests/test_support.py (focal @lane: baseline 4 posts by a b c d over 4 days, majorities
sup sup crit neu; crisis 11 posts over 2 days, 9 accounts: 5 supportive, 1 critical)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import load_support_fixture, support_fixture_study
from hypothesis import given, settings
from hypothesis import strategies as hst

from netsupport.errors import StudyKeyError
from netsupport.stance import stance_table
from netsupport.studyfile import SensitivityParams, load_study
from netsupport.support import analyse
from netsupport.support.sensitivity import (
    _net,
    _Units,
    community_grid,
    community_runs,
    consensus_partition,
    mark_uncorrected,
    restance,
    sensitivity,
    spec_measures,
    stance_classifiers,
    stance_cutoffs,
    summarise_grid,
    variant_windows,
    window_grid,
)
from netsupport.support.shares import _majority_codes, post_units


@pytest.fixture(scope="module")
def fixture():
    tables = load_support_fixture()
    study = support_fixture_study()
    st = stance_table(tables, study)
    return tables, study, st


def test_spec_measures_by_hand(fixture):
    _, study, st = fixture
    m = spec_measures(post_units(st.table), study.windows)
    assert m["attention_lift"]["focal"] == pytest.approx((11 / 2) / (4 / 4))
    assert m["net_support_crisis"]["focal"] == pytest.approx((5 - 1) / 9)
    assert m["reputational_change"]["focal"] == pytest.approx((5 - 1) / 9 - (2 - 1) / 4)
    # after: A02 a, A03 n1, A04 c -> 3 posts over 4 days / (4 posts / 4 days)
    assert m["persistence_attention"]["focal"] == pytest.approx(0.75)


def test_study_spec_equals_the_headline(fixture):
    """The grid's own specification must give the headline's point estimates (same code path
    for windows, majorities and rates, or the sign check would compare different things)."""
    tables, study, st = fixture
    metrics = analyse(tables, study, stance=st).metrics
    own = next(r for r in metrics["sensitivity"]["specs"] if r["study"])
    h = metrics["headline"]
    for side in ("focal", "institution"):
        for key in ("attention_lift", "net_support_crisis", "persistence_attention"):
            block = h[key][side]
            if "value" in block:
                assert own["values"][key][side] == pytest.approx(block["value"], abs=1e-6)
        rep = h["reputational_change"][side]
        if "value" in rep:
            assert own["values"]["reputational_change"][side] == pytest.approx(
                rep["value"], abs=1e-6
            )
    for key in ("prior_tie_share", "prior_tie_odds_ratio"):  # (t13: the focal side only)
        block = h.get(key)
        block = block.get("focal", block) if isinstance(block, dict) else None
        if isinstance(block, dict) and "value" in block:
            assert own["values"][key]["focal"] == pytest.approx(block["value"], abs=1e-6)


def test_moving_the_crisis_start_moves_posts_between_windows():
    u = pd.DataFrame(
        {
            "target_side": ["focal"] * 4,
            "source": ["a", "b", "c", "d"],
            "stance": ["supportive", "critical", "supportive", "supportive"],
            "created_at": pd.to_datetime(
                [f"2014-01-0{d}T12:00Z" for d in (1, 2, 3, 4)],
                utc=True,
            ),
        }
    )
    from netsupport.windows import Windows

    w = Windows.from_crisis("2014-01-03T00:00Z", "2014-01-05T00:00Z", 2, 2)
    m0 = spec_measures(u, w)
    assert m0["attention_lift"]["focal"] == pytest.approx(1.0)  # 2 posts / 2 days each
    assert m0["reputational_change"]["focal"] == pytest.approx(1.0 - 0.0)
    w1 = variant_windows(w, -1.0, 0.0, 2.0)  # crisis from 01-02: b, c, d in it; a in baseline
    m1 = spec_measures(u, w1)
    assert m1["attention_lift"]["focal"] == pytest.approx((3 / 3) / (1 / 2))
    assert m1["net_support_crisis"]["focal"] == pytest.approx((2 - 1) / 3)
    assert variant_windows(w, 1.0, -1.0, 2.0) is None  # a crisis of zero length


def test_restance_changes_only_vader_decided_rows(fixture):
    _, _, st = fixture
    t = st.table
    hi = restance(t, 0.99, -0.99)
    by_vader = t["rule"].isin(["vader", "aimed-elsewhere"]).to_numpy()
    assert (hi["stance"][~by_vader] == t["stance"][~by_vader]).all()
    strong = by_vader & (t["score"].abs() < 0.99).to_numpy()
    assert (hi["stance"][strong] == "neutral").all()


def test_summary_excludes_uncovered_specs_and_reports_a_flip():
    recs = [
        {"study": True, "covered": True, "values": {"net_support_crisis": {"focal": 0.2}}},
        {"study": False, "covered": True, "values": {"net_support_crisis": {"focal": -0.1}}},
        {"study": False, "covered": False, "values": {"net_support_crisis": {"focal": -0.9}}},
    ]
    s = summarise_grid(recs)["net_support_crisis"]["focal"]
    assert (s["holds"], s["same_sign"], s["specs"], s["min"], s["max"]) == (False, 1, 2, -0.1, 0.2)
    recs[1]["values"]["net_support_crisis"]["focal"] = 0.05
    assert summarise_grid(recs)["net_support_crisis"]["focal"]["holds"] is True


def test_a_baseline_beyond_the_data_is_uncovered(fixture):
    """The fixture's data start 2014-02-10 (4 days before the crisis): a 28-day baseline or a
    crisis start moved a day earlier reach before the data and are left out of the sign check."""
    _, study, st = fixture
    study = dataclasses.replace(
        study,
        sensitivity=SensitivityParams(window_shift_days=(-1.0, 0.0), baseline_days=(4.0, 28.0)),
    )
    first = pd.Timestamp("2014-02-10T00:00Z")
    recs = window_grid(st.table, study, span=(first, pd.Timestamp("2014-02-20T00:00Z")))
    for r in recs:
        reaches_before = r["baseline_days"] == 28.0 or r["start_shift_days"] == -1.0
        assert r["covered"]["baseline"] is (not reaches_before), r
        assert r["covered"]["after"] is True


def test_consensus_partition_keeps_edges_most_runs_agree_on():
    e = pd.DataFrame({"source": ["a", "b", "c", "d"], "target": ["b", "c", "d", "e"]})
    runs = [
        pd.Series({"a": 0, "b": 0, "c": 0, "d": 1, "e": 1}),
        pd.Series({"a": 0, "b": 0, "c": 1, "d": 1, "e": 1}),
        pd.Series({"a": 0, "b": 0, "c": 0, "d": 1, "e": 1}),
    ]
    cons = consensus_partition(e, runs, 0.5)
    assert cons.to_dict() == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1}
    # at threshold 1, only edges every run agrees on: b-c (2 of 3) is cut, c becomes alone
    assert consensus_partition(e, runs, 1.0).to_dict() == {"a": 0, "b": 0, "c": 2, "d": 1, "e": 1}


def _two_cliques() -> pd.DataFrame:
    left, right = list("abcdef"), list("uvwxyz")
    rows = [(p, q) for grp in (left, right) for i, p in enumerate(grp) for q in grp[i + 1 :]]
    rows.append(("a", "u"))
    return pd.DataFrame(rows, columns=["source", "target"]).assign(weight=1.0)


def _leiden(g, seed):
    from netsupport.graph_measures import _detect

    return _detect(g, "leiden", 1.0, seed).membership.to_numpy()


def test_consensus_clustering_does_not_chain_two_cliques_that_no_run_joins():
    """Two 6-cliques L = a..f and R = u..z joined by the edge a-u; three runs, each moving at
    most one bridge end across: r1 = (L + u, R - u), r2 = (L - a, R + a), r3 = (L, R).
    By hand, the share of runs joining each edge's ends: a-u: r1 yes, r2 yes, r3 no = 2/3;
    a-(b..f): r2 splits them = 2/3; u-(v..z): r1 splits them = 2/3; every other edge 3/3.
    At threshold 0.5 one step keeps every edge, so its components chain L and R into one
    community of 12, though every run separates b from v. Lancichinetti & Fortunato detect
    again on the weighted graph (cliques of weight 1 and 2/3, the bridge 2/3): every seed
    finds L and R, every edge's share is then 0 or 1 (1 round), and the consensus is L, R."""
    e = _two_cliques()
    left, right = list("abcdef"), list("uvwxyz")
    r1 = pd.Series({**{x: 0 for x in [*left, "u"]}, **{x: 1 for x in right[1:]}})
    r2 = pd.Series({**{x: 0 for x in left[1:]}, **{x: 1 for x in [*right, "a"]}})
    r3 = pd.Series({**{x: 0 for x in left}, **{x: 1 for x in right}})
    runs = [r.sort_index() for r in (r1, r2, r3)]
    assert set(consensus_partition(e, runs, 0.5).tolist()) == {0}  # one step: chained
    info: dict = {}
    got = consensus_partition(e, runs, 0.5, detect=_leiden, seeds=(1, 2, 3), report=info)
    # numbered by size (6 and 6), then smallest member: a (L) before u (R)
    assert got.to_dict() == {**{x: 0 for x in left}, **{x: 1 for x in right}}
    assert info == {"rounds": 1, "converged": True}


@settings(max_examples=60, deadline=None)
@given(hst.lists(hst.integers(0, 3), min_size=2, max_size=12), hst.integers(1, 4))
def test_runs_that_agree_are_their_own_consensus_without_detecting_again(labels, k):
    """When every run is the same partition, each edge's share is 0 or 1 already: no round is
    run, and the consensus is that partition split into its connected pieces (by hand: the
    edges of a path 0-1-2-... whose ends share a label)."""
    nodes = [f"n{i:02d}" for i in range(len(labels))]
    e = pd.DataFrame({"source": nodes[:-1], "target": nodes[1:]})
    run = pd.Series(labels, index=nodes)

    def never(g, seed):
        raise AssertionError("no round should run")

    info: dict = {}
    got = consensus_partition(e, [run] * k, 0.5, detect=never, seeds=(1,), report=info)
    assert info == {"rounds": 0, "converged": True}
    pieces, piece = [], 0
    for i in range(len(labels)):
        piece += i > 0 and labels[i] != labels[i - 1]
        pieces.append(piece)
    # the same grouping (numbering aside)
    pairs = {(a, b) for a in range(len(nodes)) for b in range(len(nodes))}
    assert {p for p in pairs if pieces[p[0]] == pieces[p[1]]} == {
        p for p in pairs if got.iloc[p[0]] == got.iloc[p[1]]
    }


def test_community_grid_on_planted_cliques_is_stable():
    study = support_fixture_study(
        sensitivity=SensitivityParams(algorithms=("louvain", "leiden"), resolutions=(1.0,), seeds=3)
    )
    sup = pd.Index(["a", "b", "c", "u", "v"])
    out = community_grid(_two_cliques(), study, sup)
    assert out["stability"]["mean_pairwise_nmi"] == pytest.approx(1.0)
    assert out["consensus"]["communities"] == 2
    # k = 2 (the fixture study): both cliques hold >= 2 supporters
    assert out["consensus"]["breadth"] == 2 and out["breadth_range"] == [2, 2]
    assert out["seeds"] == [study.communities.seed + i for i in range(3)]
    assert len(out["runs"]) == 2 * 1 * 3


def test_a_graph_above_the_limit_gets_the_reduced_grid_and_says_so():
    params = SensitivityParams(resolutions=(0.5, 1.0), seeds=4, community_max_edges=10)
    study = support_fixture_study(sensitivity=params)
    sup = pd.Index(["a", "b", "c", "u", "v"])
    out = community_grid(_two_cliques(), study, sup)  # 31 edges > 10
    c = study.communities
    assert [(r["algorithm"], r["resolution"]) for r in out["runs"]] == [
        (c.algorithm, float(c.resolution))
    ] * 3
    assert out["seeds"] == [c.seed, c.seed + 1, c.seed + 2]
    red = out["reduced"]
    assert red["edges"] == 31 and red["runs"] == 3
    assert red["runs_requested"] == 2 * 2 * 4  # louvain, leiden x 0.5, 1 x 4 seeds
    assert "31 edges" in red["note"] and "community_max_edges" in red["note"]
    # at or under the limit (or with no limit): the whole grid, nothing said
    for limit in (31, 0):
        limited = dataclasses.replace(params, community_max_edges=limit)
        whole = community_grid(_two_cliques(), support_fixture_study(sensitivity=limited), sup)
        assert "reduced" not in whole and len(whole["runs"]) == 16


def test_above_the_limit_the_consensus_is_the_pairs_every_run_joins(monkeypatch):
    """Above community_max_edges the consensus runs no re-detection round (each would cost a
    detection per seed on a big graph): it is the components of the edges whose ends every
    run joins, which cannot chain (runs that all join a-b and b-c all join a-c). On the
    chaining example of the test above, by hand: the edges every run joins are b..f among
    themselves and v..z among themselves (a-b..f and u-v..z are split by r2 and r1, a-u by
    r3), so the consensus is {b..f}, {v..z}, and a and u alone."""
    from netsupport import graph_measures as gm

    e = _two_cliques()
    left, right = list("abcdef"), list("uvwxyz")
    r1 = pd.Series({**{x: 0 for x in [*left, "u"]}, **{x: 1 for x in right[1:]}})
    r2 = pd.Series({**{x: 0 for x in left[1:]}, **{x: 1 for x in [*right, "a"]}})
    r3 = pd.Series({**{x: 0 for x in left}, **{x: 1 for x in right}})
    got = consensus_partition(e, [r.sort_index() for r in (r1, r2, r3)], 1.0)
    groups = sorted(sorted(g.index) for _, g in got.groupby(got))
    assert groups == [["a"], [*left[1:]], ["u"], [*right[1:]]]
    # in the grid: three detections only, and the method says what was done
    calls = []
    real = gm._detect
    monkeypatch.setattr(gm, "_detect", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    params = SensitivityParams(resolutions=(1.0,), seeds=3, community_max_edges=10)
    study = support_fixture_study(sensitivity=params)
    out = community_grid(e, study, pd.Index(["a", "b", "c", "u", "v"]))
    assert "reduced" in out and len(calls) == 3
    cons = out["consensus"]
    assert cons["threshold"] == 1.0 and "rounds" not in cons
    assert cons["method"] == gm.CONSENSUS_STRICT and cons["communities"] == 2
    from netsupport.report_evidence import _consensus_how

    assert "every one of those runs" in _consensus_how(cons)


def test_the_communities_steps_partition_is_reused_not_recomputed(monkeypatch):
    from netsupport import communities as comm

    study = support_fixture_study(
        sensitivity=SensitivityParams(algorithms=("louvain",), resolutions=(1.0,), seeds=2)
    )
    c = study.communities
    sup = pd.Index(["a", "b", "c", "u", "v"])
    fresh = community_grid(_two_cliques(), study, sup)
    step = comm.detect(_two_cliques(), c.algorithm, c.resolution, c.seed).membership
    calls = []
    real = comm._detect_prepared  # (what detect runs, on the graph prepared once for the grid)
    monkeypatch.setattr(
        comm, "_detect_prepared", lambda *a, **k: calls.append(a[3]) or real(*a, **k)
    )
    reused = community_grid(_two_cliques(), study, sup, membership=step)
    assert calls == [c.seed + 1]  # the study's own seed was not run again
    assert reused == fresh


@pytest.mark.parametrize("limit", [0, 10])  # the whole grid; the reduced grid (31 edges)
def test_grid_detections_passed_as_files_give_the_same_grid_and_detect_nothing(
    tmp_path, monkeypatch, limit
):
    """The communities step detects the grid's partitions (community_runs) and passes them to
    the metrics step as files (in a child process, or in turn): the metrics step's grid is
    the one it would compute itself, without detecting again."""
    from netsupport import communities as comm
    from netsupport import engine

    params = SensitivityParams(resolutions=(0.5, 1.0), seeds=3, community_max_edges=limit)
    study = support_fixture_study(sensitivity=params)
    c = study.communities
    # handles as Python strings, as graph.baseline_edges gives them
    edges = _two_cliques().astype({"source": object, "target": object})
    sup = pd.Index(["a", "b", "c", "u", "v", "nobody"])
    step = comm.detect(edges, c.algorithm, c.resolution, c.seed).membership
    expected = community_grid(edges, study, sup, membership=step)
    runs = community_runs(edges, study, step)
    files = engine.GraphFiles.in_folder(tmp_path)
    engine.write_graph_measures(files, step, {}, None, {}, runs, edges)
    *_, back, back_edges = engine.read_graph_measures(files)
    pd.testing.assert_frame_equal(back_edges, edges)
    assert back.info == runs.info and len(back.partitions) == len(runs.partitions)
    monkeypatch.setattr(comm, "detect", lambda *a, **k: pytest.fail("detected again"))
    assert community_grid(edges, study, sup, membership=step, runs=back) == expected
    assert community_grid(edges, study, sup, membership=step, runs=runs) == expected


def test_no_grid_detections_are_passed_as_none(tmp_path):
    from netsupport import engine

    files = engine.GraphFiles.in_folder(tmp_path)
    engine.write_graph_measures(files, None, {}, None, {})
    membership, pagerank, _, runs, edges = engine.read_graph_measures(files)
    assert runs is None and edges is None and membership.empty and pagerank.empty
    assert community_runs(_two_cliques().iloc[:0], support_fixture_study()) is None


def test_sensitivity_block_is_deterministic(fixture):
    tables, study, st = fixture
    a = analyse(tables, study, stance=st).metrics["sensitivity"]
    b = analyse(tables, study, stance=st).metrics["sensitivity"]
    assert a == b
    assert a["summary"]["attention_lift"]["focal"]["study"] == pytest.approx(5.5)
    assert sensitivity(st.table.iloc[:0], study)["status"] == "not measured"


STUDY = """[study]
name = "x"
focal = ["a"]
[windows]
crisis_start = "2014-02-14T09:00:00Z"
crisis_end = "2014-02-19T18:00:00Z"
[[inputs]]
path = "t.jsonl"
[sensitivity]
{line}
"""


@pytest.mark.parametrize(
    "line, key",
    [
        ("baseline_days = [7, 0]", "sensitivity.baseline_days"),
        ("baseline_days = []", "sensitivity.baseline_days"),
        ("window_shift_days = [-30]", "sensitivity.window_shift_days"),
        ("thresholds = [0.05, 1.5]", "sensitivity.thresholds"),
        ("thresholds = [nan]", "sensitivity.thresholds"),
        ("resolutions = [0]", "sensitivity.resolutions"),
        ('algorithms = ["kmeans"]', "sensitivity.algorithms"),
        ("seeds = 1", "sensitivity.seeds"),
        ("consensus_threshold = 0", "sensitivity.consensus_threshold"),
        ("community_max_edges = -1", "sensitivity.community_max_edges"),
        ('baseline_days = ["7"]', "sensitivity.baseline_days"),
    ],
)
def test_grid_values_out_of_range_are_one_line_errors(tmp_path, line, key):
    (tmp_path / "t.jsonl").write_text("")
    p = tmp_path / "study.toml"
    p.write_text(STUDY.format(line=line))
    with pytest.raises(StudyKeyError) as e:
        load_study(p)
    msg = str(e.value)
    assert key in msg and f"{p}:10:" in msg and "\n" not in msg


def test_grid_defaults_and_overrides(tmp_path):
    (tmp_path / "t.jsonl").write_text("")
    p = tmp_path / "study.toml"
    p.write_text(STUDY.format(line="baseline_days = [28, 7]\nseeds = 3"))
    s = load_study(p).sensitivity
    assert s.baseline_days == (7.0, 28.0) and s.seeds == 3
    assert s.resolutions == (0.5, 1.0, 2.0)
    assert np.isclose(s.consensus_threshold, 0.5)


def test_headline_sentences_say_whether_the_direction_holds(fixture):
    from netsupport.report_findings import findings

    tables, study, st = fixture
    metrics = analyse(tables, study, stance=st).metrics
    lift_sentence = findings(metrics).sentences[0].text()
    s = metrics["sensitivity"]["summary"]["attention_lift"]["focal"]
    expected = "holds" if s["holds"] else "does not hold"
    assert f"The direction {expected} over the sensitivity grid" in lift_sentence
    # a grid where one covered specification flips the lift below 1 says so
    flipped = dict(metrics)
    flipped["sensitivity"] = {
        **metrics["sensitivity"],
        "summary": {
            **metrics["sensitivity"]["summary"],
            # (the fixture's grid has one distinct covered specification of the lift: its
            # VADER cut-offs decide no post and only its own 4-day baseline lies in the data)
            "attention_lift": {"focal": {**s, "holds": False, "same_sign": 9, "specs": 10}},
        },
    }
    text = findings(flipped).sentences[0].text()
    assert "does not hold over the sensitivity grid: above 1 in 9 of 10 specifications" in text


def test_specification_curve_is_byte_stable(fixture):
    from netsupport import charts
    from netsupport.report_evidence import _panels

    tables, study, st = fixture
    metrics = analyse(tables, study, stance=st).metrics
    pngs = [
        charts.figure_bytes(
            charts.specification_curve(
                _panels(metrics), focal_label="@lane", institution_label="@force"
            ),
            "png",
        )
        for _ in range(2)
    ]
    assert pngs[0] == pngs[1] and pngs[0][:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("case", range(30))
def test_net_counts_majorities_as_the_means_of_majority_codes_did(case):
    # _net counts the accounts whose stance is the only maximum instead of selecting the
    # accounts and taking _majority_codes' means: the same floats, ties included
    g = np.random.default_rng(case)
    n, n_acc = int(g.integers(1, 500)), int(g.integers(1, 60))
    u = _Units(
        side=np.zeros(n, np.int64),
        stance=g.integers(-1, 3, n),
        account=g.integers(0, n_acc, n),
        n_accounts=n_acc,
        time=np.zeros(n, np.int64),
    )
    mask = g.random(n) < 0.7
    ok = mask & (u.stance >= 0)
    counts = np.bincount(u.account[ok] * 3 + u.stance[ok], minlength=n_acc * 3).reshape(-1, 3)
    maj = _majority_codes(counts[counts.sum(axis=1) > 0])
    want = float((maj == 0).mean() - (maj == 1).mean()) if ok.any() else None
    assert _net(u, mask) == want


def test_window_grid_records_equal_units_made_afresh_at_every_cut_off(fixture):
    # window_grid makes the post units once and re-labels their stance for the other cut-offs
    # (post_units picks rows by post, side and rule); each record must be what the units made
    # from the re-labelled table give
    _, study, st = fixture
    table = st.table.copy()
    scored = ~table["rule"].isin(["label", "repost"]).to_numpy()
    table.loc[scored, "rule"] = "vader"  # scores spread over the cut-offs: their stances move
    table.loc[scored, "score"] = np.linspace(-0.3, 0.3, int(scored.sum()))
    records = window_grid(table, study)
    for rec in records:
        relabelled = restance(table, rec["positive_threshold"], rec["negative_threshold"])
        w = variant_windows(
            study.windows, rec["start_shift_days"], rec["end_shift_days"], rec["baseline_days"]
        )
        assert rec["values"] == spec_measures(post_units(relabelled), w)
    own_windows = [r for r in records if (r["start_shift_days"], r["end_shift_days"]) == (0, 0)]
    assert len({str(r["values"]["net_support_crisis"]) for r in own_windows}) > 1


def _own_and_declared(study) -> tuple[tuple[float, float], list[list[float]]]:
    own = (study.stance.positive_threshold, study.stance.negative_threshold)
    declared = [list(own)] + [[t, -t] for t in study.sensitivity.thresholds if (t, -t) != own]
    return own, declared


def _window_choices(records) -> set:
    return {(r["start_shift_days"], r["end_shift_days"], r["baseline_days"]) for r in records}


def test_a_stance_a_model_and_the_codes_decide_leaves_the_cut_off_axis_out(fixture):
    """Review t6 #1: the cut-offs re-threshold only VADER-decided rows; on the example a model
    or a hand code decided every post, so each window choice was counted three times ("all 81
    specifications" were 27 choices, 9 for net support in the crisis)."""
    _, study, st = fixture
    table = st.table.copy()
    table["rule"] = np.where(table["rule"].eq("label"), "label", "model")
    own, declared = _own_and_declared(study)
    recs = window_grid(table, study)
    assert {(r["positive_threshold"], r["negative_threshold"]) for r in recs} == {own}
    assert len(recs) == len(_window_choices(recs))  # each window choice once
    block = sensitivity(table, study)["cutoffs"]
    assert block == {
        "declared": declared,
        "varied": [list(own)],
        "varies": False,
        "reason": "a stance model decides every post that has no hand code",
    }
    table["rule"] = "label"
    assert stance_cutoffs(table, study)[1]["reason"] == "a hand code decides every post"


def test_a_stance_the_vader_score_decides_keeps_every_cut_off_that_moves_it(fixture):
    _, study, st = fixture
    table = st.table.copy()
    scored = ~table["rule"].isin(["label", "repost"]).to_numpy()
    table.loc[scored, "rule"] = "vader"
    table.loc[scored, "score"] = np.linspace(-0.3, 0.3, int(scored.sum()))
    own, declared = _own_and_declared(study)
    recs = window_grid(table, study)
    cuts = [(r["positive_threshold"], r["negative_threshold"]) for r in recs]
    assert sorted(set(cuts)) == sorted(tuple(c) for c in declared)
    assert len(recs) == len(_window_choices(recs)) * len(declared)
    assert stance_cutoffs(table, study)[1] == {
        "declared": declared,
        "varied": declared,
        "varies": True,
    }
    # scores beyond every cut-off: the VADER rows keep their stance at each, one cut-off left
    table.loc[scored, "score"] = np.where(np.arange(int(scored.sum())) % 2, 0.9, -0.9)
    kept, block = stance_cutoffs(table, study)
    assert kept == [own] and block["reason"] == "moving them changes no post's stance"


def test_the_summary_counts_a_measure_once_per_choice_it_reads():
    """Net support in the crisis reads no baseline and the attention ratios no stance: the
    specifications that differ only there give the same value and were counted each time."""
    recs = [
        {
            "study": (b, t) == (14, 0.05),
            "covered": True,
            "start_shift_days": 0.0,
            "end_shift_days": 0.0,
            "baseline_days": b,
            "positive_threshold": t,
            "negative_threshold": -t,
            "values": {
                "net_support_crisis": {"focal": 0.5 + t},
                "attention_lift": {"focal": b / 7},
                "reputational_change": {"focal": b / 100 + t},
                "persistence_attention": {"focal": 2.0},
            },
        }
        for t in (0.05, 0.1)
        for b in (14, 7, 28)
    ]
    s = summarise_grid(recs)
    specs = {k: s[k]["focal"]["specs"] for k in s if "specs" in s[k]["focal"]}  # (no level)
    assert specs == {
        "attention_lift": 3,
        "net_support_crisis": 2,
        "reputational_change": 6,
        "persistence_attention": 3,
    }
    assert (s["net_support_crisis"]["focal"]["min"], s["net_support_crisis"]["focal"]["max"]) == (
        0.55,
        0.6,
    )


def _corrected_grid_metrics(fixture) -> dict:
    """The grid of the fixture's stance as a model and codes decide it, beside a headline whose
    net support in the crisis is error-corrected (it carries the naive figure)."""
    _, study, st = fixture
    table = st.table.copy()
    table["rule"] = np.where(table["rule"].eq("label"), "label", "model")
    m = {
        "sensitivity": sensitivity(table, study),
        "headline": {
            "net_support_crisis": {"focal": {"value": 0.3, "naive": 0.44}},
            "reputational_change": {"focal": {"value": 0.1, "low": 0.0, "high": 0.2}},
        },
    }
    mark_uncorrected(m)
    return m


def test_the_grid_says_it_re_runs_the_uncorrected_net_support(fixture):
    """Review t6 #4: the section and Figure 9 tested the uncorrected net support under the name
    of the headline, which gives the error-corrected one."""
    from netsupport.report_evidence import _panels, sensitivity_chart, sensitivity_context

    m = _corrected_grid_metrics(fixture)
    summary = m["sensitivity"]["summary"]
    assert summary["net_support_crisis"]["focal"]["basis"] == "uncorrected"
    assert "basis" not in summary["reputational_change"]["focal"]  # not corrected: nothing to say
    assert "basis" not in summary["attention_lift"]["focal"]
    ctx = sensitivity_context(m, institution=True)
    assert ctx["uncorrected"] is True
    labels = {row[0] for row in ctx["rows"]}
    assert "Net support in the crisis (uncorrected)" in labels
    assert "Attention lift, crisis / baseline" in labels
    assert "Change in net support, crisis − baseline" in labels
    assert ctx["grid"].endswith(
        "days (the stance cut-offs are not varied: a stance model decides every post that has "
        "no hand code); apart from these, the communities were found again by louvain and leiden "
        "at resolution 0.5, 1, 2 with 5 seeds each"
    )
    titles = [p["title"] for p in _panels(m)]
    assert titles[1] == "Net support in the crisis (uncorrected)"
    caption = sensitivity_chart(m, "@lane", "@force")[3].text()
    assert "stance cut-offs not varied" in caption
    assert caption.endswith(
        "Net support is the uncorrected figure: the grid does not re-run the error correction."
    )


def test_figure_9_draws_each_distinct_specification_once(fixture):
    from netsupport.report_evidence import _panels

    m = _corrected_grid_metrics(fixture)
    specs = m["sensitivity"]["specs"]
    measured = [r for r in specs if r["values"]["net_support_crisis"]["focal"] is not None]
    crisis_choices = {(r["start_shift_days"], r["end_shift_days"]) for r in measured}
    panels = {p["title"]: p for p in _panels(m)}
    net = panels["Net support in the crisis (uncorrected)"]["values"]["focal"]
    # one dot per crisis start and end (6 with a focal post), not one per baseline length too
    # (the own 4 days, and 7, 14, 28: 6 x 3 + 1 specifications)
    assert (len(net), len(crisis_choices), len(measured)) == (6, 6, 19)
    assert sum(1 for _, own, _rules in net if own) == 1


def _disagreeing_table() -> tuple[pd.DataFrame, np.ndarray]:
    """Seven post units in the fixture study's windows (baseline 10-14 Feb, crisis 14-16 Feb):
    the model and the rules disagree on p1, p4, p6 and p7; p3 is hand-coded (the rules' code
    beside it, supportive, must be ignored)."""
    sup, cri, neu = "supportive", "critical", "neutral"
    rows = [  # post, account, side, day, study's stance, rule, the rules' stance
        ("p1", "a", "focal", 14, sup, "model", cri),
        ("p2", "b", "focal", 14, sup, "model", sup),
        ("p3", "c", "focal", 15, cri, "label", sup),
        ("p4", "d", "focal", 15, neu, "model", sup),
        ("p5", "a", "focal", 12, cri, "model", cri),
        ("p6", "b", "focal", 12, neu, "model", sup),
        ("p7", "e", "institution", 14, cri, "model", neu),
    ]
    table = pd.DataFrame(
        {
            "post_id": [r[0] for r in rows],
            "source": [r[1] for r in rows],
            "target": ["lane" if r[2] == "focal" else "force" for r in rows],
            "kind": ["reply"] * len(rows),
            "created_at": pd.to_datetime([f"2014-02-{r[3]}T12:00Z" for r in rows], utc=True),
            "window": ["crisis" if r[3] >= 14 else "baseline" for r in rows],
            "target_side": [r[2] for r in rows],
            "stance": [r[4] for r in rows],
            "score": [0.9] * len(rows),
            "rule": [r[5] for r in rows],
        }
    )
    order = ("supportive", "critical", "neutral")
    return table, np.array([order.index(r[6]) for r in rows], dtype=np.int8)


def test_the_classifier_axis_gives_the_rules_decisions_on_the_model_decided_rows(fixture):
    """Issue 13 (sen2): the grid re-runs the stance measures with the rules' own decisions where
    the model decided, hand codes kept. By hand, focal side, study's own windows:
    model: crisis a sup, b sup, c cri (code), d neu: net 2/4 - 1/4 = +0.25; baseline a cri,
    b neu: -1/2; change +0.75. Rules: crisis a cri, b sup, c cri (code), d sup: 2/4 - 2/4 = 0;
    baseline a cri, b sup: 0; change 0. Institution, crisis: e cri (-1) against neu (0)."""
    _, study, _ = fixture
    grid = dataclasses.replace(study.sensitivity, window_shift_days=(0.0,), baseline_days=(4.0,))
    study = dataclasses.replace(study, sensitivity=grid)
    table, rules = _disagreeing_table()
    codes, block = stance_classifiers(table, rules)
    assert block == {"varied": ["study", "rules"], "varies": True, "model_units": 6,
                     "changed_units": 4}  # fmt: skip
    assert codes.tolist() == [1, 0, 1, 0, 1, 0, 2]  # p3 keeps its code (critical)
    sens = sensitivity(table, study, rules=rules)
    assert sens["classifiers"] == block
    recs = sens["specs"]
    assert [(r["classifier"], r["study"]) for r in recs] == [("study", True), ("rules", False)]
    study_v, rules_v = recs[0]["values"], recs[1]["values"]
    assert study_v["net_support_crisis"] == {"focal": 0.25, "institution": -1.0}
    assert rules_v["net_support_crisis"] == {"focal": 0.0, "institution": 0.0}
    assert study_v["reputational_change"]["focal"] == pytest.approx(0.75)
    assert rules_v["reputational_change"]["focal"] == pytest.approx(0.0)
    assert study_v["attention_lift"] == rules_v["attention_lift"]  # attention reads no stance
    s = sens["summary"]
    net = s["net_support_crisis"]["focal"]
    assert (net["specs"], net["same_sign"], net["holds"], net["min"], net["max"]) == (
        2, 1, False, 0.0, 0.25,
    )  # fmt: skip
    assert net["by_classifier"] == {
        "study": {"min": 0.25, "max": 0.25, "specs": 1, "same_sign": 1},
        "rules": {"min": 0.0, "max": 0.0, "specs": 1, "same_sign": 0},
    }
    assert (
        s["attention_lift"]["focal"]["specs"] == 1
        and "by_classifier" not in (s["attention_lift"]["focal"])
    )
    # the report names each classifier's range, the rules' on rows of their own
    from netsupport.report_evidence import grid_clause, sensitivity_context

    m = {"sensitivity": sens}
    assert grid_clause(m, "net_support_crisis").endswith(
        "above 0 in 1 of 2 specifications (+25 in the 1 with the stance model; 0 in the 1 with "
        "the rules alone, 0 of them in the same direction)."
    )
    ctx = sensitivity_context(m, institution=True)
    rows = {(r[0], r[1]): r[2:] for r in ctx["rows"]}
    # the Study cell of a rules row: the study's own specification with the rules (review t8
    # m5: it was blank, so the table did not say how far the classifier alone moves it)
    assert rows[("Net support in the crisis, with the rules alone", "focal")] == [
        "0", "0", "0 of 1", "no",
    ]  # fmt: skip
    assert "in 2 of the specifications" not in ctx["classifiers"]
    assert "in 1 of the specifications each of the 6 posts" in ctx["classifiers"]


def test_a_study_without_a_model_gets_no_classifier_axis(fixture):
    _, study, st = fixture
    sens = sensitivity(st.table, study)  # the fixture's rules, no model, no hand code
    assert "classifiers" not in sens
    assert not any("classifier" in r for r in sens["specs"])
    assert not any("by_classifier" in e for v in sens["summary"].values() for e in v.values())
    table = _disagreeing_table()[0]
    table["rule"] = np.where(table["rule"].eq("label"), "label", "vader")
    _, block = stance_classifiers(table, None)
    assert block == {
        "varied": ["study"],
        "varies": False,
        "reason": "no stance model decided any post: the rules and the hand codes decide them",
    }


def test_a_later_crisis_start_keeps_declared_crisis_time_out_of_the_baseline():
    """Review t7 M3: with the start moved a day later the baseline was the d days before the
    moved start, so it held the crisis's first (peak) day and attention after / before fell
    below 1 mechanically. The baseline now ends at the declared start; the day between is in
    no window. By hand: declared crisis 3-5 Jan, baseline 2 days; posts on 1, 2 (baseline),
    3 x3 (declared first crisis day), 4 and 5 Jan (moved crisis 4-6 Jan)."""
    from netsupport.windows import Windows

    days = [1, 2, 3, 3, 3, 4, 5]
    u = pd.DataFrame(
        {
            "target_side": ["focal"] * len(days),
            "source": [f"a{i}" for i in range(len(days))],
            "stance": ["supportive"] * len(days),
            "created_at": pd.to_datetime([f"2014-01-0{d}T12:00Z" for d in days], utc=True),
        }
    )
    w = Windows.from_crisis("2014-01-03T00:00Z", "2014-01-05T00:00Z", 2, 2)
    later = variant_windows(w, 1.0, 1.0, 2.0)
    assert (later.baseline_start, later.baseline_end) == (w.baseline_start, w.crisis_start)
    assert later.days("baseline") == 2.0
    m = spec_measures(u, later)
    # baseline 1-2 Jan: 2 posts / 2 days; crisis 4-6 Jan: 2 posts / 2 days (3 Jan in neither)
    assert m["attention_lift"]["focal"] == pytest.approx(1.0)
    # the old baseline (2-3 Jan) held 4 posts: the lift read 0.5
    assert later.as_dict()["baseline_end"] == "2014-01-03T00:00:00Z"
    earlier = variant_windows(w, -1.0, 0.0, 2.0)  # moved earlier: the baseline ends at its start
    assert earlier.baseline_end is None and earlier.days("baseline") == 2.0


def test_the_grid_re_runs_the_time_series_level_change_as_the_headline_fits_it():
    """Review t7 X1: the grid's level change of a specification is the time-series model of
    the headline (its_lift on timeline_counts of the units in those windows), from array
    counts; the study's own specification gives the headline's value."""
    from netsupport.support.timeseries import its_lift, timeline_counts
    from netsupport.windows import Windows, assign_windows

    g = np.random.default_rng(5)
    w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T09:00Z", 14, 10)
    t0, t1 = pd.Timestamp("2014-01-31T09:00Z").value, pd.Timestamp("2014-03-01T09:00Z").value
    t = np.sort(g.integers(t0, t1, 3000))
    peak = g.integers(w.crisis_start.value, w.crisis_end.value, 1500)
    times = pd.to_datetime(np.concatenate([t, peak]), utc=True)
    u = pd.DataFrame(
        {
            "target_side": np.where(g.random(len(times)) < 0.6, "focal", "institution"),
            "source": [f"a{i % 400}" for i in range(len(times))],
            "stance": "neutral",
            "created_at": times,
        }
    )
    for spec in [(0.0, 0.0, 14.0), (1.0, -1.0, 7.0), (-1.0, 1.0, 14.0)]:
        sw = variant_windows(w, *spec)
        got = spec_measures(u, sw, "D")["attention_level_change"]
        units = u.assign(window=assign_windows(u["created_at"], sw).astype(object))
        if sw.baseline_end is not None:  # the time between the baseline and the crisis
            gap = (u["created_at"] >= sw.baseline_end) & (u["created_at"] < sw.crisis_start)
            units.loc[gap.to_numpy(), "window"] = None
        tl = timeline_counts(units, "D")
        for side in ("focal", "institution"):
            want = its_lift(tl, side, sw, "D")["level_change"]["value"]
            assert got[side] == pytest.approx(want, rel=1e-9), (spec, side)


def _tie_world(seed: int):
    """Random units addressing @lane, follows (dated, undated) and interactions (ties with
    @lane, activity with others) around a crisis of 14-19 Feb with a 14-day baseline."""
    from netsupport.windows import Windows

    g = np.random.default_rng(seed)
    w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T09:00Z", 14, 10)
    t0, t1 = pd.Timestamp("2014-01-25T09:00Z").value, pd.Timestamp("2014-03-01T09:00Z").value
    accounts = [f"a{i:03d}" for i in range(160)]
    n = 900
    units = pd.DataFrame(
        {
            "target_side": np.where(g.random(n) < 0.8, "focal", "institution"),
            "source": g.choice(accounts, n),
            "stance": g.choice(["supportive", "critical", "neutral"], n, p=[0.5, 0.2, 0.3]),
            "created_at": pd.to_datetime(np.sort(g.integers(t0, t1, n)), utc=True),
        }
    )
    fw = g.choice(accounts, 70, replace=False)
    obs = pd.to_datetime(g.integers(t0, t1, len(fw)), utc=True).to_series().reset_index(drop=True)
    obs[g.random(len(fw)) < 0.4] = pd.NaT  # a follower list without dates
    follows = pd.DataFrame({"follower": fw, "followee": "lane", "observed_at": obs})
    m = 1500
    src = g.choice([*accounts, "lane"], m)
    dst = np.where(g.random(m) < 0.3, "lane", g.choice([*accounts, "x1", "x2"], m))
    dst = np.where(src == "lane", g.choice(accounts, m), dst)
    inter = pd.DataFrame(
        {
            "source": src,
            "target": dst,
            "kind": g.choice(["reply", "mention", "repost", "follow"], m, p=[0.4, 0.3, 0.2, 0.1]),
            "created_at": pd.to_datetime(g.integers(t0, t1, m), utc=True),
        }
    )
    return units, follows, inter, w


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_grid_re_runs_the_prior_tie_share_and_odds_ratio_as_the_headline(seed):
    """t13: the grid's prior-tie share and adjusted odds ratio of a specification are the
    headline's (supporters + prior_ties, tie_comparison with the baseline graph's activity),
    from arrays made once; for window choices whose baseline ends at their crisis start."""
    from netsupport import graph
    from netsupport.support import prior_ties, supporters
    from netsupport.support.comparisons import tie_comparison
    from netsupport.support.sensitivity import TieInputs, _spec_measures
    from netsupport.windows import assign_windows

    units, follows, inter, w = _tie_world(seed)
    u = _Units.of(units)
    ties = TieInputs.of(u.handles, ("lane",), follows, inter, inter)
    for spec in [(0.0, 0.0, 14.0), (-1.0, 1.0, 7.0), (-1.0, -1.0, 28.0), (0.0, 1.0, 7.0)]:
        sw = variant_windows(w, *spec)
        assert sw.baseline_end is None
        got = _spec_measures(u, sw, None, (), ties)[0]
        wu = units.assign(window=assign_windows(units["created_at"], sw).astype(object))
        sup = supporters(wu)
        share = prior_ties(sup, ("lane",), follows, inter, sw)["prior_tie"].mean()
        assert got["prior_tie_share"]["focal"] == pytest.approx(share, rel=1e-12), spec
        tc = tie_comparison(
            wu, ("lane",), follows, inter, sw, baseline_edges=graph.baseline_edges(inter, sw)
        )
        odds = tc["variants"]["all_ties"]["odds_ratio"]["value"]
        assert got["prior_tie_odds_ratio"]["focal"] == pytest.approx(odds, rel=1e-9), spec
        assert "prior_tie_share" not in got or "institution" not in got["prior_tie_share"]


def test_a_tie_made_between_the_declared_and_a_later_crisis_start_is_not_prior():
    """With the crisis start moved later the baseline ends at the declared start: a follow or
    a reply in the day between is no prior tie (it was made in the declared crisis). By hand:
    supporters s1 s2 s3 (crisis 15-20 Feb); s1 followed on 10 Feb, s2 replied to @lane on
    14 Feb 12:00 (declared crisis), s3 follows with no date."""
    from netsupport.support.sensitivity import TieInputs, _spec_measures
    from netsupport.windows import Windows

    w = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-19T09:00Z", 14, 10)
    units = pd.DataFrame(
        {
            "target_side": "focal",
            "source": ["s1", "s2", "s3", "c1"],
            "stance": ["supportive", "supportive", "supportive", "critical"],
            "created_at": pd.to_datetime(["2014-02-16T00:00Z"] * 4, utc=True),
        }
    )
    follows = pd.DataFrame(
        {
            "follower": ["s1", "s3"],
            "followee": "lane",
            "observed_at": pd.to_datetime(["2014-02-10T00:00Z", None], utc=True),
        }
    )
    inter = pd.DataFrame(
        {
            "source": ["s2"],
            "target": ["lane"],
            "kind": ["reply"],
            "created_at": pd.to_datetime(["2014-02-14T12:00Z"], utc=True),
        }
    )
    u = _Units.of(units)
    ties = TieInputs.of(u.handles, ("lane",), follows, inter, inter)
    own = _spec_measures(u, w, None, (), ties)[0]["prior_tie_share"]["focal"]
    later = _spec_measures(u, variant_windows(w, 1.0, 1.0, 14.0), None, (), ties)[0]
    assert own == pytest.approx(2 / 3)  # s1 (follow), s3 (undated follow); s2's reply is crisis
    assert later["prior_tie_share"]["focal"] == pytest.approx(2 / 3)  # the same: not 3 / 3
    inter.loc[0, "created_at"] = pd.Timestamp("2014-02-13T12:00Z")  # in the baseline now
    ties = TieInputs.of(u.handles, ("lane",), follows, inter, inter)
    later = _spec_measures(u, variant_windows(w, 1.0, 1.0, 14.0), None, (), ties)[0]
    assert later["prior_tie_share"]["focal"] == pytest.approx(1.0)


def test_the_prior_tie_share_is_a_level_the_summary_gives_no_direction():
    recs = [
        {"study": True, "covered": True, "values": {"prior_tie_share": {"focal": 0.6}}},
        {"study": False, "covered": True, "values": {"prior_tie_share": {"focal": 0.4}}},
    ]
    s = summarise_grid(recs)["prior_tie_share"]
    assert s["focal"] == {"null": None, "study": 0.6, "min": 0.4, "max": 0.6, "specs": 2}
    assert "institution" not in s
