"""What kopf passes on of each event: everything but `metadata.managedFields` and client-side
apply's copy of the manifest, and, in a sharded operator (`batchops run --shard i/N`), nothing
of the objects another shard owns.

A BatchPipeline's managedFields repeat the shape of its whole spec and status, and `kubectl
apply` (client-side, as Argo CD also does by default) keeps the whole manifest as JSON text in
the `kubectl.kubernetes.io/last-applied-configuration` annotation: the spec a second time.
Neither kopf nor batchops reads them, and every event that carries them is parsed, handed to
the handlers, and compressed into the body the loop host keeps (`loops.Loops`).

kopf has no public hook on its watch stream, so this wraps the function its watcher calls;
tests/unit/test_watch_stream.py fails if a kopf release moves it. The wrapper also hands the
loop host kopf's pause toggles, which kopf gives its watches but not its handlers.

Sharding filters here, in one place, for the same reason: an event dropped before kopf sees it
starts no handler, adds no index entry and holds no memory. Only namespaced objects of our own
API group are split (the namespace is the unit, `model/sharding.py`); BatchAccounts and
Namespaces, which every shard's indexes read, kopf's peering objects, bookmarks and errors all
pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from kopf._cogs.clients import watching

from batchops.kube.client import GROUP
from batchops.model.sharding import Shard

Watch = Callable[..., AsyncIterator[Any]]

_KOPFS_OWN = "_batchops_wraps"
"""Attribute of the installed stream holding kopf's own function, so installing again wraps
that, never our wrapper."""

_OUR_API_VERSIONS = f"{GROUP}/"


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def drop_unread_metadata(event: object) -> None:
    """Remove `object.metadata.managedFields` and the last-applied-configuration annotation from
    a raw watch event, in place (bookmarks and other non-dict events pass untouched)."""
    if not isinstance(event, dict):
        return
    obj = event.get("object")
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED, None)


def owned_by_another_shard(event: object, shard: Shard) -> bool:
    """True for a raw watch event of a namespaced batchops.io object whose namespace `shard`
    does not own; False for everything else (cluster-scoped objects, other API groups,
    bookmarks, errors)."""
    if not isinstance(event, dict):
        return False
    obj = event.get("object")
    if not isinstance(obj, dict):
        return False
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or not api_version.startswith(_OUR_API_VERSIONS):
        return False
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    # A BOOKMARK of our kinds names no namespace: it passes, like a cluster-scoped object.
    return isinstance(namespace, str) and bool(namespace) and not shard.owns(namespace)


def _as_kept(watch: Watch, follow_pauses: Callable[[Any], None] | None) -> Watch:
    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        paused = kwargs.get("operator_paused")
        if follow_pauses is not None and paused is not None:
            follow_pauses(paused)
        async for event in watch(**kwargs):
            drop_unread_metadata(event)
            yield event

    return stream


def _only_this_shard(watch: Watch, shard: Shard) -> Watch:
    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        async for event in watch(**kwargs):
            if not owned_by_another_shard(event, shard):
                yield event

    return stream


def install(shard: Shard | None = None, follow_pauses: Callable[[Any], None] | None = None) -> None:
    """Make kopf's watcher drop managedFields and the last-applied manifest from every event
    and, with a `shard`, drop the events of objects in namespaces another shard owns.
    `follow_pauses` is handed the toggle set kopf's peering turns on when this replica must
    pause (kopf gives it to every watch, and to its daemons, but not to handlers).
    Idempotent: kopf's function is wrapped once, with the arguments of the latest call."""
    kopfs: Watch = getattr(watching.infinite_watch, _KOPFS_OWN, watching.infinite_watch)
    filtered = kopfs if shard is None else _only_this_shard(kopfs, shard)
    installed = _as_kept(filtered, follow_pauses)
    setattr(installed, _KOPFS_OWN, kopfs)
    watching.infinite_watch = installed
