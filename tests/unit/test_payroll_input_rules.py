"""Which salary structures and weekend settings the models accept: pure validation, no servers.

A structure is refused when its deductions exceed its earnings for every CTC a salary may have
(0.01 to 999,999,999,999.99 a year): short for some CTCs only is a matter for the run.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hrms.payroll.models import NewSalaryStructure
from hrms.settings.models import SettingsUpdate


def line(code: str, kind: str, calc: str, value: str) -> dict[str, Any]:
    return {"code": code, "name": code.title(), "kind": kind, "calc": calc, "value": value}


BASIC_40_OF_CTC = line("basic", "earning", "percent_of_ctc", "40")

SHORT_AT_EVERY_CTC = {
    # 40% + 10% of 40% = 44% of the CTC earned; 100% + 50% of 40% = 60% deducted
    "percent of basic past the earnings": [
        BASIC_40_OF_CTC,
        line("hra", "earning", "percent_of_basic", "10"),
        line("pf", "deduction", "percent_of_basic", "100"),
        line("tax", "deduction", "percent_of_basic", "50"),
    ],
    # 40% of the CTC earned, 40% + 1% deducted
    "all of basic and a percent of CTC": [
        BASIC_40_OF_CTC,
        line("pf", "deduction", "percent_of_basic", "100"),
        line("levy", "deduction", "percent_of_ctc", "1"),
    ],
    # a fixed basic of 10,000.00 and 10,000.01 deducted, whatever the CTC
    "fixed amounts": [line("basic", "earning", "fixed", "10000"), line("loan", "deduction", "fixed", "10000.01")],
    # 40% + 100 earned, 50% + 100 deducted: short by 10% of the CTC, from the smallest CTC on
    "fixed parts even, percentages short": [
        BASIC_40_OF_CTC,
        line("special", "earning", "fixed", "100"),
        line("pf", "deduction", "percent_of_ctc", "50"),
        line("pt", "deduction", "fixed", "100"),
    ],
    # 1% of the largest CTC is 833,333,333.33 a month: still short of the deduction
    "short even at the largest CTC": [
        line("basic", "earning", "percent_of_ctc", "1"),
        line("fine", "deduction", "fixed", "999999999999.99"),
    ],
}

SHORT_FOR_SOME_CTCS_OR_NONE = {
    # 35.2% of the monthly CTC net of PF, less 200: short below a CTC of 6,818.18 a year, not above
    "a fixed tax on a small salary": [
        BASIC_40_OF_CTC,
        line("pf", "deduction", "percent_of_basic", "12"),
        line("pt", "deduction", "fixed", "200"),
    ],
    # a percentage of CTC deducted from a fixed basic: short only above a CTC of 2,40,000
    "a fixed basic, a percent of CTC deducted": [
        line("basic", "earning", "fixed", "20000"),
        line("pf", "deduction", "percent_of_ctc", "100"),
    ],
    # 0.01 of fixed pay more than the percentages take, at the smallest CTC
    "fixed parts ahead by a paisa": [
        BASIC_40_OF_CTC,
        line("special", "earning", "fixed", "100.01"),
        line("pf", "deduction", "percent_of_ctc", "50"),
        line("pt", "deduction", "fixed", "100"),
    ],
    # deductions equal to the earnings: a net of exactly zero is not negative
    "deductions equal to the earnings": [BASIC_40_OF_CTC, line("pf", "deduction", "percent_of_basic", "100")],
    "no deductions": [BASIC_40_OF_CTC],
}


@pytest.mark.parametrize("components", SHORT_AT_EVERY_CTC.values(), ids=SHORT_AT_EVERY_CTC.keys())
def test_a_structure_short_at_every_ctc_is_refused(components: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError) as refused:
        NewSalaryStructure.model_validate({"name": "Short", "components": components})
    [error] = refused.value.errors()
    assert error["loc"] == ("components",)
    assert error["msg"] == (
        "Value error, the deductions exceed the earnings whatever the CTC: net pay would always be negative"
    )


@pytest.mark.parametrize("components", SHORT_FOR_SOME_CTCS_OR_NONE.values(), ids=SHORT_FOR_SOME_CTCS_OR_NONE.keys())
def test_a_structure_that_pays_for_some_ctc_is_accepted(components: list[dict[str, Any]]) -> None:
    structure = NewSalaryStructure.model_validate({"name": "Fine", "components": components})
    assert [c.code for c in structure.components] == [c["code"] for c in components]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("BASIC", "basic"), ("Basic", "basic"), ("  basic ", "basic"), ("HRA_2026", "hra_2026"), ("pf", "pf")],
)
def test_component_codes_are_case_insensitive_and_stored_in_lower_case(sent: str, stored: str) -> None:
    components = [{**BASIC_40_OF_CTC, "code": "basic"}, line("x", "earning", "fixed", "1")]
    components[0 if stored == "basic" else 1]["code"] = sent
    structure = NewSalaryStructure.model_validate({"name": "Codes", "components": components})
    assert stored in [c.code for c in structure.components]


@pytest.mark.parametrize("code", ["1basic", "ba-sic", "b" * 33, "\u212a", "BAS IC", ""])
def test_a_code_outside_the_pattern_in_any_case_is_refused(code: str) -> None:
    components = [BASIC_40_OF_CTC, line("x", "earning", "fixed", "1")]
    components[1] = {**components[1], "code": code}
    with pytest.raises(ValidationError) as refused:
        NewSalaryStructure.model_validate({"name": "Codes", "components": components})
    assert refused.value.errors()[0]["loc"] == ("components", 1, "code")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (["SAT", "SUN"], [6, 7]),
        (["Saturday", "sunday"], [6, 7]),
        ([6, 7], [6, 7]),
        ([7, 6], [6, 7]),
        (["6", "7"], [6, 7]),
        (["fri", " Sat "], [5, 6]),
        (["Friday"], [5]),
        ([], []),
    ],
)
def test_weekend_days_are_accepted_as_names_or_numbers_and_kept_as_iso_numbers(
    sent: list[Any], stored: list[int]
) -> None:
    body = SettingsUpdate.model_validate({"settings": {"currency": "INR", "weekendDays": sent}, "expectedVersion": 3})
    assert body.settings == {"currency": "INR", "weekendDays": stored}


@pytest.mark.parametrize(
    "sent",
    [["SAT", 6], [0], [8], ["sa"], ["Samstag"], [True], [6.0], [None], "SAT", 6, list(range(1, 9))],
)
def test_other_weekend_days_are_refused(sent: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        SettingsUpdate.model_validate({"settings": {"weekendDays": sent}, "expectedVersion": 0})
    assert refused.value.errors()[0]["loc"] == ("settings",)
    assert "weekendDays" in refused.value.errors()[0]["msg"]
