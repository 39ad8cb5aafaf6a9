"""Replies whose parent arrives in another file: link each to its parent's author at import.

A Reddit comment names its parent by id (``parent_id``: ``t1_`` a comment, ``t3_`` a submission),
not by author, and the parent is often in another file (``<sub>_submissions.zst`` beside
``<sub>_comments.zst``) or in a later import. The Reddit reader therefore stores a reply with its
``target_post_id`` and no ``target_author``, and every import ends with one linking pass
(:func:`reply_edges`): for the platforms in :data:`LINKED_PLATFORMS`, every reply whose parent post
is in the store, where the reply or its parent (or both) came in this import, gives one ``reply``
edge reply author -> parent author (with the reply's post id and time).

Each (reply, parent) pair is linked exactly once, by the import in which the second of the two
arrives; an import that adds nothing (a re-import) links nothing. So the interactions do not
depend on the order in which files are imported, and a reply whose parent never arrives keeps
its ``target_post_id`` and no edge. As for every reply, a reply to oneself or to an author that
is not an account (``[deleted]``) gives no edge.

Examples
--------
>>> import pyarrow as pa
>>> ts = pa.array([0, 1, 2], pa.timestamp("us", tz="UTC"))
>>> old = pa.table({"platform": ["reddit"], "post_id": ["t1_c"], "author": ["reddit:cat"],
...     "kind": ["reply"], "target_post_id": ["t3_s"], "created_at": ts[2:]})
>>> new = pa.table({"platform": ["reddit", "reddit"], "post_id": ["t3_s", "t1_d"],
...     "author": ["reddit:sam", "reddit:dan"], "kind": ["post", "reply"],
...     "target_post_id": [None, "t1_c"], "created_at": ts[:2]})
>>> e = reply_edges(old, new)
>>> list(zip(e["source"].to_pylist(), e["target"].to_pylist(), e["post_id"].to_pylist()))
[('reddit:dan', 'reddit:cat', 't1_d'), ('reddit:cat', 'reddit:sam', 't1_c')]
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .schema import SCHEMAS, IKind, InteractionCol, PostCol, PostKind, Table

__all__ = [
    "LINKED_COLUMNS",
    "LINKED_PLATFORMS",
    "LinkSpool",
    "link_replies",
    "linked_posts",
    "reply_edges",
]

#: Platforms whose replies name only their parent post, linked by :func:`reply_edges`.
LINKED_PLATFORMS = ("reddit",)

#: The post columns the linking pass reads.
LINKED_COLUMNS = [
    PostCol.PLATFORM,
    PostCol.POST_ID,
    PostCol.AUTHOR,
    PostCol.KIND,
    PostCol.TARGET_POST_ID,
    PostCol.CREATED_AT,
]

_ISCHEMA = SCHEMAS[Table.INTERACTIONS]


def linked_posts(posts: pa.Table) -> pa.Table | None:
    """Return the rows of ``posts`` of a linked platform (only :data:`LINKED_COLUMNS`), or None."""
    if posts.num_rows == 0:
        return None
    platform = posts.column(PostCol.PLATFORM)
    mask = pc.fill_null(pc.is_in(platform, value_set=pa.array(LINKED_PLATFORMS)), False)
    if not pc.any(mask).as_py():
        return None
    return posts.select(LINKED_COLUMNS).filter(mask)


def _flagged(table: pa.Table | None, is_new: bool) -> pa.Table | None:
    if table is None or table.num_rows == 0:
        return None
    t = table.select(LINKED_COLUMNS)
    return t.append_column("is_new", pa.repeat(pa.scalar(is_new), t.num_rows))


def _children(posts: pa.Table) -> pa.Table:
    """The replies among flagged posts (kind reply, a target post id)."""
    mask = pc.and_(
        pc.equal(posts.column(PostCol.KIND), PostKind.REPLY.value),
        pc.is_valid(posts.column(PostCol.TARGET_POST_ID)),
    )
    return posts.filter(pc.fill_null(mask, False))


def _parents(posts: pa.Table) -> pa.Table:
    return pa.table(
        {
            "p_platform": posts.column(PostCol.PLATFORM),
            "p_id": posts.column(PostCol.POST_ID),
            "p_author": posts.column(PostCol.AUTHOR),
            "p_new": posts.column("is_new"),
        }
    )


def reply_edges(old: pa.Table | None, new: pa.Table | None) -> pa.Table:
    """Return the reply edges linking replies to parents where either is in ``new``.

    Parameters
    ----------
    old : pa.Table or None
        Posts of linked platforms already in the store (:data:`LINKED_COLUMNS`).
    new : pa.Table or None
        Posts of linked platforms added by this import (kept, i.e. not duplicates).

    Returns
    -------
    pa.Table
        Canonical interactions, sorted (created_at, post_id, source, target).
    """
    tables = [t for t in (_flagged(old, False), _flagged(new, True)) if t is not None]
    if new is None or new.num_rows == 0:
        return _ISCHEMA.empty_table()
    posts = pa.concat_tables(tables).combine_chunks()
    return _join(_children(posts), _parents(posts))


def _join(replies: pa.Table, parents: pa.Table) -> pa.Table:
    """Reply edges of ``replies`` (flagged posts) whose parent is among ``parents``."""
    if replies.num_rows == 0 or parents.num_rows == 0:
        return _ISCHEMA.empty_table()
    joined = replies.join(
        parents,
        keys=[PostCol.PLATFORM.value, PostCol.TARGET_POST_ID.value],
        right_keys=["p_platform", "p_id"],
        join_type="inner",
        use_threads=False,
    )
    if joined.num_rows == 0:
        return _ISCHEMA.empty_table()
    author, p_author = joined.column(PostCol.AUTHOR), joined.column("p_author")
    keep = pc.and_(
        pc.or_(joined.column("is_new"), joined.column("p_new")),
        pc.fill_null(pc.not_equal(author, p_author), False),  # (null on either side: no edge)
    )
    joined = joined.filter(keep)
    n = joined.num_rows
    created = joined.column(PostCol.CREATED_AT).cast(_ISCHEMA.field(InteractionCol.CREATED_AT).type)
    edges = pa.Table.from_arrays(
        [
            joined.column(PostCol.AUTHOR),
            joined.column("p_author"),
            pa.repeat(pa.scalar(IKind.REPLY.value), n),
            joined.column(PostCol.POST_ID),
            created,
            pa.repeat(pa.scalar(1.0), n),
        ],
        schema=_ISCHEMA,
    )
    if n > 1:
        order = pc.sort_indices(
            edges,
            sort_keys=[
                (InteractionCol.CREATED_AT.value, "ascending"),
                (InteractionCol.POST_ID.value, "ascending"),
                (InteractionCol.SOURCE.value, "ascending"),
                (InteractionCol.TARGET.value, "ascending"),
            ],
        )
        edges = edges.take(order)
    return edges


# ---- bounded memory: the new posts spilled to disk, the join done bucket by bucket -------------

#: Posts (store and import together) above which the join is done in buckets of about this many.
BUCKET_ROWS = 100_000


class LinkSpool:
    """The posts of linked platforms an import adds, written to a scratch file as they come.

    Examples
    --------
    >>> import tempfile
    >>> spool = LinkSpool(lambda: Path(tempfile.mkdtemp()))
    >>> spool.rows
    0
    """

    def __init__(self, folder: Callable[[], Path]):
        self.folder = folder  # (called once, when a first post is kept)
        self.path: Path | None = None
        self._sink: pa.ipc.RecordBatchFileWriter | None = None
        self.rows = 0

    def add(self, posts: pa.Table) -> None:
        """Keep the rows of ``posts`` of a linked platform (the importer's kept posts)."""
        found = linked_posts(posts)
        if found is None:
            return
        if self._sink is None:
            self.path = Path(self.folder()) / "linked-posts.arrow"
            self._sink = pa.ipc.new_file(str(self.path), found.schema)
        self._sink.write_table(found)
        self.rows += found.num_rows

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def batches(self) -> Iterator[pa.Table]:
        """The spilled posts, a record batch at a time (memory-mapped)."""
        self.close()
        if not self.rows:
            return
        with pa.memory_map(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield pa.Table.from_batches([reader.get_batch(i)])


def _bucket_of(ids: pa.ChunkedArray | pa.Array, buckets: int) -> np.ndarray:
    """A bucket in ``[0, buckets)`` per id from its last two characters (-1 for null)."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    tail = pc.utf8_slice_codeunits(ids, -2).dictionary_encode()
    lookup = np.array(
        [zlib.crc32(v.encode()) % buckets for v in tail.dictionary.to_pylist()] or [0],
        dtype=np.int64,
    )
    idx = tail.indices.to_numpy(zero_copy_only=False)
    out = np.full(len(ids), -1, dtype=np.int64)
    valid = ~np.asarray(pc.is_null(ids).to_numpy(zero_copy_only=False), dtype=bool)
    out[valid] = lookup[idx[valid].astype(np.int64)]
    return out


def link_replies(
    stored: Callable[[], Iterator[pa.Table]],
    spool: LinkSpool,
    stored_rows: int,
    scratch: Callable[[], Path],
) -> Iterator[pa.Table]:
    """Yield the reply edges of an import, in memory bounded by :data:`BUCKET_ROWS`.

    ``stored`` gives the committed posts part by part (any columns ⊇ :data:`LINKED_COLUMNS`;
    other platforms are skipped); ``spool`` holds this import's. Up to ``BUCKET_ROWS`` posts
    in all, one join; above, the rows are first routed to bucket files by the parent id (a
    reply by its target id, a parent by its own id), then each bucket is joined alone: an
    external hash join, whose result is the same rows.
    """
    if not spool.rows:
        return
    total = spool.rows + stored_rows
    if total <= BUCKET_ROWS:
        old = [f for part in stored() if (f := linked_posts(part)) is not None]
        new = list(spool.batches())
        yield reply_edges(pa.concat_tables(old) if old else None, pa.concat_tables(new))
        return
    buckets = min(1296, -(-total // BUCKET_ROWS))
    folder = Path(scratch()) / "link-buckets"
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[tuple[str, int], pa.ipc.RecordBatchFileWriter] = {}

    def route(posts: pa.Table) -> None:
        for role, table, key in (
            ("c", _children(posts), PostCol.TARGET_POST_ID),
            ("p", posts, PostCol.POST_ID),
        ):
            if role == "p":
                table = _parents(table)
                key = "p_id"
            if table.num_rows == 0:
                continue
            b = _bucket_of(table.column(key), buckets)
            for k in np.unique(b[b >= 0]).tolist():
                rows = table.filter(pa.array(b == k))
                w = writers.get((role, k))
                if w is None:
                    w = writers[(role, k)] = pa.ipc.new_file(
                        str(folder / f"{role}-{k:04d}.arrow"), rows.schema
                    )
                w.write_table(rows)

    for part in stored():
        found = _flagged(linked_posts(part), False)
        if found is not None:
            route(found)
    for batch in spool.batches():
        route(_flagged(batch, True))
    for w in writers.values():
        w.close()
    for k in range(buckets):
        if ("c", k) not in writers or ("p", k) not in writers:
            continue
        with (
            pa.memory_map(str(folder / f"c-{k:04d}.arrow")) as c,
            pa.memory_map(str(folder / f"p-{k:04d}.arrow")) as p,
        ):
            edges = _join(pa.ipc.open_file(c).read_all(), pa.ipc.open_file(p).read_all())
        if edges.num_rows:
            yield edges
