"""Small types shared by every kind: spec errors, deletion policy, conditions, object references.

Raw dicts from the Kubernetes API are read once, with `FieldReader`, which names the exact field
path in every error so that the Warning event and the `Stalled` condition can point at it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, TypedDict

ConditionStatus = Literal["True", "False", "Unknown"]


def _interned_strings_die() -> bool:
    """Whether this interpreter frees an interned string with its last reference. CPython 3.11
    and 3.13 do; 3.12 makes every interned string immortal, so interning each job id there
    would keep every id the operator ever saw."""
    probe = sys.intern("".join(("batchops-probe-", str(id(object())))))
    return sys.getrefcount(probe) < 1 << 20


_INTERNED_STRINGS_DIE = _interned_strings_die()


def shared_str(text: str) -> str:
    """One string object for equal texts held at once, process-wide: a queue ARN, a job
    definition ARN or a status reason is the same for thousands of tracked jobs. `sys.intern`
    keeps a table that does not hold its strings alive (where `_interned_strings_die`;
    elsewhere the text is returned as is). Each string shared is an entry in that table, so
    only values that repeat are worth it."""
    return sys.intern(text) if _INTERNED_STRINGS_DIE else text


class FieldError(ValueError):
    """A field of a raw document is missing or has the wrong shape."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


class SpecError(FieldError):
    """The object's spec is invalid in a way the CRD schema cannot express; a human must fix it."""


class DeletionPolicy(StrEnum):
    """What happens in AWS when the Kubernetes object is deleted."""

    DELETE = "Delete"
    RETAIN = "Retain"


class ResourceState(StrEnum):
    """The `state` of a compute environment or job queue (CEState / JQState)."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class ObjectRef:
    """A reference to another object of the operator, e.g. a queue's compute environment."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class ConditionDict(TypedDict):
    """A condition as stored in `status.conditions` (metav1.Condition's JSON shape)."""

    type: str
    status: ConditionStatus
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


@dataclass(frozen=True)
class Condition:
    """One metav1.Condition; `last_transition_time` changes only when `status` changes."""

    type: str
    status: ConditionStatus
    reason: str
    message: str
    last_transition_time: datetime
    observed_generation: int

    def to_status(self) -> ConditionDict:
        """The JSON shape for a status patch."""
        return {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": format_time(self.last_transition_time),
            "observedGeneration": self.observed_generation,
        }

    @classmethod
    def from_status(cls, raw: Mapping[str, object]) -> Condition:
        """Read one entry of `status.conditions` as written by `to_status`."""
        reader = FieldReader(raw, "status.conditions[]", error=FieldError)
        return cls(
            type=reader.req_str("type"),
            status=_CONDITION_STATUSES[reader.enum("status", tuple(_CONDITION_STATUSES))],
            reason=reader.opt_str("reason") or "",
            message=reader.opt_str("message") or "",
            last_transition_time=reader.opt_time("lastTransitionTime") or EPOCH,
            observed_generation=reader.opt_int("observedGeneration") or 0,
        )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONDITION_STATUSES: Mapping[str, ConditionStatus] = {
    "True": "True",
    "False": "False",
    "Unknown": "Unknown",
}


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, the format Kubernetes uses for metav1.Time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (as written by `format_time` or Kubernetes)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def frozen_map(items: Mapping[str, str] | None) -> Mapping[str, str]:
    """An immutable copy, so frozen dataclasses stay frozen all the way down."""
    return types.MappingProxyType(dict(items or {}))


def empty_map() -> Mapping[str, str]:
    """Default factory for map fields of frozen dataclasses."""
    return frozen_map(None)


class FieldReader:
    """Typed access to one object of a raw document; errors name the full field path.

    `req_*` raise when the key is missing, `opt_*` return None; both raise on a wrong type.
    """

    def __init__(
        self, raw: Mapping[str, object], path: str, *, error: type[FieldError] = SpecError
    ) -> None:
        self._raw = raw
        self.path = path
        self._error = error

    def fail(self, key: str, message: str) -> FieldError:
        """An error about `key` of this object, for checks the reader itself cannot make."""
        return self._error(self._at(key), message)

    def has(self, key: str) -> bool:
        """Whether `key` is present and not null."""
        return self._raw.get(key) is not None

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if value is None:
            raise self.fail(key, "is required")
        return value

    def opt_str(self, key: str) -> str | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        return value

    def enum(self, key: str, allowed: Sequence[str], default: str | None = None) -> str:
        value = self.opt_str(key)
        if value is None:
            if default is None:
                raise self.fail(key, "is required")
            return default
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def opt_enum(self, key: str, allowed: Sequence[str]) -> str | None:
        return self.enum(key, allowed) if self.has(key) else None

    def req_int(self, key: str) -> int:
        value = self.opt_int(key)
        if value is None:
            raise self.fail(key, "is required")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, not {type(value).__name__}")
        return value

    def opt_float(self, key: str) -> float | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {type(value).__name__}")
        return float(value)

    def opt_bool(self, key: str) -> bool | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.fail(key, f"must be a boolean, not {type(value).__name__}")
        return value

    def opt_time(self, key: str) -> datetime | None:
        text = self.opt_str(key)
        if text is None:
            return None
        try:
            return parse_time(text)
        except ValueError as exc:
            raise self.fail(key, f"is not an RFC 3339 timestamp: {exc}") from exc

    def opt_str_list(self, key: str) -> tuple[str, ...] | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def opt_str_map(self, key: str) -> Mapping[str, str] | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.fail(key, "must be a map of strings to strings")
        return frozen_map(value)

    def opt_obj(self, key: str) -> FieldReader | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be an object")
        return FieldReader(value, self._at(key), error=self._error)

    def obj_list(self, key: str) -> list[FieldReader] | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.fail(key, "must be a list of objects")
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self._error(f"{self._at(key)}[{index}]", "must be an object")
            readers.append(FieldReader(item, f"{self._at(key)}[{index}]", error=self._error))
        return readers

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


RESERVED_TAG_PREFIX = "aws:"


def check_tags(reader: FieldReader, key: str) -> Mapping[str, str]:
    """Read a tag map; AWS reserves the `aws:` prefix, which the CRD schema cannot check cheaply."""
    tags = reader.opt_str_map(key) or frozen_map(None)
    reserved = sorted(k for k in tags if k.lower().startswith(RESERVED_TAG_PREFIX))
    if reserved:
        raise reader.fail(key, f"tag keys starting with 'aws:' are reserved by AWS: {reserved}")
    return tags


class ManagedFields(TypedDict):
    """What every AWS-backed kind's spec has beside AWS's own fields: its tags and the
    operator's name, region, deletionPolicy, adopt and accountRef."""

    tags: Mapping[str, str]
    name: str | None
    region: str | None
    deletion_policy: DeletionPolicy
    adopt: bool
    account_ref: str | None


def read_managed_fields(spec: FieldReader) -> ManagedFields:
    """Parse those fields the one way every infrastructure kind does."""
    return ManagedFields(
        tags=check_tags(spec, "tags"),
        name=spec.opt_str("name"),
        region=spec.opt_str("region"),
        deletion_policy=DeletionPolicy(
            spec.enum("deletionPolicy", list(DeletionPolicy), default="Delete")
        ),
        adopt=bool(spec.opt_bool("adopt")),
        account_ref=spec.opt_str("accountRef"),
    )


PLACEHOLDER_MARK = "REPLACE-ME"
"""What `batchops import` writes where it could not know a value; a human must replace it."""


def placeholder_paths(raw: object, path: str = "spec") -> list[str]:
    """Field paths (`spec.computeResources.subnets[0]`) whose value still holds an import
    placeholder: the operator acts on none of them, `batchops validate` reports each."""
    if isinstance(raw, str):
        return [path] if PLACEHOLDER_MARK in raw else []
    if isinstance(raw, Mapping):
        return [p for key, value in raw.items() for p in placeholder_paths(value, f"{path}.{key}")]
    if isinstance(raw, list | tuple):
        return [
            p for index, item in enumerate(raw) for p in placeholder_paths(item, f"{path}[{index}]")
        ]
    return []


def placeholder_message(paths: Sequence[str]) -> str:
    """Why an object holding import placeholders is not acted on."""
    return (
        f"{', '.join(paths)}: still holds a {PLACEHOLDER_MARK} placeholder from batchops import; "
        "fill in the real value"
    )
