"""Errors the library raises; the CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations

__all__ = [
    "EmptyWindow",
    "InputFileError",
    "NetsupportError",
    "NotMeasured",
    "ResourceLimit",
    "StudyError",
    "StudyKeyError",
    "Terminated",
    "UnknownFormat",
    "UnsafeArchive",
]


class NetsupportError(Exception):
    """Base class: the message names the file, key or line and what was expected."""


class InputFileError(NetsupportError):
    """A file cannot be read at all (missing, wrong encoding throughout, truncated archive)."""

    def __init__(self, path: object, reason: str, position: str | None = None):
        self.path = str(path)
        self.reason = reason
        self.position = position
        where = f"{self.path}:{position}" if position else self.path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        # Raised in a worker process, the error comes back pickled; Exception's own pickling
        # would call __init__ with the message alone, and the pool would break on it.
        return type(self), (self.path, self.reason, self.position)


class UnknownFormat(InputFileError):
    """The format of a file could not be detected, or the named format does not exist."""


class UnsafeArchive(InputFileError):
    """A zip member leaves the target folder, or the archive decompresses beyond the cap."""


class StudyError(NetsupportError):
    """The study file is invalid (wrong type, missing input, bad window)."""


class StudyKeyError(StudyError):
    """The study file has an unknown or missing key."""


class EmptyWindow(NetsupportError):
    """A window holds no data where data is required."""


class NotMeasured(NetsupportError):
    """A metric cannot be measured with the data given (reason in the message)."""


class ResourceLimit(NetsupportError):
    """A step would exceed memory or another limit; the message says what to use instead."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (``kill PID``, a service manager, ``timeout``): raised in the main thread
    by the handler :func:`netsupport.__main__.stop_on_sigterm` installs, so that the command
    stops as on Ctrl-C (a KeyboardInterrupt: every clean-up that runs on Ctrl-C runs: the
    staging folder removed,
    the store's transaction rolled back, the worker pools' processes ended with
    :func:`netsupport.io.pool.stop_workers`, not waited for), then the CLI says
    ``error: terminated`` and exits 143 (128 + 15, as the shell reports a SIGTERM)."""
