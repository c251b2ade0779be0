"""The one DescribeJobs poller: sweeps every tracked job and wakes the pipelines that changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from batchops.aws.errors import AwsError
from batchops.config import OperatorConfig
from batchops.jobs.describer import JobDescriber
from batchops.jobs.watch import JobWatch, OwnerKey

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
    describe: JobDescriber,
    wake: Callable[[OwnerKey], None],
    interval: float,
) -> None:
    """Every `interval` seconds, describe the tracked jobs and wake the owners that changed;
    runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            changed = await asyncio.to_thread(watch.poll_once, describe)
        except AwsError as exc:
            _logger.warning(f"job poll failed, will retry: {exc}")
            continue
        except Exception:
            # Logged with its traceback (tests fail on it), but the poller keeps serving.
            _logger.exception("job poll failed unexpectedly")
            continue
        for owner in changed:
            wake(owner)
