"""Checks of request dicts against AWS's own description of the Batch API.

`botocore_errors` runs botocore's parameter validator over the service model boto3 ships (required
members, types, enums, minimum lengths), exactly what boto3 would refuse before sending. Rules the
model states only in documentation (name patterns, maximum lengths, value ranges) are checked by
the property tests themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import botocore.session
from botocore.model import ServiceModel
from botocore.validate import ParamValidator


@functools.cache
def batch_service_model() -> ServiceModel:
    """botocore's model of the Batch API (loaded once: it is a large JSON document)."""
    return botocore.session.get_session().get_service_model("batch")


def botocore_errors(operation: str, params: Mapping[str, object]) -> str:
    """botocore's validation report for `params` as the input of `operation`; empty if valid."""
    shape = batch_service_model().operation_model(operation).input_shape
    assert shape is not None, f"{operation} takes no input"
    report = ParamValidator().validate(dict(params), shape)
    return str(report.generate_report()) if report.has_errors() else ""
