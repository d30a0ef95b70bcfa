"""The local demo tenant: fixed ids so the sample events in events/ work against `hrms dev` and tests."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from psycopg import sql

from hrms.db.changes import Change, declare
from hrms.db.postgres import tenant_tx, transaction
from hrms.employees import repo as employees
from hrms.org import repo as org
from hrms.payroll import repo as payroll
from hrms.tenancy import PLATFORM_ADMIN, Actor, Tenant
from hrms.tenants import service
from hrms.tenants.models import NewTenant
from hrms.users import repo as users

DEMO = service.FixedIds(
    tenant_id=UUID("00000000-0000-4000-8000-000000000001"),
    schema_name="tenant_demo_00000001",
    admin_user_id=UUID("00000000-0000-4000-8000-0000000000a1"),
    admin_password="demo-admin-password",  # noqa: S106 - local demo data only, never in AWS
)
DEMO_DEPARTMENT_ID = UUID("00000000-0000-4000-8000-0000000000d1")
DEMO_DESIGNATION_ID = UUID("00000000-0000-4000-8000-0000000000d2")
DEMO_EMPLOYEE_ID = UUID("00000000-0000-4000-8000-0000000000e1")
DEMO_ANNUAL_LEAVE_TYPE_ID = UUID("00000000-0000-4000-8000-00000000f003")
DEMO_SALARY_STRUCTURE_ID = UUID("00000000-0000-4000-8000-0000000000c1")
DEMO_COMPONENTS = [
    {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "hra", "name": "House rent allowance", "kind": "earning", "calc": "percent_of_basic", "value": "50"},
    {"code": "special", "name": "Special allowance", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
    {"code": "pf", "name": "Provident fund", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
    {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": "200"},
]
DEMO_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.example.com"


def ensure_demo_tenant() -> bool:
    """Create the demo tenant unless it exists; True if it was created now."""
    with transaction() as conn:
        if conn.execute("SELECT 1 FROM public.tenants WHERE id = %s", (DEMO.tenant_id,)).fetchone():
            return False
    new = NewTenant(
        name="Demo Company",
        slug=DEMO_SLUG,
        admin_email=DEMO_ADMIN_EMAIL,
        description="Local demo tenant used by the sample events",
    )
    service.create_tenant(new, Actor("hrms-dev", PLATFORM_ADMIN, None), fixed=DEMO)
    _seed_organisation()
    return True


def _seed_organisation() -> None:
    """One department, designation, employee (the admin's own record) and salary for the sample events."""
    tenant = Tenant(DEMO.tenant_id, DEMO.schema_name)
    admin = Actor(str(DEMO.admin_user_id), "admin", tenant)
    joined = dt.date(dt.date.today().year, 1, 1)
    with tenant_tx(tenant, admin) as tx:
        tx.execute(
            sql.SQL("UPDATE {} SET id = %s WHERE code = 'annual'").format(tx.t("leave_types")),
            (DEMO_ANNUAL_LEAVE_TYPE_ID,),
        )
        org.insert_department(tx, {"id": DEMO_DEPARTMENT_ID, "name": "Engineering", "code": "ENG"})
        org.insert_designation(
            tx, {"id": DEMO_DESIGNATION_ID, "title": "Software Engineer", "department_id": DEMO_DEPARTMENT_ID}
        )
        employees.insert(
            tx,
            {
                "id": DEMO_EMPLOYEE_ID,
                "employee_code": "EMP-DEMO-1",
                "email": DEMO_ADMIN_EMAIL,
                "first_name": "Demo",
                "last_name": "Admin",
                "department_id": DEMO_DEPARTMENT_ID,
                "designation_id": DEMO_DESIGNATION_ID,
                "date_of_joining": joined,
            },
        )
        users.update(tx, DEMO.admin_user_id, {"employee_id": DEMO_EMPLOYEE_ID})
        declare(tx, Change("joining", employee_ids=(DEMO_EMPLOYEE_ID,)))
        payroll.insert_structure(
            tx, {"id": DEMO_SALARY_STRUCTURE_ID, "name": "Standard India", "components": DEMO_COMPONENTS}
        )
        payroll.insert_salary(
            tx,
            {
                "employee_id": DEMO_EMPLOYEE_ID,
                "salary_structure_id": DEMO_SALARY_STRUCTURE_ID,
                "annual_ctc": 1_800_000,
                "components": DEMO_COMPONENTS,
                "effective_from": joined,
            },
        )
