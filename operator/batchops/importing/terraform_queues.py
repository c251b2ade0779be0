"""Terraform `aws_batch_job_queue` instances -> BatchJobQueue manifests.

A queue names its compute environments and its scheduling policy by ARN in Terraform; one that
the same import brings in (by address in `.tf` files, by ARN or name in a state) becomes a
`ref:` to its object, so the queue follows a compute environment through a blue/green
replacement and waits for its policy to be adopted. Any other stays an ARN, a placeholder ARN
when only Terraform knows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from batchops.importing.expression_values import Unknown, text_of
from batchops.importing.hcl import blocks_of
from batchops.importing.manifests import ImportedObject, job_queue_object
from batchops.importing.placeholders import MARK, placeholder_arn, placeholder_batch_name
from batchops.importing.terraform_attributes import AttributeReader, patched, unmapped
from batchops.importing.terraform_instances import (
    COMPUTE_ENVIRONMENT,
    SCHEDULING_POLICY,
    ResourceInstance,
)
from batchops.model.common import ResourceState, frozen_map
from batchops.model.queue import ComputeEnvironmentEntry, JobStateTimeLimitAction, QueueSpec


def _reference(resource_type: str, attributes: str) -> re.Pattern[str]:
    """`[module.<name>[key].]<resource_type>.<label>[key].<attribute>`, the address captured."""
    return re.compile(
        rf"^(?P<address>(module\.[\w-]+(\[[^\]]*\])?\.)?{resource_type}\.[\w-]+(\[[^\]]*\])?)"
        rf"\.({attributes})$"
    )


_CE_REFERENCE = _reference(COMPUTE_ENVIRONMENT, "arn|id|name|compute_environment_name")
# A scheduling policy's id is its ARN too.
_POLICY_REFERENCE = _reference(SCHEDULING_POLICY, "arn|id")
_CE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:compute-environment/[\w-]+$")
# Attributes the queue maps; others are reported in the notes.
_QUEUE_ATTRIBUTES = frozenset(
    {
        "name",
        "state",
        "priority",
        "compute_environments",
        "compute_environment_order",
        "scheduling_policy_arn",
        "job_state_time_limit_action",
        "tags",
        "lifecycle",
        "depends_on",
        "timeouts",
    }
)


@dataclass(frozen=True)
class ImportedNames:
    """The object names of the imported resources of one type, by what a queue may name them
    with: their Terraform address, AWS name or ARN."""

    by_address: Mapping[str, str]
    by_aws_name: Mapping[str, str]
    by_arn: Mapping[str, str]

    @classmethod
    def of(
        cls, instances: Sequence[ResourceInstance], objects: Sequence[ImportedObject]
    ) -> ImportedNames:
        """The names of `objects`, each imported from the instance at the same position."""
        pairs = list(zip(instances, objects, strict=True))
        return cls(
            {i.resource.address: o.manifest["metadata"]["name"] for i, o in pairs},
            {str(o.manifest["spec"]["name"]): o.manifest["metadata"]["name"] for _, o in pairs},
            {i.arn: o.manifest["metadata"]["name"] for i, o in pairs if i.arn},
        )


def job_queue(
    instance: ResourceInstance,
    object_name: str,
    ce_names: ImportedNames,
    policy_names: ImportedNames,
    region: str | None,
    namespace: str | None,
) -> ImportedObject:
    """A BatchJobQueue adopting the job queue the instance declares."""
    body, read = instance.body, AttributeReader(instance, region)
    order_blocks = blocks_of(body, "compute_environment_order")
    pairs: list[tuple[int, object]]
    if order_blocks:
        pairs = [
            (index, entry.get("compute_environment")) for index, entry in enumerate(order_blocks)
        ]
        orders = [entry.get("order") for entry in order_blocks]
        pairs = [
            (order if isinstance(order, int) and not isinstance(order, bool) else index, value)
            for (index, value), order in zip(pairs, orders, strict=True)
        ]
    else:
        # The deprecated list form: the provider numbers the entries from 0 in list order.
        listed = body.get("compute_environments") or []
        pairs = list(enumerate(listed if isinstance(listed, list) else [listed]))
    actions = blocks_of(body, "job_state_time_limit_action")
    policy_ref, policy_arn = _scheduling_policy(
        body.get("scheduling_policy_arn"), policy_names, read
    )
    spec = QueueSpec(
        priority=read.integer(body, "priority", "spec.priority") or 0,
        compute_environments=tuple(
            _compute_environment_entry(order, value, ce_names, read) for order, value in pairs
        ),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED", "spec.state"),
        scheduling_policy_arn=policy_arn,
        scheduling_policy_ref=policy_ref,
        job_state_time_limit_actions=tuple(
            JobStateTimeLimitAction(
                reason=read.text(a.get("reason")) or "",
                max_time_seconds=read.integer(a, "max_time_seconds", "-") or 0,
                state=text_of(a.get("state", "RUNNABLE")).upper(),
                action=text_of(a.get("action", "CANCEL")).upper(),
            )
            for a in actions
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        name=read.batch_name(body.get("name")) or placeholder_batch_name(instance.base),
        region=region,
        adopt=True,
    )
    imported = job_queue_object(object_name, spec, instance.resource.source, namespace)
    return patched(imported, read, unmapped(body, _QUEUE_ATTRIBUTES))


def _compute_environment_entry(
    order: int, value: object, ce_names: ImportedNames, read: AttributeReader
) -> ComputeEnvironmentEntry:
    if isinstance(value, Unknown):
        match = _CE_REFERENCE.match(value.expression)
        if match and match["address"] in ce_names.by_address:
            return ComputeEnvironmentEntry(order=order, ref=ce_names.by_address[match["address"]])
        return ComputeEnvironmentEntry(
            order=order, arn=placeholder_arn("compute-environment", value.expression, read.region)
        )
    text = read.text(value) or ""
    if text in ce_names.by_arn:
        return ComputeEnvironmentEntry(order=order, ref=ce_names.by_arn[text])
    if _CE_ARN.match(text):
        return ComputeEnvironmentEntry(order=order, arn=text)
    if text in ce_names.by_aws_name:
        return ComputeEnvironmentEntry(order=order, ref=ce_names.by_aws_name[text])
    return ComputeEnvironmentEntry(
        order=order, arn=placeholder_arn("compute-environment", text, read.region)
    )


def _scheduling_policy(
    value: object, policy_names: ImportedNames, read: AttributeReader
) -> tuple[str | None, str | None]:
    """(ref, ARN) of the queue's scheduling policy: a ref when the import brings it in."""
    if isinstance(value, Unknown):
        match = _POLICY_REFERENCE.match(value.expression)
        if match and match["address"] in policy_names.by_address:
            return policy_names.by_address[match["address"]], None
        return None, placeholder_arn("scheduling-policy", value.expression, read.region)
    text = read.text(value)
    if not text:
        return None, None
    if text in policy_names.by_arn:
        return policy_names.by_arn[text], None
    if MARK in text:
        return None, placeholder_arn("scheduling-policy", text.replace(MARK, ""), read.region)
    return None, text
