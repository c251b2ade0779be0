"""`batchops emulator`: only the local AWS Batch emulator."""

from __future__ import annotations

import argparse

from batchops.commands.types import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `emulator` and its flags."""
    emulator = subparsers.add_parser("emulator", help="run only the local AWS Batch emulator")
    emulator.add_argument("--port", type=int, default=4566)
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--speed", type=float, default=1.0)
    emulator.set_defaults(handler=_emulator)


def _emulator(args: argparse.Namespace) -> int:
    from batchops.local.emulator import serve

    serve(host=args.host, port=args.port, speed=args.speed)
    return 0
