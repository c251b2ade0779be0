"""kopf registrations, one module per kind. Importing this package registers every handler."""

from __future__ import annotations

from batchops.handlers import startup

__all__ = ["startup"]
