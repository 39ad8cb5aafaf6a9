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
