"""BatchConsumableResource as a managed kind: a quantity jobs claim, changed in place.

Everything generic (observe, create, ownership, updates, deletion) is the managed loop's
(reconcile/managed.py); this module translates between plans/consumable.py and the AWS layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.kube.client import CONSUMABLE_RESOURCE
from batchops.model.account import Target
from batchops.model.consumable import (
    ConsumableResourceSpec,
    ObservedConsumableResource,
    parse_consumable_resource_spec,
)
from batchops.plans import consumable as plan
from batchops.reconcile.common import Tenancy, Timing
from batchops.reconcile.managed import ManagedKind, ManagedReconciler, Update


class ConsumableResources(
    ManagedKind[ConsumableResourceSpec, ObservedConsumableResource, ConsumableResourceSpec]
):
    """CreateConsumableResource / UpdateConsumableResource / DeleteConsumableResource."""

    kind = CONSUMABLE_RESOURCE
    noun = "consumable resource"

    def parse(self, raw: Mapping[str, Any]) -> ConsumableResourceSpec:
        return parse_consumable_resource_spec(raw)

    def describe(self, api: BatchApi, name: str) -> ObservedConsumableResource | None:
        described = api.describe_consumable_resource(name)
        return ObservedConsumableResource.from_describe(described) if described else None

    def create(
        self, api: BatchApi, desired: ConsumableResourceSpec, name: str, tags: Mapping[str, str]
    ) -> None:
        api.create_consumable_resource(plan.desired_resource_request(desired, name, tags))

    def plan_update(
        self,
        desired: ConsumableResourceSpec,
        observed: ObservedConsumableResource,
        tags: Mapping[str, str],
    ) -> Update:
        update = plan.classify_resource_update(desired, observed, operator_tags=tags)
        return Update(
            tags=update.tags, request=update.request, drift=update.drift, blocked=update.blocked
        )

    def update(self, api: BatchApi, request: object) -> None:
        api.update_consumable_resource(request)  # type: ignore[arg-type]  # from plan_update

    def observe_into(self, status: dict[str, Any], observed: ObservedConsumableResource) -> None:
        super().observe_into(status, observed)
        status.update(
            totalQuantity=observed.total_quantity,
            inUseQuantity=observed.in_use_quantity,
            availableQuantity=observed.available_quantity,
        )

    def ready_message(self, observed: ObservedConsumableResource) -> str:
        return (
            f"{observed.name} exists in AWS with {observed.available_quantity} of "
            f"{observed.total_quantity} available"
        )

    def delete(self, api: BatchApi, observed: ObservedConsumableResource) -> None:
        api.delete_consumable_resource(observed.arn)


def consumable_resource_reconciler(
    api_for: Callable[[Target], BatchApi], timing: Timing, tenancy: Tenancy
) -> ManagedReconciler[ConsumableResourceSpec, ObservedConsumableResource, ConsumableResourceSpec]:
    """The managed loop over BatchConsumableResources."""
    return ManagedReconciler(ConsumableResources(), api_for, timing, tenancy)
