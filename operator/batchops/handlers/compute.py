"""kopf registrations for BatchComputeEnvironment: one reconcile loop per object, a finalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop
from batchops.handlers.managed import arn_when_valid, finalize_managed, managed_loop
from batchops.kube.client import COMPUTE_ENVIRONMENT, GROUP, JOB_QUEUE, VERSION
from batchops.model import keys
from batchops.reconcile.common import PassOutcome
from batchops.reconcile.compute import compute_environment_reconciler

RESOURCE = (GROUP, VERSION, COMPUTE_ENVIRONMENT.plural)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (COMPUTE_ENVIRONMENT.kind, namespace or "", name)


@kopf.index(*RESOURCE, id=keys.COMPUTE_ENVIRONMENT_ARNS.name)
async def compute_environment_arns(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str | None]:
    """(namespace, name) → the ARN queues should use, or None until the CE is VALID."""
    return arn_when_valid(namespace, name, status)


@kopf.on.event(*RESOURCE)
async def compute_environment_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Observe → plan → act until the object is deleted (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context

    def loop() -> ObjectLoop[PassOutcome]:
        reconciler = compute_environment_reconciler(
            context.batch, context.timing, context.tenancy(kwargs)
        )
        return managed_loop(reconciler)

    context.loops.observe(COMPUTE_ENVIRONMENT, event.get("type"), body, loop)


@kopf.on.event(*RESOURCE)
async def compute_environment_changed(
    namespace: str | None, name: str, meta: Mapping[str, Any], memo: Any, **kwargs: Any
) -> None:
    """A spec change: its next pass runs now instead of at the next timer. Any change (e.g.
    VALID, or replaced): its queues reconcile now."""
    context: OperatorContext = memo.context
    context.loops.wake_on_new_generation(_key(namespace, name), meta.get("generation"))
    queue_refs = keys.QUEUE_REFS.of(kwargs)
    for queue in queue_refs.get((namespace, name), []):
        context.loops.wake((JOB_QUEUE.kind, namespace or "", queue))


@kopf.on.delete(*RESOURCE)
async def delete_compute_environment(body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Disable, wait for queues to let go, delete; raise TemporaryError until it is gone."""
    context: OperatorContext = memo.context
    reconciler = compute_environment_reconciler(
        context.batch, context.timing, context.tenancy(kwargs)
    )
    await finalize_managed(reconciler, body, context.loops)
