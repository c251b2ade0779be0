"""A token bucket shared by every thread that submits jobs (Batch: SubmitJob ≤ 50/s/account)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SUBMIT_JOB_RATE = 50.0
"""SubmitJob calls per second per account (the AWS Batch service quota)."""


class TokenBucket:
    """At most `burst` calls back to back, then `rate` per second; `acquire` blocks.

    A caller reserves its token under the lock (the balance may go negative) and sleeps outside
    it, so waiting threads are served in arrival order and each sleeps exactly once.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got rate={rate}, burst={burst}")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = burst
        self._updated = clock()

    def acquire(self) -> float:
        """Take one token, waiting until it is due; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


SUBMIT_JOB_BURST = SUBMIT_JOB_RATE
"""One second's worth back to back."""

SUBMIT_JOB_BUCKET = TokenBucket(SUBMIT_JOB_RATE, burst=SUBMIT_JOB_BURST)
"""The default of every `BatchApi`: the operator's own account. The operator gives each
BatchAccount's APIs a bucket of their own (the quota is per account; shared across regions,
which only errs on the safe side)."""
