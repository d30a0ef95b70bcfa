"""Departments, designations, holidays and the cached hierarchy at the service level."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from hrms.auth.users import find_user_by_email
from hrms.cache.client import redis_client
from hrms.db.postgres import transaction
from hrms.errors import BadRequest, Conflict, Invalid, NotFound
from hrms.org import repo, service
from hrms.org.models import DepartmentPatch, DesignationPatch, NewDepartment, NewDesignation, NewHoliday
from hrms.tenancy import Actor, Tenant
from hrms.tenants import service as tenants
from hrms.tenants.models import NewTenant

INJECTIONS = [
    "Robert'); DROP TABLE departments;--",
    "<script>alert('x')</script>",
    "Ünïcödé 部門 🚀",
    "%s %(name)s {} \\",
]


@dataclass(frozen=True)
class Org:
    tenant: Tenant
    actor: Actor

    def query(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run SQL with `{t}` replaced by the quoted tenant schema."""
        composed = sql.SQL(query).format(t=sql.Identifier(self.tenant.schema_name))
        with transaction() as conn:
            cursor = conn.execute(composed, params)
            return cursor.fetchall() if cursor.description else []

    def employee(self, department_id: UUID | None, status: str = "active", **extra: Any) -> UUID:
        code = secrets.token_hex(4)
        row = self.query(
            "INSERT INTO {t}.employees (employee_code, email, first_name, last_name, department_id,"
            " designation_id, status, date_of_joining) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                code,
                f"{code}@example.com",
                extra.get("first_name", "Ada"),
                extra.get("last_name", code),
                department_id,
                extra.get("designation_id"),
                status,
                dt.date(2024, 1, 1),
            ),
        )
        return row[0]["id"]

    def audit_actions(self, entity_id: object) -> list[str]:
        rows = self.query("SELECT action FROM {t}.audit_logs WHERE entity_id = %s ORDER BY id", (str(entity_id),))
        return [row["action"] for row in rows]


def _org_of(created: Any) -> Org:
    tenant = Tenant(created.tenant_id, created.schema_name)
    user = find_user_by_email(created.slug, created.admin_email)
    return Org(tenant, Actor(user_id=str(user.user_id), role="admin", tenant=tenant))


@pytest.fixture
def org(tenant: Any) -> Org:
    return _org_of(tenant)


def _dept(org: Org, name: str, code: str | None = None, **extra: Any) -> Any:
    new = NewDepartment.model_validate({"name": name, "code": code or secrets.token_hex(3), **extra})
    return service.create_department(org.tenant, org.actor, new)


# ---------------------------------------------------------------- departments


def test_department_round_trip_is_audited(org: Org) -> None:
    created = _dept(org, "Engineering", "ENG", description="Builds things")
    assert service.get_department(org.tenant, org.actor, created.department_id) == created

    updated = service.update_department(
        org.tenant, org.actor, created.department_id, DepartmentPatch.model_validate({"name": "Platform"})
    )
    assert (updated.name, updated.code, updated.description) == ("Platform", "ENG", "Builds things")
    assert [d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items] == ["Platform"]

    service.delete_department(org.tenant, org.actor, created.department_id)

    with pytest.raises(NotFound):
        service.get_department(org.tenant, org.actor, created.department_id)
    assert org.audit_actions(created.department_id) == [
        "department.created",
        "department.updated",
        "department.deleted",
    ]
    change = org.query(
        "SELECT before, after, actor_id FROM {t}.audit_logs WHERE action = 'department.updated' AND entity_id = %s",
        (str(created.department_id),),
    )[0]
    assert (change["before"], change["after"]) == ({"name": "Engineering"}, {"name": "Platform"})
    assert change["actor_id"] == org.actor.user_id


def test_department_code_is_unique_case_insensitively(org: Org) -> None:
    _dept(org, "Engineering", "ENG")
    with pytest.raises(Conflict):
        _dept(org, "Other", "eng")
    other = _dept(org, "Sales", "SAL")
    with pytest.raises(Conflict):
        service.update_department(org.tenant, org.actor, other.department_id, DepartmentPatch(code="Eng"))


def test_parent_and_head_must_exist_in_the_tenant(org: Org) -> None:
    with pytest.raises(Invalid) as parent:
        _dept(org, "Orphan", parent_id=uuid4())
    assert parent.value.errors[0]["field"] == "body.parentId"
    with pytest.raises(Invalid) as head:
        _dept(org, "Headless", head_employee_id=uuid4())
    assert head.value.errors[0]["field"] == "body.headEmployeeId"
    gone = org.employee(None, status="terminated")
    with pytest.raises(Invalid):
        _dept(org, "Ghost-led", head_employee_id=gone)
    assert service.list_departments(org.tenant, org.actor, 50, None).items == []


def test_moving_a_department_under_itself_or_its_subtree_is_rejected(org: Org) -> None:
    top = _dept(org, "Top")
    middle = _dept(org, "Middle", parent_id=top.department_id)
    bottom = _dept(org, "Bottom", parent_id=middle.department_id)

    for new_parent in (top.department_id, middle.department_id, bottom.department_id):
        with pytest.raises(Invalid) as cycle:
            service.update_department(org.tenant, org.actor, top.department_id, DepartmentPatch(parent_id=new_parent))
        assert cycle.value.errors[0]["field"] == "body.parentId"

    moved = service.update_department(org.tenant, org.actor, bottom.department_id, DepartmentPatch(parent_id=None))
    assert moved.parent_id is None
    again = service.update_department(
        org.tenant, org.actor, top.department_id, DepartmentPatch(parent_id=bottom.department_id)
    )
    assert again.parent_id == bottom.department_id


def _race_moves(org: Org, moves: list[tuple[Any, Any]]) -> list[str]:
    """Run the re-parentings `(child, new parent)` at the same moment; "moved" or "refused" for each."""
    barrier = threading.Barrier(len(moves))
    outcomes: list[str] = []

    def move(child: Any, parent: Any) -> None:
        barrier.wait()
        try:
            service.update_department(
                org.tenant, org.actor, child.department_id, DepartmentPatch(parent_id=parent.department_id)
            )
            outcomes.append("moved")
        except Invalid:
            outcomes.append("refused")

    threads = [threading.Thread(target=move, args=pair) for pair in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_reparentings_cannot_build_a_cycle_together(org: Org) -> None:
    for _ in range(3):
        a, b = _dept(org, "A"), _dept(org, "B")

        outcomes = _race_moves(org, [(a, b), (b, a)])

        assert sorted(outcomes) == ["moved", "refused"]
        for dept in (a, b):
            service.update_department(org.tenant, org.actor, dept.department_id, DepartmentPatch(parent_id=None))
        for dept in (a, b):
            service.delete_department(org.tenant, org.actor, dept.department_id)


def test_delete_is_refused_while_the_department_is_in_use(org: Org) -> None:
    parent = _dept(org, "Parent")
    child = _dept(org, "Child", parent_id=parent.department_id)
    with pytest.raises(Conflict) as sub:
        service.delete_department(org.tenant, org.actor, parent.department_id)
    assert sub.value.extra["usage"]["subDepartments"] == 1

    title = service.create_designation(
        org.tenant, org.actor, NewDesignation(title="Clerk", department_id=child.department_id)
    )
    with pytest.raises(Conflict):
        service.delete_department(org.tenant, org.actor, child.department_id)
    service.delete_designation(org.tenant, org.actor, title.designation_id)

    org.employee(child.department_id, status="terminated")  # even a former employee keeps the reference
    with pytest.raises(Conflict) as staffed:
        service.delete_department(org.tenant, org.actor, child.department_id)
    assert staffed.value.extra["usage"] == {"employees": 1, "subDepartments": 0, "designations": 0}

    org.query("UPDATE {t}.employees SET department_id = NULL")
    service.delete_department(org.tenant, org.actor, child.department_id)
    service.delete_department(org.tenant, org.actor, parent.department_id)
    assert service.list_departments(org.tenant, org.actor, 50, None).items == []


def test_null_is_refused_for_required_fields_of_a_patch() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as name:
        DepartmentPatch.model_validate({"name": None})
    assert name.value.errors()[0]["loc"] == ("name",)
    with pytest.raises(ValidationError):
        DesignationPatch.model_validate({"title": None})
    with pytest.raises(ValidationError):
        NewDepartment.model_validate({"name": "NUL\x00", "code": "N"})


def test_department_list_pages_by_name(org: Org) -> None:
    for name in ["delta", "Alpha", "charlie", "Bravo", "echo"]:
        _dept(org, name)
    seen, cursor = [], None
    while True:
        page = service.list_departments(org.tenant, org.actor, 2, cursor)
        seen += [d.name for d in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["Alpha", "Bravo", "charlie", "delta", "echo"]
    with pytest.raises(BadRequest):
        service.list_departments(org.tenant, org.actor, 2, "not-a-cursor")


def test_injection_strings_are_stored_and_returned_literally(org: Org) -> None:
    for text in INJECTIONS:
        created = _dept(org, text, description=text)
        assert (created.name, created.description) == (text, text)
        title = service.create_designation(org.tenant, org.actor, NewDesignation(title=text))
        assert title.title == text
    names = {d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items}
    assert names == set(INJECTIONS)
    assert org.query("SELECT count(*) AS n FROM {t}.departments")[0]["n"] == len(INJECTIONS)


def test_another_tenants_department_is_not_found(org: Org, platform_actor: Any) -> None:
    slug = f"t-{secrets.token_hex(5)}"
    other = _org_of(
        tenants.create_tenant(NewTenant(name="Other", slug=slug, admin_email=f"admin@{slug}.io"), platform_actor)
    )
    theirs = _dept(other, "Theirs")
    with pytest.raises(NotFound):
        service.get_department(org.tenant, org.actor, theirs.department_id)
    with pytest.raises(NotFound):
        service.update_department(org.tenant, org.actor, theirs.department_id, DepartmentPatch(name="Mine"))
    with pytest.raises(NotFound):
        service.delete_department(org.tenant, org.actor, theirs.department_id)
    with pytest.raises(Invalid):
        _dept(org, "Child of theirs", parent_id=theirs.department_id)


# ---------------------------------------------------------------- designations


def test_designation_round_trip_and_uniqueness_per_department(org: Org) -> None:
    eng = _dept(org, "Engineering")
    ops = _dept(org, "Operations")
    created = service.create_designation(
        org.tenant, org.actor, NewDesignation(title="Engineer", level=2, department_id=eng.department_id)
    )
    service.create_designation(org.tenant, org.actor, NewDesignation(title="Engineer", department_id=ops.department_id))
    service.create_designation(org.tenant, org.actor, NewDesignation(title="Engineer"))
    with pytest.raises(Conflict):
        service.create_designation(
            org.tenant, org.actor, NewDesignation(title="ENGINEER", department_id=eng.department_id)
        )
    with pytest.raises(Conflict):
        service.create_designation(org.tenant, org.actor, NewDesignation(title="engineer"))
    with pytest.raises(Invalid) as missing:
        service.create_designation(org.tenant, org.actor, NewDesignation(title="Lost", department_id=uuid4()))
    assert missing.value.errors[0]["field"] == "body.departmentId"

    updated = service.update_designation(
        org.tenant, org.actor, created.designation_id, DesignationPatch.model_validate({"level": None})
    )
    assert (updated.title, updated.level, updated.department_id) == ("Engineer", None, eng.department_id)
    in_eng = service.list_designations(org.tenant, org.actor, eng.department_id, 50, None).items
    assert [d.designation_id for d in in_eng] == [created.designation_id]
    assert len(service.list_designations(org.tenant, org.actor, None, 50, None).items) == 3

    holder = org.employee(eng.department_id, designation_id=created.designation_id)
    with pytest.raises(Conflict):
        service.delete_designation(org.tenant, org.actor, created.designation_id)
    org.query("UPDATE {t}.employees SET designation_id = NULL WHERE id = %s", (holder,))
    service.delete_designation(org.tenant, org.actor, created.designation_id)
    with pytest.raises(NotFound):
        service.get_designation(org.tenant, org.actor, created.designation_id)
    assert org.audit_actions(created.designation_id) == [
        "designation.created",
        "designation.updated",
        "designation.deleted",
    ]


# ---------------------------------------------------------------- holidays


def test_holidays_one_per_date_listed_by_year(org: Org) -> None:
    this_year = dt.date.today().year
    days = [dt.date(this_year, 1, 26), dt.date(this_year, 8, 15), dt.date(this_year, 10, 2)]
    for day in reversed(days):
        service.create_holiday(org.tenant, org.actor, NewHoliday(date=day, name=f"Holiday {day}"))
    last_year = service.create_holiday(
        org.tenant, org.actor, NewHoliday(date=dt.date(this_year - 1, 12, 25), name="Christmas")
    )
    with pytest.raises(Conflict):
        service.create_holiday(org.tenant, org.actor, NewHoliday(date=days[0], name="Again"))

    first = service.list_holidays(org.tenant, org.actor, None, 2, None)
    rest = service.list_holidays(org.tenant, org.actor, None, 2, first.next_cursor)
    assert [h.date for h in first.items + rest.items] == days
    assert rest.next_cursor is None
    assert [h.name for h in service.list_holidays(org.tenant, org.actor, this_year - 1, 50, None).items] == [
        "Christmas"
    ]

    service.delete_holiday(org.tenant, org.actor, last_year.holiday_id)
    with pytest.raises(NotFound):
        service.delete_holiday(org.tenant, org.actor, last_year.holiday_id)
    assert org.audit_actions(last_year.holiday_id) == ["holiday.created", "holiday.deleted"]


# ---------------------------------------------------------------- hierarchy and cache


def test_hierarchy_counts_direct_and_subtree_employees_and_names_heads(org: Org) -> None:
    company = _dept(org, "Company")
    eng = _dept(org, "Engineering", parent_id=company.department_id)
    web = _dept(org, "Web", parent_id=eng.department_id)
    sales = _dept(org, "Sales")
    org.employee(company.department_id)
    org.employee(eng.department_id)
    org.employee(eng.department_id, status="on_leave")
    org.employee(eng.department_id, status="terminated")
    head = org.employee(web.department_id, first_name="Grace", last_name="Hopper")
    org.employee(web.department_id)
    org.employee(None)
    service.update_department(org.tenant, org.actor, web.department_id, DepartmentPatch(head_employee_id=head))

    tree = service.get_hierarchy(org.tenant, org.actor)

    assert [root.name for root in tree.roots] == ["Company", "Sales"]
    top, other = tree.roots
    assert (top.employee_count, top.total_employee_count) == (1, 5)
    assert (other.employee_count, other.total_employee_count, other.children) == (0, 0, [])
    (engineering,) = top.children
    assert (engineering.employee_count, engineering.total_employee_count) == (2, 4)
    (web_node,) = engineering.children
    assert (web_node.employee_count, web_node.total_employee_count) == (2, 2)
    assert web_node.head is not None
    assert (web_node.head.employee_id, web_node.head.name) == (head, "Grace Hopper")
    assert top.head is None
    assert tree.total_employee_count == 5
    assert sales.department_id == other.department_id


def test_second_hierarchy_read_is_a_cache_hit_and_a_write_makes_the_next_read_fresh(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = repo.hierarchy_rows

    def counting(tx: Any) -> Any:
        calls.append(1)
        return real(tx)

    monkeypatch.setattr(repo, "hierarchy_rows", counting)
    key = f"org:{{{org.tenant.tenant_id}}}:hierarchy"
    eng = _dept(org, "Engineering")

    first = service.get_hierarchy(org.tenant, org.actor)
    assert redis_client().exists(key) == 1
    second = service.get_hierarchy(org.tenant, org.actor)
    assert second == first
    assert len(calls) == 1

    _dept(org, "Design", parent_id=eng.department_id)

    assert redis_client().exists(key) == 0
    fresh = service.get_hierarchy(org.tenant, org.actor)
    assert len(calls) == 2
    assert [child.name for child in fresh.roots[0].children] == ["Design"]


def test_department_list_is_cached_and_refreshed_after_an_update(org: Org) -> None:
    created = _dept(org, "Old name")
    key = f"org:{{{org.tenant.tenant_id}}}:departments"
    assert [d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items] == ["Old name"]
    assert redis_client().exists(key) == 1

    service.update_department(org.tenant, org.actor, created.department_id, DepartmentPatch(name="New name"))

    assert [d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items] == ["New name"]


def test_a_stale_cached_value_is_never_served_even_if_redis_missed_the_invalidation(org: Org) -> None:
    _dept(org, "Before")
    service.list_departments(org.tenant, org.actor, 50, None)
    key = f"org:{{{org.tenant.tenant_id}}}:departments"
    stale = redis_client().get(key)

    _dept(org, "After")
    redis_client().set(key, stale)  # e.g. a racing reader wrote its old value back

    names = [d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items]
    assert names == ["After", "Before"]


def test_preload_warms_the_org_views_of_every_active_tenant(org: Org) -> None:
    _dept(org, "Engineering")
    client = redis_client()
    keys = [f"org:{{{org.tenant.tenant_id}}}:{view}" for view in ("departments", "designations", "hierarchy")]
    client.delete(*keys)

    summary = service.preload_org_caches()

    assert summary["failed"] == 0
    assert summary["warmed"] == summary["tenants"] >= 1
    assert client.exists(*keys) == 3
    assert [d.name for d in service.list_departments(org.tenant, org.actor, 50, None).items] == ["Engineering"]
