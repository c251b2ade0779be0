"""The shared job poller describes only active jobs and reports only changed pipelines."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from batchops.aws.errors import Retryable
from batchops.jobs.poller import poll_jobs
from batchops.jobs.watch import JobWatch
from batchops.model.observed import ObservedJob


def job(job_id: str, status: str) -> ObservedJob:
    return ObservedJob(job_id=job_id, job_name=job_id, status=status)  # type: ignore[arg-type]


class FakeBatch:
    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.calls: list[list[str]] = []

    def describe(self, ids: Sequence[str]) -> list[ObservedJob]:
        self.calls.append(list(ids))
        return [job(i, self.states[i]) for i in ids]


def test_poll_reports_only_owners_whose_jobs_changed() -> None:
    watch, batch = JobWatch(), FakeBatch()
    batch.states = {"a1": "RUNNING", "b1": "RUNNING"}
    watch.track(("ns", "a"), ["a1"])
    watch.track(("ns", "b"), ["b1"])
    assert watch.poll_once(batch.describe) == {("ns", "a"), ("ns", "b")}
    assert watch.poll_once(batch.describe) == set()
    batch.states["b1"] = "SUCCEEDED"
    assert watch.poll_once(batch.describe) == {("ns", "b")}


def test_finished_jobs_stay_cached_but_are_not_described_again() -> None:
    watch, batch = JobWatch(), FakeBatch()
    batch.states = {"a1": "SUCCEEDED", "a2": "RUNNING"}
    watch.track(("ns", "a"), ["a1", "a2"])
    watch.poll_once(batch.describe)
    watch.poll_once(batch.describe)
    assert batch.calls == [["a1", "a2"], ["a2"]]
    known, missing = watch.cached(["a1", "a2"])
    assert [j.status for j in known] == ["SUCCEEDED", "RUNNING"] and missing == []


def test_untracked_owner_jobs_are_forgotten() -> None:
    watch, batch = JobWatch(), FakeBatch()
    batch.states = {"a1": "RUNNING"}
    watch.track(("ns", "a"), ["a1"])
    watch.poll_once(batch.describe)
    watch.untrack(("ns", "a"))
    assert watch.active_ids() == []
    assert watch.cached(["a1"]) == ([], ["a1"])


def test_late_events_never_move_a_job_backwards_but_the_final_state_always_lands() -> None:
    watch = JobWatch()
    watch.track(("ns", "a"), ["a1"])
    running = ObservedJob(job_id="a1", job_name="a1", status="RUNNING", attempts=2)
    watch.record_events([running])
    assert watch.record_events([job("a1", "RUNNABLE")]) == set()
    assert watch.record_events([job("a1", "SUCCEEDED")]) == {("ns", "a")}
    assert watch.record_events([running]) == set()


def test_change_observer_hears_each_change_once_with_its_source() -> None:
    heard: list[tuple[str, str, str]] = []
    watch, batch = (
        JobWatch(lambda j, source: heard.append((j.job_id, j.status, source))),
        FakeBatch(),
    )
    batch.states = {"a1": "RUNNING"}
    watch.track(("ns", "a"), ["a1"])
    watch.poll_once(batch.describe)
    watch.poll_once(batch.describe)
    watch.record_events([job("a1", "SUCCEEDED")])
    assert heard == [("a1", "RUNNING", "poll"), ("a1", "SUCCEEDED", "event")]


def test_count_by_status_counts_tracked_jobs_and_unknown_ones() -> None:
    watch, batch = JobWatch(), FakeBatch()
    batch.states = {"a1": "RUNNING", "a2": "RUNNABLE"}
    watch.track(("ns", "a"), ["a1", "a2"])
    watch.track(("ns", "b"), ["b1"])
    watch.record(batch.describe(["a1", "a2"]))
    assert watch.count_by_status() == {"RUNNING": 1, "RUNNABLE": 1, "UNKNOWN": 1}


def test_a_retry_back_to_runnable_after_the_first_attempt_is_newer_than_that_attempt() -> None:
    # Batch lists ended attempts only: attempt 1 RUNNING counts 1 (none ended); once it failed
    # and the job waits RUNNABLE for attempt 2, one attempt has ended.
    watch = JobWatch()
    watch.track(("ns", "a"), ["a1"])
    first_running = ObservedJob(job_id="a1", job_name="a1", status="RUNNING", attempts=1)
    retry_waiting = ObservedJob(job_id="a1", job_name="a1", status="RUNNABLE", attempts=1)
    second_running = ObservedJob(job_id="a1", job_name="a1", status="RUNNING", attempts=2)
    assert watch.record_events([first_running]) == {("ns", "a")}
    assert watch.record_events([retry_waiting]) == {("ns", "a")}
    assert watch.record_events([first_running]) == set()
    assert watch.record_events([second_running]) == {("ns", "a")}
    assert watch.record_events([retry_waiting]) == set()


def test_jobs_are_grouped_by_the_account_and_region_they_live_in() -> None:
    watch = JobWatch()
    watch.track(("team-a", "p1"), ["a1", "a2"], "account-a")
    watch.track(("team-a", "p2"), ["a3"], "account-a")
    watch.track(("team-b", "p1"), ["b1"], "account-b")
    watch.track(("default", "p1"), ["d1"])
    assert watch.active_ids_by_place() == {
        "account-a": ["a1", "a2", "a3"],
        "account-b": ["b1"],
        None: ["d1"],
    }
    watch.record([job("a1", "SUCCEEDED")])
    assert watch.active_ids_by_place()["account-a"] == ["a2", "a3"]
    watch.untrack(("team-b", "p1"))
    assert "account-b" not in watch.active_ids_by_place()


def test_the_poller_makes_one_describe_jobs_sweep_per_place() -> None:
    watch = JobWatch()
    woken: list[tuple[str, str]] = []
    asked: list[tuple[object, int]] = []
    watch.track(("team-a", "p"), [f"a{i}" for i in range(150)], "account-a")
    watch.track(("team-b", "p"), ["b1"], "account-b")

    def describe(place: object, ids: Sequence[str]) -> list[ObservedJob]:
        asked.append((place, len(ids)))
        if place == "account-b":
            raise Retryable("DescribeJobs", "Throttling", "slow down", 429, "Throttled")
        return [job(i, "RUNNING") for i in ids]

    async def one_sweep() -> None:
        task = asyncio.create_task(poll_jobs(watch, describe, woken.append, 0.01))
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(one_sweep())
    # One call per place and sweep (the AWS layer cuts a place's ids into calls of 100); a
    # throttled account does not hold back the other.
    assert asked[:2] == [("account-a", 150), ("account-b", 1)]
    assert ("team-a", "p") in woken and ("team-b", "p") not in woken
