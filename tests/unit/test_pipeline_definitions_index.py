"""The job-definition index is read on kopf's event loop even when a pass's thread asks: kopf
changes its indexes there, and iterating one from another thread meets a dict changing size
(the pipelines benchmark crashed pipeline loops that way)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, ItemsView

from batchops.handlers.pipeline import _definitions_in_status
from batchops.model import keys
from batchops.model.observed import job_definitions_in_status


def test_a_pass_thread_reads_the_namespaces_definitions_on_the_event_loops_thread() -> None:
    async def scenario() -> tuple[dict[str, Collection[str]], set[str]]:
        index: dict[tuple[str | None, str], list[tuple[str, ...]]] = {
            ("team-a", "left"): [("arn:def/team-a_1:1",)],
            ("team-a", "right"): [("arn:def/team-a_1:1", "arn:def/team-a_2:1")],
            ("team-b", "other"): [("arn:def/team-b_3:1",)],
        }
        read_on: set[str] = set()

        class WatchedIndex(dict[tuple[str | None, str], list[tuple[str, ...]]]):
            def items(self) -> ItemsView[tuple[str | None, str], list[tuple[str, ...]]]:  # type: ignore[override]
                read_on.add(threading.current_thread().name)
                return super().items()

        reader = _definitions_in_status({keys.PIPELINE_JOB_DEFINITIONS.name: WatchedIndex(index)})
        found = await asyncio.to_thread(reader, "team-a")
        return found, read_on

    found, read_on = asyncio.run(scenario())
    assert found == {
        "left": ("arn:def/team-a_1:1",),
        "right": ("arn:def/team-a_1:1", "arn:def/team-a_2:1"),
    }
    assert read_on == {threading.main_thread().name}


def test_the_definitions_a_pipelines_status_names_are_read_once_each() -> None:
    status = {
        "steps": [
            {"name": "a", "jobDefinition": "arn:def/ns_1:1"},
            {"name": "b", "jobDefinition": "arn:def/ns_1:1"},
            {"name": "c"},
        ]
    }
    assert job_definitions_in_status(status) == ("arn:def/ns_1:1",)
