"""The event consumer: Batch job state changes from SQS into the shared watch (event mode).

Several consumers read the queue at once: one ReceiveMessage returns at most 10 messages, so a
single reader falls behind a burst of completions (1,200 jobs in bench/lag.py). Each deletes
its messages only after recording them (at least once; recording is idempotent and drops an
event older than what the watch knows). A replica that follows no job does not read: a peer
kopf paused would otherwise take, and delete, the events the active one waits for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from batchops.aws.errors import AwsError
from batchops.aws.events import JobEventQueue
from batchops.jobs.watch import JobWatch, OwnerKey
from batchops.model.observed import ObservedJob

_logger = logging.getLogger(__name__)

CONSUMERS = 4
"""Readers of the event queue per operator (each holds one worker thread while it long-polls)."""

IDLE_SECONDS = 1.0
"""How often a reader looks whether some job is followed again."""


async def consume_events(
    watch: JobWatch,
    events: JobEventQueue,
    wake: Callable[[OwnerKey], None],
    retry_delay: float,
    consumers: int = CONSUMERS,
) -> None:
    """Run `consumers` readers until cancelled."""
    await asyncio.gather(
        *(consume_once_forever(watch, events, wake, retry_delay) for _ in range(consumers))
    )


async def consume_once_forever(
    watch: JobWatch,
    events: JobEventQueue,
    wake: Callable[[OwnerKey], None],
    retry_delay: float,
) -> None:
    """One reader: read events (long polls), record them, wake the owners that changed, then
    delete the messages. A queue that cannot be read is tried again after `retry_delay` s."""
    while True:
        if not watch.follows_any():
            await asyncio.sleep(IDLE_SECONDS)
            continue
        try:
            batch = await asyncio.to_thread(events.receive)
        except AwsError as exc:
            _logger.warning(f"reading job events failed, will retry: {exc}")
            await asyncio.sleep(retry_delay)
            continue
        jobs = []
        for detail in batch.jobs:
            try:
                jobs.append(ObservedJob.from_describe(detail))
            except ValueError as exc:
                _logger.warning(f"ignoring a malformed job event: {exc}")
        for owner in watch.record_events(jobs):
            wake(owner)
        try:
            await asyncio.to_thread(events.delete, batch)
        except AwsError as exc:
            # The messages come back after the visibility timeout; recording them again
            # changes nothing.
            _logger.warning(f"deleting job events failed: {exc}")
