"""The CRDs' own CEL rules (`x-kubernetes-validations`), evaluated as the API server does.

Every rule of a schema is compiled once (`crd_rules`, cached per schema) with the environment of
`batchops.validation.cel_library`. `cel_findings` then walks a defaulted object alongside the
schema and, at every node that has rules (an object, each item of an array, each value of a
map), binds `self` to the node's value the way the API server does (declared property names
escaped, `number`s as doubles, `format: byte` as bytes, the root's `metadata` cut to `name` and
`generateName`) and evaluates each rule. A rule that is false is a finding at the node's path
plus the rule's `fieldPath`, worded by its `messageExpression`, else its `message`; one that
fails to evaluate is a finding at the node, in the API server's words.

Rules that compare with `oldSelf` run only on updates (unless `optionalOldSelf`): one manifest
is a create, so they are skipped, as the API server skips them on a create. A rule that does not
compile raises `RuleCompileError`: a CRD rule is never skipped offline because it is new.

Strings of `format: date`, `date-time` and `duration` stay strings here (the API server makes
them timestamps and durations); no rule of ours reads such a field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from batchops.validation.cel_library import (
    CelCompileError,
    Expression,
    Scope,
    compile_expression,
)
from batchops.validation.paths import FieldPath

Finding = tuple[FieldPath, str]

_VALIDATIONS: Final = "x-kubernetes-validations"
_MAX_MESSAGE_BYTES: Final = 5 * 1024
"""The API server's limit on an evaluated messageExpression."""


class RuleCompileError(ValueError):
    """Rules of a CRD that cannot be evaluated offline; the message lists each with its error."""


@dataclass(frozen=True)
class CelRule:
    """One `x-kubernetes-validations` entry of a CRD schema, compiled."""

    schema_path: str
    """Where the rule sits: `(root)`, `spec.computeResources`, `spec.steps[]` (each item of an
    array), `spec.tags{}` (each value of a map)."""
    rule: str
    message: str | None
    """The rule's `message`, if it has one."""
    field_path: FieldPath
    """The rule's `fieldPath`, relative to the node: where a violation is reported."""
    transition: bool
    """The rule reads `oldSelf` (without `optionalOldSelf`): it runs only on updates."""
    expression: Expression
    message_expression: Expression | None

    def check(self, scope: Scope, at: FieldPath) -> Finding | None:
        """The finding of this rule for the node at `at` bound in `scope`, or None if it holds."""
        outcome = self.expression.evaluate(scope)
        if outcome.error is not None:
            return at, _evaluation_error(outcome.error, self._error_string)
        if outcome.value is True:
            return None
        if outcome.value is not False:
            return at, f"rule did not evaluate to a bool evaluating rule: {self._error_string}"
        return (*at, *self.field_path), self._evaluated_message(scope) or self.default_message

    @property
    def default_message(self) -> str:
        """What a violation says without a messageExpression: `message`, else the API
        server's `failed rule: <rule>`."""
        return self.message or f"failed rule: {self.rule.strip()}"

    @property
    def _error_string(self) -> str:
        return self.message or self.rule.strip()

    def _evaluated_message(self, scope: Scope) -> str | None:
        """The messageExpression's string, or None to fall back to `default_message` (as the API
        server does when it fails, is empty, is too long or spans lines)."""
        if self.message_expression is None:
            return None
        outcome = self.message_expression.evaluate(scope)
        text = outcome.value.strip() if isinstance(outcome.value, str) else ""
        if not text or "\n" in text or len(text.encode()) > _MAX_MESSAGE_BYTES:
            return None
        return text


def _evaluation_error(error: str, rule: str) -> str:
    if error.startswith("no such overload"):
        return (
            f"'{error}': call arguments did not match a supported operator, function or macro "
            f"signature for rule: {rule}"
        )
    return f"{error} evaluating rule: {rule}"


@dataclass(frozen=True)
class _RuleTree:
    """The schema pruned to the nodes that have rules or lead to one."""

    schema: Mapping[str, Any]
    rules: tuple[CelRule, ...]
    properties: Mapping[str, _RuleTree]
    items: _RuleTree | None
    additional: _RuleTree | None


@dataclass(frozen=True)
class _Compiled:
    schema: Mapping[str, Any]
    """Kept so that its id, the cache key, stays this schema's."""
    tree: _RuleTree | None
    rules: tuple[CelRule, ...]


_CACHE: dict[int, _Compiled] = {}


def crd_rules(schema: Mapping[str, Any]) -> tuple[CelRule, ...]:
    """Every rule of an openAPIV3Schema (`status` aside), compiled once per schema object."""
    return _compiled(schema).rules


def cel_findings(schema: Mapping[str, Any], body: Mapping[str, Any]) -> list[Finding]:
    """Every rule violation in `body`. Call on an object that passed the schema, with defaults
    applied (`schema.apply_defaults`), as the API server evaluates rules."""
    tree = _compiled(schema).tree
    if tree is None:
        return []
    findings: list[Finding] = []
    _walk(tree, body, (), findings, root=True)
    return findings


def _compiled(schema: Mapping[str, Any]) -> _Compiled:
    cached = _CACHE.get(id(schema))
    if cached is None or cached.schema is not schema:
        rules: list[CelRule] = []
        errors: list[str] = []
        tree = _build([schema], "", rules, errors, root=True)
        if errors:
            raise RuleCompileError(
                "CEL rules that cannot be evaluated offline:\n" + "\n".join(errors)
            )
        cached = _CACHE[id(schema)] = _Compiled(schema, tree, tuple(rules))
    return cached


def _build(
    fragments: Sequence[Mapping[str, Any]],
    path: str,
    rules: list[CelRule],
    errors: list[str],
    root: bool = False,
) -> _RuleTree | None:
    """The rule tree of one schema node; `fragments` are the node and its `allOf` entries, whose
    rules the API server evaluates at the same node."""
    if not fragments:
        return None
    fragments = [*fragments, *(sub for f in fragments for sub in _all_of(f))]
    own = tuple(
        compiled
        for fragment in fragments
        for entry in fragment.get(_VALIDATIONS) or ()
        if (compiled := _compile_rule(entry, path or "(root)", errors)) is not None
    )
    rules.extend(own)
    on_create = tuple(rule for rule in own if not rule.transition)
    names = {name for f in fragments for name in f.get("properties") or {}}
    if root:
        names.discard("status")  # `kubectl apply` ignores it on kinds with a status subresource
    properties = {
        name: child
        for name in sorted(names)
        if (
            child := _build(
                [f["properties"][name] for f in fragments if name in (f.get("properties") or {})],
                f"{path}.{name}" if path else name,
                rules,
                errors,
            )
        )
        is not None
    }
    items = _build(_children(fragments, "items"), f"{path}[]", rules, errors)
    additional = _build(_children(fragments, "additionalProperties"), f"{path}{{}}", rules, errors)
    if not on_create and not properties and items is None and additional is None:
        return None
    return _RuleTree(fragments[0], on_create, properties, items, additional)


def _all_of(fragment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [sub for sub in fragment.get("allOf") or () if isinstance(sub, Mapping)]


def _children(fragments: Sequence[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    return [f[key] for f in fragments if isinstance(f.get(key), Mapping)]


def _compile_rule(entry: Mapping[str, Any], path: str, errors: list[str]) -> CelRule | None:
    """One validation entry compiled, or None with its problem appended to `errors` (the
    checks the API server makes of a CRD: the rule is a bool, the message expression a
    string, the field path resolvable)."""
    source = str(entry.get("rule", ""))
    message = str(entry.get("message") or "").strip() or None
    try:
        expression = compile_expression(source, bool(entry.get("optionalOldSelf")))
        if not expression.returns("bool"):
            raise CelCompileError("the rule must evaluate to a bool")
        message_expression = None
        if entry.get("messageExpression"):
            message_expression = compile_expression(str(entry["messageExpression"]))
            if not message_expression.returns("string"):
                raise CelCompileError("the messageExpression must evaluate to a string")
        field_path = parse_rule_field_path(str(entry.get("fieldPath") or ""))
    except CelCompileError as exc:
        errors.append(f"  {path}: {source!r}: {exc}")
        return None
    transition = expression.uses_old_self and not entry.get("optionalOldSelf")
    return CelRule(path, source, message, field_path, transition, expression, message_expression)


_FIELD_PATH_STEP: Final = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\]")


def parse_rule_field_path(text: str) -> FieldPath:
    """A rule's `fieldPath` (`.spec.name`, `.labels['app.kubernetes.io/name']`) as path keys."""
    keys: list[str | int] = []
    position = 0
    while position < len(text):
        step = _FIELD_PATH_STEP.match(text, position)
        if step is None:
            raise CelCompileError(f"fieldPath {text!r} is not a path such as .spec.name")
        keys.append(step.group(1) if step.group(1) is not None else step.group(2))
        position = step.end()
    return tuple(keys)


# --- Walking an object -------------------------------------------------------------------------


def _walk(
    tree: _RuleTree, value: object, at: FieldPath, findings: list[Finding], root: bool = False
) -> None:
    if value is None:
        return  # an absent (or null) node runs no rule
    if tree.rules:
        scope = Scope(_root_view(tree.schema, value) if root else cel_view(tree.schema, value))
        findings.extend(f for rule in tree.rules if (f := rule.check(scope, at)) is not None)
    if isinstance(value, Mapping):
        for key, child in value.items():
            if root and key == "status":
                continue
            sub = tree.properties.get(key)
            if sub is None and key not in (tree.schema.get("properties") or {}):
                sub = tree.additional
            if sub is not None:
                _walk(sub, child, (*at, key), findings)
    elif isinstance(value, list) and tree.items is not None:
        for index, item in enumerate(value):
            _walk(tree.items, item, (*at, index), findings)


def _root_view(schema: Mapping[str, Any], body: object) -> object:
    """The object as a root rule sees it: no `status`, and of `metadata` only `name` and
    `generateName` (the API server declares no other ObjectMeta field to CEL)."""
    if not isinstance(body, Mapping):
        return cel_view(schema, body)
    view = cel_view(schema, {key: value for key, value in body.items() if key != "status"})
    metadata = body.get("metadata")
    if isinstance(view, dict) and isinstance(metadata, Mapping):
        view["metadata"] = {
            key: metadata[key] for key in ("name", "generateName") if key in metadata
        }
    return view


def cel_view(schema: Mapping[str, Any], value: object) -> object:
    """`value` as a rule bound to this schema node sees it (the API server's conversion of an
    unstructured value to CEL)."""
    if value is None or schema.get("x-kubernetes-int-or-string"):
        return value
    kind = schema.get("type")
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        if properties:
            return {
                escaped: cel_view(properties[key], child)
                for key, child in value.items()
                if key in properties and (escaped := escape_property(key)) is not None
            }
        if isinstance(additional, Mapping):
            return {key: cel_view(additional, child) for key, child in value.items()}
        return dict(value)
    if isinstance(value, list):
        items = schema.get("items")
        return [cel_view(items, item) if isinstance(items, Mapping) else item for item in value]
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "string" and schema.get("format") == "byte" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
    return value


# The API server's escaping of property names that are not CEL identifiers (k8s.io/apiserver
# pkg/cel/escaping.go): `self.x__dash__y` reads the property `x-y`.
_RESERVED: Final = frozenset(
    {
        *("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for"),
        *("function", "if", "import", "let", "loop", "package", "namespace", "return", "var"),
        *("void", "while"),
    }
)
_PLAIN: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES: Final = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_TO_ESCAPE: Final = re.compile(r"__|[-./]")


def escape_property(name: str) -> str | None:
    """The name a rule uses for the property `name`, or None when CEL cannot reach it."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    if _PLAIN.fullmatch(name) and "__" not in name:
        return name
    escaped = _TO_ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], name)
    return escaped if _PLAIN.fullmatch(escaped) else None
