"""`hrms tenant move`: a tenant with data moves between real PostgreSQL servers (cells b and c, and the control
database's own cell), with writes going on, a crash at each step, and the refusals."""

from __future__ import annotations

import json
import threading
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from hrms.auth import credentials
from hrms.db.postgres import tenant_tx
from hrms.employees import service as employees
from hrms.employees.models import NewEmployee
from hrms.errors import Invalid, NotFound, WritesFrozen
from hrms.tenancy import Actor, Tenant
from hrms.tenants import moves, service
from hrms.tenants.models import TenantPatch
from tests.cells_fixtures import admin_context, control, create_on


class Crash(BaseException):
    """The process dying at a step: nothing of the move's own clean-up runs."""


def _tenant(created: Any) -> Tenant:
    return Tenant(created.tenant_id, created.schema_name)


def _staff(created: Any, count: int) -> None:
    """`count` employees hired through the service, in the tenant's cell."""
    tenant = _tenant(created)
    context = admin_context(created)
    admin = Actor(context["userId"], "admin", tenant)
    department, designation = uuid4(), uuid4()
    with tenant_tx(tenant) as tx:
        tx.execute(
            sql.SQL("INSERT INTO {} (id, name, code) VALUES (%s, 'Eng', 'ENG')").format(tx.t("departments")),
            (department,),
        )
        tx.execute(
            sql.SQL("INSERT INTO {} (id, title) VALUES (%s, 'Engineer')").format(tx.t("designations")), (designation,)
        )
    for _ in range(count):
        body = {
            "email": f"{uuid4().hex[:10]}@example.com",
            "firstName": "Asha",
            "lastName": "Rao",
            "departmentId": str(department),
            "designationId": str(designation),
            "dateOfJoining": "2024-01-01",
        }
        employees.create_employee(tenant, admin, "all", NewEmployee.model_validate(body))


def _count(created: Any, table: str) -> int:
    with tenant_tx(_tenant(created)) as tx:  # routed to wherever the registry now says
        row = tx.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(tx.t(table))).fetchone()
    return int(row["n"]) if row else 0


def _cell(tenant_id: UUID) -> str:
    with control() as conn:
        row = conn.execute("SELECT cell FROM public.tenants WHERE id = %s", (tenant_id,)).fetchone()
    assert row is not None
    return str(row["cell"])


def _has_schema(url: str, schema: str) -> bool:
    with control(url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def test_a_move_copies_verifies_switches_and_drops_the_old_copy(on_cells: Any, platform_actor: Any, cli: Any) -> None:
    created = create_on("b", platform_actor)
    _staff(created, 5)

    result = cli("tenant", "move", created.slug, "--to", "c", "--grace", "0", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["source"], report["target"], report["phase"]) == ("b", "c", "done")
    assert report["rows"]["employees"] == 5 and report["freezeS"] > 0
    assert _cell(created.tenant_id) == "c"
    assert _has_schema(on_cells.urls["c"], created.schema_name)
    assert not _has_schema(on_cells.urls["b"], created.schema_name)  # grace 0: dropped at once
    assert _count(created, "employees") == 5
    assert credentials.admit(admin_context(created), writing=True).tenant == _tenant(created)


def test_a_move_keeps_the_old_copy_for_the_grace_period_and_answers_its_stale_callers_503(
    on_cells: Any, platform_actor: Any
) -> None:
    created = create_on("b", platform_actor)
    context = admin_context(created)
    report = moves.move(created.slug, "c", grace_s=3600)
    assert report.phase == "flipped" and _has_schema(on_cells.urls["b"], created.schema_name)

    # a container that still routes the tenant to b (its cached lookup) gets 503 + Retry-After, then finds c
    from hrms.db import cells

    cells._lookups._found[f"id:{created.tenant_id}"] = ("b", 1e18)
    with pytest.raises(WritesFrozen) as stale:
        credentials.admit(context)
    assert stale.value.retry_after_s == 1
    assert credentials.admit(context).tenant == _tenant(created)  # the retry reads the registry: cell c


def test_writes_during_a_move_are_answered_or_told_to_retry_and_none_is_lost(
    on_cells: Any, platform_actor: Any
) -> None:
    created = create_on("c", platform_actor)
    _staff(created, 20)
    context = admin_context(created)
    written: list[str] = []
    retried: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                credentials.admit(context, writing=True)
                with tenant_tx(_tenant(created)) as tx:
                    tx.execute(
                        sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s)").format(tx.t("departments")),
                        (f"D{n}", f"D{n}"),
                    )
                written.append(f"D{n}")
            except WritesFrozen as frozen:
                retried.append(frozen.retry_after_s)
                stop.wait(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = moves.move(created.slug, "b", grace_s=0)
    finally:
        stop.set()
        thread.join()

    assert report.phase == "done"
    assert retried and set(retried) <= {moves.RETRY_AFTER_S, 1}  # told to retry during the cut-over
    with tenant_tx(_tenant(created)) as tx:
        present = {r["code"] for r in tx.execute(sql.SQL("SELECT code FROM {}").format(tx.t("departments")))}
    assert set(written) <= present  # every answered write is in the new cell


@pytest.mark.parametrize("at", ["copied", "verified", "flipped"])
def test_a_move_that_dies_at_any_step_finishes_when_run_again(
    on_cells: Any, platform_actor: Any, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    created = create_on("b", platform_actor)
    _staff(created, 3)

    def step(name: str) -> None:
        if name == at:
            raise Crash(name)

    monkeypatch.setattr(moves, "step", step)
    with pytest.raises(Crash):
        moves.move(created.slug, "c", grace_s=0)
    monkeypatch.undo()
    if at == "verified":  # died during the cut-over: writes stay frozen (503, never lost) until resumed
        with pytest.raises(WritesFrozen):
            credentials.admit(admin_context(created), writing=True)

    report = moves.move(created.slug, "c", grace_s=0)

    assert report.phase == "done"
    assert _cell(created.tenant_id) == "c"
    assert _count(created, "employees") == 3
    assert not _has_schema(on_cells.urls["b"], created.schema_name)
    assert credentials.admit(admin_context(created), writing=True).tenant == _tenant(created)


def test_a_tenant_moves_off_and_back_onto_the_control_database(tenant: Any, on_cells: Any) -> None:
    # `tenant` first: created before the cells are configured, so on `default` whatever their loads
    _staff(tenant, 2)
    assert moves.move(tenant.slug, "b", grace_s=0).phase == "done"
    assert _cell(tenant.tenant_id) == "b" and _count(tenant, "employees") == 2
    assert moves.move(tenant.slug, "default", grace_s=0).phase == "done"
    assert _cell(tenant.tenant_id) == "default" and _count(tenant, "employees") == 2
    assert credentials.admit(admin_context(tenant), writing=True).tenant == _tenant(tenant)


def test_moves_that_cannot_be_are_refused_clearly(on_cells: Any, platform_actor: Any) -> None:
    created = create_on("b", platform_actor)
    with pytest.raises(NotFound, match="No tenant"):
        moves.move("no-such-tenant", "c")
    with pytest.raises(Invalid, match="Unknown cell 'zz'"):
        moves.move(created.slug, "zz")
    with pytest.raises(Invalid, match="on cell 'b' already"):
        moves.move(created.slug, "b")
    service.update_tenant(created.tenant_id, TenantPatch(status="suspended"), platform_actor)
    with pytest.raises(Invalid, match="suspended"):
        moves.move(created.slug, "c")
