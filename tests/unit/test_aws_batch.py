"""BatchApi (and the client cache, LogsApi) against botocore's Stubber and moto's server.

The Stubber tests pin request shapes moto cannot show (it does not paginate); the moto tests run
real HTTP through boto3: chunking, the JOB_NAME filter, None for unknown names, tags.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from batchops.aws.batch import SUBMITS_IN_FLIGHT, BatchApi
from batchops.aws.calls import CallCounter
from batchops.aws.errors import AlreadyExists, NotFound, Retryable, Throttled
from batchops.aws.logs import LogsApi
from batchops.aws.ratelimit import TokenBucket
from batchops.aws.session import AwsSettings, client_for
from tests.waits import run_in_threads

if TYPE_CHECKING:
    from mypy_boto3_batch.client import BatchClient
    from mypy_boto3_logs.client import CloudWatchLogsClient

CE_ARN = "arn:aws:batch:us-east-1:123456789012:compute-environment/ce-a"
OTHER_CE_ARN = "arn:aws:batch:us-east-1:123456789012:compute-environment/ce-b"


def batch_client(endpoint_url: str | None = None, region: str = "us-east-1") -> BatchClient:
    """A Batch client with dummy credentials and a single attempt: a stubbed or served error
    surfaces at once instead of being retried into the next response."""
    return boto3.client(
        "batch",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def unlimited() -> TokenBucket:
    return TokenBucket(rate=1e9, burst=1e9)


# --- Stubber: request shapes, pagination, errors, counting ---------------------------------------


@dataclass
class Stubbed:
    api: BatchApi
    stubber: Stubber
    counter: CallCounter


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    client = batch_client()
    counter = CallCounter()
    with Stubber(client) as stubber:
        yield Stubbed(BatchApi(client, counter, unlimited()), stubber, counter)
        stubber.assert_no_pending_responses()


def queue(name: str, *ce_arns: str) -> dict[str, Any]:
    return {
        "jobQueueName": name,
        "jobQueueArn": f"arn:aws:batch:us-east-1:123456789012:job-queue/{name}",
        "state": "ENABLED",
        "priority": 1,
        "computeEnvironmentOrder": [
            {"order": i, "computeEnvironment": arn} for i, arn in enumerate(ce_arns, 1)
        ],
    }


def test_queues_using_a_ce_follow_every_page_and_keep_only_users(stubbed: Stubbed) -> None:
    stubbed.stubber.add_response(
        "describe_job_queues",
        {"jobQueues": [queue("q1", CE_ARN), queue("q2", OTHER_CE_ARN)], "nextToken": "t1"},
        {},
    )
    stubbed.stubber.add_response(
        "describe_job_queues",
        {"jobQueues": [queue("q3", OTHER_CE_ARN, CE_ARN), queue("q4")]},
        {"nextToken": "t1"},
    )
    found = stubbed.api.list_queues_using_compute_environment(CE_ARN)
    assert [q["jobQueueName"] for q in found] == ["q1", "q3"]
    assert stubbed.counter.snapshot() == {("DescribeJobQueues", "success"): 2}


def test_job_definitions_follow_pages_with_name_and_status(stubbed: Stubbed) -> None:
    def definition(revision: int) -> dict[str, Any]:
        return {
            "jobDefinitionName": "d",
            "jobDefinitionArn": f"arn:aws:batch:us-east-1:123456789012:job-definition/d:{revision}",
            "revision": revision,
            "type": "container",
            "status": "ACTIVE",
        }

    stubbed.stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": [definition(1)], "nextToken": "t"},
        {"jobDefinitionName": "d", "status": "ACTIVE"},
    )
    stubbed.stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": [definition(2)]},
        {"jobDefinitionName": "d", "status": "ACTIVE", "nextToken": "t"},
    )
    assert [d["revision"] for d in stubbed.api.describe_job_definitions("d")] == [1, 2]


def test_job_definitions_of_any_status_send_no_status(stubbed: Stubbed) -> None:
    stubbed.stubber.add_response(
        "describe_job_definitions", {"jobDefinitions": []}, {"jobDefinitionName": "d"}
    )
    assert stubbed.api.describe_job_definitions("d", status=None) == []


def test_list_jobs_by_name_sends_the_job_name_filter_on_every_page(stubbed: Stubbed) -> None:
    summary = {"jobId": "j1", "jobName": "p-step-run", "status": "SUCCEEDED"}
    filters = [{"name": "JOB_NAME", "values": ["p-step-run"]}]
    stubbed.stubber.add_response(
        "list_jobs",
        {"jobSummaryList": [summary], "nextToken": "t"},
        {"jobQueue": "q", "filters": filters},
    )
    stubbed.stubber.add_response(
        "list_jobs",
        {"jobSummaryList": [{**summary, "jobId": "j2"}]},
        {"jobQueue": "q", "filters": filters, "nextToken": "t"},
    )
    assert [j["jobId"] for j in stubbed.api.list_jobs_by_name("q", "p-step-run")] == ["j1", "j2"]


def test_unknown_compute_environment_and_queue_are_none_not_errors(stubbed: Stubbed) -> None:
    stubbed.stubber.add_response(
        "describe_compute_environments", {"computeEnvironments": []}, {"computeEnvironments": ["x"]}
    )
    stubbed.stubber.add_response("describe_job_queues", {"jobQueues": []}, {"jobQueues": ["x"]})
    assert stubbed.api.describe_compute_environment("x") is None
    assert stubbed.api.describe_job_queue("x") is None


def test_throttle_and_client_errors_are_translated_and_counted(stubbed: Stubbed) -> None:
    stubbed.stubber.add_client_error(
        "describe_jobs", "TooManyRequestsException", "Too Many Requests", 429
    )
    stubbed.stubber.add_client_error(
        "create_job_queue", "ClientException", "Object already exists", 400
    )
    stubbed.stubber.add_client_error(
        "delete_job_queue", "ClientException", "Cannot delete, resource is being modified", 400
    )
    stubbed.stubber.add_response("delete_job_queue", {}, {"jobQueue": "q"})
    with pytest.raises(Throttled) as throttled:
        stubbed.api.describe_jobs(["j1"])
    assert throttled.value.http_status == 429
    with pytest.raises(AlreadyExists):
        stubbed.api.create_job_queue(
            {"jobQueueName": "q", "priority": 1, "computeEnvironmentOrder": []}
        )
    with pytest.raises(Retryable) as busy:
        stubbed.api.delete_job_queue("q")
    assert busy.value.reason == "ResourceBusy"
    stubbed.api.delete_job_queue("q")
    assert stubbed.counter.snapshot() == {
        ("DescribeJobs", "throttled"): 1,
        ("CreateJobQueue", "error"): 1,
        ("DeleteJobQueue", "error"): 1,
        ("DeleteJobQueue", "success"): 1,
    }


def test_describe_jobs_sends_each_id_once(stubbed: Stubbed) -> None:
    stubbed.stubber.add_response("describe_jobs", {"jobs": []}, {"jobs": ["a", "b"]})
    assert stubbed.api.describe_jobs(["a", "b", "a"]) == []


def test_describe_jobs_with_no_ids_makes_no_call(stubbed: Stubbed) -> None:
    assert stubbed.api.describe_jobs([]) == []


def test_submit_job_waits_for_the_token_bucket() -> None:
    client = batch_client()
    sleeps: list[float] = []
    bucket = TokenBucket(rate=2, burst=1, clock=lambda: 0.0, sleep=sleeps.append)
    api = BatchApi(client, CallCounter(), bucket)
    request = {"jobName": "j", "jobQueue": "q", "jobDefinition": "d"}
    with Stubber(client) as stubber:
        for i in range(3):
            stubber.add_response(
                "submit_job", {"jobName": "j", "jobId": f"id{i}", "jobArn": "arn"}, request
            )
        ids = [
            api.submit_job({"jobName": "j", "jobQueue": "q", "jobDefinition": "d"})["jobId"]
            for _ in range(3)
        ]
    assert ids == ["id0", "id1", "id2"]
    assert sleeps == [0.5, 1.0]


class ServedSubmissions:
    """Answers SubmitJob in place of HTTP (botocore's before-send), counting how many calls are
    in flight at once; a job named `fail` gets a 500. Each call is held until `expected` were
    in flight together (or, if that never happens, for at most 2 s), so calls made one after
    the other cannot pass for concurrent ones."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.changed = threading.Condition()
        self.in_flight = 0
        self.most = 0
        self.gave_up = False

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        with self.changed:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.changed.notify_all()
            reached = self.changed.wait_for(
                lambda: self.most >= self.expected or self.gave_up, timeout=2
            )
            self.gave_up = self.gave_up or not reached
            self.in_flight -= 1
        name = json.loads(request.body)["jobName"]
        status, body = (500, {"message": "boom"}) if name == "fail" else (200, {
            "jobName": name, "jobId": f"id-{name}", "jobArn": f"arn:job/{name}"})  # fmt: skip
        raw = _RawBody(json.dumps(body).encode())
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/json"
        return AWSResponse(request.url, status, headers, raw)


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def test_submit_jobs_keeps_several_in_flight_and_answers_in_order_with_errors() -> None:
    client = batch_client()
    served = ServedSubmissions(expected=SUBMITS_IN_FLIGHT)
    # botocore's stubs type a handler as returning None; a before-send answer replaces HTTP.
    client.meta.events.register("before-send.batch.SubmitJob", served)  # type: ignore[arg-type]
    api = BatchApi(client, CallCounter(), unlimited())
    names = [f"j{i}" for i in range(20)]
    names[7] = "fail"
    answers = api.submit_jobs(
        [{"jobName": n, "jobQueue": "q", "jobDefinition": "d"} for n in names]
    )
    assert [a["jobId"] for a in answers if not isinstance(a, Exception)] == [
        f"id-{n}" for n in names if n != "fail"
    ]
    assert isinstance(answers[7], Retryable)
    assert served.most == SUBMITS_IN_FLIGHT


# --- the client cache --------------------------------------------------------------------------


def test_one_client_per_service_and_region_shared_across_threads() -> None:
    settings = AwsSettings(region="eu-central-1", endpoint_url="http://127.0.0.1:9")
    clients: list[object] = []
    lock = threading.Lock()

    def get() -> None:
        client = client_for("batch", settings)
        with lock:
            clients.append(client)

    run_in_threads(get, 8, timeout=10)
    assert len(clients) == 8 and all(c is clients[0] for c in clients)
    assert client_for("batch", settings.for_region("eu-west-1")) is not clients[0]
    assert client_for("batch", settings.for_region(None)) is clients[0]
    logs: object = client_for("logs", settings)
    assert logs is not clients[0]


def test_clients_use_adaptive_retries_and_the_endpoint() -> None:
    settings = AwsSettings(region="eu-central-1", endpoint_url="http://127.0.0.1:9", max_attempts=7)
    client = client_for("batch", settings)
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-central-1"
    config: Any = client.meta.config  # botocore-stubs omit Config's option attributes
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert config.max_pool_connections >= 10


def test_settings_read_the_standard_environment_variables() -> None:
    env = {"AWS_DEFAULT_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://localhost:4566"}
    assert AwsSettings.from_environment(env) == AwsSettings(
        region="ap-south-1", endpoint_url="http://localhost:4566"
    )
    assert AwsSettings.from_environment({"AWS_REGION": "eu-west-2"}).endpoint_url is None
    assert AwsSettings.from_environment({}).region == "us-east-1"


# --- moto's server: real HTTP ------------------------------------------------------------------

MOTO_REGION = "eu-west-3"  # away from the emulator's us-east-1: moto's backends are process-wide


@dataclass
class Moto:
    url: str
    batch: BatchClient
    api: BatchApi
    counter: CallCounter
    queue_arn: str
    ce_arn: str
    job_definition_arn: str


def _set_moto_config(url: str, config: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{url}/moto-api/config",
        data=json.dumps(config).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # Jobs finish at once instead of running in Docker; restored for whoever uses moto next.
    _set_moto_config(url, {"batch": {"use_docker": False}})
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name=MOTO_REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        batch = batch_client(url, MOTO_REGION)
        counter = CallCounter()
        api = BatchApi(batch, counter, unlimited())
        suffix = uuid.uuid4().hex[:8]
        role = iam.create_role(RoleName=f"batch-{suffix}", AssumeRolePolicyDocument="{}")
        ce = api.create_compute_environment(
            {
                "computeEnvironmentName": f"ce-{suffix}",
                "type": "UNMANAGED",
                "state": "ENABLED",
                "serviceRole": role["Role"]["Arn"],
            }
        )
        created = api.create_job_queue(
            {
                "jobQueueName": f"q-{suffix}",
                "state": "ENABLED",
                "priority": 1,
                "computeEnvironmentOrder": [
                    {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}
                ],
            }
        )
        definition = api.register_job_definition(
            {
                "jobDefinitionName": f"d-{suffix}",
                "type": "container",
                "containerProperties": {
                    "image": "busybox",
                    "command": ["true"],
                    "resourceRequirements": [
                        {"type": "VCPU", "value": "1"},
                        {"type": "MEMORY", "value": "128"},
                    ],
                },
            }
        )
        yield Moto(
            url,
            batch,
            api,
            counter,
            created["jobQueueArn"],
            ce["computeEnvironmentArn"],
            definition["jobDefinitionArn"],
        )
    finally:
        _set_moto_config(url, {"batch": {"use_docker": True}})
        server.stop()


def submit(moto: Moto, name: str) -> str:
    response = moto.api.submit_job(
        {"jobName": name, "jobQueue": moto.queue_arn, "jobDefinition": moto.job_definition_arn}
    )
    return response["jobId"]


def test_describing_120_jobs_makes_two_describe_jobs_calls(moto: Moto) -> None:
    job_ids = [submit(moto, f"bulk-{i}") for i in range(120)]
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["jobs"]))

    moto.batch.meta.events.register("provide-client-params.batch.DescribeJobs", record)
    try:
        jobs = moto.api.describe_jobs(job_ids)
    finally:
        moto.batch.meta.events.unregister("provide-client-params.batch.DescribeJobs", record)
    assert sizes == [100, 20]
    assert sorted(j["jobId"] for j in jobs) == sorted(job_ids)


def test_list_jobs_by_name_matches_exact_names_case_insensitively_in_any_status(
    moto: Moto,
) -> None:
    first = submit(moto, "nightly-etl-step1-r1")
    second = submit(moto, "nightly-etl-step2-r1")
    submit(moto, "other-pipeline-step1-r1")
    exact = moto.api.list_jobs_by_name(moto.queue_arn, "NIGHTLY-ETL-STEP1-R1")
    assert [j["jobId"] for j in exact] == [first]
    assert exact[0]["status"] == "SUCCEEDED"  # not only RUNNING, ListJobs' unfiltered default
    prefix = moto.api.list_jobs_by_name(moto.queue_arn, "nightly-etl-*")
    assert sorted(j["jobId"] for j in prefix) == sorted([first, second])


def test_unknown_names_describe_as_none_and_known_ones_as_items(moto: Moto) -> None:
    assert moto.api.describe_compute_environment("no-such-ce") is None
    assert moto.api.describe_job_queue("no-such-queue") is None
    described = moto.api.describe_job_queue(moto.queue_arn)
    assert described is not None and described["jobQueueArn"] == moto.queue_arn
    ce = moto.api.describe_compute_environment(moto.ce_arn)
    assert ce is not None and ce["computeEnvironmentArn"] == moto.ce_arn


def test_the_queue_using_a_ce_is_found(moto: Moto) -> None:
    using = moto.api.list_queues_using_compute_environment(moto.ce_arn)
    assert [q["jobQueueArn"] for q in using] == [moto.queue_arn]
    assert moto.api.list_queues_using_compute_environment(OTHER_CE_ARN) == []


def test_errors_from_the_wire_are_typed(moto: Moto) -> None:
    with pytest.raises(NotFound):
        moto.api.list_jobs_by_name("no-such-queue", "x")
    existing = moto.api.describe_job_queue(moto.queue_arn)
    assert existing is not None
    with pytest.raises(AlreadyExists):
        moto.api.create_job_queue(
            {
                "jobQueueName": existing["jobQueueName"],
                "state": "ENABLED",
                "priority": 1,
                "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": moto.ce_arn}],
            }
        )
    assert moto.counter.snapshot()[("ListJobs", "error")] >= 1


def test_tags_round_trip(moto: Moto) -> None:
    moto.api.tag_resource(moto.queue_arn, {"batchops.io/owner": "ns/q", "team": "data"})
    moto.api.untag_resource(moto.queue_arn, ["team"])
    assert moto.api.list_tags(moto.queue_arn) == {"batchops.io/owner": "ns/q"}


def test_job_definition_revisions_by_status(moto: Moto) -> None:
    name = moto.job_definition_arn.rsplit("/", 1)[1].split(":")[0]
    second = moto.api.register_job_definition(
        {
            "jobDefinitionName": name,
            "type": "container",
            "containerProperties": {"image": "x", "vcpus": 1, "memory": 128},
        }
    )
    moto.api.deregister_job_definition(second["jobDefinitionArn"])
    active = moto.api.describe_job_definitions(name)
    inactive = moto.api.describe_job_definitions(name, status="INACTIVE")
    assert [d["jobDefinitionArn"] for d in active] == [moto.job_definition_arn]
    assert [d["jobDefinitionArn"] for d in inactive] == [second["jobDefinitionArn"]]


def test_terminate_is_accepted(moto: Moto) -> None:
    job_id = submit(moto, "to-stop")
    moto.api.terminate_job(job_id, "pipeline deleted")
    assert moto.counter.snapshot()[("TerminateJob", "success")] == 1


def test_queue_and_ce_update_then_delete(moto: Moto) -> None:
    suffix = uuid.uuid4().hex[:8]
    ce = moto.api.describe_compute_environment(moto.ce_arn)
    assert ce is not None
    created = moto.api.create_compute_environment(
        {
            "computeEnvironmentName": f"ce2-{suffix}",
            "type": "UNMANAGED",
            "state": "ENABLED",
            "serviceRole": ce["serviceRole"],
        }
    )
    queue_ = moto.api.create_job_queue(
        {
            "jobQueueName": f"q2-{suffix}",
            "state": "ENABLED",
            "priority": 1,
            "computeEnvironmentOrder": [
                {"order": 1, "computeEnvironment": created["computeEnvironmentArn"]}
            ],
        }
    )
    moto.api.update_job_queue({"jobQueue": queue_["jobQueueArn"], "state": "DISABLED"})
    moto.api.delete_job_queue(queue_["jobQueueArn"])
    moto.api.update_compute_environment(
        {"computeEnvironment": created["computeEnvironmentArn"], "state": "DISABLED"}
    )
    moto.api.delete_compute_environment(created["computeEnvironmentArn"])
    assert moto.api.describe_job_queue(queue_["jobQueueArn"]) is None
    assert moto.api.describe_compute_environment(created["computeEnvironmentArn"]) is None


def test_logs_are_read_page_by_page_then_report_the_end(moto: Moto) -> None:
    client: CloudWatchLogsClient = boto3.client(
        "logs",
        endpoint_url=moto.url,
        region_name=MOTO_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    group, stream = f"/aws/batch/job-{uuid.uuid4().hex[:8]}", "d/default/task1"
    now_ms = int(time.time() * 1000)  # CloudWatch drops events older than 14 days
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName=stream)
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now_ms + i, "message": f"line {i}"} for i in range(3)],
    )
    logs = LogsApi(client, CallCounter())
    page = logs.get_log_lines(group, stream)
    assert [line.message for line in page.lines] == ["line 0", "line 1", "line 2"]
    assert page.lines[0].timestamp_ms == now_ms
    following = logs.get_log_lines(group, stream, next_token=page.next_token)
    assert following.lines == () and following.at_end
    with pytest.raises(NotFound):
        logs.get_log_lines(group, "no/such/stream")


def test_a_projected_describe_jobs_answer_keeps_only_the_fields_asked_for(moto: Moto) -> None:
    job_id = submit(moto, "projected-1")
    parsed: list[int] = []

    def count_parsed(response_dict: dict[str, Any], **_: Any) -> None:
        parsed.append(len(response_dict["body"]))

    # Registered after BatchApi's own hook: it sees the body botocore is about to parse.
    moto.batch.meta.events.register("before-parse", count_parsed)
    try:
        (whole,) = next(moto.api.describe_jobs_by_call([job_id]))
        (trimmed,) = next(
            moto.api.describe_jobs_by_call([job_id], {"jobId": True, "container": {"x": True}})
        )
    finally:
        moto.batch.meta.events.unregister("before-parse", count_parsed)
    assert "jobDefinition" in whole and "command" in whole["container"]
    assert dict(trimmed) == {"jobId": job_id, "container": {}}
    assert parsed[1] < parsed[0] / 4  # botocore parsed the trimmed body, not the whole one
    # Outside the projected call, answers are whole again.
    (again,) = next(moto.api.describe_jobs_by_call([job_id]))
    assert again == whole
