"""The terraform-aws-modules/batch module's inputs, read as the resources it creates.

A `module "batch" { source = "terraform-aws-modules/batch/aws" ... }` block holds the whole
Batch setup in three maps (`compute_environments`, `job_queues`, `job_definitions`); each job
queue also gets a scheduling policy of its own name (its `fair_share_policy`) unless it sets
`create_scheduling_policy = false`. This module turns each entry into the `aws_batch_*`
resource body the module would declare for it (its defaults included: roles it creates,
`name_prefix`, every compute environment on a queue that names none), so the rest of the import
reads them like hand-written resources. Values the
module computes itself (the IAM roles it creates, a generated name) are `Unknown`s.
Input shapes follow the module's README for v2 (`compute_environments` list on a queue) and v3
(`compute_environment_order` map).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from batchops.importing.expression_functions import merge_maps
from batchops.importing.expression_values import Unknown, Value
from batchops.importing.hcl import TerraformBlock, TerraformResource

_SOURCE = re.compile(
    r"^(?:(?:registry\.terraform\.io/)?terraform-aws-modules/batch/aws"
    r"|(?:git::)?(?:https://|ssh://git@|git@)?github\.com[/:]terraform-aws-modules/"
    r"terraform-aws-batch(?:\.git)?)(?://[^?]*)?(?:\?.*)?$"
)
_FARGATE = ("FARGATE", "FARGATE_SPOT")


def is_batch_module(source: object) -> bool:
    """True for the registry address or GitHub URL of terraform-aws-modules/batch."""
    return isinstance(source, str) and _SOURCE.match(source.strip()) is not None


def resources_of_batch_module(
    call: TerraformBlock, inputs: Mapping[str, Value], warnings: list[str]
) -> list[TerraformResource]:
    """The compute environments, queues and job definitions the module call creates, with
    bodies already evaluated; `warnings` gets what cannot be read offline."""
    prefix = f"module.{call.label}."
    if inputs.get("create") is False:
        warnings.append(f"{call.where}: module.{call.label} has create = false: nothing to import")
        return []
    tags = _mapping(inputs.get("tags"))
    environments = _entries(call, inputs, "compute_environments", warnings)
    out = [
        _resource(
            call,
            prefix,
            "aws_batch_compute_environment",
            key,
            _environment(call, inputs, key, value, tags),
        )
        for key, value in environments.items()
    ]
    if inputs.get("create_job_queues", True) is not False:
        for key, value in _entries(call, inputs, "job_queues", warnings).items():
            body = _queue(call, key, value, list(environments), tags)
            out.append(_resource(call, prefix, "aws_batch_job_queue", key, body))
            if value.get("create_scheduling_policy", True) is not False:
                policy = _scheduling_policy(key, value, tags)
                out.append(_resource(call, prefix, "aws_batch_scheduling_policy", key, policy))
    if inputs.get("create_job_definitions", True) is not False:
        for key, value in _entries(call, inputs, "job_definitions", warnings).items():
            body = _job_definition(key, value, tags)
            out.append(_resource(call, prefix, "aws_batch_job_definition", key, body))
    return out


def _resource(
    call: TerraformBlock, prefix: str, kind: str, key: str, body: dict[str, Value]
) -> TerraformResource:
    return TerraformResource(call.file, kind, f'this["{key}"]', body, call.line, prefix)


def _entries(
    call: TerraformBlock, inputs: Mapping[str, Value], name: str, warnings: list[str]
) -> dict[str, Mapping[str, Value]]:
    value = inputs.get(name)
    if value is None:
        return {}
    if isinstance(value, Unknown) or not isinstance(value, Mapping):
        shown = value.expression if isinstance(value, Unknown) else repr(value)
        warnings.append(
            f"{call.where}: module.{call.label}: {name} = {shown} is not known offline: "
            f"its {name.replace('_', ' ')} are not imported"
        )
        return {}
    entries: dict[str, Mapping[str, Value]] = {}
    for key, entry in value.items():
        if isinstance(entry, Mapping):
            entries[str(key)] = entry
        else:
            warnings.append(
                f"{call.where}: module.{call.label}: {name}[{key!r}] is not known offline: "
                "not imported"
            )
    return entries


def _mapping(value: Value) -> Value:
    return value if isinstance(value, (Mapping, Unknown)) else {}


def _merged_tags(module_tags: Value, own: Value) -> Value:
    if isinstance(module_tags, Unknown) or isinstance(own, Unknown):
        # merge() with an unknown map: known keys are kept, the unknown one is a placeholder.
        return merge_maps(module_tags, own)
    return {**module_tags, **(own if isinstance(own, Mapping) else {})}


def _created(call: TerraformBlock, address: str, what: str) -> Unknown:
    return Unknown(f"module.{call.label}.{address}", f"the {what} the module creates")


def _environment(
    call: TerraformBlock,
    inputs: Mapping[str, Value],
    key: str,
    ce: Mapping[str, Value],
    tags: Value,
) -> dict[str, Value]:
    body: dict[str, Value] = {"type": ce.get("type", "MANAGED")}
    if ce.get("name") is not None:
        body["name"] = ce["name"]
    elif isinstance(ce.get("name_prefix"), str):
        body["name_prefix"] = f"{ce['name_prefix']}-"
    body["service_role"] = (
        _created(call, "aws_iam_role.service[0].arn", "service role")
        if inputs.get("create_service_iam_role", True) is not False
        else ce.get("service_role")
    )
    resources = ce.get("compute_resources")
    # The module declares compute_resources only when the entry gives subnets.
    if isinstance(resources, Mapping) and "subnets" in resources:
        body["compute_resources"] = [_compute_resources(call, inputs, resources)]
    body["tags"] = _merged_tags(tags, ce.get("tags", {}))
    return body


def _compute_resources(
    call: TerraformBlock, inputs: Mapping[str, Value], cr: Mapping[str, Value]
) -> dict[str, Value]:
    kind = cr.get("type")
    out: dict[str, Value] = {
        "type": kind,
        "max_vcpus": cr.get("max_vcpus"),
        "security_group_ids": cr.get("security_group_ids"),
        "subnets": cr.get("subnets"),
    }
    if kind in _FARGATE:
        return out
    for name in ("allocation_strategy", "bid_percentage", "min_vcpus", "ec2_key_pair"):
        if cr.get(name) is not None:
            out[name] = cr[name]
    out["instance_type"] = cr.get("instance_types", [])
    if cr.get("instance_role") is not None:
        out["instance_role"] = cr["instance_role"]
    elif inputs.get("create_instance_iam_role", True) is not False:
        out["instance_role"] = _created(
            call, "aws_iam_instance_profile.instance[0].arn", "instance profile"
        )
    if kind == "SPOT":
        out["spot_iam_fleet_role"] = (
            _created(call, "aws_iam_role.spot_fleet[0].arn", "Spot Fleet role")
            if inputs.get("create_spot_fleet_iam_role") is True
            else cr.get("spot_fleet_role")
        )
    if isinstance(cr.get("tags"), Mapping):
        out["tags"] = cr["tags"]
    configuration = cr.get("ec2_configuration")
    if isinstance(configuration, Mapping):
        out["ec2_configuration"] = [dict(configuration)]
    elif isinstance(configuration, list):
        out["ec2_configuration"] = configuration
    template = cr.get("launch_template")
    if isinstance(template, Mapping):
        out["launch_template"] = [
            {
                "launch_template_id": template.get("id"),
                "launch_template_name": template.get("name"),
                "version": template.get("version"),
            }
        ]
    return out


def _queue(
    call: TerraformBlock,
    key: str,
    queue: Mapping[str, Value],
    environment_keys: list[str],
    tags: Value,
) -> dict[str, Value]:
    prefix = f"module.{call.label}.aws_batch_compute_environment.this"
    body: dict[str, Value] = {
        "name": queue.get("name", key),
        "state": queue.get("state", "ENABLED"),
        "priority": queue.get("priority"),
        "tags": _merged_tags(tags, queue.get("tags", {})),
    }
    order = queue.get("compute_environment_order")
    if isinstance(order, Mapping):
        body["compute_environment_order"] = [
            {
                "order": _int_key(position),
                "compute_environment": (
                    Unknown(f'{prefix}["{entry["compute_environment_key"]}"].arn')
                    if "compute_environment_key" in entry
                    else entry.get("compute_environment")
                ),
            }
            for position, entry in order.items()
            if isinstance(entry, Mapping)
        ]
    else:
        listed = queue.get("compute_environments", environment_keys)
        keys = listed if isinstance(listed, list) else environment_keys
        # The module attaches at most three, in key order.
        body["compute_environments"] = [Unknown(f'{prefix}["{k}"].arn') for k in keys[:3]]
    if queue.get("create_scheduling_policy", True) is not False:
        body["scheduling_policy_arn"] = _created(
            call, f'aws_batch_scheduling_policy.this["{key}"].arn', "scheduling policy"
        )
    elif queue.get("scheduling_policy_arn") is not None:
        body["scheduling_policy_arn"] = queue["scheduling_policy_arn"]
    actions = queue.get("job_state_time_limit_action")
    if isinstance(actions, Mapping):
        body["job_state_time_limit_action"] = [
            a for a in actions.values() if isinstance(a, Mapping)
        ]
    return body


def _scheduling_policy(key: str, queue: Mapping[str, Value], tags: Value) -> dict[str, Value]:
    """The policy the module declares for a queue: named like the queue, with the queue's
    `fair_share_policy` (its share_distribution a list or a map of entries). A part only
    Terraform knows stays unknown, so it becomes a placeholder rather than a missing share."""
    fair_share = queue.get("fair_share_policy", {})
    shares = _part(fair_share, "share_distribution", [])
    if isinstance(shares, Unknown):
        # One entry stands for however many the value holds, as for a dynamic block.
        shares = [{"share_identifier": _part(shares, "share_identifier", None)}]
    entries = list(shares.values()) if isinstance(shares, Mapping) else shares
    block: dict[str, Value] = {
        "compute_reservation": _part(fair_share, "compute_reservation", None),
        "share_decay_seconds": _part(fair_share, "share_decay_seconds", None),
        "share_distribution": [
            {
                "share_identifier": share.get("share_identifier"),
                "weight_factor": share.get("weight_factor"),
            }
            for share in (entries if isinstance(entries, list) else [])
            if isinstance(share, Mapping)
        ],
    }
    return {
        "name": queue.get("name", key),
        "fair_share_policy": [block],
        "tags": _merged_tags(tags, queue.get("tags", {})),
    }


def _part(value: Value, name: str, default: Value) -> Value:
    """`value.name` as the module's `try(value.name, default)` reads it, unknown when `value`
    is."""
    if isinstance(value, Unknown):
        return Unknown(f"{value.expression}.{name}", value.reason)
    return value.get(name, default) if isinstance(value, Mapping) else default


def _int_key(position: object) -> Any:
    text = str(position)
    return int(text) if text.isdigit() else position


def _job_definition(key: str, definition: Mapping[str, Value], tags: Value) -> dict[str, Value]:
    body: dict[str, Value] = {
        "name": definition.get("name", key),
        "type": definition.get("type", "container"),
        "tags": _merged_tags(tags, definition.get("tags", {})),
    }
    for name in (
        "container_properties",
        "node_properties",
        "eks_properties",
        "parameters",
        "platform_capabilities",
        "propagate_tags",
        "scheduling_priority",
    ):
        if definition.get(name) is not None:
            body[name] = definition[name]
    retry = definition.get("retry_strategy")
    if isinstance(retry, Mapping):
        exits = retry.get("evaluate_on_exit", {})
        body["retry_strategy"] = [
            {
                "attempts": retry.get("attempts"),
                "evaluate_on_exit": [
                    dict(entry)
                    for entry in (exits.values() if isinstance(exits, Mapping) else exits)
                    if isinstance(entry, Mapping)
                ],
            }
        ]
    if definition.get("attempt_duration_seconds") is not None:
        body["timeout"] = [{"attempt_duration_seconds": definition["attempt_duration_seconds"]}]
    return body
