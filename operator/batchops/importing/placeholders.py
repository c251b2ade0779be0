"""Placeholders: values the import could not know, written so the output still passes the CRD
schemas and a human finds every one of them by searching for `REPLACE-ME`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from batchops.model.common import PLACEHOLDER_MARK

MARK = PLACEHOLDER_MARK

_NOT_IN_BATCH_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_BATCH_NAME_MAX = 128
_UNKNOWN_ACCOUNT = "000000000000"

_Report = Callable[[str, str], None]


@dataclass(frozen=True)
class Placeholder:
    """One placeholder in the output: where it is and what it stands for."""

    source: str
    """Where the value came from, e.g. `batch.tf: aws_batch_compute_environment.env_72`."""
    kind: str
    object_name: str
    field: str
    """The field path in the manifest, e.g. `spec.computeResources.subnets[0]`."""
    value: str

    def __str__(self) -> str:
        return f"{self.source}: {self.kind}/{self.object_name} {self.field}: {self.value}"


def placeholder_text(expression: str) -> str:
    """The whole value is `expression`: `REPLACE-ME data.aws_subnet.subnet_default.id`."""
    return f"{MARK} {expression}"


def embedded_placeholder(expression: str) -> str:
    """`expression` inside a longer string: `<REPLACE-ME data.aws_ecr_repository.x.url>:latest`."""
    return f"<{MARK} {expression}>"


def placeholder_batch_name(expression: str) -> str:
    """A placeholder where the schema wants a Batch name (letters, digits, `-`, `_`)."""
    cleaned = _NOT_IN_BATCH_NAME.sub("_", expression).strip("_")
    return f"{MARK}_{cleaned}"[:_BATCH_NAME_MAX]


def placeholder_arn(resource_type: str, expression: str, region: str | None) -> str:
    """A placeholder where the schema wants a Batch ARN of `resource_type` (e.g.
    `compute-environment`): right shape, an impossible account, the mark in the name."""
    return (
        f"arn:aws:batch:{region or 'us-east-1'}:{_UNKNOWN_ACCOUNT}:{resource_type}/"
        f"{placeholder_batch_name(expression)}"
    )


def find_placeholders(manifest: Mapping[str, object], source: str) -> list[Placeholder]:
    """Every string in the manifest that carries the mark, with its field path."""
    metadata = manifest.get("metadata")
    name = str(metadata.get("name", "")) if isinstance(metadata, Mapping) else ""
    kind = str(manifest.get("kind", ""))
    found: list[Placeholder] = []

    def report(field: str, value: str) -> None:
        found.append(Placeholder(source, kind, name, field, value))

    _walk(manifest, "", report)
    return found


def _walk(value: object, path: str, report: _Report) -> None:
    if isinstance(value, str):
        if MARK in value:
            report(path, value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key), report)
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", report)
