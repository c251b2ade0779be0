"""kopf registrations for BatchSchedulingPolicy: one reconcile loop per object, a finalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop
from batchops.handlers.managed import arn_when_valid, finalize_managed, managed_loop
from batchops.kube.client import GROUP, JOB_QUEUE, SCHEDULING_POLICY, VERSION
from batchops.model import keys
from batchops.reconcile.common import PassOutcome
from batchops.reconcile.scheduling import scheduling_policy_reconciler

RESOURCE = (GROUP, VERSION, SCHEDULING_POLICY.plural)


@kopf.index(*RESOURCE, id=keys.SCHEDULING_POLICY_ARNS.name)
async def scheduling_policy_arns(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str | None]:
    """(namespace, name) → the policy's ARN once it exists in AWS, for queues that ref it."""
    return arn_when_valid(namespace, name, status)


@kopf.on.event(*RESOURCE)
async def scheduling_policy_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Observe → plan → act until the object is deleted (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context

    def loop() -> ObjectLoop[PassOutcome]:
        reconciler = scheduling_policy_reconciler(
            context.batch, context.timing, context.tenancy(kwargs)
        )
        return managed_loop(reconciler)

    context.loops.observe(SCHEDULING_POLICY, event.get("type"), body, loop)


@kopf.on.event(*RESOURCE)
async def scheduling_policy_changed(
    namespace: str | None, name: str, meta: Mapping[str, Any], memo: Any, **kwargs: Any
) -> None:
    """A spec change: its next pass runs now. Any change (e.g. created in AWS): the queues
    that ref it reconcile now."""
    context: OperatorContext = memo.context
    key = (SCHEDULING_POLICY.kind, namespace or "", name)
    context.loops.wake_on_new_generation(key, meta.get("generation"))
    refs = keys.QUEUE_POLICY_REFS.of(kwargs)
    for queue in refs.get((namespace, name), []):
        context.loops.wake((JOB_QUEUE.kind, namespace or "", queue))


@kopf.on.delete(*RESOURCE)
async def delete_scheduling_policy(body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Wait until no job queue uses it, then delete; raise TemporaryError until it is gone."""
    context: OperatorContext = memo.context
    reconciler = scheduling_policy_reconciler(
        context.batch, context.timing, context.tenancy(kwargs)
    )
    await finalize_managed(reconciler, body, context.loops)
