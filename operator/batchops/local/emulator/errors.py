"""Errors the emulator answers with, shaped and worded like real AWS Batch.

Batch has two error classes: ClientException (HTTP 400) and ServerException (HTTP 500); the
fault injector adds throttling (HTTP 429, TooManyRequestsException) as the Batch front end does.
Real Batch words its validation errors two ways, and both are kept:

- plain text, e.g. "Cannot delete, found existing JobQueue relationship";
- wrapped, "Error executing request, Exception : <detail>, RequestId: <uuid>".

Every message text lives in this module. Each docstring says where it comes from: "seen" means
the exact text appears in public error reports from real AWS; "assumed" means no public report
was found and the text follows the seen ones in style (a client should match on "seen" ones).
"""

from __future__ import annotations

import uuid


class BatchApiError(Exception):
    """An error response: HTTP status, AWS error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def client_error(message: str) -> BatchApiError:
    """A ClientException (HTTP 400) with exactly this message."""
    return BatchApiError(400, "ClientException", message)


def request_error(detail: str) -> BatchApiError:
    """A ClientException in Batch's wrapped form, with a fresh request id."""
    return client_error(f"Error executing request, Exception : {detail}, RequestId: {uuid.uuid4()}")


def server_error() -> BatchApiError:
    """A ServerException (HTTP 500), as the fault injector's 5xx."""
    return BatchApiError(500, "ServerException", "Internal Server Error")


def throttled() -> BatchApiError:
    """HTTP 429 TooManyRequestsException, which botocore's retry logic treats as throttling."""
    return BatchApiError(429, "TooManyRequestsException", "Too Many Requests")


# --- compute environments and job queues -----------------------------------------------------


def already_exists() -> BatchApiError:
    """Seen: CloudFormation reports it as "Object already exists" for a queue of the same name."""
    return client_error("Object already exists")


def does_not_exist(arn: str) -> BatchApiError:
    """Seen: "arn:aws:batch:...:job-queue/X does not exist" (UpdateJobQueue of a deleted queue);
    Terraform's provider matches "does not exist" for compute environments too."""
    return client_error(f"{arn} does not exist")


def being_modified() -> BatchApiError:
    """Seen: DeleteJobQueue / DeleteComputeEnvironment while the resource is CREATING/UPDATING."""
    return client_error("Cannot delete, resource is being modified")


def update_while_modified() -> BatchApiError:
    """Seen in part: UpdateJobQueue on a CREATING/UPDATING queue fails with a ClientException
    ending "resource is being modified"; the beginning is assumed."""
    return client_error("Cannot update, resource is being modified")


def ce_relationship() -> BatchApiError:
    """Seen: DeleteComputeEnvironment while a job queue (even a DELETING one) still uses it."""
    return client_error("Cannot delete, found existing JobQueue relationship")


def delete_not_disabled(kind: str) -> BatchApiError:
    """Assumed: the API reference requires DISABLED before deletion; no public report of the
    text."""
    return client_error(f"Cannot delete, {kind} must be in DISABLED state")


def infrastructure_update_not_allowed(fields: list[str]) -> BatchApiError:
    """Assumed: AWS documents the rule (service-linked role and an updatable allocation
    strategy); the wording is ours."""
    return request_error(
        "Updating " + ", ".join(sorted(fields)) + " requires an infrastructure update, which is "
        "only supported for compute environments that use the AWSServiceRoleForBatch "
        "service-linked role and the BEST_FIT_PROGRESSIVE, SPOT_CAPACITY_OPTIMIZED or "
        "SPOT_PRICE_CAPACITY_OPTIMIZED allocation strategy"
    )


def cannot_change_provisioning(old: str, new: str) -> BatchApiError:
    """Assumed."""
    return request_error(f"Compute resource type cannot be updated from {old} to {new}")


def not_applicable_for_fargate(field: str) -> BatchApiError:
    """Seen: "Error executing request, Exception : desiredvCpus is not applicable for Fargate."."""
    return request_error(f"{field} is not applicable for Fargate.")


def instance_role_required() -> BatchApiError:
    """Seen: "Error executing request, Exception : Instance role is required."."""
    return request_error("Instance role is required.")


def min_vcpus_required() -> BatchApiError:
    """Seen: "Error executing request, Exception : Resource minvCpus is required."."""
    return request_error("Resource minvCpus is required.")


def invalid_parameter(detail: str) -> BatchApiError:
    """Assumed: the wrapped form around a short explanation."""
    return request_error(detail)


def queue_ce_not_valid(arn: str) -> BatchApiError:
    """Assumed: the API reference says compute environments must be VALID to be associated."""
    return request_error(f"computeEnvironment {arn} is not in VALID state")


def queue_ce_mixed() -> BatchApiError:
    """Assumed: the API reference says EC2 and Fargate compute environments can't be mixed."""
    return request_error(
        "All compute environments in a job queue must be either EC2 (EC2 or SPOT) or Fargate "
        "(FARGATE or FARGATE_SPOT)"
    )


def queue_too_many_ces() -> BatchApiError:
    """Assumed: a job queue takes at most 3 compute environments."""
    return request_error("A job queue can have at most 3 compute environments")


# --- job definitions ---------------------------------------------------------------------------


def retry_attempts_required() -> BatchApiError:
    """Seen (Terraform acceptance test): an empty retryStrategy."""
    return request_error("RetryAttempts must be provided with retry strategy")


def image_required() -> BatchApiError:
    """Seen: "Container.image should not be null or empty."."""
    return request_error("Container.image should not be null or empty.")


# --- jobs --------------------------------------------------------------------------------------


def job_name_pattern() -> BatchApiError:
    """Seen: "Error executing request, Exception : Job name should match valid pattern"."""
    return request_error("Job name should match valid pattern")


def too_many_dependencies() -> BatchApiError:
    """Seen: "Error executing request, Exception : Job cannot have more than 20 dependencies"."""
    return request_error("Job cannot have more than 20 dependencies")


def too_many_jobs_described() -> BatchApiError:
    """Seen (note the double space, verbatim): DescribeJobs with more than 100 ids."""
    return request_error("Maximum number of jobs supported is  100 .")


def missing_parameter(name: str) -> BatchApiError:
    """Seen: "Unable to substitute value. No parameter found for reference job_id"."""
    return client_error(f"Unable to substitute value. No parameter found for reference {name}")


def queue_not_enabled(arn: str) -> BatchApiError:
    """Assumed."""
    return request_error(f"Job Queue {arn} is not in ENABLED state")


def job_definition_not_found(reference: str) -> BatchApiError:
    """Assumed."""
    return request_error(f"Job definition {reference} does not exist")


def job_definition_inactive(arn: str) -> BatchApiError:
    """Assumed."""
    return request_error(f"Job definition {arn} is INACTIVE")


def dependency_not_found(job_id: str) -> BatchApiError:
    """Assumed."""
    return request_error(f"Dependent job {job_id} does not exist")


def resource_not_found(arn: str) -> BatchApiError:
    """Assumed: tagging an ARN that does not name a Batch resource."""
    return client_error(f"Resource {arn} not found")


# --- scheduling policies -----------------------------------------------------------------------
# AWS documents the rules (schedulingpolicies.py cites each page) but no rejection's wording.


def scheduling_policy_name_pattern() -> BatchApiError:
    """Assumed: worded like the seen "Job name should match valid pattern"."""
    return request_error("Scheduling policy name should match valid pattern")


def fairshare_out_of_range(field: str, low: float, high: float) -> BatchApiError:
    """Assumed: shareDecaySeconds, computeReservation or weightFactor outside its documented
    range."""
    return request_error(f"{field} must be between {low} and {high}")


def too_many_share_identifiers(limit: int) -> BatchApiError:
    """Assumed."""
    return request_error(f"shareDistribution can have at most {limit} share identifiers")


def share_identifier_pattern(identifier: str) -> BatchApiError:
    """Assumed: worded like the seen "Job name should match valid pattern"."""
    return request_error(f"Share identifier {identifier} should match valid pattern")


def share_identifiers_overlap(first: str, second: str) -> BatchApiError:
    """Assumed: the API reference (ShareAttributes) says the identifiers can't overlap."""
    return request_error(f"Share identifiers {first} and {second} overlap")


def too_many_scheduling_policies_described() -> BatchApiError:
    """Assumed: worded like the seen DescribeJobs one, without its double space."""
    return request_error("Maximum number of scheduling policies supported is 100")


def max_results_too_large(limit: int) -> BatchApiError:
    """Assumed."""
    return client_error(f"maxResults must be less than or equal to {limit}")


def scheduling_policy_relationship() -> BatchApiError:
    """Assumed: the API reference says a scheduling policy used by a job queue can't be
    deleted; the text is the one seen for a compute environment a queue still uses."""
    return client_error("Cannot delete, found existing JobQueue relationship")


def queue_scheduling_policy_added(arn: str) -> BatchApiError:
    """Assumed: the API reference (CreateJobQueue) says a FIFO job queue "can't have a
    fair-share scheduling policy added"."""
    return request_error(f"Job queue {arn} has no scheduling policy, and one can't be added")


def queue_scheduling_policy_removed(arn: str) -> BatchApiError:
    """Assumed: the API reference (UpdateJobQueue) says a job queue's fair-share scheduling
    policy "can be replaced but not removed"."""
    return request_error(f"The scheduling policy of job queue {arn} can't be removed")


# --- consumable resources ----------------------------------------------------------------------
# AWS documents the rules (consumableresources.py cites each page) but no rejection's wording.


def consumable_resource_name_pattern() -> BatchApiError:
    """Assumed: worded like the seen "Job name should match valid pattern"; AWS documents no
    format for the name (consumableresources.NAME_PATTERN says what is checked)."""
    return request_error("Consumable resource name should match valid pattern")


def consumable_resource_not_found(identifier: str) -> BatchApiError:
    """Assumed: a name or ARN naming no consumable resource, worded like the seen "<arn> does
    not exist"."""
    return client_error(f"Consumable resource {identifier} does not exist")


def too_many_consumable_resources(limit: int) -> BatchApiError:
    """Assumed: the user guide says an account has at most 50k consumable resources."""
    return request_error(f"An account can have at most {limit} consumable resources")


def negative_quantity(field: str, value: int) -> BatchApiError:
    """Assumed: totalQuantity and quantity "Must be non-negative" (API reference)."""
    return request_error(f"{field} must be non-negative, got {value}")


def quantity_below_zero(name: str, total: int, quantity: int) -> BatchApiError:
    """Assumed: AWS does not document a REMOVE of more than the total; the emulator refuses
    it."""
    return request_error(
        f"Cannot remove {quantity} from consumable resource {name}: its total quantity is {total}"
    )


def enum_value(field: str, value: str, allowed: tuple[str, ...]) -> BatchApiError:
    """Assumed: a value outside the ones the API reference lists (resourceType, operation,
    JOB_STATUS)."""
    return request_error(f"{field} {value} is not one of " + ", ".join(allowed))


def unknown_filter(name: str | None, allowed: tuple[str, ...]) -> BatchApiError:
    """Assumed: a filter name the API reference does not list for the operation."""
    return client_error(f"Invalid filter name {name}, must be one of " + ", ".join(allowed))
