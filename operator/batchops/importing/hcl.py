"""Terraform files as plain Python values, read with python-hcl2 (v8 output).

python-hcl2 keeps every expression that is not a literal as a string `${...}`: references
(`${aws_batch_compute_environment.env_72.arn}`), function calls (`${jsonencode({...})}`) and
templates (`"${var.repo}:latest"`). Blocks become lists of dicts, attribute maps plain dicts.
This module finds the resources, variables, locals and module calls, with their lines, and
works around what python-hcl2 rejects but Terraform accepts; evaluating the expressions is
`expressions`' job, deciding what they mean `from_terraform`'s.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

# Quotes stripped, heredocs kept as written (we decode them: python-hcl2 mangles the quotes
# of an indented `<<-` heredoc when it converts it), no comment or block markers.
_OPTIONS = SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=True,
    strip_string_quotes=True,
)
_HEREDOC = re.compile(r"^<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n(.*?)\r?\n[ \t]*\2[ \t]*$", re.S)


class TerraformError(ValueError):
    """A file cannot be parsed, or a value the import needs is not a literal."""


@dataclass(frozen=True)
class TerraformFile:
    """One `.tf` file: its name (for messages) and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class TerraformResource:
    """One `resource "<type>" "<label>" { ... }` block (or one a module block stands for)."""

    file: str
    type: str
    label: str
    body: Mapping[str, Any]
    line: int = 0
    """Line of the block's first line in `file` (0: not known)."""
    prefix: str = ""
    """`module.<name>.` for a resource a module creates."""

    @property
    def address(self) -> str:
        """`<type>.<label>`, as Terraform writes it."""
        return f"{self.prefix}{self.type}.{self.label}"

    @property
    def source(self) -> str:
        """`<file>:<line>: <address>`, for messages."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.address}"


@dataclass(frozen=True)
class TerraformBlock:
    """A named top-level block other than a resource: a `module "<label>"` call, a variable."""

    file: str
    label: str
    body: Mapping[str, Any]
    line: int = 0

    @property
    def where(self) -> str:
        """`<file>:<line>`, for messages."""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class TerraformModule:
    """What a set of files declares, in file order, and the AWS provider's region."""

    resources: tuple[TerraformResource, ...]
    provider_region: str | None = None
    variables: tuple[TerraformBlock, ...] = ()
    locals: tuple[TerraformBlock, ...] = ()
    """One block per local value: label is its name, body `{"value": <expression>}`."""
    modules: tuple[TerraformBlock, ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)
    """Each file's text by name, to find the line of an attribute for a message."""

    def of_type(self, resource_type: str) -> list[TerraformResource]:
        """The resources of one type, in file order."""
        return [r for r in self.resources if r.type == resource_type]


def parse_module(files: Sequence[TerraformFile]) -> TerraformModule:
    """Parse every file; a syntax error raises TerraformError naming the file and line."""
    resources: list[TerraformResource] = []
    variables: list[TerraformBlock] = []
    locals_: list[TerraformBlock] = []
    modules: list[TerraformBlock] = []
    region: str | None = None
    for file in files:
        text = accepted_by_python_hcl2(file.text)
        document = _load(file.path, text)
        for entry in document.get("resource", []):
            for resource_type, labelled in entry.items():
                for label, body in labelled.items():
                    line = _line_of(
                        text, rf'resource\s+"{re.escape(resource_type)}"\s+"{re.escape(label)}"'
                    )
                    resources.append(TerraformResource(file.path, resource_type, label, body, line))
        for entry in document.get("variable", []):
            for label, body in entry.items():
                line = _line_of(text, rf'variable\s+"?{re.escape(label)}"?\s')
                variables.append(TerraformBlock(file.path, label, body or {}, line))
        for entry in document.get("locals", []):
            for label, value in entry.items():
                line = _line_of(text, rf"^\s*{re.escape(label)}\s*=")
                locals_.append(TerraformBlock(file.path, label, {"value": value}, line))
        for entry in document.get("module", []):
            for label, body in entry.items():
                line = _line_of(text, rf'module\s+"{re.escape(label)}"')
                modules.append(TerraformBlock(file.path, label, body, line))
        for entry in document.get("provider", []):
            aws = entry.get("aws")
            # Only the default (alias-free) provider with a literal region says where we are.
            if isinstance(aws, Mapping) and "alias" not in aws:
                candidate = aws.get("region")
                if isinstance(candidate, str) and not candidate.startswith("${"):
                    region = candidate
    return TerraformModule(
        tuple(resources),
        region,
        tuple(variables),
        tuple(locals_),
        tuple(modules),
        {file.path: file.text for file in files},
    )


def variable_values(file: TerraformFile) -> dict[str, object]:
    """The assignments of a `.tfvars` file (literal values, as Terraform requires there)."""
    return dict(_load(file.path, accepted_by_python_hcl2(file.text)))


def command_line_value(text: str) -> object:
    """A `-var` value: HCL when it parses as a literal (`16`, `["a"]`, `{a = 1}`), else the
    string itself, as Terraform reads it."""
    try:
        parsed = hcl2.loads(f"value = {text}\n", serialization_options=_OPTIONS).get("value")
    except Exception:  # lark raises several unrelated exception types
        return text
    if isinstance(parsed, str) and parsed.startswith("${"):
        return text
    return parsed


def _load(path: str, text: str) -> dict[str, Any]:
    try:
        document: dict[str, Any] = hcl2.loads(text, serialization_options=_OPTIONS)
    except UnexpectedInput as exc:
        raise TerraformError(
            f"{path}:{exc.line}:{exc.column}: not valid HCL: {_summary(exc)}"
        ) from None
    except Exception as exc:  # lark and python-hcl2's transformer raise several unrelated types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TerraformError(f"{path}: not valid HCL: {first}") from None
    return document


def _summary(exc: UnexpectedInput) -> str:
    """One line instead of lark's token dump."""
    if isinstance(exc, UnexpectedToken):
        lines = str(exc.token).strip().splitlines()
        return f"unexpected {lines[0][:40]!r}" if lines else "unexpected end of line"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r}"
    return "unexpected end of input"


def _line_of(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def attribute_line(text: str, start: int, path: Sequence[str]) -> int:
    """The line of the attribute or block `path` (e.g. compute_resources, max_vcpus) searched
    from line `start` on; `start` when not found."""
    lines = text.splitlines()
    line = start
    for key in path:
        pattern = re.compile(
            rf'^\s*(?:{re.escape(key)}\s*[={{]|dynamic\s+"{re.escape(key)}"|"{re.escape(key)}"\s*[=:])'
        )
        found = next(
            (n for n in range(max(line, 1), len(lines) + 1) if pattern.match(lines[n - 1])), None
        )
        if found is None:
            return line
        line = found
    return line


_HEREDOC_START = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)[ \t]*\r?$")


def accepted_by_python_hcl2(text: str) -> str:
    """`text` with what Terraform accepts and python-hcl2 8 rejects rewritten, keeping every
    line where it was: a heredoc end marker followed by spaces (python-hcl2's grammar wants the
    newline right after the marker), and a missing newline after the last line."""
    lines = text.split("\n")
    marker: str | None = None
    for index, line in enumerate(lines):
        if marker is None:
            opened = _HEREDOC_START.search(line)
            if opened:
                marker = opened[1]
                lines[index] = line.rstrip(" \t")
        elif line.strip() == marker:
            lines[index] = line.rstrip(" \t\r") + ("\r" if line.endswith("\r") else "")
            marker = None
    return "\n".join(lines) + ("" if text.endswith("\n") else "\n")


def heredoc_body(value: str) -> str | None:
    """The text of a heredoc as python-hcl2 keeps it (`<<EOT\n...\nEOT`), indented `<<-`
    heredocs dedented; None when `value` is not a heredoc."""
    match = _HEREDOC.match(value)
    if not match:
        return None
    return textwrap.dedent(match[3]) if match[1] else match[3]


def block(body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The single nested block `key` (e.g. compute_resources), or None."""
    blocks = blocks_of(body, key)
    return blocks[0] if blocks else None


def blocks_of(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """Every nested block `key` (e.g. compute_environment_order), in order."""
    value = body.get(key)
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        # None, or a whole block only Terraform knows (a plan's "known after apply").
        return []
    return [item for item in value if isinstance(item, Mapping)]


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
