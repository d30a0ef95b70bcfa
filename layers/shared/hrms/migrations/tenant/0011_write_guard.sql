-- Every tenant table runs the write guard (public migration 0007, hrms.db.write_guard) before each write
-- statement: a write to a frozen or moved tenant is refused (SQLSTATE UF503: 503 + Retry-After), and the
-- operation freezing it can wait for the writes already under way. A migration that adds a tenant table adds
-- its trigger too (tests/unit/test_write_guard.py checks every table has one).
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.users
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.departments
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.designations
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.employees
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.salary_structures
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.employee_salaries
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.approval_workflows
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.approvals
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.payroll_runs
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.payroll
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.leave_types
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.leaves
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.employee_leave_balance
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.holidays
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.organization_settings
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.idempotency_keys
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.cache_epochs
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.leave_years
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.leave_balance_adjustments
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.imports
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.exports
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.payslip_runs
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.payslip_lines
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.payslips
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.notifications
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.notification_preferences
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.password_reset_requests
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
CREATE TRIGGER hrms_write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @schema.password_reset_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION public.hrms_tenant_write_guard();
