"""Every account and region the emulator serves: one `BatchService` each, made on first use.

Batch state is per account and region, as in AWS: a compute environment created with one
account's credentials is not seen by another's, nor in another region. The services share the
emulator's state lock, clock (speed), faults and STS; scenario and holds apply to all of them.
Calls are counted per account as well as in total, so a test can say how many DescribeJobs one
account saw.
"""

from __future__ import annotations

import threading
from collections import Counter

from batchops.local.emulator import account
from batchops.local.emulator.account import DEFAULT_PARTITION, Partition
from batchops.local.emulator.clock import Clock
from batchops.local.emulator.faults import FaultInjector
from batchops.local.emulator.holds import Holds
from batchops.local.emulator.scenario import Scenario
from batchops.local.emulator.service import BatchService
from batchops.local.emulator.sts import SecurityTokenService


class Partitions:
    """The emulated Batch of every account and region. Lock order: the registry's lock, then
    the state lock, never the reverse."""

    def __init__(self, speed: float) -> None:
        self.lock = threading.RLock()
        self.clock = Clock(speed)
        self.faults = FaultInjector()
        self.sts = SecurityTokenService()
        self._registry = threading.Lock()
        self._services: dict[Partition, BatchService] = {}
        self._scenario = Scenario()
        self._holds = Holds()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._started = False
        self.default = self.service_for(DEFAULT_PARTITION)

    def service_for(self, partition: Partition) -> BatchService:
        """The service of one account and region, made (with the account's defaults) on first
        use."""
        with self._registry:
            service = self._services.get(partition)
            if service is not None:
                return service
            account.prepare(partition)
            service = BatchService(partition, self.lock, self.clock, self.faults)
            service.set_scenario(self._scenario)
            service.set_holds(self._holds)
            with self.lock:
                capacity = self.faults.config.insufficient_capacity
                service.scheduler.set_insufficient_capacity(capacity)
            if self._started:
                service.start()
            self._services[partition] = service
            return service

    def services(self) -> list[BatchService]:
        """Every service made so far."""
        with self._registry:
            return list(self._services.values())

    def start(self) -> None:
        """Start every service's timer thread (and those made later at once)."""
        with self._registry:
            self._started = True
            services = list(self._services.values())
        for service in services:
            service.start()

    def stop(self) -> None:
        """Stop every service's jobs and timer thread."""
        for service in self.services():
            service.stop()

    def reset(self) -> None:
        """Clean accounts (account.py), no Batch resources anywhere, default scenario, no holds,
        no faults, zero counters, no session cap."""
        self._scenario, self._holds = Scenario(), Holds()
        for service in self.services():
            service.reset()
            service.set_holds(self._holds)
        with self.lock:
            account.reset_account()
        self.faults.reset()
        self.sts.set_max_duration(None)
        with self._registry:
            self._calls.clear()

    def set_scenario(self, scenario: Scenario) -> None:
        """How attempts started from now on run, in every account."""
        self._scenario = scenario
        for service in self.services():
            service.set_scenario(scenario)

    def set_holds(self, holds: Holds) -> None:
        """Which jobs stay in which state, in every account."""
        self._holds = holds
        for service in self.services():
            service.set_holds(holds)

    @property
    def scenario(self) -> Scenario:
        """The scenario every service runs."""
        return self._scenario

    def count(self, account_id: str, operation: str) -> None:
        """Count one call an account made."""
        with self._registry:
            self._calls[(account_id, operation)] += 1

    def counters(self, account_id: str) -> dict[str, int]:
        """Calls per operation one account made since the last reset."""
        with self._registry:
            return {op: n for (acct, op), n in self._calls.items() if acct == account_id}
