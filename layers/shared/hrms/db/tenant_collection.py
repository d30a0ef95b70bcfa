"""Tenant-scoped MongoDB access: the only way domain code touches a Mongo collection.

`collection(tenant, name)` wraps a pymongo collection so every filter, insert, update and
aggregation is pinned to `tenantId` (a caller cannot widen it: the tenant id is set last and
wins over anything in the caller's filter), and every pymongo outage error becomes
`DependencyDown` (503) after the client's short server-selection timeout.

Indexes (all leading with `tenantId`, except the cross-tenant sweep's `PendingAudit.at`) are
declared in `INDEXES` and created idempotently by `ensure_indexes()`, which the migration runner
calls after the Postgres migrations.
Only operations Amazon DocumentDB supports are used (no server-side JavaScript, no `$function`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from hrms.errors import Conflict, DependencyDown, Invalid
from hrms.tenancy import Tenant

TENANT = "tenantId"

# collection -> list of (keys, options). Every key list starts with tenantId.
INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "TenantSettings": [([(TENANT, 1)], {"unique": True, "name": "tenant_unique"})],
    "SettingsAudit": [([(TENANT, 1), ("version", -1)], {"name": "tenant_version"})],
    "FeatureFlag": [([(TENANT, 1), ("name", 1)], {"unique": True, "name": "tenant_name_unique"})],
    "DocumentMetadata": [
        ([(TENANT, 1), ("_id", 1)], {"name": "tenant_id"}),
        ([(TENANT, 1), ("employeeId", 1), ("createdAt", -1)], {"name": "tenant_employee"}),
        ([(TENANT, 1), ("expiresOn", 1)], {"name": "tenant_expires"}),
    ],
    "AppraisalForm": [
        ([(TENANT, 1), ("formId", 1), ("version", -1)], {"unique": True, "name": "tenant_form_version"}),
        ([(TENANT, 1), ("latest", 1), ("createdAt", -1)], {"name": "tenant_latest"}),
    ],
    "Appraisal": [([(TENANT, 1), ("employeeId", 1), ("createdAt", -1)], {"name": "tenant_employee"})],
    # Where an audited write may still owe its audit row (hrms.db.mongo_audit); swept across tenants by age.
    "PendingAudit": [([("at", 1)], {"name": "at"})],
}


# After an outage error, further Mongo calls fail at once for this long: a request that makes
# several calls waits for one server-selection timeout, not one per call (503 within ~2 s).
BREAKER_S = 1.0
_open_until = 0.0
_DOWN = "The document store is unavailable; try again shortly."


def reset_breaker() -> None:
    global _open_until
    _open_until = 0.0


@contextmanager
def guarded() -> Iterator[None]:
    """Map pymongo's outage and duplicate-key errors to domain errors (503 / 409)."""
    global _open_until
    from bson.errors import InvalidDocument
    from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError

    if time.monotonic() < _open_until:
        raise DependencyDown(_DOWN)
    try:
        yield
    except DuplicateKeyError as exc:
        raise Conflict("A record with the same key already exists.") from exc
    except (OverflowError, InvalidDocument) as exc:  # e.g. an integer beyond BSON's 8 bytes
        raise Invalid("A value is out of range or cannot be stored.") from exc
    except (ServerSelectionTimeoutError, ConnectionFailure, AutoReconnect) as exc:
        _open_until = time.monotonic() + BREAKER_S
        raise DependencyDown(_DOWN) from exc


class TenantCollection:
    """A pymongo collection seen through one tenant: `tenantId` is forced into everything."""

    def __init__(self, tenant: Tenant, raw: Any) -> None:
        self.tenant = tenant
        self.tenant_id = str(tenant.tenant_id)
        self.raw = raw

    def _f(self, flt: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**(flt or {}), TENANT: self.tenant_id}

    def find_one(self, flt: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any] | None:
        with guarded():
            return self.raw.find_one(self._f(flt), **kwargs)

    def find(
        self,
        flt: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        with guarded():
            cursor = self.raw.find(self._f(flt), projection=projection, sort=list(sort) if sort else None, limit=limit)
            return list(cursor)

    def count(self, flt: Mapping[str, Any] | None = None) -> int:
        with guarded():
            return int(self.raw.count_documents(self._f(flt)))

    def insert_one(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        stored = {**doc, TENANT: self.tenant_id}
        with guarded():
            self.raw.insert_one(stored)
        return stored

    def find_one_and_update(
        self, flt: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False, **kwargs: Any
    ) -> dict[str, Any] | None:
        from pymongo import ReturnDocument

        # An upsert copies the filter's equality fields, tenantId included, into the new document.
        with guarded():
            return self.raw.find_one_and_update(
                self._f(flt), dict(update), upsert=upsert, return_document=ReturnDocument.AFTER, **kwargs
            )

    def update_one(self, flt: Mapping[str, Any], update: Mapping[str, Any]) -> int:
        with guarded():
            return int(self.raw.update_one(self._f(flt), dict(update)).modified_count)

    def update_many(self, flt: Mapping[str, Any], update: Mapping[str, Any]) -> int:
        with guarded():
            return int(self.raw.update_many(self._f(flt), dict(update)).modified_count)

    def delete_many(self, flt: Mapping[str, Any] | None = None) -> int:
        with guarded():
            return int(self.raw.delete_many(self._f(flt)).deleted_count)

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The pipeline runs after a leading `$match` on the tenant; stages that read or write other
        collections (and so could cross tenants) are refused."""
        crossing = {"$lookup", "$graphLookup", "$unionWith", "$out", "$merge"}
        if any(crossing & set(stage) for stage in pipeline):
            raise ValueError("pipeline stages that reach other collections are not tenant-scoped")
        with guarded():
            return list(self.raw.aggregate([{"$match": {TENANT: self.tenant_id}}, *pipeline]))


def collection(tenant: Tenant, name: str) -> TenantCollection:
    """The tenant's view of one of the collections declared in `INDEXES`."""
    from hrms.db.mongo import database

    if name not in INDEXES:
        raise ValueError(f"unknown collection {name!r}")
    return TenantCollection(tenant, database()[name])


def ensure_indexes() -> list[str]:
    """Create every declared index (idempotent: create_index is a no-op when it exists)."""
    from hrms.db.mongo import database

    created = []
    with guarded():
        db = database()
        for name, specs in INDEXES.items():
            for keys, options in specs:
                created.append(f"{name}.{db[name].create_index(keys, **options)}")
    return created
