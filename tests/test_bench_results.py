"""bench/RESULTS.md's sections: a benchmark replaces only its generated part, never the rows and
readings kept by hand around it (bench/_common.py, update_section)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from _common import BEGIN_GENERATED, END_GENERATED, update_section

DOC = "# Benchmark results\n\n## A\n\nhand row\n\n### Branch x\n\nkept\n\n## B\n\nb text\n"


def test_a_section_without_markers_keeps_all_it_held(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(DOC)
    update_section("A", "table 1", path)
    text = path.read_text()
    assert text == (
        f"# Benchmark results\n\n## A\n\n{BEGIN_GENERATED}\n\ntable 1\n\n{END_GENERATED}\n\n"
        "hand row\n\n### Branch x\n\nkept\n\n## B\n\nb text\n"
    )


def test_a_second_write_replaces_only_the_generated_part(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(DOC)
    update_section("A", "table 1", path)
    update_section("A", "table 2", path)
    once = path.read_text()
    assert "table 1" not in once and "table 2" in once
    assert once.count(BEGIN_GENERATED) == 1
    assert once.replace("table 2", "table 1") == _written(tmp_path, "table 1")
    update_section("A", "table 2", path)
    assert path.read_text() == once


def test_a_missing_section_is_appended_and_others_stay(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(DOC)
    update_section("C", "c", path)
    update_section("C", "c2", path)
    text = path.read_text()
    assert text.startswith(DOC.rstrip())
    assert text.endswith(f"## C\n\n{BEGIN_GENERATED}\n\nc2\n\n{END_GENERATED}\n")


def _written(tmp_path: Path, body: str) -> str:
    path = tmp_path / "other.md"
    path.write_text(DOC)
    update_section("A", body, path)
    return path.read_text()
