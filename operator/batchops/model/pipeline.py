"""The BatchPipeline spec, as typed immutable values (what a run observes is `model/observed.py`).

The raw spec is parsed once, at the handler boundary, by `model/pipeline_parsing.py`, which
merges defaults, so everything downstream sees complete steps. The rules between a merged
step's fields live in `model/step_rules.py`; cross-step rules (unknown or cyclic dependencies,
duplicate names) belong to `batchops.plans.dag`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from batchops.model.common import frozen_map
from batchops.model.request_surface import (
    JOB_PROPERTIES,
    JsonValue,
)

Platform = Literal["EC2", "FARGATE"]
JobKind = Literal["container", "nodeProperties", "eksProperties", "ecsProperties", "jobDefinition"]
ArrayDependency = Literal["N_TO_N", "SEQUENTIAL"]
RetryAction = Literal["RETRY", "EXIT"]

MAX_USER_TAGS: Final = 40  # Batch allows 50; the operator adds its own on jobs and definitions.
FARGATE_VCPUS: Final = frozenset({0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0})


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
class ResourceClaim:
    """A quantity of a consumable resource a step's job holds while it runs: `ref` names a
    BatchConsumableResource in the pipeline's namespace, `arn` one batchops does not manage.
    A ref gets its `arn` when the pipeline is admitted (reconcile/pipeline_admission.py)."""

    quantity: int
    ref: str | None = None
    arn: str | None = None

    @property
    def label(self) -> str:
        """How messages name the resource: as the user wrote it."""
        return self.ref or self.arn or "?"


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
    consumable_resources: tuple[ResourceClaim, ...] = ()
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
