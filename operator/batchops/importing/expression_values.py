"""What evaluating a Terraform expression reads and returns, apart from the evaluation itself.

The evaluator (`expressions`), its parse-tree walk (`expression_tree`), Terraform's functions
(`expression_functions`) and every reader of evaluated bodies (`from_terraform`, `batch_module`,
`from_terraform_json`) share these: the names in scope, the `Unknown` that stands for a value
only Terraform knows, and Terraform's conversions of values to text. Keeping them apart lets
each of those modules depend on the values without depending on each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Value = Any
"""None, bool, int, float, str, list, dict (str keys), `Unknown` or `JsonDocument`, nested."""


@dataclass(frozen=True)
class Unknown:
    """A value only Terraform knows: the expression that computes it, and why it is unknown."""

    expression: str
    reason: str = "only Terraform knows it"


@dataclass(frozen=True)
class JsonDocument:
    """`jsonencode(value)`: kept as the value so unknown parts stay placeholders, not text."""

    value: Value


@dataclass(frozen=True)
class Definition:
    """A variable default or a local: its unevaluated value and where it is written."""

    value: object
    where: str


@dataclass
class Trace:
    """What evaluating one attribute used: names resolved from the files, unknown parts."""

    resolved: list[str] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)


class NotEvaluated(Exception):
    """Evaluation of a subexpression gave up; becomes an Unknown of that subexpression."""


@dataclass(frozen=True)
class Scope:
    """The names an expression may use: variables, locals, and per-instance bindings."""

    variables: Mapping[str, Definition] = field(default_factory=dict)
    locals: Mapping[str, Definition] = field(default_factory=dict)
    bindings: Mapping[str, Value] = field(default_factory=dict)
    """`count`, `each`, dynamic iterators, for-expression variables: already evaluated."""

    def bind(self, **names: Value) -> Scope:
        """This scope with more bindings (a later one hides an earlier one)."""
        return Scope(self.variables, self.locals, {**self.bindings, **names})


def has_unknown(value: Value) -> bool:
    """True when some part of `value` is unknown."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, JsonDocument):
        return has_unknown(value.value)
    if isinstance(value, Mapping):
        return any(has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknown(item) for item in value)
    return False


def as_text(value: Value) -> str:
    """A known scalar as Terraform's string conversion writes it; JSON for documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, JsonDocument):
        if has_unknown(value):
            raise NotEvaluated
        return json.dumps(plain(value.value), separators=(",", ":"))
    if isinstance(value, (list, dict, Unknown)):
        raise NotEvaluated
    return "" if value is None else str(value)


def text_of(value: Value) -> str:
    """`as_text` for any value: a list or map is written as JSON, an unknown as its expression."""
    if isinstance(value, Unknown):
        return value.expression
    try:
        return as_text(value)
    except NotEvaluated:
        return json.dumps(plain(value), default=lambda v: text_of(v))


def plain(value: Value) -> Value:
    """`value` with documents unwrapped (for JSON output of known values)."""
    if isinstance(value, JsonDocument):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
