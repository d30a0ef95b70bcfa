"""The text of a password-reset token, and what is kept of it.

A token is 64 random-looking bytes, base64url without padding (86 characters):
- 16 bytes: the tenant's id (the reset route takes no tenant; a token edited to name another tenant
  finds nothing there);
- 16 bytes: the selector, the id of its row in the tenant's `password_reset_tokens`;
- 32 bytes: the secret, from `secrets.token_bytes`. Only its SHA-256 is stored (`verifier_hash`),
  and a presented secret is compared with `hmac.compare_digest` (constant time).
The database never holds what a link needs: a leaked table cannot reset anyone's password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from uuid import UUID

SECRET_BYTES = 32
TOKEN_BYTES = 16 + 16 + SECRET_BYTES
TOKEN_LENGTH = 86  # base64url of TOKEN_BYTES, unpadded


@dataclass(frozen=True)
class ResetToken:
    tenant_id: UUID
    selector: UUID
    secret: bytes

    @property
    def text(self) -> str:
        raw = self.tenant_id.bytes + self.selector.bytes + self.secret
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @property
    def verifier_hash(self) -> bytes:
        return verifier_hash(self.secret)


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def verifier_hash(secret: bytes) -> bytes:
    """What is stored of a token: the SHA-256 of its secret (a 256-bit random value needs no slow hash)."""
    return hashlib.sha256(secret).digest()


def parse(text: str) -> ResetToken | None:
    """The token `text` stands for, or None when it cannot be one."""
    if len(text) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        return None  # not the canonical spelling of its bytes
    return ResetToken(UUID(bytes=raw[:16]), UUID(bytes=raw[16:32]), raw[32:])


def matches(stored_hash: bytes, secret: bytes) -> bool:
    """Whether `secret` is the one whose hash was stored (constant-time comparison)."""
    return hmac.compare_digest(bytes(stored_hash), verifier_hash(secret))
