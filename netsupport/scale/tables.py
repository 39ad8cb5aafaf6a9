"""What the single-machine code reads of the Dask engine's results.

:func:`metric_inputs_of` turns a study's aggregates into the metrics' inputs
(:class:`netsupport.support.MetricInputs`); :func:`stance_writer` writes the stance table
(stance.csv) from the parts the partitions wrote, in the pandas engine's row order; and
:func:`save_aggregates` / :func:`load_aggregates` keep the aggregates between runs (Parquet
frames and one JSON in the run's work folder).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..schema import PostCol, Table
from ..store import Store
from .driver import StudyAggregates
from .frames import _concat, _objects, _sort_stance, _write


def metric_inputs_of(agg: StudyAggregates, study: Any) -> Any:
    """Return the :class:`netsupport.support.MetricInputs` of a study's Dask aggregates."""
    from ..accountmap import apply_account_map, study_account_map
    from ..stance import object_strings
    from ..support import MetricInputs
    from ..support.timeseries import timeline_counts, timeline_freq

    store = Store(study.store_dir)
    tables = object_strings(
        {
            Table.FOLLOWS.value: store.read(Table.FOLLOWS),
            Table.ACCOUNTS.value: store.read(Table.ACCOUNTS),
        }
    )
    tables = apply_account_map(tables, study_account_map(study))  # (as the pandas engine's)
    return MetricInputs(
        units=agg.units,
        stance_rows=agg.rows,
        by_rule=agg.by_rule,
        agreement=agg.agreement,
        lexicon=agg.lexicon,
        coverage={**agg.coverage, "_span": store.time_span()},  # for the coverage check
        tie_interactions=agg.ties,
        follows=tables[Table.FOLLOWS.value],
        accounts=tables[Table.ACCOUNTS.value],
        posts=agg.own_posts,
        any_posts=agg.any_posts,
        any_references=agg.any_references,
        proxy_units=agg.proxy_units,
        proxy_reach=agg.proxy_reach,
        # the units are compressed with the model's calendar bins too (unit_bins), so the
        # counts per bin are exact; the baseline edges give each account's activity
        timeline=timeline_counts(agg.units, freq := timeline_freq(study.windows)),
        timeline_freq=freq,
        baseline_edges=agg.edges.get("baseline"),
        stance_model={**agg.stance_model, **agg.stance_profile},
        validation=agg.validation,
        marker_only=agg.marker_only,
    )


def stance_writer(parts_dir: str | os.PathLike[str]) -> Callable[[Path], Path]:
    """Return a function writing the stance table (stance.csv) from the parts of
    :func:`aggregate_study` (``parts_dir``), in the pandas engine's row order, part by part.

    Each partition wrote its rows sorted; partitions are disjoint intervals of time in order, so
    the parts follow each other; the rows of posts spread over partitions (processed on the
    driver) are merged into the part of their time.
    """
    from ..stance import STANCE_COLUMNS
    from ..textsafe import write_csv_parts

    folder = Path(parts_dir)

    def read(path: Path) -> pd.DataFrame:
        from ..stance import object_strings

        df = pq.read_table(path).to_pandas()
        return object_strings({"t": df})["t"]

    def frames() -> Iterator[pd.DataFrame]:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        cpath = folder / "part-conflicts.parquet"
        conflicts = read(cpath) if cpath.is_file() else None
        for name, start, end in index:
            path = folder / f"part-{name}.parquet"
            df = read(path) if path.is_file() else None
            if conflicts is not None and len(conflicts):
                ts = pd.to_datetime(conflicts["created_at"], utc=True)
                if start is None:
                    here = ts.isna().to_numpy()
                else:
                    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
                    here = ((ts >= lo) & (ts < hi)).to_numpy(dtype=bool, na_value=False)
                if here.any():
                    df = _sort_stance(_concat([df, conflicts[here]]))
            if df is not None:
                yield df

    def write(path: Path) -> Path:
        return write_csv_parts(frames(), path, STANCE_COLUMNS)

    return write


def save_aggregates(agg: StudyAggregates, folder: str | os.PathLike[str]) -> Path:
    """Write the aggregates to ``folder`` (Parquet frames and one JSON); return the JSON's path."""
    from ..textsafe import write_json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "units": agg.units,
        "ties": agg.ties,
        "own_posts": agg.own_posts,
        "proxy_units": agg.proxy_units,
        "proxy_reach": agg.proxy_reach.rename("reach").rename_axis("source").reset_index(),
        **{f"edges-{k}": v for k, v in agg.edges.items()},
        **{f"top-{k}": v for k, v in agg.top_posts.items()},
        **({"platforms": agg.platforms} if agg.platforms is not None else {}),
    }
    for name, df in frames.items():
        _write(df, folder / f"{name}.parquet")
    meta = {
        "rows": agg.rows,
        "by_rule": agg.by_rule,
        "agreement": agg.agreement,
        "lexicon": agg.lexicon,
        "coverage": agg.coverage,
        "any_posts": agg.any_posts,
        "any_references": agg.any_references,
        "info": agg.info,
        "edges": sorted(agg.edges),
        "top": sorted(agg.top_posts),
        "stance_profile": agg.stance_profile,
        "stance_model": agg.stance_model,
        "validation": agg.validation,
        "marker_only": agg.marker_only,
    }
    return write_json(meta, folder / "aggregates.json")


def load_aggregates(folder: str | os.PathLike[str]) -> StudyAggregates:
    """Read the aggregates :func:`save_aggregates` wrote (strings as object, as computed)."""
    folder = Path(folder)
    meta = json.loads((folder / "aggregates.json").read_text(encoding="utf-8"))

    def read(name: str) -> pd.DataFrame:
        return _objects(pq.read_table(folder / f"{name}.parquet"))

    reach = read("proxy_reach")
    return StudyAggregates(
        units=read("units"),
        rows=int(meta["rows"]),
        by_rule=dict(meta["by_rule"]),
        agreement=meta["agreement"],
        lexicon=meta["lexicon"],
        edges={k: read(f"edges-{k}") for k in meta["edges"]},
        coverage=meta["coverage"],
        ties=read("ties"),
        own_posts=read("own_posts"),
        any_posts=bool(meta["any_posts"]),
        any_references=bool(meta["any_references"]),
        proxy_units=read("proxy_units"),
        proxy_reach=pd.Series(
            reach["reach"].to_numpy(dtype=np.int64),
            index=pd.Index(reach["source"].to_numpy(dtype=object), name="source"),
            name=PostCol.AUTHOR.value,
        ),
        top_posts={k: read(f"top-{k}") for k in meta["top"]},
        platforms=read("platforms") if (folder / "platforms.parquet").is_file() else None,
        info=meta.get("info", {}),
        stance_profile=dict(meta.get("stance_profile", {})),
        stance_model=dict(meta.get("stance_model", {})),
        validation=meta.get("validation"),
        marker_only=meta.get("marker_only"),
    )
