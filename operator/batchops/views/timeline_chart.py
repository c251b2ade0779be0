"""A timeline laid out as a chart of character cells: per step a label, a bar and a note, above
them a time axis, below them the summary. Pure, so what fits in 80 columns and where each mark
lands is tested without rich; `views/timeline_render.py` gives each cell a glyph and a colour.

A row reads `*name │   ░░░████✗░░██████ │ 3m x2`: the label (`*` on the critical path), the
bar (one cell is `seconds_per_cell` of wall time), and the note (running time summed over the
attempts, then attempts, resubmissions, interruptions, array children).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from batchops.model.common import format_time
from batchops.plans.run_status import human_duration
from batchops.views.timeline import AttemptSpan, Outcome, StepRow, Timeline

CellKind = Literal["queue", "run", "failed", "interrupted", "resubmitted"]
"""What one cell of a bar shows: waiting for capacity, running, or a mark: where an attempt
failed, where its host went away, where the operator resubmitted the step."""

CRITICAL_MARK: Final = "*"
ARROW: Final = "→"
GAP: Final = 2
"""Between the label and the bar, and between the bar and the note: ` │` and `│ `."""
_MAX_LABEL: Final = 24
_MAX_NOTE: Final = 22
_MIN_BAR: Final = 10


@dataclass(frozen=True)
class Cell:
    """One character of a bar: what it shows, and how the attempt it belongs to ended."""

    kind: CellKind
    outcome: Outcome


@dataclass(frozen=True)
class ChartRow:
    """One step: `label` and `note` unpadded (the chart's widths pad them), `cells` exactly
    `bar_width` long (None is empty)."""

    label: str
    cells: tuple[Cell | None, ...]
    note: str
    critical: bool
    outcome: Outcome | None
    """How the step's last attempt ended (None: it never began)."""


@dataclass(frozen=True)
class Chart:
    """The whole chart; every line is at most `width` cells wide."""

    width: int
    label_width: int
    bar_width: int
    note_width: int
    seconds_per_cell: float
    title: str
    message: str | None
    """The run's `status.message`, cut to the width."""
    axis: str
    """`bar_width` characters: time labels at the start, middle and end of the bars."""
    rows: tuple[ChartRow, ...]
    summary: tuple[str, ...]

    @property
    def has_critical_path(self) -> bool:
        """Whether any row is on the critical path (none before a step began)."""
        return any(row.critical for row in self.rows)


def lay_out(timeline: Timeline, width: int = 80) -> Chart:
    """Lay the timeline out `width` cells wide (the label and note columns shrink first, the
    bars never below a few cells)."""
    wall = timeline.wall_seconds
    notes = [_note(row, wall) for row in timeline.rows]
    labels = [(CRITICAL_MARK if row.critical else " ") + row.name for row in timeline.rows]
    note_width = min(_MAX_NOTE, max((len(n) for n in notes), default=0))
    label_width = min(_MAX_LABEL, max((len(label) for label in labels), default=1))
    spare = width - 2 * GAP - _MIN_BAR
    label_width = max(3, min(label_width, spare - note_width))
    note_width = max(0, min(note_width, spare - label_width))
    bar_width = max(_MIN_BAR, width - label_width - note_width - 2 * GAP)
    scale = wall / bar_width if wall > 0 else 1.0
    rows = tuple(
        ChartRow(
            label=_cut(label, label_width),
            cells=bar_cells(row.attempts, wall, bar_width),
            note=_cut(note, note_width),
            critical=row.critical,
            outcome=row.attempts[-1].outcome if row.attempts else None,
        )
        for row, label, note in zip(timeline.rows, labels, notes, strict=True)
    )
    return Chart(
        width=label_width + note_width + bar_width + 2 * GAP,
        label_width=label_width,
        bar_width=bar_width,
        note_width=note_width,
        seconds_per_cell=scale,
        title=_cut(_title(timeline), width),
        message=_cut(timeline.message, width) if timeline.message else None,
        axis=_axis(wall, bar_width),
        rows=rows,
        summary=tuple(_summary(timeline, width)),
    )


def bar_cells(
    attempts: tuple[AttemptSpan, ...], wall: float, bar_width: int
) -> tuple[Cell | None, ...]:
    """A step's bar: each attempt's queue wait, then its run, later attempts over earlier ones;
    a run is at least one cell, a wait shorter than half a cell does not show."""
    cells: list[Cell | None] = [None] * bar_width
    scale = wall / bar_width if wall > 0 else 1.0

    def column(moment: float) -> int:
        return min(bar_width, max(0, round(moment / scale)))

    def paint(start: float, stop: float, cell: Cell, at_least_one: bool) -> int | None:
        first, end = column(start), column(stop)
        if end <= first:
            if not at_least_one:
                return None
            first, end = min(first, bar_width - 1), min(first, bar_width - 1) + 1
        for index in range(first, end):
            cells[index] = cell
        return end - 1

    seen_resubmissions = {0}
    for span in attempts:
        queued_until = span.started if span.started is not None else span.finish(wall)
        if span.ready is not None and queued_until is not None:
            paint(span.ready, queued_until, Cell("queue", span.outcome), at_least_one=False)
        last_cell = None
        if span.started is not None:
            stop = span.stopped if span.stopped is not None else wall
            last_cell = paint(span.started, stop, Cell("run", span.outcome), at_least_one=True)
        if last_cell is not None and span.outcome in ("failed", "interrupted"):
            cells[last_cell] = Cell(span.outcome, span.outcome)
        if span.resubmission not in seen_resubmissions:
            seen_resubmissions.add(span.resubmission)
            begin = span.ready if span.ready is not None else span.started
            if begin is not None:
                cells[min(bar_width - 1, column(begin))] = Cell("resubmitted", span.outcome)
    return tuple(cells)


def _note(row: StepRow, wall: float) -> str:
    if not row.attempts:
        return (row.status or "").lower()
    words = [human_duration(row.run_time(wall)) if row.run_time(wall) else "-"]
    attempts = len(row.attempts) if row.from_history else row.reported_attempts or 1
    attempts += row.history_dropped
    if attempts > 1:
        words.append(f"x{attempts}")
    if row.resubmissions:
        words.append(f"↻{row.resubmissions}")
    interruptions = max(row.interruptions, sum(a.outcome == "interrupted" for a in row.attempts))
    if interruptions:
        words.append(f"↯{interruptions}")
    if row.array_summary:
        words.append(_array_note(row.array_summary))
    last = row.attempts[-1]
    if last.outcome == "failed" and last.exit_code:
        words.append(f"exit {last.exit_code}")
    return " ".join(words)


def _array_note(summary: Mapping[str, int]) -> str:
    """`[8/10]`: children succeeded of all; `[8/10 2✗]` with failures."""
    total = sum(summary.values())
    failed = summary.get("FAILED", 0)
    text = f"{summary.get('SUCCEEDED', 0)}/{total}"
    return f"[{text} {failed}✗]" if failed else f"[{text}]"


def _title(timeline: Timeline) -> str:
    words = [timeline.name, timeline.phase or "Pending"]
    if timeline.started_at is None:
        words.append("not started")
    else:
        words += [
            f"wall {human_duration(timeline.wall_seconds)}",
            f"started {format_time(timeline.started_at)}",
        ]
    return "  ".join(words)


def _axis(wall: float, bar_width: int) -> str:
    """`0s        5m30s        11m`: where the bars start, their middle and their end."""
    axis = [" "] * bar_width
    start, middle, end = "0s", human_duration(wall / 2), human_duration(wall)
    for index, char in enumerate(start[:bar_width]):
        axis[index] = char
    end_at = bar_width - len(end)
    if end_at > len(start) + 1:
        axis[end_at:] = end
    middle_at = bar_width // 2 - len(middle) // 2
    if middle_at > len(start) + 1 and middle_at + len(middle) < end_at - 1:
        axis[middle_at : middle_at + len(middle)] = middle
    return "".join(axis)


def _summary(timeline: Timeline, width: int) -> list[str]:
    wall = timeline.wall_seconds
    if timeline.started_at is None:
        return ["no step has been submitted yet"]
    on_path = timeline.critical_queue_wait_seconds
    share = f" ({round(100 * on_path / wall)}%)" if wall > 0 else ""
    attempts = sum(len(row.attempts) for row in timeline.rows)
    lines = [
        f"wall time {human_duration(wall)}: {human_duration(on_path)} of it{share} waiting for "
        "capacity on the critical path",
        f"queue waits summed over all {attempts} attempt(s): "
        f"{human_duration(timeline.queue_wait_seconds)}; running time summed: "
        f"{human_duration(timeline.run_seconds)}",
    ]
    if timeline.critical_path:
        lines.append("critical path: " + f" {ARROW} ".join(timeline.critical_path))
    without = [row.name for row in timeline.rows if row.attempts and not row.from_history]
    if without:
        lines.append(
            f"{len(without)} step(s) without attempt history (an older status): each drawn as "
            "one span from its own times"
        )
    dropped = sum(row.history_dropped for row in timeline.rows)
    if dropped:
        lines.append(f"{dropped} oldest attempt(s) not drawn: dropped from the history")
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False)
    return wrapped


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
