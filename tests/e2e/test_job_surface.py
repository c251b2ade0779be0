"""The whole job surface through the real API server: every example pipeline of another job type
(Fargate in a public subnet, ARM64, EFS with a larger /dev/shm, multi-node parallel) is applied as
a user would, runs, and the job definition Batch holds says field by field what the manifest said.
Overrides of an existing job definition reach SubmitJob as written."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from batchops.model.request_surface import CONTAINER_PASSTHROUGH, JOB_PROPERTIES
from tests.conftest import EXAMPLES, Kubectl
from tests.e2e.builders import pipeline, step, steps_by_name, wait_phase

INFRA = EXAMPLES / "01-walkthrough-infra.yaml"
JOB_TYPE_EXAMPLES = (
    "07-fargate-public-subnet.yaml",
    "08-arm64-fargate.yaml",
    "09-efs-genomics.yaml",
    "10-multi-node.yaml",
)


def _pipelines(path_name: str) -> list[dict[str, Any]]:
    documents = yaml.safe_load_all((EXAMPLES / path_name).read_text())
    return [d for d in documents if d and d["kind"] == "BatchPipeline"]


def _registered(batch: Any, job_id: str) -> dict[str, Any]:
    job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    definitions = batch.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])
    registered: dict[str, Any] = definitions["jobDefinitions"][0]
    return registered


@pytest.mark.parametrize("example", JOB_TYPE_EXAMPLES)
def test_example_of_each_job_type_runs_and_registers_what_the_manifest_says(
    example: str,
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
) -> None:
    kubectl.run("apply", "-n", namespace, "-f", str(INFRA))
    if example.startswith("08-"):
        kubectl.run("apply", "-n", namespace, "-f", str(EXAMPLES / JOB_TYPE_EXAMPLES[0]))
    kubectl.run("apply", "-n", namespace, "-f", str(EXAMPLES / example))

    for manifest in _pipelines(example):
        status = wait_phase(kubectl, namespace, manifest["metadata"]["name"], "Succeeded", 120)
        submitted = steps_by_name(status)
        for written in manifest["spec"]["steps"]:
            registered = _registered(batch, submitted[written["name"]]["jobId"])
            for name in JOB_PROPERTIES:
                if name in written:
                    assert registered[name] == written[name], name
                    assert "containerProperties" not in registered
            container = registered.get("containerProperties", {})
            for name in sorted(CONTAINER_PASSTHROUGH & written.keys()):
                assert container[name] == written[name], name
            if written.get("platform") == "FARGATE":
                assert registered["platformCapabilities"] == ["FARGATE"]
            expected_type = "multinode" if "nodeProperties" in written else "container"
            assert registered["type"] == expected_type


def test_overrides_of_an_existing_job_definition_reach_submit_job_as_written(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any
) -> None:
    registered = batch.register_job_definition(
        jobDefinitionName="etl-existing",
        type="container",
        containerProperties={
            "image": "busybox:latest",
            "command": ["echo", "as registered"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
    )
    overrides = {"command": ["echo", "overridden"], "environment": [{"name": "A", "value": "1"}]}
    kubectl.apply(
        pipeline(
            "overridden",
            [
                {
                    "name": "run",
                    "jobDefinition": registered["jobDefinitionArn"],
                    "containerOverrides": overrides,
                    "memory": 1024,
                }
            ],
        ),
        namespace,
    )
    status = wait_phase(kubectl, namespace, "overridden", "Succeeded")
    job = batch.describe_jobs(jobs=[steps_by_name(status)["run"]["jobId"]])["jobs"][0]
    assert job["container"]["command"] == ["echo", "overridden"]
    assert {"name": "A", "value": "1"} in job["container"]["environment"]
    # The short form (memory) joins the written overrides instead of replacing them.
    assert {"type": "MEMORY", "value": "1024"} in job["container"]["resourceRequirements"]


def test_a_step_mixing_job_types_is_refused_at_apply_and_nothing_is_registered(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any
) -> None:
    mixed = step(
        "mixed",
        nodeProperties={
            "numNodes": 2,
            "mainNode": 0,
            "nodeRangeProperties": [{"targetNodes": "0:", "container": {"image": "busybox"}}],
        },
    )
    result = kubectl.run(
        "apply", "-n", namespace, "-f", "-", input=pipeline("mixed", [mixed]), check=False
    )
    assert result.returncode != 0
    assert "describe their own containers" in result.stderr
    assert json.dumps(batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]) == "[]"
