"""Telegram: the ``result.json`` that Telegram Desktop's "Export chat history" writes.

Two shapes [1]_: one chat (``{"name", "type", "id", "messages": [...]}``), or the full export
(``{"about", "personal_information", ..., "chats": {"about", "list": [chat, ...]},
"left_chats": {...}}``). Each message has ``id`` (numbered per chat), ``type`` (``message`` or
``service``), ``date`` (local time without a zone: not used) and ``date_unixtime`` (seconds,
UTC: used), ``from`` (display name), ``from_id`` (``user123...`` or ``channel123...``), ``text``
(a string, or a list of strings and entity objects ``{"type", "text"}``), ``text_entities``
(``mention`` ``@username``, ``mention_name`` with ``user_id``, ``hashtag``...),
``reply_to_message_id`` (with ``reply_to_peer_id`` when the message replied to is in another
chat) and ``forwarded_from``.

Rows: a ``message`` is a post by ``telegram:<from_id>``; its id is ``<chat id>/<message id>``
(message ids are per chat). A reply is a reply to the sender of that message in the same chat
when the export holds it (else the target account is unknown); a forwarded message is a
``repost`` of its source (``telegram:<forwarded_from_id>`` when the export gives one, else the
source's name as written; a ``forwarded_from`` of null, which Telegram Desktop writes for a
source whose name it does not have, is a repost of an unknown account). Mentions: ``@username``
becomes ``telegram:username``; a ``mention_name`` (a user without a username) becomes
``telegram:user<user_id>``. Telegram exports
do not give the usernames of senders, so a sender's ``telegram:user...`` and the same person's
``telegram:username`` are two keys: link them with an account map. Service messages (joins,
pins, calls) are not posts: counted in the import summary.

Streaming: the file is memory-mapped and scanned for the ``messages`` arrays; the messages are
decoded a run of about 64 KB at a time, so memory stays flat in the size of the export (a
per-chat table of message id -> sender, for replies, is the only thing that grows).

Decoding: msgspec (a maintained, fast JSON library) decodes a run into typed structs that hold
only the fields read (:class:`_Message`); the other fields (``date``, media, reactions...) are
skipped in C without building Python objects, and the types are checked in C, which is most of
what the per-message Python did with dicts: this is what brings the import to 100,000 messages
per CPU-second (issue 16). A run in which any message does not fit those types (or that is
malformed) is decoded with orjson into dicts, and one by one if that fails, for the same rows,
rejects and reasons. One difference remains: a number beyond the range of a double (``1e400``)
in a field not read is skipped by msgspec where orjson refuses the message as malformed.

References
----------
.. [1] Telegram Desktop source, ``Telegram/SourceFiles/export/output/export_output_json.cpp``
   (the JSON writer), https://github.com/telegramdesktop/tdesktop ; Telegram, "Chat export",
   https://telegram.org/blog/export-and-more

Examples
--------
>>> message_text(["Stand with ", {"type": "mention", "text": "@lane"}, "!"])
'Stand with @lane!'
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from pathlib import Path

import msgspec
import orjson

from ..errors import InputFileError
from ..schema import PostKind
from .base import AccountRows, Batch, PostRows, ReadOptions, RejectRows, as_id, loads
from .compressed import compression_of, open_input
from .platforms import PLATFORM_TELEGRAM, qualify
from .timestamps import EARLIEST, LATEST

__all__ = ["TelegramParser", "message_text", "read"]

_P = PLATFORM_TELEGRAM
_POST = PostKind.POST.value
_REPLY = PostKind.REPLY.value
_REPOST = PostKind.REPOST.value
#: A JSON token the scanner needs: an object key, a string (skipped whole), or a bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"(\s*:)?|[{}\[\]]')
_SCALAR = re.compile(rb'\s*(-?\d+|"(?:[^"\\]|\\.)*")')
_WS = b" \t\r\n"
_SKIP = re.compile(rb"[ \t\r\n,]*")  # what separates two messages
_RELEASE = 64 * 1024**2  # bytes of a memory-mapped export read between two releases
_RUN_BYTES = 64 * 1024  # messages decoded per call (about 100 as Telegram writes them)


class _Entity(msgspec.Struct, gc=False):
    """An entity of ``text_entities``, typed as Telegram writes it (the fields read)."""

    type: str | None = None
    text: str | None = None
    user_id: int | str | None = None


class _Piece(msgspec.Struct, gc=False):
    """An entity in a list-valued ``text``: only its text is read (its type is in
    ``text_entities``)."""

    text: str | None = None


class _Message(msgspec.Struct, gc=False):
    """A message, typed as Telegram writes it: only the fields the importer reads.

    A run of messages decodes into these (:data:`_DECODE_RUN`) when every one of them fits: other
    fields are skipped without building them, and a value of another type than these fails the
    whole run, which is then decoded with orjson into dicts (:meth:`TelegramParser.message`).
    A field that is absent decodes as ``None``, as ``dict.get`` gives it (``forwarded_from``:
    as UNSET, since a null one still marks a forward). A message without
    ``date_unixtime``, or with a list-valued ``text`` and no ``text_entities``, is decoded again
    with orjson on its own (:meth:`TelegramParser.typed`): its ``date`` or its text's entities
    are read then.
    """

    id: int | str | None = None
    type: str | None = None
    date_unixtime: str | int | None = None
    from_: str | None = msgspec.field(name="from", default=None)
    from_id: str | None = None
    text: str | list[str | _Piece] | None = None
    text_entities: list[_Entity] | None = None
    reply_to_message_id: int | str | None = None
    reply_to_peer_id: int | str | None = None
    forwarded_from: str | msgspec.UnsetType | None = msgspec.UNSET  # (null: still a forward)
    forwarded_from_id: str | None = None


_DECODE_RUN = msgspec.json.Decoder(list[_Message]).decode
_UNSET = msgspec.UNSET
#: Epoch seconds that :func:`~netsupport.io.timestamps.parse_column` reads as seconds and keeps
#: (EARLIEST to LATEST, far below the milliseconds threshold): the row of a message with one of
#: these needs no raw text (kept only for the reject of a timestamp refused).
_SAFE_SECONDS = range(int(EARLIEST.timestamp()), int(LATEST.timestamp()))


def message_text(text: object) -> str | None:
    """Return a message's text: a string, or the concatenation of a list of strings and entities."""
    if type(text) is str:
        return text
    if type(text) is not list:
        return None
    out = []
    add = out.append
    for piece in text:
        if type(piece) is str:
            add(piece)
        elif type(piece) is dict:
            t = piece.get("text")
            if type(t) is str:
                add(t)
    return "".join(out)


class TelegramParser:
    """Turn decoded messages of one chat after another into rows for one source.

    Examples
    --------
    >>> p = TelegramParser("result.json")
    >>> p.chat(42)
    >>> p.message({"id": 1, "type": "message", "date_unixtime": "1392372000",
    ...     "from": "Amy", "from_id": "user7", "text": "hi"}, 1, b"")
    >>> p.message({"id": 2, "type": "message", "date_unixtime": "1392375600",
    ...     "from": "Bob", "from_id": "user8", "text": "yes", "reply_to_message_id": 1}, 2, b"")
    >>> [(r["post_id"], r["kind"], r["target_author"]) for r in p.take().posts.to_pylist()]
    [('42/1', 'post', None), ('42/2', 'reply', 'telegram:user7')]
    """

    def __init__(self, source: str):
        self.rejects = RejectRows(source)
        self.posts = PostRows(source, self.rejects)
        self.accounts = AccountRows()
        self.records = 0
        self.service = 0
        self.chat_key = "0"
        self.senders: dict[object, str] = {}
        self.pending: list[int] = []  # rows of this batch: replies whose target author is unknown
        #: account key -> the account id its row in an earlier batch gave, with a name: a row
        #: with the same id adds nothing to the merge (first non-null value per field, and a
        #: Telegram row has no other field), so it is not given again in every batch
        self.given: dict[str, str] = {}
        self.keys: dict[str, str] = {}  # from_id / mention text -> store key (qualify, cached)
        self.named: dict[str, str] = {}  # mention text -> store key, "" if it names no one
        self.hashtags: dict[str, str] = {}  # hashtag entity text -> hashtag, "" if empty

    def _key(self, name: str) -> str:
        key = self.keys.get(name)
        if key is None:
            if len(self.keys) > 500_000:
                self.keys.clear()
            key = self.keys[name] = qualify(_P, name)
        return key

    def _mention(self, text: str) -> str:
        """The store key a ``mention`` entity's text names ("" if none), cached."""
        if len(self.named) > 500_000:
            self.named.clear()
        key = self.named[text] = qualify(_P, text) if text.strip().lstrip("@") else ""
        return key

    def _hashtag(self, text: str) -> str:
        """The hashtag of a ``hashtag`` entity's text ("" if none), cached."""
        if len(self.hashtags) > 500_000:
            self.hashtags.clear()
        tag = text.strip().lstrip("#")
        tag = self.hashtags[text] = tag.lower() if tag else ""
        return tag

    def _resolve_replies(self) -> None:
        """Give replies to a message that came later in the export (still in this batch) its
        sender."""
        rows = self.posts.rows
        prefix = self.chat_key + "/"
        unknown = []
        for i in self.pending:
            r = rows[i]
            if r[7].startswith(prefix):
                sender = self.senders.get(int(r[7][len(prefix) :]))
                if sender is not None:
                    rows[i] = (*r[:8], sender, *r[9:])
                    continue
            unknown.append(i)
        self.pending = unknown

    def chat(self, chat_id: object, index: int = 0) -> None:
        """Start a new chat (message ids restart)."""
        self._resolve_replies()
        cid = as_id(chat_id)
        self.chat_key = cid if cid is not None else f"chat{index}"
        self.senders = {}

    def message(self, msg: object, n: int, raw: object) -> None:
        """Parse one message (``n``: its position among the file's messages, 1-based)."""
        self.records += 1
        if type(msg) is not dict:
            self.rejects.add(n, f"not a message (a JSON {type(msg).__name__})", raw)
            return
        get = msg.get  # (a hot loop: one attribute look-up per message, not twenty)
        kind = get("type")
        if kind == "service":
            self.service += 1
            return
        if kind != "message":
            self.rejects.add(n, f"message of unknown type {str(kind)[:30]!r}", raw)
            return
        mid = get("id")
        if type(mid) is not int and not (type(mid) is str and mid.isdecimal()):
            self.rejects.add(n, "message without a numeric id", raw)
            return
        from_id = get("from_id")
        if type(from_id) is not str or not from_id.strip():
            self.rejects.add(n, "message without from_id", raw)
            return
        keys = self.keys
        author = keys.get(from_id)
        if author is None:
            author = self._key(from_id)
        if author not in self.accounts.complete:
            if self.given.get(author) == from_id:  # (its row is given: a new one adds nothing)
                self.accounts.complete.add(author)
            else:
                name = get("from")
                self.accounts.add(author, from_id, name)
                if type(name) is str:
                    self.accounts.complete.add(author)
        self.senders[mid if type(mid) is int else int(mid)] = author
        created = get("date_unixtime")
        if type(created) is str and created.isdecimal():
            created = int(created)
        elif created is None:
            created = get("date")  # local time without a zone: refused with the reason
        kind_out, target, target_author = _POST, None, None
        reply_to = get("reply_to_message_id")
        if type(reply_to) is int or (type(reply_to) is str and reply_to.isdecimal()):
            reply_to = int(reply_to)
            peer = as_id(get("reply_to_peer_id"))  # a reply to a message of another chat
            peer = peer.lstrip("abcdefghijklmnopqrstuvwxyz") if peer is not None else None
            if peer and peer != self.chat_key.lstrip("-"):
                kind_out, target = _REPLY, f"{peer}/{reply_to}"  # (its sender is not known)
            else:
                kind_out, target = _REPLY, f"{self.chat_key}/{reply_to}"
                target_author = self.senders.get(reply_to)
        else:
            forwarded = get("forwarded_from")
            fid = get("forwarded_from_id")
            # (the key marks a forward: Telegram writes null for a source without a name)
            if "forwarded_from" in msg or fid is not None:
                kind_out = _REPOST
                if type(fid) is str and fid.strip():
                    target_author = qualify(_P, fid)
                elif type(forwarded) is str and forwarded.strip():
                    target_author = qualify(_P, forwarded)
        mentions: dict[str, None] = {}
        hashtags: dict[str, None] = {}
        ents = get("text_entities")
        text = get("text")
        if type(ents) is not list:
            ents = [p for p in text if type(p) is dict] if type(text) is list else ()
        for ent in ents:
            if type(ent) is not dict:
                continue
            etype = ent.get("type")
            if etype == "plain":
                continue
            if etype == "mention":
                t = ent.get("text")
                if type(t) is str and t.strip().lstrip("@"):
                    key = keys.get(t)
                    mentions[key if key is not None else self._key(t)] = None
            elif etype == "mention_name":
                uid = as_id(ent.get("user_id"))
                if uid is not None:
                    mentions[qualify(_P, f"user{uid}")] = None
            elif etype == "hashtag":
                t = ent.get("text")
                if type(t) is str and t.strip().lstrip("#"):
                    hashtags[t.strip().lstrip("#").lower()] = None
        mentions.pop(author, None)
        if kind_out == _REPLY and target_author is None:
            self.pending.append(len(self.posts.rows))
        self.posts.rows.append(
            (
                _P,
                f"{self.chat_key}/{mid}",
                author,
                from_id,
                created,
                text if type(text) is str else message_text(text),
                kind_out,
                target,
                target_author,
                " ".join(mentions) or None,
                " ".join(hashtags) or None,
                None,
                n,
                raw,
            )
        )

    def typed(self, raws: list, msgs: list[_Message], n: int, i: int, limit: int) -> int:
        """Parse the typed messages ``msgs[i:]`` (``raws``: their text; ``n``: the number of the
        message before ``msgs[0]``) until the batch holds ``limit`` rows; return the index of
        the next message to parse.

        The rows, rejects and counts are those :meth:`message` makes of the same messages
        decoded into dicts (the types of :class:`_Message` are the ones it takes as they are).
        """
        keys, senders, named, hashtag_of = self.keys, self.senders, self.named, self.hashtags
        by_handle, complete, given = self.accounts.by_handle, self.accounts.complete, self.given
        rows, pending = self.posts.rows, self.pending
        add_row = rows.append
        prefix = self.chat_key + "/"
        own_peer = self.chat_key.lstrip("-")
        first = i
        number = n + i
        for m in msgs[i:] if i else msgs:
            number += 1
            kind = m.type
            if kind != "message":
                if kind == "service":
                    self.service += 1
                else:
                    reason = f"message of unknown type {str(kind)[:30]!r}"
                    self.rejects.add(number, reason, raws[number - n - 1])
                continue
            text = m.text
            ents = m.text_entities
            created = m.date_unixtime
            if created is None or (ents is None and type(text) is list):
                self.records -= 1  # (counted by message)
                if self._decode_one(raws[number - n - 1], number) and len(rows) >= limit:
                    break
                continue
            mid = m.id
            if type(mid) is not int and not (type(mid) is str and mid.isdecimal()):
                self.rejects.add(number, "message without a numeric id", raws[number - n - 1])
                continue
            from_id = m.from_id
            if from_id is None or not from_id.strip():
                self.rejects.add(number, "message without from_id", raws[number - n - 1])
                continue
            author = keys.get(from_id)
            if author is None:
                author = self._key(from_id)
            if author not in complete:  # (AccountRows.add: the first value given wins)
                name = m.from_
                rec = by_handle.get(author)
                if rec is None and given.get(author) == from_id:
                    complete.add(author)  # (its row is given: a new one adds nothing)
                elif rec is None:
                    by_handle[author] = [author, from_id, name, None, None, None]
                else:
                    if rec[1] is None:
                        rec[1] = from_id
                    if rec[2] is None:
                        rec[2] = name
                if name is not None:
                    complete.add(author)
            senders[mid if type(mid) is int else int(mid)] = author
            if type(created) is str and created.isdecimal():
                created = int(created)
            kind_out = _POST
            target = target_author = None
            reply_to = m.reply_to_message_id
            if reply_to is not None and (type(reply_to) is int or reply_to.isdecimal()):
                reply_to = int(reply_to)
                peer = as_id(m.reply_to_peer_id)
                peer = peer.lstrip("abcdefghijklmnopqrstuvwxyz") if peer is not None else None
                kind_out = _REPLY
                if peer and peer != own_peer:
                    target = f"{peer}/{reply_to}"
                else:
                    target = f"{prefix}{reply_to}"
                    target_author = senders.get(reply_to)
                if target_author is None:
                    pending.append(len(rows))
            else:
                forwarded = m.forwarded_from
                fid = m.forwarded_from_id
                if forwarded is not _UNSET or fid is not None:
                    kind_out = _REPOST
                    if fid is not None and fid.strip():
                        target_author = keys.get(fid) or self._key(fid)
                    elif type(forwarded) is str and forwarded.strip():
                        target_author = keys.get(forwarded) or self._key(forwarded)
            if type(text) is list:
                text = "".join([p if type(p) is str else (p.text or "") for p in text])
            mentions = hashtags = None
            if ents:
                found: list[str] = []
                tags: list[str] = []
                for ent in ents:
                    etype = ent.type
                    if etype == "plain":
                        continue
                    if etype == "mention":
                        t = ent.text
                        if t is not None:
                            key = named.get(t)
                            if key is None:
                                key = self._mention(t)
                            if key:
                                found.append(key)
                    elif etype == "hashtag":
                        t = ent.text
                        if t is not None:
                            tag = hashtag_of.get(t)
                            if tag is None:
                                tag = self._hashtag(t)
                            if tag:
                                tags.append(tag)
                    elif etype == "mention_name":
                        uid = as_id(ent.user_id)
                        if uid is not None:
                            found.append(qualify(_P, f"user{uid}"))
                if found:
                    if len(found) == 1:
                        mentions = found[0] if found[0] != author else None
                    else:
                        distinct = dict.fromkeys(found)
                        distinct.pop(author, None)
                        mentions = " ".join(distinct) or None
                if tags:
                    hashtags = tags[0] if len(tags) == 1 else " ".join(dict.fromkeys(tags))
            add_row(
                (
                    _P,
                    f"{prefix}{mid}",
                    author,
                    from_id,
                    created,
                    text,
                    kind_out,
                    target,
                    target_author,
                    mentions,
                    hashtags,
                    None,
                    number,
                    None
                    if type(created) is int and created in _SAFE_SECONDS
                    else raws[number - n - 1],
                )
            )
            if len(rows) >= limit:
                break
        else:
            self.records += len(msgs) - first
            return len(msgs)
        self.records += number - n - first
        return number - n

    def _decode_one(self, raw: bytes, n: int) -> bool:
        """Decode one message with orjson and parse it as :meth:`message` does; return whether
        that added a row."""
        before = len(self.posts.rows)
        try:
            msg = loads(raw)
        except orjson.JSONDecodeError as exc:  # (as one by one: see _read_buffer)
            self.records += 1
            self.rejects.add(n, f"malformed message: {exc}", raw)
            return False
        self.message(msg, n, raw)
        return len(self.posts.rows) > before

    def take(self) -> Batch:
        """Return the rows collected so far as a batch, and reset."""
        self._resolve_replies()
        self.pending = []
        posts, rejects = self.posts.take()
        for handle, rec in self.accounts.by_handle.items():
            if rec[1] is not None and rec[2] is not None and handle not in self.given:
                self.given[handle] = rec[1]
        batch = Batch(posts=posts, accounts=self.accounts.take(), rejects=rejects)
        self.accounts.complete = set()  # (also when no row was given: see self.given)
        batch.rows_read, self.records = self.records, 0
        return batch

    def notes(self) -> tuple[str, ...]:
        """What the summary says once: the service messages skipped."""
        if not self.service:
            return ()
        return (f"service messages (joins, pins, calls; not posts) skipped: {self.service}",)


# ---- streaming ---------------------------------------------------------------------------------


def _scalar(buf, pos: int) -> tuple[object, int]:
    m = _SCALAR.match(buf, pos)
    if m is None:
        return None, pos
    try:
        return orjson.loads(m.group(1)), m.end()
    except orjson.JSONDecodeError:
        return None, m.end()


def _object_end(buf, start: int) -> int:
    """Return the index just past the JSON object (or array) starting at ``start``.

    Raises ValueError if it does not close.
    """
    depth = 0
    for m in _TOKEN.finditer(buf, start):
        c = m.group(0)
        if c in (b"{", b"["):
            depth += 1
        elif c in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return m.end()
    raise ValueError("unclosed")


def iter_chats(buf) -> Iterator[tuple[str, object]]:
    """Yield ``("chat", id)`` when a chat's messages begin and ``("message", bytes)`` per message.

    A scan over the tokens of the document that descends into every object; an array under a
    ``messages`` key holds messages. The chat's ``id`` is the one given before ``messages`` in
    the same object (Telegram Desktop writes it first). Each message is sliced out and parsed on
    its own; a message that is pretty-printed (Telegram's own layout) is found by its closing
    line without scanning inside it. Raises ValueError on a document that is not well formed.
    """
    stack: list[list] = []  # per open container: [is_object, last_key, chat_id]
    pos = 0
    size = len(buf)
    chat_index = 0
    while True:
        m = _TOKEN.search(buf, pos)
        if m is None:
            if stack:
                raise ValueError("the document ends inside an object or array")
            return
        tok = m.group(0)
        pos = m.end()
        if m.group(1) is not None:  # a key
            if not stack or not stack[-1][0]:
                raise ValueError("a key outside an object")
            key = tok[: tok.rindex(b":")].rstrip()
            stack[-1][1] = key
            if key == b'"id"':
                value, pos = _scalar(buf, pos)
                stack[-1][2] = value
            elif key == b'"messages"':
                j = pos
                while j < size and buf[j] in _WS:
                    j += 1
                if j < size and buf[j : j + 1] == b"[":
                    chat_index += 1
                    yield "chat", (stack[-1][2], chat_index)
                    pos = yield from _messages(buf, j + 1)
                    stack[-1][1] = None
            continue
        if tok == b"{":
            stack.append([True, None, None])
        elif tok == b"[":
            stack.append([False, None, None])
        elif tok in (b"}", b"]"):
            if not stack:
                raise ValueError("a closing bracket without an opening one")
            stack.pop()
            if not stack:
                return
        # strings that are values: skipped


def _messages(buf, pos: int) -> Iterator[tuple[str, object]]:
    """Yield the messages of an array whose ``[`` ends before ``pos``; return the index past it."""
    size = len(buf)
    released = pos - pos % mmap.PAGESIZE
    single = 0
    while True:
        pos = _SKIP.match(buf, pos).end()  # type: ignore[union-attr]  (always matches)
        if pos >= size:
            raise ValueError("the messages array does not close")
        c = buf[pos : pos + 1]
        if c == b"]":
            return pos + 1
        if c != b"{":
            end = _value_end(buf, pos)
            yield "message", bytes(buf[pos:end])
            pos = end
            continue
        if pos - released >= _RELEASE and isinstance(buf, mmap.mmap):
            # the pages read so far are not needed again: give them back, so that resident
            # memory stays flat however large the export (they are re-read if ever touched)
            upto = pos - pos % mmap.PAGESIZE
            buf.madvise(mmap.MADV_DONTNEED, released, upto - released)
            released = upto
        if single:
            single -= 1
        else:
            run = _run(buf, pos)
            if type(run) is tuple:
                yield run[0], run[1:3]
                pos = run[3]
                continue
            single = run - 1  # (a miss: that many messages one by one, then runs again)
        fast = _fast_end(buf, pos)
        if fast is not None:
            end, obj = fast
            yield "parsed", (buf[pos:end], obj)
        else:
            try:
                end = _object_end(buf, pos)
            except ValueError:
                raise ValueError(
                    f"the message opened at line {_line_at(buf, pos)} (byte {pos}) does not "
                    "close: truncated?"
                ) from None
            yield "message", bytes(buf[pos:end])
        pos = end


def _line_at(buf, pos: int) -> int:
    """The line number (from 1) of byte ``pos`` of ``buf`` (bytes or a memory map, counted in
    slices: a map has no ``count``)."""
    step = 1 << 24
    return 1 + sum(bytes(buf[i : min(i + step, pos)]).count(b"\n") for i in range(0, pos, step))


def _run(buf, start: int) -> tuple[str, list, list, int] | int:
    """The pretty-printed messages from ``start`` in about ``_RUN_BYTES``, decoded in one call:
    ``(what, raw slices, messages, end)``; or, if they cannot be, how many to take one by one.

    Each message ends where :func:`_fast_end` says (the next line that is its indentation and
    ``}``). ``[`` + the run + ``]`` decodes only if the run ends between two messages, and into
    as many values as there are slices only if each slice is one message: then the messages,
    their numbers and their raw text are those of decoding them one by one. Anything else (a
    separator other than one comma, another indentation, a malformed message) is a miss.

    ``what`` is ``"typed"`` when the run decodes into :class:`_Message` structs (msgspec: every
    message an object whose fields read have the types Telegram writes; the raw slices are then a
    :class:`_Raws`, found only if asked for) and ``"run"`` when it decodes only into dicts
    (orjson). msgspec does not check the UTF-8 of the strings it skips: the run's bytes are
    checked first (orjson refuses invalid UTF-8 anywhere).
    """
    line_start = buf.rfind(b"\n", 0, start) + 1
    lead = bytes(buf[line_start - 1 : start]) if line_start else b""
    if not lead or lead[1:].strip():
        return 1
    closer = lead + b"}"
    sep = closer + b"," + lead + b"{"  # between two messages as Telegram writes them
    cut = buf.rfind(sep, start, start + _RUN_BYTES + len(sep))
    if cut > start:
        # the run ends with a message (the one before the last ``sep`` in reach); if it decodes,
        # it is whole messages (a cut inside one would leave it open), each raw text found only
        # if asked for (_Raws); if it decodes only into dicts, the messages are cut at each
        # ``sep`` and, as below, each slice is one if there are as many messages as slices
        end = cut + len(closer)
        chunk = b"[" + buf[start:end] + b"]"
        typed = _decode_typed(chunk)
        if typed is not None:
            return "typed", _Raws(chunk, len(typed)), typed, end
        parts = chunk[1:-1].split(sep)
        if len(parts) > 1:
            raws = [b"{" + part + closer for part in parts]
            raws[0] = parts[0] + closer
            raws[-1] = b"{" + parts[-1]
            return _decode_dicts(raws, chunk, end)
    bounds = []
    find, skip, limit = buf.find, _SKIP.match, start + _RUN_BYTES
    s = start
    while s < limit:
        c = find(closer, s)
        if c < 0:
            break
        e = c + len(closer)
        bounds.append((s, e))
        s = skip(buf, e).end()  # type: ignore[union-attr]  (always matches)
        if buf[s : s + 1] != b"{" or buf[s - len(lead) : s] != lead:
            break
    if len(bounds) < 2:
        return 1
    end = bounds[-1][1]
    raws = [buf[a:b] for a, b in bounds]
    chunk = b"[" + buf[start:end] + b"]"
    typed = _decode_typed(chunk)
    if typed is not None and len(typed) == len(raws):
        return "typed", raws, typed, end
    return _decode_dicts(raws, chunk, end)


def _decode_typed(chunk: bytes) -> list[_Message] | None:
    """The messages of ``chunk`` (``[`` + a run + ``]``) as structs, or None if they do not all
    fit :class:`_Message` (or the run is malformed: orjson says how)."""
    if not _utf8(chunk):
        return None
    try:
        return _DECODE_RUN(chunk)
    except (msgspec.DecodeError, RecursionError):
        return None


class _Raws:
    """The raw text of each message of a decoded run, found when first asked for: by an exact
    scan of the run's tokens, as one by one (most runs are never asked)."""

    __slots__ = ("chunk", "count", "slices")

    def __init__(self, chunk: bytes, count: int):
        self.chunk = chunk
        self.count = count
        self.slices: list[bytes] | None = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, k: int) -> bytes:
        if self.slices is None:
            self.slices = []
            pos = 1
            for _ in range(self.count):
                pos = _SKIP.match(self.chunk, pos).end()  # type: ignore[union-attr]
                end = _object_end(self.chunk, pos)
                self.slices.append(self.chunk[pos:end])
                pos = end
        return self.slices[k]

    def __iter__(self) -> Iterator[bytes]:
        return iter([self[k] for k in range(self.count)])


def _decode_dicts(raws: list, chunk: bytes, end: int) -> tuple[str, list, list, int] | int:
    """Decode ``chunk`` into dicts, one per raw slice: see :func:`_run`."""
    try:
        messages = orjson.loads(chunk)
    except orjson.JSONDecodeError:
        return len(raws)
    if len(messages) != len(raws):
        return len(raws)
    return "run", raws, messages, end


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (as strict as orjson: no surrogates, no overlong forms)."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _fast_end(buf, start: int) -> tuple[int, object] | None:
    """The end of a pretty-printed object at ``start`` and the object: the next line that is
    its indentation and ``}``; checked by parsing (a wrong guess does not parse: the slower
    scan is used)."""
    line_start = buf.rfind(b"\n", 0, start) + 1
    indent = bytes(buf[line_start:start])
    if indent.strip():
        return None
    close = buf.find(b"\n" + indent + b"}", start)
    if close < 0:
        return None
    end = close + 1 + len(indent) + 1
    try:
        return end, orjson.loads(buf[start:end])
    except orjson.JSONDecodeError:
        return None


def _value_end(buf, pos: int) -> int:
    """The end of a non-object value in a messages array (a reject, but the scan goes on)."""
    c = buf[pos : pos + 1]
    if c == b"[":
        return _object_end(buf, pos)
    m = re.compile(rb'"(?:[^"\\]|\\.)*"|[^,\]\s]+').match(buf, pos)
    if m is None:
        raise ValueError("unreadable value in messages")
    return m.end()


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Telegram Desktop ``result.json`` (one chat or the full export), streaming.

    Raises
    ------
    InputFileError
        The file cannot be read, or is not a well-formed JSON document with ``messages``.
    """
    path = Path(path)
    parser = TelegramParser(source)
    try:
        fh = open(path, "rb")  # noqa: SIM115 (a with block follows)
    except OSError as exc:
        raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None
    with fh:
        size = path.stat().st_size
        if size == 0:
            return
        if compression_of(path) is not None:
            # (a compressed export is decompressed in memory: decompress a very large one first)
            with open_input(path) as dfh:
                buf = dfh.read()
            yield from _read_buffer(buf, path, parser, options)
            options.advance(size)
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield from _read_buffer(buf, path, parser, options)
        options.advance(size)


def _read_buffer(buf, path: Path, parser: TelegramParser, options: ReadOptions) -> Iterator[Batch]:
    """The batches of an export held in ``buf`` (memory-mapped, or decompressed bytes)."""
    chats = 0
    n = 0
    try:
        for what, value in iter_chats(buf):
            if what == "chat":
                chat_id, index = value  # type: ignore[misc]
                parser.chat(chat_id, index)
                chats += 1
                continue
            if what == "typed":
                raws, msgs = value  # type: ignore[misc]
                i = 0
                while i < len(msgs):
                    i = parser.typed(raws, msgs, n, i, options.batch_rows)
                    if len(parser.posts) >= options.batch_rows:
                        yield parser.take()
                n += len(msgs)
                continue
            if what == "run":
                for raw, msg in zip(*value, strict=True):  # type: ignore[call-overload]
                    n += 1
                    parser.message(msg, n, raw)
                    if len(parser.posts) >= options.batch_rows:
                        yield parser.take()
                continue
            n += 1
            if what == "parsed":
                raw, msg = value  # type: ignore[misc]
            else:
                raw = value
                try:
                    msg = loads(raw)  # type: ignore[arg-type]
                except orjson.JSONDecodeError as exc:
                    parser.records += 1
                    parser.rejects.add(n, f"malformed message: {exc}", raw)
                    continue
            parser.message(msg, n, raw)
            if len(parser.posts) >= options.batch_rows:
                yield parser.take()
    except ValueError as exc:
        raise InputFileError(path, f"not a well-formed Telegram export ({exc})") from None
    if chats == 0:
        raise InputFileError(path, "no messages array: not a Telegram Desktop export")
    batch = parser.take()
    batch.notes = parser.notes()
    yield batch
