"""The CRDs validate checks against, found next to the code so an installed `batchops` has them.

`crds/` at the repository root is the single source. `batchops/validation/crds` is a symlink to
it, shipped as package data (`[tool.setuptools.package-data]`), so `importlib.resources` finds
the same files in a checkout, an editable install and a wheel. `--crds DIR` overrides both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

GROUP = "batchops.io"
# Where the files are when the package data is missing (an install made before the CRDs were
# package data): the repository checkout this module sits in.
_CHECKOUT_CRDS = Path(__file__).resolve().parents[3] / "crds"
# libyaml's safe loader when PyYAML was built with it: the CRDs are thousands of lines, and the
# pure-Python loader took most of a validate run reading them.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(RuntimeError):
    """The CRD files could not be found or read."""


@dataclass(frozen=True)
class CustomResource:
    """One served version of one kind: its structural schema and where it came from."""

    kind: str
    api_version: str
    schema: Mapping[str, Any]
    """The version's openAPIV3Schema, as written in the CRD."""
    crd_file: str


@dataclass(frozen=True)
class Catalog:
    """Every batchops kind and version the CRDs serve, by (apiVersion, kind)."""

    resources: Mapping[tuple[str, str], CustomResource]

    @property
    def kinds(self) -> frozenset[str]:
        """Kinds of the group, whatever the version."""
        return frozenset(kind for _, kind in self.resources)

    def lookup(self, api_version: str, kind: str) -> CustomResource | None:
        """The served version of a kind, or None."""
        return self.resources.get((api_version, kind))


def load_catalog(directory: Path | None = None) -> Catalog:
    """Read the CRDs from `directory`, else from the package data, else from the checkout."""
    found: dict[tuple[str, str], CustomResource] = {}
    for name, text in _crd_texts(directory):
        path = str(directory / name) if directory is not None else name
        try:
            documents = list(yaml.load_all(text, Loader=_LOADER))
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path}: not valid YAML: {exc}") from None
        for crd in documents:
            # Other objects (a Deployment, a kustomize patch) and other groups' CRDs are skipped.
            if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
                continue
            try:
                found.update(_served_versions(crd, name))
            except (KeyError, TypeError) as exc:
                raise CatalogError(
                    f"{path}: CustomResourceDefinition {_crd_name(crd)} lacks {exc}"
                ) from None
    if not found:
        where = directory or "the package"
        raise CatalogError(f"no {GROUP} CustomResourceDefinition found in {where}")
    return Catalog(found)


def _served_versions(crd: Mapping[str, Any], name: str) -> dict[tuple[str, str], CustomResource]:
    spec = crd["spec"]
    if spec["group"] != GROUP:
        return {}
    kind = spec["names"]["kind"]
    return {
        (f"{GROUP}/{version['name']}", kind): CustomResource(
            kind, f"{GROUP}/{version['name']}", version["schema"]["openAPIV3Schema"], name
        )
        for version in spec["versions"]
        if version.get("served", True)
    }


def _crd_name(crd: Mapping[str, Any]) -> str:
    metadata = crd.get("metadata")
    return str(metadata.get("name", "?")) if isinstance(metadata, Mapping) else "?"


def _crd_texts(directory: Path | None) -> Iterator[tuple[str, str]]:
    root: Traversable
    if directory is not None:
        root = directory
    else:
        packaged = resources.files(__package__ or "batchops.validation") / "crds"
        root = packaged if packaged.is_dir() else _CHECKOUT_CRDS
    if not root.is_dir():
        raise CatalogError(f"CRD directory {root} not found; pass --crds <dir>")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            yield entry.name, entry.read_text(encoding="utf-8")
