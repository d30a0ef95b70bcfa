"""ImportWorker: the import queue's consumer; validates and writes each started import (hrms.imports.worker)."""

from typing import Any

from hrms.imports.worker import handle
from hrms.outbox.consumer import consume


def handler(event: dict[str, Any], context: Any) -> Any:
    return consume(event, context, handle)
