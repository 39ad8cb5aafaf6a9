"""Small helpers the Dask engine's modules share.

Stable 64-bit hashes of post ids and interaction keys (how the scan finds the rows of one post
spread over partitions, and how later passes pick rows by id), merging partition frames and
counts, the stance table's row order, and Parquet frames written atomically and read back with
repeated strings sharing one Python object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..schema import SCHEMAS, InteractionCol, Table
from ..store import to_pandas
from .plan import _SEQ, Partition, read_partition


def _hash(values: pd.Series) -> np.ndarray:
    """64-bit hashes of strings (stable across processes)."""
    return pd.util.hash_array(values.to_numpy(dtype=object, na_value=None))


def _key_hash(df: pd.DataFrame) -> np.ndarray:
    cols = [InteractionCol.SOURCE, InteractionCol.TARGET, InteractionCol.KIND]
    return pd.util.hash_pandas_object(
        df[cols].astype(object).where(df[cols].notna(), None), index=False
    ).to_numpy()


def _isin(hashes: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    if len(sorted_set) == 0 or len(hashes) == 0:
        return np.zeros(len(hashes), dtype=bool)
    i = np.searchsorted(sorted_set, hashes)
    i[i == len(sorted_set)] = 0
    return sorted_set[i] == hashes


def _concat(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None]
    nonempty = [f for f in frames if len(f)]
    if not nonempty:
        return frames[0].iloc[:0] if frames else pd.DataFrame()
    return pd.concat(nonempty, ignore_index=True) if len(nonempty) > 1 else nonempty[0]


def _add_counts(dicts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + int(v)
    return dict(sorted(out.items()))


def _sort_stance(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in the stance table's order (created_at, post_id, target_side, kind, source, target)."""
    keys = ["created_at", "post_id", "target_side", "kind", "source", "target"]
    return df.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)


def _empty(table: Table) -> pd.DataFrame:
    return to_pandas(SCHEMAS[table].empty_table())


def _by_seq(df: pd.DataFrame, table: Table, columns: Sequence[str]) -> pd.DataFrame:
    if df is None or df.empty:
        return read_partition(Partition(0, 0, (), ()), table, columns)
    df = df.sort_values(_SEQ, kind="mergesort")
    return df.drop(columns=_SEQ).reset_index(drop=True)


def _write(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


def _objects(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, strings as object columns (None for missing) whose repeated
    values share one Python object: 10^7 edges name 10^6 accounts, not 2 x 10^7 strings."""
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            out[name] = col.to_pandas()
            continue
        enc = pc.dictionary_encode(col).combine_chunks()
        uniques = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
        values = uniques[enc.indices.fill_null(len(uniques) - 1).to_numpy()]
        out[name] = pd.Series(values, dtype=object, name=name)
    return pd.DataFrame(out, columns=table.column_names)
