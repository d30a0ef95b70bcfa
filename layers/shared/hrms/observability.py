"""The Powertools Logger and Tracer every function shares (service name from POWERTOOLS_SERVICE_NAME)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="hrms")
tracer = Tracer(service="hrms")
