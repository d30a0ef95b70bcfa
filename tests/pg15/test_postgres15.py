"""The oldest supported major, PostgreSQL 15: migrations, tenants and the main domain operations through
the services, and a tenant's backup by pg_dump 18, restored into it (a known gap for now: see
TRANSACTION_TIMEOUT). See conftest.py for the set-up."""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
import pytest
from psycopg import sql

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.backup import pgtools, storage
from hrms.backup import service as backups
from hrms.db.postgres import transaction
from hrms.employees import service as employees
from hrms.employees.models import NewEmployee
from hrms.errors import Conflict
from hrms.migrations import runner
from hrms.migrations.files import latest_version
from hrms.org import service as org
from hrms.org.models import NewDesignation
from hrms.payroll import runs, salaries
from hrms.payroll.models import NewEmployeeSalary, NewSalaryStructure
from hrms.tenancy import schema_name_for
from hrms.tenants import repo
from hrms.tenants import service as tenants
from hrms.tenants.models import NewTenant
from tests.integration.leave_world import World
from tests.integration.test_backup import checksums, scramble

PAN, AADHAAR = "ABCDE1234F", "234123412346"
STANDARD = [  # on a CTC of 12,00,000: basic 40,000 + HRA 20,000 + special 10,000; PF 4,800 + PT 200 a month
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "hra", "name": "House rent allowance", "kind": "earning", "calc": "percent_of_basic", "value": "50"},
    {"code": "special", "name": "Special allowance", "kind": "earning", "calc": "fixed", "value": "10000"},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": "200"},
]


def new_tenant(platform_actor: Any) -> Any:
    slug = f"pg15-{secrets.token_hex(4)}"
    new = NewTenant(name=f"PostgreSQL 15 {slug}", slug=slug, admin_email=f"admin@{slug}.example.com")
    return tenants.create_tenant(new, platform_actor)


def shape(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Columns, indexes, constraints and triggers of a schema, its name replaced by @schema."""
    queries = {
        "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = %(s)s",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = %(s)s::regnamespace",
        "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE %(s)s || '.%%'",
    }
    found = {}
    with transaction() as conn:
        for name, query in queries.items():
            rows = conn.execute(query, {"s": schema}).fetchall()
            found[name] = sorted(tuple(str(v).replace(schema, "@schema") for v in row.values()) for row in rows)
    return found


@pytest.fixture
def world(tenant: Any) -> World:
    return World.create(tenant)


# ----------------------------------------------------------------------------- the server and migrations


def test_hrms_talks_to_a_postgresql_15_server(on_postgres15):
    with transaction() as conn:
        version = int(conn.execute("SHOW server_version_num").fetchone()["server_version_num"])  # type: ignore[index]
    assert version // 10_000 == 15
    assert pgtools.tool_version(pgtools.tool("pg_dump"))[0] == 18  # the session's tools, as in the pgtools layer


def test_migrations_run_clean_and_a_second_up_does_nothing(on_postgres15):
    first = on_postgres15.first_up
    assert first.public_applied == list(range(1, latest_version("public") + 1)) and not first.failures

    again = runner.up()

    assert (again.public_applied, again.tenants_migrated, again.failures) == ([], 0, {})
    status = runner.status()
    assert (status.public_version, status.tenants_behind, status.drift) == (latest_version("public"), 0, ())


def test_tenant_migrations_one_by_one_give_the_schema_a_new_tenant_gets(on_postgres15, platform_actor):
    # GIVEN a registered tenant whose schema is still empty (version 0), as before its first migration
    slug = f"pg15-old-{secrets.token_hex(4)}"
    schema = schema_name_for(slug)
    with transaction() as conn:
        repo.insert_tenant(
            conn, name=slug, slug=slug, schema_name=schema, admin_email=f"a@{slug}.io", description=None, settings={}
        )
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute("UPDATE public.tenants SET schema_version = 0 WHERE slug = %s", (slug,))

    migrated = runner.up()

    assert (migrated.tenants_migrated, migrated.failures) == (1, {})
    assert runner.up().tenants_migrated == 0
    assert tenants.check_tenant(slug).healthy
    assert shape(schema) == shape(new_tenant(platform_actor).schema_name)


# ----------------------------------------------------------------------------- tenants and domain operations


def test_two_tenants_are_created_listed_and_healthy(on_postgres15, platform_actor):
    a, b = new_tenant(platform_actor), new_tenant(platform_actor)

    listed = {t.slug: t for t in tenants.list_tenants(None, limit=200).items}

    assert {a.slug, b.slug} <= set(listed) and a.schema_name != b.schema_name
    for created in (a, b):
        check = tenants.check_tenant(created.slug)
        assert check.healthy and {"employees", "payroll_runs", "audit_logs"} <= set(check.tables)
        assert listed[created.slug].status == "active"


def hire_with_pan(world: World) -> Any:
    body = {
        "email": f"meera.{secrets.token_hex(4)}@example.com",
        "firstName": "Meera",
        "lastName": "Iyer",
        "departmentId": str(world.department_id),
        "designationId": str(world.designation_id),
        "dateOfJoining": "2024-01-01",
        "pan": PAN.lower(),
        "aadhaar": "2341 2341 2346",
    }
    return employees.create_employee(world.tenant, world.admin, "all", NewEmployee.model_validate(body))


def test_an_employee_with_pan_and_aadhaar_is_stored_masked_and_audited(world):
    hired = hire_with_pan(world)

    assert (hired.pan_masked, hired.aadhaar_masked) == ("XXXXX1234X", "XXXX-XXXX-2346")
    stored = world.query(
        sql.SQL("SELECT pan_encrypted, aadhaar_encrypted FROM {} WHERE id = %s").format(world.t("employees")),
        (hired.employee_id,),
    )[0]
    assert PAN.encode() not in bytes(stored["pan_encrypted"])
    assert AADHAAR.encode() not in bytes(stored["aadhaar_encrypted"])
    assert world.audit_actions(hired.employee_id)[0] == "employee.created"
    with pytest.raises(Conflict):  # the same PAN (and Aadhaar) again
        hire_with_pan(world)


def test_a_leave_request_and_its_approval_move_the_balance(world):
    manager = world.hire()
    employee = world.hire(manager_id=manager)
    requester, approver = world.user(employee, "employee"), world.user(manager, "manager")

    leave = world.request(requester, "2024-02-05", "2024-02-09")  # Monday to Friday
    assert (leave.status, leave.days) == ("pending", 5)
    assert world.balance(employee) == {"allocated": 18, "carried_forward": 0, "used": 0, "pending": 5}

    decision = approvals.decide_approval(world.tenant, approver, leave.approval_id, DecisionIn(decision="approve"))

    assert (decision.status, decision.entity_status) == ("approved", "approved")
    assert world.balance(employee) == {"allocated": 18, "carried_forward": 0, "used": 5, "pending": 0}
    assert world.audit_actions(leave.leave_id) == ["leave.created", "leave.updated"]


def test_a_payroll_run_is_processed_and_then_cannot_change(world):
    structure = salaries.create_structure(
        world.tenant, world.admin, NewSalaryStructure.model_validate({"name": "Standard", "components": STANDARD})
    )
    employee = world.hire()
    salary = NewEmployeeSalary.model_validate(
        {"salaryStructureId": str(structure.salary_structure_id), "annualCtc": "1200000", "effectiveFrom": "2024-01-01"}
    )
    salaries.assign_salary(world.tenant, world.admin, employee, salary)
    clerk = world.user(None, "hr_manager")  # runs the month; the admin approves it

    run = runs.process_payroll(world.tenant, clerk, "2026-03")
    runs.approve(world.tenant, world.admin, run.payroll_run_id, "checked")
    processed = runs.mark_processed(world.tenant, world.admin, run.payroll_run_id)

    assert (processed.status, processed.employee_count) == ("processed", 1)
    assert (processed.totals.gross, processed.totals.deductions, processed.totals.net) == (70000, 5000, 65000)
    assert world.audit_actions(run.payroll_run_id) == [
        "payroll_run.created",
        "payroll_run.updated",
        "payroll_run.updated",
    ]
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation):  # the guard triggers hold on 15
        world.query(
            sql.SQL("UPDATE {} SET net = 0 WHERE payroll_run_id = %s").format(world.t("payroll")),
            (run.payroll_run_id,),
        )


def test_designation_titles_are_unique_among_those_without_a_department(world):
    """NULLS NOT DISTINCT (new in 15): two titles with a NULL department are duplicates, not distinct."""
    org.create_designation(world.tenant, world.admin, NewDesignation(title="Analyst"))
    with pytest.raises(Conflict):
        org.create_designation(world.tenant, world.admin, NewDesignation(title="ANALYST"))
    in_a_department = NewDesignation(title="Analyst", department_id=world.department_id)
    org.create_designation(world.tenant, world.admin, in_a_department)
    indexes = world.query(
        sql.SQL("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = 'designations_title_key'"),
        (world.tenant.schema_name,),
    )
    assert "NULLS NOT DISTINCT" in indexes[0]["indexdef"]


# ----------------------------------------------------------------------------- backup and restore


def populated(world: World) -> None:
    """People (one with encrypted PAN and Aadhaar), their users and balances, a leave, its task, audit rows."""
    manager = world.hire()
    employee = world.hire(manager_id=manager)
    hire_with_pan(world)
    world.request(world.user(employee, "employee"), "2024-02-05", "2024-02-09")


def test_pg_dump_18_backs_up_a_tenant_of_postgresql_15(world, tenant):
    populated(world)

    backup = backups.create_backup("schema", tenant.slug)

    assert backup.server_version is not None and backup.server_version.startswith("15.")
    assert storage.head(backup.key).metadata["pg-dump-version"].startswith("18.")
    assert backups.validate_backup(backup.key).valid


# pg_dump 17 and later begin every plain dump with `SET transaction_timeout = 0;`, a setting that PostgreSQL
# 15 and 16 do not have (psql would stop there): hrms.backup.load drops that line for older servers.
def test_a_tenant_backup_by_pg_dump_18_restores_into_postgresql_15(world, tenant):
    populated(world)
    before = checksums(tenant.schema_name)
    backup = backups.create_backup("schema", tenant.slug)
    scramble(tenant.schema_name)
    assert checksums(tenant.schema_name) != before

    result = backups.restore_backup(backup.key, tenant.slug)

    assert checksums(tenant.schema_name) == before
    assert result.restored_schemas == [tenant.schema_name]
    assert result.row_counts[f"{tenant.schema_name}.employees"] == 3


def test_a_trial_restore_on_postgresql_15_passes(world, tenant):
    populated(world)
    backup = backups.create_backup("schema", tenant.slug)

    validation = backups.validate_backup(backup.key, trial_restore=True)  # into a scratch database on 15

    assert validation.valid, validation.problems
