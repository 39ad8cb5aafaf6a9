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
