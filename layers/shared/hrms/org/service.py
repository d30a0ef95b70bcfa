"""Organisation rules: departments (a tree), designations, holidays, the cached hierarchy.

One `tenant_tx` per operation; writes are audited (the repo writes through `hrms.db.crud`, audit row in the same
transaction) and department/designation writes bump the org cache epoch in that transaction.
Lists of departments and designations and the hierarchy are served from `org:{t}:<view>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg

from hrms.db import rows, tenant_clock
from hrms.db.changes import Change, declare
from hrms.db.postgres import TenantTx, tenant_tx
from hrms.errors import Conflict, DomainError, Invalid
from hrms.observability import logger
from hrms.org import repo
from hrms.org.cache import cached_view, drop_cached, invalidate_org
from hrms.org.models import (
    Department,
    DepartmentPatch,
    Designation,
    DesignationPatch,
    Holiday,
    NewDepartment,
    NewDesignation,
    NewHoliday,
    OrgHierarchy,
)
from hrms.org.repo import DepartmentRow, DesignationRow, HolidayRow
from hrms.pagination import Page, decode_keyset, encode_cursor, page_of
from hrms.tenancy import Actor, Tenant

Data = dict[str, Any]  # the plain JSON of a cached view (never a database row)


def _invalid_field(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": f"body.{field}", "type": "value_error", "message": message}])


def _page(
    items: list[Data], sort_key: Callable[[Data], list[str]], limit: int, cursor: str | None
) -> tuple[list[Data], str | None]:
    """A keyset page of an already sorted, cached list (departments and designations are small)."""
    after = decode_keyset(cursor, str, str)
    if after is not None:
        items = [item for item in items if sort_key(item) > list(after)]
    page = items[:limit]
    return page, encode_cursor(sort_key(page[-1])) if len(items) > limit else None


# ---------------------------------------------------------------- departments


def _department(row: DepartmentRow) -> Department:
    return Department(
        department_id=row.id,
        name=row.name,
        code=row.code,
        parent_id=row.parent_id,
        head_employee_id=row.head_employee_id,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _department_key(item: Data) -> list[str]:
    return [item["name"].lower(), item["department_id"]]


def _department_list(tx: TenantTx) -> list[Data]:
    def compute() -> list[Data]:
        items = [_department(row).model_dump(mode="json") for row in repo.departments(tx)]
        return sorted(items, key=_department_key)

    return cached_view(tx, "departments", compute)


def list_departments(tenant: Tenant, actor: Actor, limit: int, cursor: str | None) -> Page[Department]:
    with tenant_tx(tenant, actor) as tx:
        page, next_cursor = _page(_department_list(tx), _department_key, limit, cursor)
    return Page(items=[Department.model_validate(item) for item in page], next_cursor=next_cursor)


def get_department(tenant: Tenant, actor: Actor, department_id: UUID) -> Department:
    with tenant_tx(tenant, actor) as tx:
        return _department(repo.department(tx, department_id))


def _check_head(tx: TenantTx, employee_id: UUID | None) -> None:
    if employee_id is None:
        return
    status = repo.employee_status(tx, employee_id)
    if status is None:
        raise _invalid_field("headEmployeeId", "The head must be an employee of the organisation.")
    if status == "terminated":
        raise _invalid_field("headEmployeeId", "A terminated employee cannot head a department.")


def _check_parent(tx: TenantTx, parent_id: UUID | None, department_id: UUID | None = None) -> None:
    if parent_id is None:
        return
    if department_id is None:
        if not rows.exists(tx, "departments", parent_id):
            raise _invalid_field("parentId", "The parent department does not exist.")
        return
    chain = repo.ancestors(tx, parent_id)
    if not chain:
        raise _invalid_field("parentId", "The parent department does not exist.")
    if department_id in chain:
        raise _invalid_field("parentId", "A department cannot be placed under itself or one of its sub-departments.")


def create_department(tenant: Tenant, actor: Actor, new: NewDepartment) -> Department:
    with tenant_tx(tenant, actor) as tx:
        _check_parent(tx, new.parent_id)
        _check_head(tx, new.head_employee_id)
        row = repo.insert_department(tx, new.model_dump())
        declare(tx, Change("department"))  # departments by headcount
    return _department(row)


def update_department(tenant: Tenant, actor: Actor, department_id: UUID, patch: DepartmentPatch) -> Department:
    changes = patch.model_dump(exclude_unset=True)
    with tenant_tx(tenant, actor) as tx:
        if changes.get("parent_id") is not None:
            repo.lock_departments(tx)  # re-parentings run one at a time: no cycle built by two of them
        repo.department(tx, department_id, for_update=True)
        if "parent_id" in changes:
            _check_parent(tx, changes["parent_id"], department_id)
        if "head_employee_id" in changes:
            _check_head(tx, changes["head_employee_id"])
        row = repo.update_department(tx, department_id, changes)
        if "name" in changes:
            declare(tx, Change("department"))  # the dashboards show department names too
        elif changes:
            invalidate_org(tx)
    return _department(row)


def delete_department(tenant: Tenant, actor: Actor, department_id: UUID) -> None:
    with tenant_tx(tenant, actor) as tx:
        repo.department(tx, department_id, for_update=True)
        counts = repo.department_usage(tx, department_id)
        named = (
            ("employees", counts.employees),
            ("sub-departments", counts.sub_departments),
            ("designations", counts.designations),
        )
        if any(n for _, n in named):
            in_use = ", ".join(f"{n} {what}" for what, n in named if n)
            usage = {
                "employees": counts.employees,
                "subDepartments": counts.sub_departments,
                "designations": counts.designations,
            }
            raise Conflict(f"The department still has {in_use}; move or remove them first.", usage=usage)
        repo.delete_department(tx, department_id)
        declare(tx, Change("department"))


# ---------------------------------------------------------------- designations


def _designation(row: DesignationRow) -> Designation:
    return Designation(
        designation_id=row.id,
        title=row.title,
        level=row.level,
        department_id=row.department_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _designation_key(item: Data) -> list[str]:
    return [item["title"].lower(), item["designation_id"]]


def _designation_list(tx: TenantTx) -> list[Data]:
    def compute() -> list[Data]:
        items = [_designation(row).model_dump(mode="json") for row in repo.designations(tx)]
        return sorted(items, key=_designation_key)

    return cached_view(tx, "designations", compute)


def list_designations(
    tenant: Tenant, actor: Actor, department_id: UUID | None, limit: int, cursor: str | None
) -> Page[Designation]:
    with tenant_tx(tenant, actor) as tx:
        items = _designation_list(tx)
    if department_id is not None:
        items = [item for item in items if item["department_id"] == str(department_id)]
    page, next_cursor = _page(items, _designation_key, limit, cursor)
    return Page(items=[Designation.model_validate(item) for item in page], next_cursor=next_cursor)


def get_designation(tenant: Tenant, actor: Actor, designation_id: UUID) -> Designation:
    with tenant_tx(tenant, actor) as tx:
        return _designation(repo.designation(tx, designation_id))


def _check_department(tx: TenantTx, department_id: UUID | None) -> None:
    if department_id is not None and not rows.exists(tx, "departments", department_id):
        raise _invalid_field("departmentId", "The department does not exist.")


def create_designation(tenant: Tenant, actor: Actor, new: NewDesignation) -> Designation:
    with tenant_tx(tenant, actor) as tx:
        _check_department(tx, new.department_id)
        row = repo.insert_designation(tx, new.model_dump())
        invalidate_org(tx)
    return _designation(row)


def update_designation(tenant: Tenant, actor: Actor, designation_id: UUID, patch: DesignationPatch) -> Designation:
    changes = patch.model_dump(exclude_unset=True)
    with tenant_tx(tenant, actor) as tx:
        repo.designation(tx, designation_id, for_update=True)
        if "department_id" in changes:
            _check_department(tx, changes["department_id"])
        row = repo.update_designation(tx, designation_id, changes)
        if changes:
            invalidate_org(tx)
    return _designation(row)


def delete_designation(tenant: Tenant, actor: Actor, designation_id: UUID) -> None:
    with tenant_tx(tenant, actor) as tx:
        repo.designation(tx, designation_id, for_update=True)
        holders = repo.designation_holders(tx, designation_id)
        if holders:
            raise Conflict(f"{holders} employee(s) still hold this designation.", usage={"employees": holders})
        repo.delete_designation(tx, designation_id)
        invalidate_org(tx)


# ---------------------------------------------------------------- holidays


def _holiday(row: HolidayRow) -> Holiday:
    return Holiday(holiday_id=row.id, date=row.date, name=row.name, created_at=row.created_at)


def list_holidays(tenant: Tenant, actor: Actor, year: int | None, limit: int, cursor: str | None) -> Page[Holiday]:
    after = decode_keyset(cursor, dt.date.fromisoformat)
    after_date = after[0] if after else None
    with tenant_tx(tenant, actor) as tx:
        found = repo.holidays(tx, year or tenant_clock.today(tx).year, after_date, limit + 1)
    return page_of(found, limit, lambda last: [last.date.isoformat()], _holiday)


def create_holiday(tenant: Tenant, actor: Actor, new: NewHoliday) -> Holiday:
    with tenant_tx(tenant, actor) as tx:
        return _holiday(repo.insert_holiday(tx, new.model_dump()))


def delete_holiday(tenant: Tenant, actor: Actor, holiday_id: UUID) -> None:
    with tenant_tx(tenant, actor) as tx:
        repo.delete_holiday(tx, holiday_id)


# ---------------------------------------------------------------- hierarchy


def _hierarchy_data(tx: TenantTx) -> Data:
    def compute() -> Data:
        nodes: dict[str, Data] = {}
        parents: dict[str, str | None] = {}
        for row in repo.hierarchy_rows(tx):
            key = str(row.id)
            head = None
            if row.head_employee_id is not None:
                head = {"employee_id": str(row.head_employee_id), "name": row.head_name}
            nodes[key] = {
                "department_id": key,
                "name": row.name,
                "code": row.code,
                "employee_count": int(row.employee_count),
                "total_employee_count": int(row.employee_count),
                "head": head,
                "children": [],
            }
            parents[key] = str(row.parent_id) if row.parent_id is not None else None
        roots: list[Data] = []
        for key in sorted(nodes, key=lambda k: _department_key(nodes[k])):
            parent = parents[key]
            (nodes[parent]["children"] if parent in nodes else roots).append(nodes[key])
        for root in roots:
            _add_subtree_totals(root)
        return {"roots": roots, "total_employee_count": sum(node["employee_count"] for node in nodes.values())}

    return cached_view(tx, "hierarchy", compute)


def _add_subtree_totals(root: Data) -> None:
    """totalEmployeeCount of every node below `root`, post-order without recursion (trees may be deep)."""
    stack: list[tuple[Data, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            node["total_employee_count"] = node["employee_count"] + sum(
                child["total_employee_count"] for child in node["children"]
            )
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node["children"])


def get_hierarchy(tenant: Tenant, actor: Actor) -> OrgHierarchy:
    with tenant_tx(tenant, actor) as tx:
        data = _hierarchy_data(tx)
    return OrgHierarchy.model_validate(data)


# ---------------------------------------------------------------- scheduled warm-up


def preload_org_caches(slug: str | None = None) -> dict[str, int]:
    """Recompute org:{t}:departments|designations|hierarchy for every active tenant (or the one with
    `slug`); a failing tenant is logged and skipped."""
    tenants = [ref for ref in repo.active_tenants() if slug is None or ref.slug == slug]
    warmed = 0
    for ref in tenants:
        try:
            with tenant_tx(Tenant(ref.id, ref.schema_name)) as tx:
                drop_cached(tx)
                _department_list(tx)
                _designation_list(tx)
                _hierarchy_data(tx)
            warmed += 1
        except (psycopg.Error, DomainError, ValueError) as exc:
            logger.warning(
                "Org cache warm-up failed for a tenant", extra={"tenant_id": str(ref.id), "error": repr(exc)}
            )
    return {"tenants": len(tenants), "warmed": warmed, "failed": len(tenants) - warmed}
