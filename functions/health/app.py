"""GET /health: every store with its latency; 503 only when PostgreSQL is down."""

from hrms.health.checks import HealthReport, check_health
from hrms.http import Response, api, ok

app = api(public=True)


@app.get("/health")
def health() -> Response[HealthReport]:
    report = check_health()
    return ok(report, 503) if report.status == "down" else ok(report)


handler = app.handler
