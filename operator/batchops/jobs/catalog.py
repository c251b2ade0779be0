"""The job definitions of one region, listed once and then kept current by our own writes, and
which of them this process's pipelines are about to submit with.

Resolving a pipeline's inline steps used to cost a DescribeJobDefinitions per step (one name per
call is all the API takes) before any SubmitJob: two thirds of the operator's AWS calls in the
benchmark. The catalog lists every ACTIVE definition in one paged sweep on first use, records
each revision this process registers or deregisters, and lists again after `max_age` so that
changes made elsewhere (another replica before a failover, a person) are picked up. A name
missing from a fresh listing has no ACTIVE revision.

Definitions are shared by content across a namespace's pipelines (`plans/jobdefs.py`), so
choosing one and retiring one must not interleave: a pass that chose a definition *holds* it
(for its pipeline) in the same step, under the catalog's lock, and retirement takes only
definitions nobody holds or names, removing them from the catalog in that same step. Whichever
comes first wins: the pass keeps its definition, or it registers a fresh revision. Pipelines'
status names the definitions they used, so holds only have to cover what status may not show
yet; a restart needs none (the status index rebuilds the counts). Two passes that need the same
new definition register it once: registration is single-flight per name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping

from batchops.model.observed import ObservedJobDefinition
from batchops.plans import jobdefs

Lister = Callable[[], Iterable[Mapping[str, object]]]
"""DescribeJobDefinitions(status=ACTIVE), every page."""

Holder = tuple[str, str]
"""(namespace, pipeline name): who holds a definition."""

_NAME_LOCKS = 64
"""Registration locks, striped by name: bounded memory, and unrelated names rarely wait."""


class JobDefinitionCatalog:
    """Thread-safe; shared by every pipeline loop of one account and region."""

    def __init__(
        self,
        list_active: Lister,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._list_active = list_active
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._name_locks = tuple(threading.Lock() for _ in range(_NAME_LOCKS))
        self._by_name: dict[str, dict[str, ObservedJobDefinition]] | None = None
        self._listed_at = 0.0
        self._holds: dict[Holder, set[str]] = {}

    def revisions(self, name: str) -> list[ObservedJobDefinition]:
        """The ACTIVE revisions of `name`, oldest first (listing again when stale)."""
        with self._lock:
            known = self._listing().get(name, {})
            return sorted(known.values(), key=lambda d: d.revision)

    def use(
        self,
        holder: Holder,
        wanted: jobdefs.RegisterJobDefinition,
        register: Callable[[], ObservedJobDefinition],
    ) -> str:
        """The ARN of an ACTIVE definition with `wanted`'s content, held for `holder`:
        an existing one, else the one `register` creates (once, however many ask at a time)."""
        with self._name_locks[hash(wanted.name) % _NAME_LOCKS]:
            with self._lock:
                known = self._listing().get(wanted.name, {}).values()
                found = jobdefs.pick_reusable_revision(wanted.content_hash, known)
                if found is not None:
                    self._holds.setdefault(holder, set()).add(found.arn)
                    return found.arn
            definition = register()
            with self._lock:
                self._record(definition)
                self._holds.setdefault(holder, set()).add(definition.arn)
                return definition.arn

    def release(self, holder: Holder) -> None:
        """`holder` needs none of the definitions it held (a new run, or the object is gone)."""
        with self._lock:
            self._holds.pop(holder, None)

    def take_retirable(
        self,
        scope: jobdefs.DefinitionScope,
        named_in_status: Collection[str],
        exclude: Holder | None = None,
    ) -> list[ObservedJobDefinition]:
        """Remove and return `scope`'s definitions that neither `named_in_status` nor any
        holder (but `exclude`) uses: the caller deregisters them (`jobdefs.retirable_definitions`
        is the rule)."""
        with self._lock:
            held = {arn for who, arns in self._holds.items() if who != exclude for arn in arns}
            active = [d for revisions in self._listing().values() for d in revisions.values()]
            taken = jobdefs.retirable_definitions(scope, active, {*named_in_status, *held})
            for definition in taken:
                self._forget(definition.arn)
            return taken

    def registered(self, definition: ObservedJobDefinition) -> None:
        """Record a revision this process registered (or could not deregister after all)."""
        with self._lock:
            self._record(definition)

    def deregistered(self, arn: str) -> None:
        """Record a revision this process just deregistered (it is INACTIVE now)."""
        with self._lock:
            self._forget(arn)

    def _listing(self) -> dict[str, dict[str, ObservedJobDefinition]]:
        if self._by_name is None or self._clock() - self._listed_at > self._max_age:
            self._by_name = {}
            for item in self._list_active():
                definition = ObservedJobDefinition.from_describe(item)
                self._by_name.setdefault(definition.name, {})[definition.arn] = definition
            self._listed_at = self._clock()
        return self._by_name

    def _record(self, definition: ObservedJobDefinition) -> None:
        if self._by_name is not None:
            self._by_name.setdefault(definition.name, {})[definition.arn] = definition

    def _forget(self, arn: str) -> None:
        for revisions in (self._by_name or {}).values():
            revisions.pop(arn, None)
