"""Salaries from a file: the rules of POST /employees/{id}/salaries, for every row.

Columns: employeeEmail, salaryStructureName, annualCtc, effectiveFrom.

Rules, per row: the employee exists (by email, any case) and is not the importer (`own-salary`); the
structure is active (by name, any case); annualCtc and effectiveFrom as `NewEmployeeSalary` checks
them; no payroll approved or processed for effectiveFrom's month or later (that pay is settled); one
salary per employee and effectiveFrom, within the file and against the company. The write copies the
structure's components as the API does, and audits each salary (`employee_salary.created`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from psycopg.types.json import Jsonb
from pydantic import ValidationError

from hrms.db.postgres import TenantTx
from hrms.imports import repo
from hrms.imports.columns import Columns, Record
from hrms.imports.kinds.common import SELF, Importer, model_problems
from hrms.imports.problems import Problem
from hrms.payroll import repo as payroll
from hrms.payroll.models import NewEmployeeSalary

COLUMNS = Columns(required=("employeeEmail", "salaryStructureName", "annualCtc", "effectiveFrom"))
_MODEL_COLUMNS = {"salaryStructureId": "salaryStructureName"}
_PLACEHOLDER = UUID(int=0)
_INSERTED = ("id", "employee_id", "salary_structure_id", "annual_ctc", "components", "effective_from")


@dataclass(frozen=True)
class _Row:
    line: int
    email: str | None
    salary: NewEmployeeSalary | None


def checker(importer: Importer) -> Checker:
    return Checker(importer)


class Checker:
    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.structures: dict[str, UUID] | None = None
        self.components: dict[UUID, Any] = {}
        self.settled: dict[dt.date, str | None] = {}
        self.seen: dict[tuple[str, dt.date], int] = {}

    def check(self, tx: TenantTx, records: list[Record]) -> list[Problem]:
        found: list[Problem] = []
        rows = []
        for record in records:
            row, problems = self._parse(tx, record)
            found += problems
            if row.salary is not None and row.email is not None:
                key = (row.email, row.salary.effective_from)
                if key in self.seen:
                    found.append(
                        Problem(row.line, "effectiveFrom", f"The same employee and date as line {self.seen[key]}.")
                    )
                else:
                    self.seen[key] = row.line
                    rows.append(row)
        people = self._employees(tx, rows)
        taken = repo.salaries_taken(
            tx, [(people[r.email], r.salary.effective_from) for r in rows if r.email in people and r.salary]
        )
        for row in rows:
            employee = people.get(row.email or "")
            assert row.salary is not None
            if employee is None:
                found.append(Problem(row.line, "employeeEmail", "No employee has this email."))
            elif self.importer.is_self(employee_id=employee):
                found.append(Problem(row.line, "employeeEmail", SELF))
            elif (employee, row.salary.effective_from) in taken:
                found.append(Problem(row.line, "effectiveFrom", "The employee already has a salary from this date."))
        return found

    def finish(self, tx: TenantTx) -> list[Problem]:
        return []

    def write(self, tx: TenantTx, chunks: Iterator[list[Record]]) -> int:
        written = 0
        for records in chunks:
            rows = [self._parse(tx, record)[0] for record in records]
            people = self._employees(tx, rows)
            values = []
            for row in rows:
                assert row.salary is not None and row.email is not None  # the first pass found no error
                structure = row.salary.salary_structure_id
                if structure not in self.components:
                    found = payroll.structure(tx, structure)
                    assert found is not None
                    self.components[structure] = found.components
                values.append(
                    (
                        uuid4(),
                        people[row.email],
                        structure,
                        row.salary.annual_ctc,
                        Jsonb(self.components[structure]),
                        row.salary.effective_from,
                    )
                )
            repo.insert_many(tx, "employee_salaries", _INSERTED, values)
            repo.audit_created(tx, "employee_salaries", payroll.SALARY, [v[0] for v in values])
            written += len(values)
        return written

    def _parse(self, tx: TenantTx, record: Record) -> tuple[_Row, list[Problem]]:
        if self.structures is None:
            self.structures = {ref.key: ref.id for ref in repo.structures(tx)}
        problems: list[Problem] = []
        fields: dict[str, Any] = {
            "annualCtc": record.get("annualCtc"),
            "effectiveFrom": record.get("effectiveFrom"),
        }
        name = record.get("salaryStructureName")
        structure = self.structures.get(name.lower()) if name else None
        if name and structure is None:
            problems.append(Problem(record.line, "salaryStructureName", "No active salary structure has this name."))
        fields["salaryStructureId"] = (structure or _PLACEHOLDER) if name else None
        salary: NewEmployeeSalary | None = None
        try:
            salary = NewEmployeeSalary.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            problems += model_problems(record.line, exc, _MODEL_COLUMNS)
        email = (record.get("employeeEmail") or "").lower() or None
        if email is None:
            problems.append(Problem(record.line, "employeeEmail", "Field required."))
        if salary is not None and not problems:
            settled = self._settled(tx, salary.effective_from)
            if settled:
                problems.append(
                    Problem(record.line, "effectiveFrom", f"Payroll is already approved or processed for {settled}.")
                )
        return _Row(record.line, email, None if problems else salary), problems

    def _settled(self, tx: TenantTx, day: dt.date) -> str | None:
        if day not in self.settled:
            self.settled[day] = payroll.last_settled_month(tx, day)
        return self.settled[day]

    @staticmethod
    def _employees(tx: TenantTx, rows: list[_Row]) -> dict[str, UUID]:
        emails = {row.email for row in rows if row.email}
        return {ref.key: ref.id for ref in repo.employees_by_email(tx, emails)} if emails else {}
