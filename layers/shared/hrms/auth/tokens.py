"""JWT (HS256) issue and verification. Claims: sub, tid (absent for platform admins), role, exp, and `ep`,
the user's credentials epoch at issue time (see `hrms.auth.credentials`: a later epoch revokes the token)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt

from hrms import aws
from hrms.config import settings
from hrms.errors import Unauthorized
from hrms.tenancy import PLATFORM_ADMIN, TENANT_ROLES


@dataclass(frozen=True)
class Claims:
    sub: str
    role: str
    tid: str | None
    exp: int
    ep: int = 0


def signing_key() -> str:
    cfg = settings()
    if cfg.jwt_secret is not None:
        return cfg.jwt_secret.get_secret_value()
    return aws.secret(cfg.jwt_secret_id)


def issue(sub: str, role: str, tid: str | None = None, ttl_s: int | None = None, epoch: int = 0) -> str:
    cfg = settings()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "iss": cfg.jwt_issuer,
        "iat": now,
        "jti": secrets.token_urlsafe(12),  # unique per token: authorizer caches key on the token
        "exp": now + (ttl_s or cfg.jwt_ttl_s),
        "ep": epoch,
    }
    if tid is not None:
        claims["tid"] = tid
    return jwt.encode(claims, signing_key(), algorithm="HS256")


def verify(token: str) -> Claims:
    """Verified claims, or Unauthorized for anything expired, tampered or malformed."""
    try:
        raw = jwt.decode(
            token,
            signing_key(),
            algorithms=["HS256"],
            issuer=settings().jwt_issuer,
            options={"require": ["sub", "role", "exp", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid or expired token.") from exc
    epoch = raw.get("ep", 0)
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        raise Unauthorized("Invalid or expired token.")
    claims = Claims(sub=str(raw["sub"]), role=raw["role"], tid=raw.get("tid"), exp=int(raw["exp"]), ep=epoch)
    if claims.role == PLATFORM_ADMIN and claims.tid is None:
        return claims
    if claims.role in TENANT_ROLES and _is_uuid(claims.tid) and _is_uuid(claims.sub):
        return claims
    raise Unauthorized("Invalid or expired token.")


def _is_uuid(value: object) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)
