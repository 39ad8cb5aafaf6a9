"""bench/RESULTS.md's sections: a benchmark replaces only its generated part, never the rows and
readings kept by hand around it (bench/_common.py, update_section)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _common import BEGIN_GENERATED, END_GENERATED, update_section

DOC = "# Benchmark results\n\n## A\n\nhand row\n\n### Branch x\n\nkept\n\n## B\n\nb text\n"


def _written(path: Path, *writes: tuple[str, str]) -> str:
    """Write DOC to ``path``, then each (title, body) in turn; return the file's text."""
    path.write_text(DOC)
    for title, body in writes:
        update_section(title, body, path)
    return path.read_text()


def test_a_section_without_markers_keeps_all_it_held(tmp_path):
    assert _written(tmp_path / "R.md", ("A", "table 1")) == (
        f"# Benchmark results\n\n## A\n\n{BEGIN_GENERATED}\n\ntable 1\n\n{END_GENERATED}\n\n"
        "hand row\n\n### Branch x\n\nkept\n\n## B\n\nb text\n"
    )


def test_a_second_write_replaces_only_the_generated_part(tmp_path):
    once = _written(tmp_path / "R.md", ("A", "table 1"), ("A", "table 2"))
    assert once.count(BEGIN_GENERATED) == 1 and "table 1" not in once
    assert once.replace("table 2", "table 1") == _written(tmp_path / "S.md", ("A", "table 1"))
    update_section("A", "table 2", tmp_path / "R.md")
    assert (tmp_path / "R.md").read_text() == once


def test_a_missing_section_is_appended_and_others_stay(tmp_path):
    text = _written(tmp_path / "R.md", ("C", "c"), ("C", "c2"))
    assert text.startswith(DOC.rstrip())
    assert text.endswith(f"## C\n\n{BEGIN_GENERATED}\n\nc2\n\n{END_GENERATED}\n")
