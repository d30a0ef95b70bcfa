"""The Notifier against the real stack: outbox events as SQS records through `hrms.outbox.consumer`,
recipients read from PostgreSQL, mail sent to moto's SES and read back the way `hrms mail` reads it.
Also the preferences and the forgotten-password service (limits, timing, tokens)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg import sql

from hrms.approvals import service as approvals
from hrms.approvals.models import DecisionIn
from hrms.auth import forgot, login, reset, reset_tokens
from hrms.auth.models import ForgotPasswordIn, LoginIn, ResetPasswordIn, ResetRequested
from hrms.errors import BadRequest, Invalid, Unauthorized
from hrms.notifications import notifier
from hrms.notifications import service as preferences
from hrms.notifications.models import NotificationPreferencesIn
from hrms.outbox import APPROVAL_REQUESTED, PASSWORD_RESET_REQUESTED, PAYSLIP_READY
from hrms.outbox.consumer import consume
from hrms.outbox.envelope import Envelope
from hrms.tenancy import Actor
from hrms_tools.local.mail import CapturedMail, captured
from tests.integration.leave_world import World
from tests.integration.test_outbox_consumer import event, record

STRONG = "violet-tractor-marmalade-93"


# ---------------------------------------------------------------- helpers


def outbox_events(world: World, event_type: str) -> list[Envelope]:
    """The tenant's outbox events of one type, oldest first, as the queue would carry them."""
    found = world.query(
        sql.SQL("SELECT event_id, event_type, payload, created_at FROM {} WHERE event_type = %s ORDER BY id").format(
            world.t("outbox")
        ),
        (event_type,),
    )
    return [
        Envelope(r["event_id"], r["event_type"], world.tenant.tenant_id, r["created_at"], r["payload"]) for r in found
    ]


def made(world: World, event_type: str, **payload: Any) -> Envelope:
    return Envelope(uuid4(), event_type, world.tenant.tenant_id, dt.datetime.now(dt.UTC), payload)


def deliver(*envelopes: Envelope) -> list[str]:
    """Hand the envelopes to the Notifier as one SQS batch; the ids of the records that failed."""
    records = [record(e.body(), message_id=str(e.event_id)) for e in envelopes]
    response = consume(event(*records), None, notifier.handle)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def mail_to(address: str) -> list[CapturedMail]:
    return captured(os.environ["AWS_ENDPOINT_URL"], address)


def email_of(world: World, user: Actor) -> str:
    rows = world.query(sql.SQL("SELECT email FROM {} WHERE id = %s").format(world.t("users")), (user.user_id,))
    return str(rows[0]["email"])


def deliveries(world: World, event_id: UUID) -> dict[str, tuple[str, int]]:
    rows = world.query(
        sql.SQL("SELECT user_id, status, attempts FROM {} WHERE event_id = %s").format(world.t("notifications")),
        (event_id,),
    )
    return {str(r["user_id"]): (r["status"], r["attempts"]) for r in rows}


def slug_of(world: World) -> str:
    rows = world.query(sql.SQL("SELECT slug FROM public.tenants WHERE id = %s"), (world.tenant.tenant_id,))
    return str(rows[0]["slug"])


@pytest.fixture
def tenant_name(world: World) -> str:
    rows = world.query(sql.SQL("SELECT name FROM public.tenants WHERE id = %s"), (world.tenant.tenant_id,))
    return str(rows[0]["name"])


# ---------------------------------------------------------------- recipients


def test_a_leave_request_mails_the_manager_and_its_decision_mails_the_requester(
    world: World, team: dict[str, Any], tenant_name: str
) -> None:
    manager, employee = email_of(world, team["manager_user"]), email_of(world, team["employee_user"])
    leave = world.request(team["employee_user"], "2024-02-05", "2024-02-09")
    [requested] = outbox_events(world, APPROVAL_REQUESTED)
    assert deliver(requested) == []
    [task] = mail_to(manager)
    assert task.subject == f"[{tenant_name}] Approval needed: leave request of Asha Rao"
    assert tenant_name in task.text and "Asha Rao's leave request waits for your decision" in task.text
    assert "<!DOCTYPE html>" in task.html and task.sender == "no-reply@hrms.localhost"
    assert task.headers["X-HRMS-Event"] == str(requested.event_id)
    assert mail_to(employee) == []

    approvals.decide_approval(world.tenant, team["manager_user"], leave.approval_id, DecisionIn(decision="approve"))
    [decided] = outbox_events(world, "approval.decided")
    assert deliver(decided) == []
    [news] = mail_to(employee)
    assert news.subject == f"[{tenant_name}] Your leave request was approved"
    assert len(mail_to(manager)) == 1
    assert deliveries(world, decided.event_id) == {team["employee_user"].user_id: ("sent", 1)}


def test_a_role_step_mails_every_active_user_of_the_role_except_the_requester(world: World) -> None:
    requester = world.hire()
    own = world.user(requester, "hr_manager")  # the requester's own user: never asked to decide
    first, second, disabled = (world.user(None, "hr_manager") for _ in range(3))
    world.query(
        sql.SQL("UPDATE {} SET status = 'disabled' WHERE id = %s").format(world.t("users")), (disabled.user_id,)
    )
    outsider = world.user(None, "manager")
    task = made(
        world,
        APPROVAL_REQUESTED,
        approvalId=str(uuid4()),
        entityType="leave",
        entityId=str(uuid4()),
        step=2,
        approverType="role",
        approverRole="hr_manager",
        assigneeEmployeeId=None,
        subjectEmployeeId=str(requester),
    )
    assert deliver(task) == []
    assert set(deliveries(world, task.event_id)) == {first.user_id, second.user_id}
    for user in (first, second):
        [mail] = mail_to(email_of(world, user))
        assert "(step 2)" in mail.text
    for user in (own, disabled, outsider):
        assert mail_to(email_of(world, user)) == []


def test_a_ready_payslip_mails_its_employee(world: World, team: dict[str, Any], tenant_name: str) -> None:
    ready = made(world, PAYSLIP_READY, payrollRunId=str(uuid4()), employeeId=str(team["employee"]), month="2025-01")
    assert deliver(ready) == []
    [mail] = mail_to(email_of(world, team["employee_user"]))
    assert mail.subject == f"[{tenant_name}] Your payslip for January 2025 is ready"
    assert mail_to(email_of(world, team["manager_user"])) == []


def test_an_event_delivered_twice_is_mailed_once(world: World, team: dict[str, Any]) -> None:
    ready = made(world, PAYSLIP_READY, payrollRunId=str(uuid4()), employeeId=str(team["employee"]), month="2025-02")
    assert deliver(ready) == []
    assert deliver(ready, ready) == []  # redelivered, even twice in one batch
    assert len(mail_to(email_of(world, team["employee_user"]))) == 1
    assert deliveries(world, ready.event_id) == {team["employee_user"].user_id: ("sent", 1)}


def test_an_address_ses_rejects_fails_its_record_only_and_is_retried_alone(world: World, team: dict[str, Any]) -> None:
    good, bad = world.user(None, "hr_manager"), world.user(None, "hr_manager")
    world.query(
        sql.SQL("UPDATE {} SET email = %s WHERE id = %s").format(world.t("users")),
        (f"{uuid4().hex}@twice@example.com", bad.user_id),
    )
    task = made(
        world,
        APPROVAL_REQUESTED,
        approvalId=str(uuid4()),
        entityType="payroll",
        entityId=str(uuid4()),
        step=1,
        approverType="role",
        approverRole="hr_manager",
        assigneeEmployeeId=None,
        subjectEmployeeId=None,
    )
    ready = made(world, PAYSLIP_READY, payrollRunId=str(uuid4()), employeeId=str(team["employee"]), month="2025-03")

    assert deliver(task, ready) == [str(task.event_id)]  # the payslip's record succeeds
    assert len(mail_to(email_of(world, good))) == 1 and len(mail_to(email_of(world, team["employee_user"]))) == 1
    hr = team["hr"].user_id  # the team's HR manager is an approver too
    assert deliveries(world, task.event_id) == {good.user_id: ("sent", 1), hr: ("sent", 1), bad.user_id: ("failed", 1)}
    failure = world.query(
        sql.SQL("SELECT failure FROM {} WHERE user_id = %s").format(world.t("notifications")), (bad.user_id,)
    )[0]["failure"]
    assert "Missing domain" in failure

    assert deliver(task) == [str(task.event_id)]  # SQS's redelivery: only the refused address is tried again
    assert len(mail_to(email_of(world, good))) == 1
    assert deliveries(world, task.event_id) == {good.user_id: ("sent", 1), hr: ("sent", 1), bad.user_id: ("failed", 2)}


def test_hrms_mail_lists_what_ses_captured(world: World, team: dict[str, Any], cli: Any) -> None:
    address = email_of(world, team["employee_user"])
    ready = made(world, PAYSLIP_READY, payrollRunId=str(uuid4()), employeeId=str(team["employee"]), month="2025-04")
    assert deliver(ready) == []
    printed = cli("mail", "--to", address.upper(), "--json")
    assert printed.exit_code == 0, printed.output
    listing = json.loads(printed.stdout)
    assert listing["count"] == 1
    [mail] = listing["mail"]
    assert mail["to"] == [address] and mail["from"] == "no-reply@hrms.localhost"
    assert "April 2025" in mail["subject"] and "April 2025" in mail["text"] and "<!DOCTYPE html>" in mail["html"]
    shown = cli("mail", "--to", address)
    assert (
        shown.exit_code == 0 and "Your payslip for April 2025 is ready" in shown.stdout and "1 mail(s)" in shown.stdout
    )
    assert "no mail to nobody@example.com" in cli("mail", "--to", "nobody@example.com").stdout


# ---------------------------------------------------------------- preferences


def test_a_muted_event_is_skipped_and_security_mail_always_goes(world: World, team: dict[str, Any]) -> None:
    manager = team["manager_user"]
    shown = preferences.set_preferences(
        world.tenant, manager, NotificationPreferencesIn(events={APPROVAL_REQUESTED: False})
    )
    assert shown.events == {
        "approval.requested": False,
        "approval.decided": True,
        "payslip.ready": True,
        "password.reset_requested": True,
    }
    assert preferences.get_preferences(world.tenant, manager) == shown
    world.request(team["employee_user"], "2024-03-04", "2024-03-05")
    [requested] = outbox_events(world, APPROVAL_REQUESTED)
    assert deliver(requested) == []
    assert mail_to(email_of(world, manager)) == []
    assert deliveries(world, requested.event_id) == {manager.user_id: ("skipped", 1)}

    with pytest.raises(Invalid) as refused:
        preferences.set_preferences(
            world.tenant, manager, NotificationPreferencesIn(events={PASSWORD_RESET_REQUESTED: False, "x.y": True})
        )
    assert [e["field"] for e in refused.value.errors] == ["body.events.x.y", "body.events.password.reset_requested"]
    assert preferences.get_preferences(world.tenant, manager) == shown  # nothing written

    # Even stored as muted (by hand: the API refuses it), security mail goes.
    world.query(
        sql.SQL("UPDATE {} SET muted = %s WHERE user_id = %s").format(world.t("notification_preferences")),
        ([PASSWORD_RESET_REQUESTED], manager.user_id),
    )
    assert deliver(made(world, PASSWORD_RESET_REQUESTED, userId=manager.user_id)) == []
    [mail] = mail_to(email_of(world, manager))
    assert "Reset your password" in mail.subject

    on_again = preferences.set_preferences(world.tenant, manager, NotificationPreferencesIn(events={}))
    assert on_again.events[PASSWORD_RESET_REQUESTED] is True


# ---------------------------------------------------------------- forgot / reset


def _forget(world: World, email: str, slug: str | None = None) -> float:
    started = time.monotonic()
    answer = forgot.forgot_password(ForgotPasswordIn(tenant_slug=slug or slug_of(world), email=email))
    assert answer.model_dump(by_alias=True) == ResetRequested().model_dump(by_alias=True)
    return time.monotonic() - started


def _link_token(mail: CapturedMail) -> str:
    [line] = [line for line in mail.text.splitlines() if "token=" in line]
    return line.split("token=", 1)[1].strip()


def test_forgot_answers_the_same_after_the_same_time_and_emits_only_for_an_active_user(
    world: World, team: dict[str, Any]
) -> None:
    user = team["employee_user"]
    disabled = world.user(None, "employee")
    world.query(
        sql.SQL("UPDATE {} SET status = 'disabled' WHERE id = %s").format(world.t("users")), (disabled.user_id,)
    )
    timings = [
        _forget(world, email_of(world, user).upper()),  # any case
        _forget(world, "nobody@example.com"),
        _forget(world, email_of(world, disabled)),
        _forget(world, email_of(world, user), slug="no-such-tenant"),
    ]
    assert all(forgot.RESPONSE_FLOOR_S <= t < forgot.RESPONSE_FLOOR_S + 0.3 for t in timings), timings
    [only] = outbox_events(world, PASSWORD_RESET_REQUESTED)
    assert only.payload == {"userId": user.user_id}
    assert world.audit_actions(user.user_id)[-1] == "auth.password_reset_requested"


def test_forgot_is_limited_per_account_and_per_tenant(
    world: World, team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forgot, "RESPONSE_FLOOR_S", 0.0)
    employee, manager = email_of(world, team["employee_user"]), email_of(world, team["manager_user"])
    for _ in range(forgot.ACCOUNT_LIMIT + 2):
        _forget(world, employee)
    assert len(outbox_events(world, PASSWORD_RESET_REQUESTED)) == forgot.ACCOUNT_LIMIT

    monkeypatch.setattr(forgot, "TENANT_LIMIT", forgot.ACCOUNT_LIMIT + 1)
    _forget(world, manager)
    _forget(world, manager)  # over the tenant's limit: answered the same, nothing emitted
    assert len(outbox_events(world, PASSWORD_RESET_REQUESTED)) == forgot.ACCOUNT_LIMIT + 1


def test_a_reset_token_sets_the_password_once_and_revokes_every_earlier_token(
    world: World, team: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forgot, "RESPONSE_FLOOR_S", 0.0)
    user, email = team["employee_user"], email_of(world, team["employee_user"])
    _forget(world, email)
    _forget(world, email)
    first, second = outbox_events(world, PASSWORD_RESET_REQUESTED)
    assert deliver(first, second) == []
    older, newer = (_link_token(m) for m in mail_to(email))
    assert older != newer
    stored = world.query(sql.SQL("SELECT verifier_hash FROM {}").format(world.t("password_reset_tokens")))
    assert len(stored) == 2 and all(len(r["verifier_hash"]) == 32 for r in stored)
    parsed = reset_tokens.parse(newer)
    assert parsed is not None and parsed.secret not in {bytes(r["verifier_hash"]) for r in stored}

    with pytest.raises(Invalid):  # the policy of every password, and the token is still good after it
        reset.reset_password(
            ResetPasswordIn.model_construct(token=newer, new_password=email.split("@")[0] + "-Xq93!zz")
        )
    reset.reset_password(ResetPasswordIn(token=newer, new_password=STRONG))
    slug = slug_of(world)
    assert login.login(LoginIn(tenant_slug=slug, email=email, password=STRONG)).user.user_id == UUID(user.user_id)

    for spent in (newer, older):  # used; and revoked by the new credentials epoch
        with pytest.raises(BadRequest, match="invalid or has expired"):
            reset.reset_password(ResetPasswordIn(token=spent, new_password="another-" + STRONG))
    with pytest.raises(Unauthorized):
        login.login(LoginIn(tenant_slug=slug, email=email, password="another-" + STRONG))


def test_an_expired_edited_or_foreign_token_is_one_400(world: World, team: dict[str, Any], other_tenant: Any) -> None:
    user = team["employee_user"]
    deliver(made(world, PASSWORD_RESET_REQUESTED, userId=user.user_id))
    token = reset_tokens.parse(_link_token(mail_to(email_of(world, user))[-1]))
    assert token is not None
    foreign = reset_tokens.ResetToken(other_tenant.tenant_id, token.selector, token.secret).text
    forged = reset_tokens.ResetToken(token.tenant_id, token.selector, reset_tokens.new_secret()).text
    for text in (foreign, forged, "x" * 86, "short"):
        with pytest.raises(BadRequest) as refused:
            reset.reset_password(ResetPasswordIn(token=text, new_password=STRONG))
        assert refused.value.detail == reset.INVALID_TOKEN

    world.query(
        sql.SQL("UPDATE {} SET expires_at = now() - interval '1 second'").format(world.t("password_reset_tokens"))
    )
    with pytest.raises(BadRequest) as expired:
        reset.reset_password(ResetPasswordIn(token=token.text, new_password=STRONG))
    assert expired.value.detail == reset.INVALID_TOKEN
    assert world.audit_actions(user.user_id) == []  # nothing written by any refusal


def test_a_reset_mail_redelivered_replaces_its_link(world: World, team: dict[str, Any]) -> None:
    user = team["employee_user"]
    requested = made(world, PASSWORD_RESET_REQUESTED, userId=user.user_id)
    assert deliver(requested) == []
    world.query(sql.SQL("UPDATE {} SET status = 'failed', message_id = NULL").format(world.t("notifications")))
    assert deliver(requested) == []  # as if the first send had not been recorded
    first, second = (_link_token(m) for m in mail_to(email_of(world, user)))
    with pytest.raises(BadRequest):
        reset.reset_password(ResetPasswordIn(token=first, new_password=STRONG))
    reset.reset_password(ResetPasswordIn(token=second, new_password=STRONG))


def test_a_token_of_a_tenant_that_is_not_active_is_refused(world: World, team: dict[str, Any]) -> None:
    deliver(made(world, PASSWORD_RESET_REQUESTED, userId=team["employee_user"].user_id))
    token = _link_token(mail_to(email_of(world, team["employee_user"]))[-1])
    world.query(sql.SQL("UPDATE public.tenants SET status = 'suspended' WHERE id = %s"), (world.tenant.tenant_id,))
    try:
        with pytest.raises(BadRequest):
            reset.reset_password(ResetPasswordIn(token=token, new_password=STRONG))
    finally:
        world.query(sql.SQL("UPDATE public.tenants SET status = 'active' WHERE id = %s"), (world.tenant.tenant_id,))
