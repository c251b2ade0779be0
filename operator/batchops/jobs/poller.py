"""The one DescribeJobs poller: sweeps every tracked job and wakes the pipelines that changed.

Jobs are described where they live, per (account, region): DescribeJobs takes up to 100 ids of
one account and region, so a sweep makes the fewest calls each place allows. A place that fails
(throttled, its role refused) does not hold back the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from batchops.aws.errors import AwsError
from batchops.config import OperatorConfig
from batchops.jobs.watch import JobWatch, OwnerKey, Place
from batchops.model.observed import ObservedJob

PlacedDescriber = Callable[[Place, Sequence[str]], list[ObservedJob]]
"""DescribeJobs of these ids at one place (chunked by the AWS layer), parsed."""

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
    while True:
        await asyncio.sleep(interval)
        for place, ids in watch.active_ids_by_place().items():
            if not ids:
                continue
            try:
                jobs = await asyncio.to_thread(describe, place, ids)
            except AwsError as exc:
                _logger.warning(f"job poll failed, will retry: {exc}")
                continue
            except Exception:
                # Logged with its traceback (tests fail on it), but the poller keeps serving.
                _logger.exception("job poll failed unexpectedly")
                continue
            for owner in watch.record(jobs):
                wake(owner)
