"""The shipped migration files and how a tenant migration quotes its schema (no servers)."""

from __future__ import annotations

import re

import pytest
from psycopg import sql

from hrms.migrations.files import Migration, latest_version, migrations

SCHEMA = "tenant_acme_deadbeef"


def test_tenant_statement_puts_a_quoted_identifier_where_schema_was():
    migration = Migration("tenant", 1, "t", "CREATE TABLE @schema.a (id int);\nCREATE INDEX ON @schema.a (id)")
    statement = migration.statement(SCHEMA)
    assert isinstance(statement, sql.Composed)
    identifiers = [part for part in statement if isinstance(part, sql.Identifier)]
    assert [ident.as_string() for ident in identifiers] == [f'"{SCHEMA}"', f'"{SCHEMA}"']
    assert "@schema" not in statement.as_string()
    assert statement.as_string() == f'CREATE TABLE "{SCHEMA}".a (id int);\nCREATE INDEX ON "{SCHEMA}".a (id)'


def test_schema_with_quote_characters_stays_one_identifier():
    migration = Migration("tenant", 1, "t", "CREATE TABLE @schema.a (id int)")
    rendered = migration.statement('evil"; DROP SCHEMA public; --').as_string()
    assert rendered == 'CREATE TABLE "evil""; DROP SCHEMA public; --".a (id int)'


def test_public_statement_is_the_text_unchanged():
    text = "CREATE TABLE public.x (id int)"
    statement = Migration("public", 1, "x", text).statement()
    assert isinstance(statement, sql.Composed)
    assert not any(isinstance(part, sql.Identifier) for part in statement)
    assert statement.as_string() == text


def test_public_migration_may_not_use_the_schema_placeholder():
    with pytest.raises(ValueError, match="needs a schema"):
        Migration("public", 1, "x", "CREATE TABLE @schema.x (id int)").statement()


def test_tenant_migration_without_a_schema_is_refused():
    with pytest.raises(ValueError, match="needs a schema"):
        Migration("tenant", 1, "x", "CREATE TABLE @schema.x (id int)").statement()


def test_checksum_follows_the_text():
    a = Migration("tenant", 1, "x", "SELECT 1")
    assert a.checksum == Migration("tenant", 9, "y", "SELECT 1").checksum
    assert a.checksum != Migration("tenant", 1, "x", "SELECT 2").checksum
    assert re.fullmatch(r"[0-9a-f]{64}", a.checksum)


@pytest.mark.parametrize("scope", ["public", "tenant"])
def test_shipped_migrations_are_numbered_from_one_without_gaps(scope):
    found = migrations(scope)
    assert found
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert latest_version(scope) == len(found)
    assert all(m.scope == scope and re.fullmatch(r"[a-z0-9_]+", m.name) for m in found)


def test_shipped_public_migrations_never_use_the_schema_placeholder():
    for migration in migrations("public"):
        assert "@schema" not in migration.text
        migration.statement()


def test_every_tenant_object_is_schema_qualified():
    """A bare table name in a tenant migration would land in `public` (no search_path is ever set)."""
    bare = re.compile(
        r"\b(CREATE (UNIQUE )?INDEX \w+ ON|CREATE TABLE|ALTER TABLE|REFERENCES|INSERT INTO|UPDATE|DELETE FROM)"
        r"\s+(?!@schema\.)(\w+)",
        re.IGNORECASE,
    )
    for migration in migrations("tenant"):
        code = "\n".join(line.split("--")[0] for line in migration.text.splitlines())
        offenders = [m.group(0) for m in bare.finditer(code) if m.group(3).upper() not in {"IF", "ONLY", "OR"}]
        assert offenders == [], f"{migration.name}: {offenders}"
        assert "@schema" in code
        assert "search_path" not in code.lower()
