"""`BATCHOPS_SCHEDULED_TIME`: a cron run's due time in the environment of every inline step.

The CronPipeline puts the time into each run's `spec.parameters` as `scheduledTime` (one source
of truth). The environment variable is derived from that parameter at SubmitJob time, as an
override, and never written into the job definition: the definitions of a CronPipeline's runs are
shared by the whole family and reused by content hash (`plans/jobdefs.py`), so a value that
changes every run would register a new revision every run (and leave a trail of revisions to
deregister). A SubmitJob override adds the variable to the definition's own ("You can add new
environment variables ... or override the existing environment variables from the job
definition", ContainerOverrides.environment, AWS Batch API reference), so a definition stays the
same from run to run and the job still sees the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from batchops.model.keys import SCHEDULED_TIME_ENV, SCHEDULED_TIME_PARAMETER
from batchops.model.pipeline import StepSpec
from batchops.model.request_surface import JsonValue, freeze_json

_NO_OVERRIDES: Final[Mapping[str, JsonValue]] = MappingProxyType({})


def scheduled_time_overrides(
    step: StepSpec, parameters: Mapping[str, str]
) -> Mapping[str, JsonValue]:
    """The SubmitJob members that put `scheduledTime` into the environment of an inline step's
    containers (`containerOverrides`, `nodeOverrides`, `ecsPropertiesOverride` or
    `eksPropertiesOverride`, by the kind of job); empty without the parameter. A `jobDefinition:`
    step gets the parameter only: its overrides are the user's, written as they stand."""
    value = parameters.get(SCHEDULED_TIME_PARAMETER)
    if value is None or not step.inline:
        return _NO_OVERRIDES
    kind = step.kind
    if kind == "container":
        overrides: dict[str, object] = {"containerOverrides": _container(value)}
    elif kind == "nodeProperties":
        overrides = _node_overrides(step.batch_fields[kind], value)
    elif kind == "ecsProperties":
        overrides = {"ecsPropertiesOverride": _ecs(step.batch_fields[kind], value)}
    else:
        overrides = {"eksPropertiesOverride": _eks(step.batch_fields[kind], value)}
    frozen = freeze_json(overrides)
    assert isinstance(frozen, Mapping)
    return frozen


def _variable(value: str) -> list[dict[str, str]]:
    return [{"name": SCHEDULED_TIME_ENV, "value": value}]


def _container(value: str) -> dict[str, object]:
    return {"environment": _variable(value)}


def _objects(holder: JsonValue, key: str) -> list[Mapping[str, JsonValue]]:
    items = holder.get(key) if isinstance(holder, Mapping) else None
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, tuple) else []


def _named_overrides(
    containers: list[Mapping[str, JsonValue]], variables: str, value: str
) -> list[dict[str, object]]:
    """One override per container, by name. An override without a name applies only where the
    task or pod has exactly one container, so unnamed containers among several are left out."""
    if len(containers) == 1 and not containers[0].get("name"):
        return [{variables: _variable(value)}]
    return [
        {"name": container["name"], variables: _variable(value)}
        for container in containers
        if isinstance(container.get("name"), str)
    ]


def _ecs(properties: JsonValue, value: str) -> dict[str, object]:
    # TaskPropertiesOverride i overrides task i.
    return {
        "taskProperties": [
            {"containers": _named_overrides(_objects(task, "containers"), "environment", value)}
            for task in _objects(properties, "taskProperties")
        ]
    }


def _eks(properties: JsonValue, value: str) -> dict[str, object]:
    pod = properties.get("podProperties") if isinstance(properties, Mapping) else None
    return {
        "podProperties": {"containers": _named_overrides(_objects(pod, "containers"), "env", value)}
    }


def _node_overrides(properties: JsonValue, value: str) -> dict[str, object]:
    """One override per node range, naming the range exactly as the definition does."""
    ranges: list[dict[str, object]] = []
    for node_range in _objects(properties, "nodeRangeProperties"):
        entry: dict[str, object] = {"targetNodes": node_range.get("targetNodes")}
        if node_range.get("container") is not None:
            entry["containerOverrides"] = _container(value)
        elif node_range.get("ecsProperties") is not None:
            entry["ecsPropertiesOverride"] = _ecs(node_range["ecsProperties"], value)
        elif node_range.get("eksProperties") is not None:
            entry["eksPropertiesOverride"] = _eks(node_range["eksProperties"], value)
        else:
            continue
        ranges.append(entry)
    return {"nodeOverrides": {"nodePropertyOverrides": ranges}}
