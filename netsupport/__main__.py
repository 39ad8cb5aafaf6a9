"""``python -m netsupport`` and the ``netsupport`` command: the same entry point.

The CLI's imports take a moment (pandas, typer); Ctrl-C while they load is reported as inside a
command (one line, exit 130), not as a traceback; SIGTERM stops a command the same way (its
clean-up runs) with ``error: terminated``, exit 143. The console script points here too, so the
installed ``netsupport`` command gets the same handling as ``python -m netsupport``, and the one
:func:`netsupport.cli.main` gives for errors raised outside a command.
"""

import signal
import sys

from .errors import Terminated


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (a second SIGTERM ends it at once)
    raise Terminated


def stop_on_sigterm() -> None:
    """Make SIGTERM raise :class:`netsupport.errors.Terminated` in the main thread (without
    it Python dies at once, skipping every clean-up, and multiprocessing's resource tracker
    warns of the pools' "leaked semaphore objects" on the user's terminal)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def run() -> None:
    """Load the CLI and run it (console-script entry point)."""
    stop_on_sigterm()
    try:
        from .cli import main
    except Terminated:
        print("error: terminated", file=sys.stderr)
        sys.exit(143)
    except KeyboardInterrupt:  # Ctrl-C while the CLI loads: as in a command, no traceback
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
