"""The emulator's HTTP front: one WSGI app for Batch, the control API and moto's other services.

A request signed for the `batch` service (SigV4 credential scope) is answered here, without
moto's Batch backend and without Flask: Batch's REST-JSON wire protocol is small and this path
carries the SubmitJob load. It is served in the account its access key belongs to (an STS
session's, or moto's account of the key; the default account for any other key) and the region
of its signature. STS AssumeRole, and GetCallerIdentity of assumed sessions, are answered by
sts.py; a request signed with an expired session is refused. Paths under /_batchops/ are the
control API. Everything else (EC2, IAM, CloudWatch Logs, SQS, EventBridge, STS...) goes to
moto's own server app.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from batchops.local.emulator import sts
from batchops.local.emulator.account import ACCOUNT_ID, REGION, Partition
from batchops.local.emulator.control import ControlApi
from batchops.local.emulator.errors import BatchApiError, client_error
from batchops.local.emulator.partitions import Partitions
from batchops.local.emulator.wire import StartResponse, json_response, read_json_object

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The last path segment of each Batch REST operation, lower case, as botocore sends it.
BATCH_OPERATIONS = {
    name.lower(): name
    for name in (
        "CreateComputeEnvironment",
        "DescribeComputeEnvironments",
        "UpdateComputeEnvironment",
        "DeleteComputeEnvironment",
        "CreateJobQueue",
        "DescribeJobQueues",
        "UpdateJobQueue",
        "DeleteJobQueue",
        "RegisterJobDefinition",
        "DeregisterJobDefinition",
        "DescribeJobDefinitions",
        "SubmitJob",
        "DescribeJobs",
        "ListJobs",
        "CancelJob",
        "TerminateJob",
        "CreateSchedulingPolicy",
        "DescribeSchedulingPolicies",
        "ListSchedulingPolicies",
        "UpdateSchedulingPolicy",
        "DeleteSchedulingPolicy",
        "CreateConsumableResource",
        "DescribeConsumableResource",
        "ListConsumableResources",
        "UpdateConsumableResource",
        "DeleteConsumableResource",
        "ListJobsByConsumableResource",
    )
}
TAG_OPERATIONS = {"POST": "TagResource", "GET": "ListTagsForResource", "DELETE": "UntagResource"}
TAGS_PREFIX = "/v1/tags/"


class EmulatorApp:
    """Routes each request to the control API, the Batch emulation, or moto."""

    def __init__(self, partitions: Partitions, control: ControlApi, moto_app: WsgiApp) -> None:
        self._partitions = partitions
        self._control = control
        self._moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_batchops/"):
            return self._control(environ, start_response)
        service = _signing_service(environ)
        access_key = _scope(environ)[0]
        tokens = self._partitions.sts
        if service in ("batch", "sts") and access_key and tokens.expired(access_key):
            return _expired(start_response, service)
        if service == "batch":
            return self._batch(environ, start_response, path)
        operation = _other_operation(environ)
        if operation:
            self._partitions.faults.count(f"{service}:{operation}")
        if service == "sts" and operation == "AssumeRole":
            return self._assume_role(environ, start_response, access_key or "")
        if service == "sts" and operation == "GetCallerIdentity":
            session = tokens.session(access_key or "")
            if session is not None:
                return _xml(start_response, 200, sts.caller_identity_xml(session))
        return self._moto_app(environ, start_response)

    def _assume_role(
        self, environ: dict[str, Any], start_response: StartResponse, access_key: str
    ) -> Iterable[bytes]:
        try:
            session = self._partitions.sts.assume_role(access_key, _form(environ))
        except sts.StsError as error:
            return _xml(start_response, error.status, sts.error_xml(error.code, error.message))
        return _xml(start_response, 200, sts.assume_role_xml(session))

    def _batch(
        self, environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "POST")
        if path.startswith(TAGS_PREFIX):
            operation = TAG_OPERATIONS.get(method, "TagResource")
        else:
            operation = BATCH_OPERATIONS.get(path.rstrip("/").rsplit("/", 1)[-1], "Unknown")
        access_key, region = _scope(environ)
        account_id = self._partitions.sts.account_of(access_key) if access_key else ACCOUNT_ID
        batch = self._partitions.service_for(Partition(account_id, region or REGION))
        faults = self._partitions.faults
        faults.count(operation)
        self._partitions.count(account_id, operation)
        try:
            fault = faults.fault_for(operation)
            if fault is not None:
                raise fault
            body = _json_body(environ)
            if path.startswith(TAGS_PREFIX):
                body["resourceArn"] = unquote(path[len(TAGS_PREFIX) :])
                body["tagKeys"] = parse_qs(environ.get("QUERY_STRING", "")).get("tagKeys", [])
            result = batch.handle(operation, body)
            faults.delay_reply(operation)
        except BatchApiError as error:
            return _respond(
                start_response,
                error.status,
                {"__type": error.code, "message": error.message},
                error.code,
            )
        except Exception:
            log.exception("emulator failed on %s", operation)
            return _respond(
                start_response,
                500,
                {"__type": "ServerException", "message": "Internal Server Error"},
                "ServerException",
            )
        return _respond(start_response, 200, result)


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        return read_json_object(environ)
    except ValueError as error:
        raise client_error(f"Malformed request body: {error}") from error


def _respond(
    start_response: StartResponse, status: int, body: object, error_code: str | None = None
) -> list[bytes]:
    headers = [("x-amzn-RequestId", str(uuid.uuid4()))]
    if error_code is not None:
        headers.append(("x-amzn-ErrorType", error_code))
    reason = _REASONS.get(status, "Error")
    return json_response(start_response, f"{status} {reason}", body, tuple(headers))


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _scope(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """(access key, region) of a SigV4 signature (Credential=KEY/DATE/REGION/SERVICE/...)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    start = authorization.find(marker)
    if start < 0:
        return None, None
    scope = authorization[start + len(marker) :].split(",", 1)[0].split("/")
    return (scope[0] or None), (scope[2] if len(scope) >= 5 else None)


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """A query-protocol request's parameters (the body is read again by whoever comes next)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    params = parse_qs(raw.decode("utf-8", "replace"))
    params.update(parse_qs(environ.get("QUERY_STRING", "")))
    return params


def _xml(start_response: StartResponse, status: int, document: str) -> list[bytes]:
    body = document.encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "text/xml"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [body]


def _expired(start_response: StartResponse, service: str | None) -> list[bytes]:
    """AWS's answer to a request signed with an expired session's key."""
    message = "The security token included in the request is expired"
    if service == "sts":
        return _xml(start_response, 403, sts.error_xml("ExpiredToken", message))
    return _respond(
        start_response,
        403,
        {"__type": "ExpiredTokenException", "message": message},
        "ExpiredTokenException",
    )


def _signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request was signed for (Credential=KEY/DATE/REGION/SERVICE/...)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    marker = "Credential="
    start = authorization.find(marker)
    if start < 0:
        return None
    scope = authorization[start + len(marker) :].split(",", 1)[0].split("/")
    return scope[3].lower() if len(scope) >= 5 else None


def _other_operation(environ: dict[str, Any]) -> str | None:
    """The operation name of a non-Batch call: from X-Amz-Target, else the query Action."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        # moto reads the body again: give it back a fresh stream.
        environ["wsgi.input"] = io.BytesIO(raw)
        action = parse_qs(raw.decode("utf-8", "replace")).get("Action")
        return action[0] if action else None
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    return action[0] if action else None
