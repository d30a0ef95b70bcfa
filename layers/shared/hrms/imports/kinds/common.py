"""What every kind's checker uses: who imports, and row errors from a model's validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from pydantic import ValidationError

from hrms.imports.problems import Problem
from hrms.tenancy import Actor


@dataclass(frozen=True)
class Importer:
    """The user who started the import, as admission would see them now (the worker re-reads them)."""

    import_id: UUID
    actor: Actor
    employee_id: UUID | None
    emails: frozenset[str]  # their user's and their employee record's addresses, lower case

    @property
    def tenant_id(self) -> UUID:
        assert self.actor.tenant is not None
        return self.actor.tenant.tenant_id

    def is_self(self, email: str | None = None, employee_id: UUID | None = None) -> bool:
        return (email is not None and email.lower() in self.emails) or (
            employee_id is not None and employee_id == self.employee_id
        )


SELF = "A row about yourself: nobody imports their own record; ask another HR user."


def model_problems(line: int, error: ValidationError, columns: Mapping[str, str]) -> list[Problem]:
    """The errors of validating a row's model, on the file's columns (`columns`: model field -> column)."""
    found = []
    for item in error.errors(include_url=False, include_input=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        found.append(Problem(line, columns.get(field, field or None), message[:1].upper() + message[1:] + "."))
    return found


def required(line: int, column: str) -> Problem:
    return Problem(line, column, "Required.")


def decode_email(value: str | None) -> str | None:
    return value.lower() if value else None
