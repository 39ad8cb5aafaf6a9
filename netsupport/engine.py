"""Engines: where ``netsupport run`` computes the steps after the import, behind one interface.

The runner (:func:`netsupport.study.run_study`) wires the steps once: cache keys, reuse, the
cached intermediate files, progress and the report's swap. What differs between engines is
only how a step's results are *computed*, and that is this module's :class:`Engine`:

* :class:`PandasEngine` (``--engine pandas``, the default): one process holds the study's
  tables; the stance of every interaction (:func:`netsupport.stance.stance_table`), communities
  and PageRank on the interaction graph, :func:`netsupport.support.analyse`,
  :func:`netsupport.report.build_inputs`.
* :class:`DaskEngine` (``--engine dask``): a Dask cluster reads the store in partitions by day
  and returns aggregates (:mod:`netsupport.scale`); communities, metrics and report are computed
  from the aggregates. Same results (tests/test_scale.py).

An engine also says which steps may overlap (:attr:`Engine.concurrent`). With the pandas
engine the stance and communities steps are independent: both read the study's interactions
(:func:`netsupport.stance.stance_interactions`), the stance step writes only the stance table
and the communities step reads no stance. :func:`overlap_decision` says whether the runner runs
them at the same time (two usable CPUs, ``jobs`` not 1, and the memory estimate of both
together below the limit); the communities step then runs in a child process
(:func:`graph_measures_child`) which reads the interactions from an Arrow file in the run's
work folder and writes membership and PageRank as the Parquet files the step caches anyway.
Nothing is pickled but the study's parameters and two timestamps. The step (in the child or
not: :func:`pandas_graph_measures`) also makes what the metrics step would otherwise make and
that reads no stance: the sensitivity grid's community detections on the baseline graph
(:func:`netsupport.support.sensitivity.community_runs`) and the baseline edges, cached beside
membership and PageRank (:class:`GraphFiles`), so that work overlaps the stance step too. With
the Dask engine the communities step reads the aggregates the stance step made, so nothing
overlaps.

The pandas engine's report, too, has parts that read no metric (:attr:`Engine.report_child`):
graph.gexf's windows' edges and scope, the network map's crisis graph and tables/stance.csv.
When the metrics and report steps both run, a child process (:func:`report_parts_child`) makes
them from the same Arrow file of interactions while the metrics step runs, writing the stance
table's CSV into the report's staging folder; once the metrics step has found the accounts'
roles (graph.gexf's node attributes) the same child writes graph.gexf there
(:func:`report_gexf_child`) while the report step draws the charts. The same decision
(:func:`overlap_decision`, with the child's own estimate) says when it runs in turn instead.

The memory estimates (:func:`estimate_memory`, :func:`check_memory`) are per engine and live
here too.

Examples
--------
>>> get_engine("pandas").name, get_engine("dask").concurrent
('pandas', ())
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import NetsupportError, ResourceLimit, StudyError
from .schema import Table
from .textsafe import atomic_write_text, jsonable, write_json
from .wording import counted, unmatched_labels

__all__ = [
    "ENGINES",
    "DaskEngine",
    "Engine",
    "GraphFiles",
    "GraphMeasures",
    "PandasEngine",
    "ReportParts",
    "check_memory",
    "estimate_memory",
    "get_engine",
    "graph_measures_child",
    "memory_limit",
    "overlap_decision",
    "pandas_graph_measures",
    "read_graph_interactions",
    "read_parquet",
    "release_arrow_memory",
    "report_gexf_child",
    "report_parts_child",
    "write_graph_measures",
    "write_parquet",
]

#: The engines, by the name ``--engine`` takes.
ENGINES = ("pandas", "dask")


# ---- cached tables -------------------------------------------------------------------------------


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` atomically (temp file + rename), index dropped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet` as pandas."""
    return pq.read_table(path).to_pandas()


#: The stance step's cached rules' decisions (StanceResult.rules), beside its table.
_RULES_FILE = "stance-rules.parquet"


def _write_rules(rules: np.ndarray | None, path: Path) -> None:
    """Keep the rules' stance codes of the model-decided table (none: remove a stale file)."""
    if rules is None:
        if path.exists():
            path.unlink()
        return
    write_parquet(pd.DataFrame({"rules": np.asarray(rules, dtype=np.int8)}), path)


def _read_rules(path: Path) -> np.ndarray | None:
    return read_parquet(path)["rules"].to_numpy(dtype=np.int8) if path.is_file() else None


def _series(df: pd.DataFrame, index: str, value: str) -> pd.Series:
    s = df.set_index(index)[value]
    s.index.name = index
    return s


def _frame(s: pd.Series, name: str) -> pd.DataFrame:
    return pd.DataFrame({"handle": s.index.astype(object), name: s.to_numpy()})


# ---- the communities step's files (written by the runner or by a child process) -----------------


@dataclass(frozen=True)
class GraphFiles:
    """Where the communities step keeps its results (in the run's work folder)."""

    membership: Path
    pagerank: Path
    info: Path
    #: the sensitivity grid's community detections (:class:`netsupport.support.sensitivity.
    #: CommunityRuns`): their JSON values and their partitions (long: partition, handle,
    #: community; the consensus is partition -1)
    grid: Path
    grid_partitions: Path
    #: the baseline edges (:func:`netsupport.graph.baseline_edges` of the declared windows)
    baseline_edges: Path

    @classmethod
    def in_folder(cls, cache: Path) -> GraphFiles:
        return cls(
            cache / "membership.parquet",
            cache / "pagerank.parquet",
            cache / "communities.json",
            cache / "community-grid.json",
            cache / "community-grid.parquet",
            cache / "baseline-edges.parquet",
        )

    def all(self) -> list[Path]:
        return [
            self.membership,
            self.pagerank,
            self.info,
            self.grid,
            self.grid_partitions,
            self.baseline_edges,
        ]


#: What the communities step computes: (membership, its info, PageRank, its info, the
#: sensitivity grid's community detections, the baseline edges), None where not measured.
GraphMeasures = tuple[Any, dict[str, Any], Any, dict[str, Any], Any, Any]
#: What the later steps read of it: (membership, PageRank, the info of both, the grid's
#: detections, the baseline edges).
GraphState = tuple[pd.Series, pd.Series, dict[str, Any], Any, Any]


def pandas_graph_measures(inter: pd.DataFrame, study: Any) -> GraphMeasures:
    """The pandas engine's communities step on the study's interactions, in the runner's process
    or in a child (:func:`graph_measures_child`): the baseline communities and the crisis
    PageRank (the same values as the functions support.analyse itself uses when given none, so
    ``netsupport run`` gives the same metrics as ``netsupport support``), and the sensitivity
    grid's community detections on the same baseline edges (:func:`netsupport.graph_measures.
    community_runs`: they read no stance, so the metrics step need not wait for them), and
    those edges (the metrics step's tie comparison reads them too). Computed on integer codes
    (:func:`netsupport.graph_measures.graph_measures`)."""
    from .graph_measures import InteractionCodes, graph_measures

    return graph_measures(InteractionCodes.from_frame(inter), study)


def write_graph_measures(
    files: GraphFiles,
    membership: pd.Series | None,
    m_info: Mapping[str, Any],
    pagerank: pd.Series | None,
    p_info: Mapping[str, Any],
    runs: Any = None,
    edges: pd.DataFrame | None = None,
) -> GraphState:
    """Write the communities step's results; return (membership, pagerank, info, grid runs,
    baseline edges) as the later steps use them (empty series where not measured; ``runs``: a
    :class:`netsupport.support.sensitivity.CommunityRuns` or None; ``edges``: None when not
    made)."""
    info = jsonable({"communities": m_info, "pagerank": p_info})
    write_json(info, files.info)
    membership = (
        membership if membership is not None else pd.Series(dtype="int64", name="community")
    )
    pagerank = pagerank if pagerank is not None else pd.Series(dtype="float64", name="pagerank")
    write_parquet(_frame(membership, "community"), files.membership)
    write_parquet(_frame(pagerank, "pagerank"), files.pagerank)
    _write_community_runs(runs, files)
    # no edges: a table of no columns (baseline_edges always has its columns, even empty)
    write_parquet(edges if edges is not None else pd.DataFrame(), files.baseline_edges)
    return membership, pagerank, info, runs, edges


def read_graph_measures(files: GraphFiles) -> GraphState:
    """Read back what :func:`write_graph_measures` wrote."""
    from .stance import object_strings

    membership = _series(read_parquet(files.membership), "handle", "community")
    pagerank = _series(read_parquet(files.pagerank), "handle", "pagerank")
    info = json.loads(files.info.read_text(encoding="utf-8"))
    edges: pd.DataFrame | None = read_parquet(files.baseline_edges)
    # handles as Python strings, as graph.baseline_edges makes them
    edges = object_strings({"e": edges})["e"] if len(edges.columns) else None
    return membership, pagerank, info, _read_community_runs(files), edges


def _write_community_runs(runs: Any, files: GraphFiles) -> None:
    """Write a CommunityRuns (or None): its JSON values unrounded (``json``, not
    :func:`write_json`'s 6 places: the metrics step rounds once, as when it computes them)
    and its partitions as one long Parquet table."""
    if runs is None:
        parts: list[pd.Series] = []
        atomic_write_text(files.grid, "null\n")
    else:
        parts = [*runs.partitions, runs.consensus]
        atomic_write_text(files.grid, json.dumps(runs.info, sort_keys=True, allow_nan=False) + "\n")
    ids = [
        np.full(len(p), i if i < len(parts) - 1 else -1, dtype="int64") for i, p in enumerate(parts)
    ]
    frame = pd.DataFrame(
        {
            "partition": np.concatenate(ids) if parts else np.zeros(0, dtype="int64"),
            "handle": pd.array(
                np.concatenate([p.index.to_numpy(dtype=object) for p in parts])
                if parts
                else np.zeros(0, dtype=object),
                dtype=object,
            ),
            "community": np.concatenate([p.to_numpy(dtype="int64") for p in parts])
            if parts
            else np.zeros(0, dtype="int64"),
        }
    )
    write_parquet(frame, files.grid_partitions)


def _read_community_runs(files: GraphFiles) -> Any:
    """Read back what :func:`_write_community_runs` wrote (None when there were no runs)."""
    from .support.sensitivity import CommunityRuns

    info = json.loads(files.grid.read_text(encoding="utf-8"))
    if info is None:
        return None
    df = read_parquet(files.grid_partitions)
    part = df["partition"].to_numpy()
    handles = df["handle"].to_numpy(dtype=object)
    comm = df["community"].to_numpy(dtype="int64")

    def series(i: int) -> pd.Series:
        sel = part == i
        return pd.Series(
            comm[sel], index=pd.Index(handles[sel], dtype=object, name="handle"), name="community"
        )

    n = int(part.max()) + 1 if len(part) else 0
    return CommunityRuns(info, [series(i) for i in range(n)], series(-1))


def graph_measures_child(study: Any, interactions: str, files: GraphFiles) -> tuple[float, float]:
    """Compute the pandas engine's communities step in a child process.

    Reads the study's interactions from the Arrow IPC file ``interactions`` (written by the
    parent) as integer codes (:meth:`netsupport.graph_measures.InteractionCodes.from_arrow`),
    computes what :func:`pandas_graph_measures` computes in the sequential step, and
    writes them to ``files``. Returns the start and end of the work on the system-wide
    monotonic clock, so the parent can report the overlap honestly.
    """
    t0 = time.monotonic()  # (the step's imports are part of its time)
    _import_igraph_without_plotting()
    from .graph_measures import InteractionCodes, graph_measures

    codes = InteractionCodes.from_arrow(interactions, study.windows)
    write_graph_measures(files, *graph_measures(codes, study))
    return t0, time.monotonic()


def _import_igraph_without_plotting() -> None:
    """Import igraph in the communities step's child without matplotlib.

    igraph imports ``matplotlib.pyplot`` when it is imported, for its plotting functions
    (``igraph.drawing``), ~0.3 CPU-s of the child's ~0.33 s of importing igraph; the child only
    detects communities. With ``matplotlib`` unimportable for the moment of the import igraph
    falls back to its stub (plotting with matplotlib then raises, in this process only); a later
    ``import matplotlib`` here works as usual. Nothing is done when igraph or matplotlib is
    imported already, or when igraph is not installed (the step says so itself)."""
    import sys

    if "igraph" in sys.modules or "matplotlib" in sys.modules:
        return
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # (import raises ImportError)
    try:
        import igraph  # noqa: F401
    except ImportError:
        pass
    finally:
        del sys.modules["matplotlib"]


@dataclass(frozen=True)
class ReportParts:
    """The report's parts that read no metric, made by its child process while the metrics step
    ran (:func:`report_parts_child`): what :func:`netsupport.report.write_report` would
    otherwise make first."""

    scope: Any  # the netsupport.gexfout.GexfScope of the windows' edges
    crisis_map: Any  # the network map's graph (netsupport.graph.crisis_map_of), study windows
    stance_csv: Path | None  # tables/stance.csv, written in the report's folder (or None)
    span: tuple[float, float]  # the child's work, on the system-wide monotonic clock
    cpu: float  # the CPU seconds of that work


#: The columns of the study's interactions the report's child reads (graph.edge_columns).
REPORT_CHILD_COLUMNS = ("source", "target", "kind", "created_at", "weight")


def _edges_file(folder: Path, window: Any) -> Path:
    return folder / f"report-edges-{window.value}.arrow"


def report_parts_child(
    study: Any, interactions: str, stance: str | None, out_dir: str, work: str
) -> ReportParts:
    """Make the report's parts that read no metric, in a child process beside the metrics step.

    Reads the study's interactions from the Arrow IPC file ``interactions`` (its edge columns,
    handles shared: :func:`read_graph_interactions`) and computes what
    :func:`netsupport.report.write_report` computes first: the windows' edges of graph.gexf
    and their scope, and the network map's crisis neighbourhood (on the study's windows);
    writes ``tables/stance.csv`` in the report's folder ``out_dir`` from the stance step's
    Parquet file ``stance`` (None: the report step writes it). The windows' edges go to Arrow
    files in the folder ``work`` for :func:`report_gexf_child`: graph.gexf waits for the roles
    the metrics step finds (its node attributes), and the child holds nothing meanwhile (it
    waits beside the metrics step's peak memory). Returns a :class:`ReportParts`; nothing but
    the study's parameters, paths and that small result crosses between the processes.
    """
    from . import gexfout
    from .graph import crisis_map_of
    from .schema import Window
    from .textsafe import write_csv

    t0, c0 = time.monotonic(), time.process_time()
    inter = read_graph_interactions(interactions, columns=REPORT_CHILD_COLUMNS)
    coded = gexfout.CodedInteractions(inter)
    del inter  # (coded holds what the edges and the map need)
    edges = coded.window_edges(study.windows)
    max_edges = getattr(study, "gexf_max_edges", gexfout.DEFAULT_GEXF_MAX_EDGES)
    scope = gexfout.gexf_scope(edges, max_edges)
    crisis = crisis_map_of(pd.DataFrame(), study, study.windows, coded=coded)
    del coded
    for w in Window:
        path = _edges_file(Path(work), w)
        if w.value in edges and not edges[w.value].empty:
            write_arrow(edges[w.value], path)
        elif path.exists():
            path.unlink()
    del edges
    csv = None
    if stance is not None:
        csv = write_csv(read_parquet(Path(stance)), Path(out_dir) / "tables" / "stance.csv")
    _trim_memory()
    return ReportParts(scope, crisis, csv, (t0, time.monotonic()), time.process_time() - c0)


def _trim_memory() -> None:
    """Give the memory a child freed back to the system (a collection, Arrow's pool, glibc's
    ``malloc_trim``): a child that waits, or has finished, otherwise holds its peak."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    release_arrow_memory()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def report_gexf_child(
    study: Any, work: str, node_attrs: str, out_dir: str, scope: Any
) -> tuple[str | None, tuple[float, float], float]:
    """Write the report's graph.gexf in ``out_dir`` in a child process, from the windows' edges
    :func:`report_parts_child` left in ``work`` and the node attributes in the Parquet file
    ``node_attrs`` (:func:`netsupport.gexfout.write_report_gexf`, cut to ``scope``). Returns
    its path (None: no window holds an edge, no file), the start and end of the work on the
    monotonic clock, and its CPU seconds."""
    from .gexfout import write_report_gexf
    from .schema import Window

    t0, c0 = time.monotonic(), time.process_time()
    # handles read back as shared Python strings: the same values the report step would hold
    edges = {
        w.value: read_graph_interactions(_edges_file(Path(work), w))
        for w in Window
        if _edges_file(Path(work), w).is_file()
    }
    attrs = read_parquet(Path(node_attrs))
    written = write_report_gexf(edges, study.windows, Path(out_dir), attrs, scope)
    del edges, attrs
    _trim_memory()
    path = str(written[0]) if written else None
    return path, (t0, time.monotonic()), time.process_time() - c0


def read_graph_interactions(
    path: str | Path, windows: Any = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read the interactions :func:`write_arrow` wrote, as a frame, in little memory (the
    report's child runs beside the metrics step: bench/RESULTS.md, "Branch mem2"). The
    communities step's child reads the same file as integer codes instead
    (:meth:`netsupport.graph_measures.InteractionCodes.from_arrow`).

    The file is memory-mapped and converted a column at a time. String columns become object
    columns of Python strings (None for null), as :func:`netsupport.stance.object_strings`
    makes them, but each distinct string is one shared object (a handle appears on many rows):
    the values, and so the results, are the same. ``post_id`` becomes float codes (NaN for
    null), equal exactly where the ids are equal: the step only compares post ids with each
    other (:func:`netsupport.support.proxies.conversation_rows`), and a million distinct
    strings would be ~0.15 GB.

    ``windows`` (the study's :class:`netsupport.windows.Windows`): keep only the rows the step
    reads, those from the baseline's start to the crisis's end and those with no timestamp
    (:func:`pandas_graph_measures` reads the baseline and crisis windows only, and
    :func:`netsupport.graph.window_interactions` keeps the selected rows in their order).
    ``columns``: read only these (those in the file), in the file's order.

    Examples
    --------
    >>> import tempfile
    >>> df = pd.DataFrame({"source": ["a", "b", "a"], "post_id": ["9", None, "9"]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = read_graph_interactions(write_arrow(df, Path(d) / "i.arrow"))
    >>> back["source"].tolist(), back["post_id"].tolist(), back["source"].dtype
    (['a', 'b', 'a'], [0.0, nan, 0.0], dtype('O'))
    """
    cols: dict[str, Any] = {}
    with pa.memory_map(str(path), "r") as source:
        table = pa.ipc.open_file(source).read_all()
        if columns is not None:
            table = table.select([c for c in table.column_names if c in set(columns)])
        if windows is not None and "created_at" in table.column_names:
            ts = table.column("created_at")
            start, _ = windows.bounds("baseline")
            _, end = windows.bounds("crisis")
            lo, hi = (pa.scalar(t.to_pydatetime()).cast(ts.type) for t in (start, end))
            keep = pc.or_kleene(pc.is_null(ts), pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi)))
            table = table.filter(keep)
            del ts, keep
        for name in table.column_names:
            col = table.column(name)
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                cols[name] = col.to_pandas().copy()  # (not a view of the mapped file)
                continue
            enc = col.combine_chunks().dictionary_encode()  # null stays null in the indices
            if name == "post_id":
                cols[name] = enc.indices.to_numpy(zero_copy_only=False).astype("float64")
            else:
                values = np.asarray([*enc.dictionary.to_pylist(), None], dtype=object)
                codes = enc.indices.fill_null(len(values) - 1).to_numpy()
                cols[name] = pd.Series(values[codes], dtype=object)
            del enc
            release_arrow_memory()
        del table
    return pd.DataFrame(cols, copy=False)


def write_arrow(df: pd.DataFrame | pa.Table, path: Path) -> Path:
    """Write ``df`` (or an Arrow table) as an uncompressed Arrow IPC file (read back
    memory-mapped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def release_arrow_memory() -> None:
    """Give the memory Arrow's allocator keeps after large temporary arrays back to the system.

    Arrow's default pool (mimalloc) keeps freed pages mapped until it is asked: after reading
    the 10^6 synthetic case's tables ~0.12 GB, after lower-casing its post texts ~0.06 GB,
    memory the process holds while it computes with Python objects that cannot reuse it
    (bench/RESULTS.md, "Branch mem2")."""
    pa.default_memory_pool().release_unused()


# ---- memory estimates ----------------------------------------------------------------------------

#: Peak memory of a pandas-engine run per stored row (bytes), and a fixed base (the libraries),
#: measured with bench/scale.py at 10^5 and 10^6 interactions (docs/scale.md).
PANDAS_BYTES_PER_ROW = {"posts": 1200, "interactions": 700, "follows": 150, "accounts": 400}
PANDAS_BASE_BYTES = 350 * 2**20
#: The pandas engine's communities step in a child process (only the interactions up to the
#: crisis end, handles shared, post ids as codes: :func:`read_graph_interactions`, and the
#: graphs). Measured at 10^6 (bench/RESULTS.md, "Branch mem2"): ~0.19 GB after its imports,
#: ~0.4 GB at its peak with 60% of the interactions' rows before the crisis end; per row
#: rounded up as if all of them were.
CHILD_BYTES_PER_ROW = {"posts": 0, "interactions": 300, "follows": 0, "accounts": 0}
CHILD_BASE_BYTES = 200 * 2**20
#: The pandas engine's report child (:func:`report_parts_child`, beside the
#: metrics step): the interactions' edge columns (handles shared), their codes, the windows'
#: edges and the GEXF's text batches. Measured at 10^6 (bench/RESULTS.md, "Branch rep5"):
#: ~0.11 GB after its imports, 0.34-0.43 GB at its peak (PSS); per row rounded up.
REPORT_CHILD_BYTES_PER_ROW = {"posts": 0, "interactions": 250, "follows": 0, "accounts": 0}
REPORT_CHILD_BASE_BYTES = 250 * 2**20
#: The Dask engine's driver holds aggregates: per account and per edge rather than per row
#: (its peak at 10,556,327 interactions and 1,000,000 accounts: 4.4 GiB, bench/RESULTS.md).
DASK_DRIVER_BYTES_PER_ROW = {"posts": 0, "interactions": 320, "follows": 150, "accounts": 600}
DASK_BASE_BYTES = 450 * 2**20
MEMORY_LIMIT_ENV = "NETSUPPORT_MEMORY_LIMIT"

_PER_ROW = {
    "pandas": (PANDAS_BYTES_PER_ROW, PANDAS_BASE_BYTES),
    "dask": (DASK_DRIVER_BYTES_PER_ROW, DASK_BASE_BYTES),
    "child": (CHILD_BYTES_PER_ROW, CHILD_BASE_BYTES),
    "report": (REPORT_CHILD_BYTES_PER_ROW, REPORT_CHILD_BASE_BYTES),
}


def estimate_memory(counts: Mapping[str, int], engine: str = "pandas") -> int:
    """Return the estimated peak memory (bytes) of a run on a store with these row counts.

    For the Dask engine: the driver process only (each worker holds one partition at a time).
    ``engine="child"``: the pandas engine's communities step in a child process;
    ``engine="report"``: the report's child process beside the metrics step.

    Examples
    --------
    >>> round(estimate_memory({"posts": 10**6, "interactions": 10**6}) / 2**30, 2)
    2.11
    """
    per_row, base = _PER_ROW[engine]
    return int(base + sum(per_row.get(t, 0) * int(n) for t, n in counts.items()))


def memory_limit() -> int:
    """Return the memory a run may use: ``$NETSUPPORT_MEMORY_LIMIT`` (bytes, or with a K/M/G
    suffix) if set, else 80% of the memory available now."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1].upper(), 1)
        try:
            return int(float(text[:-1] if scale > 1 else text) * scale)
        except ValueError:
            raise NetsupportError(
                f"{MEMORY_LIMIT_ENV}={text!r}: expected bytes, e.g. 2000000000 or 2G"
            ) from None
    import psutil

    return int(0.8 * psutil.virtual_memory().available)


def check_memory(counts: Mapping[str, int], engine: str = "pandas") -> int:
    """Raise :class:`ResourceLimit` if a run on a store with these row counts would not fit in
    memory (:func:`estimate_memory` against :func:`memory_limit`); return the estimate.

    The message says what to do instead: the Dask engine for the pandas engine, more memory (or
    a cluster with ``--scheduler``) for the Dask engine's driver.
    """
    need = estimate_memory(counts, engine)
    limit = memory_limit()
    if need <= limit:
        return need
    size = (
        f"{counted(int(counts.get('posts', 0)), 'post', 'posts')} and "
        f"{counted(int(counts.get('interactions', 0)), 'interaction', 'interactions')}"
    )
    gib = f"about {need / 2**30:.1f} GiB, more than the {limit / 2**30:.1f} GiB available"
    if engine == "pandas":
        raise ResourceLimit(
            f"the store holds {size}: the pandas engine would need {gib}; run with --engine "
            "dask (a local cluster reads the store in partitions by day; --scheduler ADDRESS "
            "uses an existing one), or with fewer inputs"
        )
    raise ResourceLimit(
        f"the store holds {size}: even the Dask engine's aggregates would need {gib} on this "
        "machine; run the driver on a machine with more memory"
    )


def usable_cpus() -> int:
    """Return the CPUs this process may run on (``os.sched_getaffinity``, else ``cpu_count``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def overlap_decision(
    jobs: int | None, counts: Mapping[str, int], cpus: int | None = None, child: str = "child"
) -> str | None:
    """Return why two independent steps must run one after the other, or None to overlap them.

    ``jobs``: processes the run may use at once (``--jobs``; None: not given). Unless ``jobs``
    is 1 the steps overlap when 2 CPUs are usable and the memory of the parent and of the child
    (:func:`estimate_memory` ``"pandas"`` + ``"child"``) is under :func:`memory_limit`.
    Measured on the 10^6 synthetic case on 2 cores: the overlap saved wall time on an idle host
    (bench/RESULTS.md, "Branch ovl": 27.6 against 30.3 s) but its process tree peaked at 2.2 GB
    while the child held a full copy of the interactions as Python strings; with the child's
    lean copy (:func:`read_graph_interactions`) the tree peaks at 1.82-1.87 GB ("Branch mem2";
    on a host other jobs keep busy the overlap is slower, as no core is idle). The outputs are
    the same bytes. ``--jobs 1`` runs them in turn.

    ``child``: the estimate of the child process (:func:`estimate_memory`): ``"child"`` for the
    communities step, ``"report"`` for the report's child beside the metrics step.

    Examples
    --------
    >>> overlap_decision(1, {})
    '--jobs 1'
    >>> overlap_decision(None, {}, cpus=1)
    '1 CPU available'
    >>> overlap_decision(2, {}, cpus=1)
    '1 CPU available'
    """
    if jobs is not None and jobs < 2:
        return f"--jobs {jobs}"
    cpus = usable_cpus() if cpus is None else cpus
    if cpus < 2:
        return "1 CPU available"
    need = estimate_memory(counts, "pandas") + estimate_memory(counts, child)
    limit = memory_limit()
    if need > limit:
        return (
            f"both together would need about {need / 2**30:.1f} GiB, more than the "
            f"{limit / 2**30:.1f} GiB available"
        )
    return None


# ---- the interface -------------------------------------------------------------------------------


class Engine(Protocol):
    """How a run computes its steps after the import (the runner's context is ``ctx``:
    :class:`netsupport.study.RunContext`)."""

    #: The name ``--engine`` takes.
    name: str
    #: Steps that may run at the same time (the runner overlaps them when it can).
    concurrent: tuple[str, ...]
    #: Whether the engine can pseudonymise its outputs.
    pseudonyms: bool
    #: Whether the report's parts that read no metric may be made in a child process while the
    #: metrics step runs (:func:`report_parts_child`; they read the study's
    #: interactions, which the pandas engine holds).
    report_child: bool

    #: Added to the key of every step after the import (None: the keys as they are); an
    #: engine that caches other files than the default keys its steps apart.
    key_salt: Mapping[str, str] | None

    def check_memory(self, counts: Mapping[str, int]) -> int:
        """Raise ResourceLimit when a store of these counts does not fit this engine."""
        ...

    def stance_outputs(self, ctx: Any) -> list[Path]:
        """The cached files of the stance step (all there: the step may be reused)."""
        ...

    def load_stance(self, ctx: Any) -> str:
        """Load the cached stance step; return its one-line detail."""
        ...

    def compute_stance(self, ctx: Any) -> str:
        """Run the stance step and cache its results; return its one-line detail."""
        ...

    def graph_measures(self, ctx: Any) -> GraphMeasures:
        """(membership, its info, PageRank, its info, the sensitivity grid's community
        detections, the baseline edges), None where not measured."""
        ...

    def analyse(self, ctx: Any) -> tuple[dict[str, Any], pd.DataFrame, Mapping[str, Any]]:
        """(metrics, compressed units, analysis tables)."""
        ...

    def report_inputs(self, ctx: Any, inputs: list[dict[str, Any]], counts: dict[str, int]) -> Any:
        """The :class:`netsupport.report.ReportInputs` of the run."""
        ...


def get_engine(name: str, scheduler: str | None = None) -> Engine:
    """Return the engine called ``name`` (``pandas`` or ``dask``).

    Raises
    ------
    StudyError
        An unknown name, or a scheduler address for an engine that takes none.
    """
    if name not in ENGINES:
        raise StudyError(f"engine: expected pandas or dask, got {name!r}")
    if scheduler is not None and name != "dask":
        raise StudyError("a scheduler address needs engine dask (--engine dask)")
    return PandasEngine() if name == "pandas" else DaskEngine(scheduler)


def _labels_note(stance: Any) -> str:
    """Return a warning for the run display when some hand labels matched no interaction."""
    matched = (stance.agreement or {}).get("labels_matched") or {}
    if not matched.get("unmatched"):
        return ""
    return "; warning: " + unmatched_labels(matched["unmatched"], matched["labels"])


class PandasEngine:
    """The default engine: the study's tables in one process (see the module docstring)."""

    name = "pandas"
    concurrent = ("stance", "communities")
    pseudonyms = True
    report_child = True
    key_salt = None

    def check_memory(self, counts: Mapping[str, int]) -> int:
        return check_memory(counts, engine="pandas")

    def stance_outputs(self, ctx: Any) -> list[Path]:
        return [ctx.cache / "stance.parquet", ctx.cache / "stance.json"]

    def load_stance(self, ctx: Any) -> str:
        from .stance import StanceResult

        table_p, meta_p = self.stance_outputs(ctx)
        meta = json.loads(meta_p.read_text(encoding="utf-8"))
        units_p = ctx.cache / "stance-validation-units.parquet"
        ctx.stance = StanceResult(
            read_parquet(table_p),
            meta["agreement"],
            meta["lexicon"],
            model=meta.get("model"),
            validation=meta.get("validation"),
            validation_units=read_parquet(units_p) if units_p.is_file() else None,
            rules=_read_rules(ctx.cache / _RULES_FILE),
        )
        return f"{len(ctx.stance.table):,} interactions" + _labels_note(ctx.stance)

    def compute_stance(self, ctx: Any) -> str:
        from .stance import stance_table

        table_p, meta_p = self.stance_outputs(ctx)
        ctx.stance = stance = stance_table(
            ctx.tables(),
            ctx.study,
            workers=ctx.workers,
            model_dir=ctx.cache / "models",
            correct=False,  # the metrics step corrects the shares with [support] bootstrap
            # the run's interactions, made once: for the communities child when it runs beside
            # this step (else here)
            interactions=ctx.interactions(),
        )
        ctx.release_raw_interactions()
        write_parquet(stance.table, table_p)
        units_p = ctx.cache / "stance-validation-units.parquet"
        if stance.validation_units is not None:
            write_parquet(stance.validation_units, units_p)
        elif units_p.exists():
            units_p.unlink()
        _write_rules(stance.rules, ctx.cache / _RULES_FILE)
        write_json(
            {
                "agreement": stance.agreement,
                "lexicon": stance.lexicon,
                "model": stance.model,
                "validation": stance.validation,
            },
            meta_p,
        )
        return f"{len(stance.table):,} interactions" + _labels_note(stance)

    def graph_measures(self, ctx: Any) -> GraphMeasures:
        return pandas_graph_measures(ctx.interactions(), ctx.study)

    def analyse(self, ctx: Any) -> tuple[dict[str, Any], pd.DataFrame, Mapping[str, Any]]:
        from . import support
        from .support.coverage import input_spans

        analysis = support.analyse(
            ctx.tables(),
            ctx.study,
            stance=ctx.stance,
            membership=ctx.membership if len(ctx.membership) else None,
            pagerank=ctx.pagerank if len(ctx.pagerank) else None,
            workers=ctx.workers,
            spans=[
                replace(s, file=ctx.private_name(s.file))
                for s in input_spans(ctx.store.imported_files())
            ],
            community_runs=ctx.community_runs,
            baseline_edges=ctx.baseline_edges,
        )
        return analysis.metrics, analysis.units, analysis.tables

    def report_inputs(self, ctx: Any, inputs: list[dict[str, Any]], counts: dict[str, int]) -> Any:
        from . import report
        from .support import Analysis
        from .support.platforms import deleted_ids

        analysis = Analysis(ctx.metrics, ctx.stance.table, ctx.units, ctx.analysis_tables)
        inp = report.build_inputs(
            ctx.study,
            ctx.tables(),
            analysis,
            membership=ctx.membership,
            pagerank=ctx.pagerank,
            inputs=inputs,
            counts=counts,
            interactions=ctx.interactions(),
        )
        # (Bluesky deletes mark records: see support.platforms)
        inp = replace(inp, deleted=deleted_ids(ctx.store))
        if ctx.pseudonymiser is not None:
            inp = replace(inp, pseudonymiser=ctx.pseudonymiser)
        return inp


class DaskEngine:
    """Steps after the import on a Dask cluster (stance and aggregates) and on the aggregates
    (communities, metrics, report); see :mod:`netsupport.scale`."""

    name = "dask"
    concurrent: tuple[str, ...] = ()  # communities read the aggregates the stance step made
    pseudonyms = False
    report_child = False  # its report reads the aggregates, not the interactions
    # it caches other intermediates than pandas: its own keys
    key_salt: ClassVar[Mapping[str, str]] = {"engine": "dask"}

    def __init__(self, scheduler: str | None = None):
        self.scheduler = scheduler
        self.agg: Any = None  # netsupport.scale.StudyAggregates, once computed or loaded

    def check_memory(self, counts: Mapping[str, int]) -> int:
        return check_memory(counts, engine="dask")

    @staticmethod
    def folder(ctx: Any) -> Path:
        return ctx.cache / "dask"

    def aggregates(self, ctx: Any) -> Any:
        from .scale import load_aggregates

        if self.agg is None:
            self.agg = load_aggregates(self.folder(ctx))
        return self.agg

    def stance_outputs(self, ctx: Any) -> list[Path]:
        d = self.folder(ctx)
        return [d / "aggregates.json", d / "stance-parts" / "index.json"]

    def load_stance(self, ctx: Any) -> str:
        return f"{self.aggregates(ctx).rows:,} interactions"

    def compute_stance(self, ctx: Any) -> str:
        from .scale import aggregate_study, dask_client, load_aggregates, save_aggregates, unit_bins

        d = self.folder(ctx)
        with dask_client(self.scheduler) as client:
            self.agg = aggregate_study(
                ctx.study,
                client,
                freq=unit_bins(ctx.study.windows),
                parts_dir=d / "stance-parts",
                scratch_dir=d,
                model_dir=ctx.cache / "models",  # (the pandas engine's: one model file for both)
            )
        save_aggregates(self.agg, d)
        # read back: the same values, repeated handles sharing one object (the frames from
        # the workers hold a copy of each handle per row; 10^7 edges: ~1 GB less)
        self.agg = load_aggregates(d)
        n = self.agg.info["partitions"]
        return f"{self.agg.rows:,} interactions (Dask, {n} partitions)"

    def graph_measures(self, ctx: Any) -> GraphMeasures:
        from . import support

        agg = self.aggregates(ctx)
        membership, m_info = support.communities_from_edges(agg.edges["baseline"], ctx.study)
        pagerank, p_info = support.pagerank_from_edges(agg.edges["amplifiers"])
        # no grid detections: the Dask engine's metrics leave the sensitivity grid out
        return membership, m_info, pagerank, p_info, None, None

    def analyse(self, ctx: Any) -> tuple[dict[str, Any], pd.DataFrame, Mapping[str, Any]]:
        from . import support
        from .scale import metric_inputs_of
        from .support.coverage import input_spans

        agg = self.aggregates(ctx)
        inputs = metric_inputs_of(agg, ctx.study)
        inputs.spans = input_spans(ctx.store.imported_files())
        metrics, tables = support.analyse_inputs(
            inputs,
            ctx.study,
            membership=ctx.membership if len(ctx.membership) else None,
            pagerank=ctx.pagerank if len(ctx.pagerank) else None,
        )
        metrics["sensitivity"] = support.not_measured(
            "the Dask engine does not re-run the headline over the sensitivity grid (it "
            "keeps aggregates, not the stance table): run with the pandas engine for it"
        )
        metrics["role_timing"] = support.not_measured(
            "the Dask engine keeps posts in time bins, not the exact first-mention times "
            "role timing needs: run with the pandas engine for it"
        )
        return metrics, agg.units, tables

    def report_inputs(self, ctx: Any, inputs: list[dict[str, Any]], counts: dict[str, int]) -> Any:
        from . import report
        from .accountmap import apply_account_map, study_account_map
        from .scale import stance_writer
        from .stance import object_strings

        agg = self.aggregates(ctx)
        roles_t = ctx.analysis_tables.get("roles")
        roles = (
            roles_t.set_index("handle")["role"]
            if roles_t is not None and not roles_t.empty
            else pd.Series(dtype=object)
        )
        follows = object_strings({Table.FOLLOWS: ctx.store.read(Table.FOLLOWS)})
        follows = apply_account_map(follows, study_account_map(ctx.study))[Table.FOLLOWS]
        return report.ReportInputs(
            study=ctx.study,
            metrics=ctx.metrics,
            units=object_strings({"u": ctx.units})["u"],
            stance=pd.DataFrame(),
            tables=ctx.analysis_tables,
            interactions=agg.ties,  # what composition_frame's prior_ties reads
            posts=None,
            follows=follows,
            membership=ctx.membership if len(ctx.membership) else None,
            pagerank=ctx.pagerank if len(ctx.pagerank) else None,
            roles=roles,
            inputs=inputs,
            counts=counts,
            edges=agg.edges,
            top=agg.top_posts,
            platforms=agg.platforms,
            write_stance=stance_writer(self.folder(ctx) / "stance-parts"),
        )
