"""The library's errors survive the trip back from a worker process (pickling)."""

from __future__ import annotations

import pickle

import pytest

from netsupport import errors
from netsupport.errors import InputFileError, UnknownFormat, UnsafeArchive
from netsupport.io.pool import WorkerPool


def _raise_input_error(path: str) -> None:
    raise UnsafeArchive(path, "member ../evil leaves the target folder", "member 3")


@pytest.mark.parametrize("cls", [InputFileError, UnknownFormat, UnsafeArchive])
@pytest.mark.parametrize("position", [None, "line 7"])
def test_input_errors_pickle_with_their_fields(cls, position):
    err = cls("data/x.jsonl", "not JSON", position)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (back.path, back.reason, back.position) == ("data/x.jsonl", "not JSON", position)
    assert str(back) == str(err)


@pytest.mark.parametrize("name", sorted(errors.__all__))
def test_every_error_pickles_with_its_message(name):
    cls = getattr(errors, name)
    err = cls("x.csv", "bad") if issubclass(cls, InputFileError) else cls("x.csv: bad")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err)


def test_error_raised_in_a_worker_comes_back_as_itself():
    # Before InputFileError pickled, the pool broke on it (BrokenProcessPool) instead of the
    # CLI's one-line message with exit code 2.
    with WorkerPool(1) as pool:
        job = pool.submit(_raise_input_error, "archive.zip")
        with pytest.raises(UnsafeArchive) as info:
            job.result()
    assert str(info.value) == "archive.zip:member 3: member ../evil leaves the target folder"
