"""AWS errors as the operator acts on them: Retryable (will heal) or Terminal (needs a human).

Batch answers almost every failure with `ClientException` and HTTP 400, whether the cause is a
typo in a role ARN or a queue that is still updating, so the exception class says little. The
single table `RULES` below classifies by error code, HTTP status and message fragments; the
first matching row wins and anything unmatched is Terminal (never hammer an API with a call
that cannot succeed).

Not-found is rarely an error in Batch: DescribeComputeEnvironments, DescribeJobQueues,
DescribeJobDefinitions and DescribeJobs answer an unknown name or id with an empty list, which
`BatchApi` turns into None / a shorter list. `NotFound` is raised only where AWS does answer with
an error: updating, deleting or tagging something that is gone ("... does not exist"), ListJobs
on an unknown queue, and CloudWatch Logs' ResourceNotFoundException for a stream not yet written.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError


class AwsError(Exception):
    """A failed AWS call: which operation, AWS's code, HTTP status and message, and the reason
    (a CamelCase word from `RULES`, fit for a condition reason)."""

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        http_status: int | None = None,
        reason: str = "Unclassified",
    ) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message
        self.http_status = http_status
        self.reason = reason


class Retryable(AwsError):
    """Throttling, 5xx, connectivity, eventual consistency: the same call will succeed later."""


class Throttled(Retryable):
    """AWS refused the call for rate (after botocore's own adaptive retries gave up)."""


class Terminal(AwsError):
    """Invalid parameters, access denied, conflicts: retrying the same call will not help."""


class NotFound(Terminal):
    """The named resource does not exist (callers deleting it may treat this as done)."""


class AlreadyExists(Terminal):
    """A resource of that name exists already (Batch: "Object already exists")."""


class AssumeRoleFailed(Terminal):
    """STS refused to let the operator assume a BatchAccount's role (trust policy, external id,
    a missing role): no call in that account can be made until an admin fixes it."""


@dataclass(frozen=True)
class Rule:
    """One row of the table: every criterion given must match (each one is any-of)."""

    reason: str
    error: type[AwsError]
    codes: frozenset[str] = frozenset()
    statuses: range | None = None
    fragments: tuple[str, ...] = ()
    """Lower-case substrings of the AWS message."""
    exceptions: tuple[type[BotoCoreError], ...] = ()
    """botocore exceptions raised before any HTTP answer (connection, credentials)."""

    def matches(self, failure: _Failure) -> bool:
        """Whether this row describes the failure."""
        if self.exceptions and not isinstance(failure.exception, self.exceptions):
            return False
        if self.codes and failure.code not in self.codes:
            return False
        if self.statuses is not None and failure.http_status not in self.statuses:
            return False
        message = failure.message.lower()
        return not self.fragments or any(f in message for f in self.fragments)


_THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",  # Batch's front end (HTTP 429)
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "SlowDown",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)
_SERVER_CODES = frozenset(
    {
        "ServerException",  # Batch's only server-side error class (HTTP 500)
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)

RULES: tuple[Rule, ...] = (
    Rule("Throttled", Throttled, codes=_THROTTLING_CODES),
    Rule("Throttled", Throttled, statuses=range(429, 430)),
    Rule("ServerError", Retryable, statuses=range(500, 600)),
    Rule("ServerError", Retryable, codes=_SERVER_CODES),
    # Connection refused/reset, DNS, read and connect timeouts (botocore has two hierarchies).
    Rule("ConnectionError", Retryable, exceptions=(BotoConnectionError, HTTPClientError)),
    # DeleteComputeEnvironment right after the last queue let go of it: Batch still sees the
    # relationship for a while (seen in Terraform and Pulumi reports), so retry.
    Rule("EventualConsistency", Retryable, fragments=("found existing jobqueue relationship",)),
    # A CE or queue that is CREATING/UPDATING/DELETING refuses updates and deletes until it
    # settles ("Cannot delete, resource is being modified").
    Rule("ResourceBusy", Retryable, fragments=("resource is being modified",)),
    # The state change the operator made a moment ago is not visible yet: it always disables
    # before deleting and waits for VALID before associating, so these heal on their own.
    Rule("ResourceBusy", Retryable, fragments=("must be in disabled state",)),
    Rule("ResourceBusy", Retryable, fragments=("is not in valid state",)),
    Rule("AccessDenied", Terminal, codes=_CREDENTIAL_CODES),
    Rule("AccessDenied", Terminal, statuses=range(403, 404)),
    # Batch wraps IAM refusals (iam:PassRole on the service or instance role) in ClientException.
    Rule("AccessDenied", Terminal, fragments=("not authorized to perform",)),
    Rule(
        "Credentials",
        Terminal,
        exceptions=(NoCredentialsError, PartialCredentialsError, CredentialRetrievalError),
    ),
    Rule(
        "AlreadyExists",
        AlreadyExists,
        codes=frozenset({"ResourceAlreadyExistsException", "QueueNameExists"}),
    ),
    Rule("AlreadyExists", AlreadyExists, fragments=("already exists",)),
    Rule(
        "NotFound",
        NotFound,
        codes=frozenset(
            {
                "ResourceNotFoundException",
                "NotFoundException",
                "AWS.SimpleQueueService.NonExistentQueue",
                "QueueDoesNotExist",
            }
        ),
    ),
    Rule("NotFound", NotFound, statuses=range(404, 405)),
    Rule("NotFound", NotFound, fragments=("does not exist", "not found", "could not be found")),
    Rule("InvalidRequest", Terminal, exceptions=(ParamValidationError,)),
    # Everything else Batch says with 400 is a request it will refuse again: invalid parameter,
    # INACTIVE job definition, more than 20 dependencies, DISABLED queue...
    Rule("InvalidRequest", Terminal, statuses=range(400, 500)),
)


@dataclass(frozen=True)
class _Failure:
    code: str
    message: str
    http_status: int | None
    exception: Exception


def _failure_of(exc: ClientError | BotoCoreError) -> _Failure:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return _Failure(
            code=str(error.get("Code") or "Unknown"),
            message=str(error.get("Message") or ""),
            http_status=int(status) if status is not None else None,
            exception=exc,
        )
    return _Failure(type(exc).__name__, str(exc), None, exc)


def matching_rule(exc: ClientError | BotoCoreError) -> Rule | None:
    """The first row of `RULES` that describes the failure, or None."""
    failure = _failure_of(exc)
    return next((rule for rule in RULES if rule.matches(failure)), None)


def translate(exc: ClientError | BotoCoreError, operation: str) -> AwsError:
    """The typed error for one failed botocore call (unmatched failures are Terminal)."""
    failure = _failure_of(exc)
    rule = matching_rule(exc)
    if rule is None:
        return Terminal(operation, failure.code, failure.message, failure.http_status)
    return rule.error(operation, failure.code, failure.message, failure.http_status, rule.reason)


def is_throttling(code: str, http_status: int | None) -> bool:
    """Whether one HTTP answer was AWS throttling us (counted per attempt, retried or not)."""
    return code in _THROTTLING_CODES or http_status == 429
