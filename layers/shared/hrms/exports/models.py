"""Export jobs on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from hrms.models import ApiModel, InputModel
from hrms.payroll.months import Month

ExportKind = Literal["employees", "payroll-register", "leave"]
ExportFormat = Literal["csv", "xlsx"]
ExportStatus = Literal["queued", "running", "succeeded", "failed"]
Year = Annotated[int, Field(strict=True, ge=1900, le=2999, examples=[2025])]


class NewExport(InputModel):
    """What to export. `month` belongs to `payroll-register` only (required there), `year` to `leave`
    only (the tenant's current leave year when omitted); either on another kind is a 422."""

    kind: ExportKind
    format: ExportFormat
    month: Month | None = Field(default=None, description="YYYY-MM: the payroll register's month.")
    year: Year | None = Field(default=None, description="The leave year (named after the year it starts in).")


class ExportAccepted(ApiModel):
    export_id: UUID
    status: ExportStatus


class Export(ApiModel):
    export_id: UUID
    kind: ExportKind
    format: ExportFormat
    period: str = Field(description="YYYY-MM-DD (employees: the day requested), YYYY-MM (payroll) or YYYY (leave).")
    payroll_run_id: UUID | None = Field(description="The payroll register's run: the month's run that is not rejected.")
    status: ExportStatus
    row_count: int | None = Field(description="Data rows in the file (both sections of a leave export).")
    file_name: str | None
    download_url: str | None = Field(description="Presigned GET, valid for a few minutes; when succeeded.")
    failure: str | None = Field(description="Why a failed export failed.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
