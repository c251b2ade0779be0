"""The emulated AWS account: its defaults, and lookups of what compute environments reference.

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
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def reset_account() -> None:
    """Reset the moto services the emulator serves to the clean default account."""
    ec2 = ec2_backends[ACCOUNT_ID][REGION]  # moto builds it on first access
    with _fixed_default_vpc_ids():
        ec2.reset()
    iam = iam_backends[ACCOUNT_ID]["global"]
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
    logs = logs_backends[ACCOUNT_ID][REGION]
    logs.reset()
    logs.ensure_log_group(BATCH_LOG_GROUP)
    sqs_backends[ACCOUNT_ID][REGION].reset()
    events_backends[ACCOUNT_ID][REGION].reset()


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
    try:
        ec2_backends[ACCOUNT_ID][REGION].get_subnet(subnet_id)
    except InvalidSubnetIdError:
        return False
    return True


def security_group_exists(group_id: str) -> bool:
    """Whether the account has this security group."""
    return ec2_backends[ACCOUNT_ID][REGION].get_security_group_from_id(group_id) is not None


def role_arn(reference: str) -> str | None:
    """The ARN of an IAM role given by ARN, name, or path/name; None if there is no such role."""
    for role in iam_backends[ACCOUNT_ID]["global"].get_roles():
        arn = str(role.arn)
        if reference in (arn, role.name) or arn.endswith(f":role/{reference.lstrip('/')}"):
            return arn
    return None


def instance_profile_exists(reference: str) -> bool:
    """Whether an instance profile of this name or ARN exists."""
    return any(
        reference in (profile.name, profile.arn)
        for profile in iam_backends[ACCOUNT_ID]["global"].get_instance_profiles()
    )
