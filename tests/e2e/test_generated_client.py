"""A client generated from /openapi.json drives the API as an integrator's would (issue #18).

`openapi-python-client` (its own virtualenv, `make openapi-client`: its pins clash with the
project's) generates a package from the document the local gateway serves, into a temporary
directory; generating must not warn about anything. The generated client then runs a whole flow
with typed results: a tenant, its admin's first sign-in and password change, the organisation,
employees, a second admin as the checker, a leave request and its approval, a salary structure and
salaries, a payroll run by one admin approved by the other and processed; a 409 and a 422 arrive as
the `Problem` model.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT

GENERATOR = Path(os.environ.get("HRMS_OPENAPI_CLIENT") or ROOT / ".venv-openapi" / "bin" / "openapi-python-client")
PACKAGE = "hrms_client"
PASSWORD = "copper-meadow-lantern-64"
CHECKER_PASSWORD = "quiet-harbour-violet-82"


@pytest.fixture(scope="module")
def generated(gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the served document, importable for the module's tests."""
    assert GENERATOR.exists(), f"{GENERATOR} is missing: run `make openapi-client` (or set HRMS_OPENAPI_CLIENT)"
    where = tmp_path_factory.mktemp("client")
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{gateway.base_url}/openapi.json", timeout=60).content)
    config = where / "config.yaml"
    config.write_text(f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n")
    command = [str(GENERATOR), "generate", "--path", str(document), "--meta", "none", "--config", str(config)]
    run = subprocess.run(  # noqa: S603 - the pinned generator on our own document
        [*command, "--output-path", str(where / PACKAGE)], capture_output=True, text=True, timeout=300, check=False
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Warning" not in output and "Unable to" not in output, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class _api:  # reads as the generated package's `api.<tag>` namespace
    """The operations of one tag: `_api("payroll").process_payroll` is `hrms_client.api.payroll.process_payroll`."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __getattr__(self, operation: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{self.tag}.{operation}")


def test_a_generated_client_runs_the_whole_flow(generated: ModuleType, gateway: Any, platform_token: str) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    tenants, session, org = _api("tenants"), _api("session"), _api("organisation")
    employees, users, leave, payroll = _api("employees"), _api("users_and_roles"), _api("leave"), _api("payroll")
    base = gateway.base_url

    def signed_in(token: str) -> Any:
        return generated.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

    def first_sign_in(slug: str, email: str, temporary: str, chosen: str) -> Any:
        anonymous = generated.Client(base_url=base, raise_on_unexpected_status=True)
        login = session.login.sync(
            client=anonymous, body=models.LoginIn(tenant_slug=slug, email=email, password=temporary)
        )
        assert isinstance(login, models.LoginOut) and login.must_change_password
        first = signed_in(login.access_token)
        change = models.PasswordChangeIn(current_password=temporary, new_password=chosen)
        fresh = session.change_password.sync(client=first, body=change)
        assert isinstance(fresh, models.AccessToken)
        revoked = session.get_me.sync(client=first)
        assert isinstance(revoked, models.Problem) and revoked.status == 401  # the temporary token died
        return signed_in(fresh.access_token)

    # The platform creates a tenant; its admin signs in and replaces the temporary password.
    slug = f"client-{secrets.token_hex(4)}"
    new_tenant = models.NewTenant(name="Generated client", slug=slug, admin_email=f"admin@{slug}.example.com")
    tenant = tenants.create_tenant.sync(client=signed_in(platform_token), body=new_tenant)
    assert isinstance(tenant, models.CreatedTenant) and tenant.slug == slug
    admin = first_sign_in(slug, tenant.admin_email, tenant.admin_temporary_password, PASSWORD)
    me = session.get_me.sync(client=admin)
    assert isinstance(me, models.Me)

    # Organisation and employees.
    department = org.create_department.sync(client=admin, body=models.NewDepartment(name="Engineering", code="ENG"))
    assert isinstance(department, models.Department)
    designation = org.create_designation.sync(client=admin, body=models.NewDesignation(title="Engineer", level=2))
    assert isinstance(designation, models.Designation)
    today = dt.date.today()
    hired = []
    for first_name in ("Asha", "Ravi"):
        body = models.NewEmployee(
            email=f"{first_name.lower()}@{slug}.example.com",
            first_name=first_name,
            last_name="Rao",
            department_id=department.department_id,
            designation_id=designation.designation_id,
            date_of_joining=dt.date(today.year, 1, 1),
        )
        employee = employees.create_employee.sync(client=admin, body=body)
        assert isinstance(employee, models.Employee) and employee.status == "active"
        hired.append(employee)

    # A second admin, the checker: created with a password they must replace at their first sign-in.
    new_user = models.NewUser(
        email=f"checker@{slug}.example.com", role=models.NewUserRole.ADMIN, password="Tmp-4wQz-8kLm"
    )
    user = users.create_user.sync(client=admin, body=new_user)
    assert isinstance(user, models.CreatedUser) and user.must_change_password
    checker = first_sign_in(slug, user.email, "Tmp-4wQz-8kLm", CHECKER_PASSWORD)

    # Leave: requested for an employee, approved by the checker.
    types = leave.list_leave_types.sync(client=admin)
    assert isinstance(types, models.PageLeaveType)
    annual = next(t for t in types.items if t.code == "annual")
    monday = dt.date(today.year, 1, 8) + dt.timedelta(days=-dt.date(today.year, 1, 8).weekday() % 7)
    request = models.LeaveRequest(
        leave_type_id=annual.leave_type_id,
        employee_id=hired[0].employee_id,
        start_date=monday,
        end_date=monday + dt.timedelta(days=1),
        reason="Family visit",
    )
    requested = leave.request_leave.sync(client=admin, body=request)
    assert isinstance(requested, models.Leave) and requested.status == models.LeaveStatus.PENDING
    decided = leave.decide_leave.sync(
        client=checker,
        leave_id=requested.leave_id,
        body=models.DecisionIn(decision=models.DecisionInDecision.APPROVE),
    )
    assert isinstance(decided, models.Decision) and decided.entity_status == "approved"

    # Payroll: a structure, salaries, a run by the admin, approved by the checker, processed.
    components = [
        models.Component(code="basic", name="Basic", kind=models.ComponentKind.EARNING,
                         calc=models.ComponentCalc.PERCENT_OF_CTC, value=50),
        models.Component(code="pf", name="PF", kind=models.ComponentKind.DEDUCTION,
                         calc=models.ComponentCalc.PERCENT_OF_BASIC, value="12"),
    ]  # fmt: skip
    structure = payroll.create_salary_structure.sync(
        client=admin, body=models.NewSalaryStructure(name="Standard", components=components)
    )
    assert isinstance(structure, models.SalaryStructure)
    for employee, ctc in zip(hired, ("900000.00", "600000.00"), strict=True):
        salary = payroll.assign_employee_salary.sync(
            client=admin,
            employee_id=employee.employee_id,
            body=models.NewEmployeeSalary(
                salary_structure_id=structure.salary_structure_id,
                annual_ctc=ctc,
                effective_from=dt.date(today.year, 1, 1),
            ),
        )
        assert isinstance(salary, models.EmployeeSalary)
    month = f"{today:%Y-%m}"
    run = payroll.process_payroll.sync(client=admin, body=models.NewPayrollRun(month=month))
    assert isinstance(run, models.PayrollRun) and run.status == models.PayrollRunStatus.DRAFT
    assert run.employee_count == 2
    approved = payroll.approve_payroll.sync(
        client=checker, payroll_run_id=run.payroll_run_id, body=models.ApproveIn(comment="Checked")
    )
    assert isinstance(approved, models.PayrollRun) and approved.status == models.PayrollRunStatus.APPROVED
    processed = payroll.mark_payroll_processed.sync(client=admin, payroll_run_id=run.payroll_run_id)
    assert isinstance(processed, models.PayrollRun) and processed.status == models.PayrollRunStatus.PROCESSED

    # Refusals arrive as the Problem model, extension members included.
    again = payroll.process_payroll.sync(client=admin, body=models.NewPayrollRun(month=month))
    assert isinstance(again, models.Problem) and again.status == 409
    assert again.payroll_run_id == str(run.payroll_run_id)
    invalid = org.create_department.sync(client=admin, body=models.NewDepartment(name="Ops", code="not a code!"))
    assert isinstance(invalid, models.Problem) and invalid.status == 422
    assert [error.field for error in invalid.errors] == ["body.code"]
