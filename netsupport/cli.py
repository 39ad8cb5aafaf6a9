"""The netsupport command line: thin Typer commands over the library.

Every command parses its options, calls one library function and renders the result. Library
errors (``NetsupportError``) become one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import NetsupportError, Terminated
from .wording import counted, unmatched_labels


def _os_error_message(exc: OSError) -> str:
    """Return ``PATH: reason`` for an OSError, saying so when a file stands where a folder must."""
    if exc.filename is None:
        return str(exc)
    path = Path(exc.filename)
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        # (what stands where a folder must: a file, or a device such as /dev/null)
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            what = "a file" if blocker.is_file() else "not a folder"
            if blocker == path:
                reason = "a file, not a folder" if blocker.is_file() else "not a folder"
            else:
                reason = f"{blocker} is {what}"
    return f"{path}: {reason}"


#: Characters --help would eat: rich_markup_mode="markdown" renders help as Markdown, where
#: ``<output dir>`` is an HTML tag (dropped) and ``[x]`` may start a link.
_HELP_SPECIAL = re.compile(r"([<>\[\]])")


def _literal_help(text: str | None) -> str | None:
    """Return help text with Markdown's special characters escaped, so --help shows it as
    written (``default: <output dir>/stance.csv`` was shown as ``/stance.csv``)."""
    return None if text is None else _HELP_SPECIAL.sub(r"\\\1", text)


#: What typer says when a Path option's file is missing or of the wrong kind.
_PATH_PROBLEM = re.compile(
    r"(?i:file|directory|path) '(?P<path>.+)' (?P<why>does not exist|is a file|is a directory|"
    r"is not readable|is not writable)\.",
    re.S,
)


def _path_problem(exc: typer.BadParameter) -> str | None:
    """Return ``PATH: option: reason`` for a file option naming a missing file or a folder (the
    README's one-line error; click printed a usage box), None for other bad values."""
    m = _PATH_PROBLEM.fullmatch(str(exc.message))
    if m is None:
        return None
    opts = getattr(exc.param, "opts", None) or []
    option = f"{opts[0]}: " if opts and opts[0].startswith("-") else ""
    return f"{m['path']}: {option}{m['why']}"


class _Group(TyperGroup):
    """Translate library errors into one line on stderr and exit code 2 (no traceback).

    Every command's help and option help is escaped once here (:func:`_literal_help`).
    """

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for cmd in self.commands.values():
            cmd.help = _literal_help(cmd.help)
            for param in cmd.params:
                if isinstance(getattr(param, "help", None), str):
                    param.help = _literal_help(param.help)

    def make_context(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # (typer turns a Ctrl-C while it parses the command line, before invoke, into exit
        # 130 with nothing said, and a SIGTERM into the same)
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt as exc:
            _say_stopped(exc)

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            line = _path_problem(exc)
            if line is None:
                raise  # a mistyped option value: click's usage and the problem
            typer.echo(f"error: {line}", err=True)
            raise typer.Exit(2) from None
        except NetsupportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except OSError as exc:  # a path that cannot be read or written: not a folder, disk full
            typer.echo(f"error: {_os_error_message(exc)}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt as exc:
            _say_stopped(exc)


def _say_stopped(exc: KeyboardInterrupt) -> NoReturn:
    """One line and the shell's exit code for Ctrl-C (130) or SIGTERM (143, see
    :func:`netsupport.__main__.stop_on_sigterm`)."""
    if isinstance(exc, Terminated):
        typer.echo("error: terminated", err=True)
        raise typer.Exit(143) from None
    typer.echo("error: interrupted", err=True)
    raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # posts are personal data: keep them out of tracebacks
    rich_markup_mode="markdown",  # reflow docstring paragraphs in --help
    help="Measure who stands by an account in a crisis, how strongly, and what happens to the "
    "institution around it.",
)


def _folder(param: typer.CallbackParam, path: Path | None) -> Path | None:
    """Refuse a folder option that names a file with the one-line error (click's own
    ``file_okay=False`` check printed a usage box, issue 14 item 22)."""
    if path is not None and path.exists() and not path.is_dir():
        raise NetsupportError(f"{path}: {param.opts[0]} needs a folder, not a file")
    return path


# Shared options, defined once.
StoreOpt = Annotated[
    Path,
    typer.Option("--store", help="Store directory (Parquet tables).", callback=_folder),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
StudyOpt = Annotated[
    Path,
    typer.Option("--study", help="Study file (study.toml).", exists=True, dir_okay=False),
]

CrisisOpt = Annotated[
    tuple[str, str] | None,
    typer.Option(
        "--crisis",
        metavar="START END",
        help="Crisis start and end with a time zone (e.g. 2014-02-14T09:00Z), instead of --study.",
    ),
]
BaselineDaysOpt = Annotated[
    float,
    typer.Option("--baseline-days", help="Baseline length before the crisis (with --crisis)."),
]
AfterDaysOpt = Annotated[
    float, typer.Option("--after-days", help="After-window length (with --crisis).")
]


def _crisis_windows(crisis: tuple[str, str] | None, baseline_days: float, after_days: float):
    """Return Windows from --crisis START END and the baseline/after lengths, or None."""
    from .windows import Windows

    if crisis is None:
        return None
    return Windows.from_crisis(crisis[0], crisis[1], baseline_days, after_days)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netsupport {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Measure who stands by an account in a crisis, and what happens to the institution."""


# ---- commands: import / info (io + store) -------------------------------------------------------


class ImportFormat(StrEnum):
    """Input formats of ``netsupport import``."""

    AUTO = "auto"
    TWITTER_V2 = "twitter-v2"
    TWITTER_ARCHIVE = "twitter-archive"
    CSV = "csv"
    NODEXL = "nodexl"
    FOLLOWERS = "followers"
    ACCOUNTS = "accounts"
    MASTODON = "mastodon"
    TELEGRAM = "telegram"
    BLUESKY = "bluesky"
    REDDIT = "reddit"


class FollowDirection(StrEnum):
    """Whether a follower list holds the account's followers or the accounts it follows."""

    FOLLOWERS = "followers"
    FOLLOWING = "following"


class SampleBy(StrEnum):
    """What the coding sheet's probability sample draws: posts, or accounts with all their posts."""

    POST = "post"
    ACCOUNT = "account"


def _parse_map(items: list[str] | None) -> list[tuple[str, str]]:
    pairs = []
    for item in items or []:
        col, sep, fld = item.partition("=")
        if not sep or not col.strip() or not fld.strip():
            raise typer.BadParameter(f"{item!r}: expected COL=FIELD", param_hint="--map")
        pairs.append((col.strip(), fld.strip()))
    return pairs


class _ProgressBar:
    """A rich progress bar on stderr for files of 8 MB or more."""

    MIN_BYTES = 8 * 1024**2

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = None

    def start_file(self, path: str, total_bytes: int) -> None:
        if total_bytes >= self.MIN_BYTES:
            self.progress.start()
            self.task = self.progress.add_task(Path(path).name, total=total_bytes)

    def advance(self, nbytes: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, nbytes)

    def end_file(self) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.progress.stop()
            self.task = None


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders to import (a folder: its files in name order)."),
    ],
    store: StoreOpt,
    format: Annotated[
        ImportFormat,
        typer.Option("--format", "-f", help="Input format; auto detects it from each file."),
    ] = ImportFormat.AUTO,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COL=FIELD",
            help="CSV column to canonical field, e.g. --map 'Screen Name=author' (repeatable).",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="For follower lists: the account whose list it is."),
    ] = None,
    direction: Annotated[
        FollowDirection,
        typer.Option("--direction", help="For follower lists: followers or following."),
    ] = FollowDirection.FOLLOWERS,
    header: Annotated[
        bool,
        typer.Option(
            "--header/--no-header",
            help="CSV: --no-header when the first row is data; its columns are then named by "
            "position for --map (--map 0=source --map 1=target); lines starting with # are "
            "comments. Space-separated edge lists are read too.",
        ),
    ] = True,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="NAME,NAME,...",
            help="CSV without a header: its column names, e.g. source,target,created_at,kind "
            "(implies --no-header).",
        ),
    ] = None,
    max_archive_bytes: Annotated[
        int,
        typer.Option(
            "--max-archive-bytes", min=1, help="Cap on bytes decompressed from one archive."
        ),
    ] = 2 * 1024**3,
    max_compression_ratio: Annotated[
        float,
        typer.Option(
            "--max-compression-ratio",
            min=0,
            help="Refuse an archive member inflating past 8 MiB at more than this ratio "
            "(zip-bomb guard; 0: no limit).",
        ),
    ] = 100.0,
    workers: Annotated[
        int,
        typer.Option("--workers", min=0, help="Processes for large JSON-lines files (0: auto)."),
    ] = 0,
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance",
            help="Mastodon API statuses: the instance host, for local accounts named without one.",
        ),
    ] = None,
    handles: Annotated[
        Path | None,
        typer.Option(
            "--handles",
            help="Bluesky: a CSV with the header did,handle giving the handle shown for each DID.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Import exported posts, follower lists and accounts into a store.

    Formats: Twitter API v2/v1.1 JSON (twarc2), Twitter archives (zip or folder), CSV with
    --map, NodeXL edge lists, follower lists, accounts CSV, Mastodon archives and API statuses,
    Telegram Desktop exports, Bluesky (Jetstream events, repository CAR files), Reddit
    (Pushshift/Arctic Shift dumps); any of them gzip, zstd, bzip2 or xz compressed. Bad rows go
    to the store's rejects table; a file that cannot be read at all stops the import and leaves
    the store unchanged.
    Re-importing a file already imported does nothing; the same file with another --map,
    --account, --direction or --instance is refused (its rows are in the store already).
    """
    from .ingest import format_summary, import_paths
    from .store import Store

    summary = import_paths(
        Store(store),
        paths,
        format.value,
        _parse_map(map_),
        account,
        direction.value,
        workers=workers,
        progress=_ProgressBar() if sys.stderr.isatty() else None,
        max_archive_bytes=max_archive_bytes,
        max_compression_ratio=max_compression_ratio,
        header=header,
        columns=tuple(c.strip() for c in columns.split(",")) if columns else (),
        instance=instance,
        handles=handles,
    )
    typer.echo(format_summary(summary))


@app.command("info")
def info_command(
    store: StoreOpt,
    top: Annotated[int, typer.Option("--top", min=0, help="How many top authors to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show what a store holds: rows per table, time span, top authors, imported files."""
    from .ingest import format_info
    from .store import Store
    from .textsafe import dumps_json, neutralise_bidi

    info = Store(store).summary(top=top)
    typer.echo(dumps_json(info) if as_json else neutralise_bidi(format_info(info)))


# ---- commands: graph / communities --------------------------------------------------------------

_GcStoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store directory (default: the study's store).", callback=_folder),
]
_GcStudyOpt = Annotated[
    Path | None,
    typer.Option(
        "--study",
        help="Study file: gives the windows, the store and community defaults.",
        exists=True,
        dir_okay=False,
    ),
]
_GcWindowOpt = Annotated[
    str | None,
    typer.Option(
        "--window",
        help="baseline, crisis or after (needs --study or --crisis). Default: all interactions.",
    ),
]
_GcKindsOpt = Annotated[
    str | None,
    typer.Option(
        "--kinds",
        help="Comma-separated kinds: reply,mention,repost,quote,follow,marker,like. Default: all "
        "(graph), all but marker (communities).",
    ),
]
_GcAlgorithmOpt = Annotated[
    str | None,
    typer.Option(
        "--algorithm",
        help="auto (default: python-louvain, or igraph multilevel above 200k edges / 100k nodes), "
        "louvain (python-louvain), leiden or multilevel (igraph, fast).",
    ),
]
_GcResolutionOpt = Annotated[
    float | None, typer.Option("--resolution", help="Modularity resolution (default 1).")
]
_GcSeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (default 42).")]


def _gc_context(store, study, crisis, baseline_days, after_days, window):
    """Resolve store, windows, window and the study's community defaults from the options."""
    from .errors import NetsupportError
    from .schema import Window
    from .store import Store
    from .studyfile import CommunityParams, load_study

    loaded = load_study(study) if study is not None else None
    if loaded is not None and crisis is not None:
        raise NetsupportError("give --study or --crisis, not both")
    windows = loaded.windows if loaded is not None else None
    if crisis is not None:
        windows = _crisis_windows(crisis, baseline_days, after_days)
    if store is None:
        if loaded is None:
            raise NetsupportError("--store is required (or --study, whose store is used)")
        store = loaded.store_dir
    st = Store(store)
    if not st.exists():
        raise NetsupportError(f"{store}: no store here; import data first (netsupport import)")
    win = None
    if window is not None:
        try:
            win = Window(window.strip().lower())
        except ValueError:
            raise NetsupportError(
                f"--window {window!r}: expected baseline, crisis or after"
            ) from None
        if windows is None:
            raise NetsupportError("--window needs --study or --crisis START END")
    if loaded is not None:
        _check_handles(loaded, st.root, from_study=True)
    params = loaded.communities if loaded is not None else CommunityParams()
    return st, windows, win, params


def _check_handles(spec, store_dir, from_study: bool) -> None:
    """Refuse a focal (or institution) handle that appears nowhere in the store, as `run` does
    (`stance --focal nosuchuser` wrote 0 interactions with exit 0; issue 14 item 21)."""
    from .store import Store
    from .study import check_accounts_present

    store = Store(store_dir)
    if store.exists():  # no store: the command's own error says so
        keys = ("focal", "institution") if from_study else ("--focal", "--institution")
        check_accounts_present(spec, store, keys)


def _gc_say_window(windows, window) -> None:
    if window is None:
        typer.echo("using all interactions in the store (no --window)", err=True)
    else:
        start, end = windows.bounds(window)
        typer.echo(f"window {window.value}: [{start.isoformat()}, {end.isoformat()})", err=True)


@app.command("graph")
def graph_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output file: .gexf (Gephi), .graphml or .csv (edges; nodes go to "
            "<name>.nodes.csv).",
            dir_okay=False,
        ),
    ],
    store: _GcStoreOpt = None,
    study: _GcStudyOpt = None,
    crisis: CrisisOpt = None,
    baseline_days: BaselineDaysOpt = 14.0,
    after_days: AfterDaysOpt = 14.0,
    window: _GcWindowOpt = None,
    kinds: _GcKindsOpt = None,
    dynamic: Annotated[
        bool,
        typer.Option(
            "--dynamic",
            help="One GEXF with a spell per window (baseline, crisis, after) for Gephi's timeline.",
        ),
    ] = False,
    communities: Annotated[
        bool,
        typer.Option("--communities/--no-communities", help="Add a community attribute."),
    ] = True,
    algorithm: _GcAlgorithmOpt = None,
    resolution: _GcResolutionOpt = None,
    seed: _GcSeedOpt = None,
    gexf_max_edges: Annotated[
        int | None,
        typer.Option(
            "--gexf-max-edges",
            min=1,
            help="With --dynamic: above this many edges (source-target pairs over the three "
            "windows) write the crisis window only [default: the study's output.gexf_max_edges, "
            "else 250000].",
        ),
    ] = None,
) -> None:
    """Write the interaction graph of a window for Gephi (GEXF 1.3), as GraphML or as CSV.

    Interactions are aggregated into weighted edges (a count per kind, weight = total). Nodes
    carry community, role, in/out degree, weighted degree and PageRank; edges carry kind, counts
    and weight. --dynamic writes the three windows as spells in one GEXF.
    """
    from .communities import export_window_graph
    from .schema import Table

    st, windows, win, params = _gc_context(store, study, crisis, baseline_days, after_days, window)
    if not dynamic:
        _gc_say_window(windows, win)
    if gexf_max_edges is None:
        from .gexfout import DEFAULT_GEXF_MAX_EDGES
        from .studyfile import load_study

        gexf_max_edges = (
            load_study(study).gexf_max_edges if study is not None else DEFAULT_GEXF_MAX_EDGES
        )
    if study is not None:
        from .outdir import check_not_read_by
        from .studyfile import load_study

        check_not_read_by(load_study(study), [out, out.with_name(f"{out.stem}.nodes.csv")])
    result = export_window_graph(
        st.read(Table.INTERACTIONS),
        out,
        windows=windows,
        window=win,
        kinds=kinds,
        accounts=st.read(Table.ACCOUNTS),
        dynamic=dynamic,
        algorithm=(algorithm or params.algorithm) if communities else None,
        resolution=resolution if resolution is not None else params.resolution,
        seed=seed if seed is not None else params.seed,
        gexf_max_edges=gexf_max_edges,
    )
    for note in result.notes:
        typer.echo(note, err=True)
    extra = ""
    if result.partition is not None:
        extra = (
            f", {counted(result.partition.n_communities, 'community', 'communities')} "
            f"({result.partition.algorithm}, modularity {result.partition.modularity:.3f})"
        )
    typer.echo(
        f"graph: {counted(result.n_nodes, 'node', 'nodes')}, "
        f"{counted(result.n_edges, 'edge', 'edges')}{extra}",
        err=True,
    )
    for path in result.paths:
        typer.echo(str(path))


@app.command("communities")
def communities_command(
    store: _GcStoreOpt = None,
    study: _GcStudyOpt = None,
    crisis: CrisisOpt = None,
    baseline_days: BaselineDaysOpt = 14.0,
    after_days: AfterDaysOpt = 14.0,
    window: _GcWindowOpt = None,
    kinds: _GcKindsOpt = None,
    algorithm: _GcAlgorithmOpt = None,
    resolution: _GcResolutionOpt = None,
    seed: _GcSeedOpt = None,
    runs: Annotated[
        int | None,
        typer.Option(
            "--runs",
            min=1,
            help="Runs with seeds seed..seed+N-1; N >= 2 reports stability (mean pairwise NMI, "
            "share of nodes in the same community every run).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for nodes.csv, communities.csv and communities.json.",
            callback=_folder,
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=0, help="Communities to print (largest first).")
    ] = 20,
) -> None:
    """Detect communities in the interaction graph of a window and print a table of them.

    Deterministic: the same interactions (in any order) and seed give the same communities,
    numbered by size. Default kinds: all but marker. With --out, writes nodes.csv (community,
    degrees, PageRank, role per account), communities.csv (size, internal/external weight,
    modularity share, top members and hashtags, share with a known role) and communities.json.
    """
    import pandas as pd

    from .communities import DEFAULT_KINDS, analyse_communities, write_community_outputs
    from .schema import PostCol, Table
    from .textsafe import neutralise_bidi

    st, windows, win, params = _gc_context(store, study, crisis, baseline_days, after_days, window)
    _gc_say_window(windows, win)
    analysis = analyse_communities(
        st.read(Table.INTERACTIONS),
        windows=windows,
        window=win,
        kinds=kinds if kinds is not None else DEFAULT_KINDS,
        algorithm=algorithm or params.algorithm,
        resolution=resolution if resolution is not None else params.resolution,
        seed=seed if seed is not None else params.seed,
        runs=runs if runs is not None else params.runs,
        accounts=st.read(Table.ACCOUNTS),
        posts=st.read(Table.POSTS, columns=[PostCol.AUTHOR.value, PostCol.HASHTAGS.value]),
    )
    for note in analysis.notes:
        typer.echo(note, err=True)
    part = analysis.partition
    typer.echo(
        f"{part.algorithm}: {counted(part.n_communities, 'community', 'communities')}, "
        f"modularity {part.modularity:.4f} "
        f"({counted(analysis.info['n_nodes'], 'account', 'accounts')}, "
        f"{counted(analysis.info['n_edges'], 'edge', 'edges')})",
        err=True,
    )
    if analysis.stability is not None:
        s = analysis.stability
        typer.echo(
            f"stability over {counted(s['runs'], 'seed', 'seeds')}: mean pairwise NMI "
            f"{s['mean_pairwise_nmi']:.3f}, "
            f"{s['share_stable_nodes']:.1%} of accounts in the same community every run",
            err=True,
        )
    shown = analysis.table.head(top)
    if len(shown):
        with pd.option_context("display.width", 200, "display.max_colwidth", 40):
            typer.echo(neutralise_bidi(shown.round(4).to_string(index=False)))
    if len(analysis.table) > len(shown):
        typer.echo(f"... {len(analysis.table) - len(shown):,} more communities", err=True)
    if out is not None:
        for path in write_community_outputs(analysis, out):
            typer.echo(f"wrote {path}", err=True)


# ---- commands: stance / support -----------------------------------------------------------------

_SsStudyOpt = Annotated[
    Path | None,
    typer.Option(
        "--study",
        help="Study file: focal, institution, windows, markers, lexicon, labels and the store.",
        exists=True,
        dir_okay=False,
    ),
]
_SsStoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store directory (default: the study's store).", callback=_folder),
]
_SsFocalOpt = Annotated[
    list[str] | None,
    typer.Option("--focal", help="Focal account handle (repeat for aliases), instead of --study."),
]
_SsInstitutionOpt = Annotated[
    list[str] | None,
    typer.Option("--institution", help="Institution handle (repeatable), instead of --study."),
]
_SsLexiconOpt = Annotated[
    Path | None,
    typer.Option(
        "--lexicon", help="Study lexicon TOML (extends the default).", exists=True, dir_okay=False
    ),
]
_SsLabelsOpt = Annotated[
    Path | None,
    typer.Option(
        "--labels",
        help="Hand labels CSV (post_id, [target_side,] stance).",
        exists=True,
        dir_okay=False,
    ),
]
_SsMarkerOpt = Annotated[
    list[str] | None,
    typer.Option("--marker", help="Marker hashtag or phrase addressing the focal account."),
]
_SsWorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Processes for scoring texts (default: all cores)."),
]


def _ss_study(
    *,
    study,
    store,
    focal,
    institution,
    crisis,
    baseline_days,
    after_days,
    lexicon,
    labels,
    marker,
    need_windows: bool,
):
    """Return (Study or StanceSpec, store dir, output dir) from --study or the ad-hoc options."""
    import dataclasses

    from .errors import NetsupportError
    from .outdir import work_dir
    from .schema import normalise_handle
    from .stance import StanceSpec
    from .studyfile import StanceParams, Study, both_sides, load_study

    if study is not None:
        if focal or institution or crisis:
            raise NetsupportError("give --study or --focal/--institution/--crisis, not both")
        s = load_study(study)
        stance = s.stance
        if lexicon is not None or labels is not None:
            stance = dataclasses.replace(
                stance, lexicon=lexicon or stance.lexicon, labels=labels or stance.labels
            )
        s = dataclasses.replace(s, stance=stance, markers=s.markers + tuple(marker or ()))
        # not the report folder: a run replaces it whole and refuses files it did not write
        return s, store or s.store_dir, work_dir(s.output_dir)
    if store is None:
        raise NetsupportError("--store is required without --study")
    handles = tuple(h for h in (normalise_handle(x) for x in focal or []) if h)
    if not handles:
        raise NetsupportError("--focal is required without --study (the account at the centre)")
    inst = tuple(h for h in (normalise_handle(x) for x in institution or []) if h)
    if clash := both_sides(handles, inst):
        raise NetsupportError(f"--focal, --institution: {clash}")
    windows = _crisis_windows(crisis, baseline_days, after_days)
    if need_windows and windows is None:
        raise NetsupportError("--crisis START END is required without --study")
    params = StanceParams(lexicon=lexicon, labels=labels)
    marks = tuple(m.strip().lower() for m in marker or () if m.strip())
    if windows is None:
        return StanceSpec(handles, inst, marks, None, params), store, Path(".")
    s = Study(
        name="adhoc",
        focal=handles,
        institution=inst,
        windows=windows,
        inputs=(),
        markers=marks,
        stance=params,
        store_dir=store,
        output_dir=Path("."),
    )
    return s, store, Path(".")


def _ss_table(title: str, columns: list[str], rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    table = RichTable(title=title, title_justify="left")
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right", overflow="fold")
    for r in rows:
        table.add_row(*r)
    Console(soft_wrap=False, width=110).print(table)


@app.command("stance")
def stance_command(
    study: _SsStudyOpt = None,
    store: _SsStoreOpt = None,
    focal: _SsFocalOpt = None,
    institution: _SsInstitutionOpt = None,
    crisis: CrisisOpt = None,
    baseline_days: BaselineDaysOpt = 14.0,
    after_days: AfterDaysOpt = 14.0,
    lexicon: _SsLexiconOpt = None,
    labels: _SsLabelsOpt = None,
    marker: _SsMarkerOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="stance.csv to write (default: <output dir>.netsupport/stance.csv with --study, "
            "else ./stance.csv).",
            dir_okay=False,
        ),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            min=1,
            help="Also write a blank coding sheet: a probability sample of N posts (N accounts "
            "with --sample-by account), stratified by window x stance, with each row's "
            "inclusion probability.",
        ),
    ] = None,
    sample_by: Annotated[
        SampleBy,
        typer.Option(
            "--sample-by",
            help="What --sample draws: posts, or accounts with every post they addressed to "
            "one side in one window (coded whole, so the account-level correction rests on "
            "every drawn account).",
        ),
    ] = SampleBy.POST,
    active: Annotated[
        int,
        typer.Option(
            "--active",
            min=0,
            help="Add the K posts the classifier is least sure of to the coding sheet (marked "
            "sample=active: for training, not estimation).",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --sample draw.")] = 42,
    sample_out: Annotated[
        Path | None,
        typer.Option(
            "--sample-out", help="Coding sheet path (default: <out>.coding.csv).", dir_okay=False
        ),
    ] = None,
    workers: _SsWorkersOpt = None,
) -> None:
    """Classify every interaction towards the focal account and the institution.

    Writes stance.csv (post_id, source, target, kind, created_at, window, target_side, stance,
    score, rule) so each decision can be audited; rule says what decided it: label, repost,
    lexicon:<phrase>, marker:<tag>, victim:<word>, two-target:<phrase>, aimed-elsewhere,
    neutral:<phrase>, sympathy:<phrase>, event:<word>, question, vader or no-text. With
    --sample N, also writes a blank coding sheet (N posts, or with --sample-by account N
    accounts with all their posts); fill its stance column (or one stance_<coder>
    column per coder) and give it back as the study's labels CSV (or --labels) to override and
    to measure the classifier's agreement (accuracy, macro-F1, Cohen's kappa) and the coders'
    (Krippendorff's alpha; disagreements to <out>.disagreements.csv). With 50 or more hand
    codes a stance model trained on them decides every post not coded (rule model, score = its
    probability), and stance.validation.json beside the CSV gives the cross-validated error and
    every share naive and error-corrected with a 95% interval (windows needed: --crisis or
    --study).
    """
    from .stance import STANCE_ORDER, read_tables, run_stance

    spec, store_dir, out_dir = _ss_study(
        study=study,
        store=store,
        focal=focal,
        institution=institution,
        crisis=crisis,
        baseline_days=baseline_days,
        after_days=after_days,
        lexicon=lexicon,
        labels=labels,
        marker=marker,
        need_windows=False,
    )
    _check_handles(spec, store_dir, from_study=study is not None)
    target = out if out is not None else Path(out_dir) / "stance.csv"
    tables = read_tables(store_dir)
    summary = run_stance(
        tables,
        spec,
        target,
        sample=sample,
        seed=seed,
        sample_out=sample_out,
        workers=workers,
        active=active,
        sample_by=sample_by.value,
    )
    typer.echo(
        f"wrote {counted(summary['interactions'], 'interaction', 'interactions')} "
        f"to {summary['out']}",
        err=True,
    )
    if "sample_out" in summary:
        drawn = (
            f" (every post of {counted(summary['sample_accounts'], 'account', 'accounts')} drawn)"
            if sample_by is SampleBy.ACCOUNT
            else ""
        )
        typer.echo(
            f"wrote a coding sheet of {counted(summary['sample'], 'post', 'posts')}{drawn} "
            f"to {summary['sample_out']}",
            err=True,
        )
    _echo_validation(summary)
    rows = [
        (side, *(str(summary["by_side"][side][s]) for s in STANCE_ORDER))
        for side in summary["by_side"]
    ]
    _ss_table("Stance of interactions", ["target", *STANCE_ORDER], rows)
    agree = summary["agreement"]
    if "accuracy" in agree:
        kappa = "undefined" if agree["kappa"] is None else f"{agree['kappa']:.3f}"
        typer.echo(
            f"the rules' agreement with {counted(agree['n'], 'hand label', 'hand labels')}: "
            f"accuracy {agree['accuracy']:.3f}, macro-F1 {agree['macro_f1']:.3f}, "
            f"Cohen's kappa {kappa}"
        )
    _echo_label_checks(agree, summary.get("disagreements_out"))


def _echo_label_checks(agree: dict, disagreements_out: Path | None) -> None:
    """Print the labels' match warning and the coders' agreement (stderr / stdout)."""
    matched = agree.get("labels_matched") or {}
    if matched.get("unmatched"):
        typer.echo(
            "warning: "
            + unmatched_labels(matched["unmatched"], matched["labels"])
            + f" (e.g. post {', '.join(matched['unmatched_ids'][:3])})",
            err=True,
        )
    coders = agree.get("coders")
    if coders:
        alpha = "undefined" if coders["alpha"] is None else f"{coders['alpha']:.3f}"
        typer.echo(
            f"coders {', '.join(coders['coders'])}: Krippendorff's alpha {alpha} on "
            f"{counted(coders['items'], 'item', 'items')}, "
            f"{counted(len(coders['disagreements']), 'disagreement', 'disagreements')} "
            f"({counted(coders['unresolved'], 'unresolved tie', 'unresolved ties')}, not used)"
            + (f"; listed in {disagreements_out}" if disagreements_out else "")
        )


def _echo_validation(summary: dict) -> None:
    """Say on stderr how stance was decided and where its validation went."""
    model = summary.get("model") or {}
    if model.get("status") == "model":
        typer.echo(
            f"stance model trained on {counted(model['labels'], 'hand code', 'hand codes')} "
            f"({model['layout']})",
            err=True,
        )
    elif model.get("reason"):
        typer.echo(f"stance: {model['reason']}", err=True)
    if "validation_out" in summary:
        v = summary["validation"]
        cv = v.get("cross_validated") or {}
        figures = f"accuracy {cv['accuracy']:.3f}, macro-F1 {cv['macro_f1']:.3f}; " if cv else ""
        typer.echo(
            f"wrote the validation ({counted(v['labels'], 'code', 'codes')}, cross-validated "
            f"{figures}{counted(len(v['shares']), 'corrected share', 'corrected shares')}) "
            f"to {summary['validation_out']}",
            err=True,
        )
        if v.get("shares_status"):
            typer.echo(f"stance: {v['shares_status']}", err=True)


@app.command("support")
def support_command(
    study: _SsStudyOpt = None,
    store: _SsStoreOpt = None,
    focal: _SsFocalOpt = None,
    institution: _SsInstitutionOpt = None,
    crisis: CrisisOpt = None,
    baseline_days: BaselineDaysOpt = 14.0,
    after_days: AfterDaysOpt = 14.0,
    lexicon: _SsLexiconOpt = None,
    labels: _SsLabelsOpt = None,
    marker: _SsMarkerOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="metrics.json to write (default: <output dir>.netsupport/metrics.json with "
            "--study, else ./metrics.json).",
            dir_okay=False,
        ),
    ] = None,
    workers: _SsWorkersOpt = None,
) -> None:
    """Measure the support around the focal account and the institution; write metrics.json.

    Attention and its lift (crisis / baseline, exact Poisson rate-ratio interval), supportive /
    critical / neutral shares and net support (bootstrap over accounts), reputational change
    of the focal account beside the institution's, prior-tie supporters vs newcomers, community
    mobilisation and breadth, amplifiers (PageRank), proxies during the focal account's silence,
    roles and persistence. Prints the headline table; METHODS.md defines every measure.
    """
    from .pseudonym import pseudonymised
    from .stance import read_tables
    from .store import Store
    from .support import headline_rows, run_support
    from .support.coverage import input_spans

    spec, store_dir, out_dir = _ss_study(
        study=study,
        store=store,
        focal=focal,
        institution=institution,
        crisis=crisis,
        baseline_days=baseline_days,
        after_days=after_days,
        lexicon=lexicon,
        labels=labels,
        marker=marker,
        need_windows=True,
    )
    _check_handles(spec, store_dir, from_study=study is not None)
    target = out if out is not None else Path(out_dir) / "metrics.json"
    from .outdir import check_not_read_by

    check_not_read_by(spec, [target])
    spans = input_spans(Store(store_dir).imported_files())  # each input's time span
    tables, spec, spans = pseudonymised(read_tables(store_dir), spec, spans)
    metrics = run_support(tables, spec, target, workers=workers, spans=spans)
    typer.echo(f"wrote {target}", err=True)
    _ss_table(
        f"Support: {metrics['study']['name']}",
        ["measure", "focal", "institution"],
        headline_rows(metrics),
    )
    agree = (metrics.get("stance") or {}).get("agreement")
    if isinstance(agree, dict):
        _echo_label_checks(agree, None)


# ---- commands: synth ----------------------------------------------------------------------------


@app.command("synth")
def synth_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the case into.", callback=_folder)
    ],
    seed: SeedOpt = 42,
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.")] = 5000,
    interactions: Annotated[
        int, typer.Option("--interactions", help="Number of posts (tweets) to generate.")
    ] = 50000,
    days: Annotated[
        int, typer.Option("--days", help="Length of the baseline and of the after window.")
    ] = 14,
    focal_share: Annotated[
        float,
        typer.Option("--focal-share", help="Share of the posts that address the focal account."),
    ] = 0.08,
    name: Annotated[str, typer.Option("--name", help="Study name in study.toml.")] = "synthetic",
    report_dir: Annotated[
        str | None,
        typer.Option("--report-dir", help="Report folder written to study.toml, relative to it."),
    ] = None,
    platforms: Annotated[
        bool,
        typer.Option(
            "--platforms",
            help="Also write the case as Mastodon statuses, a Telegram export, Bluesky "
            "Jetstream events and Reddit dumps, with a study for each and a cross-platform study.",
        ),
    ] = False,
) -> None:
    """Write a synthetic case study with planted truth, in every import format.

    A fictional police inspector (@inspector_lane) is suspended by his force (@northshire_police)
    mid-way through the data; communities, stances, proxies and the attention lift are planted
    and written to truth.json beside the inputs, with a ready-to-run study.toml. The same options
    give the same bytes.
    """
    from .synth import SynthConfig, synthesize

    config = SynthConfig(
        seed=seed,
        accounts=accounts,
        interactions=interactions,
        days=days,
        focal_share=focal_share,
        name=name,
        report_dir=report_dir,
    )
    config.check()  # (before the line saying what it generates)
    typer.echo(
        f"generating {counted(interactions, 'post', 'posts')} by "
        f"{counted(accounts, 'account', 'accounts')} ...",
        err=True,
    )
    result = synthesize(out, config, platforms=platforms)
    for file, size in result.files:
        typer.echo(f"{size:>12,}  {out / file}")
    typer.echo(f"next: netsupport run {result.study}", err=True)


# ---- commands: run / report ---------------------------------------------------------------------


class _RunDisplay:
    """One progress display on stderr for `run` and `report`: a line per step, and (on a
    terminal) a live bar for the step running and the file being imported."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal
        self.progress = None
        self.step_task = None
        self.file_task = None
        if self.live:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )

    def __enter__(self) -> _RunDisplay:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def step_start(self, index: int, total: int, name: str, what: str) -> None:
        if self.progress is not None:
            if self.step_task is None:
                self.step_task = self.progress.add_task("", total=total)
            self.progress.update(
                self.step_task, completed=index - 1, description=f"[{index}/{total}] {what}"
            )

    def step_end(self, name: str, status: str, seconds: float, detail: str) -> None:
        line = f"{name:<12} {status:<7} {seconds:6.1f} s  {detail}"
        if self.progress is not None:
            self.progress.console.print(line, markup=False)
            self.progress.advance(self.step_task)
        else:
            self.console.print(line, markup=False)

    def start_file(self, path: str, total_bytes: int) -> None:
        if self.progress is not None:
            self.file_task = self.progress.add_task(f"  {Path(path).name}", total=total_bytes)

    def advance(self, nbytes: int) -> None:
        if self.progress is not None and self.file_task is not None:
            self.progress.advance(self.file_task, nbytes)

    def end_file(self) -> None:
        if self.progress is not None and self.file_task is not None:
            self.progress.remove_task(self.file_task)
            self.file_task = None


def _print_run(result) -> None:
    """Findings to stdout (the result); where the report is to stderr."""
    from .textsafe import neutralise_bidi  # handles in the findings (issue 14 item 20)

    for sentence in result.findings:
        typer.echo(neutralise_bidi(f"- {sentence}"))
    for what, why in result.not_measured:
        typer.echo(f"- not measured: {what} ({why})")
    coverage = (result.metrics or {}).get("coverage_check") or {}
    for warning in coverage.get("warnings") or []:  # also in the report's warning box
        typer.echo(f"warning: {warning}", err=True)
    for note in coverage.get("notes") or []:  # also under the report's coverage table
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"report: {result.index_html}", err=True)


WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Processes for import and stance scoring (default: up to 2)."
    ),
]


class Engine(StrEnum):
    """Where `run` computes the steps after the import."""

    PANDAS = "pandas"
    DASK = "dask"


EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="pandas: one process (default). dask: a Dask cluster reads the store in "
        "partitions by day and hands back aggregates, for stores too big for one process: the "
        "same stance decisions (rules, stance model, hand codes) and shares, without the "
        "error-corrected stance shares, the sensitivity grid and role "
        "timing (metrics.json and the report say so).",
    ),
]
PseudonymiseOpt = Annotated[
    bool,
    typer.Option(
        "--pseudonymise",
        help="Stable salted pseudonyms for every handle in every output, post texts withheld "
        "(salt from NETSUPPORT_SALT or [output] salt_file; as [output] pseudonymise = true).",
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        min=1,
        help="Steps run at the same time at most. By default (or 2) with --engine pandas the "
        "stance and communities steps overlap (communities in a child process), and so do the "
        "metrics step and the report's graph.gexf, network map graph and stance table (in a "
        "child process), when 2 CPUs are usable and both fit in memory; 1: one after the "
        "other. Same outputs either way.",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --engine dask: a running Dask scheduler (e.g. tcp://10.0.0.5:8786); "
        "default: a local cluster of 2 worker processes, closed at the end.",
    ),
]


@app.command("run")
def run_command(
    study: Annotated[Path, typer.Argument(help="The study file (study.toml).", dir_okay=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Run every step again instead of reusing cached ones.")
    ] = False,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.PANDAS,
    scheduler: SchedulerOpt = None,
    pseudonymise: PseudonymiseOpt = False,
    jobs: JobsOpt = None,
) -> None:
    """Run a whole study from its study.toml: import, stance, communities, metrics, report.

    Writes index.html, report.md, metrics.json, charts, tables, graph.gexf and manifest.json to
    the study's output folder and prints the headline findings. The report is built beside the
    folder and swapped in whole; a folder holding files no run wrote is refused (exit 2). Steps
    whose inputs and parameters did not change since the last run are reused; --force runs them
    all again. The stance and communities steps overlap on two CPUs, and so do the metrics step
    and the report's parts that read no metric (--jobs 1: one after the other); the step lines
    say for how long they overlapped.
    With --engine dask the steps after the import run on a Dask cluster (a local one, or the
    one at --scheduler ADDRESS); the stance decisions (the stance model included) and the
    stance shares are the same, and so is the decisions' cross-validated error, but the
    error-corrected shares, the sensitivity grid and role timing need the pandas engine
    (metrics.json and the report say so).
    """
    from .study import run_study

    with _RunDisplay() as display:
        result = run_study(
            study,
            force=force,
            progress=display,
            workers=workers,
            engine=engine.value,
            scheduler=scheduler,
            pseudonymise=pseudonymise,
            jobs=jobs,
        )
    _print_run(result)


@app.command("report")
def report_command(
    study: StudyOpt,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.PANDAS,
    scheduler: SchedulerOpt = None,
    pseudonymise: PseudonymiseOpt = False,
    jobs: JobsOpt = None,
) -> None:
    """Write a study's report again (index.html, report.md, charts, tables) from its results.

    Uses the results cached by `netsupport run` and runs only the steps that are out of date
    (all of them the first time). Give the --engine the run used to reuse its results.
    """
    from .study import report_study

    with _RunDisplay() as display:
        result = report_study(
            study,
            progress=display,
            workers=workers,
            engine=engine.value,
            scheduler=scheduler,
            pseudonymise=pseudonymise,
            jobs=jobs,
        )
    _print_run(result)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except NetsupportError as exc:  # raised outside a command (e.g. option callbacks)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Terminated:
        print("error: terminated", file=sys.stderr)
        sys.exit(143)
    except KeyboardInterrupt:  # (outside a command: while click parses, say)
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
