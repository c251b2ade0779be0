"""Operator-wide kopf settings: our finalizer, our annotation prefix, watch timeouts."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from batchops.model import keys


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's bookkeeping under our own names and make watches recover quickly."""
    settings.persistence.finalizer = keys.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=keys.PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=keys.PREFIX, key=keys.KOPF_DIFFBASE_KEY
    )
    # Our own events carry the useful messages; kopf's per-handler chatter stays in the log.
    settings.posting.level = logging.WARNING
    # Reconnect watches before load balancers silently drop them.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60
