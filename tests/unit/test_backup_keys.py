"""Backup keys: what each names (kind, schema, cell, time), the per-cell full backup layout, and refusal of
anything malformed; retention groups and the daily run's report of cells (no servers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hrms.backup import cleanup, keys, scheduled
from hrms.backup.models import DailyReport, NewBackup
from hrms.config import settings
from hrms.errors import Invalid
from hrms.observability import container_metrics

MOMENT = datetime(2025, 1, 15, 10, 30, 0, 123456, tzinfo=UTC)
TS = "2025-01-15T10-30-00.123Z"
SCHEMA = "tenant_acme_0000000a"


def test_the_default_cell_keeps_the_key_full_backups_always_had():
    key = keys.full_key(MOMENT)

    assert key == keys.full_key(MOMENT, "default") == f"backups/2025/1/backup_full_{TS}.sql.gz"
    assert keys.parse(key) == keys.BackupKey(key, "full", None, keys.at_millis(MOMENT), "default")


def test_another_cell_s_full_backup_names_the_cell():
    key = keys.full_key(MOMENT, "eu-2")

    assert key == f"backups/cells/eu-2/2025/1/backup_full_{TS}.sql.gz"
    parsed = keys.parse(key)
    assert parsed == keys.BackupKey(key, "full", None, keys.at_millis(MOMENT), "eu-2")
    assert keys.mongo_key(key) == f"backups/cells/eu-2/2025/1/backup_full_{TS}.mongo.gz"
    assert keys.of_mongo_key(keys.mongo_key(key)) == key
    assert keys.parse(keys.mongo_key(key)) is None  # a MongoDB part is never listed as a backup


def test_a_schema_key_says_no_cell():
    key = keys.schema_key(SCHEMA, MOMENT)

    assert keys.parse(key) == keys.BackupKey(key, "schema", SCHEMA, keys.at_millis(MOMENT), None)


def test_a_key_in_another_timezone_is_filed_under_its_utc_month():
    moment = datetime(2025, 2, 1, 4, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))  # 31 January, 23:00 UTC
    assert keys.full_key(moment, "b") == "backups/cells/b/2025/1/backup_full_2025-01-31T23-00-00.000Z.sql.gz"


@pytest.mark.parametrize(
    "key",
    [
        f"backups/cells/default/2025/1/backup_full_{TS}.sql.gz",  # the default cell has no cell folder
        f"backups/cells/B/2025/1/backup_full_{TS}.sql.gz",  # upper case
        f"backups/cells/9b/2025/1/backup_full_{TS}.sql.gz",  # must start with a letter
        f"backups/cells/b_c/2025/1/backup_full_{TS}.sql.gz",  # '_' is not in cell names
        f"backups/cells/{'b' * 41}/2025/1/backup_full_{TS}.sql.gz",  # over 40 characters
        f"backups/cells//2025/1/backup_full_{TS}.sql.gz",  # empty
        f"backups/cells/b/c/2025/1/backup_full_{TS}.sql.gz",  # nested
        f"backups/cells/../2025/1/backup_full_{TS}.sql.gz",
        f"backups/cells/b\n/2025/1/backup_full_{TS}.sql.gz",
        f"backups/cells/b/2025/2/backup_full_{TS}.sql.gz",  # the month is not the time's
        f"backups/cells/b/2024/1/backup_full_{TS}.sql.gz",  # nor the year
        f"backups/cells/b/2025/01/backup_full_{TS}.sql.gz",  # zero-padded month
        f"backups/cells/b/2025/13/backup_full_{TS}.sql.gz",
        "backups/cells/b/2025/1/backup_full_2025-01-15T10-30-00Z.sql.gz",  # no milliseconds
        "backups/cells/b/2025/1/backup_full_2025-02-30T10-30-00.123Z.sql.gz",  # no such day
        "backups/cells/b/٢٠٢٥/1/backup_full_٢٠٢٥-01-15T10-30-00.123Z.sql.gz",  # non-ASCII digits
        f"backups/٢٠٢٥/1/backup_full_{TS}.sql.gz",
        f"backups/cells/b/2025/1/backup_full_{TS}.sql",  # not gzip
        f"backups/cells/b/2025/1/backup_full_{TS}.sql.gz\n",
        f"backups/cells/b/2025/1/backup_schema_{TS}.sql.gz",  # a schema backup is not under a cell
        f"backups/cells/b/schemas/{SCHEMA}/backup_schema_{TS}.sql.gz",
        f"backups/incoming/cells/b/2025/1/backup_full_{TS}.sql.gz",
        f"/backups/cells/b/2025/1/backup_full_{TS}.sql.gz",
        f"backups/cells/b/2025/1/backup_full_{TS}.mongo.gz",
        "",
    ],
)
def test_malformed_keys_are_refused(key):
    assert keys.parse(key) is None
    with pytest.raises(Invalid, match="Not a backup key"):
        keys.parse_or_invalid(key)


@pytest.mark.parametrize("name", ["B", "9b", "b_c", "", "b" * 41, "b\n", "../b", "b/c", "é"])
def test_a_malformed_cell_name_is_a_422_before_any_key_is_made(name):
    with pytest.raises(Invalid, match="not a cell name"):
        keys.full_key(MOMENT, name)
    with pytest.raises(Invalid):
        keys.checked_cell(name)


def test_retention_groups_full_backups_by_cell_and_schema_backups_by_schema():
    now = datetime(2026, 6, 1, tzinfo=UTC)

    def parsed(name: str) -> keys.BackupKey:
        found = keys.parse(name)
        assert found is not None
        return found

    def full(days: int, cell: str = "default") -> keys.BackupKey:
        return parsed(keys.full_key(now - timedelta(days=days), cell))

    default = [full(d) for d in (1, 40, 50)]  # the newest default one is fresh ...
    cell_b = [full(d, "b") for d in (40, 50, 60)]  # ... but cell b has only old ones: its newest two stay
    schema = [parsed(keys.schema_key(SCHEMA, now - timedelta(days=d))) for d in (45, 55)]
    assert {b.group for b in default} == {("full", "default")} and {b.group for b in cell_b} == {("full", "b")}

    expired = cleanup.plan(default + cell_b + schema, retention_days=30, keep_last=2, clock=lambda: now)

    assert expired == sorted([default[2].key, cell_b[2].key])


def test_a_full_backup_body_takes_a_cell_and_a_schema_backup_none():
    assert NewBackup.model_validate({"kind": "full", "cell": "b"}).cell == "b"
    assert NewBackup.model_validate({"kind": "full"}).cell is None
    for body in (
        {"kind": "full", "cell": "B"},
        {"kind": "full", "cell": ""},
        {"kind": "full", "cell": "x" * 41},
        {"kind": "schema", "tenantId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "cell": "b"},
    ):
        with pytest.raises(ValueError):
            NewBackup.model_validate(body)


def test_the_daily_report_says_whether_every_cell_was_backed_up():
    both = DailyReport(full_key="k", schema_backups=0, failures={}, full_keys={"default": "k", "b": "kb"})
    one_failed = DailyReport(
        full_key="k", schema_backups=0, failures={"full:b": "down"}, full_keys={"default": "k"}, full_missing=["b"]
    )
    only_b = DailyReport(
        full_key=None, schema_backups=0, failures={"full": "down"}, full_keys={"b": "kb"}, full_missing=["default"]
    )

    assert both.every_cell_backed_up
    assert not one_failed.every_cell_backed_up and not only_b.every_cell_backed_up
    assert not DailyReport(full_key=None, schema_backups=3, failures={}).every_cell_backed_up


@pytest.mark.parametrize(
    ("cells_backed_up", "missing", "full_backups"),
    [({"default": "k", "b": "kb"}, [], 1.0), ({"default": "k"}, ["b"], 0.0), ({}, ["default"], 0.0)],
)
def test_full_backups_is_1_only_when_every_cell_was_backed_up_and_full_backup_cells_counts_them(
    cells_backed_up, missing, full_backups, capsys, monkeypatch
):
    """BackupMissingAlarm fires after 26 hours without a FullBackups of 1 (template.yaml): a cell whose full
    backup keeps failing must keep it at 0, whatever the other cells did."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused")
    settings.cache_clear()
    metrics = container_metrics()
    failures = {scheduled.failure_name(cell): "down" for cell in missing}
    report = DailyReport(
        full_key=cells_backed_up.get("default"),
        schema_backups=4,
        failures=failures,
        full_keys=cells_backed_up,
        full_missing=missing,
    )

    scheduled.publish_metrics(report, metrics)
    metrics.flush_metrics()

    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{") and "_aws" in x]
    assert line["FullBackups"] == [full_backups] and line["FullBackupCells"] == [float(len(cells_backed_up))]
    assert line["BackupFailures"] == [float(len(missing))]
    settings.cache_clear()
