"""Every `batchops.io/*` key the operator and the CLI agree on, and the names of kopf's indexes.

Annotations (requests a person or the CLI makes), labels (which CronPipeline made a run), the
finalizer and kopf's own bookkeeping, the tags the operator puts on AWS resources, and the
indexes one kind's handlers read of another's: each spelled once, here. The ownership tags of
AWS resources (`batchops.io/owner`, `batchops.io/owner-uid`) live with the ownership rules in
`plans/ownership.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

PREFIX: Final = "batchops.io"
"""The prefix of every key below; kopf keeps its progress annotations under it too."""

# --- annotations: requests on an object ---------------------------------------------------------

RERUN_ANNOTATION: Final = "batchops.io/rerun"
"""On a BatchPipeline: a new value starts the run again without a spec change."""

TERMINATE_ANNOTATION: Final = "batchops.io/terminate"
"""On a BatchPipeline: a new value ends the current run as Cancelled."""

RETRY_FAILED_ANNOTATION: Final = "batchops.io/retry-failed"
"""On a BatchPipeline: a new value runs the failed, cancelled and never-run steps of the current
run again, keeping the jobs of the steps that succeeded."""

TRIGGER_ANNOTATION: Final = "batchops.io/trigger"
"""On a CronPipeline: a new value starts a run now, whatever the schedule says."""

SCHEDULED_TIME_ANNOTATION: Final = "batchops.io/scheduled-time"
"""On a run a CronPipeline created: the due time it was created for (RFC 3339)."""

ACCOUNT_ANNOTATION: Final = "batchops.io/account"
"""On a Namespace, set by a cluster admin: the BatchAccount its objects use when they name none
(spec.accountRef wins). The BatchAccount must still allow the namespace."""

# --- what every run of a CronPipeline is told -----------------------------------------------------

SCHEDULED_TIME_PARAMETER: Final = "scheduledTime"
"""The Batch parameter (`Ref::scheduledTime` in a command) holding a cron run's due time, RFC 3339
in UTC; the CronPipeline writes it into each run's `spec.parameters`."""

SCHEDULED_TIME_ENV: Final = "BATCHOPS_SCHEDULED_TIME"
"""The environment variable every inline step of a run with `scheduledTime` gets, same value."""

# --- labels and finalizers ----------------------------------------------------------------------

CRON_LABEL: Final = "batchops.io/cron"
"""On runs a CronPipeline created: its value names the CronPipeline (to find its runs)."""

FINALIZER: Final = "batchops.io/finalizer"
"""Holds every kind until its AWS resources (or jobs) are gone."""

# --- tags on AWS resources ----------------------------------------------------------------------

PIPELINE_TAG: Final = "batchops.io/pipeline"
"""On jobs: `namespace/pipeline`. (Job definitions are shared by content: they have none.)"""

CONTENT_HASH_TAG: Final = "batchops.io/content-hash"
"""On job definitions: the hash of the registration request, to reuse an identical revision."""

CLUSTER_TAG: Final = "batchops.io/cluster"
"""On job definitions: the uid of the registering cluster's kube-system namespace. Definitions
are shared by content within a namespace, so two clusters that share an AWS account and a
namespace name must neither share nor retire each other's."""

STEP_TAG: Final = "batchops.io/step"
"""On jobs: the pipeline step the job runs."""

RUN_TAG: Final = "batchops.io/run-id"
"""On jobs: the run the job belongs to."""

RESERVED_TAG_PREFIXES: Final = ("aws:", "batchops.io/")
"""Tag keys a user may not set: AWS's own, and ours."""


# --- typed accessors ----------------------------------------------------------------------------


def rerun_request(annotations: Mapping[str, str]) -> str | None:
    """The `batchops.io/rerun` value, if set."""
    return annotations.get(RERUN_ANNOTATION)


def terminate_request(annotations: Mapping[str, str]) -> str | None:
    """The `batchops.io/terminate` value, if set."""
    return annotations.get(TERMINATE_ANNOTATION)


def retry_failed_request(annotations: Mapping[str, str]) -> str | None:
    """The `batchops.io/retry-failed` value, if set."""
    return annotations.get(RETRY_FAILED_ANNOTATION)


def trigger_request(annotations: Mapping[str, str]) -> str | None:
    """The `batchops.io/trigger` value, if set."""
    return annotations.get(TRIGGER_ANNOTATION)


def creating_cron(labels: Mapping[str, str]) -> str | None:
    """The CronPipeline that created a run (its `batchops.io/cron` label), if any."""
    return labels.get(CRON_LABEL)


# --- kopf indexes -------------------------------------------------------------------------------

IndexKey = tuple[str | None, str]
"""(namespace, object name): the key of every batchops index."""

_Value = TypeVar("_Value")


@dataclass(frozen=True)
class IndexName(Generic[_Value]):
    """A kopf index: the id its `@kopf.index` handler registers under, and its value type."""

    name: str

    def of(self, kwargs: Mapping[str, object]) -> Mapping[IndexKey, Collection[_Value]]:
        """The live index among a handler's keyword arguments (kopf passes each by name)."""
        return cast(Mapping[IndexKey, Collection[_Value]], kwargs[self.name])


ArnIndex = Mapping[IndexKey, Collection[str | None]]
"""(namespace, object name) -> the ARN of its AWS resource once usable, else None."""

COMPUTE_ENVIRONMENT_ARNS: Final = IndexName[str | None]("compute_environment_arns")
"""BatchComputeEnvironment -> its ARN once VALID (for queues)."""

JOB_QUEUE_ARNS: Final = IndexName[str | None]("job_queue_arns")
"""BatchJobQueue -> its ARN once VALID (for pipeline steps)."""

SCHEDULING_POLICY_ARNS: Final = IndexName[str | None]("scheduling_policy_arns")
"""BatchSchedulingPolicy -> its ARN once it exists (for queues)."""

CONSUMABLE_RESOURCE_ARNS: Final = IndexName[str | None]("consumable_resource_arns")
"""BatchConsumableResource -> its ARN once it exists (for the steps that claim it)."""

QUEUE_REFS: Final = IndexName[str]("queue_refs")
"""(namespace, compute environment name) -> the queues that reference it."""

QUEUE_POLICY_REFS: Final = IndexName[str]("queue_policy_refs")
"""(namespace, scheduling policy name) -> the queues that reference it."""

BATCH_ACCOUNTS: Final = IndexName[object]("batch_accounts")
"""(None, BatchAccount name) -> its parsed spec (model.account.AccountSpec), or the SpecError
message when it does not parse."""

NAMESPACES: Final = IndexName[object]("namespace_facts")
"""(None, namespace name) -> its labels and annotations (model.account.NamespaceFacts)."""

COMPUTE_CAPACITY: Final = IndexName[str | None]("compute_environment_capacity")
"""BatchComputeEnvironment -> "spot" or "onDemand" as its computeResources.type says, else None
(for the spot/onDemand split of a run's usage)."""

PIPELINE_JOB_DEFINITIONS: Final = IndexName[tuple[str, ...]]("pipeline_job_definitions")
"""BatchPipeline -> the job definitions its status names (what retirement must keep)."""

QUEUE_COMPUTE_ENVIRONMENTS: Final = IndexName[tuple[str | None, ...]]("queue_compute_environments")
"""BatchJobQueue -> its compute environments by name (None for one named by ARN)."""


INDEXES: Final[tuple[IndexName[Any], ...]] = (
    COMPUTE_ENVIRONMENT_ARNS,
    JOB_QUEUE_ARNS,
    SCHEDULING_POLICY_ARNS,
    CONSUMABLE_RESOURCE_ARNS,
    QUEUE_REFS,
    QUEUE_POLICY_REFS,
    BATCH_ACCOUNTS,
    NAMESPACES,
    COMPUTE_CAPACITY,
    PIPELINE_JOB_DEFINITIONS,
    QUEUE_COMPUTE_ENVIRONMENTS,
)
"""Every kopf index batchops registers."""


def indexes_of(kwargs: Mapping[str, object]) -> dict[str, object]:
    """Only the live kopf indexes among a handler's keyword arguments: what an object's loop,
    made once, may keep. The other arguments (the event's body, kopf's patch and logger) would
    live as long as the loop."""
    return {index.name: kwargs[index.name] for index in INDEXES if index.name in kwargs}
