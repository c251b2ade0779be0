"""One level-based reconcile loop per object, all of them run by one host, and a way for one
object to wake another's loop.

Every kind's loop repeats observe → plan → act until the object is deleted. A pass returns how
long to wait before the next one; a spec change (a generation the loop has not read yet), a
change of an object it depends on (a queue's compute environment), or the job poller can cut
the wait short. One pass at a time per object, so no two passes of one object ever race.

`Loops` is the host. It was a kopf daemon per object; kopf keeps, for every daemon, the latest
body as parsed dicts, a task with its chain of coroutines, a threading and an asyncio event
for its stopper, and its handler state, for the object's whole life (with our own waiting
tasks, about 38 KiB of a running 20-step pipeline, by tracemalloc). The host keeps, per
object, the latest body as compressed JSON, the per-object callbacks, and a timer; a task
exists only while a pass runs. kopf still watches, and delivers each event to an event handler
that calls `observe`.

What kopf did for its daemons and the host does itself:
- on deletion (a deletionTimestamp) no pass starts any more; a kind's finalizer awaits `stop`,
  which returns when the object's pass in flight, if any, has ended;
- when kopf's peering pauses this replica (another one with a higher priority is up), every
  loop ends, as kopf's daemons did (`follow_pauses`); when it resumes, kopf lists the objects
  again and their loops start afresh;
- a pass that raises is logged with its traceback and retried, backing off to a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast

import kopf

from batchops import metrics
from batchops.kube.client import Kind, KubeNotFound, KubeUnavailable, get_object, patch_status
from batchops.reconcile.common import (
    Event,
    ObjectSnapshot,
    OwnWrites,
    PassRecorder,
    StatusWriter,
)

ObjectKey = tuple[str, str, str]
"""(kind, namespace, name)."""

KUBE_RETRY_SECONDS = 1.0
KUBE_RETRY_MAX_SECONDS = 60.0
"""A pass that could not reach the API server runs again after 1, 2, 4 … up to 60 seconds."""
FAILED_PASS_RETRY_SECONDS = 60.0
"""A pass that raised anything else runs again after a minute (kopf's daemon backoff)."""
STOP_TIMEOUT_SECONDS = 30.0
"""How long stopping the host waits for passes in flight before cancelling them."""

PASS_THREADS = 32
"""Passes (and finalizer steps) running at once; more wait for a thread."""

logger = logging.getLogger(__name__)

_passes = ThreadPoolExecutor(max_workers=PASS_THREADS, thread_name_prefix="pass")
Params = ParamSpec("Params")
Result = TypeVar("Result")


async def in_pass_thread(
    work: Callable[Params, Result], *args: Params.args, **kwargs: Params.kwargs
) -> Result:
    """Run a reconcile pass or a finalizer step on the threads kept for them. A pass blocks
    for seconds when its SubmitJobs wait for the quota: on the threads that
    `asyncio.to_thread` shares with the short calls (status writes, object reads, job poll
    sweeps, SQS receives), 32 such passes would hold every one of those calls back until the
    quota let them go (a run's job ids reached status seconds after its last SubmitJob)."""
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_passes, call)


class LoopOutcome(Protocol):
    """What every kind's reconcile pass returns (PassOutcome, PipelineOutcome, CronOutcome)."""

    @property
    def status(self) -> Mapping[str, Any]: ...
    @property
    def delay(self) -> float: ...
    @property
    def recorder(self) -> PassRecorder: ...


Outcome = TypeVar("Outcome", bound=LoopOutcome)


@dataclass(frozen=True)
class ObjectLoop(Generic[Outcome]):
    """What a kind runs for one object: made once, when the host first sees the object."""

    kind: Kind
    reconcile: Callable[[ObjectSnapshot, StatusWriter], Awaitable[Outcome]]
    """One pass: given the object (our own last write included) and a writer for status the
    pass must make durable mid-pass."""
    after_write: Callable[[ObjectSnapshot, Outcome], Awaitable[None]] | None = None
    """After the pass's status write and events."""
    on_end: Callable[[], None] | None = None
    """The loop ends without the object being deleted (this replica paused or stopping)."""


@dataclass(slots=True, eq=False)
class _Entry:
    loop: ObjectLoop[Any]
    body: bytes
    """The latest body kopf delivered, as compressed JSON."""
    own: OwnWrites
    deleting: bool = False
    generation: int | None = None
    """The metadata.generation the last pass read."""
    timer: asyncio.TimerHandle | None = None
    running: asyncio.Task[None] | None = None
    woken: bool = False
    """Woken while a pass ran: the next pass runs as soon as this one ends."""
    failures: int = 0


def _pack(body: Mapping[str, Any]) -> bytes:
    return zlib.compress(json.dumps(dict(body), separators=(",", ":")).encode(), 1)


def _unpack(packed: bytes) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(zlib.decompress(packed)))


@dataclass
class Loops:
    """The host of every object's loop, shared through kopf's operator-wide memo."""

    _entries: dict[ObjectKey, _Entry] = field(default_factory=dict)
    _paused: bool = False
    _following: asyncio.Task[None] | None = None
    _context: contextvars.Context | None = None
    """The context kopf runs its handlers in, which kopf.event needs (its settings and event
    queue): passes run in a copy of it, whoever wakes them (the job poller does too)."""

    def observe(
        self,
        kind: Kind,
        event_type: str | None,
        body: Mapping[str, Any],
        make: Callable[[], ObjectLoop[Any]],
    ) -> None:
        """A watch event of an object with a loop (kopf calls this from an event handler):
        keep its body, start its loop when it is new, end it when the object is gone.
        `make` builds the object's loop the first time."""
        if self._context is None:
            self._context = contextvars.copy_context()
        meta = body.get("metadata") or {}
        key = (kind.kind, meta.get("namespace") or "", meta.get("name") or "")
        if event_type == "DELETED":
            self._end(key, deleted=True)
            return
        deleting = bool(meta.get("deletionTimestamp"))
        entry = self._entries.get(key)
        if entry is None:
            if deleting or self._paused:
                return
            namespace, name = key[1], key[2]
            entry = _Entry(make(), _pack(body), own_writes(kind, namespace, name))
            self._entries[key] = entry
            self._schedule(key, entry, 0.0)
            return
        entry.body = _pack(body)
        if deleting and not entry.deleting:
            entry.deleting = True
            self._cancel_timer(entry)

    def wake(self, key: ObjectKey) -> None:
        """Run the next pass of `key`'s loop now; a no-op for unknown keys."""
        entry = self._entries.get(key)
        if entry is None or entry.deleting:
            return
        if entry.running is not None:
            entry.woken = True
        else:
            self._schedule(key, entry, 0.0)

    def wake_on_new_generation(self, key: ObjectKey, generation: int | None) -> None:
        """Wake the loop of `key` when its object's spec moved past the generation the loop last
        read. This replaces kopf's spec diffs: those cost a deep copy of the whole body on
        every event and a copy of the spec kept in an annotation (see startup.NoDiffBase)."""
        entry = self._entries.get(key)
        seen = entry.generation if entry is not None else None
        if seen is not None and generation is not None and generation > seen:
            self.wake(key)

    def wake_namespace(self, kind: str, namespace: str) -> None:
        """Wake every loop of one kind in a namespace (e.g. pipelines waiting for a queue)."""
        for key in [k for k in self._entries if k[0] == kind and k[1] == namespace]:
            self.wake(key)

    def wake_kind(self, kind: str) -> None:
        """Wake every loop of one kind."""
        for key in [k for k in self._entries if k[0] == kind]:
            self.wake(key)

    def wake_where(self, namespace: str | None = None) -> None:
        """Wake every loop of every kind, or only those in `namespace`: an account or a
        namespace changed, so which AWS identity objects may use changed with it."""
        for key in [k for k in self._entries if namespace is None or k[1] == namespace]:
            self.wake(key)

    def next_pass_in(self, key: ObjectKey) -> float | None:
        """Seconds until the next pass of `key`'s loop (0 once woken); None while a pass runs,
        after the object's deletion began, or for an object without a loop here."""
        entry = self._entries.get(key)
        if entry is None or entry.deleting or entry.running is not None:
            return None
        if entry.timer is None:
            return 0.0 if entry.woken else None
        return max(0.0, entry.timer.when() - asyncio.get_running_loop().time())

    async def stop(self, key: ObjectKey) -> None:
        """Start no more passes of `key`'s loop, and return once its pass in flight has ended:
        a finalizer must not work beside a pass (a run's pass could submit a job after its
        finalizer read the jobs to stop). The loop is forgotten when the object is gone."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.deleting = True
        self._cancel_timer(entry)
        if entry.running is not None:
            await asyncio.wait({entry.running})

    async def pause(self) -> None:
        """End every loop, as when kopf's peering pauses this replica, and start none until
        `resume`: another replica acts now."""
        self._paused = True
        await self.end_all()

    @property
    def paused(self) -> bool:
        """Whether kopf's peering has paused this replica (no loop runs)."""
        return self._paused

    def resume(self) -> None:
        """Loops start again as kopf lists the objects again."""
        self._paused = False

    async def end_all(self) -> None:
        """End every loop: passes in flight may finish (cancelled after STOP_TIMEOUT_SECONDS)."""
        entries = list(self._entries.items())
        for key, _ in entries:
            self._end(key, deleted=False)
        running = [entry.running for _, entry in entries if entry.running is not None]
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_TIMEOUT_SECONDS)
            for task in late:
                task.cancel()

    def follow(self, paused: Any) -> None:
        """Pause and resume with kopf's `operator_paused` toggle set (handed over by
        watch_stream on every watch kopf starts; followed once)."""
        if self._following is None:
            self._following = asyncio.create_task(self._follow(paused), name="loops pauses")

    async def _follow(self, paused: Any) -> None:
        while True:
            await paused.wait_for(True)
            await self.pause()
            await paused.wait_for(False)
            self.resume()

    async def close(self) -> None:
        """The operator is stopping: end every loop and stop following pauses."""
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None
        await self.end_all()

    def _end(self, key: ObjectKey, deleted: bool) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._cancel_timer(entry)
        if not deleted and not entry.deleting and entry.loop.on_end is not None:
            entry.loop.on_end()

    def _cancel_timer(self, entry: _Entry) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None

    def _schedule(self, key: ObjectKey, entry: _Entry, delay: float) -> None:
        self._cancel_timer(entry)
        entry.timer = asyncio.get_running_loop().call_later(delay, self._start, key, entry)

    def _start(self, key: ObjectKey, entry: _Entry) -> None:
        entry.timer = None
        if self._entries.get(key) is not entry or entry.deleting:
            return
        if entry.running is not None:
            entry.woken = True
            return
        entry.woken = False
        context = self._context.copy() if self._context is not None else None
        entry.running = asyncio.create_task(
            self._run_pass(key, entry), name=f"pass {key}", context=context
        )

    async def _run_pass(self, key: ObjectKey, entry: _Entry) -> None:
        try:
            delay = await self._one_pass(key, entry)
        except Exception:
            entry.failures += 1
            delay = FAILED_PASS_RETRY_SECONDS
            logger.exception(f"{key[0]} {key[1]}/{key[2]}: pass failed; retrying in {delay:g}s")
        finally:
            entry.running = None
        if self._entries.get(key) is entry and not entry.deleting:
            self._schedule(key, entry, 0.0 if entry.woken else delay)

    async def _one_pass(self, key: ObjectKey, entry: _Entry) -> float:
        loop = entry.loop
        kind, namespace, name = loop.kind, key[1], key[2]
        own = entry.own

        def write_progress(status: Mapping[str, Any]) -> None:
            own.wrote(patch_status(kind, namespace, name, status))

        try:
            with metrics.reconcile_pass(kind.kind):
                snapshot = ObjectSnapshot.of(_unpack(entry.body))
                obj = await asyncio.to_thread(own.current, snapshot)
                entry.generation = obj.generation
                outcome: LoopOutcome = await loop.reconcile(obj, write_progress)
                await write_status_if_changed(kind, obj, outcome.status, own)
        except KubeUnavailable as exc:
            # The API server is restarting or overloaded: retry this object soon, backing off.
            delay = min(KUBE_RETRY_MAX_SECONDS, KUBE_RETRY_SECONDS * 2.0**entry.failures)
            entry.failures += 1
            logger.warning(f"{key[0]} {key[1]}/{key[2]}: retrying in {delay:g}s: {exc}")
            return delay
        entry.failures = 0
        post_events(obj.body, outcome.recorder.events)
        if loop.after_write is not None:
            await loop.after_write(obj, outcome)
        return outcome.delay


def post_events(body: Mapping[str, Any], events: Iterable[Event]) -> None:
    """Post the events a pass queued, on the object they are about."""
    for event in events:
        kopf.event(
            kopf.Body(cast(kopf.RawBody, dict(body))),
            type=event.type,
            reason=event.reason,
            message=event.message[:1024],
        )


async def write_status_if_changed(
    kind: Kind, obj: ObjectSnapshot, status: Mapping[str, Any], own: OwnWrites | None = None
) -> None:
    """Patch `.status` only when the pass changed it (no write on a quiet pass). A key the
    pass sets to None is absent from the stored object (a merge patch's null removes it), so it
    counts as unchanged when the object does not have it either."""
    if {k: v for k, v in status.items() if v is not None} == dict(obj.status):
        return
    patch = dict(status)
    # A merge patch only sets keys: fields the pass dropped must be nulled explicitly.
    for key in obj.status:
        if key not in patch:
            patch[key] = None
    with contextlib.suppress(KubeNotFound):  # deleted meanwhile: nothing left to report on
        version = await asyncio.to_thread(patch_status, kind, obj.namespace, obj.name, patch)
        if own is not None:
            own.wrote(version)


def own_writes(kind: Kind, namespace: str, name: str) -> OwnWrites:
    """Read-your-own-writes for the loop of one object."""
    return OwnWrites(lambda version: get_object(kind, namespace, name, not_older_than=version))
