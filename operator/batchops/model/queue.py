"""BatchJobQueue: the spec as the user wrote it, and the job queue AWS reports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchops.model.common import (
    DeletionPolicy,
    FieldReader,
    ResourceState,
    SpecError,
    empty_map,
    frozen_map,
    read_managed_fields,
)
from batchops.model.compute import BatchStatus

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import JobQueueDetailTypeDef

# arn:<partition>:batch:<region>:<account>:compute-environment/<name>
_CE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:(?P<region>[a-z0-9-]+):\d{12}:compute-environment/.+$")


JOB_QUEUE_TYPES = ("EKS", "ECS", "ECS_FARGATE", "ECS_MANAGED_INSTANCES")
"""JobQueueType for queues over compute environments (SAGEMAKER_TRAINING is for service
environments, which batchops does not manage)."""


@dataclass(frozen=True)
class ComputeEnvironmentEntry:
    """One entry of spec.computeEnvironments: a BatchComputeEnvironment name or a CE ARN."""

    order: int
    ref: str | None = None
    arn: str | None = None

    @property
    def label(self) -> str:
        """How the entry reads in messages."""
        return self.ref if self.ref is not None else str(self.arn)


@dataclass(frozen=True)
class ComputeEnvironmentOrder:
    """A resolved (order, compute environment ARN) pair, as in the ComputeEnvironmentOrder shape."""

    order: int
    compute_environment: str


@dataclass(frozen=True)
class JobStateTimeLimitAction:
    """What Batch does with a job stuck at the head of the queue (JobStateTimeLimitAction)."""

    reason: str
    max_time_seconds: int
    state: str = "RUNNABLE"
    action: str = "CANCEL"


@dataclass(frozen=True)
class QueueSpec:
    """The spec of a BatchJobQueue, parsed once at the handler boundary."""

    priority: int
    compute_environments: tuple[ComputeEnvironmentEntry, ...]
    state: ResourceState = ResourceState.ENABLED
    scheduling_policy_arn: str | None = None
    """schedulingPolicyArn, or schedulingPolicy.arn, or (once resolved) the ref's ARN."""
    scheduling_policy_ref: str | None = None
    """schedulingPolicy.ref: a BatchSchedulingPolicy of the queue's namespace."""
    job_state_time_limit_actions: tuple[JobStateTimeLimitAction, ...] = ()
    job_queue_type: str | None = None
    """jobQueueType; None: Batch derives it from the compute environments."""
    tags: Mapping[str, str] = field(default_factory=empty_map)
    name: str | None = None
    region: str | None = None
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    adopt: bool = False
    account_ref: str | None = None
    """spec.accountRef: the BatchAccount to act in (None: the namespace's default)."""


@dataclass(frozen=True)
class ObservedJobQueue:
    """One item of DescribeJobQueues, reduced to what the plans compare."""

    name: str
    arn: str
    state: ResourceState
    status: BatchStatus
    priority: int
    compute_environment_order: tuple[ComputeEnvironmentOrder, ...]
    status_reason: str | None = None
    scheduling_policy_arn: str | None = None
    job_state_time_limit_actions: tuple[JobStateTimeLimitAction, ...] = ()
    job_queue_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)

    @classmethod
    def from_describe(cls, d: JobQueueDetailTypeDef) -> ObservedJobQueue:
        """Read a JobQueueDetail as boto3 returns it."""
        return cls(
            name=d["jobQueueName"],
            arn=d["jobQueueArn"],
            state=ResourceState(d["state"]),
            status=BatchStatus(d.get("status", "VALID")),
            priority=d["priority"],
            compute_environment_order=tuple(
                ComputeEnvironmentOrder(
                    order=o["order"], compute_environment=o["computeEnvironment"]
                )
                for o in d.get("computeEnvironmentOrder", [])
            ),
            status_reason=d.get("statusReason"),
            scheduling_policy_arn=d.get("schedulingPolicyArn"),
            job_state_time_limit_actions=tuple(
                JobStateTimeLimitAction(
                    reason=a["reason"],
                    max_time_seconds=a["maxTimeSeconds"],
                    state=a["state"],
                    action=a["action"],
                )
                for a in d.get("jobStateTimeLimitActions", [])
            ),
            job_queue_type=d.get("jobQueueType"),
            tags=frozen_map(d.get("tags")),
        )

    def uses(self, compute_environment_arn: str) -> bool:
        """Whether this queue's computeEnvironmentOrder lists the compute environment."""
        return any(
            o.compute_environment == compute_environment_arn for o in self.compute_environment_order
        )


def parse_queue_spec(raw: Mapping[str, object]) -> QueueSpec:
    """Parse `spec` of a BatchJobQueue; raises SpecError naming the bad field."""
    spec = FieldReader(raw, "spec")
    region = spec.opt_str("region")
    entries = spec.obj_list("computeEnvironments")
    if not entries:
        raise spec.fail("computeEnvironments", "needs at least one compute environment")
    compute_environments = []
    for entry in entries:
        ref, arn = entry.opt_str("ref"), entry.opt_str("arn")
        if (ref is None) == (arn is None):
            raise SpecError(entry.path, "set exactly one of ref or arn")
        if arn is not None:
            _check_arn_region(entry, arn, region)
        compute_environments.append(
            ComputeEnvironmentEntry(order=entry.req_int("order"), ref=ref, arn=arn)
        )
    actions = spec.obj_list("jobStateTimeLimitActions") or []
    policy_arn, policy_ref = spec.opt_str("schedulingPolicyArn"), None
    policy = spec.opt_obj("schedulingPolicy")
    if policy is not None:
        if policy_arn is not None:
            raise spec.fail(
                "schedulingPolicy", "set schedulingPolicy or schedulingPolicyArn, not both"
            )
        policy_arn, policy_ref = policy.opt_str("arn"), policy.opt_str("ref")
        if (policy_arn is None) == (policy_ref is None):
            raise SpecError(policy.path, "set exactly one of ref or arn")
    return QueueSpec(
        priority=spec.req_int("priority"),
        compute_environments=tuple(compute_environments),
        state=ResourceState(spec.enum("state", list(ResourceState), default="ENABLED")),
        scheduling_policy_arn=policy_arn,
        scheduling_policy_ref=policy_ref,
        job_state_time_limit_actions=tuple(
            JobStateTimeLimitAction(
                reason=a.req_str("reason"),
                max_time_seconds=a.req_int("maxTimeSeconds"),
                state=a.enum("state", ["RUNNABLE"], default="RUNNABLE"),
                action=a.enum("action", ["CANCEL"], default="CANCEL"),
            )
            for a in actions
        ),
        job_queue_type=spec.opt_enum("jobQueueType", list(JOB_QUEUE_TYPES)),
        **read_managed_fields(spec),
    )


def _check_arn_region(entry: FieldReader, arn: str, region: str | None) -> None:
    # A queue can only use compute environments of its own region; AWS would say so only as a
    # generic ClientException after the fact.
    match = _CE_ARN.match(arn)
    if match is None:
        raise entry.fail("arn", f"{arn!r} is not a compute environment ARN")
    if region is not None and match["region"] != region:
        raise entry.fail(
            "arn", f"compute environment is in {match['region']}, the queue in {region}"
        )
