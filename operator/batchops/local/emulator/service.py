"""The emulated Batch service of one account in one region: every part wired together behind the
emulator's state lock (partitions.py keeps one per account and region)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from batchops.local.emulator import account, errors
from batchops.local.emulator.account import Partition
from batchops.local.emulator.clock import DEFAULT_DELAYS, Clock, TimerThread
from batchops.local.emulator.consumableresources import (
    ConsumableResourceHooks,
    ConsumableResources,
)
from batchops.local.emulator.faults import FaultInjector
from batchops.local.emulator.holds import Holds
from batchops.local.emulator.infrastructure import Infrastructure, InfrastructureHooks
from batchops.local.emulator.jobdefs import JobDefinitions
from batchops.local.emulator.jobs import job_arn
from batchops.local.emulator.outputs import JobLogs
from batchops.local.emulator.runners import AttemptRunner
from batchops.local.emulator.scenario import Scenario
from batchops.local.emulator.scheduler import JobScheduler
from batchops.local.emulator.schedulingpolicies import SchedulingPolicies
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import JsonObject, required_str, str_list, str_map

Operation = Callable[[JsonObject], JsonObject]


class BatchService:
    """Compute environments, queues, scheduling policies, consumable resources, job definitions,
    jobs, tags: one account in one region. The lock, the clock and the faults are the emulator's
    (shared by every partition); each partition has its own timer thread, which serves it."""

    def __init__(
        self,
        partition: Partition,
        lock: threading.RLock,
        clock: Clock,
        faults: FaultInjector,
    ) -> None:
        self.partition = partition
        self.lock = lock
        self.clock = clock
        self.faults = faults
        self._timers = TimerThread(self.lock, on_start=lambda: account.enter(partition))
        self._tags = TagStore()
        logs = JobLogs(partition)
        self.infrastructure = Infrastructure(self.clock, DEFAULT_DELAYS, self._timers, self._tags)
        self.scheduling_policies = SchedulingPolicies(
            self._tags, self.infrastructure.queues_using_scheduling_policy
        )
        self.consumable_resources = ConsumableResources(self._tags, Clock.now_ms, Clock.monotonic)
        self.definitions = JobDefinitions(self._tags, self.consumable_resources.check_requirements)
        self.runner = AttemptRunner(self.clock, DEFAULT_DELAYS, self._timers, self.lock, logs)
        self.scheduler = JobScheduler(
            self.clock,
            DEFAULT_DELAYS,
            self._timers,
            self.infrastructure,
            self.definitions,
            self._tags,
            self.runner,
            logs,
            self.consumable_resources,
            self.scheduling_policies,
        )
        self.infrastructure.hooks = InfrastructureHooks(
            capacity_changed=self.scheduler.capacity_changed,
            queue_deleting=self.scheduler.queue_deleting,
            consistency_window=lambda: self.faults.config.eventual_consistency_seconds,
            scheduling_policy_exists=self.scheduling_policies.exists,
        )
        self.scheduler.listing_delay = lambda: self.faults.config.eventual_consistency_seconds
        self.consumable_resources.hooks = ConsumableResourceHooks(
            quantity_changed=self.scheduler.capacity_changed,
            jobs_claiming=self.scheduler.jobs_claiming,
        )
        self._timers.add_round_hook(self.scheduler.dispatch)
        infra, definitions, scheduler = self.infrastructure, self.definitions, self.scheduler
        policies, consumables = self.scheduling_policies, self.consumable_resources
        self._operations: dict[str, Operation] = {
            "CreateComputeEnvironment": infra.create_compute_environment,
            "DescribeComputeEnvironments": infra.describe_compute_environments,
            "UpdateComputeEnvironment": infra.update_compute_environment,
            "DeleteComputeEnvironment": infra.delete_compute_environment,
            "CreateJobQueue": infra.create_job_queue,
            "DescribeJobQueues": infra.describe_job_queues,
            "UpdateJobQueue": infra.update_job_queue,
            "DeleteJobQueue": infra.delete_job_queue,
            "CreateSchedulingPolicy": policies.create,
            "DescribeSchedulingPolicies": policies.describe,
            "ListSchedulingPolicies": policies.list_arns,
            "UpdateSchedulingPolicy": policies.update,
            "DeleteSchedulingPolicy": policies.delete,
            "CreateConsumableResource": consumables.create,
            "DescribeConsumableResource": consumables.describe,
            "ListConsumableResources": consumables.list_summaries,
            "UpdateConsumableResource": consumables.update,
            "DeleteConsumableResource": consumables.delete,
            "ListJobsByConsumableResource": consumables.list_jobs,
            "RegisterJobDefinition": definitions.register,
            "DeregisterJobDefinition": definitions.deregister,
            "DescribeJobDefinitions": definitions.describe,
            "SubmitJob": scheduler.submit_job,
            "DescribeJobs": scheduler.describe_jobs,
            "ListJobs": scheduler.list_jobs,
            "CancelJob": scheduler.cancel_job,
            "TerminateJob": scheduler.terminate_job,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
            "ListTagsForResource": self._list_tags,
        }

    def start(self) -> None:
        """Start the timer thread (and with it every emulated transition)."""
        self._timers.start()

    def stop(self) -> None:
        """Stop running jobs and the timer thread."""
        with self.lock:
            self.scheduler.clear()
        self._timers.stop()

    def reset(self) -> None:
        """No Batch resources, default scenario (the emulator resets accounts, faults and
        counters: partitions.py)."""
        with self.lock:
            self._timers.clear()
            self.scheduler.clear()
            self.infrastructure.clear()
            self.scheduling_policies.clear()
            self.consumable_resources.clear()
            self.definitions.clear()
            self._tags.clear()
            self.runner.scenario = Scenario()

    def set_scenario(self, scenario: Scenario) -> None:
        """How attempts started from now on run."""
        with self.lock:
            self.runner.scenario = scenario

    def set_holds(self, holds: Holds) -> None:
        """Which jobs stay in which state for now (holds.py); the rest move on."""
        with self.lock:
            self.scheduler.set_holds(holds)

    def handle(self, operation: str, body: JsonObject) -> JsonObject:
        """Run one Batch operation under the state lock; BatchApiError on failure."""
        handler = self._operations.get(operation)
        if handler is None:
            raise errors.client_error(f"The batchops emulator does not support {operation}")
        with self.lock, account.serving(self.partition):
            return handler(body)

    # --- tags (the ARN comes from the URL; the HTTP layer puts it into the body) --------------

    def _tag_resource(self, body: JsonObject) -> JsonObject:
        self._tags.add(self._taggable(body), str_map(body, "tags"))
        return {}

    def _untag_resource(self, body: JsonObject) -> JsonObject:
        self._tags.remove(self._taggable(body), str_list(body, "tagKeys"))
        return {}

    def _list_tags(self, body: JsonObject) -> JsonObject:
        return {"tags": self._tags.of(self._taggable(body))}

    def _taggable(self, body: JsonObject) -> str:
        arn = required_str(body, "resourceArn")
        resource = arn.split(":", 5)[-1]
        kind, _, name = resource.partition("/")
        exists: Callable[[], object] | None = {
            "compute-environment": lambda: self.infrastructure.find_compute_environment(arn),
            "job-queue": lambda: self.infrastructure.find_queue(arn),
            "scheduling-policy": lambda: self.scheduling_policies.exists(arn),
            "consumable-resource": lambda: self.consumable_resources.exists(arn),
            "job-definition": lambda: self._definition_exists(name),
            "job": lambda: self._top_level_job_exists(arn, name),
        }.get(kind)
        if exists is None or not exists():
            raise errors.resource_not_found(arn)
        return arn

    def _definition_exists(self, name_and_revision: str) -> bool:
        matches = self.definitions.describe({"jobDefinitions": [name_and_revision]})
        return bool(matches["jobDefinitions"])

    def _top_level_job_exists(self, arn: str, job_id: str) -> bool:
        # Array children can't be tagged; their ARN contains the index after a colon.
        job = self.scheduler.jobs.get(job_id)
        return job is not None and job.parent is None and job_arn(job.id) == arn
