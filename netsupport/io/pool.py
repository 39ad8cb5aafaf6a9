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

__all__ = ["WorkerPool", "exit_with_parent", "stop_workers", "worker_count"]


def worker_count(requested: int = 0) -> int:
    """Return the number of worker processes: ``requested``, or min(2, CPUs) when 0."""
    if requested:
        return max(1, requested)
    return max(1, min(2, os.cpu_count() or 1))


def _start_method() -> str:
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def exit_with_parent() -> None:
    """Make this worker process exit when the process that started it dies.

    A pool's initializer. A worker of ``concurrent.futures.ProcessPoolExecutor`` waits for its
    next task on a pipe it holds both ends of, so when the run that started it is killed
    (SIGKILL, out of memory) it waits for ever, an orphan holding its memory and the run's
    stdout and stderr. A daemon thread waits on the parent's sentinel
    (``multiprocessing.parent_process().sentinel``, a pipe the parent holds open, at its end
    when the parent dies, even before the worker got here) and ends the process.
    """
    import signal

    # (a forked worker inherits the CLI's SIGTERM handler, which is for the main process: the
    # worker stops at once when its parent terminates it)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = mp.parent_process()
    if parent is None or parent.sentinel is None:
        return
    threading.Thread(target=_exit_when_ready, args=(parent.sentinel,), daemon=True).start()


def stop_workers(executor: ProcessPoolExecutor) -> None:
    """End a process pool's workers now (SIGTERM), its running tasks with them, and shut it
    down without waiting: for a command that stops (Ctrl-C, SIGTERM) while a worker still
    computes what nobody will read. Ctrl-C reaches the workers by itself (the terminal signals
    the whole process group); SIGTERM from ``kill PID`` does not."""
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def _exit_when_ready(sentinel: int) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)


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
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=exit_with_parent)
        # with fork, the first submit forks every worker before the pool's own thread starts
        for f in [self._pool.submit(_ready) for _ in range(workers)]:
            f.result()

    def submit(self, fn, *args: Any) -> Future:
        """Run ``fn(*args)`` in a worker."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the workers (waits for running tasks)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """End the workers now, their running tasks with them (:func:`stop_workers`)."""
        stop_workers(self._pool)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
