"""The backup API through the local gateway: platform admins only, and the happy paths end to end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.backup import keys, storage
from hrms.db.postgres import transaction
from tests.conftest import bearer
from tests.integration.test_backup import checksums, new_tenant, schema_keys, scramble, seed, unfinished_uploads

ROUTES = [
    ("POST", "/admin/backups"),
    ("GET", "/admin/backups"),
    ("POST", "/admin/backups/validate"),
    ("POST", "/admin/restores"),
]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body) and body["status"] == status
    return body


@pytest.fixture
def admin_token(tenant: Any) -> str:
    """The tenant's admin with a permanent password (so only the role can stand in the way)."""
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
        admin = conn.execute(sql.SQL("SELECT id FROM {} WHERE role = 'admin'").format(users)).fetchone()
    return tokens.issue(str(admin["id"]), "admin", tid=str(tenant.tenant_id))


@pytest.fixture
def platform(platform_token: str) -> dict[str, str]:
    return bearer(platform_token)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_tenant_admin_gets_403_on_every_backup_route(client, tenant, admin_token, method, path):
    body = {"kind": "schema", "tenantId": str(tenant.tenant_id)} if path == "/admin/backups" else {"key": "x"}
    response = client.request(method, path, headers=bearer(admin_token), json=body if method == "POST" else None)
    assert_problem(response, 403)
    assert schema_keys(tenant.schema_name) == []


def test_back_up_list_validate_and_restore_a_tenant(client, platform, tenant):
    seed(tenant.schema_name, employees=8)
    before = checksums(tenant.schema_name)

    created = client.post(
        "/admin/backups", json={"kind": "schema", "tenantId": str(tenant.tenant_id)}, headers=platform
    )
    assert created.status_code == 201, created.text
    backup = created.json()
    assert backup["key"].startswith(f"backups/schemas/{tenant.schema_name}/backup_schema_")
    assert backup["sizeBytes"] > 0 and len(backup["sha256"]) == 64 and backup["schema"] == tenant.schema_name
    assert backup["mongo"]["key"] == keys.mongo_key(backup["key"]) and len(backup["mongo"]["sha256"]) == 64
    assert set(backup["mongo"]["counts"]) >= {"TenantSettings", "FeatureFlag", "Appraisal", "DocumentMetadata"}

    listed = client.get(
        "/admin/backups", params={"kind": "schema", "tenantId": str(tenant.tenant_id)}, headers=platform
    )
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["key"] for item in items] == [backup["key"]]
    assert {"key", "kind", "schema", "sizeBytes", "sha256", "createdAt"} <= set(items[0])
    assert items[0]["sha256"] == backup["sha256"] and items[0]["mongo"] == backup["mongo"]

    validated = client.post("/admin/backups/validate", json={"key": backup["key"]}, headers=platform)
    assert validated.status_code == 200, validated.text
    assert validated.json()["valid"] is True
    assert validated.json()["checks"] | {"trialRestore": None} == {
        "metadata": True,
        "size": True,
        "sha256": True,
        "gzip": True,
        "trailer": True,
        "mongoSize": True,
        "mongoSha256": True,
        "mongoGzip": True,
        "mongoEndMarker": True,
        "mongoCounts": True,
        "trialRestore": None,
    }

    scramble(tenant.schema_name)
    restored = client.post(
        "/admin/restores", json={"key": backup["key"], "tenantId": str(tenant.tenant_id)}, headers=platform
    )
    assert restored.status_code == 200, restored.text
    result = restored.json()
    assert result["restoredSchemas"] == [tenant.schema_name] and result["target"] == "live"
    assert result["rowCounts"][f"{tenant.schema_name}.employees"] == 8
    assert result["safetyBackupKey"] in schema_keys(tenant.schema_name)
    assert result["mongoCounts"] == backup["mongo"]["counts"]
    assert checksums(tenant.schema_name) == before


def test_while_a_restore_holds_a_tenant_its_writes_answer_503_with_retry_after_and_reads_go_on(
    client, tenant, admin_token
):
    with transaction() as conn:  # the freeze a running restore holds (hrms.backup.restore)
        conn.execute(
            "INSERT INTO public.tenant_write_freezes (tenant_id, operation_id, reason, retry_after_s)"
            " VALUES (%s, %s, 'restore', 17)",
            (tenant.tenant_id, uuid.uuid4().hex),
        )
    try:
        write = client.post("/departments", json={"name": "Frozen", "code": "FRZ"}, headers=bearer(admin_token))
        read = client.get("/departments", headers=bearer(admin_token))
    finally:
        with transaction() as conn:
            conn.execute("DELETE FROM public.tenant_write_freezes WHERE tenant_id = %s", (tenant.tenant_id,))
    assert_problem(write, 503)
    assert write.headers["retry-after"] == "17"
    assert read.status_code == 200, read.text
    again = client.post("/departments", json={"name": "Thawed", "code": "THW"}, headers=bearer(admin_token))
    assert again.status_code == 201, again.text


def test_full_backup_through_the_api(client, platform):
    response = client.post("/admin/backups", json={"kind": "full"}, headers=platform)
    assert response.status_code == 201, response.text
    parsed = keys.parse(response.json()["key"])
    assert parsed is not None and parsed.kind == "full"
    full = client.get("/admin/backups", params={"kind": "full", "limit": 1}, headers=platform).json()["items"]
    assert full[0]["key"] == parsed.key and full[0]["schema"] is None


def test_restoring_a_backup_over_another_tenant_is_422(client, platform, tenant, platform_actor):
    other = new_tenant(platform_actor)
    key = client.post(
        "/admin/backups", json={"kind": "schema", "tenantId": str(tenant.tenant_id)}, headers=platform
    ).json()["key"]
    before = checksums(other.schema_name)

    body = assert_problem(
        client.post("/admin/restores", json={"key": key, "tenantId": str(other.tenant_id)}, headers=platform), 422
    )
    assert "not of this tenant's schema" in body["detail"]
    assert checksums(other.schema_name) == before


def test_bad_requests(client, platform, tenant):
    assert_problem(client.post("/admin/backups", json={"kind": "schema"}, headers=platform), 422)
    assert_problem(
        client.post("/admin/backups", json={"kind": "full", "tenantId": str(tenant.tenant_id)}, headers=platform), 422
    )
    assert_problem(
        client.post("/admin/backups", json={"kind": "schema", "tenantId": str(uuid.uuid4())}, headers=platform), 404
    )
    assert_problem(client.post("/admin/backups/validate", json={"key": "../../secrets"}, headers=platform), 422)
    missing = keys.schema_key(tenant.schema_name, datetime(2020, 1, 1, tzinfo=UTC))
    assert_problem(client.post("/admin/backups/validate", json={"key": missing}, headers=platform), 404)
    assert_problem(client.post("/admin/restores", json={"key": missing, "target": "nowhere"}, headers=platform), 422)
    assert_problem(client.get("/admin/backups", params={"kind": "weekly"}, headers=platform), 422)


def test_a_cell_is_named_for_full_backups_only_and_an_unknown_one_is_422(client, platform, tenant):
    """Full backups per cell (`cell`, optional): refused cleanly before anything is dumped."""
    for body in (
        {"kind": "full", "cell": "nowhere"},  # well-formed, not configured here
        {"kind": "full", "cell": "Not a cell"},
        {"kind": "full", "cell": "x" * 41},
        {"kind": "schema", "tenantId": str(tenant.tenant_id), "cell": "default"},
    ):
        assert_problem(client.post("/admin/backups", json=body, headers=platform), 422)
    assert schema_keys(tenant.schema_name) == [] and unfinished_uploads() == []
    for params in (
        {"cell": "B"},
        {"cell": "default", "kind": "schema"},
        {"cell": "b", "tenantId": str(tenant.tenant_id)},
    ):
        assert_problem(client.get("/admin/backups", params=params, headers=platform), 422)
    listed = client.get("/admin/backups", params={"cell": "nowhere"}, headers=platform)  # no backups of it
    assert listed.status_code == 200 and listed.json() == {"items": [], "nextCursor": None}
    gone = keys.full_key(datetime(2025, 1, 15, tzinfo=UTC), "nowhere")
    problem = assert_problem(client.post("/admin/restores", json={"key": gone}, headers=platform), 422)
    assert "No cell 'nowhere' is configured" in problem["detail"]


def test_s3_down_is_503_and_leaves_no_partial_object(client, platform, tenant, stack, reset_clients):
    stack.stop_service("aws")
    try:
        body = {"kind": "schema", "tenantId": str(tenant.tenant_id)}
        problem = assert_problem(client.post("/admin/backups", json=body, headers=platform), 503)
        assert "S3" in problem["detail"]
        assert_problem(client.get("/admin/backups", headers=platform), 503)
    finally:
        stack.start_service("aws")
    from hrms import aws

    aws.client.cache_clear()
    assert schema_keys(tenant.schema_name) == []
    assert unfinished_uploads() == []
    assert not list(storage.list_objects(keys.INCOMING_PREFIX))
