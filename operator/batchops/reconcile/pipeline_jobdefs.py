"""The job definitions of a BatchPipeline's inline steps: reuse or register one per step before
a run submits, and deregister the revisions earlier runs left once a run settled. Both read and
update the region's shared catalog (`jobs/catalog.py`) instead of describing definitions.
"""

from __future__ import annotations

from collections.abc import Mapping

from batchops.aws.batch import BatchApi
from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.model import keys
from batchops.model.common import frozen_map
from batchops.model.observed import ObservedJob, ObservedJobDefinition
from batchops.model.pipeline import PipelineSpec
from batchops.plans import jobdefs
from batchops.reconcile.common import ObjectSnapshot, PassRecorder


def resolve_job_definitions(
    spec: PipelineSpec, obj: ObjectSnapshot, catalog: JobDefinitionCatalog, api: BatchApi
) -> dict[str, str]:
    """The job definition of every step: an ACTIVE revision with the same content when the
    catalog has one, else a new revision, registered now and recorded in the catalog."""
    base = keys.creating_cron(obj.body.get("metadata", {}).get("labels", {})) or obj.name
    observed = {
        name: catalog.revisions(name)
        for name in (
            jobdefs.job_definition_name(obj.namespace, base, step.name)
            for step in spec.steps
            if step.job_definition is None
        )
    }
    plan = jobdefs.plan_job_definitions(spec, obj.namespace, base, observed)
    resolved = dict(plan.job_definitions)
    for register in plan.register:
        response = api.register_job_definition(register.request)
        resolved[register.step] = response["jobDefinitionArn"]
        catalog.registered(
            ObservedJobDefinition(
                register.name,
                response["jobDefinitionArn"],
                response["revision"],
                "ACTIVE",
                frozen_map(register.request.get("tags")),
            )
        )
    return resolved


def retire_old_definitions(
    spec: PipelineSpec,
    obj: ObjectSnapshot,
    observed: Mapping[str, ObservedJob],
    catalog: JobDefinitionCatalog,
    api: BatchApi,
    rec: PassRecorder,
) -> None:
    """Once a run settled, deregister the revisions earlier runs registered: no job of this
    pipeline can use them any more. Runs of a CronPipeline share their definitions (and may
    overlap), so they keep theirs."""
    if keys.CRON_LABEL in (obj.body.get("metadata", {}).get("labels") or {}):
        return
    in_use = {job.job_definition for job in observed.values() if job.job_definition}
    for step in spec.steps:
        if step.job_definition is not None:
            continue
        name = jobdefs.job_definition_name(obj.namespace, obj.name, step.name)
        revisions = catalog.revisions(name)
        for arn in jobdefs.revisions_to_deregister(revisions, in_use):
            api.deregister_job_definition(arn)
            catalog.deregistered(arn)
            rec.event("Normal", "JobDefinitionRetired", f"deregistered {arn}")
