"""Dashboards: the executive view of a tenant and one employee's view, cached in Redis.

`cache.invalidate_dashboards` is what every write that changes a dashboard calls in its transaction.
"""
