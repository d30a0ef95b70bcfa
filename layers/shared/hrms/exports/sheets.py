"""Writing rows into a CSV or XLSX file, one row at a time, so memory stays flat however many there are.

Rules for every cell:
- Text that a spreadsheet would read as a formula or a command starts with `=`, `+`, `-`, `@`, a tab
  or a carriage return: it gets a leading single quote (`'+91 98765 43210`, `'=HYPERLINK(...)`), so it
  stays text. Only text is escaped: numbers, negative ones included, are typed values.
- Numbers and dates are typed values. XLSX: numeric cells and date cells. A spreadsheet number is a
  double, exact to 15 significant digits, which covers every amount the payroll stores (numeric(14,2));
  openpyxl writes it with 16, so the stored value is the decimal itself, and the cell's number format
  shows the Decimal's own places (`1234.50`, not `1234.5`). CSV: plain decimal strings (`1234.50`, never
  an exponent or a float) and ISO dates. A timestamp is written in UTC (XLSX cannot hold a time zone).
- XLSX cannot hold the control characters below U+0020 other than tab, LF and CR: they become U+FFFD.
- None is an empty cell.

A file holds one or more sheets, declared up front. XLSX gives each its own worksheet. CSV has one
table: with a single sheet it is that sheet's columns; with several (the leave export) the first
column is `section` (the sheet's name) followed by every sheet's columns in order of first appearance,
and a row fills only its own sheet's columns. CSV is UTF-8 with a byte-order mark, which Excel needs
to read anything but ASCII.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

Cell = str | int | Decimal | dt.date | dt.datetime | None

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SECTION = "section"


@dataclass(frozen=True)
class Sheet:
    name: str  # an XLSX worksheet title: at most 31 characters, none of []:*?/\
    columns: tuple[str, ...]


class Writer(Protocol):
    rows: int  # data rows written so far

    def write(self, sheet: Sheet, values: Sequence[Cell]) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Writer: ...

    def __exit__(self, *exc: object) -> None: ...


def escape(text: str) -> str:
    """Text as a spreadsheet shows it, never run: a leading quote before a formula or command start."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def open_writer(file_format: str, path: Path, sheets: Sequence[Sheet]) -> Writer:
    """A writer of `sheets` into a new file at `path`; `close()` finishes the file."""
    if file_format == "csv":
        return CsvWriter(path, sheets)
    if file_format == "xlsx":
        return XlsxWriter(path, sheets)
    raise ValueError(f"unknown export format {file_format!r}")


class _Closing:
    """`with open_writer(...) as writer:` finishes the file on the way out, whatever happened (an
    XLSX's temporary worksheet files are removed only when the workbook is saved)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Writer:
        return self  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self.close()


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)


class CsvWriter(_Closing):
    def __init__(self, path: Path, sheets: Sequence[Sheet]) -> None:
        self.rows = 0
        self._sectioned = len(sheets) > 1
        columns: list[str] = [SECTION] if self._sectioned else []
        for sheet in sheets:
            columns += [c for c in sheet.columns if c not in columns]
        self._position = {name: i for i, name in enumerate(columns)}
        self._width = len(columns)
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow([escape(c) for c in columns])

    def write(self, sheet: Sheet, values: Sequence[Cell]) -> None:
        if len(values) != len(sheet.columns):
            raise ValueError(f"{sheet.name}: {len(values)} values for {len(sheet.columns)} columns")
        line = [""] * self._width
        if self._sectioned:
            line[0] = sheet.name
        for column, value in zip(sheet.columns, values, strict=True):
            line[self._position[column]] = self._text(value)
        self._csv.writerow(line)
        self.rows += 1

    def close(self) -> None:
        self._file.close()

    @staticmethod
    def _text(value: Cell) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return escape(value)
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, dt.datetime):
            return _utc(value).isoformat(timespec="seconds") + "Z"
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            raise TypeError("no booleans in exports")
        return str(value)


class XlsxWriter(_Closing):
    def __init__(self, path: Path, sheets: Sequence[Sheet]) -> None:
        from openpyxl import Workbook

        self.rows = 0
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheets: dict[str, Any] = {}
        for sheet in sheets:
            worksheet = self._book.create_sheet(sheet.name)
            worksheet.append([escape(c) for c in sheet.columns])
            self._sheets[sheet.name] = worksheet

    def write(self, sheet: Sheet, values: Sequence[Cell]) -> None:
        if len(values) != len(sheet.columns):
            raise ValueError(f"{sheet.name}: {len(values)} values for {len(sheet.columns)} columns")
        worksheet = self._sheets[sheet.name]
        worksheet.append([self._cell(worksheet, value) for value in values])
        self.rows += 1

    def close(self) -> None:
        self._book.save(self._path)

    @staticmethod
    def _cell(worksheet: Any, value: Cell) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, str):
            return _NOT_IN_XLSX.sub("\ufffd", escape(value))
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(worksheet, value)  # type: ignore[arg-type]  # openpyxl takes Decimal
            exponent = value.as_tuple().exponent
            places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            cell.number_format = "0." + "0" * places if places else "0"
            return cell
        if isinstance(value, dt.datetime):
            return _utc(value)
        if isinstance(value, bool):
            raise TypeError("no booleans in exports")
        return value  # int, date (openpyxl gives it a date format), None
