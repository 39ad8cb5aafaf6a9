"""Constants of the synthetic case (handles, communities, codes) and its configuration."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NetsupportError
from ..schema import PostKind, Stance, Window
from ..windows import Windows

FOCAL = "inspector_lane"
INSTITUTION = "northshire_police"
MARKER = "standwithlane"  # the campaign hashtag, without '#'
COMMUNITIES = ("police", "clinicians", "service_users", "media", "public", "hostile")
_POL, _CLI, _SU, _MED, _PUB, _HOS = range(6)
_COMMUNITY_SHARE = np.array([0.17, 0.15, 0.19, 0.07, 0.39, 0.03])
# Row c: where accounts of community c direct their follows (and so their everyday interactions).
_MIXING = np.array(
    [
        [0.980, 0.008, 0.004, 0.002, 0.006, 0.000],
        [0.007, 0.980, 0.009, 0.000, 0.004, 0.000],
        [0.002, 0.009, 0.980, 0.000, 0.009, 0.000],
        [0.015, 0.005, 0.005, 0.920, 0.055, 0.000],
        [0.002, 0.000, 0.004, 0.004, 0.990, 0.000],
        [0.004, 0.000, 0.000, 0.008, 0.018, 0.970],
    ]
)

# Stance codes used in the arrays (-1: the post does not address that target).
_NA, _NEU, _SUP, _CRI = -1, 0, 1, 2
_STANCE_NAME = {
    _NEU: Stance.NEUTRAL.value,
    _SUP: Stance.SUPPORTIVE.value,
    _CRI: Stance.CRITICAL.value,
}
# Post kind codes.
_K_POST, _K_REPLY, _K_REPOST, _K_QUOTE = 0, 1, 2, 3
_KIND_NAME = [
    PostKind.POST.value,
    PostKind.REPLY.value,
    PostKind.REPOST.value,
    PostKind.QUOTE.value,
]
_WINDOWS = (Window.BASELINE, Window.CRISIS, Window.AFTER)
_B, _C, _A = 0, 1, 2

_EPOCH_SNOWFLAKE_MS = 1288834974657  # Twitter's snowflake epoch
_ZIP_TIME = (2014, 3, 6, 12, 0, 0)  # fixed member timestamps: same bytes every run


# ------------------------------------------------------------------------------------------------
# Configuration and the in-memory case
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthConfig:
    """Every parameter of a synthetic case; the output is a pure function of it.

    Parameters
    ----------
    seed
        Seed for ``numpy.random.default_rng``.
    accounts
        Number of accounts (at least 300).
    interactions
        Number of posts generated (each is one JSONL tweet; the interaction rows derived from
        them are counted in ``truth.json``).
    days
        Length of the baseline and of the after window, in days.
    crisis_start, crisis_end
        The crisis window (the focal account's suspension), ISO-8601 with a time zone.
    focal_share
        Share of the posts that address the focal account (by others); the institution gets
        0.6 times as many. The rest is everyday activity, which carries the communities.
    lift
        Planted ratio of the crisis rate to the baseline rate of posts addressed to the focal
        account (the realised lift is reported in ``truth.json``).
    tie_effect
        Plant a tie effect: in the crisis, accounts with a prior tie to the focal account (they
        follow it or addressed it in the baseline) are supportive with probability 0.90, others
        with 0.64. False (a null world): others get the prior-tie dispositions too.
    role_order
        Plant a role order: media and journalists' crisis posts about the focal account start
        24 hours after the crisis start. False: they follow everyone else's timing.
    institution_drop
        Plant the institution's fall: crisis and after dispositions towards it depend on the
        focal disposition (supporters of the focal account turn critical). False: drawn as in the
        baseline, with the baseline's mix of senders, so its net support does not change.
    name
        Study name written to study.toml.
    report_dir
        ``[output] dir`` written to study.toml, relative to it (default ``reports/<name>``).
    """

    seed: int = 42
    accounts: int = 5000
    interactions: int = 50000
    days: int = 14
    crisis_start: str = "2014-02-14T09:00:00Z"
    crisis_end: str = "2014-02-19T18:00:00Z"
    lift: float = 8.0
    focal_share: float = 0.08
    tie_effect: bool = True
    role_order: bool = True
    institution_drop: bool = True
    name: str = "synthetic"
    report_dir: str | None = None

    def check(self) -> None:
        """Raise NetsupportError naming the first parameter that is out of range."""
        if self.seed < 0:  # (numpy's generators take no negative seed)
            raise NetsupportError(f"synth: --seed must be an integer >= 0, got {self.seed}")
        if self.accounts < 300:
            raise NetsupportError(f"synth: --accounts must be at least 300, got {self.accounts}")
        if self.interactions < 1000:
            raise NetsupportError(
                f"synth: --interactions must be at least 1000, got {self.interactions}"
            )
        if not 2 <= self.days <= 365:
            raise NetsupportError(f"synth: --days must be between 2 and 365, got {self.days}")
        if not 0.01 <= self.focal_share <= 0.4:
            raise NetsupportError(
                f"synth: --focal-share must be between 0.01 and 0.4, got {self.focal_share}"
            )
        if self.lift < 1:
            raise NetsupportError(f"synth: lift must be >= 1, got {self.lift}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise NetsupportError(
                f"synth: --name must be letters, digits, _ . -, got {self.name!r}"
            )


@dataclass
class Case:
    """A generated case in memory: accounts, follows, posts (column arrays) and the truth."""

    config: SynthConfig
    windows: Windows
    handles: list[str]
    account_ids: np.ndarray  # int64
    names: list[str]
    bios: list[str]
    roles: np.ndarray  # object (Role values)
    community: np.ndarray  # int8 index into COMMUNITIES
    followers_count: np.ndarray  # int64
    focal_followers: np.ndarray  # account indices
    focal_following: np.ndarray
    institution_followers: np.ndarray
    proxies: tuple[int, int]
    posts: dict[str, Any]  # column arrays, sorted by time; see _finalise_posts
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthResult:
    """What :func:`synthesize` wrote: the study file and every file with its size in bytes."""

    out_dir: Path
    study: Path
    files: tuple[tuple[str, int], ...]
    posts: int
    accounts: int
