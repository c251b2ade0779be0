"""Pure decisions for BatchConsumableResource: the create request and in-place updates.

Only the quantity changes in place (UpdateConsumableResource with operation SET); the
resourceType is fixed at creation, so a different one blocks until a human recreates the
resource. Fields the spec leaves unset are AWS's to choose and are not compared. Deletion is
plans/retirement.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batchops.model.consumable import ConsumableResourceSpec, ObservedConsumableResource
from batchops.plans.tags import TagChanges, diff_tags

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        CreateConsumableResourceRequestTypeDef,
        UpdateConsumableResourceRequestTypeDef,
    )


def desired_resource_request(
    spec: ConsumableResourceSpec, aws_name: str, tags: Mapping[str, str]
) -> CreateConsumableResourceRequestTypeDef:
    """CreateConsumableResource arguments; `tags` (the operator's) win over spec.tags."""
    request: CreateConsumableResourceRequestTypeDef = {"consumableResourceName": aws_name}
    if spec.total_quantity is not None:
        request["totalQuantity"] = spec.total_quantity
    if spec.resource_type is not None:
        request["resourceType"] = spec.resource_type.value
    all_tags = {**spec.tags, **tags}
    if all_tags:
        request["tags"] = all_tags
    return request


@dataclass(frozen=True)
class ResourceUpdatePlan:
    """How to bring one consumable resource to its spec."""

    request: UpdateConsumableResourceRequestTypeDef | None = None
    blocked: str | None = None
    tags: TagChanges = field(default_factory=TagChanges)
    drift: str = ""


def classify_resource_update(
    desired: ConsumableResourceSpec,
    observed: ObservedConsumableResource,
    *,
    operator_tags: Mapping[str, str] | None = None,
) -> ResourceUpdatePlan:
    """Compare the spec with AWS: SET the total quantity when it differs; a different
    resourceType is blocked (AWS can't change it)."""
    tags = diff_tags({**desired.tags, **(operator_tags or {})}, observed.tags)
    blocked = None
    if desired.resource_type is not None and desired.resource_type != observed.resource_type:
        have = observed.resource_type.value if observed.resource_type else "none"
        blocked = (
            f"resourceType can't change on an existing consumable resource (AWS has {have}, "
            f"the spec {desired.resource_type.value}); delete and recreate it"
        )
    wanted = desired.total_quantity
    if wanted is None or wanted == observed.total_quantity:
        return ResourceUpdatePlan(blocked=blocked, tags=tags)
    request: UpdateConsumableResourceRequestTypeDef = {
        "consumableResource": observed.arn,
        "operation": "SET",
        "quantity": wanted,
    }
    drift = f"totalQuantity {observed.total_quantity} -> {wanted}"
    return ResourceUpdatePlan(request=request, blocked=blocked, tags=tags, drift=drift)
