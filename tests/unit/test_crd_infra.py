"""The BatchComputeEnvironment and BatchJobQueue CRDs read like documentation and agree with the
update-rules table. (Whether a real kube-apiserver accepts them is tested against the local
control plane.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.plans.compute_rules import COMPUTE_UPDATE_RULES

ROOT = Path(__file__).resolve().parents[2]
CRDS = {
    "BatchComputeEnvironment": ROOT / "crds" / "batchcomputeenvironments.yaml",
    "BatchJobQueue": ROOT / "crds" / "batchjobqueues.yaml",
}
EXAMPLE = ROOT / "manifests" / "examples" / "01-walkthrough-infra.yaml"
# Spec fields of the operator itself, or applied outside UpdateComputeEnvironment (tags).
OPERATOR_FIELDS = {
    "name",
    "region",
    "deletionPolicy",
    "adopt",
    "tags",
    "computeResources",
    "accountRef",
}


def load(kind: str) -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load(CRDS[kind].read_text())
    return crd


def schema(kind: str) -> dict[str, Any]:
    root: dict[str, Any] = load(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return root


def walk(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema node below `node`, with a JSONPath-like name."""
    yield path, node
    for name, child in node.get("properties", {}).items():
        if path == "" and name == "metadata":
            continue  # the API server forbids describing metadata in a CRD
        yield from walk(child, f"{path}.{name}")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_schema_field_has_a_description(kind: str) -> None:
    missing = [path for path, node in walk(schema(kind), "") if not node.get("description")]
    assert not missing, f"fields without description: {missing}"


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_schema_node_has_a_type(kind: str) -> None:
    untyped = [path for path, node in walk(schema(kind), "") if "type" not in node]
    assert not untyped, f"structural schemas need a type everywhere: {untyped}"


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_lists_checked_by_cel_rules_are_bounded(kind: str) -> None:
    # An unbounded list makes the API server's CEL cost estimate explode.
    for path, node in walk(schema(kind), ""):
        if node.get("x-kubernetes-validations") and node.get("type") == "array":
            assert "maxItems" in node, path


@pytest.mark.parametrize(
    ("kind", "plural", "short"),
    [
        ("BatchComputeEnvironment", "batchcomputeenvironments", "bce"),
        ("BatchJobQueue", "batchjobqueues", "bjq"),
    ],
)
def test_names_category_and_status_subresource(kind: str, plural: str, short: str) -> None:
    crd = load(kind)
    assert crd["metadata"]["name"] == f"{plural}.batchops.io"
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (kind, plural, [short])
    assert names["categories"] == ["batchops"]
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_printer_columns_show_aws_name_state_status_ready_age(kind: str) -> None:
    columns = {
        c["name"]: c["jsonPath"]
        for c in load(kind)["spec"]["versions"][0]["additionalPrinterColumns"]
    }
    assert columns["AWS-Name"] == ".status.awsName"
    assert columns["State"] == ".spec.state"
    assert columns["Status"] == ".status.status"
    assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Age"] == ".metadata.creationTimestamp"
    if kind == "BatchJobQueue":
        assert columns["Priority"] == ".spec.priority"


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_conditions_are_a_map_keyed_by_type(kind: str) -> None:
    conditions = schema(kind)["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(conditions["items"]["required"]) >= {"type", "status", "reason"}


def test_every_compute_environment_field_has_an_update_rule_and_back() -> None:
    spec = schema("BatchComputeEnvironment")["properties"]["spec"]["properties"]
    fields = {name for name in spec if name not in OPERATOR_FIELDS}
    fields |= {f"computeResources.{name}" for name in spec["computeResources"]["properties"]}
    assert fields == set(COMPUTE_UPDATE_RULES)


def test_replacement_status_has_the_recorded_fields() -> None:
    replacement = schema("BatchComputeEnvironment")["properties"]["status"]["properties"][
        "replacement"
    ]
    assert set(replacement["properties"]) == {
        "phase",
        "step",
        "successorName",
        "successorArn",
        "previousName",
        "previousArn",
        "startedAt",
        "message",
    }


def test_walkthrough_example_matches_the_schemas() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    documents = list(yaml.safe_load_all(EXAMPLE.read_text()))
    assert [d["kind"] for d in documents] == [
        "BatchComputeEnvironment",
        "BatchComputeEnvironment",
        "BatchJobQueue",
        "BatchJobQueue",
    ]
    for document in documents:
        jsonschema.validate(document, schema(document["kind"]))
