"""Fixtures for every test the suite collects: tests/ and the doctests of netsupport/
(``--doctest-modules``, pyproject.toml), which tests/conftest.py does not reach.

The hypothesis tests and the doctests make temporary folders with :func:`tempfile.mkdtemp`
and leave them; pointed at the system temp dir they piled up there by the thousand
(``/tmp/ns-prop-*``, ``/tmp/tmp*``). For the session the temp dir is a folder under pytest's
own base temp dir, of which pytest keeps the last three runs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _temp_dir_under_pytest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point :mod:`tempfile` (and ``TMPDIR``, for the commands a test starts) at the session's
    base temp dir for the whole run, and back afterwards."""
    root = tmp_path_factory.getbasetemp() / "tempfile"
    root.mkdir(exist_ok=True)
    saved_dir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(root)
    os.environ["TMPDIR"] = str(root)
    try:
        yield
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
