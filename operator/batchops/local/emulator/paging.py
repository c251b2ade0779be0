"""maxResults/nextToken pagination as the Batch list and describe operations do it."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from batchops.local.emulator.errors import client_error

T = TypeVar("T")


def page(
    items: Sequence[T], max_results: int | None, next_token: str | None, default_max: int
) -> tuple[list[T], str | None]:
    """One page of `items` and the token for the next one (None on the last page)."""
    start = _decode(next_token) if next_token else 0
    size = default_max if max_results is None else max_results
    if size < 1:
        raise client_error("maxResults must be greater than 0")
    end = start + size
    token = _encode(end) if end < len(items) else None
    return list(items[start:end]), token


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"batchops:{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        prefix, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if prefix == "batchops":
            return int(offset)
    except ValueError:
        pass
    raise client_error("Invalid nextToken")
