"""Parsing BatchComputeEnvironment / BatchJobQueue specs and AWS's describe output into models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from batchops.model.common import (
    Condition,
    DeletionPolicy,
    FieldError,
    ResourceState,
    SpecError,
    format_time,
    parse_time,
)
from batchops.model.compute import (
    AllocationStrategy,
    BatchStatus,
    ComputeEnvironmentType,
    ComputeResourceType,
    Ec2Configuration,
    EcsSettings,
    EksConfiguration,
    LaunchTemplate,
    LaunchTemplateOverride,
    ObservedComputeEnvironment,
    ScalingPolicy,
    UpdatePolicy,
)
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.queue import (
    ComputeEnvironmentEntry,
    ComputeEnvironmentOrder,
    JobStateTimeLimitAction,
    ObservedJobQueue,
    parse_queue_spec,
)
from batchops.model.replacement import (
    ReplacementPhase,
    ReplacementProgress,
)
from batchops.model.request_surface import thaw_json

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import ComputeEnvironmentDetailTypeDef, JobQueueDetailTypeDef

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "manifests" / "examples" / "01-walkthrough-infra.yaml"
)
ACCOUNT = "123456789012"


def example(name: str) -> dict[str, Any]:
    for doc in yaml.safe_load_all(EXAMPLE.read_text()):
        if doc["metadata"]["name"] == name:
            spec: dict[str, Any] = doc["spec"]
            return spec
    raise KeyError(name)


# --- BatchComputeEnvironment spec ------------------------------------------------------------


def test_walkthrough_compute_environment_parses() -> None:
    spec = parse_compute_spec(example("env-72"))
    assert spec.name == "env_72"
    assert spec.type is ComputeEnvironmentType.MANAGED
    assert spec.state is ResourceState.ENABLED
    cr = spec.compute_resources
    assert cr is not None
    assert cr.type is ComputeResourceType.SPOT
    assert cr.instance_types == ("c5.18xlarge", "m5.24xlarge", "m5.12xlarge")
    assert (cr.min_vcpus, cr.max_vcpus, cr.bid_percentage) == (0, 256, 100)
    assert cr.spot_iam_fleet_role == f"arn:aws:iam::{ACCOUNT}:role/AmazonEC2SpotFleetTaggingRole"
    assert cr.allocation_strategy is None  # unset: AWS's BEST_FIT


def test_operator_fields_default_when_absent() -> None:
    spec = parse_compute_spec(
        {"computeResources": {"type": "FARGATE", "maxvCpus": 4, "subnets": ["s"]}}
    )
    assert spec.type is ComputeEnvironmentType.MANAGED
    assert spec.deletion_policy is DeletionPolicy.DELETE
    assert spec.adopt is False
    assert spec.name is None and spec.region is None and dict(spec.tags) == {}


def test_every_compute_field_is_read() -> None:
    spec = parse_compute_spec(
        {
            "name": "n",
            "region": "eu-west-1",
            "deletionPolicy": "Retain",
            "adopt": True,
            "state": "DISABLED",
            "serviceRole": "role",
            "tags": {"a": "b"},
            "updatePolicy": {"terminateJobsOnUpdate": True, "jobExecutionTimeoutMinutes": 60},
            "computeResources": {
                "type": "EC2",
                "allocationStrategy": "BEST_FIT_PROGRESSIVE",
                "minvCpus": 1,
                "maxvCpus": 8,
                "desiredvCpus": 2,
                "instanceTypes": ["m5"],
                "subnets": ["s1"],
                "securityGroupIds": ["g1"],
                "instanceRole": "ecsInstanceRole",
                "ec2KeyPair": "key",
                "launchTemplate": {"launchTemplateName": "lt", "version": "2"},
                "ec2Configuration": [{"imageType": "ECS_AL2023", "imageIdOverride": "ami-1"}],
                "tags": {"Name": "x"},
            },
        }
    )
    assert spec.deletion_policy is DeletionPolicy.RETAIN and spec.adopt
    assert spec.update_policy == UpdatePolicy(True, 60)
    cr = spec.compute_resources
    assert cr is not None
    assert cr.allocation_strategy is AllocationStrategy.BEST_FIT_PROGRESSIVE
    assert cr.launch_template == LaunchTemplate(launch_template_name="lt", version="2")
    assert cr.ec2_configuration == (Ec2Configuration("ECS_AL2023", image_id_override="ami-1"),)
    assert cr.tags == {"Name": "x"}
    assert (cr.desired_vcpus, cr.ec2_key_pair) == (2, "key")


def test_wrong_type_names_the_field_path() -> None:
    raw = example("env-72")
    raw["computeResources"]["maxvCpus"] = "lots"
    with pytest.raises(SpecError) as info:
        parse_compute_spec(raw)
    assert info.value.field_path == "spec.computeResources.maxvCpus"


def test_boolean_is_not_an_integer() -> None:
    raw = example("env-72")
    raw["computeResources"]["minvCpus"] = True
    with pytest.raises(SpecError, match=r"spec\.computeResources\.minvCpus"):
        parse_compute_spec(raw)


def test_unknown_enum_value_is_a_spec_error() -> None:
    raw = example("env-72")
    raw["computeResources"]["allocationStrategy"] = "CHEAPEST"
    with pytest.raises(SpecError, match="allocationStrategy"):
        parse_compute_spec(raw)


def test_managed_without_compute_resources_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as info:
        parse_compute_spec({"type": "MANAGED"})
    assert info.value.field_path == "spec.computeResources"


def test_aws_reserved_tag_keys_are_rejected() -> None:
    raw = example("env-72")
    raw["tags"] = {"aws:team": "x"}
    with pytest.raises(SpecError) as info:
        parse_compute_spec(raw)
    assert info.value.field_path == "spec.tags"


# --- BatchJobQueue spec ----------------------------------------------------------------------


def test_walkthrough_queue_parses() -> None:
    spec = parse_queue_spec(example("queue-72"))
    assert (spec.name, spec.priority, spec.state) == ("queue_72", 100, ResourceState.ENABLED)
    assert spec.compute_environments == (ComputeEnvironmentEntry(order=1, ref="env-72"),)
    assert spec.scheduling_policy_arn is None and spec.job_state_time_limit_actions == ()


def test_queue_time_limit_actions_take_defaults() -> None:
    raw = example("queue-72") | {
        "jobStateTimeLimitActions": [{"reason": "r", "maxTimeSeconds": 600}]
    }
    spec = parse_queue_spec(raw)
    assert spec.job_state_time_limit_actions == (JobStateTimeLimitAction("r", 600),)


def test_queue_entry_with_ref_and_arn_is_a_spec_error() -> None:
    raw = example("queue-72")
    raw["computeEnvironments"][0]["arn"] = (
        f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/x"
    )
    with pytest.raises(SpecError) as info:
        parse_queue_spec(raw)
    assert info.value.field_path == "spec.computeEnvironments[0]"


def test_queue_needs_a_compute_environment() -> None:
    with pytest.raises(SpecError, match="computeEnvironments"):
        parse_queue_spec({"priority": 1, "computeEnvironments": []})


def test_compute_environment_arn_in_another_region_is_a_spec_error() -> None:
    raw = {
        "priority": 1,
        "region": "eu-west-1",
        "computeEnvironments": [
            {"order": 1, "arn": f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/x"}
        ],
    }
    with pytest.raises(SpecError) as info:
        parse_queue_spec(raw)
    assert info.value.field_path == "spec.computeEnvironments[0].arn"
    assert "us-east-1" in info.value.message


# --- AWS describe output ---------------------------------------------------------------------


def test_describe_compute_environment_is_read() -> None:
    item: ComputeEnvironmentDetailTypeDef = {
        "computeEnvironmentName": "env_72",
        "computeEnvironmentArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/env_72",
        "type": "MANAGED",
        "state": "ENABLED",
        "status": "INVALID",
        "statusReason": "CLIENT_ERROR - no such subnet",
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/AWSBatchServiceRole",
        "tags": {"team": "a"},
        "updatePolicy": {"terminateJobsOnUpdate": False, "jobExecutionTimeoutMinutes": 30},
        "computeResources": {
            "type": "SPOT",
            "maxvCpus": 256,
            "minvCpus": 0,
            "desiredvCpus": 0,
            "allocationStrategy": "BEST_FIT",
            "instanceTypes": ["c5.18xlarge"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecsInstanceRole",
            "bidPercentage": 100,
            "spotIamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/AmazonEC2SpotFleetRole",
            "launchTemplate": {"launchTemplateId": "lt-1", "version": "$Default"},
            "ec2Configuration": [{"imageType": "ECS_AL2023", "batchImageStatus": "LATEST"}],
        },
    }
    ce = ObservedComputeEnvironment.from_describe(item)
    assert (ce.state, ce.status) == (ResourceState.ENABLED, BatchStatus.INVALID)
    assert ce.status_reason == "CLIENT_ERROR - no such subnet"
    assert ce.update_policy == UpdatePolicy(False, 30)
    cr = ce.compute_resources
    assert cr is not None
    assert cr.allocation_strategy is AllocationStrategy.BEST_FIT
    assert cr.ec2_configuration == (Ec2Configuration("ECS_AL2023"),)
    assert cr.launch_template == LaunchTemplate(launch_template_id="lt-1", version="$Default")
    assert ce.tags == {"team": "a"}


def test_unmanaged_compute_environment_has_no_resources() -> None:
    item: ComputeEnvironmentDetailTypeDef = {
        "computeEnvironmentName": "u",
        "computeEnvironmentArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/u",
        "type": "UNMANAGED",
        "state": "DISABLED",
        "status": "VALID",
    }
    ce = ObservedComputeEnvironment.from_describe(item)
    assert ce.type is ComputeEnvironmentType.UNMANAGED and ce.compute_resources is None


def test_describe_job_queue_is_read() -> None:
    item: JobQueueDetailTypeDef = {
        "jobQueueName": "queue_72",
        "jobQueueArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/queue_72",
        "state": "ENABLED",
        "status": "UPDATING",
        "priority": 100,
        "computeEnvironmentOrder": [
            {"order": 2, "computeEnvironment": "arn-b"},
            {"order": 1, "computeEnvironment": "arn-a"},
        ],
        "jobStateTimeLimitActions": [
            {"reason": "r", "state": "RUNNABLE", "maxTimeSeconds": 600, "action": "CANCEL"}
        ],
        "tags": {"k": "v"},
    }
    queue = ObservedJobQueue.from_describe(item)
    assert queue.status is BatchStatus.UPDATING
    assert queue.compute_environment_order == (
        ComputeEnvironmentOrder(2, "arn-b"),
        ComputeEnvironmentOrder(1, "arn-a"),
    )
    assert queue.uses("arn-a") and not queue.uses("arn-c")
    assert queue.job_state_time_limit_actions == (JobStateTimeLimitAction("r", 600),)


# --- status records --------------------------------------------------------------------------


def test_replacement_progress_round_trips_through_status() -> None:
    progress = ReplacementProgress(
        phase=ReplacementPhase.IN_PROGRESS,
        step="RepointQueue",
        successor_name="env_72-0a1b2c3d",
        successor_arn="arn:new",
        previous_name="env_72",
        previous_arn="arn:old",
        started_at=datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC),
        message="moving queue queue_72",
    )
    status = progress.to_status()
    assert status["startedAt"] == "2026-11-28T12:00:05Z"
    assert ReplacementProgress.from_status(dict(status)) == progress


def test_malformed_replacement_status_is_a_field_error() -> None:
    with pytest.raises(FieldError, match=r"status\.replacement\.phase"):
        ReplacementProgress.from_status(
            {
                "phase": "Sideways",
                "step": "x",
                "successorName": "a",
                "previousName": "b",
                "startedAt": "2026-11-28T12:00:00Z",
            }
        )


def test_condition_round_trips_through_status() -> None:
    condition = Condition(
        type="Ready",
        status="False",
        reason="Replacing",
        message="moving queues",
        last_transition_time=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        observed_generation=3,
    )
    raw = condition.to_status()
    assert raw["lastTransitionTime"] == "2026-11-28T12:00:00Z"
    assert Condition.from_status(dict(raw)) == condition


def test_times_are_written_in_utc_with_a_z() -> None:
    moment = parse_time("2026-11-28T13:00:00+01:00")
    assert format_time(moment) == "2026-11-28T12:00:00Z"


# --- the rest of CreateComputeEnvironment and CreateJobQueue ------------------------------------

EKS_CLUSTER = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/batch"


def ec2_spec(**resources: Any) -> dict[str, Any]:
    return {
        "computeResources": {
            "type": "EC2",
            "allocationStrategy": "BEST_FIT_PROGRESSIVE",
            "maxvCpus": 16,
            "instanceTypes": ["m5", "g5"],
            "instanceRole": "ecsInstanceRole",
            "subnets": ["subnet-1"],
            **resources,
        }
    }


def eks_spec(**resources: Any) -> dict[str, Any]:
    return {
        **ec2_spec(**resources),
        "eksConfiguration": {
            "eksClusterArn": EKS_CLUSTER,
            "kubernetesNamespace": "batch-jobs",
            "accessEntry": {"desiredState": "ENABLED", "status": "ACTIVE"},
        },
    }


def managed_instances_spec(**resources: Any) -> dict[str, Any]:
    return {
        "computeResources": {
            "type": "ECS_MANAGED_INSTANCES",
            "maxvCpus": 64,
            "managedInstancesProvider": {
                "infrastructureRoleArn": f"arn:aws:iam::{ACCOUNT}:role/infra",
                "instanceLaunchTemplate": {
                    "ec2InstanceProfileArn": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecs",
                    "networkConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]},
                },
            },
            **resources,
        }
    }


def test_eks_configuration_is_read_without_the_read_only_status() -> None:
    spec = parse_compute_spec(eks_spec(ec2Configuration=[{"imageType": "EKS_AL2023"}]))

    assert spec.eks_configuration == EksConfiguration(EKS_CLUSTER, "batch-jobs", "ENABLED")


def test_placement_group_scaling_policy_and_launch_template_overrides_are_read() -> None:
    spec = parse_compute_spec(
        ec2_spec(
            placementGroup="mnp",
            scalingPolicy={"minScaleDownDelayMinutes": 30},
            launchTemplate={
                "launchTemplateName": "batch",
                "overrides": [
                    {"launchTemplateId": "lt-1", "targetInstanceTypes": ["g5"], "version": "2"}
                ],
            },
            ec2Configuration=[{"imageType": "ECS_AL2023", "batchImageStatus": "LATEST"}],
        )
    )

    cr = spec.compute_resources
    assert cr is not None
    assert cr.placement_group == "mnp"
    assert cr.scaling_policy == ScalingPolicy(30)
    assert cr.launch_template == LaunchTemplate(
        launch_template_name="batch",
        overrides=(LaunchTemplateOverride(("g5",), launch_template_id="lt-1", version="2"),),
    )
    # batchImageStatus is read-only in AWS: accepted, not kept.
    assert cr.ec2_configuration == (Ec2Configuration("ECS_AL2023"),)


def test_unmanaged_vcpus_and_ecs_settings_are_read() -> None:
    spec = parse_compute_spec(
        {
            "type": "UNMANAGED",
            "serviceRole": "AWSBatchServiceRole",
            "unmanagedvCpus": 48,
            "ecsSettings": {"containerInsights": "ENHANCED"},
        }
    )

    assert (spec.unmanaged_vcpus, spec.ecs_settings) == (48, EcsSettings("ENHANCED"))


def test_managed_instances_provider_and_capacity_tags_are_kept_as_written() -> None:
    raw = managed_instances_spec(capacityTags={"team": "data"})
    spec = parse_compute_spec(raw)

    cr = spec.compute_resources
    assert cr is not None
    assert cr.type is ComputeResourceType.ECS_MANAGED_INSTANCES
    assert (
        thaw_json(cr.managed_instances_provider)
        == raw["computeResources"]["managedInstancesProvider"]
    )
    assert cr.capacity_tags == {"team": "data"}


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {**ec2_spec(), "unmanagedvCpus": 4},
            "spec.unmanagedvCpus",
            "applies only to UNMANAGED",
        ),
        (
            {**eks_spec(), "ecsSettings": {"containerInsights": "ENABLED"}},
            "spec.ecsSettings",
            "doesn't apply to an EKS compute environment",
        ),
        (
            eks_spec(allocationStrategy=None),
            "spec.computeResources.allocationStrategy",
            "needs an allocationStrategy",
        ),
        (
            eks_spec(ec2Configuration=[{"imageType": "ECS_AL2023"}]),
            "spec.computeResources.ec2Configuration[0].imageType",
            "must be an EKS_ type",
        ),
        (
            ec2_spec(ec2Configuration=[{"imageType": "ECS_AL2", "imageKubernetesVersion": "1"}]),
            "spec.computeResources.ec2Configuration[0].imageKubernetesVersion",
            "applies only to EKS",
        ),
        (
            ec2_spec(launchTemplate={"launchTemplateName": "x", "userdataType": "EKS_NODEADM"}),
            "spec.computeResources.launchTemplate.userdataType",
            "applies only to EKS",
        ),
        (
            ec2_spec(subnets=None),
            "spec.computeResources.subnets",
            "subnets is required except for ECS_MANAGED_INSTANCES",
        ),
        (
            ec2_spec(capacityTags={"a": "b"}),
            "spec.computeResources.capacityTags",
            "applies only to ECS_MANAGED_INSTANCES",
        ),
        (
            managed_instances_spec(subnets=["subnet-1"]),
            "spec.computeResources.type",
            "ECS_MANAGED_INSTANCES takes only",
        ),
        (
            ec2_spec(type="FARGATE", placementGroup="x"),
            "spec.computeResources.placementGroup",
            "applies only to EC2 and SPOT",
        ),
        (
            ec2_spec(scalingPolicy={"minScaleDownDelayMinutes": 19}),
            "spec.computeResources.scalingPolicy.minScaleDownDelayMinutes",
            "0 (no delay) or between 20 and 10080",
        ),
        (
            ec2_spec(
                launchTemplate={
                    "launchTemplateName": "x",
                    "overrides": [
                        {"launchTemplateName": "a", "targetInstanceTypes": ["m5"]},
                        {"launchTemplateName": "b", "targetInstanceTypes": ["m5.large"]},
                    ],
                }
            ),
            "spec.computeResources.launchTemplate.overrides",
            "targetInstanceTypes overlap: m5 and m5.large",
        ),
        (
            ec2_spec(
                launchTemplate={
                    "launchTemplateName": "x",
                    "overrides": [{"launchTemplateName": "a", "targetInstanceTypes": ["c5"]}],
                }
            ),
            "spec.computeResources.launchTemplate.overrides",
            "must be one of instanceTypes",
        ),
        (
            {
                **eks_spec(),
                "eksConfiguration": {
                    "eksClusterArn": EKS_CLUSTER,
                    "kubernetesNamespace": "default",
                },
            },
            "spec.eksConfiguration.kubernetesNamespace",
            "can't be default",
        ),
    ],
    ids=[
        "unmanagedvCpus on MANAGED",
        "ecsSettings on EKS",
        "EKS without strategy",
        "ECS image on EKS",
        "Kubernetes version on ECS",
        "userdataType on ECS",
        "no subnets",
        "capacityTags on EC2",
        "managed instances with subnets",
        "placementGroup on Fargate",
        "scale-down delay 19",
        "overlapping overrides",
        "override outside instanceTypes",
        "default namespace",
    ],
)
def test_combination_rules_are_spec_errors_naming_the_field(
    spec: dict[str, Any], field: str, message: str
) -> None:
    cleaned = {
        **spec,
        "computeResources": {k: v for k, v in spec["computeResources"].items() if v is not None},
    }
    with pytest.raises(SpecError) as raised:
        parse_compute_spec(cleaned)

    assert raised.value.field_path == field
    assert message in raised.value.message


def test_describe_reads_the_new_members() -> None:
    detail: ComputeEnvironmentDetailTypeDef = {
        "computeEnvironmentName": "ce",
        "computeEnvironmentArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/ce",
        "ecsClusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/x",
        "type": "MANAGED",
        "unmanagedvCpus": 8,
        "ecsSettings": {"containerInsights": "ENABLED"},
        "eksConfiguration": {
            "eksClusterArn": EKS_CLUSTER,
            "kubernetesNamespace": "ns",
            "accessEntry": {"desiredState": "DISABLED", "status": "INACTIVE"},
        },
        "computeResources": {
            "type": "EC2",
            "maxvCpus": 16,
            "placementGroup": "mnp",
            "scalingPolicy": {"minScaleDownDelayMinutes": 20},
            "capacityTags": {"a": "b"},
            "launchTemplate": {
                "launchTemplateName": "x",
                "userdataType": "EKS_NODEADM",
                "overrides": [{"launchTemplateName": "y", "targetInstanceTypes": ["m5"]}],
            },
        },
    }

    observed = ObservedComputeEnvironment.from_describe(detail)

    assert observed.unmanaged_vcpus == 8
    assert observed.ecs_settings == EcsSettings("ENABLED")
    assert observed.eks_configuration == EksConfiguration(EKS_CLUSTER, "ns", "DISABLED")
    cr = observed.compute_resources
    assert cr is not None
    assert (cr.placement_group, cr.scaling_policy, cr.capacity_tags) == (
        "mnp",
        ScalingPolicy(20),
        {"a": "b"},
    )
    assert cr.launch_template == LaunchTemplate(
        launch_template_name="x",
        userdata_type="EKS_NODEADM",
        overrides=(LaunchTemplateOverride(("m5",), launch_template_name="y"),),
    )


def test_job_queue_type_is_read_from_spec_and_describe() -> None:
    spec = parse_queue_spec(
        {"priority": 1, "computeEnvironments": [{"ref": "ce", "order": 1}], "jobQueueType": "EKS"}
    )
    observed = ObservedJobQueue.from_describe(
        {
            "jobQueueName": "q",
            "jobQueueArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/q",
            "state": "ENABLED",
            "priority": 1,
            "computeEnvironmentOrder": [],
            "jobQueueType": "ECS_FARGATE",
        }
    )

    assert (spec.job_queue_type, observed.job_queue_type) == ("EKS", "ECS_FARGATE")
