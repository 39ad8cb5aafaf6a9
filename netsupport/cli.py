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

# ---- commands: stance / support -----------------------------------------------------------------

# ---- commands: synth ----------------------------------------------------------------------------

# ---- commands: run / report ---------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except NetsupportError as exc:  # raised outside a command (e.g. option callbacks)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
