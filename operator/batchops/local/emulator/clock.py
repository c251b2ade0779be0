"""Emulated time: the default delays, the speed factor, and the one timer thread.

All emulated delays are divided by the speed factor when they are scheduled (a change of speed
affects delays scheduled afterwards). Timestamps reported through the API (createdAt, startedAt,
stoppedAt) are real wall-clock milliseconds, so at speed 20 a "1 s" job shows 50 ms between
startedAt and stoppedAt.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delays:
    """How long each emulated step takes at speed 1, in seconds."""

    ce_create: float = 2.0  # CREATING -> VALID | INVALID
    ce_update_scaling: float = 0.5  # UPDATING -> VALID after a state/scaling update
    ce_update_infrastructure: float = 2.0  # UPDATING -> VALID after an infrastructure update
    ce_delete: float = 1.0  # DELETING -> gone
    queue_create: float = 0.5
    queue_update: float = 0.5
    queue_delete: float = 1.0
    # SUBMITTED->PENDING, PENDING->RUNNABLE, RUNNABLE->placeable, STARTING->RUNNING
    job_step: float = 0.2
    job_duration: float = 1.0  # a simulated attempt that no scenario rule matches
    kill_grace: float = 2.0  # SIGTERM -> SIGKILL for process-mode jobs (not scaled)


DEFAULT_DELAYS = Delays()


class Clock:
    """The speed factor and the two clocks the emulator reads."""

    def __init__(self, speed: float) -> None:
        self._speed = _checked_speed(speed)

    @property
    def speed(self) -> float:
        """The current speed factor."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Divide every delay scheduled from now on by `speed`."""
        self._speed = _checked_speed(speed)

    def scaled(self, seconds: float) -> float:
        """Real seconds for `seconds` of emulated time."""
        return seconds / self._speed

    @staticmethod
    def now_ms() -> int:
        """Wall-clock Unix time in milliseconds, as Batch reports timestamps."""
        return time.time_ns() // 1_000_000

    @staticmethod
    def monotonic() -> float:
        """Monotonic seconds, for deadlines."""
        return time.monotonic()


def _checked_speed(speed: float) -> float:
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {speed}")
    return float(speed)


class Timer:
    """A scheduled callback; `cancel()` makes it a no-op."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run the callback (if it has not run yet)."""
        self.cancelled = True


class TimerThread:
    """Runs scheduled callbacks, in due order, while holding the emulator's state lock.

    After each round of due callbacks it runs the `after_round` hooks (the scheduler's capacity
    pass) under the lock, then the deferred side effects (log writes, EventBridge delivery)
    without it, so a slow consumer never blocks the API.
    """

    def __init__(self, lock: threading.RLock, on_start: Callable[[], None] | None = None) -> None:
        self._wakeup = threading.Condition(lock)
        self._on_start = on_start
        """Run first on the thread (it names the account the thread serves)."""
        self._heap: list[tuple[float, int, Timer, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._deferred: list[Callable[[], None]] = []
        self._after_round: list[Callable[[], None]] = []
        self._poke = False
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._running = True
        self._thread = threading.Thread(target=self._run, name="batchops-emulator-timers")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; pending callbacks are dropped."""
        with self._wakeup:
            self._running = False
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def add_round_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook` (under the lock) after every round of callbacks and every `poke`."""
        self._after_round.append(hook)

    def schedule(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` after `delay` real seconds. The caller holds the state lock."""
        timer = Timer()
        with self._wakeup:
            heapq.heappush(
                self._heap, (time.monotonic() + delay, next(self._sequence), timer, callback)
            )
            self._wakeup.notify()
        return timer

    def poke(self) -> None:
        """Ask for a round (the round hooks run soon, e.g. after capacity was freed)."""
        with self._wakeup:
            self._poke = True
            self._wakeup.notify()

    def defer(self, effect: Callable[[], None]) -> None:
        """Run `effect` on the timer thread without the state lock, in the order deferred."""
        with self._wakeup:
            self._deferred.append(effect)
            self._wakeup.notify()

    def clear(self) -> None:
        """Drop every pending callback and deferred effect (emulator reset)."""
        with self._wakeup:
            for _, _, timer, _ in self._heap:
                timer.cancel()
            self._heap.clear()
            self._deferred.clear()

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while True:
            with self._wakeup:
                self._wait_for_work()
                if not self._running:
                    return
                self._run_due_callbacks()
                self._poke = False
                for hook in self._after_round:
                    _guarded(hook)
                deferred, self._deferred = self._deferred, []
            for effect in deferred:
                _guarded(effect)

    def _wait_for_work(self) -> None:
        while self._running and not self._poke and not self._deferred:
            if not self._heap:
                self._wakeup.wait()
                continue
            delay = self._heap[0][0] - time.monotonic()
            if delay <= 0:
                return
            self._wakeup.wait(delay)

    def _run_due_callbacks(self) -> None:
        now = time.monotonic()
        while self._heap and self._heap[0][0] <= now:
            _, _, timer, callback = heapq.heappop(self._heap)
            if not timer.cancelled:
                _guarded(callback)


def _guarded(callback: Callable[[], None]) -> None:
    # One failing transition must not stop every other job in the emulator.
    try:
        callback()
    except Exception:
        log.exception("emulator callback %r failed", callback)
