"""Exactly once: SIGKILL the operator all through a submission; every step has one Batch job."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, events_of, wait_until_live
from tests.e2e.builders import pipeline, pipeline_status, step, wait_phase
from tests.waits import wait_for


def jobs_of(batch: Any, queue_arn: str, prefix: str) -> list[dict[str, Any]]:
    """Every job in the queue whose name starts with `prefix`, whatever its status."""
    pages = batch.get_paginator("list_jobs").paginate(
        jobQueue=queue_arn, filters=[{"name": "JOB_NAME", "values": [f"{prefix}*"]}]
    )
    return [job for page in pages for job in page["jobSummaryList"]]


def test_sigkill_at_every_submission_never_runs_a_step_twice(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
) -> None:
    # SubmitJob takes effect at once but answers 0.4 s later, so a kill right after a job
    # appears in AWS lands between SubmitJob and the status write that records its id.
    emulator.set_faults(operations={"SubmitJob": {"replyDelaySeconds": 0.4}})
    steps = [step("a"), step("b", "a"), step("c", "b"), step("d"), step("e"), step("f", "d", "e")]
    kubectl.apply(pipeline("once", steps), namespace)
    queue_arn = wait_for(
        lambda: kubectl.get_json("bjq/q", "-n", namespace)["status"].get("arn"),
        message="the queue ARN",
    )

    # Kill 0: right after apply, before (or while) the run's status is first written.
    operator.kill()
    operator.start()
    wait_until_live(operator)

    kills_between_submit_and_status = 0
    seen = 0
    while seen < len(steps):

        def more_jobs(previous: int = seen) -> int | None:
            count = len(jobs_of(batch, queue_arn, "once-"))
            return count if count > previous else None

        seen = wait_for(
            more_jobs,
            timeout=60,
            message=f"job number {seen + 1} to be submitted",
        )
        recorded = {
            entry.get("jobId")
            for entry in pipeline_status(kubectl, namespace, "once").get("steps", [])
        }
        operator.kill()
        in_aws = {job["jobId"] for job in jobs_of(batch, queue_arn, "once-")}
        if in_aws - recorded:
            kills_between_submit_and_status += 1
        operator.start()
        wait_until_live(operator)

    emulator.set_faults()
    status = wait_phase(kubectl, namespace, "once", "Succeeded", timeout=120)
    jobs = jobs_of(batch, queue_arn, "once-")
    per_name = Counter(job["jobName"] for job in jobs)
    events = [f"{e['reason']}: {e['message']}" for e in events_of(kubectl, namespace, "once")]
    assert sorted(per_name.values()) == [1] * len(steps), json.dumps([per_name, events], indent=1)
    assert {e["jobId"] for e in status["steps"]} == {job["jobId"] for job in jobs}
    assert kills_between_submit_and_status >= 1, "no kill landed between SubmitJob and status"


def test_a_kill_mid_batch_while_listjobs_lags_still_submits_every_step_once(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    operator: OperatorProcess,
    emulator: Emulator,
) -> None:
    # One batch of six SubmitJobs, each answering 0.4 s late, and ListJobs 5 s behind (100
    # emulated seconds at speed 20): a restart that asked ListJobs at once would miss the jobs
    # the killed operator had submitted and submit them again.
    emulator.set_faults(
        operations={"SubmitJob": {"replyDelaySeconds": 0.4}}, eventual_consistency_seconds=100
    )
    before = emulator.counters().get("SubmitJob", 0)
    steps = [step("a"), step("b", "a"), step("c", "b"), step("d"), step("e"), step("f", "d", "e")]
    kubectl.apply(pipeline("lagging", steps), namespace)
    wait_for(
        lambda: emulator.counters().get("SubmitJob", 0) > before + 1 or None,
        timeout=60,
        message="the batch under way",
    )
    operator.kill()
    announced = pipeline_status(kubectl, namespace, "lagging")
    assert announced.get("submittingSince"), announced  # the batch's ids were not written
    operator.start()
    wait_until_live(operator)

    status = wait_phase(kubectl, namespace, "lagging", "Succeeded", timeout=120)
    submitted = emulator.counters().get("SubmitJob", 0) - before
    job_ids = [entry["jobId"] for entry in status["steps"]]
    events = [f"{e['reason']}: {e['message']}" for e in events_of(kubectl, namespace, "lagging")]
    assert submitted == len(steps), events
    assert len(set(job_ids)) == len(steps)
    assert any(e.startswith("JobsRecovered") for e in events), events
