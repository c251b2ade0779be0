"""Operator-wide kopf settings: our finalizer, our annotation prefix, watch timeouts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

import kopf

from batchops.model import keys

_NO_ESSENCE = cast(kopf.BodyEssence, {})


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff base for kopf: every object looks unchanged to it, so it calls no on.create or
    on.update handler (batchops registers none; loops wake on a new metadata.generation, see
    loops.Loops). kopf's default would deep-copy each event's whole body (status included)
    to compute a diff nobody reads, and write the spec into an annotation of every object: one
    more PATCH per object, and the spec twice in every body the operator holds."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        """The same (empty) essence for every body."""
        return _NO_ESSENCE

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence:
        """The same (empty) essence: never "created", never "updated"."""
        return _NO_ESSENCE

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        """Nothing to keep."""


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's bookkeeping under our own names and make watches recover quickly."""
    settings.persistence.finalizer = keys.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=keys.PREFIX)
    settings.persistence.diffbase_storage = NoDiffBase()
    # Our own events carry the useful messages; kopf's per-handler chatter stays in the log.
    settings.posting.level = logging.WARNING
    # Reconnect watches before load balancers silently drop them.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60


@kopf.on.cleanup()
async def end_loops(memo: Any, **_: Any) -> None:
    """The operator is stopping: every object's loop ends (passes in flight may finish)."""
    await memo.context.loops.close()
