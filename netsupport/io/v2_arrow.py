"""Fast path for blocks of API v2 JSON lines: Arrow's JSON reader plus Arrow kernels.

:class:`~netsupport.io.twitter_json.TweetParser` defines what a line means. This module gives
the same rows (posts, accounts, rejects) for the two common cases, about three times faster: a
block where every line is a v2 tweet with its ``author`` embedded (``twarc2 flatten`` output),
and a block where every line is a v2 response page (``twarc2 search`` output), whose tweets'
authors and targets are looked up in the page's ``includes`` (per page; the last of repeated
ids wins, as in TweetParser's dicts). The JSON is parsed by Arrow in C++ against an explicit
schema of the fields used, and the fields are then extracted with vectorised kernels. Whenever
a line holds anything else (a v1.1 tweet, a malformed line, a missing field, a value of another
type, ``NaN``, two JSON values on a line, a page with a tweet the line parser would reject...)
:func:`parse_v2_block` says which line, or returns ``None``, and the caller parses those lines
with ``TweetParser``, which gives the exact rejects. Property tests check that both paths give
identical tables on random and mutated tweets and pages.

Two known differences, both in fields netsupport does not read (in a field it reads, the types
differ and the line goes to the line parser): Arrow's reader accepts the non-standard literals
``NaN`` and ``Infinity``, and nesting deeper than 1,024 levels (orjson's limit; JSON sets none),
so such a line is imported here where the line parser rejects it as malformed JSON. Searching
every block for them would cost more than all the rest; twarc never writes either.
"""

from __future__ import annotations

import re

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..schema import SCHEMAS, PostKind, Table
from .base import PLATFORM_TWITTER, QUOTES_SCHEMA, Batch, RejectRows, loads
from .timestamps import all_in_range, parse_column

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
#: A tweet of a page's ``data``: the same fields (in a page the keys of other formats mean nothing).
_TWEET = pa.struct(
    [f for f in SCHEMA if f.name not in ("data", "includes", "tweet", "user", "id_str")]
)
#: A v2 response page (``twarc2`` output): TweetParser.page reads ``data`` and ``includes``.
PAGE_SCHEMA = pa.schema(
    [
        ("data", pa.list_(_TWEET)),
        (
            "includes",
            pa.struct(
                [
                    ("users", pa.list_(_USER)),
                    (
                        "tweets",
                        pa.list_(pa.struct([("id", _S), ("author_id", _S), ("author", _USER)])),
                    ),
                ]
            ),
        ),
    ]
)
_PAGE_PARSE = pj.ParseOptions(explicit_schema=PAGE_SCHEMA, unexpected_field_behavior="ignore")
_POSTS = SCHEMAS[Table.POSTS]
_KINDS = pa.array(
    [PostKind.POST.value, PostKind.REPLY.value, PostKind.REPOST.value, PostKind.QUOTE.value]
)
_ACCOUNTS = SCHEMAS[Table.ACCOUNTS]


def _joined(lists: pa.ListArray, lowered: pa.ListArray) -> pa.Array:
    """Space-joined handles per row, duplicates removed (first kept); null for empty lists."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0)
    joined = pc.binary_join(lowered, " ")
    longest = pc.max(lengths).as_py() or 0
    if longest > 1:
        # a value equal to one of the previous (longest - 1) values of the same row
        flat = pc.list_flatten(lowered)
        rows = pc.list_parent_indices(lowered)
        dup_rows = []
        for d in range(1, longest):
            same = pc.and_(
                pc.equal(flat.slice(d), flat.slice(0, len(flat) - d)),
                pc.equal(rows.slice(d), rows.slice(0, len(rows) - d)),
            )
            if pc.any(same).as_py():
                dup_rows.append(rows.slice(d).filter(same))
        if dup_rows:
            fix = pc.unique(pa.chunked_array(dup_rows)).to_pylist()
            values = joined.to_pylist()
            for i, items in zip(fix, lowered.take(pa.array(fix)).to_pylist(), strict=True):
                values[i] = " ".join(dict.fromkeys(items))
            joined = pa.array(values, _S)
    return pc.if_else(pc.equal(lengths, 0), pa.nulls(len(joined), _S), joined)


def _python_lower(values: pa.Array) -> pa.Array:
    """str.lower() exactly (Arrow's utf8_lower differs from Python for a few code points)."""
    if pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py():
        return pc.ascii_lower(values)  # (all ASCII: the same, ten times faster)
    return pa.array([v.lower() if v is not None else None for v in values.to_pylist()], _S)


def _lower_list_exact(lists: pa.ListArray, field: str) -> pa.ListArray | int:
    """Lower-cased list<string> of a list<struct> field, or the row of a missing value."""
    values = lists.values.field(field)
    start, end = lists.offsets[0].as_py(), lists.offsets[-1].as_py()
    used = values.slice(start, end - start)
    if used.null_count:
        return _first_null_parent(lists, used)
    return pa.ListArray.from_arrays(lists.offsets, _python_lower(values), mask=lists.is_null())


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
    """``values`` with empty strings as nulls."""
    empty = pc.equal(values, "")
    if not pc.any(empty).as_py():  # (the usual case: no copy)
        return values
    return pc.if_else(empty, pa.nulls(len(values), values.type), values)


_ROW_IN_ERROR = re.compile(r"in row (\d+)")


def _first(mask: pa.Array) -> int:
    """Index of the first true value of a boolean array (nulls count as false)."""
    return int(pc.indices_nonzero(pc.fill_null(mask, False))[0].as_py())


def _first_null_parent(lists: pa.ListArray, values: pa.Array) -> int:
    """Row of the first null value in ``lists`` (values already sliced to the used range)."""
    return int(pc.list_parent_indices(lists)[_first(pc.is_null(values))].as_py())


def parse_v2_block(
    data: bytes, source: str, table: pa.Table | None = None, parsed: list | None = None
) -> tuple[Batch, int] | int | None:
    """Parse a block of v2 tweet lines, or of v2 response pages (one per line).

    The block's first line decides which: a page (``data`` or ``includes`` present) or a tweet.

    Parameters
    ----------
    data : bytes
        The lines.
    source : str
        The file name for ``source_file``.
    table : pa.Table, optional
        Arrow's reading of ``data`` against :data:`SCHEMA` or :data:`PAGE_SCHEMA` (rows taken
        from a block already read and checked, one row per line): the JSON is not read again.
    parsed : list, optional
        When the block is refused at a known line after Arrow has read it, the table read is
        appended here, so the lines before and after that one need not be read again.

    Returns
    -------
    (Batch, int)
        The batch (``source_line`` counted from 1 at the start of ``data``) and the line count.
    int
        The index (from 0) of the first line this path cannot take: every line before it is
        fast-path material, that line needs the line parser.
    None
        The block needs the line parser, and where is not known.
    """
    if table is not None:
        return _parse_table(data, source, table, table.num_rows, parsed)
    if not data:
        return None
    if data[:1] != b"{":
        return 0
    if not data.isascii() and not _valid_utf8(data):
        try:
            data.decode("utf-8")  # orjson refuses invalid UTF-8 even in fields not read here
        except UnicodeDecodeError as exc:
            return data.count(b"\n", 0, exc.start)
    # (numpy: bytes.count() and `in` run at a tenth of the speed on an 8 MB block)
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    nlines = len(newlines) + (0 if data.endswith(b"\n") else 1)
    after = newlines[:-1] + 1 if data.endswith(b"\n") else newlines + 1
    odd = np.flatnonzero(buf[after] != 123)
    if len(odd):  # a blank line, or a line not starting with "{": row i would not be line i + 1
        return int(odd[0]) + 1
    pages = _is_page(data[: newlines[0]] if len(newlines) else data)
    if pages is None:
        return 0
    try:
        t = pj.read_json(
            pa.py_buffer(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=_PAGE_PARSE if pages else _PARSE,
        )
    except (pa.ArrowException, ValueError, UnicodeDecodeError) as exc:
        m = _ROW_IN_ERROR.search(str(exc))
        return int(m.group(1)) if m else None
    if t.num_rows != nlines:  # two JSON values on one line: where is not known
        return None
    return _parse_table(data, source, t, nlines, parsed)


def _valid_utf8(data: bytes) -> bool:
    """True if ``data`` is valid UTF-8, by Python's rules (Arrow's validator: a thirtieth of the
    time of ``bytes.decode``, which builds the string; a test compares the two)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _is_page(line: bytes) -> bool | None:
    """True if the line is a v2 response page, False if not, None if it is not a JSON object."""
    try:
        obj = loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    return obj.get("data") is not None or obj.get("includes") is not None


def _parse_table(
    data: bytes, source: str, t: pa.Table, nlines: int, parsed: list | None
) -> tuple[Batch, int] | int | None:
    """The rest of :func:`parse_v2_block`, from Arrow's table of the block's lines."""
    t = t.combine_chunks()
    n = t.num_rows
    if parsed is not None:
        parsed.append(t)
    if n == 0:
        return None
    if pa.types.is_list(t.schema.field("data").type):
        return _parse_pages(source, t, nlines)
    col = {name: t.column(name).chunk(0) for name in t.column_names}
    elsewhere = [col[k] for k in ("data", "includes", "tweet", "user", "id_str")]
    if any(c.null_count != n for c in elsewhere):  # a page, a v1.1 tweet, an archive wrapper
        return min(_first(pc.is_valid(c)) for c in elsewhere if c.null_count != n)
    lines = np.arange(1, n + 1, dtype=np.int64)
    author = col["author"]
    names = (author.field("username"), author.field("id"))
    out = _tweets(col, names, author, source, lines, _Lookups(), data)
    return out if isinstance(out, int) else (out, nlines)


class _Lookups:
    """What a page's ``includes`` resolve for its tweets (nothing for flattened tweets).

    ``ref_handle``: per referenced tweet (the values of ``referenced_tweets``), the handle of its
    author found through ``includes.tweets`` (``None`` where none). ``reply_found`` and
    ``reply_handle``: per tweet, whether ``includes.users`` has the ``in_reply_to_user_id``, and
    that user's handle. ``users`` and ``users_order``: the ``includes.users`` account rows and
    their place in TweetParser's order; ``order``: the place of each tweet's first account row.
    """

    def __init__(self) -> None:
        self.ref_handle: pa.Array | None = None
        self.reply_found: np.ndarray | None = None
        self.reply_handle: pa.Array | None = None
        self.users: pa.Array | None = None
        self.users_order: np.ndarray | None = None
        self.order: np.ndarray | None = None


def _handles(users: pa.Array) -> pa.Array:
    """TweetParser's ``_handle(user.get("username"))`` of struct users (null users: null)."""
    names = users.flatten()[users.type.get_field_index("username")]
    return _nonempty(_python_lower(names))


class _PageMap:
    """``{(page, id): row}`` of a list column of the pages' ``includes`` (the last row wins)."""

    def __init__(self, ids: pa.Array, pages: pa.Array):
        keys = _page_keys(pages, ids)
        rows = pc.indices_nonzero(pc.is_valid(keys)).to_numpy()[::-1].copy()  # last first
        self.rows = pa.array(rows, pa.int64())
        self.keys = keys.take(self.rows)

    def find(self, pages: pa.Array, ids: pa.Array) -> pa.Array:
        """Row (into the flattened list values) of each (page, id); null where none."""
        where = pc.index_in(_page_keys(pages, ids), value_set=self.keys)
        return self.rows.take(where)


def _page_keys(pages: pa.Array, ids: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pages.cast(_S), ids, ":")


def _parse_pages(source: str, t: pa.Table, nlines: int) -> tuple[Batch, int] | int:
    """Posts, accounts of a block of v2 response pages (TweetParser.page, vectorised).

    Any page with something the line parser would reject (a null in ``data``, a tweet without
    author, an unreadable timestamp...) is refused: its line index is returned.
    """
    data = t.column("data").chunk(0)
    if data.null_count:
        return _first(pc.is_null(data))
    page_of = pc.list_parent_indices(data)
    page_np = page_of.to_numpy()
    tweets = data.flatten()
    if tweets.null_count:
        return int(page_np[_first(pc.is_null(tweets))])
    includes = t.column("includes").chunk(0)
    user_lists, tweet_lists = includes.flatten()
    users = user_lists.flatten()
    user_page = pc.list_parent_indices(user_lists)
    user_fields = dict(zip([f.name for f in _USER], users.flatten(), strict=True))
    umap = _PageMap(user_fields["id"], user_page)
    user_handle = _handles(users)
    inc_tweets = tweet_lists.flatten()
    inc_page = pc.list_parent_indices(tweet_lists)
    inc_id, inc_author_id, inc_author = inc_tweets.flatten()
    tmap = _PageMap(inc_id, inc_page)

    col = dict(zip([f.name for f in _TWEET], tweets.flatten(), strict=True))
    # the author: the tweet's own, else includes.users[author_id] (whose account row is the
    # includes.users one: adding the same user object again changes nothing)
    own = col["author"]
    found = umap.find(page_of, col["author_id"])
    has_own = own.is_valid()
    own_id, own_name = own.flatten()[0:2]  # (_USER: id, username, ...)
    author = (
        pc.if_else(has_own, own_name, user_fields["username"].take(found)),
        pc.if_else(has_own, own_id, user_fields["id"].take(found)),
    )

    look = _Lookups()
    # a referenced tweet's author: includes.tweets[id].author, else includes.users[its author_id]
    refs = col["referenced_tweets"]
    ref_page = page_of.take(pc.list_parent_indices(refs))
    ref_ids = _nonempty(refs.flatten().field("id"))
    target = tmap.find(ref_page, ref_ids)
    by_author = _handles(inc_author)
    by_user = user_handle.take(umap.find(inc_page, inc_author_id))
    inc_handle = pc.if_else(inc_author.is_valid(), by_author, by_user)
    look.ref_handle = inc_handle.take(target)
    reply = umap.find(page_of, col["in_reply_to_user_id"])
    look.reply_found = pc.is_valid(reply).to_numpy(zero_copy_only=False)
    look.reply_handle = user_handle.take(reply)
    # account rows in TweetParser's order: each page's includes.users, then its tweets' users
    per_page = np.bincount(user_page.to_numpy(), minlength=t.num_rows)
    first_user = np.concatenate([[0], np.cumsum(per_page)[:-1]])
    look.users = users.filter(pc.is_valid(user_fields["id"]))
    users_order = (user_page.to_numpy().astype(np.int64) << 32) + (
        np.arange(len(users)) - first_user[user_page.to_numpy()]
    )
    look.users_order = users_order[pc.is_valid(user_fields["id"]).to_numpy(zero_copy_only=False)]
    first_tweet = np.asarray(data.offsets)[:-1] - data.offsets[0].as_py()
    look.order = (
        (page_np.astype(np.int64) << 32)
        + per_page[page_np]
        + 3 * (np.arange(len(page_np)) - first_tweet[page_np])
    )
    out = _tweets(col, author, own, source, page_np + 1, look, None)
    if isinstance(out, int):
        return int(page_np[out])
    return out, nlines


def _tweets(
    col: dict[str, pa.Array],
    author: tuple[pa.Array, pa.Array],
    author_rows: pa.Array,
    source: str,
    lines: np.ndarray,
    look: _Lookups,
    data: bytes | None,
) -> Batch | int:
    """Posts and accounts of v2 tweets (one struct field per ``col`` entry), or the index of
    the first tweet the line parser must read.

    ``author``: each tweet's author's (username, id); ``author_rows``: the author user objects
    that give account rows. ``data``: the block's bytes, for the rejects of unreadable
    timestamps (None: refuse those tweets instead).
    """
    ids = col["id"]
    n = len(ids)
    author_id = pc.coalesce(col["author_id"], author[1])
    usernames = author[0]
    no_name = pc.fill_null(pc.equal(usernames, ""), True)
    if pc.any(no_name).as_py():  # a suspended author missing from includes.users: by id
        by_id = pc.binary_join_element_wise("id:", _nonempty(author_id), "")
        usernames = pc.if_else(no_name, by_id, usernames)
    bad = pc.or_(
        pc.or_kleene(pc.is_null(ids), pc.equal(ids, "")),
        pc.or_kleene(pc.is_null(usernames), pc.equal(usernames, "")),
    )
    bad = pc.or_(
        pc.fill_null(bad, True), pc.invert(pc.fill_null(pc.string_is_ascii(usernames), True))
    )
    if pc.any(bad).as_py():  # missing id or author, or a non-ASCII handle (str.lower() rules)
        return _first(bad)
    handle = pc.ascii_lower(usernames)  # (checked ASCII above)
    note = col["note_tweet"]
    text = pc.coalesce(note.field("text"), col["text"])

    ent = col["entities"]
    mention_lists = ent.field("mentions")
    tag_lists = ent.field("hashtags")
    m = _lower_list_exact(mention_lists, "username")
    if isinstance(m, int):
        return m
    tags = _lower_list_exact(tag_lists, "tag")
    if isinstance(tags, int):
        return tags
    mentions = _joined(mention_lists, m)
    hashtags = _joined(tag_lists, tags)

    # kind: the first retweeted ref, else the last replied_to, else the first quoted
    refs = col["referenced_tweets"]
    rstart, rend = refs.offsets[0].as_py(), refs.offsets[-1].as_py()
    rvalues = refs.values.slice(rstart, rend - rstart)
    rtypes = rvalues.field("type")
    if rtypes.null_count:
        return _first_null_parent(refs, rtypes)
    parents = pc.list_parent_indices(refs).to_numpy()

    def where_type(name: str) -> np.ndarray:
        return pc.indices_nonzero(pc.equal(rtypes, name)).to_numpy()

    first_rt = _first_per_row(parents, where_type("retweeted"), n, last=False)
    last_rep = _first_per_row(parents, where_type("replied_to"), n, last=True)
    first_q = _first_per_row(parents, where_type("quoted"), n, last=False)
    ref_pos = np.where(first_rt >= 0, first_rt, np.where(last_rep >= 0, last_rep, first_q))
    code = np.where(first_rt >= 0, 2, np.where(last_rep >= 0, 1, np.where(first_q >= 0, 3, 0)))
    kind = _KINDS.take(pa.array(code, pa.int8()))
    kind_np = code  # 1 = reply, 2 = repost
    has_ref = ref_pos >= 0
    take = pa.array(np.where(has_ref, ref_pos, 0), mask=~has_ref) if n else pa.array([], pa.int64())
    target_post_id = _nonempty(rvalues.field("id").take(take)) if len(rvalues) else pa.nulls(n, _S)
    ref_authors = rvalues.field("author").take(take) if len(rvalues) else pa.nulls(n, _USER)
    ref_name = ref_authors.field("username")
    target_author = _nonempty(_python_lower(ref_name))
    if look.ref_handle is not None and len(rvalues):  # no author in the ref: includes.tweets
        target_author = pc.if_else(
            ref_authors.is_valid(), target_author, look.ref_handle.take(take)
        )

    # replies without a target from the ref: in_reply_to_user, else includes.users, else a
    # mention with that id
    reply_user = col["in_reply_to_user"]
    no_target = pc.is_null(target_author).to_numpy(zero_copy_only=False)
    need_reply = np.flatnonzero((kind_np == 1) & no_target)
    need_rt = np.flatnonzero((kind_np == 2) & no_target)
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
            if look.reply_found is not None and look.reply_found[i]:
                targets[i] = look.reply_handle[int(i)].as_py()
                continue
            for men in mention_lists[int(i)].as_py() or ():
                if men.get("id") == uid:
                    name = men.get("username")
                    targets[i] = name.lower() if name else None
                    break
            else:  # a user missing from includes: by id, as TweetParser._reply_user
                targets[i] = f"id:{uid}" if uid else None
        texts = text.take(pa.array(need_rt)).to_pylist() if len(need_rt) else []
        from .twitter_json import _rt_target

        for i, tx in zip(need_rt, texts, strict=True):
            targets[i] = _rt_target(tx)
        target_author = pa.array(targets, _S)

    created, bad = _timestamps(col["created_at"])
    if bad and data is None:
        return min(bad)
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
            pa.array(lines),
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

    accounts = _accounts(author_rows, ref_authors, reply_user, used_reply_user, n, look)
    quotes = _quotes(ids, lines, rvalues, (code == 1) & (first_q >= 0), first_q, look)
    return Batch(posts=posts, accounts=accounts, rejects=rejects.take(), rows_read=n, quotes=quotes)


def _quotes(
    ids: pa.Array,
    lines: np.ndarray,
    rvalues: pa.Array,
    both: np.ndarray,
    first_q: np.ndarray,
    look: _Lookups,
) -> pa.Table | None:
    """The quotes of the tweets that reply and also quote (TweetParser.quotes, vectorised): the
    first ``quoted`` ref's id and author (its own, else through ``includes.tweets``)."""
    rows = np.flatnonzero(both)
    if not len(rows):
        return None
    take = pa.array(first_q[rows])
    authors = rvalues.field("author").take(take)
    target = _nonempty(_python_lower(authors.field("username")))
    if look.ref_handle is not None:
        target = pc.if_else(authors.is_valid(), target, look.ref_handle.take(take))
    return pa.Table.from_arrays(
        [
            ids.take(pa.array(rows)),
            pa.array(lines[rows], pa.int64()),
            _nonempty(rvalues.field("id").take(take)),
            target,
        ],
        schema=QUOTES_SCHEMA,
    )


def _timestamps(values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """Cast ISO-8601 strings in one go; anything else the way PostRows reads it."""
    if not values.null_count:
        try:
            stamps = values.cast(_POSTS.field("created_at").type)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        else:
            if all_in_range(stamps):  # (else parse_column says which are outside, and why)
                return stamps, {}
    return parse_column(values.to_pylist())


def _accounts(author, ref_authors, reply_user, used_reply_user, n, look: _Lookups):
    """Account rows in TweetParser's order: per tweet the ref's author, the replied-to user,
    the author (not merged by handle: the store does that); for pages each page's
    ``includes.users`` before its tweets'."""
    order = np.arange(n, dtype=np.int64) * 3 if look.order is None else look.order
    sources = [
        (ref_authors, order, None),
        (reply_user, order + 1, used_reply_user),
        (author, order + 2, None),
    ]
    if look.users is not None:
        sources.insert(0, (look.users, look.users_order, None))
    keys, picks, arrays = [], [], []
    offset = 0
    for users, place, mask in sources:
        valid = users.is_valid()
        if mask is not None:
            valid = pc.and_(valid, pa.array(mask))
        names = users.field("username")
        valid = pc.and_(valid, pc.fill_null(pc.not_equal(names, ""), False))
        idx = pc.indices_nonzero(valid).to_numpy()
        if len(idx):
            keys.append(place[idx])
            picks.append(idx + offset)
        arrays.append(users)
        offset += len(users)
    if not picks:
        return None
    pick = np.concatenate(picks)[np.argsort(np.concatenate(keys), kind="stable")]
    # (one gather from the sources laid end to end: cheaper than a gather per source and
    # another to put the rows in order)
    users = pa.concat_arrays(arrays).take(pa.array(pick))
    field = dict(zip([f.name for f in _USER], users.flatten(), strict=True))
    followers = field["public_metrics"].flatten()[0]
    # one row per user object, in order: the store merges them by handle (first non-null value
    # of each field wins), the same result TweetParser's per-block merge gives
    return pa.Table.from_arrays(
        [
            _python_lower(field["username"]),
            _nonempty(field["id"]),
            field["name"],
            field["description"],
            pc.if_else(pc.less(followers, 0), pa.nulls(len(followers), pa.int64()), followers),
            pa.nulls(len(users), _S),
        ],
        schema=_ACCOUNTS,
    )
