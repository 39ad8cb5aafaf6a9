"""Worker processes for parsing large files, started while the importer has a single thread.

On Linux the workers are forked (instant, nothing re-imported) when the pool is created; the
importer creates the pool before it starts any thread (hashing, progress bar), which is what makes
fork safe. Elsewhere, or when threads already exist, ``forkserver`` (or ``spawn``) is used.

A worker hands a :class:`~netsupport.io.base.Batch` back as Arrow IPC (:func:`dump_batch`), in
a file of the import's scratch folder or as bytes; :func:`load_batch_file` and
:func:`load_batch` read it without copying.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from .base import Batch

__all__ = ["WorkerPool", "dump_batch", "load_batch", "load_batch_file", "worker_count"]

#: The tables of a Batch, in the order dump_batch writes them.
_TABLES = ("posts", "accounts", "rejects", "quotes", "follows", "interactions")


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


def dump_batch(batch: Batch, sink) -> None:
    """Write a batch's tables to ``sink`` (a file or buffer): each one's IPC stream, written
    straight to the sink, then a trailer with their names and sizes."""
    present = [name for name in _TABLES if getattr(batch, name) is not None]
    sizes = []
    for name in present:
        table = getattr(batch, name)
        start = sink.tell()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        sizes.append(sink.tell() - start)
    trailer = (
        len(present).to_bytes(1, "little")
        + b"".join(size.to_bytes(8, "little") for size in sizes)
        + ",".join(present).encode()
    )
    sink.write(trailer + len(trailer).to_bytes(4, "little"))


def load_batch_file(path: str, rows_read: int) -> Batch:
    """The batch a worker left in ``path``, and the file removed.

    The posts are used memory-mapped (no copy: they are written out soon); the accounts and
    rejects, which the store keeps queued for longer, are copied, so that they do not keep
    the whole file mapped (at 10^7 tweets that pinned gigabytes).
    """
    with pa.memory_map(path) as source:
        data = source.read_buffer()
    os.unlink(path)  # (the mapping stays valid while the tables use it)
    batch = load_batch(data, rows_read)
    batch.accounts = _copied(batch.accounts)
    batch.rejects = _copied(batch.rejects)
    return batch


def _copied(table: pa.Table | None) -> pa.Table | None:
    """``table`` in freshly allocated memory."""
    if table is None:
        return None
    return table.take(pa.array(np.arange(table.num_rows, dtype=np.int64)))


def load_batch(data: bytes | pa.Buffer, rows_read: int) -> Batch:
    """The batch :func:`dump_batch` wrote (zero-copy: the tables use ``data``'s memory)."""
    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    tlen = int.from_bytes(buf.slice(buf.size - 4, 4).to_pybytes(), "little")
    trailer = buf.slice(buf.size - 4 - tlen, tlen).to_pybytes()
    count = trailer[0]
    sizes = [int.from_bytes(trailer[1 + 8 * i : 9 + 8 * i], "little") for i in range(count)]
    names = trailer[1 + 8 * count :].decode().split(",") if count else []
    batch = Batch(rows_read=rows_read)
    pos = 0
    for name, size in zip(names, sizes, strict=True):
        with pa.ipc.open_stream(buf.slice(pos, size)) as reader:
            setattr(batch, name, reader.read_all())
        pos += size
    return batch
