"""The `batchops` command (also installed as the kubectl plugin `kubectl-batchops`)."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "run", "dev", "demo", "emulator", "validate", "graph", "watch", "timeline", "usage", "logs",
    "trigger", "backfill", "imports", "doctor",
)  # fmt: skip
"""The modules under batchops.commands, in --help's order; each registers its subcommand."""

OPERATOR = "run"
"""The operator's own command: its process imports no other command's module, so it does not
hold what only the CLI needs (rich, jsonschema and CEL, python-hcl2 and lark: 5 MiB of RSS)."""


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The argument parser of the subcommands that `modules` register (all of them by default)."""
    parser = argparse.ArgumentParser(
        prog="batchops", description="Keep AWS Batch in step with Kubernetes custom resources."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in modules:
        importlib.import_module(f"batchops.commands.{module}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    words = sys.argv[1:] if argv is None else argv
    modules = (OPERATOR,) if words[:1] == [OPERATOR] else COMMAND_MODULES
    args = build_parser(modules).parse_args(words)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
