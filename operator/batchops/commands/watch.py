"""`batchops watch` (being written)."""

from __future__ import annotations

import argparse

from batchops.commands.types import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `watch`."""
    parser = subparsers.add_parser("watch", help="(being written)")
    parser.set_defaults(handler=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise SystemExit("not implemented yet")
