"""Loading a backup into a database: the object streams through its checks into psql.

Atomic (the default): psql runs with `--single-transaction` and `ON_ERROR_STOP`, reading the script
from stdin, and only commits when it reaches the end of that input. The end is only sent once the
whole object has been read and its size, sha256, gzip stream and dump trailer all check out; on any
failure psql is killed before that, so the server rolls the transaction back and the database is
exactly as it was.

Not atomic (fresh or scratch databases only): one transaction per statement. A transaction holds a
lock on every relation it creates or drops, ~300 per tenant schema, and the server's lock table holds
max_locks_per_transaction x max_connections (6,400 by default), so a whole database of many tenants
cannot be loaded in one transaction unless that setting is raised.
"""

from __future__ import annotations

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
        *(["--single-transaction"] if atomic else []),
        "--set=ON_ERROR_STOP=1",
        f"--dbname={db.conninfo}",
        "--file=-",
    ]
    check = StreamCheck(info.metadata.get("sha256"), _int(info.metadata.get("size")))
    outcome = "nothing was changed" if atomic else f"{db.describe()} may be partly restored; restore again"
    with pgtools.Process(command, db, stdin=True) as proc:
        stopped = False
        try:
            proc.stdin.write(f"SET client_min_messages = warning;\n{prelude}\n".encode())
            done = 0
            for chunk in storage.read(info):
                for piece in check.feed(chunk):
                    proc.stdin.write(piece)
                if check.gzip_error is not None:
                    break
                done += len(chunk)
                progress(phase, done, info.size)
            problems = check.problems()
            if problems:
                raise Invalid(f"The backup is damaged ({'; '.join(problems)}); {outcome}.")
            proc.stdin.write(f"\n{postlude}\n".encode())
            proc.stdin.close()  # end of input: psql commits
        except BrokenPipeError:
            stopped = True  # psql stopped at an error; its exit code and stderr say which
        code = proc.wait()
        if code != 0 or stopped:
            errors = proc.errors()
            hint = _LOCKS_HINT if "out of shared memory" in errors else ""
            raise RestoreFailed(f"psql failed (exit {code}), {outcome}: {errors}{hint}")
    return check


_LOCKS_HINT = (
    " | A restore in one transaction holds a lock on every relation it drops or creates (~300 per tenant"
    " schema): raise max_locks_per_transaction, or restore tenants one by one from their schema backups."
)


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None
