"""Credentials of a BatchAccount's role: assumed on first use, renewed ahead of expiry, and after
a refusal asked for again only after a backoff (aws/session.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from batchops.aws.errors import AssumeRoleFailed, Retryable, Terminal
from batchops.aws.session import (
    AwsSettings,
    RoleCredentials,
    ServiceName,
    client_for,
    role_credentials,
)
from batchops.aws.sts import IssuedCredentials
from batchops.model.account import AssumedRole

ROLE = AssumedRole("arn:aws:iam::111111111111:role/batchops/team-a", "ext-a")


class FakeSts:
    """AssumeRole on a clock the test moves: each answer lasts `lifetime` seconds."""

    def __init__(self, lifetime: float = 1000.0) -> None:
        self.now = 0.0
        self.lifetime = lifetime
        self.calls = 0
        self.refuse: Exception | None = None

    def assume(self, role: AssumedRole) -> IssuedCredentials:
        self.calls += 1
        if self.refuse is not None:
            raise self.refuse
        expires = datetime.fromtimestamp(self.now + self.lifetime, UTC)
        return IssuedCredentials(f"ASIA{self.calls}", "secret", "token", expires)


def credentials(sts: FakeSts) -> RoleCredentials:
    return RoleCredentials(ROLE, sts.assume, clock=lambda: sts.now, jitter=lambda: 1.0)


def test_credentials_are_assumed_once_and_renewed_a_quarter_of_their_lifetime_ahead() -> None:
    sts = FakeSts(lifetime=1000)
    role = credentials(sts)
    assert role.get_frozen_credentials().access_key == "ASIA1"
    sts.now = 740.0
    assert role.get_frozen_credentials().access_key == "ASIA1"
    assert sts.calls == 1
    sts.now = 760.0  # 240 s left of 1000: renewed while the old ones still work
    assert role.get_frozen_credentials().access_key == "ASIA2"
    assert role.assumed_at == datetime.fromtimestamp(760.0, UTC)


def test_long_sessions_are_renewed_five_minutes_ahead() -> None:
    sts = FakeSts(lifetime=3600)
    role = credentials(sts)
    role.get_frozen_credentials()
    sts.now = 3600 - 301
    role.get_frozen_credentials()
    assert sts.calls == 1
    sts.now = 3600 - 299
    role.get_frozen_credentials()
    assert sts.calls == 2


def refused() -> Terminal:
    return Terminal(
        "AssumeRole",
        "AccessDenied",
        "User: x is not authorized to perform: sts:AssumeRole",
        403,
        "AccessDenied",
    )


def test_a_refused_role_names_the_role_and_sts_is_asked_again_only_after_a_backoff() -> None:
    sts = FakeSts()
    sts.refuse = refused()
    role = credentials(sts)
    with pytest.raises(AssumeRoleFailed) as caught:
        role.get_frozen_credentials()
    assert caught.value.reason == "AssumeRoleFailed"
    assert f"cannot assume role {ROLE.role_arn}: User: x is not authorized" in str(caught.value)
    with pytest.raises(AssumeRoleFailed):
        role.get_frozen_credentials()  # within the first backoff: no second STS call
    assert sts.calls == 1
    sts.now = 1.5
    with pytest.raises(AssumeRoleFailed):
        role.get_frozen_credentials()
    assert sts.calls == 2
    sts.now = 3.0  # the second backoff is twice as long
    with pytest.raises(AssumeRoleFailed):
        role.get_frozen_credentials()
    assert sts.calls == 2
    sts.refuse = None  # the admin fixed the trust policy
    sts.now = 100.0
    assert role.get_frozen_credentials().access_key == "ASIA3"


def test_a_failed_renewal_keeps_the_current_credentials_while_they_last() -> None:
    sts = FakeSts(lifetime=100)
    role = credentials(sts)
    role.get_frozen_credentials()
    sts.refuse = Retryable("AssumeRole", "Throttling", "Rate exceeded", 400, "Throttled")
    sts.now = 80.0
    assert role.get_frozen_credentials().access_key == "ASIA1"
    sts.now = 99.5  # past expiry (with a second's slack) and still refused
    with pytest.raises(Retryable) as caught:
        role.get_frozen_credentials()
    assert not isinstance(caught.value, Terminal)


def test_one_credential_cache_serves_every_region_of_a_role() -> None:
    base = AwsSettings(endpoint_url="http://127.0.0.1:1")
    east = role_credentials(base.as_role(ROLE))
    west = role_credentials(base.for_region("eu-west-1").as_role(ROLE))
    other = role_credentials(base.as_role(AssumedRole(ROLE.role_arn, "another-external-id")))
    assert east is west and east is not other


def test_clients_of_every_service_region_and_role_share_one_parse_of_botocores_data() -> None:
    # A loader per client would parse endpoints.json and each service model again (~9 MiB each).
    base = AwsSettings(endpoint_url="http://127.0.0.1:1")
    clients = [
        client_for("batch", base),
        client_for("sqs", base),
        client_for("batch", base.for_region("eu-west-1")),
        client_for("sts", base.as_role(ROLE)),
    ]
    loaders = {id(client._loader) for client in clients}  # type: ignore[attr-defined]
    assert len(loaders) == 1


def test_botocores_endpoint_data_keeps_only_the_services_the_operator_calls() -> None:
    loader = client_for("batch", AwsSettings(endpoint_url="http://127.0.0.1:1"))._loader  # type: ignore[attr-defined]
    partitions = loader.load_data("endpoints")["partitions"]
    assert len(partitions) > 1  # every partition stays, GovCloud and China included
    by_partition = {p["partition"]: set(p["services"]) for p in partitions}
    assert by_partition["aws"] == {"batch", "logs", "sqs", "sts"}
    assert all(services <= {"batch", "logs", "sqs", "sts"} for services in by_partition.values())


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"])
@pytest.mark.parametrize("service", ["batch", "logs", "sqs", "sts"])
def test_clients_reach_the_same_aws_endpoints_as_an_untrimmed_botocore(
    service: ServiceName, region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("AWS_ENDPOINT_URL", f"AWS_ENDPOINT_URL_{service.upper()}"):
        monkeypatch.delenv(variable, raising=False)
    ours = client_for(service, AwsSettings(region=region))
    pristine = boto3.session.Session().client(service, region_name=region)
    assert ours.meta.endpoint_url == pristine.meta.endpoint_url
    assert ours.meta.partition == pristine.meta.partition
