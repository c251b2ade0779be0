"""The `batchops` command (also installed as the kubectl plugin `kubectl-batchops`)."""

from __future__ import annotations

import argparse
import sys

from batchops.commands import (
    backfill,
    demo,
    dev,
    doctor,
    emulator,
    graph,
    imports,
    logs,
    run,
    timeline,
    trigger,
    usage,
    validate,
    watch,
)

SUBCOMMANDS = (
    run, dev, demo, emulator, validate, graph, watch, timeline, usage, logs, trigger, backfill,
    imports, doctor,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="batchops", description="Keep AWS Batch in step with Kubernetes custom resources."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
