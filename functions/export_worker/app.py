"""ExportWorker: the export queue's consumer; writes each requested export's file (hrms.exports.worker)."""

from typing import Any

from hrms.exports.worker import handle
from hrms.outbox.consumer import consume


def handler(event: dict[str, Any], context: Any) -> Any:
    return consume(event, context, handle)
