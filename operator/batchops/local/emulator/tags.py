"""Tags of Batch resources (compute environments, queues, scheduling policies, consumable
resources, job definitions, jobs), by ARN."""

from __future__ import annotations


class TagStore:
    """Tags per resource ARN; a resource's tags go when the resource goes."""

    def __init__(self) -> None:
        self._tags: dict[str, dict[str, str]] = {}

    def add(self, arn: str, tags: dict[str, str] | None) -> None:
        """Add or overwrite tags (TagResource, and tags on create)."""
        self._tags.setdefault(arn, {}).update(tags or {})

    def remove(self, arn: str, keys: list[str]) -> None:
        """Remove these tag keys (UntagResource)."""
        current = self._tags.get(arn, {})
        for key in keys:
            current.pop(key, None)

    def of(self, arn: str) -> dict[str, str]:
        """A copy of a resource's tags."""
        return dict(self._tags.get(arn, {}))

    def forget(self, arn: str) -> None:
        """Drop a deleted resource's tags."""
        self._tags.pop(arn, None)

    def clear(self) -> None:
        """Drop every tag (emulator reset)."""
        self._tags.clear()
