"""kopf registrations for BatchConsumableResource: one reconcile loop per object, a finalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from batchops.handlers.context import OperatorContext
from batchops.handlers.loops import ObjectLoop
from batchops.handlers.managed import arn_when_valid, finalize_managed, managed_loop
from batchops.kube.client import CONSUMABLE_RESOURCE, GROUP, PIPELINE, VERSION
from batchops.model import keys
from batchops.reconcile.common import PassOutcome
from batchops.reconcile.consumable import consumable_resource_reconciler

RESOURCE = (GROUP, VERSION, CONSUMABLE_RESOURCE.plural)


@kopf.index(*RESOURCE, id=keys.CONSUMABLE_RESOURCE_ARNS.name)
async def consumable_resource_arns(
    namespace: str | None, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str | None, str], str | None]:
    """(namespace, name) → the resource's ARN once it exists in AWS, for steps that claim it."""
    return arn_when_valid(namespace, name, status)


@kopf.on.event(*RESOURCE)
async def consumable_resource_changed(
    namespace: str | None, name: str, meta: Mapping[str, Any], memo: Any, **_: Any
) -> None:
    """A spec change: its next pass runs now. Any change (e.g. now exists in AWS): pipelines
    waiting in its namespace look."""
    context: OperatorContext = memo.context
    key = (CONSUMABLE_RESOURCE.kind, namespace or "", name)
    context.loops.wake_on_new_generation(key, meta.get("generation"))
    context.loops.wake_namespace(PIPELINE.kind, namespace or "")


@kopf.on.event(*RESOURCE)
async def consumable_resource_loop(
    event: Mapping[str, Any], body: kopf.Body, memo: Any, **kwargs: Any
) -> None:
    """Observe → plan → act until the object is deleted (`loops.Loops` runs the passes)."""
    context: OperatorContext = memo.context

    def loop() -> ObjectLoop[PassOutcome]:
        reconciler = consumable_resource_reconciler(
            context.batch, context.timing, context.tenancy(kwargs)
        )
        return managed_loop(reconciler)

    context.loops.observe(CONSUMABLE_RESOURCE, event.get("type"), body, loop)


@kopf.on.delete(*RESOURCE)
async def delete_consumable_resource(body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Delete it in AWS (or retain it); raise TemporaryError until it is gone."""
    context: OperatorContext = memo.context
    reconciler = consumable_resource_reconciler(
        context.batch, context.timing, context.tenancy(kwargs)
    )
    await finalize_managed(reconciler, body, context.loops)
