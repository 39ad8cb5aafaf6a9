"""Generate the synthetic case in memory: accounts, the follow graph, then the posts."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..schema import Role
from ..windows import Windows
from .config import (
    _A,
    _B,
    _C,
    _CLI,
    _COMMUNITY_SHARE,
    _CRI,
    _EPOCH_SNOWFLAKE_MS,
    _HOS,
    _K_POST,
    _K_QUOTE,
    _K_REPLY,
    _K_REPOST,
    _MED,
    _MIXING,
    _NA,
    _NEU,
    _POL,
    _PUB,
    _SU,
    _SUP,
    COMMUNITIES,
    FOCAL,
    INSTITUTION,
    Case,
    SynthConfig,
)
from .texts import (
    _BIOS,
    _FIRST,
    _OUTLETS,
    _PHASE,
    _POOL_IDS,
    _STANCE_KEY,
    _SUR_A,
    _SUR_B,
    _SUR_C,
    _TAG_VARIANTS,
    _TEXT_LANG,
    _TOWNS,
    _assign_sources,
    _render,
)

# ------------------------------------------------------------------------------------------------
# Accounts and the follow graph
# ------------------------------------------------------------------------------------------------


def _community_sizes(n: int) -> np.ndarray:
    sizes = np.floor(_COMMUNITY_SHARE * n).astype(np.int64)
    sizes[_PUB] += n - sizes.sum()
    return sizes


def _make_handles(rng: np.random.Generator, community: np.ndarray, roles: np.ndarray) -> list[str]:
    n = len(community)
    first = rng.integers(len(_FIRST), size=n)
    sa = rng.integers(len(_SUR_A), size=n)
    sb = rng.integers(len(_SUR_B), size=n)
    sc = rng.integers(len(_SUR_C), size=n)
    pattern = rng.integers(6, size=n)
    digits = rng.integers(1, 100, size=n)
    town = rng.integers(len(_TOWNS), size=n)
    outlet = rng.integers(len(_OUTLETS), size=n)
    seen = {FOCAL, INSTITUTION}
    out: list[str] = []
    for i in range(n):
        sur = _SUR_A[sa[i]] + _SUR_B[sb[i]] + _SUR_C[sc[i]]
        f = _FIRST[first[i]]
        role = roles[i]
        if role == Role.MEDIA.value:
            h = f"{_TOWNS[town[i]]}_{_OUTLETS[outlet[i]]}"
        elif role == Role.INSTITUTION.value:
            h = f"{_TOWNS[town[i]]}{'_nhs' if community[i] == _CLI else 'pol'}_{sur[:5]}"
        elif community[i] == _POL and pattern[i] < 3:
            h = f"{('pc', 'sgt', 'dc')[pattern[i]]}_{sur}"
        elif community[i] == _CLI and pattern[i] < 2:
            h = f"{('dr', 'rmn')[pattern[i]]}_{sur}"
        elif pattern[i] < 2:
            h = f"{f}_{sur}"
        elif pattern[i] < 4:
            h = f"{f}{sur}{digits[i]}"
        else:
            h = f"{f[0]}{sur}"
        h = h[:15]
        base, k = h, 1
        while h in seen:
            k += 1
            suffix = str(k)
            h = base[: 15 - len(suffix)] + suffix
        seen.add(h)
        out.append(h)
    return out


def _accounts(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Communities, roles, handles, ids, names, bios, activity and popularity of n accounts."""
    sizes = _community_sizes(n)
    community = np.repeat(np.arange(6, dtype=np.int8), sizes)
    # four named accounts take the first indices: focal, institution, proxy A, proxy B
    special = np.array([_POL, _POL, _POL, _CLI], dtype=np.int8)
    rest = community.copy()
    for c in special:
        rest = np.delete(rest, np.flatnonzero(rest == c)[0])
    community = np.concatenate([special, rng.permutation(rest)])

    u = rng.random(n)
    roles = np.full(n, Role.CITIZEN.value, dtype=object)
    roles[(community == _POL) & (u < 0.97)] = Role.PROFESSIONAL.value
    roles[(community == _POL) & (u >= 0.97)] = Role.INSTITUTION.value
    roles[(community == _CLI) & (u < 0.95)] = Role.PROFESSIONAL.value
    roles[(community == _CLI) & (u >= 0.95)] = Role.INSTITUTION.value
    roles[(community == _MED) & (u < 0.4)] = Role.MEDIA.value
    roles[(community == _MED) & (u >= 0.4)] = Role.JOURNALIST.value
    roles[(community == _PUB) & (u < 0.01)] = Role.JOURNALIST.value
    roles[:4] = [
        Role.PROFESSIONAL.value,
        Role.INSTITUTION.value,
        Role.PROFESSIONAL.value,
        Role.PROFESSIONAL.value,
    ]

    handles = _make_handles(rng, community, roles)
    handles[0], handles[1] = FOCAL, INSTITUTION
    proxy_a, proxy_b = "sgt_ana_corbel", "rmn_tess_hollin"
    handles[2], handles[3] = proxy_a, proxy_b
    dup = {proxy_a, proxy_b}
    for i in range(4, n):  # keep the named handles unique
        if handles[i] in dup:
            handles[i] = handles[i][:13] + "_x"

    gaps = rng.integers(1, 20000, size=n)
    ids = (15_000_000 + np.cumsum(gaps)).astype(np.int64)
    ids = ids[rng.permutation(n)]

    first_names = [_FIRST[i].capitalize() for i in rng.integers(len(_FIRST), size=n)]
    names = []
    for i in range(n):
        h = handles[i]
        if roles[i] in (Role.MEDIA.value, Role.INSTITUTION.value):
            names.append(h.replace("_", " ").title())
        else:
            sur = re.sub(r"[^a-z]", "", h.split("_")[-1]).capitalize() or "Smith"
            names.append(f"{first_names[i]} {sur}")
    names[0], names[1] = "Insp Sam Lane", "Northshire Police"
    names[2], names[3] = "Sgt Ana Corbel", "Tess Hollin RMN"

    bio_pick = rng.integers(1 << 30, size=n)
    bios = []
    for i in range(n):
        pool = _BIOS.get((int(community[i]), roles[i])) or _BIOS[(_PUB, Role.CITIZEN.value)]
        bios.append(pool[bio_pick[i] % len(pool)])
    bios[0] = "Police inspector in Northshire. Mental health and policing. Views my own"
    bios[1] = "Official account of Northshire Police. Not monitored 24/7. In an emergency dial 999"
    bios[2] = "Police sergeant, Northshire. Views my own"
    bios[3] = "Mental health nurse, crisis team. Views my own"

    role_activity = {
        Role.MEDIA.value: 2.0,
        Role.JOURNALIST.value: 1.5,
        Role.INSTITUTION.value: 1.5,
    }
    activity = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=n) * np.array(
        [role_activity.get(r, 1.0) for r in roles]
    )
    role_pop = {Role.MEDIA.value: 8.0, Role.JOURNALIST.value: 3.0, Role.INSTITUTION.value: 10.0}
    popularity = (rng.pareto(1.4, size=n) + 1.0) * np.array([role_pop.get(r, 1.0) for r in roles])
    popularity[0] = popularity.max() * 1.2
    popularity[1] = popularity.max() * 1.5
    popularity[2:4] = np.maximum(popularity[2:4], np.quantile(popularity, 0.99))
    activity[2:4] = np.maximum(activity[2:4], np.quantile(activity, 0.9))
    return {
        "community": community,
        "roles": roles,
        "handles": handles,
        "ids": ids,
        "names": names,
        "bios": bios,
        "activity": activity,
        "popularity": popularity,
    }


_SHARE_PLAIN = 0.08  # posts addressing nobody
_INST_PER_FOCAL = 0.6  # posts addressing only the institution, per post addressing the focal one
# who follows the focal account and the institution, by community
_FOCAL_FOLLOW_P = np.array([0.19, 0.16, 0.12, 0.09, 0.02, 0.05])
_INST_FOLLOW_P = np.array([0.26, 0.09, 0.05, 0.21, 0.07, 0.10])
_FOCAL_FOLLOWING = 0.03  # share of accounts the focal account follows
_ACTIVITY_SIGMA = 0.6  # spread of the accounts' activity (lognormal)
_FOLLOW_MEDIAN = 16  # median number of accounts an account follows
_CIRCLE_SIZE = 50  # circles: teams, wards, support groups, friend groups
_CIRCLE_P = 0.35  # share of follows inside the community that stay inside one's circle


def _follow_graph(
    rng: np.random.Generator, community: np.ndarray, popularity: np.ndarray
) -> dict[str, np.ndarray]:
    """Plant the follow graph: who follows whom (CSR), and the focal/institution follower sets."""
    n = len(community)
    deg = np.clip(np.round(rng.lognormal(np.log(_FOLLOW_MEDIAN), 0.7, size=n)), 3, 400)
    deg = deg.astype(np.int64)
    deg[:2] = 0  # the focal account's and the institution's own follows are drawn separately
    src = np.repeat(np.arange(n, dtype=np.int64), deg)
    cum = _MIXING.cumsum(axis=1)
    u = rng.random(len(src))
    tcomm = (u[:, None] > cum[community[src]]).sum(axis=1)
    tcomm = np.minimum(tcomm, 5)
    dst = np.empty(len(src), dtype=np.int64)
    inside = tcomm == community[src]
    for c in range(6):
        members = np.flatnonzero(community == c)
        members = members[members >= 2]  # the two named targets get follower lists, not CSR edges
        pick = np.flatnonzero(tcomm == c)
        w = np.cumsum(popularity[members])  # towards the community's popular accounts
        dst[pick] = members[np.searchsorted(w, rng.random(len(pick)) * w[-1], side="right")]
    # circles: teams, wards, support groups, friend groups; a share of follows stays inside one
    circle = np.full(n, -1, dtype=np.int64)
    next_id = 0
    for c in range(6):
        members = np.flatnonzero(community == c)
        members = rng.permutation(members[members >= 2])
        circle[members] = next_id + np.arange(len(members)) // _CIRCLE_SIZE
        next_id = int(circle[members].max()) + 1 if len(members) else next_id
    by_circle = np.argsort(circle, kind="stable")
    by_circle = by_circle[circle[by_circle] >= 0]
    csize = np.bincount(circle[by_circle], minlength=next_id)
    cstart = np.concatenate([[0], np.cumsum(csize)[:-1]])
    local = np.flatnonzero(inside & (rng.random(len(src)) < _CIRCLE_P))
    cid = circle[src[local]]
    dst[local] = by_circle[cstart[cid] + (rng.random(len(local)) * csize[cid]).astype(np.int64)]
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])
    fsrc, fdst = key // n, key % n
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(fsrc, minlength=n), out=offsets[1:])

    focal_p = _FOCAL_FOLLOW_P
    inst_p = _INST_FOLLOW_P
    u1, u2 = rng.random(n), rng.random(n)
    focal_followers = np.flatnonzero(u1 < focal_p[community])
    focal_followers = np.union1d(focal_followers[focal_followers != 0], [1, 2, 3])
    inst_followers = np.flatnonzero(u2 < inst_p[community])
    inst_followers = np.union1d(inst_followers[inst_followers != 1], [0, 2])
    cand = np.flatnonzero(np.isin(community, [_POL, _CLI, _SU, _MED]))
    cand = cand[cand > 1]
    k = min(len(cand), max(30, int(_FOCAL_FOLLOWING * n)))
    w = popularity[cand] / popularity[cand].sum()
    focal_following = np.union1d(rng.choice(cand, size=k, replace=False, p=w), [1, 2, 3])
    return {
        "offsets": offsets,
        "friends": fdst,
        "focal_followers": focal_followers,
        "inst_followers": inst_followers,
        "focal_following": focal_following,
    }


# ------------------------------------------------------------------------------------------------
# Posts: generation in two stages (originals, then replies/reposts/quotes that reference them)
# ------------------------------------------------------------------------------------------------

# segments of accounts, per window: who they are relative to the focal account
_SEG_PRIOR, _SEG_NEW, _SEG_HOSTILE, _SEG_MEDIA = range(4)
# frames: how a post addresses its targets
(
    _FR_F,  # original mentioning the focal account
    _FR_FI,  # original mentioning both targets
    _FR_T,  # original with the campaign hashtag only
    _FR_NEWS,  # media news original mentioning the focal account
    _FR_FREPLY,  # reply to a post of the focal account
    _FR_FREPOST,  # repost of a post of the focal account
    _FR_FQUOTE,  # quote of a post of the focal account
    _FR_PREPOST,  # repost of a proxy's post
    _FR_PREPLY,  # reply to a proxy's post
    _FR_PQUOTE,  # quote of a proxy's post
    _FR_NREPOST,  # repost of a news post
    _FR_I,  # original mentioning the institution
    _FR_IREPLY,  # reply to a post of the institution
    _FR_IREPOST,  # repost of a post of the institution
) = range(14)
# referent pools for stage-2 events
_RP_AUTHOR, _RP_FOCAL, _RP_PROXY, _RP_NEWS, _RP_INST = range(5)

_FOCAL_SEG_W = {
    _B: (0.80, 0.14, 0.06, 0.00),
    _C: (0.68, 0.14, 0.06, 0.12),
    _A: (0.66, 0.16, 0.04, 0.14),
}
_INST_SEG_W = {
    _B: (0.25, 0.55, 0.05, 0.15),
    _C: (0.45, 0.35, 0.08, 0.12),
    _A: (0.35, 0.45, 0.05, 0.15),
}
# (neutral, supportive, critical) dispositions towards the focal account, by window and segment
_FOCAL_DISP = {
    _B: ((0.42, 0.53, 0.05), (0.55, 0.33, 0.12), (0.30, 0.00, 0.70), (0.95, 0.05, 0.00)),
    _C: ((0.07, 0.90, 0.03), (0.22, 0.64, 0.14), (0.06, 0.02, 0.92), (0.86, 0.09, 0.05)),
    _A: ((0.22, 0.75, 0.03), (0.45, 0.45, 0.10), (0.20, 0.00, 0.80), (0.90, 0.07, 0.03)),
}
# towards the institution, in crisis and after: conditional on the focal disposition
_INST_DISP_GIVEN_FOCAL = {
    _C: {_NEU: (0.60, 0.10, 0.30), _SUP: (0.15, 0.02, 0.83), _CRI: (0.30, 0.65, 0.05)},
    _A: {_NEU: (0.60, 0.15, 0.25), _SUP: (0.35, 0.10, 0.55), _CRI: (0.40, 0.55, 0.05)},
}
_FRAMES_FOCAL = {
    (_B, _SUP): {_FR_F: 0.30, _FR_FREPLY: 0.35, _FR_FREPOST: 0.25, _FR_FQUOTE: 0.05, _FR_FI: 0.05},
    (_B, _NEU): {_FR_F: 0.45, _FR_FREPLY: 0.45, _FR_FI: 0.10},
    (_B, _CRI): {_FR_F: 0.50, _FR_FREPLY: 0.45, _FR_FI: 0.05},
    (_C, _SUP): {
        _FR_F: 0.25,
        _FR_FI: 0.13,
        _FR_T: 0.05,
        _FR_FREPLY: 0.07,
        _FR_FREPOST: 0.04,
        _FR_FQUOTE: 0.02,
        _FR_PREPOST: 0.30,
        _FR_PREPLY: 0.08,
        _FR_PQUOTE: 0.06,
    },
    (_C, _NEU): {_FR_F: 0.55, _FR_FI: 0.15, _FR_FREPLY: 0.10, _FR_NREPOST: 0.15, _FR_T: 0.05},
    (_C, _CRI): {_FR_F: 0.55, _FR_FI: 0.15, _FR_FREPLY: 0.15, _FR_PQUOTE: 0.10, _FR_T: 0.05},
    (_A, _SUP): {
        _FR_F: 0.30,
        _FR_FREPLY: 0.30,
        _FR_FREPOST: 0.20,
        _FR_FI: 0.10,
        _FR_FQUOTE: 0.10,
    },
    (_A, _NEU): {_FR_F: 0.50, _FR_FREPLY: 0.35, _FR_FI: 0.15},
    (_A, _CRI): {_FR_F: 0.50, _FR_FREPLY: 0.40, _FR_FI: 0.10},
}
_FRAMES_MEDIA = {_NEU: {_FR_NEWS: 0.7, _FR_FI: 0.3}, _SUP: {_FR_F: 1.0}, _CRI: {_FR_F: 1.0}}
_FRAMES_INST = {
    (_B, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.30, _FR_IREPOST: 0.30},
    (_B, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_B, _CRI): {_FR_I: 0.55, _FR_IREPLY: 0.45},
    (_C, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.40, _FR_IREPOST: 0.20},
    (_C, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_C, _CRI): {_FR_I: 0.40, _FR_IREPLY: 0.60},
    (_A, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.40, _FR_IREPOST: 0.20},
    (_A, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_A, _CRI): {_FR_I: 0.50, _FR_IREPLY: 0.50},
}
_FOCAL_ENGAGEMENT = np.array([1.2, 1.3, 1.5, 1.0, 0.6, 2.0])
_INST_ENGAGEMENT = np.array([1.0, 0.6, 0.8, 1.2, 1.0, 2.0])
# relative hourly activity (UTC is UK time in February)
_HOUR_W = np.array(
    [
        0.30,
        0.20,
        0.12,
        0.08,
        0.08,
        0.12,
        0.35,
        0.70,
        1.00,
        1.10,
        1.10,
        1.15,
        1.25,
        1.15,
        1.05,
        1.05,
        1.15,
        1.25,
        1.45,
        1.60,
        1.60,
        1.40,
        1.00,
        0.60,
    ]
)
_HOUR_W = _HOUR_W / _HOUR_W.max()
_COLS = ("author", "t", "kind", "ref", "mention", "tpl", "sf", "si", "frame")
_DAY = 86400.0
_HOUR = 3600.0


def _chunk(n: int, **cols: Any) -> dict[str, np.ndarray]:
    defaults = {
        "author": (np.int64, -1),
        "t": (np.float64, 0.0),
        "kind": (np.int8, _K_POST),
        "ref": (np.int64, -1),
        "mention": (np.int64, -1),
        "tpl": (np.int32, -1),
        "sf": (np.int8, _NA),
        "si": (np.int8, _NA),
        "frame": (np.int8, -1),
        "rpool": (np.int8, -1),
        "rtarget": (np.int64, -1),
        "fallback": (np.int32, -1),
    }
    out = {}
    for name, (dtype, fill) in defaults.items():
        v = cols.get(name, fill)
        out[name] = np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()
    return out


def _concat(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


class _Gen:
    """The stateful part of :func:`generate` (one random stream, consumed in a fixed order)."""

    def __init__(self, cfg: SynthConfig):
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.windows = Windows.from_crisis(cfg.crisis_start, cfg.crisis_end, cfg.days, cfg.days)
        self.t0 = int(self.windows.baseline_start.timestamp())
        self.cs = float(int(self.windows.crisis_start.timestamp()) - self.t0)
        self.ce = float(int(self.windows.crisis_end.timestamp()) - self.t0)
        self.end = float(int(self.windows.after_end.timestamp()) - self.t0)
        self.bounds = {_B: (0.0, self.cs), _C: (self.cs, self.ce), _A: (self.ce, self.end)}
        self.stage1: list[dict[str, np.ndarray]] = []
        self.stage2: list[dict[str, np.ndarray]] = []

    # -- sampling helpers ------------------------------------------------------------------------
    def times(self, n: int, draw) -> np.ndarray:
        """Draw n times from ``draw(m)`` thinned by the daily activity cycle."""
        out: list[np.ndarray] = []
        have = 0
        while have < n:
            m = int((n - have) * 1.7) + 16
            cand = draw(m)
            hours = ((cand + self.t0) // _HOUR).astype(np.int64) % 24
            cand = cand[self.rng.random(m) < _HOUR_W[hours]]
            out.append(cand)
            have += len(cand)
        return np.concatenate(out)[:n] if out else np.empty(0)

    def uniform(self, lo: float, hi: float):
        return lambda m: self.rng.uniform(lo, hi, size=m)

    def truncexp(self, lo: float, hi: float, tau: float):
        span = hi - lo

        def draw(m: int) -> np.ndarray:
            u = self.rng.random(m)
            return lo - tau * np.log1p(-u * (1.0 - np.exp(-span / tau)))

        return draw

    def after_draw(self, floor: float, bump: float, tau: float):
        """Attention after the crisis: a level ``floor`` plus a bump decaying with ``tau``."""
        lo, hi = self.bounds[_A]
        d = hi - lo
        w_floor = floor * d
        w_bump = bump * tau * (1 - np.exp(-d / tau))
        p_floor = w_floor / (w_floor + w_bump)
        uni, exp = self.uniform(lo, hi), self.truncexp(lo, hi, tau)

        def draw(m: int) -> np.ndarray:
            return np.where(self.rng.random(m) < p_floor, uni(m), exp(m))

        return draw

    def pick(self, candidates: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
        if n == 0:
            return np.empty(0, dtype=np.int64)
        w = np.cumsum(weights[candidates])
        return candidates[np.searchsorted(w, self.rng.random(n) * w[-1], side="right")]

    def templates(self, keys: np.ndarray | list[str]) -> np.ndarray:
        """One random template id per pool key."""
        keys = np.asarray(keys, dtype=object)
        out = np.empty(len(keys), dtype=np.int32)
        for key in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == key)
            pool = _POOL_IDS[key]
            out[idx] = pool[self.rng.integers(len(pool), size=len(idx))]
        return out

    def categorical(self, probs: np.ndarray, n: int) -> np.ndarray:
        cum = np.cumsum(probs)
        return np.minimum(
            np.searchsorted(cum, self.rng.random(n) * cum[-1], side="right"), len(cum) - 1
        )

    # -- streams ---------------------------------------------------------------------------------
    def plain(self, n: int) -> None:
        """Posts that address nobody: everyday posts and noise."""
        acc = self.acc
        cand = np.arange(2, self.cfg.accounts)
        src = self.pick(cand, acc["activity"] * acc["popularity"] ** 0.3, n)
        t = self.times(n, self.uniform(0.0, self.end))
        noise = self.rng.random(n) < 0.10
        keys = np.where(
            noise,
            "noise",
            np.array([f"plain.{COMMUNITIES[c]}" for c in range(6)])[acc["community"][src]],
        )
        self.stage1.append(_chunk(n, author=src, t=t, tpl=self.templates(keys)))

    def focal_own(self, n: int) -> None:
        """The focal account's own posts: baseline and after, silent in the crisis."""
        rng = self.rng
        last_t, back_t = self.cs - _HOUR, self.ce + 3 * _HOUR
        self.stage1.append(
            _chunk(1, author=0, t=last_t, tpl=self.templates(["own.focal.last"]), frame=-2)
        )
        self.stage1.append(
            _chunk(1, author=0, t=back_t, tpl=self.templates(["own.focal.return"]), frame=-3)
        )
        m = n - 2
        lb, la0 = self.cs - 2 * _HOUR, back_t + 600.0
        len_b, len_a = lb, self.end - la0

        def draw(k: int) -> np.ndarray:
            u = rng.uniform(0, len_b + len_a, size=k)
            return np.where(u < len_b, u, la0 + (u - len_b))

        t = self.times(m, draw)
        after = t >= self.ce
        u = rng.random(m)
        orig = u < 0.6
        keys = np.where(after, "own.focal.after", "own.focal")
        self.stage1.append(
            _chunk(int(orig.sum()), author=0, t=t[orig], tpl=self.templates(keys[orig]))
        )
        following = self.fg["focal_following"]
        following = following[following != 1]
        for kind, sel in ((_K_REPLY, (u >= 0.6) & (u < 0.85)), (_K_REPOST, u >= 0.85)):
            k = int(sel.sum())
            self.stage2.append(
                _chunk(
                    k,
                    author=0,
                    t=t[sel],
                    kind=kind,
                    tpl=self.templates(["own.focal.reply"] * k) if kind == _K_REPLY else -1,
                    rpool=_RP_AUTHOR,
                    rtarget=following[rng.integers(len(following), size=k)],
                    fallback=self.templates(keys[sel]),
                )
            )

    def inst_own(self, n: int) -> None:
        """The institution's posts: appeals and news, statements in the crisis."""
        fixed_t = [self.cs + 6 * _HOUR, self.cs + 30 * _HOUR, self.cs + 80 * _HOUR]
        fixed_t = [t for t in fixed_t if t < self.ce - _HOUR]
        statements = _POOL_IDS["own.inst.statement"][: len(fixed_t)]
        self.stage1.append(_chunk(len(fixed_t), author=1, t=fixed_t, tpl=statements, frame=-4))
        self.stage1.append(
            _chunk(1, author=1, t=self.ce + _HOUR, tpl=_POOL_IDS["own.inst.restored"][:1])
        )
        m = n - len(fixed_t) - 1
        t = self.times(m, self.uniform(0.0, self.end))
        self.stage1.append(_chunk(m, author=1, t=t, tpl=self.templates(["own.inst"] * m)))

    def proxy_posts(self, n_each: int) -> None:
        """Each proxy posts supportive messages on the focal account's behalf in the crisis."""
        for k, (who, first) in enumerate(((2, 1.5 * _HOUR), (3, 3.0 * _HOUR))):
            t0 = self.cs + first
            rest = self.times(n_each - 1, self.uniform(t0 + _HOUR, self.ce - 4 * _HOUR))
            t = np.concatenate([[t0], rest])
            self.stage1.append(
                _chunk(
                    n_each,
                    author=who,
                    t=t,
                    tpl=self.templates([f"proxy.{k}"] * n_each),
                    sf=_SUP,
                    frame=-5,
                )
            )

    def chatter(self, n: int) -> None:
        """Everyday interactions along follow edges: mentions, replies, reposts, quotes."""
        rng, acc, fg = self.rng, self.acc, self.fg
        offsets, friends = fg["offsets"], fg["friends"]
        deg = np.diff(offsets)
        cand = np.flatnonzero(deg > 0)
        cand = cand[cand > 1]
        src = self.pick(cand, acc["activity"], n)
        t = self.times(n, self.uniform(0.0, self.end))
        tgt = friends[offsets[src] + (rng.random(n) * deg[src]).astype(np.int64)]
        u = rng.random(n)
        welsh = rng.random(n) < 0.02
        comm_keys = np.array([f"chat.{c}" for c in COMMUNITIES])[acc["community"][src]]
        chat_keys = np.where(welsh, "chat.cy", comm_keys)
        mention = u < 0.35
        self.stage1.append(
            _chunk(
                int(mention.sum()),
                author=src[mention],
                t=t[mention],
                mention=tgt[mention],
                tpl=self.templates(chat_keys[mention]),
            )
        )
        for kind, sel, pool in (
            (_K_REPLY, (u >= 0.35) & (u < 0.65), "reply.any"),
            (_K_REPOST, (u >= 0.65) & (u < 0.90), None),
            (_K_QUOTE, u >= 0.90, "quote.any"),
        ):
            k = int(sel.sum())
            self.stage2.append(
                _chunk(
                    k,
                    author=src[sel],
                    t=t[sel],
                    kind=kind,
                    tpl=self.templates([pool] * k) if pool else -1,
                    rpool=_RP_AUTHOR,
                    rtarget=tgt[sel],
                    fallback=self.templates(chat_keys[sel]),
                )
            )

    def segments(self, prior: np.ndarray) -> np.ndarray:
        """Segment of every account relative to the focal account (-1: focal or institution)."""
        acc = self.acc
        seg = np.full(self.cfg.accounts, _SEG_NEW, dtype=np.int8)
        seg[prior] = _SEG_PRIOR
        seg[acc["community"] == _HOS] = _SEG_HOSTILE
        media = np.isin(acc["roles"], [Role.MEDIA.value, Role.JOURNALIST.value])
        seg[media] = _SEG_MEDIA
        seg[:2] = -1
        return seg

    def dispositions(self, w: int, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each account's stance towards the focal account and the institution in window w."""
        n = self.cfg.accounts
        acc = self.acc
        disp_f = np.full(n, _NEU, dtype=np.int8)
        for s in range(4):
            idx = np.flatnonzero(seg == s)
            # a null world without a tie effect: accounts without a tie behave like those with one
            row = _SEG_PRIOR if (s == _SEG_NEW and not self.cfg.tie_effect) else s
            disp_f[idx] = self.categorical(np.array(_FOCAL_DISP[w][row]), len(idx))
        disp_i = np.full(n, _NEU, dtype=np.int8)
        if w == _B or not self.cfg.institution_drop:
            probs = np.tile(np.array([0.50, 0.30, 0.20]), (n, 1))
            probs[acc["community"] == _POL] = (0.45, 0.50, 0.05)
            probs[acc["community"] == _HOS] = (0.20, 0.00, 0.80)
            probs[seg == _SEG_MEDIA] = (0.95, 0.03, 0.02)
            cum = probs.cumsum(axis=1)
            disp_i[:] = (self.rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)
        else:
            for f in (_NEU, _SUP, _CRI):
                idx = np.flatnonzero((disp_f == f) & (seg != _SEG_MEDIA))
                disp_i[idx] = self.categorical(np.array(_INST_DISP_GIVEN_FOCAL[w][f]), len(idx))
            idx = np.flatnonzero(seg == _SEG_MEDIA)
            disp_i[idx] = self.categorical(np.array([0.90, 0.05, 0.05]), len(idx))
        disp_f[2:4] = _SUP  # the proxies stand by him throughout
        if w != _B and self.cfg.institution_drop:
            disp_i[2:4] = _CRI
        return disp_f, disp_i

    def sources(self, w: int, n: int, seg: np.ndarray, seg_w: dict, engagement: np.ndarray):
        segw = np.array(seg_w[w]) * np.array([(seg == s).any() for s in range(4)])
        s_ev = self.categorical(segw, n)
        weights = self.acc["activity"] * engagement[self.acc["community"]]
        src = np.empty(n, dtype=np.int64)
        for s in range(4):
            idx = np.flatnonzero(s_ev == s)
            src[idx] = self.pick(np.flatnonzero(seg == s), weights, len(idx))
        return src, s_ev

    def frames(self, table: dict, keys: np.ndarray) -> np.ndarray:
        out = np.empty(len(keys), dtype=np.int8)
        for key in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == key)
            options = table[key]
            names = np.array(list(options), dtype=np.int8)
            out[idx] = names[self.categorical(np.array(list(options.values())), len(idx))]
        return out

    def focal_stream(self, w: int, n: int, seg: np.ndarray, disp_f, disp_i) -> np.ndarray:
        """Posts addressing the focal account in window w; returns their authors."""
        src, s_ev = self.sources(w, n, seg, _FOCAL_SEG_W, _FOCAL_ENGAGEMENT)
        t = np.empty(n)
        media = s_ev == _SEG_MEDIA
        for sel, draw in (
            (media, self._focal_draw(w, True)),
            (~media, self._focal_draw(w, False)),
        ):
            t[sel] = self.times(int(sel.sum()), draw)
        sf, si = disp_f[src], disp_i[src]
        frame = np.empty(n, dtype=np.int8)
        keys = np.array([w * 10 + int(s) for s in sf])
        nonmedia = np.flatnonzero(~media)
        frame[nonmedia] = self.frames(
            {k: _FRAMES_FOCAL[(k // 10, k % 10)] for k in set(keys[nonmedia].tolist())},
            keys[nonmedia],
        )
        midx = np.flatnonzero(media)
        frame[midx] = self.frames(_FRAMES_MEDIA, sf[midx].astype(np.int64))
        self.emit_focal(w, src, t, sf, si, frame)
        return src

    def _focal_draw(self, w: int, media: bool):
        if w == _B:
            return self.uniform(0.0, self.cs)
        if w == _C:
            if media and self.cfg.role_order:
                return self.truncexp(self.cs + 24 * _HOUR, self.ce, 1.5 * _DAY)
            return self.truncexp(self.cs, self.ce, 1.8 * _DAY)
        return self.after_draw(1.25, 2.5, 3 * _DAY)

    def emit_focal(self, w, src, t, sf, si, frame) -> None:
        ph = _PHASE[w]
        sk = np.array([_STANCE_KEY[int(s)] for s in sf], dtype=object)
        ik = np.array([_STANCE_KEY[int(s)] for s in si], dtype=object)
        f_keys = np.array([f"F.{ph}.{s}" for s in sk], dtype=object)
        # frames without a template pool for this phase/stance fall back to a plain mention
        fi_keys = np.array([f"FI.{ph}.{a}.{b}" for a, b in zip(sk, ik, strict=True)], dtype=object)
        t_keys = np.array([f"T.{ph}.{s}" for s in sk], dtype=object)
        fq_keys = np.array([f"Fq.{ph}.{s}" for s in sk], dtype=object)
        n_keys = np.array([f"N.{ph}.{s}" for s in sk], dtype=object)
        frame = frame.copy()
        for fr, keys in (
            (_FR_FI, fi_keys),
            (_FR_T, t_keys),
            (_FR_NEWS, n_keys),
            (_FR_FQUOTE, fq_keys),
        ):
            missing = (frame == fr) & ~np.isin(keys, list(_POOL_IDS))
            frame[missing] = _FR_F
        if w != _C:
            frame[np.isin(frame, [_FR_PREPOST, _FR_PREPLY, _FR_PQUOTE, _FR_NREPOST])] = _FR_F

        def sel(fr: int) -> np.ndarray:
            return np.flatnonzero(frame == fr)

        for fr, keys in ((_FR_F, f_keys), (_FR_T, t_keys), (_FR_NEWS, n_keys)):
            i = sel(fr)
            self.stage1.append(
                _chunk(
                    len(i), author=src[i], t=t[i], tpl=self.templates(keys[i]), sf=sf[i], frame=fr
                )
            )
        i = sel(_FR_FI)
        self.stage1.append(
            _chunk(
                len(i),
                author=src[i],
                t=t[i],
                tpl=self.templates(fi_keys[i]),
                sf=sf[i],
                si=si[i],
                frame=_FR_FI,
            )
        )
        reply_keys = np.array([f"Fr.{ph}.{s}" for s in sk], dtype=object)
        fx_keys = np.array([f"Fx.{ph}.{s}" for s in sk], dtype=object)
        for fr, kind, rpool, body_keys, mention in (
            (_FR_FREPLY, _K_REPLY, _RP_FOCAL, reply_keys, -1),
            (_FR_FREPOST, _K_REPOST, _RP_FOCAL, None, -1),
            (_FR_FQUOTE, _K_QUOTE, _RP_FOCAL, fq_keys, -1),
            (_FR_PREPOST, _K_REPOST, _RP_PROXY, None, -1),
            (_FR_PREPLY, _K_REPLY, _RP_PROXY, fx_keys, 0),
            (_FR_PQUOTE, _K_QUOTE, _RP_PROXY, f_keys, -1),
            (_FR_NREPOST, _K_REPOST, _RP_NEWS, None, -1),
        ):
            i = sel(fr)
            self.stage2.append(
                _chunk(
                    len(i),
                    author=src[i],
                    t=t[i],
                    kind=kind,
                    tpl=self.templates(body_keys[i]) if body_keys is not None else -1,
                    sf=sf[i],
                    frame=fr,
                    rpool=rpool,
                    mention=mention,
                    fallback=self.templates(f_keys[i]),
                )
            )

    def inst_stream(self, w: int, n: int, seg: np.ndarray, disp_i: np.ndarray) -> None:
        """Posts addressing the institution (and only it) in window w."""
        # a null world without the institution's fall: the baseline's mix of senders throughout
        seg_w = (
            _INST_SEG_W
            if self.cfg.institution_drop
            else dict.fromkeys(_INST_SEG_W, _INST_SEG_W[_B])
        )
        src, _ = self.sources(w, n, seg, seg_w, _INST_ENGAGEMENT)
        if w == _B:
            draw = self.uniform(0.0, self.cs)
        elif w == _C:
            draw = self.truncexp(self.cs, self.ce, 2.2 * _DAY)
        else:
            draw = self.after_draw(1.1, 1.5, 3 * _DAY)
        t = self.times(n, draw)
        si = disp_i[src]
        frame = self.frames(
            {w * 10 + s: _FRAMES_INST[(w, s)] for s in (_NEU, _SUP, _CRI)},
            w * 10 + si.astype(np.int64),
        )
        ph = _PHASE[w]
        ik = np.array([_STANCE_KEY[int(s)] for s in si], dtype=object)
        i_keys = np.array([f"I.{ph}.{s}" for s in ik], dtype=object)
        ir_keys = np.array([f"Ir.{ph}.{s}" for s in ik], dtype=object)
        i = np.flatnonzero(frame == _FR_I)
        self.stage1.append(
            _chunk(
                len(i), author=src[i], t=t[i], tpl=self.templates(i_keys[i]), si=si[i], frame=_FR_I
            )
        )
        for fr, kind, body in ((_FR_IREPLY, _K_REPLY, ir_keys), (_FR_IREPOST, _K_REPOST, None)):
            i = np.flatnonzero(frame == fr)
            self.stage2.append(
                _chunk(
                    len(i),
                    author=src[i],
                    t=t[i],
                    kind=kind,
                    tpl=self.templates(body[i]) if body is not None else -1,
                    si=si[i],
                    frame=fr,
                    rpool=_RP_INST,
                    fallback=self.templates(i_keys[i]),
                )
            )

    # -- stage 2: find the post each reply, repost and quote refers to ----------------------------
    def resolve(self, orig: dict[str, np.ndarray], ev: dict[str, np.ndarray]) -> None:
        """Set ``ev['ref']`` to an earlier original; events without one become plain posts."""
        rng = self.rng
        n = len(ev["t"])
        ref = np.full(n, -1, dtype=np.int64)
        back = rng.geometric(0.35, size=n) - 1
        tpl = orig["tpl"]
        addresses_nobody = (orig["sf"] == _NA) & (orig["si"] == _NA)
        pools = {
            _RP_FOCAL: np.flatnonzero(orig["author"] == 0),
            _RP_PROXY: np.flatnonzero(orig["frame"] == -5),
            _RP_NEWS: np.flatnonzero(
                np.isin(tpl, np.concatenate([_POOL_IDS["N.c.neu"], _POOL_IDS["N.a.neu"]]))
            ),
            _RP_INST: np.flatnonzero(orig["author"] == 1),
        }
        spread = {_RP_FOCAL: 0.2, _RP_PROXY: 0.12, _RP_NEWS: 0.3, _RP_INST: 0.5}
        for rp, cand in pools.items():
            sel = np.flatnonzero(ev["rpool"] == rp)
            if len(sel) == 0 or len(cand) == 0:
                continue
            cand = cand[np.argsort(orig["t"][cand], kind="stable")]
            nb = np.searchsorted(orig["t"][cand], ev["t"][sel], side="left")
            b = np.minimum(rng.geometric(spread[rp], size=len(sel)) - 1, np.maximum(nb - 1, 0))
            ok = nb > 0
            ref[sel[ok]] = cand[(nb - 1 - b)[ok]]
        sel = np.flatnonzero(ev["rpool"] == _RP_AUTHOR)
        if len(sel):
            cand = np.flatnonzero(addresses_nobody)
            key = orig["author"][cand] * (1 << 32) + orig["t"][cand].astype(np.int64)
            order = np.argsort(key, kind="stable")
            cand, key = cand[order], key[order]
            tgt = ev["rtarget"][sel]
            pos = np.searchsorted(key, tgt * (1 << 32) + ev["t"][sel].astype(np.int64), side="left")
            start = np.searchsorted(key, tgt * (1 << 32), side="left")
            nb = pos - start
            b = np.minimum(back[sel], np.maximum(nb - 1, 0))
            ok = nb > 0
            ref[sel[ok]] = cand[(pos - 1 - b)[ok]]
        # no self-references, and nobody reposts the same post twice
        has = ref >= 0
        self_ref = np.zeros(n, dtype=bool)
        self_ref[has] = orig["author"][ref[has]] == ev["author"][has]
        ref[self_ref] = -1
        rep = np.flatnonzero((ev["kind"] == _K_REPOST) & (ref >= 0))
        pair = ev["author"][rep] * (1 << 40) + ref[rep]
        _, first = np.unique(pair, return_index=True)
        dup = np.ones(len(rep), dtype=bool)
        dup[first] = False
        ref[rep[dup]] = -1
        missing = ref < 0
        ev["ref"] = ref
        ev["kind"][missing] = _K_POST
        ev["tpl"][missing] = ev["fallback"][missing]
        ev["mention"][missing] = np.where(
            ev["rpool"][missing] == _RP_AUTHOR, ev["rtarget"][missing], -1
        )
        inst_only = missing & np.isin(ev["frame"], [_FR_IREPLY, _FR_IREPOST])
        ev["frame"][missing & (ev["frame"] >= 0)] = _FR_F
        ev["frame"][inst_only] = _FR_I

    # -- the whole case ---------------------------------------------------------------------------
    def run(self) -> Case:
        cfg, rng = self.cfg, self.rng
        self.acc = acc = _accounts(rng, cfg.accounts)
        self.fg = fg = _follow_graph(rng, acc["community"], acc["popularity"])
        n_total = cfg.interactions
        days_total = 2 * cfg.days + (self.ce - self.cs) / _DAY
        n_focal_own = int(np.clip(round(0.01 * n_total), 40, 12 * 2 * cfg.days))
        n_inst_own = int(np.clip(round(0.005 * n_total), 30, 8 * days_total))
        n_proxy = int(np.clip(round(0.0004 * n_total), 8, 25))
        n_fstream = round(cfg.focal_share * n_total)
        n_istream = round(_INST_PER_FOCAL * cfg.focal_share * n_total)
        n_plain = round(_SHARE_PLAIN * n_total)
        n_chat = n_total - n_focal_own - n_inst_own - 2 * n_proxy - n_fstream - n_istream - n_plain

        self.plain(n_plain)
        self.focal_own(n_focal_own)
        self.inst_own(n_inst_own)
        self.proxy_posts(n_proxy)
        self.chatter(n_chat)

        # posts addressing the focal account: baseline, crisis, after (rates planted per window)
        d = float(cfg.days)
        crisis_days = (self.ce - self.cs) / _DAY
        tau = 3.0
        fw = np.array([d, cfg.lift * crisis_days, 1.25 * d + 2.5 * tau * (1 - np.exp(-d / tau))])
        iw = np.array([d, 3.5 * crisis_days, 1.1 * d + 1.5 * tau * (1 - np.exp(-d / tau))])
        n_proxy_baseline = 6
        f_counts = rng.multinomial(n_fstream - n_proxy_baseline, fw / fw.sum())
        i_counts = rng.multinomial(n_istream, iw / iw.sum())

        followers = np.zeros(cfg.accounts, dtype=bool)
        followers[fg["focal_followers"]] = True
        seg = self.segments(followers)
        disp_f, disp_i = self.dispositions(_B, seg)
        # the proxies are regulars in the baseline: replies to the focal account's posts
        who = np.array([2, 2, 2, 3, 3, 3])
        self.emit_focal(
            _B,
            who,
            self.times(n_proxy_baseline, self.uniform(0.0, self.cs)),
            np.full(n_proxy_baseline, _SUP, dtype=np.int8),
            disp_i[who],
            np.full(n_proxy_baseline, _FR_FREPLY, dtype=np.int8),
        )
        baseline_authors = self.focal_stream(_B, int(f_counts[0]), seg, disp_f, disp_i)
        self.inst_stream(_B, int(i_counts[0]), seg, disp_i)
        prior = followers.copy()
        prior[baseline_authors] = True
        prior[who] = True
        seg = self.segments(prior)
        for w, fc, ic in ((_C, f_counts[1], i_counts[1]), (_A, f_counts[2], i_counts[2])):
            disp_f, disp_i = self.dispositions(w, seg)
            self.focal_stream(w, int(fc), seg, disp_f, disp_i)
            self.inst_stream(w, int(ic), seg, disp_i)

        orig = _concat(self.stage1)
        ev = _concat(self.stage2)
        self.resolve(orig, ev)
        posts = _concat([orig, ev])
        assert len(posts["t"]) == n_total, (len(posts["t"]), n_total)
        return self.finalise(posts)

    def finalise(self, posts: dict[str, np.ndarray]) -> Case:
        """Sort by time, assign tweet ids, render texts, extract entities, compute the truth."""
        rng, acc, fg, cfg = self.rng, self.acc, self.fg, self.cfg
        order = np.argsort(posts["t"], kind="stable")
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        posts = {k: v[order] for k, v in posts.items()}
        has = posts["ref"] >= 0
        posts["ref"][has] = inv[posts["ref"][has]]
        del posts["rpool"], posts["rtarget"], posts["fallback"]

        ms = (self.t0 * 1000 + np.floor(posts["t"] * 1000)).astype(np.int64)
        new_run = np.ones(len(ms), dtype=bool)
        new_run[1:] = ms[1:] != ms[:-1]
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ms)), 0))
        seq = np.arange(len(ms)) - run_start
        worker = rng.integers(0, 1024, size=len(ms))
        posts["id"] = ((ms - _EPOCH_SNOWFLAKE_MS) << 22) | (worker << 12) | seq
        posts["ts"] = ms // 1000  # epoch seconds
        posts["tag"] = rng.integers(len(_TAG_VARIANTS), size=len(ms)).astype(np.int8)

        handles = acc["handles"]
        posts["text"], ent = _render(posts, handles)
        lang = np.array(_TEXT_LANG, dtype=object)[np.maximum(posts["tpl"], 0)]
        rep = np.flatnonzero(posts["kind"] == _K_REPOST)
        lang[rep] = lang[posts["ref"][rep]]  # a repost has the language of what it repeats
        posts["lang"] = lang
        posts["entities"], posts["has_marker"] = ent, ent.has_marker

        indeg = np.bincount(fg["friends"], minlength=cfg.accounts)
        indeg[0] += len(fg["focal_followers"])
        indeg[1] += len(fg["inst_followers"])
        external = np.round(acc["popularity"] * 12 * rng.lognormal(0, 0.5, cfg.accounts))
        followers_count = (indeg + external).astype(np.int64)

        case = Case(
            config=cfg,
            windows=self.windows,
            handles=handles,
            account_ids=acc["ids"],
            names=acc["names"],
            bios=acc["bios"],
            roles=acc["roles"],
            community=acc["community"],
            followers_count=followers_count,
            focal_followers=fg["focal_followers"],
            focal_following=fg["focal_following"],
            institution_followers=fg["inst_followers"],
            proxies=(2, 3),
            posts=posts,
        )
        _assign_sources(case, rng)
        return case
