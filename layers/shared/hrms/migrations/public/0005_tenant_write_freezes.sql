-- Tenants whose writes are frozen while an operation replaces their data (a restore: hrms.backup.restore).
-- Admission reads it with the caller's state (hrms.auth.repo.user_state): a write to a frozen tenant is
-- answered 503 with Retry-After. The row is also the operation's journal: its phase, its safety backup and
-- whether the PostgreSQL part committed (set in the restore's own transaction), so a restore that died
-- midway is finished or rolled back from here (`hrms backup recover`).
CREATE TABLE IF NOT EXISTS public.tenant_write_freezes (
    tenant_id uuid PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
    operation_id text NOT NULL UNIQUE,
    reason text NOT NULL,
    retry_after_s integer NOT NULL DEFAULT 10 CHECK (retry_after_s > 0),
    backup_key text,
    safety_backup_key text,
    mongo_database text,
    phase text NOT NULL DEFAULT 'frozen',
    pg_restored boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
