"""A run's progress for `batchops watch`: a table redrawn in place on a terminal, or one line
per change when the output is a file or a pipe (logs, CI)."""

from __future__ import annotations

from collections.abc import Sequence

from batchops.plans.run_status import human_duration
from batchops.views.run import RunView, StepView

TABLE_HEADER = ("STEP", "STATUS", "ATTEMPTS", "DURATION", "QUEUE-WAIT", "EXIT", "REASON")


def headline(run: RunView) -> str:
    """`nightly-etl  Running  2/3  1m12s`: the run in one line."""
    words = [run.name, run.phase or "Pending", run.progress_text]
    if run.duration_seconds is not None:
        words.append(human_duration(run.duration_seconds))
    return "  ".join(words)


def render_table(run: RunView) -> list[str]:
    """The headline, a row per step in dependency order, and the run's message."""
    rows = [TABLE_HEADER, *(_row(step) for step in run.steps)]
    lines = [headline(run), *_columns(rows)]
    if run.message:
        lines.append(run.message)
    return lines


def change_lines(before: RunView | None, after: RunView) -> list[str]:
    """What changed between two views, one line each: a step's status (`job1: RUNNING ->
    SUCCEEDED 3s`) and the run's phase or progress (`nightly-etl: Running 1/3`). The first view
    (`before` None) reports every step that has a status."""
    previous = {step.name: step for step in before.steps} if before else {}
    lines: list[str] = []
    if before is None or (before.phase, before.progress_text) != (after.phase, after.progress_text):
        message = f" ({after.message})" if after.message else ""
        lines.append(f"{after.name}: {after.phase or 'Pending'} {after.progress_text}{message}")
    for step in after.steps:
        old = previous.get(step.name)
        old_status = old.status if old else None
        if step.status is None or step.status == old_status:
            continue
        arrow = f"{old_status} -> " if old_status else ""
        detail = step.state_text.removeprefix(step.status)
        lines.append(f"  {step.name}: {arrow}{step.status}{detail}")
    return lines


def _row(step: StepView) -> tuple[str, ...]:
    def optional(value: int | None) -> str:
        return "" if value is None else str(value)

    return (
        step.name,
        step.status or "",
        optional(step.attempts),
        "" if step.duration_seconds is None else human_duration(step.duration_seconds),
        "" if step.queue_wait_seconds is None else human_duration(step.queue_wait_seconds),
        optional(step.exit_code),
        # Batch gives succeeded jobs a reason too ("Essential container in task exited"): noise.
        "" if step.status == "SUCCEEDED" else step.reason or "",
    )


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns three spaces apart, as kubectl prints tables."""
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return [
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
