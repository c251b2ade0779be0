"""A RUNNABLE job that cannot run blocks its queue and says why, as AWS Batch documents it.

Sources (rule → where it is written down):
- the statusReason "while the job is stuck", verbatim: user guide "Jobs stuck in RUNNABLE due to
  misconfiguration" (COMPUTE_ENVIRONMENT_MAX_RESOURCE: "All compute environments have a maxvCpus
  parameter that is smaller than the job requirements"; JOB_RESOURCE_REQUIREMENT: "None of the
  compute environments have instances that meet the job requirements") and "Jobs stuck in
  RUNNABLE due to capacity" (INSUFFICIENT_INSTANCE_CAPACITY: "All connected compute environments
  have insufficient capacity errors"),
  https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_misconfiguration.html,
  https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_capacity.html;
- the same reason is in DescribeJobs and ListJobs, and a "Batch Job Queue Blocked" event carries
  it (resources: the job's and the queue's ARNs; detail like JobDetail): user guide "Jobs stuck in
  a RUNNABLE status" and "Job queue blocked events",
  https://docs.aws.amazon.com/batch/latest/userguide/batch-job-queue-blocked-events.html;
- "you can increase the maxvCpus parameter of the primary compute environment to meet the needs
  of the blocked job": the misconfiguration page;
- m5.large has 2 vCPUs and 8 GiB: the EC2 instance type pages.
Insufficient capacity is the emulator's fault knob `insufficientCapacity` (control.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from mypy_boto3_batch import BatchClient
from mypy_boto3_sqs import SQSClient

from batchops.local.emulator import Emulator
from tests.conftest import aws_client
from tests.emulator.waits import (
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    register,
    wait_ce_status,
    wait_job_status,
    wait_until,
)

MAX_RESOURCE = (
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue "
    "cannot meet the CPU requirement of the job."
)
RESOURCE_REQUIREMENT = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement "
    "(vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue."
)
INSUFFICIENT_CAPACITY = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested "
    "for instance type {}"
)


def submit(batch: BatchClient, name: str, definition: str = "jd", queue: str = "q") -> str:
    """SubmitJob; the job id."""
    return batch.submit_job(jobName=name, jobQueue=queue, jobDefinition=definition)["jobId"]


def blocked_reason(batch: BatchClient, job_id: str) -> str | None:
    """The statusReason of a RUNNABLE job, once it has one."""
    job = describe_jobs(batch, job_id)[0]
    return job.get("statusReason") if job["status"] == "RUNNABLE" else None


def wait_blocked(batch: BatchClient, job_id: str) -> str:
    """Wait until the job is RUNNABLE with a statusReason; that reason."""
    return wait_until(lambda: blocked_reason(batch, job_id), f"job {job_id} blocked")


def set_faults(emulator: Emulator, body: dict[str, Any]) -> None:
    """POST /_batchops/faults."""
    request = urllib.request.Request(
        f"{emulator.url}/_batchops/faults", data=json.dumps(body).encode()
    )
    urllib.request.urlopen(request, timeout=10).close()


# --- MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE ------------------------------------------


def test_job_above_every_ce_max_vcpus_is_blocked_until_max_vcpus_is_raised(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=4))
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=8)
    job_id = submit(batch, "wide")

    assert wait_blocked(batch, job_id) == MAX_RESOURCE
    listed = batch.list_jobs(jobQueue="q", jobStatus="RUNNABLE")["jobSummaryList"]
    assert [(s["jobId"], s.get("statusReason")) for s in listed] == [(job_id, MAX_RESOURCE)]

    batch.update_compute_environment(computeEnvironment="ce", computeResources={"maxvCpus": 8})

    job = wait_job_status(batch, job_id, "SUCCEEDED")
    assert job["statusReason"] == "Essential container in task exited"


def test_disabled_ce_big_enough_does_not_unblock_the_job_until_enabled(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "small", ec2_resources(account, max_vcpus=4))
    create_ce(batch, "big", ec2_resources(account, max_vcpus=64), state="DISABLED")
    create_queue(batch, "q", "small", "big")
    register(batch, "jd", vcpus=8)
    job_id = submit(batch, "wide")

    assert wait_blocked(batch, job_id) == MAX_RESOURCE

    batch.update_compute_environment(computeEnvironment="big", state="ENABLED")
    wait_job_status(batch, job_id, "SUCCEEDED")


def test_job_waiting_for_busy_capacity_has_no_blocked_reason(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=4))
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=4)
    register(batch, "huge", vcpus=8)
    emulator.set_scenario(rules=[{"jobName": "blocker", "durationSeconds": 3600}])
    blocker = submit(batch, "blocker")
    wait_job_status(batch, blocker, "RUNNING")
    waiting = submit(batch, "waiting")
    too_wide = submit(batch, "too-wide", definition="huge")

    # Judged after `waiting` (submitted first, same queue): once it has its reason, so has the
    # other one, and that is none.
    wait_blocked(batch, too_wide)
    job = describe_jobs(batch, waiting)[0]
    assert (job["status"], job.get("statusReason")) == ("RUNNABLE", None)


# --- MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT ---------------------------------------------------


def test_job_fitting_no_instance_type_is_blocked_until_a_bigger_type_is_allowed(
    batch: BatchClient, emulator: Emulator
) -> None:
    resources = ec2_resources(default_account(emulator), instance_types=("m5.large",))
    create_ce(batch, "ce", resources)
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=1, memory=16384)  # 16 GiB: more than an m5.large has
    job_id = submit(batch, "memory-hungry")

    assert wait_blocked(batch, job_id) == RESOURCE_REQUIREMENT

    batch.update_compute_environment(
        computeEnvironment="ce", computeResources={"instanceTypes": ["m5"]}
    )

    wait_job_status(batch, job_id, "SUCCEEDED")


def test_job_with_more_vcpus_than_the_largest_instance_type_is_blocked(
    batch: BatchClient, emulator: Emulator
) -> None:
    resources = ec2_resources(default_account(emulator), instance_types=("m5.large",))
    create_ce(batch, "ce", resources)
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=4, memory=1024)

    assert wait_blocked(batch, submit(batch, "four-vcpus")) == RESOURCE_REQUIREMENT


# --- CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY -----------------------------------------------------


def test_job_on_a_ce_short_of_capacity_is_blocked_until_the_fault_is_lifted(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator), spot=True))
    create_queue(batch, "q", "ce")
    register(batch, "jd")
    set_faults(emulator, {"insufficientCapacity": ["ce"]})
    job_id = submit(batch, "spot-job")

    assert wait_blocked(batch, job_id) == INSUFFICIENT_CAPACITY.format("optimal")

    set_faults(emulator, {})

    wait_job_status(batch, job_id, "SUCCEEDED")


def test_job_runs_on_the_next_ce_when_the_first_is_short_of_capacity(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    spot_arn = create_ce(batch, "spot", ec2_resources(account, spot=True))
    create_ce(batch, "ondemand", ec2_resources(account))
    create_queue(batch, "q", "spot", "ondemand")
    register(batch, "jd")
    set_faults(emulator, {"insufficientCapacity": [spot_arn]})

    job = wait_job_status(batch, submit(batch, "falls-over"), "SUCCEEDED")

    clusters = {
        ce["computeEnvironmentName"]: ce["ecsClusterArn"].rsplit("/", 1)[-1]
        for ce in batch.describe_compute_environments()["computeEnvironments"]
    }
    assert f"/{clusters['ondemand']}/" in job["container"]["taskArn"]


def test_insufficient_capacity_fault_must_list_compute_environments(emulator: Emulator) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        set_faults(emulator, {"insufficientCapacity": "ce"})

    assert refused.value.code == 400


# --- the "Batch Job Queue Blocked" event ---------------------------------------------------------


def test_blocked_job_is_published_as_a_job_queue_blocked_event(
    batch: BatchClient, sqs: SQSClient, emulator: Emulator
) -> None:
    events = aws_client("events", emulator)
    queue_url = sqs.create_queue(QueueName="blocked-queues")["QueueUrl"]
    target = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="blocked",
        EventPattern=json.dumps(
            {"source": ["aws.batch"], "detail-type": ["Batch Job Queue Blocked"]}
        ),
    )
    events.put_targets(
        Rule="blocked", Targets=[{"Id": "sqs", "Arn": target["Attributes"]["QueueArn"]}]
    )
    create_ce(batch, "ce", ec2_resources(default_account(emulator), max_vcpus=4))
    queue_arn = create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=8)
    job_id = submit(batch, "wide")
    job_arn = describe_jobs(batch, job_id)[0]["jobArn"]

    def delivered() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        return bodies[0] if bodies else None

    event = wait_until(delivered, "a Batch Job Queue Blocked event")
    assert (event["source"], event["detail-type"]) == ("aws.batch", "Batch Job Queue Blocked")
    assert event["resources"] == [job_arn, queue_arn]
    detail = event["detail"]
    assert (detail["jobId"], detail["jobQueue"], detail["status"]) == (
        job_id,
        queue_arn,
        "RUNNABLE",
    )
    assert detail["statusReason"] == MAX_RESOURCE


def test_blocked_reason_is_judged_again_when_the_ce_changes(
    batch: BatchClient, emulator: Emulator
) -> None:
    # Raising maxvCpus past the job but keeping a too-small instance type turns one blocked
    # reason into the other.
    resources = ec2_resources(default_account(emulator), max_vcpus=2, instance_types=("m5.large",))
    create_ce(batch, "ce", resources)
    create_queue(batch, "q", "ce")
    register(batch, "jd", vcpus=4, memory=1024)
    job_id = submit(batch, "wide")
    assert wait_blocked(batch, job_id) == MAX_RESOURCE

    batch.update_compute_environment(computeEnvironment="ce", computeResources={"maxvCpus": 16})
    wait_ce_status(batch, "ce", "VALID")

    assert wait_until(
        lambda: blocked_reason(batch, job_id) == RESOURCE_REQUIREMENT, "the other reason"
    )
