"""The simulation study (bench/simulation.py) in small: a few seeds per world, scored against the
generator's parameters. Slow-marked (it still runs in CI, in well under a minute)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import simulation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    out, _ = simulation.run(seeds=3, workers=1)
    return out


def test_estimates_are_scored_against_parameters_not_realised_values(results):
    planted = [r for r in results if r["world"] == "planted"]
    null = [r for r in results if r["world"] == "null"]
    assert {r["params"]["lift"] for r in planted} == {8.0}
    assert {r["params"]["lift"] for r in null} == {1.0}
    assert {r["params"]["tie_effect"]["difference"] for r in null} == {0.0}
    rows = simulation.summarise(results)
    lift = next(
        r for r in rows if r["world"] == "planted" and r["measure"].startswith("focal attention")
    )
    assert lift["truth"] == 8.0 and lift["n"] == 3
    assert lift["bias"] == pytest.approx(lift["mean"] - 8.0)


def test_the_lift_is_recovered_in_both_worlds(results):
    for world, truth in (("planted", 8.0), ("null", 1.0)):
        vals = [r["lift"]["value"] for r in results if r["world"] == world]
        assert all(0.6 * truth < v < 1.6 * truth for v in vals), (world, vals)


def test_the_planted_drop_is_detected_and_the_null_world_has_none_planted(results):
    drops = [r["institution"]["high"] < 0 for r in results if r["world"] == "planted"]
    assert all(drops)
    assert all(
        r["params"]["institution_drop"]["net_support_change"] == 0.0
        for r in results
        if r["world"] == "null"
    )


def test_score_by_hand():
    est = [{"value": 1.0, "low": 0.5, "high": 1.5}, {"value": 3.0, "low": 2.5, "high": 3.5}]
    s = simulation._score(est, 2.0)
    assert (s["bias"], s["rmse"], s["coverage"]) == (0.0, 1.0, 0.0)
    assert simulation._score(est, 1.2)["coverage"] == 0.5


def test_results_table_has_every_world_and_measure(results):
    text = simulation.table(simulation.summarise(results))
    assert text.count("| planted |") == 7 and text.count("| null |") == 7
