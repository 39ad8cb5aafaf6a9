"""The stream reader of a document's top-level array (netsupport/io/json_items.py): the items it
hands out are those of decoding the document whole, however the bytes are chunked, and whatever
it cannot take is refused as Unstreamable (the caller then decodes the document whole)."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport.io.json_items import SecondKey, Unstreamable, iter_items


def _chunked(doc: bytes, size: int) -> list[bytes]:
    return [doc[i : i + size] for i in range(0, len(doc), size)]


def _stream(doc: bytes, size: int, run_bytes: int = 1 << 20) -> list | str:
    try:
        return [
            x for run in iter_items(_chunked(doc, size), "orderedItems", run_bytes) for x in run
        ]
    except Unstreamable:
        return "unstreamable"


def _whole(doc: bytes) -> list | str:
    try:
        value = orjson.loads(doc)
    except orjson.JSONDecodeError:
        return "unstreamable"
    if type(value) is not dict or type(value.get("orderedItems")) is not list:
        return "unstreamable"
    return value["orderedItems"]


def _activity(i: int) -> dict:
    # nested objects whose keys open like an item's (the run pattern is '},{"id":')
    return {
        "id": f"https://a.b/users/o/statuses/{i}/activity",
        "type": "Create",
        "object": {
            "id": f"https://a.b/users/o/statuses/{i}",
            "content": 'a "quoted" },{"id": inside a string',
            "tag": [{"id": "https://a.b/emojis/1"}, {"id": "https://a.b/emojis/2"}],
        },
    }


@pytest.mark.parametrize("size", [1, 2, 7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("run_bytes", [1, 50, 300, 1 << 20])
def test_items_split_across_chunk_boundaries_decode_as_the_whole_document(size, run_bytes):
    # a member's bytes arrive in chunks (1 MiB from a zip): an item, a key, a string or an
    # escape split between two chunks must decode as it does in the whole document
    items = [_activity(i) for i in range(40)] + ['a\\"b', 5, None, {"id": "é"}]
    for doc in (
        orjson.dumps({"@context": ["x", {"a": 1}], "orderedItems": items, "totalItems": 44}),
        json.dumps({"type": "OrderedCollection", "orderedItems": items}, indent=1).encode(),
    ):
        assert _stream(doc, size, run_bytes) == items


def test_a_second_ordered_items_after_the_first_is_refused():
    # decoding whole takes the last key; the stream has handed out the first one's items
    doc = b'{"orderedItems": [{"id": 1}, {"id": 2}], "x": 1, "orderedItems": []}'
    with pytest.raises(SecondKey):
        list(iter_items([doc], "orderedItems"))
    # spelt with an escape, it is the same key
    doc = b'{"orderedItems": [1], "ordered\\u0049tems": [2]}'
    with pytest.raises(SecondKey):
        list(iter_items([doc], "orderedItems"))
    # a nested key of that name is not a second one
    doc = b'{"orderedItems": [1], "first": {"orderedItems": [2]}}'
    assert list(iter_items([doc], "orderedItems")) == [[1]]


@pytest.mark.parametrize(
    "doc",
    [
        b'[{"orderedItems": []}]',  # not an object
        b'{"orderedItems": "x"}',  # not an array
        b'{"first": {"orderedItems": []}}',  # not at the top
        b'{"orderedItems": [{"id": 1}, {"id": 2]}',  # malformed item
        b'{"orderedItems": [{"id": 1},]}',  # trailing comma
        b'{"orderedItems": [{"id": 1} {"id": 2}]}',  # no comma
        b'{"orderedItems": [{"id": 1}, {"id": 2}], "n": }',  # malformed after the array
        b'{"orderedItems": [{"id": 1}, {"id": 2}]} x',  # trailing bytes
        b'{"orderedItems": [{"id": 1}, {"id": "2',  # truncated
        b'x{"orderedItems": []}',
    ],
)
def test_what_a_whole_decode_refuses_is_unstreamable(doc):
    for size in (1, 5, len(doc)):
        assert _stream(doc, size, run_bytes=8) == "unstreamable"


_leaf = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.sampled_from(['},{"id":', "]", "[", '"', "\\", "orderedItems", "é"]),
)
_value = st.recursive(
    _leaf,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "type", "tag", "orderedItems"]), kids, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    items=st.lists(_value, max_size=12),
    indent=st.booleans(),
    size=st.integers(1, 200),
    run_bytes=st.integers(1, 400),
    damage=st.none() | st.tuples(st.integers(0, 10_000), st.sampled_from(list(b'{}[],:"x\\ '))),
)
def test_stream_agrees_with_decoding_the_whole_document(items, indent, size, run_bytes, damage):
    doc = json.dumps({"type": "OrderedCollection", "orderedItems": items, "n": len(items)})
    if indent:
        doc = json.dumps(json.loads(doc), indent=1)
    raw = doc.encode()
    if damage is not None:
        at = damage[0] % len(raw)
        raw = raw[:at] + bytes([damage[1]]) + raw[at + 1 :]
    try:
        got = _stream(raw, size, run_bytes)
    except SecondKey:  # (damage can make a second key: then there are two)
        pairs = json.loads(raw, object_pairs_hook=lambda p: p)
        assert [k for k, _ in pairs].count("orderedItems") == 2
        return
    assert got == _whole(raw)
