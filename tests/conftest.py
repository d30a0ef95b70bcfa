"""Shared fixtures: the embedded stack once per session, a fresh tenant per test, the local gateway."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Started only when used: more PostgreSQL servers as tenant cells, a 3-primary Valkey cluster.
pytest_plugins = ("tests.cells_fixtures", "tests.cluster_fixtures")


def _reset_clients() -> None:
    """Forget every cached client and setting so they are rebuilt from the current environment."""
    from hrms import aws
    from hrms.cache.client import close_client as close_redis
    from hrms.config import settings
    from hrms.db.mongo import close_client as close_mongo
    from hrms.db.postgres import close_pool

    close_pool()
    close_mongo()
    close_redis()
    aws.client.cache_clear()
    aws._secrets_provider.cache_clear()
    settings.cache_clear()


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    """Real PostgreSQL, Valkey, MongoDB-protocol server and moto, migrated, for the whole session."""
    from hrms.migrations import runner
    from hrms_tools.local.demo import ensure_demo_tenant
    from hrms_tools.local.stack import EmbeddedStack

    # Outside pytest's temp root: PostgreSQL runs as its own system user, and a concurrent pytest
    # session resets that root to 0700 while cleaning up.
    data_dir = Path(os.environ.get("HRMS_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="hrms-test-"))
    data_dir.chmod(0o755)
    embedded = EmbeddedStack(data_dir / "hrms", fresh=True)
    os.environ.update(embedded.start())
    _reset_clients()
    runner.up()
    ensure_demo_tenant()  # the tenant the sample events in events/ refer to
    yield embedded
    _reset_clients()
    embedded.stop()
    if "HRMS_TEST_DATA_DIR" not in os.environ:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def reset_clients() -> Iterator[None]:
    """For tests that change the environment or stop servers: clean clients before and after."""
    _reset_clients()
    yield
    _reset_clients()


@pytest.fixture(scope="session")
def platform_actor() -> object:
    from hrms.tenancy import PLATFORM_ADMIN, Actor

    return Actor(user_id="platform-admin", role=PLATFORM_ADMIN, tenant=None)


@pytest.fixture
def tenant(stack: object, platform_actor: object, request: pytest.FixtureRequest) -> object:
    """A fresh tenant (own schema, defaults, admin user) for one test."""
    import secrets

    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    slug = f"t-{secrets.token_hex(5)}"
    new = NewTenant(name=f"Tenant for {request.node.name}"[:200], slug=slug, admin_email=f"admin@{slug}.example.com")
    return service.create_tenant(new, platform_actor)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def platform_token(stack: object) -> str:
    from hrms.auth import tokens

    return tokens.issue("platform-admin", "platform_admin")


@pytest.fixture
def tenant_admin_token(tenant: object) -> str:
    from hrms.auth import tokens
    from hrms.auth.users import find_user_by_email

    user = find_user_by_email(tenant.slug, tenant.admin_email)  # type: ignore[attr-defined]
    return tokens.issue(str(user.user_id), user.role, tid=str(user.tenant_id))


@pytest.fixture(scope="session")
def gateway(stack: object) -> Iterator[object]:
    """The local API Gateway serving template.yaml on a free loopback port."""
    from hrms_tools.local.gateway import LocalGateway, make_server
    from hrms_tools.local.template import Template

    app = LocalGateway(Template.load(ROOT / "template.yaml"))
    server = make_server(app)  # the server `hrms dev` runs (its request handler answers malformed requests)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    yield app
    server.shutdown()


@pytest.fixture
def client(gateway: object) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:  # type: ignore[attr-defined]
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
