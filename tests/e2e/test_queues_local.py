"""SQS event sources in the local runtime, against moto's SQS: a message on a mapped queue invokes the
function with Lambda's SQS event, only the records that succeeded are deleted, and a record that keeps
failing ends in the dead-letter queue after maxReceiveCount receives. A small template of its own (queue
logical ids unique per test, so no test sees another's messages), plus the real template's wiring."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hrms import aws
from hrms_tools.local.runtime import LocalRuntime
from hrms_tools.local.template import Template
from tests.conftest import ROOT

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 2
Resources:
  {queue}:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 3  # at least the function's Timeout, as AWS requires of a mapped queue
      RedrivePolicy: {{deadLetterTargetArn: !GetAtt {dlq}.Arn, maxReceiveCount: 2}}
  {dlq}:
    Type: AWS::SQS::Queue
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: app.handler
      Environment:
        Variables:
          WORK_QUEUE_URL: !Ref {queue}
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt {queue}.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {{MaximumConcurrency: 2}}
"""

# Records every event it gets; a body "fail..." is reported as failed, "raise" fails the invocation.
WORKER = """
import json, pathlib, time

OUT = pathlib.Path({out!r})

def handler(event, context):
    (OUT / f"{{time.time_ns()}}.json").write_text(json.dumps({{"event": event, "function": context.function_name}}))
    if any(r["body"] == "raise" for r in event["Records"]):
        raise RuntimeError("the worker failed")
    return {{"batchItemFailures": [
        {{"itemIdentifier": r["messageId"]}} for r in event["Records"] if r["body"].startswith("fail")
    ]}}
"""


@dataclass
class World:
    runtime: LocalRuntime
    sqs: Any
    queue_id: str
    url: str
    dlq_url: str
    out: Path

    def send(self, *bodies: str, **attributes: dict[str, Any]) -> list[str]:
        return [
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body, MessageAttributes=attributes)["MessageId"]
            for body in bodies
        ]

    def invocations(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.out.glob("*.json"))]

    def records(self) -> list[dict[str, Any]]:
        return [r for i in self.invocations() for r in i["event"]["Records"]]

    def dead_letters(self) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [m["Body"] for m in got.get("Messages", [])]


@pytest.fixture
def world(stack: object, tmp_path: Path) -> Iterator[World]:
    suffix = secrets.token_hex(3)
    queue_id, dlq_id = f"Work{suffix}Queue", f"Work{suffix}Dlq"
    out = tmp_path / "invocations"
    out.mkdir()
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(queue=queue_id, dlq=dlq_id))
    (tmp_path / "functions" / "worker").mkdir(parents=True)
    (tmp_path / "functions" / "worker" / "app.py").write_text(WORKER.format(out=str(out)))
    runtime = LocalRuntime(Template.load(tmp_path / "template.yaml"))
    runtime.queues.start(os.environ)
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=f"hrms-local-{queue_id}")["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=f"hrms-local-{dlq_id}")["QueueUrl"]
        yield World(runtime, sqs, queue_id, url, dlq_url, out)
    finally:
        runtime.queues.stop()


def test_a_message_on_a_mapped_queue_invokes_the_function_with_lambdas_sqs_event(world: World) -> None:
    assert world.runtime.environments.functions["WorkerFunction"]["WORK_QUEUE_URL"] == world.url
    [message_id] = world.send("hello", eventType={"DataType": "String", "StringValue": "import.started"})
    world.runtime.queues.drain(timeout_s=15)
    [invocation] = world.invocations()
    assert invocation["function"] == "WorkerFunction"
    [record] = invocation["event"]["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert (record["messageId"], record["body"]) == (message_id, "hello")
    assert record["md5OfBody"] == hashlib.md5(b"hello").hexdigest()  # noqa: S324 - SQS's checksum
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == f"arn:aws:sqs:us-east-1:123456789012:hrms-local-{world.queue_id}"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "eventType": {
            "stringValue": "import.started",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert world.dead_letters() == []


def test_messages_sent_together_arrive_in_one_batch_within_the_batching_window(world: World) -> None:
    sent = world.send("one", "two", "three")
    world.runtime.queues.drain(timeout_s=15)
    assert [sorted(r["messageId"] for r in i["event"]["Records"]) for i in world.invocations()] == [sorted(sent)]


def test_a_partial_batch_failure_deletes_only_the_records_that_succeeded(world: World) -> None:
    ok_1, failing, ok_2 = world.send("ok-1", "fail-1", "ok-2")
    world.runtime.queues.drain(timeout_s=20)
    first, *again = world.invocations()
    assert sorted(r["messageId"] for r in first["event"]["Records"]) == sorted([ok_1, failing, ok_2])
    # Only the reported record came back (after the 3 s visibility timeout), until its receives ran out.
    assert [[r["messageId"] for r in i["event"]["Records"]] for i in again] == [[failing]]
    assert again[0]["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert world.dead_letters() == ["fail-1"]


def test_a_record_failing_max_receive_count_times_lands_in_the_dead_letter_queue(world: World) -> None:
    started = time.monotonic()
    [message_id] = world.send("raise")
    world.runtime.queues.drain(timeout_s=20)
    received = [(r["messageId"], r["attributes"]["ApproximateReceiveCount"]) for r in world.records()]
    assert received == [(message_id, "1"), (message_id, "2")]  # maxReceiveCount 2, then no more deliveries
    assert time.monotonic() - started >= 3  # the second delivery waited for the visibility timeout
    assert world.dead_letters() == ["raise"]


# ----------------------------------------------------------------------------- the real template


def test_the_real_templates_workers_poll_the_stacks_queues(gateway: Any) -> None:
    runtime = gateway.runtime
    polled = {(s.queue_id, s.function_id) for s in runtime.queues.running}
    assert polled == {
        ("ImportQueue", "ImportWorkerFunction"),
        ("ExportQueue", "ExportWorkerFunction"),
        ("PayslipQueue", "PayslipWorkerFunction"),
        ("OutboxQueue", "NotifierFunction"),
    }
    envs = runtime.environments.functions
    for variable in ("OUTBOX_QUEUE_URL", "IMPORT_QUEUE_URL", "EXPORT_QUEUE_URL"):
        assert envs["ImportWorkerFunction"][variable] == os.environ[variable]  # the stack created these queues
    assert os.environ["IMPORT_QUEUE_URL"].endswith("/hrms-local-ImportQueue")
    assert Template.load(ROOT / "template.yaml").queues["ImportQueue"].max_receive_count == 3
