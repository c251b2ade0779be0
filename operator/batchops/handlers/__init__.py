"""kopf registrations, one module per kind. Importing this package registers every handler."""

from __future__ import annotations

from batchops.handlers import (
    account,
    capacity,
    compute,
    consumable,
    cron,
    pipeline,
    queue,
    scheduling,
    startup,
)

__all__ = [
    "account",
    "capacity",
    "compute",
    "consumable",
    "cron",
    "pipeline",
    "queue",
    "scheduling",
    "startup",
]
