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
