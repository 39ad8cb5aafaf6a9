"""How good is the stance: cross-validated error over the hand codes, and error-corrected shares.

Two things are measured from a study's hand codes (METHODS.md, "Measured stance error" and
"Error-corrected shares"):

1. **Cross-validated error.** Stratified K-fold over the hand-coded (post, side) units (seeded):
   each unit is predicted by a model trained without it (or by the rules, when there is no
   model). Confusion matrix, per-class precision / recall / F1, macro-F1, Cohen's kappa and
   accuracy (sklearn.metrics), weighted by ``1 / inclusion_probability`` (Horvitz-Thompson) so
   that a stratified coding sheet estimates the error on the data, not on the sample. Units
   coded from an ``active`` sample train the model only and are never scored.
2. **Error-corrected shares.** Prediction-powered inference (Angelopoulos et al., Science 2023):
   for a share theta of stance k in a cell (side, window, unit level),
   ``theta_PP = mean over all N units of f_k + weighted mean over the n coded units of
   (Y_k - f~_k)``, where f is the prediction on every unit and f~ the cross-fitted prediction
   of a coded unit (from a model that did not see its code). The interval is a percentile
   bootstrap over accounts: the accounts, with their posts and their coded posts, are resampled
   together, so both the prediction mean and the rectifier vary, jointly across windows.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileError, NetsupportError
from ..schema import Window
from .rules import _SIDES, RULE_REPOST, STANCE_ORDER

__all__ = [
    "CV_FOLDS",
    "LEAVE_ONE_OUT_MAX_DISAGREE",
    "MIN_WINDOW_CODES",
    "ODDS_RATIO_METHOD",
    "PPI_METHOD",
    "corrected_odds_ratio",
    "corrected_shares",
    "cross_validate",
    "cv_groups",
    "design_weights",
    "error_figures",
    "leave_one_out",
    "validation_file",
]

_WINDOWS = (Window.BASELINE.value, Window.CRISIS.value, Window.AFTER.value)
#: Folds of the cross-validation (fewer when a class has fewer codes).
CV_FOLDS = 5
#: Fewest codes in a window for figures of that window alone.
MIN_WINDOW_CODES = 30
PPI_METHOD = (
    "prediction-powered inference (Angelopoulos et al. 2023), cross-fitted rectifier, "
    "Horvitz-Thompson weights; percentile bootstrap over accounts"
)
NAIVE_ONLY = "no hand codes from the probability sample in this cell: naive only"
SAMPLE_ACTIVE = "active"


# ---- the design: inclusion probabilities and active codes ---------------------------------------


def design_columns(labels: pd.DataFrame, path: str | Path | None) -> pd.DataFrame:
    """Return ``labels`` with ``inclusion_probability`` (float, NaN = not given), ``sample``
    and ``sample_unit`` (``account`` where the coding sheet drew the row with its account).

    Takes them from ``labels`` when :func:`netsupport.stance.load_labels` carries them, else
    reads them from the labels CSV (``path``). Missing columns mean a simple random sample of
    posts.
    """
    out = labels.copy()
    have = {"inclusion_probability", "sample"} <= set(out.columns)
    if not have and path is not None:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        raw.columns = [c.strip().lower().lstrip("'") for c in raw.columns]
        raw = raw[raw["stance"].str.strip() != ""] if "stance" in raw.columns else raw
        raw = raw[raw["post_id"].str.strip() != ""] if "post_id" in raw.columns else raw
        side = raw["target_side"] if "target_side" in raw.columns else pd.Series("", raw.index)
        extra = pd.DataFrame(
            {
                "post_id": raw["post_id"].str.strip().str.lstrip("'"),
                "target_side": side.str.strip().str.lower().replace("", pd.NA),
                "inclusion_probability": raw.get("inclusion_probability", pd.Series("", raw.index)),
                "sample": raw.get("sample", pd.Series("", raw.index)),
                "sample_unit": raw.get("sample_unit", pd.Series("", raw.index)),
            }
        ).drop_duplicates(["post_id", "target_side"], keep="last")
        key_l = out["post_id"].astype(str) + "|" + out["target_side"].astype(str)
        key_e = extra["post_id"].astype(str) + "|" + extra["target_side"].astype(str)
        cols = ["inclusion_probability", "sample", "sample_unit"]
        m = dict(zip(key_e, zip(*(extra[c] for c in cols), strict=True), strict=True))
        found = [m.get(k, ("", "", "")) for k in key_l]
        for i, c in enumerate(cols):
            out[c] = [f[i] for f in found]
    for c in ("inclusion_probability", "sample", "sample_unit"):
        if c not in out.columns:
            out[c] = ""
    given = out["inclusion_probability"]
    text = given.astype(object).where(given.notna(), "").astype(str).str.strip()
    prob = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    bad = prob.notna() & ~((prob > 0) & (prob <= 1))
    bad |= text.ne("") & prob.isna()  # not a number
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(
            path or "labels",
            "inclusion_probability must be a number in (0, 1], got "
            f"{out['inclusion_probability'].iloc[i]!r} for post {out['post_id'].iloc[i]}",
        )
    out["inclusion_probability"] = prob.astype("float64")
    for c in ("sample", "sample_unit"):
        out[c] = out[c].fillna("").astype(str).str.strip().str.lower()
    return out


def design_weights(probability: np.ndarray, population: int) -> np.ndarray:
    """Return Horvitz-Thompson weights ``1 / pi``; where pi is missing, a simple random sample
    of the coded units from the ``population`` units (pi = n / N).

    Examples
    --------
    >>> design_weights(np.array([0.5, np.nan, np.nan]), 30).tolist()
    [2.0, 10.0, 10.0]
    """
    p = np.asarray(probability, dtype="float64").copy()
    n = len(p)
    if n and population > 0:
        p[np.isnan(p)] = min(1.0, n / population)
    return 1.0 / p


# ---- cross-validated error ----------------------------------------------------------------------


def error_figures(
    true: Sequence[str], pred: Sequence[str], weight: Sequence[float] | None = None
) -> dict[str, Any]:
    """Return accuracy, macro-F1, Cohen's kappa, per-class figures and the confusion matrix.

    With ``weight`` (Horvitz-Thompson, ``1 / pi``) every figure estimates its value on the
    population the codes were drawn from; the confusion ``matrix`` stays in codes (counts) and
    ``estimated_share`` gives the weighted cells as shares of the population.

    Examples
    --------
    >>> f = error_figures(["supportive", "critical", "neutral", "neutral"],
    ...                   ["supportive", "neutral", "neutral", "neutral"])
    >>> f["accuracy"], f["confusion"]["matrix"]
    (0.75, [[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    >>> round(f["macro_f1"], 4), round(f["kappa"], 4)
    (0.6, 0.5556)
    """
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    t = [str(v) for v in true]
    p = [str(v) for v in pred]
    order = list(STANCE_ORDER)
    w = None if weight is None else np.asarray(weight, dtype="float64")
    present = sorted(set(t) | set(p), key=order.index)
    prec, rec, f1, _ = precision_recall_fscore_support(
        t, p, labels=order, sample_weight=w, zero_division=0
    )
    support = confusion_matrix(t, p, labels=order).sum(axis=1)
    kappa: float | None = None
    if len(set(t) | set(p)) >= 2:
        k = float(cohen_kappa_score(t, p, labels=order, sample_weight=w))
        kappa = None if math.isnan(k) else k
    macro = float(np.mean([f1[order.index(c)] for c in present])) if present else 0.0
    weighted = confusion_matrix(t, p, labels=order, sample_weight=w).astype("float64")
    total = weighted.sum()
    return {
        "accuracy": float(accuracy_score(t, p, sample_weight=w)),
        "macro_f1": macro,
        "kappa": kappa,
        "per_class": {
            c: {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1[i]),
                "codes": int(support[i]),
            }
            for i, c in enumerate(order)
        },
        "confusion": {
            "labels": order,
            "rows": "hand code",
            "columns": "prediction",
            "matrix": confusion_matrix(t, p, labels=order).tolist(),
            "estimated_share": (weighted / total).tolist() if total > 0 else None,
        },
    }


def cross_validate(
    x: pd.DataFrame,
    y: Sequence[str],
    *,
    estimate: np.ndarray,
    layout_shared: bool,
    seed: int = 42,
    folds: int = CV_FOLDS,
    c: Mapping[str, float] | None = None,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Return the cross-fitted prediction of every coded unit used for estimation.

    Units with ``estimate`` False (an active sample) are in every training fold and never
    predicted (their entry is None). Folds are stratified by side and code, shuffled with
    ``seed``; each fold's model is fitted as the study's model is (same layout), with the
    regularisation ``c`` the study's model chose (or its own inner search when not given).
    ``groups`` (one label per unit): units of one group are never split between a fold's
    training and test rows (sklearn's StratifiedGroupKFold), so a coded account's posts are
    not predicted by a model trained on its other posts (:func:`cv_groups`).
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from .model import fit_stance_model

    y = np.asarray(list(y), dtype=object)
    out = np.full(len(y), None, dtype=object)
    idx = np.flatnonzero(estimate)
    strata = (x["side"].astype(str).to_numpy()[idx] + "|" + y[idx].astype(str)).astype(object)
    units = groups[idx].astype(str) if groups is not None else idx.astype(str)
    k = _fold_count(strata, units, folds)
    if k < 2:  # a stratum with one code (or one group): stratify by code only
        strata = y[idx].astype(str).astype(object)
        k = _fold_count(strata, units, folds)
    if k < 2:
        return out
    always = np.flatnonzero(~estimate)
    if groups is None:
        splits = StratifiedKFold(k, shuffle=True, random_state=seed).split(
            np.zeros(len(idx)), strata
        )
    else:
        sgk = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
        splits = sgk.split(np.zeros(len(idx)), strata, units)
    for train, test in splits:
        tr = np.concatenate([idx[train], always])
        try:  # a fold's model on (K-1)/K of the codes: fewer than the study model needs
            model = fit_stance_model(
                x.iloc[tr], y[tr], seed=seed, shared=layout_shared, c=c, min_codes=2
            )
        except NetsupportError:  # a side with one class in this fold: no cross-fit for it
            continue  # (the caller keeps the full model's decision for these codes)
        pred, _ = model.predict(x.iloc[idx[test]])
        out[idx[test]] = pred
    return out


def _fold_count(strata: np.ndarray, groups: np.ndarray, folds: int) -> int:
    """The folds a (grouped) stratified K-fold can make: at most ``folds``, and at most the
    fewest distinct groups of any stratum (each stratum needs a group in every fold)."""
    if not len(strata):
        return 0
    per = pd.DataFrame({"s": strata, "g": groups}).groupby("s")["g"].nunique()
    return int(min(folds, per.min()))


def cv_groups(accounts: np.ndarray, by_account: np.ndarray) -> np.ndarray | None:
    """Return the cross-validation groups of coded units: a unit drawn with its account
    (a coding sheet ``--sample-by account``) is grouped with that account's others, every other
    unit is a group of its own; None when no unit was drawn by account (plain stratified folds,
    as before the sheet could draw accounts).

    Examples
    --------
    >>> cv_groups(np.array(["a", "a", "b"]), np.array([True, True, False])).tolist()
    ['account:a', 'account:a', 'unit:2']
    >>> cv_groups(np.array(["a", "a"]), np.array([False, False])) is None
    True
    """
    by_account = np.asarray(by_account, dtype=bool)
    if not by_account.any():
        return None
    return np.array(
        [
            f"account:{a}" if drawn else f"unit:{i}"
            for i, (a, drawn) in enumerate(zip(accounts, by_account, strict=True))
        ],
        dtype=object,
    )


# ---- error-corrected shares ---------------------------------------------------------------------


def unit_rows(table: pd.DataFrame) -> np.ndarray:
    """Return the index (positions) of one row per (post, side): its repost row, else its first."""
    if table.empty:
        return np.zeros(0, dtype=np.int64)
    rank = np.where(table["rule"].astype(object).to_numpy() == RULE_REPOST, 0, 1)
    post = pd.factorize(table["post_id"], sort=False)[0].astype(np.int64)
    side = pd.factorize(table["target_side"], sort=False)[0].astype(np.int64)
    key = post * 4 + side
    order = np.lexsort((np.arange(len(table)), rank, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first])


def _majority(counts: np.ndarray) -> np.ndarray:
    """Majority stance code per row (0, 1, 2); a tie for the most is neutral (2); -1 if empty."""
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    top = counts.max(axis=1, keepdims=True)
    n_top = (counts == top).sum(axis=1)
    out = np.where(n_top == 1, counts.argmax(axis=1), 2)
    return np.where(counts.sum(axis=1) > 0, out, -1)


_BLOCK = 23  # columns per window in the per-account matrix (see _account_matrix)


def _account_matrix(u: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (accounts x 3 * _BLOCK matrix, account codes) for the units of one side.

    Per window: predicted post counts (3), posts (1), sum of w * (Y - f~) over coded posts (3),
    sum of w (1), account prediction one-hot (3), active (1), w_a * (Y_a - f~_a) of a wholly
    coded account (3), w_a (1), final post counts (3), final account one-hot (3), drawn as an
    account (1).

    ``w_a`` of a wholly coded account is ``1 / pi`` of its draw when the coding sheet drew the
    account (``by_account``: a code of the account in the cell drawn with it), else the product
    of its posts' weights (their draws taken as independent).
    """
    acc, accounts = pd.factorize(u["account"], sort=True)
    n_acc = len(accounts)
    m = np.zeros((n_acc, 3 * _BLOCK + 1), dtype="float64")  # last: the account's design group
    win = u["window"].to_numpy(dtype=object)
    pred = u["pred"].to_numpy(dtype=np.int64)
    fin = u["final"].to_numpy(dtype=np.int64)
    lab = u["label"].to_numpy(dtype=np.int64)
    cross = u["cross"].to_numpy(dtype=np.int64)
    w = u["weight"].to_numpy(dtype="float64")
    coded = lab >= 0
    by_acc = u["by_account"].to_numpy(dtype=bool) if "by_account" in u else np.zeros(len(u), bool)
    eye = np.eye(3)
    sheets = _sheet_columns(u)
    if coded.any():  # design group: the largest weight of the account's codes (0: none)
        np.maximum.at(m[:, 3 * _BLOCK], acc[coded], w[coded])
    for j, wname in enumerate(_WINDOWS):
        sel = win == wname
        if not sel.any():
            continue
        b = j * _BLOCK
        a = acc[sel]
        np.add.at(m[:, b : b + 3], a, eye[pred[sel]])
        np.add.at(m[:, b + 3], a, 1.0)
        c = sel & coded
        if c.any():
            d = eye[lab[c]] - eye[cross[c]]
            np.add.at(m[:, b + 4 : b + 7], acc[c], w[c, None] * d)
            np.add.at(m[:, b + 7], acc[c], w[c])
        np.add.at(m[:, b + 16 : b + 19], a, eye[fin[sel]])
        # account level
        pc = np.zeros((n_acc, 3))
        np.add.at(pc, a, eye[pred[sel]])
        active = pc.sum(axis=1) > 0
        mp = _majority(pc)
        m[active, b + 8 + mp[active]] = 1.0
        m[:, b + 11] = active.astype("float64")
        fc = np.zeros((n_acc, 3))
        np.add.at(fc, a, eye[fin[sel]])
        mf = _majority(fc)
        m[active, b + 19 + mf[active]] = 1.0
        # wholly coded accounts: every unit of the cell coded in the probability sample
        n_units = np.bincount(a, minlength=n_acc)
        n_coded = np.bincount(acc[c], minlength=n_acc) if c.any() else np.zeros(n_acc, int)
        whole = active & (n_units == n_coded)
        if whole.any():
            yc = np.zeros((n_acc, 3))
            np.add.at(yc, acc[c], eye[lab[c]])
            xc = np.zeros((n_acc, 3))
            np.add.at(xc, acc[c], eye[cross[c]])
            if sheets:  # codes pooled from several sheets: per sheet, then summed
                wa, drawn = _pooled_account_weights(sheets, c, acc, a, whole, n_acc)
                whole = whole & (wa > 0)  # wholly coded by no one sheet: not in any sample
                m[drawn & whole, b + 22] = 1.0
            else:
                logw = np.zeros(n_acc)
                np.add.at(logw, acc[c], np.log(w[c]))
                wa = np.exp(logw)
                n_drawn = np.bincount(acc[c & by_acc], minlength=n_acc)
                drawn = whole & (n_drawn > 0)  # the sheet drew the account: its draw's weight
                if drawn.any():  # (a post of it also coded by post does not make it rarer)
                    w_draw = np.zeros(n_acc)
                    np.maximum.at(w_draw, acc[c & by_acc], w[c & by_acc])
                    wa = np.where(drawn, w_draw, wa)
                    m[drawn, b + 22] = 1.0
            my, mx = _majority(yc), _majority(xc)
            rows = np.flatnonzero(whole)
            da = eye[my[rows]] - eye[mx[rows]]
            m[rows, b + 12 : b + 15] = wa[rows, None] * da
            m[rows, b + 15] = wa[rows]
    return m, acc


def _sheet_columns(u: pd.DataFrame) -> list[tuple[np.ndarray, float, bool]]:
    """The coding sheets of pooled codes: per sheet k, each unit's ``wave_weight_k`` (``lam_k /
    pi_ik``, 0 = not drawn by it), ``lam_k`` and whether it drew accounts; [] for one sheet."""
    out = []
    k = 0
    while f"wave_weight_{k}" in u.columns:
        out.append(
            (
                u[f"wave_weight_{k}"].to_numpy(dtype="float64"),
                float(u[f"wave_lambda_{k}"].iloc[0]),
                bool(u[f"wave_by_account_{k}"].iloc[0]),
            )
        )
        k += 1
    return out


def _pooled_account_weights(
    sheets: list[tuple[np.ndarray, float, bool]],
    c: np.ndarray,
    acc: np.ndarray,
    a: np.ndarray,
    whole: np.ndarray,
    n_acc: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the account-level weight ``w_a = sum_k lam_k w_ak`` of each wholly coded account
    of one cell, and which accounts a sheet drew by account.

    Sheet k counts an account when it drew every one of its units of the cell (``c``: the
    cell's coded units; ``a``: the account of each unit of the cell): ``w_ak`` is its draw's
    ``1 / pi_c`` for a sheet drawn by account, else the product of its posts' ``1 / pi_ik``
    (``lam_k w_ak = prod(lam_k / pi_ik) / lam_k^(m - 1)`` for m posts). An account wholly coded
    only by several sheets together is in no sheet's sample and gets 0.
    """
    n_units = np.bincount(a, minlength=n_acc)
    wa = np.zeros(n_acc)
    drawn = np.zeros(n_acc, dtype=bool)
    for v, lam, by_account in sheets:
        mine = c & (v > 0)
        if not mine.any():
            continue
        whole_k = whole & (np.bincount(acc[mine], minlength=n_acc) == n_units)
        if by_account:
            wk = np.zeros(n_acc)
            np.maximum.at(wk, acc[mine], v[mine])
            drawn |= whole_k
        else:
            logv = np.zeros(n_acc)
            np.add.at(logv, acc[mine], np.log(v[mine]))
            wk = np.exp(logv - np.maximum(n_units - 1, 0) * math.log(lam))
        wa += np.where(whole_k, wk, 0.0)
    return wa, drawn


def _unique_rows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``np.unique(m, axis=0, return_counts=True)`` of a float matrix without NaN.

    The same rows in the same (lexicographic) order and their counts: np.unique compares rows
    as records of 70 fields, ~0.45 s for the ~20,000 accounts of a side at 10^6 interactions;
    one stable sort per column is a tenth of that.
    """
    if len(m) == 0:
        return m[:0], np.zeros(0, dtype=np.intp)
    order = np.lexsort(m.T[::-1])  # the first column is the primary key
    rows = m[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    return rows[starts], np.diff(np.append(starts, len(rows)))


def _stats(t: np.ndarray) -> dict[str, np.ndarray]:
    """Return naive and corrected shares from column totals ``t`` (replicates x columns)."""
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, w in enumerate(_WINDOWS):
            b = j * _BLOCK
            posts, lab_w = t[:, b + 3 : b + 4], t[:, b + 7 : b + 8]
            accs, lab_wa = t[:, b + 11 : b + 12], t[:, b + 15 : b + 16]
            out[f"post|{w}|naive"] = t[:, b + 16 : b + 19] / posts
            out[f"post|{w}|corrected"] = t[:, b : b + 3] / posts + t[:, b + 4 : b + 7] / lab_w
            out[f"account|{w}|naive"] = t[:, b + 19 : b + 22] / accs
            out[f"account|{w}|corrected"] = (
                t[:, b + 8 : b + 11] / accs + t[:, b + 12 : b + 15] / lab_wa
            )
            out[f"post|{w}|coded"] = t[:, b + 7]
            out[f"account|{w}|coded"] = t[:, b + 15]
            out[f"post|{w}|n"] = t[:, b + 3]
            out[f"account|{w}|n"] = t[:, b + 11]
    return out


def _stratified_draws(
    group: np.ndarray, freq: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Return bootstrap counts of each account profile (n_boot x profiles): accounts are drawn
    with replacement within their design group (uncoded accounts; coded accounts by the weight
    of their codes), so each resample keeps the number of coded accounts of every stratum of
    the coding sheet, as its design did (a fixed-size stratified sample, not a random number)."""
    out = np.zeros((n_boot, len(freq)), dtype="float64")
    for g in np.unique(group):  # sorted: a fixed order of draws
        idx = np.flatnonzero(group == g)
        n_g = int(freq[idx].sum())
        out[:, idx] = rng.multinomial(n_g, freq[idx] / n_g, size=n_boot)
    return out


def _ci(draws: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return None, None
    a = (1 - confidence) / 2
    lo, hi = np.percentile(finite, [100 * a, 100 * (1 - a)])
    return float(lo), float(hi)


def _share(x: float) -> float | None:
    return None if not math.isfinite(x) else float(min(1.0, max(0.0, x)))


def _coded_accounts(m: np.ndarray, b: int) -> dict[str, int]:
    """The accounts of one window's block of :func:`_account_matrix`: ``accounts`` (active),
    ``coded_accounts`` (wholly coded: the account-level rectifier's sample) and
    ``coded_accounts_one_post`` (those of them with one post in the cell);
    ``coded_accounts_drawn`` (those the coding sheet drew as accounts); ``accounts_one_post``
    (the active accounts with one post in the cell); ``coded_accounts_disagree`` (the wholly
    coded accounts whose majority code differs from the majority of their cross-fitted
    decisions: the only ones that move the account-level rectifier)."""
    active = m[:, b + 11] > 0
    whole = active & (m[:, b + 15] > 0)
    disagree = whole & (np.abs(m[:, b + 12 : b + 15]).sum(axis=1) > 0)
    return {
        "accounts": int(active.sum()),
        "accounts_one_post": int((active & (m[:, b + 3] == 1)).sum()),
        "coded_accounts": int(whole.sum()),
        "coded_accounts_drawn": int((whole & (m[:, b + 22] > 0)).sum()),
        "coded_accounts_one_post": int((whole & (m[:, b + 3] == 1)).sum()),
        "coded_accounts_disagree": int(disagree.sum()),
    }


#: An account-level cell whose correction rests on at most this many disagreeing wholly coded
#: accounts gets a leave-one-out figure: how far one account's codes move it (METHODS.md,
#: "Error-corrected shares"). A fixed rule, not tuned to any study.
LEAVE_ONE_OUT_MAX_DISAGREE = 3


def _disagreeing(m: np.ndarray, b: int) -> np.ndarray:
    """Rows of the wholly coded accounts of one window's block whose majority code differs from
    the majority of their cross-fitted decisions (the only ones that move the rectifier)."""
    whole = (m[:, b + 11] > 0) & (m[:, b + 15] > 0)
    return np.flatnonzero(whole & (np.abs(m[:, b + 12 : b + 15]).sum(axis=1) > 0))


def _net(stats: dict[str, np.ndarray], w: str) -> float:
    c = stats[f"account|{w}|corrected"][0]
    return float(c[0] - c[1])


def _net_row(
    side: str,
    where: tuple[str, str],
    unit: str,
    naive: Any,
    corrected: Any,
    has: bool,
    ci: tuple[Any, Any],
) -> dict[str, Any]:
    """One net-support row of the validation (a window's, ``where = ("window", w)``, or a
    change's, ``("change", "crisis - baseline")``): naive and corrected as supportive minus
    critical share (``naive[0] - naive[1]``), the corrected figure and its interval only when
    the cell has codes (``has``)."""
    return {
        "target_side": side,
        where[0]: where[1],
        "unit": unit,
        "naive": float(naive[0] - naive[1]),
        "corrected": float(corrected[0] - corrected[1]) if has else None,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "method": PPI_METHOD if has else NAIVE_ONLY,
    }


def leave_one_out(m: np.ndarray, windows: tuple[str, ...], sign: tuple[int, ...]) -> dict | None:
    """Return how far one disagreeing wholly coded account moves an account-level corrected
    figure: ``sum_j sign_j * net(windows_j)`` (a window's net support: ``(w,), (1,)``; a change
    later - baseline: ``(later, baseline), (1, -1)``).

    Each disagreeing account of a window whose cell has 1 to :data:`LEAVE_ONE_OUT_MAX_DISAGREE`
    of them is left out of that window's rectifier in turn (its codes and weight; it stays in
    the first term with its decision), and the figure recomputed. Returns ``{accounts, value,
    largest_shift, smallest, largest}``: how many were left out, the figure whose shift from the
    estimate is largest in size, with that shift, and the smallest and largest of the figures
    recomputed (one account can move it either way: review t8 M3); None when no cell qualifies.
    """
    t = m.sum(axis=0)
    full = sum(s * _net(_stats(t[None, :]), w) for w, s in zip(windows, sign, strict=True))
    shifts = []
    for w in windows:
        b = _WINDOWS.index(w) * _BLOCK
        rows = _disagreeing(m, b)
        if not 1 <= len(rows) <= LEAVE_ONE_OUT_MAX_DISAGREE:
            continue
        for r in rows:
            t2 = t.copy()
            t2[b + 12 : b + 16] -= m[r, b + 12 : b + 16]
            if t2[b + 15] <= 0:  # the only coded account: nothing left to correct with
                continue
            value = sum(
                s * _net(_stats(t2[None, :]), x) for x, s in zip(windows, sign, strict=True)
            )
            shifts.append((value - full, value))
    if not shifts:
        return None
    shift, value = max(shifts, key=lambda x: (abs(x[0]), x[0]))
    return {
        "accounts": len(shifts),
        "value": float(value),
        "largest_shift": float(shift),
        "smallest": float(min(v for _, v in shifts)),
        "largest": float(max(v for _, v in shifts)),
    }


def _coded_frame(units: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`corrected_shares`' units with the stances as codes (position in
    STANCE_ORDER), codes that do not estimate (active or uncoded) as -1, and only the rows of a
    study window with a decision."""

    def codes(col: str) -> np.ndarray:  # position in STANCE_ORDER; -1 for anything else
        values = units[col].astype(object).to_numpy()
        return pd.Categorical(values, categories=list(STANCE_ORDER)).codes.astype(np.int64)

    frame = pd.DataFrame(
        {
            "side": units["side"].astype(object).to_numpy(),
            "window": units["window"].astype(object).to_numpy(),
            "account": units["account"].astype(object).to_numpy(),
            "pred": codes("pred"),
            "final": codes("final"),
            "cross": codes("cross"),
            "weight": units["weight"].to_numpy(dtype="float64"),
            "by_account": units["by_account"].to_numpy(dtype=bool)
            if "by_account" in units
            else np.zeros(len(units), dtype=bool),
            **{c: units[c].to_numpy() for c in units.columns if c.startswith("wave_")},
        }
    )
    lab = codes("label")
    lab[frame["weight"].to_numpy() <= 0] = -1  # active or uncoded: not for estimation
    frame["label"] = lab
    return frame[frame["window"].isin(_WINDOWS) & (frame["pred"] >= 0) & (frame["final"] >= 0)]


def corrected_shares(
    units: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, list[dict[str, Any]]]:
    """Return naive and error-corrected stance shares, net support and its changes.

    Parameters
    ----------
    units : DataFrame
        One row per (post, side) unit: ``side``, ``window``, ``account`` (the source),
        ``pred`` (the model's or rules' stance, without hand codes; for a coded unit its
        cross-fitted decision, from a model that did not see its code), ``final`` (the stance the
        support measures use: hand codes applied), ``label`` (hand code or None), ``cross``
        (the cross-fitted prediction of a coded unit; ``pred`` where there is no model) and
        ``weight`` (``1 / pi`` of a code of the probability sample; 0 = not coded or an active
        code, which is never used for estimation); optionally ``by_account`` (True where the
        code's unit was drawn with its account: a coding sheet ``--sample-by account``);
        for codes pooled from several coding sheets, per sheet k ``wave_weight_k`` (``lam_k /
        pi_ik``, 0 = not drawn by it; ``weight`` is their sum), ``wave_lambda_k`` and
        ``wave_by_account_k`` (:func:`netsupport.stance.supervised.sheet_columns`).
    n_boot, seed, confidence : bootstrap resamples, seed and interval level.

    Returns
    -------
    dict
        ``shares``: rows ``{target_side, window, unit, stance, naive, corrected, ci_low,
        ci_high, method}``; ``net_support``: the same with ``stance`` left out;
        ``changes``: net support ``crisis - baseline`` and ``after - baseline``
        (``{target_side, change, unit, naive, corrected, ci_low, ci_high, method}``).

    Notes
    -----
    For the share of stance k among N units of a cell, with f the prediction and f~ the
    cross-fitted one, the estimate is ``mean_N f_k + sum_S w (Y_k - f~_k) / sum_S w`` over
    the coded units S with weights ``w = 1/pi``. At account level the unit is the account (its
    majority stance, ties neutral); an account is coded when all its posts in the cell are, with
    ``pi_a`` its draw's probability when the sheet drew it as an account, else the product of
    its posts' probabilities. Shares and interval ends are clipped to
    [0, 1]. METHODS.md, "Error-corrected shares".
    """

    frame = _coded_frame(units)
    shares: list[dict[str, Any]] = []
    nets: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for side in _SIDES:
        u = frame[frame["side"] == side]
        if u.empty:
            continue
        m, _ = _account_matrix(u)
        prof, freq = _unique_rows(m)
        point = _stats((freq @ prof)[None, :])
        rng = np.random.default_rng([int(seed), zlib.crc32(f"stance_validation/{side}".encode())])
        weights = _stratified_draws(prof[:, 3 * _BLOCK], freq, n_boot, rng)
        boot = _stats(weights @ prof)
        for unit in ("account", "post"):
            for w in _WINDOWS:
                if point[f"{unit}|{w}|n"][0] <= 0:
                    continue
                naive = point[f"{unit}|{w}|naive"][0]
                corr = point[f"{unit}|{w}|corrected"][0]
                has = point[f"{unit}|{w}|coded"][0] > 0
                bc = boot[f"{unit}|{w}|corrected"]
                for k, s in enumerate(STANCE_ORDER):
                    lo, hi = _ci(bc[:, k], confidence) if has else (None, None)
                    shares.append(
                        {
                            "target_side": side,
                            "window": w,
                            "unit": unit,
                            "stance": s,
                            "naive": _share(float(naive[k])),
                            "corrected": _share(float(corr[k])) if has else None,
                            "ci_low": _share(lo) if lo is not None else None,
                            "ci_high": _share(hi) if hi is not None else None,
                            "method": PPI_METHOD if has else NAIVE_ONLY,
                        }
                    )
                net_b = bc[:, 0] - bc[:, 1]
                lo, hi = _ci(net_b, confidence) if has else (None, None)
                row = _net_row(side, ("window", w), unit, naive, corr, has, (lo, hi))
                if unit == "account":  # what the account-level rectifier rests on
                    row.update(_coded_accounts(m, _WINDOWS.index(w) * _BLOCK))
                    loo = leave_one_out(m, (w,), (1,)) if has else None
                    if loo is not None:
                        row["leave_one_out"] = loo
                nets.append(row)
            for later in (Window.CRISIS.value, Window.AFTER.value):
                base = Window.BASELINE.value
                if point[f"{unit}|{base}|n"][0] <= 0 or point[f"{unit}|{later}|n"][0] <= 0:
                    continue
                nv = point[f"{unit}|{later}|naive"][0] - point[f"{unit}|{base}|naive"][0]
                cv = point[f"{unit}|{later}|corrected"][0] - point[f"{unit}|{base}|corrected"][0]
                has = point[f"{unit}|{later}|coded"][0] > 0 and point[f"{unit}|{base}|coded"][0] > 0
                d = boot[f"{unit}|{later}|corrected"] - boot[f"{unit}|{base}|corrected"]
                lo, hi = _ci(d[:, 0] - d[:, 1], confidence) if has else (None, None)
                crow = _net_row(side, ("change", f"{later} - {base}"), unit, nv, cv, has, (lo, hi))
                loo = (
                    leave_one_out(m, (later, base), (1, -1)) if has and unit == "account" else None
                )
                if loo is not None:
                    crow["leave_one_out"] = loo
                changes.append(crow)
    return {"shares": shares, "net_support": nets, "changes": changes}


#: What :func:`corrected_odds_ratio` computes, in metrics.json beside its figures.
ODDS_RATIO_METHOD = (
    "error-corrected (prediction-powered inference): the supportive share of the accounts with "
    "a prior tie and of those without, each corrected at account level with the hand codes of "
    "its own accounts; odds ratio of the two (unadjusted); percentile bootstrap over accounts"
)


def corrected_odds_ratio(
    units: pd.DataFrame,
    tie: pd.Series,
    *,
    side: str = "focal",
    window: str = Window.CRISIS.value,
    n_boot: int = 1000,
    seed: int = 42,
    confidence: float = 0.95,
) -> dict[str, Any] | None:
    """Return the prior-tie odds ratio of supporters vs the others and the prior-tie share of
    supporters, both with the stance decisions' error carried in; None when either group of
    accounts has no wholly coded account (nothing to correct it with).

    ``units``: as for :func:`corrected_shares`; ``tie``: True for an account (index: handle) with
    a prior tie, observed without error. The odds ratio is symmetric, OR(tie | supporter) =
    OR(supporter | tie), so it is the odds ratio of two corrected supportive shares: theta_1 among
    the accounts of the cell with a prior tie and theta_0 among those without, each the
    account-level estimate of :func:`corrected_shares` restricted to its group (first term: the
    group's account decisions; rectifier: the group's wholly coded accounts, Hajek-weighted).
    ``OR = theta_1 (1 - theta_0) / (theta_0 (1 - theta_1))``; the prior-tie share of supporters is
    ``theta_1 n_1 / (theta_1 n_1 + theta_0 n_0)`` (n_g accounts in group g). The interval:
    the accounts of the cell resampled within their design group, both groups' terms recomputed
    on each resample (percentile; resamples where the ratio is undefined are dropped and
    counted). ``leave_one_out``: the smallest and largest odds ratio with one disagreeing wholly
    coded account left out of its group's rectifier (:func:`leave_one_out`), when the cell has 1
    to :data:`LEAVE_ONE_OUT_MAX_DISAGREE` of them. METHODS.md, "Supporter composition".
    """
    frame = _coded_frame(units)
    u = frame[(frame["side"] == side) & (frame["window"] == window)]
    if u.empty:
        return None
    m, _ = _account_matrix(u)
    accounts = pd.factorize(u["account"], sort=True)[1]
    t = pd.Series(tie, dtype=bool).reindex(accounts, fill_value=False).to_numpy(dtype="float64")
    b = _WINDOWS.index(window) * _BLOCK
    key = f"account|{window}"

    def figures(tot1: np.ndarray, tot0: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            s1 = np.clip(_stats(tot1)[f"{key}|{kind}"][:, 0], 0.0, 1.0)
            s0 = np.clip(_stats(tot0)[f"{key}|{kind}"][:, 0], 0.0, 1.0)
            n1, n0 = tot1[:, b + 11], tot0[:, b + 11]
            odds = (s1 * (1 - s0)) / (s0 * (1 - s1))
            share = s1 * n1 / (s1 * n1 + s0 * n0)
        return odds, share

    tot1, tot0 = (t @ m)[None, :], ((1 - t) @ m)[None, :]
    if tot1[0, b + 15] <= 0 or tot0[0, b + 15] <= 0 or tot1[0, b + 11] <= 0:
        return None
    odds, share = figures(tot1, tot0, "corrected")
    naive_odds, naive_share = figures(tot1, tot0, "naive")
    prof, freq = _unique_rows(np.column_stack([m, t]))
    p, tp = prof[:, :-1], prof[:, -1]
    rng = np.random.default_rng([int(seed), zlib.crc32(f"prior_tie_odds_ratio/{side}".encode())])
    draws = _stratified_draws(prof[:, 3 * _BLOCK], freq, n_boot, rng)
    b_tie, b_none = draws @ (p * tp[:, None]), draws @ (p * (1 - tp)[:, None])
    b_odds, b_share = figures(b_tie, b_none, "corrected")
    lo, hi = _ci(b_odds, confidence)
    s_lo, s_hi = _ci(b_share, confidence)

    def finite(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    out: dict[str, Any] = {
        "value": finite(odds[0]),
        "low": lo,
        "high": hi,
        "naive": finite(naive_odds[0]),
        "confidence": confidence,
        "prior_tie_share": {
            "value": finite(share[0]),
            "low": s_lo,
            "high": s_hi,
            "naive": finite(naive_share[0]),
        },
        "tie_accounts": int(tot1[0, b + 11]),
        "no_tie_accounts": int(tot0[0, b + 11]),
        **_coded_accounts(m, b),
        "undefined_resamples": int((~np.isfinite(b_odds)).sum()),
        "method": ODDS_RATIO_METHOD,
    }
    rows = _disagreeing(m, b)
    if 1 <= len(rows) <= LEAVE_ONE_OUT_MAX_DISAGREE:
        values = []
        for r in rows:
            g1, g0 = tot1.copy(), tot0.copy()
            g = g1 if t[r] > 0 else g0
            g[0, b + 12 : b + 16] -= m[r, b + 12 : b + 16]
            if g[0, b + 15] <= 0:  # its group's only coded account: nothing left to correct
                continue
            v = figures(g1, g0, "corrected")[0][0]
            if math.isfinite(v):
                values.append(float(v))
        if values:
            out["leave_one_out"] = {
                "accounts": len(values),
                "smallest": min(values),
                "largest": max(values),
            }
    return out


def validation_file(stance_csv: str | Path) -> Path:
    """Return where the validation of a stance CSV goes: ``stance.csv -> stance.validation.json``.

    Examples
    --------
    >>> validation_file("out/stance.csv").as_posix()
    'out/stance.validation.json'
    """
    p = Path(stance_csv)
    return p.with_name(f"{p.stem}.validation.json")
