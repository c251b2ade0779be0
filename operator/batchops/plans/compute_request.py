"""The CreateComputeEnvironment request for a BatchComputeEnvironment spec, and the model's enums
as the literal types boto3's stubs expect (update requests use them too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from batchops.model.common import ResourceState
from batchops.model.compute import (
    AllocationStrategy,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    EcsSettings,
    EksConfiguration,
    LaunchTemplate,
)
from batchops.model.request_surface import thaw_json

if TYPE_CHECKING:
    from mypy_boto3_batch.literals import (
        CEStateType,
        CETypeType,
        ContainerInsightsType,
        CRAllocationStrategyType,
        CRTypeType,
        CRUpdateAllocationStrategyType,
        EksAccessEntryDesiredStateType,
        UserdataTypeType,
    )
    from mypy_boto3_batch.type_defs import (
        ComputeResourceTypeDef,
        CreateComputeEnvironmentRequestTypeDef,
        Ec2ConfigurationTypeDef,
        EcsSettingsTypeDef,
        EksAccessEntryTypeDef,
        EksConfigurationTypeDef,
        LaunchTemplateSpecificationOverrideTypeDef,
        LaunchTemplateSpecificationTypeDef,
        ManagedInstancesProviderTypeDef,
    )


# The model's enums as the literal types boto3's stubs expect.
CE_TYPES: Mapping[ComputeEnvironmentType, CETypeType] = {
    ComputeEnvironmentType.MANAGED: "MANAGED",
    ComputeEnvironmentType.UNMANAGED: "UNMANAGED",
}
CE_STATES: Mapping[ResourceState, CEStateType] = {
    ResourceState.ENABLED: "ENABLED",
    ResourceState.DISABLED: "DISABLED",
}
CR_TYPES: Mapping[ComputeResourceType, CRTypeType] = {
    ComputeResourceType.EC2: "EC2",
    ComputeResourceType.SPOT: "SPOT",
    ComputeResourceType.FARGATE: "FARGATE",
    ComputeResourceType.FARGATE_SPOT: "FARGATE_SPOT",
    ComputeResourceType.ECS_MANAGED_INSTANCES: "ECS_MANAGED_INSTANCES",
}
USERDATA_TYPES: Mapping[str, UserdataTypeType] = {
    "EKS_BOOTSTRAP_SH": "EKS_BOOTSTRAP_SH",
    "EKS_NODEADM": "EKS_NODEADM",
}
CONTAINER_INSIGHTS: Mapping[str, ContainerInsightsType] = {
    "ENABLED": "ENABLED",
    "ENHANCED": "ENHANCED",
    "DISABLED": "DISABLED",
}
ACCESS_ENTRY_STATES: Mapping[str, EksAccessEntryDesiredStateType] = {
    "ENABLED": "ENABLED",
    "DISABLED": "DISABLED",
    "INHERIT_FROM_CLUSTER": "INHERIT_FROM_CLUSTER",
}
STRATEGIES: Mapping[AllocationStrategy, CRAllocationStrategyType] = {
    AllocationStrategy.BEST_FIT: "BEST_FIT",
    AllocationStrategy.BEST_FIT_PROGRESSIVE: "BEST_FIT_PROGRESSIVE",
    AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED: "BEST_FIT_PROGRESSIVE_ORDERED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED: "SPOT_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED: "SPOT_PRICE_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED: "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED",
}
# CRUpdateAllocationStrategy: every strategy but BEST_FIT, which updates can't set.
UPDATE_STRATEGIES: Mapping[AllocationStrategy, CRUpdateAllocationStrategyType] = {
    AllocationStrategy.BEST_FIT_PROGRESSIVE: "BEST_FIT_PROGRESSIVE",
    AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED: "BEST_FIT_PROGRESSIVE_ORDERED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED: "SPOT_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED: "SPOT_PRICE_CAPACITY_OPTIMIZED",
    AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED: "SPOT_CAPACITY_OPTIMIZED_PRIORITIZED",
}


def desired_create_request(
    spec: ComputeSpec, aws_name: str, tags: Mapping[str, str]
) -> CreateComputeEnvironmentRequestTypeDef:
    """CreateComputeEnvironment arguments for `spec`; `tags` (the operator's) win over spec.tags.

    The CE is always created ENABLED (AWS requires it); a DISABLED spec is applied afterwards as
    a scaling update.
    """
    request: CreateComputeEnvironmentRequestTypeDef = {
        "computeEnvironmentName": aws_name,
        "type": CE_TYPES[spec.type],
        "state": "ENABLED",
    }
    if spec.service_role:
        request["serviceRole"] = spec.service_role
    if spec.compute_resources is not None:
        request["computeResources"] = compute_resource_request(spec.compute_resources)
    if spec.unmanaged_vcpus is not None:
        request["unmanagedvCpus"] = spec.unmanaged_vcpus
    if spec.eks_configuration is not None:
        request["eksConfiguration"] = eks_configuration_request(spec.eks_configuration)
    if spec.ecs_settings is not None:
        request["ecsSettings"] = ecs_settings_request(spec.ecs_settings)
    all_tags = {**spec.tags, **tags}
    if all_tags:
        request["tags"] = all_tags
    return request


def compute_resource_request(cr: ComputeResources) -> ComputeResourceTypeDef:
    """The ComputeResource shape for `cr`, every member as the spec wrote it."""
    out: ComputeResourceTypeDef = {"type": CR_TYPES[cr.type], "maxvCpus": cr.max_vcpus}
    if cr.type.is_ec2:
        # AWS defaults minvCpus to 0; sending it keeps strict implementations (moto) happy.
        out["minvCpus"] = cr.min_vcpus or 0
    if cr.allocation_strategy is not None:
        out["allocationStrategy"] = STRATEGIES[cr.allocation_strategy]
    if cr.desired_vcpus is not None:
        out["desiredvCpus"] = cr.desired_vcpus
    if cr.instance_types is not None:
        out["instanceTypes"] = list(cr.instance_types)
    if cr.subnets is not None:
        out["subnets"] = list(cr.subnets)
    if cr.security_group_ids is not None:
        out["securityGroupIds"] = list(cr.security_group_ids)
    if cr.instance_role is not None:
        out["instanceRole"] = cr.instance_role
    if cr.spot_iam_fleet_role is not None:
        out["spotIamFleetRole"] = cr.spot_iam_fleet_role
    if cr.bid_percentage is not None:
        out["bidPercentage"] = cr.bid_percentage
    if cr.ec2_key_pair is not None:
        out["ec2KeyPair"] = cr.ec2_key_pair
    if cr.launch_template is not None:
        out["launchTemplate"] = _launch_template_request(cr.launch_template)
    if cr.ec2_configuration is not None:
        out["ec2Configuration"] = _ec2_configuration_request(cr)
    if cr.tags is not None:
        out["tags"] = dict(cr.tags)
    if cr.placement_group is not None:
        out["placementGroup"] = cr.placement_group
    if cr.scaling_policy is not None:
        delay = cr.scaling_policy.min_scale_down_delay_minutes
        out["scalingPolicy"] = {} if delay is None else {"minScaleDownDelayMinutes": delay}
    if cr.managed_instances_provider is not None:
        out["managedInstancesProvider"] = managed_instances_provider_request(cr)
    if cr.capacity_tags is not None:
        out["capacityTags"] = dict(cr.capacity_tags)
    return out


def managed_instances_provider_request(cr: ComputeResources) -> ManagedInstancesProviderTypeDef:
    """managedInstancesProvider as the spec wrote it (the CRD schema is botocore's shape)."""
    provider = thaw_json(cr.managed_instances_provider)
    return provider  # type: ignore[return-value]


def eks_configuration_request(eks: EksConfiguration) -> EksConfigurationTypeDef:
    """The EksConfiguration shape (accessEntry.status is read-only, never sent)."""
    out: EksConfigurationTypeDef = {
        "eksClusterArn": eks.eks_cluster_arn,
        "kubernetesNamespace": eks.kubernetes_namespace,
    }
    if eks.access_entry_desired_state is not None:
        out["accessEntry"] = access_entry_request(eks)
    return out


def access_entry_request(eks: EksConfiguration) -> EksAccessEntryTypeDef:
    """The EksAccessEntry shape with the desired state only."""
    return {"desiredState": ACCESS_ENTRY_STATES[str(eks.access_entry_desired_state)]}


def ecs_settings_request(settings: EcsSettings) -> EcsSettingsTypeDef:
    """The EcsSettings shape."""
    out: EcsSettingsTypeDef = {}
    if settings.container_insights is not None:
        out["containerInsights"] = CONTAINER_INSIGHTS[settings.container_insights]
    return out


def _launch_template_request(template: LaunchTemplate) -> LaunchTemplateSpecificationTypeDef:
    out: LaunchTemplateSpecificationTypeDef = {}
    if template.launch_template_id is not None:
        out["launchTemplateId"] = template.launch_template_id
    if template.launch_template_name is not None:
        out["launchTemplateName"] = template.launch_template_name
    if template.version is not None:
        out["version"] = template.version
    if template.userdata_type is not None:
        out["userdataType"] = USERDATA_TYPES[template.userdata_type]
    if template.overrides is not None:
        overrides: list[LaunchTemplateSpecificationOverrideTypeDef] = []
        for override in template.overrides:
            item: LaunchTemplateSpecificationOverrideTypeDef = {
                "targetInstanceTypes": list(override.target_instance_types)
            }
            if override.launch_template_id is not None:
                item["launchTemplateId"] = override.launch_template_id
            if override.launch_template_name is not None:
                item["launchTemplateName"] = override.launch_template_name
            if override.version is not None:
                item["version"] = override.version
            if override.userdata_type is not None:
                item["userdataType"] = USERDATA_TYPES[override.userdata_type]
            overrides.append(item)
        out["overrides"] = overrides
    return out


def _ec2_configuration_request(cr: ComputeResources) -> list[Ec2ConfigurationTypeDef]:
    out: list[Ec2ConfigurationTypeDef] = []
    for configuration in cr.ec2_configuration or ():
        item: Ec2ConfigurationTypeDef = {"imageType": configuration.image_type}
        if configuration.image_id_override is not None:
            item["imageIdOverride"] = configuration.image_id_override
        if configuration.image_kubernetes_version is not None:
            item["imageKubernetesVersion"] = configuration.image_kubernetes_version
        out.append(item)
    return out
