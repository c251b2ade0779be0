"""kopf registrations for CronPipeline: one scheduling loop per object."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import (
    PassResult,
    own_writes,
    post_events,
    run_loop,
    write_status_if_changed,
)
from batchops.kube.client import CRON_PIPELINE, GROUP, PIPELINE, VERSION
from batchops.reconcile.common import ObjectSnapshot
from batchops.reconcile.cron import Children, CronReconciler
from batchops.reconcile.pipeline import CRON_LABEL

RESOURCE = (GROUP, VERSION, CRON_PIPELINE.plural)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (CRON_PIPELINE.kind, namespace or "", name)


@kopf.daemon(*RESOURCE, cancellation_timeout=30)
async def cron_pipeline_loop(
    stopped: kopf.DaemonStopped, body: kopf.Body, memo: Any, **_: Any
) -> None:
    """Sleep until the next due time (or a change), create the run, summarise the runs."""
    context: OperatorContext = memo.context
    reconciler = CronReconciler(context.timing, Children())
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""

    own = own_writes(CRON_PIPELINE, body)

    async def one_pass() -> PassResult:
        obj = await asyncio.to_thread(own.current, ObjectSnapshot.of(body))
        outcome = await asyncio.to_thread(reconciler.reconcile, obj)
        await write_status_if_changed(CRON_PIPELINE, obj, outcome.status, own)
        post_events(obj.body, outcome.recorder.events)
        return PassResult(outcome.delay)

    try:
        await run_loop(stopped, context.wakeups.event(_key(namespace, name)), one_pass)
    finally:
        context.wakeups.forget(_key(namespace, name))


@kopf.on.update(*RESOURCE)
def cron_pipeline_changed(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    """A spec change or a `batchops.io/trigger` annotation: look now."""
    context: OperatorContext = memo.context
    context.wakeups.wake(_key(namespace, name))


@kopf.on.event(GROUP, VERSION, PIPELINE.plural, labels={CRON_LABEL: kopf.PRESENT})
def wake_cron_of_run(namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    """A run changed: its CronPipeline refreshes lastRun and active at once."""
    context: OperatorContext = memo.context
    context.wakeups.wake(_key(namespace, labels[CRON_LABEL]))
