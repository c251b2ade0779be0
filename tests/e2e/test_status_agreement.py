"""kstatus (Flux, kpt, cli-utils) and Argo CD read live batchops objects alike, in every phase.

One test drives objects of every kind into every phase at once, on the real API server with the
operator and the emulator, and on every snapshot it reads computes kstatus's verdict
(tests/kstatus.py) and runs the shipped Argo CD health check (tests/argocd.py) on the same
object. The stored-object and per-phase unit cases are in tests/unit/test_status_agreement.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from batchops.local.emulator import Emulator
from tests import argocd, kstatus
from tests.conftest import Kubectl
from tests.e2e.builders import pipeline, pipeline_status, step, steps_by_name
from tests.waits import wait_for

Key = tuple[str, str]
"""(kind, name) of one object in the test namespace."""


def _cron(name: str, schedule: str, **spec: Any) -> str:
    template = {"spec": {"queue": "q", "image": "busybox:latest", "steps": [step("a")]}}
    return json.dumps(
        {
            "apiVersion": "batchops.io/v1alpha1",
            "kind": "CronPipeline",
            "metadata": {"name": name},
            "spec": {"schedule": schedule, "pipelineTemplate": template, **spec},
        }
    )


def _verdicts(obj: Mapping[str, Any]) -> tuple[kstatus.KStatus, str]:
    return kstatus.compute(obj).status, argocd.health(obj).status


def _request_pending(obj: Mapping[str, Any]) -> bool:
    """A run-now or rerun annotation the operator has not acted on yet: Argo CD reads it,
    kstatus cannot (see KNOWN_DIVERGENCES in the unit tests)."""
    annotations = obj["metadata"].get("annotations") or {}
    status = obj.get("status") or {}
    trigger = annotations.get("batchops.io/trigger")
    rerun = annotations.get("batchops.io/rerun")
    return bool(
        (trigger and trigger != status.get("lastTrigger"))
        or (rerun and rerun != status.get("rerunToken"))
    )


def test_kstatus_and_argo_cd_agree_on_live_objects_of_every_kind_in_every_phase(
    kubectl: Kubectl, namespace: str, queue: str, emulator: Emulator
) -> None:
    emulator.set_scenario(
        rules=[
            {"jobName": "bad-*", "attempt": None, "durationSeconds": 0.2, "exitCode": 3},
            {"jobName": "cf-*", "attempt": None, "durationSeconds": 0.2, "exitCode": 1},
            {"jobName": "slow-*", "attempt": None, "durationSeconds": 600, "exitCode": 0},
            {"jobName": "halt-*", "attempt": None, "durationSeconds": 600, "exitCode": 0},
            {"jobName": "late-*", "attempt": None, "durationSeconds": 600, "exitCode": 0},
        ]
    )

    # Just created, before the operator's first status write: the API server's answer to the
    # create itself (a server-side dry run for the infrastructure kinds, which would otherwise
    # create more AWS resources). The CRDs' default status is what makes kstatus wait.
    just_created = [
        json.loads(
            kubectl.run("create", "-n", namespace, "-o", "json", "-f", "-", input=body).stdout
        )
        for body in (pipeline("ok", [step("a")]), _cron("cs", "@every 1h", suspend=True))
    ]
    ce = kubectl.get_json("bce/ce", "-n", namespace)
    q = kubectl.get_json("bjq/q", "-n", namespace)
    for template, name in ((ce, "ce2"), (q, "q2")):
        body = {k: template[k] for k in ("apiVersion", "kind", "spec")} | {
            "metadata": {"name": name}
        }
        dry_run = kubectl.run(
            "create", "--dry-run=server", "-n", namespace, "-o", "json", "-f", "-",
            input=json.dumps(body),
        )  # fmt: skip
        just_created.append(json.loads(dry_run.stdout))
    for obj in just_created:
        assert obj["status"] == {"observedGeneration": 0}, obj["kind"]
        assert _verdicts(obj) == ("InProgress", "Progressing"), obj["kind"]

    for manifest in (
        pipeline("bad", [step("a"), step("b", "a")]),
        pipeline("slow", [step("a")]),
        pipeline("halt", [step("a"), step("b", "a")]),
        pipeline("late", [step("a")], activeDeadlineSeconds=3),
        pipeline("loop", [step("a", "b"), step("b", "a")]),
        _cron("cf", "@every 1h"),
        _cron("cbad", "61 * * * *"),
    ):
        kubectl.apply(manifest, namespace)

    def live_objects_agree() -> dict[Key, Any]:
        """Every object kstatus and Argo CD both read the same way, whatever its phase now
        (an object whose annotation request is not acted on yet is left out)."""
        items = kubectl.get_json("bce,bjq,bpl,cpl", "-n", namespace)["items"]
        objects: dict[Key, Any] = {(o["kind"], o["metadata"]["name"]): o for o in items}
        for key, obj in objects.items():
            if _request_pending(obj):
                continue
            verdict, health = _verdicts(obj)
            assert kstatus.agrees(verdict, health), (key, verdict, health, obj.get("status"))
        return objects

    def halt_running() -> bool:
        live_objects_agree()  # also while the runs start
        a = steps_by_name(pipeline_status(kubectl, namespace, "halt")).get("a", {})
        return a.get("status") == "RUNNING"

    wait_for(halt_running, timeout=60, message="halt's first step to run")
    kubectl.run("annotate", "bpl/halt", "-n", namespace, "batchops.io/terminate=stop")
    kubectl.run("annotate", "cpl/cf", "-n", namespace, "batchops.io/trigger=now")

    expected: dict[Key, tuple[kstatus.KStatus, str, str | None]] = {
        # (kstatus, Argo CD, reason of the Stalled condition when it is True)
        ("BatchComputeEnvironment", "ce"): ("Current", "Healthy", None),
        ("BatchJobQueue", "q"): ("Current", "Healthy", None),
        ("BatchPipeline", "ok"): ("Current", "Healthy", None),
        ("BatchPipeline", "slow"): ("InProgress", "Progressing", None),
        ("BatchPipeline", "bad"): ("Failed", "Degraded", "StepFailed"),
        ("BatchPipeline", "halt"): ("Failed", "Degraded", "Terminated"),
        ("BatchPipeline", "late"): ("Failed", "Degraded", "DeadlineExceeded"),
        ("BatchPipeline", "loop"): ("Failed", "Degraded", "InvalidSpec"),
        ("CronPipeline", "cf"): ("Failed", "Degraded", "LastRunFailed"),
        ("CronPipeline", "cs"): ("Current", "Suspended", None),
        ("CronPipeline", "cbad"): ("Failed", "Degraded", "InvalidSchedule"),
    }

    def every_object_agrees_and_reached_its_phase() -> dict[Key, Any] | None:
        objects = live_objects_agree()
        reached = all(
            key in objects and _verdicts(objects[key]) == (verdict, health)
            for key, (verdict, health, _) in expected.items()
        )
        return objects if reached else None

    objects = wait_for(
        every_object_agrees_and_reached_its_phase,
        timeout=90,
        interval=0.2,
        message="every object in its phase",
    )
    for key, (_, _, reason) in expected.items():
        conditions = {c["type"]: c for c in objects[key]["status"].get("conditions") or []}
        stalled = conditions.get("Stalled", {})
        assert (stalled.get("status") == "True") == (reason is not None), key
        if reason is not None:
            assert stalled["reason"] == reason, key
        assert (
            objects[key]["status"]["observedGeneration"] == objects[key]["metadata"]["generation"]
        )
    # The failed cron run itself reads the same way as its CronPipeline.
    runs = [
        o
        for (kind, name), o in objects.items()
        if kind == "BatchPipeline" and name.startswith("cf-")
    ]
    assert runs and all(_verdicts(run) == ("Failed", "Degraded") for run in runs)
