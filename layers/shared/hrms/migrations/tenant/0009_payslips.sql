-- Payslips (issue #19, hrms.payslips). Marking a run processed snapshots, in the same transaction,
-- everything its payslips print: the run's header (payslip_runs: tenant name, currency, processed time)
-- and one line per employee (payslip_lines: name, code, department, designation, masked PAN, paid and
-- unpaid days, every component, totals). The PayslipWorker renders the PDFs from these rows only and
-- records each file (payslips). A processed run's payslips are immutable: the snapshots and the file
-- records refuse UPDATE and DELETE, whoever writes the SQL (a dropped tenant schema takes them along).
CREATE TABLE @schema.payslip_runs (
    payroll_run_id uuid PRIMARY KEY REFERENCES @schema.payroll_runs (id),
    month          date NOT NULL CHECK (extract(day FROM month) = 1),
    company_name   text NOT NULL,
    currency       text NOT NULL,
    processed_at   timestamptz NOT NULL,
    employee_count integer NOT NULL CHECK (employee_count >= 0)
);

CREATE TABLE @schema.payslip_lines (
    payroll_run_id uuid NOT NULL REFERENCES @schema.payslip_runs (payroll_run_id),
    employee_id    uuid NOT NULL REFERENCES @schema.employees (id),
    employee_code  text NOT NULL,
    employee_name  text NOT NULL,
    department     text,
    designation    text,
    pan_masked     text,
    paid_days      numeric(5, 2) NOT NULL,
    unpaid_days    numeric(5, 2) NOT NULL,
    days_in_month  integer NOT NULL,
    gross          numeric(14, 2) NOT NULL,
    deductions     numeric(14, 2) NOT NULL,
    net            numeric(14, 2) NOT NULL,
    components     jsonb NOT NULL,
    PRIMARY KEY (payroll_run_id, employee_id)
);
CREATE INDEX payslip_lines_employee_idx ON @schema.payslip_lines (employee_id);
CREATE INDEX payslip_lines_code_idx ON @schema.payslip_lines (payroll_run_id, employee_code, employee_id);

-- One stored PDF per line: its S3 key (tenants/{tenantId}/payslips/{yyyy-mm}/{employeeId}.pdf), size
-- and SHA-256. A row exists once the file is in S3; until then the payslip is being prepared.
CREATE TABLE @schema.payslips (
    payroll_run_id uuid NOT NULL,
    employee_id    uuid NOT NULL,
    object_key     text NOT NULL UNIQUE,
    size_bytes     integer NOT NULL CHECK (size_bytes > 0),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    rendered_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payroll_run_id, employee_id),
    FOREIGN KEY (payroll_run_id, employee_id) REFERENCES @schema.payslip_lines (payroll_run_id, employee_id)
);

CREATE FUNCTION @schema.payslip_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a processed payroll run''s payslips cannot change'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER payslip_runs_immutable BEFORE UPDATE OR DELETE ON @schema.payslip_runs
    FOR EACH ROW EXECUTE FUNCTION @schema.payslip_immutable();
CREATE TRIGGER payslip_lines_immutable BEFORE UPDATE OR DELETE ON @schema.payslip_lines
    FOR EACH ROW EXECUTE FUNCTION @schema.payslip_immutable();
CREATE TRIGGER payslips_immutable BEFORE UPDATE OR DELETE ON @schema.payslips
    FOR EACH ROW EXECUTE FUNCTION @schema.payslip_immutable();

-- Who reads payslips: every role that reads salaries gets payslips:read at the same scope (hr_manager by
-- default; an employee sees their own without any grant).
UPDATE @schema.role_permissions r SET permissions = ARRAY(
    SELECT DISTINCT granted FROM unnest(r.permissions || ARRAY(
        SELECT replace(p, 'salaries:read', 'payslips:read') FROM unnest(r.permissions) AS old(p)
        WHERE p ~ '^salaries:read(:team|:self)?$'
    )) AS granted
    ORDER BY granted
), updated_at = now()
WHERE r.permissions && ARRAY['salaries:read', 'salaries:read:team', 'salaries:read:self'];
