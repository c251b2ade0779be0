"""Every response the emulator sends fits botocore's output shape for its operation.

A lifecycle a Batch user goes through (an EC2 and a Fargate compute environment, a fair-share
scheduling policy and two queues, one of them under the policy, consumable resources updated
with SET/ADD/REMOVE and listed, plain, dependent, array, failing-and-retried, terminated and
cancelled jobs, tags, teardown)
runs through boto3, and every raw JSON body of a successful response is walked against the
operation's output shape in the installed botocore model: no member the shape does not
declare, the JSON type each member's shape says, enum values in range, and every required
member present unless EXCEPTIONS below says when and why AWS itself leaves it out. The point
is that a new emulator feature cannot drift from the API contract unnoticed.

Raw bodies, not boto3's parsed results: botocore's parser drops unknown members and converts
types, which would hide exactly what this test looks for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    Shape,
    StringShape,
    StructureShape,
)
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator
from batchops.local.emulator.wsgi import BATCH_OPERATIONS, TAG_OPERATIONS
from tests.conftest import aws_client
from tests.emulator.waits import (
    FINISHED,
    IMAGE,
    create_ce,
    create_queue,
    default_account,
    ec2_resources,
    fargate_resources,
    wait_ce_status,
    wait_job_status,
    wait_queue_status,
    wait_until,
)

# Slow enough that polling sees the jobs in their transient states (SUBMITTED ... RUNNING).
SPEED = 5.0

# Every Batch operation the emulator serves (its own routing table): the lifecycle below calls
# each at least once, so an operation added to the emulator must be added here too.
OPERATIONS = frozenset(BATCH_OPERATIONS.values()) | frozenset(TAG_OPERATIONS.values())

BEFORE_RUNNING = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "STARTING"})


def _never_ran(job: Mapping[str, Any]) -> bool:
    # Not RUNNING yet, or FAILED without ever running (dependency failed, cancelled, terminated
    # before RUNNING): such a job has no stoppedAt either.
    status = job.get("status")
    return status in BEFORE_RUNNING or (status == "FAILED" and "stoppedAt" not in job)


@dataclass(frozen=True)
class MissingAllowed:
    """A required member AWS itself omits, and when."""

    shape: str
    member: str
    applies: Callable[[Mapping[str, Any]], bool]
    reason: str


EXCEPTIONS = (
    MissingAllowed(
        "JobDetail",
        "startedAt",
        _never_ran,
        "startedAt is when the job went STARTING -> RUNNING (API reference JobDetail); before "
        "that there is no value, and AWS's own example job state change event of a RUNNABLE "
        "job has no startedAt although botocore marks it required: "
        "https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html",
    ),
)


@dataclass(frozen=True)
class Response:
    """One successful response: the operation and its raw JSON body."""

    operation: OperationModel
    body: dict[str, Any]


@dataclass
class ShapeWalk:
    """Walks JSON values against botocore shapes, collecting violations and used exceptions."""

    violations: list[str]
    used: set[MissingAllowed]

    def check(self, value: Any, shape: Shape, path: str) -> None:
        """Check `value` (found at `path`) against `shape`, recursively."""
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            self._structure(value, shape, path)
        elif kind == "list":
            assert isinstance(shape, ListShape)
            if self._expect(isinstance(value, list), value, "a list", path):
                for index, item in enumerate(value):
                    self.check(item, shape.member, f"{path}[{index}]")
        elif kind == "map":
            assert isinstance(shape, MapShape)
            if self._expect(isinstance(value, dict), value, "an object", path):
                for key, item in value.items():
                    self.check(key, shape.key, f"{path} key {key!r}")
                    self.check(item, shape.value, f"{path}[{key!r}]")
        elif kind == "string":
            assert isinstance(shape, StringShape)
            if self._expect(isinstance(value, str), value, "a string", path):
                enum = shape.enum
                if enum and value not in enum:
                    self.violations.append(f"{path}: {value!r} is not one of {shape.name} {enum}")
        elif kind in ("integer", "long"):
            is_int = isinstance(value, int) and not isinstance(value, bool)
            self._expect(is_int, value, f"an integer ({kind})", path)
        elif kind in ("double", "float"):
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            self._expect(is_number, value, "a number", path)
        elif kind == "boolean":
            self._expect(isinstance(value, bool), value, "a boolean", path)
        else:
            self.violations.append(f"{path}: shape type {kind} is not handled by this test")

    def _structure(self, value: Any, shape: StructureShape, path: str) -> None:
        if not self._expect(isinstance(value, dict), value, "an object", path):
            return
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                self.violations.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                self.check(member_value, member, f"{path}.{name}")
        for name in shape.required_members:
            if name in value:
                continue
            allowed = next(
                (
                    exception
                    for exception in EXCEPTIONS
                    if (exception.shape, exception.member) == (shape.name, name)
                    and exception.applies(value)
                ),
                None,
            )
            if allowed is None:
                self.violations.append(f"{path}: required {shape.name}.{name} is missing")
            else:
                self.used.add(allowed)

    def _expect(self, ok: bool, value: Any, wanted: str, path: str) -> bool:
        if not ok:
            self.violations.append(f"{path}: {value!r} is not {wanted}")
        return ok


@pytest.fixture
def recorded(emulator: Emulator) -> Iterator[tuple[BatchClient, list[Response]]]:
    """A Batch client whose successful responses are kept raw, before botocore parses them."""
    emulator.set_speed(SPEED)
    client: BatchClient = aws_client("batch", emulator)
    responses: list[Response] = []

    def keep(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
        if response_dict["status_code"] == 200:
            body = response_dict["body"]
            responses.append(Response(operation_model, json.loads(body) if body else {}))

    client.meta.events.register("before-parse.batch", keep)
    yield client, responses


# --- the lifecycle ----------------------------------------------------------------------------


def _register_definitions(batch: BatchClient, execution_role_arn: str) -> tuple[str, str]:
    ec2 = batch.register_job_definition(
        jobDefinitionName="shapes-ec2",
        type="container",
        parameters={"greeting": "hello"},
        retryStrategy={"attempts": 2},
        timeout={"attemptDurationSeconds": 600},
        tags={"team": "data"},
        propagateTags=True,
        containerProperties={
            "image": IMAGE,
            "command": ["echo", "Ref::greeting"],
            "environment": [{"name": "STAGE", "value": "test"}],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "1024"},
            ],
        },
    )["jobDefinitionArn"]
    fargate = batch.register_job_definition(
        jobDefinitionName="shapes-fargate",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": IMAGE,
            "command": ["echo", "on fargate"],
            "executionRoleArn": execution_role_arn,
            "networkConfiguration": {"assignPublicIp": "ENABLED"},
            "fargatePlatformConfiguration": {"platformVersion": "LATEST"},
            "resourceRequirements": [
                {"type": "VCPU", "value": "0.25"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )["jobDefinitionArn"]
    return ec2, fargate


def _create_scheduling_policy(batch: BatchClient) -> str:
    """A fair-share policy with every field set, updated, described and listed; its ARN."""
    policy = batch.create_scheduling_policy(
        name="shapes-fair-share",
        fairsharePolicy={
            "shareDecaySeconds": 3600,
            "computeReservation": 10,
            "shareDistribution": [
                {"shareIdentifier": "teamA", "weightFactor": 0.5},
                {"shareIdentifier": "batch*"},
            ],
        },
        tags={"team": "data"},
    )["arn"]
    batch.create_scheduling_policy(name="shapes-plain")
    batch.update_scheduling_policy(
        arn=policy,
        fairsharePolicy={
            "shareDecaySeconds": 600,
            "shareDistribution": [{"shareIdentifier": "teamA", "weightFactor": 0.25}],
        },
    )
    listed = [p["arn"] for p in batch.list_scheduling_policies()["schedulingPolicies"]]
    batch.describe_scheduling_policies(arns=listed)
    batch.list_scheduling_policies(maxResults=1)
    batch.tag_resource(resourceArn=policy, tags={"owner": "shapes"})
    batch.list_tags_for_resource(resourceArn=policy)
    return policy


def _use_consumable_resources(batch: BatchClient) -> None:
    """Two consumable resources (one tagged, one not) through every operation but delete."""
    licenses = batch.create_consumable_resource(
        consumableResourceName="shapes-licenses",
        totalQuantity=10,
        resourceType="NON_REPLENISHABLE",
        tags={"team": "data"},
    )["consumableResourceArn"]
    batch.create_consumable_resource(consumableResourceName="shapes-tokens")
    for operation, quantity in (("ADD", 5), ("REMOVE", 3), ("SET", 8)):
        batch.update_consumable_resource(
            consumableResource=licenses, operation=operation, quantity=quantity
        )
    batch.describe_consumable_resource(consumableResource=licenses)
    batch.describe_consumable_resource(consumableResource="shapes-tokens")
    batch.list_consumable_resources()
    batch.list_consumable_resources(
        maxResults=1, filters=[{"name": "CONSUMABLE_RESOURCE_NAME", "values": ["shapes-*"]}]
    )
    batch.list_jobs_by_consumable_resource(
        consumableResource=licenses, filters=[{"name": "JOB_STATUS", "values": ["RUNNING"]}]
    )
    batch.tag_resource(resourceArn=licenses, tags={"owner": "shapes"})
    batch.untag_resource(resourceArn=licenses, tagKeys=["team"])
    batch.list_tags_for_resource(resourceArn=licenses)


def _run_lifecycle(batch: BatchClient, emulator: Emulator) -> None:
    account = default_account(emulator)
    emulator.set_scenario(
        rules=[
            {"jobName": "flaky", "attempt": 1, "durationSeconds": 1, "exitCode": 3},
            {"jobName": "long", "durationSeconds": 3600},
        ]
    )
    create_ce(batch, "shapes-ec2", ec2_resources(account, max_vcpus=64))
    create_ce(batch, "shapes-fargate", fargate_resources(account))
    batch.update_compute_environment(
        computeEnvironment="shapes-ec2", computeResources={"maxvCpus": 128}
    )
    wait_ce_status(batch, "shapes-ec2", "VALID")
    create_queue(batch, "shapes-q-ec2", "shapes-ec2", priority=10)
    batch.create_job_queue(
        jobQueueName="shapes-q-fargate",
        priority=5,
        schedulingPolicyArn=_create_scheduling_policy(batch),
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "shapes-fargate"}],
    )
    wait_queue_status(batch, "shapes-q-fargate", "VALID")
    _use_consumable_resources(batch)
    batch.update_job_queue(jobQueue="shapes-q-ec2", priority=20)
    wait_queue_status(batch, "shapes-q-ec2", "VALID")
    iam = aws_client("iam", emulator)
    execution_role = iam.get_role(RoleName="ecsTaskExecutionRole")["Role"]["Arn"]
    ec2_definition, fargate_definition = _register_definitions(batch, execution_role)
    batch.describe_job_definitions(jobDefinitions=[ec2_definition])
    batch.describe_job_definitions(status="ACTIVE")

    def submit(name: str, queue: str = "shapes-q-ec2", **extra: Any) -> str:
        definition = fargate_definition if queue == "shapes-q-fargate" else ec2_definition
        request = {"jobName": name, "jobQueue": queue, "jobDefinition": definition, **extra}
        return batch.submit_job(**request)["jobId"]

    plain = submit("plain", tags={"run": "1"})
    dependent = submit("dependent", dependsOn=[{"jobId": plain}])
    array = submit("array", arrayProperties={"size": 3})
    flaky = submit("flaky")
    long = submit("long", retryStrategy={"attempts": 1})
    cancelled = submit("cancelled", dependsOn=[{"jobId": long}])
    # A fair-share queue: jobs name a share identifier and a scheduling priority; this one
    # claims a consumable resource too.
    on_fargate = submit(
        "on-fargate",
        queue="shapes-q-fargate",
        shareIdentifier="teamA",
        schedulingPriorityOverride=1,
        consumableResourcePropertiesOverride={
            "consumableResourceList": [{"consumableResource": "shapes-licenses", "quantity": 1}]
        },
    )
    everything = [plain, dependent, array, flaky, long, cancelled, on_fargate]

    wait_job_status(batch, long, "RUNNING")
    batch.cancel_job(jobId=cancelled, reason="not needed")
    batch.list_jobs(jobQueue="shapes-q-ec2", jobStatus="RUNNING")
    batch.list_jobs(arrayJobId=array)
    batch.terminate_job(jobId=long, reason="taking too long")

    job_arn = batch.describe_jobs(jobs=[plain])["jobs"][0]["jobArn"]
    batch.tag_resource(resourceArn=job_arn, tags={"owner": "shapes"})
    batch.untag_resource(resourceArn=job_arn, tagKeys=["run"])
    batch.list_tags_for_resource(resourceArn=job_arn)

    def all_finished() -> bool:
        # Every poll is a response checked below: jobs are seen in their transient states.
        jobs = batch.describe_jobs(jobs=[*everything, f"{array}:0"])["jobs"]
        for status in ("PENDING", "RUNNABLE", "RUNNING"):
            batch.list_jobs(jobQueue="shapes-q-ec2", jobStatus=status)
        return all(job["status"] in FINISHED for job in jobs)

    wait_until(all_finished, "every lifecycle job finished", timeout=30)
    batch.list_jobs(jobQueue="shapes-q-ec2", filters=[{"name": "JOB_NAME", "values": ["*"]}])
    batch.list_jobs(jobQueue="shapes-q-fargate", jobStatus="SUCCEEDED")
    batch.list_jobs(arrayJobId=array, jobStatus="SUCCEEDED")
    claiming = batch.list_jobs_by_consumable_resource(consumableResource="shapes-licenses")
    assert [job["jobName"] for job in claiming["jobs"]] == ["on-fargate"]

    batch.deregister_job_definition(jobDefinition=ec2_definition)
    batch.describe_job_definitions(jobDefinitionName="shapes-ec2", status="INACTIVE")
    for queue in ("shapes-q-ec2", "shapes-q-fargate"):
        batch.update_job_queue(jobQueue=queue, state="DISABLED")
        wait_queue_status(batch, queue, "VALID")
        batch.delete_job_queue(jobQueue=queue)
        wait_queue_status(batch, queue, None)
    for arn in [p["arn"] for p in batch.list_scheduling_policies()["schedulingPolicies"]]:
        batch.delete_scheduling_policy(arn=arn)
    for summary in batch.list_consumable_resources()["consumableResources"]:
        batch.delete_consumable_resource(consumableResource=summary["consumableResourceArn"])
    for ce in ("shapes-ec2", "shapes-fargate"):
        batch.update_compute_environment(computeEnvironment=ce, state="DISABLED")
        wait_ce_status(batch, ce, "VALID")
        batch.delete_compute_environment(computeEnvironment=ce)
        wait_ce_status(batch, ce, None)


def test_every_response_of_a_lifecycle_fits_botocores_output_shape(
    recorded: tuple[BatchClient, list[Response]], emulator: Emulator
) -> None:
    batch, responses = recorded
    _run_lifecycle(batch, emulator)

    assert {response.operation.name for response in responses} == OPERATIONS
    walk = ShapeWalk(violations=[], used=set())
    for response in responses:
        output = response.operation.output_shape
        assert output is not None, response.operation.name
        walk.check(response.body, output, response.operation.name)
    assert walk.violations == [], "\n".join(sorted(set(walk.violations)))
    # The exceptions table stays minimal: an entry nothing needs any more is removed.
    assert walk.used == set(EXCEPTIONS)


def test_the_shape_walk_reports_unknown_members_wrong_types_bad_enums_and_missing_members(
    batch: BatchClient,
) -> None:
    output = batch.meta.service_model.operation_model("DescribeJobs").output_shape
    assert output is not None
    walk = ShapeWalk(violations=[], used=set())
    walk.check(
        {
            "jobs": [
                {"jobName": "n", "jobId": "i", "jobQueue": "q", "status": "DONE"},
                {"jobName": "n", "jobId": 7, "jobQueue": "q", "status": "RUNNING",
                 "jobDefinition": "d", "startedAt": "soon", "surprise": True},
            ]
        },
        output,
        "DescribeJobs",
    )  # fmt: skip
    assert sorted(walk.violations) == [
        "DescribeJobs.jobs[0].status: 'DONE' is not one of JobStatus "
        "['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED']",
        "DescribeJobs.jobs[0]: required JobDetail.jobDefinition is missing",
        "DescribeJobs.jobs[0]: required JobDetail.startedAt is missing",
        "DescribeJobs.jobs[1].jobId: 7 is not a string",
        "DescribeJobs.jobs[1].startedAt: 'soon' is not an integer (long)",
        "DescribeJobs.jobs[1].surprise: not a member of JobDetail",
    ]
