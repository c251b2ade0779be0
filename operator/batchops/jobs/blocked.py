"""Which job queues Batch reports as blocked, as the pipelines' job observations show it.

A RUNNABLE job that cannot run carries a `MISCONFIGURATION:` or `CAPACITY:` statusReason. The
pipeline loops see those jobs on every poll anyway, so they report them here, and the
BatchJobQueue loop turns the queue's entry into its `Blocked` condition: no extra AWS call, and
the queue says so within one poll interval of the pipeline seeing it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from batchops.model.observed import ObservedJob


@dataclass(frozen=True)
class BlockedJob:
    """A job Batch holds in RUNNABLE, and why."""

    job_id: str
    job_name: str
    reason: str


class BlockedQueues:
    """queue ARN -> the blocked jobs seen on it; thread-safe (passes run in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_queue: dict[str, dict[str, BlockedJob]] = {}

    def observe(self, jobs: Iterable[ObservedJob]) -> set[str]:
        """Record the latest state of some jobs; returns the queue ARNs whose blocked state
        changed (a first blocked job, or the last one moving on)."""
        changed: set[str] = set()
        with self._lock:
            for job in jobs:
                if job.job_queue is None:
                    continue
                entries = self._by_queue.setdefault(job.job_queue, {})
                was_blocked = bool(entries)
                reason = job.blocked_reason
                if reason is not None:
                    entries[job.job_id] = BlockedJob(job.job_id, job.job_name, reason)
                else:
                    entries.pop(job.job_id, None)
                if bool(entries) != was_blocked:
                    changed.add(job.job_queue)
                if not entries:
                    del self._by_queue[job.job_queue]
        return changed

    def blocked(self, queue_arn: str) -> BlockedJob | None:
        """One blocked job of the queue (the first seen), or None when it moves."""
        with self._lock:
            entries = self._by_queue.get(queue_arn)
            return next(iter(entries.values()), None) if entries else None
