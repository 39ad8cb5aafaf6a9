"""Accounts CSV: handle, account_id, name, description, followers_count, role.

Only ``handle`` is required (``username`` and ``screen_name`` are accepted for it, ``id`` and
``user_id`` for ``account_id``, ``bio`` for ``description``). ``role`` is one of the roles of
:class:`netsupport.schema.Role` (media, journalist, professional, institution, citizen, unknown),
in any case; ``followers_count`` a whole number (thousands separators allowed). A row that breaks
these rules is a reject with the reason. Accounts merge by handle in the store: for each field the
first non-null value wins, so import the accounts CSV first for its values to take precedence.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "accounts.csv"
>>> _ = p.write_text("handle,role,followers_count\\n@Lane,Professional,\\"5,400\\"\\nx,alien,1\\n")
>>> b = next(read(p, "a.csv", ReadOptions()))
>>> b.accounts.to_pylist()[0]["role"], b.accounts.to_pylist()[0]["followers_count"]
('professional', 5400)
>>> b.rejects.to_pylist()[0]["reason"][:35]
"unknown role 'alien' (expected one "
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import InputFileError
from ..schema import Role, normalise_handle
from .base import AccountRows, Batch, ReadOptions, RejectRows
from .csvfile import _CsvRows

__all__ = ["COLUMNS", "read"]

#: Canonical column -> accepted header names (lower-case).
COLUMNS = {
    "handle": ("handle", "username", "screen_name"),
    "account_id": ("account_id", "id", "user_id", "id_str"),
    "name": ("name", "display_name"),
    "description": ("description", "bio"),
    "followers_count": ("followers_count", "followers"),
    "role": ("role",),
}
_ROLES = [r.value for r in Role]


def read(path: Path, source: str, options: ReadOptions) -> Iterator[Batch]:
    """Read an accounts CSV.

    Raises
    ------
    InputFileError
        If the header has no handle column.
    """
    rejects = RejectRows(source)
    rows = _CsvRows(path, rejects, options)
    accounts = AccountRows()
    try:
        it = iter(rows)
        first = next(it, None)
        if first is None:
            yield Batch(rejects=rejects.take())
            return
        names = [c.strip().lower() for c in first[1]]
        col = {
            key: next((names.index(a) for a in aliases if a in names), None)
            for key, aliases in COLUMNS.items()
        }
        if col["handle"] is None:
            raise InputFileError(path, f"accounts CSV without a handle column (columns: {names})")
        rows.width = len(names)
        rows.rows_read()  # the header is not a row read
        for line, cells in it:
            values = {
                k: (cells[i].strip() or None) if i is not None and i < len(cells) else None
                for k, i in col.items()
            }
            handle = normalise_handle(values["handle"])
            if handle is None:
                rejects.add(line, "missing handle", cells)
                continue
            role = values["role"].lower() if values["role"] else None
            if role is not None and role not in _ROLES:
                rejects.add(
                    line,
                    f"unknown role {values['role']!r} (expected one of {', '.join(_ROLES)})",
                    cells,
                )
                continue
            count = values["followers_count"]
            if count is not None:
                digits = count.replace(",", "").replace("_", "")
                if not digits.isdecimal():  # (isdigit() passes "²", which int() refuses)
                    rejects.add(line, f"followers_count {count!r} is not a whole number", cells)
                    continue
                count = int(digits)
                if count >= 2**63:  # (it became null in the store, silently)
                    rejects.add(
                        line, f"followers_count {values['followers_count']!r} is too large", cells
                    )
                    continue
            accounts.add(
                handle, values["account_id"], values["name"], values["description"], count, role
            )
            if len(accounts) >= options.batch_rows:
                yield Batch(
                    accounts=accounts.take(), rejects=rejects.take(), rows_read=rows.rows_read()
                )
        options.advance(path.stat().st_size)
        yield Batch(accounts=accounts.take(), rejects=rejects.take(), rows_read=rows.rows_read())
    finally:
        rows.close()
