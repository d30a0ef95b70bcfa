"""Password hashing with Argon2id (memory-hard) and temporary password generation."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def _hasher() -> PasswordHasher:
    # Argon2id with OWASP's baseline (19 MiB, 2 passes): ~25 ms here, safe for a 512 MB Lambda.
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def temporary_password() -> str:
    """A random 16-character password the user must change at first login."""
    return secrets.token_urlsafe(12)
