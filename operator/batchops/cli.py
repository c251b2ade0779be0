"""The `batchops` command (also installed as the kubectl plugin `kubectl-batchops`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from batchops.config import OperatorConfig


def _add_run(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="run the operator (kopf) against the current cluster")
    run.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        help="watch only this namespace (repeatable); default: the whole cluster",
    )
    run.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    run.add_argument(
        "--aws-endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="AWS endpoint override (the local emulator); default: $AWS_ENDPOINT_URL or real AWS",
    )
    run.add_argument("--poll-interval", type=float, default=10.0, help="seconds between polls")
    run.add_argument(
        "--resync-interval", type=float, default=300.0, help="seconds between drift checks"
    )
    run.add_argument("--event-queue-url", default=None, help="SQS queue of Batch job events")
    run.add_argument("--metrics-port", type=int, default=None)
    run.add_argument("--liveness-port", type=int, default=None)
    run.add_argument("--verbose", "-v", action="store_true", help="log every handler run")
    run.add_argument(
        "--peering",
        action="store_true",
        help="use kopf peering so only one of several replicas acts (leader election)",
    )


def _add_dev(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _add_demo(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo", help="run the walkthrough example end to end on the local stack, then clean up"
    )
    demo.add_argument("--speed", type=float, default=1.0, help="emulator speed factor")
    demo.add_argument("--timeout", type=float, default=300.0)


def _add_emulator(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    emulator = subparsers.add_parser("emulator", help="run only the local AWS Batch emulator")
    emulator.add_argument("--port", type=int, default=4566)
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--speed", type=float, default=1.0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="batchops", description="Keep AWS Batch in step with Kubernetes custom resources."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_run(subparsers)
    _add_dev(subparsers)
    _add_demo(subparsers)
    _add_emulator(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand."""
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from batchops.handlers.running import run_operator

        run_operator(
            OperatorConfig(
                namespaces=tuple(args.namespace),
                region=args.region,
                endpoint_url=args.aws_endpoint_url,
                poll_interval=args.poll_interval,
                resync_interval=args.resync_interval,
                event_queue_url=args.event_queue_url,
                metrics_port=args.metrics_port,
                liveness_port=args.liveness_port,
                standalone=not args.peering,
                verbose=args.verbose,
            )
        )
        return 0
    if args.command == "dev":
        from batchops.local.stack import run_dev

        return run_dev(
            kubeconfig=args.kubeconfig,
            emulator_port=args.emulator_port,
            speed=args.speed,
            with_operator=not args.no_operator,
        )
    if args.command == "demo":
        from batchops.local.stack import run_demo

        return run_demo(speed=args.speed, timeout=args.timeout)
    if args.command == "emulator":
        from batchops.local.emulator import serve

        serve(host=args.host, port=args.port, speed=args.speed)
        return 0
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
