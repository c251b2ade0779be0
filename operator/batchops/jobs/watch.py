"""The shared job poller: one DescribeJobs sweep for the active jobs of every pipeline.

Pipelines register the job ids they wait on, and where those jobs live (the AWS account and
region, a `model.account.Target`); a single loop describes all of them, per place in calls of
100 ids, and reports which pipelines saw a change, so only those write status. Reconcile passes
read job states from here instead of calling DescribeJobs themselves.

At tens of thousands of jobs the bookkeeping must cost in proportion to what changed: each job id
knows its owners (`record` wakes them without looking at every owner, `track` touches only the
ids an owner gained or lost), and an observation equal to the one kept is dropped, so the
long-lived record stays and the sweep's copy is freed at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Literal

from batchops.model.observed import ObservedJob

OwnerKey = tuple[str, str]
"""(namespace, name) of the BatchPipeline that waits on the jobs."""

Place = Hashable
"""Where an owner's jobs live: DescribeJobs is asked there (None: the operator's default)."""

Source = Literal["poll", "event"]
"""How a job state reached the operator: a DescribeJobs sweep or an SQS event."""

ChangeObserver = Callable[[ObservedJob, Source], None]
"""Told of every job whose observed state changed (the metrics module measures lag with it)."""

UNHEARD_SECONDS = 300.0
"""How long an event for a job no owner follows is remembered (see `JobWatch.track`): longer
than a pass takes from describing the jobs it submitted to tracking them. Events for jobs that
are not the operator's (the account's other work) are forgotten after it."""


def _fingerprint(job: ObservedJob) -> tuple[object, ...]:
    return (
        job.status,
        job.status_reason,
        job.attempts,
        job.started_at,
        job.stopped_at,
        tuple(sorted(job.array_status_summary.items())),
    )


_PROGRESS = {
    "SUBMITTED": 0,
    "PENDING": 1,
    "RUNNABLE": 2,
    "STARTING": 3,
    "RUNNING": 4,
    "SUCCEEDED": 5,
    "FAILED": 5,
}


def _older(job: ObservedJob, known: ObservedJob | None) -> bool:
    if known is None:
        return False
    if known.finished:
        return True
    if job.finished:
        return False
    # A retry goes back to RUNNABLE once an attempt ended: order by ended attempts first, so
    # that RUNNABLE after attempt 1 is newer than attempt 1 RUNNING.
    return (job.ended_attempts, _PROGRESS[job.status]) < (
        known.ended_attempts,
        _PROGRESS[known.status],
    )


class JobWatch:
    """Thread-safe bookkeeping of tracked jobs and their latest observed state."""

    def __init__(
        self,
        on_change: ChangeObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._owners: dict[OwnerKey, frozenset[str]] = {}
        self._places: dict[OwnerKey, Place] = {}
        self._owners_of: dict[str, tuple[OwnerKey, ...]] = {}
        """Job id -> the owners following it (almost always one): the inverse of `_owners`."""
        self._latest: dict[str, ObservedJob] = {}
        self._strays: set[str] = set()
        """Ids recorded while no owner followed them (a pass describes its jobs before its
        owner tracks them): the next `track` forgets those still unowned."""
        self._unheard: dict[str, float] = {}
        """Job id -> when an event for it came while no owner followed it (oldest first): no
        one was woken, and the pass about to track the job may have read an older state."""
        self._on_change = on_change
        self._clock = clock

    def track(self, owner: OwnerKey, job_ids: Iterable[str], place: Place = None) -> bool:
        """Make `owner` follow exactly these job ids, which live at `place` (finished ones stay
        cached and are not described again); an empty set untracks it. Jobs no owner follows
        any more are forgotten.

        True when an event came for one of the newly followed jobs while no one followed it:
        the pass that submitted the job read its state, then the job moved on (finished, say)
        before the pass tracked it, so nobody was woken, and no sweep describes a finished job
        again. Such a job's record is dropped, whatever it says (the event's state may have been
        forgotten with the strays, or be older than one still in a reader's hands), so the
        owner's next pass, which the caller runs now, describes it afresh."""
        ids = frozenset(job_ids)
        with self._lock:
            known = self._owners.get(owner, frozenset())
            gained = ids - known
            unheard = False
            if self._unheard:
                for job_id in gained:
                    if self._unheard.pop(job_id, None) is not None:
                        self._latest.pop(job_id, None)
                        unheard = True
            if ids:
                if ids != known:
                    self._owners[owner] = ids
                self._places[owner] = place
            else:
                self._owners.pop(owner, None)
                self._places.pop(owner, None)
            for job_id in gained:
                self._owners_of[job_id] = (*self._owners_of.get(job_id, ()), owner)
            for job_id in known - ids:
                others = tuple(o for o in self._owners_of.get(job_id, ()) if o != owner)
                if others:
                    self._owners_of[job_id] = others
                else:
                    self._owners_of.pop(job_id, None)
                    self._latest.pop(job_id, None)
            for job_id in self._strays:
                if job_id not in self._owners_of:
                    self._latest.pop(job_id, None)
            self._strays.clear()
        return unheard

    def _forget_unheard_before(self, deadline: float) -> None:
        while self._unheard:
            job_id, heard_at = next(iter(self._unheard.items()))
            if heard_at >= deadline:
                return
            del self._unheard[job_id]

    def untrack(self, owner: OwnerKey) -> None:
        """Stop polling for `owner` (its run settled, or the object is gone)."""
        self.track(owner, ())

    def follows_any(self) -> bool:
        """True while some owner follows a job (false on a replica kopf paused: its loops, and
        with them their tracking, stopped)."""
        with self._lock:
            return bool(self._owners)

    def active_ids(self) -> list[str]:
        """Every tracked job id not known to be finished, sorted (stable DescribeJobs chunks)."""
        with self._lock:
            return sorted(
                i for i in self._owners_of if not (i in self._latest and self._latest[i].finished)
            )

    def active_ids_by_place(self) -> dict[Place, list[str]]:
        """`active_ids`, grouped by where the jobs live: one DescribeJobs sweep per place."""
        with self._lock:
            places: dict[Place, set[str]] = {}
            for owner, ids in self._owners.items():
                places.setdefault(self._places.get(owner), set()).update(ids)
            return {
                place: sorted(
                    i for i in ids if not (i in self._latest and self._latest[i].finished)
                )
                for place, ids in places.items()
            }

    def cached(self, job_ids: Sequence[str]) -> tuple[list[ObservedJob], list[str]]:
        """(known jobs, ids never observed yet)."""
        with self._lock:
            known = [self._latest[i] for i in job_ids if i in self._latest]
            missing = [i for i in job_ids if i not in self._latest]
        return known, missing

    def record(self, jobs: Iterable[ObservedJob], source: Source = "poll") -> set[OwnerKey]:
        """Store fresh observations; return the owners for which something changed. One older
        than what is known is dropped: a DescribeJobs answer asked for before an event arrived
        (a pass describing the jobs it just submitted) must not put a finished job back to
        RUNNING, where in event mode no later event would correct it."""
        changed: list[ObservedJob] = []
        owners: set[OwnerKey] = set()
        with self._lock:
            if source == "event":
                self._forget_unheard_before(self._clock() - UNHEARD_SECONDS)
            for job in jobs:
                if source == "event" and job.job_id not in self._owners_of:
                    self._unheard.setdefault(job.job_id, self._clock())
                before = self._latest.get(job.job_id)
                if before == job or _older(job, before):
                    continue  # keep the record we have; this copy is freed right away
                if before is None or _fingerprint(before) != _fingerprint(job):
                    changed.append(job)
                    owners.update(self._owners_of.get(job.job_id, ()))
                self._latest[job.job_id] = job
                if job.job_id not in self._owners_of:
                    self._strays.add(job.job_id)
        if self._on_change is not None:
            for job in changed:
                self._on_change(job, source)
        return owners

    def record_events(self, jobs: Iterable[ObservedJob]) -> set[OwnerKey]:
        """`record` for events, which may arrive late or out of order (an older one is
        dropped there)."""
        return self.record(jobs, "event")

    def count_by_status(self) -> Counter[str]:
        """Tracked jobs per Batch status; jobs not described yet count as UNKNOWN."""
        with self._lock:
            return Counter(
                self._latest[i].status if i in self._latest else "UNKNOWN" for i in self._owners_of
            )

    def poll_once(self, describe: Callable[[Sequence[str]], list[ObservedJob]]) -> set[OwnerKey]:
        """Describe every tracked job (`describe` chunks by 100) and return changed owners."""
        ids = self.active_ids()
        return self.record(describe(ids)) if ids else set()
