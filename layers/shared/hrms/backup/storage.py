"""The S3 side of backups: a streamed multipart upload that hashes as it goes, publishing under the
final key with full metadata, and streamed reads. S3 failures become 503s, missing objects 404s.

An upload goes to `backups/incoming/<uuid>.sql.gz` first; only a complete, hashed object is copied
(server-side) to its final key with `sha256` and `size` in its metadata, so nothing partial or
unhashed is ever visible under a backup key. Any failure aborts the multipart upload.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from hrms.backup import keys
from hrms.config import settings
from hrms.errors import Conflict, DependencyDown, NotFound
from hrms.observability import logger

CONTENT_TYPE = "application/gzip"
READ_CHUNK = 1 << 20
COPY_PART = 128 << 20  # server-side copy in 128 MiB parts above this size (CopyObject itself stops at 5 GiB)


def s3() -> Any:
    from hrms import aws

    return aws.client("s3")


def bucket() -> str:
    return settings().backup_bucket


@contextmanager
def s3_errors(action: str) -> Iterator[None]:
    """Map S3 failures to domain errors: 404 for a missing object, 503 for S3 unreachable or refusing."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            raise NotFound("No such backup.") from exc
        if code in ("PreconditionFailed", "412"):
            raise Conflict("The backup object changed while it was being read; try again.") from exc
        raise DependencyDown(f"S3 refused to {action} ({code}).") from exc
    except BotoCoreError as exc:
        raise DependencyDown(f"S3 is unavailable: could not {action}.") from exc


# ----------------------------------------------------------------------------- writing


class MultipartUpload:
    """Bytes written are hashed, cut into parts and uploaded by a small pool, at most `concurrency`
    parts in flight: memory stays about part_size x (concurrency + 2) whatever the dump's size."""

    def __init__(self, metadata: dict[str, str]) -> None:
        cfg = settings()
        self.key = f"{keys.INCOMING_PREFIX}{uuid.uuid4().hex}{keys.SUFFIX}"
        self.metadata = metadata
        self.part_size = cfg.backup_part_size_mib << 20
        self.concurrency = cfg.backup_upload_concurrency
        self.size = 0
        self._sha = hashlib.sha256()
        self._buffer = bytearray()
        self._inflight: deque[Future[dict[str, Any]]] = deque()
        self._parts: list[dict[str, Any]] = []
        self._pool: ThreadPoolExecutor | None = None
        with s3_errors("start an upload"):
            self.upload_id: str = s3().create_multipart_upload(
                Bucket=bucket(), Key=self.key, Metadata=metadata, ContentType=CONTENT_TYPE
            )["UploadId"]

    def __enter__(self) -> MultipartUpload:
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="backup-part")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:  # no part may still be uploading when the upload is aborted
            self._pool.shutdown(wait=True, cancel_futures=True)
        if exc_type is not None:
            self.abort()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._sha.update(data)
        self.size += len(data)
        self._buffer += data
        while len(self._buffer) >= self.part_size:
            self._send(bytes(self._buffer[: self.part_size]))
            del self._buffer[: self.part_size]

    def _send(self, body: bytes) -> None:
        assert self._pool is not None, "use MultipartUpload as a context manager"
        while len(self._inflight) >= self.concurrency:
            self._parts.append(self._result(self._inflight.popleft()))
        number = len(self._parts) + len(self._inflight) + 1
        self._inflight.append(self._pool.submit(self._upload_part, number, body))

    def _upload_part(self, number: int, body: bytes) -> dict[str, Any]:
        response = s3().upload_part(
            Bucket=bucket(), Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    def _result(self, future: Future[dict[str, Any]]) -> dict[str, Any]:
        with s3_errors("upload a part"):
            return future.result()

    def complete(self) -> tuple[str, int, str | None]:
        """Upload what is left and complete: (sha256 hex, size, version id) of the incoming object."""
        if self._buffer or not (self._parts or self._inflight):
            self._send(bytes(self._buffer))
            self._buffer.clear()
        while self._inflight:
            self._parts.append(self._result(self._inflight.popleft()))
        with s3_errors("complete an upload"):
            done = s3().complete_multipart_upload(
                Bucket=bucket(),
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": sorted(self._parts, key=lambda p: p["PartNumber"])},
            )
        self.upload_id = ""
        return self._sha.hexdigest(), self.size, _version(done.get("VersionId"))

    def abort(self) -> None:
        """Best effort (S3 may be the reason we are here); the bucket's lifecycle rule is the backstop."""
        if not self.upload_id:
            return
        try:
            s3().abort_multipart_upload(Bucket=bucket(), Key=self.key, UploadId=self.upload_id)
        except Exception:
            logger.warning("Could not abort a backup upload", extra={"key": self.key}, exc_info=True)


def publish(incoming: str, version_id: str | None, key: str, metadata: dict[str, str], size: int) -> None:
    """Copy the complete incoming object to its backup key with its final metadata, then delete it."""
    from boto3.s3.transfer import TransferConfig

    source: dict[str, str] = {"Bucket": bucket(), "Key": incoming}
    if version_id:
        source["VersionId"] = version_id
    try:
        with s3_errors("publish a backup"):
            s3().copy(
                CopySource=source,
                Bucket=bucket(),
                Key=key,
                ExtraArgs={"Metadata": metadata, "MetadataDirective": "REPLACE", "ContentType": CONTENT_TYPE},
                Config=TransferConfig(multipart_threshold=COPY_PART, multipart_chunksize=COPY_PART, max_concurrency=8),
            )
    finally:
        delete_incoming(incoming, version_id)


def delete_incoming(key: str, version_id: str | None = None) -> None:
    """Remove an upload's temporary object (that version for good, in a versioned bucket)."""
    try:
        extra = {"VersionId": version_id} if version_id else {}
        s3().delete_object(Bucket=bucket(), Key=key, **extra)
    except Exception:
        logger.warning("Could not delete a temporary backup object", extra={"key": key}, exc_info=True)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    metadata: dict[str, str]
    version_id: str | None = None


def head(key: str) -> ObjectInfo:
    with s3_errors("read a backup's metadata"):
        found = s3().head_object(Bucket=bucket(), Key=key)
    return ObjectInfo(
        key, int(found["ContentLength"]), found["ETag"], found.get("Metadata") or {}, _version(found.get("VersionId"))
    )


def _version(version_id: str | None) -> str | None:
    """A version id worth pinning: unversioned buckets report none, or "null"."""
    return None if version_id in (None, "", "null") else version_id


def read(info: ObjectInfo) -> Iterator[bytes]:
    """The object's bytes in chunks; pinned to the version `head` saw (If-Match), so it cannot change midway."""
    extra = {"VersionId": info.version_id} if info.version_id else {"IfMatch": info.etag}
    with s3_errors("read a backup"):
        body = s3().get_object(Bucket=bucket(), Key=info.key, **extra)["Body"]
        try:
            yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()


def list_objects(
    prefix: str, *, delimiter: str | None = None, start_after: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every object (or common prefix, with a delimiter) under `prefix`, in key order."""
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    if start_after:
        kwargs["StartAfter"] = start_after
    with s3_errors("list backups"):
        for page in s3().get_paginator("list_objects_v2").paginate(**kwargs):
            yield from page.get("CommonPrefixes", []) if delimiter else page.get("Contents", [])


def delete(keys_: list[str]) -> list[str]:
    """Delete objects (1,000 per request); the keys S3 could not delete."""
    failed: list[str] = []
    for start in range(0, len(keys_), 1000):
        batch = keys_[start : start + 1000]
        with s3_errors("delete backups"):
            response = s3().delete_objects(
                Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
        failed += [error["Key"] for error in response.get("Errors", [])]
    return failed


def stale_uploads(prefix: str) -> Iterator[dict[str, Any]]:
    """Multipart uploads in progress under `prefix` (Key, UploadId, Initiated)."""
    with s3_errors("list uploads in progress"):
        for page in s3().get_paginator("list_multipart_uploads").paginate(Bucket=bucket(), Prefix=prefix):
            yield from page.get("Uploads", [])


def abort_upload(key: str, upload_id: str) -> None:
    with s3_errors("abort an upload"):
        s3().abort_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id)
