"""Odd option values and hostile side files through the CLI (branch fz1): exit code 0 or 2,
one line of error, never a traceback. Each case is an input that showed a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from netsupport.cli import app

runner = CliRunner()


def _one_line_error(result, match: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and match in lines[0], result.output


def test_synth_with_a_negative_seed_is_one_line(tmp_path):
    # numpy's generator raised ValueError: expected non-negative integer (a traceback)
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "case"), "--seed", "-1"])
    _one_line_error(result, "--seed must be an integer >= 0, got -1")
    assert "generating" not in result.output  # (the parameters are checked before it starts)
    assert not (tmp_path / "case").exists()
