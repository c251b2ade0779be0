"""Every bad-input corpus file against the real API server and the running operator, applied
into one namespace next to a valid pipeline: each file meets exactly the fate its header states,
none of the accepted-but-invalid objects reaches AWS, and the valid work runs unaffected."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from batchops.local.emulator import Emulator
from tests.bad_inputs.corpus import BadInput, load_corpus
from tests.conftest import Kubectl
from tests.e2e.builders import jobs_named, pipeline, step, wait_phase
from tests.waits import wait_for

RESOURCES = "bce,bjq,bsp,bcr,bpl,cpl,bacct"
CLUSTER_SCOPED = {"BatchAccount"}
"""Kinds without a namespace: their events are posted in `default`."""


def _apply(kubectl: Kubectl, namespace: str, case: BadInput) -> tuple[BadInput, int, str]:
    result = kubectl.run("apply", "-n", namespace, "-f", str(case.path), check=False)
    return case, result.returncode, result.stderr


def _stalled_as_expected(
    objects: dict[tuple[str, str], dict[str, Any]],
    warnings: set[tuple[str, str]],
    case: BadInput,
) -> bool:
    obj = objects.get((case.kind, case.name))
    if obj is None:
        return False
    conditions = {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}
    stalled = conditions.get("Stalled") or {}
    return (
        stalled.get("status") == "True"
        and stalled.get("reason") == case.reason
        and case.fragment in stalled.get("message", "")
        and (case.name, str(case.reason)) in warnings
    )


def test_each_bad_input_is_rejected_or_stalled_and_valid_work_runs_on(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator, batch: Any
) -> None:
    corpus = load_corpus()
    cluster_scoped = [c for c in corpus if c.kind in CLUSTER_SCOPED and c.outcome == "failed"]
    kubectl.apply(pipeline("valid-chain", [step("a"), step("b", "a"), step("c", "b")]), namespace)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            applied = list(pool.map(lambda case: _apply(kubectl, namespace, case), corpus))
        _each_meets_its_fate(kubectl, namespace, emulator, batch, corpus, applied)
    finally:
        for case in cluster_scoped:  # the namespace's deletion does not take these along
            kubectl.run("delete", "bacct", case.name, "--ignore-not-found", check=False)


def _each_meets_its_fate(
    kubectl: Kubectl,
    namespace: str,
    emulator: Emulator,
    batch: Any,
    corpus: list[BadInput],
    applied: list[tuple[BadInput, int, str]],
) -> None:
    for case, code, stderr in applied:
        if case.outcome == "rejected":
            assert code != 0, f"{case.path.name} was accepted"
            assert case.fragment in stderr, f"{case.path.name}: {stderr}"
        else:
            assert code == 0, f"{case.path.name} was refused: {stderr}"

    failed = [case for case in corpus if case.outcome == "failed"]

    def all_stalled() -> list[BadInput] | None:
        items = kubectl.get_json(RESOURCES, "-n", namespace)["items"]
        objects = {(o["kind"], o["metadata"]["name"]): o for o in items}
        warnings = set()
        for events_namespace in (namespace, "default"):
            events = kubectl.get_json(
                "events", "-n", events_namespace, "--field-selector=type=Warning"
            )
            warnings |= {(e["involvedObject"]["name"], e["reason"]) for e in events["items"]}
        waiting = [c for c in failed if not _stalled_as_expected(objects, warnings, c)]
        return None if waiting else failed

    try:
        wait_for(all_stalled, timeout=30, interval=0.5, message="every 'failed' case to stall")
    except AssertionError:
        items = kubectl.get_json(RESOURCES, "-n", namespace)["items"]
        raise AssertionError(json.dumps([o.get("status") for o in items], indent=1)) from None

    assert wait_phase(kubectl, namespace, "valid-chain", "Succeeded")["progress"] == "3/3"
    counters = emulator.counters()
    # The queue fixture's one compute environment and queue, and the valid chain's three jobs
    # and three job definitions (named by content, so names alone would not tell).
    assert counters.get("CreateComputeEnvironment") == 1
    assert counters.get("CreateJobQueue") == 1
    assert counters.get("SubmitJob") == 3
    assert counters.get("RegisterJobDefinition") == 3
    aws_names = [
        *(
            ce["computeEnvironmentName"]
            for ce in batch.describe_compute_environments()["computeEnvironments"]
        ),
        *(q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]),
        *(d["jobDefinitionName"] for d in batch.describe_job_definitions()["jobDefinitions"]),
    ]
    for case in failed:
        assert not [name for name in aws_names if case.name in name], case.name
        assert jobs_named(batch, case.name) == []
