"""Bulk import through the services and the worker (real PostgreSQL, S3 and queue consumer; no HTTP):
employees from CSV and XLSX, all or nothing, every refusal with its reason, started once."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import httpx
import pytest
from psycopg import sql

from hrms.auth.passwords import verify_password
from hrms.errors import Conflict, NotFound
from hrms.imports import columns, service
from hrms.imports.kinds.employees import NO_PASSWORD
from hrms.imports.models import XLSX, StartImport
from hrms.tenancy import Actor, Tenant
from tests.integration.import_files import (
    EMPLOYEE_HEADER,
    count,
    create,
    csv_bytes,
    deliver,
    people,
    run,
    started_event,
    xlsx_bytes,
)
from tests.integration.leave_world import World

PAN = "ABCDE1234F"
AADHAAR = "234123412346"


def org_of_200() -> tuple[list[str], list[list[str]]]:
    """200 people: the first is everyone's manager but the last 20, who report to a later row
    (a manager further down the file); a few with PAN/Aadhaar, codes and user accounts."""
    header = [*EMPLOYEE_HEADER, "managerEmail", "pan", "aadhaar", "employeeCode", "role"]
    base = people(200)
    rows = []
    for n, row in enumerate(base):
        manager = "" if n == 0 else base[199][0] if n >= 180 and n != 199 else base[0][0]
        rows.append(
            [
                *row,
                manager,
                PAN if n == 5 else "",
                AADHAAR if n == 6 else "",
                f"IMP-{n}" if n < 10 else "",
                "employee" if n in (7, 8) else "",
            ]
        )
    return header, rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_200_employees_are_imported_with_managers_audit_balances_and_accounts(world: World, fmt: str) -> None:
    header, rows = org_of_200()
    content = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes(header, rows)
    job = run(world.tenant, world.admin, "employees", content, XLSX if fmt == "xlsx" else "text/csv")

    assert (job.status, job.total, job.succeeded, job.failed, job.errors) == ("succeeded", 200, 200, 0, [])
    assert job.finished_at is not None and job.error_report_url is None
    found = world.query(
        sql.SQL(
            "SELECT e.email, e.employee_code, m.email AS manager, e.pan_masked, e.aadhaar_masked, e.pan_encrypted"
            " FROM {e} e LEFT JOIN {e} m ON m.id = e.manager_id"
        ).format(e=world.t("employees"))
    )
    by_email = {row["email"]: row for row in found}
    assert len(by_email) == 200
    assert by_email[rows[3][0]]["manager"] == rows[0][0]
    assert by_email[rows[185][0]]["manager"] == rows[199][0]  # a manager further down the file
    assert by_email[rows[0][0]]["manager"] is None
    assert by_email[rows[4][0]]["employee_code"] == "IMP-4"
    assert by_email[rows[50][0]]["employee_code"].startswith("EMP-")
    assert by_email[rows[5][0]]["pan_masked"] == "XXXXX1234X"
    assert PAN.encode() not in bytes(by_email[rows[5][0]]["pan_encrypted"])
    assert by_email[rows[6][0]]["aadhaar_masked"] == "XXXX-XXXX-2346"
    # one employee.created audit row per employee, by the importer, without ciphertexts
    audits = world.query(
        sql.SQL("SELECT actor_id, after FROM {} WHERE action = 'employee.created'").format(world.t("audit_logs"))
    )
    assert len(audits) == 200 and {a["actor_id"] for a in audits} == {world.admin.user_id}
    assert all("pan_encrypted" not in a["after"] and "pan_blind_index" not in a["after"] for a in audits)
    # leave balances allocated as for a hire
    assert count(world.tenant, "employee_leave_balance") >= 200
    # user accounts for the rows with a role, with no password that could ever verify
    accounts = world.query(
        sql.SQL("SELECT email, role, password_hash, employee_id FROM {} WHERE role = 'employee'").format(
            world.t("users")
        )
    )
    assert sorted(a["email"] for a in accounts) == sorted([rows[7][0], rows[8][0]])
    assert all(a["password_hash"] == NO_PASSWORD and a["employee_id"] is not None for a in accounts)
    assert not verify_password(accounts[0]["password_hash"], "")
    assert not verify_password(accounts[0]["password_hash"], NO_PASSWORD)


def test_one_bad_row_writes_nothing_and_names_that_row(world: World) -> None:
    rows = people(50)
    rows[25][1] = ""  # firstName blank: line 27 (header is line 1)
    job = run(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows))

    assert (job.status, job.total, job.succeeded, job.failed) == ("failed", 50, 0, 1)
    assert [(e.row, e.column) for e in job.errors] == [(27, "firstName")]
    assert "nothing was written" in (job.reason or "")
    assert count(world.tenant, "employees") == 0
    assert count(world.tenant, "audit_logs", "action = 'employee.created'") == 0
    report = httpx.get(job.error_report_url or "")
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.text)))
    assert lines[0] == ["row", "column", "message"] and [line[:2] for line in lines[1:]] == [["27", "firstName"]]


def test_row_errors_cover_references_duplicates_cycles_identifiers_and_the_importer(world: World) -> None:
    existing = people(1)[0]
    assert run(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, [existing])).status == "succeeded"
    me = world.query(sql.SQL("SELECT email FROM {} WHERE id = %s").format(world.t("users")), (world.admin.user_id,))
    header = [*EMPLOYEE_HEADER, "managerEmail", "pan", "aadhaar", "employeeCode"]
    rows = [[*row, "", "", "", ""] for row in people(12)]
    rows[0][0] = existing[0].upper()  # line 2: already an employee (any case)
    rows[1][3] = "NOPE"  # line 3: no such department
    rows[2][4] = "Astronaut"  # line 4: no such designation
    rows[3][6], rows[4][6] = "a@b.example.com", rows[5][0]  # line 5: unknown manager; line 6: a later row
    rows[5][6] = rows[4][0]  # line 7 manages 6 and 6 manages 7: a cycle
    rows[6][7] = "ABCDE12345"  # line 8: not a PAN
    rows[7][8] = "234123412345"  # line 9: Aadhaar checksum
    rows[8][9] = rows[9][9] = "DUP-1"  # lines 10 and 11: the same code
    rows[10][0] = rows[11][0] = rows[10][0]  # line 13 repeats line 12's email
    rows.append([me[0]["email"], "Ad", "Min", "ENG", "Engineer", "2024-01-01", "", "", "", ""])  # line 14: me
    job = run(world.tenant, world.admin, "employees", csv_bytes(header, rows))

    assert job.status == "failed"
    assert sorted((e.row, e.column) for e in job.errors) == [
        (2, "email"),
        (3, "departmentCode"),
        (4, "designationTitle"),
        (5, "managerEmail"),
        (6, "managerEmail"),
        (7, "managerEmail"),
        (8, "pan"),
        (9, "aadhaar"),
        (11, "employeeCode"),
        (13, "email"),
        (14, "email"),
    ]
    assert all(str(e.row) not in e.message or "line" in e.message for e in job.errors)
    assert count(world.tenant, "employees") == 1


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/csv", "not CSV text"),
        (b"email\x00,firstName\n", "text/csv", "NUL"),
        (b"email,firstName\n", XLSX, "not one"),
        (b"PK\x03\x04not really a zip", "text/csv", "ZIP"),
        (b"PK\x03\x04not really a zip", XLSX, "not a readable XLSX"),
        (b"\n\n", "text/csv", "no header"),
        (b"a@b.example.com,Asha,Rao,ENG,Engineer,2024-01-01\n", "text/csv", "unknown column"),
        (b"email,EMAIL,firstName,lastName,departmentCode,designationTitle,dateOfJoining\n", "text/csv", "named twice"),
        (b"email,firstName,lastName\nx@y.example.com,A,B\n", "text/csv", "missing required column(s) departmentCode"),
        (b"email,firstName,lastName,departmentCode,designationTitle,dateOfJoining\n", "text/csv", "no data rows"),
        ("email\nd\u00e9j\u00e0\n".encode("latin-1"), "text/csv", "UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_its_reason(
    world: World, content: bytes, content_type: str, reason: str
) -> None:
    job = run(world.tenant, world.admin, "employees", content, content_type)
    assert job.status == "failed" and reason in (job.reason or ""), job.reason
    assert count(world.tenant, "employees") == 0


def test_more_rows_than_the_limit_fails_the_file(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns, "MAX_ROWS", 5)
    job = run(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, people(6)))
    assert job.status == "failed" and "more than 5 data rows" in (job.reason or "")
    assert count(world.tenant, "employees") == 0


def test_header_is_case_insensitive_in_any_order(world: World) -> None:
    header = ["DATEOFJOINING", " designationtitle ", "Email", "LASTNAME", "firstname", "DepartmentCode"]
    rows = [[r[5], r[4], r[0], r[2], r[1], r[3]] for r in people(3)]
    assert run(world.tenant, world.admin, "employees", csv_bytes(header, rows)).succeeded == 3


def test_dry_run_writes_nothing_and_may_then_run_for_real(world: World) -> None:
    import_id = create(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, people(5)))
    service.start_import(world.tenant, world.admin, import_id, StartImport(dry_run=True))
    deliver(started_event(world.tenant, import_id))
    dry = service.get_import(world.tenant, world.admin, import_id)
    assert (dry.status, dry.dry_run, dry.succeeded) == ("succeeded", True, 5)
    assert count(world.tenant, "employees") == 0

    service.start_import(world.tenant, world.admin, import_id, StartImport(dry_run=False))
    deliver(started_event(world.tenant, import_id))
    real = service.get_import(world.tenant, world.admin, import_id)
    assert (real.status, real.dry_run, real.succeeded) == ("succeeded", False, 5)
    assert count(world.tenant, "employees") == 5

    with pytest.raises(Conflict) as refused:
        service.start_import(world.tenant, world.admin, import_id, StartImport())
    assert refused.value.extra["result"]["status"] == "succeeded"


def test_started_twice_concurrently_runs_once(world: World) -> None:
    import_id = create(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, people(20)))
    outcomes: list[Any] = []

    def start() -> None:
        try:
            outcomes.append(service.start_import(world.tenant, world.admin, import_id, StartImport()).status)
        except Conflict as exc:
            outcomes.append(exc.extra["importStatus"])

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["queued"] * 4 and count(world.tenant, "outbox", "event_type = 'import.started'") == 1
    event = started_event(world.tenant, import_id)
    deliver(event)
    deliver(event)  # delivered twice (at least once): the second finds the import finished
    assert count(world.tenant, "employees") == 20
    assert count(world.tenant, "audit_logs", "action = 'import.succeeded'") == 1


def test_start_before_the_upload_is_a_conflict_naming_it(world: World) -> None:
    from hrms.imports.models import NewImport

    upload = service.create_import(
        world.tenant,
        world.admin,
        NewImport(kind="employees", file_name="x.csv", content_type="text/csv", size_bytes=10),
    )
    assert service.get_import(world.tenant, world.admin, upload.import_id).status == "created"
    with pytest.raises(Conflict) as refused:
        service.start_import(world.tenant, world.admin, upload.import_id, StartImport())
    assert refused.value.extra["rule"] == "not-uploaded"
    assert service.get_import(world.tenant, world.admin, upload.import_id).status == "created"
    assert count(world.tenant, "outbox") == 0


def test_another_tenants_import_is_not_found(world: World, other_tenant: Any) -> None:
    import_id = create(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, people(1)))
    other = Tenant(other_tenant.tenant_id, other_tenant.schema_name)
    stranger = Actor(world.admin.user_id, "admin", other)
    with pytest.raises(NotFound):
        service.get_import(other, stranger, import_id)
    with pytest.raises(NotFound):
        service.start_import(other, stranger, import_id, StartImport())


def test_the_same_file_in_a_new_import_fails_on_duplicates(world: World) -> None:
    content = csv_bytes(EMPLOYEE_HEADER, people(3))
    assert run(world.tenant, world.admin, "employees", content).status == "succeeded"
    again = run(world.tenant, world.admin, "employees", content)
    assert again.status == "failed" and {e.message for e in again.errors} == {
        "An employee with this email already exists."
    }
    assert count(world.tenant, "employees") == 3


def test_imports_are_listed_newest_first_in_pages(world: World) -> None:
    ids = [create(world.tenant, world.admin, "employees", csv_bytes(EMPLOYEE_HEADER, people(1))) for _ in range(3)]
    first = service.list_imports(world.tenant, world.admin, 2, None)
    assert [job.import_id for job in first.items] == ids[::-1][:2] and first.next_cursor
    second = service.list_imports(world.tenant, world.admin, 2, first.next_cursor)
    assert [job.import_id for job in second.items] == [ids[0]] and second.next_cursor is None
