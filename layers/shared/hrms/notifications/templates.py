"""The mail of each event: subject, plain text and HTML, from `string.Template`s.

Rules:
- Every mail names the tenant (the company the user works for) in its subject, text and HTML.
- Values are the recipient's first name, names of employees, months, outcomes and, for a password
  reset, the link: never an id the reader cannot use, never a hash, a password or another secret (the
  reset link carries the token, which is the point of that mail).
- HTML gets every value escaped (`html.escape`); the subject gets each value on one line (a name with a
  line break cannot add a header). A template naming a value the caller did not give raises KeyError:
  a mail is never sent with a `$placeholder` left in it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template

from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED, PASSWORD_RESET_REQUESTED, PAYSLIP_READY


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Spec:
    subject: str
    text: str  # the plain-text body, also the HTML's paragraphs (one per blank-line-separated block)
    action: str | None = None  # a value holding a URL: the HTML shows it as a button


_GREETING = "Hello $name,\n\n"
_SIGNATURE = "\n\n-- \n$tenant HR (sent by HRMS; you get this mail because of your account with $tenant)"

SPECS: dict[str, _Spec] = {
    APPROVAL_REQUESTED: _Spec(
        subject="[$tenant] Approval needed: $what of $requester",
        text=_GREETING
        + "$requester's $what waits for your decision (step $step).\n\n"
        + "Sign in to $tenant's HRMS and open your approvals to approve or reject it."
        + _SIGNATURE,
    ),
    APPROVAL_DECIDED: _Spec(
        subject="[$tenant] Your $what was $outcome",
        text=_GREETING + "Your $what was $outcome at step $step. $next" + _SIGNATURE,
    ),
    PAYSLIP_READY: _Spec(
        subject="[$tenant] Your payslip for $month is ready",
        text=_GREETING
        + "Your payslip for $month is ready.\n\n"
        + "Sign in to $tenant's HRMS to view and download it."
        + _SIGNATURE,
    ),
    PASSWORD_RESET_REQUESTED: _Spec(
        subject="[$tenant] Reset your password",
        text=_GREETING
        + "Someone (we hope you) asked to reset the password of your $tenant account.\n\n"
        + "Open this link within $minutes minutes to choose a new password; it works once:\n$link\n\n"
        + "If you did not ask for it, ignore this mail: your password stays as it is.",
        action="link",
    ),
}

_PAGE = Template(
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>$title</title></head>\n'
    '<body style="font-family: Arial, sans-serif; color: #1f2933; max-width: 560px; margin: 24px auto;">\n'
    '<p style="font-size: 13px; color: #52606d;">$tenant</p>\n$body\n</body></html>\n'
)


def render(event_type: str, values: Mapping[str, str]) -> Mail:
    """The mail of `event_type` with `values` (tenant, name and the event's own)."""
    spec = SPECS[event_type]
    one_line = {key: " ".join(str(value).split()) for key, value in values.items()}
    subject = Template(spec.subject).substitute(one_line)
    text = Template(spec.text).substitute(values)
    escaped = {key: html.escape(str(value)) for key, value in values.items()}
    return Mail(subject=subject, text=text, html=_html(spec, subject, escaped))


def _html(spec: _Spec, subject: str, escaped: Mapping[str, str]) -> str:
    paragraphs = []
    for block in spec.text.split("\n\n"):
        if spec.action and block.rstrip().endswith("$" + spec.action):
            intro = Template(block.rstrip().removesuffix("$" + spec.action).strip()).substitute(escaped)
            url = escaped[spec.action]
            paragraphs.append(f"<p>{intro}</p>")
            paragraphs.append(
                f'<p><a href="{url}" style="background: #1f6feb; color: #fff; padding: 10px 16px;'
                f' text-decoration: none; border-radius: 4px;">Choose a new password</a></p>'
                f'<p style="font-size: 12px; color: #52606d;">Or copy this link: {url}</p>'
            )
            continue
        lines = Template(block).substitute(escaped).strip().split("\n")
        if lines and lines[0].strip() == "--":  # the signature
            paragraphs.append(f'<p style="font-size: 12px; color: #52606d;">{"<br>".join(lines[1:])}</p>')
        else:
            paragraphs.append(f"<p>{'<br>'.join(lines)}</p>")
    return _PAGE.substitute(title=html.escape(subject), tenant=escaped["tenant"], body="\n".join(paragraphs))
