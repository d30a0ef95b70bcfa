"""problem+json documents built from domain errors."""

from __future__ import annotations

import json

from hrms.errors import Conflict
from hrms.http.responses import problem_from


def test_extra_members_add_to_the_standard_ones_without_replacing_them() -> None:
    error = Conflict("Already run.", payrollRunId="r1", status="draft", type="https://elsewhere.example/x")
    response = problem_from(error)
    body = json.loads(response.body)
    assert response.status_code == 409
    assert body["status"] == 409 and body["type"] == "https://hrms.dev/problems/conflict"
    assert (body["detail"], body["payrollRunId"], body["errors"]) == ("Already run.", "r1", [])
