-- Bulk imports (issue #16, hrms.imports): one row per uploaded file and its run.
-- status: created (upload URL handed out) -> queued (POST /imports/{id}/start, an outbox event) ->
-- validating -> running -> succeeded | failed. A successful dry run ends `succeeded` with dry_run true
-- and may then be started once for real. `errors` holds the first 100 row errors ({row, column,
-- message}); the full list is the CSV at error_report_key. `reason` says why the file as a whole failed.
-- employees.employee_code is already unique (0001), so imported codes need nothing more here.
CREATE TABLE @schema.imports (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             text NOT NULL CHECK (kind IN ('employees', 'salaries', 'leave-balances')),
    file_name        text NOT NULL,
    content_type     text NOT NULL,
    size_bytes       bigint NOT NULL CHECK (size_bytes > 0),
    object_key       text NOT NULL,
    status           text NOT NULL DEFAULT 'created'
        CHECK (status IN ('created', 'queued', 'validating', 'running', 'succeeded', 'failed')),
    dry_run          boolean NOT NULL DEFAULT false,
    total            integer NOT NULL DEFAULT 0,
    succeeded        integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    reason           text,
    errors           jsonb NOT NULL DEFAULT '[]'::jsonb,
    error_count      integer NOT NULL DEFAULT 0,
    error_report_key text,
    created_by       uuid NOT NULL,
    started_by       uuid,
    started_role     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX imports_created_idx ON @schema.imports (created_at DESC, id DESC);
