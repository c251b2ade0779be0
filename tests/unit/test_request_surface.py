"""Every member of Batch's create/register/submit request shapes has a home in a manifest.

The installed botocore model is walked against the CRDs: each member is a field under the same
name whose schema has the member's shape (recursively: the same properties, item and value
shapes, types, and no enum value Batch would not take), or it is listed in `NOT_MIRRORED` with a
reason. A botocore release that adds a member fails here until someone decides where it goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import botocore.loaders
import pytest
import yaml

from batchops.model.request_surface import (
    FLATTENED,
    HOMES,
    NOT_MIRRORED,
    PASSTHROUGH,
    RequestHome,
)

ROOT = Path(__file__).resolve().parents[2]
_TYPES = {
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    "float": "number",
    "double": "number",
}


@pytest.fixture(scope="module")
def shapes() -> Mapping[str, Any]:
    model = botocore.loaders.Loader().load_service_model("batch", "service-2")
    return model  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def crds() -> dict[str, Any]:
    by_kind: dict[str, Any] = {}
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        by_kind[document["spec"]["names"]["kind"]] = document
    return by_kind


def _home_schema(crds: Mapping[str, Any], home: RequestHome) -> Mapping[str, Any]:
    node: Mapping[str, Any] = crds[home.kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for name in home.path:
        node = node["properties"][name]
        if node.get("type") == "array":
            node = node["items"]
    return node


def _excluded() -> set[str]:
    return {path for paths in NOT_MIRRORED for path in paths}


def shape_mismatches(
    model: Mapping[str, Any], shape_name: str, schema: Mapping[str, Any], path: str
) -> Iterator[str]:
    """Where `schema` differs from the botocore shape (an empty iterator: same shape)."""
    shape = model["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        if schema.get("type") != "object" or "properties" not in schema:
            yield f"{path}: botocore has an object, the CRD has {schema.get('type')}"
            return
        members = shape["members"]
        for extra in sorted(set(schema["properties"]) - set(members)):
            yield f"{path}.{extra}: in the CRD but not in botocore's {shape_name}"
        for name, member in members.items():
            if f"{path}.{name}" in _excluded():
                continue
            if name not in schema["properties"]:
                yield f"{path}.{name}: missing from the CRD"
                continue
            yield from shape_mismatches(
                model, member["shape"], schema["properties"][name], f"{path}.{name}"
            )
    elif kind == "list":
        if schema.get("type") != "array":
            yield f"{path}: botocore has a list, the CRD has {schema.get('type')}"
            return
        yield from shape_mismatches(model, shape["member"]["shape"], schema["items"], path + "[]")
    elif kind == "map":
        if schema.get("type") != "object" or "additionalProperties" not in schema:
            yield f"{path}: botocore has a map, the CRD has {schema.get('type')}"
            return
        yield from shape_mismatches(
            model, shape["value"]["shape"], schema["additionalProperties"], path + "{}"
        )
    else:
        if schema.get("type") != _TYPES[kind]:
            yield f"{path}: botocore has {kind}, the CRD has {schema.get('type')}"
        extra_values = set(schema.get("enum", ())) - set(shape.get("enum", schema.get("enum", ())))
        if extra_values:
            yield f"{path}: the CRD allows {sorted(extra_values)}, which Batch does not take"


def surface_gaps(model: Mapping[str, Any], crds: Mapping[str, Any]) -> list[str]:
    """Request members that have no home, or a home of another shape."""
    gaps: list[str] = []
    excluded = _excluded()
    for home in HOMES:
        schema = _home_schema(crds, home)
        operation = model["operations"][home.operation]
        request = model["shapes"][operation["input"]["shape"]]
        for name, member in request["members"].items():
            path = f"{home.operation}.{name}"
            if path in excluded:
                continue
            if path in FLATTENED:
                inner = model["shapes"][member["shape"]]["members"]
                for inner_name, inner_member in inner.items():
                    inner_path = f"{path}.{inner_name}"
                    if inner_path in excluded:
                        continue
                    if inner_name not in schema["properties"]:
                        gaps.append(f"{inner_path}: no field {inner_name!r} in {home.kind}")
                        continue
                    gaps.extend(
                        shape_mismatches(
                            model,
                            inner_member["shape"],
                            schema["properties"][inner_name],
                            inner_path,
                        )
                    )
                continue
            if name not in schema["properties"]:
                gaps.append(f"{path}: no field {name!r} in {home.kind}")
                continue
            gaps.extend(shape_mismatches(model, member["shape"], schema["properties"][name], path))
    return gaps


# Infrastructure members not built yet (issue #14). Each must still be a gap: remove the line
# in the change that gives the member its home.
KNOWN_GAPS: frozenset[str] = frozenset()


def test_every_request_member_has_a_home(
    shapes: Mapping[str, Any], crds: Mapping[str, Any]
) -> None:
    gaps = set(surface_gaps(shapes, crds))
    assert sorted(gaps - KNOWN_GAPS) == []
    assert sorted(KNOWN_GAPS - gaps) == [], "these have a home now: remove them from KNOWN_GAPS"


def test_every_exclusion_names_a_real_member_and_gives_a_reason(
    shapes: Mapping[str, Any],
) -> None:
    for paths, reason in NOT_MIRRORED.items():
        assert len(reason) > 15, paths
        for path in paths:
            operation, *members = path.split(".")
            shape = shapes["shapes"][shapes["operations"][operation]["input"]["shape"]]
            for member in members:
                assert member in shape["members"], f"{path}: botocore has no such member"
                shape = shapes["shapes"][shape["members"][member]["shape"]]


def test_exclusions_stay_a_short_list() -> None:
    # The bound: the table is for derived and renamed members, not for gaps.
    assert len(NOT_MIRRORED) <= 15


def test_pass_through_fields_name_the_shape_botocore_gives_them(
    shapes: Mapping[str, Any],
) -> None:
    members = {
        **shapes["shapes"]["ContainerProperties"]["members"],
        **shapes["shapes"]["RegisterJobDefinitionRequest"]["members"],
        **shapes["shapes"]["SubmitJobRequest"]["members"],
    }
    for name, field in PASSTHROUGH.items():
        assert members[name]["shape"] == field.shape, name


def test_a_field_of_another_shape_is_reported(shapes: Mapping[str, Any]) -> None:
    wrong = {
        "type": "object",
        "properties": {"sizeInGiB": {"type": "string"}, "extra": {"type": "string"}},
    }
    assert sorted(shape_mismatches(shapes, "EphemeralStorage", wrong, "x")) == [
        "x.extra: in the CRD but not in botocore's EphemeralStorage",
        "x.sizeInGiB: botocore has integer, the CRD has string",
    ]


def test_the_readme_states_the_coverage_as_it_is(shapes: Mapping[str, Any]) -> None:
    excluded = _excluded()
    total = mirrored = 0
    for home in HOMES:
        request = shapes["shapes"][shapes["operations"][home.operation]["input"]["shape"]]
        for name, member in request["members"].items():
            path = f"{home.operation}.{name}"
            inner = shapes["shapes"][member["shape"]]["members"] if path in FLATTENED else None
            for member_path in [f"{path}.{i}" for i in inner] if inner else [path]:
                total += 1
                mirrored += member_path not in excluded
    readme = " ".join((ROOT / "README.md").read_text().split())
    stated = (
        f"Of the {total} members of those six requests (containerProperties' members counted "
        f"one by one), {mirrored} are fields of the same name and shape and {total - mirrored} "
        f"are derived or renamed, in {len(NOT_MIRRORED)} table entries."
    )
    assert stated in readme
