"""What a new password must be (12-128 characters, hard to guess), by example: the estimator directly and
the request model of POST /auth/password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hrms.auth.models import PasswordChangeIn
from hrms.auth.password_policy import weakness

CASES = [
    # (password, accepted?, what kind of password it is)
    ("", False, "blank"),
    (" " * 12, False, "only spaces"),
    ("\t \t \t \t \t \t ", False, "only whitespace"),
    ("aaaaaaaaaaaa", False, "one character repeated"),
    ("abcabcabcabc", False, "a short run repeated"),
    ("abcdefghijkl", False, "sequential letters"),
    ("123456789012", False, "sequential digits"),
    ("qwertyuiopas", False, "a keyboard row"),
    ("1qaz2wsx3edc", False, "a keyboard pattern"),
    ("password1234", False, "a common password"),
    ("iloveyou2024", False, "a common phrase with a year"),
    ("Tq8#vL2!", False, "strong characters but too short"),
    ("Zq8#rT2!mW5", False, "eleven random characters"),
    ("Zq8#rT2!mW5x", True, "twelve random characters"),
    ("violet harbour lantern drifts north", True, "a long passphrase"),
    ("tR7#qLm2!vZx9@Kp", True, "random and strong"),
    ("  tR7#qLm2!vZx9@Kp  ", True, "strong, with spaces around it"),
]
IDS = [kind for _, _, kind in CASES]


@pytest.mark.parametrize(("password", "accepted", "kind"), CASES, ids=IDS)
def test_weakness_refuses_guessable_passwords_with_a_reason(password: str, accepted: bool, kind: str) -> None:
    reason = weakness(password)
    if accepted:
        assert reason is None, f"{kind}: {reason}"
    else:
        assert isinstance(reason, str) and reason.strip(), kind


@pytest.mark.parametrize(("password", "accepted", "kind"), CASES, ids=IDS)
def test_the_password_change_body_applies_the_policy(password: str, accepted: bool, kind: str) -> None:
    body = {"currentPassword": "whatever-it-was", "newPassword": password}
    if accepted:
        assert PasswordChangeIn.model_validate(body).new_password == password  # kept exactly as typed
        return
    with pytest.raises(ValidationError) as refused:
        PasswordChangeIn.model_validate(body)
    errors = refused.value.errors()
    assert [e["loc"] for e in errors] == [("newPassword",)], errors
    assert errors[0]["msg"], kind


PASSPHRASE = "violet harbour lantern drifts north " * 4  # 144 characters of plain words


@pytest.mark.parametrize("length", [72, 73, 100, 128])
def test_a_long_passphrase_is_accepted_up_to_128_characters(length: int) -> None:
    password = PASSPHRASE[:length]
    assert weakness(password) is None
    body = {"currentPassword": "x", "newPassword": password}
    assert PasswordChangeIn.model_validate(body).new_password == password


def test_a_password_of_129_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        PasswordChangeIn.model_validate({"currentPassword": "x", "newPassword": PASSPHRASE[:129]})
    assert [e["loc"] for e in refused.value.errors()] == [("newPassword",)]


def test_the_current_password_is_taken_as_typed_not_judged() -> None:
    body = PasswordChangeIn.model_validate({"currentPassword": " aaaa ", "newPassword": "tR7#qLm2!vZx9@Kp"})
    assert body.current_password == " aaaa "
