"""The MongoDB/S3 routes through the local gateway: settings, flags, documents, appraisals, Mongo outage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.db.postgres import transaction
from hrms.db.tenant_collection import reset_breaker
from tests.conftest import _reset_clients, bearer
from tests.integration.mongo_world import as_tenant, employee_user

PROBLEM = "application/problem+json"


class Session:
    def __init__(self, client: httpx.Client, tenant: Any, admin: str) -> None:
        self.client, self.tenant, self.admin = client, as_tenant(tenant), admin

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=bearer(token or self.admin), **kwargs)

    def user(self, role: str, manager_id: Any = None) -> tuple[str, Any]:
        who, emp = employee_user(self.tenant, role, manager_id)
        return tokens.issue(who.user_id, role, tid=str(self.tenant.tenant_id)), emp


@pytest.fixture
def api(client: httpx.Client, tenant: Any, tenant_admin_token: str, gateway: Any) -> Iterator[Session]:
    with transaction() as conn:
        users = sql.Identifier(tenant.schema_name, "users")
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(users))
    gateway.auth_cache.clear()
    yield Session(client, tenant, tenant_admin_token)


def test_settings_versions_conflicts_history_and_rollback(api):
    assert api.call("GET", "/settings").json()["version"] == 0
    first = api.call("PUT", "/settings", json={"settings": {"currency": "INR"}, "expectedVersion": 0})
    assert (first.status_code, first.json()["version"]) == (200, 1)
    stale = api.call("PUT", "/settings", json={"settings": {"currency": "USD"}, "expected_version": 0})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == PROBLEM
    assert stale.json()["currentVersion"] == 1
    api.call("PUT", "/settings", json={"settings": {"currency": "USD"}, "expectedVersion": 1})
    bad = api.call("PUT", "/settings", json={"settings": {"timezone": "Nowhere/Land"}, "expectedVersion": 2})
    assert bad.status_code == 422
    rolled = api.call("POST", "/settings/rollback", json={"version": 1})
    assert rolled.json() == {**rolled.json(), "version": 3, "settings": {"currency": "INR"}}
    history = api.call("GET", "/settings/history").json()["items"]
    assert [(h["version"], h["action"]) for h in history] == [(3, "rollback"), (2, "update"), (1, "update")]
    assert history[1]["diff"] == [{"path": "currency", "from": "INR", "to": "USD"}]
    hr, _ = api.user("hr_manager")
    assert api.call("GET", "/settings", hr).status_code == 200
    assert api.call("PUT", "/settings", hr, json={"settings": {}, "expectedVersion": 3}).status_code == 403


def test_flags_set_and_evaluate_stably_per_user(api):
    put = api.call("PUT", "/feature-flags/new-ui", json={"enabled": True, "rolloutPercent": 50})
    assert put.status_code == 200
    assert api.call("PUT", "/feature-flags/new-ui", json={"rolloutPercent": 50}).status_code == 422
    employee, _ = api.user("employee")
    answers = {api.call("GET", "/feature-flags/new-ui/evaluate", employee).json()["enabled"] for _ in range(3)}
    assert len(answers) == 1
    assert api.call("GET", "/feature-flags", employee).json()["items"][0]["name"] == "new-ui"
    assert api.call("PUT", "/feature-flags/new-ui", employee, json={"enabled": False}).status_code == 403
    assert api.call("GET", "/feature-flags/missing/evaluate", employee).status_code == 404
    assert api.call("GET", "/feature-flags/Bad Name!").status_code == 404


def test_documents_upload_download_scope_and_soft_delete(api):
    alice, alice_emp = api.user("employee")
    bob, _ = api.user("employee")
    content = b"scan of a passport"
    body = {"category": "id_proof", "fileName": "passport.pdf", "contentType": "application/pdf"}
    made = api.call("POST", "/documents", alice, json={**body, "sizeBytes": len(content), "expiresOn": "2031-01-31"})
    assert made.status_code == 201, made.text
    upload = made.json()
    assert upload["s3Key"].startswith(f"tenants/{api.tenant.tenant_id}/documents/")
    assert httpx.put(upload["uploadUrl"], content=content, headers=upload["uploadHeaders"]).status_code == 200

    got = api.call("GET", f"/documents/{upload['documentId']}", alice).json()
    assert got["employeeId"] == str(alice_emp)
    assert httpx.get(got["downloadUrl"]).content == content
    assert api.call("GET", f"/documents/{upload['documentId']}", bob).status_code == 404
    assert api.call("GET", "/documents", bob).json()["items"] == []
    expiring = api.call("GET", "/documents", params={"expiresBefore": "2031-12-31"}).json()["items"]
    assert [d["documentId"] for d in expiring] == [upload["documentId"]]
    assert api.call("DELETE", f"/documents/{upload['documentId']}", bob).status_code == 404
    assert api.call("DELETE", f"/documents/{upload['documentId']}", alice).status_code == 204
    assert api.call("GET", f"/documents/{upload['documentId']}").status_code == 404
    too_big = api.call("POST", "/documents", alice, json={**body, "sizeBytes": 10**9})
    assert too_big.status_code == 422


def test_appraisal_form_appraisal_validation_and_workflow(api):
    boss, boss_emp = api.user("manager")
    _, report_emp = api.user("employee", boss_emp)
    fields = [
        {"key": "summary", "label": "Summary", "type": "text", "required": True},
        {"key": "overall", "label": "Overall", "type": "rating", "required": True},
        {"key": "track", "label": "Track", "type": "select", "options": ["ic", "manager"]},
    ]
    form = api.call("POST", "/appraisal-forms", json={"name": "Annual", "cycle": "2025", "fields": fields})
    assert form.status_code == 201, form.text
    form_id = form.json()["formId"]
    bad = api.call(
        "POST",
        "/appraisals",
        boss,
        json={"formId": form_id, "employeeId": str(report_emp), "responses": {"overall": 7, "track": "x", "zzz": 1}},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"responses.overall", "responses.track", "responses.zzz"}
    ok = api.call(
        "POST",
        "/appraisals",
        boss,
        json={"formId": form_id, "employeeId": str(report_emp), "responses": {"overall": 4}},
    )
    assert ok.status_code == 201
    appraisal_id = ok.json()["appraisalId"]
    missing = api.call("POST", f"/appraisals/{appraisal_id}/submit", boss)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "responses.summary"
    v2 = api.call("PUT", f"/appraisal-forms/{form_id}", json={"name": "Annual", "cycle": "2025", "fields": fields[1:]})
    assert v2.json()["version"] == 2
    assert api.call("GET", f"/appraisals/{appraisal_id}", boss).json()["formVersion"] == 1


def test_mongo_down_mongo_routes_503_fast_postgres_routes_fine_health_degraded(api, stack, reset_clients):
    _reset_clients()
    stack.stop_service("mongo")
    try:
        for method, path, body in [
            ("GET", "/settings", None),
            ("PUT", "/settings", {"settings": {}, "expectedVersion": 0}),
            ("GET", "/feature-flags", None),
            ("GET", "/documents", None),
            ("GET", "/appraisal-forms", None),
        ]:
            started = time.perf_counter()
            response = api.call(method, path, json=body)
            assert time.perf_counter() - started < 5.0, path  # fails fast, not pymongo's 30 s default
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == PROBLEM
        assert api.call("GET", "/employees").status_code == 200
        health = api.call("GET", "/health").json()
        assert health["status"] == "degraded" and health["checks"]["mongo"]["ok"] is False
    finally:
        stack.start_service("mongo")
        _reset_clients()
        reset_breaker()
    assert api.call("GET", "/settings").status_code == 200
