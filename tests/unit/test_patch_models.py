"""The PATCH rule: a field may be omitted; `null` clears only fields declared NULLABLE, and is a 422
naming the field anywhere else (never a NOT NULL violation in the database)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hrms.employees.models import EmployeePatch
from hrms.leave.models import LeaveTypePatch
from hrms.org.models import DepartmentPatch, DesignationPatch
from hrms.payroll.models import SalaryStructurePatch
from hrms.tenants.models import TenantPatch
from hrms.users.models import UserPatch

# Written by hand from API.md: which fields of each PATCH body may be set to null.
NULLABLE_FIELDS: dict[type, set[str]] = {
    UserPatch: {"employeeId"},
    EmployeePatch: {"phone", "pan", "aadhaar", "managerId", "dateOfLeaving"},
    DepartmentPatch: {"parentId", "headEmployeeId", "description"},
    DesignationPatch: {"level", "departmentId"},
    TenantPatch: {"description"},
    LeaveTypePatch: set(),
    SalaryStructurePatch: set(),
}


def _aliases(model: type) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", list(NULLABLE_FIELDS), ids=lambda m: m.__name__)
def test_null_is_refused_for_every_field_but_the_nullable_ones(model: Any) -> None:
    for alias in _aliases(model):
        if alias in NULLABLE_FIELDS[model]:
            patch = model.model_validate({alias: None})
            assert patch.model_dump(exclude_unset=True, by_alias=True) == {alias: None}
        else:
            with pytest.raises(ValidationError) as caught:
                model.model_validate({alias: None})
            errors = caught.value.errors()
            assert [(e["loc"], e["msg"]) for e in errors] == [((alias,), "Value error, may be omitted but not null")], (
                alias
            )


@pytest.mark.parametrize("model", list(NULLABLE_FIELDS), ids=lambda m: m.__name__)
def test_an_empty_patch_changes_nothing(model: Any) -> None:
    assert model.model_validate({}).model_dump(exclude_unset=True) == {}


def test_snake_case_keys_follow_the_same_rule() -> None:
    with pytest.raises(ValidationError):
        UserPatch.model_validate({"status": None})
    assert UserPatch.model_validate({"employee_id": None}).model_fields_set == {"employee_id"}
