"""Documents: metadata in MongoDB, contents in S3 (moto) through presigned URLs; scope, expiry, soft delete."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import httpx
import pytest

from hrms.documents import service
from hrms.documents.models import NewDocument
from hrms.errors import NotFound
from tests.integration.mongo_world import actor, as_tenant, employee_user

PDF = b"%PDF-1.7\n" + b"hello documents " * 64


def _new(**overrides: object) -> NewDocument:
    fields: dict[str, object] = {
        "category": "id_proof",
        "file_name": "pass port.pdf",
        "content_type": "application/pdf",
        "size_bytes": len(PDF),
    }
    return NewDocument(**{**fields, **overrides})


def test_presigned_put_then_get_round_trip_returns_the_content_and_shows_it_uploaded(tenant, stack):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    _, emp = employee_user(t, "employee")
    upload = service.create_document(t, hr, "all", _new(employee_id=emp))
    assert upload.s3_key == f"tenants/{t.tenant_id}/documents/{upload.document_id}/pass_port.pdf"

    assert service.get_document(t, hr, "all", _uuid(upload.document_id)).uploaded is False
    put = httpx.put(upload.upload_url, content=PDF, headers=upload.upload_headers)
    assert put.status_code == 200, put.text

    got = service.get_document(t, hr, "all", _uuid(upload.document_id))
    assert got.uploaded is True
    assert got.download_url
    download = httpx.get(got.download_url)
    assert download.status_code == 200
    assert download.content == PDF


def test_presigned_put_signs_the_declared_content_type_and_size(tenant, stack):
    # SigV4 query signing: S3 rejects a PUT whose Content-Type or Content-Length differs from the
    # signed headers. (The moto server does not verify SigV4 presigned signatures, so this checks the URL.)
    from urllib.parse import parse_qs, urlsplit

    t = as_tenant(tenant)
    upload = service.create_document(t, actor(t), "all", _new(size_bytes=1234))
    query = parse_qs(urlsplit(upload.upload_url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert int(query["X-Amz-Expires"][0]) == service.UPLOAD_TTL_S
    assert upload.upload_headers == {"Content-Type": "application/pdf", "Content-Length": "1234"}


def test_employee_sees_only_own_documents_and_hr_sees_all(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    alice, alice_emp = employee_user(t, "employee")
    bob, bob_emp = employee_user(t, "employee")
    mine = service.create_document(t, alice, "self", _new())
    theirs = service.create_document(t, hr, "all", _new(employee_id=bob_emp))
    assert mine.document.employee_id == str(alice_emp)

    def listed(who, scope, **kw):
        page = service.list_documents(
            t, who, scope, employee_id=None, category=None, expires_before=None, limit=50, cursor=None, **kw
        )
        return {d.document_id for d in page.items}

    assert listed(alice, "self") == {mine.document_id}
    assert listed(bob, "self") == {theirs.document_id}
    assert listed(hr, "all") == {mine.document_id, theirs.document_id}
    with pytest.raises(NotFound):
        service.get_document(t, alice, "self", _uuid(theirs.document_id))
    with pytest.raises(NotFound):
        service.create_document(t, alice, "self", _new(employee_id=bob_emp))
    with pytest.raises(NotFound):
        service.create_document(t, hr, "all", _new(employee_id=uuid4()))
    with pytest.raises(NotFound):
        service.delete_document(t, alice, "self", _uuid(theirs.document_id))


def test_expiring_documents_are_listed_soonest_first(tenant):
    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    today = dt.date(2030, 1, 1)
    ids = {}
    for days in (40, 5, 90, 20):
        up = service.create_document(t, hr, "all", _new(expires_on=today + dt.timedelta(days=days)))
        ids[days] = up.document_id
    service.create_document(t, hr, "all", _new())  # never expires
    page = service.list_documents(
        t,
        hr,
        "all",
        employee_id=None,
        category=None,
        expires_before=today + dt.timedelta(days=45),
        limit=2,
        cursor=None,
    )
    rest = service.list_documents(
        t,
        hr,
        "all",
        employee_id=None,
        category=None,
        expires_before=today + dt.timedelta(days=45),
        limit=2,
        cursor=page.next_cursor,
    )
    assert [d.document_id for d in page.items + rest.items] == [ids[5], ids[20], ids[40]]
    assert rest.next_cursor is None


def test_soft_deleted_documents_disappear_but_the_record_stays(tenant):
    from hrms.db.tenant_collection import collection

    t = as_tenant(tenant)
    hr = actor(t, "hr_manager")
    up = service.create_document(t, hr, "all", _new())
    service.delete_document(t, hr, "all", _uuid(up.document_id))
    with pytest.raises(NotFound):
        service.get_document(t, hr, "all", _uuid(up.document_id))
    with pytest.raises(NotFound):
        service.delete_document(t, hr, "all", _uuid(up.document_id))
    stored = collection(t, "DocumentMetadata").find_one({"_id": up.document_id})
    assert stored is not None and stored["deletedAt"] is not None and stored["deletedBy"] == hr.user_id


def test_another_tenants_document_is_not_found(tenant, platform_actor):
    import time

    from hrms.tenants import service as tenants
    from hrms.tenants.models import NewTenant

    other = as_tenant(
        tenants.create_tenant(NewTenant(name="O", slug=f"d-{time.time_ns()}", admin_email="a@o.io"), platform_actor)
    )
    t = as_tenant(tenant)
    up = service.create_document(t, actor(t), "all", _new())
    with pytest.raises(NotFound):
        service.get_document(other, actor(other), "all", _uuid(up.document_id))
    assert (
        service.list_documents(
            other, actor(other), "all", employee_id=None, category=None, expires_before=None, limit=50, cursor=None
        ).items
        == []
    )


def _uuid(value: str):
    from uuid import UUID

    return UUID(value)
