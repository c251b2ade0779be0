"""AWS Describe* output -> manifests adopting what is there.

Every kind is read with the operator's own observer (`ObservedComputeEnvironment.from_describe`,
`ObservedJobQueue.from_describe`, `ObservedSchedulingPolicy.from_describe`,
`ObservedConsumableResource.from_describe`), so a field is mapped back exactly the way the drift
check will compare it after adoption. A queue whose scheduling policy is imported alongside
names it by `ref:`, like its compute environments, and so does a step claiming an imported
consumable resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchops.importing.manifests import (
    ImportedObject,
    ImportResult,
    compute_environment_object,
    consumable_resource_object,
    job_queue_object,
    scheduling_policy_object,
)
from batchops.importing.names import object_names
from batchops.importing.steps import JobDefinitionSource, pipeline_from_job_definitions
from batchops.model.compute import (
    BatchStatus,
    ComputeSpec,
    ObservedComputeEnvironment,
)
from batchops.model.consumable import ConsumableResourceSpec, ObservedConsumableResource
from batchops.model.queue import ComputeEnvironmentEntry, ObservedJobQueue, QueueSpec
from batchops.model.scheduling import ObservedSchedulingPolicy, SchedulingPolicySpec

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        DescribeConsumableResourceResponseTypeDef,
        JobDefinitionTypeDef,
        JobQueueDetailTypeDef,
        SchedulingPolicyDetailTypeDef,
    )

_GONE = (BatchStatus.DELETING, BatchStatus.DELETED)


def import_from_aws(
    compute_environments: Sequence[ComputeEnvironmentDetailTypeDef],
    job_queues: Sequence[JobQueueDetailTypeDef],
    job_definitions: Sequence[JobDefinitionTypeDef],
    *,
    region: str,
    scheduling_policies: Sequence[SchedulingPolicyDetailTypeDef] = (),
    consumable_resources: Sequence[DescribeConsumableResourceResponseTypeDef] = (),
    namespace: str | None = None,
    name_prefix: str = "",
) -> ImportResult:
    """Manifests for every compute environment, scheduling policy, queue, consumable resource
    and (latest ACTIVE revision of each) job definition whose AWS name starts with
    `name_prefix`; resources being deleted are skipped."""
    environments = sorted(
        (
            ObservedComputeEnvironment.from_describe(d)
            for d in compute_environments
            if d["computeEnvironmentName"].startswith(name_prefix)
        ),
        key=lambda ce: ce.name,
    )
    environments = [ce for ce in environments if ce.status not in _GONE]
    queues = sorted(
        (
            ObservedJobQueue.from_describe(d)
            for d in job_queues
            if d["jobQueueName"].startswith(name_prefix)
        ),
        key=lambda queue: queue.name,
    )
    queues = [queue for queue in queues if queue.status not in _GONE]
    policies = sorted(
        (
            ObservedSchedulingPolicy.from_describe(d)
            for d in scheduling_policies
            if d["name"].startswith(name_prefix)
        ),
        key=lambda policy: policy.name,
    )
    resources = sorted(
        (
            ObservedConsumableResource.from_describe(d)
            for d in consumable_resources
            if d["consumableResourceName"].startswith(name_prefix)
        ),
        key=lambda resource: resource.name,
    )

    ce_names = object_names(ce.name for ce in environments)
    objects = [
        _compute_environment(ce, ce_names[ce.name], region, namespace) for ce in environments
    ]
    policy_names = object_names(policy.name for policy in policies)
    objects += [
        _scheduling_policy(policy, policy_names[policy.name], region, namespace)
        for policy in policies
    ]
    refs = _Refs(
        {ce.arn: ce_names[ce.name] for ce in environments},
        {policy.arn: policy_names[policy.name] for policy in policies},
    )
    queue_names = object_names(queue.name for queue in queues)
    objects += [
        _job_queue(queue, queue_names[queue.name], refs, region, namespace) for queue in queues
    ]
    resource_names = object_names(resource.name for resource in resources)
    objects += [
        _consumable_resource(resource, resource_names[resource.name], region, namespace)
        for resource in resources
    ]
    # A step claims an imported consumable resource by ref, whether AWS named it or gave its ARN.
    claimable = {
        key: resource_names[resource.name]
        for resource in resources
        for key in (resource.name, resource.arn)
    }
    pipeline = pipeline_from_job_definitions(
        _latest_revisions(job_definitions, name_prefix),
        queue_names[queues[0].name] if queues else None,
        f"aws {region}: job definitions",
        namespace,
        claimable,
    )
    return ImportResult(tuple(objects), pipeline)


@dataclass(frozen=True)
class _Refs:
    """Object names of what a queue may name by ARN and the same import brings in."""

    compute_environments: Mapping[str, str]
    scheduling_policies: Mapping[str, str]


def _compute_environment(
    ce: ObservedComputeEnvironment, object_name: str, region: str, namespace: str | None
) -> ImportedObject:
    spec = ComputeSpec(
        type=ce.type,
        state=ce.state,
        compute_resources=ce.compute_resources,
        service_role=ce.service_role,
        update_policy=ce.update_policy,
        unmanaged_vcpus=ce.unmanaged_vcpus,
        eks_configuration=ce.eks_configuration,
        ecs_settings=ce.ecs_settings,
        tags=ce.tags,
        name=ce.name,
        region=region,
        adopt=True,
    )
    return compute_environment_object(object_name, spec, f"aws {region}: {ce.arn}", namespace)


def _job_queue(
    queue: ObservedJobQueue,
    object_name: str,
    refs: _Refs,
    region: str,
    namespace: str | None,
) -> ImportedObject:
    # A compute environment imported alongside is referenced by object, so the queue follows
    # it through a blue/green replacement; any other stays an ARN. So does its policy.
    by_arn = refs.compute_environments
    entries = tuple(
        ComputeEnvironmentEntry(order=o.order, ref=by_arn[o.compute_environment])
        if o.compute_environment in by_arn
        else ComputeEnvironmentEntry(order=o.order, arn=o.compute_environment)
        for o in sorted(queue.compute_environment_order, key=lambda o: o.order)
    )
    policy_ref = refs.scheduling_policies.get(queue.scheduling_policy_arn or "")
    spec = QueueSpec(
        priority=queue.priority,
        compute_environments=entries,
        state=queue.state,
        scheduling_policy_arn=None if policy_ref else queue.scheduling_policy_arn,
        scheduling_policy_ref=policy_ref,
        job_state_time_limit_actions=queue.job_state_time_limit_actions,
        job_queue_type=queue.job_queue_type,
        tags=queue.tags,
        name=queue.name,
        region=region,
        adopt=True,
    )
    return job_queue_object(object_name, spec, f"aws {region}: {queue.arn}", namespace)


def _scheduling_policy(
    policy: ObservedSchedulingPolicy, object_name: str, region: str, namespace: str | None
) -> ImportedObject:
    spec = SchedulingPolicySpec(
        fairshare_policy=policy.fairshare_policy,
        tags=policy.tags,
        name=policy.name,
        region=region,
        adopt=True,
    )
    return scheduling_policy_object(object_name, spec, f"aws {region}: {policy.arn}", namespace)


def _consumable_resource(
    resource: ObservedConsumableResource, object_name: str, region: str, namespace: str | None
) -> ImportedObject:
    spec = ConsumableResourceSpec(
        total_quantity=resource.total_quantity,
        resource_type=resource.resource_type,
        tags=resource.tags,
        name=resource.name,
        region=region,
        adopt=True,
    )
    return consumable_resource_object(object_name, spec, f"aws {region}: {resource.arn}", namespace)


def _latest_revisions(
    definitions: Sequence[JobDefinitionTypeDef], name_prefix: str
) -> list[JobDefinitionSource]:
    latest: dict[str, JobDefinitionTypeDef] = {}
    for definition in definitions:
        name = definition["jobDefinitionName"]
        if definition.get("status", "ACTIVE") != "ACTIVE" or not name.startswith(name_prefix):
            continue
        if name not in latest or definition["revision"] > latest[name]["revision"]:
            latest[name] = definition
    return [
        JobDefinitionSource(
            name,
            latest[name],
            f"{name}:{latest[name]['revision']}",
            f"aws: {latest[name]['jobDefinitionArn']}",
        )
        for name in sorted(latest)
    ]
