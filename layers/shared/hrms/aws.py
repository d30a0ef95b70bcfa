"""boto3 clients, created once per container, pointed at moto locally via AWS_ENDPOINT_URL."""

from __future__ import annotations

from functools import cache
from typing import Any

from hrms import snapstart
from hrms.config import settings


@cache
def client(service: str, *, quick: bool = False) -> Any:
    """The container's client of `service`. `quick`: 1 s to connect, 2 s to read, no retry - for a call an
    API request makes once its work is committed (the outbox's after-commit publish), which must not hold
    the response up; a scheduled job retries whatever it could not do."""
    import boto3
    from botocore.config import Config

    from hrms.observability import trace_library

    trace_library("botocore")
    cfg = settings()
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=cfg.aws_region,
        endpoint_url=cfg.aws_endpoint_url,
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=1 if quick else 2,
            read_timeout=2 if quick else 10,
            retries={"max_attempts": 1 if quick else 2, "mode": "standard"},
        ),
    )


def secret(secret_id: str, max_age_s: int = 300) -> str:
    """A Secrets Manager secret string, cached by Powertools parameters for `max_age_s`."""
    return str(_secrets_provider().get(secret_id, max_age=max_age_s))


@cache
def _secrets_provider() -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client("secretsmanager"))


# A container restored from a snapshot builds its own clients (credentials) and reads the secrets afresh.
snapstart.on_restore(client.cache_clear)
snapstart.on_restore(_secrets_provider.cache_clear)
