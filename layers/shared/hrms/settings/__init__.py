"""Tenant settings in MongoDB: versioned, optimistic concurrency, history and rollback, audited."""
