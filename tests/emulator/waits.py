"""Waiting on AWS Batch resources in the conformance tests, and the create-and-wait setup they
share. Everything goes through boto3 as a Batch user's code would; nothing here reads the
emulator's internals (its Python API is used by the tests only to script how jobs run)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import (
    ComputeEnvironmentDetailTypeDef,
    ComputeResourceTypeDef,
    CreateComputeEnvironmentRequestTypeDef,
    JobDetailTypeDef,
    JobQueueDetailTypeDef,
)

from batchops.local.emulator import Emulator
from tests.conftest import aws_client
from tests.waits import wait_for

T = TypeVar("T")

# The emulator runs at speed 20 in tests: resources settle in tens of milliseconds, so poll
# often; the timeout only bounds a broken emulator, a passing test is far below it.
POLL_INTERVAL = 0.02
DEFAULT_TIMEOUT = 10.0

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch_image:latest"
SERVICE_LINKED_ROLE_SUFFIX = ":role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
FINISHED = ("SUCCEEDED", "FAILED")


def wait_until(probe: Callable[[], T | None], message: str, timeout: float = DEFAULT_TIMEOUT) -> T:
    """Poll `probe` until it returns something truthy; that value. Fails after `timeout` s."""
    return wait_for(probe, timeout=timeout, interval=POLL_INTERVAL, message=message)


# --- the default account, discovered as a user would -------------------------------------------


@dataclass(frozen=True)
class DefaultAccount:
    """The network and roles a fresh emulator account provides."""

    subnet_ids: tuple[str, ...]
    security_group_id: str
    instance_profile_arn: str
    service_role_arn: str
    spot_fleet_role_arn: str


def default_account(emulator: Emulator) -> DefaultAccount:
    """Find the default VPC's subnets and security group and the Batch roles with EC2 and IAM."""
    ec2 = aws_client("ec2", emulator)
    iam = aws_client("iam", emulator)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    in_vpc = {"Name": "vpc-id", "Values": [vpc["VpcId"]]}
    subnets = ec2.describe_subnets(Filters=[in_vpc])["Subnets"]
    groups = ec2.describe_security_groups(
        Filters=[in_vpc, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    roles = {role["RoleName"]: role["Arn"] for role in iam.list_roles()["Roles"]}
    profile = iam.get_instance_profile(InstanceProfileName="ecsInstanceRole")["InstanceProfile"]
    return DefaultAccount(
        subnet_ids=tuple(sorted(subnet["SubnetId"] for subnet in subnets)),
        security_group_id=groups[0]["GroupId"],
        instance_profile_arn=profile["Arn"],
        service_role_arn=roles["AWSBatchServiceRole"],
        spot_fleet_role_arn=roles["AmazonEC2SpotFleetTaggingRole"],
    )


def ec2_resources(
    account: DefaultAccount,
    *,
    max_vcpus: int = 256,
    instance_types: tuple[str, ...] = ("optimal",),
    allocation_strategy: str = "BEST_FIT_PROGRESSIVE",
    spot: bool = False,
) -> ComputeResourceTypeDef:
    """Managed EC2 (or Spot) compute resources in the default VPC."""
    resources: ComputeResourceTypeDef = {
        "type": "SPOT" if spot else "EC2",
        "allocationStrategy": allocation_strategy,  # type: ignore[typeddict-item]
        "minvCpus": 0,
        "maxvCpus": max_vcpus,
        "instanceTypes": list(instance_types),
        "subnets": [account.subnet_ids[0]],
        "securityGroupIds": [account.security_group_id],
        "instanceRole": account.instance_profile_arn,
    }
    if spot:
        resources["spotIamFleetRole"] = account.spot_fleet_role_arn
    return resources


def fargate_resources(account: DefaultAccount, max_vcpus: int = 16) -> ComputeResourceTypeDef:
    """Managed Fargate compute resources in the default VPC."""
    return {
        "type": "FARGATE",
        "maxvCpus": max_vcpus,
        "subnets": [account.subnet_ids[0]],
        "securityGroupIds": [account.security_group_id],
    }


# --- compute environments and queues ----------------------------------------------------------


def find_ce(batch: BatchClient, name: str) -> ComputeEnvironmentDetailTypeDef | None:
    """DescribeComputeEnvironments for one name; None once it is gone."""
    found = batch.describe_compute_environments(computeEnvironments=[name])
    return found["computeEnvironments"][0] if found["computeEnvironments"] else None


def ce_status(batch: BatchClient, name: str) -> str | None:
    """A compute environment's status, or None once it is gone."""
    detail = find_ce(batch, name)
    return detail["status"] if detail else None


def wait_ce_status(
    batch: BatchClient, name: str, status: str | None, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Wait until the compute environment has `status` (None: until it is gone)."""
    wait_until(
        lambda: ce_status(batch, name) == status, f"compute environment {name} {status}", timeout
    )


def create_ce(
    batch: BatchClient,
    name: str,
    resources: ComputeResourceTypeDef,
    service_role: str | None = None,
    state: str = "ENABLED",
) -> str:
    """CreateComputeEnvironment (MANAGED) and wait until VALID; its ARN."""
    request: CreateComputeEnvironmentRequestTypeDef = {
        "computeEnvironmentName": name,
        "type": "MANAGED",
        "state": state,  # type: ignore[typeddict-item]
        "computeResources": resources,
    }
    if service_role:
        request["serviceRole"] = service_role
    arn = batch.create_compute_environment(**request)["computeEnvironmentArn"]
    wait_ce_status(batch, name, "VALID")
    return arn


def find_queue(batch: BatchClient, name: str) -> JobQueueDetailTypeDef | None:
    """DescribeJobQueues for one name; None once it is gone."""
    found = batch.describe_job_queues(jobQueues=[name])["jobQueues"]
    return found[0] if found else None


def queue_status(batch: BatchClient, name: str) -> str | None:
    """A job queue's status, or None once it is gone."""
    detail = find_queue(batch, name)
    return detail["status"] if detail else None


def wait_queue_status(batch: BatchClient, name: str, status: str | None) -> None:
    """Wait until the job queue has `status` (None: until it is gone)."""
    wait_until(lambda: queue_status(batch, name) == status, f"job queue {name} {status}")


def create_queue(
    batch: BatchClient, name: str, *ces: str, priority: int = 100, state: str = "ENABLED"
) -> str:
    """CreateJobQueue over these compute environments in this order; wait until VALID; its ARN."""
    arn = batch.create_job_queue(
        jobQueueName=name,
        state=state,  # type: ignore[arg-type]
        priority=priority,
        computeEnvironmentOrder=[
            {"order": order, "computeEnvironment": ce} for order, ce in enumerate(ces, 1)
        ],
    )["jobQueueArn"]
    wait_queue_status(batch, name, "VALID")
    return arn


def disable_and_delete_queue(batch: BatchClient, name: str) -> None:
    """The documented teardown of a queue: disable, wait VALID, delete, wait until gone."""
    batch.update_job_queue(jobQueue=name, state="DISABLED")
    wait_queue_status(batch, name, "VALID")
    batch.delete_job_queue(jobQueue=name)
    wait_queue_status(batch, name, None)


# --- job definitions and jobs -----------------------------------------------------------------


def register(
    batch: BatchClient,
    name: str,
    vcpus: int = 1,
    memory: int = 1024,
    command: tuple[str, ...] | None = None,
) -> str:
    """RegisterJobDefinition of a container job; its ARN."""
    return batch.register_job_definition(
        jobDefinitionName=name,
        type="container",
        containerProperties={
            "image": IMAGE,
            "command": list(command or ("python", f"src/{name}.py")),
            "resourceRequirements": [
                {"type": "VCPU", "value": str(vcpus)},
                {"type": "MEMORY", "value": str(memory)},
            ],
        },
    )["jobDefinitionArn"]


def describe_jobs(batch: BatchClient, *job_ids: str) -> list[JobDetailTypeDef]:
    """DescribeJobs, in the order asked."""
    found = {job["jobId"]: job for job in batch.describe_jobs(jobs=list(job_ids))["jobs"]}
    return [found[job_id] for job_id in job_ids]


def job_status(batch: BatchClient, job_id: str) -> str:
    """One job's current status."""
    return describe_jobs(batch, job_id)[0]["status"]


def wait_job_status(
    batch: BatchClient, job_id: str, status: str, timeout: float = DEFAULT_TIMEOUT
) -> JobDetailTypeDef:
    """Wait until the job exists with `status` (array children appear after their parent); its
    description then."""

    def probe() -> JobDetailTypeDef | None:
        found = batch.describe_jobs(jobs=[job_id])["jobs"]
        return found[0] if found and found[0]["status"] == status else None

    return wait_until(probe, f"job {job_id} {status}", timeout)


def wait_finished(
    batch: BatchClient, *job_ids: str, timeout: float = DEFAULT_TIMEOUT
) -> list[JobDetailTypeDef]:
    """Wait until every job is SUCCEEDED or FAILED; their descriptions, in the order asked."""

    def probe() -> list[JobDetailTypeDef] | None:
        jobs = describe_jobs(batch, *job_ids)
        return jobs if all(job["status"] in FINISHED for job in jobs) else None

    return wait_until(probe, f"jobs {job_ids} finished", timeout)


# --- errors -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorResponse:
    """What a Batch client branches on when a call fails."""

    code: str
    message: str
    http_status: int


def client_error(call: Callable[[], Any]) -> ErrorResponse:
    """Run a call that must fail with a ClientError; its code, message and HTTP status."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return ErrorResponse(
        code=response["Error"]["Code"],
        message=response["Error"]["Message"],
        http_status=response["ResponseMetadata"]["HTTPStatusCode"],
    )
