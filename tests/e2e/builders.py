"""Manifests, status readers and the metrics scrape the end-to-end tests share."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl
from tests.waits import wait_for


def pipeline(name: str, steps: list[dict[str, Any]], **spec: Any) -> str:
    body = {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchPipeline",
        "metadata": {"name": name},
        "spec": {"queue": "q", "image": "busybox:latest", "steps": steps, **spec},
    }
    return json.dumps(body)


def step(name: str, *depends_on: str, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "command": ["echo", name], "vcpus": 1, "memory": 512}
    if depends_on:
        entry["dependsOn"] = list(depends_on)
    entry.update(fields)
    return entry


def pipeline_status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return dict(kubectl.get_json(f"bpl/{name}", "-n", namespace).get("status") or {})


def wait_phase(
    kubectl: Kubectl, namespace: str, name: str, phase: str, timeout: float = 60
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = pipeline_status(kubectl, namespace, name)
        return status if status.get("phase") == phase else None

    try:
        return wait_for(reached, timeout=timeout, message=f"{name} to be {phase}")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\nstatus: {json.dumps(pipeline_status(kubectl, namespace, name), indent=1)}"
        ) from None


def steps_by_name(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in status.get("steps", [])}


def jobs_named(batch: Any, prefix: str) -> list[dict[str, Any]]:
    """Every job in the account whose name starts with `prefix` (any queue, any status)."""
    found: list[dict[str, Any]] = []
    for queue in batch.describe_job_queues()["jobQueues"]:
        paginator = batch.get_paginator("list_jobs")
        for page in paginator.paginate(
            jobQueue=queue["jobQueueArn"], filters=[{"name": "JOB_NAME", "values": [f"{prefix}*"]}]
        ):
            found += page["jobSummaryList"]
    return found


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(operator: OperatorProcess) -> Samples:
    """Every sample on /metrics, keyed by (sample name, sorted labels)."""
    assert operator.metrics_url is not None
    with urllib.request.urlopen(operator.metrics_url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the operator has not reported it)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
