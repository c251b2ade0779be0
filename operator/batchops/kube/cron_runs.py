"""The BatchPipeline a CronPipeline creates for one scheduled time: its manifest and its creation.

The operator's schedule (`reconcile/cron.py`) and `batchops backfill` both create runs through
here, so a backfilled run and the scheduled run of the same time are the same object: same name
(`plans.schedule.child_name`), labels, annotation, owner and spec. Whichever comes second meets
AlreadyExists and creates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchops.kube.client import CRON_PIPELINE, PIPELINE, KubeConflict, create_object
from batchops.model.common import format_time
from batchops.model.cron import PipelineTemplate
from batchops.model.keys import CRON_LABEL, SCHEDULED_TIME_ANNOTATION


@dataclass(frozen=True)
class CronOwner:
    """The CronPipeline whose run it is: where it lives and the uid its runs are owned by."""

    namespace: str
    name: str
    uid: str


def run_manifest(
    owner: CronOwner, template: PipelineTemplate, name: str, scheduled: datetime
) -> dict[str, Any]:
    """The BatchPipeline for one scheduled time: the template's labels and annotations, the
    cron label and scheduled-time annotation, owned by the CronPipeline (so deleting it deletes
    its runs), with `scheduledTime` among the spec's parameters."""
    return {
        "apiVersion": PIPELINE.api_version,
        "kind": PIPELINE.kind,
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            "labels": {**template.labels, CRON_LABEL: owner.name},
            "annotations": {
                **template.annotations,
                SCHEDULED_TIME_ANNOTATION: format_time(scheduled),
            },
            "ownerReferences": [
                {
                    "apiVersion": CRON_PIPELINE.api_version,
                    "kind": CRON_PIPELINE.kind,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": True,
                }
            ],
        },
        "spec": template.run_spec(scheduled),
    }


def create_run(namespace: str, body: Mapping[str, Any]) -> bool:
    """Create a run; False if one of that name exists already (created before: never a
    duplicate)."""
    try:
        create_object(PIPELINE, namespace, body)
    except KubeConflict:
        return False
    return True
