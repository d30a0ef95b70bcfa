-- The platform admin's credentials epoch: `hrms platform revoke-tokens` increments it, and every
-- platform-admin token issued before fails on its next request.
CREATE TABLE IF NOT EXISTS public.platform_credentials (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    epoch      integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO public.platform_credentials (id) VALUES (true) ON CONFLICT DO NOTHING;
