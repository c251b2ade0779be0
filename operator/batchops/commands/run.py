"""`batchops run`: the operator itself (kopf's event loop with every handler registered)."""

from __future__ import annotations

import argparse
import os
import time

from batchops.commands.types import Subparsers
from batchops.config import OperatorConfig
from batchops.model.sharding import Shard


def register(subparsers: Subparsers) -> None:
    """Add `run` and its flags."""
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
    run.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port"
    )
    run.add_argument(
        "--liveness-port", type=int, default=None, help="serve kopf's /healthz on this port"
    )
    run.add_argument(
        "--tenancy-config",
        default="batchops-system/batchops-tenancy",
        help="namespace/name of the ConfigMap that says which namespaces are trusted to reach "
        "other namespaces' resources (default: %(default)s)",
    )
    run.add_argument("--verbose", "-v", action="store_true", help="log every handler run")
    run.add_argument(
        "--peering",
        action="store_true",
        help="use kopf peering so only one of several replicas acts (leader election)",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="i/N",
        help="act only on the namespaces shard i of N owns (docs/sharding.md); with --peering, "
        "the replicas elect their leader in the peering batchops-shard-<i>-of-<N>",
    )
    run.add_argument(
        "--peering-priority",
        type=int,
        default=None,
        help="kopf peering priority; default: the older replica ranks higher, so it keeps acting",
    )
    run.set_defaults(handler=_run)


def _shard(text: str) -> Shard:
    """argparse shows only an ArgumentTypeError's own words, so the parse error is one."""
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def peering_name(shard: Shard | None) -> str:
    """Each shard's replicas elect their leader among themselves: one peering per shard."""
    if shard is None:
        return OperatorConfig.peering_name
    return f"batchops-shard-{shard.index}-of-{shard.count}"


def _peering_priority(explicit: int | None) -> int:
    """kopf pauses every peer that shares the top priority, so replicas need distinct ones.
    By default a replica ranks by its start time, older higher: a rolling update does not move
    leadership to each new pod, and any explicit priority >= 0 outranks deployed replicas."""
    return explicit if explicit is not None else -(time.time_ns() // 1000)


def _run(args: argparse.Namespace) -> int:
    from batchops.handlers.running import run_operator

    run_operator(
        OperatorConfig(
            namespaces=tuple(args.namespace),
            shard=args.shard,
            region=args.region,
            endpoint_url=args.aws_endpoint_url,
            poll_interval=args.poll_interval,
            resync_interval=args.resync_interval,
            event_queue_url=args.event_queue_url,
            metrics_port=args.metrics_port,
            liveness_port=args.liveness_port,
            standalone=not args.peering,
            peering_name=peering_name(args.shard),
            peering_priority=_peering_priority(args.peering_priority),
            tenancy_config=args.tenancy_config,
            verbose=args.verbose,
        )
    )
    return 0
