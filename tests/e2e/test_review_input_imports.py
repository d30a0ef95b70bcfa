"""Hostile import files through the gateway (review of input handling): workbooks whose sheet claims a
million rows and every column, cells past the last column, ZIP bombs and header cells of any length.

Each import must end (succeeded or failed with a short reason) well within the worker's 15 s timeout;
a refused file writes no employee and no user.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

from hrms.imports.limits import MAX_XLSX_EXPANDED_BYTES
from hrms.imports.models import CSV, XLSX
from tests.e2e.http_world import Org
from tests.e2e.test_imports_api import imported
from tests.integration.import_files import EMPLOYEE_HEADER, csv_bytes, people, xlsx_bytes


def _sheet_edited(content: bytes, edit: Callable[[str], str]) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = edit(data.decode()).encode()
            target.writestr(item, data)
    return out.getvalue()


def _stores(org: Org) -> tuple[int, int]:
    return (
        int(org.sql("SELECT count(*) AS n FROM {}", "employees")[0]["n"]),
        int(org.sql("SELECT count(*) AS n FROM {}", "users")[0]["n"]),
    )


def test_a_workbook_claiming_the_whole_sheet_is_imported_as_what_it_holds(org: Org) -> None:
    """The sheet's dimension says A1:XFD1048576 and an empty cell sits at XFD1048576: the reader used to pad
    every row to 16,384 columns down to there (minutes of CPU; the worker times out and the import stays
    `validating` for ever). The rows it really holds are imported."""
    before = _stores(org)
    rows = people(2, "claim.example.com")

    def claim(xml: str) -> str:
        xml = re.sub(r"<dimension [^>]*/>", "", xml)
        xml = xml.replace("<sheetData>", '<dimension ref="A1:XFD1048576"/><sheetData>', 1)
        return xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"/></row></sheetData>')

    job = imported(org, "employees", _sheet_edited(xlsx_bytes(EMPLOYEE_HEADER, rows), claim), XLSX)
    assert (job["status"], job["total"], job["succeeded"]) == ("succeeded", 2, 2), job
    assert _stores(org) == (before[0] + 2, before[1])


def test_a_cell_far_past_the_header_fails_its_row_and_writes_nothing(org: Org) -> None:
    """A value at column XFD of a data row used to be dropped silently (openpyxl cut rows to the sheet's
    dimension); it is a cell the header does not name, so the row is an error."""
    before = _stores(org)
    far = '<c r="XFD3" t="inlineStr"><is><t>=HYPERLINK("http://x.example.com")</t></is></c></row>'

    def smuggle(xml: str) -> str:
        rows = xml.split("</row>")
        rows[2] = rows[2] + far.removesuffix("</row>")
        return "</row>".join(rows)

    content = _sheet_edited(xlsx_bytes(EMPLOYEE_HEADER, people(2, "far.example.com")), smuggle)
    job = imported(org, "employees", content, XLSX)
    assert job["status"] == "failed", job
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, None)], job
    assert _stores(org) == before


def test_a_workbook_inflating_past_the_limit_is_refused_before_it_is_parsed(org: Org) -> None:
    before = _stores(org)
    padding = "<!--" + " " * (MAX_XLSX_EXPANDED_BYTES + 1) + "-->"
    content = _sheet_edited(xlsx_bytes(EMPLOYEE_HEADER, people(1)), lambda xml: xml + padding)
    assert len(content) < 1_000_000
    job = imported(org, "employees", content, XLSX)
    assert job["status"] == "failed" and "expands to more than" in job["reason"], job
    assert _stores(org) == before


def test_a_huge_unknown_header_is_named_briefly(org: Org) -> None:
    """A header cell of 100,000 characters (a formula, here) used to be copied whole into the job's reason:
    stored, and sent back on every GET /imports."""
    before = _stores(org)
    header = [*EMPLOYEE_HEADER, "=HYPERLINK(" + "x" * 100_000 + ")"]
    job = imported(org, "employees", csv_bytes(header, [[*row, ""] for row in people(1)]), CSV)
    assert job["status"] == "failed" and "unknown column(s)" in job["reason"], job["reason"][:200]
    assert len(job["reason"]) < 1_000, len(job["reason"])
    listed = org.call("GET", "/imports", params={"limit": 1})
    assert listed.status_code == 200 and len(listed.content) < 10_000
    assert _stores(org) == before
