"""Terraform `aws_batch_compute_environment` instances -> BatchComputeEnvironment manifests.

The attributes are read into `ComputeSpec` and written by the same code as an AWS import
(`manifests.compute_environment_object`), so both sources agree on every field name and shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from batchops.importing.hcl import block, blocks_of
from batchops.importing.manifests import ImportedObject, compute_environment_object
from batchops.importing.placeholders import MARK, placeholder_batch_name, placeholder_text
from batchops.importing.terraform_attributes import STAND_IN, AttributeReader, patched, unmapped
from batchops.importing.terraform_instances import ResourceInstance
from batchops.model.common import ResourceState, frozen_map
from batchops.model.compute import (
    AllocationStrategy,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    Ec2Configuration,
    LaunchTemplate,
    UpdatePolicy,
)

# Attributes the compute environment and its compute_resources block map; others are reported
# in the notes. `desired_vcpus` is AWS's scaling state, read and left out on purpose.
_CE_ATTRIBUTES = frozenset(
    {
        "compute_environment_name",
        "name",
        "type",
        "state",
        "service_role",
        "compute_resources",
        "update_policy",
        "tags",
        "lifecycle",
        "depends_on",
    }
)
_RESOURCE_ATTRIBUTES = frozenset(
    {
        "type",
        "allocation_strategy",
        "min_vcpus",
        "max_vcpus",
        "desired_vcpus",
        "instance_type",
        "subnets",
        "security_group_ids",
        "instance_role",
        "spot_iam_fleet_role",
        "bid_percentage",
        "ec2_key_pair",
        "launch_template",
        "ec2_configuration",
        "tags",
        "placement_group",
    }
)


def compute_environment(
    instance: ResourceInstance, object_name: str, region: str | None, namespace: str | None
) -> ImportedObject:
    """A BatchComputeEnvironment adopting the compute environment the instance declares."""
    body, read = instance.body, AttributeReader(instance, region)
    name = body.get("compute_environment_name", body.get("name"))
    notes = unmapped(body, _CE_ATTRIBUTES | {"name_prefix", "compute_environment_name_prefix"})
    resources = block(body, "compute_resources")
    if resources is not None:
        notes += unmapped(resources, _RESOURCE_ATTRIBUTES, "compute_resources.")
    policy = block(body, "update_policy")
    spec = ComputeSpec(
        type=read.choice(body.get("type"), "type", ComputeEnvironmentType, "MANAGED", "spec.type"),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED", "spec.state"),
        compute_resources=_compute_resources(resources, read) if resources else None,
        service_role=read.text(body.get("service_role")),
        update_policy=(
            UpdatePolicy(
                terminate_jobs_on_update=(
                    policy.get("terminate_jobs_on_update")
                    if isinstance(policy.get("terminate_jobs_on_update"), bool)
                    else None
                ),
                job_execution_timeout_minutes=read.integer(
                    policy,
                    "job_execution_timeout_minutes",
                    "spec.updatePolicy.jobExecutionTimeoutMinutes",
                ),
            )
            if policy
            else None
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        # Without a name Terraform generated one (name_prefix): only its state knows it.
        name=read.batch_name(name) or _generated_name(body, instance),
        region=region,
        adopt=True,
    )
    imported = compute_environment_object(object_name, spec, instance.resource.source, namespace)
    return patched(imported, read, notes)


def _generated_name(body: Mapping[str, Any], instance: ResourceInstance) -> str:
    prefix = body.get("name_prefix", body.get("compute_environment_name_prefix"))
    if isinstance(prefix, str) and MARK not in prefix:
        return placeholder_batch_name(f"{prefix}generated_suffix")
    return placeholder_batch_name(f"name_of_{instance.base}")


def _compute_resources(cr: Mapping[str, Any], read: AttributeReader) -> ComputeResources:
    at = "spec.computeResources."
    max_vcpus = read.integer(cr, "max_vcpus", at + "maxvCpus")
    if max_vcpus is None:
        read.patches[at + "maxvCpus"] = placeholder_text("compute_resources.max_vcpus (not set)")
        max_vcpus = STAND_IN
    strategy = cr.get("allocation_strategy")
    template = block(cr, "launch_template")
    configurations = blocks_of(cr, "ec2_configuration")
    return ComputeResources(
        type=read.choice(
            cr.get("type"), "compute_resources.type", ComputeResourceType, "EC2", at + "type"
        ),
        max_vcpus=max_vcpus,
        allocation_strategy=(
            read.choice(
                strategy,
                "allocation_strategy",
                AllocationStrategy,
                "BEST_FIT",
                at + "allocationStrategy",
            )
            if strategy is not None
            else None
        ),
        min_vcpus=read.integer(cr, "min_vcpus", at + "minvCpus"),
        instance_types=read.texts(cr.get("instance_type")),
        subnets=read.texts(cr.get("subnets")),
        security_group_ids=read.texts(cr.get("security_group_ids")),
        instance_role=read.text(cr.get("instance_role")),
        spot_iam_fleet_role=read.text(cr.get("spot_iam_fleet_role")),
        bid_percentage=read.integer(cr, "bid_percentage", at + "bidPercentage"),
        ec2_key_pair=read.text(cr.get("ec2_key_pair")),
        launch_template=(
            LaunchTemplate(
                launch_template_id=read.text(template.get("launch_template_id")),
                launch_template_name=read.text(template.get("launch_template_name")),
                version=read.text(template.get("version")),
            )
            if template
            else None
        ),
        ec2_configuration=(
            tuple(
                Ec2Configuration(
                    image_type=read.text(c.get("image_type")) or "ECS_AL2",
                    image_id_override=read.text(c.get("image_id_override")),
                    image_kubernetes_version=read.text(c.get("image_kubernetes_version")),
                )
                for c in configurations
            )
            if configurations
            else None
        ),
        tags=read.tags(cr.get("tags")),
        placement_group=read.text(cr.get("placement_group")),
    )
