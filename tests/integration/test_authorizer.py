"""The API Gateway TOKEN authorizer against real tenants and users."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from uuid import uuid4

import jwt
import pytest
from psycopg import sql

from hrms.auth import credentials, tokens
from hrms.auth.authorizer import authorize
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from hrms.errors import Unauthorized
from hrms.tenants import service
from hrms.tenants.models import TenantPatch

METHOD_ARN = "arn:aws:execute-api:us-east-1:123:api/v1/GET/tenants"
STAGE_RESOURCE = "arn:aws:execute-api:us-east-1:123:api/v1/*/*"


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _effect(policy: dict[str, Any]) -> str:
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == STAGE_RESOURCE
    return str(statement["Effect"])


def _admin(tenant: Any) -> Any:
    return find_user_by_email(tenant.slug, tenant.admin_email)


def _set_user(tenant: Any, user_id: Any, **changes: Any) -> None:
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes)
    with transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET {} WHERE id = %(id)s").format(
                sql.Identifier(tenant.schema_name, "users"), assignments
            ),
            {**changes, "id": user_id},
        )


def _last_activity(tenant: Any) -> Any:
    with transaction() as conn:
        row = conn.execute("SELECT last_activity_at FROM public.tenants WHERE id = %s", (tenant.tenant_id,)).fetchone()
    return row["last_activity_at"]  # type: ignore[index]


def test_tenant_admin_is_allowed_with_tenant_context(tenant, tenant_admin_token):
    user = _admin(tenant)
    policy = authorize(_bearer(tenant_admin_token), METHOD_ARN)
    assert _effect(policy) == "Allow"
    assert policy["principalId"] == str(user.user_id)
    context = policy["context"]
    expected = {
        "userId": str(user.user_id),
        "role": "admin",
        "tenantId": str(tenant.tenant_id),
        "schemaName": tenant.schema_name,
    }
    assert {key: context.get(key) for key in expected} == expected
    # API Gateway accepts only flat string/number/boolean context values (and hands them on as strings)
    assert all(isinstance(value, str | int | float | bool) for value in context.values())
    actor = credentials.admit(policy["context"])
    assert actor.tenant is not None
    assert actor.tenant.tenant_id == tenant.tenant_id


def test_platform_admin_is_allowed_without_tenant(stack, platform_token):
    policy = authorize(_bearer(platform_token), METHOD_ARN)
    assert _effect(policy) == "Allow"
    assert policy["context"] == {"userId": "platform-admin", "role": "platform_admin", "credentialsEpoch": 0}
    assert "tenantId" not in policy["context"]
    assert credentials.admit(policy["context"]).is_platform_admin


def test_authorizing_records_tenant_activity(tenant, tenant_admin_token):
    assert _last_activity(tenant) is None
    authorize(_bearer(tenant_admin_token), METHOD_ARN)
    first = _last_activity(tenant)
    assert first is not None
    authorize(_bearer(tenant_admin_token), METHOD_ARN)
    assert _last_activity(tenant) == first  # throttled: at most one write a minute
    assert service.check_tenant(tenant.slug).tenant.last_activity_at == first


def test_expired_token_is_unauthorized(tenant):
    user = _admin(tenant)
    token = tokens.issue(str(user.user_id), user.role, tid=str(user.tenant_id), ttl_s=-1)
    with pytest.raises(Unauthorized):
        authorize(_bearer(token), METHOD_ARN)


def test_tampered_token_is_unauthorized(tenant, tenant_admin_token):
    head, payload, signature = tenant_admin_token.split(".")
    with pytest.raises(Unauthorized):
        authorize(_bearer(f"{head}.{payload}.{signature[::-1]}"), METHOD_ARN)


def test_token_signed_with_another_key_is_unauthorized(tenant):
    user = _admin(tenant)
    now = int(time.time())
    forged = jwt.encode(
        {"sub": str(user.user_id), "role": "admin", "tid": str(tenant.tenant_id), "iss": "hrms", "exp": now + 60},
        "guessed-key-" + "g" * 40,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        authorize(_bearer(forged), METHOD_ARN)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "token-without-scheme"])
def test_missing_or_malformed_header_is_unauthorized(stack, header):
    with pytest.raises(Unauthorized):
        authorize(header, METHOD_ARN)


def test_bearer_scheme_is_case_insensitive(stack, platform_token):
    assert _effect(authorize(f"bearer {platform_token}", METHOD_ARN)) == "Allow"


def test_suspended_tenant_gets_a_deny_policy_until_reactivated(tenant, tenant_admin_token, platform_actor):
    service.update_tenant(tenant.tenant_id, TenantPatch(status="suspended"), platform_actor)
    policy = authorize(_bearer(tenant_admin_token), METHOD_ARN)
    assert _effect(policy) == "Deny"
    assert policy["context"] == {}
    assert _last_activity(tenant) is None
    service.update_tenant(tenant.tenant_id, TenantPatch(status="active"), platform_actor)
    assert _effect(authorize(_bearer(tenant_admin_token), METHOD_ARN)) == "Allow"


def test_disabled_user_is_unauthorized(tenant, tenant_admin_token):
    _set_user(tenant, _admin(tenant).user_id, status="disabled")
    with pytest.raises(Unauthorized):
        authorize(_bearer(tenant_admin_token), METHOD_ARN)


@pytest.mark.parametrize(("days_ago", "allowed"), [(1, False), (0, False), (-30, True)])
def test_a_user_whose_employee_has_left_can_neither_use_a_token_nor_log_in(tenant, days_ago, allowed):
    """Access ends at the start of the leaving date: a termination with a notice period keeps it until then."""
    from hrms.auth.login import login
    from hrms.auth.models import LoginIn
    from hrms.auth.passwords import hash_password

    user = _admin(tenant)
    leaving = dt.date.today() - dt.timedelta(days=days_ago)
    with transaction() as conn:
        employee = conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, status, date_of_joining, date_of_leaving)"
                " VALUES ('X-1', %s, 'Gone', 'Soon', 'terminated', %s, %s) RETURNING id"
            ).format(sql.Identifier(tenant.schema_name, "employees")),
            (tenant.admin_email, leaving - dt.timedelta(days=400), leaving),
        ).fetchone()
    _set_user(tenant, user.user_id, employee_id=employee["id"], password_hash=hash_password("a-long-password"))
    token = tokens.issue(str(user.user_id), "admin", tid=str(tenant.tenant_id))
    credentials = LoginIn.model_validate(
        {"tenantSlug": tenant.slug, "email": tenant.admin_email, "password": "a-long-password"}
    )
    if allowed:
        assert _effect(authorize(_bearer(token), METHOD_ARN)) == "Allow"
        assert login(credentials).access_token
    else:
        with pytest.raises(Unauthorized):
            authorize(_bearer(token), METHOD_ARN)
        with pytest.raises(Unauthorized):
            login(credentials)


def test_role_in_token_must_match_the_user(tenant):
    user = _admin(tenant)
    token = tokens.issue(str(user.user_id), "employee", tid=str(tenant.tenant_id))
    with pytest.raises(Unauthorized):
        authorize(_bearer(token), METHOD_ARN)


def test_unknown_user_of_a_real_tenant_is_unauthorized(tenant):
    token = tokens.issue(str(uuid4()), "admin", tid=str(tenant.tenant_id))
    with pytest.raises(Unauthorized):
        authorize(_bearer(token), METHOD_ARN)


def test_user_of_one_tenant_cannot_claim_another(tenant, stack, platform_actor):
    from hrms.tenants.models import NewTenant

    other = service.create_tenant(
        NewTenant(name="Other", slug=f"other-{uuid4().hex[:8]}", admin_email="admin@other.io"), platform_actor
    )
    user = _admin(tenant)
    token = tokens.issue(str(user.user_id), "admin", tid=str(other.tenant_id))
    with pytest.raises(Unauthorized):
        authorize(_bearer(token), METHOD_ARN)


def test_unknown_tenant_is_unauthorized(stack):
    token = tokens.issue(str(uuid4()), "admin", tid=str(uuid4()))
    with pytest.raises(Unauthorized):
        authorize(_bearer(token), METHOD_ARN)
