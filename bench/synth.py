"""Benchmark the synthetic case generator (``netsupport synth``) and write its RESULTS.md section.

Target (issue 7): 100,000 accounts and 1,000,000 posts in under 60 s on this 2-core machine.
Each size runs in a child process (wall time, CPU time and peak RSS of that process alone); the
child reports how the time splits between generating the case in memory and writing the files.
The 10^5 case is generated twice to check that the bytes are the same.

Usage: ``python bench/synth.py`` (``make bench`` runs it first, since the other benchmarks can
read its output). Outputs go to bench/out/synth-* (git-ignored).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, machine, update_section

SIZES = [(10_000, 100_000), (100_000, 1_000_000)]
SEED = 20140214


def child(accounts: int, posts: int, out: str) -> None:
    """Generate and write one case; print the split of the time as JSON (runs in the child)."""
    from netsupport.synth import SynthConfig, generate, write_case

    cfg = SynthConfig(seed=SEED, accounts=accounts, interactions=posts)
    t0 = time.perf_counter()
    case = generate(cfg)
    t1 = time.perf_counter()
    result = write_case(case, out)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "generate_s": t1 - t0,
                "write_s": t2 - t1,
                "bytes": sum(size for _, size in result.files),
                "jsonl_bytes": dict(result.files)["tweets.jsonl"],
                "interaction_rows": case.truth["counts"]["interaction_rows"],
                "units": case.truth["counts"]["units"],
            }
        )
    )


def measure(accounts: int, posts: int, out: Path) -> dict:
    """Run one size in a child process; return its figures."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, __file__, "--child", str(accounts), str(posts), str(out)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(stderr[-4000:])
        raise SystemExit(f"benchmark failed: {' '.join(cmd)}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures.update(
        accounts=accounts,
        posts=posts,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024.0,
    )
    return figures


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    rows = []
    for accounts, posts in SIZES:
        print(f"synth: {accounts:,} accounts, {posts:,} posts ...", flush=True)
        rows.append(measure(accounts, posts, OUT / f"synth-{posts}"))
        print(json.dumps(rows[-1]), flush=True)
    # determinism: the smaller case again, compared byte for byte
    again = measure(*SIZES[0], OUT / "synth-again")
    same = digest(OUT / f"synth-{SIZES[0][1]}") == digest(OUT / "synth-again")
    shutil.rmtree(OUT / "synth-again")
    load_after = os.getloadavg()[0]

    lines = [
        f"Machine: {machine()}. Command: `python bench/synth.py` (seed {SEED}); each size in its "
        "own child process (wall and CPU time, peak RSS of that process). Load average "
        f"{load_before:.1f} before and {load_after:.1f} after (the 2 cores are shared with other "
        "jobs, so CPU seconds show the work itself).",
        "",
        "| accounts | posts | interaction rows | generate s | write s | wall s | CPU s | posts/s "
        "(wall) | peak RSS MB | output MB (JSONL MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['accounts']:,} | {r['posts']:,} | {r['interaction_rows']:,} "
            f"| {r['generate_s']:.1f} | {r['write_s']:.1f} | **{r['wall_s']:.1f}** "
            f"| {r['cpu_s']:.1f} | {r['posts'] / r['wall_s']:,.0f} | {r['peak_mb']:,.0f} "
            f"| {r['bytes'] / 1e6:,.0f} ({r['jsonl_bytes'] / 1e6:,.0f}) |"
        )
    big = rows[-1]
    verdict = "meets" if big["wall_s"] < 60 else "misses"
    lines += [
        "",
        f"Target: 100,000 accounts and 1,000,000 posts in under 60 s: {big['wall_s']:.1f} s "
        f"wall ({verdict} it). Same seed twice ({SIZES[0][1]:,} posts, "
        f"{again['wall_s']:.1f} s the second time): "
        f"{'byte-identical output' if same else 'OUTPUT DIFFERS'}.",
        "Written per case: twarc2 v2 JSONL pages, the focal account's archive zip, a NodeXL CSV, "
        "two follower lists, accounts.csv, study.toml, lexicon.toml, labels.csv, truth.json.",
    ]
    update_section("Synthetic generator", "\n".join(lines))
    print("\n".join(lines))
    if not same:
        raise SystemExit("synth output is not deterministic")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
