"""Every setting the functions, CLI and local runtime read, validated once per container."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Environment variables (upper-case names) of every HRMS function."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    stage: Literal["local", "dev", "staging", "prod"] = "local"

    # PostgreSQL (RDS Proxy endpoint in AWS). The password may instead come from Secrets Manager.
    database_url: str = Field(min_length=1)
    database_secret_id: str | None = None
    pg_pool_min_size: int = Field(default=0, ge=0, le=10)
    pg_pool_max_size: int = Field(default=2, ge=1, le=50)
    pg_pool_max_lifetime_s: float = Field(default=900.0, gt=0)
    pg_connect_timeout_s: int = Field(default=5, ge=1, le=60)
    pg_statement_timeout_ms: int = Field(default=15_000, ge=100)

    # MongoDB / DocumentDB.
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = "hrms"
    mongodb_timeout_ms: int = Field(default=1_500, ge=100)

    # Redis / Valkey (ElastiCache). `rediss://` for TLS; the AUTH token may come from Secrets Manager.
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False
    redis_auth_secret_id: str | None = None
    redis_timeout_s: float = Field(default=0.3, gt=0)

    # AWS services; `aws_endpoint_url` points every client at the local moto server.
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")
    backup_bucket: str = "hrms-backups-local"
    documents_bucket: str = "hrms-documents-local"

    # Tokens.
    jwt_secret_id: str = "hrms/jwt-secret"  # noqa: S105 - a secret name
    jwt_secret: SecretStr | None = None  # only for tests and the CLI; functions read Secrets Manager
    jwt_ttl_s: int = Field(default=3_600, ge=60, le=86_400)
    jwt_issuer: str = "hrms"

    # Key material of PII field encryption (PAN, Aadhaar): AES-GCM and blind-index keys are derived from it.
    pii_key_secret_id: str = "hrms/pii-key"  # noqa: S105 - a secret name

    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    migration_workers: int = Field(default=4, ge=1, le=32)


@cache
def settings() -> Settings:
    """The container's settings; raises at cold start if anything is missing or invalid."""
    return Settings()  # type: ignore[call-arg]
