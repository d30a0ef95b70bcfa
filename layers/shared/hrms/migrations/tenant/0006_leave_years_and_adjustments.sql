-- Go-live (issue #16).
-- 1. Leave years the tenant has opened, with their bounds; they never move again (hrms.leave.years).
CREATE TABLE @schema.leave_years (
    year      integer PRIMARY KEY,
    first_day date NOT NULL UNIQUE,
    last_day  date NOT NULL CHECK (last_day > first_day),
    opened_at timestamptz NOT NULL DEFAULT now()
);

-- 2. Balance adjustments: opening balances at go-live and corrections, in half-day steps. A balance's
--    `adjusted` is the sum of its adjustments; available = allocated + carried_forward + adjusted
--    - used - pending, and an adjustment may not take the entitlement below what is used or pending.
ALTER TABLE @schema.employee_leave_balance ADD COLUMN adjusted numeric(6, 1) NOT NULL DEFAULT 0;

CREATE TABLE @schema.leave_balance_adjustments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_id   uuid NOT NULL,
    leave_type_id uuid NOT NULL,
    year          integer NOT NULL,
    days          numeric(6, 1) NOT NULL CHECK (days <> 0 AND days * 2 = trunc(days * 2)),
    kind          text NOT NULL CHECK (kind IN ('correction', 'opening')),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (employee_id, leave_type_id, year)
        REFERENCES @schema.employee_leave_balance (employee_id, leave_type_id, year)
);
CREATE INDEX leave_balance_adjustments_balance_idx
    ON @schema.leave_balance_adjustments (employee_id, year, leave_type_id, created_at);

-- 3. HR holds the go-live permissions by default, like a new tenant's hr_manager (hrms.tenants.defaults).
UPDATE @schema.role_permissions SET permissions = ARRAY(
    SELECT DISTINCT p FROM unnest(permissions || ARRAY['leave-balances:adjust', 'imports:write', 'exports:write']) AS t(p)
    ORDER BY p
) WHERE role = 'hr_manager';
