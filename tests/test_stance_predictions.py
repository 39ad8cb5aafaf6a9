"""The stance model's predictions kept beside it (stance/predictions.py, supervised._predicted):
read back only for the same model file, rows, libraries and code; the same bytes out either way;
nothing written outside the model folder."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stance_model import WINDOWS, _coded_case

import netsupport.stance.predictions as P
import netsupport.stance.supervised as sup
from netsupport.engine import write_parquet
from netsupport.stance.model import (
    FEATURE_COLUMNS,
    StanceModel,
    fit_stance_model,
    load_model,
    row_features,
)
from netsupport.stance.rules import _texts_by_post
from netsupport.stance.supervised import supervise
from netsupport.textsafe import dumps_json


def _run(auto, posts, lab, models=None):
    return supervise(auto, posts, lab, windows=WINDOWS, n_boot=20, model_dir=models)


def _kept(models):
    return sorted(models.glob("stance-predictions-*.npz"))


def _count_predictions(monkeypatch):
    """Count the model's predictions of the step's rows (a miss writes them:
    supervised.write_predictions); the cross-validation's fold models are not counted."""
    calls = []
    real = sup.write_predictions

    def counted(model_dir, key, model_sha, predictions):
        calls.append(len(predictions.prob))
        return real(model_dir, key, model_sha, predictions)

    monkeypatch.setattr(sup, "write_predictions", counted)
    return calls


def _bytes(result, tmp_path, name):
    """The bytes the run writes of a result: the stance table's Parquet and the JSON."""
    path = tmp_path / f"{name}.parquet"
    write_parquet(result.table, path)
    doc = {"model": result.model, "validation": result.validation}
    return path.read_bytes(), dumps_json(doc).encode(), result.units.to_numpy().tolist()


@pytest.fixture(scope="module")
def case():
    return _coded_case()


def test_a_rerun_reads_the_predictions_back_without_loading_the_model(case, tmp_path, monkeypatch):
    posts, auto, _, lab = case
    models = tmp_path / "work" / "models"
    calls = _count_predictions(monkeypatch)
    first = _run(auto, posts, lab, models)  # fits, predicts, keeps the predictions
    assert len(calls) == 1 and len(_kept(models)) == 1
    monkeypatch.setattr(sup, "load_model", lambda path: pytest.fail("model loaded on a hit"))
    monkeypatch.setattr(sup, "fit_stance_model", lambda *a, **k: pytest.fail("model fitted"))
    monkeypatch.setattr(
        StanceModel, "predict_distinct", lambda *a: pytest.fail("predicted on a hit")
    )

    @functools.wraps(sup.error_figures)  # (the same name: the same key)
    def no_figures(*args, **kwargs):
        pytest.fail("figures computed on a hit")

    monkeypatch.setattr(sup, "error_figures", no_figures)
    again = _run(auto, posts, lab, models)
    assert len(calls) == 1  # read back: not predicted again
    # the same bytes out as the first run's, and as a run without any cache folder
    monkeypatch.undo()
    plain = _run(auto, posts, lab)
    want = _bytes(first, tmp_path, "first")
    assert _bytes(again, tmp_path, "again") == want
    assert _bytes(plain, tmp_path, "plain") == want
    assert again.model == first.model and again.model["status"] == "model"


def test_the_prefetch_is_skipped_when_the_models_predictions_are_kept(case, tmp_path):
    posts, auto, _, lab = case
    models = tmp_path / "models"
    prefetch = sup.ModelPrefetch(models)
    assert not prefetch.predictions_kept()  # nothing yet
    _run(auto, posts, lab, models)
    assert prefetch.predictions_kept()
    # a model file that is not the one the predictions were made with: prefetched as before
    (model_file,) = models.glob("stance-model-*.skops")
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    assert not prefetch.predictions_kept()


def test_changed_rows_miss_and_are_predicted_again(case, tmp_path, monkeypatch):
    posts, auto, _, lab = case
    models = tmp_path / "models"
    _run(auto, posts, lab, models)
    (old,) = _kept(models)
    calls = _count_predictions(monkeypatch)
    # one uncoded post's text changes: its feature row does, the model (same codes) does not
    coded = set(lab["post_id"])
    pid = next(p for p in auto["post_id"] if p not in coded)
    posts2 = posts.copy()
    posts2.loc[posts2["post_id"] == pid, "text"] = "@lane gleebish gleebish florpy"
    changed = _run(auto, posts2, lab, models)
    assert len(calls) == 1 and _kept(models) != [old] and len(_kept(models)) == 1
    pd.testing.assert_frame_equal(changed.table, _run(auto, posts2, lab).table)
    assert len(list(models.glob("stance-model-*.skops"))) == 1  # the same model, reused


def _coded_rows(auto, posts, result):
    """(features of every row, of the coded units' rows, their codes) as supervise makes them."""
    x = row_features(auto, _texts_by_post(posts))
    coded = result.units["label"].notna().to_numpy()
    y = result.units["label"][coded].astype(str).to_numpy(dtype=object)
    return x, x.iloc[sup.unit_rows(auto)[coded]], y


def test_a_changed_model_file_misses(case, tmp_path, monkeypatch):
    posts, auto, _, lab = case
    models = tmp_path / "models"
    first = _run(auto, posts, lab, models)
    (model_file,) = models.glob("stance-model-*.skops")
    # another model under the same name (as another scikit-learn build could write): trained
    # on codes with supportive and critical swapped, so its decisions differ
    x, x_lab, y = _coded_rows(auto, posts, first)
    swap = {"supportive": "critical", "critical": "supportive"}
    other = fit_stance_model(x_lab, np.array([swap.get(v, v) for v in y], dtype=object))
    sup.save_model(other, model_file)
    calls = _count_predictions(monkeypatch)
    again = _run(auto, posts, lab, models)
    assert len(calls) == 1  # predicted again, by the file's model
    decided = (again.table["rule"] == "model").to_numpy()
    want = load_model(model_file).predict(x[decided])[0]
    assert list(again.table["stance"][decided]) == list(want)
    assert (again.table["stance"][decided] != first.table["stance"][decided]).any()


@pytest.mark.parametrize("what", ["version", "source", "library", "damaged"])
def test_a_changed_code_or_library_or_a_damaged_file_misses(case, tmp_path, monkeypatch, what):
    posts, auto, _, lab = case
    models = tmp_path / "models"
    first = _run(auto, posts, lab, models)
    (kept,) = _kept(models)
    if what == "version":
        monkeypatch.setattr(P, "PREDICTIONS_VERSION", P.PREDICTIONS_VERSION + 1)
    elif what == "source":  # (an edit of netsupport/stance/*.py)
        monkeypatch.setattr(P, "_CODE_HASH", "0" * 64)
    elif what == "library":
        real = P.library_version
        monkeypatch.setattr(
            P, "library_version", lambda n: real(n) + ("+other" if n == "numpy" else "")
        )
    else:
        kept.write_bytes(kept.read_bytes()[:100])
    calls = _count_predictions(monkeypatch)
    again = _run(auto, posts, lab, models)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again.table, first.table)
    assert len(_kept(models)) == 1 and (what == "damaged") == (_kept(models) == [kept])


def test_nothing_is_written_outside_the_model_folder(case, tmp_path):
    posts, auto, _, lab = case
    (tmp_path / "beside.txt").write_text("the user's", encoding="utf-8")
    models = tmp_path / "work" / "models"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for _ in range(2):  # a miss, then a hit
        _run(auto, posts, lab, models)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    new = sorted(p.relative_to(models).as_posix() for p in set(after) - set(before))
    assert all(p.parent == models for p in set(after) - set(before))
    assert sorted({n.split("-")[1] for n in new}) == ["cv", "figures", "model", "predictions"]
    assert not [n for n in new if n.endswith(".tmp")]
    assert all(after[p] == b for p, b in before.items())
    # without a model folder nothing is written at all
    _run(auto, posts, lab)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == set(after)


def test_the_kept_file_holds_no_pickle_and_names_its_model(case, tmp_path):
    posts, auto, _, lab = case
    models = tmp_path / "models"
    _run(auto, posts, lab, models)
    (kept,) = _kept(models)
    (model_file,) = models.glob("stance-model-*.skops")
    with np.load(kept, allow_pickle=False) as z:  # (raises on object arrays)
        assert str(z["model_sha256"]) == P.file_sha256(model_file)
        info = json.loads(str(z["info"]))
    assert set(info) == {"shared", "n_labels", "c"}
    assert P.predictions_model_sha(models) == P.file_sha256(model_file)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_predicting_the_union_once_equals_predicting_each_part(case, tmp_path, data):
    """_predicted predicts the coded rows and the rows to decide in one batch of distinct
    rows: the same stance and probability, bit for bit, as the model's own predict on each
    part (the reference), for any rows, repeats and order; and read back the same."""
    posts, auto, _, lab = case
    models = tmp_path / "models"
    first = _run(auto, posts, lab, models)
    x, x_lab, y = _coded_rows(auto, posts, first)
    n = len(x)
    pick = data.draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=3 * n))
    x_todo = x.iloc[pick]
    model = load_model(next(models.glob("stance-model-*.skops")))
    for _ in range(2):  # predicted (a miss: new rows), then read back
        info, (s_lab, p_lab), (s_todo, p_todo) = sup._predicted(
            x_lab, y, x_todo, 42, models, model.shared, None
        )
        want_lab = model.predict(x_lab)
        want_todo = model.predict(x_todo)
        assert list(s_lab) == list(want_lab[0]) and list(s_todo) == list(want_todo[0])
        assert p_lab.tobytes() == want_lab[1].tobytes()
        assert p_todo.tobytes() == want_todo[1].tobytes()
        assert info.c == model.c and info.shared == model.shared
    assert list(x.columns) == FEATURE_COLUMNS


def test_kept_figures_are_read_back_and_computed_again_when_anything_changes(tmp_path, monkeypatch):
    calls = []

    def figures(true, pred, weight=None):
        calls.append(1)
        return {"accuracy": 0.1 + 0.2, "n": len(true), "kappa": None, "m": [[1, 2]], "b": "z"}

    true = ["supportive", "critical"]
    pred = np.array(["supportive", None], dtype=object)
    weight = np.array([1.0, 2.5])
    first = P.kept_figures(tmp_path, "cv", figures, true, pred, weight)
    again = P.kept_figures(tmp_path, "cv", figures, true, pred, weight)
    assert len(calls) == 1 and json.dumps(again) == json.dumps(first)  # (key order too)
    assert again["accuracy"] == 0.1 + 0.2  # the float itself, not a rounding of it
    changes = [
        (true, pred, np.nextafter(weight, 10)),  # a weight by one ulp
        (true, pred, None),
        (["supportive", "neutral"], pred, weight),  # a code
        (true, np.array(["supportive", "neutral"], dtype=object), weight),  # a prediction
    ]
    for n, args in enumerate(changes, start=2):
        P.kept_figures(tmp_path, "cv", figures, *args)
        assert len(calls) == n
    monkeypatch.setattr(P, "FIGURES_VERSION", P.FIGURES_VERSION + 1)
    P.kept_figures(tmp_path, "cv", figures, true, pred, weight)
    monkeypatch.setattr(P, "_CODE_HASH", "0" * 64)
    P.kept_figures(tmp_path, "cv", figures, true, pred, weight)
    assert len(calls) == 7
    # one file per slot, a slot whose name extends another's kept apart
    P.kept_figures(tmp_path, "cv_crisis", figures, true, pred, weight)
    assert len(list(tmp_path.glob("stance-figures-cv.*.json"))) == 1
    assert len(list(tmp_path.glob("stance-figures-*.json"))) == 2
    # a damaged file is computed again; no folder: computed every time, nothing written
    (kept,) = tmp_path.glob("stance-figures-cv.*.json")
    kept.write_text('{"key": ', encoding="utf-8")
    P.kept_figures(tmp_path, "cv", figures, true, pred, weight)
    assert len(calls) == 9
    files = sorted(tmp_path.iterdir())
    P.kept_figures(None, "cv", figures, true, pred, weight)
    assert len(calls) == 10 and sorted(tmp_path.iterdir()) == files


@pytest.mark.parametrize("workers", [1, 2])
def test_rule_scores_are_read_back_and_scored_again_when_anything_changes(
    tmp_path, monkeypatch, workers
):
    import dataclasses

    from test_stance_model import _case

    import netsupport.stance.rules as rules
    from netsupport.stance import Classifier

    monkeypatch.setattr(rules, "PARALLEL_MIN_TEXTS", 10)  # (workers=2: the pool's path)
    posts, inter, _ = _case(n_per_class=10)
    keep = tmp_path / "models"

    def classify(clf=None, posts=posts, vader=True, keep=keep):
        clf = clf or Classifier(["lane"], ["force"])
        table = clf.classify(inter, posts, WINDOWS, workers=workers, vader=vader, keep_dir=keep)
        return table, clf.text_vader

    want, want_vader = classify(keep=None)
    assert not keep.exists()  # nothing kept without a folder
    first, first_vader = classify()
    pd.testing.assert_frame_equal(first, want)
    pd.testing.assert_series_equal(first_vader, want_vader)
    assert len(list(keep.glob("stance-rules-*.npz"))) == 1
    with monkeypatch.context() as m:  # a hit: nothing scored, the same table and VADER
        m.setattr(rules._Analyser, "score", lambda self, t: pytest.fail("scored on a hit"))
        m.setattr(rules, "ProcessPoolExecutor", None)
        again, again_vader = classify()
    pd.testing.assert_frame_equal(again, want)
    pd.testing.assert_series_equal(again_vader, want_vader)
    writes = []
    real = P.write_rule_rows
    monkeypatch.setattr(P, "write_rule_rows", lambda *a: writes.append(1) or real(*a))
    # each change misses, and scores what a run without the folder scores
    posts2 = posts.copy()
    posts2.loc[posts2.index[3], "text"] = "@lane shame on you"
    base = Classifier(["lane"], ["force"])
    lex = dataclasses.replace(base.lexicon, support=(*base.lexicon.support, "gleebish"))
    changes = [
        {"posts": posts2},
        {"vader": False},
        {"clf": Classifier(["lane"], ["force"], positive_threshold=0.3)},
        {"clf": Classifier(["lane"], ["force"], lexicon=lex)},
    ]
    for n, change in enumerate(changes, start=1):
        got, _ = classify(**change)
        change = {
            k: (
                Classifier(v.focal, v.institution, v.lexicon, v.positive_threshold)
                if k == "clf"
                else v
            )
            for k, v in change.items()
        }
        plain, _ = classify(keep=None, **change)
        pd.testing.assert_frame_equal(got, plain)
        assert len(writes) == n and len(list(keep.glob("stance-rules-*.npz"))) == 1
    assert (got["rule"] == "lexicon:gleebish").any()  # (the lexicon change did change rows)
    monkeypatch.setattr(P, "_CODE_HASH", "0" * 64)  # an edit of the code
    classify()
    assert len(writes) == 5
    (kept,) = keep.glob("stance-rules-*.npz")
    kept.write_bytes(b"PK junk")  # a damaged file: scored again
    damaged, _ = classify()
    assert len(writes) == 6
    pd.testing.assert_frame_equal(damaged, want)
