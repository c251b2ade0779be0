"""Stopping a run whose job has just started, through kubectl: issue #20.

The operator decides from its shared poller's last look at Batch, which may be seconds old. The
bug: a job last seen RUNNABLE but STARTING by now got CancelJob, which Batch accepts and ignores
for a started job (https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html),
so deleting, terminating or fail-fasting the pipeline left it running.

Each test makes that moment happen on purpose, never by sleeping: the emulator holds the job
RUNNABLE until the operator has seen it, the answer to the poller's next DescribeJobs is held
back (a reply delay), and meanwhile the job is let into STARTING and held there. Until that
answer arrives the operator's view says RUNNABLE, Batch says STARTING: then the test acts, and
the job must be FAILED in Batch within seconds. Every other moment of a job's life is covered
without Kubernetes in tests/unit/test_reconcile_stopping.py and tests/emulator/.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, events_of
from tests.e2e.builders import pipeline, pipeline_status, step, steps_by_name, wait_phase
from tests.waits import wait_for

REPLY_DELAY = 8.0
"""Seconds the poller waits for each DescribeJobs answer while the test sets up the moment:
the operator's view stays stale for about twice as long, beyond STOPPED_WITHIN (which
leaves a loaded 2-core CI machine seconds of slack)."""
STOPPED_WITHIN = 6.0
"""The job must be FAILED in Batch this soon after the operator could know it must stop (the
action, or the answer showing the failed step): no later poll may be needed."""


def describe_calls(emulator: Emulator) -> int:
    return emulator.counters().get("DescribeJobs", 0)


def next_poll_sent(emulator: Emulator) -> None:
    """Wait until the operator's poller sends its next DescribeJobs. Batch has answered it
    (with the states as they were then) but the answer is held back for REPLY_DELAY, and the
    poller sends no other before it arrives."""
    before = describe_calls(emulator)
    wait_for(
        lambda: describe_calls(emulator) > before,
        timeout=REPLY_DELAY + 10,
        interval=0.02,
        message="the poller's next DescribeJobs",
    )


def batch_status(batch: Any, queue_arn: str, job_id: str, status: str) -> bool:
    """Whether Batch lists the job in `status` (ListJobs: DescribeJobs answers are delayed)."""
    listed = batch.list_jobs(jobQueue=queue_arn, jobStatus=status)["jobSummaryList"]
    return any(job["jobId"] == job_id for job in listed)


@pytest.mark.parametrize("path", ["delete", "terminate", "failFast"])
def test_a_job_started_since_the_last_poll_is_stopped(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
    path: str,
) -> None:
    name = f"stop-{path.lower()}"
    victim = f"{name}-victim-*"
    queue_arn = kubectl.get_json("bjq/q", "-n", namespace)["status"]["arn"]
    holds = [{"jobName": victim, "status": "RUNNABLE"}]
    steps = [step("victim")]
    if path == "failFast":
        # The failing step waits in STARTING until the operator has seen the victim RUNNABLE.
        holds.append({"jobName": f"{name}-bad-*", "status": "STARTING"})
        steps.append(step("bad"))
        emulator.set_scenario(rules=[{"jobName": f"{name}-bad-*", "exitCode": 1}])
    emulator.set_holds(holds)
    kubectl.apply(pipeline(name, steps, failFast=True), namespace)

    def seen_by_operator() -> dict[str, Any] | None:
        entries = steps_by_name(pipeline_status(kubectl, namespace, name))
        wanted = {"victim": "RUNNABLE", **({"bad": "STARTING"} if path == "failFast" else {})}
        seen = all(entries.get(s, {}).get("status") == want for s, want in wanted.items())
        return entries if seen else None

    entries = wait_for(seen_by_operator, timeout=60, message="the operator to see the job RUNNABLE")
    job_id = entries["victim"]["jobId"]

    emulator.set_faults(operations={"DescribeJobs": {"replyDelaySeconds": REPLY_DELAY}})
    next_poll_sent(emulator)  # answered with the state before the fault took effect
    if path == "failFast":
        emulator.set_holds([holds[0]])  # the failing step runs and fails now
        wait_for(
            lambda: batch_status(batch, queue_arn, entries["bad"]["jobId"], "FAILED"),
            timeout=REPLY_DELAY,
            message="the failing step to fail",
        )
    next_poll_sent(emulator)  # the answer the operator acts on: the victim RUNNABLE
    answered = time.monotonic() + REPLY_DELAY
    emulator.set_holds([{"jobName": victim, "status": "STARTING"}])
    wait_for(
        lambda: batch_status(batch, queue_arn, job_id, "STARTING"),
        timeout=REPLY_DELAY,
        message="the job to start, unseen by the operator",
    )

    if path == "delete":
        kubectl.run("delete", f"bpl/{name}", "-n", namespace, "--wait=false")
    elif path == "terminate":
        kubectl.run("annotate", f"bpl/{name}", "-n", namespace, "batchops.io/terminate=now")
    # failFast: the held-back answer shows the failure, and the operator acts on it.
    acted = answered if path == "failFast" else time.monotonic()

    wait_for(
        lambda: batch_status(batch, queue_arn, job_id, "FAILED"),
        timeout=acted + STOPPED_WITHIN - time.monotonic(),
        message="the started job to be stopped",
    )
    emulator.set_faults()
    emulator.set_holds([])
    if path == "delete":
        wait_for(
            lambda: not kubectl.get_json("bpl", "-n", namespace)["items"],
            timeout=30,
            message="the pipeline to be deleted",
        )
    else:
        phase = "Cancelled" if path == "terminate" else "Failed"
        status = wait_phase(kubectl, namespace, name, phase)
        wait_for(
            lambda: (
                steps_by_name(pipeline_status(kubectl, namespace, name))["victim"]["status"]
                == "FAILED"
            ),
            timeout=30,
            message="the job's end in status",
        )
        assert status["phase"] == phase
        stopped = [e for e in events_of(kubectl, namespace, name) if e["reason"] == "JobStopped"]
        assert stopped and "victim" in stopped[0]["message"]
