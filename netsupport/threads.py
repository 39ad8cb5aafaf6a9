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

import pyarrow as pa
import pyarrow.compute as pc

from .schema import SCHEMAS, IKind, InteractionCol, PostCol, PostKind, Table

__all__ = ["LINKED_COLUMNS", "LINKED_PLATFORMS", "linked_posts", "reply_edges"]

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
    if new is None or new.num_rows == 0:
        return _ISCHEMA.empty_table()
    tables = []
    for table, is_new in ((old, False), (new, True)):
        if table is not None and table.num_rows:
            t = table.select(LINKED_COLUMNS)
            t = t.append_column("is_new", pa.repeat(pa.scalar(is_new), t.num_rows))
            tables.append(t)
    posts = pa.concat_tables(tables).combine_chunks()
    kind = posts.column(PostCol.KIND)
    replies = posts.filter(
        pc.fill_null(
            pc.and_(
                pc.equal(kind, PostKind.REPLY.value),
                pc.is_valid(posts.column(PostCol.TARGET_POST_ID)),
            ),
            False,
        )
    )
    parents = pa.table(
        {
            "p_platform": posts.column(PostCol.PLATFORM),
            "p_id": posts.column(PostCol.POST_ID),
            "p_author": posts.column(PostCol.AUTHOR),
            "p_new": posts.column("is_new"),
        }
    )
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
