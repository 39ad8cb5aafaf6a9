"""``python -m netsupport`` and the ``netsupport`` command: the same entry point.

The CLI's imports take a moment (pandas, typer); Ctrl-C while they load is reported as inside a
command (one line, exit 130), not as a traceback. The console script points here too, so the
installed ``netsupport`` command gets the same handling as ``python -m netsupport``, and the one
:func:`netsupport.cli.main` gives for errors raised outside a command.
"""

import sys


def run() -> None:
    """Load the CLI and run it (console-script entry point)."""
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C while the CLI loads: as in a command, no traceback
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
