"""BatchConsumableResource decisions: the create request and what changes in place."""

from __future__ import annotations

import pytest

from batchops.model.common import SpecError
from batchops.model.consumable import (
    ConsumableResourceType,
    ObservedConsumableResource,
    parse_consumable_resource_spec,
)
from batchops.plans.consumable import classify_resource_update, desired_resource_request

ARN = "arn:aws:batch:us-east-1:123456789012:consumable-resource/licenses"


def observed(total: int = 10, kind: str = "REPLENISHABLE") -> ObservedConsumableResource:
    return ObservedConsumableResource(
        name="licenses",
        arn=ARN,
        total_quantity=total,
        in_use_quantity=0,
        available_quantity=total,
        resource_type=ConsumableResourceType(kind),
    )


def test_the_create_request_mirrors_the_spec() -> None:
    spec = parse_consumable_resource_spec({"totalQuantity": 10, "resourceType": "REPLENISHABLE"})
    request = desired_resource_request(spec, "ns-licenses", {"batchops.io/owner": "ns/licenses"})
    assert request == {
        "consumableResourceName": "ns-licenses",
        "totalQuantity": 10,
        "resourceType": "REPLENISHABLE",
        "tags": {"batchops.io/owner": "ns/licenses"},
    }


def test_a_new_total_is_set_in_place() -> None:
    plan = classify_resource_update(
        parse_consumable_resource_spec({"totalQuantity": 12}), observed()
    )
    assert plan.request == {"consumableResource": ARN, "operation": "SET", "quantity": 12}
    assert plan.blocked is None and plan.drift == "totalQuantity 10 -> 12"


def test_a_matching_resource_needs_nothing() -> None:
    spec = parse_consumable_resource_spec({"totalQuantity": 10})
    assert classify_resource_update(spec, observed()).request is None


def test_another_resource_type_is_blocked_not_applied() -> None:
    spec = parse_consumable_resource_spec({"resourceType": "NON_REPLENISHABLE"})
    plan = classify_resource_update(spec, observed())
    assert plan.request is None
    assert plan.blocked is not None and "delete and recreate" in plan.blocked


def test_a_negative_total_is_refused() -> None:
    with pytest.raises(SpecError, match="must not be negative"):
        parse_consumable_resource_spec({"totalQuantity": -1})
