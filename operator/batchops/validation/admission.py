"""The API server's own checks of `metadata`, which no CRD states.

The CRDs' rules are not repeated here: their structural schemas are checked by
`batchops.validation.schema` and their CEL rules evaluated by `batchops.validation.cel_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from batchops.validation.paths import FieldPath

Finding = tuple[FieldPath, str]

_DNS_SUBDOMAIN: Final = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_MAX_NAME: Final = 253


def metadata_findings(body: Mapping[str, Any]) -> Iterator[Finding]:
    """What the API server checks of every object's name before any schema."""
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        yield ("metadata", "name"), "Required value: name is required"
    elif len(name) > _MAX_NAME or not _DNS_SUBDOMAIN.match(name):
        yield (
            ("metadata", "name"),
            (
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                "case alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character"
            ),
        )
