"""Notifications through the local gateway and the local queue: requests commit their outbox events, the
relay puts them on OutboxQueue, the template's NotifierFunction event source (polled by the e2e runtime)
mails through moto's SES, and the tests read the mail back the way `hrms mail` does. Also forgot ->
mail -> reset -> sign in, the preferences routes, and the outbox surviving a queue outage."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from hrms import aws
from hrms.config import settings
from hrms.outbox import relay
from hrms_tools.local.mail import CapturedMail, captured
from tests.conftest import bearer
from tests.e2e.fault_proxy import FaultProxy
from tests.e2e.http_world import Org

STRONG = "violet-tractor-marmalade-93"
PROBLEM = "application/problem+json"


def email_of(org: Org, employee_id: str) -> str:
    return str(org.sql("SELECT email FROM {} WHERE employee_id = %s", "users", (employee_id,))[0]["email"])


def name_of(org: Org) -> str:
    found = org.sql("SELECT name FROM public.tenants WHERE id = %s", "tenants", (org.tenant.tenant_id,))
    return str(found[0]["name"])


def wait_for_mail(address: str, count: int = 1, timeout_s: float = 30.0) -> list[CapturedMail]:
    """The mail to `address` once there are `count` of them (the Notifier works asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = captured(os.environ["AWS_ENDPOINT_URL"], address)
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) == count, f"{len(found)} mail(s) to {address}, expected {count}"
            return found
        time.sleep(0.2)


def token_in(mail: CapturedMail) -> str:
    [line] = [line for line in mail.text.splitlines() if "token=" in line]
    return line.split("token=", 1)[1].strip()


def test_a_leave_request_mails_the_manager_and_the_decision_mails_the_employee(org: Org) -> None:
    manager, employee = email_of(org, org.manager), email_of(org, org.employee)
    response = org.request()
    assert response.status_code == 201, response.text
    [task] = wait_for_mail(manager)
    assert "Approval needed: leave request of Asha Rao" in task.subject and name_of(org) in task.subject

    decided = org.call(
        "POST", f"/leaves/{response.json()['leaveId']}/decision", org.manager_token, json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    [news] = wait_for_mail(employee)
    assert news.subject == f"[{name_of(org)}] Your leave request was approved"
    assert "approved at step 1" in news.text and name_of(org) in news.html
    assert len(captured(os.environ["AWS_ENDPOINT_URL"], manager)) == 1  # nothing more for the manager


def test_forgot_mail_reset_then_sign_in_and_every_earlier_token_is_refused(org: Org, client: httpx.Client) -> None:
    email = email_of(org, org.employee)
    forgot = {"tenantSlug": org.tenant.slug, "email": email}
    unknown = client.post("/auth/forgot-password", json={**forgot, "email": "nobody@example.com"})
    answered = client.post("/auth/forgot-password", json=forgot)
    assert (answered.status_code, unknown.status_code) == (202, 202)
    assert answered.json() == unknown.json() and answered.headers["cache-control"] == "no-store"

    [mail] = wait_for_mail(email)
    assert mail.subject == f"[{name_of(org)}] Reset your password"
    link = next(line for line in mail.text.splitlines() if "token=" in line)
    assert link.startswith("http://127.0.0.1:3000/docs?token=")  # the local default of ResetLinkBaseUrl
    token = token_in(mail)

    assert client.get("/me", headers=bearer(org.employee_token)).status_code == 200
    reset = client.post("/auth/reset-password", json={"token": token, "newPassword": STRONG})
    assert reset.status_code == 204, reset.text
    login = client.post("/auth/login", json={"tenantSlug": org.tenant.slug, "email": email, "password": STRONG})
    assert login.status_code == 200, login.text
    assert client.get("/me", headers=bearer(login.json()["accessToken"])).status_code == 200
    assert client.get("/me", headers=bearer(org.employee_token)).status_code == 401  # the old access token

    again = client.post("/auth/reset-password", json={"token": token, "newPassword": "another-" + STRONG})
    assert again.status_code == 400 and again.headers["content-type"] == PROBLEM
    garbage = client.post("/auth/reset-password", json={"token": "x" * 86, "newPassword": "another-" + STRONG})
    assert garbage.status_code == 400 and garbage.json()["detail"] == again.json()["detail"]
    weak = client.post("/auth/reset-password", json={"token": token, "newPassword": "password"})
    assert weak.status_code == 422  # the password policy, whatever the token


def test_the_caller_turns_optional_mail_off_but_never_security_mail(org: Org) -> None:
    shown = org.call("GET", "/me/notification-preferences", org.manager_token)
    assert shown.status_code == 200 and all(shown.json()["events"].values())
    off = org.call(
        "PUT", "/me/notification-preferences", org.manager_token, json={"events": {"approval.requested": False}}
    )
    assert off.status_code == 200 and off.json()["events"]["approval.requested"] is False
    refused = org.call(
        "PUT", "/me/notification-preferences", org.manager_token, json={"events": {"password.reset_requested": False}}
    )
    assert refused.status_code == 422 and "password.reset_requested" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "body.events.password.reset_requested"
    mine = org.call("GET", "/me/notification-preferences", org.employee_token).json()["events"]
    assert mine["approval.requested"] is True  # the manager's choice is theirs only

    assert org.request().status_code == 201
    other_leave = org.request(startDate="2024-03-04", endDate="2024-03-05")
    assert other_leave.status_code == 201
    manager = org.sql("SELECT id FROM {} WHERE employee_id = %s", "users", (org.manager,))[0]["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the Notifier records each task it did not mail, as the manager chose
        done = org.sql("SELECT status FROM {} WHERE user_id = %s", "notifications", (manager,))
        if len(done) == 2:
            break
        time.sleep(0.2)
    assert [r["status"] for r in done] == ["skipped", "skipped"]
    assert captured(os.environ["AWS_ENDPOINT_URL"], email_of(org, org.manager)) == []


@pytest.fixture
def outage() -> Iterator[FaultProxy]:
    """Every function's AWS calls go through a fault-injecting proxy for the test (SQS can be cut off)."""
    moto = os.environ["AWS_ENDPOINT_URL"]
    with FaultProxy(moto) as proxy:
        _endpoint(proxy.url)
        try:
            yield proxy
        finally:
            _endpoint(moto)


def _endpoint(url: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = url
    settings.cache_clear()
    aws.client.cache_clear()


def test_the_outbox_survives_a_queue_outage_and_delivers_after_it(org: Org, outage: FaultProxy) -> None:
    manager = email_of(org, org.manager)
    assert org.request().status_code == 201  # the request path warm, before the outage
    wait_for_mail(manager)

    outage.sqs_down.set()
    during = org.request(startDate="2024-03-04", endDate="2024-03-05")
    assert during.status_code == 201, during.text  # the request never sees the outage
    assert outage.refused >= 1
    [row] = org.sql(
        "SELECT published_at, attempts FROM {} WHERE payload->>'entityId' = %s", "outbox", (during.json()["leaveId"],)
    )
    assert row["published_at"] is None and row["attempts"] >= 1
    assert len(captured(outage.url, manager)) == 1  # nothing reached the queue, so no mail

    outage.sqs_down.clear()  # the queue is back: the relay's sweep delivers what waited
    summary = relay.sweep(min_age_s=0)
    assert summary.published >= 1 and not summary.interrupted
    [row] = org.sql(
        "SELECT published_at FROM {} WHERE payload->>'entityId' = %s", "outbox", (during.json()["leaveId"],)
    )
    assert row["published_at"] is not None
    first, second = wait_for_mail(manager, 2)
    assert first.headers["X-HRMS-Event"] != second.headers["X-HRMS-Event"]
