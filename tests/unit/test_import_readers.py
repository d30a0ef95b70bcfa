"""Import files read as rows of text with the file's line numbers, and their headers (no servers)."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
import zipfile
from collections.abc import Callable

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


# ---------------------------------------------------------------- hostile workbooks (review of input handling)


def _with_sheet_xml(content: bytes, edit: Callable[[str], str]) -> bytes:
    """The workbook `content` with its first worksheet's XML rewritten by `edit` (what a hand-made or
    generated file could hold and Excel itself would not write)."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


def _claiming(dimension: str, extra_rows: str = "") -> Callable[[str], str]:
    def edit(xml: str) -> str:
        xml = re.sub(r"<dimension [^>]*/>", "", xml)
        xml = xml.replace("<sheetData>", f'<dimension ref="{dimension}"/><sheetData>', 1)
        return xml.replace("</sheetData>", extra_rows + "</sheetData>", 1)

    return edit


def test_a_sheet_claiming_every_column_yields_rows_no_wider_than_the_column_limit() -> None:
    from hrms.imports.limits import MAX_COLUMNS

    content = _with_sheet_xml(workbook(["email", "firstName"], ["a@x.example.com", "Asha"]), _claiming("A1:XFD2"))
    found = list(lines(io.BytesIO(content), XLSX))
    assert [line.number for line in found] == [1, 2]
    assert all(len(line.cells) <= MAX_COLUMNS + 1 for line in found), [len(line.cells) for line in found]
    assert [line.cells[:2] for line in found] == [["email", "firstName"], ["a@x.example.com", "Asha"]]


def test_a_sheet_claiming_a_million_rows_is_read_in_moments() -> None:
    """A 5 KB workbook whose dimension claims the whole sheet (A1:XFD1048576) and holds a row at the last
    one: read as it is (three rows), not padded to 16,384 columns by a million rows (minutes of CPU, past
    the worker's timeout, the import stuck in `validating`)."""
    last = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>z@x.example.com</t></is></c></row>'
    content = _with_sheet_xml(
        workbook(["email", "firstName"], ["a@x.example.com", "Asha"]), _claiming("A1:XFD1048576", last)
    )
    result: list[list[int]] = []
    reader = threading.Thread(target=lambda: result.append([line.number for line in lines(io.BytesIO(content), XLSX)]))
    reader.daemon = True
    reader.start()
    reader.join(timeout=20)
    assert result == [[1, 2, 1048576]], "the reader was still padding rows after 20 s"


def test_a_cell_past_the_column_limit_is_still_an_extra_cell() -> None:
    far = '<c r="XFD{row}" t="inlineStr"><is><t>smuggled</t></is></c></row>'

    def edit(xml: str) -> str:
        rows = xml.split("</row>")
        return rows[0] + "</row>" + rows[1] + far.format(row=2) + "</row>".join(rows[2:])

    content = _with_sheet_xml(workbook(["email", "firstName"], ["a@x.example.com", "Asha"]), edit)
    assert list(COLUMNS.records(lines(io.BytesIO(content), XLSX))) == [
        Problem(2, None, "The row has more cells than the header has columns.")
    ]
    header_far = _with_sheet_xml(
        workbook(["email", "firstName"], ["a@x.example.com", "Asha"]),
        lambda xml: xml.replace("</row>", far.format(row=1), 1),
    )
    with pytest.raises(FileProblem, match="columns; at most"):
        list(COLUMNS.records(lines(io.BytesIO(header_far), XLSX)))


def test_a_workbook_expanding_past_the_limit_fails_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ZIP bomb: a few KB that inflate to more than the worker's memory (a shared string of gigabytes)."""
    from hrms.imports import readers

    monkeypatch.setattr(readers, "MAX_XLSX_EXPANDED_BYTES", 1_000_000)
    padding = "<!--" + " " * 2_000_000 + "-->"
    content = _with_sheet_xml(workbook(["email", "firstName"]), lambda xml: xml + padding)
    assert len(content) < 50_000
    with pytest.raises(FileProblem, match="expands to more than"):
        read(content, XLSX)


def test_an_unknown_header_is_named_briefly_however_long_it_is() -> None:
    header = b"email,firstName," + b"=HYPERLINK(" + b"x" * 100_000 + b")," + b",".join(b"c%d" % n for n in range(40))
    with pytest.raises(FileProblem) as refused:
        list(COLUMNS.records(lines(io.BytesIO(header + b"\nx,y\n"), CSV)))
    assert len(str(refused.value)) < 1_000, len(str(refused.value))
    assert "unknown column(s)" in str(refused.value) and "more" in str(refused.value)
