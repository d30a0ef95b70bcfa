from hrms.tenants import service


def test_created_tenant_has_every_table_and_is_listed(tenant):
    check = service.check_tenant(tenant.slug)
    assert check.healthy
    assert {"users", "employees", "payroll_runs", "audit_logs", "idempotency_keys"} <= set(check.tables)
