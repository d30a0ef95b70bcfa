"""`hrms db indexes|analyze|vacuum|stats` and `hrms health` against the embedded stack."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from psycopg import sql

from hrms.db.postgres import connect, transaction
from hrms.migrations import maintenance


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _text(result: Any) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _index_defs(schema: str) -> dict[str, tuple[int, str]]:
    """Index name -> (oid, definition with the schema name taken out)."""
    with transaction() as conn:
        rows = conn.execute(
            "SELECT c.oid, c.relname AS name, pg_get_indexdef(c.oid) AS def FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = %s::regnamespace",
            (schema,),
        ).fetchall()
    return {row["name"]: (row["oid"], row["def"].replace(f"{schema}.", "")) for row in rows}


def _table_stats(schema: str) -> dict[str, dict[str, Any]]:
    with transaction() as conn:
        rows = conn.execute(
            "SELECT relname, last_analyze, last_vacuum, pg_relation_filenode(relid) AS filenode"
            " FROM pg_stat_user_tables WHERE schemaname = %s",
            (schema,),
        ).fetchall()
    return {row["relname"]: row for row in rows}


def _drop_indexes(schema: str, names: list[str]) -> None:
    with transaction() as conn:
        for name in names:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))


def test_indexes_recreates_every_dropped_index_of_one_tenant_only(cli, tenant, other_tenant):
    with connect() as conn:
        recreatable = sorted(name for name, create in maintenance.expected_indexes(conn).items() if create)
    assert {"users_email_key", "employees_manager_idx", "leaves_status_idx"} <= set(recreatable)
    theirs = _index_defs(other_tenant.schema_name)
    _drop_indexes(tenant.schema_name, recreatable)

    [report] = _json(cli("db", "indexes", "--tenant", tenant.slug, "--json"))

    assert report["schemaName"] == tenant.schema_name
    assert sorted(report["missing"]) == sorted(report["created"]) == recreatable
    assert report["failed"] == {}
    mine = _index_defs(tenant.schema_name)
    assert {name: d for name, (_, d) in mine.items()} == {name: d for name, (_, d) in theirs.items()}
    assert _index_defs(other_tenant.schema_name) == theirs  # same oids: not rebuilt
    [again] = _json(cli("db", "indexes", "--tenant", other_tenant.slug, "--json"))
    assert (again["missing"], again["created"]) == ([], [])


def test_indexes_dry_run_reports_missing_without_creating(cli, tenant):
    _drop_indexes(tenant.schema_name, ["employees_manager_idx"])

    result = cli("db", "indexes", "--tenant", tenant.slug, "--dry-run")

    assert result.exit_code == 1
    assert f"✗ {tenant.schema_name} ({tenant.slug}): employees_manager_idx is missing" in _text(result)
    assert "employees_manager_idx" not in _index_defs(tenant.schema_name)


def test_indexes_names_a_missing_constraint_index_it_cannot_create(cli, tenant):
    _drop_indexes(tenant.schema_name, ["employees_manager_idx"])
    with transaction() as conn:
        holidays = sql.Identifier(tenant.schema_name, "holidays")
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT holidays_pkey").format(holidays))

    result = cli("db", "indexes", "--tenant", tenant.slug)

    assert result.exit_code == 1
    where = f"{tenant.schema_name} ({tenant.slug})"
    assert f"✓ {where}: employees_manager_idx was missing, created" in _text(result)
    assert f"✗ {where}: holidays_pkey is missing, not created" in _text(result)
    assert "1 schema(s) checked: 2 index(es) missing, 1 created" in _text(result)


def test_indexes_lists_never_scanned_indexes_but_not_constraints(cli, tenant):
    [before] = _json(cli("db", "indexes", "--tenant", tenant.slug, "--json"))
    assert "employees_manager_idx" in before["unused"]
    assert not {"users_email_key", "users_pkey"} & set(before["unused"])

    with connect() as conn:
        conn.execute("SET enable_seqscan = off")
        employees = sql.Identifier(tenant.schema_name, "employees")
        conn.execute(sql.SQL("SELECT id FROM {} WHERE manager_id = %s").format(employees), (uuid.uuid4(),))
        conn.execute("SELECT pg_stat_force_next_flush()")  # flushed once the backend is idle again ...
        conn.execute("SELECT 1")  # ... which it has been by the time this answers

    [after] = _json(cli("db", "indexes", "--tenant", tenant.slug, "--json"))
    assert "employees_manager_idx" not in after["unused"]


def test_maintenance_commands_need_one_scope(cli):
    for command in ("indexes", "analyze", "vacuum"):
        for args in ((), ("--all", "--tenant", "x")):
            result = cli("db", command, *args)
            assert result.exit_code == 2, (command, args)
            assert "exactly one of --tenant SLUG or --all" in _text(result)


def test_analyze_one_tenant_leaves_another_alone(cli, tenant, other_tenant):
    theirs = _table_stats(other_tenant.schema_name)

    [run] = _json(cli("db", "analyze", "--tenant", tenant.slug, "--json"))

    assert (run["schemaName"], run["error"]) == (tenant.schema_name, None)
    mine = _table_stats(tenant.schema_name)
    assert run["tables"] == len(mine) >= 15
    assert all(row["last_analyze"] is not None for row in mine.values())
    assert _table_stats(other_tenant.schema_name) == theirs


def test_analyze_and_vacuum_all_reach_every_tenant(cli, tenant, other_tenant):
    runs = _json(cli("db", "analyze", "--all", "--json"))
    assert {tenant.schema_name, other_tenant.schema_name} <= {run["schemaName"] for run in runs}
    analyzed = {s: _table_stats(s) for s in (tenant.schema_name, other_tenant.schema_name)}
    assert all(row["last_analyze"] for tables in analyzed.values() for row in tables.values())

    result = cli("db", "vacuum", "--all", "--analyze")

    assert result.exit_code == 0, result.output
    assert re.search(r"✓ vacuumed \d+ tables in \d+ schema\(s\)", _text(result))
    for schema, before in analyzed.items():
        for name, row in _table_stats(schema).items():
            assert row["last_vacuum"] is not None, (schema, name)
            assert row["last_analyze"] > before[name]["last_analyze"], (schema, name)


def test_vacuum_full_rewrites_the_tenants_tables(cli, tenant, other_tenant):
    mine, theirs = _table_stats(tenant.schema_name), _table_stats(other_tenant.schema_name)

    [run] = _json(cli("db", "vacuum", "--tenant", tenant.slug, "--full", "--json"))

    assert run["error"] is None
    rewritten = _table_stats(tenant.schema_name)
    assert all(rewritten[name]["filenode"] != row["filenode"] for name, row in mine.items())
    assert {n: r["filenode"] for n, r in _table_stats(other_tenant.schema_name).items()} == {
        n: r["filenode"] for n, r in theirs.items()
    }


def test_stats_json_has_every_report_for_one_tenant(cli, tenant, other_tenant):
    cli("db", "analyze", "--tenant", tenant.slug)  # a statement that names the tenant's schema

    report = _json(cli("db", "stats", "--tenant", tenant.slug, "--json"))

    assert (report["tenant"], report["schemas"]) == (tenant.slug, 1)
    slow = report["slowStatements"]
    assert slow["available"] is True, slow["reason"]  # the embedded stack preloads pg_stat_statements
    assert slow["statements"]
    assert all(tenant.schema_name in s["query"] for s in slow["statements"])
    assert all(other_tenant.schema_name not in s["query"] for s in slow["statements"])
    usage = {row["index"]: row for row in report["indexUsage"]}
    assert {"users_pkey", "employees_manager_idx"} <= set(usage)
    assert all(row["schemas"] == 1 for row in usage.values())
    unused = {row["index"] for row in report["unusedIndexes"]}
    assert "employees_manager_idx" in unused
    assert not {"users_pkey", "users_email_key"} & unused
    assert set(report["cacheHitRatio"]) == {"tables", "indexes", "database"}
    assert 0 < report["cacheHitRatio"]["database"] <= 1
    connections = report["connections"]
    assert connections["total"] == sum(connections["byState"].values()) >= 1
    assert connections["byState"]["active"] >= 1
    assert connections["max"] >= connections["total"]


def test_stats_human_output_covers_all_tenants(cli, tenant):
    result = cli("db", "stats")

    assert result.exit_code == 0, result.output
    assert re.search(r"PostgreSQL statistics \(all \d+ tenant schemas\)", _text(result))
    for heading in ("Slowest statements", "Index usage", "Unused indexes", "Cache hit ratio:", "Connections:"):
        assert heading in _text(result)


def test_health_prints_each_store_and_exits_zero_when_ok(cli, reset_clients):
    result = cli("health")

    assert result.exit_code == 0, result.output
    assert re.search(r"✓ PostgreSQL: connected \(\d+ connections\)", _text(result))
    for line in ("✓ MongoDB: connected", "✓ Redis: connected", "✓ S3: bucket reachable", "Overall: ok"):
        assert line in _text(result)


def test_health_with_redis_down_is_degraded_with_exit_code_1(cli, reset_clients, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there

    result = cli("health")

    assert result.exit_code == 1, result.output
    assert "✗ Redis: unavailable (ConnectionError)" in _text(result)
    assert "✓ PostgreSQL: connected" in _text(result)
    assert "Overall: degraded (Redis unavailable: requests are still served)" in _text(result)
    report = json.loads(cli("health", "--json").stdout)
    assert report["status"] == "degraded"
    assert "refused" in report["checks"]["redis"]["reason"].lower()


def test_health_with_postgres_down_is_down_with_exit_code_2(cli, reset_clients, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://hrms@127.0.0.1:1/hrms")
    monkeypatch.setenv("PG_CONNECT_TIMEOUT_S", "1")

    result = cli("health")

    assert result.exit_code == 2, result.output
    assert "✗ PostgreSQL: unavailable" in _text(result)
    assert "Overall: down (PostgreSQL unavailable: the API answers 503)" in _text(result)
