"""Usage: requested resources times each attempt's run time, summed over the attempts a step's
history holds, for every kind of job whose resources the run knows."""

from __future__ import annotations

from typing import Any

import pytest

from batchops.model.attempts import AttemptRecord
from batchops.model.pipeline import StepSpec, parse_pipeline_spec
from batchops.plans.usage import Usage, requested_resources, step_usage, total_usage


def one_step(**fields: Any) -> StepSpec:
    raw = {"queue": "q", "image": "busybox", "steps": [{"name": "s", **fields}]}
    return parse_pipeline_spec(raw).steps[0]


def ran(seconds: float, start: int = 0, job: str = "j") -> AttemptRecord:
    return AttemptRecord(
        job_id=job, attempt=1, started_at=start, stopped_at=start + int(seconds * 1000)
    )


def test_a_retried_container_step_counts_every_attempt() -> None:
    step = one_step(vcpus=2, memory=4096, gpus=1)
    usage = step_usage(step, [ran(60), ran(30, job="j2")], now_ms=0)
    assert usage == Usage(vcpu_seconds=180, memory_gib_seconds=360, gpu_seconds=90)
    assert usage is not None and usage.to_status()["vcpuHours"] == "0.05"


def test_an_attempt_still_running_counts_until_now() -> None:
    running = AttemptRecord(job_id="j", attempt=1, started_at=1_000)
    usage = step_usage(one_step(vcpus=1, memory=1024), [running], now_ms=11_000)
    assert usage == Usage(vcpu_seconds=10, memory_gib_seconds=10)


def test_a_multinode_job_counts_each_node_of_each_range() -> None:
    nodes = {
        "numNodes": 3,
        "mainNode": 0,
        "nodeRangeProperties": [
            {"targetNodes": "0:0", "container": {"image": "m", "resourceRequirements": [
                {"type": "VCPU", "value": "4"}, {"type": "MEMORY", "value": "8192"}]}},
            {"targetNodes": "1:", "container": {"image": "w", "resourceRequirements": [
                {"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "2048"}]}},
        ],
    }  # fmt: skip
    resources = requested_resources(one_step(nodeProperties=nodes))
    assert resources is not None
    assert (resources.vcpus, resources.memory_mib) == (8, 12288)


def test_an_eks_pod_counts_its_containers_requests() -> None:
    pod = {"podProperties": {"containers": [
        {"image": "a", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
        {"image": "b", "resources": {"limits": {"cpu": "1", "memory": "512Mi"}}},
    ]}}  # fmt: skip
    resources = requested_resources(one_step(eksProperties=pod))
    assert resources is not None
    assert (resources.vcpus, resources.memory_mib) == (1.5, 1536)


@pytest.mark.parametrize(
    "fields",
    [{"jobDefinition": "etl:3"}, {"vcpus": 1, "memory": 512, "arraySize": 10}],
    ids=["job-definition-without-overrides", "array-job"],
)
def test_a_step_whose_reservation_the_run_cannot_know_has_no_usage(fields: Any) -> None:
    assert step_usage(one_step(**fields), [ran(60)], now_ms=0) is None


def test_the_run_total_sums_the_steps_that_have_usage() -> None:
    total = total_usage([Usage(10, 20, 0), None, Usage(5, 0, 1)])
    assert total == Usage(15, 20, 1)
