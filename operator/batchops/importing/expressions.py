"""Terraform expressions evaluated offline, on python-hcl2's own parse tree.

python-hcl2 hands every non-literal value over as text (`${merge(local.tags, {x = "y"})}`).
Each such expression is parsed again by python-hcl2 (as `value = <expr>`) and the Lark tree is
evaluated here with what the files themselves know: variable defaults, locals, `count.index`,
`each.key`/`each.value`, a `dynamic` block's iterator, and a set of pure functions. What only
Terraform knows (data sources, other resources' attributes, variables without a default)
becomes an `Unknown` carrying the expression's text, so the caller can write a placeholder at
exactly that place and go on. Evaluation never raises: anything unexpected is an `Unknown`.

This module reads attribute values (literals, templates, heredocs) and resolves variables and
locals; the parse-tree walk is `expression_tree`, Terraform's functions `expression_functions`,
and the values themselves `expression_values`.
"""

from __future__ import annotations

from collections.abc import Mapping

from batchops.importing.expression_tree import (
    Reference,
    evaluate_tree,
    parse_expression,
    reference_reason,
)
from batchops.importing.expression_values import (
    JsonDocument,
    NotEvaluated,
    Scope,
    Trace,
    Unknown,
    Value,
    as_text,
    has_unknown,
)
from batchops.importing.hcl import Expression, heredoc_body, template_parts
from batchops.importing.placeholders import embedded_placeholder


def evaluate(raw: object, scope: Scope, trace: Trace | None = None) -> Value:
    """A python-hcl2 value (literals, nested dicts/lists, `${...}` strings, heredocs) with
    every expression evaluated."""
    return _Evaluator(scope, trace if trace is not None else Trace(), ()).value(raw)


def evaluate_expression(text: str, scope: Scope, trace: Trace | None = None) -> Value:
    """One expression's text (without `${}`), evaluated."""
    return _Evaluator(scope, trace if trace is not None else Trace(), ()).expression(text)


_HEREDOC_MARK = "<<"


class _Evaluator:
    """Evaluates the values of one attribute, recording in `trace` what it used."""

    def __init__(self, scope: Scope, trace: Trace, evaluating: tuple[str, ...]) -> None:
        self.scope = scope
        self.trace = trace
        self.evaluating = evaluating
        """Locals being evaluated, to turn a cycle into an Unknown instead of a recursion."""

    # --- python-hcl2 values ------------------------------------------------------------------

    def value(self, raw: object) -> Value:
        if isinstance(raw, str):
            return self.string(raw)
        if isinstance(raw, Mapping):
            return {str(self.key(k)): self.value(v) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        return raw

    def key(self, raw: object) -> object:
        if isinstance(raw, str) and "${" in raw:
            key = self.string(raw)
            return key if isinstance(key, str) else raw
        return raw

    def string(self, text: str) -> Value:
        if text.startswith(_HEREDOC_MARK):
            body = heredoc_body(text)
            if body is not None:
                text = body
        if "${" not in text and "%{" not in text:
            return text
        if "%{" in text:
            return self.unknown(text, "a template directive (%{...}) is not evaluated offline")
        try:
            parts = list(template_parts(text))
        except ValueError:
            return self.unknown(text, "an unterminated interpolation")
        if len(parts) == 1 and isinstance(parts[0], Expression):
            return self.expression(parts[0].text)
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            result = self.expression(part.text)
            if isinstance(result, Unknown):
                out.append(embedded_placeholder(result.expression))
            elif has_unknown(result):
                out.append(embedded_placeholder(part.text))
            else:
                try:
                    out.append(as_text(result))
                except NotEvaluated:
                    out.append(embedded_placeholder(part.text))
        return "".join(out)

    # --- expressions -------------------------------------------------------------------------

    def expression(self, text: str) -> Value:
        source = f"value = {text}\n"
        try:
            node = parse_expression(source)
        except Exception:  # lark raises several unrelated exception types
            return self.unknown(text, "python-hcl2 cannot parse the expression")
        return self.settle_deep(evaluate_tree(self, node, source))

    def settle_deep(self, value: Value) -> Value:
        """Bare references left in a result are what only Terraform knows."""
        if isinstance(value, Reference):
            return self.unknown(value.text, reference_reason(value.text))
        if isinstance(value, dict):
            return {key: self.settle_deep(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.settle_deep(item) for item in value]
        if isinstance(value, JsonDocument):
            return JsonDocument(self.settle_deep(value.value))
        return value

    def unknown(self, text: str, reason: str, *, derived: bool = False) -> Unknown:
        """An Unknown for `text`; a `derived` one (unknown because a part is) is not traced
        again, so a note names the root cause once."""
        found = Unknown(" ".join(text.split()), reason)
        if not derived:
            self.trace.unknown.append(found)
        return found

    def bound(self, **names: Value) -> _Evaluator:
        """An evaluator of the same attribute with more names bound."""
        return _Evaluator(self.scope.bind(**names), self.trace, ())

    def variable(self, name: str) -> Value:
        definition = self.scope.variables.get(name)
        if definition is None:
            return self.unknown(f"var.{name}", f"variable {name!r} is not declared in the files")
        if definition.value is _NO_DEFAULT:
            return self.unknown(f"var.{name}", f"variable {name!r} has no default")
        value = self.value(definition.value)
        if not has_unknown(value):
            self.trace.resolved.append(f"var.{name} from {definition.where}")
        return value

    def local(self, name: str) -> Value:
        definition = self.scope.locals.get(name)
        if definition is None:
            return self.unknown(f"local.{name}", f"local {name!r} is not defined in the files")
        if name in self.evaluating:
            return self.unknown(f"local.{name}", f"local {name!r} refers to itself")
        inner = _Evaluator(
            Scope(self.scope.variables, self.scope.locals), self.trace, (*self.evaluating, name)
        )
        value = inner.value(definition.value)
        if not has_unknown(value):
            self.trace.resolved.append(f"local.{name} from {definition.where}")
        return value


_NO_DEFAULT = object()
NO_DEFAULT: object = _NO_DEFAULT
"""The value of a variable declared without a default."""
