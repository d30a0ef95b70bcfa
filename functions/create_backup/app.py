"""POST /admin/backups: a full or one-tenant backup, pg_dump streamed through gzip to S3 (platform admin).

A full backup is of one cell: `cell` (default `default`, the control database) must be configured here, else 422.
"""

from hrms.backup import service
from hrms.backup.models import BackupInfo, NewBackup
from hrms.http import Response, api, created
from hrms.tenancy import PLATFORM_ADMIN

app = api(roles={PLATFORM_ADMIN}, errors={404: "No such tenant (`tenantId`)."})


@app.post("/admin/backups")
def create_backup(body: NewBackup) -> Response[BackupInfo]:
    return created(service.create_backup(body.kind, body.tenant_id, cell=body.cell))


handler = app.handler
