"""A run's timeline from its status alone: attempts, queue waits, the critical path and the
chart's layout. Pure: no rich, no cluster."""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from typing import Any

import pytest

from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.views.timeline import AttemptSpan, StepRow, Timeline, build_timeline, critical_path
from batchops.views.timeline_chart import Cell, bar_cells, lay_out
from tests.timeline_runs import (
    NOW,
    T0,
    at,
    attempt,
    failed_run_with_retry,
    interrupted_run,
    walkthrough_run,
    wide_run,
)


def timeline_of(run: dict[str, Any], now: Any = NOW) -> Timeline:
    return build_timeline(
        run["metadata"]["name"], parse_pipeline_spec(run["spec"]), run["status"], now
    )


def waits(row: StepRow, wall: float) -> list[float]:
    return [span.queue_wait(wall) for span in row.attempts]


def diamond(ends: dict[str, float]) -> dict[str, Any]:
    """a -> (b, c) -> d, each step running 10 s from its ready time until `ends`."""
    deps = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    spec = {
        "queue": "q",
        "image": "busybox",
        "steps": [{"name": n, "vcpus": 1, "memory": 512, "dependsOn": d} for n, d in deps.items()],
    }
    steps = [
        {
            "name": name,
            "status": "SUCCEEDED",
            "history": [attempt(f"j{name}", 1, 0, end - 10, end)],
        }
        for name, end in ends.items()
    ]
    status = {"phase": "Succeeded", "startedAt": at(0), "finishedAt": at(max(ends.values())),
              "steps": steps}  # fmt: skip
    return {"metadata": {"name": "diamond"}, "spec": spec, "status": status}


# --- the timeline ----------------------------------------------------------------------------


def test_walkthrough_chain_has_a_row_per_step_in_dependency_order_with_its_queue_wait() -> None:
    timeline = timeline_of(walkthrough_run())
    assert [row.name for row in timeline.rows] == ["job1", "job2", "job3"]
    assert timeline.started_at == T0
    assert timeline.wall_seconds == 597
    # Each step waits from its parent's end (Batch holds it PENDING before that), not from
    # its submission at the run's start.
    assert [waits(row, 597) for row in timeline.rows] == [[70], [40], [65]]
    assert [row.attempts[0].outcome for row in timeline.rows] == ["succeeded"] * 3
    assert timeline.queue_wait_seconds == 175
    assert timeline.run_seconds == 180 + 60 + 180


def test_walkthrough_chain_is_its_own_critical_path() -> None:
    timeline = timeline_of(walkthrough_run())
    assert timeline.critical_path == ("job1", "job2", "job3")
    assert all(row.critical for row in timeline.rows)
    assert timeline.critical_queue_wait_seconds == 175


def test_a_retry_waits_from_the_end_of_the_attempt_before_it() -> None:
    timeline = timeline_of(failed_run_with_retry())
    job2 = timeline.rows[1]
    assert [(a.attempt, a.outcome, a.exit_code) for a in job2.attempts] == [
        (1, "failed", 1),
        (2, "failed", 1),
    ]
    assert waits(job2, timeline.wall_seconds) == [40, 20]
    assert job2.run_time(timeline.wall_seconds) == 40 + 50


def test_a_step_cancelled_before_it_started_has_no_bar_and_is_off_the_critical_path() -> None:
    timeline = timeline_of(failed_run_with_retry())
    job3 = timeline.rows[2]
    assert job3.status == "CANCELLED" and job3.attempts == ()
    assert timeline.critical_path == ("job1", "job2")
    assert lay_out(timeline).rows[2].note == "cancelled"


def test_an_interruption_and_the_resubmission_after_it_are_both_attempts() -> None:
    timeline = timeline_of(interrupted_run())
    shard = timeline.rows[1]
    assert [(a.job_id, a.resubmission, a.outcome) for a in shard.attempts] == [
        ("s1", 0, "interrupted"),
        ("s2", 1, "succeeded"),
    ]
    assert shard.resubmissions == 1 and shard.interruptions == 1
    # The new job waits from its own submission, after the interrupted one ended.
    assert waits(shard, timeline.wall_seconds) == [10, 30]
    assert shard.array_summary == {"SUCCEEDED": 10}


def test_the_interrupted_flag_marks_an_attempt_whatever_its_reason_says() -> None:
    run = interrupted_run()
    first = run["status"]["steps"][1]["history"][0]
    first["statusReason"] = "Spot interruption"
    shard = timeline_of(run).rows[1]
    assert shard.attempts[0].outcome == "interrupted"


def test_without_history_each_step_is_one_span_from_its_own_times() -> None:
    run = walkthrough_run()
    for entry in run["status"]["steps"]:
        del entry["history"]
    timeline = timeline_of(run)
    assert [row.from_history for row in timeline.rows] == [False] * 3
    assert [waits(row, 597) for row in timeline.rows] == [[70], [40], [65]]
    assert timeline.critical_path == ("job1", "job2", "job3")
    assert any("without attempt history" in line for line in lay_out(timeline).summary)


def test_without_history_a_retried_step_starts_where_its_queue_wait_ends() -> None:
    # The step-level startedAt is the last attempt's; queueWaitSeconds counts to the first.
    run = failed_run_with_retry()
    job2 = run["status"]["steps"][1]
    del job2["history"]
    job2.update(startedAt=at(351), stoppedAt=at(401), attempts=2)
    row = timeline_of(run).rows[1]
    (span,) = row.attempts
    assert (span.ready, span.started, span.stopped) == (251, 291, 401)
    assert lay_out(timeline_of(run)).rows[1].note == "110s x2 exit 1"


def test_a_cron_last_run_summary_without_creation_times_still_draws() -> None:
    # status.lastRun keeps startedAt, stoppedAt and queueWaitSeconds of each step only.
    run = walkthrough_run()
    run["status"]["steps"] = [
        {k: v for k, v in entry.items() if k in ("name", "status", "startedAt", "stoppedAt",
                                                   "queueWaitSeconds", "jobId")}
        for entry in run["status"]["steps"]
    ]  # fmt: skip
    timeline = timeline_of(run)
    assert [waits(row, 597) for row in timeline.rows] == [[70], [40], [65]]


def test_critical_path_follows_the_dependency_that_ended_last() -> None:
    timeline = timeline_of(diamond({"a": 10, "b": 25, "c": 40, "d": 55}))
    assert timeline.critical_path == ("a", "c", "d")
    assert [row.critical for row in timeline.rows] == [True, False, True, True]


def test_critical_path_of_rows_that_never_began_is_empty() -> None:
    assert critical_path([StepRow("a"), StepRow("b", ("a",))], 0) == ()


def test_a_running_run_is_drawn_up_to_now() -> None:
    run = walkthrough_run()
    status = run["status"]
    status.update(phase="Running", finishedAt=None)
    job3 = status["steps"][2]
    job3.update(status="RUNNING", stoppedAt=None)
    job3["history"][0].pop("stoppedAt")
    job3["history"][0].pop("exitCode")
    now = T0 + timedelta(seconds=500)
    timeline = timeline_of(run, now)
    assert timeline.wall_seconds == 500
    span = timeline.rows[2].attempts[0]
    assert span.outcome == "running" and span.run_time(500) == 500 - 416


def test_a_step_waiting_for_its_retry_waits_from_the_failed_attempts_end() -> None:
    run = failed_run_with_retry()
    status = run["status"]
    status.update(phase="Running", finishedAt=None)
    job2 = status["steps"][1]
    job2.update(status="RUNNABLE")
    del job2["history"][1]
    timeline = timeline_of(run, T0 + timedelta(seconds=345))
    spans = timeline.rows[1].attempts
    assert [(s.attempt, s.outcome) for s in spans] == [(1, "failed"), (2, "queued")]
    assert spans[1].ready == 331 and spans[1].queue_wait(345) == 14


def test_a_run_without_a_start_has_no_bars() -> None:
    run = walkthrough_run()
    run["status"] = {"phase": "Pending", "steps": [{"name": "job1", "status": "WAITING"}]}
    timeline = timeline_of(run)
    assert timeline.started_at is None and timeline.wall_seconds == 0
    chart = lay_out(timeline)
    assert chart.summary == ("no step has been submitted yet",)
    assert [row.note for row in chart.rows] == ["waiting", "", ""]


def test_the_200_step_run_has_a_row_per_step_and_one_chain_as_critical_path() -> None:
    timeline = timeline_of(wide_run(200))
    assert len(timeline.rows) == 200
    path = timeline.critical_path
    assert 10 <= len(path) <= 11
    names = [row.name for row in timeline.rows]
    assert all(names.index(a) < names.index(b) for a, b in itertools.pairwise(path))
    retried = [row for row in timeline.rows if len(row.attempts) == 2]
    assert retried and all(row.attempts[0].outcome == "failed" for row in retried)


# --- the chart -------------------------------------------------------------------------------


@pytest.mark.parametrize("run", [walkthrough_run, failed_run_with_retry, interrupted_run, wide_run])
@pytest.mark.parametrize("width", [40, 80, 120])
def test_every_line_fits_the_width(run: Any, width: int) -> None:
    chart = lay_out(timeline_of(run()), width)
    assert chart.width <= width
    for row in chart.rows:
        assert len(row.label) <= chart.label_width and len(row.note) <= chart.note_width
        assert len(row.cells) == chart.bar_width
    assert len(chart.axis) == chart.bar_width
    assert all(len(line) <= width for line in (chart.title, *chart.summary))


def test_a_long_step_name_is_cut_and_keeps_the_bar_wide_enough() -> None:
    run = walkthrough_run()
    long_name = "extract-transform-and-load-every-table-of-the-warehouse"
    run["spec"]["steps"][0]["name"] = long_name
    run["spec"]["steps"][1]["dependsOn"] = [long_name]
    run["status"]["steps"][0]["name"] = long_name
    chart = lay_out(timeline_of(run), 80)
    assert chart.rows[0].label.endswith("…") and len(chart.rows[0].label) == chart.label_width
    assert chart.bar_width >= 30


def test_bars_show_wait_then_run_and_marks_where_attempts_ended() -> None:
    chart = lay_out(timeline_of(failed_run_with_retry()), 80)
    cells = chart.rows[1].cells
    kinds = "".join(" " if c is None else c.kind[0] for c in cells).rstrip()
    # job2: wait, run ending in a failure mark, wait for the retry, run ending in one.
    assert kinds.strip() == "qqqqqqrrrrrfqqqrrrrrrf"
    assert cells[-1] == Cell("failed", "failed")


def test_interruption_and_resubmission_marks_are_on_the_bar() -> None:
    chart = lay_out(timeline_of(interrupted_run()), 80)
    kinds = [c.kind for c in chart.rows[1].cells if c is not None]
    assert "interrupted" in kinds and "resubmitted" in kinds
    assert kinds.index("interrupted") < kinds.index("resubmitted")
    assert chart.rows[1].note == "3m40s x2 ↻1 ↯1 [10/10]"


def test_a_run_too_short_for_a_cell_still_shows_and_a_short_wait_does_not() -> None:
    span = AttemptSpan(attempt=1, resubmission=0, outcome="succeeded", ready=50.0,
                       started=50.4, stopped=50.9)  # fmt: skip
    cells = bar_cells((span,), 100.0, 10)
    assert [c.kind if c else None for c in cells] == [None] * 5 + ["run"] + [None] * 4


def test_the_axis_names_the_start_middle_and_end() -> None:
    chart = lay_out(timeline_of(walkthrough_run()), 80)
    words = chart.axis.split()
    assert words == ["0s", "4m58s", "9m57s"]
    assert chart.axis.endswith("9m57s")


def test_summary_states_wall_time_against_queue_waits() -> None:
    summary = lay_out(timeline_of(walkthrough_run()), 80).summary
    assert summary[0] == (
        "wall time 9m57s: 2m55s of it (29%) waiting for capacity on the critical path"
    )
    assert summary[1].startswith("queue waits summed over all 3 attempt(s): 2m55s")
    assert summary[2] == "critical path: job1 → job2 → job3"


def test_history_entries_dropped_past_the_cap_are_counted_in_the_note() -> None:
    run = copy.deepcopy(failed_run_with_retry())
    run["status"]["steps"][1]["historyDropped"] = 3
    chart = lay_out(timeline_of(run), 80)
    assert "x5" in chart.rows[1].note
    assert any("3 oldest attempt(s) not drawn" in line for line in chart.summary)
