"""BatchComputeEnvironment decisions: names, create requests, AWS's update rules, blue/green
replacement and deletion. Pure functions, so no AWS and no cluster here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from batchops.model.common import DeletionPolicy, ResourceState, frozen_map
from batchops.model.compute import (
    AllocationStrategy,
    BatchStatus,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    Ec2Configuration,
    EcsSettings,
    LaunchTemplate,
    ObservedComputeEnvironment,
    ScalingPolicy,
    UpdatePolicy,
)
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.queue import ComputeEnvironmentOrder, ObservedJobQueue
from batchops.model.replacement import (
    ReplacementPhase,
    ReplacementProgress,
)
from batchops.plans.compute import UpdateKind, classify_compute_update, describe_drift
from batchops.plans.compute_request import compute_resource_request, desired_create_request
from batchops.plans.compute_rules import (
    COMPUTE_UPDATE_RULES,
    FIXED_MEMBERS,
    Flavour,
    UpdateRule,
    rule_for,
)
from batchops.plans.naming import aws_name
from batchops.plans.replacement import (
    CreateSuccessor,
    Finish,
    ReplacementStalled,
    RepointQueue,
    WaitForSuccessorValid,
    plan_replacement,
    replacement_targets,
    successor_name,
)
from batchops.plans.retirement import (
    Delete,
    Disable,
    Done,
    Retain,
    WaitForUsers,
    WaitGone,
    WaitSettled,
    plan_retirement,
)

if TYPE_CHECKING:
    from batchops.plans.replacement import ReplacementAction, ReplacementDecision

ACCOUNT = "123456789012"
SLR_ARN = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
SERVICE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/AWSBatchServiceRole"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def ce_arn(name: str) -> str:
    return f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/{name}"


def walkthrough_resources(**changes: object) -> ComputeResources:
    """env_72 of the walkthrough: SPOT, BEST_FIT (the default), three instance types."""
    resources = ComputeResources(
        type=ComputeResourceType.SPOT,
        max_vcpus=256,
        min_vcpus=0,
        instance_types=("c5.18xlarge", "m5.24xlarge", "m5.12xlarge"),
        subnets=("subnet-00000000000000001",),
        security_group_ids=("sg-00000000000000001",),
        instance_role="ecsInstanceRole",
        spot_iam_fleet_role=f"arn:aws:iam::{ACCOUNT}:role/AmazonEC2SpotFleetRole",
        bid_percentage=100,
    )
    return replace(resources, **changes)  # type: ignore[arg-type]


def walkthrough_spec(**changes: object) -> ComputeSpec:
    spec = ComputeSpec(
        name="env_72", service_role=SERVICE_ROLE, compute_resources=walkthrough_resources()
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def updatable_spec(**resource_changes: object) -> ComputeSpec:
    """A CE that allows infrastructure updates: service-linked role, SPOT_CAPACITY_OPTIMIZED."""
    resources = walkthrough_resources(
        allocation_strategy=AllocationStrategy.SPOT_CAPACITY_OPTIMIZED,
        spot_iam_fleet_role=None,
    )
    return ComputeSpec(name="env_72", compute_resources=replace(resources, **resource_changes))  # type: ignore[arg-type]


def observed_from(
    spec: ComputeSpec,
    *,
    name: str = "env_72",
    status: BatchStatus = BatchStatus.VALID,
    state: ResourceState | None = None,
    service_role: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ObservedComputeEnvironment:
    """What AWS would report for a CE created from `spec`, with AWS's defaults filled in."""
    resources = spec.compute_resources
    if resources is not None and not resources.type.is_fargate:
        resources = replace(
            resources,
            allocation_strategy=resources.allocation_strategy or AllocationStrategy.BEST_FIT,
            min_vcpus=resources.min_vcpus or 0,
            desired_vcpus=resources.desired_vcpus or 0,
        )
    return ObservedComputeEnvironment(
        name=name,
        arn=ce_arn(name),
        type=spec.type,
        state=state or spec.state,
        status=status,
        service_role=service_role or spec.service_role or SLR_ARN,
        compute_resources=resources,
        update_policy=UpdatePolicy(
            terminate_jobs_on_update=False, job_execution_timeout_minutes=30
        ),
        tags=frozen_map(tags if tags is not None else spec.tags),
    )


# --- names ---------------------------------------------------------------------------------


def test_aws_name_defaults_to_namespace_and_name() -> None:
    assert aws_name("team-a", "env-72", None) == "team-a-env-72"


def test_aws_name_uses_spec_name_verbatim() -> None:
    assert aws_name("team-a", "env-72", "env_72") == "env_72"


def test_aws_name_replaces_dots_and_keeps_names_distinct() -> None:
    dotted = aws_name("team-a", "env.72", None)
    assert BATCH_NAME.match(dotted)
    assert dotted.startswith("team-a-env-72-")
    assert dotted != aws_name("team-a", "env-72", None)


def test_aws_name_truncates_long_names_with_a_hash_suffix() -> None:
    first = aws_name("n" * 63, "a" * 200 + "1", None)
    second = aws_name("n" * 63, "a" * 200 + "2", None)
    assert len(first) == 128 and BATCH_NAME.match(first)
    assert first != second


def test_successor_name_is_deterministic_and_fits_batch_rules() -> None:
    spec = walkthrough_spec()
    name = successor_name(spec, "env_72", "env_72")
    assert name == successor_name(spec, "env_72", "env_72")
    assert name.startswith("env_72-") and BATCH_NAME.match(name)
    assert len(successor_name(spec, "x" * 128, "x" * 128)) == 128


def test_successor_name_ignores_scaling_fields() -> None:
    spec = walkthrough_spec()
    scaled = replace(spec, compute_resources=walkthrough_resources(max_vcpus=512, min_vcpus=4))
    assert successor_name(spec, "env_72", "env_72") == successor_name(scaled, "env_72", "env_72")


def test_successor_name_ignores_set_order() -> None:
    spec = walkthrough_spec()
    reordered = replace(
        spec,
        compute_resources=walkthrough_resources(
            instance_types=("m5.12xlarge", "c5.18xlarge", "m5.24xlarge")
        ),
    )
    assert successor_name(spec, "env_72", "env_72") == successor_name(reordered, "env_72", "env_72")


def test_successor_name_changes_with_fields_that_force_replacement() -> None:
    spec = walkthrough_spec()
    other = replace(spec, compute_resources=walkthrough_resources(instance_types=("c5.large",)))
    assert successor_name(spec, "env_72", "env_72") != successor_name(other, "env_72", "env_72")


def test_successor_name_never_equals_the_ce_it_replaces() -> None:
    spec = walkthrough_spec()
    taken = successor_name(spec, "env_72", "env_72")
    assert successor_name(spec, "env_72", taken) != taken


# --- create ----------------------------------------------------------------------------------


def test_create_request_has_the_walkthrough_fields_in_aws_shape() -> None:
    request = desired_create_request(walkthrough_spec(), "env_72", {"batchops.io/owner": "x"})
    assert request == {
        "computeEnvironmentName": "env_72",
        "type": "MANAGED",
        "state": "ENABLED",
        "serviceRole": SERVICE_ROLE,
        "computeResources": {
            "type": "SPOT",
            "maxvCpus": 256,
            "minvCpus": 0,
            "instanceTypes": ["c5.18xlarge", "m5.24xlarge", "m5.12xlarge"],
            "subnets": ["subnet-00000000000000001"],
            "securityGroupIds": ["sg-00000000000000001"],
            "instanceRole": "ecsInstanceRole",
            "spotIamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/AmazonEC2SpotFleetRole",
            "bidPercentage": 100,
        },
        "tags": {"batchops.io/owner": "x"},
    }


def test_create_request_is_enabled_even_for_a_disabled_spec() -> None:
    request = desired_create_request(walkthrough_spec(state=ResourceState.DISABLED), "e", {})
    assert request["state"] == "ENABLED"


def test_operator_tags_win_over_spec_tags() -> None:
    spec = walkthrough_spec(tags=frozen_map({"owner": "me", "team": "a"}))
    request = desired_create_request(spec, "e", {"owner": "batchops"})
    assert request.get("tags") == {"owner": "batchops", "team": "a"}


def test_fargate_create_request_has_no_minimum_vcpus() -> None:
    spec = ComputeSpec(
        compute_resources=ComputeResources(
            type=ComputeResourceType.FARGATE,
            max_vcpus=16,
            subnets=("subnet-1",),
            security_group_ids=("sg-1",),
        )
    )
    resources = desired_create_request(spec, "f", {}).get("computeResources")
    assert resources == {
        "type": "FARGATE",
        "maxvCpus": 16,
        "subnets": ["subnet-1"],
        "securityGroupIds": ["sg-1"],
    }


def test_create_request_passes_launch_template_and_ec2_configuration() -> None:
    spec = updatable_spec(
        launch_template=LaunchTemplate(launch_template_name="lt", version="$Latest"),
        ec2_configuration=(Ec2Configuration("ECS_AL2023", image_id_override="ami-1"),),
        tags=frozen_map({"Name": "batch"}),
        desired_vcpus=8,
    )
    resources = desired_create_request(spec, "e", {}).get("computeResources")
    assert resources is not None
    assert resources.get("launchTemplate") == {"launchTemplateName": "lt", "version": "$Latest"}
    assert resources.get("ec2Configuration") == [
        {"imageType": "ECS_AL2023", "imageIdOverride": "ami-1"}
    ]
    assert resources.get("tags") == {"Name": "batch"}
    assert resources.get("desiredvCpus") == 8


# --- the update rules: one test per rule -----------------------------------------------------


def test_in_sync_ce_needs_nothing() -> None:
    spec = walkthrough_spec()
    plan = classify_compute_update(spec, observed_from(spec))
    assert plan.kind is UpdateKind.NONE and plan.in_sync and plan.request is None


def test_vcpu_limits_change_in_place_with_any_role_and_strategy() -> None:
    spec = walkthrough_spec()  # regular service role, BEST_FIT: no infrastructure updates
    observed = observed_from(spec)
    wanted = replace(spec, compute_resources=walkthrough_resources(min_vcpus=8, max_vcpus=512))
    plan = classify_compute_update(wanted, observed)
    assert plan.kind is UpdateKind.SCALING
    assert set(plan.changed_fields) == {
        "computeResources.minvCpus",
        "computeResources.maxvCpus",
    }
    assert plan.request == {
        "computeEnvironment": observed.arn,
        "computeResources": {"minvCpus": 8, "maxvCpus": 512},
    }


def test_state_changes_in_place() -> None:
    spec = walkthrough_spec()
    plan = classify_compute_update(replace(spec, state=ResourceState.DISABLED), observed_from(spec))
    assert plan.kind is UpdateKind.SCALING
    assert plan.request == {"computeEnvironment": ce_arn("env_72"), "state": "DISABLED"}


def test_changing_between_regular_service_roles_is_in_place() -> None:
    spec = walkthrough_spec()
    other_role = f"arn:aws:iam::{ACCOUNT}:role/OtherBatchRole"
    plan = classify_compute_update(replace(spec, service_role=other_role), observed_from(spec))
    assert plan.kind is UpdateKind.SCALING
    assert plan.request == {"computeEnvironment": ce_arn("env_72"), "serviceRole": other_role}


@pytest.mark.parametrize(
    ("observed_role", "desired_role"),
    [(SERVICE_ROLE, None), (SLR_ARN, SERVICE_ROLE)],
    ids=["regular-to-service-linked", "service-linked-to-regular"],
)
def test_changing_service_role_type_replaces(observed_role: str, desired_role: str | None) -> None:
    spec = walkthrough_spec(service_role=desired_role)
    plan = classify_compute_update(spec, observed_from(spec, service_role=observed_role))
    assert plan.kind is UpdateKind.REPLACE
    assert plan.changed_fields == ("serviceRole",)


def test_desired_vcpus_is_never_compared_after_creation() -> None:
    spec = walkthrough_spec(compute_resources=walkthrough_resources(desired_vcpus=16))
    observed = observed_from(spec)
    assert observed.compute_resources is not None
    moved = replace(
        observed, compute_resources=replace(observed.compute_resources, desired_vcpus=96)
    )
    assert classify_compute_update(spec, moved).kind is UpdateKind.NONE


INFRASTRUCTURE_CHANGES: dict[str, dict[str, object]] = {
    "computeResources.instanceTypes": {"instance_types": ("c5.large",)},
    "computeResources.subnets": {"subnets": ("subnet-2",)},
    "computeResources.securityGroupIds": {"security_group_ids": ("sg-2",)},
    "computeResources.instanceRole": {"instance_role": "otherInstanceRole"},
    "computeResources.bidPercentage": {"bid_percentage": 60},
    "computeResources.ec2KeyPair": {"ec2_key_pair": "my-key"},
    "computeResources.launchTemplate": {
        "launch_template": LaunchTemplate(launch_template_id="lt-1")
    },
    "computeResources.ec2Configuration": {"ec2_configuration": (Ec2Configuration("ECS_AL2"),)},
    "computeResources.tags": {"tags": frozen_map({"Name": "batch"})},
    "computeResources.allocationStrategy": {
        "allocation_strategy": AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
    },
    # ComputeResourceUpdate.placementGroup: "requires an infrastructure update".
    "computeResources.placementGroup": {"placement_group": "mnp"},
    # Not a scaling-update setting (scaling-updates.html lists the vCPU counts only).
    "computeResources.scalingPolicy": {"scaling_policy": ScalingPolicy(60)},
}


@pytest.mark.parametrize("path", sorted(INFRASTRUCTURE_CHANGES))
def test_infrastructure_field_updates_in_place_with_service_linked_role_and_updatable_strategy(
    path: str,
) -> None:
    spec = updatable_spec()
    plan = classify_compute_update(
        updatable_spec(**INFRASTRUCTURE_CHANGES[path]), observed_from(spec)
    )
    assert plan.kind is UpdateKind.INFRASTRUCTURE
    assert plan.changed_fields == (path,)
    assert plan.request is not None
    assert list(plan.request.get("computeResources", {})) == [path.split(".")[1]]


@pytest.mark.parametrize("path", sorted(INFRASTRUCTURE_CHANGES))
def test_infrastructure_field_replaces_a_best_fit_ce(path: str) -> None:
    changes = {k: v for k, v in INFRASTRUCTURE_CHANGES[path].items()}
    spec = replace(
        updatable_spec(), compute_resources=walkthrough_resources(allocation_strategy=None)
    )
    assert spec.compute_resources is not None
    wanted = replace(spec, compute_resources=replace(spec.compute_resources, **changes))  # type: ignore[arg-type]
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert "BEST_FIT does not allow infrastructure updates" in " ".join(plan.replace_reasons)
    assert plan.request is None


def test_infrastructure_field_replaces_a_ce_with_a_regular_service_role() -> None:
    spec = replace(updatable_spec(), service_role=SERVICE_ROLE)
    wanted = replace(updatable_spec(instance_types=("c5.large",)), service_role=SERVICE_ROLE)
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert "service-linked role" in " ".join(plan.replace_reasons)


@pytest.mark.parametrize(
    ("cr_type", "strategy"),
    [
        (ComputeResourceType.EC2, AllocationStrategy.BEST_FIT_PROGRESSIVE),
        (ComputeResourceType.SPOT, AllocationStrategy.SPOT_CAPACITY_OPTIMIZED),
        (ComputeResourceType.SPOT, AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED),
    ],
)
def test_documented_strategies_allow_infrastructure_updates(
    cr_type: ComputeResourceType, strategy: AllocationStrategy
) -> None:
    spec = updatable_spec(type=cr_type, allocation_strategy=strategy, bid_percentage=None)
    wanted = updatable_spec(
        type=cr_type, allocation_strategy=strategy, bid_percentage=None, instance_types=("m5",)
    )
    assert classify_compute_update(wanted, observed_from(spec)).kind is UpdateKind.INFRASTRUCTURE


@pytest.mark.parametrize(
    ("cr_type", "strategy"),
    [
        (ComputeResourceType.EC2, AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED),
        (ComputeResourceType.SPOT, AllocationStrategy.SPOT_CAPACITY_OPTIMIZED_PRIORITIZED),
    ],
)
def test_undocumented_strategies_are_replaced_not_updated(
    cr_type: ComputeResourceType, strategy: AllocationStrategy
) -> None:
    spec = updatable_spec(type=cr_type, allocation_strategy=strategy, bid_percentage=None)
    wanted = updatable_spec(
        type=cr_type, allocation_strategy=strategy, bid_percentage=None, instance_types=("m5",)
    )
    assert classify_compute_update(wanted, observed_from(spec)).kind is UpdateKind.REPLACE


def test_changing_the_strategy_to_best_fit_replaces() -> None:
    spec = updatable_spec()
    wanted = updatable_spec(allocation_strategy=AllocationStrategy.BEST_FIT)
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert plan.changed_fields == ("computeResources.allocationStrategy",)


def test_switching_ec2_and_spot_is_an_infrastructure_update() -> None:
    spec = updatable_spec(
        type=ComputeResourceType.EC2,
        allocation_strategy=AllocationStrategy.BEST_FIT_PROGRESSIVE,
        bid_percentage=None,
    )
    wanted = updatable_spec(
        type=ComputeResourceType.SPOT,
        allocation_strategy=AllocationStrategy.BEST_FIT_PROGRESSIVE,
        bid_percentage=None,
    )
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.INFRASTRUCTURE
    assert plan.request is not None
    assert plan.request.get("computeResources") == {"type": "SPOT"}


def fargate_spec(**changes: object) -> ComputeSpec:
    resources = ComputeResources(
        type=ComputeResourceType.FARGATE,
        max_vcpus=16,
        subnets=("subnet-1",),
        security_group_ids=("sg-1",),
    )
    return ComputeSpec(compute_resources=replace(resources, **changes))  # type: ignore[arg-type]


def test_moving_between_ec2_and_fargate_replaces() -> None:
    spec = updatable_spec()
    plan = classify_compute_update(fargate_spec(), observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert "computeResources.type" in plan.changed_fields


def test_moving_between_fargate_and_fargate_spot_replaces() -> None:
    plan = classify_compute_update(
        fargate_spec(type=ComputeResourceType.FARGATE_SPOT), observed_from(fargate_spec())
    )
    assert plan.kind is UpdateKind.REPLACE


def test_fargate_network_and_max_vcpus_change_in_place() -> None:
    wanted = fargate_spec(
        subnets=("subnet-2", "subnet-3"), security_group_ids=("sg-2",), max_vcpus=32
    )
    plan = classify_compute_update(wanted, observed_from(fargate_spec()))
    assert plan.kind is UpdateKind.SCALING
    assert plan.request is not None
    assert plan.request.get("computeResources") == {
        "maxvCpus": 32,
        "subnets": ["subnet-2", "subnet-3"],
        "securityGroupIds": ["sg-2"],
    }


def test_fargate_with_a_regular_service_role_still_updates_network_in_place() -> None:
    spec = replace(fargate_spec(), service_role=SERVICE_ROLE)
    wanted = replace(fargate_spec(subnets=("subnet-9",)), service_role=SERVICE_ROLE)
    assert classify_compute_update(wanted, observed_from(spec)).kind is UpdateKind.SCALING


def test_changing_the_spot_fleet_role_replaces_even_when_updatable() -> None:
    spec = updatable_spec(spot_iam_fleet_role=f"arn:aws:iam::{ACCOUNT}:role/FleetA")
    wanted = updatable_spec(spot_iam_fleet_role=f"arn:aws:iam::{ACCOUNT}:role/FleetB")
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert plan.changed_fields == ("computeResources.spotIamFleetRole",)


def test_changing_managed_to_unmanaged_replaces() -> None:
    spec = walkthrough_spec()
    wanted = ComputeSpec(type=ComputeEnvironmentType.UNMANAGED, service_role=SERVICE_ROLE)
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.REPLACE
    assert "type" in plan.changed_fields


def test_update_policy_rides_along_with_infrastructure_updates() -> None:
    policy = UpdatePolicy(terminate_jobs_on_update=True, job_execution_timeout_minutes=30)
    spec = replace(updatable_spec(), update_policy=policy)
    wanted = replace(updatable_spec(instance_types=("m5",)), update_policy=policy)
    observed = replace(observed_from(spec), update_policy=policy)
    plan = classify_compute_update(wanted, observed)
    assert plan.kind is UpdateKind.INFRASTRUCTURE
    assert plan.request is not None
    assert plan.request.get("updatePolicy") == {
        "terminateJobsOnUpdate": True,
        "jobExecutionTimeoutMinutes": 30,
    }


def test_update_policy_change_alone_is_applied_where_infrastructure_updates_exist() -> None:
    spec = updatable_spec()
    wanted = replace(spec, update_policy=UpdatePolicy(job_execution_timeout_minutes=120))
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.INFRASTRUCTURE
    assert plan.request is not None
    assert plan.request.get("updatePolicy") == {"jobExecutionTimeoutMinutes": 120}


def test_update_policy_is_ignored_where_infrastructure_updates_are_impossible() -> None:
    spec = walkthrough_spec()
    wanted = replace(spec, update_policy=UpdatePolicy(terminate_jobs_on_update=True))
    plan = classify_compute_update(wanted, observed_from(spec))
    assert plan.kind is UpdateKind.NONE
    assert plan.ignored and "updatePolicy" in plan.ignored[0]


def test_update_policy_matching_aws_defaults_is_not_drift() -> None:
    spec = replace(updatable_spec(), update_policy=UpdatePolicy(terminate_jobs_on_update=False))
    assert classify_compute_update(spec, observed_from(updatable_spec())).kind is UpdateKind.NONE


def test_scaling_fields_are_the_same_for_every_flavour() -> None:
    for path in ("state", "computeResources.minvCpus", "computeResources.maxvCpus"):
        assert COMPUTE_UPDATE_RULES[path].ec2 is UpdateRule.SCALING
        assert COMPUTE_UPDATE_RULES[path].fargate is UpdateRule.SCALING


# --- no false drift --------------------------------------------------------------------------


def test_reordered_sets_and_maps_are_not_drift() -> None:
    spec = walkthrough_spec(
        compute_resources=walkthrough_resources(
            subnets=("subnet-1", "subnet-2"),
            security_group_ids=("sg-1", "sg-2"),
            tags=frozen_map({"x": "1", "y": "2"}),
        ),
        tags=frozen_map({"a": "1", "b": "2"}),
    )
    as_aws_lists_them = walkthrough_spec(
        compute_resources=walkthrough_resources(
            instance_types=("m5.12xlarge", "c5.18xlarge", "m5.24xlarge"),
            subnets=("subnet-2", "subnet-1"),
            security_group_ids=("sg-2", "sg-1"),
            tags=frozen_map({"y": "2", "x": "1"}),
        ),
    )
    observed = observed_from(as_aws_lists_them, tags={"b": "2", "a": "1"})
    assert classify_compute_update(spec, observed).in_sync


def test_instance_type_order_matters_for_the_ordered_strategy() -> None:
    ordered = AllocationStrategy.BEST_FIT_PROGRESSIVE_ORDERED
    spec = updatable_spec(
        type=ComputeResourceType.EC2,
        allocation_strategy=ordered,
        bid_percentage=None,
        instance_types=("m5", "c5"),
    )
    swapped = updatable_spec(
        type=ComputeResourceType.EC2,
        allocation_strategy=ordered,
        bid_percentage=None,
        instance_types=("c5", "m5"),
    )
    plan = classify_compute_update(swapped, observed_from(spec))
    assert plan.changed_fields == ("computeResources.instanceTypes",)


def test_values_aws_fills_in_for_unset_fields_are_not_drift() -> None:
    spec = walkthrough_spec()
    observed = observed_from(spec)
    assert observed.compute_resources is not None
    filled = replace(
        observed,
        compute_resources=replace(
            observed.compute_resources,
            desired_vcpus=36,
            ec2_key_pair="someone-elses-key",
            ec2_configuration=(Ec2Configuration("ECS_AL2023"),),
            launch_template=LaunchTemplate(launch_template_id="lt-batch-default"),
        ),
    )
    assert classify_compute_update(spec, filled).in_sync


def test_unset_allocation_strategy_means_best_fit() -> None:
    spec = walkthrough_spec()
    observed = observed_from(
        walkthrough_spec(
            compute_resources=walkthrough_resources(
                allocation_strategy=AllocationStrategy.SPOT_CAPACITY_OPTIMIZED
            )
        )
    )
    plan = classify_compute_update(spec, observed)
    assert plan.kind is UpdateKind.REPLACE
    assert plan.changed_fields == ("computeResources.allocationStrategy",)


def test_unset_min_vcpus_means_zero() -> None:
    spec = walkthrough_spec(compute_resources=walkthrough_resources(min_vcpus=None))
    assert classify_compute_update(spec, observed_from(walkthrough_spec())).in_sync


def test_role_names_match_their_arns() -> None:
    spec = walkthrough_spec(
        service_role="AWSBatchServiceRole",
        compute_resources=walkthrough_resources(spot_iam_fleet_role="AmazonEC2SpotFleetRole"),
    )
    observed = observed_from(
        walkthrough_spec(
            service_role=f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBatchServiceRole",
            compute_resources=walkthrough_resources(
                instance_role=f"arn:aws:iam::{ACCOUNT}:instance-profile/ecsInstanceRole"
            ),
        )
    )
    assert classify_compute_update(spec, observed).in_sync


def test_unset_service_role_matches_the_service_linked_role() -> None:
    spec = updatable_spec()
    assert classify_compute_update(spec, observed_from(spec, service_role=SLR_ARN)).in_sync


def test_launch_template_is_compared_by_the_identifier_in_the_spec() -> None:
    spec = updatable_spec(launch_template=LaunchTemplate(launch_template_name="lt"))
    observed = observed_from(
        updatable_spec(
            launch_template=LaunchTemplate(
                launch_template_id="lt-0abc", launch_template_name="lt", version="$Default"
            )
        )
    )
    assert classify_compute_update(spec, observed).in_sync


def test_ec2_configuration_ignores_what_aws_filled_in() -> None:
    spec = updatable_spec(ec2_configuration=(Ec2Configuration("EKS_AL2023"),))
    observed = observed_from(
        updatable_spec(
            ec2_configuration=(Ec2Configuration("EKS_AL2023", image_kubernetes_version="1.33"),)
        )
    )
    assert classify_compute_update(spec, observed).in_sync


def test_resource_tags_are_synced_separately_from_the_update_kind() -> None:
    spec = walkthrough_spec(tags=frozen_map({"team": "a"}))
    observed = observed_from(spec, tags={"team": "b", "stale": "x", "aws:cloudformation:x": "y"})
    plan = classify_compute_update(spec, observed, operator_tags={"batchops.io/owner": "ns/env"})
    assert plan.kind is UpdateKind.NONE and not plan.in_sync
    assert dict(plan.tags.to_add) == {"team": "a", "batchops.io/owner": "ns/env"}
    assert plan.tags.to_remove == ("stale",)


def test_describe_drift_names_each_field_with_both_values() -> None:
    spec = walkthrough_spec()
    wanted = replace(spec, compute_resources=walkthrough_resources(instance_types=("c5.large",)))
    text = describe_drift(classify_compute_update(wanted, observed_from(spec)))
    assert "computeResources.instanceTypes: AWS has [c5.18xlarge, m5.12xlarge, m5.24xlarge]" in text
    assert "spec wants [c5.large]" in text
    assert "needs replacement" in text
    assert (
        describe_drift(classify_compute_update(spec, observed_from(spec)))
        == "in sync with the spec"
    )


# --- blue/green replacement ------------------------------------------------------------------


def queue(name: str, *arns: str) -> ObservedJobQueue:
    return ObservedJobQueue(
        name=name,
        arn=f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/{name}",
        state=ResourceState.ENABLED,
        status=BatchStatus.VALID,
        priority=100,
        compute_environment_order=tuple(
            ComputeEnvironmentOrder(order=i + 1, compute_environment=a) for i, a in enumerate(arns)
        ),
    )


REPLACED_SPEC = walkthrough_spec(
    compute_resources=walkthrough_resources(instance_types=("c5.24xlarge",))
)


@dataclass
class World:
    """A tiny AWS for the state machine: actions change it; `tick` lets AWS finish work."""

    ces: dict[str, ObservedComputeEnvironment]
    queues: dict[str, ObservedJobQueue]
    created: list[str] = field(default_factory=list)

    def apply(self, action: ReplacementAction) -> None:
        if isinstance(action, CreateSuccessor):
            self.created.append(action.name)
            self.ces[action.name] = observed_from(
                REPLACED_SPEC, name=action.name, status=BatchStatus.CREATING
            )
        elif isinstance(action, RepointQueue):
            order = action.request.get("computeEnvironmentOrder", [])
            self.queues[action.queue] = replace(
                self.queues[action.queue],
                compute_environment_order=tuple(
                    ComputeEnvironmentOrder(o["order"], o["computeEnvironment"]) for o in order
                ),
            )
        elif isinstance(action, Disable):
            ce = self.ces[action.name]
            self.ces[action.name] = replace(
                ce, state=ResourceState.DISABLED, status=BatchStatus.UPDATING
            )
        elif isinstance(action, Delete):
            self.ces[action.name] = replace(self.ces[action.name], status=BatchStatus.DELETING)

    def tick(self) -> None:
        for name, ce in list(self.ces.items()):
            if ce.status in (BatchStatus.CREATING, BatchStatus.UPDATING):
                self.ces[name] = replace(ce, status=BatchStatus.VALID)
            elif ce.status is BatchStatus.DELETING:
                del self.ces[name]

    def queues_on(self, arn: str | None) -> list[ObservedJobQueue]:
        return [q for q in self.queues.values() if arn is not None and q.uses(arn)]


def fresh_world() -> World:
    old = observed_from(walkthrough_spec())
    return World(
        ces={old.name: old},
        queues={
            "queue_72": queue("queue_72", old.arn),
            "queue_mixed": queue("queue_mixed", ce_arn("other"), old.arn),
        },
    )


def plan_in(
    world: World,
    progress: ReplacementProgress | None,
    spec: ComputeSpec = REPLACED_SPEC,
    now: datetime = NOW,
) -> ReplacementDecision:
    old_name, new_name = replacement_targets(spec, "env_72", progress, "env_72")
    old = world.ces.get(old_name)
    old_arn = progress.previous_arn if progress else old.arn if old else None
    return plan_replacement(
        spec,
        base_name="env_72",
        progress=progress,
        old=old,
        successor=world.ces.get(new_name),
        queues_on_old=world.queues_on(old_arn),
        now=now,
        tags={},
    )


def stored(progress: ReplacementProgress) -> ReplacementProgress:
    """What a restarted operator reads back from status.replacement."""
    return ReplacementProgress.from_status(dict(progress.to_status()))


FULL_RUN = [
    "CreateSuccessor",
    "WaitForSuccessorValid",
    "RepointQueue",
    "RepointQueue",
    "Disable",
    "WaitSettled",
    "Delete",
    "WaitGone",
    "Finish",
]


def run_replacement(world: World, *, lose_progress_at: int | None = None) -> list[str]:
    """Plan, persist, act, let AWS work; optionally drop the status write of one step (a crash
    between acting and recording)."""
    steps: list[str] = []
    progress: ReplacementProgress | None = None
    for index in range(30):
        decision = plan_in(world, progress)
        action = decision.action
        steps.append(type(action).__name__)
        assert_never_retires_too_early(world, action)
        if isinstance(action, Finish | ReplacementStalled):
            return steps
        if index != lose_progress_at:
            progress = stored(decision.progress)
        world.apply(action)
        if type(action).__name__.startswith("Wait"):
            world.tick()  # time passes while the operator waits
    raise AssertionError(f"replacement did not finish: {steps}")


def assert_never_retires_too_early(world: World, action: ReplacementAction) -> None:
    if isinstance(action, Disable | Delete) and action.name == "env_72":
        successors = [ce for name, ce in world.ces.items() if name != "env_72"]
        assert successors and all(ce.status is BatchStatus.VALID for ce in successors)
        assert not world.queues_on(ce_arn("env_72"))


def test_replacement_runs_create_wait_repoint_disable_delete_finish() -> None:
    world = fresh_world()
    assert run_replacement(world) == FULL_RUN
    (successor,) = world.ces.values()
    assert successor.name == successor_name(REPLACED_SPEC, "env_72", "env_72")
    assert all(q.uses(successor.arn) for q in world.queues.values())
    assert world.queues["queue_mixed"].compute_environment_order == (
        ComputeEnvironmentOrder(1, ce_arn("other")),
        ComputeEnvironmentOrder(2, successor.arn),
    )


@pytest.mark.parametrize("crash_at", range(len(FULL_RUN) - 1), ids=FULL_RUN[:-1])
def test_replacement_resumes_after_a_crash_at_any_step(crash_at: int) -> None:
    world = fresh_world()
    steps = run_replacement(world, lose_progress_at=crash_at)
    assert steps[-1] == "Finish"
    assert len(world.created) == 1, "a restart must find the successor it already created"
    assert list(world.ces) == [world.created[0]]


def test_replacement_starts_by_creating_the_successor_and_keeps_the_old_ce_active() -> None:
    decision = plan_in(fresh_world(), None)
    assert isinstance(decision.action, CreateSuccessor)
    assert decision.action.request["computeEnvironmentName"] == decision.action.name
    assert decision.progress.phase is ReplacementPhase.IN_PROGRESS
    assert decision.progress.step == "CreateSuccessor"
    assert decision.progress.previous_name == "env_72"
    assert decision.progress.started_at == NOW
    assert (decision.active_name, decision.active_arn) == ("env_72", ce_arn("env_72"))


def test_status_points_at_the_successor_once_it_is_valid() -> None:
    world = fresh_world()
    world.apply(plan_in(world, None).action)
    world.tick()
    decision = plan_in(world, None)
    assert isinstance(decision.action, RepointQueue)
    assert decision.action.queue == "queue_72"
    assert decision.active_name == world.created[0]


def test_old_ce_is_not_touched_while_the_successor_is_creating() -> None:
    world = fresh_world()
    world.queues.clear()
    world.apply(plan_in(world, None).action)
    assert isinstance(plan_in(world, None).action, WaitForSuccessorValid)


def test_invalid_successor_stalls_and_keeps_the_old_ce() -> None:
    world = fresh_world()
    name = successor_name(REPLACED_SPEC, "env_72", "env_72")
    world.ces[name] = replace(
        observed_from(REPLACED_SPEC, name=name, status=BatchStatus.INVALID),
        status_reason="CLIENT_ERROR - bad instance type",
    )
    decision = plan_in(world, None)
    assert isinstance(decision.action, ReplacementStalled)
    assert decision.progress.phase is ReplacementPhase.STALLED
    assert "bad instance type" in decision.progress.message
    assert decision.active_name == "env_72"


def test_fixing_the_spec_discards_the_invalid_successor_and_builds_a_new_one() -> None:
    world = fresh_world()
    bad_name = successor_name(REPLACED_SPEC, "env_72", "env_72")
    world.ces[bad_name] = observed_from(REPLACED_SPEC, name=bad_name, status=BatchStatus.INVALID)
    progress = stored(plan_in(world, None).progress)
    fixed = walkthrough_spec(
        compute_resources=walkthrough_resources(instance_types=("c5.9xlarge",))
    )

    decision = plan_in(world, progress, fixed)
    assert decision.action == Disable(bad_name)
    assert decision.progress.step == "DiscardSuccessor"
    world.ces[bad_name] = replace(world.ces[bad_name], state=ResourceState.DISABLED)
    assert plan_in(world, stored(decision.progress), fixed).action == Delete(bad_name)
    del world.ces[bad_name]

    decision = plan_in(world, stored(decision.progress), fixed)
    assert isinstance(decision.action, CreateSuccessor)
    assert decision.action.name == successor_name(fixed, "env_72", "env_72") != bad_name
    assert decision.progress.successor_name == decision.action.name


def test_reverting_the_spec_before_the_successor_exists_cancels_the_replacement() -> None:
    world = fresh_world()
    progress = stored(plan_in(world, None).progress)
    decision = plan_in(world, progress, walkthrough_spec())
    assert decision.action == Finish("env_72", ce_arn("env_72"))
    assert decision.progress.phase is ReplacementPhase.CANCELLED


def test_a_valid_successor_is_kept_when_the_spec_changes_again() -> None:
    world = fresh_world()
    world.apply(plan_in(world, None).action)
    world.tick()
    progress = stored(plan_in(world, None).progress)
    again = walkthrough_spec(
        compute_resources=walkthrough_resources(instance_types=("c5.9xlarge",))
    )
    decision = plan_in(world, progress, again)
    assert isinstance(decision.action, RepointQueue)


def test_a_successor_vanishing_after_queues_moved_stalls() -> None:
    world = fresh_world()
    progress: ReplacementProgress | None = None
    for _ in range(3):  # create, wait, first repoint
        decision = plan_in(world, progress)
        progress = stored(decision.progress)
        world.apply(decision.action)
        world.tick()
    assert progress is not None and progress.step == "RepointQueue"
    del world.ces[progress.successor_name]
    decision = plan_in(world, progress)
    assert isinstance(decision.action, ReplacementStalled)
    assert decision.progress.phase is ReplacementPhase.STALLED


def test_repoint_keeps_the_successor_once_when_already_listed() -> None:
    world = fresh_world()
    world.apply(plan_in(world, None).action)
    world.tick()
    new_arn = ce_arn(world.created[0])
    world.queues["queue_72"] = queue("queue_72", ce_arn("env_72"), new_arn)
    world.queues.pop("queue_mixed")
    action = plan_in(world, None).action
    assert isinstance(action, RepointQueue)
    assert action.request.get("computeEnvironmentOrder") == [
        {"order": 2, "computeEnvironment": new_arn}
    ]


def test_completed_replacement_records_both_names() -> None:
    world = fresh_world()
    progress: ReplacementProgress | None = None
    decision = plan_in(world, progress)
    while not isinstance(decision.action, Finish):
        progress = stored(decision.progress)
        world.apply(decision.action)
        world.tick()
        decision = plan_in(world, progress)
    assert decision.progress.phase is ReplacementPhase.COMPLETED
    assert decision.progress.previous_name == "env_72"
    assert decision.progress.successor_name == world.created[0]
    assert decision.progress.successor_arn == ce_arn(world.created[0])
    assert decision.active_arn == ce_arn(world.created[0])
    assert decision.progress.started_at == NOW


def test_resumed_replacement_keeps_its_start_time() -> None:
    world = fresh_world()
    first = plan_in(world, None).progress
    later = plan_in(world, stored(first), now=NOW + timedelta(hours=1)).progress
    assert later.started_at == first.started_at == NOW


# --- deletion --------------------------------------------------------------------------------


def test_retain_policy_leaves_aws_alone() -> None:
    observed = observed_from(walkthrough_spec())
    assert plan_retirement(observed, ["q"], DeletionPolicy.RETAIN) == Retain()


def test_deletion_is_done_when_aws_has_no_ce() -> None:
    assert plan_retirement(None, [], DeletionPolicy.DELETE) == Done()


def test_deletion_waits_for_queues_without_disabling_the_ce() -> None:
    observed = observed_from(walkthrough_spec())
    action = plan_retirement(observed, ["queue_b", "queue_a"], DeletionPolicy.DELETE)
    assert action == WaitForUsers(("queue_a", "queue_b"))


def test_deletion_disables_an_enabled_ce() -> None:
    observed = observed_from(walkthrough_spec())
    assert plan_retirement(observed, [], DeletionPolicy.DELETE) == Disable("env_72")


@pytest.mark.parametrize("status", [BatchStatus.CREATING, BatchStatus.UPDATING])
def test_deletion_waits_while_aws_is_busy(status: BatchStatus) -> None:
    observed = observed_from(walkthrough_spec(), status=status, state=ResourceState.DISABLED)
    assert plan_retirement(observed, [], DeletionPolicy.DELETE) == WaitSettled("env_72")


@pytest.mark.parametrize("status", [BatchStatus.VALID, BatchStatus.INVALID])
def test_deletion_deletes_a_disabled_ce(status: BatchStatus) -> None:
    observed = observed_from(walkthrough_spec(), status=status, state=ResourceState.DISABLED)
    assert plan_retirement(observed, [], DeletionPolicy.DELETE) == Delete("env_72")


def test_deletion_waits_while_deleting() -> None:
    observed = observed_from(walkthrough_spec(), status=BatchStatus.DELETING)
    assert plan_retirement(observed, ["q"], DeletionPolicy.DELETE) == WaitGone("env_72")


def test_deletion_is_done_once_aws_reports_deleted() -> None:
    observed = observed_from(walkthrough_spec(), status=BatchStatus.DELETED)
    assert plan_retirement(observed, [], DeletionPolicy.DELETE) == Done()


# --- the rest of CreateComputeEnvironment: requests and update rules ----------------------------

EKS_CLUSTER = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/batch"
MANAGED_INSTANCES_PROVIDER: dict[str, Any] = {
    "infrastructureRoleArn": f"arn:aws:iam::{ACCOUNT}:role/infra",
    "propagateTags": "CAPACITY_PROVIDER",
    "instanceLaunchTemplate": {
        "ec2InstanceProfileArn": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecs",
        "networkConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]},
        "capacityOptionType": "SPOT",
        "instanceRequirements": {"allowedInstanceTypes": ["m5", "c5"]},
    },
    "infrastructureOptimization": {"scaleInAfter": 300},
}


def eks_raw(**resources: Any) -> dict[str, Any]:
    return {
        "eksConfiguration": {
            "eksClusterArn": EKS_CLUSTER,
            "kubernetesNamespace": "batch-jobs",
            "accessEntry": {"desiredState": "ENABLED"},
        },
        "computeResources": {
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "minvCpus": 0,
            "maxvCpus": 64,
            "instanceTypes": ["m5", "g5"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": "eksNodeProfile",
            "placementGroup": "mnp",
            "scalingPolicy": {"minScaleDownDelayMinutes": 30},
            "launchTemplate": {
                "launchTemplateName": "eks-nodes",
                "version": "$Latest",
                "userdataType": "EKS_NODEADM",
                "overrides": [
                    {
                        "launchTemplateId": "lt-0123456789abcdef0",
                        "version": "3",
                        "targetInstanceTypes": ["g5"],
                        "userdataType": "EKS_BOOTSTRAP_SH",
                    }
                ],
            },
            "ec2Configuration": [{"imageType": "EKS_AL2023", "imageKubernetesVersion": "1.32"}],
            **resources,
        },
    }


def managed_instances_raw(**resources: Any) -> dict[str, Any]:
    return {
        "computeResources": {
            "type": "ECS_MANAGED_INSTANCES",
            "maxvCpus": 64,
            "managedInstancesProvider": MANAGED_INSTANCES_PROVIDER,
            "capacityTags": {"team": "data"},
            **resources,
        }
    }


def observed_request(spec: ComputeSpec, **aws: Any) -> ObservedComputeEnvironment:
    """What DescribeComputeEnvironments reports for a CE created from `spec` (its create
    request read back, plus what AWS adds)."""
    request = dict(desired_create_request(spec, "env", {}))
    detail: dict[str, Any] = {
        "computeEnvironmentName": "env",
        "computeEnvironmentArn": ce_arn("env"),
        "status": "VALID",
        **request,
        **aws,
    }
    return ObservedComputeEnvironment.from_describe(detail)  # type: ignore[arg-type]


def test_eks_create_request_carries_every_member_as_written() -> None:
    raw = eks_raw()

    request = desired_create_request(parse_compute_spec(raw), "env", {})

    assert request.get("eksConfiguration") == raw["eksConfiguration"]
    assert request.get("computeResources") == raw["computeResources"]


def test_managed_instances_create_request_carries_every_member_as_written() -> None:
    raw = managed_instances_raw()

    request = desired_create_request(parse_compute_spec(raw), "env", {})

    # No minvCpus: ECS_MANAGED_INSTANCES takes none.
    assert request.get("computeResources") == raw["computeResources"]


def test_unmanaged_vcpus_and_ecs_settings_reach_the_create_request() -> None:
    spec = ComputeSpec(
        type=ComputeEnvironmentType.UNMANAGED,
        service_role=SERVICE_ROLE,
        unmanaged_vcpus=48,
        ecs_settings=EcsSettings("ENHANCED"),
    )

    request = desired_create_request(spec, "env", {})

    assert request.get("unmanagedvCpus") == 48
    assert request.get("ecsSettings") == {"containerInsights": "ENHANCED"}


def test_every_request_member_has_an_update_rule_for_each_flavour() -> None:
    for raw in (eks_raw(), managed_instances_raw()):
        resources = parse_compute_spec(raw).compute_resources
        assert resources is not None
        for key in compute_resource_request(resources):
            for flavour in Flavour:
                assert rule_for(f"computeResources.{key}", flavour) in UpdateRule


def test_a_described_eks_ce_built_from_its_spec_is_in_sync() -> None:
    spec = parse_compute_spec(eks_raw())
    observed = observed_request(spec)
    assert classify_compute_update(spec, observed).kind is UpdateKind.NONE


def test_a_described_managed_instances_ce_with_aws_defaults_filled_in_is_in_sync() -> None:
    spec = parse_compute_spec(managed_instances_raw())
    provider = json.loads(json.dumps(MANAGED_INSTANCES_PROVIDER))
    provider["instanceLaunchTemplate"]["monitoring"] = "BASIC"  # AWS's choice
    provider["instanceLaunchTemplate"]["networkConfiguration"]["subnets"].reverse()
    resources = {
        **managed_instances_raw()["computeResources"],
        "managedInstancesProvider": provider,
    }

    observed = observed_request(spec, computeResources=resources)

    assert classify_compute_update(spec, observed).kind is UpdateKind.NONE


def test_aws_defaults_of_the_new_members_are_not_drift() -> None:
    spec = parse_compute_spec(
        eks_raw(
            scalingPolicy={"minScaleDownDelayMinutes": 0},
            launchTemplate={
                "launchTemplateName": "eks-nodes",
                "overrides": [{"launchTemplateName": "gpu", "targetInstanceTypes": ["g5"]}],
            },
        )
    )
    request = desired_create_request(spec, "env", {})
    resources: dict[str, Any] = dict(request["computeResources"])
    resources["scalingPolicy"] = {}  # 0 is "unset"
    resources["launchTemplate"] = {
        "launchTemplateName": "eks-nodes",
        "launchTemplateId": "lt-99",  # AWS reports both identifiers
        "version": "$Default",
        "userdataType": "EKS_BOOTSTRAP_SH",
        "overrides": [
            {
                "launchTemplateName": "gpu",
                "launchTemplateId": "lt-98",
                "version": "$Default",
                "targetInstanceTypes": ["g5"],
                "userdataType": "EKS_BOOTSTRAP_SH",
            }
        ],
    }
    eks = {
        **request["eksConfiguration"],
        "accessEntry": {"desiredState": "ENABLED", "status": "ACTIVE"},
    }

    observed = observed_request(
        spec, computeResources=resources, eksConfiguration=eks, ecsSettings={}
    )

    assert classify_compute_update(spec, observed).kind is UpdateKind.NONE


@pytest.mark.parametrize(
    ("raw_changes", "path"),
    [
        ({"placementGroup": "other"}, "computeResources.placementGroup"),
        ({"scalingPolicy": {"minScaleDownDelayMinutes": 120}}, "computeResources.scalingPolicy"),
        (
            {"launchTemplate": {"launchTemplateName": "eks-nodes", "userdataType": "EKS_NODEADM"}},
            "computeResources.launchTemplate",
        ),
    ],
    ids=["placementGroup", "scalingPolicy", "overrides removed"],
)
def test_eks_instance_settings_are_infrastructure_updates(
    raw_changes: dict[str, Any], path: str
) -> None:
    current = parse_compute_spec(eks_raw())
    wanted = parse_compute_spec(eks_raw(**raw_changes))

    plan = classify_compute_update(wanted, observed_request(current))

    assert plan.kind is UpdateKind.INFRASTRUCTURE
    assert plan.changed_fields == (path,)
    assert plan.request is not None
    sent = plan.request.get("computeResources", {})
    key = path.split(".")[1]
    assert wanted.compute_resources is not None
    full: dict[str, Any] = dict(compute_resource_request(wanted.compute_resources))
    assert sent == {key: full[key]}


def test_the_eks_access_entry_changes_in_place_even_without_infrastructure_updates() -> None:
    best_fit = eks_raw(allocationStrategy="BEST_FIT")
    current = parse_compute_spec(best_fit)
    best_fit["eksConfiguration"]["accessEntry"] = {"desiredState": "DISABLED"}
    wanted = parse_compute_spec(best_fit)

    plan = classify_compute_update(wanted, observed_request(current))

    assert plan.kind is UpdateKind.SCALING
    assert plan.request == {
        "computeEnvironment": ce_arn("env"),
        "eksConfiguration": {"accessEntry": {"desiredState": "DISABLED"}},
    }


@pytest.mark.parametrize("change", ["cluster", "namespace", "to ECS", "to EKS"])
def test_the_eks_cluster_and_namespace_and_orchestration_replace(change: str) -> None:
    eks = parse_compute_spec(eks_raw())
    assert eks.eks_configuration is not None and eks.compute_resources is not None
    ecs = replace(
        eks,
        eks_configuration=None,
        compute_resources=replace(
            eks.compute_resources,
            ec2_configuration=None,
            launch_template=None,
        ),
    )
    current, wanted = {
        "cluster": (
            eks,
            replace(
                eks,
                eks_configuration=replace(
                    eks.eks_configuration, eks_cluster_arn=EKS_CLUSTER + "-2"
                ),
            ),
        ),
        "namespace": (
            eks,
            replace(
                eks, eks_configuration=replace(eks.eks_configuration, kubernetes_namespace="ns2")
            ),
        ),
        "to ECS": (eks, replace(ecs, compute_resources=eks.compute_resources)),
        "to EKS": (ecs, eks),
    }[change]

    plan = classify_compute_update(wanted, observed_request(current))

    assert plan.kind is UpdateKind.REPLACE
    assert any(path.startswith("eksConfiguration") for path in plan.changed_fields)
    assert successor_name(wanted, "env", "env") != successor_name(current, "env", "env")


def test_unmanaged_vcpus_and_container_insights_change_in_place() -> None:
    spec = ComputeSpec(
        type=ComputeEnvironmentType.UNMANAGED,
        service_role=SERVICE_ROLE,
        unmanaged_vcpus=8,
        ecs_settings=EcsSettings("ENABLED"),
    )
    wanted = replace(spec, unmanaged_vcpus=16, ecs_settings=EcsSettings("DISABLED"))

    plan = classify_compute_update(wanted, observed_request(spec))

    assert plan.kind is UpdateKind.SCALING
    assert plan.request == {
        "computeEnvironment": ce_arn("env"),
        "unmanagedvCpus": 16,
        "ecsSettings": {"containerInsights": "DISABLED"},
    }


def test_unset_container_insights_is_not_compared_and_disabled_is_the_default() -> None:
    spec = walkthrough_spec()
    assert classify_compute_update(spec, observed_from(spec)).kind is UpdateKind.NONE
    disabled = walkthrough_spec(ecs_settings=EcsSettings("DISABLED"))
    assert classify_compute_update(disabled, observed_from(spec)).kind is UpdateKind.NONE


def test_managed_instances_provider_and_capacity_tags_change_in_place_with_any_role() -> None:
    current = replace(parse_compute_spec(managed_instances_raw()), service_role=SERVICE_ROLE)
    provider = json.loads(json.dumps(MANAGED_INSTANCES_PROVIDER))
    provider["instanceLaunchTemplate"]["instanceRequirements"]["allowedInstanceTypes"] = ["g5"]
    wanted = replace(
        parse_compute_spec(
            managed_instances_raw(managedInstancesProvider=provider, capacityTags={"team": "ml"})
        ),
        service_role=SERVICE_ROLE,
    )

    plan = classify_compute_update(wanted, observed_request(current))

    assert plan.kind is UpdateKind.SCALING
    assert plan.request is not None
    sent = plan.request.get("computeResources", {})
    update_provider = json.loads(json.dumps(provider))
    # Not members of UpdateManagedInstancesProviderConfiguration, and unchanged.
    del update_provider["instanceLaunchTemplate"]["capacityOptionType"]
    assert sent == {"managedInstancesProvider": update_provider, "capacityTags": {"team": "ml"}}


@pytest.mark.parametrize(
    ("member", "value"), [("capacityOptionType", "ON_DEMAND"), ("fipsEnabled", True)]
)
def test_capacity_option_type_and_fips_replace_a_managed_instances_ce(
    member: str, value: object
) -> None:
    current = parse_compute_spec(managed_instances_raw())
    provider = json.loads(json.dumps(MANAGED_INSTANCES_PROVIDER))
    provider["instanceLaunchTemplate"][member] = value
    wanted = parse_compute_spec(managed_instances_raw(managedInstancesProvider=provider))

    plan = classify_compute_update(wanted, observed_request(current))

    assert plan.kind is UpdateKind.REPLACE
    path = f"computeResources.managedInstancesProvider.instanceLaunchTemplate.{member}"
    assert plan.changed_fields == (path,)
    assert successor_name(wanted, "env", "env") != successor_name(current, "env", "env")


def test_successor_name_ignores_what_a_managed_instances_ce_changes_in_place() -> None:
    current = parse_compute_spec(managed_instances_raw())
    wanted = parse_compute_spec(managed_instances_raw(maxvCpus=8, capacityTags={"a": "b"}))
    assert successor_name(wanted, "env", "env") == successor_name(current, "env", "env")


def test_moving_to_or_from_managed_instances_replaces() -> None:
    managed = parse_compute_spec(managed_instances_raw())
    ec2 = walkthrough_spec()

    assert classify_compute_update(ec2, observed_request(managed)).kind is UpdateKind.REPLACE
    assert classify_compute_update(managed, observed_from(ec2)).kind is UpdateKind.REPLACE


def test_new_fields_have_a_rule_in_every_column() -> None:
    for path in (
        "unmanagedvCpus",
        "ecsSettings",
        "eksConfiguration",
        "computeResources.placementGroup",
        "computeResources.scalingPolicy",
        "computeResources.managedInstancesProvider",
        "computeResources.capacityTags",
    ):
        rule = COMPUTE_UPDATE_RULES[path]
        assert {rule.ec2, rule.fargate, rule.managed_instances} <= set(UpdateRule)
    assert COMPUTE_UPDATE_RULES["computeResources.placementGroup"].ec2 is UpdateRule.INFRASTRUCTURE
    assert COMPUTE_UPDATE_RULES["eksConfiguration"].ec2 is UpdateRule.SCALING
    assert FIXED_MEMBERS["eksConfiguration"] == ("eksClusterArn", "kubernetesNamespace")
    assert (
        COMPUTE_UPDATE_RULES["computeResources.managedInstancesProvider"].managed_instances
        is UpdateRule.SCALING
    )
