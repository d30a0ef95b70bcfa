"""What a pooled connection counts towards its limit of tenant schemas (hrms.db.postgres.tenant_schemas_named)."""

from __future__ import annotations

from psycopg import sql

from hrms.db.postgres import tenant_schemas_named

A, B = "tenant_acme_0a1b2c3d", "tenant_globex_corp_9f8e7d6c"


def test_a_statement_counts_each_tenant_schema_whose_tables_it_names() -> None:
    query = sql.SQL("SELECT * FROM {} e JOIN {} d ON d.id = e.department_id").format(
        sql.Identifier(A, "employees"), sql.Identifier(A, "departments")
    )
    assert tenant_schemas_named(query) == {A}
    union = sql.SQL("SELECT 1 FROM {} UNION ALL SELECT 1 FROM {}").format(
        sql.Identifier(A, "users"), sql.Identifier(B, "users")
    )
    assert tenant_schemas_named(union) == {A, B}


def test_ddl_of_a_new_schema_counts_it_once_its_tables_are_named() -> None:
    create = sql.SQL("CREATE TABLE {} (id uuid)").format(sql.Identifier(B, "users"))
    assert tenant_schemas_named(create) == {B}


def test_public_tables_plain_text_and_literals_do_not_count() -> None:
    assert tenant_schemas_named(sql.SQL("SELECT * FROM {}").format(sql.Identifier("public", "tenants"))) == set()
    assert tenant_schemas_named("SELECT schema_name FROM public.tenants") == set()
    literal = sql.SQL("SELECT * FROM public.tenants WHERE schema_name = {}").format(sql.Literal(A))
    assert tenant_schemas_named(literal) == set()
    assert tenant_schemas_named(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(A))) == set()
