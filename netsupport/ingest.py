"""Import files into a store: detect each file's format, read it, de-duplicate, commit once.

:func:`import_paths` is what ``netsupport import`` and the study runner call. One call is one store
transaction: either every file is imported or (on an error that stops the import) nothing is.
Interactions are derived at import time from the kept posts (reply, mention, repost, quote; see
:func:`netsupport.interactions.interactions_from_posts`, which :func:`interactions_arrow` mirrors
on Arrow tables for speed) and from follow lists (kind ``follow``, ``created_at`` = observed_at).

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.jsonl").write_text('{"id": "1", "text": "hi @Lane", "created_at": '
...     '"2014-02-14T10:00:00Z", "author": {"username": "amy"}, '
...     '"entities": {"mentions": [{"username": "Lane"}]}}\\n')
>>> summary = import_paths(Store(d / "store"), [d / "t.jsonl"])
>>> summary.total("posts"), summary.total("interactions"), summary.files[0].format
(1, 1, 'twitter-v2')
>>> import_paths(Store(d / "store"), [d / "t.jsonl"]).files[0].status
'already imported'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputFileError, UnknownFormat
from .io import FORMATS, ReadOptions, detect_format, fingerprint, reader_for
from .io.pool import WorkerPool, worker_count
from .io.twitter_json import PARALLEL_MIN_BYTES
from .schema import (
    SCHEMAS,
    AccountCol,
    FollowCol,
    IKind,
    InteractionCol,
    PostCol,
    PostKind,
    RejectCol,
    Table,
)
from .store import Store, Transaction
from .studyfile import InputSpec

__all__ = [
    "FileSummary",
    "ImportProgress",
    "ImportSummary",
    "InputSpec",
    "follow_interactions",
    "import_inputs",
    "import_paths",
    "interactions_arrow",
]


_SAMPLES = 5  # reject rows kept per file for the summary

COUNTS = (
    "rows_read",
    "posts",
    "duplicates",
    "interactions",
    "follows",
    "follow_duplicates",
    "accounts",
    "rejects",
)


@dataclass
class FileSummary:
    """What happened to one input file."""

    path: str
    format: str
    status: str = "imported"  # imported | already imported | skipped
    reason: str | None = None
    sha256: str | None = None
    size: int = 0
    rows_read: int = 0
    posts: int = 0
    duplicates: int = 0
    interactions: int = 0
    follows: int = 0
    follow_duplicates: int = 0
    accounts: int = 0  # distinct accounts the file describes
    rejects: int = 0
    reject_samples: list[tuple[str, int | None, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return the row counts as a dict (the manifest's ``rows`` record)."""
        return {k: getattr(self, k) for k in COUNTS}

    @property
    def all_duplicates(self) -> int:
        """Rows skipped as already present: posts and follows."""
        return self.duplicates + self.follow_duplicates


@dataclass
class ImportSummary:
    """The result of one import: a summary per file, and the store's row counts after it."""

    files: list[FileSummary] = field(default_factory=list)
    store_counts: dict[str, int] = field(default_factory=dict)

    def total(self, what: str) -> int:
        """Return a count summed over files (``posts``, ``rejects``, ``rows_read``...)."""
        return sum(getattr(f, what) for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-able values."""
        return {
            "files": [dict(vars(f)) for f in self.files],
            "totals": {k: self.total(k) for k in COUNTS},
            "store": dict(self.store_counts),
        }


class ImportProgress(Protocol):
    """Receives progress while files are read (the CLI draws a bar on stderr)."""

    def start_file(self, path: str, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def end_file(self) -> None: ...


# ---- interactions from posts and follows --------------------------------------------------------

# Python's str.split() separators, for RE2. (pc.utf8_split_whitespace is not used: in pyarrow
# 26.0.1 it sometimes reads past the last string and keeps a trailing space in the last piece.)
# (= every c with chr(c).isspace(); a test checks the list)
_WHITESPACE = (
    r"[\x{9}\x{a}\x{b}\x{c}\x{d}\x{1c}\x{1d}\x{1e}\x{1f}\x{20}\x{85}\x{a0}\x{1680}"
    r"\x{2000}\x{2001}\x{2002}\x{2003}\x{2004}\x{2005}\x{2006}\x{2007}\x{2008}\x{2009}"
    r"\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+"
)
_DIRECT_KINDS = pa.array([PostKind.REPLY.value, PostKind.REPOST.value, PostKind.QUOTE.value])
_ISCHEMA = SCHEMAS[Table.INTERACTIONS]
_SORT_COLUMNS = [
    InteractionCol.CREATED_AT.value,
    InteractionCol.POST_ID.value,
    InteractionCol.KIND.value,
    InteractionCol.SOURCE.value,
    InteractionCol.TARGET.value,
]


def _sort_nulls_first(table: pa.Table, columns: list[str]) -> pa.Array:
    """Indices sorting ``table`` by ``columns`` ascending, nulls first in every key."""
    try:  # pyarrow >= 25: null placement per key
        return pc.sort_indices(table, sort_keys=[(c, "ascending", "at_start") for c in columns])
    except (TypeError, ValueError, pa.ArrowInvalid):
        keys = [(c, "ascending") for c in columns]
        return pc.sort_indices(table, sort_keys=keys, null_placement="at_start")


def _edges(source, target, kind, post_id, created_at) -> pa.Table:
    n = len(source)
    return pa.Table.from_arrays(
        [source, target, kind, post_id, created_at, pa.repeat(pa.scalar(1.0), n)], schema=_ISCHEMA
    )


def interactions_arrow(
    posts: pa.Table, *, sort: bool = True, mentions_unique: bool = False
) -> pa.Table:
    """Return the reply/mention/repost/quote edges of canonical posts, as an Arrow table.

    The same rows as :func:`netsupport.interactions.interactions_from_posts` (a property test
    checks this on random posts), computed with Arrow kernels: about 20 times faster on a million
    posts.

    Parameters
    ----------
    posts : pa.Table
        Canonical posts (post_id, author, kind, target_author, mentions, created_at).
    sort : bool
        Sort canonically (created_at, post_id, kind, source, target; nulls first), as
        ``interactions_from_posts`` does. Otherwise the order is the direct edges in post order,
        then the mention edges in post order (the importer's choice: sorting a million edges by
        five keys costs more than deriving them).
    mentions_unique : bool
        The caller guarantees no handle repeats within one post's ``mentions`` (every importer
        writes them de-duplicated); skips that de-duplication when post ids are unique too.

    Examples
    --------
    >>> posts = pa.table({"post_id": ["1"], "author": ["amy"], "kind": ["reply"],
    ...     "target_author": ["lane"], "mentions": ["lane force"],
    ...     "created_at": pa.array([0], pa.timestamp("us", tz="UTC"))})
    >>> t = interactions_arrow(posts)
    >>> list(zip(t["target"].to_pylist(), t["kind"].to_pylist()))
    [('force', 'mention'), ('lane', 'reply')]
    """
    if posts.num_rows == 0:
        return _ISCHEMA.empty_table()
    author = posts.column(PostCol.AUTHOR).combine_chunks()
    kind = posts.column(PostCol.KIND).combine_chunks()
    target = posts.column(PostCol.TARGET_AUTHOR).combine_chunks()
    post_id = posts.column(PostCol.POST_ID).combine_chunks()
    created = posts.column(PostCol.CREATED_AT).combine_chunks()
    if created.type != _ISCHEMA.field(InteractionCol.CREATED_AT).type:
        created = created.cast(_ISCHEMA.field(InteractionCol.CREATED_AT).type)

    has_target = pc.fill_null(
        pc.and_kleene(pc.is_in(kind, value_set=_DIRECT_KINDS), pc.not_equal(target, author)),
        False,
    )
    direct = _edges(
        author.filter(has_target),
        target.filter(has_target),
        kind.filter(has_target),
        post_id.filter(has_target),
        created.filter(has_target),
    )
    pieces = [direct]
    mentions = posts.column(PostCol.MENTIONS).combine_chunks()
    if mentions.null_count < len(mentions):
        split = pc.split_pattern_regex(pc.fill_null(mentions, ""), _WHITESPACE)
        parents = pc.list_parent_indices(split)
        handles = pc.list_flatten(split)
        if len(handles):
            m_author = author.take(parents)
            m_target = target.take(parents)
            same_as_target = pc.fill_null(
                pc.and_kleene(has_target.take(parents), pc.equal(handles, m_target)), False
            )
            keep = pc.and_(
                pc.and_(
                    pc.fill_null(pc.not_equal(handles, m_author), True),
                    pc.invert(same_as_target),
                ),
                pc.not_equal(handles, ""),  # leading/trailing separators give "" pieces
            )
            parents = parents.filter(keep)
            handles = handles.filter(keep)
            m_pid = post_id.take(parents)
            unique_posts = pc.count_distinct(post_id).as_py() == len(post_id)
            if not (mentions_unique and unique_posts):
                # first occurrence of each (post_id, target), like DataFrame.drop_duplicates
                order = pa.table({"p": m_pid, "t": handles, "i": pa.array(range(len(handles)))})
                first = order.group_by(["p", "t"], use_threads=False).aggregate([("i", "min")])
                if first.num_rows < len(handles):
                    firsts = first.column("i_min")
                    rows = firsts.take(pc.sort_indices(firsts))
                    parents, handles, m_pid = (
                        parents.take(rows),
                        handles.take(rows),
                        m_pid.take(rows),
                    )
            pieces.append(
                _edges(
                    author.take(parents),
                    handles,
                    pa.repeat(pa.scalar(IKind.MENTION.value), len(handles)),
                    m_pid,
                    created.take(parents),
                )
            )
    out = pa.concat_tables(pieces) if len(pieces) > 1 else direct
    if sort and out.num_rows > 1:
        out = out.take(_sort_nulls_first(out, _SORT_COLUMNS))
    return out


def follow_interactions(follows: pa.Table) -> pa.Table:
    """Return one ``follow`` edge follower -> followee per follows row (created_at = observed_at).

    Examples
    --------
    >>> f = pa.table({"follower": ["amy"], "followee": ["lane"],
    ...               "observed_at": pa.nulls(1, pa.timestamp("us", tz="UTC"))})
    >>> follow_interactions(f).to_pylist()[0]["kind"]
    'follow'
    """
    n = follows.num_rows
    if n == 0:
        return _ISCHEMA.empty_table()
    return _edges(
        follows.column(FollowCol.FOLLOWER).combine_chunks(),
        follows.column(FollowCol.FOLLOWEE).combine_chunks(),
        pa.repeat(pa.scalar(IKind.FOLLOW.value), n),
        pa.nulls(n, pa.string()),
        follows.column(FollowCol.OBSERVED_AT).combine_chunks(),
    )


# ---- files --------------------------------------------------------------------------------------


def _expand(path: Path) -> list[tuple[Path, bool]]:
    """Return the files to import for a path: (file, named explicitly)."""
    if not path.exists():
        raise InputFileError(path, "no such file or folder")
    if path.is_dir():
        from .io.archive import is_archive_folder

        if is_archive_folder(path):
            return [(path, True)]
        out: list[tuple[Path, bool]] = []
        for child in sorted(path.iterdir(), key=lambda p: p.name):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                out += [(p, False) for p, _ in _expand(child)]
            elif child.is_file():
                out.append((child, False))
        return out
    return [(path, True)]


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class _Hasher:
    """The sha256 of a file: in a worker process while the file is imported, or right away."""

    def __init__(self, path: Path, pool: WorkerPool | None):
        self.future: Future[str] | None = None
        self.value: str | None = None
        if pool is not None:
            self.future = pool.submit(_sha256, path)
        else:
            self.value = _sha256(path)

    def result(self) -> str:
        return self.future.result() if self.future is not None else self.value  # type: ignore[return-value]


def _import_one(
    tx: Transaction,
    path: Path,
    fmt: str,
    options: ReadOptions,
    progress: ImportProgress | None,
    pool: WorkerPool | None,
) -> FileSummary:
    summary = FileSummary(path=str(path), format=fmt)
    if path.is_dir():
        digest, size = fingerprint(path)
        summary.sha256, summary.size = digest, size
        hasher = None
    else:
        size = summary.size = path.stat().st_size
        hasher = None
        if tx.has_size(size):
            summary.sha256 = _sha256(path)
        else:
            hasher = _Hasher(path, pool)  # cannot be a re-import: no file of this size
    if summary.sha256 is not None and tx.has_file(summary.sha256):
        summary.status = "already imported"
        return summary

    if progress is not None:
        progress.start_file(str(path), size)
        options = replace(options, progress=progress.advance)
    try:
        if fmt != "empty":
            handles: list[pa.ChunkedArray] = []  # the accounts this file describes
            for batch in reader_for(fmt)(path, str(path), options):
                _add_batch(tx, summary, batch, handles)
            if handles:
                chunks = [c for h in handles for c in h.chunks]
                summary.accounts = pc.count_distinct(pa.chunked_array(chunks, pa.string())).as_py()
    finally:
        if progress is not None:
            progress.end_file()
    if hasher is not None:
        summary.sha256 = hasher.result()
    tx.record_import(
        {
            "path": summary.path,
            "sha256": summary.sha256,
            "format": summary.format,
            "size": summary.size,
            "rows": summary.counts(),
        }
    )
    return summary


def _add_batch(tx: Transaction, summary: FileSummary, batch, handles: list) -> None:
    summary.rows_read += batch.rows_read
    if batch.posts is not None:
        kept, dups = tx.add_posts(batch.posts)
        summary.posts += kept.num_rows
        summary.duplicates += dups
        edges = interactions_arrow(kept, sort=False, mentions_unique=True)
        summary.interactions += tx.append(Table.INTERACTIONS, edges)
    if batch.follows is not None:
        kept, dups = tx.add_follows(batch.follows)
        summary.follows += kept.num_rows
        summary.follow_duplicates += dups
        summary.interactions += tx.append(Table.INTERACTIONS, follow_interactions(kept))
    if batch.accounts is not None:
        tx.add_accounts(batch.accounts)
        handles.append(batch.accounts.column(AccountCol.HANDLE))
    if batch.rejects is not None:
        summary.rejects += tx.append(Table.REJECTS, batch.rejects)
        room = _SAMPLES - len(summary.reject_samples)
        if room > 0:
            head = batch.rejects.slice(0, room).to_pylist()
            summary.reject_samples += [
                (r[RejectCol.SOURCE_FILE], r[RejectCol.SOURCE_LINE], r[RejectCol.REASON])
                for r in head
            ]


def _check_format(fmt: str) -> str:
    if fmt != "auto" and fmt not in FORMATS:
        raise UnknownFormat(
            fmt, f"unknown format; expected auto or one of {', '.join(sorted(FORMATS))}"
        )
    return fmt


def import_inputs(
    store: Store,
    inputs: Iterable[InputSpec],
    *,
    workers: int = 0,
    progress: ImportProgress | None = None,
    max_archive_bytes: int = ReadOptions.max_archive_bytes,
) -> ImportSummary:
    """Import several inputs, each with its own format and options, in one transaction.

    A folder imports its files in name order (recursively; hidden files skipped), each with its
    own format detection; a file in a folder whose format cannot be detected is skipped and listed
    in the summary. Any other error (a named file that cannot be read, an unsafe archive) stops
    the import and leaves the store as it was.

    Raises
    ------
    InputFileError
        A file cannot be read at all, or its format is unknown (message names the file).
    """
    specs = list(inputs)
    summary = ImportSummary()
    for spec in specs:
        _check_format(spec.format)
    files = [
        (spec, path, explicit) for spec in specs for path, explicit in _expand(Path(spec.path))
    ]
    # Worker processes start now, before this process has any other thread (see io.pool).
    n_workers = worker_count(workers)
    big = any(p.is_file() and p.stat().st_size >= PARALLEL_MIN_BYTES for _, p, _ in files)
    pool = WorkerPool(n_workers) if big and n_workers > 1 else None
    try:
        with store.transaction() as tx:
            for spec, path, explicit in files:
                options = ReadOptions(
                    mapping=tuple(spec.mapping),
                    account=spec.account,
                    direction=spec.direction,
                    workers=workers,
                    max_archive_bytes=max_archive_bytes,
                    pool=pool,
                )
                try:
                    fmt = detect_format(path, options) if spec.format == "auto" else spec.format
                except UnknownFormat as exc:
                    if explicit:
                        raise
                    summary.files.append(
                        FileSummary(str(path), "unknown", status="skipped", reason=exc.reason)
                    )
                    continue
                summary.files.append(_import_one(tx, path, fmt, options, progress, pool))
    finally:
        if pool is not None:
            pool.close()
    summary.store_counts = store.counts()
    return summary


def import_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    format: str = "auto",
    mapping: Iterable[tuple[str, str]] = (),
    account: str | None = None,
    direction: str = "followers",
    *,
    workers: int = 0,
    progress: ImportProgress | None = None,
    max_archive_bytes: int = ReadOptions.max_archive_bytes,
) -> ImportSummary:
    """Import files and folders into ``store`` in one transaction; return the summary.

    Parameters
    ----------
    store : Store
        Where the rows go.
    paths : sequence of paths
        Files or folders (a folder's files are imported in name order).
    format : str
        ``auto`` (detect from content) or a name in :data:`netsupport.io.FORMATS`.
    mapping : iterable of (column, field)
        CSV column -> canonical field, for ``csv``.
    account, direction : str
        For follower lists: whose list it is and whether it lists ``followers`` or ``following``.
    workers : int
        Processes for large JSON-lines files (0: up to 2).
    progress : ImportProgress or None
        Progress receiver.
    max_archive_bytes : int
        Cap on the bytes decompressed from one archive.

    Returns
    -------
    ImportSummary

    Raises
    ------
    InputFileError
        A file cannot be read at all (nothing is written).
    """
    mapping = tuple(mapping)
    specs = [
        InputSpec(
            path=Path(p), format=format, mapping=mapping, account=account, direction=direction
        )
        for p in paths
    ]
    return import_inputs(
        store, specs, workers=workers, progress=progress, max_archive_bytes=max_archive_bytes
    )


# ---- rendering ----------------------------------------------------------------------------------

_COLUMNS = [
    ("rows read", "rows_read"),
    ("posts", "posts"),
    ("interactions", "interactions"),
    ("follows", "follows"),
    ("accounts", "accounts"),
    ("duplicates", "all_duplicates"),
    ("rejected", "rejects"),
]


def _table_text(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = []
    for r in [header, *rows]:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def format_summary(summary: ImportSummary) -> str:
    """Return the import summary as plain text: one line per file, totals, store counts.

    ``duplicates`` counts the posts and follows skipped because the store (or an earlier row)
    already had them; ``accounts`` the distinct accounts a file describes (merged by handle).

    Examples
    --------
    >>> s = ImportSummary([FileSummary("a.jsonl", "twitter-v2", rows_read=3, posts=2, rejects=1,
    ...     reject_samples=[("a.jsonl", 2, "malformed JSON")])], {"posts": 2})
    >>> print(format_summary(s))  # doctest: +NORMALIZE_WHITESPACE
    file     format      rows read  posts  interactions  follows  accounts  duplicates  rejected
    a.jsonl  twitter-v2          3      2             0        0         0           0         1
    total                        3      2             0        0         0           0         1
    rejected rows (first 5 per file; all are in the store's rejects table):
      a.jsonl:2: malformed JSON
    store now holds: posts 2
    """
    rows = []
    for f in summary.files:
        cells = [f.path, f.format] + [str(getattr(f, key)) for _, key in _COLUMNS]
        if f.status != "imported":
            cells = [f.path, f.format] + [""] * len(_COLUMNS) + [_status(f)]
        rows.append(cells)
    header = ["file", "format"] + [name for name, _ in _COLUMNS]
    totals = ["total", ""] + [str(summary.total(key)) for _, key in _COLUMNS]
    if any(f.status != "imported" for f in summary.files):
        header.append("note")
        rows = [[*r, ""] if len(r) == len(header) - 1 else r for r in rows]
        totals.append("")
    lines = _table_text(header, [*rows, totals])
    samples = [s for f in summary.files for s in f.reject_samples]
    if samples:
        lines.append("rejected rows (first 5 per file; all are in the store's rejects table):")
        lines += [f"  {src}:{line}: {reason}" for src, line, reason in samples]
    if summary.store_counts:
        counts = ", ".join(f"{k} {v}" for k, v in summary.store_counts.items())
        lines.append(f"store now holds: {counts}")
    return "\n".join(lines)


def _status(f: FileSummary) -> str:
    return f"{f.status}: {f.reason}" if f.reason else f.status


def format_info(info: dict[str, Any]) -> str:
    """Return :meth:`netsupport.store.Store.summary` as plain text."""
    lines = [f"store: {info['root']}", "rows per table:"]
    lines += [f"  {name:<13}{count:>12}" for name, count in info["counts"].items()]
    span = info["time_span"]
    if span["first"] is not None:
        lines.append(f"posts from {span['first']} to {span['last']}")
    if info["top_authors"]:
        lines.append("top authors (posts):")
        lines += [f"  {a['author']:<24}{a['posts']:>10}" for a in info["top_authors"]]
    if info["reject_reasons"]:
        lines.append("reject reasons:")
        lines += [f"  {r['count']:>8}  {r['reason']}" for r in info["reject_reasons"]]
    lines.append(f"imported files ({len(info['imports'])}):")
    for rec in info["imports"]:
        rows = rec.get("rows", {})
        lines.append(
            f"  {rec['path']}  [{rec['format']}]  sha256 {str(rec['sha256'])[:12]}  "
            f"posts {rows.get('posts', 0)}  rejected {rows.get('rejects', 0)}"
        )
    return "\n".join(lines)
