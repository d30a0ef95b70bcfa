"""TLS of PostgreSQL connections: verify-full against the shipped CA bundle in Lambda, the URL's own sslmode in
the local runtime, for the request pool, maintenance and migration connections and the client tools alike."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from psycopg.conninfo import conninfo_to_dict

from hrms.backup import pgtools
from hrms.config import AWS_RDS_CA_BUNDLE, Settings, function_settings
from hrms.db import postgres
from hrms.migrations import runner

URL = "postgresql://app:secret@db.example.internal:5432/hrms?sslmode=require"
LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "hrms-dev-GetEmployeeFunction"}


@contextmanager
def running_with(**environ: str) -> Iterator[Settings]:
    """The settings a function with this environment (DATABASE_URL = URL unless given) reads."""
    cfg = Settings.from_environ({"DATABASE_URL": URL, **environ})
    token = function_settings.set(cfg)
    try:
        yield cfg
    finally:
        function_settings.reset(token)


def _params(conninfo: str) -> dict[str, Any]:
    return conninfo_to_dict(conninfo)


# ------------------------------------------------------------------------------------ the setting


def test_lambda_connections_verify_the_server_against_the_shipped_bundle() -> None:
    with running_with(**LAMBDA) as cfg:
        assert cfg.pg_tls == {"sslmode": "verify-full", "sslrootcert": str(AWS_RDS_CA_BUNDLE)}


def test_local_connections_keep_the_urls_own_sslmode() -> None:
    with running_with() as cfg:
        assert cfg.pg_tls == {}


def test_an_explicit_sslmode_wins_in_lambda_and_locally() -> None:
    with running_with(PG_SSLMODE="require", **LAMBDA) as cfg:
        assert cfg.pg_tls == {"sslmode": "require"}  # no root certificate without a verifying mode
    with running_with(PG_SSLMODE="verify-ca", PG_SSLROOTCERT="/etc/ssl/our-ca.pem") as cfg:
        assert cfg.pg_tls == {"sslmode": "verify-ca", "sslrootcert": "/etc/ssl/our-ca.pem"}


def test_an_unknown_sslmode_is_refused() -> None:
    with pytest.raises(ValueError, match="pg_sslmode"):
        Settings.from_environ({"DATABASE_URL": URL, "PG_SSLMODE": "verify_full"})


# ------------------------------------------------------------------------------------ every connection


def test_the_request_pool_connects_with_verify_full_in_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class Pool:
        check_connection = None

        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    monkeypatch.setattr(postgres, "ConnectionPool", Pool)
    postgres.pool.cache_clear()
    try:
        with running_with(**LAMBDA):
            postgres.pool()
    finally:
        postgres.pool.cache_clear()
    assert seen["conninfo"] == URL
    assert seen["kwargs"]["sslmode"] == "verify-full"  # psycopg lets these override the URL's sslmode=require
    assert seen["kwargs"]["sslrootcert"] == str(AWS_RDS_CA_BUNDLE)


def test_maintenance_connections_use_the_same_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(postgres.psycopg, "connect", lambda conninfo, **kwargs: seen.append(conninfo))
    with running_with(**LAMBDA):
        postgres.connect()
    with running_with():
        postgres.connect()
    in_lambda, local = map(_params, seen)
    assert in_lambda["sslmode"] == "verify-full" and in_lambda["sslrootcert"] == str(AWS_RDS_CA_BUNDLE)
    assert local["sslmode"] == "require" and "sslrootcert" not in local


def test_migrations_connect_with_verify_full_in_lambda() -> None:
    with running_with(**LAMBDA):
        params = _params(runner._conninfo(None))
        given = _params(runner._conninfo("host=restore.example dbname=hrms sslmode=disable"))
    assert (params["host"], params["sslmode"], params["sslrootcert"]) == (
        "db.example.internal",
        "verify-full",
        str(AWS_RDS_CA_BUNDLE),
    )
    assert given["sslmode"] == "verify-full"  # a restore target's URL cannot turn TLS off in AWS
    with running_with():
        assert _params(runner._conninfo(None))["sslmode"] == "require"


def test_migrations_of_the_live_database_log_in_with_the_database_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "credentials", lambda: {"user": "hrms_app", "password": "from-the-secret"})
    with running_with(**LAMBDA):
        live = _params(runner._conninfo(None))
        target = _params(runner._conninfo("postgresql://restore@restore.example/hrms"))
    assert (live["user"], live["password"], live["host"]) == ("hrms_app", "from-the-secret", "db.example.internal")
    assert (target["user"], "password" in target) == ("restore", False)  # another database keeps its own


def test_the_client_tools_get_tls_in_their_conninfo_and_no_password() -> None:
    with running_with(**LAMBDA):
        db = pgtools.Database.from_url("live", URL)
    params = _params(db.conninfo)  # what pg_dump, pg_restore and psql get as --dbname
    assert params["sslmode"] == "verify-full" and params["sslrootcert"] == str(AWS_RDS_CA_BUNDLE)
    assert "password" not in params and db.password == "secret"
    with running_with():
        local = _params(pgtools.Database.from_url("live", URL).conninfo)
    assert local["sslmode"] == "require" and "sslrootcert" not in local


# ------------------------------------------------------------------------------------ the CA bundle


def _certificates(pem: bytes) -> list[x509.Certificate]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 2019 RDS CAs (expired) have serial numbers RFC 5280 disallows
        return x509.load_pem_x509_certificates(pem)


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


@pytest.fixture(scope="module")
def bundle() -> list[x509.Certificate]:
    return _certificates(AWS_RDS_CA_BUNDLE.read_bytes())


def test_the_bundle_holds_the_amazon_trust_services_roots_rds_proxy_chains_to(bundle: list[x509.Certificate]) -> None:
    # The same certificates as Mozilla's store (certifi): RDS Proxy's certificates come from ACM.
    mozilla = {_common_name(c): c for c in _certificates(open(certifi.where(), "rb").read())}  # noqa: SIM115
    for name in (
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
        "Starfield Services Root Certificate Authority - G2",
    ):
        assert mozilla[name] in bundle, name


def test_the_bundle_holds_the_rds_root_cas_of_the_regions(bundle: list[x509.Certificate]) -> None:
    names = {_common_name(c) for c in bundle}
    for region in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-southeast-1"):
        for kind in ("RSA2048", "RSA4096", "ECC384"):
            assert f"Amazon RDS {region} Root CA {kind} G1" in names


def test_every_rds_certificate_in_the_bundle_is_a_root_or_issued_by_one_in_it(bundle: list[x509.Certificate]) -> None:
    by_subject = {c.subject: c for c in bundle}
    for cert in bundle:
        issuer = by_subject.get(cert.issuer)
        assert issuer is not None, f"{_common_name(cert)}: its issuer is not in the bundle"
        assert isinstance(issuer.public_key(), rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        cert.verify_directly_issued_by(issuer)  # raises if the signature does not check out


def test_the_bundle_ships_inside_the_hrms_package() -> None:
    assert AWS_RDS_CA_BUNDLE.parent.parent.name == "hrms" and AWS_RDS_CA_BUNDLE.is_file()
