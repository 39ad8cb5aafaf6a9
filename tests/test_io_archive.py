"""Twitter/X archive importer: zip and folder, field by field; unsafe and broken archives."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import UTC, datetime

import pytest

from netsupport.errors import InputFileError, UnsafeArchive
from netsupport.ingest import import_paths
from netsupport.io.archive import read
from netsupport.io.base import ReadOptions
from netsupport.io.detect import detect_format
from netsupport.store import Store


def _rows(store, table):
    return (
        Store(store).read(table).astype(object).where(lambda d: d.notna(), None).to_dict("records")
    )


def test_archive_zip_with_two_tweet_parts(tmp_path, data_dir):
    zpath = data_dir / "io" / "archive.zip"
    assert detect_format(zpath) == "twitter-archive"
    summary = import_paths(Store(tmp_path / "s"), [zpath])
    assert summary.files[0].format == "twitter-archive"
    posts = _rows(tmp_path / "s", "posts")
    assert [p["post_id"] for p in posts] == [
        "433900000000000000",
        "433950000000000000",
        "434300000000000000",
        "434310000000000000",
    ]
    assert {p["author"] for p in posts} == {"inspector_lane"}
    assert {p["author_id"] for p in posts} == {"111"}
    first, reply, repost, quote = posts
    assert first["created_at"] == datetime(2014, 2, 14, 9, tzinfo=UTC)
    assert (first["kind"], first["text"], first["lang"]) == (
        "post",
        "Suspended for doing my job. Back soon.",
        "en",
    )
    assert first["source_file"] == f"{zpath}!data/tweets.js" and first["source_line"] == 1
    assert (reply["kind"], reply["target_post_id"], reply["target_author"]) == (
        "reply",
        "433912350000000001",
        "amyexample",
    )
    assert reply["mentions"] == "amyexample"
    assert (repost["kind"], repost["target_author"], repost["target_post_id"]) == (
        "repost",
        "polfed",
        None,
    )
    assert repost["hashtags"] == "standwithlane"
    assert repost["source_file"] == f"{zpath}!data/tweets-part1.js" and repost["source_line"] == 1
    assert (quote["kind"], quote["target_author"], quote["target_post_id"]) == (
        "quote",
        "northshirepolice",
        "434250000000000000",
    )
    accounts = {a["handle"]: a for a in _rows(tmp_path / "s", "accounts")}
    assert accounts["inspector_lane"] == {
        "handle": "inspector_lane",
        "account_id": "111",
        "name": "Inspector Lane",
        "description": "Police inspector. Views my own.",
        "followers_count": None,
        "role": None,
    }
    assert accounts["amyexample"]["account_id"] == "2244994945"  # from a mention
    follows = [
        (f["follower"], f["followee"], f["observed_at"]) for f in _rows(tmp_path / "s", "follows")
    ]
    # follower ids resolved to handles where the archive's mentions name them
    assert follows == [
        ("amyexample", "inspector_lane", None),
        ("id:5555", "inspector_lane", None),
        ("inspector_lane", "polfed", None),
    ]
    edges = {(i["source"], i["target"], i["kind"]) for i in _rows(tmp_path / "s", "interactions")}
    assert edges == {
        ("inspector_lane", "amyexample", "reply"),
        ("inspector_lane", "polfed", "repost"),
        ("inspector_lane", "northshirepolice", "quote"),
        ("amyexample", "inspector_lane", "follow"),
        ("id:5555", "inspector_lane", "follow"),
        ("inspector_lane", "polfed", "follow"),
    }


def test_extracted_folder_gives_the_same_rows(tmp_path, data_dir):
    folder = data_dir / "io" / "archive"
    assert detect_format(folder) == "twitter-archive"
    import_paths(Store(tmp_path / "a"), [data_dir / "io" / "archive.zip"])
    import_paths(Store(tmp_path / "b"), [folder])
    for table in ("posts", "follows", "accounts", "interactions"):
        a = [
            {k: v for k, v in r.items() if k != "source_file"} for r in _rows(tmp_path / "a", table)
        ]
        b = [
            {k: v for k, v in r.items() if k != "source_file"} for r in _rows(tmp_path / "b", table)
        ]
        assert a == b, table
    again = import_paths(Store(tmp_path / "b"), [folder])
    assert again.files[0].status == "already imported"


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, *mode in members:
            info = zipfile.ZipInfo(name, date_time=(2022, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (mode[0] if mode else 0o100644) << 16
            zf.writestr(info, data)
    return path


ACCOUNT = b'window.YTD.account.part0 = [{"account": {"username": "x", "accountId": "1"}}]'


@pytest.mark.parametrize(
    "name",
    [
        "../evil.js",
        "data/../../evil.js",
        "/etc/passwd",
        "C:/Windows/evil.js",
        "data\\..\\..\\evil.js",
    ],
)
def test_members_escaping_the_folder_refuse_the_archive(tmp_path, name):
    path = _zip(tmp_path / "a.zip", [("data/account.js", ACCOUNT), (name, b"x")])
    with pytest.raises(UnsafeArchive, match="outside the archive folder"):
        list(read(path, str(path), ReadOptions()))


def test_symlink_member_is_refused(tmp_path):
    path = _zip(
        tmp_path / "a.zip",
        [("data/account.js", ACCOUNT), ("data/tweets.js", b"/etc/passwd", stat.S_IFLNK | 0o777)],
    )
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        list(read(path, str(path), ReadOptions()))


def test_a_member_name_twice_refuses_the_archive(tmp_path):
    """zipfile reads the last of two same-named members; the first one's tweets would vanish."""
    tweets = b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "%d", "full_text": "t"}}]'
    members = [("data/account.js", ACCOUNT)] + [("data/tweets.js", tweets % i) for i in (1, 2)]
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _zip(tmp_path / "a.zip", members)
    with pytest.raises(UnsafeArchive, match="'data/tweets.js' appears twice"):
        list(read(path, str(path), ReadOptions()))


def test_symlink_loop_in_an_extracted_folder_is_not_a_file(tmp_path):
    import os

    folder = tmp_path / "archive"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "account.js").write_bytes(ACCOUNT)
    (folder / "data" / "tweets.js").write_bytes(
        b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "t",'
        b' "created_at": "Fri Feb 14 09:00:00 +0000 2014"}}]'
    )
    os.symlink("loop-b.js", folder / "data" / "loop-a.js")
    os.symlink("loop-a.js", folder / "data" / "loop-b.js")
    summary = import_paths(Store(tmp_path / "s"), [folder])
    assert summary.total("posts") == 1 and summary.total("rejects") == 0


def test_owner_from_manifest_js_when_account_js_names_none(tmp_path):
    """An archive's manifest.js assigns an object to window.__THAR_CONFIG, not an array."""
    manifest = (
        b'window.__THAR_CONFIG = {\n  "userInfo" : {\n    "accountId" : "111",\n'
        b'    "userName" : "Inspector_Lane",\n    "displayName" : "Lane"\n  }\n}'
    )
    tweets = b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "5", "full_text": "t",'
    tweets += b' "created_at": "Fri Feb 14 09:00:00 +0000 2014"}}]'
    path = _zip(tmp_path / "a.zip", [("data/manifest.js", manifest), ("data/tweets.js", tweets)])
    batches = list(read(path, str(path), ReadOptions()))
    owner = batches[0].accounts.to_pylist()
    assert [(a["handle"], a["account_id"], a["name"]) for a in owner] == [
        ("inspector_lane", "111", "Lane")
    ]
    posts = [p for b in batches if b.posts is not None for p in b.posts.to_pylist()]
    assert [(p["post_id"], p["author"], p["author_id"]) for p in posts] == [
        ("5", "inspector_lane", "111")
    ]


def test_zip_bomb_stops_at_the_cap_with_a_clear_error(tmp_path):
    bomb = b"window.YTD.tweets.part0 = [" + b" " * (8 * 1024**2) + b"]"
    path = _zip(tmp_path / "bomb.zip", [("data/account.js", ACCOUNT), ("data/tweets.js", bomb)])
    assert path.stat().st_size < 20_000  # 8 MB of spaces compress to almost nothing
    with pytest.raises(UnsafeArchive, match="decompresses to more than 1048576 bytes"):
        list(read(path, str(path), ReadOptions(max_archive_bytes=1024**2)))
    # the same archive under the default cap is fine (an empty tweets part) once the
    # compression-ratio limit (8 MB at about 1000:1 is over it: issue #14 item 15) is lifted
    batches = list(read(path, str(path), ReadOptions(max_compression_ratio=0)))
    assert sum(b.posts.num_rows for b in batches if b.posts is not None) == 0


def test_zip_bomb_via_cli_exits_2_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from netsupport.cli import app

    bomb = b"window.YTD.tweets.part0 = [" + b" " * (4 * 1024**2) + b"]"
    path = _zip(tmp_path / "bomb.zip", [("data/account.js", ACCOUNT), ("data/tweets.js", bomb)])
    result = CliRunner().invoke(
        app, ["import", str(path), "--store", str(tmp_path / "s"), "--max-archive-bytes", "100000"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: decompresses to more than 100000 bytes")
    assert not Store(tmp_path / "s").exists()


def test_truncated_zip_and_broken_members(tmp_path, data_dir):
    good = (data_dir / "io" / "archive.zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputFileError, match="not a readable zip archive"):
        list(read(cut, str(cut), ReadOptions()))
    broken = _zip(
        tmp_path / "broken.zip",
        [
            ("data/account.js", ACCOUNT),
            ("data/tweets.js", b'window.YTD.tweets.part0 = [{"tweet": '),
        ],
    )
    with pytest.raises(InputFileError, match=r"broken.zip!data/tweets.js: malformed JSON"):
        list(read(broken, str(broken), ReadOptions()))
    evaluated = _zip(
        tmp_path / "js.zip",
        [("data/account.js", ACCOUNT), ("data/tweets.js", b"alert(1); window.YTD.x = []")],
    )
    with pytest.raises(InputFileError, match="not an archive data file"):
        list(read(evaluated, str(evaluated), ReadOptions()))
    ownerless = _zip(tmp_path / "o.zip", [("data/tweets.js", b"window.YTD.tweets.part0 = []")])
    with pytest.raises(InputFileError, match="no data/account.js"):
        list(read(ownerless, str(ownerless), ReadOptions()))


def test_bad_tweets_in_a_part_are_rejects_not_errors(tmp_path):
    part = (
        b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "created_at": '
        b'"Fri Feb 14 09:00:00 +0000 2014", "full_text": "ok"}}, '
        b'{"tweet": {"full_text": "no id"}}, '
        b'{"tweet": {"id_str": "3", "created_at": "sometime", "full_text": "x"}}, 7]'
    )
    path = _zip(tmp_path / "a.zip", [("data/account.js", ACCOUNT), ("data/tweets.js", part)])
    batches = list(read(path, str(path), ReadOptions()))
    posts = [r for b in batches if b.posts is not None for r in b.posts.to_pylist()]
    rejects = [r for b in batches if b.rejects is not None for r in b.rejects.to_pylist()]
    assert [p["post_id"] for p in posts] == ["1"]
    assert [(r["source_line"], r["reason"][:20]) for r in rejects] == [
        (2, "missing id_str"),
        (3, "cannot read timestam"),
        (4, "not a tweet (a JSON "),
    ]


def test_single_tweets_js_next_to_account_js(tmp_path, data_dir):
    folder = tmp_path / "loose"
    folder.mkdir()
    for name in ("tweets.js", "account.js"):
        (folder / name).write_bytes((data_dir / "io" / "archive" / "data" / name).read_bytes())
    batches = list(read(folder / "tweets.js", "t.js", ReadOptions()))
    posts = [r for b in batches if b.posts is not None for r in b.posts.to_pylist()]
    assert [p["author"] for p in posts] == ["inspector_lane", "inspector_lane"]
    assert detect_format(folder / "tweets.js") == "twitter-archive"


def test_zip_in_memory_names_are_checked_before_reading(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/account.js", ACCOUNT)
        zf.writestr("../../outside.txt", b"x")
    path = tmp_path / "slip.zip"
    path.write_bytes(buf.getvalue())
    with pytest.raises(UnsafeArchive):
        list(read(path, str(path), ReadOptions()))
