"""One level-based reconcile loop per object, and a way for one object to wake another's loop.

Every kind is reconciled by a kopf daemon that repeats observe → plan → act until the object is
deleted. A pass returns how long to wait before the next one; a spec change (a generation the
loop has not read yet), a change of an object it depends on (a queue's compute environment), or
the job poller can cut the wait short. Loops run one pass at a time per object, so no two passes
of one object ever race.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar, cast

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
    for seconds when its SubmitJobs wait for the account's quota: on the threads that
    `asyncio.to_thread` shares with the short calls (status writes, object reads, job poll
    sweeps, SQS receives), 32 such passes would hold every one of those calls back until the
    quota let them go (a run's job ids reached status seconds after its last SubmitJob)."""
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_passes, call)


class Wakeups:
    """In-process events, one per object, shared through kopf's operator-wide memo."""

    def __init__(self) -> None:
        self._events: dict[ObjectKey, asyncio.Event] = {}
        self._generations: dict[ObjectKey, int] = {}

    def event(self, key: ObjectKey) -> asyncio.Event:
        """The event that wakes the loop of `key` (created on first use)."""
        return self._events.setdefault(key, asyncio.Event())

    def wake(self, key: ObjectKey) -> None:
        """Run the next pass of `key`'s loop now, if it is waiting; a no-op for unknown keys."""
        event = self._events.get(key)
        if event is not None:
            event.set()

    def read_generation(self, key: ObjectKey, generation: int) -> None:
        """Remember the generation (the version of the spec) the loop of `key` is reconciling."""
        self._generations[key] = generation

    def wake_on_new_generation(self, key: ObjectKey, generation: int | None) -> None:
        """Wake the loop of `key` when its object's spec moved past the generation the loop last
        read. This replaces kopf's spec diffs: those cost a deep copy of the whole body on
        every event and a copy of the spec kept in an annotation (see startup.NoDiffBase)."""
        seen = self._generations.get(key)
        if seen is not None and generation is not None and generation > seen:
            self.wake(key)

    def wake_namespace(self, kind: str, namespace: str) -> None:
        """Wake every loop of one kind in a namespace (e.g. pipelines waiting for a queue)."""
        for key, event in self._events.items():
            if key[0] == kind and key[1] == namespace:
                event.set()

    def wake_kind(self, kind: str) -> None:
        """Wake every loop of one kind."""
        for key, event in self._events.items():
            if key[0] == kind:
                event.set()

    def wake_where(self, namespace: str | None = None) -> None:
        """Wake every loop of every kind, or only those in `namespace`: an account or a
        namespace changed, so which AWS identity objects may use changed with it."""
        for key, event in self._events.items():
            if namespace is None or key[1] == namespace:
                event.set()

    def forget(self, key: ObjectKey) -> None:
        """Drop the event of an object whose loop ended."""
        self._events.pop(key, None)
        self._generations.pop(key, None)


@dataclass(frozen=True)
class PassResult:
    """What one reconcile pass decided about the next one."""

    delay: float
    """Seconds until the next pass unless something wakes the loop earlier."""


class LoopOutcome(Protocol):
    """What every kind's reconcile pass returns (PassOutcome, PipelineOutcome, CronOutcome)."""

    @property
    def status(self) -> Mapping[str, Any]: ...
    @property
    def delay(self) -> float: ...
    @property
    def recorder(self) -> PassRecorder: ...


Outcome = TypeVar("Outcome", bound=LoopOutcome)


async def reconcile_until_deleted(
    kind: Kind,
    body: kopf.Body,
    stopped: kopf.DaemonStopped,
    wakeups: Wakeups,
    reconcile: Callable[[ObjectSnapshot, StatusWriter], Awaitable[Outcome]],
    after_write: Callable[[ObjectSnapshot, Outcome], Awaitable[None]] | None = None,
) -> None:
    """The loop every kind runs: read the object (our own last write included), reconcile,
    write status if it changed, post the pass's events, wait for the next pass or a wakeup.
    The pass is given the loop's writer for status it must make durable mid-pass; every write,
    mid-pass or at the end, is one the next pass reads back (`OwnWrites`)."""
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    key = (kind.kind, namespace, name)
    own = own_writes(kind, body)

    def write_progress(status: Mapping[str, Any]) -> None:
        own.wrote(patch_status(kind, namespace, name, status))

    failures = 0

    async def one_pass() -> PassResult:
        nonlocal failures
        try:
            with metrics.reconcile_pass(kind.kind):
                obj = await asyncio.to_thread(own.current, ObjectSnapshot.of(body))
                wakeups.read_generation(key, obj.generation)
                outcome = await reconcile(obj, write_progress)
                await write_status_if_changed(kind, obj, outcome.status, own)
        except KubeUnavailable as exc:
            # The API server is restarting or overloaded: retry this object soon, backing off.
            # Raising would make kopf restart the daemon only after a minute.
            delay = min(KUBE_RETRY_MAX_SECONDS, KUBE_RETRY_SECONDS * 2**failures)
            failures += 1
            logger.warning(f"{key[0]} {key[1]}/{key[2]}: retrying in {delay:g}s: {exc}")
            return PassResult(delay)
        failures = 0
        post_events(obj.body, outcome.recorder.events)
        if after_write is not None:
            await after_write(obj, outcome)
        return PassResult(outcome.delay)

    try:
        await run_loop(stopped, wakeups.event(key), one_pass)
    finally:
        wakeups.forget(key)


async def run_loop(
    stopped: kopf.DaemonStopped,
    wake: asyncio.Event,
    reconcile_pass: Callable[[], Awaitable[PassResult]],
) -> None:
    """Repeat `reconcile_pass` until the daemon is stopped (the object was deleted)."""
    while not stopped:
        wake.clear()
        result = await reconcile_pass()
        await _wait(stopped, wake, result.delay)


async def _wait(stopped: kopf.DaemonStopped, wake: asyncio.Event, delay: float) -> None:
    waiter = asyncio.ensure_future(wake.wait())
    stopper = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({waiter, stopper}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


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


def own_writes(kind: Kind, body: kopf.Body) -> OwnWrites:
    """Read-your-own-writes for the loop of one object."""
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    return OwnWrites(lambda version: get_object(kind, namespace, name, not_older_than=version))
