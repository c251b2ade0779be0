"""Evaluated Terraform attributes read into the operator's spec model, placeholders included.

The model is typed (an int is an int), but an attribute may be an `Unknown`: strings take the
placeholder text directly, while numbers and enums hold a stand-in in the model and the
placeholder is recorded by field path, then written over the stand-in in the manifest
(`patched`). One reader serves every resource type, so every placeholder looks the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from batchops.importing.expression_values import JsonDocument, Unknown, has_unknown, text_of
from batchops.importing.manifests import ImportedObject
from batchops.importing.placeholders import MARK, placeholder_batch_name, placeholder_text
from batchops.importing.terraform_instances import META, ResourceInstance
from batchops.model.common import frozen_map

_E = TypeVar("_E")

STAND_IN = 1
"""A number written into the model where the manifest will get a placeholder instead."""


class AttributeReader:
    """Reads one instance's evaluated attributes into the model. A value that is unknown
    becomes a placeholder: strings directly, numbers and enums through `patches` (the model
    holds a stand-in, the manifest gets the placeholder at that field path)."""

    def __init__(self, instance: ResourceInstance, region: str | None) -> None:
        self.instance = instance
        self.region = region
        self.patches: dict[str, str] = {}
        self.notes: list[str] = []

    def text(self, value: object) -> str | None:
        """A string attribute; unknown parts are placeholders."""
        if value is None:
            return None
        if isinstance(value, Unknown):
            return placeholder_text(value.expression)
        if isinstance(value, JsonDocument) or not isinstance(value, (list, dict)):
            if has_unknown(value):
                return placeholder_text("jsonencode(...) with unknown parts")
            return text_of(value)
        return placeholder_text(text_of(value))

    def texts(self, value: object) -> tuple[str, ...] | None:
        """A list of strings (a whole-list expression is one placeholder element)."""
        if value is None:
            return None
        if isinstance(value, list):
            return tuple(self.text(item) or "" for item in value)
        return (self.text(value) or "",)

    def batch_name(self, value: object) -> str | None:
        """A name the CRD checks against Batch's name pattern."""
        if isinstance(value, Unknown):
            return placeholder_batch_name(value.expression)
        text = self.text(value)
        if text is not None and MARK in text:
            return placeholder_batch_name(text.replace(f"<{MARK} ", "").replace(f"{MARK} ", ""))
        return text

    def integer(self, body: Mapping[str, Any], key: str, field: str) -> int | None:
        """A number attribute; an unknown one is a placeholder at `field` of the manifest."""
        value = body.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        self.patches[field] = (
            placeholder_text(value.expression)
            if isinstance(value, Unknown)
            else placeholder_text(f"{key} = {value!r} is not a number")
        )
        return STAND_IN

    def number(self, body: Mapping[str, Any], key: str, field: str) -> float | None:
        """A number attribute that may have a fraction (a weight); an unknown one is a
        placeholder at `field` of the manifest."""
        value = body.get(key)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        if isinstance(value, Unknown):
            self.patches[field] = placeholder_text(value.expression)
            return float(STAND_IN)
        try:
            return float(str(value))
        except ValueError:
            self.patches[field] = placeholder_text(f"{key} = {value!r} is not a number")
            return float(STAND_IN)

    def choice(
        self, value: object, key: str, enum: Callable[[str], _E], default: str, field: str
    ) -> _E:
        """An enum attribute (Terraform accepts any case; Batch's values are upper case)."""
        if isinstance(value, Unknown):
            self.patches[field] = placeholder_text(value.expression)
            return enum(default)
        text = default if value is None else text_of(value).upper()
        try:
            return enum(text)
        except ValueError:
            self.patches[field] = placeholder_text(f"{key} = {value!r} is not supported")
            return enum(default)

    def tags(self, value: object) -> Mapping[str, str] | None:
        """A map of strings; an unknown map is one placeholder entry."""
        if value is None:
            return None
        if isinstance(value, Mapping):
            return frozen_map({str(k): self.text(v) or "" for k, v in value.items()})
        return frozen_map({MARK: self.text(value) or ""})


def patched(
    imported: ImportedObject, read: AttributeReader, notes: Sequence[str]
) -> ImportedObject:
    """The object with the reader's placeholders written over the model's stand-ins."""
    manifest = imported.manifest
    for field, placeholder in read.patches.items():
        # `spec.fairsharePolicy.shareDistribution[0].weightFactor`: keys and list indexes.
        *parents, leaf = field.replace("[", ".[").split(".")
        target: Any = manifest
        for parent in parents:
            if parent.startswith("["):
                index = int(parent[1:-1])
                target = target[index] if isinstance(target, list) and index < len(target) else None
            else:
                target = target.get(parent) if isinstance(target, dict) else None
        if isinstance(target, dict) and leaf in target:
            target[leaf] = placeholder
    all_notes = (*read.instance.notes, *notes, *read.notes, *imported.notes)
    return ImportedObject(manifest, imported.source, tuple(dict.fromkeys(all_notes)))


def unmapped(body: Mapping[str, Any], known: frozenset[str], prefix: str = "") -> list[str]:
    """A note for each attribute of `body` batchops has no field for."""
    return [
        f"{prefix}{key} not imported: batchops has no field for it"
        for key in body
        if key not in known and key not in META
    ]
