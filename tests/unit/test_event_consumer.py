"""The event consumer: messages are deleted only once their jobs are recorded, and several
readers share the queue."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from batchops.aws.events import EventBatch, JobEventQueue
from batchops.jobs import consumer
from batchops.jobs.consumer import consume_events
from batchops.jobs.watch import JobWatch, OwnerKey

OWNER: OwnerKey = ("ns", "p")


def job(job_id: str, status: str = "RUNNING") -> Mapping[str, Any]:
    return {"jobId": job_id, "jobName": f"p-{job_id}", "status": status, "createdAt": 1}


class Done(Exception):
    """Ends a consumer once the fake queue has nothing more to give."""


class FakeQueue(JobEventQueue):
    """Hands out the given batches, then ends the consumer; records what was deleted and
    what the watch knew when it was."""

    def __init__(self, watch: JobWatch, batches: list[EventBatch]) -> None:
        self.watch, self.batches = watch, list(batches)
        self.deleted: list[tuple[str, ...]] = []
        self.known_at_delete: list[list[str]] = []
        self._lock = threading.Lock()

    def receive(self, wait_seconds: int = 10) -> EventBatch:
        with self._lock:
            if not self.batches:
                raise Done
            return self.batches.pop(0)

    def delete(self, batch: EventBatch) -> None:
        ids = [str(j["jobId"]) for j in batch.jobs]
        self.known_at_delete.append([j.job_id for j in self.watch.cached(ids)[0]])
        self.deleted.append(batch.receipts)


def run(consumer: Any) -> None:
    with pytest.raises(Done):
        asyncio.run(consumer)


def test_a_batch_is_deleted_only_after_its_jobs_are_recorded() -> None:
    watch = JobWatch()
    watch.track(OWNER, ["a", "b"])
    queue = FakeQueue(watch, [EventBatch((job("a"), job("b")), ("r1", "r2", "r3"))])
    woken: list[OwnerKey] = []
    run(consume_events(watch, queue, woken.append, 0.0, consumers=1))
    assert queue.deleted == [("r1", "r2", "r3")]  # the non-job message too
    assert queue.known_at_delete == [["a", "b"]]
    assert woken == [OWNER]


def test_a_consumer_that_dies_before_recording_leaves_the_messages_for_redelivery() -> None:
    watch = JobWatch()
    watch.track(OWNER, ["a"])
    queue = FakeQueue(watch, [EventBatch((job("a"),), ("r1",))])

    def wake(owner: OwnerKey) -> None:
        raise Done  # the process goes away between recording and deleting

    run(consume_events(watch, queue, wake, 0.0, consumers=1))
    assert queue.deleted == []


def test_a_replica_that_follows_no_job_leaves_the_queue_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A peer kopf paused has no loop, so it follows nothing: reading would take the events
    # the active peer waits for.
    monkeypatch.setattr(consumer, "IDLE_SECONDS", 0.01)
    watch = JobWatch()
    queue = FakeQueue(watch, [EventBatch((job("a"),), ("r1",))])

    async def for_a_while() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(consume_events(watch, queue, lambda o: None, 0.0), 0.2)

    asyncio.run(for_a_while())
    assert len(queue.batches) == 1  # never received
    watch.track(OWNER, ["a"])
    run(consume_events(watch, queue, lambda o: None, 0.0, consumers=1))
    assert queue.deleted == [("r1",)]


def test_several_consumers_read_the_queue_at_once() -> None:
    watch = JobWatch()
    watch.track(OWNER, ["a"])
    readers = 4
    everyone_reading = threading.Barrier(readers, timeout=10)

    class SlowQueue(FakeQueue):
        def receive(self, wait_seconds: int = 10) -> EventBatch:
            everyone_reading.wait()  # breaks (and fails the test) unless all 4 read at once
            raise Done

    run(consume_events(watch, SlowQueue(watch, []), lambda owner: None, 0.0, consumers=readers))
    assert not everyone_reading.broken
