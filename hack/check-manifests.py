#!/usr/bin/env python3
"""Apply manifests to a throwaway local control plane and report what the API server says.

Usage: .venv/bin/python hack/check-manifests.py crds/batchpipelines.yaml [more.yaml ...]
CRDs are applied first and waited for (Established); then every other file, server-side.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from batchops.local.cluster import LocalCluster


def main(paths: list[str]) -> int:
    crd_files = [p for p in paths if any(
        d and d.get("kind") == "CustomResourceDefinition"
        for d in yaml.safe_load_all(Path(p).read_text()))]  # fmt: skip
    other = [p for p in paths if p not in crd_files]
    failed = False
    with LocalCluster() as cluster:
        kubectl = ["kubectl", f"--kubeconfig={cluster.kubeconfig}"]
        for group in (crd_files, other):
            for path in group:
                result = subprocess.run([*kubectl, "apply", "--server-side", "-f", path],
                                        capture_output=True, text=True)  # fmt: skip
                print(f"--- {path}: exit {result.returncode}\n{result.stdout}{result.stderr}")
                failed |= result.returncode != 0
            if group is crd_files and crd_files:
                result = subprocess.run([*kubectl, "wait", "--for=condition=Established",
                                         "--timeout=30s", "crd", "--all"],
                                        capture_output=True, text=True)  # fmt: skip
                print(result.stdout + result.stderr)
                failed |= result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
