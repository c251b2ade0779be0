"""`batchops dev`: the whole local stack until Ctrl-C."""

from __future__ import annotations

import argparse
from pathlib import Path

from batchops.commands.types import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `dev` and its flags."""
    dev = subparsers.add_parser(
        "dev", help="start the local stack (control plane, emulator, operator) until Ctrl-C"
    )
    dev.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="use this existing cluster instead of starting the local control plane",
    )
    dev.add_argument("--emulator-port", type=int, default=0)
    dev.add_argument("--speed", type=float, default=1.0, help="emulator speed factor")
    dev.add_argument("--no-operator", action="store_true", help="start everything but the operator")
    dev.add_argument(
        "--second-account",
        action="store_true",
        help=(
            "also make a second emulated AWS account with a role the operator may assume, a "
            "BatchAccount for it and a namespace using it by default (docs/accounts.md)"
        ),
    )
    dev.set_defaults(handler=_dev)


def _dev(args: argparse.Namespace) -> int:
    from batchops.local.stack import run_dev

    return run_dev(
        kubeconfig=args.kubeconfig,
        emulator_port=args.emulator_port,
        speed=args.speed,
        with_operator=not args.no_operator,
        second_account=args.second_account,
    )
