"""Notification mail and reset tokens without servers: templates, MIME, the token's text and hash,
preferences, and the Notifier's place in the template."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from uuid import uuid4

import pytest
from cfnlint.decode import cfn_yaml

from hrms.auth import reset_tokens
from hrms.config import settings
from hrms.notifications import mailer, service, templates
from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED, PASSWORD_RESET_REQUESTED, PAYSLIP_READY
from hrms.outbox.events import REGISTRY
from tests.conftest import ROOT

TENANT = "Acme <Industries> & Sons"
VALUES: dict[str, dict[str, str]] = {
    APPROVAL_REQUESTED: {"what": "leave request", "requester": "Ravi Kumar", "step": "1"},
    APPROVAL_DECIDED: {"what": "leave request", "outcome": "approved", "step": "1", "next": ""},
    PAYSLIP_READY: {"month": "January 2025"},
    PASSWORD_RESET_REQUESTED: {"link": "https://hr.example.com/reset?token=abc", "minutes": "30"},
}


def _render(event: str, **extra: str) -> templates.Mail:
    return templates.render(event, {"tenant": TENANT, "name": "Asha", **VALUES[event], **extra})


@pytest.mark.parametrize("event", sorted(templates.SPECS))
def test_every_mail_names_the_tenant_in_subject_text_and_html(event: str) -> None:
    mail = _render(event)
    assert TENANT in mail.subject and TENANT in mail.text
    assert "Acme &lt;Industries&gt; &amp; Sons" in mail.html and TENANT not in mail.html  # escaped, never raw
    assert mail.html.startswith("<!DOCTYPE html>") and "Hello Asha," in mail.text
    assert "$" not in mail.subject + mail.text + mail.html  # no placeholder left


@pytest.mark.parametrize("event", sorted(templates.SPECS))
def test_a_mail_carries_no_ids_hashes_or_secrets(event: str) -> None:
    mail = _render(event)
    every = mail.subject + mail.text + mail.html
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", every)  # no uuids
    for secret in ("password_hash", "$argon2", "verifier", "hash"):
        assert secret not in every.lower()


def test_every_notification_event_has_a_template_and_a_preference() -> None:
    assert set(templates.SPECS) == set(service.EVENTS)
    assert all(event in REGISTRY for event in service.EVENTS)
    assert service.ESSENTIAL == (PASSWORD_RESET_REQUESTED,)


def test_names_are_escaped_in_html_and_cannot_break_the_subject() -> None:
    mail = _render(APPROVAL_REQUESTED, requester='<script>alert("x")</script>\r\nBcc: evil@example.com')
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_a_missing_value_fails_instead_of_mailing_a_placeholder() -> None:
    with pytest.raises(KeyError):
        templates.render(PAYSLIP_READY, {"tenant": TENANT, "name": "Asha"})


def test_the_reset_mail_links_the_token_in_text_and_html() -> None:
    mail = _render(PASSWORD_RESET_REQUESTED)
    assert "https://hr.example.com/reset?token=abc" in mail.text
    assert 'href="https://hr.example.com/reset?token=abc"' in mail.html
    assert "30 minutes" in mail.text


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    """Set SES_IDENTITY (None: unset) for the settings; no database is reached."""

    def use(value: str | None) -> None:
        monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1:9/unit-tests-reach-no-database")
        if value is None:
            monkeypatch.delenv("SES_IDENTITY", raising=False)
        else:
            monkeypatch.setenv("SES_IDENTITY", value)
        settings.cache_clear()

    yield use
    monkeypatch.undo()
    settings.cache_clear()


def test_the_mime_message_is_text_then_html_from_the_identity(identity: Callable[[str | None], None]) -> None:
    identity("mail.example.com")
    assert mailer.sender() == "no-reply@mail.example.com"
    msg = mailer.message("asha@example.com", _render(PAYSLIP_READY), display_name=TENANT, event_id="e-1")
    parsed = message_from_bytes(msg.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "asha@example.com" and parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@mail.example.com"
    assert TENANT in parsed["From"].addresses[0].display_name
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    text = parsed.get_body(("plain",))
    assert text is not None and "January 2025" in text.get_content()


def test_an_address_sends_as_itself_and_no_identity_sends_nothing(identity: Callable[[str | None], None]) -> None:
    identity("hr@example.com")
    assert mailer.sender() == "hr@example.com"
    identity(None)
    with pytest.raises(mailer.MailNotSent, match="NoIdentity"):
        mailer.sender()


# ---------------------------------------------------------------- reset tokens


def test_a_token_reads_back_and_only_the_hash_of_its_secret_is_kept() -> None:
    tenant, selector, secret = uuid4(), uuid4(), reset_tokens.new_secret()
    token = reset_tokens.ResetToken(tenant, selector, secret)
    assert len(token.text) == reset_tokens.TOKEN_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", token.text)
    assert reset_tokens.parse(token.text) == token
    assert token.verifier_hash == hashlib.sha256(secret).digest() and len(secret) == 32
    assert secret.hex() not in token.verifier_hash.hex()
    assert reset_tokens.matches(token.verifier_hash, secret)
    assert not reset_tokens.matches(token.verifier_hash, reset_tokens.new_secret())


def test_two_tokens_never_share_a_secret() -> None:
    assert len({reset_tokens.new_secret() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "text",
    ["", "x", "A" * 85, "A" * 87, "!" * 86, base64.urlsafe_b64encode(b"\0" * 63).decode().rstrip("=") + "A=", "é" * 86],
)
def test_text_that_cannot_be_a_token_reads_as_none(text: str) -> None:
    assert reset_tokens.parse(text) is None


def test_a_token_edited_to_name_another_tenant_keeps_its_selector_and_secret() -> None:
    token = reset_tokens.ResetToken(uuid4(), uuid4(), reset_tokens.new_secret())
    edited = reset_tokens.ResetToken(uuid4(), token.selector, token.secret)
    parsed = reset_tokens.parse(edited.text)
    assert parsed is not None and parsed.tenant_id != token.tenant_id and parsed.secret == token.secret


# ---------------------------------------------------------------- preferences


def test_security_mail_always_goes_and_the_others_follow_the_users_choice() -> None:
    everything_off = list(service.EVENTS)
    assert service.wants(PASSWORD_RESET_REQUESTED, everything_off)
    assert not any(service.wants(event, everything_off) for event in service.OPTIONAL)
    assert all(service.wants(event, []) for event in service.EVENTS)


# ---------------------------------------------------------------- template.yaml


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))["Resources"]


def test_the_notifier_reads_the_outbox_queue_reporting_failures_per_record(resources: dict[str, Any]) -> None:
    notifier = resources["NotifierFunction"]["Properties"]
    [source] = [e["Properties"] for e in notifier["Events"].values() if e["Type"] == "SQS"]
    assert source["Queue"] == {"Fn::GetAtt": ["OutboxQueue", "Arn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["OutboxQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * notifier["Timeout"]  # AWS: 6x the function's timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["OutboxDlq", "Arn"]}
    alarm = resources["OutboxDlqAlarm"]["Properties"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["OutboxDlq", "QueueName"]}}]


def test_the_notifier_may_send_mail_as_the_ses_identity_only(resources: dict[str, Any]) -> None:
    notifier = resources["NotifierFunction"]["Properties"]
    statements = [s for p in notifier["Policies"] if "Statement" in p for s in p["Statement"]]
    ses = [s for s in statements if any(str(a).startswith("ses:") for a in [s["Action"]] if a)]
    assert ses == [
        {
            "Sid": "SendAsTheIdentity",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}"
            },
        }
    ]
    assert notifier["Environment"]["Variables"]["SES_IDENTITY"] == {"Ref": "SesIdentity"}
    others = [
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function" and lid != "NotifierFunction" and "ses:" in json.dumps(r)
    ]
    assert others == []


def test_the_forgot_and_reset_routes_are_public_like_login(resources: dict[str, Any]) -> None:
    for function, path in (
        ("ForgotPasswordFunction", "/auth/forgot-password"),
        ("ResetPasswordFunction", "/auth/reset-password"),
    ):
        api = resources[function]["Properties"]["Events"]["Api"]["Properties"]
        assert (api["Path"], api["Method"], api["Auth"]) == (path, "POST", {"Authorizer": "NONE"})
