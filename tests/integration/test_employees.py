"""Employee records at the service level against the embedded stack (PostgreSQL, Valkey, moto)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from hrms import pii
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from hrms.employees import service
from hrms.employees.models import EmployeePatch, NewEmployee
from hrms.employees.repo import Filters
from hrms.errors import BadRequest, Conflict, Invalid, NotFound
from hrms.leave import balances
from hrms.pagination import encode_cursor
from hrms.tenancy import Actor, Tenant

PAN = "ABCDE1234F"
AADHAAR = "234123412346"
OTHER_AADHAAR = "999941057058"


@dataclass
class Org:
    tenant: Tenant
    admin: Actor
    department_id: UUID
    other_department_id: UUID
    designation_id: UUID

    def t(self, table: str) -> sql.Identifier:
        return sql.Identifier(self.tenant.schema_name, table)

    def query(self, query: sql.Composable, params: Any = None) -> list[dict[str, Any]]:
        with transaction() as conn:
            return conn.execute(query, params).fetchall()

    def hire(self, first: str = "Asha", last: str = "Rao", **fields: Any) -> Any:
        body = {
            "email": f"{first}.{last}.{uuid4().hex[:6]}@example.com".lower(),
            "firstName": first,
            "lastName": last,
            "departmentId": str(self.department_id),
            "designationId": str(self.designation_id),
            "dateOfJoining": "2025-01-06",
            **fields,
        }
        return service.create_employee(self.tenant, self.admin, "all", NewEmployee.model_validate(body))

    def update(self, employee_id: UUID, **fields: Any) -> Any:
        return service.update_employee(
            self.tenant, self.admin, "all", employee_id, EmployeePatch.model_validate(fields)
        )

    def list(self, scope: str = "all", actor: Actor | None = None, limit: int = 200, **filters: Any) -> list[Any]:
        page = service.list_employees(self.tenant, actor or self.admin, scope, Filters(**filters), limit, None)
        return page.items

    def user_for(self, employee_id: UUID | None, role: str) -> Actor:
        row = self.query(
            sql.SQL(
                "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', %s, %s) RETURNING id"
            ).format(self.t("users")),
            (f"{uuid4().hex[:8]}@example.com", role, employee_id),
        )[0]
        return Actor(user_id=str(row["id"]), role=role, tenant=self.tenant)

    def org_epoch(self) -> int:
        rows = self.query(sql.SQL("SELECT epoch FROM {} WHERE name = 'org'").format(self.t("cache_epochs")))
        return int(rows[0]["epoch"]) if rows else 0


def _make_org(created: Any) -> Org:
    tenant = Tenant(created.tenant_id, created.schema_name)
    admin_user = find_user_by_email(created.slug, created.admin_email)
    ids = []
    with transaction() as conn:
        for code in ("ENG", "OPS"):
            ids.append(
                conn.execute(
                    sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s) RETURNING id").format(
                        sql.Identifier(tenant.schema_name, "departments")
                    ),
                    (code.title(), code),
                ).fetchone()["id"]  # type: ignore[index]
            )
        designation = conn.execute(
            sql.SQL("INSERT INTO {} (title, level) VALUES ('Engineer', 2) RETURNING id").format(
                sql.Identifier(tenant.schema_name, "designations")
            )
        ).fetchone()
    return Org(
        tenant=tenant,
        admin=Actor(user_id=str(admin_user.user_id), role="admin", tenant=tenant),
        department_id=ids[0],
        other_department_id=ids[1],
        designation_id=designation["id"],  # type: ignore[index]
    )


@pytest.fixture
def org(tenant: Any) -> Org:
    return _make_org(tenant)


# ---------------------------------------------------------------- hire


def test_hire_generates_a_code_and_shows_identifiers_masked_only(org):
    employee = org.hire(pan="abcde1234f", aadhaar="2341 2341 2346", phone="+91 98765 43210")
    assert employee.employee_code.startswith("EMP-") and len(employee.employee_code) == 10
    assert employee.status == "active"
    assert (employee.pan_masked, employee.aadhaar_masked) == ("XXXXX1234X", "XXXX-XXXX-2346")
    dumped = employee.model_dump_json(by_alias=True)
    assert PAN not in dumped and AADHAAR not in dumped


def test_employee_codes_are_unique_under_concurrent_hires(org):
    codes: list[str] = []
    errors: list[BaseException] = []

    def hire(i: int) -> None:
        try:
            codes.append(org.hire(first=f"P{i}").employee_code)
        except BaseException as exc:  # surface in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=hire, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(codes)) == 6


def test_identifiers_are_stored_encrypted_with_a_blind_index(org):
    employee = org.hire(pan=PAN, aadhaar=AADHAAR)
    row = org.query(sql.SQL("SELECT * FROM {} WHERE id = %s").format(org.t("employees")), (employee.employee_id,))[0]
    for field, plain in (("pan", PAN), ("aadhaar", AADHAAR)):
        blob = bytes(row[f"{field}_encrypted"])
        assert plain.encode() not in blob
        assert len(row[f"{field}_blind_index"]) == 32
        assert pii.cipher().decrypt(org.tenant.tenant_id, field, blob) == plain
        with pytest.raises(pii.PiiDecryptionError):
            pii.cipher().decrypt(uuid4(), field, blob)  # bound to its tenant
    with pytest.raises(pii.PiiDecryptionError):
        pii.cipher().decrypt(org.tenant.tenant_id, "aadhaar", bytes(row["pan_encrypted"]))  # and to its field
    assert row["pan_masked"] == "XXXXX1234X"


def test_audit_rows_carry_masked_identifiers_only(org):
    employee = org.hire(pan=PAN, aadhaar=AADHAAR)
    org.update(employee.employee_id, pan="ZYXWV9876A", aadhaar=OTHER_AADHAAR)
    rows = org.query(
        sql.SQL("SELECT action, before, after FROM {} WHERE entity_id = %s ORDER BY id").format(org.t("audit_logs")),
        (str(employee.employee_id),),
    )
    assert [r["action"] for r in rows] == ["employee.created", "leave_balance.initialised", "employee.updated"]
    text = json.dumps([r["before"] for r in rows] + [r["after"] for r in rows])
    for secret in (PAN, AADHAAR, "ZYXWV9876A", OTHER_AADHAAR, "_encrypted", "_blind_index"):
        assert secret not in text
    assert rows[0]["after"]["pan_masked"] == "XXXXX1234X"
    assert rows[2]["before"]["aadhaar_masked"] == "XXXX-XXXX-2346"
    assert rows[2]["after"] == {"pan_masked": "XXXXX9876X", "aadhaar_masked": "XXXX-XXXX-7058"}


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("email", {"email": "same@example.com"}, {"email": "SAME@example.com"}),
        ("pan", {"pan": PAN}, {"pan": PAN.lower()}),
        ("aadhaar", {"aadhaar": AADHAAR}, {"aadhaar": "2341-2341-2346"}),
    ],
)
def test_duplicate_email_pan_or_aadhaar_is_a_conflict_on_that_field(org, field, first, second):
    org.hire(**first)
    with pytest.raises(Conflict) as info:
        org.hire(**second)
    assert [e["field"] for e in info.value.errors] == [f"body.{field}"]


def test_duplicate_identifier_through_an_update_is_a_conflict(org):
    org.hire(pan=PAN)
    other = org.hire()
    with pytest.raises(Conflict):
        org.update(other.employee_id, pan=PAN)


def test_the_same_identifiers_may_exist_in_another_tenant(org, stack, platform_actor):
    from hrms.tenants import service as tenants
    from hrms.tenants.models import NewTenant

    org.hire(pan=PAN, aadhaar=AADHAAR, email="x@example.com")
    slug = f"t-{uuid4().hex[:10]}"
    other = _make_org(
        tenants.create_tenant(
            NewTenant(name="Other", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
        )
    )
    assert other.hire(pan=PAN, aadhaar=AADHAAR, email="x@example.com").pan_masked == "XXXXX1234X"


def test_unknown_department_designation_and_manager_are_422_per_field(org):
    with pytest.raises(Invalid) as info:
        org.hire(departmentId=str(uuid4()), designationId=str(uuid4()), managerId=str(uuid4()))
    assert {e["field"] for e in info.value.errors} == {"body.departmentId", "body.designationId", "body.managerId"}


def test_terminated_manager_is_refused(org):
    boss = org.hire(first="Boss")
    service.terminate_employee(org.tenant, org.admin, "all", boss.employee_id, None)
    with pytest.raises(Invalid) as info:
        org.hire(managerId=str(boss.employee_id))
    assert info.value.errors[0]["field"] == "body.managerId"


# ---------------------------------------------------------------- reporting lines


def test_manager_chain_cannot_become_a_cycle(org):
    a = org.hire(first="A")
    b = org.hire(first="B", managerId=str(a.employee_id))
    c = org.hire(first="C", managerId=str(b.employee_id))
    for manager in (c, b, a):  # indirect, direct, self
        with pytest.raises(Invalid) as info:
            org.update(a.employee_id, managerId=str(manager.employee_id))
        assert info.value.errors[0]["field"] == "body.managerId"
    moved = org.update(c.employee_id, managerId=str(a.employee_id))
    assert moved.manager_id == a.employee_id


# ---------------------------------------------------------------- list


def test_list_filters_by_department_designation_manager_status_and_q(org):
    boss = org.hire(first="Meera", last="Iyer")
    ravi = org.hire(first="Ravi", last="Kumar", managerId=str(boss.employee_id))
    sita = org.hire(first="Sita", last="Devi", departmentId=str(org.other_department_id), email="sita.ops@example.com")
    org.update(ravi.employee_id, status="on_leave")

    def ids(**filters: Any) -> set[UUID]:
        return {e.employee_id for e in org.list(**filters)}

    assert ids() == {boss.employee_id, ravi.employee_id, sita.employee_id}
    assert ids(department_id=org.other_department_id) == {sita.employee_id}
    assert ids(designation_id=org.designation_id) == {boss.employee_id, ravi.employee_id, sita.employee_id}
    assert ids(designation_id=uuid4()) == set()
    assert ids(manager_id=boss.employee_id) == {ravi.employee_id}
    assert ids(status="on_leave") == {ravi.employee_id}
    assert ids(q="kUmA") == {ravi.employee_id}
    assert ids(q="meera iyer") == {boss.employee_id}
    assert ids(q="iyer meera") == {boss.employee_id}
    assert ids(q="SITA.OPS@") == {sita.employee_id}
    assert ids(q="%") == set()  # LIKE wildcards are literal
    assert ids(q="_") == set()


def test_keyset_pagination_walks_every_employee_once_in_name_order(org):
    names = [("Zed", "Alpha"), ("Amy", "Alpha"), ("Amy", "Alpha"), ("Bob", "Beta"), ("Cid", "Beta"), ("Dan", "Gamma")]
    names += [("Eve", "Omega"), ("Fay", "Omega")]
    hired = [org.hire(first=f, last=last) for f, last in names]
    seen: list[Any] = []
    cursor = None
    pages = 0
    while True:
        page = service.list_employees(org.tenant, org.admin, "all", Filters(), 3, cursor)
        seen += page.items
        pages += 1
        assert len(page.items) <= 3
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(e.employee_id for e in seen) == sorted(e.employee_id for e in hired)
    keys = [(e.last_name, e.first_name, str(e.employee_id)) for e in seen]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!!",
        encode_cursor(["a", "b"]),
        encode_cursor(["a", "b", "not-a-uuid"]),
        encode_cursor(["\x00", "b", str(uuid4())]),
    ],
)
def test_tampered_cursor_is_a_bad_request(org, cursor):
    with pytest.raises(BadRequest):
        service.list_employees(org.tenant, org.admin, "all", Filters(), 10, cursor)


# ---------------------------------------------------------------- get, update, terminate


def test_get_returns_the_employee_and_404_for_unknown_ids(org):
    employee = org.hire()
    assert service.get_employee(org.tenant, org.admin, "all", employee.employee_id) == employee
    with pytest.raises(NotFound):
        service.get_employee(org.tenant, org.admin, "all", uuid4())


def test_update_changes_fields_and_clears_nullable_ones(org):
    employee = org.hire(pan=PAN, phone="+91 11111 11111")
    updated = org.update(employee.employee_id, firstName="Asha B", pan=None, phone=None, employmentType="contract")
    assert (updated.first_name, updated.pan_masked, updated.phone, updated.employment_type) == (
        "Asha B",
        None,
        None,
        "contract",
    )
    org.hire(pan=PAN)  # the PAN is free again


def test_department_move_and_status_change_invalidate_org_views_but_a_rename_does_not(org):
    employee = org.hire()
    before = org.org_epoch()
    org.update(employee.employee_id, firstName="Renamed")
    assert org.org_epoch() == before
    org.update(employee.employee_id, departmentId=str(org.other_department_id))
    assert org.org_epoch() == before + 1
    org.update(employee.employee_id, status="on_leave")
    assert org.org_epoch() == before + 2


def test_terminate_keeps_the_record_with_a_leaving_date(org):
    employee = org.hire(dateOfJoining="2024-02-01")
    gone = service.terminate_employee(org.tenant, org.admin, "all", employee.employee_id, dt.date(2025, 3, 31))
    assert (gone.status, gone.date_of_leaving) == ("terminated", dt.date(2025, 3, 31))
    again = service.terminate_employee(org.tenant, org.admin, "all", employee.employee_id, None)
    assert again.date_of_leaving == dt.date(2025, 3, 31)  # a repeated DELETE keeps the recorded date
    assert [e.employee_id for e in org.list(status="terminated")] == [employee.employee_id]


def test_terminate_defaults_to_today_and_refuses_a_date_before_joining(org):
    employee = org.hire(dateOfJoining="2024-02-01")
    with pytest.raises(Invalid) as info:
        service.terminate_employee(org.tenant, org.admin, "all", employee.employee_id, dt.date(2024, 1, 31))
    assert info.value.errors[0]["field"] == "body.dateOfLeaving"
    gone = service.terminate_employee(org.tenant, org.admin, "all", employee.employee_id, None)
    assert gone.date_of_leaving is not None
    assert abs((gone.date_of_leaving - dt.date.today()).days) <= 1  # the tenant's today (Asia/Kolkata)


def test_status_drives_the_leaving_date(org):
    employee = org.hire(dateOfJoining="2024-02-01")
    gone = org.update(employee.employee_id, status="terminated")
    assert gone.date_of_leaving is not None
    back = org.update(employee.employee_id, status="active")
    assert (back.status, back.date_of_leaving) == ("active", None)
    with pytest.raises(Invalid):
        org.update(employee.employee_id, status="terminated", dateOfLeaving="2020-01-01")


# ---------------------------------------------------------------- scope


@pytest.fixture
def line(org: Org) -> dict[str, Any]:
    """boss -> lead -> dev (a reporting line), and an outsider."""
    boss = org.hire(first="Boss", last="A")
    lead = org.hire(first="Lead", last="B", managerId=str(boss.employee_id))
    dev = org.hire(first="Dev", last="C", managerId=str(lead.employee_id))
    outsider = org.hire(first="Out", last="D")
    return {"boss": boss, "lead": lead, "dev": dev, "outsider": outsider}


def test_team_scope_sees_the_whole_reporting_line_and_themself(org, line):
    lead = org.user_for(line["lead"].employee_id, "manager")
    assert {e.employee_id for e in org.list("team", lead)} == {line["lead"].employee_id, line["dev"].employee_id}
    boss = org.user_for(line["boss"].employee_id, "manager")
    assert len(org.list("team", boss)) == 3
    assert service.get_employee(org.tenant, boss, "team", line["dev"].employee_id).first_name == "Dev"
    for hidden in ("boss", "outsider"):
        with pytest.raises(NotFound):
            service.get_employee(org.tenant, lead, "team", line[hidden].employee_id)
        with pytest.raises(NotFound):
            balances.leave_balances(org.tenant, lead, "team", line[hidden].employee_id, None)


def test_self_scope_sees_only_the_own_record(org, line):
    dev = org.user_for(line["dev"].employee_id, "employee")
    assert [e.employee_id for e in org.list("self", dev)] == [line["dev"].employee_id]
    assert service.get_employee(org.tenant, dev, "self", line["dev"].employee_id).first_name == "Dev"
    with pytest.raises(NotFound):
        service.get_employee(org.tenant, dev, "self", line["lead"].employee_id)


def test_a_user_without_an_employee_record_sees_nobody_in_a_limited_scope(org, line):
    nobody = org.user_for(None, "manager")
    assert org.list("team", nobody) == []
    assert org.list("self", nobody) == []


def test_team_scoped_writer_cannot_attach_hires_or_edits_outside_the_line(org, line):
    lead = org.user_for(line["lead"].employee_id, "manager")
    with pytest.raises(NotFound):
        service.update_employee(
            org.tenant, lead, "team", line["outsider"].employee_id, EmployeePatch.model_validate({"phone": None})
        )
    with pytest.raises(Invalid):
        service.update_employee(
            org.tenant,
            lead,
            "team",
            line["dev"].employee_id,
            EmployeePatch.model_validate({"managerId": str(line["outsider"].employee_id)}),
        )
