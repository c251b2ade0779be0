"""kopf registrations for BatchJobQueue: one reconcile loop per object, a finalizer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import (
    post_events,
    reconcile_until_deleted,
    write_status_if_changed,
)
from batchops.kube.client import GROUP, JOB_QUEUE, PIPELINE, VERSION
from batchops.reconcile.common import ObjectSnapshot, PassOutcome
from batchops.reconcile.queue import JobQueueReconciler

RESOURCE = (GROUP, VERSION, JOB_QUEUE.plural)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (JOB_QUEUE.kind, namespace or "", name)


@kopf.index(*RESOURCE)
def queue_refs(
    namespace: str | None, name: str, spec: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str]:
    """(namespace, compute environment name) → names of the queues that reference it."""
    refs = {entry.get("ref") for entry in spec.get("computeEnvironments") or []}
    return {(namespace, ref): name for ref in refs if ref}


@kopf.index(*RESOURCE)
def job_queue_arns(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str | None]:
    """(namespace, name) → the queue's ARN once AWS reports it VALID, for pipeline steps."""
    arn = status.get("arn") if status.get("status") == "VALID" else None
    return {(namespace, name): arn}


@kopf.on.event(*RESOURCE)
def wake_pipelines_of_queue(namespace: str | None, memo: Any, **_: Any) -> None:
    """A queue changed (e.g. became VALID): pipelines waiting in its namespace look again."""
    context: OperatorContext = memo.context
    context.wakeups.wake_namespace(PIPELINE.kind, namespace or "")


@kopf.daemon(*RESOURCE, cancellation_timeout=30)
async def job_queue_loop(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    memo: Any,
    **kwargs: Any,
) -> None:
    """Observe → plan → act until the object is deleted."""
    context: OperatorContext = memo.context
    reconciler = JobQueueReconciler(context.batch, context.timing, context.tenancy)
    namespace = body.metadata.namespace or ""

    async def reconcile(obj: ObjectSnapshot) -> PassOutcome:
        arns: kopf.Index[tuple[str, str], str | None] = kwargs["compute_environment_arns"]
        known = {
            ce: next(iter(store), None)
            for (ce_namespace, ce), store in arns.items()
            if ce_namespace == namespace
        }
        return await asyncio.to_thread(reconciler.reconcile, obj, known)

    await reconcile_until_deleted(JOB_QUEUE, body, stopped, context.wakeups, reconcile)


@kopf.on.update(*RESOURCE, field="spec")
def job_queue_changed(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    """A spec change: run the next pass now."""
    context: OperatorContext = memo.context
    context.wakeups.wake(_key(namespace, name))


@kopf.on.delete(*RESOURCE)
async def delete_job_queue(body: kopf.Body, memo: Any, **_: Any) -> None:
    """Disable, wait, delete; raise TemporaryError until it is gone."""
    context: OperatorContext = memo.context
    reconciler = JobQueueReconciler(context.batch, context.timing, context.tenancy)
    obj = ObjectSnapshot.of(body)
    outcome = await asyncio.to_thread(reconciler.finalize, obj)
    post_events(obj.body, outcome.recorder.events)
    if not outcome.done:
        await write_status_if_changed(JOB_QUEUE, obj, outcome.status)
        message = next(
            (c.message for c in outcome.recorder.conditions if c.message), "deleting in AWS"
        )
        raise kopf.TemporaryError(message, delay=outcome.delay)
