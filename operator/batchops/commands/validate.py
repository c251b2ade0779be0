"""`batchops validate` (being written)."""

from __future__ import annotations

import argparse

from batchops.commands.types import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `validate`."""
    parser = subparsers.add_parser("validate", help="(being written)")
    parser.set_defaults(handler=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise SystemExit("not implemented yet")
