"""Stance rules by error class: the hand-written phrasing sets and the rules that fix each class.

``tests/data/stance_phrasings.csv`` (195 sentences) was written and committed before the rules
for sympathy, event news, explicit evaluation, negation exceptions and questions; it is a
regression set for those error classes (METHODS.md, "Stance", gives before/after accuracy).
``tests/data/stance_phrasings_heldout.csv`` (44 sentences) was written after the rule changes and
never used to change them: its accuracy is the fairer figure.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DATA

from netsupport.errors import InputFileError
from netsupport.stance import Classifier, agreement, load_lexicon

FOCAL, INST = "inspector_lane", "northshire_police"

#: Per-class accuracy floors on stance_phrasings.csv: the measured accuracy (all 1.0 except
#: question 0.8, violence_against 0.8, sympathy_tags 0.875, sarcasm 0.0), less at most one
#: sentence of slack (emoji_only: measured 1.0).
FLOORS = {
    "sympathy": 0.95,
    "event_news": 0.95,
    "explicit_evaluation": 0.95,
    "negation": 0.9,
    "question": 0.8,
    "support": 0.95,
    "critique": 0.95,
    "neutral": 0.9,
    "violence_against": 0.7,
    "sympathy_tags": 0.75,
    "emoji_only": 0.9,
}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier([FOCAL], [INST])


def _scored(clf: Classifier, name: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
    pred = [clf.score_text(t)[s] for t, s in zip(df["text"], df["target_side"], strict=True)]
    return df.assign(
        pred=[p[0] for p in pred],
        score=[p[1] for p in pred],
        rule=[p[2] for p in pred],
        ok=[p[0] == e for p, e in zip(pred, df["expected"], strict=True)],
    )


def test_phrasing_set_per_class_accuracy_floors(clf, capsys):
    df = _scored(clf, "stance_phrasings.csv")
    assert len(df) >= 190
    assert set(df["error_class"]) == set(FLOORS) | {"sarcasm"}
    assert set(df["target_side"]) == {"focal", "institution"}
    by_class = df.groupby("error_class")["ok"].mean()
    a = agreement(df["pred"].tolist(), df["expected"].tolist())
    with capsys.disabled():
        print(
            f"\nphrasings: accuracy {a['accuracy']:.3f}, macro-F1 {a['macro_f1']:.3f}, "
            f"kappa {a['kappa']:.3f}; by class: "
            + ", ".join(f"{k} {v:.2f}" for k, v in by_class.items())
        )
    for cls, floor in FLOORS.items():
        assert by_class[cls] >= floor, (cls, df[(df["error_class"] == cls) & ~df["ok"]])
    assert a["accuracy"] >= 0.92  # measured 0.933


def test_heldout_phrasings_accuracy(clf):
    """The set written after the rules (never used to change them): measured 0.727."""
    df = _scored(clf, "stance_phrasings_heldout.csv")
    assert len(df) >= 40
    assert df["ok"].mean() >= 0.70


def _figures(df: pd.DataFrame) -> str:
    a = agreement(df["pred"].tolist(), df["expected"].tolist())
    shares = df.groupby(df["error_class"] == "crisis_sympathy")["pred"].value_counts(normalize=True)
    return (
        f"accuracy {a['accuracy']:.3f}, macro-F1 {a['macro_f1']:.3f}, kappa {a['kappa']:.3f}; "
        f"sympathy supportive {shares.get((True, 'supportive'), 0):.2f}, critical "
        f"{shares.get((True, 'critical'), 0):.2f}; others supportive "
        f"{shares.get((False, 'supportive'), 0):.2f}"
    )


def test_crisis_phrasings_rules_measured_not_tuned(clf, capsys):
    """Crisis posts of other kinds (advice, donations, infrastructure, affected people) and
    sympathy in new forms. Both sets were written before any rule was tried on them and no rule
    was changed for them (a trial word list raised the first set to 0.83 and left the second at
    0.61, so it was not kept: METHODS.md). Floors are the measured figures less one sentence.

    The third set (38 sentences, 2026-12-07: sympathy addressed to a force or an officer after a
    death or an injury, and news, questions and notices addressed to them) was written later
    still, by another hand, and measured once on the rules as they stood (commit a8d1548); its
    two errors (a collapsed building and a power cut read as critique: VADER's "collapsed" and
    "no") were left as they are, so that it stays a measurement."""
    first = _scored(clf, "stance_phrasings_crisis.csv")
    second = _scored(clf, "stance_phrasings_crisis_heldout.csv")
    third = _scored(clf, "stance_phrasings_crisis_third.csv")
    assert (len(first), len(second), len(third)) == (54, 36, 38)
    with capsys.disabled():
        print(
            f"\ncrisis (54): {_figures(first)}\ncrisis, second set (36): {_figures(second)}"
            f"\ncrisis, third set (38): {_figures(third)}"
        )
    assert first["ok"].mean() >= 36 / 54  # measured 37/54 = 0.685
    assert second["ok"].mean() >= 21 / 36  # measured 22/36 = 0.611
    assert third["ok"].mean() >= 35 / 38  # measured 36/38 = 0.947
    # sympathy is not read as critique; the rest rarely as support
    for df in (first, second, third):
        sym = df[df["error_class"] == "crisis_sympathy"]["pred"]
        rest = df[df["error_class"] != "crisis_sympathy"]["pred"]
        assert (sym == "supportive").mean() >= 0.6 and (sym == "critical").mean() <= 0.25
        assert (rest == "supportive").mean() <= 0.2


def test_sympathy_then_blame_measured_an_open_error_class(clf, capsys):
    """Review t8 M1: a post that offers sympathy to a third party and blames the addressee
    ("Sorry for your loss but @force failed him") is read as support for the addressee: the
    sympathy phrase decides unless a lexicon critique phrase cancels it. 25 sentences written by
    the reviewer for this class (18 that blame, 7 that support the addressee beside the
    sympathy), measured once on the rules as they stand: 7 of the 18 read critical, 10
    supportive, 1 neutral; all 7 supportive read supportive. A trial rule (a clause whose subject
    is the handle decides when VADER reads it critical) fixed 2 of the 11 and was not kept
    (METHODS.md, "Stance error classes"). Floors are the measured figures, so a fix shows."""
    df = _scored(clf, "stance_phrasings_mixed.csv")
    assert len(df) == 25
    blame = df[df["error_class"] == "sympathy_then_blame"]
    support = df[df["error_class"] == "sympathy_with_support"]
    with capsys.disabled():
        print(
            f"\nsympathy then blame (25): accuracy {df['ok'].mean():.3f}; blame read "
            f"supportive {(blame['pred'] == 'supportive').sum()} of {len(blame)}"
        )
    assert (len(blame), len(support)) == (18, 7)
    assert (blame["pred"] == "critical").sum() >= 7  # measured 7 of 18
    assert (blame["pred"] == "supportive").sum() <= 10  # measured 10 of 18: the open error
    assert (support["pred"] == "supportive").all()  # a fix must keep these


def test_the_model_learns_the_crisis_class_from_hand_codes(clf, capsys):
    """What the rules miss, 54 hand codes of the user's kind of posts teach: the model trained on
    the first crisis set (seed 1) against the rules on the second, never seen in training."""
    from netsupport.stance.model import fit_stance_model, row_features

    def features(df: pd.DataFrame) -> pd.DataFrame:
        table = pd.DataFrame(
            {
                "post_id": [f"p{i}" for i in range(len(df))],
                "target_side": df["target_side"],
                "stance": df["pred"],
                "score": df["score"],
                "rule": df["rule"],
            }
        )
        return row_features(table, pd.Series(df["text"].to_numpy(), index=table["post_id"]))

    train = _scored(clf, "stance_phrasings_crisis.csv")
    test = _scored(clf, "stance_phrasings_crisis_heldout.csv")
    model = fit_stance_model(features(train), train["expected"].tolist(), seed=1)
    pred = model.predict(features(test))[0]
    learned = test.assign(pred=pred)
    with capsys.disabled():
        print(f"\ncrisis second set, rules: {_figures(test)}\n  model: {_figures(learned)}")
    assert (pred == test["expected"]).mean() >= 30 / 36  # measured 31/36 = 0.861
    again = fit_stance_model(features(train), train["expected"].tolist(), seed=1)
    assert (again.predict(features(test))[0] == pred).all()  # deterministic for a seed


# ---- the rules behind each class -----------------------------------------------------------------


def test_sympathy_is_support_with_its_own_rule(clf):
    assert clf.score_text("@inspector_lane so sad :(")["focal"][::2] == (
        "supportive",
        "sympathy:so sad",
    )
    # unaimed sympathy about an event applies to the account addressed
    s = clf.score_text("Thoughts and prayers to the victims @northshire_police")["institution"]
    assert s[0] == "supportive" and s[2] == "sympathy:thoughts and prayers"
    # negated sympathy is critique, as any support phrase
    assert clf.score_text("No sympathy for @northshire_police")["institution"][0] == "critical"


def test_event_news_is_neutral_but_an_addressed_complaint_is_not(clf):
    news = clf.score_text("Two dead after shooting in Millbrook, @northshire_police investigating")
    assert news["institution"][0] == "neutral" and news["institution"][2].startswith("event:")
    assert news["institution"][1] < 0  # the score keeps VADER's reading for the audit
    # a critique word judging the event is not aimed at the account
    s = clf.score_text("Shocking attack in town last night. @northshire_police want witnesses")
    assert s["institution"][0] == "neutral"
    # second person: the post evaluates its addressee, VADER's reading stands
    s = clf.score_text("@northshire_police you did nothing while my shop was robbed, terrible")
    assert s["institution"][0] == "critical" and s["institution"][2] == "vader"


def test_reporting_words_never_outrank_evaluation(clf):
    s = clf.score_text("@northshire_police your statement is false and a lie")["institution"]
    assert s[0] == "critical" and s[2] == "lexicon:false"
    # "your statement" is the addressee's words, not news: VADER decides, not neutral:statement
    s = clf.score_text("@northshire_police your statement makes me sick")["institution"]
    assert s[2] == "vader"
    # reporting language alone is still neutral news
    s = clf.score_text("@northshire_police have released a statement")["institution"]
    assert s == ("neutral", 0.0, "neutral:statement")


def test_negation_exceptions_do_not_flip(clf):
    assert clf.score_text("Nothing but respect for @inspector_lane")["focal"][0] == "supportive"
    assert clf.score_text("Can't thank you enough @northshire_police")["institution"][0] == (
        "supportive"
    )
    # the plain negators still flip
    assert clf.score_text("No respect for @northshire_police")["institution"][0] == "critical"
    assert clf.score_text("@inspector_lane is not a hero")["focal"][0] == "critical"


def test_a_question_without_a_stance_phrase_is_neutral(clf):
    s = clf.score_text("@northshire_police how do I report a lost wallet?")["institution"]
    assert s[0] == "neutral" and s[2] == "question"
    # a stance phrase in a question still decides ("why so incompetent?")
    s = clf.score_text("Why is @northshire_police so incompetent?")["institution"]
    assert s[0] == "critical" and s[2] == "lexicon:incompetent"
    # a question beside a statement is not a question-only post
    s = clf.score_text("@northshire_police how do I report it? Lost my wallet, awful day")
    assert s["institution"][2] != "question"


def test_study_lexicon_sections_for_the_new_rules(tmp_path):
    p = tmp_path / "lex.toml"
    p.write_text(
        '[sympathy]\nphrases = ["chin up"]\n[event]\nwords = ["landslide*"]\n'
        '[negation]\nexceptions = ["never ever"]\n'
    )
    lex = load_lexicon(p)
    assert "chin up" in lex.sympathy and "so sad" in lex.sympathy  # extends the default
    assert "landslide*" in lex.event and "never ever" in lex.negation_exceptions
    d = lex.describe()
    assert d["sympathy_phrases"] == len(lex.sympathy) and d["event_words"] == len(lex.event)
    c = Classifier([FOCAL], [INST], lex)
    assert c.score_text("@inspector_lane chin up")["focal"][2] == "sympathy:chin up"
    s = c.score_text("Landslides close the coast road, dreadful @northshire_police")
    assert s["institution"][0] == "neutral"
    p.write_text('[event]\nwords = ["hit and run"]\n')
    with pytest.raises(InputFileError, match=r"\[event\] words are single words"):
        load_lexicon(p)


def test_emoji_are_read_by_their_names(clf):
    """An emoji-only reply was 'no-text' (neutral); its emoji now read as their CLDR names."""
    s = clf.score_text("@inspector_lane \U0001f44f\U0001f44f")["focal"]  # clapping hands
    assert s == ("supportive", 1.0, "lexicon:clapping hands")
    s = clf.score_text("@northshire_police \U0001f64f")["institution"]  # folded hands
    assert s == ("supportive", 1.0, "sympathy:folded hands")
    s = clf.score_text("@northshire_police \U0001f921")["institution"]  # clown face
    assert s[0] == "critical"
    # an emoji no list names leaves the post to VADER, not to the no-text rule
    assert clf.score_text("@northshire_police \U0001f693")["institution"][2] == "vader"
    assert clf.score_text("@northshire_police")["institution"][2] == "no-text"
