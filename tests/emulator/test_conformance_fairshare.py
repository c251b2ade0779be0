"""Jobs on a fair-share queue are scheduled as the AWS Batch documentation says.

Sources (each test's docstring names the rule it checks):
- user guide "Use share identifiers to identify workloads",
  https://docs.aws.amazon.com/batch/latest/userguide/share-identifiers.html: "The AWS Batch
  scheduler tracks usage for each share identifier by using the (T * weightFactor) formula,
  where T is the vCPU usage over time. The scheduler picks jobs with the lowest usage from the
  share identifier." and "Jobs with a higher scheduling priority are scheduled first.";
- API reference ShareAttributes, weightFactor: "A lower value has a higher priority for compute
  resources. For example, jobs that use a share identifier with a weight factor of 0.125 (1/8)
  get 8 times the compute resources of jobs that use a share identifier with a weight factor of
  1.", https://docs.aws.amazon.com/batch/latest/APIReference/API_ShareAttributes.html;
- API reference FairsharePolicy, computeReservation: "The reserved ratio is
  (computeReservation/100)^ActiveFairShares",
  https://docs.aws.amazon.com/batch/latest/APIReference/API_FairsharePolicy.html;
- API reference SubmitJob, shareIdentifier ("Don't specify this parameter if the job queue
  doesn't have a fair-share scheduling policy. If the job queue has a fair-share scheduling
  policy, then this parameter must be specified. This string is limited to 255 alphanumeric
  characters, and can be followed by an asterisk (*).") and schedulingPriorityOverride ("The
  minimum supported value is 0 and the maximum supported value is 9999."),
  https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html;
- API reference CreateJobQueue, schedulingPolicyArn: "Jobs queues with a fair-share scheduling
  policy can have a maximum of 500 active share identifiers. When the limit has been reached,
  submissions of any jobs that add a new share identifier fail."
The emulator's model counts the vCPUs a share holds now (shareDecaySeconds is not emulated; see
schedulingpolicies.py). AWS documents none of the rejections' wording: the tests check the
error class and that nothing was submitted. Jobs are lined up with the emulator's holds and
kept running with scenario durations, never by sleeping.
"""

from __future__ import annotations

from typing import Any

import pytest
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import FairsharePolicyTypeDef

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    ErrorResponse,
    client_error,
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    register,
    wait_job_status,
    wait_queue_status,
    wait_until,
)

NOT_STARTED = ("SUBMITTED", "PENDING", "RUNNABLE")
STARTED = ("STARTING", "RUNNING")


def fair_share_queue(
    batch: BatchClient, emulator: Emulator, fairshare: FairsharePolicyTypeDef, max_vcpus: int
) -> None:
    """A compute environment `ce` of `max_vcpus`, a policy `p` and a queue `fair` under it, a
    FIFO queue `fifo` over another compute environment, and the 1-vCPU job definition `jd`."""
    account = default_account(emulator)
    create_ce(batch, "ce", ec2_resources(account, max_vcpus=max_vcpus))
    create_ce(batch, "side", ec2_resources(account, max_vcpus=4))
    policy = batch.create_scheduling_policy(name="p", fairsharePolicy=fairshare)["arn"]
    batch.create_job_queue(
        jobQueueName="fair",
        priority=1,
        schedulingPolicyArn=policy,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}],
    )
    wait_queue_status(batch, "fair", "VALID")
    create_queue(batch, "fifo", "side", priority=1)
    register(batch, "jd", vcpus=1)


def submit(batch: BatchClient, name: str, queue: str = "fair", **extra: Any) -> str:
    """SubmitJob of `jd`; the job id."""
    return batch.submit_job(jobName=name, jobQueue=queue, jobDefinition="jd", **extra)["jobId"]


def line_up(batch: BatchClient, job_ids: list[str]) -> None:
    """Wait until every job, held RUNNABLE by the test, waits in the hold, so that lifting it
    makes them all placeable in the same placement round.

    A job shows RUNNABLE one job step before the scheduler sees it (and the hold keeps it);
    the emulator takes steps in the order they fall due, so once a job submitted after them
    (to `fifo`, not held) has been placed, every job before it has reached the hold.
    """
    wait_until(
        lambda: all(job["status"] == "RUNNABLE" for job in describe_jobs(batch, *job_ids)),
        f"{len(job_ids)} jobs RUNNABLE",
    )
    sentinel = submit(batch, "sentinel", queue="fifo")
    wait_until(
        lambda: describe_jobs(batch, sentinel)[0]["status"] not in NOT_STARTED,
        "the sentinel job placed",
    )


def started(batch: BatchClient, job_ids: list[str]) -> list[str]:
    """The jobs among `job_ids` that left RUNNABLE."""
    found: list[str] = []
    for start in range(0, len(job_ids), 100):
        chunk = describe_jobs(batch, *job_ids[start : start + 100])
        found += [job["jobId"] for job in chunk if job["status"] not in NOT_STARTED]
    return found


def assert_client_exception(error: ErrorResponse) -> None:
    assert error.code == "ClientException"
    assert error.http_status == 400


# --- run slots follow the weights -----------------------------------------------------------


def test_on_a_saturated_compute_environment_the_lower_weight_factor_gets_three_times_the_starts(
    batch: BatchClient, emulator: Emulator
) -> None:
    """Two shares with weightFactor 3 and 1 on a 4-vCPU compute environment, 40 one-vCPU jobs
    each, lined up RUNNABLE before any can start (a hold), the weight-3 share's job first in
    each pair: "A lower value has a higher priority for compute resources" (ShareAttributes),
    and the scheduler "picks jobs with the lowest usage", usage being T * weightFactor
    (share-identifiers.html). Over the first ~32 starts the weight-1 share gets about 3 times
    the starts of the weight-3 one (the emulator gives 3:1 exactly: 3 slots to 1)."""
    fair_share_queue(
        batch,
        emulator,
        {
            "shareDistribution": [
                {"shareIdentifier": "heavy", "weightFactor": 3.0},
                {"shareIdentifier": "light", "weightFactor": 1.0},
            ]
        },
        max_vcpus=4,
    )
    emulator.set_scenario(rules=[{"jobName": "fs-*", "durationSeconds": 2}])
    emulator.set_holds([{"jobName": "fs-*", "status": "RUNNABLE"}])
    heavy: list[str] = []
    light: list[str] = []
    for index in range(40):
        heavy.append(submit(batch, f"fs-heavy-{index}", shareIdentifier="heavy"))
        light.append(submit(batch, f"fs-light-{index}", shareIdentifier="light"))
    line_up(batch, heavy + light)

    emulator.set_holds([])
    wait_until(lambda: len(started(batch, heavy + light)) >= 32, "32 jobs started", timeout=30)

    heavy_starts, light_starts = len(started(batch, heavy)), len(started(batch, light))
    assert light_starts < 40, "the window must end before the light share runs out of jobs"
    ratio = light_starts / heavy_starts
    assert 2.0 <= ratio <= 4.5, (light_starts, heavy_starts)


def test_a_share_without_an_entry_weighs_one_and_a_prefix_entry_applies_to_its_shares(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "Share identifiers that aren't included have a default weight of 1.0"; an identifier
    ending in "*" "specifies the weight factor to use for share identifiers that start with
    that prefix" (ShareAttributes). Share teamA1 (prefix teamA*, weight 0.5) against share
    other (no entry, weight 1.0) on 3 vCPUs: 2 slots to 1."""
    fair_share_queue(
        batch,
        emulator,
        {"shareDistribution": [{"shareIdentifier": "teamA*", "weightFactor": 0.5}]},
        max_vcpus=3,
    )
    emulator.set_scenario(rules=[{"jobName": "fs-*", "durationSeconds": 3600}])
    emulator.set_holds([{"jobName": "fs-*", "status": "RUNNABLE"}])
    other = [submit(batch, f"fs-other-{index}", shareIdentifier="other") for index in range(3)]
    team = [submit(batch, f"fs-team-{index}", shareIdentifier="teamA1") for index in range(3)]
    line_up(batch, other + team)

    emulator.set_holds([])

    wait_until(lambda: len(started(batch, other + team)) == 3, "3 jobs started")
    assert (len(started(batch, team)), len(started(batch, other))) == (2, 1)


def test_within_a_share_the_higher_scheduling_priority_starts_first(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "You can set scheduling priority to configure the order that jobs are run in on a share
    identifier. Jobs with a higher scheduling priority are scheduled first."
    (share-identifiers.html); schedulingPriorityOverride "overrides any scheduling priority in
    the job definition and works only within a single share identifier" (SubmitJob)."""
    fair_share_queue(batch, emulator, {"shareDistribution": []}, max_vcpus=1)
    emulator.set_scenario(rules=[{"jobName": "fs-*", "durationSeconds": 3600}])
    emulator.set_holds([{"jobName": "fs-*", "status": "RUNNABLE"}])
    low = submit(batch, "fs-low", shareIdentifier="a", schedulingPriorityOverride=1)
    high = submit(batch, "fs-high", shareIdentifier="a", schedulingPriorityOverride=9)
    line_up(batch, [low, high])

    emulator.set_holds([])

    wait_job_status(batch, high, "RUNNING")
    assert describe_jobs(batch, low)[0]["status"] == "RUNNABLE"
    assert describe_jobs(batch, high)[0]["schedulingPriority"] == 9


def test_compute_reservation_keeps_vcpus_for_a_share_that_is_not_running_yet(
    batch: BatchClient, emulator: Emulator
) -> None:
    """computeReservation 50 "indicates that Batch reserves 50% of the maximum available vCPU
    if there's only one share identifier. It reserves 25% if there are two share identifiers"
    (FairsharePolicy). On 8 vCPUs the first share alone gets 4; a second share starts at once
    in what was kept; then 2 stay reserved and the first share gets one more."""
    fair_share_queue(batch, emulator, {"computeReservation": 50}, max_vcpus=8)
    emulator.set_scenario(rules=[{"jobName": "fs-*", "durationSeconds": 3600}])
    emulator.set_holds([{"jobName": "fs-a-*", "status": "RUNNABLE"}])
    first = [submit(batch, f"fs-a-{index}", shareIdentifier="a") for index in range(10)]
    line_up(batch, first)
    emulator.set_holds([])
    wait_until(
        lambda: sum(job["status"] == "RUNNING" for job in describe_jobs(batch, *first)) == 4,
        "4 jobs of share a RUNNING",
    )
    assert len(started(batch, first)) == 4

    second = submit(batch, "fs-b-0", shareIdentifier="b")

    wait_job_status(batch, second, "RUNNING")
    wait_until(lambda: len(started(batch, first)) == 5, "a fifth job of share a started")


# --- SubmitJob's shareIdentifier rules --------------------------------------------------------


def test_share_identifier_is_required_on_a_fair_share_queue_and_refused_on_a_fifo_queue(
    batch: BatchClient, emulator: Emulator
) -> None:
    """shareIdentifier: "Don't specify this parameter if the job queue doesn't have a fair-share
    scheduling policy. If the job queue has a fair-share scheduling policy, then this parameter
    must be specified." (SubmitJob)."""
    fair_share_queue(batch, emulator, {}, max_vcpus=4)

    without = client_error(lambda: submit(batch, "no-share"))
    on_fifo = client_error(lambda: submit(batch, "on-fifo", queue="fifo", shareIdentifier="a"))

    assert_client_exception(without)
    assert "shareIdentifier is required" in without.message
    assert_client_exception(on_fifo)
    assert "shareIdentifier can't be specified" in on_fifo.message
    for queue in ("fair", "fifo"):
        listed = batch.list_jobs(jobQueue=queue, filters=[{"name": "JOB_NAME", "values": ["*"]}])
        assert listed["jobSummaryList"] == []
    submit(batch, "fine", shareIdentifier="a")
    submit(batch, "also-fine", queue="fifo", schedulingPriorityOverride=5)


@pytest.mark.parametrize("identifier", ["team-a", "team a", "a" * 256, "*"])
def test_share_identifier_not_255_alphanumerics_with_optional_asterisk_is_refused(
    batch: BatchClient, emulator: Emulator, identifier: str
) -> None:
    """ "This string is limited to 255 alphanumeric characters, and can be followed by an
    asterisk (*)." (SubmitJob, shareIdentifier)."""
    fair_share_queue(batch, emulator, {}, max_vcpus=4)

    assert_client_exception(client_error(lambda: submit(batch, "j", shareIdentifier=identifier)))
    submit(batch, "ok", shareIdentifier="a" * 255 + "*")


@pytest.mark.parametrize("priority", [-1, 10000])
def test_scheduling_priority_outside_0_to_9999_is_refused(
    batch: BatchClient, emulator: Emulator, priority: int
) -> None:
    """schedulingPriorityOverride (SubmitJob) and schedulingPriority (RegisterJobDefinition):
    "The minimum supported value is 0 and the maximum supported value is 9999."."""
    fair_share_queue(batch, emulator, {}, max_vcpus=4)

    at_submit = client_error(
        lambda: submit(batch, "j", shareIdentifier="a", schedulingPriorityOverride=priority)
    )
    at_register = client_error(
        lambda: batch.register_job_definition(
            jobDefinitionName="prioritized",
            type="container",
            schedulingPriority=priority,
            containerProperties={"image": "busybox", "vcpus": 1, "memory": 512},
        )
    )

    assert_client_exception(at_submit)
    assert_client_exception(at_register)
    submit(batch, "bounds", shareIdentifier="a", schedulingPriorityOverride=9999)


def test_a_501st_active_share_identifier_is_refused_and_known_ones_still_accepted(
    batch: BatchClient, emulator: Emulator
) -> None:
    """ "Jobs queues with a fair-share scheduling policy can have a maximum of 500 active share
    identifiers. When the limit has been reached, submissions of any jobs that add a new share
    identifier fail." (CreateJobQueue, schedulingPolicyArn). A share counts as active while it
    has a job not yet SUCCEEDED or FAILED (assumed)."""
    fair_share_queue(batch, emulator, {}, max_vcpus=4)
    emulator.set_holds([{"jobName": "*", "status": "SUBMITTED"}])
    for index in range(500):
        submit(batch, f"s{index}", shareIdentifier=f"s{index}")

    error = client_error(lambda: submit(batch, "new", shareIdentifier="s500"))

    assert_client_exception(error)
    assert "500 active share identifiers" in error.message
    submit(batch, "known", shareIdentifier="s7")
