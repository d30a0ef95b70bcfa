-- Every table of one tenant. `@schema` is replaced by the quoted tenant schema name.
CREATE TABLE @schema.users (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                text NOT NULL,
    password_hash        text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('admin', 'hr_manager', 'manager', 'employee')),
    employee_id          uuid,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    must_change_password boolean NOT NULL DEFAULT false,
    failed_logins        integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    last_login_at        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON @schema.users (lower(email));

CREATE TABLE @schema.role_permissions (
    role        text PRIMARY KEY,
    permissions text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE @schema.departments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL,
    code             text NOT NULL,
    parent_id        uuid REFERENCES @schema.departments (id),
    head_employee_id uuid,
    description      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX departments_code_key ON @schema.departments (lower(code));
CREATE INDEX departments_parent_idx ON @schema.departments (parent_id);

CREATE TABLE @schema.designations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL,
    level         integer,
    department_id uuid REFERENCES @schema.departments (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX designations_title_key ON @schema.designations (lower(title), department_id) NULLS NOT DISTINCT;

CREATE TABLE @schema.employees (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_code       text NOT NULL,
    email               text NOT NULL,
    first_name          text NOT NULL,
    last_name           text NOT NULL,
    phone               text,
    department_id       uuid REFERENCES @schema.departments (id),
    designation_id      uuid REFERENCES @schema.designations (id),
    manager_id          uuid REFERENCES @schema.employees (id),
    employment_type     text NOT NULL DEFAULT 'full_time',
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'on_leave', 'terminated')),
    date_of_joining     date NOT NULL,
    date_of_leaving     date,
    pan_encrypted       bytea,
    pan_blind_index     bytea,
    pan_masked          text,
    aadhaar_encrypted   bytea,
    aadhaar_blind_index bytea,
    aadhaar_masked      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (manager_id IS DISTINCT FROM id),
    CHECK (date_of_leaving IS NULL OR date_of_leaving >= date_of_joining)
);
CREATE UNIQUE INDEX employees_email_key ON @schema.employees (lower(email));
CREATE UNIQUE INDEX employees_code_key ON @schema.employees (employee_code);
CREATE UNIQUE INDEX employees_pan_key ON @schema.employees (pan_blind_index);
CREATE UNIQUE INDEX employees_aadhaar_key ON @schema.employees (aadhaar_blind_index);
CREATE INDEX employees_department_idx ON @schema.employees (department_id);
CREATE INDEX employees_manager_idx ON @schema.employees (manager_id);
CREATE INDEX employees_name_idx ON @schema.employees (last_name, first_name, id);
-- Employee codes (EMP-000001, ...): a sequence hands out numbers without races between concurrent hires.
CREATE SEQUENCE @schema.employee_code_seq;
ALTER TABLE @schema.users ADD FOREIGN KEY (employee_id) REFERENCES @schema.employees (id);
ALTER TABLE @schema.departments ADD FOREIGN KEY (head_employee_id) REFERENCES @schema.employees (id);

CREATE TABLE @schema.salary_structures (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    components jsonb NOT NULL DEFAULT '[]'::jsonb,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX salary_structures_name_key ON @schema.salary_structures (lower(name));

CREATE TABLE @schema.employee_salaries (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_id         uuid NOT NULL REFERENCES @schema.employees (id),
    salary_structure_id uuid REFERENCES @schema.salary_structures (id),
    annual_ctc          numeric(14, 2) NOT NULL CHECK (annual_ctc >= 0),
    components          jsonb NOT NULL DEFAULT '[]'::jsonb,
    effective_from      date NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (employee_id, effective_from)
);

CREATE TABLE @schema.approval_workflows (
    entity_type text PRIMARY KEY,
    steps       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE @schema.approvals (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entity_type          text NOT NULL,
    entity_id            uuid NOT NULL,
    step                 integer NOT NULL,
    approver_type        text NOT NULL CHECK (approver_type IN ('role', 'reporting_manager')),
    approver_role        text,
    assignee_employee_id uuid REFERENCES @schema.employees (id),
    -- whose request it is (a leave's employee; null for e.g. payroll): nobody decides their own
    subject_employee_id  uuid REFERENCES @schema.employees (id),
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    decided_by           uuid,
    decided_at           timestamptz,
    comment              text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity_type, entity_id, step),
    CHECK ((approver_type = 'role') = (approver_role IS NOT NULL))
);
CREATE INDEX approvals_pending_idx ON @schema.approvals (status, approver_role, assignee_employee_id);

CREATE TABLE @schema.payroll_runs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    month            date NOT NULL CHECK (extract(day FROM month) = 1),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'rejected', 'processed')),
    employee_count   integer NOT NULL DEFAULT 0,
    total_gross      numeric(16, 2) NOT NULL DEFAULT 0,
    total_deductions numeric(16, 2) NOT NULL DEFAULT 0,
    total_net        numeric(16, 2) NOT NULL DEFAULT 0,
    approval_id      uuid,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    approved_at      timestamptz,
    processed_at     timestamptz
);
CREATE UNIQUE INDEX payroll_runs_month_key ON @schema.payroll_runs (month) WHERE status <> 'rejected';

CREATE TABLE @schema.payroll (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payroll_run_id uuid NOT NULL REFERENCES @schema.payroll_runs (id),
    employee_id    uuid NOT NULL REFERENCES @schema.employees (id),
    department_id  uuid,
    month          date NOT NULL,
    paid_days      numeric(5, 2) NOT NULL,
    gross          numeric(14, 2) NOT NULL,
    deductions     numeric(14, 2) NOT NULL,
    net            numeric(14, 2) NOT NULL,
    components     jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (payroll_run_id, employee_id)
);
CREATE INDEX payroll_employee_idx ON @schema.payroll (employee_id, month DESC);

CREATE TABLE @schema.leave_types (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code              text NOT NULL,
    name              text NOT NULL,
    annual_quota      numeric(5, 1) NOT NULL CHECK (annual_quota >= 0),
    carry_forward_max numeric(5, 1) NOT NULL DEFAULT 0 CHECK (carry_forward_max >= 0),
    allow_half_day    boolean NOT NULL DEFAULT true,
    paid              boolean NOT NULL DEFAULT true,
    is_active         boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX leave_types_code_key ON @schema.leave_types (lower(code));

CREATE TABLE @schema.leaves (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    employee_id   uuid NOT NULL REFERENCES @schema.employees (id),
    leave_type_id uuid NOT NULL REFERENCES @schema.leave_types (id),
    start_date    date NOT NULL,
    end_date      date NOT NULL,
    half_day      text CHECK (half_day IN ('first', 'second')),
    days          numeric(5, 1) NOT NULL CHECK (days > 0),
    balance_year  integer NOT NULL, -- the leave year whose balance row holds the days
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
    reason        text,
    approval_id   uuid,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    CHECK (end_date >= start_date),
    CHECK (half_day IS NULL OR start_date = end_date)
);
CREATE INDEX leaves_employee_dates_idx ON @schema.leaves (employee_id, start_date, end_date);
CREATE INDEX leaves_status_idx ON @schema.leaves (status, start_date);

CREATE TABLE @schema.employee_leave_balance (
    employee_id     uuid NOT NULL REFERENCES @schema.employees (id),
    leave_type_id   uuid NOT NULL REFERENCES @schema.leave_types (id),
    year            integer NOT NULL,
    allocated       numeric(5, 1) NOT NULL DEFAULT 0,
    carried_forward numeric(5, 1) NOT NULL DEFAULT 0,
    used            numeric(5, 1) NOT NULL DEFAULT 0 CHECK (used >= 0),
    pending         numeric(5, 1) NOT NULL DEFAULT 0 CHECK (pending >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employee_id, leave_type_id, year)
);

CREATE TABLE @schema.holidays (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    date       date NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE @schema.audit_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id    text NOT NULL,
    actor_role  text NOT NULL,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   text,
    before      jsonb,
    after       jsonb,
    request_id  text
);
CREATE INDEX audit_logs_entity_idx ON @schema.audit_logs (entity_type, entity_id, occurred_at DESC);
CREATE INDEX audit_logs_occurred_idx ON @schema.audit_logs (occurred_at DESC);

CREATE TABLE @schema.organization_settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE @schema.idempotency_keys (
    key          text PRIMARY KEY,
    operation    text NOT NULL,
    request_hash text NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expiry_idx ON @schema.idempotency_keys (expires_at);

-- Generation counters of cached views (org, perms, dashboards, stats). A write bumps its view's
-- epoch in the same transaction; a cached value stamped with an older epoch is never served,
-- even if Redis missed the invalidation (down, or a racing reader wrote an old value back).
CREATE TABLE @schema.cache_epochs (
    name  text PRIMARY KEY,
    epoch bigint NOT NULL DEFAULT 0
);
