"""The operator process: runs with the shipped ServiceAccount's rights and survives SIGKILL."""

from __future__ import annotations

from batchops.local.stack import OperatorProcess
from tests.conftest import RBAC_DENIAL, wait_until_live


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
