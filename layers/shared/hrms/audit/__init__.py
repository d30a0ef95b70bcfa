"""Reading the audit trail (`GET /audit-logs`). Rows are written by `hrms.db.audit_log`, the store
facility every domain calls in its own transaction."""
