"""BatchJobQueue: resolve compute environment refs, observe AWS, ask plans/queue, act, report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.kube.client import JOB_QUEUE
from batchops.kube.status import READY, RECONCILING, STALLED, SYNCED
from batchops.model.common import SpecError
from batchops.model.compute import BatchStatus
from batchops.model.queue import ObservedJobQueue, QueueSpec, parse_queue_spec
from batchops.plans import compute as compute_plan
from batchops.plans import ownership
from batchops.plans import queue as plan
from batchops.reconcile.common import (
    FinalizeOutcome,
    ObjectSnapshot,
    PassOutcome,
    PassRecorder,
    Tenancy,
    Timing,
    cross_namespace_message,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import ComputeEnvironmentDetailTypeDef


class JobQueueReconciler:
    """Level-based reconcile of one BatchJobQueue per call."""

    def __init__(
        self, api_for_region: Callable[[str | None], BatchApi], timing: Timing, tenancy: Tenancy
    ) -> None:
        self._api_for_region = api_for_region
        self._timing = timing
        self._tenancy = tenancy

    def reconcile(self, obj: ObjectSnapshot, known_ces: Mapping[str, str | None]) -> PassOutcome:
        """`known_ces`: BatchComputeEnvironment name in this namespace → its VALID ARN or None."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation
        try:
            spec = parse_queue_spec(obj.spec)
        except SpecError as exc:
            return rec.stalled(status, "InvalidSpec", str(exc), self._timing.resync)
        resolved = plan.resolve_compute_refs(spec.compute_environments, known_ces)
        if isinstance(resolved, plan.Unresolved):
            rec.condition(READY, False, "WaitingForComputeEnvironments", resolved.message)
            rec.condition(RECONCILING, True, "WaitingForComputeEnvironments", resolved.message)
            # The compute environment's status change wakes this loop; the delay is a backstop.
            return _outcome(status, rec, self._timing.resync)
        name = str(
            status.get("awsName") or compute_plan.aws_name(obj.namespace, obj.name, spec.name)
        )
        api = self._api_for_region(spec.region)
        try:
            delay = self._converge(obj, spec, resolved, api, name, status, rec)
        except Retryable as exc:
            rec.condition(SYNCED, False, "AwsRetrying", str(exc))
            delay = self._timing.retry
        except Terminal as exc:
            rec.event("Warning", "AwsError", str(exc))
            return rec.stalled(status, "AwsError", str(exc), self._timing.resync)
        return _outcome(status, rec, delay)

    def _converge(
        self,
        obj: ObjectSnapshot,
        spec: QueueSpec,
        resolved: plan.ResolvedRefs,
        api: BatchApi,
        name: str,
        status: dict[str, Any],
        rec: PassRecorder,
    ) -> float:
        tags = obj.owner.tags()
        foreign = self._tenancy.foreign_references(
            obj.namespace,
            (entry.arn for entry in spec.compute_environments if entry.arn),
            lambda arn: _tags(api.describe_compute_environment(arn)),
        )
        if foreign:
            message = cross_namespace_message("compute environments", foreign)
            rec.stall("CrossNamespaceReference", message)
            return self._timing.resync
        described = api.describe_job_queue(name)
        observed = ObservedJobQueue.from_describe(described) if described else None
        refs = {entry.order: entry.ref for entry in spec.compute_environments}
        status["computeEnvironments"] = [
            {
                "order": o.order,
                "arn": o.compute_environment,
                **({"ref": refs[o.order]} if refs.get(o.order) else {}),
            }
            for o in resolved.order
        ]
        if observed is None or observed.status is BatchStatus.DELETED:
            api.create_job_queue(plan.desired_queue_request(spec, name, resolved, tags))
            if obj.status.get("arn"):
                why = f"job queue {name} was deleted outside batchops; recreating it"
                rec.event("Warning", "ResourceMissing", why)
                rec.condition(READY, False, "ResourceMissing", why)
            else:
                rec.event("Normal", "Creating", f"creating job queue {name}")
                rec.condition(READY, False, "Creating", f"AWS is creating {name}")
            status.update(awsName=name, status=BatchStatus.CREATING.value, statusReason=None)
            rec.condition(SYNCED, True, "Synced")
            rec.condition(RECONCILING, True, "Creating", f"creating {name}")
            rec.condition(STALLED, False, "Progressing")
            return self._timing.transition
        what = f"job queue {observed.name}"
        claim = self._tenancy.claim(
            JOB_QUEUE.kind,
            obj,
            observed.tags,
            adopt=spec.adopt,
            held=obj.status.get("arn") == observed.arn,
        )
        if isinstance(claim, ownership.Refuse):
            rec.refused(claim, what)
            return self._timing.resync
        if isinstance(claim, ownership.Adopt):
            rec.event("Normal", "Adopted", claim.message(what))
        status.update(
            awsName=observed.name,
            arn=observed.arn,
            state=observed.state.value,
            status=observed.status.value,
            statusReason=observed.status_reason,
        )
        if observed.status is BatchStatus.INVALID:
            message = f"AWS reports INVALID: {observed.status_reason or 'no reason given'}"
            rec.condition(READY, False, "Invalid", message)
            rec.condition(STALLED, True, "Invalid", message)
            rec.condition(RECONCILING, False, "Invalid", message)
            if not obj.has_condition_reason("Invalid"):
                rec.event("Warning", "Invalid", f"{observed.name}: {message}")
        elif not observed.status.settled:
            rec.condition(READY, False, observed.status.value.title(), f"AWS: {observed.status}")
            rec.condition(RECONCILING, True, observed.status.value.title(), "waiting for AWS")
            return self._timing.transition
        update = plan.classify_queue_update(spec, resolved, observed, operator_tags=tags)
        if update.tags.to_add:
            api.tag_resource(observed.arn, dict(update.tags.to_add))
        if update.tags.to_remove:
            api.untag_resource(observed.arn, list(update.tags.to_remove))
        if update.blocked:
            rec.condition(SYNCED, False, "UpdateBlocked", update.blocked)
            rec.condition(STALLED, True, "UpdateBlocked", update.blocked)
            if not obj.has_condition_reason("UpdateBlocked"):
                rec.event("Warning", "UpdateBlocked", update.blocked)
            return self._timing.resync
        if update.request is not None:
            drift = plan.describe_queue_drift(update)
            api.update_job_queue(update.request)
            reason = (
                "DriftRepaired"
                if obj.status.get("observedGeneration") == obj.generation
                else "Updating"
            )
            rec.event("Normal", reason, drift)
            rec.condition(RECONCILING, True, "Updating", drift)
            rec.condition(SYNCED, True, "Synced")
            return self._timing.transition
        if observed.status is BatchStatus.INVALID:
            return self._timing.resync
        rec.condition(READY, True, "Valid", f"{observed.name} is VALID and {observed.state}")
        rec.condition(SYNCED, True, "Synced")
        rec.condition(RECONCILING, False, "Converged")
        rec.condition(STALLED, False, "Converged")
        return self._timing.resync

    def finalize(self, obj: ObjectSnapshot) -> FinalizeOutcome:
        """One step of deleting the AWS job queue: disable, wait, delete, wait (or retain)."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        name = str(obj.status.get("awsName") or "")
        try:
            spec = parse_queue_spec(obj.spec)
        except SpecError:
            return FinalizeOutcome(True, 0, status, rec)
        if not name:
            return FinalizeOutcome(True, 0, status, rec)
        api = self._api_for_region(spec.region)
        try:
            described = api.describe_job_queue(name)
            observed = ObservedJobQueue.from_describe(described) if described else None
            if observed is not None and not ownership.may_delete(obj.owner, observed.tags):
                # Never delete what is not ours (never adopted, or taken over since).
                rec.event("Normal", "Released", f"left {name} in AWS: this object does not own it")
                return FinalizeOutcome(True, 0, status, rec)
            match plan.plan_queue_deletion(observed, spec.deletion_policy):
                case compute_plan.Retain() | compute_plan.Done():
                    return FinalizeOutcome(True, 0, status, rec)
                case compute_plan.Disable(name=queue):
                    api.update_job_queue({"jobQueue": queue, "state": "DISABLED"})
                    rec.condition(RECONCILING, True, "Deleting", f"disabling {queue}")
                case compute_plan.Delete(name=queue):
                    api.delete_job_queue(queue)
                    rec.event("Normal", "Deleting", f"deleting job queue {queue}")
                    rec.condition(RECONCILING, True, "Deleting", f"deleting {queue}")
                case _:
                    rec.condition(RECONCILING, True, "Deleting", f"waiting for AWS on {name}")
        except (Retryable, Terminal) as exc:
            rec.condition(SYNCED, False, "AwsError", str(exc))
            return FinalizeOutcome(False, self._timing.retry, rec.with_conditions(status), rec)
        return FinalizeOutcome(False, self._timing.transition, rec.with_conditions(status), rec)


def _tags(described: ComputeEnvironmentDetailTypeDef | None) -> Mapping[str, str]:
    return described.get("tags", {}) if described else {}


def _outcome(status: dict[str, Any], rec: PassRecorder, delay: float) -> PassOutcome:
    return PassOutcome(rec.with_conditions(status), delay, rec)
