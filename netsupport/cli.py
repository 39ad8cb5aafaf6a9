"""The netsupport command line: thin Typer commands over the library.

Every command parses its options, calls one library function and renders the result. Library
errors (``NetsupportError``) become one line ``error: ...`` on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import NetsupportError


class _Group(TyperGroup):
    """Translate library errors into one line on stderr and exit code 2 (no traceback)."""

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except NetsupportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # posts are personal data: keep them out of tracebacks
    help="Measure who stands by an account in a crisis, how strongly, and what happens to the "
    "institution around it.",
)

# Shared options, defined once.
StoreOpt = Annotated[
    Path, typer.Option("--store", help="Store directory (Parquet tables).", file_okay=False)
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
StudyOpt = Annotated[
    Path,
    typer.Option("--study", help="Study file (study.toml).", exists=True, dir_okay=False),
]


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

# ---- commands: graph / communities --------------------------------------------------------------

_GcStoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store directory (default: the study's store).", file_okay=False),
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
_GcCrisisOpt = Annotated[
    tuple[str, str] | None,
    typer.Option(
        "--crisis",
        metavar="START END",
        help="Crisis start and end with a time zone (e.g. 2014-02-14T09:00Z), instead of --study.",
    ),
]
_GcBaselineDaysOpt = Annotated[
    float,
    typer.Option("--baseline-days", help="Baseline length before the crisis (with --crisis)."),
]
_GcAfterDaysOpt = Annotated[
    float, typer.Option("--after-days", help="After-window length (with --crisis).")
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
        help="Comma-separated kinds: reply,mention,repost,quote,follow,marker.",
    ),
]
_GcAlgorithmOpt = Annotated[
    str | None,
    typer.Option(
        "--algorithm",
        help="louvain (python-louvain, default), leiden, multilevel (igraph, fast) or auto.",
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
    from .windows import Windows

    loaded = load_study(study) if study is not None else None
    if loaded is not None and crisis is not None:
        raise NetsupportError("give --study or --crisis, not both")
    windows = loaded.windows if loaded is not None else None
    if crisis is not None:
        windows = Windows.from_crisis(crisis[0], crisis[1], baseline_days, after_days)
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
    params = loaded.communities if loaded is not None else CommunityParams()
    return st, windows, win, params


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
    crisis: _GcCrisisOpt = None,
    baseline_days: _GcBaselineDaysOpt = 14.0,
    after_days: _GcAfterDaysOpt = 14.0,
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
    )
    for note in result.notes:
        typer.echo(note, err=True)
    extra = ""
    if result.partition is not None:
        extra = (
            f", {result.partition.n_communities:,} communities "
            f"({result.partition.algorithm}, modularity {result.partition.modularity:.3f})"
        )
    typer.echo(f"graph: {result.n_nodes:,} nodes, {result.n_edges:,} edges{extra}", err=True)
    for path in result.paths:
        typer.echo(str(path))


@app.command("communities")
def communities_command(
    store: _GcStoreOpt = None,
    study: _GcStudyOpt = None,
    crisis: _GcCrisisOpt = None,
    baseline_days: _GcBaselineDaysOpt = 14.0,
    after_days: _GcAfterDaysOpt = 14.0,
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
            file_okay=False,
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
        f"{part.algorithm}: {part.n_communities:,} communities, modularity "
        f"{part.modularity:.4f} ({analysis.info['n_nodes']:,} accounts, "
        f"{analysis.info['n_edges']:,} edges)",
        err=True,
    )
    if analysis.stability is not None:
        s = analysis.stability
        typer.echo(
            f"stability over {s['runs']} seeds: mean pairwise NMI {s['mean_pairwise_nmi']:.3f}, "
            f"{s['share_stable_nodes']:.1%} of accounts in the same community every run",
            err=True,
        )
    shown = analysis.table.head(top)
    if len(shown):
        with pd.option_context("display.width", 200, "display.max_colwidth", 40):
            typer.echo(shown.round(4).to_string(index=False))
    if len(analysis.table) > len(shown):
        typer.echo(f"... {len(analysis.table) - len(shown):,} more communities", err=True)
    if out is not None:
        for path in write_community_outputs(analysis, out):
            typer.echo(f"wrote {path}", err=True)


# ---- commands: stance / support -----------------------------------------------------------------

# ---- commands: synth ----------------------------------------------------------------------------


@app.command("synth")
def synth_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the case into.", file_okay=False)
    ],
    seed: SeedOpt = 42,
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.")] = 5000,
    interactions: Annotated[
        int, typer.Option("--interactions", help="Number of posts (tweets) to generate.")
    ] = 50000,
    days: Annotated[
        int, typer.Option("--days", help="Length of the baseline and of the after window.")
    ] = 14,
    name: Annotated[str, typer.Option("--name", help="Study name in study.toml.")] = "synthetic",
    report_dir: Annotated[
        str | None,
        typer.Option("--report-dir", help="Report folder written to study.toml, relative to it."),
    ] = None,
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
        name=name,
        report_dir=report_dir,
    )
    typer.echo(f"generating {interactions:,} posts by {accounts:,} accounts ...", err=True)
    result = synthesize(out, config)
    for file, size in result.files:
        typer.echo(f"{size:>12,}  {out / file}")
    typer.echo(f"next: netsupport run {result.study}", err=True)


# ---- commands: run / report ---------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except NetsupportError as exc:  # raised outside a command (e.g. option callbacks)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
