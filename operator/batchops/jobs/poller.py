"""The one DescribeJobs poller: sweeps every tracked job and wakes the pipelines that changed.

Jobs are described where they live, per (account, region): DescribeJobs takes up to 100 ids of
one account and region, so a sweep makes the fewest calls each place allows. A place that fails
(throttled, its role refused) does not hold back the others.

A sweep keeps a few DescribeJobs calls in flight at once (`SWEEP_CALLS_IN_FLIGHT`): one call at
a time made a sweep as long as the sum of its calls' round trips (10,000 jobs took longer than
the 10 s interval against the local emulator, and 100,000 jobs at 0.1 s per round trip would
take 100 s). Each call's answer is recorded (and its owners woken) as it arrives, so a sweep
holds a few calls' items at a time, never every tracked job's, and a pipeline hears of its
change before the sweep ends.

Sweeps start every interval: the next one starts `interval` after the previous one started, or
as soon as it ended if it took longer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from batchops.aws.batch import DESCRIBE_JOBS_MAX_IDS
from batchops.aws.errors import AwsError
from batchops.config import OperatorConfig
from batchops.jobs.watch import JobWatch, OwnerKey, Place
from batchops.model.observed import ObservedJob

PlacedDescriber = Callable[[Place, Sequence[str]], list[ObservedJob]]
"""DescribeJobs of these ids at one place (the poller asks for at most 100 at a time), parsed."""

EVENT_MODE_POLL_FACTOR = 6
"""In event mode DescribeJobs polling stays on as a slow safety net for lost events."""

SWEEP_CALLS_IN_FLIGHT = 4
"""DescribeJobs calls of a sweep in flight at once. AWS publishes no quota of DescribeJobs' own;
its Batch API calls share a per-account rate ("including SubmitJob, 50 TPS": AWS re:Post,
knowledge-center/aws-batch-requests-error), so a sweep must not take it all: 4 calls at 0.1 s
per round trip is about 40 calls (4,000 jobs) per second, in bursts no longer than the sweep. If AWS
throttles anyway, botocore's adaptive retry mode slows the client (aws/session.py), and the
place's remaining calls wait for the next sweep."""

_logger = logging.getLogger(__name__)
_callers = ThreadPoolExecutor(max_workers=SWEEP_CALLS_IN_FLIGHT, thread_name_prefix="sweep")


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
    observe_sweep: Callable[[float], None] | None = None,
) -> None:
    """Every `interval` seconds, describe the tracked jobs where they live and wake the owners
    that changed; runs until cancelled. `observe_sweep` is told each sweep's seconds."""
    loop = asyncio.get_running_loop()

    def wake_soon(owner: OwnerKey) -> None:
        loop.call_soon_threadsafe(wake, owner)

    next_sweep = loop.time() + interval
    while True:
        await asyncio.sleep(max(0.0, next_sweep - loop.time()))
        started = loop.time()
        next_sweep = started + interval
        await sweep(watch, describe, wake_soon)
        if observe_sweep is not None:
            observe_sweep(loop.time() - started)


async def sweep(
    watch: JobWatch, describe: PlacedDescriber, wake: Callable[[OwnerKey], None]
) -> None:
    """Describe every active job once, in calls of 100 ids per place, a few calls at a time
    (on the sweep's own threads: they must not queue behind the reconcile passes their own
    wakeups start). A place that fails (throttled, its role refused) makes no further calls in
    this sweep; the other places go on."""
    loop = asyncio.get_running_loop()
    calls: list[tuple[Place, asyncio.Future[None]]] = []
    for place, ids in watch.active_ids_by_place().items():
        refused = threading.Event()
        for start in range(0, len(ids), DESCRIBE_JOBS_MAX_IDS):
            chunk = ids[start : start + DESCRIBE_JOBS_MAX_IDS]
            call = functools.partial(describe_chunk, watch, describe, place, chunk, wake, refused)
            calls.append((place, loop.run_in_executor(_callers, call)))
    results = await asyncio.gather(*(future for _, future in calls), return_exceptions=True)
    logged: set[Place] = set()
    for (place, _), result in zip(calls, results, strict=True):
        if not isinstance(result, BaseException) or place in logged:
            continue
        logged.add(place)
        if isinstance(result, AwsError):
            _logger.warning(f"job poll failed, will retry: {result}")
        else:  # logged with its traceback (tests fail on it), but the poller keeps serving
            _logger.error("job poll failed unexpectedly", exc_info=result)


def describe_chunk(
    watch: JobWatch,
    describe: PlacedDescriber,
    place: Place,
    ids: Sequence[str],
    wake: Callable[[OwnerKey], None],
    refused: threading.Event,
) -> None:
    """One DescribeJobs call of a sweep (blocking: a sweep thread's work): record the answer
    and wake its changed owners, unless an earlier call at this place was refused."""
    if refused.is_set():
        return
    try:
        jobs = describe(place, ids)
    except BaseException:
        refused.set()
        raise
    for owner in watch.record(jobs):
        wake(owner)
