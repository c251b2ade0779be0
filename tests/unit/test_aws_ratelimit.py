"""The SubmitJob token bucket, on a fake clock."""

from __future__ import annotations

import threading
from time import monotonic

import pytest

from batchops.aws.ratelimit import SUBMIT_JOB_BUCKET, SUBMIT_JOB_RATE, TokenBucket
from tests.waits import run_in_threads


class FakeTime:
    """A clock that only moves when told to, or when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def bucket(rate: float, burst: float, time: FakeTime) -> TokenBucket:
    return TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep)


def test_a_full_bucket_lets_a_burst_through_without_waiting() -> None:
    time = FakeTime()
    limiter = bucket(rate=10, burst=5, time=time)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5
    assert time.sleeps == []


def test_past_the_burst_each_call_waits_one_more_token_interval() -> None:
    time = FakeTime()
    limiter = bucket(rate=10, burst=2, time=time)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])
    assert time.sleeps == pytest.approx([0.1, 0.2, 0.3])


def test_tokens_refill_with_time_but_never_beyond_the_burst() -> None:
    time = FakeTime()
    limiter = bucket(rate=10, burst=3, time=time)
    for _ in range(3):
        limiter.acquire()
    time.advance(0.2)
    assert [limiter.acquire() for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire() == pytest.approx(0.1)
    time.advance(60)
    assert [limiter.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.0])
    assert limiter.acquire() == pytest.approx(0.1)


def test_concurrent_callers_never_share_a_token() -> None:
    # Frozen clock: whatever the interleaving, the reservations must be 0 (burst) then one
    # more interval each, so the sorted waits are fixed.
    time = FakeTime()
    limiter = bucket(rate=10, burst=5, time=time)
    waits: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(10):
            wait = limiter.acquire()
            with lock:
                waits.append(wait)

    run_in_threads(caller, 4, timeout=10)
    assert sorted(waits) == pytest.approx([0.0] * 5 + [i / 10 for i in range(1, 36)])


def test_real_clock_paces_calls_at_the_rate() -> None:
    limiter = TokenBucket(rate=200, burst=1)
    start = monotonic()
    for _ in range(11):
        limiter.acquire()
    assert monotonic() - start >= 10 / 200 * 0.9


@pytest.mark.parametrize(("rate", "burst"), [(0, 5), (-1, 5), (10, 0.5)])
def test_nonsense_rates_are_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate, burst)


def test_the_shared_submit_job_bucket_follows_the_batch_quota() -> None:
    assert SUBMIT_JOB_RATE == 50
    assert isinstance(SUBMIT_JOB_BUCKET, TokenBucket)
