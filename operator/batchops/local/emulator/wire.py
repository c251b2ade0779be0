"""Reading fields of a Batch JSON request body, with Batch's errors for malformed ones.

botocore validates shapes on the client side, so these checks mostly guard callers that do not
use botocore (curl, other SDKs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from batchops.local.emulator.errors import client_error

JsonObject = dict[str, Any]
StartResponse = Callable[..., Any]


def read_json_object(environ: dict[str, Any]) -> JsonObject:
    """The JSON object in a WSGI request's body ({} when empty); ValueError when it is not one."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    return body


def json_response(
    start_response: StartResponse,
    status: str,
    body: object,
    headers: tuple[tuple[str, str], ...] = (),
) -> list[bytes]:
    """Answer a WSGI request with a JSON document."""
    payload = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *headers,
        ],
    )
    return [payload]


def required_str(body: JsonObject, key: str) -> str:
    """A required string field."""
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise client_error(f"{key} is required")
    return value


def optional_str(body: JsonObject, key: str) -> str | None:
    """An optional string field (an empty string counts as absent)."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise client_error(f"{key} must be a string")
    return value


def optional_int(body: JsonObject, key: str) -> int | None:
    """An optional integer field."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise client_error(f"{key} must be an integer")
    return value


def optional_object(body: JsonObject, key: str) -> JsonObject | None:
    """An optional JSON object field."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise client_error(f"{key} must be an object")
    return value


def object_list(body: JsonObject, key: str) -> list[JsonObject]:
    """An optional list of JSON objects (absent: empty)."""
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise client_error(f"{key} must be a list of objects")
    return value


def str_list(body: JsonObject, key: str) -> list[str]:
    """An optional list of strings (absent: empty)."""
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise client_error(f"{key} must be a list of strings")
    return value


def str_map(body: JsonObject, key: str) -> dict[str, str]:
    """An optional string-to-string map (absent: empty)."""
    value = body.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise client_error(f"{key} must be a map of strings to strings")
    return value
