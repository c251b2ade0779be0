"""boto3 clients: one per (service, settings) — so per region — shared by every thread.

boto3 clients are thread-safe once built, but building them from a shared Session is not, so
clients are created under a lock, each from its own Session, and then reused for the life of
the process (the operator calls AWS from asyncio's thread pool).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

import boto3
from botocore.config import Config

from batchops.aws.calls import THROTTLED_ATTEMPTS

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_logs.client import CloudWatchLogsClient
    from mypy_boto3_sqs.client import SQSClient

ServiceName = Literal["batch", "logs", "sqs"]

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
    max_pool_connections: int = 32
    """asyncio's default thread pool has up to 32 workers, each possibly mid-call."""

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


_lock = threading.Lock()
_clients: dict[tuple[ServiceName, AwsSettings], object] = {}


@overload
def client_for(service: Literal["batch"], settings: AwsSettings) -> BatchClient: ...
@overload
def client_for(service: Literal["logs"], settings: AwsSettings) -> CloudWatchLogsClient: ...
@overload
def client_for(service: Literal["sqs"], settings: AwsSettings) -> SQSClient: ...
def client_for(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient:
    """The process's client for `service` with these settings, created on first use."""
    key = (service, settings)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _create(service, settings)
    return client  # type: ignore[return-value]  # the key's service fixes the client type


def _create(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient:
    client = _build(service, settings)
    client.meta.events.register("response-received", THROTTLED_ATTEMPTS.on_response)
    return client


def _build(
    service: ServiceName, settings: AwsSettings
) -> BatchClient | CloudWatchLogsClient | SQSClient:
    session = boto3.session.Session()
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
    return session.client(
        "sqs", region_name=settings.region, endpoint_url=settings.endpoint_url, config=config
    )
