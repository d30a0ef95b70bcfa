-- The platform registry: tenants, their platform-level feature switches and lifecycle audit.
CREATE TABLE IF NOT EXISTS public.tenants (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](-?[a-z0-9])*$' AND length(slug) BETWEEN 3 AND 40),
    schema_name      text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[a-z0-9_]{1,40}_[0-9a-f]{8}$'),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    admin_email      text NOT NULL,
    description      text,
    settings         jsonb NOT NULL DEFAULT '{}'::jsonb,
    schema_version   integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz
);
CREATE INDEX IF NOT EXISTS tenants_schema_version_idx ON public.tenants (schema_version) WHERE status <> 'deleted';
CREATE INDEX IF NOT EXISTS tenants_status_slug_idx ON public.tenants (status, slug);

CREATE TABLE IF NOT EXISTS public.tenant_features (
    tenant_id  uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name ~ '^[a-zA-Z0-9_.-]{1,64}$'),
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS public.tenant_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    action      text NOT NULL,
    actor_id    text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tenant_audit_tenant_idx ON public.tenant_audit (tenant_id, occurred_at DESC);

-- Idempotency-Key records of platform-level POSTs (tenant POSTs use the tenant's own table).
CREATE TABLE IF NOT EXISTS public.idempotency_keys (
    key          text PRIMARY KEY,
    operation    text NOT NULL,
    request_hash text NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry_idx ON public.idempotency_keys (expires_at);
