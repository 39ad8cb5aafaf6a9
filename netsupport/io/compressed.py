"""Open any input file, compressed or not: the one opener detection and every reader use.

A file compressed with gzip (``.gz``), Zstandard (``.zst``), bzip2 (``.bz2``) or xz (``.xz``) is
recognised by its first bytes (its magic number), never by its name, and read as the text it
holds; any other file is read as it is. Concatenated streams (``cat a.gz b.gz``, multi-frame
zstd as ``pzstd`` and the Pushshift / Arctic Shift dumps write) are read to the end. Zstandard is
read with a window of up to 2 GiB (``--long=31``), which the Pushshift dumps of long periods need.

Decompression streams: memory stays flat whatever the file's size. The file as given is what a
store records (its sha256 and size), so re-importing the same ``.zst`` is a no-op.

A compressed file that ends before its stream does (a download cut short) or whose compressed
bytes are damaged is refused whole, with one line naming the file, the codec and how far
decompression got (:class:`~netsupport.errors.InputFileError`; the import is a transaction, so
nothing of the file is kept). Keeping "what was read" would hide that the rest is missing; to
import the readable part on purpose, decompress it first (``zstd -dc`` and ``gzip -dc`` write
what they can before they stop) and import that file.

Examples
--------
>>> import gzip, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.csv.gz"
>>> _ = p.write_bytes(gzip.compress(b"source,target\\namy,lane\\n"))
>>> compression_of(p)
'gzip'
>>> with open_input(p) as fh:
...     fh.read()
b'source,target\\namy,lane\\n'
"""

from __future__ import annotations

import bz2
import functools
import io
import itertools
import lzma
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from ..errors import InputFileError

__all__ = [
    "CODECS",
    "LINE_END_PROBE",
    "ZSTD_MAX_WINDOW",
    "Decompressed",
    "compression_of",
    "cr_only",
    "iter_blocks",
    "iter_lines",
    "magic_codec",
    "open_input",
    "open_text",
]

#: Largest Zstandard window accepted (``zstd --long=31``; Pushshift dumps use up to 2**31).
ZSTD_MAX_WINDOW = 2**31

#: Codec name -> magic numbers a stream of it starts with.
CODECS: dict[str, tuple[bytes, ...]] = {
    "gzip": (b"\x1f\x8b",),
    # a zstd frame, or a skippable frame (magic 0x184D2A50..5F, little-endian)
    "zstd": (b"\x28\xb5\x2f\xfd", *(bytes([0x50 + i, 0x2A, 0x4D, 0x18]) for i in range(16))),
    "bzip2": tuple(b"BZh" + str(d).encode() + b"\x31\x41\x59\x26\x53\x59" for d in range(1, 10))
    + tuple(b"BZh" + str(d).encode() + b"\x17\x72\x45\x38\x50\x90" for d in range(1, 10)),
    "xz": (b"\xfd7zXZ\x00",),
}

_IN_CHUNK = 1 << 16  # compressed bytes read at a time
_ZSTD_FEED = 1 << 13  # compressed bytes given to the zstd decompressor at a time (bounds output)


def magic_codec(head: bytes) -> str | None:
    """Return the codec whose magic number ``head`` starts with, or None.

    Examples
    --------
    >>> magic_codec(b"\\x28\\xb5\\x2f\\xfd..."), magic_codec(b'{"id": 1}')
    ('zstd', None)
    """
    for codec, magics in CODECS.items():
        if head.startswith(magics):
            return codec
    return None


def compression_of(path: str | os.PathLike[str]) -> str | None:
    """Return the codec a file is compressed with (``gzip``, ``zstd``, ``bzip2``, ``xz``) or None.

    Raises
    ------
    InputFileError
        If the file cannot be opened.
    """
    try:
        with open(path, "rb") as fh:
            return magic_codec(fh.read(10))
    except OSError as exc:
        raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None


def _decompressor(codec: str):
    if codec == "gzip":
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if codec == "bzip2":
        return bz2.BZ2Decompressor()
    if codec == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).decompressobj()


class Decompressed(io.RawIOBase):
    """The decompressed bytes of one file, as a raw stream.

    Reads forward; ``seek`` to an earlier position starts again from the top (detection and the
    CSV readers look at the head once, then read from the start). Errors of the codec become one
    :class:`InputFileError` naming the file.
    """

    def __init__(self, path: str | os.PathLike[str], codec: str):
        super().__init__()
        self.path = str(path)
        self.codec = codec
        self._file = open(path, "rb")  # noqa: SIM115 (closed by close())
        self._start()

    def _start(self) -> None:
        self._file.seek(0)
        self._dec = _decompressor(self.codec)
        self._pending = b""  # compressed bytes read but not yet given to the decompressor
        self._out = b""  # decompressed bytes not yet returned
        self._pos = 0  # decompressed bytes returned so far
        self._fed = False  # compressed bytes given to the current stream (it must end)
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._pos
        elif whence != os.SEEK_SET:
            raise io.UnsupportedOperation("a compressed input cannot seek from its end")
        if offset < self._pos:
            self._start()
        while self._pos < offset:
            skipped = self.read(min(offset - self._pos, 1 << 20))
            if not skipped:
                break
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._out and not self._eof:
            self._fill(len(view))
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        self._pos += n
        return n

    def _fail(self, what: str) -> InputFileError:
        return InputFileError(
            self.path,
            f"{self.codec} data {what} after {self._pos + len(self._out)} decompressed bytes; "
            "nothing of this file was imported (to import the part that can be read, "
            "decompress it to a file first and import that)",
        )

    def _needs_input(self) -> bool:
        if self.codec in ("bzip2", "xz"):
            return self._dec.needs_input
        return True  # (gzip's unconsumed input is kept in _pending; zstd returns all it can)

    def _fill(self, want: int) -> None:
        """Decompress more: some bytes into ``_out``, or set ``_eof``."""
        dec = self._dec
        if dec.eof:  # the stream ended: another one (concatenated) may follow
            self._pending = dec.unused_data + self._pending
            if self.codec == "gzip" and not self._pending.strip(b"\x00"):
                self._pending = b""  # (zeros after the last member are padding, as for gzip -d)
            if not self._pending:
                self._pending = self._file.read(_IN_CHUNK)
                if not self._pending:
                    self._eof = True
                    return
            self._dec = dec = _decompressor(self.codec)
            self._fed = False
        if self._needs_input() and not self._pending:
            self._pending = self._file.read(_IN_CHUNK)
            if not self._pending:
                self._eof = True
                if self._fed:
                    raise self._fail("truncated")
                return
        limit = max(want, _IN_CHUNK)
        try:
            if self.codec == "zstd":
                feed, self._pending = self._pending[:_ZSTD_FEED], self._pending[_ZSTD_FEED:]
                out = dec.decompress(feed)
            elif self.codec == "gzip":
                feed = self._pending
                out = dec.decompress(feed, limit)
                # (at the end of a member the rest is in unused_data, taken by the next call)
                self._pending = b"" if dec.eof else dec.unconsumed_tail
            elif dec.needs_input:
                feed, self._pending = self._pending, b""
                out = dec.decompress(feed, limit)
            else:
                feed, out = b"", dec.decompress(b"", limit)
        except (zlib.error, OSError, EOFError, lzma.LZMAError, zstandard.ZstdError) as exc:
            raise self._fail(f"damaged ({exc})") from None
        if feed:
            self._fed = True
        self._out = out


def open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a file for reading its content as bytes: decompressed when it is compressed.

    Parameters
    ----------
    path : path
        The input file.

    Returns
    -------
    binary file object
        Readable and seekable (seeking back in a compressed file starts decompressing again).

    Raises
    ------
    InputFileError
        If the file cannot be opened, or (while reading) its compressed data is truncated or
        damaged.
    """
    codec = compression_of(path)
    if codec is None:
        return open(path, "rb")
    return io.BufferedReader(Decompressed(path, codec), buffer_size=1 << 16)


def open_text(path: str | os.PathLike[str], *, encoding: str = "utf-8-sig") -> io.TextIOWrapper:
    """Open a file as text (decompressed when compressed), undecodable bytes as surrogates,
    newlines untranslated (as the csv module wants)."""
    return io.TextIOWrapper(
        open_input(path), encoding=encoding, errors="surrogateescape", newline=""
    )


def iter_blocks(fh: BinaryIO, block_bytes: int, head: bytes = b""):
    """Yield blocks of about ``block_bytes`` from ``fh`` that end at a line end (the last may not).

    ``head`` is what was already read from ``fh`` and comes first.

    Examples
    --------
    >>> list(iter_blocks(io.BytesIO(b"a\\nbb\\nccc"), 2))
    [b'a\\n', b'bb\\n', b'ccc']
    """
    rest = head
    while True:
        data = fh.read(block_bytes)
        if not data:
            if rest:
                yield rest
            return
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield data[:cut]


#: Bytes :func:`iter_lines` reads to tell how a file's lines end.
LINE_END_PROBE = 1 << 16


def cr_only(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) ends its lines with CR alone (classic Mac OS):
    a CR and no LF.

    Examples
    --------
    >>> cr_only(b'{"a": 1}\\r{"a": 2}\\r'), cr_only(b'{"a": 1}\\r\\n'), cr_only(b"x")
    (True, False, False)
    """
    return b"\r" in head and b"\n" not in head


def iter_lines(fh: BinaryIO, block_bytes: int = 1 << 20) -> Iterator[bytes]:
    """Iterate the lines of ``fh`` (ends kept) as ``for line in fh`` does, and those of a file
    whose lines end with CR alone (:func:`cr_only` on its first bytes) too, each then ending
    with LF. A CR inside a JSON line can only be whitespace between tokens (a string holds it
    escaped), so splitting there loses nothing.

    Examples
    --------
    >>> list(iter_lines(io.BytesIO(b"a\\r\\nb\\n"))), list(iter_lines(io.BytesIO(b"a\\rb\\r\\rc")))
    ([b'a\\r\\n', b'b\\n'], [b'a\\n', b'b\\n', b'\\n', b'c'])
    """
    head = fh.read(LINE_END_PROBE)
    if not cr_only(head):
        return itertools.chain(io.BytesIO(head + fh.readline()), fh)
    return _cr_lines(fh, head, block_bytes)


def _cr_lines(fh: BinaryIO, rest: bytes, block_bytes: int) -> Iterator[bytes]:
    for more in iter(functools.partial(fh.read, block_bytes), b""):
        *lines, rest = (rest + more).split(b"\r")
        for line in lines:
            yield line + b"\n"
    *lines, rest = rest.split(b"\r")
    for line in lines:
        yield line + b"\n"
    if rest:
        yield rest
