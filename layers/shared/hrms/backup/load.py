"""Loading a backup into a database: the object streams through its checks into psql.

Atomic (the default): psql runs with `ON_ERROR_STOP`, reading the script from stdin between a `BEGIN`
and a `COMMIT` that this module writes itself. The `COMMIT` is only sent once the whole object has
been read and its size, sha256, gzip stream and dump trailer all check out; on any failure psql is
killed before that, so the server rolls the transaction back and the database is exactly as it was.
(An explicit `COMMIT` rather than `--single-transaction`, which commits at the end of input: if this
process dies midway, psql's input ends without a `COMMIT` and the transaction is rolled back.)

`before_commit`: with everything executed (psql reports a marker on stderr once it has run every
statement before it) and not yet committed, this is called; if it raises, nothing is committed. A
restore uses it to swap the MongoDB part in while the PostgreSQL part is complete but undecided.

Not atomic (fresh or scratch databases only): one transaction per statement. A transaction holds a
lock on every relation it creates or drops, ~300 per tenant schema, and the server's lock table holds
max_locks_per_transaction x max_connections (6,400 by default), so a whole database of many tenants
cannot be loaded in one transaction unless that setting is raised.
"""

from __future__ import annotations

from collections.abc import Callable

from hrms.backup import pgtools, storage
from hrms.backup.common import Progress, RestoreFailed, no_progress
from hrms.backup.stream import StreamCheck
from hrms.errors import Invalid


def load(
    db: pgtools.Database,
    info: storage.ObjectInfo,
    *,
    prelude: str = "",
    postlude: str = "",
    progress: Progress = no_progress,
    phase: str = "restore",
    atomic: bool = True,
    before_commit: Callable[[], None] | None = None,
) -> StreamCheck:
    """Run `prelude`, the dump and `postlude` in `db`: as one transaction (all or nothing) if `atomic`."""
    psql = pgtools.tool("psql")
    dumped_by = info.metadata.get("pg-dump-version", "0").split(".")[0]
    major, version = pgtools.tool_version(psql)
    if dumped_by.isdigit() and major < int(dumped_by):
        raise RestoreFailed(f"psql {version} is older than the pg_dump that wrote this backup; nothing was changed.")
    command = [
        psql,
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={db.conninfo}",
        "--file=-",
    ]
    check = StreamCheck(info.metadata.get("sha256"), _int(info.metadata.get("size")))
    with db.connect() as conn:
        header = HeaderFilter(pgtools.server(conn).major)
    outcome = "nothing was changed" if atomic else f"{db.describe()} may be partly restored; restore again"
    with pgtools.Process(command, db, stdin=True) as proc:
        stopped = False
        try:
            begin = "BEGIN;\n" if atomic else ""
            proc.stdin.write(f"{begin}SET client_min_messages = warning;\n{prelude}\n".encode())
            done = 0
            for chunk in storage.read(info):
                for piece in check.feed(chunk):
                    proc.stdin.write(header.feed(piece))
                if check.gzip_error is not None:
                    break
                done += len(chunk)
                progress(phase, done, info.size)
            proc.stdin.write(header.flush())
            problems = check.problems()
            if problems:
                raise Invalid(f"The backup is damaged ({'; '.join(problems)}); {outcome}.")
            proc.stdin.write(f"\n{postlude}\n".encode())
            if before_commit is not None:
                proc.stdin.write(f"\\warn {READY}\n".encode())
                proc.stdin.flush()
                if proc.wait_for(READY):
                    before_commit()
            proc.stdin.write(b"COMMIT;\n" if atomic else b"")
            proc.stdin.close()  # end of input
        except BrokenPipeError:
            stopped = True  # psql stopped at an error; its exit code and stderr say which
        code = proc.wait()
        if code != 0 or stopped:
            errors = proc.errors()
            hint = _LOCKS_HINT if "out of shared memory" in errors else ""
            raise RestoreFailed(f"psql failed (exit {code}), {outcome}: {errors}{hint}")
    return check


READY = "hrms-restore-ready"
# Settings newer than some supported server that pg_dump writes into the header of every plain dump:
# pg_dump 17+ begins with `SET transaction_timeout = 0;`, which PostgreSQL 15 and 16 refuse (psql stops).
NEWER_SETTINGS = ((17, b"SET transaction_timeout = 0;\n"),)
HEADER_BYTES = 8192  # the settings come before the dump's first statement, well within this


class HeaderFilter:
    """Drops from the dump's header the SET lines of settings the target server predates; passes the rest.

    The first HEADER_BYTES are held back until complete, so a line split across pieces is still seen."""

    def __init__(self, server_major: int) -> None:
        self.dropped = [line for major, line in NEWER_SETTINGS if server_major < major]
        self.held: bytes | None = b"" if self.dropped else None

    def feed(self, piece: bytes) -> bytes:
        if self.held is None:
            return piece
        self.held += piece
        return self.flush() if len(self.held) >= HEADER_BYTES else b""

    def flush(self) -> bytes:
        held, self.held = self.held or b"", None
        for line in self.dropped:
            held = held.replace(b"\n" + line, b"\n", 1)
        return held


_LOCKS_HINT = (
    " | A restore in one transaction holds a lock on every relation it drops or creates (~300 per tenant"
    " schema): raise max_locks_per_transaction, or restore tenants one by one from their schema backups."
)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
