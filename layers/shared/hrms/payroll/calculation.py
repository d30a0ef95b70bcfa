"""The payroll of one month for every employee, computed and written by one SQL statement.

This module is the statement and the rules it implements, side by side, so a reader checks one
against the other; `hrms.payroll.repo.compute_and_write` runs it (tables, bound values, typed row).
It stays out of `repo.py` because it is a program rather than a query: 90 lines of SQL whose
rules need this page of prose, which would drown the plain reads and writes of the repo.

No employee row ever reaches Python: memory stays flat with headcount and there is one round
trip whatever the size of the tenant.

Rules (all arithmetic in `numeric`):
- Who: everyone employed on at least one day of the month (joined on or before its last day,
  not left before its first) with a salary effective on or before its last day.
- Salary segments: each salary row applies from its `effective_from` to the day before the next
  revision; a mid-month revision splits the month into segments, each paid for its own days.
- Paid days of a segment = calendar days employed in it - unpaid leave days in it (approved
  leaves of unpaid types, counted on working days: not a tenant weekend day, not a holiday;
  a half day is 0.5).
- Component amounts: `fixed` is monthly, `percent_of_ctc` is of annual CTC / 12,
  `percent_of_basic` is of the segment's monthly basic; each is multiplied by
  paid days / calendar days of the month.
- Rounding: per employee, each component's exact sum over the segments is rounded once to
  2 decimals, half away from zero (PostgreSQL `round(numeric, 2)`). Gross and deductions are
  sums of those rounded amounts, net = gross - deductions, and the run totals are the sums of
  the records, so totals always equal the sum of the lines.
- Amounts fit the records: a line total past numeric(14,2) (999,999,999,999.99 a month, e.g. two
  fixed components at the maximum) or a run total past numeric(16,2) refuses the run (422).
- Net pay is never negative. Only the rounded lines say whether it would be, so they are written
  first and read back (`repo.negative_lines`); the caller refuses such a run, which rolls back
  its whole transaction. Structures short at every CTC never get this far (`hrms.payroll.models`).

Parameters: `month` (first day), `weekend` (ISO weekday numbers), `run`, `approval`; identifiers:
one per name in `TABLES`, and `returning` (the run's columns).
"""

from __future__ import annotations

TABLES = ("employees", "employee_salaries", "leaves", "leave_types", "holidays", "payroll", "payroll_runs")

COMPUTE_AND_WRITE = """
WITH bounds AS (
    SELECT %(month)s::date AS m_start,
           (%(month)s::date + interval '1 month' - interval '1 day')::date AS m_end
), staff AS (
    SELECT e.id AS employee_id, e.department_id,
           greatest(e.date_of_joining, b.m_start) AS from_day,
           least(coalesce(e.date_of_leaving, b.m_end), b.m_end) AS to_day
    FROM {employees} e CROSS JOIN bounds b
    WHERE e.date_of_joining <= b.m_end AND (e.date_of_leaving IS NULL OR e.date_of_leaving >= b.m_start)
), salaries AS (
    SELECT s.employee_id, s.annual_ctc, s.components, s.effective_from,
           lead(s.effective_from) OVER (PARTITION BY s.employee_id ORDER BY s.effective_from) AS next_from
    FROM {employee_salaries} s
    WHERE s.effective_from <= (SELECT m_end FROM bounds)
), segments AS (
    SELECT st.employee_id, sa.annual_ctc, sa.components,
           greatest(sa.effective_from, st.from_day) AS seg_from,
           least(coalesce(sa.next_from - 1, st.to_day), st.to_day) AS seg_to
    FROM staff st JOIN salaries sa USING (employee_id)
), live AS (
    SELECT * FROM segments WHERE seg_from <= seg_to
), unpaid AS (
    SELECT sg.employee_id, sg.seg_from, sum(CASE WHEN l.half_day IS NULL THEN 1 ELSE 0.5 END) AS days
    FROM live sg
    JOIN {leaves} l ON l.employee_id = sg.employee_id AND l.status = 'approved'
                   AND l.start_date <= sg.seg_to AND l.end_date >= sg.seg_from
    JOIN {leave_types} t ON t.id = l.leave_type_id AND NOT t.paid
    CROSS JOIN LATERAL generate_series(
        greatest(l.start_date, sg.seg_from)::timestamp, least(l.end_date, sg.seg_to)::timestamp, interval '1 day'
    ) AS d(day)
    WHERE extract(isodow FROM d.day)::int <> ALL (%(weekend)s::int[])
      AND NOT EXISTS (SELECT 1 FROM {holidays} h WHERE h.date = d.day::date)
    GROUP BY sg.employee_id, sg.seg_from
), paid AS (
    SELECT sg.*, (sg.seg_to - sg.seg_from + 1) - coalesce(u.days, 0) AS paid_days
    FROM live sg LEFT JOIN unpaid u USING (employee_id, seg_from)
), amounts AS (
    SELECT p.employee_id, c.code, c.name, c.kind, c.ord,
           CASE c.calc
               WHEN 'fixed' THEN c.value
               WHEN 'percent_of_ctc' THEN p.annual_ctc / 12 * c.value / 100
               ELSE coalesce(basic.monthly, 0) * c.value / 100
           END * p.paid_days / extract(day FROM b.m_end) AS amount
    FROM paid p
    CROSS JOIN bounds b
    CROSS JOIN LATERAL ROWS FROM (
        jsonb_to_recordset(p.components) AS (code text, name text, kind text, calc text, value numeric)
    ) WITH ORDINALITY AS c(code, name, kind, calc, value, ord)
    LEFT JOIN LATERAL (
        SELECT CASE x.calc WHEN 'fixed' THEN x.value ELSE p.annual_ctc / 12 * x.value / 100 END AS monthly
        FROM jsonb_to_recordset(p.components) AS x(code text, calc text, value numeric)
        WHERE x.code = 'basic'
    ) basic ON true
), lines AS (
    SELECT employee_id, code, kind, min(name) AS name, min(ord) AS ord, round(sum(amount), 2) AS amount
    FROM amounts
    GROUP BY employee_id, code, kind
), records AS (
    SELECT employee_id,
           coalesce(sum(amount) FILTER (WHERE kind = 'earning'), 0) AS gross,
           coalesce(sum(amount) FILTER (WHERE kind = 'deduction'), 0) AS deductions,
           jsonb_agg(
               jsonb_build_object('code', code, 'name', name, 'kind', kind, 'amount', amount::text) ORDER BY ord, code
           ) AS components
    FROM lines
    GROUP BY employee_id
), days AS (
    SELECT employee_id, sum(paid_days) AS paid_days FROM paid GROUP BY employee_id
), inserted AS (
    INSERT INTO {payroll}
        (payroll_run_id, employee_id, department_id, month, paid_days, gross, deductions, net, components)
    SELECT %(run)s, r.employee_id, st.department_id, %(month)s, d.paid_days,
           r.gross, r.deductions, r.gross - r.deductions, r.components
    FROM records r JOIN staff st USING (employee_id) JOIN days d USING (employee_id)
    RETURNING gross, deductions, net
)
UPDATE {payroll_runs} AS run
SET employee_count = totals.n, total_gross = totals.gross, total_deductions = totals.deductions,
    total_net = totals.net, approval_id = %(approval)s
FROM (
    SELECT count(*) AS n, coalesce(sum(gross), 0) AS gross,
           coalesce(sum(deductions), 0) AS deductions, coalesce(sum(net), 0) AS net
    FROM inserted
) totals
WHERE run.id = %(run)s
RETURNING {returning}
"""
