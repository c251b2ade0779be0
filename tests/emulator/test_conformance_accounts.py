"""Several AWS accounts and regions, and STS, behave as AWS documents them.

Sources:
- https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (DurationSeconds 900
  to 43200, ExternalId, Tags need sts:TagSession, AccessDenied on a trust policy that does not
  allow the caller)
- https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html
  (the sts:ExternalId condition)
- https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
- https://docs.aws.amazon.com/batch/latest/APIReference/ (resources and ARNs are per account
  and region)
A request signed with expired temporary credentials is refused with ExpiredToken(Exception),
HTTP 403 ("The security token included in the request is expired").
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from mypy_boto3_batch import BatchClient
from mypy_boto3_batch.type_defs import ComputeResourceTypeDef
from mypy_boto3_sts import STSClient

from batchops.aws.batch import BatchApi
from batchops.aws.session import AwsSettings, caller_identity, client_for
from batchops.local.emulator import DEFAULT_SECURITY_GROUP_ID, DEFAULT_SUBNET_ID, Emulator
from batchops.model.account import AssumedRole
from tests.conftest import REGION, aws_client
from tests.emulator.waits import client_error, create_ce

TEAM = "210987654321"
OPERATOR = "arn:aws:iam::123456789012:role/batchops-operator"


def sts_client(emulator: Emulator) -> STSClient:
    client: STSClient = aws_client("sts", emulator)
    return client


def batch_as(emulator: Emulator, credentials: Any, region: str = REGION) -> BatchClient:
    """A Batch client signing with temporary credentials."""
    client: BatchClient = boto3.client(
        "batch",
        endpoint_url=emulator.url,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return client


def assume(emulator: Emulator, role_arn: str, external_id: str | None = "ext") -> Any:
    kwargs: Any = {"RoleArn": role_arn, "RoleSessionName": "conformance"}
    if external_id is not None:
        kwargs["ExternalId"] = external_id
    return sts_client(emulator).assume_role(**kwargs)["Credentials"]


def resources() -> ComputeResourceTypeDef:
    """EC2 compute resources naming what every emulated account has by the same IDs and names
    (an ARN would name one account's)."""
    return {
        "type": "EC2",
        "minvCpus": 0,
        "maxvCpus": 16,
        "instanceTypes": ["optimal"],
        "subnets": [DEFAULT_SUBNET_ID],
        "securityGroupIds": [DEFAULT_SECURITY_GROUP_ID],
        "instanceRole": "ecsInstanceRole",
    }


def test_an_assumed_role_acts_in_the_roles_account_with_its_own_resources(
    emulator: Emulator, batch: BatchClient
) -> None:
    role = emulator.add_account(TEAM, "team", OPERATOR, "ext", "/batchops/")
    assert role == f"arn:aws:iam::{TEAM}:role/batchops/team"
    credentials = assume(emulator, role)
    team = batch_as(emulator, credentials)
    identity = boto3.client(
        "sts",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).get_caller_identity()
    assert identity["Account"] == TEAM
    assert identity["Arn"] == f"arn:aws:sts::{TEAM}:assumed-role/team/conformance"

    # The new account has the same default network and roles as the default one.
    arn = create_ce(team, "shared-name", resources())
    assert arn == f"arn:aws:batch:{REGION}:{TEAM}:compute-environment/shared-name"
    assert batch.describe_compute_environments()["computeEnvironments"] == []
    # The same name in the default account is another compute environment.
    default_arn = create_ce(batch, "shared-name", resources())
    assert default_arn == f"arn:aws:batch:{REGION}:123456789012:compute-environment/shared-name"
    assert len(team.describe_compute_environments()["computeEnvironments"]) == 1
    assert emulator.counters(TEAM).get("CreateComputeEnvironment") == 1
    assert emulator.counters("123456789012").get("CreateComputeEnvironment") == 1


def test_each_region_has_its_own_batch(emulator: Emulator, batch: BatchClient) -> None:
    create_ce(batch, "east", resources())
    west: BatchClient = boto3.client(
        "batch",
        endpoint_url=emulator.url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert west.describe_compute_environments()["computeEnvironments"] == []
    arn = create_ce(west, "west", resources())
    assert arn.startswith("arn:aws:batch:eu-west-1:123456789012:")


def test_assume_role_is_refused_without_the_external_id_or_for_an_untrusted_caller(
    emulator: Emulator,
) -> None:
    role = emulator.add_account(TEAM, "team", OPERATOR, "ext")
    denied = client_error(lambda: assume(emulator, role, external_id=None))
    assert (denied.code, denied.http_status) == ("AccessDenied", 403)
    assert denied.message == (
        "User: arn:aws:sts::123456789012:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {role}"
    )
    assert client_error(lambda: assume(emulator, role, "wrong")).code == "AccessDenied"
    missing = f"arn:aws:iam::{TEAM}:role/nobody"
    assert client_error(lambda: assume(emulator, missing)).code == "AccessDenied"
    # A role trusting another account does not trust this caller.
    stranger = emulator.add_account(TEAM, "stranger", "arn:aws:iam::999999999999:root", "ext")
    assert client_error(lambda: assume(emulator, stranger)).code == "AccessDenied"


def test_session_tags_need_tag_session_and_durations_follow_aws(emulator: Emulator) -> None:
    role = emulator.add_account(TEAM, "team", OPERATOR, "ext")
    sts = sts_client(emulator)
    tags: Any = [{"Key": "team", "Value": "b"}]
    tagged = sts.assume_role(RoleArn=role, RoleSessionName="tagged", ExternalId="ext", Tags=tags)
    assert tagged["Credentials"]["AccessKeyId"].startswith("ASIA")
    # A role whose trust policy allows sts:AssumeRole only, made in the team's account by the
    # team (IAM with the assumed role's credentials).
    credentials = tagged["Credentials"]
    iam = boto3.client(
        "iam",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": OPERATOR}, "Action": "sts:AssumeRole"}
        ],
    }
    plain = iam.create_role(RoleName="no-tags", AssumeRolePolicyDocument=json.dumps(trust))
    assert plain["Role"]["Arn"] == f"arn:aws:iam::{TEAM}:role/no-tags"
    untagged = sts.assume_role(RoleArn=plain["Role"]["Arn"], RoleSessionName="plain")
    assert untagged["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{TEAM}:")
    refused = client_error(
        lambda: sts.assume_role(RoleArn=plain["Role"]["Arn"], RoleSessionName="tagged", Tags=tags)
    )
    assert refused.code == "AccessDenied" and "sts:TagSession" in refused.message
    # botocore checks the 900 s minimum itself; unchecked, STS refuses it too.
    unchecked: STSClient = boto3.client(
        "sts",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    too_short = client_error(
        lambda: unchecked.assume_role(
            RoleArn=role, RoleSessionName="short", ExternalId="ext", DurationSeconds=60
        )
    )
    assert too_short.code == "ValidationError"
    assert "greater than or equal to 900" in too_short.message


def test_credentials_expire_after_the_capped_session_duration(emulator: Emulator) -> None:
    role = emulator.add_account(TEAM, "team", OPERATOR, "ext")
    emulator.set_session_duration(1)
    credentials = assume(emulator, role)
    issued = credentials["Expiration"].timestamp() - time.time()
    assert issued <= 1.0
    team = batch_as(emulator, credentials)
    assert team.describe_compute_environments()["computeEnvironments"] == []
    time.sleep(max(0.0, issued) + 0.2)  # wall-clock expiry is what this test is about
    expired = client_error(team.describe_compute_environments)
    assert (expired.code, expired.http_status) == ("ExpiredTokenException", 403)
    assert expired.message == "The security token included in the request is expired"


def test_a_reset_keeps_sessions_in_their_account(emulator: Emulator) -> None:
    role = emulator.add_account(TEAM, "team", OPERATOR, "ext")
    team = batch_as(emulator, assume(emulator, role))
    create_ce(team, "before", resources())
    emulator.reset()
    # Credentials outlive the reset and still act in their account (now empty), never in the
    # default one.
    assert team.describe_compute_environments()["computeEnvironments"] == []
    assert emulator.counters(TEAM) == {"DescribeComputeEnvironments": 1}


def test_the_operators_clients_reach_an_account_through_its_role(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The operator's own identity (what assumes the role) comes from the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    role = emulator.add_account(TEAM, "operator-view", OPERATOR, "ext-op")
    settings = AwsSettings(endpoint_url=emulator.url, max_attempts=1).as_role(
        AssumedRole(role, "ext-op", "batchops")
    )
    assert caller_identity(settings).account_id == TEAM
    api = BatchApi(client_for("batch", settings))
    assert api.describe_all_compute_environments() == []
    assert emulator.counters(TEAM) == {"DescribeComputeEnvironments": 1}
    assert emulator.counters()["sts:AssumeRole"] == 1
