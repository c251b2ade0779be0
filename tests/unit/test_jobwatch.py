"""The shared job poller describes only active jobs and reports only changed pipelines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
from collections.abc import Sequence
from typing import Any, cast

from batchops.aws.errors import Retryable
from batchops.jobs.poller import SWEEP_CALLS_IN_FLIGHT, poll_jobs
from batchops.jobs.watch import UNHEARD_SECONDS, JobWatch, OwnerKey
from batchops.model.common import shared_str
from batchops.model.observed import ObservedJob
from batchops.reconcile.common import ObjectSnapshot, Timing
from batchops.reconcile.pipeline import PipelineReconciler
from tests.unit.fake_batch import SubmitsOneByOne, pipeline_object


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


def test_a_describe_answer_older_than_an_event_leaves_the_job_finished() -> None:
    # A pass describes the jobs it just submitted; the event of the first one finishing lands
    # before that answer does. In event mode nothing would correct a job put back to RUNNING.
    # (Before the owner tracks it, see test_an_event_for_a_job_not_yet_tracked_wakes_...)
    watch = JobWatch()
    watch.track(("ns", "a"), ["a1"])
    assert watch.record_events([job("a1", "SUCCEEDED")]) == {("ns", "a")}
    assert watch.record([job("a1", "RUNNING")]) == set()
    assert watch.cached(["a1"]) == ([job("a1", "SUCCEEDED")], [])
    assert watch.active_ids() == []


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
    # A place's ids in calls of 100 (the fewest DescribeJobs allows); a throttled account
    # does not hold back the other.
    assert sorted(asked[:3], key=str) == [("account-a", 100), ("account-a", 50), ("account-b", 1)]
    assert ("team-a", "p") in woken and ("team-b", "p") not in woken


class CountedWatch(JobWatch):
    """A watch that counts the poller's sweeps (each starts by asking for the active ids)."""

    def __init__(self) -> None:
        super().__init__()
        self.sweeps_started = 0

    def active_ids_by_place(self) -> dict[object, list[str]]:
        self.sweeps_started += 1
        return super().active_ids_by_place()


def sweep(watch: CountedWatch, describe: Any, sweeps: int = 1) -> list[OwnerKey]:
    """Run the real poller (interval 0) until `sweeps` whole sweeps are done (the next one has
    started) and return the owners it woke."""
    woken: list[OwnerKey] = []

    async def run() -> None:
        done_when = watch.sweeps_started + sweeps + 1
        task = asyncio.create_task(poll_jobs(watch, describe, woken.append, 0))
        deadline = asyncio.get_running_loop().time() + 10
        while watch.sweeps_started < done_when:
            assert asyncio.get_running_loop().time() < deadline, "the poller never swept"
            await asyncio.sleep(0.005)  # the poll interval of a condition wait
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())
    return woken


def test_a_throttled_place_waits_for_the_next_sweep_after_its_first_refused_call() -> None:
    watch = CountedWatch()
    watch.track(("ns", "p"), [f"a{i:04d}" for i in range(2000)], "account-a")
    asked: list[int] = []

    def describe(place: object, ids: Sequence[str]) -> list[ObservedJob]:
        asked.append(len(ids))
        raise Retryable("DescribeJobs", "Throttling", "slow down", 429, "Throttled")

    sweep(watch, describe)
    # Only the calls already in flight when the first was refused, never the other 16 of 20.
    assert asked and set(asked) == {100}
    assert len(asked) <= 2 * SWEEP_CALLS_IN_FLIGHT  # two sweeps ran: the refused one, the next


def test_a_sweep_keeps_several_calls_in_flight_and_never_more_than_its_limit() -> None:
    # One call at a time made a sweep as long as the sum of its round trips; all at once would
    # hold every tracked job's items in memory and take the account's whole API rate.
    watch = CountedWatch()
    watch.track(("ns", "p"), [f"a{i:04d}" for i in range(2000)])
    lock = threading.Lock()
    in_flight, most = 0, 0
    all_in_flight = threading.Barrier(SWEEP_CALLS_IN_FLIGHT, timeout=2)

    def describe(place: object, ids: Sequence[str]) -> list[ObservedJob]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                all_in_flight.wait()  # released only once the limit is reached together
            return [job(i, "RUNNING") for i in ids]
        finally:
            with lock:
                in_flight -= 1

    woken = sweep(watch, describe)
    assert most == SWEEP_CALLS_IN_FLIGHT  # the calls met at the barrier: all in flight at once
    assert woken.count(("ns", "p")) >= 1
    assert len(watch.cached([f"a{i:04d}" for i in range(2000)])[0]) == 2000


def test_an_unchanged_observation_keeps_the_record_already_held() -> None:
    watch = JobWatch()
    watch.track(("ns", "a"), ["a1"])
    first = job("a1", "RUNNING")
    watch.record([first])
    assert watch.record([job("a1", "RUNNING")]) == set()
    assert watch.cached(["a1"])[0][0] is first
    assert watch.record([job("a1", "SUCCEEDED")]) == {("ns", "a")}


def test_a_job_followed_by_two_owners_wakes_both_and_outlives_one_of_them() -> None:
    watch = JobWatch()
    watch.track(("ns", "a"), ["shared", "a1"])
    watch.track(("ns", "b"), ["shared"])
    assert watch.record([job("shared", "RUNNING")]) == {("ns", "a"), ("ns", "b")}
    assert watch.record([job("a1", "RUNNING")]) == {("ns", "a")}
    watch.untrack(("ns", "a"))
    assert watch.active_ids() == ["shared"]
    assert watch.cached(["shared", "a1"]) == ([job("shared", "RUNNING")], ["a1"])
    assert watch.record([job("shared", "SUCCEEDED")]) == {("ns", "b")}


def test_jobs_recorded_before_any_owner_tracks_them_are_kept_only_if_tracked_next() -> None:
    # A pass describes its jobs (cached describer) before its loop tracks them: the states
    # stay for that owner; states nobody went on to track are forgotten at the next track.
    watch = JobWatch()
    assert watch.record([job("a1", "RUNNING"), job("gone", "RUNNING")]) == set()
    watch.track(("ns", "a"), ["a1"])
    assert watch.cached(["a1", "gone"]) == ([job("a1", "RUNNING")], ["gone"])
    assert watch.count_by_status() == {"RUNNING": 1}


def test_an_event_for_a_job_not_yet_tracked_wakes_its_owner_when_it_tracks_it() -> None:
    # A pass submits b and reads it STARTING; b finishes and its event lands before the pass
    # tracks b. Nobody was woken, and a finished job is never swept again: track says so, and
    # the next pass describes b afresh.
    watch = JobWatch()
    watch.track(("ns", "p"), ["a"])
    assert watch.record([job("b", "STARTING")]) == set()  # the pass's own describe
    assert watch.record_events([job("b", "SUCCEEDED")]) == set()
    assert watch.track(("ns", "p"), ["a", "b"]) is True
    assert watch.cached(["b"]) == ([], ["b"])
    assert watch.track(("ns", "p"), ["a", "b"]) is False  # told once


def test_an_unheard_event_survives_another_owner_forgetting_the_strays() -> None:
    # CI: b stayed RUNNING in status with c SUCCEEDED. b's SUCCEEDED event came before its pass
    # tracked it, and another pipeline's track forgot the unowned records in between.
    watch = JobWatch()
    watch.record([job("b", "RUNNING")])
    watch.record_events([job("b", "SUCCEEDED")])
    watch.track(("ns", "other"), ["x"])
    assert watch.track(("ns", "p"), ["b"]) is True
    assert watch.active_ids() == ["b", "x"]  # no record: the next pass describes it


def test_tracking_jobs_whose_only_news_came_from_the_pass_itself_wakes_no_one() -> None:
    watch = JobWatch()
    assert watch.record([job("b", "STARTING")]) == set()
    assert watch.track(("ns", "p"), ["b"]) is False
    assert watch.cached(["b"]) == ([job("b", "STARTING")], [])


def test_events_for_jobs_nobody_tracks_are_forgotten_after_a_while() -> None:
    now = [0.0]
    watch = JobWatch(clock=lambda: now[0])
    watch.record_events([job("foreign", "RUNNING")])
    now[0] = UNHEARD_SECONDS + 1
    watch.record_events([job("other", "RUNNING")])  # each batch of events expires old ones
    assert watch.track(("ns", "p"), ["foreign"]) is False
    assert watch.track(("ns", "q"), ["other"]) is True


def array_parent(job_id: str, size: int, succeeded: int) -> dict[str, Any]:
    """A DescribeJobs item of an array job's parent, as Batch reports it mid-run."""
    return {
        "jobId": job_id,
        "jobName": "big-work",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "status": "RUNNING",
        "createdAt": 1,
        "startedAt": 2,
        "attempts": [],
        "arrayProperties": {
            "size": size,
            "statusSummary": {"SUCCEEDED": succeeded, "RUNNING": size - succeeded},
        },
    }


class ArrayBatch(SubmitsOneByOne):
    """SubmitJob of an array step makes a parent of `size` children; DescribeJobs answers for
    the parent (with its statusSummary) and would for any child id `parent:index`."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.described: list[list[str]] = []

    def describe_all_job_definitions(self, status: str = "ACTIVE") -> list[Any]:
        return []

    def register_job_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["jobDefinitionName"]
        arn = f"arn:aws:batch:us-east-1:123456789012:job-definition/{name}:1"
        return {"jobDefinitionArn": arn, "jobDefinitionName": name, "revision": 1}

    def submit_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job_id = f"parent-{len(self.jobs)}"
        size = request["arrayProperties"]["size"]
        self.jobs[job_id] = array_parent(job_id, size, 0) | {"jobName": request["jobName"]}
        return {"jobId": job_id, "jobName": request["jobName"]}

    def list_jobs_by_name(self, queue: str, name: str) -> list[Any]:
        return []

    def describe(self, ids: Sequence[str]) -> list[ObservedJob]:
        self.described.append(list(ids))
        found = []
        for job_id in ids:
            parent, _, index = job_id.partition(":")
            item = self.jobs[parent]
            found.append(ObservedJob.from_describe(item | ({"jobId": job_id} if index else {})))
        return found


def test_an_array_job_of_10000_children_is_tracked_and_described_as_its_parent_only() -> None:
    # Issue #18: array jobs count as one (the parent's arrayProperties.statusSummary). The run
    # tracks the step's one job id; the poller asks DescribeJobs for that id alone, and the
    # children's progress reaches the pipeline through the parent's summary.
    batch = ArrayBatch()
    reconciler = PipelineReconciler(lambda region: batch, Timing(), None)  # type: ignore[arg-type,return-value]
    step = {"name": "big", "command": ["true"], "vcpus": 1, "memory": 128, "arraySize": 10000}
    obj = pipeline_object("wide", "u-1", {"queue": "q", "image": "busybox", "steps": [step]})
    queues = {"q": "arn:aws:batch:us-east-1:123456789012:job-queue/q"}
    outcome = reconciler.reconcile(obj, queues, batch.describe, lambda s: None)
    (parent,) = batch.jobs
    assert outcome.active_job_ids == (parent,)

    watch = CountedWatch()
    watch.track(("ns", "wide"), outcome.active_job_ids)
    batch.described.clear()
    woken = sweep(watch, lambda place, ids: batch.describe(ids))
    assert batch.described[:1] == [[parent]]  # one id, one DescribeJobs call per sweep
    assert all(ids == [parent] for ids in batch.described)
    assert woken == [("ns", "wide")]
    assert watch.count_by_status() == {"RUNNING": 1}  # one tracked job, not 10,001

    batch.jobs[parent]["arrayProperties"]["statusSummary"] = {"SUCCEEDED": 4000, "RUNNING": 6000}
    batch.described.clear()
    assert sweep(watch, lambda place, ids: batch.describe(ids)) == [("ns", "wide")]
    assert all(ids == [parent] for ids in batch.described)
    (summary,) = [j.array_status_summary for j in watch.cached([parent])[0]]
    assert summary == {"SUCCEEDED": 4000, "RUNNING": 6000}
    second = reconciler.reconcile(
        ObjectSnapshot.of({**obj.body, "status": outcome.status}),
        queues,
        lambda ids: watch.cached(ids)[0],
        lambda s: None,
    )
    (step,) = second.status["steps"]
    assert step["arrayStatusSummary"] == {"SUCCEEDED": 4000, "RUNNING": 6000}


def test_jobs_parsed_apart_share_their_queue_and_definition_but_not_their_ids() -> None:
    def item(job_id: str) -> dict[str, Any]:
        # Decoded from text, as each sweep does: equal strings are distinct objects.
        raw = {
            "jobId": job_id,
            "jobName": f"etl-{job_id}",
            "status": "RUNNING",
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/etl",
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/etl_0a1b:1",
        }
        return cast(dict[str, Any], json.loads(json.dumps(raw)))

    first, second = ObservedJob.from_describe(item("a-1")), ObservedJob.from_describe(item("a-2"))
    assert first.job_queue is second.job_queue
    assert first.job_definition is second.job_definition


def test_sharing_a_string_does_not_keep_it_alive() -> None:
    # Job ids come and go by the million: the shared table must not hold a reference, or every
    # id the operator ever saw would stay (CPython 3.12's interning does, so it is not used).
    text = json.loads('"3f1c2b9e-0d4a-4f7e-9c1a-batchops-unique"')
    before = sys.getrefcount(text)
    shared = shared_str(text)
    assert shared is text
    del shared
    assert sys.getrefcount(text) == before
