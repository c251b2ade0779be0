"""Names for imported objects: Kubernetes object names and step names from AWS names.

AWS names allow upper case and underscores (`env_72`, `Job1`), Kubernetes object names don't
(`env-72`). The AWS name itself stays in `spec.name`, so the object name only has to be
readable and unique.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping

_LABEL_MAX = 63
"""DNS-1123 label length: object names end up in labels and job names, so stay within it."""
_NOT_IN_LABEL = re.compile(r"[^a-z0-9-]+")
_NOT_IN_STEP_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_HASH_LEN = 8


def object_name(aws_name: str) -> str:
    """A DNS-1123 label for an AWS name: lower case, runs of other characters become `-`."""
    cleaned = _NOT_IN_LABEL.sub("-", aws_name.lower()).strip("-")
    return cleaned[:_LABEL_MAX].rstrip("-") or "imported"


def step_name(job_definition_name: str) -> str:
    """A BatchPipeline step name (letters, digits, `-`, `_`; up to 63) for a job definition."""
    cleaned = _NOT_IN_STEP_NAME.sub("-", job_definition_name).strip("-_")
    return cleaned[:_LABEL_MAX] or "step"


def object_names(originals: Iterable[str]) -> Mapping[str, str]:
    """Unique object names for AWS names, in the given order (see `_unique`)."""
    return _unique(originals, object_name)


def step_names(originals: Iterable[str]) -> Mapping[str, str]:
    """Unique step names for job definition names, in the given order (see `_unique`)."""
    return _unique(originals, step_name)


def _unique(originals: Iterable[str], clean: Callable[[str], str]) -> Mapping[str, str]:
    # `env_72` and `env-72` both clean to `env-72`: the later one gets a hash of its original
    # name, so the mapping is deterministic for a given order and never merges two resources.
    names: dict[str, str] = {}
    taken: set[str] = set()
    for original in originals:
        name = clean(original)
        if name in taken:
            digest = hashlib.sha256(original.encode()).hexdigest()[:_HASH_LEN]
            name = f"{name[: _LABEL_MAX - _HASH_LEN - 1].rstrip('-_')}-{digest}"
        taken.add(name)
        names[original] = name
    return names
