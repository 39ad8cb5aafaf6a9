"""Shared helpers for the benchmarks: timing child processes, machine facts, RESULTS.md sections."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
OUT = BENCH / "out"  # git-ignored scratch space for generated inputs


def machine() -> str:
    """Return a one-line description of this machine (cores, memory, CPU, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, Python {platform.python_version()}"
    )


@dataclass
class Watched:
    """A finished child process: wall seconds, exit code, ``os.wait4`` resource usage (the child
    and the descendants it waited for), and its output."""

    seconds: float
    code: int
    usage: Any
    stdout: str
    stderr: str


def watch(
    cmd: list[str],
    sample: Callable[[Any], None] | None = None,
    interval: float = 0.1,
    **kwargs: Any,
) -> Watched:
    """Run ``cmd`` to its end; while it runs, call ``sample(psutil.Process)`` every ``interval``
    seconds (errors of processes that vanish meanwhile are ignored). Output goes to temporary
    files, so a chatty child never blocks on a full pipe."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, **kwargs)
        done = threading.Event()
        sampler = None
        if sample is not None:
            import psutil

            ps = psutil.Process(proc.pid)

            def loop() -> None:
                while not done.is_set():
                    with contextlib.suppress(psutil.Error):
                        sample(ps)
                    done.wait(interval)

            sampler = threading.Thread(target=loop, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        done.set()
        if sampler is not None:
            sampler.join()
        out.seek(0)
        err.seek(0)
        return Watched(
            elapsed,
            os.waitstatus_to_exitcode(status),
            usage,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def run_measured(cmd: list[str], **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd`` as a child process; return (wall seconds, peak RSS in MB, result).

    Peak RSS comes from ``os.wait4`` on this child alone: on Linux its ``ru_maxrss`` is the largest
    of the child and the descendants it waited for (worker pools included), in KiB. Stages measured
    one after another therefore do not mix.
    """
    w = watch(cmd, **kwargs)
    result = subprocess.CompletedProcess(cmd, w.code, w.stdout, w.stderr)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(cmd)}")
    return w.seconds, w.usage.ru_maxrss / 1024.0, result


def update_section(title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of bench/RESULTS.md with ``body``."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: block + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + block
    RESULTS.write_text(text, encoding="utf-8")
