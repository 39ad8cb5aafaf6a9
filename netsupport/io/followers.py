"""Follower and following lists of one account: CSV or plain text, one handle or id per line.

``--account lane --direction followers`` reads the file as the accounts that follow ``lane``
(follows rows ``x -> lane``); ``--direction following`` as the accounts ``lane`` follows
(``lane -> x``). A line is a handle (``@`` optional) or a numeric account id; ids are stored as
``id:NNN`` unless the store's accounts know their handle (a handle made only of digits must be
written with its ``@``). A CSV with a header uses its ``username``/``screen_name``/``handle``
column, else its ``id``/``user_id``/``account_id`` column (as ``twarc2 followers`` writes them),
and an ``observed_at`` column if there is one; without it ``observed_at`` is empty.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "followers.txt"
>>> _ = p.write_text("@Amy\\n12345\\nnot a handle!\\n")
>>> b = next(read(p, "f.txt", ReadOptions(account="Lane")))
>>> b.follows.to_pylist()[0]["follower"], b.follows.to_pylist()[1]["follower"], b.rejects.num_rows
('amy', 'id:12345', 1)
"""

from __future__ import annotations

from codecs import BOM_UTF8 as _BOM
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputFileError
from ..schema import normalise_handle
from .base import Batch, ReadOptions, RejectRows
from .compressed import open_input
from .csvfile import _CsvRows, _Follows
from .detect import HANDLE_LINE

__all__ = ["DIRECTIONS", "read"]

DIRECTIONS = ("followers", "following")
_HANDLE_COLUMNS = ("username", "screen_name", "handle", "user", "user.username", "author")
_ID_COLUMNS = ("id", "user_id", "account_id", "accountid", "id_str", "user.id")
_TIME_COLUMNS = ("observed_at", "followed_at", "date", "created_at_observed")


def _entry(value: str | None, *, is_id: bool = False) -> str | None:
    """Return a handle, ``id:NNN``, or None if the value is neither."""
    if value is None:
        return None
    value = value.strip()
    if is_id:
        return f"id:{value}" if value.isdigit() else None
    if not HANDLE_LINE.fullmatch(value):
        return None
    if value.isdigit():
        return f"id:{value}"
    return normalise_handle(value)


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read a follower/following list for ``options.account`` in ``options.direction``.

    Raises
    ------
    InputFileError
        If no account is given, the direction is unknown, or a CSV header has no handle/id column.
    """
    account = normalise_handle(options.account)
    if account is None:
        raise InputFileError(path, "a follower list needs --account HANDLE (whose list it is)")
    if options.direction not in DIRECTIONS:
        raise InputFileError(
            path, f"--direction must be followers or following, not {options.direction!r}"
        )
    rejects = RejectRows(source)
    with open_input(path) as fh:
        head = fh.readline(1 << 16).decode("utf-8-sig", errors="replace").strip()
    names = [c.strip().lower() for c in _split_header(head)]
    if len(names) > 1 or (names and names[0] in _HANDLE_COLUMNS + _ID_COLUMNS):
        yield from _read_csv(path, source, account, options, rejects)
    else:
        yield from _read_text(path, source, account, options, rejects)


def _split_header(line: str) -> list[str]:
    for delim in (",", "\t", ";"):
        if delim in line:
            return line.split(delim)
    return [line] if line else []


def _pair(account: str, other: str, direction: str) -> tuple[str, str]:
    return (other, account) if direction == "followers" else (account, other)


def _read_text(
    path: Path, source: str, account: str, options: ReadOptions, rejects: RejectRows
) -> Iterator[Batch]:
    """One handle or id per line; read line by line (no CSV quoting rules)."""
    follows = _Follows(rejects)
    read_rows = 0
    with open_input(path) as fh:
        for n, raw in enumerate(fh, 1):
            if n == 1 and raw.startswith(_BOM):
                raw = raw[3:]
            if not raw.strip():
                continue
            read_rows += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                rejects.add(n, "not valid UTF-8", raw)
                continue
            other = _entry(text)
            if other is None:
                rejects.add(n, "not a handle or a numeric account id", raw)
                continue
            follows.rows.append((*_pair(account, other, options.direction), None, n, raw))
            if len(follows.rows) >= options.batch_rows:
                yield Batch(follows=follows.take(), rejects=rejects.take(), rows_read=read_rows)
                read_rows = 0
    options.advance(path.stat().st_size)
    yield Batch(follows=follows.take(), rejects=rejects.take(), rows_read=read_rows)


def _read_csv(
    path: Path, source: str, account: str, options: ReadOptions, rejects: RejectRows
) -> Iterator[Batch]:
    """A CSV with a header naming a handle or id column (and maybe observed_at)."""
    rows = _CsvRows(path, rejects, options)
    follows = _Follows(rejects)
    try:
        it = iter(rows)
        first = next(it, None)
        if first is None:
            yield Batch(rejects=rejects.take())
            return
        rows.rows_read()  # the header is not a row read
        names = [c.strip().lower() for c in first[1]]
        rows.width = len(names)
        handle_col = next((names.index(c) for c in _HANDLE_COLUMNS if c in names), None)
        id_col = next((names.index(c) for c in _ID_COLUMNS if c in names), None)
        time_col = next((names.index(c) for c in _TIME_COLUMNS if c in names), None)
        if handle_col is None and id_col is None:
            raise InputFileError(
                path,
                "follower list CSV without a handle or id column "
                f"(expected one of {', '.join(_HANDLE_COLUMNS + _ID_COLUMNS)})",
            )
        for line, cells in it:
            other = None
            if handle_col is not None and handle_col < len(cells):
                other = _entry(cells[handle_col])
            if other is None and id_col is not None and id_col < len(cells):
                other = _entry(cells[id_col], is_id=True)
            if other is None:
                rejects.add(line, "not a handle or a numeric account id", cells)
                continue
            observed = None
            if time_col is not None and time_col < len(cells):
                observed = cells[time_col].strip() or None
            follows.rows.append((*_pair(account, other, options.direction), observed, line, cells))
            if len(follows.rows) >= options.batch_rows:
                yield Batch(
                    follows=follows.take(), rejects=rejects.take(), rows_read=rows.rows_read()
                )
        options.advance(path.stat().st_size)
        yield Batch(follows=follows.take(), rejects=rejects.take(), rows_read=rows.rows_read())
    finally:
        rows.close()
