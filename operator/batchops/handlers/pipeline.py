"""kopf registrations for BatchPipeline: a reconcile loop per run, the shared job poller."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

import kopf

from batchops import metrics
from batchops.handlers.capacity import capacity_of_queues
from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop, in_pass_thread
from batchops.handlers.managed import hold_until_finalized, usable_arns
from batchops.jobs.consumer import consume_events
from batchops.jobs.poller import poll_interval, poll_jobs
from batchops.kube.client import GROUP, JOB_QUEUE, PIPELINE, VERSION, delete_object
from batchops.model import keys
from batchops.model.account import Target
from batchops.model.observed import job_definitions_in_status
from batchops.reconcile.common import ObjectSnapshot, StatusWriter
from batchops.reconcile.pipeline import PipelineReconciler
from batchops.reconcile.pipeline_admission import PipelineOutcome

RESOURCE = (GROUP, VERSION, PIPELINE.plural)
INDEX_READ_TIMEOUT = 30.0
"""Seconds a pass's thread waits for the event loop to read an index (it only waits long when
the operator is stopping)."""
finished_runs = metrics.FinishedRunUsage()
"""Counts each finished run's usage into the metrics once per process."""


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (PIPELINE.kind, namespace or "", name)


@kopf.index(*RESOURCE, id=keys.PIPELINE_JOB_DEFINITIONS.name)
async def pipeline_job_definitions(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """(namespace, name) → the job definitions the pipeline's status names."""
    return {(namespace, name): job_definitions_in_status(status)}


def _definitions_in_status(
    kwargs: Mapping[str, Any],
) -> Callable[[str], dict[str, Collection[str]]]:
    """Read the index by namespace from a pass's thread. kopf changes its indexes on the event
    loop's thread, so the read runs there: iterating from another thread meets a dict that
    changes size. Only retirement asks (a run settling, a pipeline deleted), so the hop is rare."""
    index = keys.PIPELINE_JOB_DEFINITIONS.of(kwargs)
    loop = asyncio.get_running_loop()

    def read(namespace: str) -> dict[str, Collection[str]]:
        return {
            name: definitions
            for (ns, name), store in index.items()
            if ns == namespace
            for definitions in store
        }

    def in_namespace(namespace: str) -> dict[str, Collection[str]]:
        answer: concurrent.futures.Future[dict[str, Collection[str]]] = concurrent.futures.Future()

        def on_loop() -> None:
            try:
                answer.set_result(read(namespace))
            except BaseException as exc:  # handed to the waiting thread, which raises it
                answer.set_exception(exc)

        loop.call_soon_threadsafe(on_loop)
        return answer.result(timeout=INDEX_READ_TIMEOUT)

    return in_namespace


def _wake_pipeline(context: OperatorContext) -> Callable[[tuple[str, str]], None]:
    def wake(owner: tuple[str, str]) -> None:
        context.loops.wake(_key(*owner))

    return wake


@kopf.on.event(*RESOURCE)
async def pipeline_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Run the pipeline's current run to its end; then wait for a rerun or a spec change
    (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    indexes = keys.indexes_of(kwargs)
    context.loops.observe(
        PIPELINE, event.get("type"), body, lambda: _loop(context, namespace, name, indexes)
    )


def _loop(
    context: OperatorContext, namespace: str, name: str, kwargs: Mapping[str, Any]
) -> ObjectLoop[PipelineOutcome]:
    reconciler = PipelineReconciler(
        context.batch,
        context.timing,
        context.config.region,
        observe_submit_latency=metrics.SUBMIT_LATENCY.observe,
        catalog_for_region=context.job_definitions,
        describers=context.job_describers,
        tenancy=context.tenancy(kwargs),
        blocked=context.blocked,
        cluster=context.cluster_uid,
        definitions_in_status=_definitions_in_status(kwargs),
    )
    describe = context.job_describers(Target())[0]  # the pass picks its account's own

    async def reconcile(obj: ObjectSnapshot, write_progress: StatusWriter) -> PipelineOutcome:
        arns = keys.JOB_QUEUE_ARNS.of(kwargs)
        queues = {
            queue: next(iter(store), None)
            for (queue_namespace, queue), store in arns.items()
            if queue_namespace == namespace
        }
        reconciler.queue_capacity = capacity_of_queues(kwargs, namespace)
        resources = usable_arns(keys.CONSUMABLE_RESOURCE_ARNS.of(kwargs))(namespace)
        outcome = await in_pass_thread(
            reconciler.reconcile, obj, queues, describe, write_progress, resources
        )
        if context.jobs.track((namespace, name), outcome.active_job_ids, reconciler.target):
            context.loops.wake(_key(namespace, name))  # a job changed while untracked
        for queue, arn in queues.items():
            if arn in outcome.blocked_changed:  # its Blocked condition changes: look now
                context.loops.wake((JOB_QUEUE.kind, namespace, queue))
        return outcome

    async def after_write(obj: ObjectSnapshot, outcome: PipelineOutcome) -> None:
        cron = keys.creating_cron(obj.body.get("metadata", {}).get("labels") or {})
        finished_runs.observe(namespace, cron or name, name, obj.status, outcome.status)
        if outcome.delete_object:  # ttlSecondsAfterFinished passed
            await asyncio.to_thread(delete_object, PIPELINE, namespace, name)

    def on_end() -> None:
        # This replica paused (or is stopping): no one here follows the run's jobs any more;
        # the next loop, here or on the peer that took over, tracks them again. On deletion
        # the jobs stay followed: the delete handler stops them from that view and untracks
        # them when it is done.
        context.jobs.untrack((namespace, name))

    return ObjectLoop(PIPELINE, reconcile, after_write, on_end)


@kopf.on.event(*RESOURCE)
async def pipeline_changed(
    namespace: str | None,
    name: str,
    meta: Mapping[str, Any],
    annotations: Mapping[str, str],
    status: Mapping[str, Any],
    memo: Any,
    **_: Any,
) -> None:
    """A spec change, or a `batchops.io/rerun`, `batchops.io/retry-failed` or
    `batchops.io/terminate` value the pipeline has not acted on yet: look now."""
    context: OperatorContext = memo.context
    context.loops.wake_on_new_generation(_key(namespace, name), meta.get("generation"))
    requests = (
        (keys.rerun_request(annotations), "rerunToken"),
        (keys.retry_failed_request(annotations), "retryToken"),
        (keys.terminate_request(annotations), "terminateToken"),
    )
    if any(value and value != status.get(token) for value, token in requests):
        context.loops.wake(_key(namespace, name))


@kopf.on.delete(*RESOURCE)
async def delete_pipeline(body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Terminate the run's jobs (unless terminateOnDelete is false) and hold the object until
    Batch reports them finished (bounded: see Timing.job_stop_wait); raise TemporaryError
    meanwhile."""
    context: OperatorContext = memo.context
    obj = ObjectSnapshot.of(body)
    await context.loops.stop(_key(obj.namespace, obj.name))
    reconciler = PipelineReconciler(
        context.batch,
        context.timing,
        context.config.region,
        catalog_for_region=context.job_definitions,
        describers=context.job_describers,
        tenancy=context.tenancy(kwargs),
        cluster=context.cluster_uid,
        definitions_in_status=_definitions_in_status(kwargs),
    )

    outcome = await in_pass_thread(reconciler.finalize, obj, *context.job_describers(Target()))
    await hold_until_finalized(PIPELINE, obj, outcome, "stopping jobs")
    context.jobs.untrack((obj.namespace, obj.name))


@kopf.on.startup()
async def start_job_poller(memo: Any, **_: Any) -> None:
    """One poller for every pipeline's active jobs (DescribeJobs in chunks of 100), and the
    event consumer in event mode."""
    context: OperatorContext = memo.context
    wake = _wake_pipeline(context)
    context.poller_task = asyncio.create_task(
        poll_jobs(
            context.jobs,
            context.describe_jobs,
            wake,
            poll_interval(context.config),
            observe_sweep=metrics.JOB_SWEEP_SECONDS.observe,
        )
    )
    events = context.job_events()
    if events is not None:
        context.events_task = asyncio.create_task(
            consume_events(context.jobs, events, wake, context.config.poll_interval)
        )


@kopf.on.cleanup()
async def stop_job_poller(memo: Any, **_: Any) -> None:
    """Stop the poller with the operator."""
    context: OperatorContext = memo.context
    for task in (context.poller_task, context.events_task):
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
