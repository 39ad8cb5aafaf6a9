"""Supervised stance from a study's hand codes: a per-study classifier over text and rule signals.

When a study has enough hand codes (labels CSV), a linear, class-balanced model learns the
study's own notion of supportive / critical / neutral from them and decides every unlabelled
interaction; hand-coded posts keep their code. Features (METHODS.md, "Supervised stance"):

- word 1-2-gram and character 2-5-gram TF-IDF of the post text (URLs removed);
- the rule system's decision for the side (one-hot stance and rule family: lexicon, victim,
  vader, repost, ...) and VADER's compound score of the text: features, not overrides;
- the target side (one-hot) when one model serves both sides.

One model per target side when each side has at least :data:`MIN_LABELS` codes of two or more
classes, else one shared model. The regularisation strength is chosen by an inner stratified
cross-validation on the study's codes (macro-F1) from a fixed grid, so nothing is tuned to any
other data. Everything is seeded; the fitted model is saved with skops (never pickle).

Scoring is vectorised: rows are reduced to distinct (text, side, rule decision) combinations,
and only those are featurised and predicted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..errors import NetsupportError
from .predictions import ModelInfo, distinct_rows, library_version
from .rules import _HANDLE_RE, _SIDES, _URL_RE, RULE_REPOST, RULE_VADER, STANCE_ORDER

__all__ = [
    "MIN_LABELS",
    "RULE_MODEL",
    "StanceModel",
    "fit_stance_model",
    "load_model",
    "model_key",
    "row_features",
    "save_model",
]

#: The ``rule`` of a decision the model made; its ``score`` is the model's probability.
RULE_MODEL = "model"
#: Fewest usable hand codes (of two or more classes) for a model; fewer keep the rules.
MIN_LABELS = 50
#: Version of the model's features and training; part of the cache key.
MODEL_VERSION = 1
#: Grid of inverse regularisation strengths the inner cross-validation chooses from.
C_GRID = (0.3, 3.0, 30.0)
#: Folds of the inner cross-validation that chooses C.
INNER_FOLDS = 3
#: Feature columns of a row (see :func:`row_features`).
FEATURE_COLUMNS = ["text", "side", "rule_stance", "rule_family", "vader"]


def _clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return _URL_RE.sub(" ", text).lower()


#: From this many texts, VADER runs in worker processes (one chunk per process, same results).
PARALLEL_MIN_TEXTS = 4000


def _vader_scores(texts: Sequence[str]) -> np.ndarray:
    """Return VADER's compound score of each text (handles, URLs and '#' removed), in worker
    processes when there are many texts."""
    import os

    workers = min(4, os.cpu_count() or 1)
    if workers > 1 and len(texts) >= PARALLEL_MIN_TEXTS:
        from concurrent.futures import ProcessPoolExecutor

        from ..io.pool import exit_with_parent

        size = -(-len(texts) // workers)
        chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent) as pool:
            return np.concatenate(list(pool.map(_vader_chunk, chunks)))
    return _vader_chunk(texts)


def _vader_chunk(texts: Sequence[str]) -> np.ndarray:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = np.zeros(len(texts), dtype="float64")
    for i, t in enumerate(texts):
        if isinstance(t, str) and t.strip():
            clean = _HANDLE_RE.sub(" ", _URL_RE.sub(" ", t)).replace("#", " ")
            out[i] = float(sia.polarity_scores(clean)["compound"])
    return out


def row_features(
    table: pd.DataFrame, texts: pd.Series, vader_of: pd.Series | None = None
) -> pd.DataFrame:
    """Return the model's features for every row of a rule-decided stance table.

    Parameters
    ----------
    table : DataFrame
        The rules' stance table (:data:`netsupport.stance.STANCE_COLUMNS`), before hand labels.
    texts : Series
        Post text by post id.
    vader_of : Series, optional
        VADER's compound by text where the caller has it
        (:attr:`netsupport.stance.Classifier.text_vader`); computed here for the others.

    Returns
    -------
    DataFrame
        :data:`FEATURE_COLUMNS`, aligned with ``table``. VADER is computed once per distinct
        text, and not at all where the rules already used it on the whole text.
    """
    pid_codes, pids = pd.factorize(table["post_id"], sort=False)
    by_post = pd.Series(pids).map(texts).to_numpy(dtype=object)  # once per post, not per row
    text = pd.Series(
        by_post[pid_codes] if len(pid_codes) else np.zeros(0, dtype=object), index=table.index
    )
    text = text.where(pd.Series(pid_codes >= 0, index=table.index), None).fillna("").astype(object)
    rule = table["rule"].astype(object).fillna("")
    r_codes, r_uniques = pd.factorize(rule, sort=False)
    family = np.array([str(r).split(":", 1)[0] for r in r_uniques], dtype=object)[r_codes]
    vader = np.full(len(table), np.nan)
    is_vader = (rule == RULE_VADER).to_numpy(dtype=bool)
    vader[is_vader] = table["score"].to_numpy(dtype="float64")[is_vader]
    codes, uniques = pd.factorize(text, sort=False)
    need = np.zeros(len(uniques), dtype=bool)
    need[codes[~is_vader]] = True
    known = np.full(len(uniques), np.nan)
    if is_vader.any():
        known[codes[is_vader]] = vader[is_vader]
    need &= np.isnan(known)
    if need.any() and vader_of is not None and len(vader_of):
        todo = np.flatnonzero(need)
        got = vader_of.reindex(pd.Index(uniques.take(todo), dtype=object)).to_numpy("float64")
        known[todo] = got
        need[todo[~np.isnan(got)]] = False
    if need.any():
        known[need] = _vader_scores([uniques[i] for i in np.flatnonzero(need)])
    vader = known[codes] if len(codes) else vader
    cleaned = np.array([_clean(t) for t in uniques], dtype=object)
    return pd.DataFrame(
        {
            "text": cleaned[codes] if len(codes) else np.zeros(0, dtype=object),
            "side": table["target_side"].astype(object).to_numpy(),
            "rule_stance": table["stance"].astype(object).to_numpy(),
            "rule_family": family,
            "vader": np.nan_to_num(vader.astype("float64")),
        },
        index=table.index,
    )


def _pipeline(shared: bool, seed: int, c: float) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = ["rule_stance", "rule_family"] + (["side"] if shared else [])
    features = ColumnTransformer(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)[@#]?\b\w+\b",
                ),
                "text",
            ),
            (
                "char",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                "text",
            ),
            ("rules", OneHotEncoder(handle_unknown="ignore"), cats),
            ("vader", "passthrough", ["vader"]),
        ]
    )
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def _fit_one(
    x: pd.DataFrame, y: np.ndarray, shared: bool, seed: int, c: float | None = None
) -> Any:
    """Fit one pipeline, C chosen by inner stratified CV (macro-F1) when every class allows
    (or ``c`` when given)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise NetsupportError("a stance model needs hand codes of at least two classes")
    if c is not None:
        return _pipeline(shared, seed, c).fit(x, y)
    folds = int(min(INNER_FOLDS, counts.min()))
    if folds < 2:
        return _pipeline(shared, seed, 3.0).fit(x, y)
    search = GridSearchCV(
        _pipeline(shared, seed, 3.0),
        {"clf__C": list(C_GRID)},
        scoring="f1_macro",
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        n_jobs=1,
        refit=True,
    )
    search.fit(x, y)
    return search.best_estimator_


@dataclass
class StanceModel:
    """A fitted stance model: one pipeline per side, or one shared (``"*"``)."""

    pipelines: dict[str, Any]
    shared: bool
    n_labels: int

    @property
    def c(self) -> dict[str, float]:
        """The regularisation chosen for each pipeline."""
        return {k: float(p.named_steps["clf"].C) for k, p in self.pipelines.items()}

    @property
    def layout(self) -> str:
        return "shared" if self.shared else "per side"

    def predict(self, x: pd.DataFrame, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Return (stance, probability of that stance) for feature rows ``x``.

        Rows are reduced to distinct feature tuples first; ties go to the first class in
        :data:`STANCE_ORDER`. ``parallel``: as :meth:`predict_distinct` takes it.
        """
        stance = np.empty(len(x), dtype=object)
        prob = np.zeros(len(x), dtype="float64")
        if not len(x):
            return stance, prob
        codes, first = distinct_rows(x, FEATURE_COLUMNS)
        d_stance, d_prob = self.predict_distinct(x.iloc[first], parallel)
        return d_stance[codes], d_prob[codes]

    def predict_distinct(
        self, distinct: pd.DataFrame, parallel: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (stance, probability of that stance) for each row of ``distinct`` (each row
        is decided on its own: the same row gets the same result in any batch).

        ``parallel``: from :data:`PARALLEL_MIN_ROWS` rows, run the two text vectorisers in two
        processes (False: in this one, as a Dask worker does; the same results)."""
        d_stance = np.empty(len(distinct), dtype=object)
        d_prob = np.zeros(len(distinct), dtype="float64")
        sides = distinct["side"].to_numpy(dtype=object)
        with threadpool_limits(1):
            self._predict_distinct(distinct, sides, d_stance, d_prob, parallel)
        return d_stance, d_prob

    def _predict_distinct(
        self,
        distinct: pd.DataFrame,
        sides: np.ndarray,
        d_stance: np.ndarray,
        d_prob: np.ndarray,
        parallel: bool,
    ) -> None:
        for name, pipe in self.pipelines.items():
            mask = np.ones(len(distinct), dtype=bool) if self.shared else sides == name
            if not mask.any():
                continue
            rows = distinct[mask]
            if parallel and len(rows) >= PARALLEL_MIN_ROWS:  # the two text vectorisers, 2 procs
                pipe = clone_with_jobs(pipe, 2)
            p = pipe.predict_proba(rows)
            classes = list(pipe.classes_)
            order = [classes.index(s) for s in STANCE_ORDER if s in classes]
            ordered = p[:, order]
            names = np.array([classes[i] for i in order], dtype=object)
            best = ordered.argmax(axis=1)
            d_stance[mask] = names[best]
            d_prob[mask] = ordered[np.arange(len(ordered)), best]


#: Distinct rows from which prediction runs the word and character vectorisers in two worker
#: processes. Below it the workers' start-up (each imports scikit-learn) and the copy of the texts
#: to them cost more CPU than they save: at bench/stance_model_1m.py's 37,740 distinct rows, 2.5
#: CPU-s in one process against 1.1 here plus 4.7 in the workers (bench/RESULTS.md).
PARALLEL_MIN_ROWS = 100_000


def clone_with_jobs(pipe: Any, n_jobs: int) -> Any:
    """Return a shallow copy of a fitted pipeline whose feature union runs ``n_jobs`` jobs
    (the fitted vectorisers are shared; results do not depend on the number of jobs)."""
    import copy

    out = copy.copy(pipe)
    out.steps = list(pipe.steps)
    features = copy.copy(pipe.named_steps["features"])
    features.n_jobs = n_jobs
    out.steps[0] = ("features", features)
    return out


def layout_for(y: np.ndarray, sides: np.ndarray) -> bool:
    """Return True when one shared model is needed (a side has too few codes or one class)."""
    for side in _SIDES:
        ys = y[sides == side]
        if len(ys) < MIN_LABELS or len(np.unique(ys)) < 2:
            return True
    return False


def fit_stance_model(
    x: pd.DataFrame,
    y: Sequence[str],
    *,
    seed: int = 42,
    shared: bool | None = None,
    c: Mapping[str, float] | None = None,
    min_codes: int = MIN_LABELS,
) -> StanceModel:
    """Fit the study's stance model on hand-coded feature rows.

    Parameters
    ----------
    x : DataFrame
        :func:`row_features` of the hand-coded units.
    y : sequence of str
        Their hand codes.
    seed : int
        Seeds the folds of the inner cross-validation and the solver.
    shared : bool, optional
        Force one shared model (True) or one per side (False); by default per side when each
        side has :data:`MIN_LABELS` codes of two or more classes.
    c : mapping, optional
        The regularisation of each pipeline (``"*"`` or the side) instead of the inner search
        (the cross-validation's fold models use the study model's choice: 1 fit, not 10).
    min_codes : int
        The fewest codes to fit on: :data:`MIN_LABELS` for the study's model; a
        cross-validation fold's model, trained on (K-1)/K of them, takes fewer.

    Raises
    ------
    NetsupportError
        With fewer than ``min_codes`` codes or one class only (of a side, per side).
    """
    with threadpool_limits(1):  # BLAS threads on a few hundred rows: 60x slower, not faster
        return _fit_model(x, y, seed=seed, shared=shared, c=c, min_codes=min_codes)


def _fit_model(
    x: pd.DataFrame,
    y: Sequence[str],
    *,
    seed: int,
    shared: bool | None,
    c: Mapping[str, float] | None,
    min_codes: int = MIN_LABELS,
) -> StanceModel:
    y = np.asarray(list(y), dtype=object)
    if len(y) < min_codes or len(np.unique(y)) < 2:
        raise NetsupportError(
            f"a stance model needs at least {min_codes} hand codes of two or more classes, "
            f"got {len(y)} of {len(np.unique(y))}"
        )
    sides = x["side"].to_numpy(dtype=object)
    if shared is None:
        shared = layout_for(y, sides)
    c = c or {}
    if shared:
        return StanceModel({"*": _fit_one(x, y, True, seed, c.get("*"))}, True, len(y))
    pipes = {s: _fit_one(x[sides == s], y[sides == s], False, seed, c.get(s)) for s in _SIDES}
    return StanceModel(pipes, False, len(y))


def model_key(x: pd.DataFrame, y: Sequence[str], seed: int) -> str:
    """Return the sha256 of everything a fitted model depends on (codes, features, seed, code)."""
    h = hashlib.sha256()
    sklearn_version = library_version("scikit-learn")  # (not imported: a cache hit needs none)
    h.update(f"v{MODEL_VERSION}|sklearn {sklearn_version}|seed {seed}\n".encode())
    frame = x[FEATURE_COLUMNS].astype(str).assign(label=[str(v) for v in y])
    for row in sorted(map(tuple, frame.to_numpy(dtype=object).tolist())):
        h.update(("\x1f".join(row) + "\x1e").encode("utf-8"))
    return h.hexdigest()


_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "re.")


def import_model_libraries() -> None:
    """Import what fitting, loading, validating and measuring a stance model use
    (scikit-learn's modules and skops: about 1.3 CPU-s; skops lists every estimator)."""
    import sklearn.compose
    import sklearn.feature_extraction.text
    import sklearn.linear_model
    import sklearn.metrics
    import sklearn.model_selection
    import sklearn.pipeline
    import sklearn.preprocessing  # noqa: F401
    import skops.io  # noqa: F401


def save_model(model: StanceModel, path: str | Path) -> Path:
    """Save a fitted model with skops (atomic: temp file + rename)."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(
        {"pipelines": model.pipelines, "shared": model.shared, "n_labels": model.n_labels}, tmp
    )
    tmp.replace(path)
    return path


def load_model(path: str | Path) -> StanceModel | None:
    """Load a model saved by :func:`save_model`; None when missing, unreadable or holding types
    other than scikit-learn's, numpy's and scipy's (then the caller retrains)."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(path)
    if not path.is_file():
        return None
    try:
        try:  # skops' own trusted types only (every file save_model writes): audited once
            data = sio.load(path)
        except UntrustedTypesFoundException:  # others: loaded when all are of those libraries
            untrusted = sio.get_untrusted_types(file=path)
            if any(not t.startswith(_TRUSTED_PREFIXES) for t in untrusted):
                return None
            data = sio.load(path, trusted=untrusted)
        return StanceModel(dict(data["pipelines"]), bool(data["shared"]), int(data["n_labels"]))
    except Exception:  # a damaged cache file: retrain rather than fail the run
        return None


# ---- applying the model to a stance table -------------------------------------------------------


def label_units(table: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Return the hand-coded units of a stance table: one row per (post, side) with a code.

    The row that represents a unit is its repost row if any, else its first row (as the
    support measures pick it). Columns: the table's, plus ``label`` and the index of the row.
    """
    from .labels import _label_lookup

    rank = np.where(table["rule"].astype(object).to_numpy() == RULE_REPOST, 0, 1)
    order = np.lexsort((np.arange(len(table)), rank))
    units = table.iloc[order].drop_duplicates(["post_id", "target_side"], keep="first")
    units = units.sort_index()
    lab = _label_lookup(units, labels)
    units = units.assign(label=lab.astype(object).to_numpy())
    return units[units["label"].notna()]


def apply_model(
    table: pd.DataFrame,
    features: pd.DataFrame,
    model: StanceModel,
    labelled: np.ndarray,
    parallel: bool = True,
) -> pd.DataFrame:
    """Return ``table`` with the model's decision on every row not hand-coded (``labelled``
    False): stance, ``score`` = the model's probability of it, rule ``model``. ``features``:
    :func:`row_features` of ``table``; ``parallel``: as :meth:`StanceModel.predict` takes it."""
    todo = ~labelled
    if not todo.any():
        return table.copy()
    return apply_predictions(table, labelled, *model.predict(features[todo], parallel))


def apply_predictions(
    table: pd.DataFrame, labelled: np.ndarray, stance: np.ndarray, prob: np.ndarray
) -> pd.DataFrame:
    """Return ``table`` with the model's ``stance`` and ``prob`` (one each per row not
    hand-coded, in order) on those rows, rule ``model`` (:func:`apply_model`)."""
    out = table.copy()
    todo = ~labelled
    if todo.any():
        out.loc[todo, "stance"] = stance
        out.loc[todo, "score"] = prob
        out.loc[todo, "rule"] = RULE_MODEL
    return out


def labelled_rows(table: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Return which rows of ``table`` a hand code decides."""
    from .labels import _label_lookup

    return _label_lookup(table, labels).notna().to_numpy(dtype=bool)


def describe(model: StanceModel | ModelInfo | None, reason: str | None = None) -> dict[str, Any]:
    """Return how the stance was decided, for metrics.json and the report (``model``: the
    fitted model, or the info kept with its predictions)."""
    if model is None:
        return {"status": "rules", "reason": reason or "no hand codes"}
    cs = dict(sorted(model.c.items()))
    return {
        "status": "model",
        "layout": model.layout,
        "labels": model.n_labels,
        "features": "word 1-2 and char 2-5 TF-IDF, rule stance and family (one-hot), VADER",
        "classifier": "LogisticRegression(class_weight='balanced'), C by inner CV (macro-F1)",
        "C": cs,
        "version": MODEL_VERSION,
    }
