"""CronPipeline: the spec (a schedule plus a BatchPipeline template) and its status shapes.

The schedule is kept as text here and parsed by `batchops.plans.cron_expr.parse_schedule` (its
errors are SpecErrors on `spec.schedule` too); the template's spec stays an opaque mapping that the
BatchPipeline parser validates.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, NotRequired, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from batchops.model.common import FieldReader, SpecError, empty_map, format_time
from batchops.model.keys import SCHEDULED_TIME_PARAMETER
from batchops.model.observed import Phase, UsageEntry

CRON_FIELDS: Final = frozenset(
    {
        "schedule",
        "timeZone",
        "concurrencyPolicy",
        "startingDeadlineSeconds",
        "suspend",
        "successfulRunsHistoryLimit",
        "failedRunsHistoryLimit",
        "pipelineTemplate",
    }
)
TEMPLATE_FIELDS: Final = frozenset({"metadata", "spec"})
TEMPLATE_METADATA_FIELDS: Final = frozenset({"labels", "annotations"})

DEFAULT_TIME_ZONE: Final = "UTC"
DEFAULT_SUCCESSFUL_RUNS_HISTORY_LIMIT: Final = 3
DEFAULT_FAILED_RUNS_HISTORY_LIMIT: Final = 1
MAX_SCHEDULE_LENGTH: Final = 256

# A label key is an optional DNS-subdomain prefix and a name of up to 63 characters; a value is
# up to 63 characters. The apiserver would reject a bad one only when a child is created.
_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
_LABEL_KEY: Final = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
_LABEL_VALUE: Final = re.compile(rf"^{_LABEL_NAME}?$")
_LOCAL_ZONES: Final = frozenset({"local", "localtime"})


class ConcurrencyPolicy(StrEnum):
    """What a due time does while earlier runs are still active (as CronJob's field)."""

    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"


@dataclass(frozen=True)
class PipelineTemplate:
    """The BatchPipeline every scheduled time creates. `spec` is a private read-only copy."""

    spec: Mapping[str, object]
    labels: Mapping[str, str] = field(default_factory=empty_map)
    annotations: Mapping[str, str] = field(default_factory=empty_map)

    def child_spec(self) -> dict[str, object]:
        """A fresh, mutable deep copy of the template spec for one child's body."""
        return copy.deepcopy(dict(self.spec))

    def run_spec(self, scheduled_time: datetime) -> dict[str, object]:
        """The spec of the run for one scheduled time: the template with the Batch parameter
        `scheduledTime` (RFC 3339, UTC) added, so `Ref::scheduledTime` works in commands. It
        replaces a template parameter of that name: the run's time is the CronPipeline's fact."""
        spec = self.child_spec()
        parameters = spec.get("parameters")
        spec["parameters"] = {
            **(parameters if isinstance(parameters, Mapping) else {}),
            SCHEDULED_TIME_PARAMETER: format_time(scheduled_time),
        }
        return spec


@dataclass(frozen=True)
class CronSpec:
    """A parsed CronPipeline spec; `schedule` is the text, for `plans.cron_expr.parse_schedule`."""

    schedule: str
    template: PipelineTemplate
    time_zone: ZoneInfo
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.ALLOW
    starting_deadline_seconds: int | None = None
    suspend: bool = False
    successful_runs_history_limit: int = DEFAULT_SUCCESSFUL_RUNS_HISTORY_LIMIT
    failed_runs_history_limit: int = DEFAULT_FAILED_RUNS_HISTORY_LIMIT


def parse_cron_spec(raw: Mapping[str, object]) -> CronSpec:
    """Parse a raw CronPipeline spec; raises SpecError naming the field."""
    spec = _object(raw, "spec", CRON_FIELDS)
    schedule = spec.req_str("schedule")
    if not schedule.strip() or len(schedule) > MAX_SCHEDULE_LENGTH:
        raise spec.fail("schedule", f"must be 1 to {MAX_SCHEDULE_LENGTH} characters")
    return CronSpec(
        schedule=schedule,
        template=_parse_template(raw.get("pipelineTemplate")),
        time_zone=_time_zone(spec),
        concurrency_policy=ConcurrencyPolicy(
            spec.enum("concurrencyPolicy", list(ConcurrencyPolicy), default="Allow")
        ),
        starting_deadline_seconds=_at_least(spec, "startingDeadlineSeconds", 1),
        suspend=spec.opt_bool("suspend") is True,
        successful_runs_history_limit=_history_limit(
            spec, "successfulRunsHistoryLimit", DEFAULT_SUCCESSFUL_RUNS_HISTORY_LIMIT
        ),
        failed_runs_history_limit=_history_limit(
            spec, "failedRunsHistoryLimit", DEFAULT_FAILED_RUNS_HISTORY_LIMIT
        ),
    )


def _object(raw: object, path: str, allowed: frozenset[str]) -> FieldReader:
    # The apiserver prunes unknown fields, so one here did not come through the CRD (a typo in a
    # test or a manifest checked offline): say so instead of ignoring it.
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise SpecError(f"{path}.{unknown[0]}", "unknown field")
    return FieldReader(raw, path)


def _at_least(reader: FieldReader, key: str, minimum: int) -> int | None:
    value = reader.opt_int(key)
    if value is not None and value < minimum:
        raise reader.fail(key, f"must be at least {minimum}, got {value}")
    return value


def _history_limit(reader: FieldReader, key: str, default: int) -> int:
    value = _at_least(reader, key, 0)
    return default if value is None else value


def _time_zone(spec: FieldReader) -> ZoneInfo:
    name = spec.opt_str("timeZone") or DEFAULT_TIME_ZONE
    if name.lower() in _LOCAL_ZONES:
        raise spec.fail("timeZone", f"{name!r} is not allowed: name the zone, e.g. Asia/Seoul")
    try:
        return ZoneInfo(name)
    # A directory of the zone database ("America") or an overlong name is an OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise spec.fail(
            "timeZone", f"unknown time zone {name!r}: use an IANA name such as Asia/Seoul or UTC"
        ) from exc


def _parse_template(raw: object) -> PipelineTemplate:
    if raw is None:
        raise SpecError("spec.pipelineTemplate", "is required")
    template = _object(raw, "spec.pipelineTemplate", TEMPLATE_FIELDS)
    assert isinstance(raw, Mapping)
    spec = raw.get("spec")
    if not isinstance(spec, Mapping) or not spec:
        raise template.fail("spec", "is required: the BatchPipeline spec of every run")
    labels, annotations = empty_map(), empty_map()
    if template.has("metadata"):
        metadata = _object(
            raw["metadata"], "spec.pipelineTemplate.metadata", TEMPLATE_METADATA_FIELDS
        )
        labels = metadata.opt_str_map("labels") or labels
        annotations = metadata.opt_str_map("annotations") or annotations
        _check_labels(metadata, labels)
    try:
        frozen_spec = copy.deepcopy(dict(spec))
    except RecursionError:
        # Only reachable by direct parsing: the API server prunes such structures.
        raise template.fail("spec", "is nested too deeply") from None
    return PipelineTemplate(
        spec=MappingProxyType(frozen_spec),
        labels=labels,
        annotations=annotations,
    )


def _check_labels(metadata: FieldReader, labels: Mapping[str, str]) -> None:
    for key, value in sorted(labels.items()):
        if not _LABEL_KEY.match(key) or len(key) > 317:
            raise metadata.fail("labels", f"{key!r} is not a valid label key")
        if not _LABEL_VALUE.match(value):
            raise metadata.fail(
                "labels",
                f"value of {key!r} is not a valid label value (up to 63 letters, digits, '-', "
                "'_' or '.', starting and ending with a letter or digit)",
            )


# --- status shapes ------------------------------------------------------------------------------


class ActiveRunEntry(TypedDict):
    """One `status.active[]` item: an unfinished child run."""

    name: str
    scheduledTime: NotRequired[str]


class LastRunStep(TypedDict, total=False):
    """One `status.lastRun.steps[]` item, copied from the child's `status.steps[]`."""

    name: str
    status: str
    jobId: str
    statusReason: str
    exitCode: int
    startedAt: str
    stoppedAt: str
    queueWaitSeconds: int


class LastRunStatus(TypedDict):
    """`status.lastRun`: every key present, None when unknown, so a merge patch clears the
    previous run's values instead of keeping them."""

    name: str
    phase: Phase | None
    progress: str | None
    message: str | None
    startedAt: str | None
    finishedAt: str | None
    steps: list[LastRunStep]
    usage: UsageEntry | None


class CountedRunEntry(TypedDict):
    """One `status.usage.countedRuns[]` item: a finished run still present, and the usage of it
    the total holds (`plans.cron_usage`)."""

    name: str
    usage: UsageEntry


class CronUsageEntry(UsageEntry, total=False):
    """`status.usage`: the running total over the finished runs (`plans.cron_usage`)."""

    runs: int
    countedRuns: list[CountedRunEntry]


class CronStatusFields(TypedDict, total=False):
    """The `.status` fields of a CronPipeline besides conditions (merged by the kube helper)."""

    lastScheduleTime: str | None
    nextScheduleTime: str | None
    lastSuccessfulTime: str | None
    active: list[ActiveRunEntry]
    activeCount: int
    lastRun: LastRunStatus | None
    usage: CronUsageEntry
    observedGeneration: int
