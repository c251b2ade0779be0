"""`batchops demo`: the walkthrough example end to end on the local stack."""

from __future__ import annotations

import argparse

from batchops.commands.types import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `demo` and its flags."""
    demo = subparsers.add_parser(
        "demo", help="run the walkthrough example end to end on the local stack, then clean up"
    )
    demo.add_argument("--speed", type=float, default=1.0, help="emulator speed factor")
    demo.add_argument("--timeout", type=float, default=300.0)
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from batchops.local.stack import run_demo

    return run_demo(speed=args.speed, timeout=args.timeout)
