"""The local runtime's SQS parts that need no server: the template's queues and SQS events as parsed, the
environment's queue references, the Lambda SQS event built from ReceiveMessage's messages, and which
records of a batch failed by Lambda's rules."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hrms_tools.local.env import resolve_environments
from hrms_tools.local.queues import (
    DEFAULT_BATCH_SIZE,
    QueueSpec,
    SqsSourceSpec,
    failed_records,
    local_queue_url,
    queue_arn,
    sqs_event,
)
from hrms_tools.local.template import Template

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        WORK_QUEUE_URL: !Ref WorkQueue
Resources:
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.handler
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 3}
            FilterCriteria: {Filters: [{Pattern: '{"body": {"a": [1]}}'}]}
        Paused:
          Type: SQS
          Properties: {Queue: !GetAtt PausedQueue.Arn, Enabled: false}
        Elsewhere:
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:not-here}
  WorkQueue:  # declared after the function that reads it
    Type: AWS::SQS::Queue
    Properties:
      QueueName: work
      VisibilityTimeout: 90
      MessageRetentionPeriod: 3600
      DelaySeconds: 2
      SqsManagedSseEnabled: true
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDlq.Arn, maxReceiveCount: 4}
  WorkDlq:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 1209600}
  PausedQueue:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true}
  WorkQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties: {Queues: [!Ref WorkQueue], PolicyDocument: {}}
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return Template.load(path)


def test_queues_are_read_with_their_attributes_and_dead_letter_queue(template: Template) -> None:
    assert template.queues["WorkQueue"] == QueueSpec(
        logical_id="WorkQueue",
        attributes={"VisibilityTimeout": "90", "MessageRetentionPeriod": "3600", "DelaySeconds": "2"},
        dead_letter_id="WorkDlq",
        max_receive_count=4,
    )
    assert template.queues["WorkDlq"] == QueueSpec("WorkDlq", {"MessageRetentionPeriod": "1209600"})
    assert template.queues["WorkQueue"].name == "hrms-local-WorkQueue"  # QueueName is AWS's, not local


def test_sqs_events_become_event_source_mappings(template: Template) -> None:
    assert template.sqs_sources == [
        SqsSourceSpec(
            id="WorkerFunctionWork",
            function_id="WorkerFunction",
            queue_id="WorkQueue",
            batch_size=5,
            window_s=2,
            report_failures=True,
            enabled=True,
            max_concurrency=3,
        ),
        SqsSourceSpec(id="WorkerFunctionPaused", function_id="WorkerFunction", queue_id="PausedQueue", enabled=False),
    ]
    assert template.sqs_sources[1].batch_size == DEFAULT_BATCH_SIZE and not template.sqs_sources[1].report_failures


def test_what_is_not_emulated_about_queues_is_reported(template: Template) -> None:
    warnings = "\n".join(template.warnings)
    for expected in (
        "SQS event FilterCriteria: not applied locally [WorkerFunction.Work]",
        "SQS event: not emulated locally; use `hrms invoke --event` [WorkerFunction.Elsewhere]",
        "SqsManagedSseEnabled: messages are not encrypted at rest locally [WorkQueue]",
        "FifoQueue: FIFO queues are not emulated: created as standard queues [PausedQueue]",
        "AWS::SQS::QueuePolicy: queue policies are not enforced locally [WorkQueuePolicy]",
    ):
        assert expected in warnings, warnings
    assert "AWS::SQS::Queue:" not in warnings and "QueueName" not in warnings


def test_a_queue_reference_resolves_to_the_local_queue_url(template: Template) -> None:
    endpoint = "http://127.0.0.1:5999"
    envs = resolve_environments(template, base_env={"AWS_ENDPOINT_URL": endpoint})
    assert envs.functions["WorkerFunction"]["WORK_QUEUE_URL"] == f"{endpoint}/123456789012/hrms-local-WorkQueue"
    assert local_queue_url(endpoint + "/", "WorkQueue") == envs.functions["WorkerFunction"]["WORK_QUEUE_URL"]
    assert "WORK_QUEUE_URL" in resolve_environments(template, base_env={}).unset  # no local stack: unknown


def test_received_messages_become_lambdas_sqs_event() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "Body": "hello",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1736935200000", "SenderId": "x"},
        "MD5OfMessageAttributes": "abc",
        "MessageAttributes": {
            "eventType": {"StringValue": "import.started", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\xff", "DataType": "Binary"},
        },
    }
    arn = queue_arn("WorkQueue")
    [record] = sqs_event([message], arn)["Records"]
    assert record == {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1736935200000", "SenderId": "x"},
        "messageAttributes": {
            "eventType": {
                "stringValue": "import.started",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "blob": {
                "binaryValue": base64.b64encode(b"\x00\xff").decode(),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": "5d41402abc4b2a76b9719d911017c592",
        "md5OfMessageAttributes": "abc",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hrms-local-WorkQueue",
        "awsRegion": "us-east-1",
    }


IDS = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("result", "raised", "report", "failed"),
    [
        (None, True, True, {"a", "b", "c"}),  # the function raised: nothing is deleted
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, False, False, set()),  # responses ignored without it
        (None, False, True, set()),
        ({}, False, True, set()),
        ({"batchItemFailures": []}, False, True, set()),
        ({"batchItemFailures": None}, False, True, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, False, True, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, False, True, {"a", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, False, True, {"a", "b", "c"}),  # unknown id
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, False, True, {"a", "b", "c"}),
        ({"batchItemFailures": [{"id": "a"}]}, False, True, {"a", "b", "c"}),  # wrong key
        ({"batchItemFailures": "a"}, False, True, {"a", "b", "c"}),
        ("done", False, True, {"a", "b", "c"}),  # not a partial batch response
    ],
)
def test_which_records_failed_follows_lambdas_rules(result: object, raised: bool, report: bool, failed: set[str]):
    assert failed_records(IDS, result, raised=raised, report_failures=report)[0] == failed
