"""Consumable resources (resource-aware scheduling): CreateConsumableResource,
DescribeConsumableResource, ListConsumableResources, UpdateConsumableResource,
DeleteConsumableResource and ListJobsByConsumableResource.

A consumable resource has no state and no status: it exists from the moment
CreateConsumableResource returns. Its ARN is arn:aws:batch:<region>:<account>:
consumable-resource/<name>; every operation that takes one accepts its name or its ARN
(consumableResource: "The name or ARN of the consumable resource", API reference). Tags given at
create are kept in the shared TagStore (TagResource & co. work on the ARN too) and returned by
DescribeConsumableResource.

Jobs claim consumable resources (user guide "Specify the resources needed to run a job",
resource-aware-scheduling-how-to-for-jobs.html): a job definition's consumableResourceProperties,
or SubmitJob's consumableResourcePropertiesOverride instead, lists {consumableResource,
quantity}; RegisterJobDefinition and SubmitJob check the list (`check_requirements`). The
scheduler (scheduler.py) holds a job RUNNABLE while a claimed resource has less available than
it needs, takes the quantities when it starts the job (`hold`) and gives them back when the
attempt ends (`Holding.give_back`): REPLENISHABLE ones return to the available quantity,
NON_REPLENISHABLE ones are taken off the total as well. inUseQuantity is what started jobs hold;
ListJobsByConsumableResource lists the jobs that claim the resource (`ConsumableResourceHooks`).

Every rule below cites the AWS page it comes from next to the check. AWS documents the rules
but not the wording of any rejection, so every message here is "assumed" (errors.py). Where
the documentation is silent, the comment says so and what the emulator does instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from batchops.local.emulator import account, errors
from batchops.local.emulator.paging import page
from batchops.local.emulator.tags import TagStore
from batchops.local.emulator.wire import (
    JsonObject,
    object_list,
    optional_int,
    optional_str,
    required_str,
    str_list,
    str_map,
)

# https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html
# (consumableResourceName) documents no format, only "Must be unique", and the CloudFormation
# resource schema's pattern for it is empty. The emulator applies the rule AWS documents for
# every other Batch name (job queues, scheduling policies: "up to 128 letters long ...
# uppercase and lowercase letters, numbers, hyphens (-), and underscores (_)",
# API_CreateSchedulingPolicy.html): a name with ":" or "/" could not be told from an ARN where
# "The name or ARN" is accepted. Real Batch may accept more.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html
# resourceType: "Can be one of: REPLENISHABLE (default), NON_REPLENISHABLE". botocore's model
# types it as a plain string, so the client does not check it: the emulator does.
RESOURCE_TYPES = ("REPLENISHABLE", "NON_REPLENISHABLE")
DEFAULT_RESOURCE_TYPE = "REPLENISHABLE"

# https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateConsumableResource.html
# operation: "Must be one of: SET ... ADD ... REMOVE".
OPERATIONS = ("SET", "ADD", "REMOVE")
# operation is "Required: No" and no default is documented: the emulator takes SET, so a
# request with only a quantity sets the total.
DEFAULT_OPERATION = "SET"
# clientToken: "A clientToken is valid for 8 hours." (same page)
CLIENT_TOKEN_SECONDS = 8 * 3600

# https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-create.html:
# "The maximum number of consumable resources per account is 50k."
MAX_CONSUMABLE_RESOURCES = 50_000

# https://docs.aws.amazon.com/batch/latest/APIReference/API_ListConsumableResources.html
# maxResults: "This value can be between 1 and 100. If this parameter isn't used, then
# ListConsumableResources returns up to 100 results"; the same words for
# ListJobsByConsumableResource (API_ListJobsByConsumableResource.html).
MAX_LISTED = 100
# filters: "name: CONSUMABLE_RESOURCE_NAME" is the only filter name ListConsumableResources
# documents; ListJobsByConsumableResource documents JOB_STATUS (values SUBMITTED | PENDING |
# RUNNABLE | STARTING | RUNNING | SUCCEEDED | FAILED) and JOB_NAME.
NAME_FILTER = "CONSUMABLE_RESOURCE_NAME"
JOB_FILTERS = ("JOB_STATUS", "JOB_NAME")
JOB_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


# https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-for-jobs.html:
# "You can specify up to 5 resources for each job you define." (said of the console wizard;
# the emulator applies it to the API too, rejection text assumed).
MAX_REQUIREMENTS = 5


def consumable_resource_arn(name: str) -> str:
    """The ARN of the consumable resource of this name in the emulated account."""
    return f"{account.batch_arn_prefix()}:consumable-resource/{name}"


@dataclass(frozen=True)
class Claim:
    """One consumableResourceList entry of a job: the resource's name and the quantity."""

    resource: str
    quantity: int


def claims_of(properties: JsonObject | None) -> tuple[Claim, ...]:
    """The claims of (checked) consumableResourceProperties; a resource named by ARN is
    claimed by its name, the part after "consumable-resource/"."""
    if properties is None:
        return ()
    return tuple(
        Claim(_name_of(str(entry["consumableResource"])), int(entry["quantity"]))
        for entry in object_list(properties, "consumableResourceList")
    )


def _name_of(identifier: str) -> str:
    return identifier.rpartition("/")[2] if identifier.startswith("arn:") else identifier


@dataclass(eq=False)
class ConsumableResource:
    """One consumable resource; `in_use` is what started jobs hold of it."""

    name: str
    arn: str
    total: int
    resource_type: str
    created_at: int
    in_use: int = 0

    @property
    def available(self) -> int:
        """What is left for new jobs (never below zero; see UpdateConsumableResource)."""
        return max(self.total - self.in_use, 0)

    def give_back(self, quantity: int) -> None:
        """A job that held `quantity` of this resource ended its attempt.

        https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-check-resources-check-resources.html:
        "If the resource is REPLENISHABLE, the number of consumed resources will be added back
        to the available quantity as soon as the job has moved to either the SUCCEEDED or
        FAILED state, and the total quantity will remain the same. If the resource is
        NON_REPLENISHABLE, the number of consumed resources is subtracted from both the total
        and available quantities and won't be added back". The emulator counts a
        NON_REPLENISHABLE claim as in use while the job runs and takes it off the total when
        the attempt ends (when AWS lowers the total is not documented: assumed). An attempt
        that ends and is retried gives back too, and the retry claims again (assumed: AWS
        speaks only of SUCCEEDED and FAILED).
        """
        self.in_use = max(self.in_use - quantity, 0)
        if self.resource_type == "NON_REPLENISHABLE":
            self.total = max(self.total - quantity, 0)

    def summary(self) -> JsonObject:
        """The ConsumableResourceSummary shape (ListConsumableResources)."""
        return {
            "consumableResourceArn": self.arn,
            "consumableResourceName": self.name,
            "totalQuantity": self.total,
            "inUseQuantity": self.in_use,
            "resourceType": self.resource_type,
        }

    def describe(self, tags: dict[str, str]) -> JsonObject:
        """The DescribeConsumableResource response."""
        detail: JsonObject = {
            "consumableResourceName": self.name,
            "consumableResourceArn": self.arn,
            "totalQuantity": self.total,
            "inUseQuantity": self.in_use,
            "availableQuantity": self.available,
            "resourceType": self.resource_type,
            "createdAt": self.created_at,
        }
        # botocore's TagrisTagsMap has "min": 1: a resource without tags has no tags member
        # rather than an empty map.
        if tags:
            detail["tags"] = tags
        return detail


@dataclass(frozen=True)
class Holding:
    """What a started job holds of one consumable resource (the very resource object: one
    deleted meanwhile, or deleted and re-created, is not given anything back; assumed)."""

    resource: ConsumableResource
    quantity: int

    def give_back(self) -> None:
        """Return the quantity (see ConsumableResource.give_back)."""
        self.resource.give_back(self.quantity)


@dataclass(frozen=True)
class Shortfall:
    """A claim the resource can't meet now: `available` of it (0 when it does not exist)."""

    claim: Claim
    available: int


@dataclass(frozen=True)
class ConsumableResourceHooks:
    """What consumable resources need from the job scheduler."""

    quantity_changed: Callable[[], None]  # a resource was created, updated or deleted
    jobs_claiming: Callable[[str], list[JsonObject]]  # ListJobsByConsumableResourceSummary


@dataclass(frozen=True)
class _Replay:
    """An UpdateConsumableResource already applied under a clientToken: its answer, and until
    when (monotonic seconds) the token counts."""

    response: JsonObject
    expires: float


class ConsumableResources:
    """The account's consumable resources and the Batch operations on them.

    `now_ms()` gives createdAt (epoch milliseconds); `monotonic()` times clientTokens. Every
    method runs with the emulator's state lock held.
    """

    def __init__(
        self, tags: TagStore, now_ms: Callable[[], int], monotonic: Callable[[], float]
    ) -> None:
        self._tags = tags
        self._now_ms = now_ms
        self._monotonic = monotonic
        self.resources: dict[str, ConsumableResource] = {}
        # (resource ARN, clientToken, consumableResource, operation, quantity) -> the answer.
        self._tokens: dict[tuple[str, str, str, str | None, int | None], _Replay] = {}
        self.hooks: ConsumableResourceHooks | None = None

    def clear(self) -> None:
        """Forget every consumable resource and clientToken (emulator reset)."""
        self.resources.clear()
        self._tokens.clear()

    def exists(self, arn: str) -> bool:
        """Whether a consumable resource has exactly this ARN."""
        name = arn.rpartition("/")[2]
        resource = self.resources.get(name)
        return resource is not None and resource.arn == arn

    def find(self, identifier: str) -> ConsumableResource | None:
        """The consumable resource of this name or ARN, if there is one."""
        resource = self.resources.get(_name_of(identifier))
        if resource is None or (identifier.startswith("arn:") and resource.arn != identifier):
            return None
        return resource

    # --- jobs claiming resources ------------------------------------------------------------------

    def check_requirements(self, properties: JsonObject | None) -> None:
        """Refuse consumableResourceProperties (RegisterJobDefinition) or
        consumableResourcePropertiesOverride (SubmitJob) that name a resource that does not
        exist, or claim less than 1 of one."""
        if properties is None:
            return
        entries = object_list(properties, "consumableResourceList")
        # resource-aware-scheduling-how-to-for-jobs.html ("up to 5 resources", MAX_REQUIREMENTS).
        if len(entries) > MAX_REQUIREMENTS:
            raise errors.too_many_consumable_resource_requirements(MAX_REQUIREMENTS)
        for entry in entries:
            # https://docs.aws.amazon.com/batch/latest/APIReference/API_ConsumableResourceRequirement.html:
            # consumableResource "The name or ARN of the consumable resource", quantity "The
            # quantity of the consumable resource that is needed". The user guide: "When you
            # register a job you can specify the name of one or more resources you created"
            # (resource-aware-scheduling-how-to-for-jobs.html), so the resource must exist. AWS
            # documents no minimum quantity nor any rejection text: below 1 is refused and every
            # text is assumed (errors.py).
            identifier = optional_str(entry, "consumableResource")
            if identifier is None:
                raise errors.consumable_resource_requirement_missing("consumableResource")
            quantity = optional_int(entry, "quantity")
            if quantity is None:
                raise errors.consumable_resource_requirement_missing("quantity")
            if self.find(identifier) is None:
                raise errors.consumable_resource_not_found(identifier)
            if quantity < 1:
                raise errors.consumable_resource_quantity(identifier, quantity)

    def shortfalls(self, claims: tuple[Claim, ...]) -> list[Shortfall]:
        """The claims that can't be met now. A resource deleted after the job was submitted
        counts as none available: the job waits until one of that name exists again (AWS:
        "If you delete a consumable resource and re-create it with the same name, it is
        considered to be the same resource", resource-aware-scheduling-how-to-delete.html;
        what happens to waiting jobs is not documented: assumed)."""
        short = []
        for claim in claims:
            resource = self.resources.get(claim.resource)
            available = resource.available if resource is not None else 0
            if available < claim.quantity:
                short.append(Shortfall(claim, available))
        return short

    def hold(self, claims: tuple[Claim, ...]) -> list[Holding]:
        """Take the claimed quantities for a job that starts now (every claim can be met).

        resource-aware-scheduling-how-to-for-jobs.html: "Resources are locked once the job
        moves to STARTING and are then unlocked when the job moves to SUCCEEDED or FAILED."
        """
        holdings = []
        for claim in claims:
            resource = self.resources[claim.resource]
            resource.in_use += claim.quantity
            holdings.append(Holding(resource, claim.quantity))
        return holdings

    def _quantity_changed(self) -> None:
        if self.hooks is not None:
            self.hooks.quantity_changed()

    def create(self, body: JsonObject) -> JsonObject:
        """CreateConsumableResource."""
        name = required_str(body, "consumableResourceName")
        # (name format: see NAME_PATTERN; not documented by AWS.)
        if not NAME_PATTERN.match(name):
            raise errors.consumable_resource_name_pattern()
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html
        # consumableResourceName: "Must be unique."; the user guide
        # (resource-aware-scheduling-how-to-create.html) says "unique at the account level".
        # The rejection is not documented; the emulator answers as for a duplicate queue.
        if name in self.resources:
            raise errors.already_exists()
        # https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-create.html
        # ("The maximum number of consumable resources per account is 50k.")
        if len(self.resources) >= MAX_CONSUMABLE_RESOURCES:
            raise errors.too_many_consumable_resources(MAX_CONSUMABLE_RESOURCES)
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html
        # totalQuantity: "Must be non-negative.", "Required: No". With no totalQuantity the
        # emulator starts at 0 (AWS documents no default).
        total = optional_int(body, "totalQuantity")
        if total is not None and total < 0:
            raise errors.negative_quantity("totalQuantity", total)
        # resourceType: REPLENISHABLE (default) or NON_REPLENISHABLE (same page).
        resource_type = optional_str(body, "resourceType") or DEFAULT_RESOURCE_TYPE
        if resource_type not in RESOURCE_TYPES:
            raise errors.enum_value("resourceType", resource_type, RESOURCE_TYPES)
        arn = consumable_resource_arn(name)
        self.resources[name] = ConsumableResource(
            name=name,
            arn=arn,
            total=total or 0,
            resource_type=resource_type,
            created_at=self._now_ms(),
        )
        self._tags.add(arn, str_map(body, "tags"))
        self._quantity_changed()
        return {"consumableResourceName": name, "consumableResourceArn": arn}

    def describe(self, body: JsonObject) -> JsonObject:
        """DescribeConsumableResource: one resource, by name or ARN."""
        resource = self._existing(required_str(body, "consumableResource"))
        return resource.describe(self._tags.of(resource.arn))

    def list_summaries(self, body: JsonObject) -> JsonObject:
        """ListConsumableResources: every resource matching the filters, by name, paginated."""
        max_results = _max_results(body)
        patterns = _name_filters(object_list(body, "filters"))
        # AWS does not document the order: the emulator lists by name, like
        # ListSchedulingPolicies.
        ordered = sorted(self.resources.values(), key=lambda resource: resource.name)
        matching = [r for r in ordered if all(_matches(r.name, p) for p in patterns)]
        items, token = page(matching, max_results, optional_str(body, "nextToken"), MAX_LISTED)
        result: JsonObject = {"consumableResources": [r.summary() for r in items]}
        if token:
            result["nextToken"] = token
        return result

    def update(self, body: JsonObject) -> JsonObject:
        """UpdateConsumableResource: SET, ADD or REMOVE a quantity, at most once per
        clientToken."""
        identifier = required_str(body, "consumableResource")
        resource = self._existing(identifier)
        operation = optional_str(body, "operation")
        quantity = optional_int(body, "quantity")
        token = optional_str(body, "clientToken")
        now = self._monotonic()
        self._forget_expired_tokens(now)
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateConsumableResource.html
        # clientToken: "If this parameter is specified and two update requests with identical
        # payloads and clientTokens are received, these requests are considered the same
        # request. Both requests will succeed, but the update will only happen once. A
        # clientToken is valid for 8 hours." The second request gets the first one's answer.
        # (Another revision of the page said the second request "is rejected"; the current one
        # and botocore's model say both succeed.) The same token with a different payload is
        # not "the same request": it is applied as a new one.
        key = (resource.arn, token, identifier, operation, quantity) if token else None
        if key is not None and key in self._tokens:
            return dict(self._tokens[key].response)
        # operation: "Must be one of: SET ... ADD ... REMOVE" (same page; default: see
        # DEFAULT_OPERATION).
        operation_name = operation or DEFAULT_OPERATION
        if operation_name not in OPERATIONS:
            raise errors.enum_value("operation", operation_name, OPERATIONS)
        # quantity: "Must be a non-negative value." (same page). It is "Required: No" and
        # what an update without one does is not documented: the emulator changes nothing.
        if quantity is not None:
            if quantity < 0:
                raise errors.negative_quantity("quantity", quantity)
            resource.total = _new_total(resource, operation_name, quantity)
            self._quantity_changed()
        response: JsonObject = {
            "consumableResourceName": resource.name,
            "consumableResourceArn": resource.arn,
            "totalQuantity": resource.total,
        }
        if key is not None:
            self._tokens[key] = _Replay(dict(response), now + CLIENT_TOKEN_SECONDS)
        return response

    def delete(self, body: JsonObject) -> JsonObject:
        """DeleteConsumableResource: always allowed for an existing resource."""
        resource = self._existing(required_str(body, "consumableResource"))
        # https://docs.aws.amazon.com/batch/latest/userguide/resource-aware-scheduling-how-to-delete.html:
        # "You can delete a consumable resource at any time, even when the jobs that require
        # the resource are still running." So no in-use check. "If you delete a consumable
        # resource and re-create it with the same name, it is considered to be the same
        # resource": a re-created one has the same ARN (and, here, new tags and createdAt).
        # Jobs holding it keep running; what they hold is not given back to a re-created
        # resource of the same name, and jobs still waiting for it wait until one exists again
        # (not documented: assumed; see Holding and shortfalls).
        del self.resources[resource.name]
        self._tags.forget(resource.arn)
        self._tokens = {key: value for key, value in self._tokens.items() if key[0] != resource.arn}
        self._quantity_changed()
        return {}

    def list_jobs(self, body: JsonObject) -> JsonObject:
        """ListJobsByConsumableResource: the jobs that claim the resource, filtered by
        JOB_STATUS and JOB_NAME, paginated."""
        resource = self._existing(required_str(body, "consumableResource"))
        max_results = _max_results(body)
        filters = object_list(body, "filters")
        _check_job_filters(filters)
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobsByConsumableResource.html:
        # "Returns a list of Batch jobs that require a specific consumable resource." Every
        # job whose consumableResourceProperties (after the override) names it, in any status,
        # in submission order (the order is not documented; see scheduler.jobs_claiming).
        claiming = self.hooks.jobs_claiming(resource.name) if self.hooks is not None else []
        jobs = [job for job in claiming if all(_job_matches(job, f) for f in filters)]
        items, token = page(jobs, max_results, optional_str(body, "nextToken"), MAX_LISTED)
        result: JsonObject = {"jobs": items}
        if token:
            result["nextToken"] = token
        return result

    def _existing(self, identifier: str) -> ConsumableResource:
        # https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeConsumableResource.html,
        # API_UpdateConsumableResource.html, API_DeleteConsumableResource.html and
        # API_ListJobsByConsumableResource.html take "The name or ARN of the consumable
        # resource" and list ClientException for "specifying an identifier that's not valid".
        # The wording is not documented (errors.consumable_resource_not_found).
        if identifier.startswith("arn:"):
            resource = self.resources.get(identifier.rpartition("/")[2])
            if resource is not None and resource.arn == identifier:
                return resource
        elif identifier in self.resources:
            return self.resources[identifier]
        raise errors.consumable_resource_not_found(identifier)

    def _forget_expired_tokens(self, now: float) -> None:
        self._tokens = {key: value for key, value in self._tokens.items() if value.expires > now}


def _new_total(resource: ConsumableResource, operation: str, quantity: int) -> int:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateConsumableResource.html:
    # SET "Sets the quantity of the resource to the value specified by the quantity parameter",
    # ADD "Increases ...", REMOVE "Reduces the quantity of the resource by the value".
    if operation == "SET":
        return quantity
    if operation == "ADD":
        return resource.total + quantity
    # AWS does not document REMOVE below zero. totalQuantity "Must be non-negative"
    # (API_CreateConsumableResource.html), so the emulator refuses a REMOVE of more than the
    # total rather than clamping it; real Batch may clamp. Units in use do not matter here:
    # "If there are units in use, Batch reduces the available quantity immediately and, as
    # jobs finish, Batch reduces the total (available) quantity so that it eventually arrives
    # at the new number." (resource-aware-scheduling-how-to-update-quantity.html)
    if quantity > resource.total:
        raise errors.quantity_below_zero(resource.name, resource.total, quantity)
    return resource.total - quantity


def _max_results(body: JsonObject) -> int | None:
    # maxResults "between 1 and 100" (see MAX_LISTED; paging.page rejects less than 1). The
    # wording for more than 100 is not documented.
    max_results = optional_int(body, "maxResults")
    if max_results is not None and max_results > MAX_LISTED:
        raise errors.max_results_too_large(MAX_LISTED)
    return max_results


def _name_filters(filters: list[JsonObject]) -> list[list[str]]:
    """The CONSUMABLE_RESOURCE_NAME filters' values; any other filter name is refused."""
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_ListConsumableResources.html
    # names CONSUMABLE_RESOURCE_NAME as the only filter; what AWS does with another name is
    # not documented: the emulator refuses it rather than ignoring it. A resource must match
    # every filter, and one of each filter's values.
    patterns: list[list[str]] = []
    for entry in filters:
        name = optional_str(entry, "name")
        if name != NAME_FILTER:
            raise errors.unknown_filter(name, (NAME_FILTER,))
        patterns.append(str_list(entry, "values"))
    return patterns


def _matches(name: str, values: list[str]) -> bool:
    # "values: case-insensitive matches for the consumable resource name. If a filter value
    # ends with an asterisk (*), it matches any consumable resource name that begins with the
    # string before the '*'." (API_ListConsumableResources.html)
    lowered = name.lower()
    for value in values:
        wanted = value.lower()
        if wanted.endswith("*"):
            if lowered.startswith(wanted[:-1]):
                return True
        elif lowered == wanted:
            return True
    return False


def _job_matches(job: JsonObject, entry: JsonObject) -> bool:
    # API_ListJobsByConsumableResource.html, filters: "only those jobs requiring the specified
    # consumable resource (consumableResource) and that match the value of the filters are
    # listed"; JOB_STATUS takes job statuses, JOB_NAME "The values are case-insensitive
    # matches for the job name. If a filter value ends with an asterisk (*), it matches any
    # job name that begins with the string before the '*'." A job must match every filter,
    # and one of each filter's values.
    values = str_list(entry, "values")
    if optional_str(entry, "name") == "JOB_STATUS":
        return job["jobStatus"] in values
    return _matches(str(job["jobName"]), values)


def _check_job_filters(filters: list[JsonObject]) -> None:
    # https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobsByConsumableResource.html
    # (filters: JOB_STATUS with the seven job statuses, JOB_NAME with names or prefixes*).
    for entry in filters:
        name = optional_str(entry, "name")
        if name not in JOB_FILTERS:
            raise errors.unknown_filter(name, JOB_FILTERS)
        values = str_list(entry, "values")
        if name == "JOB_STATUS":
            for value in values:
                if value not in JOB_STATUSES:
                    raise errors.enum_value("JOB_STATUS", value, JOB_STATUSES)
