"""boto3 clients: one per (service, region, endpoint), shared by every thread."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class AwsSettings:
    """Where and how to call AWS."""

    region: str
    endpoint_url: str | None = None
    """The local emulator, or None for real AWS (then $AWS_ENDPOINT_URL applies, as in boto3)."""
    max_attempts: int = 5


_lock = threading.Lock()
_clients: dict[tuple[str, AwsSettings], Any] = {}


def client_for(service: str, settings: AwsSettings) -> Any:
    """A cached boto3 client with adaptive retries (client-side rate limiting on throttles)."""
    key = (service, settings)
    with _lock:
        client = _clients.get(key)
        if client is None:
            config = Config(
                region_name=settings.region,
                retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
                connect_timeout=10,
                read_timeout=60,
                # Reconcile passes run in a thread pool; let them share connections.
                max_pool_connections=50,
            )
            endpoint = settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
            session = boto3.session.Session()
            client = session.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]
            _clients[key] = client
        return client
