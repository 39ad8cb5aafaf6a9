"""The Dask engine's cluster: :func:`dask_client` connects to a scheduler, or starts and closes a
local cluster of single-threaded worker processes with a memory limit each and quiet logs."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import Any

from ..errors import NetsupportError

#: Worker processes of the local cluster, and the share of memory each may use at most.
LOCAL_WORKERS = 2

LOCAL_WORKER_MEMORY = 3 * 2**30


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, timeout: str = "20s"
) -> Iterator[Any]:
    """Yield a ``distributed.Client``: on ``scheduler`` if given, else on a local cluster.

    The local cluster has ``workers`` (default 2) single-threaded worker processes, each allowed
    at most a quarter of this machine's memory and never more than 3 GiB; its logs are silenced
    and it is closed on exit. ``timeout``: how long to try to reach ``scheduler``.

    Raises
    ------
    NetsupportError
        Dask's ``distributed`` is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the scale extra is a dependency of the CLI option
        raise NetsupportError(
            "--engine dask needs dask[dataframe] and distributed: pip install 'netsupport[scale]'"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise NetsupportError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or LOCAL_WORKERS
    limit = min(LOCAL_WORKER_MEMORY, _total_memory() // 4)
    with _quiet_dask(), warnings.catch_warnings():
        # The scheduler's HTTP server starts even without a dashboard; when another cluster
        # holds its port, distributed warns and takes another one: nothing for our user to do.
        warnings.filterwarnings(
            "ignore", message=r"Port \d+ is already in use", category=UserWarning
        )
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=limit,
            dashboard_address=None,
            # (a worker's heartbeat failing while the cluster shuts down under load logs a
            # traceback at ERROR; a real failure reaches us as the task's exception)
            silence_logs=logging.CRITICAL,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover
        return 8 * 2**30


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    names = ["distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker"]
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, lvl in levels.items():
            logging.getLogger(n).setLevel(lvl)
