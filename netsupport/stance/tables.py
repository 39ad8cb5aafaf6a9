"""Study-level stance: the audit table of every interaction towards the focal and institution."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import NetsupportError
from ..schema import (
    InteractionCol,
    PostCol,
    Table,
)
from ..studyfile import StanceParams
from ..windows import Windows
from .labels import (
    SAMPLE_BY_ACCOUNT,
    SAMPLE_BY_POST,
    _check_sample,
    _label_lookup,
    agreement,
    cluster_keys,
    coding_sheet,
    match_labels,
    read_labels,
)
from .predictions import kept_figures
from .rules import _SIDES, STANCE_ORDER, Classifier, _texts_by_post, load_lexicon

# ---- study-level entry points --------------------------------------------------------------------


@dataclass(frozen=True)
class StanceSpec:
    """What stance classification needs from a study (a Study works wherever a spec does).

    ``windows`` may be None (no crisis given): the ``window`` column is then empty.
    """

    focal: tuple[str, ...]
    institution: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    windows: Windows | None = None
    params: StanceParams = field(default_factory=StanceParams)

    @classmethod
    def of(cls, study: Any) -> StanceSpec:
        """Return the spec of a :class:`~netsupport.studyfile.Study` (or the spec itself)."""
        if isinstance(study, StanceSpec):
            return study
        return cls(
            tuple(study.focal),
            tuple(study.institution),
            tuple(study.markers),
            study.windows,
            study.stance,
        )


@dataclass(frozen=True)
class StanceResult:
    """The stance audit table and the classifier's agreement with hand labels."""

    table: pd.DataFrame
    agreement: dict[str, Any]
    lexicon: dict[str, Any]
    interactions: pd.DataFrame | None = None  # the interactions classified (markers included)
    model: dict[str, Any] | None = None  # how stance was decided (model or rules; stance.model)
    validation: dict[str, Any] | None = None  # cross-validated error, corrected shares
    validation_units: pd.DataFrame | None = None  # units the corrected shares come from
    #: the rules' own stance code of every row of ``table`` when a model decided some rows
    #: (:attr:`netsupport.stance.supervised.Supervised.rules`), else None
    rules: np.ndarray | None = None


def object_strings(
    tables: Mapping[str, pd.DataFrame | None], keep: Mapping[str, Sequence[str]] | None = None
) -> dict[str, pd.DataFrame]:
    """Return the tables with string columns as object dtype (None-safe, numpy-fast).

    pandas 3 reads strings as Arrow-backed ``str``; the metrics select, compare and ``isin`` on
    million-row string columns many times, which is much faster on object arrays. Converting once
    at the entry points costs a fraction of a second per million rows. ``keep``: columns of a
    table left as they are (``{"posts": ["text"]}``).
    """
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        if df is None:
            continue
        kept = (keep or {}).get(name, ())
        cols = [
            c
            for c in df.columns
            if (isinstance(df[c].dtype, pd.StringDtype) or str(df[c].dtype) == "str")
            and c not in kept
        ]
        if cols:
            df = df.copy(deep=False)
            for c in cols:
                df[c] = df[c].astype(object).where(df[c].notna(), None)
        out[name] = df
    return out


#: The post columns the steps read (the others, e.g. source_file and lang, stay on disk).
POST_COLUMNS = [
    PostCol.PLATFORM,  # (the report's counts per platform; one shared string per row)
    PostCol.POST_ID,
    PostCol.AUTHOR,
    PostCol.CREATED_AT,
    PostCol.TEXT,
    PostCol.KIND,
    PostCol.TARGET_POST_ID,
    PostCol.TARGET_AUTHOR,
    PostCol.MENTIONS,
    PostCol.HASHTAGS,
]


def read_tables(
    store_dir: str | Path, arrow: dict[str, pa.Table] | None = None
) -> dict[str, pd.DataFrame]:
    """Return the posts, interactions, follows and accounts tables of a store, as the steps
    read them: posts with :data:`POST_COLUMNS` only, strings as object columns whose repeated
    values share one Python object, post texts as Arrow-backed strings.

    ``arrow``: a dict that receives the interactions as Arrow, as read (``{"interactions":
    table}``), for :func:`interactions_arrow` (the Arrow file of a run's child processes is then
    made from them, not converted back from the Python strings).

    Raises
    ------
    NetsupportError
        When there is no store at ``store_dir``.
    """
    from ..engine import release_arrow_memory
    from ..store import Store

    store = Store(store_dir)
    if not store.exists():
        raise NetsupportError(f"{store_dir}: no store here; import data first (netsupport import)")
    tables = {}
    for t in (Table.POSTS, Table.INTERACTIONS, Table.FOLLOWS, Table.ACCOUNTS):
        table = store.read_arrow(t, POST_COLUMNS if t is Table.POSTS else None)
        tables[t.value] = _object_frame(table)
        if arrow is not None and t is Table.INTERACTIONS:
            arrow[t.value] = table
        del table
    release_arrow_memory()  # (the Parquet buffers read)
    return tables


def _object_frame(table: pa.Table) -> pd.DataFrame:
    """Return an Arrow table as pandas with strings as object columns (None for missing), as
    :func:`netsupport.stance.object_strings` gives them, repeated strings sharing one object
    (handles, kinds, hashtags: a third of the memory of one object per cell)."""
    from ..store import to_pandas

    names = table.column_names
    strings = [n for n in names if pa.types.is_string(table.column(n).type) and n != PostCol.TEXT]
    # the object columns are written straight into the frame's one object block (rows of a 2-D
    # array, as pandas would stack them), not made as arrays that pandas copies twice more
    block = np.empty((len(strings), table.num_rows), dtype=object)
    for row, name in zip(block, strings, strict=True):
        col = table.column(name)
        probe = col.slice(0, 10_000)
        if len(pc.unique(probe)) > len(probe) // 2:  # mostly distinct (ids, texts): one each
            row[:] = col.to_numpy(zero_copy_only=False)
        else:
            enc = pc.dictionary_encode(col).combine_chunks()
            uniques = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
            np.take(uniques, enc.indices.fill_null(len(uniques) - 1).to_numpy(), out=row)
    out = pd.DataFrame(block.T, columns=strings, dtype=object, copy=False)
    for at, name in enumerate(names):
        if name not in out.columns:
            # texts stay Arrow strings (half the memory): only the stance step reads them all,
            # and it converts what it needs
            out.insert(at, name, to_pandas(pa.table({name: table.column(name)}))[name])
    return out


def stance_interactions(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    *,
    derive: bool | None = None,
    dedup: bool | None = None,
) -> pd.DataFrame:
    """Return the interactions a study classifies: stored edges plus the study's marker edges.

    If the store holds no interactions but has posts, the edges are derived from the posts.
    When marker edges are added, rows repeating a (post_id, source, target, kind) are dropped
    (the first is kept).

    ``derive`` and ``dedup`` override those two decisions, which are otherwise taken from
    ``tables`` alone: a caller handling one partition of a larger store passes the decisions
    taken for the whole store (:mod:`netsupport.scale`).
    """
    return study_interactions(tables, study, derive=derive, dedup=dedup)[0]


@dataclass(frozen=True)
class StudyRows:
    """Where the rows of :func:`study_interactions`' frame come from: the stored interactions
    (``stored`` rows, in the store's order; 0 when they are derived from the posts), then the
    ``markers`` edges; ``positions`` are the rows kept of the two in turn (increasing), None
    when every row is kept."""

    stored: int
    markers: pd.DataFrame | None
    positions: np.ndarray | None


def study_interactions(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    *,
    derive: bool | None = None,
    dedup: bool | None = None,
) -> tuple[pd.DataFrame, StudyRows | None]:
    """Return :func:`stance_interactions` and where its rows come from (None when they are
    not rows of the stored interactions and marker edges: derived from the posts)."""
    from ..interactions import interactions_from_posts, marker_interactions
    from ..schema import empty_frame

    spec = StanceSpec.of(study)
    posts = tables.get(Table.POSTS)
    inter = tables.get(Table.INTERACTIONS)
    if derive is None:
        derive = inter is None or inter.empty
    derived = False
    if derive and posts is not None and not posts.empty:
        inter = interactions_from_posts(posts)
        derived = True
    frames = [inter] if inter is not None and not inter.empty else []
    markers = None
    if posts is not None and not posts.empty and spec.markers and spec.focal:
        cand = _marker_candidates(posts, spec.markers)
        markers = marker_interactions(posts[cand], spec.markers, spec.focal)
        if not markers.empty:
            frames.append(markers)
        else:
            markers = None
    stored = len(inter) if frames and frames[0] is inter else 0
    if not frames:
        return empty_frame(Table.INTERACTIONS), None
    if dedup is None:
        dedup = len(frames) > 1
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    positions = None
    if dedup:
        key = [  # (the target before the source: a post's rows differ by target, and are told
            # apart sooner; the order does not change which rows repeat)
            InteractionCol.POST_ID,
            InteractionCol.TARGET,
            InteractionCol.SOURCE,
            InteractionCol.KIND,
        ]
        out = out.reset_index(drop=True)  # (positions in the index)
        kept = _drop_repeated_rows(out, key)
        if len(kept) < len(out):
            positions = kept.index.to_numpy(dtype=np.int64)
        out = kept
    rows = None if derived else StudyRows(stored, markers, positions)
    return out.reset_index(drop=True), rows


def interactions_arrow(frame: pd.DataFrame, rows: StudyRows, stored: pa.Table) -> pa.Table | None:
    """Return :func:`study_interactions`' ``frame`` as Arrow, as ``pa.Table.from_pandas(frame,
    preserve_index=False)`` gives it (pandas' metadata aside), made from ``stored``, the
    interactions as :func:`read_tables` read them (``arrow``), and the few marker edges: the
    million Python strings of the frame are not converted back. None when the two do not
    match (other columns or types, another row count): the caller converts the frame.
    """
    if stored.num_rows != rows.stored or stored.column_names != list(frame.columns):
        return None
    fields = []
    for name in frame.columns:
        if frame[name].dtype == object:
            if stored.schema.field(name).type != pa.string():
                return None
            fields.append(pa.field(name, pa.string()))
        else:
            fields.append(
                pa.Schema.from_pandas(frame[[name]].iloc[:0], preserve_index=False).field(name)
            )
    schema = pa.schema(fields)
    try:
        parts = [stored.cast(schema)]
        if rows.markers is not None:
            parts.append(pa.Table.from_pandas(rows.markers, schema=schema, preserve_index=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if rows.positions is not None:  # (increasing: the stored rows kept, then the markers')
        at = np.searchsorted(rows.positions, rows.stored)
        parts = [
            parts[0].take(pa.array(rows.positions[:at])),
            *(p.take(pa.array(rows.positions[at:] - rows.stored)) for p in parts[1:]),
        ]
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if table.num_rows != len(frame) or any(
        # (pandas gives a column of no string the null type)
        frame[name].dtype == object and table.column(name).null_count == table.num_rows
        for name in frame.columns
    ):
        return None
    return table


def _drop_repeated_rows(df: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """Return ``df.drop_duplicates(key)``, comparing the whole key only where it may repeat.

    A row whose first key column (the post id) has a value of its own repeats no row; the
    others are narrowed one key column at a time, in the order given, on integer codes of that
    column among them alone. pandas factorises every key column of every row, four object
    columns of 10^6 rows here, for ~0.7 CPU s; after the post ids (~0.12 s) the 10^6 case has
    a quarter of the rows left, after their targets 5% (a marker edge beside a mention or quote
    of the same post; rows without a post id), and none after the sources.
    """
    rows = np.flatnonzero(df[key[0]].duplicated(keep=False).to_numpy(dtype=bool))
    group = np.zeros(len(rows), dtype=np.int64)  # equal key so far: equal group
    for col in key:
        if not len(rows):
            return df
        codes = pd.factorize(df[col].to_numpy(dtype=object)[rows])[0]  # (missing: -1, equal)
        group = pd.factorize(group * (int(codes.max()) + 2) + (codes + 1))[0].astype(np.int64)
        again = pd.Series(group).duplicated(keep=False).to_numpy(dtype=bool)
        rows, group = rows[again], group[again]
    if not len(rows):
        return df
    keep = np.ones(len(df), dtype=bool)
    keep[rows[pd.Series(group).duplicated(keep="first").to_numpy(dtype=bool)]] = False
    return df[keep]


def _marker_candidates(posts: pd.DataFrame, markers: Sequence[str]) -> np.ndarray:
    """Return posts that may carry a marker (a cheap substring test; matching is done later)."""
    marks = [m.strip().lower() for m in markers if m and m.strip()]
    hit = np.zeros(len(posts), dtype=bool)
    tags = [m[1:] for m in marks if m.startswith("#")]
    phrases = [m for m in marks if not m.startswith("#")]
    if tags:
        col = posts[PostCol.HASHTAGS].fillna("").astype(str)
        for tag in tags:
            hit |= col.str.contains(tag, regex=False).to_numpy(dtype=bool)
    if phrases:
        low = posts[PostCol.TEXT].fillna("").astype(str).str.lower()
        for phrase in phrases:
            hit |= low.str.contains(phrase, regex=False).to_numpy(dtype=bool)
    return hit


def stance_table(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    workers: int | None = None,
    *,
    model_dir: str | Path | None = None,
    correct: bool = True,
    interactions: pd.DataFrame | None = None,
) -> StanceResult:
    """Classify every interaction of a study towards the focal account and the institution.

    Applies the study's lexicon and thresholds, then its hand labels: they measure the rules'
    agreement (before the override), train the study's stance model when there are enough of
    them (:mod:`netsupport.stance.model`; it decides every interaction not hand-coded), and
    validate the result (:mod:`netsupport.stance.validation`). Hand-coded posts keep their code.

    Parameters
    ----------
    tables : mapping
        ``{"posts": ..., "interactions": ...}`` canonical DataFrames (as read from a store).
    study : Study or StanceSpec
        Gives focal, institution, windows, markers and the [stance] parameters (a Study's
        [support] seed, bootstrap and confidence also serve the validation).
    workers : int, optional
        Processes for scoring distinct texts (default: all cores, when there are many).
    model_dir : path, optional
        Where the fitted model is kept (skops) and reused while codes and texts are unchanged.
    correct : bool
        Compute the error-corrected shares now (False: the support measures compute them from
        ``validation_units`` with the study's bootstrap parameters).
    interactions : DataFrame, optional
        :func:`stance_interactions` of ``tables`` and ``study`` when the caller has them already
        (a run computes them for its communities step first): not computed again.
    """
    from ..engine import release_arrow_memory
    from ..io.platforms import bluesky_handles
    from .model import import_model_libraries
    from .supervised import ModelPrefetch, supervise

    spec = StanceSpec.of(study)
    params = spec.params
    # the posts' texts stay as given (Arrow strings from read_tables): only those of the posts
    # aimed at a side are looked up, as objects (_texts_by_post), not a million of them
    tables = object_strings(tables, keep={Table.POSTS: [PostCol.TEXT]})
    clf = Classifier(
        spec.focal,
        spec.institution,
        load_lexicon(params.lexicon),
        params.positive_threshold,
        params.negative_threshold,
        likes_count=params.likes_count,
        handles=bluesky_handles(tables.get(Table.ACCOUNTS), spec.focal + spec.institution),
    )
    posts = tables.get(Table.POSTS)
    posts = posts if posts is not None else pd.DataFrame(columns=[PostCol.POST_ID, PostCol.TEXT])
    if interactions is None:
        inter = stance_interactions(tables, spec)
        release_arrow_memory()  # (the marker search's lower-cased texts)
    else:  # (as object columns, like the tables': a no-op for read_tables' frames)
        inter = object_strings({Table.INTERACTIONS: interactions})[Table.INTERACTIONS]
    # with hand codes, scikit-learn and skops are needed next (agreement, the model): imported
    # while the VADER workers score, ~1.3 CPU-s that the main process would otherwise wait for,
    # and the saved model loaded (~0.5 s at 10^6) when there is one
    prefetch = ModelPrefetch(model_dir) if params.labels and model_dir is not None else None
    meanwhile = prefetch or (import_model_libraries if params.labels else None)
    if prefetch is not None and prefetch.predictions_kept():
        # a rerun with the same model: its predictions and the validation's figures are read
        # back (stance.predictions), so nothing to import or load; every worker scores
        meanwhile = None
    # classify and the model both look texts up by post, only for the interactions aimed at a
    # side: the texts of those posts, not of every post
    # (classify keeps only those interactions: given them alone, it finds them all kept)
    aimed = inter[clf.targeted(inter)]
    texts = _texts_by_post(posts, aimed[InteractionCol.POST_ID])
    # with hand codes the model's VADER feature is computed by the scoring workers too
    auto = clf.classify(
        aimed,
        posts,
        spec.windows,
        workers,
        meanwhile=meanwhile,
        texts=texts,
        vader=bool(params.labels),
        keep_dir=model_dir,  # (the scores of the distinct texts, kept beside the model)
    )
    sp = getattr(study, "support", None)
    how = {
        "labels_path": params.labels,
        "windows": spec.windows,
        "seed": int(getattr(sp, "seed", 42)),
        "n_boot": int(getattr(sp, "bootstrap", 1000)),
        "confidence": float(getattr(sp, "confidence", 0.95)),
        "model_dir": model_dir,
        "correct": correct,
        "texts": texts,
        "prefetched": prefetch,
        "vader_of": clf.text_vader,
    }
    if not params.labels:
        sup = supervise(auto, posts, None, **how)
        agree: dict[str, Any] = {"status": "not measured", "reason": "no labels CSV in the study"}
        return StanceResult(
            sup.table, agree, clf.lexicon.describe(), inter, sup.model, sup.validation, sup.units,
            sup.rules,
        )  # fmt: skip
    lab_file = read_labels(params.labels)
    labels = lab_file.labels
    units = auto.drop_duplicates(["post_id", "target_side"])
    matched = match_labels(labels, units, params.labels)
    lab = _label_lookup(units, labels)
    have = lab.notna().to_numpy(dtype=bool)
    agree = kept_figures(
        model_dir, "agreement", agreement, units["stance"][have].tolist(), lab[have].tolist()
    )
    agree["labels_matched"] = matched
    if lab_file.coders is not None:
        agree["coders"] = lab_file.coders
    sup = supervise(auto, posts, labels, **how, drawn_not_whole=lab_file.drawn_not_whole)
    return StanceResult(
        sup.table, agree, clf.lexicon.describe(), inter, sup.model, sup.validation, sup.units,
        sup.rules,
    )  # fmt: skip


def rule_counts(rules: pd.Series) -> dict[str, int]:
    """Return how many rows each rule family decided (``lexicon:shame on`` counts as lexicon).

    Examples
    --------
    >>> rule_counts(pd.Series(["lexicon:shame on", "vader", "lexicon:hero"]))
    {'lexicon': 2, 'vader': 1}
    """
    counts = rules.value_counts(dropna=True)  # few distinct rules: split those, not every row
    out: dict[str, int] = {}
    for rule, n in counts.items():
        family = str(rule).split(":", 1)[0]
        out[family] = out.get(family, 0) + int(n)
    return dict(sorted(out.items()))


def stance_summary(result: StanceResult) -> dict[str, Any]:
    """Return counts by side and stance, counts by rule and the agreement, for display."""
    t = result.table
    by_side = {
        side: {
            s: int(((t["target_side"] == side) & (t["stance"] == s)).sum()) for s in STANCE_ORDER
        }
        for side in _SIDES
    }
    rules = rule_counts(t["rule"])
    return {
        "interactions": len(t),
        "by_side": by_side,
        "by_rule": rules,
        "agreement": result.agreement,
        "model": result.model,
    }


def run_stance(
    tables: Mapping[str, pd.DataFrame],
    study: Any,
    out: str | Path,
    *,
    sample: int | None = None,
    seed: int = 42,
    sample_out: str | Path | None = None,
    workers: int | None = None,
    active: int = 0,
    sample_by: str = SAMPLE_BY_POST,
) -> dict[str, Any]:
    """Classify, write the audit table (and optionally a coding sheet), return a summary.

    ``out`` gets one row per interaction (:data:`STANCE_COLUMNS`), formula-safe CSV. With
    ``sample``, a blank coding sheet goes to ``sample_out`` (default: ``<out
    stem>.coding.csv``): a probability sample stratified by window x stance of that many (post,
    side) units, or with ``sample_by`` = ``account`` of that many accounts (all their posts
    towards one side in one window), plus ``active`` uncertain units (:func:`coding_sheet`).
    When the labels have two or more coder columns, their disagreements go to ``<out
    stem>.disagreements.csv``.
    """
    from ..textsafe import write_csv, write_json

    if sample is not None or active:
        _check_sample(sample or 0, seed, active, sample_by)  # before anything is written
    sheet = None
    if sample is not None or active:
        sheet = Path(sample_out) if sample_out else Path(out).with_suffix(".coding.csv")
    from ..outdir import check_not_read_by
    from .validation import validation_file

    outs = [Path(out), validation_file(out), Path(out).with_suffix(".disagreements.csv")]
    check_not_read_by(study, [*outs, *([sheet] if sheet is not None else [])])
    result = stance_table(tables, study, workers=workers)
    summary = stance_summary(result)
    summary["out"] = write_csv(result.table, out)
    if result.validation is not None:
        from .supervised import validation_json
        from .validation import validation_file

        summary["validation_out"] = write_json(
            validation_json(result.validation), validation_file(out)
        )
        summary["validation"] = result.validation
    coders = result.agreement.get("coders")
    if coders is not None:
        summary["disagreements_out"] = write_csv(
            disagreements_table(coders), Path(out).with_suffix(".disagreements.csv")
        )
    if sample is not None or active:
        posts = tables.get(Table.POSTS)
        posts = (
            posts if posts is not None else pd.DataFrame(columns=[PostCol.POST_ID, PostCol.TEXT])
        )
        drawn_sheet = coding_sheet(result.table, posts, sample or 0, seed, active, sample_by)
        summary["sample_out"] = write_csv(drawn_sheet, sheet)
        summary["sample"] = len(drawn_sheet)
        drawn = drawn_sheet[drawn_sheet["sample_unit"] == SAMPLE_BY_ACCOUNT]
        keys = cluster_keys(drawn["source"], drawn["target_side"], drawn["window"])
        summary["sample_accounts"] = keys.nunique()  # account x side x window, as drawn
    return summary


def disagreements_table(coders: Mapping[str, Any]) -> pd.DataFrame:
    """Return the coders' disagreements (:func:`~netsupport.stance.labels.coder_agreement`) as a
    table: post_id, target_side, line, one ``stance_<coder>`` column each, resolved."""
    names = list(coders["coders"])
    cols = ["post_id", "target_side", "line", *(f"stance_{c}" for c in names), "resolved"]
    rows = [
        [
            d["post_id"],
            d["target_side"] or "",
            d["line"],
            *(d["codes"].get(c, "") for c in names),
            d["resolved"],
        ]
        for d in coders["disagreements"]
    ]
    return pd.DataFrame(rows, columns=cols)
