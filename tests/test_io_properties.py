"""Property tests: random bytes and random JSON into every importer.

Two properties, for each format: (1) never a traceback: reading anything either works or raises a
``NetsupportError`` (which the CLI prints as one line); (2) never a lost good row: good rows
mixed with arbitrary junk all land in the output, junk only in the rejects.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netsupport.errors import NetsupportError
from netsupport.ingest import import_paths
from netsupport.io import FORMATS, reader_for
from netsupport.io.base import ReadOptions
from netsupport.io.detect import detect_format
from netsupport.store import Store

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TWEET_KEYS = [
    "id",
    "id_str",
    "text",
    "full_text",
    "created_at",
    "author",
    "author_id",
    "username",
    "user",
    "screen_name",
    "entities",
    "mentions",
    "hashtags",
    "user_mentions",
    "tag",
    "referenced_tweets",
    "type",
    "data",
    "includes",
    "users",
    "tweets",
    "tweet",
    "retweeted_status",
    "quoted_status",
    "in_reply_to_user_id",
    "in_reply_to_screen_name",
    "extended_tweet",
    "note_tweet",
    "lang",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["retweeted", "replied_to", "quoted", "2014-02-14T10:00:00Z", "RT @x: y"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(TWEET_KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=20,
)


def good_tweet(i: int) -> dict:
    return {
        "id": f"9{i:09d}",
        "text": f"@lane good {i}",
        "created_at": "2014-02-14T10:00:00.000Z",
        "author": {"id": "7", "username": "Good_Amy"},
        "entities": {"mentions": [{"username": "lane", "id": "9"}]},
        "referenced_tweets": [{"type": "replied_to", "id": "1"}],
    }


@st.composite
def mutated_tweet(draw):
    """A good tweet with one field replaced by an arbitrary JSON value."""
    t = good_tweet(draw(st.integers(0, 999)))
    key = draw(st.sampled_from([*sorted(t), "entities.mentions", "author.username"]))
    value = draw(json_values)
    if "." in key:
        outer, inner = key.split(".")
        t[outer] = {**t[outer], inner: value} if isinstance(t[outer], dict) else value
    else:
        t[key] = value
    return t


junk_json = json_values | mutated_tweet()


def _tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ns-prop-"))


def _read_all(fmt: str, path: Path, **opts):
    batches = list(reader_for(fmt)(path, str(path), ReadOptions(**opts)))

    def rows(name):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        return pa.concat_tables(tables).to_pylist() if tables else []

    return rows("posts"), rows("follows"), rows("accounts"), rows("rejects")


def _no_traceback(fn) -> None:
    """Run ``fn``; a NetsupportError (one line in the CLI) is fine, anything else fails."""
    with contextlib.suppress(NetsupportError):
        fn()


# ---- random bytes into every importer ------------------------------------------------------------

OPTIONS = {"followers": {"account": "lane"}}


@SETTINGS
@given(data=st.binary(max_size=3000), fmt=st.sampled_from(sorted(FORMATS)))
def test_random_bytes_never_give_a_traceback(data, fmt):
    d = _tmpdir()
    path = d / "input.bin"
    path.write_bytes(data)
    _no_traceback(lambda: _read_all(fmt, path, **OPTIONS.get(fmt, {})))
    _no_traceback(lambda: detect_format(path))
    _no_traceback(lambda: import_paths(Store(d / "store"), [path], account="lane"))


@SETTINGS
@given(
    prefix=st.sampled_from([b"PK\x03\x04", b"window.YTD.tweets.part0 = ", b"{", b"[", b""]),
    data=st.binary(max_size=2000),
)
def test_random_bytes_after_a_plausible_start(prefix, data):
    d = _tmpdir()
    path = d / "input"
    path.write_bytes(prefix + data)
    _no_traceback(lambda: import_paths(Store(d / "store"), [path], account="lane"))


@SETTINGS
@given(
    member=st.binary(max_size=2000), name=st.sampled_from(["data/tweets.js", "data/follower.js"])
)
def test_random_bytes_as_an_archive_member(member, name):
    d = _tmpdir()
    path = d / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "data/account.js", 'window.YTD.account.part0 = [{"account": {"username": "o"}}]'
        )
        zf.writestr(name, member)
    _no_traceback(lambda: _read_all("twitter-archive", path))


# ---- random JSON mixed with good rows ----------------------------------------------------------


def _interleave(goods, junks, positions):
    out = list(junks)
    for g, p in zip(goods, positions, strict=False):
        out.insert(p % (len(out) + 1), g)
    return out


@SETTINGS
@given(
    junk=st.lists(junk_json, max_size=12),
    n_good=st.integers(1, 6),
    positions=st.lists(st.integers(0, 100), min_size=6, max_size=6),
)
# (a twarc2 user line with a blank username named no account and was silently dropped)
@example(junk=[{"username": ""}], n_good=1, positions=[0] * 6)
def test_twitter_json_never_loses_a_good_line(junk, n_good, positions):
    goods = [good_tweet(i) for i in range(n_good)]
    lines = _interleave(goods, junk, positions)
    path = _tmpdir() / "t.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in lines), encoding="utf-8")
    posts, _, accounts, rejects = _read_all("twitter-v2", path)
    handles = {a["handle"] for a in accounts}
    for line, value in enumerate(lines, 1):
        if value in goods:
            match = [p for p in posts if p["source_line"] == line and p["post_id"] == value["id"]]
            assert match and match[0]["author"] == "good_amy" and match[0]["kind"] == "reply"
        elif isinstance(value, dict) and not ({"data", "includes"} & value.keys()):
            # a record: a post, a reject or (a twarc2 user line) an account, never dropped
            user = value.get("username")
            assert (
                any(p["source_line"] == line for p in posts)
                or any(r["source_line"] == line for r in rejects)
                or (isinstance(user, str) and user.lower() in handles)
            )


@SETTINGS
@given(
    junk=st.lists(junk_json, max_size=10),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_v2_pages_with_random_data_keep_good_tweets(junk, positions):
    goods = [good_tweet(i) for i in range(3)]
    page = {"data": _interleave(goods, junk, positions), "includes": {"users": junk[:2]}}
    path = _tmpdir() / "p.jsonl"
    path.write_text(json.dumps(page) + "\n", encoding="utf-8")
    posts, _, _, _ = _read_all("twitter-v2", path)
    ids = {p["post_id"] for p in posts if p["author"] == "good_amy"}
    assert {g["id"] for g in goods} <= ids


@SETTINGS
@given(
    junk=st.lists(json_values, max_size=10),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_archive_never_loses_a_good_tweet(junk, positions):
    goods = [
        {
            "tweet": {
                "id_str": f"8{i:09d}",
                "created_at": "Fri Feb 14 10:00:00 +0000 2014",
                "full_text": f"good {i}",
            }
        }
        for i in range(3)
    ]
    items = _interleave(goods, junk, positions)
    path = _tmpdir() / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "data/account.js", 'window.YTD.account.part0 = [{"account": {"username": "o"}}]'
        )
        zf.writestr("data/tweets.js", "window.YTD.tweets.part0 = " + json.dumps(items))
    posts, _, _, _ = _read_all("twitter-archive", path)
    assert {g["tweet"]["id_str"] for g in goods} <= {p["post_id"] for p in posts}


# ---- CSV-shaped formats: random (well-quoted) rows mixed with good rows --------------------------

cells = st.text(max_size=15)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@SETTINGS
@given(
    junk=st.lists(st.lists(cells, max_size=7), max_size=10),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_csv_never_loses_a_good_row(junk, positions):
    goods = [
        ["amy", "lane", "mention", "2014-02-14T10:00:00Z", f"good-row-{i}-7f3a"] for i in range(3)
    ]
    path = _tmpdir() / "e.csv"
    _write_csv(
        path,
        ["source", "target", "kind", "created_at", "text"],
        _interleave(goods, junk, positions),
    )
    posts, _, _, _ = _read_all("csv", path)
    texts = {p["text"] for p in posts if p["author"] == "amy" and p["mentions"] == "lane"}
    assert {g[4] for g in goods} <= texts


@SETTINGS
@given(
    junk=st.lists(st.lists(cells, max_size=6), max_size=10),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_nodexl_never_loses_a_good_tweet(junk, positions):
    header = [
        "Vertex 1",
        "Vertex 2",
        "Relationship",
        "Relationship Date (UTC)",
        "Tweet",
        "Imported ID",
    ]
    goods = [
        ["amy", "lane", "Replies to", "2014-02-14 10:00:00", f"good {i}", f"70000000000000000{i}"]
        for i in range(3)
    ]
    path = _tmpdir() / "n.csv"
    _write_csv(path, header, _interleave(goods, junk, positions))
    posts, _, _, _ = _read_all("nodexl", path)
    got = {(p["post_id"], p["kind"], p["target_author"]) for p in posts}
    assert {(g[5], "reply", "lane") for g in goods} <= got


@SETTINGS
@given(
    junk=st.lists(
        st.text(max_size=20).map(lambda s: s.replace("\n", " ").replace("\r", " ")), max_size=10
    ),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_follower_list_never_loses_a_good_handle(junk, positions):
    goods = [f"good_{i}" for i in range(3)]
    path = _tmpdir() / "f.txt"
    lines = _interleave(goods, junk, positions)
    path.write_text("good_x\n" + "\n".join(lines) + "\n", encoding="utf-8")
    _, follows, _, _ = _read_all("followers", path, account="lane")
    assert {*goods, "good_x"} <= {f["follower"] for f in follows}


@SETTINGS
@given(
    junk=st.lists(st.lists(cells, max_size=7), max_size=10),
    positions=st.lists(st.integers(0, 50), min_size=3, max_size=3),
)
def test_accounts_never_loses_a_good_row(junk, positions):
    header = ["handle", "account_id", "name", "description", "followers_count", "role"]
    goods = [[f"good_{i}", str(i), "N", "d", "5", "media"] for i in range(3)]
    path = _tmpdir() / "a.csv"
    _write_csv(path, header, _interleave(goods, junk, positions))
    _, _, accounts, _ = _read_all("accounts", path)
    by_handle = {a["handle"]: a for a in accounts}
    for g in goods:
        assert by_handle[g[0]]["role"] == "media" and by_handle[g[0]]["followers_count"] == 5


def test_json_helpers_are_consistent():
    assert json.loads(orjson.dumps(good_tweet(1))) == good_tweet(1)


# ---- the Arrow fast path for v2 lines gives exactly the line-by-line parser's tables ----------

flat_user = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["1", "2", ""]),
        "username": st.sampled_from(["Amy", "amy", "Bob", "ÉLan", ""]),
    },
    optional={
        "name": st.none() | st.text(max_size=5),
        "description": st.none() | st.text(max_size=5),
        "public_metrics": st.fixed_dictionaries(
            {}, optional={"followers_count": st.none() | st.integers(-5, 10**6)}
        ),
    },
)


@st.composite
def flat_tweet(draw, i):
    t = {
        "id": f"5{i:06d}",
        "text": draw(st.sampled_from(["hi", "RT @Lane: x", "RT @ünï: y", "@amy @AMY ok"])),
        "created_at": draw(
            st.sampled_from(
                [
                    "2014-02-14T10:00:00.000Z",
                    "2014-02-14T11:00:00+01:00",
                    "Wed Feb 12 10:00:00 +0000 2014",
                    "soon",
                    "1850-02-14T10:00:00.000Z",  # outside 1900-2199: a reject
                ]
            )
        ),
        # (a non-ASCII author handle sends the block to the slow path: not drawn here)
        "author": draw(flat_user.filter(lambda u: u["username"] not in ("", "ÉLan"))),
    }
    opt = draw(
        st.sets(st.sampled_from(["author_id", "lang", "note", "ent", "refs", "irt", "irtu"]))
    )
    if "author_id" in opt:
        t["author_id"] = draw(st.sampled_from(["7", ""]))
    if "lang" in opt:
        t["lang"] = "en"
    if "note" in opt:
        t["note_tweet"] = draw(st.fixed_dictionaries({}, optional={"text": st.text(max_size=5)}))
    if "ent" in opt:
        t["entities"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "mentions": st.lists(
                        st.fixed_dictionaries(
                            {"username": st.sampled_from(["Lane", "lane", "Force", "İx"])},
                            optional={"id": st.sampled_from(["9", "8"])},
                        ),
                        max_size=3,
                    ),
                    "hashtags": st.lists(
                        st.fixed_dictionaries({"tag": st.sampled_from(["Stand", "stand", "ÇA"])}),
                        max_size=3,
                    ),
                },
            )
        )
    if "refs" in opt:
        t["referenced_tweets"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["retweeted", "replied_to", "quoted", "other"])},
                    optional={"id": st.sampled_from(["1", "2", ""]), "author": flat_user},
                ),
                max_size=3,
            )
        )
    if "irt" in opt:
        t["in_reply_to_user_id"] = draw(st.sampled_from(["9", "8"]))
    if "irtu" in opt:
        t["in_reply_to_user"] = draw(flat_user)
    return t


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 8))
def test_v2_fast_path_equals_line_by_line(data, n):
    from netsupport.io.twitter_json import parse_lines
    from netsupport.io.v2_arrow import parse_v2_block

    tweets = [data.draw(flat_tweet(i)) for i in range(n)]
    block = "".join(json.dumps(t, ensure_ascii=data.draw(st.booleans())) + "\n" for t in tweets)
    raw = block.encode("utf-8")
    fast = parse_v2_block(raw, "x")
    slow, nlines = parse_lines(raw, "x", fast=False)
    assert fast is not None  # all of these are fast-path material
    batch, fast_lines = fast
    assert fast_lines == nlines and batch.rows_read == slow.rows_read
    _assert_same_batches(batch, slow)


def _assert_same_batches(a_batch, b_batch):
    """Posts and rejects equal; accounts equal once merged by handle (first non-null wins)."""
    from netsupport.store import merge_accounts

    for name in ("posts", "rejects", "quotes"):
        a, b = getattr(a_batch, name), getattr(b_batch, name)
        assert (a.to_pylist() if a is not None else []) == (b.to_pylist() if b is not None else [])
    a, b = a_batch.accounts, b_batch.accounts
    assert (a is None) == (b is None)
    if a is not None:
        assert merge_accounts([a]).to_pylist() == merge_accounts([b]).to_pylist()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), bad=st.lists(st.integers(0, 399), max_size=4))
def test_a_few_odd_lines_in_a_big_block_give_the_same_tables(data, bad):
    """The fast path retries a refused block in pieces; the result equals the line parser's."""
    from netsupport.io import twitter_json
    from netsupport.io.twitter_json import parse_lines

    tweets = [good_tweet(i) for i in range(400)]
    lines = [json.dumps(t) for t in tweets]
    for i in bad:
        lines[i] = data.draw(st.sampled_from(["{broken", "[1]", '{"id": 5}', json.dumps({"x": 1})]))
    raw = ("\n".join(lines) + "\n").encode()
    old = twitter_json.SPLIT_MIN_BYTES
    twitter_json.SPLIT_MIN_BYTES = 2048  # pieces of a few lines
    try:
        fast, n_fast = parse_lines(raw, "x")
    finally:
        twitter_json.SPLIT_MIN_BYTES = old
    slow, n_slow = parse_lines(raw, "x", fast=False)
    assert n_fast == n_slow and fast.rows_read == slow.rows_read
    _assert_same_batches(fast, slow)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(2, 12),
    odd=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.sampled_from(["no author", "no id", "v1.1", "page", "null type", "null mention"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_lines_refused_after_arrow_read_them_are_not_read_again(data, n, odd):
    """A block refused at a line Arrow has read (no author, no id, a null type...) reuses the
    table for the other lines: JSON read once; tables equal to the line parser's, also with
    v1.1 tweets and pages among the lines."""
    import pyarrow.json as pj

    from netsupport.io import v2_arrow
    from netsupport.io.twitter_json import parse_lines

    tweets = [data.draw(flat_tweet(i)) for i in range(n)]
    for i, how in odd:
        t = tweets[i % n]
        if how == "no author":
            t.pop("author", None)
        elif how == "no id":
            t.pop("id", None)
        elif how == "v1.1":
            t = {"id_str": "7", "text": "hi", "user": {"screen_name": "Amy"},
                 "created_at": "Wed Feb 12 10:00:00 +0000 2014"}  # fmt: skip
        elif how == "page":
            t = {"data": [t], "includes": {"users": [{"id": "1", "username": "Amy"}]}}
        elif how == "null type":
            t["referenced_tweets"] = [{"type": None, "id": "1"}]
        else:
            t["entities"] = {"mentions": [{"username": None}], "hashtags": [{"tag": "x"}]}
        tweets[i % n] = t
    raw = "".join(json.dumps(t) + "\n" for t in tweets).encode()
    calls = []
    real = pj.read_json

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    v2_arrow.pj.read_json = counting
    try:
        fast, n_fast = parse_lines(raw, "x")
    finally:
        v2_arrow.pj.read_json = real
    if all(how not in ("v1.1", "page") for _, how in odd):  # (those fail Arrow's read itself)
        assert len(calls) == 1  # the lines around a refused one were not read again
    slow, n_slow = parse_lines(raw, "x", fast=False)
    assert n_fast == n_slow == n and fast.rows_read == slow.rows_read
    _assert_same_batches(fast, slow)


# ---- the same for v2 response pages (twarc2 output): authors and targets from includes ------


@st.composite
def page_user(draw, strict: bool):
    user = draw(flat_user)
    user["id"] = draw(st.sampled_from(["1", "2", "3", "9", ""]))
    if strict:
        user["username"] = draw(st.sampled_from(["Amy", "amy", "Bob", "Cy"]))
    elif draw(st.booleans()):
        user.pop(draw(st.sampled_from(["id", "username"])))
    return user


@st.composite
def page(draw, first: int, strict: bool):
    """A response page: tweets without (mostly) or with an embedded author, users and
    referenced tweets in includes (ids repeat: the last one wins), odd bits when not strict."""
    tweets = []
    for i in range(draw(st.integers(0, 5))):
        t = draw(flat_tweet(first + i))
        if strict and t["created_at"] in ("soon", "1850-02-14T10:00:00.000Z"):
            t["created_at"] = "2014-02-14T10:00:00.000Z"
        if draw(st.integers(0, 3)):
            del t["author"]
            t["author_id"] = draw(st.sampled_from(["1", "2", "3"] if strict else ["1", "3", "7"]))
        tweets.append(t)
    includes: dict = {
        "users": draw(st.lists(page_user(strict), max_size=5)),
        "tweets": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.sampled_from(["1", "2", ""])},
                    optional={
                        "author_id": st.sampled_from(["1", "2", "3", "9"]),
                        "author": flat_user,
                        "text": st.just("hi"),
                    },
                ),
                max_size=3,
            )
        ),
    }
    if strict:  # every author_id resolves
        includes["users"] += [{"id": u, "username": f"U{u}"} for u in ("1", "2", "3")]
    else:
        includes = draw(st.sampled_from([includes, {"users": includes["users"]}, {}]))
        if draw(st.integers(0, 9)) == 0:
            includes["users"] = [None, *includes.get("users", [])]
    out = {"data": tweets, "meta": {"result_count": len(tweets)}}
    if includes or strict:
        out["includes"] = includes
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 6))
def test_v2_pages_fast_path_equals_line_by_line(data, n):
    from netsupport.io.twitter_json import parse_lines
    from netsupport.io.v2_arrow import parse_v2_block

    pages = [data.draw(page(10 * k, strict=True)) for k in range(n)]
    raw = "".join(json.dumps(p, ensure_ascii=data.draw(st.booleans())) + "\n" for p in pages)
    raw = raw.encode("utf-8")
    fast = parse_v2_block(raw, "x")
    slow, nlines = parse_lines(raw, "x", fast=False)
    assert isinstance(fast, tuple)  # all of these are fast-path material
    batch, fast_lines = fast
    assert fast_lines == nlines and batch.rows_read == slow.rows_read
    _assert_same_batches(batch, slow)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 8))
def test_v2_pages_with_odd_bits_give_the_line_parsers_tables(data, n):
    """Pages the fast path must refuse (a tweet without author, an unreadable timestamp, a
    null user...), mixed with tweets one per line, v1.1 tweets and broken lines."""
    from netsupport.io import twitter_json
    from netsupport.io.twitter_json import parse_lines

    lines = []
    for k in range(n):
        what = data.draw(st.sampled_from(["page", "page", "page", "tweet", "v1.1", "broken"]))
        if what == "page":
            lines.append(json.dumps(data.draw(page(10 * k, strict=False))))
        elif what == "tweet":
            lines.append(json.dumps(data.draw(flat_tweet(10 * k))))
        elif what == "v1.1":
            lines.append(json.dumps({"id_str": "7", "user": {"screen_name": "Amy"}}))
        else:
            lines.append('{"data": [')
    raw = ("\n".join(lines) + "\n").encode()
    old = twitter_json.SPLIT_MIN_BYTES
    twitter_json.SPLIT_MIN_BYTES = 64  # pieces of a line or two
    try:
        fast, n_fast = parse_lines(raw, "x")
    finally:
        twitter_json.SPLIT_MIN_BYTES = old
    slow, n_slow = parse_lines(raw, "x", fast=False)
    assert n_fast == n_slow == n and fast.rows_read == slow.rows_read
    _assert_same_batches(fast, slow)


@settings(max_examples=500, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [
                0x41,
                0x0A,
                0x7F,
                0x80,
                0xBF,
                0xC0,
                0xC2,
                0xDF,
                0xE0,
                0xED,
                0xEF,
                0xF0,
                0xF4,
                0xF5,
                0xFF,
            ]
        ),
        max_size=12,
    ).map(bytes)
)
def test_fast_utf8_check_agrees_with_python(data):
    from netsupport.io.v2_arrow import _valid_utf8

    try:
        data.decode("utf-8")
        ok = True
    except UnicodeDecodeError:
        ok = False
    assert _valid_utf8(data) == ok
