"""Write Bluesky repository exports (CAR v1 with DAG-CBOR blocks): for synth and the tests.

libipld reads CAR files but does not write them, so this small writer does, following the specs:
CAR v1 (https://ipld.io/specs/transport/car/carv1/): a varint-prefixed DAG-CBOR header
``{"roots": [cid], "version": 1}``, then varint-prefixed ``cid + block`` sections; DAG-CBOR
(https://ipld.io/specs/codecs/dag-cbor/spec/): map keys sorted by length then bytes, links as
CBOR tag 42 over ``0x00 + cid``; CIDs v1, dag-cbor codec (0x71), sha2-256. The repository layout
(https://atproto.com/specs/repository): a commit ``{did, version, data, rev, prev, sig}`` whose
``data`` is the root of a Merkle search tree of ``collection/rkey`` keys, nodes
``{"l": link|null, "e": [{"p": prefix, "k": key suffix, "v": record, "t": subtree|null}]}``.
The tree here is balanced by count, not by key hash, and the commit is unsigned: a reader that
walks the tree (netsupport's) reads it; a verifying one would not.

Examples
--------
>>> import libipld
>>> car = repo_car("did:plc:amy", [("app.bsky.feed.post", "3k1", {"text": "hi"})])
>>> header, blocks = libipld.decode_car(car)
>>> blocks[header["roots"][0]]["did"]
'did:plc:amy'
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

__all__ = ["Link", "cid_of", "dag_cbor", "repo_car"]


class Link(bytes):
    """A CID (binary) that DAG-CBOR writes as a link (tag 42)."""


def cid_of(block: bytes) -> Link:
    """Return the CID v1 (dag-cbor, sha2-256) of an encoded block."""
    return Link(b"\x01\x71\x12\x20" + hashlib.sha256(block).digest())


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 1 << 8:
        return bytes([major << 5 | 24, n])
    if n < 1 << 16:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    if n < 1 << 32:
        return bytes([major << 5 | 26]) + struct.pack(">I", n)
    return bytes([major << 5 | 27]) + struct.pack(">Q", n)


def dag_cbor(value: object) -> bytes:
    """Encode ``value`` (dict with str keys, list, str, int, bytes, bool, None, Link) as DAG-CBOR.

    Examples
    --------
    >>> dag_cbor({"bb": 1, "a": [True, None]}).hex()
    'a2616182f5f662626201'
    """
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, Link):
        return b"\xd8\x2a" + _head(2, len(value) + 1) + b"\x00" + bytes(value)
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(dag_cbor(v) for v in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return _head(5, len(keys)) + b"".join(dag_cbor(k) + dag_cbor(value[k]) for k in keys)
    raise TypeError(f"cannot encode {type(value).__name__} as DAG-CBOR")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _tree(items: list[tuple[bytes, Link]], blocks: list[bytes], fanout: int = 8) -> Link | None:
    """Store a search-tree node over sorted ``items``; return its CID (None when empty)."""
    if not items:
        return None
    if len(items) <= fanout:
        pivots, groups = items, [[] for _ in items]
        left: list = []
    else:
        step = len(items) // fanout + 1
        idx = list(range(step // 2, len(items), step))
        pivots = [items[i] for i in idx]
        left = items[: idx[0]]
        groups = [items[i + 1 : j] for i, j in zip(idx, [*idx[1:], len(items)], strict=True)]
    entries, prev = [], b""
    for (key, cid), group in zip(pivots, groups, strict=True):
        p = 0
        while p < min(len(prev), len(key)) and prev[p] == key[p]:
            p += 1
        entries.append({"p": p, "k": key[p:], "v": cid, "t": _tree(group, blocks, fanout)})
        prev = key
    node = dag_cbor({"l": _tree(left, blocks, fanout), "e": entries})
    blocks.append(node)
    return cid_of(node)


def repo_car(did: str, records: Iterable[tuple[str, str, dict]], rev: str = "3k2a") -> bytes:
    """Return a repository export of ``did`` holding ``(collection, rkey, record)`` records."""
    blocks: list[bytes] = []
    items = []
    for collection, rkey, record in records:
        block = dag_cbor({"$type": collection, **record})
        blocks.append(block)
        items.append((f"{collection}/{rkey}".encode(), cid_of(block)))
    items.sort()
    root = _tree(items, blocks)
    commit = dag_cbor(
        {"did": did, "version": 3, "data": root, "rev": rev, "prev": None, "sig": b"\x00" * 64}
    )
    blocks.append(commit)
    header = dag_cbor({"roots": [cid_of(commit)], "version": 1})
    out = [_varint(len(header)), header]
    for block in [commit, *blocks[:-1]]:
        cid = cid_of(block)
        out += [_varint(len(cid) + len(block)), cid, block]
    return b"".join(out)
