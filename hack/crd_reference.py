#!/usr/bin/env python3
"""Generate docs/crd-reference.md from the CRD schemas in crds/ (the one source of truth).

Usage: python hack/crd_reference.py          # rewrite docs/crd-reference.md
       python hack/crd_reference.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import botocore.loaders
import yaml

from batchops.model.request_surface import PASSTHROUGH

ROOT = Path(__file__).resolve().parent.parent
CRD_DIR = ROOT / "crds"
OUTPUT = ROOT / "docs" / "crd-reference.md"


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"[]{_type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return f"map[string]{_type_of(schema['additionalProperties'])}"
    if schema.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    return kind


def _constraints(schema: Mapping[str, Any]) -> str:
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    if "default" in schema:
        default = yaml.safe_dump(schema["default"], default_flow_style=True)
        parts.append(f"default `{default.strip().removesuffix('...').strip()}`")
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("minItems", "min items"),
                       ("maxItems", "max items")):  # fmt: skip
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    return "; ".join(parts)


_API_REFERENCE = "https://docs.aws.amazon.com/batch/latest/APIReference/API_{}.html"
_SHAPES: Mapping[str, Any] = botocore.loaders.Loader().load_service_model("batch", "service-2")[
    "shapes"
]


def _passthrough_note(name: str) -> str:
    """Where AWS documents a step field that mirrors a Batch request member."""
    shape = _SHAPES[PASSTHROUGH[name].shape]
    if shape["type"] == "list":
        shape_name = shape["member"]["shape"]
    elif shape["type"] == "structure":
        shape_name = PASSTHROUGH[name].shape
    else:
        return ""
    return f" Batch's [{shape_name}]({_API_REFERENCE.format(shape_name)}), as written."


def _is_passthrough(path: str) -> bool:
    parent, _, name = path.rpartition(".")
    return name in PASSTHROUGH and (parent.endswith("defaults") or parent.endswith("steps[]"))


def _rows(schema: Mapping[str, Any], path: str, required: bool) -> Iterator[str]:
    if path:
        description = " ".join(str(schema.get("description", "")).split())
        if _is_passthrough(path):
            description += _passthrough_note(path.rpartition(".")[2])
        constraints = _constraints(schema)
        if constraints:
            description += f" ({constraints})"
        req = "yes" if required else ""
        cell = description.replace("|", "\\|")
        yield f"| `{path}` | {_type_of(schema)} | {req} | {cell} |"
        if _is_passthrough(path):
            return  # its members are AWS's, documented there
    target = schema.get("items", schema) if schema.get("type") == "array" else schema
    props = target.get("properties", {})
    required_names = set(target.get("required", []))
    for name, child in props.items():
        child_path = f"{path}.{name}" if path else name
        if schema.get("type") == "array":
            child_path = f"{path}[].{name}"
        yield from _rows(child, child_path, name in required_names)


def _rules(schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if _is_passthrough(path):
        return
    for rule in schema.get("x-kubernetes-validations", []):
        message = rule.get("message") or rule.get("messageExpression") or rule["rule"]
        yield f"- `{path or '.'}`: {message}"
    target = schema.get("items", schema) if schema.get("type") == "array" else schema
    for name, child in target.get("properties", {}).items():
        yield from _rules(child, f"{path}.{name}" if path else name)


def render() -> str:
    """The whole reference document, from every CRD in crds/."""
    out = [
        "# CRD reference",
        "",
        "Generated from `crds/*.yaml` by `hack/crd_reference.py`; do not edit by hand.",
        "`kubectl explain <kind>.spec` shows the same descriptions.",
    ]
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        names = crd["spec"]["names"]
        version = next(v for v in crd["spec"]["versions"] if v.get("storage", True))
        schema = version["schema"]["openAPIV3Schema"]
        out += [
            "",
            f"## {names['kind']}",
            "",
            f"`{crd['spec']['group']}/{version['name']}`, plural `{names['plural']}`, short names "
            + ", ".join(f"`{s}`" for s in names.get("shortNames", []))
            + ", categories "
            + ", ".join(f"`{c}`" for c in names.get("categories", [])),
            "",
            " ".join(str(schema.get("description", "")).split()),
        ]
        for section in ("spec", "status"):
            if section not in schema.get("properties", {}):
                continue
            out += ["", f"### {section}", "", "| field | type | required | description |",
                    "|---|---|---|---|"]  # fmt: skip
            out += list(_rows(schema["properties"][section], "", False))
        rules = list(_rules(schema, ""))
        if rules:
            out += ["", "### Validation rules (checked by the API server at apply time)", "", *rules]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run python hack/crd_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
