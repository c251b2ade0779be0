"""The CRD's structural schema as a JSON Schema check, worded the way the API server words it.

A Kubernetes structural schema is OpenAPI v3.0, which is JSON Schema draft 4 plus `nullable` and
the `x-kubernetes-*` extensions. The conversion keeps the draft-4 keywords, turns `nullable`
into a null type, closes every object that lists its properties (unknown fields fail
`kubectl apply`'s strict decoding) and gives the list extensions (`set`, `map` keyed by fields)
their uniqueness meaning. `apply_defaults` fills in `default`s as the API server does when it
decodes an object. CEL rules (`x-kubernetes-validations`) are evaluated by
`batchops.validation.cel_rules`, on the defaulted object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any, cast

# No type stubs installed (types-jsonschema would let these ignores go).
from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError

from batchops.validation.paths import FieldPath, format_path

# Draft-4 keywords a structural schema may use, kept as they are.
_KEPT = frozenset(
    {
        "type",
        "required",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "uniqueItems",
        "multipleOf",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    }
)
_LIST_TYPE = "x-kubernetes-list-type"
_LIST_MAP_KEYS = "x-kubernetes-list-map-keys"


def to_json_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """Convert one openAPIV3Schema node (recursively) to a draft-4 schema for `SchemaValidator`."""
    out: dict[str, Any] = {key: node[key] for key in _KEPT & node.keys()}
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [to_json_schema(sub) for sub in out[key]]
    if "not" in out:
        out["not"] = to_json_schema(out["not"])
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if node.get("nullable") and "type" in out:
        out["type"] = [*_as_list(out["type"]), "null"]
    if "properties" in node:
        out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
        if "additionalProperties" not in node and not node.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            out["additionalProperties"] = False
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        out["additionalProperties"] = to_json_schema(additional)
    elif isinstance(additional, bool):
        out["additionalProperties"] = additional
    if isinstance(node.get("items"), Mapping):
        out["items"] = to_json_schema(node["items"])
    if node.get(_LIST_TYPE) in ("set", "map"):
        out[_LIST_TYPE] = node[_LIST_TYPE]
        if node[_LIST_TYPE] == "map":
            out[_LIST_MAP_KEYS] = list(node.get(_LIST_MAP_KEYS, []))
    return out


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _list_type(
    validator: Any, list_type: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`set`: items unique; `map`: unique by the map keys. The API server says "Duplicate value"
    at the second entry."""
    if not isinstance(instance, list):
        return
    keys: Sequence[str] = schema.get(_LIST_MAP_KEYS, [])
    seen: set[str] = set()
    for index, item in enumerate(instance):
        if list_type == "map" and isinstance(item, Mapping):
            identity: object = {key: item.get(key) for key in keys}
        else:
            identity = item
        fingerprint = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        if fingerprint in seen:
            yield ValidationError(f"Duplicate value: {fingerprint}", path=[index])
        seen.add(fingerprint)


SchemaValidator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
    Draft4Validator, {_LIST_TYPE: _list_type}
)


@cache
def _cached_validator(schema_json: str) -> Any:
    return SchemaValidator(to_json_schema(json.loads(schema_json)))


def schema_problems(
    schema: Mapping[str, Any], body: Mapping[str, Any]
) -> list[tuple[FieldPath, str]]:
    """Every violation of the structural schema, as (field path, API-server-style message).
    `status` is left out: `kubectl apply` ignores it on kinds with a status subresource."""
    validator = _cached_validator(json.dumps(schema, sort_keys=True))
    instance = {key: value for key, value in body.items() if key != "status"}
    found: list[tuple[FieldPath, str]] = []
    for error in validator.iter_errors(instance):
        found.extend(_explain(error))
    return sorted(found, key=lambda item: (format_path(item[0]), item[1]))


def apply_defaults(schema: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `body` with the schema's defaults filled in where the API server fills them (its
    structural defaulting): a property that is absent, or null without `nullable`, takes its
    `default`, in properties, additionalProperties and items alike, into defaulted values too."""
    defaulted = _defaulted(schema, body)
    return defaulted if isinstance(defaulted, dict) else {}


def _defaulted(node: Mapping[str, Any], value: object) -> object:
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] = node.get("properties") or {}
        out = dict(value)
        for key, prop in properties.items():
            if "default" in prop and (key not in out or _non_nullable_null(out[key], prop)):
                out[key] = copy.deepcopy(prop["default"])
        additional = node.get("additionalProperties")
        for key, child in out.items():
            if key in properties:
                out[key] = _defaulted(properties[key], child)
            elif isinstance(additional, Mapping):
                if "default" in additional and _non_nullable_null(child, additional):
                    child = copy.deepcopy(additional["default"])
                out[key] = _defaulted(additional, child)
        return out
    items = node.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [
            _defaulted(
                items,
                copy.deepcopy(items["default"])
                if "default" in items and _non_nullable_null(item, items)
                else item,
            )
            for item in value
        ]
    return value


def _non_nullable_null(value: object, node: Mapping[str, Any]) -> bool:
    return value is None and not node.get("nullable")


def _explain(error: ValidationError) -> Iterator[tuple[FieldPath, str]]:
    """One jsonschema error in the API server's words (so CI and kubectl say the same thing)."""
    path: FieldPath = tuple(error.absolute_path)
    # The stubs type these as "unset or anything": inside an error they are always set.
    keyword, limit, value = error.validator, cast(Any, error.validator_value), error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword == "additionalProperties" and isinstance(value, Mapping):
        known = schema.get("properties", {})
        for key in sorted(k for k in value if k not in known):
            yield (*path, key), f'unknown field "{format_path((*path, key))}"'
    elif keyword == "required" and isinstance(value, Mapping):
        for key in limit:
            if key not in value:
                yield (*path, key), "Required value"
    elif keyword == "enum":
        allowed = ", ".join(json.dumps(option) for option in limit)
        yield path, f"Unsupported value: {json.dumps(value)}: supported values: {allowed}"
    elif keyword == "type":
        wanted = " or ".join(str(t) for t in _as_list(limit) if t != "null")
        yield path, f'must be of type {wanted}: "{_json_type(value)}"'
    elif keyword == "minimum":
        exclusive = schema.get("exclusiveMinimum") is True
        yield path, f"should be greater than {'' if exclusive else 'or equal to '}{limit}"
    elif keyword == "maximum":
        exclusive = schema.get("exclusiveMaximum") is True
        yield path, f"should be less than {'' if exclusive else 'or equal to '}{limit}"
    elif keyword == "maxLength":
        yield path, f"Too long: may not be more than {limit} bytes"
    elif keyword == "minLength":
        yield path, f"should be at least {limit} chars long"
    elif keyword == "pattern":
        yield path, f"should match '{limit}'"
    elif keyword in ("maxItems", "maxProperties"):
        yield path, f"Too many: {len(cast(Any, value))}: must have at most {limit} items"
    elif keyword == "minItems":
        yield path, f"should have at least {limit} items"
    elif keyword == "minProperties":
        yield path, f"should have at least {limit} properties"
    else:
        yield path, error.message


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"
