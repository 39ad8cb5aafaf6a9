import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the CLI loads: as in a command, no traceback
    print("error: interrupted", file=sys.stderr)
    sys.exit(130)

main()
