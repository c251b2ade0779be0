"""`batchops import` conversions: Terraform files and Describe* output -> adopting manifests.

No network: the Terraform side reads the walkthrough's own batch.tf, the AWS side reads
describe-output fixtures shaped like boto3's answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jsonschema
import pytest
import yaml

from batchops.importing.from_aws import import_from_aws
from batchops.importing.from_terraform import import_from_terraform
from batchops.importing.hcl import TerraformError, TerraformFile
from batchops.importing.manifests import ImportResult
from batchops.importing.names import object_names, step_names
from batchops.importing.render import render_yaml
from batchops.importing.steps import step_from_job_definition
from batchops.model.compute import ObservedComputeEnvironment
from batchops.model.compute_parsing import parse_compute_spec
from batchops.model.consumable import ObservedConsumableResource, parse_consumable_resource_spec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.model.queue import parse_queue_spec
from batchops.model.scheduling import ObservedSchedulingPolicy, parse_scheduling_policy_spec
from batchops.plans.compute import classify_compute_update
from batchops.plans.consumable import classify_resource_update
from batchops.plans.scheduling import classify_policy_update
from tests.unit.test_importing_terraform_shapes import validate

if TYPE_CHECKING:
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        DescribeConsumableResourceResponseTypeDef,
        JobDefinitionTypeDef,
        JobQueueDetailTypeDef,
        SchedulingPolicyDetailTypeDef,
    )

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH_TF = ROOT / "tests" / "testdata" / "walkthrough" / "batch.tf"
CRDS = {
    "BatchComputeEnvironment": ROOT / "crds" / "batchcomputeenvironments.yaml",
    "BatchJobQueue": ROOT / "crds" / "batchjobqueues.yaml",
    "BatchPipeline": ROOT / "crds" / "batchpipelines.yaml",
    "BatchSchedulingPolicy": ROOT / "crds" / "batchschedulingpolicies.yaml",
    "BatchConsumableResource": ROOT / "crds" / "batchconsumableresources.yaml",
}
ACCOUNT = "123456789012"
CE_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:compute-environment/"
QUEUE_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/"
POLICY_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:scheduling-policy/"
RESOURCE_ARN = f"arn:aws:batch:us-east-1:{ACCOUNT}:consumable-resource/"


def walkthrough(**kwargs: Any) -> ImportResult:
    return import_from_terraform([TerraformFile("batch.tf", WALKTHROUGH_TF.read_text())], **kwargs)


def terraform(text: str, **kwargs: Any) -> ImportResult:
    return import_from_terraform([TerraformFile("main.tf", text)], **kwargs)


def by_name(result: ImportResult) -> dict[str, dict[str, Any]]:
    return {obj.manifest["metadata"]["name"]: obj.manifest for obj in result.objects}


def crd_schema(kind: str) -> dict[str, Any]:
    crd = yaml.safe_load(CRDS[kind].read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def assert_accepted(result: ImportResult) -> None:
    """Each object passes its CRD's OpenAPI schema (CEL rules are left to the e2e test's API
    server) and the operator's own spec parser."""
    parsers = {
        "BatchComputeEnvironment": parse_compute_spec,
        "BatchJobQueue": parse_queue_spec,
        "BatchPipeline": parse_pipeline_spec,
        "BatchSchedulingPolicy": parse_scheduling_policy_spec,
        "BatchConsumableResource": parse_consumable_resource_spec,
    }
    objects = [*result.objects, *([result.pipeline] if result.pipeline else [])]
    for obj in objects:
        manifest = obj.manifest
        # OpenAPI v3.0 schemas use draft 4's boolean exclusiveMinimum.
        spec_schema = crd_schema(manifest["kind"])["properties"]["spec"]
        jsonschema.Draft4Validator(spec_schema).validate(manifest["spec"])
        parsers[manifest["kind"]](manifest["spec"])


# --- Terraform: the walkthrough's batch.tf ------------------------------------------------------


def test_walkthrough_env_72_becomes_a_compute_environment_adopting_env_72() -> None:
    assert by_name(walkthrough(namespace="etl"))["env-72"] == {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchComputeEnvironment",
        "metadata": {"name": "env-72", "namespace": "etl"},
        "spec": {
            "name": "env_72",
            "adopt": True,
            "type": "MANAGED",
            "state": "ENABLED",
            "serviceRole": "REPLACE-ME data.aws_iam_role.AWSBatchServiceRole.arn",
            "computeResources": {
                "type": "EC2",
                "maxvCpus": 256,
                "minvCpus": 0,
                "instanceTypes": ["c5.18xlarge", "m5.24xlarge", "m5.12xlarge"],
                "subnets": ["REPLACE-ME data.aws_subnet.subnet_default.id"],
                "securityGroupIds": ["REPLACE-ME data.aws_security_group.default_sg.id"],
                "instanceRole": (
                    "REPLACE-ME "
                    "data.aws_iam_instance_profile.AWSEC2ContainerServiceForEC2Policy.arn"
                ),
            },
        },
    }


def test_walkthrough_keeps_the_aws_name_even_where_it_differs_from_the_label() -> None:
    # The walkthrough names resource env_simple but the compute environment "env_simples".
    assert by_name(walkthrough())["env-simple"]["spec"]["name"] == "env_simples"


def test_walkthrough_spot_fleet_role_on_ec2_is_left_out_with_a_note() -> None:
    result = walkthrough()
    assert "spotIamFleetRole" not in by_name(result)["env-72"]["spec"]["computeResources"]
    assert (
        "batch.tf:5: aws_batch_compute_environment.env_72: spotIamFleetRole left out: "
        "it applies only to SPOT compute resources"
    ) in result.notes


def test_walkthrough_queue_72_refers_to_the_imported_compute_environment() -> None:
    assert by_name(walkthrough(region="us-east-1"))["queue-72"] == {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchJobQueue",
        "metadata": {"name": "queue-72"},
        "spec": {
            "name": "queue_72",
            "adopt": True,
            "region": "us-east-1",
            "state": "ENABLED",
            "priority": 100,
            # The provider numbers the deprecated compute_environments list from 0.
            "computeEnvironments": [{"ref": "env-72", "order": 0}],
        },
    }


def test_walkthrough_job1_becomes_an_inline_step_of_the_pipeline_skeleton() -> None:
    pipeline = walkthrough().pipeline
    assert pipeline is not None
    assert pipeline.manifest["kind"] == "BatchPipeline"
    assert pipeline.manifest["spec"]["queue"] == "queue-72"
    assert pipeline.manifest["spec"]["steps"][0] == {
        "name": "Job1",
        "image": "<REPLACE-ME data.aws_ecr_repository.batch_image.repository_url>:latest",
        "command": ["python", "src/run1.py"],
        "vcpus": 72,
        "memory": 102400,
    }
    assert [s["name"] for s in pipeline.manifest["spec"]["steps"]] == ["Job1", "Job2", "Job3"]


def test_walkthrough_lists_every_placeholder_with_file_and_resource() -> None:
    listed = {(p.source, p.field) for p in walkthrough().placeholders}
    ce_fields = {
        "spec.serviceRole",
        "spec.computeResources.subnets[0]",
        "spec.computeResources.securityGroupIds[0]",
        "spec.computeResources.instanceRole",
    }
    assert listed == {
        *{
            (f"batch.tf:{line}: aws_batch_compute_environment.{label}", field)
            for line, label in ((5, "env_72"), (36, "env_simple"))
            for field in ce_fields
        },
        *{
            (f"batch.tf:{line}: aws_batch_job_definition.Job{n}", f"spec.steps[{n - 1}].image")
            for line, n in ((79, 1), (93, 2), (107, 3))
        },
    }


def test_walkthrough_output_is_accepted_by_the_crd_schemas_and_the_operator() -> None:
    assert_accepted(walkthrough(namespace="etl", region="us-east-1"))


# --- Terraform: other shapes --------------------------------------------------------------------

OTHER_SHAPES = """
provider "aws" {
  region = "eu-west-1"
}

resource "aws_batch_compute_environment" "spot" {
  name         = "spot_ce"
  type         = "managed"
  service_role = aws_iam_role.batch.arn
  compute_resources {
    type                = "SPOT"
    allocation_strategy = "SPOT_PRICE_CAPACITY_OPTIMIZED"
    bid_percentage      = 60
    max_vcpus           = 16
    desired_vcpus       = 4
    instance_type       = ["optimal"]
    instance_role       = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
    subnets             = var.subnet_ids
    security_group_ids  = ["sg-1"]
    placement_group     = "pg"
    launch_template {
      launch_template_name = "lt"
    }
  }
  tags = { team = "data" }
}

resource "aws_batch_job_queue" "mixed" {
  name     = "mixed"
  priority = 5
  state    = "DISABLED"
  scheduling_policy_arn = aws_batch_scheduling_policy.fair.arn
  compute_environment_order {
    order               = 2
    compute_environment = data.aws_batch_compute_environment.shared.arn
  }
  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.spot.arn
  }
}

resource "aws_batch_job_definition" "encoded" {
  name = "encoded"
  type = "container"
  container_properties = jsonencode({
    image   = "${var.repository}:v2"
    command = ["run", "Ref::date"]
    resourceRequirements = [
      { type = "VCPU", value = "0.5" },
      { type = "MEMORY", value = "1024" },
    ]
    environment = [{ name = "MODE", value = "full" }]
    executionRoleArn = "arn:aws:iam::123456789012:role/exec"
  })
  platform_capabilities = ["FARGATE"]
  retry_strategy {
    attempts = 3
    evaluate_on_exit {
      action       = "retry"
      on_exit_code = "137"
    }
  }
  timeout {
    attempt_duration_seconds = 600
  }
  parameters = { date = "today" }
}

resource "aws_batch_job_definition" "indented" {
  name = "indented"
  type = "container"
  container_properties = <<-EOT
    {"image": "busybox", "command": ["true"], "vcpus": 1, "memory": 512,
     "volumes": [{"name": "data", "host": {"sourcePath": "/data"}}]}
  EOT
}
"""


def test_provider_region_and_spot_fields_and_interpolated_lists_are_read() -> None:
    result = terraform(OTHER_SHAPES)
    spec = by_name(result)["spot"]["spec"]
    assert spec["region"] == "eu-west-1"
    assert spec["type"] == "MANAGED"
    assert spec["serviceRole"] == "REPLACE-ME aws_iam_role.batch.arn"
    assert spec["tags"] == {"team": "data"}
    resources = spec["computeResources"]
    assert resources["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert resources["bidPercentage"] == 60
    assert resources["subnets"] == ["REPLACE-ME var.subnet_ids"]
    assert resources["launchTemplate"] == {"launchTemplateName": "lt"}
    assert "desiredvCpus" not in resources  # AWS's scaling state, not a desire
    assert resources["placementGroup"] == "pg"
    assert not any("placement_group" in note for note in result.notes)


def test_order_blocks_resolve_known_references_and_shape_unknown_ones_as_arns() -> None:
    spec = by_name(terraform(OTHER_SHAPES))["mixed"]["spec"]
    assert spec["state"] == "DISABLED"
    assert spec["computeEnvironments"] == [
        {
            "arn": "arn:aws:batch:eu-west-1:000000000000:compute-environment/"
            "REPLACE-ME_data_aws_batch_compute_environment_shared_arn",
            "order": 2,
        },
        {"ref": "spot", "order": 1},
    ]
    assert spec["schedulingPolicyArn"] == (
        "arn:aws:batch:eu-west-1:000000000000:scheduling-policy/"
        "REPLACE-ME_aws_batch_scheduling_policy_fair_arn"
    )


def test_jsonencode_definition_becomes_a_fargate_step_with_retry_and_timeout() -> None:
    pipeline = terraform(OTHER_SHAPES).pipeline
    assert pipeline is not None
    assert pipeline.manifest["spec"]["steps"][0] == {
        "name": "encoded",
        "image": "<REPLACE-ME var.repository>:v2",
        "command": ["run", "Ref::date"],
        "vcpus": 0.5,
        "memory": 1024,
        "environment": [{"name": "MODE", "value": "full"}],
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "platform": "FARGATE",
        "retry": {"attempts": 3, "evaluateOnExit": [{"onExitCode": "137", "action": "RETRY"}]},
        "timeoutSeconds": 600,
        "parameters": {"date": "today"},
    }


def test_definition_with_volumes_imports_inline_under_batch_names() -> None:
    pipeline = terraform(OTHER_SHAPES).pipeline
    assert pipeline is not None
    assert pipeline.manifest["spec"]["steps"][1] == {
        "name": "indented",
        "image": "busybox",
        "command": ["true"],
        "vcpus": 1,
        "memory": 512,
        "volumes": [{"name": "data", "host": {"sourcePath": "/data"}}],
    }
    assert not any("containerProperties.volumes" in note for note in pipeline.notes)


def test_multi_node_definition_imports_inline_and_a_step_less_member_is_referenced() -> None:
    nodes = {
        "numNodes": 2,
        "mainNode": 0,
        "nodeRangeProperties": [{"targetNodes": "0:", "container": {"image": "mpi"}}],
    }
    multinode = step_from_job_definition(
        "mpi", {"type": "multinode", "nodeProperties": nodes}, "mpi:1"
    )
    assert multinode.step == {"name": "mpi", "nodeProperties": nodes}
    claims = {"consumableResourceList": [{"consumableResource": "licenses", "quantity": 1}]}
    claiming = step_from_job_definition(
        "licensed",
        {
            "type": "container",
            "containerProperties": {"image": "app", "vcpus": 1, "memory": 512},
            "consumableResourceProperties": claims,
        },
        "licensed:2",
    )
    assert claiming.step == {"name": "licensed", "jobDefinition": "licensed:2"}
    assert "consumableResourceProperties" in claiming.notes[0]


def test_other_shapes_are_accepted_by_the_crd_schemas_and_the_operator() -> None:
    assert_accepted(terraform(OTHER_SHAPES))


def test_a_number_that_is_not_known_is_a_placeholder_at_its_field_with_a_note() -> None:
    text = OTHER_SHAPES.replace("max_vcpus           = 16", "max_vcpus = var.max")
    result = terraform(text)
    assert by_name(result)["spot"]["spec"]["computeResources"]["maxvCpus"] == "REPLACE-ME var.max"
    assert any(
        "main.tf:14: compute_resources.max_vcpus = var.max: not known offline" in note
        for note in result.notes
    )


def test_a_file_that_is_not_hcl_is_one_line_naming_the_file_and_line() -> None:
    with pytest.raises(TerraformError, match=r"^main\.tf:2:1: not valid HCL: [^\n]*$"):
        terraform('resource "aws_batch_job_queue" {')


# --- AWS describe output ------------------------------------------------------------------------


def describe_ce(name: str, **resources: Any) -> ComputeEnvironmentDetailTypeDef:
    described = {
        "computeEnvironmentName": name,
        "computeEnvironmentArn": CE_ARN + name,
        "ecsClusterArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/{name}_Batch_1",
        "tags": {"team": "data", "batchops.io/owner": "old/owner"},
        "type": "MANAGED",
        "state": "ENABLED",
        "status": "VALID",
        "computeResources": {
            "type": "EC2",
            "allocationStrategy": "BEST_FIT",
            "minvCpus": 0,
            "maxvCpus": 256,
            "desiredvCpus": 48,
            "instanceTypes": ["c5.18xlarge"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecsInstanceRole",
            "spotIamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/AmazonEC2SpotFleetTaggingRole",
            "ec2Configuration": [{"imageType": "ECS_AL2"}],
            **resources,
        },
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/AWSBatchServiceRole",
        "containerOrchestrationType": "ECS",
        "uuid": "b2c4",
    }
    return cast("ComputeEnvironmentDetailTypeDef", described)


def describe_queue(name: str, *ce_names: str) -> JobQueueDetailTypeDef:
    described = {
        "jobQueueName": name,
        "jobQueueArn": QUEUE_ARN + name,
        "state": "ENABLED",
        "status": "VALID",
        "priority": 100,
        "computeEnvironmentOrder": [
            {"order": index + 1, "computeEnvironment": CE_ARN + ce}
            for index, ce in enumerate(ce_names)
        ],
        "tags": {},
    }
    return cast("JobQueueDetailTypeDef", described)


def describe_job_definition(name: str, revision: int, **container: Any) -> JobDefinitionTypeDef:
    described = {
        "jobDefinitionName": name,
        "jobDefinitionArn": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/{name}:{revision}",
        "revision": revision,
        "status": "ACTIVE",
        "type": "container",
        "parameters": {},
        "containerProperties": {
            "image": "repo/batch_image:latest",
            "command": ["python", "src/run1.py"],
            "volumes": [],
            "environment": [],
            "mountPoints": [],
            "ulimits": [],
            "resourceRequirements": [
                {"value": "72", "type": "VCPU"},
                {"value": "102400", "type": "MEMORY"},
            ],
            "secrets": [],
            **container,
        },
        "tags": {},
        "propagateTags": False,
        "platformCapabilities": ["EC2"],
        "containerOrchestrationType": "ECS",
    }
    return cast("JobDefinitionTypeDef", described)


def from_aws(**kwargs: Any) -> ImportResult:
    return import_from_aws(
        [describe_ce("env_72"), describe_ce("other")],
        [describe_queue("queue_72", "env_72", "other")],
        [
            describe_job_definition("Job1", 1, image="old"),
            describe_job_definition("Job1", 2),
            describe_job_definition("Job3", 4, linuxParameters={"sharedMemorySize": 64}),
        ],
        region="us-east-1",
        **kwargs,
    )


def test_described_compute_environment_maps_back_to_the_spec() -> None:
    result = from_aws(namespace="etl")
    assert by_name(result)["env-72"]["spec"] == {
        "name": "env_72",
        "adopt": True,
        "region": "us-east-1",
        "type": "MANAGED",
        "state": "ENABLED",
        "serviceRole": f"arn:aws:iam::{ACCOUNT}:role/AWSBatchServiceRole",
        "computeResources": {
            "type": "EC2",
            "maxvCpus": 256,
            "minvCpus": 0,
            "allocationStrategy": "BEST_FIT",
            "instanceTypes": ["c5.18xlarge"],
            "subnets": ["subnet-1"],
            "securityGroupIds": ["sg-1"],
            "instanceRole": f"arn:aws:iam::{ACCOUNT}:instance-profile/ecsInstanceRole",
            "ec2Configuration": [{"imageType": "ECS_AL2"}],
        },
        "tags": {"team": "data"},
    }
    assert (
        f"aws us-east-1: {CE_ARN}env_72: already managed by batchops object old/owner: "
        "import it only once"
    ) in result.notes


def test_imported_compute_environment_shows_no_drift_against_what_aws_reports() -> None:
    # What makes adoption safe: the operator's first reconcile finds nothing to change.
    described = describe_ce("env_72")
    spec = parse_compute_spec(by_name(from_aws())["env-72"]["spec"])
    observed = ObservedComputeEnvironment.from_describe(described)
    plan = classify_compute_update(spec, observed, operator_tags={"team": "data"})
    assert plan.changes == ()


def test_service_linked_role_is_left_unset_as_the_spec_means_it() -> None:
    described = describe_ce("slr")
    described["serviceRole"] = (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"
    )
    result = import_from_aws([described], [], [], region="us-east-1")
    assert "serviceRole" not in by_name(result)["slr"]["spec"]


def test_described_queue_refers_to_imported_ces_and_keeps_arns_of_the_others() -> None:
    result = from_aws(name_prefix="env_")  # "other" is filtered out, the queue too
    assert set(by_name(result)) == {"env-72"}
    result = import_from_aws(
        [describe_ce("env_72")],
        [describe_queue("queue_72", "env_72", "other")],
        [],
        region="us-east-1",
    )
    assert by_name(result)["queue-72"]["spec"]["computeEnvironments"] == [
        {"ref": "env-72", "order": 1},
        {"arn": CE_ARN + "other", "order": 2},
    ]


def test_latest_active_revisions_are_inlined_with_their_linux_parameters() -> None:
    pipeline = from_aws().pipeline
    assert pipeline is not None
    assert pipeline.manifest["spec"]["steps"] == [
        {
            "name": "Job1",
            "image": "repo/batch_image:latest",
            "command": ["python", "src/run1.py"],
            "vcpus": 72,
            "memory": 102400,
        },
        {
            "name": "Job3",
            "image": "repo/batch_image:latest",
            "command": ["python", "src/run1.py"],
            "vcpus": 72,
            "memory": 102400,
            "linuxParameters": {"sharedMemorySize": 64},
        },
    ]
    assert not any("linuxParameters" in note for note in pipeline.notes)


def test_described_output_is_accepted_by_the_crd_schemas_and_the_operator() -> None:
    assert_accepted(from_aws(namespace="etl"))


def test_compute_environments_being_deleted_are_not_imported() -> None:
    deleting = describe_ce("going")
    deleting["status"] = "DELETING"
    result = import_from_aws([deleting], [], [], region="us-east-1")
    assert result.objects == ()


# --- AWS: scheduling policies and consumable resources (issue 14) ------------------------------


def describe_policy(name: str) -> SchedulingPolicyDetailTypeDef:
    described = {
        "name": name,
        "arn": POLICY_ARN + name,
        "fairsharePolicy": {
            "shareDecaySeconds": 3600,
            "computeReservation": 20,
            "shareDistribution": [
                {"shareIdentifier": "etl", "weightFactor": 0.5},
                {"shareIdentifier": "adhoc*"},
            ],
        },
        "tags": {"team": "data", "batchops.io/content-hash": "abc"},
    }
    return cast("SchedulingPolicyDetailTypeDef", described)


def describe_resource(name: str) -> DescribeConsumableResourceResponseTypeDef:
    described = {
        "consumableResourceName": name,
        "consumableResourceArn": RESOURCE_ARN + name,
        "totalQuantity": 4,
        "inUseQuantity": 1,
        "availableQuantity": 3,
        "resourceType": "REPLENISHABLE",
        "createdAt": 1767225600000,
        "tags": {"team": "data", "aws:cloudformation:stack-name": "licences"},
        "ResponseMetadata": {},
    }
    return cast("DescribeConsumableResourceResponseTypeDef", described)


def with_policies_and_resources(**kwargs: Any) -> ImportResult:
    fair = describe_queue("fair", "env_72")
    fair["schedulingPolicyArn"] = POLICY_ARN + "teams"
    elsewhere = describe_queue("elsewhere", "env_72")
    elsewhere["schedulingPolicyArn"] = POLICY_ARN + "made_elsewhere"
    licensed = describe_job_definition("Licensed", 3)
    licensed["consumableResourceProperties"] = {
        "consumableResourceList": [{"consumableResource": "licence_seats", "quantity": 1}]
    }
    return import_from_aws(
        [describe_ce("env_72")],
        [fair, elsewhere],
        [licensed],
        scheduling_policies=[describe_policy("teams"), describe_policy("other_team")],
        consumable_resources=[describe_resource("licence_seats")],
        region="us-east-1",
        **kwargs,
    )


def test_described_scheduling_policy_becomes_one_adopting_it_with_its_shares() -> None:
    policy = by_name(with_policies_and_resources(namespace="etl"))["teams"]
    assert policy == {
        "apiVersion": "batchops.io/v1alpha1",
        "kind": "BatchSchedulingPolicy",
        "metadata": {"name": "teams", "namespace": "etl"},
        "spec": {
            "name": "teams",
            "adopt": True,
            "region": "us-east-1",
            "fairsharePolicy": {
                "shareDecaySeconds": 3600,
                "computeReservation": 20,
                "shareDistribution": [
                    {"shareIdentifier": "etl", "weightFactor": 0.5},
                    {"shareIdentifier": "adhoc*"},
                ],
            },
            "tags": {"team": "data"},  # the operator's own tag left out
        },
    }


def test_a_queue_refers_to_its_imported_policy_and_keeps_the_arn_of_another() -> None:
    found = by_name(with_policies_and_resources())
    assert found["fair"]["spec"]["schedulingPolicy"] == {"ref": "teams"}
    assert "schedulingPolicyArn" not in found["fair"]["spec"]
    assert found["elsewhere"]["spec"]["schedulingPolicyArn"] == POLICY_ARN + "made_elsewhere"
    assert "schedulingPolicy" not in found["elsewhere"]["spec"]


def test_described_consumable_resource_becomes_one_adopting_it_without_aws_tags() -> None:
    result = with_policies_and_resources()
    assert by_name(result)["licence-seats"]["spec"] == {
        "name": "licence_seats",
        "adopt": True,
        "region": "us-east-1",
        "resourceType": "REPLENISHABLE",
        "totalQuantity": 4,
        "tags": {"team": "data"},
    }
    assert any("tag 'aws:cloudformation:stack-name' left out" in n for n in result.notes)


def test_imported_policy_and_resource_show_no_drift_against_what_aws_reports() -> None:
    # What makes adoption safe: the operator's first reconcile finds nothing to change.
    found = by_name(with_policies_and_resources())
    policy = parse_scheduling_policy_spec(found["teams"]["spec"])
    observed_policy = ObservedSchedulingPolicy.from_describe(describe_policy("teams"))
    plan = classify_policy_update(
        policy, observed_policy, operator_tags={"batchops.io/content-hash": "abc"}
    )
    assert plan.request is None and not plan.tags.to_add and not plan.tags.to_remove
    resource = parse_consumable_resource_spec(found["licence-seats"]["spec"])
    observed = ObservedConsumableResource.from_describe(describe_resource("licence_seats"))
    update = classify_resource_update(
        resource, observed, operator_tags={"aws:cloudformation:stack-name": "licences"}
    )
    assert update.request is None and update.blocked is None and not update.tags.to_add


def test_a_step_claims_an_imported_consumable_resource_by_ref() -> None:
    pipeline = with_policies_and_resources().pipeline
    assert pipeline is not None
    (step,) = pipeline.manifest["spec"]["steps"]
    assert step["name"] == "Licensed" and "jobDefinition" not in step  # inline
    assert step["consumableResources"] == [{"ref": "licence-seats", "quantity": 1}]


def test_a_claim_of_a_resource_not_imported_keeps_its_arn_in_the_definitions_account() -> None:
    definition = describe_job_definition("Licensed", 3)
    definition["consumableResourceProperties"] = {
        "consumableResourceList": [
            {"consumableResource": "db_connections", "quantity": 2},
            {"consumableResource": RESOURCE_ARN + "gpu_licences", "quantity": 1},
        ]
    }
    step = step_from_job_definition("Licensed", definition, "Licensed:3").step
    assert step["consumableResources"] == [
        {"arn": RESOURCE_ARN + "db_connections", "quantity": 2},
        {"arn": RESOURCE_ARN + "gpu_licences", "quantity": 1},
    ]
    # Without the definition's ARN (a Terraform definition) a bare name has no ARN to give.
    from_terraform = {k: v for k, v in definition.items() if k != "jobDefinitionArn"}
    imported = step_from_job_definition("Licensed", from_terraform, "Licensed")
    assert imported.step == {"name": "Licensed", "jobDefinition": "Licensed"}
    assert "consumableResourceProperties (a resource without its ARN" in imported.notes[0]


def test_policies_and_resources_are_filtered_by_the_name_prefix() -> None:
    assert set(by_name(with_policies_and_resources(name_prefix="teams"))) == {"teams"}


def test_policies_resources_and_their_queue_pass_batchops_validate() -> None:
    result = with_policies_and_resources(namespace="etl")
    assert_accepted(result)
    assert validate(result, "imported.yaml") == []
    # The skeleton too, once uncommented: its step's ref names the resource in the same file.
    assert result.pipeline is not None
    applied = ImportResult((*result.objects, result.pipeline))
    assert validate(applied, "imported.yaml") == []


def test_import_lists_and_describes_every_policy_and_resource_page_by_page() -> None:
    from botocore.stub import Stubber

    from batchops.aws.batch import BatchApi
    from batchops.aws.calls import CallCounter
    from tests.unit.test_aws_batch import batch_client

    client = batch_client()
    api = BatchApi(client, CallCounter())
    arns = [POLICY_ARN + f"p{i}" for i in range(101)]
    with Stubber(client) as stub:
        stub.add_response(
            "list_scheduling_policies",
            {"schedulingPolicies": [{"arn": a} for a in arns[:60]], "nextToken": "t"},
            {},
        )
        stub.add_response(
            "list_scheduling_policies",
            {"schedulingPolicies": [{"arn": a} for a in arns[60:]]},
            {"nextToken": "t"},
        )
        for chunk in (arns[:100], arns[100:]):
            described = [{"name": a.rsplit("/", 1)[1], "arn": a} for a in chunk]
            stub.add_response(
                "describe_scheduling_policies", {"schedulingPolicies": described}, {"arns": chunk}
            )
        assert len(api.describe_all_scheduling_policies()) == 101
        summaries = [
            {"consumableResourceName": n, "consumableResourceArn": RESOURCE_ARN + n}
            for n in ("etl_seats", "ml_seats")
        ]
        stub.add_response("list_consumable_resources", {"consumableResources": summaries}, {})
        described_resource = {
            "consumableResourceName": "etl_seats",
            "consumableResourceArn": RESOURCE_ARN + "etl_seats",
            "totalQuantity": 2,
            "tags": {"team": "etl"},
        }
        stub.add_response(
            "describe_consumable_resource",
            described_resource,
            {"consumableResource": RESOURCE_ARN + "etl_seats"},
        )
        found = api.describe_all_consumable_resources("etl")
        stub.assert_no_pending_responses()
    assert [r["tags"] for r in found] == [{"team": "etl"}]


# --- names and rendering ------------------------------------------------------------------------


def test_aws_names_become_dns_1123_names_without_collisions() -> None:
    names = object_names(["env_72", "env-72", "Queue.High", "__x__", "a" * 80])
    assert names["env_72"] == "env-72"
    assert names["env-72"].startswith("env-72-") and len(names["env-72"]) == 15
    assert names["Queue.High"] == "queue-high"
    assert names["__x__"] == "x"
    assert names["a" * 80] == "a" * 63


def test_step_names_keep_case_and_underscores() -> None:
    assert step_names(["Job1", "etl_step.v2"]) == {"Job1": "Job1", "etl_step.v2": "etl_step-v2"}


def test_rendered_yaml_applies_only_infrastructure_and_comments_out_the_pipeline() -> None:
    text = render_yaml(walkthrough(namespace="etl"), "batchops import --from-terraform batch.tf")
    applied = [doc for doc in yaml.safe_load_all(text) if doc]
    assert [doc["kind"] for doc in applied] == [
        "BatchComputeEnvironment",
        "BatchComputeEnvironment",
        "BatchJobQueue",
        "BatchJobQueue",
    ]
    assert "# note: spotIamFleetRole left out" in text
    # Uncommenting the skeleton gives the pipeline back.
    skeleton = text[text.index("# apiVersion: batchops.io/v1alpha1\n# kind: BatchPipeline") :]
    uncommented = yaml.safe_load(
        "\n".join(line[2:] if line.startswith("# ") else "" for line in skeleton.splitlines())
    )
    assert uncommented == walkthrough(namespace="etl").pipeline.manifest  # type: ignore[union-attr]
