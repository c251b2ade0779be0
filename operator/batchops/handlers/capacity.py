"""kopf indexes of what capacity each job queue runs on, for the spot/onDemand split of usage.

A run's status records the queue of every attempt; whether that queue's instances are Spot or
on-demand is said by its compute environments' `computeResources.type`. Two indexes keep what a
pipeline's loop needs to know of the other kinds' specs (which environments a queue lists, and
each environment's type), so a pass looks it up in memory instead of reading objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.kube.client import COMPUTE_ENVIRONMENT, GROUP, JOB_QUEUE, VERSION
from batchops.model import keys
from batchops.plans.usage import CapacityKind, capacity_of_compute_type, queue_capacity


@kopf.index(GROUP, VERSION, COMPUTE_ENVIRONMENT.plural, id=keys.COMPUTE_CAPACITY.name)
async def compute_environment_capacity(
    namespace: str | None, name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], CapacityKind | None]:
    """(namespace, name) → "spot" or "onDemand" as computeResources.type says, else None."""
    resources = spec.get("computeResources")
    kind = capacity_of_compute_type(
        resources.get("type") if isinstance(resources, Mapping) else None
    )
    return {(namespace, name): kind}


@kopf.index(GROUP, VERSION, JOB_QUEUE.plural, id=keys.QUEUE_COMPUTE_ENVIRONMENTS.name)
async def queue_compute_environments(
    namespace: str | None, name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], tuple[str | None, ...]]:
    """(namespace, name) → the queue's compute environments by name (None for an ARN entry)."""
    entries = spec.get("computeEnvironments") or []
    refs = tuple(entry.get("ref") if isinstance(entry, Mapping) else None for entry in entries)
    return {(namespace, name): refs}


def capacity_of_queues(kwargs: Mapping[str, object], namespace: str) -> dict[str, CapacityKind]:
    """The namespace's queues (by name, and by ARN once Ready) → the capacity kind all their
    compute environments share. Read in the event loop, where kopf updates the indexes."""
    environments = {
        queue: next(iter(store), ())
        for (queue_namespace, queue), store in keys.QUEUE_COMPUTE_ENVIRONMENTS.of(kwargs).items()
        if queue_namespace == namespace
    }
    kinds = {
        environment: next(iter(store), None)
        for (ce_namespace, environment), store in keys.COMPUTE_CAPACITY.of(kwargs).items()
        if ce_namespace == namespace
    }
    by_name = queue_capacity(environments, {k: _kind(v) for k, v in kinds.items()})
    by_arn = {
        arn: by_name[queue]
        for (queue_namespace, queue), store in keys.JOB_QUEUE_ARNS.of(kwargs).items()
        if queue_namespace == namespace and queue in by_name
        for arn in store
        if arn
    }
    return {**by_name, **by_arn}


def _kind(value: str | None) -> CapacityKind | None:
    return "spot" if value == "spot" else "onDemand" if value == "onDemand" else None
