"""BatchPipeline objects with a finished run's status, as the operator writes it, for the
timeline's tests and its benchmark: the walkthrough chain, a run whose step failed after a
retry, a run with an interruption and a resubmission, and a wide run of many steps.

Times are whole seconds after 02:00:00 on 2026-11-28 (UTC); every run is deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "manifests" / "examples"

T0 = datetime(2026, 11, 28, 2, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=6)
"""A clock long after every run here ended."""


def at(seconds: float) -> str:
    """The RFC 3339 time `seconds` after T0."""
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def attempt(job_id: str, number: int, created: float, started: float, stopped: float,
            exit_code: int | None = 0, **extra: Any) -> dict[str, Any]:  # fmt: skip
    """One `history[]` entry (an interrupted attempt has no exit code)."""
    entry = {
        "jobId": job_id,
        "attempt": number,
        "createdAt": at(created),
        "startedAt": at(started),
        "stoppedAt": at(stopped),
        **extra,
    }
    if exit_code is not None:
        entry["exitCode"] = exit_code
    return entry


def step_entry(
    name: str, status: str, history: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A `status.steps[]` item whose step-level fields are those of its last history entry,
    as the operator writes them."""
    last = history[-1]
    entry: dict[str, Any] = {
        "name": name,
        "status": status,
        "jobId": last["jobId"],
        "queue": extra.pop("queue", "q"),
        "attempts": sum(1 for h in history if h["jobId"] == last["jobId"]),
        "createdAt": last["createdAt"],
        "startedAt": last["startedAt"],
        "stoppedAt": last["stoppedAt"],
        "history": history,
        **extra,
    }
    if "exitCode" in last:
        entry["exitCode"] = last["exitCode"]
    return entry


def _object(name: str, spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": name},
        "spec": spec,
        "status": status,
    }


def walkthrough_run() -> dict[str, Any]:
    """The walkthrough's chain: job1 on queue-72 waits 70 s for an instance, job2 on
    queue-simple 40 s, job3 back on queue-72 waits another cold start of 65 s."""
    spec = yaml.safe_load((EXAMPLES / "03-walkthrough-pipeline.yaml").read_text())["spec"]
    steps = [
        step_entry("job1", "SUCCEEDED", [attempt("j1", 1, 1, 71, 251)], queue="queue-72",
                   queueWaitSeconds=70),
        step_entry("job2", "SUCCEEDED", [attempt("j2", 1, 1, 291, 351)], queue="queue-simple",
                   queueWaitSeconds=40),
        step_entry("job3", "SUCCEEDED", [attempt("j3", 1, 1, 416, 596)], queue="queue-72",
                   queueWaitSeconds=65),
    ]  # fmt: skip
    status = {
        "phase": "Succeeded",
        "progress": "3/3",
        "message": "all 3 steps succeeded",
        "startedAt": at(0),
        "finishedAt": at(597),
        "steps": steps,
    }
    return _object("nightly-etl", spec, status)


def failed_run_with_retry() -> dict[str, Any]:
    """The chain where job2 exits 1, is retried by Batch after 20 s, and exits 1 again: the
    run fails and job3 is cancelled before it runs."""
    run = walkthrough_run()
    run["status"] = {
        "phase": "Failed",
        "progress": "1/3",
        "message": "step job2 failed: Essential container in task exited (exit code 1) after "
        "2 attempts",
        "startedAt": at(0),
        "finishedAt": at(402),
        "steps": [
            run["status"]["steps"][0],
            step_entry(
                "job2",
                "FAILED",
                [
                    attempt("j2", 1, 1, 291, 331, 1, statusReason="Essential container in "
                            "task exited"),
                    attempt("j2", 2, 1, 351, 401, 1, statusReason="Essential container in "
                            "task exited"),
                ],
                queue="queue-simple",
                queueWaitSeconds=40,
                statusReason="Essential container in task exited",
            ),
            {"name": "job3", "status": "CANCELLED", "queue": "queue-72", "jobId": "j3",
             "createdAt": at(1), "statusReason": "batchops: dependency job2 failed"},
        ],
    }  # fmt: skip
    return run


def interrupted_run() -> dict[str, Any]:
    """A two-step run whose `shard` step is an array job of 10 on Spot: its first job's host
    is reclaimed after 100 s, the operator resubmits it on another queue, and it succeeds."""
    spec = {
        "queue": "spot",
        "image": "busybox",
        "steps": [
            {"name": "prepare", "command": ["true"], "vcpus": 1, "memory": 512},
            {"name": "shard", "command": ["true"], "vcpus": 4, "memory": 8192,
             "arraySize": 10, "dependsOn": ["prepare"]},
        ],
    }  # fmt: skip
    lost = "Host EC2 (instance i-0123456789abcdef0) terminated."
    shard = step_entry(
        "shard",
        "SUCCEEDED",
        [
            attempt("s1", 1, 0, 40, 140, None, statusReason=lost, interrupted=True),
            attempt("s2", 1, 145, 175, 295, resubmission=1, queue="on-demand"),
        ],
        queue="on-demand",
        resubmission=1,
        interruptions=1,
        arrayStatusSummary={"SUCCEEDED": 10},
    )  # fmt: skip
    status = {
        "phase": "Succeeded",
        "startedAt": at(0),
        "finishedAt": at(296),
        "steps": [
            step_entry("prepare", "SUCCEEDED", [attempt("p1", 1, 0, 10, 30)]),
            shard,
        ],
    }
    return _object("sharded", spec, status)


def wide_run(steps: int = 200, lanes: int = 20) -> dict[str, Any]:
    """`steps` steps in `lanes` parallel chains (step i depends on step i - lanes), each step
    of the last stage also on the first lane's, so the DAG has fan-in. Queue waits and run
    times vary by a fixed pattern; every fifth step of lane 3 needed a second attempt."""
    spec_steps: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    ends: dict[int, float] = {}
    for index in range(steps):
        name = f"step-{index:03d}"
        parents = [index - lanes] if index >= lanes else []
        if index >= steps - lanes and index % lanes:
            parents.append(index - index % lanes)
        entry_step: dict[str, Any] = {"name": name, "command": ["true"], "vcpus": 1, "memory": 512}
        if parents:
            entry_step["dependsOn"] = [f"step-{p:03d}" for p in parents]
        spec_steps.append(entry_step)
        ready = max((ends[p] for p in parents), default=0.0)
        wait, run = 5 + (index * 7) % 23, 20 + (index * 13) % 41
        job = f"w{index}"
        history = [attempt(job, 1, 0, ready + wait, ready + wait + run)]
        if index % lanes == 3 and index % 5 == 3:
            retry_start = ready + wait + run + 10
            history[0]["exitCode"] = 1
            history.append(attempt(job, 2, 0, retry_start, retry_start + run))
        ends[index] = _seconds(history[-1]["stoppedAt"])
        entries.append(step_entry(name, "SUCCEEDED", history, queueWaitSeconds=wait))
    status = {
        "phase": "Succeeded",
        "startedAt": at(0),
        "finishedAt": at(max(ends.values())),
        "steps": entries,
    }
    return _object("wide", {"queue": "q", "image": "busybox", "steps": spec_steps}, status)


def _seconds(text: str) -> float:
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - T0).total_seconds()
