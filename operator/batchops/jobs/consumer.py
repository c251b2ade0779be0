"""The event consumer: Batch job state changes from SQS into the shared watch (event mode)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from batchops.aws.errors import AwsError
from batchops.aws.events import JobEventQueue
from batchops.jobs.watch import JobWatch, OwnerKey
from batchops.model.observed import ObservedJob

_logger = logging.getLogger(__name__)


async def consume_events(
    watch: JobWatch,
    events: JobEventQueue,
    wake: Callable[[OwnerKey], None],
    retry_delay: float,
) -> None:
    """Read events (long polls), record them and wake the owners that changed; runs until
    cancelled. A queue that cannot be read is tried again after `retry_delay` seconds."""
    while True:
        try:
            details = await asyncio.to_thread(events.receive)
        except AwsError as exc:
            _logger.warning(f"reading job events failed, will retry: {exc}")
            await asyncio.sleep(retry_delay)
            continue
        jobs = []
        for detail in details:
            try:
                jobs.append(ObservedJob.from_describe(detail))
            except ValueError as exc:
                _logger.warning(f"ignoring a malformed job event: {exc}")
        for owner in watch.record_events(jobs):
            wake(owner)
