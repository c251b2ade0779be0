"""Event mode: job state changes from SQS (EventBridge → SQS) drive status instead of polling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.local.emulator import Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess
from tests.conftest import OPERATOR_TEST_ARGS, Kubectl, wait_until_live
from tests.e2e.builders import pipeline, step, wait_phase


@pytest.fixture
def evented_operator(
    operator_process: OperatorProcess,
    operator_kubeconfig: Path,
    emulator: Emulator,
    event_queue_url: str,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """The session operator swapped for one in event mode with a 60 s poll (restored after)."""
    operator_process.stop()
    args = [a for a in OPERATOR_TEST_ARGS if not a.startswith("--poll-interval")]
    port = free_port()
    evented = OperatorProcess(
        operator_kubeconfig,
        emulator.url,
        tmp_path / "operator.log",
        extra_args=[
            *args,
            "--poll-interval=60",
            f"--event-queue-url={event_queue_url}",
            f"--liveness-port={port}",
        ],
    )
    evented.liveness_url = f"http://127.0.0.1:{port}/healthz"
    evented.start()
    try:
        wait_until_live(evented)
        yield evented
    finally:
        evented.stop()
        operator_process.start()
        wait_until_live(operator_process)


def test_job_events_drive_the_run_without_polling(
    kubectl: Kubectl,
    namespace: str,
    queue: str,
    evented_operator: OperatorProcess,
    emulator: Emulator,
) -> None:
    kubectl.apply(pipeline("evented", [step("a"), step("b", "a"), step("c", "b")]), namespace)
    # In event mode the poller's first DescribeJobs sweep comes after 6 x 60 s: finishing
    # within the wait means the job events moved the run.
    status = wait_phase(kubectl, namespace, "evented", "Succeeded", timeout=45)
    assert status["progress"] == "3/3"
    assert emulator.counters().get("SubmitJob") == 3
    assert "Traceback" not in evented_operator.log_text()
