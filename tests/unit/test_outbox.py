"""The outbox's pure parts: the event registry and its ids-only payloads, the message envelope, and the
template's wiring of the queue and the relay (no servers)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cfnlint.decode import cfn_yaml

from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED
from hrms.outbox.envelope import Envelope
from hrms.outbox.events import REGISTRY, EventType, payload_of
from hrms.outbox.store import OutboxRow

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
TENANT = UUID("6f1c2b9e-0a4d-4c1b-9e77-3f2a5d8c1b00")
APPROVAL = UUID("0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f")
LEAVE = UUID("c3d4e5f6-a7b8-4c9d-8e0f-112233445566")
EMPLOYEE = UUID("aa11bb22-cc33-4d44-8e55-ff6677889900")
REQUESTED = {
    "approvalId": APPROVAL,
    "entityType": "leave",
    "entityId": LEAVE,
    "step": 1,
    "approverType": "role",
    "approverRole": "hr_manager",
    "assigneeEmployeeId": None,
    "subjectEmployeeId": EMPLOYEE,
}


# ------------------------------------------------------------------ registry and payloads


def test_the_approval_events_are_registered_under_their_names():
    assert (APPROVAL_REQUESTED, APPROVAL_DECIDED) == ("approval.requested", "approval.decided")
    assert {APPROVAL_REQUESTED, APPROVAL_DECIDED} <= set(REGISTRY)


def test_a_payload_becomes_json_scalars_in_the_types_field_order():
    assert payload_of(APPROVAL_REQUESTED, dict(reversed(REQUESTED.items()))) == {
        "approvalId": "0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f",
        "entityType": "leave",
        "entityId": "c3d4e5f6-a7b8-4c9d-8e0f-112233445566",
        "step": 1,
        "approverType": "role",
        "approverRole": "hr_manager",
        "assigneeEmployeeId": None,
        "subjectEmployeeId": "aa11bb22-cc33-4d44-8e55-ff6677889900",
    }


def test_an_unregistered_event_type_is_refused():
    with pytest.raises(ValueError, match=r"unknown outbox event type 'approval\.requsted'"):
        payload_of("approval.requsted", REQUESTED)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"step": None, "extra": 1}, r"unexpected \['extra'\]"),
        ({"approverRole": "Asha Rao"}, "approverRole must be an id or a code, not str"),
        ({"approverRole": "asha@example.com"}, "approverRole must be an id or a code"),
        ({"approverRole": "x" * 65}, "approverRole must be an id or a code"),
        ({"step": 1.5}, "step must be an id or a code, not float"),
        ({"entityId": {"id": 1}}, "entityId must be an id or a code, not dict"),
        ({"entityId": [LEAVE]}, "entityId must be an id or a code, not list"),
        ({"entityId": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, "not datetime"),
    ],
    ids=["extra-field", "name", "email", "long", "float", "nested", "list", "datetime"],
)
def test_a_payload_that_is_not_ids_and_codes_is_refused(change: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        payload_of(APPROVAL_REQUESTED, {**REQUESTED, **change})


def test_a_missing_field_is_refused():
    partial = {k: v for k, v in REQUESTED.items() if k != "subjectEmployeeId"}
    with pytest.raises(ValueError, match=r"missing \['subjectEmployeeId'\]"):
        payload_of(APPROVAL_REQUESTED, partial)


def test_dates_and_booleans_are_allowed():
    kind = EventType("test.happened", ("on", "final"), "for this test")
    REGISTRY[kind.name] = kind
    try:
        assert payload_of("test.happened", {"on": dt.date(2025, 3, 1), "final": True}) == {
            "on": "2025-03-01",
            "final": True,
        }
    finally:
        del REGISTRY[kind.name]


@pytest.mark.parametrize("name", ["Approval.Requested", "approval", "approval.", "approval requested", "a.b-c"])
def test_a_malformed_event_type_name_fails_where_it_is_declared(name: str):
    with pytest.raises(ValueError, match=r"expected <domain>\.<verb>"):
        EventType(name, ("id",), "bad")


def test_a_field_declared_twice_fails_where_it_is_declared():
    with pytest.raises(ValueError, match="listed twice"):
        EventType("x.happened", ("id", "id"), "bad")


# ------------------------------------------------------------------ envelope


def _envelope() -> Envelope:
    return Envelope.from_row(
        TENANT,
        OutboxRow(
            id=1,
            event_id=UUID("11111111-2222-4333-8444-555555555555"),
            event_type=APPROVAL_REQUESTED,
            payload={"approvalId": str(APPROVAL), "step": 1},
            created_at=dt.datetime(
                2025, 1, 15, 15, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
            ),
            attempts=0,
        ),
    )


def test_the_message_body_is_the_documented_json():
    assert _envelope().body() == (
        '{"eventId":"11111111-2222-4333-8444-555555555555","type":"approval.requested",'
        '"tenantId":"6f1c2b9e-0a4d-4c1b-9e77-3f2a5d8c1b00","occurredAt":"2025-01-15T10:00:00.123Z",'
        '"payload":{"approvalId":"0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f","step":1}}'
    )


def test_the_message_attributes_name_the_type_and_the_tenant():
    assert _envelope().attributes() == {
        "eventType": {"DataType": "String", "StringValue": "approval.requested"},
        "tenantId": {"DataType": "String", "StringValue": "6f1c2b9e-0a4d-4c1b-9e77-3f2a5d8c1b00"},
    }


def test_a_consumer_parses_the_body_back():
    parsed = Envelope.parse(_envelope().body())
    assert parsed.event_id == UUID("11111111-2222-4333-8444-555555555555")
    assert (parsed.type, parsed.tenant_id) == ("approval.requested", TENANT)
    assert parsed.occurred_at == dt.datetime(2025, 1, 15, 10, 0, 0, 123000, tzinfo=dt.UTC)
    assert parsed.payload == {"approvalId": "0b7e5c1a-9d2f-4e3a-8c6b-1a2b3c4d5e6f", "step": 1}


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"type": "approval.requested"}',
        json.dumps(
            {
                "eventId": "x",
                "type": "approval.requested",
                "tenantId": str(TENANT),
                "occurredAt": "2025-01-01T00:00:00Z",
                "payload": {},
            }
        ),
        json.dumps(
            {
                "eventId": str(APPROVAL),
                "type": "nope.happened",
                "tenantId": str(TENANT),
                "occurredAt": "2025-01-01T00:00:00Z",
                "payload": {},
            }
        ),
        json.dumps(
            {
                "eventId": str(APPROVAL),
                "type": "approval.requested",
                "tenantId": str(TENANT),
                "occurredAt": "2025-01-01T00:00:00Z",
                "payload": [],
            }
        ),
        "not json",
    ],
    ids=["array", "partial", "bad-uuid", "unknown-type", "payload-array", "not-json"],
)
def test_a_body_that_is_no_outbox_event_is_refused(body: str):
    with pytest.raises(ValueError):
        Envelope.parse(body)


# ------------------------------------------------------------------ template wiring


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))["Resources"]


def _may_send(props: dict[str, Any]) -> bool:
    return {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["OutboxQueue", "QueueName"]}}} in (
        props.get("Policies") or []
    )


def test_only_the_functions_that_emit_and_the_relay_may_send_to_the_outbox_queue(resources):
    senders = {
        lid for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function" and _may_send(r["Properties"])
    }
    assert senders == {
        "RequestLeaveFunction",  # approval.requested
        "DecideLeaveFunction",  # approval.decided (+ requested for a next step)
        "DecideApprovalFunction",
        "ProcessPayrollFunction",  # approval.requested
        "ApprovePayrollFunction",  # approval.decided
        "OutboxRelayFunction",
    }


def test_the_relay_runs_every_minute_alone_with_its_failures_kept(resources):
    relay = resources["OutboxRelayFunction"]["Properties"]
    assert relay["Events"]["EveryMinute"]["Properties"]["Schedule"] == "rate(1 minute)"
    assert relay["Events"]["EveryMinute"]["Properties"]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["ScheduledFunctionsDlq", "Arn"]}
    }
    assert relay["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ScheduledFunctionsDlq", "Arn"]
    }
    assert relay["Timeout"] == 60 and relay["Environment"]["Variables"] == {"OUTBOX_RETENTION_DAYS": "7"}


def test_the_queue_is_encrypted_and_redrives_to_its_dead_letter_queue(resources):
    queue = resources["OutboxQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["OutboxDlq", "Arn"]}, "maxReceiveCount": 5}
    assert resources["OutboxDlq"]["Properties"]["SqsManagedSseEnabled"] is True
