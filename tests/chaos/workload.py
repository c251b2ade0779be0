"""What the chaos suite runs: infrastructure, a mix of pipelines with the phase each must end
in, the emulator's script for their jobs, and a CronPipeline ticking all along."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID
from tests.e2e.builders import step

SERVICE_ROLE = "arn:aws:iam::123456789012:role/AWSBatchServiceRole"

# Two queues on two compute environments: `q` over `ce-scaled` (service-linked role, so updates
# are in place) gets a maxvCpus change mid-chaos; `q2` over `ce-replaced` (explicit service role
# and BEST_FIT, so a new instance type needs a blue/green replacement) gets one.
SCALED_CE, SCALED_QUEUE = "ce-scaled", "q"
REPLACED_CE, REPLACED_QUEUE = "ce-replaced", "q2"
MAX_VCPUS_BEFORE, MAX_VCPUS_AFTER = 256, 384
INSTANCE_TYPES_BEFORE, INSTANCE_TYPES_AFTER = ["c5.large"], ["c5.large", "c5.xlarge"]

CRON_NAME = "tick"
CRON_SCHEDULE = "@every 5s"
CRON_STEPS = [step("first"), step("second", "first")]

# Above Batch's limit of 20 dependencies: the operator holds the join and submits it itself.
FAN_IN_WIDTH = 22

# One round of shapes; a workload of n pipelines cycles through it.
SHAPES = ("chain", "diamond", "retry", "fail-fast", "chain", "diamond", "fan-in", "chain")


@dataclass(frozen=True)
class PipelineCase:
    """One BatchPipeline of the workload and the phase its scenario dictates."""

    name: str
    shape: str
    queue: str
    steps: list[dict[str, Any]]
    expected_phase: str
    spec: dict[str, Any] = field(default_factory=dict)

    def manifest(self) -> str:
        """The object as `kubectl apply` gets it."""
        spec = {"queue": self.queue, "image": "busybox:latest", "steps": self.steps, **self.spec}
        return json.dumps(
            {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchPipeline",
                "metadata": {"name": self.name, "labels": {"batchops.io/chaos-shape": self.shape}},
                "spec": spec,
            }
        )


def pipeline_cases(count: int) -> list[PipelineCase]:
    """`count` pipelines of mixed shapes, alternating between the two queues."""
    cases = []
    for index in range(count):
        shape = SHAPES[index % len(SHAPES)]
        queue = (SCALED_QUEUE, REPLACED_QUEUE)[index % 2]
        cases.append(_case(f"{shape}-{index:02d}", shape, queue))
    return cases


def _case(name: str, shape: str, queue: str) -> PipelineCase:
    other_queue = REPLACED_QUEUE if queue == SCALED_QUEUE else SCALED_QUEUE
    if shape == "chain":
        steps = [step("extract"), step("transform", "extract"), step("load", "transform")]
        return PipelineCase(name, shape, queue, steps, "Succeeded")
    if shape == "diamond":
        steps = [
            step("split"),
            step("left", "split", queue=other_queue),
            step("right", "split"),
            step("merge", "left", "right"),
        ]
        return PipelineCase(name, shape, queue, steps, "Succeeded")
    if shape == "fan-in":
        parents = [step(f"part{i:02d}") for i in range(FAN_IN_WIDTH)]
        steps = [*parents, step("join", *(p["name"] for p in parents))]
        return PipelineCase(name, shape, queue, steps, "Succeeded")
    if shape == "retry":
        steps = [step("flaky", retry={"attempts": 2}), step("after", "flaky")]
        return PipelineCase(name, shape, queue, steps, "Succeeded")
    if shape == "fail-fast":
        steps = [step("bad"), step("sibling"), step("after", "bad")]
        return PipelineCase(name, shape, queue, steps, "Failed", {"failFast": True})
    if shape == "probe":
        return PipelineCase(name, shape, queue, [step("ping")], "Succeeded")
    raise ValueError(f"unknown shape {shape}")


def probe_case(index: int) -> PipelineCase:
    """A one-step pipeline applied right after an API server restart: the operator picking it
    up shows its watches came back."""
    return _case(f"probe-{index:02d}", "probe", SCALED_QUEUE)


def job_rules(cases: list[PipelineCase], job_seconds: float) -> list[dict[str, Any]]:
    """The emulator's simulate-mode rules (emulated seconds): `bad` steps exit 3, `flaky` steps
    fail their first attempt, every other attempt succeeds after `job_seconds`."""
    rules: list[dict[str, Any]] = []
    for case in cases:
        if case.shape == "fail-fast":
            rules.append(
                {"jobName": f"{case.name}-bad-*", "durationSeconds": job_seconds, "exitCode": 3}
            )
        if case.shape == "retry":
            rules.append(
                {
                    "jobName": f"{case.name}-flaky-*",
                    "attempt": 1,
                    "durationSeconds": job_seconds,
                    "exitCode": 1,
                }
            )
    return [*rules, {"jobName": "*", "durationSeconds": job_seconds, "exitCode": 0}]


def compute_environment(
    name: str, service_role: str | None = None, **compute_resources: Any
) -> str:
    """An EC2 BatchComputeEnvironment on the emulator's default network."""
    resources = {
        "type": "EC2",
        "allocationStrategy": "BEST_FIT_PROGRESSIVE",
        "instanceTypes": INSTANCE_TYPES_BEFORE,
        "minvCpus": 0,
        "maxvCpus": MAX_VCPUS_BEFORE,
        "instanceRole": "ecsInstanceRole",
        "subnets": [DEFAULT_SUBNET_ID],
        "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        **compute_resources,
    }
    spec: dict[str, Any] = {"computeResources": resources}
    if service_role:
        spec["serviceRole"] = service_role
    return _object("BatchComputeEnvironment", name, spec)


def scaled_compute_environment(max_vcpus: int) -> str:
    """`ce-scaled` with the given maxvCpus (an in-place scaling update when it changes)."""
    return compute_environment(SCALED_CE, maxvCpus=max_vcpus)


def replaced_compute_environment(instance_types: list[str]) -> str:
    """`ce-replaced` with the given instance types (a replacement when they change)."""
    return compute_environment(
        REPLACED_CE,
        service_role=SERVICE_ROLE,
        allocationStrategy="BEST_FIT",
        instanceTypes=instance_types,
    )


def job_queue(name: str, compute_environment_name: str) -> str:
    """A BatchJobQueue over one compute environment."""
    spec = {"priority": 10, "computeEnvironments": [{"ref": compute_environment_name, "order": 1}]}
    return _object("BatchJobQueue", name, spec)


def cron_pipeline() -> str:
    """`tick`: a two-step chain every 5 s on `q`, runs allowed to overlap, every run kept so
    the suite can count them."""
    spec = {
        "schedule": CRON_SCHEDULE,
        "concurrencyPolicy": "Allow",
        "successfulRunsHistoryLimit": 1000,
        "failedRunsHistoryLimit": 1000,
        "pipelineTemplate": {
            "spec": {"queue": SCALED_QUEUE, "image": "busybox:latest", "steps": CRON_STEPS}
        },
    }
    return _object("CronPipeline", CRON_NAME, spec)


def _object(kind: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": name},
            "spec": spec,
        }
    )
