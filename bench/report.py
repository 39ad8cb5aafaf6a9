"""Benchmark: `netsupport run` on synthetic studies, and the report step on its own.

For each size: ``netsupport synth`` writes a case (not timed), ``netsupport run`` runs the whole
study (timed, peak RSS; the per-step seconds come from its progress lines), then
``netsupport report --study`` rewrites the report from the cached results (the report step
alone: charts, tables, GEXF, HTML and Markdown), and the two reports are compared byte for byte.

Usage::

    python bench/report.py                    # 10,000 and 100,000 posts; updates RESULTS.md
    python bench/report.py --n 20000          # one size (RESULTS.md untouched)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT, machine, run_measured, update_section

TITLE = "Study run and report"
SIZES = (10_000, 100_000)
STEPS = ("import", "stance", "communities", "metrics", "report")
NETSUPPORT = [sys.executable, "-m", "netsupport"]


def _digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
        and p.name != "manifest.json"
        and p.relative_to(out).parts[0] not in (".netsupport", "store")
    }


def _steps(stderr: str) -> dict[str, float]:
    out = {}
    for line in stderr.splitlines():
        m = re.match(r"^(\w+)\s+(ran|reused)\s+([\d.]+) s", line)
        if m and m.group(1) in STEPS:
            out[m.group(1)] = float(m.group(3))
    return out


def measure(n: int) -> dict[str, object]:
    folder = OUT / f"report-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    accounts = max(300, n // 10)
    run_measured(
        [
            *NETSUPPORT,
            "synth",
            "--out",
            str(folder),
            "--seed",
            "7",
            "--accounts",
            str(accounts),
            "--interactions",
            str(n),
            "--name",
            f"bench{n}",
        ]
    )
    study = folder / "study.toml"
    wall, rss, result = run_measured([*NETSUPPORT, "run", str(study)])
    steps = _steps(result.stderr)
    out = next(folder.glob("reports/*"))
    before = _digests(out)
    (out / "index.html").unlink()
    r_wall, r_rss, r_result = run_measured([*NETSUPPORT, "report", "--study", str(study)])
    after = _digests(out)
    return {
        "posts": n,
        "accounts": accounts,
        "wall": wall,
        "rss": rss,
        "steps": steps,
        "report_wall": r_wall,
        "report_rss": r_rss,
        "report_step": _steps(r_result.stderr).get("report", float("nan")),
        "html_kb": (out / "index.html").stat().st_size / 1024,
        "identical": before == after,
    }


def table(rows: list[dict[str, object]]) -> str:
    head = (
        "| posts | accounts | `run` wall s | peak RSS MB | import | stance | communities | "
        "metrics | report | `report --study`: report step s | its wall s | its peak RSS MB | "
        "index.html KB | rerun byte-identical |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|\n"
    )
    lines = []
    for r in rows:
        s = r["steps"]
        lines.append(
            f"| {r['posts']:,} | {r['accounts']:,} | {r['wall']:.1f} | {r['rss']:.0f} | "
            + " | ".join(f"{s.get(k, float('nan')):.1f}" for k in STEPS)
            + f" | {r['report_step']:.1f} | {r['report_wall']:.1f} | {r['report_rss']:.0f} | "
            f"{r['html_kb']:.0f} | "
            f"{'yes' if r['identical'] else 'NO'} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="posts to generate (repeatable)")
    args = parser.parse_args(argv)
    sizes = args.n or list(SIZES)
    rows = []
    load_before = os.getloadavg()[0]
    for n in sizes:
        print(f"report bench: {n:,} posts ...", flush=True)
        rows.append(measure(n))
    load_after = os.getloadavg()[0]
    text = table(rows)
    print(text)
    if not args.n:
        body = (
            f"Machine: {machine()}. Command: `python bench/report.py`. Step columns are seconds "
            "from `netsupport run`'s progress lines; `report --study` rewrites the report from "
            "the cached results in a new process (its wall time includes Python's imports, and "
            "any step whose code changed meanwhile). "
            f"Load average (1 min) {load_before:.1f} before, {load_after:.1f} after: "
            "other work shared the 2 cores, so the times are upper bounds.\n\n" + text
        )
        update_section(TITLE, body)
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
