"""The header of an import file and its data rows as {column: text}.

Header names are matched case-insensitively, in any order, surrounding blanks ignored. An unknown or
repeated name, a missing required one, or no header at all fails the file (`FileProblem`, naming
them, each cut short: the reason is shown and stored, and a header cell can be any text). A row longer
than the header, or a cell over `MAX_CELL_CHARS`, is a row error; a file with more than `MAX_ROWS` data
rows fails whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hrms.imports.limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS
from hrms.imports.problems import Problem
from hrms.imports.readers import FileProblem, Line

SHOWN_NAMES = 10  # header names quoted in a reason, at most
SHOWN_CHARS = 40  # of each


@dataclass(frozen=True)
class Record:
    """A data row: its line number and a text value for every column of the kind ("" when blank)."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str | None:
        """The cell without surrounding blanks, or None when blank."""
        value = self.values.get(column, "").strip()
        return value or None


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional

    def positions(self, header: Line) -> list[str | None]:
        """The column each header cell names (None for trailing blank cells); FileProblem if the header is wrong."""
        if header.number != 1:
            raise FileProblem("The file has no header row: line 1 must name the columns.")
        names = [cell.strip() for cell in header.cells]
        while names and not names[-1]:
            names.pop()
        if len(names) > MAX_COLUMNS or header.overflow:
            count = f"more than {MAX_COLUMNS}" if header.overflow else str(len(names))
            raise FileProblem(f"The header has {count} columns; at most {MAX_COLUMNS} are allowed.")
        known = {name.lower(): name for name in self.all}
        found = [known.get(name.lower()) for name in names]
        unknown = [name or "(blank)" for name, column in zip(names, found, strict=True) if column is None]
        repeated = sorted({c for c in found if c is not None and found.count(c) > 1})
        missing = [name for name in self.required if name not in found]
        reasons = []
        if unknown:
            reasons.append(f"unknown column(s) {_shown(unknown)}")
        if repeated:
            reasons.append(f"column(s) named twice: {', '.join(repeated)}")
        if missing:
            reasons.append(f"missing required column(s) {', '.join(missing)}")
        if reasons:
            expected = ", ".join(self.required) + (f" (optional: {', '.join(self.optional)})" if self.optional else "")
            raise FileProblem(f"The header is not valid: {'; '.join(reasons)}. Expected columns: {expected}.")
        return list(found)

    def records(self, lines: Iterator[Line]) -> Iterator[Record | Problem]:
        """The data rows after the header, each a `Record` or, if its shape is wrong, a `Problem`."""
        header = next(lines, None)
        if header is None:
            raise FileProblem("The file is empty: it has no header row.")
        positions = self.positions(header)
        for count, line in enumerate(lines, start=1):
            if count > MAX_ROWS:
                raise FileProblem(f"The file has more than {MAX_ROWS} data rows; split it into several imports.")
            yield self._record(positions, line)

    def _record(self, positions: list[str | None], line: Line) -> Record | Problem:
        extra = [cell for cell in line.cells[len(positions) :] if cell.strip()]
        if extra or line.overflow:
            return Problem(line.number, None, "The row has more cells than the header has columns.")
        values = dict.fromkeys(self.all, "")
        for column, cell in zip(positions, line.cells, strict=False):
            if column is None:
                continue
            if len(cell) > MAX_CELL_CHARS:
                return Problem(line.number, column, f"Longer than {MAX_CELL_CHARS} characters.")
            values[column] = cell
        return Record(line.number, values)


def _shown(names: list[str]) -> str:
    """Names from a file, quoted briefly: the first `SHOWN_NAMES`, each cut to `SHOWN_CHARS`."""
    shown = [name if len(name) <= SHOWN_CHARS else name[:SHOWN_CHARS] + "…" for name in names[:SHOWN_NAMES]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
