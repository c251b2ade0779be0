"""Workload shapes, each usable by batchops (a BatchPipeline) and by the baseline (a boto3 loop).

A shape is a list of (step, dependencies) in topological order; both sides are built from the
same list, so they run the same DAG.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Dag = list[tuple[str, list[str]]]

BATCH_DEPENDENCY_LIMIT = 20
"""SubmitJob takes at most 20 dependsOn entries: a wider fan-in cannot be done by the baseline."""


def chain(steps: int) -> Dag:
    """s0 → s1 → … (the walkthrough's shape)."""
    return [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(steps)]


def diamond(width: int) -> Dag:
    """start → width parallel steps → end."""
    middle = [(f"m{i}", ["start"]) for i in range(width)]
    return [("start", []), *middle, ("end", [name for name, _ in middle])]


def fan_out(width: int) -> Dag:
    """start → width parallel leaves (no fan-in)."""
    return [("start", []), *[(f"leaf{i}", ["start"]) for i in range(width)]]


@dataclass(frozen=True)
class Workload:
    """N pipelines of one shape."""

    name: str
    pipelines: int
    dag: Dag

    @property
    def steps(self) -> int:
        """Steps per pipeline."""
        return len(self.dag)

    @property
    def jobs(self) -> int:
        """Jobs in the whole workload."""
        return self.pipelines * self.steps

    @property
    def baseline_possible(self) -> bool:
        """Whether plain SubmitJob dependsOn can express the DAG (≤ 20 dependencies a job)."""
        return all(len(deps) <= BATCH_DEPENDENCY_LIMIT for _, deps in self.dag)

    def manifests(self, prefix: str) -> list[dict[str, Any]]:
        """The BatchPipeline objects, labelled `bench/workload=<name>`."""
        return [
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchPipeline",
                "metadata": {"name": f"{prefix}{i}", "labels": {"bench/workload": self.name}},
                "spec": {
                    "queue": "q",
                    "image": "busybox",
                    "steps": [
                        {
                            "name": name,
                            "command": ["true"],
                            "vcpus": 1,
                            "memory": 128,
                            **({"dependsOn": deps} if deps else {}),
                        }
                        for name, deps in self.dag
                    ],
                },
            }
            for i in range(self.pipelines)
        ]


def register_baseline_definition(batch: Any) -> str:
    """The one job definition the baseline loop uses for every job; its ARN."""
    return str(
        batch.register_job_definition(
            jobDefinitionName="baseline",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["true"],
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "128"},
                ],
            },
        )["jobDefinitionArn"]
    )


def submit_baseline(batch: Any, queue_arn: str, workload: Workload, definition: str) -> list[str]:
    """Submit every pipeline's jobs in order with dependsOn job ids, as the walkthrough does;
    the job ids."""
    ids: list[str] = []
    for p in range(workload.pipelines):
        job_ids: dict[str, str] = {}
        for name, deps in workload.dag:
            kwargs: dict[str, Any] = {
                "jobName": f"base-{workload.name}-{p}-{name}",
                "jobQueue": queue_arn,
                "jobDefinition": definition,
            }
            if deps:
                kwargs["dependsOn"] = [{"jobId": job_ids[d]} for d in deps]
            job_ids[name] = batch.submit_job(**kwargs)["jobId"]
            ids.append(job_ids[name])
    return ids


def baseline(batch: Any, queue_arn: str, workload: Workload) -> dict[str, float]:
    """The walkthrough's approach: register a job definition, submit each pipeline's jobs in
    order with dependsOn job ids, poll DescribeJobs (100 ids a call) until all finished."""
    start = time.monotonic()
    ids = submit_baseline(batch, queue_arn, workload, register_baseline_definition(batch))
    submitted = time.monotonic() - start
    _wait_finished(batch, ids)
    return {"submit_seconds": submitted, "done_seconds": time.monotonic() - start}


def _wait_finished(batch: Any, ids: Sequence[str]) -> None:
    pending = set(ids)
    while pending:
        chunk = sorted(pending)
        for i in range(0, len(chunk), 100):
            for job in batch.describe_jobs(jobs=chunk[i : i + 100])["jobs"]:
                if job["status"] in ("SUCCEEDED", "FAILED"):
                    pending.discard(job["jobId"])
        if pending:
            time.sleep(1.0)  # the baseline's poll interval, as the walkthrough's loop polls
