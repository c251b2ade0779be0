"""Reading a BatchComputeEnvironment spec: `parse_compute_spec` and the rules it checks.

The parser repeats each CEL rule of the CRD that the operator relies on (same message), so an
object that reached the API server some other way, or `batchops validate`, fails the same way.
Kept apart from the types in `model/compute.py`, which the observed side shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from batchops.model.common import FieldReader, ResourceState, check_tags, read_managed_fields
from batchops.model.compute import (
    AllocationStrategy,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    Ec2Configuration,
    EcsSettings,
    EksConfiguration,
    LaunchTemplate,
    LaunchTemplateOverride,
    ScalingPolicy,
    UpdatePolicy,
)
from batchops.model.request_surface import freeze_json_object


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
            freeze_json_object(provider) if isinstance(provider, Mapping) else None
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
