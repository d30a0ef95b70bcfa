"""Dashboards: the executive view of a tenant and one employee's view, cached in Redis.

A write that changes a dashboard declares it (`hrms.db.changes`); `cache.on_change` drops the caches
in that transaction.
"""
