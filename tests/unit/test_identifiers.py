"""PAN and Aadhaar validation (incl. Verhoeff), masking, and PII encryption / blind indexes (no servers)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from hrms.employees.identifiers import (
    mask_aadhaar,
    mask_pan,
    normalise_aadhaar,
    normalise_pan,
    verhoeff_check_digit,
    verhoeff_valid,
)
from hrms.employees.models import EmployeePatch, NewEmployee
from hrms.pii import PiiCipher, PiiDecryptionError

TENANT_A = UUID("00000000-0000-4000-8000-00000000000a")
TENANT_B = UUID("00000000-0000-4000-8000-00000000000b")
SECRET = b"unit-test-key-material-0123456789abcdef"


# ---------------------------------------------------------------- Verhoeff


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        ("236", "3"),  # the worked example of the Verhoeff article (Wikipedia)
        ("12345", "1"),  # likewise
        ("23412341234", "6"),  # 234123412346, the usual Aadhaar test number
        ("99994105705", "8"),  # 999941057058, UIDAI's published sample Aadhaar
    ],
)
def test_verhoeff_check_digit_matches_published_examples(payload, check):
    assert verhoeff_check_digit(payload) == check
    assert verhoeff_valid(payload + check)


def test_verhoeff_catches_every_single_digit_error_and_adjacent_transposition():
    valid = "234123412346"
    for i in range(len(valid)):
        for d in "0123456789":
            if d != valid[i]:
                assert not verhoeff_valid(valid[:i] + d + valid[i + 1 :])
    for i in range(len(valid) - 1):
        if valid[i] != valid[i + 1]:
            assert not verhoeff_valid(valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :])


def test_verhoeff_refuses_non_digits():
    assert not verhoeff_valid("23412341234x")
    assert not verhoeff_valid("٢٣٤")  # Arabic-Indic digits are digits to str.isdigit, not to us
    with pytest.raises(ValueError):
        verhoeff_check_digit("12a")


# ---------------------------------------------------------------- Aadhaar


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("234123412346", "234123412346"),
        ("2341 2341 2346", "234123412346"),
        ("2341-2341-2346", "234123412346"),
        (" 9999 4105 7058 ", "999941057058"),
        ("987654321012", "987654321012"),
    ],
)
def test_valid_aadhaar_is_normalised_to_twelve_digits(raw, canonical):
    assert normalise_aadhaar(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "234123412345",  # checksum wrong
        "134123412346",  # starts with 1
        "034123412346",  # starts with 0
        "23412341234",  # 11 digits
        "2341234123466",  # 13 digits
        "2341_2341_2346",  # not an allowed separator
        "2341.2341.2346",
        "ABCD12341234",
        "",
        "٢٣٤١٢٣٤١٢٣٤٦",  # non-ASCII digits
    ],
)
def test_invalid_aadhaar_is_refused(raw):
    with pytest.raises(ValueError):
        normalise_aadhaar(raw)


def test_aadhaar_starting_with_0_or_1_is_refused_even_with_a_valid_checksum():
    for first in "01":
        body = first + "2341234123"
        candidate = body + verhoeff_check_digit(body)
        assert len(candidate) == 12 and verhoeff_valid(candidate)
        with pytest.raises(ValueError):
            normalise_aadhaar(candidate)


# ---------------------------------------------------------------- PAN


@pytest.mark.parametrize(
    ("raw", "canonical"), [("ABCDE1234F", "ABCDE1234F"), ("abcde1234f", "ABCDE1234F"), (" AbCdE1234f ", "ABCDE1234F")]
)
def test_valid_pan_is_upper_cased(raw, canonical):
    assert normalise_pan(raw) == canonical


@pytest.mark.parametrize(
    "raw", ["ABCD1234F", "ABCDE12345", "ABCDE1234", "ABCDE1234FG", "1BCDE1234F", "ABCDE12X4F", "ABCDE 1234F", ""]
)
def test_invalid_pan_is_refused(raw):
    with pytest.raises(ValueError):
        normalise_pan(raw)


def test_error_messages_never_echo_the_number():
    for call, raw in ((normalise_pan, "ABCDE12345"), (normalise_aadhaar, "234123412345")):
        with pytest.raises(ValueError) as info:
            call(raw)
        assert raw not in str(info.value)


# ---------------------------------------------------------------- masking


def test_masks_follow_the_api_examples():
    assert mask_pan("ABCDE1234F") == "XXXXX1234X"
    assert mask_aadhaar("234123419012") == "XXXX-XXXX-9012"


# ---------------------------------------------------------------- models


def _new(**overrides):
    body = {
        "email": "A.Person@Example.com",
        "firstName": "A",
        "lastName": "Person",
        "departmentId": str(uuid4()),
        "designationId": str(uuid4()),
        "dateOfJoining": "2025-03-01",
    }
    return NewEmployee.model_validate({**body, **overrides})


def test_new_employee_normalises_identifiers_and_email():
    new = _new(pan="abcde1234f", aadhaar="2341-2341-2346")
    assert (new.pan, new.aadhaar, new.email) == ("ABCDE1234F", "234123412346", "a.person@example.com")


def test_invalid_identifiers_are_reported_per_field_without_the_value():
    with pytest.raises(ValidationError) as info:
        _new(pan="ABCDE12345", aadhaar="234123412345")
    errors = info.value.errors(include_input=False)
    assert {e["loc"] for e in errors} == {("pan",), ("aadhaar",)}
    assert "234123412345" not in str([e["msg"] for e in errors])


def test_patch_may_clear_optional_fields_but_not_required_ones():
    assert EmployeePatch.model_validate({"pan": None, "managerId": None}).model_dump(exclude_unset=True) == {
        "pan": None,
        "manager_id": None,
    }
    with pytest.raises(ValidationError) as info:
        EmployeePatch.model_validate({"email": None, "departmentId": None})
    assert {e["loc"] for e in info.value.errors()} == {("email",), ("departmentId",)}


def test_unknown_body_keys_are_refused():
    with pytest.raises(ValidationError):
        _new(salary="1000000")


# ---------------------------------------------------------------- encryption


def test_encryption_round_trip_with_random_nonces():
    cipher = PiiCipher(SECRET)
    one = cipher.encrypt(TENANT_A, "pan", "ABCDE1234F")
    two = cipher.encrypt(TENANT_A, "pan", "ABCDE1234F")
    assert one != two  # a fresh 96-bit nonce each time
    assert b"ABCDE1234F" not in one
    assert cipher.decrypt(TENANT_A, "pan", one) == cipher.decrypt(TENANT_A, "pan", two) == "ABCDE1234F"


@pytest.mark.parametrize(("tenant", "field"), [(TENANT_B, "pan"), (TENANT_A, "aadhaar")])
def test_ciphertext_moved_to_another_tenant_or_field_does_not_decrypt(tenant, field):
    cipher = PiiCipher(SECRET)
    blob = cipher.encrypt(TENANT_A, "pan", "ABCDE1234F")
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(tenant, field, blob)


def test_tampered_ciphertext_or_other_key_does_not_decrypt():
    cipher = PiiCipher(SECRET)
    blob = bytearray(cipher.encrypt(TENANT_A, "pan", "ABCDE1234F"))
    blob[-1] ^= 1
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(TENANT_A, "pan", bytes(blob))
    good = cipher.encrypt(TENANT_A, "pan", "ABCDE1234F")
    with pytest.raises(PiiDecryptionError):
        PiiCipher(b"another-key-material-0123456789abcdef").decrypt(TENANT_A, "pan", good)
    with pytest.raises(PiiDecryptionError):
        cipher.decrypt(TENANT_A, "pan", b"\x02" + good[1:])


def test_blind_index_is_deterministic_per_tenant_and_field_and_keyed():
    cipher = PiiCipher(SECRET)
    index = cipher.blind_index(TENANT_A, "aadhaar", "234123412346")
    assert index == cipher.blind_index(TENANT_A, "aadhaar", "234123412346")
    assert len(index) == 32
    assert index != cipher.blind_index(TENANT_B, "aadhaar", "234123412346")
    assert index != cipher.blind_index(TENANT_A, "pan", "234123412346")
    assert index != cipher.blind_index(TENANT_A, "aadhaar", "999941057058")
    assert index != PiiCipher(b"another-key-material-0123456789abcdef").blind_index(TENANT_A, "aadhaar", "234123412346")


def test_short_key_material_is_refused_and_never_shown():
    with pytest.raises(ValueError):
        PiiCipher(b"short")
    assert SECRET.decode() not in repr(PiiCipher(SECRET))


def test_text_postgres_cannot_store_is_refused():
    with pytest.raises(ValidationError) as info:
        _new(firstName="A\x00", email="a\x00b@example.com")
    assert {e["loc"] for e in info.value.errors()} == {("firstName",), ("email",)}
