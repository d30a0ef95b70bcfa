"""Tenant lifecycle at the service level against the embedded PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from typing import Any
from uuid import uuid4

import pytest
from psycopg import sql
from pydantic import ValidationError

from hrms.auth.passwords import verify_password
from hrms.db.postgres import transaction
from hrms.errors import Conflict, NotFound
from hrms.migrations.files import latest_version
from hrms.pagination import decode_cursor
from hrms.tenants import repo, service
from hrms.tenants.models import NewTenant, TenantPatch

DESIGN_TABLES = {
    "users",
    "departments",
    "designations",
    "employees",
    "employee_salaries",
    "salary_structures",
    "payroll_runs",
    "payroll",
    "leave_types",
    "leaves",
    "employee_leave_balance",
    "holidays",
    "approval_workflows",
    "approvals",
    "audit_logs",
    "organization_settings",
    "idempotency_keys",
}


def _slug(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def _new(slug: str, **extra: Any) -> NewTenant:
    return NewTenant.model_validate({"name": f"Tenant {slug}", "slug": slug, "adminEmail": f"admin@{slug}.io", **extra})


def _query(query: str | sql.Composed, params: Any = None) -> list[dict[str, Any]]:
    with transaction() as conn:
        return conn.execute(query, params).fetchall()


def _schemas_for(slug: str) -> list[str]:
    prefix = f"tenant_{slug.replace('-', '_')}_"
    rows = _query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,))
    return [row["nspname"] for row in rows]


def _audit(tenant_id: Any) -> list[dict[str, Any]]:
    return _query(
        "SELECT action, actor_id, detail FROM public.tenant_audit WHERE tenant_id = %s ORDER BY id", (tenant_id,)
    )


def _rows(schema: str, table: str, columns: str = "*") -> list[dict[str, Any]]:
    return _query(sql.SQL("SELECT {} FROM {}").format(sql.SQL(columns), sql.Identifier(schema, table)))


# Creating


def test_created_tenant_has_every_table_of_the_design(tenant):
    with transaction() as conn:
        tables = set(repo.table_names(conn, tenant.schema_name))
    assert tables >= DESIGN_TABLES
    registry = _query(
        "SELECT schema_name, schema_version, status FROM public.tenants WHERE id = %s", (tenant.tenant_id,)
    )
    assert registry == [
        {"schema_name": tenant.schema_name, "schema_version": latest_version("tenant"), "status": "active"}
    ]
    assert tenant.status == "active"


def test_created_tenant_is_seeded_with_defaults(stack, platform_actor):
    created = service.create_tenant(
        _new(_slug(), settings={"country": "US", "currency": "USD", "timezone": "America/New_York"}), platform_actor
    )
    schema = created.schema_name
    assert {r["code"] for r in _rows(schema, "leave_types", "code")} == {"annual", "sick", "casual", "unpaid"}
    assert {r["role"] for r in _rows(schema, "role_permissions", "role")} == {
        "admin",
        "hr_manager",
        "manager",
        "employee",
    }
    assert {r["entity_type"] for r in _rows(schema, "approval_workflows", "entity_type")} == {"leave", "payroll"}
    org = {r["key"]: r["value"] for r in _rows(schema, "organization_settings", "key, value")}
    assert org["country"] == "US"
    assert org["currency"] == "USD"
    assert org["timezone"] == "America/New_York"
    assert "weekendDays" in org
    registry = _query("SELECT settings FROM public.tenants WHERE id = %s", (created.tenant_id,))
    assert registry[0]["settings"] == {"country": "US", "currency": "USD", "timezone": "America/New_York"}


def test_admin_user_has_argon2_hash_of_the_temporary_password_and_must_change_it(tenant):
    users = _rows(tenant.schema_name, "users", "email, password_hash, role, status, must_change_password")
    assert len(users) == 1
    admin = users[0]
    assert admin["email"] == tenant.admin_email
    assert admin["role"] == "admin"
    assert admin["status"] == "active"
    assert admin["must_change_password"] is True
    assert admin["password_hash"].startswith("$argon2id$")
    assert tenant.admin_temporary_password not in admin["password_hash"]
    assert verify_password(admin["password_hash"], tenant.admin_temporary_password)
    assert not verify_password(admin["password_hash"], "wrong password")


def test_creation_is_audited(tenant):
    [entry] = _audit(tenant.tenant_id)
    assert entry["action"] == "tenant.created"
    assert entry["actor_id"] == "platform-admin"
    assert entry["detail"]["schemaName"] == tenant.schema_name


def test_duplicate_slug_is_conflict_and_creates_no_second_schema(tenant, platform_actor):
    with pytest.raises(Conflict):
        service.create_tenant(_new(tenant.slug), platform_actor)
    assert _schemas_for(tenant.slug) == [tenant.schema_name]
    assert _query("SELECT count(*) AS n FROM public.tenants WHERE slug = %s", (tenant.slug,)) == [{"n": 1}]


def test_concurrent_creates_of_one_slug_give_one_tenant_and_one_conflict(stack, platform_actor):
    slug = _slug("race")
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(service.create_tenant(_new(slug), platform_actor))
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "CreatedTenant"]
    assert len(_schemas_for(slug)) == 1


@pytest.mark.parametrize(
    "slug",
    ["ab", "-acme", "acme-", "ac--me", "Acme", "acme_co", "acme co", "acme;drop", "a" * 41, "acmé", ""],
)
def test_invalid_slug_is_rejected_by_the_model(slug):
    with pytest.raises(ValidationError):
        _new(slug)


@pytest.mark.parametrize(
    "extra",
    [
        {"adminEmail": "not-an-email"},
        {"settings": {"timezone": "Mars/Olympus"}},
        {"settings": {"currency": "rupees"}},
        {"unknownField": 1},
    ],
)
def test_invalid_new_tenant_fields_are_rejected_by_the_model(extra):
    with pytest.raises(ValidationError):
        NewTenant.model_validate({"name": "Acme", "slug": "acme", "adminEmail": "a@acme.io", **extra})


@pytest.mark.parametrize("step", ["insert_admin_user", "seed_defaults"])
def test_failed_create_leaves_no_row_and_no_schema(stack, platform_actor, monkeypatch, step):
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{step} failed")

    monkeypatch.setattr(repo, step, boom)
    slug = _slug("fail")
    with pytest.raises(RuntimeError, match="failed"):
        service.create_tenant(_new(slug), platform_actor)
    assert _query("SELECT id FROM public.tenants WHERE slug = %s", (slug,)) == []
    assert _schemas_for(slug) == []
    monkeypatch.undo()
    created = service.create_tenant(_new(slug), platform_actor)  # the slug is free again
    assert _schemas_for(slug) == [created.schema_name]


# Listing


def _add_employees(schema: str, statuses: list[str]) -> None:
    with transaction() as conn:
        for i, status in enumerate(statuses):
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (employee_code, email, first_name, last_name, date_of_joining, status)"
                    " VALUES (%s, %s, 'Test', 'Person', '2024-01-01', %s)"
                ).format(sql.Identifier(schema, "employees")),
                (f"E{i:03}", f"e{i}@example.com", status),
            )


def test_list_pages_through_every_tenant_once_in_slug_order(stack, platform_actor):
    prefix = f"pg{secrets.token_hex(3)}"
    created = [service.create_tenant(_new(f"{prefix}-{i}"), platform_actor) for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = service.list_tenants(None, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [item.slug for item in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert decode_cursor(cursor) == [page.items[-1].slug]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert [slug for slug in seen if slug.startswith(prefix)] == [t.slug for t in created]
    assert pages >= 3


def test_last_full_page_has_no_next_cursor(tenant):
    everything = [item.slug for item in _all_tenants()]
    exact = service.list_tenants(None, limit=len(everything))
    assert [item.slug for item in exact.items] == everything
    assert exact.next_cursor is None
    short = service.list_tenants(None, limit=len(everything) - 1)
    assert short.next_cursor is not None
    rest = service.list_tenants(None, limit=len(everything), cursor=short.next_cursor)
    assert [item.slug for item in short.items + rest.items] == everything
    assert rest.next_cursor is None


def test_list_counts_employees_who_are_not_terminated(tenant):
    _add_employees(tenant.schema_name, ["active", "active", "on_leave", "terminated", "terminated"])
    found = [item for item in _all_tenants() if item.tenant_id == tenant.tenant_id]
    assert [item.employee_count for item in found] == [3]
    assert service.get_tenant(tenant.tenant_id).employee_count == 3
    assert service.check_tenant(tenant.slug).tenant.employee_count == 3


def _all_tenants(status: str | None = None) -> list[Any]:
    items, cursor = [], None
    while True:
        page = service.list_tenants(status, limit=200, cursor=cursor)
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items


def test_list_filters_by_status(tenant, platform_actor):
    service.update_tenant(tenant.tenant_id, TenantPatch(status="suspended"), platform_actor)
    assert tenant.tenant_id in {t.tenant_id for t in _all_tenants("suspended")}
    assert tenant.tenant_id not in {t.tenant_id for t in _all_tenants("active")}
    assert all(t.status == "suspended" for t in _all_tenants("suspended"))


def test_a_tenant_still_being_provisioned_is_not_listed(stack):
    slug = f"p-{secrets.token_hex(5)}"
    with transaction() as conn:
        tenant_id = repo.insert_tenant(
            conn,
            name="Half-made",
            slug=slug,
            schema_name=f"tenant_{slug.replace('-', '_')}_0a1b2c3d",
            admin_email=f"admin@{slug}.example.com",
            description=None,
            settings={},
            status="provisioning",
        )
    assert tenant_id is not None
    try:
        assert slug not in {t.slug for t in _all_tenants(None)}
        assert slug not in {t.slug for t in _all_tenants("active")}
    finally:
        with transaction() as conn:
            repo.abandon_provisioning(conn, tenant_id)


# Checking


def test_check_tenant_by_slug_and_by_id(tenant):
    by_slug = service.check_tenant(tenant.slug)
    by_id = service.check_tenant(str(tenant.tenant_id))
    for result in (by_slug, by_id):
        assert result.healthy
        assert result.schema_exists
        assert result.tenant.tenant_id == tenant.tenant_id
        assert result.tenant.schema_name == tenant.schema_name
        assert result.tenant.schema_version == result.latest_version == latest_version("tenant")
        assert set(result.tables) >= DESIGN_TABLES


@pytest.mark.parametrize("missing", ["no-such-tenant", "00000000-0000-4000-8000-000000000000"])
def test_check_unknown_tenant_is_not_found(stack, missing):
    with pytest.raises(NotFound):
        service.check_tenant(missing)


def test_check_reports_a_missing_schema_as_unhealthy(tenant):
    moved = f"moved_{secrets.token_hex(4)}"
    rename = "ALTER SCHEMA {} RENAME TO {}"
    _query_no_rows(sql.SQL(rename).format(sql.Identifier(tenant.schema_name), sql.Identifier(moved)))
    try:
        result = service.check_tenant(tenant.slug)
        assert not result.schema_exists
        assert not result.healthy
        assert result.tables == []
    finally:
        _query_no_rows(sql.SQL(rename).format(sql.Identifier(moved), sql.Identifier(tenant.schema_name)))


def _query_no_rows(query: sql.Composed) -> None:
    with transaction() as conn:
        conn.execute(query)


# Updating


def test_suspend_then_activate_is_audited(tenant, platform_actor):
    suspended = service.update_tenant(tenant.tenant_id, TenantPatch(status="suspended"), platform_actor)
    assert suspended.status == "suspended"
    assert service.get_tenant(tenant.tenant_id).status == "suspended"
    activated = service.update_tenant(tenant.tenant_id, TenantPatch(status="active"), platform_actor)
    assert activated.status == "active"
    audit = _audit(tenant.tenant_id)
    assert [entry["action"] for entry in audit] == ["tenant.created", "tenant.suspended", "tenant.activated"]
    assert audit[1]["detail"] == {"before": {"status": "active"}, "after": {"status": "suspended"}}
    assert audit[2]["detail"] == {"before": {"status": "suspended"}, "after": {"status": "active"}}
    assert {entry["actor_id"] for entry in audit} == {"platform-admin"}


def test_rename_is_audited_as_update_and_empty_patch_changes_nothing(tenant, platform_actor):
    renamed = service.update_tenant(tenant.tenant_id, TenantPatch(name="Renamed Co"), platform_actor)
    assert renamed.name == "Renamed Co"
    unchanged = service.update_tenant(tenant.tenant_id, TenantPatch(), platform_actor)
    assert unchanged.name == "Renamed Co"
    assert [entry["action"] for entry in _audit(tenant.tenant_id)] == ["tenant.created", "tenant.updated"]


def test_update_of_unknown_tenant_is_not_found(stack, platform_actor):
    with pytest.raises(NotFound):
        service.update_tenant(uuid4(), TenantPatch(status="suspended"), platform_actor)
    with pytest.raises(NotFound):
        service.get_tenant(uuid4())


# Features


def test_features_start_empty_and_set_replaces_them(tenant, platform_actor):
    assert service.get_features(tenant.tenant_id).features == {}
    first = {"payroll": True, "appraisals": False}
    assert service.set_features(tenant.tenant_id, first, platform_actor).features == first
    assert service.get_features(tenant.tenant_id).features == first
    service.set_features(tenant.tenant_id, {"documents": True}, platform_actor)
    assert service.get_features(tenant.tenant_id).features == {"documents": True}
    service.set_features(tenant.tenant_id, {}, platform_actor)
    assert service.get_features(tenant.tenant_id).features == {}
    audit = [entry for entry in _audit(tenant.tenant_id) if entry["action"] == "tenant.features_set"]
    assert audit[1]["detail"] == {"before": first, "after": {"documents": True}}


def test_features_of_unknown_tenant_are_not_found(stack, platform_actor):
    with pytest.raises(NotFound):
        service.get_features(uuid4())
    with pytest.raises(NotFound):
        service.set_features(uuid4(), {"payroll": True}, platform_actor)
