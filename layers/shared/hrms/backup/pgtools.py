"""The PostgreSQL client tools as subprocesses: where they are, how they connect, what they said.

Credentials never appear on a command line (visible in `ps`) nor in logs: the tools get a libpq
conninfo without the password through `--dbname`, and the password through `PGPASSWORD`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row

from hrms.backup import repo
from hrms.backup.common import BackupFailed
from hrms.config import settings
from hrms.db import cells, postgres
from hrms.errors import DependencyDown, Invalid

LAYER_BIN = Path("/opt/bin")  # where the pgtools layer puts pg_dump, pg_restore and psql in Lambda
PIPE_BYTES = 1 << 20  # a 1 MiB pipe lets pg_dump run ahead while the previous chunk is compressed
TARGET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_SECRETS = (
    re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE),
    re.compile(r"(://[^:/@\s]*:)[^@\s]*(@)"),
)


def redact(text: str) -> str:
    """`text` without passwords of conninfo strings or URLs."""
    text = _SECRETS[0].sub(r"\1***", text)
    return _SECRETS[1].sub(r"\1***\2", text)


@dataclass(frozen=True)
class Database:
    """A database the tools and psycopg connect to; the password is kept apart from the conninfo."""

    name: str  # "live", or the name of a restore target
    params: dict[str, str]
    password: str | None = field(default=None, repr=False)
    cell: str | None = None  # the cell, for "live": the control database is `default`

    @classmethod
    def from_url(cls, name: str, url: str, credentials: dict[str, str] | None = None) -> Database:
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
        except psycopg.ProgrammingError:
            raise Invalid(f"The database URL of '{name}' is not a valid libpq URL.") from None
        password = params.pop("password", None) or None
        if credentials:  # {"user", "password"}, as `hrms.db.postgres.credentials` reads them
            params["user"] = credentials["user"]
            password = credentials["password"]
        params.update(settings().pg_tls)  # verify-full in AWS, for psycopg and the tools alike
        return cls(name, params, password)

    @property
    def conninfo(self) -> str:
        """libpq conninfo without the password (safe for `--dbname`)."""
        return make_conninfo("", **self.params)

    @property
    def dbname(self) -> str:
        return self.params.get("dbname") or self.params.get("user") or "postgres"

    def with_dbname(self, dbname: str) -> Database:
        return replace(self, params={**self.params, "dbname": dbname})

    def describe(self) -> str:
        """For messages and logs: target name (and cell), host and database, no credentials."""
        name = self.name if self.cell in (None, cells.DEFAULT) else f"{self.name} cell {self.cell}"
        return f"{name} ({self.params.get('host', 'localhost')}/{self.dbname})"

    def env(self) -> dict[str, str]:
        """The environment of a tool connecting here."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGAPPNAME"] = "hrms-backup"
        env["PGCONNECT_TIMEOUT"] = str(settings().pg_connect_timeout_s)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[DictRow]:
        """A direct connection (not the request pool); 503 if the server cannot be reached."""
        try:
            return psycopg.connect(
                self.conninfo,
                password=self.password,
                autocommit=autocommit,
                row_factory=dict_row,
                connect_timeout=settings().pg_connect_timeout_s,
                application_name="hrms-backup",
            )
        except psycopg.OperationalError as exc:
            raise DependencyDown(f"The database {self.describe()} is unavailable.") from exc


def live(cell: str = cells.DEFAULT) -> Database:
    """The application's database in a cell (`default`: DATABASE_URL, the control database), with the
    credentials from Secrets Manager when configured."""
    return replace(Database.from_url("live", cells.cell(cell).url, postgres.credentials(cell)), cell=cell)


def live_cell(cell: str) -> Database:
    """The live database of a cell a request names; 422 if no such cell is configured here."""
    try:
        return live(cell)
    except cells.UnknownCell:
        known = ", ".join(cells.configured())
        raise Invalid(
            f"No cell '{cell[:60]}' is configured here (known: {known}).",
            errors=[{"field": "cell", "type": "unknown_cell", "message": f"known cells: {known}"}],
        ) from None


def live_of_schema(schema: str) -> Database:
    """The live database of the cell holding a tenant schema (the registry says which)."""
    return live(cells.cell_of_schema(schema))


def restore_targets() -> dict[str, str]:
    """Name -> URL of the databases a backup may be restored into (RESTORE_TARGETS, then the secret)."""
    cfg = settings()
    targets = {name: url.get_secret_value() for name, url in cfg.restore_targets.items()}
    if cfg.restore_targets_secret_id:
        from hrms import aws

        targets.update(json.loads(aws.secret(cfg.restore_targets_secret_id)))
    return targets


def target(name: str | None) -> Database:
    """The live database for None, else the named restore target; 422 for an unknown name."""
    if name is None:
        return live()
    targets = restore_targets()
    if not TARGET_NAME.fullmatch(name) or name not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise Invalid(
            f"Unknown restore target '{name}' (known: {known}).",
            errors=[{"field": "target", "type": "restore_target", "message": f"known targets: {known}"}],
        )
    return Database.from_url(name, targets[name])


# ----------------------------------------------------------------------------- tools


def tool(name: str) -> str:
    """Path of pg_dump / psql: PG_BIN_DIR, else the pgtools layer's /opt/bin, else PATH."""
    configured = settings().pg_bin_dir
    for directory in [Path(configured), LAYER_BIN] if configured else [LAYER_BIN]:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} was not found: set PG_BIN_DIR, or deploy the pgtools layer.")
    return found


@cache
def tool_version(path: str) -> tuple[int, str]:
    """(major, full version) of a PostgreSQL client tool, e.g. (18, "18.6")."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout  # noqa: S603
    found = re.search(r"(\d+)(?:\.(\d+))?", out)
    if found is None:
        raise BackupFailed(f"Could not tell the version of {Path(path).name}: {out.strip()[:200]!r}")
    return int(found[1]), found[0]


@dataclass(frozen=True)
class Server:
    major: int
    version: str  # e.g. "18.6"


def server(conn: psycopg.Connection[Any]) -> Server:
    found = repo.server_version(conn)
    return Server(int(found.num) // 10_000, str(found.version).split(" ")[0])


def require_at_least(path: str, srv: Server) -> str:
    """The tool's version if it can handle `srv`; pg_dump must be as new as the server or newer."""
    major, version = tool_version(path)
    if major < srv.major:
        raise BackupFailed(
            f"{Path(path).name} {version} is older than the PostgreSQL {srv.version} server; "
            f"build the pgtools layer with PG_MAJOR >= {srv.major}."
        )
    return version


class Process:
    """A tool run as a subprocess; stderr is drained by a thread (last 64 KiB kept, redacted on read).

    Used as a context manager: leaving the block while the tool still runs kills it, which for
    psql means its open transaction is rolled back by the server.
    """

    def __init__(self, args: list[str], db: Database, *, stdin: bool = False, stdout: bool = False) -> None:
        self.name = Path(args[0]).name
        self.proc = subprocess.Popen(  # noqa: S603 - fixed tool paths, no shell
            args,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=db.env(),
            pipesize=PIPE_BYTES,
        )
        self._stderr: deque[bytes] = deque()
        self._stderr_size = 0
        self._reader = threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _drain(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self._stderr.append(line)
            self._stderr_size += len(line)
            while self._stderr_size > 65_536 and len(self._stderr) > 1:
                self._stderr_size -= len(self._stderr.popleft())

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def wait(self) -> int:
        code = self.proc.wait()
        self._reader.join(timeout=5)
        return code

    def wait_for(self, line: str, timeout_s: float = 3600.0) -> bool:
        """Wait until the tool writes `line` on stderr (True) or exits first (False)."""
        import time

        wanted = line.encode()
        ends = time.monotonic() + timeout_s
        while time.monotonic() < ends:
            if any(seen.strip() == wanted for seen in list(self._stderr)):
                return True
            if self.proc.poll() is not None:
                self._reader.join(timeout=1)
                return any(seen.strip() == wanted for seen in list(self._stderr))
            time.sleep(0.01)
        return False

    def errors(self, lines: int = 5) -> str:
        """The last meaningful stderr lines, without passwords."""
        self._reader.join(timeout=1)
        text = b"".join(self._stderr).decode("utf-8", "replace")
        kept = [line for line in text.strip().splitlines() if line.strip() and "hrms-restore-ready" not in line]
        return redact(" | ".join(kept[-lines:])) or "no error output"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=5)
