"""From rule decisions and hand codes to the study's stance: model, labels, measured error.

:func:`supervise` takes the rules' stance table and the study's hand codes and returns the
table the support measures use (hand codes kept, the model deciding the rest when there are
enough codes), how it was decided, and the validation (cross-validated error and the
error-corrected shares). METHODS.md, "Supervised stance", "Measured stance error" and
"Error-corrected shares".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..textsafe import atomic_write_bytes
from ..windows import Windows
from .labels import (
    POOLED_WEIGHT,
    SAMPLE_BY_ACCOUNT,
    SAMPLE_BY_POST,
    WAVE_LAMBDA,
    WAVE_NAME,
    WAVE_PI,
    WAVE_UNIT,
    _label_lookup,
    apply_labels,
)
from .model import (
    FEATURE_COLUMNS,
    MIN_LABELS,
    MODEL_VERSION,
    StanceModel,
    apply_predictions,
    describe,
    fit_stance_model,
    import_model_libraries,
    labelled_rows,
    layout_for,
    load_model,
    model_key,
    row_features,
    save_model,
)
from .predictions import (
    ModelInfo,
    Predictions,
    distinct_rows,
    file_sha256,
    kept_figures,
    library_version,
    predictions_key,
    predictions_model_sha,
    read_predictions,
    write_predictions,
)
from .rules import STANCE_ORDER, _texts_by_post
from .validation import (
    CV_FOLDS,
    MIN_WINDOW_CODES,
    SAMPLE_ACTIVE,
    corrected_shares,
    cross_validate,
    cv_groups,
    design_columns,
    design_weights,
    error_figures,
    unit_rows,
)

__all__ = [
    "CodedUnits",
    "ModelPrefetch",
    "StudyModel",
    "Supervised",
    "coded_units",
    "correct_validation",
    "study_model",
    "study_validation",
    "supervise",
    "validation_json",
]

UNVALIDATED = "no hand codes: stance figures are unvalidated"


@dataclass(frozen=True)
class Supervised:
    """The stance table with hand codes and model decisions, and how good it is."""

    table: pd.DataFrame
    model: dict[str, Any]
    validation: dict[str, Any] | None
    units: pd.DataFrame | None = None  # what the corrected shares are computed from
    #: the rules' own stance of every row (codes: positions in STANCE_ORDER, int8) when a model
    #: decided some rows: what those rows were before the model replaced them (the grid's
    #: "rules" classifier, :func:`netsupport.support.sensitivity.window_grid`)
    rules: np.ndarray | None = None


def _design_lookup(
    units: pd.DataFrame, design: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (inclusion probability, sample, sample_unit) of each unit's hand code
    (side-specific first)."""
    pi = _label_lookup(units, design.assign(stance=design["inclusion_probability"].astype(str)))
    prob = pd.to_numeric(pi.astype(object).replace("nan", np.nan), errors="coerce")
    sample, unit = (
        _label_lookup(units, design.assign(stance=design[c].astype(str)))
        .fillna("")
        .astype(str)
        .to_numpy(dtype=object)
        for c in ("sample", "sample_unit")
    )
    return prob.to_numpy(dtype="float64"), sample, unit


@dataclass(frozen=True)
class Sheet:
    """One coding sheet of a labels file pooled from several (:func:`~netsupport.stance.labels.
    pool_sheets`): each unit's inclusion probability in it (NaN: not drawn by it), its share of
    the estimation codes, and whether it drew accounts."""

    pi: np.ndarray
    lam: float
    by_account: bool
    name: str = ""


def _sheet_lookup(units: pd.DataFrame, design: pd.DataFrame) -> tuple[Sheet, ...]:
    """Return the sheets of a pooled labels table, each unit's probability in each (side-specific
    first); () for a labels file of one sheet."""
    out = []
    k = 0
    while f"{WAVE_PI}{k}" in design.columns:
        pi = _label_lookup(units, design.assign(stance=design[f"{WAVE_PI}{k}"].astype(str)))
        prob = pd.to_numeric(pi.astype(object).replace("nan", np.nan), errors="coerce")
        lam = float(design[f"{WAVE_LAMBDA}{k}"].iloc[0])
        by = str(design[f"{WAVE_UNIT}{k}"].iloc[0]) == SAMPLE_BY_ACCOUNT
        name = str(design[f"{WAVE_NAME}{k}"].iloc[0])
        out.append(Sheet(prob.to_numpy(dtype="float64"), lam, by, name))
        k += 1
    return tuple(out)


def sheet_columns(c: CodedUnits) -> dict[str, Any]:
    """Return the per-sheet columns of the units frame :func:`corrected_shares` takes, for a
    labels file pooled from several sheets (none for one sheet): ``wave_weight_k`` (``lam_k /
    pi_ik`` of an estimation code drawn by sheet k, else 0), ``wave_lambda_k`` and
    ``wave_by_account_k``."""
    out: dict[str, Any] = {}
    for k, sheet in enumerate(c.sheets):
        ok = c.coded & c.estimate_all & np.isfinite(sheet.pi)
        w = np.zeros(len(sheet.pi))
        w[ok] = sheet.lam / sheet.pi[ok]
        out[f"wave_weight_{k}"] = w
        out[f"wave_lambda_{k}"] = sheet.lam
        out[f"wave_by_account_{k}"] = sheet.by_account
    return out


def _sheets(c: CodedUnits) -> dict[str, Any]:
    """``sheets`` of the design for codes pooled from several coding sheets (nothing for one):
    each sheet's id, share of the estimation codes, estimation codes and what it drew."""
    if not c.sheets:
        return {}
    rows = []
    for s in c.sheets:
        drawn = c.coded & c.estimate_all & np.isfinite(s.pi)
        rows.append(
            {
                "sheet": s.name,
                "share": s.lam,
                "estimation_codes": int(drawn.sum()),
                "sample_unit": SAMPLE_BY_ACCOUNT if s.by_account else SAMPLE_BY_POST,
            }
        )
    return {
        "sheets": rows,
        "pooling": "each sheet a probability sample of all units; weights sum_k share_k / pi_ik "
        "over the sheets that drew a unit (METHODS.md, 'Several coding sheets')",
    }


def _sample_unit(units: np.ndarray) -> str:
    """Return what the estimation codes were drawn as: ``post``, ``account`` or ``account and
    post`` (a sheet drawn by account and one by post, or codes without a design)."""
    kinds = {SAMPLE_BY_ACCOUNT if u == SAMPLE_BY_ACCOUNT else SAMPLE_BY_POST for u in units}
    return " and ".join(sorted(kinds)) or SAMPLE_BY_POST


def _non_response(units: np.ndarray, drawn_not_whole: int) -> dict[str, int]:
    """``drawn_accounts_not_wholly_coded`` for codes drawn by account (nothing otherwise)."""
    if not (units == SAMPLE_BY_ACCOUNT).any():
        return {}
    return {"drawn_accounts_not_wholly_coded": int(drawn_not_whole)}


def supervise(
    auto: pd.DataFrame,
    posts: pd.DataFrame,
    labels: pd.DataFrame | None,
    *,
    labels_path: str | Path | None = None,
    windows: Windows | None = None,
    seed: int = 42,
    n_boot: int = 1000,
    confidence: float = 0.95,
    model_dir: str | Path | None = None,
    correct: bool = True,
    texts: pd.Series | None = None,
    prefetched: ModelPrefetch | None = None,
    vader_of: pd.Series | None = None,
    drawn_not_whole: int = 0,
) -> Supervised:
    """Return the study's stance from the rules' table ``auto`` and the hand codes ``labels``.

    With at least :data:`~netsupport.stance.model.MIN_LABELS` codes (two or more classes) a
    model is trained (or loaded from ``model_dir``, keyed by the hash of its codes and
    features) and decides every row not hand-coded; with fewer, the rules decide. Coded posts
    keep their code either way. The validation measures the decisions against the codes by
    cross-validation and, with ``correct``, corrects every share (needs ``windows``: the
    ``window`` column); :func:`correct_validation` does it later from ``Supervised.units``.
    ``texts``: the posts' texts by post id when the caller has them (else made from ``posts``).
    ``prefetched``: the model in ``model_dir`` when the caller loaded it ahead of need;
    ``vader_of``: VADER's compound by text where the caller has it (:func:`row_features`).
    ``drawn_not_whole``: accounts the coding sheet drew whole that came back with a post
    uncoded (:attr:`~netsupport.stance.labels.LabelsFile.drawn_not_whole`), reported in the
    design when the codes were drawn by account.
    """
    profile = rule_profile(auto)
    if labels is None or labels.empty or auto.empty:
        return Supervised(auto, {**describe(None, UNVALIDATED), **profile}, None)
    c = coded_units(auto, labels, labels_path)
    design, rows, units, coded, y = c.design, c.rows, c.units, c.coded, c.y
    if not coded.any():
        return Supervised(apply_labels(auto, design), {**describe(None, NO_MATCH), **profile}, None)
    sample_unit = c.sample_unit

    if c.model_reason() is None:
        x_all = row_features(
            auto, _texts_by_post(posts) if texts is None else texts, vader_of=vader_of
        )
        x_lab = x_all.iloc[rows[coded]]
        labelled = labelled_rows(auto, design)
        model, (full_pred, _), todo_pred = _predicted(
            x_lab, y, x_all[~labelled], seed, model_dir, c.layout(), prefetched
        )
        cross, how = _model_cross(c, x_lab, full_pred, model, seed, model_dir)
        rules = rule_codes(auto["stance"]) if (~labelled).any() else None
        table = apply_predictions(auto, labelled, *todo_pred)
        pred = table["stance"].astype(object).to_numpy()[rows].copy()
        # A coded unit enters the first term of the correction with its cross-fitted decision,
        # as METHODS.md defines it: the final model saw its code (its in-sample decision mostly
        # repeats the code), so that decision would correct the coded units a second time.
        pred[coded] = cross
        info = describe(model)
    else:
        table, rules = auto, None
        pred = auto["stance"].astype(object).to_numpy()[rows].copy()
        cross, how = pred[coded], RULES_CROSS
        info = describe(None, c.model_reason())
    info = {**info, **profile, "validated": bool(c.estimate.any())}
    table = apply_labels(table, design)
    final = table["stance"].astype(object).to_numpy()[rows]
    validation, w_coded = measured_error(
        c, cross, how, len(units), seed=seed, model_dir=model_dir, info=info,
        drawn_not_whole=drawn_not_whole,
    )  # fmt: skip
    weight = np.zeros(len(units))
    weight[coded] = w_coded
    cross_all = np.full(len(units), None, dtype=object)
    cross_all[coded] = cross
    label_all = np.full(len(units), None, dtype=object)
    label_all[coded] = y
    frame = pd.DataFrame(
        {
            "side": units["target_side"].astype(object).to_numpy(),
            "window": units["window"].astype(object).to_numpy(),
            "account": units["source"].astype(object).to_numpy(),
            "pred": pred,
            "final": final,
            "label": label_all,
            "cross": np.where(coded, cross_all, pred),
            "weight": weight,
            "by_account": coded & (sample_unit == SAMPLE_BY_ACCOUNT) & (weight > 0),
            **sheet_columns(c),
        }
    )
    if windows is None:
        validation["shares_status"] = "no windows given (--crisis or --study): no shares"
    elif correct:
        validation = correct_validation(validation, frame, n_boot, seed, confidence)
    return Supervised(table, info, validation, frame, rules)


def rule_codes(stance: pd.Series) -> np.ndarray:
    """Return each row's stance as its position in STANCE_ORDER (int8; -1 for another value):
    the rules' decisions kept compactly (a byte a row) beside the model's.

    Examples
    --------
    >>> rule_codes(pd.Series(["critical", "neutral", "supportive", None])).tolist()
    [1, 2, 0, -1]
    """
    st = stance.astype(object).to_numpy()
    out = np.full(len(st), -1, dtype=np.int8)
    for i, s in enumerate(STANCE_ORDER):
        out[st == s] = i
    return out


#: How the error is measured without a model: the rules' decisions against the codes.
RULES_CROSS = "the rules against the hand codes (no model trained, nothing to cross-fit)"


def _model_cross(
    c: CodedUnits,
    x_lab: pd.DataFrame,
    full_pred: np.ndarray,
    model: StanceModel | ModelInfo,
    seed: int,
    model_dir: str | Path | None,
) -> tuple[np.ndarray, str]:
    """Return the cross-fitted decision on each coded unit (the model's own where a fold keeps
    none) and how it was cross-fitted (:func:`_cross_fitted`)."""
    groups = cv_groups(
        c.units["source"].astype(str).to_numpy()[c.coded],
        (c.sample_unit[c.coded] == SAMPLE_BY_ACCOUNT) & c.estimate,
    )
    oof = _cross_fitted(x_lab, c.y, c.estimate, model, seed, model_dir, groups)
    how = (
        f"{CV_FOLDS}-fold stratified cross-validation of the model (seed {seed}; each fold "
        "keeps the regularisation the model chose on all the codes: not nested)"
    )
    if groups is not None:
        how += ", an account drawn for coding never split between training and test"
    return np.where(pd.isna(oof), full_pred, oof), how


def measured_error(
    c: CodedUnits,
    cross: np.ndarray,
    how: str,
    n_units: int,
    *,
    seed: int,
    model_dir: str | Path | None,
    info: dict[str, Any],
    drawn_not_whole: int = 0,
) -> tuple[dict[str, Any], np.ndarray]:
    """Return the validation of the decisions against the codes (cross-validated error overall
    and per window, the design; no shares yet: :func:`correct_validation`) and the weight of
    each coded unit (Horvitz-Thompson; 0 for active codes).

    ``cross``: the cross-fitted decision on each coded unit; ``how``: how it was made;
    ``n_units``: the (post, side) units of the whole study (a simple random sample's weights
    are n / N); ``info``: how stance was decided (:attr:`Supervised.model`).
    """
    coded, y, estimate, prob, sample_unit = c.coded, c.y, c.estimate, c.prob, c.sample_unit
    weight = np.zeros(len(y))
    weight[estimate] = design_weights(prob[coded][estimate], n_units)
    cv = None
    if estimate.any():  # (sklearn.metrics' figures, kept beside the model: :func:`kept_figures`)
        cv = kept_figures(
            model_dir, "cross_validated", error_figures, y[estimate], cross[estimate],
            weight[estimate],
        )  # fmt: skip
    by_window: dict[str, Any] = {}
    win = c.units["window"].astype(object).to_numpy()[coded]
    for w in ("baseline", "crisis", "after"):
        m = estimate & (win == w)
        if m.sum() >= MIN_WINDOW_CODES:
            figures = kept_figures(
                model_dir, f"cross_validated_{w}", error_figures, y[m], cross[m], weight[m]
            )
            by_window[w] = {"codes": int(m.sum()), **figures}
        else:
            by_window[w] = {
                "status": "not measured",
                "reason": f"{int(m.sum())} codes in the {w} window (fewer than {MIN_WINDOW_CODES})",
            }
    validation = {
        "labels": int(coded.sum()),
        "cross_validated": cv,
        "shares": [],
        "net_support": [],
        "changes": [],
        "cross_validated_by_window": by_window,
        "design": {
            "codes": int(coded.sum()),
            "estimation_codes": int(estimate.sum()),
            "active_codes": int((~estimate).sum()),
            "units": int(n_units),
            "inclusion_probabilities": bool(np.isfinite(prob[coded]).any()),
            "sample_unit": _sample_unit(sample_unit[coded][estimate]),
            **_non_response(sample_unit[coded][estimate], drawn_not_whole),
            "weights": "Horvitz-Thompson 1/inclusion_probability (simple random sample where "
            "the labels give none)",
            **_sheets(c),
        },
        "cross_validation": how,
        "seed": seed,
        "model": info,
    }
    return validation, weight


#: Why the rules decide when the hand codes name no classified (post, side) unit.
NO_MATCH = "no hand code matches a classified interaction: stance figures are unvalidated"


@dataclass(frozen=True)
class CodedUnits:
    """The (post, side) units of a rules' stance table and their hand codes
    (:func:`coded_units`)."""

    design: pd.DataFrame  # the labels with their design columns (design_columns)
    rows: np.ndarray  # positions in the table of one row per (post, side) (unit_rows)
    units: pd.DataFrame  # those rows
    coded: np.ndarray  # which units carry a hand code
    y: np.ndarray  # the codes of the coded units, in table order
    prob: np.ndarray  # each unit's inclusion probability (NaN: none given)
    sample_unit: np.ndarray  # what each unit's code was drawn as (post, account, '')
    estimate: np.ndarray  # which codes estimate (not drawn as active-learning codes)
    sheets: tuple[Sheet, ...] = ()  # the coding sheets pooled (none: one sheet)

    @property
    def estimate_all(self) -> np.ndarray:
        """:attr:`estimate` over all units (False where not coded)."""
        out = np.zeros(len(self.coded), dtype=bool)
        out[self.coded] = self.estimate
        return out

    @property
    def sides(self) -> np.ndarray:
        """The target side of each coded unit."""
        return self.units["target_side"].astype(object).to_numpy()[self.coded]

    def model_reason(self) -> str | None:
        """Why no model is trained on these codes (None: enough codes of two or more classes)."""
        if len(self.y) >= MIN_LABELS and len(np.unique(self.y)) >= 2:
            return None
        return (
            f"only {len(self.y)} hand codes of {len(np.unique(self.y))} class(es) (a model "
            f"needs {MIN_LABELS} of two or more): the rules decide"
        )

    def layout(self) -> bool:
        """True when one shared model serves both sides (:func:`layout_for`)."""
        return layout_for(self.y, self.sides)


def coded_units(
    auto: pd.DataFrame, labels: pd.DataFrame, labels_path: str | Path | None = None
) -> CodedUnits:
    """Return the units of the rules' table ``auto`` and which of them the ``labels`` code.

    The units, codes and design of the coded ones are those of the rows of the coded posts
    alone: ``auto`` may hold every row (the pandas engine) or just those posts' rows (the Dask
    engine's driver); the coded units come out the same, in the same order.
    """
    design = design_columns(labels, labels_path)
    rows = unit_rows(auto)
    units = auto.iloc[rows]
    lab = _label_lookup(units, design)
    coded = lab.notna().to_numpy(dtype=bool)
    y = lab[coded].astype(str).to_numpy(dtype=object)
    prob, sample, sample_unit = _design_lookup(units, design)
    sheets = _sheet_lookup(units, design)
    if sheets:  # the pooled weight sum_k lam_k / pi_ik, as a "probability" 1 / weight
        pooled = _label_lookup(units, design.assign(stance=design[POOLED_WEIGHT].astype(str)))
        weight = pd.to_numeric(pooled.astype(object).replace("nan", np.nan), errors="coerce")
        prob = 1.0 / weight.to_numpy(dtype="float64")
    return CodedUnits(
        design, rows, units, coded, y, prob, sample_unit, sample[coded] != SAMPLE_ACTIVE, sheets
    )  # fmt: skip


@dataclass(frozen=True)
class StudyModel:
    """The study's stance model (:func:`study_model`): how stance is decided, and where the
    fitted model is kept."""

    model: StanceModel | None  # None: the rules decide
    path: Path | None  # its skops file (with a model folder)
    info: dict[str, Any]  # Supervised.model without the rules' profile
    coded: CodedUnits | None = None  # the codes it was trained on (or the rules measured by)
    x_lab: pd.DataFrame | None = None  # the features of the coded units (with a model)


def study_model(
    auto: pd.DataFrame,
    texts: pd.Series,
    labels: pd.DataFrame,
    *,
    labels_path: str | Path | None = None,
    seed: int = 42,
    model_dir: str | Path | None = None,
    vader_of: pd.Series | None = None,
) -> StudyModel:
    """Return the stance model :func:`supervise` trains on the same codes: the same features of
    the same coded rows, the same seed and layout, the same file in ``model_dir`` (loaded when
    it is there, else fitted and saved).

    ``auto``: the rules' stance table of (at least) every row of the hand-coded posts: the model
    depends on nothing else, so the Dask engine trains it on its driver from those rows alone
    and ships the file to its workers. ``texts``, ``vader_of``: as :func:`supervise` takes them.
    """
    c = coded_units(auto, labels, labels_path)
    if not c.coded.any():
        return StudyModel(None, None, describe(None, NO_MATCH))
    reason = c.model_reason()
    model = path = x_lab = None
    if reason is None:
        x_lab = row_features(auto.iloc[c.rows[c.coded]], texts, vader_of=vader_of)
        model = _fitted(x_lab, c.y, seed, model_dir, c.layout())
        path = _model_path(model_dir, x_lab, c.y, seed) if model_dir is not None else None
    info = {**describe(model, reason), "validated": bool(c.estimate.any())}
    return StudyModel(model, path, info, c, x_lab)


def study_validation(
    found: StudyModel,
    n_units: int,
    profile: dict[str, int],
    *,
    seed: int = 42,
    model_dir: str | Path | None = None,
    drawn_not_whole: int = 0,
) -> dict[str, Any] | None:
    """Return the validation :func:`supervise` makes of the same codes, before the shares are
    corrected (:func:`measured_error`: the cross-validated error overall and per window, the
    design), for a model from :func:`study_model`; None when no code matched a unit.

    ``n_units``: the (post, side) units of the whole study; ``profile``: :func:`rule_profile`
    of all its rows (both known once every row is classified).
    """
    c = found.coded
    if c is None or not c.coded.any():
        return None
    if found.model is not None:
        full_pred, _ = found.model.predict(found.x_lab)
        cross, how = _model_cross(c, found.x_lab, full_pred, found.model, seed, model_dir)
    else:
        cross, how = c.units["stance"].astype(object).to_numpy()[c.coded], RULES_CROSS
    info = {**found.info, **profile}
    validation, _ = measured_error(
        c, cross, how, n_units, seed=seed, model_dir=model_dir, info=info,
        drawn_not_whole=drawn_not_whole,
    )  # fmt: skip
    return validation


def correct_validation(
    validation: dict[str, Any],
    units: pd.DataFrame,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Return ``validation`` with its naive and error-corrected shares, net support and
    changes computed from ``units`` (:func:`netsupport.stance.validation.corrected_shares`)."""
    out = dict(validation)
    out.update(corrected_shares(units, n_boot=n_boot, seed=seed, confidence=confidence))
    out.update({"bootstrap": int(n_boot), "confidence": float(confidence), "seed": int(seed)})
    return out


def rule_profile(auto: pd.DataFrame) -> dict[str, int]:
    """Return how many (post, side) units the rules decided by VADER alone, and how many carry
    no text of their own (no-text, or a repost), for the report's warnings."""
    rows = unit_rows(auto)
    codes, rules = pd.factorize(
        auto["rule"].astype(object).to_numpy()[rows], sort=False, use_na_sentinel=False
    )
    fam = np.array([str(r).split(":", 1)[0] for r in rules], dtype=object)[codes]
    return {
        "units": len(rows),
        "vader_units": int((fam == "vader").sum()),
        "no_text_units": int(np.isin(fam, ["no-text", "repost"]).sum()),
    }


class ModelPrefetch:
    """Loads the stance model saved in a model folder before its key is known (the key needs
    the rules' decisions): called in a thread while the VADER workers score, it takes the load
    off the step's path. :func:`supervise` uses the model only when its file is the one the key
    names, and loads or fits as before otherwise."""

    def __init__(self, model_dir: str | Path):
        self.model_dir = Path(model_dir)
        self.loaded: tuple[Path, StanceModel | None] | None = None

    def __call__(self) -> None:
        import_model_libraries()
        found = sorted(self.model_dir.glob("stance-model-*.skops"))
        if len(found) == 1:  # (a new model replaces the old one: there is at most one)
            self.loaded = (found[0], load_model(found[0]))

    def predictions_kept(self) -> bool:
        """Return True when the folder keeps the predictions of the model file in it: then a
        rerun on the same rows reads them back (:func:`_predicted`), and needs neither the
        model nor its libraries (no prefetch)."""
        found = sorted(self.model_dir.glob("stance-model-*.skops"))
        return len(found) == 1 and predictions_model_sha(self.model_dir) == file_sha256(found[0])

    def load(self, path: Path) -> StanceModel | None:
        """Return :func:`load_model` ``(path)``, loaded already when it is the prefetched file."""
        if self.loaded is not None and self.loaded[0] == path:
            return self.loaded[1]
        return load_model(path)


def _predicted(
    x_lab: pd.DataFrame,
    y: np.ndarray,
    x_todo: pd.DataFrame,
    seed: int,
    model_dir: str | Path | None,
    shared: bool,
    prefetched: ModelPrefetch | None = None,
) -> tuple[StanceModel | ModelInfo, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return (the model, or its kept info; its (stance, probability) for the coded rows
    ``x_lab``; the same for the rows it decides, ``x_todo``).

    The model is the one for these codes (:func:`_fitted`). With ``model_dir``, its
    predictions of the distinct rows of both are kept there beside it
    (:mod:`netsupport.stance.predictions`) and read back while the model file and the rows
    are the same: then no model is loaded (nor scikit-learn and skops imported).
    """
    both = pd.concat([x_lab[FEATURE_COLUMNS], x_todo[FEATURE_COLUMNS]], ignore_index=True)
    codes, first = distinct_rows(both, FEATURE_COLUMNS)
    distinct = both.iloc[first]
    model: StanceModel | ModelInfo
    if model_dir is None:
        model = fit_stance_model(x_lab, y, seed=seed, shared=shared)
        d_stance, d_prob = model.predict_distinct(distinct)
    else:
        path = _model_path(model_dir, x_lab, y, seed)
        got = None
        if path.is_file():
            key = predictions_key(file_sha256(path), distinct, MODEL_VERSION)
            got = read_predictions(model_dir, key)
        if got is not None:
            model, d_stance, d_prob = got.info, got.stance, got.prob
        else:
            model = _fitted(x_lab, y, seed, model_dir, shared, prefetched)
            d_stance, d_prob = model.predict_distinct(distinct)
            sha = file_sha256(path)
            write_predictions(
                model_dir,
                predictions_key(sha, distinct, MODEL_VERSION),
                sha,
                Predictions(d_stance, d_prob, ModelInfo.of(model)),
            )
    stance, prob = d_stance[codes], d_prob[codes]
    n = len(x_lab)
    return model, (stance[:n], prob[:n]), (stance[n:], prob[n:])


def _model_path(model_dir: str | Path, x: pd.DataFrame, y: np.ndarray, seed: int) -> Path:
    """Return the file of the model for these codes and features (:func:`model_key`)."""
    return Path(model_dir) / f"stance-model-{model_key(x, y, seed)[:24]}.skops"


def _fitted(
    x: pd.DataFrame,
    y: np.ndarray,
    seed: int,
    model_dir: str | Path | None,
    shared: bool,
    prefetched: ModelPrefetch | None = None,
) -> StanceModel:
    """Return the model for these codes: loaded from ``model_dir`` when its key matches."""
    if model_dir is None:
        return fit_stance_model(x, y, seed=seed, shared=shared)
    path = _model_path(model_dir, x, y, seed)
    model = load_model(path) if prefetched is None else prefetched.load(path)
    if model is None:
        model = fit_stance_model(x, y, seed=seed, shared=shared)
        for old in Path(model_dir).glob("stance-model-*.skops"):
            old.unlink()
        save_model(model, path)
    return model


def _cross_fitted(
    x: pd.DataFrame,
    y: np.ndarray,
    estimate: np.ndarray,
    model: StanceModel | ModelInfo,
    seed: int,
    model_dir: str | Path | None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Return :func:`cross_validate`'s predictions, kept in ``model_dir`` beside the model.

    Like the model, they are computed again only when what they depend on changes: the coded
    rows in their order (the folds follow it), the codes, which codes estimate, the model's
    layout and regularisation, the seed and the code (:func:`cv_key`).
    """
    if model_dir is None:
        return cross_validate(
            x, y, estimate=estimate, layout_shared=model.shared, seed=seed, c=model.c, groups=groups
        )
    key = cv_key(x, y, estimate, model, seed, groups)
    path = Path(model_dir) / f"stance-cv-{key[:24]}.json"
    try:
        got = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(got, list) and len(got) == len(y):
            return np.array(got, dtype=object)
    except (OSError, ValueError):
        pass  # none yet, or a damaged file: compute again
    out = cross_validate(
        x, y, estimate=estimate, layout_shared=model.shared, seed=seed, c=model.c, groups=groups
    )
    for old in Path(model_dir).glob("stance-cv-*.json"):
        old.unlink()
    atomic_write_bytes(path, json.dumps([None if v is None else str(v) for v in out]).encode())
    return out


def cv_key(
    x: pd.DataFrame,
    y: np.ndarray,
    estimate: np.ndarray,
    model: StanceModel | ModelInfo,
    seed: int,
    groups: np.ndarray | None = None,
) -> str:
    """Return the sha256 of everything :func:`cross_validate`'s predictions depend on."""
    h = hashlib.sha256()
    if groups is not None:  # (the folds follow them; a design by post hashes as before)
        h.update(("groups\x1f" + "\x1f".join(map(str, groups)) + "\x1e").encode("utf-8"))
    head = {
        "version": MODEL_VERSION,
        "sklearn": library_version("scikit-learn"),
        "seed": seed,
        "folds": CV_FOLDS,
        "shared": model.shared,
        "c": model.c,
    }
    h.update(json.dumps(head, sort_keys=True).encode() + b"\n")
    frame = x[FEATURE_COLUMNS].astype(str).to_numpy(dtype=object).tolist()
    for row, code, est in zip(frame, y, estimate, strict=True):
        h.update(("\x1f".join([*row, str(code), "e" if est else "a"]) + "\x1e").encode("utf-8"))
    return h.hexdigest()


def validation_json(validation: dict[str, Any]) -> dict[str, Any]:
    """Return the ``<stem>.validation.json`` document: ``labels``, ``cross_validated`` (accuracy,
    macro_f1, kappa, per_class, confusion) and ``shares``."""
    cv = validation.get("cross_validated")
    keys = ("accuracy", "macro_f1", "kappa", "per_class", "confusion")
    return {
        "labels": validation["labels"],
        "cross_validated": {k: cv[k] for k in keys} if cv else None,
        "shares": validation["shares"],
    }
