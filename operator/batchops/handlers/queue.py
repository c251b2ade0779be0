"""kopf registrations for BatchJobQueue: one reconcile loop per object, a finalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop
from batchops.handlers.managed import (
    arn_when_valid,
    finalize_managed,
    managed_loop,
    usable_arns,
)
from batchops.kube.client import GROUP, JOB_QUEUE, PIPELINE, VERSION
from batchops.model import keys
from batchops.reconcile.common import PassOutcome
from batchops.reconcile.queue import job_queue_reconciler

RESOURCE = (GROUP, VERSION, JOB_QUEUE.plural)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (JOB_QUEUE.kind, namespace or "", name)


@kopf.index(*RESOURCE, id=keys.QUEUE_REFS.name)
async def queue_refs(
    namespace: str | None, name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str]:
    """(namespace, compute environment name) → names of the queues that reference it."""
    refs = {entry.get("ref") for entry in spec.get("computeEnvironments") or []}
    return {(namespace, ref): name for ref in refs if ref}


@kopf.index(*RESOURCE, id=keys.QUEUE_POLICY_REFS.name)
async def queue_policy_refs(
    namespace: str | None, name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str]:
    """(namespace, scheduling policy name) → names of the queues that reference it."""
    ref = (spec.get("schedulingPolicy") or {}).get("ref")
    return {(namespace, ref): name} if ref else {}


@kopf.index(*RESOURCE, id=keys.JOB_QUEUE_ARNS.name)
async def job_queue_arns(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str | None]:
    """(namespace, name) → the queue's ARN once AWS reports it VALID, for pipeline steps."""
    return arn_when_valid(namespace, name, status)


@kopf.on.event(*RESOURCE)
async def job_queue_changed(
    namespace: str | None, name: str, meta: Mapping[str, Any], memo: Any, **_: Any
) -> None:
    """A spec change: its next pass runs now. Any change (e.g. became VALID): pipelines
    waiting in its namespace look again."""
    context: OperatorContext = memo.context
    context.loops.wake_on_new_generation(_key(namespace, name), meta.get("generation"))
    context.loops.wake_namespace(PIPELINE.kind, namespace or "")


@kopf.on.event(*RESOURCE)
async def job_queue_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Observe → plan → act until the object is deleted (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context

    def loop() -> ObjectLoop[PassOutcome]:
        reconciler = job_queue_reconciler(
            usable_arns(keys.COMPUTE_ENVIRONMENT_ARNS.of(kwargs)),
            usable_arns(keys.SCHEDULING_POLICY_ARNS.of(kwargs)),
            context.batch,
            context.timing,
            context.tenancy(kwargs),
            context.blocked,
        )
        return managed_loop(reconciler)

    context.loops.observe(JOB_QUEUE, event.get("type"), body, loop)


@kopf.on.delete(*RESOURCE)
async def delete_job_queue(body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Disable, wait, delete; raise TemporaryError until it is gone."""
    context: OperatorContext = memo.context
    reconciler = job_queue_reconciler(
        lambda namespace: {},
        lambda namespace: {},
        context.batch,
        context.timing,
        context.tenancy(kwargs),
    )
    await finalize_managed(reconciler, body, context.loops)
