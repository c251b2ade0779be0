"""The one DescribeJobs poller: sweeps every tracked job and wakes the pipelines that changed.

Jobs are described where they live, per (account, region): DescribeJobs takes up to 100 ids of
one account and region, so a sweep makes the fewest calls each place allows. A place that fails
(throttled, its role refused) does not hold back the others.

Each call's answer is recorded (and its owners woken) before the next call: a sweep of 20,000
jobs held every raw and parsed item at once before, tens of MiB the operator's resident memory
kept after each sweep, and no pipeline heard of a change before the whole sweep ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from batchops.aws.batch import DESCRIBE_JOBS_MAX_IDS
from batchops.aws.errors import AwsError
from batchops.config import OperatorConfig
from batchops.jobs.watch import JobWatch, OwnerKey, Place
from batchops.model.observed import ObservedJob

PlacedDescriber = Callable[[Place, Sequence[str]], list[ObservedJob]]
"""DescribeJobs of these ids at one place (the poller asks for at most 100 at a time), parsed."""

EVENT_MODE_POLL_FACTOR = 6
"""In event mode DescribeJobs polling stays on as a slow safety net for lost events."""

_logger = logging.getLogger(__name__)


def poll_interval(config: OperatorConfig) -> float:
    """Seconds between sweeps: the configured interval, stretched in event mode."""
    interval = config.poll_interval
    if config.event_queue_url is not None:
        interval *= EVENT_MODE_POLL_FACTOR
    return interval


async def poll_jobs(
    watch: JobWatch,
    describe: PlacedDescriber,
    wake: Callable[[OwnerKey], None],
    interval: float,
) -> None:
    """Every `interval` seconds, describe the tracked jobs where they live and wake the owners
    that changed; runs until cancelled."""
    loop = asyncio.get_running_loop()

    def wake_soon(owner: OwnerKey) -> None:
        loop.call_soon_threadsafe(wake, owner)

    while True:
        await asyncio.sleep(interval)
        for place, ids in watch.active_ids_by_place().items():
            try:
                # One worker thread per place and sweep, not per call: the calls of a sweep
                # must not queue behind the reconcile passes that its own wakeups start.
                await asyncio.to_thread(sweep_place, watch, describe, place, ids, wake_soon)
            except AwsError as exc:
                # The rest of this place waits for the next sweep: no hammering a place that
                # throttles; the other places go on.
                _logger.warning(f"job poll failed, will retry: {exc}")
            except Exception:
                # Logged with its traceback (tests fail on it), but the poller keeps serving.
                _logger.exception("job poll failed unexpectedly")


def sweep_place(
    watch: JobWatch,
    describe: PlacedDescriber,
    place: Place,
    ids: Sequence[str],
    wake: Callable[[OwnerKey], None],
) -> None:
    """Describe one place's ids, one DescribeJobs call at a time (blocking: a worker thread's
    work), recording each answer and waking its changed owners before the next call."""
    for start in range(0, len(ids), DESCRIBE_JOBS_MAX_IDS):
        jobs = describe(place, ids[start : start + DESCRIBE_JOBS_MAX_IDS])
        for owner in watch.record(jobs):
            wake(owner)
