"""Shared fixtures. Helpers append their fixtures below, one section per module."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture
def data_dir() -> Path:
    """The folder of hand-written test fixtures."""
    return DATA


# ---- graph / communities -------------------------------------------------------------------------


@pytest.fixture
def graph_interactions():
    """Eleven hand-written interactions around one crisis (see tests/data/graph_interactions.csv).

    Windows (``graph_windows``): baseline [01-31 09:00, 02-14 09:00), crisis [02-14 09:00,
    02-19 18:00), after [02-19 18:00, 03-05 18:00), all 2014 UTC. Rows on the crisis start and
    end instants, a structural follow (no time), a self-loop, a missing source, a null weight and
    one row outside every window test the edge cases.
    """
    import pandas as pd

    df = pd.read_csv(DATA / "graph_interactions.csv", dtype={"post_id": object})
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


@pytest.fixture
def graph_windows():
    """The windows of ``graph_interactions``: crisis 2014-02-14T09:00Z to 02-19T18:00Z, 14+14 d."""
    from netsupport.windows import Windows

    return Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 14)


@pytest.fixture
def graph_store(tmp_path, graph_interactions):
    """A committed store holding ``graph_interactions``, two accounts with roles, two posts."""
    import pyarrow as pa

    from netsupport.schema import Table
    from netsupport.store import Store, conform_arrow

    store = Store(tmp_path / "store")
    rows = pa.Table.from_pandas(graph_interactions, preserve_index=False)
    posts = pa.table(
        {
            "platform": ["twitter", "twitter"],
            "post_id": ["1", "2"],
            "author": ["amy", "bob"],
            "hashtags": ["standwithlane police", "standwithlane"],
        }
    )
    with store.transaction() as tx:
        tx.append(Table.INTERACTIONS, conform_arrow(rows, Table.INTERACTIONS))
        tx.add_accounts(pa.table({"handle": ["lane", "amy"], "role": ["professional", "citizen"]}))
        tx.add_posts(conform_arrow(posts, Table.POSTS))
    return store


# ---- stance / support (issue 5) ------------------------------------------------------------------

SUPPORT_FIXTURE = DATA / "support_fixture"


def load_support_fixture() -> dict:
    """Return the hand-written ~30-interaction case as canonical tables (posts, interactions...)."""
    import pandas as pd

    from netsupport.schema import SCHEMAS, Table

    out = {}
    for table in (Table.POSTS, Table.INTERACTIONS, Table.FOLLOWS, Table.ACCOUNTS):
        raw = pd.read_csv(SUPPORT_FIXTURE / f"{table.value}.csv", dtype=str, keep_default_na=False)
        raw = raw.replace("", None)
        df = pd.DataFrame(index=range(len(raw)))
        for f in SCHEMAS[table]:
            col = raw[f.name] if f.name in raw.columns else pd.Series([None] * len(raw))
            if str(f.type).startswith("timestamp"):
                df[f.name] = pd.to_datetime(col, utc=True)
            elif f.name == "weight":
                df[f.name] = 1.0
            elif str(f.type) == "int64":
                df[f.name] = pd.array([None] * len(raw), dtype="Int64")
            else:
                df[f.name] = col.astype(object).to_numpy()
        out[table.value] = df
    return out


def support_fixture_study(**changes):
    """Return the Study of the hand fixture: focal @lane, institution @force, 4 + 2 + 4 days."""
    import dataclasses

    from netsupport.studyfile import Study, SupportParams
    from netsupport.windows import Windows

    base = Study(
        name="fixture",
        focal=("lane",),
        institution=("force",),
        windows=Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 4, 4),
        inputs=(),
        proxies=("b",),
        support=SupportParams(bootstrap=4000, seed=7, breadth_min_supporters=2, top_n=10),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def support_tables() -> dict:
    """The hand fixture's tables (tests/data/support_fixture)."""
    return load_support_fixture()


@pytest.fixture
def support_study():
    """The hand fixture's study."""
    return support_fixture_study()
