"""Compute environments and job queues: their asynchronous states and AWS's rules for changes.

Lifecycle (delays in `clock.Delays`):
- A compute environment is CREATING, then VALID, or INVALID with a statusReason when a role,
  instance profile, subnet or security group it references does not exist (a bad reference is
  not an error of the create call, as in real Batch). Every update makes it UPDATING, then VALID
  or INVALID again. DeleteComputeEnvironment makes it DELETING, then it is gone.
- A job queue is CREATING, then VALID; UPDATING after an update; DELETING, then gone.

Rules enforced on calls (see errors.py for the messages):
- serviceRole is optional; without one, Batch uses its service-linked role.
- Scaling fields (minvCpus, maxvCpus, desiredvCpus), state, serviceRole and updatePolicy always
  update in place. Any other computeResources field is an infrastructure update, accepted only
  when the compute environment uses the service-linked role and an updatable allocation
  strategy (BEST_FIT_PROGRESSIVE, SPOT_CAPACITY_OPTIMIZED, SPOT_PRICE_CAPACITY_OPTIMIZED); a
  Fargate compute environment may change subnets and security groups in place. EC2/SPOT never
  changes to FARGATE/FARGATE_SPOT or back.
- Nothing updates or deletes while CREATING, UPDATING or DELETING ("resource is being
  modified"); deletion needs state DISABLED; a compute environment used by any job queue
  (DELETING ones too, and, with the eventual-consistency fault, for a while after a queue let go
  of it) cannot be deleted: "Cannot delete, found existing JobQueue relationship".
- A job queue has at most 3 compute environments, all VALID and all EC2/SPOT or all Fargate;
  nor does it mix EKS, ECS, Fargate and ECS Managed Instances ones: its jobQueueType (given or
  derived) is theirs, and stays as created.
- The rest of the CreateComputeEnvironment surface, each rule cited next to its check:
  unmanagedvCpus (UNMANAGED only), eksConfiguration (EC2/SPOT with an allocation strategy, EKS_
  image types, only accessEntry updates), ecsSettings (not on EKS), placementGroup and
  scalingPolicy (EC2/SPOT; infrastructure updates), launch template overrides and userdataType,
  ECS_MANAGED_INSTANCES with managedInstancesProvider and capacityTags (updated in place, except
  capacityOptionType and fipsEnabled). Read-only members of a request (batchImageStatus,
  accessEntry.status) are dropped, as Batch ignores them; `context` ("Reserved") is kept and
  returned.
- A job queue's schedulingPolicyArn names an existing scheduling policy (schedulingpolicies.py);
  a queue created without one stays FIFO (UpdateJobQueue can't add one), and a queue's policy
  can be replaced but not removed.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from batchops.local.emulator import account, errors
from batchops.local.emulator.clock import Clock, Delays, Timer, TimerThread
from batchops.local.emulator.paging import page
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import (
    JsonObject,
    object_list,
    optional_int,
    optional_object,
    optional_str,
    required_str,
    str_list,
    str_map,
)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

SCALING_FIELDS = frozenset({"minvCpus", "maxvCpus", "desiredvCpus"})
# Fargate compute environments change these in place, without the infrastructure-update rules.
FARGATE_IN_PLACE_FIELDS = frozenset({"subnets", "securityGroupIds"})
# So do ECS Managed Instances ones (ComputeResourceUpdate.managedInstancesProvider and
# .capacityTags; the infrastructure-update rules name allocation strategies this type lacks).
MANAGED_INSTANCES = "ECS_MANAGED_INSTANCES"
MANAGED_INSTANCES_IN_PLACE_FIELDS = frozenset({"managedInstancesProvider", "capacityTags"})
# "You cannot change capacityOptionType or fipsEnabled on update" (API reference,
# ComputeResourceUpdate.managedInstancesProvider).
MANAGED_INSTANCES_FIXED = ("capacityOptionType", "fipsEnabled")
# "All networking, instance profile, and instance selection configuration lives within this
# block" (user guide, "Compute environments on Amazon ECS Managed Instances").
MANAGED_INSTANCES_NOT_APPLICABLE = (
    "minvCpus",
    "desiredvCpus",
    "instanceTypes",
    "instanceRole",
    "ec2KeyPair",
    "imageId",
    "allocationStrategy",
    "bidPercentage",
    "spotIamFleetRole",
    "launchTemplate",
    "ec2Configuration",
    "placementGroup",
    "scalingPolicy",
    "subnets",
    "securityGroupIds",
    "tags",
)
EKS_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/.+$")
# EksConfiguration.kubernetesNamespace: "fewer than 64 characters long, can't be set to default,
# can't start with "kube-," and must match this regular expression:
# ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" (API reference).
KUBERNETES_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ACCESS_ENTRY_STATES = frozenset({"ENABLED", "DISABLED", "INHERIT_FROM_CLUSTER"})
CONTAINER_INSIGHTS = frozenset({"ENABLED", "ENHANCED", "DISABLED"})
USERDATA_TYPES = frozenset({"EKS_BOOTSTRAP_SH", "EKS_NODEADM"})
# LaunchTemplateSpecification.overrides: "You can specify up to ten (10) launch template
# overrides"; targetInstanceTypes: "The following Batch InstanceTypes are not allowed: optimal,
# default_x86_64, and default_arm64" (API reference).
MAX_LAUNCH_TEMPLATE_OVERRIDES = 10
BATCH_INSTANCE_TYPES = frozenset({"optimal", "default_x86_64", "default_arm64"})
UPDATABLE_ALLOCATION_STRATEGIES = frozenset(
    {"BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"}
)
ALLOCATION_STRATEGIES = {
    "EC2": frozenset({"BEST_FIT", "BEST_FIT_PROGRESSIVE"}),
    "SPOT": frozenset(
        {
            "BEST_FIT",
            "BEST_FIT_PROGRESSIVE",
            "SPOT_CAPACITY_OPTIMIZED",
            "SPOT_PRICE_CAPACITY_OPTIMIZED",
        }
    ),
}
FARGATE_TYPES = frozenset({"FARGATE", "FARGATE_SPOT"})
# Fields that make no sense on Fargate; real Batch rejects each with "... is not applicable".
FARGATE_NOT_APPLICABLE = (
    "minvCpus",
    "desiredvCpus",
    "instanceTypes",
    "instanceRole",
    "ec2KeyPair",
    "imageId",
    "allocationStrategy",
    "bidPercentage",
    "spotIamFleetRole",
    "launchTemplate",
    "placementGroup",
    "scalingPolicy",
    "tags",
)
SET_VALUED_FIELDS = frozenset({"instanceTypes", "subnets", "securityGroupIds"})
MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE = 3
TRANSITIONAL = frozenset({"CREATING", "UPDATING", "DELETING"})
HEALTHY_CE = "ComputeEnvironment Healthy"
HEALTHY_QUEUE = "JobQueue Healthy"


def compute_environment_arn(reference: str) -> str:
    """The ARN of a compute environment given by name or ARN."""
    if reference.startswith("arn:"):
        return reference
    return f"{account.batch_arn_prefix()}:compute-environment/{reference}"


def job_queue_arn(reference: str) -> str:
    """The ARN of a job queue given by name or ARN."""
    if reference.startswith("arn:"):
        return reference
    return f"{account.batch_arn_prefix()}:job-queue/{reference}"


@dataclass(eq=False)
class ComputeEnvironment:
    """One compute environment and the vCPUs its running jobs hold."""

    name: str
    arn: str
    type: str
    state: str
    compute_resources: JsonObject | None
    service_role: str | None  # as given; None: the service-linked role
    update_policy: JsonObject | None
    unmanaged_vcpus: int | None
    ecs_cluster_arn: str
    uuid: str
    eks_configuration: JsonObject | None = None
    ecs_settings: JsonObject | None = None
    context: str | None = None
    status: str = "CREATING"
    status_reason: str | None = "Creating compute environment"
    used_vcpus: float = 0.0
    # queue ARN -> monotonic deadline until which a former queue still blocks deletion
    lingering_queues: dict[str, float] = field(default_factory=dict)
    timer: Timer | None = None

    @property
    def resource_type(self) -> str | None:
        """EC2, SPOT, FARGATE or FARGATE_SPOT (None for an unmanaged compute environment)."""
        return None if self.compute_resources is None else str(self.compute_resources["type"])

    @property
    def is_fargate(self) -> bool:
        """Whether this compute environment runs jobs on Fargate."""
        return self.resource_type in FARGATE_TYPES

    @property
    def is_managed_instances(self) -> bool:
        """Whether this compute environment runs on Amazon ECS Managed Instances."""
        return self.resource_type == MANAGED_INSTANCES

    @property
    def queue_type(self) -> str:
        """The jobQueueType of a queue over this compute environment (API reference,
        CreateJobQueue.jobQueueType: "EKS, ECS, or ECS_FARGATE depending on the compute
        environment")."""
        if self.eks_configuration is not None:
            return "EKS"
        if self.is_fargate:
            return "ECS_FARGATE"
        return MANAGED_INSTANCES if self.is_managed_instances else "ECS"

    @property
    def max_vcpus(self) -> int:
        """The vCPUs jobs may hold at once."""
        if self.compute_resources is None:
            return self.unmanaged_vcpus or 0
        return int(self.compute_resources.get("maxvCpus", 0))

    @property
    def free_vcpus(self) -> float:
        """vCPUs not held by running jobs."""
        return self.max_vcpus - self.used_vcpus

    @property
    def uses_service_linked_role(self) -> bool:
        """Whether Batch's service-linked role is this compute environment's service role."""
        return _is_service_linked_role(self.service_role)

    @property
    def accepts_jobs(self) -> bool:
        """Whether the scheduler may place jobs here now."""
        return self.state == "ENABLED" and self.status == "VALID"

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The ComputeEnvironmentDetail shape."""
        detail: JsonObject = {
            "computeEnvironmentName": self.name,
            "computeEnvironmentArn": self.arn,
            "ecsClusterArn": self.ecs_cluster_arn,
            "tags": tags,
            "type": self.type,
            "state": self.state,
            "status": self.status,
            "serviceRole": self._service_role_arn(),
            "containerOrchestrationType": "EKS" if self.eks_configuration is not None else "ECS",
            "uuid": self.uuid,
        }
        if self.eks_configuration is not None:
            detail["eksConfiguration"] = _described_eks(self.eks_configuration)
        if self.ecs_settings is not None:
            detail["ecsSettings"] = dict(self.ecs_settings)
        if self.context is not None:
            detail["context"] = self.context
        if self.status_reason:
            detail["statusReason"] = self.status_reason
        if self.compute_resources is not None:
            detail["computeResources"] = copy.deepcopy(self.compute_resources)
        if self.unmanaged_vcpus is not None:
            detail["unmanagedvCpus"] = self.unmanaged_vcpus
        if self.update_policy is not None:
            detail["updatePolicy"] = dict(self.update_policy)
        return detail

    def _service_role_arn(self) -> str:
        if self.service_role is None:
            return account.service_linked_role_arn()
        if self.service_role.startswith("arn:"):
            return self.service_role
        return account.role_arn(self.service_role) or (
            f"{account.current().arn_prefix('iam')}:role/{self.service_role}"
        )


@dataclass(eq=False)
class JobQueue:
    """One job queue; `order` holds (order, compute environment ARN), lowest order first."""

    name: str
    arn: str
    state: str
    priority: int
    order: list[tuple[int, str]]
    scheduling_policy_arn: str | None
    state_time_limit_actions: list[JsonObject]
    job_queue_type: str = "ECS"
    status: str = "CREATING"
    status_reason: str | None = "Creating job queue"
    timer: Timer | None = None

    @property
    def compute_environment_arns(self) -> list[str]:
        """The compute environments in placement order."""
        return [arn for _, arn in self.order]

    @property
    def accepts_submissions(self) -> bool:
        """Whether SubmitJob accepts jobs for this queue."""
        return self.state == "ENABLED" and self.status != "DELETING"

    @property
    def dispatches(self) -> bool:
        """Whether the scheduler places this queue's RUNNABLE jobs."""
        return self.state == "ENABLED" and self.status == "VALID"

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The JobQueueDetail shape."""
        detail: JsonObject = {
            "jobQueueName": self.name,
            "jobQueueArn": self.arn,
            "state": self.state,
            "status": self.status,
            "priority": self.priority,
            "computeEnvironmentOrder": [
                {"order": order, "computeEnvironment": arn} for order, arn in self.order
            ],
            "tags": tags,
            "jobStateTimeLimitActions": copy.deepcopy(self.state_time_limit_actions),
            "jobQueueType": self.job_queue_type,
        }
        if self.status_reason:
            detail["statusReason"] = self.status_reason
        if self.scheduling_policy_arn:
            detail["schedulingPolicyArn"] = self.scheduling_policy_arn
        return detail


def _is_service_linked_role(service_role: str | None) -> bool:
    return service_role is None or "role/aws-service-role/batch.amazonaws.com/" in service_role


@dataclass(frozen=True)
class InfrastructureHooks:
    """What the job scheduler wants to hear from the infrastructure."""

    capacity_changed: Callable[[], None]
    queue_deleting: Callable[[JobQueue], None]
    consistency_window: Callable[[], float]  # emulated seconds a detached CE stays related
    scheduling_policy_exists: Callable[[str], bool]


class Infrastructure:
    """Compute environments and job queues, and the Batch operations on them.

    Every method runs with the emulator's state lock held.
    """

    def __init__(self, clock: Clock, delays: Delays, timers: TimerThread, tags: TagStore) -> None:
        self._clock = clock
        self._delays = delays
        self._timers = timers
        self._tags = tags
        self.hooks: InfrastructureHooks | None = None
        self.compute_environments: dict[str, ComputeEnvironment] = {}
        self.queues: dict[str, JobQueue] = {}

    def clear(self) -> None:
        """Forget everything (emulator reset)."""
        self.compute_environments.clear()
        self.queues.clear()

    # --- lookups --------------------------------------------------------------------------------

    def find_compute_environment(self, reference: str) -> ComputeEnvironment | None:
        """A compute environment by name or ARN."""
        return self.compute_environments.get(compute_environment_arn(reference))

    def find_queue(self, reference: str) -> JobQueue | None:
        """A job queue by name or ARN."""
        return self.queues.get(job_queue_arn(reference))

    def queues_using_scheduling_policy(self, arn: str) -> list[str]:
        """The ARNs of the job queues (DELETING ones too) whose scheduling policy is `arn`."""
        return [queue.arn for queue in self.queues.values() if queue.scheduling_policy_arn == arn]

    def queue_compute_environments(self, queue: JobQueue) -> list[ComputeEnvironment]:
        """The queue's compute environments that still exist, in placement order."""
        found = (self.compute_environments.get(arn) for arn in queue.compute_environment_arns)
        return [ce for ce in found if ce is not None]

    # --- compute environments -----------------------------------------------------------------

    def create_compute_environment(self, body: JsonObject) -> JsonObject:
        """CreateComputeEnvironment."""
        name = required_str(body, "computeEnvironmentName")
        if not NAME_PATTERN.match(name):
            raise errors.invalid_parameter("Compute environment name should match valid pattern")
        arn = compute_environment_arn(name)
        if arn in self.compute_environments:
            raise errors.already_exists()
        ce_type = required_str(body, "type")
        if ce_type not in ("MANAGED", "UNMANAGED"):
            raise errors.invalid_parameter(f"Invalid compute environment type {ce_type}")
        resources = optional_object(body, "computeResources")
        eks = _validated_eks(optional_object(body, "eksConfiguration"))
        if ce_type == "MANAGED":
            if resources is None:
                raise errors.invalid_parameter(
                    "computeResources must be specified for a MANAGED compute environment"
                )
            resources = _validated_resources(copy.deepcopy(resources), eks=eks is not None)
        elif resources is not None:
            raise errors.invalid_parameter(
                "computeResources must not be specified for an UNMANAGED compute environment"
            )
        # CreateComputeEnvironment.unmanagedvCpus: "This parameter is only supported when the
        # type parameter is set to UNMANAGED." (API reference)
        if optional_int(body, "unmanagedvCpus") is not None and ce_type != "UNMANAGED":
            raise errors.unmanaged_vcpus_on_managed()
        ecs_settings = _validated_ecs_settings(optional_object(body, "ecsSettings"), eks)
        ce = ComputeEnvironment(
            name=name,
            arn=arn,
            type=ce_type,
            state=_state(body),
            compute_resources=resources,
            service_role=optional_str(body, "serviceRole"),
            update_policy=optional_object(body, "updatePolicy"),
            unmanaged_vcpus=optional_int(body, "unmanagedvCpus"),
            ecs_cluster_arn=(
                f"{account.current().arn_prefix('ecs')}:cluster/{name}_Batch_{uuid.uuid4()}"
            ),
            uuid=str(uuid.uuid4()),
            eks_configuration=eks,
            ecs_settings=ecs_settings,
            context=optional_str(body, "context"),
        )
        self.compute_environments[arn] = ce
        self._tags.add(arn, str_map(body, "tags"))
        self._settle_compute_environment_after(ce, self._delays.ce_create)
        return {"computeEnvironmentName": name, "computeEnvironmentArn": arn}

    def describe_compute_environments(self, body: JsonObject) -> JsonObject:
        """DescribeComputeEnvironments (by names/ARNs, or all; paginated)."""
        wanted = str_list(body, "computeEnvironments")
        if wanted:
            found = (self.find_compute_environment(reference) for reference in wanted)
            environments = list(dict.fromkeys(ce for ce in found if ce is not None))
        else:
            environments = sorted(self.compute_environments.values(), key=lambda ce: ce.name)
        items, token = page(
            environments, optional_int(body, "maxResults"), optional_str(body, "nextToken"), 100
        )
        result: JsonObject = {
            "computeEnvironments": [ce.describe(self._tags.of(ce.arn)) for ce in items]
        }
        if token:
            result["nextToken"] = token
        return result

    def update_compute_environment(self, body: JsonObject) -> JsonObject:
        """UpdateComputeEnvironment, with the scaling/infrastructure rules."""
        reference = required_str(body, "computeEnvironment")
        ce = self._existing_compute_environment(reference)
        if ce.status in TRANSITIONAL:
            raise errors.update_while_modified()
        new_role = optional_str(body, "serviceRole")
        requested = _without_read_only(
            copy.deepcopy(optional_object(body, "computeResources") or {})
        )
        changes = _resource_changes(ce, requested)
        _check_managed_instances_update(ce, changes)
        infrastructure = _infrastructure_fields(ce, changes)
        if infrastructure:
            _check_infrastructure_update(ce, changes, new_role, infrastructure)
        ecs_settings = optional_object(body, "ecsSettings")
        if ecs_settings is not None:
            _validated_ecs_settings(ecs_settings, ce.eks_configuration)
        access_entry = _requested_access_entry(ce, optional_object(body, "eksConfiguration"))
        # UpdateComputeEnvironment.unmanagedvCpus: "Don't specify this parameter for a managed
        # compute environment." (API reference)
        unmanaged = optional_int(body, "unmanagedvCpus")
        if unmanaged is not None and ce.type != "UNMANAGED":
            raise errors.unmanaged_vcpus_on_managed()
        if ce.compute_resources is not None:
            merged = {**ce.compute_resources, **changes}
            if "managedInstancesProvider" in changes:
                merged["managedInstancesProvider"] = _merged(
                    ce.compute_resources.get("managedInstancesProvider") or {},
                    changes["managedInstancesProvider"],
                )
            if "desiredvCpus" in merged and "desiredvCpus" not in changes:
                # Batch manages desiredvCpus itself: it follows new bounds.
                low, high = int(merged.get("minvCpus") or 0), int(merged.get("maxvCpus") or 0)
                merged["desiredvCpus"] = min(max(int(merged["desiredvCpus"]), low), high)
            _check_vcpu_bounds(merged)
            if str(merged.get("type")) in ALLOCATION_STRATEGIES:
                _check_ec2_members(merged, eks=ce.eks_configuration is not None)
            ce.compute_resources = merged
        elif changes:
            raise errors.invalid_parameter(
                "computeResources can't be updated for an UNMANAGED compute environment"
            )
        if "state" in body and body["state"] is not None:
            ce.state = _state(body)
        if new_role is not None:
            ce.service_role = new_role
        update_policy = optional_object(body, "updatePolicy")
        if update_policy is not None:
            ce.update_policy = {**(ce.update_policy or {}), **update_policy}
        if unmanaged is not None:
            ce.unmanaged_vcpus = unmanaged
        if ecs_settings is not None:
            ce.ecs_settings = {**(ce.ecs_settings or {}), **ecs_settings}
        if access_entry is not None and ce.eks_configuration is not None:
            ce.eks_configuration = {**ce.eks_configuration, "accessEntry": access_entry}
        ce.status, ce.status_reason = "UPDATING", "Updating compute environment"
        delay = (
            self._delays.ce_update_infrastructure
            if infrastructure
            else self._delays.ce_update_scaling
        )
        self._settle_compute_environment_after(ce, delay)
        return {"computeEnvironmentName": ce.name, "computeEnvironmentArn": ce.arn}

    def delete_compute_environment(self, body: JsonObject) -> JsonObject:
        """DeleteComputeEnvironment: only DISABLED, settled and used by no queue."""
        ce = self._existing_compute_environment(required_str(body, "computeEnvironment"))
        if ce.status in TRANSITIONAL:
            raise errors.being_modified()
        if ce.state != "DISABLED":
            raise errors.delete_not_disabled("compute environment")
        if self._is_related_to_a_queue(ce):
            raise errors.ce_relationship()
        ce.status, ce.status_reason = "DELETING", "Deleting compute environment"
        if ce.timer is not None:
            ce.timer.cancel()
        ce.timer = self._timers.schedule(
            self._clock.scaled(self._delays.ce_delete), lambda: self._forget_compute_environment(ce)
        )
        return {}

    def release_vcpus(self, ce_arn: str, vcpus: float) -> None:
        """Give back vCPUs a finished job held (the compute environment may be gone)."""
        ce = self.compute_environments.get(ce_arn)
        if ce is not None:
            ce.used_vcpus = max(0.0, ce.used_vcpus - vcpus)

    def _existing_compute_environment(self, reference: str) -> ComputeEnvironment:
        ce = self.find_compute_environment(reference)
        if ce is None or ce.status == "DELETING":
            raise errors.does_not_exist(compute_environment_arn(reference))
        return ce

    def _is_related_to_a_queue(self, ce: ComputeEnvironment) -> bool:
        if any(ce.arn in queue.compute_environment_arns for queue in self.queues.values()):
            return True
        now = self._clock.monotonic()
        ce.lingering_queues = {q: t for q, t in ce.lingering_queues.items() if t > now}
        return bool(ce.lingering_queues)

    def _settle_compute_environment_after(self, ce: ComputeEnvironment, delay: float) -> None:
        if ce.timer is not None:
            ce.timer.cancel()
        ce.timer = self._timers.schedule(
            self._clock.scaled(delay), lambda: self._settle_compute_environment(ce)
        )

    def _settle_compute_environment(self, ce: ComputeEnvironment) -> None:
        ce.timer = None
        problem = _reference_problem(ce)
        ce.status, ce.status_reason = ("INVALID", problem) if problem else ("VALID", HEALTHY_CE)
        self._capacity_changed()

    def _forget_compute_environment(self, ce: ComputeEnvironment) -> None:
        self.compute_environments.pop(ce.arn, None)
        self._tags.forget(ce.arn)

    # --- job queues -----------------------------------------------------------------------------

    def create_job_queue(self, body: JsonObject) -> JsonObject:
        """CreateJobQueue."""
        name = required_str(body, "jobQueueName")
        if not NAME_PATTERN.match(name):
            raise errors.invalid_parameter("Job queue name should match valid pattern")
        arn = job_queue_arn(name)
        if arn in self.queues:
            raise errors.already_exists()
        priority = optional_int(body, "priority")
        if priority is None:
            raise errors.invalid_parameter("priority is required")
        policy = optional_str(body, "schedulingPolicyArn")
        if policy is not None:
            self._check_scheduling_policy(policy)
        order = self._validated_order(object_list(body, "computeEnvironmentOrder"))
        derived = self._queue_type(order)
        # CreateJobQueue.jobQueueType: "For regular container jobs, this value is EKS, ECS, or
        # ECS_FARGATE depending on the compute environment" (API reference): given, it must
        # agree with them; SAGEMAKER_TRAINING needs service environments, which the emulator
        # does not have.
        queue_type = optional_str(body, "jobQueueType") or derived or "ECS"
        if derived is not None and queue_type != derived:
            raise errors.job_queue_type_mismatch(queue_type, derived)
        if queue_type not in ("EKS", "ECS", "ECS_FARGATE", MANAGED_INSTANCES):
            raise errors.job_queue_type_mismatch(queue_type, derived or "ECS")
        queue = JobQueue(
            name=name,
            arn=arn,
            state=_state(body),
            priority=priority,
            order=order,
            scheduling_policy_arn=policy,
            state_time_limit_actions=object_list(body, "jobStateTimeLimitActions"),
            job_queue_type=queue_type,
        )
        self.queues[arn] = queue
        self._tags.add(arn, str_map(body, "tags"))
        self._settle_queue_after(queue, self._delays.queue_create)
        return {"jobQueueName": name, "jobQueueArn": arn}

    def describe_job_queues(self, body: JsonObject) -> JsonObject:
        """DescribeJobQueues (by names/ARNs, or all; paginated)."""
        wanted = str_list(body, "jobQueues")
        if wanted:
            found = (self.find_queue(reference) for reference in wanted)
            queues = list(dict.fromkeys(queue for queue in found if queue is not None))
        else:
            queues = sorted(self.queues.values(), key=lambda queue: queue.name)
        items, token = page(
            queues, optional_int(body, "maxResults"), optional_str(body, "nextToken"), 100
        )
        result: JsonObject = {"jobQueues": [q.describe(self._tags.of(q.arn)) for q in items]}
        if token:
            result["nextToken"] = token
        return result

    def update_job_queue(self, body: JsonObject) -> JsonObject:
        """UpdateJobQueue: priority, state, compute environment order, time-limit actions."""
        queue = self._existing_queue(required_str(body, "jobQueue"))
        if queue.status in TRANSITIONAL:
            raise errors.update_while_modified()
        policy = self._new_scheduling_policy(queue, body)
        if body.get("computeEnvironmentOrder") is not None:
            new_order = self._validated_order(object_list(body, "computeEnvironmentOrder"))
            # UpdateJobQueue has no jobQueueType: the queue keeps the type it was created with.
            derived = self._queue_type(new_order)
            if derived is not None and derived != queue.job_queue_type:
                raise errors.job_queue_type_mismatch(queue.job_queue_type, derived)
            self._let_go(queue, set(queue.compute_environment_arns) - {a for _, a in new_order})
            queue.order = new_order
        priority = optional_int(body, "priority")
        if priority is not None:
            queue.priority = priority
        if body.get("state") is not None:
            queue.state = _state(body)
        if policy is not None:
            queue.scheduling_policy_arn = policy
        if body.get("jobStateTimeLimitActions") is not None:
            queue.state_time_limit_actions = object_list(body, "jobStateTimeLimitActions")
        queue.status, queue.status_reason = "UPDATING", "Updating job queue"
        self._settle_queue_after(queue, self._delays.queue_update)
        return {"jobQueueName": queue.name, "jobQueueArn": queue.arn}

    def delete_job_queue(self, body: JsonObject) -> JsonObject:
        """DeleteJobQueue: only DISABLED and settled; its jobs are terminated."""
        queue = self._existing_queue(required_str(body, "jobQueue"))
        if queue.status in TRANSITIONAL:
            raise errors.being_modified()
        if queue.state != "DISABLED":
            raise errors.delete_not_disabled("job queue")
        queue.status, queue.status_reason = "DELETING", "Deleting job queue"
        if self.hooks is not None:
            self.hooks.queue_deleting(queue)
        queue.timer = self._timers.schedule(
            self._clock.scaled(self._delays.queue_delete), lambda: self._forget_queue(queue)
        )
        return {}

    def _new_scheduling_policy(self, queue: JobQueue, body: JsonObject) -> str | None:
        """The scheduling policy an UpdateJobQueue request gives the queue (None: unchanged)."""
        requested = body.get("schedulingPolicyArn")
        if requested is None:
            return None
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateJobQueue.html
        # (schedulingPolicyArn): "Once a job queue is created, the fair-share scheduling policy
        # can be replaced but not removed." An empty ARN is the only way to ask for a removal;
        # on a queue without a policy it asks for nothing.
        if requested == "":
            if queue.scheduling_policy_arn is not None:
                raise errors.queue_scheduling_policy_removed(queue.arn)
            return None
        policy = optional_str(body, "schedulingPolicyArn")
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateJobQueue.html
        # (schedulingPolicyArn): "A job queue without a fair-share scheduling policy is scheduled
        # as a FIFO job queue and can't have a fair-share scheduling policy added."
        if queue.scheduling_policy_arn is None:
            raise errors.queue_scheduling_policy_added(queue.arn)
        if policy is not None:
            self._check_scheduling_policy(policy)
        return policy

    def _check_scheduling_policy(self, arn: str) -> None:
        # CreateJobQueue / UpdateJobQueue take "The Amazon Resource Name (ARN) of the fair-share
        # scheduling policy" (API reference pages above): a policy that does not exist is a
        # ClientException; its wording is not documented and follows the seen "<arn> does not
        # exist".
        exists = self.hooks.scheduling_policy_exists if self.hooks is not None else None
        if exists is None or not exists(arn):
            raise errors.does_not_exist(arn)

    def _existing_queue(self, reference: str) -> JobQueue:
        queue = self.find_queue(reference)
        if queue is None or queue.status == "DELETING":
            raise errors.does_not_exist(job_queue_arn(reference))
        return queue

    def _validated_order(self, entries: list[JsonObject]) -> list[tuple[int, str]]:
        if len(entries) > MAX_COMPUTE_ENVIRONMENTS_PER_QUEUE:
            raise errors.queue_too_many_ces()
        order: list[tuple[int, str]] = []
        families: set[bool] = set()
        queue_types: set[str] = set()
        for entry in entries:
            reference = required_str(entry, "computeEnvironment")
            position = optional_int(entry, "order")
            ce = self.find_compute_environment(reference)
            if ce is None or ce.status == "DELETING":
                raise errors.does_not_exist(compute_environment_arn(reference))
            if ce.status != "VALID":
                raise errors.queue_ce_not_valid(ce.arn)
            families.add(ce.is_fargate)
            queue_types.add(ce.queue_type)
            order.append((position if position is not None else len(order) + 1, ce.arn))
        if queue_types == {"ECS", "ECS_FARGATE"}:
            raise errors.queue_ce_mixed()
        if len(families) > 1 or len(queue_types) > 1:
            raise errors.queue_ce_types_mixed()
        if len({arn for _, arn in order}) != len(order):
            raise errors.invalid_parameter("A compute environment is listed twice")
        return sorted(order)

    def _queue_type(self, order: list[tuple[int, str]]) -> str | None:
        """The jobQueueType these compute environments make (None: no compute environment)."""
        found = (self.compute_environments.get(arn) for _, arn in order)
        types = {ce.queue_type for ce in found if ce is not None}
        return next(iter(types)) if len(types) == 1 else None

    def _let_go(self, queue: JobQueue, ce_arns: set[str]) -> None:
        # With the eventual-consistency fault, a compute environment a queue no longer uses
        # still counts as used for a while, as AWS reports after queue updates.
        window = self.hooks.consistency_window() if self.hooks else 0.0
        if window <= 0:
            return
        deadline = self._clock.monotonic() + self._clock.scaled(window)
        for arn in ce_arns:
            ce = self.compute_environments.get(arn)
            if ce is not None:
                ce.lingering_queues[queue.arn] = deadline

    def _settle_queue_after(self, queue: JobQueue, delay: float) -> None:
        if queue.timer is not None:
            queue.timer.cancel()
        queue.timer = self._timers.schedule(
            self._clock.scaled(delay), lambda: self._settle_queue(queue)
        )

    def _settle_queue(self, queue: JobQueue) -> None:
        queue.timer = None
        queue.status, queue.status_reason = "VALID", HEALTHY_QUEUE
        self._capacity_changed()

    def _forget_queue(self, queue: JobQueue) -> None:
        self._let_go(queue, set(queue.compute_environment_arns))
        self.queues.pop(queue.arn, None)
        self._tags.forget(queue.arn)

    def _capacity_changed(self) -> None:
        if self.hooks is not None:
            self.hooks.capacity_changed()


def _state(body: JsonObject) -> str:
    state = optional_str(body, "state") or "ENABLED"
    if state not in ("ENABLED", "DISABLED"):
        raise errors.invalid_parameter(f"Invalid state {state}, must be ENABLED or DISABLED")
    return state


def _validated_resources(resources: JsonObject, *, eks: bool) -> JsonObject:
    resources = _without_read_only(resources)
    resource_type = required_str(resources, "type")
    if eks and resource_type not in ALLOCATION_STRATEGIES:
        # Batch on Amazon EKS launches EC2 (On-Demand or Spot) nodes (user guide, "Amazon EKS
        # compute environments").
        raise errors.not_applicable_for_eks(f"Compute resource type {resource_type}")
    if resource_type in FARGATE_TYPES:
        for name in FARGATE_NOT_APPLICABLE:
            if resources.get(name) not in (None, [], {}):
                raise errors.not_applicable_for_fargate(name)
    elif resource_type == MANAGED_INSTANCES:
        for name in MANAGED_INSTANCES_NOT_APPLICABLE:
            if resources.get(name) not in (None, [], {}):
                raise errors.not_applicable_for_managed_instances(name)
        # ComputeResource.managedInstancesProvider: "required when computeResources.type is
        # ECS_MANAGED_INSTANCES" (API reference).
        if optional_object(resources, "managedInstancesProvider") is None:
            raise errors.managed_instances_provider_required()
    elif resource_type in ALLOCATION_STRATEGIES:
        if not resources.get("instanceRole"):
            raise errors.instance_role_required()
        if resources.get("minvCpus") is None:
            raise errors.min_vcpus_required()
        # ComputeResource.allocationStrategy: "This parameter is required for Amazon EKS
        # compute environments." (API reference)
        if eks and resources.get("allocationStrategy") is None:
            raise errors.eks_allocation_strategy_required()
        strategy = resources.setdefault("allocationStrategy", "BEST_FIT")
        if strategy not in ALLOCATION_STRATEGIES[resource_type]:
            raise errors.invalid_parameter(
                f"Invalid compute resource allocation strategy {strategy} for type {resource_type}"
            )
        resources.setdefault("desiredvCpus", resources["minvCpus"])
        _check_ec2_members(resources, eks=eks)
    else:
        raise errors.invalid_parameter(f"Invalid compute resource type {resource_type}")
    if resource_type != MANAGED_INSTANCES:
        # managedInstancesProvider "must not be specified for other compute environment types";
        # capacityTags "is only valid for ECS_MANAGED_INSTANCES compute environments" (API
        # reference, ComputeResource).
        for name in ("managedInstancesProvider", "capacityTags"):
            if resources.get(name) is not None:
                raise errors.only_for_managed_instances(name)
    if optional_int(resources, "maxvCpus") is None:
        raise errors.invalid_parameter("Resource maxvCpus is required.")
    _check_vcpu_bounds(resources)
    return resources


def _without_read_only(resources: JsonObject) -> JsonObject:
    """Ec2Configuration.batchImageStatus: "This field is read-only and only appears in the
    DescribeComputeEnvironments response" (API reference): a request's value is dropped."""
    for configuration in resources.get("ec2Configuration") or []:
        if isinstance(configuration, dict):
            configuration.pop("batchImageStatus", None)
    return resources


def _check_ec2_members(resources: JsonObject, *, eks: bool) -> None:
    """The rules of the EC2/SPOT members added since the first emulator: ec2Configuration image
    types, the launch template's userdataType and overrides, scalingPolicy."""
    for configuration in object_list(resources, "ec2Configuration"):
        image_type = required_str(configuration, "imageType")
        # Ec2Configuration.imageType: "The supported values are different for ECS and EKS
        # resources" (API reference).
        if image_type.startswith("EKS_") != eks:
            raise errors.image_type_family(image_type, eks)
        # imageKubernetesVersion: the Kubernetes version of an EKS AMI (same page).
        if configuration.get("imageKubernetesVersion") is not None and not eks:
            raise errors.eks_only("imageKubernetesVersion")
    template = optional_object(resources, "launchTemplate")
    if template is not None:
        _check_launch_template(template, str_list(resources, "instanceTypes"), eks=eks)
    policy = optional_object(resources, "scalingPolicy")
    delay = optional_int(policy, "minScaleDownDelayMinutes") if policy is not None else None
    # ComputeScalingPolicy.minScaleDownDelayMinutes: "Minimum value of 20. Maximum value of
    # 10080. Use 0 to unset and disable the scale down delay." (API reference)
    if delay is not None and delay != 0 and not 20 <= delay <= 10080:
        raise errors.scale_down_delay_out_of_range(delay)


def _check_launch_template(template: JsonObject, instance_types: list[str], *, eks: bool) -> None:
    # LaunchTemplateSpecification / LaunchTemplateSpecificationOverride (API reference): the
    # quoted rules below are theirs.
    entries = [template, *object_list(template, "overrides")]
    for entry in entries:
        # "The EKS node initialization process to use."
        userdata_type = entry.get("userdataType")
        if userdata_type is not None:
            if not eks:
                raise errors.eks_only("userdataType")
            if userdata_type not in USERDATA_TYPES:
                raise errors.enum_value("userdataType", str(userdata_type), tuple(USERDATA_TYPES))
    overrides = object_list(template, "overrides")
    if len(overrides) > MAX_LAUNCH_TEMPLATE_OVERRIDES:
        raise errors.launch_template_override(
            f"at most {MAX_LAUNCH_TEMPLATE_OVERRIDES} overrides per compute environment"
        )
    seen: list[str] = []
    for override in overrides:
        # "You must specify either the launch template ID or launch template name in the
        # request, but not both."
        if (override.get("launchTemplateId") is None) == (
            override.get("launchTemplateName") is None
        ):
            raise errors.launch_template_override(
                "specify either launchTemplateId or launchTemplateName, but not both"
            )
        targets = str_list(override, "targetInstanceTypes")
        # "This parameter is required when defining a launch template override."
        if not targets:
            raise errors.launch_template_override("targetInstanceTypes is required")
        for target in targets:
            if target in BATCH_INSTANCE_TYPES:
                raise errors.launch_template_override(f"{target} can't be a target instance type")
            # "can target only instance types and families that are included within the
            # ComputeResource.instanceTypes set"
            if not any(_within(target, allowed) for allowed in instance_types):
                raise errors.launch_template_override(
                    f"target instance type {target} is not in the compute environment's "
                    "instanceTypes"
                )
            # "can't overlap for the same compute environment"
            clash = next((s for s in seen if _within(s, target) or _within(target, s)), None)
            if clash is not None:
                raise errors.launch_template_override(
                    f"target instance types {clash} and {target} overlap"
                )
            seen.append(target)


def _within(instance_type: str, family_or_type: str) -> bool:
    return instance_type == family_or_type or instance_type.startswith(family_or_type + ".")


def _validated_eks(eks: JsonObject | None) -> JsonObject | None:
    """A copy of an EksConfiguration with the API reference's rules checked (the cluster is
    not looked up: the emulated account has no EKS)."""
    if eks is None:
        return None
    cluster = required_str(eks, "eksClusterArn")
    if not EKS_CLUSTER_ARN.match(cluster):
        raise errors.invalid_eks_configuration(f"{cluster} is not an EKS cluster ARN")
    namespace = required_str(eks, "kubernetesNamespace")
    if (
        len(namespace) >= 64
        or not KUBERNETES_NAMESPACE.match(namespace)
        or namespace == "default"
        or namespace.startswith("kube-")
    ):
        raise errors.invalid_eks_configuration(f"kubernetesNamespace {namespace} is not allowed")
    validated: JsonObject = {"eksClusterArn": cluster, "kubernetesNamespace": namespace}
    entry = optional_object(eks, "accessEntry")
    if entry is not None:
        validated["accessEntry"] = _validated_access_entry(entry)
    return validated


def _validated_access_entry(entry: JsonObject) -> JsonObject:
    # EksAccessEntry.desiredState is required; status "is a read-only field returned by
    # DescribeComputeEnvironments" (API reference): a request's status is dropped.
    state = required_str(entry, "desiredState")
    if state not in ACCESS_ENTRY_STATES:
        raise errors.enum_value("desiredState", state, tuple(sorted(ACCESS_ENTRY_STATES)))
    return {"desiredState": state}


def _described_eks(eks: JsonObject) -> JsonObject:
    """EksConfiguration as DescribeComputeEnvironments reports it. The observed access-entry
    status depends on the cluster's authentication mode, which the emulator does not model:
    ENABLED reads ACTIVE, anything else INACTIVE (an emulator choice)."""
    described = copy.deepcopy(eks)
    entry = described.get("accessEntry")
    if isinstance(entry, dict):
        entry["status"] = "ACTIVE" if entry.get("desiredState") == "ENABLED" else "INACTIVE"
    return described


def _validated_ecs_settings(
    settings: JsonObject | None, eks: JsonObject | None
) -> JsonObject | None:
    if settings is None:
        return None
    # EcsSettings: "control CloudWatch Container Insights collection" of the ECS cluster (API
    # reference); an EKS compute environment has none.
    if eks is not None:
        raise errors.not_applicable_for_eks("ecsSettings")
    insights = optional_str(settings, "containerInsights")
    if insights is not None and insights not in CONTAINER_INSIGHTS:
        raise errors.enum_value("containerInsights", insights, tuple(sorted(CONTAINER_INSIGHTS)))
    return dict(settings)


def _requested_access_entry(ce: ComputeEnvironment, update: JsonObject | None) -> JsonObject | None:
    """The access entry an UpdateComputeEnvironment asks for (None: none asked)."""
    if update is None:
        return None
    # UpdateComputeEnvironment.eksConfiguration: "Only specify this parameter if the compute
    # environment's containerOrchestrationType is EKS. Currently, the accessEntry setting is the
    # only Amazon EKS configuration that you can change" (API reference).
    if ce.eks_configuration is None:
        raise errors.eks_only("eksConfiguration")
    if set(update) - {"accessEntry"}:
        raise errors.eks_configuration_fixed()
    entry = optional_object(update, "accessEntry")
    return _validated_access_entry(entry) if entry is not None else None


def _check_managed_instances_update(ce: ComputeEnvironment, changes: JsonObject) -> None:
    """ComputeResourceUpdate (API reference): "You cannot change the type to or from
    ECS_MANAGED_INSTANCES"; managedInstancesProvider "is only valid when the compute environment
    type is ECS_MANAGED_INSTANCES", where "You cannot change capacityOptionType or fipsEnabled
    on update"."""
    new_type = changes.get("type")
    if new_type is not None and (new_type == MANAGED_INSTANCES) != ce.is_managed_instances:
        raise errors.managed_instances_type_change()
    if not ce.is_managed_instances:
        for name in MANAGED_INSTANCES_IN_PLACE_FIELDS:
            if name in changes:
                raise errors.only_for_managed_instances(name)
        return
    for name in changes:
        if name in MANAGED_INSTANCES_NOT_APPLICABLE:
            raise errors.not_applicable_for_managed_instances(name)
    provider = changes.get("managedInstancesProvider")
    template = provider.get("instanceLaunchTemplate") if isinstance(provider, dict) else None
    for member in MANAGED_INSTANCES_FIXED:
        if isinstance(template, dict) and member in template:
            raise errors.managed_instances_fixed_member(member)


def _merged(old: Any, new: Any) -> Any:
    """`new` over `old`, objects merged member by member (an update names what it changes)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{key: _merged(old.get(key), value) for key, value in new.items()}}
    return copy.deepcopy(new)


def _check_vcpu_bounds(resources: JsonObject) -> None:
    low = int(resources.get("minvCpus") or 0)
    high = int(resources.get("maxvCpus") or 0)
    desired = resources.get("desiredvCpus")
    if low < 0 or high < 0:
        raise errors.invalid_parameter("vCpus must be non-negative")
    if low > high:
        raise errors.invalid_parameter("minvCpus must be less than or equal to maxvCpus")
    if desired is not None and not low <= int(desired) <= high:
        raise errors.invalid_parameter("desiredvCpus must be between minvCpus and maxvCpus")


def _resource_changes(ce: ComputeEnvironment, requested: JsonObject) -> JsonObject:
    """The requested computeResources fields whose value differs from the current one."""
    current = ce.compute_resources or {}
    return {
        name: value
        for name, value in requested.items()
        if value is not None and not _same_value(name, current.get(name), value)
    }


def _same_value(name: str, old: Any, new: Any) -> bool:
    if name in SET_VALUED_FIELDS and isinstance(old, list) and isinstance(new, list):
        return set(old) == set(new)
    return bool(old == new)


def _infrastructure_fields(ce: ComputeEnvironment, changes: JsonObject) -> list[str]:
    in_place = SCALING_FIELDS | (FARGATE_IN_PLACE_FIELDS if ce.is_fargate else frozenset())
    if ce.is_managed_instances:
        in_place |= MANAGED_INSTANCES_IN_PLACE_FIELDS
    return [name for name in changes if name not in in_place]


def _check_infrastructure_update(
    ce: ComputeEnvironment, changes: JsonObject, new_role: str | None, fields: list[str]
) -> None:
    new_type = changes.get("type")
    if new_type is not None and (new_type in FARGATE_TYPES) != ce.is_fargate:
        raise errors.cannot_change_provisioning(str(ce.resource_type), str(new_type))
    current_strategy = (ce.compute_resources or {}).get("allocationStrategy")
    strategies = {current_strategy, changes.get("allocationStrategy", current_strategy)}
    roles_ok = ce.uses_service_linked_role and (
        new_role is None or _is_service_linked_role(new_role)
    )
    if not roles_ok or not strategies <= UPDATABLE_ALLOCATION_STRATEGIES:
        raise errors.infrastructure_update_not_allowed(fields)


def _reference_problem(ce: ComputeEnvironment) -> str | None:
    """Why a compute environment is INVALID, or None; the texts follow real statusReasons."""
    if ce.service_role is not None and account.role_arn(ce.service_role) is None:
        return (
            "CLIENT_ERROR - Not authorized to perform sts:AssumeRole (Service: "
            "AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied)"
        )
    resources = ce.compute_resources or {}
    instance_role = resources.get("instanceRole")
    if instance_role and not account.instance_profile_exists(str(instance_role)):
        return f"CLIENT_ERROR - Invalid IamInstanceProfile: {instance_role}"
    fleet_role = resources.get("spotIamFleetRole")
    if fleet_role and account.role_arn(str(fleet_role)) is None:
        return f"CLIENT_ERROR - The spot fleet role {fleet_role} does not exist"
    for subnet in resources.get("subnets") or []:
        if not account.subnet_exists(subnet):
            return (
                f"CLIENT_ERROR - The subnet ID '{subnet}' does not exist (Service: AmazonEC2; "
                "Status Code: 400; Error Code: InvalidSubnetID.NotFound)"
            )
    for group in resources.get("securityGroupIds") or []:
        if not account.security_group_exists(group):
            return (
                f"CLIENT_ERROR - The security group '{group}' does not exist (Service: "
                "AmazonEC2; Status Code: 400; Error Code: InvalidGroup.NotFound)"
            )
    return None
