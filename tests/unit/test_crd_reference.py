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


def test_cron_template_embeds_the_batchpipeline_spec_schema() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "embed_pipeline_schema.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_step_fields_mirroring_batch_are_generated_from_the_installed_botocore() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hack" / "batch_shapes.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
