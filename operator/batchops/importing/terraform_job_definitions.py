"""Terraform `aws_batch_job_definition` instances -> job definitions in Batch's own shape.

The provider takes the JSON documents (`container_properties`, ...) as `jsonencode()`d strings
and everything else as snake_case attributes; this writes the RegisterJobDefinition shape a
DescribeJobDefinitions answer has, so `steps` turns both sources into steps the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from batchops.importing.expression_values import JsonDocument, Unknown, has_unknown, plain, text_of
from batchops.importing.hcl import block, blocks_of
from batchops.importing.placeholders import MARK
from batchops.importing.steps import JobDefinitionSource
from batchops.importing.terraform_attributes import AttributeReader
from batchops.importing.terraform_instances import ResourceInstance

# JSON documents in Batch's own shape (the provider takes them as jsonencode()d strings).
# eks_properties is an HCL block with snake_case names instead: it is kept under its Terraform
# name, which no step field has, so the definition is referenced rather than inlined wrongly.
_JOB_DEFINITION_BATCH_NAMES = {
    "node_properties": "nodeProperties",
    "eks_properties": "eks_properties",
    "ecs_properties": "ecsProperties",
}

_UNQUOTED_PLACEHOLDER = re.compile(rf'(?<=[:\[,\s])<{MARK} ([^<>"]*)>(?=\s*[,}}\]\s])')


def _document(value: object, where: str, notes: list[str]) -> Any:
    """A JSON document attribute (`container_properties`): `jsonencode({...})`, a JSON string or
    heredoc, evaluated; None (with a note) when it cannot be read offline."""
    if isinstance(value, JsonDocument):
        return value.value
    if isinstance(value, Unknown):
        notes.append(
            f"{where} = {value.expression}: {value.reason}; the step runs the existing "
            "definition instead"
        )
        return None
    if isinstance(value, (dict, list)):
        return value
    text = text_of(value)
    for candidate in (text, _UNQUOTED_PLACEHOLDER.sub(rf'"{MARK} \1"', text)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    notes.append(f"{where} is not JSON once evaluated; the step runs the existing definition")
    return None


def job_definition(instance: ResourceInstance, region: str | None) -> JobDefinitionSource:
    """The definition in Batch's camelCase shape, as RegisterJobDefinition would receive it."""
    body, read = instance.body, AttributeReader(instance, region)
    resource = instance.resource
    notes: list[str] = list(instance.notes)
    definition: dict[str, Any] = {"type": (read.text(body.get("type")) or "container").lower()}
    if body.get("container_properties") is not None:
        document = _document(
            body["container_properties"], f"{resource.source}: container_properties", notes
        )
        if document is not None:
            definition["containerProperties"] = document
    for key, batch_key in _JOB_DEFINITION_BATCH_NAMES.items():
        if body.get(key) is not None:
            definition[batch_key] = body[key]
    parameters = body.get("parameters")
    if parameters:
        definition["parameters"] = read.tags(parameters)
    retry = block(body, "retry_strategy")
    if retry:
        definition["retryStrategy"] = {
            "attempts": retry.get("attempts"),
            "evaluateOnExit": [
                {
                    "action": entry.get("action"),
                    "onExitCode": entry.get("on_exit_code"),
                    "onReason": entry.get("on_reason"),
                    "onStatusReason": entry.get("on_status_reason"),
                }
                for entry in blocks_of(retry, "evaluate_on_exit")
            ],
        }
    timeout = block(body, "timeout")
    if timeout and timeout.get("attempt_duration_seconds") is not None:
        definition["timeout"] = {"attemptDurationSeconds": timeout["attempt_duration_seconds"]}
    for key, batch_key in (
        ("platform_capabilities", "platformCapabilities"),
        ("propagate_tags", "propagateTags"),
        ("scheduling_priority", "schedulingPriority"),
    ):
        if body.get(key) is not None:
            definition[batch_key] = body[key]
    if body.get("tags") is not None:
        definition["tags"] = read.tags(body["tags"])
    name = body.get("name")
    reference = read.batch_name(name) or instance.base
    # A step is named after the definition; a computed name can't be, so the label stands in.
    step = name if isinstance(name, str) and MARK not in name else instance.base
    return JobDefinitionSource(
        step, _resolved(definition, read), reference, resource.source, tuple(notes)
    )


def _resolved(value: Any, read: AttributeReader) -> Any:
    """A decoded document with every unknown part turned into a placeholder string."""
    if isinstance(value, (Unknown, JsonDocument)):
        return read.text(value) if has_unknown(value) else plain(value)
    if isinstance(value, Mapping):
        return {key: _resolved(item, read) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolved(item, read) for item in value]
    return value
