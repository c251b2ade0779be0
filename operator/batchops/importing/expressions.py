"""Terraform expressions evaluated offline, on python-hcl2's own parse tree.

python-hcl2 hands every non-literal value over as text (`${merge(local.tags, {x = "y"})}`).
Each such expression is parsed again by python-hcl2 (as `value = <expr>`) and the Lark tree is
evaluated here with what the files themselves know: variable defaults, locals, `count.index`,
`each.key`/`each.value`, a `dynamic` block's iterator, and a set of pure functions. What only
Terraform knows (data sources, other resources' attributes, variables without a default)
becomes an `Unknown` carrying the expression's text, so the caller can write a placeholder at
exactly that place and go on. Evaluation never raises: anything unexpected is an `Unknown`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hcl2
from lark import Token, Tree

from batchops.importing.hcl import Expression, heredoc_body, template_parts
from batchops.importing.placeholders import MARK, embedded_placeholder, placeholder_text

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


class _Failed(Exception):
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


def evaluate(raw: object, scope: Scope, trace: Trace | None = None) -> Value:
    """A python-hcl2 value (literals, nested dicts/lists, `${...}` strings, heredocs) with
    every expression evaluated."""
    return _Evaluator(scope, trace if trace is not None else Trace(), ()).value(raw)


def evaluate_expression(text: str, scope: Scope, trace: Trace | None = None) -> Value:
    """One expression's text (without `${}`), evaluated."""
    return _Evaluator(scope, trace if trace is not None else Trace(), ()).expression(text)


def as_text(value: Value) -> str:
    """A known scalar as Terraform's string conversion writes it; JSON for documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, JsonDocument):
        if has_unknown(value):
            raise _Failed
        return json.dumps(plain(value.value), separators=(",", ":"))
    if isinstance(value, (list, dict, Unknown)):
        raise _Failed
    return "" if value is None else str(value)


def text_of(value: Value) -> str:
    """`as_text` for any value: a list or map is written as JSON, an unknown as its expression."""
    if isinstance(value, Unknown):
        return value.expression
    try:
        return as_text(value)
    except _Failed:
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


_HEREDOC_MARK = "<<"


class _Evaluator:
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
                except _Failed:
                    out.append(embedded_placeholder(part.text))
        return "".join(out)

    # --- expressions -------------------------------------------------------------------------

    def expression(self, text: str) -> Value:
        source = f"value = {text}\n"
        try:
            tree = hcl2.parses_to_tree(source)
            node = _attribute_expression(tree)
        except Exception:  # lark raises several unrelated exception types
            return self.unknown(text, "python-hcl2 cannot parse the expression")
        return self.settle_deep(_Node(self, source).evaluate(node))

    def settle_deep(self, value: Value) -> Value:
        """Bare references left in a result are what only Terraform knows."""
        if isinstance(value, _Path):
            return self.unknown(value.text, _path_reason(value.text))
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


def _attribute_expression(tree: Tree[Token]) -> Tree[Token] | Token:
    body = tree.children[0]
    assert isinstance(body, Tree)
    for child in body.children:
        if isinstance(child, Tree) and child.data == "attribute":
            return child.children[-1]
    raise _Failed


def _tokens(node: Tree[Token] | Token) -> list[Token]:
    if isinstance(node, Token):
        return [node]
    return [t for t in node.scan_values(lambda v: isinstance(v, Token))]


def _children(node: Tree[Token]) -> list[Tree[Token] | Token]:
    """Children without the newline/comment noise."""
    return [
        c for c in node.children if not (isinstance(c, Tree) and c.data == "new_line_or_comment")
    ]


def _trees(node: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in _children(node) if isinstance(c, Tree)]


class _Node:
    """Evaluation of one parsed expression; `source` is the text it was parsed from."""

    def __init__(self, outer: _Evaluator, source: str) -> None:
        self.outer = outer
        self.source = source

    def text(self, node: Tree[Token] | Token) -> str:
        tokens = [t for t in _tokens(node) if t.start_pos is not None and t.end_pos is not None]
        if not tokens:
            return ""
        start = min(t.start_pos or 0 for t in tokens)
        end = max(t.end_pos or 0 for t in tokens)
        return self.source[start:end].strip()

    def evaluate(self, node: Tree[Token] | Token) -> Value:
        try:
            return self.node(node)
        except (_Failed, ArithmeticError, ValueError, TypeError, KeyError, IndexError):
            return self.outer.unknown(self.text(node), "not evaluated offline")
        except RecursionError:
            return self.outer.unknown(self.text(node), "nested too deeply")

    def node(self, node: Tree[Token] | Token) -> Value:
        if isinstance(node, Token):
            raise _Failed
        handler = _HANDLERS.get(str(node.data))
        if handler is None:
            return self.outer.unknown(self.text(node), f"{node.data} is not evaluated offline")
        return handler(self, node)

    # --- terms -------------------------------------------------------------------------------

    def expr_term(self, node: Tree[Token]) -> Value:
        inner = [c for c in _children(node) if not (isinstance(c, Token) and c in "()")]
        if len(inner) != 1:
            raise _Failed
        return self.evaluate(inner[0])

    def int_lit(self, node: Tree[Token]) -> Value:
        return int(str(node.children[0]))

    def float_lit(self, node: Tree[Token]) -> Value:
        return float(str(node.children[0]))

    def literal_value(self, node: Tree[Token]) -> Value:
        return {"true": True, "false": False, "null": None}[str(node.children[0])]

    def string(self, node: Tree[Token]) -> Value:
        parts: list[Value] = []
        for part in _trees(node):
            for piece in part.children:
                if isinstance(piece, Token):
                    parts.append(_unescape(str(piece)))
                elif piece.data == "interpolation":
                    parts.append(self.evaluate(_trees(piece)[0]))
                else:
                    return self.outer.unknown(self.text(node), "a template directive")
        if len(parts) == 1 and not isinstance(parts[0], str):
            return parts[0]
        out: list[str] = []
        for part in parts:
            if isinstance(part, Unknown):
                out.append(embedded_placeholder(part.expression))
            elif has_unknown(part):
                raise _Failed
            else:
                out.append(as_text(part))
        return "".join(out)

    def heredoc(self, node: Tree[Token]) -> Value:
        return self.outer.string(str(node.children[0]).rstrip("\r\n"))

    def tuple(self, node: Tree[Token]) -> Value:
        return [self.evaluate(item) for item in _trees(node)]

    def object(self, node: Tree[Token]) -> Value:
        out: dict[str, Value] = {}
        for element in _trees(node):
            key_node, value_node = _trees(element)
            out[self.object_key(key_node)] = self.evaluate(value_node)
        return out

    def object_key(self, node: Tree[Token]) -> str:
        inner = _children(node)[0]
        if isinstance(inner, Tree) and inner.data == "expr_term":
            term = _children(inner)
            if len(term) == 1 and isinstance(term[0], Tree) and term[0].data == "identifier":
                return str(term[0].children[0])
        if isinstance(inner, Tree) and inner.data == "keyword":
            return str(inner.children[0])
        key = self.evaluate(inner)
        if has_unknown(key):
            raise _Failed
        return as_text(key)

    def identifier(self, node: Tree[Token]) -> Value:
        name = str(node.children[0])
        if name in self.outer.scope.bindings:
            return self.outer.scope.bindings[name]
        return _Path(name)

    # --- traversal ---------------------------------------------------------------------------

    def get_attr_expr_term(self, node: Tree[Token]) -> Value:
        base_node, accessor = _children(node)
        base = self.traversal_base(base_node)
        assert isinstance(accessor, Tree)
        name = str(_trees(accessor)[0].children[0]) if _trees(accessor) else ""
        return self.attribute(base, name, node)

    def index_expr_term(self, node: Tree[Token]) -> Value:
        base_node, accessor = _children(node)
        base = self.traversal_base(base_node)
        assert isinstance(accessor, Tree)
        if accessor.data == "short_index":
            key: Value = int(str(accessor.children[-1]))
        else:
            key = self.evaluate(_trees(accessor)[0])
        if isinstance(base, _Path):
            shown = json.dumps(key) if not has_unknown(key) else self.text(accessor)[1:-1]
            return _Path(f"{base.text}[{shown}]")
        if isinstance(base, Unknown) or has_unknown(key):
            return self.outer.unknown(self.text(node), "indexes an unknown value", derived=True)
        if isinstance(base, list):
            return base[int(key)]
        if isinstance(base, Mapping):
            return base[as_text(key)]
        raise _Failed

    def traversal_base(self, node: Tree[Token] | Token) -> Value:
        if isinstance(node, Tree) and node.data == "expr_term":
            inner = _children(node)
            if len(inner) == 1 and isinstance(inner[0], Tree):
                return self.traversal_base(inner[0])
        if isinstance(node, Tree) and node.data in {"get_attr_expr_term", "index_expr_term"}:
            return self.node(node)
        if isinstance(node, Tree) and node.data == "identifier":
            return self.identifier(node)
        return self.evaluate(node)

    def attribute(self, base: Value, name: str, node: Tree[Token]) -> Value:
        if isinstance(base, _Path):
            if base.text == "var":
                return self.outer.variable(name)
            if base.text == "local":
                return self.outer.local(name)
            return _Path(f"{base.text}.{name}")
        if isinstance(base, Unknown):
            return self.outer.unknown(self.text(node), base.reason, derived=True)
        if isinstance(base, Mapping):
            if name not in base:
                raise _Failed
            return base[name]
        raise _Failed

    # --- operators ---------------------------------------------------------------------------

    def conditional(self, node: Tree[Token]) -> Value:
        condition, if_true, if_false = _trees(node)
        test = self.resolved(condition)
        if isinstance(test, Unknown):
            return self.outer.unknown(
                self.text(node), "its condition is not known offline", derived=True
            )
        return self.evaluate(if_true if test else if_false)

    def binary_op(self, node: Tree[Token]) -> Value:
        left_node, term = _trees(node)
        operator_node, right_node = _trees(term)
        operator = str(operator_node.children[0])
        left, right = self.resolved(left_node), self.resolved(right_node)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return self.outer.unknown(
                self.text(node), "an operand is not known offline", derived=True
            )
        return _BINARY[operator](left, right)

    def unary_op(self, node: Tree[Token]) -> Value:
        operator, operand_node = node.children
        operand = self.resolved(operand_node)
        if isinstance(operand, Unknown):
            return self.outer.unknown(
                self.text(node), "its operand is not known offline", derived=True
            )
        return -operand if str(operator) == "-" else not operand

    def resolved(self, node: Tree[Token] | Token) -> Value:
        """A value that must be wholly known (an operand): an unknown part makes it Unknown."""
        value = self.evaluate(node)
        if isinstance(value, _Path):
            return self.outer.unknown(value.text, _path_reason(value.text))
        if has_unknown(value):
            return Unknown(self.text(node))
        return value

    # --- functions and for expressions -------------------------------------------------------

    def function_call(self, node: Tree[Token]) -> Value:
        trees = _trees(node)
        name = str(trees[0].children[0])
        argument_nodes = _trees(trees[1]) if len(trees) > 1 else []
        expands = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in _children(trees[1]))
        if len(trees) > 1 and expands:
            return self.outer.unknown(self.text(node), "argument expansion (...) is not evaluated")
        if name in ("try", "coalesce", "can"):
            return self.fallback(name, argument_nodes, node)
        function = _FUNCTIONS.get(name)
        if function is None:
            return self.outer.unknown(
                self.text(node), f"function {name}() is not evaluated offline"
            )
        arguments = [self.evaluate(a) for a in argument_nodes]
        arguments = [self.settled(a) for a in arguments]
        if name in _PARTIAL:
            return function(*arguments)
        if any(has_unknown(a) for a in arguments):
            return self.outer.unknown(
                self.text(node), "an argument is not known offline", derived=True
            )
        return function(*arguments)

    def fallback(self, name: str, nodes: Sequence[Tree[Token]], node: Tree[Token]) -> Value:
        for argument in nodes:
            value = self.settled(self.evaluate(argument))
            if isinstance(value, Unknown):
                if name == "can":
                    break
                return self.outer.unknown(
                    self.text(node), "an argument is not known offline", derived=True
                )
            if name == "can":
                return True
            if name == "try" or value not in (None, ""):
                return value
        if name == "can":
            return self.outer.unknown(self.text(node), "can() of a value not known offline")
        raise _Failed

    def settled(self, value: Value) -> Value:
        """A bare reference path as what it is: unknown (a resource, data source, module)."""
        if isinstance(value, _Path):
            return self.outer.unknown(value.text, _path_reason(value.text))
        return value

    def for_tuple_expr(self, node: Tree[Token]) -> Value:
        return self.for_expression(node, as_object=False)

    def for_object_expr(self, node: Tree[Token]) -> Value:
        return self.for_expression(node, as_object=True)

    def for_expression(self, node: Tree[Token], *, as_object: bool) -> Value:
        intro = next(t for t in _trees(node) if t.data == "for_intro")
        names = [str(t.children[0]) for t in _trees(intro) if t.data == "identifier"]
        collection = self.resolved(_trees(intro)[-1])
        if isinstance(collection, Unknown):
            return self.outer.unknown(
                self.text(node), "it iterates over a value not known", derived=True
            )
        rest = [t for t in _trees(node) if t.data not in ("for_intro", "for_cond")]
        condition = next((t for t in _trees(node) if t.data == "for_cond"), None)
        items = (
            list(collection.items())
            if isinstance(collection, Mapping)
            else list(enumerate(collection))
        )
        out_list: list[Value] = []
        out_map: dict[str, Value] = {}
        for key, item in items:
            bound = {names[0]: key, names[1]: item} if len(names) == 2 else {names[0]: item}
            inner = _Node(_Evaluator(self.outer.scope.bind(**bound), self.outer.trace, ()), "")
            inner.source = self.source
            if condition is not None and not inner.resolved(_trees(condition)[0]):
                continue
            if as_object:
                out_map[as_text(inner.resolved(rest[0]))] = inner.evaluate(rest[1])
            else:
                out_list.append(inner.evaluate(rest[0]))
        return out_map if as_object else out_list

    def parenthesised(self, node: Tree[Token]) -> Value:
        return self.evaluate(_trees(node)[0])


@dataclass(frozen=True)
class _Path:
    """A reference not resolved yet: `aws_batch_compute_environment.env`, `data.x.y`..."""

    text: str


_DATA_SOURCE = "a data source: only Terraform knows its value"
_MODULE_OUTPUT = "another module's output: only Terraform knows it"
_RESOURCE_ATTRIBUTE = "another resource's attribute: only Terraform's state knows it"
REFERENCE_REASONS = frozenset({_DATA_SOURCE, _MODULE_OUTPUT, _RESOURCE_ATTRIBUTE})
"""Why a plain reference is unknown: expected of any Terraform, the placeholder says enough."""


def _path_reason(text: str) -> str:
    if text.startswith("data."):
        return _DATA_SOURCE
    if text.startswith("module."):
        return _MODULE_OUTPUT
    if text.startswith(("count.", "each.")):
        return "the instance key is not known offline"
    return _RESOURCE_ATTRIBUTE


def _unescape(text: str) -> str:
    if "\\" not in text and "$${" not in text:
        return text
    try:
        out: str = json.loads(f'"{text}"')
    except ValueError:
        out = text
    return out.replace("$${", "${").replace("%%{", "%{")


def merge_maps(*maps: Value) -> Value:
    """merge(): later maps win; an unknown map becomes one placeholder entry."""
    out: dict[str, Value] = {}
    for index, item in enumerate(maps):
        if item is None:
            continue
        if isinstance(item, Unknown):
            out[MARK if index == 0 else f"{MARK}-{index}"] = placeholder_text(item.expression)
        elif isinstance(item, Mapping):
            out.update(item)
        else:
            raise _Failed
    return out


def _concat(*lists: Value) -> Value:
    if any(isinstance(item, Unknown) or not isinstance(item, list) for item in lists):
        raise _Failed
    return [element for item in lists for element in item]


def _to_number(value: Value) -> Value:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    number = float(str(value))
    return int(number) if number.is_integer() else number


def _format(spec: Value, *arguments: Value) -> Value:
    text = str(spec).replace("%%", "\x00")
    for argument in arguments:
        for verb in ("%s", "%d", "%v", "%q"):
            if verb in text:
                shown = json.dumps(argument) if verb == "%q" else as_text(argument)
                text = text.replace(verb, shown, 1)
                break
    if "%" in text:
        raise _Failed
    return text.replace("\x00", "%")


def _lookup(mapping: Value, key: Value, *default: Value) -> Value:
    if isinstance(mapping, Unknown) or not isinstance(mapping, Mapping):
        raise _Failed
    if as_text(key) in mapping:
        return mapping[as_text(key)]
    if default:
        return default[0]
    raise _Failed


def _unique(items: Value) -> Value:
    out: list[Value] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _sorted_set(items: Value) -> Value:
    # toset() has no order; Terraform iterates a set of strings in lexical order.
    unique = _unique(items)
    return sorted(unique, key=as_text) if all(isinstance(i, str) for i in unique) else unique


def _flatten(items: Value) -> Value:
    out: list[Value] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _json_decode(text: Value) -> Value:
    return json.loads(as_text(text))


def _range(*bounds: Value) -> Value:
    numbers = [int(b) for b in bounds]
    return list(range(*numbers))


_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "merge": merge_maps,
    "concat": _concat,
    "tostring": lambda v: as_text(v),
    "tonumber": _to_number,
    "tobool": lambda v: v if isinstance(v, bool) else {"true": True, "false": False}[str(v)],
    "tolist": lambda v: list(v),
    "toset": _sorted_set,
    "tomap": lambda v: dict(v),
    "jsonencode": JsonDocument,
    "jsondecode": _json_decode,
    "format": _format,
    "lookup": _lookup,
    "length": lambda v: len(v),
    "upper": lambda v: as_text(v).upper(),
    "lower": lambda v: as_text(v).lower(),
    "title": lambda v: as_text(v).title(),
    "trimspace": lambda v: as_text(v).strip(),
    "replace": lambda s, old, new: as_text(s).replace(as_text(old), as_text(new)),
    "join": lambda sep, items: as_text(sep).join(as_text(i) for i in items),
    "split": lambda sep, text: as_text(text).split(as_text(sep)),
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "element": lambda items, i: items[int(i) % len(items)],
    "contains": lambda items, v: v in items,
    "distinct": _unique,
    "compact": lambda items: [i for i in items if i not in (None, "")],
    "flatten": _flatten,
    "range": _range,
    "min": lambda *v: min(v),
    "max": lambda *v: max(v),
    "ceil": lambda v: math.ceil(v),
    "floor": lambda v: math.floor(v),
    "abs": lambda v: abs(v),
    "zipmap": lambda ks, vs: dict(zip(map(as_text, ks), vs, strict=True)),
    "slice": lambda items, start, end: items[int(start) : int(end)],
}
# Functions that keep unknown parts instead of making the whole result unknown.
_PARTIAL = frozenset({"merge", "jsonencode"})

_BINARY: dict[str, Callable[[Value, Value], Value]] = {
    "+": lambda a, b: _to_number(a) + _to_number(b),
    "-": lambda a, b: _to_number(a) - _to_number(b),
    "*": lambda a, b: _to_number(a) * _to_number(b),
    "/": lambda a, b: _to_number(a) / _to_number(b),
    "%": lambda a, b: _to_number(a) % _to_number(b),
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: _to_number(a) < _to_number(b),
    ">": lambda a, b: _to_number(a) > _to_number(b),
    "<=": lambda a, b: _to_number(a) <= _to_number(b),
    ">=": lambda a, b: _to_number(a) >= _to_number(b),
    "&&": lambda a, b: bool(a) and bool(b),
    "||": lambda a, b: bool(a) or bool(b),
}

_HANDLERS: dict[str, Callable[[_Node, Tree[Token]], Value]] = {
    "expr_term": _Node.expr_term,
    "int_lit": _Node.int_lit,
    "float_lit": _Node.float_lit,
    "literal_value": _Node.literal_value,
    "string": _Node.string,
    "heredoc_template": _Node.heredoc,
    "heredoc_template_trim": _Node.heredoc,
    "tuple": _Node.tuple,
    "object": _Node.object,
    "identifier": _Node.identifier,
    "get_attr_expr_term": _Node.get_attr_expr_term,
    "index_expr_term": _Node.index_expr_term,
    "conditional": _Node.conditional,
    "binary_op": _Node.binary_op,
    "unary_op": _Node.unary_op,
    "function_call": _Node.function_call,
    "for_tuple_expr": _Node.for_tuple_expr,
    "for_object_expr": _Node.for_object_expr,
}
