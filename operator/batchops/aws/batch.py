"""Typed wrappers for exactly the AWS Batch calls the operator makes.

Every method goes through `invoke` (errors translated to `Retryable` / `Terminal`, the call
counted) and returns boto3-stubs TypedDicts. Describe calls return None or a shorter list for
what does not exist: Batch answers an unknown name or job id with an empty list, not an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Literal, TypeVar

from batchops.aws.calls import CALLS, CallCounter, invoke
from batchops.aws.errors import NotFound
from batchops.aws.projection import Projection, projected, trim_before_parse
from batchops.aws.ratelimit import SUBMIT_JOB_BUCKET, TokenBucket

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_batch.type_defs import (
        ComputeEnvironmentDetailTypeDef,
        ConsumableResourceSummaryTypeDef,
        CreateComputeEnvironmentRequestTypeDef,
        CreateComputeEnvironmentResponseTypeDef,
        CreateConsumableResourceRequestTypeDef,
        CreateJobQueueRequestTypeDef,
        CreateJobQueueResponseTypeDef,
        CreateSchedulingPolicyRequestTypeDef,
        CreateSchedulingPolicyResponseTypeDef,
        DescribeComputeEnvironmentsRequestTypeDef,
        DescribeConsumableResourceResponseTypeDef,
        DescribeJobDefinitionsRequestTypeDef,
        DescribeJobQueuesRequestTypeDef,
        JobDefinitionTypeDef,
        JobDetailTypeDef,
        JobQueueDetailTypeDef,
        JobSummaryTypeDef,
        ListConsumableResourcesRequestTypeDef,
        ListJobsRequestTypeDef,
        ListSchedulingPoliciesRequestTypeDef,
        RegisterJobDefinitionRequestTypeDef,
        RegisterJobDefinitionResponseTypeDef,
        SchedulingPolicyDetailTypeDef,
        SubmitJobRequestTypeDef,
        SubmitJobResponseTypeDef,
        UpdateComputeEnvironmentRequestTypeDef,
        UpdateComputeEnvironmentResponseTypeDef,
        UpdateConsumableResourceRequestTypeDef,
        UpdateJobQueueRequestTypeDef,
        UpdateJobQueueResponseTypeDef,
        UpdateSchedulingPolicyRequestTypeDef,
    )

T = TypeVar("T")

DESCRIBE_JOBS_MAX_IDS = 100
"""DescribeJobs refuses more than 100 job ids per call."""
DESCRIBE_SCHEDULING_POLICIES_MAX_ARNS = 100
"""DescribeSchedulingPolicies takes "a list of up to 100" ARNs (API reference)."""

SUBMITS_IN_FLIGHT = 8
"""SubmitJobs one region's client keeps in flight for `submit_jobs`. One at a time, a single
pipeline submits at 1 / latency (about 14/s against the emulator, fewer on AWS); AWS's quota
is 50/s per account, so at 100 ms a call it takes 5 in flight to reach it. The token bucket
still paces them all."""

JobDefinitionStatus = Literal["ACTIVE", "INACTIVE"]


class BatchApi:
    """One region's Batch client with error translation, call counting and the SubmitJob limit."""

    def __init__(
        self,
        client: BatchClient,
        counter: CallCounter = CALLS,
        submit_bucket: TokenBucket = SUBMIT_JOB_BUCKET,
    ) -> None:
        self._client = client
        self._counter = counter
        self._submit_bucket = submit_bucket
        self._submitters: ThreadPoolExecutor | None = None
        self._submitters_lock = threading.Lock()
        client.meta.events.register(
            "before-parse", trim_before_parse, unique_id="batchops-projection"
        )

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        return invoke(operation, call, self._counter)

    def _all_pages(
        self, operation: str, page: Callable[[str | None], tuple[Sequence[T], str | None]]
    ) -> list[T]:
        """Follow nextToken until AWS stops returning one; `page(token)` makes one call."""
        items: list[T] = []
        token: str | None = None
        while True:
            found, token = self._call(operation, partial(page, token))
            items += found
            if not token:
                return items

    # -- compute environments -----------------------------------------------------------------

    def describe_compute_environment(self, name: str) -> ComputeEnvironmentDetailTypeDef | None:
        """One compute environment by name or ARN, or None if Batch does not know it."""
        response = self._call(
            "DescribeComputeEnvironments",
            lambda: self._client.describe_compute_environments(computeEnvironments=[name]),
        )
        items = response["computeEnvironments"]
        return items[0] if items else None

    def describe_all_compute_environments(self) -> list[ComputeEnvironmentDetailTypeDef]:
        """Every compute environment of the region, all pages."""

        def page(token: str | None) -> tuple[list[ComputeEnvironmentDetailTypeDef], str | None]:
            request: DescribeComputeEnvironmentsRequestTypeDef = (
                {"nextToken": token} if token else {}
            )
            response = self._client.describe_compute_environments(**request)
            return response["computeEnvironments"], response.get("nextToken")

        return self._all_pages("DescribeComputeEnvironments", page)

    def create_compute_environment(
        self, request: CreateComputeEnvironmentRequestTypeDef
    ) -> CreateComputeEnvironmentResponseTypeDef:
        """CreateComputeEnvironment; the answer carries the ARN (the CE starts CREATING)."""
        return self._call(
            "CreateComputeEnvironment", lambda: self._client.create_compute_environment(**request)
        )

    def update_compute_environment(
        self, request: UpdateComputeEnvironmentRequestTypeDef
    ) -> UpdateComputeEnvironmentResponseTypeDef:
        """UpdateComputeEnvironment with the planned arguments."""
        return self._call(
            "UpdateComputeEnvironment", lambda: self._client.update_compute_environment(**request)
        )

    def delete_compute_environment(self, name: str) -> None:
        """DeleteComputeEnvironment. AWS requires it DISABLED and used by no queue; right after
        the last queue let go, expect Retryable (reason EventualConsistency)."""
        self._call(
            "DeleteComputeEnvironment",
            lambda: self._client.delete_compute_environment(computeEnvironment=name),
        )

    # -- job queues ---------------------------------------------------------------------------

    def describe_job_queue(self, name: str) -> JobQueueDetailTypeDef | None:
        """One job queue by name or ARN, or None if Batch does not know it."""
        response = self._call(
            "DescribeJobQueues", lambda: self._client.describe_job_queues(jobQueues=[name])
        )
        items = response["jobQueues"]
        return items[0] if items else None

    def describe_all_job_queues(self) -> list[JobQueueDetailTypeDef]:
        """Every job queue of the region, all pages."""

        def page(token: str | None) -> tuple[list[JobQueueDetailTypeDef], str | None]:
            request: DescribeJobQueuesRequestTypeDef = {"nextToken": token} if token else {}
            response = self._client.describe_job_queues(**request)
            return response["jobQueues"], response.get("nextToken")

        return self._all_pages("DescribeJobQueues", page)

    def list_queues_using_compute_environment(
        self, compute_environment_arn: str
    ) -> list[JobQueueDetailTypeDef]:
        """Every job queue of the region whose computeEnvironmentOrder lists the CE (by ARN)."""

        def page(token: str | None) -> tuple[list[JobQueueDetailTypeDef], str | None]:
            request: DescribeJobQueuesRequestTypeDef = {"nextToken": token} if token else {}
            response = self._client.describe_job_queues(**request)
            return response["jobQueues"], response.get("nextToken")

        return [
            queue
            for queue in self._all_pages("DescribeJobQueues", page)
            if any(
                entry["computeEnvironment"] == compute_environment_arn
                for entry in queue.get("computeEnvironmentOrder", [])
            )
        ]

    def create_job_queue(
        self, request: CreateJobQueueRequestTypeDef
    ) -> CreateJobQueueResponseTypeDef:
        """CreateJobQueue; the answer carries the ARN. Every CE must be VALID already."""
        return self._call("CreateJobQueue", lambda: self._client.create_job_queue(**request))

    def update_job_queue(
        self, request: UpdateJobQueueRequestTypeDef
    ) -> UpdateJobQueueResponseTypeDef:
        """UpdateJobQueue with the planned arguments (state, priority, CE order...)."""
        return self._call("UpdateJobQueue", lambda: self._client.update_job_queue(**request))

    def delete_job_queue(self, name: str) -> None:
        """DeleteJobQueue (AWS requires it DISABLED and not UPDATING)."""
        self._call("DeleteJobQueue", lambda: self._client.delete_job_queue(jobQueue=name))

    # -- tags ---------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags on a CE, queue, job definition or job."""
        self._call(
            "TagResource", lambda: self._client.tag_resource(resourceArn=arn, tags=dict(tags))
        )

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        """Remove tags by key."""
        self._call(
            "UntagResource",
            lambda: self._client.untag_resource(resourceArn=arn, tagKeys=list(keys)),
        )

    def list_tags(self, arn: str) -> dict[str, str]:
        """The resource's tags (NotFound if the ARN names nothing)."""
        response = self._call(
            "ListTagsForResource", lambda: self._client.list_tags_for_resource(resourceArn=arn)
        )
        return dict(response.get("tags", {}))

    # -- scheduling policies ------------------------------------------------------------------

    def describe_scheduling_policy(self, name_or_arn: str) -> SchedulingPolicyDetailTypeDef | None:
        """One scheduling policy by ARN, or by name (found with ListSchedulingPolicies: Describe
        takes ARNs only); None if Batch does not know it."""
        arn = name_or_arn
        if not name_or_arn.startswith("arn:"):
            suffix = f":scheduling-policy/{name_or_arn}"
            found = [a for a in self.list_scheduling_policy_arns() if a.endswith(suffix)]
            if not found:
                return None
            arn = found[0]
        response = self._call(
            "DescribeSchedulingPolicies",
            lambda: self._client.describe_scheduling_policies(arns=[arn]),
        )
        items = response["schedulingPolicies"]
        return items[0] if items else None

    def list_scheduling_policy_arns(self) -> list[str]:
        """The ARN of every scheduling policy of the region, all pages."""

        def page(token: str | None) -> tuple[list[str], str | None]:
            request: ListSchedulingPoliciesRequestTypeDef = {"nextToken": token} if token else {}
            response = self._client.list_scheduling_policies(**request)
            return [p["arn"] for p in response["schedulingPolicies"]], response.get("nextToken")

        return self._all_pages("ListSchedulingPolicies", page)

    def create_scheduling_policy(
        self, request: CreateSchedulingPolicyRequestTypeDef
    ) -> CreateSchedulingPolicyResponseTypeDef:
        """CreateSchedulingPolicy; the answer carries the ARN (usable at once)."""
        return self._call(
            "CreateSchedulingPolicy", lambda: self._client.create_scheduling_policy(**request)
        )

    def update_scheduling_policy(self, request: UpdateSchedulingPolicyRequestTypeDef) -> None:
        """UpdateSchedulingPolicy: replaces the whole fairsharePolicy."""
        self._call(
            "UpdateSchedulingPolicy", lambda: self._client.update_scheduling_policy(**request)
        )

    def delete_scheduling_policy(self, arn: str) -> None:
        """DeleteSchedulingPolicy (AWS refuses while a job queue uses it)."""
        self._call("DeleteSchedulingPolicy", lambda: self._client.delete_scheduling_policy(arn=arn))

    def list_queues_using_scheduling_policy(self, arn: str) -> list[JobQueueDetailTypeDef]:
        """Every job queue of the region whose schedulingPolicyArn is `arn`."""
        return [q for q in self.describe_all_job_queues() if q.get("schedulingPolicyArn") == arn]

    def describe_all_scheduling_policies(self) -> list[SchedulingPolicyDetailTypeDef]:
        """Every scheduling policy of the region (for `batchops import`): the listed ARNs,
        described in calls of at most 100."""
        arns = self.list_scheduling_policy_arns()
        policies: list[SchedulingPolicyDetailTypeDef] = []
        for start in range(0, len(arns), DESCRIBE_SCHEDULING_POLICIES_MAX_ARNS):
            chunk = arns[start : start + DESCRIBE_SCHEDULING_POLICIES_MAX_ARNS]
            response = self._call(
                "DescribeSchedulingPolicies",
                partial(self._client.describe_scheduling_policies, arns=chunk),
            )
            policies += response["schedulingPolicies"]
        return policies

    # -- consumable resources -----------------------------------------------------------------

    def describe_consumable_resource(
        self, name_or_arn: str
    ) -> DescribeConsumableResourceResponseTypeDef | None:
        """One consumable resource by name or ARN, or None if Batch does not know it (it
        answers an unknown one with an error, unlike the other Describe calls)."""
        try:
            return self._call(
                "DescribeConsumableResource",
                lambda: self._client.describe_consumable_resource(consumableResource=name_or_arn),
            )
        except NotFound:
            return None

    def list_consumable_resources(self) -> list[ConsumableResourceSummaryTypeDef]:
        """Every consumable resource of the region, all pages (summaries: no tags)."""

        def page(token: str | None) -> tuple[list[ConsumableResourceSummaryTypeDef], str | None]:
            request: ListConsumableResourcesRequestTypeDef = {"nextToken": token} if token else {}
            response = self._client.list_consumable_resources(**request)
            return response["consumableResources"], response.get("nextToken")

        return self._all_pages("ListConsumableResources", page)

    def describe_all_consumable_resources(
        self, name_prefix: str = ""
    ) -> list[DescribeConsumableResourceResponseTypeDef]:
        """Every consumable resource of the region whose name starts with `name_prefix`, each
        described (for `batchops import`: only Describe returns the tags); one deleted between
        the list and its describe is left out."""
        found = (
            self.describe_consumable_resource(summary["consumableResourceArn"])
            for summary in self.list_consumable_resources()
            if summary["consumableResourceName"].startswith(name_prefix)
        )
        return [resource for resource in found if resource is not None]

    def create_consumable_resource(self, request: CreateConsumableResourceRequestTypeDef) -> None:
        """CreateConsumableResource (usable at once)."""
        self._call(
            "CreateConsumableResource", lambda: self._client.create_consumable_resource(**request)
        )

    def update_consumable_resource(self, request: UpdateConsumableResourceRequestTypeDef) -> None:
        """UpdateConsumableResource: SET, ADD or REMOVE quantity."""
        self._call(
            "UpdateConsumableResource", lambda: self._client.update_consumable_resource(**request)
        )

    def delete_consumable_resource(self, name_or_arn: str) -> None:
        """DeleteConsumableResource."""
        self._call(
            "DeleteConsumableResource",
            lambda: self._client.delete_consumable_resource(consumableResource=name_or_arn),
        )

    # -- job definitions ----------------------------------------------------------------------

    def describe_job_definitions(
        self, name: str, status: JobDefinitionStatus | None = "ACTIVE"
    ) -> list[JobDefinitionTypeDef]:
        """Every revision of one job definition name with that status (None: any status)."""

        def page(token: str | None) -> tuple[list[JobDefinitionTypeDef], str | None]:
            request: DescribeJobDefinitionsRequestTypeDef = {"jobDefinitionName": name}
            if status is not None:
                request["status"] = status
            if token:
                request["nextToken"] = token
            response = self._client.describe_job_definitions(**request)
            return response["jobDefinitions"], response.get("nextToken")

        return self._all_pages("DescribeJobDefinitions", page)

    def describe_all_job_definitions(
        self, status: JobDefinitionStatus = "ACTIVE"
    ) -> list[JobDefinitionTypeDef]:
        """Every revision of every job definition of the region with that status, all pages."""

        def page(token: str | None) -> tuple[list[JobDefinitionTypeDef], str | None]:
            request: DescribeJobDefinitionsRequestTypeDef = {"status": status}
            if token:
                request["nextToken"] = token
            response = self._client.describe_job_definitions(**request)
            return response["jobDefinitions"], response.get("nextToken")

        return self._all_pages("DescribeJobDefinitions", page)

    def register_job_definition(
        self, request: RegisterJobDefinitionRequestTypeDef
    ) -> RegisterJobDefinitionResponseTypeDef:
        """Register a new revision; the answer carries its ARN and revision number."""
        return self._call(
            "RegisterJobDefinition", lambda: self._client.register_job_definition(**request)
        )

    def deregister_job_definition(self, arn: str) -> None:
        """Mark one revision (name:revision or ARN) INACTIVE."""
        self._call(
            "DeregisterJobDefinition",
            lambda: self._client.deregister_job_definition(jobDefinition=arn),
        )

    # -- jobs ---------------------------------------------------------------------------------

    def submit_job(self, request: SubmitJobRequestTypeDef) -> SubmitJobResponseTypeDef:
        """SubmitJob, paced by the account-wide token bucket (blocks while over 50/s)."""
        self._submit_bucket.acquire()
        return self._call("SubmitJob", lambda: self._client.submit_job(**request))

    def submit_jobs(
        self, requests: Sequence[SubmitJobRequestTypeDef]
    ) -> list[SubmitJobResponseTypeDef | Exception]:
        """SubmitJob for requests that do not depend on each other's answers, up to
        `SUBMITS_IN_FLIGHT` at once (shared by every caller of this client); in request order,
        each answer or the error its call raised, so a caller keeps the ids of the calls that
        succeeded beside one that failed."""
        if len(requests) == 1:
            return [self._answer_or_error(requests[0])]
        with self._submitters_lock:
            if self._submitters is None:
                self._submitters = ThreadPoolExecutor(
                    SUBMITS_IN_FLIGHT, thread_name_prefix="batchops-submit"
                )
        calls = [self._submitters.submit(self._answer_or_error, r) for r in requests]
        return [call.result() for call in calls]

    def _answer_or_error(
        self, request: SubmitJobRequestTypeDef
    ) -> SubmitJobResponseTypeDef | Exception:
        try:
            return self.submit_job(request)
        except Exception as exc:  # handed to the caller, which raises the first one
            return exc

    def describe_jobs(self, job_ids: Sequence[str]) -> list[JobDetailTypeDef]:
        """DescribeJobs in calls of at most 100 distinct ids; jobs Batch no longer knows (past
        its retention, or not yet visible after SubmitJob) are simply absent."""
        return [job for answer in self.describe_jobs_by_call(job_ids) for job in answer]

    def describe_jobs_by_call(
        self, job_ids: Sequence[str], fields: Projection | None = None
    ) -> Iterator[list[JobDetailTypeDef]]:
        """`describe_jobs`, one call's answer at a time: a caller that parses each answer and
        drops it holds at most 100 raw items (several KiB each), not every item of a sweep.
        With `fields`, each job keeps only those members (trimmed before botocore parses it)."""
        unique = list(dict.fromkeys(job_ids))
        for start in range(0, len(unique), DESCRIBE_JOBS_MAX_IDS):
            chunk = unique[start : start + DESCRIBE_JOBS_MAX_IDS]
            call = partial(self._client.describe_jobs, jobs=chunk)
            if fields is None:
                response = self._call("DescribeJobs", call)
            else:
                with projected("DescribeJobs", {"jobs": fields}):
                    response = self._call("DescribeJobs", call)
            yield response["jobs"]

    def list_jobs_by_name(self, queue: str, name_or_prefix: str) -> list[JobSummaryTypeDef]:
        """Jobs in `queue` named `name_or_prefix`, case-insensitively (a trailing `*` matches a
        prefix), newest first, all pages. With a filter, ListJobs ignores jobStatus and returns
        jobs of every status; array children are not listed."""

        def page(token: str | None) -> tuple[list[JobSummaryTypeDef], str | None]:
            request: ListJobsRequestTypeDef = {
                "jobQueue": queue,
                "filters": [{"name": "JOB_NAME", "values": [name_or_prefix]}],
            }
            if token:
                request["nextToken"] = token
            response = self._client.list_jobs(**request)
            return response["jobSummaryList"], response.get("nextToken")

        return self._all_pages("ListJobs", page)

    def terminate_job(self, job_id: str, reason: str) -> None:
        """TerminateJob: the job fails with `reason`, cancelled if it had not started,
        terminated if it had (in every state, unlike CancelJob, which the operator never uses:
        https://docs.aws.amazon.com/batch/latest/APIReference/API_TerminateJob.html)."""
        self._call("TerminateJob", lambda: self._client.terminate_job(jobId=job_id, reason=reason))
