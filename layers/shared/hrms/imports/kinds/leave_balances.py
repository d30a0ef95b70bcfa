"""Opening leave balances from a file: each row sets the entitlement of one employee, leave type and
leave year to an absolute number of days (`hrms.leave.balances.set_opening_balances`: the difference
is recorded as an `opening` adjustment, audited).

Columns: employeeEmail, leaveTypeCode, year, days.

Rules, per row: the employee exists (by email) and is not the importer; the leave type is active (by
code, any case); year is a leave year's name (the calendar year it starts in) and days 0 or more in
half-day steps; one row per employee, type and year in the file; and whatever
`hrms.leave.balances.opening_problems` finds (a year the employee was not employed in, or beyond next
year; fewer days than already used or pending; the importer's own balance).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field, ValidationError

from hrms.db.postgres import TenantTx
from hrms.imports import repo
from hrms.imports.columns import Columns, Record
from hrms.imports.kinds.common import SELF, Importer, model_problems
from hrms.imports.problems import Problem
from hrms.leave.balances import Opening, opening_problems, set_opening_balances
from hrms.leave.models import Days
from hrms.models import InputModel

COLUMNS = Columns(required=("employeeEmail", "leaveTypeCode", "year", "days"))


class _Amount(InputModel):
    year: Annotated[int, Field(ge=1900, le=2999)]
    days: Days


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    leave_type_id: UUID
    year: int
    days: Decimal


def checker(importer: Importer) -> Checker:
    return Checker(importer)


class Checker:
    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self.types: dict[str, UUID] | None = None
        self.seen: dict[tuple[str, UUID, int], int] = {}

    def check(self, tx: TenantTx, records: list[Record]) -> list[Problem]:
        found: list[Problem] = []
        rows = []
        for record in records:
            row, problems = self._parse(tx, record)
            found += problems
            if row is None:
                continue
            key = (row.email, row.leave_type_id, row.year)
            if key in self.seen:
                found.append(
                    Problem(row.line, "year", f"The same employee, leave type and year as line {self.seen[key]}.")
                )
            else:
                self.seen[key] = row.line
                rows.append(row)
        people = _employees(tx, rows)
        openings, lines = [], []
        for row in rows:
            employee = people.get(row.email)
            if employee is None:
                found.append(Problem(row.line, "employeeEmail", "No employee has this email."))
            elif self.importer.is_self(employee_id=employee):
                found.append(Problem(row.line, "employeeEmail", SELF))
            else:
                openings.append(Opening(employee, row.leave_type_id, row.year, row.days))
                lines.append(row.line)
        for index, message in opening_problems(tx, openings).items():
            found.append(Problem(lines[index], "days", message[:1].upper() + message[1:] + "."))
        return found

    def finish(self, tx: TenantTx) -> list[Problem]:
        return []

    def write(self, tx: TenantTx, chunks: Iterator[list[Record]]) -> int:
        written = 0
        reason = f"Opening balance imported (import {self.importer.import_id})"
        for records in chunks:
            rows = [row for record in records if (row := self._parse(tx, record)[0]) is not None]
            people = _employees(tx, rows)
            openings = [Opening(people[r.email], r.leave_type_id, r.year, r.days) for r in rows]
            set_opening_balances(tx, openings, reason)
            written += len(openings)
        return written

    def _parse(self, tx: TenantTx, record: Record) -> tuple[_Row | None, list[Problem]]:
        if self.types is None:
            self.types = {ref.key: ref.id for ref in repo.leave_types(tx)}
        problems: list[Problem] = []
        email = (record.get("employeeEmail") or "").lower()
        if not email:
            problems.append(Problem(record.line, "employeeEmail", "Field required."))
        code = record.get("leaveTypeCode")
        leave_type = self.types.get(code.lower()) if code else None
        if leave_type is None:
            message = "No active leave type has this code." if code else "Field required."
            problems.append(Problem(record.line, "leaveTypeCode", message))
        amount = None
        try:
            amount = _Amount.model_validate({k: v for k in ("year", "days") if (v := record.get(k)) is not None})
        except ValidationError as exc:
            problems += model_problems(record.line, exc, {})
        if problems or amount is None or leave_type is None:
            return None, problems
        return _Row(record.line, email, leave_type, amount.year, amount.days), []


def _employees(tx: TenantTx, rows: list[_Row]) -> dict[str, UUID]:
    emails = {row.email for row in rows}
    return {ref.key: ref.id for ref in repo.employees_by_email(tx, emails)} if emails else {}
