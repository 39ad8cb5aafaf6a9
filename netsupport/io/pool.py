"""Worker processes for parsing large files, started while the importer has a single thread.

On Linux the workers are forked (instant, nothing re-imported) when the pool is created; the
importer creates the pool before it starts any thread (hashing, progress bar), which is what makes
fork safe. Elsewhere, or when threads already exist, ``forkserver`` (or ``spawn``) is used.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

__all__ = ["WorkerPool", "worker_count"]


def worker_count(requested: int = 0) -> int:
    """Return the number of worker processes: ``requested``, or min(2, CPUs) when 0."""
    if requested:
        return max(1, requested)
    return max(1, min(2, os.cpu_count() or 1))


def _start_method() -> str:
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _ready() -> int:
    return os.getpid()


class WorkerPool:
    """A process pool whose workers all start at construction.

    Examples
    --------
    >>> with WorkerPool(2) as pool:
    ...     pool.submit(pow, 2, 10).result()
    1024
    """

    def __init__(self, workers: int):
        self.workers = workers
        ctx = mp.get_context(_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["netsupport.io.twitter_json"])
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx)
        # with fork, the first submit forks every worker before the pool's own thread starts
        for f in [self._pool.submit(_ready) for _ in range(workers)]:
            f.result()

    def submit(self, fn, *args: Any) -> Future:
        """Run ``fn(*args)`` in a worker."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the workers (waits for running tasks)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
