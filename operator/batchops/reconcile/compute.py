"""BatchComputeEnvironment: observe AWS, ask plans/compute, act, report.

One pass does at most one AWS mutation and returns; the next pass observes its effect. That keeps
every step resumable after a crash: the plans decide from what AWS reports, and replacement
progress is written to status before the action it announces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.kube.client import COMPUTE_ENVIRONMENT
from batchops.kube.status import READY, RECONCILING, STALLED, SYNCED
from batchops.model.common import SpecError
from batchops.model.compute import (
    BatchStatus,
    ComputeSpec,
    ObservedComputeEnvironment,
    ReplacementProgress,
    parse_compute_spec,
)
from batchops.model.queue import ObservedJobQueue
from batchops.plans import compute as plan
from batchops.plans import ownership
from batchops.reconcile.common import (
    FinalizeOutcome,
    ObjectSnapshot,
    PassOutcome,
    PassRecorder,
    Tenancy,
    Timing,
)

StatusWriter = Callable[[Mapping[str, Any]], None]


class ComputeEnvironmentReconciler:
    """Level-based reconcile of one BatchComputeEnvironment per call."""

    def __init__(
        self, api_for_region: Callable[[str | None], BatchApi], timing: Timing, tenancy: Tenancy
    ) -> None:
        self._api_for_region = api_for_region
        self._timing = timing
        self._tenancy = tenancy

    # -- the main pass --------------------------------------------------------------------------

    def reconcile(self, obj: ObjectSnapshot, write_status: StatusWriter) -> PassOutcome:
        """Bring AWS one step closer to the spec; never raises for AWS or spec problems."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        status["observedGeneration"] = obj.generation
        try:
            spec = parse_compute_spec(obj.spec)
        except SpecError as exc:
            return rec.stalled(status, "InvalidSpec", str(exc), self._timing.resync)
        api = self._api_for_region(spec.region)
        base_name = str(status.get("awsName") or plan.aws_name(obj.namespace, obj.name, spec.name))
        tags = obj.owner.tags()
        try:
            delay = self._converge(obj, spec, api, base_name, tags, status, rec, write_status)
        except Retryable as exc:
            rec.condition(SYNCED, False, "AwsRetrying", str(exc))
            rec.condition(RECONCILING, True, "AwsRetrying", str(exc))
            delay = self._timing.retry
        except Terminal as exc:
            rec.event("Warning", "AwsError", str(exc))
            return rec.stalled(status, "AwsError", str(exc), self._timing.resync)
        return PassOutcome(rec.with_conditions(status), delay, rec)

    def _converge(
        self,
        obj: ObjectSnapshot,
        spec: ComputeSpec,
        api: BatchApi,
        base_name: str,
        tags: Mapping[str, str],
        status: dict[str, Any],
        rec: PassRecorder,
        write_status: StatusWriter,
    ) -> float:
        progress = _replacement_progress(obj.status)
        if progress is not None and progress.phase.active:
            return self._replace(
                obj, spec, api, base_name, progress, tags, status, rec, write_status
            )

        described = api.describe_compute_environment(base_name)
        observed = ObservedComputeEnvironment.from_describe(described) if described else None
        if observed is None or observed.status is BatchStatus.DELETED:
            api.create_compute_environment(plan.desired_create_request(spec, base_name, tags))
            if obj.status.get("arn"):
                why = f"compute environment {base_name} was deleted outside batchops; recreating it"
                rec.event("Warning", "ResourceMissing", why)
                rec.condition(READY, False, "ResourceMissing", why)
            else:
                rec.event("Normal", "Creating", f"creating compute environment {base_name}")
                rec.condition(READY, False, "Creating", f"AWS is creating {base_name}")
            status.update(awsName=base_name, status=BatchStatus.CREATING.value, statusReason=None)
            rec.condition(SYNCED, True, "Synced")
            rec.condition(RECONCILING, True, "Creating", f"creating {base_name}")
            rec.condition(STALLED, False, "Progressing")
            return self._timing.transition

        what = f"compute environment {observed.name}"
        claim = self._tenancy.claim(
            COMPUTE_ENVIRONMENT.kind,
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

        _observe_into(status, observed)
        if observed.status is BatchStatus.INVALID:
            reason = observed.status_reason or "no reason given"
            rec.condition(READY, False, "Invalid", f"AWS reports INVALID: {reason}")
            rec.condition(STALLED, True, "Invalid", f"AWS reports INVALID: {reason}")
            rec.condition(RECONCILING, False, "Invalid")
            if not obj.has_condition_reason("Invalid"):
                rec.event("Warning", "Invalid", f"{observed.name} is INVALID: {reason}")
            # A spec change may still fix it (e.g. a corrected role): fall through to classify.
        elif not observed.status.settled:
            rec.condition(READY, False, observed.status.value.title(), f"AWS: {observed.status}")
            rec.condition(RECONCILING, True, observed.status.value.title(), "waiting for AWS")
            return self._timing.transition

        update = plan.classify_compute_update(spec, observed, operator_tags=tags)
        # Tags first, also before a replacement: an adopted CE gets the owner tag, which the
        # shipped IAM policy requires before the operator may disable and delete it.
        if update.tags.to_add:
            api.tag_resource(observed.arn, dict(update.tags.to_add))
        if update.tags.to_remove:
            api.untag_resource(observed.arn, list(update.tags.to_remove))
        if update.kind is plan.UpdateKind.REPLACE:
            if observed.status is BatchStatus.INVALID and not update.changes:
                return self._timing.resync
            rec.event(
                "Normal",
                "Replacing",
                f"replacing {observed.name}: " + "; ".join(update.replace_reasons),
            )
            return self._replace(obj, spec, api, base_name, None, tags, status, rec, write_status)
        if update.request is not None:
            drift = plan.describe_drift(update)
            api.update_compute_environment(update.request)
            reason = (
                "DriftRepaired"
                if obj.status.get("observedGeneration") == obj.generation
                else "Updating"
            )
            rec.event("Normal", reason, f"{update.kind.name.lower()} update: {drift}")
            rec.condition(RECONCILING, True, "Updating", drift)
            rec.condition(SYNCED, True, "Synced")
            return self._timing.transition
        if observed.status is BatchStatus.INVALID:
            rec.condition(SYNCED, True, "Synced")
            return self._timing.resync
        rec.condition(READY, True, "Valid", f"{observed.name} is VALID and {observed.state}")
        rec.condition(SYNCED, True, "Synced")
        rec.condition(RECONCILING, False, "Converged")
        rec.condition(STALLED, False, "Converged")
        return self._timing.resync

    # -- blue/green replacement -------------------------------------------------------------------

    def _replace(
        self,
        obj: ObjectSnapshot,
        spec: ComputeSpec,
        api: BatchApi,
        base_name: str,
        progress: ReplacementProgress | None,
        tags: Mapping[str, str],
        status: dict[str, Any],
        rec: PassRecorder,
        write_status: StatusWriter,
    ) -> float:
        current = str(status.get("awsName") or base_name)
        old_name, successor_name = plan.replacement_targets(spec, base_name, progress, current)
        old = _describe(api, old_name)
        successor = _describe(api, successor_name)
        using = api.list_queues_using_compute_environment(old.arn) if old else []
        queues = [ObservedJobQueue.from_describe(q) for q in using]
        decision = plan.plan_replacement(
            spec,
            base_name=base_name,
            progress=progress,
            old=old,
            successor=successor,
            queues_on_old=queues,
            now=rec.now(),
            tags=tags,
        )
        status["replacement"] = decision.progress.to_status()
        status["awsName"] = decision.active_name
        if decision.active_arn:
            status["arn"] = decision.active_arn
        # Record where we are before acting, so a crash resumes from the same step.
        write_status(rec.with_conditions(dict(status)))
        action = decision.action
        message = decision.progress.message
        rec.condition(
            READY, old is not None and old.status is BatchStatus.VALID, "Replacing", message
        )
        rec.condition(RECONCILING, True, "Replacing", message)
        match action:
            case plan.CreateSuccessor(request=request):
                api.create_compute_environment(request)
                rec.event("Normal", "Replacing", message)
            case plan.RepointQueue(request=request):
                api.update_job_queue(request)
                rec.event("Normal", "Replacing", message)
            case plan.DisableOld(name=name):
                api.update_compute_environment({"computeEnvironment": name, "state": "DISABLED"})
            case plan.DeleteOld(name=name):
                try:
                    api.delete_compute_environment(name)
                except Retryable as exc:
                    # Batch keeps the queue relationship for a while after UpdateJobQueue.
                    rec.condition(RECONCILING, True, "Replacing", f"{message}: {exc}")
                    return self._timing.transition
            case plan.Finish(active_name=name, active_arn=arn):
                status.update(awsName=name, arn=arn)
                rec.event("Normal", "Replaced", message)
                if successor is not None:
                    _observe_into(status, successor)
                rec.condition(READY, True, "Valid", message)
                rec.condition(RECONCILING, False, "Converged")
                rec.condition(STALLED, False, "Converged")
                rec.condition(SYNCED, True, "Synced")
                return self._timing.transition  # look again at once: maybe more to update
            case plan.ReplacementStalled(reason=reason):
                rec.condition(STALLED, True, "ReplacementStalled", reason)
                rec.condition(RECONCILING, False, "ReplacementStalled", reason)
                if not obj.has_condition_reason("ReplacementStalled"):
                    rec.event("Warning", "ReplacementStalled", reason)
                return self._timing.resync
            case _:
                pass  # waiting steps: nothing to do but look again
        rec.condition(SYNCED, True, "Synced")
        rec.condition(STALLED, False, "Progressing")
        return self._timing.transition

    # -- deletion ------------------------------------------------------------------------------

    def finalize(self, obj: ObjectSnapshot) -> FinalizeOutcome:
        """One step of deleting the AWS compute environment (or retaining it)."""
        rec = PassRecorder(obj)
        status: dict[str, Any] = {k: v for k, v in obj.status.items() if k != "conditions"}
        try:
            spec = parse_compute_spec(obj.spec)
        except SpecError:
            return FinalizeOutcome(True, 0, status, rec)  # nothing was ever created from it
        name = str(obj.status.get("awsName") or "")
        if not name:
            return FinalizeOutcome(True, 0, status, rec)
        api = self._api_for_region(spec.region)
        try:
            observed = _describe(api, name)
            if observed is not None and not ownership.may_delete(obj.owner, observed.tags):
                # Never delete what is not ours (never adopted, or taken over since).
                rec.event("Normal", "Released", f"left {name} in AWS: this object does not own it")
                return FinalizeOutcome(True, 0, status, rec)
            using = api.list_queues_using_compute_environment(observed.arn) if observed else []
            queue_names = sorted(q["jobQueueName"] for q in using)
            action = plan.plan_compute_deletion(observed, queue_names, spec.deletion_policy)
            match action:
                case plan.Retain() | plan.Done():
                    return FinalizeOutcome(True, 0, status, rec)
                case plan.WaitForQueues(names=names):
                    message = f"waiting for job queues to stop using it: {', '.join(names)}"
                    rec.condition(READY, False, "Deleting", message)
                    rec.condition(RECONCILING, True, "WaitingForQueues", message)
                case plan.Disable(name=ce):
                    api.update_compute_environment({"computeEnvironment": ce, "state": "DISABLED"})
                    rec.condition(RECONCILING, True, "Deleting", f"disabling {ce}")
                case plan.Delete(name=ce):
                    api.delete_compute_environment(ce)
                    rec.event("Normal", "Deleting", f"deleting compute environment {ce}")
                    rec.condition(RECONCILING, True, "Deleting", f"deleting {ce}")
                case _:
                    rec.condition(RECONCILING, True, "Deleting", f"waiting for AWS on {name}")
        except (Retryable, Terminal) as exc:
            rec.condition(SYNCED, False, "AwsError", str(exc))
            return FinalizeOutcome(False, self._timing.retry, rec.with_conditions(status), rec)
        return FinalizeOutcome(False, self._timing.transition, rec.with_conditions(status), rec)


def _describe(api: BatchApi, name: str) -> ObservedComputeEnvironment | None:
    described = api.describe_compute_environment(name)
    return ObservedComputeEnvironment.from_describe(described) if described else None


def _observe_into(status: dict[str, Any], observed: ObservedComputeEnvironment) -> None:
    status.update(
        awsName=observed.name,
        arn=observed.arn,
        state=observed.state.value,
        status=observed.status.value,
        statusReason=observed.status_reason,
    )


def _replacement_progress(status: Mapping[str, Any]) -> ReplacementProgress | None:
    raw = status.get("replacement")
    if not isinstance(raw, Mapping) or not raw:
        return None
    try:
        return ReplacementProgress.from_status(raw)
    except ValueError:
        return None
