"""`terraform show -json` output (a state or a saved plan) -> the manifests the `.tf` reader makes.

The most faithful source when a user can run Terraform: every variable, local, module input and
`count`/`for_each` is already resolved, so a placeholder is left only for what Terraform itself
does not know yet (a plan's "known after apply") or marks sensitive. The shapes read are those of
HashiCorp's "JSON Output Format" (https://developer.hashicorp.com/terraform/internals/json-format):

- a state is `{"values": <values-representation>}`; a plan has `"planned_values"` in the same
  representation, plus `"resource_changes"` (each `change.after_unknown` marks the attributes
  planned_values omits because they are unknown) and `"configuration"` (each attribute's
  `references`, which name what an unknown value will come from);
- a values representation is `root_module.resources[]` (`address`, `mode`, `type`, `name`,
  `index` for a count/for_each instance, `values` with the provider's snake_case attributes,
  `sensitive_values` marking sensitive ones) and `child_modules[]` (`address`, `resources`,
  `child_modules`) recursively.

Values are turned into the bodies `from_terraform` reads (blocks are lists of objects in both),
so the field mapping stays in one place: `from_terraform.import_instances`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchops.importing.expression_values import Unknown, Value
from batchops.importing.from_terraform import import_instances
from batchops.importing.hcl import TerraformError, TerraformResource
from batchops.importing.manifests import ImportResult
from batchops.importing.placeholders import MARK
from batchops.importing.terraform_instances import (
    COMPUTE_ENVIRONMENT,
    CONSUMABLE_RESOURCE,
    IMPORTED_TYPES,
    JOB_DEFINITION,
    JOB_QUEUE,
    SCHEDULING_POLICY,
    ResourceInstance,
)

_FORMAT_MAJOR = "1"

# What the provider computes (or AWS's scaling state): not configuration, so not in a spec.
_COMPUTED: Mapping[str, frozenset[str]] = {
    COMPUTE_ENVIRONMENT: frozenset(
        {"arn", "id", "ecs_cluster_arn", "status", "status_reason", "tags_all"}
    ),
    JOB_QUEUE: frozenset({"arn", "id", "tags_all", "timeouts"}),
    JOB_DEFINITION: frozenset(
        {"arn", "arn_prefix", "id", "revision", "tags_all", "deregister_on_new_revision"}
    ),
    SCHEDULING_POLICY: frozenset({"arn", "id", "tags_all"}),
    CONSUMABLE_RESOURCE: frozenset({"arn", "id", "tags_all"}),
}
_UNSET = object()
"""Drop whatever the value (known or not): `desired_vcpus` is AWS's scaling state."""
# What the provider (or AWS) writes into the state when the configuration leaves an attribute
# unset, and plans as unknown: dropped so the manifest says what the `.tf` files said (a bid
# of 0 means "unset": Batch's default is 100%; ECS_AL2 is what Batch picks for EC2 itself).
_FILLED_WHEN_UNSET: Mapping[str, Mapping[tuple[str, ...], object]] = {
    COMPUTE_ENVIRONMENT: {
        ("compute_resources", "desired_vcpus"): _UNSET,
        ("compute_resources", "bid_percentage"): 0,
        ("compute_resources", "ec2_configuration"): [{"image_type": "ECS_AL2"}],
    },
    JOB_DEFINITION: {("propagate_tags",): False, ("scheduling_priority",): 0},
    # 0 is what AWS reports for an unset reservation and decay (0 decay: AWS's minimum window).
    SCHEDULING_POLICY: {
        ("fair_share_policy", "compute_reservation"): 0,
        ("fair_share_policy", "share_decay_seconds"): 0,
    },
}
# Batch JSON documents the provider keeps as strings (container_properties is decoded later,
# with the `.tf` reader's own handling of a document that is not JSON).
_JSON_STRINGS = ("node_properties", "ecs_properties")
_NAME_PREFIXES = {
    "name": "name_prefix",
    "compute_environment_name": "compute_environment_name_prefix",
}
_INSTANCE_KEY = re.compile(r'\[("[^"]*"|\d+)\]')
_IMPORTED_REFERENCE = re.compile(rf"(^|\.)({COMPUTE_ENVIRONMENT}|{SCHEDULING_POLICY})\.")


def import_from_terraform_json(
    text: str, path: str, *, region: str | None = None, namespace: str | None = None
) -> ImportResult:
    """Manifests for the Batch resources of `terraform show -json` output (state or plan).

    `region` defaults to the region in the resources' ARNs. Raises TerraformError for a file
    that is not that output (not JSON, a raw .tfstate, an unsupported format_version).
    """
    output = _load(text, path)
    plan = "planned_values" in output
    values = output.get("planned_values" if plan else "values")
    root = values.get("root_module") if isinstance(values, Mapping) else None
    changes = _unknown_marks(output) if plan else {}
    configuration = _configured_expressions(output)
    warnings: list[str] = []
    instances: list[ResourceInstance] = []
    for module_address, resource in _resources(root if isinstance(root, Mapping) else {}):
        kind = resource.get("type")
        if resource.get("mode", "managed") != "managed":
            continue
        address = str(resource.get("address", ""))
        if kind not in IMPORTED_TYPES:
            continue
        marks = _Marks(
            address,
            module_address,
            changes.get(address),
            resource.get("sensitive_values"),
            configuration.get(_configuration_key(module_address, resource)),
            resource.get("index"),
        )
        instances.append(_instance(path, str(kind), resource, marks))
    region = region or _region_of_arns(instances) or _provider_region(output)
    if not instances and not warnings:
        found = "plan" if plan else "state"
        warnings.append(f"{path}: no {', '.join(IMPORTED_TYPES)} in this {found}")
    return import_instances(instances, region=region, namespace=namespace, warnings=warnings)


def _load(text: str, path: str) -> Mapping[str, Any]:
    try:
        output = json.loads(text)
    except ValueError as exc:
        raise TerraformError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(output, Mapping):
        raise TerraformError(f"{path}: not `terraform show -json` output (not a JSON object)")
    if "values" not in output and "planned_values" not in output:
        hint = (
            " (a raw .tfstate file: run `terraform show -json > state.json` on it)"
            if "resources" in output
            else ""
        )
        raise TerraformError(
            f"{path}: not `terraform show -json` output: no values or planned_values{hint}"
        )
    version = str(output.get("format_version", _FORMAT_MAJOR))
    if version.split(".")[0] != _FORMAT_MAJOR:
        raise TerraformError(f"{path}: format_version {version} is not supported (1.x is)")
    return output


def _resources(module: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every resource of the module tree, with the address of the module holding it."""
    address = str(module.get("address", ""))
    for resource in module.get("resources") or []:
        if isinstance(resource, Mapping):
            yield address, resource
    for child in module.get("child_modules") or []:
        if isinstance(child, Mapping):
            yield from _resources(child)


def _unknown_marks(plan: Mapping[str, Any]) -> dict[str, object]:
    """`after_unknown` of each planned change, by resource instance address."""
    marks: dict[str, object] = {}
    for change in plan.get("resource_changes") or []:
        if isinstance(change, Mapping) and isinstance(change.get("change"), Mapping):
            marks[str(change.get("address"))] = change["change"].get("after_unknown")
    return marks


def _configured_expressions(output: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each configured resource's `expressions`, by module path (no instance keys) and
    `type.name`: what a plan's unknown value refers to."""
    found: dict[str, Mapping[str, Any]] = {}
    configuration = output.get("configuration")

    def walk(module: object, prefix: str) -> None:
        if not isinstance(module, Mapping):
            return
        for resource in module.get("resources") or []:
            if isinstance(resource, Mapping) and isinstance(resource.get("expressions"), Mapping):
                found[f"{prefix}{resource.get('address')}"] = resource["expressions"]
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, Mapping):
                walk(call.get("module"), f"{prefix}module.{name}.")

    if isinstance(configuration, Mapping):
        walk(configuration.get("root_module"), "")
    return found


def _configuration_key(module_address: str, resource: Mapping[str, Any]) -> str:
    module_path = _INSTANCE_KEY.sub("", module_address)
    return (
        f"{module_path + '.' if module_path else ''}{resource.get('type')}.{resource.get('name')}"
    )


@dataclass(frozen=True)
class _Marks:
    """What Terraform says about one instance's values besides the values themselves."""

    address: str
    module_address: str
    unknown: object
    """`after_unknown`: `true` at each attribute known only after apply."""
    sensitive: object
    """`sensitive_values`: `true` at each sensitive attribute."""
    expressions: Mapping[str, Any] | None
    """The configuration's expressions for the resource, to name an unknown value's source."""
    index: object

    def placeholder(self, path: tuple[str, ...], sensitive: bool) -> Unknown:
        """An unknown: named after what the configuration refers to, else its own address."""
        if sensitive:
            return Unknown(
                f"{self.address}.{_dotted(path)}",
                "sensitive in Terraform's output: not copied into a manifest",
            )
        reference = self._reference(path)
        return Unknown(
            reference or f"{self.address}.{_dotted(path)}", "known only after terraform apply"
        )

    def _reference(self, path: tuple[str, ...]) -> str | None:
        node: object = self.expressions
        for part in path:
            if isinstance(node, Mapping) and "references" in node:
                break
            if isinstance(node, list):
                node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
            elif isinstance(node, Mapping):
                node = node.get(part)
        if not isinstance(node, Mapping) or not node.get("references"):
            return None
        reference = str(node["references"][0])
        if isinstance(self.index, int):
            reference = reference.replace("[count.index]", f"[{self.index}]")
        elif isinstance(self.index, str):
            reference = reference.replace("[each.key]", f'["{self.index}"]')
        local = reference.split(".")[0] in {"var", "local", "each", "count", "path"}
        return (
            reference if local or not self.module_address else f"{self.module_address}.{reference}"
        )


def _dotted(path: tuple[str, ...]) -> str:
    return "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path).lstrip(".")


def _instance(path: str, kind: str, resource: Mapping[str, Any], marks: _Marks) -> ResourceInstance:
    name, index = str(resource.get("name")), resource.get("index")
    key = "" if index is None else f"[{index}]" if isinstance(index, int) else f'["{index}"]'
    prefix = f"{marks.module_address}." if marks.module_address else ""
    located = TerraformResource(path, kind, f"{name}{key}", {}, 0, prefix)
    if index is None:
        base = name
    elif marks.module_address and name == "this":
        # terraform-aws-modules/batch's `this["<key>"]`: named by the key, as the .tf reader does.
        base = str(index)
    else:
        base = f"{name}-{index}"
    values = resource.get("values")
    raw: Mapping[str, Any] = values if isinstance(values, Mapping) else {}
    notes: list[str] = []
    body = _body(kind, raw, marks, notes)
    if marks.module_address:
        notes.insert(0, f"created by {marks.module_address}")
    arn = raw.get("arn")
    return ResourceInstance(
        TerraformResource(path, kind, located.label, body, 0, prefix),
        body,
        base,
        # An object's notes get its source prepended; the pipeline's name only the type.
        tuple(
            dict.fromkeys(
                f"{located.address}: {note}" if kind == JOB_DEFINITION else note for note in notes
            )
        ),
        arn if isinstance(arn, str) and arn else None,
    )


def _body(kind: str, raw: Mapping[str, Any], marks: _Marks, notes: list[str]) -> dict[str, Value]:
    """The values as the `.tf` reader's evaluated body: computed and unset attributes left out,
    unknown and sensitive ones as `Unknown`s."""
    marked = _marked(raw, marks.unknown, marks.sensitive, (), marks)
    body = marked if isinstance(marked, dict) else {}
    for key in _COMPUTED.get(kind, frozenset()):
        body.pop(key, None)
    for name_key, prefix_key in _NAME_PREFIXES.items():
        prefix = body.get(prefix_key)
        if isinstance(body.get(name_key), Unknown) and isinstance(prefix, str) and prefix:
            # Generated from the prefix at apply: the `.tf` reader's placeholder says so.
            body.pop(name_key)
        elif body.get(name_key) not in (None, ""):
            body.pop(prefix_key, None)
    for field, filled in _FILLED_WHEN_UNSET.get(kind, {}).items():
        _drop_if(body, field, filled)
    cleaned = _without_empty(body)
    out = cleaned if isinstance(cleaned, dict) else {}
    for key in _JSON_STRINGS:
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                notes.append(f"{key} is not JSON")
    documented = out.get("container_properties") if kind == JOB_DEFINITION else None
    for unknown in _unknowns(out):
        if unknown is documented:
            continue  # the step's own note says the definition runs as it is
        if _IMPORTED_REFERENCE.search(unknown.expression):
            # Another imported resource's ARN: a ref once read, else a listed placeholder ARN.
            continue
        notes.append(f"{unknown.expression}: {unknown.reason}: {MARK}")
    return out


def _marked(
    value: object, unknown: object, sensitive: object, path: tuple[str, ...], marks: _Marks
) -> Value:
    if sensitive is True:
        return marks.placeholder(path, sensitive=True)
    if unknown is True:
        return marks.placeholder(path, sensitive=False)
    if isinstance(value, Mapping) or isinstance(unknown, Mapping):
        known = value if isinstance(value, Mapping) else {}
        keys = dict.fromkeys([*known, *(unknown if isinstance(unknown, Mapping) else {})])
        return {
            str(k): _marked(
                known.get(k), _at(unknown, k), _at(sensitive, k), (*path, str(k)), marks
            )
            for k in keys
        }
    if isinstance(value, list) or isinstance(unknown, list):
        items = value if isinstance(value, list) else []
        length = max(len(items), len(unknown) if isinstance(unknown, list) else 0)
        return [
            _marked(
                items[i] if i < len(items) else None,
                _at(unknown, i),
                _at(sensitive, i),
                (*path, str(i)),
                marks,
            )
            for i in range(length)
        ]
    return value


def _at(marks: object, key: str | int) -> object:
    if isinstance(marks, Mapping) and isinstance(key, str):
        return marks.get(key)
    if isinstance(marks, list) and isinstance(key, int) and key < len(marks):
        return marks[key]
    return None


def _drop_if(body: dict[str, Value], field: tuple[str, ...], filled: object) -> None:
    """Remove `field` (through single blocks) when it holds what the provider fills in."""
    *parents, leaf = field
    target: object = body
    for part in parents:
        target = target.get(part) if isinstance(target, Mapping) else None
        target = target[0] if isinstance(target, list) and len(target) == 1 else target
    if not isinstance(target, dict) or leaf not in target:
        return
    value = target[leaf]
    if filled is _UNSET or isinstance(value, Unknown) or _without_empty(value) == filled:
        del target[leaf]


def _without_empty(value: Value) -> Value:
    """`value` without the nulls, empty strings, lists and maps the state holds for every
    attribute left unset."""
    if isinstance(value, dict):
        kept = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def _unknowns(value: Value) -> Iterator[Unknown]:
    if isinstance(value, Unknown):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _unknowns(item)
    elif isinstance(value, list):
        for item in value:
            yield from _unknowns(item)


def _region_of_arns(instances: Sequence[ResourceInstance]) -> str | None:
    for instance in instances:
        if instance.arn and instance.arn.count(":") >= 5:
            return instance.arn.split(":")[3] or None
    return None


def _provider_region(output: Mapping[str, Any]) -> str | None:
    """A plan's `provider "aws"` region, when the configuration writes it as a constant."""
    configuration = output.get("configuration")
    providers = configuration.get("provider_config") if isinstance(configuration, Mapping) else None
    aws = providers.get("aws") if isinstance(providers, Mapping) else None
    expressions = aws.get("expressions") if isinstance(aws, Mapping) else None
    region = expressions.get("region") if isinstance(expressions, Mapping) else None
    value = region.get("constant_value") if isinstance(region, Mapping) else None
    return value if isinstance(value, str) else None
