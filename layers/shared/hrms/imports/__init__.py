"""Bulk import of employees, salaries and opening leave balances from CSV or XLSX (issue #16).

The flow: `POST /imports` records a job and hands out a presigned PUT (`storage`); `POST
/imports/{id}/start` queues it and emits `import.started` in the same transaction (`service`); the
ImportWorker (`worker`) reads the file twice from a temporary copy: a first pass validates every row
(`readers` -> `columns` -> the kind's checker in `kinds`), and only when no row has an error does a
second pass write everything in one transaction, audited. Errors name the file's line (header = 1),
the column and what is wrong; the first 100 are kept on the job, all of them in a CSV report
(`report`). The limits are in `limits`.
"""
