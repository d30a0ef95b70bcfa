"""A fresh database on the session's PostgreSQL server, for tests that need exact global counts
(the session database holds hundreds of tenants of other tests)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from hrms.tenancy import schema_name_for
from hrms.tenants import repo


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """An empty database; its conninfo. Dropped afterwards, connections and all."""
    admin = os.environ["DATABASE_URL"]
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(admin, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def connect(conninfo: str) -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo, row_factory=dict_row)


def add_tenants(conninfo: str, *slugs: str) -> dict[str, str]:
    """Tenants at the shipped version, laid out by the repo code the service uses: slug -> schema."""
    schemas = {}
    with connect(conninfo) as conn:
        for slug in slugs:
            schema = schema_name_for(slug)
            repo.insert_tenant(
                conn,
                name=slug,
                slug=slug,
                schema_name=schema,
                admin_email=f"a@{slug}.io",
                description=None,
                settings={},
            )
            repo.create_schema(conn, schema)
            schemas[slug] = schema
    return schemas
