"""Pure decisions for BatchJobQueue: resolving compute environment refs, the create request,
in-place updates (UpdateJobQueue can change everything a queue has but jobQueueType, and a
scheduling policy can't be added or removed). Deletion is plans/retirement.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchops.model.common import ResourceState
from batchops.model.queue import (
    ComputeEnvironmentEntry,
    ComputeEnvironmentOrder,
    JobStateTimeLimitAction,
    ObservedJobQueue,
    QueueSpec,
)
from batchops.plans.tags import TagChanges, diff_tags

if TYPE_CHECKING:
    from mypy_boto3_batch.literals import JobQueueTypeType, JQStateType
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentOrderTypeDef,
        CreateJobQueueRequestTypeDef,
        JobStateTimeLimitActionTypeDef,
        UpdateJobQueueRequestTypeDef,
    )

_JQ_STATES: Mapping[ResourceState, JQStateType] = {
    ResourceState.ENABLED: "ENABLED",
    ResourceState.DISABLED: "DISABLED",
}
_JOB_QUEUE_TYPES: Mapping[str, JobQueueTypeType] = {
    "EKS": "EKS",
    "ECS": "ECS",
    "ECS_FARGATE": "ECS_FARGATE",
    "ECS_MANAGED_INSTANCES": "ECS_MANAGED_INSTANCES",
}

# ---------------------------------------------------------------------------------------------
# Compute environment references
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedRefs:
    """Every entry of spec.computeEnvironments as an (order, ARN) pair, sorted by order."""

    order: tuple[ComputeEnvironmentOrder, ...]

    @property
    def arns(self) -> tuple[str, ...]:
        return tuple(o.compute_environment for o in self.order)


@dataclass(frozen=True)
class Unresolved:
    """Refs that can't be used yet: no such BatchComputeEnvironment, or it has no ARN yet."""

    missing: tuple[str, ...] = ()
    not_ready: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.missing + self.not_ready

    @property
    def message(self) -> str:
        """For the queue's conditions: what it is waiting for."""
        parts = []
        if self.missing:
            parts.append("no BatchComputeEnvironment named " + ", ".join(self.missing))
        if self.not_ready:
            parts.append("waiting for " + ", ".join(self.not_ready) + " to be created in AWS")
        return "; ".join(parts)


def resolve_compute_refs(
    entries: Sequence[ComputeEnvironmentEntry], known: Mapping[str, str | None]
) -> ResolvedRefs | Unresolved:
    """Turn refs into ARNs. `known` maps each BatchComputeEnvironment name in the queue's
    namespace to its status.arn, or None while it has no usable CE (not created, not VALID)."""
    order, missing, not_ready = [], [], []
    for entry in entries:
        if entry.arn is not None:
            order.append(ComputeEnvironmentOrder(entry.order, entry.arn))
            continue
        ref = str(entry.ref)
        if ref not in known:
            missing.append(ref)
        elif known[ref] is None:
            not_ready.append(ref)
        else:
            order.append(ComputeEnvironmentOrder(entry.order, str(known[ref])))
    if missing or not_ready:
        return Unresolved(missing=tuple(missing), not_ready=tuple(not_ready))
    return ResolvedRefs(tuple(sorted(order, key=lambda o: o.order)))


def queues_referencing(
    compute_environment: str, queues: Mapping[str, Sequence[ComputeEnvironmentEntry]]
) -> tuple[str, ...]:
    """Names of the BatchJobQueues (name -> spec entries) whose refs name `compute_environment`;
    they must reconcile when that CE is replaced or becomes VALID."""
    return tuple(
        sorted(
            name
            for name, entries in queues.items()
            if any(e.ref == compute_environment for e in entries)
        )
    )


# ---------------------------------------------------------------------------------------------
# Create and update
# ---------------------------------------------------------------------------------------------


def desired_queue_request(
    spec: QueueSpec, aws_name: str, resolved_ce_arns: ResolvedRefs, tags: Mapping[str, str]
) -> CreateJobQueueRequestTypeDef:
    """CreateJobQueue arguments; `tags` (the operator's) win over spec.tags."""
    request: CreateJobQueueRequestTypeDef = {
        "jobQueueName": aws_name,
        "priority": spec.priority,
        "state": _JQ_STATES[spec.state],
        "computeEnvironmentOrder": _order_request(resolved_ce_arns.order),
    }
    if spec.scheduling_policy_arn is not None:
        request["schedulingPolicyArn"] = spec.scheduling_policy_arn
    if spec.job_state_time_limit_actions:
        request["jobStateTimeLimitActions"] = _actions_request(spec.job_state_time_limit_actions)
    if spec.job_queue_type is not None:
        request["jobQueueType"] = _JOB_QUEUE_TYPES[spec.job_queue_type]
    all_tags = {**spec.tags, **tags}
    if all_tags:
        request["tags"] = all_tags
    return request


@dataclass(frozen=True)
class QueueUpdatePlan:
    """How to bring one job queue to its spec."""

    changes: tuple[str, ...] = ()
    # UpdateJobQueue arguments, when something UpdateJobQueue can change differs.
    request: UpdateJobQueueRequestTypeDef | None = None
    # A difference AWS can't apply to an existing queue; a human must decide (recreate it).
    blocked: str | None = None
    tags: TagChanges = field(default_factory=TagChanges)

    @property
    def in_sync(self) -> bool:
        """Nothing to do in AWS (a blocked change still needs a human)."""
        return self.request is None and not self.tags and self.blocked is None


def classify_queue_update(
    desired: QueueSpec,
    resolved: ResolvedRefs,
    observed: ObservedJobQueue,
    *,
    operator_tags: Mapping[str, str] | None = None,
) -> QueueUpdatePlan:
    """Compare the spec (with refs resolved) with AWS: the UpdateJobQueue arguments for what
    differs. computeEnvironmentOrder and jobStateTimeLimitActions compare as sets."""
    changes: list[str] = []
    blocked = None
    request: UpdateJobQueueRequestTypeDef = {"jobQueue": observed.arn}
    if desired.priority != observed.priority:
        changes.append("priority")
        request["priority"] = desired.priority
    if desired.state is not observed.state:
        changes.append("state")
        request["state"] = _JQ_STATES[desired.state]
    if set(resolved.order) != set(observed.compute_environment_order):
        changes.append("computeEnvironments")
        request["computeEnvironmentOrder"] = _order_request(resolved.order)
    if desired.scheduling_policy_arn != observed.scheduling_policy_arn:
        # "After a job queue has a fair-share scheduling policy, it can be replaced but can't be
        # removed"; "a job queue without one ... can't have a fair-share scheduling policy
        # added" (API Reference, CreateJobQueue / UpdateJobQueue).
        if desired.scheduling_policy_arn is None or observed.scheduling_policy_arn is None:
            blocked = (
                "schedulingPolicyArn can't be added to or removed from an existing job queue "
                f"(AWS has {observed.scheduling_policy_arn or 'none'}, the spec "
                f"{desired.scheduling_policy_arn or 'none'}); delete and recreate the queue"
            )
        else:
            changes.append("schedulingPolicyArn")
            request["schedulingPolicyArn"] = desired.scheduling_policy_arn
    # UpdateJobQueue has no jobQueueType (API reference): a queue keeps the type it was created
    # with. Unset in the spec, or not reported by AWS, it is not compared.
    if (
        desired.job_queue_type is not None
        and observed.job_queue_type is not None
        and desired.job_queue_type != observed.job_queue_type
    ):
        type_change = (
            f"jobQueueType can't change on an existing job queue (AWS has "
            f"{observed.job_queue_type}, the spec {desired.job_queue_type}); delete and recreate "
            "the queue"
        )
        blocked = f"{blocked}; {type_change}" if blocked else type_change
    if _action_set(desired.job_state_time_limit_actions) != _action_set(
        observed.job_state_time_limit_actions
    ):
        changes.append("jobStateTimeLimitActions")
        request["jobStateTimeLimitActions"] = _actions_request(desired.job_state_time_limit_actions)
    return QueueUpdatePlan(
        changes=tuple(changes),
        request=request if changes else None,
        blocked=blocked,
        tags=diff_tags({**desired.tags, **(operator_tags or {})}, observed.tags),
    )


def describe_queue_drift(plan: QueueUpdatePlan) -> str:
    """One line for an event: what differs between the spec and AWS."""
    if plan.in_sync:
        return "in sync with the spec"
    parts = []
    if plan.changes:
        parts.append("to update: " + ", ".join(plan.changes))
    if plan.tags.to_add:
        parts.append("tags to set: " + ", ".join(sorted(plan.tags.to_add)))
    if plan.tags.to_remove:
        parts.append("tags to remove: " + ", ".join(plan.tags.to_remove))
    if plan.blocked:
        parts.append(plan.blocked)
    return "; ".join(parts)


def _action_set(actions: Sequence[JobStateTimeLimitAction]) -> frozenset[JobStateTimeLimitAction]:
    return frozenset(actions)


def _order_request(
    order: Sequence[ComputeEnvironmentOrder],
) -> list[ComputeEnvironmentOrderTypeDef]:
    return [
        {"order": o.order, "computeEnvironment": o.compute_environment}
        for o in sorted(order, key=lambda o: o.order)
    ]


def _actions_request(
    actions: Sequence[JobStateTimeLimitAction],
) -> list[JobStateTimeLimitActionTypeDef]:
    out: list[JobStateTimeLimitActionTypeDef] = []
    for action in actions:
        # The CRD admits only these values (the ones valid for queues over compute
        # environments); anything else is a parse bug, not user input.
        if action.state != "RUNNABLE" or action.action != "CANCEL":
            raise ValueError(f"unsupported job state time limit action {action}")
        out.append(
            {
                "reason": action.reason,
                "state": "RUNNABLE",
                "maxTimeSeconds": action.max_time_seconds,
                "action": "CANCEL",
            }
        )
    return out
