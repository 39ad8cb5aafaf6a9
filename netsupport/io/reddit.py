"""Reddit: Pushshift and Arctic Shift dumps (NDJSON, one comment or submission per line).

The dumps researchers hold are newline-delimited JSON, usually Zstandard-compressed with a long
window (``RC_YYYY-MM.zst`` and ``RS_YYYY-MM.zst`` monthly dumps, ``<sub>_comments.zst`` and
``<sub>_submissions.zst`` per-subreddit extracts); :mod:`netsupport.io.compressed` reads them as
they decompress, so a 10 GB dump is streamed, never held in memory. Field names follow the Reddit
API objects the dumps copy (https://www.reddit.com/dev/api; Baumgartner et al. 2020, "The
Pushshift Reddit Dataset", ICWSM; Arctic Shift, https://github.com/ArthurHeitmann/arctic_shift):

* **comment** (has ``body`` or ``parent_id``): ``id``, ``author``, ``body``, ``created_utc``
  (seconds, a number or a string of one), ``parent_id`` (``t1_<id>``: a comment, ``t3_<id>``: a
  submission), ``link_id``, ``subreddit``, ``author_fullname`` (``t2_<id>``). A comment is a
  ``reply`` whose ``target_post_id`` is its ``parent_id``.
* **submission** (has ``title``): ``id``, ``author``, ``title``, ``selftext``, ``created_utc``.
  A ``post``; its text is the title, then a blank line and the self text when there is one.

Post ids are Reddit's full names (``t1_<id>``, ``t3_<id>``), so a comment's ``parent_id`` is a
post id. A reply's author is not in the comment: the parent's author is found when the parent is
imported, in this file, another file or a later import (:mod:`netsupport.threads`), so the
result does not depend on the order of the files. Accounts are ``reddit:<name>`` (lower case;
Reddit names are case-insensitive) so that they never merge with another platform's account of
the same name. ``[deleted]`` and ``[removed]`` authors are not accounts: their posts are kept
(author empty) and give no edges; a ``[deleted]`` or ``[removed]`` body or self text is no text.
``u/name`` and ``/u/name`` in a text are mentions.

A line that is not JSON, not an object, neither a comment nor a submission, or lacks an id or a
readable ``created_utc`` is a reject with its line number and the reason.

Examples
--------
>>> from netsupport.io.reddit import parse_record
>>> cols, acc = PostColumns("c.ndjson", PLATFORM_REDDIT), AccountRows()
>>> parse_record({"id": "c1", "author": "Amy", "body": "thanks u/Lane", "created_utc": 1392372000,
...     "parent_id": "t3_s1", "author_fullname": "t2_9"}, 1, cols, acc)
>>> row = cols.take().to_pylist()[0]
>>> row["post_id"], row["author"], row["kind"], row["target_post_id"], row["mentions"]
('t1_c1', 'reddit:amy', 'reply', 't3_s1', 'reddit:lane')
"""

from __future__ import annotations

import re
from codecs import BOM_UTF8 as _BOM
from collections.abc import Iterator
from pathlib import Path

import orjson

from ..schema import PostKind
from .base import AccountRows, Batch, ReadOptions, RejectRows, reread
from .columns import MAX_MICROS, MIN_MICROS, PostColumns
from .compressed import iter_lines, open_input

__all__ = ["PLATFORM_REDDIT", "looks_like_reddit", "parse_record", "read", "reddit_account"]

PLATFORM_REDDIT = "reddit"
#: Authors that are not accounts (the account was deleted, or the post removed).
NOT_ACCOUNTS = frozenset({"[deleted]", "[removed]", ""})
_GONE_TEXT = frozenset({"[deleted]", "[removed]"})
_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})\b")
_FULLNAME = re.compile(r"t[13]_[0-9a-z]{1,13}")
_DIGITS = re.compile(r"\d{1,12}(\.\d*)?")
_REPLY = PostKind.REPLY.value
_POST = PostKind.POST.value
_MIN_S, _MAX_S = MIN_MICROS // 1_000_000, MAX_MICROS // 1_000_000
_ACCOUNTS: dict[str, str] = {}  # user name -> account key, for the names seen most recently


def reddit_account(name: object) -> str | None:
    """Return the account key of a Reddit user name, or None when it is not an account.

    Examples
    --------
    >>> reddit_account("Inspector_Lane"), reddit_account("[deleted]"), reddit_account(None)
    ('reddit:inspector_lane', None, None)
    """
    if type(name) is not str:
        return None
    name = name.strip()
    if name in NOT_ACCOUNTS:
        return None
    return f"{PLATFORM_REDDIT}:{name.lower()}"


def _mentions(text: str | None, author: str | None) -> str | None:
    if not text or "u/" not in text:
        return None
    found = dict.fromkeys(f"{PLATFORM_REDDIT}:{m.lower()}" for m in _MENTION.findall(text))
    found.pop(author, None)  # type: ignore[arg-type]
    return " ".join(found) or None


def _micros(value: object) -> int | None:
    """``created_utc`` (seconds, as a number or a string of one) in microseconds, or None."""
    t = type(value)
    if t is int:
        seconds: float = value  # type: ignore[assignment]
    elif t is float:
        seconds = value  # type: ignore[assignment]
        if seconds != seconds:
            return None
    elif t is str and _DIGITS.fullmatch(value):  # type: ignore[arg-type]
        seconds = float(value) if "." in value else int(value)  # type: ignore[arg-type,operator]
    else:
        return None
    micros = round(seconds * 1_000_000) if t is not int else seconds * 1_000_000
    return int(micros) if MIN_MICROS <= micros < MAX_MICROS else None


def _text(value: object) -> str | None:
    if type(value) is not str or value in _GONE_TEXT:
        return None
    return value or None


def _full_id(value: object, prefix: str) -> str | None:
    t = type(value)
    if t is int:  # (a few dumps store numeric ids)
        return None
    if t is not str or not value:
        return None
    if value.startswith(("t1_", "t3_")):  # type: ignore[union-attr]
        return value  # type: ignore[return-value]
    return prefix + value  # type: ignore[operator]


def parse_record(obj: dict, line: int, cols: PostColumns, accounts: AccountRows) -> str | None:
    """Add one comment or submission to ``cols``; return None, or the reason it is rejected."""
    if "body" in obj or "parent_id" in obj:
        kind, prefix = _REPLY, "t1_"
    elif "title" in obj:
        kind, prefix = _POST, "t3_"
    else:
        return "not a Reddit comment (body, parent_id) or submission (title)"
    rid = obj.get("id")
    if type(rid) is str and rid and rid[2:3] != "_":  # (the usual bare id: no call)
        post_id: str | None = prefix + rid
    else:
        post_id = _full_id(rid, prefix)
        if post_id is None:
            return "missing id"
    raw = obj.get("created_utc")
    if type(raw) is int and _MIN_S <= raw < _MAX_S:  # (the usual whole seconds: no call)
        micros: int | None = raw * 1_000_000
    else:
        micros = _micros(raw)
        if micros is None:
            if raw is None:
                return "missing created_utc"
            return f"cannot read created_utc {str(raw)[:40]!r} (seconds since 1970, UTC)"
    name = obj.get("author")
    author = _ACCOUNTS.get(name) if type(name) is str else None  # type: ignore[arg-type]
    if author is None:
        author = reddit_account(name)
        if author is not None:
            if len(_ACCOUNTS) >= 1 << 20:  # (bounded: a dump names millions of accounts)
                _ACCOUNTS.clear()
            _ACCOUNTS[name] = author  # type: ignore[index]
    author_id = None
    if author is not None:
        fullname = obj.get("author_fullname")
        author_id = fullname if type(fullname) is str and fullname else None
        known = accounts.by_handle.get(author)
        if known is None or (known[1] is None and author_id is not None):
            accounts.add(author, author_id)  # (else nothing new: most authors post often)
    target = None
    if kind == _REPLY:
        parent = obj.get("parent_id")
        if type(parent) is not str or not _FULLNAME.fullmatch(parent):
            return f"comment without a parent_id of the form t1_<id> or t3_<id> (got {parent!r})"[
                :200
            ]
        target = parent
        text = _text(obj.get("body"))
    else:
        title, body = _text(obj.get("title")), _text(obj.get("selftext"))
        text = f"{title}\n\n{body}" if title and body else (title or body)
    mentions = _mentions(text, author) if author is not None else None
    cols.add(post_id, author, author_id, micros, text, kind, target, None, mentions, line)
    return None


def looks_like_reddit(obj: object) -> bool:
    """Return True for a Reddit comment or submission object (as the dumps hold them)."""
    if type(obj) is not dict or "created_utc" not in obj or "id" not in obj:
        return False
    if "parent_id" in obj and "body" in obj:
        return True
    return "title" in obj and ("selftext" in obj or "subreddit" in obj or "permalink" in obj)


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Reddit dump (plain or compressed NDJSON), streaming.

    Yields
    ------
    Batch
        Posts, accounts (name -> ``author_fullname``) and rejects.
    """
    rejects = RejectRows(source)
    cols = PostColumns(source, PLATFORM_REDDIT)
    accounts = AccountRows()
    loads, JSONError = orjson.loads, orjson.JSONDecodeError
    rows = 0
    with open_input(path) as fh:
        for n, line in enumerate(iter_lines(fh), 1):  # (lines ended by CR alone too)
            if n == 1 and line.startswith(_BOM):
                line = line[3:]
            if not line.strip():
                continue
            rows += 1
            try:
                obj = loads(line)
            except JSONError as exc:
                try:
                    obj = reread(line, exc)
                except JSONError:
                    rejects.add(n, "malformed JSON", line)
                    continue
            if type(obj) is not dict:
                rejects.add(n, "not a Reddit comment or submission (a JSON object)", line)
                continue
            reason = parse_record(obj, n, cols, accounts)
            if reason is not None:
                rejects.add(n, reason, line)
            if len(cols) >= options.batch_rows:
                yield Batch(
                    posts=cols.take(),
                    accounts=accounts.take(),
                    rejects=rejects.take(),
                    rows_read=rows,
                )
                rows = 0
    options.advance(Path(path).stat().st_size)
    yield Batch(posts=cols.take(), accounts=accounts.take(), rejects=rejects.take(), rows_read=rows)
