"""Reading a BatchPipeline spec: `parse_pipeline_spec`, once, at the handler boundary.

Defaults are merged here (step field > spec.defaults > spec.image / spec.queue), so everything
downstream sees complete steps and never looks at `defaults` again; the merged step is then
checked by `model/step_rules.py`.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, TypeVar

from batchops.model.common import FieldReader, SpecError, check_tags, frozen_map
from batchops.model.keys import RESERVED_TAG_PREFIXES
from batchops.model.pipeline import (
    ArrayDependency,
    EnvVar,
    ExitCondition,
    JobKind,
    OnInterruption,
    PipelineSpec,
    Platform,
    ResourceClaim,
    RetryAction,
    RetrySpec,
    SecretRef,
    StepSpec,
)
from batchops.model.request_surface import (
    CONTAINER_PASSTHROUGH,
    JOB_PROPERTIES,
    PASSTHROUGH,
    SUBMIT_OVERRIDES,
    JsonValue,
    freeze_json,
)
from batchops.model.step_rules import (
    CONTAINER_RESOURCE_FIELDS,
    check_inherited_kind,
    check_step,
)

_PLATFORMS: Final[tuple[Platform, ...]] = ("EC2", "FARGATE")
_ARRAY_DEPENDENCIES: Final[tuple[ArrayDependency, ...]] = ("N_TO_N", "SEQUENTIAL")
_RETRY_ACTIONS: Final[tuple[RetryAction, ...]] = ("RETRY", "EXIT")
# ConsumableResourceRequirement.consumableResource: "The name or ARN of the consumable resource"
# (API reference); an ARN names the resource across accounts, so a step writes an ARN or a ref.
_CONSUMABLE_RESOURCE_ARN = re.compile(
    r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:consumable-resource/\S+$"
)
_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")

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
        "consumableResources",
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
MAX_STEPS: Final = 5000

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
    consumable_resources: tuple[ResourceClaim, ...] | None = None
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
        for key in CONTAINER_RESOURCE_FIELDS:
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
        consumable_resources=_claims(raw.get("consumableResources"), reader),
        job_definition=_string(reader, "jobDefinition"),
        batch_fields=MappingProxyType(
            {name: freeze_json(raw[name]) for name in PASSTHROUGH if raw.get(name) is not None}
        ),
    )


def _claims(raw: object, reader: FieldReader) -> tuple[ResourceClaim, ...] | None:
    """consumableResources: [{ref | arn, quantity}], each resource once (CEL says it too)."""
    if raw is None:
        return None
    path = reader.path + ".consumableResources"
    claims: list[ResourceClaim] = []
    seen: set[str] = set()
    for entry in _objects(raw, path, frozenset({"ref", "arn", "quantity"})):
        ref, arn = entry.opt_str("ref"), entry.opt_str("arn")
        if (ref is None) == (arn is None):
            raise entry.fail("ref", "set exactly one of ref (a BatchConsumableResource) or arn")
        if arn is not None and not _CONSUMABLE_RESOURCE_ARN.fullmatch(arn):
            raise entry.fail("arn", "must be the ARN of a Batch consumable resource")
        if ref is not None and not _OBJECT_NAME.fullmatch(ref):
            raise entry.fail("ref", "must be the name of a BatchConsumableResource")
        quantity = _bounded(entry, "quantity", 1)
        if quantity is None:
            raise entry.fail("quantity", "is required")
        key = ref or arn or ""
        if key in seen:
            raise entry.fail(
                "ref" if ref else "arn", f"claims {key} twice: add the quantities instead"
            )
        seen.add(key)
        claims.append(ResourceClaim(quantity=quantity, ref=ref, arn=arn))
    return tuple(claims)


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
        consumable_resources=_first(own.consumable_resources, defaults.consumable_resources) or (),
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
        check_inherited_kind(step, reader)
        check_step(step, reader)
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
