"""Terraform's built-in functions and operators, as far as they can run offline.

Each is a pure Python function over evaluated values (`expression_values`): the evaluator calls
them once every argument is known (or, for those in `KEEPING_UNKNOWN_PARTS`, with unknown parts
left in place). A function that cannot compute its result raises `NotEvaluated` (or a Python
error the evaluator catches), which makes the call an `Unknown`: this table is the one place to
add a function Terraform users reach for.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

from batchops.importing.expression_values import (
    JsonDocument,
    NotEvaluated,
    Unknown,
    Value,
    as_text,
)
from batchops.importing.placeholders import MARK, placeholder_text


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
            raise NotEvaluated
    return out


def _concat(*lists: Value) -> Value:
    if any(isinstance(item, Unknown) or not isinstance(item, list) for item in lists):
        raise NotEvaluated
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
        raise NotEvaluated
    return text.replace("\x00", "%")


def _lookup(mapping: Value, key: Value, *default: Value) -> Value:
    if isinstance(mapping, Unknown) or not isinstance(mapping, Mapping):
        raise NotEvaluated
    if as_text(key) in mapping:
        return mapping[as_text(key)]
    if default:
        return default[0]
    raise NotEvaluated


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


FUNCTIONS: dict[str, Callable[..., Value]] = {
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
"""Terraform's functions by name; a call to any other is not evaluated offline."""

KEEPING_UNKNOWN_PARTS = frozenset({"merge", "jsonencode"})
"""Functions that keep unknown parts instead of making the whole result unknown."""

BINARY_OPERATORS: dict[str, Callable[[Value, Value], Value]] = {
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
"""Terraform's binary operators; arithmetic converts strings to numbers as Terraform does."""
