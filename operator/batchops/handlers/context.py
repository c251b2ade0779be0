"""Everything the handlers share for the life of one operator process."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from batchops.aws.batch import BatchApi
from batchops.aws.errors import AwsError
from batchops.aws.events import JobEventQueue
from batchops.aws.ratelimit import SUBMIT_JOB_BURST, SUBMIT_JOB_RATE, TokenBucket
from batchops.aws.session import AwsSettings, assumed_at, caller_identity, client_for
from batchops.config import OperatorConfig
from batchops.handlers.loops import Loops
from batchops.jobs.blocked import BlockedQueues
from batchops.jobs.catalog import JobDefinitionCatalog
from batchops.jobs.describer import JobDescriber, cached_describer, describe_jobs, fresh_describer
from batchops.jobs.watch import JobWatch
from batchops.kube.client import KINDS_BY_NAME, namespace_uid, object_exists, read_config_map
from batchops.metrics import observe_job_change
from batchops.model import keys
from batchops.model.account import AccountSpec, AssumedRole, NamespaceFacts, Target
from batchops.model.observed import ObservedJob
from batchops.plans.accounts import choose_target
from batchops.plans.ownership import Owner
from batchops.reconcile.account import AccountIdentity
from batchops.reconcile.common import Placement, Tenancy, Timing

logger = logging.getLogger(__name__)


@dataclass
class OperatorContext:
    """Shared state, stored in kopf's operator-wide memo as `memo.context`."""

    config: OperatorConfig
    loops: Loops = field(default_factory=Loops)
    jobs: JobWatch = field(default_factory=lambda: JobWatch(on_change=observe_job_change))
    blocked: BlockedQueues = field(default_factory=BlockedQueues)
    """Job queues Batch reports as blocked, as the pipelines saw their jobs."""
    poller_task: asyncio.Task[None] | None = None
    events_task: asyncio.Task[None] | None = None
    _apis: dict[tuple[AssumedRole | None, str], BatchApi] = field(default_factory=dict)
    _catalogs: dict[tuple[AssumedRole | None, str], JobDefinitionCatalog] = field(
        default_factory=dict
    )
    _submit_buckets: dict[str, TokenBucket] = field(default_factory=dict)
    _own_account: tuple[float, str | None] | None = None
    _versions: dict[tuple[str, str], object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _trusted: tuple[float, frozenset[str]] | None = None
    _cluster_uid: str | None = None

    TENANCY_TTL_SECONDS = 30.0
    """How long the tenancy ConfigMap is cached: an admin's change applies within this."""
    OWN_ACCOUNT_RETRY_SECONDS = 60.0
    """After GetCallerIdentity of the operator's own identity failed, when to ask again."""

    def tenancy(self, indexes: Mapping[str, object]) -> Tenancy:
        """What reconcilers ask the cluster about other tenants and accounts; `indexes` are a
        handler's keyword arguments (kopf passes the live BatchAccount and Namespace indexes)."""
        accounts = keys.BATCH_ACCOUNTS.of(indexes)
        namespaces = keys.NAMESPACES.of(indexes)

        def place(namespace: str, account_ref: str | None, region: str | None) -> Placement:
            facts = next(iter(namespaces.get((None, namespace), ())), None)

            def account(name: str) -> AccountSpec | str | None:
                found = next(iter(accounts.get((None, name), ())), None)
                return found if isinstance(found, AccountSpec | str) else None

            return choose_target(
                facts if isinstance(facts, NamespaceFacts) else None,
                namespace,
                account_ref,
                region,
                account,
                self.config.region,
            )

        return Tenancy(
            owner_exists=_owner_exists,
            trusted_namespaces=self._trusted_namespaces,
            place=place,
            account_id=self.account_id,
        )

    def seen_version(
        self, key: tuple[str, str], version: object, first_counts: bool = False
    ) -> bool:
        """Remember the version of something watched; True when it changed since last seen (or
        is seen for the first time, with `first_counts`)."""
        with self._lock:
            known = key in self._versions
            changed = self._versions.get(key) != version
            self._versions[key] = version
        return changed if known else first_counts

    def cluster_uid(self) -> str:
        """The uid of kube-system, which names this cluster on the job definitions it registers
        (asked once; a failure raises KubeUnavailable and the pass is retried)."""
        with self._lock:
            known = self._cluster_uid
        if known is None:
            known = namespace_uid("kube-system")
            with self._lock:
                self._cluster_uid = known
        return known

    def account_id(self, target: Target) -> str | None:
        """The AWS account a target acts in: its role's, or the operator's own (asked once with
        GetCallerIdentity; None while STS cannot say, so references are not compared)."""
        if target.role is not None:
            return target.role.account_id
        with self._lock:
            known = self._own_account
        if known is not None and (
            known[1] is not None or time.monotonic() - known[0] < self.OWN_ACCOUNT_RETRY_SECONDS
        ):
            return known[1]
        try:
            account: str | None = caller_identity(self._settings(Target())).account_id
        except AwsError as exc:
            logger.warning(f"could not tell the operator's own AWS account: {exc}")
            account = None
        with self._lock:
            self._own_account = (time.monotonic(), account)
        return account

    def identify(self, role: AssumedRole) -> AccountIdentity:
        """Assume a BatchAccount's role (cached credentials) and ask STS who that is."""
        settings = self._settings(Target(role=role))
        identity = caller_identity(settings)
        return AccountIdentity(identity.account_id, identity.arn, assumed_at(settings))

    def _settings(self, target: Target) -> AwsSettings:
        return AwsSettings(
            region=target.region or self.config.region,
            endpoint_url=self.config.endpoint_url,
            role=target.role,
        )

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

    def batch(self, target: Target) -> BatchApi:
        """The Batch API of one account and region; one per (account, region), with SubmitJob
        paced per account."""
        settings = self._settings(target)
        key = (settings.role, settings.region)
        with self._lock:
            api = self._apis.get(key)
            if api is None:
                account = settings.role.account_id if settings.role else ""
                bucket = self._submit_buckets.get(account)
                if bucket is None:
                    bucket = self._submit_buckets[account] = TokenBucket(
                        SUBMIT_JOB_RATE, burst=SUBMIT_JOB_BURST
                    )
                api = self._apis[key] = BatchApi(
                    client_for("batch", settings), submit_bucket=bucket
                )
            return api

    def job_definitions(self, target: Target) -> JobDefinitionCatalog:
        """The job definition catalog of one account and region."""
        settings = self._settings(target)
        key = (settings.role, settings.region)
        api = self.batch(target)
        with self._lock:
            catalog = self._catalogs.get(key)
            if catalog is None:
                catalog = self._catalogs[key] = JobDefinitionCatalog(
                    api.describe_all_job_definitions
                )
            return catalog

    def job_events(self) -> JobEventQueue | None:
        """The SQS queue of job state changes, in event mode."""
        if self.config.event_queue_url is None:
            return None
        settings = AwsSettings(region=self.config.region, endpoint_url=self.config.endpoint_url)
        return JobEventQueue(client_for("sqs", settings), self.config.event_queue_url)

    def describe_jobs(self, target: object, job_ids: Sequence[str]) -> list[ObservedJob]:
        """DescribeJobs (chunked by the AWS layer) where the jobs live, parsed; `target` is a
        job watch place (None: the operator's own account and region)."""
        place = target if isinstance(target, Target) else Target()
        return describe_jobs(self.batch(place), job_ids)

    def job_describers(self, target: Target) -> tuple[JobDescriber, JobDescriber]:
        """(cached, fresh) DescribeJobs of one account and region through the shared watch."""
        describe = functools.partial(self.describe_jobs, target)
        return cached_describer(self.jobs, describe), fresh_describer(self.jobs, describe)


def _owner_exists(kind: str, owner: Owner) -> bool:
    return object_exists(KINDS_BY_NAME[kind], owner.namespace, owner.name, owner.uid)
