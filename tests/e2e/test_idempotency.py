"""Idempotency-Key on POSTs: platform routes (public table) and tenant routes (tenant table)."""

from __future__ import annotations

import uuid

from tests.conftest import bearer


def test_replayed_tenant_creation_returns_the_first_response_and_creates_one_tenant(client, platform_token):
    slug = f"idem-{uuid.uuid4().hex[:8]}"
    headers = {**bearer(platform_token), "Idempotency-Key": f"create-{slug}"}
    body = {"name": "Idem", "slug": slug, "adminEmail": "admin@idem.example.com"}

    first = client.post("/tenants", json=body, headers=headers)
    replay = client.post("/tenants", json=body, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert isinstance(first.json()["adminTemporaryPassword"], str)
    secret_free = {**first.json(), "adminTemporaryPassword": None, "temporaryPasswordReplayed": True}
    assert replay.json() == secret_free  # the temporary password went out once and is stored nowhere
    assert replay.headers["idempotent-replayed"] == "true"
    listed = client.get("/tenants", headers=bearer(platform_token), params={"limit": 200}).json()["items"]
    assert [t["slug"] for t in listed].count(slug) == 1


def test_same_key_with_another_body_is_rejected(client, platform_token):
    headers = {**bearer(platform_token), "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    slug = f"idem-{uuid.uuid4().hex[:8]}"
    client.post("/tenants", json={"name": "A", "slug": slug, "adminEmail": "a@a.example.com"}, headers=headers)
    other = client.post(
        "/tenants", json={"name": "B", "slug": slug + "x", "adminEmail": "a@a.example.com"}, headers=headers
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"


def test_a_failed_request_keeps_its_outcome_for_replays(client, platform_token):
    headers = {**bearer(platform_token), "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    invalid = {"name": "A", "slug": "-bad-", "adminEmail": "a@a.example.com"}
    first = client.post("/tenants", json=invalid, headers=headers)
    replay = client.post("/tenants", json=invalid, headers=headers)
    assert first.status_code == replay.status_code == 422
    assert replay.headers["idempotent-replayed"] == "true"


def test_keys_are_per_caller(client, platform_token, stack):
    from hrms.auth import tokens

    other_admin = tokens.issue("another-platform-admin", "platform_admin")
    key = f"shared-{uuid.uuid4().hex}"
    one = client.post(
        "/tenants",
        json={"name": "One", "slug": f"one-{uuid.uuid4().hex[:8]}", "adminEmail": "o@o.io"},
        headers={**bearer(platform_token), "Idempotency-Key": key},
    )
    two = client.post(
        "/tenants",
        json={"name": "Two", "slug": f"two-{uuid.uuid4().hex[:8]}", "adminEmail": "t@t.io"},
        headers={**bearer(other_admin), "Idempotency-Key": key},
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["tenantId"] != two.json()["tenantId"]


def test_an_unusable_key_is_a_400(client, platform_token):
    response = client.post("/tenants", json={}, headers={**bearer(platform_token), "Idempotency-Key": "x" * 500})
    assert response.status_code == 400
