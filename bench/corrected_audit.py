"""How the error-corrected and the naive net support compare with the realised one on
example-sized synthetic cases (not a speed benchmark).

For each seed, ``netsupport synth`` writes a case the size of the example (1,200 accounts,
4,600 posts, 420 hand codes in its labels file) and ``netsupport run`` analyses it; the
account- and post-level net support of every side x window cell (naive: the decisions as made,
codes applied; corrected: prediction-powered inference, METHODS.md "Error-corrected shares")
is set against the *realised* net support of the planted post stances (truth.json
``stance.<side>.<window>``): the generator's draws, which a perfect classifier would give.
The example itself (data/example) is added as the last case.

Run: ``python bench/corrected_audit.py [--seeds 1 2 3 4 5 6] [--out DIR]``; prints a Markdown
table and the summary per level (mean error, RMSE, cells covered by each 95% interval).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

from _common import OUT

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("focal", "institution")
WINDOWS = ("baseline", "crisis", "after")


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "netsupport", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _case(folder: Path, seed: int | None) -> tuple[dict, dict]:
    """Return (metrics.json, truth.json) of one case, generating and running it if needed."""
    if seed is None:  # the example, copied so that its report does not land in the repo
        src = folder / "x" / "y" / "example"  # (its study writes to ../../reports/example)
        if not src.exists():
            shutil.copytree(ROOT / "data" / "example", src)
        study = src / "study.toml"
    else:
        src = folder / f"s{seed}"
        if not (src / "study.toml").exists():
            _cli("synth", "--out", str(src), "--seed", str(seed), "--accounts", "1200",
                 "--interactions", "4600", "--days", "14", "--focal-share", "0.16")  # fmt: skip
        study = src / "study.toml"
    _cli("run", str(study), "--force")
    report = next(p for p in sorted(folder.glob("**/metrics.json")) if ".netsupport" not in str(p))
    return json.loads(report.read_text()), json.loads((src / "truth.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5, 6])
    ap.add_argument("--out", type=Path, default=OUT / "corrected_audit")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in [*a.seeds, None]:
        folder = a.out / ("example" if seed is None else f"seed{seed}")
        folder.mkdir(exist_ok=True)
        m, truth = _case(folder, seed)
        for r in m["stance_validation"]["net_support"]:
            real = truth["stance"][r["target_side"]][r["window"]][f"{r['unit']}_level"]
            rows.append((seed if seed is not None else "example", r, real["net_support"]))
    print("| case | side | window | level | realised | naive | corrected [95% CI] |")
    print("|---|---|---|---|---:|---:|---|")
    for case, r, real in rows:
        print(f"| {case} | {r['target_side']} | {r['window']} | {r['unit']} | {real:+.3f} | "
              f"{r['naive']:+.3f} | {r['corrected']:+.3f} [{r['ci_low']:+.2f}, "
              f"{r['ci_high']:+.2f}] |")  # fmt: skip
    for unit in ("account", "post"):
        sel = [(r, real) for _, r, real in rows if r["unit"] == unit]
        for key in ("naive", "corrected"):
            err = [r[key] - real for r, real in sel]
            rmse = math.sqrt(sum(e * e for e in err) / len(err))
            print(f"{unit} level, {key}: {len(err)} cells, mean error {sum(err) / len(err):+.3f}, "
                  f"RMSE {rmse:.3f}")  # fmt: skip
        cov = sum(r["ci_low"] <= real <= r["ci_high"] for r, real in sel)
        print(f"{unit} level, corrected 95% interval covers the realised value in {cov}/{len(sel)}")


if __name__ == "__main__":
    main()
