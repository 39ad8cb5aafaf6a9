"""Hand labels: reading them, applying them, agreement with the classifier, the coding sheet."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileError, NetsupportError
from .rules import _CRI, _NEU, _SIDES, _SUP, RULE_LABEL, STANCE_ORDER, _texts_by_post

# ---- hand labels, agreement, coding sheet --------------------------------------------------------


def load_labels(path: str | Path) -> pd.DataFrame:
    """Read a labels CSV: ``post_id, stance`` and optionally ``target_side`` (focal|institution).

    Rows with an empty stance are skipped (a partly filled coding sheet is a valid labels file);
    a stance other than supportive/critical/neutral is an error naming the line.

    Returns
    -------
    DataFrame
        Columns post_id, target_side (<NA> = both sides), stance.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(path, "labels file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(path, f"cannot read labels CSV ({exc})") from None
    raw.columns = [c.strip().lower().lstrip("'") for c in raw.columns]
    missing = {"post_id", "stance"} - set(raw.columns)
    if missing:
        raise InputFileError(
            path, f"labels CSV needs columns post_id and stance; missing {sorted(missing)}"
        )
    side = raw["target_side"] if "target_side" in raw.columns else pd.Series([""] * len(raw))
    out = pd.DataFrame(
        {
            "post_id": raw["post_id"].str.strip().str.lstrip("'"),
            "target_side": side.str.strip().str.lower().to_numpy(),
            "stance": raw["stance"].str.strip().str.lower(),
        }
    )
    for i, row in enumerate(out.itertuples(index=False), start=2):
        if row.stance and row.stance not in STANCE_ORDER:
            raise InputFileError(
                path, f"stance {row.stance!r} is not one of {', '.join(STANCE_ORDER)}", f"line {i}"
            )
        if row.target_side and row.target_side not in _SIDES:
            raise InputFileError(
                path, f"target_side {row.target_side!r} is not focal or institution", f"line {i}"
            )
    out = out[(out["stance"] != "") & (out["post_id"] != "")].copy()
    out["target_side"] = out["target_side"].replace("", pd.NA).astype("string")
    return out.drop_duplicates(["post_id", "target_side"], keep="last").reset_index(drop=True)


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
    out = [
        by_side.get((p, s), by_post.get(p))
        for p, s in zip(table["post_id"], table["target_side"], strict=True)
    ]
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


def _check_sample(n: int, seed: int) -> None:
    if n < 1:
        raise NetsupportError(f"--sample must be at least 1, got {n}")
    if seed < 0:  # numpy's generators take seeds >= 0 only
        raise NetsupportError(f"--seed of the sample must be an integer >= 0, got {seed}")


def coding_sheet(table: pd.DataFrame, posts: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Return a blank coding sheet: ``n`` posts sampled by stance x window, in random order.

    Units are (post, target side). Strata are the classifier's stance crossed with the window;
    the sample is spread equally over the strata (a stratum smaller than its share gives its
    remainder to the others, in a fixed order), so rare stances are checked too. The sheet does
    not show the classifier's stance (blind coding); fill the ``stance`` column and pass the file
    as the study's labels CSV.

    Returns
    -------
    DataFrame
        Columns post_id, target_side, target, window, created_at, source, text, stance, note.
    """
    _check_sample(n, seed)
    units = table.drop_duplicates(["post_id", "target_side"], keep="first").copy()
    units["stratum"] = (
        units["stance"].astype(str) + "|" + units["window"].fillna("none").astype(str)
    )
    strata = sorted(units["stratum"].unique())
    sizes = units.groupby("stratum").size().reindex(strata).to_numpy()
    take = _allocate(int(n), sizes)
    rng = np.random.default_rng(seed)
    picked = []
    for stratum, k in zip(strata, take, strict=True):
        rows = units[units["stratum"] == stratum].sort_values(["post_id", "target_side"])
        if k:
            picked.append(rows.iloc[np.sort(rng.choice(len(rows), size=k, replace=False))])
    sample = pd.concat(picked) if picked else units.iloc[:0]
    sample = sample.iloc[rng.permutation(len(sample))]
    text = _texts_by_post(posts)
    return pd.DataFrame(
        {
            "post_id": sample["post_id"].to_numpy(),
            "target_side": sample["target_side"].to_numpy(),
            "target": sample["target"].to_numpy(),
            "window": sample["window"].to_numpy(),
            "created_at": sample["created_at"].to_numpy(),
            "source": sample["source"].to_numpy(),
            "text": sample["post_id"].map(text).to_numpy(),
            "stance": "",
            "note": "",
        }
    ).reset_index(drop=True)


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
