"""Platform labels, and how an account of each platform is keyed in the store.

Accounts are never merged across platforms by handle: the same name on Twitter and on Telegram
may be two people. Twitter/X handles are stored as they always were (``inspector_lane``), so a
Twitter-only study is unchanged. Every other platform's accounts are stored with the platform as a
prefix, ``platform:handle``: ``mastodon:lane@police.social``, ``telegram:user123456789``. The
same string is what a study file names in ``focal``, ``institution`` and ``proxies``, and what
graphs, stance tables and reports show. An ``[study] account_map`` CSV links accounts of one
person across platforms (:mod:`netsupport.accountmap`).

Examples
--------
>>> qualify("mastodon", "Lane@Police.Social")
'mastodon:lane@police.social'
>>> qualify("twitter", "inspector_lane")
'inspector_lane'
>>> platform_of("telegram:user42"), platform_of("inspector_lane")
('telegram', 'twitter')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PLATFORMS",
    "PLATFORM_BLUESKY",
    "PLATFORM_MASTODON",
    "PLATFORM_TELEGRAM",
    "PLATFORM_TWITTER",
    "bluesky_handles",
    "in_text",
    "platform_of",
    "qualify",
]

PLATFORM_TWITTER = "twitter"
PLATFORM_MASTODON = "mastodon"
PLATFORM_TELEGRAM = "telegram"
PLATFORM_BLUESKY = "bluesky"
#: Every platform label a posts row may carry (bluesky and reddit: issue #16, another importer).
PLATFORMS = (PLATFORM_TWITTER, PLATFORM_BLUESKY, PLATFORM_MASTODON, "reddit", PLATFORM_TELEGRAM)


#: The leading word characters of a handle: what the stance rules read after ``@``.
_LABEL = re.compile(r"\w{1,50}")


def qualify(platform: str, handle: str) -> str:
    """Return the store key of an account: the handle, prefixed with its platform unless Twitter.

    The handle is lower-cased and stripped of white space and one leading ``@``.
    """
    h = handle.strip().lstrip("@").lower()
    return h if platform == PLATFORM_TWITTER else f"{platform}:{h}"


def platform_of(key: str) -> str:
    """Return the platform of a store account key (``twitter`` when it has no known prefix)."""
    prefix, sep, _ = key.partition(":")
    return prefix if sep and prefix in PLATFORMS else PLATFORM_TWITTER


def in_text(keys: tuple[str, ...], handles: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Return store keys followed by the forms their accounts take in post texts.

    A post's text names an account as ``@name``: Mastodon renders a mention of
    ``mastodon:name@host`` as ``@name``; a Telegram ``@username`` mention is stored as
    ``telegram:username``. Twitter keys are their own text form (the tuple is unchanged).

    A Bluesky key is a DID, which no text shows: texts write the account's handle
    (``@lane.bsky.social``), which ``handles`` gives (``{key: "@handle"}``, the store's accounts
    table: :func:`bluesky_handles`). Its forms are the handle and its first label (``lane``:
    the stance rules read ``@lane.bsky.social`` whole and name a side by the handle as written,
    else by its name before the first dot, as a Twitter-style ``@lane`` writes it).

    Examples
    --------
    >>> in_text(("mastodon:lane@police.social", "telegram:lane_tg", "force"))
    ('mastodon:lane@police.social', 'telegram:lane_tg', 'force', 'lane', 'lane_tg')
    >>> in_text(("bluesky:did:plc:ab12",), {"bluesky:did:plc:ab12": "@lane.bsky.social"})
    ('bluesky:did:plc:ab12', 'lane.bsky.social', 'lane')
    """
    extra = []
    for key in keys:
        prefix, sep, rest = key.partition(":")
        if prefix == PLATFORM_BLUESKY and rest.startswith("did:"):
            handle = (handles or {}).get(key, "").lstrip("@").lower()
            label = _LABEL.match(handle)
            extra += [handle, label.group(0)] if label else []
        elif sep and prefix in PLATFORMS and prefix != PLATFORM_TWITTER:
            local = rest.split("@", 1)[0]
            if local:
                extra.append(local)
    return tuple(dict.fromkeys((*keys, *(e for e in extra if e not in keys))))


def bluesky_handles(
    accounts: pd.DataFrame | None, keys: Iterable[str] | None = None
) -> dict[str, str]:
    """Return ``{store key: "@handle"}`` for the Bluesky accounts (keyed by DID) whose handle an
    input gave: the importer keeps it as the account's ``name`` (:mod:`netsupport.io.bluesky`).
    ``keys``: only these accounts (a study's sides), not all.

    Examples
    --------
    >>> import pandas as pd
    >>> bluesky_handles(pd.DataFrame({"handle": ["bluesky:did:plc:a1", "bluesky:did:plc:b2", "amy"],
    ...     "name": ["@alice.bsky.social", None, "@amy"]}))
    {'bluesky:did:plc:a1': '@alice.bsky.social'}
    """
    if accounts is None or accounts.empty or "name" not in accounts:
        return {}
    if keys is not None:
        accounts = accounts[accounts["handle"].isin(list(keys)).to_numpy(dtype=bool)]
    out = {}
    for key, name in zip(accounts["handle"], accounts["name"], strict=True):
        if (
            isinstance(key, str)
            and key.startswith("bluesky:did:")
            and isinstance(name, str)
            and name.startswith("@")
            and len(name) > 1
        ):
            out[key] = name
    return out
