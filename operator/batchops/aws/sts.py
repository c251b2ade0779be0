"""STS: assuming a BatchAccount's role, and asking who a set of credentials is.

Every call goes through `invoke` like the Batch calls (translated, counted). The credential
cache in `session.py` is the only caller of `assume_role`; `caller_identity` tells the
BatchAccount loop the account id its role resolves to, and the operator its own account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchops.aws.calls import CALLS, CallCounter, invoke
from batchops.model.account import AssumedRole

if TYPE_CHECKING:
    from mypy_boto3_sts.client import STSClient
    from mypy_boto3_sts.type_defs import AssumeRoleRequestTypeDef


@dataclass(frozen=True)
class IssuedCredentials:
    """Temporary credentials STS handed out."""

    access_key: str
    secret_key: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class CallerIdentity:
    """GetCallerIdentity's answer."""

    account_id: str
    arn: str


class StsApi:
    """One STS client (the operator's own identity for AssumeRole)."""

    def __init__(self, client: STSClient, counter: CallCounter = CALLS) -> None:
        self._client = client
        self._counter = counter

    def assume_role(self, role: AssumedRole) -> IssuedCredentials:
        """AssumeRole with the account's external id, session name, tags and duration."""
        request: AssumeRoleRequestTypeDef = {
            "RoleArn": role.role_arn,
            "RoleSessionName": role.session_name,
            "DurationSeconds": role.duration_seconds,
        }
        if role.external_id:
            request["ExternalId"] = role.external_id
        if role.session_tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in role.session_tags]
        response = invoke("AssumeRole", lambda: self._client.assume_role(**request), self._counter)
        credentials = response["Credentials"]
        return IssuedCredentials(
            access_key=credentials["AccessKeyId"],
            secret_key=credentials["SecretAccessKey"],
            token=credentials["SessionToken"],
            expires_at=credentials["Expiration"],
        )

    def caller_identity(self) -> CallerIdentity:
        """The account and ARN of the credentials the client signs with."""
        response = invoke(
            "GetCallerIdentity", lambda: self._client.get_caller_identity(), self._counter
        )
        return CallerIdentity(account_id=response["Account"], arn=response["Arn"])
