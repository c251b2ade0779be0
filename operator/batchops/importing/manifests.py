"""The objects an import produces, built from the model so both sources write the same spec.

An infrastructure object is first read into the operator's own spec model (`ComputeSpec`,
`QueueSpec`, `SchedulingPolicySpec`, `ConsumableResourceSpec`) and only then written out, so
the field names and shapes are the ones the operator parses; `adopt_ready` then removes what
would make an adopted resource look drifted or break the CRD's rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from batchops.importing.placeholders import Placeholder, find_placeholders
from batchops.model.common import RESERVED_TAG_PREFIX, frozen_map
from batchops.model.compute import ComputeResources, ComputeResourceType, ComputeSpec
from batchops.model.consumable import ConsumableResourceSpec
from batchops.model.queue import QueueSpec
from batchops.model.scheduling import SchedulingPolicySpec
from batchops.plans.compute_request import desired_create_request
from batchops.plans.compute_rules import is_service_linked_role
from batchops.plans.consumable import desired_resource_request
from batchops.plans.ownership import OWNER_TAG
from batchops.plans.scheduling import desired_policy_request

API_VERSION = "batchops.io/v1alpha1"
OPERATOR_TAG_PREFIX = "batchops.io/"
"""Tags the operator writes itself (ownership, content hashes): never part of a spec."""

Manifest = dict[str, Any]


@dataclass(frozen=True)
class ImportedObject:
    """One manifest of the output, where it came from, and what the import changed on the way."""

    manifest: Manifest
    source: str
    notes: tuple[str, ...] = ()
    part_sources: Mapping[str, str] = field(default_factory=dict)
    """Where parts of the object came from, by field path (a pipeline's steps: `spec.steps[0]`
    -> its job definition), so each placeholder names its own origin."""

    @property
    def placeholders(self) -> list[Placeholder]:
        """The values a human must fill in before applying."""
        return [
            dataclasses.replace(placeholder, source=self._source_of(placeholder.field))
            for placeholder in find_placeholders(self.manifest, self.source)
        ]

    def _source_of(self, path: str) -> str:
        for prefix, source in self.part_sources.items():
            if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
                return source
        return self.source


@dataclass(frozen=True)
class ImportResult:
    """What an import found: objects to apply, and a pipeline skeleton to review first."""

    objects: tuple[ImportedObject, ...]
    pipeline: ImportedObject | None = None
    """A BatchPipeline over the job definitions. It is one run, so applying it would submit
    jobs: `render` writes it commented out."""
    warnings: tuple[str, ...] = ()
    """What was not imported, or only partly (a module, the instances of an unknown count):
    a human must look, even when no placeholder is left."""

    @property
    def needs_review(self) -> bool:
        """True when placeholders remain or something was not imported."""
        return bool(self.warnings or self.placeholders)

    @property
    def placeholders(self) -> list[Placeholder]:
        """Every placeholder of the objects and the pipeline skeleton."""
        found = [p for obj in self.objects for p in obj.placeholders]
        return found + (self.pipeline.placeholders if self.pipeline else [])

    @property
    def notes(self) -> list[str]:
        """Every note, prefixed with the object it is about."""
        entries = [*self.objects, *([self.pipeline] if self.pipeline else [])]
        return [f"{obj.source}: {note}" for obj in entries for note in obj.notes]


def adopt_ready(spec: ComputeSpec) -> tuple[ComputeSpec, tuple[str, ...]]:
    """The spec without what an adopted compute environment must not carry, and notes on what
    was removed. desiredvCpus goes silently: it is the scaling state AWS moves by itself, and
    pinning it would make every drift check fight the scaler."""
    notes: list[str] = []
    tags = _user_tags(spec.tags, "tags", notes)
    service_role = None if is_service_linked_role(spec.service_role) else spec.service_role
    resources = spec.compute_resources
    if resources is not None:
        resources = _adopt_ready_resources(resources, notes)
    return (
        dataclasses.replace(
            spec, tags=tags, service_role=service_role, compute_resources=resources
        ),
        tuple(notes),
    )


def _adopt_ready_resources(cr: ComputeResources, notes: list[str]) -> ComputeResources:
    if cr.type.is_fargate:
        # AWS may report EC2-only fields (empty) on Fargate; the CRD forbids them there.
        return ComputeResources(
            type=cr.type,
            max_vcpus=cr.max_vcpus,
            subnets=cr.subnets,
            security_group_ids=cr.security_group_ids,
        )
    spot = cr.type is ComputeResourceType.SPOT
    for value, label in (
        (cr.spot_iam_fleet_role, "spotIamFleetRole"),
        (cr.bid_percentage, "bidPercentage"),
    ):
        if value is not None and not spot:
            # AWS accepts and ignores them on EC2; the CRD rejects them.
            notes.append(f"{label} left out: it applies only to SPOT compute resources")
    tags = _user_tags(cr.tags, "computeResources.tags", notes) if cr.tags else None
    return dataclasses.replace(
        cr,
        desired_vcpus=None,
        tags=tags or None,
        spot_iam_fleet_role=cr.spot_iam_fleet_role if spot else None,
        bid_percentage=cr.bid_percentage if spot else None,
    )


def _user_tags(tags: Mapping[str, str] | None, where: str, notes: list[str]) -> Mapping[str, str]:
    kept = {}
    for key, value in (tags or {}).items():
        if key == OWNER_TAG:
            # Adopting it again (from another namespace, say) would make two objects fight.
            notes.append(f"already managed by batchops object {value}: import it only once")
        elif key.lower().startswith(RESERVED_TAG_PREFIX) or key.startswith(OPERATOR_TAG_PREFIX):
            notes.append(f"{where}: tag {key!r} left out (set by AWS or by batchops)")
        else:
            kept[key] = value
    return frozen_map(kept)


def compute_environment_object(
    object_name: str, spec: ComputeSpec, source: str, namespace: str | None
) -> ImportedObject:
    """A BatchComputeEnvironment adopting the compute environment `spec.name`."""
    spec, notes = adopt_ready(spec)
    body: Manifest = {"name": spec.name, "adopt": True}
    if spec.region:
        body["region"] = spec.region
    body["type"] = spec.type.value
    body["state"] = spec.state.value
    if spec.service_role:
        body["serviceRole"] = spec.service_role
    # The spec mirrors the CreateComputeEnvironment request field for field: the planner's own
    # writer is the one place that knows it.
    request = desired_create_request(spec, spec.name or "", {})
    if spec.compute_resources is not None:
        body["computeResources"] = dict(request["computeResources"])
    for key in ("unmanagedvCpus", "eksConfiguration", "ecsSettings"):
        if key in request:
            body[key] = request[key]
    if spec.update_policy is not None:
        policy = {
            "terminateJobsOnUpdate": spec.update_policy.terminate_jobs_on_update,
            "jobExecutionTimeoutMinutes": spec.update_policy.job_execution_timeout_minutes,
        }
        body["updatePolicy"] = {k: v for k, v in policy.items() if v is not None}
    if spec.tags:
        body["tags"] = dict(spec.tags)
    return ImportedObject(
        _manifest("BatchComputeEnvironment", object_name, namespace, body), source, notes
    )


def job_queue_object(
    object_name: str, spec: QueueSpec, source: str, namespace: str | None
) -> ImportedObject:
    """A BatchJobQueue adopting the job queue `spec.name`."""
    notes: list[str] = []
    body: Manifest = {"name": spec.name, "adopt": True}
    if spec.region:
        body["region"] = spec.region
    body["state"] = spec.state.value
    body["priority"] = spec.priority
    body["computeEnvironments"] = [
        {"ref": entry.ref, "order": entry.order}
        if entry.ref is not None
        else {"arn": entry.arn, "order": entry.order}
        for entry in spec.compute_environments
    ]
    if spec.scheduling_policy_ref:
        # An imported policy is named by object, so the queue waits for it to be adopted.
        body["schedulingPolicy"] = {"ref": spec.scheduling_policy_ref}
    elif spec.scheduling_policy_arn:
        body["schedulingPolicyArn"] = spec.scheduling_policy_arn
    if spec.job_queue_type is not None:
        body["jobQueueType"] = spec.job_queue_type
    if spec.job_state_time_limit_actions:
        body["jobStateTimeLimitActions"] = [
            {
                "reason": action.reason,
                "maxTimeSeconds": action.max_time_seconds,
                "state": action.state,
                "action": action.action,
            }
            for action in spec.job_state_time_limit_actions
        ]
    tags = _user_tags(spec.tags, "tags", notes)
    if tags:
        body["tags"] = dict(tags)
    return ImportedObject(
        _manifest("BatchJobQueue", object_name, namespace, body), source, tuple(notes)
    )


def scheduling_policy_object(
    object_name: str, spec: SchedulingPolicySpec, source: str, namespace: str | None
) -> ImportedObject:
    """A BatchSchedulingPolicy adopting the scheduling policy `spec.name`."""
    notes: list[str] = []
    body: Manifest = {"name": spec.name, "adopt": True}
    if spec.region:
        body["region"] = spec.region
    # fairsharePolicy is the CreateSchedulingPolicy member as the planner writes it.
    request = desired_policy_request(spec, spec.name or "", {})
    if "fairsharePolicy" in request:
        body["fairsharePolicy"] = dict(request["fairsharePolicy"])
    tags = _user_tags(spec.tags, "tags", notes)
    if tags:
        body["tags"] = dict(tags)
    return ImportedObject(
        _manifest("BatchSchedulingPolicy", object_name, namespace, body), source, tuple(notes)
    )


def consumable_resource_object(
    object_name: str, spec: ConsumableResourceSpec, source: str, namespace: str | None
) -> ImportedObject:
    """A BatchConsumableResource adopting the consumable resource `spec.name`."""
    notes: list[str] = []
    body: Manifest = {"name": spec.name, "adopt": True}
    if spec.region:
        body["region"] = spec.region
    request = desired_resource_request(spec, spec.name or "", {})
    for key in ("resourceType", "totalQuantity"):
        if key in request:
            body[key] = request[key]
    tags = _user_tags(spec.tags, "tags", notes)
    if tags:
        body["tags"] = dict(tags)
    return ImportedObject(
        _manifest("BatchConsumableResource", object_name, namespace, body), source, tuple(notes)
    )


def pipeline_object(
    name: str,
    queue: str,
    steps: Sequence[Mapping[str, object]],
    source: str,
    namespace: str | None,
    notes: Sequence[str] = (),
    step_sources: Sequence[str] = (),
) -> ImportedObject:
    """A BatchPipeline skeleton running every imported job definition once, on `queue`;
    `step_sources[i]` says where step i came from."""
    body: Manifest = {"queue": queue, "steps": [dict(step) for step in steps]}
    return ImportedObject(
        _manifest("BatchPipeline", name, namespace, body),
        source,
        tuple(notes),
        {f"spec.steps[{index}]": origin for index, origin in enumerate(step_sources)},
    )


def _manifest(kind: str, name: str, namespace: str | None, spec: Manifest) -> Manifest:
    metadata: Manifest = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def with_account_ref(result: ImportResult, account: str) -> ImportResult:
    """Every imported object (and the pipeline skeleton) acting in BatchAccount `account`:
    `spec.accountRef` set, so the operator adopts the resources in that account."""

    def placed(obj: ImportedObject) -> ImportedObject:
        manifest = {**obj.manifest, "spec": {**obj.manifest.get("spec", {}), "accountRef": account}}
        return dataclasses.replace(obj, manifest=manifest)

    return dataclasses.replace(
        result,
        objects=tuple(placed(obj) for obj in result.objects),
        pipeline=placed(result.pipeline) if result.pipeline is not None else None,
    )
