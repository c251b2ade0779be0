"""The Kubernetes API server's CEL environment for CRD rules, on cel-expr-python.

cel-expr-python wraps cel-cpp, the CEL team's own C++ runtime: it type-checks at compile time
(an unknown function or a wrong argument fails there, as it fails at `kubectl apply` of the
CRD) and brings the standard definitions (`has()`, the macros `all`, `exists`, `exists_one`,
`map`, `filter`, `size`, `startsWith`, `endsWith`, `contains`, `matches` with RE2, numeric
comparisons across int and double), the strings extension at the version Kubernetes enables (2)
and optional types. Kubernetes adds libraries of cel-go that the wheel does not ship (sets,
lists, regex, URL, quantity, IP/CIDR, format, semver, two-variable comprehensions); none of our
rules calls them. A rule that does fails to compile here, and tests/unit/test_validate_cel.py
compiles every rule of the CRDs, so the function is written here, with cel-go's semantics, the
day a rule needs it, not skipped offline.
"""

from __future__ import annotations

import re
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


# --- Environments ------------------------------------------------------------------------------


def _environment(variables: dict[str, Any], *extra: Any) -> Any:
    return cel.NewEnv(
        variables=variables,
        extensions=[
            ext_strings.ExtStrings(_STRINGS_VERSION),
            ext_optional.ExtOptional(),
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
