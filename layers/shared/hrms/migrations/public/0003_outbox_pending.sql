-- Tenants whose outbox may hold unpublished events: a request that writes an outbox row also makes
-- sure its tenant is listed here, in the same transaction; the scheduled sweep visits only these
-- tenants (not every schema) and removes a tenant once its outbox is drained (hrms.outbox.store).
CREATE TABLE IF NOT EXISTS public.outbox_pending (
    tenant_id uuid PRIMARY KEY REFERENCES public.tenants (id) ON DELETE CASCADE,
    since     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_pending_since_idx ON public.outbox_pending (since);
