"""The `batchops.io/*` keys and kopf index names have one home: handlers and the CLI read them
through `model/keys.py`, so a renamed index or annotation cannot leave a reader behind."""

from __future__ import annotations

import kopf

import batchops.handlers  # noqa: F401  (registers the handlers)
from batchops.model import keys


def test_every_index_name_is_a_registered_kopf_index() -> None:
    registered = {
        handler.id for handler in kopf.get_default_registry()._indexing.get_all_handlers()
    }
    names = {
        keys.COMPUTE_ENVIRONMENT_ARNS.name,
        keys.JOB_QUEUE_ARNS.name,
        keys.SCHEDULING_POLICY_ARNS.name,
        keys.CONSUMABLE_RESOURCE_ARNS.name,
        keys.QUEUE_REFS.name,
        keys.QUEUE_POLICY_REFS.name,
        keys.BATCH_ACCOUNTS.name,
        keys.NAMESPACES.name,
        keys.COMPUTE_CAPACITY.name,
        keys.QUEUE_COMPUTE_ENVIRONMENTS.name,
        keys.PIPELINE_JOB_DEFINITIONS.name,
    }
    assert names == registered


def test_index_accessor_reads_the_index_kopf_passes_by_name() -> None:
    index = {("ns", "queue-a"): ["arn:aws:batch:eu-west-1:1:job-queue/a"]}
    assert keys.JOB_QUEUE_ARNS.of({"job_queue_arns": index, "other": {}}) is index


def test_request_accessors_read_their_own_annotation_only() -> None:
    annotations = {keys.RERUN_ANNOTATION: "2", keys.TRIGGER_ANNOTATION: "t"}
    assert keys.rerun_request(annotations) == "2"
    assert keys.trigger_request(annotations) == "t"
    assert keys.terminate_request(annotations) is None


def test_every_key_is_under_the_operator_prefix() -> None:
    values = [
        keys.RERUN_ANNOTATION,
        keys.TERMINATE_ANNOTATION,
        keys.TRIGGER_ANNOTATION,
        keys.SCHEDULED_TIME_ANNOTATION,
        keys.CRON_LABEL,
        keys.FINALIZER,
        keys.PIPELINE_TAG,
        keys.CONTENT_HASH_TAG,
        keys.STEP_TAG,
        keys.RUN_TAG,
    ]
    assert all(value.startswith(f"{keys.PREFIX}/") for value in values)
    assert f"{keys.PREFIX}/" in keys.RESERVED_TAG_PREFIXES
