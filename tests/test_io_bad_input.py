"""Bad input, end to end (issue 3): each case imports what it can, rejects the rest with file,
line and reason, prints a summary; a file that cannot be read at all is one error line, exit 2,
and nothing written."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.store import Store

runner = CliRunner()


def tweet(i, **extra):
    t = {
        "id": str(i),
        "text": f"@lane post {i}",
        "created_at": "2014-02-14T10:00:00.000Z",
        "author": {"id": "7", "username": "amy"},
        "entities": {"mentions": [{"username": "lane", "id": "9"}]},
    }
    t.update(extra)
    return json.dumps(t)


def _import(*args):
    return runner.invoke(app, ["import", *map(str, args)])


def _rejects(store):
    df = Store(store).read("rejects")
    return [(r.source_file, r.source_line, r.reason) for r in df.itertuples()]


def test_malformed_json_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(f'{tweet(1)}\n{{"id": "2", oops}}\n{tweet(3)}\n')
    result = _import(path, "--store", tmp_path / "s")
    assert result.exit_code == 0
    assert Store(tmp_path / "s").read("posts")["post_id"].tolist() == ["1", "3"]
    ((src, line, reason),) = _rejects(tmp_path / "s")
    assert (src, line) == (str(path), 2) and reason.startswith("malformed JSON")
    assert f"{path}:2: malformed JSON" in result.stdout


def test_truncated_file_keeps_every_complete_line(tmp_path):
    path = tmp_path / "t.jsonl"
    full = f"{tweet(1)}\n{tweet(2)}\n{tweet(3)}\n"
    path.write_text(full[: len(full) - 25])  # cut inside the last line
    assert _import(path, "--store", tmp_path / "s").exit_code == 0
    assert Store(tmp_path / "s").read("posts")["post_id"].tolist() == ["1", "2"]
    assert [(line, reason[:14]) for _, line, reason in _rejects(tmp_path / "s")] == [
        (3, "malformed JSON")
    ]


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        tweet(1).encode()
        + b"\n"
        + tweet(2).replace("post 2", "caf\udce9").encode("utf-8", "surrogateescape")
        + b"\n"
        + tweet(3).encode()
        + b"\n"
    )
    csv_path = tmp_path / "e.csv"
    csv_path.write_bytes(
        b"source,target,kind,created_at,text\n"
        b"amy,lane,mention,2014-02-14T10:00:00Z,ok\n"
        b"amy,lane,mention,2014-02-14T10:00:00Z,caf\xe9\n"
    )
    assert _import(path, csv_path, "--store", tmp_path / "s").exit_code == 0
    assert len(Store(tmp_path / "s").read("posts")) == 3
    rejects = _rejects(tmp_path / "s")
    assert [(src, line) for src, line, _ in rejects] == [(str(path), 2), (str(csv_path), 3)]
    assert "UTF-8" in rejects[0][2] and rejects[1][2] == "not valid UTF-8"


def test_a_file_entirely_in_another_encoding_cannot_be_read(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_text("source,target,kind,created_at\namy,lane,mention,2014-02-14T10:00Z\n", "utf-16")
    result = _import(path, "--store", tmp_path / "s")
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: UTF-16 text; save it as UTF-8 and import again\n"
    assert not Store(tmp_path / "s").exists()


def test_missing_required_fields(tmp_path):
    path = tmp_path / "t.jsonl"
    no_author = json.loads(tweet(2))
    del no_author["author"]
    path.write_text(
        "\n".join([tweet(1), json.dumps(no_author), tweet(3, id=None), tweet(4, created_at=None)])
    )
    assert _import(path, "--store", tmp_path / "s").exit_code == 0
    assert Store(tmp_path / "s").read("posts")["post_id"].tolist() == ["1"]
    assert [(line, reason[:20]) for _, line, reason in _rejects(tmp_path / "s")] == [
        (2, "missing author handl"),
        (3, "missing id"),
        (4, "missing timestamp"),
    ]


def test_timestamps_in_other_formats_and_zones(tmp_path):
    path = tmp_path / "t.jsonl"
    forms = [
        "2014-02-14T10:00:00.000Z",
        "2014-02-14T11:00:00+01:00",
        "2014-02-14T05:00:00-05:00",
        "Fri Feb 14 10:00:00 +0000 2014",
        1392372000000,
        "2014-02-14 10:00:00",  # no zone: rejected, never guessed
        "14/02/2014 10:00",
    ]
    path.write_text("\n".join(tweet(i, created_at=f) for i, f in enumerate(forms)) + "\n")
    assert _import(path, "--store", tmp_path / "s").exit_code == 0
    posts = Store(tmp_path / "s").read("posts")
    assert posts["post_id"].tolist() == ["0", "1", "2", "3", "4"]
    assert posts["created_at"].astype(str).unique().tolist() == ["2014-02-14 10:00:00+00:00"]
    assert [(line, reason) for _, line, reason in _rejects(tmp_path / "s")] == [
        (6, "timestamp '2014-02-14 10:00:00' has no time zone"),
        (
            7,
            "cannot read timestamp '14/02/2014 10:00' (expected ISO-8601 with a zone, "
            "Twitter's 'Wed Feb 12 10:00:00 +0000 2014' or epoch milliseconds)",
        ),
    ]


def test_unknown_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Minutes of the meeting.\nNothing to see.\n")
    result = _import(path, "--store", tmp_path / "s")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: cannot tell the format from the content")
    assert len(result.stderr.splitlines()) == 1
    result = _import(path, "--store", tmp_path / "s", "--format", "twitter-v3")
    assert result.exit_code == 2 and "twitter-v3" in result.stderr


def test_empty_file(tmp_path):
    for name in ("empty.jsonl", "empty.csv"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n\n   \n")
    result = _import(
        tmp_path / "empty.jsonl",
        tmp_path / "empty.csv",
        tmp_path / "blank.jsonl",
        "--store",
        tmp_path / "s",
    )
    assert result.exit_code == 0
    assert Store(tmp_path / "s").counts() == {
        "posts": 0,
        "interactions": 0,
        "follows": 0,
        "accounts": 0,
        "rejects": 0,
        "deletions": 0,
    }
    result = _import(tmp_path / "empty.csv", "--store", tmp_path / "s2", "--format", "csv")
    assert result.exit_code == 0


def test_directory_of_mixed_files(tmp_path, data_dir):
    d = tmp_path / "collection"
    d.mkdir()
    (d / "a_tweets.jsonl").write_text(f"{tweet(1)}\nnot json\n")
    shutil.copy(data_dir / "io" / "nodexl_edges.csv", d / "b_nodexl.csv")
    (d / "c_accounts.csv").write_text("handle,role\nlane,professional\n")
    (d / "d_notes.txt").write_text("Minutes of the meeting.\n")
    (d / "e_empty.json").write_bytes(b"")
    (d / "f_image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    shutil.copytree(data_dir / "io" / "archive", d / "g_archive")
    (d / "h_more").mkdir()
    shutil.copy(data_dir / "io" / "v1_tweets.jsonl", d / "h_more" / "v1.jsonl")

    result = _import(d, "--store", tmp_path / "s")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    status = {line.split()[0]: line.split()[1] for line in lines[1:] if line.startswith(str(d))}
    assert status == {
        str(d / "a_tweets.jsonl"): "twitter-v2",
        str(d / "b_nodexl.csv"): "nodexl",
        str(d / "c_accounts.csv"): "accounts",
        str(d / "d_notes.txt"): "unknown",
        str(d / "e_empty.json"): "empty",
        str(d / "f_image.png"): "unknown",
        str(d / "g_archive"): "twitter-archive",
        str(d / "h_more" / "v1.jsonl"): "twitter-v2",
    }
    assert "skipped: cannot tell the format" in result.stdout
    assert "skipped: binary content" in result.stdout
    store = Store(tmp_path / "s")
    assert [r["path"] for r in store.imported_files()] == [
        str(d / "a_tweets.jsonl"),
        str(d / "b_nodexl.csv"),
        str(d / "c_accounts.csv"),
        str(d / "e_empty.json"),
        str(d / "g_archive"),
        str(d / "h_more" / "v1.jsonl"),
    ]
    # the v1.1 quote 434200000000000003 was already imported from the NodeXL file
    # (the NodeXL file's 5 posts include one dated 15/02/2014 09:30, Excel's UK order)
    assert store.counts()["posts"] == 1 + 5 + 4 + 3 - 1
    assert store.imported_files()[-1]["rows"]["duplicates"] == 1
    assert {(src, line) for src, line, _ in _rejects(tmp_path / "s")} == {
        (str(d / "a_tweets.jsonl"), 2),
    }
    accounts = store.read("accounts").set_index("handle")
    assert accounts.loc["lane", "role"] == "professional"


def test_a_bad_file_in_a_directory_stops_the_whole_import(tmp_path):
    d = tmp_path / "collection"
    d.mkdir()
    (d / "a.jsonl").write_text(f"{tweet(1)}\n")
    (d / "b.zip").write_bytes(b"PK\x03\x04 truncated")
    result = _import(d, "--store", tmp_path / "s")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {d / 'b.zip'}: not a readable zip archive")
    assert not Store(tmp_path / "s").exists()


def test_auto_detection_on_a_first_line_longer_than_its_head_says_so(tmp_path):
    # usr7/usr8: Mastodon statuses whose first line (a long post, a whole page) is longer than
    # the bytes auto-detection reads were "JSON, but not tweets or Twitter API pages": true of
    # the head, misleading about the file; --format mastodon reads it
    import json

    import pytest

    from netsupport.errors import UnknownFormat
    from netsupport.io.detect import HEAD_BYTES, detect_format

    status = {
        "id": "1",
        "account": {"acct": "a@b.example", "username": "a"},
        "content": "<p>" + "x" * HEAD_BYTES + "</p>",
        "created_at": "2014-02-14T10:00:00Z",
    }
    path = tmp_path / "statuses.jsonl"
    path.write_text(json.dumps(status) + "\n")
    with pytest.raises(UnknownFormat, match="first line is longer than the 64 KiB .* --format"):
        detect_format(path)
