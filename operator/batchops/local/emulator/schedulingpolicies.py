"""Fair-share scheduling policies: CreateSchedulingPolicy, DescribeSchedulingPolicies,
ListSchedulingPolicies, UpdateSchedulingPolicy, DeleteSchedulingPolicy.

A scheduling policy has no state and no status: it exists from the moment CreateSchedulingPolicy
returns. Its ARN is arn:aws:batch:<region>:<account>:scheduling-policy/<name>. Tags given at
create are kept in the shared TagStore (TagResource & co. work on the ARN too) and returned by
DescribeSchedulingPolicies.

Every rule below cites the AWS page it comes from next to the check. AWS documents the rules
but not the wording of any rejection, so every message here is "assumed" (errors.py). Where
the documentation is silent, the comment says so and what the emulator does instead.

The job-queue side (a queue names an existing policy; a FIFO queue can't get one; a policy
can't be removed from a queue) lives in infrastructure.py; this module answers whether a
policy exists and refuses to delete one a queue still uses.

The job side: `check_job_share` holds SubmitJob's shareIdentifier and schedulingPriorityOverride
rules, and `FairShare` is what the scheduler (scheduler.py) orders a fair-share queue's jobs by.
The model (user guide "Use share identifiers to identify workloads", share-identifiers.html:
"The AWS Batch scheduler tracks usage for each share identifier by using the (T *
weightFactor) formula, where T is the vCPU usage over time. The scheduler picks jobs with the
lowest usage from the share identifier."): when vCPUs are free, the scheduler takes the share
whose usage times weightFactor is lowest (ties: the share whose next job came first), and
within a share the job with the highest scheduling priority, then the earliest. Simplified:
  - T is the vCPUs the share's jobs hold now (STARTING and RUNNING); shareDecaySeconds, the
    window over which AWS remembers past usage, is stored but not used. With jobs of equal
    length, run slots then split in inverse proportion to the weights, as documented.
  - computeReservation: a share that holds vCPUs may start a job only while the vCPUs left
    free afterwards stay at or above (computeReservation/100)^ActiveFairShares of the queue's
    compute environments' maxvCpus; a share that holds none may use them. "Active" is taken
    to mean "holds vCPUs now" (assumed: AWS does not define it).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

from batchops.local.emulator import account, errors, jobrules
from batchops.local.emulator.paging import page
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import (
    JsonObject,
    object_list,
    optional_int,
    optional_object,
    optional_str,
    required_str,
    str_list,
    str_map,
)

# https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateSchedulingPolicy.html (name):
# "It can be up to 128 letters long. It can contain uppercase and lowercase letters, numbers,
# hyphens (-), and underscores (_)." Unlike compute environment names, nothing is said about
# the first character, so none is required of it.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# https://docs.aws.amazon.com/batch/latest/APIReference/API_FairsharePolicy.html
# shareDecaySeconds: "The maximum supported value is 604800 (1 week)"; 0 means the default
# window. computeReservation: "The minimum value is 0 and the maximum value is 99."
SHARE_DECAY_SECONDS = (0, 604800)
COMPUTE_RESERVATION = (0, 99)

# https://docs.aws.amazon.com/batch/latest/APIReference/API_ShareAttributes.html
# shareIdentifier: "The string is limited to 255 alphanumeric characters, and can be followed by
# an asterisk (*)." The page's own example of an identifier is "UserA1" (an older revision said
# "UserA-1"; the current one drops the hyphen), so only ASCII letters and digits are accepted,
# at least one of them: a bare "*" is not documented as valid.
SHARE_IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z0-9]{1,255}\*?$")
# weightFactor: "The smallest supported value is 0.0001, and the largest supported value is
# 999.9999."
WEIGHT_FACTOR = (0.0001, 999.9999)
# "There can be no more than 500 share identifiers active in a job queue" (same page). The API
# reference gives no length limit for the shareDistribution list itself (FairsharePolicy
# page): the emulator applies the 500 to the list, since a policy that names more identifiers
# than a queue can have active is a mistake; real Batch may accept a longer list.
MAX_SHARE_DISTRIBUTION = 500

# https://docs.aws.amazon.com/batch/latest/APIReference/API_ShareAttributes.html:
# "Specifies the weights for the share identifiers for the fair-share policy. Share identifiers
# that aren't included have a default weight of 1.0." weightFactor: "A lower value has a higher
# priority for compute resources. For example, jobs that use a share identifier with a weight
# factor of 0.125 (1/8) get 8 times the compute resources of jobs that use a share identifier
# with a weight factor of 1."
DEFAULT_WEIGHT_FACTOR = 1.0
# https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateJobQueue.html
# (schedulingPolicyArn): "Jobs queues with a fair-share scheduling policy can have a maximum of
# 500 active share identifiers. When the limit has been reached, submissions of any jobs that
# add a new share identifier fail."
MAX_ACTIVE_SHARES = 500

# https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeSchedulingPolicies.html
# arns: "A list of up to 100 scheduling policy Amazon Resource Name (ARN) entries."
MAX_DESCRIBED = 100
# https://docs.aws.amazon.com/batch/latest/APIReference/API_ListSchedulingPolicies.html
# maxResults: "This value can be between 1 and 100. If this parameter isn't used,
# ListSchedulingPolicies returns up to 100 results".
MAX_LISTED = 100


def scheduling_policy_arn(name: str) -> str:
    """The ARN of the scheduling policy of this name in the emulated account."""
    return f"{account.batch_arn_prefix()}:scheduling-policy/{name}"


@dataclass(eq=False)
class SchedulingPolicy:
    """One scheduling policy; `fairshare_policy` as given (None when the request had none)."""

    name: str
    arn: str
    fairshare_policy: JsonObject | None

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The SchedulingPolicyDetail shape."""
        detail: JsonObject = {"name": self.name, "arn": self.arn, "tags": tags}
        if self.fairshare_policy is not None:
            detail["fairsharePolicy"] = copy.deepcopy(self.fairshare_policy)
        return detail


@dataclass(frozen=True)
class FairShare:
    """What the scheduler orders a fair-share queue's jobs by (see the module docstring)."""

    weights: tuple[tuple[str, float], ...] = ()  # shareDistribution: (identifier, weightFactor)
    compute_reservation: int = 0
    share_decay_seconds: int = 0  # stored, not used: usage is the current one

    def weight_of(self, share_identifier: str) -> float:
        """The weightFactor of a job's share identifier: its own entry, else the entry whose
        prefix ("UserA*") it starts with, else 1.0 (API_ShareAttributes.html; entries can't
        overlap, so at most one applies)."""
        for identifier, weight in self.weights:
            if identifier == share_identifier:
                return weight
        for identifier, weight in self.weights:
            if identifier.endswith("*") and share_identifier.startswith(identifier[:-1]):
                return weight
        return DEFAULT_WEIGHT_FACTOR

    def reserved_vcpus(self, max_vcpus: float, active_shares: int) -> float:
        """The vCPUs kept free for share identifiers not active yet.

        https://docs.aws.amazon.com/batch/latest/APIReference/API_FairsharePolicy.html,
        computeReservation: "A value used to reserve some of the available maximum vCPU for
        share identifiers that aren't already used. The reserved ratio is
        (computeReservation/100)^ActiveFairShares where ActiveFairShares is the number of
        active share identifiers."
        """
        if self.compute_reservation <= 0:
            return 0.0
        return max_vcpus * (self.compute_reservation / 100) ** active_shares


def fair_share_of(policy: JsonObject | None) -> FairShare:
    """The FairShare of a (validated) fairsharePolicy; a policy without one weighs every share
    1.0 and reserves nothing."""
    if policy is None:
        return FairShare()
    weights = tuple(
        (str(share["shareIdentifier"]), float(share.get("weightFactor", DEFAULT_WEIGHT_FACTOR)))
        for share in object_list(policy, "shareDistribution")
    )
    return FairShare(
        weights=weights,
        compute_reservation=optional_int(policy, "computeReservation") or 0,
        share_decay_seconds=optional_int(policy, "shareDecaySeconds") or 0,
    )


def check_job_share(
    queue_arn: str,
    has_policy: bool,
    share_identifier: str | None,
    priority_override: int | None,
    active_shares: Callable[[], set[str]],
) -> None:
    """Refuse SubmitJob's shareIdentifier and schedulingPriorityOverride where AWS says no."""
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html, shareIdentifier:
    # "Don't specify this parameter if the job queue doesn't have a fair-share scheduling
    # policy. If the job queue has a fair-share scheduling policy, then this parameter must be
    # specified. This string is limited to 255 alphanumeric characters, and can be followed by
    # an asterisk (*)." The rejections' wording is not documented (assumed, errors.py).
    if has_policy and share_identifier is None:
        raise errors.share_identifier_required(queue_arn)
    if not has_policy and share_identifier is not None:
        raise errors.share_identifier_on_fifo_queue(queue_arn)
    if share_identifier is not None and not SHARE_IDENTIFIER_PATTERN.match(share_identifier):
        raise errors.share_identifier_pattern(share_identifier)
    # Same page, schedulingPriorityOverride: 0 to 9999 (jobrules.SCHEDULING_PRIORITY). It "only
    # affects jobs in job queues with a fair-share policy"; on a FIFO queue it is accepted and
    # has no effect.
    jobrules.check_scheduling_priority("schedulingPriorityOverride", priority_override)
    # MAX_ACTIVE_SHARES (CreateJobQueue's schedulingPolicyArn): a job naming a new share fails
    # once the queue has 500 active ones. "Active" is taken as "has a job not yet SUCCEEDED or
    # FAILED in the queue" (assumed).
    if has_policy and share_identifier is not None:
        active = active_shares()
        if share_identifier not in active and len(active) >= MAX_ACTIVE_SHARES:
            raise errors.too_many_active_share_identifiers(queue_arn, MAX_ACTIVE_SHARES)


class SchedulingPolicies:
    """The account's scheduling policies and the Batch operations on them.

    `queues_using(arn)` names the job queues (DELETING ones included) whose schedulingPolicyArn
    is `arn`. Every method runs with the emulator's state lock held.
    """

    def __init__(self, tags: TagStore, queues_using: Callable[[str], list[str]]) -> None:
        self._tags = tags
        self._queues_using = queues_using
        self.policies: dict[str, SchedulingPolicy] = {}

    def clear(self) -> None:
        """Forget every policy (emulator reset)."""
        self.policies.clear()

    def exists(self, arn: str) -> bool:
        """Whether a scheduling policy has exactly this ARN."""
        return arn in self.policies

    def fair_share(self, arn: str) -> FairShare:
        """How the scheduler orders the jobs of a queue under the policy `arn` (one that no
        longer exists orders like a policy without a fairsharePolicy)."""
        policy = self.policies.get(arn)
        return fair_share_of(policy.fairshare_policy if policy is not None else None)

    def create(self, body: JsonObject) -> JsonObject:
        """CreateSchedulingPolicy."""
        name = required_str(body, "name")
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateSchedulingPolicy.html
        # (name format: see NAME_PATTERN).
        if not NAME_PATTERN.match(name):
            raise errors.scheduling_policy_name_pattern()
        arn = scheduling_policy_arn(name)
        # https://docs.aws.amazon.com/batch/latest/userguide/create-scheduling-policy.html:
        # "enter a unique name for your scheduling policy". The rejection of a duplicate is not
        # documented; the emulator answers as for a duplicate queue ("Object already exists").
        if arn in self.policies:
            raise errors.already_exists()
        _refuse_quota_share(body)
        fairshare = _validated_fairshare(optional_object(body, "fairsharePolicy"))
        self.policies[arn] = SchedulingPolicy(name=name, arn=arn, fairshare_policy=fairshare)
        self._tags.add(arn, str_map(body, "tags"))
        return {"name": name, "arn": arn}

    def describe(self, body: JsonObject) -> JsonObject:
        """DescribeSchedulingPolicies: the policies among `arns`; unknown ARNs are left out."""
        arns = str_list(body, "arns")
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeSchedulingPolicies.html
        # ("up to 100"). The rejection's wording is not documented.
        if len(arns) > MAX_DESCRIBED:
            raise errors.too_many_scheduling_policies_described()
        # An ARN that names no policy is not an error: like DescribeJobQueues and
        # DescribeComputeEnvironments, the answer just does not contain it (the API reference
        # lists no "not found" error for DescribeSchedulingPolicies, only ClientException for
        # a bad request).
        found = (self.policies.get(arn) for arn in dict.fromkeys(arns))
        return {
            "schedulingPolicies": [
                policy.describe(self._tags.of(policy.arn)) for policy in found if policy is not None
            ]
        }

    def list_arns(self, body: JsonObject) -> JsonObject:
        """ListSchedulingPolicies: every policy's ARN, by name, paginated."""
        max_results = optional_int(body, "maxResults")
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_ListSchedulingPolicies.html
        # (maxResults "between 1 and 100"; paging.page rejects less than 1). The wording for
        # more than 100 is not documented.
        if max_results is not None and max_results > MAX_LISTED:
            raise errors.max_results_too_large(MAX_LISTED)
        # AWS does not document the order; the API reference's example lists
        # ExampleFairSharePolicy before ExampleFairSharePolicy2, which name order agrees with.
        ordered = sorted(self.policies.values(), key=lambda policy: policy.name)
        items, token = page(ordered, max_results, optional_str(body, "nextToken"), MAX_LISTED)
        result: JsonObject = {"schedulingPolicies": [{"arn": policy.arn} for policy in items]}
        if token:
            result["nextToken"] = token
        return result

    def update(self, body: JsonObject) -> JsonObject:
        """UpdateSchedulingPolicy: a new fairsharePolicy replaces the old one whole."""
        policy = self._existing(required_str(body, "arn"))
        _refuse_quota_share(body)
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateSchedulingPolicy.html:
        # fairsharePolicy takes a whole FairsharePolicy object, validated by the same rules as
        # at create. Whether AWS merges it with the old one is not documented: the emulator
        # replaces it, and leaves it alone when the request has none.
        fairshare = optional_object(body, "fairsharePolicy")
        if fairshare is not None:
            policy.fairshare_policy = _validated_fairshare(fairshare)
        return {}

    def delete(self, body: JsonObject) -> JsonObject:
        """DeleteSchedulingPolicy: only when no job queue uses the policy."""
        policy = self._existing(required_str(body, "arn"))
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteSchedulingPolicy.html:
        # "You can't delete a scheduling policy that's used in any job queues." The message is
        # not documented: errors.scheduling_policy_relationship() reuses the one real Batch
        # gives for a compute environment a queue still uses. A DELETING queue still counts,
        # as it does for compute environments.
        if self._queues_using(policy.arn):
            raise errors.scheduling_policy_relationship()
        del self.policies[policy.arn]
        self._tags.forget(policy.arn)
        return {}

    def _existing(self, arn: str) -> SchedulingPolicy:
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateSchedulingPolicy.html
        # and API_DeleteSchedulingPolicy.html list ClientException for "specifying an identifier
        # that's not valid"; the message follows the one seen for queues ("<arn> does not
        # exist").
        policy = self.policies.get(arn)
        if policy is None:
            raise errors.does_not_exist(arn)
        return policy


def _refuse_quota_share(body: JsonObject) -> None:
    # botocore's newer Batch model has quotaSharePolicy ("Only one of fairsharePolicy or
    # quotaSharePolicy can be set"); the emulator implements fair share only and says so
    # rather than storing a policy whose rules it does not know.
    if body.get("quotaSharePolicy") is not None:
        raise errors.client_error("The batchops emulator does not support quotaSharePolicy")


def _validated_fairshare(raw: JsonObject | None) -> JsonObject | None:
    """A copy of a FairsharePolicy with every documented bound checked."""
    if raw is None:
        return None
    policy: JsonObject = {}
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_FairsharePolicy.html
    for field_name, (low, high) in (
        ("shareDecaySeconds", SHARE_DECAY_SECONDS),
        ("computeReservation", COMPUTE_RESERVATION),
    ):
        value = optional_int(raw, field_name)
        if value is None:
            continue
        if not low <= value <= high:
            raise errors.fairshare_out_of_range(field_name, low, high)
        policy[field_name] = value
    if raw.get("shareDistribution") is not None:
        policy["shareDistribution"] = _validated_shares(object_list(raw, "shareDistribution"))
    return policy


def _validated_shares(entries: list[JsonObject]) -> list[JsonObject]:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_ShareAttributes.html for every
    # check below (see the constants for the quoted text).
    if len(entries) > MAX_SHARE_DISTRIBUTION:
        raise errors.too_many_share_identifiers(MAX_SHARE_DISTRIBUTION)
    shares: list[JsonObject] = []
    for entry in entries:
        identifier = required_str(entry, "shareIdentifier")
        if not SHARE_IDENTIFIER_PATTERN.match(identifier):
            raise errors.share_identifier_pattern(identifier)
        share: JsonObject = {"shareIdentifier": identifier}
        weight = entry.get("weightFactor")
        if weight is not None:
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise errors.client_error("weightFactor must be a number")
            low, high = WEIGHT_FACTOR
            if not low <= weight <= high:
                raise errors.fairshare_out_of_range("weightFactor", low, high)
            share["weightFactor"] = weight
        shares.append(share)
    _check_no_overlap([share["shareIdentifier"] for share in shares])
    return shares


def _check_no_overlap(identifiers: list[str]) -> None:
    # ShareAttributes: "If the string ends with an asterisk (*), this entry specifies the weight
    # factor to use for share identifiers that start with that prefix. The list of share
    # identifiers in a fair-share policy can't overlap. For example, you can't have one that
    # specifies a shareIdentifier of UserA* and another that specifies a shareIdentifier of
    # UserA1." Two entries overlap when one job's share identifier could match both: the same
    # identifier twice, a prefix entry and an identifier starting with that prefix, or two
    # prefixes one of which starts with the other.
    for index, first in enumerate(identifiers):
        for second in identifiers[index + 1 :]:
            if _overlap(first, second):
                raise errors.share_identifiers_overlap(first, second)


def _overlap(first: str, second: str) -> bool:
    first_base, second_base = first.rstrip("*"), second.rstrip("*")
    if first == second:
        return True
    if first.endswith("*") and second_base.startswith(first_base):
        return True
    return second.endswith("*") and first_base.startswith(second_base)
