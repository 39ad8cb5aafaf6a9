"""Hand labels: reading them, applying them, agreement with the classifier, the coding sheet."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileError, NetsupportError
from ..wording import counted
from .rules import (
    _CRI,
    _NEU,
    _SIDES,
    _SUP,
    RULE_LABEL,
    RULE_LIKE,
    RULE_LIKE_UNTIMED,
    RULE_NO_TEXT,
    RULE_REPOST,
    STANCE_ORDER,
    _texts_by_post,
)

# ---- hand labels, agreement, coding sheet --------------------------------------------------------


#: Values of the coding sheet's ``sample`` column.
SAMPLE_PROBABILITY = "probability"
SAMPLE_ACTIVE = "active"
#: Values of the coding sheet's ``sample_unit`` column: what the probability sample drew, a
#: (post, side) unit or an account with all its posts towards one side in one window.
SAMPLE_BY_POST = "post"
SAMPLE_BY_ACCOUNT = "account"
SAMPLE_UNITS = (SAMPLE_BY_POST, SAMPLE_BY_ACCOUNT)
#: Coder columns of a labels CSV: ``stance_<coder>`` (``stance_coder1``, ``stance_ana``).
CODER_PREFIX = "stance_"


@dataclass(frozen=True)
class LabelsFile:
    """A labels CSV as read: the resolved label per unit and the coders' agreement.

    ``labels`` has the columns of :func:`load_labels` (``line`` is each row's line in the file,
    for messages); ``coders`` is the value of :func:`coder_agreement` (None with fewer than two
    coder columns).
    """

    path: str
    labels: pd.DataFrame
    coders: dict[str, Any] | None = None
    #: Accounts a coding sheet drew whole (``sample_unit`` = account, one per source x side x
    #: window) with a post left without a resolved stance: item non-response, which keeps the
    #: account out of the account-level correction (0 when the sheet has no such rows).
    drawn_not_whole: int = 0


def _not_utf8(path: Path) -> InputFileError:
    """The error for a labels CSV that is not UTF-8 text: UTF-16 (Excel's "Unicode text"), or
    the line of the first byte that is not UTF-8 (a sheet saved as latin-1 / Windows-1252)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return InputFileError(path, "labels CSV is UTF-16 text; save it as CSV UTF-8")
    for n, line in enumerate(data.splitlines(), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = line[exc.start]
            return InputFileError(
                path,
                f"labels CSV is not UTF-8 (byte 0x{byte:02x}: latin-1 or Windows-1252?); "
                "save it as CSV UTF-8",
                f"line {n}",
            )
    return InputFileError(path, "labels CSV is not UTF-8 text; save it as CSV UTF-8")


def _read_csv(path: Path) -> pd.DataFrame:
    """Return the labels CSV as stripped strings, with ``attrs["lines"]``: each row's first line
    in the file (quoted cells may span lines; blank lines are skipped)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputFileError(path, "labels CSV is empty (no header row)")
            rows: list[list[str]] = []
            lines: list[int] = []
            prev = header_line = reader.line_num
            for rec in reader:
                first, prev = prev + 1, reader.line_num
                if not any(c.strip() for c in rec):
                    continue
                if len(rec) > len(header):
                    raise InputFileError(
                        path,
                        f"{len(rec)} fields, the header has {len(header)} (a comma in an "
                        "unquoted cell?)",
                        f"line {first}",
                    )
                rows.append(rec + [""] * (len(header) - len(rec)))
                lines.append(first)
    except FileNotFoundError:
        raise InputFileError(path, "labels file not found") from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except (OSError, csv.Error) as exc:
        raise InputFileError(path, f"cannot read labels CSV ({exc})") from None
    cols = [str(c).strip().lower().lstrip("'") for c in header]
    twice = [c for c, k in Counter(cols).items() if c and k > 1]
    if twice:
        raise InputFileError(
            path,
            f"column {twice[0]!r} appears twice in the header: which one is meant?",
            f"line {header_line}",
        )
    raw = pd.DataFrame(rows, columns=cols, dtype=object) if rows else pd.DataFrame(columns=cols)
    raw = raw.astype(object).apply(lambda col: col.astype(str).str.strip().str.lstrip("'"))
    raw = raw.reset_index(drop=True)
    raw.attrs["lines"] = lines
    return raw


def _check_words(path: Path, raw: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise on the first stance word (in any stance column) that is not a stance."""
    for col in columns:
        vals = raw[col].str.lower()
        bad = vals[(vals != "") & ~vals.isin(STANCE_ORDER)]
        if len(bad):
            i = int(bad.index[0])
            raise InputFileError(
                path,
                f"{col} {raw[col].iloc[i]!r} is not one of {', '.join(STANCE_ORDER)}",
                f"line {raw.attrs['lines'][i]}",
            )


def _resolve(codes: list[str], adjudicated: str) -> str:
    """Return the adjudicated stance, else the coders' majority, else "" (a tie)."""
    if adjudicated:
        return adjudicated
    counts = Counter(c for c in codes if c).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return ""
    return counts[0][0]


def read_labels(path: str | Path) -> LabelsFile:
    r"""Read and check a labels CSV: one resolved stance per (post, side), and coder agreement.

    Columns: ``post_id``; ``stance`` and/or two or more coder columns ``stance_<coder>``;
    optionally ``target_side`` (focal|institution; empty = both sides), ``inclusion_probability``,
    ``sample`` (probability|active) and ``sample_unit`` (post|account), as the coding sheet
    writes them. With coder columns the
    resolved stance is the ``stance`` column where filled (adjudication), else the coders'
    majority; a tie without adjudication leaves the unit unresolved (not used as a label, listed
    in the disagreements). Rows with no stance at all are skipped (a partly coded sheet).

    Raises
    ------
    InputFileError
        Naming the file and line: an unknown stance word, a bad target_side, sample,
        sample_unit or inclusion_probability, the same (post, side) labelled twice with
        different stances, no coded row, or only one stance among the labels (nothing to tell
        apart or learn from).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("post_id,stance_a,stance_b\n1,supportive,supportive\n"
    ...                  "2,critical,critical\n3,neutral,critical\n4,neutral,neutral\n")
    >>> f = read_labels(p)
    >>> f.labels["stance"].tolist(), f.coders["items"], len(f.coders["disagreements"])
    (['supportive', 'critical', 'neutral'], 4, 1)
    """
    path = Path(path)
    raw = _read_csv(path)
    coders = sorted(c for c in raw.columns if c.startswith(CODER_PREFIX) and c != "stance")
    if "post_id" not in raw.columns or ("stance" not in raw.columns and len(coders) < 2):
        raise InputFileError(
            path,
            "labels CSV needs columns post_id and stance (or two or more stance_<coder> "
            f"columns); found {', '.join(raw.columns) or 'none'}",
        )
    _check_words(path, raw, [c for c in ("stance", *coders) if c in raw.columns])
    n = len(raw)
    side = raw["target_side"].str.lower() if "target_side" in raw.columns else pd.Series([""] * n)
    for i, v in enumerate(side):
        if v and v not in _SIDES:
            raise InputFileError(
                path,
                f"target_side {v!r} is not focal or institution",
                f"line {raw.attrs['lines'][i]}",
            )
    adjudicated = raw["stance"].str.lower() if "stance" in raw.columns else pd.Series([""] * n)
    codes = [raw[c].str.lower().tolist() for c in coders]
    resolved = [
        _resolve([c[i] for c in codes], adjudicated.iloc[i]) if coders else adjudicated.iloc[i]
        for i in range(n)
    ]
    out = pd.DataFrame(
        {
            "post_id": raw["post_id"].to_numpy(),
            "target_side": side.to_numpy(),
            "stance": resolved,
            "line": np.asarray(raw.attrs["lines"], dtype="int64"),
        }
    )
    extra = _design_columns(path, raw)
    for col, values in extra.items():
        out[col] = values
    not_whole = _drawn_not_whole(raw, out["stance"])
    agreement_ = coder_agreement(out, raw, coders) if len(coders) >= 2 else None
    out = out[(out["stance"] != "") & (out["post_id"] != "")]
    out = _no_conflicts(path, pool_sheets(path, out))
    present = sorted(set(out["stance"]), key=STANCE_ORDER.index)
    if len(present) < 2:
        if not present:
            raise InputFileError(path, "labels have no coded row: fill the stance column")
        raise InputFileError(
            path,
            f"labels have only {present[0]!r} among {len(out)} coded rows: agreement and a "
            "trained stance need at least two stances; code more rows",
        )
    out["target_side"] = out["target_side"].replace("", pd.NA).astype("string")
    waves = [
        c
        for c in out.columns
        if c.startswith((WAVE_PI, WAVE_LAMBDA, WAVE_UNIT, WAVE_NAME, POOLED_WEIGHT))
    ]
    cols = ["post_id", "target_side", "stance", *extra, *waves, "line"]
    return LabelsFile(str(path), out[cols].reset_index(drop=True), agreement_, not_whole)


def cluster_keys(source: pd.Series, side: pd.Series, window: pd.Series) -> pd.Series:
    """Return the cluster of each unit of a sheet drawn by account, one string per (source,
    target side, window); a missing source is an account of its own ("")."""
    source, side, window = (c.astype(object).fillna("").astype(str) for c in (source, side, window))
    return source + "\x00" + side + "\x00" + window


def _drawn_not_whole(raw: pd.DataFrame, resolved: pd.Series) -> int:
    """Return how many clusters (source x side x window) drawn by account in the probability
    sample have a row without a resolved stance (a post the coders left blank or tied on)."""
    need = {"sample_unit", "sample", "source", "target_side", "window"}
    if not need <= set(raw.columns):
        return 0
    drawn = (raw["sample_unit"].str.lower() == SAMPLE_BY_ACCOUNT) & (
        raw["sample"].str.lower() == SAMPLE_PROBABILITY
    )
    key = cluster_keys(raw["source"], raw["target_side"].str.lower(), raw["window"])
    blank = drawn.to_numpy() & (resolved.to_numpy() == "")
    return int(key[blank].nunique())


def _design_columns(path: Path, raw: pd.DataFrame) -> dict[str, Any]:
    """Return the sampling-design columns (inclusion_probability, sample, sample_unit) that the
    file has."""
    out: dict[str, Any] = {}
    if "inclusion_probability" in raw.columns:
        values = pd.to_numeric(raw["inclusion_probability"].replace("", None), errors="coerce")
        bad = (raw["inclusion_probability"] != "") & ~((values > 0) & (values <= 1)).fillna(False)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputFileError(
                path,
                f"inclusion_probability {raw['inclusion_probability'].iloc[i]!r} is not a "
                "number in (0, 1]",
                f"line {raw.attrs['lines'][i]}",
            )
        out["inclusion_probability"] = values.astype("float64").to_numpy()
    if "sample" in raw.columns:
        vals = raw["sample"].str.lower()
        bad = (vals != "") & ~vals.isin([SAMPLE_PROBABILITY, SAMPLE_ACTIVE])
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputFileError(
                path,
                f"sample {raw['sample'].iloc[i]!r} is not {SAMPLE_PROBABILITY} or {SAMPLE_ACTIVE}",
                f"line {raw.attrs['lines'][i]}",
            )
        out["sample"] = vals.replace("", None).to_numpy(dtype=object)
    if "sample_unit" in raw.columns:
        vals = raw["sample_unit"].str.strip().str.lower()
        bad = (vals != "") & ~vals.isin(SAMPLE_UNITS)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputFileError(
                path,
                f"sample_unit {raw['sample_unit'].iloc[i]!r} is not "
                f"{SAMPLE_BY_POST} or {SAMPLE_BY_ACCOUNT}",
                f"line {raw.attrs['lines'][i]}",
            )
        out["sample_unit"] = vals.to_numpy(dtype=object)
    if "sheet" in raw.columns:
        out["sheet"] = raw["sheet"].str.strip().to_numpy(dtype=object)
    return out


#: Prefix of the per-sheet design columns of a labels table pooled from several coding sheets
#: (:func:`pool_sheets`): ``pi@k`` (the unit's inclusion probability in sheet k, NaN = not
#: drawn by it), ``lam@k`` (the sheet's share of the estimation codes) and ``unit@k`` (what the
#: sheet drew: post or account).
WAVE_PI, WAVE_LAMBDA, WAVE_UNIT, WAVE_NAME = "pi@", "lam@", "unit@", "sheet@"
#: The pooled Horvitz-Thompson weight ``sum_k lam_k / pi_ik`` of a unit's code (NaN: active).
POOLED_WEIGHT = "pooled_weight"


def pool_sheets(path: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Return the coded rows of a labels file with one design per (post, side), pooled over the
    coding sheets that drew it (METHODS.md, "Several coding sheets").

    ``rows``: the coded rows as :func:`read_labels` has them (``sheet``, ``sample``,
    ``inclusion_probability`` where the file has them). Rows that estimate (``sample`` not
    ``active``) from more than one sheet are pooled: sheet k gets the share ``lam_k = n_k / n``
    of the estimation codes (units coded by it over all such units, a unit on two sheets
    counting in each), and a unit's Horvitz-Thompson weight is the pooled
    ``sum_k lam_k / pi_ik`` over the sheets that drew it (column :data:`POOLED_WEIGHT`; its
    ``inclusion_probability`` stays its row's own); the per-sheet columns (:data:`WAVE_PI` ...:
    probability, share, unit, sheet id) are added for the account level. Every row of a unit
    then carries the pooled design, and rows that estimate come before active ones (the one
    :func:`read_labels` keeps). With one sheet (or no ``sheet`` column) only that order
    changes.

    Raises
    ------
    InputFileError
        When rows of several sheets estimate and one of them has no inclusion probability
        (a hand-made or old labels row: its draw is unknown, so it cannot be pooled).

    Examples
    --------
    Sheet a drew posts 1 and 2 (pi 0.5, 0.25), sheet b posts 2 and 3 (pi 0.2, 0.1): four
    estimation codes, lam = 1/2 each; post 2's weight is 0.5 / 0.25 + 0.5 / 0.2 = 4.5:

    >>> rows = pd.DataFrame({"post_id": ["1", "2", "2", "3"], "target_side": "",
    ...     "stance": "neutral", "line": [2, 3, 4, 5], "sample": "probability",
    ...     "inclusion_probability": [0.5, 0.25, 0.2, 0.1], "sheet": ["a", "a", "b", "b"]})
    >>> out = pool_sheets("labels.csv", rows)
    >>> out["pooled_weight"].round(6).tolist()
    [1.0, 4.5, 4.5, 5.0]
    >>> out["pi@1"].tolist(), float(out["lam@0"].iloc[0])
    ([nan, 0.2, 0.2, 0.1], 0.5)
    """
    est = _estimates(rows)
    out = pd.concat([rows[est], rows[~est]]) if (~est).any() else rows
    if "sheet" not in rows.columns:
        return out
    sheets = sorted(set(rows.loc[est, "sheet"]))
    if len(sheets) <= 1:
        return out
    pi = rows.get("inclusion_probability", None)
    if pi is None or pi[est].isna().any():
        at = rows[est] if pi is None else rows[est & pi.isna()]
        raise InputFileError(
            path,
            f"estimation codes from {len(sheets)} coding sheets, but this row of sheet "
            f"{at['sheet'].iloc[0]!r} has no inclusion_probability, so its draw cannot be "
            "pooled with the others; give it its sheet's probability, or mark it sample = "
            "active (training only)",
            f"line {int(at['line'].iloc[0])}",
        )
    key = rows["post_id"] + "\x00" + rows["target_side"].fillna("").astype(str)
    drawn = pd.DataFrame({"key": key, "sheet": rows["sheet"], "pi": pi})[est.to_numpy()]
    drawn = drawn.drop_duplicates(["key", "sheet"], keep="first")
    counts = drawn.groupby("sheet").size().reindex(sheets)
    lam = counts / counts.sum()
    weight = (drawn["sheet"].map(lam) / drawn["pi"]).groupby(drawn["key"]).sum()
    rows = rows.assign(**{POOLED_WEIGHT: key.map(weight).to_numpy(dtype="float64")})
    if "sample_unit" in rows.columns:
        unit_of = (
            rows[est]
            .groupby("sheet")["sample_unit"]
            .agg(lambda u: SAMPLE_BY_ACCOUNT if (u == SAMPLE_BY_ACCOUNT).any() else SAMPLE_BY_POST)
        )
    else:
        unit_of = pd.Series(SAMPLE_BY_POST, index=sheets)
    for k, sheet in enumerate(sheets):
        mine = drawn[drawn["sheet"] == sheet].set_index("key")["pi"]
        rows[f"{WAVE_PI}{k}"] = key.map(mine).to_numpy(dtype="float64")
        rows[f"{WAVE_LAMBDA}{k}"] = float(lam[sheet])
        rows[f"{WAVE_UNIT}{k}"] = str(unit_of[sheet])
        rows[f"{WAVE_NAME}{k}"] = str(sheet)
    est = _estimates(rows)
    return pd.concat([rows[est], rows[~est]]) if (~est).any() else rows


def _estimates(rows: pd.DataFrame) -> pd.Series:
    """True for the rows that estimate (not drawn as ``active``)."""
    if "sample" not in rows.columns:
        return pd.Series(True, index=rows.index)
    return rows["sample"].fillna("").astype(str) != SAMPLE_ACTIVE


def _no_conflicts(path: Path, out: pd.DataFrame) -> pd.DataFrame:
    """Drop repeated labels of one (post, side); raise if two of them disagree."""
    key = out["post_id"] + "\x00" + out["target_side"]
    n_stances = out.groupby(key)["stance"].transform("nunique")
    clash = out[n_stances > 1].sort_values("line", kind="stable")
    if len(clash):
        first = clash["post_id"].iloc[0]
        side = clash["target_side"].iloc[0]
        rows = clash[(clash["post_id"] == first) & (clash["target_side"] == side)]
        rows = rows.sort_values("line", kind="stable")
        where = ", ".join(
            f"{s} on line {ln}" for s, ln in zip(rows["stance"], rows["line"], strict=True)
        )
        raise InputFileError(
            path,
            f"post {first}{f' ({side})' if side else ''} is labelled twice with different "
            f"stances: {where} "
            f"({counted(clash['post_id'].nunique(), 'post disagrees', 'posts disagree')} in all); "
            "keep one",
        )
    return out[~key.duplicated(keep="first")].sort_values("line", kind="stable")


def coder_agreement(
    units: pd.DataFrame, raw: pd.DataFrame, coders: Sequence[str]
) -> dict[str, Any]:
    """Return Krippendorff's alpha (nominal) of the coder columns and their disagreements.

    Parameters
    ----------
    units : DataFrame
        One row per labels row: post_id, target_side, stance (resolved, "" = unresolved), line.
    raw : DataFrame
        The labels CSV as read (strings), with the coder columns.
    coders : sequence of str
        The coder columns (``stance_<coder>``).

    Returns
    -------
    dict
        ``{"alpha", "coders", "items", "coded", "disagreements", "unresolved"}``: alpha is None
        when undefined (fewer than two items coded twice, or one value only); ``items`` counts
        rows coded by two or more coders (the pairable ones alpha uses), ``coded`` the codes;
        ``disagreements`` lists each row whose coders differ: ``{"post_id", "target_side",
        "line", "codes": {coder: stance}, "resolved"}`` ("" = a tie nobody adjudicated).

    Notes
    -----
    Krippendorff (2004), computed by the ``krippendorff`` package; values are the three stances,
    a missing code is missing, not a category.
    """
    import krippendorff

    order = list(STANCE_ORDER)
    codes = np.full((len(coders), len(raw)), np.nan)
    for r, col in enumerate(coders):
        vals = raw[col].str.lower()
        for k, s in enumerate(order):
            codes[r, (vals == s).to_numpy()] = k
    n_coded = (~np.isnan(codes)).sum(axis=0)
    pairable = n_coded >= 2
    alpha: float | None = None
    if (
        pairable.sum() >= 2
        and len(np.unique(codes[:, pairable][~np.isnan(codes[:, pairable])])) > 1
    ):
        alpha = float(
            krippendorff.alpha(
                reliability_data=codes[:, pairable],
                level_of_measurement="nominal",
                value_domain=list(range(len(order))),
            )
        )
    names = [c[len(CODER_PREFIX) :] for c in coders]
    disagreements = []
    for i in np.flatnonzero(pairable):
        given = {
            n: order[int(codes[r, i])] for r, n in enumerate(names) if not np.isnan(codes[r, i])
        }
        if len(set(given.values())) > 1:
            disagreements.append(
                {
                    "post_id": str(units["post_id"].iloc[i]),
                    "target_side": str(units["target_side"].iloc[i]) or None,
                    "line": int(units["line"].iloc[i]),
                    "codes": given,
                    "resolved": str(units["stance"].iloc[i]),
                }
            )
    return {
        "alpha": alpha,
        "coders": names,
        "items": int(pairable.sum()),
        "coded": int(n_coded.sum()),
        "disagreements": disagreements,
        "unresolved": sum(1 for d in disagreements if not d["resolved"]),
    }


def load_labels(path: str | Path) -> pd.DataFrame:
    """Read a labels CSV (see :func:`read_labels`) and return its resolved labels.

    Returns
    -------
    DataFrame
        Columns post_id, target_side (<NA> = both sides), stance, then inclusion_probability
        and sample when the file has them, then line (the row's line in the file).
    """
    return read_labels(path).labels


def match_labels(labels: pd.DataFrame, units: pd.DataFrame, path: str | Path) -> dict[str, Any]:
    """Check that labels name classified (post, side) units; return what did not match.

    A label matches when its post is among ``units`` (the classified interactions' post_id,
    target_side), on its side if it gives one. Labels that match nothing are not used.

    Raises
    ------
    InputFileError
        When no label matches (the wrong store, or the wrong labels file), naming a few ids.

    Returns
    -------
    dict
        ``{"labels", "matched", "unmatched", "unmatched_ids"}`` (the first 10 ids, sorted).
    """
    named = units[units["post_id"].isin(labels["post_id"])]  # the labelled posts' units only
    sides = named.groupby("post_id")["target_side"].agg(lambda s: set(s))
    have = labels["post_id"].map(sides)
    ok = [
        isinstance(h, set) and (pd.isna(side) or side in h)
        for h, side in zip(have, labels["target_side"], strict=True)
    ]
    miss = labels[[not x for x in ok]]
    ids = sorted(set(miss["post_id"]))
    if len(miss) == len(labels) and len(labels):
        raise InputFileError(
            path,
            f"none of its {len(labels)} labels names a classified interaction in the store "
            f"(e.g. post {', '.join(ids[:3])}, line {int(miss['line'].min())}); is it the "
            "labels file of this study and store?",
        )
    return {
        "labels": len(labels),
        "matched": len(labels) - len(miss),
        "unmatched": len(miss),
        "unmatched_ids": ids[:10],
    }


def _label_lookup(table: pd.DataFrame, labels: pd.DataFrame) -> pd.Series:
    """Return the hand label for each row of ``table`` (<NA> where none); side-specific first."""
    key_side = labels.dropna(subset=["target_side"])
    both = labels[labels["target_side"].isna()].drop_duplicates("post_id", keep="last")
    by_side = dict(
        zip(
            zip(key_side["post_id"], key_side["target_side"], strict=True),
            key_side["stance"],
            strict=True,
        )
    )
    by_post = dict(zip(both["post_id"], both["stance"], strict=True))
    out = np.full(len(table), None, dtype=object)
    hit = np.flatnonzero(table["post_id"].isin(labels["post_id"]).to_numpy(dtype=bool))
    posts = table["post_id"].to_numpy(dtype=object)[hit]
    sides = table["target_side"].to_numpy(dtype=object)[hit]
    out[hit] = [by_side.get((p, s), by_post.get(p)) for p, s in zip(posts, sides, strict=True)]
    return pd.Series(out, index=table.index, dtype="string")


def apply_labels(table: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    """Return ``table`` with hand labels overriding the classifier (rule ``label``).

    A label with a ``target_side`` applies to that side of the post; one without applies to
    every interaction of the post.
    """
    if labels is None or labels.empty or table.empty:
        return table
    lab = _label_lookup(table, labels)
    hit = lab.notna().to_numpy(dtype=bool)
    out = table.copy()
    out.loc[hit, "stance"] = lab[hit].astype(object).to_numpy()
    out.loc[hit, "score"] = (
        lab[hit].map({_SUP: 1.0, _CRI: -1.0, _NEU: 0.0}).astype(float).to_numpy()
    )
    out.loc[hit, "rule"] = RULE_LABEL
    return out


def agreement(predicted: Sequence[str], labelled: Sequence[str]) -> dict[str, Any]:
    """Return agreement of classifier stances with hand labels: accuracy, macro-F1, Cohen's kappa.

    Parameters
    ----------
    predicted, labelled : sequences of stance labels, aligned.

    Returns
    -------
    dict
        ``{"n", "accuracy", "macro_f1", "kappa", "confusion": {"labels": [...], "matrix":
        [[...]]}}`` (rows: hand label, columns: classifier), or ``{"status": "not measured",
        "reason": ...}`` without labels. ``kappa`` is None when it is undefined (one class only).

    Examples
    --------
    >>> a = agreement(["supportive", "critical", "neutral", "neutral"],
    ...               ["supportive", "critical", "neutral", "critical"])
    >>> a["accuracy"], a["confusion"]["matrix"]
    (0.75, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    """
    from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, f1_score

    pred = [str(x) for x in predicted]
    true = [str(x) for x in labelled]
    if not true:
        return {"status": "not measured", "reason": "no hand labels match a classified interaction"}
    order = list(STANCE_ORDER)
    kappa: float | None
    if len(set(true) | set(pred)) < 2:
        kappa = None
    else:
        kappa = float(cohen_kappa_score(true, pred, labels=order))
        kappa = None if math.isnan(kappa) else kappa
    present = sorted(set(true) | set(pred), key=order.index)
    return {
        "n": len(true),
        "accuracy": float(accuracy_score(true, pred)),
        "macro_f1": float(f1_score(true, pred, labels=present, average="macro", zero_division=0)),
        "kappa": kappa,
        "confusion": {
            "labels": order,
            "matrix": confusion_matrix(true, pred, labels=order).tolist(),
        },
    }


def _check_sample(n: int, seed: int, active: int = 0, by: str = SAMPLE_BY_POST) -> None:
    if by not in SAMPLE_UNITS:
        raise NetsupportError(
            f"--sample-by must be {SAMPLE_BY_POST} or {SAMPLE_BY_ACCOUNT}, got {by!r}"
        )
    if n < 0 or active < 0 or n + active < 1:
        raise NetsupportError(
            f"--sample must be at least 1 (or --active K given), got --sample {n} --active {active}"
        )
    if seed < 0:  # numpy's generators take seeds >= 0 only
        raise NetsupportError(f"--seed of the sample must be an integer >= 0, got {seed}")


#: Columns of the coding sheet, in order.
SHEET_COLUMNS = [
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


def coding_sheet(
    table: pd.DataFrame,
    posts: pd.DataFrame,
    n: int,
    seed: int,
    active: int = 0,
    by: str = SAMPLE_BY_POST,
) -> pd.DataFrame:
    """Return a blank coding sheet: a stratified probability sample, plus uncertain items.

    Units are (post, target side). With ``by`` = ``post`` the probability sample (``sample`` =
    ``probability``) is a stratified simple random sample of ``n`` units without replacement:
    strata are the window crossed with the predicted stance, and ``n`` is spread equally over
    the strata (a stratum smaller than its share gives its remainder to the others, in a fixed
    order), so rare stances are checked too. Each row carries its inclusion probability
    ``n_h / N_h`` (sampled / units of its stratum), so estimates from the coded rows can be
    weighted back to all units (Horvitz & Thompson 1952).

    With ``by`` = ``account`` the sample is a stratified cluster sample of ``n`` clusters: a
    cluster is one account's posts towards one side in one window, its stratum the window
    crossed with the majority of its predicted stances (ties neutral), and every post of a
    drawn cluster is on the sheet with the cluster's probability ``n_h / N_h`` (clusters). An
    account drawn this way is coded whole by design, which the account-level correction needs
    (METHODS.md, "Error-corrected shares"). ``sample_unit`` says which design drew the row.

    ``active`` adds that many more units the classifier is least sure of (smallest
    ``|score|``; ties in a seeded random order), with text, not already drawn, marked
    ``sample`` = ``active`` and no inclusion probability: they are for training only, not for
    estimation. Rows are in a seeded random order. The sheet does not show the classifier's
    stance (blind coding); fill the ``stance`` column and pass the file as the study's labels.

    Returns
    -------
    DataFrame
        :data:`SHEET_COLUMNS`; inclusion_probability is written with 10 significant digits.

    Examples
    --------
    Four supportive and two critical units: one drawn from each stratum, plus the least certain
    of the rest (post 5, score -0.2):

    >>> t = pd.DataFrame({"post_id": list("012345"), "source": list("aabbcd"),
    ...     "target": "lane", "kind": "reply",
    ...     "created_at": pd.Timestamp("2014-02-14", tz="UTC"),
    ...     "window": "crisis", "target_side": "focal",
    ...     "stance": ["supportive"] * 4 + ["critical"] * 2,
    ...     "score": [0.9, 0.8, 0.1, 0.7, -0.9, -0.2], "rule": "vader"})
    >>> posts = pd.DataFrame({"post_id": t["post_id"], "text": "some text"})
    >>> sheet = coding_sheet(t, posts, 2, seed=1, active=1)
    >>> sheet[["post_id", "sample", "inclusion_probability"]].values.tolist()
    [['2', 'probability', '0.25'], ['4', 'probability', '0.5'], ['5', 'active', '']]

    By account: accounts a and b are mostly supportive, c and d critical; one of each stratum is
    drawn whole, each with probability 1/2:

    >>> sheet = coding_sheet(t, posts, 2, seed=1, by="account")
    >>> sorted(sheet[["source", "post_id", "inclusion_probability"]].values.tolist())
    [['b', '2', '0.5'], ['b', '3', '0.5'], ['c', '4', '0.5']]
    """
    _check_sample(n, seed, active, by)
    units = table.drop_duplicates(["post_id", "target_side"], keep="first").copy()
    units = units.sort_values(["post_id", "target_side"], kind="stable")
    rng = np.random.default_rng(seed)
    if by == SAMPLE_BY_ACCOUNT:
        sample = _draw_accounts(units, int(n), rng)
    else:
        units["stratum"] = (
            units["stance"].astype(str) + "|" + units["window"].fillna("none").astype(str)
        )
        sample = _draw_stratified(units, int(n), rng)
    sample = sample.assign(sample_unit=by) if len(sample) else sample.assign(sample_unit="")
    text = _texts_by_post(posts)
    if active:
        extra = _most_uncertain(units, sample, text, active, rng)
        sample = pd.concat([sample, extra.assign(sample_unit="")]) if len(extra) else sample
    sample = sample.iloc[rng.permutation(len(sample))]
    sample = _reused_codes(sample)
    return pd.DataFrame(
        {
            "post_id": sample["post_id"].to_numpy(),
            "target_side": sample["target_side"].to_numpy(),
            "target": sample["target"].to_numpy(),
            "window": sample["window"].to_numpy(),
            "created_at": sample["created_at"].to_numpy(),
            "source": sample["source"].to_numpy(),
            "text": sample["post_id"].map(text).to_numpy(),
            "stance": sample["prefill"].fillna("").to_numpy() if "prefill" in sample else "",
            "note": sample["prefill_note"].fillna("").to_numpy() if "prefill" in sample else "",
            "sample": sample["sample"].to_numpy(),
            "inclusion_probability": sample["pi"].to_numpy(),
            "sample_unit": sample["sample_unit"].to_numpy(),
            "sheet": sheet_id(sample, seed),
        },
        columns=SHEET_COLUMNS,
    ).reset_index(drop=True)


#: The note on a row of a later sheet whose unit an earlier sheet's code already covers.
REUSED_NOTE = (
    "already coded on an earlier sheet: that code is written in and reused, no need to code it "
    "again"
)


def _reused_codes(sample: pd.DataFrame) -> pd.DataFrame:
    """Return ``sample`` with the hand code written in (and :data:`REUSED_NOTE`) on every unit
    that already carries one (rule ``label``: the stance table was made with ``--labels``).

    A later sheet draws from all units, so it may draw a unit an earlier sheet coded: the unit
    belongs to both draws (each sheet is its own sample of all units), but its code is the same,
    so the coder need not code it again and the two rows cannot disagree.
    """
    coded = (sample["rule"].astype(str) == RULE_LABEL).to_numpy(dtype=bool)
    if not coded.any():
        return sample
    out = sample.copy()
    stance = out["stance"].astype(str).to_numpy(dtype=object)
    prefill = out["prefill"].fillna("").to_numpy(dtype=object) if "prefill" in out else None
    note = out["prefill_note"].fillna("").to_numpy(dtype=object) if "prefill" in out else None
    if prefill is None:
        prefill = np.full(len(out), "", dtype=object)
        note = np.full(len(out), "", dtype=object)
    prefill[coded] = stance[coded]
    note[coded] = REUSED_NOTE
    out["prefill"], out["prefill_note"] = prefill, note
    return out


def sheet_id(sample: pd.DataFrame, seed: int) -> str:
    """Return the id of one coding sheet's draw: the first 10 hex digits of the SHA-256 of its
    seed and its rows (post_id, target_side, sample, inclusion probability), in a fixed order.

    Every row of a sheet carries it (column ``sheet``): a labels file joined from several sheets
    says which draw each code came from (METHODS.md, "Several coding sheets"). The same draw
    gives the same id; two draws (another seed, or other predictions) give two.

    Examples
    --------
    >>> s = pd.DataFrame({"post_id": ["2", "1"], "target_side": "focal",
    ...                   "sample": "probability", "pi": ["0.5", "0.25"]})
    >>> sheet_id(s, 1) == sheet_id(s.iloc[::-1], 1), sheet_id(s, 1) == sheet_id(s, 2)
    (True, False)
    """
    import hashlib

    rows = sorted(
        "\x00".join(str(v) for v in r)
        for r in zip(
            sample["post_id"], sample["target_side"], sample["sample"], sample["pi"], strict=True
        )
    )
    digest = hashlib.sha256("\x01".join([f"seed={int(seed)}", *rows]).encode("utf-8"))
    return digest.hexdigest()[:10]


def _draw_stratified(items: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return a stratified simple random sample of ``n`` of ``items`` (by their ``stratum``,
    :func:`_allocate`), with ``sample`` = probability and ``pi`` = ``n_h / N_h`` as text."""
    strata = sorted(items["stratum"].unique())
    sizes = items.groupby("stratum").size().reindex(strata).to_numpy()
    take = _allocate(n, sizes) if len(strata) else []
    picked = []
    for stratum, k, size in zip(strata, take, sizes, strict=True):
        rows = items[items["stratum"] == stratum]
        if k:
            chosen = rows.iloc[np.sort(rng.choice(len(rows), size=k, replace=False))].copy()
            chosen["sample"] = SAMPLE_PROBABILITY
            chosen["pi"] = format(k / int(size), ".10g")
            picked.append(chosen)
    return pd.concat(picked) if picked else items.iloc[:0].assign(sample="", pi="")


#: Rules whose decision needs no text: a repost or a like endorses, an interaction without text
#: is neutral (rules.py); the sheet drawn by account writes them in.
_FIXED_RULES = (RULE_REPOST, RULE_LIKE, RULE_LIKE_UNTIMED, RULE_NO_TEXT)


def _draw_accounts(units: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Return every unit of ``n`` clusters (source x side x window) drawn by
    :func:`_draw_stratified`, stratified by window x the cluster's majority predicted stance.
    Units in no window are left out when any unit is in one: no figure uses them."""
    from .validation import _majority

    if units["window"].notna().any():
        units = units[units["window"].notna().to_numpy()]
    window = units["window"].astype(object).where(units["window"].notna(), "none").astype(str)
    key = cluster_keys(units["source"], units["target_side"], window)
    codes = pd.Categorical(units["stance"].astype(object), categories=list(STANCE_ORDER)).codes
    counts = pd.crosstab(key, pd.Series(codes, index=units.index)).reindex(
        columns=range(len(STANCE_ORDER)), fill_value=0
    )  # clusters (sorted keys) x stance counts
    first = window.groupby(key).first().reindex(counts.index)
    clusters = pd.DataFrame(
        {
            "cluster": counts.index,
            "stratum": [
                f"{STANCE_ORDER[m] if m >= 0 else 'none'}|{w}"
                for m, w in zip(_majority(counts.to_numpy()), first, strict=True)
            ],
        }
    )
    drawn = _draw_stratified(clusters, n, rng).set_index("cluster")
    keep = key.isin(drawn.index).to_numpy()
    out = units[keep].copy()
    out["sample"] = SAMPLE_PROBABILITY
    out["pi"] = key[keep].map(drawn["pi"]).to_numpy()
    # a like, a repost or an interaction without text has no text to judge: its stance is the
    # study's rule, written in (a coder may change it); left blank, it would leave its account
    # out of the account-level correction, which needs every unit of a drawn account
    fixed = out["rule"].astype(str).isin(_FIXED_RULES).to_numpy()
    out["prefill"] = np.where(fixed, out["stance"].astype(str), "")
    out["prefill_note"] = np.where(
        fixed, "the study's rule (" + out["rule"].astype(str) + "), not a coder's: check it", ""
    )
    return out


def _most_uncertain(
    units: pd.DataFrame, drawn: pd.DataFrame, text: pd.Series, k: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Return the ``k`` units with the smallest ``|score|`` among those not drawn, not labelled,
    and with text; ties in a random order drawn from ``rng`` (deterministic for a seed)."""
    taken = set(zip(drawn["post_id"], drawn["target_side"], strict=True))
    has_text = units["post_id"].map(text).fillna("").astype(str).str.strip() != ""
    free = units[
        has_text.to_numpy(dtype=bool)
        & (units["rule"] != RULE_LABEL).to_numpy(dtype=bool)
        & np.array(
            [
                (p, s) not in taken
                for p, s in zip(units["post_id"], units["target_side"], strict=True)
            ],
            dtype=bool,
        )
    ]
    tie = rng.permutation(len(free))
    order = np.lexsort((tie, np.abs(free["score"].to_numpy(dtype="float64"))))
    out = free.iloc[order[:k]].copy()
    out["sample"] = SAMPLE_ACTIVE
    out["pi"] = ""
    return out


def _allocate(n: int, sizes: np.ndarray) -> list[int]:
    """Spread ``n`` over strata of ``sizes`` as equally as capacity allows (fixed order)."""
    take = [0] * len(sizes)
    left = min(n, int(sizes.sum()))
    while left > 0:
        open_ = [i for i in range(len(sizes)) if take[i] < sizes[i]]
        share, extra = divmod(left, len(open_))
        for rank, i in enumerate(open_):
            add = min(share + (1 if rank < extra else 0), int(sizes[i]) - take[i])
            take[i] += add
            left -= add
    return take
