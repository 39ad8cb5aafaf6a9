"""Shared by the step harnesses (bench/stance_step.py, report_step.py, metrics_step.py): CPU
seconds with the children's, the parts of a step timed by wrapping the functions that make
them, and a cProfile written as text (and binary)."""

from __future__ import annotations

import functools
import importlib
import io
import resource
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def cpu() -> float:
    """CPU seconds (user + system) of this process and of the children it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Parts:
    """Wall and CPU seconds and calls of each part, inclusive: a part's figure includes the
    parts called inside it (and, for a part running in a thread beside others, their CPU)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        self.names: list[str] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``fn`` timed under ``name``."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            w0, c0 = time.perf_counter(), cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                t = self.totals[name]
                t[0] += time.perf_counter() - w0
                t[1] += cpu() - c0
                t[2] += 1

        if name not in self.names:
            self.names.append(name)
        return timed

    def instrument(self, parts: Iterable[tuple[str, str]]) -> None:
        """Wrap each (module, attribute) this version of netsupport has (several modules may
        import a function by name: each name it is called by is wrapped)."""
        for mod_name, attr in parts:
            owner: Any = importlib.import_module(mod_name)
            *path, last = attr.split(".")
            for p in path:
                owner = getattr(owner, p, None)
            fn = None if owner is None else getattr(owner, last, None)
            if fn is not None and callable(fn):
                setattr(owner, last, self.wrap(attr, fn))

    def print(self, width: int = 34) -> None:
        """Print a line per part that ran, in the order they were wrapped."""
        print(f"{'part':<{width}} {'wall s':>8} {'CPU s':>8} {'calls':>6}")
        for name in self.names:
            if name in self.totals:
                w, c, n = self.totals[name]
                print(f"{name:<{width}} {w:8.2f} {c:8.2f} {int(n):6d}")


def write_profile(profiler: Any, path: Path, cumulative: int = 60, binary: bool = False) -> None:
    """Write ``profiler``'s stats to ``path`` as text (by cumulative, then own time) and, with
    ``binary``, to ``path`` + ``.prof`` for pstats."""
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("cumulative").print_stats(cumulative)
    stats.sort_stats("tottime").print_stats(40)
    path.write_text(buf.getvalue(), encoding="utf-8")
    if binary:
        profiler.dump_stats(path.with_name(path.name + ".prof"))


def run_context(study_path: Path, work: Path | None = None) -> tuple[Any, Path]:
    """Return (a pandas-engine RunContext over the study's earlier run, that run's work folder).

    The context's keys are the earlier run's (its state.json); with ``work`` the context writes
    there instead of into the earlier run's work folder."""
    from netsupport import study as S
    from netsupport.engine import get_engine
    from netsupport.outdir import work_dir
    from netsupport.studyfile import load_study

    study = load_study(study_path)
    out = Path(study.output_dir)
    cache = work_dir(out)
    state = S._State(cache)
    keys = S._keys(study, S.input_files(study, state.data.get("files", {})))
    ctx = S.RunContext(
        study, out, work or cache, state, keys, S._Quiet(), None, engine=get_engine("pandas")
    )
    return ctx, cache
