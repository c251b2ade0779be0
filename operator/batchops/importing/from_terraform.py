"""Terraform `aws_batch_*` resources -> manifests adopting the resources Terraform created.

Attributes are read into the operator's spec model, then written by the same code as an AWS
import. A reference to another compute environment of the same files becomes a `ref:` to its
object; any other expression (data sources, variables, other resources) cannot be known
without Terraform's state, so it becomes a `REPLACE-ME` placeholder shaped to pass the CRD
schema, and the result lists every one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from batchops.importing.hcl import (
    Expression,
    TerraformError,
    TerraformFile,
    TerraformResource,
    block,
    blocks_of,
    document_value,
    parse_module,
    template_parts,
    whole_reference,
)
from batchops.importing.manifests import (
    ImportedObject,
    ImportResult,
    compute_environment_object,
    job_queue_object,
)
from batchops.importing.names import object_names
from batchops.importing.placeholders import (
    embedded_placeholder,
    placeholder_arn,
    placeholder_batch_name,
    placeholder_text,
)
from batchops.importing.steps import JobDefinitionSource, pipeline_from_job_definitions
from batchops.model.common import ResourceState, frozen_map
from batchops.model.compute import (
    AllocationStrategy,
    ComputeEnvironmentType,
    ComputeResources,
    ComputeResourceType,
    ComputeSpec,
    Ec2Configuration,
    LaunchTemplate,
    UpdatePolicy,
)
from batchops.model.queue import ComputeEnvironmentEntry, JobStateTimeLimitAction, QueueSpec

COMPUTE_ENVIRONMENT = "aws_batch_compute_environment"
JOB_QUEUE = "aws_batch_job_queue"
JOB_DEFINITION = "aws_batch_job_definition"

_CE_REFERENCE = re.compile(rf"^{COMPUTE_ENVIRONMENT}\.(?P<label>[A-Za-z0-9_-]+)\.[a-z_]+$")
_CE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:compute-environment/[\w-]+$")

# Attributes each resource maps; others are reported in the notes (or, on a job definition,
# make the step reference the existing definition). `desired_vcpus` is AWS's scaling state.
_CE_ATTRIBUTES = frozenset(
    {
        "compute_environment_name",
        "name",
        "type",
        "state",
        "service_role",
        "compute_resources",
        "update_policy",
        "tags",
        "lifecycle",
        "depends_on",
    }
)
_RESOURCE_ATTRIBUTES = frozenset(
    {
        "type",
        "allocation_strategy",
        "min_vcpus",
        "max_vcpus",
        "desired_vcpus",
        "instance_type",
        "subnets",
        "security_group_ids",
        "instance_role",
        "spot_iam_fleet_role",
        "bid_percentage",
        "ec2_key_pair",
        "launch_template",
        "ec2_configuration",
        "tags",
    }
)
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
_JOB_DEFINITION_BATCH_NAMES = {
    "node_properties": "nodeProperties",
    "eks_properties": "eksProperties",
    "ecs_properties": "ecsProperties",
}

_E = TypeVar("_E")


def import_from_terraform(
    files: Sequence[TerraformFile], *, region: str | None = None, namespace: str | None = None
) -> ImportResult:
    """Manifests for the compute environments, job queues and job definitions of `files`.

    `region` defaults to the literal region of the files' `provider "aws"` block, if any.
    Raises TerraformError for a file that is not HCL or a value that must be a literal.
    """
    module = parse_module(files)
    region = region or module.provider_region
    environments = module.of_type(COMPUTE_ENVIRONMENT)
    ce_names = object_names(r.label for r in environments)
    objects = [_compute_environment(r, ce_names[r.label], region, namespace) for r in environments]
    queues = module.of_type(JOB_QUEUE)
    queue_names = object_names(r.label for r in queues)
    objects += [_job_queue(r, queue_names[r.label], ce_names, region, namespace) for r in queues]
    definitions = module.of_type(JOB_DEFINITION)
    pipeline = pipeline_from_job_definitions(
        [_job_definition(r, region) for r in definitions],
        queue_names[queues[0].label] if queues else None,
        ", ".join(dict.fromkeys(f"{r.file}: {JOB_DEFINITION}" for r in definitions)),
        namespace,
    )
    return ImportResult(tuple(objects), pipeline)


@dataclass(frozen=True)
class _Reader:
    """Reads one resource's attributes; every non-literal string becomes a placeholder."""

    resource: TerraformResource
    region: str | None

    def text(self, value: object) -> str | None:
        """A string attribute; interpolations become placeholders."""
        if value is None:
            return None
        if not isinstance(value, str):
            return str(value)
        whole = whole_reference(value)
        if whole is not None:
            return placeholder_text(whole)
        return "".join(
            embedded_placeholder(part.text) if isinstance(part, Expression) else part
            for part in template_parts(value)
        )

    def texts(self, value: object) -> tuple[str, ...] | None:
        """A list of strings."""
        if value is None:
            return None
        if isinstance(value, str):  # a whole-list expression, e.g. var.subnet_ids
            return (self.text(value) or "",)
        if not isinstance(value, list):
            raise self.fail("", f"expected a list, not {value!r}")
        return tuple(self.text(item) or "" for item in value)

    def batch_name(self, value: object) -> str | None:
        """A name the CRD checks against Batch's name pattern."""
        if isinstance(value, str) and "${" in value:
            return placeholder_batch_name(value.replace("${", "").replace("}", ""))
        return self.text(value)

    def integer(self, body: Mapping[str, Any], key: str) -> int | None:
        """A number attribute; an expression here cannot be a placeholder, so it is an error."""
        value = body.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise self.fail(key, f"must be a literal number, not {value!r}")

    def choice(self, value: object, key: str, enum: Callable[[str], _E], default: str) -> _E:
        """An enum attribute (Terraform accepts any case; Batch's values are upper case)."""
        text = default if value is None else str(value).upper()
        try:
            return enum(text)
        except ValueError:
            raise self.fail(key, f"unsupported value {value!r}") from None

    def tags(self, value: object) -> Mapping[str, str] | None:
        """A map of strings."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("tags", f"must be a literal map, not {value!r}")
        return frozen_map({str(k): self.text(v) or "" for k, v in value.items()})

    def fail(self, key: str, message: str) -> TerraformError:
        """An error naming the file, resource and attribute."""
        return TerraformError(f"{self.resource.source}: {key} {message}")


def _unknown(body: Mapping[str, Any], known: frozenset[str], prefix: str = "") -> list[str]:
    return [
        f"{prefix}{key} not imported: batchops has no field for it"
        for key in body
        if key not in known
    ]


def _compute_environment(
    resource: TerraformResource, object_name: str, region: str | None, namespace: str | None
) -> ImportedObject:
    body, read = resource.body, _Reader(resource, region)
    name = body.get("compute_environment_name", body.get("name"))
    notes = _unknown(body, _CE_ATTRIBUTES)
    resources = block(body, "compute_resources")
    if resources is not None:
        notes += _unknown(resources, _RESOURCE_ATTRIBUTES, "compute_resources.")
    policy = block(body, "update_policy")
    spec = ComputeSpec(
        type=read.choice(body.get("type"), "type", ComputeEnvironmentType, "MANAGED"),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED"),
        compute_resources=_compute_resources(resources, read) if resources else None,
        service_role=read.text(body.get("service_role")),
        update_policy=(
            UpdatePolicy(
                terminate_jobs_on_update=policy.get("terminate_jobs_on_update"),
                job_execution_timeout_minutes=read.integer(policy, "job_execution_timeout_minutes"),
            )
            if policy
            else None
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        # Without a name Terraform generated one (name_prefix): only its state knows it.
        name=read.batch_name(name) or placeholder_batch_name(f"name_of_{resource.label}"),
        region=region,
        adopt=True,
    )
    imported = compute_environment_object(object_name, spec, resource.source, namespace)
    return ImportedObject(imported.manifest, imported.source, (*notes, *imported.notes))


def _compute_resources(cr: Mapping[str, Any], read: _Reader) -> ComputeResources:
    max_vcpus = read.integer(cr, "max_vcpus")
    if max_vcpus is None:
        raise read.fail("compute_resources.max_vcpus", "is required")
    strategy = cr.get("allocation_strategy")
    template = block(cr, "launch_template")
    configurations = blocks_of(cr, "ec2_configuration")
    return ComputeResources(
        type=read.choice(cr.get("type"), "compute_resources.type", ComputeResourceType, "EC2"),
        max_vcpus=max_vcpus,
        allocation_strategy=(
            read.choice(strategy, "allocation_strategy", AllocationStrategy, "BEST_FIT")
            if strategy is not None
            else None
        ),
        min_vcpus=read.integer(cr, "min_vcpus"),
        instance_types=read.texts(cr.get("instance_type")),
        subnets=read.texts(cr.get("subnets")),
        security_group_ids=read.texts(cr.get("security_group_ids")),
        instance_role=read.text(cr.get("instance_role")),
        spot_iam_fleet_role=read.text(cr.get("spot_iam_fleet_role")),
        bid_percentage=read.integer(cr, "bid_percentage"),
        ec2_key_pair=read.text(cr.get("ec2_key_pair")),
        launch_template=(
            LaunchTemplate(
                launch_template_id=read.text(template.get("launch_template_id")),
                launch_template_name=read.text(template.get("launch_template_name")),
                version=read.text(template.get("version")),
            )
            if template
            else None
        ),
        ec2_configuration=(
            tuple(
                Ec2Configuration(
                    image_type=read.text(c.get("image_type")) or "ECS_AL2",
                    image_id_override=read.text(c.get("image_id_override")),
                    image_kubernetes_version=read.text(c.get("image_kubernetes_version")),
                )
                for c in configurations
            )
            if configurations
            else None
        ),
        tags=read.tags(cr.get("tags")),
    )


def _job_queue(
    resource: TerraformResource,
    object_name: str,
    ce_names: Mapping[str, str],
    region: str | None,
    namespace: str | None,
) -> ImportedObject:
    body, read = resource.body, _Reader(resource, region)
    order_blocks = blocks_of(body, "compute_environment_order")
    if order_blocks:
        pairs = [
            (read.integer(entry, "order") or 0, entry.get("compute_environment"))
            for entry in order_blocks
        ]
    else:
        # The deprecated list form: the provider numbers the entries from 0 in list order.
        listed = body.get("compute_environments") or []
        pairs = list(enumerate([listed] if isinstance(listed, str) else listed))
    actions = blocks_of(body, "job_state_time_limit_action")
    policy = body.get("scheduling_policy_arn")
    spec = QueueSpec(
        priority=read.integer(body, "priority") or 0,
        compute_environments=tuple(
            _compute_environment_entry(order, value, ce_names, read) for order, value in pairs
        ),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED"),
        scheduling_policy_arn=_scheduling_policy_arn(policy, read),
        job_state_time_limit_actions=tuple(
            JobStateTimeLimitAction(
                reason=read.text(a.get("reason")) or "",
                max_time_seconds=read.integer(a, "max_time_seconds") or 0,
                state=str(a.get("state", "RUNNABLE")).upper(),
                action=str(a.get("action", "CANCEL")).upper(),
            )
            for a in actions
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        name=read.batch_name(body.get("name")) or placeholder_batch_name(resource.label),
        region=region,
        adopt=True,
    )
    imported = job_queue_object(object_name, spec, resource.source, namespace)
    notes = _unknown(body, _QUEUE_ATTRIBUTES)
    return ImportedObject(imported.manifest, imported.source, (*notes, *imported.notes))


def _compute_environment_entry(
    order: int, value: object, ce_names: Mapping[str, str], read: _Reader
) -> ComputeEnvironmentEntry:
    expression = whole_reference(value)
    if expression is not None:
        match = _CE_REFERENCE.match(expression)
        if match and match["label"] in ce_names:
            return ComputeEnvironmentEntry(order=order, ref=ce_names[match["label"]])
        return ComputeEnvironmentEntry(
            order=order, arn=placeholder_arn("compute-environment", expression, read.region)
        )
    text = read.text(value) or ""
    if _CE_ARN.match(text):
        return ComputeEnvironmentEntry(order=order, arn=text)
    return ComputeEnvironmentEntry(
        order=order, arn=placeholder_arn("compute-environment", text, read.region)
    )


def _scheduling_policy_arn(value: object, read: _Reader) -> str | None:
    expression = whole_reference(value)
    if expression is None:
        return read.text(value)
    return placeholder_arn("scheduling-policy", expression, read.region)


def _job_definition(resource: TerraformResource, region: str | None) -> JobDefinitionSource:
    """The definition in Batch's camelCase shape, as RegisterJobDefinition would receive it."""
    body, read = resource.body, _Reader(resource, region)
    definition: dict[str, Any] = {"type": str(body.get("type", "container")).lower()}
    if body.get("container_properties") is not None:
        definition["containerProperties"] = document_value(
            body["container_properties"], f"{resource.source}: container_properties"
        )
    for key, batch_key in _JOB_DEFINITION_BATCH_NAMES.items():
        if body.get(key) is not None:
            definition[batch_key] = body[key]
    if body.get("parameters"):
        definition["parameters"] = dict(body["parameters"])
    retry = block(body, "retry_strategy")
    if retry:
        definition["retryStrategy"] = {
            "attempts": read.integer(retry, "attempts"),
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
    if timeout:
        definition["timeout"] = {
            "attemptDurationSeconds": read.integer(timeout, "attempt_duration_seconds")
        }
    for key, batch_key in (
        ("platform_capabilities", "platformCapabilities"),
        ("propagate_tags", "propagateTags"),
        ("scheduling_priority", "schedulingPriority"),
        ("tags", "tags"),
    ):
        if body.get(key) is not None:
            definition[batch_key] = body[key]
    name = body.get("name")
    reference = read.batch_name(name) or resource.label
    # A step is named after the definition; a computed name can't be, so the label stands in.
    step = name if isinstance(name, str) and "${" not in name else resource.label
    return JobDefinitionSource(step, _resolved(definition, read), reference, resource.source)


def _resolved(value: Any, read: _Reader) -> Any:
    """Every string of a decoded document with its interpolations turned into placeholders."""
    if isinstance(value, str):
        return read.text(value)
    if isinstance(value, Mapping):
        return {key: _resolved(item, read) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, read) for item in value]
    return value
