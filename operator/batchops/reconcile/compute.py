"""BatchComputeEnvironment as a managed kind, with its blue/green replacement.

Everything generic (observe, create, ownership, updates, deletion) is the managed loop's
(reconcile/managed.py); this module translates between plans/compute.py, plans/replacement.py
and the AWS layer, and runs the replacement one action per pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable
from batchops.kube.client import COMPUTE_ENVIRONMENT
from batchops.model.account import Target
from batchops.model.compute import (
    BatchStatus,
    ComputeSpec,
    ObservedComputeEnvironment,
)
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.queue import ObservedJobQueue
from batchops.model.replacement import ReplacementProgress
from batchops.plans import compute as plan
from batchops.plans import replacement as bluegreen
from batchops.plans import retirement as retire
from batchops.plans.compute_request import desired_create_request
from batchops.reconcile import conditions as outcomes
from batchops.reconcile.common import Tenancy, Timing
from batchops.reconcile.managed import (
    ManagedKind,
    ManagedReconciler,
    Pass,
    Replacement,
    Update,
    record_observed,
)


class ComputeEnvironments(ManagedKind[ComputeSpec, ObservedComputeEnvironment, ComputeSpec]):
    """CreateComputeEnvironment / UpdateComputeEnvironment / DeleteComputeEnvironment."""

    kind = COMPUTE_ENVIRONMENT
    noun = "compute environment"
    users_noun = "job queues"

    def __init__(self, timing: Timing) -> None:
        self.replacement = BlueGreen(timing)

    def parse(self, raw: Mapping[str, Any]) -> ComputeSpec:
        return parse_compute_spec(raw)

    def describe(self, api: BatchApi, name: str) -> ObservedComputeEnvironment | None:
        return _describe(api, name)

    def create(
        self, api: BatchApi, desired: ComputeSpec, name: str, tags: Mapping[str, str]
    ) -> None:
        api.create_compute_environment(desired_create_request(desired, name, tags))

    def plan_update(
        self, desired: ComputeSpec, observed: ObservedComputeEnvironment, tags: Mapping[str, str]
    ) -> Update:
        update = plan.classify_compute_update(desired, observed, operator_tags=tags)
        replace = update.kind is plan.UpdateKind.REPLACE
        # An INVALID CE with nothing changed since: a new CE from the same spec would be too.
        if replace and observed.status is BatchStatus.INVALID and not update.changes:
            replace = False
        return Update(
            tags=update.tags,
            request=update.request,
            drift=f"{update.kind.name.lower()} update: {plan.describe_drift(update)}",
            replace_reasons=update.replace_reasons if replace else (),
        )

    def update(self, api: BatchApi, request: object) -> None:
        api.update_compute_environment(request)  # type: ignore[arg-type]  # from plan_update

    def users(self, api: BatchApi, observed: ObservedComputeEnvironment) -> list[str]:
        return sorted(
            q["jobQueueName"] for q in api.list_queues_using_compute_environment(observed.arn)
        )

    def disable(self, api: BatchApi, name: str) -> None:
        api.update_compute_environment({"computeEnvironment": name, "state": "DISABLED"})

    def delete(self, api: BatchApi, observed: ObservedComputeEnvironment) -> None:
        api.delete_compute_environment(observed.name)


class BlueGreen(Replacement[ComputeSpec, ComputeSpec]):
    """Replacement, one action per pass: create the successor, wait VALID, repoint queues,
    retire the old CE (plans/replacement.py decides)."""

    def __init__(self, timing: Timing) -> None:
        self._timing = timing

    def in_progress(self, status: Mapping[str, Any]) -> bool:
        progress = _replacement_progress(status)
        return progress is not None and progress.phase.active

    def step(
        self, current: Pass[ComputeSpec], desired: ComputeSpec, reasons: tuple[str, ...]
    ) -> float:
        status, rec, api = current.status, current.rec, current.api
        progress = _replacement_progress(current.obj.status)
        if progress is not None and not progress.phase.active:
            progress = None
        old_name, successor_name = bluegreen.replacement_targets(
            desired, current.name, progress, current.name
        )
        old = _describe(api, old_name)
        successor = _describe(api, successor_name)
        using = api.list_queues_using_compute_environment(old.arn) if old else []
        decision = bluegreen.plan_replacement(
            desired,
            base_name=current.name,
            progress=progress,
            old=old,
            successor=successor,
            queues_on_old=[ObservedJobQueue.from_describe(q) for q in using],
            now=rec.now(),
            tags=current.tags,
        )
        status["replacement"] = decision.progress.to_status()
        status["awsName"] = decision.active_name
        if decision.active_arn:
            status["arn"] = decision.active_arn
        # Record where we are before acting, so a crash resumes from the same step.
        current.write_status(rec.with_conditions(dict(status)))
        message = decision.progress.message
        usable = old is not None and old.status is BatchStatus.VALID
        match decision.action:
            case bluegreen.CreateSuccessor(request=request):
                api.create_compute_environment(request)
                rec.event("Normal", "Replacing", message)
            case bluegreen.RepointQueue(request=request):
                api.update_job_queue(request)
                rec.event("Normal", "Replacing", message)
            case retire.Disable(name=name):
                api.update_compute_environment({"computeEnvironment": name, "state": "DISABLED"})
            case retire.Delete(name=name):
                try:
                    api.delete_compute_environment(name)
                except Retryable as exc:
                    # Batch keeps the queue relationship for a while after UpdateJobQueue.
                    rec.report(outcomes.replacing(f"{message}: {exc}", usable=usable))
                    return self._timing.transition
            case bluegreen.Finish(active_name=name, active_arn=arn):
                status.update(awsName=name, arn=arn)
                rec.event("Normal", "Replaced", message)
                if successor is not None:
                    record_observed(status, successor)
                rec.report(outcomes.converged(message))
                return self._timing.transition  # look again at once: maybe more to update
            case bluegreen.ReplacementStalled(reason=reason):
                rec.report(outcomes.replacement_stalled(reason, usable=usable))
                if not current.obj.has_condition_reason("ReplacementStalled"):
                    rec.event("Warning", "ReplacementStalled", reason)
                return self._timing.resync
            case _:
                pass  # waiting steps: nothing to do but look again
        rec.report(outcomes.replacing(message, usable=usable))
        return self._timing.transition


def compute_environment_reconciler(
    api_for: Callable[[Target], BatchApi], timing: Timing, tenancy: Tenancy
) -> ManagedReconciler[ComputeSpec, ObservedComputeEnvironment, ComputeSpec]:
    """The managed loop over BatchComputeEnvironments."""
    return ManagedReconciler(ComputeEnvironments(timing), api_for, timing, tenancy)


def _describe(api: BatchApi, name: str) -> ObservedComputeEnvironment | None:
    described = api.describe_compute_environment(name)
    return ObservedComputeEnvironment.from_describe(described) if described else None


def _replacement_progress(status: Mapping[str, Any]) -> ReplacementProgress | None:
    raw = status.get("replacement")
    if not isinstance(raw, Mapping) or not raw:
        return None
    try:
        return ReplacementProgress.from_status(raw)
    except ValueError:
        return None
