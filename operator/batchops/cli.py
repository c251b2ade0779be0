"""The `batchops` command (also installed as the kubectl plugin `kubectl-batchops`)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    parser = argparse.ArgumentParser(prog="batchops")
    parser.add_subparsers(dest="command", required=True)
    args = parser.parse_args(argv)
    del args
    return 0


if __name__ == "__main__":
    sys.exit(main())
