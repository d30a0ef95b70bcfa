"""What a new password must be: 12-128 characters and hard to guess.

Strength comes from zxcvbn (Dropbox's estimator; its package bundles the 30,000 most common
passwords plus name and word lists, so no download at run time): a score of at least 3 of 4
("safely unguessable: moderate protection from offline slow-hash attacks") is required, which
refuses blank, whitespace-only, repeated (`aaaaaaaaaaaa`), sequential (`abcdefghijkl`,
`123456789012`), keyboard-pattern and common passwords, each with the estimator's reason.
"""

from __future__ import annotations

from functools import cache
from typing import Any

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3


@cache
def _estimator() -> Any:
    import zxcvbn  # 1.7 MB of word lists: loaded only by the functions that set passwords

    return zxcvbn.zxcvbn


def weakness(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if not password.strip():
        return "must not be blank or only whitespace"
    if len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters"
    result = _estimator()(password, user_inputs=list(user_inputs), max_length=MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    reason = feedback.get("warning") or "is too easy to guess"
    hints = " ".join(feedback.get("suggestions") or [])
    return f"{reason.rstrip('.')}. {hints}".strip()


def strong(password: str) -> str:
    """A pydantic after-validator: the password, or a ValueError with the reason."""
    reason = weakness(password)
    if reason is not None:
        raise ValueError(f"The password is too weak: {reason}")
    return password
