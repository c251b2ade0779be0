"""Which operator shard owns a namespace (`batchops run --shard i/N`).

The namespace is the unit: every reference batchops resolves (a queue's compute environments, a
step's queue, consumable resources, scheduling policies, kopf's indexes) stays inside one, so all
of a namespace's objects must be acted on by the same process. The owner is a stable hash of the
name, the same in every process and Python version: never the salted built-in `hash()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0 <= index < count)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a shard count must be at least 1, got {self.count}")
        if not 0 <= self.index < self.count:
            raise ValueError(
                f"shard index {self.index} is not in 0..{self.count - 1} "
                f"(shards of {self.count} are numbered from 0)"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`"i/N"` → Shard(i, N); a ValueError that says what is wrong otherwise."""
        index, slash, count = text.strip().partition("/")
        if not (slash and index.strip().isdecimal() and count.strip().isdecimal()):
            raise ValueError(f"a shard is written i/N with whole numbers, like 0/2; got {text!r}")
        return cls(int(index), int(count))

    def owns(self, namespace: str) -> bool:
        """True if this shard acts on the objects of `namespace`."""
        return shard_of(namespace, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(namespace: str, count: int) -> int:
    """The index of the shard (of `count`) that owns `namespace`: SHA-256 of the name, mod N."""
    return int(hashlib.sha256(namespace.encode()).hexdigest(), 16) % count
