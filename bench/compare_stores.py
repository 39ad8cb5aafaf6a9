"""Check that two stores hold the same rows: the before/after check of an importer change.

Usage: ``python bench/compare_stores.py STORE_A STORE_B``. Every canonical table is read whole
(pandas), its rows sorted by every column, and compared with ``DataFrame.equals`` (values,
dtypes and nulls); the manifests' per-file row counts are compared too. Prints one line per
table and exits 1 if any differs (with the first differing rows).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netsupport.schema import Table
from netsupport.store import Store


def _frame(store: Store, table: Table):
    df = store.read_arrow(table).to_pandas()
    cols = list(df.columns)
    key = df.astype(str)  # (a total order over mixed and null values)
    order = key.sort_values(cols, kind="stable").index
    return df.loc[order].reset_index(drop=True)


def compare(a: Path, b: Path) -> bool:
    """Print the comparison of every table of stores ``a`` and ``b``; return True if equal."""
    sa, sb = Store(a), Store(b)
    same = True
    for table in Table:
        fa, fb = _frame(sa, table), _frame(sb, table)
        ok = fa.equals(fb)
        verdict = "same" if ok else "DIFFERENT"
        print(f"{table.value:<13} {len(fa):>9,} rows vs {len(fb):>9,}: {verdict}")
        if not ok:
            same = False
            if list(fa.columns) == list(fb.columns) and len(fa) == len(fb):
                diff = (fa.astype(str) != fb.astype(str)).any(axis=1)
                print(fa[diff].head(3).to_string(), "\n", fb[diff].head(3).to_string())
    rows_a = [(f.get("path"), f.get("rows")) for f in sa.manifest().get("imports", [])]
    rows_b = [(f.get("path"), f.get("rows")) for f in sb.manifest().get("imports", [])]
    if rows_a != rows_b:
        print(f"manifest row counts differ: {rows_a} vs {rows_b}")
        same = False
    return same


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    raise SystemExit(0 if compare(Path(sys.argv[1]), Path(sys.argv[2])) else 1)
