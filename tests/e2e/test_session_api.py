"""Login, password change, /me, users, roles and the audit trail through the local gateway."""

from __future__ import annotations

import pytest

from tests.conftest import bearer

STRONG = "correct-horse-battery-42"


def _login(client, tenant, password, email=None):
    return client.post(
        "/auth/login",
        json={"tenantSlug": tenant.slug, "email": email or tenant.admin_email, "password": password},
    )


@pytest.fixture
def admin_session(client, tenant, gateway):
    """The tenant admin after changing the temporary password: a token that may call everything."""
    first = _login(client, tenant, tenant.admin_temporary_password)
    assert first.status_code == 200, first.text
    token = first.json()["accessToken"]
    changed = client.post(
        "/auth/password",
        json={"currentPassword": tenant.admin_temporary_password, "newPassword": STRONG},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    return changed.json()["accessToken"]  # the fresh token the change answers with


def test_temporary_password_logs_in_but_must_be_changed_first(client, tenant):
    response = _login(client, tenant, tenant.admin_temporary_password)
    assert response.status_code == 200
    body = response.json()
    assert body["mustChangePassword"] is True
    assert body["user"]["role"] == "admin"
    token = body["accessToken"]
    assert client.get("/users", headers=bearer(token)).status_code == 403
    me = client.get("/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["mustChangePassword"] is True


def test_every_login_mismatch_gets_the_same_401(client, tenant):
    wrong_password = _login(client, tenant, "nope-nope-nope")
    unknown_user = _login(client, tenant, "nope-nope-nope", email="ghost@example.com")
    unknown_tenant = client.post(
        "/auth/login", json={"tenantSlug": "no-such-tenant", "email": tenant.admin_email, "password": "x"}
    )
    assert {r.status_code for r in (wrong_password, unknown_user, unknown_tenant)} == {401}
    assert wrong_password.json() == unknown_user.json() == unknown_tenant.json()
    assert wrong_password.headers["content-type"] == "application/problem+json"


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, tenant):
    for _ in range(5):
        assert _login(client, tenant, "wrong-password-1").status_code == 401
    assert _login(client, tenant, tenant.admin_temporary_password).status_code == 401


def test_password_change_rejects_a_wrong_current_password_and_a_short_new_one(client, tenant):
    token = _login(client, tenant, tenant.admin_temporary_password).json()["accessToken"]
    wrong = client.post(
        "/auth/password", json={"currentPassword": "wrong", "newPassword": STRONG}, headers=bearer(token)
    )
    assert wrong.status_code == 422
    short = client.post(
        "/auth/password",
        json={"currentPassword": tenant.admin_temporary_password, "newPassword": "short"},
        headers=bearer(token),
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "body.newPassword"


def test_me_lists_the_admin_permissions(client, admin_session, tenant):
    me = client.get("/me", headers=bearer(admin_session)).json()
    assert me["email"] == tenant.admin_email
    assert me["tenant"]["slug"] == tenant.slug
    assert me["permissions"] == ["*"]


def test_admin_manages_users_and_a_new_user_gets_a_temporary_password(client, admin_session, tenant):
    created = client.post(
        "/users", json={"email": "Hr@Example.com", "role": "hr_manager"}, headers=bearer(admin_session)
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "hr@example.com"
    assert user["temporaryPassword"]
    assert "passwordHash" not in user
    again = client.post("/users", json={"email": "hr@example.com", "role": "employee"}, headers=bearer(admin_session))
    assert again.status_code == 409
    listed = client.get("/users?role=hr_manager", headers=bearer(admin_session)).json()
    assert [u["email"] for u in listed["items"]] == ["hr@example.com"]
    patched = client.patch(f"/users/{user['userId']}", json={"status": "disabled"}, headers=bearer(admin_session))
    assert patched.status_code == 200
    assert patched.json()["status"] == "disabled"
    login = _login(client, tenant, user["temporaryPassword"], email="hr@example.com")
    assert login.status_code == 401


def test_the_last_admin_cannot_be_demoted(client, admin_session):
    me = client.get("/me", headers=bearer(admin_session)).json()
    response = client.patch(f"/users/{me['userId']}", json={"role": "employee"}, headers=bearer(admin_session))
    assert response.status_code == 409


def test_role_permissions_are_editable_and_take_effect_at_once(client, admin_session, tenant):
    roles = client.get("/roles", headers=bearer(admin_session)).json()
    assert {r["role"] for r in roles} == {"admin", "hr_manager", "manager", "employee"}
    hr = client.post(
        "/users",
        json={"email": "hr2@example.com", "role": "hr_manager", "password": STRONG},
        headers=bearer(admin_session),
    ).json()
    temporary = _login(client, tenant, STRONG, email=hr["email"]).json()["accessToken"]
    client.post(
        "/auth/password", json={"currentPassword": STRONG, "newPassword": STRONG + "!"}, headers=bearer(temporary)
    )
    hr_token = _login(client, tenant, STRONG + "!", email=hr["email"]).json()["accessToken"]
    assert client.get("/audit-logs", headers=bearer(hr_token)).status_code == 200

    updated = client.put("/roles/hr_manager", json={"permissions": ["org:read"]}, headers=bearer(admin_session))

    assert updated.status_code == 200
    assert updated.json()["permissions"] == ["org:read"]
    assert client.get("/audit-logs", headers=bearer(hr_token)).status_code == 403
    assert client.get("/me", headers=bearer(hr_token)).json()["permissions"] == ["org:read"]


def test_role_edits_are_validated(client, admin_session):
    assert client.put("/roles/admin", json={"permissions": []}, headers=bearer(admin_session)).status_code == 409
    assert client.put("/roles/nope", json={"permissions": []}, headers=bearer(admin_session)).status_code == 404
    bad = client.put("/roles/manager", json={"permissions": ["DROP TABLE"]}, headers=bearer(admin_session))
    assert bad.status_code == 422


def test_audit_trail_records_user_changes_without_secrets(client, admin_session):
    created = client.post(
        "/users", json={"email": "audited@example.com", "role": "employee"}, headers=bearer(admin_session)
    ).json()
    logs = client.get(f"/audit-logs?entityType=user&entityId={created['userId']}", headers=bearer(admin_session)).json()
    assert [entry["action"] for entry in logs["items"]] == ["user.created"]
    entry = logs["items"][0]
    assert entry["after"]["email"] == "audited@example.com"
    assert "password_hash" not in entry["after"]
    assert entry["requestId"]
    assert created["temporaryPassword"] not in str(logs)


def test_audit_log_pagination_walks_every_entry_once(client, admin_session):
    for n in range(5):
        client.post("/users", json={"email": f"p{n}@example.com", "role": "employee"}, headers=bearer(admin_session))
    seen, cursor = [], None
    while True:
        query = "/audit-logs?entityType=user&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(query, headers=bearer(admin_session)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 5
    assert seen == sorted(seen, reverse=True)


def test_idempotency_key_replays_the_first_response(client, admin_session):
    headers = {**bearer(admin_session), "Idempotency-Key": "create-user-1"}
    first = client.post("/users", json={"email": "once@example.com", "role": "employee"}, headers=headers)
    replay = client.post("/users", json={"email": "once@example.com", "role": "employee"}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == {**first.json(), "temporaryPassword": None, "temporaryPasswordReplayed": True}
    assert replay.headers["idempotent-replayed"] == "true"
    other = client.post("/users", json={"email": "other@example.com", "role": "employee"}, headers=headers)
    assert other.status_code == 422
