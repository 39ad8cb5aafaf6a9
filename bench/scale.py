"""Benchmark: netsupport at 10^5, 10^6 (and 10^7) interactions, stage by stage and end to end.

For each size N the harness generates a synthetic case with ``netsupport synth --interactions N
--accounts N/10`` (kept under bench/out/scale/ and reused while its command line is unchanged),
then runs every stage as its own CLI process and measures its wall time and peak memory:

* ``import``       ``netsupport import`` once per input of the study (times added up)
* ``graph``        ``netsupport graph`` over all interactions, CSV export
* ``communities``  ``netsupport communities --window baseline`` (the study's algorithm)
* ``stance``       ``netsupport stance`` (stance.csv of every interaction)
* ``support``      ``netsupport support`` (metrics.json)
* ``run``          ``netsupport run --force`` end to end, import through report, fresh store;
                   its per-step times give each stage's share
* ``report``       ``netsupport report`` after the run (only the report step runs)

and, for the sizes in ``--dask-sizes``, ``netsupport run --engine dask`` end to end on a local
cluster. Peak memory is measured two ways: the sum over the whole process tree (the CLI process
and every worker it starts) of each process's proportional set size (PSS: private pages plus a
share of shared ones, so pages a forked worker shares with its parent count once), sampled every
0.1 s, which is the figure the acceptance limits refer to; and ``ru_maxrss`` from ``os.wait4``,
the peak RSS of the largest single process (the CLI or one of its children). Sizes in the
scaling table are the interactions in the store (``netsupport synth --interactions`` counts
posts; each post gives about one interaction).

Side by side on the same data (largest size up to 10^6, each in its own child process): our
graph build vs a row-by-row networkx ``add_edge`` loop; our community step vs plain
python-louvain ``best_partition`` on the same baseline graph; our import vs
``pandas.read_json(lines=True)`` on a 100,000-post slice of the input (on the whole 10^6 file
read_json needs about 9 GB, see issue 3).

Results go to bench/out/scale/results.json (merged over runs, so a long 10^7 run can be added
later) and the "Scale" section of bench/RESULTS.md.

Usage::

    python bench/scale.py                        # 10^5 and 10^6, pandas + dask, side by side
    python bench/scale.py --sizes 1e5 --dask-sizes 1e5 --no-compare     # quick check
    python bench/scale.py --sizes '' --dask-sizes 1e7   # only the 10^7 dask run (long)
    python bench/scale.py --sizes '' --dask-sizes '' --compare-size 1e6  # only side by side
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH, OUT, machine, update_section, watch

ROOT = BENCH.parent
SCALE_OUT = OUT / "scale"
RESULTS_JSON = SCALE_OUT / "results.json"
NETSUPPORT = [sys.executable, "-m", "netsupport"]
STAGES = ("import", "graph", "communities", "stance", "support", "report", "run")
RUN_STEPS = ("import", "stance", "communities", "metrics", "report")
SLICE_POSTS = 100_000
SEED = 42


# ---- measuring a child process tree --------------------------------------------------------------


class Measured:
    """Wall time, peak memory of the process tree (summed PSS, sampled every 0.1 s), largest
    single-process peak RSS (wait4 ``ru_maxrss``) and the output."""

    def __init__(
        self, seconds: float, tree_mb: float, max_mb: float, cpu: float, stdout: str, stderr: str
    ):
        self.seconds = seconds
        self.tree_mb = tree_mb
        self.max_mb = max_mb
        self.cpu = cpu
        self.stdout = stdout
        self.stderr = stderr

    def as_dict(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 2),
            "tree_mb": round(self.tree_mb, 1),
            "max_mb": round(self.max_mb, 1),
            "cpu_s": round(self.cpu, 1),
        }


def _pss(pid: int) -> int:
    """Proportional set size of a process (bytes): its private pages plus its share of pages
    shared with others (a forked worker's copy-on-write pages count once over the tree)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_memory(proc: Any) -> int:
    """Sum of PSS of a psutil process and all its descendants (bytes); 0 once it is gone."""
    import psutil

    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    return sum(_pss(p.pid) for p in procs)


def measure(cmd: list[str], log: Path | None = None, env: dict | None = None) -> Measured:
    """Run ``cmd``; return its wall time and memory (see :class:`Measured`); exit on failure."""
    peak = [0]

    def sample(ps: Any) -> None:
        peak[0] = max(peak[0], _tree_memory(ps))

    w = watch(cmd, sample, 0.1, cwd=ROOT, env=env)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"$ {' '.join(cmd)}\n{w.stdout}\n--- stderr\n{w.stderr}", encoding="utf-8")
    if w.code != 0:
        sys.stderr.write(w.stderr[-4000:])
        raise SystemExit(f"benchmark command failed ({w.code}): {' '.join(cmd)}")
    max_mb = w.usage.ru_maxrss / 1024.0
    cpu = w.usage.ru_utime + w.usage.ru_stime  # the process and the children it waited for
    return Measured(w.seconds, peak[0] / 2**20, max_mb, cpu, w.stdout, w.stderr)


# ---- inputs --------------------------------------------------------------------------------------


def size_label(n: int) -> str:
    """Return ``10^5`` for 100000, else the number with thousands separators."""
    e = math.log10(n) if n > 0 else 0
    return f"10^{round(e)}" if n > 0 and abs(e - round(e)) < 1e-9 else f"{n:,}"


def synth(n: int) -> tuple[Path, dict]:
    """Generate (or reuse) the synthetic case of ``n`` posts; return its folder and timing."""
    folder = SCALE_OUT / f"synth-{n}"
    accounts = max(1000, n // 10)
    cmd = [
        *NETSUPPORT,
        "synth",
        "--out",
        str(folder),
        "--seed",
        str(SEED),
        "--accounts",
        str(accounts),
        "--interactions",
        str(n),
    ]
    stamp = folder / ".bench-command"
    # reused while the command line is the same (regenerating 10^7 takes a quarter of an hour);
    # delete the folder to regenerate after changing netsupport/synth.py
    key = json.dumps({"cmd": cmd[2:]})
    if stamp.is_file() and stamp.read_text() == key and (folder / "study.toml").is_file():
        print(f"  synth {size_label(n)}: reusing {folder}", flush=True)
        return folder, json.loads((folder / ".bench-timing").read_text())
    if folder.exists():
        shutil.rmtree(folder)
    m = measure(cmd, log=folder.parent / f"logs/synth-{n}.log")
    timing = {**m.as_dict(), "command": " ".join(["netsupport", *cmd[3:]])}
    (folder / ".bench-timing").write_text(json.dumps(timing))
    stamp.write_text(key)
    print(f"  synth {size_label(n)}: {m.seconds:.1f} s, {m.tree_mb:,.0f} MB", flush=True)
    return folder, timing


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def write_study(src: Path, dst: Path, out_dir: Path, store: Path) -> tuple[dict, list[str]]:
    """Write a copy of the synth study.toml with its output and store moved; return (study, notes).

    Inputs in a format this build of netsupport cannot import are left out (and said so).
    """
    from netsupport.io import FORMATS

    data = tomllib.loads(src.read_text(encoding="utf-8"))
    notes = []
    known = set(FORMATS) | {"auto"}
    inputs = []
    for spec in data.get("inputs", []):
        if spec.get("format", "auto") in known:
            inputs.append(spec)
        else:
            notes.append(f"input {spec['path']} left out: format {spec['format']} not available")
    data["inputs"] = inputs
    if "accounts" in data.get("study", {}) and "accounts" not in FORMATS:
        notes.append(f"accounts file {data['study'].pop('accounts')} left out: no accounts reader")
    data["output"] = {"dir": str(out_dir), "store": str(store)}
    lines = []
    for section, body in data.items():
        if section == "inputs":
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
        lines.append("")
        if section == "windows":  # keep inputs after the windows, as synth writes them
            for spec in inputs:
                lines.append("[[inputs]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in spec.items()]
                lines.append("")
    dst.write_text("\n".join(lines), encoding="utf-8")
    return data, notes


def store_counts(store: Path) -> dict[str, int]:
    from netsupport.store import Store

    return Store(store).counts()


# ---- stages --------------------------------------------------------------------------------------


_STEP_LINE = re.compile(r"^(\w+)\s+(ran|reused)\s+([\d.]+) s", re.M)


def run_steps(stderr: str) -> dict[str, float]:
    """Return the per-step seconds printed by ``netsupport run`` (``import  ran  48.1 s ...``)."""
    return {m.group(1): float(m.group(3)) for m in _STEP_LINE.finditer(stderr)}


def import_commands(study: dict, base: Path, store: Path) -> list[list[str]]:
    """One ``netsupport import`` command per input of the study (and its accounts file)."""
    cmds = []
    for spec in study["inputs"]:
        cmd = [*NETSUPPORT, "import", str(base / spec["path"]), "--store", str(store)]
        cmd += ["--format", spec.get("format", "auto")]
        if spec.get("account"):
            cmd += ["--account", spec["account"], "--direction", spec.get("direction", "followers")]
        cmds.append(cmd)
    if "accounts" in study.get("study", {}):
        cmds.append(
            [
                *NETSUPPORT,
                "import",
                str(base / study["study"]["accounts"]),
                "--store",
                str(store),
                "--format",
                "accounts",
            ]
        )
    return cmds


def stages(n: int, folder: Path) -> dict[str, Any]:
    """Run every stage of size ``n`` as its own CLI process; return the measurements."""
    work = SCALE_OUT / f"work-{n}"
    if work.exists():
        shutil.rmtree(work)
    logs = SCALE_OUT / "logs"
    store = work / "store"
    study_p = folder / "bench-stages.toml"
    study, notes = write_study(folder / "study.toml", study_p, work / "out", store)
    for note in notes:
        print(f"  note: {note}", flush=True)
    res: dict[str, Any] = {"notes": notes}

    total = {"seconds": 0.0, "tree_mb": 0.0, "max_mb": 0.0}
    for i, cmd in enumerate(import_commands(study, folder, store)):
        m = measure(cmd, log=logs / f"import-{n}-{i}.log")
        total["seconds"] += m.seconds
        total["tree_mb"] = max(total["tree_mb"], m.tree_mb)
        total["max_mb"] = max(total["max_mb"], m.max_mb)
    res["import"] = {k: round(v, 2) for k, v in total.items()}
    counts = store_counts(store)
    res["counts"] = counts
    _say(n, "import", res["import"])

    s = ["--study", str(study_p)]
    plan = {
        "graph": ["graph", *s, "--out", str(work / "graph" / "edges.csv")],
        "communities": ["communities", *s, "--window", "baseline", "--out", str(work / "comm")],
        "stance": ["stance", *s, "--out", str(work / "stance" / "stance.csv")],
        "support": ["support", *s, "--out", str(work / "support" / "metrics.json")],
    }
    for name, args in plan.items():
        m = measure([*NETSUPPORT, *args], log=logs / f"{name}-{n}.log")
        res[name] = m.as_dict()
        _say(n, name, res[name])

    res["run"], res["report"], res["run_steps"] = end_to_end(n, folder, "pandas")
    return res


def end_to_end(
    n: int, folder: Path, engine: str, report: bool = True
) -> tuple[dict, dict | None, dict]:
    """``netsupport run --force`` on a fresh store (then ``netsupport report``); measurements."""
    work = SCALE_OUT / f"run-{engine}-{n}"
    if work.exists():
        shutil.rmtree(work)
    study_p = folder / f"bench-run-{engine}.toml"
    write_study(folder / "study.toml", study_p, work / "out", work / "store")
    cmd = [*NETSUPPORT, "run", str(study_p), "--force"]
    if engine != "pandas":
        cmd += ["--engine", engine]
    m = measure(cmd, log=SCALE_OUT / "logs" / f"run-{engine}-{n}.log")
    run = m.as_dict()
    run["command"] = " ".join(["netsupport", *cmd[3:]])
    steps = run_steps(m.stderr)
    _say(n, f"run ({engine})", run)
    rep = None
    if report:
        r = measure(
            [*NETSUPPORT, "report", "--study", str(study_p)],
            log=SCALE_OUT / "logs" / f"report-{engine}-{n}.log",
        )
        rep = r.as_dict()
        rep["steps"] = run_steps(r.stderr)
        _say(n, "report", rep)
    return run, rep, steps


def _say(n: int, what: str, m: dict) -> None:
    print(
        f"  {size_label(n):>6} {what:<14} {m['seconds']:8.1f} s  {m['tree_mb']:8,.0f} MB tree"
        f"  {m['max_mb']:8,.0f} MB largest process",
        flush=True,
    )


# ---- side by side (each in a child process) ------------------------------------------------------


def compare(n: int, folder: Path) -> dict[str, Any]:
    """Our graph build, community step and import against the plain alternatives."""
    store = SCALE_OUT / f"work-{n}" / "store"
    study_p = folder / "bench-stages.toml"
    out: dict[str, Any] = {"size": n}
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    for what in (
        "graph-ours",
        "graph-ours-networkx",
        "graph-networkx",
        "communities-ours",
        "communities-louvain",
    ):
        m = measure([*me, what, str(store), str(study_p)], log=SCALE_OUT / f"logs/{what}.log")
        out[what] = {**json.loads(m.stdout.strip().splitlines()[-1]), **m.as_dict()}
        print(f"  {what:<22} {out[what]['work_seconds']:8.2f} s  {m.tree_mb:8,.0f} MB", flush=True)

    # import vs pandas.read_json on a slice of the twarc2 file
    sliced, posts = slice_jsonl(folder / "tweets.jsonl", SLICE_POSTS)
    tmp_store = SCALE_OUT / "slice-store"
    if tmp_store.exists():
        shutil.rmtree(tmp_store)
    m = measure(
        [*NETSUPPORT, "import", str(sliced), "--store", str(tmp_store), "--format", "twitter-v2"],
        log=SCALE_OUT / "logs/import-slice.log",
    )
    rows = store_counts(tmp_store)["posts"]
    out["import-ours"] = {**m.as_dict(), "rows": rows, "work_seconds": round(m.seconds, 2)}
    m = measure([*me, "read-json", str(sliced)], log=SCALE_OUT / "logs/read-json.log")
    out["import-read_json"] = {**json.loads(m.stdout.strip().splitlines()[-1]), **m.as_dict()}
    out["slice"] = {"posts": posts, "bytes": sliced.stat().st_size}
    for k in ("import-ours", "import-read_json"):
        o = out[k]
        print(f"  {k:<22} {o['work_seconds']:8.2f} s  {o['tree_mb']:8,.0f} MB", flush=True)
    return out


def slice_jsonl(path: Path, posts: int) -> tuple[Path, int]:
    """Write the first lines of a twarc2 JSONL file holding about ``posts`` posts."""
    import orjson

    dst = SCALE_OUT / f"slice-{posts}.jsonl"
    n = 0
    with open(path, "rb") as src, open(dst, "wb") as out:
        for line in src:
            out.write(line)
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            data = obj.get("data") if isinstance(obj, dict) else None
            n += len(data) if isinstance(data, list) else 1
            if n >= posts:
                break
    return dst, n


def child(what: str, args: list[str]) -> None:
    """Run one side-by-side measurement in this (child) process; print JSON on the last line."""
    import networkx as nx

    from netsupport import graph
    from netsupport.schema import InteractionCol as I
    from netsupport.schema import Table, Window
    from netsupport.store import Store
    from netsupport.studyfile import load_study

    if what == "read-json":
        import pandas as pd

        t0 = time.perf_counter()
        df = pd.read_json(args[0], lines=True)
        sec = time.perf_counter() - t0
        print(json.dumps({"work_seconds": round(sec, 2), "rows": len(df)}))
        return

    store, study = Store(args[0]), load_study(args[1])
    inter = store.read(Table.INTERACTIONS)
    if what.startswith("communities"):
        inter = graph.window_interactions(inter, study.windows, Window.BASELINE)
    t0 = time.perf_counter()
    if what == "graph-ours":  # what communities and PageRank run on
        g = graph.GraphArrays.from_edges(graph.aggregate_edges(inter))
        res = {"nodes": g.n_nodes, "edges": g.n_edges}
    elif what == "graph-ours-networkx":  # the report's network map, exports
        g = graph.build_graph(graph.aggregate_edges(inter))
        res = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    elif what == "graph-networkx":
        g = nx.DiGraph()
        for s, t in zip(inter[I.SOURCE].tolist(), inter[I.TARGET].tolist(), strict=True):
            if s is None or t is None or s == t:
                continue
            if g.has_edge(s, t):
                g[s][t]["weight"] += 1.0
            else:
                g.add_edge(s, t, weight=1.0)
        res = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    elif what == "communities-ours":
        from netsupport import communities

        part = communities.detect(
            graph.aggregate_edges(inter),
            algorithm=study.communities.algorithm,
            resolution=study.communities.resolution,
            seed=study.communities.seed,
        )
        sec = time.perf_counter() - t0
        ug = nx.Graph()
        edges = graph.undirected_edges(graph.aggregate_edges(inter))
        ug.add_weighted_edges_from(edges[["source", "target", "weight"]].itertuples(index=False))
        res = {
            "engine": part.algorithm,
            "communities": int(part.membership.nunique()),
            "modularity": round(_modularity(ug, part.membership.to_dict()), 4),
        }
        print(json.dumps({"work_seconds": round(sec, 2), **res}))
        return
    elif what == "communities-louvain":
        import community as community_louvain

        edges = graph.undirected_edges(graph.aggregate_edges(inter))
        ug = nx.Graph()
        ug.add_weighted_edges_from(edges[["source", "target", "weight"]].itertuples(index=False))
        t0 = time.perf_counter()  # python-louvain's own time, on a graph built for it
        part = community_louvain.best_partition(ug, random_state=study.communities.seed)
        sec = time.perf_counter() - t0
        res = {
            "engine": "python-louvain best_partition",
            "communities": len(set(part.values())),
            "modularity": round(_modularity(ug, part), 4),
        }
        print(json.dumps({"work_seconds": round(sec, 2), **res}))
        return
    else:
        raise SystemExit(f"unknown child {what}")
    sec = time.perf_counter() - t0
    print(json.dumps({"work_seconds": round(sec, 2), **res}))


def _modularity(g: Any, part: dict) -> float:
    import community as community_louvain

    return float(community_louvain.modularity(part, g))


# ---- tables --------------------------------------------------------------------------------------


def exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) on log(x): y ~ x^k (None with fewer than 2 sizes).

    >>> round(exponent([(1e5, 2.0), (1e6, 20.0)]), 3)
    1.0
    """
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def render(results: dict[str, Any]) -> str:
    """Return the markdown of the Scale section from all stored results."""
    sizes = sorted(results.get("pandas", {}), key=int)
    lines = [
        f"Machine: {machine()}. Command: `python bench/scale.py` (`make bench`; 10^7 with "
        "`--sizes '' --dask-sizes 1e7`). Inputs: `netsupport synth --seed 42 --interactions N "
        "--accounts N/10` (twarc2 JSONL pages, archive zip, NodeXL CSV, follower lists, accounts "
        "CSV). Each stage runs as its own CLI process. Memory: peak of the summed PSS of the "
        "process tree (CLI + worker processes), sampled every 0.1 s; in brackets the peak RSS "
        "of the largest single process (wait4 ru_maxrss). Other jobs shared the 2 cores during "
        "these runs.",
        "",
    ]
    if sizes:
        entries = [results["pandas"][s] for s in sizes]
        ns = [e["counts"].get("interactions", int(s)) for s, e in zip(sizes, entries, strict=True)]
        lines += ["### Stages, pandas engine: wall time (s) and peak memory (MB)", ""]
        head = ["stage"]
        for s, n in zip(sizes, ns, strict=True):
            head += [f"{size_label(int(s))} ({n:,} int.) s", "MB"]
        head += ["time exponent", "memory exponent"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|---|" + "---:|" * (len(head) - 1))
        for st in STAGES:
            row = [st if st != "run" else "**run end to end**"]
            tpts, mpts = [], []
            for e, n in zip(entries, ns, strict=True):
                m = e.get(st)
                if m is None:
                    row += ["–", "–"]
                    continue
                row += [_fmt(m["seconds"]), f"{m['tree_mb']:,.0f} ({m['max_mb']:,.0f})"]
                tpts.append((n, m["seconds"]))
                mpts.append((n, m["tree_mb"]))
            row += [_fmt(exponent(tpts), 2), _fmt(exponent(mpts), 2)]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        for s, e in zip(sizes, entries, strict=True):
            if e.get("notes"):
                lines.append(f"Notes ({size_label(int(s))}): " + "; ".join(e["notes"]) + ".")
        lines.append("")

    runs = []
    for engine in ("pandas", "dask"):
        for s, e in sorted(results.get(engine, {}).items(), key=lambda kv: int(kv[0])):
            if "run" in e:
                runs.append((engine, int(s), e))
    if runs:
        lines += [
            "### `netsupport run` end to end: time, memory and each step's share",
            "",
            "| size | interactions | engine | wall s | CPU s | peak MB (largest process) | "
            + " | ".join(RUN_STEPS)
            + " | date |",
            "|---|---:|---|---:|---:|---:|" + "---:|" * len(RUN_STEPS) + "---|",
        ]
        for engine, s, e in runs:
            r, steps = e["run"], e.get("run_steps", {})
            total = sum(steps.values()) or r["seconds"]
            shares = [
                f"{steps[k]:.1f} s ({100 * steps[k] / total:.0f}%)" if k in steps else "–"
                for k in RUN_STEPS
            ]
            lines.append(
                f"| {size_label(s)} | {e.get('counts', {}).get('interactions', 0):,} | {engine} "
                f"| {r['seconds']:.1f} | {r.get('cpu_s', 0):.1f} | "
                f"{r['tree_mb']:,.0f} ({r['max_mb']:,.0f}) | "
                + " | ".join(shares)
                + f" | {e.get('date', '')} |"
            )
        lines += [
            "",
            "Acceptance: 10^6 interactions with the pandas engine in ≤ 60 s and ≤ 2,048 MB; "
            "10^7 with `--engine dask` on a local cluster in ≤ 8,192 MB (whole process tree).",
            "",
        ]

    cmp_ = results.get("compare")
    if cmp_:
        lines += [
            f"### Side by side ({size_label(cmp_['size'])} synthetic case, each in its own "
            "child process)",
            "",
            "| what | ours | alternative | ours s | alternative s | speed-up | ours MB | "
            "alternative MB |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        g2 = cmp_["graph-networkx"]
        ours = [
            (
                "graph-ours",
                "aggregated edges as sorted integer arrays (`GraphArrays`, what "
                "communities and PageRank run on)",
            ),
            (
                "graph-ours-networkx",
                "aggregated edges, then a sorted networkx DiGraph with "
                "per-kind counts (`build_graph`: network map, exports)",
            ),
        ]
        for key, what in ours:
            g1 = cmp_.get(key)
            if g1 is None:
                continue
            lines.append(
                f"| build the interaction graph ({g1['edges']:,} edges, {g1['nodes']:,} nodes) "
                f"| {what} | row-by-row networkx `add_edge` loop (weight only) | "
                f"{g1['work_seconds']:.2f} | {g2['work_seconds']:.2f} | "
                f"{g2['work_seconds'] / max(g1['work_seconds'], 1e-9):.1f}× | "
                f"{g1['tree_mb']:,.0f} | {g2['tree_mb']:,.0f} |"
            )
        c1, c2 = cmp_["communities-ours"], cmp_["communities-louvain"]
        lines.append(
            f"| communities on the baseline graph (modularity ours {c1['modularity']}, "
            f"alternative {c2['modularity']}) | `communities.detect`, the study's engine "
            f"({c1['engine']}) | "
            f"python-louvain `best_partition` | {c1['work_seconds']:.2f} | "
            f"{c2['work_seconds']:.2f} | {c2['work_seconds'] / max(c1['work_seconds'], 1e-9):.1f}×"
            f" | {c1['tree_mb']:,.0f} | {c2['tree_mb']:,.0f} |"
        )
        i1, i2 = cmp_["import-ours"], cmp_["import-read_json"]
        sl = cmp_["slice"]
        lines.append(
            f"| read {sl['posts']:,} posts ({sl['bytes'] / 2**20:.0f} MB twarc2 JSONL slice) "
            "| `netsupport import` (validated rows in the Parquet store) | "
            "`pandas.read_json(lines=True)` (raw page objects only) | "
            f"{i1['work_seconds']:.2f} | {i2['work_seconds']:.2f} | "
            f"{i2['work_seconds'] / max(i1['work_seconds'], 1e-9):.1f}× | {i1['tree_mb']:,.0f} | "
            f"{i2['tree_mb']:,.0f} |"
        )
        lines += [
            "",
            "Graph and community times exclude reading the store (the same frame is handed to "
            "both); python-louvain's time excludes building its networkx graph. The import "
            "comparison uses a 100,000-post slice because read_json on the whole 10^6 file needs "
            "about 9 GB; ours includes process start-up, validation and the Parquet commit.",
            "",
        ]
    return "\n".join(lines)


# ---- main ----------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def load_results() -> dict[str, Any]:
    if RESULTS_JSON.is_file():
        return json.loads(RESULTS_JSON.read_text())
    return {}


def save_results(results: dict[str, Any]) -> None:
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=2, sort_keys=True))


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1e5,1e6", help="sizes for the stage-by-stage runs")
    ap.add_argument("--dask-sizes", default="1e5,1e6", help="sizes for `run --engine dask`")
    ap.add_argument("--no-compare", action="store_true", help="skip the side-by-side runs")
    ap.add_argument(
        "--compare-size",
        default="",
        help="size of the side-by-side runs (default: the largest of --sizes up to 10^6); "
        "its stage runs must have been made before (their store is reused)",
    )
    ap.add_argument("--fresh", action="store_true", help="forget results of earlier runs")
    args = ap.parse_args(argv)
    sizes, dask_sizes = _sizes(args.sizes), _sizes(args.dask_sizes)
    SCALE_OUT.mkdir(parents=True, exist_ok=True)
    results = {} if args.fresh else load_results()
    date = dt.date.today().isoformat()
    stamp = {"date": date, "commit": _commit()}

    for n in sizes:
        print(f"== {size_label(n)} interactions, pandas engine", flush=True)
        folder, synth_t = synth(n)
        res = {**stages(n, folder), **stamp, "synth": synth_t}
        results.setdefault("pandas", {})[str(n)] = res
        save_results(results)
    for n in dask_sizes:
        print(f"== {size_label(n)} interactions, dask engine", flush=True)
        folder, synth_t = synth(n)
        run, _, steps = end_to_end(n, folder, "dask", report=False)
        counts = store_counts(SCALE_OUT / f"run-dask-{n}" / "store")
        results.setdefault("dask", {})[str(n)] = {
            "run": run,
            "run_steps": steps,
            "counts": counts,
            **stamp,
            "synth": synth_t,
        }
        save_results(results)
    if not args.no_compare and (sizes or args.compare_size):
        n = _sizes(args.compare_size)[0] if args.compare_size else None
        n = n or max([s for s in sizes if s <= 1_000_000] or [min(sizes)])
        print(f"== side by side at {size_label(n)}", flush=True)
        folder, _ = synth(n)
        results["compare"] = {**compare(n, folder), **stamp}
        save_results(results)

    text = render(results)
    print(text)
    update_section("Scale", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
