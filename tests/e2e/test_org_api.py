"""Departments, designations, holidays and the hierarchy through the local gateway."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from psycopg import sql

from hrms.db.postgres import transaction
from tests.conftest import bearer


def _sql(tenant: Any, query: str, params: Any = None) -> list[dict[str, Any]]:
    composed = sql.SQL(query).format(t=sql.Identifier(tenant.schema_name))
    with transaction() as conn:
        cursor = conn.execute(composed, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def admin(tenant: Any, tenant_admin_token: str, gateway: Any) -> dict[str, str]:
    """The tenant admin's headers, with the temporary-password gate lifted."""
    _sql(tenant, "UPDATE {t}.users SET must_change_password = false")
    gateway.auth_cache.clear()
    return bearer(tenant_admin_token)


@pytest.fixture
def employee(tenant: Any, gateway: Any) -> dict[str, str]:
    """A plain employee-role user's headers (org:read only)."""
    from hrms.auth import tokens

    user = _sql(
        tenant,
        "INSERT INTO {t}.users (email, password_hash, role) VALUES (%s, 'x', 'employee') RETURNING id",
        (f"emp-{secrets.token_hex(3)}@example.com",),
    )[0]
    gateway.auth_cache.clear()
    return bearer(tokens.issue(str(user["id"]), "employee", tid=str(tenant.tenant_id)))


def _add_employee(tenant: Any, department_id: str | None, **extra: Any) -> UUID:
    code = secrets.token_hex(4)
    return _sql(
        tenant,
        "INSERT INTO {t}.employees (employee_code, email, first_name, last_name, department_id, designation_id,"
        " status, date_of_joining) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            code,
            f"{code}@example.com",
            extra.get("first_name", "Ada"),
            extra.get("last_name", "Lovelace"),
            department_id,
            extra.get("designation_id"),
            extra.get("status", "active"),
            dt.date(2024, 1, 1),
        ),
    )[0]["id"]


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def _fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"] == "application/problem+json"
    return {error["field"] for error in response.json()["errors"]}


# ---------------------------------------------------------------- departments


def test_department_lifecycle(client: httpx.Client, admin: dict[str, str]) -> None:
    parent = _created(client.post("/departments", json={"name": "Engineering", "code": "ENG"}, headers=admin))
    assert set(parent) == {
        "departmentId",
        "name",
        "code",
        "parentId",
        "headEmployeeId",
        "description",
        "createdAt",
        "updatedAt",
    }
    child = _created(
        client.post(
            "/departments", json={"name": "Web", "code": "WEB", "parent_id": parent["departmentId"]}, headers=admin
        )
    )
    assert child["parentId"] == parent["departmentId"]

    listed = client.get("/departments", headers=admin)
    assert listed.status_code == 200
    assert [d["name"] for d in listed.json()["items"]] == ["Engineering", "Web"]
    assert listed.json()["nextCursor"] is None
    assert client.get(f"/departments/{child['departmentId']}", headers=admin).json() == child

    patched = client.patch(f"/departments/{child['departmentId']}", json={"name": "Web Platform"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["parentId"]) == ("Web Platform", parent["departmentId"])

    blocked = client.delete(f"/departments/{parent['departmentId']}", headers=admin)
    assert blocked.status_code == 409
    assert blocked.json()["usage"] == {"employees": 0, "subDepartments": 1, "designations": 0}
    deleted = client.delete(f"/departments/{child['departmentId']}", headers=admin)
    assert deleted.status_code == 204
    assert client.get(f"/departments/{child['departmentId']}", headers=admin).status_code == 404


def test_department_bad_input(client: httpx.Client, admin: dict[str, str]) -> None:
    missing = client.post("/departments", json={"code": "X!"}, headers=admin)
    assert missing.status_code == 422
    assert _fields(missing) == {"body.name", "body.code"}
    unknown_key = client.post("/departments", json={"name": "A", "code": "A", "budget": 1}, headers=admin)
    assert unknown_key.status_code == 422
    no_parent = client.post("/departments", json={"name": "A", "code": "A", "parentId": str(uuid4())}, headers=admin)
    assert no_parent.status_code == 422
    assert _fields(no_parent) == {"body.parentId"}
    no_head = client.post(
        "/departments", json={"name": "A", "code": "A", "headEmployeeId": str(uuid4())}, headers=admin
    )
    assert _fields(no_head) == {"body.headEmployeeId"}
    assert client.post("/departments", content=b"{not json", headers=admin).status_code == 400

    first = _created(client.post("/departments", json={"name": "Ops", "code": "OPS"}, headers=admin))
    duplicate = client.post("/departments", json={"name": "Ops 2", "code": "ops"}, headers=admin)
    assert duplicate.status_code == 409
    null_name = client.patch(f"/departments/{first['departmentId']}", json={"name": None}, headers=admin)
    assert null_name.status_code == 422
    assert _fields(null_name) == {"body.name"}

    assert client.get(f"/departments/{uuid4()}", headers=admin).status_code == 404
    assert client.get("/departments/not-a-uuid", headers=admin).status_code == 404
    assert client.patch(f"/departments/{uuid4()}", json={"name": "X"}, headers=admin).status_code == 404
    assert client.delete(f"/departments/{uuid4()}", headers=admin).status_code == 404
    assert client.get("/departments?limit=0", headers=admin).status_code == 422
    assert client.get("/departments?cursor=%%%", headers=admin).status_code == 400


def test_reparenting_into_a_cycle_is_a_422(client: httpx.Client, admin: dict[str, str]) -> None:
    top = _created(client.post("/departments", json={"name": "Top", "code": "TOP"}, headers=admin))
    low = _created(
        client.post("/departments", json={"name": "Low", "code": "LOW", "parentId": top["departmentId"]}, headers=admin)
    )
    cycle = client.patch(f"/departments/{top['departmentId']}", json={"parentId": low["departmentId"]}, headers=admin)
    assert cycle.status_code == 422
    assert _fields(cycle) == {"body.parentId"}
    itself = client.patch(f"/departments/{top['departmentId']}", json={"parentId": top["departmentId"]}, headers=admin)
    assert itself.status_code == 422


def test_department_list_pages_with_limit_and_cursor(client: httpx.Client, admin: dict[str, str]) -> None:
    for n in range(5):
        client.post("/departments", json={"name": f"Dept {n}", "code": f"D{n}"}, headers=admin)
    seen, cursor = [], None
    while True:
        page = client.get("/departments", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=admin)
        assert page.status_code == 200
        seen += [d["name"] for d in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert seen == [f"Dept {n}" for n in range(5)]


def test_injection_strings_come_back_literally(client: httpx.Client, admin: dict[str, str]) -> None:
    names = ["Robert'); DROP TABLE departments;--", "<script>alert(1)</script>", "Ωmega 部門 🚀"]
    for n, name in enumerate(names):
        created = _created(client.post("/departments", json={"name": name, "code": f"X{n}"}, headers=admin))
        assert created["name"] == name
    listed = client.get("/departments", headers=admin).json()["items"]
    assert sorted(d["name"] for d in listed) == sorted(names)
    nul = client.post("/departments", json={"name": "bad\u0000name", "code": "NUL"}, headers=admin)
    assert nul.status_code == 422


# ---------------------------------------------------------------- designations


def test_designation_lifecycle_and_errors(client: httpx.Client, admin: dict[str, str], tenant: Any) -> None:
    dept = _created(client.post("/departments", json={"name": "Engineering", "code": "ENG"}, headers=admin))
    title = _created(
        client.post(
            "/designations",
            json={"title": "Engineer", "level": 2, "departmentId": dept["departmentId"]},
            headers=admin,
        )
    )
    assert set(title) == {"designationId", "title", "level", "departmentId", "createdAt", "updatedAt"}
    again = client.post(
        "/designations", json={"title": "engineer", "departmentId": dept["departmentId"]}, headers=admin
    )
    assert again.status_code == 409
    bad = client.post("/designations", json={"title": "", "level": -1}, headers=admin)
    assert bad.status_code == 422
    assert _fields(bad) == {"body.title", "body.level"}
    lost = client.post("/designations", json={"title": "Lost", "departmentId": str(uuid4())}, headers=admin)
    assert _fields(lost) == {"body.departmentId"}

    assert client.get(f"/designations/{title['designationId']}", headers=admin).json() == title
    by_dept = client.get("/designations", params={"departmentId": dept["departmentId"]}, headers=admin).json()
    assert [d["title"] for d in by_dept["items"]] == ["Engineer"]
    patched = client.patch(f"/designations/{title['designationId']}", json={"level": 3}, headers=admin)
    assert patched.json()["level"] == 3

    holder = _add_employee(tenant, dept["departmentId"], designation_id=title["designationId"])
    assert client.delete(f"/designations/{title['designationId']}", headers=admin).status_code == 409
    _sql(tenant, "UPDATE {t}.employees SET designation_id = NULL WHERE id = %s", (holder,))
    assert client.delete(f"/designations/{title['designationId']}", headers=admin).status_code == 204
    assert client.get(f"/designations/{title['designationId']}", headers=admin).status_code == 404
    assert client.patch(f"/designations/{uuid4()}", json={"level": 1}, headers=admin).status_code == 404
    assert client.delete(f"/designations/{uuid4()}", headers=admin).status_code == 404


# ---------------------------------------------------------------- holidays


def test_holiday_lifecycle_and_errors(client: httpx.Client, admin: dict[str, str]) -> None:
    year = dt.date.today().year
    holiday = _created(client.post("/holidays", json={"date": f"{year}-12-25", "name": "Christmas"}, headers=admin))
    assert set(holiday) == {"holidayId", "date", "name", "createdAt"}
    _created(client.post("/holidays", json={"date": f"{year - 1}-12-25", "name": "Christmas"}, headers=admin))
    assert client.post("/holidays", json={"date": f"{year}-12-25", "name": "Dup"}, headers=admin).status_code == 409
    bad = client.post("/holidays", json={"date": "2025-02-30", "name": ""}, headers=admin)
    assert bad.status_code == 422
    assert _fields(bad) == {"body.date", "body.name"}

    this_year = client.get("/holidays", headers=admin).json()
    assert [h["date"] for h in this_year["items"]] == [f"{year}-12-25"]
    last_year = client.get("/holidays", params={"year": year - 1}, headers=admin).json()
    assert [h["date"] for h in last_year["items"]] == [f"{year - 1}-12-25"]
    assert client.get("/holidays", params={"year": "soon"}, headers=admin).status_code == 422

    assert client.delete(f"/holidays/{holiday['holidayId']}", headers=admin).status_code == 204
    assert client.delete(f"/holidays/{holiday['holidayId']}", headers=admin).status_code == 404


# ---------------------------------------------------------------- hierarchy and permissions


def test_hierarchy_shows_headcounts_and_heads(client: httpx.Client, admin: dict[str, str], tenant: Any) -> None:
    top = _created(client.post("/departments", json={"name": "Company", "code": "CO"}, headers=admin))
    eng = _created(
        client.post("/departments", json={"name": "Eng", "code": "ENG", "parentId": top["departmentId"]}, headers=admin)
    )
    assert client.get("/org/hierarchy", headers=admin).json()["totalEmployeeCount"] == 0  # now cached
    head = _add_employee(tenant, eng["departmentId"], first_name="Grace", last_name="Hopper")
    _add_employee(tenant, eng["departmentId"], status="on_leave")
    _add_employee(tenant, top["departmentId"], status="terminated")
    # Setting the head is a department write: it invalidates the cached hierarchy.
    client.patch(f"/departments/{eng['departmentId']}", json={"headEmployeeId": str(head)}, headers=admin)

    tree = client.get("/org/hierarchy", headers=admin)

    assert tree.status_code == 200
    (root,) = tree.json()["roots"]
    assert (root["name"], root["employeeCount"], root["totalEmployeeCount"], root["head"]) == ("Company", 0, 2, None)
    (child,) = root["children"]
    assert child["employeeCount"] == child["totalEmployeeCount"] == 2
    assert child["head"] == {"employeeId": str(head), "name": "Grace Hopper"}
    assert child["children"] == []


def test_an_employee_reads_the_organisation_but_cannot_change_it(
    client: httpx.Client, admin: dict[str, str], employee: dict[str, str]
) -> None:
    dept = _created(client.post("/departments", json={"name": "Engineering", "code": "ENG"}, headers=admin))
    title = _created(client.post("/designations", json={"title": "Engineer"}, headers=admin))
    holiday = _created(client.post("/holidays", json={"date": "2030-01-01", "name": "New Year"}, headers=admin))
    for path in (
        "/departments",
        f"/departments/{dept['departmentId']}",
        "/designations",
        "/holidays",
        "/org/hierarchy",
    ):
        assert client.get(path, headers=employee).status_code == 200, path

    writes = [
        client.post("/departments", json={"name": "Mine", "code": "MINE"}, headers=employee),
        client.patch(f"/departments/{dept['departmentId']}", json={"name": "Mine"}, headers=employee),
        client.delete(f"/departments/{dept['departmentId']}", headers=employee),
        client.post("/designations", json={"title": "Boss"}, headers=employee),
        client.patch(f"/designations/{title['designationId']}", json={"title": "Boss"}, headers=employee),
        client.delete(f"/designations/{title['designationId']}", headers=employee),
        client.post("/holidays", json={"date": "2030-01-02", "name": "Day off"}, headers=employee),
        client.delete(f"/holidays/{holiday['holidayId']}", headers=employee),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert client.get(f"/departments/{dept['departmentId']}", headers=admin).json()["name"] == "Engineering"


def test_a_temporary_password_cannot_use_the_organisation_api(
    client: httpx.Client, tenant_admin_token: str, gateway: Any
) -> None:
    gateway.auth_cache.clear()
    assert client.get("/departments", headers=bearer(tenant_admin_token)).status_code == 403


def test_without_a_token_the_gateway_answers_401(client: httpx.Client) -> None:
    assert client.get("/org/hierarchy").status_code == 401
