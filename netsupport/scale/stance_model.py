"""Stance on the Dask engine: the rules' classifier each worker keeps, and the study's stance model.

On the workers (pass 1, :mod:`netsupport.scale.aggregate`): each worker process keeps one rules
classifier, which scores a distinct text once however many of its partitions hold it
(:func:`_memo_classifier`), and loads the study's stance model from its skops file once
(:func:`_stance_model`); a partition's rows are then decided as
:func:`netsupport.stance.supervised.supervise` decides them (:func:`_rules_table`,
:func:`_decided`: the model's decision, :func:`netsupport.stance.model.apply_model` on
:func:`netsupport.stance.model.row_features`, then the hand codes).

On the driver (between the scan and pass 1, :mod:`netsupport.scale.driver`): the hand-coded
posts' rows, which the scan collected, are classified and the study's stance model is trained on
them (:func:`_coded_rules`, with :func:`netsupport.stance.supervised.study_model` as the pandas
engine trains it); then the classifier's agreement with the codes (:func:`_agreement`) and the
decisions' cross-validated error (:func:`_validation`,
:func:`netsupport.stance.supervised.study_validation`). The shares are not corrected for that
error here (:data:`DASK_SHARES`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import NetsupportError
from ..schema import SCHEMAS, InteractionCol, Table
from .frames import _by_seq, _sort_stance
from .plan import _POST_COLUMNS

if TYPE_CHECKING:
    from .aggregate import _Ctx

_CLASSIFIERS: dict[tuple, Any] = {}

#: Distinct texts whose scores a worker keeps between its partitions (past it, it forgets all but
#: the texts of the partition at hand).
SCORE_MEMO_TEXTS = 200_000


def _memo_classifier(*args: Any, **kwargs: Any) -> Any:
    """A :class:`netsupport.stance.Classifier` that keeps the scores of the texts it scored, so
    a worker scores a text once however many of its partitions hold it (a text's scores depend
    on the text and the classifier alone: the same rows as scoring it again)."""
    from ..stance import Classifier

    class MemoClassifier(Classifier):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            self.memo: dict[str, tuple] = {}
            self.columns: list[str] | None = None
            self.vader = False  # whether the memo's rows carry VADER's compound (the model's)

        def score_texts(self, texts: Sequence[str], workers: int | None = None, **kw: Any) -> Any:
            if kw.get("keep_dir") is not None or kw.get("meanwhile"):
                return super().score_texts(texts, workers, **kw)
            vader = bool(kw.get("vader"))
            if vader != self.vader:  # (rows of the other kind: forgotten)
                self.memo, self.columns, self.vader = {}, None, vader
            texts = list(texts)
            distinct = list(dict.fromkeys(texts))
            missing = [t for t in distinct if t not in self.memo]
            if self.columns is None or missing:
                scored = super().score_texts(missing, workers=1, vader=vader)
                self.columns = list(scored.columns)
                if len(self.memo) + len(missing) > SCORE_MEMO_TEXTS:  # keep this call's only
                    self.memo = {t: self.memo[t] for t in distinct if t in self.memo}
                self.memo.update(
                    zip(missing, scored.itertuples(index=False, name=None), strict=True)
                )
            return self._scored_frame([self.memo[t] for t in texts], self.columns, vader)

    return MemoClassifier(*args, **kwargs)


def _classifier(ctx: _Ctx) -> Any:
    from ..stance import load_lexicon

    p = ctx.stance
    key = (
        ctx.focal,
        ctx.institution,
        str(p.lexicon),
        p.positive_threshold,
        p.negative_threshold,
        p.likes_count,
        ctx.handles,
    )
    clf = _CLASSIFIERS.get(key)
    if clf is None:
        clf = _CLASSIFIERS[key] = _memo_classifier(
            ctx.focal,
            ctx.institution,
            load_lexicon(p.lexicon),
            p.positive_threshold,
            p.negative_threshold,
            likes_count=p.likes_count,
            handles=dict(ctx.handles),
        )
    return clf


_MODELS: dict[str, Any] = {}


def _stance_model(path: str | None) -> Any:
    """The study's stance model (:class:`netsupport.stance.model.StanceModel`) from its skops
    file, loaded once per worker process and kept for its partitions; None without one."""
    if path is None:
        return None
    model = _MODELS.get(path)
    if model is None:
        from ..stance.model import load_model

        model = load_model(path)
        if model is None:
            raise NetsupportError(
                f"{path}: the study's stance model cannot be read here (the workers of a "
                "cluster must see the run's folder: a shared file system)"
            )
        _MODELS.clear()  # (one study's model at a time)
        _MODELS[path] = model
    return model


def _rules_table(
    sint: pd.DataFrame, posts: pd.DataFrame, ctx: _Ctx, features: bool
) -> tuple[pd.DataFrame, pd.Series | None, pd.Series | None]:
    """The rules' stance table of the study's interactions ``sint``
    (:meth:`netsupport.stance.Classifier.classify`, the worker's classifier); with
    ``features``, also the texts by post id and VADER's compound of each text, for the stance
    model's features (scored with the texts, as the pandas engine does); else None, None."""
    from ..stance.rules import _texts_by_post

    clf = _classifier(ctx)
    if not features:
        return clf.classify(sint, posts, ctx.windows, workers=1), None, None
    aimed = sint[clf.targeted(sint)]
    texts = _texts_by_post(posts, aimed[InteractionCol.POST_ID])
    auto = clf.classify(sint, posts, ctx.windows, workers=1, texts=texts, vader=True)
    return auto, texts, clf.text_vader


def _decided(
    auto: pd.DataFrame, texts: pd.Series | None, vader_of: pd.Series | None, ctx: _Ctx
) -> pd.DataFrame:
    """The study's stance table from the rules' ``auto``: the study's stance model decides every
    row no hand code decides (rule ``model``, its probability as ``score``), then the hand codes
    decide theirs: what :func:`netsupport.stance.supervised.supervise` makes of the same rows,
    with the same functions."""
    from ..stance import apply_labels
    from ..stance.model import apply_model, labelled_rows, row_features

    labels = ctx.labels if ctx.labels is not None and not ctx.labels.empty else None
    model = _stance_model(ctx.model_path)
    if model is not None and len(auto):
        labelled = labelled_rows(auto, labels) if labels is not None else np.zeros(len(auto), bool)
        features = row_features(auto, texts, vader_of=vader_of)
        auto = apply_model(auto, features, model, labelled, parallel=False)
    return apply_labels(auto, labels)


def _coded_rules(
    scan: Mapping[str, Any],
    ctx: _Ctx,
    study: Any,
    model_dir: str | os.PathLike[str],
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, Any]:
    """The rules' stance table of the hand-coded posts' rows (collected by the scan) and the
    study's stance model trained on them here, on the driver, as the pandas engine trains it
    (:func:`netsupport.stance.supervised.study_model`: the same features, codes and seed, the
    same file in ``model_dir``)."""
    from ..stance import object_strings, stance_interactions
    from ..stance.supervised import study_model

    posts = _by_seq(scan["coded_posts"], Table.POSTS, _POST_COLUMNS)
    all_inter = list(SCHEMAS[Table.INTERACTIONS].names)
    inter = _by_seq(scan["coded_inter"], Table.INTERACTIONS, all_inter)
    tables = object_strings({Table.POSTS.value: posts, Table.INTERACTIONS.value: inter})
    sint = stance_interactions(tables, ctx.spec, derive=ctx.derive, dedup=ctx.dedup)
    auto, texts, vader_of = _rules_table(sint, tables[Table.POSTS.value], ctx, features=True)
    found = study_model(
        auto,
        texts,
        ctx.labels,
        labels_path=ctx.labels_file.path,
        seed=_seed(study),
        model_dir=model_dir,
        vader_of=vader_of,
    )
    return auto, found


def _seed(study: Any) -> int:
    return int(getattr(getattr(study, "support", None), "seed", 42))


def _validation(
    found: Any, profile: dict[str, int], study: Any, ctx: _Ctx, model_dir: str | os.PathLike[str]
) -> dict[str, Any] | None:
    """The validation of the stance decisions against the hand codes, as the pandas engine
    measures it (:func:`netsupport.stance.supervised.study_validation`), saying that the shares
    are not corrected here (:data:`DASK_SHARES`)."""
    from ..stance.supervised import study_validation

    validation = study_validation(
        found,
        int(profile.get("units", 0)),
        profile,
        seed=_seed(study),
        model_dir=model_dir,
        drawn_not_whole=ctx.labels_file.drawn_not_whole,
    )
    if validation is not None:
        validation["shares_status"] = DASK_SHARES
    return validation


def _agreement(label_rows: pd.DataFrame, labels_file: Any) -> dict[str, Any]:
    """The classifier's agreement with the hand labels, as :func:`stance_table` measures it
    (``label_rows``: the rules' rows of every labelled post, :func:`_coded_rules`)."""
    from ..stance import RULE_LABEL, agreement, apply_labels, match_labels

    if labels_file is None:
        return {"status": "not measured", "reason": "no labels CSV in the study"}
    labels = labels_file.labels
    units = _sort_stance(label_rows).drop_duplicates(["post_id", "target_side"])
    matched = match_labels(labels, units, labels_file.path)
    lab = apply_labels(units, labels)
    have = (lab["rule"] == RULE_LABEL).to_numpy(dtype=bool) if len(lab) else np.zeros(0, bool)
    out = agreement(units["stance"][have].tolist(), lab["stance"][have].tolist())
    out["labels_matched"] = matched
    if labels_file.coders is not None:
        out["coders"] = labels_file.coders
    return out


#: What the Dask engine's ``stance_validation`` says of the shares it leaves uncorrected.
DASK_SHARES = (
    "the Dask engine measures the stance decisions' error but does not correct the shares for "
    "it (that needs every post's decision in one place): run with the pandas engine for the "
    "error-corrected shares and net support"
)
