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


# ---- TOML files saved with a byte order mark (Notepad on Windows writes one) -------------------
# tomllib refuses the BOM: "invalid TOML: Invalid statement (at line 1, column 1)" for a study
# file or a lexicon that is otherwise fine.


def test_a_study_file_with_a_bom_loads_as_without(tmp_path):
    from netsupport.studyfile import load_study

    (tmp_path / "t.jsonl").write_text("")
    text = (
        '[study]\nname = "demo"\nfocal = ["lane"]\n[windows]\n'
        'crisis_start = "2014-02-14T09:00:00Z"\ncrisis_end = "2014-02-19T18:00:00Z"\n'
        '[[inputs]]\npath = "t.jsonl"\n'
    )
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8-sig")
    a, b = load_study(tmp_path / "a.toml"), load_study(tmp_path / "b.toml")
    assert (a.name, a.focal, a.windows, a.inputs) == (b.name, b.focal, b.windows, b.inputs)


def test_a_lexicon_with_a_bom_loads_as_without(tmp_path):
    from netsupport.stance.rules import load_lexicon

    text = '[support]\nphrases = ["miss you"]\n[critique]\nphrases = ["own goal"]\n'
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8-sig")
    a, b = load_lexicon(tmp_path / "a.toml"), load_lexicon(tmp_path / "b.toml")
    assert a.support == b.support and a.critique == b.critique
