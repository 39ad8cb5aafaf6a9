"""Property tests for the Bluesky and Reddit importers (as tests/test_io_properties.py does for
the Twitter ones): random JSON and mutated records mixed with good ones never give a traceback,
and never lose a good record; random bytes into a CAR reader are one-line errors at worst."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport.errors import NetsupportError
from netsupport.io import reader_for
from netsupport.io.base import ReadOptions
from netsupport.io.carfile import repo_car

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = [
    "did", "time_us", "kind", "commit", "operation", "collection", "rkey", "record", "text",
    "createdAt", "reply", "parent", "uri", "subject", "embed", "facets", "identity", "handle",
    "id", "author", "body", "created_utc", "parent_id", "title", "selftext", "$type", "type",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["commit", "create", "delete", "app.bsky.feed.post", "app.bsky.feed.like",
         "did:plc:abc", "at://did:plc:x/app.bsky.feed.post/1", "t1_ab", "t3_cd", "[deleted]",
         "2014-02-14T10:00:00Z", "1392372000", "com", "c", "id"]
    )
)  # fmt: skip
names = st.sampled_from(KEYS) | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(names, c, max_size=5),
    max_leaves=20,
)


def good_event(i: int) -> dict:
    return {
        "did": f"did:plc:good{i}",
        "time_us": 1392372000000000 + i,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": f"3k{i}",
            "record": {"text": f"good {i}", "createdAt": "2014-02-14T10:00:00Z"},
        },
    }


def good_comment(i: int) -> dict:
    return {
        "id": f"good{i}",
        "author": f"good_{i}",
        "body": f"good {i}",
        "created_utc": 1392372000 + i,
        "parent_id": "t3_abc",
    }


@st.composite
def mutated(draw, make):
    """A good record with one field (at any depth of the path drawn) replaced by junk."""
    rec = make(draw(st.integers(0, 999)))
    node = rec
    while True:
        key = draw(st.sampled_from(sorted(node)))
        if isinstance(node[key], dict) and draw(st.booleans()):
            node = node[key]
            continue
        node[key] = draw(values)
        return rec


def _interleave(goods, junks, positions):
    out = list(junks)
    for g, p in zip(goods, positions, strict=False):
        out.insert(p % (len(out) + 1), g)
    return out


def _read(fmt: str, path: Path):
    batches = list(reader_for(fmt)(path, str(path), ReadOptions()))
    tables = [b.posts for b in batches if b.posts is not None]
    return pa.concat_tables(tables).to_pylist() if tables else []


def _check_no_good_lost(fmt, make, junk, n_good, positions, post_id):
    goods = [make(i) for i in range(n_good)]
    lines = _interleave(goods, junk, positions)
    path = Path(tempfile.mkdtemp(prefix="ns-prop-")) / "in.ndjson"
    path.write_text("".join(json.dumps(v) + "\n" for v in lines), encoding="utf-8")
    try:
        posts = _read(fmt, path)
    except NetsupportError:  # (a one-line refusal of the whole file would lose them)
        raise AssertionError("a file with good records was refused") from None
    got = {(p["source_line"], p["post_id"]) for p in posts}
    for line, value in enumerate(lines, 1):
        if any(value is g for g in goods):
            assert (line, post_id(value)) in got, (line, value)


@SETTINGS
@given(
    junk=st.lists(values | mutated(good_event), max_size=12),
    n_good=st.integers(1, 5),
    positions=st.lists(st.integers(0, 100), min_size=5, max_size=5),
)
def test_jetstream_never_loses_a_good_event(junk, n_good, positions):
    def uri(e):
        return f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}"

    _check_no_good_lost("bluesky", good_event, junk, n_good, positions, uri)


@SETTINGS
@given(
    junk=st.lists(values | mutated(good_comment), max_size=12),
    n_good=st.integers(1, 5),
    positions=st.lists(st.integers(0, 100), min_size=5, max_size=5),
)
def test_reddit_never_loses_a_good_comment(junk, n_good, positions):
    _check_no_good_lost("reddit", good_comment, junk, n_good, positions, lambda c: f"t1_{c['id']}")


@SETTINGS
@given(cut=st.integers(0, 4000), flip=st.integers(0, 4000), byte=st.integers(1, 255))
def test_damaged_car_is_a_one_line_error_or_rejects(cut, flip, byte):
    records = [
        ("app.bsky.feed.post", f"3k{i}", {"text": f"p{i}", "createdAt": "2014-02-14T10:00:00Z"})
        for i in range(40)
    ]
    data = bytearray(repo_car("did:plc:amy", records))
    if flip < len(data):
        data[flip] ^= byte
    path = Path(tempfile.mkdtemp(prefix="ns-prop-")) / "repo.car"
    path.write_bytes(bytes(data[: max(cut, 1)] if cut < len(data) else data))
    with contextlib.suppress(NetsupportError):
        _read("bluesky", path)
