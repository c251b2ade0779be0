"""The emulated AWS accounts: their defaults, and lookups of what compute environments reference.

EC2, IAM, CloudWatch Logs, SQS and EventBridge are moto's own backends (the same objects moto's
server answers boto3 with), so a role created with boto3's IAM client is seen by Batch here.

After `reset_account()` the account holds what the walkthrough and the examples take for
granted, with fixed IDs so manifests can name them:

- the default VPC `vpc-0123456789abcdef0`, its subnet in us-east-1a `subnet-0123456789abcdef0`
  (one more default subnet per other zone) and its default security group `sg-0123456789abcdef0`;
- the `ecsInstanceRole` role and instance profile (and the walkthrough's
  `AWSEC2ContainerServiceForEC2Policy` instance profile);
- the roles `AWSBatchServiceRole`, `AWSServiceRoleForBatch` (the service-linked role, path
  /aws-service-role/batch.amazonaws.com/), `AmazonEC2SpotFleetTaggingRole`,
  `AWSServiceRoleForEC2SpotFleet` and `ecsTaskExecutionRole`;
- the log group /aws/batch/job.

Several accounts and regions: every Batch request is served in a `Partition` (account, region)
taken from its credentials and signature (wsgi.py), and ARNs, IDs and lookups below are those of
`current()` partition. A partition gets the same defaults as the default account the first time
it is used (`prepare`), so manifests naming the fixed IDs work in every account. The default
partition is account 123456789012 in us-east-1, so single-account use is unchanged.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import moto.ec2.models.security_groups as moto_security_groups
import moto.ec2.models.subnets as moto_subnets
import moto.ec2.models.vpcs as moto_vpcs
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.events.models import events_backends
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.sqs.models import sqs_backends

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"

DEFAULT_VPC_ID = "vpc-0123456789abcdef0"
DEFAULT_SUBNET_ID = "subnet-0123456789abcdef0"
DEFAULT_SECURITY_GROUP_ID = "sg-0123456789abcdef0"
BATCH_LOG_GROUP = "/aws/batch/job"

SERVICE_LINKED_ROLE_PATH = "/aws-service-role/batch.amazonaws.com/"
SERVICE_LINKED_ROLE_ARN = (
    f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role{SERVICE_LINKED_ROLE_PATH}AWSServiceRoleForBatch"
)
"""The default account's; `service_linked_role_arn()` gives the current partition's."""


@dataclass(frozen=True)
class Partition:
    """One account in one region: what a Batch request is served in."""

    account_id: str = ACCOUNT_ID
    region: str = REGION

    def arn_prefix(self, service: str) -> str:
        """`arn:aws:<service>:<region>:<account>` (IAM is global: no region)."""
        region = "" if service == "iam" else self.region
        return f"arn:{PARTITION}:{service}:{region}:{self.account_id}"


DEFAULT_PARTITION = Partition()

_current: ContextVar[Partition] = ContextVar("emulator_partition", default=DEFAULT_PARTITION)


def current() -> Partition:
    """The partition the running request (or timer thread) serves."""
    return _current.get()


@contextmanager
def serving(partition: Partition) -> Iterator[None]:
    """Serve one request in `partition`."""
    token = _current.set(partition)
    try:
        yield
    finally:
        _current.reset(token)


def enter(partition: Partition) -> None:
    """Serve `partition` for the rest of this thread (a partition's timer thread)."""
    _current.set(partition)


def service_linked_role_arn() -> str:
    """AWSServiceRoleForBatch of the current partition's account."""
    return f"{current().arn_prefix('iam')}:role{SERVICE_LINKED_ROLE_PATH}AWSServiceRoleForBatch"


def batch_arn_prefix() -> str:
    """`arn:aws:batch:<region>:<account>` of the current partition."""
    return current().arn_prefix("batch")


@dataclass(frozen=True)
class _DefaultRole:
    name: str
    path: str
    service: str


_DEFAULT_ROLES = (
    _DefaultRole("AWSBatchServiceRole", "/", "batch.amazonaws.com"),
    _DefaultRole("AWSServiceRoleForBatch", SERVICE_LINKED_ROLE_PATH, "batch.amazonaws.com"),
    _DefaultRole("ecsInstanceRole", "/", "ec2.amazonaws.com"),
    _DefaultRole("ecsTaskExecutionRole", "/", "ecs-tasks.amazonaws.com"),
    _DefaultRole("AmazonEC2SpotFleetTaggingRole", "/", "spotfleet.amazonaws.com"),
    _DefaultRole(
        "AWSServiceRoleForEC2SpotFleet",
        "/aws-service-role/spotfleet.amazonaws.com/",
        "spotfleet.amazonaws.com",
    ),
)
# instance profile name -> role inside it
_DEFAULT_INSTANCE_PROFILES = {
    "ecsInstanceRole": "ecsInstanceRole",
    "AWSEC2ContainerServiceForEC2Policy": "ecsInstanceRole",
}


_lock = threading.Lock()
_prepared: set[Partition] = {DEFAULT_PARTITION}
_accounts: set[str] = {ACCOUNT_ID}


def prepare(partition: Partition) -> None:
    """Give a partition the defaults the first time it is used (its account's IAM roles once
    per account); a no-op afterwards."""
    with _lock:
        if partition in _prepared:
            return
        if partition.account_id not in _accounts:
            _reset_iam(partition.account_id)
            _accounts.add(partition.account_id)
        _reset_region(partition)
        _prepared.add(partition)


def reset_account() -> None:
    """Reset the moto services the emulator serves to clean accounts: the default one, and
    every other account and region used so far (their roles are gone; `add_account` again)."""
    with _lock:
        for account in _accounts:
            _reset_iam(account)
        for partition in _prepared:
            _reset_region(partition)


def add_account(account_id: str) -> None:
    """Make an account (and its us-east-1 partition) exist with the defaults."""
    prepare(Partition(account_id, REGION))


def add_role(account_id: str, name: str, trust_policy: dict[str, Any], path: str = "/") -> str:
    """Create (or replace) a role in an account; returns its ARN."""
    add_account(account_id)
    iam = iam_backends[account_id]["global"]
    if any(role.name == name for role in iam.get_roles()):
        iam.delete_role(name)
    role = iam.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(trust_policy),
        path=path,
        permissions_boundary=None,
        description="created by the batchops emulator",
        tags=[],
        max_session_duration=None,
    )
    return str(role.arn)


def _reset_region(partition: Partition) -> None:
    ec2 = ec2_backends[partition.account_id][partition.region]  # moto builds it on first access
    with _fixed_default_vpc_ids():
        ec2.reset()
    logs = logs_backends[partition.account_id][partition.region]
    logs.reset()
    logs.ensure_log_group(BATCH_LOG_GROUP)
    sqs_backends[partition.account_id][partition.region].reset()
    events_backends[partition.account_id][partition.region].reset()


def _reset_iam(account_id: str) -> None:
    iam = iam_backends[account_id]["global"]
    iam.reset()
    for role in _DEFAULT_ROLES:
        iam.create_role(
            role_name=role.name,
            assume_role_policy_document=_trust_policy(role.service),
            path=role.path,
            permissions_boundary=None,
            description="created by the batchops emulator",
            tags=[],
            max_session_duration=None,
        )
    for profile, role_name in _DEFAULT_INSTANCE_PROFILES.items():
        iam.create_instance_profile(name=profile, path="/", role_names=[role_name])


def _trust_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


# (module, ID function, fixed IDs it returns first)
_FIXED_IDS: tuple[tuple[Any, str, tuple[str, ...]], ...] = (
    (moto_vpcs, "random_vpc_id", (DEFAULT_VPC_ID,)),
    (
        moto_subnets,
        "random_subnet_id",
        (DEFAULT_SUBNET_ID, *(f"subnet-0123456789abcdef{n}" for n in range(1, 10))),
    ),
    (moto_security_groups, "random_security_group_id", (DEFAULT_SECURITY_GROUP_ID,)),
)


@contextmanager
def _fixed_default_vpc_ids() -> Iterator[None]:
    # moto draws random IDs for the default VPC it creates; examples need IDs they can write
    # down, so the first IDs drawn while the EC2 backend is rebuilt are fixed ones.
    originals = [(module, name, getattr(module, name)) for module, name, _ in _FIXED_IDS]
    try:
        for (module, name, fixed), (_, _, original) in zip(_FIXED_IDS, originals, strict=True):
            setattr(module, name, _ids_then_random(list(fixed), original))
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def _ids_then_random(fixed: list[str], fallback: Callable[[], str]) -> Callable[[], str]:
    supply = itertools.chain(fixed)

    def next_id() -> str:
        """The next fixed ID while there is one, then a random one."""
        return next(supply, None) or fallback()

    return next_id


# --- lookups of what a compute environment references -----------------------------------------


def subnet_exists(subnet_id: str) -> bool:
    """Whether the account has this subnet."""
    partition = current()
    try:
        ec2_backends[partition.account_id][partition.region].get_subnet(subnet_id)
    except InvalidSubnetIdError:
        return False
    return True


def security_group_exists(group_id: str) -> bool:
    """Whether the account has this security group."""
    partition = current()
    ec2 = ec2_backends[partition.account_id][partition.region]
    return ec2.get_security_group_from_id(group_id) is not None


def role_arn(reference: str) -> str | None:
    """The ARN of an IAM role given by ARN, name, or path/name; None if there is no such role."""
    for role in iam_backends[current().account_id]["global"].get_roles():
        arn = str(role.arn)
        if reference in (arn, role.name) or arn.endswith(f":role/{reference.lstrip('/')}"):
            return arn
    return None


def instance_profile_exists(reference: str) -> bool:
    """Whether an instance profile of this name or ARN exists."""
    return any(
        reference in (profile.name, profile.arn)
        for profile in iam_backends[current().account_id]["global"].get_instance_profiles()
    )
