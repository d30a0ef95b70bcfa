"""Payroll input through the local gateway: net pay never negative, codes in any case, weekend names.

The org's manager (EMP-000001) and their report (EMP-000002) are both "Asha Rao", hired 2024-01-01.
February 2026 has 28 days, all paid.
"""

from __future__ import annotations

from typing import Any

import httpx
from psycopg import sql

from hrms.db.postgres import transaction
from tests.e2e.http_world import STRUCTURE, Org

# Basic 40% of the CTC, PF 12% of basic and a fixed professional tax of 200 a month.
THIN = {
    "name": "Thin",
    "components": [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
        {"code": "pf", "name": "PF", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
        {"code": "pt", "name": "Professional tax", "kind": "deduction", "calc": "fixed", "value": "200"},
    ],
}
# 40% + 10% of 40% = 44% of the CTC earned, 100% + 50% of 40% = 60% deducted: short at every CTC.
ALWAYS_SHORT = {
    "name": "Always short",
    "components": [
        {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": "40"},
        {"code": "hra", "name": "HRA", "kind": "earning", "calc": "percent_of_basic", "value": "10"},
        {"code": "pf", "name": "PF", "kind": "deduction", "calc": "percent_of_basic", "value": "100"},
        {"code": "tax", "name": "Tax", "kind": "deduction", "calc": "percent_of_basic", "value": "50"},
    ],
}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def _pay(org: Org, structure_id: str, employee: str, ctc: str, effective_from: str = "2024-01-01") -> None:
    body = {"salaryStructureId": structure_id, "annualCtc": ctc, "effectiveFrom": effective_from}
    _created(org.call("POST", f"/employees/{employee}/salaries", json=body))


def _tables(org: Org) -> dict[str, str]:
    """A digest of every table of the tenant's schema."""
    schema = org.tenant.schema_name
    with transaction() as conn:
        names = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        return {
            row["table_name"]: conn.execute(
                sql.SQL("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS d FROM {} t").format(
                    sql.Identifier(schema, row["table_name"])
                )
            ).fetchone()["d"]
            for row in names
        }


def test_a_run_with_a_negative_net_pay_is_refused_naming_the_employee_and_writes_nothing(org: Org) -> None:
    structure = _created(org.call("POST", "/salary-structures", json=THIN))["salaryStructureId"]
    _pay(org, structure, org.manager, "1200.00")  # monthly 100: basic 40.00 - PF 4.80 - tax 200 = -164.80
    _pay(org, structure, org.employee, "600000.00")  # monthly 50,000: 20,000 - 2,400 - 200 = 17,400.00
    before = _tables(org)

    problem = _problem(org.call("POST", "/payroll/runs", json={"month": "2026-02"}), 422)

    assert problem["employeeIds"] == [org.manager] and problem["employeeCount"] == 1
    assert problem["errors"] == [
        {
            "field": "employeeId",
            "type": "negative_net_pay",
            "message": "EMP-000001 Asha Rao: net pay would be -164.80 (earnings 40.00, deductions 204.80)",
            "employeeId": org.manager,
            "employeeCode": "EMP-000001",
        }
    ]
    assert problem["detail"].startswith("Net pay for 2026-02 would be negative for 1 employee(s)")
    assert org.call("GET", "/payroll/runs").json()["items"] == []
    assert _tables(org) == before  # no run, record, approval task, audit row or cache epoch

    _pay(org, structure, org.manager, "24000.00", "2026-02-01")  # monthly 2,000: 800 - 96 - 200 = 504.00
    run = _created(org.call("POST", "/payroll/runs", json={"month": "2026-02"}))
    assert (run["status"], run["employeeCount"]) == ("draft", 2)
    assert run["totals"] == {"gross": "20800.00", "deductions": "2896.00", "net": "17904.00"}


def test_a_structure_short_at_every_ctc_is_refused_and_a_fixed_deduction_one_is_not(org: Org) -> None:
    problem = _problem(org.call("POST", "/salary-structures", json=ALWAYS_SHORT), 422)
    assert [(e["field"], e["message"]) for e in problem["errors"]] == [
        (
            "body.components",
            "Value error, the deductions exceed the earnings whatever the CTC: net pay would always be negative",
        )
    ]
    assert org.call("GET", "/salary-structures").json()["items"] == []

    thin = _created(org.call("POST", "/salary-structures", json=THIN))  # short only on a small CTC
    path = f"/salary-structures/{thin['salaryStructureId']}"
    changed = _problem(org.call("PATCH", path, json={"components": ALWAYS_SHORT["components"]}), 422)
    assert [e["field"] for e in changed["errors"]] == ["body.components"]
    assert org.call("GET", path).json() == thin


def test_component_codes_in_any_case_are_stored_in_lower_case(org: Org) -> None:
    codes = ("BASIC", "Hra", "PF")
    shouted = {
        **STRUCTURE,
        "components": [{**c, "code": code} for c, code in zip(STRUCTURE["components"], codes, strict=True)],
    }
    created = _created(org.call("POST", "/salary-structures", json=shouted))
    assert [c["code"] for c in created["components"]] == ["basic", "hra", "pf"]
    assert [c["code"] for c in org.call("GET", f"/salary-structures/{created['salaryStructureId']}").json()[
        "components"
    ]] == ["basic", "hra", "pf"]  # fmt: skip

    # The upper-case BASIC is the basic the percentages are of: monthly 50,000 -> 25,000 + 10,000 - 3,000.
    _pay(org, created["salaryStructureId"], org.employee, "600000.00")
    run = _created(org.call("POST", "/payroll/runs", json={"month": "2026-02"}))
    records = org.call("GET", f"/payroll/runs/{run['payrollRunId']}/records").json()["items"]
    assert [[(c["code"], c["amount"]) for c in r["components"]] for r in records] == [
        [("basic", "25000.00"), ("hra", "10000.00"), ("pf", "3000.00")]
    ]
    twice = {**shouted, "name": "Twice", "components": [*shouted["components"], {**shouted["components"][1]}]}
    twice["components"][-1]["code"] = "hra"
    assert "unique" in str(_problem(org.call("POST", "/salary-structures", json=twice), 422)["errors"])


def test_weekend_days_are_accepted_as_names_and_kept_as_iso_numbers(org: Org) -> None:
    put = org.call("PUT", "/settings", json={"settings": {"weekendDays": ["Friday", "SAT"]}, "expectedVersion": 0})
    assert put.status_code == 200, put.text
    assert put.json()["settings"] == {"weekendDays": [5, 6]}
    assert org.call("GET", "/settings").json()["settings"] == {"weekendDays": [5, 6]}

    week = org.request()  # Monday 5 to Friday 9 February 2024: Friday is a weekend day now
    assert week.status_code == 201, week.text
    assert week.json()["days"] == 4

    for sent, version in ((["SAT", "SUN"], 1), (["Saturday", "sunday"], 2), ([7, 6], 3)):
        again = org.call("PUT", "/settings", json={"settings": {"weekendDays": sent}, "expectedVersion": version})
        assert again.status_code == 200, again.text
        assert again.json()["settings"] == {"weekendDays": [6, 7]}
    refused = _problem(
        org.call("PUT", "/settings", json={"settings": {"weekendDays": ["Caturday"]}, "expectedVersion": 4}), 422
    )
    assert "weekendDays" in str(refused["errors"])
    assert org.call("GET", "/settings").json()["version"] == 4
