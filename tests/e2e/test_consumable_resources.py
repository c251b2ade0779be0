"""BatchConsumableResource through kubectl: created, its quantity changed in place, its type
fixed, and deleted with the object; and claimed by a pipeline's steps, which Batch then runs no
more at once than the resource allows."""

from __future__ import annotations

import json
from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, example, wait_condition
from tests.e2e.builders import jobs_named, wait_phase
from tests.e2e.test_infrastructure import status_of
from tests.waits import wait_for


def described(batch: Any, arn: str) -> dict[str, Any] | None:
    try:
        return dict(batch.describe_consumable_resource(consumableResource=arn))
    except batch.exceptions.ClientException:
        return None


def test_a_consumable_resource_is_created_resized_in_place_and_deleted_with_its_object(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any
) -> None:
    kubectl.apply(example("06-consumable-resource.yaml"), namespace)
    wait_condition(kubectl, "bcr/licenses", namespace, "Ready")
    status = status_of(kubectl, "bcr/licenses", namespace)
    arn = status["arn"]
    resource = described(batch, arn)
    assert resource is not None
    assert resource["totalQuantity"] == 10 and resource["resourceType"] == "REPLENISHABLE"
    assert resource["tags"]["batchops.io/owner"] == f"{namespace}/licenses"
    assert status["availableQuantity"] == 10

    kubectl.run(
        "patch", "bcr/licenses", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"totalQuantity": 15}}),
    )  # fmt: skip
    wait_for(
        lambda: (described(batch, arn) or {}).get("totalQuantity") == 15,
        timeout=60,
        message="the new quantity in AWS",
    )
    wait_for(
        lambda: status_of(kubectl, "bcr/licenses", namespace).get("totalQuantity") == 15,
        timeout=60,
        message="the new quantity in status",
    )

    # AWS fixes the type at creation; the API server says so at apply time.
    refused = kubectl.run(
        "patch", "bcr/licenses", "-n", namespace, "--type=merge",
        "-p", json.dumps({"spec": {"resourceType": "NON_REPLENISHABLE"}}), check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "resourceType is fixed when the resource is created" in refused.stderr

    kubectl.run("delete", "bcr/licenses", "-n", namespace, "--timeout=60s")
    assert described(batch, arn) is None


def most_at_once(jobs: list[dict[str, Any]]) -> int:
    """The most jobs that ran at the same time, from Batch's own start and stop times."""
    edges = sorted(
        [(job["startedAt"], 1) for job in jobs] + [(job["stoppedAt"], -1) for job in jobs],
        key=lambda edge: (edge[0], edge[1]),  # a stop before a start at the same instant
    )
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def test_two_licence_seats_let_a_ten_job_fan_out_run_two_at_a_time(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess, batch: Any, emulator: Emulator
) -> None:
    emulator.set_scenario(rules=[{"jobName": "render-*", "durationSeconds": 2, "exitCode": 0}])
    # Applied together: the pipeline waits for the resource to exist before it submits.
    kubectl.apply(example("11-licensed-fan-out.yaml"), namespace)

    wait_condition(kubectl, "bcr/render-seats", namespace, "Ready")
    seats_arn = status_of(kubectl, "bcr/render-seats", namespace)["arn"]

    def in_use() -> bool:
        return (described(batch, seats_arn) or {}).get("inUseQuantity") == 2

    wait_for(in_use, timeout=90, message="both seats in use while the fan-out runs")
    held = [job for job in jobs_named(batch, "render-") if job["status"] == "RUNNABLE"]
    assert held, "the jobs beyond the two seats wait RUNNABLE"
    wait_phase(kubectl, namespace, "render", "Succeeded", timeout=120)

    ids = [job["jobId"] for job in jobs_named(batch, "render-")]
    finished = batch.describe_jobs(jobs=ids)["jobs"]
    assert len(finished) == 10
    assert all(
        job["consumableResourceProperties"]["consumableResourceList"]
        == [{"consumableResource": seats_arn, "quantity": 1}]
        for job in finished
    )
    assert most_at_once(finished) == 2
    # The object shows the quantities AWS reports (refreshed by its own loop).
    shown = status_of(kubectl, "bcr/render-seats", namespace)
    assert (shown["totalQuantity"], shown["inUseQuantity"] + shown["availableQuantity"]) == (2, 2)
