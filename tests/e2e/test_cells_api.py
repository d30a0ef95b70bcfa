"""Tenants on three PostgreSQL servers behind the local gateway: each signs in and is served from its own
cell; stopping one cell's server answers its tenants 503 (problem+json) and nobody else's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from psycopg import sql

from hrms.auth import tokens
from hrms.db.postgres import tenant_tx
from hrms.tenancy import Tenant
from tests.cells_fixtures import create_on
from tests.conftest import bearer


def _admin_token(created: Any) -> str:
    with tenant_tx(Tenant(created.tenant_id, created.schema_name)) as tx:
        tx.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(tx.t("users")))
        admin = tx.execute(sql.SQL("SELECT id FROM {} WHERE role = 'admin'").format(tx.t("users"))).fetchone()
    assert admin is not None
    return tokens.issue(str(admin["id"]), "admin", tid=str(created.tenant_id))


def test_a_cell_down_answers_503_to_its_tenants_only(
    client: httpx.Client, platform_actor: Any, tenant: Any, on_cells: Any
) -> None:
    on_b, on_c = create_on("b", platform_actor), create_on("c", platform_actor)
    login = client.post(
        "/auth/login",
        json={"tenantSlug": on_b.slug, "email": on_b.admin_email, "password": on_b.admin_temporary_password},
    )
    assert login.status_code == 200, login.text
    tokens_by_cell = {"b": _admin_token(on_b), "c": _admin_token(on_c), "default": _admin_token(tenant)}
    for token in tokens_by_cell.values():
        assert client.get("/departments", headers=bearer(token)).status_code == 200

    on_cells.stop_cell("c")
    try:
        down = client.get("/departments", headers=bearer(tokens_by_cell["c"]))
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["status"] == 503
        for cell in ("b", "default"):
            created = client.post(
                "/departments", json={"name": "Ops", "code": "OPS"}, headers=bearer(tokens_by_cell[cell])
            )
            assert created.status_code == 201, (cell, created.text)
    finally:
        on_cells.start_cell("c")
    assert client.get("/departments", headers=bearer(tokens_by_cell["c"])).status_code == 200


class Crash(BaseException):
    """The move's process dying at a step."""


def test_during_a_moves_cut_over_writes_answer_503_with_retry_after_and_reads_are_served(
    client: httpx.Client, platform_actor: Any, on_cells: Any, monkeypatch: Any
) -> None:
    from hrms.tenants import moves

    created = create_on("b", platform_actor)
    token = _admin_token(created)

    def step(name: str) -> None:
        if name == "verified":
            raise Crash(name)

    monkeypatch.setattr(moves, "step", step)
    with pytest.raises(Crash):  # died in the cut-over: the tenant's writes stay frozen until the move runs again
        moves.move(created.slug, "c", grace_s=0)
    monkeypatch.undo()

    frozen = client.post("/departments", json={"name": "Ops", "code": "OPS"}, headers=bearer(token))
    assert frozen.status_code == 503
    assert frozen.headers["content-type"].startswith("application/problem+json")
    assert frozen.headers["retry-after"] == str(moves.RETRY_AFTER_S)
    assert client.get("/departments", headers=bearer(token)).status_code == 200

    assert moves.move(created.slug, "c", grace_s=0).phase == "done"

    written = client.post("/departments", json={"name": "Ops", "code": "OPS"}, headers=bearer(token))
    assert written.status_code == 201, written.text
    assert [d["code"] for d in client.get("/departments", headers=bearer(token)).json()["items"]] == ["OPS"]
