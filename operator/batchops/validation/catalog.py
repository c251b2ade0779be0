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
        crd = yaml.safe_load(text)
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            api_version = f"{spec['group']}/{version['name']}"
            kind = spec["names"]["kind"]
            found[(api_version, kind)] = CustomResource(
                kind, api_version, version["schema"]["openAPIV3Schema"], name
            )
    if not found:
        raise CatalogError(f"no CustomResourceDefinition found in {directory or 'the package'}")
    return Catalog(found)


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
