"""tests/pg15: the migrations and a smoke suite on PostgreSQL 15, the oldest supported major.

The session's embedded stack (PostgreSQL 18, Valkey, the MongoDB-protocol server, moto) stays as it is.
For the tests of this package only, DATABASE_URL names a database on a PostgreSQL 15 server and every
client is rebuilt from it; afterwards the session's URL and clients come back, so the tests that run
later (tests/unit) see the stack as before. PG_BIN_DIR still names PostgreSQL 18's tools: backups of the
15 server are taken with pg_dump 18, as the pgtools layer does in AWS.

PostgreSQL 15 comes from Debian's package (`make pg15`, part of `make test`): without it these tests
fail, saying so; they never skip.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from hrms.migrations.runner import MigrationResult
from tests.conftest import _reset_clients
from tests.pg15.server import Postgres15

DATABASE = "hrms"


@dataclass(frozen=True)
class OnPostgres15:
    server: Postgres15
    database_url: str
    first_up: MigrationResult  # the run that migrated the empty database
    first_up_seconds: float


@pytest.fixture(scope="session")
def postgres15() -> Iterator[Postgres15]:
    """A PostgreSQL 15 server of its own (temporary directory, free port), stopped at the end."""
    problem = Postgres15.not_installed()
    if problem:
        pytest.fail(problem, pytrace=False)  # a failure, never a skip: `make test` installs it
    server = Postgres15.start()
    yield server
    server.stop()


@pytest.fixture(scope="package", autouse=True)
def on_postgres15(stack: Any, postgres15: Postgres15) -> Iterator[OnPostgres15]:
    """hrms pointed at a migrated database on the PostgreSQL 15 server for this package's tests."""
    from hrms.migrations import runner

    with psycopg.connect(postgres15.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    original = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = postgres15.url(DATABASE)
    _reset_clients()
    try:
        started = time.monotonic()
        first = runner.up()
        yield OnPostgres15(postgres15, os.environ["DATABASE_URL"], first, time.monotonic() - started)
    finally:
        os.environ["DATABASE_URL"] = original
        _reset_clients()
