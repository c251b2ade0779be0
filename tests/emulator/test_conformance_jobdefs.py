"""Job definitions behave as the AWS Batch documentation says.

Sources: user guide "Job definition parameters" (the first registration of a name is revision 1,
each later one the next revision), API reference DeregisterJobDefinition and
DescribeJobDefinitions (jobDefinitions takes `name:revision` or ARNs; jobDefinitionName and
status filter).
"""

from __future__ import annotations

from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import JobDefinitionTypeDef

from tests.emulator.waits import register

ARN_PREFIX = "arn:aws:batch:us-east-1:123456789012:job-definition/"


def revisions(found: list[JobDefinitionTypeDef]) -> dict[int, str]:
    """revision -> status of the job definitions found."""
    return {jd["revision"]: jd["status"] for jd in found}


def test_registering_a_name_creates_revision_one_then_two(batch: BatchClient) -> None:
    first = batch.register_job_definition(
        jobDefinitionName="etl",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "vcpus": 1, "memory": 128},
    )
    second = batch.register_job_definition(
        jobDefinitionName="etl",
        type="container",
        containerProperties={"image": "busybox", "command": ["true"], "vcpus": 1, "memory": 128},
    )

    assert (first["revision"], second["revision"]) == (1, 2)
    assert first["jobDefinitionArn"] == f"{ARN_PREFIX}etl:1"
    assert second["jobDefinitionArn"] == f"{ARN_PREFIX}etl:2"


def test_deregistered_revision_is_inactive(batch: BatchClient) -> None:
    arn = register(batch, "etl")

    batch.deregister_job_definition(jobDefinition=arn)

    found = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"]
    assert revisions(found) == {1: "INACTIVE"}


def test_describe_job_definitions_filters_by_name_and_status(batch: BatchClient) -> None:
    register(batch, "etl")
    register(batch, "etl")
    register(batch, "other")
    batch.deregister_job_definition(jobDefinition="etl:1")

    by_name = batch.describe_job_definitions(jobDefinitionName="etl")["jobDefinitions"]
    active = batch.describe_job_definitions(jobDefinitionName="etl", status="ACTIVE")[
        "jobDefinitions"
    ]
    inactive = batch.describe_job_definitions(jobDefinitionName="etl", status="INACTIVE")[
        "jobDefinitions"
    ]

    assert {jd["jobDefinitionName"] for jd in by_name} == {"etl"}
    assert revisions(by_name) == {1: "INACTIVE", 2: "ACTIVE"}
    assert revisions(active) == {2: "ACTIVE"}
    assert revisions(inactive) == {1: "INACTIVE"}


def test_describe_job_definitions_by_name_and_revision_and_by_arn(batch: BatchClient) -> None:
    register(batch, "etl")
    second_arn = register(batch, "etl")
    other_arn = register(batch, "other")

    by_revision = batch.describe_job_definitions(jobDefinitions=["etl:1"])["jobDefinitions"]
    by_arn = batch.describe_job_definitions(jobDefinitions=[second_arn, other_arn])[
        "jobDefinitions"
    ]

    assert [jd["jobDefinitionArn"] for jd in by_revision] == [f"{ARN_PREFIX}etl:1"]
    assert {jd["jobDefinitionArn"] for jd in by_arn} == {second_arn, other_arn}
    assert {jd["revision"] for jd in by_arn} == {2, 1}
