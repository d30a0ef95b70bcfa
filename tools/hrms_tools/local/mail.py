"""The mail moto's SES has captured in the local stack (what `hrms mail` lists).

moto keeps every message SES is sent in its SES backend (`ses_backends[account][region].sent_messages`,
the way moto documents to check sent mail). The local stack's moto server answers
`GET <AWS_ENDPOINT_URL>/_hrms/ses/sent` with them (`serve_sent_mail`, a WSGI wrapper the stack puts in
front of moto's app, in the process that runs the server), so `hrms mail` and the tests read them from
any process. (moto's own `GET /moto-api/data.json` dumps every model of every service - slow once the
stack has seen many messages and objects, and an error once a bucket some object belonged to is gone.)
Raw messages - the Notifier sends raw MIME - are parsed back into subject, plain text and HTML. Oldest
first, as moto received them.
"""

from __future__ import annotations

import email
import email.utils
import json
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

SENT_PATH = "/_hrms/ses/sent"


@dataclass(frozen=True)
class CapturedMail:
    message_id: str
    sender: str
    to: list[str]
    subject: str
    text: str
    html: str
    headers: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """As `hrms mail --json` prints it (camelCase, like the API)."""
        found = asdict(self)
        return {"messageId": found.pop("message_id"), "from": found.pop("sender"), **found}


def captured(endpoint: str, to: str | None = None, timeout_s: float = 10.0) -> list[CapturedMail]:
    """Every mail the local stack's SES at `endpoint` was sent (to `to` only, any case, if given)."""
    if not endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(f"{endpoint} is not a local moto server: in AWS, mail leaves through SES")
    with urllib.request.urlopen(endpoint.rstrip("/") + SENT_PATH, timeout=timeout_s) as response:  # noqa: S310 - loopback
        messages = json.loads(response.read())["messages"]
    found = [_raw(m) if "raw_data" in m else _simple(m) for m in messages]
    wanted = to.lower() if to else None
    return [m for m in found if wanted is None or wanted in (address.lower() for address in m.to)]


def sent_messages() -> list[dict[str, Any]]:
    """The messages moto's SES backends of this process were sent (raw and simple ones), as JSON values."""
    from moto.ses.models import Message, RawMessage, ses_backends

    found: list[dict[str, Any]] = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for message in list(backend.sent_messages):
                if isinstance(message, RawMessage):
                    found.append(
                        {
                            "id": message.id,
                            "source": message.source,
                            "destinations": list(message.destinations),
                            "raw_data": message.raw_data,
                        }
                    )
                elif isinstance(message, Message):
                    found.append(
                        {
                            "id": message.id,
                            "source": message.source,
                            "destinations": message.destinations,
                            "subject": message.subject,
                            "body": message.body,
                        }
                    )
    return found


def serve_sent_mail(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """`app` (moto's WSGI application) that also answers GET `SENT_PATH` with `sent_messages()`."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SENT_PATH and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"messages": sent_messages()}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wrapped


def _raw(model: dict[str, Any]) -> CapturedMail:
    parsed = email.message_from_string(str(model.get("raw_data") or ""), policy=default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    page = parsed.get_body(("html",))
    to = sorted({a.addr_spec for a in getattr(parsed["To"], "addresses", ())} or set(_addresses(model)))
    return CapturedMail(
        message_id=str(model.get("id") or ""),
        sender=str(model.get("source") or parsed["From"] or ""),
        to=to,
        subject=str(parsed["Subject"] or ""),
        text=str(text.get_content()) if isinstance(text, EmailMessage) else "",
        html=str(page.get_content()) if isinstance(page, EmailMessage) else "",
        headers={k: str(v) for k, v in parsed.items() if k.lower() not in ("subject", "to")},
    )


def _simple(model: dict[str, Any]) -> CapturedMail:
    destinations = model.get("destinations") or {}
    body = str(model.get("body") or "")
    return CapturedMail(
        message_id=str(model.get("id") or ""),
        sender=str(model.get("source") or ""),
        to=sorted(_addresses(model)),
        subject=str(model.get("subject") or ""),
        text="" if body.lstrip().startswith("<") else body,
        html=body if body.lstrip().startswith("<") else "",
        headers={"Cc": ", ".join(destinations.get("CcAddresses") or [])} if destinations.get("CcAddresses") else {},
    )


def _addresses(model: dict[str, Any]) -> list[str]:
    destinations = model.get("destinations") or []
    if isinstance(destinations, dict):
        return [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key) or []]
    return [email.utils.parseaddr(str(a))[1] for a in destinations]
