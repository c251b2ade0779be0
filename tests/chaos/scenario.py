"""The chaos driver: a seeded timeline of disruptions played against a steady load of pipelines.

`ChaosPlan` says how big a run is (`SMALL` inside `make test`, `FULL` for `make chaos`);
`timeline` turns a plan and a seed into events at fixed offsets, so a failing seed replays the
same sequence; `ChaosDriver` plays them against the local stack and tallies what it did.
"""

from __future__ import annotations

import os
import random
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from batchops.local.cluster import LocalCluster
from batchops.local.emulator import Emulator
from batchops.local.stack import OperatorProcess
from batchops.model.common import parse_time
from tests.chaos import workload
from tests.chaos.workload import PipelineCase
from tests.conftest import Kubectl
from tests.waits import WaitTimeout, wait_for

# Every Batch operation the operator may call: the fault window covers them all ("*").
EVERY_BATCH_OPERATION = "*"

# After an API server restart: how long a new pipeline may wait for its first status, and the
# cron (every 5 s) for its next run. A loop that died on the restart is retried by kopf only
# after 60 s, so these catch it.
PROBE_TIMEOUT = 30.0
CRON_RESUME_TIMEOUT = 20.0


@dataclass(frozen=True)
class ChaosPlan:
    """How much chaos, for how long."""

    name: str
    pipelines: int
    kills: int
    apiserver_restarts: int
    window_seconds: float
    """How long the disruptions go on; pipelines are applied over its first 80 %."""
    faults_seconds: float
    outage_seconds: float
    job_seconds: float
    """Real seconds each simulated job attempt runs."""
    converge_seconds: float
    """How long, after the chaos, every run may take to reach its final phase."""
    throttle_rate: float = 0.2
    error_rate: float = 0.05
    min_cron_runs: int = 3


SMALL = ChaosPlan(
    name="small",
    pipelines=10,
    kills=8,
    apiserver_restarts=1,
    window_seconds=45,
    faults_seconds=10,
    outage_seconds=10,
    job_seconds=1.0,
    converge_seconds=120,
)
FULL = ChaosPlan(
    name="full",
    pipelines=40,
    kills=32,
    apiserver_restarts=2,
    window_seconds=240,
    faults_seconds=60,
    outage_seconds=30,
    job_seconds=2.0,
    converge_seconds=300,
    min_cron_runs=15,
)


def plan_from_env() -> ChaosPlan:
    """`FULL` when BATCHOPS_CHAOS=full, else `SMALL`."""
    return FULL if os.environ.get("BATCHOPS_CHAOS", "small") == "full" else SMALL


def seed_from_env() -> int:
    """BATCHOPS_CHAOS_SEED to replay a run, else a fresh random seed."""
    explicit = os.environ.get("BATCHOPS_CHAOS_SEED")
    return int(explicit) if explicit else random.SystemRandom().randrange(2**32)


class Action(Enum):
    """One thing the driver does at a point of the timeline."""

    APPLY_PIPELINE = "apply a pipeline"
    KILL_OPERATOR = "SIGKILL the operator and start it again"
    RESTART_APISERVER = "restart kube-apiserver"
    FAULTS_ON = "throttle and fail Batch calls for `faults_seconds`"
    OUTAGE_START = "take the emulator away for `outage_seconds`"
    SCALE_COMPUTE_ENVIRONMENT = "raise ce-scaled's maxvCpus"
    REPLACE_COMPUTE_ENVIRONMENT = "add an instance type to ce-replaced"


@dataclass(frozen=True)
class Event:
    """`action` at `at` seconds into the chaos window (`subject`: which pipeline)."""

    at: float
    action: Action
    subject: int = 0


def timeline(plan: ChaosPlan, seed: int) -> list[Event]:
    """Every event of a run, in order: the same plan and seed give the same timeline.

    Kills fall at a random moment of each of `kills` equal slots, so they are spread over the
    whole window yet land anywhere in an operator's life (starting up, submitting, polling).
    The fault window, the outage and the API server restarts come one after the other, so a
    failure points at one of them; an event due while the driver is busy runs late, never
    early, and the fault window and the outage last their full length from when they began.
    """
    rng = random.Random(seed)
    window = plan.window_seconds
    events = [
        Event(index * 0.8 * window / plan.pipelines, Action.APPLY_PIPELINE, index)
        for index in range(plan.pipelines)
    ]
    slot = 0.98 * window / plan.kills
    events += [
        Event(0.02 * window + index * slot + rng.uniform(0, slot), Action.KILL_OPERATOR)
        for index in range(plan.kills)
    ]
    faults_start, outage_start = 0.1 * window, 0.5 * window
    faults_end, outage_end = faults_start + plan.faults_seconds, outage_start + plan.outage_seconds
    events += [
        Event(faults_start, Action.FAULTS_ON),
        Event(outage_start, Action.OUTAGE_START),
        Event(0.25 * window, Action.SCALE_COMPUTE_ENVIRONMENT),
        Event(0.4 * window, Action.REPLACE_COMPUTE_ENVIRONMENT),
    ]
    restart_ranges = [(faults_end, outage_start), (outage_end, window)]
    events += [
        Event(rng.uniform(low, max(low, high - 5)), Action.RESTART_APISERVER)
        for low, high in restart_ranges[: plan.apiserver_restarts]
    ]
    return sorted(events, key=lambda event: event.at)


@dataclass(frozen=True)
class ChaosStack:
    """What the driver acts on: its own control plane, the operator, the emulator."""

    cluster: LocalCluster
    kubectl: Kubectl
    namespace: str
    operator: OperatorProcess
    emulator: Emulator


@dataclass
class ApiserverRecovery:
    """How the operator came through one API server restart."""

    restart_seconds: float
    """From the stop of kube-apiserver until it answered /readyz again."""
    probe_picked_up_seconds: float | None
    """From readiness until the operator wrote a phase on a pipeline applied then (None:
    never, within the probe's timeout)."""
    cron_resumed_seconds: float | None
    """From readiness until the CronPipeline created a run scheduled after it (None: not
    within `CRON_RESUME_TIMEOUT`): the loops that were running go on by themselves."""
    operator_exited: bool
    """The operator process exited on its own meanwhile (and was started again)."""


@dataclass
class ChaosTally:
    """What the driver did and saw; printed and, in full mode, written as JSON."""

    kills: int = 0
    kills_while_live: int = 0
    """Kills that hit an operator whose liveness endpoint answered (not one still starting)."""
    apiserver_restarts: list[ApiserverRecovery] = field(default_factory=list)
    unplanned_exits: list[str] = field(default_factory=list)
    """The end of the operator's log each time it exited without being killed."""
    apply_retries: int = 0
    outage_seconds: float = 0.0
    faults_seconds: float = 0.0
    injected_faults: dict[str, dict[str, int]] = field(default_factory=dict)
    chaos_seconds: float = 0.0


class ChaosDriver:
    """Plays a timeline against the stack; `restore` leaves it calm again, whatever happened."""

    def __init__(self, plan: ChaosPlan, seed: int, stack: ChaosStack) -> None:
        self.plan = plan
        self.seed = seed
        self.stack = stack
        self.cases = workload.pipeline_cases(plan.pipelines)
        self.probes: list[PipelineCase] = []
        self.tally = ChaosTally()
        self._pace = threading.Event()  # never set: its wait() is the driver's poll interval
        self._faults_started = 0.0
        self._outage_started = 0.0

    @property
    def all_cases(self) -> list[PipelineCase]:
        """Every pipeline the driver applied, probes included."""
        return [*self.cases, *self.probes]

    def run(self) -> ChaosTally:
        """Play the whole timeline; return the tally (see `restore` for the clean-up)."""
        started = time.monotonic()
        for event in timeline(self.plan, self.seed):
            self._idle_until(started + event.at)
            self._perform(event)
        self._idle_until(started + self.plan.window_seconds)
        while self._faults_started or self._outage_started:
            self._idle_until(time.monotonic() + 0.2)
        self.tally.chaos_seconds = round(time.monotonic() - started, 1)
        return self.tally

    def restore(self) -> None:
        """Faults off, emulator back, cron suspended, operator running and live."""
        emulator = self.stack.emulator
        if self._faults_started:
            self._stop_faults()
        if self._outage_started:
            self._end_outage()
        self.tally.injected_faults = emulator.injected_faults()
        self._kubectl(
            "patch", f"cpl/{workload.CRON_NAME}", "--type=merge", '-p={"spec":{"suspend":true}}'
        )
        self._keep_operator_running()
        wait_for(self._operator_live, timeout=60, message="the operator's liveness endpoint")

    # --- events ------------------------------------------------------------------------------

    def _perform(self, event: Event) -> None:
        action = event.action
        if action is Action.APPLY_PIPELINE:
            self._apply(self.cases[event.subject].manifest())
        elif action is Action.KILL_OPERATOR:
            self._kill_operator()
        elif action is Action.RESTART_APISERVER:
            self._restart_apiserver()
        elif action is Action.FAULTS_ON:
            self._start_faults()
        elif action is Action.OUTAGE_START:
            self._outage_started = time.monotonic()
            self.stack.emulator.take_down()
        elif action is Action.SCALE_COMPUTE_ENVIRONMENT:
            self._apply(workload.scaled_compute_environment(workload.MAX_VCPUS_AFTER))
        elif action is Action.REPLACE_COMPUTE_ENVIRONMENT:
            self._apply(workload.replaced_compute_environment(workload.INSTANCE_TYPES_AFTER))

    def _kill_operator(self) -> None:
        operator = self.stack.operator
        if self._operator_live():
            self.tally.kills_while_live += 1
        self._keep_operator_running()  # an exit of its own is counted apart from our kill
        operator.kill()
        operator.start()
        self.tally.kills += 1

    def _restart_apiserver(self) -> None:
        """Restart kube-apiserver and leave the operator alone: kopf must re-establish its
        watches (a new object is picked up) and every running loop must go on (the cron keeps
        scheduling) without a restart. No kill lands meanwhile."""
        began = time.monotonic()
        self.stack.cluster.restart_apiserver()
        ready, ready_wall = time.monotonic(), time.time()
        exits_before = len(self.tally.unplanned_exits)
        probe = workload.probe_case(len(self.probes))
        self.probes.append(probe)
        self._apply(probe.manifest())
        picked_up = self._seconds_until(
            lambda: self._phase_of(probe.name), ready, PROBE_TIMEOUT, f"{probe.name} picked up"
        )
        cron_resumed = self._seconds_until(
            lambda: self._cron_run_scheduled_after(ready_wall),
            ready,
            CRON_RESUME_TIMEOUT,
            "a cron run scheduled after the restart",
        )
        self.tally.apiserver_restarts.append(
            ApiserverRecovery(
                restart_seconds=round(ready - began, 1),
                probe_picked_up_seconds=picked_up,
                cron_resumed_seconds=cron_resumed,
                operator_exited=len(self.tally.unplanned_exits) > exits_before,
            )
        )

    def _seconds_until(
        self, probe: Callable[[], object], since: float, timeout: float, what: str
    ) -> float | None:
        """Seconds from `since` until `probe` holds (None: not within `timeout`), keeping the
        operator running and ending due disruptions meanwhile."""

        def holds() -> object:
            self._keep_operator_running()
            self._end_due_disruptions()
            return probe()

        try:
            wait_for(holds, timeout=timeout, interval=0.25, message=what)
        except WaitTimeout:
            return None
        return round(time.monotonic() - since, 1)

    def _start_faults(self) -> None:
        self._faults_started = time.monotonic()
        fault = {"throttleRate": self.plan.throttle_rate, "errorRate": self.plan.error_rate}
        self.stack.emulator.set_faults(operations={EVERY_BATCH_OPERATION: fault}, seed=self.seed)

    def _stop_faults(self) -> None:
        self.stack.emulator.set_faults()
        self.tally.faults_seconds += round(time.monotonic() - self._faults_started, 1)
        self._faults_started = 0.0

    def _end_outage(self) -> None:
        self.stack.emulator.bring_back()
        self.tally.outage_seconds += round(time.monotonic() - self._outage_started, 1)
        self._outage_started = 0.0

    def _end_due_disruptions(self) -> None:
        """Stop the fault window and the outage once they lasted their planned length."""
        now = time.monotonic()
        if self._faults_started and now >= self._faults_started + self.plan.faults_seconds:
            self._stop_faults()
        if self._outage_started and now >= self._outage_started + self.plan.outage_seconds:
            self._end_outage()

    # --- the stack ---------------------------------------------------------------------------

    def _idle_until(self, deadline: float) -> None:
        """Watch the operator until `deadline` (the moment of the next event)."""
        while (remaining := deadline - time.monotonic()) > 0:
            self._keep_operator_running()
            self._end_due_disruptions()
            self._pace.wait(min(remaining, 0.2))

    def _keep_operator_running(self) -> bool:
        """Start the operator again if it exited without being killed (as a kubelet would);
        record the end of its log. Always False, so it can lead an `or` in a probe."""
        operator = self.stack.operator
        code = operator.exit_code()
        if code is not None:
            tail = "\n".join(operator.log_text().splitlines()[-40:])
            self.tally.unplanned_exits.append(f"exit code {code}:\n{tail}")
            operator.start()
        return False

    def _operator_live(self) -> bool:
        url = self.stack.operator.liveness_url
        if url is None or self.stack.operator.exit_code() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _apply(self, manifest: str) -> None:
        """`kubectl apply`, retried while the API server is away (as a CI job would)."""

        def applied() -> bool:
            result = self.stack.kubectl.run(
                "apply", "-n", self.stack.namespace, "-f", "-", input=manifest, check=False
            )
            if result.returncode != 0:
                self.tally.apply_retries += 1
            return result.returncode == 0

        wait_for(applied, timeout=90, interval=1.0, message="kubectl apply to go through")

    def _kubectl(self, *args: str) -> None:
        def done() -> bool:
            result = self.stack.kubectl.run(*args, "-n", self.stack.namespace, check=False)
            return result.returncode == 0

        wait_for(done, timeout=90, interval=1.0, message=f"kubectl {args[0]} to go through")

    def _cron_run_scheduled_after(self, moment: float) -> bool:
        result = self.stack.kubectl.run(
            "get", "bpl", "-n", self.stack.namespace, f"-l=batchops.io/cron={workload.CRON_NAME}",
            "-o", "jsonpath={.items[*].metadata.annotations.batchops\\.io/scheduled-time}",
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            return False
        return any(parse_time(text).timestamp() > moment for text in result.stdout.split())

    def _phase_of(self, name: str) -> str | None:
        result = self.stack.kubectl.run(
            "get", f"bpl/{name}", "-n", self.stack.namespace,
            "-o", "jsonpath={.status.phase}", check=False,
        )  # fmt: skip
        return result.stdout.strip() or None if result.returncode == 0 else None


def tally_as_dict(tally: ChaosTally) -> dict[str, Any]:
    """The tally as plain JSON-ready data."""
    return asdict(tally)
