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
from batchops.local.emulator.service import BatchService
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
        self._service = BatchService(speed)
        self._control = ControlApi(self._service)
        app = EmulatorApp(
            self._service, self._control, DomainDispatcherApplication(create_backend_app)
        )
        self._server = KeepAliveWsgiServer(host, port, app)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="batchops-emulator-http", daemon=True
        )
        self.url = f"http://{host}:{self._server.port}"

    def start(self) -> None:
        """Reset to a clean account and start serving."""
        self._control.reset()
        self._service.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, stop every job process and the timer thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._service.stop()

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

    def counters(self) -> dict[str, int]:
        """API calls per operation since the last reset ("SubmitJob": 12, ...)."""
        return self._control.counters()


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
