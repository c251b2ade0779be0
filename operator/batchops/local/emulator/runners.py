"""Running one job attempt: scripted (simulate mode) or as a local process (process mode).

Simulate mode waits the scenario's duration (divided by the speed factor), writes one log line
and exits with the scenario's exit code. Process mode runs the container command (after
parameter substitution) with the host environment plus the job's environment and the variables
a Batch container sees: AWS_BATCH_JOB_ID, AWS_BATCH_JOB_ATTEMPT, AWS_BATCH_JQ_NAME,
AWS_BATCH_CE_NAME, for array children AWS_BATCH_JOB_ARRAY_INDEX, and for the nodes of a
multi-node job AWS_BATCH_JOB_NODE_INDEX, AWS_BATCH_JOB_NUM_NODES, AWS_BATCH_JOB_MAIN_NODE_INDEX
and, on nodes other than the main one, AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS (127.0.0.1:
every node runs on this machine). Its stdout and stderr
lines go to the attempt's log stream. Terminating or timing out a process sends SIGTERM to its
process group, then SIGKILL after a grace period. The image is not used: the command runs on
this machine, in the emulator's working directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from batchops.local.emulator.clock import Clock, Delays, Timer, TimerThread
from batchops.local.emulator.outputs import JobLogs
from batchops.local.emulator.scenario import PROCESS, Scenario

# Called with the state lock held: (exit code or None if the container never ran, reason or None).
ExitCallback = Callable[[int | None, str | None], None]


# The loopback address: every node of a multi-node job runs as a process on this machine.
MAIN_NODE_ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class NodePosition:
    """A multi-node job's node: its index, the number of nodes and the main node's index."""

    index: int
    num_nodes: int
    main_index: int


@dataclass(frozen=True)
class AttemptContext:
    """What an attempt needs to run."""

    job_id: str
    job_name: str
    attempt: int
    array_index: int | None
    queue_name: str
    compute_environment_name: str
    command: list[str]
    environment: dict[str, str]
    log_stream: str
    node: NodePosition | None = None

    def batch_variables(self) -> dict[str, str]:
        """The AWS_BATCH_* variables Batch sets in a job's container."""
        variables = {
            "AWS_BATCH_JOB_ID": self.job_id,
            "AWS_BATCH_JOB_ATTEMPT": str(self.attempt),
            "AWS_BATCH_JQ_NAME": self.queue_name,
            "AWS_BATCH_CE_NAME": self.compute_environment_name,
        }
        if self.array_index is not None:
            variables["AWS_BATCH_JOB_ARRAY_INDEX"] = str(self.array_index)
        if self.node is not None:
            # https://docs.aws.amazon.com/batch/latest/userguide/mnp-env-vars.html; the main
            # node's address "is only set in multi-node parallel job child nodes".
            variables["AWS_BATCH_JOB_NODE_INDEX"] = str(self.node.index)
            variables["AWS_BATCH_JOB_NUM_NODES"] = str(self.node.num_nodes)
            variables["AWS_BATCH_JOB_MAIN_NODE_INDEX"] = str(self.node.main_index)
            if self.node.index != self.node.main_index:
                variables["AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS"] = MAIN_NODE_ADDRESS
        return variables


class RunningAttempt(Protocol):
    """A started attempt."""

    def stop(self) -> None:
        """Stop it (terminate, timeout); its exit callback may still come and is ignored."""

    def exited(self) -> int | None:
        """The exit code when the attempt's process has already ended (its exit may not have
        been reported yet), else None."""


class AttemptRunner:
    """Starts attempts the way the current scenario says."""

    def __init__(
        self,
        clock: Clock,
        delays: Delays,
        timers: TimerThread,
        lock: threading.RLock,
        logs: JobLogs,
    ) -> None:
        self._clock = clock
        self._delays = delays
        self._timers = timers
        self._lock = lock
        self._logs = logs
        self.scenario = Scenario()
        self._processes: set[_ProcessAttempt] = set()

    def start(self, context: AttemptContext, on_exit: ExitCallback) -> RunningAttempt:
        """Start an attempt; `on_exit` is called once it ends on its own."""
        if self.scenario.mode == PROCESS:
            return self._start_process(context, on_exit)
        return self._simulate(context, on_exit)

    def stop_all(self) -> None:
        """Kill every process-mode attempt (emulator reset and stop)."""
        for process in list(self._processes):
            process.kill_now()
        self._processes.clear()

    def _simulate(self, context: AttemptContext, on_exit: ExitCallback) -> RunningAttempt:
        outcome = self.scenario.outcome(
            context.job_name, context.attempt, context.array_index, self._delays.job_duration
        )
        line = (
            f"batchops emulator: simulated attempt {context.attempt} of job {context.job_name} "
            f"({context.job_id}) runs {outcome.duration_seconds:g} s and exits "
            f"{outcome.exit_code}"
        )
        now = self._clock.now_ms()
        self._timers.defer(lambda: self._logs.write(context.log_stream, [(now, line)]))
        timer = self._timers.schedule(
            self._clock.scaled(outcome.duration_seconds),
            lambda: on_exit(outcome.exit_code, None),
        )
        return _SimulatedAttempt(timer)

    def _start_process(self, context: AttemptContext, on_exit: ExitCallback) -> RunningAttempt:
        environment = {**os.environ, **context.environment, **context.batch_variables()}
        try:
            process = subprocess.Popen(
                context.command,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except (OSError, ValueError) as error:
            reason = f"CannotStartContainerError: {error}"[:255]
            timer = self._timers.schedule(0, lambda: on_exit(None, reason))
            return _SimulatedAttempt(timer)
        attempt = _ProcessAttempt(process, context, self._delays.kill_grace)
        self._processes.add(attempt)
        name = f"batchops-emulator-job-{context.job_id}"
        threading.Thread(target=self._pump, args=(attempt, on_exit), name=name, daemon=True).start()
        return attempt

    def _pump(self, attempt: _ProcessAttempt, on_exit: ExitCallback) -> None:
        """Copy the process's output lines to its log stream, then report its exit."""
        stream = attempt.context.log_stream
        for line in attempt.output_lines():
            self._logs.write(stream, [(self._clock.now_ms(), line)])
        code = attempt.wait()
        with self._lock:
            self._processes.discard(attempt)
            on_exit(code, None)
        self._timers.poke()


class _SimulatedAttempt:
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def stop(self) -> None:
        """Cancel the scripted exit."""
        self._timer.cancel()

    def exited(self) -> int | None:
        """A scripted attempt ends when its timer fires, which reports it at once."""
        return None


class _ProcessAttempt:
    def __init__(
        self, process: subprocess.Popen[str], context: AttemptContext, kill_grace: float
    ) -> None:
        self._process = process
        self.context = context
        self._kill_grace = kill_grace

    def output_lines(self) -> Iterator[str]:
        """The process's stdout and stderr, line by line, until it closes them."""
        assert self._process.stdout is not None
        for line in self._process.stdout:
            yield line.rstrip("\n")

    def wait(self) -> int:
        """Wait for the exit; its code as a container would report it."""
        return _container_code(self._process.wait())

    def exited(self) -> int | None:
        """The exit code if the process has ended, though `_pump` may not have reported it."""
        code = self._process.poll()
        return None if code is None else _container_code(code)

    def stop(self) -> None:
        """SIGTERM now, SIGKILL after the grace period."""
        self._signal(signal.SIGTERM)
        killer = threading.Timer(self._kill_grace, self.kill_now)
        killer.daemon = True
        killer.start()

    def kill_now(self) -> None:
        """SIGKILL the process group."""
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signum)


def _container_code(code: int) -> int:
    # A signal death shows as 128+N, as a container's exit code would.
    return code if code >= 0 else 128 - code
