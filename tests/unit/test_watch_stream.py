"""kopf keeps no managedFields and no last-applied manifest: the wrapper on kopf's watch stream,
and the kopf internals it relies on (a kopf release that moves them must fail here, not
silently keep the memory)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

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
