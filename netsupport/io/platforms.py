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

__all__ = [
    "PLATFORMS",
    "PLATFORM_MASTODON",
    "PLATFORM_TELEGRAM",
    "PLATFORM_TWITTER",
    "in_text",
    "platform_of",
    "qualify",
]

PLATFORM_TWITTER = "twitter"
PLATFORM_MASTODON = "mastodon"
PLATFORM_TELEGRAM = "telegram"
#: Every platform label a posts row may carry (bluesky and reddit: issue #16, another importer).
PLATFORMS = (PLATFORM_TWITTER, "bluesky", PLATFORM_MASTODON, "reddit", PLATFORM_TELEGRAM)


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


def in_text(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Return store keys followed by the forms their accounts take in post texts.

    A post's text names an account as ``@name``: Mastodon renders a mention of
    ``mastodon:name@host`` as ``@name``; a Telegram ``@username`` mention is stored as
    ``telegram:username``. Twitter keys are their own text form (the tuple is unchanged).

    Examples
    --------
    >>> in_text(("mastodon:lane@police.social", "telegram:lane_tg", "force"))
    ('mastodon:lane@police.social', 'telegram:lane_tg', 'force', 'lane', 'lane_tg')
    """
    extra = []
    for key in keys:
        prefix, sep, rest = key.partition(":")
        if sep and prefix in PLATFORMS and prefix != PLATFORM_TWITTER:
            local = rest.split("@", 1)[0]
            if local and local not in keys:
                extra.append(local)
    return tuple(dict.fromkeys((*keys, *extra)))
