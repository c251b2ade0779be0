"""A token bucket shared by every thread that submits jobs (Batch: SubmitJob ≤ 50/s/account)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SUBMIT_JOB_RATE = 50.0
"""SubmitJob calls per second per account (AWS Batch service quota)."""


class TokenBucket:
    """`acquire` blocks until a token is free; at most `burst` calls go back to back."""

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, waiting as long as needed."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self._rate
            self._sleep(wait)
