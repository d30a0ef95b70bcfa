"""Per-tenant feature flags in MongoDB, honouring the platform switches in public.tenant_features."""
