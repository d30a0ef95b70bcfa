"""Tenant lifecycle: create (one transaction), list, get, update/suspend, features, check."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import UUID

import psycopg

from hrms.auth.passwords import hash_password, temporary_password
from hrms.db.postgres import transaction
from hrms.errors import Conflict, NotFound
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
    schema_name = fixed.schema_name if fixed else schema_name_for(new.slug)
    password = fixed.admin_password if fixed else temporary_password()
    password_hash = hash_password(password)
    org_settings = defaults.organization_settings(**new.settings.model_dump())
    try:
        with transaction() as conn:
            tenant_id = repo.insert_tenant(
                conn,
                tenant_id=fixed.tenant_id if fixed else None,
                name=new.name,
                slug=new.slug,
                schema_name=schema_name,
                admin_email=new.admin_email,
                description=new.description,
                settings=new.settings.model_dump(),
            )
            if tenant_id is None:
                raise Conflict(f"The slug '{new.slug}' is already taken.")
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
            repo.audit(
                conn,
                tenant_id,
                "tenant.created",
                actor.user_id,
                {"slug": new.slug, "schemaName": schema_name, "adminEmail": new.admin_email},
            )
    except psycopg.errors.UniqueViolation as exc:  # a concurrent create of the same slug
        raise Conflict(f"The slug '{new.slug}' is already taken.") from exc
    return CreatedTenant(
        tenant_id=tenant_id,
        schema_name=schema_name,
        slug=new.slug,
        status="active",
        admin_email=new.admin_email,
        admin_temporary_password=password,
    )


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
        counts = repo.employee_counts(conn, page)
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
        _existing(conn, tenant_id, for_update=True)
        before = repo.get_features(conn, tenant_id)
        repo.replace_features(conn, tenant_id, features)
        repo.audit(conn, tenant_id, "tenant.features_set", actor.user_id, {"before": before, "after": features})
        return TenantFeatures(features=features)


@dataclass(frozen=True)
class TenantCheck:
    """What `hrms tenant check` reports."""

    tenant: TenantDetail
    schema_exists: bool
    tables: list[str]
    latest_version: int

    @property
    def healthy(self) -> bool:
        return self.schema_exists and self.tenant.schema_version == self.latest_version


def check_tenant(id_or_slug: str) -> TenantCheck:
    with transaction() as conn:
        row = repo.find_tenant(conn, id_or_slug)
        if row is None:
            raise NotFound(f"No tenant '{id_or_slug}'.")
        tables = repo.table_names(conn, row.schema_name)
        detail = _detail(conn, row) if tables else TenantDetail(**asdict(row), employee_count=0)
    return TenantCheck(detail, bool(tables), tables, latest_version("tenant"))


def _existing(conn: repo.Conn, tenant_id: UUID, *, for_update: bool = False) -> repo.TenantRow:
    row = repo.get_tenant(conn, tenant_id, for_update=for_update)
    if row is None:
        raise NotFound("No such tenant.")
    return row


def _detail(conn: repo.Conn, row: repo.TenantRow) -> TenantDetail:
    counts = repo.employee_counts(conn, [row])
    return TenantDetail(**asdict(row), employee_count=counts.get(row.tenant_id, 0))


def _summary(row: repo.TenantRow, employee_count: int) -> TenantSummary:
    fields = {k: v for k, v in asdict(row).items() if k in TenantSummary.model_fields}
    return TenantSummary(**fields, employee_count=employee_count)
