"""The kinds of import: each module names its columns (`COLUMNS`) and a `Checker` with the contract below.

A checker is made once per run (with the run's write transaction's tenant and the importer) and sees
the file twice, in chunks of `CHUNK` records:
- `check(tx, records)` during the first pass: every rule of one chunk (batched lookups), returning
  its row errors and remembering what later rows and `finish` need (keys seen, references);
- `finish(tx)` after the last chunk: the rules that need the whole file (references to later rows,
  reporting-line cycles);
- `write(tx, chunks)` only when no row had an error: the second pass, in the one write transaction,
  set-based and audited; returns the rows written.
Modules are imported by name when a run needs them, like the approvals registry's entity handlers.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Protocol

from hrms.db.postgres import TenantTx
from hrms.imports.columns import Columns, Record
from hrms.imports.kinds.common import Importer
from hrms.imports.problems import Problem

CHUNK = 500

MODULES = {
    "employees": "hrms.imports.kinds.employees",
    "salaries": "hrms.imports.kinds.salaries",
    "leave-balances": "hrms.imports.kinds.leave_balances",
}


class Checker(Protocol):
    def check(self, tx: TenantTx, records: list[Record]) -> list[Problem]: ...

    def finish(self, tx: TenantTx) -> list[Problem]: ...

    def write(self, tx: TenantTx, chunks: Iterator[list[Record]]) -> int: ...


class KindModule(Protocol):
    COLUMNS: Columns

    def checker(self, importer: Importer) -> Checker: ...


def kind(name: str) -> KindModule:
    module: KindModule = importlib.import_module(MODULES[name])
    return module
