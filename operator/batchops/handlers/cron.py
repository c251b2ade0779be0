"""kopf registrations for CronPipeline: one scheduling loop per object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop, in_pass_thread
from batchops.kube.client import CRON_PIPELINE, GROUP, PIPELINE, VERSION
from batchops.model import keys
from batchops.reconcile.common import ObjectSnapshot, StatusWriter
from batchops.reconcile.cron import Children, CronOutcome, CronReconciler

RESOURCE = (GROUP, VERSION, CRON_PIPELINE.plural)


def _key(namespace: str | None, name: str) -> tuple[str, str, str]:
    return (CRON_PIPELINE.kind, namespace or "", name)


@kopf.on.event(*RESOURCE)
async def cron_pipeline_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **_: Any
) -> None:
    """Sleep until the next due time (or a change), create the run, summarise the runs
    (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context

    def loop() -> ObjectLoop[CronOutcome]:
        reconciler = CronReconciler(context.timing, Children())

        async def reconcile(obj: ObjectSnapshot, _: StatusWriter) -> CronOutcome:
            return await in_pass_thread(reconciler.reconcile, obj)

        return ObjectLoop(CRON_PIPELINE, reconcile)

    context.loops.observe(CRON_PIPELINE, event.get("type"), body, loop)


@kopf.on.event(*RESOURCE)
async def cron_pipeline_changed(
    namespace: str | None,
    name: str,
    meta: Mapping[str, Any],
    annotations: Mapping[str, str],
    status: Mapping[str, Any],
    memo: Any,
    **_: Any,
) -> None:
    """A spec change, or a `batchops.io/trigger` value not acted on yet: look now."""
    context: OperatorContext = memo.context
    context.loops.wake_on_new_generation(_key(namespace, name), meta.get("generation"))
    trigger = keys.trigger_request(annotations)
    if trigger and trigger != status.get("lastTrigger"):
        context.loops.wake(_key(namespace, name))


@kopf.on.event(GROUP, VERSION, PIPELINE.plural, labels={keys.CRON_LABEL: kopf.PRESENT})
async def wake_cron_of_run(
    namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any
) -> None:
    """A run changed: its CronPipeline refreshes lastRun and active at once."""
    context: OperatorContext = memo.context
    context.loops.wake(_key(namespace, labels[keys.CRON_LABEL]))
