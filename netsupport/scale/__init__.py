"""Scale-out with Dask: a study's aggregates computed in parallel over the Parquet store.

``netsupport run study.toml --engine dask [--scheduler ADDRESS]`` runs the same study as the
default (pandas) engine, with the heavy steps moved to a Dask cluster: a local one (two worker
processes) when no scheduler is given, an existing one with ``--scheduler``. The cluster reads
the store and returns only aggregates, which are small (per account, per edge, per window); the
single-machine code takes them from there (communities, PageRank, the metrics, the report). The
stance decisions equal the pandas engine's exactly, the study's stance model included
(tests/test_scale.py compares the stance table byte for byte, and the metrics), and so is the
decisions' cross-validated error (measured on the driver); the error-corrected shares, the
sensitivity grid and role timing are left to the pandas engine (metrics.json says so). The run
reaches this package only through :class:`netsupport.engine.DaskEngine`, which computes the
steps the runner (:mod:`netsupport.study`) wires; this package knows nothing of the steps or
their cache. docs/scale.md explains the design; in short:

1. **Plan** (:func:`plan_partitions`). The posts and interactions part files are cut into one
   partition per UTC day of ``created_at`` (busy days are cut into equal parts of a day, rows
   with no time form one partition of their own). Each pass is one task per partition
   (:func:`partition_tasks`), which reads only the Parquet row groups whose statistics overlap
   its interval, keeps the rows inside it and works on them, so no rows move between workers; a
   post and the interactions it gave (which carry its time) meet in the same partition. The
   study's account map (:mod:`netsupport.accountmap`) is applied to the rows as they are read,
   as the pandas engine applies it to its tables.
2. **Scan** (pass 0). Per partition: hashes of the post ids seen, marker hits, the focal and
   institution accounts' own posts, posts per window. The driver finds the *conflicts*: post ids
   (and, for rows without a post id, interaction keys) that occur in more than one partition, as
   when an edge list gives a post another time than the post itself. Their rows are not
   aggregated in the partitions but collected and processed together on the driver, so
   de-duplication, the text lookup and the one-unit-per-post rule see all of a post's rows, as
   the pandas engine does. Usually there are none. With hand codes the scan also collects every
   row of the coded posts: the driver classifies them and trains the study's stance model on
   them (:func:`netsupport.stance.supervised.study_model`, as the pandas engine trains it; its
   skops file in the run's ``models/`` folder), which each worker loads once.
3. **Aggregate** (pass 1). Per partition, with the very functions the pandas engine uses: the
   study's interactions (:func:`netsupport.stance.stance_interactions`, marker edges included),
   their stance (:meth:`netsupport.stance.Classifier.classify`: each distinct text scored once
   per worker, which keeps the scores between its partitions; then the stance model's decision
   on every row not hand-coded, :func:`netsupport.stance.model.apply_model`), hand labels, one
   unit per post
   and side (:func:`netsupport.support.post_units`), then the reductions: units counted per
   account, side, window, stance and time bins (:func:`unit_bins`,
   :func:`netsupport.support.compress_units`), edges per window
   (:func:`netsupport.graph.aggregate_edges`), rows per window, the ties with the focal
   account, rule counts, and the few post-level rows some measures need (supportive posts
   in the focal account's silence, crisis posts that may be the most answered). Partition
   results are merged in a tree of sums (counts add up; first times take the minimum).
4. **Reach** (pass 2). Which accounts answered, reposted or quoted the candidate posts: distinct
   (post, account) pairs, for the proxies and the report's most-answered posts.

Everything that is added up is an integer, so the order of partitions does not change a result;
edge weights are sums of the interactions' weights (1.0 from every importer), exact as long as
those are whole numbers.


The package's modules, each one part of that:

* :mod:`~netsupport.scale.plan`: the day partitions, reading them, one task per partition.
* :mod:`~netsupport.scale.aggregate`: the passes a partition task runs (scan, aggregate, reach)
  and the merging of their results.
* :mod:`~netsupport.scale.stance_model`: the stance on the workers (a rules classifier per
  worker, the study's stance model applied to every row) and the stance model trained on the
  driver, with its agreement and error.
* :mod:`~netsupport.scale.driver`: :func:`aggregate_study`, which runs the passes pass by pass.
* :mod:`~netsupport.scale.cluster`: the Dask client, local or on a scheduler.
* :mod:`~netsupport.scale.tables`: the metrics' inputs, the stance table and the aggregates'
  files, from the aggregates.
* :mod:`~netsupport.scale.frames`: hashes and frame helpers the others share.

Examples
--------
>>> ceil_div(7, 2), ceil_div(8, 2)
(4, 4)
"""

from .aggregate import EDGE_KEYS, finish_edges, tie_rows
from .cluster import LOCAL_WORKER_MEMORY, LOCAL_WORKERS, dask_client
from .driver import StudyAggregates, aggregate_study, unit_bins
from .plan import (
    DEFAULT_PARTITION_ROWS,
    Partition,
    Piece,
    Plan,
    ceil_div,
    partition_tasks,
    plan_partitions,
    read_partition,
)
from .stance_model import DASK_SHARES
from .tables import load_aggregates, metric_inputs_of, save_aggregates, stance_writer

__all__ = [
    "DASK_SHARES",
    "DEFAULT_PARTITION_ROWS",
    "EDGE_KEYS",
    "LOCAL_WORKERS",
    "LOCAL_WORKER_MEMORY",
    "Partition",
    "Piece",
    "Plan",
    "StudyAggregates",
    "aggregate_study",
    "ceil_div",
    "dask_client",
    "finish_edges",
    "load_aggregates",
    "metric_inputs_of",
    "partition_tasks",
    "plan_partitions",
    "read_partition",
    "save_aggregates",
    "stance_writer",
    "tie_rows",
    "unit_bins",
]
