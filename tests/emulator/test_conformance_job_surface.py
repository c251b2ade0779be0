"""The whole RegisterJobDefinition / SubmitJob surface: every member is stored and returned, and
AWS's combination rules are refused with AWS's messages.

Sources: botocore's Batch service model (the shapes); the rules and their AWS pages are cited in
operator/batchops/local/emulator/jobrules.py, the messages' provenance in errors.py. The full
examples below follow the API reference's member lists (ContainerProperties, LinuxParameters,
EFSVolumeConfiguration, EcsTaskProperties, EksPodProperties, NodeProperties).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.model import OperationModel, StructureShape
from mypy_boto3_batch import BatchClient

from batchops.local.emulator import Emulator
from tests.conftest import aws_client
from tests.emulator.test_output_shapes import ShapeWalk
from tests.emulator.waits import (
    IMAGE,
    client_error,
    create_ce,
    create_queue,
    default_account,
    describe_jobs,
    ec2_resources,
    wait_finished,
)

ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
JOB_ROLE = "arn:aws:iam::123456789012:role/genomics-job"
Request = dict[str, Any]

EC2_CONTAINER: Request = {
    "image": IMAGE,
    "command": ["python", "align.py", "Ref::sample"],
    "jobRoleArn": JOB_ROLE,
    "executionRoleArn": ROLE,
    "volumes": [
        {"name": "scratch", "host": {"sourcePath": "/scratch"}},
        {
            "name": "genomes",
            "efsVolumeConfiguration": {
                "fileSystemId": "fs-12345678",
                "rootDirectory": "/",
                "transitEncryption": "ENABLED",
                "transitEncryptionPort": 2049,
                "authorizationConfig": {
                    "accessPointId": "fsap-0123456789abcdef0",
                    "iam": "ENABLED",
                },
            },
        },
    ],
    "environment": [{"name": "STAGE", "value": "test"}],
    "mountPoints": [{"sourceVolume": "genomes", "containerPath": "/genomes", "readOnly": True}],
    "readonlyRootFilesystem": True,
    "privileged": True,
    "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
    "user": "1000:1000",
    "resourceRequirements": [
        {"type": "VCPU", "value": "2"},
        {"type": "MEMORY", "value": "4096"},
        {"type": "GPU", "value": "1"},
    ],
    "linuxParameters": {
        "devices": [
            {"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["READ"]}
        ],
        "initProcessEnabled": True,
        "sharedMemorySize": 2048,
        "tmpfs": [{"containerPath": "/work", "size": 512, "mountOptions": ["rw"]}],
        "maxSwap": 1024,
        "swappiness": 10,
    },
    "logConfiguration": {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/aws/batch/job"},
        "secretOptions": [
            {"name": "token", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/t"}
        ],
    },
    "secrets": [
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
    ],
    "enableExecuteCommand": True,
    "repositoryCredentials": {
        "credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry"
    },
}

FARGATE_CONTAINER: Request = {
    "image": IMAGE,
    "command": ["echo", "hello"],
    "executionRoleArn": ROLE,
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
    "networkConfiguration": {"assignPublicIp": "ENABLED"},
    "fargatePlatformConfiguration": {"platformVersion": "1.4.0"},
    "ephemeralStorage": {"sizeInGiB": 100},
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
}

# A node range's container: instanceType is for multi-node jobs; vcpus and memory are the
# legacy (EC2-only) way of asking for resources.
NODE_CONTAINER: Request = {
    "image": IMAGE,
    "command": ["mpirun", "solve"],
    "instanceType": "c5.xlarge",
    "vcpus": 4,
    "memory": 8192,
}

ECS_PROPERTIES: Request = {
    "taskProperties": [
        {
            "containers": [
                {
                    "name": "app",
                    "image": IMAGE,
                    "command": ["serve", "Ref::sample"],
                    "essential": True,
                    "resourceRequirements": [
                        {"type": "VCPU", "value": "1"},
                        {"type": "MEMORY", "value": "2048"},
                    ],
                },
                {"name": "sidecar", "image": IMAGE, "essential": False},
            ],
            "executionRoleArn": ROLE,
            "taskRoleArn": JOB_ROLE,
            "ipcMode": "task",
            "pidMode": "task",
            "volumes": [{"name": "scratch", "host": {"sourcePath": "/scratch"}}],
        }
    ]
}

EKS_PROPERTIES: Request = {
    "podProperties": {
        "serviceAccountName": "batch-runner",
        "hostNetwork": False,
        "dnsPolicy": "ClusterFirst",
        "containers": [
            {
                "name": "main",
                "image": IMAGE,
                "command": ["python"],
                "args": ["train.py", "Ref::sample"],
                "env": [{"name": "MODE", "value": "train"}],
                "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}},
                "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
            }
        ],
        "initContainers": [{"name": "fetch", "image": IMAGE, "command": ["fetch"]}],
        "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}],
        "metadata": {"labels": {"team": "ml"}, "namespace": "batch-jobs"},
        "shareProcessNamespace": False,
    }
}


def node_properties(num_nodes: int = 3, main_node: int = 0) -> Request:
    """A multi-node job: node 0 alone, then every other node."""
    return {
        "numNodes": num_nodes,
        "mainNode": main_node,
        "nodeRangeProperties": [
            {"targetNodes": "0", "container": copy.deepcopy(NODE_CONTAINER)},
            {"targetNodes": "1:", "container": {**NODE_CONTAINER, "command": ["worker"]}},
        ],
    }


def container_definition(container: Request | None = None, **members: Any) -> Request:
    """An EC2 container job definition request."""
    return {
        "jobDefinitionName": "jd",
        "type": "container",
        "containerProperties": copy.deepcopy(container or EC2_CONTAINER),
        **members,
    }


def fargate_definition(**container_members: Any) -> Request:
    """A Fargate container job definition request, with these containerProperties members."""
    container = {**copy.deepcopy(FARGATE_CONTAINER), **container_members}
    return container_definition(container, platformCapabilities=["FARGATE"])


def multinode_definition(**members: Any) -> Request:
    """A multi-node job definition request."""
    return {
        "jobDefinitionName": "jd",
        "type": "multinode",
        "nodeProperties": node_properties(),
        **members,
    }


def ecs_definition(**members: Any) -> Request:
    """An ecsProperties job definition request."""
    return {
        "jobDefinitionName": "jd",
        "type": "container",
        "ecsProperties": copy.deepcopy(ECS_PROPERTIES),
        **members,
    }


def eks_definition(**members: Any) -> Request:
    """An eksProperties job definition request."""
    return {
        "jobDefinitionName": "jd",
        "type": "container",
        "eksProperties": copy.deepcopy(EKS_PROPERTIES),
        **members,
    }


def with_linux(**linux: Any) -> Request:
    """A Fargate definition whose container has these linuxParameters."""
    return fargate_definition(linuxParameters=linux)


def with_efs(**efs: Any) -> Request:
    """An EC2 definition with one EFS volume configured like this."""
    volume = {"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", **efs}}
    return container_definition({**EC2_CONTAINER, "volumes": [volume], "mountPoints": []})


def with_nodes(**changes: Any) -> Request:
    """A multi-node definition whose nodeProperties are changed like this."""
    return multinode_definition(nodeProperties={**node_properties(), **changes})


def with_fargate_resources(vcpus: str, memory: str) -> Request:
    """A Fargate definition asking for this VCPU and MEMORY."""
    requirements = [{"type": "VCPU", "value": vcpus}, {"type": "MEMORY", "value": memory}]
    return fargate_definition(resourceRequirements=requirements)


def one_queue(batch: BatchClient, emulator: Emulator) -> None:
    """An EC2 compute environment `ce` and a queue `q` over it."""
    create_ce(batch, "ce", ec2_resources(default_account(emulator)))
    create_queue(batch, "q", "ce")


def submit(batch: BatchClient, **request: Any) -> str:
    """SubmitJob of `jd` to `q` with these members; the job id."""
    return batch.submit_job(
        **{"jobName": "job", "jobQueue": "q", "jobDefinition": "jd", **request}
    )["jobId"]


# --- every member is stored and returned ------------------------------------------------------


def test_the_examples_cover_every_container_properties_member_of_the_botocore_model(
    batch: BatchClient,
) -> None:
    shape = batch.meta.service_model.shape_for("ContainerProperties")
    assert isinstance(shape, StructureShape)
    members = set(shape.members)

    covered = set(EC2_CONTAINER) | set(FARGATE_CONTAINER) | set(NODE_CONTAINER)

    assert members - covered == set()


def test_describe_job_definitions_returns_every_registered_member_as_sent(
    batch: BatchClient,
) -> None:
    batch.create_consumable_resource(consumableResourceName="licenses", totalQuantity=10)
    requests = [
        container_definition(
            parameters={"sample": "s1"},
            schedulingPriority=7,
            retryStrategy={
                "attempts": 2,
                "evaluateOnExit": [{"onExitCode": "3", "action": "EXIT"}],
            },
            timeout={"attemptDurationSeconds": 600},
            propagateTags=True,
            tags={"team": "genomics"},
            consumableResourceProperties={
                "consumableResourceList": [{"consumableResource": "licenses", "quantity": 1}]
            },
        ),
        fargate_definition(),
        multinode_definition(),
        ecs_definition(),
        eks_definition(),
    ]

    for request in requests:
        arn = batch.register_job_definition(**request)["jobDefinitionArn"]
        (found,) = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"]

        shown: dict[str, Any] = dict(found)
        for member, sent in request.items():
            if member == "jobDefinitionName":
                continue
            if member == "containerProperties":
                assert {key: shown[member][key] for key in sent} == sent
            else:
                assert shown[member] == sent, member


def test_eks_job_definitions_are_orchestrated_by_eks_and_others_by_ecs(batch: BatchClient) -> None:
    eks_arn = batch.register_job_definition(**eks_definition())["jobDefinitionArn"]
    ecs_arn = batch.register_job_definition(**ecs_definition(jobDefinitionName="ecs"))[
        "jobDefinitionArn"
    ]

    found = batch.describe_job_definitions(jobDefinitions=[eks_arn, ecs_arn])["jobDefinitions"]

    orchestration = {jd["jobDefinitionArn"]: jd["containerOrchestrationType"] for jd in found}
    assert orchestration == {eks_arn: "EKS", ecs_arn: "ECS"}
    assert {jd["jobDefinitionArn"]: jd.get("platformCapabilities") for jd in found} == {
        eks_arn: None,
        ecs_arn: ["EC2"],
    }


# --- RegisterJobDefinition's combination rules ------------------------------------------------

REGISTER_REFUSALS = [
    pytest.param(
        {**container_definition(), "ecsProperties": ECS_PROPERTIES},
        "Cannot use both ECS containerProperties and ecsProperties",
        id="container_properties_with_ecs_properties",
    ),
    pytest.param(
        {**container_definition(), "eksProperties": EKS_PROPERTIES},
        "Cannot use both ECS containerProperties and eksProperties",
        id="container_properties_with_eks_properties",
    ),
    pytest.param(
        {**ecs_definition(), "eksProperties": EKS_PROPERTIES},
        "Cannot use both ecsProperties and eksProperties",
        id="ecs_properties_with_eks_properties",
    ),
    pytest.param(
        {**multinode_definition(), "containerProperties": EC2_CONTAINER},
        "Cannot use both ECS containerProperties and nodeProperties",
        id="node_properties_with_container_properties",
    ),
    pytest.param(
        {"jobDefinitionName": "jd", "type": "container"},
        "ECS ContainerProperties, ecsProperties, or eksProperties is required when using type "
        "container.",
        id="container_type_without_a_payload",
    ),
    pytest.param(
        {**multinode_definition(), "type": "container"},
        "ECS ContainerProperties, ecsProperties, or eksProperties is required when using type "
        "container.",
        id="container_type_with_node_properties_only",
    ),
    pytest.param(
        {"jobDefinitionName": "jd", "type": "multinode"},
        "Node properties of multinode job is required.",
        id="multinode_type_without_node_properties",
    ),
    pytest.param(
        multinode_definition(platformCapabilities=["FARGATE"]),
        "Fargate does not support MNP jobs",
        id="multinode_on_fargate",
    ),
    pytest.param(
        eks_definition(platformCapabilities=["EC2"]),
        "platformCapabilities is not applicable for EKS.",
        id="eks_with_platform_capabilities",
    ),
    pytest.param(
        eks_definition(eksProperties={"podProperties": {"containers": []}}),
        "Containers must be provided for Batch on EKS jobs.",
        id="eks_pod_without_containers",
    ),
    pytest.param(
        container_definition(
            {**EC2_CONTAINER, "networkConfiguration": {"assignPublicIp": "ENABLED"}}
        ),
        "networkConfiguration not applicable for EC2.",
        id="network_configuration_on_ec2",
    ),
    pytest.param(
        container_definition(
            {**EC2_CONTAINER, "fargatePlatformConfiguration": {"platformVersion": "LATEST"}}
        ),
        "fargatePlatformConfiguration not applicable for EC2.",
        id="fargate_platform_configuration_on_ec2",
    ),
    pytest.param(
        container_definition({**EC2_CONTAINER, "ephemeralStorage": {"sizeInGiB": 50}}),
        "ephemeralStorage is not applicable for EC2.",
        id="ephemeral_storage_on_ec2",
    ),
    pytest.param(
        container_definition({**EC2_CONTAINER, "runtimePlatform": {"cpuArchitecture": "ARM64"}}),
        "runtimePlatform is not applicable for EC2.",
        id="runtime_platform_on_ec2",
    ),
    pytest.param(
        fargate_definition(
            resourceRequirements=[
                *FARGATE_CONTAINER["resourceRequirements"],
                {"type": "GPU", "value": "1"},
            ]
        ),
        "GPU is not applicable for Fargate.",
        id="gpu_on_fargate",
    ),
    pytest.param(
        fargate_definition(privileged=True),
        "Fargate requires that the \u2018privileged\u2019 setting be \u2018false\u2019 at the "
        "container level.",
        id="privileged_on_fargate",
    ),
    pytest.param(
        fargate_definition(ulimits=[{"name": "nofile", "softLimit": 1, "hardLimit": 2}]),
        "ulimits is not applicable for Fargate.",
        id="ulimits_on_fargate",
    ),
    pytest.param(
        fargate_definition(instanceType="c5.xlarge"),
        "instanceType is not applicable for Fargate.",
        id="instance_type_on_fargate",
    ),
    pytest.param(
        fargate_definition(vcpus=1),
        "vcpus is not applicable for Fargate. Use resource requirements instead.",
        id="legacy_vcpus_on_fargate",
    ),
    pytest.param(
        with_linux(devices=[{"hostPath": "/dev/fuse"}]),
        "linuxParameter.devices is not allowed for Fargate.",
        id="devices_on_fargate",
    ),
    pytest.param(
        with_linux(sharedMemorySize=64),
        "linuxParameter.sharedMemorySize is not allowed for Fargate.",
        id="shared_memory_size_on_fargate",
    ),
    pytest.param(
        with_linux(tmpfs=[{"containerPath": "/t", "size": 1}]),
        "linuxParameter.tmpfs is not allowed for Fargate.",
        id="tmpfs_on_fargate",
    ),
    pytest.param(
        with_linux(maxSwap=10, swappiness=5),
        "linuxParameter.maxSwap is not allowed for Fargate.",
        id="max_swap_on_fargate",
    ),
    pytest.param(
        with_linux(swappiness=5),
        "linuxParameter.swappiness is not allowed for Fargate.",
        id="swappiness_on_fargate",
    ),
    pytest.param(
        ecs_definition(
            platformCapabilities=["FARGATE"],
            ecsProperties={
                "taskProperties": [
                    {"containers": [{"name": "app", "image": IMAGE, "privileged": True}]}
                ]
            },
        ),
        "Fargate requires that the \u2018privileged\u2019 setting be \u2018false\u2019 at the "
        "container level.",
        id="privileged_ecs_container_on_fargate",
    ),
    pytest.param(
        fargate_definition(ephemeralStorage={"sizeInGiB": 20}),
        "Ephemeral storage for Fargate tasks can be only between range 21 GiB to 200 GiB",
        id="ephemeral_storage_below_21_gib",
    ),
    pytest.param(
        fargate_definition(ephemeralStorage={"sizeInGiB": 201}),
        "Ephemeral storage for Fargate tasks can be only between range 21 GiB to 200 GiB",
        id="ephemeral_storage_above_200_gib",
    ),
    pytest.param(
        with_fargate_resources("1", "4000"),
        "Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.",
        id="fargate_memory_not_paired_with_its_vcpus",
    ),
    pytest.param(
        with_efs(authorizationConfig={"iam": "ENABLED"}),
        "EFS IAM authorization requires TransitEncryption to be enabled.",
        id="efs_iam_without_transit_encryption",
    ),
    pytest.param(
        with_efs(transitEncryption="DISABLED", authorizationConfig={"accessPointId": "fsap-1"}),
        "EFS IAM access point requires TransitEncryption to be enabled.",
        id="efs_access_point_without_transit_encryption",
    ),
    pytest.param(
        with_efs(
            transitEncryption="ENABLED",
            rootDirectory="/data",
            authorizationConfig={"accessPointId": "fsap-1"},
        ),
        'When using an EFS access point, the root directory must either be set to "/" or omitted',
        id="efs_access_point_with_a_root_directory",
    ),
    pytest.param(
        with_efs(transitEncryptionPort=2049),
        "TransitEncryptionPort requires that TransitEncryption is enabled",
        id="efs_transit_encryption_port_without_transit_encryption",
    ),
    pytest.param(
        with_nodes(mainNode=3),
        "Main node index is out of range, must be less than numNodes.",
        id="main_node_not_below_num_nodes",
    ),
    pytest.param(
        with_nodes(nodeRangeProperties=[{"targetNodes": "0:5", "container": NODE_CONTAINER}]),
        "Node range error 0:5. Node range should be smaller than number of nodes",
        id="node_range_beyond_num_nodes",
    ),
    pytest.param(
        with_nodes(nodeRangeProperties=[{"targetNodes": "0:1", "container": NODE_CONTAINER}]),
        "Node Range Properties target nodes have missing ranges",
        id="node_ranges_not_covering_every_node",
    ),
    pytest.param(
        with_nodes(nodeRangeProperties=[{"targetNodes": "first:", "container": NODE_CONTAINER}]),
        "targetNodes should contain only digits.",
        id="target_nodes_not_a_range",
    ),
    pytest.param(
        with_nodes(numNodes=1001),
        "Number of nodes must be between 1 and 1000.",
        id="more_than_1000_nodes",
    ),
    pytest.param(
        with_nodes(
            numNodes=6,
            nodeRangeProperties=[
                {"targetNodes": str(i), "container": NODE_CONTAINER} for i in range(6)
            ],
        ),
        "Maximum allowed size of node range properties is 5",
        id="more_than_five_node_ranges",
    ),
    pytest.param(
        with_nodes(
            nodeRangeProperties=[
                {"targetNodes": "0", "container": NODE_CONTAINER},
                {"targetNodes": "1:"},
            ]
        ),
        "Must specify container for node range 1:.",
        id="node_range_without_a_container",
    ),
    pytest.param(
        with_nodes(
            nodeRangeProperties=[
                {
                    "targetNodes": "0:",
                    "container": {
                        **NODE_CONTAINER,
                        "networkConfiguration": {"assignPublicIp": "ENABLED"},
                    },
                }
            ]
        ),
        "networkConfiguration not applicable for EC2.",
        id="fargate_member_in_a_node_range",
    ),
]


@pytest.mark.parametrize(("request_body", "message"), REGISTER_REFUSALS)
def test_register_job_definition_refuses_the_combination_with_aws_message(
    batch: BatchClient, request_body: Request, message: str
) -> None:
    error = client_error(lambda: batch.register_job_definition(**request_body))

    assert (error.code, error.http_status) == ("ClientException", 400)
    assert error.message.startswith(f"Error executing request, Exception : {message}, RequestId")
    assert batch.describe_job_definitions(jobDefinitionName="jd")["jobDefinitions"] == []


@pytest.mark.parametrize(
    ("vcpus", "memory"),
    [
        ("0.25", "512"),
        ("0.5", "4096"),
        ("2", "16384"),
        ("4", "30720"),
        ("8", "61440"),
        ("16", "122880"),
        ("32", "249856"),
    ],
)
def test_fargate_accepts_each_documented_vcpu_memory_pair(
    batch: BatchClient, vcpus: str, memory: str
) -> None:
    arn = batch.register_job_definition(**with_fargate_resources(vcpus, memory))["jobDefinitionArn"]

    assert arn.endswith(":job-definition/jd:1")


@pytest.mark.parametrize("size", [21, 200])
def test_fargate_ephemeral_storage_accepts_21_and_200_gib(batch: BatchClient, size: int) -> None:
    request = fargate_definition(ephemeralStorage={"sizeInGiB": size})

    assert batch.register_job_definition(**request)["revision"] == 1


# --- SubmitJob: overrides are checked, then applied -------------------------------------------

SUBMIT_REFUSALS: list[Any] = [
    pytest.param(
        fargate_definition(),
        {"containerOverrides": {"vcpus": 2}},
        "vcpus is not applicable for Fargate. Use resource requirements instead.",
        id="legacy_vcpus_override_on_fargate",
    ),
    pytest.param(
        fargate_definition(),
        {"containerOverrides": {"resourceRequirements": [{"type": "MEMORY", "value": "4000"}]}},
        "Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.",
        id="fargate_memory_override_not_paired_with_its_vcpus",
    ),
    pytest.param(
        multinode_definition(),
        {"arrayProperties": {"size": 2}},
        "Array properties are not supported for multi-node parallel jobs",
        id="array_of_a_multinode_job",
    ),
    pytest.param(
        container_definition(),
        {"nodeOverrides": {"numNodes": 2}},
        "nodeOverrides can only be specified for multinode job definitions",
        id="node_overrides_on_a_container_job",
    ),
    pytest.param(
        container_definition(),
        {"eksPropertiesOverride": {"podProperties": {"containers": [{"image": IMAGE}]}}},
        "eksPropertiesOverride can only be specified for eksProperties job definitions",
        id="eks_override_on_a_container_job",
    ),
    pytest.param(
        with_nodes(nodeRangeProperties=[{"targetNodes": "0:2", "container": NODE_CONTAINER}]),
        {"nodeOverrides": {"numNodes": 5}},
        "NumNodes override can only be applied if the job definition has at least 1 target node "
        "without a range_end i.e (:) or (range_start:).",
        id="num_nodes_override_without_an_open_range",
    ),
    pytest.param(
        with_nodes(
            mainNode=2, nodeRangeProperties=[{"targetNodes": "0:", "container": NODE_CONTAINER}]
        ),
        {"nodeOverrides": {"numNodes": 2}},
        "Main node index is out of range, must be less than numNodes.",
        id="num_nodes_override_not_above_the_main_node",
    ),
    pytest.param(
        with_nodes(nodeRangeProperties=[{"targetNodes": "0:", "container": NODE_CONTAINER}]),
        {
            "nodeOverrides": {
                "nodePropertyOverrides": [
                    {"targetNodes": "0:0", "containerOverrides": {"command": ["x"]}}
                ]
            }
        },
        "NodeOverride targets should match job definition. Non matching targets - 0:0",
        id="node_override_target_not_in_the_definition",
    ),
]


@pytest.mark.parametrize(("definition", "request_body", "message"), SUBMIT_REFUSALS)
def test_submit_job_refuses_overrides_the_definition_does_not_take(
    batch: BatchClient,
    emulator: Emulator,
    definition: Request,
    request_body: Request,
    message: str,
) -> None:
    one_queue(batch, emulator)
    batch.register_job_definition(**definition)

    error = client_error(lambda: submit(batch, **request_body))

    assert (error.code, error.http_status) == ("ClientException", 400)
    assert message in error.message
    assert (
        batch.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["job"]}])[
            "jobSummaryList"
        ]
        == []
    )


def test_fargate_rules_at_submit_job_answer_plain_text_as_real_batch_does(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    batch.register_job_definition(**fargate_definition())

    error = client_error(lambda: submit(batch, containerOverrides={"vcpus": 2}))

    assert (
        error.message == "vcpus is not applicable for Fargate. Use resource requirements instead."
    )


def test_container_overrides_and_parameters_reach_the_job_container(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    batch.register_job_definition(**container_definition(parameters={"sample": "s1"}))

    job_id = submit(
        batch,
        parameters={"sample": "s9"},
        containerOverrides={
            "command": ["python", "call.py", "Ref::sample"],
            "environment": [{"name": "STAGE", "value": "prod"}, {"name": "EXTRA", "value": "1"}],
            "resourceRequirements": [{"type": "MEMORY", "value": "8192"}],
            "instanceType": "p3.2xlarge",
        },
    )

    container: dict[str, Any] = dict(wait_finished(batch, job_id)[0]["container"])
    assert container["command"] == ["python", "call.py", "s9"]
    assert {e["name"]: e["value"] for e in container["environment"]} == {
        "STAGE": "prod",
        "EXTRA": "1",
    }
    assert {r["type"]: r["value"] for r in container["resourceRequirements"]} == {
        "VCPU": "2",
        "MEMORY": "8192",
        "GPU": "1",
    }
    assert container["instanceType"] == "p3.2xlarge"
    for member in ("volumes", "mountPoints", "linuxParameters", "logConfiguration", "secrets"):
        assert container[member] == EC2_CONTAINER[member], member


def test_consumable_resource_override_replaces_the_definition_list(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    for name in ("licenses", "seats"):  # a job can only claim resources that exist
        batch.create_consumable_resource(consumableResourceName=name, totalQuantity=10)
    own = {"consumableResourceList": [{"consumableResource": "licenses", "quantity": 1}]}
    override = {"consumableResourceList": [{"consumableResource": "seats", "quantity": 3}]}
    batch.register_job_definition(
        **container_definition(consumableResourceProperties=own, parameters={"sample": "s1"})
    )

    plain, overridden = submit(batch), submit(batch, consumableResourcePropertiesOverride=override)

    jobs = describe_jobs(batch, plain, overridden)
    assert [job.get("consumableResourceProperties") for job in jobs] == [own, override]


def test_ecs_properties_job_runs_its_task_with_the_container_override_applied(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    batch.register_job_definition(**ecs_definition(parameters={"sample": "s1"}))
    override = {"taskProperties": [{"containers": [{"name": "app", "command": ["serve", "fast"]}]}]}

    job = wait_finished(batch, submit(batch, ecsPropertiesOverride=override))[0]

    assert job["status"] == "SUCCEEDED"
    assert "container" not in job
    (task,) = job["ecsProperties"]["taskProperties"]
    app, sidecar = task["containers"]
    assert (app["name"], app["command"], app["exitCode"]) == ("app", ["serve", "fast"], 0)
    assert sidecar["name"] == "sidecar" and "logStreamName" in app
    assert task["taskArn"] == job["attempts"][0]["taskProperties"][0]["taskArn"]


def test_eks_job_shows_its_pod_and_eks_attempts_instead_of_ecs_attempts(
    batch: BatchClient, emulator: Emulator
) -> None:
    one_queue(batch, emulator)
    batch.register_job_definition(**eks_definition(parameters={"sample": "s1"}))
    override = {
        "podProperties": {
            "containers": [
                {
                    "name": "main",
                    "args": ["eval.py", "Ref::sample"],
                    "env": [{"name": "MODE", "value": "eval"}],
                }
            ],
            "metadata": {"labels": {"run": "42"}},
        }
    }

    job = wait_finished(batch, submit(batch, eksPropertiesOverride=override))[0]

    assert job["status"] == "SUCCEEDED"
    assert "container" not in job and "attempts" not in job
    pod = job["eksProperties"]["podProperties"]
    (main,) = pod["containers"]
    assert (main["args"], main["env"], main["exitCode"]) == (
        ["eval.py", "s1"],
        [{"name": "MODE", "value": "eval"}],
        0,
    )
    assert pod["metadata"]["labels"] == {"team": "ml", "run": "42"}
    (attempt,) = job["eksAttempts"]
    assert attempt["podName"] == pod["podName"] and attempt["nodeName"] == pod["nodeName"]
    assert attempt["podNamespace"] == "batch-jobs"
    assert attempt["containers"] == [{"name": "main", "exitCode": 0}]


def test_describe_jobs_of_every_job_kind_fits_the_botocore_output_shape(
    emulator: Emulator,
) -> None:
    batch: BatchClient = aws_client("batch", emulator)
    bodies: list[tuple[OperationModel, Any]] = []

    def keep(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
        if operation_model.name in ("DescribeJobs", "ListJobs"):
            bodies.append((operation_model, json.loads(response_dict["body"])))

    batch.meta.events.register("before-parse.batch", keep)
    one_queue(batch, emulator)
    definitions: list[Callable[..., Request]] = [
        container_definition,
        ecs_definition,
        eks_definition,
        multinode_definition,
    ]
    jobs = []
    for index, definition in enumerate(definitions):
        batch.register_job_definition(**definition(jobDefinitionName=f"jd{index}"))
        jobs.append(submit(batch, jobDefinition=f"jd{index}", parameters={"sample": "s"}))
    wait_finished(batch, *jobs)
    describe_jobs(batch, *jobs, *(f"{jobs[-1]}#{index}" for index in range(3)))
    batch.list_jobs(multiNodeJobId=jobs[-1], jobStatus="SUCCEEDED")

    walk = ShapeWalk(violations=[], used=set())
    for operation, body in bodies:
        assert operation.output_shape is not None
        walk.check(body, operation.output_shape, operation.name)
    assert walk.violations == [], "\n".join(sorted(set(walk.violations)))
