"""Fixtures shared by integration tests: a small organisation (leave, approvals, payroll), the CLI."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from typer.testing import CliRunner

from hrms.tenants import service
from hrms.tenants.models import NewTenant
from hrms_tools.cli.main import app
from tests.integration.leave_world import World


@pytest.fixture
def world(tenant: Any) -> World:
    return World.create(tenant)


@pytest.fixture
def team(world: World) -> dict[str, Any]:
    """A manager with one report, their users, and an HR manager."""
    manager = world.hire()
    employee = world.hire(manager_id=manager)
    return {
        "manager": manager,
        "employee": employee,
        "manager_user": world.user(manager, "manager"),
        "employee_user": world.user(employee, "employee"),
        "hr": world.user(None, "hr_manager"),
    }


@pytest.fixture
def cli(stack: Any) -> Any:
    """Run `hrms ...` in-process: cli("cache", "flush", "--tenant", slug)."""
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def other_tenant(stack: Any, platform_actor: Any) -> Any:
    """A second tenant, to show that a command for one tenant leaves another alone."""
    slug = f"other-{secrets.token_hex(4)}"
    return service.create_tenant(
        NewTenant(name="Other", slug=slug, admin_email=f"a@{slug}.example.com"), platform_actor
    )
