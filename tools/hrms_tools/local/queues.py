"""SQS in the local runtime: the template's queues in moto, and its SQS event sources polled as Lambda does.

Queues. Every AWS::SQS::Queue of the template is created in moto as `hrms-local-<LogicalId>` (its
dead-letter queue first) with its VisibilityTimeout, MessageRetentionPeriod, DelaySeconds,
ReceiveMessageWaitTimeSeconds, MaximumMessageSize and RedrivePolicy; `!Ref <Queue>` in a function's
environment resolves to its local URL (hrms_tools.local.env). moto applies the RedrivePolicy itself, as SQS
does: a message that has been received maxReceiveCount times moves to the dead-letter queue at the
next receive instead of being delivered again.

Event source mappings (a function's `SQS` event). One poller per mapping, in a background thread:
- ReceiveMessage (long poll 1 s) for up to BatchSize messages, gathering more for up to
  MaximumBatchingWindowInSeconds once the first arrived; the batch becomes Lambda's SQS event
  (Records with messageId, receiptHandle, body, attributes, messageAttributes in Lambda's shape,
  md5OfBody, eventSource aws:sqs, eventSourceARN, awsRegion);
- the function is invoked through the runtime's containers (waiting for a free one, as the pollers
  hold back at a function's reserved concurrency); up to ScalingConfig.MaximumConcurrency batches
  (default `DEFAULT_CONCURRENCY`) of one mapping run at once;
- the records that succeeded are deleted: all of them if the function returned, none if it raised
  or timed out, all but the listed ones with FunctionResponseTypes [ReportBatchItemFailures] (an
  invalid response fails the whole batch, as in Lambda). What is not deleted is received again once
  the queue's visibility timeout has passed, and ends in the dead-letter queue after maxReceiveCount.
Enabled: false mappings are not polled. FilterCriteria and the other mapping settings are reported
as not emulated (hrms_tools.local.template).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hrms_tools.local.schedule import ACCOUNT_ID, REGION

QUEUE_PREFIX = "hrms-local-"
DEFAULT_BATCH_SIZE = 10  # Lambda's default for a standard queue
DEFAULT_VISIBILITY_S = 30  # SQS's default VisibilityTimeout
DEFAULT_CONCURRENCY = 5  # the batches Lambda's SQS pollers start with
POLL_WAIT_S = 1  # long poll of each ReceiveMessage
RECEIVE_MAX = 10  # ReceiveMessage returns at most 10 messages
_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")

log = logging.getLogger("local-runtime")  # hrms_tools.local.invoker's logger (`hrms dev` prints it)


@dataclass(frozen=True)
class QueueSpec:
    """An AWS::SQS::Queue of the template, as far as the local runtime creates it."""

    logical_id: str
    attributes: dict[str, str] = field(default_factory=dict)  # SQS attributes except the RedrivePolicy
    dead_letter_id: str | None = None  # the RedrivePolicy's target queue (logical id)
    max_receive_count: int | None = None

    @property
    def name(self) -> str:
        return queue_name(self.logical_id)


@dataclass(frozen=True)
class SqsSourceSpec:
    """A function's SQS event: an event source mapping."""

    id: str  # FunctionId + EventName, like the mapping SAM generates
    function_id: str
    queue_id: str  # the queue's logical id
    batch_size: int = DEFAULT_BATCH_SIZE
    window_s: int = 0  # MaximumBatchingWindowInSeconds
    report_failures: bool = False  # FunctionResponseTypes: [ReportBatchItemFailures]
    enabled: bool = True
    max_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency

    def describe(self) -> str:
        parts = [f"batch {self.batch_size}"]
        if self.window_s:
            parts.append(f"window {self.window_s} s")
        parts.append("partial batch failures" if self.report_failures else "whole batches")
        parts.append(f"up to {self.max_concurrency or DEFAULT_CONCURRENCY} at once")
        return ", ".join(parts)


def queue_name(logical_id: str) -> str:
    return f"{QUEUE_PREFIX}{logical_id}"


def local_queue_url(endpoint: str, logical_id: str) -> str:
    """The URL moto gives the queue of `logical_id` (checked when the queue is created)."""
    return f"{endpoint.rstrip('/')}/{ACCOUNT_ID}/{queue_name(logical_id)}"


def queue_arn(logical_id: str, region: str = REGION) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_name(logical_id)}"


def ensure_queues(sqs: Any, queues: Iterable[QueueSpec], endpoint: str) -> dict[str, str]:
    """Create the queues (dead-letter queues first; existing ones are kept); logical id -> URL."""
    pending = {q.logical_id: q for q in queues}
    urls: dict[str, str] = {}
    while pending:
        ready = [q for q in pending.values() if q.dead_letter_id is None or q.dead_letter_id not in pending]
        if not ready:
            raise ValueError(f"queues redrive to each other in a loop: {', '.join(sorted(pending))}")
        for spec in ready:
            attributes = dict(spec.attributes)
            if spec.dead_letter_id is not None:
                target = sqs.get_queue_url(QueueName=queue_name(spec.dead_letter_id))["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                policy = {"deadLetterTargetArn": arn, "maxReceiveCount": str(spec.max_receive_count or 1)}
                attributes["RedrivePolicy"] = json.dumps(policy)
            url = str(sqs.create_queue(QueueName=spec.name, Attributes=attributes)["QueueUrl"])
            if url != local_queue_url(endpoint, spec.logical_id):
                raise RuntimeError(f"moto named {spec.logical_id}'s queue {url}, not the URL the functions get")
            urls[spec.logical_id] = url
            del pending[spec.logical_id]
    return urls


# ---------------------------------------------------------------------- the event and its outcome


def sqs_event(messages: list[dict[str, Any]], arn: str, region: str = REGION) -> dict[str, Any]:
    """ReceiveMessage's messages as the event Lambda's SQS event source sends."""
    return {"Records": [_record(message, arn, region) for message in messages]}


def _record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()},
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": region})
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute in Lambda's camelCase shape (binary values base64-encoded)."""
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    out["stringListValues"] = list(value.get("StringListValues") or [])
    out["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues") or []]
    out["dataType"] = value["DataType"]
    return out


def failed_records(ids: list[str], result: Any, *, raised: bool, report_failures: bool) -> tuple[set[str], str]:
    """The message ids of a batch that failed, and why, by Lambda's rules for SQS event sources."""
    if raised:
        return set(ids), "the function failed"
    if not report_failures or result is None:
        return set(), ""
    if not isinstance(result, dict):
        return set(ids), "the response is not a partial batch response"
    failures = result.get("batchItemFailures")
    if not failures:
        return set(), ""
    if not isinstance(failures, list):
        return set(ids), "batchItemFailures is not a list"
    found: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return set(ids), f"batchItemFailures names {identifier!r}, no record of the batch"
        found.add(identifier)
    return found, "reported in batchItemFailures"


# ---------------------------------------------------------------------- the pollers

Deliver = Callable[[SqsSourceSpec, dict[str, Any]], Any]  # invoke the function; raises when it failed


class QueuePollers:
    """The template's SQS event sources: `start()` polls them in background threads, `stop()` ends it,
    `drain()` waits until their queues are empty and nothing is in flight (tests)."""

    def __init__(
        self,
        queues: Mapping[str, QueueSpec],
        sources: Iterable[SqsSourceSpec],
        deliver: Deliver,
        *,
        reserved: Mapping[str, int | None] | None = None,
    ) -> None:
        self.queues = dict(queues)
        self.sources = [s for s in sources if s.enabled and s.queue_id in self.queues]
        self._deliver = deliver
        self._reserved = dict(reserved or {})
        self._pollers: list[_Poller] = []
        self._sqs: Any = None

    def start(self, env: Mapping[str, str]) -> None:
        """Create the queues if needed and start a poller per mapping (env: AWS_ENDPOINT_URL, AWS_REGION)."""
        import boto3
        from botocore.config import Config

        if self._pollers:
            return
        endpoint, region = env["AWS_ENDPOINT_URL"], env.get("AWS_REGION") or REGION
        self._sqs = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "local",
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "local",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=POLL_WAIT_S + 10),
        )
        urls = ensure_queues(self._sqs, self.queues.values(), endpoint)
        for source in self.sources:
            slots = source.max_concurrency or DEFAULT_CONCURRENCY
            reserved = self._reserved.get(source.function_id)
            if reserved is not None:
                slots = min(slots, reserved)
            if slots < 1:
                log.warning("queue %s -> %s: reserved concurrency 0, not polled", source.queue_id, source.function_id)
                continue
            poller = _Poller(source, urls[source.queue_id], queue_arn(source.queue_id, region), region, slots)
            poller.start(self._sqs, self._deliver)
            self._pollers.append(poller)

    def stop(self) -> None:
        for poller in self._pollers:
            poller.stop_event.set()
        for poller in self._pollers:
            poller.join()
        self._pollers.clear()

    @property
    def running(self) -> list[SqsSourceSpec]:
        return [poller.source for poller in self._pollers]

    def drain(self, timeout_s: float = 30.0) -> None:
        """Return once every polled queue is empty and no batch is in flight; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_s
        while True:
            busy = self._busy()
            if not busy:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"queues not drained after {timeout_s:g} s: {busy}")
            time.sleep(0.05)

    def _busy(self) -> dict[str, int]:
        busy: dict[str, int] = {}
        for poller in self._pollers:
            counts = self._sqs.get_queue_attributes(QueueUrl=poller.url, AttributeNames=list(_COUNTS))["Attributes"]
            waiting = sum(int(counts.get(name, 0)) for name in _COUNTS) + poller.in_flight
            if waiting:
                busy[poller.source.queue_id] = busy.get(poller.source.queue_id, 0) + waiting
        return busy


class _Poller:
    """One event source mapping: a thread receiving batches, each invoked in its own thread."""

    def __init__(self, source: SqsSourceSpec, url: str, arn: str, region: str, slots: int) -> None:
        self.source, self.url, self.arn, self.region = source, url, arn, region
        self.stop_event = threading.Event()
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._in_flight = 0  # messages received and not settled yet
        self._thread: threading.Thread | None = None
        self._runs: set[threading.Thread] = set()
        self._outage = False

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def start(self, sqs: Any, deliver: Deliver) -> None:
        self._sqs, self._deliver = sqs, deliver
        self._thread = threading.Thread(target=self._poll, name=f"sqs-{self.source.id}", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=POLL_WAIT_S + 5)
        with self._lock:
            runs = list(self._runs)
        for run in runs:  # a batch that outlives this (a hanging function) is left to its daemon thread
            run.join(timeout=5)

    def _poll(self) -> None:
        while not self.stop_event.is_set():
            if not self._slots.acquire(timeout=0.2):
                continue
            messages = self._receive()
            if not messages:
                self._slots.release()
                continue
            run = threading.Thread(target=self._run, args=(messages,), name=f"sqs-batch-{self.source.id}", daemon=True)
            with self._lock:
                self._runs.add(run)
            run.start()

    def _receive(self) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        wanted = self.source.batch_size
        got: list[dict[str, Any]] = []
        window_ends: float | None = None
        try:
            while len(got) < wanted and not self.stop_event.is_set():
                remaining = POLL_WAIT_S if window_ends is None else window_ends - time.monotonic()
                if remaining <= 0:
                    break
                batch = self._sqs.receive_message(
                    QueueUrl=self.url,
                    MaxNumberOfMessages=min(RECEIVE_MAX, wanted - len(got)),
                    WaitTimeSeconds=max(1, min(POLL_WAIT_S, int(remaining))),
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                with self._lock:
                    self._in_flight += len(batch)
                got += batch
                if not got:
                    break
                if window_ends is None:
                    if not self.source.window_s:
                        break
                    window_ends = time.monotonic() + self.source.window_s
        except (BotoCoreError, ClientError) as exc:
            self._report_outage(exc)
            self.stop_event.wait(1.0)
            return got
        if self._outage:
            log.info("queue %s: reachable again", self.source.queue_id)
            self._outage = False
        return got

    def _report_outage(self, exc: Exception) -> None:
        if not self._outage:
            log.warning("queue %s: cannot receive (%s); retrying every second", self.source.queue_id, exc)
            self._outage = True

    def _run(self, messages: list[dict[str, Any]]) -> None:
        ids = [m["MessageId"] for m in messages]
        try:
            result, raised = None, False
            try:
                result = self._deliver(self.source, sqs_event(messages, self.arn, self.region))
            except Exception as exc:
                raised = True
                log.error(
                    "queue %s -> %s failed: %r (the batch is received again after the visibility timeout)",
                    self.source.queue_id,
                    self.source.function_id,
                    exc,
                )
            failed, why = failed_records(ids, result, raised=raised, report_failures=self.source.report_failures)
            self._delete([m for m in messages if m["MessageId"] not in failed])
            if not raised:
                detail = f", {len(failed)} failed ({why})" if failed else ""
                log.info(
                    "queue %s -> %s: %d record(s)%s", self.source.queue_id, self.source.function_id, len(ids), detail
                )
        finally:
            with self._lock:
                self._in_flight -= len(messages)
                self._runs.discard(threading.current_thread())
            self._slots.release()

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(messages), RECEIVE_MAX):
            chunk = messages[start : start + RECEIVE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            try:
                self._sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                log.warning(
                    "queue %s: could not delete %d handled record(s): %s", self.source.queue_id, len(chunk), exc
                )
