-- When each tenant's next leave year begins (UTC), so the hourly rollover (hrms.leave.rollover)
-- visits only the tenants whose year has turned (or that were never checked: NULL), not every schema.
ALTER TABLE public.tenants ADD COLUMN IF NOT EXISTS leave_year_turns_at timestamptz;
CREATE INDEX IF NOT EXISTS tenants_leave_year_turns_idx ON public.tenants (leave_year_turns_at);
