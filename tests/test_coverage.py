"""Tests for netsupport.support.coverage: input spans, windows cut to the data or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from netsupport.cli import app
from netsupport.errors import StudyError, StudyKeyError
from netsupport.ingest import import_paths
from netsupport.schema import Window
from netsupport.store import Store
from netsupport.studyfile import load_study
from netsupport.support.coverage import InputSpan, coverage_check, input_spans
from netsupport.windows import Windows

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "example"
T = pd.Timestamp


def _w(baseline_days: float = 14, after_days: float = 14) -> Windows:
    return Windows.from_crisis(
        "2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", baseline_days, after_days
    )


def test_windows_spanned_by_the_data_are_kept_and_no_warning():
    spans = [InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00:51Z"), T("2014-03-05T17:55Z"))]
    used, rec = coverage_check(spans, _w())
    assert used == _w()
    assert rec["cut"] == [] and rec["warnings"] == []
    assert rec["windows"]["baseline"] == {"declared_days": 14.0, "used_days": 14.0, "spanned": True}


def test_a_baseline_longer_than_the_data_is_cut_to_the_data_with_a_warning():
    # the acceptance case: 28 baseline days on data that start 14 days before the crisis
    spans = [InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00:51Z"), T("2014-03-05T17:55Z"))]
    used, rec = coverage_check(spans, _w(baseline_days=28))
    assert used.baseline_start == T("2014-01-31T09:00Z")  # the first row, floored to the hour
    assert used.days(Window.BASELINE) == 14.0
    assert rec["cut"] == [
        {
            "bound": "baseline_start",
            "key": "windows.baseline_days",
            "declared": "2014-01-17T09:00:00Z",
            "used": "2014-01-31T09:00:00Z",
        }
    ]
    assert rec["windows"]["baseline"]["spanned"] is False
    assert len(rec["warnings"]) == 1 and "cut to 14.0 days" in rec["warnings"][0]


def test_refuse_policy_names_the_key_and_the_span():
    spans = [InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00:51Z"), T("2014-03-05T17:55Z"))]
    with pytest.raises(StudyError, match=r"^s.toml: windows\.baseline_days: the baseline window"):
        coverage_check(spans, _w(baseline_days=28), "refuse", study_path="s.toml")
    with pytest.raises(StudyError, match=r"windows\.after_days: the after window"):
        coverage_check(spans, _w(after_days=30), "refuse")


def test_an_input_covering_part_of_a_window_is_flagged_with_its_share():
    spans = [
        InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00Z"), T("2014-03-05T18:00Z")),
        # 09:00 to 07:35 -> 09:00 to 08:00 four days later: 95 of 129 crisis hours
        InputSpan("n.csv", "nodexl", T("2014-02-14T09:00:50Z"), T("2014-02-18T07:35:06Z")),
        InputSpan("f.txt", "followers", None, None),
    ]
    _, rec = coverage_check(spans, _w())
    n = rec["inputs"][1]
    assert n["windows"] == {"baseline": 0.0, "crisis": pytest.approx(95 / 129), "after": 0.0}
    assert rec["inputs"][2]["windows"] is None
    assert len(rec["warnings"]) == 1
    assert rec["warnings"][0].startswith("n.csv (2014-02-14T09:00:50Z to 2014-02-18T07:35:06Z)")
    # the share and the hours agree (95 / 129 = 73.6%): the text said "4.0 of 5.4 days", which
    # read against the exact span shown (3.94 days) gives 73% (review t5 #14)
    assert rec["warnings"][0] == (
        "n.csv (2014-02-14T09:00:50Z to 2014-02-18T07:35:06Z) covers only 74% of the crisis "
        "window (95 of its 129 hours, the span rounded out to whole hours), none of the "
        "baseline or after windows: counts from it are not comparable across windows"
    )
    assert rec["notes"] == [] and "posts" not in n  # (the store counted no posts here)


_NODEXL = ("n.csv", "nodexl", T("2014-02-14T09:00:50Z"), T("2014-02-18T07:35:06Z"))
_FULL = InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00Z"), T("2014-03-05T18:00Z"))


def test_a_partial_file_whose_posts_other_files_hold_gets_a_note_not_a_warning():
    """Review t5 #14: 194 of the NodeXL file's 195 posts are also in tweets.jsonl, yet the
    warning said its counts were not comparable across windows. 1 post only in it, of 1,118 in
    the crisis: 0.09% < 1%, a note."""
    spans = [_FULL, InputSpan(*_NODEXL, posts=195, only_here=1)]
    posts = {"baseline": 900, "crisis": 1118, "after": 800}
    _, rec = coverage_check(spans, _w(), posts=posts)
    assert rec["warnings"] == []
    assert rec["notes"] == [
        "n.csv (2014-02-14T09:00:50Z to 2014-02-18T07:35:06Z) covers only 74% of the crisis "
        "window (95 of its 129 hours, the span rounded out to whole hours), none of the "
        "baseline or after windows; 1 of its 195 posts is only in this file, under 1% of the "
        "1,118 posts of the crisis window: the other inputs hold the rest, so its partial span "
        "barely changes counts across windows"
    ]
    assert (rec["inputs"][1]["posts"], rec["inputs"][1]["posts_only_here"]) == (195, 1)


def test_a_partial_file_with_many_posts_of_its_own_stays_a_warning_with_the_count():
    # 12 of 1,118 crisis posts is 1.07%: not under 1%, so still a warning, now with the count
    spans = [_FULL, InputSpan(*_NODEXL, posts=195, only_here=12)]
    _, rec = coverage_check(spans, _w(), posts={"baseline": 900, "crisis": 1118, "after": 800})
    assert rec["notes"] == []
    assert rec["warnings"] == [
        "n.csv (2014-02-14T09:00:50Z to 2014-02-18T07:35:06Z) covers only 74% of the crisis "
        "window (95 of its 129 hours, the span rounded out to whole hours), none of the "
        "baseline or after windows; 12 of its 195 posts are only in this file: counts from it "
        "are not comparable across windows"
    ]
    # 11 of 1,118 (0.98%) is under the rule: a note
    spans = [_FULL, InputSpan(*_NODEXL, posts=195, only_here=11)]
    _, rec = coverage_check(spans, _w(), posts={"baseline": 900, "crisis": 1118, "after": 800})
    assert rec["warnings"] == [] and len(rec["notes"]) == 1


def test_a_partial_file_with_no_post_of_its_own_gets_a_note_without_window_counts():
    spans = [_FULL, InputSpan(*_NODEXL, posts=195, only_here=0)]
    _, rec = coverage_check(spans, _w())
    assert rec["warnings"] == []
    assert rec["notes"][0].endswith(
        "none of the baseline or after windows; none of its 195 posts is only in this file: "
        "the other inputs hold them, so its partial span does not change counts across windows"
    )
    # without the windows' post counts, a file with posts of its own keeps the warning
    spans = [_FULL, InputSpan(*_NODEXL, posts=195, only_here=1)]
    _, rec = coverage_check(spans, _w())
    assert rec["notes"] == [] and "1 of its 195 posts is only in this file:" in rec["warnings"][0]


def test_no_timed_input_keeps_the_windows_and_says_so():
    used, rec = coverage_check([InputSpan("f.txt", "followers", None, None)], _w())
    assert used == _w() and rec["data"] is None
    assert rec["warnings"] == [
        "no input records the time span it covers: windows are taken as declared"
    ]


def test_import_records_each_files_span_duplicates_included(tmp_path):
    # the NodeXL file's posts are all in tweets.jsonl too; its span must still be its own
    store = Store(tmp_path / "s")
    import_paths(store, [EXAMPLE / "tweets.jsonl"])
    import_paths(store, [EXAMPLE / "nodexl-standwithlane.csv"], format="nodexl")
    spans = input_spans(store.imported_files())
    assert [s.file for s in spans] == ["tweets.jsonl", "nodexl-standwithlane.csv"]
    assert (spans[1].first, spans[1].last) == (
        T("2014-02-14T09:00:50Z"),
        T("2014-02-18T07:35:06Z"),
    )
    # an earlier import keeps its count (documented): the later file's count is exact
    assert [(s.posts, s.only_here) for s in spans] == [(4589, 4589), (195, 1)]


def test_import_counts_the_posts_only_in_each_example_file(tmp_path):
    """The example's generator wrote 194 of the NodeXL file's 195 posts into tweets.jsonl too
    (truth.json files: in_jsonl_and_nodexl 194, nodexl_only 1; archive 46 posts, 36 shared, 10
    only); review t5 #14 asked the coverage warning to say so."""
    store = Store(tmp_path / "s")
    names = ["tweets.jsonl", "twitter-archive-inspector_lane.zip", "nodexl-standwithlane.csv"]
    import_paths(store, [EXAMPLE / n for n in names])
    spans = input_spans(store.imported_files())
    assert [(s.file, s.posts, s.only_here) for s in spans] == [
        ("tweets.jsonl", 4589, 4589 - 36 - 194),
        ("twitter-archive-inspector_lane.zip", 46, 10),
        ("nodexl-standwithlane.csv", 195, 1),
    ]


def _example_study(tmp_path: Path, extra_windows: str = "", baseline_days: int = 14) -> Path:
    text = (EXAMPLE / "study.toml").read_text(encoding="utf-8")
    text = text.replace('path = "', f'path = "{EXAMPLE}/')
    text = text.replace('"lexicon.toml"', f'"{EXAMPLE}/lexicon.toml"')
    text = text.replace('"labels.csv"', f'"{EXAMPLE}/labels.csv"')
    text = text.replace('"accounts.csv"', f'"{EXAMPLE}/accounts.csv"')
    text = text.replace("baseline_days = 14", f"baseline_days = {baseline_days}{extra_windows}")
    text = text.replace('dir = "../../reports/example"', f'dir = "{tmp_path / "out"}"')
    p = tmp_path / "study.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_with_a_28_day_baseline_is_cut_with_a_warning_not_a_silent_16x(tmp_path):
    study = _example_study(tmp_path, baseline_days=28)
    res = CliRunner().invoke(app, ["run", str(study)])
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
    lift = m["attention"]["focal"]["lift"]["value"]
    assert 7 < lift < 10  # the 14 covered days, not 28 (which gave 16x)
    assert m["study"]["window_days"]["baseline"] == 14.0
    assert "cut to 14.0 days" in m["coverage_check"]["warnings"][0]
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "cut to 14.0 days" in html
    assert "warning: the baseline window" in res.output  # on the terminal too


def test_example_with_a_28_day_baseline_and_refuse_is_one_line_naming_the_key(tmp_path):
    study = _example_study(tmp_path, '\nuncovered = "refuse"', baseline_days=28)
    res = CliRunner().invoke(app, ["run", str(study)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert lines[-1].startswith("error: ") and "windows.baseline_days" in lines[-1]
    assert "Traceback" not in res.output


def test_a_bad_uncovered_value_is_one_line_naming_the_key_and_line(tmp_path):
    study = _example_study(tmp_path, '\nuncovered = "shrink"')
    pattern = r"study\.toml:\d+: 'windows\.uncovered' must be cut or refuse"
    with pytest.raises(StudyKeyError, match=pattern):
        load_study(study)


@pytest.mark.parametrize("policy", ["cut", "refuse"])
@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2020-02-14T09:00:00Z", "2020-02-19T18:00:00Z"),  # after the data
        ("2010-02-14T09:00:00Z", "2010-02-19T18:00:00Z"),  # before them
        ("2014-03-05T17:58:00Z", "2014-03-05T17:59:00Z"),  # after the last row, in its hour
    ],
)
def test_a_crisis_window_outside_the_data_names_the_keys_and_the_span(start, end, policy):
    # (branch fz1) `support` without a study cut it to nothing and stopped on the Windows
    # invariant ("expected baseline_start <= crisis_start < crisis_end <= after_end, got" four
    # times the data's end), naming no key; `run` says this (study.check_data_range)
    spans = [InputSpan("t.jsonl", "twitter-v2", T("2014-01-31T09:00:51Z"), T("2014-03-05T17:55Z"))]
    windows = Windows.from_crisis(start, end, 14, 14)
    with pytest.raises(
        StudyError,
        match=r"^s.toml: windows\.crisis_start\.\.windows\.crisis_end: the crisis window .* lies "
        r"outside the data, which run from 2014-01-31T09:00:51Z to 2014-03-05T17:55:00Z",
    ):
        coverage_check(spans, windows, policy, study_path="s.toml")


def test_support_with_a_crisis_after_the_data_is_one_line(tmp_path):
    store = tmp_path / "store"
    import_paths(Store(store), [EXAMPLE / "tweets.jsonl"])
    args = ["support", "--store", str(store), "--focal", "inspector_lane", "--crisis"]
    args += ["2030-02-14T00:00:00Z", "2030-02-19T00:00:00Z", "--out", str(tmp_path / "m.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "the crisis window 2030-02-14T00:00:00Z to 2030-02-19T00:00:00Z lies outside" in (
        result.output
    )
