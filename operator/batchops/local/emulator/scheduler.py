"""The job state machine: SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED | FAILED.

- SUBMITTED -> PENDING after one step; PENDING -> RUNNABLE one step after every dependency
  SUCCEEDED. A dependency that FAILED fails its dependents ("Dependent Job failed").
- RUNNABLE -> STARTING, no earlier than one step after the job became RUNNABLE, and only while
  the job's queue is ENABLED and VALID and one of its compute environments, tried in order, is
  ENABLED, VALID, not short of capacity (the `insufficientCapacity` fault, faults.py), has the
  job's vCPUs free under maxvCpus and an instance type the job fits (see below).
  Queues are served by priority (highest first), a queue's jobs first in, first out (a job that
  does not fit does not block smaller ones behind it).
- A RUNNABLE job that cannot run blocks its queue, and says why in its statusReason (the user
  guide's "Jobs stuck in a RUNNABLE status" reasons, texts at BLOCKED_BY_* below), judged over
  the queue's ENABLED compute environments when it becomes placeable and whenever a queue,
  compute environment or the capacity fault changes: none has maxvCpus >= the job's vCPUs:
  MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE; none of those has an instance type one job
  (or each node of a multi-node job) fits in vCPUs and memory: MISCONFIGURATION:
  JOB_RESOURCE_REQUIREMENT; all that fit are short of capacity: CAPACITY:
  INSUFFICIENT_INSTANCE_CAPACITY. Instance types are modelled only as far as INSTANCE_FAMILIES
  goes (a type or family it does not know fits every job). The reason clears once its cause is
  fixed (e.g. maxvCpus raised), and each new reason is published as a "Batch Job Queue
  Blocked" event (outputs.py).
- STARTING -> RUNNING after one step; the attempt then runs (runners.py). Exit 0 succeeds. A
  non-zero exit, or none at all (a scenario rule's `"exitCode": null`, as after a host loss),
  goes back to RUNNABLE while retryStrategy.attempts allow and evaluateOnExit (first matching
  condition; none matching means RETRY) says RETRY; otherwise FAILED. A scenario rule's
  statusReason becomes the attempt's, and the job's when the attempt ends it; onStatusReason
  matches it. An attempt outliving timeout.attemptDurationSeconds is stopped and the job FAILED
  without retry.
- Array jobs: the parent spawns its children once its own dependencies succeeded and stays
  PENDING until every child finished: SUCCEEDED if all did, else FAILED. SEQUENTIAL children run
  one after the other; N_TO_N child i waits for child i of the array it depends on.
- CancelJob fails jobs that have not started (a PENDING one once its dependencies finished);
  STARTING/RUNNING jobs are left alone, and the call still succeeds. TerminateJob cancels a job
  that has not started and terminates a STARTING/RUNNING one; neither is retried (API reference
  CancelJob, TerminateJob). Deleting a queue terminates its jobs.
- Holds (holds.py, control API) keep jobs in SUBMITTED, PENDING, RUNNABLE or STARTING until
  they are lifted: each of those steps goes through `_after_step`.
- Multi-node parallel jobs (user guide "Multi-node parallel jobs" and "Job states"): the parent
  is placed as one job holding the vCPUs of all its nodes; when it starts, its node jobs
  `<id>#<index>` start with it, each with its own attempt (and process in process mode). A node
  other than the main one ends on its own exit ("If a child node dies, AWS Batch doesn't take
  any action on the other nodes"); the main node's exit ends the job: the other nodes are
  stopped, and the job SUCCEEDED on exit 0, else retried ("a main node failure triggers another
  attempt; child node failures do not") or FAILED. The timeout applies to the whole job.
- EKS jobs follow the same states; each attempt is a pod with a name and a node (simulated).
- SubmitJob's overrides are checked against the job definition (jobrules.py) and applied to
  its payload (jobs.py).
- Consumable resources (consumableresources.py): a job claiming them is started only while
  every claimed resource has the quantity available, and until then, RUNNABLE, says so in its
  statusReason (WAITING_FOR_CONSUMABLE_RESOURCES; a blocked-queue reason above wins). Starting
  takes the quantities, the end of every attempt gives them back. A job that can't get its
  resources does not hold up the jobs behind it.
- Fair-share queues (a queue with a scheduling policy; schedulingpolicies.py has the model and
  what it simplifies): SubmitJob checks the shareIdentifier rules; a placement round takes,
  while vCPUs are free, the next job of the share with the lowest vCPUs-held x weightFactor
  (ties: the share whose next job came first), highest schedulingPriority first within a share,
  within what computeReservation leaves. FIFO queues are served as above, unchanged.
Every change after the submission is published as a job state change event (outputs.py).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator

from batchops.local.emulator import errors, jobrules, outputs, schedulingpolicies
from batchops.local.emulator.clock import Clock, Delays, Timer, TimerThread
from batchops.local.emulator.consumableresources import (
    ConsumableResources,
    Shortfall,
    claims_of,
)
from batchops.local.emulator.holds import Holds
from batchops.local.emulator.infrastructure import (
    ComputeEnvironment,
    Infrastructure,
    JobQueue,
    job_queue_arn,
)
from batchops.local.emulator.jobdefs import (
    JobDefinitions,
    check_retry_strategy,
    check_timeout,
)
from batchops.local.emulator.jobs import (
    NAME_PATTERN,
    NOT_STARTED,
    Attempt,
    Dependency,
    Job,
    JobQuery,
    Workload,
    job_workload,
    list_job_summaries,
    multinode_plan,
    new_attempt,
)
from batchops.local.emulator.outputs import JobLogs
from batchops.local.emulator.runners import (
    AttemptContext,
    AttemptRunner,
    NodePosition,
    RunningAttempt,
)
from batchops.local.emulator.schedulingpolicies import FairShare, SchedulingPolicies
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import (
    JsonObject,
    object_list,
    optional_int,
    optional_object,
    optional_str,
    required_str,
    str_list,
    str_map,
)

MAX_DEPENDENCIES = 20
VCPU_EPSILON = 1e-9
MAX_DESCRIBE = 100
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"  # seen
DEPENDENT_JOB_FAILED = "Dependent Job failed"  # seen
TIMED_OUT = "Job attempt duration exceeded timeout"  # seen
ARRAY_CHILD_FAILED = "Array Child Job failed"  # assumed
QUEUE_DELETED = "Job queue deleted"  # assumed
# The statusReason "while the job is stuck", user guide "Jobs stuck in RUNNABLE due to
# misconfiguration" and "... due to capacity" (docs.aws.amazon.com/batch/latest/userguide/
# job_stuck_in_runnable_misconfiguration.html, job_stuck_in_runnable_capacity.html). The API
# reference (JobDetail.statusReason) words the first one differently ("All compute environments
# have a maxVcpu setting that is smaller than the job requirements."); the user guide gives the
# message itself, the reference a description of it.
BLOCKED_BY_MAX_VCPUS = (
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue "
    "cannot meet the CPU requirement of the job."
)
BLOCKED_BY_INSTANCE_TYPES = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement "
    "(vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue."
)
BLOCKED_BY_CAPACITY = (  # the user guide writes the instance type as "[instanceTypeName]"
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested "
    "for instance type {instance_type}"
)
# A RUNNABLE job waiting for consumable resources: the user guide says it "will wait in RUNNABLE
# state until all the required resources become available" (resource-aware-scheduling-how-to-
# for-jobs.html) but documents no statusReason for it, and it is not one of the blocked-queue
# reasons of "Jobs stuck in a RUNNABLE status" (so no "Job Queue Blocked" event either). The
# text is assumed; it names each resource short, what the job needs and what is available.
WAITING_FOR_CONSUMABLE_RESOURCES = "Waiting for consumable resources: {shortfalls}"  # assumed


class JobScheduler:
    """Jobs, the Batch operations on them, and the transitions between their states.

    Every method runs with the emulator's state lock held (the timer thread holds it for
    callbacks; API handlers take it).
    """

    def __init__(
        self,
        clock: Clock,
        delays: Delays,
        timers: TimerThread,
        infrastructure: Infrastructure,
        definitions: JobDefinitions,
        tags: TagStore,
        runner: AttemptRunner,
        logs: JobLogs,
        consumables: ConsumableResources,
        policies: SchedulingPolicies,
    ) -> None:
        self._clock = clock
        self._delays = delays
        self._timers = timers
        self._infrastructure = infrastructure
        self._definitions = definitions
        self._tags = tags
        self._runner = runner
        self._logs = logs
        self._consumables = consumables
        self._policies = policies
        self.jobs: dict[str, Job] = {}
        self._runnable: dict[str, dict[str, Job]] = {}  # queue ARN -> RUNNABLE jobs, FIFO
        self._claiming: dict[str, Job] = {}  # placeable RUNNABLE jobs that claim resources
        self._share_usage: dict[str, dict[str, float]] = {}  # queue ARN -> share -> vCPUs held
        self._runs: dict[str, RunningAttempt] = {}  # job id -> its running attempt
        self.holds = Holds()
        self._held: dict[str, Callable[[], None]] = {}  # job id -> its next step, held back
        self._short_of_capacity: frozenset[str] = frozenset()  # CE names or ARNs (faults.py)
        self.listing_delay: Callable[[], float] = lambda: 0.0
        """Emulated seconds before a new job appears in ListJobs (the eventual-consistency
        fault): a client that lost SubmitJob's reply cannot find the job at once."""

    def clear(self) -> None:
        """Forget every job and stop every running attempt (emulator reset)."""
        for run in self._runs.values():
            run.stop()
        self._runner.stop_all()
        self.jobs.clear()
        self._runnable.clear()
        self._claiming.clear()
        self._share_usage.clear()
        self._runs.clear()
        self.holds = Holds()
        self._held.clear()
        self._short_of_capacity = frozenset()

    # --- hooks from the infrastructure ----------------------------------------------------------

    def capacity_changed(self) -> None:
        """A queue or compute environment changed: judge again which RUNNABLE jobs are blocked,
        and run a placement round soon."""
        for queue_arn, waiting in self._runnable.items():
            environments = self._queue_environments(queue_arn)
            for job in waiting.values():
                self._judge_blocked(job, environments)
        self._timers.poke()

    def set_insufficient_capacity(self, compute_environments: frozenset[str]) -> None:
        """The compute environments (names or ARNs) that get no instances from now on."""
        self._short_of_capacity = compute_environments
        self.capacity_changed()

    def queue_deleting(self, queue: JobQueue) -> None:
        """A deleted queue's jobs are terminated."""
        for job in list(self.jobs.values()):
            if job.queue_arn == queue.arn and job.parent is None:
                self._terminate(job, QUEUE_DELETED)

    # --- hooks from consumable resources --------------------------------------------------------

    def jobs_claiming(self, resource_name: str) -> list[JsonObject]:
        """ListJobsByConsumableResourceSummary of every job claiming the resource, in submission
        order: plain jobs, array children (each child runs, and claims, on its own; the parent
        never runs) and multi-node jobs (which claim once for all their nodes; assumed)."""
        return [
            job.summarize_claim(claim)
            for job in self.jobs.values()
            if not job.is_array_parent
            for claim in job.claims
            if claim.resource == resource_name
        ]

    # --- API ------------------------------------------------------------------------------------

    def submit_job(self, body: JsonObject) -> JsonObject:
        """SubmitJob."""
        name = required_str(body, "jobName")
        if not NAME_PATTERN.match(name):
            raise errors.job_name_pattern()
        queue_reference = required_str(body, "jobQueue")
        queue = self._infrastructure.find_queue(queue_reference)
        if queue is None or queue.status == "DELETING":
            raise errors.does_not_exist(job_queue_arn(queue_reference))
        if not queue.accepts_submissions:
            raise errors.queue_not_enabled(queue.arn)
        definition = self._definitions.for_submission(required_str(body, "jobDefinition"))
        jobrules.check_submission(
            body, definition.kind, definition.is_fargate, definition.node_properties
        )
        share_identifier = optional_str(body, "shareIdentifier")
        scheduling_priority = optional_int(body, "schedulingPriorityOverride")
        schedulingpolicies.check_job_share(
            queue.arn,
            queue.scheduling_policy_arn is not None,
            share_identifier,
            scheduling_priority,
            lambda: self._active_shares(queue.arn),
        )
        override = optional_object(body, "consumableResourcePropertiesOverride")
        self._consumables.check_requirements(override)
        # consumableResourcePropertiesOverride replaces the job definition's list (API
        # reference SubmitJob: "An object that contains overrides for the consumable resources
        # of a job").
        consumable_resources = copy.deepcopy(
            override if override is not None else definition.consumable_resource_properties
        )
        array_size = self._array_size(body)
        dependencies = self._dependencies(body, array_size)
        retry = optional_object(body, "retryStrategy")
        if retry is not None:
            check_retry_strategy(retry)
        timeout = optional_object(body, "timeout")
        if timeout is not None:
            check_timeout(timeout)
        parameters = {**definition.parameters, **str_map(body, "parameters")}
        multinode = None
        workload = Workload()
        if definition.kind == jobrules.MULTINODE and definition.node_properties is not None:
            overrides = optional_object(body, "nodeOverrides")
            multinode = multinode_plan(definition.node_properties, overrides, parameters)
        else:
            workload = job_workload(definition, body, parameters)
            if definition.is_fargate and workload.container is not None:
                jobrules.check_fargate_resources(workload.container, submission=True)
        propagate = body.get("propagateTags")
        job = Job(
            id=str(uuid.uuid4()),
            name=name,
            queue_arn=queue.arn,
            queue_name=queue.name,
            definition=definition,
            workload=workload,
            vcpus=sum(node.vcpus for node in multinode.nodes) if multinode else workload.vcpus,
            parameters=parameters,
            depends_on=dependencies,
            retry_strategy=copy.deepcopy(retry if retry is not None else definition.retry_strategy),
            timeout=copy.deepcopy(timeout if timeout is not None else definition.timeout),
            tags=str_map(body, "tags"),
            propagate_tags=bool(definition.propagate_tags if propagate is None else propagate),
            created_at=self._clock.now_ms(),
            share_identifier=share_identifier,
            scheduling_priority=scheduling_priority,
            array_size=array_size,
            consumable_resources=consumable_resources,
            claims=claims_of(consumable_resources),
            multinode=multinode,
        )
        self.jobs[job.id] = job
        self._tags.add(job.arn, job.tags)
        for dependency in dependencies:
            if dependency.job_id is not None and dependency.type != "N_TO_N":
                self._wait(job, self.jobs[dependency.job_id])
        job.timer = self._after_step(job, lambda: self._enter_pending(job))
        return {"jobArn": job.arn, "jobName": job.name, "jobId": job.id}

    def describe_jobs(self, body: JsonObject) -> JsonObject:
        """DescribeJobs: at most 100 ids or ARNs; unknown ones are left out."""
        references = str_list(body, "jobs")
        if len(references) > MAX_DESCRIBE:
            raise errors.too_many_jobs_described()
        found = (self.jobs.get(reference.rsplit("/", 1)[-1]) for reference in references)
        return {
            "jobs": [
                job.describe(self._tags.of(job.arn))
                for job in dict.fromkeys(job for job in found if job is not None)
            ]
        }

    def list_jobs(self, body: JsonObject) -> JsonObject:
        """ListJobs by queue or array parent, with jobStatus or one filter, paginated."""
        filters = object_list(body, "filters")
        if len(filters) > 1:
            raise errors.invalid_parameter("Only one filter can be used at a time")
        query = JobQuery(
            status=optional_str(body, "jobStatus"),
            filter_name=optional_str(filters[0], "name") if filters else None,
            filter_values=tuple(str_list(filters[0], "values")) if filters else (),
            max_results=optional_int(body, "maxResults"),
            next_token=optional_str(body, "nextToken"),
        )
        candidates = self._candidates(body)
        delay = self.listing_delay()
        if delay > 0:
            newest = self._clock.now_ms() - int(self._clock.scaled(delay) * 1000)
            candidates = (job for job in candidates if job.created_at <= newest)
        return list_job_summaries(candidates, query)

    def cancel_job(self, body: JsonObject) -> JsonObject:
        """CancelJob (of a node job: of its multi-node job)."""
        self._cancel(self._existing_job(required_str(body, "jobId")), required_str(body, "reason"))
        return {}

    def terminate_job(self, body: JsonObject) -> JsonObject:
        """TerminateJob (of a node job: of its multi-node job)."""
        job = self._existing_job(required_str(body, "jobId"))
        self._terminate(job, required_str(body, "reason"))
        return {}

    def set_holds(self, holds: Holds) -> None:
        """Hold jobs in a state (holds.py); a held job no longer held moves on at once."""
        self.holds = holds
        held, self._held = self._held, {}
        for step in held.values():
            step()

    # --- the placement round ----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Place RUNNABLE jobs on free vCPUs: queues by priority; a FIFO queue first in first
        out, a fair-share queue by its shares' usage."""
        queues = [
            queue
            for queue in self._infrastructure.queues.values()
            if queue.dispatches and self._runnable.get(queue.arn)
        ]
        for queue in sorted(queues, key=lambda queue: -queue.priority):
            environments = [
                ce
                for ce in self._infrastructure.queue_compute_environments(queue)
                if ce.accepts_jobs and not self._is_short_of_capacity(ce)
            ]
            if queue.scheduling_policy_arn is None:
                self._dispatch_in_order(queue, environments)
            else:
                fair_share = self._policies.fair_share(queue.scheduling_policy_arn)
                self._dispatch_fair_share(queue, fair_share, environments)

    def _dispatch_in_order(self, queue: JobQueue, environments: list[ComputeEnvironment]) -> None:
        waiting = self._runnable[queue.arn]
        for job in list(waiting.values()):
            if not any(ce.free_vcpus > 0 for ce in environments):
                break
            target = self._placement(job, environments)
            if target is not None:
                self._start(job, target)

    def _dispatch_fair_share(
        self, queue: JobQueue, fair_share: FairShare, environments: list[ComputeEnvironment]
    ) -> None:
        waiting = self._runnable[queue.arn]
        usage = self._share_usage.setdefault(queue.arn, {})
        max_vcpus = float(sum(ce.max_vcpus for ce in environments))
        while waiting and any(ce.free_vcpus > 0 for ce in environments):
            reserved = fair_share.reserved_vcpus(max_vcpus, len(usage))
            free = sum(ce.free_vcpus for ce in environments)
            placed = None
            for job in _fair_share_order(waiting, usage, fair_share):
                if job.share in usage and free - job.vcpus < reserved - VCPU_EPSILON:
                    continue  # what is left is kept for shares not running yet
                target = self._placement(job, environments)
                if target is not None:
                    placed = (job, target)
                    break
            if placed is None:
                return
            self._start(*placed)

    def _placement(
        self, job: Job, environments: list[ComputeEnvironment]
    ) -> ComputeEnvironment | None:
        """The first compute environment with the job's vCPUs free and an instance type it fits,
        if every consumable resource it claims has the quantity available; else None."""
        target = next(
            (
                ce
                for ce in environments
                if ce.free_vcpus >= job.vcpus and _instance_types_fit(ce, job)
            ),
            None,
        )
        if target is None or self._consumables.shortfalls(job.claims):
            return None
        return target

    def _active_shares(self, queue_arn: str) -> set[str]:
        """The share identifiers of the queue's jobs not yet SUCCEEDED or FAILED."""
        return {
            job.share
            for job in self.jobs.values()
            if job.queue_arn == queue_arn and job.parent is None and not job.is_terminal
        }

    # --- transitions ------------------------------------------------------------------------------

    def _enter_pending(self, job: Job) -> None:
        job.timer = None
        self._set_status(job, "PENDING")
        self._reevaluate(job)

    def _reevaluate(self, job: Job) -> None:
        """Move a PENDING job on once its dependencies have all ended."""
        if job.status != "PENDING" or job.timer is not None or job.children:
            return
        if any(dependency.status == "FAILED" for dependency in job.waits_for):
            reason = job.cancel_reason or DEPENDENT_JOB_FAILED
            self._finish(job, "FAILED", reason, cancelled=job.cancel_reason is not None)
        elif all(dependency.status == "SUCCEEDED" for dependency in job.waits_for):
            if job.cancel_reason is not None:
                self._finish(job, "FAILED", job.cancel_reason, cancelled=True)
            elif job.is_array_parent:
                self._spawn_children(job)
            else:
                job.timer = self._after_step(job, lambda: self._enter_runnable(job))

    def _spawn_children(self, parent: Job) -> None:
        assert parent.array_size is not None
        now = self._clock.now_ms()
        for index in range(parent.array_size):
            child = Job(
                id=f"{parent.id}:{index}",
                name=parent.name,
                queue_arn=parent.queue_arn,
                queue_name=parent.queue_name,
                definition=parent.definition,
                workload=parent.workload,
                vcpus=parent.vcpus,
                parameters=parent.parameters,
                depends_on=parent.depends_on,
                retry_strategy=parent.retry_strategy,
                timeout=parent.timeout,
                tags={},
                propagate_tags=parent.propagate_tags,
                created_at=now,
                share_identifier=parent.share_identifier,
                scheduling_priority=parent.scheduling_priority,
                status="PENDING",
                array_index=index,
                parent=parent,
                consumable_resources=parent.consumable_resources,
                claims=parent.claims,
            )
            self.jobs[child.id] = child
            parent.children.append(child)
        parent.summary_updated_at = now
        sequential = any(d.type == "SEQUENTIAL" for d in parent.depends_on)
        for child in parent.children:
            if sequential and child.array_index:
                self._wait(child, parent.children[child.array_index - 1])
            for dependency in parent.depends_on:
                if dependency.type == "N_TO_N" and dependency.job_id is not None:
                    self._wait(child, self._n_to_n_peer(self.jobs[dependency.job_id], child))
        self._adopt_n_to_n_dependents(parent)
        for child in parent.children:
            self._reevaluate(child)

    def _n_to_n_peer(self, other_array: Job, child: Job) -> Job:
        # Until the other array has spawned its children, wait for that array as a whole;
        # _adopt_n_to_n_dependents narrows the wait to the peer child once it exists.
        assert child.array_index is not None
        if other_array.children:
            return other_array.children[child.array_index]
        return other_array

    def _adopt_n_to_n_dependents(self, array: Job) -> None:
        for dependent in list(array.dependents):
            if dependent.parent is None or dependent.array_index is None:
                continue
            peer = array.children[dependent.array_index]
            array.dependents.remove(dependent)
            dependent.waits_for[dependent.waits_for.index(array)] = peer
            peer.dependents.append(dependent)

    def _enter_runnable(self, job: Job) -> None:
        job.timer = None
        if job.cancel_reason is not None:
            self._finish(job, "FAILED", job.cancel_reason, cancelled=True)
            return
        job.status_reason = None
        self._set_status(job, "RUNNABLE")
        # The scheduler sees a job one step after it became RUNNABLE, as Batch's
        # placement cycle does; clients polling for RUNNABLE get to see it.
        job.timer = self._after_step(job, lambda: self._make_placeable(job))

    def _make_placeable(self, job: Job) -> None:
        job.timer = None
        self._runnable.setdefault(job.queue_arn, {})[job.id] = job
        if job.claims:
            self._claiming[job.id] = job
        self._judge_blocked(job, self._queue_environments(job.queue_arn))
        self._timers.poke()

    def _not_placeable(self, job: Job) -> None:
        self._runnable.get(job.queue_arn, {}).pop(job.id, None)
        self._claiming.pop(job.id, None)

    def _judge_blocked(self, job: Job, environments: list[ComputeEnvironment]) -> None:
        """Set (or clear) the statusReason saying why a RUNNABLE job cannot run; a new
        blocked-queue reason is published as a "Batch Job Queue Blocked" event."""
        blocked = _blocked_reason(job, environments, self._is_short_of_capacity)
        reason = blocked or _waiting_reason(self._consumables.shortfalls(job.claims))
        if reason == job.status_reason:
            return
        job.status_reason = reason
        if blocked is not None and outputs.events_wanted():
            detail = job.describe(self._tags.of(job.arn))
            self._timers.defer(lambda: outputs.publish_job_queue_blocked(detail))

    def _consumables_changed(self) -> None:
        """A job took or gave back consumable resources: judge again what the RUNNABLE jobs
        that claim some are waiting for."""
        for job in list(self._claiming.values()):
            self._judge_blocked(job, self._queue_environments(job.queue_arn))

    def _queue_environments(self, queue_arn: str) -> list[ComputeEnvironment]:
        queue = self._infrastructure.find_queue(queue_arn)
        return [] if queue is None else self._infrastructure.queue_compute_environments(queue)

    def _is_short_of_capacity(self, ce: ComputeEnvironment) -> bool:
        return ce.name in self._short_of_capacity or ce.arn in self._short_of_capacity

    def _start(self, job: Job, ce: ComputeEnvironment) -> None:
        self._not_placeable(job)
        ce.used_vcpus += job.vcpus
        job.placed_on = ce.arn
        usage = self._share_usage.setdefault(job.queue_arn, {})
        usage[job.share] = usage.get(job.share, 0.0) + job.vcpus
        if job.claims:
            job.holdings = self._consumables.hold(job.claims)
            self._consumables_changed()
        if job.multinode is not None:
            attempt = self._start_nodes(job, ce)
        else:
            attempt = new_attempt(len(job.attempts) + 1, ce.ecs_cluster_arn, ce.is_fargate)
            if job.workload.eks_properties is not None:
                _place_pod(attempt)
        job.attempts.append(attempt)
        job.status_reason = None
        self._set_status(job, "STARTING")
        job.timer = self._after_step(job, lambda: self._enter_running(job, attempt, ce.name))

    def _start_nodes(self, parent: Job, ce: ComputeEnvironment) -> Attempt:
        """Start every node of a multi-node job (creating the node jobs on the first attempt);
        the main node's attempt, which is the parent's too."""
        assert parent.multinode is not None
        if not parent.nodes:
            now = self._clock.now_ms()
            for index, workload in enumerate(parent.multinode.nodes):
                node = Job(
                    id=f"{parent.id}#{index}",
                    name=parent.name,
                    queue_arn=parent.queue_arn,
                    queue_name=parent.queue_name,
                    definition=parent.definition,
                    workload=workload,
                    vcpus=workload.vcpus,
                    parameters=parent.parameters,
                    depends_on=[],
                    retry_strategy=None,
                    timeout=None,
                    tags={},
                    propagate_tags=parent.propagate_tags,
                    created_at=now,
                    share_identifier=parent.share_identifier,
                    parent=parent,
                    node_index=index,
                )
                self.jobs[node.id] = node
                parent.nodes.append(node)
        for node in parent.nodes:
            # MNP nodes run on EC2 only (user guide "Create a multi-node parallel job
            # definition").
            node.attempts.append(new_attempt(len(node.attempts) + 1, ce.ecs_cluster_arn, False))
            if node.workload.eks_properties is not None:
                _place_pod(node.attempts[-1])
            node.status_reason = node.stopped_at = None
            self._set_status(node, "STARTING")
        main = parent.main_node
        assert main is not None and main.current_attempt is not None
        return main.current_attempt

    def _enter_running(self, job: Job, attempt: Attempt, ce_name: str) -> None:
        job.timer = None
        now = self._clock.now_ms()
        if job.parent is not None and job.parent.started_at is None:
            job.parent.started_at = now
        if job.multinode is not None:
            job.started_at = now
            self._set_status(job, "RUNNING")
            for node in job.nodes:
                assert node.current_attempt is not None
                self._run_attempt(node, node.current_attempt, ce_name, now)
        else:
            self._run_attempt(job, attempt, ce_name, now)
        seconds = (job.timeout or {}).get("attemptDurationSeconds")
        if seconds:
            job.timeout_timer = self._timers.schedule(
                self._clock.scaled(float(seconds)), lambda: self._attempt_timed_out(job, attempt)
            )

    def _run_attempt(self, job: Job, attempt: Attempt, ce_name: str, now: int) -> None:
        attempt.started_at = job.started_at = now
        stream = f"{job.definition.name}/default/{attempt.task_arn.rsplit('/', 1)[-1]}"
        attempt.log_stream_name = stream
        self._set_status(job, "RUNNING")
        self._timers.defer(lambda: self._logs.write(stream, []))
        command, environment = job.workload.process()
        plan = job.parent.multinode if job.parent is not None else None
        node = None
        if plan is not None and job.node_index is not None:
            node = NodePosition(job.node_index, len(plan.nodes), plan.main_node)
        context = AttemptContext(
            job_id=job.id,
            job_name=job.name,
            attempt=attempt.number,
            array_index=job.array_index,
            queue_name=job.queue_name,
            compute_environment_name=ce_name,
            command=command,
            environment=environment,
            log_stream=stream,
            node=node,
        )
        exited = self._node_exited if node is not None else self._attempt_exited
        # A scenario rule may script the attempt's statusReason (a host loss); decided at the
        # start, as the runner decides the rest of the outcome.
        scripted = self._runner.scenario.status_reason(
            context.job_name, context.attempt, context.array_index
        )
        self._runs[job.id] = self._runner.start(
            context, lambda code, reason: exited(job, attempt, code, reason, scripted)
        )

    def _attempt_exited(
        self,
        job: Job,
        attempt: Attempt,
        exit_code: int | None,
        reason: str | None,
        scripted_reason: str | None,
    ) -> None:
        if not self._is_current(job, attempt) or job.status != "RUNNING":
            return  # an exit reported after a terminate, timeout or reset
        status_reason = scripted_reason or reason or ESSENTIAL_CONTAINER_EXITED
        self._end_attempt(job, attempt, exit_code, status_reason, reason)
        if exit_code == 0:
            self._finish(job, "SUCCEEDED", scripted_reason or ESSENTIAL_CONTAINER_EXITED)
        elif self._should_retry(job, attempt):
            self._enter_runnable(job)
        else:
            self._finish(job, "FAILED", status_reason)

    def _node_exited(
        self,
        node: Job,
        attempt: Attempt,
        exit_code: int | None,
        reason: str | None,
        scripted_reason: str | None,
    ) -> None:
        if not self._is_current(node, attempt) or node.status != "RUNNING":
            return
        parent = node.parent
        assert parent is not None
        status_reason = scripted_reason or reason or ESSENTIAL_CONTAINER_EXITED
        status = "SUCCEEDED" if exit_code == 0 else "FAILED"
        self._end_attempt(node, attempt, exit_code, status_reason, reason)
        self._finish(node, status, status_reason)
        if not node.is_main_node or parent.status != "RUNNING":
            return
        # The main node's exit ends the job; nodes still running are stopped and take its
        # status (AWS documents that they are stopped, not the status they get: assumed).
        self._stop_nodes(parent, status, status_reason)
        self._end_attempt(parent, attempt, exit_code, status_reason, reason)
        if exit_code == 0:
            self._finish(parent, "SUCCEEDED", scripted_reason or ESSENTIAL_CONTAINER_EXITED)
        elif self._should_retry(parent, attempt):
            self._enter_runnable(parent)
        else:
            self._finish(parent, "FAILED", status_reason)

    def _stop_nodes(self, parent: Job, status: str, reason: str) -> None:
        for node in parent.nodes:
            attempt = node.current_attempt
            if node.status in ("STARTING", "RUNNING") and attempt is not None:
                run = self._runs.get(node.id)
                code = run.exited() if run is not None else None
                if code is not None:
                    # It ended on its own just before; its exit is only not reported yet.
                    own = "SUCCEEDED" if code == 0 else "FAILED"
                    self._end_attempt(node, attempt, code, ESSENTIAL_CONTAINER_EXITED, None)
                    self._finish(node, own, ESSENTIAL_CONTAINER_EXITED)
                    continue
                self._end_attempt(node, attempt, None, reason, None)
                self._finish(node, status, reason)

    def _attempt_timed_out(self, job: Job, attempt: Attempt) -> None:
        if not self._is_current(job, attempt) or job.status != "RUNNING":
            return
        self._end_attempt(job, attempt, None, TIMED_OUT, None)
        self._finish(job, "FAILED", TIMED_OUT)

    def _end_attempt(
        self,
        job: Job,
        attempt: Attempt,
        exit_code: int | None,
        status_reason: str,
        container_reason: str | None,
    ) -> None:
        self._stop_nodes(job, "FAILED", status_reason)
        run = self._runs.pop(job.id, None)
        if run is not None:
            run.stop()
        if job.timeout_timer is not None:
            job.timeout_timer.cancel()
            job.timeout_timer = None
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None
        attempt.stopped_at = self._clock.now_ms()
        attempt.exit_code = exit_code
        attempt.status_reason = status_reason
        attempt.reason = container_reason
        if job.placed_on is not None:
            self._infrastructure.release_vcpus(job.placed_on, job.vcpus)
            job.placed_on = None
            usage = self._share_usage.get(job.queue_arn, {})
            left = usage.get(job.share, 0.0) - job.vcpus
            if left > VCPU_EPSILON:
                usage[job.share] = left
            else:  # a share holding nothing is not active (fractional Fargate vCPUs add up)
                usage.pop(job.share, None)
            self._timers.poke()
        if job.holdings:
            for holding in job.holdings:
                holding.give_back()
            job.holdings = []
            self._consumables_changed()

    def _should_retry(self, job: Job, attempt: Attempt) -> bool:
        if len(job.attempts) >= job.max_attempts:
            return False
        for condition in (job.retry_strategy or {}).get("evaluateOnExit") or []:
            if _condition_matches(condition, attempt):
                return str(condition.get("action", "")).upper() == "RETRY"
        return True

    def _finish(
        self,
        job: Job,
        status: str,
        reason: str | None,
        cancelled: bool = False,
        terminated: bool = False,
    ) -> None:
        for timer in (job.timer, job.timeout_timer):
            if timer is not None:
                timer.cancel()
        job.timer = job.timeout_timer = None
        self._not_placeable(job)
        job.status_reason = reason
        job.is_cancelled = job.is_cancelled or cancelled
        job.is_terminated = job.is_terminated or terminated
        if job.started_at is not None:
            job.stopped_at = self._clock.now_ms()
        self._set_status(job, status)
        for dependent in list(job.dependents):
            self._reevaluate(dependent)
        if job.parent is not None and job.parent.is_array_parent:
            self._child_finished(job.parent)

    def _child_finished(self, parent: Job) -> None:
        if parent.is_terminal or not all(child.is_terminal for child in parent.children):
            return
        if all(child.status == "SUCCEEDED" for child in parent.children):
            self._finish(parent, "SUCCEEDED", None)
        else:
            self._finish(parent, "FAILED", ARRAY_CHILD_FAILED)

    def _set_status(self, job: Job, status: str) -> None:
        job.status = status
        if job.parent is not None:
            job.parent.summary_updated_at = self._clock.now_ms()
        if outputs.events_wanted():
            detail = job.describe(self._tags.of(job.arn))
            self._timers.defer(lambda: outputs.publish_job_state_change(detail))

    def _cancel(self, job: Job, reason: str) -> None:
        if job.node_index is not None and job.parent is not None:
            job = job.parent
        if job.is_terminal or job.status not in NOT_STARTED:
            return  # STARTING and RUNNING jobs are not cancelled (TerminateJob stops them)
        if job.children:
            job.is_cancelled = True
            for child in job.children:
                self._cancel(child, reason)
        elif job.status == "PENDING" and job.timer is None and not job.is_array_parent:
            job.cancel_reason = reason  # applied once its dependencies have ended
            self._reevaluate(job)
        else:
            self._finish(job, "FAILED", reason, cancelled=True)

    def _terminate(self, job: Job, reason: str) -> None:
        if job.node_index is not None and job.parent is not None:
            job = job.parent
        if job.is_terminal:
            return
        if job.children:
            job.is_terminated = True
            for child in job.children:
                self._terminate(child, reason)
            return
        attempt = job.current_attempt
        if job.status in ("STARTING", "RUNNING") and attempt is not None:
            self._end_attempt(job, attempt, None, reason, None)
            self._finish(job, "FAILED", reason, terminated=True)
        else:
            self._finish(job, "FAILED", reason, cancelled=True)

    # --- helpers ----------------------------------------------------------------------------------

    def _step(self) -> float:
        return self._clock.scaled(self._delays.job_step)

    def _after_step(self, job: Job, transition: Callable[[], None]) -> Timer:
        """Run `transition` one job step from now; while a hold keeps the job in its status,
        the step waits for `set_holds` to lift it. A cancelled timer (the job was cancelled,
        terminated or reset meanwhile) never runs it."""

        def step() -> None:
            if timer.cancelled or self.jobs.get(job.id) is not job:
                return
            if self.holds.keeps(job.name, job.status):
                self._held[job.id] = step
            else:
                transition()

        timer = self._timers.schedule(self._step(), step)
        return timer

    def _wait(self, job: Job, dependency: Job) -> None:
        job.waits_for.append(dependency)
        dependency.dependents.append(job)

    def _is_current(self, job: Job, attempt: Attempt) -> bool:
        return self.jobs.get(job.id) is job and job.current_attempt is attempt

    def _existing_job(self, reference: str) -> Job:
        job = self.jobs.get(reference.rsplit("/", 1)[-1])
        if job is None:
            raise errors.invalid_parameter(f"Job {reference} does not exist")
        return job

    def _candidates(self, body: JsonObject) -> Iterator[Job]:
        queue_reference = optional_str(body, "jobQueue")
        array_job_id = optional_str(body, "arrayJobId")
        if array_job_id is not None:
            parent = self.jobs.get(array_job_id)
            return iter(parent.children if parent is not None else [])
        multinode_job_id = optional_str(body, "multiNodeJobId")
        if multinode_job_id is not None:
            multinode = self.jobs.get(multinode_job_id)
            return iter(multinode.nodes if multinode is not None else [])
        if queue_reference is None:
            raise errors.invalid_parameter("jobQueue, arrayJobId or multiNodeJobId is required")
        queue = self._infrastructure.find_queue(queue_reference)
        if queue is None:
            raise errors.does_not_exist(job_queue_arn(queue_reference))
        return (
            job for job in self.jobs.values() if job.queue_arn == queue.arn and job.parent is None
        )

    def _array_size(self, body: JsonObject) -> int | None:
        properties = optional_object(body, "arrayProperties")
        size = optional_int(properties, "size") if properties else None
        if size is not None and not 2 <= size <= 10_000:
            raise errors.invalid_parameter("Array size must be between 2 and 10000")
        return size

    def _dependencies(self, body: JsonObject, array_size: int | None) -> list[Dependency]:
        raw = object_list(body, "dependsOn")
        if len(raw) > MAX_DEPENDENCIES:
            raise errors.too_many_dependencies()
        dependencies = []
        for entry in raw:
            dependency = Dependency(optional_str(entry, "jobId"), optional_str(entry, "type"))
            if dependency.type not in (None, "N_TO_N", "SEQUENTIAL"):
                raise errors.invalid_parameter(f"Invalid dependency type {dependency.type}")
            if dependency.job_id is None:
                if dependency.type != "SEQUENTIAL" or array_size is None:
                    raise errors.invalid_parameter(
                        "A dependency without a job id must be SEQUENTIAL, on an array job"
                    )
            else:
                other = self.jobs.get(dependency.job_id)
                if other is None:
                    raise errors.dependency_not_found(dependency.job_id)
                if dependency.type == "N_TO_N" and (
                    array_size is None or other.array_size != array_size
                ):
                    raise errors.invalid_parameter(
                        "N_TO_N dependencies need two array jobs of the same size"
                    )
            dependencies.append(dependency)
        return dependencies


def _fair_share_order(
    waiting: dict[str, Job], usage: dict[str, float], fair_share: FairShare
) -> Iterator[Job]:
    """A fair-share queue's RUNNABLE jobs in the order the scheduler tries them: shares by
    vCPUs held x weightFactor (lowest first; ties: the share whose next job came first), each
    share's jobs by schedulingPriority (highest first), then in the order they became
    RUNNABLE."""
    shares: dict[str, list[tuple[int, int, Job]]] = {}
    for index, job in enumerate(waiting.values()):
        shares.setdefault(job.share, []).append((-job.priority_in_share, index, job))
    for entries in shares.values():
        entries.sort(key=lambda entry: entry[:2])

    def rank(share: str) -> tuple[float, int]:
        return usage.get(share, 0.0) * fair_share.weight_of(share), shares[share][0][1]

    for share in sorted(shares, key=rank):
        for _, _, job in shares[share]:
            yield job


def _waiting_reason(shortfalls: list[Shortfall]) -> str | None:
    if not shortfalls:
        return None
    return WAITING_FOR_CONSUMABLE_RESOURCES.format(
        shortfalls=", ".join(
            f"{short.claim.resource} (needs {short.claim.quantity}, {short.available} available)"
            for short in shortfalls
        )
    )


def _place_pod(attempt: Attempt) -> None:
    # EKS attempts run as a pod on a node; the name formats ("aws-batch.<uuid>", an EC2 private
    # DNS name) are assumed: the API reference only says "The name of the pod for this job".
    host = uuid.uuid4().bytes
    attempt.pod_name = f"aws-batch.{uuid.uuid4()}"
    attempt.node_name = f"ip-10-0-{host[0]}-{host[1] % 250 + 4}.ec2.internal"


def _condition_matches(condition: JsonObject, attempt: Attempt) -> bool:
    exit_code = None if attempt.exit_code is None else str(attempt.exit_code)
    checks = (
        (condition.get("onExitCode"), exit_code),
        (condition.get("onStatusReason"), attempt.status_reason),
        (condition.get("onReason"), attempt.reason),
    )
    return all(pattern is None or _glob(str(pattern), value) for pattern, value in checks)


def _glob(pattern: str, value: str | None) -> bool:
    # evaluateOnExit patterns match exactly, or by prefix when they end with "*".
    if value is None:
        return pattern == "*"
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


# --- why a RUNNABLE job cannot run ----------------------------------------------------------------

# The largest instance of each family the emulator knows: (vCPUs, memory GiB), from the EC2
# instance type pages (c4.8xlarge, m4.16xlarge, r4.16xlarge, c5/m5/r5.24xlarge,
# c6i/m6i/r6i.32xlarge, c7i/m7i/r7i.48xlarge). A size of a family has 1 vCPU (medium), 2
# (large), 4 (xlarge) or 4N (Nxlarge), and memory in proportion to the largest size: close
# enough to tell whether a job fits at all, which is all the blocked reasons need.
INSTANCE_FAMILIES: dict[str, tuple[int, int]] = {
    "c4": (36, 60),
    "m4": (64, 256),
    "r4": (64, 488),
    "c5": (96, 192),
    "m5": (96, 384),
    "r5": (96, 768),
    "c6i": (128, 256),
    "m6i": (128, 512),
    "r6i": (128, 1024),
    "c7i": (192, 384),
    "m7i": (192, 768),
    "r7i": (192, 1536),
}
# "optimal": "instance types (from the C4, M4, and R4 instance families) that match the demand of
# your job queues" (API reference ComputeResource.instanceTypes).
OPTIMAL_FAMILIES = ("c4", "m4", "r4")


def _blocked_reason(
    job: Job,
    environments: list[ComputeEnvironment],
    is_short_of_capacity: Callable[[ComputeEnvironment], bool],
) -> str | None:
    """Why no ENABLED compute environment of the queue can run this job, or None (it can, or
    the queue has none enabled: Batch documents no reason for that)."""
    enabled = [ce for ce in environments if ce.state == "ENABLED"]
    if not enabled:
        return None
    big_enough = [ce for ce in enabled if ce.max_vcpus >= job.vcpus]
    if not big_enough:
        return BLOCKED_BY_MAX_VCPUS
    fitting = [ce for ce in big_enough if _instance_types_fit(ce, job)]
    if not fitting:
        return BLOCKED_BY_INSTANCE_TYPES
    if all(is_short_of_capacity(ce) for ce in fitting):
        return BLOCKED_BY_CAPACITY.format(instance_type=_instance_type_shown(fitting[0]))
    return None


def _instance_types_fit(ce: ComputeEnvironment, job: Job) -> bool:
    """Whether the job (each node of a multi-node job) fits one instance of a type the compute
    environment may launch; types the emulator does not model fit everything."""
    shapes = _instance_shapes(ce)
    if shapes is None:
        return True
    return all(
        any(vcpus >= w.vcpus and memory >= w.memory_mib for vcpus, memory in shapes)
        for w in job.placed_workloads
    )


def _instance_shapes(ce: ComputeEnvironment) -> list[tuple[float, float]] | None:
    """(vCPUs, memory MiB) of the largest instance of each of the compute environment's
    instanceTypes entries; None when it names none or one the emulator does not model."""
    names = (ce.compute_resources or {}).get("instanceTypes") or []
    shapes: list[tuple[float, float]] = []
    for name in names:
        families = OPTIMAL_FAMILIES if name == "optimal" else (str(name).split(".", 1)[0],)
        if any(family not in INSTANCE_FAMILIES for family in families):
            return None
        shapes.extend(_instance_shape(family, str(name)) for family in families)
    return shapes or None


def _instance_shape(family: str, name: str) -> tuple[float, float]:
    largest_vcpus, largest_gib = INSTANCE_FAMILIES[family]
    size = name.split(".", 1)[1] if "." in name else ""
    named = {"medium": 1.0, "large": 2.0, "xlarge": 4.0}
    if size in named:
        vcpus = named[size]
    elif size.endswith("xlarge") and size[: -len("xlarge")].isdigit():
        vcpus = 4.0 * int(size[: -len("xlarge")])
    else:  # the family itself, "metal", or a size the emulator does not know: the largest
        vcpus = float(largest_vcpus)
    vcpus = min(vcpus, float(largest_vcpus))
    return vcpus, vcpus * largest_gib * 1024 / largest_vcpus


def _instance_type_shown(ce: ComputeEnvironment) -> str:
    # Batch names the instance type it failed to launch; the emulator names the compute
    # environment's first instanceTypes entry (Fargate: its type).
    names = (ce.compute_resources or {}).get("instanceTypes") or []
    return str(names[0]) if names else str(ce.resource_type)
