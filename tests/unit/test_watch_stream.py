"""kopf keeps no managedFields and no last-applied manifest: the wrapper on kopf's watch stream,
and the kopf internals it relies on (a kopf release that moves them must fail here, not
silently keep the memory)."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from kopf._cogs.clients import watching
from kopf._core.reactor import queueing

from batchops.handlers import watch_stream
from batchops.model.common import shared_str
from batchops.model.observed import ObservedJob


def test_kopfs_watcher_reads_its_stream_through_the_wrapped_function() -> None:
    assert "watching.infinite_watch(" in inspect.getsource(queueing.watcher)


def test_installed_stream_drops_managed_fields_and_the_last_applied_manifest_and_passes_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {
        "metadata": {
            "name": "p",
            "managedFields": [{"manager": "kubectl"}],
            "uid": "u",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"spec":{"steps":[]}}',
                "batchops.io/rerun": "1",
            },
        },
        "spec": {"steps": []},
    }
    events: list[Any] = [watching.Bookmark.LISTED, {"type": "ADDED", "object": body}]

    async def fake_watch(**kwargs: Any) -> AsyncIterator[Any]:
        assert kwargs == {"resource": "r"}
        for event in events:
            yield event

    monkeypatch.setattr(watching, "infinite_watch", fake_watch)
    watch_stream.install()
    watch_stream.install()  # a second install does not wrap twice

    installed: Any = watching.infinite_watch  # called as kopf's watcher calls it, by keyword

    async def collect() -> list[Any]:
        return [event async for event in installed(resource="r")]

    seen = asyncio.run(collect())
    assert seen[0] is watching.Bookmark.LISTED
    assert seen[1]["object"] == {
        "metadata": {"name": "p", "uid": "u", "annotations": {"batchops.io/rerun": "1"}},
        "spec": {"steps": []},
    }
    wrapped = [cell.cell_contents for cell in installed.__closure__ or ()]
    assert [c for c in wrapped if callable(c)] == [fake_watch]  # once, around kopf's own


def test_kept_bodies_share_equal_strings_within_and_across_bodies() -> None:
    definition = "arn:aws:batch:us-east-1:123456789012:job-definition/etl_0a1b:1"

    def body(job: str) -> dict[str, Any]:
        # Decoded from text, as the watch does: equal strings are distinct objects.
        steps = [{"jobId": f"{job}-{i}", "jobDefinition": definition} for i in range(2)]
        return cast(dict[str, Any], json.loads(json.dumps({"status": {"steps": steps}})))

    raw_first, raw_second = body("a"), body("b")
    assert (
        raw_first["status"]["steps"][0]["jobDefinition"]
        is not (raw_second["status"]["steps"][0]["jobDefinition"])
    )
    first = watch_stream.share_strings(raw_first)
    second = watch_stream.share_strings(raw_second)
    assert first == raw_first and second == raw_second
    entries = (*first["status"]["steps"], *second["status"]["steps"])
    assert len({id(e["jobDefinition"]) for e in entries}) == 1
    assert len({id(k) for entry in entries for k in entry}) == 2  # "jobId", "jobDefinition"
    # A job id the job watch parsed from DescribeJobs is the body's object too.
    parsed = ObservedJob.from_describe(
        json.loads(json.dumps({"jobId": "a-0", "jobName": "n", "status": "RUNNING"}))
    )
    assert parsed.job_id is first["status"]["steps"][0]["jobId"]


def test_sharing_a_string_does_not_keep_it_alive() -> None:
    # Job ids come and go by the million: the shared table must not hold a reference, or every
    # id the operator ever saw would stay (CPython 3.12's interning does, so it is not used).
    text = json.loads('"3f1c2b9e-0d4a-4f7e-9c1a-batchops-unique"')
    before = sys.getrefcount(text)
    shared = shared_str(text)
    assert shared is text
    del shared
    assert sys.getrefcount(text) == before
