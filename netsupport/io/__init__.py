"""Importers: one module per source format, each turning a file into canonical rows and rejects.

Every importer has the same interface (:class:`netsupport.io.base.Reader`):
``read(path, source, options) -> Iterator[Batch]``. :data:`FORMATS` names them;
:func:`detect_format` picks one from a file's content.

========================  ===============================================================
format                    what it reads
========================  ===============================================================
``twitter-v2``            Twitter API v2 JSON (twarc2 pages or tweets per line) and v1.1 JSON
``twitter-archive``       a Twitter/X personal archive: the zip, or its extracted folder
``csv``                   any CSV with ``--map COL=FIELD``; ``source,target,kind,...`` edges
``nodexl``                NodeXL edge exports (Vertex 1, Vertex 2, Relationship, ...)
``followers``             a follower or following list of one account (CSV or text)
``accounts``              an accounts CSV (handle, account_id, name, ..., role)
``mastodon``              a Mastodon archive (zip, tar.gz, folder) or API statuses (JSON lines)
``telegram``              a Telegram Desktop export ``result.json`` (one chat or all chats)
``bluesky``               Bluesky: Jetstream NDJSON events, repository CAR exports, did,handle CSV
``reddit``                Reddit: Pushshift / Arctic Shift comment and submission dumps (NDJSON)
========================  ===============================================================
"""

from __future__ import annotations

from importlib import import_module

from ..errors import UnknownFormat
from .base import Batch, Reader, ReadOptions
from .detect import detect_format, fingerprint

__all__ = [
    "FORMATS",
    "Batch",
    "ReadOptions",
    "Reader",
    "detect_format",
    "fingerprint",
    "reader_for",
]

#: Format name -> module holding its ``read`` function.
FORMATS: dict[str, str] = {
    "twitter-v2": "twitter_json",
    "twitter-archive": "archive",
    "csv": "csvfile",
    "nodexl": "csvfile:read_nodexl",
    "followers": "followers",
    "accounts": "accounts",
    "mastodon": "mastodon",
    "telegram": "telegram",
    "bluesky": "bluesky",
    "reddit": "reddit",
}


def reader_for(fmt: str) -> Reader:
    """Return the reader function of a format name.

    Examples
    --------
    >>> reader_for("twitter-v2").__module__
    'netsupport.io.twitter_json'
    """
    target = FORMATS.get(fmt)
    if target is None:
        raise UnknownFormat(
            fmt, f"unknown format; expected auto or one of {', '.join(sorted(FORMATS))}"
        )
    module, _, func = target.partition(":")
    return getattr(import_module(f"{__name__}.{module}"), func or "read")
