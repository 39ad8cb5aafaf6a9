"""Tests of netsupport.synth: determinism, every import format as its documentation describes it
(read with json/zipfile/csv directly, not with netsupport's importers), truth consistency, and the
shipped example regenerating byte for byte."""

from __future__ import annotations

import csv
import json
import re
import shlex
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from netsupport import synth
from netsupport.cli import app
from netsupport.errors import NetsupportError
from netsupport.schema import Role
from netsupport.studyfile import load_study

REPO = Path(__file__).parent.parent
EXAMPLE = REPO / "data" / "example"
SMALL = synth.SynthConfig(seed=11, accounts=600, interactions=6000, days=10)
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory) -> Path:
    """A small case written once for the whole module."""
    out = tmp_path_factory.mktemp("synth") / "case"
    synth.synthesize(out, SMALL)
    return out


@pytest.fixture(scope="module")
def truth(case_dir: Path) -> dict:
    return json.loads((case_dir / "truth.json").read_text())


@pytest.fixture(scope="module")
def pages(case_dir: Path) -> list[dict]:
    with open(case_dir / synth.JSONL_NAME, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---- determinism ---------------------------------------------------------------------------------


def test_same_config_gives_same_bytes(tmp_path, case_dir):
    synth.synthesize(tmp_path / "again", SMALL)
    first, second = _files(case_dir), _files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_another_case(tmp_path, case_dir):
    other = synth.SynthConfig(**{**SMALL.__dict__, "seed": SMALL.seed + 1})
    synth.synthesize(tmp_path / "other", other)
    assert (tmp_path / "other" / synth.JSONL_NAME).read_bytes() != (
        case_dir / synth.JSONL_NAME
    ).read_bytes()


def test_generation_draws_no_global_randomness():
    np.random.seed(0)
    a = synth.generate(synth.SynthConfig(seed=5, accounts=300, interactions=1000)).posts["id"]
    np.random.seed(99)
    b = synth.generate(synth.SynthConfig(seed=5, accounts=300, interactions=1000)).posts["id"]
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("accounts", 10, "--accounts"),
        ("interactions", 10, "--interactions"),
        ("days", 1, "--days"),
        ("focal_share", 0.9, "--focal-share"),
    ],
)
def test_out_of_range_parameters_name_the_option(field, value, message):
    cfg = synth.SynthConfig(**{field: value})
    with pytest.raises(NetsupportError, match=message):
        synth.generate(cfg)


# ---- twarc2 Twitter API v2 JSONL -----------------------------------------------------------------


def test_jsonl_is_one_response_page_per_line(pages, truth):
    assert len(pages) == -(-truth["files"]["jsonl_posts"] // synth.PAGE_SIZE)
    total = 0
    for k, page in enumerate(pages):
        assert set(page) == {"data", "includes", "meta", "__twarc"}
        assert set(page["includes"]) == {"users", "tweets"}
        meta = page["meta"]
        assert meta["result_count"] == len(page["data"]) <= synth.PAGE_SIZE
        assert meta["newest_id"] == page["data"][0]["id"]
        assert meta["oldest_id"] == page["data"][-1]["id"]
        assert ("next_token" in meta) == (k < len(pages) - 1)
        total += len(page["data"])
    assert total == truth["files"]["jsonl_posts"]


def test_jsonl_tweets_follow_the_v2_fields(pages):
    ids = [t["id"] for page in pages for t in page["data"]]
    assert len(ids) == len(set(ids))
    times = [t["created_at"] for page in pages for t in page["data"]]
    assert times == sorted(times, reverse=True)  # search/all returns newest first
    for page in pages:
        users = {u["id"]: u for u in page["includes"]["users"]}
        included = {t["id"]: t for t in page["includes"]["tweets"]}
        for t in page["data"]:
            assert {"id", "text", "author_id", "created_at", "lang", "conversation_id"} <= set(t)
            assert ISO_Z.match(t["created_at"]), t["created_at"]
            assert t["id"].isdigit() and t["author_id"] in users
            assert t["edit_history_tweet_ids"] == [t["id"]]
            assert len(t["text"]) <= 140
            for ref in t.get("referenced_tweets", []):
                assert ref["type"] in {"replied_to", "quoted", "retweeted"}
                assert ref["id"] in included
                original = included[ref["id"]]
                author = users[original["author_id"]]["username"]
                if ref["type"] == "retweeted":
                    assert t["text"].startswith(f"RT @{author}: ")
                if ref["type"] == "replied_to":
                    assert t["in_reply_to_user_id"] == original["author_id"]
                    assert t["text"].startswith(f"@{author} ")
                    assert t["conversation_id"] == original["id"]
                if ref["type"] == "quoted":
                    assert any(
                        u["expanded_url"].endswith(f"/{author}/status/{original['id']}")
                        for u in t["entities"]["urls"]
                    )


def test_jsonl_entities_point_into_the_text(pages):
    seen_mentions = seen_tags = 0
    for page in pages:
        users = {u["id"]: u["username"] for u in page["includes"]["users"]}
        for t in page["data"] + page["includes"]["tweets"]:
            ent = t.get("entities", {})
            for m in ent.get("mentions", []):
                assert t["text"][m["start"] : m["end"]] == "@" + m["username"]
                # expansions resolve the mentions of the page's own tweets
                assert t not in page["data"] or users[m["id"]] == m["username"]
                seen_mentions += 1
            for h in ent.get("hashtags", []):
                assert t["text"][h["start"] : h["end"]] == "#" + h["tag"]
                seen_tags += 1
            for u in ent.get("urls", []):
                assert t["text"][u["start"] : u["end"]] == u["url"]
    assert seen_mentions > 1000 and seen_tags > 50


def test_entities_built_with_the_text_match_a_parse_of_the_text():
    """Entities are computed while texts are assembled; a regex parse must find the same ones."""
    case = synth.generate(synth.SynthConfig(seed=9, accounts=400, interactions=4000))
    built = case.posts["entities"]
    parsed = synth.texts._Entities.parse(
        case.posts["text"], {h: i for i, h in enumerate(case.handles)}
    )
    for name in ("offsets", "kind", "start", "end", "value"):
        assert np.array_equal(getattr(built, name), getattr(parsed, name)), name
    assert built.has_marker.sum() > 0


def test_jsonl_has_replies_quotes_retweets_and_languages(pages):
    types = {r["type"] for p in pages for t in p["data"] for r in t.get("referenced_tweets", [])}
    assert types == {"replied_to", "quoted", "retweeted"}
    langs = {t["lang"] for p in pages for t in p["data"]}
    assert {"en", "und", "cy"} <= langs
    tags = {
        h["tag"]
        for p in pages
        for t in p["data"]
        for h in t.get("entities", {}).get("hashtags", [])
    }
    assert len({t for t in tags if t.lower() == synth.MARKER}) > 1  # case varies, as on Twitter


# ---- personal archive ----------------------------------------------------------------------------


def _ytd(payload: bytes, variable: str) -> list:
    text = payload.decode("utf-8")
    prefix = f"{variable} = "
    assert text.startswith(prefix)
    return json.loads(text[len(prefix) :])


def test_archive_zip_holds_the_documented_files(case_dir, truth):
    with zipfile.ZipFile(case_dir / synth.ARCHIVE_NAME) as zf:
        names = zf.namelist()
        assert {
            "data/tweets.js",
            "data/tweets-part1.js",
            "data/follower.js",
            "data/following.js",
            "data/account.js",
        } <= set(names)
        assert all(i.date_time == synth.config._ZIP_TIME for i in zf.infolist())
        assert all(not n.startswith("/") and ".." not in n for n in names)
        part0 = _ytd(zf.read("data/tweets.js"), "window.YTD.tweets.part0")
        part1 = _ytd(zf.read("data/tweets-part1.js"), "window.YTD.tweets.part1")
        followers = _ytd(zf.read("data/follower.js"), "window.YTD.follower.part0")
        following = _ytd(zf.read("data/following.js"), "window.YTD.following.part0")
        account = _ytd(zf.read("data/account.js"), "window.YTD.account.part0")
    assert part0 and part1
    tweets = [item["tweet"] for item in part0 + part1]
    assert len(tweets) == truth["files"]["archive_posts"]
    assert account[0]["account"]["username"] == synth.FOCAL
    assert len(followers) == truth["counts"]["focal_followers"]
    assert len(following) == truth["counts"]["focal_following"]
    for f in followers:
        x = f["follower"]["accountId"]
        assert f["follower"]["userLink"] == f"https://twitter.com/intent/user?user_id={x}"
    cs = datetime.fromisoformat(truth["windows"]["crisis_start"].replace("Z", "+00:00"))
    ce = datetime.fromisoformat(truth["windows"]["crisis_end"].replace("Z", "+00:00"))
    for t in tweets:
        assert isinstance(t["id_str"], str) and t["id_str"] == t["id"]
        when = datetime.strptime(t["created_at"], "%a %b %d %H:%M:%S +0000 %Y").replace(tzinfo=UTC)
        assert not cs <= when < ce, "the focal account is silent in the crisis"
        for m in t["entities"]["user_mentions"]:
            s, e = (int(x) for x in m["indices"])
            assert t["full_text"][s:e] == "@" + m["screen_name"]
        if "in_reply_to_status_id_str" in t:
            assert t["full_text"].startswith("@" + t["in_reply_to_screen_name"])


def test_archive_and_jsonl_overlap_partially(case_dir, pages, truth):
    with zipfile.ZipFile(case_dir / synth.ARCHIVE_NAME) as zf:
        archive_ids = {
            item["tweet"]["id_str"]
            for name, var in (
                ("data/tweets.js", "window.YTD.tweets.part0"),
                ("data/tweets-part1.js", "window.YTD.tweets.part1"),
            )
            for item in _ytd(zf.read(name), var)
        }
    jsonl_ids = {t["id"] for p in pages for t in p["data"]}
    both = archive_ids & jsonl_ids
    assert len(both) == truth["files"]["in_jsonl_and_archive"] > 0
    assert len(archive_ids - jsonl_ids) == truth["files"]["archive_only"] > 0


# ---- NodeXL, follower lists, accounts ------------------------------------------------------------


def test_nodexl_edges_csv(case_dir, pages, truth):
    with open(case_dir / synth.NODEXL_NAME, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0])[:2] == ["Vertex 1", "Vertex 2"]
    assert {"Relationship", "Relationship Date (UTC)", "Tweet", "Imported ID"} <= set(rows[0])
    assert {r["Relationship"] for r in rows} <= {"Mentions", "Replies to", "Retweet", "Tweet"}
    for r in rows:
        datetime.strptime(r["Relationship Date (UTC)"], "%Y-%m-%d %H:%M:%S")
        assert "standwithlane" in r["Hashtags in Tweet"].split()
        assert r["Twitter Page for Tweet"].endswith(f"/{r['Vertex 1']}/status/{r['Imported ID']}")
        if r["Relationship"] == "Tweet":
            assert r["Vertex 1"] == r["Vertex 2"]
    ids = {r["Imported ID"] for r in rows}
    jsonl_ids = {t["id"] for p in pages for t in p["data"]}
    assert len(ids) == truth["files"]["nodexl_posts"]
    assert len(ids & jsonl_ids) == truth["files"]["in_jsonl_and_nodexl"] > 0
    assert len(ids - jsonl_ids) == truth["files"]["nodexl_only"] > 0


def test_follower_lists_and_accounts_csv(case_dir, truth):
    accounts = pd.read_csv(case_dir / synth.ACCOUNTS_NAME, dtype={"account_id": str})
    assert list(accounts.columns) == [
        "handle",
        "account_id",
        "name",
        "description",
        "followers_count",
        "role",
    ]
    assert accounts["handle"].is_unique and accounts["account_id"].is_unique
    assert len(accounts) == SMALL.accounts
    assert set(accounts["role"]) <= {r.value for r in Role} - {Role.UNKNOWN.value}
    assert (accounts["handle"].str.len() <= 15).sum() == len(accounts) - 1  # northshire_police
    counts = accounts["followers_count"]
    assert counts.max() > 20 * counts.median()  # heavy-tailed
    handles = set(accounts["handle"])
    for name, key in (
        (synth.FOCAL_FOLLOWERS_NAME, "focal_followers"),
        (synth.INSTITUTION_FOLLOWERS_NAME, "institution_followers"),
    ):
        lines = (case_dir / name).read_text().splitlines()
        assert len(lines) == truth["counts"][key] and set(lines) <= handles
    for text in accounts["description"].fillna(""):
        assert not text.startswith(("=", "+", "-", "@"))


# ---- study, lexicon, labels ----------------------------------------------------------------------


def test_study_lexicon_and_labels_load(case_dir, truth):
    from netsupport.stance import load_labels, load_lexicon

    study = load_study(case_dir / "study.toml")
    assert study.focal == (synth.FOCAL,) and study.institution == (synth.INSTITUTION,)
    assert study.markers == ("#standwithlane",)
    assert study.windows.as_dict() == truth["windows"]
    assert {p.path.name for p in study.inputs} == {
        synth.JSONL_NAME,
        synth.ARCHIVE_NAME,
        synth.NODEXL_NAME,
        synth.FOCAL_FOLLOWERS_NAME,
        synth.INSTITUTION_FOLLOWERS_NAME,
    }
    assert study.accounts is not None and study.accounts.name == synth.ACCOUNTS_NAME
    lexicon = load_lexicon(study.stance.lexicon)
    assert "standwithlane" in lexicon.focal_supportive
    labels = load_labels(study.stance.labels)
    assert len(labels) == synth.LABELS_N
    planted = truth["post_stance"]
    for row in labels.itertuples(index=False):
        assert planted[row.target_side][row.post_id] == row.stance
    # a probability sample: equal allocation over the six side x window strata, each code with
    # its inclusion probability n_h / N_h (the design the error-corrected shares weight by)
    raw = pd.read_csv(study.stance.labels, dtype={"post_id": str})
    assert set(raw["sample"]) == {"probability"}
    assert raw["inclusion_probability"].between(0, 1, inclusive="right").all()
    per_stratum = raw.groupby(["target_side", "inclusion_probability"]).size()
    # (a stratum smaller than its share is taken whole, pi = 1, and passes the rest on)
    assert len(per_stratum) == 6 and per_stratum.sum() == synth.LABELS_N


# ---- truth ---------------------------------------------------------------------------------------


def test_truth_is_consistent(truth, pages):
    assert truth["counts"]["posts"] == SMALL.interactions
    assert truth["counts"]["units_without_planted_stance"] == 0
    assert len(truth["community"]) == SMALL.accounts
    assert set(truth["community"].values()) == set(synth.COMMUNITIES)
    for side in ("focal", "institution"):
        for w in ("baseline", "crisis", "after"):
            for level in ("post_level", "account_level"):
                cell = truth["stance"][side][w][level]
                total = cell["supportive"] + cell["critical"] + cell["neutral"]
                assert total == pytest.approx(1.0, abs=1e-5)
                assert cell["net_support"] == pytest.approx(
                    cell["supportive"] - cell["critical"], abs=1e-5
                )
            assert truth["stance"][side][w]["account_level"]["ties"] == 0
    focal = truth["attention"]["focal"]
    assert focal["lift"] == pytest.approx(
        focal["crisis"]["interactions_per_day"] / focal["baseline"]["interactions_per_day"],
        rel=1e-5,
    )
    assert focal["lift"] > 4 and focal["after_ratio"] > 1  # surge, then decay above baseline
    assert truth["reputational_change"]["focal"]["account_level"] > 0
    assert truth["reputational_change"]["institution"]["account_level"] < 0
    assert truth["first_mention"]["media_after_citizens"]
    assert truth["first_mention"]["media_or_journalist_hours"] >= 24
    assert truth["composition"]["prior_tie_share"] > 0.5  # support mostly from prior ties
    top = [r["handle"] for r in truth["proxies"]["reach_top"][:2]]
    assert sorted(top) == sorted(truth["proxies"]["handles"])
    n_units = sum(len(v) for v in truth["post_stance"].values())
    assert n_units == truth["counts"]["units"]
    assert truth["silence"]["last_post_before"] < truth["windows"]["crisis_start"]
    assert truth["silence"]["first_post_after"] >= truth["windows"]["crisis_end"]


def test_units_match_the_interactions_module():
    """The truth's units (post, side) are exactly those netsupport derives from the same posts."""
    from netsupport.interactions import interactions_from_posts, marker_interactions

    case = synth.generate(synth.SynthConfig(seed=4, accounts=500, interactions=5000))
    posts = synth.canonical_posts(case)
    inter = pd.concat(
        [
            interactions_from_posts(posts),
            marker_interactions(posts, ["#" + synth.MARKER], [synth.FOCAL]),
        ],
        ignore_index=True,
    )
    assert len(inter) == case.truth["counts"]["interaction_rows"]
    side = inter["target"].map({synth.FOCAL: 0, synth.INSTITUTION: 1})
    own = inter["source"].map({synth.FOCAL: 0, synth.INSTITUTION: 1})
    keep = side.notna() & (side != own)
    derived = set(zip(inter["post_id"][keep], side[keep].astype(int), strict=True))
    units = synth.truth._units(case)
    mine = set(
        zip(
            case.posts["id"][units["post"]].astype(str),
            units["side"].astype(int).tolist(),
            strict=True,
        )
    )
    assert derived == mine


def test_every_post_in_the_truth_is_in_some_input(case_dir, pages, truth):
    ids = {t["id"] for p in pages for t in p["data"]}
    with zipfile.ZipFile(case_dir / synth.ARCHIVE_NAME) as zf:
        for name, var in (
            ("data/tweets.js", "window.YTD.tweets.part0"),
            ("data/tweets-part1.js", "window.YTD.tweets.part1"),
        ):
            ids |= {i["tweet"]["id_str"] for i in _ytd(zf.read(name), var)}
    with open(case_dir / synth.NODEXL_NAME, newline="", encoding="utf-8") as fh:
        ids |= {r["Imported ID"] for r in csv.DictReader(fh)}
    assert len(ids) == truth["files"]["unique_posts"] == SMALL.interactions
    for side in ("focal", "institution"):
        assert set(truth["post_stance"][side]) <= ids


# ---- CLI and the shipped example -----------------------------------------------------------------


def test_cli_writes_a_case(tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app, ["synth", "--out", str(out), "--accounts", "300", "--interactions", "1000"]
    )
    assert result.exit_code == 0, result.output
    assert str(out / "study.toml") in result.output
    assert (out / synth.JSONL_NAME).stat().st_size > 0


def test_cli_rejects_bad_parameters(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--accounts", "5"])
    assert result.exit_code == 2
    assert "error: synth: --accounts must be at least 300" in result.output


def _example_command() -> list[str]:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^netsupport synth .*$", readme, re.M)
    assert m, "data/example/README.md must show the netsupport synth command"
    return shlex.split(m.group())[1:]


def test_example_is_small_and_regenerates_byte_for_byte(tmp_path):
    generated = [p for p in EXAMPLE.iterdir() if p.name not in ("README.md",)]
    assert sum(p.stat().st_size for p in EXAMPLE.iterdir()) < 3_000_000
    args = _example_command()
    out_index = args.index("--out") + 1
    args[out_index] = str(tmp_path / "example")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    fresh = _files(tmp_path / "example")
    assert sorted(fresh) == sorted(p.name for p in generated)
    for p in generated:
        assert fresh[p.name] == p.read_bytes(), f"{p.name} differs from a fresh generation"


def test_example_study_loads():
    study = load_study(EXAMPLE / "study.toml")
    assert study.name == "example"
    assert study.output_dir == (REPO / "reports" / "example").resolve()


def test_truth_records_the_planted_parameters_not_measurements():
    """Bug: truth.json held only netsupport's definitions computed on the generated posts
    (lift 8.19 'planted' where the generator's parameter is 8.0): a check against it was
    circular. ``parameters`` holds the generator's inputs."""
    case = synth.generate(SMALL)
    p = case.truth["parameters"]
    assert p == synth.planted_parameters(SMALL)
    assert p["lift"] == SMALL.lift != case.truth["attention"]["focal"]["lift"]
    assert p["tie_effect"]["difference"] == pytest.approx(0.90 - 0.64)


def test_null_worlds_switch_off_what_was_planted():
    import dataclasses

    null = dataclasses.replace(
        SMALL, lift=1.0, tie_effect=False, role_order=False, institution_drop=False
    )
    t = synth.generate(null).truth
    assert t["parameters"]["tie_effect"]["difference"] == 0.0
    assert t["parameters"]["role_order"]["media_delay_hours"] == 0.0
    assert t["parameters"]["institution_drop"]["net_support_change"] == 0.0
    # planted: media start 24 h after the crisis start; null: as early as anyone
    assert synth.generate(SMALL).truth["first_mention"]["media_or_journalist_hours"] >= 24
    assert t["first_mention"]["media_or_journalist_hours"] < 24
    # no institution drop: its change is small; planted it is large
    assert abs(t["reputational_change"]["institution"]["account_level"]) < 0.25
    assert synth.generate(SMALL).truth["reputational_change"]["institution"]["account_level"] < -0.4
    # lift 1: crisis rate about the baseline's
    assert 0.5 < t["attention"]["focal"]["lift"] < 2.0
