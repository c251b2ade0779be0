"""Terraform `aws_batch_*` resources -> manifests adopting the resources Terraform created.

Attributes are read into the operator's spec model, then written by the same code as an AWS
import. A reference to another compute environment of the same files becomes a `ref:` to its
object. Expressions are evaluated offline first (`expressions`: variable defaults, locals,
merge(), count/for_each instances, dynamic blocks); what is left (data sources, other
resources' attributes, variables without a default) becomes a `REPLACE-ME` placeholder at its
field path, with a note naming the file, line and expression. Nothing aborts the import but a
file that is not HCL, and nothing is dropped without a note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from batchops.importing.batch_module import is_batch_module, resources_of_batch_module
from batchops.importing.expressions import (
    NO_DEFAULT,
    REFERENCE_REASONS,
    Definition,
    JsonDocument,
    Scope,
    Trace,
    Unknown,
    Value,
    evaluate,
    has_unknown,
    plain,
    text_of,
)
from batchops.importing.hcl import (
    TerraformFile,
    TerraformModule,
    TerraformResource,
    attribute_line,
    block,
    blocks_of,
    parse_module,
)
from batchops.importing.manifests import (
    ImportedObject,
    ImportResult,
    compute_environment_object,
    job_queue_object,
)
from batchops.importing.names import object_names
from batchops.importing.placeholders import (
    MARK,
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

_CE_REFERENCE = re.compile(
    rf"^(?P<address>(module\.[\w-]+(\[[^\]]*\])?\.)?{COMPUTE_ENVIRONMENT}\.[\w-]+(\[[^\]]*\])?)"
    r"\.(arn|id|name|compute_environment_name)$"
)
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
        "placement_group",
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
# JSON documents in Batch's own shape (the provider takes them as jsonencode()d strings).
# eks_properties is an HCL block with snake_case names instead: it is kept under its Terraform
# name, which no step field has, so the definition is referenced rather than inlined wrongly.
_JOB_DEFINITION_BATCH_NAMES = {
    "node_properties": "nodeProperties",
    "eks_properties": "eks_properties",
    "ecs_properties": "ecsProperties",
}

_E = TypeVar("_E")

# Meta-arguments: Terraform's, not the resource's; never evaluated as values.
_META = frozenset({"count", "for_each", "lifecycle", "depends_on", "provider", "provisioner"})
_STAND_IN = 1
"""A number written into the model where the manifest will get a placeholder instead."""


def import_from_terraform(
    files: Sequence[TerraformFile],
    *,
    region: str | None = None,
    namespace: str | None = None,
    variables: Mapping[str, object] | None = None,
) -> ImportResult:
    """Manifests for the compute environments, job queues and job definitions of `files`, and
    of the terraform-aws-modules/batch module calls in them.

    `variables` are values given on the command line (they win over defaults, as `-var` does).
    `region` defaults to the files' `provider "aws"` region, if known.
    Raises TerraformError only for a file that is not HCL.
    """
    module = parse_module(files)
    scope = _scope(module, variables or {})
    region = region or _provider_region(module, scope)
    warnings: list[str] = []
    instances: list[ResourceInstance] = []
    for resource in module.resources:
        if resource.type in (COMPUTE_ENVIRONMENT, JOB_QUEUE, JOB_DEFINITION):
            instances += _instances(resource, scope, module, warnings)
    for call in module.modules:
        source = call.body.get("source")
        if is_batch_module(source):
            found = resources_of_batch_module(call, evaluate(call.body, scope), warnings)
            instances += [
                ResourceInstance(r, r.body, r.label.replace('this["', "").rstrip('"]'), ())
                for r in found
            ]
        else:
            warnings.append(
                f"{call.where}: module.{call.label} (source {source!r}) not imported: batchops "
                "reads the inputs of terraform-aws-modules/batch only. Import what it creates "
                "with --from-aws, or list its aws_batch_* resources in the files"
            )
    return import_instances(instances, region=region, namespace=namespace, warnings=warnings)


def import_instances(
    instances: Sequence[ResourceInstance],
    *,
    region: str | None,
    namespace: str | None,
    warnings: Sequence[str] = (),
) -> ImportResult:
    """Manifests for resource instances whose bodies are already evaluated: the part of the
    import the `.tf` reader and the `terraform show -json` reader share."""
    environments = [i for i in instances if i.resource.type == COMPUTE_ENVIRONMENT]
    ce_names = object_names(i.base for i in environments)
    ce_objects = {i.resource.address: ce_names[i.base] for i in environments}
    ce_by_arn = {i.arn: ce_names[i.base] for i in environments if i.arn}
    objects = [_compute_environment(i, ce_names[i.base], region, namespace) for i in environments]
    ce_by_aws_name = {
        str(obj.manifest["spec"]["name"]): obj.manifest["metadata"]["name"] for obj in objects
    }
    queues = [i for i in instances if i.resource.type == JOB_QUEUE]
    queue_names = object_names(i.base for i in queues)
    objects += [
        _job_queue(
            i,
            queue_names[i.base],
            _CeNames(ce_objects, ce_by_aws_name, ce_by_arn),
            region,
            namespace,
        )
        for i in queues
    ]
    definitions = [i for i in instances if i.resource.type == JOB_DEFINITION]
    pipeline = pipeline_from_job_definitions(
        [_job_definition(i, region) for i in definitions],
        queue_names[queues[0].base] if queues else None,
        ", ".join(dict.fromkeys(f"{i.resource.file}: {JOB_DEFINITION}" for i in definitions)),
        namespace,
    )
    return ImportResult(tuple(objects), pipeline, tuple(warnings))


@dataclass(frozen=True)
class ResourceInstance:
    """One instance of a resource (`count`/`for_each` make several), its body evaluated."""

    resource: TerraformResource
    body: Mapping[str, Value]
    base: str
    """What its object name is made from: the label, with the instance key if any."""
    notes: tuple[str, ...]
    arn: str | None = None
    """Its ARN when known (a state knows it; `.tf` files don't): a queue naming it gets a ref."""


@dataclass(frozen=True)
class _CeNames:
    by_address: Mapping[str, str]
    by_aws_name: Mapping[str, str]
    by_arn: Mapping[str, str]


def _scope(module: TerraformModule, given: Mapping[str, object]) -> Scope:
    variables: dict[str, Definition] = {}
    for variable in module.variables:
        default = variable.body.get("default", NO_DEFAULT)
        variables[variable.label] = Definition(
            default, f'the default of variable "{variable.label}" ({variable.where})'
        )
    for name, value in given.items():
        variables[name] = Definition(value, f"the value given for {name}")
    locals_ = {
        block.label: Definition(block.body["value"], f"locals ({block.where})")
        for block in module.locals
    }
    return Scope(variables, locals_)


def _provider_region(module: TerraformModule, scope: Scope) -> str | None:
    if module.provider_region:
        return module.provider_region
    return None


def _instances(
    resource: TerraformResource, scope: Scope, module: TerraformModule, warnings: list[str]
) -> list[ResourceInstance]:
    """One instance per count index or for_each key when they are known, else one standing for
    all of them (with a warning saying the others are missing)."""
    text = module.texts.get(resource.file, "")
    where = f"{resource.file}:{attribute_line(text, resource.line, ['count'])}"
    if "count" in resource.body:
        count = evaluate(resource.body["count"], scope)
        if isinstance(count, int) and not isinstance(count, bool):
            return [
                _instance(
                    resource,
                    f"[{i}]",
                    f"{resource.label}-{i}",
                    scope.bind(count={"index": i}),
                    text,
                )
                for i in range(count)
            ]
        warnings.append(
            f"{where}: {resource.address}: count = {_shown(resource.body['count'])} is not known "
            "offline: one manifest stands for every instance, the other instances are missing "
            "(add one copy per instance)"
        )
        return [
            _instance(
                resource,
                "",
                resource.label,
                scope.bind(count={"index": Unknown("count.index")}),
                text,
            )
        ]
    if "for_each" in resource.body:
        where = f"{resource.file}:{attribute_line(text, resource.line, ['for_each'])}"
        collection = evaluate(resource.body["for_each"], scope)
        items: list[tuple[str, Value]] | None = None
        if isinstance(collection, Mapping) and not isinstance(collection, Unknown):
            items = [(str(k), v) for k, v in collection.items()]
        elif isinstance(collection, list) and not has_unknown(collection):
            items = [(text_of(v), v) for v in collection]
        if items is not None:
            return [
                _instance(
                    resource,
                    f'["{key}"]',
                    f"{resource.label}-{key}",
                    scope.bind(each={"key": key, "value": value}),
                    text,
                )
                for key, value in items
            ]
        warnings.append(
            f"{where}: {resource.address}: for_each = {_shown(resource.body['for_each'])} is "
            "not known offline: one manifest stands for every instance, the other instances "
            "are missing (add one copy per key)"
        )
        each = {"key": Unknown("each.key"), "value": Unknown("each.value")}
        return [_instance(resource, "", resource.label, scope.bind(each=each), text)]
    return [_instance(resource, "", resource.label, scope, text)]


def _instance(
    resource: TerraformResource, key: str, base: str, scope: Scope, text: str
) -> ResourceInstance:
    located = TerraformResource(
        resource.file, resource.type, f"{resource.label}{key}", resource.body, resource.line
    )
    notes: list[str] = []
    body = _evaluate_body(resource.body, scope, _Locator(text, resource), (), notes)
    return ResourceInstance(located, body, base, tuple(dict.fromkeys(notes)))


@dataclass(frozen=True)
class _Locator:
    text: str
    resource: TerraformResource

    def where(self, path: Sequence[str]) -> str:
        line = attribute_line(self.text, self.resource.line, [p for p in path if p])
        return f"{self.resource.file}:{line}" if line else self.resource.file


def _evaluate_body(
    raw: Mapping[str, Any],
    scope: Scope,
    locator: _Locator,
    path: tuple[str, ...],
    notes: list[str],
) -> dict[str, Value]:
    """A block body with every attribute evaluated and `dynamic` blocks expanded; notes say
    what was resolved from where, and what stays a placeholder."""
    out: dict[str, Value] = {}
    for key, value in raw.items():
        if key in _META:
            out[key] = value
        elif key == "dynamic":
            for entry in value if isinstance(value, list) else [value]:
                for name, spec in entry.items():
                    out.setdefault(name, [])
                    out[name] = [
                        *_as_blocks(out[name]),
                        *_dynamic(name, spec, scope, locator, (*path, name), notes),
                    ]
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            blocks = [_evaluate_body(v, scope, locator, (*path, key), notes) for v in value]
            out[key] = [*_as_blocks(out.get(key, [])), *blocks]
        else:
            trace = Trace()
            out[key] = evaluate(value, scope, trace)
            _note_trace(trace, locator, (*path, key), value, notes)
    return out


def _as_blocks(value: object) -> list[Value]:
    return list(value) if isinstance(value, list) else [value]


def _dynamic(
    name: str,
    spec: Mapping[str, Any],
    scope: Scope,
    locator: _Locator,
    path: tuple[str, ...],
    notes: list[str],
) -> list[dict[str, Value]]:
    iterator = spec.get("iterator", name)
    iterator = iterator if isinstance(iterator, str) else name
    contents = blocks_of(spec, "content")
    content = contents[0] if contents else {}
    collection = evaluate(spec.get("for_each"), scope)
    where = locator.where(path)
    if isinstance(collection, Mapping):
        items: list[tuple[Value, Value]] = list(collection.items())
    elif isinstance(collection, list) and not isinstance(collection, Unknown):
        items = list(enumerate(collection))
    else:
        notes.append(
            f"{where}: dynamic {name!r} over {_shown(spec.get('for_each'))} is not known "
            "offline: expanded once with placeholders for its iterator; Terraform may create "
            "none or several"
        )
        unknown = {"key": Unknown(f"{iterator}.key"), "value": Unknown(f"{iterator}.value")}
        return [_evaluate_body(content, scope.bind(**{iterator: unknown}), locator, path, notes)]
    if not items:
        notes.append(f"{where}: dynamic {name!r} is empty: its for_each gives no element")
    return [
        _evaluate_body(
            content, scope.bind(**{iterator: {"key": k, "value": v}}), locator, path, notes
        )
        for k, v in items
    ]


def _note_trace(
    trace: Trace, locator: _Locator, path: tuple[str, ...], raw: object, notes: list[str]
) -> None:
    if not trace.resolved and not trace.unknown:
        return
    where, name, shown = locator.where(path), ".".join(path), _shown(raw)
    # A plain reference (data source, another resource) is listed with its placeholder already;
    # a note is for what the reader may not expect: a variable without value, a function...
    trace.unknown = [u for u in trace.unknown if u.reason not in REFERENCE_REASONS]
    if trace.unknown:
        reasons = "; ".join(dict.fromkeys(f"{u.expression}: {u.reason}" for u in trace.unknown))
        notes.append(f"{where}: {name} = {shown}: not known offline ({reasons}): {MARK}")
    if trace.resolved:
        sources = ", ".join(dict.fromkeys(trace.resolved))
        notes.append(f"{where}: {name} = {shown}: resolved with {sources}")


def _shown(raw: object) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        text = text[2:-1]
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


class _Reader:
    """Reads one instance's evaluated attributes into the model. A value that is unknown
    becomes a placeholder: strings directly, numbers and enums through `patches` (the model
    holds a stand-in, the manifest gets the placeholder at that field path)."""

    def __init__(self, instance: ResourceInstance, region: str | None) -> None:
        self.instance = instance
        self.region = region
        self.patches: dict[str, str] = {}
        self.notes: list[str] = []

    def text(self, value: object) -> str | None:
        """A string attribute; unknown parts are placeholders."""
        if value is None:
            return None
        if isinstance(value, Unknown):
            return placeholder_text(value.expression)
        if isinstance(value, JsonDocument) or not isinstance(value, (list, dict)):
            if has_unknown(value):
                return placeholder_text("jsonencode(...) with unknown parts")
            return text_of(value)
        return placeholder_text(text_of(value))

    def texts(self, value: object) -> tuple[str, ...] | None:
        """A list of strings (a whole-list expression is one placeholder element)."""
        if value is None:
            return None
        if isinstance(value, list):
            return tuple(self.text(item) or "" for item in value)
        return (self.text(value) or "",)

    def batch_name(self, value: object) -> str | None:
        """A name the CRD checks against Batch's name pattern."""
        if isinstance(value, Unknown):
            return placeholder_batch_name(value.expression)
        text = self.text(value)
        if text is not None and MARK in text:
            return placeholder_batch_name(text.replace(f"<{MARK} ", "").replace(f"{MARK} ", ""))
        return text

    def integer(self, body: Mapping[str, Any], key: str, field: str) -> int | None:
        """A number attribute; an unknown one is a placeholder at `field` of the manifest."""
        value = body.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        self.patches[field] = (
            placeholder_text(value.expression)
            if isinstance(value, Unknown)
            else placeholder_text(f"{key} = {value!r} is not a number")
        )
        return _STAND_IN

    def choice(
        self, value: object, key: str, enum: Callable[[str], _E], default: str, field: str
    ) -> _E:
        """An enum attribute (Terraform accepts any case; Batch's values are upper case)."""
        if isinstance(value, Unknown):
            self.patches[field] = placeholder_text(value.expression)
            return enum(default)
        text = default if value is None else text_of(value).upper()
        try:
            return enum(text)
        except ValueError:
            self.patches[field] = placeholder_text(f"{key} = {value!r} is not supported")
            return enum(default)

    def tags(self, value: object) -> Mapping[str, str] | None:
        """A map of strings; an unknown map is one placeholder entry."""
        if value is None:
            return None
        if isinstance(value, Mapping):
            return frozen_map({str(k): self.text(v) or "" for k, v in value.items()})
        return frozen_map({MARK: self.text(value) or ""})


def _patched(imported: ImportedObject, read: _Reader, notes: Sequence[str]) -> ImportedObject:
    """The object with the reader's placeholders written over the model's stand-ins."""
    manifest = imported.manifest
    for field, placeholder in read.patches.items():
        *parents, leaf = field.split(".")
        target: Any = manifest
        for parent in parents:
            target = target.get(parent) if isinstance(target, dict) else None
        if isinstance(target, dict) and leaf in target:
            target[leaf] = placeholder
    all_notes = (*read.instance.notes, *notes, *read.notes, *imported.notes)
    return ImportedObject(manifest, imported.source, tuple(dict.fromkeys(all_notes)))


def _unknown(body: Mapping[str, Any], known: frozenset[str], prefix: str = "") -> list[str]:
    return [
        f"{prefix}{key} not imported: batchops has no field for it"
        for key in body
        if key not in known and key not in _META
    ]


def _compute_environment(
    instance: ResourceInstance, object_name: str, region: str | None, namespace: str | None
) -> ImportedObject:
    body, read = instance.body, _Reader(instance, region)
    name = body.get("compute_environment_name", body.get("name"))
    notes = _unknown(body, _CE_ATTRIBUTES | {"name_prefix", "compute_environment_name_prefix"})
    resources = block(body, "compute_resources")
    if resources is not None:
        notes += _unknown(resources, _RESOURCE_ATTRIBUTES, "compute_resources.")
    policy = block(body, "update_policy")
    spec = ComputeSpec(
        type=read.choice(body.get("type"), "type", ComputeEnvironmentType, "MANAGED", "spec.type"),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED", "spec.state"),
        compute_resources=_compute_resources(resources, read) if resources else None,
        service_role=read.text(body.get("service_role")),
        update_policy=(
            UpdatePolicy(
                terminate_jobs_on_update=(
                    policy.get("terminate_jobs_on_update")
                    if isinstance(policy.get("terminate_jobs_on_update"), bool)
                    else None
                ),
                job_execution_timeout_minutes=read.integer(
                    policy,
                    "job_execution_timeout_minutes",
                    "spec.updatePolicy.jobExecutionTimeoutMinutes",
                ),
            )
            if policy
            else None
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        # Without a name Terraform generated one (name_prefix): only its state knows it.
        name=read.batch_name(name) or _generated_name(body, instance),
        region=region,
        adopt=True,
    )
    imported = compute_environment_object(object_name, spec, instance.resource.source, namespace)
    return _patched(imported, read, notes)


def _generated_name(body: Mapping[str, Any], instance: ResourceInstance) -> str:
    prefix = body.get("name_prefix", body.get("compute_environment_name_prefix"))
    if isinstance(prefix, str) and MARK not in prefix:
        return placeholder_batch_name(f"{prefix}generated_suffix")
    return placeholder_batch_name(f"name_of_{instance.base}")


def _compute_resources(cr: Mapping[str, Any], read: _Reader) -> ComputeResources:
    at = "spec.computeResources."
    max_vcpus = read.integer(cr, "max_vcpus", at + "maxvCpus")
    if max_vcpus is None:
        read.patches[at + "maxvCpus"] = placeholder_text("compute_resources.max_vcpus (not set)")
        max_vcpus = _STAND_IN
    strategy = cr.get("allocation_strategy")
    template = block(cr, "launch_template")
    configurations = blocks_of(cr, "ec2_configuration")
    return ComputeResources(
        type=read.choice(
            cr.get("type"), "compute_resources.type", ComputeResourceType, "EC2", at + "type"
        ),
        max_vcpus=max_vcpus,
        allocation_strategy=(
            read.choice(
                strategy,
                "allocation_strategy",
                AllocationStrategy,
                "BEST_FIT",
                at + "allocationStrategy",
            )
            if strategy is not None
            else None
        ),
        min_vcpus=read.integer(cr, "min_vcpus", at + "minvCpus"),
        instance_types=read.texts(cr.get("instance_type")),
        subnets=read.texts(cr.get("subnets")),
        security_group_ids=read.texts(cr.get("security_group_ids")),
        instance_role=read.text(cr.get("instance_role")),
        spot_iam_fleet_role=read.text(cr.get("spot_iam_fleet_role")),
        bid_percentage=read.integer(cr, "bid_percentage", at + "bidPercentage"),
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
        placement_group=read.text(cr.get("placement_group")),
    )


def _job_queue(
    instance: ResourceInstance,
    object_name: str,
    ce_names: _CeNames,
    region: str | None,
    namespace: str | None,
) -> ImportedObject:
    body, read = instance.body, _Reader(instance, region)
    order_blocks = blocks_of(body, "compute_environment_order")
    pairs: list[tuple[int, object]]
    if order_blocks:
        pairs = [
            (index, entry.get("compute_environment")) for index, entry in enumerate(order_blocks)
        ]
        orders = [entry.get("order") for entry in order_blocks]
        pairs = [
            (order if isinstance(order, int) and not isinstance(order, bool) else index, value)
            for (index, value), order in zip(pairs, orders, strict=True)
        ]
    else:
        # The deprecated list form: the provider numbers the entries from 0 in list order.
        listed = body.get("compute_environments") or []
        pairs = list(enumerate(listed if isinstance(listed, list) else [listed]))
    actions = blocks_of(body, "job_state_time_limit_action")
    spec = QueueSpec(
        priority=read.integer(body, "priority", "spec.priority") or 0,
        compute_environments=tuple(
            _compute_environment_entry(order, value, ce_names, read) for order, value in pairs
        ),
        state=read.choice(body.get("state"), "state", ResourceState, "ENABLED", "spec.state"),
        scheduling_policy_arn=_scheduling_policy_arn(body.get("scheduling_policy_arn"), read),
        job_state_time_limit_actions=tuple(
            JobStateTimeLimitAction(
                reason=read.text(a.get("reason")) or "",
                max_time_seconds=read.integer(a, "max_time_seconds", "-") or 0,
                state=text_of(a.get("state", "RUNNABLE")).upper(),
                action=text_of(a.get("action", "CANCEL")).upper(),
            )
            for a in actions
        ),
        tags=read.tags(body.get("tags")) or frozen_map(None),
        name=read.batch_name(body.get("name")) or placeholder_batch_name(instance.base),
        region=region,
        adopt=True,
    )
    imported = job_queue_object(object_name, spec, instance.resource.source, namespace)
    return _patched(imported, read, _unknown(body, _QUEUE_ATTRIBUTES))


def _compute_environment_entry(
    order: int, value: object, ce_names: _CeNames, read: _Reader
) -> ComputeEnvironmentEntry:
    if isinstance(value, Unknown):
        match = _CE_REFERENCE.match(value.expression)
        if match and match["address"] in ce_names.by_address:
            return ComputeEnvironmentEntry(order=order, ref=ce_names.by_address[match["address"]])
        return ComputeEnvironmentEntry(
            order=order, arn=placeholder_arn("compute-environment", value.expression, read.region)
        )
    text = read.text(value) or ""
    if text in ce_names.by_arn:
        return ComputeEnvironmentEntry(order=order, ref=ce_names.by_arn[text])
    if _CE_ARN.match(text):
        return ComputeEnvironmentEntry(order=order, arn=text)
    if text in ce_names.by_aws_name:
        return ComputeEnvironmentEntry(order=order, ref=ce_names.by_aws_name[text])
    return ComputeEnvironmentEntry(
        order=order, arn=placeholder_arn("compute-environment", text, read.region)
    )


def _scheduling_policy_arn(value: object, read: _Reader) -> str | None:
    if isinstance(value, Unknown):
        return placeholder_arn("scheduling-policy", value.expression, read.region)
    text = read.text(value)
    if text is not None and MARK in text:
        return placeholder_arn("scheduling-policy", text.replace(MARK, ""), read.region)
    return text


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


def _job_definition(instance: ResourceInstance, region: str | None) -> JobDefinitionSource:
    """The definition in Batch's camelCase shape, as RegisterJobDefinition would receive it."""
    body, read = instance.body, _Reader(instance, region)
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


def _resolved(value: Any, read: _Reader) -> Any:
    """A decoded document with every unknown part turned into a placeholder string."""
    if isinstance(value, (Unknown, JsonDocument)):
        return read.text(value) if has_unknown(value) else plain(value)
    if isinstance(value, Mapping):
        return {key: _resolved(item, read) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolved(item, read) for item in value]
    return value
