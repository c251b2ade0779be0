"""`batchops import --from-terraform` on the shapes real Terraform takes (issue 15).

Each file under tests/testdata/terraform/ is written for this project in one shape public
Terraform uses (its header comment says which); none is copied from a repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from batchops.commands.imports import EXIT_IMPORTED, EXIT_NEEDS_REVIEW, EXIT_NOTHING_USABLE
from batchops.importing.expression_values import Scope, Unknown
from batchops.importing.expressions import evaluate_expression
from batchops.importing.from_terraform import import_from_terraform
from batchops.importing.hcl import TerraformError, TerraformFile, accepted_by_python_hcl2
from batchops.importing.manifests import ImportResult
from batchops.importing.render import render_yaml
from batchops.validation.catalog import load_catalog
from batchops.validation.check import validate_sources
from batchops.validation.documents import Sources, parse_documents

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "testdata" / "terraform"
CORPUS_FILES = sorted(CORPUS.glob("*.tf"))


def imported(name: str, **kwargs: Any) -> ImportResult:
    path = CORPUS / name
    return import_from_terraform([TerraformFile(name, path.read_text())], **kwargs)


def specs(result: ImportResult) -> dict[str, dict[str, Any]]:
    return {obj.manifest["metadata"]["name"]: obj.manifest["spec"] for obj in result.objects}


def steps(result: ImportResult) -> list[dict[str, Any]]:
    assert result.pipeline is not None
    found: list[dict[str, Any]] = result.pipeline.manifest["spec"]["steps"]
    return found


def validate(result: ImportResult, name: str) -> list[str]:
    """Problems `batchops validate` reports on the rendered output."""
    text = render_yaml(result, f"batchops import --from-terraform {name}")
    sources = Sources(tuple(parse_documents(name, text)), (name,), ())
    report = validate_sources(sources, load_catalog())
    return [p.to_line() for p in report.problems if p.severity.value == "error"]


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_every_corpus_file_imports_and_validates_except_its_listed_placeholders(
    path: Path,
) -> None:
    result = imported(path.name, region="us-east-1", namespace="etl")
    assert result.objects or result.pipeline is not None
    listed = {(p.object_name, p.field) for p in result.placeholders}
    for problem in validate(result, path.name):
        # Only a listed placeholder may make validate complain, at the field it names.
        assert "REPLACE-ME" in problem or any(
            f"/{name}: {field}" in problem for name, field in listed
        ), problem


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_every_corpus_file_validates_once_the_listed_placeholders_are_filled(path: Path) -> None:
    result = imported(path.name, region="us-east-1", namespace="etl")
    for obj in result.objects:
        for placeholder in obj.placeholders:
            _fill(obj.manifest, placeholder.field, placeholder.value)
    assert validate(ImportResult(result.objects), path.name) == []


def _fill(manifest: dict[str, Any], field: str, value: str) -> None:
    """What a user types over a placeholder: a value of the right shape for that field."""
    *parents, leaf = field.replace("]", "").replace("[", ".").split(".")
    target: Any = manifest
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(leaf) if isinstance(target, list) else leaf
    if leaf in {
        "maxvCpus",
        "minvCpus",
        "priority",
        "bidPercentage",
        "shareDecaySeconds",
        "computeReservation",
        "totalQuantity",
    }:
        filled: Any = 4
    elif leaf == "weightFactor":
        filled = 0.5
    elif leaf == "resourceType":
        filled = "REPLENISHABLE"
    elif leaf == "name":
        filled = "filled_name"
    elif "arn:aws:batch" in value:
        filled = value.replace("REPLACE-ME", "FILLED")
    elif leaf in {"serviceRole", "instanceRole", "spotIamFleetRole"}:
        filled = "arn:aws:iam::123456789012:role/filled"
    else:
        filled = "filled"
    if isinstance(target, dict) and leaf.startswith("REPLACE-ME"):
        del target[leaf]
        target["filled"] = "filled"
        return
    target[key] = filled


# --- 1. never abort on one value ----------------------------------------------------------------


def test_tags_from_a_variable_without_default_become_one_placeholder_entry_and_import_goes_on() -> (
    None
):
    result = imported("unknown_tags_and_numbers.tf")
    spec = specs(result)["this"]
    assert spec["tags"] == {"REPLACE-ME": "REPLACE-ME var.tags", "managed_by": "terraform"}
    assert spec["computeResources"]["maxvCpus"] == "REPLACE-ME var.max_vcpus"
    assert spec["name"].startswith("REPLACE-ME_var_name")


def test_tostring_of_an_unknown_variable_in_jsonencode_is_a_placeholder_not_a_traceback() -> None:
    step = steps(imported("unknown_tags_and_numbers.tf"))[0]
    assert step["vcpus"] == "REPLACE-ME tostring(var.vcpu)"
    assert step["memory"] == 2048
    assert step["image"] == "<REPLACE-ME var.image>:latest"
    assert step["parameters"] == {"REPLACE-ME": "REPLACE-ME var.parameters"}


def test_each_unknown_value_has_a_note_with_file_line_and_expression() -> None:
    notes = imported("unknown_tags_and_numbers.tf").notes
    assert any(
        "unknown_tags_and_numbers.tf:16: compute_resources.max_vcpus = var.max_vcpus: not known"
        " offline (var.max_vcpus: variable 'max_vcpus' has no default)" in note
        for note in notes
    ), notes


def test_template_file_rendered_container_runs_the_existing_definition_with_a_note() -> None:
    result = imported("template_file_and_heredoc.tf")
    assert steps(result)[0] == {"name": "templated", "jobDefinition": "templated"}
    assert result.pipeline is not None
    assert any("data.template_file.job.rendered" in note for note in result.pipeline.notes)


# --- 2. what the files know is resolved ---------------------------------------------------------


def test_variable_defaults_and_locals_are_resolved_and_the_note_says_from_where() -> None:
    result = imported("variables_and_merged_tags.tf")
    spec = specs(result)["spot"]
    assert spec["name"] == "genomics-prod-spot"
    assert spec["computeResources"]["maxvCpus"] == 64
    assert spec["tags"] == {"team": "genomics", "environment": "prod", "component": "compute"}
    assert spec["computeResources"]["tags"]["Name"] == "genomics-prod-worker"
    assert spec["computeResources"]["subnets"] == ["REPLACE-ME var.subnet_ids"]
    assert any(
        "max_vcpus = var.max_vcpus: resolved with var.max_vcpus from the default of variable "
        '"max_vcpus" (variables_and_merged_tags.tf:3)' in note
        for note in result.notes
    )


def test_a_variable_given_on_the_command_line_wins_over_no_default() -> None:
    result = imported("variables_and_merged_tags.tf", variables={"subnet_ids": ["subnet-1"]})
    assert specs(result)["spot"]["computeResources"]["subnets"] == ["subnet-1"]


def test_a_queue_refers_to_the_compute_environment_of_the_files() -> None:
    spec = specs(imported("variables_and_merged_tags.tf"))["default"]
    assert spec["computeEnvironments"] == [{"ref": "spot", "order": 1}]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('merge({a = "1"}, {b = "2"}, {a = "3"})', {"a": "3", "b": "2"}),
        ('concat(["a"], ["b", "c"])', ["a", "b", "c"]),
        ('tonumber("4") * 2', 8),
        ('format("%s-%d", "ce", 3)', "ce-3"),
        ('jsondecode("{\\"a\\": 1}")', {"a": 1}),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('upper("x") == "X" ? "yes" : "no"', "yes"),
        ('[for s in ["a", "b"] : "${s}!"]', ["a!", "b!"]),
    ],
)
def test_pure_functions_are_evaluated_offline(expression: str, expected: object) -> None:
    assert evaluate_expression(expression, Scope()) == expected


# --- 3. modules ---------------------------------------------------------------------------------


def test_batch_module_inputs_become_compute_environments_queues_and_steps() -> None:
    result = imported("batch_module.tf")
    found = specs(result)
    assert set(found) == {"a-ec2", "b-spot", "main"}
    assert found["b-spot"]["name"] == "etl-spot"
    assert found["b-spot"]["computeResources"]["bidPercentage"] == 50
    assert found["b-spot"]["tags"] == {"project": "etl"}
    assert found["a-ec2"]["name"].startswith("REPLACE-ME_ec2")
    assert found["main"]["computeEnvironments"] == [
        {"ref": "b-spot", "order": 0},
        {"ref": "a-ec2", "order": 1},
    ]
    assert steps(result)[0]["retry"] == {
        "attempts": 2,
        "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}],
    }


def test_any_other_module_is_a_warning_naming_it() -> None:
    result = imported("batch_module.tf")
    assert any("module.vpc" in w and "terraform-aws-modules/vpc/aws" in w for w in result.warnings)
    assert result.needs_review


# --- 4. count and for_each ----------------------------------------------------------------------


def test_literal_count_and_for_each_give_one_manifest_per_instance() -> None:
    result = imported("count_and_for_each.tf")
    found = specs(result)
    assert found["worker-0"]["computeResources"]["maxvCpus"] == 16
    assert found["worker-1"]["computeResources"]["maxvCpus"] == 32
    assert found["tier-high"]["priority"] == 100 and found["tier-low"]["priority"] == 1
    assert found["tier-low"]["computeEnvironments"] == [
        {"ref": "worker-0", "order": 0},
        {"ref": "worker-1", "order": 1},
    ]
    assert [s["name"] for s in steps(result)] == ["tool-align", "tool-call"]
    assert steps(result)[1]["command"] == ["echo", "call"]
    assert not result.needs_review or result.placeholders  # only the pipeline's queue


def test_unknown_count_gives_one_manifest_and_a_warning_that_instances_are_missing() -> None:
    result = imported("count_not_known.tf")
    assert set(specs(result)) == {"per-group", "named"}
    assert any(
        "count_not_known.tf:8: aws_batch_compute_environment.per_group: count = "
        "length(var.subnet_groups) is not known offline"
        in w
        and "instances are missing" in w
        for w in result.warnings
    )
    assert any("for_each = var.queues" in w for w in result.warnings)


# --- 5. dynamic blocks --------------------------------------------------------------------------


def test_dynamic_blocks_over_literal_collections_are_expanded() -> None:
    result = imported("dynamic_blocks.tf")
    resources = specs(result)["dynamic"]["computeResources"]
    assert resources["type"] == "SPOT" and resources["maxvCpus"] == 48
    assert steps(result)[0]["retry"] == {
        "attempts": 3,
        "evaluateOnExit": [
            {"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
        ],
    }


def test_a_dynamic_block_over_an_unknown_collection_is_noted_not_dropped() -> None:
    result = imported("dynamic_blocks.tf")
    assert steps(result)[0]["timeoutSeconds"] == "REPLACE-ME timeout.value"
    assert result.pipeline is not None
    assert any("dynamic 'timeout'" in note for note in result.pipeline.notes)


# --- 6. parsing ---------------------------------------------------------------------------------


def test_a_heredoc_end_marker_followed_by_spaces_parses() -> None:
    step = steps(imported("template_file_and_heredoc.tf"))[1]
    assert step["command"] == ["bash", "run.sh"]
    assert step["vcpus"] == "REPLACE-ME var.vcpus"  # unquoted in the JSON, still read


def test_the_heredoc_rewrite_keeps_every_line_where_it_was() -> None:
    text = "a = <<EOT\nx\nEOT  \nb = 1"
    assert accepted_by_python_hcl2(text) == "a = <<EOT\nx\nEOT\nb = 1\n"


def test_a_parse_error_is_one_line_with_file_and_line() -> None:
    with pytest.raises(TerraformError) as error:
        import_from_terraform([TerraformFile("bad.tf", "locals {\n  a = {\n    b =\n  }\n}\n")])
    assert str(error.value).startswith("bad.tf:3:8: not valid HCL: unexpected '}'")
    assert "\n" not in str(error.value)


# --- 7. exit codes ------------------------------------------------------------------------------


def run_import(tmp_path: Path, text: str) -> int:
    from batchops.cli import main

    source = tmp_path / "main.tf"
    source.write_text(text)
    return main(["import", "--from-terraform", str(source), "-o", str(tmp_path / "out.yaml")])


def test_exit_status_says_whether_a_human_must_look(tmp_path: Path) -> None:
    complete = (
        (CORPUS / "count_and_for_each.tf").read_text().split('resource "aws_batch_job_def')[0]
    )
    assert run_import(tmp_path, complete) == EXIT_IMPORTED
    assert run_import(tmp_path, (CORPUS / "count_not_known.tf").read_text()) == EXIT_NEEDS_REVIEW
    assert run_import(tmp_path, 'module "x" {\n  source = "./x"\n}\n') == EXIT_NOTHING_USABLE
    assert run_import(tmp_path, "resource {") == EXIT_NOTHING_USABLE


def test_a_directory_is_read_with_its_tfvars(tmp_path: Path) -> None:
    from batchops.cli import main

    (tmp_path / "main.tf").write_text((CORPUS / "variables_and_merged_tags.tf").read_text())
    (tmp_path / "terraform.tfvars").write_text('subnet_ids = ["subnet-9"]\n')
    out = tmp_path / "out.yaml"
    assert main(["import", "--from-terraform", str(tmp_path), "-o", str(out)]) == EXIT_NEEDS_REVIEW
    documents = [d for d in yaml.safe_load_all(out.read_text()) if d]
    assert documents[0]["spec"]["computeResources"]["subnets"] == ["subnet-9"]


# --- never a traceback --------------------------------------------------------------------------

_ATOMS = st.sampled_from(
    [
        "var.x",
        "local.y",
        "data.aws_x.y.id",
        "aws_batch_compute_environment.a.arn",
        "1",
        '"s"',
        "null",
        "true",
        "[1, 2]",
        '{a = "b"}',
        "count.index",
        "each.value",
        "module.m.o",
        "x.y[0]",
        '"${var.a}-b"',
        "-1",
        "1.5",
    ]
)
_EXPRESSIONS = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.tuples(
            st.sampled_from(
                [
                    "merge",
                    "tostring",
                    "tonumber",
                    "concat",
                    "lookup",
                    "toset",
                    "jsonencode",
                    "format",
                    "length",
                    "nosuch",
                ]
            ),
            st.lists(inner, max_size=3),
        ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(inner, st.sampled_from(["+", "==", "&&", "*"]), inner).map(" ".join),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
    ),
    max_leaves=8,
)
_POSITIONS = [
    "name",
    "type",
    "state",
    "service_role",
    "tags",
    "compute_resources.max_vcpus",
    "compute_resources.type",
    "compute_resources.subnets",
    "compute_resources.instance_type",
    "compute_resources.tags",
]


@settings(max_examples=60, deadline=None)
@given(expression=_EXPRESSIONS, position=st.sampled_from(_POSITIONS))
def test_random_expressions_in_any_mapped_attribute_never_raise(
    expression: str, position: str
) -> None:
    block, _, attribute = position.rpartition(".")
    inner = f"{attribute} = {expression}"
    body = f"compute_resources {{\n  max_vcpus = 4\n  {inner}\n}}" if block else inner
    text = f'resource "aws_batch_compute_environment" "ce" {{\n{body}\n}}\n'
    text += f'resource "aws_batch_job_queue" "q" {{\n  priority = {expression}\n'
    text += f"  compute_environments = [{expression}]\n  tags = {expression}\n}}\n"
    text += 'resource "aws_batch_job_definition" "j" {\n  name = "j"\n  type = "container"\n'
    text += f"  container_properties = jsonencode({{image = {expression}, vcpus = {expression}}})\n"
    text += f"  parameters = {expression}\n}}\n"
    result = import_from_terraform([TerraformFile("fuzz.tf", text)])
    render_yaml(result, "fuzz")
    assert result.objects


def test_an_unknown_expression_evaluates_to_unknown_with_its_text() -> None:
    assert evaluate_expression("data.aws_subnet.a.id", Scope()) == Unknown(
        "data.aws_subnet.a.id", "a data source: only Terraform knows its value"
    )


# --- 9. scheduling policies and consumable resources (issue 14) ---------------------------------


def test_a_scheduling_policy_imports_its_fair_share_blocks_dynamic_ones_included() -> None:
    result = imported("fair_share_and_licences.tf", region="us-east-1")
    assert [o.manifest for o in result.objects if o.manifest["metadata"]["name"] == "teams"] == [
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "BatchSchedulingPolicy",
            "metadata": {"name": "teams"},
            "spec": {
                "name": "genomics-fair-share",
                "adopt": True,
                "region": "us-east-1",
                "fairsharePolicy": {
                    "shareDecaySeconds": 3600,
                    "computeReservation": 20,
                    "shareDistribution": [
                        {"shareIdentifier": "nightly*", "weightFactor": 0.25},
                        {"shareIdentifier": "etl", "weightFactor": 0.5},
                        {"shareIdentifier": "adhoc", "weightFactor": 2},
                    ],
                },
                "tags": {"team": "genomics", "Name": "teams"},
            },
        }
    ]


def test_a_queue_naming_a_policy_of_the_files_refers_to_it_and_another_keeps_an_arn() -> None:
    found = specs(imported("fair_share_and_licences.tf", region="us-east-1"))
    assert found["fair"]["schedulingPolicy"] == {"ref": "teams"}
    assert "schedulingPolicyArn" not in found["fair"]
    # A data source's policy is not imported: a placeholder ARN of the right shape.
    assert found["shared"]["schedulingPolicyArn"] == (
        "arn:aws:batch:us-east-1:000000000000:scheduling-policy/"
        "REPLACE-ME_data_aws_batch_scheduling_policy_shared_arn"
    )


def test_an_unknown_decay_is_a_placeholder_at_its_field_with_a_note() -> None:
    result = imported("fair_share_and_licences.tf")
    fields = {(p.object_name, p.field): p.value for p in result.placeholders}
    assert fields[("nightly", "spec.fairsharePolicy.shareDecaySeconds")] == (
        "REPLACE-ME var.decay_seconds"
    )
    assert any(
        "fair_share_and_licences.tf:53: fair_share_policy.share_decay_seconds = "
        "var.decay_seconds: not known offline" in note
        for note in result.notes
    )


def test_a_consumable_resource_takes_its_quantity_from_the_variable_default() -> None:
    result = imported("fair_share_and_licences.tf")
    assert specs(result)["licences"] == {
        "name": "genomics-licence-seats",
        "adopt": True,
        "resourceType": "REPLENISHABLE",
        "totalQuantity": 8,
        "tags": {"team": "genomics"},
    }
    assert any(
        "total_quantity = var.licence_seats: resolved with var.licence_seats" in note
        for note in result.notes
    )


def test_an_unknown_weight_is_a_placeholder_inside_its_share() -> None:
    text = (
        'resource "aws_batch_scheduling_policy" "p" {\n  name = "p"\n'
        "  fair_share_policy {\n    share_distribution {\n"
        '      share_identifier = "etl"\n      weight_factor = var.weight\n    }\n  }\n}\n'
    )
    result = import_from_terraform([TerraformFile("main.tf", text)])
    share = specs(result)["p"]["fairsharePolicy"]["shareDistribution"][0]
    assert share == {"shareIdentifier": "etl", "weightFactor": "REPLACE-ME var.weight"}
    assert [p.field for p in result.placeholders] == [
        "spec.fairsharePolicy.shareDistribution[0].weightFactor"
    ]


def test_batch_module_queues_get_their_own_scheduling_policies_by_ref() -> None:
    result = imported("batch_module_fair_share.tf", region="us-east-1")
    policies = {
        o.manifest["metadata"]["name"]: o.manifest["spec"]
        for o in result.objects
        if o.manifest["kind"] == "BatchSchedulingPolicy"
    }
    # Named like the queue; share_distribution given as a list, and as a map of entries.
    assert policies["high"]["name"] == "ResearchHigh"
    assert policies["high"]["fairsharePolicy"] == {
        "shareDecaySeconds": 3600,
        "computeReservation": 1,
        "shareDistribution": [
            {"shareIdentifier": "A1*", "weightFactor": 0.1},
            {"shareIdentifier": "A2", "weightFactor": 0.2},
        ],
    }
    assert policies["low"]["fairsharePolicy"] == {
        "shareDistribution": [{"shareIdentifier": "batch"}]
    }
    assert policies["low"]["tags"] == {"project": "research", "tier": "low"}
    assert set(policies) == {"high", "low"}  # fifo has create_scheduling_policy = false
    queues = {
        o.manifest["metadata"]["name"]: o.manifest["spec"]
        for o in result.objects
        if o.manifest["kind"] == "BatchJobQueue"
    }
    assert queues["high"]["schedulingPolicy"] == {"ref": "high"}
    assert queues["low"]["schedulingPolicy"] == {"ref": "low"}
    assert "schedulingPolicy" not in queues["fifo"] and "schedulingPolicyArn" not in queues["fifo"]
    assert result.placeholders == []


def test_a_batch_module_queue_with_an_unknown_fair_share_policy_gets_placeholders() -> None:
    text = (
        'module "batch" {\n  source = "terraform-aws-modules/batch/aws"\n'
        '  job_queues = {\n    q = {\n      name = "q"\n      priority = 1\n'
        "      fair_share_policy = var.fair_share\n    }\n  }\n}\n"
    )
    result = import_from_terraform([TerraformFile("main.tf", text)])
    (policy,) = [
        o.manifest for o in result.objects if o.manifest["kind"] == "BatchSchedulingPolicy"
    ]
    fields = {p.field for p in result.placeholders if p.kind == "BatchSchedulingPolicy"}
    assert "spec.fairsharePolicy.computeReservation" in fields
    # One share stands for however many the variable holds, as for a dynamic block.
    assert policy["spec"]["fairsharePolicy"]["shareDistribution"] == [
        {"shareIdentifier": "REPLACE-ME var.fair_share.share_distribution.share_identifier"}
    ]


def test_policies_resources_and_the_queues_using_them_pass_batchops_validate() -> None:
    # Nothing left to fill: validate (schema, CEL rules, operator parsers, references) is clean.
    result = imported("batch_module_fair_share.tf", region="us-east-1", namespace="etl")
    assert validate(result, "batch_module_fair_share.tf") == []
    # Two placeholders left: validate names exactly those fields, nothing else.
    result = imported("fair_share_and_licences.tf", region="us-east-1", namespace="etl")
    problems = validate(result, "fair_share_and_licences.tf")
    assert len(problems) == 2
    assert any("nightly: spec.fairsharePolicy.shareDecaySeconds" in p for p in problems)
    assert any("shared: spec.schedulingPolicyArn" in p for p in problems)


_POLICY_POSITIONS = [
    "name",
    "tags",
    "fair_share_policy.compute_reservation",
    "fair_share_policy.share_decay_seconds",
    "fair_share_policy.share_distribution",
    "share_distribution.share_identifier",
    "share_distribution.weight_factor",
    "resource.total_quantity",
    "resource.resource_type",
    "resource.name",
]


@settings(max_examples=60, deadline=None)
@given(expression=_EXPRESSIONS, position=st.sampled_from(_POLICY_POSITIONS))
def test_random_expressions_in_policy_and_resource_attributes_never_raise(
    expression: str, position: str
) -> None:
    block, _, attribute = position.rpartition(".")
    share = {"share_identifier": '"etl"', "weight_factor": "1"}
    fair_share = {"compute_reservation": "1", "share_decay_seconds": "60"}
    resource = {"name": '"r"', "resource_type": '"REPLENISHABLE"', "total_quantity": "2"}
    if block == "share_distribution":
        share[attribute] = expression
    elif block == "fair_share_policy":
        fair_share[attribute] = expression
    elif block == "resource":
        resource[attribute] = expression
    shares = "".join(f"      {k} = {v}\n" for k, v in share.items())
    if position == "fair_share_policy.share_distribution":
        fair_share["share_distribution"] = expression
        shares = ""
    policy = {"name": '"p"', "tags": "{}"}
    if not block:
        policy[attribute] = expression
    text = 'resource "aws_batch_scheduling_policy" "p" {\n'
    text += "".join(f"  {k} = {v}\n" for k, v in policy.items())
    text += "  fair_share_policy {\n" + "".join(f"    {k} = {v}\n" for k, v in fair_share.items())
    text += f"    share_distribution {{\n{shares}    }}\n  }}\n}}\n" if shares else "  }\n}\n"
    text += 'resource "aws_batch_consumable_resource" "r" {\n'
    text += "".join(f"  {k} = {v}\n" for k, v in resource.items()) + "}\n"
    text += 'resource "aws_batch_job_queue" "q" {\n  priority = 1\n'
    text += f'  compute_environments = ["x"]\n  scheduling_policy_arn = {expression}\n}}\n'
    result = import_from_terraform([TerraformFile("fuzz.tf", text)])
    render_yaml(result, "fuzz")
    assert len(result.objects) == 3
