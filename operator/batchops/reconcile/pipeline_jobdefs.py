"""The job definitions of a BatchPipeline's inline steps: reuse or register one per step before
a run submits, and deregister the namespace's definitions nothing uses once a run settled or a
pipeline is deleted. Both read and update the region's shared catalog (`jobs/catalog.py`)
instead of describing definitions.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from batchops.aws.batch import BatchApi
from batchops.aws.errors import Retryable, Terminal
from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.model.common import frozen_map
from batchops.model.observed import ObservedJobDefinition
from batchops.model.pipeline import PipelineSpec
from batchops.plans import jobdefs
from batchops.reconcile.common import ObjectSnapshot, PassRecorder


def resolve_job_definitions(
    spec: PipelineSpec,
    obj: ObjectSnapshot,
    scope: jobdefs.DefinitionScope,
    catalog: JobDefinitionCatalog,
    api: BatchApi,
) -> dict[str, str]:
    """The job definition of every step of a new run: for an inline step an ACTIVE definition
    with the same content (any pipeline's of the namespace) when the catalog has one, else a new
    one, registered now; held for this pipeline either way."""
    holder = (obj.namespace, obj.name)
    plan = jobdefs.plan_job_definitions(spec, scope)
    catalog.release(holder)  # the previous run's are named in status for as long as they count

    def register(wanted: jobdefs.RegisterJobDefinition) -> ObservedJobDefinition:
        response = api.register_job_definition(wanted.request)
        return ObservedJobDefinition(
            wanted.name,
            response["jobDefinitionArn"],
            response["revision"],
            "ACTIVE",
            frozen_map(wanted.request.get("tags")),
        )

    resolved = dict(plan.job_definitions)
    for step, wanted in plan.register.items():
        resolved[step] = catalog.use(holder, wanted, partial(register, wanted))
    return resolved


def retire_unused_definitions(
    scope: jobdefs.DefinitionScope,
    named_in_status: Collection[str],
    catalog: JobDefinitionCatalog,
    api: BatchApi,
    rec: PassRecorder,
    leaving: str | None = None,
) -> None:
    """Deregister the scope's definitions no pipeline names in its status and no pass holds.
    `leaving`: a pipeline being deleted, whose holds no longer count."""
    exclude = (scope.namespace, leaving) if leaving is not None else None
    taken = catalog.take_retirable(scope, named_in_status, exclude)
    for index, definition in enumerate(taken):
        try:
            api.deregister_job_definition(definition.arn)
        except (Retryable, Terminal):
            for kept in taken[index:]:  # still ACTIVE: the next retirement tries again
                catalog.registered(kept)
            raise
        rec.event("Normal", "JobDefinitionRetired", f"deregistered {definition.arn}")
