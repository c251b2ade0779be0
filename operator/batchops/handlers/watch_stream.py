"""What kopf keeps of each object: everything but `metadata.managedFields`.

kopf holds the latest body of every object it runs a daemon for, for the object's lifetime. A
BatchPipeline's managedFields repeat the shape of its whole spec and status as nested dicts
(about 3.5 KiB per tracked job in bench/scale.py), and neither kopf nor batchops reads them:
kopf patches with merge patches and keeps its own state in annotations. kopf has no public
hook on its watch stream, so this wraps the function its watcher calls;
tests/unit/test_watch_stream.py fails if a kopf release moves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from kopf._cogs.clients import watching

_INSTALLED = "_batchops_without_managed_fields"


def drop_managed_fields(event: object) -> None:
    """Remove `object.metadata.managedFields` from a raw watch event, in place (bookmarks and
    other non-dict events pass untouched)."""
    if not isinstance(event, dict):
        return
    obj = event.get("object")
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)


def _without_managed_fields(
    watch: Callable[..., AsyncIterator[Any]],
) -> Callable[..., AsyncIterator[Any]]:
    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        async for event in watch(**kwargs):
            drop_managed_fields(event)
            yield event

    setattr(stream, _INSTALLED, True)
    return stream


def install() -> None:
    """Make kopf's watcher drop managedFields from every event (idempotent)."""
    if not getattr(watching.infinite_watch, _INSTALLED, False):
        watching.infinite_watch = _without_managed_fields(watching.infinite_watch)
