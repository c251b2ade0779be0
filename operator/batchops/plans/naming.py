"""AWS names for objects: Batch-safe, unique, and stable across operator restarts.

Batch names compute environments, job queues, scheduling policies and job definitions alike: up
to 128 letters, numbers, hyphens and underscores, starting with a letter or number.
"""

from __future__ import annotations

import hashlib
import re

AWS_NAME_MAX = 128
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LEN = 8


def short_hash(text: str) -> str:
    """A short, stable hash to tell names apart."""
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_LEN]


def with_suffix(base: str, suffix: str) -> str:
    """`base-suffix`, `base` cut so the whole fits AWS_NAME_MAX."""
    return f"{base[: AWS_NAME_MAX - len(suffix) - 1]}-{suffix}"


def aws_name(namespace: str, name: str, spec_name: str | None) -> str:
    """The AWS name of an object: spec.name if set, else `<namespace>-<name>` made Batch-safe.

    Characters Batch rejects (a Kubernetes name may contain dots) become hyphens; whenever that
    or truncation to 128 characters changed the name, a hash of the original is appended, so two
    objects never share an AWS name.
    """
    if spec_name:
        return spec_name
    raw = f"{namespace}-{name}"
    cleaned = _NOT_ALLOWED.sub("-", raw).lstrip("-_")
    if cleaned == raw and len(raw) <= AWS_NAME_MAX:
        return raw
    return with_suffix(cleaned or "x", short_hash(raw))
