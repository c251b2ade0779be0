"""The BatchPipeline spec, as typed immutable values (what a run observes is `model/observed.py`).

The raw spec is parsed once, at the handler boundary, by `parse_pipeline_spec`. Defaults are
merged there (step field > spec.defaults > spec.image / spec.queue), so everything downstream
sees complete steps and never looks at `defaults` again. Cross-step rules (unknown or cyclic
dependencies, duplicate names) belong to `batchops.plans.dag`.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, TypeVar

from batchops.model.common import FieldReader, SpecError, check_tags, frozen_map
from batchops.model.keys import RESERVED_TAG_PREFIXES
from batchops.model.request_surface import (
    CONTAINER_PASSTHROUGH,
    JOB_PROPERTIES,
    PASSTHROUGH,
    SUBMIT_OVERRIDES,
    JsonValue,
    freeze_json,
)

Platform = Literal["EC2", "FARGATE"]
JobKind = Literal["container", "nodeProperties", "eksProperties", "ecsProperties", "jobDefinition"]
ArrayDependency = Literal["N_TO_N", "SEQUENTIAL"]
RetryAction = Literal["RETRY", "EXIT"]
_PLATFORMS: Final[tuple[Platform, ...]] = ("EC2", "FARGATE")
_ARRAY_DEPENDENCIES: Final[tuple[ArrayDependency, ...]] = ("N_TO_N", "SEQUENTIAL")
_RETRY_ACTIONS: Final[tuple[RetryAction, ...]] = ("RETRY", "EXIT")

MAX_USER_TAGS: Final = 40  # Batch allows 50; the operator adds its own on jobs and definitions.
FARGATE_VCPUS: Final = frozenset({0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0})

_STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_JOB_DEFINITION_REF = re.compile(r"^(arn:.+|[A-Za-z0-9_-]{1,128}(:[0-9]+)?)$")


# --- the spec -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitCondition:
    """One `retry.evaluateOnExit` entry: retry or fail at once when every set pattern matches."""

    action: RetryAction
    on_status_reason: str | None = None
    on_reason: str | None = None
    on_exit_code: str | None = None


@dataclass(frozen=True)
class OnInterruption:
    """Resubmit a step whose host went away instead of counting it as the step's failure."""

    resubmits: int
    queue: str | None = None
    """Where the resubmitted jobs go (e.g. on-demand after Spot); None: the step's queue."""


@dataclass(frozen=True)
class RetrySpec:
    """Batch's retry strategy for a step, and the operator's resubmission on interruption."""

    attempts: int | None = None
    evaluate_on_exit: tuple[ExitCondition, ...] = ()
    on_interruption: OnInterruption | None = None


@dataclass(frozen=True)
class EnvVar:
    """One plain-text environment variable."""

    name: str
    value: str


@dataclass(frozen=True)
class SecretRef:
    """An environment variable filled from Secrets Manager or SSM Parameter Store."""

    name: str
    value_from: str


@dataclass(frozen=True)
class StepSpec:
    """One step with defaults merged in. `job_definition` set means the step runs an existing
    job definition and the inline container fields (image, command, ...) are unset."""

    name: str
    queue: str
    depends_on: tuple[str, ...] = ()
    job_definition: str | None = None
    image: str | None = None
    command: tuple[str, ...] | None = None
    vcpus: float | None = None
    memory: int | None = None
    gpus: int | None = None
    environment: tuple[EnvVar, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    job_role_arn: str | None = None
    execution_role_arn: str | None = None
    platform: Platform | None = None
    retry: RetrySpec | None = None
    timeout_seconds: int | None = None
    array_size: int | None = None
    array_dependency: ArrayDependency | None = None
    parameters: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    propagate_tags: bool | None = None
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    batch_fields: Mapping[str, JsonValue] = field(default_factory=lambda: MappingProxyType({}))
    """Batch request members carried as written (`request_surface.PASSTHROUGH`), only those
    that apply to the step's kind of job."""

    @property
    def inline(self) -> bool:
        """True when the operator registers this step's job definition from the spec."""
        return self.job_definition is None

    @property
    def kind(self) -> JobKind:
        """What the step runs: an inline container, another inline job type (by the name of
        its RegisterJobDefinition member), or an existing job definition."""
        if self.job_definition is not None:
            return "jobDefinition"
        return next((p for p in JOB_PROPERTIES if p in self.batch_fields), "container")


@dataclass(frozen=True)
class PipelineSpec:
    """A parsed BatchPipeline spec. `parameters` are the run parameters given to every job."""

    steps: tuple[StepSpec, ...]
    parameters: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    fail_fast: bool = True
    active_deadline_seconds: int | None = None
    ttl_seconds_after_finished: int | None = None
    terminate_on_delete: bool = True
    account_ref: str | None = None
    """spec.accountRef: the BatchAccount to run in (None: the namespace's default)."""
    region: str | None = None
    """spec.region (None: the account's region, else the operator's)."""

    @property
    def step_names(self) -> tuple[str, ...]:
        """Step names in spec order."""
        return tuple(step.name for step in self.steps)

    def step(self, name: str) -> StepSpec:
        """The step called `name` (KeyError if there is none)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


# --- parsing ------------------------------------------------------------------------------------

# The CRD's step and spec fields (tests/unit/test_crd_pipeline.py keeps the two in step).
STEP_FIELDS: Final = frozenset(
    {
        "queue",
        "image",
        "command",
        "vcpus",
        "memory",
        "gpus",
        "environment",
        "secrets",
        "jobRoleArn",
        "executionRoleArn",
        "platform",
        "retry",
        "timeoutSeconds",
        "arraySize",
        "arrayDependency",
        "parameters",
        "tags",
        "propagateTags",
        "shareIdentifier",
        "schedulingPriority",
        "jobDefinition",
        *PASSTHROUGH,
    }
)
# Fields only an inline container has: a jobDefinition, nodeProperties, eksProperties or
# ecsProperties step may not set them (CEL enforces this too).
_CONTAINER_ONLY_FIELDS: Final = (
    "image",
    "command",
    "secrets",
    "jobRoleArn",
    "executionRoleArn",
    *sorted(CONTAINER_PASSTHROUGH),
)
# Fields of the container's resources and environment, which the other inline job types
# describe inside their own properties.
_CONTAINER_RESOURCE_FIELDS: Final = ("vcpus", "memory", "gpus", "environment")
PIPELINE_FIELDS: Final = frozenset(
    {
        "queue",
        "image",
        "defaults",
        "parameters",
        "steps",
        "failFast",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
        "terminateOnDelete",
        "accountRef",
        "region",
    }
)
MAX_STEPS: Final = 500

_T = TypeVar("_T")


def _first(*values: _T | None) -> _T | None:
    return next((value for value in values if value is not None), None)


_Choice = TypeVar("_Choice", bound=str)


def _choice(reader: FieldReader, key: str, options: tuple[_Choice, ...]) -> _Choice | None:
    value = reader.opt_enum(key, options)
    return next((option for option in options if option == value), None)


def _object(raw: object, path: str, allowed: frozenset[str]) -> FieldReader:
    """A reader over `raw`, rejecting fields the CRD does not define (the apiserver prunes
    them, so one here means the spec did not come through the CRD, e.g. a typo in a test)."""
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise SpecError(f"{path}.{unknown[0]}", "unknown field")
    return FieldReader(raw, path)


def _objects(raw: object, path: str, allowed: frozenset[str]) -> list[FieldReader]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SpecError(path, "must be a list")
    return [_object(item, f"{path}[{index}]", allowed) for index, item in enumerate(raw)]


def _bounded(reader: FieldReader, key: str, minimum: int, maximum: int | None = None) -> int | None:
    value = reader.opt_int(key)
    if value is not None and (value < minimum or (maximum is not None and value > maximum)):
        bounds = (
            f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        )
        raise reader.fail(key, f"must be {bounds}, got {value}")
    return value


def _positive_number(raw: Mapping[str, object], reader: FieldReader, key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reader.fail(key, "must be a number")
    if isinstance(value, float) and math.isnan(value):
        raise reader.fail(key, "must be a number")
    if value > sys.float_info.max:  # infinity, or an integer no float can hold
        raise reader.fail(key, "must be a finite number")
    if value <= 0:
        raise reader.fail(key, f"must be positive, got {value}")
    return float(value)


def _string(reader: FieldReader, key: str, max_length: int = 1024) -> str | None:
    value = reader.opt_str(key)
    if value is not None and not 0 < len(value) <= max_length:
        raise reader.fail(key, f"must have 1 to {max_length} characters")
    return value


def _tags(reader: FieldReader) -> Mapping[str, str]:
    tags = check_tags(reader, "tags")
    for key, value in tags.items():
        if key.startswith(RESERVED_TAG_PREFIXES):
            raise reader.fail("tags", f"tag key {key!r}: aws: and batchops.io/ are reserved")
        if not (0 < len(key) <= 128 and len(value) <= 256):
            raise reader.fail("tags", f"tag key {key!r}: keys have 1-128, values 0-256 characters")
    return tags


def _on_interruption(raw: object, path: str) -> OnInterruption:
    fields = _object(raw, path, frozenset({"resubmits", "queue"}))
    resubmits = _bounded(fields, "resubmits", 1, 10)
    if resubmits is None:
        raise fields.fail("resubmits", "is required (1-10)")
    return OnInterruption(resubmits, _string(fields, "queue", 512))


def _retry(raw: object, path: str) -> RetrySpec:
    fields = _object(raw, path, frozenset({"attempts", "evaluateOnExit", "onInterruption"}))
    assert isinstance(raw, Mapping)
    entries = _objects(
        raw.get("evaluateOnExit"),
        path + ".evaluateOnExit",
        frozenset({"action", "onStatusReason", "onReason", "onExitCode"}),
    )
    on_interruption = (
        _on_interruption(raw["onInterruption"], path + ".onInterruption")
        if fields.has("onInterruption")
        else None
    )
    # The operator puts one entry of its own first (Batch exits at once on a host loss and the
    # operator resubmits), so four are left for the step's own.
    limit = 4 if on_interruption is not None else 5
    if len(entries) > limit:
        raise fields.fail(
            "evaluateOnExit",
            f"Batch allows at most 5 entries{', one is for onInterruption' if limit == 4 else ''}",
        )
    conditions: list[ExitCondition] = []
    for entry in entries:
        action = _choice(entry, "action", _RETRY_ACTIONS)
        if action is None:
            raise entry.fail("action", "is required (RETRY or EXIT)")
        condition = ExitCondition(
            action=action,
            on_status_reason=_string(entry, "onStatusReason", 512),
            on_reason=_string(entry, "onReason", 512),
            on_exit_code=_string(entry, "onExitCode", 512),
        )
        if not (condition.on_status_reason or condition.on_reason or condition.on_exit_code):
            raise SpecError(
                entry.path, "needs at least one of onStatusReason, onReason, onExitCode"
            )
        if condition.on_exit_code and not re.fullmatch(r"[0-9]*\*?", condition.on_exit_code):
            raise entry.fail("onExitCode", "must be digits, optionally ending with *")
        conditions.append(condition)
    attempts = _bounded(fields, "attempts", 1, 10)
    if attempts is None and (conditions or on_interruption is not None):
        # Batch refuses evaluateOnExit without attempts ("RetryAttempts must be provided with
        # retry strategy"); 1 is what Batch does without a retry strategy.
        attempts = 1
    return RetrySpec(
        attempts=attempts, evaluate_on_exit=tuple(conditions), on_interruption=on_interruption
    )


@dataclass(frozen=True)
class _StepValues:
    """The step fields one layer sets (a step, or spec.defaults), before merging; None = unset."""

    queue: str | None = None
    image: str | None = None
    command: tuple[str, ...] | None = None
    vcpus: float | None = None
    memory: int | None = None
    gpus: int | None = None
    environment: Mapping[str, EnvVar] = field(default_factory=lambda: MappingProxyType({}))
    secrets: Mapping[str, SecretRef] = field(default_factory=lambda: MappingProxyType({}))
    job_role_arn: str | None = None
    execution_role_arn: str | None = None
    platform: Platform | None = None
    retry: RetrySpec | None = None
    timeout_seconds: int | None = None
    array_size: int | None = None
    array_dependency: ArrayDependency | None = None
    parameters: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    tags: Mapping[str, str] = field(default_factory=lambda: frozen_map(None))
    propagate_tags: bool | None = None
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    job_definition: str | None = None
    batch_fields: Mapping[str, JsonValue] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def own_kind(self) -> JobKind | None:
        """The kind of job these values set by themselves (None: nothing that decides it)."""
        if self.job_definition is not None:
            return "jobDefinition"
        for name in JOB_PROPERTIES:
            if name in self.batch_fields:
                return name
        defines_container = any(
            value is not None
            for value in (self.image, self.command, self.job_role_arn, self.execution_role_arn)
        ) or bool(self.secrets or CONTAINER_PASSTHROUGH & self.batch_fields.keys())
        return "container" if defines_container else None

    def applicable(self, kind: JobKind) -> Mapping[str, JsonValue]:
        """The pass-through fields that apply to a step of `kind`."""
        if kind == "container":
            names: frozenset[str] | tuple[str, ...] = CONTAINER_PASSTHROUGH
        elif kind == "jobDefinition":
            names = SUBMIT_OVERRIDES
        else:
            names = (kind,)
        return {name: value for name, value in self.batch_fields.items() if name in names}


def _check_one_kind(reader: FieldReader) -> None:
    """A step (or spec.defaults) describes one kind of job: a container, one of the other
    job types of RegisterJobDefinition, or an existing job definition (CEL says it too)."""
    kinds = [key for key in ("jobDefinition", *JOB_PROPERTIES) if reader.has(key)]
    if len(kinds) > 1:
        raise reader.fail(kinds[1], f"cannot be set together with {kinds[0]}")
    container = any(reader.has(key) for key in _CONTAINER_ONLY_FIELDS)
    kind = kinds[0] if kinds else ("container" if container else None)
    if kind is not None and kind != "jobDefinition":
        for key in sorted(SUBMIT_OVERRIDES):
            if reader.has(key):
                raise reader.fail(key, "only applies to a step that uses jobDefinition")
    if kind is None or kind == "container":
        return
    for key in _CONTAINER_ONLY_FIELDS:
        if reader.has(key):
            raise reader.fail(key, f"cannot be set together with {kind}")
    if kind in ("jobDefinition", "eksProperties") and reader.has("platform"):
        raise reader.fail("platform", f"cannot be set together with {kind}")
    if kind != "jobDefinition":
        for key in _CONTAINER_RESOURCE_FIELDS:
            if reader.has(key):
                raise reader.fail(key, f"belongs in the containers of {kind}, not on the step")


def _read_step_values(raw: Mapping[str, object], reader: FieldReader) -> _StepValues:
    _check_one_kind(reader)
    environment: dict[str, EnvVar] = {}
    for entry in _objects(
        raw.get("environment"), reader.path + ".environment", frozenset({"name", "value"})
    ):
        name = entry.req_str("name")
        if not 0 < len(name) <= 256:
            raise entry.fail("name", "must have 1 to 256 characters")
        if name.startswith("AWS_BATCH"):
            raise entry.fail("name", "names starting with AWS_BATCH are reserved by Batch")
        if name in environment:
            raise entry.fail("name", f"duplicate environment variable {name!r}")
        environment[name] = EnvVar(name, entry.opt_str("value") or "")
    secrets: dict[str, SecretRef] = {}
    for entry in _objects(
        raw.get("secrets"), reader.path + ".secrets", frozenset({"name", "valueFrom"})
    ):
        name = entry.req_str("name")
        if name in secrets:
            raise entry.fail("name", f"duplicate secret {name!r}")
        secrets[name] = SecretRef(name, entry.req_str("valueFrom"))
    return _StepValues(
        queue=_string(reader, "queue", 512),
        image=_string(reader, "image"),
        command=reader.opt_str_list("command"),
        vcpus=_positive_number(raw, reader, "vcpus"),
        memory=_bounded(reader, "memory", 4, 67108864),
        gpus=_bounded(reader, "gpus", 0, 64),
        environment=MappingProxyType(environment),
        secrets=MappingProxyType(secrets),
        job_role_arn=_string(reader, "jobRoleArn", 2048),
        execution_role_arn=_string(reader, "executionRoleArn", 2048),
        platform=_choice(reader, "platform", _PLATFORMS),
        retry=_retry(raw["retry"], reader.path + ".retry") if reader.has("retry") else None,
        timeout_seconds=_bounded(reader, "timeoutSeconds", 60, 31536000),
        array_size=_bounded(reader, "arraySize", 2, 10000),
        array_dependency=_choice(reader, "arrayDependency", _ARRAY_DEPENDENCIES),
        parameters=reader.opt_str_map("parameters") or frozen_map(None),
        tags=_tags(reader),
        propagate_tags=reader.opt_bool("propagateTags"),
        share_identifier=_string(reader, "shareIdentifier", 255),
        scheduling_priority=_bounded(reader, "schedulingPriority", 0, 9999),
        job_definition=_string(reader, "jobDefinition"),
        batch_fields=MappingProxyType(
            {name: freeze_json(raw[name]) for name in PASSTHROUGH if raw.get(name) is not None}
        ),
    )


_UNSET: Final = _StepValues()


def _merge(
    name: str,
    depends_on: tuple[str, ...],
    own: _StepValues,
    defaults: _StepValues,
    pipeline: FieldReader,
) -> StepSpec:
    """step field > spec.defaults > spec.image / spec.queue. On a jobDefinition step the
    container fields of defaults (image, command, resources, environment, secrets, roles,
    platform) do not apply: the definition owns its container, and the step's own vcpus,
    memory, gpus and environment become submit-time overrides."""
    kind = own.own_kind or defaults.own_kind or "container"
    job_definition = (
        own.job_definition or defaults.job_definition if kind == "jobDefinition" else None
    )
    container = defaults if kind == "container" else _UNSET
    if kind == "container":
        image = _first(own.image, container.image, _string(pipeline, "image"))
    else:
        image = None
    own_fields = own.applicable(kind)
    batch_fields = {**defaults.applicable(kind), **own_fields}
    return StepSpec(
        name=name,
        queue=_first(own.queue, defaults.queue, _string(pipeline, "queue", 512)) or "",
        depends_on=depends_on,
        job_definition=job_definition,
        image=image,
        command=_first(own.command, container.command),
        vcpus=_first(own.vcpus, container.vcpus),
        memory=_first(own.memory, container.memory),
        gpus=_first(own.gpus, container.gpus),
        environment=tuple({**container.environment, **own.environment}.values()),
        secrets=tuple({**container.secrets, **own.secrets}.values()),
        job_role_arn=_first(own.job_role_arn, container.job_role_arn),
        execution_role_arn=_first(own.execution_role_arn, container.execution_role_arn),
        platform=_platform(kind, own, defaults),
        retry=_first(own.retry, defaults.retry),
        timeout_seconds=_first(own.timeout_seconds, defaults.timeout_seconds),
        array_size=_first(own.array_size, defaults.array_size),
        array_dependency=_first(own.array_dependency, defaults.array_dependency),
        parameters=frozen_map({**defaults.parameters, **own.parameters}),
        tags=frozen_map({**defaults.tags, **own.tags}),
        propagate_tags=_first(own.propagate_tags, defaults.propagate_tags),
        share_identifier=_first(own.share_identifier, defaults.share_identifier),
        scheduling_priority=_first(own.scheduling_priority, defaults.scheduling_priority),
        batch_fields=MappingProxyType(batch_fields),
    )


def _platform(kind: JobKind, own: _StepValues, defaults: _StepValues) -> Platform | None:
    """The platform of an inline job: a container's or ECS task's is EC2 unless set, a
    multi-node job's is EC2 (never Fargate), an EKS job has none (RegisterJobDefinition:
    "If the job runs on Amazon EKS resources, then you must not specify
    platformCapabilities." https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html)."""
    if kind == "jobDefinition":
        return None
    if kind == "eksProperties":
        return own.platform
    return _first(own.platform, defaults.platform, "EC2")


def _check_step(step: StepSpec, reader: FieldReader) -> None:
    """Rules that need the merged step (a default may supply what the step lacks)."""
    if not step.queue:
        raise reader.fail(
            "queue", "no queue: set the step's queue, spec.defaults.queue or spec.queue"
        )
    if len(step.tags) > MAX_USER_TAGS:
        raise reader.fail(
            "tags",
            f"at most {MAX_USER_TAGS} tags including spec.defaults.tags "
            "(Batch allows 50 and the operator adds its own)",
        )
    if step.job_definition is not None and not _JOB_DEFINITION_REF.fullmatch(step.job_definition):
        raise reader.fail("jobDefinition", "must be a name, name:revision or an ARN")
    if step.array_dependency is not None and step.array_size is None:
        raise reader.fail("arrayDependency", "needs arraySize (only array jobs have it)")
    if step.share_identifier is not None and not re.fullmatch(
        r"[A-Za-z0-9]+\*?", step.share_identifier
    ):
        raise reader.fail("shareIdentifier", "must be alphanumeric, optionally ending with *")
    if step.kind == "jobDefinition":
        _check_overrides(step, reader)
    if step.kind == "nodeProperties":
        _check_multinode(step, reader)
    if step.kind != "container":
        return
    if step.image is None:
        raise reader.fail(
            "image",
            "no image: set the step's image, spec.defaults.image or spec.image, "
            "or use jobDefinition",
        )
    if step.vcpus is None or step.memory is None:
        key = "vcpus" if step.vcpus is None else "memory"
        raise reader.fail(
            key, "is required for an inline container (on the step or in spec.defaults)"
        )
    if step.platform == "FARGATE":
        if step.vcpus not in FARGATE_VCPUS:
            raise reader.fail("vcpus", "Fargate supports 0.25, 0.5, 1, 2, 4, 8, 16 or 32 vCPUs")
        if step.gpus:
            raise reader.fail("gpus", "GPUs are not available on Fargate")
        if step.execution_role_arn is None:
            raise reader.fail("executionRoleArn", "is required on Fargate")
        _check_fargate_container(step, reader)
    else:
        if not step.vcpus.is_integer():
            raise reader.fail("vcpus", "must be a whole number on EC2 (at least 1)")
        for key in _FARGATE_ONLY:
            if key in step.batch_fields:
                raise reader.fail(key, "is for jobs on Fargate only (platform: FARGATE)")


# "Jobs that are running on Amazon EC2 resources must not specify this parameter."
# (ContainerProperties.networkConfiguration and .fargatePlatformConfiguration,
# https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerProperties.html)
_FARGATE_ONLY: Final = ("networkConfiguration", "fargatePlatformConfiguration")
# "This parameter isn't applicable to jobs that are running on Fargate resources and shouldn't
# be provided" (ContainerProperties.privileged and .ulimits; LinuxParameters.devices,
# .sharedMemorySize, .tmpfs, .maxSwap, .swappiness:
# https://docs.aws.amazon.com/batch/latest/APIReference/API_LinuxParameters.html)
_NOT_ON_FARGATE_LINUX: Final = ("devices", "sharedMemorySize", "tmpfs", "maxSwap", "swappiness")


def _check_fargate_container(step: StepSpec, reader: FieldReader) -> None:
    if step.batch_fields.get("privileged") is True:
        raise reader.fail("privileged", "Fargate does not run privileged containers")
    if "ulimits" in step.batch_fields:
        raise reader.fail("ulimits", "is not available on Fargate")
    linux = step.batch_fields.get("linuxParameters")
    if isinstance(linux, Mapping):
        for key in _NOT_ON_FARGATE_LINUX:
            if linux.get(key) is not None:
                raise reader.fail(f"linuxParameters.{key}", "is not available on Fargate")


def _check_inherited_kind(step: StepSpec, reader: FieldReader) -> None:
    """A step whose kind of job comes from spec.defaults may not set what that kind ignores:
    a setting is refused, never silently dropped."""
    if step.kind != "jobDefinition":
        for key in sorted(SUBMIT_OVERRIDES):
            if reader.has(key):
                raise reader.fail(key, "only applies to a step that uses jobDefinition")
    if step.kind in JOB_PROPERTIES:
        for key in _CONTAINER_RESOURCE_FIELDS:
            if reader.has(key):
                raise reader.fail(key, f"belongs in the containers of {step.kind}, not on the step")


def _check_overrides(step: StepSpec, reader: FieldReader) -> None:
    """vcpus, memory, gpus and environment are the short form of containerOverrides: one
    value may not be given twice."""
    overrides = step.batch_fields.get("containerOverrides")
    if not isinstance(overrides, Mapping):
        return
    if overrides.get("resourceRequirements") is not None and (
        step.vcpus is not None or step.memory is not None or step.gpus is not None
    ):
        raise reader.fail(
            "containerOverrides.resourceRequirements",
            "cannot be set together with vcpus, memory or gpus (their short form)",
        )
    if overrides.get("environment") is not None and step.environment:
        raise reader.fail(
            "containerOverrides.environment",
            "cannot be set together with environment (its short form)",
        )


def _check_multinode(step: StepSpec, reader: FieldReader) -> None:
    """Multi-node parallel jobs run on EC2 only and are never array jobs: "Multi-node parallel
    jobs aren't supported on Fargate" and "you can't submit multi-node parallel jobs as array
    jobs" (AWS Batch User Guide, "Multi-node parallel jobs",
    https://docs.aws.amazon.com/batch/latest/userguide/multi-node-parallel-jobs.html)."""
    if step.platform == "FARGATE":
        raise reader.fail("platform", "multi-node parallel jobs do not run on Fargate")
    if step.array_size is not None:
        raise reader.fail("arraySize", "a multi-node parallel job cannot be an array job")
    nodes = step.batch_fields["nodeProperties"]
    assert isinstance(nodes, Mapping)
    count, main = nodes.get("numNodes"), nodes.get("mainNode")
    if isinstance(count, int) and isinstance(main, int) and not 0 <= main < count:
        raise reader.fail(
            "nodeProperties.mainNode", f"must be a node index below numNodes ({count})"
        )


def parse_pipeline_spec(raw: Mapping[str, object]) -> PipelineSpec:
    """Parse a raw BatchPipeline spec with defaults merged; raises SpecError naming the field."""
    pipeline = _object(raw, "spec", PIPELINE_FIELDS)
    _string(pipeline, "queue", 512)
    _string(pipeline, "image")
    defaults = _UNSET
    if pipeline.has("defaults"):
        defaults_raw = raw["defaults"]
        reader = _object(defaults_raw, "spec.defaults", STEP_FIELDS)
        assert isinstance(defaults_raw, Mapping)
        defaults = _read_step_values(defaults_raw, reader)
    step_readers = _objects(raw.get("steps"), "spec.steps", STEP_FIELDS | {"name", "dependsOn"})
    if not 0 < len(step_readers) <= MAX_STEPS:
        raise SpecError("spec.steps", f"needs 1 to {MAX_STEPS} steps")
    step_list = raw["steps"]
    assert isinstance(step_list, list)
    steps: list[StepSpec] = []
    for reader, step_raw in zip(step_readers, step_list, strict=True):
        name = reader.opt_str("name")
        if name is None or not _STEP_NAME.fullmatch(name):
            raise reader.fail(
                "name",
                "is required: up to 63 letters, digits, '-' or '_', "
                "starting with a letter or digit",
            )
        depends_on = reader.opt_str_list("dependsOn") or ()
        if len(set(depends_on)) != len(depends_on):
            raise reader.fail("dependsOn", "lists a step more than once")
        own = _read_step_values(step_raw, reader)
        step = _merge(name, depends_on, own, defaults, pipeline)
        _check_inherited_kind(step, reader)
        _check_step(step, reader)
        steps.append(step)
    return PipelineSpec(
        steps=tuple(steps),
        parameters=pipeline.opt_str_map("parameters") or frozen_map(None),
        fail_fast=pipeline.opt_bool("failFast") is not False,
        active_deadline_seconds=_bounded(pipeline, "activeDeadlineSeconds", 1),
        ttl_seconds_after_finished=_bounded(pipeline, "ttlSecondsAfterFinished", 0),
        terminate_on_delete=pipeline.opt_bool("terminateOnDelete") is not False,
        account_ref=pipeline.opt_str("accountRef"),
        region=pipeline.opt_str("region"),
    )
