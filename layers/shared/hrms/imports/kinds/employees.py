"""Employees from a file: the rules of POST /employees, for every row, then one set-based write.

Columns (API.md): email, firstName, lastName, departmentCode, designationTitle, dateOfJoining and,
optional, managerEmail, phone, pan, aadhaar, employmentType, employeeCode, role.

Rules, per row:
- every field as `NewEmployee` validates it (names, email, phone, PAN and Aadhaar with their checksums,
  date range, employment type);
- departmentCode names a department (any case); designationTitle a designation of that department,
  or else an organisation-wide one (no department);
- managerEmail names an active employee of the company or another row of the file; the file's
  reporting lines may not loop (a cycle is an error on every row in it);
- email, employeeCode, PAN and Aadhaar are unique within the file and against the company;
- employeeCode (optional: generated `EMP-nnnnnn` otherwise) is kept as given; the code sequence moves
  past an imported `EMP-nnnnnn`, so a later hire never repeats it;
- role (optional) creates a user account for the row, with no password (it cannot sign in until an
  admin resets it), within the importer's rights as on POST /users: they need `users:write` and may
  grant only what they hold (admins only for admin); the email must not have a user yet;
- a row about the importer (their user's or their employee record's email) is an error.

The write, in the run's one transaction: the rows in batches (PII encrypted as employees/service.py
does), user accounts through the users repository (audited `user.created`), reporting lines set once
every row exists, one `employee.created` audit row per employee holding the stored row (as POST
/employees writes it: an auditor finds every employee's creation the same way, whichever way they
came), and one `joining` change for everyone, which allocates their leave balances as a hire does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from hrms import pii
from hrms.auth import accounts, policy
from hrms.auth.permissions import held
from hrms.cache import views
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx
from hrms.employees import repo as employees
from hrms.employees.identifiers import stored_columns
from hrms.employees.models import NewEmployee
from hrms.employees.service import REPORTING_NAMESPACE
from hrms.errors import DomainError
from hrms.imports import repo
from hrms.imports.columns import Columns, Record
from hrms.imports.kinds.common import SELF, Importer, model_problems
from hrms.imports.problems import Problem
from hrms.tenancy import TENANT_ROLES
from hrms.users import repo as users

COLUMNS = Columns(
    required=("email", "firstName", "lastName", "departmentCode", "designationTitle", "dateOfJoining"),
    optional=("managerEmail", "phone", "pan", "aadhaar", "employmentType", "employeeCode", "role"),
)
_MODEL_COLUMNS = {"departmentId": "departmentCode", "designationId": "designationTitle", "managerId": "managerEmail"}
_PLACEHOLDER = UUID(int=0)  # a reference already reported (or resolved later) while the model checks the rest
_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
_CODE_RULE = "Up to 32 letters, digits and . _ / - (a letter or digit first)."
_GENERATED = re.compile(r"^EMP-([0-9]{6,})$")
# An account created by an import has no password: no Argon2 hash verifies against this, so the person
# signs in only after an admin reset (POST /users/{id}/reset-password).
NO_PASSWORD = "!imported-without-password"  # noqa: S105 - not a password, the mark of none
_INSERTED = (
    "id",
    "employee_code",
    "email",
    "first_name",
    "last_name",
    "phone",
    "department_id",
    "designation_id",
    "employment_type",
    "date_of_joining",
    "pan_encrypted",
    "pan_blind_index",
    "pan_masked",
    "aadhaar_encrypted",
    "aadhaar_blind_index",
    "aadhaar_masked",
)


@dataclass(slots=True)
class _Person:
    """What the whole-file rules need of a row: kept for every row, so kept small."""

    line: int
    id: UUID
    manager: str | None  # the manager's email, lower case


@dataclass(frozen=True)
class _Row:
    """A row as parsed: `new` is None when its fields broke a rule."""

    line: int
    new: NewEmployee | None
    email: str | None
    code: str | None
    role: str | None
    manager: str | None


def checker(importer: Importer) -> Checker:
    return Checker(importer)


class Checker:
    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.people: dict[str, _Person] = {}
        self.codes: dict[str, int] = {}
        self.identifiers: dict[tuple[str, bytes], int] = {}
        self.managers: dict[str, UUID] = {}  # managers who are employees of the company already
        self.pending: list[tuple[int, str]] = []  # managers not found yet: a later row, or nobody
        self.grants: dict[str, str | None] = {}  # role -> why the importer may not grant it
        self.departments: dict[str, UUID] | None = None
        self.designations: dict[tuple[UUID | None, str], UUID] = {}

    # ------------------------------------------------------------ first pass

    def check(self, tx: TenantTx, records: list[Record]) -> list[Problem]:
        self._load_references(tx)
        found: list[Problem] = []
        valid: list[_Row] = []
        for record in records:
            row, problems = self._parse(tx, record)
            problems += self._register(row)
            found += problems
            if not problems:
                valid.append(row)
        return found + self._against_company(tx, valid) + self._company_managers(tx)

    def finish(self, tx: TenantTx) -> list[Problem]:
        found = [
            Problem(line, "managerEmail", "No employee has this email, in the company or in this file.")
            for line, manager in self.pending
            if manager not in self.people
        ]
        return found + self._cycles()

    def _load_references(self, tx: TenantTx) -> None:
        if self.departments is None:
            self.departments = {ref.key: ref.id for ref in repo.departments(tx)}
            self.designations = {(d.department_id, d.title): d.id for d in repo.designations(tx)}

    def _parse(self, tx: TenantTx, record: Record) -> tuple[_Row, list[Problem]]:
        """The row and the errors of its own fields (no other row involved)."""
        line = record.line
        problems: list[Problem] = []
        fields: dict[str, Any] = {
            key: value
            for key in ("email", "firstName", "lastName", "dateOfJoining", "phone", "pan", "aadhaar", "employmentType")
            if (value := record.get(key)) is not None
        }
        fields["departmentId"], fields["designationId"] = self._org_refs(record, problems)
        manager = (record.get("managerEmail") or "").lower() or None
        if manager is not None:
            fields["managerId"] = _PLACEHOLDER
        new: NewEmployee | None
        try:
            new = NewEmployee.model_validate(fields)
        except ValidationError as exc:
            problems += model_problems(line, exc, _MODEL_COLUMNS)
            new = None
        email = new.email if new is not None else (record.get("email") or "").lower() or None
        if email is not None and self.importer.is_self(email=email):
            problems.append(Problem(line, "email", SELF))
        code = record.get("employeeCode")
        if code is not None and not _CODE_PATTERN.fullmatch(code):
            problems.append(
                Problem(line, "employeeCode", "Up to 32 letters, digits and . _ / - (a letter or digit first).")
            )
        role = (record.get("role") or "").lower() or None
        if role is not None and (why := self._grant_problem(tx, role)):
            problems.append(Problem(line, "role", why))
        return _Row(line, new, email, code, role, manager), problems

    def _register(self, row: _Row) -> list[Problem]:
        """The row's keys against the rows before it (duplicates); remembered for later rows and `finish`."""
        found = []
        if row.email is not None:
            if row.email in self.people:
                found.append(Problem(row.line, "email", f"Also on line {self.people[row.email].line}."))
            else:
                self.people[row.email] = _Person(row.line, uuid4(), row.manager)
        if row.manager is not None and row.manager not in self.people:
            self.pending.append((row.line, row.manager))
        if row.code is not None:
            if row.code in self.codes:
                found.append(Problem(row.line, "employeeCode", f"Also on line {self.codes[row.code]}."))
            else:
                self.codes[row.code] = row.line
        for field in ("pan", "aadhaar"):
            value = getattr(row.new, field) if row.new is not None else None
            if value is None:
                continue
            key = (field, self._blind(field, value))
            if key in self.identifiers:
                found.append(Problem(row.line, field, f"Also on line {self.identifiers[key]}."))
            else:
                self.identifiers[key] = row.line
        return found

    def _org_refs(self, record: Record, problems: list[Problem]) -> tuple[UUID | None, UUID | None]:
        assert self.departments is not None
        code, title = record.get("departmentCode"), record.get("designationTitle")
        department = self.departments.get(code.lower()) if code else None
        if code and department is None:
            problems.append(Problem(record.line, "departmentCode", "No department has this code."))
        designation = None
        if title and department is not None:
            key = title.lower()
            designation = self.designations.get((department, key)) or self.designations.get((None, key))
            if designation is None:
                problems.append(
                    Problem(record.line, "designationTitle", "No designation has this title in the department.")
                )
        return (
            (department or _PLACEHOLDER) if code else None,
            (designation or _PLACEHOLDER) if title else None,
        )

    def _grant_problem(self, tx: TenantTx, role: str) -> str | None:
        if role not in self.grants:
            self.grants[role] = _why_not_grant(tx, self.importer, role)
        return self.grants[role]

    def _against_company(self, tx: TenantTx, valid: list[_Row]) -> list[Problem]:
        """The chunk's keys the company already holds, in one query each."""
        news = [(row, row.new) for row in valid if row.new is not None]
        emails = repo.taken(tx, "employees", "email", [new.email for _, new in news], lower=True)
        user_emails = repo.taken(tx, "users", "email", [new.email for row, new in news if row.role], lower=True)
        codes = repo.taken(tx, "employees", "employee_code", [row.code for row in valid if row.code])
        blind = {
            field: repo.taken(
                tx,
                "employees",
                f"{field}_blind_index",
                [self._blind(field, getattr(new, field)) for _, new in news if getattr(new, field)],
            )
            for field in ("pan", "aadhaar")
        }
        found: list[Problem] = []
        for row, new in news:
            if new.email in emails:
                found.append(Problem(row.line, "email", "An employee with this email already exists."))
            if row.role and new.email in user_emails:
                found.append(Problem(row.line, "role", "A user with this email already exists."))
            if row.code in codes:
                found.append(Problem(row.line, "employeeCode", "An employee with this code already exists."))
            for field in ("pan", "aadhaar"):
                value = getattr(new, field)
                if value and self._blind(field, value) in blind[field]:
                    found.append(Problem(row.line, field, "Another employee of the company has the same number."))
        return found

    def _company_managers(self, tx: TenantTx) -> list[Problem]:
        """Managers not (yet) found in the file, looked up among the company's employees."""
        wanted = {manager for _, manager in self.pending if manager not in self.managers}
        known = {ref.key: ref for ref in repo.employees_by_email(tx, wanted)} if wanted else {}
        found, pending = [], []
        for line, manager in self.pending:
            ref = known.get(manager)
            if ref is not None and ref.status == "terminated":
                found.append(Problem(line, "managerEmail", "The manager has left the organisation."))
            elif ref is not None:
                self.managers[manager] = ref.id
            elif manager not in self.managers:
                pending.append((line, manager))
        self.pending = pending
        return found

    def _cycles(self) -> list[Problem]:
        """Rows whose reporting line, through other rows of the file, comes back to them."""
        state: dict[str, int] = {}  # 1: on the current walk, 2: done
        looped: set[str] = set()
        for start in self.people:
            walk: list[str] = []
            email: str | None = start
            while email is not None and email in self.people and email not in state:
                state[email] = 1
                walk.append(email)
                email = self.people[email].manager
            if email is not None and state.get(email) == 1:
                looped.update(walk[walk.index(email) :])
            for member in walk:
                state[member] = 2
        message = "The reporting line loops back to this employee (managerEmail, through this file)."
        return [Problem(self.people[email].line, "managerEmail", message) for email in looped]

    def _blind(self, field: str, value: str) -> bytes:
        return pii.cipher().blind_index(self.importer.tenant_id, field, value)

    # ------------------------------------------------------------ second pass

    def write(self, tx: TenantTx, chunks: Iterator[list[Record]]) -> int:
        ids: list[UUID] = []
        lines: list[tuple[UUID, UUID]] = []
        highest = 0
        for records in chunks:
            values, accounts_ = [], []
            for record in records:
                row, _ = self._parse(tx, record)
                assert row.new is not None and row.email is not None  # the first pass found no error
                person = self.people[row.email]
                code = row.code or employees.next_employee_code(tx)
                if generated := _GENERATED.fullmatch(code):
                    highest = max(highest, int(generated.group(1)))
                values.append(self._values(person.id, code, row.new))
                if row.manager:
                    manager = self.people.get(row.manager)
                    lines.append((person.id, manager.id if manager else self.managers[row.manager]))
                if row.role:
                    accounts_.append(
                        {
                            "email": row.email,
                            "role": row.role,
                            "employee_id": person.id,
                            "password_hash": NO_PASSWORD,
                            "must_change_password": True,
                        }
                    )
                ids.append(person.id)
            repo.insert_many(tx, "employees", _INSERTED, values)
            for account in accounts_:
                users.insert(tx, account)
        if lines:
            views.invalidate(tx, REPORTING_NAMESPACE)  # as a manager change does
            repo.set_managers(tx, lines)
        repo.audit_created(tx, "employees", employees.ENTITY, ids)
        if highest:
            repo.advance_employee_codes(tx, highest)
        declare(tx, Change("joining", employee_ids=tuple(ids)))
        declare(tx, Change("headcount"))
        declare(tx, Change("employee"))
        return len(ids)

    def _values(self, employee_id: UUID, code: str, new: NewEmployee) -> tuple[Any, ...]:
        identifiers: list[Any] = []
        for field in ("pan", "aadhaar"):
            identifiers += stored_columns(self.importer.tenant_id, field, getattr(new, field)).values()
        return (
            employee_id,
            code,
            new.email,
            new.first_name,
            new.last_name,
            new.phone,
            new.department_id,
            new.designation_id,
            new.employment_type,
            new.date_of_joining,
            *identifiers,
        )


def _why_not_grant(tx: TenantTx, importer: Importer, role: str) -> str | None:
    """Why the importer may not create a user with `role` (None if they may): POST /users's rules."""
    if role not in TENANT_ROLES:
        return f"Must be one of {', '.join(TENANT_ROLES)}."
    if policy.scope_of(held(tx, importer.actor), "users:write") is None:
        return "Creating user accounts needs the users:write permission."
    try:
        accounts.check_may_grant_role(tx, importer.actor, role)
    except DomainError as exc:
        return exc.detail
    return None
