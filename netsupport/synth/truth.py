"""The synthetic case as canonical tables, and the truth the generator planted in it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from ..schema import Role, Target, Window
from ..textsafe import jsonable
from .config import (
    _C,
    _CRI,
    _KIND_NAME,
    _MIXING,
    _NA,
    _NEU,
    _STANCE_NAME,
    _SUP,
    _WINDOWS,
    COMMUNITIES,
    FOCAL,
    INSTITUTION,
    MARKER,
    Case,
    SynthConfig,
)
from .world import _FOCAL_DISP, _SEG_NEW, _SEG_PRIOR

# ------------------------------------------------------------------------------------------------
# Planted truth
# ------------------------------------------------------------------------------------------------


def _iso(epoch_seconds: int) -> str:
    return np.datetime_as_string(np.datetime64(int(epoch_seconds), "s"), unit="s") + "Z"


def canonical_posts(case: Case) -> Any:
    """Return the case's posts as a canonical posts DataFrame (what a perfect import yields).

    Examples
    --------
    >>> from netsupport.synth import generate
    >>> case = generate(SynthConfig(seed=3, accounts=300, interactions=1000, days=3))
    >>> df = canonical_posts(case)
    >>> len(df), sorted(df["kind"].unique())
    (1000, ['post', 'quote', 'reply', 'repost'])
    """
    import pandas as pd

    p, h = case.posts, np.array(case.handles, dtype=object)
    ent, n = p["entities"], len(p["id"])
    ref = p["ref"]
    has = ref >= 0
    target = np.full(len(ref), None, dtype=object)
    target[has] = h[p["author"][ref[has]]]
    target_post = np.full(len(ref), None, dtype=object)
    target_post[has] = p["id"][ref[has]].astype(str)
    return pd.DataFrame(
        {
            "post_id": p["id"].astype(str),
            "author": h[p["author"]],
            "author_id": case.account_ids[p["author"]].astype(str),
            "created_at": pd.to_datetime(p["ts"], unit="s", utc=True),
            "text": p["text"],
            "kind": np.array(_KIND_NAME, dtype=object)[p["kind"]],
            "target_post_id": target_post,
            "target_author": target,
            "mentions": [
                " ".join(dict.fromkeys(h[a] for _, _, a in ent.mentions(i))) for i in range(n)
            ],
            "hashtags": [
                " ".join(dict.fromkeys(t.lower() for _, _, t in ent.hashtags(i))) for i in range(n)
            ],
            "lang": p["lang"],
        }
    )


def _majority(counts: np.ndarray) -> np.ndarray:
    """Majority stance code per row of (neutral, supportive, critical) counts; ties are neutral."""
    top = counts.max(axis=1, keepdims=True)
    n_top = (counts == top).sum(axis=1)
    return np.where(n_top == 1, counts.argmax(axis=1), _NEU)


def _units(case: Case) -> dict[str, np.ndarray]:
    """Return one row per (post, side) addressing the focal account or the institution.

    A post addresses a side when it replies to, reposts or quotes a post of that side, mentions
    it, or (focal side) carries the campaign marker, and its author is not on that side: the
    units netsupport.interactions + netsupport.support derive from the same posts (a test checks
    the two agree). Columns: ``post`` (index), ``side`` (0 focal, 1 institution).
    """
    p = case.posts
    author, ref = p["author"], p["ref"]
    ref_author = np.where(ref >= 0, author[np.maximum(ref, 0)], -1)
    direct = (ref >= 0) & (ref_author != author)
    m_post, m_acc = p["entities"].mention_pairs()
    m_ok = m_acc != author[m_post]
    out_post, out_side = [], []
    for side, who in ((0, 0), (1, 1)):
        hit = direct & (ref_author == who)
        hit[m_post[m_ok & (m_acc == who)]] = True
        if side == 0:
            hit |= p["has_marker"]
        hit &= author != who
        idx = np.flatnonzero(hit)
        out_post.append(idx)
        out_side.append(np.full(len(idx), side, dtype=np.int8))
    post = np.concatenate(out_post)
    side = np.concatenate(out_side)
    order = np.lexsort((side, post))
    return {"post": post[order], "side": side[order]}


def _interaction_rows(case: Case) -> int:
    """Number of interaction rows netsupport derives from the posts (markers included)."""
    p = case.posts
    author, ref = p["author"], p["ref"]
    ref_author = np.where(ref >= 0, author[np.maximum(ref, 0)], -1)
    direct = (ref >= 0) & (ref_author != author)
    m_post, m_acc = p["entities"].mention_pairs()
    keep = (m_acc != author[m_post]) & ~(direct[m_post] & (m_acc == ref_author[m_post]))
    distinct = len(np.unique(m_post[keep] * len(case.handles) + m_acc[keep]))
    marker = int((p["has_marker"] & (author != 0)).sum())
    return int(direct.sum()) + distinct + marker


def _shares(source: np.ndarray, stance: np.ndarray) -> dict[str, Any]:
    """Post- and account-level stance shares; an account's stance is its majority (ties neutral)."""
    post_n = np.bincount(stance, minlength=3)
    accounts, inv = np.unique(source, return_inverse=True)
    counts = np.zeros((len(accounts), 3), dtype=np.int64)
    np.add.at(counts, (inv, stance), 1)
    maj = _majority(counts) if len(counts) else np.zeros(0, dtype=np.int64)
    acc_n = np.bincount(maj, minlength=3)
    tot_p, tot_a = max(int(post_n.sum()), 1), max(len(maj), 1)
    ties = int(((counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
    return {
        "post_level": {
            "n": int(post_n.sum()),
            **{_STANCE_NAME[s]: post_n[s] / tot_p for s in (_NEU, _SUP, _CRI)},
            "net_support": (post_n[_SUP] - post_n[_CRI]) / tot_p,
        },
        "account_level": {
            "n": len(maj),
            **{_STANCE_NAME[s]: acc_n[s] / tot_a for s in (_NEU, _SUP, _CRI)},
            "net_support": (acc_n[_SUP] - acc_n[_CRI]) / tot_a,
            "ties": ties,
        },
    }


def planted_parameters(cfg: SynthConfig) -> dict[str, Any]:
    """Return the parameters the generator planted: the truth of the simulation study.

    These are inputs of the generator, not measurements of what it generated: a simulation that
    compares netsupport's estimates with them is not circular (bench/simulation.py).

    Examples
    --------
    >>> p = planted_parameters(SynthConfig(lift=1.0, tie_effect=False))
    >>> p["lift"], p["tie_effect"]["difference"], p["role_order"]["media_delay_hours"]
    (1.0, 0.0, 24.0)
    """
    prior = _FOCAL_DISP[_C][_SEG_PRIOR][1]
    new = _FOCAL_DISP[_C][_SEG_NEW if cfg.tie_effect else _SEG_PRIOR][1]
    return {
        "lift": float(cfg.lift),
        "tie_effect": {
            "planted": bool(cfg.tie_effect),
            "supportive_given_prior_tie": prior,
            "supportive_given_no_tie": new,
            "difference": round(prior - new, 6),
            "note": "crisis disposition towards the focal account of accounts outside the "
            "hostile community and the media (those keep their own dispositions)",
        },
        "role_order": {
            "planted": bool(cfg.role_order),
            "media_delay_hours": 24.0 if cfg.role_order else 0.0,
        },
        "institution_drop": {
            "planted": bool(cfg.institution_drop),
            "net_support_change": None if cfg.institution_drop else 0.0,
            "note": "planted through dispositions conditional on the focal one; no closed-form "
            "value of the change when planted, 0 when not",
        },
    }


def _truth(case: Case) -> dict[str, Any]:
    """Everything planted: ``parameters`` (the generator's inputs, the simulation's truth), and
    the rest realised on the generated posts with netsupport's definitions (checks of the
    generator and of recovery on one case; not a truth to score netsupport's estimators by)."""
    cfg, p, win = case.config, case.posts, case.windows
    h = np.array(case.handles, dtype=object)
    units = _units(case)
    post, side = units["post"], units["side"]
    planted = np.where(side == 0, p["sf"][post], p["si"][post]).astype(np.int64)
    unplanted = int((planted == _NA).sum())
    planted[planted == _NA] = _NEU
    ts = p["ts"][post]
    source = p["author"][post]
    edges = [int(x.timestamp()) for x in (win.baseline_start, win.crisis_start, win.crisis_end)]
    edges.append(int(win.after_end.timestamp()))
    wcode = np.searchsorted(np.array(edges), ts, side="right") - 1  # 0,1,2 inside
    sides = (Target.FOCAL.value, Target.INSTITUTION.value)

    attention: dict[str, Any] = {}
    stance: dict[str, Any] = {}
    reputation: dict[str, Any] = {}
    for k, side_name in enumerate(sides):
        a: dict[str, Any] = {}
        st: dict[str, Any] = {}
        for w_i, w in enumerate(_WINDOWS):
            sel = (side == k) & (wcode == w_i)
            days = win.days(w)
            a[w.value] = {
                "interactions": int(sel.sum()),
                "accounts": len(np.unique(source[sel])),
                "days": days,
                "interactions_per_day": sel.sum() / days,
            }
            st[w.value] = _shares(source[sel], planted[sel])
        base_rate = max(a[Window.BASELINE.value]["interactions_per_day"], 1e-12)
        a["lift"] = a[Window.CRISIS.value]["interactions_per_day"] / base_rate
        a["after_ratio"] = a[Window.AFTER.value]["interactions_per_day"] / base_rate
        attention[side_name], stance[side_name] = a, st
        reputation[side_name] = {
            level: st[Window.CRISIS.value][level]["net_support"]
            - st[Window.BASELINE.value][level]["net_support"]
            for level in ("post_level", "account_level")
        }
    attention[Target.FOCAL.value]["lift_parameter"] = cfg.lift

    # crisis supporters (majority supportive) and their prior ties: a follow, or any baseline
    # interaction with the focal account in either direction
    fc = (side == 0) & (wcode == 1)
    accounts, inv = np.unique(source[fc], return_inverse=True)
    counts = np.zeros((len(accounts), 3), dtype=np.int64)
    np.add.at(counts, (inv, planted[fc]), 1)
    supporters = accounts[_majority(counts) == _SUP] if len(accounts) else accounts
    tied = np.zeros(len(h), dtype=bool)
    tied[case.focal_followers] = True
    tied[source[(side == 0) & (wcode == 0)]] = True
    author, ref = p["author"], p["ref"]
    p_w = np.searchsorted(np.array(edges), p["ts"], side="right") - 1
    by_focal = (author == 0) & (p_w == 0)
    tied[author[ref[by_focal & (ref >= 0)]]] = True
    m_post, m_acc = p["entities"].mention_pairs()
    tied[m_acc[by_focal[m_post]]] = True
    n_sup = len(supporters)
    n_tied = int(tied[supporters].sum())

    # first crisis post addressing the focal account, by role
    cs = int(win.crisis_start.timestamp())
    first: dict[str, Any] = {}
    roles_fc = case.roles[source[fc]]
    for r in Role:
        t = ts[fc][roles_fc == r.value]
        if len(t):
            first[r.value] = {
                "at": _iso(int(t.min())),
                "hours_after_crisis_start": (t.min() - cs) / 3600,
            }
    media_first = min(
        (
            first[r]["hours_after_crisis_start"]
            for r in (Role.MEDIA.value, Role.JOURNALIST.value)
            if r in first
        ),
        default=None,
    )
    citizen_first = first.get(Role.CITIZEN.value, {}).get("hours_after_crisis_start")

    # the focal account's silence, and the reach of supportive posts about it during the silence
    focal_ts = np.sort(p["ts"][author == 0])
    ce = int(win.crisis_end.timestamp())
    last_before = int(focal_ts[focal_ts < cs].max())
    first_after = int(focal_ts[focal_ts >= ce].min())
    sup_post = np.zeros(len(author), dtype=bool)
    sup_post[post[(side == 0) & (planted == _SUP) & (ts >= last_before) & (ts < first_after)]] = (
        True
    )
    resp = np.flatnonzero(ref >= 0)
    resp = resp[sup_post[ref[resp]] & (author[resp] != author[ref[resp]])]
    pairs = np.unique(author[ref[resp]] * len(h) + author[resp])
    reach = np.bincount(pairs // len(h), minlength=len(h))
    top = np.lexsort((h.astype(str), -reach))[:5]

    comm_names = np.array(COMMUNITIES, dtype=object)[case.community]
    roles, role_n = np.unique(case.roles.astype(str), return_counts=True)
    pid = p["id"].astype(str)
    return jsonable(
        {
            "generator": {
                "module": "netsupport.synth",
                "config": asdict(cfg),
                "note": "synthetic data: every account, post and number here is made up",
            },
            "parameters": planted_parameters(cfg),
            "study": {
                "focal": FOCAL,
                "institution": INSTITUTION,
                "markers": ["#" + MARKER],
                "proxies": [case.handles[i] for i in case.proxies],
            },
            "windows": win.as_dict(),
            "counts": {
                "accounts": cfg.accounts,
                "posts": len(author),
                "interaction_rows": _interaction_rows(case),
                "units": len(post),
                "units_without_planted_stance": unplanted,
                "focal_followers": len(case.focal_followers),
                "focal_following": len(case.focal_following),
                "institution_followers": len(case.institution_followers),
            },
            "files": {
                "jsonl_posts": int(p["in_jsonl"].sum()),
                "archive_posts": int(p["in_archive"].sum()),
                "nodexl_posts": int(p["in_nodexl"].sum()),
                "in_jsonl_and_archive": int((p["in_jsonl"] & p["in_archive"]).sum()),
                "in_jsonl_and_nodexl": int((p["in_jsonl"] & p["in_nodexl"]).sum()),
                "archive_only": int((p["in_archive"] & ~p["in_jsonl"]).sum()),
                "nodexl_only": int((p["in_nodexl"] & ~p["in_jsonl"]).sum()),
                "unique_posts": len(author),
            },
            "communities": {
                "names": list(COMMUNITIES),
                "sizes": {c: int((case.community == i).sum()) for i, c in enumerate(COMMUNITIES)},
                "mixing": _MIXING.tolist(),
            },
            "roles": {str(r): int(k) for r, k in zip(roles, role_n, strict=True)},
            "attention": attention,
            "stance": stance,
            "reputational_change": reputation,
            "composition": {
                "supporters": n_sup,
                "prior_tie": n_tied,
                "prior_tie_share": n_tied / n_sup if n_sup else None,
            },
            "first_mention": {
                "crisis_by_role": first,
                "media_or_journalist_hours": media_first,
                "citizen_hours": citizen_first,
                "media_after_citizens": (
                    media_first is not None
                    and citizen_first is not None
                    and media_first > citizen_first
                ),
            },
            "silence": {
                "last_post_before": _iso(last_before),
                "first_post_after": _iso(first_after),
            },
            "proxies": {
                "handles": [case.handles[i] for i in case.proxies],
                "reach_top": [
                    {"handle": case.handles[i], "reach": int(reach[i])} for i in top if reach[i] > 0
                ],
            },
            "community": dict(sorted(zip(case.handles, comm_names.tolist(), strict=True))),
            "post_stance": {
                name: dict(
                    sorted(
                        zip(
                            pid[post[side == k]].tolist(),
                            [_STANCE_NAME[int(x)] for x in planted[side == k]],
                            strict=True,
                        )
                    )
                )
                for k, name in enumerate(sides)
            },
        }
    )
