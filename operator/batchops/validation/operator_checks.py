"""What the operator itself would refuse: its spec parsers and plans, called as it calls them.

These are the operator's own truth: an object that passes here is one the operator accepts
(short of AWS saying no). The parsed specs come back too, for the cross-object checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchops.model.account import parse_account_spec
from batchops.model.common import SpecError, placeholder_message, placeholder_paths
from batchops.model.compute import ComputeSpec
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.consumable import parse_consumable_resource_spec
from batchops.model.cron import parse_cron_spec
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.model.queue import QueueSpec, parse_queue_spec
from batchops.model.scheduling import parse_scheduling_policy_spec
from batchops.plans.cron_expr import parse_schedule
from batchops.plans.dag import validate_dag
from batchops.validation.paths import FieldPath, parse_path

TEMPLATE_SPEC: FieldPath = ("spec", "pipelineTemplate", "spec")


@dataclass(frozen=True)
class OperatorVerdict:
    """The operator's findings for one object, and its parsed spec when it had none."""

    findings: tuple[tuple[FieldPath, str], ...] = ()
    compute: ComputeSpec | None = None
    queue: QueueSpec | None = None
    pipeline: PipelineSpec | None = None
    pipeline_at: FieldPath = ("spec",)
    """Where the pipeline spec sits in the object (a CronPipeline's template is deeper)."""


def check_with_operator(kind: str, spec: Mapping[str, Any]) -> OperatorVerdict:
    """Parse `spec` as the operator's reconciler for `kind` does; a SpecError becomes a finding,
    and so does every import placeholder left in it."""
    placeholders = placeholder_paths(spec)
    if placeholders:
        return OperatorVerdict(
            findings=tuple((parse_path(p), placeholder_message([p])) for p in placeholders)
        )
    try:
        if kind == "BatchComputeEnvironment":
            return OperatorVerdict(compute=parse_compute_spec(spec))
        if kind == "BatchJobQueue":
            return OperatorVerdict(queue=parse_queue_spec(spec))
        if kind == "BatchConsumableResource":
            parse_consumable_resource_spec(spec)
            return OperatorVerdict()
        if kind == "BatchSchedulingPolicy":
            parse_scheduling_policy_spec(spec)
            return OperatorVerdict()
        if kind == "BatchAccount":
            parse_account_spec(spec)
            return OperatorVerdict()
        if kind == "BatchPipeline":
            return _pipeline(spec, ("spec",))
        if kind == "CronPipeline":
            cron = parse_cron_spec(spec)
            parse_schedule(cron.schedule)
            return _pipeline(cron.template.child_spec(), TEMPLATE_SPEC)
    except SpecError as exc:
        return OperatorVerdict(findings=((parse_path(exc.field_path), exc.message),))
    return OperatorVerdict()


def _pipeline(spec: Mapping[str, Any], at: FieldPath) -> OperatorVerdict:
    """A BatchPipeline spec (or a CronPipeline's template of one) and its step graph. The
    model's paths start at `spec`; a template's are moved under `at`."""
    try:
        pipeline = parse_pipeline_spec(spec)
    except SpecError as exc:
        return OperatorVerdict(findings=((_under(at, exc.field_path), exc.message),))
    problems = validate_dag(pipeline)
    return OperatorVerdict(
        findings=tuple((_under(at, p.field_path), p.message) for p in problems),
        pipeline=pipeline,
        pipeline_at=at,
    )


def _under(at: FieldPath, model_path: str) -> FieldPath:
    path = parse_path(model_path)
    return (*at, *path[1:]) if path[:1] == ("spec",) else (*at, *path)
