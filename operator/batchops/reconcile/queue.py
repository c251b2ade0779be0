"""BatchJobQueue as a managed kind: compute environment refs resolved to ARNs first.

Everything generic (observe, create, ownership, updates, deletion) is the managed loop's
(reconcile/managed.py). A ref names a BatchComputeEnvironment of the queue's namespace and
resolves to its ARN once it is VALID; an `arn:` entry is used as given, unless it belongs to
another namespace's object (the loop refuses that, see plans/ownership.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.jobs.blocked import BlockedQueues
from batchops.kube.client import JOB_QUEUE
from batchops.model.account import Target
from batchops.model.queue import ObservedJobQueue, QueueSpec, parse_queue_spec
from batchops.plans import queue as plan
from batchops.reconcile.common import ObjectSnapshot, PassRecorder, Tenancy, Timing
from batchops.reconcile.managed import ManagedKind, ManagedReconciler, Update, Waiting

KnownArns = Callable[[str], Mapping[str, str | None]]
"""namespace -> {object name: the ARN of its AWS resource once usable, else None}, for the
BatchComputeEnvironments and the BatchSchedulingPolicies a queue may reference."""


@dataclass(frozen=True)
class Desired:
    """A queue spec with its compute environment refs resolved."""

    spec: QueueSpec
    resolved: plan.ResolvedRefs


class JobQueues(ManagedKind[QueueSpec, ObservedJobQueue, Desired]):
    """CreateJobQueue / UpdateJobQueue / DeleteJobQueue."""

    kind = JOB_QUEUE
    noun = "job queue"

    def __init__(
        self,
        compute_environments: KnownArns,
        scheduling_policies: KnownArns,
        blocked: BlockedQueues | None = None,
    ) -> None:
        self._compute_environments = compute_environments
        self._scheduling_policies = scheduling_policies
        self._blocked = blocked

    def parse(self, raw: Mapping[str, Any]) -> QueueSpec:
        return parse_queue_spec(raw)

    def resolve(
        self, obj: ObjectSnapshot, spec: QueueSpec, status: dict[str, Any]
    ) -> Desired | Waiting:
        resolved = plan.resolve_compute_refs(
            spec.compute_environments, self._compute_environments(obj.namespace)
        )
        if isinstance(resolved, plan.Unresolved):
            return Waiting("WaitingForComputeEnvironments", resolved.message)
        if spec.scheduling_policy_ref is not None:
            ref = spec.scheduling_policy_ref
            known = self._scheduling_policies(obj.namespace)
            if not known.get(ref):
                why = "no BatchSchedulingPolicy named" if ref not in known else "waiting for"
                return Waiting("WaitingForSchedulingPolicy", f"{why} {ref}")
            spec = dataclasses.replace(spec, scheduling_policy_arn=known[ref])
        refs = {entry.order: entry.ref for entry in spec.compute_environments}
        status["computeEnvironments"] = [
            {
                "order": o.order,
                "arn": o.compute_environment,
                **({"ref": refs[o.order]} if refs.get(o.order) else {}),
            }
            for o in resolved.order
        ]
        return Desired(spec, resolved)

    def references(self, spec: QueueSpec) -> Iterable[str]:
        arns = [entry.arn for entry in spec.compute_environments if entry.arn]
        if spec.scheduling_policy_arn and spec.scheduling_policy_ref is None:
            arns.append(spec.scheduling_policy_arn)
        return arns

    def links(self, desired: Desired) -> Mapping[str, str]:
        spec = desired.spec
        by_order = {o.order: o.compute_environment for o in desired.resolved.order}
        found = {
            f"spec.computeEnvironments[{index}].{'ref' if entry.ref else 'arn'}": by_order[
                entry.order
            ]
            for index, entry in enumerate(spec.compute_environments)
            if by_order.get(entry.order)
        }
        if spec.scheduling_policy_arn:
            field = "ref" if spec.scheduling_policy_ref else "arn"
            found[f"spec.schedulingPolicy.{field}"] = spec.scheduling_policy_arn
        return found

    def referenced_tags(self, api: BatchApi, arn: str) -> Mapping[str, str]:
        if ":scheduling-policy/" in arn:
            policy = api.describe_scheduling_policy(arn)
            return policy.get("tags", {}) if policy else {}
        described = api.describe_compute_environment(arn)
        return described.get("tags", {}) if described else {}

    def report(self, observed: ObservedJobQueue, rec: PassRecorder) -> None:
        """Blocked=True while a pipeline's job on this queue is RUNNABLE with one of Batch's
        blocked-queue reasons (MISCONFIGURATION:..., CAPACITY:...), naming the reason and the
        job; cleared when the job moves (`jobs/blocked.py`)."""
        if self._blocked is None:
            return
        job = self._blocked.blocked(observed.arn)
        if job is None:
            rec.condition("Blocked", False, "NotBlocked", "no job is reported blocked")
        else:
            message = f"{job.reason} (job {job.job_name}, {job.job_id})"
            rec.condition("Blocked", True, "JobsBlocked", message)

    def describe(self, api: BatchApi, name: str) -> ObservedJobQueue | None:
        described = api.describe_job_queue(name)
        return ObservedJobQueue.from_describe(described) if described else None

    def create(self, api: BatchApi, desired: Desired, name: str, tags: Mapping[str, str]) -> None:
        api.create_job_queue(plan.desired_queue_request(desired.spec, name, desired.resolved, tags))

    def plan_update(
        self, desired: Desired, observed: ObservedJobQueue, tags: Mapping[str, str]
    ) -> Update:
        update = plan.classify_queue_update(
            desired.spec, desired.resolved, observed, operator_tags=tags
        )
        return Update(
            tags=update.tags,
            request=update.request,
            drift=plan.describe_queue_drift(update),
            blocked=update.blocked,
        )

    def update(self, api: BatchApi, request: object) -> None:
        api.update_job_queue(request)  # type: ignore[arg-type]  # from plan_update

    def disable(self, api: BatchApi, name: str) -> None:
        api.update_job_queue({"jobQueue": name, "state": "DISABLED"})

    def delete(self, api: BatchApi, observed: ObservedJobQueue) -> None:
        api.delete_job_queue(observed.name)


def job_queue_reconciler(
    compute_environments: KnownArns,
    scheduling_policies: KnownArns,
    api_for: Callable[[Target], BatchApi],
    timing: Timing,
    tenancy: Tenancy,
    blocked: BlockedQueues | None = None,
) -> ManagedReconciler[QueueSpec, ObservedJobQueue, Desired]:
    """The managed loop over BatchJobQueues."""
    kind = JobQueues(compute_environments, scheduling_policies, blocked)
    return ManagedReconciler(kind, api_for, timing, tenancy)
