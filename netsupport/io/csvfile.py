"""CSV importers: generic CSV with a column mapping, plain edge lists, and NodeXL edge exports.

**Generic CSV** (``--format csv``). Columns map to canonical post fields: a column named like a
field (``post_id``, ``author``, ``created_at``, ``text``, ``kind``, ``target_author``,
``target_post_id``, ``mentions``, ``hashtags``, ``lang``, ``author_id``, ``platform``; ``source``
and ``target`` stand for ``author`` and ``target_author``) maps to it, and ``--map COL=FIELD``
maps any other column. ``author`` and ``created_at`` are required. Each row is one post; its
``kind`` may be a post kind, ``mention`` (a post mentioning ``target``), or ``follow`` (a follows
row ``source -> target``, ``created_at`` = when it was observed, may be empty). So the plain
preset ``source,target,kind,created_at,text`` is an edge list, one interaction per row. Synonyms
are accepted (``retweet`` = repost, ``replies to`` = reply...); an empty kind is ``mention``
when there is a target, else ``post``. A row without a post id gets a stable synthetic one,
``row-`` + 16 hex digits of the SHA-256 of the row's cells, so importing the same rows again
finds them as duplicates. Timestamps need a time zone (``Z`` or an offset) or epoch numbers.

**NodeXL** (``--format nodexl``): the Edges sheet of a NodeXL Twitter network saved as CSV
(``Vertex 1``, ``Vertex 2``, ``Relationship``, ``Relationship Date (UTC)``, ``Tweet``,
``Imported ID``...). NodeXL writes one row per edge, so the rows of one tweet (its reply, its
mentions) are grouped back into one post by ``Imported ID`` (or the status URL, or author, time
and text). ``Relationship``: ``Tweet`` (a post), ``Replies to``, ``Mentions``, ``Retweet``,
``Quote``, ``MentionsInRetweet``/``MentionsInReplyTo``/``MentionsInQuote`` (mentions), and
``Followed`` (follows). Dates are UTC, as the column names say; a sheet saved from Excel may
write them in its locale's day/month order (``14/02/2014 10:00``, ``2/14/2014 10:00 AM``), which is
decided from the whole file (see :func:`~netsupport.io.timestamps.spreadsheet_dates`). A file is
grouped in memory (NodeXL exports are bounded by Excel's row limit).

Cells that are not valid UTF-8, rows with more cells than the header, missing authors, unreadable
timestamps and unknown kinds become rejects with the reason.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "edges.csv"
>>> _ = p.write_text("source,target,kind,created_at,text\\n"
...                  "@Amy,Lane,retweet,2014-02-14T10:00:00Z,RT @Lane: hi\\n")
>>> b = next(read(p, "edges.csv", ReadOptions()))
>>> row = b.posts.to_pylist()[0]
>>> row["author"], row["kind"], row["target_author"], row["post_id"][:4]
('amy', 'repost', 'lane', 'row-')
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

import pyarrow as pa

from ..errors import InputFileError
from ..schema import SCHEMAS, PostKind, Table, normalise_handle
from .base import PLATFORM_TWITTER, Batch, PostRows, ReadOptions, RejectRows
from .compressed import open_text
from .detect import sniff_dialect
from .timestamps import parse_column, spreadsheet_dates

__all__ = ["FIELDS", "KIND_SYNONYMS", "read", "read_nodexl"]

#: Canonical fields a CSV column can map to (``source``/``target`` are aliases).
FIELDS = (
    "platform",
    "post_id",
    "author",
    "author_id",
    "created_at",
    "text",
    "kind",
    "target_post_id",
    "target_author",
    "mentions",
    "hashtags",
    "lang",
)
_ALIASES = {"source": "author", "target": "target_author"}

_MENTION = "mention"
_FOLLOW = "follow"
#: Accepted spellings of each kind (lower-case, spaces, hyphens and underscores removed).
KIND_SYNONYMS = {
    PostKind.POST.value: ("post", "tweet", "status", "original"),
    PostKind.REPLY.value: ("reply", "repliesto", "replyto", "repliedto", "inreplyto", "re"),
    PostKind.REPOST.value: ("repost", "retweet", "retweeted", "rt", "share", "boost", "reblog"),
    PostKind.QUOTE.value: ("quote", "quoted", "quotetweet"),
    _MENTION: (
        "mention",
        "mt",
        "mentions",
        "mentionsinretweet",
        "mentionsinreplyto",
        "mentionsinquote",
    ),
    _FOLLOW: ("follow", "follows", "followed", "follower", "following", "friend"),
}
_KIND_OF = {syn: kind for kind, syns in KIND_SYNONYMS.items() for syn in syns}
_KIND_KEY = re.compile(r"[\s_\-]+")
_SURROGATE = re.compile("[\udc80-\udcff]")
_SPLIT = re.compile(r"[\s,;]+")
_STATUS_ID = re.compile(r"/status(?:es)?/(\d+)")
_STRENGTH = {  # which relationship names a grouped NodeXL tweet's kind
    PostKind.REPOST.value: 3,
    PostKind.REPLY.value: 2,
    PostKind.QUOTE.value: 1,
    PostKind.POST.value: 0,
}


def kind_of(value: str | None) -> str | None:
    """Return the canonical kind (a post kind, ``mention`` or ``follow``) of a spelling, or None.

    Examples
    --------
    >>> kind_of("Replies to"), kind_of("MentionsInRetweet"), kind_of("RT"), kind_of("like")
    ('reply', 'mention', 'repost', None)
    """
    if value is None:
        return None
    return _KIND_OF.get(_KIND_KEY.sub("", value.lower()))


def _synthetic_id(cells: list[str]) -> str:
    digest = hashlib.sha256("\x1f".join(cells).encode("utf-8", "surrogatepass")).hexdigest()
    return "row-" + digest[:16]


def _tokens(value: str | None, *, hashtag: bool = False) -> str | None:
    if not value:
        return None
    out = []
    for tok in _SPLIT.split(value):
        tok = tok.lstrip("#").lower() if hashtag else normalise_handle(tok)
        if tok:
            out.append(tok)
    return " ".join(dict.fromkeys(out)) or None


class _CsvRows:
    """Iterate ``(line, cells)`` over a CSV file, streaming, with bad rows as rejects.

    A quoted field may run over line breaks (a tweet with new lines). But an unterminated quote
    swallows every line up to the next quote character, or to the end of the file: so a row
    whose quoted field runs over a line break and which then has a cell count other than the
    header's (``width``, set by the caller once it has read the header), or which the CSV parser
    refuses (``strict``: text after a closing quote, end of file inside quotes), is a reject,
    and the lines after its first one are read again as rows. Those lines are taken from a
    second handle on the file that only moves forward, so a good row is never lost and a file
    without such rows costs nothing more.
    """

    def __init__(self, path: Path, rejects: RejectRows, options: ReadOptions):
        self.path = path
        self.rejects = rejects
        self.options = options
        try:
            self.fh = open_text(path)  # (decompressed when gzip/zstd/bzip2/xz)
            sample = self.fh.read(1 << 16)
            self.fh.seek(0)
        except OSError as exc:
            raise InputFileError(path, f"cannot open ({exc.strerror or exc})") from None
        self.dialect = _strict(sniff_dialect(sample))
        self.tail = "\n"  # the last line the reader took (its end tells a cut last row)
        self.reader = csv.reader(self._tracked(self.fh), self.dialect)
        self.base = 0  # lines before the current reader's first line
        self.width: int | None = None  # the header's cell count, once the caller knows it
        self.last_line = 0
        self.count = 0  # rows seen (yielded or rejected here), header included
        self._counted = 0
        self._again: _LinesAgain | None = None
        self.pulled = 0  # lines taken from self.fh
        self.comments = False  # skip rows whose first cell starts with '#' (headerless lists)

    def close(self) -> None:
        self.fh.close()
        if self._again is not None:
            self._again.close()

    def rows_read(self) -> int:
        """Return the rows seen since the last call (call once after reading the header)."""
        n = self.count - self._counted
        self._counted = self.count
        return n

    def _tracked(self, lines: Iterable[str]) -> Iterator[str]:
        """Yield ``lines``, keeping the last one in ``self.tail``."""
        for self.tail in lines:
            yield self.tail

    def _cut_short(self, cells: list[str]) -> bool:
        """True if ``cells`` is a row with fewer cells than the header on the file's last line,
        which has no line end: a file cut in the middle of its last row (a truncated copy or
        download), not a short row written so."""
        return (
            self.width is not None
            and 0 < len(cells) < self.width
            and not self.tail.endswith(("\n", "\r"))
        )

    def _read_again(self, first: int) -> None:
        """Read the lines from ``first`` (swallowed by a bad row) again, then the rest."""
        if self._again is None:
            self._again = _LinesAgain(self.path)
        lines = self._again.get(first, self.pulled)  # (the lines taken from self.fh so far)
        self.reader = csv.reader(self._tracked(chain(lines, self.fh)), self.dialect)
        self.base = first - 1
        self.last_line = first - 1

    def _holds_rows(self, cells: list[str]) -> bool:
        """True if a cell's inner lines (not its first or last) read as rows of the header's
        width: two unterminated quotes, one opening and one closing, give a row of the right
        shape that swallowed the rows between them."""
        for cell in cells:
            inner = cell.splitlines()[1:-1]
            if inner and any(
                len(row) == self.width for row in csv.reader(inner, self.dialect) if row
            ):
                return True
        return False

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            reader = self.reader
            start = self.last_line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = max(self.base + reader.line_num, start)
                self.pulled = max(self.pulled, end)
                self.count += 1
                reason = f"malformed CSV: {exc}"
                if end > start:
                    reason += (
                        f" (a quoted field from this line runs over {end - start + 1} lines: "
                        "an unterminated quote?); the lines after this one are read again"
                    )
                self.rejects.add(start, reason, "")
                if end > start:
                    self._read_again(start + 1)
                else:
                    self.last_line = end
                continue
            end = self.base + reader.line_num
            self.last_line = end
            if end > self.pulled:
                self.pulled = end
            if end > start and self.width is not None:
                if len(cells) != self.width:
                    why = f"leaves the row with {len(cells)} cells, the header {self.width}"
                elif end > start + 1 and self._holds_rows(cells):
                    why = f"holds whole lines of {self.width} cells, rows of their own"
                else:
                    why = None
                if why is not None:
                    self.count += 1
                    self.rejects.add(
                        start,
                        f"a quoted field runs over {end - start + 1} lines and {why} "
                        "(an unterminated quote?); the lines after this one are read again",
                        cells,
                    )
                    self._read_again(start + 1)
                    continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if self.comments and cells[0].startswith("#"):
                continue
            self.count += 1
            joined = "\x1f".join(cells)
            if _SURROGATE.search(joined):
                raw = joined.encode("utf-8", "surrogateescape").replace(b"\x1f", b",")
                self.rejects.add(start, "not valid UTF-8", raw)
                continue
            if "\x00" in joined:
                self.rejects.add(start, "NUL byte in a cell", joined.replace("\x1f", ","))
                continue
            if self._cut_short(cells):
                self.rejects.add(
                    start,
                    f"the file ends in this row, without a line end, {len(cells)} of the "
                    f"header's {self.width} cells read: cut short (a truncated copy?)",
                    joined.replace("\x1f", ","),
                )
                continue
            yield start, cells


def _strict(dialect: type[csv.Dialect] | csv.Dialect) -> type[csv.Dialect]:
    """``dialect`` with ``strict`` on: end of file inside quotes is an error, not a cell."""

    class Strict(dialect):  # type: ignore[valid-type,misc]
        strict = True

    return Strict


class _LinesAgain:
    """The raw lines of a file by number, read forward only (for rows read again)."""

    def __init__(self, path: Path):
        self.fh = open_text(path)  # (as _CsvRows reads it: decompressed, same lines)
        self.next = 1  # number of the next line self.fh gives
        self.first = 1  # number of cache[0]
        self.cache: list[str] = []

    def get(self, first: int, last: int) -> list[str]:
        """Lines ``first..last`` (1-based); ``first`` never goes back."""
        drop = min(max(0, first - self.first), len(self.cache))
        del self.cache[:drop]
        self.first += drop
        if not self.cache:
            while self.next < first:
                if not self.fh.readline():
                    break
                self.next += 1
            self.first = self.next
        while self.first + len(self.cache) <= last:
            line = self.fh.readline()
            if not line:
                break
            self.cache.append(line)
            self.next += 1
        return self.cache[first - self.first : last - self.first + 1]

    def close(self) -> None:
        self.fh.close()


def _resolve_mapping(
    header: list[str], mapping: tuple[tuple[str, str], ...], path: Path
) -> dict[str, int]:
    """Return canonical field -> column index."""
    lower = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
    exact = {h.strip(): i for i, h in reversed(list(enumerate(header)))}
    fields: dict[str, int] = {}
    for name, i in lower.items():
        f = _ALIASES.get(name, name)
        if f in FIELDS and f not in fields:
            fields[f] = i
    for col, fld in mapping:
        f = _ALIASES.get(fld.strip().lower(), fld.strip().lower())
        if f not in FIELDS:
            raise InputFileError(
                path,
                f"--map {col}={fld}: unknown field {fld!r}; expected one of "
                f"{', '.join(FIELDS)} (or source, target)",
            )
        i = exact.get(col.strip(), lower.get(col.strip().lower()))
        if i is None:
            raise InputFileError(
                path, f"--map {col}={fld}: no column {col!r} (columns: {', '.join(header)})"
            )
        fields[f] = i
    for required in ("author", "created_at"):
        if required not in fields:
            raise InputFileError(
                path,
                f"no column for {required}; name one with --map COL={required} "
                f"(columns: {', '.join(header)})",
            )
    return fields


class _Follows:
    """Collect follows rows (follower, followee, raw observed_at, line, raw)."""

    def __init__(self, rejects: RejectRows, *, naive_utc: bool = False):
        self.rows: list[tuple[str, str, object, int, object]] = []
        self.rejects = rejects
        self.naive_utc = naive_utc

    def take(self) -> pa.Table | None:
        rows, self.rows = self.rows, []
        if not rows:
            return None
        stamps = [r[2] for r in rows]
        present = [i for i, s in enumerate(stamps) if s not in (None, "")]
        values: list = [None] * len(rows)
        keep = [True] * len(rows)
        if present:
            parsed, bad = parse_column([stamps[i] for i in present], naive_utc=self.naive_utc)
            parsed_list = parsed.to_pylist()
            for j, i in enumerate(present):
                if j in bad:
                    self.rejects.add(rows[i][3], bad[j], rows[i][4])
                    keep[i] = False
                else:
                    values[i] = parsed_list[j]
        kept = [i for i in range(len(rows)) if keep[i]]
        schema = SCHEMAS[Table.FOLLOWS]
        return pa.Table.from_arrays(
            [
                pa.array([rows[i][0] for i in kept], pa.string()),
                pa.array([rows[i][1] for i in kept], pa.string()),
                pa.array([values[i] for i in kept], schema.field("observed_at").type),
            ],
            schema=schema,
        )


def _cell(cells: list[str], i: int | None) -> str | None:
    if i is None or i >= len(cells):
        return None
    value = cells[i].strip()
    return value or None


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a generic CSV (one post, mention or follow per row) with the column mapping.

    Raises
    ------
    InputFileError
        If the mapping names an unknown field or column, or author/created_at has no column.
    """
    rejects = RejectRows(source)
    rows = _CsvRows(path, rejects, options)
    headerless = not options.header or bool(options.columns)
    rows.comments = headerless
    try:
        it = iter(rows)
        first = next(it, None)
        if first is None:
            yield Batch(rejects=rejects.take())
            return
        if headerless:  # the first row is data: columns by name (--columns) or position
            header = list(options.columns) or [str(i) for i in range(len(first[1]))]
            it = chain([first], it)
        else:
            header = first[1]
            rows.rows_read()  # the header is not a row read
        rows.width = len(header)
        fields = _resolve_mapping(header, options.mapping, path)
        yield from _read_rows(rows, it, header, fields, source, rejects, options)
        options.advance(path.stat().st_size)
    finally:
        rows.close()


def _read_rows(rows, it, header, fields, source, rejects, options) -> Iterator[Batch]:
    posts = PostRows(source, rejects)
    follows = _Follows(rejects)
    get = fields.get
    col = {f: get(f) for f in FIELDS}
    for line, cells in it:
        if len(cells) > len(header):
            rejects.add(line, f"row has {len(cells)} cells, the header {len(header)}", cells)
            continue
        author = normalise_handle(_cell(cells, col["author"]))
        if author is None:
            rejects.add(line, "missing author", cells)
            continue
        raw_kind = _cell(cells, col["kind"])
        target = normalise_handle(_cell(cells, col["target_author"]))
        kind = kind_of(raw_kind) if raw_kind else (_MENTION if target else PostKind.POST.value)
        if kind is None:
            rejects.add(line, f"unknown kind {raw_kind!r}", cells)
            continue
        created = _cell(cells, col["created_at"])
        if kind == _FOLLOW:
            if target is None:
                rejects.add(line, "follow row without a target", cells)
            else:
                follows.rows.append((author, target, created, line, cells))
            continue
        mentions = _tokens(_cell(cells, col["mentions"]))
        if kind == _MENTION:
            kind = PostKind.POST.value
            if target is None:
                rejects.add(line, "mention row without a target", cells)
                continue
            mentions = " ".join(dict.fromkeys([target, *(mentions or "").split()]))
            target = None
        elif kind == PostKind.POST.value:
            target = None
        post_id = _cell(cells, col["post_id"]) or _synthetic_id(cells)
        posts.add(
            (
                _cell(cells, col["platform"]) or PLATFORM_TWITTER,
                post_id,
                author,
                _cell(cells, col["author_id"]),
                created,
                cells[col["text"]]
                if col["text"] is not None and col["text"] < len(cells)
                else None,
                kind,
                _cell(cells, col["target_post_id"]),
                target,
                mentions,
                _tokens(_cell(cells, col["hashtags"]), hashtag=True),
                _cell(cells, col["lang"]),
                line,
                cells,
            )
        )
        if len(posts) >= options.batch_rows:
            f = follows.take()  # (first: its unreadable timestamps are rejects of this batch)
            p, r = posts.take()
            yield Batch(posts=p, follows=f, rejects=r, rows_read=rows.rows_read())
    f = follows.take()
    p, r = posts.take()
    yield Batch(posts=p, follows=f, rejects=r, rows_read=rows.rows_read())


# ---- NodeXL -------------------------------------------------------------------------------------

_NODEXL = {
    "author": ("vertex 1",),
    "other": ("vertex 2",),
    "relationship": ("relationship",),
    "date": ("relationship date (utc)", "relationship date", "tweet date (utc)", "date"),
    "tweet_date": ("tweet date (utc)",),
    "text": ("tweet",),
    "id": ("imported id", "status id", "tweet id", "unified twitter id"),
    "url": ("twitter page for tweet", "tweet url"),
    "reply_id": ("in-reply-to tweet id", "in reply to tweet id"),
    "quote_id": ("quoted status id",),
    "retweet_id": ("retweet id",),
    "hashtags": ("hashtags in tweet",),
    "lang": ("language",),
}


def _nodexl_columns(header: list[str]) -> dict[str, int | None]:
    lower = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
    return {
        key: next((lower[n] for n in names if n in lower), None) for key, names in _NODEXL.items()
    }


def read_nodexl(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a NodeXL Twitter edge export (CSV), one post per tweet (rows grouped by tweet id).

    Raises
    ------
    InputFileError
        If no header row with ``Vertex 1`` and ``Vertex 2`` is found in the first five rows.
    """
    rejects = RejectRows(source)
    rows = _CsvRows(path, rejects, options)
    try:
        it = iter(rows)
        header = None
        seen = 0
        for _ in range(5):  # NodeXL sheets may carry a row of section titles above the header
            first = next(it, None)
            if first is None:
                break
            seen += 1
            cells = [c.strip().lower() for c in first[1]]
            if "vertex 1" in cells and "vertex 2" in cells:
                header = first[1]
                rows.width = len(header)
                rows.rows_read()  # the header (and any title row) are not rows read
                break
        if header is None:
            if not seen:
                yield Batch(rejects=rejects.take())
                return
            raise InputFileError(
                path, "no NodeXL header row (Vertex 1, Vertex 2) in the first rows"
            )
        yield from _nodexl_rows(rows, it, header, source, rejects, options)
        options.advance(path.stat().st_size)
    finally:
        rows.close()


def _read_sheet_dates(posts: dict[str, list], follows: _Follows, rejects: RejectRows):
    """Dates as Excel writes them for the sheet's locale (``14/02/2014 10:00``) to ISO, the
    day/month order decided from the whole file; a row whose date cannot be told is a reject."""
    iso, unread = spreadsheet_dates(
        [rec[1] for rec in posts.values()] + [row[2] for row in follows.rows]
    )
    if not iso and not unread:
        return posts
    kept = {}
    for key, rec in posts.items():
        if rec[1] in unread:
            rejects.add(rec[9], f"date {rec[1]!r}: {unread[rec[1]]}", rec[10])
            continue
        rec[1] = iso.get(rec[1], rec[1])
        kept[key] = rec
    rows = []
    for author, other, created, line, cells in follows.rows:
        if created in unread:
            rejects.add(line, f"date {created!r}: {unread[created]}", cells)
            continue
        rows.append((author, other, iso.get(created, created), line, cells))
    follows.rows = rows
    return kept


def _nodexl_rows(rows, it, header, source, rejects, options) -> Iterator[Batch]:
    col = _nodexl_columns(header)
    if col["date"] is None:
        raise InputFileError(source, "NodeXL export without a 'Relationship Date (UTC)' column")
    posts: dict[str, list] = {}  # tweet key -> [row tuple fields..., mentions list, strength]
    follows = _Follows(rejects, naive_utc=True)
    for line, cells in it:
        if len(cells) > len(header):
            rejects.add(line, f"row has {len(cells)} cells, the header {len(header)}", cells)
            continue
        author = normalise_handle(_cell(cells, col["author"]))
        other = normalise_handle(_cell(cells, col["other"]))
        rel = _cell(cells, col["relationship"])
        if author is None:
            rejects.add(line, "missing Vertex 1", cells)
            continue
        kind = kind_of(rel) if rel else PostKind.POST.value
        if kind is None:
            rejects.add(line, f"unknown relationship {rel!r}", cells)
            continue
        created = _cell(cells, col["date"]) or _cell(cells, col["tweet_date"])
        if kind == _FOLLOW:
            if other is None:
                rejects.add(line, "Followed row without Vertex 2", cells)
            else:
                follows.rows.append((author, other, created, line, cells))
            continue
        text = cells[col["text"]] if col["text"] is not None and col["text"] < len(cells) else None
        tweet_id = _cell(cells, col["id"])
        if tweet_id is None and (url := _cell(cells, col["url"])):
            m = _STATUS_ID.search(url)
            tweet_id = m.group(1) if m else None
        key = tweet_id or _synthetic_id([author, created or "", text or ""])
        rec = posts.get(key)
        if rec is None:
            rec = posts[key] = [
                author,
                created,
                text,
                PostKind.POST.value,
                None,  # target_author
                None,  # target_post_id
                [],  # mentions
                _tokens(_cell(cells, col["hashtags"]), hashtag=True),
                _cell(cells, col["lang"]),
                line,
                cells,
                tweet_id or key,
            ]
        elif rec[0] != author:
            rejects.add(line, f"tweet {key} has two authors ({rec[0]}, {author})", cells)
            continue
        if kind == _MENTION:
            if other and other != author:
                rec[6].append(other)
        elif _STRENGTH[kind] > _STRENGTH[rec[3]]:
            rec[3] = kind
            rec[4] = other if other != author else None
            id_col = {"reply": "reply_id", "quote": "quote_id", "repost": "retweet_id"}.get(kind)
            rec[5] = _cell(cells, col[id_col]) if id_col else None
    posts = _read_sheet_dates(posts, follows, rejects)
    out = PostRows(source, rejects, naive_utc=True)
    for rec in posts.values():
        mentions = list(dict.fromkeys(rec[6]))
        out.add(
            (
                PLATFORM_TWITTER,
                rec[11],
                rec[0],
                None,
                rec[1],
                rec[2],
                rec[3],
                rec[5],
                rec[4],
                " ".join(mentions) or None,
                rec[7],
                rec[8],
                rec[9],
                rec[10],
            )
        )
    f = follows.take()  # (first: its unreadable timestamps are rejects of this batch)
    p, r = out.take()
    yield Batch(posts=p, follows=f, rejects=r, rows_read=rows.rows_read())
