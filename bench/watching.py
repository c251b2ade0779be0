"""What a watching client sees of the bench namespace's BatchPipelines, and when it saw it.

The benchmarks time the operator by this watch, as any watching tool (Argo CD, kubectl get
--watch) would see the status. They used to list the pipelines with kubectl every half second
(every 5 s at scale): each check started a process and listed every object, so the 2-core
machine's API server served megabytes of JSON in the middle of the window being measured, and
the moment a goal was met was known only to the next check.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch

from bench.stack import NAMESPACE, BenchStack


def _submitted(obj: Mapping[str, Any]) -> bool:
    """Whether every step of the run has a job id in status."""
    wanted = len((obj.get("spec") or {}).get("steps") or [])
    steps = (obj.get("status") or {}).get("steps") or []
    return wanted > 0 and sum(1 for step in steps if step.get("jobId")) == wanted


class PipelineWatch:
    """Arrival times (wall clock) of step states, of each run's last job id and of each phase,
    from a watch on the bench namespace's BatchPipelines (the Kubernetes client in a thread),
    and the latest version of each object. Start it before applying what it is to see."""

    def __init__(self, stack: BenchStack) -> None:
        self.seen: dict[tuple[str, str, str], float] = {}
        """(pipeline, step, step status) → when the watch first showed it."""
        self.submitted: dict[str, float] = {}
        """pipeline → when the watch first showed a job id for each of its steps."""
        self.phases: dict[tuple[str, str], float] = {}
        """(pipeline, phase) → when the watch first showed it."""
        self.latest: dict[str, dict[str, Any]] = {}
        self.restarts = 0
        """Times the API server ended the watch and it was opened again (with a fresh list)."""
        self._changed = threading.Condition()
        self._stopped = False
        # The kubernetes package is untyped: these calls are ignored one by one, as in kube/.
        kubeconfig = str(stack.cluster.kubeconfig)
        client = k8s_config.new_client_from_config(kubeconfig)  # type: ignore[no-untyped-call]
        self._api = k8s.CustomObjectsApi(client)
        self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        # The API server ends a watch whose client falls behind (this one decodes every event
        # in Python, next to the emulator's threads): like an informer, list and watch again.
        # A transition missed meanwhile is recorded when the new list shows it, late.
        while True:
            stream = self._watch.stream(  # type: ignore[no-untyped-call]
                self._api.list_namespaced_custom_object,
                "batchops.io",
                "v1alpha1",
                NAMESPACE,
                "batchpipelines",
                timeout_seconds=3 * 3600,
            )
            # After `stop` the stream ends at its next event (or the server's timeout); the
            # thread is a daemon, so a watch left waiting holds nothing up.
            with contextlib.suppress(urllib3.exceptions.HTTPError, k8s.exceptions.ApiException):
                for event in stream:
                    self._record(time.time(), event.get("object") or {})
            if self._stopped:
                return
            self.restarts += 1
            self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]

    def _record(self, arrived: float, obj: dict[str, Any]) -> None:
        name = obj.get("metadata", {}).get("name", "")
        status = obj.get("status") or {}
        with self._changed:
            for step in status.get("steps") or []:
                self.seen.setdefault((name, step.get("name", ""), step.get("status", "")), arrived)
            if name not in self.submitted and _submitted(obj):
                self.submitted[name] = arrived
            if status.get("phase"):
                self.phases.setdefault((name, status["phase"]), arrived)
            self.latest[name] = obj
            self._changed.notify_all()

    def wait_all(
        self,
        names: Sequence[str],
        arrival: Callable[[str], float | None],
        timeout: float,
        what: str,
    ) -> float:
        """Wait until `arrival(name)` gives a time for every name; the latest of those times."""
        pending = list(names)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                pending = [name for name in pending if arrival(name) is None]
                if not pending:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{what}: {len(pending)} not yet, e.g. {pending[0]}")
                self._changed.wait(left)
        return max((t for name in names if (t := arrival(name)) is not None), default=time.time())

    def wait_submitted(self, names: Sequence[str], timeout: float) -> float:
        """When the last of `names` showed every step's job id (wall clock)."""
        return self.wait_all(names, self.submitted.get, timeout, "all submitted")

    def wait_phase(self, names: Sequence[str], phase: str, timeout: float) -> float:
        """When the last of `names` showed `phase` (wall clock)."""
        return self.wait_all(names, lambda name: self.phases.get((name, phase)), timeout, phase)

    def stop(self) -> None:
        """End the watch."""
        self._stopped = True
        self._watch.stop()  # type: ignore[no-untyped-call]

    def __enter__(self) -> PipelineWatch:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
