"""Row errors of an import: collected during validation, the first `KEPT_ERRORS` kept on the job, every
one written as the CSV report (row, column, message). Messages never echo a cell's value: they end up
in responses, logs and a spreadsheet (no PAN in a log, no formula smuggled into the report)."""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from typing import IO

from hrms.imports.limits import KEPT_ERRORS


@dataclass(frozen=True, order=True)
class Problem:
    row: int  # the file's line number (header = 1); 0 for the file as a whole
    column: str | None
    message: str

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Problems:
    found: list[Problem] = field(default_factory=list)

    def add(self, problems: list[Problem]) -> None:
        self.found.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.found)

    @property
    def count(self) -> int:
        return len(self.found)

    @property
    def rows(self) -> int:
        """How many data rows have at least one error."""
        return len({p.row for p in self.found if p.row > 1})

    def first(self) -> list[dict[str, object]]:
        return [p.as_json() for p in sorted(self.found)[:KEPT_ERRORS]]

    def report(self) -> IO[bytes]:
        """Every problem as CSV (header row, column, message) in a temporary file, by line."""
        out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["row", "column", "message"])
        writer.writerows([p.row, p.column or "", p.message] for p in sorted(self.found))
        text.flush()
        text.detach()
        return out
