"""`batchops import --from-terraform-json`: `terraform show -json` output -> manifests.

The files under tests/testdata/terraform/*.json are written for this project in HashiCorp's
documented "JSON Output Format": walkthrough_state.json is the state of the walkthrough's
env_72, queue_72 (the `compute_environments` list form) and Job1, plus a queue in the
`compute_environment_order` form and a scheduling policy; count_and_module_plan.json is a
saved plan with a `count = 2` compute environment, a queue over both instances, and a
terraform-aws-modules/batch call whose values are partly known only after apply or sensitive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from batchops.commands.imports import EXIT_NEEDS_REVIEW, EXIT_NOTHING_USABLE
from batchops.importing.from_terraform import import_from_terraform
from batchops.importing.from_terraform_json import import_from_terraform_json
from batchops.importing.hcl import TerraformError, TerraformFile
from batchops.importing.manifests import ImportResult
from tests.unit.test_importing_terraform_shapes import _fill, specs, steps, validate

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "testdata" / "terraform"
JSON_FILES = sorted(CORPUS.glob("*.json"))
WALKTHROUGH_TF = ROOT / "tests" / "testdata" / "walkthrough" / "batch.tf"


def shown(name: str, **kwargs: Any) -> ImportResult:
    return import_from_terraform_json((CORPUS / name).read_text(), name, **kwargs)


def manifests(result: ImportResult) -> dict[str, dict[str, Any]]:
    return {obj.manifest["metadata"]["name"]: obj.manifest for obj in result.objects}


# --- the documented shapes ----------------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_FILES, ids=[p.name for p in JSON_FILES])
def test_every_json_file_validates_once_the_listed_placeholders_are_filled(path: Path) -> None:
    result = shown(path.name, namespace="etl")
    assert result.objects
    listed = {(p.object_name, p.field) for p in result.placeholders}
    for problem in validate(result, path.name):
        assert "REPLACE-ME" in problem or any(
            f"/{name}: {field}" in problem for name, field in listed
        ), problem
    for obj in result.objects:
        for placeholder in obj.placeholders:
            _fill(obj.manifest, placeholder.field, placeholder.value)
    assert validate(ImportResult(result.objects), path.name) == []


def test_state_values_are_imported_resolved_with_no_placeholder() -> None:
    result = shown("walkthrough_state.json")
    assert result.placeholders == []
    spec = specs(result)["env-72"]
    assert spec["region"] == "us-east-1"  # from the ARNs
    assert spec["computeResources"]["subnets"] == ["subnet-0123456789abcdef0"]
    assert "ec2Configuration" not in spec["computeResources"]  # AWS's default, not configured
    assert "bidPercentage" not in spec["computeResources"]


def test_both_queue_forms_refer_to_the_compute_environment_by_its_arn() -> None:
    result = specs(shown("walkthrough_state.json"))
    assert result["queue-72"]["computeEnvironments"] == [{"ref": "env-72", "order": 0}]
    assert result["queue-72-ordered"]["computeEnvironments"] == [
        {"ref": "env-72", "order": 0},
        {"arn": "arn:aws:batch:us-east-1:123456789012:compute-environment/shared_spot", "order": 1},
    ]
    # The state's policy is imported too: the queue names it by object, not by ARN.
    assert result["queue-72-ordered"]["schedulingPolicy"] == {"ref": "fair-share"}
    assert "schedulingPolicyArn" not in result["queue-72-ordered"]


# --- scheduling policies and consumable resources (issue 14) ------------------------------------


def test_a_scheduling_policy_in_a_state_is_imported_without_the_zeros_aws_reports_for_unset() -> (
    None
):
    result = shown("walkthrough_state.json")
    assert result.warnings == ()
    assert manifests(result)["fair-share"] == {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchSchedulingPolicy",
        "metadata": {"name": "fair-share"},
        "spec": {
            "name": "fair_share",
            "adopt": True,
            "region": "us-east-1",
            # compute_reservation = 0 is what the state holds when the .tf leaves it unset.
            "fairsharePolicy": {
                "shareDecaySeconds": 3600,
                "shareDistribution": [{"shareIdentifier": "A1*", "weightFactor": 0.1}],
            },
        },
    }


def test_state_queues_refer_to_root_and_module_policies_by_arn() -> None:
    result = specs(shown("fair_share_state.json"))
    assert result["fair"]["schedulingPolicy"] == {"ref": "teams"}
    # terraform-aws-modules/batch's per-queue policy, named by its for_each key like the queue.
    assert result["high"]["schedulingPolicy"] == {"ref": "high"}
    assert result["high"]["name"] == "ResearchHigh"
    assert result["high"]["computeEnvironments"] == [
        {"arn": "arn:aws:batch:us-east-1:123456789012:compute-environment/research-ec2", "order": 0}
    ]


def test_kinds_are_written_in_dependency_order() -> None:
    kinds = [o.manifest["kind"] for o in shown("fair_share_state.json").objects]
    assert kinds == [
        "BatchSchedulingPolicy",
        "BatchSchedulingPolicy",
        "BatchJobQueue",
        "BatchJobQueue",
        "BatchConsumableResource",
    ]


def test_a_consumable_resource_in_a_state_keeps_its_tags_but_not_tags_all() -> None:
    resource = specs(shown("fair_share_state.json"))["licences"]
    assert resource == {
        "name": "genomics-licence-seats",
        "adopt": True,
        "region": "us-east-1",
        "resourceType": "REPLENISHABLE",
        "totalQuantity": 8,
        "tags": {"team": "genomics"},
    }


def test_a_planned_queue_refers_to_the_planned_policy_through_the_configuration() -> None:
    result = shown("fair_share_plan.json")
    found = specs(result)
    assert found["fair"]["schedulingPolicy"] == {"ref": "teams"}
    assert found["teams"]["fairsharePolicy"]["computeReservation"] == 20
    # Only the quantity is unknown, and the note and placeholder name the variable behind it.
    assert [(p.object_name, p.field, p.value) for p in result.placeholders] == [
        ("licences", "spec.totalQuantity", "REPLACE-ME var.licence_seats")
    ]
    assert not any("aws_batch_scheduling_policy.teams.arn" in note for note in result.notes)


def test_the_json_string_container_properties_become_an_inline_step() -> None:
    assert steps(shown("walkthrough_state.json")) == [
        {
            "name": "Job1",
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/batch-image:latest",
            "command": ["python", "src/run1.py"],
            "vcpus": 72,
            "memory": 102400,
        }
    ]


def test_count_instances_are_named_by_index_and_the_queue_refers_to_each() -> None:
    result = specs(shown("count_and_module_plan.json"))
    assert result["spot-0"]["name"] == "spot-0"
    assert result["spot-1"]["computeResources"]["tags"] == {"Name": "spot-1"}
    # The ARNs are known only after apply: the configuration's references name the instances.
    assert result["main"]["computeEnvironments"] == [
        {"ref": "spot-0", "order": 0},
        {"ref": "spot-1", "order": 1},
    ]


def test_module_resources_are_named_by_key_with_their_module_in_the_notes() -> None:
    result = shown("count_and_module_plan.json")
    fargate = next(o for o in result.objects if o.manifest["metadata"]["name"] == "fargate")
    assert "created by module.batch" in fargate.notes
    assert fargate.source == (
        'count_and_module_plan.json: module.batch.aws_batch_compute_environment.this["fargate"]'
    )
    assert specs(result)["high"]["name"] == "high-priority"


def test_values_known_only_after_apply_are_placeholders_at_their_fields() -> None:
    result = shown("count_and_module_plan.json")
    fields = {(p.object_name, p.field): p.value for p in result.placeholders}
    assert fields[("fargate", "spec.name")] == "REPLACE-ME_fargate-generated_suffix"
    assert fields[("fargate", "spec.serviceRole")] == (
        'REPLACE-ME module.batch.aws_batch_compute_environment.this["fargate"].service_role'
    )
    assert ("high", "spec.computeEnvironments[0].arn") in fields
    # The placeholder ARN takes the plan's provider region (no ARN is known yet).
    assert ":eu-west-1:" in fields[("high", "spec.schedulingPolicyArn")]


def test_a_sensitive_value_is_never_copied_into_the_output() -> None:
    result = shown("count_and_module_plan.json")
    assert "s3cr3t" not in json.dumps(result.pipeline.manifest if result.pipeline else {})
    assert steps(result) == [{"name": "hello", "jobDefinition": "hello"}]
    assert any("container_properties" in n and "sensitive" in n for n in result.notes)


# --- the same resources from HCL and from JSON --------------------------------------------------


def _known_leaves(value: object, path: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        return {
            k: v
            for key, item in value.items()
            for k, v in _known_leaves(item, f"{path}.{key}").items()
        }
    if isinstance(value, list):
        return {
            k: v
            for i, item in enumerate(value)
            for k, v in _known_leaves(item, f"{path}[{i}]").items()
        }
    return {path: value}


@pytest.mark.parametrize("name", ["env-72", "queue-72"])
def test_hcl_and_state_give_the_same_manifest_where_the_hcl_values_are_known(name: str) -> None:
    hcl = manifests(
        import_from_terraform(
            [TerraformFile("batch.tf", WALKTHROUGH_TF.read_text())], region="us-east-1"
        )
    )[name]
    state = manifests(shown("walkthrough_state.json"))[name]
    hcl_leaves, state_leaves = _known_leaves(hcl), _known_leaves(state)
    assert hcl_leaves.keys() == state_leaves.keys()
    assert {k: v for k, v in hcl_leaves.items() if "REPLACE-ME" not in str(v)} == {
        k: state_leaves[k] for k, v in hcl_leaves.items() if "REPLACE-ME" not in str(v)
    }


def test_hcl_and_state_give_the_same_step_where_the_hcl_values_are_known() -> None:
    hcl = import_from_terraform([TerraformFile("batch.tf", WALKTHROUGH_TF.read_text())])
    job1 = next(s for s in steps(hcl) if s["name"] == "Job1")
    from_state = steps(shown("walkthrough_state.json"))[0]
    assert job1.keys() == from_state.keys()
    assert {k: v for k, v in job1.items() if k != "image"} == {
        k: v for k, v in from_state.items() if k != "image"
    }
    assert job1["image"].endswith(":latest") and from_state["image"].endswith(":latest")


# --- what is not `terraform show -json` output --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resource {", "not JSON"),
        ('{"version": 4, "resources": []}', "raw .tfstate"),
        ('{"format_version": "2.0", "values": {}}', "format_version 2.0"),
    ],
)
def test_other_input_is_one_line_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(TerraformError, match=message):
        import_from_terraform_json(text, "x.json")


def test_the_command_reads_a_plan_and_says_placeholders_remain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchops.cli import main

    out = tmp_path / "out.yaml"
    code = main(
        [
            "import",
            "--from-terraform-json",
            str(CORPUS / "count_and_module_plan.json"),
            "-o",
            str(out),
        ]
    )
    assert code == EXIT_NEEDS_REVIEW
    assert "kind: BatchJobQueue" in out.read_text()
    assert "placeholders to replace" in capsys.readouterr().err


def test_a_json_file_given_to_from_terraform_points_to_the_json_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from batchops.cli import main

    code = main(["import", "--from-terraform", str(CORPUS / "walkthrough_state.json")])
    assert code == EXIT_NOTHING_USABLE
    assert "--from-terraform-json" in capsys.readouterr().err
