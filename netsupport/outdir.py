"""A study's output folder: whose files are in it, where a run keeps its work, and the swap.

Layout, for ``[output] dir = D`` (default ``reports/<name>``)::

    D/                 the report only: index.html, report.md, metrics.json, tables/, charts/,
                       graph.gexf, manifest.json (which lists every file the run wrote)
    D.netsupport/      the run's work folder beside it: state.json and the cached tables,
                       store/ (the default store), next/ (the report being built)

A run builds the new report in ``D.netsupport/next/`` and swaps it in whole
(:func:`swap_in`): on Linux one ``renameat2(RENAME_EXCHANGE)`` call, so a reader sees the old
report or the new one and never a mix; elsewhere two renames, between which ``D`` is briefly
absent (still never a mix). The old report is then deleted, which is only allowed because a run
refuses (:func:`check_output_dir`) to write into a folder holding anything its previous
manifest does not list: the user's own files are never replaced or removed.

The store and the work folder are kept out of ``D`` because ``D`` is replaced whole;
:func:`layout_problem` refuses a study whose store would be inside the report folder, the
report folder inside the store, or either on top of the work folder.

Examples
--------
>>> work_dir(Path("/r/example"))
PosixPath('/r/example.netsupport')
>>> layout_problem(Path("/r/x"), Path("/r/x"))
"'output.store' and 'output.dir' are the same folder (/r/x)"
>>> layout_problem(Path("/r/x"), Path("/r/x.netsupport/store")) is None
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import InputFileError, StudyError

__all__ = [
    "RUN_STORE_MARKER",
    "check_output_dir",
    "default_store",
    "layout_problem",
    "owned_files",
    "remove_old_layout",
    "staging_dir",
    "swap_in",
    "work_dir",
]

#: Marker file: the store was created by ``netsupport run`` and may be rebuilt by it.
RUN_STORE_MARKER = ".created-by-netsupport-run"
#: The manifest a run writes into the report folder; its "outputs" lists the run's files.
MANIFEST = "manifest.json"
#: What a run of netsupport before the report swap kept inside the report folder (its cache,
#: and its store when that store carries RUN_STORE_MARKER): removed with the old report.
_OLD_LAYOUT = (".netsupport", "store")


def work_dir(out_dir: Path) -> Path:
    """Return the run's work folder for report folder ``out_dir``: ``<out_dir>.netsupport``."""
    out_dir = Path(out_dir)
    return out_dir.parent / f"{out_dir.name}.netsupport"


def default_store(out_dir: Path) -> Path:
    """Return the default store of a study whose report folder is ``out_dir``."""
    return work_dir(out_dir) / "store"


def staging_dir(out_dir: Path) -> Path:
    """Return the folder a run builds its new report in (beside ``out_dir``, same file system)."""
    return work_dir(out_dir) / "next"


def _inside(a: Path, b: Path) -> bool:
    """True when ``a`` is ``b`` or lies under it."""
    return a == b or a.is_relative_to(b)


def layout_problem(out_dir: Path, store_dir: Path) -> str | None:
    """Return why the report folder and the store cannot be where they are, or None.

    The report folder is replaced whole on every run and the store is rebuilt from scratch when
    its inputs change, so neither may hold the other; the work folder beside the report holds
    the cache, so the store may sit there only as its ``store`` subfolder (the default).
    """
    out, store = Path(os.path.abspath(out_dir)), Path(os.path.abspath(store_dir))
    work = work_dir(out)
    if out == store:
        return f"'output.store' and 'output.dir' are the same folder ({out})"
    if _inside(store, out):
        return (
            f"'output.store' ({store}) is inside 'output.dir' ({out}): the report folder is "
            "replaced whole on every run; put the store beside it"
        )
    if _inside(out, store):
        return (
            f"'output.dir' ({out}) is inside 'output.store' ({store}): the store is rebuilt "
            "from scratch when the inputs change; put the report beside it"
        )
    if (_inside(store, work) and store != work / "store") or _inside(work, store):
        return (
            f"'output.store' ({store}) collides with the run's work folder ({work}) beside "
            "'output.dir'; use the default store or a folder elsewhere"
        )
    return None


def owned_files(out_dir: Path) -> set[str] | None:
    """Return the files (relative, '/'-separated) the last run recorded in ``out_dir``.

    None when ``out_dir`` holds no manifest a netsupport run wrote.
    """
    manifest = Path(out_dir) / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or "netsupport" not in data:
        return None
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
        return None
    return {*outputs, MANIFEST}


def _old_layout_entry(out: Path, rel: Path) -> bool:
    """True for the cache and run-made store an older netsupport kept in the report folder."""
    top = rel.parts[0]
    if top == ".netsupport":
        return (out / top / "state.json").is_file()
    if top == "store":
        return (out / top / RUN_STORE_MARKER).is_file()
    return False


def check_output_dir(out_dir: Path, at: str = "") -> None:
    """Refuse to write a report into ``out_dir`` unless every file in it is a run's own.

    ``out_dir`` may be missing, empty (folders without files count as empty) or a report
    folder whose manifest.json lists every file in it. ``at`` begins the message (the study
    file, ``"study.toml: "``).

    Raises
    ------
    StudyError
        ``out_dir`` is a file, or holds a file no run of netsupport recorded (named, with the
        count of others), so replacing the folder would lose it.
    """
    out = Path(out_dir)
    if not out.exists():
        return
    if not out.is_dir():
        raise StudyError(f"{at}output.dir: {out} is a file, not a folder")
    files = sorted(p.relative_to(out) for p in out.rglob("*") if not p.is_dir())
    if not files:
        return
    owned = owned_files(out) or set()
    foreign = [
        p
        for p in files
        if p.as_posix() not in owned
        and not (owned and p.parts[0] in _OLD_LAYOUT and _old_layout_entry(out, p))
    ]
    if not foreign:
        return
    others = f" and {len(foreign) - 1:,} more" if len(foreign) > 1 else ""
    why = (
        "its manifest.json does not list it"
        if owned
        else "the folder is not empty and no netsupport run made it (no manifest.json)"
    )
    raise StudyError(
        f"{at}output.dir: {out} holds {foreign[0].as_posix()}{others}, which a run would "
        "replace: "
        f"{why}; point output.dir at a new or empty folder"
    )


def remove_old_layout(out_dir: Path) -> None:
    """Delete the cache and run-made store an older netsupport kept inside a report folder
    (check_output_dir accepted them as a run's own; this layout keeps them beside it)."""
    out = Path(out_dir)
    if owned_files(out) is None:
        return
    for name in _OLD_LAYOUT:
        if (out / name).is_dir() and _old_layout_entry(out, Path(name)):
            shutil.rmtree(out / name)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # an old kernel or a file system without it: the caller renames twice
    raise OSError(err, os.strerror(err), str(b))


def swap_in(staging: Path, out_dir: Path) -> None:
    """Replace the report folder ``out_dir`` with ``staging`` whole, then delete the old one.

    The caller has checked (:func:`check_output_dir`) that ``out_dir`` holds only a run's files.
    """
    staging, out = Path(staging), Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):  # staging now holds the old report
        shutil.rmtree(staging)
        return
    old = staging.with_name(staging.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old)


def check_not_read_by(study: Any, outs: Iterable[str | Path]) -> None:
    """Refuse an output path that names a file the study reads: its hand labels, lexicon, an
    input, the accounts CSV or account map (``stance --out labels.csv`` replaced the coders'
    work with the stance table, ``graph`` and ``support`` the same, without a word).

    Raises
    ------
    InputFileError
        Naming the output and the study key of the file it would replace.
    """
    from .stance.tables import StanceSpec

    spec = StanceSpec.of(study)
    reads = {"[stance] labels": spec.params.labels, "[stance] lexicon": spec.params.lexicon}
    for i, item in enumerate(getattr(study, "inputs", None) or ()):
        reads[f"inputs[{i}]"] = getattr(item, "path", None)
    for key in ("accounts", "account_map"):
        reads[f"study.{key}"] = getattr(study, key, None)
    read = {Path(p).resolve(): key for key, p in reads.items() if p is not None}
    for o in outs:
        key = read.get(Path(o).resolve())
        if key is not None:
            raise InputFileError(
                o, f"is the study's {key}, which this command reads: write the output elsewhere"
            )
