"""CancelJob and TerminateJob at every moment of a job's life, as the API reference says.

Sources:
- CancelJob: "Jobs that are in a SUBMITTED, PENDING, or RUNNABLE state are cancelled and the job
  status is updated to FAILED. [...] Jobs that progressed to the STARTING or RUNNING state aren't
  canceled. However, the API operation still succeeds, even if no job is canceled. These jobs
  must be terminated with the TerminateJob operation."
  https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html
- TerminateJob: "Jobs that are in the STARTING or RUNNING state are terminated, which causes them
  to transition to FAILED. Jobs that have not progressed to the STARTING state are cancelled."
  https://docs.aws.amazon.com/batch/latest/APIReference/API_TerminateJob.html
- both: the reason "is returned by future DescribeJobs operations on the job".

Jobs are held in a state with the emulator's holds (control API), never by sleeping: the
moment a test acts on is exactly the one it names.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    register,
    wait_finished,
    wait_job_status,
)

BEFORE_START = ("SUBMITTED", "PENDING", "RUNNABLE")
HELD_STATES = (*BEFORE_START, "STARTING")


def one_queue(batch: BatchClient, emulator: Emulator) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")
    register(batch, "jd")


def submit(batch: BatchClient, name: str) -> str:
    return batch.submit_job(jobName=name, jobQueue="q", jobDefinition="jd")["jobId"]


def job_in(batch: BatchClient, emulator: Emulator, name: str, state: str) -> str:
    """Submit job `name` and bring it to `state`, where it stays until the test moves it on."""
    if state == "RUNNING":
        emulator.set_scenario(rules=[{"jobName": name, "durationSeconds": 3600}])
    else:
        emulator.set_holds([{"jobName": name, "status": state}])
    job_id = submit(batch, name)
    wait_job_status(batch, job_id, state)
    return job_id


def still_after_another_job_ran(batch: BatchClient, job_id: str) -> str:
    """The job's status once a job submitted later has run to its end: time has passed for
    the emulator, without the test sleeping."""
    wait_finished(batch, submit(batch, "witness"))
    return describe_jobs(batch, job_id)[0]["status"]


@pytest.mark.parametrize("state", [*HELD_STATES, "RUNNING"])
def test_terminate_job_fails_a_job_in_any_state_at_once(
    batch: BatchClient, emulator: Emulator, state: str
) -> None:
    one_queue(batch, emulator)
    job_id = job_in(batch, emulator, "victim", state)

    batch.terminate_job(jobId=job_id, reason="must not run")

    job = describe_jobs(batch, job_id)[0]
    assert (job["status"], job["statusReason"]) == ("FAILED", "must not run")
    if state in BEFORE_START:
        assert job["isCancelled"] is True and not job.get("startedAt")
    else:
        assert job["isTerminated"] is True
    emulator.set_holds([])
    assert still_after_another_job_ran(batch, job_id) == "FAILED"


@pytest.mark.parametrize("state", BEFORE_START)
def test_cancel_job_fails_a_job_that_has_not_started(
    batch: BatchClient, emulator: Emulator, state: str
) -> None:
    one_queue(batch, emulator)
    job_id = job_in(batch, emulator, "victim", state)

    batch.cancel_job(jobId=job_id, reason="not wanted")

    job = describe_jobs(batch, job_id)[0]
    assert (job["status"], job["statusReason"], job["isCancelled"]) == (
        "FAILED",
        "not wanted",
        True,
    )


def test_cancel_job_is_accepted_but_leaves_a_starting_job_alone(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    job_id = job_in(batch, emulator, "victim", "STARTING")

    batch.cancel_job(jobId=job_id, reason="too late")  # no error: the call succeeds

    assert describe_jobs(batch, job_id)[0]["status"] == "STARTING"
    emulator.set_holds([])
    assert wait_finished(batch, job_id)[0]["status"] == "SUCCEEDED"


def test_a_stop_decided_from_a_stale_description_only_works_with_terminate_job(
    batch: BatchClient, emulator: Emulator
) -> None:
    # The moment between a poll and a state change: the caller saw RUNNABLE, the job has
    # started since. CancelJob (chosen by the stale status) does nothing; TerminateJob stops it.
    one_queue(batch, emulator)
    emulator.set_holds([{"jobName": "seen-*", "status": "RUNNABLE"}])
    cancelled, terminated = submit(batch, "seen-cancel"), submit(batch, "seen-terminate")
    wait_job_status(batch, cancelled, "RUNNABLE")
    wait_job_status(batch, terminated, "RUNNABLE")
    emulator.set_holds([{"jobName": "seen-*", "status": "STARTING"}])
    wait_job_status(batch, cancelled, "STARTING")
    wait_job_status(batch, terminated, "STARTING")

    batch.cancel_job(jobId=cancelled, reason="stale choice")
    batch.terminate_job(jobId=terminated, reason="right choice")

    statuses = [job["status"] for job in describe_jobs(batch, cancelled, terminated)]
    assert statuses == ["STARTING", "FAILED"]


def test_a_held_job_waits_in_its_state_and_moves_on_when_released(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    emulator.set_holds([{"jobName": "held", "status": "RUNNABLE"}])
    held = submit(batch, "held")
    wait_job_status(batch, held, "RUNNABLE")
    assert still_after_another_job_ran(batch, held) == "RUNNABLE"

    emulator.set_holds([])

    assert wait_finished(batch, held)[0]["status"] == "SUCCEEDED"


def test_holds_are_set_over_http_and_a_bad_state_is_refused(emulator: Emulator) -> None:
    def post(body: object) -> int:
        request = urllib.request.Request(
            f"{emulator.url}/_batchops/holds",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert post({"holds": [{"jobName": "x-*", "status": "PENDING"}]}) == 200
    assert post({"holds": [{"jobName": "x-*", "status": "RUNNING"}]}) == 400
    assert post({"holds": []}) == 200
