"""Serving the emulator: in background threads for tests, or standalone until a signal."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from batchops.local.emulator import account
from batchops.local.emulator.control import ControlApi
from batchops.local.emulator.httpserver import KeepAliveWsgiServer
from batchops.local.emulator.partitions import Partitions
from batchops.local.emulator.sqs import patch_moto_sqs
from batchops.local.emulator.wsgi import EmulatorApp


class Emulator:
    """A running emulator: its URL, and the control API in Python.

    One per process: moto keeps its backends (EC2, IAM, Logs, SQS, EventBridge) in globals.
    """

    region = account.REGION
    account_id = account.ACCOUNT_ID
    default_vpc_id = account.DEFAULT_VPC_ID
    default_subnet_id = account.DEFAULT_SUBNET_ID
    default_security_group_id = account.DEFAULT_SECURITY_GROUP_ID

    def __init__(self, host: str, port: int, speed: float) -> None:
        patch_moto_sqs()
        self._partitions = Partitions(speed)
        self._control = ControlApi(self._partitions)
        self._app = EmulatorApp(
            self._partitions, self._control, DomainDispatcherApplication(create_backend_app)
        )
        self._server = KeepAliveWsgiServer(host, port, self._app)
        self._thread = self._serving_thread()
        self._host = host
        self._down = False
        self.url = f"http://{host}:{self._server.port}"

    def _serving_thread(self) -> threading.Thread:
        return threading.Thread(
            target=self._server.serve_forever, name="batchops-emulator-http", daemon=True
        )

    def start(self) -> None:
        """Reset to a clean account and start serving."""
        self._control.reset()
        self._partitions.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, stop every job process and the timer thread."""
        if not self._down:
            self._stop_serving()
        self._partitions.stop()

    def _stop_serving(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def is_down(self) -> bool:
        """Whether the endpoint is taken down (`take_down`) right now."""
        return self._down

    def take_down(self) -> None:
        """An outage: close the port (new connections are refused) and cut open connections.

        Everything behind the endpoint carries on: jobs progress, compute environments settle,
        and this object's Python control methods keep working."""
        if not self._down:
            self._down = True
            self._stop_serving()
            self._server.drop_connections()

    def bring_back(self) -> None:
        """End an outage: serve again on the same port, with all state kept."""
        if self._down:
            self._server = KeepAliveWsgiServer(self._host, self._server.port, self._app)
            self._thread = self._serving_thread()
            self._thread.start()
            self._down = False

    def reset(self) -> None:
        """Clean account (default VPC, subnet, security group, roles); scenario, faults and
        counters cleared."""
        self._control.reset()

    def set_speed(self, speed: float) -> None:
        """Divide every emulated delay scheduled from now on by `speed`."""
        self._control.set_speed(speed)

    def set_scenario(
        self, mode: str = "simulate", rules: list[dict[str, Any]] | None = None
    ) -> None:
        """How jobs run: "simulate" with rules {jobName, attempt, arrayIndex, durationSeconds,
        exitCode} (first match wins), or "process"."""
        self._control.set_scenario(mode, list(rules or []))

    def set_holds(self, holds: list[dict[str, Any]] | None = None) -> None:
        """Keep jobs in a state: [{jobName (glob), status (SUBMITTED|PENDING|RUNNABLE|
        STARTING)}]; replaces the holds before, and a job no longer held moves on at once."""
        self._control.set_holds(list(holds or []))

    def set_faults(
        self,
        operations: Mapping[str, Mapping[str, float]] | None = None,
        submit_job_rate_limit: float | None = None,
        eventual_consistency_seconds: float = 0.0,
        seed: int | None = None,
    ) -> None:
        """Replace the faults: per operation {throttleRate, errorRate, latencySeconds}, the
        SubmitJob calls-per-second limit, the eventual-consistency window (see faults.py)."""
        self._control.set_faults(
            {
                "operations": {name: dict(spec) for name, spec in (operations or {}).items()},
                "submitJobRateLimit": submit_job_rate_limit,
                "eventualConsistencySeconds": eventual_consistency_seconds,
                "seed": seed,
            }
        )

    def counters(self, account_id: str | None = None) -> dict[str, int]:
        """API calls per operation since the last reset ("SubmitJob": 12, ...); with an
        account id, the Batch calls of that account only."""
        return self._control.counters(account_id)

    def add_account(
        self,
        account_id: str,
        role_name: str = "batchops",
        trusted_principal: str = f"arn:aws:iam::{account.ACCOUNT_ID}:root",
        external_id: str | None = None,
        path: str = "/",
    ) -> str:
        """Another account (default VPC, subnets, security group, roles, log group, as the
        default one has) with a role `trusted_principal` may assume with `external_id`;
        returns the role's ARN. Gone at the next reset."""
        return self._control.add_account(
            account_id, role_name, trusted_principal, external_id, path
        )

    def set_session_duration(self, seconds: float | None) -> None:
        """AssumeRole sessions issued from now on last at most `seconds` (wall clock; below
        AWS's 900-second minimum, so tests can watch credentials expire). None: as asked."""
        self._control.set_session_duration(seconds)

    def injected_faults(self) -> dict[str, dict[str, int]]:
        """Faults answered since the last reset: {"SubmitJob": {"throttled": 3,
        "serverError": 1}, ...}."""
        return self._control.injected_faults()


def start_emulator(port: int = 0, speed: float = 1.0, host: str = "127.0.0.1") -> Emulator:
    """Start an emulator serving in background threads; it is ready when this returns."""
    emulator = Emulator(host, port, speed)
    emulator.start()
    return emulator


def serve(host: str = "127.0.0.1", port: int = 4566, speed: float = 1.0) -> None:
    """Run the emulator in the foreground until SIGINT or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator = start_emulator(port=port, speed=speed, host=host)
    print(f"batchops emulator serving AWS Batch at {emulator.url} (speed {speed:g})", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        emulator.stop()
        print("batchops emulator stopped", file=sys.stderr, flush=True)
