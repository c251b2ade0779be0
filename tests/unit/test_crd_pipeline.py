"""The BatchPipeline CRD: names, printer columns, documented schema, and agreement with the model.

Whether the apiserver accepts it (structural schema, CEL compiling within the cost budget) is
proved by applying it to the real control plane in the e2e tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.model.pipeline_parsing import (
    PIPELINE_FIELDS,
    STEP_FIELDS,
    parse_pipeline_spec,
)

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "batchpipelines.yaml"
EXAMPLE = ROOT / "manifests" / "examples" / "03-walkthrough-pipeline.yaml"


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CRD.read_text())
    return document


def version(crd: Mapping[str, Any]) -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd["spec"]["versions"]
    assert [v["name"] for v in versions] == ["v1alpha1"]
    return versions[0]


def schema(crd: Mapping[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = version(crd)["schema"]["openAPIV3Schema"]
    return root


def properties_of(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every property below `node`, with its path; `metadata` is Kubernetes' own."""
    for name, child in node.get("properties", {}).items():
        child_path = f"{path}.{name}"
        if child_path == ".metadata":
            continue
        yield child_path, child
        yield from properties_of(child, child_path)
    if "items" in node:
        yield from properties_of(node["items"], f"{path}[]")
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield f"{path}{{}}", extra
        yield from properties_of(extra, f"{path}{{}}")


def test_kind_names_scope_and_category(crd: dict[str, Any]) -> None:
    assert crd["metadata"]["name"] == "batchpipelines.batchops.io"
    assert crd["spec"]["group"] == "batchops.io"
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"]) == ("BatchPipeline", "batchpipelines")
    assert names["shortNames"] == ["bpl"]
    assert names["categories"] == ["batchops"]
    assert version(crd)["subresources"] == {"status": {}}


def test_printer_columns_show_phase_progress_and_timing(crd: dict[str, Any]) -> None:
    columns = [
        (c["name"], c["jsonPath"], c["type"], c.get("priority", 0))
        for c in version(crd)["additionalPrinterColumns"]
    ]
    assert columns == [
        ("Phase", ".status.phase", "string", 0),
        ("Progress", ".status.progress", "string", 0),
        ("Started", ".status.startedAt", "date", 0),
        ("Duration", ".status.duration", "string", 0),
        ("Message", ".status.message", "string", 0),
        ("VCPU-Hours", ".status.usage.vcpuHours", "string", 1),
        ("Account", ".spec.accountRef", "string", 0),
        ("Age", ".metadata.creationTimestamp", "date", 0),
    ]


def test_every_schema_property_has_a_description(crd: dict[str, Any]) -> None:
    undocumented = [
        path for path, node in properties_of(schema(crd), "") if not node.get("description")
    ]
    assert undocumented == []


def test_every_schema_node_has_a_type(crd: dict[str, Any]) -> None:
    untyped = [path for path, node in properties_of(schema(crd), "") if "type" not in node]
    assert untyped == []


def test_spec_and_step_fields_match_the_model(crd: dict[str, Any]) -> None:
    spec = schema(crd)["properties"]["spec"]
    steps = spec["properties"]["steps"]["items"]["properties"]
    defaults = spec["properties"]["defaults"]["properties"]
    assert set(spec["properties"]) == PIPELINE_FIELDS
    assert set(steps) == STEP_FIELDS | {"name", "dependsOn"}
    assert set(defaults) == STEP_FIELDS


def test_steps_are_a_list_keyed_by_name_and_bounded_for_cel(crd: dict[str, Any]) -> None:
    steps = schema(crd)["properties"]["spec"]["properties"]["steps"]
    assert steps["x-kubernetes-list-type"] == "map"
    assert steps["x-kubernetes-list-map-keys"] == ["name"]
    assert steps["maxItems"] == 5000
    depends_on = steps["items"]["properties"]["dependsOn"]
    assert depends_on["x-kubernetes-list-type"] == "set"
    assert depends_on["maxItems"] == 500
    assert steps["items"]["properties"]["name"]["maxLength"] == 63


def test_cel_rules_cover_what_the_schema_cannot(crd: dict[str, Any]) -> None:
    spec = schema(crd)["properties"]["spec"]
    spec_messages = [r["message"] for r in spec["x-kubernetes-validations"]]
    step_messages = [
        r["message"] for r in spec["properties"]["steps"]["items"]["x-kubernetes-validations"]
    ]
    assert any("queue" in m for m in spec_messages)
    assert any("image" in m for m in spec_messages)
    assert any("depend on itself" in m for m in step_messages)
    assert any("jobDefinition excludes" in m for m in step_messages)


def test_defaults_match_the_model(crd: dict[str, Any]) -> None:
    spec = schema(crd)["properties"]["spec"]["properties"]
    assert spec["failFast"]["default"] is True
    assert spec["terminateOnDelete"]["default"] is True
    minimal = parse_pipeline_spec(
        {"queue": "q", "image": "i", "steps": [{"name": "a", "vcpus": 1, "memory": 4}]}
    )
    assert minimal.fail_fast is True and minimal.terminate_on_delete is True


def test_status_conditions_are_a_map_keyed_by_type(crd: dict[str, Any]) -> None:
    status = schema(crd)["properties"]["status"]["properties"]
    assert status["conditions"]["x-kubernetes-list-type"] == "map"
    assert status["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
    assert status["phase"]["enum"] == ["Pending", "Running", "Succeeded", "Failed", "Cancelled"]
    step_fields = set(status["steps"]["items"]["properties"])
    assert {"jobId", "attempts", "exitCode", "queueWaitSeconds", "logStream"} <= step_fields


def test_status_steps_are_atomic_so_managed_fields_stay_small(crd: dict[str, Any]) -> None:
    # A map list would make the API server track each entry's fields in managedFields.
    status = schema(crd)["properties"]["status"]["properties"]
    assert status["steps"]["x-kubernetes-list-type"] == "atomic"
    assert "compacted" in status["steps"]["items"]["properties"]
    assert set(status["compacted"]["properties"]) == {"steps", "usage", "jobDefinitions"}


def test_walkthrough_example_only_uses_fields_the_crd_defines(crd: dict[str, Any]) -> None:
    example = yaml.safe_load(EXAMPLE.read_text())
    assert (example["apiVersion"], example["kind"]) == ("batchops.io/v1alpha1", "BatchPipeline")
    spec_schema = schema(crd)["properties"]["spec"]

    def check(value: Any, node: Mapping[str, Any], path: str) -> None:
        if isinstance(value, dict) and "properties" in node:
            for key, child in value.items():
                assert key in node["properties"], f"{path}.{key} is not in the CRD"
                check(child, node["properties"][key], f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                check(item, node["items"], f"{path}[{index}]")

    check(example["spec"], spec_schema, "spec")
    spec = parse_pipeline_spec(example["spec"])
    assert [(s.name, s.queue, s.vcpus, s.memory) for s in spec.steps] == [
        ("job1", "queue-72", 72, 102400),
        ("job2", "queue-simple", 1, 1024),
        ("job3", "queue-72", 72, 102400),
    ]
