"""Cache administration: flush one tenant's keys or every HRMS key, always with SCAN (never KEYS)."""

from __future__ import annotations

from hrms.cache import store

NAMESPACES = ("org", "perms", "dashboard", "stats")


def flush_tenant(tenant_id: object) -> int:
    """Delete every cached key of one tenant (`<namespace>:{<tenantId>}:...`); returns how many went."""
    return sum(store.delete_matching(f"{namespace}:{{{tenant_id}}}:*") for namespace in NAMESPACES)


def flush_all() -> int:
    """Delete every HRMS cache key, leaving other applications' keys in a shared Redis alone."""
    return sum(store.delete_matching(f"{namespace}:*") for namespace in NAMESPACES)
