"""Rendering a pipeline's graph and a run's progress: pure functions of spec and status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from batchops.model.pipeline_parsing import parse_pipeline_spec
from batchops.views.graph import STATE_COLOURS, render_dot, render_mermaid, render_tree
from batchops.views.progress import change_lines, render_table
from batchops.views.run import RunView, run_view, spec_view
from tests.conftest import example

NOW = datetime(2026, 11, 28, 2, 0, 30, tzinfo=UTC)


def _walkthrough() -> RunView:
    document = yaml.safe_load(example("03-walkthrough-pipeline.yaml"))
    return spec_view("nightly-etl", parse_pipeline_spec(document["spec"]))


def _diamond_spec() -> Any:
    steps = [("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])]
    return parse_pipeline_spec(
        {
            "queue": "q",
            "image": "busybox",
            "steps": [
                {"name": name, "vcpus": 1, "memory": 512, "dependsOn": deps} for name, deps in steps
            ],
        }
    )


def _entry(name: str, status: str, started: str | None = None, stopped: str | None = None,
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    entry: dict[str, Any] = {"name": name, "status": status, **extra}
    if started:
        entry["startedAt"] = f"2026-11-28T02:00:{started}Z"
    if stopped:
        entry["stoppedAt"] = f"2026-11-28T02:00:{stopped}Z"
    return entry


def _diamond_running() -> RunView:
    status = {
        "phase": "Running",
        "progress": "1/4",
        "message": "b RUNNING on q (+2 more)",
        "startedAt": "2026-11-28T02:00:00Z",
        "steps": [
            _entry("a", "SUCCEEDED", "00", "03", attempts=1, exitCode=0, queueWaitSeconds=0),
            _entry("b", "RUNNING", "10", attempts=1),
            _entry("c", "FAILED", "04", "06", attempts=2, exitCode=3, statusReason="boom"),
            _entry("d", "WAITING"),
        ],
    }
    return run_view("diamond", _diamond_spec(), status, NOW)


# --- graph ---------------------------------------------------------------------------------------


def test_walkthrough_chain_renders_as_a_nested_tree() -> None:
    assert render_tree(_walkthrough()) == "job1\n└── job2\n    └── job3"


def test_step_with_two_parents_appears_once_under_its_last_parent() -> None:
    tree = render_tree(spec_view("diamond", _diamond_spec()))
    assert tree.splitlines() == ["a", "├── b", "└── c", "    └── d (after b, c)"]


def test_live_tree_aligns_each_steps_state_and_duration() -> None:
    lines = render_tree(_diamond_running()).splitlines()
    assert lines == [
        "a                       SUCCEEDED 3s",
        "├── b                   RUNNING 20s",
        "└── c                   FAILED 2s exit 3",
        "    └── d (after b, c)  WAITING",
    ]


def test_mermaid_flowchart_has_a_node_per_step_and_an_edge_per_dependency() -> None:
    assert render_mermaid(_walkthrough()).splitlines() == [
        "flowchart TD",
        '    s0["job1"]',
        '    s1["job2"]',
        '    s2["job3"]',
        "    s0 --> s1",
        "    s1 --> s2",
    ]


def test_mermaid_colours_live_steps_by_state() -> None:
    text = render_mermaid(_diamond_running())
    assert '    s0["a<br/>SUCCEEDED 3s"]' in text
    assert "    s1 --> s3" in text and "    s2 --> s3" in text
    fill, _ = STATE_COLOURS["failed"]
    assert f"    classDef failed fill:{fill}" in text
    assert "    class s2 failed" in text
    assert "    class s3 waiting" in text
    assert "classDef cancelled" not in text, "only states present get a class"


def test_dot_digraph_quotes_names_and_fills_states() -> None:
    plain = render_dot(_walkthrough())
    assert plain.startswith('digraph "nightly-etl" {')
    assert '    "job1" -> "job2";' in plain and '    "job2" -> "job3";' in plain
    assert plain.rstrip().endswith("}")
    live = render_dot(_diamond_running())
    fill, stroke = STATE_COLOURS["running"]
    assert f'    "b" [label="b\\nRUNNING 20s", fillcolor="{fill}", color="{stroke}"];' in live
    assert '"b" -> "d";' in live and '"c" -> "d";' in live


# --- watch -------------------------------------------------------------------------------------


def test_watch_table_lists_steps_in_dependency_order_with_their_details() -> None:
    lines = render_table(_diamond_running())
    assert lines[0] == "diamond  Running  1/4  30s"
    assert lines[1].split() == [
        "STEP", "STATUS", "ATTEMPTS", "DURATION", "QUEUE-WAIT", "EXIT", "REASON"
    ]  # fmt: skip
    assert lines[2].split() == ["a", "SUCCEEDED", "1", "3s", "0s", "0"]
    assert lines[3].split() == ["b", "RUNNING", "1", "20s"]
    assert lines[4].split() == ["c", "FAILED", "2", "2s", "3", "boom"]
    assert lines[5].split() == ["d", "WAITING"]
    assert lines[-1] == "b RUNNING on q (+2 more)"


def test_watch_change_lines_name_only_what_changed() -> None:
    spec = _diamond_spec()
    before = run_view(
        "diamond",
        spec,
        {"phase": "Running", "progress": "1/4", "steps": [_entry("a", "SUCCEEDED", "00", "03")]},
        NOW,
    )
    after = run_view(
        "diamond",
        spec,
        {
            "phase": "Running",
            "progress": "1/4",
            "steps": [_entry("a", "SUCCEEDED", "00", "03"), _entry("b", "RUNNING", "29")],
        },
        NOW,
    )
    assert change_lines(before, after) == ["  b: RUNNING 1s"]
    assert change_lines(None, before) == ["diamond: Running 1/4", "  a: SUCCEEDED 3s"]
    finished = run_view(
        "diamond",
        spec,
        {"phase": "Failed", "progress": "1/4", "message": "b failed",
         "steps": [_entry("a", "SUCCEEDED", "00", "03"), _entry("b", "FAILED", "29", "30")]},
        NOW,
    )  # fmt: skip
    assert change_lines(after, finished) == [
        "diamond: Failed 1/4 (b failed)",
        "  b: RUNNING -> FAILED 1s",
    ]
    assert finished.finished and not after.finished


def test_spec_without_a_run_is_not_live() -> None:
    view = _walkthrough()
    assert not view.live
    assert view.progress_text == "0/3"
    assert [step.state_class for step in view.steps] == [None, None, None]
