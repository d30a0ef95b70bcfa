"""Tenant cells on three real PostgreSQL servers: the stack's own (control database, cell `default`) and
two more (`b`, `c`): placement, routing, a cell down, and tenant creation across two databases with a crash
between its steps."""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import UUID

import pytest
from psycopg import sql

from hrms.auth import credentials, login
from hrms.auth.models import LoginIn
from hrms.db import cells
from hrms.db.postgres import tenant_tx
from hrms.errors import DependencyDown, Forbidden, Unauthorized
from hrms.health.checks import check_health
from hrms.tenancy import Tenant
from hrms.tenants import service
from hrms.tenants.models import NewTenant, TenantPatch
from tests.cells_fixtures import admin_context, control, create_on


class Crash(BaseException):
    """The process dying at a step: nothing of the creation's own clean-up runs."""


def _registry(tenant_id: UUID) -> dict[str, Any] | None:
    with control() as conn:
        return conn.execute("SELECT status, cell FROM public.tenants WHERE id = %s", (tenant_id,)).fetchone()


def _schemas(url: str, schema: str) -> bool:
    with control(url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def test_existing_tenants_are_on_the_default_cell(tenant: Any) -> None:
    assert _registry(tenant.tenant_id) == {"status": "active", "cell": "default"}


def test_a_new_tenant_goes_to_the_cell_with_most_headroom(on_cells: Any, platform_actor: Any) -> None:
    slug = f"room-{secrets.token_hex(4)}"
    with control() as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('tests.cells'))")
        try:
            # GIVEN b sized for a million tenants and c and default for one each: b is the emptiest by far
            conn.execute("INSERT INTO public.cells (name) VALUES ('b'), ('c') ON CONFLICT DO NOTHING")
            conn.execute("UPDATE public.cells SET capacity = CASE name WHEN 'b' THEN 1000000 ELSE 1 END")
            created = service.create_tenant(
                NewTenant(name=slug, slug=slug, admin_email=f"a@{slug}.example.com"), platform_actor
            )
        finally:
            conn.execute("UPDATE public.cells SET capacity = NULL")
            conn.execute("SELECT pg_advisory_unlock(hashtext('tests.cells'))")
    assert _registry(created.tenant_id) == {"status": "active", "cell": "b"}


def test_a_tenant_on_another_cell_has_its_schema_there_and_signs_in(platform_actor: Any, on_cells: Any) -> None:
    created = create_on("c", platform_actor)

    assert _registry(created.tenant_id) == {"status": "active", "cell": "c"}
    assert _schemas(on_cells.urls["c"], created.schema_name)
    assert not _schemas(on_cells.urls["b"], created.schema_name)
    with control() as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (created.schema_name,)).fetchone() is None
    signed_in = login.login(
        LoginIn(tenant_slug=created.slug, email=created.admin_email, password=created.admin_temporary_password)
    )
    assert signed_in.access_token
    actor = credentials.admit(admin_context(created), writing=True)
    assert actor.tenant == Tenant(created.tenant_id, created.schema_name)
    assert service.check_tenant(created.slug).healthy


def test_suspending_a_tenant_on_another_cell_bites_on_its_next_request(on_cells: Any, platform_actor: Any) -> None:
    created = create_on("b", platform_actor)
    context = admin_context(created)

    service.update_tenant(created.tenant_id, TenantPatch(status="suspended"), platform_actor)

    with pytest.raises(Forbidden):
        credentials.admit(context)


def test_a_cell_down_fails_only_its_own_tenants_with_503(platform_actor: Any, tenant: Any, on_cells: Any) -> None:
    on_b, on_c = create_on("b", platform_actor), create_on("c", platform_actor)
    contexts = {name: admin_context(t) for name, t in (("b", on_b), ("c", on_c), ("default", tenant))}

    on_cells.stop_cell("c")
    try:
        with pytest.raises(DependencyDown):
            credentials.admit(contexts["c"])
        with pytest.raises(DependencyDown):
            login.login(LoginIn(tenant_slug=on_c.slug, email=on_c.admin_email, password="whatever-it-is-1"))
        assert credentials.admit(contexts["b"]).tenant == Tenant(on_b.tenant_id, on_b.schema_name)
        assert credentials.admit(contexts["default"]).tenant is not None
        health = check_health()
        assert health.status == "degraded"  # only cell c's tenants are affected
        assert {name: check.ok for name, check in health.checks.items() if name.startswith("postgres")} == {
            "postgres": True,
            "postgres:b": True,
            "postgres:c": False,
        }
    finally:
        on_cells.start_cell("c")
    # back: the very next request connects (a fresh pool, not the old one's reconnection backoff)
    assert credentials.admit(contexts["c"]).tenant == Tenant(on_c.tenant_id, on_c.schema_name)


# ---------------------------------------------------------------- creation across two databases


def _crash_at(monkeypatch: pytest.MonkeyPatch, at: str) -> None:
    def step(name: str) -> None:
        if name == at:
            raise Crash(name)

    monkeypatch.setattr(service, "step", step)


@pytest.mark.parametrize("at", ["registered", "provisioned"])
def test_a_creation_that_dies_between_steps_is_never_half_visible_and_recovery_settles_it(
    platform_actor: Any, on_cells: Any, monkeypatch: pytest.MonkeyPatch, at: str, cli: Any
) -> None:
    slug = f"crash-{secrets.token_hex(4)}"
    _crash_at(monkeypatch, at)
    with pytest.raises(Crash):
        create_on("b", platform_actor, slug)
    monkeypatch.undo()
    with control() as conn:
        row = conn.execute("SELECT id, schema_name, status FROM public.tenants WHERE slug = %s", (slug,)).fetchone()
    assert row is not None and row["status"] == "provisioning"
    in_cell = _schemas(on_cells.urls["b"], row["schema_name"])
    assert in_cell is (at == "provisioned")  # the cell's part commits whole or not at all
    if not in_cell:  # nobody can sign in to a tenant whose schema is not there
        with pytest.raises(Unauthorized):
            login.login(LoginIn(tenant_slug=slug, email=f"a@{slug}.example.com", password="Whatever-it-is-1"))

    result = cli("tenant", "check", "--grace", "0", "--json")  # recovery

    assert result.exit_code == 0, result.output
    recovered = json.loads(result.output)
    if at == "registered":
        assert slug in recovered["removed"]
        assert _registry(row["id"]) is None
        again = create_on("b", platform_actor, slug)  # the slug is free again
        assert _registry(again.tenant_id) == {"status": "active", "cell": "b"}
    else:
        assert slug in recovered["finished"]
        assert _registry(row["id"]) == {"status": "active", "cell": "b"}
        assert service.check_tenant(slug).healthy


def test_recovery_drops_what_a_cell_holds_for_a_registration_that_is_gone(
    platform_actor: Any, on_cells: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a creation that died after its cell committed, whose registration was then removed
    slug = f"orphan-{secrets.token_hex(4)}"
    _crash_at(monkeypatch, "provisioned")
    with pytest.raises(Crash):
        create_on("c", platform_actor, slug)
    monkeypatch.undo()
    with control() as conn:
        row = conn.execute("DELETE FROM public.tenants WHERE slug = %s RETURNING id, schema_name", (slug,)).fetchone()
    assert row is not None and _schemas(on_cells.urls["c"], row["schema_name"])

    recovered = service.recover(older_than_s=0)

    assert f"c/{row['schema_name']}" in recovered.orphans
    assert not _schemas(on_cells.urls["c"], row["schema_name"])
    with control(on_cells.urls["c"]) as conn:
        assert conn.execute("SELECT 1 FROM public.tenants WHERE id = %s", (row["id"],)).fetchone() is None


def test_a_creation_whose_cell_is_down_leaves_no_tenant_behind(platform_actor: Any, on_cells: Any) -> None:
    slug = f"down-{secrets.token_hex(4)}"
    on_cells.stop_cell("b")
    try:
        with pytest.raises(DependencyDown):
            create_on("b", platform_actor, slug)
    finally:
        on_cells.start_cell("b")
    with control() as conn:
        assert conn.execute("SELECT 1 FROM public.tenants WHERE slug = %s", (slug,)).fetchone() is None


def test_an_unknown_cell_in_the_registry_is_a_503_for_its_tenants_only(on_cells: Any, platform_actor: Any) -> None:
    created = create_on("b", platform_actor)
    context = admin_context(created)
    with control() as conn:
        conn.execute("INSERT INTO public.cells (name) VALUES ('gone') ON CONFLICT DO NOTHING")
        conn.execute("UPDATE public.tenants SET cell = 'gone' WHERE id = %s", (created.tenant_id,))
    cells.forget()
    try:
        with pytest.raises(DependencyDown):
            credentials.admit(context)
    finally:
        with control() as conn:
            conn.execute("UPDATE public.tenants SET cell = 'b' WHERE id = %s", (created.tenant_id,))
        cells.forget()


def test_cells_configuration_rejects_bad_names(on_cells: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hrms.config import settings

    monkeypatch.setenv("CELLS", '{"default": "postgresql://x/y"}')
    settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="default"):
            cells.configured()
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_db_maintenance_works_on_the_tenants_cell(on_cells: Any, platform_actor: Any, cli: Any) -> None:
    on_c = create_on("c", platform_actor)

    by_tenant = cli("db", "analyze", "--tenant", on_c.slug, "--json")
    by_cell = cli("db", "analyze", "--all", "--cell", "c", "--json")
    of_b = cli("db", "analyze", "--all", "--cell", "b", "--json")

    assert by_tenant.exit_code == 0, by_tenant.output
    assert [(run["schemaName"], run["error"]) for run in json.loads(by_tenant.output)] == [(on_c.schema_name, None)]
    assert by_cell.exit_code == 0, by_cell.output
    runs = json.loads(by_cell.output)
    assert on_c.schema_name in {run["schemaName"] for run in runs}
    assert all(run["error"] is None and run["tables"] > 0 for run in runs)
    assert on_c.schema_name not in {run["schemaName"] for run in json.loads(of_b.output)}


def test_expired_idempotency_keys_are_purged_in_the_tenants_cell(on_cells: Any, platform_actor: Any) -> None:
    from hrms.http.idempotency import purge_expired

    on_b = create_on("b", platform_actor)
    with tenant_tx(Tenant(on_b.tenant_id, on_b.schema_name)) as tx:
        tx.execute(
            sql.SQL(
                "INSERT INTO {} (key, operation, request_hash, expires_at)"
                " VALUES ('k1', 'op', 'h', now() - interval '1 day'), ('k2', 'op', 'h', now() + interval '1 day')"
            ).format(tx.t("idempotency_keys"))
        )

    summary = purge_expired(tenant=on_b.slug)

    assert (summary.schemas, summary.expired, summary.purged) == (1, 1, 1)
    with tenant_tx(Tenant(on_b.tenant_id, on_b.schema_name)) as tx:
        left = tx.execute(sql.SQL("SELECT key FROM {}").format(tx.t("idempotency_keys"))).fetchall()
    assert [row["key"] for row in left] == ["k2"]


def test_the_outbox_sweep_visits_pending_tenants_of_every_cell(on_cells: Any, platform_actor: Any) -> None:
    from hrms.outbox import APPROVAL_REQUESTED, emit, relay

    on_c = create_on("c", platform_actor)
    event = {
        "approvalId": str(UUID(int=1)),
        "entityType": "leave",
        "entityId": str(UUID(int=2)),
        "step": 1,
        "approverType": "role",
        "approverRole": "hr_manager",
        "assigneeEmployeeId": None,
        "subjectEmployeeId": None,
    }
    with tenant_tx(Tenant(on_c.tenant_id, on_c.schema_name)) as tx:  # its marker is in cell c
        emit(tx, APPROVAL_REQUESTED, event)
    with control(on_cells.urls["c"]) as conn:
        assert conn.execute("SELECT 1 FROM public.outbox_pending WHERE tenant_id = %s", (on_c.tenant_id,)).fetchone()

    assert str(on_c.tenant_id) in relay.sweep(min_age_s=0).visited


def test_the_registry_learns_the_activity_and_leave_year_turn_of_a_tenant_on_another_cell(
    on_cells: Any, platform_actor: Any
) -> None:
    """GET /tenants and the hourly rollover read the control database's registry, not the cell's row."""
    import datetime as dt

    from hrms.auth import authorizer
    from hrms.leave import rollover

    created = create_on("b", platform_actor)
    signed_in = login.login(
        LoginIn(tenant_slug=created.slug, email=created.admin_email, password=created.admin_temporary_password)
    )
    arn = "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/me"
    policy = authorizer.authorize(f"Bearer {signed_in.access_token}", arn)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    now = dt.datetime.now(dt.UTC)
    first = rollover.open_due(now, slug=created.slug)
    again = rollover.open_due(now, slug=created.slug)

    with control() as conn:
        row = conn.execute(
            "SELECT last_activity_at, leave_year_turns_at FROM public.tenants WHERE id = %s", (created.tenant_id,)
        ).fetchone()
    assert row is not None and row["last_activity_at"] is not None
    assert [t.slug for t in first.tenants] == [created.slug] and first.tenants[0].turns_at is not None
    assert row["leave_year_turns_at"] == first.tenants[0].turns_at and row["leave_year_turns_at"] > now
    assert again.tenants == [] and again.failed == {}  # not due again until its next year begins
