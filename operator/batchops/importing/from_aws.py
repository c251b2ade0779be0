"""AWS Describe* output -> manifests adopting what is there.

The compute environments and queues are read with the operator's own observers
(`ObservedComputeEnvironment.from_describe`, `ObservedJobQueue.from_describe`), so a field is
mapped back exactly the way the drift check will compare it after adoption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from batchops.importing.manifests import (
    ImportedObject,
    ImportResult,
    compute_environment_object,
    job_queue_object,
)
from batchops.importing.names import object_names
from batchops.importing.steps import JobDefinitionSource, pipeline_from_job_definitions
from batchops.model.compute import (
    BatchStatus,
    ComputeSpec,
    ObservedComputeEnvironment,
)
from batchops.model.queue import ComputeEnvironmentEntry, ObservedJobQueue, QueueSpec

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        JobDefinitionTypeDef,
        JobQueueDetailTypeDef,
    )

_GONE = (BatchStatus.DELETING, BatchStatus.DELETED)


def import_from_aws(
    compute_environments: Sequence[ComputeEnvironmentDetailTypeDef],
    job_queues: Sequence[JobQueueDetailTypeDef],
    job_definitions: Sequence[JobDefinitionTypeDef],
    *,
    region: str,
    namespace: str | None = None,
    name_prefix: str = "",
) -> ImportResult:
    """Manifests for every compute environment, queue and (latest ACTIVE revision of each) job
    definition whose AWS name starts with `name_prefix`; resources being deleted are skipped."""
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

    ce_names = object_names(ce.name for ce in environments)
    objects = [
        _compute_environment(ce, ce_names[ce.name], region, namespace) for ce in environments
    ]
    ref_by_arn = {ce.arn: ce_names[ce.name] for ce in environments}
    queue_names = object_names(queue.name for queue in queues)
    objects += [
        _job_queue(queue, queue_names[queue.name], ref_by_arn, region, namespace)
        for queue in queues
    ]
    pipeline = pipeline_from_job_definitions(
        _latest_revisions(job_definitions, name_prefix),
        queue_names[queues[0].name] if queues else None,
        f"aws {region}: job definitions",
        namespace,
    )
    return ImportResult(tuple(objects), pipeline)


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
    ref_by_arn: dict[str, str],
    region: str,
    namespace: str | None,
) -> ImportedObject:
    # A compute environment imported alongside is referenced by object, so the queue follows
    # it through a blue/green replacement; any other stays an ARN.
    entries = tuple(
        ComputeEnvironmentEntry(order=o.order, ref=ref_by_arn[o.compute_environment])
        if o.compute_environment in ref_by_arn
        else ComputeEnvironmentEntry(order=o.order, arn=o.compute_environment)
        for o in sorted(queue.compute_environment_order, key=lambda o: o.order)
    )
    spec = QueueSpec(
        priority=queue.priority,
        compute_environments=entries,
        state=queue.state,
        scheduling_policy_arn=queue.scheduling_policy_arn,
        job_state_time_limit_actions=queue.job_state_time_limit_actions,
        job_queue_type=queue.job_queue_type,
        tags=queue.tags,
        name=queue.name,
        region=region,
        adopt=True,
    )
    return job_queue_object(object_name, spec, f"aws {region}: {queue.arn}", namespace)


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
