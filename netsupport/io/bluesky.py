"""Bluesky (AT Protocol): Jetstream event files and repository exports (``.car``).

Two shapes researchers hold:

* **Jetstream NDJSON** (https://github.com/bluesky-social/jetstream, README "Example events"): one
  event per line, ``{"did", "time_us", "kind", ...}``. ``kind`` ``commit`` carries ``commit``
  ``{"operation": "create"|"update"|"delete", "collection", "rkey", "record"}``; ``identity``
  carries ``identity`` ``{"did", "handle"}``; ``account`` carries the account's status. The
  first Jetstream (github.com/ericvolp12/jetstream, ``pkg/models/models.go``, 2024) wrote
  ``"type": "com"|"acc"|"id"`` for ``kind`` and ``commit.type`` ``"c"|"u"|"d"`` for the
  operation: files saved from it read the same.
* **Repository exports**: the CAR file ``com.atproto.sync.getRepo`` returns
  (https://atproto.com/specs/repository): the signed commit (``did``, ``data``: the root of the
  Merkle search tree) and every record, keyed ``collection/rkey``. Read with libipld
  (``decode_car``); the tree is walked in key order. The whole file is read into memory (an
  account's repository; Jetstream files are the shape for large collections).

Records (lexicons at https://atproto.com/ and github.com/bluesky-social/atproto/lexicons):

* ``app.bsky.feed.post``: ``text``, ``createdAt``, ``langs``; ``reply.parent.uri`` (an
  ``at://DID/app.bsky.feed.post/RKEY`` URI) makes it a ``reply`` to the parent's author; an
  ``embed`` of type ``app.bsky.embed.record`` (``embed.record.uri``) or
  ``app.bsky.embed.recordWithMedia`` (``embed.record.record.uri``) quoting a post makes it a
  ``quote`` (a reply that also quotes is a reply, and its quote a second edge, as for tweets:
  :attr:`~netsupport.io.base.Batch.quotes`); ``facets`` features
  ``app.bsky.richtext.facet#mention`` (``did``) are mentions, ``#tag`` (``tag``) hashtags.
* ``app.bsky.feed.repost``: a ``repost`` post of ``subject.uri``.
* ``app.bsky.feed.like``: a ``like`` interaction liker -> the liked post's author, its id the
  like record's URI (so the same like in two overlapping captures is stored once).
* ``app.bsky.graph.follow``: a follow of ``subject`` (a DID), observed at ``createdAt``.
* ``app.bsky.actor.profile``: ``displayName`` and ``description`` of the account.

Accounts are keyed by DID, which never changes (``bluesky:did:plc:...``: the platform prefix
keeps them apart from other platforms' accounts); the handle, which can change, is shown beside
it (the account's ``name``, ``@alice.bsky.social``) where an input gives one: a Jetstream
``identity`` event, or a handles CSV (``did,handle`` header, imported like any input). A study
names Bluesky accounts by key (``focal = ["bluesky:did:plc:..."]``).

A post's id is its ``at://`` URI. Its time is the record's ``createdAt``; where that is missing or
unreadable, the event's ``time_us`` (when the relay saw it). **Deletes** (``operation`` =
``delete``) mark, they do not remove: what was posted in a crisis was seen while it stood. Each
is a row of the store's ``deletions`` table (the deleted record's ``at://`` URI, its collection,
author and the event's ``time_us``); the record stays, and the import summary says how many.
An ``update`` (a profile edit) is read like a create. Records of other collections (blocks, lists,
threadgates...) are ignored and counted per collection. Bad events are rejects with the line (or the
record's position in a CAR) and the reason.

Examples
--------
>>> p = Parser("jetstream.ndjson")
>>> p.event({"did": "did:plc:amy", "time_us": 1392372000000000, "kind": "commit",
...     "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3k1",
...     "record": {"text": "hang in there", "createdAt": "2014-02-14T10:00:00Z",
...         "reply": {"parent": {"uri": "at://did:plc:lane/app.bsky.feed.post/3k0"},
...                   "root": {"uri": "at://did:plc:lane/app.bsky.feed.post/3k0"}}}}}, 1)
>>> row = p.take().posts.to_pylist()[0]
>>> row["author"], row["kind"], row["target_author"]
('bluesky:did:plc:amy', 'reply', 'bluesky:did:plc:lane')
"""

from __future__ import annotations

import csv
import io
import re
from codecs import BOM_UTF8 as _BOM
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa

from ..errors import InputFileError
from ..schema import SCHEMAS, DeletionCol, IKind, PostKind, Table
from .base import AccountRows, Batch, ReadOptions, RejectRows, reread
from .columns import MAX_MICROS, MIN_MICROS, PostColumns, interaction_table
from .compressed import iter_lines, open_input
from .twitter_json import quotes_table

__all__ = [
    "PLATFORM_BLUESKY",
    "Parser",
    "bluesky_account",
    "looks_like_car",
    "looks_like_jetstream",
    "read",
]

PLATFORM_BLUESKY = "bluesky"
POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
PROFILE = "app.bsky.actor.profile"
_EMBED_RECORD = "app.bsky.embed.record"
_EMBED_WITH_MEDIA = "app.bsky.embed.recordWithMedia"
_MENTION = "app.bsky.richtext.facet#mention"
_TAG = "app.bsky.richtext.facet#tag"
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CAR_MAX_BYTES = 2 * 1024**3
#: The first Jetstream's names (``type``; ``commit.type``) of the event kinds and operations.
_OLD_KINDS = {"com": "commit", "acc": "account", "id": "identity"}
_OLD_OPERATIONS = {"c": "create", "u": "update", "d": "delete"}
_FOLLOW_SCHEMA = SCHEMAS[Table.FOLLOWS]
_DELETION_SCHEMA = SCHEMAS[Table.DELETIONS]
_DELETED_AT = _DELETION_SCHEMA.field(DeletionCol.DELETED_AT).type


def bluesky_account(did: object) -> str | None:
    """Return the account key of a DID (``bluesky:<did>``), or None when it is not a DID.

    Examples
    --------
    >>> bluesky_account("did:plc:ewvi7nxzyoun6zhxrhs64oiz"), bluesky_account("alice")
    ('bluesky:did:plc:ewvi7nxzyoun6zhxrhs64oiz', None)
    """
    if type(did) is not str:
        return None
    key = _KEYS.get(did)
    if key is None:
        if not _DID.fullmatch(did):
            return None
        if len(_KEYS) >= 1 << 20:  # (bounded: a firehose names millions of accounts)
            _KEYS.clear()
        key = _KEYS[did] = f"{PLATFORM_BLUESKY}:{did.lower()}"
    return key


_KEYS: dict[str, str] = {}  # DID -> account key, for the DIDs seen most recently


def _uri_author(uri: object) -> tuple[str, str] | None:
    """``(uri, author key)`` of an ``at://`` URI, or None."""
    if type(uri) is not str or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not parts[1] or not parts[2] or "?" in parts[2] or "#" in parts[2]:
        return None
    author = bluesky_account(parts[0])
    return (uri, author) if author is not None else None


def _micros_iso(value: object) -> int | None:
    if type(value) is not str or len(value) > 40:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None  # (the lexicon's datetime format requires a zone)
    micros = (dt - _EPOCH) // _ONE_MICRO
    return micros if MIN_MICROS <= micros < MAX_MICROS else None


_ONE_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


def _time(record: dict, time_us: object) -> int | None:
    micros = _micros_iso(record.get("createdAt"))
    if micros is None and type(time_us) is int and MIN_MICROS <= time_us < MAX_MICROS:
        micros = time_us
    return micros


def _old(names: dict[str, str], value: object) -> str | None:
    """The current name of a first-Jetstream kind or operation (None for anything else)."""
    return names.get(value) if type(value) is str else None


def looks_like_jetstream(obj: object) -> bool:
    """Return True for a Jetstream event (``did``, ``time_us``, ``kind``; or the first
    Jetstream's ``type``)."""
    return (
        type(obj) is dict
        and type(obj.get("did")) is str
        and "time_us" in obj
        and (
            obj.get("kind") in ("commit", "identity", "account")
            or ("kind" not in obj and _old(_OLD_KINDS, obj.get("type")) is not None)
        )
    )


class Parser:
    """Turn Bluesky records and Jetstream events of one source into batches."""

    def __init__(self, source: str):
        self.source = source
        self.posts = PostColumns(source, PLATFORM_BLUESKY)
        self.likes: list[tuple[str, str, str, str | None, int | None]] = []
        self.follows: list[tuple[str, str, int | None]] = []
        self.quotes: list[tuple] = []  # of replies that also quote (QUOTES_SCHEMA rows)
        self.accounts = AccountRows()
        self.rejects = RejectRows(source)
        self.rows = 0
        self.deletions: list[tuple[str, str, str, int | None, int]] = []
        self.deletes = 0  # (delete events read, for the summary)
        self.ignored: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self.posts) + len(self.likes) + len(self.follows) + len(self.deletions)

    # -- Jetstream ---------------------------------------------------------------------------
    def event(self, obj: object, line: int, raw: object = None) -> None:
        """Read one Jetstream event."""
        raw = obj if raw is None else raw
        if type(obj) is not dict:
            self.rejects.add(line, "not a Jetstream event (a JSON object)", raw)
            return
        kind = obj.get("kind")
        if kind is None and "kind" not in obj:  # (the first Jetstream: "type": "com"...)
            kind = _old(_OLD_KINDS, obj.get("type"))
        author = bluesky_account(obj.get("did"))
        if author is None:
            self.rejects.add(line, f"event without a valid did (got {obj.get('did')!r:.60})", raw)
            return
        if kind == "identity":
            ident = obj.get("identity")
            handle = ident.get("handle") if type(ident) is dict else None
            if type(handle) is str and handle:
                self.accounts.add(author, obj["did"], "@" + handle.lower())
            return
        if kind == "account":
            return  # (active/takendown status: not an interaction)
        if kind != "commit":
            self.rejects.add(line, f"unknown event kind {kind!r:.40}", raw)
            return
        commit = obj.get("commit")
        if type(commit) is not dict:
            self.rejects.add(line, "commit event without a commit object", raw)
            return
        operation = commit.get("operation")
        if operation is None and "operation" not in commit:  # (the first Jetstream: "type": "c")
            operation = _old(_OLD_OPERATIONS, commit.get("type"))
        collection = commit.get("collection")
        if operation == "delete":
            rkey = commit.get("rkey")
            if type(collection) is not str or type(rkey) is not str or not collection or not rkey:
                self.rejects.add(line, "delete without collection and rkey", raw)
                return
            time_us = obj.get("time_us")
            when = time_us if type(time_us) is int and MIN_MICROS <= time_us < MAX_MICROS else None
            uri = f"at://{obj['did']}/{collection}/{rkey}"
            self.deletions.append((uri, collection[:80], author, when, line))
            return
        if operation not in ("create", "update"):
            self.rejects.add(line, f"unknown commit operation {operation!r:.40}", raw)
            return
        record = commit.get("record")
        rkey = commit.get("rkey")
        if type(record) is not dict or type(collection) is not str or type(rkey) is not str:
            self.rejects.add(line, "commit without collection, rkey and record", raw)
            return
        self.record(obj["did"], author, collection, rkey, record, line, raw, obj.get("time_us"))

    # -- records (both shapes) ---------------------------------------------------------------
    def record(
        self,
        did: str,
        author: str,
        collection: str,
        rkey: str,
        record: dict,
        line: int,
        raw: object,
        time_us: object = None,
    ) -> None:
        """Read one record of ``did``'s repository."""
        if collection == POST:
            self._post(did, author, rkey, record, line, raw, time_us)
        elif collection in (LIKE, REPOST):
            self._subject(did, author, collection, rkey, record, line, raw, time_us)
        elif collection == FOLLOW:
            followee = bluesky_account(record.get("subject"))
            if followee is None:
                self.rejects.add(line, "follow without a subject DID", raw)
                return
            self.follows.append((author, followee, _time(record, time_us)))
        elif collection == PROFILE:  # (the name slot shows the handle: displayName is left)
            bio = record.get("description")
            self.accounts.add(author, did, None, bio if type(bio) is str and bio else None)
        else:
            self.ignored[collection[:80]] += 1

    def _post(self, did, author, rkey, record, line, raw, time_us) -> None:
        micros = _time(record, time_us)
        if micros is None:
            self.rejects.add(line, "post without a readable createdAt or time_us", raw)
            return
        text = record.get("text")
        text = text if type(text) is str and text else None
        kind, target_id, target = PostKind.POST.value, None, None
        reply = record.get("reply")
        if type(reply) is dict:
            parent = reply.get("parent")
            found = _uri_author(parent.get("uri")) if type(parent) is dict else None
            if found is None:
                self.rejects.add(line, "reply without a readable reply.parent.uri", raw)
                return
            kind, (target_id, target) = PostKind.REPLY.value, found
            quoted = _quoted(record.get("embed"))
            if quoted is not None:  # it also quotes: a second edge (Batch.quotes)
                self.quotes.append((f"at://{did}/{POST}/{rkey}", line, *quoted))
        else:
            quoted = _quoted(record.get("embed"))
            if quoted is not None:
                kind, (target_id, target) = PostKind.QUOTE.value, quoted
        mentions, tags = _facets(record.get("facets"), author)
        langs = record.get("langs")
        lang = langs[0] if type(langs) is list and langs and type(langs[0]) is str else None
        self.posts.add(
            f"at://{did}/{POST}/{rkey}",
            author,
            did,
            micros,
            text,
            kind,
            target_id,
            target,
            mentions,
            line,
            tags,
            lang,
        )

    def _subject(self, did, author, collection, rkey, record, line, raw, time_us) -> None:
        subject = record.get("subject")
        found = _uri_author(subject.get("uri")) if type(subject) is dict else None
        if found is None:
            what = "like" if collection == LIKE else "repost"
            self.rejects.add(line, f"{what} without a readable subject.uri", raw)
            return
        uri = f"at://{did}/{collection}/{rkey}"
        micros = _time(record, time_us)
        if collection == LIKE:
            self.likes.append((author, found[1], IKind.LIKE.value, uri, micros))
            return
        if micros is None:
            self.rejects.add(line, "repost without a readable createdAt or time_us", raw)
            return
        self.posts.add(
            uri, author, did, micros, None, PostKind.REPOST.value, found[0], found[1], None, line
        )

    def take(self) -> Batch:
        """Return what was read since the last call as a batch."""
        follows = None
        if self.follows:
            a, b, t = zip(*self.follows, strict=True)
            follows = pa.Table.from_arrays(
                [
                    pa.array(a, pa.string()),
                    pa.array(b, pa.string()),
                    pa.array(t, pa.int64()).cast(_FOLLOW_SCHEMA.field("observed_at").type),
                ],
                schema=_FOLLOW_SCHEMA,
            )
            self.follows = []
        likes = interaction_table(self.likes)
        self.likes = []
        batch = Batch(
            posts=self.posts.take(),
            follows=follows,
            accounts=self.accounts.take(),
            rejects=self.rejects.take(),
            rows_read=self.rows,
        )
        batch.interactions = likes
        batch.quotes, self.quotes = quotes_table(self.quotes), []
        if self.deletions:
            batch.deletions = self._deletions_table()
            self.deletes += len(self.deletions)
            self.deletions = []
        self.rows = 0
        return batch

    def _deletions_table(self) -> pa.Table:
        uri, collection, author, when, line = zip(*self.deletions, strict=True)
        n = len(uri)
        return pa.Table.from_arrays(
            [
                pa.array([PLATFORM_BLUESKY] * n, pa.string()),
                pa.array(uri, pa.string()),
                pa.array(collection, pa.string()),
                pa.array(author, pa.string()),
                pa.array(when, pa.int64()).cast(_DELETED_AT),
                pa.array([self.source] * n, pa.string()),
                pa.array(line, pa.int64()),
            ],
            schema=_DELETION_SCHEMA,
        )

    def notes(self) -> tuple[str, ...]:
        """What the import summary says about this source (deletes, ignored collections)."""
        out = []
        if self.deletes:
            out.append(
                f"{self.deletes} delete events read into the store's deletions table; the "
                "deleted posts, likes and reposts stay in the analysis (see docs)"
            )
        if self.ignored:
            parts = ", ".join(f"{n} {c}" for c, n in sorted(self.ignored.items()))
            out.append(
                f"{sum(self.ignored.values())} records of other collections ignored: {parts}"
            )
        return tuple(out)


def _quoted(embed: object) -> tuple[str, str] | None:
    if type(embed) is not dict:
        return None
    kind = embed.get("$type")
    rec = embed.get("record")
    if kind == _EMBED_WITH_MEDIA and type(rec) is dict:
        rec = rec.get("record")
    elif kind != _EMBED_RECORD:
        return None
    if type(rec) is not dict:
        return None
    found = _uri_author(rec.get("uri"))
    if found is None or f"/{POST}/" not in found[0]:
        return None  # (a quoted list or feed generator is not a post)
    return found


def _facets(facets: object, author: str) -> tuple[str | None, str | None]:
    if type(facets) is not list:
        return None, None
    mentions: dict[str, None] = {}
    tags: dict[str, None] = {}
    for facet in facets:
        features = facet.get("features") if type(facet) is dict else None
        if type(features) is not list:
            continue
        for f in features:
            if type(f) is not dict:
                continue
            kind = f.get("$type")
            if kind == _MENTION:
                key = bluesky_account(f.get("did"))
                if key is not None and key != author:
                    mentions[key] = None
            elif kind == _TAG and type(f.get("tag")) is str and f["tag"].strip("#"):
                tags[f["tag"].strip("#").lower()] = None
    return " ".join(mentions) or None, " ".join(tags) or None


# ---- readers ------------------------------------------------------------------------------------


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Bluesky input: Jetstream NDJSON, a repository CAR, or a ``did,handle`` CSV.

    Yields
    ------
    Batch
        Posts (posts, replies, quotes, reposts), likes (``batch.interactions``), follows,
        accounts and rejects; the last batch's ``notes`` count deletes and ignored collections.
    """
    with open_input(path) as fh:
        head = fh.read(64)
        fh.seek(0)
        if looks_like_car(head):
            yield from _read_car(path, fh, source, options)
        elif head.lstrip(_BOM).lower().startswith(b"did,handle"):
            yield from _read_handles(fh, source, options)
        elif not _csv_header(head):
            yield from _read_jetstream(fh, source, options)
        else:  # (a CSV of handles with another header: say so, not one reject per row)
            raise InputFileError(
                path,
                "not Bluesky data: expected Jetstream events (JSON lines), a repository CAR "
                "file, or a CSV whose header is did,handle",
            )
    options.advance(Path(path).stat().st_size)


def _read_jetstream(fh, source: str, options: ReadOptions) -> Iterator[Batch]:
    parser = Parser(source)
    loads, JSONError = orjson.loads, orjson.JSONDecodeError
    for n, line in enumerate(iter_lines(fh), 1):  # (lines ended by CR alone too)
        if n == 1 and line.startswith(_BOM):
            line = line[3:]
        if not line.strip():
            continue
        parser.rows += 1
        try:
            obj = loads(line)
        except JSONError as exc:
            try:
                obj = reread(line, exc)
            except JSONError:
                parser.rejects.add(n, "malformed JSON", line)
                continue
        parser.event(obj, n, line)
        if not n & 1023 and len(parser) >= options.batch_rows:
            yield parser.take()
    batch = parser.take()
    batch.notes = parser.notes()
    yield batch


def _csv_header(head: bytes) -> bool:
    """Whether the first line is a CSV header (words and commas), not a JSON value."""
    first = head.lstrip(_BOM).split(b"\n", 1)[0].strip()
    return bool(re.fullmatch(rb"[A-Za-z_][\w ]*(,[\w ]*)+", first))


def _read_handles(fh, source: str, options: ReadOptions) -> Iterator[Batch]:
    """A ``did,handle`` CSV: the handle shown for each DID."""
    parser = Parser(source)
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    next(reader, None)
    for cells in reader:
        line = reader.line_num
        if not cells or not any(c.strip() for c in cells):
            continue
        parser.rows += 1
        key = bluesky_account(cells[0].strip())
        handle = cells[1].strip().lstrip("@").lower() if len(cells) > 1 else ""
        if key is None or not handle:
            parser.rejects.add(line, "expected a DID and a handle", cells)
            continue
        parser.accounts.add(key, cells[0].strip(), "@" + handle)
    text.detach()
    yield parser.take()


def looks_like_car(head: bytes) -> bool:
    """Return True when ``head`` starts a CAR v1 file: a varint length, then the DAG-CBOR map
    ``{"roots": [...], "version": 1}`` (keys in DAG-CBOR order).

    Examples
    --------
    >>> looks_like_car(b"\\x3a\\xa2\\x65roots\\x81"), looks_like_car(b'{"did": 1}')
    (True, False)
    """
    if len(head) < 9:
        return False
    i = 1 if head[0] < 0x80 else 2
    return head[i : i + 7] == b"\xa2\x65roots"


def _read_car(path: Path, fh, source: str, options: ReadOptions) -> Iterator[Batch]:
    import libipld

    data = fh.read(_CAR_MAX_BYTES + 1)
    if len(data) > _CAR_MAX_BYTES:
        raise InputFileError(path, f"a repository export over {_CAR_MAX_BYTES} bytes")
    try:
        header, blocks = libipld.decode_car(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputFileError(path, f"not a readable CAR file ({exc}); truncated?") from None
    del data
    roots = header.get("roots") if type(header) is dict else None
    commit = blocks.get(roots[0]) if type(roots) is list and roots else None
    if type(commit) is not dict or type(commit.get("did")) is not str:
        raise InputFileError(path, "CAR file without a repository commit (did, data) at its root")
    did = commit["did"]
    author = bluesky_account(did)
    if author is None:
        raise InputFileError(path, f"repository commit with an invalid did {did!r:.80}")
    parser = Parser(source)
    for n, (key, cid) in enumerate(_walk_mst(path, blocks, commit.get("data")), 1):
        parser.rows += 1
        collection, _, rkey = key.partition("/")
        record = blocks.get(cid)
        if type(record) is not dict:
            parser.rejects.add(n, f"record {key!r:.80} missing from the CAR file", key)
            continue
        parser.record(did, author, collection, rkey, record, n, record)
        if len(parser) >= options.batch_rows:
            yield parser.take()
    batch = parser.take()
    batch.notes = parser.notes()
    yield batch


def _walk_mst(path: Path, blocks: dict, root: object) -> Iterator[tuple[str, bytes]]:
    """Yield ``(key, record cid)`` of a Merkle search tree in key order (iteratively)."""
    stack: list[object] = [root]
    seen = 0
    while stack:
        item = stack.pop()
        if type(item) is tuple:  # a leaf waiting its turn
            yield item  # type: ignore[misc]
            continue
        if item is None:
            continue
        node = blocks.get(item)
        seen += 1
        if type(node) is not dict or type(node.get("e")) is not list or seen > len(blocks):
            raise InputFileError(path, "damaged repository tree in the CAR file")
        todo: list[object] = [node.get("l")]
        key = b""
        for entry in node["e"]:
            if type(entry) is not dict or type(entry.get("k")) is not bytes:
                raise InputFileError(path, "damaged repository tree entry in the CAR file")
            prefix = entry.get("p", 0)
            key = key[: prefix if type(prefix) is int else 0] + entry["k"]
            todo.append((key.decode("utf-8", "replace"), entry.get("v")))
            todo.append(entry.get("t"))
        stack.extend(reversed(todo))
