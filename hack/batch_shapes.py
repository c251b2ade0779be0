#!/usr/bin/env python3
"""Write the step fields that mirror Batch's request members into the BatchPipeline CRD, from
the installed botocore model, so names and shapes match Batch's exactly (DESIGN.md, "Every
Batch request member has a home in a manifest"). The fields are those of
`batchops.model.request_surface.PASSTHROUGH`; descriptions are the first sentence of AWS's
own documentation of each member.

The generated YAML sits between two marker comments, in spec.defaults and in the step items;
everything else in the CRD is written by hand. Run hack/embed_pipeline_schema.py afterwards to
copy the pipeline spec into CronPipeline.

Usage: python hack/batch_shapes.py           # rewrite crds/batchpipelines.yaml
       python hack/batch_shapes.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import botocore.loaders
import yaml

from batchops.model.request_surface import PASSTHROUGH

CRD = Path(__file__).resolve().parent.parent / "crds" / "batchpipelines.yaml"
BEGIN = "# BEGIN fields generated from botocore's Batch model by hack/batch_shapes.py"
END = "# END generated fields"
MAX_DESCRIPTION = 200
_TYPES = {
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    "float": "number",
    "double": "number",
}
# Limits AWS documents in prose but the model does not carry; the API server enforces them.
# "The minimum supported value is 21 GiB and the maximum supported value is 200 GiB."
# (https://docs.aws.amazon.com/batch/latest/APIReference/API_EphemeralStorage.html)
_LIMITS: Mapping[str, Mapping[str, object]] = {
    "EphemeralStorage.sizeInGiB": {"minimum": 21, "maximum": 200},
}
# Members whose documentation is one sentence too vague to stand alone in `kubectl explain`.
_ADDED_NOTES: Mapping[str, str] = {
    "containerOverrides": "Only on a step that uses jobDefinition.",
    "nodeOverrides": "Only on a step that uses jobDefinition.",
    "eksPropertiesOverride": "Only on a step that uses jobDefinition.",
    "ecsPropertiesOverride": "Only on a step that uses jobDefinition.",
    "nodeProperties": "Instead of a container (image): a multi-node parallel job.",
    "eksProperties": "Instead of a container (image): a job on an Amazon EKS compute environment.",
    "ecsProperties": "Instead of a container (image): an ECS task of several containers.",
}


def describe(documentation: str | None) -> str:
    """The first sentence of botocore's HTML documentation, as plain text."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", documentation or ""))
    text = re.sub(r"\s+", " ", text).strip()
    first = re.split(r"(?<=[a-z0-9)\]])\. ", text, maxsplit=1)[0].rstrip(".")
    if len(first) > MAX_DESCRIPTION:
        first = first[: MAX_DESCRIPTION - 4].rsplit(" ", 1)[0] + " ..."
    return (first + ".") if first else "See the AWS Batch API reference."


def schema_of(
    model: Mapping[str, Any], shape_name: str, documentation: str | None, stack: tuple[str, ...]
) -> dict[str, Any]:
    """The OpenAPI schema of a botocore shape."""
    shape = model["shapes"][shape_name]
    if shape_name in stack:
        raise ValueError(f"recursive shape {shape_name}: {' > '.join(stack)}")
    kind = shape["type"]
    schema: dict[str, Any] = {}
    inner = (*stack, shape_name)
    if kind == "structure":
        schema["type"] = "object"
        schema["description"] = describe(documentation)
        required = [name for name in shape.get("required", ()) if name in shape["members"]]
        if required:
            schema["required"] = required
        schema["properties"] = {}
        for name, member in shape["members"].items():
            child = schema_of(model, member["shape"], member.get("documentation"), inner)
            for key, value in _LIMITS.get(f"{shape_name}.{name}", {}).items():
                child[key] = value
            schema["properties"][name] = child
    elif kind == "list":
        schema["type"] = "array"
        schema["description"] = describe(documentation)
        schema["items"] = schema_of(model, shape["member"]["shape"], None, inner)
        schema["items"]["description"] = "One entry."
    elif kind == "map":
        schema["type"] = "object"
        schema["description"] = describe(documentation)
        schema["additionalProperties"] = schema_of(model, shape["value"]["shape"], None, inner)
        schema["additionalProperties"]["description"] = "The value."
    else:
        schema["type"] = _TYPES[kind]
        schema["description"] = describe(documentation)
        if "enum" in shape:
            schema["enum"] = list(shape["enum"])
    return schema


def generated_fields(model: Mapping[str, Any]) -> dict[str, Any]:
    """Every PASSTHROUGH field's schema, keyed by field name, in the table's order."""
    members = {
        **model["shapes"]["ContainerProperties"]["members"],
        **model["shapes"]["RegisterJobDefinitionRequest"]["members"],
        **model["shapes"]["SubmitJobRequest"]["members"],
    }
    fields: dict[str, Any] = {}
    for name, field in PASSTHROUGH.items():
        member = members[name]
        if member["shape"] != field.shape:
            raise ValueError(f"{name}: botocore's shape is {member['shape']}, not {field.shape}")
        schema = schema_of(model, field.shape, member.get("documentation"), ())
        if name in _ADDED_NOTES:
            schema["description"] = f"{_ADDED_NOTES[name]} {schema['description']}"
        fields[name] = schema
    return fields


def render(text: str, fields: Mapping[str, Any]) -> str:
    """`text` with every marked block replaced by the generated fields at its indentation."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    blocks = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if line.strip() != BEGIN:
            continue
        indent = line[: len(line) - len(line.lstrip())]
        while index < len(lines) and lines[index].strip() != END:
            index += 1
        if index == len(lines):
            raise ValueError(f"{BEGIN!r} without {END!r}")
        body = yaml.safe_dump(dict(fields), sort_keys=False, width=100)
        out.extend(indent + body_line for body_line in body.splitlines(keepends=True))
        blocks += 1
    if blocks != 2:
        raise ValueError(f"expected 2 marked blocks (defaults and steps), found {blocks}")
    return "".join(out)


def main(argv: list[str]) -> int:
    model = botocore.loaders.Loader().load_service_model("batch", "service-2")
    text = render(CRD.read_text(), generated_fields(model))
    if "--check" in argv:
        if CRD.read_text() != text:
            print(f"{CRD} is stale: run python hack/batch_shapes.py", file=sys.stderr)
            return 1
        return 0
    CRD.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
