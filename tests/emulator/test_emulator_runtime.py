"""The emulator as its users drive it: boto3 for Batch, plus the control API, scenarios, faults,
counters, process mode and events. (Rule-by-rule conformance with AWS docs: test_conformance_*.)"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
import jsonpath_ng.parser
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from batchops.local.emulator import Emulator
from tests.conftest import REGION, aws_client
from tests.waits import run_in_threads, wait_for

T = TypeVar("T")

# --- helpers ---------------------------------------------------------------------------------


def wait(probe: Callable[[], T | None], message: str, timeout: float = 15.0) -> T:
    """wait_for with a short poll interval: the emulator runs at speed 20 in tests."""
    return wait_for(probe, timeout=timeout, interval=0.02, message=message)


def compute_resources(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """EC2 compute resources on the emulator's default network, as the walkthrough has them."""
    resources: dict[str, Any] = {
        "type": "EC2",
        "minvCpus": 0,
        "maxvCpus": 256,
        "instanceTypes": ["optimal"],
        "subnets": [emulator.default_subnet_id],
        "securityGroupIds": [emulator.default_security_group_id],
        "instanceRole": "ecsInstanceRole",
    }
    resources.update(overrides)
    return resources


def ce_status(batch: Any, name: str) -> str | None:
    """A compute environment's status, or None once it is gone."""
    found = batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]
    return found[0]["status"] if found else None


def queue_status(batch: Any, name: str) -> str | None:
    """A job queue's status, or None once it is gone."""
    found = batch.describe_job_queues(jobQueues=[name])["jobQueues"]
    return found[0]["status"] if found else None


def create_ce(batch: Any, emulator: Emulator, name: str, **kwargs: Any) -> str:
    """Create a compute environment (EC2 unless given), wait until VALID; its ARN."""
    resources = kwargs.pop("computeResources", compute_resources(emulator))
    arn: str = batch.create_compute_environment(
        computeEnvironmentName=name, type="MANAGED", computeResources=resources, **kwargs
    )["computeEnvironmentArn"]
    wait(lambda: ce_status(batch, name) == "VALID", f"{name} VALID")
    return arn


def create_queue(batch: Any, name: str, *ces: str, priority: int = 100) -> str:
    """Create an ENABLED job queue over these compute environments, wait until VALID."""
    arn: str = batch.create_job_queue(
        jobQueueName=name,
        state="ENABLED",
        priority=priority,
        computeEnvironmentOrder=[
            {"order": order, "computeEnvironment": ce} for order, ce in enumerate(ces, 1)
        ],
    )["jobQueueArn"]
    wait(lambda: queue_status(batch, name) == "VALID", f"{name} VALID")
    return arn


def register(batch: Any, name: str, vcpus: int = 1, memory: int = 1024, **kwargs: Any) -> str:
    """Register a container job definition; its ARN."""
    container = {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch_image:latest",
        "command": ["python", f"src/{name}.py"],
        "resourceRequirements": [
            {"type": "VCPU", "value": str(vcpus)},
            {"type": "MEMORY", "value": str(memory)},
        ],
    }
    container.update(kwargs.pop("container", {}))
    arn: str = batch.register_job_definition(
        jobDefinitionName=name, type="container", containerProperties=container, **kwargs
    )["jobDefinitionArn"]
    return arn


def simple_setup(batch: Any, emulator: Emulator, max_vcpus: int = 256) -> None:
    """One compute environment `ce`, one queue `q`, one job definition `jd` (1 vCPU)."""
    create_ce(
        batch, emulator, "ce", computeResources=compute_resources(emulator, maxvCpus=max_vcpus)
    )
    create_queue(batch, "q", "ce")
    register(batch, "jd")


def describe(batch: Any, *job_ids: str) -> list[dict[str, Any]]:
    """DescribeJobs, in the order asked (ids Batch does not know are left out)."""
    found = {job["jobId"]: job for job in batch.describe_jobs(jobs=list(job_ids))["jobs"]}
    return [found[job_id] for job_id in job_ids if job_id in found]


def wait_finished(batch: Any, *job_ids: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Wait until every job exists and is SUCCEEDED or FAILED; their descriptions."""

    def probe() -> list[dict[str, Any]] | None:
        jobs = describe(batch, *job_ids)
        finished = all(job["status"] in ("SUCCEEDED", "FAILED") for job in jobs)
        return jobs if len(jobs) == len(job_ids) and finished else None

    return wait(probe, f"jobs {job_ids} finished", timeout)


def submit(batch: Any, name: str, queue: str = "q", definition: str = "jd", **kwargs: Any) -> str:
    """SubmitJob; the job id."""
    job_id: str = batch.submit_job(
        jobName=name, jobQueue=queue, jobDefinition=definition, **kwargs
    )["jobId"]
    return job_id


def client_error(call: Callable[[], Any]) -> dict[str, Any]:
    """Run a call that must fail; its error code, message and HTTP status."""
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return {
        "code": response["Error"]["Code"],
        "message": response["Error"]["Message"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def max_overlap(jobs: list[dict[str, Any]]) -> int:
    """The most jobs RUNNING at one instant, from their startedAt/stoppedAt."""
    edges = sorted(
        [(job["startedAt"], 1) for job in jobs] + [(job["stoppedAt"], -1) for job in jobs],
        key=lambda edge: (edge[0], edge[1]),
    )
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    return peak


def control(emulator: Emulator, name: str, body: dict[str, Any] | None = None) -> Any:
    """Call the HTTP control API."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{emulator.url}/_batchops/{name}", data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


# --- acceptance: the walkthrough ---------------------------------------------------------------


def test_walkthrough_chain_runs_job1_job2_job3_in_order_across_two_queues(
    batch: Any, emulator: Emulator
) -> None:
    for name, instance_types in (
        ("env_72", ["c5.18xlarge", "m5.24xlarge", "m5.12xlarge"]),
        ("env_simple", ["r3.xlarge"]),
    ):
        create_ce(
            batch,
            emulator,
            name,
            serviceRole="AWSBatchServiceRole",
            computeResources=compute_resources(
                emulator,
                instanceTypes=instance_types,
                spotIamFleetRole="arn:aws:iam::123456789012:role/AmazonEC2SpotFleetTaggingRole",
            ),
        )
    create_queue(batch, "queue_72", "env_72")
    create_queue(batch, "queue_simple", "env_simple")
    register(batch, "Job1", vcpus=72, memory=102400)
    register(batch, "Job2", vcpus=1, memory=1024)
    register(batch, "Job3", vcpus=72, memory=102400)

    # The walkthrough's own loop: each job depends on the previous one, Job2 on the other queue.
    response = None
    job_ids = []
    for job, queue in zip(
        ["Job1", "Job2", "Job3"], ["queue_72", "queue_simple", "queue_72"], strict=True
    ):
        request: dict[str, Any] = {"jobQueue": queue, "jobName": job, "jobDefinition": job}
        if response is not None:
            request["dependsOn"] = [{"jobId": response["jobId"]}]
        response = batch.submit_job(**request)
        job_ids.append(response["jobId"])

    job1, job2, job3 = wait_finished(batch, *job_ids)
    assert [job["status"] for job in (job1, job2, job3)] == ["SUCCEEDED"] * 3
    assert job2["jobQueue"].endswith("job-queue/queue_simple")
    assert job1["stoppedAt"] <= job2["startedAt"]
    assert job2["stoppedAt"] <= job3["startedAt"]
    assert job1["createdAt"] <= job1["startedAt"] < job1["stoppedAt"]
    assert job3["dependsOn"] == [{"jobId": job2["jobId"]}]


# --- compute environments ----------------------------------------------------------------------


def test_compute_environment_is_creating_then_valid_with_service_linked_role_by_default(
    batch: Any, emulator: Emulator
) -> None:
    emulator.set_speed(2)  # slow enough to see CREATING
    batch.create_compute_environment(
        computeEnvironmentName="ce", type="MANAGED", computeResources=compute_resources(emulator)
    )
    assert ce_status(batch, "ce") == "CREATING"
    wait(lambda: ce_status(batch, "ce") == "VALID", "VALID")
    detail = batch.describe_compute_environments(computeEnvironments=["ce"])["computeEnvironments"][
        0
    ]
    assert detail["serviceRole"].endswith(
        ":role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
    )
    assert detail["statusReason"] == "ComputeEnvironment Healthy"
    assert detail["computeResources"]["allocationStrategy"] == "BEST_FIT"


@pytest.mark.parametrize(
    ("change", "reason_part"),
    [
        ({"subnets": ["subnet-does-not-exist"]}, "subnet-does-not-exist"),
        ({"securityGroupIds": ["sg-does-not-exist"]}, "sg-does-not-exist"),
        ({"instanceRole": "noSuchProfile"}, "noSuchProfile"),
        ({"serviceRole": "NoSuchBatchRole"}, "sts:AssumeRole"),
    ],
)
def test_unknown_reference_makes_compute_environment_invalid_instead_of_failing_the_call(
    batch: Any, emulator: Emulator, change: dict[str, Any], reason_part: str
) -> None:
    service_role = change.pop("serviceRole", None)
    extra = {"serviceRole": service_role} if service_role else {}
    batch.create_compute_environment(
        computeEnvironmentName="ce",
        type="MANAGED",
        computeResources=compute_resources(emulator, **change),
        **extra,
    )
    wait(lambda: ce_status(batch, "ce") == "INVALID", "INVALID")
    detail = batch.describe_compute_environments()["computeEnvironments"][0]
    assert reason_part in detail["statusReason"]
    assert detail["statusReason"].startswith("CLIENT_ERROR")


def test_role_created_after_the_fact_is_found_by_the_next_update(
    batch: Any, emulator: Emulator
) -> None:
    batch.create_compute_environment(
        computeEnvironmentName="ce",
        type="MANAGED",
        serviceRole="LateRole",
        computeResources=compute_resources(emulator),
    )
    wait(lambda: ce_status(batch, "ce") == "INVALID", "INVALID")
    aws_client("iam", emulator).create_role(RoleName="LateRole", AssumeRolePolicyDocument="{}")
    batch.update_compute_environment(computeEnvironment="ce", state="ENABLED")
    wait(lambda: ce_status(batch, "ce") == "VALID", "VALID after the role exists")


def test_deleting_a_compute_environment_follows_batch_preconditions(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(batch, emulator, "ce")
    create_queue(batch, "q", "ce")
    enabled = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))
    assert (enabled["code"], enabled["status"]) == ("ClientException", 400)

    batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")
    busy = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))
    assert busy["message"] == "Cannot delete, resource is being modified"
    wait(lambda: ce_status(batch, "ce") == "VALID", "disabled and VALID")

    used = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))
    assert used["message"] == "Cannot delete, found existing JobQueue relationship"

    batch.update_job_queue(jobQueue="q", state="DISABLED")
    wait(lambda: queue_status(batch, "q") == "VALID", "queue disabled")
    batch.delete_job_queue(jobQueue="q")
    assert queue_status(batch, "q") == "DELETING"
    still_used = client_error(lambda: batch.delete_compute_environment(computeEnvironment="ce"))
    assert still_used["message"] == "Cannot delete, found existing JobQueue relationship"
    wait(lambda: queue_status(batch, "q") is None, "queue gone")

    batch.delete_compute_environment(computeEnvironment="ce")
    assert ce_status(batch, "ce") == "DELETING"
    wait(lambda: ce_status(batch, "ce") is None, "compute environment gone")


def test_eventual_consistency_window_keeps_the_relationship_error_after_a_queue_update(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(batch, emulator, "old", state="ENABLED")
    create_ce(batch, emulator, "new")
    create_queue(batch, "q", "old")
    emulator.set_faults(eventual_consistency_seconds=20)  # 1 s at speed 20
    batch.update_compute_environment(computeEnvironment="old", state="DISABLED")
    batch.update_job_queue(
        jobQueue="q", computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "new"}]
    )
    wait(lambda: ce_status(batch, "old") == "VALID", "old disabled")
    lingering = client_error(lambda: batch.delete_compute_environment(computeEnvironment="old"))
    assert lingering["message"] == "Cannot delete, found existing JobQueue relationship"

    def deleted() -> bool:
        try:
            batch.delete_compute_environment(computeEnvironment="old")
        except ClientError:
            return False
        return True

    wait(deleted, "delete succeeds once the window passed", timeout=10)


def test_eventual_consistency_window_hides_a_new_job_from_listjobs_for_a_while(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_faults(eventual_consistency_seconds=20)  # 1 s at speed 20
    job_id = submit(batch, "lagging")

    def listed() -> list[str]:
        found = batch.list_jobs(
            jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["lagging"]}]
        )["jobSummaryList"]
        return [job["jobId"] for job in found]

    assert listed() == []  # DescribeJobs knows it; ListJobs does not yet
    assert [job["jobId"] for job in describe(batch, job_id)] == [job_id]
    assert wait(lambda: listed() or None, "listed once the window passed", timeout=10) == [job_id]


def test_scaling_update_always_applies_in_place(batch: Any, emulator: Emulator) -> None:
    create_ce(batch, emulator, "ce", serviceRole="AWSBatchServiceRole")
    batch.update_compute_environment(
        computeEnvironment="ce", computeResources={"maxvCpus": 512, "minvCpus": 2}
    )
    assert ce_status(batch, "ce") == "UPDATING"
    wait(lambda: ce_status(batch, "ce") == "VALID", "VALID again")
    resources = batch.describe_compute_environments()["computeEnvironments"][0]["computeResources"]
    assert (resources["maxvCpus"], resources["minvCpus"]) == (512, 2)


@pytest.mark.parametrize(
    ("service_role", "strategy"),
    [("AWSBatchServiceRole", "BEST_FIT_PROGRESSIVE"), (None, "BEST_FIT")],
    ids=["own-service-role", "best-fit"],
)
def test_infrastructure_update_needs_service_linked_role_and_updatable_strategy(
    batch: Any, emulator: Emulator, service_role: str | None, strategy: str
) -> None:
    extra = {"serviceRole": service_role} if service_role else {}
    create_ce(
        batch,
        emulator,
        "ce",
        computeResources=compute_resources(emulator, allocationStrategy=strategy),
        **extra,
    )
    error = client_error(
        lambda: batch.update_compute_environment(
            computeEnvironment="ce", computeResources={"instanceTypes": ["m5.large"]}
        )
    )
    assert (error["code"], error["status"]) == ("ClientException", 400)
    assert "instanceTypes" in error["message"]
    resources = batch.describe_compute_environments()["computeEnvironments"][0]["computeResources"]
    assert resources["instanceTypes"] == ["optimal"]


def test_infrastructure_update_with_service_linked_role_goes_updating_then_valid(
    batch: Any, emulator: Emulator
) -> None:
    emulator.set_speed(10)
    create_ce(
        batch,
        emulator,
        "ce",
        computeResources=compute_resources(emulator, allocationStrategy="BEST_FIT_PROGRESSIVE"),
    )
    batch.update_compute_environment(
        computeEnvironment="ce",
        computeResources={"instanceTypes": ["m5.large", "c5.large"], "subnets": ["subnet-x"]},
    )
    assert ce_status(batch, "ce") == "UPDATING"
    wait(lambda: ce_status(batch, "ce") == "INVALID", "INVALID: subnet-x does not exist")
    batch.update_compute_environment(
        computeEnvironment="ce", computeResources={"subnets": [emulator.default_subnet_id]}
    )
    wait(lambda: ce_status(batch, "ce") == "VALID", "VALID after the fix")
    resources = batch.describe_compute_environments()["computeEnvironments"][0]["computeResources"]
    assert set(resources["instanceTypes"]) == {"m5.large", "c5.large"}


def test_compute_resource_type_cannot_change_between_ec2_and_fargate(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(
        batch,
        emulator,
        "ce",
        computeResources=compute_resources(emulator, allocationStrategy="BEST_FIT_PROGRESSIVE"),
    )
    error = client_error(
        lambda: batch.update_compute_environment(
            computeEnvironment="ce", computeResources={"type": "FARGATE"}
        )
    )
    assert "FARGATE" in error["message"]


# --- job queues ------------------------------------------------------------------------------


def test_job_queue_takes_at_most_three_valid_compute_environments_of_one_family(
    batch: Any, emulator: Emulator
) -> None:
    emulator.set_speed(200)
    for name in ("a", "b", "c", "d"):
        create_ce(batch, emulator, name)
    create_ce(
        batch,
        emulator,
        "f",
        computeResources={
            "type": "FARGATE",
            "maxvCpus": 16,
            "subnets": [emulator.default_subnet_id],
            "securityGroupIds": [emulator.default_security_group_id],
        },
    )
    order = [{"order": i, "computeEnvironment": n} for i, n in enumerate("abcd", 1)]
    too_many = client_error(
        lambda: batch.create_job_queue(jobQueueName="q", priority=1, computeEnvironmentOrder=order)
    )
    assert too_many["code"] == "ClientException"
    mixed = client_error(
        lambda: batch.create_job_queue(
            jobQueueName="q",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": "a"},
                {"order": 2, "computeEnvironment": "f"},
            ],
        )
    )
    assert "Fargate" in mixed["message"]
    # At speed 1 before the create: scheduled at speed 200, "fresh" was VALID 10 ms later, and
    # on a loaded machine the queue's create came after that.
    emulator.set_speed(1)
    batch.create_compute_environment(
        computeEnvironmentName="fresh", type="MANAGED", computeResources=compute_resources(emulator)
    )
    not_valid = client_error(
        lambda: batch.create_job_queue(
            jobQueueName="q",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "fresh"}],
        )
    )
    assert "VALID" in not_valid["message"]


def test_queue_updates_priority_state_and_order_and_deletes_only_when_disabled(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(batch, emulator, "a")
    create_ce(batch, emulator, "b")
    create_queue(batch, "q", "a", "b")
    error = client_error(lambda: batch.delete_job_queue(jobQueue="q"))
    assert error["code"] == "ClientException"
    batch.update_job_queue(
        jobQueue="q",
        priority=7,
        state="DISABLED",
        computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": "b"},
            {"order": 2, "computeEnvironment": "a"},
        ],
    )
    busy = client_error(lambda: batch.update_job_queue(jobQueue="q", priority=8))
    assert "being modified" in busy["message"]
    wait(lambda: queue_status(batch, "q") == "VALID", "VALID after the update")
    queue = batch.describe_job_queues(jobQueues=["q"])["jobQueues"][0]
    assert (queue["priority"], queue["state"]) == (7, "DISABLED")
    assert [
        ce["computeEnvironment"].rsplit("/", 1)[-1] for ce in queue["computeEnvironmentOrder"]
    ] == [
        "b",
        "a",
    ]
    batch.delete_job_queue(jobQueue="q")
    wait(lambda: queue_status(batch, "q") is None, "queue gone")
    missing = client_error(lambda: batch.update_job_queue(jobQueue="q", priority=1))
    assert missing["message"].endswith("job-queue/q does not exist")


def test_deleting_a_queue_terminates_its_jobs(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 3600}])
    job_id = submit(batch, "long")
    wait(lambda: describe(batch, job_id)[0]["status"] == "RUNNING", "RUNNING")
    batch.update_job_queue(jobQueue="q", state="DISABLED")
    wait(lambda: queue_status(batch, "q") == "VALID", "disabled")
    batch.delete_job_queue(jobQueue="q")
    (job,) = wait_finished(batch, job_id)
    assert job["status"] == "FAILED"
    assert job["isTerminated"] is True


def test_submitting_to_a_disabled_queue_is_rejected(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    batch.update_job_queue(jobQueue="q", state="DISABLED")
    error = client_error(lambda: submit(batch, "nope"))
    assert error["code"] == "ClientException"


# --- job definitions -------------------------------------------------------------------------


def test_job_definitions_have_revisions_and_become_inactive_on_deregister(
    batch: Any, emulator: Emulator
) -> None:
    first = register(batch, "etl")
    second = register(batch, "etl", vcpus=2)
    register(batch, "other")
    assert (first.endswith("etl:1"), second.endswith("etl:2")) == (True, True)
    batch.deregister_job_definition(jobDefinition="etl:1")
    active = batch.describe_job_definitions(jobDefinitionName="etl", status="ACTIVE")
    assert [d["revision"] for d in active["jobDefinitions"]] == [2]
    inactive = batch.describe_job_definitions(status="INACTIVE")["jobDefinitions"]
    assert [(d["jobDefinitionName"], d["status"]) for d in inactive] == [("etl", "INACTIVE")]
    assert register(batch, "etl").endswith("etl:3")
    by_arn = batch.describe_job_definitions(jobDefinitions=[second])["jobDefinitions"]
    assert by_arn[0]["containerProperties"]["resourceRequirements"][0]["value"] == "2"


# --- jobs ------------------------------------------------------------------------------------


def test_job_goes_through_every_state_with_millisecond_timestamps(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_speed(2)
    job_id = submit(batch, "watched")
    seen: list[str] = []
    deadline = time.monotonic() + 20
    # Poll back to back: each step lasts 100 ms at speed 2, a DescribeJobs call about 2 ms.
    while time.monotonic() < deadline and seen[-1:] != ["SUCCEEDED"]:
        status = describe(batch, job_id)[0]["status"]
        if seen[-1:] != [status]:
            seen.append(status)
    assert seen == ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    job = describe(batch, job_id)[0]
    assert job["createdAt"] <= job["startedAt"] <= job["stoppedAt"]
    assert job["createdAt"] > 1_600_000_000_000  # milliseconds, not seconds


def test_ten_10_vcpu_jobs_on_a_36_vcpu_compute_environment_run_three_at_a_time(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(batch, emulator, "ce", computeResources=compute_resources(emulator, maxvCpus=36))
    create_queue(batch, "q", "ce")
    register(batch, "ten", vcpus=10)
    job_ids = [submit(batch, f"job{i}", definition="ten") for i in range(10)]
    jobs = wait_finished(batch, *job_ids)
    assert {job["status"] for job in jobs} == {"SUCCEEDED"}
    assert max_overlap(jobs) == 3


def test_two_compute_environments_of_36_and_24_vcpus_run_three_plus_two(
    batch: Any, emulator: Emulator
) -> None:
    create_ce(batch, emulator, "big", computeResources=compute_resources(emulator, maxvCpus=36))
    create_ce(batch, emulator, "small", computeResources=compute_resources(emulator, maxvCpus=24))
    create_queue(batch, "q", "big", "small")
    register(batch, "ten", vcpus=10)
    job_ids = [submit(batch, f"job{i}", definition="ten") for i in range(10)]
    assert max_overlap(wait_finished(batch, *job_ids)) == 5


def test_jobs_wait_in_runnable_while_the_compute_environment_is_disabled(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    batch.update_compute_environment(computeEnvironment="ce", state="DISABLED")
    wait(lambda: ce_status(batch, "ce") == "VALID", "disabled")
    create_ce(batch, emulator, "other")
    create_queue(batch, "elsewhere", "other")
    job_id = submit(batch, "parked")
    wait(lambda: describe(batch, job_id)[0]["status"] == "RUNNABLE", "RUNNABLE")
    # A whole job runs on another queue meanwhile; the parked one must still be waiting.
    wait_finished(batch, submit(batch, "meanwhile", queue="elsewhere"))
    assert describe(batch, job_id)[0]["status"] == "RUNNABLE"
    batch.update_compute_environment(computeEnvironment="ce", state="ENABLED")
    assert wait_finished(batch, job_id)[0]["status"] == "SUCCEEDED"


def test_job_bigger_than_every_compute_environment_stays_runnable_with_the_reason(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator, max_vcpus=8)
    register(batch, "huge", vcpus=16)
    job_id = submit(batch, "huge", definition="huge")

    def stuck_reason() -> str | None:
        job = describe(batch, job_id)[0]
        return job.get("statusReason") if job["status"] == "RUNNABLE" else None

    reason = wait(stuck_reason, "RUNNABLE with a reason")
    assert reason.startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE")


def test_dependent_of_a_failed_job_fails_with_a_status_reason(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "first", "exitCode": 3}])
    first = submit(batch, "first")
    second = submit(batch, "second", dependsOn=[{"jobId": first}])
    first_job, second_job = wait_finished(batch, first, second)
    assert first_job["status"] == "FAILED"
    assert first_job["container"]["exitCode"] == 3
    assert second_job["status"] == "FAILED"
    assert second_job["statusReason"] == "Dependent Job failed"
    assert "startedAt" not in second_job


def test_scenario_fails_the_first_attempt_and_the_retry_succeeds(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "step-b*", "attempt": 1, "exitCode": 1}])
    job_id = submit(batch, "step-b-run1", retryStrategy={"attempts": 3})
    (job,) = wait_finished(batch, job_id)
    assert job["status"] == "SUCCEEDED"
    assert [attempt["container"]["exitCode"] for attempt in job["attempts"]] == [1, 0]
    first, second = job["attempts"]
    assert first["stoppedAt"] <= second["startedAt"]
    assert first["container"]["logStreamName"] != second["container"]["logStreamName"]


def test_evaluate_on_exit_exit_action_stops_the_retries(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "*", "exitCode": 2}])
    retry = {
        "attempts": 5,
        "evaluateOnExit": [
            {"onExitCode": "1*", "action": "RETRY"},
            {"onExitCode": "2", "action": "EXIT"},
        ],
    }
    job_id = submit(batch, "gives-up", retryStrategy=retry)
    (job,) = wait_finished(batch, job_id)
    assert (job["status"], len(job["attempts"])) == ("FAILED", 1)


def test_no_matching_condition_means_retry_until_attempts_run_out(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "*", "exitCode": 9}])
    retry = {"attempts": 3, "evaluateOnExit": [{"onExitCode": "1", "action": "EXIT"}]}
    (job,) = wait_finished(batch, submit(batch, "keeps-trying", retryStrategy=retry))
    assert (job["status"], len(job["attempts"])) == ("FAILED", 3)


def test_attempt_timeout_fails_the_job_without_retry(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    emulator.set_speed(300)  # the 60 s minimum timeout takes 0.2 s
    emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 3600}])
    job_id = submit(
        batch, "slow", timeout={"attemptDurationSeconds": 60}, retryStrategy={"attempts": 3}
    )
    (job,) = wait_finished(batch, job_id)
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(job["attempts"]) == 1


def test_cancel_fails_waiting_jobs_but_leaves_running_ones(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "running", "durationSeconds": 6}])
    running = submit(batch, "running")
    pending = submit(batch, "pending", dependsOn=[{"jobId": running}])
    wait(lambda: describe(batch, running)[0]["status"] == "RUNNING", "RUNNING")
    batch.cancel_job(jobId=running, reason="not me")
    batch.cancel_job(jobId=pending, reason="changed my mind")
    # A PENDING job is cancelled once its dependencies end, as the API reference says.
    assert describe(batch, pending)[0]["status"] == "PENDING"
    running_job, pending_job = wait_finished(batch, running, pending)
    assert running_job["status"] == "SUCCEEDED"
    assert (pending_job["status"], pending_job["statusReason"]) == ("FAILED", "changed my mind")
    assert pending_job["isCancelled"] is True


def test_terminate_stops_a_running_job(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "*", "durationSeconds": 3600}])
    job_id = submit(batch, "forever", retryStrategy={"attempts": 3})
    wait(lambda: describe(batch, job_id)[0]["status"] == "RUNNING", "RUNNING")
    batch.terminate_job(jobId=job_id, reason="operator says stop")
    (job,) = wait_finished(batch, job_id)
    assert (job["status"], job["statusReason"]) == ("FAILED", "operator says stop")
    assert (job["isTerminated"], len(job["attempts"])) == (True, 1)


def test_array_job_children_run_sequentially_and_the_parent_summarizes(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "arr", "arrayIndex": 2, "exitCode": 1}])
    parent = submit(batch, "arr", arrayProperties={"size": 3}, dependsOn=[{"type": "SEQUENTIAL"}])
    (job,) = wait_finished(batch, parent)
    assert job["status"] == "FAILED"
    summary = job["arrayProperties"]["statusSummary"]
    assert (summary["SUCCEEDED"], summary["FAILED"], job["arrayProperties"]["size"]) == (2, 1, 3)
    children = batch.list_jobs(arrayJobId=parent, filters=[{"name": "JOB_NAME", "values": ["arr"]}])
    child_ids = sorted(c["jobId"] for c in children["jobSummaryList"])
    assert child_ids == [f"{parent}:{i}" for i in range(3)]
    kids = describe(batch, *child_ids)
    assert (
        kids[0]["stoppedAt"] <= kids[1]["startedAt"] <= kids[1]["stoppedAt"] <= kids[2]["startedAt"]
    )
    assert [kid["arrayProperties"]["index"] for kid in kids] == [0, 1, 2]


def test_n_to_n_dependency_waits_for_the_child_of_the_same_index(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(
        rules=[
            {"jobName": "first", "arrayIndex": 0, "durationSeconds": 10},
            {"jobName": "first", "arrayIndex": 1, "exitCode": 1},
        ]
    )
    first = submit(batch, "first", arrayProperties={"size": 2})
    second = submit(
        batch, "second", arrayProperties={"size": 2}, dependsOn=[{"jobId": first, "type": "N_TO_N"}]
    )
    kids = wait_finished(batch, f"{first}:0", f"{first}:1", f"{second}:0", f"{second}:1")
    first0, _, second0, second1 = kids
    assert (second0["status"], second1["status"]) == ("SUCCEEDED", "FAILED")
    assert second0["startedAt"] >= first0["stoppedAt"]
    assert second1["statusReason"] == "Dependent Job failed"


def test_more_than_twenty_dependencies_and_more_than_100_ids_are_rejected(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    ids = [submit(batch, f"dep{i}") for i in range(21)]
    too_many = client_error(lambda: submit(batch, "fan-in", dependsOn=[{"jobId": i} for i in ids]))
    assert "Job cannot have more than 20 dependencies" in too_many["message"]
    assert too_many["status"] == 400
    describe_many = client_error(lambda: batch.describe_jobs(jobs=ids * 5))
    assert "Maximum number of jobs supported is  100" in describe_many["message"]


def test_list_jobs_filters_by_status_name_and_creation_time_and_paginates(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_scenario(rules=[{"jobName": "Nightly-*", "durationSeconds": 3600}])
    early = submit(batch, "early")
    wait_finished(batch, early)
    marker = describe(batch, early)[0]["createdAt"]
    nightly = [submit(batch, f"Nightly-{i}") for i in range(5)]
    wait(
        lambda: len(batch.list_jobs(jobQueue="q")["jobSummaryList"]) == 5,
        "five RUNNING jobs (ListJobs defaults to RUNNING)",
    )
    succeeded = batch.list_jobs(jobQueue="q", jobStatus="SUCCEEDED")["jobSummaryList"]
    assert [job["jobId"] for job in succeeded] == [early]

    exact = batch.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["nightly-3"]}])
    assert [job["jobId"] for job in exact["jobSummaryList"]] == [nightly[3]]
    prefix = batch.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["NIGHT*"]}])
    assert {job["jobId"] for job in prefix["jobSummaryList"]} == set(nightly)
    after = batch.list_jobs(
        jobQueue="q", filters=[{"name": "AFTER_CREATED_AT", "values": [str(marker)]}]
    )
    assert {job["jobId"] for job in after["jobSummaryList"]} == set(nightly)

    pages = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"nextToken": token} if token else {}
        page = batch.list_jobs(
            jobQueue="q",
            filters=[{"name": "JOB_NAME", "values": ["*"]}],
            maxResults=2,
            **kwargs,
        )
        pages.append([job["jobId"] for job in page["jobSummaryList"]])
        token = page.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    assert sorted(job_id for page in pages for job_id in page) == sorted([early, *nightly])


def test_tags_work_on_compute_environments_queues_definitions_and_jobs(
    batch: Any, emulator: Emulator
) -> None:
    ce = create_ce(batch, emulator, "ce", tags={"team": "data"})
    queue = create_queue(batch, "q", "ce")
    definition = register(batch, "jd", tags={"kind": "etl"})
    job = batch.submit_job(jobName="j", jobQueue="q", jobDefinition="jd", tags={"run": "1"})[
        "jobArn"
    ]
    for arn in (ce, queue, definition, job):
        batch.tag_resource(resourceArn=arn, tags={"owner": "batchops", "tmp": "x"})
        batch.untag_resource(resourceArn=arn, tagKeys=["tmp"])
        assert batch.list_tags_for_resource(resourceArn=arn)["tags"].get("owner") == "batchops"
    assert batch.list_tags_for_resource(resourceArn=ce)["tags"] == {
        "team": "data",
        "owner": "batchops",
    }
    described = batch.describe_compute_environments()["computeEnvironments"][0]["tags"]
    assert described == {"team": "data", "owner": "batchops"}
    missing = client_error(
        lambda: batch.list_tags_for_resource(
            resourceArn="arn:aws:batch:us-east-1:123456789012:job-queue/nope"
        )
    )
    assert missing["code"] == "ClientException"


# --- outputs: logs and events ------------------------------------------------------------------


def test_simulated_attempt_writes_a_log_line_to_its_stream(
    batch: Any, logs: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    (job,) = wait_finished(batch, submit(batch, "logged"))
    stream = job["container"]["logStreamName"]
    assert stream.startswith("jd/default/")
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)["events"]
    assert len(events) == 1
    assert "simulated attempt 1 of job logged" in events[0]["message"]


def test_process_mode_runs_the_command_with_the_batch_environment(
    batch: Any, logs: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    script = (
        "import os; print('hello from', os.environ['AWS_BATCH_JOB_ID']); "
        "print(os.environ['AWS_BATCH_JOB_ATTEMPT'], os.environ['AWS_BATCH_JQ_NAME'], "
        "os.environ['AWS_BATCH_CE_NAME'], os.environ['GREETING'], "
        "os.environ.get('AWS_BATCH_JOB_ARRAY_INDEX', '-'))"
    )
    register(
        batch,
        "proc",
        container={
            "command": [sys.executable, "-c", script],
            "environment": [{"name": "GREETING", "value": "hi"}],
        },
    )
    emulator.set_scenario(mode="process")
    job_id = submit(batch, "proc", definition="proc")
    (job,) = wait_finished(batch, job_id)
    assert job["status"] == "SUCCEEDED", job.get("statusReason")
    messages = [
        event["message"]
        for event in logs.get_log_events(
            logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"]
        )["events"]
    ]
    assert messages == [f"hello from {job_id}", "1 q ce hi -"]


def test_process_mode_exit_code_and_parameter_substitution(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    register(
        batch,
        "exit",
        container={
            "command": [sys.executable, "-c", "import sys; sys.exit(int(sys.argv[1]))", "Ref::code"]
        },
        parameters={"code": "0"},
    )
    emulator.set_scenario(mode="process")
    job_id = submit(batch, "exit", definition="exit", parameters={"code": "4"})
    (job,) = wait_finished(batch, job_id)
    assert (job["status"], job["container"]["exitCode"]) == ("FAILED", 4)
    assert job["container"]["command"][-1] == "4"
    missing = client_error(
        lambda: batch.submit_job(
            jobName="x",
            jobQueue="q",
            jobDefinition="exit",
            containerOverrides={"command": ["echo", "Ref::nope"]},
        )
    )
    assert missing["message"] == "Unable to substitute value. No parameter found for reference nope"


def test_terminating_a_process_mode_job_kills_its_process(
    batch: Any, logs: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    # The job's own workload: it blocks until the emulator kills it.
    script = "import os, signal; print(os.getpid(), flush=True); signal.pause()"
    register(batch, "sleeper", container={"command": [sys.executable, "-c", script]})
    emulator.set_scenario(mode="process")
    job_id = submit(batch, "sleeper", definition="sleeper")

    def printed_pid() -> int | None:
        job = describe(batch, job_id)[0]
        stream = job["container"].get("logStreamName")
        if job["status"] != "RUNNING" or stream is None:
            return None
        events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream)
        return int(events["events"][0]["message"]) if events["events"] else None

    pid = wait(printed_pid, "the process printed its pid")
    batch.terminate_job(jobId=job_id, reason="enough")
    assert wait_finished(batch, job_id)[0]["status"] == "FAILED"

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait(gone, "the process is gone")


def events_to_queue(sqs: Any, emulator: Emulator, name: str, pattern: dict[str, Any]) -> str:
    """An SQS queue and an EventBridge rule `name` sending it the aws.batch events that also
    match `pattern`; the queue's URL."""
    events = aws_client("events", emulator)
    queue_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.batch"], **pattern}))
    events.put_targets(Rule=name, Targets=[{"Id": "sqs", "Arn": queue_arn}])
    return queue_url


def test_job_state_changes_reach_sqs_through_an_eventbridge_rule(
    batch: Any, sqs: Any, emulator: Emulator
) -> None:
    queue_url = events_to_queue(
        sqs, emulator, "batch-events", {"detail-type": ["Batch Job State Change"]}
    )
    simple_setup(batch, emulator)
    job_id = submit(batch, "evented")
    wait_finished(batch, job_id)

    statuses: list[str] = []

    def all_delivered() -> bool:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = json.loads(message["Body"])
            assert (event["source"], event["detail-type"]) == (
                "aws.batch",
                "Batch Job State Change",
            )
            assert event["detail"]["jobId"] == job_id
            statuses.append(event["detail"]["status"])
        return statuses[-1:] == ["SUCCEEDED"]

    wait(all_delivered, "events up to SUCCEEDED")
    assert statuses == ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


def test_events_reuse_their_parsed_input_paths_so_a_burst_does_not_queue_up(
    batch: Any, sqs: Any, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto built a JSONPath parser for each of 8 paths of every event it delivered (10 ms an
    # event): 20 jobs starting together delivered their RUNNING events 0.7 s late.
    queue_url = events_to_queue(sqs, emulator, "parsed-once", {})
    simple_setup(batch, emulator)
    wait_finished(batch, submit(batch, "first"))  # the paths are parsed by now
    built: list[object] = []
    original = jsonpath_ng.parser.JsonPathParser.__init__

    def counted(self: object, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jsonpath_ng.parser.JsonPathParser, "__init__", counted)
    wait_finished(batch, submit(batch, "second"))

    def delivered() -> bool:
        bodies = [
            json.loads(message["Body"])
            for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
        ]
        return any(
            body["detail"]["jobName"] == "second" and body["detail"]["status"] == "SUCCEEDED"
            for body in bodies
        )

    wait(delivered, "the second job's SUCCEEDED event")
    assert built == []


# --- faults, counters, control API -------------------------------------------------------------


def no_retry_batch(emulator: Emulator) -> Any:
    """A Batch client that does not retry, to see faults as they are answered."""
    return boto3.client(
        "batch",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_faults_throttle_fail_and_delay_per_operation(emulator: Emulator) -> None:
    batch = no_retry_batch(emulator)
    emulator.set_faults(
        operations={
            "DescribeJobQueues": {"throttleRate": 1.0},
            "DescribeJobDefinitions": {"errorRate": 1.0},
            "DescribeComputeEnvironments": {"latencySeconds": 0.3},
        }
    )
    throttled = client_error(lambda: batch.describe_job_queues())
    assert (throttled["code"], throttled["status"]) == ("TooManyRequestsException", 429)
    failed = client_error(lambda: batch.describe_job_definitions())
    assert (failed["code"], failed["status"]) == ("ServerException", 500)
    started = time.monotonic()
    batch.describe_compute_environments()
    assert time.monotonic() - started >= 0.3
    emulator.set_faults()  # all off again
    batch.describe_job_queues()


def test_submit_job_rate_limit_answers_429_beyond_50_per_second(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    emulator.set_faults(submit_job_rate_limit=50)
    client = no_retry_batch(emulator)
    outcomes: list[str] = []
    started = time.monotonic()
    # As fast as one client goes (well beyond 50/s) until the first 429.
    while "TooManyRequestsException" not in outcomes and len(outcomes) < 500:
        try:
            submit(client, f"burst{len(outcomes)}")
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    elapsed = time.monotonic() - started
    assert outcomes[-1] == "TooManyRequestsException"
    # a burst of 50, then 50 more per second
    assert 50 <= outcomes.count("ok") <= 50 + 50 * elapsed + 1


def test_counters_count_api_calls_per_operation(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    before = emulator.counters()
    for i in range(3):
        submit(batch, f"counted{i}")
    aws_client("sts", emulator).get_caller_identity()
    after = emulator.counters()
    assert after["SubmitJob"] - before.get("SubmitJob", 0) == 3
    assert after["CreateComputeEnvironment"] == 1
    assert after["sts:GetCallerIdentity"] == 1
    emulator.reset()
    assert emulator.counters() == {}


def test_http_control_api_sets_scenario_speed_faults_and_reads_counters(
    batch: Any, emulator: Emulator
) -> None:
    simple_setup(batch, emulator)
    assert (
        control(
            emulator, "scenario", {"mode": "simulate", "rules": [{"jobName": "bad", "exitCode": 5}]}
        )
        == {}
    )
    assert control(emulator, "speed", {"speed": 40}) == {}
    (job,) = wait_finished(batch, submit(batch, "bad"))
    assert job["container"]["exitCode"] == 5
    assert control(emulator, "faults", {"operations": {"ListJobs": {"throttleRate": 1}}}) == {}
    throttled = client_error(lambda: no_retry_batch(emulator).list_jobs(jobQueue="q"))
    assert throttled["code"] == "TooManyRequestsException"
    counters = control(emulator, "counters")
    assert counters["SubmitJob"] == 1
    info = control(emulator, "info")
    assert (info["speed"], info["defaultSubnetId"]) == (40, emulator.default_subnet_id)
    with pytest.raises(urllib.error.HTTPError) as bad:
        control(emulator, "scenario", {"mode": "teleport"})
    assert bad.value.code == 400
    assert control(emulator, "reset", {}) == {}
    assert batch.describe_compute_environments()["computeEnvironments"] == []


def test_reset_gives_a_clean_account_with_the_defaults(batch: Any, emulator: Emulator) -> None:
    simple_setup(batch, emulator)
    iam = aws_client("iam", emulator)
    iam.create_role(RoleName="Temporary", AssumeRolePolicyDocument="{}")
    emulator.set_faults(operations={"*": {"throttleRate": 1.0}})
    emulator.reset()
    assert batch.describe_job_queues()["jobQueues"] == []
    assert batch.describe_job_definitions()["jobDefinitions"] == []
    roles = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    assert {"AWSBatchServiceRole", "ecsInstanceRole", "ecsTaskExecutionRole"} <= roles
    assert "Temporary" not in roles
    profile = iam.get_instance_profile(InstanceProfileName="ecsInstanceRole")["InstanceProfile"]
    assert profile["Roles"][0]["RoleName"] == "ecsInstanceRole"
    ec2 = aws_client("ec2", emulator)
    group = ec2.describe_security_groups(GroupIds=[emulator.default_security_group_id])
    assert group["SecurityGroups"][0]["VpcId"] == emulator.default_vpc_id


def test_standalone_module_serves_until_sigterm() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "batchops.local.emulator", "--port", str(port), "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert f"127.0.0.1:{port}" in banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_batchops/info", timeout=10) as r:
            assert json.loads(r.read())["speed"] == 50
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_concurrent_readers_of_one_queue_each_get_distinct_messages_and_no_errors(
    emulator: Emulator,
) -> None:
    # moto's ReceiveMessage iterated the queue's in-flight set while another reader's
    # DeleteMessageBatch changed it: a 500 ("Set changed size during iteration") to the reader,
    # and two readers scanning at once could both take the same visible message. SQS hands a
    # message to one reader per visibility timeout and does not fail a receive for a delete.
    def reader_client() -> Any:
        return aws_client("sqs", emulator, Config(retries={"total_max_attempts": 1}))  # a 500 fails

    sqs = reader_client()
    queue_url: str = sqs.create_queue(QueueName="many-readers")["QueueUrl"]
    sent = 400
    for first in range(0, sent, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(first, first + 10)],
        )
    received: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def read() -> None:
        client = reader_client()
        try:
            while True:
                with lock:
                    if len(received) >= sent:
                        return
                messages = client.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    VisibilityTimeout=300,
                ).get("Messages", [])
                if not messages:
                    return
                with lock:
                    received.extend(message["Body"] for message in messages)
                client.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                        for i, message in enumerate(messages)
                    ],
                )
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    run_in_threads(read, 6, timeout=120)
    assert errors == []
    assert sorted(received, key=int) == [str(i) for i in range(sent)]
