-- Tenant cells (hrms.db.cells): a cell is one PostgreSQL cluster holding tenant schemas. The control database's
-- registry records each tenant's cell; every tenant so far lives on the control database's own cell, 'default'.
-- Every cell carries this public schema too: its `tenants` rows are the tenants it hosts (written when a tenant
-- is provisioned there), which the request path joins in the cell as it always did (status, write freezes).
CREATE TABLE IF NOT EXISTS public.cells (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
    -- Tenants the cell is sized for (README "Tenant cells"); NULL: the CELL_CAPACITY setting.
    capacity   integer CHECK (capacity > 0),
    -- false: no new tenant is placed there (a cell being drained); its tenants stay.
    accepting  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.cells (name) VALUES ('default') ON CONFLICT (name) DO NOTHING;

ALTER TABLE public.tenants ADD COLUMN IF NOT EXISTS cell text NOT NULL DEFAULT 'default' REFERENCES public.cells (name);
CREATE INDEX IF NOT EXISTS tenants_cell_idx ON public.tenants (cell) WHERE status <> 'deleted';

-- 'provisioning': registered, schema not yet committed in its cell (hrms.tenants.service.create_tenant); users
-- never reach such a tenant, and recovery (`hrms tenant check` without a tenant) finishes or removes it.
-- 'moved' (a cell's row only): the tenant now lives in another cell; this copy waits for its grace period to end
-- (hrms.tenants.moves) and its requests are answered 503 with Retry-After, so callers retry on the new cell.
ALTER TABLE public.tenants DROP CONSTRAINT IF EXISTS tenants_status_check;
ALTER TABLE public.tenants ADD CONSTRAINT tenants_status_check
    CHECK (status IN ('provisioning', 'active', 'suspended', 'deleted', 'moved'));

-- Moves of a tenant between cells (control database): the state machine `hrms tenant move` resumes from.
-- copying -> frozen -> flipped -> done (or -> failed, the old copy untouched and writes thawed).
CREATE TABLE IF NOT EXISTS public.tenant_moves (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    source      text NOT NULL REFERENCES public.cells (name),
    target      text NOT NULL REFERENCES public.cells (name),
    phase       text NOT NULL DEFAULT 'copying' CHECK (phase IN ('copying', 'frozen', 'flipped', 'done', 'failed')),
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- timings, verification, the error of a failed move
    drop_after  timestamptz,  -- when the old copy may go (set at the flip)
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (source <> target)
);
CREATE UNIQUE INDEX IF NOT EXISTS tenant_moves_open_idx ON public.tenant_moves (tenant_id)
    WHERE phase NOT IN ('done', 'failed');
