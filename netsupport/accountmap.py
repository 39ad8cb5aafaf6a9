"""Link one person's accounts across platforms: the study's optional ``account_map`` CSV.

Accounts are never merged across platforms by handle (:mod:`netsupport.io.platforms`): the same
name on two platforms may be two people. A study that knows better lists the accounts of one
person in a CSV with the columns ``platform,handle,person``::

    platform,handle,person
    twitter,inspector_lane,lane
    mastodon,lane@police.social,lane
    telegram,user1001,lane

Every account of a person is then counted as one, under the store key of the person's first
row (``inspector_lane`` here): in posts (author, target, mentions), interactions, follows and
accounts, before stance, communities and the support measures. Interactions that become a
person's edge to themself (the inspector's Mastodon account mentioning his Twitter account) are
dropped, as self-edges are everywhere else. Posts keep their platform, so the per-platform counts
of the report are not changed by the map.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "map.csv"
>>> _ = p.write_text("platform,handle,person\\ntwitter,Inspector_Lane,lane\\n"
...                  "mastodon,@lane@police.social,lane\\n")
>>> load_account_map(p)
{'mastodon:lane@police.social': 'inspector_lane'}
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputFileError
from .io.platforms import PLATFORMS, qualify
from .schema import AccountCol, FollowCol, InteractionCol, PostCol, Table

__all__ = ["apply_account_map", "load_account_map", "study_account_map"]

_COLUMNS = ("platform", "handle", "person")


def load_account_map(path: str | Path) -> dict[str, str]:
    """Return ``{store key: the person's key}`` for every account that is not its person's key.

    Raises
    ------
    InputFileError
        The file cannot be read, lacks a column, names an unknown platform, an empty handle or
        person, or lists one account for two people (the message names the line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read account map ({exc})") from None
    rows = csv.reader(text.splitlines())
    header = [c.strip().lower() for c in next(rows, [])]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise InputFileError(
            path, f"account map needs the columns platform,handle,person; missing {missing}"
        )
    at = {c: header.index(c) for c in _COLUMNS}
    person_key: dict[str, str] = {}
    owner: dict[str, tuple[str, int]] = {}  # store key -> (person, line)
    out: dict[str, str] = {}
    for line, row in enumerate(rows, 2):
        if not row or not "".join(row).strip():
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        platform = cells["platform"].lower()
        if platform not in PLATFORMS:
            raise InputFileError(
                f"{path}:{line}",
                f"unknown platform {cells['platform']!r}; expected one of {', '.join(PLATFORMS)}",
            )
        if not cells["handle"].lstrip("@") or not cells["person"]:
            raise InputFileError(f"{path}:{line}", "a row needs a handle and a person")
        key = qualify(platform, cells["handle"])
        person = cells["person"]
        if key in owner and owner[key][0] != person:
            raise InputFileError(
                f"{path}:{line}",
                f"{key} is listed for {owner[key][0]!r} (line {owner[key][1]}) and {person!r}",
            )
        owner[key] = (person, line)
        canonical = person_key.setdefault(person, key)
        if key != canonical:
            out[key] = canonical
    return out


def study_account_map(study: Any) -> dict[str, str]:
    """Return :func:`load_account_map` of a study's ``account_map``, ``{}`` when it has none
    (a :class:`netsupport.stance.StanceSpec` of command-line options has none either)."""
    path = getattr(study, "account_map", None)
    return load_account_map(path) if path is not None else {}


def _map_column(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    arr = values.to_numpy(dtype=object)
    hit = pd.Series(arr).isin(list(mapping)).to_numpy()
    if not hit.any():
        return values
    arr = arr.copy()
    arr[hit] = [mapping[v] for v in arr[hit]]
    return pd.Series(arr, index=values.index, dtype=values.dtype)


def _map_mentions(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    keys = list(mapping)
    arr = values.to_numpy(dtype=object)
    out = arr.copy()
    for i, v in enumerate(arr):
        if isinstance(v, str) and any(k in v for k in keys):
            out[i] = " ".join(dict.fromkeys(mapping.get(h, h) for h in v.split()))
    return pd.Series(out, index=values.index, dtype=values.dtype)


def apply_account_map(
    tables: Mapping[str, pd.DataFrame], mapping: Mapping[str, str]
) -> dict[str, pd.DataFrame]:
    """Return the tables with every mapped account replaced by its person's key.

    Examples
    --------
    >>> t = {"interactions": pd.DataFrame({"source": ["a", "mastodon:b@h"],
    ...     "target": ["mastodon:b@h", "c"], "kind": ["mention", "reply"]})}
    >>> apply_account_map(t, {"mastodon:b@h": "a"})["interactions"].values.tolist()
    [['a', 'c', 'reply']]
    """
    out = dict(tables)
    if not mapping:
        return out
    posts = out.get(Table.POSTS)
    if posts is not None and len(posts):
        posts = posts.copy()
        for col in (PostCol.AUTHOR, PostCol.TARGET_AUTHOR):
            if col in posts:
                posts[col] = _map_column(posts[col], mapping)
        if PostCol.MENTIONS in posts:
            posts[PostCol.MENTIONS] = _map_mentions(posts[PostCol.MENTIONS], mapping)
        out[Table.POSTS] = posts
    pairs = {
        Table.INTERACTIONS: (InteractionCol.SOURCE, InteractionCol.TARGET),
        Table.FOLLOWS: (FollowCol.FOLLOWER, FollowCol.FOLLOWEE),
    }
    for table, (a, b) in pairs.items():
        df = out.get(table)
        if df is None or not len(df):
            continue
        df = df.copy()
        df[a] = _map_column(df[a], mapping)
        df[b] = _map_column(df[b], mapping)
        keep = (df[a] != df[b]).to_numpy(dtype=bool) | df[a].isna().to_numpy()
        out[table] = df[keep].reset_index(drop=True) if not keep.all() else df
    accounts = out.get(Table.ACCOUNTS)
    if accounts is not None and len(accounts):
        mapped = accounts[AccountCol.HANDLE].isin(list(mapping)).to_numpy()
        # the person's own account row wins (role, name), then the mapped ones in table order
        order = np.argsort(mapped, kind="stable")
        accounts = accounts.iloc[order].copy()
        accounts[AccountCol.HANDLE] = _map_column(accounts[AccountCol.HANDLE], mapping)
        first = ~np.asarray(accounts[AccountCol.HANDLE].duplicated(keep="first"))
        out[Table.ACCOUNTS] = accounts[first].sort_index(kind="stable").reset_index(drop=True)
    return out
