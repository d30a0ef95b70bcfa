"""Exports: employees (masked PII), the payroll register of a month and the leave of a leave year, as
CSV or XLSX files written to S3 by the ExportWorker and offered by a short-lived presigned download.

`POST /exports` checks and records the job and its `export.requested` outbox event in one transaction
(`service`); the worker (`worker.handle`, fed by the export queue) streams the rows (`repo`) through a
sheet writer (`sheets`) into a file under /tmp and uploads it (`storage`).
"""
