"""One run of an import, in the worker: claim, validate every row, then write all of it or nothing.

1. Claim: `queued` -> `validating` (a redelivered event finds the job taken or finished and stops).
2. The importer as admission would see them now: still active and holding `imports:write`, or the
   import fails. Their user is the actor of every audit row the run writes.
3. The upload is copied to a temporary file; a first pass reads it in chunks, each checked by the
   kind's checker (`hrms.imports.kinds`), then the whole-file rules. Nothing is written.
4. Any row error, or a file that cannot be read (`FileProblem`: format, header, limits): `failed`, with
   the first 100 errors on the job and every one in the CSV report. A dry run stops here (`succeeded`).
5. `running`; a second pass over the same copy writes every row in one transaction, which also marks
   the job `succeeded`. A write refused by the database (a concurrent change took an email meanwhile)
   rolls back whole: `failed`, nothing written.
An unexpected error puts the job back to `queued` and raises, so SQS delivers the event again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar
from uuid import UUID

import psycopg

from hrms.auth import credentials, policy
from hrms.db.postgres import tenant_tx, transaction
from hrms.errors import DomainError
from hrms.imports import repo, storage
from hrms.imports.columns import Columns, Record
from hrms.imports.kinds import CHUNK, Checker, kind
from hrms.imports.kinds.common import Importer
from hrms.imports.problems import Problem, Problems
from hrms.imports.readers import FileProblem, lines
from hrms.imports.repo import ImportRow
from hrms.observability import logger
from hrms.tenancy import Actor, Tenant

T = TypeVar("T")
PERMISSION = "imports:write"


class Refused(Exception):
    """The import cannot run at all; the message is the job's reason."""


def run(tenant: Tenant, import_id: UUID) -> None:
    with tenant_tx(tenant) as tx:
        job = repo.claim(tx, import_id)
    if job is None:
        logger.info("Import already taken or finished; nothing to do", extra={"importId": str(import_id)})
        return
    try:
        _run(tenant, job)
    except Exception:
        with tenant_tx(tenant) as tx:
            repo.set_status(tx, job.id, "queued", 0)
        raise


def _run(tenant: Tenant, job: ImportRow) -> None:
    fallback = Actor(str(job.started_by), job.started_role or "admin", tenant)
    try:
        importer = _importer(tenant, job)
    except Refused as exc:
        _fail(tenant, fallback, job, str(exc), Problems(), 0)
        return
    module = kind(job.kind)
    checker = module.checker(importer)
    with storage.spool(job.object_key) as file:
        try:
            problems, total = _validate(tenant, importer, module.COLUMNS, checker, file, job.content_type)
        except FileProblem as exc:
            _fail(tenant, importer.actor, job, str(exc), Problems(), 0)
            return
        if problems:
            reason = f"{problems.rows or 1} row(s) have errors; nothing was written."
            _fail(tenant, importer.actor, job, reason, problems, total)
            return
        if job.dry_run:
            _finish(tenant, importer.actor, job, {"status": "succeeded", "total": total, "succeeded": total})
            return
        with tenant_tx(tenant, importer.actor) as tx:
            repo.set_status(tx, job.id, "running", total)
        try:
            with tenant_tx(tenant, importer.actor) as tx:
                written = checker.write(tx, _chunks(_records(module.COLUMNS, file, job.content_type)))
                repo.finish(tx, job.id, _outcome({"status": "succeeded", "total": total, "succeeded": written}))
        except (DomainError, psycopg.errors.IntegrityError) as exc:
            detail = exc.detail if isinstance(exc, DomainError) else "a row conflicts with a change made meanwhile"
            _fail(
                tenant,
                importer.actor,
                job,
                f"The rows could not be written ({detail}); nothing was written.",
                Problems(),
                total,
            )


def _importer(tenant: Tenant, job: ImportRow) -> Importer:
    if job.started_by is None:
        raise Refused("The import has no starter.")
    with transaction() as conn:
        found = credentials.load(conn, tenant.schema_name, job.started_by)
    state = found[0] if found else None
    if state is None or not state.active or policy.scope_of(state.permissions, PERMISSION) is None:
        raise Refused("The user who started the import may no longer import (account or permission changed).")
    actor = Actor(str(state.user_id), state.role, tenant, employee_id=state.employee_id, permissions=state.permissions)
    with tenant_tx(tenant, actor) as tx:
        emails = repo.user_emails(tx, state.user_id)
    return Importer(job.id, actor, state.employee_id, frozenset(emails))


def _validate(
    tenant: Tenant, importer: Importer, columns: Columns, checker: Checker, file: IO[bytes], content_type: str
) -> tuple[Problems, int]:
    """The first pass: every row's errors (none written), and how many data rows there are."""
    problems, total = Problems(), 0
    with tenant_tx(tenant, importer.actor) as tx:
        for chunk in _chunks(columns.records(lines(file, content_type))):
            total += len(chunk)
            problems.add([item for item in chunk if isinstance(item, Problem)])
            problems.add(checker.check(tx, [item for item in chunk if isinstance(item, Record)]))
        problems.add(checker.finish(tx))
    if total == 0 and not problems:
        raise FileProblem("The file has a header but no data rows.")
    return problems, total


def _records(columns: Columns, file: IO[bytes], content_type: str) -> Iterator[Record]:
    """The second pass: the rows again (all valid: the first pass found no error in them)."""
    for item in columns.records(lines(file, content_type)):
        assert isinstance(item, Record)
        yield item


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fail(tenant: Tenant, actor: Actor, job: ImportRow, reason: str, problems: Problems, total: int) -> None:
    outcome: dict[str, Any] = {"status": "failed", "total": total, "failed": problems.rows, "reason": reason}
    if problems:
        key = storage.report_key(tenant.tenant_id, job.id)
        with problems.report() as report:
            storage.put_report(key, report)
        outcome.update(errors=problems.first(), error_count=problems.count, error_report_key=key)
    _finish(tenant, actor, job, outcome)


def _finish(tenant: Tenant, actor: Actor, job: ImportRow, outcome: dict[str, Any]) -> None:
    with tenant_tx(tenant, actor) as tx:
        repo.finish(tx, job.id, _outcome(outcome))


def _outcome(values: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "total": 0,
        "succeeded": 0,
        "failed": 0,
        "reason": None,
        "errors": [],
        "error_count": 0,
        "error_report_key": None,
    }
    return {**base, **values}
