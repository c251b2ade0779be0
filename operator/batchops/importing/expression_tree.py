"""The walk over python-hcl2's parse tree of one expression: terms, traversals, operators,
function calls and for expressions, each node type handled by one method (`_HANDLERS`).

It is apart from `expressions`, which decides what a string attribute holds (a literal, a
template, a heredoc) and resolves variables and locals: the walk asks it for those through
`Evaluation`, and for nothing else, so the grammar's many node shapes stay in one place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import hcl2
from lark import Token, Tree

from batchops.importing.expression_functions import (
    BINARY_OPERATORS,
    FUNCTIONS,
    KEEPING_UNKNOWN_PARTS,
)
from batchops.importing.expression_values import (
    NotEvaluated,
    Scope,
    Unknown,
    Value,
    as_text,
    has_unknown,
)
from batchops.importing.placeholders import embedded_placeholder


class Evaluation(Protocol):
    """What the walk needs from the evaluator of the attribute the expression is in."""

    @property
    def scope(self) -> Scope:
        """The names in scope."""
        ...

    def unknown(self, text: str, reason: str, *, derived: bool = False) -> Unknown:
        """An Unknown for `text`, traced unless `derived` from another unknown part."""
        ...

    def variable(self, name: str) -> Value:
        """`var.<name>`, evaluated."""
        ...

    def local(self, name: str) -> Value:
        """`local.<name>`, evaluated."""
        ...

    def string(self, text: str) -> Value:
        """A string as python-hcl2 keeps it (a template, a heredoc), evaluated."""
        ...

    def bound(self, **names: Value) -> Evaluation:
        """An evaluation with more names bound (a for expression's variables)."""
        ...


def parse_expression(source: str) -> Tree[Token] | Token:
    """The expression node of `source` (`value = <expression>`), parsed by python-hcl2; raises
    whatever lark raises for text that is not an expression."""
    tree = hcl2.parses_to_tree(source)
    body = tree.children[0]
    assert isinstance(body, Tree)
    for child in body.children:
        if isinstance(child, Tree) and child.data == "attribute":
            return child.children[-1]
    raise NotEvaluated


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


def evaluate_tree(outer: Evaluation, node: Tree[Token] | Token, source: str) -> Value:
    """The value of a parsed expression; `source` is the text it was parsed from."""
    return _Node(outer, source).evaluate(node)


class _Node:
    """Evaluation of one parsed expression; `source` is the text it was parsed from."""

    def __init__(self, outer: Evaluation, source: str) -> None:
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
        except (NotEvaluated, ArithmeticError, ValueError, TypeError, KeyError, IndexError):
            return self.outer.unknown(self.text(node), "not evaluated offline")
        except RecursionError:
            return self.outer.unknown(self.text(node), "nested too deeply")

    def node(self, node: Tree[Token] | Token) -> Value:
        if isinstance(node, Token):
            raise NotEvaluated
        handler = _HANDLERS.get(str(node.data))
        if handler is None:
            return self.outer.unknown(self.text(node), f"{node.data} is not evaluated offline")
        return handler(self, node)

    # --- terms -------------------------------------------------------------------------------

    def expr_term(self, node: Tree[Token]) -> Value:
        inner = [c for c in _children(node) if not (isinstance(c, Token) and c in "()")]
        if len(inner) != 1:
            raise NotEvaluated
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
                raise NotEvaluated
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
            raise NotEvaluated
        return as_text(key)

    def identifier(self, node: Tree[Token]) -> Value:
        name = str(node.children[0])
        if name in self.outer.scope.bindings:
            return self.outer.scope.bindings[name]
        return Reference(name)

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
        if isinstance(base, Reference):
            shown = json.dumps(key) if not has_unknown(key) else self.text(accessor)[1:-1]
            return Reference(f"{base.text}[{shown}]")
        if isinstance(base, Unknown) or has_unknown(key):
            return self.outer.unknown(self.text(node), "indexes an unknown value", derived=True)
        if isinstance(base, list):
            return base[int(key)]
        if isinstance(base, Mapping):
            return base[as_text(key)]
        raise NotEvaluated

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
        if isinstance(base, Reference):
            if base.text == "var":
                return self.outer.variable(name)
            if base.text == "local":
                return self.outer.local(name)
            return Reference(f"{base.text}.{name}")
        if isinstance(base, Unknown):
            return self.outer.unknown(self.text(node), base.reason, derived=True)
        if isinstance(base, Mapping):
            if name not in base:
                raise NotEvaluated
            return base[name]
        raise NotEvaluated

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
        return BINARY_OPERATORS[operator](left, right)

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
        if isinstance(value, Reference):
            return self.outer.unknown(value.text, reference_reason(value.text))
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
        function = FUNCTIONS.get(name)
        if function is None:
            return self.outer.unknown(
                self.text(node), f"function {name}() is not evaluated offline"
            )
        arguments = [self.evaluate(a) for a in argument_nodes]
        arguments = [self.settled(a) for a in arguments]
        if name in KEEPING_UNKNOWN_PARTS:
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
        raise NotEvaluated

    def settled(self, value: Value) -> Value:
        """A bare reference path as what it is: unknown (a resource, data source, module)."""
        if isinstance(value, Reference):
            return self.outer.unknown(value.text, reference_reason(value.text))
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
            inner = _Node(self.outer.bound(**bound), self.source)
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
class Reference:
    """A reference not resolved yet: `aws_batch_compute_environment.env`, `data.x.y`... The
    evaluator turns one left in a result into an Unknown (`reference_reason` says why)."""

    text: str


_DATA_SOURCE = "a data source: only Terraform knows its value"
_MODULE_OUTPUT = "another module's output: only Terraform knows it"
_RESOURCE_ATTRIBUTE = "another resource's attribute: only Terraform's state knows it"
REFERENCE_REASONS = frozenset({_DATA_SOURCE, _MODULE_OUTPUT, _RESOURCE_ATTRIBUTE})
"""Why a plain reference is unknown: expected of any Terraform, the placeholder says enough."""


def reference_reason(text: str) -> str:
    """Why the reference `text` is not known offline."""
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
