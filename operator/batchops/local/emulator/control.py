"""The control API over HTTP, on the emulator's own port (the Python twin is `Emulator`).

    POST /_batchops/reset      {}                       clean account (account.py), default
                                                        scenario, no holds, no faults, zero
                                                        counters
    POST /_batchops/speed      {"speed": 20}            divide emulated delays by 20
    POST /_batchops/scenario   {"mode": "simulate", "rules": [...]}   rules: see scenario.py;
                                                        e.g. a Spot reclaim of attempt 1:
                                                        {"jobName": "etl-b*", "attempt": 1,
                                                        "statusReason": "Host EC2 (instance
                                                        i-0abc) terminated.", "exitCode": null}
    POST /_batchops/holds      {"holds": [{"jobName": "etl-b-*", "status": "STARTING"}]}
                                                        keep jobs in a state until a later POST
                                                        lifts the hold (see holds.py)
    POST /_batchops/faults     the fault configuration below
    GET  /_batchops/counters   -> {"SubmitJob": 12, "logs:GetLogEvents": 3, ...}
    GET  /_batchops/counters?accountId=210987654321   -> the Batch calls of one account
    POST /_batchops/accounts   {"accountId": "210987654321", "roleName": "team-b",
                                "path": "/batchops/", "trustedPrincipal":
                                "arn:aws:iam::123456789012:role/batchops-operator",
                                "externalId": "x"}       another account (default VPC, roles,
                                                        log group) with a role that principal
                                                        may assume (with that external id)
                                                        -> {"roleArn": "..."}
    POST /_batchops/sessions   {"maxDurationSeconds": 20}   AssumeRole sessions issued from now
                                                        on last at most 20 s (null: as asked)
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
                                      #   "Cannot delete, found existing JobQueue relationship";
                                      #   and a job is missing from ListJobs for that long
                                      #   after SubmitJob
     "seed": 7,                       # optional: reproducible random faults
     "insufficientCapacity": ["ce-spot"]}  # compute environments (names or ARNs) that get no
                                      #   instances: no job is placed there, and a RUNNABLE job
                                      #   only they could run shows Batch's statusReason
                                      #   "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service
                                      #   cannot fulfill the capacity requested for instance
                                      #   type <the CE's first instanceTypes entry>" (and a
                                      #   "Batch Job Queue Blocked" event) until a later POST
                                      #   leaves it out; then the job runs

`Emulator.set_faults(operations=..., submit_job_rate_limit=..., eventual_consistency_seconds=...,
seed=...)` takes the same fields but insufficientCapacity (POST that one over HTTP). Counters
count every call received, faulted or not: Batch operations by name, other services as
"service:Operation". Answers are JSON; a malformed control request gets 400 {"error": "..."}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from batchops.local.emulator import account
from batchops.local.emulator.faults import parse_faults
from batchops.local.emulator.holds import parse_holds
from batchops.local.emulator.partitions import Partitions
from batchops.local.emulator.scenario import parse_scenario
from batchops.local.emulator.wire import StartResponse, json_response, read_json_object


class ControlApi:
    """Control operations shared by the HTTP endpoints and the Python `Emulator`."""

    def __init__(self, partitions: Partitions) -> None:
        self._partitions = partitions

    def reset(self) -> None:
        """Clean accounts, default scenario, no faults, zero counters."""
        self._partitions.reset()

    def set_speed(self, speed: float) -> None:
        """Divide every emulated delay scheduled from now on by `speed`."""
        self._partitions.clock.set_speed(float(speed))

    def set_scenario(self, mode: str, rules: list[dict[str, Any]]) -> None:
        """Set the run mode and the simulate-mode rules (JSON field names)."""
        self._partitions.set_scenario(parse_scenario(mode, rules))

    def set_holds(self, holds: list[dict[str, Any]]) -> None:
        """Replace the holds (JSON field names; [] releases every held job)."""
        self._partitions.set_holds(parse_holds(holds))

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the fault configuration (JSON field names; {} turns faults off)."""
        config = parse_faults(faults)
        self._partitions.faults.configure(config)
        services = self._partitions.services()  # not under the state lock: see Partitions
        with self._partitions.lock:
            # The scheduler acts on the capacity fault at once: it judges blocked jobs again.
            for service in services:
                service.scheduler.set_insufficient_capacity(config.insufficient_capacity)

    def counters(self, account_id: str | None = None) -> dict[str, int]:
        """API calls per operation since the last reset: of every account, or Batch calls of
        one."""
        if account_id is not None:
            return self._partitions.counters(account_id)
        return self._partitions.faults.counters()

    def injected_faults(self) -> dict[str, dict[str, int]]:
        """Faults answered per operation and kind since the last reset."""
        return self._partitions.faults.injected()

    def add_account(
        self,
        account_id: str,
        role_name: str,
        trusted_principal: str,
        external_id: str | None = None,
        path: str = "/",
    ) -> str:
        """Make another account with the defaults and a role `trusted_principal` may assume
        (requiring `external_id` when given, allowing session tags); returns the role's ARN."""
        if not (len(account_id) == 12 and account_id.isdigit()):
            raise ValueError(f"an account id is 12 digits, not {account_id!r}")
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": trusted_principal},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
        if external_id:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
        policy = {"Version": "2012-10-17", "Statement": [statement]}
        return account.add_role(account_id, role_name, policy, path)

    def set_session_duration(self, seconds: float | None) -> None:
        """Cap the lifetime of AssumeRole sessions issued from now on (None: as asked)."""
        self._partitions.sts.set_max_duration(None if seconds is None else float(seconds))

    def info(self) -> dict[str, Any]:
        """What a client needs to know about this emulator."""
        return {
            "region": account.REGION,
            "accountId": account.ACCOUNT_ID,
            "defaultVpcId": account.DEFAULT_VPC_ID,
            "defaultSubnetId": account.DEFAULT_SUBNET_ID,
            "defaultSecurityGroupId": account.DEFAULT_SECURITY_GROUP_ID,
            "speed": self._partitions.clock.speed,
            "mode": self._partitions.scenario.mode,
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = (environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""))
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            body = read_json_object(environ)
            result = self._route(route, body, {k: v[0] for k, v in query.items()})
        except (ValueError, TypeError, KeyError) as error:
            return json_response(start_response, "400 Bad Request", {"error": str(error)})
        if result is None:
            return json_response(start_response, "404 Not Found", {"error": f"no route {route}"})
        return json_response(start_response, "200 OK", result)

    def _route(
        self, route: tuple[str, str], body: dict[str, Any], query: dict[str, str]
    ) -> dict[str, Any] | None:
        method, path = route
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if method == "GET" and name == "counters":
            return dict(self.counters(query.get("accountId")))
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
        elif name == "accounts":
            role_arn = self.add_account(
                str(body["accountId"]),
                str(body.get("roleName") or "batchops"),
                str(body["trustedPrincipal"]),
                body.get("externalId"),
                str(body.get("path") or "/"),
            )
            return {"roleArn": role_arn}
        elif name == "sessions":
            seconds = body.get("maxDurationSeconds")
            self.set_session_duration(None if seconds is None else float(seconds))
        else:
            return None
        return {}
