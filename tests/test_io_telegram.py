"""Telegram importer: Desktop export result.json, one chat (pretty-printed, as Telegram writes
it) and the full export (minified), against hand-counted fixtures in tests/data/io/telegram."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsupport.errors import InputFileError, NetsupportError
from netsupport.ingest import format_summary, import_paths
from netsupport.io import reader_for
from netsupport.io.base import ReadOptions
from netsupport.io.detect import detect_format
from netsupport.io.telegram import iter_chats
from netsupport.store import Store


def _read(path: Path):
    batches = list(reader_for("telegram")(path, str(path), ReadOptions()))

    def rows(name):
        tables = [getattr(b, name) for b in batches if getattr(b, name) is not None]
        return pa.concat_tables(tables).to_pylist() if tables else []

    return {k: rows(k) for k in ("posts", "accounts", "rejects")}, [
        n for b in batches for n in b.notes
    ]


def test_single_chat_rows_match_the_hand_count(data_dir):
    path = data_dir / "io" / "telegram" / "result_chat.json"
    assert detect_format(path) == "telegram"
    rows, notes = _read(path)
    got = [
        (p["post_id"], p["author"], p["kind"], p["target_post_id"], p["target_author"])
        for p in rows["posts"]
    ]
    assert got == [
        ("1700000001/2", "telegram:user1001", "post", None, None),
        ("1700000001/3", "telegram:user1002", "reply", "1700000001/2", "telegram:user1001"),
        ("1700000001/4", "telegram:user1003", "reply", "1700000001/99", None),  # unknown message
        ("1700000001/5", "telegram:user1002", "repost", None, "telegram:northshire police"),
    ]
    first = rows["posts"][0]
    assert first["text"] == "Stand with @inspector_lane today #StandWithLane"  # list-valued text
    assert first["mentions"] == "telegram:inspector_lane" and first["hashtags"] == "standwithlane"
    assert rows["posts"][2]["mentions"] == "telegram:user1004"  # mention_name: by user id
    assert str(first["created_at"]) == "2014-02-14 10:00:00+00:00"  # date_unixtime, not date
    assert rows["posts"][1]["text"] == "agreed, see ]} brackets in text"
    assert [(r["source_line"], r["reason"]) for r in rows["rejects"]] == [
        (6, "timestamp '2014-02-14T14:00:00' has no time zone"),
        (7, "message without from_id"),
    ]
    assert notes == ["service messages (joins, pins, calls; not posts) skipped: 1"]
    assert {a["handle"]: a["name"] for a in rows["accounts"]}["telegram:user1002"] == (
        'Bob {the} "builder"'
    )


def test_full_export_reads_every_chat_with_ids_per_chat(data_dir):
    path = data_dir / "io" / "telegram" / "result_full.json"
    assert detect_format(path) == "telegram"
    rows, _ = _read(path)
    got = [(p["post_id"], p["kind"], p["target_author"], p["text"]) for p in rows["posts"]]
    assert got == [
        ("5002/10", "post", None, "did you see the news about lane?"),
        ("5002/11", "reply", "telegram:user1001", "yes, terrible"),
        ("5002/12", "repost", "telegram:channel777", "Official statement"),
        ("chat2/10", "post", None, "note to self"),  # same message id, another chat (no id)
    ]
    assert [(r["source_line"], r["reason"]) for r in rows["rejects"]] == [
        (3, "not a message (a JSON str)")
    ]


def test_import_summary_and_dedupe_by_chat_and_message(tmp_path, data_dir):
    store = Store(tmp_path / "s")
    src = data_dir / "io" / "telegram" / "result_chat.json"
    copy = tmp_path / "again.json"
    copy.write_bytes(src.read_bytes() + b"\n")  # another file, the same messages
    summary = import_paths(store, [src, copy])
    assert [(f.posts, f.duplicates) for f in summary.files] == [(4, 0), (0, 4)]
    assert "service messages (joins, pins, calls; not posts) skipped: 1" in format_summary(summary)


@pytest.mark.parametrize(
    "text",
    ['{"name": "x", "messages": [', '{"messages": [{"id": 1}', '{"messages": 5}', "[1, 2]", "{}"],
)
def test_truncated_or_wrong_documents_are_one_line_errors(tmp_path, text):
    path = tmp_path / "result.json"
    path.write_text(text)
    with pytest.raises(InputFileError):
        _read(path)


def test_pretty_and_minified_give_the_same_messages(data_dir):
    path = data_dir / "io" / "telegram" / "result_chat.json"
    pretty = path.read_bytes()
    mini = json.dumps(json.loads(pretty)).encode()

    def messages(buf):
        out = []
        for what, value in iter_chats(buf):
            if what == "parsed":
                out.append(json.loads(bytes(value[0])))
            elif what == "run":  # (raw slices and the messages decoded in one call)
                raws, decoded = value
                assert [json.loads(bytes(r)) for r in raws] == decoded
                out.extend(decoded)
            elif what == "typed":  # (msgspec structs of the fields read: the raw text is whole)
                raws, decoded = value
                assert [json.loads(bytes(r))["id"] for r in raws] == [m.id for m in decoded]
                out.extend(json.loads(bytes(r)) for r in raws)
            elif what == "message":
                out.append(json.loads(value))
        return out

    assert messages(pretty) == messages(mini) == json.loads(pretty)["messages"]


_SET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["message", "service", "user1", "1392372000", "}", "]", "{"]),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "from",
                    "from_id",
                    "date_unixtime",
                    "text",
                    "text_entities",
                    "reply_to_message_id",
                    "forwarded_from",
                    "messages",
                    "user_id",
                ]
            )
            | st.text(max_size=5),
            c,
            max_size=5,
        )
    ),
    max_leaves=15,
)


def _good(i: int) -> dict:
    return {
        "id": 1000 + i,
        "type": "message",
        "date_unixtime": "1392372000",
        "from": "G",
        "from_id": "user9",
        "text": ["ok ", {"type": "bold", "text": str(i)}],
    }


@_SET
@given(
    junk=st.lists(_junk, max_size=10),
    n_good=st.integers(1, 4),
    at=st.integers(0, 50),
    indent=st.sampled_from([None, 1, 2]),
)
def test_random_messages_never_lose_a_good_one(tmp_path_factory, junk, n_good, at, indent):
    msgs = list(junk)
    goods = [_good(i) for i in range(n_good)]
    for g in goods:
        msgs.insert(at % (len(msgs) + 1), g)
    path = tmp_path_factory.mktemp("t") / "result.json"
    path.write_text(
        json.dumps({"name": "c", "type": "x", "id": 1, "messages": msgs}, indent=indent)
    )
    rows, _ = _read(path)
    got = {p["post_id"] for p in rows["posts"] if p["author"] == "telegram:user9"}
    assert {f"1/{g['id']}" for g in goods} <= got


@_SET
@given(data=st.binary(max_size=2000), prefix=st.sampled_from([b"", b'{"messages": [', b"{"]))
def test_random_bytes_never_a_traceback(tmp_path_factory, data, prefix):
    path = tmp_path_factory.mktemp("b") / "result.json"
    path.write_bytes(prefix + data)
    with contextlib.suppress(NetsupportError):
        _read(path)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_compressed_export_gives_the_same_rows(tmp_path, data_dir, codec):
    import gzip

    import zstandard

    src = (data_dir / "io" / "telegram" / "result_chat.json").read_bytes()
    packed = gzip.compress(src) if codec == "gzip" else zstandard.ZstdCompressor().compress(src)
    path = tmp_path / "result.json.x"
    path.write_bytes(packed)
    assert detect_format(path) == "telegram"
    rows, _ = _read(path)
    want, _ = _read(data_dir / "io" / "telegram" / "result_chat.json")
    assert [r["post_id"] for r in rows["posts"]] == [r["post_id"] for r in want["posts"]]


def test_pages_given_back_while_reading_change_nothing(tmp_path, data_dir, monkeypatch):
    import netsupport.io.telegram as tg

    src = json.loads((data_dir / "io" / "telegram" / "result_chat.json").read_text())
    msgs = src["messages"]
    src["messages"] = [
        {**m, "id": m["id"] + 10 * k, "reply_to_message_id": m["reply_to_message_id"] + 10 * k}
        if "reply_to_message_id" in m
        else {**m, "id": m["id"] + 10 * k}
        for k in range(300)
        for m in msgs
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(src, indent=1))
    want, _ = _read(path)
    monkeypatch.setattr(tg, "_RELEASE", 4096)  # release every page or so
    got, _ = _read(path)
    assert got == want and len(got["posts"]) == 4 * 300


def test_a_reply_before_its_parent_in_the_export_gets_the_parents_sender(tmp_path):
    msgs = [
        {
            "id": 5,
            "type": "message",
            "date_unixtime": "1392375600",
            "from": "B",
            "from_id": "user2",
            "text": "answer",
            "reply_to_message_id": 4,
        },
        {
            "id": 4,
            "type": "message",
            "date_unixtime": "1392372000",
            "from": "A",
            "from_id": "user1",
            "text": "question",
        },
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "c", "type": "x", "id": 9, "messages": msgs}))
    rows, _ = _read(path)
    assert [(p["post_id"], p["target_author"]) for p in rows["posts"]] == [
        ("9/5", "telegram:user1"),
        ("9/4", None),
    ]


def test_a_reply_to_another_chats_message_is_not_given_this_chats_sender(tmp_path):
    msgs = [
        {
            "id": 4,
            "type": "message",
            "date_unixtime": "1392372000",
            "from": "A",
            "from_id": "user1",
            "text": "question",
        },
        {
            "id": 5,
            "type": "message",
            "date_unixtime": "1392375600",
            "from": "B",
            "from_id": "user2",
            "text": "answer",
            "reply_to_message_id": 4,
            "reply_to_peer_id": "channel777",
        },
    ]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "c", "type": "x", "id": 9, "messages": msgs}))
    rows, _ = _read(path)
    assert [(p["target_post_id"], p["target_author"]) for p in rows["posts"]] == [
        (None, None),
        ("777/4", None),
    ]


def _read_or_error(path: Path):
    try:
        return _read(path)
    except NetsupportError as exc:
        return str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    junk=st.lists(_junk, max_size=12),
    n_good=st.integers(0, 30),
    indent=st.sampled_from([None, 1, 2]),
    run_bytes=st.sampled_from([1, 60, 300, 64 * 1024]),
    damage=st.none() | st.tuples(st.integers(0, 100_000), st.sampled_from(list(b'{}[],:" \n'))),
)
def test_runs_give_the_rows_and_rejects_of_one_by_one_decoding(
    tmp_path_factory, junk, n_good, indent, run_bytes, damage
):
    # messages are decoded a run at a time (one orjson call); a run that cannot be (a cut
    # inside a message, another indentation, a malformed message) falls back to one by one:
    # the rows, the rejects (with their raw text and numbers) and the errors must not change
    import netsupport.io.telegram as tg

    msgs = [_good(i) for i in range(n_good)] + list(junk)
    text = json.dumps({"name": "c", "type": "x", "id": 1, "messages": msgs}, indent=indent)
    raw = text.encode()
    if damage is not None:
        at = damage[0] % len(raw)
        raw = raw[:at] + bytes([damage[1]]) + raw[at + 1 :]
    path = tmp_path_factory.mktemp("r") / "result.json"
    path.write_bytes(raw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tg, "_RUN_BYTES", run_bytes)
        got = _read_or_error(path)
        mp.setattr(tg, "_run", lambda buf, start: 1)  # one by one
        want = _read_or_error(path)
    assert got == want


_names = st.sampled_from(["@amy", "Amy", " @Bob ", "@", "", "#Tag", "#", " #x ", "plain words"])
_entity = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["plain", "mention", "hashtag", "mention_name", "bold", None]),
        "text": _names | st.none(),
        "user_id": st.integers(0, 9) | st.sampled_from(["7", ""]),
    },
)
_message = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers(1, 40) | st.sampled_from(["5", "x", None]),
        "type": st.sampled_from(["message"] * 6 + ["service", "other"]),
        "date_unixtime": st.sampled_from(["1392372000", "1392375600", 1392379200, "soon"]),
        "date": st.sampled_from(["2014-02-14T10:00:00", None]),
        "from": st.sampled_from(["Amy", "Bob", None]),
        "from_id": st.sampled_from(["user1", "user2", "channel3", "", " ", None]),
        "text": st.text(max_size=5)
        | st.none()
        | st.lists(st.text(max_size=3) | _entity, max_size=4),
        "text_entities": st.none() | st.lists(_entity, max_size=4),
        "reply_to_message_id": st.integers(1, 40) | st.sampled_from(["3", "x"]),
        "reply_to_peer_id": st.sampled_from(["channel777", "user5", 9, "1"]),
        "forwarded_from": st.sampled_from(["Northshire Police", "", None]),
        "forwarded_from_id": st.sampled_from(["user3", "", " "]),
        "photo": st.just({"w": [1, 2.5, None], "s": "é"}),
    },
)


def _batches(path: Path, batch_rows: int):
    out = []
    for b in reader_for("telegram")(path, str(path), ReadOptions(batch_rows=batch_rows)):
        out.append(
            (
                b.rows_read,
                b.notes,
                *(t.to_pylist() if t is not None else None for t in (b.posts, b.accounts)),
                b.rejects.to_pylist() if b.rejects is not None else None,
            )
        )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    msgs=st.lists(_message, max_size=40),
    odd=st.none() | st.tuples(st.integers(0, 39), st.sampled_from([True, 1.5, [1], {"a": 1}])),
    batch_rows=st.sampled_from([1, 3, 50_000]),
)
def test_typed_runs_give_the_rows_of_orjson_dicts(tmp_path_factory, msgs, odd, batch_rows):
    # msgspec decodes a run into structs of the fields read, and TelegramParser.typed parses
    # those: the batches (rows, accounts, rejects with raw text and numbers, counts, notes) must
    # be those of the same runs decoded into dicts and parsed by TelegramParser.message; a value
    # of another type (odd) sends its whole run to the dicts
    import msgspec

    import netsupport.io.telegram as tg

    if odd is not None and msgs:
        msgs[odd[0] % len(msgs)]["from_id"] = odd[1]
    text = json.dumps({"name": "c", "type": "x", "id": 1, "messages": msgs}, indent=1)
    path = tmp_path_factory.mktemp("t") / "result.json"
    path.write_text(text)

    def refuse(chunk):
        raise msgspec.DecodeError("refused")

    with pytest.MonkeyPatch.context() as mp:
        got = _batches(path, batch_rows)
        mp.setattr(tg, "_DECODE_RUN", refuse)
        assert not any(what == "typed" for what, _ in iter_chats(path.read_bytes()))
        want = _batches(path, batch_rows)
    assert got == want


def test_typed_runs_are_taken_for_telegram_shaped_messages():
    msgs = [_good(i) for i in range(5)]
    text = json.dumps({"name": "c", "type": "x", "id": 1, "messages": msgs}, indent=1)
    # (the last message of a chat, after which no message follows, is decoded on its own)
    assert [what for what, _ in iter_chats(text.encode())] == ["chat", "typed", "parsed"]


@pytest.mark.parametrize("others", [[], ["soon"], ["2014-02-14T10:00:00Z"], [None]])
def test_safe_seconds_are_kept_as_seconds_by_every_timestamp_path(others):
    # a typed row whose date_unixtime is in _SAFE_SECONDS carries no raw text: parse_column
    # must never refuse those values, whatever else is in the batch (ints alone, or mixed)
    from netsupport.io.telegram import _SAFE_SECONDS
    from netsupport.io.timestamps import parse_column

    ends = [_SAFE_SECONDS.start, 1392372000, _SAFE_SECONDS.stop - 1]
    stamps, bad = parse_column([*ends, *others])
    assert not set(bad) & {0, 1, 2}
    got = stamps.cast(pa.int64()).to_pylist()[:3]
    assert got == [s * 1_000_000 for s in ends]


def test_an_account_is_given_once_not_in_every_batch(tmp_path):
    # a sender's row (id and name) is given in the first batch it appears in; a later batch adds
    # it again only if the row could change the merge (another id for the same key)
    msgs = [_good(i) for i in range(4)] + [{**_good(9), "from_id": "USER9", "from": None}]
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"name": "c", "type": "x", "id": 1, "messages": msgs}, indent=1))
    batches = list(reader_for("telegram")(path, str(path), ReadOptions(batch_rows=1)))
    given = [r for b in batches if b.accounts is not None for r in b.accounts.to_pylist()]
    assert [(r["handle"], r["account_id"], r["name"]) for r in given] == [
        ("telegram:user9", "user9", "G"),
        ("telegram:user9", "USER9", None),
    ]


def test_truncated_export_error_says_where_it_stops(tmp_path, data_dir):
    # usr7: an export cut inside a message said only "not a well-formed Telegram export
    # (unclosed)": no position, and no word of truncation
    src = (data_dir / "io" / "telegram" / "result_chat.json").read_bytes()
    cut = src.rindex(b'"id"')  # inside the last message
    path = tmp_path / "result.json"
    path.write_bytes(src[:cut])
    with pytest.raises(InputFileError) as err:
        _read(path)
    start = src.rindex(b"{", 0, cut)
    line = src.count(b"\n", 0, start) + 1
    assert f"the message opened at line {line} (byte {start}) does not close" in str(err.value)
    assert "truncated?" in str(err.value)
