"""Mastodon accounts from URLs, ``acct`` values and Mention tags: the store keys
(``mastodon:name@host``) that :mod:`netsupport.io.mastodon` gives authors, mentioned accounts and
the targets of replies, boosts and quotes.

An account comes from an actor or status URL (``https://host/users/NAME``,
``/users/NAME/statuses/ID``, ``/@NAME`` or ``/@NAME/ID``); a ``Mention`` whose ``href`` names
another user than its ``name`` (``@user@host``; Misskey's ``/users/<id>``) is its name's. An API
``acct`` without a host is local to the instance: its host comes from the account's ``url``, else
from the instance given.

Examples
--------
>>> handle_of_url("https://police.social/users/Lane/statuses/1099")
'mastodon:lane@police.social'
>>> handle_of_url("https://mastodon.social/@bob@other.host/42")
'mastodon:bob@other.host'
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from .platforms import PLATFORM_MASTODON, qualify

__all__ = ["handle_of_url"]

_P = PLATFORM_MASTODON
_N = len(_P) + 1  # (where the name starts in a store key)

#: /users/NAME[/statuses/ID] or /@NAME[/ID] (NAME may carry @host on a remote account's page)
_PATH_RE = re.compile(
    r"^/(?:users/([^/@]+)(?:/(?:statuses|objects)/[^/]+)?|@([^/]+)(?:/[^/]+)?)/?$"
)
_SIMPLE_URL_RE = re.compile(r"https?://([A-Za-z0-9.-]+)(/[^?#\[\]]*)$")
#: https://host/users/NAME/statuses/ID: the same account as https://host/users/NAME (group 1)
_STATUS_URL_RE = re.compile(r"(https?://[A-Za-z0-9.-]+/users/[^/@?#\[\]]+)/statuses/[^/?#\[\]]+/?")


def handle_of_url(url: object) -> str | None:
    """Return ``mastodon:name@host`` for an actor or status URL, or None if it names no account."""
    if type(url) is not str:
        return None
    try:  # (an account's URL: an archive repeats its owner's, and mentioned accounts recur)
        return _ACCOUNT_URLS[url]
    except KeyError:
        pass
    status = _STATUS_URL_RE.fullmatch(url)
    if status is not None:  # (each status URL is new: its account's URL is in the cache)
        return _handle_of_url(status.group(1))
    handle = _handle_of_url(url)
    if len(_ACCOUNT_URLS) >= 1 << 16:
        _ACCOUNT_URLS.clear()
    _ACCOUNT_URLS[url] = handle
    return handle


_ACCOUNT_URLS: dict[str, str | None] = {}  # URL (not a status's) -> handle_of_url
_UNSEEN = object()


@lru_cache(maxsize=1 << 16)  # (an archive repeats its owner's URL in every activity)
def _handle_of_url(url: str) -> str | None:
    simple = _SIMPLE_URL_RE.match(url)  # (urlsplit is 5 times slower; used for the rest)
    if simple is not None:
        host, path = simple.group(1).lower(), simple.group(2)
    else:
        if not url.startswith(("https://", "http://")):
            return None
        try:
            parts = urlsplit(url)
            host, path = parts.hostname, parts.path
        except ValueError:
            return None
    if not host:
        return None
    m = _PATH_RE.match(path)
    if m is None:
        return None
    name = m.group(1) or m.group(2)
    if "@" in name:  # /@bob@other.host/ID: a remote account seen on this instance
        name, _, host = name.partition("@")
    if not name or not host:
        return None
    return qualify(_P, f"{name}@{host}")


def _handle_of_acct(acct: object, url: object, instance: str | None) -> str | None:
    """Return the store key of an API ``acct`` (host from the acct, the url, or the instance)."""
    if type(acct) is not str:
        return None
    acct = acct.strip().lstrip("@")
    if not acct:
        return None
    if "@" in acct:
        name, _, host = acct.partition("@")
        return qualify(_P, acct) if name and host else None
    host = None
    if type(url) is str:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
    host = host or instance
    return qualify(_P, f"{acct}@{host}") if host else None


def _handle_of_mention_name(name: object) -> str | None:
    """``@bob@other.host`` (a Mention tag's name) -> ``mastodon:bob@other.host``."""
    if type(name) is not str:
        return None
    parts = name.strip().lstrip("@").split("@")
    if len(parts) == 2 and all(parts):
        return qualify(_P, "@".join(parts))
    return None


def _id_of(value: object) -> str | None:
    """An ActivityStreams link: a URI string, or an object with an ``id``."""
    if type(value) is dict:
        value = value.get("id")
    return value if type(value) is str and value else None


def _mentions_and_tags(tags: object, author: str | None) -> tuple[str | None, str | None]:
    mentions: dict[str, None] = {}
    hashtags: dict[str, None] = {}
    if type(tags) is dict:
        tags = [tags]
    for tag in tags if type(tags) is list else ():
        if type(tag) is not dict:
            continue
        kind = tag.get("type")
        if kind == "Mention":
            href = tag.get("href")
            h = _ACCOUNT_URLS.get(href, _UNSEEN) if type(href) is str else None
            if h is _UNSEEN:  # (handle_of_url's cache, looked up inline)
                h = handle_of_url(href)
            name = tag.get("name")
            if not h:
                h = _handle_of_mention_name(name)
            elif (
                type(name) is str
                and h[_N:] != name[1:]  # (@user@host as the href gives it: most)
                and h[_N : h.index("@")] != name.lstrip("@").partition("@")[0].lower()
            ):
                h = _handle_of_mention_name(name) or h  # (Misskey's /users/<id>: the name's)
            if h and h != author:
                mentions[h] = None
        elif kind == "Hashtag":
            name = tag.get("name")
            if type(name) is str and name.strip().lstrip("#"):
                hashtags[name.strip().lstrip("#").lower()] = None
    return (" ".join(mentions) or None, " ".join(hashtags) or None)
