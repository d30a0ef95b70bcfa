"""JWT issue and verification with a local signing key (no servers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import uuid4

import jwt
import pytest

from hrms.auth import tokens
from hrms.config import settings
from hrms.errors import Unauthorized

SECRET = "unit-test-secret-" + "k" * 64


@pytest.fixture(autouse=True)
def jwt_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused@localhost/unused")
    settings.cache_clear()
    yield
    settings.cache_clear()


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": str(uuid4()), "role": "admin", "tid": str(uuid4()), "iss": "hrms", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims, key=SECRET, algorithm="HS256"):
    return jwt.encode(claims, key, algorithm=algorithm)


def test_tenant_token_round_trips():
    sub, tid = str(uuid4()), str(uuid4())
    claims = tokens.verify(tokens.issue(sub, "hr_manager", tid=tid))
    assert (claims.sub, claims.role, claims.tid) == (sub, "hr_manager", tid)
    assert claims.exp > time.time()


def test_platform_token_round_trips_without_tenant():
    claims = tokens.verify(tokens.issue("platform-admin", "platform_admin"))
    assert claims.role == "platform_admin"
    assert claims.tid is None


def test_issued_token_carries_issuer_and_configured_lifetime(monkeypatch):
    monkeypatch.setenv("JWT_TTL_S", "120")
    settings.cache_clear()
    raw = jwt.decode(tokens.issue("platform-admin", "platform_admin"), SECRET, algorithms=["HS256"])
    assert raw["iss"] == "hrms"
    assert raw["exp"] - raw["iat"] == 120


def test_expired_token_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(tokens.issue(str(uuid4()), "admin", tid=str(uuid4()), ttl_s=-5))


def test_tampered_signature_is_unauthorized():
    token = tokens.issue(str(uuid4()), "admin", tid=str(uuid4()))
    head, payload, signature = token.split(".")
    forged = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(Unauthorized):
        tokens.verify(f"{head}.{payload}.{forged}")


def test_tampered_payload_is_unauthorized():
    token = tokens.issue(str(uuid4()), "employee", tid=str(uuid4()))
    promoted = _sign(_claims(role="admin"), key="attacker-key-" + "x" * 32)
    head, _, signature = token.split(".")
    _, payload, _ = promoted.split(".")
    with pytest.raises(Unauthorized):
        tokens.verify(f"{head}.{payload}.{signature}")


def test_token_signed_with_another_key_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(), key="another-secret-" + "z" * 64))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_token_with_another_algorithm_is_unauthorized(algorithm):
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(), algorithm=algorithm))


def test_unsigned_alg_none_token_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(jwt.encode(_claims(), None, algorithm="none"))


@pytest.mark.parametrize("missing", ["sub", "role", "exp", "iss"])
def test_token_missing_a_required_claim_is_unauthorized(missing):
    claims = _claims()
    del claims[missing]
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(claims))


def test_token_from_another_issuer_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(iss="someone-else")))


def test_tenant_role_without_tenant_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(tid=None)))
    with pytest.raises(Unauthorized):
        tokens.verify(tokens.issue(str(uuid4()), "employee"))


def test_platform_admin_bound_to_a_tenant_is_unauthorized():
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(sub="platform-admin", role="platform_admin")))


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "superuser"},
        {"tid": "not-a-uuid"},
        {"sub": "not-a-uuid"},
        {"tid": 12345},
    ],
)
def test_malformed_tenant_claims_are_unauthorized(overrides):
    with pytest.raises(Unauthorized):
        tokens.verify(_sign(_claims(**overrides)))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_unauthorized(garbage):
    with pytest.raises(Unauthorized):
        tokens.verify(garbage)
