"""boto3 clients: one per (service, settings) — so per account and region — shared by every
thread.

boto3 clients are thread-safe once built, but building them from a shared Session is not, so
clients are created under a lock, each from its own Session, and then reused for the life of
the process (the operator calls AWS from asyncio's thread pool).

Settings with a `role` act in a BatchAccount: their clients sign with credentials from STS
AssumeRole, made with the operator's own identity. One `RoleCredentials` per role serves every
region and service of it: it assumes the role on first use, again before the credentials
expire (a quarter of their lifetime ahead, at most five minutes), and after a refused or failed
AssumeRole waits with exponential backoff before asking STS again, so a broken trust policy
costs one STS call per backoff step, not one per reconcile pass.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args, overload

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials

from batchops.aws.calls import THROTTLED_ATTEMPTS
from batchops.aws.errors import AssumeRoleFailed, AwsError, Terminal
from batchops.aws.sts import CallerIdentity, IssuedCredentials, StsApi
from batchops.model.account import AssumedRole

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_logs.client import CloudWatchLogsClient
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sts.client import STSClient

ServiceName = Literal["batch", "logs", "sqs", "sts"]

logger = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsSettings:
    """Where and how to call AWS; hashable, so it keys the client cache."""

    region: str = DEFAULT_REGION
    """The operator's default region (objects may name another: see `for_region`)."""
    endpoint_url: str | None = None
    """The local emulator, or None for real AWS (boto3 then still honours $AWS_ENDPOINT_URL)."""
    max_attempts: int = 5
    """HTTP attempts per call, including the first, under botocore's adaptive retry mode."""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    """Above SQS's 20 s long poll, so an idle event queue is not a timeout."""
    max_pool_connections: int = 48
    """The operator's 32 pass threads and 16 short-call threads, each possibly mid-call."""
    role: AssumedRole | None = None
    """A BatchAccount's role to act as; None: the operator's own identity."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AwsSettings:
        """Settings from the standard variables: AWS_REGION / AWS_DEFAULT_REGION and
        AWS_ENDPOINT_URL."""
        env = os.environ if environ is None else environ
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        )

    def for_region(self, region: str | None) -> AwsSettings:
        """The same settings in another region (None keeps the default)."""
        return (
            self
            if not region or region == self.region
            else dataclasses.replace(self, region=region)
        )

    def as_role(self, role: AssumedRole | None) -> AwsSettings:
        """The same settings acting as `role` (None: the operator's own identity)."""
        return self if role == self.role else dataclasses.replace(self, role=role)

    @property
    def own(self) -> AwsSettings:
        """These settings with the operator's own identity (what assumes the roles)."""
        return self.as_role(None)

    def botocore_config(self) -> Config:
        """Client configuration: adaptive retries (client-side rate limiting once AWS throttles),
        bounded timeouts, a connection pool sized for the thread pool."""
        return Config(
            region_name=self.region,
            retries={"mode": "adaptive", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=self.max_pool_connections,
            user_agent_extra="batchops",
        )


_lock = threading.RLock()  # a role's client is built under it, and looks up its credentials
_clients: dict[tuple[ServiceName, AwsSettings], object] = {}


@overload
def client_for(service: Literal["batch"], settings: AwsSettings) -> BatchClient: ...
@overload
def client_for(service: Literal["logs"], settings: AwsSettings) -> CloudWatchLogsClient: ...
@overload
def client_for(service: Literal["sqs"], settings: AwsSettings) -> SQSClient: ...
@overload
def client_for(service: Literal["sts"], settings: AwsSettings) -> STSClient: ...
def client_for(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient | STSClient:
    """The process's client for `service` with these settings, created on first use."""
    key = (service, settings)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _create(service, settings)
    return client  # type: ignore[return-value]  # the key's service fixes the client type


def _create(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient | STSClient:
    client = _build(service, settings)
    client.meta.events.register("response-received", THROTTLED_ATTEMPTS.on_response)
    return client


def _build(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient | STSClient:
    session = _session(settings)
    config = settings.botocore_config()
    # Spelled out per service so boto3-stubs can type each client.
    if service == "batch":
        return session.client(
            "batch", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
        )
    if service == "logs":
        return session.client(
            "logs", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
        )
    if service == "sts":
        return session.client(
            "sts", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
        )
    return session.client(
        "sqs", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
    )


def _session(settings: AwsSettings) -> boto3.session.Session:
    """A Session of its own per client: the default credential chain, or the role's. All of
    them read botocore's data files through one loader."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    if settings.role is not None:
        resolver = core.get_component("credential_provider")
        resolver.insert_before("env", _RoleProvider(role_credentials(settings)))
    return boto3.session.Session(botocore_session=core)


_loader: botocore.loaders.Loader | None = None


def _shared_loader() -> botocore.loaders.Loader:
    # Each Session's own loader would parse endpoints.json, the partitions and each service
    # model again and keep them: about 9 MiB per client, measured. Called under `_lock`; the
    # loader itself only caches what it parsed (a race parses a file twice, nothing worse).
    global _loader
    if _loader is None:
        _loader = botocore.loaders.create_loader()
        keep_only_our_endpoints(_loader.load_data("endpoints"), get_args(ServiceName))
    return _loader


def keep_only_our_endpoints(endpoints: Mapping[str, Any], services: Iterable[str]) -> None:
    """Remove from botocore's endpoint data (endpoints.json, as its loader parsed and caches it)
    every service but `services`, in every partition. Parsed into OrderedDicts, the data of
    some 300 services a partition in eight partitions is the largest thing the operator holds
    at rest: 6.9 MiB of its 93 MiB idle RSS, measured with tracemalloc, for four services.
    Regions, partitions and our services' entries stay as botocore ships them."""
    wanted = set(services)
    for partition in endpoints.get("partitions", []):
        listed = partition.get("services", {})
        for name in [name for name in listed if name not in wanted]:
            del listed[name]


# --- credentials of a BatchAccount's role ------------------------------------------------------

REFRESH_SHARE = 0.25
"""Credentials are renewed when less than this share of their lifetime is left..."""
REFRESH_MAX_SECONDS = 300.0
"""... or less than five minutes, whichever comes first."""
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0
"""After a failed AssumeRole, STS is asked again after 1, 2, 4 ... up to 300 seconds."""
EXPIRY_SLACK_SECONDS = 1.0
"""Credentials this close to expiry are not handed out any more (a request takes time)."""


class RoleCredentials(Credentials):
    """botocore credentials that assume a role on demand and renew themselves ahead of expiry.

    Thread-safe. Signing a request calls `get_frozen_credentials`; while the current credentials
    are fresh that is a read, otherwise one thread renews them (the others wait, or keep using
    the current ones while they remain valid). A failed AssumeRole raises `AssumeRoleFailed`
    (or `Retryable` when STS throttled or failed) out of the AWS call being signed, unless the
    current credentials are still valid; then they are used and the renewal is tried again
    after the backoff.
    """

    method = "batchops-assume-role"

    def __init__(
        self,
        role: AssumedRole,
        assume: Callable[[AssumedRole], IssuedCredentials],
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        # No super().__init__(): the key properties below replace its attributes.
        self.role = role
        self._assume = assume
        self._clock = clock
        self._jitter = jitter
        self._lock = threading.Lock()
        self._issued: IssuedCredentials | None = None
        self._issued_at = 0.0
        self._refresh_at = 0.0
        self._failures = 0
        self._retry_at = 0.0
        self._last_error: AwsError | None = None

    @property
    def access_key(self) -> str:
        return str(self.get_frozen_credentials().access_key)

    @access_key.setter
    def access_key(self, value: str) -> None:
        raise AttributeError("role credentials renew themselves")

    @property
    def secret_key(self) -> str:
        return str(self.get_frozen_credentials().secret_key)

    @secret_key.setter
    def secret_key(self, value: str) -> None:
        raise AttributeError("role credentials renew themselves")

    @property
    def token(self) -> str:
        return str(self.get_frozen_credentials().token)

    @token.setter
    def token(self, value: str) -> None:
        raise AttributeError("role credentials renew themselves")

    @property
    def account_id(self) -> str:
        return self.role.account_id

    @property
    def assumed_at(self) -> datetime | None:
        """When the credentials in use were issued (None before the first success)."""
        with self._lock:
            issued = self._issued_at if self._issued is not None else None
        return None if issued is None else datetime.fromtimestamp(issued, UTC)

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        """The current key, secret and token, renewed first when due."""
        now = self._clock()
        issued = self._issued
        if issued is not None and now < self._refresh_at:
            return self._frozen(issued)
        with self._lock:
            return self._frozen(self._renewed(self._clock()))

    def _renewed(self, now: float) -> IssuedCredentials:
        current = self._issued
        if current is not None and now < self._refresh_at:
            return current  # another thread renewed them meanwhile
        usable = current is not None and now < current.expires_at.timestamp() - EXPIRY_SLACK_SECONDS
        if now < self._retry_at and self._last_error is not None:
            if usable and current is not None:
                return current
            raise self._last_error
        try:
            fresh = self._assume(self.role)
        except AwsError as exc:
            error = _assume_role_error(self.role, exc)
            self._failures += 1
            step = BACKOFF_FIRST_SECONDS * 2 ** (self._failures - 1)
            self._retry_at = now + min(BACKOFF_MAX_SECONDS, step) * (0.5 + self._jitter() / 2)
            self._last_error = error
            if usable and current is not None:
                logger.warning(f"renewing credentials failed, using the current ones: {error}")
                return current
            raise error from exc
        lifetime = max(0.0, fresh.expires_at.timestamp() - now)
        self._issued, self._issued_at = fresh, now
        self._refresh_at = now + lifetime - min(REFRESH_MAX_SECONDS, lifetime * REFRESH_SHARE)
        self._failures, self._retry_at, self._last_error = 0, 0.0, None
        return fresh

    @staticmethod
    def _frozen(issued: IssuedCredentials) -> ReadOnlyCredentials:
        return ReadOnlyCredentials(issued.access_key, issued.secret_key, issued.token)


def _assume_role_error(role: AssumedRole, exc: AwsError) -> AwsError:
    """A refusal names the role; a throttled or failed STS stays retryable as it was."""
    if not isinstance(exc, Terminal):
        return exc
    return AssumeRoleFailed(
        exc.operation,
        exc.code,
        f"cannot assume role {role.role_arn}: {exc.message}",
        exc.http_status,
        reason="AssumeRoleFailed",
    )


class _RoleProvider(CredentialProvider):
    """Hands botocore's credential chain one role's `RoleCredentials`."""

    METHOD = RoleCredentials.method
    CANONICAL_NAME = "BatchopsAssumeRole"

    def __init__(self, credentials: RoleCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RoleCredentials:
        return self._credentials


_credentials: dict[tuple[AssumedRole, AwsSettings], RoleCredentials] = {}


def role_credentials(settings: AwsSettings) -> RoleCredentials:
    """The process's credentials for `settings.role`, shared by every region and service."""
    assert settings.role is not None
    # The operator's own identity assumes the role, through STS of the role's partition.
    key = (settings.role, dataclasses.replace(settings.own, region=_sts_region(settings.role)))
    with _lock:
        credentials = _credentials.get(key)
        if credentials is None:
            sts_settings = key[1]
            credentials = _credentials[key] = RoleCredentials(
                settings.role,
                lambda role: StsApi(client_for("sts", sts_settings)).assume_role(role),
            )
    return credentials


def _sts_region(role: AssumedRole) -> str:
    partition = role.role_arn.split(":", 2)[1]
    return {"aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}.get(partition, DEFAULT_REGION)


_identities: dict[AwsSettings, tuple[str, CallerIdentity]] = {}


def caller_identity(settings: AwsSettings) -> CallerIdentity:
    """Who `settings` act as (GetCallerIdentity), asked again only when a role's credentials
    were renewed; raises AwsError (AssumeRoleFailed for a role STS refuses)."""
    key = dataclasses.replace(settings, region=DEFAULT_REGION)
    version = ""
    if key.role is not None:
        version = str(role_credentials(key).get_frozen_credentials().access_key)
    with _lock:
        known = _identities.get(key)
    if known is not None and known[0] == version:
        return known[1]
    identity = StsApi(client_for("sts", key)).caller_identity()
    with _lock:
        _identities[key] = (version, identity)
    return identity


def assumed_at(settings: AwsSettings) -> datetime | None:
    """When a role's current credentials were issued (None: none yet, or no role)."""
    if settings.role is None:
        return None
    return role_credentials(settings).assumed_at
