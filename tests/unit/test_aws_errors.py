"""Every row of the AWS error table, exercised with botocore-shaped errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
    UnknownServiceError,
)

from batchops.aws.errors import (
    RULES,
    AlreadyExists,
    AwsError,
    NotFound,
    Retryable,
    Terminal,
    Throttled,
    matching_rule,
    translate,
)


def client_error(code: str, message: str, status: int | None = 400) -> ClientError:
    """A ClientError as botocore builds it from a JSON error response."""
    response: dict[str, object] = {"Error": {"Code": code, "Message": message}}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, "AnyOperation")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    name: str
    exc: ClientError | BotoCoreError
    error: type[AwsError]
    reason: str


WRAPPED = "Error executing request, Exception : {}, RequestId: 5a6b7c8d"

# One case per row of RULES, in the table's order.
CASES = [
    Case(
        "throttling code",
        client_error("ThrottlingException", "Rate exceeded"),
        Throttled,
        "Throttled",
    ),
    Case(
        "any 429",
        client_error("ClientException", "Too many requests", 429),
        Throttled,
        "Throttled",
    ),
    Case(
        "batch server exception",
        client_error("ServerException", "Internal Server Error", 500),
        Retryable,
        "ServerError",
    ),
    Case(
        "server code without a status",
        client_error("ServiceUnavailable", "try later", None),
        Retryable,
        "ServerError",
    ),
    Case(
        "connection refused",
        EndpointConnectionError(endpoint_url="https://batch.us-east-1.amazonaws.com"),
        Retryable,
        "ConnectionError",
    ),
    Case(
        "compute environment still related to a queue",
        client_error("ClientException", "Cannot delete, found existing JobQueue relationship"),
        Retryable,
        "EventualConsistency",
    ),
    Case(
        "resource being modified",
        client_error("ClientException", "Cannot delete, resource is being modified"),
        Retryable,
        "ResourceBusy",
    ),
    Case(
        "delete before DISABLED is visible",
        client_error("ClientException", "Cannot delete, job queue must be in DISABLED state"),
        Retryable,
        "ResourceBusy",
    ),
    Case(
        "compute environment not VALID yet",
        client_error(
            "ClientException",
            WRAPPED.format("computeEnvironment arn:aws:batch:x is not in VALID state"),
        ),
        Retryable,
        "ResourceBusy",
    ),
    Case(
        "access denied code",
        client_error("AccessDeniedException", "User is not allowed", 403),
        Terminal,
        "AccessDenied",
    ),
    Case("any 403", client_error("Forbidden", "no", 403), Terminal, "AccessDenied"),
    Case(
        "iam PassRole refused inside ClientException",
        client_error(
            "ClientException",
            WRAPPED.format(
                "User: arn:aws:sts::1:assumed-role/op is not authorized to perform: "
                "iam:PassRole on resource: arn:aws:iam::1:role/batch"
            ),
        ),
        Terminal,
        "AccessDenied",
    ),
    Case("no credentials", NoCredentialsError(), Terminal, "Credentials"),
    Case(
        "already exists code",
        client_error("ResourceAlreadyExistsException", "The specified log group already exists"),
        AlreadyExists,
        "AlreadyExists",
    ),
    Case(
        "batch object already exists",
        client_error("ClientException", "Object already exists"),
        AlreadyExists,
        "AlreadyExists",
    ),
    Case(
        "not found code",
        client_error("ResourceNotFoundException", "The specified log stream does not exist."),
        NotFound,
        "NotFound",
    ),
    Case("any 404", client_error("NoSuchThing", "gone", 404), NotFound, "NotFound"),
    Case(
        "batch resource does not exist",
        client_error("ClientException", "arn:aws:batch:us-east-1:1:job-queue/q1 does not exist"),
        NotFound,
        "NotFound",
    ),
    Case(
        "botocore parameter validation",
        ParamValidationError(report="Missing required parameter in input: jobQueue"),
        Terminal,
        "InvalidRequest",
    ),
    Case(
        "any other client exception",
        client_error(
            "ClientException", WRAPPED.format("Job cannot have more than 20 dependencies")
        ),
        Terminal,
        "InvalidRequest",
    ),
]


def test_every_row_of_the_table_has_exactly_one_case_in_order() -> None:
    rows = [RULES.index(rule) for c in CASES if (rule := matching_rule(c.exc)) is not None]
    assert rows == list(range(len(RULES)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_row_classifies_as_its_error_class_and_reason(case: Case) -> None:
    error = translate(case.exc, "DeleteComputeEnvironment")
    assert type(error) is case.error
    assert error.reason == case.reason
    assert error.operation == "DeleteComputeEnvironment"


def test_error_carries_operation_code_status_and_aws_message() -> None:
    error = translate(
        client_error("ClientException", "Cannot delete, found existing JobQueue relationship"),
        "DeleteComputeEnvironment",
    )
    assert (error.operation, error.code, error.http_status) == (
        "DeleteComputeEnvironment",
        "ClientException",
        400,
    )
    assert error.message == "Cannot delete, found existing JobQueue relationship"
    assert str(error) == (
        "DeleteComputeEnvironment: ClientException: "
        "Cannot delete, found existing JobQueue relationship"
    )


def test_message_fragments_match_regardless_of_case() -> None:
    error = translate(client_error("ClientException", "OBJECT ALREADY EXISTS"), "CreateJobQueue")
    assert isinstance(error, AlreadyExists)


def test_read_timeout_is_retryable_like_a_refused_connection() -> None:
    error = translate(ReadTimeoutError(endpoint_url="https://x"), "DescribeJobs")
    assert isinstance(error, Retryable) and error.reason == "ConnectionError"


def test_unmatched_failure_is_terminal_so_it_is_never_hammered() -> None:
    assert matching_rule(client_error("Weird", "redirect", 302)) is None
    error = translate(client_error("Weird", "redirect", 302), "DescribeJobs")
    assert type(error) is Terminal and error.reason == "Unclassified"
    other = translate(UnknownServiceError(service_name="x", known_service_names="y"), "Any")
    assert type(other) is Terminal and other.code == "UnknownServiceError"


def test_throttled_and_not_found_keep_their_base_classes() -> None:
    assert issubclass(Throttled, Retryable) and issubclass(NotFound, Terminal)
    assert issubclass(AlreadyExists, Terminal) and not issubclass(Terminal, Retryable)
