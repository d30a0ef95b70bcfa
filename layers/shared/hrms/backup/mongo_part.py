"""The MongoDB part of a backup: the scope's documents of every application collection, streamed from
pymongo through gzip into S3 (beside the PostgreSQL dump, `keys.mongo_key`), and back.

Format (`hrms-bson/1`): a gzip stream of BSON documents, one after the other (each starts with its own
length). A control document `{"$hrms": "collection", "name": <collection>}` opens each collection's
documents; `{"$hrms": "end", "counts": {<collection>: n}, "documents": n}` closes the part, so a part
cut short has no end marker. Stored documents never have a top-level field starting with `$`, so a
control document cannot be mistaken for data. Documents are copied as raw BSON (`RawBSONDocument`):
nothing is decoded on the way, every BSON type is kept exactly, and memory stays flat (cursor batches
of `BATCH` documents, 1 MiB compression buffers, the multipart upload's parts).

Scope (`Scope`): a schema backup holds the documents whose `tenantId` is the tenant's in every collection of
`hrms.db.tenant_collection.INDEXES` (every collection is shared and filtered by tenant id; there are no
per-tenant collections). A full backup of a cell holds the documents of the tenants the registry places on
that cell; the cell `default`'s also holds every document of no such tenant (`hrms.backup.cell_scope`), so
with one cell, the normal deploy, it is every document of those collections.

Files of documents: `DocumentMetadata` documents are written with `s3VersionId`, the version their
object had in the (versioned) documents bucket at backup time, unless they pin one already. The
versions are found by walking the bucket's version listing in key order beside the documents in
(tenantId, _id) order, which is the order of their keys `tenants/<tenantId>/documents/<_id>/<name>`
(ids are fixed-length UUIDs); a document whose key does not have that shape is looked up by itself.
After a restore, downloads are signed for the pinned version, so they return the file as it was.

Restoring one tenant (`stage`, `keep_current`, `replace`): the part is first loaded into staging
collections `_hrms_restore_<op>_new_<collection>` and the tenant's current documents copied to
`_hrms_restore_<op>_old_<collection>`; only then are the tenant's live documents replaced, collection by
collection (delete the tenant's, insert the staged). Replacing is idempotent, from either side: rolling
forward repeats it from `new`, rolling back repeats it from `old`; `hrms.backup.restore` decides which.

Restoring a cell's full backup over the live database (`prepare_full`, `swap_in`, `swap_back`): every
document, the whole collections are staged and swapped in by renames; a scope of some tenants (other cells
configured), the scope's documents are replaced as one tenant's are, from `new` (and back from `old`), and
staged documents outside the scope (tenants now on another cell) are left out.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hrms.backup import storage
from hrms.backup.common import BackupFailed, Progress, no_progress
from hrms.backup.stream import StreamCheck
from hrms.config import settings
from hrms.db.tenant_collection import INDEXES, TENANT, guarded
from hrms.errors import Invalid, NotFound

FORMAT = "hrms-bson/1"
MARK = "$hrms"
BATCH = 1000  # documents per cursor batch and per insert_many
BATCH_BYTES = 8 << 20  # and at most this many bytes per insert_many
BUFFER = 1 << 20  # raw BSON gathered before each compression step
MAX_DOCUMENT = 16 << 20  # BSON's own limit (16 MiB) and a little slack for a control document
DOCUMENTS = "DocumentMetadata"
STAGING = "_hrms_restore_"
_CONTROL = b"\x03" + MARK.encode() + b"\x00"  # the first element of a control document: "$hrms" (embedded doc)
_CONTROL_STR = b"\x02" + MARK.encode() + b"\x00"  # ... or a string


@dataclass(frozen=True)
class Scope:
    """Which documents a part holds, or a restore replaces, by `tenantId`: one tenant's, those of the tenants
    in `only`, or every document but those of the tenants in `excluding` (documents without a tenant too);
    `Scope()` is every document."""

    tenant_id: str | None = None
    only: frozenset[str] | None = None
    excluding: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.tenant_id is None and self.only is None and not self.excluding

    def filter(self) -> dict[str, Any]:
        if self.tenant_id is not None:
            return {TENANT: self.tenant_id}
        if self.only is not None:
            return {TENANT: {"$in": sorted(self.only)}}
        if self.excluding:
            return {TENANT: {"$nin": sorted(self.excluding)}}
        return {}

    def describe(self) -> str:
        """For metadata and logs: `tenant <id>`, `<n> tenants`, `all but <n> tenants`, `all`."""
        if self.tenant_id is not None:
            return f"tenant {self.tenant_id}"
        if self.only is not None:
            return f"{len(self.only)} tenants"
        return f"all but {len(self.excluding)} tenants" if self.excluding else "all"


def collections() -> list[str]:
    """The application's collections, in a fixed order."""
    return sorted(INDEXES)


def database(name: str | None = None) -> Any:
    """A database of the application's MongoDB server whose documents come out as raw BSON."""
    from bson.codec_options import CodecOptions
    from bson.raw_bson import RawBSONDocument

    from hrms.db.mongo import client

    options: CodecOptions[Any] = CodecOptions(document_class=RawBSONDocument, tz_aware=True)
    return client().get_database(name or settings().mongodb_database, codec_options=options)


def target_database(target: str | None) -> str:
    """The MongoDB database of a restore target: the live one for None, else `<live>_<target>` on the same
    server (target names match ^[a-z][a-z0-9_-]{0,39}$, valid in a database name)."""
    live = settings().mongodb_database
    return live if target is None else f"{live}_{target}"


# ----------------------------------------------------------------------------- writing


@dataclass
class Part:
    """What a dump wrote: the part's size, sha256 and documents per collection."""

    size: int
    sha256: str
    counts: dict[str, int]
    version_id: str | None = None
    incoming: str = ""

    @property
    def documents(self) -> int:
        return sum(self.counts.values())


class _Compressor:
    def __init__(self, upload: storage.MultipartUpload) -> None:
        self.upload = upload
        self.gzip = zlib.compressobj(settings().backup_gzip_level, zlib.DEFLATED, 31)
        self.buffer = bytearray()
        self.raw_bytes = 0

    def write(self, data: bytes) -> None:
        self.buffer += data
        self.raw_bytes += len(data)
        if len(self.buffer) >= BUFFER:
            self.upload.write(self.gzip.compress(bytes(self.buffer)))
            self.buffer.clear()

    def close(self) -> None:
        self.upload.write(self.gzip.compress(bytes(self.buffer)) + self.gzip.flush())
        self.buffer.clear()


def dump(
    tenant_id: str | None,
    metadata: dict[str, str],
    *,
    progress: Progress = no_progress,
    deadline: float | None = None,
    scope: Scope | None = None,
) -> Part:
    """Stream the scope's documents (`scope`, else the tenant's, else all) into a completed temporary object
    (`Part.incoming`); the caller publishes."""
    from bson import BSON

    flt = (scope or Scope(tenant_id=tenant_id or None)).filter()
    counts: dict[str, int] = {}
    upload = storage.MultipartUpload({**metadata, "format": FORMAT})
    with upload, guarded():
        out = _Compressor(upload)
        db = database()
        for name in collections():
            out.write(BSON.encode({MARK: "collection", "name": name}))
            done = 0
            for raw in _documents(db, name, flt, tenant_id):
                out.write(raw)
                done += 1
                if done % BATCH == 0:
                    progress("mongo dump", out.raw_bytes, None)
                    if deadline is not None and time.monotonic() > deadline:
                        raise BackupFailed("Out of time while dumping MongoDB; the upload was aborted.")
            counts[name] = done
        out.write(BSON.encode({MARK: "end", "counts": counts, "documents": sum(counts.values())}))
        out.close()
        progress("mongo dump", out.raw_bytes, out.raw_bytes)
        sha256, size, version_id = upload.complete()
    return Part(size, sha256, counts, version_id, upload.key)


def _documents(db: Any, name: str, flt: dict[str, Any], tenant_id: str | None) -> Iterator[bytes]:
    if name != DOCUMENTS:
        for doc in db[name].find(flt, batch_size=BATCH):
            yield doc.raw
        return
    docs = db[name].find(flt, sort=[(TENANT, 1), ("_id", 1)], batch_size=BATCH)
    prefix = f"tenants/{tenant_id}/documents/" if tenant_id else "tenants/"
    yield from _pinned(docs, _latest_versions(prefix))


def _pinned(docs: Iterable[Any], versions: Iterator[tuple[str, str]]) -> Iterator[bytes]:
    """The documents' raw BSON, each with `s3VersionId` set to its object's version at this moment."""
    from bson import BSON, decode
    from bson.codec_options import CodecOptions

    options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, uuid_representation=4)
    current = next(versions, None)
    for raw in docs:
        key = raw.get("s3Key")
        if raw.get("s3VersionId") or not isinstance(key, str):
            yield raw.raw
            continue
        while current is not None and current[0] < key:
            current = next(versions, None)
        if current is not None and current[0] == key:
            version: str | None = current[1]
        elif key.startswith(f"tenants/{raw.get(TENANT)}/documents/{raw.get('_id')}/"):
            version = None  # where the walk would have met it: there is no such object (never uploaded)
        else:
            version = _head_version(key)  # a key out of the walk's order: asked for by itself
        if version is None:
            yield raw.raw  # never uploaded (or deleted): nothing to pin
            continue
        doc = decode(raw.raw, codec_options=options)
        doc["s3VersionId"] = version
        yield BSON.encode(doc, codec_options=options)


def _documents_s3() -> Any:
    from hrms import aws

    return aws.client("s3")


def _latest_versions(prefix: str) -> Iterator[tuple[str, str]]:
    """(key, version id) of the current version of every object under `prefix`, in key order."""
    bucket = settings().documents_bucket
    with storage.s3_errors("list the documents' versions"):
        for page in _documents_s3().get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                if version.get("IsLatest") and version.get("VersionId") not in (None, "", "null"):
                    yield version["Key"], version["VersionId"]


def _head_version(key: str) -> str | None:
    try:
        with storage.s3_errors("read a document's version"):
            found = _documents_s3().head_object(Bucket=settings().documents_bucket, Key=key)
    except NotFound:  # never uploaded
        return None
    version = found.get("VersionId")
    return None if version in (None, "", "null") else str(version)


def promote_versions(db_name: str, tenant_id: str) -> int:
    """After a tenant's restore over the live data: every document pinned to a version that is no longer
    its object's current one gets that version copied over the key (the same bytes, a new current version)
    and pins the copy. The bucket's lifecycle expires noncurrent versions (90 days after they were
    superseded), which would otherwise take a restored document's file with them. How many were promoted."""
    bucket, promoted = settings().documents_bucket, 0
    db = database(db_name)
    flt = {TENANT: tenant_id, "deletedAt": None, "s3VersionId": {"$type": "string"}}
    versions = _latest_versions(f"tenants/{tenant_id}/documents/")
    current = next(versions, None)
    with guarded():
        for raw in db[DOCUMENTS].find(flt, sort=[(TENANT, 1), ("_id", 1)], batch_size=BATCH):
            key, pinned = raw.get("s3Key"), raw.get("s3VersionId")
            if not isinstance(key, str):
                continue
            while current is not None and current[0] < key:
                current = next(versions, None)
            if current is not None and current[0] == key and current[1] == pinned:
                continue  # already the current version
            source = {"Bucket": bucket, "Key": key, "VersionId": pinned}
            try:
                with storage.s3_errors("keep a restored document's file"):
                    copied = _documents_s3().copy_object(Bucket=bucket, Key=key, CopySource=source)
            except NotFound:
                continue  # that version is gone already: nothing to keep
            version = copied.get("VersionId")
            if version and version != "null":
                db[DOCUMENTS].update_one({"_id": raw["_id"], TENANT: tenant_id}, {"$set": {"s3VersionId": version}})
                promoted += 1
    return promoted


# ----------------------------------------------------------------------------- reading and checking


@dataclass
class PartCheck:
    """Feed the object's chunks in order: `feed` yields (collection, raw BSON) of every document; after
    the last chunk `problems()` says what is wrong (sha256, size, gzip, format, end marker, counts)."""

    expected_sha256: str | None
    expected_size: int | None
    expected_counts: dict[str, int] | None = None
    tenant_id: str | None = None  # every document must be this tenant's
    stream: StreamCheck = field(init=False)
    counts: dict[str, int] = field(default_factory=dict)
    end: dict[str, Any] | None = None
    format_error: str | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _collection: str | None = None

    def __post_init__(self) -> None:
        self.stream = StreamCheck(self.expected_sha256, self.expected_size)

    def feed(self, chunk: bytes) -> Iterator[tuple[str, bytes]]:
        for piece in self.stream.feed(chunk):
            if self.format_error is None:
                self._buffer += piece
                yield from self._frames()

    def _frames(self) -> Iterator[tuple[str, bytes]]:
        buffer, pos = self._buffer, 0
        try:
            while len(buffer) - pos >= 4:
                size = int.from_bytes(buffer[pos : pos + 4], "little")
                if size < 5 or size > MAX_DOCUMENT:
                    self._fail(f"a document of {size} bytes")
                    return
                if len(buffer) - pos < size:
                    return
                raw = bytes(buffer[pos : pos + size])
                pos += size
                if self.end is not None:
                    self._fail("documents after the end marker")
                    return
                if raw[4:11] in (_CONTROL, _CONTROL_STR):
                    self._control(raw)
                    continue
                if self._collection is None:
                    self._fail("a document before any collection marker")
                    return
                if self.tenant_id is not None and _tenant_of(raw) != self.tenant_id:
                    self._fail(f"a document of another tenant in {self._collection}")
                    return
                self.counts[self._collection] += 1
                yield self._collection, raw
        finally:
            del buffer[:pos]

    def _control(self, raw: bytes) -> None:
        from bson import decode

        try:
            control = decode(raw)
        except Exception:
            self._fail("an unreadable control document")
            return
        if control.get(MARK) == "collection" and control.get("name") in INDEXES:
            self._collection = str(control["name"])
            self.counts.setdefault(self._collection, 0)
        elif control.get(MARK) == "end" and isinstance(control.get("counts"), dict):
            self.end = control
        else:
            self._fail("an unknown control document")

    def _fail(self, what: str) -> None:
        self.format_error = f"the part is malformed: {what}"
        self._buffer.clear()

    def checks(self) -> dict[str, bool]:
        streamed = self.stream.checks()
        complete = streamed["gzip"] and self.format_error is None and self.end is not None and not self._buffer
        counts_ok = bool(
            complete
            and self.end is not None
            and dict(self.end["counts"]) == self.counts
            and self.expected_counts == self.counts
        )
        return {
            "mongoSize": streamed["size"],
            "mongoSha256": streamed["sha256"],
            "mongoGzip": streamed["gzip"],
            "mongoEndMarker": complete,
            "mongoCounts": counts_ok,
        }

    def problems(self) -> list[str]:
        checks, found = self.checks(), []
        if not checks["mongoSize"]:
            found.append(f"MongoDB part: size is {self.stream.size} bytes, the metadata says {self.expected_size}")
        if not checks["mongoSha256"]:
            found.append("MongoDB part: sha256 does not match the metadata")
        if not checks["mongoGzip"]:
            found.append(f"MongoDB part: gzip stream is damaged: {self.stream.gzip_error or 'it ends early'}")
        elif self.format_error:
            found.append(f"MongoDB part: {self.format_error}")
        elif not checks["mongoEndMarker"]:
            found.append("MongoDB part: no end marker (cut short)")
        elif not checks["mongoCounts"]:
            found.append(f"MongoDB part: documents {self.counts} differ from the metadata's {self.expected_counts}")
        return found


def _tenant_of(raw: bytes) -> str | None:
    from bson.raw_bson import RawBSONDocument

    try:
        value = RawBSONDocument(raw).get(TENANT)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def frames(
    info: storage.ObjectInfo, check: PartCheck, progress: Progress = no_progress, phase: str = ""
) -> Iterator[tuple[str, bytes]]:
    """Every document of the part as it streams from S3 (check.problems() afterwards)."""
    done = 0
    for chunk in storage.read(info):
        yield from check.feed(chunk)
        done += len(chunk)
        if phase:
            progress(phase, done, info.size)


# ----------------------------------------------------------------------------- loading


class _Inserter:
    """insert_many in batches of at most BATCH documents / BATCH_BYTES, per collection."""

    def __init__(self, db: Any, name_of: Callable[[str], str]) -> None:
        self.db = db
        self.name_of = name_of
        self.batches: dict[str, list[Any]] = {}
        self.sizes: dict[str, int] = {}

    def add(self, collection: str, raw: bytes) -> None:
        from bson.raw_bson import RawBSONDocument

        batch = self.batches.setdefault(collection, [])
        batch.append(RawBSONDocument(raw))
        self.sizes[collection] = self.sizes.get(collection, 0) + len(raw)
        if len(batch) >= BATCH or self.sizes[collection] >= BATCH_BYTES:
            self.flush(collection)

    def flush(self, collection: str | None = None) -> None:
        for name in [collection] if collection else list(self.batches):
            batch = self.batches.pop(name, [])
            self.sizes.pop(name, None)
            if batch:
                self.db[self.name_of(name)].insert_many(batch, ordered=False)


def load(documents: Iterable[tuple[str, bytes]], db: Any, name_of: Callable[[str], str] = str) -> None:
    """Insert every document into `db`, collection `name_of(collection)`."""
    inserter = _Inserter(db, name_of)
    with guarded():
        for collection, raw in documents:
            inserter.add(collection, raw)
        inserter.flush()


def ensure_indexes(db: Any, name_of: Callable[[str], str] = str) -> None:
    with guarded():
        for name, specs in INDEXES.items():
            for index_keys, options in specs:
                db[name_of(name)].create_index(index_keys, **options)


def staging_name(operation_id: str, side: str) -> Callable[[str], str]:
    return lambda collection: f"{STAGING}{operation_id}_{side}_{collection}"


def stage(
    info: storage.ObjectInfo, check: PartCheck, db_name: str, operation_id: str, progress: Progress = no_progress
) -> None:
    """The part's documents into the `new` staging collections; Invalid (nothing live touched) if damaged."""
    db = database(db_name)
    drop_staging(db_name, operation_id)
    load(frames(info, check, progress, "mongo restore"), db, staging_name(operation_id, "new"))
    problems = check.problems()
    if problems:
        drop_staging(db_name, operation_id)
        raise Invalid(f"The backup is damaged ({'; '.join(problems)}); nothing was changed.")


def keep_current(db_name: str, tenant_id: str, operation_id: str) -> dict[str, int]:
    """A copy of the tenant's live documents in the `old` staging collections."""
    return keep_scope(db_name, Scope(tenant_id=tenant_id), operation_id)


def keep_scope(db_name: str, scope: Scope, operation_id: str) -> dict[str, int]:
    """A copy of the scope's live documents in the `old` staging collections."""
    db, name_of = database(db_name), staging_name(operation_id, "old")
    inserter = _Inserter(db, name_of)
    counts: dict[str, int] = {}
    with guarded():
        for name in collections():
            counts[name] = 0
            for doc in db[name].find(scope.filter(), batch_size=BATCH):
                inserter.add(name, doc.raw)
                counts[name] += 1
        inserter.flush()
    return counts


def replace(db_name: str, tenant_id: str, operation_id: str, side: str) -> dict[str, int]:
    """The tenant's live documents replaced by those of the `side` staging collections ("new": roll
    forward, "old": roll back); idempotent. Documents per collection afterwards."""
    return replace_scope(db_name, Scope(tenant_id=tenant_id), operation_id, side)


def replace_scope(db_name: str, scope: Scope, operation_id: str, side: str) -> dict[str, int]:
    """The scope's live documents replaced by the scope's documents of the `side` staging collections (staged
    documents outside the scope are left out); idempotent. Documents per collection afterwards."""
    db, name_of, flt = database(db_name), staging_name(operation_id, side), scope.filter()
    counts: dict[str, int] = {}
    with guarded():
        for name in collections():
            db[name].delete_many(flt)
            inserter = _Inserter(db, _constant(name))
            counts[name] = 0
            for doc in db[name_of(name)].find(flt, batch_size=BATCH):
                inserter.add(name, doc.raw)
                counts[name] += 1
            inserter.flush()
    return counts


def _constant(name: str) -> Callable[[str], str]:
    return lambda _collection: name


def drop_staging(db_name: str, operation_id: str) -> None:
    db = database(db_name)
    with guarded():
        for name in db.list_collection_names():
            if name.startswith(f"{STAGING}{operation_id}_"):
                db.drop_collection(name)


def replace_database(info: storage.ObjectInfo, check: PartCheck, db_name: str, progress: Progress) -> dict[str, int]:
    """A whole (non-live) database's application collections replaced by the part: a restore target or a
    scratch database. Not atomic: the target is a copy."""
    db = database(db_name)
    with guarded():
        for name in collections():
            db.drop_collection(name)
    load(frames(info, check, progress, "mongo restore"), db)
    problems = check.problems()
    if problems:
        raise Invalid(f"The backup is damaged ({'; '.join(problems)}); {db_name} may be partly restored.")
    ensure_indexes(db)
    return dict(check.counts)


def drop_database(db_name: str) -> None:
    from hrms.db.mongo import client

    with guarded():
        client().drop_database(db_name)


# ----------------------------------------------------------------------------- full restore over the live database


def swap_collections(db_name: str, operation_id: str) -> None:
    """Live collections renamed to `old`, staged `new` ones renamed live (each rename is atomic)."""
    db, old, new = database(db_name), staging_name(operation_id, "old"), staging_name(operation_id, "new")
    with guarded():
        existing = set(db.list_collection_names())
        for name in collections():
            if name in existing:
                db[name].rename(old(name))
            if new(name) in existing:
                db[new(name)].rename(name)


def unswap_collections(db_name: str, operation_id: str) -> None:
    """Undo `swap_collections` (whatever part of it happened)."""
    db, old, new = database(db_name), staging_name(operation_id, "old"), staging_name(operation_id, "new")
    with guarded():
        existing = set(db.list_collection_names())
        for name in collections():
            if old(name) in existing:
                if name in existing:
                    db[name].rename(new(name), dropTarget=True)
                db[old(name)].rename(name)


def prepare_full(db_name: str, scope: Scope, operation_id: str) -> None:
    """After `stage`, before a full restore's swap: the staged collections indexed (they are renamed in), or,
    for a scope of some tenants, the scope's live documents copied aside (`old`)."""
    if scope.everything:
        ensure_indexes(database(db_name), staging_name(operation_id, "new"))
    else:
        keep_scope(db_name, scope, operation_id)


def swap_in(db_name: str, scope: Scope, operation_id: str) -> None:
    """A full restore's documents made live: by renames (every document), or the scope's replaced."""
    if scope.everything:
        swap_collections(db_name, operation_id)
    else:
        replace_scope(db_name, scope, operation_id, "new")


def swap_back(db_name: str, scope: Scope, operation_id: str) -> None:
    """Undo `swap_in` (whatever part of it happened)."""
    if scope.everything:
        unswap_collections(db_name, operation_id)
    else:
        replace_scope(db_name, scope, operation_id, "old")


def counts_of(db_name: str, tenant_id: str | None) -> dict[str, int]:
    return counts_in(db_name, Scope(tenant_id=tenant_id or None))


def counts_in(db_name: str, scope: Scope) -> dict[str, int]:
    db, flt = database(db_name), scope.filter()
    with guarded():
        return {name: int(db[name].count_documents(flt)) for name in collections()}
