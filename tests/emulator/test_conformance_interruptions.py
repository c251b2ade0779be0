"""A host lost under a running attempt (a Spot reclaim) looks as it does in AWS Batch, and
retryStrategy.evaluateOnExit sees it as Batch's does.

Sources (rule → where it is written down):
- the attempt's statusReason "Host EC2 (instance <id>) terminated.": the attempts of reclaimed
  jobs in AWS's Spot workshop (awslabs/ec2-spot-workshops, content/rendering-with-batch);
- such an attempt has no exit code: nextstrain/cli#145 ("a job that fails because its EC2
  instance is shutdown in the middle of it will not have an exit code");
- `onStatusReason: "Host EC2*"` matches a reclaim: AWS CDK's Reason.SPOT_INSTANCE_RECLAIMED and
  the AWS Compute Blog "Introducing retry strategies for AWS Batch";
- EXIT stops retrying, RETRY retries, the first matching entry decides, and patterns match by
  prefix when they end in "*": API reference EvaluateOnExit, RetryStrategy.
The reclaim is scripted with a scenario rule (`statusReason`, `"exitCode": null`; scenario.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    create_ce,
    create_queue,
    default_account,
    ec2_resources,
    register,
    wait_finished,
)

HOST_LOST = "Host EC2 (instance i-0abc) terminated."
RECLAIM_FIRST_ATTEMPT = {
    "jobName": "etl-b*",
    "attempt": 1,
    "statusReason": HOST_LOST,
    "exitCode": None,
}


def spot_queue(batch: BatchClient, emulator: Emulator) -> None:
    """A Spot compute environment `spot`, a queue `q` over it, a job definition `jd`."""
    create_ce(batch, "spot", ec2_resources(default_account(emulator), spot=True))
    create_queue(batch, "q", "spot")
    register(batch, "jd")


def submit(batch: BatchClient, name: str, **kwargs: Any) -> str:
    """SubmitJob of `jd` to `q`; the job id."""
    request: dict[str, Any] = {"jobName": name, "jobQueue": "q", "jobDefinition": "jd", **kwargs}
    return batch.submit_job(**request)["jobId"]


def test_reclaimed_attempt_fails_the_job_with_the_host_reason_and_no_exit_code(
    batch: BatchClient, emulator: Emulator
) -> None:
    spot_queue(batch, emulator)
    emulator.set_scenario(rules=[RECLAIM_FIRST_ATTEMPT])

    job = wait_finished(batch, submit(batch, "etl-b-1"))[0]

    assert (job["status"], job["statusReason"]) == ("FAILED", HOST_LOST)
    [attempt] = job["attempts"]
    assert attempt["statusReason"] == HOST_LOST
    assert "exitCode" not in attempt["container"]
    assert "reason" not in attempt["container"]
    assert "exitCode" not in job["container"]


def test_exit_rule_on_host_ec2_ends_the_job_at_the_first_reclaim(
    batch: BatchClient, emulator: Emulator
) -> None:
    spot_queue(batch, emulator)
    emulator.set_scenario(rules=[RECLAIM_FIRST_ATTEMPT])
    strategy = {
        "attempts": 3,
        "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "EXIT"}],
    }

    job = wait_finished(batch, submit(batch, "etl-b-1", retryStrategy=strategy))[0]

    assert (job["status"], job["statusReason"], len(job["attempts"])) == ("FAILED", HOST_LOST, 1)


def test_retry_rule_on_host_ec2_runs_the_job_again_after_a_reclaim(
    batch: BatchClient, emulator: Emulator
) -> None:
    spot_queue(batch, emulator)
    emulator.set_scenario(rules=[RECLAIM_FIRST_ATTEMPT])
    strategy = {
        "attempts": 2,
        "evaluateOnExit": [
            {"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
        ],
    }

    job = wait_finished(batch, submit(batch, "etl-b-1", retryStrategy=strategy))[0]

    assert (job["status"], job["statusReason"]) == (
        "SUCCEEDED",
        "Essential container in task exited",
    )
    reclaimed, rerun = job["attempts"]
    assert reclaimed["statusReason"] == HOST_LOST
    assert "exitCode" not in reclaimed["container"]
    assert (rerun["statusReason"], rerun["container"]["exitCode"]) == (
        "Essential container in task exited",
        0,
    )


def test_exit_code_conditions_do_not_match_an_attempt_without_exit_code(
    batch: BatchClient, emulator: Emulator
) -> None:
    spot_queue(batch, emulator)
    emulator.set_scenario(rules=[RECLAIM_FIRST_ATTEMPT])
    # "1*" would stop a job that exited 1; a reclaim has no code, so no entry matches: retried.
    strategy = {"attempts": 2, "evaluateOnExit": [{"onExitCode": "1*", "action": "EXIT"}]}

    job = wait_finished(batch, submit(batch, "etl-b-1", retryStrategy=strategy))[0]

    assert (job["status"], len(job["attempts"])) == ("SUCCEEDED", 2)


def test_reclaim_rule_leaves_jobs_it_does_not_name_alone(
    batch: BatchClient, emulator: Emulator
) -> None:
    spot_queue(batch, emulator)
    emulator.set_scenario(rules=[RECLAIM_FIRST_ATTEMPT])

    other = wait_finished(batch, submit(batch, "etl-a-1"))[0]

    assert (other["status"], other["attempts"][0]["container"]["exitCode"]) == ("SUCCEEDED", 0)


def test_user_guide_retry_example_retries_a_task_that_failed_to_start(
    batch: BatchClient, emulator: Emulator
) -> None:
    # The evaluateOnExit example of the user guide's "Automated job retries".
    spot_queue(batch, emulator)
    emulator.set_scenario(
        rules=[
            {
                "jobName": "flaky",
                "attempt": 1,
                "statusReason": "Task failed to start",
                "exitCode": None,
            },
            {"jobName": "broken", "exitCode": 2},
        ]
    )
    strategy = {
        "attempts": 3,
        "evaluateOnExit": [
            {"action": "RETRY", "onReason": "AGENT"},
            {"action": "RETRY", "onStatusReason": "Task failed to start"},
            {"action": "EXIT", "onReason": "*"},
        ],
    }

    flaky, broken = wait_finished(
        batch,
        submit(batch, "flaky", retryStrategy=strategy),
        submit(batch, "broken", retryStrategy=strategy),
    )

    assert (flaky["status"], len(flaky["attempts"])) == ("SUCCEEDED", 2)
    assert flaky["attempts"][0]["statusReason"] == "Task failed to start"
    assert (broken["status"], len(broken["attempts"])) == ("FAILED", 1)


def test_scenario_rule_with_a_non_string_status_reason_is_refused(emulator: Emulator) -> None:
    body = {"mode": "simulate", "rules": [{"jobName": "x", "statusReason": 5}]}
    request = urllib.request.Request(
        f"{emulator.url}/_batchops/scenario", data=json.dumps(body).encode()
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 400
    assert "statusReason" in json.loads(refused.value.read())["error"]
