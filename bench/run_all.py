"""Run every benchmark in order (``make bench``); each writes its own section of bench/RESULTS.md.

Usage: ``python bench/run_all.py [name ...]`` runs only the named benchmarks (e.g. ``import``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = [
    "synth",
    "import",
    "communities",
    "support",
    "report",
    "scale",
    "stance_simulation",
    "stance_model_1m",
    "simulation",
]


def main(argv: list[str]) -> int:
    names = argv or ORDER
    for name in names:
        script = BENCH / f"{name}.py"
        if not script.exists():
            print(f"bench: {script.name} not found, skipped", file=sys.stderr)
            continue
        print(f"== bench/{script.name}", flush=True)
        rc = subprocess.call([sys.executable, str(script)])
        if rc != 0:
            print(f"bench: {script.name} failed with exit code {rc}", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
