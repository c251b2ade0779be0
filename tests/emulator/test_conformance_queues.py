"""Job queues behave as the AWS Batch documentation says.

Sources:
- at most three compute environments, all VALID, EC2 and Fargate never mixed: API reference
  CreateJobQueue / ComputeEnvironmentOrder, and the user guide "Job queues on Fargate",
  https://docs.aws.amazon.com/batch/latest/userguide/fargate-job-queues.html (the limit of three
  is also quoted in hashicorp/terraform-provider-aws#20764);
- a DISABLED queue accepts no new jobs; delete needs DISABLED; deleting a queue eventually
  terminates its jobs: API reference UpdateJobQueue and DeleteJobQueue.
No public report quotes the messages of these rejections, so the tests assert the error class
(ClientException, HTTP 400) and that nothing changed, not the wording.
"""

from __future__ import annotations

import pytest
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator
from tests.emulator.waits import (
    DefaultAccount,
    client_error,
    create_ce,
    create_queue,
    default_account,
    ec2_resources,
    fargate_resources,
    find_queue,
    queue_status,
    register,
    wait_ce_status,
    wait_job_status,
    wait_queue_status,
    wait_until,
)

OBSERVABLE_SPEED = 2.0


def _assert_rejected_and_not_created(batch: BatchClient, error_code: str, name: str) -> None:
    assert error_code == "ClientException"
    assert find_queue(batch, name) is None


def _create_queue_over(batch: BatchClient, name: str, *ces: str) -> None:
    batch.create_job_queue(
        jobQueueName=name,
        priority=1,
        computeEnvironmentOrder=[
            {"order": order, "computeEnvironment": ce} for order, ce in enumerate(ces, 1)
        ],
    )


def test_new_job_queue_is_creating_then_valid(batch: BatchClient, emulator: Emulator) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    emulator.set_speed(OBSERVABLE_SPEED)

    arn = batch.create_job_queue(
        jobQueueName="q",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ce"}],
    )["jobQueueArn"]

    assert arn == "arn:aws:batch:us-east-1:123456789012:job-queue/q"
    assert queue_status(batch, "q") == "CREATING"
    wait_queue_status(batch, "q", "VALID")
    detail = find_queue(batch, "q")
    assert detail is not None
    assert detail["state"] == "ENABLED"


def test_queue_with_more_than_three_compute_environments_is_rejected(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    for name in ("a", "b", "c", "d"):
        create_ce(batch, name, ec2_resources(account))

    error = client_error(lambda: _create_queue_over(batch, "four", "a", "b", "c", "d"))

    _assert_rejected_and_not_created(batch, error.code, "four")
    create_queue(batch, "three", "a", "b", "c")


def test_queue_over_a_compute_environment_that_is_not_yet_valid_is_rejected(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    emulator.set_speed(OBSERVABLE_SPEED)
    batch.create_compute_environment(
        computeEnvironmentName="creating", type="MANAGED", computeResources=ec2_resources(account)
    )

    error = client_error(lambda: _create_queue_over(batch, "q", "creating"))

    _assert_rejected_and_not_created(batch, error.code, "q")


def test_queue_over_an_invalid_compute_environment_is_rejected(
    batch: BatchClient, emulator: Emulator
) -> None:
    resources = ec2_resources(default_account(emulator))
    resources["subnets"] = ["subnet-00000000000000bad"]
    batch.create_compute_environment(
        computeEnvironmentName="broken", type="MANAGED", computeResources=resources
    )
    wait_ce_status(batch, "broken", "INVALID")

    error = client_error(lambda: _create_queue_over(batch, "q", "broken"))

    _assert_rejected_and_not_created(batch, error.code, "q")


@pytest.mark.parametrize("spot", [False, True], ids=["EC2", "SPOT"])
def test_queue_mixing_ec2_and_fargate_compute_environments_is_rejected(
    batch: BatchClient, emulator: Emulator, spot: bool
) -> None:
    account: DefaultAccount = default_account(emulator)
    create_ce(batch, "ec2", ec2_resources(account, spot=spot, allocation_strategy="BEST_FIT"))
    create_ce(batch, "fargate", fargate_resources(account))

    error = client_error(lambda: _create_queue_over(batch, "q", "ec2", "fargate"))

    _assert_rejected_and_not_created(batch, error.code, "q")


def test_queue_priority_state_and_order_update_in_place(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "a", ec2_resources(account))
    create_ce(batch, "b", ec2_resources(account))
    arn = create_queue(batch, "q", "a", "b", priority=10)

    batch.update_job_queue(
        jobQueue="q",
        priority=99,
        state="DISABLED",
        computeEnvironmentOrder=[
            {"order": 1, "computeEnvironment": "b"},
            {"order": 2, "computeEnvironment": "a"},
        ],
    )

    wait_queue_status(batch, "q", "VALID")
    detail = find_queue(batch, "q")
    assert detail is not None
    assert detail["jobQueueArn"] == arn
    assert (detail["priority"], detail["state"]) == (99, "DISABLED")
    order = sorted(detail["computeEnvironmentOrder"], key=lambda entry: entry["order"])
    assert [entry["computeEnvironment"].rsplit("/", 1)[-1] for entry in order] == ["b", "a"]


def test_deleting_an_enabled_queue_fails_until_it_is_disabled(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")

    error = client_error(lambda: batch.delete_job_queue(jobQueue="q"))

    assert error.code == "ClientException"
    assert queue_status(batch, "q") == "VALID"
    batch.update_job_queue(jobQueue="q", state="DISABLED")
    wait_queue_status(batch, "q", "VALID")
    batch.delete_job_queue(jobQueue="q")
    wait_queue_status(batch, "q", None)


def test_submitting_to_a_disabled_queue_is_rejected(batch: BatchClient, emulator: Emulator) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce", state="DISABLED")
    register(batch, "jd")

    error = client_error(lambda: batch.submit_job(jobName="late", jobQueue="q", jobDefinition="jd"))

    assert error.code == "ClientException"


def test_jobs_of_a_deleted_queue_are_terminated(batch: BatchClient, emulator: Emulator) -> None:
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")
    register(batch, "jd")
    emulator.set_scenario(rules=[{"jobName": "endless", "durationSeconds": 3600}])
    job_id = batch.submit_job(jobName="endless", jobQueue="q", jobDefinition="jd")["jobId"]
    wait_job_status(batch, job_id, "RUNNING")

    batch.update_job_queue(jobQueue="q", state="DISABLED")
    wait_queue_status(batch, "q", "VALID")
    batch.delete_job_queue(jobQueue="q")

    wait_job_status(batch, job_id, "FAILED")
    wait_until(lambda: queue_status(batch, "q") is None, "queue q gone")


# --- jobQueueType ------------------------------------------------------------------------------
# API reference CreateJobQueue.jobQueueType: "For regular container jobs, this value is EKS, ECS,
# or ECS_FARGATE depending on the compute environment"; UpdateJobQueue has no such member.


def _create_eks_ce(batch: BatchClient, account: DefaultAccount, name: str) -> None:
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        computeResources={
            **ec2_resources(account, instance_types=("m5",)),
            "ec2Configuration": [{"imageType": "EKS_AL2023"}],
        },
        eksConfiguration={
            "eksClusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/batch",
            "kubernetesNamespace": "batch-jobs",
        },
    )
    wait_ce_status(batch, name, "VALID")


def test_job_queue_type_follows_the_compute_environments(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ec2", ec2_resources(account))
    create_ce(batch, "fargate", fargate_resources(account))
    _create_eks_ce(batch, account, "eks")
    for ce, expected in (("ec2", "ECS"), ("fargate", "ECS_FARGATE"), ("eks", "EKS")):
        create_queue(batch, f"q-{ce}", ce)

        queue = find_queue(batch, f"q-{ce}")
        assert queue is not None and queue.get("jobQueueType") == expected


def test_a_job_queue_type_its_compute_environments_contradict_is_a_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    create_ce(batch, "ec2", ec2_resources(default_account(emulator)))

    error = client_error(
        lambda: batch.create_job_queue(
            jobQueueName="q",
            priority=1,
            jobQueueType="EKS",
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "ec2"}],
        )
    )

    _assert_rejected_and_not_created(batch, error.code, "q")


def test_a_job_queue_over_eks_and_ecs_compute_environments_is_a_client_exception(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ec2", ec2_resources(account))
    _create_eks_ce(batch, account, "eks")

    error = client_error(lambda: _create_queue_over(batch, "q", "ec2", "eks"))

    _assert_rejected_and_not_created(batch, error.code, "q")


def test_a_queue_keeps_its_type_when_its_compute_environments_change(
    batch: BatchClient, emulator: Emulator
) -> None:
    account = default_account(emulator)
    create_ce(batch, "ec2", ec2_resources(account))
    _create_eks_ce(batch, account, "eks")
    create_queue(batch, "q", "ec2")

    error = client_error(
        lambda: batch.update_job_queue(
            jobQueue="q", computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "eks"}]
        )
    )

    assert error.code == "ClientException"
    queue = find_queue(batch, "q")
    assert queue is not None and queue["jobQueueType"] == "ECS"
    assert queue["computeEnvironmentOrder"][0]["computeEnvironment"].endswith("/ec2")
