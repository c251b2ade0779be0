"""What kopf keeps of each object: everything but `metadata.managedFields` and client-side
apply's copy of the manifest, and, in a sharded operator (`batchops run --shard i/N`), nothing
of the objects another shard owns.

kopf holds the latest body of every object it runs a daemon for, for the object's lifetime. A
BatchPipeline's managedFields repeat the shape of its whole spec and status as nested dicts
(about 3.5 KiB per tracked job in bench/scale.py), and `kubectl apply` (client-side, as Argo CD
also does by default) keeps the whole manifest as JSON text in the
`kubectl.kubernetes.io/last-applied-configuration` annotation: the spec a second time. Neither
kopf nor batchops reads them: kopf patches with merge patches and keeps its own state in
annotations under batchops.io/.

What is kept shares its strings: every body's keys are the same few dozen names, values recur
within a body (a 20-step chain names one job definition ARN 20 times, each job id twice) and
across bodies and the job watch's records (step names, queue names, each job's id, ARN and log
stream), but the JSON decoder makes a new string for each. Sharing them within a body made a
running 20-step pipeline's body a third smaller (37 KiB to 25 KiB, measured on bench bodies).

kopf has no public hook on its watch stream, so this wraps the function its watcher calls;
tests/unit/test_watch_stream.py fails if a kopf release moves it.

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
from batchops.model.common import shared_str
from batchops.model.sharding import Shard

Watch = Callable[..., AsyncIterator[Any]]

_KOPFS_OWN = "_batchops_wraps"
"""Attribute of the installed stream holding kopf's own function, so installing again wraps
that, never our wrapper."""

_OUR_API_VERSIONS = f"{GROUP}/"


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def share_strings(value: Any, seen: dict[str, str] | None = None) -> Any:
    """A copy of decoded JSON whose equal strings, keys and values, are one object each: within
    this one value always (`seen`), and across every body and job record the operator holds
    where the interpreter allows it (`shared_str`)."""
    seen = {} if seen is None else seen
    if isinstance(value, dict):
        return {_one(k, seen): share_strings(v, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [share_strings(v, seen) for v in value]
    if isinstance(value, str):
        return _one(value, seen)
    return value


def _one(text: str, seen: dict[str, str]) -> str:
    known = seen.get(text)
    if known is None:
        known = seen[text] = shared_str(text)
    return known


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


def _as_kept(watch: Watch) -> Watch:
    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        async for event in watch(**kwargs):
            drop_unread_metadata(event)
            if isinstance(event, dict) and isinstance(event.get("object"), dict):
                event["object"] = share_strings(event["object"])
            yield event

    return stream


def _only_this_shard(watch: Watch, shard: Shard) -> Watch:
    async def stream(**kwargs: Any) -> AsyncIterator[Any]:
        async for event in watch(**kwargs):
            if not owned_by_another_shard(event, shard):
                yield event

    return stream


def install(shard: Shard | None = None) -> None:
    """Make kopf's watcher drop managedFields and the last-applied manifest from every event,
    share the strings of what it keeps and, with a `shard`, drop the events of objects in
    namespaces another shard owns. Idempotent: kopf's function is wrapped once, with the shard
    of the latest call."""
    kopfs: Watch = getattr(watching.infinite_watch, _KOPFS_OWN, watching.infinite_watch)
    filtered = kopfs if shard is None else _only_this_shard(kopfs, shard)
    installed = _as_kept(filtered)
    setattr(installed, _KOPFS_OWN, kopfs)
    watching.infinite_watch = installed
