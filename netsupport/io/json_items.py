"""Decode the items of a JSON document's top-level array while the document is read, in runs.

A Mastodon archive's ``outbox.json`` is one object whose ``orderedItems`` array holds every
activity; decoding the whole document at once holds its bytes and all its objects (memory grows
with the file). :func:`iter_items` takes the document as a stream of byte chunks (as a zip member
decompresses) and yields the array's items a run at a time: each run is a slice of the array
decoded with one ``orjson.loads`` call, so memory stays flat in the size of the document.

How a run is cut: the first item is found exactly (a scan of the JSON tokens); the bytes
between it and the next item, with the first item's last byte and the next one's first key, make
a pattern (``},{"id":`` in an archive). A run ends at the last occurrence of that pattern in a
window of ``run_bytes``; ``[`` + run + ``]`` decodes only if the cut lies between two items (a cut
inside a string leaves the string open; one inside a nested object or array leaves it open), so
a run that decodes is exactly those items. If the guess fails, the items are found exactly for
that stretch. Everything outside the array is checked by decoding it with the array emptied.

Anything the stream reader does not take as it is (a document that is not an object, malformed
JSON anywhere, the key's value not an array) raises :class:`Unstreamable`: the caller reads the
document whole instead, for the exact result or error of a whole-document decode. A second
top-level key of the same name after the array raises :class:`SecondKey` (a whole-document
decoder would take the last one, after the items of the first were handed out).

Examples
--------
>>> doc = b'{"type": "OrderedCollection", "orderedItems": [{"id": 1}, {"id": 2}], "n": 2}'
>>> [item for run in iter_items([doc[:30], doc[30:]], "orderedItems") for item in run]
[{'id': 1}, {'id': 2}]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import orjson

from .base import loads

__all__ = ["SecondKey", "Unstreamable", "iter_items"]

#: A string (closed, or open up to the end of the buffer) or a bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[{}\[\]]', re.S)
_WS = re.compile(rb"[ \t\r\n]*")
_SCALAR = re.compile(rb"[^,\]\s]*")
_OPEN = frozenset(b"{[")
_CLOSE = frozenset(b"}]")
_QUOTE = ord('"')
_HEAD_BYTES = 32  # at most this much of the next item's start goes into the run pattern


class Unstreamable(ValueError):
    """The document is malformed or of a shape the stream reader does not take: decode it whole."""


class SecondKey(ValueError):
    """A second top-level key of the array's name follows the array: which one is meant?"""


def _key_name(token: bytes) -> bytes:
    """The name a key token decodes to (escapes decoded; compared as UTF-8)."""
    if b"\\" not in token:
        return token[1:-1]
    try:
        return orjson.loads(token).encode("utf-8", "surrogatepass")
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        return token


class _Stream:
    """A buffer over the chunks: ``buf`` holds the bytes not yet consumed."""

    def __init__(self, chunks: Iterable[bytes]):
        self.chunks = iter(chunks)
        self.buf = b""
        self.eof = False

    def more(self) -> None:
        """Read one more chunk into the buffer; raise Unstreamable at the end of the document."""
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            raise Unstreamable("the document ends early")
        self.buf += chunk

    def rest(self, pos: int) -> bytes:
        """Everything from ``pos`` to the end of the document."""
        parts = [self.buf[pos:], *self.chunks]
        self.buf, self.eof = b"", True
        return b"".join(parts)


def _token(s: _Stream, pos: int) -> re.Match | None:
    """The next token at or after ``pos``, whole (more is read while it could be cut)."""
    while True:
        m = _TOKEN.search(s.buf, pos)
        if m is not None and (m.end() < len(s.buf) or s.eof):
            return m
        try:
            s.more()
        except Unstreamable:
            return m


def _after_ws(s: _Stream, pos: int) -> int:
    """The index of the first non-whitespace byte at or after ``pos`` (read more if needed)."""
    while True:
        pos = _WS.match(s.buf, pos).end()  # type: ignore[union-attr]  (always matches)
        if pos < len(s.buf):
            return pos
        s.more()


def _tokens(
    next_token: Callable[[int], re.Match | None], pos: int, depth: int
) -> Iterator[tuple[bytes, int, int]]:
    """Yield (token, the index past it, the nesting depth after it) for the tokens from ``pos``
    (``next_token(pos)``: the next token at or after ``pos``, or None), starting at ``depth``."""
    while (m := next_token(pos)) is not None:
        tok, pos = m.group(), m.end()
        if tok[0] in _OPEN:
            depth += 1
        elif tok[0] in _CLOSE:
            depth -= 1
        yield tok, pos, depth


def _is_key(tok: bytes, depth: int) -> bool:
    """Whether ``tok`` (depth after it: ``depth``) is a string of the top-level object."""
    return depth == 1 and tok[0] == _QUOTE


def _find_array(s: _Stream, key: bytes) -> int:
    """Scan the top-level object up to ``key`` and its ``[``; return the index past the ``[``."""
    m = _token(s, 0)
    if m is None or m.group() != b"{" or s.buf[: m.start()].strip(b" \t\r\n"):
        raise Unstreamable("not an object")
    for tok, pos, depth in _tokens(lambda p: _token(s, p), m.end(), 1):
        if depth == 0:
            raise Unstreamable("no such key")
        if _is_key(tok, depth):
            j = _after_ws(s, pos)
            if s.buf[j] == ord(":") and _key_name(tok) == key:
                k = _after_ws(s, j + 1)
                if s.buf[k] != ord("["):
                    raise Unstreamable("the key's value is not an array")
                return k + 1
    raise Unstreamable("the document ends early")


def _item_end(s: _Stream, start: int) -> int:
    """The index just past the item starting at ``start`` (an exact scan of its tokens)."""
    if s.buf[start] not in _OPEN and s.buf[start] != _QUOTE:  # a number or literal
        while True:
            m = _SCALAR.match(s.buf, start)
            if m.end() < len(s.buf):  # type: ignore[union-attr]
                return m.end()  # type: ignore[union-attr]
            s.more()
    for tok, pos, depth in _tokens(lambda p: _token(s, p), start, 0):
        if depth == 0:
            if tok[0] == _QUOTE and not (len(tok) > 1 and tok.endswith(b'"')):
                raise Unstreamable("an item does not close")
            return pos
    raise Unstreamable("an item does not close")


def _check_rest(prefix: bytes, suffix: bytes, key: bytes) -> None:
    """Check what lies outside the array: well formed, and no second top-level ``key``."""
    try:
        loads(prefix + b"[]" + suffix)
    except orjson.JSONDecodeError:
        raise Unstreamable("malformed outside the array") from None
    for tok, pos, depth in _tokens(lambda p: _TOKEN.search(suffix, p), 0, 1):
        if _is_key(tok, depth):
            j = _WS.match(suffix, pos).end()  # type: ignore[union-attr]
            if suffix[j : j + 1] == b":" and _key_name(tok) == key:
                raise SecondKey(key.decode("utf-8", "replace"))


def iter_items(chunks: Iterable[bytes], key: str, run_bytes: int = 1 << 20) -> Iterator[list]:
    """Yield the items of the array under top-level ``key`` of the JSON object read from
    ``chunks``, a list of items at a time, in order.

    Raises
    ------
    Unstreamable
        The document is malformed, not an object, has no such key, or the key's value is not an
        array (decode the document whole for the exact result or error).
    SecondKey
        The object has a second key ``key`` after the array.

    Examples
    --------
    >>> list(iter_items([b'{"a": [1, 2, 3]}'], "a"))
    [[1], [2], [3]]
    >>> list(iter_items([b'[1]'], "a"))
    Traceback (most recent call last):
    ...
    netsupport.io.json_items.Unstreamable: not an object
    """
    name = key.encode("utf-8")
    s = _Stream(chunks)
    start = _find_array(s, name)
    prefix = s.buf[: start - 1]
    pos = _after_ws(s, start)
    pattern: bytes | None = None
    exact_until = 0  # buffer index up to which items are found one by one (after a miss)
    while s.buf[pos] != ord("]"):  # pos: where an item starts
        if pos > run_bytes:  # drop what is consumed: the buffer stays about two runs long
            s.buf = s.buf[pos:]
            exact_until -= pos
            pos = 0
        if pattern is not None and pos >= exact_until:
            run = _run(s, pos, pattern, run_bytes)
            if type(run) is int:
                exact_until = run
                continue
            items, end = run  # type: ignore[misc]
            yield items
        else:
            end = _item_end(s, pos)
            try:
                item = loads(s.buf[pos:end])  # (half a surrogate pair read as whole)
            except orjson.JSONDecodeError:
                raise Unstreamable("a malformed item") from None
            yield [item]
        nxt = _after_item(s, end)
        if nxt < 0:
            pos = -nxt - 1
            break
        if pattern is None and s.buf[end - 1] in b'}"':
            pattern = _pattern(s, end, nxt)
        pos = nxt
    _check_rest(prefix, s.rest(pos + 1), name)


def _pattern(s: _Stream, end: int, nxt: int) -> bytes | None:
    """What lies between two items: the first's last byte, the separator, the next one's first
    key (``},{"id":``), or None if the next item is not an object or a string."""
    while len(s.buf) - nxt < _HEAD_BYTES and not s.eof:
        try:
            s.more()
        except Unstreamable:
            break
    head = s.buf[nxt : nxt + _HEAD_BYTES]
    if head[:1] not in (b"{", b'"'):
        return None
    colon = head.find(b":")
    return s.buf[end - 1 : nxt] + (head[: colon + 1] if colon > 0 else head[:1])


def _after_item(s: _Stream, end: int) -> int:
    """After an item ending at ``end``: the index of the next item (past the comma), or
    ``-(index of the closing bracket) - 1`` at the array's end."""
    j = _after_ws(s, end)
    c = s.buf[j]
    if c == ord(","):
        k = _after_ws(s, j + 1)
        if s.buf[k] == ord("]"):
            raise Unstreamable("a comma before the array's end")
        return k
    if c == ord("]"):
        return -j - 1
    raise Unstreamable("items not separated by a comma")


def _run(s: _Stream, pos: int, pattern: bytes, run_bytes: int) -> tuple[list, int] | int:
    """Decode a run of items from ``pos``: ``(items, end)``, or on a miss the buffer index up
    to which to go item by item."""
    while len(s.buf) - pos < run_bytes + len(pattern) and not s.eof:
        try:
            s.more()
        except Unstreamable:
            break
    limit = min(len(s.buf), pos + run_bytes + len(pattern))
    cut = tried = s.buf.rfind(pattern, pos, limit)
    for _ in range(2):  # the last candidate, then the one before it
        if cut <= pos:
            break
        try:
            return orjson.loads(b"[" + s.buf[pos : cut + 1] + b"]"), cut + 1
        except orjson.JSONDecodeError:
            cut = s.buf.rfind(pattern, pos, cut)
    return max(tried, pos + 1)
