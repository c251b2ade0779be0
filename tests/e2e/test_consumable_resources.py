"""BatchConsumableResource through kubectl: created, its quantity changed in place, its type
fixed, and deleted with the object."""

from __future__ import annotations

import json
from typing import Any

from batchops.local.stack import OperatorProcess
from tests.conftest import Kubectl, example, wait_condition
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
