"""Fault injection (throttling, 5xx, latency, the SubmitJob rate limit, the eventual-consistency
window, compute environments short of instance capacity) and the per-operation API call counters.

The configuration's JSON shape is documented with the control API (control.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from batchops.local.emulator.errors import BatchApiError, server_error, throttled

ALL_OPERATIONS = "*"


@dataclass(frozen=True)
class OperationFaults:
    """Faults for one operation."""

    throttle_rate: float = 0.0
    error_rate: float = 0.0
    latency_seconds: float = 0.0
    reply_delay_seconds: float = 0.0
    """Delay after the call took effect, before answering: a client killed or timing out
    meanwhile never learns the result (e.g. the id of a job that now exists)."""


@dataclass(frozen=True)
class FaultConfig:
    """The whole fault configuration."""

    operations: dict[str, OperationFaults] = field(default_factory=dict)
    submit_job_rate_limit: float | None = None
    eventual_consistency_seconds: float = 0.0
    seed: int | None = None
    insufficient_capacity: frozenset[str] = frozenset()
    """Names or ARNs of compute environments that get no instances: the scheduler places no job
    there, and a job only such compute environments could run is blocked with Batch's
    CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY reason (scheduler.py)."""

    def for_operation(self, operation: str) -> OperationFaults | None:
        """The faults that apply to a Batch operation, if any."""
        return self.operations.get(operation) or self.operations.get(ALL_OPERATIONS)


def parse_faults(raw: dict[str, Any]) -> FaultConfig:
    """A FaultConfig from the control API's JSON; ValueError when malformed."""
    unknown = set(raw) - {
        "operations",
        "submitJobRateLimit",
        "eventualConsistencySeconds",
        "seed",
        "insufficientCapacity",
    }
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    operations = {}
    for name, spec in (raw.get("operations") or {}).items():
        extra = set(spec) - {"throttleRate", "errorRate", "latencySeconds", "replyDelaySeconds"}
        if extra:
            raise ValueError(f"unknown fields for {name}: {sorted(extra)}")
        faults = OperationFaults(
            throttle_rate=float(spec.get("throttleRate", 0.0)),
            error_rate=float(spec.get("errorRate", 0.0)),
            latency_seconds=float(spec.get("latencySeconds", 0.0)),
            reply_delay_seconds=float(spec.get("replyDelaySeconds", 0.0)),
        )
        if not (0 <= faults.throttle_rate <= 1 and 0 <= faults.error_rate <= 1):
            raise ValueError(f"rates for {name} must be between 0 and 1")
        operations[str(name)] = faults
    limit = raw.get("submitJobRateLimit")
    short = raw.get("insufficientCapacity") or []
    if not isinstance(short, list) or not all(isinstance(ce, str) and ce for ce in short):
        raise ValueError("insufficientCapacity must be a list of compute environment names or ARNs")
    return FaultConfig(
        operations=operations,
        submit_job_rate_limit=None if not limit else float(limit),
        eventual_consistency_seconds=float(raw.get("eventualConsistencySeconds") or 0.0),
        seed=None if raw.get("seed") is None else int(raw["seed"]),
        insufficient_capacity=frozenset(short),
    )


class FaultInjector:
    """Decides, per API call, whether to delay it and whether to fail it; counts every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._random = random.Random()
        self._counters: Counter[str] = Counter()
        self._injected: Counter[tuple[str, str]] = Counter()
        self._bucket = _TokenBucket(None)

    @property
    def config(self) -> FaultConfig:
        """The current configuration."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the whole configuration."""
        with self._lock:
            self._config = config
            self._random = random.Random(config.seed)
            self._bucket = _TokenBucket(config.submit_job_rate_limit)

    def reset(self) -> None:
        """No faults, counters at zero."""
        self.configure(FaultConfig())
        with self._lock:
            self._counters.clear()
            self._injected.clear()

    def count(self, operation: str) -> None:
        """Count one call of `operation`."""
        with self._lock:
            self._counters[operation] += 1

    def counters(self) -> dict[str, int]:
        """Calls per operation since the last reset."""
        with self._lock:
            return dict(self._counters)

    def injected(self) -> dict[str, dict[str, int]]:
        """Faults answered since the last reset, per operation and kind ("throttled",
        "serverError"); the SubmitJob rate limit counts as "throttled"."""
        with self._lock:
            result: dict[str, dict[str, int]] = {}
            for (operation, kind), count in self._injected.items():
                result.setdefault(operation, {})[kind] = count
            return result

    def delay_reply(self, operation: str) -> None:
        """Sleep the configured reply delay of a call that already took effect."""
        faults = self._config.for_operation(operation)
        if faults is not None and faults.reply_delay_seconds > 0:
            time.sleep(faults.reply_delay_seconds)  # the injected delay itself

    def fault_for(self, operation: str) -> BatchApiError | None:
        """Sleep the configured latency, then the error to answer this Batch call with, if any."""
        faults = self._config.for_operation(operation)
        if faults is not None and faults.latency_seconds > 0:
            time.sleep(faults.latency_seconds)  # the injected latency itself
        with self._lock:
            if faults is not None:
                if self._random.random() < faults.throttle_rate:
                    self._injected[operation, "throttled"] += 1
                    return throttled()
                if self._random.random() < faults.error_rate:
                    self._injected[operation, "serverError"] += 1
                    return server_error()
            if operation == "SubmitJob" and not self._bucket.take():
                self._injected[operation, "throttled"] += 1
                return throttled()
        return None


class _TokenBucket:
    """`rate` calls per second with a burst of one second's worth; None: unlimited."""

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._tokens = rate or 0.0
        self._last = time.monotonic()

    def take(self) -> bool:
        """Take one token if there is one."""
        if self._rate is None:
            return True
        now = time.monotonic()
        self._tokens = min(self._rate, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
