"""The employees routes through the local gateway: status codes, problem bodies, scope, masking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.auth.users import find_user_by_email
from hrms.db.postgres import transaction
from tests.conftest import bearer

PAN = "ABCDE1234F"
AADHAAR = "234123412346"
PLAINTEXTS = (PAN, AADHAAR, "2341 2341 2346", "abcde1234f")


class Api:
    """A tenant admin's HTTP session that remembers every response body, to check none leaks PII."""

    def __init__(self, client: httpx.Client, tenant: Any, token: str) -> None:
        self.client, self.tenant, self.token = client, tenant, token
        self.bodies: list[str] = []

    def t(self, table: str) -> sql.Identifier:
        return sql.Identifier(self.tenant.schema_name, table)

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**bearer(token or self.token), **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.bodies.append(response.text)
        return response

    def sql(self, query: sql.Composable, params: Any = None) -> list[dict[str, Any]]:
        with transaction() as conn:
            return conn.execute(query, params).fetchall()

    def department(self, code: str) -> str:
        rows = self.sql(
            sql.SQL("INSERT INTO {} (name, code) VALUES (%s, %s) RETURNING id").format(self.t("departments")),
            (code, code),
        )
        return str(rows[0]["id"])

    def designation(self, title: str) -> str:
        rows = self.sql(
            sql.SQL("INSERT INTO {} (title) VALUES (%s) RETURNING id").format(self.t("designations")), (title,)
        )
        return str(rows[0]["id"])

    def token_for(self, employee_id: str, role: str) -> str:
        rows = self.sql(
            sql.SQL(
                "INSERT INTO {} (email, password_hash, role, employee_id) VALUES (%s, 'x', %s, %s) RETURNING id"
            ).format(self.t("users")),
            (f"{uuid4().hex[:8]}@example.com", role, employee_id),
        )
        return tokens.issue(str(rows[0]["id"]), role, tid=str(self.tenant.tenant_id))


@pytest.fixture
def api(client: httpx.Client, tenant: Any, tenant_admin_token: str, gateway: Any) -> Iterator[Api]:
    with transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(tenant.schema_name, "users"))
        )
    gateway.auth_cache.clear()
    session = Api(client, tenant, tenant_admin_token)
    yield session
    for body in session.bodies:
        for plain in PLAINTEXTS:
            assert plain not in body, f"plaintext identifier in a response: {body[:200]}"


@pytest.fixture
def refs(api: Api) -> dict[str, str]:
    return {"departmentId": api.department("ENG"), "designationId": api.designation("Engineer")}


def _body(refs: dict[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "email": f"{uuid4().hex[:8]}@example.com",
        "firstName": "Asha",
        "lastName": "Rao",
        "dateOfJoining": "2025-07-01",
        **refs,
        **fields,
    }


def _hire(api: Api, refs: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/employees", json=_body(refs, **fields))
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------- POST /employees


def test_create_returns_201_with_masked_identifiers(api, refs):
    created = api.call(
        "POST", "/employees", json=_body(refs, pan="abcde1234f", aadhaar="2341 2341 2346", phone="+91 98765 43210")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["panMasked"] == "XXXXX1234X"
    assert body["aadhaarMasked"] == "XXXX-XXXX-2346"
    assert body["employeeCode"].startswith("EMP-")
    assert UUID(body["employeeId"])
    assert not {"pan", "aadhaar", "panEncrypted", "panBlindIndex"} & set(body)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pan": "ABCDE12345"}, "body.pan"),
        ({"aadhaar": "234123412345"}, "body.aadhaar"),
        ({"aadhaar": "134123412346"}, "body.aadhaar"),
        ({"email": "not-an-email"}, "body.email"),
        ({"firstName": ""}, "body.firstName"),
        ({"dateOfJoining": "2025-13-01"}, "body.dateOfJoining"),
        ({"employmentType": "slave"}, "body.employmentType"),
        ({"salary": 1}, "body.salary"),
    ],
)
def test_create_rejects_bad_fields_with_422_per_field(api, refs, fields, field):
    response = api.call("POST", "/employees", json=_body(refs, **fields))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_create_with_unknown_references_is_422_per_field(api, refs):
    response = api.call("POST", "/employees", json=_body(refs, departmentId=str(uuid4()), managerId=str(uuid4())))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.departmentId", "body.managerId"}


def test_duplicates_are_409(api, refs):
    first = _hire(api, refs, pan=PAN, aadhaar=AADHAAR)
    for fields in ({"email": first["email"].upper()}, {"pan": PAN}, {"aadhaar": "2341-2341-2346"}):
        response = api.call("POST", "/employees", json=_body(refs, **fields))
        assert response.status_code == 409, response.text
        assert response.json()["errors"][0]["type"] == "duplicate"


def test_create_replays_with_the_same_idempotency_key(api, refs):
    body = _body(refs)
    first = api.call("POST", "/employees", json=body, headers={"Idempotency-Key": "hire-1"})
    again = api.call("POST", "/employees", json=body, headers={"Idempotency-Key": "hire-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


# ---------------------------------------------------------------- GET /employees


def test_list_filters_searches_and_paginates(api, refs):
    other_department = api.department("OPS")
    boss = _hire(api, refs, firstName="Meera", lastName="Iyer")
    for n in range(4):
        _hire(api, refs, firstName=f"Dev{n}", lastName="Kumar", managerId=boss["employeeId"])
    _hire(api, refs, firstName="Sita", lastName="Devi", departmentId=other_department)

    by_department = api.call("GET", "/employees", params={"departmentId": other_department}).json()
    assert [e["firstName"] for e in by_department["items"]] == ["Sita"]
    by_manager = api.call("GET", "/employees", params={"managerId": boss["employeeId"]}).json()
    assert len(by_manager["items"]) == 4
    assert [e["lastName"] for e in api.call("GET", "/employees", params={"q": "MEERA"}).json()["items"]] == ["Iyer"]
    assert api.call("GET", "/employees", params={"status": "terminated"}).json()["items"] == []

    seen, cursor = [], None
    while True:
        page = api.call("GET", "/employees", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len({e["employeeId"] for e in seen}) == 6
    assert [e["lastName"] for e in seen] == ["Devi", "Iyer", "Kumar", "Kumar", "Kumar", "Kumar"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 0}, 422),
        ({"limit": 201}, 422),
        ({"status": "retired"}, 422),
        ({"departmentId": "nope"}, 422),
        ({"q": "x" * 101}, 422),
        ({"cursor": "garbage!"}, 400),
    ],
)
def test_list_rejects_bad_query_parameters(api, params, status):
    response = api.call("GET", "/employees", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


# ---------------------------------------------------------------- GET /employees/{id}


def test_get_returns_the_employee_and_404_for_unknown_malformed_or_foreign_ids(api, refs, platform_actor):
    employee = _hire(api, refs, pan=PAN)
    got = api.call("GET", f"/employees/{employee['employeeId']}")
    assert got.status_code == 200
    assert got.json() == employee
    assert api.call("GET", f"/employees/{uuid4()}").status_code == 404
    assert api.call("GET", "/employees/not-a-uuid").status_code == 404

    foreign = _foreign_employee_id(api.client, platform_actor)
    for method in ("GET", "PATCH", "DELETE"):
        kwargs = {"json": {"firstName": "X"}} if method == "PATCH" else {}
        assert api.call(method, f"/employees/{foreign}", **kwargs).status_code == 404
    assert api.call("GET", f"/employees/{foreign}/leave-balances").status_code == 404


def _foreign_employee_id(client: httpx.Client, platform_actor: Any) -> str:
    """An employee of another tenant, hired through that tenant's own admin."""
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"t-{uuid4().hex[:10]}"
    other = service.create_tenant(NewTenant(name="Other", slug=slug, admin_email=f"admin@{slug}.io"), platform_actor)
    with transaction() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(other.schema_name, "users"))
        )
    user = find_user_by_email(slug, other.admin_email)
    other_api = Api(client, other, tokens.issue(str(user.user_id), "admin", tid=str(other.tenant_id)))
    return _hire(other_api, {"departmentId": other_api.department("X"), "designationId": other_api.designation("Y")})[
        "employeeId"
    ]


# ---------------------------------------------------------------- PATCH /employees/{id}


def test_update_changes_fields_and_refuses_cycles_and_bad_values(api, refs):
    boss = _hire(api, refs, firstName="Boss")
    report = _hire(api, refs, firstName="Report", managerId=boss["employeeId"])
    path = f"/employees/{report['employeeId']}"

    updated = api.call("PATCH", path, json={"last_name": "Sharma", "aadhaar": AADHAAR, "status": "on_leave"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["lastName"], updated.json()["aadhaarMasked"], updated.json()["status"]) == (
        "Sharma",
        "XXXX-XXXX-2346",
        "on_leave",
    )

    cycle = api.call("PATCH", f"/employees/{boss['employeeId']}", json={"managerId": report["employeeId"]})
    assert cycle.status_code == 422
    assert cycle.json()["errors"][0]["field"] == "body.managerId"
    for bad, field in (
        ({"email": None}, "body.email"),
        ({"pan": "12345ABCDE"}, "body.pan"),
        ({"status": "fired"}, "body.status"),
        ({"dateOfLeaving": "2000-01-01"}, "body.dateOfLeaving"),
    ):
        response = api.call("PATCH", path, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert api.call("PATCH", f"/employees/{uuid4()}", json={"firstName": "X"}).status_code == 404

    duplicate = api.call("PATCH", f"/employees/{boss['employeeId']}", json={"aadhaar": "2341 2341 2346"})
    assert duplicate.status_code == 409


# ---------------------------------------------------------------- DELETE /employees/{id}


def test_delete_terminates_without_removing_the_record(api, refs):
    employee = _hire(api, refs)
    path = f"/employees/{employee['employeeId']}"
    gone = api.call("DELETE", path)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "terminated"
    assert dt.date.fromisoformat(gone.json()["dateOfLeaving"]) >= dt.date(2025, 7, 1)
    assert api.call("GET", path).json()["status"] == "terminated"

    dated = _hire(api, refs)
    response = api.call("DELETE", f"/employees/{dated['employeeId']}", json={"dateOfLeaving": "2025-09-30"})
    assert response.status_code == 200, response.text
    assert response.json()["dateOfLeaving"] == "2025-09-30"
    early = api.call("DELETE", f"/employees/{dated['employeeId']}", json={"dateOfLeaving": "2025-06-30"})
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "body.dateOfLeaving"
    assert api.call("DELETE", f"/employees/{uuid4()}").status_code == 404


# ---------------------------------------------------------------- GET /employees/{id}/leave-balances


def test_leave_balances_are_pro_rata_for_the_joining_year(api, refs):
    this_year = dt.datetime.now(ZoneInfo("Asia/Kolkata")).year  # the tenant's current leave year
    employee = _hire(api, refs, dateOfJoining=f"{this_year}-07-01")  # July..December: half a year
    path = f"/employees/{employee['employeeId']}/leave-balances"
    response = api.call("GET", path)  # the current leave year by default
    assert response.status_code == 200, response.text
    by_code = {b["code"]: b for b in response.json()}
    assert by_code["annual"]["allocated"] == 9
    assert by_code["sick"]["allocated"] == 6
    assert by_code["casual"]["allocated"] == 3
    assert set(by_code["annual"]) >= {"leaveTypeId", "code", "year", "allocated", "used", "pending", "available"}
    assert by_code["annual"]["available"] == 9
    assert {b["year"] for b in response.json()} == {this_year}
    assert api.call("GET", path, params={"year": this_year - 1}).json() == []
    assert api.call("GET", path, params={"year": "soon"}).status_code == 422
    assert api.call("GET", f"/employees/{uuid4()}/leave-balances").status_code == 404


# ---------------------------------------------------------------- scope and permissions


def test_manager_sees_their_reporting_line_and_employee_only_themself(api, refs):
    boss = _hire(api, refs, firstName="Boss", lastName="A")
    lead = _hire(api, refs, firstName="Lead", lastName="B", managerId=boss["employeeId"])
    dev = _hire(api, refs, firstName="Dev", lastName="C", managerId=lead["employeeId"])
    outsider = _hire(api, refs, firstName="Out", lastName="D")

    manager = api.token_for(lead["employeeId"], "manager")
    listed = api.call("GET", "/employees", token=manager).json()["items"]
    assert {e["employeeId"] for e in listed} == {lead["employeeId"], dev["employeeId"]}
    assert api.call("GET", f"/employees/{dev['employeeId']}", token=manager).status_code == 200
    assert api.call("GET", f"/employees/{dev['employeeId']}/leave-balances", token=manager).status_code == 200
    for hidden in (boss, outsider):
        assert api.call("GET", f"/employees/{hidden['employeeId']}", token=manager).status_code == 404
        assert api.call("GET", f"/employees/{hidden['employeeId']}/leave-balances", token=manager).status_code == 404
    assert api.call("POST", "/employees", token=manager, json=_body(refs)).status_code == 403

    employee = api.token_for(dev["employeeId"], "employee")
    assert [e["employeeId"] for e in api.call("GET", "/employees", token=employee).json()["items"]] == [
        dev["employeeId"]
    ]
    assert api.call("GET", f"/employees/{lead['employeeId']}", token=employee).status_code == 404
    patch = api.call("PATCH", f"/employees/{dev['employeeId']}", token=employee, json={"firstName": "Me"})
    assert patch.status_code == 403


def test_temporary_password_blocks_the_routes(client, tenant, tenant_admin_token):
    assert client.get("/employees", headers=bearer(tenant_admin_token)).status_code == 403


def test_logs_never_carry_the_identifiers(api, refs, capfd):
    employee = _hire(api, refs, pan=PAN, aadhaar=AADHAAR)
    api.call("PATCH", f"/employees/{employee['employeeId']}", json={"pan": "ZYXWV9876A"})
    api.call("POST", "/employees", json=_body(refs, pan=PAN))  # 409
    api.call("POST", "/employees", json=_body(refs, aadhaar="234123412345"))  # 422
    out, err = capfd.readouterr()
    for plain in (*PLAINTEXTS, "ZYXWV9876A", "234123412345"):
        assert plain not in out and plain not in err
