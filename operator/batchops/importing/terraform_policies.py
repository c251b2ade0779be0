"""Terraform `aws_batch_scheduling_policy` and `aws_batch_consumable_resource` instances ->
BatchSchedulingPolicy and BatchConsumableResource manifests.

Both kinds are small and read the same way (a name, a few numbers, tags), so they share this
module. The provider's shapes (registry docs of the two resources): a scheduling policy has a
`fair_share_policy` block with `compute_reservation`, `share_decay_seconds` and repeated
`share_distribution { share_identifier, weight_factor }` blocks; a consumable resource has
`resource_type`, `total_quantity`. terraform-aws-modules/batch creates one scheduling policy per
job queue (`batch_module`), which arrives here as an ordinary instance.
"""

from __future__ import annotations

from batchops.importing.hcl import block, blocks_of
from batchops.importing.manifests import (
    ImportedObject,
    consumable_resource_object,
    scheduling_policy_object,
)
from batchops.importing.placeholders import placeholder_batch_name
from batchops.importing.terraform_attributes import AttributeReader, patched, unmapped
from batchops.importing.terraform_instances import ResourceInstance
from batchops.model.common import frozen_map
from batchops.model.consumable import ConsumableResourceSpec, ConsumableResourceType
from batchops.model.scheduling import FairsharePolicy, SchedulingPolicySpec, ShareAttributes

# Attributes each resource maps; others are reported in the notes.
_POLICY_ATTRIBUTES = frozenset({"name", "fair_share_policy", "tags", "lifecycle", "depends_on"})
_FAIR_SHARE_ATTRIBUTES = frozenset(
    {"compute_reservation", "share_decay_seconds", "share_distribution"}
)
_RESOURCE_ATTRIBUTES = frozenset(
    {"name", "resource_type", "total_quantity", "tags", "lifecycle", "depends_on"}
)


def scheduling_policy(
    instance: ResourceInstance, object_name: str, region: str | None, namespace: str | None
) -> ImportedObject:
    """A BatchSchedulingPolicy adopting the scheduling policy the instance declares."""
    body, read = instance.body, AttributeReader(instance, region)
    notes = unmapped(body, _POLICY_ATTRIBUTES)
    fair_share = block(body, "fair_share_policy")
    policy = None
    if fair_share is not None:
        notes += unmapped(fair_share, _FAIR_SHARE_ATTRIBUTES, "fair_share_policy.")
        at = "spec.fairsharePolicy."
        policy = FairsharePolicy(
            share_decay_seconds=read.integer(
                fair_share, "share_decay_seconds", at + "shareDecaySeconds"
            ),
            compute_reservation=read.integer(
                fair_share, "compute_reservation", at + "computeReservation"
            ),
            share_distribution=tuple(
                ShareAttributes(
                    read.text(share.get("share_identifier")) or "",
                    read.number(share, "weight_factor", f"{at}shareDistribution[{i}].weightFactor"),
                )
                for i, share in enumerate(blocks_of(fair_share, "share_distribution"))
            ),
        )
        # terraform-aws-modules/batch always writes the block, empty when the queue gives no
        # fair_share_policy: nothing set means AWS's defaults, which the spec leaves unset.
        policy = None if policy == FairsharePolicy() else policy
    spec = SchedulingPolicySpec(
        fairshare_policy=policy,
        tags=read.tags(body.get("tags")) or frozen_map(None),
        name=read.batch_name(body.get("name")) or placeholder_batch_name(instance.base),
        region=region,
        adopt=True,
    )
    imported = scheduling_policy_object(object_name, spec, instance.resource.source, namespace)
    return patched(imported, read, notes)


def consumable_resource(
    instance: ResourceInstance, object_name: str, region: str | None, namespace: str | None
) -> ImportedObject:
    """A BatchConsumableResource adopting the consumable resource the instance declares."""
    body, read = instance.body, AttributeReader(instance, region)
    kind = body.get("resource_type")
    spec = ConsumableResourceSpec(
        total_quantity=read.integer(body, "total_quantity", "spec.totalQuantity"),
        resource_type=(
            read.choice(
                kind, "resource_type", ConsumableResourceType, "REPLENISHABLE", "spec.resourceType"
            )
            if kind is not None
            else None
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        name=read.batch_name(body.get("name")) or placeholder_batch_name(instance.base),
        region=region,
        adopt=True,
    )
    imported = consumable_resource_object(object_name, spec, instance.resource.source, namespace)
    return patched(imported, read, unmapped(body, _RESOURCE_ATTRIBUTES))
