"""Tests for netsupport.report and its parts (report_format, report_findings, report_charts,
report_tables): findings, chart data, escaping, CSV safety, stability, browser.

The mini case (tests/data/report/posts.csv) is 20 hand-written posts around a crisis from
2014-02-14T09:00Z to 2014-02-19T18:00Z; its most-shared crisis post (c1, reposted by three
accounts) carries ``<script>`` and ``{{ 7*7 }}``, post c5 carries ``"><img onerror=...>`` and
post c6 starts with ``=HYPERLINK(...)``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from netsupport import (
    evidence_report,
    report,
    report_charts,
    report_evidence,
    report_findings,
    report_format,
    report_stance,
    report_tables,
    stance,
    support,
)
from netsupport.interactions import interactions_from_posts
from netsupport.schema import Table
from netsupport.studyfile import Study, SupportParams
from netsupport.windows import Windows

DATA = Path(__file__).parent / "data" / "report"
W = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 14)


def _mini_tables() -> dict:
    posts = pd.read_csv(DATA / "posts.csv", dtype=str, keep_default_na=False).replace({"": None})
    posts["created_at"] = pd.to_datetime(posts["created_at"], utc=True)
    posts["platform"] = "twitter"
    accounts = pd.read_csv(DATA / "accounts.csv", dtype=str)
    follows = pd.DataFrame(
        {"follower": ["amy", "hal"], "followee": ["lane", "lane"], "observed_at": pd.NaT}
    )
    follows["observed_at"] = pd.to_datetime(follows["observed_at"], utc=True)
    return {
        Table.POSTS: posts,
        Table.INTERACTIONS: interactions_from_posts(posts),
        Table.FOLLOWS: follows,
        Table.ACCOUNTS: accounts,
    }


def _mini_study(
    out: Path, focal=("lane",), institution=("force",), markers=("#standwithlane",)
) -> Study:
    return Study(
        name="mini",
        focal=focal,
        institution=institution,
        windows=W,
        inputs=(),
        markers=markers,
        support=SupportParams(bootstrap=200, seed=7),
        output_dir=out,
    )


def _write_mini(out: Path, tables: dict | None = None, **kw) -> list[Path]:
    study = _mini_study(out, **kw)
    tables = _mini_tables() if tables is None else tables
    st = stance.stance_table(tables, study, workers=1)
    inter = stance.stance_interactions(tables, study)
    membership, _ = support.baseline_communities(inter, study)
    pr, _ = support.crisis_pagerank(inter, study)
    analysis = support.analyse(tables, study, stance=st, membership=membership, pagerank=pr)
    inputs = [{"path": "posts.csv", "format": "csv", "bytes": 123, "sha256": "ab" * 32}]
    inp = report.build_inputs(
        study, tables, analysis, membership=membership, pagerank=pr, inputs=inputs
    )
    return report.write_report(inp, out)


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mini")
    _write_mini(out)
    return out


# ---- findings -----------------------------------------------------------------------------------

NM = {"status": "not measured", "reason": "no posts in the after window"}


def _metrics() -> dict:
    """A hand-made metrics.json (the structure of support.compute_metrics)."""
    ci = lambda v, lo, hi: {"value": v, "low": lo, "high": hi}  # noqa: E731
    return {
        "study": {"name": "x", "focal": ["lane"], "institution": ["force"]},
        "parameters": {"confidence": 0.95},
        "attention": {
            "focal": {
                "baseline": {"interactions_per_day": 7.1},
                "crisis": {"interactions_per_day": 52.34},
                "lift": ci(7.44, 6.1, 9.04),
            }
        },
        "stance_shares": {
            "focal": {
                "baseline": {"account_level": {"net_support": ci(0.3, 0.2, 0.4)}},
                "crisis": {
                    "account_level": {
                        "n": 412,
                        "supportive": ci(0.71, 0.66, 0.76),
                        "critical": ci(0.09, 0.06, 0.12),
                        "net_support": ci(0.62, 0.57, 0.67),
                    }
                },
            },
            "institution": {
                "baseline": {"account_level": {"net_support": ci(0.05, -0.05, 0.15)}},
                "crisis": {"account_level": {"net_support": ci(-0.553, -0.62, -0.48)}},
            },
        },
        "reputation": {
            "focal": {"account_level": ci(0.32, 0.2, 0.44)},
            "institution": {"account_level": ci(-0.603, -0.7, -0.5)},
            "gap": {"account_level": ci(0.923, 0.8, 1.05)},
        },
        "composition": {
            "supporters": 265,
            "prior_tie": 180,
            "newcomers": 85,
            "prior_tie_share": ci(0.679, 0.62, 0.735),
        },
        "breadth": {"k": 3, "communities_with_k_supporters": 5, "normalised_entropy": 0.8234},
        "mobilisation": {
            "n_communities": 7,
            "communities": [
                {
                    "community": 0,
                    "members": 300,
                    "active": 180,
                    "supporters": 92,
                    "share_active": 0.6,
                },
                {
                    "community": 3,
                    "members": 40,
                    "active": 30,
                    "supporters": 92,
                    "share_active": 0.75,
                },
                {"community": 5, "members": 4, "active": 4, "supporters": 4, "share_active": 1.0},
            ],
        },
        "silence": {
            "start": "2014-02-14T08:00:00Z",
            "end": "2014-02-19T21:00:00Z",
            "hours": 133.0,
        },
        "proxies": {
            "top": [
                {"rank": 1, "handle": "sgt_ana", "reach": 312},
                {"rank": 2, "handle": "rmn_tess", "reach": 201},
            ]
        },
        "roles": {
            "focal": {
                "media": {"first_mention": {"hours_after_crisis_start": 26.0}},
                "citizen": {"first_mention": {"hours_after_crisis_start": 1.0}},
                "unknown": {"first_mention": {"hours_after_crisis_start": 0.1}},
                "journalist": {"first_mention": NM},
            }
        },
        "persistence": {"focal": {"attention_ratio": NM, "net_support_change": NM}},
    }


def test_findings_are_plain_sentences_with_the_numbers_worked_by_hand():
    f = report_findings.findings(_metrics())
    text = [s.text() for s in f.sentences]
    assert text == [
        "Attention to @lane rose 7.4× in the crisis (95% CI 6.1–9.0×): 52.3 posts a day "
        "addressed the account, against 7.1 a day before.",
        "In the crisis, 71% of the 412 accounts that addressed @lane were supportive and 9% "
        "critical: net support +62 points (95% CI +57 to +67), +32 points compared with the "
        "period before (95% CI +20 to +44).",
        # -0.603 -> 60 points; baseline +5 -> crisis -55 (typographic minus)
        "Net support for @force changed by −60 points (95% CI −70 to −50), from +5 before the "
        "crisis to −55 during it; the two sides moved 92 points apart (95% CI +80 to +105).",
        "68% of the 265 accounts that supported @lane in the crisis had a prior tie (95% CI "
        "62–74%): they followed the account or had interacted with it before; 85 were "
        "newcomers.",
        # communities 0 and 3 both gave 92 supporters: the tie goes to the lower id, shown as
        # its id (the numbering of metrics.json, tables/communities.csv and the CLI)
        "Support came from 5 communities with at least 3 supporters each (of the 7 found before "
        "the crisis; evenness 0.82 on a 0–1 scale); the most supporters, 92, came from "
        "community 0, where 60% of the 300 members addressed @lane.",
        "While @lane was silent (14 Feb 2014 08:00 UTC to 19 Feb 2014 21:00 UTC, 5 d 13 h), "
        "@sgt_ana was the most-reached supportive voice: its supportive posts drew replies, "
        "reposts or quotes from 312 accounts, followed by @rmn_tess (201).",
        # unknown role is not a role; journalists were not measured
        "First to address @lane after the crisis began: citizens (1.0 h), then media accounts "
        "(26.0 h).",  # t13 #3: hours with one decimal, as Figure 6 gives them
    ]
    assert f.not_measured == [("Persistence of attention to @lane", "no posts in the after window")]
    # numbers are emphasised in HTML and Markdown
    assert "<strong>7.4×</strong>" in str(f.sentences[0].html())
    assert "**7\\.4×**" not in f.sentences[0].markdown()  # a dot needs no escape mid-line
    assert "**7.4×**" in f.sentences[0].markdown()


def test_findings_add_the_account_bootstrap_interval_when_it_is_wider():
    m = _metrics()
    m["attention"]["focal"]["lift"]["account_bootstrap"] = {"low": 4.9, "high": 11.6}
    first = report_findings.findings(m).sentences[0].text()
    assert first.startswith(
        "Attention to @lane rose 7.4× in the crisis (95% CI 6.1–9.0×; 4.9–12× resampling "
        "accounts): "
    )


def test_findings_list_what_is_not_measured_instead_of_zeros():
    nm = {"status": "not measured", "reason": "the data hold nothing in the crisis window"}
    m = {
        "study": {"focal": ["lane"], "institution": []},
        "attention": {"focal": nm},
        "stance_shares": {"focal": nm},
        "reputation": {"focal": nm},
        "composition": nm,
        "breadth": nm,
        "mobilisation": nm,
        "silence": nm,
        "proxies": nm,
        "roles": {"focal": nm},
        "persistence": {"focal": nm},
    }
    f = report_findings.findings(m)
    assert f.sentences == []
    assert [w for w, _ in f.not_measured] == [
        "Attention lift for @lane",
        "Stance towards @lane in the crisis",
        "Supporters' prior ties to @lane",
        "Breadth of support across communities",
        "@lane's silence",
        "First mentions by role",
        "Persistence of attention to @lane",
    ]
    assert all(r == nm["reason"] for _, r in f.not_measured)


def _with_dated_ties(m: dict, prior_tie: int, share: dict) -> dict:
    """Return ``m`` with the tie comparison: ``prior_tie`` of the 265 supporters of
    :func:`_metrics` (180 with a prior tie) have a dated one, giving ``share``."""
    dated = {"groups": {"supportive": {"accounts": 265, "prior_tie": prior_tie, "share": share}}}
    other = {"accounts": 10, "prior_tie": 1, "share": {"value": 0.1, "low": 0.0, "high": 0.4}}
    every = {
        "groups": {"critical": other, "neutral": other},
        "odds_ratio": {"status": "not measured", "reason": "x"},
    }
    m["comparisons"] = {"prior_ties": {"variants": {"all_ties": every, "dated_ties": dated}}}
    return m


def test_the_headline_prior_tie_row_carries_the_undated_follow_caveat():
    """Guards issue 13: the finding said that some supporters' prior ties rest only on a follow
    without a date, but the headline table (and headline.csv) showed the share without a hint.
    By hand: 180 ties of 265 supporters, 120 of them dated, so 60 rest on an undated follow;
    counting dated ties only 120 / 265 = 45% (interval 39–51%, given)."""
    m = _with_dated_ties(_metrics(), 120, {"value": 0.4528, "low": 0.39, "high": 0.51})
    rows = {r[0]: r[1:] for r in report_tables.headline_display(m)}
    assert rows["Supporters with a prior tie"] == [
        "68% (62–74%); 45% (39–51%) counting dated ties only",
        "",  # the institution's column
    ]
    csv = report_tables.headline_table(m)
    measures = list(csv["measure"])
    at = measures.index("prior_tie_share_dated_ties")
    assert measures[at - 1] == "prior_tie_share"  # right below the share it qualifies
    assert csv.iloc[at][["side", "value", "low", "high", "status"]].tolist() == [
        "focal",
        0.4528,
        0.39,
        0.51,
        "measured",
    ]
    # the finding says it from the same test: 60 of these 180
    text = [s.text() for s in report_findings.findings(m).sentences]
    assert any("60 of these 180 rest only on a follow without a date" in t for t in text)


def test_the_headline_prior_tie_row_is_unchanged_when_every_tie_is_dated():
    """180 of 180 ties dated (and no tie comparison at all): the row, headline.csv and the
    finding are as they were before the caveat existed."""
    plain = _metrics()
    rows = {r[0]: r[1:] for r in report_tables.headline_display(plain)}
    assert rows["Supporters with a prior tie"] == ["68% (62–74%)", ""]
    before = report_tables.headline_table(plain)
    assert "prior_tie_share_dated_ties" not in set(before["measure"])
    m = _with_dated_ties(_metrics(), 180, {"value": 0.679, "low": 0.62, "high": 0.735})
    assert report_tables.headline_display(m) == report_tables.headline_display(plain)
    pd.testing.assert_frame_equal(report_tables.headline_table(m), before)
    assert not any("without a date" in s.text() for s in report_findings.findings(m).sentences)


def test_headline_csv_says_which_figure_each_row_holds():
    """Review t6 #4: headline.csv's net_support_crisis held the error-corrected value with no
    naive figure or method, so a user of the CSV could not tell which figure it was."""
    m = _metrics()
    m["headline"] = {
        "net_support_crisis": {
            "focal": {"value": 0.43, "low": 0.2, "high": 0.61, "naive": 0.56, "method": "ppi"},
            "institution": NM,
        },
        "reputational_change": {"focal": {"value": 0.19, "low": 0.04, "high": 0.33}},
    }
    t = report_tables.headline_table(m)
    assert list(t.columns) == [
        "measure",
        "side",
        "value",
        "low",
        "high",
        "status",
        "method",
        "naive",
        "primary",
    ]
    rows = {(r.measure, r.side): r for r in t.itertuples()}
    net = rows[("net_support_crisis", "focal")]
    assert (net.value, net.method, net.naive) == (0.43, "error-corrected", 0.56)
    change = rows[("reputational_change", "focal")]
    assert (change.value, change.method) == (0.19, "uncorrected") and pd.isna(change.naive)
    lift = rows[("attention_lift", "focal")]
    assert (lift.value, lift.method) == (7.44, "no stance") and pd.isna(lift.naive)
    assert rows[("prior_tie_share", "focal")].method == "uncorrected"
    assert rows[("net_support_crisis", "institution")].method == ""  # not measured
    assert not t["primary"].any()  # no [study] primary


def test_headline_csv_holds_every_primary_measure_and_marks_them():
    """Guards review t7 X3: headline.csv had no row for the attention level change or the
    prior-tie odds ratio, two of the example's four primary measures."""
    m = _metrics()
    level = {"value": 26.29, "low": 16.64, "high": 41.53}
    odds = {"value": 5.0, "low": 2.62, "high": 9.52, "n": 200, "method": "logit"}
    m["headline"] = {
        "attention_level_change": {"focal": level, "institution": NM},
        "prior_tie_odds_ratio": odds,
        "reputational_change": {"focal": {"value": 0.19, "low": 0.04, "high": 0.33}},
    }
    m["primary"] = {
        "measures": [
            {"measure": "attention_level_change", "side": "focal"},
            {"measure": "reputational_change", "side": "focal"},
            {"measure": "prior_tie_odds_ratio", "side": None},
        ]
    }
    t = report_tables.headline_table(m)
    rows = {(r.measure, r.side): r for r in t.itertuples()}
    lc = rows[("attention_level_change", "focal")]
    assert (lc.value, lc.low, lc.high, lc.method, lc.primary) == (
        26.29,
        16.64,
        41.53,
        "no stance",
        True,
    )
    assert rows[("attention_level_change", "institution")].primary == False  # noqa: E712
    o = rows[("prior_tie_odds_ratio", "focal")]
    assert (o.value, o.method, o.primary) == (5.0, "uncorrected", True)
    assert rows[("reputational_change", "focal")].primary
    assert set(t.loc[t["primary"], "measure"]) == {
        "attention_level_change",
        "reputational_change",
        "prior_tie_odds_ratio",
    }


# ---- chart data ---------------------------------------------------------------------------------


def test_mobilisation_frame_uses_exact_intervals_on_the_counts():
    m = {
        "mobilisation": {
            "communities": [
                {"community": 1, "members": 10, "active": 3, "supporters": 0, "share_active": 0.3},
                {"community": 0, "members": 20, "active": 0, "supporters": 0, "share_active": 0.0},
            ]
        }
    }
    df = report_charts.mobilisation_frame(m)
    assert df["community"].tolist() == [0, 1]  # ordered by id (= size rank)
    ci = support.proportion_ci(3, 10)
    row = df.iloc[1]
    assert (row["active_share"], row["active_lo"], row["active_hi"]) == (
        0.3,
        ci["low"],
        ci["high"],
    )
    assert row["supportive_share"] == 0.0  # 0 of 3 active were supporters
    assert pd.isna(df.iloc[0]["supportive_share"])  # nobody active: not measured, not 0


def test_the_mobilisation_caption_says_when_it_draws_the_largest_communities_only():
    """Guards review t7 X7: Figure 4 drew the 12 largest of 39 communities and did not say so
    (community 14, one of the 10 of breadth, was not drawn)."""
    row = {"members": 10, "active": 3, "supporters": 1, "share_active": 0.3}
    m = {"mobilisation": {"communities": [dict(row, community=i) for i in range(39)]}}
    mob = report_charts.mobilisation_frame(m)
    assert len(mob) == 12
    assert report_charts._drawn(m, mob) == (
        " Drawn: the 12 largest of the 39 communities (all in tables/communities.csv)."
    )
    m["mobilisation"]["communities"] = m["mobilisation"]["communities"][:20]  # as metrics.json
    m["mobilisation"]["n_communities"] = 39
    assert "the 12 largest of the 39 communities" in report_charts._drawn(m, mob)
    m["mobilisation"].update(communities=m["mobilisation"]["communities"][:12], n_communities=12)
    assert report_charts._drawn(m, report_charts.mobilisation_frame(m)) == ""


def test_the_prior_tie_tables_and_figures_say_they_count_the_stance_decisions_as_made(mini):
    """Guards review t7 M7: supporters, critics and neutrals of the prior-tie tables and of
    Figures 3 and 4 are stance decisions as made; nothing said their intervals leave out the
    decisions' error, beside a primary figure that is error-corrected."""
    text = (mini / "report.md").read_text(encoding="utf-8")
    assert "Supporters by their stance decisions as made: the decisions' error is not in" in text
    assert "share who were mostly supportive (stance decisions as made)" in text
    if "Odds ratio (adjusted)" in text:
        assert "by their stance decisions as made (their error is not in these intervals)" in text


def test_net_support_frame_skips_not_measured_windows():
    df = report_charts.net_support_frame(_metrics())
    assert df[["window", "target", "net"]].values.tolist() == [
        ["baseline", "focal", 0.3],
        ["crisis", "focal", 0.62],
        ["baseline", "institution", 0.05],
        ["crisis", "institution", -0.553],
    ]


def test_roles_counts_bins_by_day_and_unknown_role():
    units = pd.DataFrame(
        {
            "target_side": ["focal", "focal", "focal", "institution"],
            "source": ["a", "b", "zz", "a"],
            "created_at": pd.to_datetime(
                [
                    "2014-02-14T10:00Z",
                    "2014-02-14T23:00Z",
                    "2014-02-15T01:00Z",
                    "2014-02-14T10:00Z",
                ],
                utc=True,
            ),
        }
    )
    roles = pd.Series({"a": "media", "b": "media"})
    out = report_charts.roles_counts(units, roles, W)
    # days counted from the crisis start (09:00), not calendar days (issue 14 item 24)
    assert out.assign(time=out["time"].astype(str)).values.tolist() == [
        ["2014-02-14 09:00:00+00:00", "media", 2],
        ["2014-02-14 09:00:00+00:00", "unknown", 1],
    ]


def test_timing_medians_are_the_tested_roles_of_role_timing_in_its_order():
    # review t5 #11: Figure 6 plots these (the text's medians), not roles.*.first_mention
    roles = {
        "citizen": {"median_first_hours_new": 24.57, "new_accounts": 52},
        "institution": {"median_first_hours_new": 1.38, "new_accounts": 2},
        "professional": {"median_first_hours_new": 22.02, "new_accounts": 43},
        "media": {"median_first_hours_new": None, "new_accounts": 0},
    }
    m = {"role_timing": {"focal": {"roles": roles, "order": ["professional", "citizen"]}}}
    medians, too_few = report_charts.timing_medians(m)
    assert list(medians.items()) == [("professional", (22.02, 43)), ("citizen", (24.57, 52))]
    assert too_few == {"institution": 2}
    nm = {"role_timing": {"focal": {"status": "not measured", "reason": "Dask"}}}
    assert report_charts.timing_medians(nm) == ({}, {})


def test_time_bin_is_hourly_for_short_studies():
    assert report_charts.time_bin(W) == "D"
    short = Windows.from_crisis("2014-02-14T09:00Z", "2014-02-14T18:00Z", 1, 1)
    assert report_charts.time_bin(short) == "h"


# ---- escaping and CSV safety --------------------------------------------------------------------


def test_post_text_is_escaped_in_index_html(mini):
    html = (mini / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()  # the report has no script at all
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # template syntax in a post is data, never evaluated
    assert "{{ 7*7 }}" in html
    assert "stand with @lane #standwithlane &lt;script&gt;alert(1)&lt;/script&gt; 49" not in html


def test_post_text_is_escaped_in_report_md(mini):
    md = (mini / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\{\\{ 7\\*7 \\}\\}" in md
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in md
    # handles keep their underscores escaped, tables keep their pipes
    for line in md.splitlines():
        if line.startswith("| @amy"):
            assert line.count(" | ") >= 4


def test_report_md_renders_to_safe_html(mini):
    # render the Markdown as a reader's viewer would (CommonMark with tables, raw HTML allowed):
    # the escaped post text must come out as text, never as tags
    markdown_it = pytest.importorskip("markdown_it")
    md = (mini / "report.md").read_text(encoding="utf-8")
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script" not in html.lower()
    assert "<img src=x" not in html and '<img src="x"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
    imgs = re.findall(r'<img src="([^"]+)"', html)
    assert imgs == [f"charts/{k}.png" for k in report_charts.CHART_KEYS]
    assert html.count("<table>") >= 4  # headline, windows, inputs, parameters at least
    assert "@inspector" not in html and "@lane" in html


def test_csv_tables_neutralise_formula_cells(mini):
    rows = list(csv.DictReader((mini / "tables" / "top_posts_focal.csv").open(encoding="utf-8")))
    texts = [r["text"] for r in rows]
    assert any(t.startswith("'=HYPERLINK(") for t in texts), texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    for path in (mini / "tables").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path.name, cell)
                # negative numbers are data; a "-" cell must be a number
                if cell.startswith("-"):
                    float(cell)


# ---- structure and stability --------------------------------------------------------------------


def test_index_html_is_self_contained(mini):
    html = (mini / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;' in html
    tags = re.findall(r"<[a-z]+\s[^>]*>", html)
    for tag in tags:
        for _attr, value in re.findall(r'\s(src|href|srcset|action|data)="([^"]*)"', tag):
            assert not re.match(r"\s*(https?:)?//", value), tag[:120]
    srcs = re.findall(r'<img src="([^"]{0,40})', html)
    assert len(srcs) == len(report_charts.CHART_KEYS) and all(
        s.startswith("data:image/png;base64,") for s in srcs
    )
    assert "url(" not in html  # no CSS fetches either
    assert re.search(r"<link\b", html) is None


def test_report_md_links_every_chart_relatively(mini):
    md = (mini / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\((charts/[a-z_]+\.png)\)", md)
    assert links == [f"charts/{k}.png" for k in report_charts.CHART_KEYS]
    assert all((mini / p).is_file() and (mini / p).with_suffix(".svg").is_file() for p in links)


def test_the_report_shows_the_rule_counts_sentence(mini):
    """The mini case's stance table has 24 rows (interactions with @lane or @force): lexicon
    18, vader 5, victim 1 (metrics.json stance.by_rule and stance.interactions)."""
    m = json.loads((mini / "metrics.json").read_text(encoding="utf-8"))
    assert m["stance"]["interactions"] == 24
    assert m["stance"]["by_rule"] == {"lexicon": 18, "vader": 5, "victim": 1}
    assert m["stance"]["units"] == 20  # (the 24 rows come from 20 posts addressing a side)
    start = (
        "Rules that decided the stance of the 24 interaction rows with @lane or @force (20 "
        "posts addressing either; a post that replies to and mentions an account is one post "
        "and two rows): lexicon 18 (75%), vader 5 (21%), victim 1 (4%). Lexicon: a phrase of "
        "the study"
    )
    for name in ("report.md", "index.html"):
        assert start in (mini / name).read_text(encoding="utf-8")


def test_parameter_names_wrap_at_dots_and_underscores_not_mid_word(mini):
    # review t5 #17: "td code, th code { word-break: break-all }" broke the parameters table's
    # names anywhere ("sensitivity.window_shift_d | ays")
    html = (mini / "index.html").read_text(encoding="utf-8")
    params = re.search(r'<table class="params">.*?</table>', html, re.S).group(0)
    assert "<code>support.<wbr>breadth_<wbr>min_<wbr>supporters</code>" in params
    assert "table.params th code { word-break: normal; }" in html


def test_findings_come_first_in_the_page(mini):
    html = (mini / "index.html").read_text(encoding="utf-8")
    assert html.index('id="findings"') < html.index('id="charts"') < html.index('id="methods"')
    first = re.search(r'<ul class="findings">\s*<li>(.*?)</li>', html, re.S).group(1)
    assert first.startswith("Attention to @lane rose <strong>")


def test_writing_twice_gives_identical_bytes(mini, tmp_path):
    _write_mini(tmp_path)

    def digests(root: Path) -> dict:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    a, b = digests(mini), digests(tmp_path)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert {"index.html", "report.md", "metrics.json", "graph.gexf"} <= set(a)
    assert json.loads((mini / "metrics.json").read_text())["study"]["name"] == "mini"


def test_stale_tables_and_charts_are_removed(mini, tmp_path):
    shutil.copytree(mini, tmp_path / "r")
    (tmp_path / "r" / "tables" / "old.csv").write_text("x\n")
    (tmp_path / "r" / "charts" / "old.png").write_bytes(b"x")
    (tmp_path / "r" / "tables" / "notes.txt").write_text("mine")
    _write_mini(tmp_path / "r")
    assert not (tmp_path / "r" / "tables" / "old.csv").exists()
    assert not (tmp_path / "r" / "charts" / "old.png").exists()
    assert (tmp_path / "r" / "tables" / "notes.txt").exists()  # not ours: left alone


def test_manifest_records_inputs_versions_and_the_only_timestamp(tmp_path):
    study = _mini_study(tmp_path)
    inputs = [{"path": "posts.csv", "format": "csv", "bytes": 1, "sha256": "cd" * 32}]
    (tmp_path / "metrics.json").write_text("{}\n")
    p = report.write_manifest(
        tmp_path,
        study,
        inputs,
        files=[tmp_path / "metrics.json"],
        created_at="2024-01-01T00:00:00Z",
    )
    m = json.loads(p.read_text())
    assert m["created_at"] == "2024-01-01T00:00:00Z"
    assert m["inputs"] == inputs
    assert m["parameters"]["support"]["seed"] == 7 and m["seeds"]["support_bootstrap"] == 7
    assert m["packages"]["pandas"] == pd.__version__
    assert m["netsupport"] and m["python"]
    assert m["outputs"] == {
        "metrics.json": hashlib.sha256(b"{}\n").hexdigest(),
    }


def test_report_without_an_institution(tmp_path):
    _write_mini(tmp_path, institution=())
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "@force" not in re.search(r'<table class="headline">.*?</table>', html, re.S).group(0)
    assert not (tmp_path / "tables" / "top_posts_institution.csv").exists()
    assert len(re.findall(r'<img src="data:image/png', html)) == len(report_charts.CHART_KEYS)


def test_report_when_the_focal_account_never_appears(tmp_path):
    # nothing about @nobody can be measured: the report says so instead of showing zeros
    _write_mini(tmp_path, focal=("nobody",), markers=())  # a marker would address @nobody
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    nm = re.search(r'<div class="nm">(.*?)</div>', html, re.S).group(1)
    assert "Attention lift for @nobody" in nm and "never appear in the data" in nm
    assert "Attention to @nobody rose" not in html
    assert len(re.findall(r'<img src="data:image/png', html)) == len(
        report_charts.CHART_KEYS
    )  # charts say "No ..."


def _with_chatter() -> dict:
    """The mini case plus @ned's baseline post to @ola (neither side addressed: both are in the
    graph but outside the conversation about the sides) and @pip, an accounts row with no post."""
    tables = _mini_tables()
    posts = tables[Table.POSTS]
    extra = posts.iloc[:1].copy()
    extra[["post_id", "author", "mentions", "text"]] = ["x1", "ned", "ola", "@ola match tonight?"]
    extra["created_at"] = pd.Timestamp("2014-02-03T10:00:00Z")
    posts = pd.concat([posts, extra], ignore_index=True)
    more = pd.DataFrame(
        {
            "handle": ["ned", "ola", "pip"],
            "role": ["citizen", "media", "citizen"],
            "description": ["Plumber", "Radio Northshire", "Walker"],
        }
    )
    tables[Table.POSTS] = posts
    tables[Table.INTERACTIONS] = interactions_from_posts(posts)
    tables[Table.ACCOUNTS] = pd.concat([tables[Table.ACCOUNTS], more], ignore_index=True)
    return tables


def _gexf_roles(path: Path) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    ns = {"g": "http://gexf.net/1.3"}
    root = ET.parse(path).getroot()
    role_id = next(
        a.get("id")
        for a in root.iterfind(".//g:attributes/g:attribute", ns)
        if a.get("title") == "role"
    )
    return {
        n.get("id"): next(
            v.get("value") for v in n.iterfind(".//g:attvalue", ns) if v.get("for") == role_id
        )
        for n in root.iterfind(".//g:nodes/g:node", ns)
    }


def test_every_graph_account_carries_its_accounts_table_role(tmp_path, mini):
    # review t5 #3: graph.gexf gave 594 accounts of the example the role "unknown" and
    # tables/roles.csv had 454 of its 1,200 accounts: roles were only looked up for the
    # accounts that addressed a side or were in the crisis graph (role timing's N_r)
    _write_mini(tmp_path, tables=_with_chatter())
    gexf = _gexf_roles(tmp_path / "graph.gexf")
    assert gexf["ned"] == "citizen" and gexf["ola"] == "media"
    assert gexf["lane"] == "professional" and "pip" not in gexf  # (no edge: no node)
    roles = pd.read_csv(tmp_path / "tables" / "roles.csv")
    assert list(roles.columns) == ["handle", "role", "in_conversation"]
    assert len(roles) == 14  # the 11 accounts of the mini case, ned, ola and pip
    by = roles.set_index("handle")
    assert by.loc["pip", "role"] == "citizen" and not by.loc["pip", "in_conversation"]
    assert not by.loc["ned", "in_conversation"] and by.loc["amy", "in_conversation"]
    # role timing keeps its population (accounts in the conversation): as without the chatter
    m = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    m0 = json.loads((mini / "metrics.json").read_text(encoding="utf-8"))
    sizes = {r: v["size"] for r, v in m["role_timing"]["focal"]["roles"].items()}
    assert sizes == {r: v["size"] for r, v in m0["role_timing"]["focal"]["roles"].items()}
    assert sizes["citizen"] == 5 and sizes["media"] == 1  # amy cat fay gus ida; dan


def test_without_an_accounts_table_every_role_is_unknown_but_the_institution(tmp_path):
    tables = _mini_tables()
    tables[Table.ACCOUNTS] = None
    _write_mini(tmp_path, tables=tables)
    gexf = _gexf_roles(tmp_path / "graph.gexf")
    assert gexf["force"] == "institution"
    assert {r for h, r in gexf.items() if h != "force"} == {"unknown"}
    roles = pd.read_csv(tmp_path / "tables" / "roles.csv").set_index("handle")
    assert set(roles["role"]) == {"unknown", "institution"} and roles["in_conversation"].all()
    m = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert set(m["role_timing"]["focal"]["roles"]) <= {"institution"}


# ---- in a real browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)

_PROBE = """(function () {
  var blocked = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    blocked.push(e.blockedURI + ' ' + e.violatedDirective);
  });
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
    var res = performance.getEntriesByType('resource').map(function (r) { return r.name; })
      .filter(function (n) { return n.indexOf('data:') !== 0; });
    var b = document.body;
    b.setAttribute('data-images', String(imgs.length));
    b.setAttribute('data-loaded', String(ok.length));
    b.setAttribute('data-widths', ok.map(function (i) { return i.naturalWidth; }).join(','));
    b.setAttribute('data-resources', JSON.stringify(res));
    b.setAttribute('data-blocked', JSON.stringify(blocked));
    b.setAttribute('data-probe', 'done');
  });
})();"""


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked for, from chromium's net log.

    Chromium's own background requests (update checks, time sync) carry the initiator "not an
    origin"; a request made by a file:// page carries its opaque origin, "null".
    """
    if not netlog.exists():
        return []
    raw = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(raw)
    except ValueError:  # chromium may leave the log unterminated when killed
        log = json.loads(raw.rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
        and not e["params"]["url"].startswith(("data:", "file:"))
    ]


def _probe(html: str, tmp: Path) -> tuple[dict[str, str], list[str]]:
    """Open ``html`` in headless chromium with the probe; return its findings and page requests.

    The probe may run by its hash; the rest of the page's policy stays in force and anything it
    blocks is reported to the probe.
    """
    import base64

    digest = base64.b64encode(hashlib.sha256(_PROBE.encode()).digest()).decode()
    probed = html.replace("script-src &#39;none&#39;", f"script-src &#39;sha256-{digest}&#39;")
    probed = probed.replace("</body>", f"<script>{_PROBE}</script>\n</body>")
    tmp.mkdir(parents=True, exist_ok=True)
    page = tmp / "page.html"
    page.write_text(probed, encoding="utf-8")
    netlog = tmp / "net.json"
    result = _chromium(
        ["--virtual-time-budget=10000", f"--log-net-log={netlog}", "--dump-dom", page.as_uri()],
        tmp / "profile",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    body = re.search(r"<body[^>]*>", result.stdout)
    assert body is not None, result.stdout[:500]
    attrs = {
        k: v.replace("&quot;", '"')
        for k, v in re.findall(r'(data-[a-z]+)="([^"]*)"', body.group(0))
    }
    return attrs, _page_requests(netlog)


_NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install chromium); the browser test "
    "needs it to load index.html",
)


@pytest.mark.browser
@_NEEDS_CHROMIUM
def test_index_html_loads_every_chart_in_chromium_without_network(mini, tmp_path):
    html = (mini / "index.html").read_text(encoding="utf-8")
    assert "script-src &#39;none&#39;" in html
    attrs, requests = _probe(html, tmp_path)
    assert attrs.get("data-probe") == "done", attrs
    assert attrs["data-images"] == str(len(report_charts.CHART_KEYS))
    assert attrs["data-loaded"] == str(
        len(report_charts.CHART_KEYS)
    )  # every chart decoded, with a real width
    assert all(int(w) >= 1000 for w in attrs["data-widths"].split(","))
    assert json.loads(attrs["data-resources"]) == []
    assert json.loads(attrs["data-blocked"]) == []
    assert requests == []


@pytest.mark.browser
@_NEEDS_CHROMIUM
def test_browser_probe_detects_a_request_leaving_the_page(mini, tmp_path):
    # guards the test above against passing vacuously: an external image is caught twice,
    # by the page's policy (reported to the probe) and, without the policy, in the net log
    html = (mini / "index.html").read_text(encoding="utf-8")
    leaky = html.replace("</main>", '<img src="http://127.0.0.1:9/leak.png"></main>')
    attrs, _ = _probe(leaky, tmp_path / "csp")
    n = len(report_charts.CHART_KEYS)
    assert attrs["data-images"] == str(n + 1) and attrs["data-loaded"] == str(n)
    assert "http://127.0.0.1:9/leak.png" in attrs["data-blocked"]
    no_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", leaky)
    no_csp = no_csp.replace(
        "<head>",
        '<head><meta http-equiv="Content-Security-Policy" content="script-src &#39;none&#39;">',
    )
    _, requests = _probe(no_csp, tmp_path / "open")
    assert "http://127.0.0.1:9/leak.png" in requests


def test_bluesky_dids_are_shown_with_their_handles(tmp_path):
    # issue 16: a Bluesky account is keyed by its DID; the report showed only the DID although
    # the import kept the handle (an identity event, a --handles CSV) as the account's name
    def key(h):
        return None if h is None else f"bluesky:did:plc:{h}"

    tables = _mini_tables()
    posts = tables[Table.POSTS]
    posts["platform"] = "bluesky"
    for col in ("author", "target_author"):
        posts[col] = posts[col].map(key)
    posts["mentions"] = posts["mentions"].map(
        lambda m: None if m is None else " ".join(map(key, m.split()))
    )
    accounts = tables[Table.ACCOUNTS]
    accounts["name"] = [f"@{h}.bsky.social" if h != "amy" else None for h in accounts["handle"]]
    accounts["handle"] = accounts["handle"].map(key)
    tables[Table.INTERACTIONS] = interactions_from_posts(posts)
    study = _mini_study(tmp_path, focal=(key("lane"),), institution=(key("force"),))
    st = stance.stance_table(tables, study, workers=1)
    analysis = support.analyse(tables, study, stance=st)
    inp = report.build_inputs(study, tables, analysis)
    assert inp.shown[key("lane")] == "@lane.bsky.social"
    assert key("amy") not in inp.shown  # no handle known: the DID alone
    report.write_report(inp, tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "@lane.bsky.social (bluesky:did:plc:lane)" in md.replace("\\_", "_")
    assert "@lane.bsky.social (bluesky:did:plc:lane)" in html
    # the CSV tables keep the stable key
    assert "bsky.social" not in (tmp_path / "tables" / "headline.csv").read_text()
    # pseudonymised outputs show no handle
    assert replace(inp, pseudonymiser=object()).shown_handles() == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_neighbourhood_on_arrays_equals_the_networkx_two_step_subgraph(seed):
    import networkx as nx

    from netsupport.graph import neighbourhood

    g = nx.gnm_random_graph(400, 500, seed=seed, directed=True)
    g = nx.relabel_nodes(g, {n: f"h{n}" for n in g})
    edges = pd.DataFrame(
        [(u, v, 1.0 + (i % 3)) for i, (u, v) in enumerate(g.edges())],
        columns=["source", "target", "weight"],
    )
    g = nx.DiGraph()
    g.add_weighted_edges_from(edges.itertuples(index=False, name=None))
    centre = ["h1", "h2", "absent"]
    und = g.to_undirected(as_view=True)
    keep = {"h1", "h2"} & set(g)
    frontier = set(keep)
    for _ in range(2):
        frontier = {m for n in frontier for m in und.neighbors(n)} - keep
        keep |= frontier
    want = g.subgraph(keep)
    got = neighbourhood(edges, centre)
    assert got.nodes.tolist() == sorted(want.nodes)
    got_edges = {
        (got.nodes[s], got.nodes[t]): w
        for s, t, w in zip(got.src, got.dst, got.weight, strict=True)
    }
    assert got_edges == {(u, v): d["weight"] for u, v, d in want.edges(data=True)}
    # no centre account in the graph: the whole graph
    assert neighbourhood(edges, ["absent"]).n_edges == len(edges)


def _drawn_charts():
    from netsupport import charts

    net = pd.DataFrame(
        {
            "window": ["baseline", "crisis", "after"],
            "target": ["focal", "focal", "focal"],
            "net": [0.1, 0.5, 0.3],
            "lo": [0.0, 0.4, 0.2],
            "hi": [0.2, 0.6, 0.4],
        }
    )
    comp = pd.DataFrame({"window": ["crisis", "after"], "prior_tie": [7, 3], "newcomer": [2, 4]})
    cap = report_format.Sentence("A chart of {who}.", {"who": "@lane"})
    return [
        report_format.DrawnChart(
            "net_support", "Net", cap, "alt", charts.net_support_chart(net, focal_label="@l")
        ),
        report_format.DrawnChart(
            "composition", "Ties", cap, "alt", charts.supporter_composition(comp, focal_label="@l")
        ),
    ]


def test_charts_render_to_the_same_bytes_every_time():
    """Guards byte-stable charts (svg.hashsalt, no dates): two renders of freshly drawn
    figures give the same PNG and SVG bytes."""
    want, got = report_charts._make_charts(_drawn_charts), report_charts._make_charts(_drawn_charts)
    assert [c.key for c in got] == ["net_support", "composition"]
    assert [(c.png, c.svg) for c in got] == [(c.png, c.svg) for c in want]
    assert got[0].png.startswith(b"\x89PNG") and b"<svg" in got[0].svg


def test_top_posts_of_both_sides_read_together_equal_each_side_alone():
    """The report reads the posts once for both sides: each side's table must be what
    top_posts gives for it alone (a post's reach counts distinct answering authors)."""
    t = pd.to_datetime(["2014-02-14T10:00Z", "2014-02-14T11:00Z", "2014-02-14T12:00Z"], utc=True)
    units = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3"],
            "source": ["a", "b", "c"],
            "created_at": t,
            "stance": ["supportive", "critical", "neutral"],
            "target_side": ["focal", "institution", "focal"],
            "window": ["crisis", "crisis", "crisis"],
            "kind": ["mention", "reply", "mention"],
        }
    )
    posts = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "r1", "r2", "r3", "r4"],
            "author": ["a", "b", "c", "x", "y", "x", "z"],
            "target_post_id": [None, None, None, "p1", "p1", "p2", "p3"],
            "text": ["=one", "two", "three", "", "", "", ""],
        }
    )
    both = report_tables.top_posts_of_sides(units, posts, ["focal", "institution"])
    for side in ("focal", "institution"):
        pd.testing.assert_frame_equal(both[side], report_tables.top_posts(units, posts, side))
    assert both["focal"]["post_id"].tolist() == ["p1", "p3"]
    assert both["focal"]["reach"].tolist() == [2, 1]
    assert both["institution"]["text"].tolist() == ["two"]


# ---- counts of one ------------------------------------------------------------------------------


def _small(n: int) -> dict:
    """A small study's metrics where each count a sentence names is ``n`` (1 or 2): ``n``
    accounts addressed @lane; of 2n+1 supporters, n+1 had a prior tie, n were newcomers and n of
    the ties rest only on an undated follow (1 dated); n critics, n neutral accounts; n
    communities with at least n supporters (one of n members gave them all); the proxy reached
    n accounts; n interactions decided by a hand label; n exploratory intervals."""
    ci = lambda v, lo, hi: {"value": v, "low": lo, "high": hi}  # noqa: E731
    zero = {"accounts": n, "prior_tie": 0, "share": ci(0.0, 0.0, 0.84)}
    nm_or = {"status": "not measured", "reason": "too few accounts"}
    groups = {"critical": zero, "neutral": zero}
    sup, ties = 2 * n + 1, n + 1
    return {
        "study": {"name": "x", "focal": ["lane"], "institution": []},
        "parameters": {"confidence": 0.95},
        "stance": {"by_rule": {"label": n}},
        "stance_shares": {
            "focal": {
                "crisis": {
                    "account_level": {
                        "n": n,
                        "supportive": ci(1.0, 1.0, 1.0),
                        "critical": ci(0.0, 0.0, 0.0),
                        "net_support": ci(1.0, 1.0, 1.0),
                    }
                }
            }
        },
        "composition": {
            "supporters": sup,
            "prior_tie": ties,
            "newcomers": n,
            "prior_tie_share": ci(ties / sup, 0.09, 0.99),
        },
        "comparisons": {
            "prior_ties": {
                "accounts": sup + 2 * n,
                "undated_follow_only": n,
                "variants": {
                    key: {
                        "groups": {
                            **groups,
                            "supportive": {
                                "accounts": sup,
                                "prior_tie": ties if key == "all_ties" else 1,
                                "share": ci((ties if key == "all_ties" else 1) / sup, 0.01, 0.9),
                            },
                        },
                        "odds_ratio": nm_or,
                        "odds_ratio_unadjusted": nm_or,
                    }
                    for key in ("all_ties", "dated_ties")
                },
            }
        },
        "breadth": {"k": n, "communities_with_k_supporters": n, "normalised_entropy": 0.0},
        "mobilisation": {
            "n_communities": n,
            "communities": [
                {"community": 0, "members": n, "active": n, "supporters": n, "share_active": 1.0}
            ],
        },
        "silence": {"start": "2014-02-14T08:00:00Z", "end": "2014-02-15T08:00:00Z", "hours": 24.0},
        "proxies": {"top": [{"rank": 1, "handle": "sgt_ana", "reach": n}]},
        "primary": {"declared": False, "exploratory_intervals": n, "adjustment": "unadjusted"},
        "coverage_check": {"inputs": [], "warnings": []},
    }


def _small_study():
    return SimpleNamespace(focal=("lane",), institution=(), provenance=None, pseudonymise=False)


def _small_texts(n: int) -> list[str]:
    """The findings, the limitations and the evidence partials' lines that carry a count."""
    m = _small(n)
    text = [s.text() for s in report_findings.findings(m).sentences]
    text.append(report_stance.rule_counts_sentence(m, ["lane"]).text())
    text += [
        t
        for t in evidence_report.limitations(m, _small_study())
        if t.startswith(("Prior ties", "What cannot"))
    ]
    ctx = {**evidence_report.evidence_context(m, _small_study()), "focal": "@lane"}
    for name in ("_evidence.md.j2", "_evidence_primary.md.j2"):
        md = report._env(True).get_template(name).render(**ctx)
        text += [
            line
            for line in md.splitlines()
            if line.startswith(("Of the", str(n), "No primary measure"))
        ]
    return text


def test_counts_of_one_read_in_the_singular():
    """Guards the plural after a count of one: a small study's report said "1 accounts have a
    prior tie only through a follow without a date", "Of the 1 critics of @lane", "1 were
    newcomers", "1 of these 2 rest only on a follow"."""
    assert _small_texts(1) == [
        "In the crisis, 100% of the 1 account that addressed @lane was supportive and 0% "
        "critical: net support +100 points (95% CI +100 to +100).",
        # 2 of 3 supporters had a tie, 1 of those 2 only an undated follow; 1 / 3 dated
        "67% of the 3 accounts that supported @lane in the crisis had a prior tie (95% CI "
        "9–99%): they followed the account or had interacted with it before; 1 was a newcomer. "
        "1 of these 2 rests only on a follow without a date, taken to predate the crisis; "
        "counting dated ties only, 33% (95% CI 1–90%).",
        "Of the 1 critic of @lane in the crisis, 0% had such a tie; of the 1 neutral account, "
        "0%; the odds ratio is not measured (too few accounts).",
        "Support came from 1 community with at least 1 supporter each (of the 1 found before "
        "the crisis; evenness 0.00 on a 0–1 scale); the most supporters, 1, came from "
        "community 0, where 100% of the 1 member addressed @lane.",
        "While @lane was silent (14 Feb 2014 08:00 UTC to 15 Feb 2014 08:00 UTC, 1 d), @sgt_ana "
        "was the most-reached supportive voice: its supportive posts drew replies, reposts or "
        "quotes from 1 account.",
        "Rules that decided the stance of the 1 interaction row with @lane: label 1 (100%). Label: "
        "a hand label.",
        "Prior ties: 1 of the crisis accounts has a prior tie only through a follow without a "
        "date, taken to predate the crisis; the comparison is shown without it too.",
        "What cannot be concluded: the data are observational, so a lift or a change is not "
        "the effect of the crisis on anyone's views; a collection by keyword or mention "
        "over-represents the conversation about the case; and the 1 exploratory interval is "
        "not adjusted for multiple comparisons.",
        # 3 supporters + 1 critic + 1 neutral account addressed @lane
        "Of the 5 accounts that addressed @lane in the crisis, a prior tie (a follow, or an "
        "interaction in the baseline) is compared between supporters and the others. Odds ratio "
        "of a prior tie, supporters vs others, from a logistic regression controlling for each "
        "account's baseline activity (its interactions in the baseline with accounts other than "
        "@lane: one with @lane is a prior tie), with its 95% interval.",
        "1 account has a prior tie only through a follow without a date (assumed to predate the "
        "crisis in the first table, left out in the second).",
        "No primary measure is declared ([study] primary): every figure in this report is "
        "exploratory: 1 interval, unadjusted.",
    ]


def test_counts_of_two_keep_the_plural():
    """The same sentences with every count 2 read as before the singular existed (the example
    report, every count above 1, is byte-identical)."""
    assert _small_texts(2) == [
        "In the crisis, 100% of the 2 accounts that addressed @lane were supportive and 0% "
        "critical: net support +100 points (95% CI +100 to +100).",
        # 3 of 5 supporters had a tie, 2 of those 3 only an undated follow; 1 / 5 dated
        "60% of the 5 accounts that supported @lane in the crisis had a prior tie (95% CI "
        "9–99%): they followed the account or had interacted with it before; 2 were newcomers. "
        "2 of these 3 rest only on a follow without a date, taken to predate the crisis; "
        "counting dated ties only, 20% (95% CI 1–90%).",
        "Of the 2 critics of @lane in the crisis, 0% had such a tie; of the 2 neutral accounts, "
        "0%; the odds ratio is not measured (too few accounts).",
        "Support came from 2 communities with at least 2 supporters each (of the 2 found before "
        "the crisis; evenness 0.00 on a 0–1 scale); the most supporters, 2, came from "
        "community 0, where 100% of the 2 members addressed @lane.",
        "While @lane was silent (14 Feb 2014 08:00 UTC to 15 Feb 2014 08:00 UTC, 1 d), @sgt_ana "
        "was the most-reached supportive voice: its supportive posts drew replies, reposts or "
        "quotes from 2 accounts.",
        "Rules that decided the stance of the 2 interaction rows with @lane: label 2 (100%). "
        "Label: "
        "a hand label.",
        "Prior ties: 2 of the crisis accounts have a prior tie only through a follow without a "
        "date, taken to predate the crisis; the comparison is shown without them too.",
        "What cannot be concluded: the data are observational, so a lift or a change is not "
        "the effect of the crisis on anyone's views; a collection by keyword or mention "
        "over-represents the conversation about the case; and the 2 exploratory intervals are "
        "not adjusted for multiple comparisons.",
        "Of the 9 accounts that addressed @lane in the crisis, a prior tie (a follow, or an "
        "interaction in the baseline) is compared between supporters and the others. Odds ratio "
        "of a prior tie, supporters vs others, from a logistic regression controlling for each "
        "account's baseline activity (its interactions in the baseline with accounts other than "
        "@lane: one with @lane is a prior tie), with its 95% interval.",
        "2 accounts have a prior tie only through a follow without a date (assumed to predate "
        "the crisis in the first table, left out in the second).",
        "No primary measure is declared ([study] primary): every figure in this report is "
        "exploratory: 2 intervals, unadjusted.",
    ]


def test_a_single_prior_tie_on_an_undated_follow_is_not_1_of_these_1():
    """One supporter, with one tie, an undated follow: "The one tie rests", not "1 of these 1
    rest"; and one account addressing @lane in the evidence section."""
    m = _small(1)
    m["composition"].update({"supporters": 1, "prior_tie": 1, "newcomers": 0})
    m["composition"]["prior_tie_share"] = {"value": 1.0, "low": 0.03, "high": 1.0}
    dated = m["comparisons"]["prior_ties"]["variants"]["dated_ties"]["groups"]["supportive"]
    dated.update({"accounts": 1, "prior_tie": 0, "share": {"value": 0.0, "low": 0.0, "high": 0.97}})
    text = next(s.text() for s in report_findings.findings(m).sentences if "prior tie" in s.text())
    assert text.endswith(
        "before; 0 were newcomers. The one tie rests only on a follow without a date, taken to "
        "predate the crisis; counting dated ties only, 0% (95% CI 0–97%)."
    )
    assert text.startswith("100% of the 1 account that supported @lane in the crisis")
    m["comparisons"]["prior_ties"]["accounts"] = 1
    ctx = {**evidence_report.evidence_context(m, _small_study()), "focal": "@lane"}
    md = report._env(True).get_template("_evidence.md.j2").render(**ctx)
    assert "Of the 1 account that addressed @lane in the crisis, a prior tie" in md


@pytest.mark.parametrize("markdown", [True, False])
def test_the_counted_filter_takes_the_formatted_counts_of_the_templates(markdown):
    """The templates' counts arrive formatted ("1,234"); |counted reads them, and a missing one
    stays "n/a" with the plural (the data line, the stance codes, the grid's size)."""
    env = report._env(markdown)
    t = env.from_string('{{ a|counted("post", "posts") }}; {{ b|counted("code", "codes") }}')
    assert t.render(a="1", b="1,234") == "1 post; 1,234 codes"
    assert t.render(a=1, b="n/a") == "1 post; n/a codes"


@pytest.mark.parametrize(
    ("n", "runs", "supporters", "specs"),
    [
        (1, "1 community run", "1 supporter", "its only specification"),
        (2, "2 community runs", "2 supporters", "all 2 specifications"),
    ],
)
def test_the_grid_clauses_agree_with_their_counts(n, runs, supporters, specs):
    """The sensitivity sentences of a grid of n runs and specifications, breadth k = n."""
    lift = {"null": 1.0, "study": 3.0, "min": 2.0, "max": 4.0, "specs": n, "same_sign": n}
    comm = {
        "breadth_range": [1, 2],
        "k": n,
        "runs": [{}] * n,
        "stability": {"mean_pairwise_nmi": 1.0},
        "consensus": {},
        "evenness_range": [0.0, 0.5],
    }
    m = {"sensitivity": {"summary": {"attention_lift": {"focal": {**lift, "holds": True}}}}}
    m["sensitivity"]["communities"] = comm
    assert report_evidence.grid_clause(m, "attention_lift") == (
        f"The direction holds over the sensitivity grid: above 1 in {specs} (2.0× to 4.0×)."
    )
    assert report_evidence.breadth_clause(m) == (
        f"Over {runs} (algorithms, resolutions and seeds) breadth ranged from 1 to 2 communities "
        f"with at least {supporters}, evenness 0.00 to 0.50; runs with other seeds agreed with "
        "NMI 1.00 on average."
    )


def _breadth_metrics(lo: int, hi: int, k: int, runs: int, even: list[float]) -> dict:
    comm = {
        "breadth_range": [lo, hi],
        "k": k,
        "runs": [{}] * runs,
        "stability": {"mean_pairwise_nmi": 0.9},
        "consensus": {},
        "evenness_range": even,
    }
    return {"sensitivity": {"summary": {}, "communities": comm}}


@pytest.mark.parametrize(
    ("lo", "even", "breadth"),
    [
        (
            5,
            [0.94, 0.94],
            "was 5 communities with at least 3 supporters in every run, evenness 0.94",
        ),
        (
            1,
            [0.5, 0.7],
            "was 1 community with at least 3 supporters in every run, evenness 0.50 to 0.70",
        ),
    ],
)
def test_an_equal_breadth_range_reads_as_one_count_not_from_5_to_5(lo, even, breadth):
    """Every community run gave the same breadth: the sentence read "breadth ranged from 5 to 5
    communities" and "from 1 to 1 communities", and an equal evenness "0.94 to 0.94"."""
    m = _breadth_metrics(lo, lo, 3, 30, even)
    assert report_evidence.breadth_clause(m) == (
        f"Over 30 community runs (algorithms, resolutions and seeds) breadth {breadth}; runs "
        "with other seeds agreed with NMI 0.90 on average."
    )


def test_a_consensus_partition_of_one_community_is_not_1_of_1_communities():
    """The consensus partition of the seed runs has one community: it read "gives 1 of 1
    communities"."""
    m = _breadth_metrics(1, 2, 3, 10, [0.0, 0.5])
    m["sensitivity"]["communities"]["consensus"] = {"breadth": 1, "communities": 1}
    assert report_evidence.breadth_clause(m).endswith(
        "on average, and their consensus partition has a single community with at least 3 "
        "supporters."
    )
    m["sensitivity"]["communities"]["consensus"] = {"breadth": 0, "communities": 1}
    assert report_evidence.breadth_clause(m).endswith(
        "their consensus partition has a single community with fewer than 3 supporters."
    )


def test_a_grid_clause_over_equal_estimates_gives_the_value_once():
    """Every specification gave the same lift: the clause read "(1.4× to 1.4×)"; a grid of
    one specification read "in all 1 specification"."""
    s = {"null": 1.0, "study": 1.4, "min": 1.4, "max": 1.4, "specs": 6, "same_sign": 6}
    m = {"sensitivity": {"summary": {"attention_lift": {"focal": {**s, "holds": True}}}}}
    assert report_evidence.grid_clause(m, "attention_lift") == (
        "The direction holds over the sensitivity grid: above 1 in all 6 specifications "
        "(1.4× in each)."
    )
    m["sensitivity"]["summary"]["attention_lift"]["focal"].update(specs=1, same_sign=1)
    assert report_evidence.grid_clause(m, "attention_lift") == (
        "The direction holds over the sensitivity grid: above 1 in its only specification (1.4×)."
    )


def test_the_sensitivity_table_gives_an_equal_range_once():
    """The table's range cells read "1.4× to 1.4×" and "3 to 3" when both ends were equal."""
    s = {"null": 1.0, "study": 1.4, "min": 1.4, "max": 1.4, "specs": 6, "same_sign": 6}
    m = _breadth_metrics(3, 3, 2, 4, [0.5, 0.5])
    m["sensitivity"]["summary"] = {"attention_lift": {"focal": {**s, "holds": True}}}
    c = m["sensitivity"]["communities"]
    c["by_resolution"] = {"1.0": {"communities": [3, 3], "breadth": [2, 3], "evenness": [0.5, 0.5]}}
    c["stability"].update(algorithm="louvain", resolution=1.0, min_pairwise_nmi=0.8)
    c["consensus"] = {"runs": 4, "threshold": 1, "communities": 3, "breadth": 2, "evenness": 0.5}
    m["sensitivity"].update(
        specs=[{}] * 6,
        grid={
            "window_shift_days": [0],
            "baseline_days": [14],
            "thresholds": [0.05],
            "algorithms": ["louvain"],
            "resolutions": [1.0],
            "seeds": 1,
        },
    )
    ctx = report_evidence.sensitivity_context(m, institution=False)
    assert ctx["rows"][0] == [
        "Attention lift, crisis / baseline",
        "focal",
        "1.4×",
        "1.4×",
        "6 of 6",
        "yes",
    ]
    assert ctx["communities"] == [["1.0", "3", "2 to 3", "0.50"]]
    assert ctx["grid"].endswith("at resolution 1 with 1 seed each")


def test_net_support_of_one_point_is_one_point():
    """A net support of +1 (and a change of −1) read "+1 points"."""
    m = _small(2)
    sh = m["stance_shares"]["focal"]["crisis"]["account_level"]
    sh["net_support"] = {"value": 0.01, "low": -0.2, "high": 0.2}
    text = next(
        s.text() for s in report_findings.findings(m).sentences if "net support" in s.text()
    )
    assert "net support +1 point (95% CI −20 to +20)" in text


@pytest.mark.parametrize("markdown", [True, False])
def test_a_baseline_of_one_day_is_one_day(markdown):
    """The opening line read "compared with the 1 days before" for a one-day baseline."""
    t = report._env(markdown).from_string(
        '{{ baseline_days|counted("day", "days") }}, {{ after_days|counted("day", "days") }}'
    )
    assert t.render(baseline_days="1", after_days="14") == "1 day, 14 days"
    src = (
        Path(report.__file__).parent
        / "templates"
        / ("report.md.j2" if markdown else "report.html.j2")
    ).read_text()
    assert 'the {{ baseline_days|counted("day", "days") }} before' in src


def test_the_headline_table_says_what_each_measure_counts(mini):
    """Guards review t5 #9: the headline table was labelled "(account level)", but its
    attention rows are posts a day (lift = crisis posts a day / baseline posts a day)."""
    label = (
        "The headline measures with their 95% intervals (net support and prior ties counted "
        "over accounts; attention as posts per day)"
    )
    md = (mini / "report.md").read_text(encoding="utf-8")
    html = (mini / "index.html").read_text(encoding="utf-8")
    assert label + ":" in md and f"<caption>{label}</caption>" in html
    assert "(account level):" not in md


def test_review_t5_wording_of_evenness_the_institution_change_and_the_consensus():
    """Guards review t5 #16 and #18: "evenness 0.72" was over the 18 communities with any
    supporter, not the 10 named; "fell by 52 points (95% CI −68 to −35)" gave a magnitude with a
    signed interval; "their consensus partition gives 9 of 45 communities" did not say what the 9
    are. By hand: the entropy of 5/2/1 supporters over 3 communities, normalised, is 0.86."""
    m = _metrics()
    m["breadth"]["communities_with_supporters"] = 3
    m["breadth"]["normalised_entropy"] = 0.8587
    text = [s.text() for s in report_findings.findings(m).sentences]
    assert any(
        "(of the 7 found before the crisis; evenness 0.86 over the 3 communities with any "
        "supporter, on a 0–1 scale)" in t
        for t in text
    )
    assert any(t.startswith("Net support for @force changed by −60 points (95% CI") for t in text)
    m["breadth"]["communities_with_supporters"] = 1
    text = [s.text() for s in report_findings.findings(m).sentences]
    assert any(
        "(of the 7 found before the crisis; every supporter in one community" in t for t in text
    )
    assert (
        report_tables.headline_display(m)[-2][1] == "5 with ≥ 3 (every supporter in one community)"
    )
    m["breadth"]["communities_with_supporters"] = 18
    assert report_tables.headline_display(m)[-2][1] == (
        "5 with ≥ 3 (evenness 0.86 over the 18 with any supporter)"
    )
    runs = [{"breadth": 5}] * 30
    m["sensitivity"] = {
        "communities": {
            "breadth_range": [5, 15],
            "evenness_range": [0.49, 0.82],
            "k": 3,
            "runs": runs,
            "stability": {"mean_pairwise_nmi": 0.84},
            "consensus": {"breadth": 9, "communities": 45},
        }
    }
    assert report_evidence.breadth_clause(m).endswith(
        "and in their consensus partition 9 of its 45 communities have at least 3 supporters."
    )
    m["sensitivity"]["communities"]["consensus"] = {"breadth": 1, "communities": 1}
    assert report_evidence.breadth_clause(m).endswith(
        "and their consensus partition has a single community with at least 3 supporters."
    )


def test_the_grid_uses_a_minus_sign_and_keeps_the_community_runs_apart():
    """Guards review t5 #18: the grid read "moved by -1, 0, +1 days" (a hyphen) and listed the
    30 community runs among the 81 specifications (3 × 3 × 3 × 3: start, end, baseline,
    cut-offs), which they are not part of."""
    grid = {
        "window_shift_days": [-1.0, 0.0, 1.0],
        "baseline_days": [7.0, 14.0, 28.0],
        "thresholds": [0.05, 0.1, 0.25],
        "algorithms": ["louvain", "leiden"],
        "resolutions": [0.5, 1.0, 2.0],
        "seeds": 5,
    }
    ctx = report_evidence.sensitivity_context(
        {"sensitivity": {"grid": grid, "specs": [], "summary": {}}}, True
    )
    assert ctx["grid"] == (
        "crisis start and end each moved by −1, 0, +1 days; baseline 7, 14, 28 days; VADER "
        "cut-offs ±0.05, ±0.1, ±0.25; apart from these, the communities were found again by "
        "louvain and leiden at resolution 0.5, 1, 2 with 5 seeds each"
    )


def test_metrics_json_holds_the_data_lines_counts(mini):
    # bug (methods review #15): the Data line's counts (posts, interactions, follow ties,
    # profiles, input files) were nowhere in metrics.json, which the report says holds every
    # number. The mini case: 20 posts (tests/data/report/posts.csv), the interactions
    # interactions_from_posts makes of them, 2 follows, 11 profiles, 1 input file
    m = json.loads((mini / "metrics.json").read_text(encoding="utf-8"))
    n_inter = len(_mini_tables()[Table.INTERACTIONS])
    assert m["data"] == {
        "posts": 20,
        "interactions": n_inter,
        "follows": 2,
        "accounts": 11,
        "input_files": 1,
    }
    line = (
        # "interaction rows": the store's edges, not posts addressing a side (review t5 #15)
        f"Data: 20 posts, {n_inter} interaction rows, 2 follow ties and 11 account profiles "
        "from 1 input file."
    )
    assert line in (mini / "report.md").read_text(encoding="utf-8")


def test_the_network_caption_says_a_big_graph_is_drawn_in_part(mini):
    """Guards review t5 #17: the caption said the map shows the accounts within two steps of the
    focal account, while the chart drew at most 250 of them, grown from the named accounts by
    PageRank (its subtitle said so): caption and subtitle described two selections."""
    from netsupport import charts

    md = (mini / "report.md").read_text(encoding="utf-8")
    cap = next(line for line in md.splitlines() if "within two steps of" in line)
    assert (
        f"those of highest PageRank are drawn, up to {charts.NETWORK_MAX_NODES} (the chart's "
        "subtitle says how many of how many)" in cap
    )


def test_the_tie_regression_says_its_covariate_leaves_out_the_focal_account(mini):
    """Guards review t5 #6: the covariate no longer counts baseline interactions with the focal
    accounts (one is a prior tie); the text still said only "baseline activity"."""
    md = (mini / "report.md").read_text(encoding="utf-8")
    assert (
        "controlling for each account's baseline activity (its interactions in the baseline with "
        "accounts other than @lane: one with @lane is a prior tie)" in md
    )


def test_report_cells_say_what_a_blank_meant():
    """Guards review t6 #7 (t5 #18 items left): the proxies' "Named in the study" column was
    blank in every row of a study that names no proxy, and an amplifier absent from the graph
    before the crisis had a blank "Community before" cell with no note."""
    from netsupport.report import _any_true, _community_label

    assert _community_label(None) == "none before"
    assert _community_label(float("nan")) == "none before"
    assert _community_label(3.0) == "Community 3"
    named = pd.DataFrame({"handle": ["a", "b"], "declared": [False, True]})
    assert _any_true(named, "declared")
    assert not _any_true(named.assign(declared=False), "declared")
    assert not _any_true(named.assign(declared=[None, None]), "declared")
    assert not _any_true(named.drop(columns="declared"), "declared")
    assert not _any_true(None, "declared")


def _breadth_sentence(m: dict) -> str:
    texts = [s.text() for s in report_findings.findings(m).sentences]
    return next(t for t in texts if t.startswith("Support came from"))


def test_breadth_gives_its_range_over_the_grid_and_a_sparse_graph_caveat():
    """Guards review t5 #4: "Support came from 10 communities" gave no uncertainty and no
    warning that the example's graph is sparse (its planted 6 communities came out as 39).
    Hand-worked: 400 accounts with mean degree 2.5 < ln 400 = 5.99: sparse; the grid's runs
    gave breadth 2 to 9 and 5 to 12 communities at resolution 0.5, 10 to 21 at 2."""
    m = _metrics()
    m["mobilisation"] = {**m["mobilisation"], "nodes": 400, "mean_degree": 2.5}
    comm = _breadth_metrics(2, 9, 3, 20, [0.4, 0.9])["sensitivity"]["communities"]
    comm["by_resolution"] = {
        "0.5": {"communities": [5, 12], "breadth": [2, 4], "evenness": [0.4, 0.6]},
        "2": {"communities": [10, 21], "breadth": [6, 9], "evenness": [0.7, 0.9]},
    }
    m["sensitivity"] = {"summary": {}, "communities": comm}
    assert _breadth_sentence(m) == (
        "Support came from 5 communities (2 to 9 across the 20 community runs of the "
        "sensitivity grid) with at least 3 supporters each (of the 7 found before the crisis; "
        "evenness 0.82 on a 0–1 scale); the most supporters, 92, came from community 0, where "
        "60% of the 300 members addressed @lane. Over these 20 community runs (algorithms, "
        "resolutions and seeds) evenness ranged 0.40 to 0.90; runs with other seeds agreed with "
        "NMI 0.90 on average. The graph before the crisis is sparse (400 accounts, each "
        "interacting with 2.5 others on average, below ln 400 = 6.0, where a random graph of "
        "that size falls apart into pieces): on such a graph the number of communities depends "
        "on the resolution (the sensitivity grid found 5 to 21 at resolutions 0.5 to 2), so "
        "breadth is a rough count, not a finding on its own."
    )
    # mean degree 6.0 is above ln 400 = 5.99: no caveat; the breadth range stays
    m["mobilisation"]["mean_degree"] = 6.0
    text = _breadth_sentence(m)
    assert "sparse" not in text and text.startswith("Support came from 5 communities (2 to 9 ")


def test_the_headline_prior_tie_row_gives_the_error_corrected_share():
    """Guards review t8 B1 in the headline: the finding gives the prior-tie share with the
    stance decisions' error carried in (62% against 68% as made), so the headline table, its
    Markdown twin (`netsupport support`) and headline.csv give it too, beside the naive one."""
    from netsupport.support import headline_rows

    m = _metrics()
    ec = {"value": 2.3, "low": 0.8, "high": 7.7}
    ec["prior_tie_share"] = {"value": 0.62, "low": 0.5, "high": 0.72}
    m["comparisons"] = {"prior_ties": {"variants": {"all_ties": {"error_corrected": ec}}}}
    rows = {r[0]: r[1:] for r in report_tables.headline_display(m)}
    assert rows["Supporters with a prior tie"] == ["68% (62–74%); 62% (50–72%) error-corrected", ""]
    m.setdefault("headline", {})["prior_tie_share"] = m["composition"]["prior_tie_share"]
    md = {r[0]: r[1:] for r in headline_rows(m)}
    assert md["Supporters with a prior tie"][0].endswith("; 62% [50%, 72%] error-corrected")
    csv = report_tables.headline_table(m)
    row = csv[csv["measure"] == "prior_tie_share_error_corrected"].iloc[0]
    assert (row["value"], row["low"], row["high"], row["method"]) == (
        0.62,
        0.5,
        0.72,
        "error-corrected",
    )
    assert row["naive"] == m["composition"]["prior_tie_share"]["value"]
