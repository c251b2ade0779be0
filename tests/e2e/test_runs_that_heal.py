"""Runs that heal, through the real API server and the emulator: a step whose host is reclaimed
is resubmitted (on the on-demand queue) without counting as its failure, a failed branch is
retried on request while the steps that succeeded keep their jobs, a SIGKILL in the middle of a
resubmission submits nothing twice, and every attempt stays in the step's history."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.emulator.account import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, batchops, wait_condition, wait_until_live
from tests.e2e.builders import jobs_named, pipeline, step, steps_by_name, wait_phase
from tests.waits import wait_for

HOST_LOSS = "Host EC2 (instance i-0123456789abcdef0) terminated."


def add_on_demand_queue(kubectl: Kubectl, namespace: str) -> None:
    """A second queue over the test's compute environment, standing for on-demand capacity."""
    kubectl.apply(
        json.dumps(
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchJobQueue",
                "metadata": {"name": "ondemand"},
                "spec": {"priority": 1, "computeEnvironments": [{"ref": "ce", "order": 1}]},
            }
        ),
        namespace,
    )
    wait_condition(kubectl, "bjq/ondemand", namespace, "Ready")


def reclaim(emulator: Emulator, job_glob: str, *, spare: str) -> None:
    """Every first attempt of jobs matching `job_glob` loses its host, except `spare`'s."""
    emulator.set_scenario(
        rules=[
            {"jobName": spare, "exitCode": 0},
            {"jobName": job_glob, "attempt": 1, "statusReason": HOST_LOSS, "exitCode": None},
        ]
    )


def test_a_step_reclaimed_twice_is_resubmitted_on_demand_and_the_run_succeeds(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    add_on_demand_queue(kubectl, namespace)
    reclaim(emulator, "heal-b-*", spare="heal-b-*-r2")
    on_interruption = {"attempts": 2, "onInterruption": {"resubmits": 3, "queue": "ondemand"}}
    kubectl.apply(
        pipeline("heal", [step("a"), step("b", "a", retry=on_interruption), step("c", "b")]),
        namespace,
    )
    first_a = wait_for(
        lambda: steps_by_name(_status(kubectl, namespace, "heal")).get("a", {}).get("jobId"),
        message="step a submitted",
    )

    status = wait_phase(kubectl, namespace, "heal", "Succeeded", timeout=120)
    steps = steps_by_name(status)
    assert steps["a"]["jobId"] == first_a  # upstream is never resubmitted
    assert steps["b"]["interruptions"] == 2
    assert steps["b"]["resubmission"] == 2
    assert steps["b"]["queue"] == "ondemand"
    history = steps["b"]["history"]
    assert [entry.get("interrupted", False) for entry in history] == [True, True, False]
    assert history[-1]["queue"] == "ondemand"
    assert all(entry["attempt"] == 1 for entry in history)  # no Batch attempt spent on a loss
    job = batch.describe_jobs(jobs=[steps["b"]["jobId"]])["jobs"][0]
    assert job["jobName"] == "heal-b-" + status["runId"] + "-r2"
    assert job["jobQueue"].endswith("/ondemand") or "ondemand" in job["jobQueue"]
    assert len(jobs_named(batch, "heal-a-")) == 1

    # Usage: requested vCPUs (1) times each attempt's run time as the emulator reports it;
    # status times have whole seconds, hence the tolerance of one second per attempt.
    attempt_seconds = 0.0
    for entry in history:
        described = batch.describe_jobs(jobs=[entry["jobId"]])["jobs"][0]["attempts"]
        attempt_seconds += sum((a["stoppedAt"] - a["startedAt"]) / 1000 for a in described)
    assert abs(steps["b"]["usage"]["vcpuSeconds"] - attempt_seconds) <= len(history)
    total = sum(step["usage"]["vcpuSeconds"] for step in steps.values())
    assert abs(status["usage"]["vcpuSeconds"] - total) < 0.5


def test_an_interruption_past_the_resubmissions_fails_the_run_and_names_it(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    reclaim(emulator, "lost-b-*", spare="none")
    retry = {"onInterruption": {"resubmits": 1}}
    kubectl.apply(pipeline("lost", [step("a"), step("b", "a", retry=retry)]), namespace)
    status = wait_phase(kubectl, namespace, "lost", "Failed", timeout=120)
    assert "host lost 2 time(s), no resubmission left" in status["message"]
    assert steps_by_name(status)["b"]["interruptions"] == 1


def test_retry_failed_reruns_the_failed_branch_and_keeps_the_jobs_that_succeeded(
    kubectl: Kubectl,
    cli_env: dict[str, str],
    namespace: str,
    queue: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
) -> None:
    emulator.set_scenario(
        rules=[{"jobName": "dia-c-*-r1", "exitCode": 0}, {"jobName": "dia-c-*", "exitCode": 1}]
    )
    diamond = [step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")]
    kubectl.apply(pipeline("dia", diamond, failFast=False), namespace)
    failed = steps_by_name(wait_phase(kubectl, namespace, "dia", "Failed", timeout=120))
    kept = {name: failed[name]["jobId"] for name in ("a", "b")}

    # SubmitJob answers late, so a kill right after the first resubmitted job appears in AWS
    # lands before its id is in status: the restarted operator must find it, not resubmit it.
    emulator.set_faults(operations={"SubmitJob": {"replyDelaySeconds": 0.4}})
    retry = batchops("retry", "bpl/dia", "-n", namespace, env=cli_env)
    assert retry.returncode == 0, retry.stderr
    token = kubectl.get_json("bpl/dia", "-n", namespace)["metadata"]["annotations"][
        "batchops.io/retry-failed"
    ]
    assert token in retry.stdout
    wait_for(lambda: jobs_named(batch, "dia-c-") and len(jobs_named(batch, "dia-c-")) == 2,
             message="the resubmitted job of c")  # fmt: skip
    operator.kill()
    operator.start()
    wait_until_live(operator)
    emulator.set_faults()

    status = wait_phase(kubectl, namespace, "dia", "Succeeded", timeout=120)
    steps = steps_by_name(status)
    assert {name: steps[name]["jobId"] for name in ("a", "b")} == kept
    assert steps["c"]["resubmission"] == 1 and steps["d"]["resubmission"] == 1
    assert steps["c"]["history"][0]["jobId"] == failed["c"]["jobId"]
    names = Counter(job["jobName"] for job in jobs_named(batch, "dia-"))
    assert set(names.values()) == {1}, names
    assert status["retryToken"] == token


def _status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return dict(kubectl.get_json(f"bpl/{name}", "-n", namespace).get("status") or {})


def small_queue(kubectl: Kubectl, namespace: str) -> None:
    """A queue `small` over a 16-vCPU compute environment `small`."""
    resources = {
        "type": "EC2",
        "instanceTypes": ["optimal"],
        "minvCpus": 0,
        "maxvCpus": 16,
        "instanceRole": "ecsInstanceRole",
        "subnets": [DEFAULT_SUBNET_ID],
        "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
    }
    for kind, spec in (
        ("BatchComputeEnvironment", {"computeResources": resources}),
        ("BatchJobQueue", {"priority": 1, "computeEnvironments": [{"ref": "small", "order": 1}]}),
    ):
        body = {"apiVersion": "batchops.io/v1alpha1", "kind": kind, "metadata": {"name": "small"}}
        kubectl.apply(json.dumps({**body, "spec": spec}), namespace)
    wait_condition(kubectl, "bjq/small", namespace, "Ready")


def test_a_job_no_compute_environment_can_fit_blocks_the_queue_until_the_ce_grows(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, emulator: Emulator
) -> None:
    small_queue(kubectl, namespace)
    kubectl.apply(pipeline("wide", [step("big", vcpus=32, memory=1024)], queue="small"), namespace)

    def blocked_everywhere() -> tuple[dict[str, Any], dict[str, Any]] | None:
        status = _status(kubectl, namespace, "wide")
        step_reason = steps_by_name(status).get("big", {}).get("statusReason") or ""
        conditions = kubectl.get_json("bjq/small", "-n", namespace)["status"].get("conditions", [])
        blocked: dict[str, Any] = next((c for c in conditions if c["type"] == "Blocked"), {})
        if step_reason.startswith("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE") and (
            blocked.get("status") == "True"
        ):
            return status, blocked
        return None

    status, blocked = wait_for(blocked_everywhere, timeout=60, message="the queue to be Blocked")
    assert status["message"].startswith("big blocked on small: MISCONFIGURATION:")
    assert "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE" in blocked["message"]
    assert "wide-big-" in blocked["message"]

    kubectl.run(
        "patch", "bce/small", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"computeResources": {"maxvCpus": 64}}}),
    )  # fmt: skip
    wait_phase(kubectl, namespace, "wide", "Succeeded", timeout=120)
    wait_condition(kubectl, "bjq/small", namespace, "Blocked", "False")
