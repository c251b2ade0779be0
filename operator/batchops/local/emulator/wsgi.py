"""The emulator's HTTP front: one WSGI app for Batch, the control API and moto's other services.

A request signed for the `batch` service (SigV4 credential scope) is answered here, without
moto's Batch backend and without Flask: Batch's REST-JSON wire protocol is small and this path
carries the SubmitJob load. Paths under /_batchops/ are the control API. Everything else (EC2,
IAM, CloudWatch Logs, SQS, EventBridge, STS...) goes to moto's own server app.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from batchops.local.emulator.control import ControlApi
from batchops.local.emulator.errors import BatchApiError, client_error
from batchops.local.emulator.service import BatchService
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

    def __init__(self, service: BatchService, control: ControlApi, moto_app: WsgiApp) -> None:
        self._service = service
        self._control = control
        self._moto_app = moto_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_batchops/"):
            return self._control(environ, start_response)
        service = _signing_service(environ)
        if service == "batch":
            return self._batch(environ, start_response, path)
        operation = _other_operation(environ)
        if operation:
            self._service.faults.count(f"{service}:{operation}")
        return self._moto_app(environ, start_response)

    def _batch(
        self, environ: dict[str, Any], start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "POST")
        if path.startswith(TAGS_PREFIX):
            operation = TAG_OPERATIONS.get(method, "TagResource")
        else:
            operation = BATCH_OPERATIONS.get(path.rstrip("/").rsplit("/", 1)[-1], "Unknown")
        faults = self._service.faults
        faults.count(operation)
        try:
            fault = faults.fault_for(operation)
            if fault is not None:
                raise fault
            body = _json_body(environ)
            if path.startswith(TAGS_PREFIX):
                body["resourceArn"] = unquote(path[len(TAGS_PREFIX) :])
                body["tagKeys"] = parse_qs(environ.get("QUERY_STRING", "")).get("tagKeys", [])
            result = self._service.handle(operation, body)
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


_REASONS = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error"}


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
