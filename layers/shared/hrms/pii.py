"""Field-level encryption of personal identifiers (PAN, Aadhaar, ...) and their blind indexes.

One secret in Secrets Manager (`PII_KEY_SECRET_ID`) is the input key material; HKDF-SHA256
derives two independent keys from it: an AES-256-GCM key and an HMAC-SHA256 key.

- Ciphertext: `version (1 byte) || nonce (12 random bytes) || AES-GCM(ciphertext || tag)`, with
  associated data `tenant id + field name`, so a value copied to another tenant's row or to another
  column does not decrypt.
- Blind index: HMAC-SHA256 over `tenant id + field name + canonical value`; equal values of one
  tenant and field collide (a unique index catches duplicates), nothing else does, and without the
  key the index cannot be brute-forced from the small Aadhaar/PAN space.

Neither plaintext nor ciphertext is ever logged or returned; callers show masked forms only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import lru_cache
from uuid import UUID

VERSION = b"\x01"
NONCE_BYTES = 12
_SALT = b"hrms-pii-v1"


class PiiDecryptionError(Exception):
    """A ciphertext that does not decrypt with this key, tenant and field (tampered or moved)."""


@dataclass(frozen=True)
class PiiCipher:
    """Encryption and blind indexing with keys derived from one secret."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the PII key secret needs at least 32 bytes of key material")

    @property
    def _keys(self) -> tuple[bytes, bytes]:
        return _derive(self.secret)

    def encrypt(self, tenant_id: UUID, field_name: str, plaintext: str) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._keys[0]).encrypt(nonce, plaintext.encode(), _aad(tenant_id, field_name))
        return VERSION + nonce + sealed

    def decrypt(self, tenant_id: UUID, field_name: str, blob: bytes) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        blob = bytes(blob)
        if blob[:1] != VERSION or len(blob) < 1 + NONCE_BYTES + 16:
            raise PiiDecryptionError("unknown ciphertext format")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return AESGCM(self._keys[0]).decrypt(nonce, sealed, _aad(tenant_id, field_name)).decode()
        except InvalidTag as exc:
            raise PiiDecryptionError("ciphertext does not belong to this tenant and field") from exc

    def blind_index(self, tenant_id: UUID, field_name: str, canonical_value: str) -> bytes:
        message = _aad(tenant_id, field_name) + b"\x00" + canonical_value.encode()
        return hmac.new(self._keys[1], message, hashlib.sha256).digest()


def _aad(tenant_id: UUID, field_name: str) -> bytes:
    return f"hrms-pii:{tenant_id}:{field_name}".encode()


@lru_cache(maxsize=4)
def _derive(secret: bytes) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret)

    return derive(b"aes-256-gcm encryption"), derive(b"hmac-sha256 blind index")


def cipher() -> PiiCipher:
    """The cipher of the configured secret (read through the Powertools secrets cache)."""
    from hrms import aws
    from hrms.config import settings

    return PiiCipher(aws.secret(settings().pii_key_secret_id).encode())
