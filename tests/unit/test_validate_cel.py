"""The CEL evaluator of `batchops validate`: every CRD rule compiles, and rules are evaluated
where the API server evaluates them (array items, map values, defaulted fields), with its
semantics (`has()`, `oldSelf`, `fieldPath`, `messageExpression`, escaped property names)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchops.validation.catalog import Catalog, CatalogError, load_catalog
from batchops.validation.cel_rules import (
    RuleCompileError,
    cel_findings,
    crd_rules,
    escape_property,
    parse_rule_field_path,
)
from batchops.validation.check import validate_sources
from batchops.validation.documents import parse_documents, read_sources
from batchops.validation.schema import apply_defaults

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def rule(expression: str, message: str = "broken", **extra: Any) -> dict[str, Any]:
    return {"rule": expression, "message": message, **extra}


def crd(spec: Schema) -> Schema:
    """A root schema with `spec` as given, as a CRD version's openAPIV3Schema."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object", "x-kubernetes-validations": [rule("false")]},
        },
    }


def findings(schema: Schema, spec: Mapping[str, Any], name: str = "x") -> list[tuple[Any, str]]:
    body = {"apiVersion": "batchops.io/v1alpha1", "kind": "K", "metadata": {"name": name}}
    return cel_findings(schema, apply_defaults(schema, {**body, "spec": spec}))


# --- the CRDs' own rules ---------------------------------------------------------------------


def test_every_rule_of_every_crd_compiles(catalog: Catalog) -> None:
    # A rule the library cannot compile (a Kubernetes function not in cel_library yet, a typo)
    # fails here, and `batchops validate` refuses to run rather than skip it.
    compiled = {
        resource.kind: crd_rules(resource.schema) for resource in catalog.resources.values()
    }
    assert all(compiled.values()), [kind for kind, rules in compiled.items() if not rules]


def test_rules_compile_once_per_schema(catalog: Catalog) -> None:
    schema = catalog.lookup("batchops.io/v1alpha1", "BatchPipeline")
    assert schema is not None
    assert crd_rules(schema.schema) is crd_rules(schema.schema)


def test_a_rule_that_does_not_compile_fails_loudly() -> None:
    schema = crd({"type": "object", "x-kubernetes-validations": [rule("self.items.isSorted()")]})
    with pytest.raises(RuleCompileError, match=r"spec: 'self.items.isSorted\(\)': .*isSorted"):
        crd_rules(schema)


def test_a_rule_that_is_not_a_bool_does_not_compile() -> None:
    with pytest.raises(RuleCompileError, match="must evaluate to a bool"):
        crd_rules(crd({"type": "object", "x-kubernetes-validations": [rule("'yes'")]}))


def test_validate_stops_with_the_crd_file_when_a_rule_does_not_compile(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "crds" / "cronpipelines.yaml").read_text()
    broken = text.replace("self.metadata.name.size() <= 52", "self.metadata.name.size() <= 52u")
    assert broken != text
    (tmp_path / "cron.yaml").write_text(broken)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "apiVersion: batchops.io/v1alpha1\nkind: CronPipeline\nmetadata: {name: c}\n"
        "spec: {schedule: '@daily', pipelineTemplate: {spec: {queue: q, image: i, "
        "steps: [{name: a, vcpus: 1, memory: 512}]}}}\n"
    )
    with pytest.raises(CatalogError, match=r"(?s)cron.yaml: CronPipeline: CEL .*\(root\): .*uint"):
        validate_sources(read_sources([str(manifest)]), load_catalog(tmp_path))


# --- where rules run -------------------------------------------------------------------------

STEPS = crd(
    {
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "vcpus": {"type": "integer"}},
                    "x-kubernetes-validations": [
                        rule("self.vcpus > 0", "vcpus must be positive", fieldPath=".vcpus")
                    ],
                },
            },
            "tags": {
                "type": "object",
                "additionalProperties": {
                    "type": "string",
                    "x-kubernetes-validations": [rule("size(self) <= 3", "tag value too long")],
                },
            },
        },
    }
)


def test_a_rule_on_array_items_runs_for_each_item_at_its_index() -> None:
    spec = {"steps": [{"name": "a", "vcpus": 1}, {"name": "b", "vcpus": 0}]}
    assert findings(STEPS, spec) == [(("spec", "steps", 1, "vcpus"), "vcpus must be positive")]


def test_a_rule_on_map_values_runs_for_each_value_at_its_key() -> None:
    spec = {"tags": {"team": "ml", "owner": "someone"}}
    assert findings(STEPS, spec) == [(("spec", "tags", "owner"), "tag value too long")]


def test_rules_that_hold_report_nothing() -> None:
    assert findings(STEPS, {"steps": [{"name": "a", "vcpus": 2}], "tags": {"a": "b"}}) == []


def test_status_and_absent_nodes_run_no_rule() -> None:
    # status has a rule that always fails; `kubectl apply` ignores status, and so do we.
    schema = crd({"type": "object", "properties": {"a": {"type": "object"}}})
    schema["properties"]["spec"]["properties"]["a"]["x-kubernetes-validations"] = [rule("false")]
    body = {"metadata": {"name": "x"}, "spec": {}, "status": {"phase": "x"}}
    assert cel_findings(schema, body) == []


def test_has_is_false_for_a_missing_optional_field_and_a_plain_read_is_an_error() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
            "x-kubernetes-validations": [
                rule("!has(self.min) || self.max >= self.min", "max must be at least min"),
                rule("self.min <= 10", "min too large"),
            ],
        }
    )
    assert findings(schema, {"max": 3, "min": 4})[0] == (("spec",), "max must be at least min")
    # Without has(), a missing key is a CEL error, reported as the API server words it.
    assert findings(schema, {"max": 3}) == [
        (("spec",), "no such key: min evaluating rule: min too large")
    ]


def test_a_runtime_type_mismatch_is_reported_as_the_api_server_words_it() -> None:
    schema = crd(
        {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "x-kubernetes-validations": [rule("self.n > 1", "n above 1")],
        }
    )
    assert findings(schema, {"n": "two"}) == [
        (
            ("spec",),
            "'no such overload: _>_(string, int64)': call arguments did not match a supported "
            "operator, function or macro signature for rule: n above 1",
        )
    ]


def test_rules_see_the_schema_defaults() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {
                "type": {"type": "string", "default": "MANAGED"},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"state": {"type": "string", "default": "ON"}},
                    },
                },
            },
            "x-kubernetes-validations": [
                rule("self.type == 'MANAGED'", "type must be MANAGED"),
                rule("self.items.all(i, i.state == 'ON')", "every item must be ON"),
            ],
        }
    )
    assert findings(schema, {"items": [{}, {}]}) == []
    assert findings(schema, {"type": "UNMANAGED", "items": []}) == [
        (("spec",), "type must be MANAGED")
    ]


def test_a_root_rule_sees_the_name_but_not_the_rest_of_metadata() -> None:
    schema = crd({"type": "object"})
    schema["x-kubernetes-validations"] = [
        rule("self.metadata.name.size() <= 5", "name too long"),
        rule("!has(self.metadata.labels)", "labels are not visible to rules"),
        rule("!has(self.status)", "status is not visible to rules"),
    ]
    body = {"metadata": {"name": "toolong", "labels": {"a": "b"}}, "spec": {}, "status": {}}
    assert cel_findings(schema, body) == [((), "name too long")]


# --- rule semantics ---------------------------------------------------------------------------


def test_rules_with_old_self_are_skipped_unless_old_self_is_optional() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "x-kubernetes-validations": [
                rule("self.name == oldSelf.name", "name is immutable"),
                rule(
                    "oldSelf.hasValue() || self.name.startsWith('a')",
                    "a new name starts with a",
                    optionalOldSelf=True,
                ),
            ],
        }
    )
    transition, optional = crd_rules(schema)
    assert (transition.transition, optional.transition) == (True, False)
    assert findings(schema, {"name": "b"}) == [(("spec",), "a new name starts with a")]


def test_message_expression_and_the_default_message() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "x-kubernetes-validations": [
                {"rule": "self.n < 3", "messageExpression": "'n is ' + string(self.n)"},
                {"rule": "self.n < 2", "message": "fallback", "messageExpression": "''"},
                {"rule": "self.n < 1"},
            ],
        }
    )
    assert [message for _, message in findings(schema, {"n": 5})] == [
        "n is 5",
        "fallback",
        "failed rule: self.n < 1",
    ]


def test_numbers_are_doubles_and_property_names_are_escaped() -> None:
    schema = crd(
        {
            "type": "object",
            "properties": {
                "vcpus": {"type": "number"},
                "namespace": {"type": "string"},
                "x-y": {"type": "string"},
            },
            "x-kubernetes-validations": [
                rule("type(self.vcpus) == double", "vcpus is a double"),
                rule("self.__namespace__ == 'ns'", "namespace is escaped"),
                rule("self.x__dash__y == 'z'", "x-y is escaped"),
            ],
        }
    )
    assert findings(schema, {"vcpus": 1, "namespace": "ns", "x-y": "z"}) == []


def test_escaping_and_field_paths_follow_the_api_server() -> None:
    assert [escape_property(n) for n in ("plain", "if", "a.b", "a/b", "a__b", "1x", "a:b")] == [
        "plain",
        "__if__",
        "a__dot__b",
        "a__slash__b",
        "a__underscores__b",
        None,
        None,
    ]
    assert parse_rule_field_path(".spec.name") == ("spec", "name")
    assert parse_rule_field_path(".labels['app.kubernetes.io/name']") == (
        "labels",
        "app.kubernetes.io/name",
    )


def test_the_corpus_rules_fire_on_real_manifests(catalog: Catalog) -> None:
    text = (Path(__file__).parents[2] / "tests/bad_inputs/bjq-duplicate-order.yaml").read_text()
    (document,) = parse_documents("q.yaml", text)
    resource = catalog.lookup("batchops.io/v1alpha1", "BatchJobQueue")
    assert resource is not None
    body = apply_defaults(resource.schema, document.body)
    assert body["spec"]["state"] == "ENABLED"  # a default, filled in as the API server does
    assert cel_findings(resource.schema, body) == [
        (("spec", "computeEnvironments"), "order values must be unique")
    ]
    assert yaml.safe_load(text) == document.body  # the document itself is left alone
