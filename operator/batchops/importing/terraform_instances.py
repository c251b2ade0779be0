"""The instances of one Terraform resource, their bodies evaluated: what every field reader takes.

`count` and `for_each` over collections known offline give one instance each (named by index or
key), `dynamic` blocks are expanded, and every attribute is evaluated (`expressions`), with notes
naming the file, line and expression of what was resolved from where or is left to a
placeholder. The `terraform show -json` reader builds the same instances from resolved values,
so the readers of each resource type (`terraform_compute`, `terraform_queues`, ...) never see
which source an instance came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchops.importing.expression_tree import REFERENCE_REASONS
from batchops.importing.expression_values import Scope, Trace, Unknown, Value, has_unknown, text_of
from batchops.importing.expressions import evaluate
from batchops.importing.hcl import TerraformModule, TerraformResource, attribute_line, blocks_of
from batchops.importing.placeholders import MARK

COMPUTE_ENVIRONMENT = "aws_batch_compute_environment"
JOB_QUEUE = "aws_batch_job_queue"
JOB_DEFINITION = "aws_batch_job_definition"
SCHEDULING_POLICY = "aws_batch_scheduling_policy"
CONSUMABLE_RESOURCE = "aws_batch_consumable_resource"
IMPORTED_TYPES = (
    COMPUTE_ENVIRONMENT,
    SCHEDULING_POLICY,
    JOB_QUEUE,
    CONSUMABLE_RESOURCE,
    JOB_DEFINITION,
)
"""The resource types an import reads, in the order their manifests are written."""

META = frozenset({"count", "for_each", "lifecycle", "depends_on", "provider", "provisioner"})
"""Meta-arguments: Terraform's, not the resource's; never evaluated as values."""


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


def expand_instances(
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
        if key in META:
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
