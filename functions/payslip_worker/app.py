"""PayslipWorker: the payslip queue's consumer; renders and stores the payslips of each processed run
(hrms.payslips.worker)."""

from typing import Any

from hrms.outbox.consumer import consume
from hrms.payslips.worker import budget_of, handle


def handler(event: dict[str, Any], context: Any) -> Any:
    budget = budget_of(context)
    return consume(event, context, lambda tenant, envelope: handle(tenant, envelope, budget))
