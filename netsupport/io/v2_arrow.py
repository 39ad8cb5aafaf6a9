"""Fast path for blocks of API v2 tweets, one per line: Arrow's JSON reader plus Arrow kernels.

:class:`~netsupport.io.twitter_json.TweetParser` defines what a line means. This module gives
the same rows (posts, accounts, rejects) for the common case, a block where every line is a v2
tweet with its ``author`` embedded (``twarc2 flatten`` output), about three times faster: the
JSON is parsed by Arrow in C++ against an explicit schema of the fields used, and the fields are
then extracted with vectorised kernels. Whenever a block holds anything else (a response page, a
v1.1 tweet, a malformed line, a missing field, a value of another type, ``NaN``, two JSON values
on a line...) :func:`parse_v2_block` returns ``None`` and the caller parses the block line by
line with ``TweetParser``, which gives the exact rejects. A property test checks that both paths
give identical tables on random and mutated tweets.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..schema import SCHEMAS, PostKind, Table
from .base import PLATFORM_TWITTER, Batch, RejectRows
from .timestamps import parse_column

__all__ = ["parse_v2_block"]

_S = pa.string()
_USER = pa.struct(
    [
        ("id", _S),
        ("username", _S),
        ("name", _S),
        ("description", _S),
        ("public_metrics", pa.struct([("followers_count", pa.int64())])),
    ]
)
#: Every field TweetParser.v2 reads, with the only type it accepts; the keys that send a line
#: elsewhere (pages, v1.1, archive wrappers) are typed null so that any value fails the block.
SCHEMA = pa.schema(
    [
        ("id", _S),
        ("text", _S),
        ("created_at", _S),
        ("author_id", _S),
        ("lang", _S),
        ("author", _USER),
        ("note_tweet", pa.struct([("text", _S)])),
        (
            "entities",
            pa.struct(
                [
                    ("mentions", pa.list_(pa.struct([("username", _S), ("id", _S)]))),
                    ("hashtags", pa.list_(pa.struct([("tag", _S)]))),
                ]
            ),
        ),
        ("referenced_tweets", pa.list_(pa.struct([("type", _S), ("id", _S), ("author", _USER)]))),
        ("in_reply_to_user_id", _S),
        ("in_reply_to_user", _USER),
        ("data", pa.null()),
        ("includes", pa.null()),
        ("tweet", pa.null()),
        ("user", pa.null()),
        ("id_str", pa.null()),
    ]
)
_PARSE = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")
_POSTS = SCHEMAS[Table.POSTS]
_ACCOUNTS = SCHEMAS[Table.ACCOUNTS]
_REPOST, _REPLY, _QUOTE, _POST = (
    PostKind.REPOST.value,
    PostKind.REPLY.value,
    PostKind.QUOTE.value,
    PostKind.POST.value,
)


def _lines_if_simple(data: bytes) -> int | None:
    """Number of lines when none is blank (then row i is line i + 1), else None."""
    probe = b"\n" + data + (b"" if data.endswith(b"\n") else b"\n")
    if _BLANK_LINE.search(probe):
        return None
    return probe.count(b"\n") - 1


def _joined(lists: pa.ListArray, lowered: pa.ListArray) -> pa.Array:
    """Space-joined handles per row, duplicates removed (first kept); null for empty lists."""
    lengths = pc.list_value_length(lists)
    joined = pc.binary_join(lowered, " ")
    multi = pc.indices_nonzero(pc.greater(pc.fill_null(lengths, 0), 1)).to_numpy()
    if len(multi):
        values = joined.to_pylist()
        for i, items in zip(multi, lowered.take(pa.array(multi)).to_pylist(), strict=True):
            values[i] = " ".join(dict.fromkeys(items))
        joined = pa.array(values, _S)
    empty = pc.equal(pc.fill_null(lengths, 0), 0)
    return pc.if_else(empty, pa.nulls(len(joined), _S), joined)


def _python_lower(values: pa.Array) -> pa.Array:
    """str.lower() exactly (Arrow's utf8_lower differs from Python for a few code points)."""
    if pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py():
        return pc.utf8_lower(values)
    return pa.array([v.lower() if v is not None else None for v in values.to_pylist()], _S)


def _lower_list_exact(lists: pa.ListArray, field: str):
    values = lists.values.field(field)
    start, end = lists.offsets[0].as_py(), lists.offsets[-1].as_py()
    if values.slice(start, end - start).null_count:
        return None
    lowered = _python_lower(values)
    return pa.ListArray.from_arrays(lists.offsets, lowered, mask=lists.is_null())


def _first_per_row(parents: np.ndarray, positions: np.ndarray, n: int, last: bool) -> np.ndarray:
    """For each row, the first (or last) position among ``positions`` (sorted), else -1."""
    out = np.full(n, -1, dtype=np.int64)
    if len(positions):
        rows = parents[positions]
        if last:
            rows, positions = rows[::-1], positions[::-1]
        uniq, idx = np.unique(rows, return_index=True)
        out[uniq] = positions[idx]
    return out


def _nonempty(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.nulls(len(values), values.type), values)


def parse_v2_block(data: bytes, source: str) -> tuple[Batch, int] | None:
    """Parse a block of v2 tweet lines; return (batch, line count), or None for the slow path.

    The batch's ``source_line`` values count from 1 at the start of ``data``.
    """
    if not data or data[:1] != b"{" or b"NaN" in data or b"Infinity" in data:
        return None  # (Arrow reads NaN and Infinity, orjson refuses them)
    try:
        data.decode("utf-8")  # orjson refuses a line with invalid UTF-8 even in unused fields
    except UnicodeDecodeError:
        return None
    nlines = _lines_if_simple(data)
    if nlines is None:
        return None
    try:
        t = pj.read_json(
            pa.py_buffer(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=_PARSE,
        )
    except (pa.ArrowException, ValueError, UnicodeDecodeError):
        return None
    if t.num_rows != nlines:  # e.g. two JSON values on one line
        return None
    t = t.combine_chunks()
    n = t.num_rows
    if n == 0:
        return None
    col = {name: t.column(name).chunk(0) for name in t.column_names}
    if any(col[k].null_count != n for k in ("data", "includes", "tweet", "user", "id_str")):
        return None
    ids = col["id"]
    author = col["author"]
    if ids.null_count or author.null_count:
        return None
    usernames = author.field("username")
    if usernames.null_count or not pc.all(pc.string_is_ascii(usernames)).as_py():
        return None
    if pc.any(pc.equal(ids, "")).as_py() or pc.any(pc.equal(usernames, "")).as_py():
        return None
    handle = pc.utf8_lower(usernames)
    author_id = pc.coalesce(col["author_id"], author.field("id"))
    note = col["note_tweet"]
    text = pc.coalesce(note.field("text"), col["text"])

    ent = col["entities"]
    mention_lists = ent.field("mentions")
    m = _lower_list_exact(mention_lists, "username")
    tags = _lower_list_exact(ent.field("hashtags"), "tag")
    if m is None or tags is None:
        return None
    mentions = _joined(mention_lists, m)
    hashtags = _joined(ent.field("hashtags"), tags)

    # kind: the first retweeted ref, else the last replied_to, else the first quoted
    refs = col["referenced_tweets"]
    rstart, rend = refs.offsets[0].as_py(), refs.offsets[-1].as_py()
    rvalues = refs.values.slice(rstart, rend - rstart)
    rtypes = rvalues.field("type")
    if rtypes.null_count:
        return None
    parents = pc.list_parent_indices(refs).to_numpy()
    types = rtypes.to_numpy(zero_copy_only=False)
    first_rt = _first_per_row(parents, np.flatnonzero(types == "retweeted"), n, last=False)
    last_rep = _first_per_row(parents, np.flatnonzero(types == "replied_to"), n, last=True)
    first_q = _first_per_row(parents, np.flatnonzero(types == "quoted"), n, last=False)
    ref_pos = np.where(first_rt >= 0, first_rt, np.where(last_rep >= 0, last_rep, first_q))
    kind_np = np.where(
        first_rt >= 0,
        _REPOST,
        np.where(last_rep >= 0, _REPLY, np.where(first_q >= 0, _QUOTE, _POST)),
    )
    kind = pa.array(kind_np.astype(object), _S)
    has_ref = ref_pos >= 0
    take = pa.array(np.where(has_ref, ref_pos, 0), mask=~has_ref) if n else pa.array([], pa.int64())
    target_post_id = _nonempty(rvalues.field("id").take(take)) if len(rvalues) else pa.nulls(n, _S)
    ref_authors = rvalues.field("author").take(take) if len(rvalues) else pa.nulls(n, _USER)
    ref_name = ref_authors.field("username")
    target_author = _nonempty(_python_lower(ref_name))

    # replies without a target from the ref: in_reply_to_user, else a mention with that id
    reply_user = col["in_reply_to_user"]
    need_reply = np.flatnonzero(
        (kind_np == _REPLY) & pc.is_null(target_author).to_numpy(zero_copy_only=False)
    )
    need_rt = np.flatnonzero(
        (kind_np == _REPOST) & pc.is_null(target_author).to_numpy(zero_copy_only=False)
    )
    used_reply_user = np.zeros(n, dtype=bool)
    if len(need_reply) or len(need_rt):
        targets = target_author.to_pylist()
        ru = reply_user.field("username").to_pylist() if len(need_reply) else None
        ru_valid = reply_user.is_valid().to_numpy(zero_copy_only=False)
        for i in need_reply:
            if ru_valid[i]:
                used_reply_user[i] = True
                name = ru[i]
                targets[i] = name.lower() if name else None
                continue
            uid = col["in_reply_to_user_id"][int(i)].as_py()
            if uid is None:
                continue
            for men in mention_lists[int(i)].as_py() or ():
                if men.get("id") == uid:
                    name = men.get("username")
                    targets[i] = name.lower() if name else None
                    break
        texts = text.take(pa.array(need_rt)).to_pylist() if len(need_rt) else []
        from .twitter_json import _rt_target

        for i, tx in zip(need_rt, texts, strict=True):
            targets[i] = _rt_target(tx)
        target_author = pa.array(targets, _S)

    created, bad = _timestamps(col["created_at"])
    lines = pa.array(np.arange(1, n + 1, dtype=np.int64))
    posts = pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(PLATFORM_TWITTER), n),
            ids,
            handle,
            author_id,  # (TweetParser keeps an empty author_id string as it is)
            created,
            text,
            kind,
            target_post_id,
            target_author,
            mentions,
            hashtags,
            col["lang"],
            pa.repeat(pa.scalar(source, _S), n),
            lines,
        ],
        schema=_POSTS,
    )
    rejects = RejectRows(source)
    if bad:
        raw_lines = data.split(b"\n")
        for i in sorted(bad):
            rejects.add(i + 1, bad[i], raw_lines[i])
        keep = np.ones(n, dtype=bool)
        keep[list(bad)] = False
        posts = posts.filter(pa.array(keep))

    accounts = _accounts(author, ref_authors, reply_user, used_reply_user, n)
    return Batch(posts=posts, accounts=accounts, rejects=rejects.take(), rows_read=n), nlines


def _timestamps(values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """Cast ISO-8601 strings in one go; anything else the way PostRows reads it."""
    if not values.null_count:
        try:
            return values.cast(_POSTS.field("created_at").type), {}
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return parse_column(values.to_pylist())


def _accounts(author, ref_authors, reply_user, used_reply_user, n) -> pa.Table | None:
    """Accounts in TweetParser's order: per row the ref's author, the replied-to user, the
    author; the first object per exact username wins, then per lower-cased handle the first
    non-null value of each field."""
    order = np.arange(n, dtype=np.int64) * 3
    pieces = []
    for users, slot, mask in (
        (ref_authors, 0, None),
        (reply_user, 1, used_reply_user),
        (author, 2, None),
    ):
        valid = users.is_valid()
        if mask is not None:
            valid = pc.and_(valid, pa.array(mask))
        names = users.field("username")
        valid = pc.and_(valid, pc.fill_null(pc.not_equal(names, ""), False))
        idx = pc.indices_nonzero(valid)
        if len(idx) == 0:
            continue
        sel = users.take(idx)
        followers = sel.field("public_metrics").field("followers_count")
        pieces.append(
            pa.table(
                {
                    "o": pa.array(order[idx.to_numpy()] + slot),
                    "raw": sel.field("username"),
                    "account_id": _nonempty(sel.field("id")),
                    "name": sel.field("name"),
                    "description": sel.field("description"),
                    "followers_count": pc.if_else(
                        pc.less(followers, 0), pa.nulls(len(followers), pa.int64()), followers
                    ),
                }
            )
        )
    if not pieces:
        return None
    allu = pa.concat_tables(pieces)
    allu = allu.take(pc.sort_indices(allu.column("o")))
    # first object per exact username
    firsts = allu.group_by("raw", use_threads=False).aggregate([("o", "min")])
    keep = pc.is_in(allu.column("o"), value_set=firsts.column("o_min"))
    allu = allu.filter(keep)
    allu = allu.append_column("handle", _python_lower(allu.column("raw").combine_chunks()))
    fields = ["account_id", "name", "description", "followers_count"]
    merged = allu.group_by("handle", use_threads=False).aggregate(
        [(f, "first") for f in fields] + [("o", "min")]
    )
    merged = merged.take(pc.sort_indices(merged.column("o_min")))  # groups come in any order
    return pa.Table.from_arrays(
        [merged.column("handle")]
        + [merged.column(f"{f}_first") for f in fields]
        + [pa.nulls(merged.num_rows, _S)],
        schema=_ACCOUNTS,
    )
