"""Fixtures shared by the leave and approval integration tests."""

from __future__ import annotations

from typing import Any

import pytest

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
