"""`batchops import` end to end: infrastructure created outside batchops (as Terraform would)
is imported, applied with kubectl, and adopted by the operator — same ARNs, nothing duplicated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID, Emulator
from batchops.local.stack import OperatorProcess
from tests.conftest import REGION, REPO_ROOT, Kubectl, wait_condition
from tests.waits import wait_for

WALKTHROUGH_TF = REPO_ROOT / "tests" / "testdata" / "walkthrough" / "batch.tf"
ACCOUNT = "123456789012"
SERVICE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/AWSBatchServiceRole"
INSTANCE_PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/AWSEC2ContainerServiceForEC2Policy"
SPOT_FLEET_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/spotfleet.amazonaws.com/"
    "AWSServiceRoleForEC2SpotFleet"
)
# What the user types over each placeholder of the walkthrough's batch.tf, here the emulator's
# default account (in a real account: `terraform state show` or the console shows them).
PLACEHOLDER_VALUES = {
    "REPLACE-ME data.aws_iam_role.AWSBatchServiceRole.arn": SERVICE_ROLE,
    "REPLACE-ME data.aws_iam_instance_profile.AWSEC2ContainerServiceForEC2Policy.arn": (
        INSTANCE_PROFILE
    ),
    "REPLACE-ME data.aws_subnet.subnet_default.id": DEFAULT_SUBNET_ID,
    "REPLACE-ME data.aws_security_group.default_sg.id": DEFAULT_SECURITY_GROUP_ID,
}


def create_like_terraform(
    batch: Any, queues: dict[str, str], ce_types: dict[str, list[str]]
) -> dict[str, str]:
    """The walkthrough's compute environments and queues, created with the arguments the
    Terraform AWS provider sends for batch.tf; returns ARN by AWS name."""
    arns: dict[str, str] = {}
    for name, instance_types in ce_types.items():
        arns[name] = batch.create_compute_environment(
            computeEnvironmentName=name,
            type="MANAGED",
            state="ENABLED",
            serviceRole=SERVICE_ROLE,
            computeResources={
                "type": "EC2",
                "minvCpus": 0,
                "maxvCpus": 256,
                "instanceTypes": instance_types,
                "instanceRole": INSTANCE_PROFILE,
                "spotIamFleetRole": SPOT_FLEET_ROLE,
                "subnets": [DEFAULT_SUBNET_ID],
                "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
            },
        )["computeEnvironmentArn"]
    wait_for(lambda: all_valid(batch, "compute_environments"), message="the CEs to be VALID")
    for queue, ce in queues.items():
        arns[queue] = batch.create_job_queue(
            jobQueueName=queue,
            state="ENABLED",
            priority=100,
            # The provider numbers the deprecated compute_environments list from 0.
            computeEnvironmentOrder=[{"order": 0, "computeEnvironment": arns[ce]}],
        )["jobQueueArn"]
    wait_for(lambda: all_valid(batch, "job_queues"), message="the queues to be VALID")
    return arns


def all_valid(batch: Any, kind: str) -> bool:
    if kind == "compute_environments":
        items = batch.describe_compute_environments()["computeEnvironments"]
    else:
        items = batch.describe_job_queues()["jobQueues"]
    return all(item["status"] == "VALID" for item in items)


def batchops(
    *args: str, emulator: Emulator, exit_code: int = 0
) -> subprocess.CompletedProcess[str]:
    """The `batchops` command as a user runs it, with the emulator's test credentials;
    `exit_code` is the status it must end with."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
    }
    result = subprocess.run(
        [sys.executable, "-m", "batchops", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO_ROOT,
    )
    assert result.returncode == exit_code, f"batchops {' '.join(args)}:\n{result.stderr}"
    return result


def assert_adopted(
    kubectl: Kubectl, namespace: str, batch: Any, arns_by_object: dict[str, str]
) -> None:
    """Every object Ready and Synced on the ARN that existed before, and AWS unchanged in
    number: adopted, not duplicated."""
    for resource, arn in arns_by_object.items():
        wait_condition(kubectl, resource, namespace, "Ready")
        wait_condition(kubectl, resource, namespace, "Synced")
        status = kubectl.get_json(resource, "-n", namespace)["status"]
        assert status["arn"] == arn, resource
    environments = batch.describe_compute_environments()["computeEnvironments"]
    queues = batch.describe_job_queues()["jobQueues"]
    assert len(environments) == 2, [ce["computeEnvironmentName"] for ce in environments]
    assert len(queues) == 2, [q["jobQueueName"] for q in queues]
    for ce in environments:
        owner = batch.list_tags_for_resource(resourceArn=ce["computeEnvironmentArn"])["tags"]
        assert owner.get("batchops.io/owner", "").startswith(f"{namespace}/"), owner
    # The pipeline skeleton is commented out: applying an import never starts a run.
    assert kubectl.get_json("bpl", "-n", namespace)["items"] == []


def assert_validate_accepts(path: Path, emulator: Emulator) -> None:
    result = batchops("validate", str(path), emulator=emulator)
    assert "0 errors" in result.stdout, result.stdout


def test_import_from_aws_adopts_existing_compute_environments_and_queues(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
    tmp_path: Path,
) -> None:
    arns = create_like_terraform(
        batch,
        queues={"queue_72": "env_72", "queue_simple": "env_simple"},
        ce_types={
            "env_72": ["c5.18xlarge", "m5.24xlarge", "m5.12xlarge"],
            "env_simple": ["r3.xlarge"],
        },
    )
    imported = batchops(
        "import",
        "--from-aws",
        f"--namespace={namespace}",
        f"--region={REGION}",
        f"--aws-endpoint-url={emulator.url}",
        emulator=emulator,
    )
    assert "REPLACE-ME" not in imported.stdout  # AWS knows every value
    manifest = tmp_path / "imported.yaml"
    manifest.write_text(imported.stdout)
    assert_validate_accepts(manifest, emulator)

    kubectl.run("apply", "-f", str(manifest))

    assert_adopted(
        kubectl,
        namespace,
        batch,
        {
            "bce/env-72": arns["env_72"],
            "bce/env-simple": arns["env_simple"],
            "bjq/queue-72": arns["queue_72"],
            "bjq/queue-simple": arns["queue_simple"],
        },
    )


def test_import_from_terraform_adopts_what_the_walkthrough_batch_tf_created(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
    tmp_path: Path,
) -> None:
    # batch.tf names the second compute environment "env_simples" (sic).
    arns = create_like_terraform(
        batch,
        queues={"queue_72": "env_72", "queue_simple": "env_simples"},
        ce_types={
            "env_72": ["c5.18xlarge", "m5.24xlarge", "m5.12xlarge"],
            "env_simples": ["r3.xlarge"],
        },
    )
    imported = batchops(
        "import",
        "--from-terraform",
        str(WALKTHROUGH_TF),
        f"--namespace={namespace}",
        f"--region={REGION}",
        emulator=emulator,
        exit_code=1,  # imported, with placeholders for the data sources a human must fill
    )
    for placeholder in PLACEHOLDER_VALUES:
        assert placeholder in imported.stderr  # listed for review
    # The user edits the file: every placeholder of the objects to apply gets its real value.
    edited = imported.stdout
    for placeholder, value in PLACEHOLDER_VALUES.items():
        edited = edited.replace(placeholder, value)
    assert "REPLACE-ME" not in json.dumps(list(yaml.safe_load_all(edited)))
    manifest = tmp_path / "imported.yaml"
    manifest.write_text(edited)
    assert_validate_accepts(manifest, emulator)

    kubectl.run("apply", "-f", str(manifest))

    assert_adopted(
        kubectl,
        namespace,
        batch,
        {
            "bce/env-72": arns["env_72"],
            "bce/env-simple": arns["env_simples"],
            "bjq/queue-72": arns["queue_72"],
            "bjq/queue-simple": arns["queue_simple"],
        },
    )


def test_import_from_aws_adopts_a_scheduling_policy_its_queue_and_a_consumable_resource(
    kubectl: Kubectl,
    namespace: str,
    operator: OperatorProcess,
    emulator: Emulator,
    batch: Any,
    tmp_path: Path,
) -> None:
    # Made outside batchops, as Terraform's aws_batch_scheduling_policy, aws_batch_job_queue
    # (scheduling_policy_arn) and aws_batch_consumable_resource would make them.
    arns = create_like_terraform(batch, queues={}, ce_types={"env_fair": ["m5.large"]})
    policy_arn = batch.create_scheduling_policy(
        name="teams_fair",
        fairsharePolicy={
            "shareDecaySeconds": 3600,
            "computeReservation": 10,
            "shareDistribution": [
                {"shareIdentifier": "etl", "weightFactor": 0.5},
                {"shareIdentifier": "adhoc", "weightFactor": 2},
            ],
        },
        tags={"team": "etl"},
    )["arn"]
    queue_arn = batch.create_job_queue(
        jobQueueName="queue_fair",
        state="ENABLED",
        priority=10,
        schedulingPolicyArn=policy_arn,
        computeEnvironmentOrder=[{"order": 0, "computeEnvironment": arns["env_fair"]}],
    )["jobQueueArn"]
    wait_for(lambda: all_valid(batch, "job_queues"), message="the queue to be VALID")
    resource_arn = batch.create_consumable_resource(
        consumableResourceName="licence_seats", totalQuantity=3, resourceType="REPLENISHABLE"
    )["consumableResourceArn"]
    batch.register_job_definition(
        jobDefinitionName="licensed",
        type="container",
        containerProperties={
            "image": "busybox",
            "command": ["true"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
        consumableResourceProperties={
            "consumableResourceList": [{"consumableResource": "licence_seats", "quantity": 1}]
        },
    )

    imported = batchops(
        "import",
        "--from-aws",
        f"--namespace={namespace}",
        f"--region={REGION}",
        f"--aws-endpoint-url={emulator.url}",
        emulator=emulator,
    )
    documents = {d["metadata"]["name"]: d for d in yaml.safe_load_all(imported.stdout) if d}
    assert documents["queue-fair"]["spec"]["schedulingPolicy"] == {"ref": "teams-fair"}
    assert documents["teams-fair"]["kind"] == "BatchSchedulingPolicy"
    assert documents["licence-seats"]["kind"] == "BatchConsumableResource"
    assert "REPLACE-ME" not in imported.stdout
    # The pipeline skeleton (commented out) claims the imported resource by ref.
    skeleton = imported.stdout[imported.stdout.index("# kind: BatchPipeline") :]
    claim = "#     consumableResources:\n#     - ref: licence-seats\n#       quantity: 1\n"
    assert claim in skeleton
    manifest = tmp_path / "imported.yaml"
    manifest.write_text(imported.stdout)
    assert_validate_accepts(manifest, emulator)

    kubectl.run("apply", "-f", str(manifest))

    for resource, arn in {
        "bce/env-fair": arns["env_fair"],
        "bsp/teams-fair": policy_arn,
        "bjq/queue-fair": queue_arn,
        "bcr/licence-seats": resource_arn,
    }.items():
        wait_condition(kubectl, resource, namespace, "Ready")
        wait_condition(kubectl, resource, namespace, "Synced")
        assert kubectl.get_json(resource, "-n", namespace)["status"]["arn"] == arn, resource
    # Adopted, not duplicated: one of each in AWS, the queue still on the same policy ARN.
    assert batch.list_scheduling_policies()["schedulingPolicies"] == [{"arn": policy_arn}]
    resources = batch.list_consumable_resources()["consumableResources"]
    assert [r["consumableResourceArn"] for r in resources] == [resource_arn]
    (queue,) = batch.describe_job_queues()["jobQueues"]
    assert queue["schedulingPolicyArn"] == policy_arn
    assert len(batch.describe_compute_environments()["computeEnvironments"]) == 1
    for arn in (policy_arn, resource_arn):
        tags = batch.list_tags_for_resource(resourceArn=arn)["tags"]
        assert tags.get("batchops.io/owner", "").startswith(f"{namespace}/"), tags
    described = batch.describe_scheduling_policies(arns=[policy_arn])["schedulingPolicies"][0]
    weights = {
        s["shareIdentifier"]: s["weightFactor"]
        for s in described["fairsharePolicy"]["shareDistribution"]
    }
    assert weights == {"etl": 0.5, "adhoc": 2}  # nothing rewritten on adoption
