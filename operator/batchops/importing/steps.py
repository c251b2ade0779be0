"""Job definitions as BatchPipeline steps.

An inline step is preferred: the operator then registers and versions the definition itself, so
the pipeline in Git is the whole truth and the old definition can be retired. Steps carry Batch's
own members under their own names (volumes, linuxParameters, nodeProperties, eksProperties, ...;
see `batchops.model.request_surface`), so nearly every definition imports inline. One using
something a step cannot say becomes a `jobDefinition: <name>:<revision>` step instead, which runs
the existing definition unchanged.

Input is a job definition in Batch's camelCase shape: a DescribeJobDefinitions item, or what a
Terraform `aws_batch_job_definition` would register. The consumable resources it claims become
the step's `consumableResources`: a `ref:` to a BatchConsumableResource the same import brings
in, else the resource's ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchops.importing.manifests import ImportedObject, pipeline_object
from batchops.importing.names import step_names
from batchops.importing.placeholders import placeholder_text
from batchops.model.request_surface import CONTAINER_PASSTHROUGH, JOB_PROPERTIES

Step = dict[str, Any]

# Top-level keys a step reproduces (or that only describe the stored revision).
_STEP_KEYS = frozenset(
    {
        "jobDefinitionName",
        "jobDefinitionArn",
        "revision",
        "status",
        "type",
        "containerProperties",
        "parameters",
        "retryStrategy",
        "timeout",
        "platformCapabilities",
        "tags",
        "propagateTags",
        "schedulingPriority",
        "containerOrchestrationType",
        "consumableResourceProperties",
        *JOB_PROPERTIES,
    }
)
_CONTAINER_KEYS = frozenset(
    {
        "image",
        "command",
        "vcpus",
        "memory",
        "resourceRequirements",
        "environment",
        "secrets",
        "jobRoleArn",
        "executionRoleArn",
        *CONTAINER_PASSTHROUGH,
    }
)
_RESOURCE_TYPES = frozenset({"VCPU", "MEMORY", "GPU"})
_RESERVED_TAG_PREFIXES = ("aws:", "batchops.io/")
_RESOURCE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:consumable-resource/\S+$")
_DEFINITION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}):job-definition/"
)


@dataclass(frozen=True)
class ImportedStep:
    """One step of the pipeline skeleton, and why it looks the way it does."""

    step: Step
    notes: tuple[str, ...] = ()


def step_from_job_definition(
    name: str,
    definition: Mapping[str, Any],
    reference: str,
    resource_refs: Mapping[str, str] | None = None,
) -> ImportedStep:
    """The step `name` equivalent to `definition`: inline when possible, else a `jobDefinition`
    step naming `reference` (`name:revision`, or the bare name for Terraform's latest).
    `resource_refs` maps the name and ARN of each imported consumable resource to its object."""
    container = definition.get("containerProperties")
    claims = _claims(definition, resource_refs or {})
    blockers = _blockers(definition, container)
    if claims is None:
        blockers.append("consumableResourceProperties (a resource without its ARN, or no quantity)")
    if blockers:
        return ImportedStep(
            {"name": name, "jobDefinition": reference},
            (
                f"step {name} runs the existing job definition {reference}: it uses "
                f"{', '.join(blockers)}, which an inline step cannot express",
            ),
        )
    properties = next((key for key in JOB_PROPERTIES if _is_set(definition.get(key))), None)
    if properties is not None:
        step = {"name": name, properties: definition[properties]}
        if properties == "ecsProperties" and "FARGATE" in (
            definition.get("platformCapabilities") or ()
        ):
            step["platform"] = "FARGATE"
        step.update(_run_settings(definition, claims))
        return ImportedStep(step)
    assert isinstance(container, Mapping)
    step = {"name": name, "image": container["image"]}
    command = container.get("command")
    if command:
        # A placeholder string stands for a list Terraform computes: kept as written.
        step["command"] = list(command) if isinstance(command, list) else command
    step.update(_resources(container))
    environment = container.get("environment")
    if isinstance(environment, list) and environment:
        step["environment"] = [
            {"name": e.get("name"), "value": e.get("value", "")}
            for e in environment
            if isinstance(e, Mapping)
        ]
    elif environment:
        step["environment"] = environment
    secrets = container.get("secrets")
    if isinstance(secrets, list) and secrets:
        step["secrets"] = [
            {"name": s.get("name"), "valueFrom": s.get("valueFrom")}
            for s in secrets
            if isinstance(s, Mapping)
        ]
    elif secrets:
        step["secrets"] = secrets
    for key in ("jobRoleArn", "executionRoleArn", *sorted(CONTAINER_PASSTHROUGH)):
        if _is_set(container.get(key)):
            step[key] = container[key]
    if "FARGATE" in (definition.get("platformCapabilities") or ()):
        step["platform"] = "FARGATE"
    step.update(_run_settings(definition, claims))
    return ImportedStep(step)


PIPELINE_NAME = "imported-job-definitions"


@dataclass(frozen=True)
class JobDefinitionSource:
    """A job definition to turn into a step: its Batch shape and how to reference it."""

    name: str
    definition: Mapping[str, Any]
    reference: str
    """`name:revision` for a described revision, the bare name for Terraform (its latest)."""
    source: str
    """Where it came from, for messages."""
    notes: tuple[str, ...] = ()
    """What reading it found (values resolved, placeholders written)."""


def pipeline_from_job_definitions(
    definitions: Sequence[JobDefinitionSource],
    queue: str | None,
    source: str,
    namespace: str | None,
    resource_refs: Mapping[str, str] | None = None,
) -> ImportedObject | None:
    """A BatchPipeline skeleton with one step per definition, on `queue` (None: a placeholder);
    a claim of an imported consumable resource (`resource_refs`: by name and ARN) is a ref.

    Batch definitions carry no order: the walkthrough's submitter wired `dependsOn` at run time.
    So the steps have no `dependsOn` and the notes say to add it.
    """
    if not definitions:
        return None
    names = step_names(d.name for d in definitions)
    steps = [
        step_from_job_definition(names[d.name], d.definition, d.reference, resource_refs)
        for d in definitions
    ]
    notes: list[str] = [
        "a BatchPipeline is one run: applying it submits every step, so it is written "
        "commented out. Add dependsOn between the steps (the order your submitter used), set "
        "each step's queue, then apply it or put its spec in a CronPipeline's pipelineTemplate",
        *(note for step in steps for note in step.notes),
        *(note for d in definitions for note in d.notes),
    ]
    notes = list(dict.fromkeys(notes))
    return pipeline_object(
        PIPELINE_NAME,
        queue or placeholder_text("job queue"),
        [step.step for step in steps],
        source,
        namespace,
        notes,
        [d.source for d in definitions],
    )


def _blockers(definition: Mapping[str, Any], container: object) -> list[str]:
    """What in the definition an inline step cannot say; empty values (AWS reports `[]`s)
    don't count."""
    blockers = [k for k, v in definition.items() if k not in _STEP_KEYS and _is_set(v)]
    kinds = [key for key in JOB_PROPERTIES if _is_set(definition.get(key))]
    if kinds:
        if _is_set(container):
            blockers.append(f"both containerProperties and {kinds[0]}")
        return blockers
    if definition.get("type", "container") != "container":
        return [*blockers, f"type {definition['type']} without nodeProperties"]
    if not isinstance(container, Mapping):
        return ["no containerProperties"]
    blockers += [
        f"containerProperties.{k}"
        for k, v in container.items()
        if k not in _CONTAINER_KEYS and _is_set(v)
    ]
    types = {r.get("type") for r in _requirements(container)}
    blockers += [f"resourceRequirements {t}" for t in sorted(map(str, types - _RESOURCE_TYPES))]
    if not container.get("image"):
        blockers.append("no image")
    resources = _resources(container)
    if "vcpus" not in resources or "memory" not in resources:
        blockers.append("no vcpus or memory (set at submit time)")
    return blockers


def _resources(container: Mapping[str, Any]) -> Step:
    # resourceRequirements supersedes the legacy vcpus/memory fields when both are present.
    out: Step = {}
    if container.get("vcpus"):
        out["vcpus"] = container["vcpus"]
    if container.get("memory"):
        out["memory"] = container["memory"]
    for requirement in _requirements(container):
        kind, value = requirement.get("type"), str(requirement.get("value"))
        if kind == "VCPU":
            out["vcpus"] = _number(value)
        elif kind == "MEMORY":
            out["memory"] = _number(value)
        elif kind == "GPU":
            out["gpus"] = _number(value)
    return out


def _requirements(container: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = container.get("resourceRequirements")
    return [r for r in listed if isinstance(r, Mapping)] if isinstance(listed, list) else []


def _number(value: str) -> int | float | str:
    """A resource requirement's value; a placeholder (not a number) is kept as written."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _claims(definition: Mapping[str, Any], resource_refs: Mapping[str, str]) -> list[Step] | None:
    """consumableResources for the definition's consumableResourceProperties; None when one
    entry can't be said: a resource named without an ARN that this import does not bring in
    (the ARN is built from the definition's own when it has one), or no valid quantity."""
    properties = definition.get("consumableResourceProperties")
    listed = properties.get("consumableResourceList") if isinstance(properties, Mapping) else None
    claims: list[Step] = []
    for entry in listed if isinstance(listed, list) else []:
        resource = str(entry.get("consumableResource", "")) if isinstance(entry, Mapping) else ""
        quantity = entry.get("quantity") if isinstance(entry, Mapping) else None
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            return None
        beside = _DEFINITION_ARN.match(str(definition.get("jobDefinitionArn", "")))
        if resource in resource_refs:
            claims.append({"ref": resource_refs[resource], "quantity": quantity})
        elif _RESOURCE_ARN.match(resource):
            claims.append({"arn": resource, "quantity": quantity})
        elif beside and resource:
            # A name is looked up in the definition's own account and region.
            arn = f"{beside['prefix']}:consumable-resource/{resource}"
            claims.append({"arn": arn, "quantity": quantity})
        else:
            return None
    return claims


def _run_settings(definition: Mapping[str, Any], claims: Sequence[Step] | None = None) -> Step:
    out: Step = {}
    retry = definition.get("retryStrategy")
    if retry:
        spec: Step = {}
        if retry.get("attempts"):
            spec["attempts"] = retry["attempts"]
        if isinstance(retry.get("evaluateOnExit"), list):
            spec["evaluateOnExit"] = [
                {
                    **{k: v for k, v in entry.items() if k != "action" and v},
                    "action": str(entry.get("action")).upper(),
                }
                for entry in retry["evaluateOnExit"]
                if isinstance(entry, Mapping)
            ]
        if spec:
            out["retry"] = spec
    timeout = (definition.get("timeout") or {}).get("attemptDurationSeconds")
    if timeout:
        out["timeoutSeconds"] = timeout
    if isinstance(definition.get("parameters"), Mapping) and definition["parameters"]:
        out["parameters"] = dict(definition["parameters"])
    defined_tags = definition.get("tags")
    tags = {
        k: v
        for k, v in (defined_tags if isinstance(defined_tags, Mapping) else {}).items()
        if not k.lower().startswith(_RESERVED_TAG_PREFIXES)
    }
    if tags:
        out["tags"] = tags
    if definition.get("propagateTags"):
        out["propagateTags"] = True
    if definition.get("schedulingPriority") is not None:
        out["schedulingPriority"] = definition["schedulingPriority"]
    if claims:
        out["consumableResources"] = list(claims)
    return out


def _is_set(value: object) -> bool:
    return value not in (None, "", [], {}, ())
