"""The export sheet writers (no servers): formula escaping, typed values, and files that parse back."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from hrms.exports.sheets import Sheet, escape, open_writer

PEOPLE = Sheet("people", ("name", "phone", "joined", "salary", "count"))
HOSTILE_NAME = '=HYPERLINK("http://evil.example","click")'


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def _xlsx(path: Path, sheet: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+91 98765 43210", "'+91 98765 43210"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Asha", "Asha"),
        ("a=b", "a=b"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_leading_quote(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_csv_escapes_text_and_writes_typed_values_plainly(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with open_writer("csv", path, [PEOPLE]) as writer:
        writer.write(PEOPLE, [HOSTILE_NAME, "+91 98765 43210", dt.date(2024, 1, 31), Decimal("1234.50"), 7])
        writer.write(PEOPLE, ["José", None, None, Decimal("-12.00"), -3])
        writer.write(PEOPLE, ["Big", "98765", dt.date(2024, 2, 1), Decimal("1E+3"), 0])
    assert writer.rows == 3

    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the file as UTF-8
    assert _csv(path) == [
        ["name", "phone", "joined", "salary", "count"],
        ["'" + HOSTILE_NAME, "'+91 98765 43210", "2024-01-31", "1234.50", "7"],
        ["José", "", "", "-12.00", "-3"],  # negative numbers are numbers, never escaped
        ["Big", "98765", "2024-02-01", "1000", "0"],  # never an exponent
    ]


def test_csv_timestamps_are_utc(tmp_path: Path) -> None:
    sheet = Sheet("t", ("at",))
    path = tmp_path / "t.csv"
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    with open_writer("csv", path, [sheet]) as writer:
        writer.write(sheet, [dt.datetime(2024, 1, 1, 5, 30, tzinfo=india)])
    assert _csv(path)[1] == ["2024-01-01T00:00:00Z"]


def test_xlsx_escapes_text_and_writes_numbers_and_dates_as_typed_cells(tmp_path: Path) -> None:
    path = tmp_path / "people.xlsx"
    with open_writer("xlsx", path, [PEOPLE]) as writer:
        writer.write(PEOPLE, [HOSTILE_NAME, "+91 98765 43210", dt.date(2024, 1, 31), Decimal("1234.50"), 7])
        writer.write(PEOPLE, ["José", None, None, Decimal("-999999999999.99"), -3])

    rows = _xlsx(path, "people")
    assert rows[0] == ("name", "phone", "joined", "salary", "count")
    name, phone, joined, salary, count = rows[1]
    assert (name, phone) == ("'" + HOSTILE_NAME, "'+91 98765 43210")
    assert joined == dt.datetime(2024, 1, 31)  # a date cell (openpyxl reads dates back as datetimes)
    assert isinstance(salary, float) and Decimal(str(salary)) == Decimal("1234.5")
    assert count == 7
    assert rows[2] == ("José", None, None, -999999999999.99, -3)

    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    # The stored numbers are the decimals themselves, never a float's rounding of them.
    assert "<v>1234.5</v>" in sheet_xml and "<v>-999999999999.99</v>" in sheet_xml
    assert "<f>" not in sheet_xml  # no formula anywhere
    book = openpyxl.load_workbook(path)
    assert book["people"]["D2"].number_format == "0.00"  # shown with its two decimals
    assert book["people"]["C2"].is_date and book["people"]["A2"].data_type == "s"


def test_xlsx_replaces_characters_it_cannot_hold(tmp_path: Path) -> None:
    sheet = Sheet("t", ("text",))
    path = tmp_path / "t.xlsx"
    with open_writer("xlsx", path, [sheet]) as writer:
        writer.write(sheet, ["bell\x07 and\x1f unit"])
    assert _xlsx(path, "t")[1] == ("bell\ufffd and\ufffd unit",)


def test_several_sheets_are_worksheets_in_xlsx_and_sections_in_csv(tmp_path: Path) -> None:
    balances = Sheet("balances", ("employeeCode", "leaveType", "available"))
    requests = Sheet("requests", ("employeeCode", "leaveType", "startDate", "status"))
    for file_format in ("csv", "xlsx"):
        path = tmp_path / f"leave.{file_format}"
        with open_writer(file_format, path, [balances, requests]) as writer:
            writer.write(balances, ["EMP-1", "annual", Decimal("12.5")])
            writer.write(requests, ["EMP-1", "annual", dt.date(2024, 2, 5), "approved"])
        assert writer.rows == 2
        if file_format == "csv":
            assert _csv(path) == [
                ["section", "employeeCode", "leaveType", "available", "startDate", "status"],
                ["balances", "EMP-1", "annual", "12.5", "", ""],
                ["requests", "EMP-1", "annual", "", "2024-02-05", "approved"],
            ]
        else:
            assert _xlsx(path, "balances") == [("employeeCode", "leaveType", "available"), ("EMP-1", "annual", 12.5)]
            assert _xlsx(path, "requests") == [
                ("employeeCode", "leaveType", "startDate", "status"),
                ("EMP-1", "annual", dt.datetime(2024, 2, 5), "approved"),
            ]


def test_a_row_of_the_wrong_width_is_refused(tmp_path: Path) -> None:
    for file_format in ("csv", "xlsx"):
        with open_writer(file_format, tmp_path / f"x.{file_format}", [PEOPLE]) as writer, pytest.raises(ValueError):
            writer.write(PEOPLE, ["only one"])


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        open_writer("ods", tmp_path / "x.ods", [PEOPLE])
