"""The kopf side of the managed-resource loop (reconcile/managed.py), shared by every AWS-backed
kind: the object's loop (run by handlers/loops.Loops) and the finalizer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import kopf

from batchops.handlers.loops import (
    Loops,
    ObjectLoop,
    in_pass_thread,
    post_events,
    write_status_if_changed,
)
from batchops.kube.client import Kind
from batchops.model.keys import ArnIndex
from batchops.reconcile.common import FinalizeOutcome, ObjectSnapshot, PassOutcome, StatusWriter
from batchops.reconcile.managed import ManagedReconciler


def usable_arns(index: ArnIndex) -> Callable[[str], dict[str, str | None]]:
    """Read an ARN index by namespace. kopf's index is live, so each call sees the objects as
    they are now (a queue's loop asks on every pass)."""

    def in_namespace(namespace: str) -> dict[str, str | None]:
        return {
            name: next(iter(store), None) for (ns, name), store in index.items() if ns == namespace
        }

    return in_namespace


def arn_when_valid(
    namespace: str | None, name: str, status: Mapping[str, Any]
) -> dict[tuple[str | None, str], str | None]:
    """The entry of an ARN index: the object's ARN once AWS reports it VALID, else None."""
    return {(namespace, name): status.get("arn") if status.get("status") == "VALID" else None}


def managed_loop(reconciler: ManagedReconciler[Any, Any, Any]) -> ObjectLoop[PassOutcome]:
    """Observe -> plan -> act until the object is deleted, writing mid-pass progress (a
    replacement step) as the reconciler asks."""

    async def reconcile(obj: ObjectSnapshot, write_progress: StatusWriter) -> PassOutcome:
        return await in_pass_thread(reconciler.reconcile, obj, write_progress)

    return ObjectLoop(reconciler.kind, reconcile)


async def finalize_managed(
    reconciler: ManagedReconciler[Any, Any, Any], body: kopf.Body, loops: Loops
) -> None:
    """One retirement step, once the object's loop has stopped; raise TemporaryError until the
    AWS resource is gone (or kept)."""
    obj = ObjectSnapshot.of(body)
    await loops.stop((reconciler.kind.kind, obj.namespace, obj.name))
    outcome = await in_pass_thread(reconciler.finalize, obj)
    await hold_until_finalized(reconciler.kind, obj, outcome, "deleting in AWS")


async def hold_until_finalized(
    kind: Kind, obj: ObjectSnapshot, outcome: FinalizeOutcome, waiting: str
) -> None:
    """Post the finalizer pass's events; unless it is done, write its status and keep the
    finalizer (kopf retries after the outcome's delay)."""
    post_events(obj.body, outcome.recorder.events)
    if not outcome.done:
        await write_status_if_changed(kind, obj, outcome.status)
        message = next((c.message for c in outcome.recorder.conditions if c.message), waiting)
        raise kopf.TemporaryError(message, delay=outcome.delay)
