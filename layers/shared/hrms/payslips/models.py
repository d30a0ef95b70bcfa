"""Payslips on the wire."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import Field

from hrms.models import ApiModel


class PayslipSummary(ApiModel):
    payroll_run_id: UUID
    month: str = Field(description="YYYY-MM")
    gross: Decimal
    deductions: Decimal
    net: Decimal
    download_url: str | None = Field(
        description="A presigned GET of the PDF, valid 5 minutes; null while the payslip is being prepared"
        " (the run was processed moments ago)."
    )


class PayslipDownload(ApiModel):
    download_url: str = Field(description="A presigned GET of the PDF, valid 5 minutes.")
