"""BatchComputeEnvironment: the spec as the user wrote it, and the compute environment AWS reports.

Both sides share `ComputeResources` so that the plans compare like with like. In the spec, `None`
means "not set" (AWS chooses); in an observed CE it means AWS did not report the field.

The parser repeats each CEL rule of the CRD that the operator relies on (same message), so an
object that reached the API server some other way, or `batchops validate`, fails the same way.
Read-only members Batch reports in DescribeComputeEnvironments (`ec2Configuration[].
batchImageStatus`, `eksConfiguration.accessEntry.status`) are accepted in a spec, so that a
described compute environment pastes in, and are never sent nor compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from batchops.model.request_surface import JsonValue, freeze_json

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
            managed_instances_provider=_frozen_object(provider) if provider else None,
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
    eks_configuration = _parse_eks_configuration(spec)
    resources_reader = spec.opt_obj("computeResources")
    raw_resources = raw.get("computeResources")
    compute_resources = (
        _parse_compute_resources(
            resources_reader,
            raw_resources if isinstance(raw_resources, Mapping) else {},
            eks=eks_configuration is not None,
        )
        if resources_reader
        else None
    )
    # The CRD's CEL rules say the same; repeated here because a MANAGED CE without resources
    # would otherwise reach AWS as an opaque ClientException.
    if ce_type is ComputeEnvironmentType.MANAGED and compute_resources is None:
        raise spec.fail("computeResources", "is required when type is MANAGED")
    if ce_type is ComputeEnvironmentType.UNMANAGED and compute_resources is not None:
        raise spec.fail("computeResources", "must not be set when type is UNMANAGED")
    unmanaged_vcpus = spec.opt_int("unmanagedvCpus")
    # CreateComputeEnvironment.unmanagedvCpus: "only supported when the type parameter is set
    # to UNMANAGED" (API reference).
    if unmanaged_vcpus is not None and ce_type is not ComputeEnvironmentType.UNMANAGED:
        raise spec.fail(
            "unmanagedvCpus", "unmanagedvCpus applies only to UNMANAGED compute environments"
        )
    if eks_configuration is not None and compute_resources is not None:
        _check_eks_resources(spec, compute_resources)
    settings_reader = spec.opt_obj("ecsSettings")
    ecs_settings = (
        EcsSettings(settings_reader.opt_enum("containerInsights", list(_CONTAINER_INSIGHTS)))
        if settings_reader
        else None
    )
    if ecs_settings is not None and eks_configuration is not None:
        raise spec.fail("ecsSettings", _ECS_SETTINGS_ON_EKS)
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
        unmanaged_vcpus=unmanaged_vcpus,
        eks_configuration=eks_configuration,
        ecs_settings=ecs_settings,
        **read_managed_fields(spec),
    )


# Messages shared with the CRD's CEL rules (crds/batchcomputeenvironments.yaml), word for word.
_ECS_SETTINGS_ON_EKS = (
    "ecsSettings (Amazon ECS Container Insights) doesn't apply to an EKS compute environment "
    "(eksConfiguration)"
)
_EKS_TYPES = "eksConfiguration needs computeResources of type EC2 or SPOT"
_EKS_STRATEGY = "an EKS compute environment (eksConfiguration) needs an allocationStrategy"
_IMAGE_FAMILY = (
    "ec2Configuration imageType must be an EKS_ type on an EKS compute environment "
    "(eksConfiguration) and not an EKS_ type otherwise"
)
_KUBERNETES_VERSION = (
    "imageKubernetesVersion applies only to EKS compute environments (eksConfiguration)"
)
_USERDATA_TYPE = (
    "userdataType (EKS node initialization) applies only to EKS compute environments "
    "(eksConfiguration)"
)
_NAMESPACE = "kubernetesNamespace can't be default or start with kube-"
_NOT_FOR_MANAGED_INSTANCES = (
    "minvCpus",
    "desiredvCpus",
    "allocationStrategy",
    "instanceTypes",
    "subnets",
    "securityGroupIds",
    "instanceRole",
    "ec2KeyPair",
    "launchTemplate",
    "ec2Configuration",
    "tags",
)
_MANAGED_INSTANCES_ONLY = (
    "ECS_MANAGED_INSTANCES takes only maxvCpus, managedInstancesProvider and capacityTags: its "
    "network, instance profile and instance types are part of managedInstancesProvider"
)
_SCALE_DOWN_DELAY = "minScaleDownDelayMinutes is 0 (no delay) or between 20 and 10080"
# LaunchTemplateSpecificationOverride.targetInstanceTypes: "The following Batch InstanceTypes
# are not allowed: optimal, default_x86_64, and default_arm64" (API reference).
_BATCH_INSTANCE_TYPES = ("optimal", "default_x86_64", "default_arm64")
_CONTAINER_INSIGHTS = ("ENABLED", "ENHANCED", "DISABLED")
_ACCESS_ENTRY_STATES = ("ENABLED", "DISABLED", "INHERIT_FROM_CLUSTER")
USERDATA_TYPES = ("EKS_BOOTSTRAP_SH", "EKS_NODEADM")


def _parse_eks_configuration(spec: FieldReader) -> EksConfiguration | None:
    eks = spec.opt_obj("eksConfiguration")
    if eks is None:
        return None
    namespace = eks.req_str("kubernetesNamespace")
    # EksConfiguration.kubernetesNamespace: "can't be set to default, can't start with kube-"
    # (API reference).
    if namespace == "default" or namespace.startswith("kube-"):
        raise eks.fail("kubernetesNamespace", _NAMESPACE)
    entry = eks.opt_obj("accessEntry")
    return EksConfiguration(
        eks_cluster_arn=eks.req_str("eksClusterArn"),
        kubernetes_namespace=namespace,
        # accessEntry.status is read-only (DescribeComputeEnvironments): not kept.
        access_entry_desired_state=(
            entry.enum("desiredState", list(_ACCESS_ENTRY_STATES)) if entry else None
        ),
    )


def _check_eks_resources(spec: FieldReader, cr: ComputeResources) -> None:
    # Batch on Amazon EKS launches EC2 (On-Demand or Spot) nodes into the cluster; Fargate and
    # ECS Managed Instances are Amazon ECS capacity (user guide, "Amazon EKS compute
    # environments", https://docs.aws.amazon.com/batch/latest/userguide/eks.html).
    if not cr.type.is_ec2:
        raise spec.fail("eksConfiguration", _EKS_TYPES)
    # ComputeResource.allocationStrategy: "This parameter is required for Amazon EKS compute
    # environments." (API reference)
    if cr.allocation_strategy is None:
        raise spec.fail("computeResources.allocationStrategy", _EKS_STRATEGY)


def _parse_compute_resources(
    cr: FieldReader, raw: Mapping[str, object], *, eks: bool
) -> ComputeResources:
    strategy = cr.opt_enum("allocationStrategy", list(AllocationStrategy))
    configurations = cr.obj_list("ec2Configuration")
    tags = cr.opt_str_map("tags")
    if tags is not None:
        tags = check_tags(cr, "tags")
    cr_type = ComputeResourceType(cr.enum("type", list(ComputeResourceType)))
    provider = raw.get("managedInstancesProvider")
    scaling = cr.opt_obj("scalingPolicy")
    resources = ComputeResources(
        type=cr_type,
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
        launch_template=_parse_launch_template(cr, eks=eks),
        ec2_configuration=(
            tuple(_parse_ec2_configuration(c, eks=eks) for c in configurations)
            if configurations is not None
            else None
        ),
        tags=tags,
        placement_group=cr.opt_str("placementGroup"),
        scaling_policy=(
            ScalingPolicy(scaling.opt_int("minScaleDownDelayMinutes")) if scaling else None
        ),
        managed_instances_provider=(
            _frozen_object(provider) if isinstance(provider, Mapping) else None
        ),
        capacity_tags=cr.opt_str_map("capacityTags"),
    )
    _check_resource_combinations(cr, resources, scaling)
    return resources


def _check_resource_combinations(
    cr: FieldReader, resources: ComputeResources, scaling: FieldReader | None
) -> None:
    """The CRD's CEL rules on computeResources that the new compute types and members bring."""
    cr_type = resources.type
    # ComputeResource.subnets is required except for ECS_MANAGED_INSTANCES, whose network is
    # in managedInstancesProvider.instanceLaunchTemplate.networkConfiguration (user guide,
    # "Compute environments on Amazon ECS Managed Instances").
    if resources.subnets is None and not cr_type.is_managed_instances:
        raise cr.fail("subnets", "subnets is required except for ECS_MANAGED_INSTANCES")
    # ComputeResource.managedInstancesProvider: "required when computeResources.type is
    # ECS_MANAGED_INSTANCES and must not be specified for other compute environment types".
    if cr_type.is_managed_instances != (resources.managed_instances_provider is not None):
        raise cr.fail(
            "managedInstancesProvider",
            "managedInstancesProvider is required for ECS_MANAGED_INSTANCES and allowed only there",
        )
    # ComputeResource.capacityTags: "only valid for ECS_MANAGED_INSTANCES compute environments".
    if resources.capacity_tags is not None and not cr_type.is_managed_instances:
        raise cr.fail("capacityTags", "capacityTags applies only to ECS_MANAGED_INSTANCES")
    if cr_type.is_managed_instances and any(cr.has(key) for key in _NOT_FOR_MANAGED_INSTANCES):
        raise cr.fail("type", _MANAGED_INSTANCES_ONLY)
    # placementGroup and scalingPolicy: "This parameter isn't applicable to jobs that are
    # running on Fargate resources" (ComputeResource); ECS Managed Instances place and scale
    # in managedInstancesProvider.
    for key, value in (
        ("placementGroup", resources.placement_group),
        ("scalingPolicy", resources.scaling_policy),
    ):
        if value is not None and not cr_type.is_ec2:
            raise cr.fail(key, f"{key} applies only to EC2 and SPOT compute resources")
    policy = resources.scaling_policy
    delay = policy.min_scale_down_delay_minutes if policy is not None else None
    # ComputeScalingPolicy.minScaleDownDelayMinutes: "Minimum value of 20. Maximum value of
    # 10080. Use 0 to unset and disable the scale down delay."
    if scaling is not None and delay is not None and delay != 0 and not 20 <= delay <= 10080:
        raise scaling.fail("minScaleDownDelayMinutes", _SCALE_DOWN_DELAY)
    template = resources.launch_template
    if template is not None and template.overrides:
        _check_override_targets(cr, resources.instance_types or (), template.overrides)


def _parse_launch_template(cr: FieldReader, *, eks: bool) -> LaunchTemplate | None:
    template = cr.opt_obj("launchTemplate")
    if template is None:
        return None
    userdata_type = template.opt_enum("userdataType", list(USERDATA_TYPES))
    if userdata_type is not None and not eks:
        raise template.fail("userdataType", _USERDATA_TYPE)
    entries = template.obj_list("overrides")
    overrides = []
    for entry in entries or []:
        has_id, has_name = entry.has("launchTemplateId"), entry.has("launchTemplateName")
        if has_id == has_name:
            raise entry.fail(
                "launchTemplateId",
                "set exactly one of launchTemplateId and launchTemplateName in each override",
            )
        targets = entry.opt_str_list("targetInstanceTypes")
        # "This parameter is required when defining a launch template override."
        if not targets:
            raise entry.fail("targetInstanceTypes", "is required")
        batch_types = sorted(set(targets) & set(_BATCH_INSTANCE_TYPES))
        if batch_types:
            raise entry.fail(
                "targetInstanceTypes",
                "targetInstanceTypes can't be optimal, default_x86_64 or default_arm64",
            )
        override_userdata = entry.opt_enum("userdataType", list(USERDATA_TYPES))
        if override_userdata is not None and not eks:
            raise entry.fail("userdataType", _USERDATA_TYPE)
        overrides.append(
            LaunchTemplateOverride(
                target_instance_types=targets,
                launch_template_id=entry.opt_str("launchTemplateId"),
                launch_template_name=entry.opt_str("launchTemplateName"),
                version=entry.opt_str("version"),
                userdata_type=override_userdata,
            )
        )
    return LaunchTemplate(
        launch_template_id=template.opt_str("launchTemplateId"),
        launch_template_name=template.opt_str("launchTemplateName"),
        version=template.opt_str("version"),
        userdata_type=userdata_type,
        overrides=tuple(overrides) if entries is not None else None,
    )


def _check_override_targets(
    cr: FieldReader, instance_types: Sequence[str], overrides: Sequence[LaunchTemplateOverride]
) -> None:
    # LaunchTemplateSpecificationOverride.targetInstanceTypes (API reference): "can target only
    # instance types and families that are included within the ComputeResource.instanceTypes
    # set", and targets "within the same launch template override or across launch template
    # overrides can't overlap for the same compute environment".
    seen: list[str] = []
    for override in overrides:
        for target in override.target_instance_types:
            if not any(_within(target, allowed) for allowed in instance_types):
                raise cr.fail(
                    "launchTemplate.overrides",
                    "every targetInstanceTypes entry must be one of instanceTypes or of a "
                    "family listed there",
                )
            clash = next((s for s in seen if _within(s, target) or _within(target, s)), None)
            if clash is not None:
                raise cr.fail(
                    "launchTemplate.overrides",
                    f"targetInstanceTypes overlap: {clash} and {target}",
                )
            seen.append(target)


def _within(instance_type: str, family_or_type: str) -> bool:
    """Whether `instance_type` is `family_or_type` or a size of that family (m5.large in m5)."""
    return instance_type == family_or_type or instance_type.startswith(family_or_type + ".")


def _parse_ec2_configuration(c: FieldReader, *, eks: bool) -> Ec2Configuration:
    image_type = c.req_str("imageType")
    # Ec2Configuration.imageType: "The supported values are different for ECS and EKS
    # resources" (ECS_AL2023, ... for ECS; EKS_AL2023, ... for EKS; API reference).
    if image_type.startswith("EKS_") != eks:
        raise c.fail("imageType", _IMAGE_FAMILY)
    kubernetes_version = c.opt_str("imageKubernetesVersion")
    if kubernetes_version is not None and not eks:
        raise c.fail("imageKubernetesVersion", _KUBERNETES_VERSION)
    # batchImageStatus is read-only (DescribeComputeEnvironments only): not kept.
    return Ec2Configuration(
        image_type=image_type,
        image_id_override=c.opt_str("imageIdOverride"),
        image_kubernetes_version=kubernetes_version,
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


def _frozen_object(value: Mapping[str, object]) -> Mapping[str, JsonValue]:
    frozen = freeze_json(value)
    assert isinstance(frozen, Mapping)
    return frozen


def _update_policy_from_describe(policy: UpdatePolicyTypeDef) -> UpdatePolicy:
    return UpdatePolicy(
        terminate_jobs_on_update=policy.get("terminateJobsOnUpdate"),
        job_execution_timeout_minutes=policy.get("jobExecutionTimeoutMinutes"),
    )


def _opt_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None
