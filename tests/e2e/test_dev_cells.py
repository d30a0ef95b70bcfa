"""`hrms dev --cells b` as a real process: a second embedded PostgreSQL is cell `b`, a tenant created through
the API lands there (most headroom) and signs in, the CLI in another terminal finds the cells through
env.json, and stopping `hrms dev` stops the cell's server too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import ROOT
from tests.e2e.test_dev_process import HRMS, STOP_TIMEOUT_S, _alive, _children, postmaster, running_dev
from tests.e2e.test_dev_process import data_dir as data_dir

DEV_OPTIONS = ("--no-reload", "--no-schedules", "--no-queues", "--cells", "b")


def _platform_token(data_dir: Path) -> str:
    """From `hrms token` as another terminal runs it: the dev stack's env.json, not this test session's stack."""
    session_stack = {"DATABASE_URL", "JWT_SECRET"} | set(json.loads((data_dir / "env.json").read_text()))
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(HRMS), "token", "--platform-admin", "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={key: value for key, value in os.environ.items() if key not in session_stack},
    )
    return done.stdout.strip()


@pytest.mark.slow
def test_dev_runs_tenants_on_a_second_cell_and_stops_it(data_dir: Path) -> None:
    with running_dev(data_dir, *DEV_OPTIONS) as (process, base, log):
        cells = json.loads(json.loads((data_dir / "env.json").read_text())["CELLS"])
        assert list(cells) == ["b"]  # what `hrms tenant move` in another terminal uses

        admin = {"Authorization": f"Bearer {_platform_token(data_dir)}"}
        body = {"name": "Cell B Co", "slug": "cell-b-co", "adminEmail": "admin@cell-b.example.com"}
        created = httpx.post(f"{base}/tenants", json=body, headers=admin)
        assert created.status_code == 201, created.text
        with psycopg.connect(cells["b"]) as conn:  # the schema is in cell b's server (the demo is on default)
            row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (created.json()["schemaName"],))
            assert row.fetchone() is not None
        signed_in = httpx.post(
            f"{base}/auth/login",
            json={
                "tenantSlug": "cell-b-co",
                "email": "admin@cell-b.example.com",
                "password": created.json()["adminTemporaryPassword"],
            },
        )
        assert signed_in.status_code == 200, signed_in.text

        servers = _children(process.pid) | {postmaster(data_dir / name) for name in ("postgres", "cell-b")}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0, log.read_text()
        still_running = {pid for pid in servers if _alive(pid)}
        assert still_running == set(), f"servers left running: {still_running}\n{log.read_text()}"
