"""Tenant lifecycle: create, list, get, update/suspend, features, check and recovery.

Creation (users never see a tenant without its schema):
- On the control database's own cell (`default`, the only one unless cells are configured): one transaction,
  registry row + schema + tables + defaults + admin user, all or nothing.
- On another cell (hrms.db.cells.place chose it) it spans two databases, in three steps:
  1. control: the registry row, status 'provisioning' (the slug is taken; nobody can sign in: the cell has
     no row for it yet);
  2. the cell, one transaction: the cell's row of the tenant (status 'active'), schema, tables, defaults, admin;
  3. control: 'provisioning' -> 'active'.
  Sign-in and every request read the tenant's row and schema in its cell, which appear together at step 2.
  A crash between steps leaves a 'provisioning' row (after 1 or 2) or, when recovery removed that row while
  step 2 was still running, a cell row with no registry row. `recover` (`hrms tenant check --recover`)
  finishes a 'provisioning' tenant whose cell has it whole, removes one whose cell has nothing, and drops
  cell rows and schemas the registry does not place there; a creation that finds its registry row gone at
  step 3 undoes step 2 itself.
- Lifecycle changes that the request path reads in the cell (status, features) are written to the registry
  and to the tenant's row in its cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from uuid import UUID

import psycopg

from hrms.db import cells
from hrms.db.postgres import Conn, transaction
from hrms.errors import Conflict, DependencyDown, NotFound
from hrms.migrations.files import latest_version
from hrms.pagination import DEFAULT_LIMIT, Page, decode_keyset, encode_cursor
from hrms.tenancy import Actor, schema_name_for
from hrms.tenants import defaults, repo
from hrms.tenants.models import (
    CreatedTenant,
    NewTenant,
    TenantDetail,
    TenantFeatures,
    TenantPatch,
    TenantSummary,
)


def create_tenant(new: NewTenant, actor: Actor, *, fixed: FixedIds | None = None) -> CreatedTenant:
    """Registry row, schema, tables, defaults and admin user in one transaction: all or nothing.

    `fixed` pins ids and the admin password (only for the local demo tenant the samples in events/ use).
    """
    from hrms.auth.passwords import hash_password, temporary_password  # argon2: CreateTenant imports it at init

    schema_name = fixed.schema_name if fixed else schema_name_for(new.slug)
    password = fixed.admin_password if fixed else temporary_password()
    password_hash = hash_password(password)
    org_settings = defaults.organization_settings(**new.settings.model_dump())
    row: dict[str, Any] = {
        "name": new.name,
        "slug": new.slug,
        "schema_name": schema_name,
        "admin_email": new.admin_email,
        "description": new.description,
        "settings": new.settings.model_dump(),
    }

    def lay_out(conn: Conn) -> None:
        repo.create_schema(conn, schema_name)
        repo.seed_defaults(conn, schema_name, org_settings)
        repo.insert_admin_user(
            conn,
            schema_name,
            new.admin_email,
            password_hash,
            user_id=fixed.admin_user_id if fixed else None,
            must_change_password=fixed is None,
        )

    audited = {"slug": new.slug, "schemaName": schema_name, "adminEmail": new.admin_email}
    try:
        with transaction() as conn:
            cell = cells.DEFAULT if cells.single() else cells.place(conn)
            here = cell == cells.DEFAULT
            tenant_id = repo.insert_tenant(
                conn,
                tenant_id=fixed.tenant_id if fixed else None,
                cell=cell,
                status="active" if here else "provisioning",
                **row,
            )
            if tenant_id is None:
                raise Conflict(f"The slug '{new.slug}' is already taken.")
            if here:
                lay_out(conn)
            repo.audit(conn, tenant_id, "tenant.created" if here else "tenant.provisioning", actor.user_id, audited)
    except psycopg.errors.UniqueViolation as exc:  # a concurrent create of the same slug
        raise Conflict(f"The slug '{new.slug}' is already taken.") from exc
    if not here:
        _provision(cell, tenant_id, row, lay_out, actor, audited)
    return CreatedTenant(
        tenant_id=tenant_id,
        schema_name=schema_name,
        slug=new.slug,
        status="active",
        admin_email=new.admin_email,
        admin_temporary_password=password,
    )


def step(name: str) -> None:
    """Called between the steps of a creation on another cell (`provisioned`: after step 2): a point where a
    process may die. Tests replace it to inject such a crash; it does nothing otherwise."""


def _provision(
    cell: str, tenant_id: UUID, row: dict[str, Any], lay_out: Callable[[Conn], None], actor: Actor, audited: Any
) -> None:
    """Steps 2 and 3 of a creation on another cell (module notes)."""
    step("registered")
    try:
        with transaction(cell) as conn:
            cells.register(conn)
            if repo.insert_tenant(conn, tenant_id=tenant_id, cell=cell, **row) is None:  # an orphan's slug
                raise Conflict(f"The slug '{row['slug']}' is still held in cell '{cell}'; run recovery.")
            lay_out(conn)
        step("provisioned")
        with transaction() as conn:
            if not repo.finish_provisioning(conn, tenant_id):
                raise Conflict("The tenant's creation was abandoned (recovery removed it); create it again.")
            repo.audit(conn, tenant_id, "tenant.created", actor.user_id, {**audited, "cell": cell})
    except Exception:  # undo what this creation did, if it can; what it cannot, `recover` finds
        _abandon(cell, tenant_id, str(row["schema_name"]))
        raise
    cells.forget(tenant_id, str(row["slug"]))


def _abandon(cell: str, tenant_id: UUID, schema_name: str) -> None:
    try:
        with transaction() as conn:
            if not repo.abandon_provisioning(conn, tenant_id):
                return  # it became active meanwhile: keep it
        with transaction(cell) as conn:
            repo.delete_registration(conn, tenant_id)
            repo.drop_schema(conn, schema_name)
    except DependencyDown:
        pass  # `recover` removes it later


@dataclass(frozen=True)
class Recovered:
    """What `recover` did: tenants it finished, registrations it removed, orphans it dropped from cells."""

    finished: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # "<cell>/<schema>"
    unreachable: list[str] = field(default_factory=list)  # cells that did not answer
    moved: list[str] = field(default_factory=list)  # moved tenants whose old copy went now (hrms.tenants.moves)


def recover(older_than_s: float = 300.0) -> Recovered:
    """Finish or remove creations that died midway, and drop what cells hold that the registry does not place
    there (module notes). Only registrations older than `older_than_s` are touched: a creation in progress
    is left alone."""
    done = Recovered()
    with transaction() as conn:
        stuck = repo.provisioning(conn, older_than_s)
    for tenant in stuck:
        try:
            with transaction(tenant.cell) as conn:
                whole = tenant.tenant_id in {i for i, _ in repo.hosted(conn)} and bool(
                    repo.table_names(conn, tenant.schema_name)
                )
                if not whole:  # step 2 never committed: nothing of it can be there, but be sure
                    repo.delete_registration(conn, tenant.tenant_id)
                    repo.drop_schema(conn, tenant.schema_name)
        except DependencyDown:
            done.unreachable.append(tenant.cell)
            continue
        with transaction() as conn:
            if whole:
                if repo.finish_provisioning(conn, tenant.tenant_id):
                    repo.audit(conn, tenant.tenant_id, "tenant.created", "recovery", {"cell": tenant.cell})
                    done.finished.append(tenant.slug)
            else:
                repo.delete_registration(conn, tenant.tenant_id)
                repo.audit(conn, tenant.tenant_id, "tenant.abandoned", "recovery", {"cell": tenant.cell})
                done.removed.append(tenant.slug)
    for name in cells.configured():
        if name == cells.DEFAULT:
            continue  # the registry itself: its rows are the truth
        _drop_orphans(name, older_than_s, done)
    return done


def _drop_orphans(cell: str, older_than_s: float, done: Recovered) -> None:
    try:
        with transaction(cell) as conn:
            hosted = repo.hosted_before(conn, older_than_s)
        if not hosted:
            return
        with transaction() as conn:
            placed = repo.registered(conn, [i for i, _ in hosted], cell)
        orphans = [(i, schema) for i, schema in hosted if i not in placed]
        if not orphans:
            return
        with transaction(cell) as conn:
            for tenant_id, schema in orphans:
                repo.delete_registration(conn, tenant_id)
                repo.drop_schema(conn, schema)
                done.orphans.append(f"{cell}/{schema}")
    except DependencyDown:
        done.unreachable.append(cell)


@dataclass(frozen=True)
class FixedIds:
    tenant_id: UUID
    schema_name: str
    admin_user_id: UUID
    admin_password: str


def list_tenants(status: str | None, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page[TenantSummary]:
    after = decode_keyset(cursor, str)
    with transaction() as conn:
        rows = repo.list_tenants(conn, status=status, after_slug=after[0] if after else None, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        counts = repo.employee_counts(conn, [row for row in page if row.cell == cells.DEFAULT])
    counts.update(_remote_counts([row for row in page if row.cell != cells.DEFAULT]))
    items = [_summary(row, counts.get(row.tenant_id, 0)) for row in page]
    return Page(items=items, next_cursor=encode_cursor([page[-1].slug]) if more else None)


def get_tenant(tenant_id: UUID) -> TenantDetail:
    with transaction() as conn:
        return _detail(conn, _existing(conn, tenant_id))


def update_tenant(tenant_id: UUID, patch: TenantPatch, actor: Actor) -> TenantDetail:
    changes = patch.model_dump(exclude_unset=True)
    with transaction() as conn:
        before = _existing(conn, tenant_id, for_update=True)
        if changes:
            repo.update_tenant(conn, tenant_id, changes)
            if before.cell != cells.DEFAULT:  # the tenant's row in its cell, which requests read
                with transaction(before.cell) as cell_conn:
                    repo.update_tenant(cell_conn, tenant_id, changes)
            action = {"suspended": "tenant.suspended", "active": "tenant.activated"}.get(
                changes.get("status", ""), "tenant.updated"
            )
            repo.audit(
                conn,
                tenant_id,
                action,
                actor.user_id,
                {"before": {k: getattr(before, k) for k in changes}, "after": changes},
            )
        return _detail(conn, _existing(conn, tenant_id))


def get_features(tenant_id: UUID) -> TenantFeatures:
    with transaction() as conn:
        _existing(conn, tenant_id)
        return TenantFeatures(features=repo.get_features(conn, tenant_id))


def set_features(tenant_id: UUID, features: dict[str, bool], actor: Actor) -> TenantFeatures:
    """Replace the tenant's platform-level switches with exactly `features`."""
    with transaction() as conn:
        row = _existing(conn, tenant_id, for_update=True)
        before = repo.get_features(conn, tenant_id)
        repo.replace_features(conn, tenant_id, features)
        if row.cell != cells.DEFAULT:  # requests read them in the tenant's cell
            with transaction(row.cell) as cell_conn:
                repo.replace_features(cell_conn, tenant_id, features)
        repo.audit(conn, tenant_id, "tenant.features_set", actor.user_id, {"before": before, "after": features})
        return TenantFeatures(features=features)


@dataclass(frozen=True)
class TenantCheck:
    """What `hrms tenant check` reports."""

    tenant: TenantDetail
    schema_exists: bool
    tables: list[str]
    latest_version: int
    cell: str = cells.DEFAULT

    @property
    def healthy(self) -> bool:
        return self.schema_exists and self.tenant.schema_version == self.latest_version


def check_tenant(id_or_slug: str) -> TenantCheck:
    with transaction() as conn:
        row = repo.find_tenant(conn, id_or_slug)
        if row is None:
            raise NotFound(f"No tenant '{id_or_slug}'.")
    with transaction(row.cell) as conn:  # the schema lives in the tenant's cell
        if row.cell != cells.DEFAULT:  # the cell's row has the schema version its migrations reached
            here = repo.get_tenant(conn, row.tenant_id)
            row = replace(row, schema_version=here.schema_version) if here else row
        tables = repo.table_names(conn, row.schema_name)
        detail = _detail(conn, row) if tables else TenantDetail(**asdict(row), employee_count=0)
    return TenantCheck(detail, bool(tables), tables, latest_version("tenant"), row.cell)


def _existing(conn: repo.Conn, tenant_id: UUID, *, for_update: bool = False) -> repo.TenantRow:
    row = repo.get_tenant(conn, tenant_id, for_update=for_update)
    if row is None:
        raise NotFound("No such tenant.")
    return row


def _detail(conn: repo.Conn, row: repo.TenantRow) -> TenantDetail:
    counts = repo.employee_counts(conn, [row]) if row.cell == cells.DEFAULT else _remote_counts([row])
    return TenantDetail(**asdict(row), employee_count=counts.get(row.tenant_id, 0))


def _remote_counts(rows: list[repo.TenantRow]) -> dict[UUID, int]:
    """Employee counts of tenants on other cells, one query per cell; a cell that does not answer counts 0."""
    counts: dict[UUID, int] = {}
    for cell in sorted({row.cell for row in rows}):
        try:
            with transaction(cell) as conn:
                counts.update(repo.employee_counts(conn, [row for row in rows if row.cell == cell]))
        except DependencyDown:
            continue
    return counts


def _summary(row: repo.TenantRow, employee_count: int) -> TenantSummary:
    fields = {k: v for k, v in asdict(row).items() if k in TenantSummary.model_fields}
    return TenantSummary(**fields, employee_count=employee_count)
