"""Roles of accounts (media, professional, ...) and attention and first mention by role."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..schema import (
    AccountCol,
    Role,
)
from ..stance import (
    Lexicon,
)
from ..windows import Windows
from .common import _C, _SUP, _WINDOWS, _obj, not_measured
from .shares import (
    _WINDOW_CODE,
    _count,
    _side_rows,
    _weight,
    account_stance_counts,
    majority_stance,
)

# ---- roles ---------------------------------------------------------------------------------------


def account_roles(
    accounts: pd.DataFrame | None,
    lexicon: Lexicon,
    handles: Iterable[str] = (),
    institution: Iterable[str] = (),
) -> pd.Series:
    """Return each account's role: the accounts table's role first, then bio keywords.

    Keywords come from the lexicon's ``[roles]`` section, checked in order (institution,
    media, journalist, professional); a bio with none of them is a citizen; an account with no
    bio (or not in the accounts table) is unknown, except the study's institution handles.

    Examples
    --------
    >>> from netsupport.stance import load_lexicon
    >>> acc = pd.DataFrame({"handle": ["a", "b", "c"], "role": [None, None, "media"],
    ...     "description": ["Crime reporter at the Echo", "dad, runner", None]})
    >>> account_roles(acc, load_lexicon()).tolist()
    ['journalist', 'citizen', 'media']
    """
    handles = set(handles)
    if accounts is not None and not accounts.empty:
        acc = accounts.drop_duplicates(AccountCol.HANDLE, keep="last").set_index(AccountCol.HANDLE)
        handles |= set(acc.index)
    else:
        acc = pd.DataFrame(columns=[AccountCol.ROLE, AccountCol.DESCRIPTION])
    idx = pd.Index(sorted(h for h in handles if isinstance(h, str)), name="handle")
    valid = {r.value for r in Role} - {Role.UNKNOWN.value}
    given = acc[AccountCol.ROLE].reindex(idx) if AccountCol.ROLE in acc else pd.Series(index=idx)
    given = given.astype(object).where(given.astype(object).isin(valid))
    bio = (
        acc[AccountCol.DESCRIPTION].reindex(idx).astype(object)
        if AccountCol.DESCRIPTION in acc
        else pd.Series(None, index=idx, dtype=object)
    )
    out = pd.Series(Role.UNKNOWN.value, index=idx, dtype=object)
    has_bio = bio.notna() & (bio.astype(str).str.strip() != "")
    out[has_bio.to_numpy(dtype=bool)] = Role.CITIZEN.value
    low = bio.fillna("").astype(str).str.lower()
    decided = pd.Series(False, index=idx)
    for role, words in lexicon.roles:
        if not words:
            continue
        pat = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
        hit = (low.str.contains(pat, regex=True) & has_bio & ~decided).to_numpy(dtype=bool)
        out[hit] = role
        decided |= hit
    out[out.index.isin(list(institution)) & (out == Role.UNKNOWN.value)] = Role.INSTITUTION.value
    have_given = given.notna().to_numpy(dtype=bool)
    out[have_given] = given[have_given]
    return out.rename("role")


def roles_attention(
    units: pd.DataFrame, roles: pd.Series, side: str, windows: Windows
) -> dict[str, Any]:
    """Return attention to ``side`` by account role, and when each role first addressed it.

    Per role (in :class:`Role` order): accounts and interactions per window, the role's share of
    crisis interactions, its first crisis post (``first_mention``, ISO time, and
    ``hours_after_crisis_start``) and the share of its crisis accounts that were supportive.
    """
    cell = _side_rows(units, side)
    if cell.empty:
        return not_measured(f"no posts addressed the {side} side")
    codes, uniq = pd.factorize(_obj(cell["source"]))
    role = roles.reindex(uniq).fillna(Role.UNKNOWN.value).to_numpy(dtype=object)[codes]
    window = cell["_window"].to_numpy()
    wt = _weight(cell)
    wt = np.ones(len(cell), dtype=np.int64) if wt is None else wt
    in_crisis = window == _WINDOW_CODE[_C]
    n_crisis = int(wt[in_crisis].sum())
    maj = majority_stance(account_stance_counts(cell[in_crisis]))
    out: dict[str, Any] = {}
    for r in Role:
        is_r = role == r.value
        if not is_r.any():
            continue
        entry: dict[str, Any] = {}
        for w in _WINDOWS:
            x = is_r & (window == _WINDOW_CODE[w])
            entry[w] = {"interactions": int(wt[x].sum()), "accounts": len(np.unique(codes[x]))}
        rcc = cell[is_r & in_crisis]
        if rcc.empty:
            entry["first_mention"] = not_measured(f"no {r.value} account in the crisis window")
            entry["crisis_share"] = 0.0 if n_crisis else not_measured("no crisis posts")
            entry["supportive_account_share"] = not_measured(
                f"no {r.value} account in the crisis window"
            )
        else:
            first = pd.to_datetime(rcc["created_at"], utc=True).min()
            entry["first_mention"] = {
                "at": first,
                "hours_after_crisis_start": (first - windows.crisis_start).total_seconds() / 3600,
            }
            entry["crisis_share"] = _count(rcc) / n_crisis
            accs = rcc["source"].unique()
            entry["supportive_account_share"] = float((maj.reindex(accs) == _SUP).mean())
        out[r.value] = entry
    return out
