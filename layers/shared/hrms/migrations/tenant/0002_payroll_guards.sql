-- Payroll runs change status through crud (which stamps updated_at), and a processed run is final:
-- neither the run nor its records may change or disappear afterwards, whoever writes the SQL.
ALTER TABLE @schema.payroll_runs ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION @schema.payroll_processed_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    run_status text;
BEGIN
    IF TG_TABLE_NAME = 'payroll_runs' THEN
        run_status := OLD.status;
    ELSE
        SELECT status INTO run_status FROM @schema.payroll_runs WHERE id = OLD.payroll_run_id;
    END IF;
    IF run_status = 'processed' THEN
        RAISE EXCEPTION 'a processed payroll run and its records cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE TRIGGER payroll_runs_processed_guard BEFORE UPDATE OR DELETE ON @schema.payroll_runs
    FOR EACH ROW EXECUTE FUNCTION @schema.payroll_processed_guard();
CREATE TRIGGER payroll_processed_guard BEFORE UPDATE OR DELETE ON @schema.payroll
    FOR EACH ROW EXECUTE FUNCTION @schema.payroll_processed_guard();
