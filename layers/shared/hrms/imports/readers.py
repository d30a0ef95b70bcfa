"""Rows of an uploaded file as text cells with the file's line numbers, streamed (memory flat with size).

The format is told by the content, not by the declared type: an XLSX workbook is a ZIP archive (it
starts with `PK\\x03\\x04`); anything else must be UTF-8 text (a BOM is allowed) without NUL, read as
CSV (comma-separated, double quotes). A file whose content is not the type it was declared as, or
not either, fails as a whole (`FileProblem`).

- CSV: the line number is the physical line a record starts on (a quoted cell may span lines).
- XLSX: the first worksheet, read with openpyxl in read-only mode over the (seekable) temporary file;
  the line number is the spreadsheet's row number. Cells become text: dates as YYYY-MM-DD, whole
  numbers without `.0`, booleans as true/false; formulas as their cached value (`data_only`).
Rows whose cells are all blank are skipped. Line 1 is the header.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from hrms.imports.models import CSV, XLSX

_ZIP_MAGIC = b"PK\x03\x04"


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Line:
    number: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


def lines(file: IO[bytes], declared: str) -> Iterator[Line]:
    """Every non-blank row of `file` (header first), as declared `text/csv` or XLSX."""
    file.seek(0)
    is_zip = file.read(4) == _ZIP_MAGIC
    file.seek(0)
    if declared == XLSX and not is_zip:
        raise FileProblem("The file was declared as an XLSX workbook but is not one.")
    if declared == CSV and is_zip:
        raise FileProblem("The file was declared as CSV but is a ZIP archive (an XLSX workbook?).")
    found = _xlsx(file) if is_zip else _csv(file)
    return (line for line in found if not line.blank)


def _csv(file: IO[bytes]) -> Iterator[Line]:
    text = codecs.getreader("utf-8-sig")(file, "strict")
    reader = csv.reader(_no_nul(text), strict=True)
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            yield Line(start, cells)
    except UnicodeDecodeError as exc:
        raise FileProblem(f"The file is not CSV text in UTF-8 (line {reader.line_num + 1}).") from exc
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from exc


def _no_nul(text: Iterator[str]) -> Iterator[str]:
    for chunk in text:
        if "\x00" in chunk:
            raise FileProblem("The file is not CSV text: it holds NUL bytes (a binary file?).")
        yield chunk


def _xlsx(file: IO[bytes]) -> Iterator[Line]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # any parser failure on untrusted bytes means "not a workbook"
        raise FileProblem("The file is not a readable XLSX workbook.") from exc
    try:
        if not book.worksheets:
            raise FileProblem("The workbook has no worksheet.")
        rows = book.worksheets[0].iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a damaged sheet part, as above
                raise FileProblem(f"The workbook cannot be read past row {number}.") from exc
            number += 1
            yield Line(number, [_text(value) for value in values])
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(Decimal(str(value)), "f")
    return str(value)
