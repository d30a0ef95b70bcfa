"""Backups that restore a whole tenant: the MongoDB part (settings and their history, flags, appraisal
forms and appraisals, document metadata, pending audits) and the documents' files, beside PostgreSQL.

Against the real servers: PostgreSQL 18, SecantusDB (MongoDB wire protocol), moto S3 with a versioned
documents bucket. Faults are real ones (damaged objects, a document id another tenant holds); nothing
of the code under test is patched.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from typing import Any
from uuid import UUID

import httpx
import pytest
from bson import BSON, decode_all

from hrms.appraisals import service as appraisals
from hrms.appraisals.models import NewAppraisal, NewAppraisalForm
from hrms.auth import credentials
from hrms.backup import keys, mongo_part, pgtools, repo, restore, service, storage
from hrms.db.mongo import database
from hrms.documents import service as documents
from hrms.documents.models import NewDocument
from hrms.errors import Conflict, Invalid, WritesFrozen
from hrms.flags import service as flags
from hrms.flags.models import FlagChange
from hrms.http.responses import problem_from
from hrms.settings import service as settings_service
from hrms.settings.models import SettingsUpdate
from hrms.tenancy import Tenant
from tests.integration import test_backup
from tests.integration.mongo_world import actor, as_tenant, employee_user
from tests.integration.test_backup import checksums, new_tenant, schema_keys, scramble, seed

own_database, staging = test_backup.own_database, test_backup.staging  # fixtures of the full-backup test

FIRST = b"%PDF-1.7\nthe contract as signed " * 40
SECOND = b"%PDF-1.7\nan overwritten contract!! " * 40
FORM = [{"key": "summary", "label": "Summary", "type": "text", "required": True}]


# ----------------------------------------------------------------------------- helpers


class World:
    """One tenant with data in both stores: PostgreSQL rows, settings, a flag, a form, an appraisal, a document."""

    def __init__(self, created: Any) -> None:
        self.created = created
        self.t = as_tenant(created)
        self.hr = actor(self.t, "hr_manager")
        self.admin = actor(self.t, "admin")
        seed(self.t.schema_name, employees=6)
        _, self.employee = employee_user(self.t, "employee")
        settings_service.update_settings(
            self.t, self.admin, SettingsUpdate(settings={"currency": "INR", "motto": "v1"}, expected_version=0)
        )
        flags.set_flag(self.t, self.admin, "new-payslips", FlagChange(enabled=False, rollout_percent=10))
        self.form = appraisals.create_form(self.t, self.hr, NewAppraisalForm(name="Annual", cycle="2025", fields=FORM))
        self.appraisal = appraisals.create_appraisal(
            self.t,
            self.hr,
            "all",
            NewAppraisal(form_id=UUID(self.form.form_id), employee_id=self.employee, responses={"summary": "Good"}),
        )
        self.upload = documents.create_document(
            self.t,
            self.hr,
            "all",
            NewDocument(
                employee_id=self.employee,
                category="contract",
                file_name="contract.pdf",
                content_type="application/pdf",
                size_bytes=len(FIRST),
            ),
        )
        self.put(FIRST)

    def put(self, body: bytes) -> None:
        headers = {**self.upload.upload_headers, "Content-Length": str(len(body))}
        assert httpx.put(self.upload.upload_url, content=body, headers=headers).status_code == 200

    def change_everything(self) -> None:
        """After the backup: new settings version, flag flipped, form v2 and a new appraisal, the file
        overwritten and a second document."""
        version = settings_service.get_settings(self.t).version
        settings_service.update_settings(
            self.t, self.admin, SettingsUpdate(settings={"currency": "USD", "motto": "v2"}, expected_version=version)
        )
        flags.set_flag(self.t, self.admin, "new-payslips", FlagChange(enabled=True, rollout_percent=100))
        appraisals.update_form(
            self.t, self.hr, UUID(self.form.form_id), NewAppraisalForm(name="Annual v2", cycle="2025", fields=FORM)
        )
        appraisals.create_appraisal(
            self.t,
            self.hr,
            "all",
            NewAppraisal(form_id=UUID(self.form.form_id), employee_id=self.employee, responses={"summary": "Later"}),
        )
        self.put(SECOND)  # same key: a new version of the object (the bucket is versioned) ...
        documents.get_document(self.t, self.hr, "all", UUID(self.upload.document_id))  # ... confirmed: pinned
        documents.create_document(
            self.t,
            self.hr,
            "all",
            NewDocument(category="misc", file_name="late.txt", content_type="text/plain", size_bytes=3),
        )

    def snapshot(self) -> dict[str, Any]:
        """What a user of the tenant sees in MongoDB, and the file a download returns."""
        listed = documents.list_documents(
            self.t, self.hr, "all", employee_id=None, category=None, expires_before=None, limit=50, cursor=None
        ).items
        (doc,) = [d for d in listed if d.document_id == self.upload.document_id]
        assert doc.download_url
        return {
            "settings": settings_service.get_settings(self.t).model_dump(),
            "history": [c.version for c in settings_service.settings_history(self.t, 50, None).items],
            "flag": flags.get_flag(self.t, "new-payslips").model_dump(),
            "form": appraisals.get_form(self.t, UUID(self.form.form_id), None).model_dump(),
            "appraisals": sorted(
                a.appraisal_id
                for a in appraisals.list_appraisals(
                    self.t, self.hr, "all", employee_id=None, status=None, limit=50, cursor=None
                ).items
            ),
            "documents": sorted(d.document_id for d in listed),
            "file": httpx.get(doc.download_url).content,
        }


def raw_docs(tenant: Tenant) -> dict[str, list[Any]]:
    """Every document of the tenant in every application collection, as stored (pending audits too)."""
    db = database()
    return {
        name: sorted(db[name].find({"tenantId": str(tenant.tenant_id)}), key=lambda d: str(d["_id"]))
        for name in mongo_part.collections()
    }


def freezes() -> list[repo.Freeze]:
    with pgtools.live().connect() as conn:
        return repo.freezes(conn, restore.REASON)


def staging_collections() -> list[str]:
    return [n for n in database().list_collection_names() if n.startswith(mongo_part.STAGING)]


def damage_mongo_part(key: str, how: str) -> str:
    """A copy of the backup under a new key whose MongoDB part is damaged (the dump is intact)."""
    dump, part = storage.head(key), storage.head(keys.mongo_key(key))
    data, meta = b"".join(storage.read(part)), dict(part.metadata)
    dump_meta = dict(dump.metadata)
    if how == "bit-flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    else:  # "no-end-marker": well-formed gzip, sha256 and size matching, the end marker cut off
        docs = decode_all(gzip.decompress(data))
        data = gzip.compress(b"".join(BSON.encode(d) for d in docs[:-1]))
        digest = hashlib.sha256(data).hexdigest()
        meta.update(sha256=digest, size=str(len(data)))
        dump_meta.update({"mongo-sha256": digest, "mongo-size": str(len(data))})
    parsed = keys.parse(key)
    assert parsed is not None and parsed.schema_name
    from datetime import timedelta

    damaged = keys.schema_key(parsed.schema_name, parsed.created_at + timedelta(milliseconds=7))
    s3, bucket = storage.s3(), storage.bucket()
    s3.put_object(Bucket=bucket, Key=keys.mongo_key(damaged), Body=data, Metadata=meta)
    s3.copy_object(
        Bucket=bucket,
        Key=damaged,
        CopySource={"Bucket": bucket, "Key": key},
        Metadata=dump_meta,
        MetadataDirective="REPLACE",
    )
    return damaged


@pytest.fixture
def world(tenant: Any) -> World:
    return World(tenant)


@pytest.fixture
def other(platform_actor: Any) -> World:
    return World(new_tenant(platform_actor))


# ----------------------------------------------------------------------------- backup


def test_a_schema_backup_has_a_mongo_part_beside_the_dump_with_counts_and_sha256(world):
    info = service.create_backup("schema", world.created.slug)

    assert info.mongo is not None and info.mongo.key == info.key.removesuffix(".sql.gz") + ".mongo.gz"
    head, part = storage.head(info.key), storage.head(info.mongo.key)
    assert head.metadata["mongo-sha256"] == part.metadata["sha256"] == info.mongo.sha256
    assert part.size == info.mongo.size_bytes == int(head.metadata["mongo-size"])
    assert head.metadata["tenant-id"] == str(world.t.tenant_id)
    stored = raw_docs(world.t)
    assert info.mongo.counts == {name: len(docs) for name, docs in stored.items()}
    assert info.mongo.counts["FeatureFlag"] == 1 and info.mongo.counts["DocumentMetadata"] == 1
    # Only this tenant's documents, each pinned to its file's version; the part ends with its marker.
    docs = decode_all(gzip.decompress(b"".join(storage.read(part))))
    data = [d for d in docs if "$hrms" not in d]
    assert {d["tenantId"] for d in data} == {str(world.t.tenant_id)}
    (metadata,) = [d for d in data if "s3Key" in d]
    versions = storage.s3().list_object_versions(Bucket="hrms-documents-local", Prefix=metadata["s3Key"])["Versions"]
    assert metadata["s3VersionId"] == versions[0]["VersionId"]
    assert docs[-1]["$hrms"] == "end" and docs[-1]["counts"] == info.mongo.counts
    # Listed once, as one backup with both parts.
    (listed,) = service.list_backups("schema", world.created.slug).items
    assert listed.key == info.key and listed.mongo == info.mongo


# ----------------------------------------------------------------------------- restore


def test_a_tenant_restore_brings_both_stores_and_the_files_back_and_leaves_the_other_tenant_alone(world, other):
    before, rows_before = world.snapshot(), checksums(world.t.schema_name)
    backup = service.create_backup("schema", world.created.slug)

    world.change_everything()
    scramble(world.t.schema_name)
    other.change_everything()  # after A's backup: A's restore must not undo it
    other_docs, other_rows = raw_docs(other.t), checksums(other.t.schema_name)
    changed = world.snapshot()
    assert changed["file"] == SECOND and changed != before

    result = service.restore_backup(backup.key, world.created.tenant_id)

    after = world.snapshot()
    assert after == before  # settings and history, flag, form version, appraisals, documents, the file itself
    # The file's version from the backup is the object's current one again (noncurrent ones expire).
    (restored_doc,) = [d for d in raw_docs(world.t)["DocumentMetadata"] if d["_id"] == world.upload.document_id]
    latest = storage.s3().list_object_versions(Bucket="hrms-documents-local", Prefix=restored_doc["s3Key"])
    assert [v["VersionId"] for v in latest["Versions"] if v["IsLatest"]] == [restored_doc["s3VersionId"]]
    assert checksums(world.t.schema_name) == rows_before  # PostgreSQL consistent with it
    assert result.mongo_counts == backup.mongo.counts if backup.mongo else False
    assert raw_docs(other.t) == other_docs and checksums(other.t.schema_name) == other_rows
    assert freezes() == [] and staging_collections() == []
    # The safety backup holds both parts of the changed state, and is valid.
    safety = service.validate_backup(result.safety_backup_key or "")
    assert safety.valid and safety.mongo and safety.checks["mongoCounts"] is True
    assert safety.mongo.counts["Appraisal"] == 2 and safety.mongo.counts["DocumentMetadata"] == 2


def test_writes_are_frozen_with_503_and_retry_after_while_a_restore_runs(world):
    backup = service.create_backup("schema", world.created.slug)
    admin_user = _admin_context(world)
    seen: dict[str, Any] = {}

    def watch(phase: str, done: int, total: int | None) -> None:
        if phase == "mongo restore" and "write" not in seen:  # mid-restore: a write, then a read
            try:
                credentials.admit(admin_user, writing=True)
                seen["write"] = None
            except WritesFrozen as frozen:
                seen["write"] = problem_from(frozen)
            seen["read"] = credentials.admit(admin_user, writing=False).user_id

    service.restore_backup(backup.key, world.created.tenant_id, progress=watch)

    response = seen["write"]
    assert response is not None and response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1 and response.content_type == "application/problem+json"
    assert seen["read"] == admin_user["userId"]
    assert credentials.admit(admin_user, writing=True).user_id == admin_user["userId"]  # lifted afterwards


def _admin_context(world: World) -> dict[str, Any]:
    from hrms.auth.users import find_user_by_email

    user = find_user_by_email(world.created.slug, world.created.admin_email)
    with pgtools.live().connect() as conn:
        epoch = conn.execute(
            f'SELECT credentials_epoch FROM "{world.t.schema_name}".users WHERE id = %s',  # noqa: S608 - checked name
            (user.user_id,),
        ).fetchone()["credentials_epoch"]
    return {
        "userId": str(user.user_id),
        "role": user.role,
        "tenantId": str(world.t.tenant_id),
        "schemaName": world.t.schema_name,
        "credentialsEpoch": str(epoch),
    }


@pytest.mark.parametrize("how", ["bit-flipped", "no-end-marker"])
def test_a_damaged_mongo_part_is_invalid_and_refused_before_anything_changes(world, how):
    good = service.create_backup("schema", world.created.slug)
    damaged = damage_mongo_part(good.key, how)
    world.change_everything()
    docs, rows, backups = (
        raw_docs(world.t),
        checksums(world.t.schema_name, exclude=set()),
        schema_keys(world.t.schema_name),
    )

    validation = service.validate_backup(damaged)
    with pytest.raises(Invalid, match="failed validation"):
        service.restore_backup(damaged, world.created.slug)

    assert not validation.valid and any("MongoDB part" in p for p in validation.problems)
    assert validation.checks["sha256"] is True and validation.checks["trailer"] is True  # the dump itself is fine
    if how == "bit-flipped":
        assert validation.checks["mongoSha256"] is False
    else:
        assert validation.checks["mongoSha256"] is True and validation.checks["mongoEndMarker"] is False
    assert raw_docs(world.t) == docs and checksums(world.t.schema_name, exclude=set()) == rows
    assert schema_keys(world.t.schema_name) == backups  # not even a safety backup
    assert freezes() == []
    assert service.validate_backup(good.key).valid


def test_a_failure_in_the_mongo_swap_leaves_the_tenant_as_it_was(world, other):
    """A real fault mid-swap: one of the backup's settings-history documents now belongs to another
    tenant under the same _id (ids are unique per collection), so inserting it fails after the
    collections before it (Appraisal ... PendingAudit) were already replaced."""
    backup = service.create_backup("schema", world.created.slug)
    world.change_everything()
    scramble(world.t.schema_name)
    history = database()["SettingsAudit"]
    (first,) = [d for d in history.find({"tenantId": str(world.t.tenant_id)}) if d["version"] == 1]
    history.update_one({"_id": first["_id"]}, {"$set": {"tenantId": str(other.t.tenant_id)}})
    docs, rows, other_docs = raw_docs(world.t), checksums(world.t.schema_name, exclude=set()), raw_docs(other.t)
    seen = world.snapshot()

    with pytest.raises(Conflict, match="another tenant"):
        service.restore_backup(backup.key, world.created.slug)

    assert raw_docs(world.t) == docs  # every collection put back, those replaced before the fault too
    assert checksums(world.t.schema_name, exclude=set()) == rows  # PostgreSQL rolled back
    assert raw_docs(other.t) == other_docs and world.snapshot() == seen
    assert freezes() == [] and staging_collections() == []


def test_validation_trial_restores_the_mongo_part_into_a_scratch_database(world):
    backup = service.create_backup("schema", world.created.slug)
    names_before = set(database().client.list_database_names())

    result = service.validate_backup(backup.key, trial_restore=True)

    assert result.valid and result.checks["trialRestore"] is True and result.checks["mongoCounts"] is True
    assert set(database().client.list_database_names()) == names_before


def test_a_restore_that_died_is_settled_from_its_journal(world):
    """Two crashes, set up with the restore's own steps: after PostgreSQL committed (roll forward) and
    during the swap before it did (roll back). `recover` settles both and lifts the freezes."""
    backup = service.create_backup("schema", world.created.slug)
    verified = service.validate.verify(backup.key)
    world.change_everything()
    changed = raw_docs(world.t)
    tid, db_name = world.t.tenant_id, mongo_part.target_database(None)

    def crashed(pg_restored: bool) -> str:
        operation = secrets.token_hex(8)
        journal = restore._Journal(operation, tid, db_name, pgtools.live())
        journal.freeze(verified)
        assert verified.mongo is not None
        mongo_part.stage(verified.mongo, verified.mongo_check(), db_name, operation)
        mongo_part.keep_current(db_name, str(tid), operation)
        journal.record("swapping")
        mongo_part.replace(db_name, str(tid), operation, "new")  # ... and the process dies here
        if pg_restored:
            with pgtools.live().connect() as conn:
                conn.execute(repo.pg_restored_marker(operation))
        return operation

    crashed(pg_restored=False)
    with pytest.raises(Conflict, match="being restored already"):  # a frozen tenant takes no second restore
        service.restore_backup(backup.key, world.created.slug)
    assert service.recover_restores(older_than_s=3600) == []  # not idle long enough: maybe still running
    (rolled_back,) = service.recover_restores(older_than_s=0)
    assert rolled_back["action"] == "rolled back" and raw_docs(world.t) == changed

    crashed(pg_restored=True)
    (rolled_forward,) = service.recover_restores(older_than_s=0)
    assert rolled_forward["action"] == "rolled forward"
    assert verified.mongo_info is not None
    assert {name: len(docs) for name, docs in raw_docs(world.t).items()} == verified.mongo_info.counts
    assert freezes() == [] and staging_collections() == []


# ----------------------------------------------------------------------------- cleanup


def test_cleanup_removes_both_parts_and_mongo_parts_left_without_their_dump(world):
    from datetime import timedelta

    from hrms.backup.common import utc_now

    real = service.create_backup("schema", world.created.slug)
    now = utc_now() + timedelta(days=2)
    s3, bucket = storage.s3(), storage.bucket()

    def copy(days_ago: float, *, with_dump: bool = True) -> str:
        key = keys.schema_key(world.t.schema_name, now - timedelta(days=days_ago))
        if with_dump:
            s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": real.key})
        part = {"Bucket": bucket, "Key": keys.mongo_key(real.key)}
        s3.copy_object(Bucket=bucket, Key=keys.mongo_key(key), CopySource=part)
        return key

    old = [copy(d) for d in (40, 50, 60, 70)]
    orphan = keys.mongo_key(copy(1, with_dump=False))  # a backup interrupted after its MongoDB part

    report = service.cleanup_backups(30, 3, clock=lambda: now)

    assert sorted(report.expired) == sorted(old[2:])  # the newest 3 (the real one, 40 and 50 days) are kept
    left = {o["Key"] for o in storage.list_objects(keys.schema_prefix(world.t.schema_name))}
    kept = [real.key, *old[:2]]
    assert set(kept) | {keys.mongo_key(k) for k in kept} <= left
    assert not set(old[2:]) & left and not {keys.mongo_key(k) for k in old[2:]} & left
    assert orphan not in left


# ----------------------------------------------------------------------------- full backups


@pytest.mark.usefixtures("own_database", "staging")
def test_a_full_backup_restores_mongodb_too_over_the_live_database_and_into_a_target(platform_actor):
    world = World(new_tenant(platform_actor))
    before, everything = world.snapshot(), mongo_part.counts_of(mongo_part.target_database(None), None)
    backup = service.create_backup("full")
    assert backup.mongo is not None and backup.mongo.counts == everything

    into_staging = service.restore_backup(backup.key, target="staging")
    assert into_staging.mongo_counts == everything
    assert mongo_part.counts_of(mongo_part.target_database("staging"), None) == everything

    world.change_everything()
    result = service.restore_backup(backup.key)

    assert world.snapshot() == before and result.mongo_counts == everything
    assert staging_collections() == []
    safety = storage.head(result.safety_backup_key or "")
    assert keys.parse_counts(safety.metadata["mongo-counts"]) != everything  # the changed state
