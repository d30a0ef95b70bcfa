-- Authorization that holds (issue #13).
-- 1. A credentials epoch per user: tokens carry the epoch they were issued at; a password change or
--    reset, a role change or disabling the user increments it, so every earlier token fails at once.
ALTER TABLE @schema.users ADD COLUMN credentials_epoch integer NOT NULL DEFAULT 0;

-- 2. Permissions that gated both scopable and organisation-level routes are split, and scoped
--    grants of organisation-level permissions (which used to be widened to everything) are dropped.
--    Every role keeps its rights minus the widening:
--    appraisals:write      -> + appraisal-forms:write (forms); appraisals:write:team|self keep appraisals only
--    appraisals:read*      -> + appraisal-forms:read (reading the forms one is appraised against)
--    payroll:read          -> + salaries:read (salary history); payroll:read:team|self -> salaries:read:team|self
--    leave:write           -> leave-types:write; leave:read* -> + leave-types:read
--    dashboards:read       -> + executive-dashboard:read for hr_manager (the only non-admin role it was open to)
UPDATE @schema.role_permissions r SET permissions = ARRAY(
    SELECT DISTINCT granted FROM unnest(r.permissions) AS old(p)
    CROSS JOIN LATERAL unnest(CASE
        WHEN p = 'appraisals:write' THEN ARRAY[p, 'appraisal-forms:write']
        WHEN p LIKE 'appraisals:read%' THEN ARRAY[p, 'appraisal-forms:read']
        WHEN p = 'payroll:read' THEN ARRAY[p, 'salaries:read']
        WHEN p IN ('payroll:read:team', 'payroll:read:self') THEN ARRAY[replace(p, 'payroll:', 'salaries:')]
        WHEN p = 'leave:write' THEN ARRAY['leave-types:write']
        WHEN p LIKE 'leave:read%' THEN ARRAY[p, 'leave-types:read']
        WHEN p = 'dashboards:read' AND r.role = 'hr_manager' THEN ARRAY[p, 'executive-dashboard:read']
        WHEN p ~ '^(org:(read|write)|users:(read|write)|roles:(read|write)|payroll:(write|approve)|settings:(read|write)|flags:(read|write)|audit:read|employees:write|leave:write):(team|self)$'
            THEN ARRAY[]::text[]
        ELSE ARRAY[p]
    END) AS granted
    ORDER BY granted
), updated_at = now();

