"""Twitter/X personal archive: the zip as downloaded, or its extracted folder.

An archive holds JavaScript files under ``data/`` that assign one JSON array each::

    window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]

Read here: ``tweets.js`` / ``tweet.js`` and their parts (``tweets-part1.js``...), ``account.js``
(the owner: ``username``, ``accountId``), ``profile.js`` (bio), ``follower.js`` and
``following.js`` (account ids only). The JSON after the first ``=`` is parsed with orjson; nothing
is ever evaluated. Archive tweets are v1.1-like without a ``user``: the author is the owner;
retweets appear only as ``RT @handle: ...`` and quotes as a link to the quoted status, and are
read as such. Followers are known by account id only; they are stored as ``id:NNN`` unless the
store knows the handle for that id (from mentions in the tweets, or an accounts import).

Safety: a zip member whose path is absolute, contains ``..`` or is a symbolic link makes the
whole archive refused (:class:`~netsupport.errors.UnsafeArchive`), and so does reading more than
``max_archive_bytes`` of decompressed data, or a member inflating past ``RATIO_MIN_BYTES`` at more
than ``max_compression_ratio``:1 (a zip bomb). Nothing is extracted to disk.

Examples
--------
>>> parse_ytd(b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1"}}]', "tweets.js")
[{'tweet': {'id_str': '1'}}]
"""

from __future__ import annotations

import re
import stat
import zipfile
from codecs import BOM_UTF8 as _BOM
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import orjson
import pyarrow as pa

from ..errors import InputFileError, UnsafeArchive
from ..schema import SCHEMAS, Table, normalise_handle
from .base import AccountRows, Batch, ReadOptions, RejectRows, as_id, loads
from .compressed import compression_of, open_input
from .twitter_json import TweetParser

__all__ = ["is_archive_folder", "parse_ytd", "read"]

_MARKERS = ("tweets.js", "tweet.js", "account.js", "manifest.js")
_TWEETS_RE = re.compile(r"(?:^|/)tweets?(?:-part(\d+))?\.js$")
_FILES = {
    "account": re.compile(r"(?:^|/)account\.js$"),
    "profile": re.compile(r"(?:^|/)profile\.js$"),
    "manifest": re.compile(r"(?:^|/)manifest\.js$"),
    "follower": re.compile(r"(?:^|/)follower(?:-part\d+)?\.js$"),
    "following": re.compile(r"(?:^|/)following(?:-part\d+)?\.js$"),
}
_CHUNK = 1 << 20
#: A member may inflate this much before the compression-ratio limit applies (small text files
#: compress well beyond 100:1 and are harmless).
RATIO_MIN_BYTES = 8 * 1024**2


def is_archive_folder(path: Path) -> bool:
    """Return True if ``path`` is an extracted archive (``data/tweets.js`` or similar inside).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> is_archive_folder(d)
    False
    >>> (d / "data").mkdir()
    >>> _ = (d / "data" / "account.js").write_text("window.YTD.account.part0 = []")
    >>> is_archive_folder(d)
    True
    """
    path = Path(path)
    return path.is_dir() and any(
        (path / "data" / m).is_file() or (path / m).is_file() for m in _MARKERS
    )


def parse_ytd(data: bytes, name: str, *, prefix: bytes = b"window.YTD.") -> list:
    """Return the JSON array assigned in an archive ``.js`` file (never evaluated).

    ``prefix``: how the assignment starts (``manifest.js`` assigns ``window.__THAR_CONFIG``,
    an object, which is returned in a list of one).

    Raises
    ------
    InputFileError
        If the file is not ``window.YTD.<name>.partN = <JSON array>``.
    """
    if data.startswith(_BOM):
        data = data[3:]
    head = data.lstrip()[: len(prefix)]
    eq = data.find(b"=")
    if head != prefix or eq < 0:
        raise InputFileError(
            name, f"not an archive data file (expected '{prefix.decode()}<name> = [...]')"
        )
    body = data[eq + 1 :].strip().rstrip(b";")
    try:
        value = loads(body)
    except orjson.JSONDecodeError as exc:
        raise InputFileError(name, f"malformed JSON after '=' ({exc}); truncated?") from None
    if isinstance(value, dict) and prefix != b"window.YTD.":
        return [value]
    if not isinstance(value, list):
        raise InputFileError(name, "expected a JSON array after '='")
    return value


class _Members:
    """Read-only access to the files of an archive (zip or folder), with the size cap."""

    def __init__(self, path: Path, cap: int, ratio: float = 0.0):
        self.path = path
        self.cap = cap
        self.ratio = ratio
        self.used = 0
        self.names: list[str] = []
        self.sizes: dict[str, int] = {}

    def read(self, name: str) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self, name: str) -> Iterator[bytes]:
        """Yield the member's bytes in pieces as they are read (decompressed), counted against
        the cap as they come; ``b"".join`` of them is :meth:`read`."""
        yield self.read(name)

    def _count(self, nbytes: int) -> None:
        self.used += nbytes
        if self.used > self.cap:
            raise UnsafeArchive(
                self.path,
                f"decompresses to more than {self.cap} bytes (the cap; a zip bomb?); "
                "raise --max-archive-bytes if the archive is genuine",
            )

    def close(self) -> None:
        pass


def _unsafe_name(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return ".." in PurePosixPath(norm).parts


class _ZipMembers(_Members):
    def __init__(self, path: Path, cap: int, ratio: float = 0.0):
        super().__init__(path, cap, ratio)
        try:
            self.zf = zipfile.ZipFile(path)
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputFileError(path, f"not a readable zip archive ({exc}); truncated?") from None
        for info in infos:
            if _unsafe_name(info.filename):
                raise UnsafeArchive(
                    path, f"member {info.filename!r} would be written outside the archive folder"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeArchive(path, f"member {info.filename!r} is a symbolic link")
            if not info.is_dir():
                name = info.filename.replace("\\", "/")
                if name in self.sizes:  # (zipfile would read the last one; unzip may ask)
                    raise UnsafeArchive(path, f"member {name!r} appears twice: which is meant?")
                self.names.append(name)
                self.sizes[name] = info.compress_size
        self.infos = {i.filename.replace("\\", "/"): i for i in infos}

    def _check_ratio(self, name: str, size: int, compressed: int) -> None:
        """Refuse a member that inflates past RATIO_MIN_BYTES at more than ``ratio``:1."""
        if self.ratio and size > RATIO_MIN_BYTES and size > self.ratio * max(compressed, 1):
            raise UnsafeArchive(
                self.path,
                f"member {name!r} inflates {compressed} bytes to more than {size} "
                f"(over {self.ratio:g}:1; a zip bomb?); raise --max-compression-ratio "
                "if the archive is genuine",
            )

    def read(self, name: str) -> bytes:
        return b"".join(self.chunks(name))

    def chunks(self, name: str) -> Iterator[bytes]:
        info = self.infos[name]
        if info.file_size > self.cap - self.used:
            self._count(info.file_size)  # raises: declared size alone is over the cap
        self._check_ratio(name, info.file_size, info.compress_size)  # (as declared)
        inflated = 0
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    self._count(len(chunk))
                    inflated += len(chunk)
                    self._check_ratio(name, inflated, info.compress_size)  # (as it is)
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise InputFileError(f"{self.path}!{name}", f"cannot decompress ({exc})") from None

    def close(self) -> None:
        self.zf.close()


class _FolderMembers(_Members):
    def __init__(self, path: Path, cap: int):
        super().__init__(path, cap)
        root = path.resolve()
        for p in sorted(path.rglob("*")):
            if p.is_symlink():
                try:
                    target = p.resolve()
                except (OSError, RuntimeError):  # a symbolic link loop: links to no file
                    continue
                if not target.is_relative_to(root):
                    raise UnsafeArchive(
                        path, f"{p.relative_to(path)} links outside the archive folder"
                    )
            if p.is_file():
                rel = p.relative_to(path).as_posix()
                self.names.append(rel)
                self.sizes[rel] = p.stat().st_size

    def read(self, name: str) -> bytes:
        p = self.path / name
        self._count(p.stat().st_size)
        return p.read_bytes()

    def chunks(self, name: str) -> Iterator[bytes]:
        p = self.path / name
        self._count(p.stat().st_size)
        with open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk


class _SingleFile(_Members):
    """One archive ``.js`` file given on its own; ``account.js`` beside it names the owner."""

    def __init__(self, path: Path, cap: int):
        super().__init__(path, cap)
        self.member = path.name  # (tweets.js.gz is read as tweets.js)
        if compression_of(path) is not None:
            self.member = re.sub(r"\.(gz|zst|bz2|xz)$", "", self.member, flags=re.I)
        self.names = [self.member]
        self.sizes = {self.member: path.stat().st_size}
        sibling = path.with_name("account.js")
        if sibling.is_file() and sibling != path:
            self.names.append("account.js")
            self.sizes["account.js"] = sibling.stat().st_size

    def read(self, name: str) -> bytes:
        p = self.path if name == self.member else self.path.with_name(name)
        with open_input(p) as fh:  # (a part may be gzip/zstd/bzip2/xz compressed)
            data = fh.read(self.cap - self.used + 1)
        self._count(len(data))
        return data


def _open(path: Path, cap: int, ratio: float = 0.0) -> _Members:
    if path.is_dir():
        return _FolderMembers(path, cap)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic in (b"PK\x03\x04", b"PK\x05\x06"):
        return _ZipMembers(path, cap, ratio)
    return _SingleFile(path, cap)


def _part_number(name: str) -> int:
    m = _TWEETS_RE.search(name)
    return int(m.group(1)) if m and m.group(1) else 0


def _find(members: _Members, kind: str) -> list[str]:
    rx = _FILES[kind]
    return sorted((n for n in members.names if rx.search(n)), key=lambda n: (len(n), n))


def _owner(members: _Members, source: str) -> tuple[tuple[str, str | None] | None, AccountRows]:
    acc = AccountRows()
    owner = None
    for name in _find(members, "account")[:1]:
        for item in parse_ytd(members.read(name), f"{source}!{name}"):
            a = item.get("account") if isinstance(item, dict) else None
            if isinstance(a, dict) and normalise_handle(a.get("username")):
                owner = (normalise_handle(a["username"]), as_id(a.get("accountId")))
                acc.add(owner[0], owner[1], a.get("accountDisplayName"))
                break
    if owner is None:
        for name in _find(members, "manifest")[:1]:
            items = parse_ytd(members.read(name), f"{source}!{name}", prefix=b"window.")
            info = None
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("userInfo"), dict):
                    info = item["userInfo"]
            if isinstance(info, dict) and normalise_handle(info.get("userName")):
                owner = (normalise_handle(info["userName"]), as_id(info.get("accountId")))
                acc.add(owner[0], owner[1], info.get("displayName"))
    if owner is not None:
        for name in _find(members, "profile")[:1]:
            for item in parse_ytd(members.read(name), f"{source}!{name}"):
                p = item.get("profile") if isinstance(item, dict) else None
                desc = p.get("description") if isinstance(p, dict) else None
                if isinstance(desc, dict):
                    acc.add(owner[0], None, None, desc.get("bio"))
    return owner, acc


def _follows(
    members: _Members, kind: str, owner: str, source: str, options: ReadOptions
) -> Iterator[Batch]:
    schema = SCHEMAS[Table.FOLLOWS]
    for name in _find(members, kind):
        label = f"{source}!{name}"
        rejects = RejectRows(label)
        pairs: list[tuple[str, str]] = []
        items = parse_ytd(members.read(name), label)
        for i, item in enumerate(items, 1):
            entry = item.get(kind) if isinstance(item, dict) else None
            other = as_id(entry.get("accountId")) if isinstance(entry, dict) else None
            if other is None or not other.isdigit():
                rejects.add(i, f"{kind} entry without a numeric accountId", item)
                continue
            pairs.append((f"id:{other}", owner) if kind == "follower" else (owner, f"id:{other}"))
        follows = None
        if pairs:
            a, b = zip(*pairs, strict=True)
            follows = pa.Table.from_arrays(
                [
                    pa.array(a, pa.string()),
                    pa.array(b, pa.string()),
                    pa.nulls(len(a), schema[2].type),
                ],
                schema=schema,
            )
        options.advance(members.sizes.get(name, 0))
        yield Batch(follows=follows, rejects=rejects.take(), rows_read=len(items))


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a Twitter archive (zip, extracted folder, or one ``tweets.js`` part).

    Yields
    ------
    Batch
        The owner's account, then posts (and accounts from mentions) per ``tweets`` part, then
        follows from ``follower.js`` and ``following.js``.

    Raises
    ------
    UnsafeArchive
        A member path leaves the archive, or decompression passes ``max_archive_bytes``.
    InputFileError
        The zip is unreadable, a data file is malformed, or no file names the owner.
    """
    members = _open(Path(path), options.max_archive_bytes, options.max_compression_ratio)
    try:
        parts = sorted(
            (n for n in members.names if _TWEETS_RE.search(n)),
            key=lambda n: (_part_number(n), n),
        )
        owner, owner_acc = _owner(members, source)
        if owner is None:
            if not parts and not _find(members, "follower") and not _find(members, "following"):
                raise InputFileError(path, "no tweets.js, follower.js or following.js in archive")
            raise InputFileError(path, "archive has no data/account.js naming its owner")
        yield Batch(accounts=owner_acc.take())
        for name in parts:
            label = f"{source}!{name}"
            parser = TweetParser(label, owner=owner)
            for i, item in enumerate(parse_ytd(members.read(name), label), 1):
                parser.value(item, i, item)
                if len(parser.posts) >= options.batch_rows:
                    yield parser.take()
            options.advance(members.sizes.get(name, 0))
            yield parser.take()
        yield from _follows(members, "follower", owner[0], source, options)
        yield from _follows(members, "following", owner[0], source, options)
    finally:
        members.close()
