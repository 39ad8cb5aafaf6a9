"""`netsupport import` and `netsupport info`: summaries, exit codes, one-line errors."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.store import Store

runner = CliRunner()


def _import(*args):
    return runner.invoke(app, ["import", *map(str, args)])


def test_import_prints_summary_and_info_describes_the_store(tmp_path, data_dir):
    store = tmp_path / "store"
    page = data_dir / "io" / "twarc2_page.jsonl"
    result = _import(page, data_dir / "io" / "v1_tweets.jsonl", "--store", store)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "file",
        "format",
        "rows",
        "read",
        "posts",
        "interactions",
        "follows",
        "accounts",
        "duplicates",
        "rejected",
    ]
    page_row = next(line for line in lines if line.startswith(str(page)))
    # rows read, posts, interactions, follows, accounts, duplicates, rejected
    assert page_row.split()[1:] == ["twitter-v2", "4", "4", "4", "0", "5", "0", "0"]
    assert lines[-1].startswith("store now holds: posts 7, interactions 8")

    info = runner.invoke(app, ["info", "--store", str(store)])
    assert info.exit_code == 0, info.output
    assert "posts from 2014-02-14T10:00:00Z to 2014-02-15T12:00:00Z" in info.stdout
    assert "edtheeditor" in info.stdout and "imported files (2):" in info.stdout
    as_json = json.loads(runner.invoke(app, ["info", "--store", str(store), "--json"]).stdout)
    assert as_json["counts"]["posts"] == 7
    assert as_json["top_authors"][0] == {"author": "bob_b", "posts": 2}


def test_reimport_is_a_no_op(tmp_path, data_dir):
    store = tmp_path / "store"
    page = data_dir / "io" / "twarc2_page.jsonl"
    assert _import(page, "--store", store).exit_code == 0
    manifest = (store / "manifest.json").read_text()
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(page.read_bytes())  # same content under another name
    result = _import(page, copy, "--store", store)
    assert result.exit_code == 0
    assert result.stdout.count("already imported") == 2
    assert (
        json.loads((store / "manifest.json").read_text())["imports"]
        == json.loads(manifest)["imports"]
    )
    assert Store(store).counts()["posts"] == 4


def test_reimport_in_another_format_reads_the_file_again(tmp_path, data_dir):
    # usr7: a file imported with the wrong --format (every row a reject) was "already
    # imported" when imported again with the right one: its posts could never get in
    store = tmp_path / "store"
    page = data_dir / "io" / "twarc2_page.jsonl"
    wrong = _import(page, "--format", "reddit", "--store", store)
    assert wrong.exit_code == 0 and Store(store).counts()["posts"] == 0
    right = _import(page, "--store", store)
    assert right.exit_code == 0, right.output
    assert "already imported" not in right.stdout
    assert Store(store).counts()["posts"] == 4
    again = _import(page, "--format", "twitter-v2", "--store", store)
    assert again.stdout.count("already imported") == 1


def test_unreadable_file_is_one_error_line_exit_2_and_nothing_written(tmp_path, data_dir):
    store = tmp_path / "store"
    assert _import(data_dir / "io" / "v1_tweets.jsonl", "--store", store).exit_code == 0
    manifest = (store / "manifest.json").read_bytes()
    bad = tmp_path / "cut.json"
    bad.write_text('[{"id": "1", "text": "a", "created_at": "2014-02-14T10:00:00Z"}, {"id": ')
    page = data_dir / "io" / "twarc2_page.jsonl"
    result = _import(page, bad, "--store", store)  # the good file first: still nothing written
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: not valid JSON")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert (store / "manifest.json").read_bytes() == manifest
    assert not [p for p in store.rglob("*.parquet") if p.name.startswith(".")]


def test_missing_path_unknown_content_and_bad_options(tmp_path):
    store = tmp_path / "store"
    result = _import(tmp_path / "nope.jsonl", "--store", store)
    assert result.exit_code == 2 and "no such file" in result.stderr
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02garbage" * 10)
    result = _import(blob, "--store", store)
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {blob}: binary content")
    notes = tmp_path / "notes.txt"
    notes.write_text("Dear diary, today the inspector was suspended.\n")
    result = _import(notes, "--store", store)
    assert result.exit_code == 2 and "cannot tell the format" in result.stderr
    result = _import(notes, "--store", store, "--format", "excel")
    assert result.exit_code == 2 and "excel" in result.stderr
    result = _import(notes, "--store", store, "--map", "nofield")
    assert result.exit_code == 2 and "COL=FIELD" in result.stderr
    assert not store.exists() or Store(store).counts()["posts"] == 0


def test_info_on_a_missing_store(tmp_path):
    result = runner.invoke(app, ["info", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no store here" in result.stderr


def test_empty_file_imports_zero_rows(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = _import(empty, "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert "empty" in result.stdout
    assert Store(tmp_path / "store").counts()["posts"] == 0


def test_a_pipe_or_device_is_one_error_line_not_a_hang(tmp_path):
    """A FIFO (``<(zcat x.gz)``) or a device is read more than once (detection, hash, read):
    refused at once instead of blocking forever."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "tweets.jsonl"
    os.mkfifo(fifo)
    store = tmp_path / "store"
    for path, fmt in ((fifo, "auto"), ("/dev/zero", "twitter-v2")):
        args = ["import", str(path), "--store", str(store), "--format", fmt]
        done = subprocess.run(
            [sys.executable, "-m", "netsupport", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"error: {path}: not a regular file (a pipe, socket or device); "
            "save it to a file first\n"
        )
    assert not store.exists() or Store(store).counts()["posts"] == 0


# ---- a store folder that cannot be made or written (issue 16 leftovers) -------------------------


def _store_error(store: Path | str, data_dir: Path) -> str:
    result = _import(data_dir / "io" / "v1_tweets.jsonl", "--store", store)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_store_under_proc_says_it_cannot_be_created(data_dir):
    """/proc takes no new folders (mkdir: ENOENT): was 'error: /proc/x: No such file or
    directory', which did not say the store was the problem, nor that /proc exists."""
    err = _store_error("/proc/netsupport-x", data_dir)
    assert (
        err
        == "error: cannot create the store /proc/netsupport-x: /proc does not accept new folders\n"
    )


def test_a_store_under_a_read_only_folder_says_permission_denied(tmp_path, data_dir, monkeypatch):
    """mkdir refused (EACCES; simulated, as root may write a chmod 555 folder): was
    'error: PATH: Permission denied', not saying what netsupport was trying to do."""
    store = tmp_path / "ro" / "store"
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self == store:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    err = _store_error(store, data_dir)
    assert err == f"error: cannot create the store {store}: permission denied\n"


def test_a_store_folder_that_cannot_be_written_says_so(tmp_path, data_dir, monkeypatch):
    """The folder exists but its lock file cannot be made (a read-only store)."""
    store = tmp_path / "store"
    store.mkdir()
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if Path(path) == store / ".lock":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    err = _store_error(store, data_dir)
    assert err == f"error: cannot write to the store {store}: permission denied\n"


def test_a_store_path_that_is_a_file_or_under_a_file_is_one_line(tmp_path, data_dir):
    """An existing file as --store, and a store path under a file (was 'PATH: not a folder',
    not naming the file in the way)."""
    f = tmp_path / "notes.txt"
    f.write_text("x", encoding="utf-8")
    assert _store_error(f, data_dir) == f"error: {f}: --store needs a folder, not a file\n"
    under = f / "store"
    assert _store_error(under, data_dir) == (
        f"error: cannot create the store {under}: {f} is a file\n"
    )


def test_ctrl_c_while_the_cli_is_loading_is_one_line_exit_130():
    # usr7: SIGINT in the first ~0.3 s of `python -m netsupport ...` (the imports) printed a
    # KeyboardInterrupt traceback; later it is "error: interrupted", exit 130
    import subprocess
    import sys

    code = (
        "import builtins, runpy, sys\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == 'typer':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "sys.argv = ['netsupport', 'info', '--help']\n"
        "runpy.run_module('netsupport', run_name='__main__')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stderr) == (130, "error: interrupted\n")


def test_the_installed_command_is_the_guarded_entry_point():
    # the console script pointed at cli:app: the installed `netsupport` command skipped both
    # cli.main (errors raised outside a command as one line, exit 2) and the Ctrl-C guard of
    # `python -m netsupport`; it now runs the same function
    import importlib
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    module, func = scripts["netsupport"].split(":")
    assert (module, func) == ("netsupport.__main__", "run")
    assert callable(getattr(importlib.import_module(module), func))


def test_reimport_with_other_row_options_is_refused_or_read(tmp_path):
    # usr7/usr8: the same file imported again with another --account / --direction / --map was
    # "already imported", exit 0: the new options silently did nothing (the user believes the
    # store now holds the lists of boss, or the corrected edges)
    listing = tmp_path / "f.txt"
    listing.write_text("amy\nben\ncat\n")
    store = tmp_path / "store"
    opts = ("--format", "followers", "--store", store)
    assert _import(listing, *opts, "--account", "lane").exit_code == 0
    manifest = (store / "manifest.json").read_bytes()
    again = _import(listing, *opts, "--account", "lane", "--direction", "followers")
    assert again.exit_code == 0 and again.stdout.count("already imported") == 1
    for other in (("--account", "boss"), ("--account", "lane", "--direction", "following")):
        result = _import(listing, *opts, *other)
        assert result.exit_code == 2, result.output
        line = result.stderr.strip()
        assert len(line.splitlines()) == 1 and line.startswith(f"error: {listing}: ")
        assert "already imported into this store with --account lane --direction followers" in line
        assert "another --store" in line and "Traceback" not in result.output
        assert (store / "manifest.json").read_bytes() == manifest
    edges = tmp_path / "e.csv"
    edges.write_text("a,b,when\namy,lane,2014-02-14T10:00:00Z\nben,lane,2014-02-14T11:00:00Z\n")
    swapped = ("--map", "a=target", "--map", "b=source", "--map", "when=created_at")
    assert _import(edges, "--format", "csv", *swapped, "--store", store).exit_code == 0
    right = ("--map", "a=source", "--map", "b=target", "--map", "when=created_at")
    result = _import(edges, "--format", "csv", *right, "--store", store)
    assert result.exit_code == 2 and "--map a=target --map b=source" in result.stderr
    # a first reading that kept nothing (every row a reject) is read again with the new options
    fresh = tmp_path / "store2"
    wrong = ("--map", "a=source", "--map", "b=target", "--map", "b=created_at")
    first = _import(edges, "--format", "csv", *wrong, "--store", fresh)
    assert first.exit_code == 0 and Store(fresh).counts()["interactions"] == 0, first.output
    result = _import(edges, "--format", "csv", *right, "--store", fresh)
    assert result.exit_code == 0, result.output
    assert Store(fresh).counts()["interactions"] == 2


@pytest.mark.parametrize(
    ("stop", "line", "code"),
    [(KeyboardInterrupt, "error: interrupted\n", 130), (None, "error: terminated\n", 143)],
)
def test_ctrl_c_or_sigterm_while_the_command_line_is_parsed_is_one_line(
    monkeypatch, stop, line, code
):
    # usr8: Ctrl-C ~0.5 s into `netsupport run ...` (typer parsing the command line, before
    # the command) exited 130 with nothing said: typer turns it into a silent Exit(130)
    from typer.core import TyperGroup

    from netsupport.errors import Terminated

    def interrupted(*args, **kwargs):
        raise (stop or Terminated)()

    monkeypatch.setattr(TyperGroup, "make_context", interrupted)
    result = runner.invoke(app, ["info", "--help"])
    assert (result.exit_code, result.stderr) == (code, line)
