"""kopf keeps no managedFields and no last-applied manifest: the wrapper on kopf's watch stream,
and the kopf internals it relies on (a kopf release that moves them must fail here, not
silently keep the memory)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from kopf._cogs.clients import watching
from kopf._core.reactor import queueing

from batchops.handlers import watch_stream


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


def test_kept_bodies_share_their_keys_and_each_body_its_repeated_values() -> None:
    keys = watch_stream.SharedKeys()
    definition = "arn:aws:batch:us-east-1:123456789012:job-definition/etl_0a1b:1"

    def body(job: str) -> dict[str, Any]:
        # Decoded from text, as the watch does: equal strings are distinct objects.
        steps = [{"jobId": f"{job}-{i}", "jobDefinition": definition} for i in range(2)]
        return cast(dict[str, Any], json.loads(json.dumps({"status": {"steps": steps}})))

    raw_first, raw_second = body("a"), body("b")
    first = watch_stream.share_strings(raw_first, keys)
    second = watch_stream.share_strings(raw_second, keys)
    assert first == raw_first and second == raw_second
    one, two = first["status"]["steps"]
    assert one["jobDefinition"] is two["jobDefinition"]
    key_of = {
        id(k) for entry in (*first["status"]["steps"], *second["status"]["steps"]) for k in entry
    }
    assert len(key_of) == 2  # "jobId" and "jobDefinition", one object each in both bodies
    assert len(keys) == 4  # status, steps, jobId, jobDefinition: values are not kept


def test_the_shared_key_table_stops_growing_at_its_limit() -> None:
    keys = watch_stream.SharedKeys(limit=2)
    watch_stream.share_strings({"a": 1, "b": 2, "c": 3}, keys)
    assert len(keys) == 2
    assert watch_stream.share_strings({"c": 1}, keys) == {"c": 1}
