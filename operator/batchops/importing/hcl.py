"""Terraform files as plain Python values, read with python-hcl2 (v8 output).

python-hcl2 keeps every expression that is not a literal as a string `${...}`: references
(`${aws_batch_compute_environment.env_72.arn}`), function calls (`${jsonencode({...})}`) and
templates (`"${var.repo}:latest"`). Blocks become lists of dicts, attribute maps plain dicts.
This module finds the resources and decodes the two string encodings `container_properties`
comes in; deciding what a reference means is left to `from_terraform`.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

# Quotes stripped, heredocs kept as written (we decode them: python-hcl2 mangles the quotes
# of an indented `<<-` heredoc when it converts it), no comment or block markers.
_OPTIONS = SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=True,
    strip_string_quotes=True,
)
_HEREDOC = re.compile(r"^<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n(.*?)\r?\n[ \t]*\2[ \t]*$", re.S)
_JSONENCODE = re.compile(r"^\$\{\s*jsonencode\((.*)\)\s*\}$", re.S)


class TerraformError(ValueError):
    """A file cannot be parsed, or a value the import needs is not a literal."""


@dataclass(frozen=True)
class TerraformFile:
    """One `.tf` file: its name (for messages) and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class TerraformResource:
    """One `resource "<type>" "<label>" { ... }` block."""

    file: str
    type: str
    label: str
    body: Mapping[str, Any]

    @property
    def address(self) -> str:
        """`<type>.<label>`, as Terraform writes it."""
        return f"{self.type}.{self.label}"

    @property
    def source(self) -> str:
        """`<file>: <address>`, for messages."""
        return f"{self.file}: {self.address}"


@dataclass(frozen=True)
class TerraformModule:
    """The resources of a set of files, in file order, and the AWS provider's region."""

    resources: tuple[TerraformResource, ...]
    provider_region: str | None = None

    def of_type(self, resource_type: str) -> list[TerraformResource]:
        """The resources of one type, in file order."""
        return [r for r in self.resources if r.type == resource_type]


def parse_module(files: Sequence[TerraformFile]) -> TerraformModule:
    """Parse every file; a syntax error raises TerraformError naming the file."""
    resources: list[TerraformResource] = []
    region: str | None = None
    for file in files:
        try:
            document = hcl2.loads(file.text, serialization_options=_OPTIONS)
        except Exception as exc:  # lark raises several unrelated exception types
            raise TerraformError(f"{file.path}: not valid HCL: {exc}") from exc
        for entry in document.get("resource", []):
            for resource_type, labelled in entry.items():
                for label, body in labelled.items():
                    resources.append(TerraformResource(file.path, resource_type, label, body))
        for entry in document.get("provider", []):
            aws = entry.get("aws")
            # Only the default (alias-free) provider with a literal region says where we are.
            if isinstance(aws, Mapping) and "alias" not in aws:
                candidate = aws.get("region")
                if isinstance(candidate, str) and not candidate.startswith("${"):
                    region = candidate
    return TerraformModule(tuple(resources), region)


def block(body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The single nested block `key` (e.g. compute_resources), or None."""
    blocks = blocks_of(body, key)
    return blocks[0] if blocks else None


def blocks_of(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """Every nested block `key` (e.g. compute_environment_order), in order."""
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return [item for item in value if isinstance(item, Mapping)]


def whole_reference(value: object) -> str | None:
    """The expression if `value` is exactly one interpolation (`${expr}`), else None."""
    if not isinstance(value, str):
        return None
    parts = list(template_parts(value))
    if len(parts) == 1 and isinstance(parts[0], Expression):
        return parts[0].text
    return None


@dataclass(frozen=True)
class Expression:
    """An `${...}` interpolation inside a string."""

    text: str


def template_parts(text: str) -> Iterator[str | Expression]:
    """Split a string into literal text and `${...}` interpolations (`$${` is a literal)."""
    literal: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("$${", index):
            literal.append("${")
            index += 3
        elif text.startswith("${", index):
            end = _closing_brace(text, index + 2)
            if literal:
                yield "".join(literal)
                literal = []
            yield Expression(text[index + 2 : end].strip())
            index = end + 1
        else:
            literal.append(text[index])
            index += 1
    if literal:
        yield "".join(literal)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    quoted = False
    for index in range(start, len(text)):
        char = text[index]
        if char == '"' and text[index - 1] != "\\":
            quoted = not quoted
        elif not quoted and char == "{":
            depth += 1
        elif not quoted and char == "}":
            depth -= 1
            if depth == 0:
                return index
    raise TerraformError(f"unterminated interpolation in {text!r}")


def document_value(value: object, where: str) -> Any:
    """The value of a JSON document attribute such as `container_properties`: a JSON string, a
    heredoc holding JSON, or `jsonencode({...})` of an HCL object."""
    if not isinstance(value, str):
        raise TerraformError(f"{where}: expected a JSON string, got {type(value).__name__}")
    encoded = _JSONENCODE.match(value)
    if encoded:
        try:
            return hcl2.loads(f"value = {encoded[1]}\n", serialization_options=_OPTIONS)["value"]
        except Exception as exc:  # lark raises several unrelated exception types
            raise TerraformError(f"{where}: cannot read jsonencode(...): {exc}") from exc
    heredoc = _HEREDOC.match(value)
    text = value
    if heredoc:
        text = textwrap.dedent(heredoc[3]) if heredoc[1] else heredoc[3]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TerraformError(
            f"{where}: not JSON ({exc}); use a literal, heredoc or jsonencode"
        ) from exc
