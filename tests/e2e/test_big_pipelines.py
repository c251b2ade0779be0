"""A pipeline too big for full step entries, through the real API server (its etcd refuses
objects past 1.5 MiB) and the emulator: the run finishes, once per step, its usage whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchops.local.emulator import Emulator
from tests.conftest import Kubectl
from tests.e2e.builders import jobs_named, pipeline, wait_phase

LEAVES = 1200
"""Full entries of 1,201 finished steps take about 1.5 MB: without compaction the status could
not be written once most of them finished."""

ETCD_LIMIT = 1572864
"""etcd's default --max-request-bytes (1.5 MiB), which the local control plane keeps."""


@pytest.fixture
def jobs_run_a_second(emulator: Emulator) -> None:
    """Each job reserves measurable vCPU-seconds and carries a history entry of its attempt."""
    emulator.set_scenario(rules=[{"jobName": "*", "attempt": None, "durationSeconds": 20}])


def test_a_1201_step_fan_out_runs_to_the_end_under_the_object_size_limit(
    kubectl: Kubectl, namespace: str, queue: str, batch: Any, jobs_run_a_second: None
) -> None:
    leaves = [{"name": f"leaf{i:04d}", "dependsOn": ["start"]} for i in range(LEAVES)]
    manifest = pipeline(
        "wide",
        [{"name": "start"}, *leaves],
        defaults={"command": ["true"], "vcpus": 1, "memory": 512},
    )
    kubectl.apply(manifest, namespace)
    status = wait_phase(kubectl, namespace, "wide", "Succeeded", timeout=240)

    stored = kubectl.get_json("bpl/wide", "-n", namespace, "--show-managed-fields")
    assert len(json.dumps(stored, separators=(",", ":"))) < ETCD_LIMIT
    entries = status["steps"]
    compacted = [entry for entry in entries if entry.get("compacted")]
    assert status["compacted"]["steps"] == len(compacted) > 0
    assert all(set(entry) == {"name", "status", "jobId", "compacted"} for entry in compacted)
    assert status["progress"] == f"{LEAVES + 1}/{LEAVES + 1}"
    # Exactly once: one Batch job per step, and status names each of them.
    ids = {entry["jobId"] for entry in entries}
    submitted = jobs_named(batch, "wide-")
    assert len(submitted) == LEAVES + 1 and {job["jobId"] for job in submitted} == ids
    # The run's usage still counts the compacted steps: theirs is carried in one sum.
    full = sum(entry["usage"]["vcpuSeconds"] for entry in entries if not entry.get("compacted"))
    carried = status["compacted"]["usage"]["vcpuSeconds"]
    assert carried > 0
    assert status["usage"]["vcpuSeconds"] == pytest.approx(full + carried, abs=0.1 * len(entries))
