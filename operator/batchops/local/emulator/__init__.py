"""A local AWS Batch, faithful where moto's Batch mock is lenient; boto3 reaches it unmodified.

    from batchops.local.emulator import start_emulator
    emu = start_emulator(port=0, speed=20.0)   # serving in background threads on return
    batch = boto3.client("batch", endpoint_url=emu.url, region_name=emu.region, ...)
    emu.set_scenario(rules=[{"jobName": "etl-b*", "attempt": 1, "exitCode": 1}])
    emu.set_holds([{"jobName": "etl-c*", "status": "STARTING"}]); emu.set_holds([])
    emu.counters()["SubmitJob"]; emu.reset(); emu.stop()

Standalone: `python -m batchops.local.emulator --port 4566 [--host H] [--speed F]` (also
`batchops emulator`) serves until SIGINT/SIGTERM. The same endpoint answers Batch, EC2, IAM,
CloudWatch Logs, SQS, EventBridge and STS (moto's server for all but Batch); the control API is
under /_batchops/ (control.py).

Default delays at speed 1 (every one is divided by the speed factor; clock.Delays):
    compute environment CREATING -> VALID 2 s, UPDATING -> VALID 0.5 s (scaling or state) or
    2 s (infrastructure), DELETING -> gone 1 s; job queue CREATING/UPDATING -> VALID 0.5 s,
    DELETING -> gone 1 s; each job step (SUBMITTED -> PENDING, PENDING -> RUNNABLE, RUNNABLE
    until the scheduler may place it, STARTING -> RUNNING) 0.2 s; a simulated attempt 1 s
    unless a scenario rule says otherwise.

Emulated Batch operations: compute environments, job queues and fair-share scheduling policies
(create, describe, update, delete; ListSchedulingPolicies), consumable resources (create,
describe, list, update with SET/ADD/REMOVE and clientToken, delete;
ListJobsByConsumableResource), job definitions, jobs (submit, describe, list, cancel,
terminate) and tags on all of them. A queue with a scheduling policy is served fair-share:
jobs must name a share identifier, and the share with the least vCPUs held x weightFactor runs
next (current usage only: shareDecaySeconds is not emulated; computeReservation is; see
schedulingpolicies.py). Jobs claim consumable resources: a job waits RUNNABLE, with a
statusReason saying for what, until the quantities it claims are available, holds them while it
runs (inUseQuantity, ListJobsByConsumableResource) and gives REPLENISHABLE ones back. Any other
Batch operation is a ClientException saying it is not supported.

Accounts and regions: Batch state is kept per account and region, taken from each request's
credentials and signature; the default is account 123456789012 in us-east-1. `add_account`
makes another account (same defaults) with a role; STS AssumeRole checks the role's trust policy
and external id, and credentials from it act in the role's account. `set_session_duration` makes
sessions short so tests see credentials expire (sts.py, partitions.py).

Where to look: account.py (the accounts and their fixed IDs), infrastructure.py (compute
environments and queues), schedulingpolicies.py (scheduling policies), consumableresources.py
(consumable resources), jobdefs.py, jobs.py and scheduler.py (jobs and their state machine),
runners.py and scenario.py (how attempts run), holds.py (keeping jobs in a state), outputs.py
(logs and events), faults.py (faults and counters), errors.py (every error text and where it
comes from), sts.py (AssumeRole and sessions), sqs.py (moto's SQS safe for several readers),
partitions.py (one Batch per account and region), control.py, wsgi.py and server.py (serving).
"""

from batchops.local.emulator.account import (
    DEFAULT_SECURITY_GROUP_ID,
    DEFAULT_SUBNET_ID,
    DEFAULT_VPC_ID,
)
from batchops.local.emulator.server import Emulator, serve, start_emulator

__all__ = [
    "DEFAULT_SECURITY_GROUP_ID",
    "DEFAULT_SUBNET_ID",
    "DEFAULT_VPC_ID",
    "Emulator",
    "serve",
    "start_emulator",
]
