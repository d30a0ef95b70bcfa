"""pymongo client factory (one per container) with short timeouts so an outage fails fast.

Credentials come from Secrets Manager (`MONGODB_SECRET_ID`), read through Powertools Parameters when the
client is made, once per container: never from an environment variable. TLS to DocumentDB verifies the
server against the CA bundle shipped in the layer (DocumentDB's certificates chain to the Amazon RDS CAs).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hrms import snapstart
from hrms.config import AWS_RDS_CA_BUNDLE, Settings, settings

# Host name suffixes of Amazon DocumentDB endpoints (instance-based and elastic clusters).
DOCUMENTDB_HOSTS = (".docdb.amazonaws.com", ".docdb-elastic.amazonaws.com")


@cache
def client() -> Any:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from pymongo import MongoClient

    from hrms.errors import DependencyDown
    from hrms.observability import trace_library

    trace_library("pymongo")  # registers a command listener: before the client exists
    cfg = settings()
    timeout = cfg.mongodb_timeout_ms
    try:
        uri, options = connection(cfg)
    except GetParameterError as exc:
        raise DependencyDown("MongoDB is unavailable: its credentials could not be read.") from exc
    return MongoClient(
        uri,
        **options,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=max(timeout, 5_000),
        maxPoolSize=4,
        tz_aware=True,
        uuidRepresentation="standard",
    )


def database() -> Any:
    return client()[settings().mongodb_database]


def close_client() -> None:
    if client.cache_info().currsize:
        client().close()
        client.cache_clear()


snapstart.on_restore(close_client)  # a container restored from a snapshot opens its own client


def connection(cfg: Settings) -> tuple[str, dict[str, Any]]:
    """The connection string and the MongoClient options that `cfg` asks for: credentials from the secret
    `mongodb_secret_id` (JSON {"username", "password"} with `mongodb_uri`, or a whole connection string), and
    the CA bundle when the connection uses TLS to DocumentDB (or `mongodb_tls_ca_file`, set, for any TLS)."""
    uri, options = cfg.mongodb_uri, {}
    if cfg.mongodb_secret_id:
        from hrms import aws

        value = aws.secret(cfg.mongodb_secret_id).strip()
        if value.startswith("{"):
            credentials = json.loads(value)
            options = {"username": credentials["username"], "password": credentials["password"]}
        else:
            uri = value
    parts = urlsplit(uri)
    query = {key.lower(): values[-1].lower() for key, values in parse_qs(parts.query).items()}
    tls = parts.scheme == "mongodb+srv" or "true" in (query.get("tls"), query.get("ssl"))
    hosts = [host.rsplit(":", 1)[0].lower() for host in parts.netloc.rsplit("@", 1)[-1].split(",")]
    if tls and "tlscafile" not in query:
        if cfg.mongodb_tls_ca_file:
            options["tlsCAFile"] = cfg.mongodb_tls_ca_file
        elif any(host.endswith(DOCUMENTDB_HOSTS) for host in hosts):
            options["tlsCAFile"] = str(AWS_RDS_CA_BUNDLE)
    return uri, options
