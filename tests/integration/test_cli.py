"""The `hrms` command against the session stack (DATABASE_URL set, so no `hrms dev` is needed)."""

from __future__ import annotations

import json
import os
import secrets
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from hrms.auth import tokens
from hrms.migrations.files import latest_version
from hrms_tools.cli.main import app, main


@pytest.fixture
def cli(stack: Any) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _slug() -> str:
    return f"cli-{secrets.token_hex(5)}"


def _create(cli: Any, slug: str) -> dict[str, Any]:
    return _json(cli("tenant", "create", "--name", "CLI Co", "--slug", slug, "--email", f"Admin@{slug}.io", "--json"))


def test_tenant_create_prints_the_new_tenant_and_its_temporary_password(cli):
    slug = _slug()
    created = _create(cli, slug)
    assert created["slug"] == slug
    assert created["status"] == "active"
    assert created["adminEmail"] == f"admin@{slug}.io"  # emails are stored lower-case
    assert created["schemaName"].startswith(f"tenant_{slug.replace('-', '_')}_")
    assert len(created["adminTemporaryPassword"]) >= 12


def test_tenant_create_human_output_names_schema_and_password(cli):
    slug = _slug()
    result = cli("tenant", "create", "--name", "CLI Co", "--slug", slug, "--email", f"a@{slug}.io")
    assert result.exit_code == 0, result.output
    assert f"Tenant {slug} created" in result.output
    assert "temporary password" in result.output


def test_tenant_list_json_includes_created_tenants(cli):
    slugs = {_create(cli, _slug())["slug"] for _ in range(2)}
    listed = _json(cli("tenant", "list", "--json"))
    by_slug = {item["slug"]: item for item in listed}
    assert slugs <= set(by_slug)
    for slug in slugs:
        assert by_slug[slug]["employeeCount"] == 0
        assert by_slug[slug]["status"] == "active"
    assert [item["slug"] for item in listed] == sorted(by_slug)


def test_tenant_check_json_reports_a_healthy_schema(cli):
    created = _create(cli, _slug())
    for key in (created["slug"], created["tenantId"]):
        report = _json(cli("tenant", "check", key, "--json"))
        assert report["healthy"] is True
        assert report["schemaExists"] is True
        assert report["schemaVersion"] == report["latestVersion"] == latest_version("tenant")
        assert {"users", "employees", "leave_types"} <= set(report["tables"])


def test_tenant_check_of_unknown_tenant_fails(cli):
    from hrms.errors import NotFound

    with pytest.raises(NotFound):
        cli("tenant", "check", "no-such-tenant")


def test_tenant_suspend_and_activate(cli):
    slug = _create(cli, _slug())["slug"]
    suspended = cli("tenant", "suspend", slug)
    assert suspended.exit_code == 0, suspended.output
    assert f"{slug} is now suspended" in suspended.output
    assert _json(cli("tenant", "check", slug, "--json"))["status"] == "suspended"
    assert slug in {item["slug"] for item in _json(cli("tenant", "list", "--status", "suspended", "--json"))}

    activated = cli("tenant", "activate", slug)
    assert activated.exit_code == 0, activated.output
    assert f"{slug} is now active" in activated.output
    assert _json(cli("tenant", "check", slug, "--json"))["status"] == "active"


def test_migrate_status_json_is_up_to_date(cli):
    state = _json(cli("migrate", "status", "--json"))
    assert state["upToDate"] is True
    assert state["publicVersion"] == state["publicLatest"] == latest_version("public")
    assert state["tenantsBehind"] == 0
    assert state["tenantsTotal"] >= 1


def test_migrate_up_on_an_up_to_date_database_does_nothing(cli):
    result = _json(cli("migrate", "up", "--json"))
    assert result == {"publicApplied": [], "tenantsMigrated": 0, "failures": {}}


def test_health_json_reports_every_store_ok(cli, reset_clients):
    report = _json(cli("health", "--json"))
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"postgres", "mongo", "redis", "s3"}
    assert all(check["ok"] for check in report["checks"].values())


def test_token_for_platform_admin_verifies(cli):
    result = cli("token", "--platform-admin", "--ttl", "120")
    assert result.exit_code == 0, result.output
    claims = tokens.verify(result.output.strip())
    assert claims.role == "platform_admin"
    assert claims.tid is None


def test_token_for_tenant_user_verifies(cli):
    created = _create(cli, _slug())
    result = cli("token", "--tenant", created["slug"], "--email", created["adminEmail"])
    assert result.exit_code == 0, result.output
    claims = tokens.verify(result.output.strip())
    assert (claims.role, claims.tid) == ("admin", created["tenantId"])


def test_token_uses_the_stack_of_its_data_dir(cli, stack, tmp_path):
    saved = dict(os.environ)
    try:
        del os.environ["DATABASE_URL"]  # as outside AWS: the CLI adopts the stack `hrms dev` runs there
        elsewhere = cli("token", "--platform-admin", "--data-dir", str(tmp_path))
        assert elsewhere.exit_code == 2
        assert f"No running stack found under {tmp_path}/" in " ".join(elsewhere.output.split())
        result = cli("token", "--platform-admin", "--data-dir", str(stack.data_dir))
        assert result.exit_code == 0, result.output
        assert os.environ["DATABASE_URL"] == stack.env["DATABASE_URL"]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert tokens.verify(result.output.strip()).role == "platform_admin"


def test_token_without_a_subject_is_a_usage_error(cli):
    result = cli("token")
    assert result.exit_code == 2
    assert "--platform-admin" in result.output


def test_entry_point_prints_domain_errors_as_one_line(stack, monkeypatch, capsys):
    slug = _slug()
    args = ["hrms", "tenant", "create", "--name", "Dup", "--slug", slug, "--email", f"a@{slug}.io", "--json"]
    monkeypatch.setattr(sys, "argv", args)
    with pytest.raises(SystemExit) as first:
        main()
    assert first.value.code in (0, None)
    with pytest.raises(SystemExit) as second:
        main()
    assert second.value.code == 1
    assert "already taken" in capsys.readouterr().out


def test_entry_point_reports_invalid_input_without_traceback(stack, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["hrms", "tenant", "create", "--name", "X", "--slug", "Bad Slug", "--email", "x"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    out = capsys.readouterr().out
    assert "slug" in out
    assert "Traceback" not in out
