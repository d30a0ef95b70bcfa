"""The MongoDB part's format and its checks (hrms.backup.mongo_part), without servers: parts are built
in memory as the dump writes them and fed back in awkward chunk sizes."""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import pytest
from bson import BSON

from hrms.backup import keys, mongo_part

TENANT = "6f1c2f0e-8a0b-4c55-9a55-2b1f3c4d5e6f"


def part(
    collections: dict[str, list[dict[str, Any]]], *, end: bool = True, counts: dict[str, int] | None = None
) -> bytes:
    raw = b""
    for name, docs in collections.items():
        raw += BSON.encode({"$hrms": "collection", "name": name})
        raw += b"".join(BSON.encode(d) for d in docs)
    if end:
        found = counts or {name: len(docs) for name, docs in collections.items()}
        raw += BSON.encode({"$hrms": "end", "counts": found, "documents": sum(found.values())})
    return gzip.compress(raw)


def read(data: bytes, chunk: int, **expected: Any) -> mongo_part.PartCheck:
    check = mongo_part.PartCheck(
        expected.get("sha256", hashlib.sha256(data).hexdigest()),
        expected.get("size", len(data)),
        expected.get("counts"),
        tenant_id=expected.get("tenant_id"),
    )
    check.seen = [  # type: ignore[attr-defined]
        (name, raw) for start in range(0, len(data), chunk) for name, raw in check.feed(data[start : start + chunk])
    ]
    return check


DOCS = {
    "FeatureFlag": [{"_id": f"f{n}", "tenantId": TENANT, "name": f"flag-{n}", "blob": "x" * n} for n in range(300)],
    "TenantSettings": [{"_id": TENANT, "tenantId": TENANT, "version": 3}],
    "Appraisal": [],
}
COUNTS = {"FeatureFlag": 300, "TenantSettings": 1, "Appraisal": 0}


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_every_document_comes_back_in_order_whatever_the_chunking(chunk):
    data = part(DOCS)
    check = read(data, chunk, counts=COUNTS, tenant_id=TENANT)
    assert check.problems() == []
    assert all(check.checks().values())
    assert [name for name, _ in check.seen] == ["FeatureFlag"] * 300 + ["TenantSettings"]  # type: ignore[attr-defined]
    assert check.counts == COUNTS


def test_a_part_without_its_end_marker_is_cut_short():
    data = part(DOCS, end=False)
    check = read(data, 4096, counts=COUNTS)
    assert check.checks()["mongoEndMarker"] is False and check.checks()["mongoSha256"] is True
    assert check.problems() == ["MongoDB part: no end marker (cut short)"]


def test_counts_must_agree_with_the_end_marker_and_the_metadata():
    assert "documents" in read(part(DOCS, counts={**COUNTS, "Appraisal": 1}), 4096, counts=COUNTS).problems()[0]
    assert read(part(DOCS), 4096, counts={**COUNTS, "FeatureFlag": 299}).checks()["mongoCounts"] is False
    assert read(part(DOCS), 4096, counts=None).checks()["mongoCounts"] is False  # nothing to compare with


def test_a_document_of_another_tenant_is_refused():
    foreign = {**DOCS, "Appraisal": [{"_id": "a1", "tenantId": "someone-else"}]}
    check = read(part(foreign), 4096, counts={**COUNTS, "Appraisal": 1}, tenant_id=TENANT)
    assert check.problems() == ["MongoDB part: the part is malformed: a document of another tenant in Appraisal"]


def test_damaged_bytes_fail_the_sha256_and_the_gzip_stream():
    data = bytearray(part(DOCS))
    data[len(data) // 2] ^= 0xFF
    check = read(bytes(data), 4096, counts=COUNTS, sha256="0" * 64)
    assert check.checks()["mongoSha256"] is False
    assert not check.checks()["mongoEndMarker"]


def test_an_unknown_collection_or_a_document_before_any_marker_is_malformed():
    stray = gzip.compress(BSON.encode({"_id": 1, "tenantId": TENANT}))
    assert "before any collection marker" in read(stray, 64).problems()[0]
    unknown = gzip.compress(BSON.encode({"$hrms": "collection", "name": "Payroll"}))
    assert "unknown control document" in read(unknown, 64).problems()[0]


def test_the_mongo_part_key_sits_beside_the_dump_and_never_parses_as_a_backup():
    dump = "backups/schemas/tenant_acme_0123abcd/backup_schema_2025-01-15T10-30-00.123Z.sql.gz"
    part_key = keys.mongo_key(dump)
    assert part_key == "backups/schemas/tenant_acme_0123abcd/backup_schema_2025-01-15T10-30-00.123Z.mongo.gz"
    assert keys.parse(part_key) is None and keys.of_mongo_key(part_key) == dump and keys.of_mongo_key(dump) is None


def test_counts_metadata_round_trips():
    assert keys.parse_counts(keys.format_counts(COUNTS)) == COUNTS
    assert keys.parse_counts("FeatureFlag=x") is None and keys.parse_counts(None) is None
