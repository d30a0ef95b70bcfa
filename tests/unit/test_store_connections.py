"""How the MongoDB and Redis clients get their credentials and TLS settings (no servers: the secret's
value is stubbed; tests/integration/test_store_secrets.py reads the real ones from the local stack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hrms.cache.client import credentials
from hrms.config import AWS_RDS_CA_BUNDLE, Settings
from hrms.db import mongo

DOCDB = "mongodb://docdb.cluster-abc.eu-west-1.docdb.amazonaws.com:27017/?tls=true&replicaSet=rs0&retryWrites=false"


def _connection(monkeypatch: pytest.MonkeyPatch, secret: str | None = None, **env: str) -> tuple[str, dict[str, Any]]:
    asked: list[str] = []

    def fake_secret(secret_id: str, max_age_s: int = 300) -> str:
        asked.append(secret_id)
        assert secret is not None
        return secret

    monkeypatch.setattr("hrms.aws.secret", fake_secret)
    environ = {"DATABASE_URL": "postgresql://x/y", **env}
    if secret is not None:
        environ["MONGODB_SECRET_ID"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hrms-mongo-AbCdEf"
    result = mongo.connection(Settings.from_environ(environ))
    assert asked == ([environ["MONGODB_SECRET_ID"]] if secret is not None else [])
    return result


def test_without_a_secret_the_uri_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _connection(monkeypatch, MONGODB_URI="mongodb://127.0.0.1:27017/") == ("mongodb://127.0.0.1:27017/", {})


def test_a_json_secret_gives_the_credentials_and_the_uri_its_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = json.dumps({"username": "hrms", "password": "p@ss:word/", "engine": "mongo"})
    uri, options = _connection(monkeypatch, secret, MONGODB_URI=DOCDB)
    assert uri == DOCDB
    assert options == {"username": "hrms", "password": "p@ss:word/", "tlsCAFile": str(AWS_RDS_CA_BUNDLE)}


def test_a_connection_string_secret_replaces_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    atlas = "mongodb+srv://hrms:secret@cluster0.abcde.mongodb.net/?retryWrites=true"
    uri, options = _connection(monkeypatch, f"  {atlas}\n", MONGODB_URI="mongodb://ignored:27017/")
    assert (uri, options) == (atlas, {})  # Atlas: TLS (+srv) with the public CAs Python trusts


@pytest.mark.parametrize(
    "uri",
    [
        DOCDB,
        "mongodb://a.cluster-x.us-east-1.docdb.amazonaws.com:27017,b.cluster-x.us-east-1.docdb.amazonaws.com/?ssl=true",
        "mongodb+srv://hrms.cluster-x.us-east-1.docdb-elastic.amazonaws.com/?retryWrites=false",
        "mongodb://DOCDB.Cluster-X.us-east-1.DocDB.amazonaws.com:27017/?TLS=TRUE",
    ],
)
def test_tls_to_documentdb_verifies_against_the_bundled_ca(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    assert _connection(monkeypatch, MONGODB_URI=uri) == (uri, {"tlsCAFile": str(AWS_RDS_CA_BUNDLE)})
    assert Path(AWS_RDS_CA_BUNDLE).read_text().count("BEGIN CERTIFICATE") > 10


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://docdb.cluster-abc.eu-west-1.docdb.amazonaws.com:27017/?tls=false",
        "mongodb://docdb.cluster-abc.eu-west-1.docdb.amazonaws.com:27017/",
        f"{DOCDB}&tlsCAFile=/opt/own-ca.pem",
        "mongodb://mongo.internal.example:27017/?tls=true",
    ],
    ids=["tls-off", "no-tls", "own-ca-in-uri", "not-documentdb"],
)
def test_no_bundle_without_tls_to_documentdb_or_with_a_ca_of_its_own(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    assert _connection(monkeypatch, MONGODB_URI=uri) == (uri, {})


def test_a_configured_ca_file_serves_any_tls_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = "mongodb://mongo.internal.example:27017/?tls=true"
    assert _connection(monkeypatch, MONGODB_URI=uri, MONGODB_TLS_CA_FILE="/etc/ca.pem") == (
        uri,
        {"tlsCAFile": "/etc/ca.pem"},
    )


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("s3cr3t-token-of-32-characters-ok", ("s3cr3t-token-of-32-characters-ok",)),
        (" token\n", ("token",)),
        ('{"username": "hrms", "password": "pw"}', ("hrms", "pw")),
        ('{"password": "pw"}', ("pw",)),
    ],
)
def test_redis_auth_is_the_token_or_an_rbac_user(secret: str, expected: tuple[str, ...]) -> None:
    assert credentials(secret) == expected
