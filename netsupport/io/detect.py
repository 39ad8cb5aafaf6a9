"""Detect an input's format from its content (not only its name).

Rules, in order, on the first 64 KiB (of the decompressed content for a gzip, zstd, bzip2 or xz
file, see :mod:`netsupport.io.compressed`):

* a folder: an extracted Twitter archive (``data/tweets.js``, ``data/account.js``...);
* a folder holding ``outbox.json`` and ``actor.json``: an extracted Mastodon archive (``mastodon``);
* zip magic bytes: ``mastodon`` when the members include ``outbox.json``, else ``twitter-archive``;
  a tar (an older Mastodon archive, usually gzip'd) holding ``outbox.json``: ``mastodon``;
  a file starting ``window.YTD.``: an archive part;
* JSON holding a Telegram Desktop export (``"messages": [`` or ``"chats": {"list": ...``):
  ``telegram``; ActivityStreams collections or an actor, or Mastodon API statuses (an
  ``account`` with ``acct``): ``mastodon``;
* a Bluesky repository export (CAR), a ``did,handle`` CSV, or JSON lines of Jetstream events:
  ``bluesky``; JSON lines of Reddit comments or submissions (Pushshift, Arctic Shift): ``reddit``;
* JSON (``{`` or ``[``) holding tweets or v2 pages: ``twitter-v2``;
* CSV with ``Vertex 1`` and ``Vertex 2`` columns: ``nodexl``; with ``handle`` and account
  columns only: ``accounts``; with ``source`` and ``target`` or other canonical post fields, or any
  CSV when ``--map`` is given: ``csv``;
* a list of handles or ids, one per line (or a CSV of them), when ``--account`` is given:
  ``followers``.

Anything else raises :class:`~netsupport.errors.UnknownFormat` naming what was seen. An empty file
is ``empty`` (imported as zero rows).

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.txt"
>>> _ = p.write_text("source,target,kind,created_at,text\\namy,lane,mention,2014-02-14T10:00Z,\\n")
>>> detect_format(p)
'csv'
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from codecs import BOM_UTF8 as _BOM
from pathlib import Path

import orjson

from ..errors import InputFileError, UnknownFormat
from .base import ReadOptions
from .compressed import compression_of, open_input

__all__ = ["HANDLE_LINE", "detect_format", "fingerprint", "sniff_dialect"]

HEAD_BYTES = 1 << 16
#: One handle (optionally with @) or one numeric id per line.
HANDLE_LINE = re.compile(r"@?[A-Za-z0-9_]{1,50}")
_ACCOUNT_COLUMNS = {"account_id", "name", "description", "followers_count", "role"}
_POST_HINTS = {
    "post_id",
    "author",
    "created_at",
    "text",
    "kind",
    "target_author",
    "source",
    "target",
    "mentions",
}
_LIST_HEADERS = {"handle", "username", "screen_name", "user", "id", "user_id", "account_id"}


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """Return the CSV dialect of a sample: comma, tab or semicolon separated.

    Examples
    --------
    >>> sniff_dialect("a;b;c\\n1;2;3\\n").delimiter
    ';'
    """
    lines = sample.split("\n", 50)
    # (comment lines above a headerless edge list, as SNAP writes them, say nothing)
    first = next((ln for ln in lines[:50] if not ln.startswith("#")), lines[0])
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    delim = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[delim] == 0:
        if _whitespace_separated(sample):
            return _Spaces
        delim = ","

    class Dialect(csv.excel):
        delimiter = delim

    return Dialect


class _Spaces(csv.excel):
    """Cells separated by runs of spaces (SNAP-style edge lists: ``a b 1392372000 RT``)."""

    delimiter = " "
    skipinitialspace = True


def _whitespace_separated(sample: str) -> bool:
    """True if the first two lines (comments left out) split on spaces into the same number
    of cells, at least two.

    Examples
    --------
    >>> _whitespace_separated("# SNAP\\namy lane 1392372000 RT\\nbob  lane 1392372001 MT\\n")
    True
    >>> _whitespace_separated("Screen Name\\namy\\n")
    False
    """
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip() and not ln.startswith("#")]
    if len(lines) < 2:
        return False
    widths = {len(ln.split()) for ln in lines[:2]}
    return len(widths) == 1 and min(widths) >= 2


def _header(text: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    try:
        row = next(csv.reader(io.StringIO(first), sniff_dialect(text)))
    except (csv.Error, StopIteration):
        return []
    return [c.strip().lower() for c in row]


def _looks_like_tweets(head: bytes) -> bool:
    from .twitter_json import looks_like_tweet

    lines = head.split(b"\n")
    if len(head) >= HEAD_BYTES - 3 and len(lines) > 1:  # (3: a BOM removed)
        lines.pop()  # (cut by the head)
    for line in lines:  # the first line that is a JSON object or array decides
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict or (type(value) is list and value):  # ([] or 1: skipped)
            return looks_like_tweet(value)
    # a pretty-printed document: look for tweet keys
    return bool(
        re.search(
            rb'"(id_str|author_id|referenced_tweets|screen_name|in_reply_to_user_id|created_at|'
            rb'full_text|edit_history_tweet_ids|conversation_id)"\s*:',
            head,
        )
    )


def _platform_format(head: bytes) -> str | None:
    """``bluesky`` or ``reddit`` when the head is one of their shapes: a repository CAR, a
    ``did,handle`` CSV, or JSON lines whose first readable line is a Jetstream event or a Reddit
    comment or submission; else None."""
    from .bluesky import looks_like_car, looks_like_jetstream
    from .reddit import looks_like_reddit

    if looks_like_car(head):
        return "bluesky"
    stripped = head.lstrip()
    if stripped.lower().startswith(b"did,handle"):
        return "bluesky"
    for obj in _first_objects(stripped, skip_first=True):  # (one broken record does not decide)
        if looks_like_jetstream(obj):
            return "bluesky"
        if looks_like_reddit(obj):
            return "reddit"
    return None


#: JSON lines whose records decide a file's platform: the first of them that looks like one of
#: the platform's records does (a first record broken in export does not send the whole file to
#: another reader, whose rejects every line would then be).
SNIFF_RECORDS = 5


def _first_objects(head: bytes, skip_first: bool = False) -> list[object]:
    """The first :data:`SNIFF_RECORDS` lines of ``head`` that are JSON objects (or non-empty
    arrays); blank lines and other JSON values (``[]``, ``1``, ``null``) are skipped, and so
    are lines that are not JSON, except that none are returned if the first non-blank line is
    not JSON (a pretty-printed document), unless ``skip_first``."""
    out: list[object] = []
    seen = 0
    for line in head.split(b"\n")[: 4 * SNIFF_RECORDS]:
        if not line.strip():
            continue
        seen += 1
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            if seen == 1 and not skip_first:
                break
            continue
        if type(value) is dict or (type(value) is list and value):
            out.append(value)
        if len(out) == SNIFF_RECORDS:
            break
    return out


_TELEGRAM_RE = re.compile(rb'"messages"\s*:\s*\[|"chats"\s*:\s*\{\s*"(about|list)"')
_TELEGRAM_HINT_RE = re.compile(rb'"(date_unixtime|from_id|text_entities|personal_information)"\s*:')
_AS_RE = re.compile(rb'"type"\s*:\s*"(OrderedCollection|OrderedCollectionPage|Person)"')
_AS_HINT_RE = re.compile(rb'"(orderedItems|preferredUsername)"\s*:')
_STATUS_RE = re.compile(rb'"acct"\s*:')
_STATUS_HINT_RE = re.compile(rb'"(in_reply_to_account_id|reblog|favourites_count)"\s*:')


def _other_platform_json(head: bytes) -> str | None:
    """``telegram`` or ``mastodon`` for JSON from those platforms (checked before tweets: a
    Mastodon status also has an id and a created_at)."""
    from .mastodon import looks_like_outbox, looks_like_status

    if _TELEGRAM_RE.search(head) and _TELEGRAM_HINT_RE.search(head):
        return "telegram"
    first = _first_objects(head)
    if first:  # JSON lines (or a one-line document): the first status-like record decides
        return (
            "mastodon" if any(looks_like_status(o) or looks_like_outbox(o) for o in first) else None
        )
    if _AS_RE.search(head) and _AS_HINT_RE.search(head):
        return "mastodon"
    if _STATUS_RE.search(head) and _STATUS_HINT_RE.search(head):
        return "mastodon"
    return None


def _mastodon_archive(path: Path) -> bool:
    """True if a zip or gzip'd tar holds a Mastodon archive (member names only are read)."""
    import lzma
    import tarfile
    import zipfile
    import zlib

    from .mastodon import archive_names_look_mastodon

    try:
        with zipfile.ZipFile(path) as zf:
            return archive_names_look_mastodon(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        pass
    names = []
    try:
        with tarfile.open(path, mode="r|*") as tf:
            for info in tf:
                names.append(info.name)
                if len(names) >= 1000:
                    break
    except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        pass
    return archive_names_look_mastodon(names)


def _binary(head: bytes) -> bool:
    """True if NUL bytes make ``head`` binary: in more than half its lines, or the lines without
    them are not UTF-8 text (a line or cell with a NUL byte in a text file is not binary).

    Examples
    --------
    >>> _binary(b"PK\\x03\\x04\\x00\\x00\\x9c\\xff"), _binary(b"a,b\\n1,x\\x00y\\n2,z\\n3,w\\n")
    (True, False)
    """
    lines = head.split(b"\n")
    if len(head) >= HEAD_BYTES - 3 and len(lines) > 1:  # (3: a BOM removed)
        lines.pop()  # (cut by the head)
    with_nul = sum(1 for line in lines if b"\x00" in line)
    if 2 * with_nul > len(lines):
        return True
    try:
        b"\n".join(line for line in lines if b"\x00" not in line).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def detect_format(path: Path, options: ReadOptions | None = None) -> str:
    """Return the format name of ``path`` from its content (see the module docstring).

    Raises
    ------
    UnknownFormat
        When no format fits; the message says what the file looks like.
    InputFileError
        When the file cannot be opened.
    """
    from .archive import is_archive_folder
    from .mastodon import is_mastodon_folder

    options = options or ReadOptions()
    path = Path(path)
    if path.is_dir():
        if is_archive_folder(path):
            return "twitter-archive"
        if is_mastodon_folder(path):
            return "mastodon"
        raise UnknownFormat(path, "a folder that is not an extracted Twitter or Mastodon archive")
    compressed = compression_of(path) is not None
    try:
        with open_input(path) as fh:  # (a compressed file: its decompressed head)
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None
    if not compressed and head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "mastodon" if _mastodon_archive(path) else "twitter-archive"
    if head[257:262] == b"ustar" and _mastodon_archive(path):  # a (compressed) tar
        return "mastodon"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnknownFormat(path, "UTF-16 text; save it as UTF-8 and import again")
    if head.startswith(_BOM):
        head = head[3:]
    if b"\r" in head and b"\n" not in head:  # lines ended by CR alone (classic Mac OS)
        head = head.replace(b"\r", b"\n")
    stripped = head.lstrip()
    if not stripped:
        return "empty"
    if (platform := _platform_format(head)) is not None:  # (issue #16: before the NUL check)
        return platform
    if b"\x00" in head:
        if _binary(head):
            raise UnknownFormat(path, "binary content (NUL bytes); not a known export format")
        # text with NUL bytes in a few lines: those rows are the reader's rejects
        head = b"\n".join(line for line in head.split(b"\n") if b"\x00" not in line)
        stripped = head.lstrip()
    if stripped.startswith(b"window.YTD."):
        return "twitter-archive"
    if stripped[:1] in (b"{", b"[") or _first_objects(stripped, skip_first=True):
        # (JSON lines whose first line is not an object, [] or 1 or a broken line, too)
        other = _other_platform_json(stripped)
        if other is not None:
            return other
        if _looks_like_tweets(stripped):
            return "twitter-v2"
        if len(head) == HEAD_BYTES and b"\n" not in stripped.rstrip(b"\n"):
            raise UnknownFormat(  # (one object, a page or a whole array, longer than the head)
                path,
                f"JSON whose first line is longer than the {HEAD_BYTES // 1024} KiB read to "
                "detect the format, too long to tell it by: name the format with --format",
            )
        raise UnknownFormat(path, "JSON, but not tweets or Twitter API pages")
    if not options.header or options.columns:
        return "csv"  # (only CSV is read without a header row)
    text = stripped.decode("utf-8", errors="replace")
    header = _header(text)
    cols = set(header)
    # NodeXL sheets saved as CSV may have a row of section titles above the header
    if any({"vertex 1", "vertex 2"} <= set(_header(line)) for line in text.splitlines()[:5]):
        return "nodexl"
    if "handle" in cols and cols & _ACCOUNT_COLUMNS and not cols & (_POST_HINTS - {"handle"}):
        return "accounts"
    if options.account:
        lines = [ln.strip() for ln in text.splitlines()[:50] if ln.strip()]
        handles = sum(1 for ln in lines if HANDLE_LINE.fullmatch(ln))
        if cols & _LIST_HEADERS or handles >= 0.8 * len(lines):
            return "followers"
    if options.mapping or {"source", "target"} <= cols or len(cols & _POST_HINTS) >= 2:
        return "csv"
    lines = [ln.strip() for ln in text.splitlines()[:50] if ln.strip()]
    if lines and all(HANDLE_LINE.fullmatch(ln) for ln in lines):
        raise UnknownFormat(
            path,
            "looks like a list of handles or ids; import it with --format followers "
            "--account HANDLE --direction followers|following",
        )
    raise UnknownFormat(
        path,
        "cannot tell the format from the content; give --format "
        "(twitter-v2, twitter-archive, csv, nodexl, followers, accounts, mastodon, telegram, "
        "bluesky, reddit)",
    )


def fingerprint(path: Path) -> tuple[str, int]:
    """Return (sha256, size in bytes) identifying an input: a file, or an archive folder.

    A folder's digest covers the relative path and content of every file under it, in name order.
    """
    path = Path(path)
    if not path.is_dir():
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return digest, path.stat().st_size
    h = hashlib.sha256()
    size = 0
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        rel = p.relative_to(path).as_posix()
        with open(p, "rb") as fh:
            h.update(rel.encode() + b"\0" + hashlib.file_digest(fh, "sha256").digest())
        size += p.stat().st_size
    return h.hexdigest(), size
