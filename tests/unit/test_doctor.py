"""`batchops doctor` on a machine a newcomer might have: each problem found, its fix printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchops.cli import main


def fake_binary(directory: Path, name: str, script: str) -> None:
    """An executable `name` in `directory` that runs a shell script."""
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)


def test_missing_go_and_an_old_kubectl_each_print_the_fix_and_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old_client = json.dumps(
        {"clientVersion": {"major": "1", "minor": "29", "gitVersion": "v1.29.3"}}
    )
    fake_binary(tmp_path, "kubectl", f"echo '{old_client}'")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `go` anywhere

    code = main(["doctor", "--skip-cluster", "--skip-aws"])

    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL go: not found on PATH" in out
    assert "fix: install Go 1.26 or newer" in out
    assert "FAIL kubectl: client 1.29 is older than 1.31" in out
    assert "fix: install kubectl 1.31 or newer" in out


def test_an_old_api_server_is_named_with_the_version_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = json.dumps(
        {"clientVersion": {"gitVersion": "v1.32.0"}, "serverVersion": {"gitVersion": "v1.29.1"}}
    )
    fake_binary(tmp_path, "kubectl", f"echo '{versions}'")
    fake_binary(tmp_path, "go", "echo go version go1.26.0 linux/amd64")
    monkeypatch.setenv("PATH", str(tmp_path))

    code = main(["doctor", "--skip-aws"])

    out = capsys.readouterr().out
    assert code == 1
    assert "ok   go" in out and "ok   kubectl: client 1.32" in out
    assert "FAIL api server: Kubernetes 1.29 is older than 1.30" in out
    assert "fix: upgrade the cluster to Kubernetes 1.30+" in out
