"""The README's CRD reference is generated from the CRDs and never stale."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_crd_reference_matches_the_crds() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "crd_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
