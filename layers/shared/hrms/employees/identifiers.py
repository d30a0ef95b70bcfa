"""Indian national identifiers on employee records: PAN and Aadhaar validation, masking, and the
columns they are stored in (`stored_columns`, the one function here that uses the PII key).

Validation errors never echo the value: messages end up in responses and logs, where a plaintext
identifier must never appear.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from hrms import pii

PAN_PATTERN = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
_AADHAAR_SEPARATORS = re.compile(r"[ -]")
_AADHAAR_DIGITS = re.compile(r"^[2-9][0-9]{11}$")

# Verhoeff tables: multiplication in the dihedral group D5, the position permutation, the inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _verhoeff_checksum(digits: str) -> int:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c


def verhoeff_valid(digits: str) -> bool:
    """True if `digits` (check digit last) passes the Verhoeff check."""
    return digits.isascii() and digits.isdigit() and _verhoeff_checksum(digits) == 0


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to `digits`."""
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("digits only")
    return str(_INV[_verhoeff_checksum(digits + "0")])


def normalise_pan(value: str) -> str:
    """The PAN in canonical form (upper case, no surrounding blanks); ValueError if malformed."""
    pan = value.strip().upper()
    if not PAN_PATTERN.fullmatch(pan):
        raise ValueError("must be a PAN: five letters, four digits and a letter")
    return pan


def normalise_aadhaar(value: str) -> str:
    """The Aadhaar number as 12 digits (spaces and dashes dropped); ValueError if not a valid one."""
    digits = _AADHAAR_SEPARATORS.sub("", value.strip())
    if not _AADHAAR_DIGITS.fullmatch(digits):
        raise ValueError("must be an Aadhaar number: 12 digits, not starting with 0 or 1")
    if not verhoeff_valid(digits):
        raise ValueError("is not a valid Aadhaar number (checksum mismatch)")
    return digits


def mask_pan(pan: str) -> str:
    """`ABCDE1234F` -> `XXXXX1234X`: only the four digits stay visible."""
    return f"XXXXX{pan[5:9]}X"


def mask_aadhaar(aadhaar: str) -> str:
    """`234123412346` -> `XXXX-XXXX-2346`: only the last four digits stay visible."""
    return f"XXXX-XXXX-{aadhaar[-4:]}"


def stored_columns(tenant_id: UUID, field: str, value: str | None) -> dict[str, Any]:
    """The columns one identifier (`pan` or `aadhaar`) is stored in: ciphertext, blind index and masked
    form (all null to clear it). Every writer of employees (the API, imports) stores them this way."""
    if value is None:
        return {f"{field}_encrypted": None, f"{field}_blind_index": None, f"{field}_masked": None}
    cipher = pii.cipher()
    mask = mask_pan if field == "pan" else mask_aadhaar
    return {
        f"{field}_encrypted": cipher.encrypt(tenant_id, field, value),
        f"{field}_blind_index": cipher.blind_index(tenant_id, field, value),
        f"{field}_masked": mask(value),
    }
