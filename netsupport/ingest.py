"""Import files into a store: detect each file's format, read it, de-duplicate, commit once.

:func:`import_paths` is what ``netsupport import`` and the study runner call. One call is one store
transaction: either every file is imported or (on an error that stops the import) nothing is.
Interactions are derived at import time from the kept posts (reply, mention, repost, quote; see
:func:`netsupport.interactions.interactions_arrow`) and from follow lists (kind ``follow``,
``created_at`` = observed_at).

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

import gc
import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputFileError, UnknownFormat
from .interactions import follow_interactions, interactions_arrow, likes_without_time
from .io import FORMATS, ReadOptions, detect_format, fingerprint, reader_for
from .io.base import gc_paused
from .io.pool import WorkerPool, worker_count
from .io.twitter_json import PARALLEL_MIN_BYTES
from .schema import (
    SCHEMAS,
    AccountCol,
    FollowCol,
    IKind,
    PostCol,
    RejectCol,
    Table,
)
from .store import Store, Transaction
from .studyfile import InputSpec
from .threads import LINKED_COLUMNS, LinkSpool, link_replies
from .wording import counted

__all__ = [
    "FileSummary",
    "ImportProgress",
    "ImportSummary",
    "InputSpec",
    "import_inputs",
    "import_paths",
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
    notes: list[str] = field(default_factory=list)  # what a reader says once (likes without time)
    #: duplicate posts whose author or text differs from the version kept (the first one)
    changed_duplicates: int = 0
    likes_without_time: int = 0  # likes kept out of windowed measures (no time in the export)
    # the time span of the file's own rows (posts' created_at, follows' observed_at), duplicates
    # of rows already stored included: what the file covers, for the coverage check
    first: datetime | None = None
    last: datetime | None = None
    timed: int = 0  # rows with a time

    def cover(self, times: pa.ChunkedArray | pa.Array) -> None:
        """Widen the file's time span to hold ``times`` (nulls ignored)."""
        if len(times) == 0 or times.null_count == len(times):
            return
        self.timed += len(times) - times.null_count
        mm = pc.min_max(times)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        self.first = lo if self.first is None else min(self.first, lo)
        self.last = hi if self.last is None else max(self.last, hi)

    def span(self) -> dict[str, Any] | None:
        """Return ``{"first", "last", "rows"}`` (ISO-8601 UTC times, rows with a time), or None
        when no row has a time."""
        if self.first is None or self.last is None:
            return None
        iso = "%Y-%m-%dT%H:%M:%S.%fZ"
        return {
            "first": self.first.strftime(iso),
            "last": self.last.strftime(iso),
            "rows": self.timed,
        }

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
    # reply edges whose parent post was found across files (Reddit: see netsupport.threads)
    linked_replies: int = 0

    def total(self, what: str) -> int:
        """Return a count summed over files (``posts``, ``rejects``, ``rows_read``...)."""
        return sum(getattr(f, what) for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-able values."""
        return {
            "files": [dict(vars(f)) for f in self.files],
            "totals": {k: self.total(k) for k in COUNTS},
            "store": dict(self.store_counts),
            "likes_without_time": self.total("likes_without_time"),
            "linked_replies": self.linked_replies,
        }


class ImportProgress(Protocol):
    """Receives progress while files are read (the CLI draws a bar on stderr)."""

    def start_file(self, path: str, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def end_file(self) -> None: ...


# ---- files --------------------------------------------------------------------------------------


def _expand(path: Path) -> list[tuple[Path, bool]]:
    """Return the files to import for a path: (file, named explicitly)."""
    if not path.exists():
        raise InputFileError(path, "no such file or folder")
    if path.is_dir():
        from .io.archive import is_archive_folder
        from .io.mastodon import is_mastodon_folder

        if is_archive_folder(path) or is_mastodon_folder(path):
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
    if not path.is_file():  # (read more than once: a pipe would hang, a device never end)
        raise InputFileError(
            path, "not a regular file (a pipe, socket or device); save it to a file first"
        )
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


def row_options(fmt: str, options: ReadOptions) -> dict[str, Any]:
    """Return the options that change the rows a file of format ``fmt`` gives (recorded with
    its import: the same file read with other ones is not the same import).

    Examples
    --------
    >>> row_options("followers", ReadOptions(account="@Lane"))
    {'account': 'lane', 'direction': 'followers'}
    >>> row_options("csv", ReadOptions(mapping=(("a", "source"),)))
    {'map': [['a', 'source']], 'header': True, 'columns': []}
    >>> row_options("twitter-v2", ReadOptions(account="lane"))
    {}
    """
    if fmt == "csv":
        mapping = [list(pair) for pair in options.mapping]
        return {"map": mapping, "header": options.header, "columns": list(options.columns)}
    if fmt == "followers":
        from .schema import normalise_handle

        account = normalise_handle(options.account) if options.account else options.account
        return {"account": account, "direction": options.direction}
    if fmt == "mastodon" and options.instance:
        return {"instance": options.instance}
    return {}


def _as_flags(opts: dict[str, Any]) -> str:
    """The command-line options of recorded row options (``--account lane --direction ...``)."""
    flags = [f"--map {col}={fld}" for col, fld in opts.get("map", ())]
    if opts.get("columns"):
        flags.append(f"--columns {','.join(opts['columns'])}")
    elif opts.get("header") is False:
        flags.append("--no-header")
    if "map" in opts and not flags:
        flags.append("no --map")
    for key in ("account", "direction", "instance"):
        if opts.get(key) is not None:
            flags.append(f"--{key} {opts[key]}")
    return " ".join(flags) or "no --instance"


_KEPT = ("posts", "interactions", "follows", "accounts")


def _already_imported(
    tx: Transaction, path: Path, sha256: str, fmt: str, options: ReadOptions
) -> bool:
    """Return True if this file was imported in this format with the same row options (or
    before the store recorded options); raise if it was imported with others and kept rows.

    A file read again with other options (another ``--account``, ``--map``...) would add its
    rows a second time beside the first reading's, which the store cannot take back; unless that
    reading kept nothing (every row a reject), when it is read again.
    """
    wanted = row_options(fmt, options)
    earlier = tx.file_imports(sha256, fmt)
    # (a record without options is from before they were recorded: the same import, as then)
    if any(r.get("options", wanted) == wanted for r in earlier):
        return True
    kept = [r for r in earlier if any(r.get("rows", {}).get(k) for k in _KEPT)]
    if not kept:
        return False
    had, now = _as_flags(kept[0].get("options", {})), _as_flags(wanted)
    if kept[0] in tx.manifest["imports"]:
        reason = (
            f"already imported into this store with {had}; read with {now} its rows would be "
            "added beside those: to read it with these options, import it into another --store "
            "(or a new one with all your files)"
        )
    else:
        reason = f"named twice, with {had} and with {now}: its rows would be counted twice"
    raise InputFileError(path, reason)


def _import_one(
    tx: Transaction,
    path: Path,
    fmt: str,
    options: ReadOptions,
    progress: ImportProgress | None,
    pool: WorkerPool | None,
    linked: LinkSpool | None = None,
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
    if summary.sha256 is not None and _already_imported(tx, path, summary.sha256, fmt, options):
        summary.status = "already imported"
        return summary

    if progress is not None:
        progress.start_file(str(path), size)
        options = replace(options, progress=progress.advance)
    tx.file_tag = summary.path
    try:
        if fmt != "empty":
            handles = _Distinct()  # the accounts this file describes
            with gc_paused():  # (readers make no cycles: see gc_paused)
                for batch in reader_for(fmt)(path, str(path), options):
                    _add_batch(tx, summary, batch, handles, linked)
                    gc.collect(1)  # (the young generations only: the batch just handled)
            summary.accounts = handles.count()
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
            "options": row_options(fmt, options),
            "rows": summary.counts(),
            **({"span": summary.span()} if summary.span() else {}),
        }
    )
    return summary


class _Distinct:
    """Count the distinct values of many string arrays in bounded memory.

    Examples
    --------
    >>> d = _Distinct(compact_rows=2)
    >>> for values in (["a", "b"], ["b", "c"], ["a", None]):
    ...     d.add(pa.chunked_array([values], pa.string()))
    >>> d.count()
    3
    """

    def __init__(self, compact_rows: int = 1_000_000):
        self.chunks: list[pa.Array] = []
        self.rows = 0
        self.unique_rows = 0
        self.compact_rows = compact_rows

    def add(self, values: pa.ChunkedArray) -> None:
        self.chunks += values.chunks
        self.rows += len(values)
        if self.rows > max(self.compact_rows, 2 * self.unique_rows):
            unique = pc.unique(pa.chunked_array(self.chunks, pa.string()))
            self.chunks, self.rows = [unique], len(unique)
            self.unique_rows = self.rows

    def count(self) -> int:
        if not self.chunks:
            return 0
        return pc.count_distinct(pa.chunked_array(self.chunks, pa.string())).as_py()


def _add_batch(
    tx: Transaction,
    summary: FileSummary,
    batch,
    handles: _Distinct,
    linked: LinkSpool | None = None,
) -> None:
    summary.rows_read += batch.rows_read
    if batch.accounts is not None:  # (first: they may name the ids of this batch's id:NNN)
        tx.add_accounts(batch.accounts)
        handles.add(batch.accounts.column(AccountCol.HANDLE))
    summary.notes += batch.notes
    if batch.posts is not None:
        summary.cover(batch.posts.column(PostCol.CREATED_AT))
        kept, dups = tx.add_posts(batch.posts)
        summary.posts += kept.num_rows
        summary.duplicates += dups
        # (kept posts are unique by platform and post id: by post id when one platform)
        platform = kept.column(PostCol.PLATFORM)
        bounds = pc.min_max(platform)
        one_platform = platform.null_count == 0 and bounds["min"] == bounds["max"]
        edges = interactions_arrow(kept, sort=False, mentions_unique=True, ids_unique=one_platform)
        summary.interactions += tx.append(Table.INTERACTIONS, edges)
        if batch.quotes is not None:
            summary.interactions += tx.append(Table.INTERACTIONS, quote_edges(kept, batch.quotes))
        if linked is not None:
            linked.add(kept)  # (replies to link to their parents at the end: threads.py)
    if batch.interactions is not None:  # (likes: interactions that come from no post)
        kept, dups = tx.add_interactions(batch.interactions)
        summary.interactions += kept.num_rows
        summary.duplicates += dups
        summary.likes_without_time += likes_without_time(kept)
    if batch.follows is not None:
        summary.cover(batch.follows.column(FollowCol.OBSERVED_AT))
        kept, dups = tx.add_follows(batch.follows)
        summary.follows += kept.num_rows
        summary.follow_duplicates += dups
        summary.interactions += tx.append(Table.INTERACTIONS, follow_interactions(kept))
    if batch.deletions is not None:  # (marks: the deleted records stay)
        tx.add_deletions(batch.deletions)
    if batch.rejects is not None:
        kept, _ = tx.add_rejects(batch.rejects)  # (a re-imported file's old bad lines: once)
        summary.rejects += kept.num_rows
        room = _SAMPLES - len(summary.reject_samples)
        if room > 0:
            head = kept.slice(0, room).to_pylist()
            summary.reject_samples += [
                (r[RejectCol.SOURCE_FILE], r[RejectCol.SOURCE_LINE], r[RejectCol.REASON])
                for r in head
            ]


def quote_edges(kept: pa.Table, quotes: pa.Table) -> pa.Table:
    """The ``quote`` edges of the kept posts that reply and also quote (the posts table holds
    the reply's target; a reader gives the quoted one in :attr:`Batch.quotes`).

    A quote is matched to its post by ``post_id`` and ``source_line`` (so a duplicate row of the
    same id, which the store did not keep, gives nothing); edges without a target or to the
    author itself are left out, as for the other kinds.

    Examples
    --------
    >>> from netsupport.io.base import QUOTES_SCHEMA
    >>> from netsupport.schema import SCHEMAS
    >>> kept = pa.table({"post_id": ["5"], "author": ["amy"], "source_line": [3],
    ...     "created_at": pa.array([0], pa.timestamp("us", tz="UTC"))})
    >>> quotes = pa.Table.from_pylist([{"post_id": "5", "source_line": 3,
    ...     "target_post_id": "1", "target_author": "force"}], schema=QUOTES_SCHEMA)
    >>> quote_edges(kept, quotes).select(["source", "target", "kind"]).to_pylist()
    [{'source': 'amy', 'target': 'force', 'kind': 'quote'}]
    """

    def keys(t: pa.Table) -> pa.Array:
        line = pc.cast(t.column(PostCol.SOURCE_LINE), pa.string())
        return pc.binary_join_element_wise(t.column(PostCol.POST_ID), line, "\x1f").combine_chunks()

    qkeys = keys(quotes)
    first = pc.equal(pc.index_in(qkeys, value_set=qkeys), pa.array(range(len(qkeys)), pa.int32()))
    at = pc.index_in(qkeys, value_set=keys(kept))
    target = quotes.column(PostCol.TARGET_AUTHOR).combine_chunks()
    author = kept.column(PostCol.AUTHOR).combine_chunks().take(at)
    ok = pc.and_kleene(pc.and_kleene(first, pc.is_valid(at)), pc.not_equal(target, author))
    ok = pc.fill_null(ok, False)
    at, target, author = at.filter(ok), target.filter(ok), author.filter(ok)
    n = len(at)
    schema = SCHEMAS[Table.INTERACTIONS]
    return pa.Table.from_arrays(
        [
            author,
            target,
            pa.repeat(pa.scalar(IKind.QUOTE.value), n),
            kept.column(PostCol.POST_ID).combine_chunks().take(at),
            kept.column(PostCol.CREATED_AT).combine_chunks().take(at),
            pa.repeat(pa.scalar(1.0), n),
        ],
        schema=schema,
    )


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
    max_compression_ratio: float = ReadOptions.max_compression_ratio,
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
    files = []
    for spec in specs:
        found = _expand(Path(spec.path))
        if not found:  # (a mistyped or not yet filled folder: say so rather than import nothing)
            raise InputFileError(Path(spec.path), "an empty folder: no files to import")
        files += [(spec, path, explicit) for path, explicit in found]
    # Formats are told first, so that the worker processes, forked next, inherit the readers'
    # modules instead of each importing them again.
    base = {
        id(spec): ReadOptions(
            mapping=tuple(spec.mapping),
            header=spec.header and not spec.columns,
            columns=tuple(spec.columns),
            account=spec.account,
            direction=spec.direction,
            instance=spec.instance,
            workers=workers,
            max_archive_bytes=max_archive_bytes,
            max_compression_ratio=max_compression_ratio,
        )
        for spec in specs
    }
    formats: list[str | UnknownFormat] = []
    for spec, path, explicit in files:
        try:
            auto = spec.format == "auto"
            formats.append(detect_format(path, base[id(spec)]) if auto else spec.format)
        except UnknownFormat as exc:
            if explicit:
                raise
            formats.append(exc)
    for fmt in set(formats):
        if type(fmt) is str and fmt != "empty":
            reader_for(fmt)
    # Worker processes start now, before this process has any other thread (see io.pool).
    n_workers = worker_count(workers)
    big = any(p.is_file() and p.stat().st_size >= PARALLEL_MIN_BYTES for _, p, _ in files)
    pool = WorkerPool(n_workers) if big and n_workers > 1 else None
    try:
        with store.transaction() as tx:
            linked = LinkSpool(tx.scratch)
            for (spec, path, _), fmt in zip(files, formats, strict=True):
                options = replace(
                    base[id(spec)],
                    pool=pool,
                    # (workers leave results as files; not on Windows, which cannot delete
                    # a file that is memory-mapped)
                    spool=str(tx.scratch()) if pool is not None and os.name != "nt" else None,
                )
                if isinstance(fmt, UnknownFormat):
                    summary.files.append(
                        FileSummary(str(path), "unknown", status="skipped", reason=fmt.reason)
                    )
                    continue
                summary.files.append(_import_one(tx, path, fmt, options, progress, pool, linked))
            for edges in link_replies(
                lambda: store.iter_parts(Table.POSTS, LINKED_COLUMNS),
                linked,
                store.counts().get(Table.POSTS.value, 0),
                tx.scratch,
            ):
                summary.linked_replies += tx.append(Table.INTERACTIONS, edges)
        for f in summary.files:  # (known at commit)
            f.changed_duplicates = tx.changed_duplicates.get(f.path, 0)
    except KeyboardInterrupt:  # (Ctrl-C or SIGTERM: the workers' parsing is not waited for)
        if pool is not None:
            pool.stop()
        raise
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
    max_compression_ratio: float = ReadOptions.max_compression_ratio,
    header: bool = True,
    columns: Sequence[str] = (),
    instance: str | None = None,
    handles: str | os.PathLike[str] | None = None,
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
    max_compression_ratio : float
        Cap on one archive member's decompressed / compressed size above 8 MiB (0: none).
    header, columns
        For CSV: ``header=False`` when the first row is data (columns named by position,
        ``0``, ``1``..., for ``mapping``), or ``columns`` to name them (implies no header).
    instance : str or None
        Mastodon API statuses: the instance host for local accounts named without one.
    handles : path, optional
        A ``did,handle`` CSV naming Bluesky accounts (imported with the files, as ``bluesky``).

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
            path=Path(p),
            format=format,
            mapping=mapping,
            account=account,
            direction=direction,
            header=header,
            columns=tuple(columns),
            instance=instance,
        )
        for p in paths
    ]
    if handles is not None:
        specs.append(InputSpec(path=Path(handles), format="bluesky"))
    return import_inputs(
        store,
        specs,
        workers=workers,
        progress=progress,
        max_archive_bytes=max_archive_bytes,
        max_compression_ratio=max_compression_ratio,
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
    lines += [
        f"{f.path}: "
        + counted(f.changed_duplicates, "duplicate post differs", "duplicate posts differ")
        + " from the version already kept (author or text); the first version is kept"
        for f in summary.files
        if f.changed_duplicates
    ]
    notes = [f"  {f.path}: {note}" for f in summary.files for note in f.notes]
    if notes:
        lines.append("notes:")
        lines += notes
    samples = [s for f in summary.files for s in f.reject_samples]
    if samples:
        lines.append("rejected rows (first 5 per file; all are in the store's rejects table):")
        lines += [f"  {src}:{line}: {reason}" for src, line, reason in samples]
    if summary.linked_replies:
        lines.append(
            f"{summary.linked_replies} replies linked to their parent post, found in this import "
            "or the store (Reddit comments name only their parent's id)"
        )
    if summary.store_counts:
        counts = ", ".join(
            f"{k} {v}"
            for k, v in summary.store_counts.items()
            if v or k != Table.DELETIONS  # (deletions only where a platform has them)
        )
        lines.append(f"store now holds: {counts}")
    return "\n".join(lines)


def _status(f: FileSummary) -> str:
    return f"{f.status}: {f.reason}" if f.reason else f.status


def format_info(info: dict[str, Any]) -> str:
    """Return :meth:`netsupport.store.Store.summary` as plain text."""
    lines = [f"store: {info['root']}", "rows per table:"]
    lines += [
        f"  {name:<13}{count:>12}"
        for name, count in info["counts"].items()
        if count or name != Table.DELETIONS  # (as in the import summary)
    ]
    span = info["time_span"]
    if span["first"] is not None:
        lines.append(f"posts from {span['first']} to {span['last']}")
    if info["top_authors"]:
        lines.append("top authors (posts):")
        lines += [f"  {a['author']:<24}{a['posts']:>10}" for a in info["top_authors"]]
    if info.get("deletions"):
        lines.append("delete events (the records stay; see docs):")
        lines += [
            f"  {d['collection']:<24}{d['deletes']:>8} deleted, {d['kept_records']} of them "
            "in the store"
            for d in info["deletions"]
        ]
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
