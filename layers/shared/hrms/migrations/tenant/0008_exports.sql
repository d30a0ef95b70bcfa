-- Exports (issue #16, hrms.exports): one row per POST /exports. The request writes it `queued` with its
-- export.requested outbox event; the ExportWorker claims it (`running`), writes the file to the documents
-- bucket under tenants/{tenantId}/exports/{id}/ and records `succeeded` (row_count, object_key) or
-- `failed` (failure). period: YYYY-MM-DD (employees: the day requested), YYYY-MM (payroll-register,
-- whose run is pinned in payroll_run_id) or YYYY (leave).
CREATE TABLE @schema.exports (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind           text NOT NULL CHECK (kind IN ('employees', 'payroll-register', 'leave')),
    format         text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    period         text NOT NULL,
    payroll_run_id uuid REFERENCES @schema.payroll_runs (id),
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    row_count      integer CHECK (row_count >= 0),
    object_key     text,
    failure        text,
    requested_by   uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'payroll-register') = (payroll_run_id IS NOT NULL)),
    CHECK ((status = 'succeeded') = (object_key IS NOT NULL AND row_count IS NOT NULL))
);
