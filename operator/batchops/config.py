"""Operator settings from the command line and environment, passed to every handler."""

from __future__ import annotations

from dataclasses import dataclass

from batchops.model.sharding import Shard


@dataclass(frozen=True)
class OperatorConfig:
    """How one operator process behaves; built once by `batchops run`."""

    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means cluster-wide."""
    shard: Shard | None = None
    """Of the watched namespaces, act only on those this shard owns (`--shard i/N`); None: all."""
    region: str = "us-east-1"
    """Default AWS region for objects that do not set `spec.region`."""
    endpoint_url: str | None = None
    """AWS endpoint override (the local emulator); None means real AWS."""
    poll_interval: float = 10.0
    """Seconds between DescribeJobs polls of active pipeline jobs."""
    resync_interval: float = 300.0
    """Seconds between drift checks of compute environments and queues."""
    event_queue_url: str | None = None
    """SQS queue receiving "Batch Job State Change" events; polling becomes a slow safety net."""
    metrics_port: int | None = None
    """Port of the Prometheus endpoint; None disables it."""
    liveness_port: int | None = None
    """Port of kopf's liveness endpoint; None disables it."""
    standalone: bool = True
    """Run without kopf peering (one replica); False enables peering-based leader election."""
    peering_name: str = "batchops"
    """The ClusterKopfPeering (or KopfPeering per namespace) the replicas elect a leader in."""
    peering_priority: int = 0
    """kopf pauses a replica while a live peer has a higher priority (equal ones all pause)."""
    tenancy_config: str = "batchops-system/batchops-tenancy"
    """`<namespace>/<name>` of the ConfigMap whose trustedNamespaces may reference other
    namespaces' resources by ARN (manifests/base/tenancy.yaml)."""
    verbose: bool = False
    """Log every handler run (kopf's verbose mode)."""
