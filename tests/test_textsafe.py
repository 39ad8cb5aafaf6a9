"""Tests for netsupport.textsafe: CSV injection, stable JSON, atomic writes."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from netsupport.schema import Stance
from netsupport.textsafe import (
    atomic_write_bytes,
    dumps_json,
    jsonable,
    safe_csv_cell,
    write_csv,
    write_json,
)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_safe_csv_cell_neutralises_formula_prefixes(prefix):
    assert safe_csv_cell(prefix + "SUM(A1)") == "'" + prefix + "SUM(A1)"


def test_safe_csv_cell_leaves_numbers_and_plain_text():
    assert safe_csv_cell(-1.5) == -1.5
    assert safe_csv_cell("a=b") == "a=b"
    assert safe_csv_cell(None) is None


def test_write_csv_neutralises_cells_and_headers_and_rounds(tmp_path):
    df = pd.DataFrame(
        {
            "=evil": ["=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-2", "\tx", "plain"],
            "v": [1 / 3, -0.5, 0.0, -1e-9, 2.0, np.nan],
            "n": [1, 2, 3, 4, 5, 6],
        }
    )
    p = write_csv(df, tmp_path / "t.csv")
    rows = list(csv.reader(p.open(encoding="utf-8", newline="")))
    assert rows[0] == ["'=evil", "v", "n"]
    assert [r[0] for r in rows[1:]] == [
        "'=cmd|' /C calc'!A0",
        "'@SUM(1)",
        "'+1",
        "'-2",
        "'\tx",
        "plain",
    ]
    # floats rounded to 6 places, -1e-9 rounds to 0 without a sign, NaN empty; numbers untouched
    assert [r[1] for r in rows[1:]] == ["0.333333", "-0.5", "0.0", "0.0", "2.0", ""]
    assert b"\r\n" not in p.read_bytes()


def test_write_csv_datetimes_iso_utc(tmp_path):
    df = pd.DataFrame({"t": pd.to_datetime(["2014-02-14T10:00:00+01:00"], utc=True)})
    assert write_csv(df, tmp_path / "t.csv").read_text() == "t\n2014-02-14T09:00:00Z\n"


def test_write_json_is_sorted_rounded_and_stable(tmp_path):
    obj = {"z": {"b": np.float64(2 / 3), "a": [math.inf, -0.0]}, "a": Stance.SUPPORTIVE}
    p1 = write_json(obj, tmp_path / "a.json")
    p2 = write_json(dict(reversed(list(obj.items()))), tmp_path / "b.json")
    assert p1.read_bytes() == p2.read_bytes()
    assert p1.read_text() == (
        '{\n  "a": "supportive",\n  "z": {\n    "a": [\n      null,\n      0.0\n    ],\n'
        '    "b": 0.666667\n  }\n}\n'
    )


def test_jsonable_rejects_unknown_types():
    with pytest.raises(TypeError, match="object"):
        jsonable(object())


def test_dumps_json_handles_pandas_na_and_sets():
    assert (
        dumps_json({"s": {3, 1}, "x": pd.NA}) == '{\n  "s": [\n    1,\n    3\n  ],\n  "x": null\n}'
    )


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_bytes(tmp_path / "f", b"1")
    atomic_write_bytes(tmp_path / "f", b"2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    assert (tmp_path / "f").read_bytes() == b"2"


def test_atomic_write_gives_normal_file_permissions(tmp_path):
    import os
    import stat

    p = atomic_write_bytes(tmp_path / "f", b"1")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0o600


def test_write_csv_mixed_and_empty_text_columns(tmp_path):
    df = pd.DataFrame(
        {
            "mixed": pd.Series(["=1+1", 3, None, "-x"], dtype=object),
            "none": pd.Series([None] * 4, dtype=object),
            "s": pd.Series(["@a", None, "b", "+c"], dtype="string"),
        }
    )
    rows = list(csv.reader((write_csv(df, tmp_path / "m.csv")).open(encoding="utf-8")))
    assert rows[1:] == [["'=1+1", "", "'@a"], ["3", "", ""], ["", "", "b"], ["'-x", "", "'+c"]]


def _mixed_frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    texts = np.array(["x", "=y", "-z", "@w", "ok\u202e", "", "é", "\tq"], dtype=object)
    df = pd.DataFrame(
        {
            "text": rng.choice(texts, n),
            "share": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n) * 10.0**9),
            "tiny": rng.normal(size=n) * 1e-7,
            "count": rng.integers(-(10**12), 10**12, n),
            "flag": rng.random(n) < 0.5,
            "at": pd.Series(pd.to_datetime(rng.integers(0, 2 * 10**9, n), unit="s", utc=True)),
            "naive": pd.to_datetime(rng.integers(0, 2 * 10**18, n)),
            "kind": pd.array(rng.choice(["aa", "-bb"], n), dtype="str"),
        }
    )
    df.loc[::7, "text"] = None
    df.loc[::11, "text"] = np.nan
    df.loc[::13, "at"] = pd.NaT
    return df


def test_csv_joined_in_arrow_is_the_bytes_pandas_writes(monkeypatch, tmp_path):
    """Guards the fast CSV path (write_csv of big tables): every dtype it takes must give
    pandas' to_csv bytes, and a cell pandas would quote sends the table back to pandas."""
    from netsupport import textsafe

    monkeypatch.setattr(textsafe, "FAST_CSV_ROWS", 1)
    df = _mixed_frame()
    safe = textsafe._safe_frame(df)
    fast = textsafe._csv_bytes(safe)
    assert fast is not None
    assert fast == safe.to_csv(index=False, lineterminator="\n").encode("utf-8")
    quoted = df.assign(text=df["text"].where(df.index != 5, 'a,"b"'))
    assert textsafe._csv_bytes(textsafe._safe_frame(quoted)) is None
    assert textsafe._csv_bytes(textsafe._safe_frame(df[["text"]])) is None  # one column
    p = write_csv(quoted, tmp_path / "q.csv")
    assert p.read_bytes() == textsafe._safe_frame(quoted).to_csv(
        index=False, lineterminator="\n"
    ).encode("utf-8")


@pytest.mark.parametrize("fast_rows", [1, 10**9])
def test_arrow_backed_text_columns_write_the_bytes_of_object_columns(
    monkeypatch, tmp_path, fast_rows
):
    """Guards the str columns kept as they are (no cell to neutralise): the same bytes as the
    object columns they used to become, by the Arrow join and by pandas' writer, with missing
    values, non-ASCII text, a cell to quote and more than one Arrow chunk."""
    from netsupport import textsafe

    monkeypatch.setattr(textsafe, "FAST_CSV_ROWS", fast_rows)
    rng = np.random.default_rng(5)
    n = 300
    plain = pd.Series(rng.choice(["lane", "café", "日本", "x y"], n), dtype="str")
    plain[::9] = None
    chunked = pd.concat([plain.iloc[:100], plain.iloc[100:]], ignore_index=True)
    for extra in ([], ["a,b"]):
        df = pd.DataFrame(
            {
                "a": plain,
                "b": chunked,
                "c": pd.Series([*extra, *["z"] * (n - len(extra))], dtype="str"),
                "v": rng.normal(size=n),
            }
        )
        as_objects = df.astype({c: object for c in ("a", "b", "c")})
        got = write_csv(df, tmp_path / "s.csv").read_bytes()
        assert got == write_csv(as_objects, tmp_path / "o.csv").read_bytes()
        want = textsafe._safe_frame(as_objects).to_csv(index=False, lineterminator="\n")
        assert got == want.encode("utf-8")


def test_iso_seconds_is_strftime():
    from netsupport import textsafe

    at = _mixed_frame()["at"]
    got = textsafe._iso_seconds(at)
    want = at.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object)
    assert got.isna().equals(want.isna())
    assert got.dropna().tolist() == want.dropna().tolist()
    old = pd.Series(pd.to_datetime(["0900-01-01T00:00:01"]).tz_localize("UTC"))
    assert textsafe._iso_seconds(old).tolist() == old.dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
