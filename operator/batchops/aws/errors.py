"""AWS errors as the operator acts on them: Retryable (will heal) or Terminal (needs a human).

Batch answers almost everything with ClientException and HTTP 400, so the class alone says
little: the table below classifies by error code, HTTP status and message fragments, first
match wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


class AwsError(Exception):
    """A failed AWS call, with what the operator needs to report it."""

    def __init__(
        self, operation: str, code: str, message: str, http_status: int | None = None
    ) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message
        self.http_status = http_status


class Retryable(AwsError):
    """Throttling, 5xx, connectivity, eventual consistency: try again later, with backoff."""


class Terminal(AwsError):
    """Invalid parameters, access denied, conflicts: retrying the same call will not help."""


@dataclass(frozen=True)
class _Rule:
    retryable: bool
    code: str | None = None
    status_at_least: int | None = None
    message_fragment: str | None = None

    def matches(self, code: str, status: int | None, message: str) -> bool:
        if self.code is not None and code != self.code:
            return False
        if self.status_at_least is not None and (status is None or status < self.status_at_least):
            return False
        return self.message_fragment is None or self.message_fragment in message.lower()


# First match wins; anything unmatched is Terminal (never hammer an API with a doomed call).
CLASSIFICATION: tuple[_Rule, ...] = (
    _Rule(True, code="TooManyRequestsException"),
    _Rule(True, code="ThrottlingException"),
    _Rule(True, code="Throttling"),
    _Rule(True, code="RequestLimitExceeded"),
    _Rule(True, status_at_least=500),
    _Rule(True, code="ServerException"),
    _Rule(True, status_at_least=429, message_fragment="rate"),
    # DeleteComputeEnvironment right after UpdateJobQueue: Batch still sees the relationship.
    _Rule(True, message_fragment="found existing jobqueue relationship"),
    # A CE or queue mid-transition refuses updates until it settles.
    _Rule(True, message_fragment="is in state creating"),
    _Rule(True, message_fragment="is in state updating"),
    _Rule(True, message_fragment="is in state deleting"),
)


def classify(operation: str, code: str, message: str, http_status: int | None) -> AwsError:
    """The typed error for one failed call."""
    for rule in CLASSIFICATION:
        if rule.matches(code, http_status, message):
            return Retryable(operation, code, message, http_status)
    return Terminal(operation, code, message, http_status)


def translate(exc: Exception, operation: str) -> AwsError:
    """Turn a botocore exception into Retryable or Terminal."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return classify(
            operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")), status
        )
    if isinstance(
        exc,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return Retryable(operation, type(exc).__name__, str(exc))
    if isinstance(exc, BotoCoreError):
        return Terminal(operation, type(exc).__name__, str(exc))
    raise exc
