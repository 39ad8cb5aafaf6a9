"""The ``like`` interaction kind: endorsement in stance, de-duplicated in the store, and likes
without a time counted and kept out of the windows (issue #16)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from netsupport.errors import StudyKeyError
from netsupport.ingest import FileSummary, ImportSummary
from netsupport.interactions import likes_without_time
from netsupport.schema import SCHEMAS, IKind, Table
from netsupport.stance import Classifier
from netsupport.store import Store
from netsupport.studyfile import load_study
from netsupport.windows import Windows

TS = pa.timestamp("us", tz="UTC")


def _likes(ids, times, source="bluesky:did:plc:amy"):
    n = len(ids)
    return pa.Table.from_arrays(
        [
            pa.array([source] * n),
            pa.array(["bluesky:did:plc:lane"] * n),
            pa.array([IKind.LIKE.value] * n),
            pa.array(ids, pa.string()),
            pa.array(times, TS),
            pa.array([1.0] * n),
        ],
        schema=SCHEMAS[Table.INTERACTIONS],
    )


def _interactions():
    t = pd.to_datetime(["2014-02-15T10:00Z", "2014-02-15T11:00Z", None], utc=True)
    return pd.DataFrame(
        {
            "source": ["amy", "bob", "cat"],
            "target": ["lane", "lane", "lane"],
            "kind": ["like", "reply", "like"],
            "post_id": ["L1", "P2", "L3"],
            "created_at": t,
            "weight": [1.0, 1.0, 1.0],
        }
    )


def test_a_like_is_endorsement_and_a_like_without_time_has_no_window():
    posts = pd.DataFrame({"post_id": ["P2"], "text": ["@lane you are a disgrace, resign"]})
    windows = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 14)
    table = Classifier(["lane"]).classify(_interactions(), posts, windows, workers=1)
    likes = table[table["kind"] == "like"].set_index("post_id")
    assert likes.loc["L1", "stance"] == "supportive" and likes.loc["L1", "rule"] == "like"
    assert likes.loc["L1", "window"] == "crisis"
    assert likes.loc["L3", "stance"] == "supportive" and pd.isna(likes.loc["L3", "window"])
    assert likes.loc["L3", "rule"] == "like-without-time"  # (counted in stance.by_rule)
    assert table[table["kind"] == "reply"]["stance"].tolist() == ["critical"]


def test_likes_count_false_leaves_likes_out_of_stance():
    posts = pd.DataFrame({"post_id": ["P2"], "text": ["thanks @lane"]})
    table = Classifier(["lane"], likes_count=False).classify(_interactions(), posts, workers=1)
    assert table["kind"].tolist() == ["reply"]


def test_study_reads_likes_count_and_refuses_a_non_boolean(tmp_path):
    base = (
        '[study]\nname = "s"\nfocal = ["lane"]\n[windows]\ncrisis_start = "2014-02-14T09:00:00Z"\n'
        'crisis_end = "2014-02-19T18:00:00Z"\n[[inputs]]\npath = "x.jsonl"\n[stance]\n'
    )
    (tmp_path / "x.jsonl").write_text("")
    p = tmp_path / "study.toml"
    p.write_text(base)
    assert load_study(p).stance.likes_count is True
    p.write_text(base + "likes_count = false\n")
    study = load_study(p)
    assert study.stance.likes_count is False
    assert study.parameters()["stance"]["likes_count"] is False
    p.write_text(base + 'likes_count = "no"\n')
    with pytest.raises(StudyKeyError, match="likes_count"):
        load_study(p)


def test_store_keeps_each_like_once_across_files_and_imports(tmp_path):
    store = Store(tmp_path / "s")
    with store.transaction() as tx:
        kept, dups = tx.add_interactions(_likes(["at://a/1", "at://a/2", "at://a/1"], [0, 1, 0]))
        assert (kept.num_rows, dups) == (2, 1)
    with store.transaction() as tx:  # an overlapping capture, imported later
        kept, dups = tx.add_interactions(_likes(["at://a/2", "at://a/3", None], [1, 2, 3]))
        assert (kept.num_rows, dups) == (2, 1)
    ids = store.read_arrow(Table.INTERACTIONS).column("post_id").to_pylist()
    assert sorted(i for i in ids if i) == ["at://a/1", "at://a/2", "at://a/3"]
    assert ids.count(None) == 1  # (a like without an id is never a duplicate)


def test_likes_without_time_are_counted_in_the_summary():
    t = _likes(["1", "2", "3"], [None, 5, None])
    assert likes_without_time(t) == 2
    s = ImportSummary([FileSummary("likes.json", "mastodon", likes_without_time=2)], {})
    assert s.as_dict()["likes_without_time"] == 2  # (the reader's note says it in the text)
