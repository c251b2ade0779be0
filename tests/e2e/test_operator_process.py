"""The operator process: runs with the shipped ServiceAccount's rights, survives SIGKILL, and
acts on a spec change at once rather than at its next drift check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from batchops.local.emulator import Emulator
from batchops.local.processes import free_port
from batchops.local.stack import OperatorProcess
from tests.conftest import RBAC_DENIAL, Kubectl, example, wait_condition, wait_until_live
from tests.e2e.test_consumable_resources import described
from tests.e2e.test_infrastructure import status_of
from tests.waits import wait_for


def test_operator_watches_with_the_shipped_rbac_rules(operator: OperatorProcess) -> None:
    # Every test using the `operator` fixture also fails on an RBAC refusal in its log window.
    log = operator.log_text()
    assert RBAC_DENIAL not in log, log[-3000:]


def test_operator_comes_back_after_sigkill(operator: OperatorProcess) -> None:
    operator.kill()
    assert operator.exit_code() is not None
    operator.start()
    wait_until_live(operator)
    assert operator.exit_code() is None


def test_a_spec_change_is_acted_on_at_once_not_at_the_next_drift_check(
    kubectl: Kubectl,
    namespace: str,
    operator_process: OperatorProcess,
    operator_kubeconfig: Path,
    emulator: Emulator,
    batch: Any,
    tmp_path: Path,
) -> None:
    # An operator whose loops would otherwise look again only after an hour: only the watch
    # event of the new generation can bring the change to AWS within the wait below. (The
    # session's operator is stopped meanwhile; the next test's `operator` fixture restarts it.)
    operator_process.stop()
    liveness = free_port()
    slow = OperatorProcess(
        operator_kubeconfig,
        emulator.url,
        tmp_path / "operator.log",
        extra_args=["--resync-interval=3600", f"--liveness-port={liveness}"],
    )
    slow.liveness_url = f"http://127.0.0.1:{liveness}/healthz"
    slow.start()
    try:
        wait_until_live(slow)
        kubectl.apply(example("06-consumable-resource.yaml"), namespace)
        wait_condition(kubectl, "bcr/licenses", namespace, "Ready")
        arn = status_of(kubectl, "bcr/licenses", namespace)["arn"]
        kubectl.run(
            "patch", "bcr/licenses", "-n", namespace, "--type=merge",
            "-p", json.dumps({"spec": {"totalQuantity": 15}}),
        )  # fmt: skip
        wait_for(
            lambda: (described(batch, arn) or {}).get("totalQuantity") == 15,
            timeout=60,
            message="the new quantity in AWS",
        )
        # kopf keeps no copy of the spec on the object (handlers/startup.NoDiffBase).
        metadata = kubectl.get_json("bcr/licenses", "-n", namespace)["metadata"]
        annotations = metadata.get("annotations") or {}
        assert not [key for key in annotations if "last-handled-configuration" in key]
        kubectl.run("delete", "bcr/licenses", "-n", namespace, "--timeout=60s")
    finally:
        slow.stop()
    assert "Traceback" not in slow.log_text(), slow.log_text()[-3000:]
