"""BatchComputeEnvironment: the spec as the user wrote it, and the compute environment AWS reports.

Both sides share `ComputeResources` so that the plans compare like with like. In the spec, `None`
means "not set" (AWS chooses); in an observed CE it means AWS did not report the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from batchops.model.common import (
    DeletionPolicy,
    FieldError,
    FieldReader,
    ResourceState,
    check_tags,
    empty_map,
    format_time,
    frozen_map,
    read_managed_fields,
)

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        ComputeResourceOutputTypeDef,
        UpdatePolicyTypeDef,
    )


class ComputeEnvironmentType(StrEnum):
    """CEType: who manages the instances."""

    MANAGED = "MANAGED"
    UNMANAGED = "UNMANAGED"


class ComputeResourceType(StrEnum):
    """CRType, restricted to the kinds batchops manages."""

    EC2 = "EC2"
    SPOT = "SPOT"
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"

    @property
    def is_fargate(self) -> bool:
        return self in (ComputeResourceType.FARGATE, ComputeResourceType.FARGATE_SPOT)


class AllocationStrategy(StrEnum):
    """CRAllocationStrategy."""

    BEST_FIT = "BEST_FIT"
    BEST_FIT_PROGRESSIVE = "BEST_FIT_PROGRESSIVE"
    BEST_FIT_PROGRESSIVE_ORDERED = "BEST_FIT_PROGRESSIVE_ORDERED"
    SPOT_CAPACITY_OPTIMIZED = "SPOT_CAPACITY_OPTIMIZED"
    SPOT_PRICE_CAPACITY_OPTIMIZED = "SPOT_PRICE_CAPACITY_OPTIMIZED"
    SPOT_CAPACITY_OPTIMIZED_PRIORITIZED = "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED"

    @property
    def orders_instance_types(self) -> bool:
        """These two strategies honour the order of instanceTypes, so order is part of the spec."""
        return self in (
            AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED,
            AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED,
        )


class BatchStatus(StrEnum):
    """CEStatus / JQStatus: what AWS is doing with the resource."""

    CREATING = "CREATING"
    UPDATING = "UPDATING"
    DELETING = "DELETING"
    DELETED = "DELETED"
    VALID = "VALID"
    INVALID = "INVALID"

    @property
    def settled(self) -> bool:
        """VALID or INVALID: AWS accepts the next update or delete."""
        return self in (BatchStatus.VALID, BatchStatus.INVALID)


@dataclass(frozen=True)
class LaunchTemplate:
    """LaunchTemplateSpecification: exactly one of id or name; version defaults to $Default."""

    launch_template_id: str | None = None
    launch_template_name: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Ec2Configuration:
    """One Ec2Configuration entry (AMI selection)."""

    image_type: str
    image_id_override: str | None = None
    image_kubernetes_version: str | None = None


@dataclass(frozen=True)
class UpdatePolicy:
    """How running jobs are treated during an infrastructure update."""

    terminate_jobs_on_update: bool | None = None
    job_execution_timeout_minutes: int | None = None


@dataclass(frozen=True)
class ComputeResources:
    """ComputeResource, the part of a MANAGED compute environment that describes its instances."""

    type: ComputeResourceType
    max_vcpus: int
    allocation_strategy: AllocationStrategy | None = None
    min_vcpus: int | None = None
    desired_vcpus: int | None = None
    instance_types: tuple[str, ...] | None = None
    subnets: tuple[str, ...] | None = None
    security_group_ids: tuple[str, ...] | None = None
    instance_role: str | None = None
    spot_iam_fleet_role: str | None = None
    bid_percentage: int | None = None
    ec2_key_pair: str | None = None
    launch_template: LaunchTemplate | None = None
    ec2_configuration: tuple[Ec2Configuration, ...] | None = None
    tags: Mapping[str, str] | None = None

    @classmethod
    def from_describe(cls, cr: ComputeResourceOutputTypeDef) -> ComputeResources:
        """Read the computeResources of a DescribeComputeEnvironments item."""
        template = cr.get("launchTemplate")
        ec2_configuration = cr.get("ec2Configuration")
        strategy = cr.get("allocationStrategy")
        tags = cr.get("tags")
        return cls(
            type=ComputeResourceType(cr["type"]),
            max_vcpus=cr["maxvCpus"],
            allocation_strategy=AllocationStrategy(strategy) if strategy else None,
            min_vcpus=cr.get("minvCpus"),
            desired_vcpus=cr.get("desiredvCpus"),
            instance_types=_opt_tuple(cr.get("instanceTypes")),
            subnets=_opt_tuple(cr.get("subnets")),
            security_group_ids=_opt_tuple(cr.get("securityGroupIds")),
            instance_role=cr.get("instanceRole"),
            spot_iam_fleet_role=cr.get("spotIamFleetRole"),
            bid_percentage=cr.get("bidPercentage"),
            ec2_key_pair=cr.get("ec2KeyPair"),
            launch_template=(
                LaunchTemplate(
                    launch_template_id=template.get("launchTemplateId"),
                    launch_template_name=template.get("launchTemplateName"),
                    version=template.get("version"),
                )
                if template
                else None
            ),
            ec2_configuration=(
                tuple(
                    Ec2Configuration(
                        image_type=c["imageType"],
                        image_id_override=c.get("imageIdOverride"),
                        image_kubernetes_version=c.get("imageKubernetesVersion"),
                    )
                    for c in ec2_configuration
                )
                if ec2_configuration is not None
                else None
            ),
            tags=frozen_map(tags) if tags is not None else None,
        )


@dataclass(frozen=True)
class ComputeSpec:
    """The spec of a BatchComputeEnvironment, parsed once at the handler boundary."""

    type: ComputeEnvironmentType = ComputeEnvironmentType.MANAGED
    state: ResourceState = ResourceState.ENABLED
    compute_resources: ComputeResources | None = None
    service_role: str | None = None
    update_policy: UpdatePolicy | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    name: str | None = None
    region: str | None = None
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    adopt: bool = False


@dataclass(frozen=True)
class ObservedComputeEnvironment:
    """One item of DescribeComputeEnvironments, reduced to what the plans compare."""

    name: str
    arn: str
    type: ComputeEnvironmentType
    state: ResourceState
    status: BatchStatus
    status_reason: str | None = None
    service_role: str | None = None
    compute_resources: ComputeResources | None = None
    update_policy: UpdatePolicy | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)

    @classmethod
    def from_describe(cls, d: ComputeEnvironmentDetailTypeDef) -> ObservedComputeEnvironment:
        """Read a ComputeEnvironmentDetail as boto3 returns it."""
        compute_resources = d.get("computeResources")
        update_policy = d.get("updatePolicy")
        return cls(
            name=d["computeEnvironmentName"],
            arn=d["computeEnvironmentArn"],
            type=ComputeEnvironmentType(d.get("type", "MANAGED")),
            # Both are always present in real responses; the fallbacks keep a sparse emulator
            # response from looking like a different resource.
            state=ResourceState(d.get("state", "ENABLED")),
            status=BatchStatus(d.get("status", "VALID")),
            status_reason=d.get("statusReason"),
            service_role=d.get("serviceRole"),
            compute_resources=(
                ComputeResources.from_describe(compute_resources) if compute_resources else None
            ),
            update_policy=_update_policy_from_describe(update_policy) if update_policy else None,
            tags=frozen_map(d.get("tags")),
        )


class ReplacementPhase(StrEnum):
    """Where a blue/green replacement stands, as shown in `status.replacement.phase`."""

    IN_PROGRESS = "InProgress"
    STALLED = "Stalled"
    COMPLETED = "Completed"
    CANCELLED = "Cancelled"

    @property
    def active(self) -> bool:
        """The replacement still owns the object: the next reconcile must resume it."""
        return self in (ReplacementPhase.IN_PROGRESS, ReplacementPhase.STALLED)


class ReplacementStatusDict(TypedDict, total=False):
    """`status.replacement` as stored on the object."""

    phase: str
    step: str
    successorName: str
    successorArn: str
    previousName: str
    previousArn: str
    startedAt: str
    message: str


@dataclass(frozen=True)
class ReplacementProgress:
    """A blue/green replacement's progress, persisted in status so a restart resumes it."""

    phase: ReplacementPhase
    step: str
    successor_name: str
    previous_name: str
    started_at: datetime
    message: str
    successor_arn: str | None = None
    previous_arn: str | None = None

    def to_status(self) -> ReplacementStatusDict:
        """The JSON shape for `status.replacement`."""
        out: ReplacementStatusDict = {
            "phase": self.phase.value,
            "step": self.step,
            "successorName": self.successor_name,
            "previousName": self.previous_name,
            "startedAt": format_time(self.started_at),
            "message": self.message,
        }
        if self.successor_arn:
            out["successorArn"] = self.successor_arn
        if self.previous_arn:
            out["previousArn"] = self.previous_arn
        return out

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> ReplacementProgress:
        """Read `status.replacement`; a malformed record raises FieldError."""
        reader = FieldReader(raw, "status.replacement", error=FieldError)
        started_at = reader.opt_time("startedAt")
        if started_at is None:
            raise reader.fail("startedAt", "is required")
        return cls(
            phase=ReplacementPhase(reader.enum("phase", [p.value for p in ReplacementPhase])),
            step=reader.req_str("step"),
            successor_name=reader.req_str("successorName"),
            previous_name=reader.req_str("previousName"),
            started_at=started_at,
            message=reader.opt_str("message") or "",
            successor_arn=reader.opt_str("successorArn"),
            previous_arn=reader.opt_str("previousArn"),
        )


def parse_compute_spec(raw: Mapping[str, object]) -> ComputeSpec:
    """Parse `spec` of a BatchComputeEnvironment; raises SpecError naming the bad field."""
    spec = FieldReader(raw, "spec")
    ce_type = ComputeEnvironmentType(
        spec.enum("type", list(ComputeEnvironmentType), default=ComputeEnvironmentType.MANAGED)
    )
    resources_reader = spec.opt_obj("computeResources")
    compute_resources = _parse_compute_resources(resources_reader) if resources_reader else None
    # The CRD's CEL rules say the same; repeated here because a MANAGED CE without resources
    # would otherwise reach AWS as an opaque ClientException.
    if ce_type is ComputeEnvironmentType.MANAGED and compute_resources is None:
        raise spec.fail("computeResources", "is required when type is MANAGED")
    if ce_type is ComputeEnvironmentType.UNMANAGED and compute_resources is not None:
        raise spec.fail("computeResources", "must not be set when type is UNMANAGED")
    policy_reader = spec.opt_obj("updatePolicy")
    return ComputeSpec(
        type=ce_type,
        state=ResourceState(spec.enum("state", list(ResourceState), default="ENABLED")),
        compute_resources=compute_resources,
        service_role=spec.opt_str("serviceRole"),
        update_policy=(
            UpdatePolicy(
                terminate_jobs_on_update=policy_reader.opt_bool("terminateJobsOnUpdate"),
                job_execution_timeout_minutes=policy_reader.opt_int("jobExecutionTimeoutMinutes"),
            )
            if policy_reader
            else None
        ),
        **read_managed_fields(spec),
    )


def _parse_compute_resources(cr: FieldReader) -> ComputeResources:
    strategy = cr.opt_enum("allocationStrategy", list(AllocationStrategy))
    template = cr.opt_obj("launchTemplate")
    configurations = cr.obj_list("ec2Configuration")
    tags = cr.opt_str_map("tags")
    if tags is not None:
        tags = check_tags(cr, "tags")
    return ComputeResources(
        type=ComputeResourceType(cr.enum("type", list(ComputeResourceType))),
        max_vcpus=cr.req_int("maxvCpus"),
        allocation_strategy=AllocationStrategy(strategy) if strategy else None,
        min_vcpus=cr.opt_int("minvCpus"),
        desired_vcpus=cr.opt_int("desiredvCpus"),
        instance_types=cr.opt_str_list("instanceTypes"),
        subnets=cr.opt_str_list("subnets"),
        security_group_ids=cr.opt_str_list("securityGroupIds"),
        instance_role=cr.opt_str("instanceRole"),
        spot_iam_fleet_role=cr.opt_str("spotIamFleetRole"),
        bid_percentage=cr.opt_int("bidPercentage"),
        ec2_key_pair=cr.opt_str("ec2KeyPair"),
        launch_template=(
            LaunchTemplate(
                launch_template_id=template.opt_str("launchTemplateId"),
                launch_template_name=template.opt_str("launchTemplateName"),
                version=template.opt_str("version"),
            )
            if template
            else None
        ),
        ec2_configuration=(
            tuple(
                Ec2Configuration(
                    image_type=c.req_str("imageType"),
                    image_id_override=c.opt_str("imageIdOverride"),
                    image_kubernetes_version=c.opt_str("imageKubernetesVersion"),
                )
                for c in configurations
            )
            if configurations is not None
            else None
        ),
        tags=tags,
    )


def _update_policy_from_describe(policy: UpdatePolicyTypeDef) -> UpdatePolicy:
    return UpdatePolicy(
        terminate_jobs_on_update=policy.get("terminateJobsOnUpdate"),
        job_execution_timeout_minutes=policy.get("jobExecutionTimeoutMinutes"),
    )


def _opt_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None
