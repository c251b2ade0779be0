"""What `batchops doctor` asks AWS: are credentials resolvable, does Batch answer in a region."""

from __future__ import annotations

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from batchops.aws.session import AwsSettings, client_for


def credentials_source() -> str | None:
    """Where botocore's credential chain finds credentials (`env`, `iam-role`, ...), or None."""
    credentials = boto3.session.Session().get_credentials()
    return None if credentials is None else str(credentials.method)


def batch_answers(settings: AwsSettings) -> str | None:
    """None when DescribeComputeEnvironments succeeds in the settings' region or endpoint, else
    why not."""
    quick = AwsSettings(
        region=settings.region,
        endpoint_url=settings.endpoint_url,
        max_attempts=1,
        connect_timeout=3.0,
        read_timeout=10.0,
    )
    try:
        client_for("batch", quick).describe_compute_environments(maxResults=1)
    except (BotoCoreError, ClientError) as exc:
        return str(exc)
    return None
