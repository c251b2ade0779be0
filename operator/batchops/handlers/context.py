"""Everything the handlers share for the life of one operator process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from batchops.aws.batch import BatchApi
from batchops.aws.events import JobEventQueue
from batchops.aws.session import AwsSettings, client_for
from batchops.config import OperatorConfig
from batchops.handlers.loops import Wakeups
from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.jobs.describer import describe_jobs
from batchops.jobs.watch import JobWatch
from batchops.kube.client import KINDS_BY_NAME, object_exists, read_config_map
from batchops.metrics import observe_job_change
from batchops.model.observed import ObservedJob
from batchops.plans.ownership import Owner
from batchops.reconcile.common import Tenancy, Timing


@dataclass
class OperatorContext:
    """Shared state, stored in kopf's operator-wide memo as `memo.context`."""

    config: OperatorConfig
    wakeups: Wakeups = field(default_factory=Wakeups)
    jobs: JobWatch = field(default_factory=lambda: JobWatch(on_change=observe_job_change))
    poller_task: asyncio.Task[None] | None = None
    events_task: asyncio.Task[None] | None = None
    _apis: dict[str, BatchApi] = field(default_factory=dict)
    _catalogs: dict[str, JobDefinitionCatalog] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _trusted: tuple[float, frozenset[str]] | None = None

    TENANCY_TTL_SECONDS = 30.0
    """How long the tenancy ConfigMap is cached: an admin's change applies within this."""

    @property
    def tenancy(self) -> Tenancy:
        """What reconcilers ask the cluster about other tenants."""
        return Tenancy(owner_exists=_owner_exists, trusted_namespaces=self._trusted_namespaces)

    def _trusted_namespaces(self) -> frozenset[str]:
        with self._lock:
            cached = self._trusted
        if cached is not None and time.monotonic() - cached[0] < self.TENANCY_TTL_SECONDS:
            return cached[1]
        namespace, _, name = self.config.tenancy_config.partition("/")
        data = read_config_map(namespace, name) or {}
        trusted = frozenset(
            n.strip() for n in data.get("trustedNamespaces", "").split(",") if n.strip()
        )
        with self._lock:
            self._trusted = (time.monotonic(), trusted)
        return trusted

    @property
    def timing(self) -> Timing:
        """How long reconcile loops wait, from the command-line intervals."""
        return Timing(
            transition=min(5.0, self.config.poll_interval),
            resync=self.config.resync_interval,
            retry=min(10.0, max(1.0, self.config.poll_interval * 2)),
            job_poll_backstop=max(60.0, self.config.poll_interval * 6),
        )

    def batch(self, region: str | None) -> BatchApi:
        """The Batch API of one region (the operator's default when None); one per region."""
        region = region or self.config.region
        with self._lock:
            api = self._apis.get(region)
            if api is None:
                settings = AwsSettings(region=region, endpoint_url=self.config.endpoint_url)
                api = self._apis[region] = BatchApi(client_for("batch", settings))
            return api

    def job_definitions(self, region: str | None) -> JobDefinitionCatalog:
        """The job definition catalog of one region (the operator's default when None)."""
        region = region or self.config.region
        api = self.batch(region)
        with self._lock:
            catalog = self._catalogs.get(region)
            if catalog is None:
                catalog = self._catalogs[region] = JobDefinitionCatalog(
                    api.describe_all_job_definitions
                )
            return catalog

    def job_events(self) -> JobEventQueue | None:
        """The SQS queue of job state changes, in event mode."""
        if self.config.event_queue_url is None:
            return None
        settings = AwsSettings(region=self.config.region, endpoint_url=self.config.endpoint_url)
        return JobEventQueue(client_for("sqs", settings), self.config.event_queue_url)

    def describe_jobs(self, job_ids: Sequence[str]) -> list[ObservedJob]:
        """DescribeJobs (chunked by the AWS layer) in the operator's region, parsed."""
        return describe_jobs(self.batch(None), job_ids)


def _owner_exists(kind: str, owner: Owner) -> bool:
    return object_exists(KINDS_BY_NAME[kind], owner.namespace, owner.name, owner.uid)
