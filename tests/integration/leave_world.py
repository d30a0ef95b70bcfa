"""A tenant with a small organisation for the leave and approval tests (services, no HTTP).

Employees are hired through the employees service with dateOfJoining 2024-01-01. A hire allocates
only the current leave year (nothing retroactive), so `hire` also gives them the joining year's
allocation, as the tenant's rollover of that year would have: their 2024 balances exist (annual 18,
sick 12, casual 6, unpaid 0; carry-forward cap of annual: 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from psycopg import sql

from hrms.auth.users import find_user_by_email
from hrms.db.postgres import tenant_tx, transaction
from hrms.employees import service as employees
from hrms.employees.models import NewEmployee
from hrms.leave import repo as leave_repo
from hrms.leave import service
from hrms.leave.models import LeaveRequest
from hrms.leave.years import LeaveYear
from hrms.tenancy import Actor, Tenant


@dataclass
class World:
    tenant: Tenant
    admin: Actor
    department_id: UUID
    designation_id: UUID

    @classmethod
    def create(cls, created: Any) -> World:
        tenant = Tenant(created.tenant_id, created.schema_name)
        admin_user = find_user_by_email(created.slug, created.admin_email)
        world = cls(tenant, Actor(str(admin_user.user_id), "admin", tenant), uuid4(), uuid4())
        world.query(
            sql.SQL("INSERT INTO {} (id, name, code) VALUES (%s, 'Engineering', 'ENG')").format(world.t("departments")),
            (world.department_id,),
        )
        world.query(
            sql.SQL("INSERT INTO {} (id, title) VALUES (%s, 'Engineer')").format(world.t("designations")),
            (world.designation_id,),
        )
        return world

    def t(self, table: str) -> sql.Identifier:
        return sql.Identifier(self.tenant.schema_name, table)

    def query(self, query: sql.Composable, params: Any = None) -> list[dict[str, Any]]:
        with transaction() as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def hire(self, manager_id: UUID | None = None, joined: str = "2024-01-01", *, history: bool = True) -> UUID:
        """A new employee; with `history`, also the joining year's balances (see the module notes)."""
        body = {
            "email": f"{uuid4().hex[:10]}@example.com",
            "firstName": "Asha",
            "lastName": "Rao",
            "departmentId": str(self.department_id),
            "designationId": str(self.designation_id),
            "dateOfJoining": joined,
            "managerId": str(manager_id) if manager_id else None,
        }
        hired = employees.create_employee(self.tenant, self.admin, "all", NewEmployee.model_validate(body))
        if history:
            self.allocate_joining_year(hired.employee_id, dt.date.fromisoformat(joined))
        return hired.employee_id

    def allocate_joining_year(self, employee_id: UUID, joined: dt.date) -> None:
        """The joining (calendar) year's balances, pro rata, unless it already has them."""
        year = LeaveYear(joined.year, dt.date(joined.year, 1, 1), dt.date(joined.year, 12, 31))
        with tenant_tx(self.tenant, self.admin) as tx:
            planned = [
                leave_repo.Allocation(employee_id, quota.id, year.year, year.share(quota.annual_quota, joined))
                for quota in leave_repo.active_quotas(tx)
            ]
            leave_repo.insert_allocations(tx, planned)

    def user(self, employee_id: UUID | None, role: str) -> Actor:
        row = self.query(
            sql.SQL(
                "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', %s, %s) RETURNING id"
            ).format(self.t("users")),
            (f"{uuid4().hex[:10]}@example.com", role, employee_id),
        )[0]
        return Actor(str(row["id"]), role, self.tenant)

    def type_id(self, code: str) -> UUID:
        return self.query(sql.SQL("SELECT id FROM {} WHERE code = %s").format(self.t("leave_types")), (code,))[0]["id"]

    def balance(self, employee_id: UUID, code: str = "annual", year: int = 2024) -> dict[str, Decimal]:
        rows = self.query(
            sql.SQL(
                "SELECT b.allocated, b.carried_forward, b.used, b.pending FROM {} b"
                " JOIN {} lt ON lt.id = b.leave_type_id WHERE b.employee_id = %s AND lt.code = %s AND b.year = %s"
            ).format(self.t("employee_leave_balance"), self.t("leave_types")),
            (employee_id, code, year),
        )
        return rows[0] if rows else {}

    def holiday(self, day: str) -> None:
        self.query(sql.SQL("INSERT INTO {} (date, name) VALUES (%s, 'Holiday')").format(self.t("holidays")), (day,))

    def request(
        self, actor: Actor, start: str, end: str, code: str = "annual", scope: str = "self", **fields: Any
    ) -> Any:
        body = {"leaveTypeId": str(self.type_id(code)), "startDate": start, "endDate": end, **fields}
        return service.request_leave(self.tenant, actor, scope, LeaveRequest.model_validate(body))

    def audit_actions(self, entity_id: object) -> list[str]:
        rows = self.query(
            sql.SQL("SELECT action FROM {} WHERE entity_id = %s ORDER BY id").format(self.t("audit_logs")),
            (str(entity_id),),
        )
        return [row["action"] for row in rows]

    def epoch(self, name: str = "dashboards") -> int:
        rows = self.query(sql.SQL("SELECT epoch FROM {} WHERE name = %s").format(self.t("cache_epochs")), (name,))
        return int(rows[0]["epoch"]) if rows else 0


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
