"""The Kubernetes API server's CEL environment for CRD rules, on cel-expr-python.

cel-expr-python wraps cel-cpp, the CEL team's own C++ runtime: it type-checks at compile time
(an unknown function or a wrong argument fails there, as it fails at `kubectl apply` of the
CRD) and brings the standard definitions (`has()`, the macros `all`, `exists`, `exists_one`,
`map`, `filter`, `size`, `startsWith`, `endsWith`, `contains`, `matches` with RE2, numeric
comparisons across int and double), the strings extension at the version Kubernetes enables (2)
and optional types. Kubernetes adds libraries of cel-go that the wheel does not ship; the
functions our rules call are written here, with cel-go's semantics:

- `sets.contains`, `sets.equivalent`, `sets.intersects`: cel-go's `ext.Sets`, in the Kubernetes
  base environment since 1.29.
- `<list>.flatten()`, `<list>.flatten(depth)`: cel-go's `ext.Lists` (version 3), since 1.34.

Anything else Kubernetes offers (its own lists, regex, URL, quantity, IP/CIDR, format and
semver libraries, two-variable comprehensions) is not here: a rule that calls it fails to
compile, and tests/unit/test_validate_cel.py compiles every rule of the CRDs, so the function is
added here the day a rule needs it, not skipped offline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

# The wheel ships .pyi stubs but no py.typed marker, so mypy sees the package as untyped; its
# values stay behind this module's typed surface.
from cel_expr_python import cel  # type: ignore[import-untyped]
from cel_expr_python.ext import (  # type: ignore[import-untyped]
    ext_bindings,
    ext_optional,
    ext_strings,
)

_STRINGS_VERSION: Final = 2
"""The `ext.Strings` version of the Kubernetes base environment (1.29+)."""


class CelCompileError(ValueError):
    """An expression the environment cannot compile (syntax, unknown function, wrong types)."""


# --- Kubernetes extension functions missing from the wheel -----------------------------------


def cel_equal(left: object, right: object) -> bool:
    """CEL's `==` on plain values: numbers compare across int and double, but a bool is never a
    number (Python's `True == 1` is not CEL's)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(cel_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(cel_equal(left[k], right[k]) for k in left)
    if isinstance(left, bytes | bytearray) and isinstance(right, bytes | bytearray):
        return bytes(left) == bytes(right)
    return type(left) is type(right) and left == right


def _member(value: object, values: Sequence[object]) -> bool:
    return any(cel_equal(value, candidate) for candidate in values)


def sets_contains(values: Sequence[object], subset: Sequence[object]) -> bool:
    """cel-go ext.Sets `sets.contains(list, sublist)`: every element of `sublist` is in `list`."""
    return all(_member(value, values) for value in subset)


def sets_equivalent(left: Sequence[object], right: Sequence[object]) -> bool:
    """cel-go ext.Sets `sets.equivalent(a, b)`: the same elements, duplicates and order aside."""
    return sets_contains(left, right) and sets_contains(right, left)


def sets_intersects(left: Sequence[object], right: Sequence[object]) -> bool:
    """cel-go ext.Sets `sets.intersects(a, b)`: at least one element in common."""
    return any(_member(value, left) for value in right)


def flatten(values: Sequence[object], depth: int = 1) -> list[object]:
    """cel-go ext.Lists `list.flatten(depth = 1)`: nested lists spliced in, `depth` levels deep;
    other elements kept as they are."""
    if depth < 0:
        raise ValueError("level must be non-negative")
    flat: list[object] = []
    for value in values:
        if isinstance(value, list) and depth > 0:
            flat.extend(flatten(value, depth - 1))
        else:
            flat.append(value)
    return flat


_LIST: Final = cel.Type.List(cel.Type.DYN)
_KUBERNETES_LIBRARIES: Final = cel.CelExtension(
    "kubernetes",
    [
        cel.FunctionDecl(
            "sets.contains",
            [
                cel.Overload(
                    "list_sets_contains_list", cel.Type.BOOL, [_LIST, _LIST], impl=sets_contains
                )
            ],
        ),
        cel.FunctionDecl(
            "sets.equivalent",
            [
                cel.Overload(
                    "list_sets_equivalent_list", cel.Type.BOOL, [_LIST, _LIST], impl=sets_equivalent
                )
            ],
        ),
        cel.FunctionDecl(
            "sets.intersects",
            [
                cel.Overload(
                    "list_sets_intersects_list", cel.Type.BOOL, [_LIST, _LIST], impl=sets_intersects
                )
            ],
        ),
        cel.FunctionDecl(
            "flatten",
            [
                cel.Overload("list_flatten", _LIST, [_LIST], is_member=True, impl=flatten),
                cel.Overload(
                    "list_flatten_int", _LIST, [_LIST, cel.Type.INT], is_member=True, impl=flatten
                ),
            ],
        ),
    ],
)


# --- Environments ------------------------------------------------------------------------------


def _environment(variables: dict[str, Any], *extra: Any) -> Any:
    return cel.NewEnv(
        variables=variables,
        extensions=[
            ext_strings.ExtStrings(_STRINGS_VERSION),
            ext_optional.ExtOptional(),
            _KUBERNETES_LIBRARIES,
            *extra,
        ],
    )


# What a rule sees: `self` and `oldSelf` of any type (the API server types them from the schema;
# dynamic typing accepts every rule that typed checking accepts).
_RULES: Final = _environment({"self": cel.Type.DYN, "oldSelf": cel.Type.DYN})
# Without `oldSelf`: a rule that compiles in _RULES but not here compares with the old object.
_SELF_ONLY: Final = _environment({"self": cel.Type.DYN})
# `optionalOldSelf` rules run on a create too, with `oldSelf` an empty optional: the rule is
# wrapped in `cel.bind(oldSelf, optional.none(), ...)`, which needs the bindings extension
# (Kubernetes has none, so only this wrapper may use it).
_OPTIONAL_OLD_SELF: Final = _environment({"self": cel.Type.DYN}, ext_bindings.ExtBindings())


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation: a plain value, or CEL's error message."""

    value: object = None
    error: str | None = None


class Expression:
    """One compiled expression over `self`, evaluated against `Scope`s."""

    def __init__(self, source: str, compiled: Any, uses_old_self: bool, optional_old_self: bool):
        self.source = source
        self.uses_old_self = uses_old_self
        """True when the expression reads `oldSelf`: without `optionalOldSelf` it runs only on
        an update, so an offline check (a create) skips it, as the API server does."""
        self._compiled = compiled
        self._optional_old_self = optional_old_self

    def returns(self, *kinds: str) -> bool:
        """True when the checked result type is one of `kinds` (`"bool"`, `"string"`) or dyn."""
        result = self._compiled.return_type()
        wanted = {"bool": cel.Type.BOOL, "string": cel.Type.STRING}
        return bool(result == cel.Type.DYN or any(result == wanted[k] for k in kinds))

    def evaluate(self, scope: Scope) -> Evaluation:
        """Run against `scope`; CEL errors (a missing key, no matching overload) come back as
        `Evaluation.error`, in cel-go's words where they differ."""
        try:
            if self._optional_old_self:
                result = self._compiled.eval(data={"self": scope.value})
            else:
                result = self._compiled.eval(scope.activation)
        except RuntimeError as exc:  # the wheel raises RuntimeError for what it cannot convert
            return Evaluation(error=_go_wording(str(exc)))
        if result.type() == cel.Type.ERROR:
            return Evaluation(error=_go_wording(str(result.value())))
        return Evaluation(value=result.value())


class Scope:
    """`self` bound to one value, shared by every expression evaluated at one schema node."""

    def __init__(self, value: object):
        self.value = value
        self.activation = _RULES.Activation({"self": value})


def compile_expression(source: str, optional_old_self: bool = False) -> Expression:
    """Compile a rule or message expression, or raise CelCompileError with the checker's
    message."""
    try:
        compiled = _RULES.compile(source)
    except RuntimeError as exc:
        raise CelCompileError(_checker_errors(str(exc))) from None
    try:
        _SELF_ONLY.compile(source)
    except RuntimeError:
        uses_old_self = True  # compiles with oldSelf declared, fails without: it reads oldSelf
    else:
        return Expression(source, compiled, uses_old_self=False, optional_old_self=False)
    if not optional_old_self:
        return Expression(source, compiled, uses_old_self=True, optional_old_self=False)
    try:
        wrapped = _OPTIONAL_OLD_SELF.compile(f"cel.bind(oldSelf, optional.none(), ({source}))")
    except RuntimeError as exc:
        raise CelCompileError(_checker_errors(str(exc))) from None
    return Expression(source, wrapped, uses_old_self=uses_old_self, optional_old_self=True)


_STATUS_PREFIX: Final = re.compile(r"^[A-Z_]+: ")
_NO_SUCH_KEY: Final = re.compile(r'^Key not found in map ?: ?"?(.*?)"?$')
_NO_SUCH_OVERLOAD: Final = re.compile(r"^No matching overloads found ?: ?(.*)$")


def _go_wording(message: str) -> str:
    """cel-cpp's runtime errors as cel-go (and so kubectl) words them: `no such key: x` and
    `no such overload: _>_(string, int)`; other messages lose only their status-code prefix."""
    message = _STATUS_PREFIX.sub("", message.strip())
    if key := _NO_SUCH_KEY.match(message):
        return f"no such key: {key.group(1)}"
    if overload := _NO_SUCH_OVERLOAD.match(message):
        return f"no such overload: {overload.group(1)}"
    return message


def _checker_errors(message: str) -> str:
    """The checker's `ERROR: <input>:1:16: undeclared reference to 'x'` lines, without the
    status code and the source excerpts, joined with `; `."""
    errors = [
        line.removeprefix("ERROR: ").removesuffix(" [INVALID_ARGUMENT]")
        for line in _STATUS_PREFIX.sub("", message.strip()).splitlines()
        if line.startswith("ERROR: ")
    ]
    return "; ".join(errors) or message
