"""POST /admin/backups/validate: metadata, size, sha256, gzip and dump trailer; optional trial restore."""

from hrms.backup import service
from hrms.backup.models import ValidateRequest, Validation
from hrms.http import Response, api, ok
from hrms.tenancy import PLATFORM_ADMIN

app = api(roles={PLATFORM_ADMIN}, errors={404: "No such backup (`key`)."})


@app.post("/admin/backups/validate")
def validate_backup(body: ValidateRequest) -> Response[Validation]:
    return ok(service.validate_backup(body.key, trial_restore=body.trial_restore))


handler = app.handler
