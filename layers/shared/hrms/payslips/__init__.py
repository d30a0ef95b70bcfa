"""Payslips: one PDF per employee of a processed payroll run, stored in S3 and offered by presigned download.

Marking a run processed (`hrms.payroll.runs.mark_processed`) snapshots everything its payslips print
(`snapshot`, in the same transaction) and emits `payroll.processed`; the PayslipWorker (`worker.handle`,
fed by the payslip queue) renders each PDF from the snapshot (`render`), stores it under
tenants/{tenantId}/payslips/{yyyy-mm}/ with SSE-KMS (`storage`), records it and emits `payslip.ready`
per employee. `GET /employees/{id}/payslips` and `GET /payroll/runs/{id}/payslips/{employeeId}` read
them (`service`).
"""
