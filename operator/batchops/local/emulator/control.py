"""The control API over HTTP, on the emulator's own port (the Python twin is `Emulator`).

    POST /_batchops/reset      {}                       clean account (account.py), default
                                                        scenario, no holds, no faults, zero
                                                        counters
    POST /_batchops/speed      {"speed": 20}            divide emulated delays by 20
    POST /_batchops/scenario   {"mode": "simulate", "rules": [...]}   rules: see scenario.py
    POST /_batchops/holds      {"holds": [{"jobName": "etl-b-*", "status": "STARTING"}]}
                                                        keep jobs in a state until a later POST
                                                        lifts the hold (see holds.py)
    POST /_batchops/faults     the fault configuration below
    GET  /_batchops/counters   -> {"SubmitJob": 12, "logs:GetLogEvents": 3, ...}
    GET  /_batchops/injected-faults -> {"SubmitJob": {"throttled": 3, "serverError": 1}, ...}
    GET  /_batchops/info       -> region, account, default network IDs, speed, mode

Faults. Each POST replaces the whole configuration; {} turns every fault off (as after reset):

    {"operations": {                  # per Batch operation name; "*" for every Batch operation
        "SubmitJob": {                #   without an entry of its own
            "throttleRate": 0.1,      # share of calls answered 429 TooManyRequestsException
            "errorRate": 0.05,        # share answered 500 ServerException
            "latencySeconds": 0.2,    # wall-clock delay before acting (not speed-scaled)
            "replyDelaySeconds": 0.5}},  # wall-clock delay after acting, before answering: a
                                      #   client that dies meanwhile never sees the result
     "submitJobRateLimit": 50,        # SubmitJob calls per second, burst of one second's worth,
                                      #   beyond which calls get 429 (null: no limit)
     "eventualConsistencySeconds": 5, # emulated seconds a compute environment still counts as
                                      #   used by a queue that let go of it (UpdateJobQueue or
                                      #   DeleteJobQueue): deleting it fails meanwhile with
                                      #   "Cannot delete, found existing JobQueue relationship"
     "seed": 7}                       # optional: reproducible random faults

`Emulator.set_faults(operations=..., submit_job_rate_limit=..., eventual_consistency_seconds=...,
seed=...)` takes the same fields. Counters count every call received, faulted or not: Batch
operations by name, other services as "service:Operation". Answers are JSON; a malformed control
request gets 400 {"error": "..."}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from batchops.local.emulator import account
from batchops.local.emulator.faults import parse_faults
from batchops.local.emulator.holds import parse_holds
from batchops.local.emulator.scenario import parse_scenario
from batchops.local.emulator.service import BatchService
from batchops.local.emulator.wire import StartResponse, json_response, read_json_object


class ControlApi:
    """Control operations shared by the HTTP endpoints and the Python `Emulator`."""

    def __init__(self, service: BatchService) -> None:
        self._service = service

    def reset(self) -> None:
        """Clean account, default scenario, no faults, zero counters."""
        self._service.reset()

    def set_speed(self, speed: float) -> None:
        """Divide every emulated delay scheduled from now on by `speed`."""
        self._service.clock.set_speed(float(speed))

    def set_scenario(self, mode: str, rules: list[dict[str, Any]]) -> None:
        """Set the run mode and the simulate-mode rules (JSON field names)."""
        self._service.set_scenario(parse_scenario(mode, rules))

    def set_holds(self, holds: list[dict[str, Any]]) -> None:
        """Replace the holds (JSON field names; [] releases every held job)."""
        self._service.set_holds(parse_holds(holds))

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the fault configuration (JSON field names; {} turns faults off)."""
        self._service.faults.configure(parse_faults(faults))

    def counters(self) -> dict[str, int]:
        """API calls per operation since the last reset."""
        return self._service.faults.counters()

    def injected_faults(self) -> dict[str, dict[str, int]]:
        """Faults answered per operation and kind since the last reset."""
        return self._service.faults.injected()

    def info(self) -> dict[str, Any]:
        """What a client needs to know about this emulator."""
        return {
            "region": account.REGION,
            "accountId": account.ACCOUNT_ID,
            "defaultVpcId": account.DEFAULT_VPC_ID,
            "defaultSubnetId": account.DEFAULT_SUBNET_ID,
            "defaultSecurityGroupId": account.DEFAULT_SECURITY_GROUP_ID,
            "speed": self._service.clock.speed,
            "mode": self._service.runner.scenario.mode,
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        try:
            body = read_json_object(environ)
            result = self._route(route, body)
        except (ValueError, TypeError, KeyError) as error:
            return json_response(start_response, "400 Bad Request", {"error": str(error)})
        if result is None:
            return json_response(start_response, "404 Not Found", {"error": f"no route {route}"})
        return json_response(start_response, "200 OK", result)

    def _route(self, route: tuple[str, str], body: dict[str, Any]) -> dict[str, Any] | None:
        method, path = route
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if method == "GET" and name == "counters":
            return dict(self.counters())
        if method == "GET" and name == "injected-faults":
            return dict(self.injected_faults())
        if method == "GET" and name == "info":
            return self.info()
        if method != "POST":
            return None
        if name == "reset":
            self.reset()
        elif name == "speed":
            self.set_speed(float(body["speed"]))
        elif name == "scenario":
            self.set_scenario(str(body.get("mode", "simulate")), list(body.get("rules") or []))
        elif name == "holds":
            self.set_holds(list(body.get("holds") or []))
        elif name == "faults":
            self.set_faults(body)
        else:
            return None
        return {}
