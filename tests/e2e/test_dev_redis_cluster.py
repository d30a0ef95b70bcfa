"""`hrms dev --redis-cluster` as a real process: the API caches on a 3-primary Valkey cluster, the CLI in another
terminal finds it through env.json, and stopping `hrms dev` stops the cluster's servers too."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from hrms_tools.local.demo import DEMO, DEMO_ADMIN_EMAIL, DEMO_SLUG
from hrms_tools.local.stack import REDIS_USER
from tests.e2e.test_dev_process import STOP_TIMEOUT_S, _alive, _children, postmaster, running_dev
from tests.e2e.test_dev_process import data_dir as data_dir

DEV_OPTIONS = ("--no-reload", "--no-schedules", "--no-queues", "--redis-cluster")


@pytest.mark.slow
def test_dev_runs_the_api_on_a_valkey_cluster_and_stops_it(data_dir: Path) -> None:
    from redis.cluster import RedisCluster

    with running_dev(data_dir, *DEV_OPTIONS) as (process, base, log):
        env = json.loads((data_dir / "env.json").read_text())
        assert env["REDIS_CLUSTER"] == "true"  # what `hrms cache flush` in another terminal uses
        cluster = RedisCluster.from_url(
            env["REDIS_URL"], username=REDIS_USER, password=(data_dir / "redis-password").read_text().strip()
        )
        assert len(cluster.get_primaries()) == 3

        signed_in = httpx.post(
            f"{base}/auth/login",
            json={"tenantSlug": DEMO_SLUG, "email": DEMO_ADMIN_EMAIL, "password": DEMO.admin_password},
        )
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
        assert httpx.get(f"{base}/org/hierarchy", headers=headers).status_code == 200
        assert cluster.exists(f"org:{{{DEMO.tenant_id}}}:hierarchy") == 1  # cached on the cluster
        cluster.close()

        servers = _children(process.pid) | {postmaster(data_dir / "postgres")}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0, log.read_text()
        still_running = {pid for pid in servers if _alive(pid)}
        assert still_running == set(), f"servers left running: {still_running}\n{log.read_text()}"
