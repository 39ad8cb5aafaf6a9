"""Benchmark: the user's command end to end, `netsupport synth` then `netsupport run --force`.

For each size N this measures exactly what a user types (issue 17)::

    netsupport synth --out X --seed 5 --accounts N/10 --interactions N
    netsupport run X/study.toml --force [--engine dask]

The synth case is generated once per size (kept under bench/out/scale/ and reused while its
command line is unchanged; its own time is recorded apart). Then ``netsupport run --force`` is
started ``--runs`` times, each in a fresh process, on the study file exactly as synth wrote it
(``--force`` rebuilds the store, so every run imports). For every run:

* **wall**: from starting the process to its exit (``time.perf_counter``);
* **CPU**: user + system seconds of the process and the children it waited for (``os.wait4``),
  the steadier figure when other jobs share the machine;
* **peak memory of the process tree**: the CLI process and all its descendants (stance and
  import workers, the communities child, a Dask cluster), sampled every 0.1 s; the peak of the
  summed PSS (private pages plus a share of shared ones, so a forked worker's copy-on-write
  pages count once) and of the summed RSS (an upper bound), and the largest single process's
  RSS (``ru_maxrss``);
* **load average** (1 minute) just before and just after the run: a run measured while other
  jobs were busy says so;
* **the step table** the command printed (each step's own wall time; the overlapped steps say
  so), captured from its stderr.

The table reports the median of the runs (and every run). Results go to
bench/out/scale/results.json (merged over invocations: a long 10^7 Dask measurement can be
added later) and the generated part of bench/RESULTS.md's "Scale" section (the rows of earlier
hosts and the readings kept by hand around it stay: ``_common.update_section``).

Usage::

    python bench/scale.py                                  # 10^5 and 10^6, 3 runs each (make bench)
    python bench/scale.py --sizes 1e6 --runs 3             # the issue-17 acceptance figure
    python bench/scale.py --sizes '' --dask-sizes 1e7 --runs 1   # 10^7 with --engine dask (long)
    python bench/scale.py --sizes 1e5 --runs 1 --no-write  # a quick check, RESULTS.md untouched
    python bench/scale.py --sizes 1e6 --runs 3 --jobs 1    # steps in turn, kept beside the default

Measure on an idle machine: the load average beside each figure says whether it was. On 2 cores a
run's own work keeps the 1-minute load above 0.5 for a minute or two after it ends, so the next run
would start on a "busy" machine: ``--settle S`` waits up to S seconds before each run (and after the
synth) until the load average is at most ``IDLE_LOAD`` (the wait is printed and kept with the run)::

    python bench/scale.py --sizes 1e6 --runs 3 --settle 300   # the issue-17 figure, idle runs
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, OUT, machine, update_section, watch

ROOT = BENCH.parent
SCALE_OUT = OUT / "scale"
RESULTS_JSON = SCALE_OUT / "results.json"
NETSUPPORT = [sys.executable, "-m", "netsupport"]
RUN_STEPS = ("import", "stance", "communities", "metrics", "report")
SEED = 5
#: The step lines' width: the CLI draws them with rich, which wraps at the console's width
#: (80 columns when not on a terminal); wide enough that each step stays on one line.
COLUMNS = "250"


# ---- measuring a process tree --------------------------------------------------------------------


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of a process in bytes, from /proc/PID/smaps_rollup (0, 0 once it is gone)."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return pss, rss


def tree_memory(proc: Any) -> tuple[int, int]:
    """Summed (PSS, RSS) of a psutil process and all its descendants, in bytes."""
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    pss = rss = 0
    for p in procs:
        a, b = _rollup(p.pid)
        pss += a
        rss += b
    return pss, rss


def measure(cmd: list[str], log: Path | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process; return wall, CPU, tree memory, load averages, output.

    ``cwd``: where to run it (default: this checkout; ``python -m netsupport`` imports the
    netsupport found there, so another checkout's folder runs its code)."""
    peak = {"pss": 0, "rss": 0}

    def sample(ps: Any) -> None:
        pss, rss = tree_memory(ps)
        peak["pss"] = max(peak["pss"], pss)
        peak["rss"] = max(peak["rss"], rss)

    env = {**os.environ, "COLUMNS": COLUMNS}
    load_before = os.getloadavg()[0]
    w = watch(cmd, sample, 0.1, cwd=cwd or ROOT, env=env)
    load_after = os.getloadavg()[0]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(cmd)}\n{w.stdout}\n--- stderr\n{w.stderr}", encoding="utf-8")
    if w.code != 0:
        sys.stderr.write(w.stderr[-4000:])
        raise SystemExit(f"benchmark command failed ({w.code}): {' '.join(cmd)}")
    return {
        "seconds": round(w.seconds, 2),
        "cpu_s": round(w.usage.ru_utime + w.usage.ru_stime, 1),
        "tree_pss_mb": round(peak["pss"] / 2**20, 1),
        "tree_rss_mb": round(peak["rss"] / 2**20, 1),
        "max_rss_mb": round(w.usage.ru_maxrss / 1024.0, 1),
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
        "stderr": w.stderr,
    }


# ---- the command's output ------------------------------------------------------------------------

_STEP_LINE = re.compile(r"^(\w+)\s+(ran|reused)\s+([\d.]+) s  (.*)$", re.M)


def step_table(stderr: str) -> dict[str, dict[str, Any]]:
    """Return the step lines ``netsupport run`` printed: ``{step: {status, seconds, detail}}``."""
    out = {}
    for m in _STEP_LINE.finditer(stderr):
        if m.group(1) in RUN_STEPS:
            out[m.group(1)] = {
                "status": m.group(2),
                "seconds": float(m.group(3)),
                "detail": m.group(4).strip(),
            }
    return out


def size_label(n: int) -> str:
    """Return ``10^5`` for 100000, else the number with thousands separators."""
    e = math.log10(n) if n > 0 else 0
    return f"10^{round(e)}" if n > 0 and abs(e - round(e)) < 1e-9 else f"{n:,}"


def synth_command(n: int, folder: Path) -> list[str]:
    accounts = max(1000, n // 10)
    return [
        *NETSUPPORT,
        *("synth", "--out", str(folder), "--seed", str(SEED)),
        *("--accounts", str(accounts), "--interactions", str(n)),
    ]


def synth(n: int) -> tuple[Path, dict[str, Any]]:
    """Generate (or reuse) the synthetic case of size ``n``; return its folder and timing."""
    folder = SCALE_OUT / f"case-{n}"
    cmd = synth_command(n, folder)
    stamp = folder / ".bench-command"
    # reused while the command line is the same (10^7 takes a quarter of an hour to generate);
    # delete the folder to regenerate after changing netsupport/synth/
    key = json.dumps({"cmd": cmd[2:]})
    if stamp.is_file() and stamp.read_text() == key and (folder / "study.toml").is_file():
        print(f"  synth {size_label(n)}: reusing {folder}", flush=True)
        return folder, json.loads((folder / ".bench-timing").read_text())
    if folder.exists():
        shutil.rmtree(folder)
    m = measure(cmd, log=SCALE_OUT / "logs" / f"synth-{n}.log")
    timing = {k: v for k, v in m.items() if k != "stderr"}
    timing["command"] = " ".join(["netsupport", *cmd[3:]])
    (folder / ".bench-timing").write_text(json.dumps(timing))
    stamp.write_text(key)
    print(f"  synth {size_label(n)}: {m['seconds']:.1f} s", flush=True)
    return folder, timing


def store_counts(folder: Path) -> dict[str, int]:
    """Rows per table of the store the runs built (the study's own store)."""
    from netsupport.store import Store
    from netsupport.studyfile import load_study

    return Store(load_study(folder / "study.toml").store_dir).counts()


def settle(limit: float) -> float:
    """Wait up to ``limit`` seconds until the 1-minute load average is at most ``IDLE_LOAD``.

    Return the seconds waited (0 when ``limit`` is 0 or the machine is already idle)."""
    t0 = time.perf_counter()
    while limit > 0 and os.getloadavg()[0] > IDLE_LOAD and time.perf_counter() - t0 < limit:
        time.sleep(5)
    return round(time.perf_counter() - t0, 1)


def run_size(
    n: int, engine: str, runs: int, jobs: int | None, settle_s: float = 0.0
) -> dict[str, Any]:
    """Measure ``netsupport run X/study.toml --force`` ``runs`` times at size ``n``.

    ``settle_s``: before each run, wait up to this long for the load average to fall to
    ``IDLE_LOAD`` (``settle``)."""
    folder, synth_t = synth(n)
    cmd = [*NETSUPPORT, "run", str(folder / "study.toml"), "--force"]
    if engine != "pandas":
        cmd += ["--engine", engine]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    rows = []
    for k in range(runs):
        tag = f"{engine}-jobs{jobs}" if jobs is not None else engine
        waited = settle(settle_s)
        if settle_s:
            print(f"  waited {waited:.0f} s for the load average to settle", flush=True)
        m = measure(cmd, log=SCALE_OUT / "logs" / f"run-{tag}-{n}-{k + 1}.log")
        m["steps"] = step_table(m.pop("stderr"))
        if settle_s:
            m["settled_s"] = waited
        rows.append(m)
        print(
            f"  {size_label(n):>6} {engine:<6} run {k + 1}/{runs}: {m['seconds']:7.1f} s wall, "
            f"{m['cpu_s']:7.1f} s CPU, {m['tree_pss_mb']:7,.0f} MB tree PSS, load "
            f"{m['load_before']:.2f} -> {m['load_after']:.2f}",
            flush=True,
        )
    return {
        "command": " ".join(["netsupport", *cmd[3:]]).replace(str(folder), "X"),
        "synth": synth_t,
        "counts": store_counts(folder),
        "runs": rows,
        "median": median_of(rows),
    }


def median_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure over the runs, step seconds included."""
    keys = ("seconds", "cpu_s", "tree_pss_mb", "tree_rss_mb", "max_rss_mb")
    out: dict[str, Any] = {k: statistics.median(r[k] for r in rows) for k in keys}
    out["steps"] = {
        s: statistics.median(r["steps"][s]["seconds"] for r in rows if s in r["steps"])
        for s in RUN_STEPS
        if any(s in r["steps"] for r in rows)
    }
    return out


# ---- RESULTS.md ----------------------------------------------------------------------------------

#: A 1-minute load average above this, before or after a run, means other jobs shared the cores.
IDLE_LOAD = 0.5


def _idle(rows: list[dict[str, Any]]) -> str:
    """Whether every run started on an otherwise idle machine (the load average before it).

    The load after a run is not the test: on 2 cores the run's own work raises the 1-minute
    average by about its mean number of busy cores times 1 - exp(-wall/60), ~0.5 for a 25 s
    run on 1.4 cores, so it says little about other jobs."""
    worst = max(r["load_before"] for r in rows)
    return "yes" if worst <= IDLE_LOAD else f"**no** (load up to {worst:.1f} before a run)"


def render(results: dict[str, Any]) -> str:
    """Return the markdown of the Scale section from all stored results."""
    entries = sorted(
        (
            (engine, int(n), e)
            for engine, by_size in results.get("runs", {}).items()
            for n, e in by_size.items()
        ),
        key=lambda t: (t[1], t[0]),
    )
    dates = sorted({e["date"] for _, _, e in entries})
    lines = [
        f"Measured with bench/scale.py on {', '.join(dates) or '–'}. Machine: {machine()}.",
        "",
        "Command measured, exactly what a user types: `netsupport synth --out X --seed 5 "
        "--accounts N/10 --interactions N`, then `netsupport run X/study.toml --force` in a "
        "fresh process, each run again from scratch (`--force` rebuilds the store). Wall: start "
        "to exit. CPU: user + system of the process and the children it waited for. Memory: "
        "peak over the whole process tree (the CLI and every process it starts), sampled every "
        "0.1 s, as summed PSS (summed RSS, an upper bound, in brackets) and the largest single "
        "process's RSS. Load: 1-minute load average just before and just after each run; a "
        "run started while other jobs ran (load above 0.5 before it, on these 2 cores) is not an "
        "idle figure, and the idle? column says so; the load after a run includes the run's own "
        "work (`--settle` waits for it to fall before the next run). Median of the runs; every "
        "run below it.",
        "",
        "Re-run: `python bench/scale.py --sizes 1e6 --runs 3` (`make bench` runs 10^5 and "
        "10^6); 10^7 on Dask: `python bench/scale.py --sizes '' --dask-sizes 1e7 --runs 1`.",
        "",
    ]
    if entries:
        lines += [
            "| size | interactions | engine | runs | wall s (median) | CPU s | peak tree PSS MB "
            "(RSS) | largest process MB | load before → after | idle? | date, commit |",
            "|---|---:|---|---:|---:|---:|---:|---:|---|---|---|",
        ]
        for engine, n, e in entries:
            m, rows = e["median"], e["runs"]
            loads = ", ".join(f"{r['load_before']:.2f} → {r['load_after']:.2f}" for r in rows)
            lines.append(
                f"| {size_label(n)} | {e['counts'].get('interactions', 0):,} | {engine} "
                f"| {len(rows)} | **{m['seconds']:.1f}** | {m['cpu_s']:.1f} | "
                f"{m['tree_pss_mb']:,.0f} ({m['tree_rss_mb']:,.0f}) | {m['max_rss_mb']:,.0f} | "
                f"{loads} | {_idle(rows)} | {e['date']}, {e.get('commit', '')} |"
            )
        lines += ["", "Every run, and the step table the command printed:", ""]
        lines += [
            "| size | engine | run | wall s | CPU s | tree PSS MB | "
            + " | ".join(RUN_STEPS)
            + " | load before → after |",
            "|---|---|---:|---:|---:|---:|" + "---:|" * len(RUN_STEPS) + "---|",
        ]
        notes = []
        for engine, n, e in entries:
            for k, r in enumerate(e["runs"], 1):
                steps = [
                    f"{r['steps'][s]['seconds']:.1f}" if s in r["steps"] else "–" for s in RUN_STEPS
                ]
                lines.append(
                    f"| {size_label(n)} | {engine} | {k} | {r['seconds']:.1f} | {r['cpu_s']:.1f} "
                    f"| {r['tree_pss_mb']:,.0f} | "
                    + " | ".join(steps)
                    + f" | {r['load_before']:.2f} → {r['load_after']:.2f} |"
                )
            last = e["runs"][-1]["steps"]
            overlap = [
                f"{s}: {last[s]['detail']}"
                for s in RUN_STEPS
                if s in last
                and ("overlapped" in last[s]["detail"] or "run after it" in last[s]["detail"])
            ]
            if overlap:
                notes.append(f"- {size_label(n)} {engine} (last run): " + "; ".join(overlap))
        lines += [
            "",
            "Step seconds are each step's own wall time; steps that overlapped (stance and "
            "communities, the latter in a child process) say so in the command's output, so "
            "their seconds add up to more than the wall time:",
            "",
            *notes,
            "",
        ]
    lines += [
        "Acceptance (issue 17, on the idle machine, median of 3): 10^6 with the pandas engine "
        "≤ 30 s wall and ≤ 2 GB; 10^7 with `--engine dask` ≤ 300 s and ≤ 6 GB (process tree).",
        "",
    ]
    return "\n".join(lines)


# ---- main ----------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def load_results() -> dict[str, Any]:
    if RESULTS_JSON.is_file():
        data = json.loads(RESULTS_JSON.read_text())
        if data.get("harness") == 2:  # (results of the older, stage-by-stage harness: not mixed)
            return data
    return {"harness": 2}


def save_results(results: dict[str, Any]) -> None:
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2, sort_keys=True))


def _commit() -> str:
    with contextlib.suppress(OSError):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    return ""


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Example: python bench/scale.py --sizes 1e6 --runs 3 (the issue-17 figure, "
        "on an idle machine). N accepts 1e5, 1e6, 100000, comma-separated.",
    )
    ap.add_argument("--sizes", default="1e5,1e6", help="sizes N for the pandas engine")
    ap.add_argument("--dask-sizes", default="", help="sizes N for `netsupport run --engine dask`")
    ap.add_argument("--runs", type=int, default=3, help="runs per size (the median is reported)")
    ap.add_argument(
        "--jobs", type=int, default=None, help="pass --jobs to netsupport run (default: none)"
    )
    ap.add_argument("--fresh", action="store_true", help="forget results of earlier invocations")
    ap.add_argument(
        "--settle",
        type=float,
        default=0.0,
        metavar="S",
        help=f"before each run wait up to S seconds for the load average to fall to {IDLE_LOAD}",
    )
    ap.add_argument(
        "--no-write", action="store_true", help="print the section; leave RESULTS.md as it is"
    )
    args = ap.parse_args(argv)
    SCALE_OUT.mkdir(parents=True, exist_ok=True)
    results = {"harness": 2} if args.fresh else load_results()
    stamp = {"date": dt.date.today().isoformat(), "commit": _commit()}
    plan = [("pandas", n) for n in _sizes(args.sizes)]
    plan += [("dask", n) for n in _sizes(args.dask_sizes)]
    for engine, n in plan:
        print(f"== {size_label(n)} interactions, {engine} engine, {args.runs} runs", flush=True)
        res = {**run_size(n, engine, args.runs, args.jobs, args.settle), **stamp}
        # `--jobs 1` (steps in turn) is kept beside the default run, not in its place
        label = engine if args.jobs is None else f"{engine} --jobs {args.jobs}"
        results.setdefault("runs", {}).setdefault(label, {})[str(n)] = res
        save_results(results)
    text = render(results)
    print(text)
    if not args.no_write:
        update_section("Scale", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
