"""Compute environments behave as the AWS Batch documentation and real error reports say.

Sources (rule → where it is written down):
- scaling vs. infrastructure updates, and which roles/strategies allow the latter: user guide
  "Updating compute environments",
  https://docs.aws.amazon.com/batch/latest/userguide/updating-compute-environments.html, and
  the botocore model's ComputeResourceUpdate / UpdateComputeEnvironment docs;
- delete needs DISABLED and no queue: API reference DeleteComputeEnvironment;
- "Cannot delete, found existing JobQueue relationship": hashicorp/terraform-provider-aws#2044,
  #13221, #46925; azavea/raster-vision-aws#28 (some reports show a trailing period);
- "Object already exists": aws-cloudformation/cloudformation-coverage-roadmap#2463 (a same-name
  create, surfaced by CloudFormation);
- a bad role or network reference is accepted and the CE goes INVALID: user guide "INVALID
  compute environment",
  https://docs.aws.amazon.com/batch/latest/userguide/invalid_compute_environment.html;
  INVALID status reasons start with "CLIENT_ERROR - ": hashicorp/terraform-provider-aws#38050,
  aws-samples/aws-batch-genomics#9.
"""

from __future__ import annotations

from typing import Any

import pytest
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import ComputeResourceTypeDef

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    SERVICE_LINKED_ROLE_SUFFIX,
    DefaultAccount,
    ce_status,
    client_error,
    create_ce,
    create_queue,
    default_account,
    ec2_resources,
    fargate_resources,
    find_ce,
    wait_ce_status,
    wait_until,
)

# Slow enough that a transient status (CREATING, UPDATING, DELETING) is seen by the next call.
OBSERVABLE_SPEED = 2.0


def statuses_until(batch: BatchClient, name: str, final: str | None) -> list[str | None]:
    """Poll a compute environment until it reaches `final`; the distinct statuses seen."""
    seen: list[str | None] = []

    def reached() -> bool:
        status = ce_status(batch, name)
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == final

    wait_until(reached, f"compute environment {name} {final}")
    return seen


def test_compute_environment_without_service_role_uses_the_service_linked_role(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))

    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["serviceRole"].endswith(SERVICE_LINKED_ROLE_SUFFIX)


def test_new_compute_environment_is_creating_then_valid(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    emulator.set_speed(OBSERVABLE_SPEED)

    arn = batch.create_compute_environment(
        computeEnvironmentName="ce", type="MANAGED", computeResources=ec2_resources(account)
    )["computeEnvironmentArn"]

    assert arn == "arn:aws:batch:us-east-1:123456789012:compute-environment/ce"
    assert statuses_until(batch, "ce", "VALID") == ["CREATING", "VALID"]


@pytest.mark.parametrize(
    ("field", "unknown"),
    [
        ("subnets", "subnet-00000000000000bad"),
        ("securityGroupIds", "sg-00000000000000bad"),
        ("instanceRole", "arn:aws:iam::123456789012:instance-profile/noSuchProfile"),
    ],
)
def test_unknown_network_or_instance_role_makes_ce_invalid_but_the_create_call_succeeds(
    batch: BatchClient, emulator: Emulator, field: str, unknown: str
) -> None:
    resources = ec2_resources(default_account(emulator))
    resources[field] = [unknown] if field != "instanceRole" else unknown  # type: ignore[literal-required]

    batch.create_compute_environment(
        computeEnvironmentName="ce", type="MANAGED", computeResources=resources
    )

    wait_ce_status(batch, "ce", "INVALID")
    detail = find_ce(batch, "ce")
    assert detail is not None
    # The "CLIENT_ERROR - " prefix is seen in real reports; that the reason names the bad
    # reference follows EC2's and IAM's own messages but was not seen verbatim for each field.
    assert detail["statusReason"].startswith("CLIENT_ERROR")
    assert unknown.rsplit("/", 1)[-1] in detail["statusReason"]


def test_unknown_service_role_makes_ce_invalid_but_the_create_call_succeeds(
    batch: BatchClient, emulator: Emulator
) -> None:
    batch.create_compute_environment(
        computeEnvironmentName="ce",
        type="MANAGED",
        serviceRole="arn:aws:iam::123456789012:role/NoSuchBatchRole",
        computeResources=ec2_resources(default_account(emulator)),
    )

    wait_ce_status(batch, "ce", "INVALID")
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["statusReason"].startswith("CLIENT_ERROR")


def test_scaling_update_applies_in_place_with_any_role_and_allocation_strategy(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(
        batch,
        "ce",
        ec2_resources(account, allocation_strategy="BEST_FIT"),
        service_role=account.service_role_arn,
    )
    emulator.set_speed(OBSERVABLE_SPEED)

    batch.update_compute_environment(
        computeEnvironment="ce",
        state="DISABLED",
        computeResources={"minvCpus": 2, "desiredvCpus": 4, "maxvCpus": 512},
    )

    assert statuses_until(batch, "ce", "VALID") == ["UPDATING", "VALID"]
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["state"] == "DISABLED"
    resources = detail["computeResources"]
    assert (resources["minvCpus"], resources["desiredvCpus"], resources["maxvCpus"]) == (2, 4, 512)
    assert detail["serviceRole"] == account.service_role_arn


@pytest.mark.parametrize(
    ("strategy", "spot"),
    [
        ("BEST_FIT_PROGRESSIVE", False),
        ("SPOT_CAPACITY_OPTIMIZED", True),
        ("SPOT_PRICE_CAPACITY_OPTIMIZED", True),
    ],
)
def test_infrastructure_update_with_service_linked_role_goes_updating_then_valid(
    batch: BatchClient, emulator: Emulator, strategy: str, spot: bool
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ce", ec2_resources(account, allocation_strategy=strategy, spot=spot))
    emulator.set_speed(OBSERVABLE_SPEED)

    batch.update_compute_environment(
        computeEnvironment="ce",
        computeResources={
            "instanceTypes": ["c5.large", "m5.large"],
            "subnets": [account.subnet_ids[1]],
        },
    )

    assert statuses_until(batch, "ce", "VALID") == ["UPDATING", "VALID"]
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert set(detail["computeResources"]["instanceTypes"]) == {"c5.large", "m5.large"}
    assert detail["computeResources"]["subnets"] == [account.subnet_ids[1]]


def _assert_infrastructure_update_rejected(batch: BatchClient) -> None:
    error = client_error(
        lambda: batch.update_compute_environment(
            computeEnvironment="ce", computeResources={"instanceTypes": ["c5.large"]}
        )
    )
    # No public report quotes the message of this rejection: only the class and status are
    # asserted.
    assert (error.code, error.http_status) == ("ClientException", 400)
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["computeResources"]["instanceTypes"] == ["optimal"]
    assert detail["status"] == "VALID"


def test_infrastructure_update_of_best_fit_compute_environment_is_a_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator), allocation_strategy="BEST_FIT"))

    _assert_infrastructure_update_rejected(batch)


def test_infrastructure_update_with_an_explicit_service_role_is_a_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ce", ec2_resources(account), service_role=account.service_role_arn)

    _assert_infrastructure_update_rejected(batch)


@pytest.mark.parametrize(("start", "target"), [("EC2", "FARGATE"), ("FARGATE", "EC2")])
def test_changing_compute_resource_type_between_ec2_and_fargate_is_rejected(
    batch: BatchClient, emulator: Emulator, start: str, target: str
) -> None:
    account = default_account(emulator)
    resources: ComputeResourceTypeDef = (
        ec2_resources(account) if start == "EC2" else fargate_resources(account)
    )
    create_ce(batch, "ce", resources)

    error = client_error(
        lambda: batch.update_compute_environment(
            computeEnvironment="ce",
            computeResources={"type": target},  # type: ignore[typeddict-item]
        )
    )

    # Message not found in public reports: class only.
    assert error.code == "ClientException"
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["computeResources"]["type"] == start


def test_deleting_an_enabled_compute_environment_fails_until_it_is_disabled(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))

    error = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))

    # The API reference states the rule; the message was not found in public reports.
    assert error.code == "ClientException"
    assert ce_status(batch, "ce") == "VALID"
    batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")
    wait_ce_status(batch, "ce", "VALID")
    batch.delete_compute_environment(computeEnvironment="ce")
    wait_ce_status(batch, "ce", None)


def test_deleting_ce_used_by_queue_fails_with_jobqueue_relationship(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")
    batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")
    wait_ce_status(batch, "ce", "VALID")

    error = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))

    assert (error.code, error.http_status) == ("ClientException", 400)
    assert error.message.startswith("Cannot delete, found existing JobQueue relationship")
    assert ce_status(batch, "ce") == "VALID"


def test_deleted_compute_environment_is_deleting_then_gone_from_describe(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)), state="DISABLED")
    emulator.set_speed(OBSERVABLE_SPEED)

    batch.delete_compute_environment(computeEnvironment="ce")

    assert statuses_until(batch, "ce", None) == ["DELETING", None]
    names = [
        ce["computeEnvironmentName"]
        for ce in batch.describe_compute_environments()["computeEnvironments"]
    ]
    assert "ce" not in names


def test_creating_a_compute_environment_with_an_existing_name_fails_with_object_already_exists(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ce", ec2_resources(account))

    error = client_error(
        lambda: batch.create_compute_environment(
            computeEnvironmentName="ce",
            type="MANAGED",
            computeResources=ec2_resources(account, max_vcpus=8),
        )
    )

    assert error.code == "ClientException"
    assert "Object already exists" in error.message
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["computeResources"]["maxvCpus"] == 256


def test_compute_environment_tags_from_create_and_tag_resource_are_listed(
    batch: BatchClient, emulator: Emulator
) -> None:
    account: DefaultAccount = default_account(emulator)
    arn = batch.create_compute_environment(
        computeEnvironmentName="ce",
        type="MANAGED",
        computeResources=ec2_resources(account),
        tags={"team": "data"},
    )["computeEnvironmentArn"]
    wait_ce_status(batch, "ce", "VALID")

    batch.tag_resource(resourceArn=arn, tags={"cost-center": "42"})

    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "data",
        "cost-center": "42",
    }
    batch.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert batch.list_tags_for_resource(resourceArn=arn)["tags"] == {"cost-center": "42"}
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["tags"] == {"cost-center": "42"}


# --- the rest of CreateComputeEnvironment ------------------------------------------------------
# Sources: API reference CreateComputeEnvironment, ComputeResource, ComputeResourceUpdate,
# EksConfiguration, EksAccessEntry, LaunchTemplateSpecification(Override), ComputeScalingPolicy,
# Ec2Configuration, EcsSettings; user guide "Amazon EKS compute environments" and "Compute
# environments on Amazon ECS Managed Instances". No public report quotes these rejections: the
# tests assert the class and that nothing was created or changed.

EKS_CLUSTER = "arn:aws:eks:us-east-1:123456789012:cluster/batch"
INFRASTRUCTURE_ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRole"


def _eks_configuration(**changes: Any) -> dict[str, Any]:
    return {"eksClusterArn": EKS_CLUSTER, "kubernetesNamespace": "batch-jobs", **changes}


def _eks_resources(account: DefaultAccount, **changes: Any) -> dict[str, Any]:
    resources: dict[str, Any] = {
        **ec2_resources(account, instance_types=("m5",)),
        "ec2Configuration": [{"imageType": "EKS_AL2023"}],
    }
    return {**resources, **changes}


def _managed_instances_provider(account: DefaultAccount, **launch: Any) -> dict[str, Any]:
    return {
        "infrastructureRoleArn": INFRASTRUCTURE_ROLE,
        "instanceLaunchTemplate": {
            "ec2InstanceProfileArn": account.instance_profile_arn,
            "networkConfiguration": {
                "subnets": [account.subnet_ids[0]],
                "securityGroups": [account.security_group_id],
            },
            **launch,
        },
    }


def _managed_instances_resources(account: DefaultAccount, **changes: Any) -> dict[str, Any]:
    return {
        "type": "ECS_MANAGED_INSTANCES",
        "maxvCpus": 64,
        "managedInstancesProvider": _managed_instances_provider(account),
        **changes,
    }


def _described(batch: BatchClient, name: str) -> dict[str, Any]:
    """DescribeComputeEnvironments of one, as plain JSON ({} once it is gone)."""
    return dict(find_ce(batch, name) or {})


def _create(batch: BatchClient, name: str = "ce", **request: Any) -> None:
    batch.create_compute_environment(computeEnvironmentName=name, **request)


def _rejected(batch: BatchClient, name: str = "ce", **request: Any) -> None:
    error = client_error(lambda: _create(batch, name, **request))
    assert (error.code, error.http_status) == ("ClientException", 400)
    assert find_ce(batch, name) is None


def test_eks_compute_environment_is_described_with_its_eks_configuration(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    resources = _eks_resources(
        account,
        launchTemplate={"launchTemplateName": "eks-nodes", "userdataType": "EKS_NODEADM"},
        placementGroup="mnp",
    )

    _create(
        batch,
        type="MANAGED",
        computeResources=resources,
        eksConfiguration=_eks_configuration(accessEntry={"desiredState": "ENABLED"}),
    )
    wait_ce_status(batch, "ce", "VALID")

    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["containerOrchestrationType"] == "EKS"
    assert detail["eksConfiguration"] == _eks_configuration(
        accessEntry={"desiredState": "ENABLED", "status": "ACTIVE"}
    )
    described = detail["computeResources"]
    assert described["ec2Configuration"] == [{"imageType": "EKS_AL2023"}]
    assert described["launchTemplate"] == resources["launchTemplate"]
    assert described["placementGroup"] == "mnp"


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        # Batch on Amazon EKS runs EC2 nodes (user guide, "Amazon EKS compute environments").
        ("fargate", {"computeResources": "fargate"}),
        # ComputeResource.allocationStrategy is "required for Amazon EKS compute environments".
        ("no allocation strategy", {"allocationStrategy": None}),
        # Ec2Configuration.imageType: ECS and EKS have their own image types.
        ("ECS image type", {"ec2Configuration": [{"imageType": "ECS_AL2023"}]}),
        # EksConfiguration.kubernetesNamespace: not default, not kube-*.
        ("kube- namespace", {"eksConfiguration": _eks_configuration(kubernetesNamespace="kube-x")}),
        (
            "default namespace",
            {"eksConfiguration": _eks_configuration(kubernetesNamespace="default")},
        ),
        ("cluster not an EKS ARN", {"eksConfiguration": _eks_configuration(eksClusterArn="batch")}),
        # EcsSettings is Amazon ECS Container Insights.
        ("ecsSettings", {"ecsSettings": {"containerInsights": "ENABLED"}}),
    ],
)
def test_eks_compute_environment_rules_are_client_exceptions(
    batch: BatchClient, emulator: Emulator, case: str, changes: dict[str, Any]
) -> None:
    account = default_account(emulator)
    resources = _eks_resources(account)
    request: dict[str, Any] = {"type": "MANAGED", "eksConfiguration": _eks_configuration()}
    for key, value in changes.items():
        if key == "computeResources":
            resources = dict(fargate_resources(account))
        elif key in ("eksConfiguration", "ecsSettings"):
            request[key] = value
        elif value is None:
            resources.pop(key)
        else:
            resources[key] = value

    _rejected(batch, computeResources=resources, **request)


@pytest.mark.parametrize(
    "resource_changes",
    [
        {"ec2Configuration": [{"imageType": "EKS_AL2023"}]},
        {"ec2Configuration": [{"imageType": "ECS_AL2023", "imageKubernetesVersion": "1.32"}]},
        {"launchTemplate": {"launchTemplateName": "lt", "userdataType": "EKS_NODEADM"}},
    ],
    ids=["EKS image type", "imageKubernetesVersion", "userdataType"],
)
def test_eks_only_members_on_an_ecs_compute_environment_are_client_exceptions(
    batch: BatchClient, emulator: Emulator, resource_changes: dict[str, Any]
) -> None:
    resources = {**ec2_resources(default_account(emulator)), **resource_changes}

    _rejected(batch, type="MANAGED", computeResources=resources)


def test_eks_access_entry_updates_in_place_without_an_infrastructure_update(
    batch: BatchClient, emulator: Emulator
) -> None:
    # The cluster and namespace can't even be sent: EksConfigurationUpdate has accessEntry only
    # (botocore refuses other members before the request leaves).
    account = default_account(emulator)
    _create(
        batch,
        type="MANAGED",
        computeResources=_eks_resources(account, allocationStrategy="BEST_FIT"),
        eksConfiguration=_eks_configuration(),
    )
    wait_ce_status(batch, "ce", "VALID")

    # BEST_FIT: an infrastructure update would be refused.
    batch.update_compute_environment(
        computeEnvironment="ce", eksConfiguration={"accessEntry": {"desiredState": "DISABLED"}}
    )
    wait_ce_status(batch, "ce", "VALID")

    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["eksConfiguration"] == _eks_configuration(
        accessEntry={"desiredState": "DISABLED", "status": "INACTIVE"}
    )


def test_eks_configuration_update_of_an_ecs_compute_environment_is_a_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))

    error = client_error(
        lambda: batch.update_compute_environment(
            computeEnvironment="ce", eksConfiguration={"accessEntry": {"desiredState": "ENABLED"}}
        )
    )

    assert error.code == "ClientException"
    assert "eksConfiguration" not in _described(batch, "ce")


def test_placement_group_and_launch_template_overrides_are_described_as_created(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    template = {
        "launchTemplateName": "batch",
        "version": "$Latest",
        "overrides": [
            {"launchTemplateName": "batch-gpu", "targetInstanceTypes": ["g5"]},
            {"launchTemplateId": "lt-0123456789abcdef0", "targetInstanceTypes": ["m5.large"]},
        ],
    }
    resources = {
        **ec2_resources(account, instance_types=("m5", "g5")),
        "placementGroup": "mnp-cluster",
        "launchTemplate": template,
        "scalingPolicy": {"minScaleDownDelayMinutes": 30},
    }

    create_ce(batch, "ce", resources)  # type: ignore[arg-type]

    described = _described(batch, "ce").get("computeResources", {})
    assert described.get("placementGroup") == "mnp-cluster"
    assert described.get("launchTemplate") == template
    assert described.get("scalingPolicy") == {"minScaleDownDelayMinutes": 30}


@pytest.mark.parametrize(
    ("case", "overrides", "instance_types"),
    [
        # "You must specify either the launch template ID or launch template name ... not both."
        ("id and name", [{"launchTemplateId": "lt-1", "launchTemplateName": "x"}], ("m5",)),
        # targetInstanceTypes "is required when defining a launch template override".
        ("no targets", [{"launchTemplateName": "x"}], ("m5",)),
        # "optimal, default_x86_64, and default_arm64" are not allowed.
        (
            "optimal",
            [{"launchTemplateName": "x", "targetInstanceTypes": ["optimal"]}],
            ("optimal",),
        ),
        # Only instance types and families "within the ComputeResource.instanceTypes set".
        ("outside", [{"launchTemplateName": "x", "targetInstanceTypes": ["c5.large"]}], ("m5",)),
        # Targets "can't overlap for the same compute environment".
        (
            "overlap",
            [
                {"launchTemplateName": "x", "targetInstanceTypes": ["m5"]},
                {"launchTemplateName": "y", "targetInstanceTypes": ["m5.large"]},
            ],
            ("m5",),
        ),
        # "up to ten (10) launch template overrides".
        (
            "eleven",
            [
                {"launchTemplateName": f"x{size}", "targetInstanceTypes": [f"m5.{size}xlarge"]}
                for size in range(2, 13)
            ],
            ("m5",),
        ),
    ],
)
def test_launch_template_override_rules_are_client_exceptions(
    batch: BatchClient,
    emulator: Emulator,
    case: str,
    overrides: list[dict[str, Any]],
    instance_types: tuple[str, ...],
) -> None:
    resources = {
        **ec2_resources(default_account(emulator), instance_types=instance_types),
        "launchTemplate": {"launchTemplateName": "batch", "overrides": overrides},
    }

    _rejected(batch, type="MANAGED", computeResources=resources)


def test_placement_group_and_scaling_policy_change_with_infrastructure_updates_only(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "best-fit", ec2_resources(account, allocation_strategy="BEST_FIT"))
    create_ce(batch, "progressive", ec2_resources(account))

    for change in ({"placementGroup": "mnp"}, {"scalingPolicy": {"minScaleDownDelayMinutes": 60}}):
        error = client_error(
            lambda change=change: batch.update_compute_environment(  # type: ignore[misc]
                computeEnvironment="best-fit", computeResources=change
            )
        )
        assert error.code == "ClientException"
        batch.update_compute_environment(computeEnvironment="progressive", computeResources=change)  # type: ignore[arg-type]
        wait_ce_status(batch, "progressive", "VALID")

    described = _described(batch, "progressive").get("computeResources", {})
    assert described.get("placementGroup") == "mnp"
    assert described.get("scalingPolicy") == {"minScaleDownDelayMinutes": 60}
    assert "placementGroup" not in _described(batch, "best-fit").get("computeResources", {})


@pytest.mark.parametrize(
    ("resource_changes", "fargate"),
    [
        ({"scalingPolicy": {"minScaleDownDelayMinutes": 30}}, True),
        ({"placementGroup": "mnp"}, True),
        # "Minimum value of 20. Maximum value of 10080. Use 0 to unset" (ComputeScalingPolicy).
        ({"scalingPolicy": {"minScaleDownDelayMinutes": 10}}, False),
        ({"scalingPolicy": {"minScaleDownDelayMinutes": 10081}}, False),
    ],
    ids=["scalingPolicy on Fargate", "placementGroup on Fargate", "delay 10", "delay 10081"],
)
def test_scaling_policy_and_placement_group_rules_are_client_exceptions(
    batch: BatchClient, emulator: Emulator, resource_changes: dict[str, Any], fargate: bool
) -> None:
    account = default_account(emulator)
    base = fargate_resources(account) if fargate else ec2_resources(account)

    _rejected(batch, type="MANAGED", computeResources={**base, **resource_changes})


def test_managed_instances_compute_environment_is_described_as_created(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    resources = _managed_instances_resources(account, capacityTags={"team": "data"})

    create_ce(batch, "ce", resources)  # type: ignore[arg-type]

    detail = find_ce(batch, "ce")
    assert detail is not None
    assert detail["computeResources"] == resources
    assert detail["containerOrchestrationType"] == "ECS"


def test_managed_instances_provider_and_capacity_tags_update_in_place_without_preconditions(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    # A regular service role: an infrastructure update would be refused.
    create_ce(
        batch,
        "ce",
        _managed_instances_resources(account),  # type: ignore[arg-type]
        service_role=account.service_role_arn,
    )
    provider = _managed_instances_provider(
        account, instanceRequirements={"allowedInstanceTypes": ["m5", "c5"]}
    )
    provider["propagateTags"] = "CAPACITY_PROVIDER"

    batch.update_compute_environment(
        computeEnvironment="ce",
        computeResources={"managedInstancesProvider": provider, "capacityTags": {"team": "ml"}},  # type: ignore[typeddict-item]
    )
    wait_ce_status(batch, "ce", "VALID")

    described = _described(batch, "ce").get("computeResources", {})
    assert described.get("managedInstancesProvider") == provider
    assert described.get("capacityTags") == {"team": "ml"}


@pytest.mark.parametrize(
    "update",
    [
        # "You cannot change the type to or from ECS_MANAGED_INSTANCES."
        {"type": "EC2"},
        # Its instance selection lives in managedInstancesProvider.
        {"instanceTypes": ["m5"]},
    ],
    # capacityOptionType and fipsEnabled ("You cannot change ... on update") are not members of
    # UpdateManagedInstancesProviderConfiguration: botocore refuses them before sending.
    ids=["type", "instanceTypes"],
)
def test_managed_instances_updates_aws_rules_out_are_client_exceptions(
    batch: BatchClient, emulator: Emulator, update: dict[str, Any]
) -> None:
    account = default_account(emulator)
    resources = _managed_instances_resources(account)
    create_ce(batch, "ce", resources)  # type: ignore[arg-type]

    error = client_error(
        lambda: batch.update_compute_environment(computeEnvironment="ce", computeResources=update)  # type: ignore[arg-type]
    )

    assert error.code == "ClientException"
    assert _described(batch, "ce").get("computeResources") == resources


@pytest.mark.parametrize(
    "resources",
    ["no provider", "subnets", "provider on EC2", "capacityTags on EC2", "EC2 to managed"],
)
def test_managed_instances_combination_rules_are_client_exceptions(
    batch: BatchClient, emulator: Emulator, resources: str
) -> None:
    account = default_account(emulator)
    managed = _managed_instances_resources(account)
    ec2: dict[str, Any] = dict(ec2_resources(account))
    requested = {
        "no provider": {k: v for k, v in managed.items() if k != "managedInstancesProvider"},
        "subnets": {**managed, "subnets": [account.subnet_ids[0]]},
        "provider on EC2": {**ec2, "managedInstancesProvider": managed["managedInstancesProvider"]},
        "capacityTags on EC2": {**ec2, "capacityTags": {"team": "data"}},
    }
    if resources == "EC2 to managed":
        create_ce(batch, "ce", ec2_resources(account))
        error = client_error(
            lambda: batch.update_compute_environment(
                computeEnvironment="ce",
                computeResources={"type": "ECS_MANAGED_INSTANCES"},
            )
        )
        assert error.code == "ClientException"
        assert _described(batch, "ce").get("computeResources", {}).get("type") == "EC2"
        return

    _rejected(batch, type="MANAGED", computeResources=requested[resources])


def test_unmanaged_vcpus_is_for_unmanaged_compute_environments_and_updates_in_place(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    _rejected(
        batch, "managed", type="MANAGED", computeResources=ec2_resources(account), unmanagedvCpus=8
    )
    _create(
        batch,
        "unmanaged",
        type="UNMANAGED",
        serviceRole=account.service_role_arn,
        unmanagedvCpus=8,
    )
    wait_ce_status(batch, "unmanaged", "VALID")

    batch.update_compute_environment(computeEnvironment="unmanaged", unmanagedvCpus=16)
    wait_ce_status(batch, "unmanaged", "VALID")

    assert _described(batch, "unmanaged").get("unmanagedvCpus") == 16


def test_ecs_settings_and_context_are_described_and_ecs_settings_update_in_place(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    _create(
        batch,
        type="MANAGED",
        computeResources=ec2_resources(account, allocation_strategy="BEST_FIT"),
        ecsSettings={"containerInsights": "ENABLED"},
        context="reserved",
    )
    wait_ce_status(batch, "ce", "VALID")
    detail = find_ce(batch, "ce")
    assert detail is not None
    assert (detail["ecsSettings"], detail["context"]) == (
        {"containerInsights": "ENABLED"},
        "reserved",
    )

    # BEST_FIT: an infrastructure update would be refused.
    batch.update_compute_environment(
        computeEnvironment="ce", ecsSettings={"containerInsights": "ENHANCED"}
    )
    wait_ce_status(batch, "ce", "VALID")

    assert _described(batch, "ce").get("ecsSettings") == {"containerInsights": "ENHANCED"}


def test_read_only_batch_image_status_in_a_request_is_not_stored(
    batch: BatchClient, emulator: Emulator
) -> None:
    resources = {
        **ec2_resources(default_account(emulator)),
        "ec2Configuration": [{"imageType": "ECS_AL2023", "batchImageStatus": "LATEST"}],
    }

    create_ce(batch, "ce", resources)  # type: ignore[arg-type]

    described = _described(batch, "ce").get("computeResources", {})
    assert described.get("ec2Configuration") == [{"imageType": "ECS_AL2023"}]
