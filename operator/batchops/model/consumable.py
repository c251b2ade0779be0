"""BatchConsumableResource: the spec as the user wrote it, and the resource AWS reports.

A consumable resource (licence seats, database connections) has a quantity that jobs claim; it
has no state or status in AWS. Like a scheduling policy, the observed resource is VALID and has no
state, so the managed loop reads it as usable and deletes it without disabling it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from batchops.model.common import (
    DeletionPolicy,
    FieldReader,
    ResourceState,
    empty_map,
    frozen_map,
    read_managed_fields,
)
from batchops.model.compute import BatchStatus

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import DescribeConsumableResourceResponseTypeDef


class ConsumableResourceType(StrEnum):
    """Whether a job gives its quantity back when it ends (botocore's model: REPLENISHABLE is
    AWS's default)."""

    REPLENISHABLE = "REPLENISHABLE"
    NON_REPLENISHABLE = "NON_REPLENISHABLE"


@dataclass(frozen=True)
class ConsumableResourceSpec:
    """The spec of a BatchConsumableResource, parsed once at the handler boundary."""

    total_quantity: int | None = None
    resource_type: ConsumableResourceType | None = None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    name: str | None = None
    region: str | None = None
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE
    adopt: bool = False
    account_ref: str | None = None
    """spec.accountRef: the BatchAccount to act in (None: the namespace's default)."""


@dataclass(frozen=True)
class ObservedConsumableResource:
    """DescribeConsumableResource, reduced to what the plans compare and status shows."""

    name: str
    arn: str
    total_quantity: int | None
    in_use_quantity: int | None
    available_quantity: int | None
    resource_type: ConsumableResourceType | None
    tags: Mapping[str, str] = field(default_factory=empty_map)
    state: ResourceState | None = None
    """None: no state in AWS, so retirement disables nothing before deleting."""
    status: BatchStatus = BatchStatus.VALID
    """No status in AWS; a resource AWS describes is usable."""
    status_reason: str | None = None

    @classmethod
    def from_describe(
        cls, d: DescribeConsumableResourceResponseTypeDef
    ) -> ObservedConsumableResource:
        """Read a DescribeConsumableResource response as boto3 returns it."""
        kind = d.get("resourceType")
        return cls(
            name=d["consumableResourceName"],
            arn=d["consumableResourceArn"],
            total_quantity=d.get("totalQuantity"),
            in_use_quantity=d.get("inUseQuantity"),
            available_quantity=d.get("availableQuantity"),
            resource_type=ConsumableResourceType(kind) if kind else None,
            tags=frozen_map(d.get("tags")),
        )


def parse_consumable_resource_spec(raw: Mapping[str, object]) -> ConsumableResourceSpec:
    """Parse `spec` of a BatchConsumableResource; raises SpecError naming the bad field."""
    spec = FieldReader(raw, "spec")
    quantity = spec.opt_int("totalQuantity")
    if quantity is not None and quantity < 0:
        raise spec.fail("totalQuantity", "must not be negative")
    kind = spec.opt_enum("resourceType", list(ConsumableResourceType))
    return ConsumableResourceSpec(
        total_quantity=quantity,
        resource_type=ConsumableResourceType(kind) if kind else None,
        **read_managed_fields(spec),
    )
