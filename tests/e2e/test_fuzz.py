"""The hostile-input fuzzer (issue #14): every route of the gateway's /openapi.json, fed what an
attacker, a spreadsheet export or a sloppy script would send, must answer a deliberate status and,
when it refuses, leave the tenant's data exactly as it was.

How a request is made (one Hypothesis example):
- the route's path ids are real ones of a seeded tenant most of the time (`hostile_world.seed`: two
  or more of everything), else random UUIDs or hostile segments (NUL, invalid UTF-8, 300 digits...);
- its query parameters are generated from their schemas, or hostile text; a `cursor` is a real
  one of the route, a tampered one (`hostile_world.TAMPERS`) or another route's;
- its body is generated from the operation's request schema (real ids for `...Id` fields, the
  tenant's slug and users for the login) and then, in most examples, corrupted once: nested
  past any limit, numbers of thousands of digits, NaN/Infinity, a wrong or odd Content-Type,
  invalid UTF-8 bytes, lone surrogates, NUL, null for one field or every field, wrong JSON types,
  oversized strings, unknown or mass-assignment fields (`tenantId`, `_id`, `$where`), a key
  given twice, or no JSON at all;
- it is sent as the tenant admin (a permanent password: every tenant route admits it), or as the
  platform admin on the platform's routes, so most examples get past the permission gate and
  reach the domain code.

What is asserted of every response:
- never a 5xx;
- every error is application/problem+json with type, title, status (the HTTP status) and detail;
- the refusals the issue names (a non-JSON body: 415; nesting 1,000 deep: 400; NaN/Infinity or a
  number of more than 4,300 digits: 400/422) are those refusals, whatever else is wrong with the
  request: the body is parsed before the path, query and Idempotency-Key are (the order of checks
  of `hrms.http.api`); only the gateway's own 404/405/413/414 may come first;
- after any 4xx, the tenant's fingerprint is what it was before the request: every row of every
  table of its schema, its rows in public (tenants, tenant_features, tenant_audit), its documents
  in every MongoDB collection (by tenantId) and its objects (keys and ETags) under its S3
  prefixes - except the bookkeeping a refusal is meant to write, listed once in `BOOKKEEPING`.
After a 2xx the tenant is put back into a usable state (`Sweep.repair`: the admin active, admin,
with a known password and a fresh token; the tenant active) and the fingerprint is taken again.

The test is parametrized over template.yaml's routes (the gateway tests check that /openapi.json
lists exactly those), so a route added later is fuzzed without editing this file.
HRMS_FUZZ_EXAMPLES sets the examples per route (default: a fixed budget spread over the routes,
about two minutes in all on two cores), e.g. HRMS_FUZZ_EXAMPLES=300 for a deep local run;
HRMS_FUZZ_SHRINK=1 shrinks a failing example; with -s, HRMS_FUZZ_STATS=1 prints the statuses
each route answered (how far the examples got) and HRMS_FUZZ_DEBUG=1 every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import bson
import httpx
import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st
from psycopg import sql

from hrms import aws
from hrms.auth.passwords import hash_password
from hrms.auth.users import find_user_by_email
from hrms.config import settings as hrms_settings
from hrms.db.mongo import database
from hrms.db.postgres import transaction
from hrms.db.tenant_collection import INDEXES
from hrms_tools.local.template import Route, Template
from tests.conftest import ROOT, bearer
from tests.e2e.hostile_world import PLATFORM_PREFIXES, TAMPERS, Seeded, path_of, restore_admin, seed, with_key
from tests.e2e.http_world import Org, usable

ROUTES = Template.load(ROOT / "template.yaml").routes
# A fixed budget of requests spread over the routes (40 each at most, 5 at least).
MAX_EXAMPLES = int(os.environ.get("HRMS_FUZZ_EXAMPLES") or max(5, min(40, 1_500 // max(1, len(ROUTES)))))
# Shrinking a failure replays it (and its fingerprints) hundreds of times: minutes per failing route. The
# examples are readable as they are (one corruption each); HRMS_FUZZ_SHRINK=1 shrinks them all the same.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if os.environ.get("HRMS_FUZZ_SHRINK") else [])]
PASSWORD = "violet-harbour-lantern-97"  # the fuzzed tenant admin's (permanent) password
PROBLEM = "application/problem+json"


# ---------------------------------------------------------------- what a refusal may write


@dataclass(frozen=True)
class Bookkeeping:
    """Part of a table that a refused request is meant to write, so the fingerprint leaves it out."""

    why: str
    columns: tuple[str, ...] = ()  # left out of every row
    rows: str | None = None  # SQL condition of the rows left out
    whole_table: bool = False


BOOKKEEPING: Final[dict[str, Bookkeeping]] = {  # "table" of the tenant's schema, or "public.table"
    "idempotency_keys": Bookkeeping("stored Idempotency-Key responses (refusals are replayed too)", whole_table=True),
    "users": Bookkeeping("failed-login counters and lock times", columns=("failed_logins", "locked_until")),
    "audit_logs": Bookkeeping(
        "authentication audit rows (failed logins, password changes)", rows="action LIKE 'auth.%'"
    ),
    "public.tenants": Bookkeeping("the tenant's last activity (the authorizer's)", columns=("last_activity_at",)),
}


# ---------------------------------------------------------------- the tenant's fingerprint


class Fingerprint:
    """A digest per table, collection and S3 prefix of one tenant, taken in three parallel reads:
    one SQL statement (md5 of the sorted rows of every table), one find per MongoDB collection
    (by tenantId) and one listing per S3 prefix (keys and ETags)."""

    def __init__(self, tenant: Any) -> None:
        self.tenant_id = str(tenant.tenant_id)
        self.schema = str(tenant.schema_name)
        with transaction() as conn:
            tables = [
                str(row["table_name"])
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
                    (self.schema,),
                ).fetchall()
            ]
        relations: list[tuple[str, sql.Identifier, sql.Composable | None]] = [
            (table, sql.Identifier(self.schema, table), None) for table in tables
        ]
        tenant_id = sql.Literal(self.tenant_id)
        relations += [
            ("public.tenants", sql.Identifier("public", "tenants"), sql.SQL("id = {}").format(tenant_id)),
            (
                "public.tenant_features",
                sql.Identifier("public", "tenant_features"),
                sql.SQL("tenant_id = {}").format(tenant_id),
            ),
            (
                "public.tenant_audit",
                sql.Identifier("public", "tenant_audit"),
                sql.SQL("tenant_id = {}").format(tenant_id),
            ),
        ]
        digests = [
            sql.SQL("{} AS {}").format(self._digest(relation, BOOKKEEPING.get(name), where), sql.Identifier(name))
            for name, relation, where in relations
            if not (name in BOOKKEEPING and BOOKKEEPING[name].whole_table)
        ]
        self.query = sql.SQL("SELECT {}").format(sql.SQL(", ").join(digests))
        config = hrms_settings()
        self.prefixes = [
            (config.documents_bucket, f"tenants/{self.tenant_id}/"),
            (config.backup_bucket, f"tenants/{self.tenant_id}/"),
            (config.backup_bucket, f"backups/schemas/{self.schema}/"),
        ]
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="fingerprint")

    @staticmethod
    def _digest(relation: sql.Composable, ignored: Bookkeeping | None, where: sql.Composable | None) -> sql.Composable:
        row: sql.Composable = sql.SQL("to_jsonb(t)")
        conditions: list[sql.Composable] = [where] if where is not None else []
        if ignored is not None:
            for column in ignored.columns:
                row = sql.SQL("{} - {}").format(row, sql.Literal(column))
            if ignored.rows:
                conditions.append(sql.SQL("NOT ({})").format(sql.SQL(ignored.rows)))
        filtered = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions)) if conditions else sql.SQL("")
        return sql.SQL(
            "(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (SELECT {} AS r FROM {} t{}) s)"
        ).format(row, relation, filtered)

    def _postgres(self) -> dict[str, str]:
        with transaction() as conn:
            row = conn.execute(self.query).fetchone()
        return {f"postgres {name}": str(value) for name, value in (row or {}).items()}

    def _mongo(self) -> dict[str, str]:
        db = database()
        digests = {}
        for name in sorted(set(INDEXES) | set(db.list_collection_names())):
            documents = db[name].find({"tenantId": self.tenant_id}, sort=[("_id", 1)])
            digest = hashlib.sha256(b"".join(bson.encode(d) for d in documents))
            digests[f"mongodb {name}"] = digest.hexdigest()
        return digests

    def _s3(self) -> dict[str, str]:
        s3 = aws.client("s3")
        digests = {}
        for bucket, prefix in self.prefixes:
            objects = []
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                objects += [f"{o['Key']} {o['ETag']}" for o in page.get("Contents", [])]
            digests[f"s3 {bucket}/{prefix}"] = hashlib.sha256("\n".join(sorted(objects)).encode()).hexdigest()
        return digests

    def take(self) -> dict[str, str]:
        parts = [self.pool.submit(part) for part in (self._postgres, self._mongo, self._s3)]
        return {key: value for part in parts for key, value in part.result().items()}

    def settled(self) -> dict[str, str]:
        """A fingerprint that holds still (work a response left running, e.g. an after-commit publish,
        has finished): taken until two readings 50 ms apart agree."""
        current = self.take()
        for _ in range(20):
            time.sleep(0.05)
            again = self.take()
            if again == current:
                break
            current = again
        return current


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


# ---------------------------------------------------------------- the hostile request


ABSENT: Final = object()  # no body
HOLE: Final = "\ue000hole\ue000"  # where a corruption goes in the serialised body
TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")  # storable text
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6), st.text(TEXT, max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(TEXT, min_size=1, max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)

HUGE_NUMBERS = [
    "9" * 5_000,
    "-" + "9" * 4_301,
    "1" + "0" * 40,
    "9" * 20,
    "1e400",
    "-1e400",
    "1e-400",
    "0." + "0" * 5_000 + "1",
    "123456789.123456789e308",
]
NOT_FINITE = ["NaN", "Infinity", "-Infinity"]
EDGE_DATES = ["0001-01-01", "9999-12-31", "1900-01-01", "2024-02-29", "2100-12-31"]
WRONG_TYPES: list[Any] = [[], {}, "", 0, -1, 1.5, True, "text", [None], {"a": 1}]
UNKNOWN_FIELDS = ["zz", "tenantId", "_id", "id", "$where", "$set", "__proto__", "createdBy", "version", "status"]
BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80abc"]
SURROGATES = ['"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"', '"\\ud83d"']
OTHER_MEDIA_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/xml",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "application/octet-stream",
    "application/jsonx",
    "json",
]
JSON_MEDIA_TYPES = [  # JSON (the last two in another charset: no refusal is prescribed for them)
    "application/json",
    "application/vnd.api+json",
    "application/merge-patch+json",
    "APPLICATION/JSON",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
]
GARBAGE = [b"", b" ", b"null", b"[]", b'""', b"0", b"\xef\xbb\xbf{}", b"{'a': 1}", b"<a/>", b"{", b'{"a":1}{"b":2}']
HOSTILE_SEGMENTS = [  # path segments, already percent-encoded
    "00000000-0000-0000-0000-000000000000",
    "not-an-id",
    "-1",
    "9" * 30,
    "a" * 300,
    "%00",
    "a%00b",
    "%ff%fe",
    "%ed%a0%80",
    "%c0%af",
    "..",
    "%2e%2e%2f",
    "%20",
    "null",
    "%E2%80%AE",
    "%27%20OR%201%3D1--",
]
HOSTILE_QUERY_VALUES = [  # query values, already percent-encoded
    "",
    "%00",
    "-1",
    "0",
    "9" * 25,
    "1e999",
    "NaN",
    "a" * 3_000,
    "%ff",
    "%ed%a0%80",
    "true",
    "%5B%5D",
]
CORRUPTIONS = [
    "deep",
    "number",
    "not-finite",
    "null",
    "null-everywhere",
    "wrong-type",
    "oversized",
    "unknown-field",
    "nul",
    "surrogate",
    "invalid-utf8",
    "duplicate-key",
    "media-type",
    "json-media-type",
    "garbage",
]
# Uncorrupted requests, so that examples reach the domain: a third of those with a body, half of the others.
WITH_BODY = ["none"] * 8 + CORRUPTIONS
WITHOUT_BODY = ["none"] * len(CORRUPTIONS) + CORRUPTIONS


@dataclass
class Hostile:
    """One generated request and the corruption applied to its body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    content: bytes | None
    corruption: str
    detail: str = ""
    expect: tuple[int, ...] = ()  # the refusal the issue names for this corruption, if any

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def __repr__(self) -> str:  # Hypothesis prints the falsifying example: never megabytes of body
        return self.describe()

    def describe(self) -> str:
        body = "" if self.content is None else self.content[:400].decode("utf-8", "backslashreplace")
        more = f" ({len(self.content)} bytes)" if self.content is not None and len(self.content) > 400 else ""
        kind = f"{self.corruption} {self.detail}".strip()
        media_type = self.headers.get("Content-Type")
        return (
            f"{self.method} {self.url[:300]}\n  corruption: {kind}\n  Content-Type: {media_type}\n  body: {body}{more}"
        )


def _locations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root first), at most 40."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, (*path, index))
    return found[:40]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replaced(copy[head], rest, new)
    return copy


def _nulled(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _nulled(item) if isinstance(item, dict) else None for key, item in value.items()}
    return None


def _render(value: Any, path: tuple[Any, ...], literal: str) -> str:
    """`value` serialised with the raw JSON text `literal` at `path`."""
    text = json.dumps(_replaced(value, path, HOLE), ensure_ascii=False)
    return text.replace(json.dumps(HOLE, ensure_ascii=False), literal, 1)


def _nested(depth: int) -> str:
    return (
        "".join('{"a":' if level % 2 else "[" for level in range(depth))
        + "1"
        + "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    )


@st.composite
def hostile_body(
    draw: st.DrawFn, generated: st.SearchStrategy[Any], takes_body: bool
) -> tuple[bytes | None, str | None, str, str, tuple[int, ...]]:
    """(content, Content-Type, corruption, detail, the refusal it must get) of one request."""
    value = draw(generated)
    corruption = draw(st.sampled_from(WITH_BODY if takes_body else WITHOUT_BODY))
    if value is ABSENT:
        if corruption == "none":
            return None, None, "none", "no body", ()
        value = {"name": "x"}  # a body where the operation takes none: parsed (and refused) all the same
    places = _locations(value)
    where = draw(st.sampled_from(places))
    at = "body" + "".join(f".{step}" for step in where)
    text: str | None = None
    content: bytes | None = None
    media_type = "application/json"
    expect: tuple[int, ...] = ()
    detail = at
    if corruption == "none":
        text = json.dumps(value, ensure_ascii=False)
        detail = ""
    elif corruption == "deep":
        depth = draw(st.sampled_from([33, 64, 1_000, 3_000]))
        text, detail = _render(value, where, _nested(depth)), f"{at} nested {depth} deep"
        expect = (400,) if depth >= 1_000 else ()
    elif corruption == "number":
        literal = draw(st.sampled_from(HUGE_NUMBERS))
        text, detail = _render(value, where, literal), f"{at} = {literal[:12]}... ({len(literal)} chars)"
        expect = (400, 422) if len(literal) > 4_300 and "." not in literal else ()
    elif corruption == "not-finite":
        literal = draw(st.sampled_from(NOT_FINITE))
        text, detail, expect = _render(value, where, literal), f"{at} = {literal}", (400, 422)
    elif corruption == "null":
        text, detail = json.dumps(_replaced(value, where, None)), f"{at} = null"
    elif corruption == "null-everywhere":
        text, detail = json.dumps(_nulled(value)), "every field null"
    elif corruption == "wrong-type":
        other = draw(st.sampled_from(WRONG_TYPES))
        text, detail = json.dumps(_replaced(value, where, other)), f"{at} = {json.dumps(other)}"
    elif corruption == "oversized":
        size = draw(st.sampled_from([1_001, 70_000, 1_100_000]))
        text, detail = json.dumps(_replaced(value, where, "x" * size)), f"{at} = a string of {size} characters"
    elif corruption == "unknown-field":
        name = draw(st.sampled_from(UNKNOWN_FIELDS))
        extra = draw(st.sampled_from(["x", 1, None, {"$ne": None}]))
        objects = [p for p in places if isinstance(_at(value, p), dict)]
        target = draw(st.sampled_from(objects)) if objects else ()
        grown = {**_at(value, target), name: extra} if objects else {name: extra}
        text = json.dumps(_replaced(value, target, grown), ensure_ascii=False)
        detail = "body" + "".join(f".{step}" for step in target) + f".{name} = {json.dumps(extra)} added"
    elif corruption == "nul":
        text, detail = _render(value, where, '"a\\u0000b"'), f'{at} = "a\\u0000b"'
    elif corruption == "surrogate":
        literal = draw(st.sampled_from(SURROGATES))
        text, detail = _render(value, where, literal), f"{at} = {literal}"
    elif corruption == "invalid-utf8":
        bad = draw(st.sampled_from(BAD_UTF8))
        hole = json.dumps(HOLE, ensure_ascii=False).encode()
        content = (
            json.dumps(_replaced(value, where, HOLE), ensure_ascii=False).encode().replace(hole, b'"a' + bad + b'b"', 1)
        )
        detail = f"{at} holds the bytes {bad!r}"
    elif corruption == "duplicate-key":
        if isinstance(value, dict) and value:
            key = next(iter(value))
            twin = draw(st.sampled_from(WRONG_TYPES))
            text = "{" + json.dumps(key) + ": " + json.dumps(twin) + ", " + json.dumps(value)[1:]
            detail = f"body.{key} given twice"
        else:
            text, detail = '{"a": 1, "a": 2}', "body.a given twice"
    elif corruption == "media-type":
        media_type = draw(st.sampled_from(OTHER_MEDIA_TYPES))
        if media_type.startswith("application/x-www-form-urlencoded") and isinstance(value, dict):
            text = "&".join(f"{quote(str(k))}={quote(json.dumps(v))}" for k, v in value.items()) or "a=1"
        else:
            text = json.dumps(value, ensure_ascii=False)
        detail, expect = f"Content-Type {media_type}", (415,)
    elif corruption == "json-media-type":
        media_type = draw(st.sampled_from(JSON_MEDIA_TYPES))
        text, detail = json.dumps(value, ensure_ascii=False), f"Content-Type {media_type}"
        if media_type.endswith("utf-16"):
            content = text.encode("utf-16")
    else:  # garbage
        content = draw(st.one_of(st.sampled_from(GARBAGE), st.binary(max_size=24)))
        detail = f"the body {content!r}"
    if content is None:
        content = (text or "").encode("utf-8")
    return content, media_type, corruption, detail, expect


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


# ---------------------------------------------------------------- the sweep


REAL_ID_ALIASES = {  # body fields and query parameters that hold ids of another name
    "managerId": "employeeId",
    "headEmployeeId": "employeeId",
    "reviewerId": "employeeId",
    "actorId": "userId",
    "parentId": "departmentId",
    "entityId": "employeeId",
}


@dataclass
class Sweep:
    """The fuzzed tenant, its callers and fingerprint, and the strategies built from /openapi.json."""

    world: Seeded
    document: dict[str, Any]
    fingerprint: Fingerprint
    gateway: Any
    admin_id: str
    password_hash: str
    admin_permissions: list[str]
    cursors: dict[str, list[str]] = field(default_factory=dict)
    baseline: dict[str, str] | None = None
    statuses: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def org(self) -> Org:
        return self.world.org

    def caller(self, path: str) -> dict[str, str]:
        return self.world.platform if path.startswith(PLATFORM_PREFIXES) else bearer(self.org.admin)

    # --------------------------------------------------------- strategies

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def value(self, schema: dict[str, Any], name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
        """Values of a JSON schema (the subset pydantic writes), real ids where the name says so."""
        schema = self.resolve(schema)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                options = sorted(schema[combinator], key=lambda s: self.resolve(s).get("type") == "null")
                return st.one_of([self.value(option, name, depth) for option in options])
        if "allOf" in schema:
            return self.value(schema["allOf"][0], name, depth)
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "const" in schema:
            return st.just(schema["const"])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        if kind == "array":
            low = int(schema.get("minItems", 0))
            items = self.value(schema.get("items", {}), name, depth + 1)
            return st.lists(items, min_size=low, max_size=max(low, min(int(schema.get("maxItems", 3)), 3)))
        if kind == "string":
            return self._string(schema, name)
        if kind == "integer":
            return st.integers(int(schema.get("minimum", -(10**6))), int(schema.get("maximum", 10**6)))
        if kind == "number":
            least, most = float(schema.get("minimum", -1e6)), float(schema.get("maximum", 1e6))
            if schema.get("multipleOf") == 0.5:
                return st.integers(int(least * 2), int(most * 2)).map(lambda n: n / 2)
            return st.one_of(st.integers(int(least), int(min(most, 1e9))), st.floats(least, most))
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return JSON_VALUES

    def _object(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        properties = schema.get("properties") or {}
        if not properties:
            patterns = schema.get("patternProperties") or {}
            keys = (
                st.one_of([st.from_regex(p, fullmatch=True) for p in patterns])
                if patterns
                else st.text(TEXT, min_size=1, max_size=12)
            )
            values = self.value(next(iter(patterns.values())), "", depth + 1) if patterns else JSON_VALUES
            return st.dictionaries(keys, values, max_size=min(int(schema.get("maxProperties", 4)), 4))
        required = [key for key in schema.get("required", []) if key in properties]
        return st.fixed_dictionaries(
            {key: self.value(properties[key], key, depth + 1) for key in required},
            optional={key: self.value(s, key, depth + 1) for key, s in properties.items() if key not in required},
        )

    def _string(self, schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
        real = self.world.ids.get(REAL_ID_ALIASES.get(name, name))
        hints = self._hints().get(name)
        if hints is not None:
            return hints
        fmt, pattern = schema.get("format"), schema.get("pattern")
        if fmt == "uuid":
            generated: st.SearchStrategy[Any] = st.uuids().map(str)
        elif fmt == "date":  # mostly near today; now and then the calendar's edges
            near = st.dates(dt.date(2023, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)
            generated = st.one_of(near, near, st.sampled_from(EDGE_DATES))
        elif fmt == "date-time":
            generated = st.datetimes(dt.datetime(2023, 1, 1), dt.datetime(2027, 12, 31)).map(
                lambda d: d.isoformat() + "Z"
            )
        elif pattern:
            generated = st.from_regex(pattern, fullmatch=True)
        else:
            low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 24))
            generated = st.text(TEXT, min_size=low, max_size=max(low, min(high, 24)))
        return st.one_of(st.sampled_from(real), generated) if real else generated

    def examples(self) -> dict[str, list[Any]]:
        """Bodies the domain accepts (given the seeded tenant), per write route: corrupting one of them
        exercises more than a schema-generated body, which a domain rule often refuses first. A route
        missing here is fuzzed from its schema alone."""
        ids, org = self.world.ids, self.org
        structure = {
            "name": "Fuzzed",
            "components": [
                {"code": "basic", "name": "Basic", "kind": "earning", "calc": "percent_of_ctc", "value": 50},
                {"code": "pf", "name": "PF", "kind": "deduction", "calc": "percent_of_basic", "value": "12"},
            ],
        }
        form = {"name": "Review", "cycle": "2027", "fields": [{"key": "summary", "label": "Summary", "type": "text"}]}
        decision = [{"decision": "approve"}, {"decision": "reject", "comment": "No"}]
        return {
            "POST /tenants": [{"name": "Fuzzed", "slug": "fuzzed", "adminEmail": "admin@fuzzed.example.com"}],
            "PATCH /tenants/{tenantId}": [{"description": "Fuzzed"}],
            "PUT /tenants/{tenantId}/features": [{"features": {"payslips": True}}],
            "POST /auth/login": [
                {"tenantSlug": org.tenant.slug, "email": org.tenant.admin_email, "password": PASSWORD}
            ],
            "POST /auth/password": [{"currentPassword": PASSWORD, "newPassword": "quiet orchard meteor 53 drifts"}],
            "POST /users": [{"email": "fuzzed@example.com", "role": "employee"}],
            "PATCH /users/{userId}": [{"role": "manager"}, {"status": "active"}],
            "PUT /roles/{role}": [{"permissions": ["org:read", "leave:read:self"]}],
            "POST /departments": [{"name": "Finance", "code": "FIN"}],
            "POST /designations": [{"title": "Analyst", "level": 2}],
            "POST /holidays": [{"date": "2026-12-25", "name": "Christmas"}],
            "POST /employees": [
                {
                    "email": "fuzzed@example.com",
                    "firstName": "Ravi",
                    "lastName": "Kumar",
                    "departmentId": ids["departmentId"][0],
                    "designationId": ids["designationId"][0],
                    "dateOfJoining": "2024-01-01",
                    "pan": "ABCDE1234F",
                }
            ],
            "PATCH /employees/{employeeId}": [{"phone": "+91 98765 43210"}, {"lastName": "Rao"}],
            "DELETE /employees/{employeeId}": [{"dateOfLeaving": "2026-12-31"}],
            "POST /leave-types": [{"code": "sick2", "name": "Sick", "annualQuota": 5}],
            "POST /leaves": [
                {
                    "leaveTypeId": ids["leaveTypeId"][0],
                    "employeeId": ids["employeeId"][0],
                    "startDate": "2024-04-01",
                    "endDate": "2024-04-02",
                }
            ],
            "POST /leaves/{leaveId}/decision": decision,
            "POST /approvals/{approvalId}/decision": decision,
            "PUT /approval-workflows/{entityType}": [{"steps": [{"approverType": "role", "role": "hr_manager"}]}],
            "POST /salary-structures": [structure],
            "PATCH /salary-structures/{salaryStructureId}": [
                {"name": "Renamed"},
                {"components": structure["components"]},
            ],
            "POST /employees/{employeeId}/salaries": [
                {
                    "salaryStructureId": ids["salaryStructureId"][0],
                    "annualCtc": "720000.00",
                    "effectiveFrom": "2025-04-01",
                }
            ],
            "POST /payroll/runs": [{"month": "2025-03"}],
            "POST /payroll/runs/{payrollRunId}/approve": [{}, {"comment": "Checked"}],
            "POST /admin/backups": [{"kind": "schema", "tenantId": ids["tenantId"][0]}],
            "PUT /settings": [{"settings": {"currency": "INR", "weekendDays": [6, 7]}, "expectedVersion": 2}],
            "POST /settings/rollback": [{"version": 1}],
            "PUT /feature-flags/{name}": [{"enabled": True, "rolloutPercent": 50}],
            "POST /documents": [
                {
                    "category": "offer_letter",
                    "fileName": "offer.pdf",
                    "contentType": "application/pdf",
                    "sizeBytes": 2048,
                }
            ],
            "POST /appraisal-forms": [form],
            "PUT /appraisal-forms/{formId}": [form],
            "POST /appraisals": [
                {
                    "formId": ids["formId"][0],
                    "employeeId": ids["employeeId"][0],
                    "responses": {"summary": "Good", "score": 4},
                }
            ],
        }

    def _hints(self) -> dict[str, st.SearchStrategy[Any]]:
        """Fields whose useful values no schema tells: the login, passwords, months."""
        emails = [self.org.tenant.admin_email, f"nobody@{self.org.tenant.slug}.example.com"]
        return {
            "tenantSlug": st.one_of(st.just(self.org.tenant.slug), st.text(TEXT, min_size=1, max_size=40)),
            "email": st.one_of(st.sampled_from(emails), st.emails().map(lambda e: e[:254])),
            "password": st.one_of(st.just(PASSWORD), st.text(TEXT, min_size=1, max_size=40)),
            "currentPassword": st.one_of(st.just(PASSWORD), st.text(TEXT, min_size=1, max_size=40)),
            "newPassword": st.one_of(st.just("quiet orchard meteor 53 drifts"), st.text(TEXT, min_size=1, max_size=40)),
            "month": st.sampled_from(["2025-03", "2025-01", "2026-13", "2025-1"]),
            "key": st.sampled_from(
                [
                    "backups/2025/1/backup_full_2025-01-15T10-30-00.123Z.sql.gz",
                    "../../etc/passwd",
                    f"backups/schemas/{self.org.tenant.schema_name}/backup_schema_2025-01-15T10-30-00.123Z.sql.gz",
                ]
            ),
        }

    def path(self, route: Route) -> st.SearchStrategy[str]:
        segments = []
        for part in route.path.strip("/").split("/"):
            if not (part.startswith("{") and part.endswith("}")):
                segments.append(st.just(part))
                continue
            name = part[1:-1]
            real = self.world.ids.get(name)
            schema = next(
                (
                    p["schema"]
                    for p in self.operation(route).get("parameters", [])
                    if p["in"] == "path" and p["name"] == name
                ),
                {"type": "string"},
            )
            generated = self.value(schema, name).map(lambda v: quote(str(v), safe=""))
            hostile = st.sampled_from(HOSTILE_SEGMENTS)
            real_ids = [st.sampled_from(real)] * 4 if real else []  # two thirds of the examples: a real id
            segments.append(st.one_of(*real_ids, generated, hostile))
        return st.tuples(*segments).map(lambda parts: "/" + "/".join(parts))

    def query(self, route: Route) -> st.SearchStrategy[str]:
        """Valid values of the query parameters (each may be left out); in a third of the examples one of
        them hostile instead; now and then a parameter the route does not know, or one given twice."""
        valid: list[tuple[str, st.SearchStrategy[str | None]]] = []
        hostile: list[tuple[str, st.SearchStrategy[str | None]]] = []
        for parameter in self.operation(route).get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            if name == "cursor":
                own = self.cursors.get(route.path, [])
                if own:
                    valid.append((name, st.sampled_from(own).map(lambda c: quote(c, safe=""))))
                bad = [*self.tampered(route.path), *HOSTILE_QUERY_VALUES]
                hostile.append((name, st.one_of(st.sampled_from(bad), st.text(TEXT, max_size=30).map(_query_text))))
            else:
                valid.append((name, self.value(parameter.get("schema", {}), name).map(_query_text)))
                hostile.append((name, st.sampled_from(HOSTILE_QUERY_VALUES)))
        return _query(valid, hostile)

    def tampered(self, route: str) -> list[str]:
        own = self.cursors.get(route, [])
        if not own:
            return []
        others = [c for r, cs in self.cursors.items() if r != route for c in cs]
        other = others[0] if others else own[0]
        cursors = [tamper(own[0], other) for tamper in TAMPERS.values()]
        cursors += [with_key(own[0], lambda key: ["9" * 20 for _ in key]), with_key(own[0], lambda key: [])]
        return [quote(c, safe="") for c in cursors]

    def operation(self, route: Route) -> dict[str, Any]:
        return dict(self.document["paths"][route.path][route.method.lower()])

    def requests(self, route: Route) -> st.SearchStrategy[Hostile]:
        operation = self.operation(route)
        content = (operation.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        generated = self.value(schema) if schema is not None else st.just(ABSENT)
        valid = self.examples().get(f"{route.method} {route.path}")
        if valid:  # half of the bodies start from one the domain accepts
            generated = st.one_of(st.sampled_from(valid), generated)
        keys = st.sampled_from([None] * 4 + [f"fuzz-{secrets.token_hex(4)}", "x" * 300, "ключ", "a b"])

        def build(
            path: str, query: str, body: tuple[bytes | None, str | None, str, str, tuple[int, ...]], key: str | None
        ) -> Hostile:
            content_bytes, media_type, corruption, detail, expect = body
            headers = dict(self.caller(route.path))
            if media_type is not None:
                headers["Content-Type"] = media_type
            if key is not None and route.method == "POST":
                headers["Idempotency-Key"] = key
            return Hostile(route.method, path, query, headers, content_bytes, corruption, detail, expect)

        return st.builds(build, self.path(route), self.query(route), hostile_body(generated, schema is not None), keys)

    # --------------------------------------------------------- sending and checking

    def send(self, request: Hostile) -> httpx.Response:
        headers = {**request.headers, **self.caller(request.path)}  # a token re-issued by `repair`
        raw = {name.encode(): value.encode() for name, value in headers.items()}  # non-ASCII values as UTF-8
        return self.org.client.request(request.method, request.url, content=request.content, headers=raw, timeout=120)

    def before(self) -> dict[str, str]:
        if self.baseline is None:
            self.baseline = self.fingerprint.settled()
        return self.baseline

    def repair(self) -> None:
        """After a request that was carried out: the tenant and its admin usable again (a fuzzed 2xx may
        have suspended the tenant, demoted, disabled or re-passworded the admin, or tied them to an
        employee who left), a token for the admin's current credentials epoch, and a new baseline."""
        restore_admin(self.org, self.gateway, self.admin_id, self.password_hash, self.admin_permissions)
        self.baseline = None


@st.composite
def _query(
    draw: st.DrawFn,
    valid: list[tuple[str, st.SearchStrategy[str | None]]],
    hostile: list[tuple[str, st.SearchStrategy[str | None]]],
) -> str:
    values = {name: draw(st.one_of(st.none(), strategy)) for name, strategy in valid}
    if hostile and draw(st.integers(0, 2)) == 2:
        name, strategy = draw(st.sampled_from(hostile))
        values[name] = draw(strategy)
    pairs = [f"{quote(name)}={value}" for name, value in values.items() if value is not None]
    extra = draw(st.sampled_from([None] * 8 + ["zz=1", "limit=1&limit=2", "cursor=", "%00=1"]))
    return "&".join([*pairs, *([extra] if extra else [])])


def _query_text(value: Any) -> str | None:
    """A query value as a client would write it (None: the parameter left out)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(str(value), safe="")


def check(sweep: Sweep, request: Hostile, response: httpx.Response, before: dict[str, str]) -> None:
    """The assertions of one example (see the module's docstring)."""
    where = f"\n{request.describe()}\n-> {response.status_code} {response.text[:600]}"
    assert response.status_code < 500, "a 5xx:" + where
    if response.status_code < 400:
        sweep.repair()
        assert not request.expect, f"carried out, though the issue says {request.expect}:" + where
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM, f"an error that is not {PROBLEM} ({media_type!r}):" + where
    body = response.json()
    assert isinstance(body, dict) and {"type", "title", "status", "detail"} <= set(body), "not a problem:" + where
    assert body["status"] == response.status_code, "the problem's status is not the response's:" + where
    after = sweep.fingerprint.take()
    sweep.baseline = after
    moved = changed(before, after)
    assert not moved, f"refused with {response.status_code}, but changed {', '.join(moved)}:" + where
    if request.expect:
        allowed = (*request.expect, 404, 405, 413, 414)  # no such route or resource, or a gateway limit, first
        assert response.status_code in allowed, f"expected {request.expect}:" + where
    if request.path.startswith("/auth/"):
        sweep.repair()  # a wrong password counts toward the admin's lockout


@pytest.fixture(scope="module")
def sweep(gateway: Any, platform_actor: Any, platform_token: str) -> Iterator[Sweep]:
    """A fresh tenant seeded with two or more of everything, its admin on a known permanent password. The queue
    workers (exports, payslips, the Notifier) are not polled meanwhile: they write on their own time, after the
    request that queued their work, which a fingerprint taken between two requests would blame on the second."""
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    gateway.runtime.queues.stop()
    slug = f"fuzz-{secrets.token_hex(4)}"
    tenant = service.create_tenant(
        NewTenant(name="Fuzzing", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
    )
    usable(tenant, gateway)
    admin = find_user_by_email(slug, tenant.admin_email)
    assert admin is not None
    password_hash = hash_password(PASSWORD)
    with httpx.Client(base_url=gateway.base_url, timeout=120) as http:
        org = Org(http, tenant)
        org.sql("UPDATE {} SET password_hash = %s WHERE id = %s", "users", (password_hash, admin.user_id))
        world = seed(org, platform_token)
        permissions = org.sql("SELECT permissions FROM {} WHERE role = 'admin'", "role_permissions")[0]["permissions"]
        document = http.get("/openapi.json").json()
        swept = Sweep(
            world, document, Fingerprint(tenant), gateway, str(admin.user_id), password_hash, list(permissions)
        )
        for path, operations in document["paths"].items():
            if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", [])):
                listed = http.get(path_of(path, world), params={"limit": 1}, headers=swept.caller(path))
                cursor = listed.json().get("nextCursor") if listed.status_code == 200 else None
                swept.cursors[path] = [str(cursor)] if cursor else []
        yield swept
        swept.fingerprint.pool.shutdown()
    gateway.runtime.queues.start(os.environ)
    if os.environ.get("HRMS_FUZZ_STATS"):  # how far the examples got, per route (run with -s)
        for route, counts in sorted(swept.statuses.items()):
            print(f"{route:50} " + " ".join(f"{status}x{n}" for status, n in sorted(counts.items())))


def test_the_fingerprint_sees_every_store_but_not_the_bookkeeping(sweep: Sweep) -> None:
    """The oracle of the fuzzer: a change anywhere in the tenant's data moves the fingerprint; the
    bookkeeping a refusal may write does not. (Every probe is removed again: the sweep goes on.)"""
    fingerprint, org = sweep.fingerprint, sweep.org
    bucket, prefix = fingerprint.prefixes[0]
    probe = f"fuzz-probe-{secrets.token_hex(4)}"
    before = fingerprint.take()
    try:
        org.sql("UPDATE {} SET failed_logins = failed_logins + 1, locked_until = now()", "users")
        org.sql(
            "INSERT INTO {} (actor_id, actor_role, action, entity_type)"
            " VALUES (%s, 'admin', 'auth.login_failed', 'user')",
            "audit_logs",
            (probe,),
        )
        org.sql(
            "INSERT INTO {} (key, operation, request_hash, expires_at) VALUES (%s, 'POST /x', 'h', now())",
            "idempotency_keys",
            (probe,),
        )
        with transaction() as conn:
            conn.execute("UPDATE public.tenants SET last_activity_at = now() WHERE id = %s", (fingerprint.tenant_id,))
        assert changed(before, fingerprint.take()) == []

        org.sql("UPDATE {} SET description = %s WHERE code = 'ENG'", "departments", (probe,))
        org.sql(
            "INSERT INTO {} (actor_id, actor_role, action, entity_type) VALUES (%s, 'admin', 'probe', 'probe')",
            "audit_logs",
            (probe,),
        )
        database()["Appraisal"].insert_one({"tenantId": fingerprint.tenant_id, "probe": probe})
        aws.client("s3").put_object(Bucket=bucket, Key=f"{prefix}{probe}.txt", Body=b"probe")
        with transaction() as conn:
            conn.execute("UPDATE public.tenants SET description = %s WHERE id = %s", (probe, fingerprint.tenant_id))
        moved = changed(before, fingerprint.take())
        expected = ["postgres departments", "postgres audit_logs", "postgres public.tenants", "mongodb Appraisal"]
        assert moved == sorted([*expected, f"s3 {bucket}/{prefix}"]), moved
    finally:
        org.sql("UPDATE {} SET description = NULL WHERE description = %s", "departments", (probe,))
        org.sql("DELETE FROM {} WHERE actor_id = %s", "audit_logs", (probe,))
        org.sql("DELETE FROM {} WHERE key = %s", "idempotency_keys", (probe,))
        database()["Appraisal"].delete_many({"tenantId": fingerprint.tenant_id, "probe": probe})
        aws.client("s3").delete_object(Bucket=bucket, Key=f"{prefix}{probe}.txt")
        with transaction() as conn:
            conn.execute("UPDATE public.tenants SET description = NULL WHERE description = %s", (probe,))
        sweep.repair()  # the admin's failed logins


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_hostile_input_is_refused_cleanly_and_changes_nothing(sweep: Sweep, route: Route) -> None:
    requests = sweep.requests(route)

    @given(request=requests)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, phases=PHASES)
    def fuzz(request: Hostile) -> None:
        before = sweep.before()
        note(request.describe())
        response = sweep.send(request)
        sweep.statuses[f"{route.method} {route.path}"][response.status_code] += 1
        if os.environ.get("HRMS_FUZZ_DEBUG"):
            print(response.status_code, request.url[:80], request.corruption, response.text[:80])
        check(sweep, request, response, before)

    fuzz()
