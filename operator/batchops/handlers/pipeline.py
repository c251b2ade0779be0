"""kopf registrations for BatchPipeline: a reconcile loop per run, the shared job poller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from batchops import metrics
from batchops.aws.errors import AwsError
from batchops.aws.events import JobEventQueue
from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import reconcile_until_deleted
from batchops.handlers.managed import hold_until_finalized
from batchops.kube.client import GROUP, PIPELINE, VERSION, delete_object, patch_status
from batchops.model.pipeline import ObservedJob
from batchops.plans.runs import RERUN_ANNOTATION, TERMINATE_ANNOTATION
from batchops.reconcile.common import ObjectSnapshot
from batchops.reconcile.pipeline import PipelineOutcome, PipelineReconciler

RESOURCE = (GROUP, VERSION, PIPELINE.plural)
_logger = logging.getLogger(__name__)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (PIPELINE.kind, namespace or "", name)


def _describer(context: OperatorContext) -> Any:
    """DescribeJobs through the shared poller's cache: only never-seen ids reach AWS."""

    def describe(job_ids: Sequence[str]) -> list[ObservedJob]:
        known, missing = context.jobs.cached(job_ids)
        if missing:
            fresh = context.describe_jobs(missing)
            context.jobs.record(fresh)
            known += fresh
        return known

    return describe


@kopf.daemon(*RESOURCE, cancellation_timeout=30)
async def pipeline_loop(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    memo: Any,
    **kwargs: Any,
) -> None:
    """Run the pipeline's current run to its end; then wait for a rerun or a spec change."""
    context: OperatorContext = memo.context
    reconciler = PipelineReconciler(
        context.batch,
        context.timing,
        context.config.region,
        observe_submit_latency=metrics.SUBMIT_LATENCY.observe,
        catalog_for_region=context.job_definitions,
        tenancy=context.tenancy,
    )
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    describe = _describer(context)

    def write_progress(status: Mapping[str, Any]) -> None:
        patch_status(PIPELINE, namespace, name, status)

    async def reconcile(obj: ObjectSnapshot) -> PipelineOutcome:
        arns: kopf.Index[tuple[str, str], str | None] = kwargs["job_queue_arns"]
        queues = {
            queue: next(iter(store), None)
            for (queue_namespace, queue), store in arns.items()
            if queue_namespace == namespace
        }
        outcome = await asyncio.to_thread(
            reconciler.reconcile, obj, queues, describe, write_progress
        )
        context.jobs.track((namespace, name), outcome.active_job_ids)
        return outcome

    async def delete_if_expired(obj: ObjectSnapshot, outcome: PipelineOutcome) -> None:
        if outcome.delete_object:  # ttlSecondsAfterFinished passed
            await asyncio.to_thread(delete_object, PIPELINE, namespace, name)

    await reconcile_until_deleted(
        PIPELINE, body, stopped, context.wakeups, reconcile, delete_if_expired
    )


@kopf.on.update(*RESOURCE, field="spec")
def pipeline_changed(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    """A spec change: look now."""
    context: OperatorContext = memo.context
    context.wakeups.wake(_key(namespace, name))


@kopf.on.event(*RESOURCE)
def pipeline_request_annotated(
    namespace: str | None,
    name: str,
    annotations: Mapping[str, str],
    status: Mapping[str, Any],
    memo: Any,
    **_: Any,
) -> None:
    """A `batchops.io/rerun` or `batchops.io/terminate` value the pipeline has not acted on
    yet: look now. (kopf's diff leaves out annotations under our own prefix, so on.update never
    sees these changes.)"""
    rerun, terminate = annotations.get(RERUN_ANNOTATION), annotations.get(TERMINATE_ANNOTATION)
    if (rerun and rerun != status.get("rerunToken")) or (
        terminate and terminate != status.get("terminateToken")
    ):
        context: OperatorContext = memo.context
        context.wakeups.wake(_key(namespace, name))


@kopf.on.delete(*RESOURCE)
async def delete_pipeline(body: kopf.Body, memo: Any, **_: Any) -> None:
    """Terminate the run's jobs (unless terminateOnDelete is false) and hold the object until
    Batch reports them finished (bounded: see Timing.job_stop_wait); raise TemporaryError
    meanwhile."""
    context: OperatorContext = memo.context
    obj = ObjectSnapshot.of(body)
    reconciler = PipelineReconciler(
        context.batch,
        context.timing,
        context.config.region,
        catalog_for_region=context.job_definitions,
    )

    def describe_fresh(job_ids: Sequence[str]) -> list[ObservedJob]:
        fresh = context.describe_jobs(job_ids)
        context.jobs.record(fresh)
        return fresh

    outcome = await asyncio.to_thread(reconciler.finalize, obj, _describer(context), describe_fresh)
    await hold_until_finalized(PIPELINE, obj, outcome, "stopping jobs")
    context.jobs.untrack((obj.namespace, obj.name))


@kopf.on.startup()
async def start_job_poller(memo: Any, **_: Any) -> None:
    """One poller for every pipeline's active jobs (DescribeJobs in chunks of 100)."""
    context: OperatorContext = memo.context
    context.poller_task = asyncio.create_task(_poll_jobs(context))
    events = context.job_events()
    if events is not None:
        context.events_task = asyncio.create_task(_consume_events(context, events))


@kopf.on.cleanup()
async def stop_job_poller(memo: Any, **_: Any) -> None:
    """Stop the poller with the operator."""
    context: OperatorContext = memo.context
    for task in (context.poller_task, context.events_task):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# In event mode DescribeJobs polling stays on as a slow safety net for lost events.
EVENT_MODE_POLL_FACTOR = 6


async def _poll_jobs(context: OperatorContext) -> None:
    interval = context.config.poll_interval
    if context.config.event_queue_url is not None:
        interval *= EVENT_MODE_POLL_FACTOR
    while True:
        await asyncio.sleep(interval)
        try:
            changed = await asyncio.to_thread(context.jobs.poll_once, context.describe_jobs)
        except AwsError as exc:
            _logger.warning(f"job poll failed, will retry: {exc}")
            continue
        except Exception:
            # Logged with its traceback (tests fail on it), but the poller keeps serving.
            _logger.exception("job poll failed unexpectedly")
            continue
        for namespace, name in changed:
            context.wakeups.wake(_key(namespace, name))


async def _consume_events(context: OperatorContext, events: JobEventQueue) -> None:
    while True:
        try:
            details = await asyncio.to_thread(events.receive)
        except AwsError as exc:
            _logger.warning(f"reading job events failed, will retry: {exc}")
            await asyncio.sleep(context.config.poll_interval)
            continue
        jobs = []
        for detail in details:
            try:
                jobs.append(ObservedJob.from_describe(detail))
            except ValueError as exc:
                _logger.warning(f"ignoring a malformed job event: {exc}")
        for namespace, name in context.jobs.record_events(jobs):
            context.wakeups.wake(_key(namespace, name))
