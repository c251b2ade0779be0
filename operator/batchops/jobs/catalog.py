"""The job definitions of one region, listed once and then kept current by our own writes.

Resolving a pipeline's inline steps used to cost a DescribeJobDefinitions per step (one name per
call is all the API takes) before any SubmitJob: two thirds of the operator's AWS calls in the
benchmark. The catalog lists every ACTIVE definition in one paged sweep on first use, records
each revision this process registers or deregisters, and lists again after `max_age` so that
changes made elsewhere (another replica before a failover, a person) are picked up. A name
missing from a fresh listing has no ACTIVE revision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from batchops.model.observed import ObservedJobDefinition

Lister = Callable[[], Iterable[Mapping[str, object]]]
"""DescribeJobDefinitions(status=ACTIVE), every page."""


class JobDefinitionCatalog:
    """Thread-safe; shared by every pipeline loop of one region."""

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
        self._by_name: dict[str, dict[str, ObservedJobDefinition]] | None = None
        self._listed_at = 0.0

    def revisions(self, name: str) -> list[ObservedJobDefinition]:
        """The ACTIVE revisions of `name`, oldest first (listing again when stale)."""
        with self._lock:
            if self._by_name is None or self._clock() - self._listed_at > self._max_age:
                self._by_name = {}
                for item in self._list_active():
                    definition = ObservedJobDefinition.from_describe(item)
                    self._by_name.setdefault(definition.name, {})[definition.arn] = definition
                self._listed_at = self._clock()
            known = self._by_name.get(name, {})
            return sorted(known.values(), key=lambda d: d.revision)

    def registered(self, definition: ObservedJobDefinition) -> None:
        """Record a revision this process just registered."""
        with self._lock:
            if self._by_name is not None:
                self._by_name.setdefault(definition.name, {})[definition.arn] = definition

    def deregistered(self, arn: str) -> None:
        """Record a revision this process just deregistered (it is INACTIVE now)."""
        with self._lock:
            for revisions in (self._by_name or {}).values():
                revisions.pop(arn, None)
