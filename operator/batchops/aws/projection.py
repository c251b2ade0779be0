"""Answers trimmed to the fields a caller reads, before botocore parses them.

botocore parses a response by walking the operation's output shape in Python, member by member.
A DescribeJobs answer carries each job's whole definition (container, volumes, environment,
network interfaces, every attempt's details), and the job poller reads a dozen of those fields:
at 10,000 tracked jobs the parsing of sweeps was most of the operator's CPU. A projection drops
the rest from the JSON body first (`json` parses in C), so botocore walks only what is kept.
The answer keeps its shape: a caller sees the fields it asked for, exactly as botocore parses
them, and the others absent.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Iterator, Mapping
from typing import Any

Projection = Mapping[str, "Projection | bool"]
"""Which members to keep: `True` keeps a member whole; a nested projection keeps those members
of an object, or of every object of a list."""

_PROJECTIONS: contextvars.ContextVar[Mapping[str, Projection] | None] = contextvars.ContextVar(
    "batchops_projections", default=None
)
"""operation -> the projection of its answer's body, for the calls made inside `projected`."""


@contextlib.contextmanager
def projected(operation: str, projection: Projection) -> Iterator[None]:
    """Within this block (this thread or task), `operation`'s answers keep only `projection`."""
    token = _PROJECTIONS.set({**(_PROJECTIONS.get() or {}), operation: projection})
    try:
        yield
    finally:
        _PROJECTIONS.reset(token)


def project(value: Any, projection: Projection) -> Any:
    """`value` with only the members `projection` names (lists are projected item by item)."""
    if isinstance(value, list):
        return [project(item, projection) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, inner in projection.items():
        if name not in value or inner is False:
            continue
        kept[name] = value[name] if inner is True else project(value[name], inner)
    return kept


def trim_before_parse(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
    """botocore's `before-parse` hook: replace a successful answer's body by its projection,
    when the call was made inside `projected` for its operation."""
    projections = _PROJECTIONS.get()
    projection = projections.get(operation_model.name) if projections else None
    if projection is None or response_dict.get("status_code") != 200:
        return
    body = json.loads(response_dict["body"])
    response_dict["body"] = json.dumps(project(body, projection)).encode()
