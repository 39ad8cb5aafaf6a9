"""Amplifiers (PageRank) and proxies that carried support while the focal account was silent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..graph_measures import pagerank_from_edges as pagerank_from_edges  # (re-exported)
from ..schema import (
    PostCol,
    Role,
    Window,
    normalise_handle,
)
from ..windows import Windows
from .common import _C, _FOCAL, _SUP, AMPLIFIER_KINDS, _measured, not_measured
from .shares import _STANCE_CODE, _cell, _side_rows, account_stance_counts, majority_stance

# ---- amplifiers and proxies ----------------------------------------------------------------------


def amplifiers(
    pagerank: pd.Series,
    units: pd.DataFrame,
    *,
    exclude: Iterable[str] = (),
    roles: pd.Series | None = None,
    membership: pd.Series | None = None,
    top_n: int = 10,
) -> pd.DataFrame:
    """Return the top accounts by PageRank on the crisis repost/quote/mention graph.

    The focal and institution handles (``exclude``) are left out of the list: they are the
    subjects, not the amplifiers. Ties in PageRank are broken by handle.

    Returns
    -------
    DataFrame
        Columns rank, handle, pagerank, role, community, crisis_posts_about_focal, stance
        (majority stance towards the focal account in the crisis, or empty).
    """
    pr = pagerank.drop(labels=[h for h in exclude if h in pagerank.index])
    df = pd.DataFrame({"handle": pr.index.astype(object), "pagerank": pr.to_numpy(dtype=float)})
    df = df.sort_values(["pagerank", "handle"], ascending=[False, True], kind="mergesort")
    df = df.head(top_n).reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    crisis = _cell(units, _FOCAL, _C)
    counts = account_stance_counts(crisis)
    maj = majority_stance(counts)
    df["role"] = df["handle"].map(roles) if roles is not None else Role.UNKNOWN.value
    df["role"] = df["role"].fillna(Role.UNKNOWN.value)
    comm = df["handle"].map(membership) if membership is not None else pd.Series(np.nan, df.index)
    df["community"] = pd.array(comm.to_numpy(dtype=float, na_value=np.nan), dtype="Int64")
    df["crisis_posts_about_focal"] = df["handle"].map(counts.sum(axis=1)).fillna(0).astype(np.int64)
    df["stance"] = df["handle"].map(maj).astype(object)
    return df


def focal_silence(
    posts: pd.DataFrame | None,
    focal: Iterable[str],
    windows: Windows,
    *,
    any_posts: bool | None = None,
) -> dict[str, Any]:
    """Return the focal account's longest posting gap overlapping the crisis.

    Gaps are between consecutive posts by any focal handle inside the study period
    ``[baseline_start, after_end)``, whose ends also bound the first and last gap (a gap reaching
    them is *censored*: the silence may be longer than the data show).

    Returns
    -------
    dict
        ``start, end, hours, crisis_overlap_hours, censored_start, censored_end, focal_posts``;
        not measured when the data hold no post by the focal account.

    ``posts`` may hold only the focal account's posts when ``any_posts`` says whether the data
    hold any post at all (the Dask engine passes just those).
    """
    focal = set(focal)
    if any_posts is None:
        any_posts = posts is not None and not posts.empty
    if not any_posts:
        return not_measured("the data hold no posts")
    mine = posts[posts[PostCol.AUTHOR].isin(focal)] if posts is not None else posts
    if mine is None:
        mine = pd.DataFrame(columns=[PostCol.AUTHOR, PostCol.CREATED_AT])
    if mine.empty:
        return not_measured(
            "the data hold no post by the focal account, so its silence cannot be located"
        )
    ts = pd.to_datetime(mine[PostCol.CREATED_AT], utc=True)
    ts = ts[(ts >= windows.baseline_start) & (ts < windows.after_end)]
    points = np.unique(
        np.concatenate(
            [
                np.array([windows.baseline_start.value, windows.after_end.value], dtype=np.int64),
                ts.astype("datetime64[ns, UTC]").array.asi8,
            ]
        )
    )
    starts, ends = points[:-1], points[1:]
    cs, ce = windows.crisis_start.value, windows.crisis_end.value
    overlap = (starts < ce) & (ends > cs)
    if not overlap.any():  # pragma: no cover - the points span the whole period
        return not_measured("no posting gap overlaps the crisis")
    lengths = np.where(overlap, ends - starts, -1)
    i = int(np.argmax(lengths))  # first (earliest) of the longest
    start, end = pd.Timestamp(starts[i], tz="UTC"), pd.Timestamp(ends[i], tz="UTC")
    ov = min(end.value, ce) - max(start.value, cs)
    return {
        "start": start,
        "end": end,
        "hours": (end - start).total_seconds() / 3600.0,
        "crisis_overlap_hours": ov / 3.6e12,
        "censored_start": bool(starts[i] == windows.baseline_start.value),
        "censored_end": bool(ends[i] == windows.after_end.value),
        "focal_posts": len(ts),
    }


def proxy_reach(pairs: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """Distinct accounts (not the author) that answered each account's supportive posts.

    ``pairs`` holds the answering posts' ``author`` and ``target_post_id``; ``units`` the
    supportive posts' ``post_id`` and ``source``. Returns the count per source (sources nobody
    answered are absent).

    Examples
    --------
    >>> pairs = pd.DataFrame({"author": ["b", "c", "c", "a"], "target_post_id": ["1"] * 4})
    >>> proxy_reach(pairs, pd.DataFrame({"post_id": ["1"], "source": ["a"]})).to_dict()
    {'a': 2}
    """
    if units.empty or pairs.empty:
        return pd.Series(dtype="int64", name=PostCol.AUTHOR.value)
    hits = pairs.merge(
        units[["post_id", "source"]],
        left_on=PostCol.TARGET_POST_ID,
        right_on="post_id",
        how="inner",
    )
    hits = hits[hits[PostCol.AUTHOR] != hits["source"]]
    return hits.groupby("source")[PostCol.AUTHOR].nunique()


def proxies(
    units: pd.DataFrame,
    posts: pd.DataFrame,
    silence: Mapping[str, Any],
    *,
    focal: Iterable[str] = (),
    declared: Iterable[str] = (),
    top_n: int = 10,
    references: bool | None = None,
    reach: pd.Series | None = None,
) -> dict[str, Any]:
    """Return the accounts whose supportive posts about the focal account reached most accounts
    while the focal account was silent.

    Reach of an account: the distinct other accounts that replied to, reposted or quoted (any
    post whose ``target_post_id`` is) one of its supportive posts about the focal account made
    during the silence ``[start, end)``. Ranked by reach, then supportive posts, then handle;
    accounts with no reach are not proxies.

    Returns
    -------
    dict
        ``{"top": [{rank, handle, reach, supportive_posts, declared}], "candidates",
        "supportive_posts", "declared": [{handle, reach, supportive_posts}]}``; not measured
        when the silence is unknown or no post in the data refers to another post by id.

    ``references`` (whether any post refers to another by id) and ``reach`` (per account) may be
    given instead of being computed from ``posts``: the Dask engine computes them in parallel.
    """
    if not _measured(silence):
        return not_measured(silence["reason"])
    if references is None:
        references = (
            posts is not None and not posts.empty and posts[PostCol.TARGET_POST_ID].notna().any()
        )
    if not references:
        return not_measured(
            "no post in the data refers to another post by id (target_post_id), so reach "
            "cannot be measured"
        )
    focal = set(focal)
    start, end = pd.Timestamp(silence["start"]), pd.Timestamp(silence["end"])
    u = _side_rows(units, _FOCAL)
    u = u[(u["_stance"].to_numpy() == _STANCE_CODE[_SUP]) & ~u["source"].isin(focal).to_numpy()]
    ts = pd.to_datetime(u["created_at"], utc=True)
    u = u[((ts >= start) & (ts < end)).to_numpy(dtype=bool)]
    n_posts = u.groupby("source").size()
    if reach is None:
        reach = proxy_reach(posts[[PostCol.AUTHOR, PostCol.TARGET_POST_ID]].dropna(), u)
    declared = [h for h in (normalise_handle(d) for d in declared) if h]
    table = pd.DataFrame({"supportive_posts": n_posts})
    table["reach"] = reach.reindex(table.index, fill_value=0).astype(np.int64)
    table.index.name = "handle"
    table = table.reset_index()
    ranked = table[table["reach"] > 0].sort_values(
        ["reach", "supportive_posts", "handle"], ascending=[False, False, True], kind="mergesort"
    )
    top = ranked.head(top_n).reset_index(drop=True)
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    top["declared"] = top["handle"].isin(declared)
    decl = [
        {
            "handle": h,
            "reach": int(reach.get(h, 0)),
            "supportive_posts": int(n_posts.get(h, 0)),
        }
        for h in declared
    ]
    return {
        "top": top[["rank", "handle", "reach", "supportive_posts", "declared"]].to_dict("records"),
        "candidates": len(ranked),
        "supportive_posts": len(u),
        "declared": decl,
        "method": "reach = distinct accounts replying to, reposting or quoting the supportive "
        "posts made during the silence",
    }


def conversation_rows(inter: pd.DataFrame, study: Any) -> pd.DataFrame:
    """Return the interactions of posts in the conversation about the two sides.

    A post is in the conversation when one of its interactions targets a focal or institution
    handle (a reply, mention, repost or quote of them, or a campaign marker): all its
    interactions are kept, so a post that names @lane and @echo gives its author's edge to @echo
    too. Posts that never address either side (the rest of the crisis chatter) are left out.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> i = pd.DataFrame({"post_id": ["1", "1", "2"], "source": ["a", "a", "b"],
    ...     "target": ["lane", "echo", "echo"]})
    >>> conversation_rows(i, SimpleNamespace(focal=("lane",), institution=()))["target"].tolist()
    ['lane', 'echo']
    """
    sides = {*study.focal, *study.institution}
    about = inter["target"].isin(sides).to_numpy(dtype=bool)
    posts = pd.unique(inter["post_id"].to_numpy(dtype=object)[about])
    keep = inter["post_id"].isin(posts).to_numpy(dtype=bool) & inter["post_id"].notna().to_numpy()
    return inter[keep | about]


def crisis_pagerank(inter: pd.DataFrame, study: Any) -> tuple[pd.Series | None, dict[str, Any]]:
    """PageRank on the crisis repost/quote/mention graph of the conversation about the sides
    (:func:`conversation_rows`), with the record of how it was made."""
    from .. import graph

    crisis = graph.window_interactions(inter, study.windows, Window.CRISIS)
    edges = graph.aggregate_edges(conversation_rows(crisis, study), kinds=AMPLIFIER_KINDS)
    return pagerank_from_edges(edges)
