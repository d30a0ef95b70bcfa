"""The outbox's pure parts: the event registry and its ids-only payloads, the message envelope, and the
template's wiring of the queue and the relay (no servers)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cfnlint.decode import cfn_yaml

from hrms.config import Settings, settings
from hrms.outbox import APPROVAL_DECIDED, APPROVAL_REQUESTED, EXPORT_REQUESTED, IMPORT_STARTED
from hrms.outbox.consumer import consume
from hrms.outbox.envelope import Envelope
from hrms.outbox.events import REGISTRY, EventType, payload_of
from hrms.outbox.publisher import queue_url, unconfigured_queues
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


# ------------------------------------------------------------------ routing and consuming


@pytest.fixture
def queue_settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", os.environ.get("DATABASE_URL") or "postgresql://unused/hrms")
    monkeypatch.setenv("OUTBOX_QUEUE_URL", "http://sqs.local/1/outbox")
    monkeypatch.setenv("IMPORT_QUEUE_URL", "http://sqs.local/1/imports")
    monkeypatch.delenv("EXPORT_QUEUE_URL", raising=False)
    monkeypatch.setenv("PAYSLIP_QUEUE_URL", "http://sqs.local/1/payslips")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_each_event_type_goes_to_the_queue_its_setting_names(queue_settings):
    assert REGISTRY[IMPORT_STARTED].queue == "import_queue_url"
    assert queue_url(APPROVAL_REQUESTED) == queue_url(APPROVAL_DECIDED) == "http://sqs.local/1/outbox"
    assert queue_url(IMPORT_STARTED) == "http://sqs.local/1/imports"
    assert queue_url(EXPORT_REQUESTED) is None  # not configured: its rows wait
    assert queue_url("gone.away") is None  # a type no longer registered waits too, rather than failing a sweep
    assert unconfigured_queues() == ["export_queue_url"]


def _sqs_record(body: str, message_id: str) -> dict[str, Any]:
    attributes = {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x"}
    return {"messageId": message_id, "receiptHandle": "r", "body": body, "attributes": attributes,
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}  # fmt: skip


def test_a_record_that_is_no_outbox_event_fails_alone_without_reaching_the_worker():
    calls: list[Any] = []
    event = {"Records": [_sqs_record("{}", "a"), _sqs_record("[1]", "b")]}
    response = consume(event, None, lambda tenant, envelope: calls.append(envelope))
    assert response == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}
    assert calls == []


# ------------------------------------------------------------------ template wiring


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return json.loads(json.dumps(cfn_yaml.load(str(TEMPLATE))))


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def _may_send(props: dict[str, Any], queue: str) -> bool:
    return {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}} in (
        props.get("Policies") or []
    )


SENDERS = {  # per queue: the functions that emit its event types (after their commit), and the relay
    "OutboxQueue": {
        "RequestLeaveFunction",  # approval.requested
        "DecideLeaveFunction",  # approval.decided (+ requested for a next step)
        "DecideApprovalFunction",
        "ProcessPayrollFunction",  # approval.requested
        "ApprovePayrollFunction",  # approval.decided
        "ForgotPasswordFunction",  # password.reset_requested
        "CreateUserFunction",  # password.reset_requested (an account a non-admin created)
        "PayslipWorkerFunction",  # payslip.ready
        "OutboxRelayFunction",
    },
    "ImportQueue": {"StartImportFunction", "OutboxRelayFunction"},  # import.started
    "ExportQueue": {"CreateExportFunction", "OutboxRelayFunction"},  # export.requested
    # payroll.processed; the worker re-emits it to hand the rest of a long run on
    "PayslipQueue": {"MarkPayrollProcessedFunction", "PayslipWorkerFunction", "OutboxRelayFunction"},
}


@pytest.mark.parametrize("queue", SENDERS)
def test_only_the_functions_that_emit_and_the_relay_may_send_to_each_queue(resources, queue):
    senders = {lid for lid, props in _functions(resources).items() if _may_send(props, queue)}
    assert senders == SENDERS[queue]


def test_every_event_types_queue_is_a_setting_every_function_gets_from_the_template(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for kind in REGISTRY.values():
        assert kind.queue in Settings.model_fields
        assert kind.queue.upper() in variables, kind.name
    assert variables["IMPORT_QUEUE_URL"] == {"Ref": "ImportQueue"}
    assert variables["EXPORT_QUEUE_URL"] == {"Ref": "ExportQueue"}
    assert variables["PAYSLIP_QUEUE_URL"] == {"Ref": "PayslipQueue"}
    assert variables["OUTBOX_QUEUE_URL"] == {"Ref": "OutboxQueue"}


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


WORKERS = {
    "ImportQueue": "ImportWorkerFunction",
    "ExportQueue": "ExportWorkerFunction",
    "PayslipQueue": "PayslipWorkerFunction",
}


@pytest.mark.parametrize(("queue", "worker"), WORKERS.items())
def test_a_worker_queue_feeds_its_worker_one_event_at_a_time_and_keeps_what_fails(resources, queue, worker):
    props = resources[queue]["Properties"]
    dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert props["RedrivePolicy"]["maxReceiveCount"] == 3
    function = resources[worker]["Properties"]
    assert props["VisibilityTimeout"] >= 6 * function["Timeout"]  # AWS: 6x the function's timeout
    [source] = [e["Properties"] for e in function["Events"].values() if e["Type"] == "SQS"]
    assert source["Queue"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert source["BatchSize"] == 1 and source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]
    ]
    assert [a["MetricName"] for a in alarms] == ["ApproximateNumberOfMessagesVisible"]
    assert alarms[0]["Threshold"] == 1


def test_every_queue_is_encrypted_and_refuses_insecure_transport(resources):
    queues = {lid for lid, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    assert {"OutboxQueue", "ImportQueue", "ImportDlq", "ExportQueue", "ExportDlq"} <= queues
    denied: set[str] = set()
    for r in resources.values():
        if r["Type"] != "AWS::SQS::QueuePolicy":
            continue
        for statement in r["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}:
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                denied |= {t["Fn::GetAtt"][0] for t in targets}
    assert denied == queues
    assert all(resources[q]["Properties"]["SqsManagedSseEnabled"] is True for q in queues)
