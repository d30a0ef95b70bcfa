"""Schema-name rules and the actor built from the authorizer context (no servers)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from hrms.auth import credentials
from hrms.errors import Unauthorized
from hrms.tenancy import (
    SCHEMA_PATTERN,
    Tenant,
    checked_schema_name,
    schema_name_for,
)


def test_schema_name_is_prefixed_slug_and_eight_hex_suffix():
    name = schema_name_for("acme")
    assert SCHEMA_PATTERN.fullmatch(name)
    assert name.startswith("tenant_acme_")
    suffix = name.removeprefix("tenant_acme_")
    assert len(suffix) == 8
    int(suffix, 16)


def test_schema_name_turns_dashes_into_underscores():
    name = schema_name_for("big-co-2")
    assert name.startswith("tenant_big_co_2_")
    assert "-" not in name


def test_schema_name_of_longest_slug_fits_postgres_identifier_limit():
    slug = "a" * 40
    name = schema_name_for(slug)
    assert len(name.encode()) <= 63
    assert checked_schema_name(name) == name


def test_schema_names_for_the_same_slug_differ():
    assert len({schema_name_for("acme") for _ in range(20)}) == 20


@pytest.mark.parametrize("slug", ["a" * 41, "Acme", "acme co", 'acme"; drop schema public; --', "acmé"])
def test_schema_name_for_rejects_slugs_that_break_the_rules(slug):
    with pytest.raises(ValueError, match="not a tenant schema name"):
        schema_name_for(slug)


@pytest.mark.parametrize(
    "name",
    [
        "tenant_acme_deadbeef",
        "tenant_a_00000000",
        "tenant_big_co_2_0123abcd",
        "tenant_" + "x" * 40 + "_ffffffff",
    ],
)
def test_checked_schema_name_accepts_well_formed_names(name):
    assert checked_schema_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "public",
        "pg_catalog",
        "information_schema",
        "tenant_acme",
        "tenant__deadbeef",
        "tenant_acme_DEADBEEF",
        "tenant_acme_deadbee",
        "tenant_acme_deadbeef0",
        "tenant_Acme_deadbeef",
        "tenant_ac-me_deadbeef",
        "tenant_acme_deadbeef\n",
        " tenant_acme_deadbeef",
        "tenant_acme_deadbeef; DROP SCHEMA public CASCADE",
        'tenant_acme_deadbeef"; DROP TABLE x; --',
        'tenant_a"b_deadbeef',
        "tenant_acmé_deadbeef",
        "tenant_" + "x" * 41 + "_ffffffff",
        "",
    ],
)
def test_checked_schema_name_rejects_anything_else(name):
    with pytest.raises(ValueError):
        checked_schema_name(name)


def test_tenant_refuses_a_malformed_schema_name():
    with pytest.raises(ValueError):
        Tenant(uuid4(), "public")


@pytest.mark.parametrize("context", [None, {}, {"role": "admin"}, {"userId": "u1"}])
def test_missing_authorizer_context_is_unauthorized(context):
    with pytest.raises(Unauthorized):
        credentials.admit(context)


def test_authorizer_context_with_a_bad_schema_name_is_refused_before_any_query():
    with pytest.raises(Unauthorized):
        credentials.admit({"userId": str(uuid4()), "role": "admin", "tenantId": str(uuid4()), "schemaName": "public"})
