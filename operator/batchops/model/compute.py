"""BatchComputeEnvironment: the spec as the user wrote it, and the compute environment AWS reports.

Both sides share `ComputeResources` so that the plans compare like with like. In the spec, `None`
means "not set" (AWS chooses); in an observed CE it means AWS did not report the field.

The spec is read by `model/compute_parsing.py`; a replacement's progress is
`model/replacement.py`. Read-only members Batch reports in DescribeComputeEnvironments
(`ec2Configuration[].batchImageStatus`, `eksConfiguration.accessEntry.status`) are accepted in a
spec, so that a described compute environment pastes in, and are never sent nor compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from batchops.model.common import (
    DeletionPolicy,
    ResourceState,
    empty_map,
    frozen_map,
)
from batchops.model.request_surface import JsonValue, freeze_json_object

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        ComputeResourceOutputTypeDef,
        EksConfigurationTypeDef,
        LaunchTemplateSpecificationOutputTypeDef,
        UpdatePolicyTypeDef,
    )


class ComputeEnvironmentType(StrEnum):
    """CEType: who manages the instances."""

    MANAGED = "MANAGED"
    UNMANAGED = "UNMANAGED"


class ComputeResourceType(StrEnum):
    """CRType: every compute type botocore's model lists."""

    EC2 = "EC2"
    SPOT = "SPOT"
    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"
    ECS_MANAGED_INSTANCES = "ECS_MANAGED_INSTANCES"

    @property
    def is_fargate(self) -> bool:
        return self in (ComputeResourceType.FARGATE, ComputeResourceType.FARGATE_SPOT)

    @property
    def is_managed_instances(self) -> bool:
        """Amazon ECS Managed Instances: the capacity is described in managedInstancesProvider."""
        return self is ComputeResourceType.ECS_MANAGED_INSTANCES

    @property
    def is_ec2(self) -> bool:
        """EC2 or SPOT: instances Batch launches itself (ECS or EKS)."""
        return self in (ComputeResourceType.EC2, ComputeResourceType.SPOT)


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
class LaunchTemplateOverride:
    """LaunchTemplateSpecificationOverride: another launch template for some instance types."""

    target_instance_types: tuple[str, ...]
    launch_template_id: str | None = None
    launch_template_name: str | None = None
    version: str | None = None
    userdata_type: str | None = None


@dataclass(frozen=True)
class LaunchTemplate:
    """LaunchTemplateSpecification: exactly one of id or name; version defaults to $Default.

    `overrides` None: none given (AWS keeps none either: an update without overrides unsets
    them, API reference LaunchTemplateSpecification.overrides)."""

    launch_template_id: str | None = None
    launch_template_name: str | None = None
    version: str | None = None
    userdata_type: str | None = None
    overrides: tuple[LaunchTemplateOverride, ...] | None = None


@dataclass(frozen=True)
class Ec2Configuration:
    """One Ec2Configuration entry (AMI selection)."""

    image_type: str
    image_id_override: str | None = None
    image_kubernetes_version: str | None = None


@dataclass(frozen=True)
class ScalingPolicy:
    """ComputeScalingPolicy; minScaleDownDelayMinutes 0 means no delay (AWS's "unset")."""

    min_scale_down_delay_minutes: int | None = None


@dataclass(frozen=True)
class EksConfiguration:
    """EksConfiguration: the EKS cluster and namespace an EKS compute environment runs in, and
    the access entry Batch should manage (`desiredState`; None: Batch records none)."""

    eks_cluster_arn: str
    kubernetes_namespace: str
    access_entry_desired_state: str | None = None


@dataclass(frozen=True)
class EcsSettings:
    """EcsSettings: CloudWatch Container Insights for the compute environment."""

    container_insights: str | None = None


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
    placement_group: str | None = None
    scaling_policy: ScalingPolicy | None = None
    managed_instances_provider: Mapping[str, JsonValue] | None = None
    """ManagedInstancesProvider as written (frozen JSON): handed to Batch unchanged."""
    capacity_tags: Mapping[str, str] | None = None

    @classmethod
    def from_describe(cls, cr: ComputeResourceOutputTypeDef) -> ComputeResources:
        """Read the computeResources of a DescribeComputeEnvironments item."""
        template = cr.get("launchTemplate")
        ec2_configuration = cr.get("ec2Configuration")
        strategy = cr.get("allocationStrategy")
        tags = cr.get("tags")
        scaling = cr.get("scalingPolicy")
        provider = cr.get("managedInstancesProvider")
        capacity_tags = cr.get("capacityTags")
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
            launch_template=_launch_template_from_describe(template) if template else None,
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
            placement_group=cr.get("placementGroup"),
            scaling_policy=(
                ScalingPolicy(scaling.get("minScaleDownDelayMinutes"))
                if scaling is not None
                else None
            ),
            managed_instances_provider=freeze_json_object(provider) if provider else None,
            capacity_tags=frozen_map(capacity_tags) if capacity_tags is not None else None,
        )


@dataclass(frozen=True)
class ComputeSpec:
    """The spec of a BatchComputeEnvironment, parsed once at the handler boundary."""

    type: ComputeEnvironmentType = ComputeEnvironmentType.MANAGED
    state: ResourceState = ResourceState.ENABLED
    compute_resources: ComputeResources | None = None
    service_role: str | None = None
    update_policy: UpdatePolicy | None = None
    unmanaged_vcpus: int | None = None
    eks_configuration: EksConfiguration | None = None
    ecs_settings: EcsSettings | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    name: str | None = None
    region: str | None = None
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    adopt: bool = False
    account_ref: str | None = None
    """spec.accountRef: the BatchAccount to act in (None: the namespace's default)."""


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
    unmanaged_vcpus: int | None = None
    eks_configuration: EksConfiguration | None = None
    ecs_settings: EcsSettings | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)

    @classmethod
    def from_describe(cls, d: ComputeEnvironmentDetailTypeDef) -> ObservedComputeEnvironment:
        """Read a ComputeEnvironmentDetail as boto3 returns it."""
        compute_resources = d.get("computeResources")
        update_policy = d.get("updatePolicy")
        eks = d.get("eksConfiguration")
        ecs_settings = d.get("ecsSettings")
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
            unmanaged_vcpus=d.get("unmanagedvCpus"),
            eks_configuration=_eks_from_describe(eks) if eks else None,
            ecs_settings=(
                EcsSettings(ecs_settings.get("containerInsights")) if ecs_settings else None
            ),
            tags=frozen_map(d.get("tags")),
        )


def _launch_template_from_describe(
    template: LaunchTemplateSpecificationOutputTypeDef,
) -> LaunchTemplate:
    overrides = template.get("overrides")
    return LaunchTemplate(
        launch_template_id=template.get("launchTemplateId"),
        launch_template_name=template.get("launchTemplateName"),
        version=template.get("version"),
        userdata_type=template.get("userdataType"),
        overrides=(
            tuple(
                LaunchTemplateOverride(
                    target_instance_types=tuple(o.get("targetInstanceTypes", [])),
                    launch_template_id=o.get("launchTemplateId"),
                    launch_template_name=o.get("launchTemplateName"),
                    version=o.get("version"),
                    userdata_type=o.get("userdataType"),
                )
                for o in overrides
            )
            if overrides is not None
            else None
        ),
    )


def _eks_from_describe(eks: EksConfigurationTypeDef) -> EksConfiguration:
    entry = eks.get("accessEntry")
    return EksConfiguration(
        eks_cluster_arn=eks["eksClusterArn"],
        kubernetes_namespace=eks["kubernetesNamespace"],
        access_entry_desired_state=entry.get("desiredState") if entry else None,
    )


def _update_policy_from_describe(policy: UpdatePolicyTypeDef) -> UpdatePolicy:
    return UpdatePolicy(
        terminate_jobs_on_update=policy.get("terminateJobsOnUpdate"),
        job_execution_timeout_minutes=policy.get("jobExecutionTimeoutMinutes"),
    )


def _opt_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None
