"""Backups and restores against the real servers: PostgreSQL 18 (pg_dump/psql), moto S3, Valkey.

Tenant data is compared table by table with checksums of every row. `cache_epochs` is left out of
those comparisons on purpose: a restore moves every epoch past its pre-restore value so that no
read model cached before the restore can be served again (checked separately).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from hrms.backup import cleanup, keys, load, pgtools, service, storage
from hrms.backup.common import RestoreFailed, utc_now
from hrms.config import settings
from hrms.db.postgres import transaction
from hrms.errors import DependencyDown, Invalid, NotFound
from hrms.tenants import service as tenants
from hrms.tenants.models import NewTenant
from hrms_tools.cli.main import app, main
from hrms_tools.local.invoker import Containers
from hrms_tools.local.template import Template
from tests.conftest import ROOT

BOOKKEEPING = {"cache_epochs"}  # see the module docstring


# ----------------------------------------------------------------------------- helpers


def seed(schema: str, employees: int = 25) -> None:
    """Departments, designations, employees (with encrypted-looking PII), holidays, audit rows, cache epochs."""

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    with transaction() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (name, code) SELECT 'Dept ' || i, 'D' || i FROM generate_series(1, 5) i").format(
                t("departments")
            )
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (title, level, department_id) SELECT 'Role ' || i, i, d.id"
                " FROM generate_series(1, 5) i JOIN {} d ON d.code = 'D' || i"
            ).format(t("designations"), t("departments"))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (employee_code, email, first_name, last_name, department_id, designation_id,"
                " date_of_joining, pan_encrypted, pan_masked)"
                " SELECT 'EMP-' || lpad(i::text, 6, '0'), 'e' || i || '@example.com', 'First' || i, 'Last' || i,"
                " d.id, g.id, date '2020-01-01' + i, decode(md5(random()::text), 'hex'),"
                " 'XXXXX' || lpad(i::text, 4, '0') || 'X'"
                " FROM generate_series(1, %s) i JOIN {} d ON d.code = 'D' || (1 + i %% 5)"
                " JOIN {} g ON g.department_id = d.id"
            ).format(t("employees"), t("departments"), t("designations")),
            (employees,),
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (date, name) SELECT date '2025-01-01' + i, 'Holiday ' || i FROM generate_series(1, 3) i"
            ).format(t("holidays"))
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (actor_id, actor_role, action, entity_type, entity_id, after)"
                " SELECT 'seed', 'admin', 'employee.created', 'employee', id::text, jsonb_build_object('email', email)"
                " FROM {}"
            ).format(t("audit_logs"), t("employees"))
        )
        conn.execute(sql.SQL("INSERT INTO {} (name, epoch) VALUES ('org', 3), ('perms', 7)").format(t("cache_epochs")))


def checksums(schema: str, *, exclude: set[str] = BOOKKEEPING, db: Any = None) -> dict[str, tuple[int, str]]:
    """(rows, md5 of every row in a stable order) of each table of `schema` (in `db`, else the live database)."""
    with db.connect() if db is not None else transaction() as conn:
        tables = [
            row["tablename"]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
            if row["tablename"] not in exclude
        ]
        found = {}
        for table in sorted(tables):
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*) AS n, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) AS h"
                    " FROM {} r"
                ).format(sql.Identifier(schema, table))
            ).fetchone()
            found[table] = (row["n"], row["h"])
    return found


def epochs(schema: str) -> dict[str, int]:
    with transaction() as conn:
        rows = conn.execute(sql.SQL("SELECT name, epoch FROM {}").format(sql.Identifier(schema, "cache_epochs")))
        return {row["name"]: row["epoch"] for row in rows.fetchall()}


def tenant_row(tenant_id: Any) -> dict[str, Any]:
    with transaction() as conn:
        row = conn.execute("SELECT * FROM public.tenants WHERE id = %s", (tenant_id,)).fetchone()
    assert row is not None
    return dict(row)


def scramble(schema: str) -> None:
    """Change, add and drop data: what a bad import or a buggy release might do."""

    def t(table: str) -> sql.Identifier:
        return sql.Identifier(schema, table)

    with transaction() as conn:
        conn.execute(sql.SQL("UPDATE {} SET name = 'Renamed ' || code").format(t("departments")))
        conn.execute(sql.SQL("UPDATE {} SET status = 'terminated', last_name = 'Gone'").format(t("employees")))
        conn.execute(sql.SQL("DELETE FROM {}").format(t("audit_logs")))
        conn.execute(sql.SQL("DELETE FROM {}").format(t("holidays")))
        conn.execute(sql.SQL("INSERT INTO {} (name, code) VALUES ('Intruder', 'X1')").format(t("departments")))
        conn.execute(sql.SQL("UPDATE {} SET epoch = epoch + 10 WHERE name = 'org'").format(t("cache_epochs")))


def schema_keys(schema: str) -> list[str]:
    """The schema's backups (their dumps' keys; each MongoDB part lies beside its dump)."""
    return sorted(o["Key"] for o in storage.list_objects(keys.schema_prefix(schema)) if keys.parse(o["Key"]))


def unfinished_uploads() -> list[dict[str, Any]]:
    return list(storage.stale_uploads(keys.PREFIX))


def new_tenant(platform_actor: Any) -> Any:
    slug = f"bk-{secrets.token_hex(5)}"
    return tenants.create_tenant(
        NewTenant(name=f"Backup {slug}", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
    )


def damaged_copy(key: str, how: str) -> str:
    """A copy of a backup, damaged, under a new key of the same schema, metadata kept (as if S3 held bad bytes)."""
    info = storage.head(key)
    data = b"".join(storage.read(info))
    metadata = dict(info.metadata)
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "bit-flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0x10]) + data[middle + 1 :]
    elif how == "cut-short-dump":  # a well-formed gzip of a dump that stops early, with matching sha256/size
        dump = gzip.decompress(data)
        data = gzip.compress(dump[: dump.index(b"\nCOPY ")])
        metadata.update(sha256=hashlib.sha256(data).hexdigest(), size=str(len(data)))
    parsed = keys.parse(key)
    assert parsed is not None and parsed.schema_name
    damaged = keys.schema_key(parsed.schema_name, parsed.created_at + timedelta(milliseconds=1))
    storage.s3().put_object(Bucket=storage.bucket(), Key=damaged, Body=data, Metadata=metadata)
    return damaged


@pytest.fixture
def other_tenant(platform_actor: Any) -> Any:
    return new_tenant(platform_actor)


@pytest.fixture
def own_database(stack: Any, reset_clients: None) -> Iterator[str]:
    """A fresh, migrated database (and MongoDB database) that is THE live one of one test (a full restore
    replaces it all)."""
    from hrms.backup import mongo_part
    from hrms.migrations import runner

    name = f"hrms_live_{secrets.token_hex(4)}"
    original, original_mongo = os.environ["DATABASE_URL"], os.environ.get("MONGODB_DATABASE")
    server = pgtools.live()
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = make_conninfo(original, dbname=name)
    os.environ["MONGODB_DATABASE"] = name
    _forget_database()
    try:
        runner.up()
        yield name
    finally:
        for mongo_db in (name, f"{name}_staging"):
            mongo_part.drop_database(mongo_db)
        os.environ["DATABASE_URL"] = original
        if original_mongo is None:
            os.environ.pop("MONGODB_DATABASE", None)
        else:
            os.environ["MONGODB_DATABASE"] = original_mongo
        _forget_database()
        with server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _forget_database() -> None:
    from hrms.db.postgres import close_pool

    close_pool()
    settings.cache_clear()


@pytest.fixture
def staging(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second database on the same server, configured as the restore target "staging"."""
    name = f"hrms_staging_{secrets.token_hex(4)}"
    live = pgtools.live()
    with live.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = live.with_dbname(name).conninfo
    monkeypatch.setenv("RESTORE_TARGETS", json.dumps({"staging": url}))
    settings.cache_clear()
    try:
        yield name
    finally:
        monkeypatch.delenv("RESTORE_TARGETS")
        settings.cache_clear()
        with live.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ----------------------------------------------------------------------------- backup


def test_schema_backup_is_a_gzipped_plain_dump_with_metadata_at_the_guide_key(tenant):
    seed(tenant.schema_name, employees=5)
    info = service.create_backup("schema", tenant.slug)

    assert info.key.startswith(f"backups/schemas/{tenant.schema_name}/backup_schema_")
    assert keys.parse(info.key) == keys.BackupKey(info.key, "schema", tenant.schema_name, info.created_at)
    head = storage.head(info.key)
    assert head.size == info.size_bytes
    meta = head.metadata
    assert meta["sha256"] == info.sha256 and meta["size"] == str(info.size_bytes)
    assert meta["kind"] == "schema" and meta["schema"] == tenant.schema_name
    assert meta["pg-version"].startswith("18") and meta["schema-version"] == str(
        tenant_row(tenant.tenant_id)["schema_version"]
    )
    dump = gzip.decompress(b"".join(storage.read(head)))
    assert b"-- PostgreSQL database dump complete" in dump[-4096:]
    assert f"CREATE SCHEMA {tenant.schema_name};".encode() in dump
    guard = b"EXECUTE FUNCTION public.hrms_tenant_write_guard()"  # its tables' triggers call the public write guard
    assert b"public." not in dump.replace(b"pg_catalog.", b"").replace(guard, b"")  # it holds nothing of public.*
    assert not list(storage.list_objects(keys.INCOMING_PREFIX))  # the temporary upload is gone


def test_full_backup_key_uses_year_and_unpadded_month(stack):
    info = service.create_backup("full")
    created = info.created_at
    assert info.key == f"backups/{created.year}/{created.month}/backup_full_{keys.stamp(created)}.sql.gz"
    assert ":" not in info.key
    assert storage.head(info.key).metadata["kind"] == "full"


def test_list_filters_by_kind_tenant_and_date(tenant, other_tenant):
    first = service.create_backup("schema", tenant.slug)
    second = service.create_backup("schema", tenant.slug)
    other = service.create_backup("schema", other_tenant.slug)

    mine = service.list_backups("schema", tenant.tenant_id).items
    assert [b.key for b in mine] == [second.key, first.key]  # newest first
    assert mine[0].sha256 == second.sha256 and mine[0].size_bytes == second.size_bytes
    assert [b.key for b in service.list_backups(tenant=tenant.slug, since=second.created_at).items] == [second.key]
    assert other.key not in {b.key for b in mine}
    assert all(b.kind == "full" for b in service.list_backups("full").items)
    page = service.list_backups("schema", tenant.slug, limit=1)
    assert [b.key for b in page.items] == [second.key] and page.next_cursor
    assert [b.key for b in service.list_backups("schema", tenant.slug, limit=1, cursor=page.next_cursor).items] == [
        first.key
    ]


# ----------------------------------------------------------------------------- restore


def test_round_trip_restores_every_table_of_one_tenant_and_leaves_the_other_alone(tenant, other_tenant):
    a, b = tenant.schema_name, other_tenant.schema_name
    seed(a)
    seed(b, employees=10)
    before_a, row_a, epochs_a = checksums(a), tenant_row(tenant.tenant_id), epochs(a)
    backup = service.create_backup("schema", tenant.slug)

    scramble(a)
    scramble(b)  # B changes too, after A's backup: the restore of A must not undo it
    assert checksums(a) != before_a
    scrambled_b, row_b, scrambled_epochs_a = checksums(b), tenant_row(other_tenant.tenant_id), epochs(a)

    result = service.restore_backup(backup.key, tenant.slug)

    assert checksums(a) == before_a
    assert checksums(b) == scrambled_b
    assert tenant_row(tenant.tenant_id) == row_a and tenant_row(other_tenant.tenant_id) == row_b
    assert result.restored_schemas == [a] and result.target == "live"
    assert result.row_counts[f"{a}.employees"] == 25 and result.schema_version == row_a["schema_version"]
    # Every cache epoch moved past anything a reader may have cached before the restore.
    assert set(epochs(a)) == set(epochs_a)
    assert all(epochs(a)[name] > max(epochs_a[name], scrambled_epochs_a[name]) for name in epochs_a)
    # The safety backup holds the scrambled state and is itself a valid backup.
    safety = result.safety_backup_key
    assert safety and safety in schema_keys(a) and storage.head(safety).metadata["reason"] == "pre-restore"
    assert service.validate_backup(safety).valid


def test_restoring_a_dropped_schema_brings_it_back(tenant):
    seed(tenant.schema_name, employees=3)
    before = checksums(tenant.schema_name)
    backup = service.create_backup("schema", tenant.slug)
    with transaction() as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(tenant.schema_name)))

    result = service.restore_backup(backup.key, tenant.tenant_id)

    assert checksums(tenant.schema_name) == before
    assert result.safety_backup_key is None  # nothing was there to save


def test_a_restore_for_another_tenant_is_refused(tenant, other_tenant):
    backup = service.create_backup("schema", tenant.slug)
    with pytest.raises(Invalid, match="not of this tenant's schema"):
        service.restore_backup(backup.key, other_tenant.slug)
    with pytest.raises(Invalid, match="whole database"):
        service.restore_backup(service.create_backup("full").key, tenant.slug)


def test_full_backup_restores_into_the_staging_target(own_database, staging, platform_actor):
    a, b = new_tenant(platform_actor), new_tenant(platform_actor)
    seed(a.schema_name, employees=12)
    seed(b.schema_name, employees=3)
    schemas = ["public", a.schema_name, b.schema_name]
    expected = {schema: checksums(schema, exclude=set()) for schema in schemas}
    backup = service.create_backup("full")

    result = service.restore_backup(backup.key, target="staging")

    assert result.target == "staging" and result.safety_backup_key is None
    assert result.restored_schemas == sorted(schemas)
    assert result.row_counts[f"{a.schema_name}.employees"] == 12
    staging_db = pgtools.target("staging")
    assert {schema: checksums(schema, exclude=set(), db=staging_db) for schema in schemas} == expected
    assert {schema: checksums(schema, exclude=set()) for schema in schemas} == expected  # live untouched

    # A schema backup can then be restored into staging too (its registry knows the tenant) ...
    scramble(a.schema_name)
    again = service.restore_backup(service.create_backup("schema", a.slug).key, a.slug, target="staging")
    assert again.restored_schemas == [a.schema_name] and again.safety_backup_key is None
    assert checksums(a.schema_name, db=staging_db) == checksums(a.schema_name)
    # ... and a full restore replaces whatever the target held.
    service.restore_backup(backup.key, target="staging")
    assert checksums(a.schema_name, exclude=set(), db=staging_db) == expected[a.schema_name]


def test_full_restore_over_the_live_database_is_all_or_nothing(own_database, platform_actor):
    a, b = new_tenant(platform_actor), new_tenant(platform_actor)
    seed(a.schema_name)
    seed(b.schema_name, employees=4)
    before = {t.schema_name: checksums(t.schema_name) for t in (a, b)}
    registry = checksums("public", exclude=set())["tenants"]
    epochs_before = epochs(a.schema_name)
    backup = service.create_backup("full")
    scramble(a.schema_name)
    scramble(b.schema_name)
    late = new_tenant(platform_actor)  # created after the backup: a full restore removes it

    result = service.restore_backup(backup.key)

    assert {t.schema_name: checksums(t.schema_name) for t in (a, b)} == before
    assert checksums("public", exclude=set())["tenants"] == registry
    assert late.schema_name not in result.restored_schemas
    with transaction() as conn:
        assert conn.execute("SELECT to_regnamespace(%s) AS s", (late.schema_name,)).fetchone()["s"] is None
    assert all(epochs(a.schema_name)[name] > epoch for name, epoch in epochs_before.items())
    safety = keys.parse(result.safety_backup_key or "")
    assert safety is not None and safety.kind == "full"
    assert storage.head(safety.key).metadata["reason"] == "pre-restore"


def test_a_full_restore_too_big_for_one_transaction_changes_nothing_and_says_why(own_database, platform_actor):
    with transaction() as conn:
        capacity = conn.execute(
            "SELECT current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int"
            " + current_setting('max_prepared_transactions')::int) AS n"
        ).fetchone()["n"]
    if capacity > 15_000:
        pytest.skip("this server's lock table is large enough for a few dozen tenants")
    created = [new_tenant(platform_actor) for _ in range(capacity // 200)]  # ~300 locks per schema, and slack
    backup = service.create_backup("full")
    first = created[0].schema_name
    scramble(first)
    before = checksums(first, exclude=set())

    with pytest.raises(RestoreFailed, match="max_locks_per_transaction") as failed:
        service.restore_backup(backup.key)

    assert "nothing was changed" in failed.value.detail
    assert checksums(first, exclude=set()) == before


def test_unknown_target_is_refused(tenant):
    backup = service.create_backup("schema", tenant.slug)
    with pytest.raises(Invalid, match="Unknown restore target"):
        service.restore_backup(backup.key, target="nowhere")


# ----------------------------------------------------------------------------- damaged backups


@pytest.mark.parametrize("how", ["truncated", "bit-flipped", "cut-short-dump"])
def test_damaged_backup_is_invalid_and_restore_changes_nothing(tenant, how):
    seed(tenant.schema_name, employees=40)
    good = service.create_backup("schema", tenant.slug)
    damaged = damaged_copy(good.key, how)
    scramble(tenant.schema_name)
    before, backups_before = checksums(tenant.schema_name, exclude=set()), schema_keys(tenant.schema_name)

    validation = service.validate_backup(damaged)
    with pytest.raises(Invalid, match="failed validation"):
        service.restore_backup(damaged, tenant.slug)

    assert not validation.valid and validation.problems
    if how == "cut-short-dump":
        assert validation.checks["sha256"] and validation.checks["gzip"] and not validation.checks["trailer"]
    else:
        assert validation.checks["sha256"] is False
    assert checksums(tenant.schema_name, exclude=set()) == before  # not a row changed, epochs included
    assert schema_keys(tenant.schema_name) == backups_before  # not even a safety backup was taken
    assert service.validate_backup(good.key).valid


def test_a_backup_damaged_while_it_streams_is_rolled_back(tenant):
    """The last line of defence: load() checks while streaming and never lets psql commit a bad object."""
    backup = service.create_backup("schema", tenant.slug)
    info = storage.head(backup.key)
    lying = storage.ObjectInfo(info.key, info.size, info.etag, {**info.metadata, "sha256": "0" * 64})
    marker = f"hrms_should_not_exist_{secrets.token_hex(3)}"

    with pytest.raises(Invalid, match="damaged"):
        load.load(pgtools.live(), lying, prelude=f"CREATE TABLE public.{marker} (id int);")

    with transaction() as conn:
        assert conn.execute("SELECT to_regclass(%s) AS t", (f"public.{marker}",)).fetchone()["t"] is None


def test_trial_restore_into_a_scratch_database(tenant):
    seed(tenant.schema_name, employees=3)
    backup = service.create_backup("schema", tenant.slug)
    with transaction() as conn:
        databases_before = {r["datname"] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}

    result = service.validate_backup(backup.key, trial_restore=True)

    assert result.valid and result.checks["trialRestore"] is True
    with transaction() as conn:
        assert {r["datname"] for r in conn.execute("SELECT datname FROM pg_database").fetchall()} == databases_before


def test_unknown_and_malformed_keys(stack):
    with pytest.raises(NotFound):
        service.validate_backup("backups/schemas/tenant_nobody_00000000/backup_schema_2020-01-01T00-00-00.000Z.sql.gz")
    with pytest.raises(Invalid, match="Not a backup key"):
        service.validate_backup("backups/../../etc/passwd")


# ----------------------------------------------------------------------------- cleanup


def test_cleanup_keeps_the_newest_n_and_removes_only_expired_ones(tenant, other_tenant):
    clock_now = utc_now() + timedelta(days=2)  # the injected clock: two days ahead of the real one

    def clock() -> Any:
        return clock_now

    real = service.create_backup("schema", tenant.slug)

    def fake(schema: str, days_ago: float) -> str:
        key = keys.schema_key(schema, clock_now - timedelta(days=days_ago))
        storage.s3().copy_object(
            Bucket=storage.bucket(), Key=key, CopySource={"Bucket": storage.bucket(), "Key": real.key}
        )
        return key

    a = {d: fake(tenant.schema_name, d) for d in (0.5, 5, 20, 31, 45, 60, 90)}
    b = {d: fake(other_tenant.schema_name, d) for d in (100, 200)}  # old, but the newest of their schema
    stale_object = f"{keys.INCOMING_PREFIX}{secrets.token_hex(8)}{keys.SUFFIX}"
    storage.s3().put_object(Bucket=storage.bucket(), Key=stale_object, Body=b"partial")
    stale_upload = storage.s3().create_multipart_upload(Bucket=storage.bucket(), Key=stale_object)["UploadId"]
    expected = sorted(a[d] for d in (31, 45, 60, 90))

    dry = service.cleanup_backups(30, 3, dry_run=True, clock=clock)
    assert dry.dry_run and dry.expired == expected  # nothing else in the bucket is past retention
    assert set(expected) <= set(schema_keys(tenant.schema_name))  # a dry run deletes nothing
    later = cleanup.cleanup(retention_days=30, keep_last=1, dry_run=True, clock=lambda: clock_now + timedelta(days=365))
    assert {k for k in later.expired if tenant.schema_name in k} == set(a.values()) - {a[0.5]} | {real.key}
    assert {k for k in later.expired if other_tenant.schema_name in k} == {b[200]}

    report = service.cleanup_backups(30, 3, clock=clock)

    assert report.expired == expected and not report.dry_run
    assert schema_keys(tenant.schema_name) == sorted([real.key, a[0.5], a[5], a[20]])
    assert schema_keys(other_tenant.schema_name) == sorted(b.values())
    assert report.stale_uploads_removed >= 2
    assert stale_object not in {o["Key"] for o in storage.list_objects(keys.INCOMING_PREFIX)}
    assert stale_upload not in {u["UploadId"] for u in unfinished_uploads()}


def test_cleanup_plan_groups_by_kind_and_schema():
    now = utc_now()

    def key(kind: str, days: int, schema: str = "tenant_x_0000000a") -> keys.BackupKey:
        moment = keys.at_millis(now - timedelta(days=days))
        name = keys.full_key(moment) if kind == "full" else keys.schema_key(schema, moment)
        parsed = keys.parse(name)
        assert parsed is not None
        return parsed

    backups = [key("full", d) for d in (40, 50, 60)] + [key("schema", d) for d in (40, 50)]
    backups += [key("schema", 70, "tenant_y_0000000b")]
    expired = cleanup.plan(backups, retention_days=30, keep_last=2, clock=lambda: now)
    assert expired == sorted([backups[2].key])


# ----------------------------------------------------------------------------- scheduled functions


def test_scheduled_backup_and_cleanup_functions_with_the_sample_events(
    tenant, other_tenant, platform_actor, monkeypatch
):
    from hrms.backup import scheduled

    suspended = new_tenant(platform_actor)
    with transaction() as conn:
        conn.execute("UPDATE public.tenants SET status = 'suspended' WHERE id = %s", (suspended.tenant_id,))
        active = [
            r["schema_name"] for r in conn.execute("SELECT schema_name FROM public.tenants WHERE status = 'active'")
        ]
    # Every active tenant, and only those, is on the daily run's list ...
    assert sorted(scheduled.active_schemas()) == sorted(active) and suspended.schema_name not in active
    # ... which is cut down to two here: each pg_dump reads the whole catalog, and the session holds hundreds.
    monkeypatch.setattr(scheduled, "active_schemas", lambda: [tenant.schema_name, other_tenant.schema_name])
    containers = Containers(Template.load(ROOT / "template.yaml").functions)
    started = utc_now()

    report = containers.get("BackupFunction").invoke(json.loads((ROOT / "events/backup/scheduled.json").read_text()))

    assert report == {
        "fullKey": report["fullKey"],
        "schemaBackups": 2,
        "failures": {},
        "fullKeys": {"default": report["fullKey"]},  # one cell, the normal deploy
        "fullMissing": [],
    }
    full = keys.parse(report["fullKey"])
    assert full is not None and (full.kind, full.cell) == ("full", "default")
    assert storage.head(report["fullKey"]).metadata["reason"] == "scheduled"
    for t in (tenant, other_tenant):
        assert [b.reason for b in service.list_backups("schema", t.slug, since=started).items] == ["scheduled"]
    assert unfinished_uploads() == []

    cleaned = containers.get("BackupCleanupFunction").invoke(
        json.loads((ROOT / "events/backup_cleanup/scheduled.json").read_text())
    )
    assert cleaned["dryRun"] is False and cleaned["retentionDays"] == 30 and cleaned["keepLast"] == 3
    assert storage.head(report["fullKey"])  # fresh backups are never expired


def test_scheduled_run_reports_failures_and_fails_the_invocation(tenant, monkeypatch):
    from hrms.backup import dump, scheduled

    real = dump.backup_schema

    def flaky(schema: str, **kwargs: Any) -> Any:
        if schema == tenant.schema_name:
            raise DependencyDown("S3 is unavailable: could not start an upload.")
        return real(schema, **kwargs)

    monkeypatch.setattr(dump, "backup_schema", flaky)
    monkeypatch.setattr(scheduled, "active_schemas", lambda: [tenant.schema_name, "tenant_demo_00000001"])
    template = Template.load(ROOT / "template.yaml")
    handler = Containers(template.functions).get("BackupFunction")

    with pytest.raises(RuntimeError, match="1 backup"):
        handler.invoke(json.loads((ROOT / "events/backup/scheduled.json").read_text()))


# ----------------------------------------------------------------------------- S3 outage


def test_s3_down_is_a_clear_error_and_leaves_nothing_behind(stack, tenant, reset_clients, monkeypatch, capsys):
    stack.stop_service("aws")
    try:
        with pytest.raises(DependencyDown, match="S3 is unavailable"):
            service.create_backup("schema", tenant.slug)
        monkeypatch.setattr(sys, "argv", ["hrms", "backup", "schema", "--tenant", tenant.slug])
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 1
        assert "S3 is unavailable" in capsys.readouterr().out
    finally:
        stack.start_service("aws")
    settings.cache_clear()
    from hrms import aws

    aws.client.cache_clear()
    assert schema_keys(tenant.schema_name) == []
    assert unfinished_uploads() == []


def test_s3_failing_mid_upload_aborts_it(tenant, monkeypatch):
    """S3 accepts the upload, then fails a part: the upload is aborted, no object appears."""
    from botocore.exceptions import EndpointConnectionError

    seed(tenant.schema_name, employees=5)

    def failing(self: Any, number: int, body: bytes) -> Any:
        raise EndpointConnectionError(endpoint_url="http://s3")

    monkeypatch.setattr(storage.MultipartUpload, "_upload_part", failing)
    with pytest.raises(DependencyDown):
        service.create_backup("schema", tenant.slug)
    assert schema_keys(tenant.schema_name) == []
    assert unfinished_uploads() == []
    assert not list(storage.list_objects(keys.INCOMING_PREFIX))


# ----------------------------------------------------------------------------- CLI


def test_cli_backup_list_validate_restore_and_cleanup(tenant):
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, ["backup", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output) if "--json" in args else result.output

    seed(tenant.schema_name, employees=4)
    before = checksums(tenant.schema_name)
    created = run("schema", "--tenant", tenant.slug, "--json")
    assert (
        created["key"].startswith(f"backups/schemas/{tenant.schema_name}/") and created["schema"] == tenant.schema_name
    )
    listed = run("list", "--tenant", tenant.slug, "--json")
    assert [item["key"] for item in listed] == [created["key"]] and listed[0]["sha256"] == created["sha256"]
    assert "created (UTC)" in run("list", "--kind", "schema")
    assert run("validate", "--key", created["key"], "--json")["valid"] is True
    scramble(tenant.schema_name)
    restored = run("restore", "--key", created["key"], "--tenant", tenant.slug, "--yes", "--json")
    assert restored["restoredSchemas"] == [tenant.schema_name]
    assert checksums(tenant.schema_name) == before
    assert "would delete" in run("cleanup", "--dry-run", "--retention-days", "30", "--keep-last", "3")

    damaged = damaged_copy(created["key"], "bit-flipped")
    result = runner.invoke(app, ["backup", "validate", "--key", damaged])
    assert result.exit_code == 1 and "invalid" in result.output
