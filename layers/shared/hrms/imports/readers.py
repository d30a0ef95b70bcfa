"""Rows of an uploaded file as text cells with the file's line numbers, streamed (memory flat with size).

The format is told by the content, not by the declared type: an XLSX workbook is a ZIP archive (it
starts with `PK\\x03\\x04`); anything else must be UTF-8 text (a BOM is allowed) without NUL, read as
CSV (comma-separated, double quotes). A file whose content is not the type it was declared as, or
not either, fails as a whole (`FileProblem`).

- CSV: the line number is the physical line a record starts on (a quoted cell may span lines).
- XLSX: the first worksheet, read with openpyxl in read-only mode over the (seekable) temporary file;
  the line number is the spreadsheet's row number. A workbook whose parts inflate past
  `MAX_XLSX_EXPANDED_BYTES` is refused before it is parsed. The sheet's own `dimension` claim is ignored
  (it could pad every row to 16,384 columns and every gap to a million rows, or hide cells past it).
  Cells become text: dates as YYYY-MM-DD, whole numbers without `.0`, booleans as true/false; formulas
  as their cached value (`data_only`).
Rows whose cells are all blank are skipped. Line 1 is the header. A line keeps its first `WIDTH` cells
(one more than a header may name); `Line.overflow` says whether any cell after those holds a value.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from hrms.imports.limits import MAX_COLUMNS, MAX_XLSX_EXPANDED_BYTES
from hrms.imports.models import CSV, XLSX

_ZIP_MAGIC = b"PK\x03\x04"
WIDTH = MAX_COLUMNS + 1


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Line:
    number: int
    cells: list[str]
    overflow: bool = False  # a cell after the first `WIDTH` holds a value (they are not kept)

    @property
    def blank(self) -> bool:
        return not self.overflow and not any(cell.strip() for cell in self.cells)


def _line(number: int, values: Sequence[Any]) -> Line:
    """The line of a row's values: the first `WIDTH` as text, and whether any after them holds a value,
    blanks included (counted in C: a row may reach column XFD, 16,384 cells, and a million rows may)."""
    rest = values[WIDTH:]
    filled = len(rest) - rest.count(None) - rest.count("")
    return Line(number, [_text(value) for value in values[:WIDTH]], overflow=filled > 0)


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
            yield _line(start, cells)
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

    _refuse_expansion(file)
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # any parser failure on untrusted bytes means "not a workbook"
        raise FileProblem("The file is not a readable XLSX workbook.") from exc
    try:
        if not book.worksheets:
            raise FileProblem("The workbook has no worksheet.")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read-only mode: a ReadOnlyWorksheet
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a damaged sheet part, as above
                raise FileProblem(f"The workbook cannot be read past row {number}.") from exc
            number += 1
            yield _line(number, values)
    finally:
        book.close()


def _refuse_expansion(file: IO[bytes]) -> None:
    """FileProblem if the archive's parts inflate to more than `MAX_XLSX_EXPANDED_BYTES` in all. The sizes
    are the central directory's; a part inflating past its stated size fails its CRC check when read."""
    try:
        with zipfile.ZipFile(file) as archive:
            expanded = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:  # damaged or hostile bytes: not a workbook
        raise FileProblem("The file is not a readable XLSX workbook.") from exc
    finally:
        file.seek(0)
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        limit = MAX_XLSX_EXPANDED_BYTES / (1024 * 1024)
        raise FileProblem(f"The workbook expands to more than {limit:g} MB; save it as CSV or split it.")


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
