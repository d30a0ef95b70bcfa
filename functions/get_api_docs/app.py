"""GET /docs: the API's documentation as a Swagger UI page over its OpenAPI document (public)."""

from hrms import openapi
from hrms.http import Response, api, html

app = api(public=True)


@app.get("/docs")
def get_api_docs() -> Response[str]:
    return html(openapi.docs_page())


handler = app.handler
