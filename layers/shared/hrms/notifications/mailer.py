"""Sending one mail through Amazon SES (API v2, SendEmail with raw MIME content).

- The sender is the `SES_IDENTITY` setting: an address is the sender itself; a domain sends as
  `no-reply@<domain>`. The From header shows the tenant's name with it ("Acme via HRMS").
- The message is multipart/alternative: plain text, then HTML. `Auto-Submitted: auto-generated`
  keeps auto-responders from answering it; `X-HRMS-Event` names the outbox event (an id, nothing more).
- An error of SES (a refused address, throttling, a paused account) or of the network raises
  `MailNotSent` with SES's code; the caller records it and lets SQS retry.
Locally SES is moto's: it keeps what it is sent (`hrms mail` lists it); the local stack verifies the
identity there as one would in SES.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid

from hrms import aws
from hrms.config import settings
from hrms.notifications.templates import Mail


class MailNotSent(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def sender() -> str:
    identity = settings().ses_identity
    if not identity:
        raise MailNotSent("NoIdentity", "SES_IDENTITY is not set: nothing can be sent")
    return identity if "@" in identity else f"no-reply@{identity}"


def message(to: str, mail: Mail, *, display_name: str, event_id: str) -> EmailMessage:
    """The MIME message of `mail` to `to`."""
    source = sender()
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((f"{' '.join(display_name.split())} via HRMS", source))
    msg["To"] = to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain=source.rsplit("@", 1)[-1])
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-HRMS-Event"] = event_id
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def send(to: str, mail: Mail, *, display_name: str, event_id: str) -> str:
    """Send `mail` to `to`; SES's message id, or MailNotSent."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        raw = message(to, mail, display_name=display_name, event_id=event_id).as_bytes()
    except (ValueError, IndexError) as exc:  # no header can carry it (a line break; the stdlib's parser fails on "a@")
        raise MailNotSent("InvalidMessage", str(exc)[:300]) from exc
    try:
        response = aws.client("sesv2").send_email(
            FromEmailAddress=sender(), Destination={"ToAddresses": [to]}, Content={"Raw": {"Data": raw}}
        )
    except ClientError as exc:
        error = exc.response.get("Error") or {}
        raise MailNotSent(str(error.get("Code") or "ClientError"), str(error.get("Message") or "")[:300]) from exc
    except BotoCoreError as exc:
        raise MailNotSent(type(exc).__name__, str(exc)[:300]) from exc
    return str(response["MessageId"])
