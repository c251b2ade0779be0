"""Usage: requested resources times each attempt's run time, summed over the attempts a step's
history holds, for every kind of job whose resources the run knows."""

from __future__ import annotations

from typing import Any

import pytest

from batchops.model.attempts import AttemptRecord
from batchops.model.pipeline import StepSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.usage import (
    CapacityKind,
    Usage,
    capacity_of_compute_type,
    queue_capacity,
    requested_resources,
    step_usage,
    total_usage,
)


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


# --- spot / on-demand ---------------------------------------------------------------------------


def on(queue: str, seconds: float, start: int = 0) -> AttemptRecord:
    return AttemptRecord(
        job_id=f"j-{queue}-{start}",
        attempt=1,
        queue=queue,
        started_at=start,
        stopped_at=start + int(seconds * 1000),
    )


def test_each_attempt_counts_on_the_capacity_of_its_queue() -> None:
    capacity: dict[str, CapacityKind] = {"spot-q": "spot", "ondemand-q": "onDemand"}
    attempts = [on("spot-q", 60), on("ondemand-q", 30, start=60_000), on("mixed-q", 10)]
    usage = step_usage(one_step(vcpus=2, memory=1024), attempts, 0, capacity)
    assert usage is not None
    assert usage.unsplit == Usage(200, 100)
    assert usage.spot == Usage(120, 60)
    assert usage.on_demand == Usage(60, 30)
    assert usage.to_status() == {
        "vcpuSeconds": 200.0,
        "memoryGiBSeconds": 100.0,
        "vcpuHours": "0.06",
        "spot": {"vcpuSeconds": 120.0, "memoryGiBSeconds": 60.0},
        "onDemand": {"vcpuSeconds": 60.0, "memoryGiBSeconds": 30.0},
    }


def test_without_known_capacity_usage_is_not_split() -> None:
    usage = step_usage(one_step(vcpus=1, memory=1024), [on("q", 10)], 0)
    assert usage == Usage(10, 10)
    assert usage is not None and "spot" not in usage.to_status()


def test_a_queue_has_a_capacity_only_when_all_its_environments_agree() -> None:
    environments: dict[str, tuple[str | None, ...]] = {
        "spot": ("spot-ce", "fargate-spot-ce"),
        "ondemand": ("ec2-ce",),
        "mixed": ("spot-ce", "ec2-ce"),
        "by-arn": ("spot-ce", None),
        "unmanaged": ("unmanaged-ce",),
        "unknown": ("missing-ce",),
    }
    kinds = {
        "spot-ce": capacity_of_compute_type("SPOT"),
        "fargate-spot-ce": capacity_of_compute_type("FARGATE_SPOT"),
        "ec2-ce": capacity_of_compute_type("EC2"),
        "unmanaged-ce": capacity_of_compute_type(None),
    }
    assert queue_capacity(environments, kinds) == {"spot": "spot", "ondemand": "onDemand"}
    assert capacity_of_compute_type("FARGATE") == "onDemand"
    assert capacity_of_compute_type("ECS_MANAGED_INSTANCES") is None


def test_usage_reads_back_what_it_writes_split_included() -> None:
    usage = Usage(30, 15, 3, spot=Usage(10, 5), on_demand=Usage(20, 10, 3))
    assert Usage.from_status(usage.to_status()) == usage
    assert Usage.from_status(None) is None
    assert Usage.from_status({"vcpuSeconds": "x", "memoryGiBSeconds": True}) == Usage()


def test_parts_add_and_subtract_with_a_missing_part_as_zero() -> None:
    assert Usage(10, spot=Usage(10)) + Usage(5) == Usage(15, spot=Usage(10))
    assert Usage(10, spot=Usage(10)) - Usage(4, spot=Usage(4)) == Usage(6, spot=Usage(6))
    assert Usage(5) + Usage(5) == Usage(10)


def test_the_run_total_carries_the_split_of_its_steps() -> None:
    total = total_usage([Usage(10, spot=Usage(10)), Usage(5, on_demand=Usage(5)), Usage(1)])
    assert total == Usage(16, spot=Usage(10), on_demand=Usage(5))
