"""Twitter JSON: API v2 (twarc2 response pages and flattened tweets) and API v1.1 tweets.

One reader for the JSON that Twitter collections come in:

* **v2 response pages**, one per line, as ``twarc2 search`` writes them:
  ``{"data": [...], "includes": {"users": [...], "tweets": [...]}, "meta": {...}}``. Author handles
  come from ``includes.users``; the author of a referenced tweet from ``includes.tweets``.
* **v2 tweets, one per line**, bare or flattened by ``twarc2 flatten`` (which embeds ``author``,
  ``in_reply_to_user`` and the referenced tweets).
* **v1.1 tweets** (``user.screen_name``, ``retweeted_status``, ``quoted_status``,
  ``in_reply_to_screen_name``, ``entities.user_mentions``, ``extended_tweet.full_text``): the format
  of most academic collections of 2010-2020 (PHEME, RumourEval).

Lines may mix the three. A file that is one JSON document (an array of tweets or pages, or one
pretty-printed tweet) is read whole. Only the tweets of ``data`` become posts: the referenced
tweets in ``includes.tweets``, ``retweeted_status`` and ``quoted_status`` were not collected by the
query, so they only name the target of a repost, quote or reply. Every user object seen (authors,
``includes.users``, embedded users, mentions with ids) becomes an ``accounts`` row.

Post kind: a retweet is a ``repost``; a reply that also quotes is a ``reply`` whose quoted tweet
travels in :attr:`Batch.quotes` (the importer adds its ``quote`` edge); otherwise a quote is a
``quote``. A tweet needs an id, an author (its handle, else ``id:<author_id>`` when the author is
missing from ``includes.users``), a string or null ``text`` and a readable ``created_at``; anything
else is a reject with the reason. A v2 user object (``twarc2 users`` output) is an account row.
Blocks of flattened v2 tweets or of v2 response pages go through an
Arrow fast path (:mod:`netsupport.io.v2_arrow`) that gives the same tables; anything else, line by
line through :class:`TweetParser`. Large files are split at line boundaries and parsed by two
worker processes, which leave their results as Arrow files in the importing transaction's
scratch folder.

Examples
--------
>>> p = TweetParser("example.jsonl")
>>> p.line(b'{"id": "2", "text": "@Lane hi", "created_at": "2014-02-14T10:00:00.000Z",'
...        b' "author": {"id": "7", "username": "Amy"},'
...        b' "entities": {"mentions": [{"username": "Lane", "id": "9"}]},'
...        b' "referenced_tweets": [{"type": "replied_to", "id": "1"}],'
...        b' "in_reply_to_user_id": "9"}', 1)
>>> b = p.take()
>>> row = b.posts.to_pylist()[0]
>>> row["author"], row["kind"], row["target_post_id"], row["target_author"], row["mentions"]
('amy', 'reply', '1', 'lane', 'lane')
"""

from __future__ import annotations

import itertools
import os
import re
from codecs import BOM_UTF8 as _BOM
from collections import deque
from collections.abc import Iterator
from itertools import compress, repeat
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputFileError
from ..schema import AccountCol, PostKind
from .base import (
    PLATFORM_TWITTER,
    QUOTES_SCHEMA,
    AccountRows,
    Batch,
    JsonLinesParser,
    PostRows,
    ReadOptions,
    RejectRows,
    as_id,
    loads,
    shift_lines,
)
from .compressed import (
    LINE_END_PROBE,
    compression_of,
    cr_only,
    iter_blocks,
    iter_lines,
    open_input,
)
from .pool import WorkerPool, worker_count
from .timestamps import twitter_time_to_iso
from .v2_arrow import parse_v2_block

__all__ = ["TweetParser", "looks_like_tweet", "read"]

_POST = PostKind.POST.value
_REPLY = PostKind.REPLY.value
_REPOST = PostKind.REPOST.value
_QUOTE = PostKind.QUOTE.value
_TW = PLATFORM_TWITTER

#: Files at least this big are parsed by a process pool, in chunks of CHUNK_BYTES.
PARALLEL_MIN_BYTES = 16 * 1024**2
CHUNK_BYTES = 8 * 1024**2
#: A JSON document (not JSON lines) is read whole; refuse bigger ones with advice.
DOCUMENT_MAX_BYTES = 1024**3

_RT_RE = re.compile(r"RT @(\w{1,50}):")
_STATUS_URL_RE = re.compile(
    r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w{1,50})/status(?:es)?/(\d+)"
)


def _handle(value: object) -> str | None:
    return value.lower() if type(value) is str and value else None


def _rt_target(text: object) -> str | None:
    if type(text) is str and text.startswith("RT @"):
        m = _RT_RE.match(text)
        if m:
            return m.group(1).lower()
    return None


def looks_like_tweet(obj: object) -> bool:
    """Return True if ``obj`` is a tweet, a v2 page or an archive ``{"tweet": ...}`` wrapper.

    Examples
    --------
    >>> looks_like_tweet({"data": [], "includes": {}}), looks_like_tweet({"name": "x"})
    (True, False)
    """
    if isinstance(obj, list):
        return bool(obj) and looks_like_tweet(obj[0])
    if not isinstance(obj, dict):
        return False
    if "data" in obj and isinstance(obj["data"], list | dict):
        return True
    if "tweet" in obj and isinstance(obj["tweet"], dict):
        return True
    has_id = "id" in obj or "id_str" in obj
    return has_id and any(
        k in obj for k in ("text", "full_text", "author_id", "user", "created_at", "author")
    )


def other_platform(t: dict) -> tuple[str, str] | None:
    """Return (what, format) when a JSON object read as a tweet is another platform's record:
    a Mastodon status, a Bluesky Jetstream event, a Reddit comment or submission, a Telegram
    message; None otherwise (only asked of a line that is rejected).

    Examples
    --------
    >>> other_platform({"id": "1", "account": {"acct": "a"}, "content": "<p>hi</p>"})
    ('a Mastodon status', 'mastodon')
    >>> other_platform({"did": "did:plc:x", "kind": "commit"})
    ('a Bluesky event', 'bluesky')
    >>> other_platform({"id": "1", "author": "amy", "subreddit": "x"})
    ('a Reddit comment or submission', 'reddit')
    >>> other_platform({"id": "1", "text": "hi"}) is None
    True
    """
    if isinstance(t.get("account"), dict) and "content" in t:
        return "a Mastodon status", "mastodon"
    if isinstance(t.get("did"), str) and ("kind" in t or "commit" in t):
        return "a Bluesky event", "bluesky"
    if "subreddit" in t:
        return "a Reddit comment or submission", "reddit"
    if "from_id" in t and "date" in t:
        return "a Telegram message", "telegram"
    return None


class TweetParser(JsonLinesParser):
    """Turn decoded tweets into post rows, account rows and rejects for one source.

    Parameters
    ----------
    source : str
        The ``source_file`` label.
    owner : (handle, account_id) or None
        The author of every tweet (archives, whose tweets carry no user).
    """

    def __init__(self, source: str, owner: tuple[str, str | None] | None = None):
        self.rejects = RejectRows(source)
        self.posts = PostRows(source, self.rejects)
        self.accounts = AccountRows()
        self.records = 0
        self.owner = owner
        #: (post_id, line, quoted post id, quoted author) of posts that reply and also quote
        self.quotes: list[tuple[str, int, str | None, str | None]] = []

    # -- entry points ---------------------------------------------------------------------------
    def value(self, obj: object, n: int, raw: object) -> None:
        """Parse one decoded JSON value: a tweet, a v2 page, an archive wrapper or a list."""
        if type(obj) is dict:
            # (a key holding null counts as absent, here and in the Arrow fast path)
            get = obj.get
            if get("data") is not None or get("includes") is not None:
                self.page(obj, n)
                return
            self.records += 1
            if type(get("tweet")) is dict:
                self.v1(obj["tweet"], n, raw)
            elif get("user") is not None or get("id_str") is not None or self.owner is not None:
                self.v1(obj, n, raw)
            elif _is_user(obj):  # a twarc2 users line: one user object
                self._user(obj, n, raw)
            elif "id" in obj:
                self.v2(obj, n, raw, _EMPTY, _EMPTY)
            else:
                keys = ", ".join(sorted(str(k) for k in obj)[:8])
                self.v2_reject(n, f"not a tweet (keys: {keys})", obj, raw)
        elif type(obj) is list:
            for item in obj:
                self.value(item, n, item)
        else:
            self.records += 1
            self.rejects.add(n, f"not a tweet (a JSON {type(obj).__name__})", raw)

    def page(self, obj: dict, n: int) -> None:
        """Parse a v2 response page: ``data`` tweets resolved against ``includes``."""
        includes = obj.get("includes")
        users: dict = {}
        tweets: dict = {}
        if type(includes) is dict:
            listed = includes.get("users")
            for u in listed if type(listed) is list else ():
                if type(u) is dict and type(u.get("id")) is str:
                    users[u["id"]] = u
                    self.accounts.add_user_v2(u)
            listed = includes.get("tweets")
            for t in listed if type(listed) is list else ():
                if type(t) is dict and type(t.get("id")) is str:
                    tweets[t["id"]] = t
        data = obj.get("data")
        if type(data) is dict:
            data = [data]
        if type(data) is not list:
            self.records += 1
            reason = "API error page without data" if "errors" in obj else "page without data"
            self.rejects.add(n, reason, obj)
            return
        for t in data:
            self.records += 1
            if type(t) is dict:
                if _is_user(t):  # a page of twarc2 users (user lookups): accounts
                    self._user(t, n, t)
                else:
                    self.v2(t, n, t, users, tweets)
            else:
                self.rejects.add(n, "not a tweet in data", t)

    def _user(self, user: dict, n: int, raw: object) -> None:
        """A twarc2 user object: an account, or a reject when its username is blank (it would
        name no account, and the line would be lost)."""
        if user["username"].strip():
            self.accounts.add_user_v2(user)
        else:
            self.rejects.add(n, "user without a username", raw)

    # -- v2 ---------------------------------------------------------------------------------------
    def v2_reject(self, n: int, reason: str, t: dict, raw: object) -> None:
        """Reject a line, saying which other platform's record it looks like, if any."""
        other = other_platform(t)
        if other is not None:
            reason += f"; it looks like {other[0]} (--format {other[1]} reads those)"
        self.rejects.add(n, reason, raw)

    def v2(self, t: dict, n: int, raw: object, users: dict, tweets: dict) -> None:
        """Parse one v2 tweet (bare, flattened, or from a page with ``users``/``tweets`` maps)."""
        try:
            g = t.get
            pid = g("id")
            if type(pid) is not str or not pid:
                pid = as_id(pid)
                if pid is None:
                    self.v2_reject(n, "missing id", t, raw)
                    return
            au = g("author")
            aid = g("author_id")
            if type(au) is not dict:
                au = users.get(aid) if type(aid) is str else None
            handle = au.get("username") if au is not None else None
            if type(handle) is not str or not handle:
                # (a suspended author is missing from includes.users: known by id, as follows)
                by_id = aid if aid is not None or au is None else au.get("id")
                if type(by_id) is not str or not by_id:
                    self.v2_reject(
                        n,
                        "missing author handle and author_id (no author.username, "
                        "none in includes.users)",
                        t,
                        raw,
                    )
                    return
                handle = f"id:{by_id}"
            handle = handle.lower()
            if aid is None and au is not None:
                aid = au.get("id")
            text = g("text")
            note = g("note_tweet")
            if type(note) is dict and type(note.get("text")) is str:
                text = note["text"]
            elif type(text) is not str:
                if text is not None:
                    self.rejects.add(n, f"text is a JSON {type(text).__name__}, not a string", raw)
                    return
                text = None
            mentions = hashtags = None
            mlist = None
            ent = g("entities")
            if ent:
                mlist = ent.get("mentions")
                if mlist:
                    if len(mlist) == 1:
                        mentions = mlist[0]["username"].lower()
                    else:
                        mentions = " ".join(dict.fromkeys([m["username"].lower() for m in mlist]))
                hl = ent.get("hashtags")
                if hl:
                    if len(hl) == 1:
                        hashtags = hl[0]["tag"].lower()
                    else:
                        hashtags = " ".join(dict.fromkeys([h["tag"].lower() for h in hl]))
            kind = _POST
            tpid = tauth = None
            refs = g("referenced_tweets")
            quoted = None
            if refs:
                ref = None
                for r in refs:
                    rtype = r["type"]
                    if rtype == "retweeted":
                        kind, ref = _REPOST, r
                        break
                    if rtype == "replied_to":
                        kind, ref = _REPLY, r
                    elif rtype == "quoted":
                        if ref is None:
                            kind, ref = _QUOTE, r
                        if quoted is None:
                            quoted = r
                if ref is not None:
                    tpid = as_id(ref.get("id"))
                    tauth = self._ref_author(ref, tpid, users, tweets)
                if kind is _REPLY and quoted is not None:  # it also quotes: a second edge
                    qid = as_id(quoted.get("id"))
                    qauth = quoted.get("author")
                    self.quotes.append(
                        (
                            pid,
                            n,
                            qid,
                            _handle(qauth.get("username"))
                            if type(qauth) is dict
                            else self._ref_author({}, qid, users, tweets),
                        )
                    )
            if kind is _REPLY and tauth is None:
                tauth = self._reply_user(t, users, mlist)
            elif kind is _REPOST and tauth is None:
                tauth = _rt_target(text)
            lang = g("lang")
            if au is not None:
                self.accounts.add_user_v2(au)
            self.posts.rows.append(
                (
                    _TW,
                    pid,
                    handle,
                    aid if type(aid) is str else as_id(aid),
                    g("created_at"),
                    text,
                    kind,
                    tpid,
                    tauth,
                    mentions,
                    hashtags,
                    lang if type(lang) is str else None,
                    n,
                    raw,
                )
            )
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            self.rejects.add(n, f"malformed tweet: {type(exc).__name__}: {exc}", raw)

    def _ref_author(self, ref: dict, tpid: str | None, users: dict, tweets: dict) -> str | None:
        au = ref.get("author")
        if type(au) is dict:
            self.accounts.add_user_v2(au)
            return _handle(au.get("username"))
        target = tweets.get(tpid) if tpid is not None else None
        if target is None:
            return None
        au = target.get("author")
        if type(au) is not dict:
            au = users.get(target.get("author_id"))
        return _handle(au.get("username")) if type(au) is dict else None

    def _reply_user(self, t: dict, users: dict, mlist: object) -> str | None:
        u = t.get("in_reply_to_user")
        if type(u) is dict:
            self.accounts.add_user_v2(u)
            return _handle(u.get("username"))
        uid = t.get("in_reply_to_user_id")
        if type(uid) is not str:
            return None
        u = users.get(uid)
        if u is not None:
            return _handle(u.get("username"))
        if type(mlist) is list:
            for m in mlist:
                if type(m) is dict and m.get("id") == uid:
                    return _handle(m.get("username"))
        return f"id:{uid}" if uid else None  # (a user missing from includes: by id)

    # -- v1.1 and archive -------------------------------------------------------------------------
    def v1(self, t: dict, n: int, raw: object) -> None:
        """Parse one v1.1 tweet (or an archive tweet, whose author is the archive's owner)."""
        try:
            g = t.get
            pid = as_id(g("id_str")) or as_id(g("id"))
            if pid is None:
                self.rejects.add(n, "missing id_str", raw)
                return
            if self.owner is not None:
                handle, aid = self.owner
            else:
                user = g("user")
                handle = _handle(user.get("screen_name")) if type(user) is dict else None
                if handle is None:
                    self.rejects.add(n, "missing user.screen_name", raw)
                    return
                aid = as_id(user.get("id_str")) or as_id(user.get("id"))
                self.accounts.add_user_v1(user)
            created = g("created_at")
            if type(created) is str:
                created = twitter_time_to_iso(created)
            ext = g("extended_tweet")
            if type(ext) is dict:
                text = ext.get("full_text")
                ents = ext.get("entities") or g("entities")
            else:
                text = g("full_text") or g("text")
                ents = g("entities")
            if type(text) is not str:
                text = None
            mentions = hashtags = None
            urls = ml = None
            if ents:
                ml = ents.get("user_mentions")
                if ml:
                    names = []
                    for m in ml:
                        h = m["screen_name"].lower()
                        names.append(h)
                        if h not in self.accounts.by_handle:
                            self.accounts.add(h, m.get("id_str") or m.get("id"))
                    mentions = " ".join(dict.fromkeys(names))
                hl = ents.get("hashtags")
                if hl:
                    hashtags = " ".join(dict.fromkeys([h["text"].lower() for h in hl]))
                urls = ents.get("urls")
            kind, tpid, tauth = self._v1_kind(t, text, urls, ml if ents else None)
            if kind is _REPLY:
                quote = self._v1_quote(t, urls)
                if quote is not None:  # it also quotes: a second edge
                    self.quotes.append((pid, n, *quote))
            lang = g("lang")
            self.posts.rows.append(
                (
                    _TW,
                    pid,
                    handle,
                    aid,
                    created,
                    text,
                    kind,
                    tpid,
                    tauth,
                    mentions,
                    hashtags,
                    lang if type(lang) is str else None,
                    n,
                    raw,
                )
            )
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            self.rejects.add(n, f"malformed tweet: {type(exc).__name__}: {exc}", raw)

    def _v1_kind(self, t: dict, text: str | None, urls: object, mentions: object):
        g = t.get
        rs = g("retweeted_status")
        if type(rs) is dict:
            user = rs.get("user")
            if type(user) is dict:
                self.accounts.add_user_v1(user)
                tauth = _handle(user.get("screen_name"))
            else:
                tauth = _rt_target(text)
            return _REPOST, as_id(rs.get("id_str")) or as_id(rs.get("id")), tauth
        reply_id = as_id(g("in_reply_to_status_id_str")) or as_id(g("in_reply_to_status_id"))
        reply_to = _handle(g("in_reply_to_screen_name"))
        if reply_to is None:  # (archives may leave the name null and keep the user's id)
            reply_to = self._user_by_id(
                as_id(g("in_reply_to_user_id_str")) or as_id(g("in_reply_to_user_id")), mentions
            )
        if reply_id is not None or reply_to is not None:
            return _REPLY, reply_id, reply_to
        qs = g("quoted_status")
        if type(qs) is dict:
            user = qs.get("user")
            tauth = None
            if type(user) is dict:
                self.accounts.add_user_v1(user)
                tauth = _handle(user.get("screen_name"))
            return _QUOTE, as_id(qs.get("id_str")) or as_id(qs.get("id")), tauth
        qid = as_id(g("quoted_status_id_str"))
        rt = _rt_target(text)
        if rt is not None:  # archives and old exports carry retweets only as "RT @x: ..."
            return _REPOST, None, rt
        if qid is not None or self.owner is not None:
            # A link to a status is a quote (archives keep quotes only as that link).
            for u in urls if type(urls) is list else ():
                m = _STATUS_URL_RE.match(u.get("expanded_url") or "") if type(u) is dict else None
                if m and (qid is None or m.group(2) == qid):
                    return _QUOTE, m.group(2), m.group(1).lower()
            if qid is not None:
                return _QUOTE, qid, None
        return _POST, None, None

    def _user_by_id(self, uid: str | None, mentions: object) -> str | None:
        """The handle of account ``uid``: a mention of the tweet, or the archive's owner; else
        ``id:NNN`` (the store puts the handle where its accounts know the id)."""
        if uid is None:
            return None
        for m in mentions if type(mentions) is list else ():
            if type(m) is dict and (as_id(m.get("id_str")) or as_id(m.get("id"))) == uid:
                name = _handle(m.get("screen_name"))
                if name is not None:
                    return name
        if self.owner is not None and self.owner[1] == uid:
            return self.owner[0]
        return f"id:{uid}"

    def _v1_quote(self, t: dict, urls: object) -> tuple[str | None, str | None] | None:
        """(quoted post id, quoted author) of a v1.1 or archive reply that also quotes."""
        qs = t.get("quoted_status")
        if type(qs) is dict:
            user = qs.get("user")
            tauth = None
            if type(user) is dict:
                self.accounts.add_user_v1(user)
                tauth = _handle(user.get("screen_name"))
            return as_id(qs.get("id_str")) or as_id(qs.get("id")), tauth
        qid = as_id(t.get("quoted_status_id_str"))
        if qid is None and self.owner is None:
            return None
        for u in urls if type(urls) is list else ():
            m = _STATUS_URL_RE.match(u.get("expanded_url") or "") if type(u) is dict else None
            if m and (qid is None or m.group(2) == qid):
                return m.group(2), m.group(1).lower()
        return (qid, None) if qid is not None else None

    # -- output -----------------------------------------------------------------------------------
    def take(self) -> Batch:
        """Return everything parsed since the last call as one :class:`Batch`."""
        posts, rejects = self.posts.take()
        batch = Batch(
            posts=posts,
            accounts=self.accounts.take(),
            rejects=rejects,
            rows_read=self.records,
            quotes=quotes_table(self.quotes),
        )
        self.records = 0
        self.quotes = []
        return batch


_EMPTY: dict = {}


def quotes_table(rows: list[tuple]) -> pa.Table | None:
    """The quotes of replies as a :data:`~netsupport.io.base.QUOTES_SCHEMA` table (None if none)."""
    if not rows:
        return None
    cols = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(c, f.type) for c, f in zip(cols, QUOTES_SCHEMA, strict=True)],
        schema=QUOTES_SCHEMA,
    )


#: Keys of a tweet that a v2 user object never has.
_TWEET_KEYS = ("text", "author_id", "author", "referenced_tweets", "note_tweet", "full_text")


def _is_user(obj: dict) -> bool:
    """True if ``obj`` is a v2 user object (``twarc2 users`` output), not a tweet.

    Examples
    --------
    >>> _is_user({"id": "7", "username": "amy", "created_at": "2009-01-01T00:00:00.000Z"})
    True
    >>> _is_user({"id": "1", "username": "amy", "text": "hi"})
    False
    """
    return type(obj.get("username")) is str and not any(k in obj for k in _TWEET_KEYS)


# ---- reading files ------------------------------------------------------------------------------


def parse_lines(
    data: bytes, source: str, *, strip_bom: bool = False, fast: bool = True
) -> tuple[Batch, int]:
    """Parse a block of JSON lines; return the batch (line numbers from 1) and the line count.

    Examples
    --------
    >>> b, n = parse_lines(b'{"id": "1"}\\n\\nnot json\\n', "x.jsonl")
    >>> n, b.rows_read, b.rejects.column("source_line").to_pylist()
    (3, 2, [1, 3])
    """
    if strip_bom and data.startswith(_BOM):
        data = data[3:]
    if fast:
        parts = _fast_parts(data, source)
        return parts[0] if len(parts) == 1 else _combine(parts)
    return _slow_lines(data, source)


def _line_span(data: bytes, k: int) -> tuple[int, int]:
    """Byte offsets (start, end) of line ``k`` (from 0), the end past its newline."""
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    start = int(newlines[k - 1]) + 1 if k > 0 else 0
    end = int(newlines[k]) + 1 if k < len(newlines) else len(data)
    return start, end


def _fast_parts(data: bytes, source: str) -> list[tuple[Batch, int]]:
    """Parse a block with the Arrow fast path, sending only the lines it refuses (up to
    BAD_LINES_PER_BLOCK of them; then the rest of the block) to the line parser."""
    # (fast?, bytes, Arrow's table of those bytes when already read)
    todo: list[tuple[bool, bytes, pa.Table | None]] = [(True, data, None)]
    parts = []
    budget = BAD_LINES_PER_BLOCK
    while todo:
        fast, seg, table = todo.pop(0)
        parsed: list[pa.Table] = []
        done = parse_v2_block(seg, source, table, parsed) if fast and budget > 0 else None
        if isinstance(done, tuple):
            parts.append(done)
            continue
        if done is None:
            if fast and budget > 0 and len(seg) >= SPLIT_MIN_BYTES and seg[:1] == b"{":
                budget -= 1  # the refused line is not known: look at smaller pieces
                todo[0:0] = [(True, piece, None) for piece in _pieces(seg, 4)]
            else:
                parts.append(_slow_lines(seg, source))
            continue
        budget -= 1
        start, end = _line_span(seg, done)
        # refused after Arrow read the block (no author...): the other lines' rows are reused
        whole = parsed[0] if parsed else None
        todo[0:0] = [
            *([(True, seg[:start], _rows(whole, 0, done))] if start else []),
            (False, seg[start:end], None),
            *([(True, seg[end:], _rows(whole, done + 1, None))] if end < len(seg) else []),
        ]
    return parts


def _rows(table: pa.Table | None, start: int, stop: int | None) -> pa.Table | None:
    """Rows [start, stop) of ``table`` as fresh arrays (list offsets from 0, as Arrow reads)."""
    if table is None:
        return None
    stop = table.num_rows if stop is None else stop
    return table.take(pa.array(np.arange(start, stop, dtype=np.int64)))


def _slow_lines(data: bytes, source: str) -> tuple[Batch, int]:
    """Parse a block line by line with TweetParser."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    parser = TweetParser(source)
    add = parser.line
    for n, line in enumerate(lines, 1):
        if line and not line.isspace():
            add(line, n)
    return parser.take(), len(lines)


#: Blocks the fast path refuses without saying where are retried in pieces down to this size.
SPLIT_MIN_BYTES = 64 * 1024
#: Lines per block the fast path may refuse one by one before the block goes line by line.
BAD_LINES_PER_BLOCK = 32


def _pieces(data: bytes, k: int) -> list[bytes]:
    """Split ``data`` into about ``k`` pieces at line ends."""
    step = max(1, len(data) // k)
    out, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start + step)
        end = len(data) if end < 0 else end + 1
        out.append(data[start:end])
        start = end
    return out


def _combine(parts: list[tuple[Batch, int]]) -> tuple[Batch, int]:
    """Join the batches of consecutive pieces of one block (line numbers made continuous)."""
    posts, rejects, accounts, quotes = [], [], [], []
    offset = rows = 0
    for batch, nlines in parts:
        batch = _shift(batch, offset)
        offset += nlines
        rows += batch.rows_read
        if batch.quotes is not None:
            quotes.append(batch.quotes)
        if batch.posts is not None:
            posts.append(batch.posts)
        if batch.rejects is not None:
            rejects.append(batch.rejects)
        if batch.accounts is not None:
            accounts.append(batch.accounts)
    return (
        Batch(
            posts=pa.concat_tables(posts) if posts else None,
            accounts=_merge_in_order(accounts) if accounts else None,
            rejects=pa.concat_tables(rejects) if rejects else None,
            rows_read=rows,
            quotes=pa.concat_tables(quotes) if quotes else None,
        ),
        offset,
    )


def _merge_in_order(tables: list[pa.Table]) -> pa.Table:
    """Accounts by handle, first non-null value per field, handles in first-seen order."""
    if len(tables) == 1:
        return tables[0]
    t = pa.concat_tables(tables)
    t = t.append_column("_o", pa.array(range(t.num_rows), pa.int64()))
    names = [n for n in t.column_names if n not in ("handle", "_o")]
    g = t.group_by("handle", use_threads=False).aggregate(
        [(n, "first") for n in names] + [("_o", "min")]
    )
    g = g.take(pc.sort_indices(g.column("_o_min")))
    return pa.Table.from_arrays(
        [g.column("handle")] + [g.column(f"{n}_first") for n in names], schema=tables[0].schema
    )


def _parse_range(
    path: str, start: int, end: int, source: str, spool: str | None = None
) -> tuple[bytes | str, int, int]:
    """Worker: parse bytes [start, end) of ``path``; return (the batch as Arrow IPC, lines,
    rows). With ``spool``, the IPC is written to a file in that folder and its path returned
    (a pipe moves a few MB between two busy processes slower than a file in the page cache)."""
    import gc

    gc.disable()  # the parse allocates millions of short-lived containers and no cycles
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start)
        batch, nlines = parse_lines(data, source, strip_bom=start == 0)
        if spool is not None and batch.accounts is not None:
            batch.accounts = _drop_known_accounts(batch.accounts, (spool, source))
        if spool is None:
            sink = pa.BufferOutputStream()
            _dump(batch, sink)
            return sink.getvalue().to_pybytes(), nlines, batch.rows_read
        out = os.path.join(spool, f"{start:014d}.arrow")
        with pa.OSFile(out, "wb") as sink:
            _dump(batch, sink)
        return out, nlines, batch.rows_read
    finally:
        gc.enable()


_TABLES = ("posts", "accounts", "rejects", "quotes")

#: (transaction scratch folder, source file) -> {handle: fields this worker has sent a value of}
_KNOWN: dict[tuple[str, str], dict[str, int]] = {}
_FIELDS = (
    AccountCol.ACCOUNT_ID,
    AccountCol.NAME,
    AccountCol.DESCRIPTION,
    AccountCol.FOLLOWERS_COUNT,
    AccountCol.ROLE,
)


def _drop_known_accounts(accounts: pa.Table, key: tuple[str, str]) -> pa.Table:
    """Worker: drop the account rows that cannot change the store's merge.

    The store merges account rows in file order, first non-null value per field. A row whose
    non-null fields all had a value in a row this worker sent before for the same handle
    (in an earlier chunk of the same file: earlier in file order, as each worker takes chunks
    in order) changes nothing. A big file names the same users over
    and over: this spares most of the main process's merging.
    """
    known = _KNOWN.get(key)
    if known is None:
        _KNOWN.clear()  # (another file or import: what was known belongs to it)
        known = _KNOWN[key] = {}
    bits = np.zeros(accounts.num_rows, dtype=np.int64)
    for i, name in enumerate(_FIELDS):
        bits |= (
            pc.is_valid(accounts.column(name)).to_numpy(zero_copy_only=False).astype(np.int64) << i
        )
    handles = accounts.column(AccountCol.HANDLE).to_pylist()
    n = len(handles)
    before = np.fromiter(map(known.get, handles, repeat(0, n)), dtype=np.int64, count=n)
    keep = (bits & ~before) != 0
    # (two rows of one handle in this chunk: the later one may overwrite the earlier one's
    # bits here, so a later chunk keeps rows it could have left out: never the reverse)
    known.update(zip(compress(handles, keep), (before | bits)[keep].tolist(), strict=True))
    if keep.all():
        return accounts
    return accounts.filter(pa.array(keep))


def _dump(batch: Batch, sink) -> None:
    """Write a batch's tables to ``sink`` (a file or buffer): each one's IPC stream, written
    straight to the sink, then a trailer with their names and sizes."""
    present = [name for name in _TABLES if getattr(batch, name) is not None]
    sizes = []
    for name in present:
        table = getattr(batch, name)
        start = sink.tell()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        sizes.append(sink.tell() - start)
    trailer = (
        len(present).to_bytes(1, "little")
        + b"".join(size.to_bytes(8, "little") for size in sizes)
        + ",".join(present).encode()
    )
    sink.write(trailer + len(trailer).to_bytes(4, "little"))


def _load_file(path: str, rows_read: int) -> Batch:
    """The batch a worker left in ``path``, and the file removed.

    The posts are used memory-mapped (no copy: they are written out soon); the accounts and
    rejects, which the store keeps queued for longer, are copied, so that they do not keep
    the whole file mapped (at 10^7 tweets that pinned gigabytes).
    """
    with pa.memory_map(path) as source:
        data = source.read_buffer()
    os.unlink(path)  # (the mapping stays valid while the tables use it)
    batch = _load(data, rows_read)
    batch.accounts = _copied(batch.accounts)
    batch.rejects = _copied(batch.rejects)
    return batch


def _copied(table: pa.Table | None) -> pa.Table | None:
    """``table`` in freshly allocated memory."""
    if table is None:
        return None
    return table.take(pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _load(data: bytes | pa.Buffer, rows_read: int) -> Batch:
    """The batch :func:`_dump` wrote (zero-copy: the tables use ``data``'s memory)."""
    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    tlen = int.from_bytes(buf.slice(buf.size - 4, 4).to_pybytes(), "little")
    trailer = buf.slice(buf.size - 4 - tlen, tlen).to_pybytes()
    count = trailer[0]
    sizes = [int.from_bytes(trailer[1 + 8 * i : 9 + 8 * i], "little") for i in range(count)]
    names = trailer[1 + 8 * count :].decode().split(",") if count else []
    batch = Batch(rows_read=rows_read)
    pos = 0
    for name, size in zip(names, sizes, strict=True):
        with pa.ipc.open_stream(buf.slice(pos, size)) as reader:
            setattr(batch, name, reader.read_all())
        pos += size
    return batch


def _chunks(path: Path, size: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Yield byte ranges of about ``chunk`` bytes that start at line starts."""
    start = 0
    with open(path, "rb") as fh:
        while start < size:
            fh.seek(min(start + chunk, size))
            if fh.tell() < size:
                fh.readline()
            end = min(fh.tell(), size)
            yield start, end
            start = end


def _read_lines(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    size = path.stat().st_size
    workers = worker_count(options.workers)
    if workers > 1 and size >= PARALLEL_MIN_BYTES:
        if options.pool is not None:
            yield from _read_parallel(path, size, source, options, options.pool)
        else:
            with WorkerPool(workers) as pool:
                yield from _read_parallel(path, size, source, options, pool)
        return
    offset = 0
    for start, end in _chunks(path, size, CHUNK_BYTES):
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start)
        batch, nlines = parse_lines(data, source, strip_bom=start == 0)
        options.advance(end - start)
        yield _shift(batch, offset)
        offset += nlines


def _read_parallel(
    path: Path, size: int, source: str, options: ReadOptions, pool: WorkerPool
) -> Iterator[Batch]:
    """Chunks parsed by the pool's workers, yielded in file order (line numbers made exact)."""
    offset = 0
    pending: deque = deque()
    for start, end in _chunks(path, size, CHUNK_BYTES):
        job = pool.submit(_parse_range, str(path), start, end, source, options.spool)
        pending.append((end - start, job))
        if len(pending) > 2 * pool.workers:
            batch, offset = _collect(pending.popleft(), offset, options)
            yield batch
    while pending:
        batch, offset = _collect(pending.popleft(), offset, options)
        yield batch


def _collect(item, offset: int, options: ReadOptions) -> tuple[Batch, int]:
    nbytes, future = item
    data, nlines, rows = future.result()
    options.advance(nbytes)
    batch = _load_file(data, rows) if isinstance(data, str) else _load(data, rows)
    return _shift(batch, offset), offset + nlines


def _shift(batch: Batch, offset: int) -> Batch:
    batch.posts = shift_lines(batch.posts, offset)
    batch.rejects = shift_lines(batch.rejects, offset)
    batch.quotes = shift_lines(batch.quotes, offset)
    return batch


#: How far :func:`_layout` looks for a line that parses before it tries one document.
LAYOUT_LINES = 10_000
LAYOUT_BYTES = 64 * 1024**2


def _parses_as_record(line: bytes) -> bool:
    """True if ``line`` is one JSON object or array (a bare number or string is not: a
    pretty-printed array has lines like ``  12``)."""
    try:
        return type(loads(line)) in (dict, list)
    except orjson.JSONDecodeError:
        return False


def _layout(path: Path) -> tuple[str, object]:
    """Return ("lines", None) or ("document", parsed value) for a JSON file.

    JSON lines if a line of the file is a JSON object or array on its own: the first one that
    parses decides, so broken lines before it (or a line 1 with a byte that is not UTF-8) are
    rejects, not a reason to refuse the file. When the first line does not parse, a file small
    enough is first tried as one document (a pretty-printed array or object). A file where no
    line parses (within the first LAYOUT_LINES lines and LAYOUT_BYTES bytes) is one document; a
    document that does not parse cannot be read at all (InputFileError).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head != _BOM:
            fh.seek(0)
        first = b""
        while not first.strip():
            first = fh.readline()
            if not first:
                return "lines", None  # (blank)
        if first.lstrip()[:1] not in (b"{", b"["):
            return "lines", None
        if _parses_as_record(first):
            return "lines", None  # (a one-line array reads the same either way)
        if size <= LAYOUT_BYTES:
            doc, error = _document(path)
            if error is None:
                return "document", doc
        seen = len(first)
        for _ in range(LAYOUT_LINES):
            line = fh.readline()
            seen += len(line)
            if not line or seen > LAYOUT_BYTES:
                break
            if line.strip() and _parses_as_record(line):
                return "lines", None
    if size > DOCUMENT_MAX_BYTES:
        raise InputFileError(
            path,
            f"a single JSON document of {size} bytes is too big to read whole; "
            "write it as JSON lines (one tweet or page per line), e.g. with jq -c '.[]'",
        )
    doc, error = _document(path)
    if error is not None:
        raise InputFileError(path, f"not valid JSON ({error}); truncated?")
    return "document", doc


def _document(path: Path) -> tuple[object, Exception | None]:
    """The file parsed as one JSON document, or (None, the parse error)."""
    data = path.read_bytes()
    try:
        return loads(data[3:] if data.startswith(_BOM) else data), None
    except orjson.JSONDecodeError as exc:
        return None, exc


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Twitter JSON file (v2 pages, v2 tweets, v1.1 tweets; lines or one document).

    Yields
    ------
    Batch
        Posts, accounts and rejects.
    """
    if _cr_lines(path):
        yield from _read_cr_lines(path, source, options)
        return
    if compression_of(path) is not None:
        yield from _read_compressed(path, source, options)
        return
    layout, doc = _layout(path)
    if layout == "lines":
        yield from _read_lines(path, source, options)
        return
    parser = TweetParser(source)
    items = doc if type(doc) is list else [doc]
    for i, item in enumerate(items, 1):
        parser.value(item, i, item)
        if len(parser.posts) >= options.batch_rows:
            yield parser.take()
    options.advance(path.stat().st_size)
    yield parser.take()


def _cr_lines(path: Path) -> bool:
    """True for JSON lines ended by CR alone (classic Mac OS) whose first line is a record (a
    pretty-printed document so saved is read as a document)."""
    with open_input(path) as fh:
        head = fh.read(LINE_END_PROBE)
    if not cr_only(head):
        return False
    first = head.removeprefix(_BOM).lstrip(b" \t\r").split(b"\r", 1)[0]
    return _parses_as_record(first)


def _read_cr_lines(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read JSON lines ended by CR alone as the same lines ended by LF (one process)."""
    offset, block, size = 0, [], 0
    with open_input(path) as fh:
        for line in itertools.chain(iter_lines(fh), [None]):  # (None: the end)
            if line is not None:
                block.append(line)
                size += len(line)
            if block and (line is None or size >= CHUNK_BYTES):
                batch, nlines = parse_lines(b"".join(block), source, strip_bom=offset == 0)
                yield _shift(batch, offset)
                offset += nlines
                block, size = [], 0
    options.advance(path.stat().st_size)


def _read_compressed(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a gzip/zstd/bzip2/xz file of Twitter JSON as it decompresses (one process).

    The layout is decided as for a plain file (:func:`_layout`): JSON lines if the first line is
    a JSON object or array; else a file under LAYOUT_BYTES that parses whole is one document;
    else JSON lines if any line of the first LAYOUT_BYTES parses (the broken ones are rejects),
    one document if none (read whole, up to ``DOCUMENT_MAX_BYTES`` decompressed).
    """
    with open_input(path) as fh:
        head = fh.read(1 << 20)
        body = head[3:] if head.startswith(_BOM) else head
        stripped = body.lstrip()
        first = stripped.split(b"\n", 1)[0]
        if b"\n" not in stripped and len(head) == 1 << 20:
            head += fh.readline()  # a first line longer than the head
            first = (head[3:] if head.startswith(_BOM) else head).lstrip()
        document = False
        if stripped[:1] in (b"{", b"[") and not _parses_as_record(first):
            # as _layout: a small file is first tried as one document, then the first line
            # that parses decides
            head += fh.read(LAYOUT_BYTES - len(head))
            if len(head) < LAYOUT_BYTES:
                whole, error = head[3:] if head.startswith(_BOM) else head, None
                try:
                    doc = loads(whole)
                except orjson.JSONDecodeError as exc:
                    error = exc
                if error is None:
                    yield from _document_batches(doc, source, options, path)
                    return
            lines = head.split(b"\n")
            if len(head) == LAYOUT_BYTES:
                lines.pop()  # (may be cut)
            document = not any(ln.strip() and _parses_as_record(ln) for ln in lines)
        if not document:
            offset = 0
            for i, block in enumerate(iter_blocks(fh, CHUNK_BYTES, head)):
                batch, nlines = parse_lines(block, source, strip_bom=i == 0)
                yield _shift(batch, offset)
                offset += nlines
            options.advance(path.stat().st_size)
            return
        data = head + fh.read(DOCUMENT_MAX_BYTES + 1 - len(head))
        if len(data) > DOCUMENT_MAX_BYTES:
            raise InputFileError(
                path,
                "a single JSON document of more than "
                f"{DOCUMENT_MAX_BYTES} bytes is too big to read whole; "
                "write it as JSON lines (one tweet or page per line), e.g. with jq -c '.[]'",
            )
    try:
        doc = loads(data[3:] if data.startswith(_BOM) else data)
    except orjson.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON ({exc}); truncated?") from None
    yield from _document_batches(doc, source, options, path)


def _document_batches(doc: object, source: str, options: ReadOptions, path: Path):
    """The batches of a JSON document (an array of tweets or pages, or one of them)."""
    parser = TweetParser(source)
    for i, item in enumerate(doc if type(doc) is list else [doc], 1):
        parser.value(item, i, item)
        if len(parser.posts) >= options.batch_rows:
            yield parser.take()
    options.advance(path.stat().st_size)
    yield parser.take()
