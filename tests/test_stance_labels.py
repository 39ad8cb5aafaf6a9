"""Hand labels as a design: the coding sheet's sampling, coder agreement, bad label files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_support_fixture, support_fixture_study
from test_stance import _store_from_fixture
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.errors import InputFileError
from netsupport.stance import (
    SHEET_COLUMNS,
    coding_sheet,
    load_labels,
    read_labels,
    stance_table,
)

# ---- the coding sheet as a sampling design -------------------------------------------------------


def _units_table(n_by_stratum: dict[tuple[str, str], int], seed: int = 0) -> pd.DataFrame:
    """A stance table with the given number of units per (stance, window), scores in (-1, 1)."""
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for (stance, window), n in sorted(n_by_stratum.items()):
        for _ in range(n):
            rows.append(
                {
                    "post_id": f"p{k:05d}",
                    "source": f"a{k}",
                    "target": "lane",
                    "kind": "mention",
                    "created_at": pd.Timestamp("2014-02-14", tz="UTC"),
                    "window": window,
                    "target_side": "focal",
                    "stance": stance,
                    "score": float(rng.uniform(-1, 1)),
                    "rule": "vader",
                }
            )
            k += 1
    return pd.DataFrame(rows)


def _posts(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"post_id": table["post_id"], "text": "text of " + table["post_id"]})


def test_sheet_inclusion_probabilities_are_n_h_over_N_h():
    sizes = {("supportive", "crisis"): 40, ("critical", "crisis"): 4, ("neutral", "baseline"): 16}
    table = _units_table(sizes)
    sheet = coding_sheet(table, _posts(table), 12, seed=1)
    assert list(sheet.columns) == SHEET_COLUMNS
    assert (sheet["sample"] == "probability").all()
    # 12 over 3 strata: 4 each (the critical stratum has exactly 4, so it is taken whole)
    stratum = table.set_index("post_id")["stance"].reindex(sheet["post_id"]).to_numpy()
    pi = sheet["inclusion_probability"].astype(float).to_numpy()
    expected = {"supportive": 4 / 40, "critical": 4 / 4, "neutral": 4 / 16}
    assert pi.tolist() == [expected[s] for s in stratum]
    # Horvitz-Thompson: the weights of the sample add up to the population, stratum by stratum
    assert pd.Series(1 / pi).groupby(stratum).sum().to_dict() == {
        "critical": 4.0,
        "neutral": 16.0,
        "supportive": 40.0,
    }


def test_weighted_sheet_recovers_a_planted_share_where_the_plain_mean_does_not():
    """Planted truth: 30% of units are truly supportive, unevenly across predicted strata; the
    equal-allocation sample over-represents the small strata, and 1/pi weights correct it."""
    sizes = {("supportive", "crisis"): 300, ("critical", "crisis"): 60, ("neutral", "crisis"): 140}
    table = _units_table(sizes)
    truth = np.zeros(len(table), dtype=bool)  # supportive in truth
    pred = table["stance"].to_numpy()
    truth[np.flatnonzero(pred == "supportive")[:140]] = True  # 140 of 300
    truth[np.flatnonzero(pred == "neutral")[:10]] = True  # 10 of 140
    planted = truth.mean()  # 150 / 500
    assert planted == pytest.approx(0.3)
    is_true = dict(zip(table["post_id"], truth, strict=True))
    weighted, plain = [], []
    posts = _posts(table)
    for seed in range(150):
        sheet = coding_sheet(table, posts, 90, seed=seed)
        y = sheet["post_id"].map(is_true).to_numpy(dtype=float)
        w = 1 / sheet["inclusion_probability"].astype(float).to_numpy()
        weighted.append((w * y).sum() / w.sum())
        plain.append(y.mean())
    # the plain mean estimates (140/300 + 0 + 10/140) / 3 = 0.179; the weighted one 0.3
    # (30 a stratum; Monte Carlo standard error of the mean of 150 draws: 0.004; measured 0.302)
    assert np.mean(weighted) == pytest.approx(planted, abs=0.015)
    assert np.mean(plain) == pytest.approx((140 / 300 + 10 / 140) / 3, abs=0.01)


def test_active_items_are_the_least_certain_and_marked():
    table = _units_table({("supportive", "crisis"): 30, ("critical", "crisis"): 30})
    table.loc[table.index[:2], "rule"] = "label"  # already labelled: never asked again
    table.loc[table.index[:2], "score"] = 0.0
    table.loc[table.index[2:5], "score"] = 0.0  # three ties at the top
    sheet = coding_sheet(table, _posts(table), 6, seed=3, active=5)
    assert len(sheet) == 11
    act = sheet[sheet["sample"] == "active"]
    prob = sheet[sheet["sample"] == "probability"]
    assert len(act) == 5 and len(prob) == 6
    assert (act["inclusion_probability"] == "").all()
    assert not set(act["post_id"]) & set(prob["post_id"])
    free = table[(table["rule"] != "label") & ~table["post_id"].isin(prob["post_id"])]
    cutoff = np.sort(np.abs(free["score"].to_numpy()))[4]
    chosen = table.set_index("post_id").loc[act["post_id"], "score"].abs()
    assert (chosen <= cutoff).all()
    assert not set(act["post_id"]) & set(table["post_id"][:2])
    # deterministic for a seed; the probability rows are the draw without --active
    again = coding_sheet(table, _posts(table), 6, seed=3, active=5)
    pd.testing.assert_frame_equal(sheet, again)
    plain = coding_sheet(table, _posts(table), 6, seed=3)
    assert set(plain["post_id"]) == set(prob["post_id"])


def test_active_skips_units_without_text():
    table = _units_table({("neutral", "crisis"): 6})
    posts = _posts(table)
    posts.loc[posts.index[:3], "text"] = ""  # no-text units cannot be coded from their text
    sheet = coding_sheet(table, posts, 0, seed=0, active=6)
    assert len(sheet) == 3 and set(sheet["post_id"]) == set(table["post_id"][3:])


def _sheet_cli(tmp_path, *extra: str):
    """Run ``netsupport stance`` on the support fixture's store (made in ``tmp_path``), writing
    ``tmp_path / stance.csv``, with the ``extra`` options."""
    _store_from_fixture(tmp_path / "store")
    args = ["stance", "--store", str(tmp_path / "store"), "--focal", "lane"]
    args += ["--institution", "force", "--crisis", "2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z"]
    args += ["--baseline-days", "4", "--after-days", "4", "--out", str(tmp_path / "stance.csv")]
    return CliRunner().invoke(app, [*args, *extra])


def test_cli_sheet_with_active_is_formula_safe(tmp_path):
    r = _sheet_cli(tmp_path, "--sample", "6", "--active", "3")
    assert r.exit_code == 0, r.output
    sheet = pd.read_csv(tmp_path / "stance.coding.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == SHEET_COLUMNS
    assert sorted(sheet["sample"].value_counts().items()) == [("active", 3), ("probability", 6)]
    # handles and texts starting with @ are neutralised for spreadsheets
    assert not any(v.startswith(("=", "+", "-", "@")) for v in sheet.to_numpy().ravel())
    assert sheet["text"].str.startswith("'@").any()
    # filled in and given back, the sheet is a labels file that keeps its design columns
    filled = tmp_path / "stance.coding.csv"
    coded = pd.read_csv(filled, dtype=str, keep_default_na=False)
    coded["stance"] = ["supportive", "critical", "neutral"] * 3
    coded.to_csv(filled, index=False)
    lab = load_labels(filled)
    assert len(lab) == 9 and lab["sample"].value_counts()["active"] == 3
    pi = lab.loc[lab["sample"] == "probability", "inclusion_probability"]
    assert ((pi > 0) & (pi <= 1)).all()
    assert lab.loc[lab["sample"] == "active", "inclusion_probability"].isna().all()


# ---- coders --------------------------------------------------------------------------------------


def test_two_coders_give_krippendorff_alpha_by_hand(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text(
        "post_id,stance_ana,stance_ben\n"
        "1,supportive,supportive\n2,critical,critical\n3,neutral,critical\n4,neutral,neutral\n"
    )
    f = read_labels(p)
    # coincidence matrix: n = 8 pairable values; S 2, C 3, N 3; one N-C pair each way
    # D_o = 2/8, D_e = (2*3 + 2*3 + 3*3) * 2 / (8 * 7) = 42/56, alpha = 1 - D_o/D_e = 2/3
    assert f.coders["alpha"] == pytest.approx(2 / 3)
    assert f.coders["coders"] == ["ana", "ben"] and f.coders["items"] == 4
    assert f.coders["disagreements"] == [
        {
            "post_id": "3",
            "target_side": None,
            "line": 4,
            "codes": {"ana": "neutral", "ben": "critical"},
            "resolved": "",
        }
    ]
    assert f.coders["unresolved"] == 1
    # the tie is not a label; the agreed rows are
    assert f.labels["post_id"].tolist() == ["1", "2", "4"]


def test_majority_and_adjudication_resolve(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text(
        "post_id,target_side,stance,stance_c1,stance_c2,stance_c3\n"
        "1,focal,,supportive,supportive,critical\n"  # majority
        "2,focal,neutral,supportive,critical,\n"  # adjudicated tie
        "3,institution,,critical,,\n"  # one coder only: not pairable, still a label
        "4,institution,,,,\n"  # not coded: skipped
    )
    f = read_labels(p)
    assert f.labels[["post_id", "stance"]].values.tolist() == [
        ["1", "supportive"],
        ["2", "neutral"],
        ["3", "critical"],
    ]
    assert f.coders["items"] == 2 and f.coders["unresolved"] == 0
    assert [d["resolved"] for d in f.coders["disagreements"]] == ["supportive", "neutral"]


def test_design_columns_are_kept(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text(
        "post_id,stance,sample,inclusion_probability\n"
        "1,supportive,probability,0.25\n2,critical,active,\n3,neutral,probability,1\n"
    )
    lab = load_labels(p)
    assert list(lab.columns) == [
        "post_id",
        "target_side",
        "stance",
        "inclusion_probability",
        "sample",
        "line",
    ]
    assert lab["sample"].tolist() == ["probability", "active", "probability"]
    assert lab["inclusion_probability"].tolist()[0] == 0.25
    assert np.isnan(lab["inclusion_probability"].tolist()[1])
    p.write_text("post_id,stance,inclusion_probability\n1,supportive,0\n2,critical,0.5\n")
    with pytest.raises(InputFileError, match=r"line 2: inclusion_probability '0'"):
        load_labels(p)
    p.write_text("post_id,stance,sample\n1,supportive,random\n2,critical,active\n")
    with pytest.raises(InputFileError, match=r"line 2: sample 'random'"):
        load_labels(p)


def test_coder_agreement_reaches_the_stance_summary_and_disagreements_csv(tmp_path):
    _store_from_fixture(tmp_path / "store")
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "post_id,target_side,stance_a,stance_b\n"
        "C10,focal,supportive,critical\nC01,focal,neutral,neutral\nC03,focal,supportive,\n"
    )
    s = support_fixture_study()
    res = stance_table(
        load_support_fixture(), support_fixture_study(stance=s.stance.__class__(labels=labels))
    )
    coders = res.agreement["coders"]
    assert coders["coders"] == ["a", "b"] and coders["items"] == 2
    assert res.agreement["labels_matched"] == {
        "labels": 2,
        "matched": 2,
        "unmatched": 0,
        "unmatched_ids": [],
    }
    r = CliRunner().invoke(
        app,
        [
            "stance",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "lane",
            "--institution",
            "force",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "stance.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Krippendorff's alpha" in r.stdout and "1 disagreement (1 unresolved tie," in r.stdout
    dis = pd.read_csv(tmp_path / "stance.disagreements.csv", dtype=str, keep_default_na=False)
    assert dis.values.tolist() == [["C10", "focal", "2", "supportive", "critical", ""]]


# ---- bad label files: one line, exit 2, through the CLI ------------------------------------------


def _stance_cli(tmp_path, labels_text: str):
    if not (tmp_path / "store").exists():
        _store_from_fixture(tmp_path / "store")
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_text)
    return CliRunner().invoke(
        app,
        [
            "stance",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "lane",
            "--institution",
            "force",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "stance.csv"),
        ],
    )


def _one_line_error(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    assert lines[0].startswith("error: ") and "labels.csv" in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        # unknown stance words, in the stance column or a coder column
        ("post_id,stance\nC10,supportive\nC01,angry\n", "labels.csv:line 3: stance 'angry'"),
        (
            "post_id,stance_a,stance_b\nC10,supportive,pro\nC01,neutral,neutral\n",
            "labels.csv:line 2: stance_b 'pro'",
        ),
        # the same (post, side) twice with different stances: both lines named
        (
            "post_id,target_side,stance\nC10,focal,supportive\nC01,focal,neutral\n"
            "C10,focal,critical\n",
            "post C10 (focal) is labelled twice with different stances: supportive on line 2, "
            "critical on line 4 (1 post disagrees in all); keep one",  # (said "1 posts disagree")
        ),
        (
            "post_id,target_side,stance\nC10,focal,supportive\nC01,focal,neutral\n"
            "C10,focal,critical\nC01,focal,supportive\n",
            "critical on line 4 (2 posts disagree in all); keep one",
        ),
        # one stance only, or none coded
        ("post_id,stance\nC10,supportive\nC01,supportive\n", "only 'supportive' among 2"),
        ("post_id,stance\nC10,\nC01,\n", "no coded row"),
        # no label names a classified interaction of this store
        (
            "post_id,stance\nX1,supportive\nX2,neutral\n",
            "none of its 2 labels names a classified interaction",
        ),
        ("id,stance\n1,supportive\n", "needs columns post_id and stance"),
        # a column named twice (fz1: AttributeError 'DataFrame' object has no attribute 'str')
        (
            "post_id,stance_a,stance_a\nC10,supportive,supportive\nC01,neutral,neutral\n",
            "labels.csv:line 1: column 'stance_a' appears twice in the header",
        ),
        (
            "post_id,Stance,stance\nC10,supportive,supportive\nC01,neutral,neutral\n",
            "labels.csv:line 1: column 'stance' appears twice in the header",
        ),
        (
            "post_id,post_id,stance\nC10,C10,supportive\nC01,C01,neutral\n",
            "labels.csv:line 1: column 'post_id' appears twice in the header",
        ),
    ],
)
def test_cli_bad_label_files_are_one_line(tmp_path, text, expect):
    assert expect in _one_line_error(_stance_cli(tmp_path, text))


def test_cli_empty_header_cells_are_still_fine(tmp_path):
    # (a sheet saved from a spreadsheet may end each row in empty cells: not a column twice)
    r = _stance_cli(tmp_path, "post_id,stance,,\nC10,supportive,,\nC01,neutral,,\n")
    assert r.exit_code == 0, r.output


def test_cli_duplicates_that_agree_are_fine(tmp_path):
    r = _stance_cli(tmp_path, "post_id,stance\nC10,supportive\nC10,supportive\nC01,neutral\n")
    assert r.exit_code == 0, r.output
    assert "agreement with 2 hand labels" in r.stdout


def test_cli_some_labels_not_in_the_store_warn_and_are_counted(tmp_path):
    r = _stance_cli(tmp_path, "post_id,stance\nC10,supportive\nC01,neutral\nX9,critical\n")
    assert r.exit_code == 0, r.output
    # (it read "1 of 3 labels name no classified interaction and are not used")
    assert "warning: 1 of 3 labels names no classified interaction and is not used" in r.stderr
    assert "X9" in r.stderr


def test_run_with_bad_study_labels_is_one_line(tmp_path):
    _store_from_fixture(tmp_path / "store")
    (tmp_path / "in.jsonl").write_text("")
    (tmp_path / "labels.csv").write_text("post_id,stance\nC10,supportive\nC10,critical\n")
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "fx"\nfocal = ["lane"]\ninstitution = ["force"]\n'
        '[windows]\ncrisis_start = "2014-02-14T00:00:00Z"\ncrisis_end = "2014-02-16T00:00:00Z"\n'
        "baseline_days = 4\nafter_days = 4\n"
        '[[inputs]]\npath = "in.jsonl"\n'
        '[stance]\nlabels = "labels.csv"\n'
        "[support]\nbootstrap = 200\nseed = 5\n"
        '[output]\ndir = "out"\nstore = "store"\n'
    )
    r = CliRunner().invoke(app, ["run", str(tmp_path / "study.toml")])
    assert r.exit_code == 2, r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "labels.csv" in last
    assert "labelled twice with different stances" in last
    assert "Traceback" not in r.output
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_error_lines_are_lines_of_the_file(tmp_path):
    """A coding sheet's text may hold line breaks (quoted) and blank lines may sit between rows:
    the message names the line in the file (pandas' row index + 2 said line 3 here)."""
    p = tmp_path / "labels.csv"
    p.write_text('post_id,stance,text\n1,supportive,"two\nlines"\n\n2,angry,x\n')
    with pytest.raises(InputFileError, match=r"labels.csv:line 5: stance 'angry'"):
        load_labels(p)
    p.write_text("post_id,stance\n1,supportive,extra\n")
    with pytest.raises(InputFileError, match=r"line 2: 3 fields, the header has 2"):
        load_labels(p)
    p.write_text("")
    with pytest.raises(InputFileError, match="empty"):
        load_labels(p)


def test_run_stance_line_warns_about_unmatched_labels():
    from netsupport.stance import StanceResult
    from netsupport.study import _labels_note

    agree = {"labels_matched": {"labels": 3, "matched": 2, "unmatched": 1, "unmatched_ids": ["X"]}}
    res = StanceResult(pd.DataFrame(), agree, {})
    assert _labels_note(res) == (
        "; warning: 1 of 3 labels names no classified interaction and is not used"
    )
    agree["labels_matched"].update(matched=1, unmatched=2)
    assert _labels_note(res) == (
        "; warning: 2 of 3 labels name no classified interaction and are not used"
    )
    agree["labels_matched"]["unmatched"] = 0
    assert _labels_note(res) == ""
    assert _labels_note(StanceResult(pd.DataFrame(), {"status": "not measured"}, {})) == ""


def test_cli_support_warns_about_unmatched_labels_too(tmp_path):
    _store_from_fixture(tmp_path / "store")
    labels = tmp_path / "labels.csv"
    labels.write_text("post_id,stance\nC10,supportive\nC01,neutral\nX9,critical\n")
    r = CliRunner().invoke(
        app,
        [
            "support",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "lane",
            "--institution",
            "force",
            "--crisis",
            "2014-02-14T00:00:00Z",
            "2014-02-16T00:00:00Z",
            "--baseline-days",
            "4",
            "--after-days",
            "4",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "metrics.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    # (it read "1 of 3 labels name no classified interaction and are not used")
    assert "warning: 1 of 3 labels names no classified interaction and is not used" in r.stderr


# ---- the sheet drawn by account (--sample-by account) --------------------------------------------


def _accounts_table() -> pd.DataFrame:
    """Clusters (account, side, window) with their posts' predicted stances; by hand, their
    strata (window x majority, ties neutral): crisis S {a1 focal, a4 focal, a2 institution},
    crisis C {a2 focal}, crisis N {a3 (S, C tie), a5 (N, S, C tie)}, baseline C {a1},
    baseline N {a6}."""
    spec = [
        ("a1", "focal", "crisis", ["supportive", "supportive", "critical"]),
        ("a2", "focal", "crisis", ["critical", "critical"]),
        ("a2", "institution", "crisis", ["supportive"]),
        ("a3", "focal", "crisis", ["supportive", "critical"]),
        ("a4", "focal", "crisis", ["supportive"]),
        ("a5", "focal", "crisis", ["neutral", "supportive", "critical"]),
        ("a1", "focal", "baseline", ["critical"]),
        ("a6", "focal", "baseline", ["neutral", "neutral"]),
    ]
    rows = []
    for source, side, window, stances in spec:
        for stance in stances:
            rows.append(
                {
                    "post_id": f"p{len(rows):02d}",
                    "source": source,
                    "target": "lane" if side == "focal" else "force",
                    "kind": "mention",
                    "created_at": pd.Timestamp("2014-02-14", tz="UTC"),
                    "window": window,
                    "target_side": side,
                    "stance": stance,
                    "score": 0.5,
                    "rule": "vader",
                }
            )
    return pd.DataFrame(rows)


def test_sheet_by_account_draws_whole_clusters_with_their_cluster_probability():
    table = _accounts_table()
    key = table["source"] + "|" + table["target_side"] + "|" + table["window"]
    want_pi = {  # 5 clusters over 5 strata: one each; pi = 1 / clusters of the stratum
        "a1|focal|crisis": 1 / 3,
        "a4|focal|crisis": 1 / 3,
        "a2|institution|crisis": 1 / 3,
        "a2|focal|crisis": 1.0,
        "a3|focal|crisis": 1 / 2,
        "a5|focal|crisis": 1 / 2,
        "a1|focal|baseline": 1.0,
        "a6|focal|baseline": 1.0,
    }
    for seed in range(6):
        sheet = coding_sheet(table, _posts(table), 5, seed=seed, by="account")
        assert (sheet["sample_unit"] == "account").all()
        got = sheet["source"] + "|" + sheet["target_side"] + "|" + sheet["window"]
        assert got.nunique() == 5  # one cluster per stratum
        for cluster in got.unique():  # every post of a drawn cluster, with its probability
            assert set(sheet.loc[got == cluster, "post_id"]) == set(
                table["post_id"][key == cluster]
            )
            pis = sheet.loc[got == cluster, "inclusion_probability"].astype(float)
            assert pis.tolist() == [pytest.approx(want_pi[cluster])] * len(pis)
        strata = {"a1|focal|crisis", "a4|focal|crisis", "a2|institution|crisis"}
        assert len(strata & set(got)) == 1
        assert len({"a3|focal|crisis", "a5|focal|crisis"} & set(got)) == 1
        again = coding_sheet(table, _posts(table), 5, seed=seed, by="account")
        pd.testing.assert_frame_equal(sheet, again)


def test_cli_sheet_by_account_and_a_bad_sample_by(tmp_path):
    out = tmp_path / "stance.csv"
    r = _sheet_cli(tmp_path, "--sample", "4", "--sample-by", "account")
    assert r.exit_code == 0, r.output
    assert "every post of 4 accounts drawn" in r.output
    sheet = pd.read_csv(tmp_path / "stance.coding.csv", dtype=str, keep_default_na=False)
    stance = pd.read_csv(out, dtype=str, keep_default_na=False)
    stance = stance.drop_duplicates(["post_id", "target_side"])
    key = stance["source"] + "|" + stance["target_side"] + "|" + stance["window"]
    got = sheet["source"] + "|" + sheet["target_side"] + "|" + sheet["window"]
    assert got.nunique() == 4
    for cluster in got.unique():
        assert set(sheet.loc[got == cluster, "post_id"]) == set(stance["post_id"][key == cluster])
    r = _sheet_cli(tmp_path, "--sample", "4", "--sample-by", "accounts")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "'accounts' is not one of" in r.output


def test_a_sheet_drawn_by_account_filled_in_and_given_back(tmp_path):
    """End to end on the fixture: draw 4 accounts, code every post (alternating stances) but
    leave one post of one drawn account blank; given back as labels, the validation says the
    codes were drawn by account, counts the 1 account not wholly coded, and its account-level
    rows count as drawn only accounts whose every post was coded."""
    from netsupport.textsafe import write_csv

    tables, s = load_support_fixture(), support_fixture_study()
    res = stance_table(tables, s)
    sheet = coding_sheet(res.table, tables["posts"], 4, seed=2, by="account")
    key = sheet["source"] + "|" + sheet["target_side"] + "|" + sheet["window"].fillna("")
    sheet["stance"] = [("supportive", "critical", "neutral")[i % 3] for i in range(len(sheet))]
    big = key.value_counts().index[0]  # the cluster with the most posts loses one code
    sheet.loc[key[key == big].index[0], "stance"] = ""
    path = tmp_path / "coded.csv"
    write_csv(sheet, path)
    study = support_fixture_study(stance=s.stance.__class__(labels=path))
    v = stance_table(tables, study).validation
    assert v["design"]["sample_unit"] == "account"
    assert v["design"]["drawn_accounts_not_wholly_coded"] == 1
    drawn = sum(
        r.get("coded_accounts_drawn", 0) for r in v["net_support"] if r["unit"] == "account"
    )
    assert drawn == key.nunique() - 1


def test_sheet_by_account_writes_in_the_rule_of_a_like_or_a_repost():
    # The review's t9: a drawn account's like has no text, coders leave it blank, and the account
    # (mostly a supporter) drops out of the account-level correction. Its stance is the study's
    # rule: the sheet writes it in, with a note, and leaves texts blank for the coders.
    table = _accounts_table()
    table.loc[table["post_id"] == "p01", ["rule", "kind"]] = ["repost", "repost"]
    table.loc[table["post_id"] == "p04", ["rule", "kind"]] = ["like", "like"]
    for seed in range(4):
        sheet = coding_sheet(table, _posts(table), 8, seed=seed, by="account").set_index("post_id")
        assert len(sheet) == len(table)  # 8 clusters: all of them
        assert sheet.loc["p01", "stance"] == "supportive" and "repost" in sheet.loc["p01", "note"]
        assert sheet.loc["p04", "stance"] == "critical"  # the table's decision, as written
        others = sheet.drop(index=["p01", "p04"])
        assert (others["stance"] == "").all() and (others["note"] == "").all()
    by_post = coding_sheet(table, _posts(table), 12, seed=0)
    assert (by_post["stance"] == "").all()  # the design by post is unchanged


# ---- a second coding sheet ---------------------------------------------------------------------

_TWO_SHEETS = (
    "post_id,stance,sample,inclusion_probability,sample_unit,sheet\n"
    "1,supportive,probability,0.5,post,a\n"
    "2,critical,probability,0.25,post,a\n"
    "9,neutral,active,,,a\n"
    "2,critical,probability,0.2,post,b\n"
    "3,neutral,probability,0.1,post,b\n"
    "9,neutral,probability,0.5,post,b\n"
)


def test_two_sheets_pool_their_weights_by_hand(tmp_path):
    # Estimation codes: sheet a {1, 2}, sheet b {2, 3, 9} (9's row on a is active): shares
    # 2/5 and 3/5. Weights sum_k share_k / pi_ik: post 1 0.4 / 0.5 = 0.8; post 2 (on both)
    # 0.4 / 0.25 + 0.6 / 0.2 = 4.6; post 3 0.6 / 0.1 = 6; post 9 0.6 / 0.5 = 1.2. The bugs this
    # guards: every row its own sheet's pi as if one draw made them all (post 2 weighing 4,
    # its first row's 1/pi), and post 9 kept as its active row (no weight at all).
    p = tmp_path / "labels.csv"
    p.write_text(_TWO_SHEETS)
    got = read_labels(p).labels.set_index("post_id")
    assert got.index.tolist() == ["1", "2", "3", "9"]  # the rows kept, in file order
    assert got["pooled_weight"].to_dict() == pytest.approx({"1": 0.8, "2": 4.6, "9": 1.2, "3": 6})
    assert got.loc["9", "sample"] == "probability"
    assert got["pi@0"].fillna(-1).tolist() == [0.5, 0.25, -1, -1]
    assert got["pi@1"].fillna(-1).tolist() == [-1, 0.2, 0.1, 0.5]
    assert (got["lam@0"].iloc[0], got["lam@1"].iloc[0]) == pytest.approx((0.4, 0.6))
    assert (got["sheet@0"].iloc[0], got["sheet@1"].iloc[0]) == ("a", "b")


def test_one_sheet_or_no_sheet_column_reads_as_before(tmp_path):
    """Old sheets (no ``sheet`` column) and a single sheet keep their own probabilities and get
    no pooled columns: tests/data labels files and the example read as they did."""
    p = tmp_path / "labels.csv"
    one = "".join(line for line in _TWO_SHEETS.splitlines(True) if not line.endswith(",b\n"))
    for text in (one, "\n".join(",".join(r.split(",")[:-1]) for r in one.splitlines()) + "\n"):
        p.write_text(text)
        got = read_labels(p).labels
        assert got["inclusion_probability"].fillna(-1).tolist() == [0.5, 0.25, -1]
        assert not [c for c in got.columns if "@" in c or c == "pooled_weight"]


def test_a_pooled_row_without_probability_is_refused_in_one_line(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text(_TWO_SHEETS + "7,neutral,,,,c\n")
    with pytest.raises(InputFileError, match=r"line 8: estimation codes from 3 coding sheets, but "
                       r"this row of sheet 'c' has no inclusion_probability"):  # fmt: skip
        read_labels(p)
    r = _sheet_cli(tmp_path, "--labels", str(p))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert "labels.csv:line 8: estimation codes from 3 coding sheets" in r.output


def test_a_second_sheet_writes_in_the_codes_it_draws_again():
    """A sheet drawn with labels (rule ``label``) from all units: a unit the first sheet coded
    comes with its code and a note, so the coder does not code it again; each sheet has its own
    id on every row."""
    from netsupport.stance.labels import REUSED_NOTE

    sizes = {("supportive", "crisis"): 6, ("critical", "crisis"): 2}
    table = _units_table(sizes)
    first = coding_sheet(table, _posts(table), 4, seed=3)
    assert first["sheet"].nunique() == 1 and len(first["sheet"].iloc[0]) == 10
    coded = table["post_id"].isin(first["post_id"])
    table.loc[coded, "rule"] = "label"
    table.loc[coded, "stance"] = "neutral"  # the codes
    second = coding_sheet(table, _posts(table), 8, seed=4)  # every unit: the coded ones again
    again = second["post_id"].isin(first["post_id"])
    assert again.sum() == 4
    assert (second.loc[again, "stance"] == "neutral").all()
    assert (second.loc[again, "note"] == REUSED_NOTE).all()
    assert (second.loc[~again, "stance"] == "").all()
    assert second["sheet"].nunique() == 1 and second["sheet"].iloc[0] != first["sheet"].iloc[0]
    assert coding_sheet(table, _posts(table), 8, seed=4)["sheet"].equals(second["sheet"])


def test_two_sheets_filled_in_joined_and_given_back(tmp_path):
    """End to end on the fixture: code a first sheet, draw a second from the stance decided with
    those codes, join the two filled sheets into one labels file: the validation pools the two
    draws (each sheet's share of the estimation codes) and the corrected shares are computed."""
    from netsupport.textsafe import write_csv

    tables, s = load_support_fixture(), support_fixture_study()
    first = coding_sheet(stance_table(tables, s).table, tables["posts"], 6, seed=2)
    first["stance"] = [("supportive", "critical", "neutral")[i % 3] for i in range(len(first))]
    write_csv(first, tmp_path / "first.csv")
    study = support_fixture_study(stance=s.stance.__class__(labels=tmp_path / "first.csv"))
    second = coding_sheet(stance_table(tables, study).table, tables["posts"], 8, seed=5)
    blank = second["stance"] == ""
    second.loc[blank, "stance"] = [("critical", "supportive")[i % 2] for i in range(blank.sum())]
    write_csv(pd.concat([first, second]), tmp_path / "joined.csv")
    study = support_fixture_study(stance=s.stance.__class__(labels=tmp_path / "joined.csv"))
    v = stance_table(tables, study).validation
    sheets = v["design"]["sheets"]
    n1, n2 = len(first), len(second)
    assert [r["sheet"] for r in sheets] == sorted({first["sheet"][0], second["sheet"][0]})
    by_id = {r["sheet"]: r["share"] for r in sheets}
    assert by_id[first["sheet"][0]] == pytest.approx(n1 / (n1 + n2))
    assert v["design"]["estimation_codes"] == len(set(first["post_id"]) | set(second["post_id"]))
    assert any(r["corrected"] is not None for r in v["shares"])


@pytest.mark.parametrize(
    ("data", "expect"),
    [
        (
            "post_id,stance\nC10,supportive\nC01,neutral\n".encode("utf-16"),
            "labels.csv: labels CSV is UTF-16 text; save it as CSV UTF-8",
        ),
        (
            "post_id,stance,note\nC10,supportive,ok\nC01,neutral,café\n".encode("latin-1"),
            "labels.csv:line 3: labels CSV is not UTF-8 (byte 0xe9: latin-1 or Windows-1252?)",
        ),
    ],
    ids=["utf-16", "latin-1"],
)
def test_labels_not_in_utf8_say_how_to_save_them_and_where(tmp_path, data, expect):
    # usr7/usr8: "cannot read labels CSV ('utf-8' codec can't decode byte 0xff in position 0:
    # invalid start byte)": no line, no hint (the importers say "save it as UTF-8")
    path = tmp_path / "labels.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError) as info:
        read_labels(path)
    assert str(info.value).endswith(expect) or expect in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "extra",
    [
        ["--out", "{labels}"],
        ["--out", "{dir}/labels.stance.csv", "--sample", "2", "--sample-out", "{labels}"],
        ["--out", "{dir}/labels.disagreements.csv"],  # (beside the labels: allowed)
    ],
)
def test_stance_never_writes_over_the_labels_it_reads(tmp_path, extra):
    # usr8: `netsupport stance --study study.toml --out labels.csv` replaced the study's hand
    # labels with the stance table (exit 0): the coders' work gone
    _store_from_fixture(tmp_path / "store")
    labels = tmp_path / "labels.csv"
    text = "post_id,stance\nC10,supportive\nC01,neutral\n"
    labels.write_text(text)
    args = [a.format(labels=labels, dir=tmp_path) for a in extra]
    r = CliRunner().invoke(
        app,
        [
            "stance",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "lane",
            "--institution",
            "force",
            "--labels",
            str(labels),
            *args,
        ],
    )
    if "disagreements" in extra[1]:
        assert r.exit_code == 0, r.output  # (a name beside the labels is fine)
    else:
        assert r.exit_code == 2, r.output
        assert r.stderr == (
            f"error: {labels}: is the study's [stance] labels, which this command reads: "
            "write the output elsewhere\n"
        )
    assert labels.read_text() == text


def test_support_never_writes_over_the_labels_it_reads(tmp_path):
    # usr8: `netsupport support --study study.toml --out labels.csv` (and `graph`) replaced the
    # hand labels too
    _store_from_fixture(tmp_path / "store")
    labels = tmp_path / "labels.csv"
    text = "post_id,stance\nC10,supportive\nC01,neutral\n"
    labels.write_text(text)
    r = CliRunner().invoke(
        app,
        [
            "support",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "lane",
            "--institution",
            "force",
            "--crisis",
            "2014-02-14T09:00Z",
            "2014-02-19T18:00Z",
            "--labels",
            str(labels),
            "--out",
            str(labels),
        ],
    )
    assert r.exit_code == 2, r.output
    assert "is the study's [stance] labels, which this command reads" in r.stderr
    assert labels.read_text() == text
