"""Study file validation: unknown keys, wrong types and missing files name the key/path and line."""

import re
from pathlib import Path

import pytest

from netsupport.errors import StudyError, StudyKeyError
from netsupport.schema import Window
from netsupport.studyfile import load_study

GOOD = """\
[study]
name = "example"
focal = ["@Inspector_Lane", "inspector_lane"]
institution = ["Northshire_Police"]
markers = ["#StandWithLane"]

[windows]
crisis_start = "2014-02-14T09:00:00Z"
crisis_end   = "2014-02-19T18:00:00+00:00"
baseline_days = 14
after_days = 7

[[inputs]]
path = "tweets.jsonl"
format = "twitter-v2"

[[inputs]]
path = "followers.txt"
format = "followers"
account = "@inspector_lane"

[communities]
algorithm = "leiden"
resolution = 1.5
seed = 7

[output]
dir = "out"
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "tweets.jsonl").write_text("")
    (tmp_path / "followers.txt").write_text("")
    p = tmp_path / "study.toml"
    p.write_text(text)
    return p


def test_good_study_is_normalised_and_resolved(tmp_path):
    s = load_study(_write(tmp_path, GOOD))
    assert s.focal == ("inspector_lane",)  # normalised and de-duplicated
    assert s.institution == ("northshire_police",)
    assert s.markers == ("#standwithlane",)
    assert s.windows.days(Window.AFTER) == 7
    assert s.inputs[0].path == (tmp_path / "tweets.jsonl").resolve()
    assert s.inputs[1].account == "inspector_lane"
    assert s.communities.algorithm == "leiden" and s.communities.seed == 7
    assert s.support.seed == 7  # defaults to the community seed
    assert s.output_dir == (tmp_path / "out").resolve()
    # beside the report folder, which is replaced whole on every run (issue 14, item 4)
    assert s.store_dir == s.output_dir.parent / "out.netsupport" / "store"
    assert s.parameters()["windows"]["crisis_end"] == "2014-02-19T18:00:00Z"


def test_typo_in_key_names_key_and_line(tmp_path):
    p = _write(tmp_path, GOOD.replace("baseline_days", "baseline_dayz"))
    with pytest.raises(StudyKeyError, match=r"study.toml:10: unknown key 'windows.baseline_dayz'"):
        load_study(p)


def test_unknown_section(tmp_path):
    p = _write(tmp_path, GOOD + "\n[outptu]\ndir = 'x'\n")
    with pytest.raises(StudyKeyError, match="unknown key 'outptu'"):
        load_study(p)


def test_wrong_type_names_key(tmp_path):
    p = _write(tmp_path, GOOD.replace("resolution = 1.5", 'resolution = "high"'))
    with pytest.raises(
        StudyKeyError, match="'communities.resolution' must be int or float, got str"
    ):
        load_study(p)


def test_missing_input_file_names_path(tmp_path):
    p = _write(tmp_path, GOOD)
    (tmp_path / "tweets.jsonl").unlink()
    # (usr7/usr8: the message named the key but not the study file, unlike the others)
    with pytest.raises(StudyError) as info:
        load_study(p)
    assert re.fullmatch(
        rf"{re.escape(str(p))}:\d+: inputs\[0\].path: file not found: .*tweets.jsonl",
        str(info.value),
    )


def test_missing_required_key(tmp_path):
    p = _write(tmp_path, GOOD.replace('crisis_end   = "2014-02-19T18:00:00+00:00"\n', ""))
    with pytest.raises(StudyKeyError, match="missing required key 'windows.crisis_end'"):
        load_study(p)


def test_naive_crisis_instant_is_refused(tmp_path):
    p = _write(tmp_path, GOOD.replace("2014-02-14T09:00:00Z", "2014-02-14T09:00:00"))
    with pytest.raises(StudyError, match="no time zone"):
        load_study(p)


def test_invalid_toml(tmp_path):
    p = _write(tmp_path, GOOD + "\nthis is not toml\n")
    with pytest.raises(StudyError, match="invalid TOML"):
        load_study(p)


def test_unknown_format_and_algorithm(tmp_path):
    with pytest.raises(StudyKeyError, match="format' is 'tweets'"):
        load_study(_write(tmp_path, GOOD.replace('format = "twitter-v2"', 'format = "tweets"')))
    with pytest.raises(StudyKeyError, match="communities.algorithm"):
        load_study(_write(tmp_path, GOOD.replace('"leiden"', '"girvan"')))


def test_missing_study_file(tmp_path):
    with pytest.raises(StudyError, match="study file not found"):
        load_study(tmp_path / "nope.toml")


GOOD_WITH_SUPPORT = GOOD + "\n[support]\nbootstrap = 100\nseed = 3\n"


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "resolution = 1.5",
            "resolution = -1.0",
            r":24: 'communities.resolution' must be a number",
        ),
        ("resolution = 1.5", "resolution = nan", "'communities.resolution' must be a number > 0"),
        (
            "seed = 7",
            "seed = -1",
            r":25: 'communities.seed' must be an integer from 0 to 4294967295",
        ),
        ("seed = 7", "seed = 4294967296", "'communities.seed' must be an integer from 0"),
        ("seed = 7", "seed = 7\nruns = 0", "'communities.runs' must be at least 1, got 0"),
        ("seed = 3", "seed = -3", r":32: 'support.seed' must be an integer from 0"),
        (
            "bootstrap = 100",
            "bootstrap = 0",
            "'support.bootstrap' must be from 1 to 10,000 .*, got 0",
        ),
        ("bootstrap = 100", "bootstrap = -5", "'support.bootstrap' must be from 1 to 10,000"),
        ("bootstrap = 100", "bootstrap = 9\ntop_n = -1", "'support.top_n' must be at least 1"),
        ("bootstrap = 100", "bootstrap = 9\nbreadth_min_supporters = 0", "breadth_min_supporters"),
        ("bootstrap = 100", "bootstrap = 9\nconfidence = 1.5", "'support.confidence' must be"),
        ("bootstrap = 100", "bootstrap = 9\nconfidence = 0.0", "'support.confidence' must be"),
        ("[support]", "[stance]\npositive_threshold = 5\n[support]", "positive_threshold"),
        (
            "[support]",
            "[stance]\npositive_threshold = -0.5\nnegative_threshold = 0.5\n[support]",
            "'stance.negative_threshold' must be between -1 and stance.positive_threshold",
        ),
        ('markers = ["#StandWithLane"]', "markers = [1]", "'study.markers' must list hashtags"),
    ],
)
def test_parameters_out_of_range_name_key_and_line(tmp_path, old, new, match):
    assert old in GOOD_WITH_SUPPORT
    p = _write(tmp_path, GOOD_WITH_SUPPORT.replace(old, new, 1))
    with pytest.raises(StudyKeyError, match=match):
        load_study(p)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            'crisis_end   = "2014-02-19T18:00:00+00:00"',
            "crisis_end = 5",
            "5 is not a date and time",
        ),
        ("baseline_days = 14", "baseline_days = nan", "must be finite numbers >= 0"),
        ("baseline_days = 14", "baseline_days = 1000000000", "beyond the dates supported"),
        ("2014-02-19T18:00:00+00:00", "3000-01-01T00:00:00Z", "outside the dates supported"),
        (
            "2014-02-19T18:00:00+00:00",
            "2014-02-10T00:00:00Z",
            "crisis_end 2014-02-10T00:00:00\\+00:00 is not after crisis_start",
        ),
    ],
)
def test_impossible_windows_name_the_study_file(tmp_path, old, new, match):
    p = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(StudyError, match=rf"study.toml: .*{match}"):
        load_study(p)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('path = "tweets.jsonl"', 'path = "tweets\\u0000.jsonl"', "inputs[0].path"),
        ('dir = "out"', 'dir = "o\\u0000ut"', "output.dir"),
        ('dir = "out"', 'dir = "out"\nstore = "s\\u0000"', "output.store"),
        ('dir = "out"', 'dir = "out"\nsalt_file = "s\\u0000"', "output.salt_file"),
        ("[communities]", '[stance]\nlabels = "l\\u0000.csv"\n[communities]', "stance.labels"),
        ("[communities]", '[stance]\nlexicon = "l\\u0000.toml"\n[communities]', "stance.lexicon"),
        ('markers = ["#StandWithLane"]', 'accounts = "a\\u0000.csv"', "study.accounts"),
        ('markers = ["#StandWithLane"]', 'account_map = "m\\u0000.csv"', "study.account_map"),
    ],
)
def test_a_nul_character_in_a_path_is_an_error_naming_the_key(tmp_path, old, new, key):
    # A TOML string may hold "\u0000"; the operating system takes no path with a NUL byte
    # (os.path.realpath raised ValueError: embedded null byte, a traceback).
    p = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(StudyKeyError, match=rf"study.toml.*'{re.escape(key)}'.*NUL"):
        load_study(p)


def test_account_both_focal_and_institution_is_refused(tmp_path):
    # usr7: focal = institution ran to the end and reported "reputational change of
    # @inspector_lane: not measured (no posts addressed the institution side)", the study's
    # typo never named
    both = '["northshire_police", "@Inspector_Lane"]'
    p = _write(tmp_path, GOOD.replace('["Northshire_Police"]', both))
    with pytest.raises(
        StudyKeyError,
        match=r"study.toml:4: @inspector_lane is named both focal and institution",
    ):
        load_study(p)


def test_missing_second_input_names_its_own_line(tmp_path):
    p = _write(tmp_path, GOOD)
    (tmp_path / "followers.txt").unlink()
    with pytest.raises(StudyError) as info:
        load_study(p)
    line = GOOD.splitlines().index('path = "followers.txt"') + 1  # (not the first input's)
    assert str(info.value).startswith(f"{p}:{line}: inputs[1].path: file not found: ")


@pytest.mark.parametrize("blocker", ["file", "folder"])
def test_output_dir_refused_names_the_study_file(tmp_path, blocker):
    # usr7/usr8: "output.dir: ... is a file, not a folder" named the key but not the study
    from typer.testing import CliRunner

    from netsupport.cli import app

    p = _write(tmp_path, GOOD)
    if blocker == "file":
        (tmp_path / "out").write_text("x")
    else:
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "mine.txt").write_text("keep me")
    r = CliRunner().invoke(app, ["run", str(p)])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {p}: output.dir: {tmp_path / 'out'} "), r.stderr


@pytest.mark.parametrize("value", ['""', '"   "', '" \\t\\n "'])
def test_a_blank_preregistration_is_none(tmp_path, value):
    # usr8: preregistration = "   " gave the report "declared as primary in the study file;
    # preregistration:)": a preregistration claimed, none named
    text = GOOD.replace("[output]", f"[provenance]\npreregistration = {value}\n\n[output]")
    assert load_study(_write(tmp_path, text)).provenance.preregistration is None
    text = GOOD.replace("[output]", '[provenance]\npreregistration = " OSF x "\n\n[output]')
    assert load_study(_write(tmp_path, text)).provenance.preregistration == "OSF x"
