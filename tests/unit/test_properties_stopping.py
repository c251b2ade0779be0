"""Stopping a run's jobs never depends on how old the operator's view of them is.

The operator decides from a status that may be seconds old (the shared poller's last sweep):
a job seen RUNNABLE may be STARTING or RUNNING by the time the decision reaches Batch. Batch
ignores CancelJob once a job is STARTING or RUNNING
(https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html), while TerminateJob
"Terminates a job in a job queue. Jobs that are in the STARTING or RUNNING state are terminated,
which causes them to transition to FAILED. Jobs that have not progressed to the STARTING state
are cancelled." (https://docs.aws.amazon.com/batch/latest/APIReference/API_TerminateJob.html).

For each way a run is stopped (deleting the BatchPipeline, the terminate annotation, failFast,
the active deadline), each state the job was last seen in, each later state it is really in
and any time since the request, the planned action applied by Batch's documented rules leaves
the job finished: one pass is enough, and a pass that still sees it active acts again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from batchops.model.observed import JobStatus, ObservedJob
from batchops.model.pipeline import PipelineSpec
from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.plans.run_status import aggregate_status
from batchops.plans.runs import TerminateJob, plan_deletion

LIFE: tuple[JobStatus, ...] = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
"""A job's states before it ends, in the order Batch moves it through them."""
NOT_STARTED: frozenset[JobStatus] = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
MAX_WAIT = 120.0

Path = Literal["delete", "terminate", "failFast", "deadline"]


def batch_applies(action: Literal["TerminateJob", "CancelJob"], status: JobStatus) -> JobStatus:
    """The job's status after Batch carried out the request, by the API reference."""
    if status in ("SUCCEEDED", "FAILED"):
        return status
    if action == "CancelJob" and status not in NOT_STARTED:
        return status  # "Jobs that progressed to the STARTING or RUNNING state aren't canceled"
    return "FAILED"


def observed(job_id: str, status: JobStatus) -> ObservedJob:
    return ObservedJob(job_id=job_id, job_name=job_id, status=status)


@st.composite
def seen_then_actual(draw: st.DrawFn) -> tuple[JobStatus, JobStatus]:
    """A state the operator last saw, and the state Batch has moved the job on to since."""
    seen = draw(st.sampled_from(LIFE))
    later: tuple[JobStatus, ...] = (*LIFE[LIFE.index(seen) :], "SUCCEEDED", "FAILED")
    return seen, draw(st.sampled_from(later))


def spec_for(path: Path, victims: int) -> PipelineSpec:
    steps: list[dict[str, object]] = [{"name": f"v{i}"} for i in range(victims)]
    fields: dict[str, object] = {}
    if path == "failFast":
        steps.append({"name": "bad"})
    if path == "deadline":
        fields["activeDeadlineSeconds"] = 600
    return parse_pipeline_spec(
        {
            "queue": "q",
            "image": "img",
            "defaults": {"vcpus": 1, "memory": 1024},
            "steps": steps,
            **fields,
        }
    )


def planned_stops(
    path: Path, spec: PipelineSpec, view: Mapping[str, ObservedJob], seconds_since: float
) -> tuple[TerminateJob, ...]:
    """What the operator asks Batch for, from its (possibly stale) view of the run's jobs."""
    now = T0 + timedelta(seconds=700 + seconds_since)
    if path == "delete":
        deletion = plan_deletion(
            spec, view, waited_seconds=seconds_since, max_wait_seconds=MAX_WAIT
        )
        return deletion.stop
    terminated_at = T0 + timedelta(seconds=650) if path == "terminate" else None
    assessment = aggregate_status(spec, view, now, T0, generation=1, terminated_at=terminated_at)
    assert assessment.finished
    return assessment.stop


@given(
    path=st.sampled_from(["delete", "terminate", "failFast", "deadline"]),
    jobs=st.lists(seen_then_actual(), min_size=1, max_size=4),
    stop_requested=st.lists(st.booleans(), min_size=4, max_size=4),
    seconds_since=st.floats(min_value=0, max_value=2 * MAX_WAIT),
)
def test_one_pass_stops_every_job_whatever_state_it_was_last_seen_in(
    path: Path,
    jobs: list[tuple[JobStatus, JobStatus]],
    stop_requested: list[bool],
    seconds_since: float,
) -> None:
    spec = spec_for(path, len(jobs))
    seen = {f"v{i}": observed(f"id-v{i}", status) for i, (status, _) in enumerate(jobs)}
    seen = {
        name: replace(job, stop_requested=flag)
        for (name, job), flag in zip(seen.items(), stop_requested, strict=False)
    }
    actual = {f"id-v{i}": status for i, (_, status) in enumerate(jobs)}
    if path == "failFast":
        seen["bad"] = observed("id-bad", "FAILED")
        actual["id-bad"] = "FAILED"

    stops = planned_stops(path, spec, seen, seconds_since)

    assert all(isinstance(action, TerminateJob) for action in stops)
    after = dict(actual)
    for action in stops:
        after[action.job_id] = batch_applies("TerminateJob", actual[action.job_id])
    assert all(status in ("SUCCEEDED", "FAILED") for status in after.values()), after
    # The operator's next look at Batch asks for nothing more, and lets the run settle.
    fresh = {name: replace(job, status=after[job.job_id]) for name, job in seen.items()}
    assert planned_stops(path, spec, fresh, seconds_since) == ()
    if path == "delete":
        release = plan_deletion(
            spec, fresh, waited_seconds=seconds_since, max_wait_seconds=MAX_WAIT
        )
        assert release.release and release.warning is None


@given(
    path=st.sampled_from(["delete", "terminate", "failFast", "deadline"]),
    seen=st.sampled_from(LIFE),
)
def test_a_job_batch_still_reports_active_is_asked_to_stop_again(
    path: Path, seen: JobStatus
) -> None:
    # Level-based: a later pass that still sees the job active (a stop not yet carried out,
    # or a CancelJob someone else sent to a started job) acts again.
    spec = spec_for(path, 1)
    view = {"v0": replace(observed("id-v0", seen), stop_requested=True)}
    if path == "failFast":
        view["bad"] = observed("id-bad", "FAILED")
    stops = planned_stops(path, spec, view, seconds_since=1.0)
    assert [(action.job_id, action.repeated) for action in stops] == [("id-v0", True)]


def test_the_old_choice_by_last_seen_status_left_a_job_that_had_started_running() -> None:
    # Why the status must not choose: CancelJob picked for a job seen RUNNABLE that has
    # started since is accepted by Batch and does nothing.
    assert batch_applies("CancelJob", "STARTING") == "STARTING"
    assert batch_applies("TerminateJob", "STARTING") == "FAILED"
