"""Run a whole study from its study.toml: import, stance, communities, metrics, report.

:func:`run_study` is what ``netsupport run study.toml`` calls. It chains the library's stages::

    import       inputs -> the study's store (netsupport.ingest.import_inputs)
    stance       store -> stance of every interaction (netsupport.stance.stance_table)
    communities  store -> baseline communities and crisis PageRank (graph + communities), and
                 the sensitivity grid's community detections (they read no stance)
    metrics      all of the above -> metrics.json (netsupport.support.analyse)
    report       metrics + tables -> index.html, report.md, charts, tables, graph.gexf

The steps are wired here once, for every engine: :class:`RunContext` reuses a step whose key
and files are current, else asks the engine (:mod:`netsupport.engine`: pandas, dask) to compute
it, caches the result and records the key. With the pandas engine the stance and communities
steps overlap, the communities step in a child process, and so do the metrics step and the
report's parts that read no metric (in a child process that writes into the report's staging
folder), unless ``jobs`` is 1 (see ``jobs`` of :func:`run_study`).

Each step has a *key*: the sha256 of everything it depends on (the inputs' sha256, the
parameters that concern it, the keys of the steps before it, and a fingerprint of netsupport's own
code). A step whose key matches the one recorded by the previous run, and whose outputs are still
there, is reused; ``force=True`` runs every step again. The keys live in the run's work folder
beside the report, ``<output dir>.netsupport/state.json``, with the cached intermediate tables
(Parquet). The report is built in ``<output dir>.netsupport/next/`` and swapped in whole
(:mod:`netsupport.outdir`); a run refuses an output folder holding files it did not write.

The store is the study's own (``[output] store``, default ``<output dir>.netsupport/store``).
When the inputs change, a store that ``netsupport run`` created is rebuilt from scratch, so a
removed input leaves no rows behind; a store made otherwise (``netsupport import``, shared
between studies) is only added to, and ``force=True`` refuses to delete it.

The study file itself is read and validated by :func:`netsupport.studyfile.load_study`; this module
adds the checks that need the data (a crisis window the data do not reach).

Examples
--------
>>> step_key({"b": 1, "a": [1, 2]}) == step_key({"a": [1, 2], "b": 1})
True
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .engine import (
    Engine,
    GraphFiles,
    PandasEngine,
    _labels_note,  # noqa: F401 (tests import it from here)
    get_engine,
    graph_measures_child,
    overlap_decision,
    read_graph_measures,
    read_parquet,
    release_arrow_memory,
    report_gexf_child,
    report_parts_child,
    write_arrow,
    write_graph_measures,
    write_parquet,
)
from .errors import StudyError
from .io.pool import exit_with_parent, stop_workers
from .outdir import (
    RUN_STORE_MARKER,
    check_output_dir,
    remove_old_layout,
    staging_dir,
    swap_in,
    work_dir,
)
from .schema import AccountCol, FollowCol, InteractionCol, PostCol, Table
from .studyfile import InputSpec, Study, load_study
from .textsafe import atomic_write_bytes, dumps_json, jsonable, write_json
from .wording import counted

__all__ = [
    "RUN_STORE_MARKER",
    "STEPS",
    "RunProgress",
    "RunResult",
    "StepResult",
    "check_accounts_present",
    "check_data_range",
    "code_fingerprint",
    "input_files",
    "report_study",
    "run_study",
    "step_key",
]

#: The steps of a run, in order.
STEPS = ("import", "stance", "communities", "metrics", "report")
#: Version of the cache layout (state.json and the cached tables).
STATE_VERSION = 1
_TABLES = (Table.POSTS, Table.INTERACTIONS, Table.FOLLOWS, Table.ACCOUNTS)


# ---- progress -----------------------------------------------------------------------------------


class RunProgress(Protocol):
    """Receives what a run is doing (the CLI draws one display on stderr)."""

    def step_start(self, index: int, total: int, name: str, what: str) -> None: ...

    def step_end(self, name: str, status: str, seconds: float, detail: str) -> None: ...

    # import progress (netsupport.ingest.ImportProgress)
    def start_file(self, path: str, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def end_file(self) -> None: ...


@dataclass(frozen=True)
class StepResult:
    """What one step did: ``ran`` or ``reused``, how long it took (its own wall time), and a
    one-line detail; ``overlaps`` names a step that ran at the same time."""

    name: str
    status: str
    seconds: float
    detail: str = ""
    start: float = 0.0  # seconds from the start of the steps to this one's start
    overlaps: str = ""  # the step that ran at the same time (in another process), if any


@dataclass
class RunResult:
    """The outcome of :func:`run_study`."""

    study: Study
    out_dir: Path
    steps: list[StepResult]
    files: list[Path]
    metrics: dict[str, Any]
    findings: list[str] = field(default_factory=list)
    not_measured: list[tuple[str, str]] = field(default_factory=list)

    @property
    def index_html(self) -> Path:
        return self.out_dir / "index.html"


# ---- keys ---------------------------------------------------------------------------------------


def step_key(parts: Any) -> str:
    """Return the sha256 of ``parts`` as canonical JSON (sorted keys): a step's cache key."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_CODE_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """Return the sha256 of netsupport's own source files (code, templates, packaged data).

    Part of every step key, so a changed netsupport reruns the steps its change may affect.
    """
    global _CODE_FINGERPRINT
    if _CODE_FINGERPRINT is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256(__version__.encode())
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix in {".py", ".j2", ".css", ".toml"}
            and "__pycache__" not in p.parts
        )
        for p in files:
            h.update(str(p.relative_to(root)).encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
        _CODE_FINGERPRINT = h.hexdigest()
    return _CODE_FINGERPRINT


def _file_sha256(path: Path, known: Mapping[str, Any]) -> str:
    """sha256 of a file, reused from the previous run when its size and mtime are unchanged."""
    st = path.stat()
    prev = known.get(str(path))
    if prev and prev.get("size") == st.st_size and prev.get("mtime_ns") == st.st_mtime_ns:
        return str(prev["sha256"])
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            (p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)),
            key=lambda p: str(p.relative_to(path)),
        )
    return [path]


def _hidden(p: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in p.relative_to(root).parts)


def _input_specs(study: Study) -> list[InputSpec]:
    specs = list(study.inputs)
    if study.accounts is not None:
        specs.append(InputSpec(path=study.accounts, format="accounts"))
    return specs


def input_files(study: Study, known: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Return every input file of a study with its sha256, size and the spec that names it.

    Raises
    ------
    StudyError
        An input is missing (the message names the study key and the path).
    """
    known = known or {}
    out = []
    for i, spec in enumerate(_input_specs(study)):
        key = f"inputs[{i}].path" if i < len(study.inputs) else "study.accounts"
        if not spec.path.exists():
            raise StudyError(f"{_at(study)}{key}: file not found: {spec.path}")
        for p in _expand(spec.path):
            st = p.stat()
            out.append(
                {
                    "path": str(p),
                    "format": spec.format,
                    "mapping": [list(m) for m in spec.mapping],
                    "account": spec.account,
                    "direction": spec.direction,
                    "bytes": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "sha256": _file_sha256(p, known),
                    # (only when given: the records of other inputs stay as they were)
                    **({"instance": spec.instance} if spec.instance else {}),
                }
            )
    return out


def _keys(
    study: Study, files: Sequence[Mapping[str, Any]], pseudonyms: str | None = None
) -> dict[str, str]:
    """Return the key of every step (``pseudonyms``: the salt's fingerprint, when the outputs
    are pseudonymised: every step after the import depends on it)."""
    code = code_fingerprint()
    p = study.parameters()
    inputs = [{k: v for k, v in f.items() if k not in ("mtime_ns", "path")} for f in files]
    keys: dict[str, str] = {}
    keys["import"] = step_key({"code": code, "inputs": inputs})
    who = {
        "focal": p["focal"],
        "institution": p["institution"],
        "markers": p["markers"],
        "windows": p["windows"],
        **({"pseudonyms": pseudonyms} if pseudonyms else {}),
    }
    if study.account_map is not None:  # (only when given: other studies' keys unchanged)
        who["account_map"] = _sha_or_none(study.account_map)
    lexicon = _sha_or_none(study.stance.lexicon)
    keys["stance"] = step_key(
        {
            "code": code,
            "import": keys["import"],
            **who,
            "stance": p["stance"],
            "lexicon": lexicon,
            "labels": _sha_or_none(study.stance.labels),
            # the stance model and its cross-validation are seeded with it
            "support_seed": p["support"]["seed"],
        }
    )
    grid = ("algorithms", "resolutions", "seeds", "consensus_threshold", "community_max_edges")
    keys["communities"] = step_key(
        {
            "code": code,
            "import": keys["import"],
            **who,
            "communities": p["communities"],
            # the step detects the sensitivity grid's communities too (community_runs)
            "community_grid": {k: p["sensitivity"][k] for k in grid},
        }
    )
    keys["metrics"] = step_key(
        {
            "code": code,
            "stance": keys["stance"],
            "communities": keys["communities"],
            "support": p["support"],
            "evidence": p["evidence"],
            "sensitivity": p["sensitivity"],
            "proxies": p["proxies"],
            "lexicon": lexicon,
            "name": p["name"],
        }
    )
    keys["report"] = step_key(
        {"code": code, "metrics": keys["metrics"], "inputs": inputs, "parameters": p}
    )
    return keys


def _sha_or_none(path: Path | None) -> str | None:
    if path is None:
        return None
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# ---- state and cache ----------------------------------------------------------------------------


class _State:
    """The keys of the last run's steps and the files they wrote (``state.json``)."""

    def __init__(self, cache: Path):
        self.cache = cache
        self.path = cache / "state.json"
        self.data: dict[str, Any] = {"version": STATE_VERSION, "steps": {}, "files": {}}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None  # a damaged state only costs a rerun
            if isinstance(data, dict) and data.get("version") == STATE_VERSION:
                self.data = data

    def fresh(self, step: str, key: str, outputs: Iterable[Path]) -> bool:
        rec = self.data["steps"].get(step)
        return bool(rec and rec.get("key") == key and all(p.exists() for p in outputs))

    def record(self, step: str, key: str) -> None:
        self.data["steps"][step] = {"key": key}
        self.save()

    def forget(self, *steps: str) -> None:
        for s in steps:
            self.data["steps"].pop(s, None)
        self.save()

    def save(self) -> None:
        atomic_write_bytes(self.path, (dumps_json(self.data) + "\n").encode("utf-8"))


# ---- data checks --------------------------------------------------------------------------------


def _at(study: Study) -> str:
    """``"<study file>: "`` to begin an error message with, or nothing for a study in memory."""
    return f"{study.path}: " if getattr(study, "path", None) else ""


def check_data_range(study: Study, first: Any, last: Any) -> None:
    """Raise if the data hold nothing, or if the crisis window lies outside the data's time span.

    Raises
    ------
    StudyError
        The message names the study keys (``windows.crisis_start`` / ``windows.crisis_end``),
        the window and the span of the data.

    Examples
    --------
    >>> from netsupport.windows import Windows
    >>> class S: windows = Windows.from_crisis("2014-02-14T00:00Z", "2014-02-15T00:00Z", 1, 1)
    >>> check_data_range(S, pd.Timestamp("2014-02-14T12:00Z"), pd.Timestamp("2014-02-20T00:00Z"))
    >>> late = pd.Timestamp("2015-01-01T00:00Z")
    >>> check_data_range(S, late, late)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    netsupport.errors.StudyError: windows.crisis_start..windows.crisis_end: ... outside the data...
    """
    where = _at(study)
    if first is None or last is None:
        raise StudyError(f"{where}the inputs hold no posts or interactions with a time")
    cs, ce = study.windows.crisis_start, study.windows.crisis_end
    if last < cs or first >= ce:
        iso = "%Y-%m-%dT%H:%M:%SZ"
        raise StudyError(
            f"{where}windows.crisis_start..windows.crisis_end: the crisis window "
            f"{cs.strftime(iso)} to {ce.strftime(iso)} lies outside the data, which run from "
            f"{pd.Timestamp(first).tz_convert('UTC').strftime(iso)} to "
            f"{pd.Timestamp(last).tz_convert('UTC').strftime(iso)}"
        )


#: Where an account's handle can appear in the store: (table, columns).
_HANDLE_COLUMNS = (
    (Table.POSTS, [PostCol.AUTHOR.value]),
    (Table.INTERACTIONS, [InteractionCol.SOURCE.value, InteractionCol.TARGET.value]),
    (Table.FOLLOWS, [FollowCol.FOLLOWER.value, FollowCol.FOLLOWEE.value]),
    (Table.ACCOUNTS, [AccountCol.HANDLE.value]),
)


def check_accounts_present(
    study: Any, store: Any, keys: tuple[str, str] = ("focal", "institution")
) -> None:
    """Raise if none of the focal handles, or none of the institution's, appears in the data.

    A handle mistyped in the study file would otherwise give a run whose figures are about
    nobody (only marker posts would address the focal account). The store's parts are scanned
    one at a time and the scan stops at the first match. Every command that takes a focal
    account (run, report, stance, support, graph and communities with --study) calls this.

    Parameters
    ----------
    study : Study or StanceSpec
        Anything with ``focal`` and ``institution`` handles (and optionally ``path``).
    store : Store
    keys : (str, str)
        How the message names the focal and institution handles: the study keys, or the
        command's options (``--focal``, ``--institution``).

    Raises
    ------
    StudyError
        The message names the study key or option and the handles.
    """
    where = _at(study)
    linked: dict[str, str] = {}
    account_map = getattr(study, "account_map", None)  # a StanceSpec (CLI options) has none
    if account_map is not None:  # accounts the map links to a study handle count too
        from .accountmap import load_account_map

        linked = load_account_map(account_map)
    for key, handles in zip(keys, (study.focal, study.institution), strict=True):
        if linked:
            handles = (*handles, *sorted(k for k, v in linked.items() if v in handles))
        if handles and not _appears(store, handles):
            named = ", ".join(f"@{h}" for h in handles)
            raise StudyError(
                f"{where}{key}: {named} appears in no post, interaction, follow or account of "
                "the inputs; check the handle (lower case, without @, as in the data)"
            )


def _appears(store: Any, handles: Sequence[str]) -> bool:
    value_set = pa.array(sorted(handles), pa.string())
    for table, columns in _HANDLE_COLUMNS:
        for part in store.iter_parts(table, columns):
            if any(pc.any(pc.is_in(col, value_set=value_set)).as_py() for col in part.columns):
                return True
    return False


# ---- the run ------------------------------------------------------------------------------------


class _Quiet:
    def step_start(self, index: int, total: int, name: str, what: str) -> None:
        pass

    def step_end(self, name: str, status: str, seconds: float, detail: str) -> None:
        pass

    def start_file(self, path: str, total_bytes: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def end_file(self) -> None:
        pass


_WHAT = {
    "import": "importing the inputs into the store",
    "stance": "classifying the stance of every interaction",
    "communities": "finding communities before the crisis and ranking the crisis graph",
    "metrics": "computing the support measures",
    "report": "drawing the charts and writing the report",
}


def run_study(
    study: Study | str | os.PathLike[str],
    force: bool = False,
    progress: RunProgress | None = None,
    *,
    workers: int | None = None,
    clock: Callable[[], str] | None = None,
    engine: str = "pandas",
    scheduler: str | None = None,
    pseudonymise: bool = False,
    jobs: int | None = None,
) -> RunResult:
    """Run every step of a study, reusing the steps whose inputs did not change.

    Parameters
    ----------
    study : Study or path
        A loaded study or the path of its study.toml (validated by
        :func:`netsupport.studyfile.load_study`).
    force : bool
        Run every step even when its cached result is up to date (the store is rebuilt too,
        when ``netsupport run`` created it).
    progress : RunProgress, optional
        Receives step starts/ends and import progress.
    workers : int, optional
        Processes for import and stance scoring (default: the library's choice).
    clock : callable, optional
        Returns the manifest's timestamp (tests pin it); default: now, UTC.
    engine : {"pandas", "dask"}
        ``dask``: the steps after the import run on a Dask cluster that reads the store in
        partitions by day and returns aggregates (:mod:`netsupport.scale`): the same stance
        decisions, shares and measured stance error, without the error-corrected shares,
        the sensitivity grid and role timing.
    scheduler : str, optional
        With ``engine="dask"``: the address of an existing Dask scheduler (default: a local
        cluster, started and closed by the run).
    pseudonymise : bool
        Stable salted pseudonyms for every handle in every output, post texts withheld (as
        ``[output] pseudonymise = true``; :mod:`netsupport.pseudonym`).
    jobs : int, optional
        Steps run at the same time at most. By default (and with ``jobs >= 2``) the engine's
        independent steps (pandas: stance and communities) overlap, the communities step in a
        child process, when two CPUs are usable and both fit in memory
        (:func:`netsupport.engine.overlap_decision`); so do the metrics step and the report's
        parts that read no metric (:func:`netsupport.engine.report_parts_child`: graph.gexf,
        the network map's graph, tables/stance.csv); ``jobs=1`` runs them one after the other.
        The outputs are the same either way.

    Returns
    -------
    RunResult

    Raises
    ------
    StudyError
        Invalid study file, missing input, or a crisis window outside the data (the message
        names the key or path).
    ResourceLimit
        The store is too big for the engine's memory here (estimated from its row counts after
        the import; the message suggests ``--engine dask``).
    NetsupportError
        Any library error of a step (unreadable input, empty graph where one is needed, ...).
    """
    eng = get_engine(engine, scheduler)
    if not isinstance(study, Study):
        study = load_study(study)
    if pseudonymise:
        study = replace(study, pseudonymise=True)
    pseudo = None
    if study.pseudonymise:
        from .pseudonym import Pseudonymiser, load_salt

        if not eng.pseudonyms:
            raise StudyError(
                f"{_at(study)}output.pseudonymise: not available with --engine {eng.name}"
            )
        pseudo = Pseudonymiser(load_salt(study))
    progress = progress or _Quiet()
    out = Path(study.output_dir)
    check_output_dir(out, _at(study))  # before any work: a folder with the user's files is refused
    remove_old_layout(out)
    cache = work_dir(out)
    cache.mkdir(parents=True, exist_ok=True)
    lock = _hold_run_lock(cache, study)
    try:
        return _run_locked(study, out, cache, force, progress, workers, clock, eng, pseudo, jobs)
    finally:
        os.close(lock)  # (releases the lock)


def _hold_run_lock(cache: Path, study: Study) -> int:
    """Take the exclusive lock of a study's work folder (``.run.lock``) for one run, or refuse:
    two runs at once would each remove the other's staging folder and temporary files."""
    from .store import _lock

    fd = os.open(cache / ".run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    if not _lock(fd):
        os.close(fd)
        raise StudyError(
            f"{study.path or study.name}: another netsupport run of this study is running "
            f"(its work folder {cache} is locked); wait for it to end"
        )
    return fd


def _run_locked(
    study: Study,
    out: Path,
    cache: Path,
    force: bool,
    progress: RunProgress,
    workers: int | None,
    clock: Callable[[], str] | None,
    eng: Any,
    pseudo: Any,
    jobs: int | None,
) -> RunResult:
    """:func:`run_study` once its work folder is locked."""
    if staging_dir(out).exists():  # a report a stopped run built, or the old one it swapped out
        shutil.rmtree(staging_dir(out))
    state = _State(cache)
    files = input_files(study, state.data.get("files", {}))
    state.data["files"] = {
        f["path"]: {"size": f["bytes"], "mtime_ns": f["mtime_ns"], "sha256": f["sha256"]}
        for f in files
    }
    keys = _keys(study, files, pseudo.fingerprint() if pseudo else None)
    if force:
        state.forget(*STEPS)
    if eng.key_salt:
        keys = {
            k: v if k == "import" else step_key({**eng.key_salt, "key": v}) for k, v in keys.items()
        }
    ctx = RunContext(study, out, cache, state, keys, progress, workers, engine=eng)
    if pseudo is not None:  # every step after the import sees pseudonyms only
        ctx.source_study, ctx.study, ctx.pseudonymiser = study, pseudo.study(study), pseudo
    try:
        results = _run_steps(ctx, progress, force, jobs)
    finally:
        shutil.rmtree(ctx.temp_dir, ignore_errors=True)

    from .report import write_manifest
    from .report_findings import findings
    from .report_format import showing, shown_handles

    manifest_inputs = [
        {
            "path": ctx.private_name(_relative(f["path"], study)),
            "format": f["format"],
            "bytes": f["bytes"],
            "sha256": f["sha256"],
        }
        for f in files
    ]
    staged = ctx.staged is not None
    report_dir = ctx.staged if staged else out
    try:
        write_manifest(
            report_dir,
            ctx.study,  # (pseudonymised handles when the outputs are)
            manifest_inputs,
            steps={r.name: {"status": r.status, "seconds": round(r.seconds, 3)} for r in results},
            files=[report_dir / p.relative_to(out) for p in ctx.report_files],
            created_at=clock() if clock else None,
        )
        if staged:
            check_output_dir(out, _at(study))  # again: a file may have been put there meanwhile
            _test_point("before-swap")
    except BaseException:  # (Ctrl-C, SIGTERM, a refused folder: no staged report left behind)
        if staged:
            shutil.rmtree(report_dir, ignore_errors=True)
        raise
    if staged:
        swap_in(report_dir, out)
    f = findings(ctx.metrics)
    if ctx.pseudonymiser is None and any("bluesky:did:" in s.text() for s in f.sentences):
        # the findings printed after the run name accounts as the report does: a Bluesky DID
        # with its handle beside it
        with showing(shown_handles(ctx.tables().get(Table.ACCOUNTS))):
            f = findings(ctx.metrics)
    return RunResult(
        ctx.study,
        out,
        results,
        [*ctx.report_files, out / "manifest.json"],
        ctx.metrics,
        [s.text() for s in f.sentences],
        f.not_measured,
    )


def _run_steps(ctx: RunContext, progress: Any, force: bool, jobs: int | None) -> list[StepResult]:
    """Run the steps in order; overlap the two the engine says are independent (the stance
    and communities steps of the pandas engine) when both must run and the machine allows it
    (:func:`netsupport.engine.overlap_decision`)."""
    results: list[StepResult] = []
    total = len(STEPS)
    t_run = time.monotonic()
    i = 0
    note = ""
    while i < total:
        step = STEPS[i]
        pair = _OVERLAPS.get(step)
        if pair is not None and pair.offered(ctx.engine):
            why = pair.sequential_reason(ctx, jobs)
            if why is None:
                results += pair.run(ctx, progress, force, i, t_run)
                i += 2
                continue
            if why != "reused":
                note = f"; {pair.after} ({why})"
        progress.step_start(i + 1, total, step, _WHAT[step])
        t0 = time.monotonic()
        status, detail = getattr(ctx, f"step_{step}")(force)
        t1 = time.monotonic()
        if step in _OVERLAPS:
            detail, note = detail + note, ""
        progress.step_end(step, status, t1 - t0, detail)
        results.append(StepResult(step, status, t1 - t0, detail, start=t0 - t_run))
        release_arrow_memory()  # (the step's Parquet and Arrow buffers, freed but kept)
        if step == "import" and len(STEPS) > 1:
            ctx.check_resources()  # before the steps that hold the data in memory
        i += 1
    return results


@dataclass(frozen=True)
class _Overlap:
    """A step that can run beside the work of a child process, with the step after it.

    ``first`` and ``second`` name the two steps; ``offered`` says whether the engine can
    overlap them; ``run`` runs both (returning their two results); ``child`` is the child's
    name for :func:`netsupport.engine.overlap_decision`; ``after`` is what the first step's
    line says when the two run in turn.
    """

    first: str
    second: str
    offered: Callable[[Any], bool]
    run: Callable[..., list[StepResult]]
    child: str
    after: str

    def sequential_reason(self, ctx: RunContext, jobs: int | None) -> str | None:
        """Why the two steps run one after the other (None: they overlap; ``"reused"``: one
        of them is reused, so there is nothing to overlap)."""
        if getattr(ctx, f"{self.first}_fresh")() or getattr(ctx, f"{self.second}_fresh")():
            return "reused"
        return overlap_decision(jobs, ctx.store.counts(), child=self.child)


def _report_overlapped(
    ctx: RunContext, progress: Any, force: bool, index: int, t_run: float
) -> list[StepResult]:
    """Run the metrics step here while a child process makes the report's parts that read no
    metric (:func:`netsupport.engine.report_parts_child`: the GEXF's edges and scope, the
    network map's graph, tables/stance.csv, into the report's staging folder), then the report
    step, whose graph.gexf the child writes while this process writes the rest.

    The step table stays honest: the metrics and report steps' seconds are their wall time in
    this process (the report's: what remains after the metrics, waiting for the child
    included); the report's line says when the child worked and for how long it overlapped
    each step. On any error the staging folder is removed: no half report is left.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    total = len(STEPS)
    what = f"{_WHAT['metrics']} (and the report's graph parts, in a child process)"
    progress.step_start(index + 1, total, "metrics", what)
    try:
        with ProcessPoolExecutor(
            1, mp_context=mp.get_context("spawn"), initializer=exit_with_parent
        ) as pool:
            t0 = time.monotonic()
            ctx.report_child = child = ctx.start_report_child(pool)
            try:
                status, detail = ctx.step_metrics(force)
                t1 = time.monotonic()
                release_arrow_memory()
                progress.step_start(index + 2, total, "report", _WHAT["report"])
                r_status, r_detail = ctx.step_report(force)
                t2 = time.monotonic()
            except KeyboardInterrupt:  # (Ctrl-C, SIGTERM: the child's work is not waited for)
                stop_workers(pool)
                raise
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            finally:
                ctx.report_child = None
    except BaseException:
        shutil.rmtree(staging_dir(ctx.out), ignore_errors=True)
        raise
    c0, c1 = child.parts.span
    overlap = max(0.0, min(t1, c1) - max(t0, c0))
    m_detail = f"{detail}; overlapped with the report's child process for {overlap:.1f} s"
    r_detail += (
        f"; graph parts in a child process {c0 - t_run:.1f}-{c1 - t_run:.1f} s into the run "
        f"({child.parts.cpu:.1f} s CPU, overlapped with metrics for {overlap:.1f} s)"
    )
    if child.gexf_span is not None:
        g0, g1 = child.gexf_span
        r_detail += (
            f", its graph.gexf {g0 - t_run:.1f}-{g1 - t_run:.1f} s ({child.gexf_cpu:.1f} s CPU, "
            "beside this step)"
        )
    progress.step_end("metrics", status, t1 - t0, m_detail)
    progress.step_end("report", r_status, t2 - t1, r_detail)
    return [
        StepResult("metrics", status, t1 - t0, m_detail, start=t0 - t_run, overlaps="report"),
        StepResult("report", r_status, t2 - t1, r_detail, start=t1 - t_run, overlaps="metrics"),
    ]


@dataclass
class _ReportChild:
    """The report's child process (:meth:`RunContext.start_report_child`), as
    :func:`netsupport.report.write_report` uses it (``report.EarlyReport``): the parts it made
    beside the metrics step, and graph.gexf written beside the rest of the report."""

    pool: Any
    future: Any
    study: Study
    temp: Path  # the run's temporary folder (the child's edges, the node attributes)
    staging: Path  # the report's staging folder
    gexf_span: tuple[float, float] | None = None
    gexf_cpu: float = 0.0
    _parts: Any = None

    @property
    def parts(self) -> Any:
        """The child's :class:`netsupport.engine.ReportParts` (waits for them)."""
        if self._parts is None:
            self._parts = self.future.result()
        return self._parts

    def start_gexf(self, node_attrs: pd.DataFrame) -> Callable[[], Path | None]:
        path = self.temp / "node-attrs.parquet"
        write_parquet(node_attrs, path)
        future = self.pool.submit(
            report_gexf_child,
            self.study,
            str(self.temp),
            str(path),
            str(self.staging),
            self.parts.scope,
        )

        def wait() -> Path | None:
            out, self.gexf_span, self.gexf_cpu = future.result()
            return Path(out) if out is not None else None

        return wait


def _overlapped(
    ctx: RunContext, progress: Any, force: bool, index: int, t_run: float
) -> list[StepResult]:
    """Run the stance step here and the communities step in a child process at the same time.

    The step table stays honest: each step's seconds are its own wall time (the child's from
    its start to its end), and both lines say for how long they overlapped.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    total = len(STEPS)
    what = f"{_WHAT['stance']} (and communities, in a child process)"
    progress.step_start(index + 1, total, "stance", what)
    with ProcessPoolExecutor(
        1, mp_context=mp.get_context("spawn"), initializer=exit_with_parent
    ) as pool:
        t0 = time.monotonic()
        future = ctx.start_communities(pool)
        try:
            try:
                status, detail = ctx.step_stance(force)
            except BaseException:
                future.cancel()
                raise
            t1 = time.monotonic()
            release_arrow_memory()
            progress.step_start(index + 2, total, "communities", _WHAT["communities"])
            (c_status, c_detail), (c0, c1) = ctx.finish_communities(future)
        except KeyboardInterrupt:  # (Ctrl-C, SIGTERM: the child's work is not waited for)
            stop_workers(pool)
            raise
        t2 = time.monotonic()
    both = max(t1, t2) - t0
    overlap = max(0.0, min(t1, c1) - max(t0, c0))
    s_detail = f"{detail}; overlapped with communities for {overlap:.1f} s"
    c_detail = (
        f"{c_detail}; in a child process {c0 - t_run:.1f}-{c1 - t_run:.1f} s into the run, "
        f"overlapped with stance for {overlap:.1f} s (both steps: {both:.1f} s wall)"
    )
    progress.step_end("stance", status, t1 - t0, s_detail)
    progress.step_end("communities", c_status, c1 - c0, c_detail)
    return [
        StepResult("stance", status, t1 - t0, s_detail, start=t0 - t_run, overlaps="communities"),
        StepResult("communities", c_status, c1 - c0, c_detail, start=c0 - t_run, overlaps="stance"),
    ]


#: The step pairs a run may overlap, by their first step.
_OVERLAPS = {
    o.first: o
    for o in (
        _Overlap(
            "stance",
            "communities",
            lambda engine: "communities" in engine.concurrent,
            _overlapped,
            "child",
            "communities run after it",
        ),
        _Overlap(
            "metrics",
            "report",
            lambda engine: bool(engine.report_child),
            _report_overlapped,
            "report",
            "the report's graph parts made after it",
        ),
    )
}


def report_study(
    study: Study | str | os.PathLike[str],
    progress: RunProgress | None = None,
    *,
    workers: int | None = None,
    engine: str = "pandas",
    scheduler: str | None = None,
    pseudonymise: bool = False,
    jobs: int | None = None,
) -> RunResult:
    """Rewrite a study's report from its cached results (running the steps that are stale)."""
    if not isinstance(study, Study):
        study = load_study(study)
    state = _State(work_dir(Path(study.output_dir)))
    state.forget("report")
    return run_study(
        study,
        force=False,
        progress=progress,
        workers=workers,
        engine=engine,
        scheduler=scheduler,
        pseudonymise=pseudonymise,
        jobs=jobs,
    )


def _relative(path: str, study: Study) -> str:
    """Return an input path relative to the study file (so manifests do not leak home dirs)."""
    if study.path is None:
        return Path(path).name
    try:
        return str(Path(path).resolve().relative_to(Path(study.path).resolve().parent))
    except ValueError:
        return Path(path).name


@dataclass
class RunContext:
    """State shared by the steps of one run (loaded lazily from the store or the cache).

    The step methods are the wiring, written once for every engine: reuse a step whose key and
    files are current, else have the engine compute it (:mod:`netsupport.engine`), cache the
    result and record the key.
    """

    study: Study
    out: Path
    cache: Path
    state: _State
    keys: dict[str, str]
    progress: Any
    workers: int | None
    engine: Engine = field(default_factory=PandasEngine)
    _tables: dict[str, pd.DataFrame] | None = None
    _interactions: pd.DataFrame | None = None
    # the stored interactions as read (Arrow) and where the study's interactions' rows come
    # from, until the Arrow file for the child processes is written from them
    _stored_arrow: pa.Table | None = None
    _interaction_rows: Any = None  # stance.tables.StudyRows
    stance: Any = None  # StanceResult
    membership: pd.Series | None = None
    pagerank: pd.Series | None = None
    graph_info: dict[str, Any] = field(default_factory=dict)
    community_runs: Any = None  # the sensitivity grid's detections (support.sensitivity)
    baseline_edges: pd.DataFrame | None = None  # graph.baseline_edges, from the communities step
    metrics: dict[str, Any] = field(default_factory=dict)
    units: pd.DataFrame | None = None
    analysis_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    report_files: list[Path] = field(default_factory=list)
    staged: Path | None = None  # the folder holding a new report, once the report step built one
    report_child: Any = None  # _ReportChild, while the metrics and report steps overlap
    interactions_arrow: Path | None = None  # the interactions as written for a child this run
    # with pseudonymised outputs: the study as written (its handles find the data in the
    # store) and the pseudonymiser; `study` then holds pseudonyms
    source_study: Study | None = None
    pseudonymiser: Any = None

    # -- helpers --
    def private_name(self, name: str) -> str:
        """An input's file name, with the study's handles in it pseudonymised when the outputs
        are ("twitter-archive-inspector_lane.zip" names the account)."""
        if self.pseudonymiser is None or self.source_study is None:
            return name
        s = self.source_study
        return self.pseudonymiser.names(name, (*s.focal, *s.institution, *s.proxies))

    def write_report(self, inp: Any) -> None:
        """Build the report in the staging folder (run_study swaps it in after the manifest);
        ``report_files`` are the paths the files will have in the output folder."""
        from . import report

        staging = staging_dir(self.out)
        if staging.exists() and self.report_child is None:  # left by a run that was stopped
            shutil.rmtree(staging)
        files = report.write_report(inp, staging, early=self.report_child)
        rel = sorted(p.relative_to(staging) for p in files)
        self.report_files = [self.out / p for p in rel]
        write_json([p.as_posix() for p in rel], self.cache / "report-files.json")
        self.staged = staging

    @property
    def store(self) -> Any:
        from .store import Store

        return Store(self.study.store_dir)

    @property
    def graph_files(self) -> GraphFiles:
        return GraphFiles.in_folder(self.cache)

    @property
    def temp_dir(self) -> Path:
        """Files passed between the processes of one run (removed at its end)."""
        return self.cache / "tmp"

    def tables(self, *, keep_arrow: bool = False) -> dict[str, pd.DataFrame]:
        """The store's tables (:func:`netsupport.stance.read_tables`), read once per run.
        ``keep_arrow``: when this call reads them, keep the stored interactions as read (Arrow)
        for :meth:`write_interactions_arrow`, which asks for them."""
        if self._tables is None:
            from .stance import read_tables

            # read once, only the columns used, strings as (shared) Python objects once: the
            # steps would each convert them again (1M posts cost ~0.5 GB per copy)
            arrow: dict[str, pa.Table] | None = None
            if keep_arrow and self.study.account_map is None and self.pseudonymiser is None:
                arrow = {}  # (the stored interactions are the run's as they are)
            self._tables = {
                Table(k): v for k, v in read_tables(self.study.store_dir, arrow).items()
            }
            self._stored_arrow = (arrow or {}).get(Table.INTERACTIONS.value)
            if self.study.account_map is not None:
                from .accountmap import apply_account_map, load_account_map

                mapping = load_account_map(self.study.account_map)
                self._tables = {
                    Table(k): v for k, v in apply_account_map(self._tables, mapping).items()
                }
            if self.pseudonymiser is not None:  # after the account map: it names real handles
                self._tables = self.pseudonymiser.tables(self._tables)
        return self._tables

    def release_raw_interactions(self) -> None:
        """Drop the raw interactions table once the stance step holds the study's own."""
        if self.stance.interactions is not None and self._tables is not None:
            # the later steps read the study's interactions (self.interactions()), which hold
            # every stored row: the raw table is one more copy (~0.2 GB per 1M rows)
            self._tables[Table.INTERACTIONS] = self._tables[Table.INTERACTIONS].iloc[:0]
            self._interactions = None  # (computed for a communities step in a child)
            self._stored_arrow = self._interaction_rows = None

    def fresh(self, step: str, outputs: Iterable[Path]) -> bool:
        return self.state.fresh(step, self.keys[step], outputs)

    def interactions(self) -> pd.DataFrame:
        """The study's interactions (markers included), computed once per run: the stance
        step's when it ran, else from the tables."""
        from .stance.tables import study_interactions

        if self.stance is not None and self.stance.interactions is not None:
            return self.stance.interactions
        if self._interactions is None:
            tables = self.tables()
            self._interactions, self._interaction_rows = study_interactions(tables, self.study)
            release_arrow_memory()  # (the marker search's lower-cased texts)
        return self._interactions

    def check_resources(self) -> None:
        """Raise ResourceLimit when the store is too big for this engine."""
        self.engine.check_memory(self.store.counts())

    # -- steps --
    def step_import(self, force: bool) -> tuple[str, str]:
        from .ingest import import_inputs

        store_dir = Path(self.study.store_dir)
        marker = store_dir / RUN_STORE_MARKER
        manifest = store_dir / "manifest.json"
        if self.fresh("import", [manifest]):
            status, detail = "reused", "inputs unchanged"
        else:
            if store_dir.exists() and (force or "import" in self.state.data["steps"]):
                if marker.exists():  # ours: rebuild from scratch so removed inputs leave too
                    _empty_run_store(store_dir)
                elif force and any(store_dir.iterdir()):
                    raise StudyError(
                        f"output.store: {store_dir} was not created by netsupport run; "
                        "--force would have to delete it: remove it yourself or point "
                        "output.store elsewhere"
                    )
            if not store_dir.exists() or not any(store_dir.iterdir()):
                # claim the store before its first write, so that a run killed during the
                # import leaves a store the next run knows as its own (and may rebuild)
                store_dir.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(marker, b"")
            summary = import_inputs(
                self.store,
                _input_specs(self.source_study or self.study),
                workers=self.workers or 0,
                progress=self.progress,
            )
            counts = summary.store_counts
            status = "ran"
            detail = (
                f"{counted(counts.get('posts', 0), 'post', 'posts')}, "
                f"{counted(counts.get('interactions', 0), 'interaction', 'interactions')}, "
                f"{counted(summary.total('rejects'), 'rejected row', 'rejected rows')}"
            )
            self.state.forget(*STEPS)
        first, last = self.store.time_span()
        check_data_range(self.study, first, last)
        check_accounts_present(self.source_study or self.study, self.store)
        self.state.record("import", self.keys["import"])
        return status, detail

    def stance_fresh(self) -> bool:
        return self.fresh("stance", self.engine.stance_outputs(self))

    def step_stance(self, force: bool) -> tuple[str, str]:
        _test_point("step-stance")
        if self.stance_fresh():
            return "reused", self.engine.load_stance(self)
        detail = self.engine.compute_stance(self)
        self.state.record("stance", self.keys["stance"])
        return "ran", detail

    def communities_fresh(self) -> bool:
        return self.fresh("communities", self.graph_files.all())

    def _keep_graph_measures(self, measures: tuple[Any, ...]) -> None:
        """Keep the communities step's results (as :func:`read_graph_measures` returns them)."""
        (
            self.membership,
            self.pagerank,
            self.graph_info,
            self.community_runs,
            self.baseline_edges,
        ) = measures

    def _communities_detail(self, status: str) -> tuple[str, str]:
        n_comm = int(self.membership.nunique()) if len(self.membership) else 0
        return status, f"{n_comm:,} communities of {len(self.membership):,} accounts"

    def step_communities(self, force: bool) -> tuple[str, str]:
        if self.communities_fresh():
            self._keep_graph_measures(read_graph_measures(self.graph_files))
            return self._communities_detail("reused")
        measures = self.engine.graph_measures(self)
        self._keep_graph_measures(write_graph_measures(self.graph_files, *measures))
        self.state.record("communities", self.keys["communities"])
        return self._communities_detail("ran")

    def start_communities(self, pool: Any) -> Any:
        """Start the communities step in ``pool``'s child process (pandas engine); return its
        future. The child reads the study's interactions from an Arrow file and writes the
        step's files; :meth:`finish_communities` reads them."""
        path = self.write_interactions_arrow()
        # (kept: the stance step classifies these and keeps them as its own, one copy)
        release_arrow_memory()  # (the Arrow copy written)
        return pool.submit(graph_measures_child, self.study, str(path), self.graph_files)

    def write_interactions_arrow(self) -> Path:
        """Write the study's interactions as an Arrow file for a child process, once per run
        (the communities child's file serves the report's child too)."""
        if self.interactions_arrow is None:
            from .stance.tables import interactions_arrow

            self.tables(keep_arrow=True)  # (when they are read now, the first time)
            frame = self.interactions()
            table = None
            if self._stored_arrow is not None and self._interaction_rows is not None:
                # from the Arrow table read, not the frame's million Python strings again
                table = interactions_arrow(frame, self._interaction_rows, self._stored_arrow)
            self._stored_arrow = self._interaction_rows = None  # (needed for this file only)
            self.interactions_arrow = write_arrow(
                frame if table is None else table, self.temp_dir / "interactions.arrow"
            )
        return self.interactions_arrow

    def start_report_child(self, pool: Any) -> _ReportChild:
        """Start the report's child in ``pool`` (pandas engine): it makes the report's parts
        that read no metric into the staging folder while the metrics step runs."""
        staging = staging_dir(self.out)
        if staging.exists():
            shutil.rmtree(staging)
        path = self.write_interactions_arrow()
        release_arrow_memory()  # (the Arrow copy written)
        # the stance table's CSV as the report writes it; pseudonymised tables: in the report
        stance = self.engine.stance_outputs(self)[0] if self.pseudonymiser is None else None
        future = pool.submit(
            report_parts_child,
            self.study,
            str(path),
            None if stance is None else str(stance),
            str(staging),
            str(self.temp_dir),
        )
        return _ReportChild(pool, future, self.study, self.temp_dir, staging)

    def finish_communities(self, future: Any) -> tuple[tuple[str, str], tuple[float, float]]:
        """Wait for :meth:`start_communities`' child; return the step's (status, detail) and
        the child's (start, end) on the monotonic clock."""
        span = future.result()
        self._keep_graph_measures(read_graph_measures(self.graph_files))
        self.state.record("communities", self.keys["communities"])
        return self._communities_detail("ran"), span

    def _metrics_files(self) -> tuple[Path, Path, Path, Path]:
        # not metrics.json: `netsupport support --study` writes that into this folder
        return (
            self.cache / "run-metrics.json",
            self.cache / "units.parquet",
            self.cache / "tables",
            self.cache / "tables.json",
        )

    def metrics_fresh(self) -> bool:
        metrics_p, units_p, _, index_p = self._metrics_files()
        return self.fresh("metrics", [metrics_p, units_p, index_p])

    def step_metrics(self, force: bool) -> tuple[str, str]:
        metrics_p, units_p, tables_dir, index_p = self._metrics_files()
        if self.metrics_fresh():
            self.metrics = json.loads(metrics_p.read_text(encoding="utf-8"))
            self.units = read_parquet(units_p)
            names = json.loads(index_p.read_text(encoding="utf-8"))
            self.analysis_tables = {n: read_parquet(tables_dir / f"{n}.parquet") for n in names}
            return "reused", "parameters and data unchanged"
        metrics, self.units, tables = self.engine.analyse(self)
        self.metrics = _with_graph_info(metrics, self.graph_info)
        self.analysis_tables = dict(tables)
        write_json(self.metrics, metrics_p)
        write_parquet(self.units, units_p)
        for name, df in self.analysis_tables.items():
            write_parquet(df, tables_dir / f"{name}.parquet")
        write_json(sorted(self.analysis_tables), index_p)
        self.state.record("metrics", self.keys["metrics"])
        return "ran", f"{sum(1 for _ in _measured_leaves(self.metrics)):,} numbers"

    def _previous_report(self) -> list[Path]:
        """The files the previous run's report wrote (as its listing says), if any."""
        listing = self.cache / "report-files.json"
        if not listing.is_file():
            return []
        return [self.out / p for p in json.loads(listing.read_text(encoding="utf-8"))]

    def report_fresh(self) -> bool:
        previous = self._previous_report()
        listing = self.cache / "report-files.json"
        return bool(previous) and self.fresh("report", [listing, *previous])

    def step_report(self, force: bool) -> tuple[str, str]:
        if self.report_fresh():
            self.report_files = self._previous_report()
            return "reused", "metrics unchanged"
        counts = self.store.counts()
        inputs = [
            {"path": self.private_name(_relative(f, self.study)), **v}
            for f, v in sorted(self._input_records().items())
        ]
        inp = self.engine.report_inputs(
            self, inputs, {t.value: int(counts.get(t.value, 0)) for t in _TABLES}
        )
        self.write_report(inp)
        _test_point("report-written")
        self.state.record("report", self.keys["report"])
        return "ran", counted(len(self.report_files), "file", "files")

    def _input_records(self) -> dict[str, dict[str, Any]]:
        files = input_files(self.study, self.state.data.get("files", {}))
        return {
            f["path"]: {"format": f["format"], "bytes": f["bytes"], "sha256": f["sha256"]}
            for f in files
        }


def _test_point(name: str) -> None:
    """The crash-test hook of :func:`netsupport.store._test_point`, at the steps of a run:
    ``step-stance`` (the stance step starts), ``report-written`` (the report built in its
    staging folder, not yet recorded), ``before-swap`` (not yet swapped in)."""
    from .store import _test_point as kill_here

    kill_here(name)


def _empty_run_store(store_dir: Path) -> None:
    """Delete everything in a store ``netsupport run`` created except its marker, which stays:
    a run killed while deleting leaves a store still marked as the run's own."""
    for entry in store_dir.iterdir():
        if entry.name == RUN_STORE_MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _with_graph_info(metrics: dict[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """Put back the method records analyse writes when it detects communities and PageRank itself.

    Given a precomputed membership and PageRank, support.analyse records only the requested
    algorithm, resolution and seed; the engine, modularity and graph sizes come from the
    communities step, so metrics.json is the same as `netsupport support` writes.
    """
    out = dict(metrics)
    mob = out.get("mobilisation")
    if isinstance(mob, dict) and mob.get("status") != "not measured" and info.get("communities"):
        out["mobilisation"] = {**mob, **info["communities"]}
    amp = out.get("amplifiers")
    if isinstance(amp, dict) and amp.get("status") != "not measured" and info.get("pagerank"):
        out["amplifiers"] = {**amp, "graph": dict(info["pagerank"])}
    return jsonable(out)


def _measured_leaves(obj: Any) -> Iterable[Any]:
    if isinstance(obj, Mapping):
        if obj.get("status") == "not measured":
            return
        for v in obj.values():
            yield from _measured_leaves(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _measured_leaves(v)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield obj
