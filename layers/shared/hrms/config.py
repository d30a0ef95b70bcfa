"""Every setting the functions, CLI and local runtime read, validated once per container.

A plain pydantic model filled from the environment by `Settings.from_environ`: pydantic-settings
would do the same but costs ~50 ms more of every cold start (it imports asyncio and its sources).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# The CA certificates of Amazon RDS (direct endpoints) and the Amazon Trust Services roots (RDS Proxy's
# ACM certificates), shipped with hrms in the shared layer; `make ca-bundle` makes it from a registry package.
AWS_RDS_CA_BUNDLE = Path(__file__).parent / "certs" / "aws-rds-ca-bundle.pem"
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class Settings(BaseModel):
    """Environment variables (upper-case field names or aliases) of every HRMS function."""

    model_config = ConfigDict(extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True)

    stage: Literal["local", "dev", "staging", "prod"] = "local"

    # PostgreSQL (RDS Proxy endpoint in AWS). The password may instead come from Secrets Manager.
    database_url: str = Field(min_length=1)
    database_secret_id: str | None = None
    pg_pool_min_size: int = Field(default=0, ge=0, le=10)
    pg_pool_max_size: int = Field(default=2, ge=1, le=50)
    pg_pool_max_lifetime_s: float = Field(default=900.0, gt=0)
    # A pooled connection is retired after naming this many distinct tenant schemas (hrms.db.postgres): each
    # one costs its backend catalog cache it never frees. README "Scaling to many tenants" derives the number.
    pg_pool_max_tenant_schemas: int = Field(default=100, ge=1)
    pg_connect_timeout_s: int = Field(default=5, ge=1, le=60)
    pg_statement_timeout_ms: int = Field(default=15_000, ge=100)
    # TLS of every PostgreSQL connection: the pool, maintenance and migration connections, pg_dump,
    # pg_restore and psql (`pg_tls`). Unset, it is verify-full in Lambda (the server's certificate checked
    # against `pg_sslrootcert`, by default AWS_RDS_CA_BUNDLE, and its host name against the URL's) and the
    # URL's own sslmode elsewhere (the local embedded stack speaks no TLS). Set, it overrides the URL's.
    pg_sslmode: SslMode | None = None
    pg_sslrootcert: str | None = None
    # Set by Lambda itself in every function's environment: tells AWS from the local runtime.
    lambda_function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")

    # MongoDB / DocumentDB. The credentials never come from the environment: `mongodb_secret_id` names a
    # Secrets Manager secret, {"username", "password"} (DocumentDB's managed master-user secret has them)
    # used with `mongodb_uri` (hosts and options only), or a whole connection string that replaces it.
    # TLS to a DocumentDB endpoint verifies its certificate against AWS_RDS_CA_BUNDLE unless
    # `mongodb_tls_ca_file` names another bundle (hrms.db.mongo).
    mongodb_uri: str = "mongodb://127.0.0.1:27017/"
    mongodb_secret_id: str | None = None
    mongodb_tls_ca_file: str | None = None
    mongodb_database: str = "hrms"
    mongodb_timeout_ms: int = Field(default=1_500, ge=100)

    # Redis / Valkey (ElastiCache). `rediss://` for TLS. AUTH, when used, from the Secrets Manager secret
    # `redis_auth_secret_id`: the token, or {"username", "password"} of an RBAC user (hrms.cache.client).
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

    # Backups (hrms.backup): pg_dump -> gzip -> S3 multipart, retention and restore targets.
    pg_bin_dir: str | None = None  # pg_dump / pg_restore / psql; else /opt/bin (pgtools layer), else PATH
    backup_retention_days: int = Field(default=30, ge=1, le=3650)
    backup_keep_last: int = Field(default=3, ge=1, le=1000)  # newest N kept per kind and schema, however old
    backup_part_size_mib: int = Field(default=8, ge=5, le=512)  # S3 multipart part size (S3 minimum: 5 MiB)
    backup_upload_concurrency: int = Field(default=2, ge=1, le=16)  # parts in flight (memory: size x (n + 1))
    backup_gzip_level: int = Field(default=6, ge=1, le=9)
    backup_workers: int = Field(default=4, ge=1, le=32)  # tenant schemas the scheduled backup dumps in parallel
    # Databases a backup may be restored into besides the live one, by name: '{"staging": "postgresql://..."}'.
    restore_targets: dict[str, SecretStr] = Field(default_factory=dict)
    restore_targets_secret_id: str | None = None  # the same JSON mapping kept in Secrets Manager (AWS)

    # Tenant cells (hrms.db.cells): PostgreSQL clusters holding tenant schemas besides the control database
    # (DATABASE_URL, always the cell 'default'), by name: '{"b": "postgresql://..."}' locally; in AWS the secret
    # `cells_secret_id` maps each name to {"url": <RDS Proxy endpoint URL>, "secretId": <credentials secret>}.
    cells: dict[str, SecretStr] = Field(default_factory=dict)
    cells_secret_id: str | None = None
    cell_capacity: int = Field(default=2_000, ge=1)  # tenants per cell when public.cells says nothing (README)
    cell_cache_ttl_s: float = Field(default=30.0, ge=0)  # how long a container trusts a tenant -> cell lookup

    # Transactional outbox (hrms.outbox): the SQS queue its events go to (unset: they wait in the tables),
    # and how long published rows are kept before the sweep purges them.
    outbox_queue_url: str | None = None
    # Worker queues the outbox routes job events to (`hrms.outbox.events`: each type names its queue).
    import_queue_url: str | None = None
    export_queue_url: str | None = None
    payslip_queue_url: str | None = None
    outbox_retention_days: int = Field(default=7, ge=1, le=365)

    # Notifications (hrms.notifications, NotifierFunction): the SES identity mail is sent from (a domain:
    # the sender is no-reply@ it; or one address, the sender itself), and the page a password-reset link
    # opens (the token is appended as `token=`; the customer's front end, locally the API docs).
    ses_identity: str | None = None
    reset_link_base_url: str = "http://127.0.0.1:3000/docs"

    @property
    def pg_tls(self) -> dict[str, str]:
        """libpq parameters every PostgreSQL connection adds to its URL (and that override the URL's own):
        {} keeps the URL's sslmode."""
        mode = self.pg_sslmode or ("verify-full" if self.lambda_function_name else None)
        if mode is None:
            return {}
        if mode in ("verify-ca", "verify-full"):
            return {"sslmode": mode, "sslrootcert": self.pg_sslrootcert or str(AWS_RDS_CA_BUNDLE)}
        return {"sslmode": mode}

    @classmethod
    def env_keys(cls) -> dict[str, str]:
        """Environment variable name -> the key `model_validate` expects (alias or field name)."""
        keys: dict[str, str] = {}
        for name, info in cls.model_fields.items():
            key = info.alias if isinstance(info.alias, str) else name
            keys[key.upper()] = key
        return keys

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The settings `environ` holds (names case-insensitive; mappings as JSON text)."""
        keys = cls.env_keys()
        values: dict[str, Any] = {}
        for name, raw in environ.items():
            key = keys.get(name.upper())
            if key is not None:
                values[key] = _json(name, raw) if key in _JSON_KEYS else raw
        return cls.model_validate(values)


_JSON_KEYS = frozenset({"restore_targets", "cells"})


def _json(name: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be JSON") from exc


# The local runtime (hrms_tools.local) serves every function from one process: while it runs a function
# whose environment differs from the process's (template, --env-vars), it sets this, in the
# invoking thread only, to that function's settings. Never set in AWS (one function per process).
function_settings: ContextVar[Settings | None] = ContextVar("hrms_function_settings", default=None)


@cache
def _process_settings() -> Settings:
    return Settings.from_environ(os.environ)


class _SettingsAccessor:
    """`settings()`: the container's settings, validated once (cold start); `settings.cache_clear()` forgets them."""

    def __call__(self) -> Settings:
        override = function_settings.get()
        return override if override is not None else _process_settings()

    def cache_clear(self) -> None:
        _process_settings.cache_clear()


settings = _SettingsAccessor()
