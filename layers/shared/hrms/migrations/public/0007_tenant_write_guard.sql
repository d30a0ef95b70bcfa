-- The database's own guard of a tenant's write freeze (hrms.db.write_guard). Admission refuses the writes of a
-- frozen tenant (503 + Retry-After), but a request admitted just before a freeze, a queue worker or a scheduled
-- job could still write while a restore or a move replaces the tenant's data. So every write statement on a
-- tenant table first runs this function (tenant migration 0011 adds the statement-level triggers):
-- 1. it takes a shared transaction-level advisory lock on the schema; the operation that freezes the tenant
--    takes the same lock exclusively once its freeze has committed, which waits for every transaction that
--    has written to end: that is the drain, no sleep;
-- 2. then (a new statement, so a new snapshot) it refuses the write if the tenant is frozen or has moved to
--    another cell, with SQLSTATE UF503 and the Retry-After seconds as the detail; the request answers 503.
-- The operation that froze the tenant writes through its own freeze: it sets hrms.write_freeze_operation to its
-- operation id in its transaction (a restore's migrations and cache epochs).
CREATE OR REPLACE FUNCTION public.hrms_tenant_write_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    retry integer;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1213353299, hashtext(TG_TABLE_SCHEMA));
    SELECT coalesce(f.retry_after_s, 1) INTO retry
    FROM public.tenants t LEFT JOIN public.tenant_write_freezes f ON f.tenant_id = t.id
    WHERE t.schema_name = TG_TABLE_SCHEMA
      AND (t.status = 'moved'
           OR (f.tenant_id IS NOT NULL
               AND f.operation_id IS DISTINCT FROM current_setting('hrms.write_freeze_operation', true)));
    IF FOUND THEN
        RAISE EXCEPTION 'the writes of tenant schema % are frozen', TG_TABLE_SCHEMA
            USING ERRCODE = 'UF503', DETAIL = retry::text;
    END IF;
    RETURN NULL;
END
$$;
