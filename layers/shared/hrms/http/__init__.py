"""HTTP helpers for thin handlers: the resolver wrapper and response builders."""

from aws_lambda_powertools.event_handler import Response

from hrms.http.api import Api, api
from hrms.http.responses import NO_STORE, created, html, no_content, ok

__all__ = ["NO_STORE", "Api", "Response", "api", "created", "html", "no_content", "ok"]
