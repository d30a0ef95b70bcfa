"""GET /openapi.json: this API's OpenAPI 3.1 document, to read or to generate a client from (public)."""

from typing import Any

from hrms import openapi
from hrms.http import Response, api, ok

app = api(public=True)


@app.get("/openapi.json")
def get_openapi_document() -> Response[dict[str, Any]]:
    return ok(openapi.document())


handler = app.handler
