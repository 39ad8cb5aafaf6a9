"""Stance: rules, target awareness, negation, labels, agreement, coding sheet and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, load_support_fixture, support_fixture_study
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.errors import InputFileError, NetsupportError
from netsupport.schema import SCHEMAS, Table
from netsupport.stance import (
    STANCE_COLUMNS,
    Classifier,
    StanceSpec,
    agreement,
    apply_labels,
    coding_sheet,
    load_labels,
    load_lexicon,
    stance_interactions,
    stance_table,
)
from netsupport.stance import rules as stance_rules
from netsupport.store import Store, conform_arrow
from netsupport.windows import Windows

FOCAL, INST = "inspector_lane", "northshire_police"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier([FOCAL], [INST])


def side(clf: Classifier, text: str, which: str = "focal") -> tuple[str, str]:
    stance, _score, rule = clf.score_text(text)[which]
    return stance, rule


# ---- the hand-labelled set -----------------------------------------------------------------------


def test_accuracy_on_hand_labelled_texts(clf, capsys):
    """>= 0.8 accuracy on the 82 hand-labelled texts; the confusion matrix goes to the output."""
    df = pd.read_csv(DATA / "stance_labelled.csv", dtype=str, keep_default_na=False)
    assert len(df) >= 60
    assert set(df["category"]) >= {"support", "news", "two-target", "negation"}
    pred = [clf.score_text(t)[s][0] for t, s in zip(df["text"], df["target_side"], strict=True)]
    a = agreement(pred, df["stance"].tolist())
    order = a["confusion"]["labels"]
    lines = [
        f"stance classifier vs {a['n']} hand labels: accuracy {a['accuracy']:.3f}, "
        f"macro-F1 {a['macro_f1']:.3f}, Cohen's kappa {a['kappa']:.3f}",
        "confusion matrix (rows: hand label, columns: classifier)",
        " " * 12 + "".join(f"{c:>12}" for c in order),
    ]
    for name, row in zip(order, a["confusion"]["matrix"], strict=True):
        lines.append(f"{name:>12}" + "".join(f"{v:>12}" for v in row))
    by_cat = (
        df.assign(ok=[p == t for p, t in zip(pred, df["stance"], strict=True)])
        .groupby("category")["ok"]
        .mean()
    )
    lines.append("accuracy by category: " + ", ".join(f"{k} {v:.2f}" for k, v in by_cat.items()))
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert a["accuracy"] >= 0.8
    assert a["kappa"] >= 0.7
    # every category is mostly right, not just the easy ones
    assert by_cat.min() >= 0.7


# ---- rules ---------------------------------------------------------------------------------------


def test_two_target_critique_of_institution_is_support_for_focal(clf):
    # the brief's example: critical of the force, supportive of the inspector
    t = f"shame on @{INST} for silencing @{FOCAL}"
    assert side(clf, t, "institution") == ("critical", "lexicon:shame on")
    assert side(clf, t, "focal") == ("supportive", "victim:silencing")
    # without a victim word, a critique aimed at the institution still supports the focal
    t = f"@{FOCAL} ignore them, @{INST} should be ashamed"
    assert side(clf, t, "institution") == ("critical", "lexicon:should be ashamed")
    assert side(clf, t, "focal") == ("supportive", "two-target:should be ashamed")
    # the subject, not the object of the criticised action, is criticised
    t = f"@{INST} suspending @{FOCAL} is a disgrace"
    assert side(clf, t, "institution")[0] == "critical"
    assert side(clf, t, "focal") == ("supportive", "victim:suspending")


def test_two_target_critique_of_both(clf):
    t = f"@{FOCAL} @{INST} you are both a disgrace"
    assert side(clf, t, "focal")[0] == side(clf, t, "institution")[0] == "critical"


def test_two_target_support_for_one_does_not_leak(clf):
    t = f"I stand with @{FOCAL} against @{INST}"
    assert side(clf, t, "focal") == ("supportive", "lexicon:stand with")
    assert side(clf, t, "institution") == ("critical", "lexicon:against @")


def test_against_needs_a_handle(clf):
    # "against @" only counts when a handle follows: news about crime is not critique
    assert side(clf, f"@{INST} statement on crime against women", "institution")[0] == "neutral"


def test_negation_flips_a_phrase(clf):
    assert side(clf, f"@{FOCAL} is not a disgrace") == ("supportive", "lexicon:disgrace*")
    assert side(clf, f"I do not stand with @{FOCAL}")[0] == "critical"
    assert side(clf, f"@{FOCAL} shouldn't resign")[0] == "supportive"
    # negation does not reach across a sentence
    assert side(clf, f"No. @{FOCAL} is a disgrace")[0] == "critical"


def test_phrases_aimed_at_a_third_party_leave_the_target_neutral(clf):
    assert side(clf, f"@{FOCAL} shame on @bbc for that headline") == ("neutral", "aimed-elsewhere")


def test_unaimed_phrase_follows_the_aimed_one(clf):
    # "Incompetent." has no handle in its sentence: it takes the aim of the nearest aimed
    # critique ("shame on @force"), so it does not hit @lane
    t = f"Shame on @{INST}. Incompetent. Thank you @{FOCAL}"
    assert side(clf, t, "institution")[0] == "critical"
    assert side(clf, t, "focal") == ("supportive", "lexicon:thank you")


def test_news_language_is_neutral_and_vader_is_the_fallback(clf):
    assert side(clf, f"BREAKING: @{INST} confirm an officer was suspended", "institution") == (
        "neutral",
        "neutral:breaking",
    )
    stance, rule = side(clf, f"@{FOCAL} what a lovely, wonderful day")
    assert (stance, rule) == ("supportive", "vader")
    assert side(clf, "   ") == ("neutral", "no-text")
    assert side(clf, f"@{FOCAL} https://t.co/x") == ("neutral", "no-text")


def test_stems_and_apostrophes(clf):
    assert side(clf, f"@{FOCAL} disgraceful behaviour")[0] == "critical"
    assert side(clf, f"@{FOCAL} you did nothing wrong \u2014 we\u2019re behind you")[0] == (
        "supportive"
    )


def test_thresholds_are_configurable():
    strict = Classifier([FOCAL], [], positive_threshold=0.9, negative_threshold=-0.9)
    assert strict.score_text(f"@{FOCAL} what a lovely day")["focal"][0] == "neutral"
    with pytest.raises(NetsupportError):
        Classifier([FOCAL], [], positive_threshold=0.0, negative_threshold=0.1)


def test_study_lexicon_extends_and_markers(tmp_path):
    lex = tmp_path / "lex.toml"
    lex.write_text(
        '[markers]\nsupportive = ["#StandWithLane"]\n'
        '[institution_markers]\ncritical = ["#nsfail"]\n'
        '[support]\nphrases = ["free the inspector"]\n'
    )
    c = Classifier([FOCAL], [INST], load_lexicon(lex))
    assert c.score_text("#standwithlane")["focal"] == ("supportive", 1.0, "marker:#standwithlane")
    assert c.score_text("#nsfail again")["institution"][0] == "critical"
    assert c.score_text("free the inspector now")["focal"][2] == "lexicon:free the inspector"
    assert "shame on" in load_lexicon(lex).critique  # the default is still there
    lex.write_text('extends_default = false\n[critique]\nphrases = ["boo"]\n')
    assert load_lexicon(lex).critique == ("boo",)


def test_a_study_lexicon_is_recorded_by_name_and_content_not_where_it_lies(tmp_path):
    # metrics.json recorded the lexicon's absolute path: a study run from another folder (a
    # second checkout) gave different bytes; a changed lexicon must still show
    import hashlib

    text = '[support]\nphrases = ["free the inspector"]\n'
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "lex.toml").write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    one, two = (load_lexicon(tmp_path / f / "lex.toml").describe() for f in ("a", "b"))
    assert one == two
    assert one["sources"] == ["netsupport/data/lexicon.toml", f"lex.toml sha256:{digest}"]
    (tmp_path / "b" / "lex.toml").write_text(text + "# changed\n")
    assert load_lexicon(tmp_path / "b" / "lex.toml").describe()["sources"] != one["sources"]


def test_bad_lexicon_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[suport]\nphrases = []\n")
    with pytest.raises(InputFileError, match="unknown lexicon section 'suport'"):
        load_lexicon(bad)
    bad.write_text("[support]\nphrases = 'stand with'\n")
    with pytest.raises(InputFileError, match="must be a list of strings"):
        load_lexicon(bad)
    with pytest.raises(InputFileError, match="not found"):
        load_lexicon(tmp_path / "missing.toml")


# ---- interactions --------------------------------------------------------------------------------


def _posts(rows):
    cols = ["post_id", "author", "created_at", "kind", "text", "target_post_id", "target_author"]
    df = pd.DataFrame(rows, columns=cols)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def _inter(rows):
    df = pd.DataFrame(rows, columns=["source", "target", "kind", "post_id", "created_at"])
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    df["weight"] = 1.0
    return df


def test_classify_interactions_rules_and_filters():
    posts = _posts(
        [
            ["1", "amy", "2014-02-14T10:00Z", "repost", "", "9", "lane"],
            ["2", "bob", "2014-02-14T11:00Z", "quote", "@lane should resign", "9", "lane"],
            [
                "3",
                "cat",
                "2014-02-14T12:00Z",
                "post",
                "Shame on @force for gagging @lane",
                None,
                None,
            ],
            ["4", "force", "2014-02-14T13:00Z", "post", "@force2 thanks", None, None],
            ["5", "dan", "2014-02-14T14:00Z", "post", "@zed great work", None, None],
        ]
    )
    inter = _inter(
        [
            ["amy", "lane", "repost", "1", "2014-02-14T10:00Z"],
            ["bob", "lane", "quote", "2", "2014-02-14T11:00Z"],
            ["cat", "force", "mention", "3", "2014-02-14T12:00Z"],
            ["cat", "lane", "mention", "3", "2014-02-14T12:00Z"],
            ["force", "force2", "mention", "4", "2014-02-14T13:00Z"],  # institution to itself
            ["dan", "zed", "mention", "5", "2014-02-14T14:00Z"],  # not a target
            ["eve", "lane", "follow", None, None],  # follows have no stance
        ]
    )
    c = Classifier(["lane"], ["force", "force2"])
    w = Windows.from_crisis("2014-02-14T00:00Z", "2014-02-15T00:00Z", 1, 1)
    t = c.classify(inter, posts, w, workers=1)
    assert list(t.columns) == STANCE_COLUMNS
    got = {(r.post_id, r.target_side): (r.stance, r.rule) for r in t.itertuples()}
    assert got == {
        ("1", "focal"): ("supportive", "repost"),  # a repost of the target's post endorses it
        ("2", "focal"): ("critical", "lexicon:should resign"),  # a quote: its own text
        ("3", "institution"): ("critical", "lexicon:shame on"),
        ("3", "focal"): ("supportive", "victim:gagging"),
    }
    assert set(t["window"]) == {"crisis"}


def test_side_of_names_the_side_of_each_handle_focal_first():
    # (an account listed on both sides is focal, as the rules treat it)
    c = Classifier(["Lane", "both"], ["force", "both"])
    got = c.side_of(pd.Series(["lane", "force", "both", "other", None], index=[5, 4, 3, 2, 1]))
    assert str(got.dtype) == "string" and list(got.index) == [5, 4, 3, 2, 1]
    assert got.tolist() == ["focal", "institution", "focal", pd.NA, pd.NA]


def test_parallel_scoring_equals_serial(monkeypatch):
    texts = [
        f"@lane thank you number {i}" if i % 3 else f"@force shame on you {i}" for i in range(60)
    ]
    texts += ["", "what a lovely day", "No. @lane is a disgrace"] * 5
    c = Classifier(["lane"], ["force"])
    serial = c.score_texts(texts, workers=1)
    monkeypatch.setattr(stance_rules, "PARALLEL_MIN_TEXTS", 10)
    parallel = c.score_texts(texts, workers=2)
    pd.testing.assert_frame_equal(serial, parallel)
    assert len(serial) == len(texts)


def test_meanwhile_runs_in_a_thread_while_the_workers_score(monkeypatch):
    """``meanwhile`` runs once, in another thread, after every worker has forked (no fork while
    it runs), and is done when scoring returns; the scores do not change; its error is left to
    the caller (here: swallowed); the serial path does not call it."""
    import threading

    texts = [f"@lane thank you number {i}" for i in range(40)]
    c = Classifier(["lane"], ["force"])
    calls: list[str] = []
    serial = c.score_texts(texts, workers=1, meanwhile=lambda: calls.append("serial"))
    assert calls == []
    monkeypatch.setattr(stance_rules, "PARALLEL_MIN_TEXTS", 10)
    main = threading.get_ident()

    def work():
        assert threading.get_ident() != main
        calls.append(threading.current_thread().name)

    parallel = c.score_texts(texts, workers=2, meanwhile=work)
    assert calls == ["netsupport-meanwhile"]
    pd.testing.assert_frame_equal(serial, parallel)

    def fails():
        raise RuntimeError("left to the caller")

    pd.testing.assert_frame_equal(c.score_texts(texts, workers=2, meanwhile=fails), serial)


def test_meanwhile_work_keeps_a_core_when_the_texts_are_few(monkeypatch):
    """With ``meanwhile`` work (the model's imports) and fewer than MEANWHILE_MAX_TEXTS texts,
    one worker fewer scores, in a process still; the scores do not change."""
    import concurrent.futures

    texts = [f"@lane thank you number {i}" for i in range(40)]
    c = Classifier(["lane"], ["force"])
    serial = c.score_texts(texts, workers=1)
    monkeypatch.setattr(stance_rules, "PARALLEL_MIN_TEXTS", 10)
    sizes: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    def pool(max_workers, **kw):
        sizes.append(max_workers)
        return real(max_workers=max_workers, **kw)

    monkeypatch.setattr(stance_rules, "ProcessPoolExecutor", pool)
    got = [c.score_texts(texts, workers=2, meanwhile=lambda: None), c.score_texts(texts, workers=2)]
    monkeypatch.setattr(stance_rules, "MEANWHILE_MAX_TEXTS", 20)
    got.append(c.score_texts(texts, workers=2, meanwhile=lambda: None))
    assert sizes == [1, 2, 2]
    for g in got:
        pd.testing.assert_frame_equal(g, serial)


# ---- labels, agreement, coding sheet -------------------------------------------------------------


def test_labels_csv_validation(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("post_id,stance\n1,supportive\n2,\n3,neutral\n")
    lab = load_labels(p)
    assert lab["post_id"].tolist() == ["1", "3"]  # an empty stance is skipped (partly coded)
    p.write_text("post_id,stance\n1,supportive\n2,angry\n")
    with pytest.raises(InputFileError, match="line 3"):
        load_labels(p)
    p.write_text("id,stance\n1,supportive\n")
    with pytest.raises(InputFileError, match="post_id"):
        load_labels(p)
    p.write_text("post_id,target_side,stance\n1,institution,critical\n2,,neutral\n")
    assert load_labels(p)["target_side"].tolist()[0] == "institution"


def test_side_specific_label_wins_over_post_label():
    table = pd.DataFrame(
        {
            "post_id": ["1", "1"],
            "target_side": ["focal", "institution"],
            "stance": ["neutral", "neutral"],
            "score": [0.0, 0.0],
            "rule": ["vader", "vader"],
        }
    )
    labels = pd.DataFrame(
        {
            "post_id": ["1", "1"],
            "target_side": pd.array([pd.NA, "institution"], dtype="string"),
            "stance": ["supportive", "critical"],
        }
    )
    out = apply_labels(table, labels)
    assert out["stance"].tolist() == ["supportive", "critical"]
    assert out["rule"].tolist() == ["label", "label"]


def test_agreement_kappa_undefined_with_one_class():
    a = agreement(["neutral"] * 3, ["neutral"] * 3)
    assert a["accuracy"] == 1.0 and a["kappa"] is None
    assert agreement([], [])["status"] == "not measured"


def test_stance_table_takes_the_interactions_a_run_made_already():
    # a run computes the interactions for its communities step before the stance step: given
    # them, the stance step must decide exactly as when it makes them itself (and keep them)
    tables, study = load_support_fixture(), support_fixture_study()
    inter = stance_interactions(tables, study)
    given = stance_table(tables, study, interactions=inter)
    made = stance_table(tables, study)
    pd.testing.assert_frame_equal(given.table, made.table)
    pd.testing.assert_frame_equal(given.interactions, made.interactions)
    assert given.agreement == made.agreement and given.model == made.model


def test_coding_sheet_is_stratified_blind_and_seeded():
    res = stance_table(load_support_fixture(), support_fixture_study())
    posts = load_support_fixture()["posts"]
    sheet = coding_sheet(res.table, posts, 9, seed=3)
    assert len(sheet) == 9
    assert list(sheet.columns) == [
        "post_id",
        "target_side",
        "target",
        "window",
        "created_at",
        "source",
        "text",
        "stance",
        "note",
        "sample",
        "inclusion_probability",
        "sample_unit",
        "sheet",
    ]
    assert (sheet["sample_unit"] == "post").all()
    assert (sheet["stance"] == "").all()  # blind: the classifier's stance is not shown
    units = res.table.drop_duplicates(["post_id", "target_side"])
    strata = units.assign(k=units["stance"] + "|" + units["window"].fillna("none"))
    key = strata.set_index(["post_id", "target_side"])["k"]
    picked = key.reindex(pd.MultiIndex.from_frame(sheet[["post_id", "target_side"]]))
    # 9 strata exist (3 stances x 3 windows, all present in the fixture): one unit from each
    assert picked.nunique() == 9
    again = coding_sheet(res.table, posts, 9, seed=3)
    pd.testing.assert_frame_equal(sheet, again)
    assert not coding_sheet(res.table, posts, 9, seed=4).equals(sheet)
    assert len(coding_sheet(res.table, posts, 10_000, seed=1)) == len(units)  # capped


# ---- CLI -----------------------------------------------------------------------------------------


def _store_from_fixture(root) -> Store:
    import pyarrow as pa

    t = load_support_fixture()
    t["posts"]["platform"] = "twitter"
    store = Store(root)
    with store.transaction() as tx:
        tx.add_posts(
            conform_arrow(pa.Table.from_pandas(t["posts"], preserve_index=False), Table.POSTS)
        )
        tx.append(
            Table.INTERACTIONS,
            conform_arrow(
                pa.Table.from_pandas(t["interactions"], preserve_index=False), Table.INTERACTIONS
            ),
        )
        tx.add_follows(
            conform_arrow(pa.Table.from_pandas(t["follows"], preserve_index=False), Table.FOLLOWS)
        )
        tx.add_accounts(
            conform_arrow(pa.Table.from_pandas(t["accounts"], preserve_index=False), Table.ACCOUNTS)
        )
    assert SCHEMAS  # canonical schemas used above
    return store


def test_cli_stance_writes_audit_table_and_sheet(tmp_path):
    _store_from_fixture(tmp_path / "store")
    out = tmp_path / "stance.csv"
    r = CliRunner().invoke(
        app,
        [
            "stance",
            "--store",
            str(tmp_path / "store"),
            "--focal",
            "@Lane",
            "--institution",
            "force",
            "--crisis",
            "2014-02-14T00:00Z",
            "2014-02-16T00:00Z",
            "--baseline-days",
            "4",
            "--after-days",
            "4",
            "--out",
            str(out),
            "--sample",
            "5",
            "--seed",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == STANCE_COLUMNS and len(df) == 25
    assert df.loc[df["post_id"] == "C03", "rule"].tolist() == [
        "victim:silencing",
        "lexicon:shame on",
    ]
    assert (tmp_path / "stance.coding.csv").exists()
    assert "supportive" in r.stdout and "focal" in r.stdout


def test_cli_stance_csv_is_formula_safe(tmp_path):
    import pyarrow as pa

    store = Store(tmp_path / "store")
    posts = _posts([["=1+1", "=cmd", "2014-02-14T10:00Z", "post", "@lane hi", None, None]])
    posts["platform"] = "twitter"
    inter = _inter([["=cmd", "lane", "mention", "=1+1", "2014-02-14T10:00Z"]])
    with store.transaction() as tx:
        tx.add_posts(conform_arrow(pa.Table.from_pandas(posts, preserve_index=False), Table.POSTS))
        tx.append(
            Table.INTERACTIONS,
            conform_arrow(pa.Table.from_pandas(inter, preserve_index=False), Table.INTERACTIONS),
        )
    out = tmp_path / "s.csv"
    r = CliRunner().invoke(
        app, ["stance", "--store", str(tmp_path / "store"), "--focal", "lane", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "'=1+1" in text and "'=cmd" in text and "\n=" not in text and ",=" not in text


def test_cli_support_writes_metrics(tmp_path):
    _store_from_fixture(tmp_path / "store")
    out = tmp_path / "metrics.json"
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
            "2014-02-14T00:00Z",
            "2014-02-16T00:00Z",
            "--baseline-days",
            "4",
            "--after-days",
            "4",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads(out.read_text())
    assert m["attention"]["focal"]["lift"]["value"] == 5.5
    assert "Attention lift" in r.stdout and "5.50" in r.stdout


def test_cli_errors_are_one_line(tmp_path):
    r = CliRunner().invoke(app, ["support", "--store", str(tmp_path), "--focal", "lane"])
    assert r.exit_code == 2 and "--crisis START END is required" in r.output
    r = CliRunner().invoke(app, ["stance", "--focal", "lane"])
    assert r.exit_code == 2 and "--store is required" in r.output
    r = CliRunner().invoke(app, ["stance", "--store", str(tmp_path / "none"), "--focal", "x"])
    assert r.exit_code == 2 and "no store here" in r.output


def test_cli_negative_sample_seed_is_one_line_and_writes_nothing(tmp_path):
    _store_from_fixture(tmp_path / "store")
    out = tmp_path / "stance.csv"
    args = ["stance", "--store", str(tmp_path / "store"), "--focal", "lane", "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--sample", "5", "--seed", "-1"])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == "error: --seed of the sample must be an integer >= 0, got -1"
    assert not out.exists()  # refused before stance.csv was written


def test_stance_spec_from_study():
    s = support_fixture_study()
    spec = StanceSpec.of(s)
    assert spec.focal == ("lane",) and spec.windows is s.windows
    assert StanceSpec.of(spec) is spec


def test_unaimed_support_reaches_a_victim(clf):
    # bug guarded: victims were shielded from unaimed support too, leaving them neutral
    t = f"Silencing @{FOCAL} helps nobody. He is a credit to the force"
    assert side(clf, t) == ("supportive", "lexicon:credit to")


def test_aimed_elsewhere_lets_the_remaining_words_decide(clf):
    # the marker is aimed at the focal account; "Disgusted" still speaks to the institution
    c = Classifier([FOCAL], [INST], load_lexicon_with_marker())
    t = f"Disgusted with @{INST} for suspending @{FOCAL} #StandWithLane"
    assert c.score_text(t)["institution"][::2] == ("critical", "aimed-elsewhere")
    assert c.score_text(t)["focal"][0] == "supportive"


def test_negated_marker_flips(tmp_path):
    c = Classifier([FOCAL], [INST], load_lexicon_with_marker())
    assert c.score_text("Not joining the #standwithlane crowd")["focal"][0] == "critical"


def load_lexicon_with_marker():
    import tempfile
    from pathlib import Path

    p = Path(tempfile.mkdtemp()) / "lex.toml"
    p.write_text('[markers]\nsupportive = ["#standwithlane"]\n')
    return load_lexicon(p)


def test_cli_with_study_file(tmp_path):
    _store_from_fixture(tmp_path / "store")
    (tmp_path / "in.jsonl").write_text("")
    # (two stances: a labels file with one stance only is an error, issue #13)
    (tmp_path / "labels.csv").write_text(
        "post_id,target_side,stance\nC10,focal,supportive\nC01,focal,neutral\n"
    )
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "fx"\nfocal = ["lane"]\ninstitution = ["force"]\n'
        '[windows]\ncrisis_start = "2014-02-14T00:00:00Z"\ncrisis_end = "2014-02-16T00:00:00Z"\n'
        "baseline_days = 4\nafter_days = 4\n"
        '[[inputs]]\npath = "in.jsonl"\n'
        '[stance]\nlabels = "labels.csv"\n'
        "[support]\nbootstrap = 200\nseed = 5\n"
        '[output]\ndir = "out"\nstore = "store"\n'
    )
    r = CliRunner().invoke(app, ["stance", "--study", str(tmp_path / "study.toml")])
    assert r.exit_code == 0, r.output
    # into the run's work folder, not the report folder a run replaces whole (issue 14 item 4)
    assert (tmp_path / "out.netsupport" / "stance.csv").exists()
    assert "agreement with 2 hand labels" in r.stdout
    r = CliRunner().invoke(app, ["support", "--study", str(tmp_path / "study.toml")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "out.netsupport" / "metrics.json").read_text())
    assert m["study"]["name"] == "fx" and m["parameters"]["bootstrap"] == 200
    assert m["stance"]["by_rule"]["label"] == 2
    r = CliRunner().invoke(
        app, ["support", "--study", str(tmp_path / "study.toml"), "--focal", "x"]
    )
    assert r.exit_code == 2 and "not both" in r.output


def test_repeated_interaction_rows_are_dropped_as_drop_duplicates_drops_them():
    """Guards stance_interactions' shortcut (the whole key tested only where the post id
    repeats): the same rows as drop_duplicates, first kept, missing post ids equal."""
    from netsupport.stance.tables import _drop_repeated_rows

    rng = np.random.default_rng(7)
    n = 400
    pid = rng.integers(0, 150, n).astype(str).astype(object)
    pid[rng.random(n) < 0.1] = None
    df = pd.DataFrame(
        {
            "post_id": pid,
            "source": rng.choice(["a", "b", "c"], n).astype(object),
            "target": rng.choice(["lane", "force"], n).astype(object),
            "kind": rng.choice(["reply", "mention"], n).astype(object),
            "n": np.arange(n),
        }
    )
    key = ["post_id", "source", "target", "kind"]
    pd.testing.assert_frame_equal(_drop_repeated_rows(df, key), df.drop_duplicates(key))
    pd.testing.assert_frame_equal(_drop_repeated_rows(df.iloc[:0], key), df.iloc[:0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_rows_narrowed_column_by_column_are_those_drop_duplicates_drops(seed):
    # the key is compared one column at a time on the rows still tied: rows equal on every
    # column but one, and full repeats, in either key order
    from netsupport.stance.tables import _drop_repeated_rows

    rng = np.random.default_rng(seed)
    n = 2000
    df = pd.DataFrame(
        {
            "post_id": rng.integers(0, 300, n).astype(str).astype(object),
            "source": rng.choice(["a", "b"], n).astype(object),
            "target": rng.choice(["lane", "force", "x"], n).astype(object),
            "kind": rng.choice(["reply", "mention"], n).astype(object),
        }
    )
    for key in (list(df.columns), ["post_id", "target", "source", "kind"]):
        got = _drop_repeated_rows(df, key)
        pd.testing.assert_frame_equal(got, df.drop_duplicates(key))
        assert len(got) < n


def test_repeated_rows_with_mixed_missing_values_are_dropped_as_drop_duplicates_drops_them():
    from netsupport.stance.tables import _drop_repeated_rows

    rng = np.random.default_rng(3)
    pool = ["a", "b", "c", None, np.nan]
    df = pd.DataFrame(
        {
            c: pd.Series(rng.choice(np.array(pool, dtype=object), 400), dtype=object)
            for c in ("post_id", "source", "target", "kind")
        }
    )
    key = ["post_id", "source", "target", "kind"]
    pd.testing.assert_frame_equal(_drop_repeated_rows(df, key), df.drop_duplicates(key))
    pd.testing.assert_frame_equal(_drop_repeated_rows(df.iloc[:1], key), df.iloc[:1])


def _object_frame_reference(table):
    """_object_frame as it was (main at c74f8cd): each column made alone, then stacked."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from netsupport.schema import PostCol
    from netsupport.store import to_pandas

    out = {}
    for name in table.column_names:
        col = table.column(name)
        if not pa.types.is_string(col.type) or name == PostCol.TEXT:
            out[name] = to_pandas(pa.table({name: col}))[name]
            continue
        probe = col.slice(0, 10_000)
        if len(pc.unique(probe)) > len(probe) // 2:
            values = col.to_numpy(zero_copy_only=False)
        else:
            enc = pc.dictionary_encode(col).combine_chunks()
            uniques = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
            values = uniques[enc.indices.fill_null(len(uniques) - 1).to_numpy()]
        out[name] = pd.Series(values, dtype=object, name=name)
    return pd.DataFrame(out, columns=table.column_names)


def _blocks(df):
    # (the blocks' order in the manager changes nothing the steps see)
    return sorted((str(b.dtype), [int(i) for i in b.mgr_locs.as_array]) for b in df._mgr.blocks)


def test_object_frame_is_the_frame_the_column_by_column_build_gave():
    """_object_frame writes its object columns straight into one block: the same frame (values,
    dtypes, missing values, the blocks and their columns) as building each column and stacking
    them, for tables of the store's column types in any order, chunked, with and without
    strings, empty."""
    import itertools

    import pyarrow as pa
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from netsupport.stance.tables import _object_frame

    words = st.one_of(st.none(), st.sampled_from(["", "a", "b", "é", "lane", "x y"]))
    distinct = st.one_of(st.none(), st.text(max_size=6))
    kinds = ["repeated", "distinct", "text", "time", "float", "int"]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        layout=st.lists(st.sampled_from(kinds), max_size=7),
        n=st.integers(0, 40),
        chunks=st.integers(1, 3),
        data=st.data(),
    )
    def check(layout, n, chunks, data):
        # at most one column of each type but string, as in the store's tables (two float
        # columns, say, would be two blocks instead of one: the same frame, not the same blocks)
        single = {"text", "time", "float", "int"}
        layout = [k for i, k in enumerate(layout) if k not in single or k not in layout[:i]]
        cols = {}
        for i, kind in enumerate(layout):
            name = "text" if kind == "text" else f"c{i}"
            if kind in ("repeated", "distinct", "text"):
                values = data.draw(
                    st.lists(words if kind == "repeated" else distinct, min_size=n, max_size=n)
                )
                arr = pa.array(values, pa.string())
            elif kind == "time":
                arr = pa.array(
                    data.draw(
                        st.lists(
                            st.one_of(st.none(), st.integers(0, 10**12)), min_size=n, max_size=n
                        )
                    ),
                    pa.timestamp("us", tz="UTC"),
                )
            elif kind == "float":
                arr = pa.array(
                    data.draw(st.lists(st.floats(allow_nan=False), min_size=n, max_size=n)),
                    pa.float64(),  # (the store's types: each column typed, as read)
                )
            else:
                arr = pa.array(
                    data.draw(
                        st.lists(st.one_of(st.none(), st.integers(-9, 9)), min_size=n, max_size=n)
                    ),
                    pa.int64(),
                )
            cut = sorted({0, n, *(n * k // chunks for k in range(chunks))})
            cols[name] = pa.chunked_array(
                [arr.slice(a, b - a) for a, b in itertools.pairwise(cut)] or [arr], arr.type
            )
        table = pa.table(cols) if cols else pa.table({}).slice(0, 0)
        want = _object_frame_reference(table)
        got = _object_frame(table)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(got.columns) == list(want.columns)
        assert _blocks(got) == _blocks(want)
        for name in got.columns:
            if got[name].dtype == object:  # None for missing, as before (not NaN)
                assert [v is None for v in got[name]] == [v is None for v in want[name]]

    check()


def test_interactions_arrow_is_the_frame_as_from_pandas_converts_it():
    """The Arrow file of a run's child processes is made from the stored interactions as read
    plus the marker edges (stance.tables.interactions_arrow): the same table as converting
    the study's interactions (stance_interactions) back from pandas, whichever rows repeat
    (stored rows, marker edges of stored marker rows) and are dropped."""
    import pyarrow as pa
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    from netsupport.schema import SCHEMAS, Table
    from netsupport.stance import StanceSpec
    from netsupport.stance.tables import (
        POST_COLUMNS,
        _object_frame,
        interactions_arrow,
        stance_interactions,
        study_interactions,
    )

    handles = st.one_of(st.none(), st.sampled_from(["lane", "a", "b", "force"]))
    pids = st.one_of(st.none(), st.sampled_from(["1", "2", "3", "4"]))
    kinds = st.one_of(st.none(), st.sampled_from(["reply", "mention", "marker", "repost"]))
    times = st.one_of(st.none(), st.integers(0, 5))
    edge = st.tuples(handles, handles, kinds, pids, times, st.floats(0, 3))
    post = st.tuples(pids, handles, st.sampled_from(["", "tag", "tag other", "other"]), times)

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(edges=st.lists(edge, max_size=30), posts=st.lists(post, max_size=12))
    @example(  # a stored row repeated, and the marker edge of a post stored already
        edges=[("a", "lane", "marker", "1", 0, 1.0)] * 2 + [("b", "lane", "reply", "2", 1, 1.0)],
        posts=[("1", "a", "tag", 0), ("3", "b", "other tag", 2)],
    )
    def check(edges, posts):
        schema = SCHEMAS[Table.INTERACTIONS]
        stored = pa.table(
            [pa.array([e[i] for e in edges], f.type) for i, f in enumerate(schema)], schema=schema
        )
        p_schema = pa.schema([SCHEMAS[Table.POSTS].field(str(c)) for c in POST_COLUMNS])
        p_cols = {f.name: pa.nulls(len(posts), f.type) for f in p_schema}
        p_cols["post_id"] = pa.array([p[0] for p in posts], pa.string())
        p_cols["author"] = pa.array([p[1] for p in posts], pa.string())
        p_cols["hashtags"] = pa.array([p[2] for p in posts], pa.string())
        p_cols["created_at"] = pa.array([p[3] for p in posts], p_schema.field("created_at").type)
        p_cols["text"] = pa.array(["x"] * len(posts), pa.string())
        posts_t = pa.table([p_cols[f.name] for f in p_schema], schema=p_schema)
        tables = {"posts": _object_frame(posts_t), "interactions": _object_frame(stored)}
        spec = StanceSpec(("lane",), markers=("#tag",))
        frame, rows = study_interactions(tables, spec)
        pd.testing.assert_frame_equal(frame, stance_interactions(tables, spec))
        if rows is None:  # (derived from the posts: no stored rows)
            assert not len(edges)
            return
        table = interactions_arrow(frame, rows, stored)
        want = pa.Table.from_pandas(frame, preserve_index=False)
        seen.add((rows.markers is not None, rows.positions is not None))
        if table is None:  # (only where pandas types a column of no string as null: converted)
            assert any(pa.types.is_null(t) for t in want.schema.types)
            return
        assert table.schema.equals(want.schema, check_metadata=False)
        assert table.equals(want)

    seen: set[tuple[bool, bool]] = set()
    check()
    assert (True, True) in seen  # (marker edges, and rows dropped, at least once)


# ---- handles with dots: Bluesky and Mastodon texts ----------------------------------------------


def test_a_bluesky_or_mastodon_handle_in_a_text_is_one_handle_not_a_sentence_end():
    # The bug: the rules read a handle as "@" and word characters, so "@lane.bsky.social" was
    # "@lane", a sentence stop, and the words "bsky" and "social"; a critique after the handle
    # fell into a sentence without it. Each text below names the two sides in one sentence only
    # through the dotted handles; the decision must be the same as with the plain handles.
    plain = Classifier(["lane"], ["force"])
    bsky = Classifier(["lane.bsky.social"], ["force.police.uk"])
    masto = Classifier(["lane"], ["force"])
    cases = [
        ("@{f} @{i} you are both a disgrace", "critical", "critical"),
        ("shame on @{i} for silencing @{f}", "supportive", "critical"),
        ("I stand with @{f} against @{i}", "supportive", "critical"),
    ]
    forms = {
        "plain": (plain, "lane", "force"),
        "bluesky": (bsky, "lane.bsky.social", "force.police.uk"),
        "mastodon": (masto, "lane@police.social", "force@police.social"),
    }
    for text, want_f, want_i in cases:
        for name, (c, f, i) in forms.items():
            t = text.format(f=f, i=i)
            got = (side(c, t, "focal")[0], side(c, t, "institution")[0])
            assert got == (want_f, want_i), (name, t, got)
    # a dot with no word after it still ends the sentence; a handle's dotted form is kept whole
    toks = stance_rules._tokenize("thanks @lane. the force @force.police.uk is a disgrace")
    handles = [v for v, k in zip(toks.values, toks.kinds, strict=True) if k == stance_rules._H]
    assert handles == ["lane", "force.police.uk"]
    assert toks.sentence[0] != toks.sentence[-1]
    # the model's and VADER's text without handles keeps no domain labels
    assert stance_rules._HANDLE_RE.sub(" ", "@lane.bsky.social great").split() == ["great"]


def test_a_twitter_text_with_a_missing_space_after_a_handle_reads_as_before():
    # The reviewer's cases against the first dotted-handle pattern, which joined any ".word"
    # to the handle: "@lane.thanks so much" lost its "thanks" (neutral, was supportive). A
    # single label is joined only when it is a common top-level domain; another domain's first
    # label names no side.
    c = Classifier(["lane"], ["force"])
    assert side(c, "@lane.thanks so much", "focal") == ("supportive", "lexicon:thanks")
    assert side(c, "@lane.disgraceful behaviour", "focal")[0] == "critical"
    handles = stance_rules._tokenize("@lane.community and @lane.com and @lane.Great.").values
    assert handles[0] == "lane" and "lane.com" in handles
    b = Classifier(["lane.bsky.social"], ["police.gov.uk"])
    assert side(b, "@lane.nytimes.com is a disgrace", "focal") == ("neutral", "aimed-elsewhere")
    assert side(b, "@police.fans.org you are a disgrace", "institution")[0] == "neutral"


def test_cli_stance_refuses_an_account_on_both_sides(tmp_path):
    # usr7: --focal lane --institution lane classified every post towards one account twice
    _store_from_fixture(tmp_path / "store")
    r = CliRunner().invoke(
        app,
        [
            *("stance", "--store", str(tmp_path / "store"), "--focal", "@Lane"),
            *("--institution", "lane", "--out", str(tmp_path / "stance.csv")),
        ],
    )
    assert r.exit_code == 2, r.output
    assert "@lane is named both focal and institution" in r.output
    assert not (tmp_path / "stance.csv").exists()
