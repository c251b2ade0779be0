#!/usr/bin/env python3
"""Copy BatchPipeline's spec schema into CronPipeline's pipelineTemplate.spec (one source of truth).

Usage: python hack/embed_pipeline_schema.py           # rewrite crds/cronpipelines.yaml
       python hack/embed_pipeline_schema.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

CRDS = Path(__file__).resolve().parent.parent / "crds"
PIPELINE = CRDS / "batchpipelines.yaml"
CRON = CRDS / "cronpipelines.yaml"
TEMPLATE_DESCRIPTION = (
    "The BatchPipeline spec of every run, with the same fields and apply-time rules as "
    "BatchPipeline.spec (steps, queue, image, parameters, ...)."
)


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    return dict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def render() -> str:
    """The CronPipeline CRD text with the pipeline spec schema embedded."""
    header = "".join(line for line in CRON.read_text().splitlines(True) if line.startswith("#"))
    cron = yaml.safe_load(CRON.read_text())
    pipeline_spec = copy.deepcopy(_schema(yaml.safe_load(PIPELINE.read_text()))["properties"]["spec"])
    pipeline_spec["description"] = TEMPLATE_DESCRIPTION
    template = _schema(cron)["properties"]["spec"]["properties"]["pipelineTemplate"]
    template["properties"]["spec"] = pipeline_spec
    return header + yaml.safe_dump(cron, sort_keys=False, width=100)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if CRON.read_text() != text:
            print(f"{CRON} is stale: run python hack/embed_pipeline_schema.py", file=sys.stderr)
            return 1
        return 0
    CRON.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
