"""Import files read as rows of text with the file's line numbers, and their headers (no servers)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from hrms.imports.columns import Columns, Record
from hrms.imports.models import CSV, XLSX
from hrms.imports.problems import Problem
from hrms.imports.readers import FileProblem, lines

COLUMNS = Columns(required=("email", "firstName"), optional=("phone",))


def read(content: bytes, declared: str = CSV) -> list[tuple[int, list[str]]]:
    return [(line.number, line.cells) for line in lines(io.BytesIO(content), declared)]


def workbook(*rows: list[object]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_line_numbers_are_where_each_record_starts_and_blank_lines_are_skipped() -> None:
    content = b'\xef\xbb\xbfemail,firstName\n\na@x.example.com,"two\nlines"\nb@x.example.com,Bo\n'
    assert read(content) == [
        (1, ["email", "firstName"]),
        (3, ["a@x.example.com", "two\nlines"]),
        (5, ["b@x.example.com", "Bo"]),
    ]


def test_xlsx_cells_become_text_and_row_numbers_are_the_sheets() -> None:
    content = workbook(
        ["email", "when", "n", "x", "ok"], [], ["a@x.example.com", dt.datetime(2024, 4, 1), 12.0, 2.5, True]
    )
    assert read(content, XLSX) == [
        (1, ["email", "when", "n", "x", "ok"]),
        (3, ["a@x.example.com", "2024-04-01", "12", "2.5", "true"]),
    ]


@pytest.mark.parametrize(
    ("content", "declared", "reason"),
    [
        (b"PK\x03\x04rest", CSV, "declared as CSV but is a ZIP"),
        (b"email\n", XLSX, "declared as an XLSX workbook but is not one"),
        (b"PK\x03\x04rest", XLSX, "not a readable XLSX"),
        (b"email\n\xff\xfe\n", CSV, "not CSV text in UTF-8"),
        (b"email\x00\n", CSV, "NUL"),
    ],
)
def test_content_decides_the_format_and_a_mismatch_fails_the_file(content: bytes, declared: str, reason: str) -> None:
    with pytest.raises(FileProblem, match=reason):
        read(content, declared)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"email,firstName,shoeSize", "unknown column"),
        (b"email,FIRSTNAME,firstname", "named twice: firstName"),
        (b"email,phone", "missing required column"),
    ],
)
def test_a_wrong_header_fails_the_file_naming_what_is_wrong(header: bytes, reason: str) -> None:
    with pytest.raises(FileProblem, match=reason):
        list(COLUMNS.records(lines(io.BytesIO(header + b"\nx,y\n"), CSV)))


def test_an_empty_file_or_a_blank_first_line_has_no_header() -> None:
    for content in (b"", b"\nemail,firstName\n"):
        with pytest.raises(FileProblem, match="no header"):
            list(COLUMNS.records(lines(io.BytesIO(content), CSV)))


def test_records_map_columns_in_any_order_and_flag_rows_of_the_wrong_shape() -> None:
    content = b"FirstName , EMAIL\nAsha,a@x.example.com\nBo,b@x.example.com,extra\n" + b"Cy," + b"c" * 1001 + b"\n"
    found = list(COLUMNS.records(lines(io.BytesIO(content), CSV)))
    assert found[0] == Record(2, {"email": "a@x.example.com", "firstName": "Asha", "phone": ""})
    assert found[1] == Problem(3, None, "The row has more cells than the header has columns.")
    assert found[2] == Problem(4, "email", "Longer than 1000 characters.")


def test_more_data_rows_than_the_limit_fail_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from hrms.imports import columns

    monkeypatch.setattr(columns, "MAX_ROWS", 2)
    content = b"email,firstName\na,b\nc,d\ne,f\n"
    with pytest.raises(FileProblem, match="more than 2 data rows"):
        list(COLUMNS.records(lines(io.BytesIO(content), CSV)))
