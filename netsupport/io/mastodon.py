"""Mastodon: the account archive (zip, older tar.gz, or its extracted folder) and API statuses.

**The account archive** (Settings > Import and export > Request your archive) holds
ActivityStreams 2.0 documents [1]_ [2]_:

* ``outbox.json``: an ``OrderedCollection`` whose ``orderedItems`` are the owner's activities. A
  ``Create`` of a ``Note`` is a post (``published``, ``attributedTo``, ``inReplyTo``, ``tag``
  items of type ``Mention`` with ``href``/``name`` and ``Hashtag`` with ``name``, HTML
  ``content``); an ``Announce`` is a boost (a repost of the status whose URI is its ``object``).
  A Note's ``quote`` / ``quoteUrl`` / ``quoteUri`` / ``_misskey_quote`` names a quoted status.
  Other activity types are counted and ignored.
* ``actor.json``: the owner (``preferredUsername``, ``name``, ``summary``; its ``id`` URL gives
  the host).
* ``likes.json``: an ``OrderedCollection`` of the URIs of statuses the owner favourited. The
  archive records no time for a like: these become ``like`` interactions with no ``created_at``,
  which windowed measures leave out; the import summary says how many.
* ``following_accounts.csv`` (the "Follows" CSV export; ``Account address,...`` with a header, or
  one address a line): the owner's follows, with no time.

**API statuses** [3]_: Status entities as JSON lines, or a JSON array of them, as written by
Mastodon.py or a collector (``id``, ``created_at``, ``account.acct``, ``account.url``,
``in_reply_to_id``, ``in_reply_to_account_id``, ``reblog``, ``mentions``, ``tags``, ``quote``,
``content``, ``language``). A ``reblog`` is a repost of the embedded status, with its text,
mentions and tags (as a retweet has them in Twitter data); a reply's target account is the
mention whose id is ``in_reply_to_account_id`` (Mastodon adds that mention), the author for a
self-reply, else an account of that id seen earlier in the file, else unknown; a ``quote``
(Mastodon 4.4's Quote entity with ``quoted_status``, or a bare Status as some forks write) is a
quote.

A JSON line is decoded with msgspec (a run-time dependency for that) straight into structs of the
fields read: the many it does not read (media, card, emojis, counts...) are skipped in C, twice
as fast as decoding them all with orjson. A line that does not fit those types, or would be a
reject, is decoded again with orjson and read field by field. One difference: a number out of
the double range (``1e400``) in a field not read leaves the status readable, where orjson
refused the whole line as malformed.

Accounts are ``name@host``, stored as ``mastodon:name@host`` (:mod:`netsupport.io.platforms`). In
the archive, an account comes from an actor or status URL (``https://host/users/NAME``,
``/users/NAME/statuses/ID``, ``/@NAME`` or ``/@NAME/ID``); a ``Mention`` whose ``href`` names
another user than its ``name`` (``@user@host``; Misskey's ``/users/<id>``) is its name's. In
the API an ``acct`` without a host is local to the instance: its host comes from the account's
``url``, else from ``--instance``.

Post ids: in the archive a status's URI (``https://host/users/NAME/statuses/ID``; an Announce's
activity URI); in the API the ``id`` as the collecting instance numbers it (the targets of replies,
reblogs and quotes are in the same numbering). The two are different id spaces: import one form
per collection. HTML ``content`` becomes plain text with an HTML parser (``<br>`` and
paragraph ends become line breaks): lexbor's HTML5 parser (selectolax, a run-time dependency for
that: about three times faster than lxml on status markup) where its text is that of libxml2's
HTML parser (lxml), which reads the rest (:func:`netsupport.io.html_text._lexbor_safe`).

Safety: the archive is read without extracting it. A zip or tar member whose path is absolute or
contains ``..``, or that is a link, makes the whole archive refused
(:class:`~netsupport.errors.UnsafeArchive`), as does decompressing more than
``max_archive_bytes`` (see :mod:`netsupport.io.archive`). ``outbox.json`` and ``likes.json``
are decoded a run of items at a time while the member inflates
(:mod:`netsupport.io.json_items`), so memory stays flat in the archive's size; a document the
stream reader does not take is decoded whole (the result, or the error with its position, is
that of a whole decode), and a second top-level ``orderedItems`` after the first one's items is
refused as ambiguous.

References
----------
.. [1] W3C, "Activity Streams 2.0", https://www.w3.org/TR/activitystreams-core/ and
   "Activity Vocabulary", https://www.w3.org/TR/activitystreams-vocabulary/
.. [2] Mastodon documentation, "Exporting your data / Your archive",
   https://docs.joinmastodon.org/user/moving/#export and "ActivityPub",
   https://docs.joinmastodon.org/spec/activitypub/
.. [3] Mastodon documentation, "Status entity", https://docs.joinmastodon.org/entities/Status/

Examples
--------
(Account keys from URLs: :mod:`netsupport.io.mastodon_handles`.)

>>> html_to_text('<p>Stand with <span class="h-card">@lane</span> &amp; co</p><p>2nd</p>')
'Stand with @lane & co\\n2nd'
"""

from __future__ import annotations

import csv
import itertools
import lzma
import os
import re
import tarfile
import uuid
import zlib
from codecs import BOM_UTF8 as _BOM
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import orjson
import pyarrow as pa

from ..errors import InputFileError, UnsafeArchive
from ..schema import SCHEMAS, IKind, PostKind, Table
from .archive import _FolderMembers, _Members, _unsafe_name, _ZipMembers
from .base import (
    AccountRows,
    Batch,
    JsonLinesParser,
    PostRows,
    ReadOptions,
    RejectRows,
    as_id,
    gc_paused,
    loads,
    shift_lines,
)
from .compressed import compression_of, cr_only, iter_lines, open_input
from .html_text import html_to_text, html_to_text_many
from .json_items import SecondKey, Unstreamable, iter_items
from .mastodon_handles import (
    _handle_of_acct,
    _handle_of_mention_name,
    _id_of,
    _mentions_and_tags,
    handle_of_url,
)
from .platforms import PLATFORM_MASTODON, qualify
from .pool import WorkerPool, worker_count
from .twitter_json import (
    CHUNK_BYTES,
    PARALLEL_MIN_BYTES,
    _chunks,
    _dump,
    _load_file,
    quotes_table,
)

__all__ = [
    "handle_of_url",
    "html_to_text",
    "is_mastodon_folder",
    "looks_like_outbox",
    "looks_like_status",
    "read",
]

_P = PLATFORM_MASTODON
_N = len(_P) + 1  # (where the name starts in a store key)
_POST = PostKind.POST.value
_REPLY = PostKind.REPLY.value
_REPOST = PostKind.REPOST.value
_QUOTE = PostKind.QUOTE.value
_NOTE_TYPES = {"Note", "Question", "Article", "Page"}
_QUOTE_KEYS = ("quote", "quoteUrl", "quoteUri", "_misskey_quote")
_DOCUMENT_MAX_BYTES = 1024**3
_NO_IDS: dict[str, str] = {}  # (read only: the mentioned ids of a status that lists none)


# ---- helpers -----------------------------------------------------------------------------------


def looks_like_outbox(obj: object) -> bool:
    """Return True for an ActivityStreams collection or actor as the archive holds them."""
    if type(obj) is not dict:
        return False
    kind = obj.get("type")
    if kind in ("OrderedCollection", "OrderedCollectionPage") and "orderedItems" in obj:
        return True
    return kind == "Person" and "preferredUsername" in obj


def looks_like_status(obj: object) -> bool:
    """Return True for a Mastodon API Status (an ``account`` with ``acct``; a ``created_at``)."""
    if type(obj) is list:
        return bool(obj) and looks_like_status(obj[0])
    if type(obj) is not dict:
        return False
    account = obj.get("account")
    return type(account) is dict and "acct" in account and "created_at" in obj


def is_mastodon_folder(path: Path) -> bool:
    """Return True if ``path`` is an extracted Mastodon archive (``outbox.json``, ``actor.json``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> is_mastodon_folder(pathlib.Path(tempfile.mkdtemp()))
    False
    """
    path = Path(path)
    return path.is_dir() and (path / "outbox.json").is_file() and (path / "actor.json").is_file()


def _take_posts(posts: PostRows) -> tuple[pa.Table | None, pa.Table | None]:
    """``posts.take()`` after turning the HTML in the rows' text into plain text."""
    rows = posts.rows
    return posts.take(texts=html_to_text_many([r[5] for r in rows]) if rows else None)


def _follows_table(pairs: list[tuple[str, str]]) -> pa.Table | None:
    if not pairs:
        return None
    schema = SCHEMAS[Table.FOLLOWS]
    a, b = zip(*pairs, strict=True)
    return pa.Table.from_arrays(
        [pa.array(a, pa.string()), pa.array(b, pa.string()), pa.nulls(len(a), schema[2].type)],
        schema=schema,
    )


def _likes_table(owner: str, likes: list[tuple[str, str]]) -> pa.Table | None:
    if not likes:
        return None
    schema = SCHEMAS[Table.INTERACTIONS]
    targets, uris = zip(*likes, strict=True)
    n = len(likes)
    return pa.Table.from_arrays(
        [
            pa.array([owner] * n, pa.string()),
            pa.array(targets, pa.string()),
            pa.array([IKind.LIKE.value] * n, pa.string()),
            pa.array(uris, pa.string()),
            pa.nulls(n, schema.field("created_at").type),
            pa.array([1.0] * n, pa.float64()),
        ],
        schema=schema,
    )


# ---- the archive ---------------------------------------------------------------------------------


class _TarMembers(_Members):
    """Members of an older tar.gz archive, read without extracting; unsafe members refuse it."""

    def __init__(self, path: Path, cap: int):
        super().__init__(path, cap)
        try:
            self.tf = tarfile.open(path, mode="r:*")  # noqa: SIM115 (closed by close())
            infos = self.tf.getmembers()
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise InputFileError(path, f"not a readable tar archive ({exc}); truncated?") from None
        self.infos: dict[str, tarfile.TarInfo] = {}
        for info in infos:
            if _unsafe_name(info.name):
                raise UnsafeArchive(
                    path, f"member {info.name!r} would be written outside the archive folder"
                )
            if info.issym() or info.islnk():
                raise UnsafeArchive(path, f"member {info.name!r} is a link")
            if info.isfile():
                name = info.name.removeprefix("./")
                if name in self.infos:
                    raise UnsafeArchive(path, f"member {name!r} appears twice: which is meant?")
                self.infos[name] = info
                self.names.append(name)
                self.sizes[name] = info.size

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def chunks(self, name: str) -> Iterator[bytes]:
        info = self.infos[name]
        if info.size > self.cap - self.used:
            self._count(info.size)
        try:
            fh = self.tf.extractfile(info)
            while fh is not None and (chunk := fh.read(1 << 20)):
                self._count(len(chunk))
                yield chunk
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise InputFileError(f"{self.path}!{name}", f"cannot decompress ({exc})") from None

    def close(self) -> None:
        self.tf.close()


class _OneFile(_Members):
    """One archive JSON file given on its own (``actor.json`` beside it names the owner)."""

    def __init__(self, path: Path, cap: int):
        super().__init__(path, cap)
        self.names = [path.name]
        self.files = {path.name: path}
        sibling = path.with_name("actor.json")
        if sibling.is_file() and sibling != path:
            self.names.append("actor.json")
            self.files["actor.json"] = sibling
        for name in self.names:
            self.sizes[name] = self.files[name].stat().st_size

    def read(self, name: str) -> bytes:
        p = self.files[name]
        self._count(p.stat().st_size)
        return p.read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        p = self.files[name]
        self._count(p.stat().st_size)
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk


def _open(path: Path, cap: int, ratio: float = 0.0) -> _Members:
    if path.is_dir():
        return _FolderMembers(path, cap)
    with open(path, "rb") as fh:
        head = fh.read(262 + 8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _ZipMembers(path, cap, ratio)
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) or head[257:262] == b"ustar":
        return _TarMembers(path, cap)
    return _OneFile(path, cap)


def _member(members: _Members, base: str) -> str | None:
    """The shallowest member called ``base`` (an archive may sit in one top folder)."""
    found = [n for n in members.names if n == base or n.endswith("/" + base)]
    return min(found, key=lambda n: (n.count("/"), n)) if found else None


def _load_json(members: _Members, name: str, label: str) -> object:
    try:  # (a byte order mark, left by an editor, is skipped as the other readers skip it)
        return loads(members.read(name).removeprefix(_BOM))
    except orjson.JSONDecodeError as exc:
        raise InputFileError(label, f"malformed JSON ({exc}); truncated?") from None


def _owner(members: _Members, source: str) -> tuple[str | None, AccountRows]:
    acc = AccountRows()
    name = _member(members, "actor.json")
    if name is None:
        return None, acc
    actor = _load_json(members, name, f"{source}!{name}")
    if type(actor) is not dict:
        raise InputFileError(f"{source}!{name}", "actor.json is not a JSON object")
    owner = handle_of_url(actor.get("id")) or handle_of_url(actor.get("url"))
    user = actor.get("preferredUsername")
    if type(user) is str and user and type(actor.get("id")) is str:
        host = urlsplit(actor["id"]).hostname
        if host:
            owner = qualify(_P, f"{user}@{host}")
    if owner is not None:
        acc.add(owner, actor.get("id"), actor.get("name"), html_to_text(actor.get("summary")))
    return owner, acc


class _OutboxParser:
    """Turn outbox activities into post rows, account rows and rejects for one source."""

    def __init__(self, source: str, owner: str | None):
        self.rejects = RejectRows(source)
        self.posts = PostRows(source, self.rejects)
        self.owner = owner
        self.ignored: Counter[str] = Counter()
        self.quotes: list[tuple] = []  # of replies that also quote (QUOTES_SCHEMA rows)

    def activity(self, item: object, n: int) -> None:
        if type(item) is not dict:
            self.rejects.add(n, f"not an activity (a JSON {type(item).__name__})", item)
            return
        kind = item.get("type")
        if kind == "Create":
            self.create(item, n)
        elif kind == "Announce":
            self.announce(item, n)
        else:
            self.ignored[str(kind)[:40]] += 1

    def _author(self, *urls: object) -> str | None:
        for url in urls:
            h = handle_of_url(_id_of(url))
            if h:
                return h
        return self.owner

    def create(self, item: dict, n: int) -> None:
        # (a hot loop: _id_of, _author and the posts' add inlined where they repeat)
        note = item.get("object")
        if type(note) is not dict:
            self.rejects.add(n, "Create without an embedded object", item)
            return
        get = note.get
        kind = get("type")
        if type(kind) is not str or kind not in _NOTE_TYPES:  # (a list or object: unhashable)
            self.ignored[f"Create of {str(kind)[:30]}"] += 1
            return
        post_id = get("id")
        if type(post_id) is not str or not post_id:
            self.rejects.add(n, "Note without an id", item)
            return
        url = get("attributedTo")
        author = handle_of_url(url if type(url) is str else _id_of(url))
        if not author:
            author = self._author(item.get("actor"))
            if author is None:
                self.rejects.add(n, "Note whose attributedTo names no account", item)
                return
        content = get("content")
        lang = None
        cmap = get("contentMap")
        if type(cmap) is dict and cmap:
            lang = next(iter(cmap))
            if type(content) is not str:
                content = cmap[lang]
            lang = lang if type(lang) is str else None
        tags = get("tag")
        mentions, hashtags = _mentions_and_tags(tags, author) if tags else (None, None)
        kind, target, target_author = _POST, None, None
        reply_to = get("inReplyTo")
        if reply_to is not None:
            reply_to = _id_of(reply_to)
        quoted = None
        for k in _QUOTE_KEYS:
            v = get(k)
            if v is not None:
                quoted = _id_of(v)
                if quoted:
                    break
        if reply_to is not None:
            kind, target = _REPLY, reply_to
            if quoted is not None:  # it also quotes: a second edge (Batch.quotes)
                self.quotes.append((post_id, n, quoted, handle_of_url(quoted)))
        elif quoted is not None:
            kind, target = _QUOTE, quoted
        if target is not None:
            target_author = handle_of_url(target)
        self.posts.rows.append(
            (
                _P,
                post_id,
                author,
                None,
                get("published") or item.get("published"),
                content if type(content) is str else None,  # HTML: text at take()
                kind,
                target,
                target_author,
                mentions,
                hashtags,
                lang,
                n,
                item,
            )
        )

    def announce(self, item: dict, n: int) -> None:
        post_id = _id_of(item)
        target = _id_of(item.get("object"))
        if post_id is None or target is None:
            self.rejects.add(n, "Announce without an id or an object", item)
            return
        author = self._author(item.get("actor"))
        if author is None:
            self.rejects.add(n, "Announce whose actor names no account", item)
            return
        target_author = handle_of_url(target)
        self.posts.add(
            (
                _P,
                post_id,
                author,
                None,
                item.get("published"),
                None,
                _REPOST,
                target,
                target_author,
                None,
                None,
                None,
                n,
                item,
            )
        )

    def take_quotes(self) -> pa.Table | None:
        table, self.quotes = quotes_table(self.quotes), []
        return table

    def notes(self) -> tuple[str, ...]:
        if not self.ignored:
            return ()
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.ignored.items()))
        return (f"activities that are not posts, ignored: {sum(self.ignored.values())} ({kinds})",)


def _items(doc: object, label: str, key: str = "orderedItems") -> list:
    if type(doc) is not dict or type(doc.get(key)) is not list:
        raise InputFileError(label, f"not an ActivityStreams collection (no {key} list)")
    return doc[key]


def _without_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` with a byte order mark at the start of the first one left out."""
    first = True
    for chunk in chunks:
        yield chunk.removeprefix(_BOM) if first else chunk
        first = False


def _item_runs(
    members: _Members, name: str, label: str, key: str = "orderedItems"
) -> Iterator[list]:
    """Yield the items of the collection document ``name``, a run at a time, decoded as the
    member is read (memory flat in its size: :mod:`netsupport.io.json_items`).

    A document the stream reader does not take (malformed JSON, not a collection...) is read
    whole instead, so the result or the error (naming the position) is that of decoding it
    whole. A second top-level ``key`` after the items is refused.
    """
    used = members.used
    handed = False
    try:
        for run in iter_items(_without_bom(members.chunks(name)), key):
            handed = True
            yield run
        return
    except SecondKey:
        raise InputFileError(
            label, f"a second top-level '{key}' after the first one's items: which is meant?"
        ) from None
    except Unstreamable:
        pass
    members.used = used  # (read again whole: counted once against the cap)
    items = _items(_load_json(members, name, label), label, key)
    if handed:  # (the stream reader refuses only what a whole decode refuses: not reached)
        raise InputFileError(label, f"the {key} could not be read item by item")
    yield items


def _read_outbox(
    members: _Members, name: str, owner: str | None, source: str, options: ReadOptions
) -> Iterator[Batch]:
    label = f"{source}!{name}" if not isinstance(members, _OneFile) else source
    parser = _OutboxParser(label, owner)
    done = 0  # activities counted in the batches yielded so far
    i = 0
    # (a hot loop: activity()'s dispatch of the two kinds read, and the rows' count, inlined)
    create, announce, activity = parser.create, parser.announce, parser.activity
    rows, batch_rows = parser.posts.rows, options.batch_rows
    for run in _item_runs(members, name, label):
        for item in run:
            i += 1
            kind = item.get("type") if type(item) is dict else None
            if kind == "Create":
                create(item, i)
            elif kind == "Announce":
                announce(item, i)
            else:
                activity(item, i)
            if len(rows) >= batch_rows:
                posts, rejects = _take_posts(parser.posts)
                rows = parser.posts.rows
                yield Batch(
                    posts=posts, rejects=rejects, rows_read=i - done, quotes=parser.take_quotes()
                )
                done = i
    posts, rejects = _take_posts(parser.posts)
    options.advance(members.sizes.get(name, 0))
    yield Batch(
        posts=posts,
        rejects=rejects,
        rows_read=i - done,
        notes=parser.notes(),
        quotes=parser.take_quotes(),
    )


def _read_likes(
    members: _Members, name: str, owner: str | None, source: str, options: ReadOptions
) -> Batch:
    label = f"{source}!{name}" if not isinstance(members, _OneFile) else source
    runs = _item_runs(members, name, label)
    if owner is None:
        for _ in runs:  # (a malformed document is said first, as when it was read whole)
            pass
        raise InputFileError(label, "likes.json needs actor.json (the owner) beside it")
    rejects = RejectRows(label)
    likes: list[tuple[str, str]] = []
    i = 0
    for run in runs:
        for raw in run:
            i += 1
            uri = _id_of(raw)
            target = handle_of_url(uri)
            if target is None or uri is None:
                rejects.add(i, "liked status whose URI names no account", raw)
                continue
            if target != owner:
                likes.append((target, uri))
    options.advance(members.sizes.get(name, 0))
    note = (
        f"{len(likes)} likes without a time (the archive records none): "
        "kept out of windowed measures",
    )
    return Batch(
        interactions=_likes_table(owner, likes),
        rejects=rejects.take(),
        rows_read=i,
        notes=note if likes else (),
    )


def _read_following(
    members: _Members, name: str, owner: str, source: str, options: ReadOptions
) -> Batch:
    label = f"{source}!{name}"
    rejects = RejectRows(label)
    pairs: list[tuple[str, str]] = []
    text = members.read(name).decode("utf-8", errors="replace").lstrip("\ufeff")
    rows = 0
    for n, line in enumerate(text.splitlines(), 1):
        try:
            row = next(csv.reader([line]), [])
        except csv.Error as exc:  # (a NUL, a stray quote...: this row only)
            rows += 1
            rejects.add(n, f"unreadable CSV row ({exc})", line)
            continue
        if not row or not "".join(row).strip():
            continue
        address = row[0].strip()
        if n == 1 and "@" not in address:  # the header: Account address,Show boosts,...
            continue
        rows += 1
        followee = _handle_of_mention_name(address)
        if followee is None:
            rejects.add(n, f"not an account address (name@host): {address[:60]!r}", row)
            continue
        pairs.append((owner, followee))
    options.advance(members.sizes.get(name, 0))
    return Batch(follows=_follows_table(pairs), rejects=rejects.take(), rows_read=rows)


def read_archive(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Mastodon archive: a zip, a tar.gz, its extracted folder, or one of its JSON files.

    Yields
    ------
    Batch
        The owner's account, posts from ``outbox.json``, likes, then follows.

    Raises
    ------
    UnsafeArchive
        A member path leaves the archive, a member is a link, or decompression passes the cap.
    InputFileError
        The archive is unreadable or a document is malformed.
    """
    members = _open(Path(path), options.max_archive_bytes, options.max_compression_ratio)
    try:
        owner, owner_acc = _owner(members, source)
        outbox = _member(members, "outbox.json")
        likes = _member(members, "likes.json")
        following = _member(members, "following_accounts.csv")
        if isinstance(members, _OneFile):  # one file: whichever collection it is
            outbox = likes = None
            doc_name = members.names[0]
            if doc_name != "actor.json":
                used = members.used
                head = next(members.chunks(doc_name), b"")[:4096]
                members.used = used  # (a look at the head: the document is counted when read)
                if b'"likes.json"' in head or doc_name == "likes.json":
                    likes = doc_name
                else:
                    outbox = doc_name
        elif outbox is None and likes is None and owner is None:
            raise InputFileError(path, "no outbox.json, likes.json or actor.json in the archive")
        yield Batch(accounts=owner_acc.take())
        if outbox is not None:
            yield from _read_outbox(members, outbox, owner, source, options)
        if likes is not None:
            yield _read_likes(members, likes, owner, source, options)
        if following is not None:
            if owner is None:
                raise InputFileError(path, "following_accounts.csv needs actor.json (the owner)")
            yield _read_following(members, following, owner, source, options)
    finally:
        members.close()


# ---- API statuses ------------------------------------------------------------------------------


# ---- API statuses: the fields read, as msgspec decodes them -------------------------------------
# A JSON line is decoded straight into these (msgspec skips the fields not named, in C: a status's
# media, card, emojis, counts...). Each field takes only the type the common case has; a line
# where any read field holds something else (an int id, a quote, a non-list mentions...), or that
# is not JSON, is decoded again with orjson and read as a dict (StatusParser.status), which
# handles every shape and makes the rejects. (gc=False: these hold no reference cycles.)


class _SAccount(msgspec.Struct, gc=False):
    acct: str
    id: str | None = None
    url: str | None = None
    display_name: str | None = None
    note: str | None = None
    followers_count: int | None = None


class _SMention(msgspec.Struct, gc=False):
    id: str | None = None
    acct: str | None = None
    url: str | None = None


class _STag(msgspec.Struct, gc=False):
    name: str | None = None


class _SReblog(msgspec.Struct, gc=False):
    id: str | None = None
    account: _SAccount | None = None
    content: str | None = None
    mentions: list[_SMention] | None = None
    tags: list[_STag] | None = None


class _SStatus(msgspec.Struct, gc=False):
    id: str
    account: _SAccount
    created_at: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    reblog: _SReblog | None = None
    quote: None = None  # (a quote: read as a dict)
    content: str | None = None
    language: str | None = None
    mentions: list[_SMention] | None = None
    tags: list[_STag] | None = None


_DECODE_STATUS = msgspec.json.Decoder(_SStatus).decode


class StatusParser(JsonLinesParser):
    """Turn decoded API Status entities into post rows, account rows and rejects.

    Examples
    --------
    >>> p = StatusParser("s.jsonl")
    >>> p.value({"id": "7", "created_at": "2014-02-14T10:00:00.000Z", "content": "<p>hi</p>",
    ...     "account": {"id": "1", "acct": "amy", "url": "https://a.social/@amy"},
    ...     "in_reply_to_id": "5", "in_reply_to_account_id": "2",
    ...     "mentions": [{"id": "2", "acct": "lane@police.social"}]}, 1, b"")
    >>> row = p.take().posts.to_pylist()[0]
    >>> row["author"], row["kind"], row["target_author"], row["text"]
    ('mastodon:amy@a.social', 'reply', 'mastodon:lane@police.social', 'hi')
    """

    def __init__(self, source: str, instance: str | None = None):
        self.rejects = RejectRows(source)
        self.posts = PostRows(source, self.rejects)
        self.accounts = AccountRows()
        self.instance = instance.lower() if instance else None
        self.records = 0
        self.handles: dict[tuple, str | None] = {}  # (acct, url) -> store key
        self.by_account_id: dict[str, str] = {}  # account id -> store key, of accounts seen
        self.quotes: list[tuple] = []  # of replies that also quote (QUOTES_SCHEMA rows)
        self.notes: dict[str, str] = {}  # bio HTML -> text (an account recurs in every batch)
        self.tag_keys: dict[str, str] = {}  # a tag's name -> its key (:meth:`_tag_key`)

    def _note(self, note: object) -> str | None:
        if type(note) is not str:
            return None
        text = self.notes.get(note)
        if text is None:
            if len(self.notes) > 100_000:
                self.notes.clear()
            text = self.notes[note] = html_to_text(note)
        return text

    def _acct(self, acct: object, url: object) -> str | None:
        key = (acct, url)
        try:
            return self.handles[key]
        except (KeyError, TypeError):  # (TypeError: an unhashable acct or url)
            pass
        handle = _handle_of_acct(acct, url, self.instance)
        if type(acct) is str and (url is None or type(url) is str):
            if len(self.handles) > 500_000:
                self.handles.clear()
            self.handles[key] = handle
        return handle

    def value(self, obj: object, n: int, raw: object) -> None:
        """Parse one decoded value: a Status, or a list of them."""
        if type(obj) is list:
            for item in obj:
                self.value(item, n, item)
            return
        self.records += 1
        if type(obj) is not dict:
            self.rejects.add(n, f"not a status (a JSON {type(obj).__name__})", raw)
            return
        self.status(obj, n, raw)

    def _account(self, account: object) -> str | None:
        if type(account) is not dict:
            return None
        get = account.get
        acct, url = get("acct"), get("url")
        try:  # (the cache first, inline: this runs for every status)
            handle = self.handles[(acct, url)]
        except (KeyError, TypeError):
            handle = self._acct(acct, url)
        if handle is None:
            return None
        aid = get("id")
        if type(aid) is str and aid not in self.by_account_id:
            if len(self.by_account_id) > 500_000:
                self.by_account_id.clear()
            self.by_account_id[aid] = handle
        if handle not in self.accounts.complete:
            self.accounts.add(
                handle,
                aid,
                get("display_name"),
                self._note(get("note")),
                get("followers_count"),
            )
        return handle

    def _entities(
        self, s: dict, author: str, mentions: dict[str, None], hashtags: dict[str, None]
    ) -> dict[str, str]:
        """Add a status's mentions and tags; return {mentioned account id: key}."""
        by_id: dict[str, str] = {}
        listed = s.get("mentions")
        handles = self.handles
        for m in listed if type(listed) is list else ():
            if type(m) is dict:
                acct, url = m.get("acct"), m.get("url")
                try:
                    h = handles[(acct, url)]
                except (KeyError, TypeError):
                    h = self._acct(acct, url)
                if h is not None:
                    mid = as_id(m.get("id"))
                    if mid is not None:
                        by_id[mid] = h
                    if h != author:
                        mentions[h] = None
        listed = s.get("tags")
        for t in listed if type(listed) is list else ():
            name = t.get("name") if type(t) is dict else None
            if type(name) is str:
                name = name.strip().lstrip("#")
                if name:
                    hashtags[name.lower()] = None
        return by_id

    def status(self, s: dict, n: int, raw: object) -> None:
        get = s.get  # (a hot loop: as_id and the look-ups inlined where they repeat)
        post_id = get("id")
        if type(post_id) is int:
            post_id = str(post_id)
        elif type(post_id) is not str or not post_id:
            self.rejects.add(n, "status without an id", raw)
            return
        account = get("account")
        author = self._account(account)
        if author is None:
            reason = "status without an account.acct"
            if type(account) is dict and type(account.get("acct")) is str:
                reason = "local account.acct with no host: give --instance or account.url"
            self.rejects.add(n, reason, raw)
            return
        mentions: dict[str, None] = {}
        hashtags: dict[str, None] = {}
        by_id = (
            self._entities(s, author, mentions, hashtags)
            if get("mentions") or get("tags")  # (else there is nothing to add)
            else _NO_IDS
        )
        content = get("content")  # HTML: made plain text for a whole batch at take()
        kind, target, target_author, text = _POST, None, None, content
        if type(text) is not str:
            text = None
        reblog = get("reblog")
        quote = get("quote")
        if type(quote) is dict and "quoted_status" in quote:  # Mastodon 4.4 Quote entity
            quote = quote.get("quoted_status")
        reply_to = as_id(get("in_reply_to_id"))
        if type(reblog) is dict:
            # a boost carries the boosted status's text, mentions and hashtags, as a retweet
            # does in Twitter data (the API gives the wrapper none): measures compare across
            # platforms, and a boost of a post about the focal account addresses it too
            kind, target = _REPOST, as_id(reblog.get("id"))
            target_author = self._account(reblog.get("account"))
            text = reblog.get("content") if type(reblog.get("content")) is str else None
            if not mentions and not hashtags:
                self._entities(reblog, author, mentions, hashtags)
        elif reply_to is not None:
            kind, target = _REPLY, reply_to
            if type(quote) is dict:  # it also quotes: a second edge (Batch.quotes)
                self.quotes.append(
                    (post_id, n, as_id(quote.get("id")), self._account(quote.get("account")))
                )
            to_account = as_id(s.get("in_reply_to_account_id"))
            if to_account is not None:
                if type(account) is dict and to_account == as_id(account.get("id")):
                    target_author = author
                else:  # a mentioned account, else one seen as an author in this file
                    target_author = by_id.get(to_account) or self.by_account_id.get(to_account)
        elif type(quote) is dict:
            kind, target = _QUOTE, as_id(quote.get("id"))
            target_author = self._account(quote.get("account"))
        lang = get("language")
        self.posts.rows.append(
            (
                _P,
                post_id,
                author,
                as_id(account.get("id")) if type(account) is dict else None,
                s.get("created_at"),
                text,
                kind,
                target,
                target_author,
                " ".join(mentions) or None,
                " ".join(hashtags) or None,
                lang if type(lang) is str else None,
                n,
                raw,
            )
        )

    def line(self, line: bytes, n: int) -> None:
        """Parse one line of JSON lines input (line number ``n``).

        The line is decoded into :class:`_SStatus` where it fits (:meth:`_fast`), else as any
        JSON value (:meth:`value`). (A line that is not UTF-8 goes the second way: msgspec does
        not check the strings of fields it skips, orjson refuses them.)
        """
        if line.isascii() or _is_utf8(line):
            try:
                s = _DECODE_STATUS(line)
            except (msgspec.MsgspecError, RecursionError):  # (deep nesting: the slow way)
                pass
            else:
                if self._fast(s, n, line):
                    return
        super().line(line, n)

    def _fast_account(self, account: _SAccount | None) -> str | None:
        """:meth:`_account` of a decoded account."""
        if account is None:
            return None
        acct, url = account.acct, account.url
        try:
            handle = self.handles[(acct, url)]
        except KeyError:
            handle = self._acct(acct, url)
        if handle is None:
            return None
        aid = account.id
        if aid is not None and aid not in self.by_account_id:
            if len(self.by_account_id) > 500_000:
                self.by_account_id.clear()
            self.by_account_id[aid] = handle
        if handle not in self.accounts.complete:
            self.accounts.add(
                handle, aid, account.display_name, self._note(account.note), account.followers_count
            )
        return handle

    def _fast_entities(
        self,
        s: _SStatus | _SReblog,
        author: str,
        mentions: dict[str, None],
        hashtags: dict[str, None],
    ) -> dict[str, str]:
        """:meth:`_entities` of a decoded status."""
        by_id: dict[str, str] = {}
        handles = self.handles
        for m in s.mentions or ():
            acct, url = m.acct, m.url
            try:
                h = handles[(acct, url)]
            except KeyError:
                h = self._acct(acct, url)
            if h is not None:
                mid = m.id
                if mid:
                    by_id[mid] = h
                if h != author:
                    mentions[h] = None
        for t in s.tags or ():
            name = t.name
            if name is not None:
                name = name.strip().lstrip("#")
                if name:
                    hashtags[name.lower()] = None
        return by_id

    def lines(self, lines: list[bytes], first: int = 1) -> None:
        """:meth:`line` of each line that is not blank, numbered from ``first`` (a worker's
        loop: the decoding and :meth:`_fast` inlined; a line is found blank only when it does
        not decode, as a blank one does not)."""
        fast, decode, error = self._fast, _DECODE_STATUS, (msgspec.MsgspecError, RecursionError)
        n = first - 1
        for line in lines:
            n += 1
            if line.isascii() or _is_utf8(line):
                try:
                    s = decode(line)
                except error:
                    pass
                else:
                    if fast(s, n, line):
                        continue
            if line.strip():
                JsonLinesParser.line(self, line, n)

    def _fast(self, s: _SStatus, n: int, raw: bytes) -> bool:
        """:meth:`status` of a decoded status; False (nothing done) for one it would reject.

        (A hot loop: the account's look-ups, and the mentions and tags of a status that is not
        a boost, are inlined from :meth:`_fast_account` and :meth:`_fast_entities`; a tag name's
        key is cached.)
        """
        post_id = s.id
        if not post_id:
            return False
        account = s.account
        handles = self.handles
        try:
            author = handles[(account.acct, account.url)]
        except KeyError:
            author = self._acct(account.acct, account.url)
        if author is None:
            return False
        aid = account.id
        if aid is not None:
            by_account_id = self.by_account_id
            if aid not in by_account_id:
                if len(by_account_id) > 500_000:
                    by_account_id.clear()
                by_account_id[aid] = author
        if author not in self.accounts.complete:  # (else its row is given: see take())
            self._fast_account(account)
        self.records += 1
        mentioned = None
        by_id = _NO_IDS
        listed = s.mentions
        if listed:
            by_id = {}
            mentions: dict[str, None] = {}
            for m in listed:
                try:
                    h = handles[(m.acct, m.url)]
                except KeyError:
                    h = self._acct(m.acct, m.url)
                if h is not None:
                    if m.id:
                        by_id[m.id] = h
                    if h != author:
                        mentions[h] = None
            if mentions:
                mentioned = " ".join(mentions)
        tagged = None
        listed = s.tags
        if listed:
            keys = self.tag_keys
            hashtags: dict[str, None] = {}
            for t in listed:
                name = t.name
                if name is not None:
                    key = keys.get(name)
                    if key is None:
                        key = self._tag_key(name)
                    if key:
                        hashtags[key] = None
            if hashtags:
                tagged = " ".join(hashtags)
        reblog = s.reblog
        if reblog is not None:
            # a boost carries the boosted status's text, mentions and hashtags (see status())
            kind, target = _REPOST, reblog.id or None
            target_author = self._fast_account(reblog.account)
            text = reblog.content
            if mentioned is None and tagged is None:
                mentions, hashtags = {}, {}
                self._fast_entities(reblog, author, mentions, hashtags)
                mentioned = " ".join(mentions) or None
                tagged = " ".join(hashtags) or None
        elif s.in_reply_to_id:
            kind, target, target_author, text = _REPLY, s.in_reply_to_id, None, s.content
            to_account = s.in_reply_to_account_id
            if to_account:
                if to_account == aid:
                    target_author = author
                else:  # a mentioned account, else one seen as an author in this file
                    target_author = by_id.get(to_account) or self.by_account_id.get(to_account)
        else:
            kind, target, target_author, text = _POST, None, None, s.content
        self.posts.rows.append(
            (
                _P,
                post_id,
                author,
                aid or None,
                s.created_at,
                text,
                kind,
                target,
                target_author,
                mentioned,
                tagged,
                s.language,
                n,
                raw,
            )
        )
        return True

    def _tag_key(self, name: str) -> str:
        """A tag's name as stored (no ``#``, lower case; "" for none), cached."""
        key = name.strip().lstrip("#").lower()
        if len(self.tag_keys) > 100_000:
            self.tag_keys.clear()
        self.tag_keys[name] = key
        return key

    def take(self) -> Batch:
        """Return the rows collected so far as a batch, and reset.

        An account whose row was complete (id, name, bio and followers known) is not given again
        in a later batch of the same read: the store keeps each field's first non-null value, in
        batch order, so a later row of it could change nothing.
        """
        posts, rejects = _take_posts(self.posts)
        complete = self.accounts.complete
        accounts = self.accounts.take()
        if len(complete) <= 500_000:
            self.accounts.complete = complete  # (its rows given: kept out of the next batches)
        batch = Batch(
            posts=posts,
            accounts=accounts,
            rejects=rejects,
            quotes=quotes_table(self.quotes),
        )
        self.quotes = []
        batch.rows_read, self.records = self.records, 0
        return batch


def read_statuses(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read API statuses: JSON lines, or one JSON document (an array of statuses, or one).

    Raises
    ------
    InputFileError
        The file cannot be read, or a document is malformed as a whole.
    """
    parser = StatusParser(source, options.instance)
    path = Path(path)
    try:
        fh = open_input(path)  # (gzip, zstd, bzip2, xz: read as they decompress)
    except OSError as exc:
        raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None
    with fh:
        with open_input(path) as probe:
            head = probe.read(1 << 16)
        first = head.lstrip(_BOM + b" \t\r\n")[:1]
        if first in (b"[", b"{") and _is_document(path):
            size = path.stat().st_size
            if size > _DOCUMENT_MAX_BYTES:
                raise InputFileError(path, "a JSON document over 1 GB: write it as JSON lines")
            data = fh.read()
            try:
                doc = loads(data.removeprefix(_BOM))
            except orjson.JSONDecodeError as exc:
                raise InputFileError(path, f"malformed JSON document ({exc})") from None
            for i, item in enumerate(doc if type(doc) is list else [doc], 1):
                parser.value(item, i, item)
                if len(parser.posts) >= options.batch_rows:
                    yield parser.take()
            options.advance(size)
            yield parser.take()
            return
        size = path.stat().st_size
        workers = worker_count(options.workers)
        parallel = compression_of(path) is None and not cr_only(head)
        if parallel and workers > 1 and size >= PARALLEL_MIN_BYTES:
            yield from _read_parallel(path, size, source, options, workers)
            return
        for n, line in enumerate(iter_lines(fh), 1):  # (lines ended by CR alone too)
            options.advance(len(line))
            if n == 1:
                line = line.removeprefix(_BOM)
            if not line.strip():
                continue
            parser.line(line, n)
            if len(parser.posts) >= options.batch_rows:
                yield parser.take()
        yield parser.take()


#: Per worker process and instance: the (acct, url) -> key and bio HTML -> text caches.
_WORKER_CACHES: dict[str | None, tuple[dict, dict]] = {}
#: Per worker process: the read (its id) whose chunks it parses, and the accounts whose rows it
#: gave complete in an earlier chunk of that read (StatusParser.take: not given again)
_WORKER_GIVEN: list = [None, set()]


def _parse_range(
    path: str,
    start: int,
    end: int,
    source: str,
    instance: str | None,
    read_id: str = "",
    spool: str | None = None,
):
    """Parse the lines in bytes ``start:end`` of a statuses file (in a worker process).

    Returns the batch (line numbers from 1 within the range) and the number of lines. With
    ``spool`` (a folder), the batch is left there as a file (Arrow IPC, as the Twitter reader's
    workers leave theirs) and its path and rows read are returned instead: a file in the page
    cache, memory-mapped by the main process, moves it with less copying than a pipe. A worker
    takes a read's chunks in file order, so an account whose row it gave complete for an earlier
    chunk of read ``read_id`` comes before this chunk's in the store's merge: its row is left
    out (the store is the same).
    """
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    parser = StatusParser(source, instance)
    # (a worker parses chunk after chunk: the look-ups that depend on nothing but their input
    # are kept from one to the next; what depends on the file's order, by_account_id, is not)
    parser.handles, parser.notes = _WORKER_CACHES.setdefault(parser.instance, ({}, {}))
    if not read_id or _WORKER_GIVEN[0] != read_id:
        _WORKER_GIVEN[:] = [read_id, set()]
    parser.accounts.complete = _WORKER_GIVEN[1]
    if lines and start == 0:
        lines[0] = lines[0].removeprefix(_BOM)
    with gc_paused():
        parser.lines(lines)
        batch = parser.take()
        _WORKER_GIVEN[1] = parser.accounts.complete  # (a new set if it grew too large)
        if (
            spool is None
            or batch.notes
            or batch.interactions is not None
            or batch.follows is not None
        ):
            return batch, len(lines)
        out = os.path.join(spool, f"mastodon-{read_id}-{start:014d}.arrow")
        with pa.OSFile(out, "wb") as sink:
            _dump(batch, sink)
        return (out, batch.rows_read), len(lines)


def _read_parallel(
    path: Path, size: int, source: str, options: ReadOptions, workers: int
) -> Iterator[Batch]:
    """Chunks of a large statuses file parsed by worker processes, yielded in file order."""
    from contextlib import nullcontext

    owned = options.pool is None
    with WorkerPool(workers) if owned else nullcontext(options.pool) as pool:
        pending: deque = deque()
        offset = 0

        def collect() -> Batch:
            nonlocal offset
            nbytes, job = pending.popleft()
            batch, nlines = job.result()
            if type(batch) is tuple:  # (left in the spool folder)
                batch = _load_file(*batch)
            options.advance(nbytes)
            batch.posts = shift_lines(batch.posts, offset)
            batch.rejects = shift_lines(batch.rejects, offset)
            batch.quotes = shift_lines(batch.quotes, offset)
            offset += nlines
            return batch

        read_id = uuid.uuid4().hex  # (a worker's accounts given: per read, see _parse_range)
        for start, end in _chunks(path, size, CHUNK_BYTES):
            job = pool.submit(
                _parse_range,
                str(path),
                start,
                end,
                source,
                options.instance,
                read_id,
                options.spool,
            )
            pending.append((end - start, job))
            if len(pending) > 2 * pool.workers:
                yield collect()
        while pending:
            yield collect()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_document(path: Path) -> bool:
    """A file starting with ``{`` or ``[`` is a document (one pretty-printed status, or an array
    of statuses) unless its lines are JSON lines: a first non-blank line that is a whole JSON
    value (for ``[``: with another whole value on a later line, as ``[]`` then statuses), or
    for ``{`` one that is not whose next line is a whole status (JSON lines whose first line
    was cut: no line of a pretty-printed status is a status)."""
    with open_input(path) as fh:
        head = (ln.removeprefix(_BOM) for ln in itertools.islice(iter_lines(fh), 64))
        lines = [ln for ln in head if ln.strip()][:2]  # (the first two non-blank lines)
    if not lines:
        return True
    first, second = lines[0], lines[1] if len(lines) > 1 else b""
    try:
        _loads_shape(first)
    except orjson.JSONDecodeError:
        if first.lstrip()[:1] == b"[":
            return True  # (an array, pretty-printed)
        try:
            return not looks_like_status(_loads_shape(second))
        except orjson.JSONDecodeError:
            return True
    if first.lstrip()[:1] == b"[":
        try:
            _loads_shape(second)
        except orjson.JSONDecodeError:
            return True
    return False


def _loads_shape(line: bytes) -> object:
    """Decode a line to judge its shape: bytes that are not UTF-8 (a line saved as latin-1) do
    not make a whole JSON value a fragment (the line is a reject later, saying why)."""
    try:
        return loads(line)
    except orjson.JSONDecodeError:
        if line.isascii():
            raise
        return loads(line.decode("utf-8", "replace"))


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read any Mastodon input: the archive (or one of its files) or API statuses.

    The form is told from the content: a zip, tar or folder is an archive; JSON holding
    ActivityStreams collections or an actor is an archive file; anything else is API statuses.
    """
    path = Path(path)
    if path.is_dir() or _archive_like(path):
        yield from read_archive(path, source, options)
    else:
        yield from read_statuses(path, source, options)


def _archive_like(path: Path) -> bool:
    try:
        compressed = compression_of(path) is not None
        with open_input(path) as fh:  # (a compressed file: its decompressed head)
            head = fh.read(1 << 16)
    except OSError as exc:
        raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None
    if not compressed and head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return True
    if head[257:262] == b"ustar":  # a tar, compressed or not
        return True
    return bool(
        re.search(rb'"type"\s*:\s*"(OrderedCollection|OrderedCollectionPage|Person)"', head)
        and re.search(rb'"(orderedItems|preferredUsername)"\s*:', head)
    )


def archive_names_look_mastodon(names: list[str]) -> bool:
    """Return True if archive member names hold a Mastodon archive (``outbox.json``...)."""
    bases = {n.rsplit("/", 1)[-1] for n in names}
    return "outbox.json" in bases or ("actor.json" in bases and "likes.json" in bases)
