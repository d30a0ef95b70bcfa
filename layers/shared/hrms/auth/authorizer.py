"""The API Gateway TOKEN authorizer: verify the JWT, then confirm tenant and user are active.

The returned context is the only place handlers learn the tenant from. API Gateway caches the
policy per token (see template.yaml), so the policy covers every method of the stage; the token's
credentials epoch travels in the context, and the handler wrapper checks it again on every request
(`hrms.auth.credentials`), which makes revocation immediate despite that cache.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hrms.auth import credentials, repo
from hrms.auth.tokens import Claims, verify
from hrms.db import cells
from hrms.db.postgres import transaction
from hrms.errors import DomainError, Unauthorized
from hrms.observability import logger
from hrms.tenancy import PLATFORM_ADMIN, checked_schema_name


class Denied(Exception):
    """A valid token whose tenant or user may not call the API now (403)."""


def authorize(authorization: str | None, method_arn: str) -> dict[str, Any]:
    """An IAM policy for the caller; raises Unauthorized (401) for a bad token."""
    token = _bearer(authorization)
    claims = verify(token)
    try:
        context = _context(claims)
    except Denied:
        return _policy(claims.sub, "Deny", method_arn, {})
    return _policy(claims.sub, "Allow", method_arn, context)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token.")
    return token.strip()


def _context(claims: Claims, *, again: bool = True) -> dict[str, Any]:
    if claims.role == PLATFORM_ADMIN:
        if claims.ep != credentials.platform_epoch():
            raise Unauthorized(credentials.REVOKED)
        return {"userId": claims.sub, "role": claims.role, "credentialsEpoch": claims.ep}
    cell = cells.cell_of(str(claims.tid))
    with transaction(cell) as conn:  # the tenant's row and schema, in its cell
        tenant = repo.tenant_by_id(conn, UUID(claims.tid))
        if tenant is None:
            raise Unauthorized("Unknown tenant.")
        if tenant.status == "moved" and again:  # a copy a move left behind: read the registry afresh
            cells.forget(str(claims.tid))
            return _context(claims, again=False)
        if tenant.status != "active":
            raise Denied
        schema = checked_schema_name(tenant.schema_name)
        found = credentials.load(conn, schema, UUID(claims.sub))
        user = found[0] if found else None
        if user is None or not user.active or user.role != claims.role or user.epoch != claims.ep:
            raise Unauthorized("Unknown or disabled user.")
        touched = repo.touch_activity(conn, tenant.id)
    if touched and cell != cells.DEFAULT:
        _touch_registry(tenant.id)
    return {
        "userId": claims.sub,
        "role": claims.role,
        "tenantId": claims.tid,
        "schemaName": schema,
        "credentialsEpoch": claims.ep,
    }


def _touch_registry(tenant_id: UUID) -> None:
    """The control database's registry (GET /tenants) learns the last activity of a tenant of another cell, at
    most once a minute; a failure there never denies the caller."""
    try:
        with transaction() as conn:
            repo.touch_activity(conn, tenant_id)
    except DomainError as exc:
        logger.warning("The registry did not take a tenant's last activity", extra={"error": exc.detail})


def _policy(principal: str, effect: str, method_arn: str, context: dict[str, Any]) -> dict[str, Any]:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every method and path of the stage
    api_stage = "/".join(method_arn.split("/")[:2])
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api_stage}/*/*"}],
        },
        "context": context,
    }
