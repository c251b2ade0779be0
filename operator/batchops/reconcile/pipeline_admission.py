"""Whether a BatchPipeline may act at all, decided before anything reaches AWS.

A pass admits a pipeline when its spec parses, has no import placeholder left, is a DAG, its
namespace may use the account it names, and every queue it uses is Ready, in the same account
and region, and not another tenant's. Otherwise the pass ends here with one of three outcomes:
invalid (Failed, Stalled), refused by the account's tenancy (Failed, Stalled) or waiting
(Pending, Reconciling). The queue checks apply until the run has submitted a job: after that,
its jobs are in Batch whatever happens to the queue objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.aws.batch import BatchApi
from batchops.kube import status as conditions
from batchops.model.account import Target
from batchops.model.common import SpecError, parse_time, placeholder_message, placeholder_paths
from batchops.model.observed import RunRecord
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans import dag, run_status
from batchops.plans.accounts import AccountRefusal, NamespaceUnknown
from batchops.plans.ownership import Owner
from batchops.reconcile.common import (
    ObjectSnapshot,
    PassRecorder,
    Tenancy,
    Timing,
    cross_namespace_message,
)


@dataclass(frozen=True)
class PipelineOutcome:
    """One pass: the status to write, when to look again, the jobs to keep polling."""

    status: Mapping[str, Any]
    delay: float
    recorder: PassRecorder
    active_job_ids: tuple[str, ...] = ()
    delete_object: bool = False
    blocked_changed: tuple[str, ...] = ()
    """Job queue ARNs that became blocked or moved again: their loops should look now."""


@dataclass(frozen=True)
class Admission:
    """What the checks need from the reconciler that runs them."""

    tenancy: Tenancy
    api_for_region: Callable[[Target], BatchApi]
    timing: Timing
    now: Callable[[], datetime]


def admit(
    obj: ObjectSnapshot,
    rec: PassRecorder,
    queue_arns: Mapping[str, str | None],
    record: RunRecord,
    admission: Admission,
    resource_arns: Mapping[str, str | None],
) -> tuple[PipelineSpec, Target] | PipelineOutcome:
    """The parsed spec, its resource claims resolved to ARNs, and where it acts; or the
    outcome that ends this pass. `queue_arns` and `resource_arns`: BatchJobQueue and
    BatchConsumableResource names in the namespace → ARN once usable (else None)."""
    try:
        spec = parse_pipeline_spec(obj.spec)
    except SpecError as exc:
        return invalid(obj, rec, str(exc), admission)
    placeholders = placeholder_paths(obj.spec)
    if placeholders:
        return invalid(obj, rec, placeholder_message(placeholders), admission)
    problems = dag.validate_dag(spec)
    if problems:
        return invalid(obj, rec, "; ".join(p.message for p in problems), admission)
    placement = admission.tenancy.place(obj.namespace, spec.account_ref, spec.region)
    if not isinstance(placement, Target):
        return _refused(obj, rec, placement, admission)
    spec = _resolved_claims(spec, resource_arns)
    if record.job_ids:
        return spec, placement
    references = (
        ("BatchJobQueue", "job queue", _unresolved_queues(spec, queue_arns), queue_arns),
        (
            "BatchConsumableResource",
            "consumable resource",
            _unresolved_refs(spec, resource_arns),
            resource_arns,
        ),
    )
    for kind, noun, unresolved, known in references:
        if not unresolved:
            continue
        missing = [name for name in unresolved if name not in known]
        if missing and _age(obj, admission.now()) > admission.timing.reference_grace:
            names = ", ".join(sorted(missing))
            message = f"no {kind} named {names} in namespace {obj.namespace}"
            return invalid(obj, rec, message, admission)
        return _waiting(obj, rec, f"waiting for {noun} " + ", ".join(unresolved), admission)
    crossing = admission.tenancy.crossing_references(placement, _queue_links(spec, queue_arns))
    if crossing:
        return invalid(obj, rec, "; ".join(crossing), admission)
    foreign = _foreign_queues(obj, spec, admission.api_for_region(placement), admission.tenancy)
    if foreign:
        return invalid(obj, rec, cross_namespace_message("job queues", foreign), admission)
    return spec, placement


def with_conditions(
    status: Mapping[str, Any], rec: PassRecorder, obj: ObjectSnapshot
) -> dict[str, Any]:
    """The status a pass writes: with the pass's conditions and the generation it describes
    (kstatus and Argo CD call an object InProgress/Progressing until it matches
    metadata.generation)."""
    return {**status, "observedGeneration": obj.generation, "conditions": rec.merged_conditions()}


def invalid(
    obj: ObjectSnapshot, rec: PassRecorder, message: str, admission: Admission
) -> PipelineOutcome:
    """Failed and Stalled: the spec must change before anything runs."""
    assessment = run_status.invalid_spec_assessment(
        message, admission.now(), generation=obj.generation
    )
    status = {k: v for k, v in obj.status.items() if k != "conditions"}
    status.update(
        phase="Failed",
        message=message,
        progress=assessment.progress,
        observedGeneration=obj.generation,
    )
    rec.conditions.extend(assessment.conditions)
    if obj.status.get("message") != message:
        rec.event("Warning", "InvalidSpec", message[:1024])
    return PipelineOutcome(with_conditions(status, rec, obj), admission.timing.resync, rec)


def _refused(
    obj: ObjectSnapshot,
    rec: PassRecorder,
    refusal: AccountRefusal | NamespaceUnknown,
    admission: Admission,
) -> PipelineOutcome:
    """The namespace may not use the account it asks for: Failed and Stalled with the
    refusal's reason, nothing sent to AWS (a later pass starts the run once allowed)."""
    if isinstance(refusal, NamespaceUnknown):
        return _waiting(obj, rec, refusal.message, admission)
    status = {k: v for k, v in obj.status.items() if k != "conditions"}
    status.update(phase="Failed", message=refusal.message, observedGeneration=obj.generation)
    now, generation = admission.now(), obj.generation
    for kind, value in (
        (conditions.COMPLETE, False),
        (conditions.FAILED, True),
        (conditions.RECONCILING, False),
        (conditions.STALLED, True),
    ):
        rec.conditions.append(
            conditions.condition(kind, value, refusal.reason, refusal.message, generation, now)
        )
    if not obj.has_condition_reason(refusal.reason):
        rec.event("Warning", refusal.reason, refusal.message[:1024])
    return PipelineOutcome(with_conditions(status, rec, obj), admission.timing.resync, rec)


def _waiting(
    obj: ObjectSnapshot, rec: PassRecorder, message: str, admission: Admission
) -> PipelineOutcome:
    status = {k: v for k, v in obj.status.items() if k != "conditions"}
    status.update(phase="Pending", message=message, observedGeneration=obj.generation)
    rec.condition(conditions.RECONCILING, True, "WaitingForQueue", message)
    rec.condition(conditions.STALLED, False, "WaitingForQueue", message)
    return PipelineOutcome(with_conditions(status, rec, obj), admission.timing.transition, rec)


def _age(obj: ObjectSnapshot, now: datetime) -> float:
    created = obj.body.get("metadata", {}).get("creationTimestamp")
    if not isinstance(created, str):
        return 0.0
    return (now - parse_time(created)).total_seconds()


def _foreign_queues(
    obj: ObjectSnapshot, spec: PipelineSpec, api: BatchApi, tenancy: Tenancy
) -> list[tuple[str, Owner]]:
    """Queues named by ARN that another namespace's BatchJobQueue owns (checked before a
    run submits anything, so no job of this namespace lands on another tenant's queue)."""

    def tags_of(arn: str) -> Mapping[str, str]:
        described = api.describe_job_queue(arn)
        return described.get("tags", {}) if described else {}

    arns = (step.queue for step in spec.steps if step.queue.startswith("arn:"))
    return tenancy.foreign_references(obj.namespace, arns, tags_of)


def _queue_links(spec: PipelineSpec, queue_arns: Mapping[str, str | None]) -> dict[str, str]:
    """spec.steps[i].queue -> the queue's ARN, for the check that no step's queue is in another
    account or region than the pipeline."""
    links = {}
    for index, step in enumerate(spec.steps):
        arn = step.queue if step.queue.startswith("arn:") else queue_arns.get(step.queue)
        if arn:
            links[f"spec.steps[{index}].queue ({step.queue})"] = arn
    return links


def _unresolved_queues(spec: PipelineSpec, queue_arns: Mapping[str, str | None]) -> list[str]:
    queues = {step.queue for step in spec.steps} | {
        step.retry.on_interruption.queue
        for step in spec.steps
        if step.retry is not None
        and step.retry.on_interruption is not None
        and step.retry.on_interruption.queue is not None
    }
    names = {queue for queue in queues if not queue.startswith("arn:")}
    return sorted(name for name in names if not queue_arns.get(name))


def _unresolved_refs(spec: PipelineSpec, resource_arns: Mapping[str, str | None]) -> list[str]:
    refs = {claim.ref for step in spec.steps for claim in step.consumable_resources if claim.ref}
    return sorted(ref for ref in refs if not resource_arns.get(ref))


def _resolved_claims(spec: PipelineSpec, resource_arns: Mapping[str, str | None]) -> PipelineSpec:
    """The spec with every claim by ref given its resource's ARN. A ref that is not usable
    yet gets none: nothing is submitted until every ref is resolved (or the run's jobs are
    already in Batch, which then needs no job definition)."""
    if not any(claim.ref for step in spec.steps for claim in step.consumable_resources):
        return spec
    steps = tuple(
        dataclasses.replace(
            step,
            consumable_resources=tuple(
                dataclasses.replace(claim, arn=resource_arns.get(claim.ref) or None)
                if claim.ref
                else claim
                for claim in step.consumable_resources
            ),
        )
        for step in spec.steps
    )
    return dataclasses.replace(spec, steps=steps)
